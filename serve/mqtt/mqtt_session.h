/* The hub's MQTT 3.1.1 device endpoint as a sans-IO session: bytes in from a carrier, hub calls, bytes out through wire_io_ops_t. */
#ifndef SERVE_MQTT_SESSION_H
#define SERVE_MQTT_SESSION_H

/*
 * One session per transport connection.  The carrier creates it on accept,
 * feeds it what it reads (split anywhere), tells it when the transport
 * closed, and frees it (never from inside a call into the session).  The
 * session speaks back only through wire_io_ops_t: write (bytes for the
 * peer) and close (flush, then close; the session is fed nothing after).
 *
 * Device side per NOTES.md "MQTT 3.1.1 device side": CONNECT → CONNACK
 * (0 / 1 level / 2 client id / 3 throttled / 5 not authorized), telemetry,
 * C2D (QoS 1, PUBACK completes), direct methods, twin GET / reported PATCH /
 * desired pushes, keep-alive at 1.5x, QoS 2 closes, unknown or foreign
 * topics close (knob).  Timers (keep-alive, C2D lock ends) are events on
 * hub_kernel(hub): the session runs unchanged in virtual and wall time.
 * docs/mqtt.md has the topics, codes, knobs, break switches and client rules.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "serve/wire.h"
#include "sim/hub/hub.h"

/* ---- break switches (wire rules a session can be made to violate) -------- */

/* X(ENUM, "switch-name", "RULE-ID", "what the broken session does").  The
 * switch name is the rule ID (docs/mqtt.md has each rule's text); the
 * conformance suite arms one to prove the rule's wire test fails. */
#define MQTT_BREAK_MAP(X)                                                                       \
    X(KEEP_SECOND_CONNECTION, "MQTT-SECOND-CONNECTION", "MQTT-SECOND-CONNECTION",               \
      "the connection the hub replaced keeps its transport open")                              \
    X(ACCEPT_QOS2, "MQTT-QOS2-PUBLISH", "MQTT-QOS2-PUBLISH",                                    \
      "a QoS 2 PUBLISH is processed like QoS 1 instead of closing the connection")             \
    X(GRANT_QOS2, "MQTT-QOS2-SUBSCRIBE", "MQTT-QOS2-SUBSCRIBE",                                 \
      "a QoS 2 subscription is granted QoS 2")                                                 \
    X(NO_KEEPALIVE, "MQTT-KEEPALIVE", "MQTT-KEEPALIVE",                                         \
      "a silent client is never timed out")                                                    \
    X(KEEPALIVE_1X, "MQTT-KEEPALIVE:off-by-half", "MQTT-KEEPALIVE",                             \
      "a silent client is timed out after 1.0x keep-alive instead of 1.5x")                    \
    X(PUBACK_REFUSED, "MQTT-D2C-REFUSED", "MQTT-D2C-REFUSED",                                   \
      "a telemetry PUBLISH the hub refused is PUBACKed and the connection stays open")         \
    X(IGNORE_FOREIGN_TOPIC, "MQTT-TOPIC-FOREIGN", "MQTT-TOPIC-FOREIGN",                         \
      "a PUBLISH or SUBSCRIBE on another identity's topic is ignored instead of closing")      \
    X(C2D_NO_COMPLETE, "MQTT-C2D-PUBACK", "MQTT-C2D-PUBACK",                                    \
      "a PUBACK for a C2D message does not complete it")                                       \
    X(SYSPROPS_AS_APP, "MQTT-PROPERTY-BAG", "MQTT-PROPERTY-BAG",                                \
      "$.mid, $.cid, $.ct ... in a telemetry bag become application properties")               \
    X(CONNACK_CODES, "MQTT-CONNACK-CODES", "MQTT-CONNACK-CODES",                                \
      "every refused CONNECT is answered CONNACK 5, also a throttled one (3) or a bad client id (2)") \
    X(TWIN_NO_VERSION, "MQTT-TWIN-REPORTED", "MQTT-TWIN-REPORTED",                              \
      "a reported-properties PATCH is answered res/204 without $version")

enum {
#define MQTT_BREAK_BIT(e, name, rule, text) MQTT_BREAK_BIT_##e,
    MQTT_BREAK_MAP(MQTT_BREAK_BIT)
#undef MQTT_BREAK_BIT
    MQTT_BREAK__COUNT
};
enum {
#define MQTT_BREAK_FLAG(e, name, rule, text) MQTT_BREAK_##e = 1u << MQTT_BREAK_BIT_##e,
    MQTT_BREAK_MAP(MQTT_BREAK_FLAG)
#undef MQTT_BREAK_FLAG
};

typedef struct {
    const char *name;   /* "MQTT-SECOND-CONNECTION" */
    unsigned flag;      /* MQTT_BREAK_KEEP_SECOND_CONNECTION */
    const char *rule_id;
    const char *text;   /* what the broken session does */
} mqtt_break_info_t;

/* The flag for a switch name (case-sensitive); 0 for an unknown name. */
unsigned mqtt_break_lookup(const char *name);
/* Row i of the table; NULL past the end (i >= MQTT_BREAK__COUNT). */
const mqtt_break_info_t *mqtt_break_at(size_t i);

/* ---- counters ------------------------------------------------------------- */

/* Every PUBLISH the session reads lands in exactly one of d2c_forwarded,
 * d2c_refused_hub, method_responses, twin_requests, or a publish_refused_* /
 * publish_ignored counter: nothing is dropped uncounted. */
#define MQTT_STAT_MAP(X)                                                            \
    X(CONNECTS_ACCEPTED, "connects.accepted")                                       \
    X(CONNECTS_REFUSED, "connects.refused")                                         \
    X(DISCONNECTS_CLEAN, "disconnects.clean")            /* client DISCONNECT */    \
    X(TRANSPORT_CLOSED, "disconnects.transport")         /* carrier saw EOF/error */ \
    X(CLOSED_BY_SESSION, "disconnects.session")          /* the session closed */   \
    X(KEEPALIVE_TIMEOUTS, "disconnects.keepalive")                                  \
    X(REPLACED, "disconnects.hub")                       /* hub dropped it */       \
    X(PROTOCOL_ERRORS, "protocol.errors")                /* malformed / out of order */ \
    X(D2C_FORWARDED, "d2c.forwarded")                                               \
    X(D2C_REFUSED_HUB, "d2c.refused_hub")                                           \
    X(PUBLISH_REFUSED_QOS2, "publish.refused_qos2")                                 \
    X(PUBLISH_REFUSED_TOPIC, "publish.refused_topic")                               \
    X(PUBLISH_REFUSED_PROPS, "publish.refused_props")                               \
    X(PUBLISH_IGNORED, "publish.ignored")                /* unknown topic, ignore knob */ \
    X(WILLS_SENT, "will.sent")                                                      \
    X(C2D_DELIVERED, "c2d.delivered")                                               \
    X(C2D_COMPLETED, "c2d.completed")                                               \
    X(C2D_COMPLETE_FAILED, "c2d.complete_failed")        /* lock lost, unknown id */ \
    X(C2D_LOCK_ENDED, "c2d.lock_ended")                  /* no PUBACK before the lock ended */ \
    X(C2D_ABANDONED, "c2d.abandoned")                    /* unacknowledged at close */ \
    X(METHOD_REQUESTS, "methods.requests")                                          \
    X(METHOD_UNDELIVERABLE, "methods.undeliverable")     /* name holds '+' or '#': no legal topic */ \
    X(METHOD_RESPONSES, "methods.responses")                                        \
    X(METHOD_RESPONSES_REFUSED, "methods.responses_refused")                        \
    X(TWIN_REQUESTS, "twin.requests")                                               \
    X(TWIN_ERRORS, "twin.errors")                        /* answered 4xx/5xx */     \
    X(TWIN_UNSUBSCRIBED, "twin.res_unsubscribed")        /* answer not sent: no res/# */ \
    X(DESIRED_PUSHES, "twin.desired_pushes")                                        \
    X(SUBSCRIBES, "subscribes")                                                     \
    X(SUBSCRIBE_FAILURES, "subscribes.failed")           /* SUBACK 0x80 (ignore knob) */ \
    X(VIOLATIONS, "client.violations")

typedef enum {
#define MQTT_STAT_ENUM(e, name) MQTT_STAT_##e,
    MQTT_STAT_MAP(MQTT_STAT_ENUM)
#undef MQTT_STAT_ENUM
    MQTT_STAT__COUNT
} mqtt_stat_t;

typedef struct {
    uint64_t v[MQTT_STAT__COUNT];
} mqtt_stats_t;

/* "connects.accepted", ...; NULL past the end. */
const char *mqtt_stat_name(size_t i);

/* ---- what the sessions of one hub share ----------------------------------- */

/* One kernel handler for every session's timers (so a long-running serve
 * does not register a handler per connection) and the sum of every
 * session's counters.  Free it after the sessions, before the kernel. */
typedef struct mqtt_shared mqtt_shared_t;

mqtt_shared_t *mqtt_shared_new(hub_t *hub);
void mqtt_shared_free(mqtt_shared_t *sh);
const mqtt_stats_t *mqtt_shared_stats(const mqtt_shared_t *sh);

/* ---- options ---------------------------------------------------------------- */

typedef struct {
    /* Unknown or foreign topic (PUBLISH or SUBSCRIBE): close (default, NOTES [?])
     * or ignore (PUBLISH: PUBACK and count; SUBSCRIBE: SUBACK 0x80). */
    hub_config_unknown_topic_t unknown_topic;
    sim_time_t keep_alive_max;           /* 1767 s [doc]: a larger keep-alive is clamped */
    uint32_t keep_alive_grace_permille;  /* 1500 [doc]: close after 1.5x keep-alive of silence */
    size_t max_packet_bytes;             /* whole frame; default 2 x D2C limit + 64 KB */
    uint32_t c2d_max_inflight;           /* C2D messages delivered and not PUBACKed: 1 [?] */
    unsigned breaks;                     /* MQTT_BREAK_* bits */
    mqtt_shared_t *shared;               /* NULL: the session registers its own timer handler */
} mqtt_session_opts_t;

/* Defaults from the hub's config (mqtt.unknownTopic, keepAliveMax,
 * keepAliveGrace, messages.d2cMaxBytes). */
void mqtt_session_opts_defaults(mqtt_session_opts_t *o, const hub_t *hub);

/* ---- the session ------------------------------------------------------------ */

typedef struct mqtt_session mqtt_session_t;

/* opts NULL = defaults; peer is copied (NULL = unknown address, no
 * certificate); io is required (both members), copied; obs may be NULL (no
 * client checking), copied.  NULL on allocation failure or missing io. */
mqtt_session_t *mqtt_session_new(hub_t *hub, const mqtt_session_opts_t *opts, const wire_peer_t *peer,
                                 const wire_io_ops_t *io, void *io_ctx, const wire_observer_ops_t *obs,
                                 void *obs_ctx);
/* Bytes read from the transport, split anywhere.  Ignored once the session
 * closed. */
void mqtt_session_input(mqtt_session_t *s, const void *bytes, size_t len);
/* The transport is gone (EOF, error): an ungraceful end (the will is sent,
 * unacknowledged C2D messages are abandoned).  io.close is not called. */
void mqtt_session_transport_closed(mqtt_session_t *s);
/* Ends the session if still open (as transport_closed) and frees it.  NULL is fine. */
void mqtt_session_free(mqtt_session_t *s);

/* Still connected or waiting for CONNECT (false after any close). */
bool mqtt_session_is_open(const mqtt_session_t *s);
/* "device", "device/module", or "" before an accepted CONNECT. */
const char *mqtt_session_identity(const mqtt_session_t *s);
const mqtt_stats_t *mqtt_session_stats(const mqtt_session_t *s);

#endif
