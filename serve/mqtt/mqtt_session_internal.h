/* MQTT session internals shared by the session's files: the session record, output, closing, timers, per-packet handlers. */
#ifndef SERVE_MQTT_SESSION_INTERNAL_H
#define SERVE_MQTT_SESSION_INTERNAL_H

#include "mqtt_packet.h"
#include "mqtt_session.h"
#include "mqtt_topic.h"

typedef enum { MS_WAIT_CONNECT = 0, MS_CONNECTED, MS_CLOSED } ms_state_t;

/* A C2D message delivered and not yet PUBACKed. */
typedef struct {
    uint16_t packet_id;
    char lock_token[HUB_C2D_LOCK_TOKEN_CAP];
    sim_time_t lock_until;
} ms_inflight_t;

/* Timer kinds, in the low bits of the event argument (a session pointer). */
enum { MS_TIMER_KEEPALIVE = 1, MS_TIMER_LOCK = 2, MS_TIMER_MASK = 3 };

struct mqtt_shared {
    hub_t *hub;
    uint32_t h_timer;
    mqtt_stats_t stats;
};

struct mqtt_session {
    hub_t *hub;
    sim_kernel_t *k;
    mqtt_session_opts_t o;
    mqtt_shared_t own_shared;    /* used when o.shared is NULL */
    mqtt_shared_t *sh;
    char *address;
    char *thumbprint;
    wire_io_ops_t io;
    void *io_ctx;
    wire_observer_ops_t obs;
    bool has_obs;
    void *obs_ctx;
    mqtt_decoder_t *dec;
    ms_state_t state;
    hub_conn_t conn;             /* 0 until connected; stale after the hub dropped it */
    char device_id[HUB_CONFIG_ID_MAX + 1];
    char module_id[HUB_CONFIG_ID_MAX + 1];
    char identity[2 * HUB_CONFIG_ID_MAX + 2];
    bool twin_res;               /* subscribed to $iothub/twin/res/# */
    unsigned subs;               /* HUB_SUB_* */
    /* keep-alive */
    sim_time_t ka_span;          /* 0 = off */
    sim_time_t last_rx;
    sim_event_id_t ka_timer;
    bool ka_armed;
    /* C2D */
    ms_inflight_t *inflight;
    size_t n_inflight, cap_inflight;
    sim_event_id_t lock_timer;
    bool lock_armed;
    sim_time_t lock_at;
    uint16_t next_pid;
    bool pumping;
    bool c2d_wanted;             /* c2d_available arrived while busy */
    /* methods: rids delivered on this session and not answered yet */
    char **rids;
    size_t n_rids, cap_rids;
    /* will */
    bool has_will;
    char *will_topic;
    uint8_t *will_payload;
    size_t will_len;
    /* output held back while a SUBSCRIBE is in the hub (its SUBACK goes first) */
    bool hold;
    uint8_t *held;
    size_t held_len, held_cap;
    int busy;                    /* depth of input handling */
    mqtt_stats_t stats;
};

void ms_count(mqtt_session_t *s, mqtt_stat_t stat);
void ms_violation(mqtt_session_t *s, const char *rule_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Encode and send (or hold back, see `hold`). */
void ms_emit(mqtt_session_t *s, const mqtt_packet_t *p);
void ms_publish(mqtt_session_t *s, const char *topic, uint8_t qos, uint16_t packet_id,
                const void *payload, size_t len);
/* Write bytes past the hold (the SUBACK itself). */
void ms_write_direct(mqtt_session_t *s, const mqtt_packet_t *p);
void ms_release_hold(mqtt_session_t *s);
/* The session ends the connection: hub side torn down (ungraceful: the will
 * is sent), then io.close(reason). */
void ms_close(mqtt_session_t *s, const char *reason, bool graceful);
/* Leave the hub: will, C2D abandon, hub_device_disconnect. */
void ms_leave_hub(mqtt_session_t *s, bool graceful);
/* malloc'd printf; NULL on failure. */
char *ms_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void ms_arm_keepalive(mqtt_session_t *s);
void ms_arm_lock_timer(mqtt_session_t *s);
void ms_on_keepalive(mqtt_session_t *s);
void ms_on_lock_timer(mqtt_session_t *s);

/* Per-packet handlers. */
void ms_handle_connect(mqtt_session_t *s, const mqtt_connect_t *c);
void ms_handle_publish(mqtt_session_t *s, const mqtt_publish_t *p);
void ms_handle_subscribe(mqtt_session_t *s, const mqtt_subscribe_t *sub);
void ms_handle_unsubscribe(mqtt_session_t *s, const mqtt_subscribe_t *sub);
void ms_handle_puback(mqtt_session_t *s, uint16_t packet_id);

/* Hub → device. */
extern const hub_sink_ops_t ms_sink_ops;
void ms_c2d_pump(mqtt_session_t *s);
bool ms_rid_take(mqtt_session_t *s, const char *rid);

#endif
