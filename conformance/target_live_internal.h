/* Shared state of the live target's files: the target, its device connections, method calls, identities and helpers. */
#ifndef CONFORMANCE_TARGET_LIVE_INTERNAL_H
#define CONFORMANCE_TARGET_LIVE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "conformance/target_support.h"
#include "conformance/target_live.h"
#include "transports/tr_amqp_service.h"
#include "transports/tr_connstr.h"
#include "transports/tr_http.h"
#include "transports/tr_loop.h"
#include "transports/tr_mqtt.h"
#include "transports/tr_rest.h"
#include "transports/tr_tls.h"

/* Bounded waits (ms): every wait in the live target has one of these. */
#define LIVE_OP_MS 10000      /* one request/acknowledgement */
#define LIVE_SETTLE_MS 3000   /* a device-side effect of a service call (method request, desired push) */
#define LIVE_EVENT_MS 50      /* device_next_event with an empty queue */
#define LIVE_FEEDBACK_MS 1000 /* feedback_next with no feedback message queued */

typedef struct {
    target_event_kind_t kind;
    sim_time_t at;
    char *method_name;
    char *rid;
    char *payload;
    size_t payload_len;
    uint64_t version;
    target_status_t status;
} live_event_t;

typedef struct {
    uint16_t packet_id;
    char *message_id;
    char *body;
    size_t body_len;
} live_c2d_t;

typedef struct {
    bool done;
    int status;
    char *body;
    size_t body_len;
    uint64_t version;
} live_twin_res_t;

typedef struct live_conn {
    struct conform_target *t;
    char *dev, *mod;  /* the case's ids */
    char *wdev;       /* the device id on the wire */
    target_protocol_t proto;
    tr_mqtt_t *m;     /* MQTT */
    char *token;      /* the token on the wire (HTTPS requests) */
    unsigned subs;
    bool twin_res_sub;
    bool closed_by_us, disc_reported;
    live_event_t *evs;
    size_t n_evs, cap_evs;
    live_event_t last;
    uint64_t n_methods_heard, n_desired_heard;
    live_c2d_t *inbox;
    size_t n_inbox;
    char *c2d_body; /* the last received body */
    uint32_t next_rid;
    char twin_rid[32];
    live_twin_res_t twin_res;
} live_conn_t;

typedef struct {
    tr_http_req_t *req;
    bool done;
    target_method_result_t r;
    char *payload;
} live_call_t;

typedef struct {
    char *dev, *mod; /* the case's ids */
    char *keys[2];   /* base64, as the hub answered */
} live_ident_t;

typedef target_rx_owned_t live_rx_t;

struct conform_target {
    tr_connstr_t cs;
    tr_loop_t *loop;
    tr_tls_t *tls;
    tr_rest_t rest;
    tr_http_target_t admin;
    bool has_admin;
    char prefix[16];
    int64_t t0_ms;
    live_ident_t *ids;
    size_t n_ids;
    size_t n_created; /* registrations this case made (TARGET_LIVE_MAX_IDENTITIES_PER_CASE) */
    live_conn_t **conns;
    size_t n_conns;
    live_call_t **calls;
    size_t n_calls;
    uint64_t ep_from;      /* admin cursor of the events endpoint */
    live_rx_t *rx;
    size_t n_rx;
    live_rx_t rx_last;
    tr_amqp_svc_t *amqp;      /* service AMQP (C2D sender, feedback receiver), opened at first use */
    target_fb_record_t *fb;   /* the records feedback_next handed out last */
    /* what case_notes reports (target_live_notes.c) */
    bool throttled_known;       /* throttled_at_open was read from the admin API */
    uint64_t throttled_at_open; /* the hub's throttled.* counters when the case began */
    unsigned n_429;             /* answers 429 the case's operations got */
    char first_429[200];
    int64_t slowest_answer_ms;  /* the slowest HTTPS answer */
    unsigned n_waits;           /* advance() calls: wall-clock waits */
    int64_t waited_ms, wait_over_ms; /* their total, and the most one overshot */
};

/* ---- helpers (target_live_util.c) ---- */
char *live_dup(const char *s);
char *live_dup_n(const char *s, size_t n);
void *live_target_grow(void *p, size_t *cap, size_t need, size_t elem);
void live_status_transport(target_status_t *st, const char *why);
/* A status from an HTTP answer: 2xx → 200, else status + decoded error. */
void live_status_http(target_status_t *st, const tr_http_response_t *resp);
/* A status from an error body the hub sent on a non-HTTP transport. */
void live_status_body(target_status_t *st, int status, const char *body, size_t len);
/* Start a request and wait for its answer: false with st set on a transport failure. */
bool live_call(conform_target_t *t, hs_err_t start_err, tr_http_req_t *req, const char *why,
               target_status_t *st);
/* Pump for up to ms, draining every device connection, until pred (NULL: for ms). */
bool live_wait(conform_target_t *t, bool (*pred)(void *), void *arg, int64_t ms);
sim_time_t live_now(conform_target_t *t);

/* GET on hubsim serve's admin API: the parsed JSON (caller decrefs) or NULL with why. */
json_t *live_admin_get(conform_target_t *t, const char *path, char *why, size_t cap);

/* ---- case notes: timing tolerance and throttling (target_live_notes.c) ---- */
/* At open: remember the hub's throttled.* counters (admin API only). */
void live_notes_begin(conform_target_t *t);
/* An operation's outcome: a 429 is remembered as throttling. */
void live_note_status(conform_target_t *t, const target_status_t *st);
void live_note_answer_ms(conform_target_t *t, int64_t ms);
void live_note_wait(conform_target_t *t, int64_t asked_ms, int64_t took_ms);
/* The seam's case_notes. */
void live_case_notes(conform_target_t *t, target_case_notes_t *out);

/* ---- ids and tokens (target_live_ids.c) ---- */
/* The id on the wire: the run prefix + id when it fits in 128 characters. */
void live_target_wire_id(const conform_target_t *t, const char *id, char *out, size_t cap);
/* The case's id for a wire id (strips the prefix). */
const char *live_case_id(const conform_target_t *t, const char *wire);
live_ident_t *live_ident_find(conform_target_t *t, const char *dev, const char *mod);
void live_ident_remember(conform_target_t *t, const char *dev, const char *mod, json_t *device_json);
void live_ident_forget(conform_target_t *t, const char *dev, const char *mod);
/* The case's token re-signed for the wire ids with the same key and
 * expiry (a token no registered key verifies stays unverifiable). */
void live_token_for_wire(conform_target_t *t, const char *token, char *out, size_t cap);

/* ---- device side (target_live_device.c) ---- */
void live_drain(conform_target_t *t);
void live_conn_free(live_conn_t *c);
void live_device_connect(conform_target_t *t, const target_connect_t *p, target_conn_t *out, target_status_t *st);
void live_device_disconnect(conform_target_t *t, target_conn_t c);
bool live_device_connected(conform_target_t *t, target_conn_t c);
void live_device_subscribe(conform_target_t *t, target_conn_t c, unsigned subs, target_status_t *st);
void live_device_send(conform_target_t *t, target_conn_t c, const target_msg_t *m, target_status_t *st);
bool live_device_next_event(conform_target_t *t, target_conn_t c, target_event_kind_t kind, target_event_t *out);
void live_device_method_respond(conform_target_t *t, target_conn_t c, const char *rid, int status,
                                const char *payload, size_t len, target_status_t *st);
void live_device_c2d_receive(conform_target_t *t, target_conn_t c, target_c2d_t *out, target_status_t *st);
void live_device_c2d_settle(conform_target_t *t, target_conn_t c, const char *lock, target_settle_t how,
                            target_status_t *st);
void live_device_twin_get(conform_target_t *t, target_conn_t c, json_t **out, target_status_t *st);
void live_device_twin_patch_reported(conform_target_t *t, target_conn_t c, const char *patch,
                                     uint64_t *version_out, target_status_t *st);
/* Method requests / desired pushes heard so far by connections of a device. */
uint64_t live_methods_heard(conform_target_t *t);
uint64_t live_desired_heard(conform_target_t *t, const char *dev);

#endif
