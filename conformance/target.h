/* The transport seam of the conformance suite: the const ops table a case drives (device side, service side, time, control). */
#ifndef CONFORMANCE_TARGET_H
#define CONFORMANCE_TARGET_H

/*
 * A case never touches the hub model: it sees only this table, so the same
 * case runs in-process (target "inproc": calls into sim/hub on a kernel, in
 * virtual time) and, once issue 9's live transports exist, against a real
 * endpoint (MQTT/AMQP/HTTPS, wall time).  Everything a case observes comes
 * back as wire-level facts a live client can also see: an HTTP-ish status
 * and the hub's numeric error code and name (target_status_t), JSON
 * documents, message properties by name, events a device connection heard.
 *
 * Asynchrony is polled, not called back, because a live transport delivers
 * on its own threads: a method invocation returns a call handle whose
 * result the case reads after advance(); a device connection queues what it
 * heard (method requests, C2D availability, desired patches, disconnects)
 * and the case pops it with device_next_event().  The in-process target
 * fills those queues synchronously from the hub's sinks.
 *
 * Capabilities (caps) say what a target can do beyond the common table;
 * a case that needs more than its target offers ends SKIP with the reason.
 * Operations a target lacks may be NULL only when the matching capability
 * bit is clear.
 *
 * Ownership: strings passed in are borrowed for the call; strings and
 * documents handed out (payloads, events) are owned by the target and live
 * until the next call on the same object unless the comment says the caller
 * owns them (json_t results: the caller decrefs).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "sim/simtime.h"

typedef struct conform_target conform_target_t;

enum {
    TARGET_CAP_VIRTUAL_TIME = 1u << 0, /* advance() is free: 300 s boundaries take no wall time */
    TARGET_CAP_BREAK = 1u << 1,        /* break_switch(): the hub can be told to violate a rule */
    TARGET_CAP_CONFIGURE = 1u << 2,    /* configure(): hub settings (routes, throttling) per case */
    TARGET_CAP_KNOWN_KNOBS = 1u << 3,  /* every unconfirmed-fact knob is at the catalogue default */
    TARGET_CAP_CHECK = 1u << 4,        /* check(): the hub's own conservation balance is readable */
    TARGET_CAP_ENDPOINTS = 1u << 5,    /* endpoint_next(): what each routing endpoint received */
    TARGET_CAP_TRACE = 1u << 6,        /* trace_excerpt(): the last lines of the hub's trace */
    TARGET_CAP_WIRE = 1u << 7,         /* wire_*() and http_*(): raw protocol bytes and HTTP requests */
};

/* The outcome of one operation as a client sees it: 200 and code 0 on
 * success, else the HTTP status (or its protocol equivalent) with the hub's
 * numeric error code and name ("ArgumentInvalid", 400004). */
typedef struct {
    int http;
    int code;
    char name[48];
    char detail[200];
} target_status_t;

/* A device connection handle (0 is never valid). */
typedef uint32_t target_conn_t;
/* A method call handle (0 is never valid). */
typedef uint32_t target_call_t;

typedef enum { TARGET_PROTO_MQTT = 0, TARGET_PROTO_AMQP, TARGET_PROTO_HTTPS } target_protocol_t;

enum { TARGET_SUB_METHODS = 1u, TARGET_SUB_C2D = 2u, TARGET_SUB_DESIRED = 4u };

/* Shared access policy permissions a service operation needs. */
enum {
    TARGET_RIGHT_REGISTRY_READ = 1u,
    TARGET_RIGHT_REGISTRY_WRITE = 2u,
    TARGET_RIGHT_SERVICE_CONNECT = 4u,
    TARGET_RIGHT_DEVICE_CONNECT = 8u,
};

typedef struct {
    const char *device_id;
    const char *module_id; /* NULL or "" = the device */
    bool disabled;
    bool x509;
    const char *primary_key; /* base64 */
    const char *secondary_key;
    const char *primary_thumbprint; /* hex; x509 */
    const char *secondary_thumbprint;
    /* Field gateways (devices only; read by targets with
     * device_connect_leaf, others create a plain device): */
    bool iot_edge;         /* capabilities.iotEdge: the device can be a gateway */
    const char *parent_id; /* the leaf's gateway device (its scope); NULL or "" = none */
} target_identity_spec_t;

typedef struct {
    char etag[64];
    char generation_id[64];
    bool enabled;
} target_identity_info_t;

typedef struct {
    const char *device_id;
    const char *module_id;       /* NULL or "" */
    const char *sas_token;       /* NULL with x509 */
    const char *x509_thumbprint; /* NULL with SAS */
    target_protocol_t protocol;
} target_connect_t;

#define TARGET_MSG_MAX_PROPS 16

typedef struct {
    const char *name;
    const char *value;
} target_prop_t;

/* A message a case sends.  System properties by their query name
 * (routing-query.txt: "messageId", "contentType", "contentEncoding",
 * "connectionDeviceId", "ack", ...); application properties in order. */
typedef struct {
    const void *body;
    size_t body_len;
    target_prop_t sys[TARGET_MSG_MAX_PROPS];
    size_t n_sys;
    target_prop_t app[TARGET_MSG_MAX_PROPS];
    size_t n_app;
} target_msg_t;

/* A message somebody received (an endpoint, a device).  Owned by the target. */
typedef struct {
    const char *endpoint; /* endpoint_next only */
    const char *body;
    size_t body_len;
    const target_prop_t *sys; /* query names */
    size_t n_sys;
    const target_prop_t *app;
    size_t n_app;
} target_rx_msg_t;

typedef enum {
    TARGET_EV_ANY = 0,
    TARGET_EV_METHOD,        /* method_name, rid, payload */
    TARGET_EV_C2D_AVAILABLE, /* a C2D message became visible */
    TARGET_EV_DESIRED,       /* version, payload = the patch JSON */
    TARGET_EV_DISCONNECTED,  /* status = why the hub closed it */
} target_event_kind_t;

typedef struct {
    target_event_kind_t kind;
    sim_time_t at; /* target time when it was heard */
    const char *method_name;
    const char *rid;
    const char *payload;
    size_t payload_len;
    uint64_t version;
    target_status_t status;
} target_event_t;

typedef struct {
    int http;               /* 200, 404, 504, ... (0 while pending) */
    int code;               /* hub error code, 0 on 200 */
    char name[48];
    int device_status;      /* 200 only */
    const char *payload;    /* the device's JSON (200 only) */
    size_t payload_len;
    sim_time_t completed_at;
} target_method_result_t;

typedef struct {
    char lock_token[64];
    uint64_t sequence_number;
    uint32_t delivery_count;
    char message_id[160];
    const char *body; /* owned by the target until the next call */
    size_t body_len;
} target_c2d_t;

typedef enum { TARGET_SETTLE_COMPLETE = 0, TARGET_SETTLE_REJECT, TARGET_SETTLE_ABANDON } target_settle_t;

typedef struct {
    char original_message_id[160];
    char device_id[160];
    char status[32]; /* "Success", "Expired", "DeliveryCountExceeded", "Rejected", "Purged" */
} target_fb_record_t;

/* One feedback message (batch).  records owned by the target. */
typedef struct {
    const target_fb_record_t *records;
    size_t count;
    sim_time_t at;
} target_feedback_t;

typedef struct {
    uint64_t seed;
    int64_t epoch_unix; /* what virtual time 0 stands for */
    bool capture_trace; /* keep a trace tail for excerpts (inproc) */
} target_options_t;

/* ---- the raw wire (TARGET_CAP_WIRE) ----------------------------------------
 * Wire rules (MQTT topics and QoS, CONNACK codes, keep-alive, HTTPS headers
 * and error bodies) are only visible in the bytes, so these ops carry bytes
 * and HTTP, never hub structures: in-process they feed the served hub's own
 * sans-IO sessions over an in-memory pipe (virtual time: advance() runs the
 * keep-alive and lock timers); a live target (issue 9) writes them to a TLS
 * socket.  The case encodes and decodes with the same codec serve uses. */

/* A raw transport connection (0 is never valid). */
typedef uint32_t target_wire_t;
/* An HTTP request handle (0 is never valid). */
typedef uint32_t target_http_call_t;

typedef struct {
    const char *method;  /* "GET", "PUT", "PATCH", "POST", "DELETE" */
    const char *path;    /* percent-encoded, may end in "?query" */
    const target_prop_t *headers; /* "Authorization", "If-Match", "iothub-app-k", ... */
    size_t n_headers;
    const void *body;    /* NULL when body_len is 0 */
    size_t body_len;
    const char *x509_thumbprint; /* the client certificate (uppercase hex SHA-1), or NULL */
} target_http_request_t;

/* An HTTP answer; owned by the target until the next http_* call. */
typedef struct {
    int status;                   /* 0 while pending (a direct method waiting for its device) */
    const target_prop_t *headers; /* names as the hub sent them (compare case-insensitively) */
    size_t n_headers;
    const char *body;             /* NUL-terminated; "" when body_len is 0 */
    size_t body_len;
} target_http_response_t;

/* What a target noticed while a case ran, beyond the case's own checks
 * (case_notes). */
typedef struct {
    char tolerance[256]; /* the timing tolerance the case ran with; "" = exact (virtual time) */
    char cause[256];     /* non-empty: the target got in the case's way ("throttled (429): ...") */
} target_case_notes_t;

typedef struct target_ops {
    const char *name;
    unsigned caps;
    /* Open a fresh hub session.  HS_EIO/HS_EUNSUPPORTED (unreachable, not
     * built) with why filled. */
    hs_err_t (*open)(const char *address, const target_options_t *o, conform_target_t **out,
                     char *why, size_t cap);
    void (*close)(conform_target_t *t);

    /* ---- control ------------------------------------------------------ */
    /* Hub settings as a hub-config JSON object (docs/hub-config.md): only
     * before any other call of a case.  A refused setting answers 400 with
     * the reason (an invalid routing query is refused when saved). */
    void (*configure)(conform_target_t *t, const char *hub_json, target_status_t *st);
    hs_err_t (*break_switch)(conform_target_t *t, const char *name);
    sim_time_t (*now)(conform_target_t *t);
    int64_t (*unix_now)(conform_target_t *t);
    void (*advance)(conform_target_t *t, sim_time_t d);
    const char *(*host)(conform_target_t *t);
    hs_err_t (*check)(conform_target_t *t, char *why, size_t cap);
    /* Last `lines` trace lines into buf ("" when none). */
    void (*trace_excerpt)(conform_target_t *t, size_t lines, char *buf, size_t cap);
    /* The hash of every trace event so far (TARGET_CAP_TRACE): equal for the
     * same seed and case on any machine. */
    uint64_t (*trace_hash)(conform_target_t *t);

    /* ---- service side: credentials ----------------------------------- */
    /* Present a service SAS token (skn = a shared access policy) for an
     * operation needing `rights` (TARGET_RIGHT_*): 200 or 401. */
    void (*service_authorize)(conform_target_t *t, const char *token, unsigned rights,
                              target_status_t *st);

    /* ---- service side: registry ------------------------------------- */
    void (*identity_create)(conform_target_t *t, const target_identity_spec_t *s,
                            target_identity_info_t *out, target_status_t *st);
    void (*identity_update)(conform_target_t *t, const target_identity_spec_t *s,
                            const char *if_match, target_identity_info_t *out, target_status_t *st);
    void (*identity_get)(conform_target_t *t, const char *device_id, const char *module_id,
                         target_identity_info_t *out, target_status_t *st);
    void (*identity_delete)(conform_target_t *t, const char *device_id, const char *module_id,
                            const char *if_match, target_status_t *st);

    /* ---- service side: methods, C2D, twins, endpoints --------------- */
    /* body: the REST request body {"methodName":..,"payload":..,...}. */
    void (*method_invoke)(conform_target_t *t, const char *device_id, const char *module_id,
                          const char *body, size_t body_len, target_call_t *call,
                          target_status_t *st);
    /* false while the call is pending. */
    bool (*method_result)(conform_target_t *t, target_call_t call, target_method_result_t *out);
    /* ttl 0 = the hub's default. */
    void (*c2d_send)(conform_target_t *t, const char *device_id, const target_msg_t *m,
                     sim_time_t ttl, target_status_t *st);
    bool (*feedback_next)(conform_target_t *t, target_feedback_t *out);
    /* *out: the caller's reference. */
    void (*twin_get)(conform_target_t *t, const char *device_id, const char *module_id,
                     json_t **out, target_status_t *st);
    void (*twin_patch)(conform_target_t *t, const char *device_id, const char *module_id,
                       const char *patch, const char *if_match, char *etag_out /* 64 */,
                       target_status_t *st);
    void (*twin_put)(conform_target_t *t, const char *device_id, const char *module_id,
                     const char *doc, const char *if_match, char *etag_out, target_status_t *st);
    /* endpoint NULL = any; pops the oldest delivery. */
    bool (*endpoint_next)(conform_target_t *t, const char *endpoint, target_rx_msg_t *out);

    /* ---- device side -------------------------------------------------- */
    void (*device_connect)(conform_target_t *t, const target_connect_t *p, target_conn_t *out,
                           target_status_t *st);
    void (*device_disconnect)(conform_target_t *t, target_conn_t c);
    bool (*device_connected)(conform_target_t *t, target_conn_t c);
    void (*device_subscribe)(conform_target_t *t, target_conn_t c, unsigned subs,
                             target_status_t *st);
    void (*device_send)(conform_target_t *t, target_conn_t c, const target_msg_t *m,
                        target_status_t *st);
    /* Pops the oldest event of that kind (TARGET_EV_ANY: of any kind). */
    bool (*device_next_event)(conform_target_t *t, target_conn_t c, target_event_kind_t kind,
                              target_event_t *out);
    void (*device_method_respond)(conform_target_t *t, target_conn_t c, const char *rid,
                                  int status, const char *payload, size_t len,
                                  target_status_t *st);
    void (*device_c2d_receive)(conform_target_t *t, target_conn_t c, target_c2d_t *out,
                               target_status_t *st);
    void (*device_c2d_settle)(conform_target_t *t, target_conn_t c, const char *lock_token,
                              target_settle_t how, target_status_t *st);
    void (*device_twin_get)(conform_target_t *t, target_conn_t c, json_t **out,
                            target_status_t *st);
    void (*device_twin_patch_reported)(conform_target_t *t, target_conn_t c, const char *patch,
                                       uint64_t *version_out, target_status_t *st);

    /* ---- raw wire (TARGET_CAP_WIRE) ------------------------------------ */
    /* Open a transport to the hub's endpoint for proto (TARGET_PROTO_MQTT):
     * TLS, with a client certificate when x509_thumbprint is not NULL.
     * HS_EUNSUPPORTED (a protocol the target cannot carry) with why. */
    hs_err_t (*wire_open)(conform_target_t *t, target_protocol_t proto, const char *x509_thumbprint,
                          target_wire_t *out, char *why, size_t cap);
    /* Bytes from the client; ignored once the transport is closed. */
    void (*wire_send)(conform_target_t *t, target_wire_t w, const void *bytes, size_t len);
    /* Everything the hub wrote since the last take (*len 0: nothing); owned
     * by the target until the next take on the same wire. */
    void (*wire_take)(conform_target_t *t, target_wire_t w, const uint8_t **bytes, size_t *len);
    /* The hub closed the transport (or the case did). */
    bool (*wire_is_closed)(conform_target_t *t, target_wire_t w);
    /* The client closes the transport (no DISCONNECT: an ungraceful end). */
    void (*wire_close)(conform_target_t *t, target_wire_t w);
    /* One request to the hub's HTTPS endpoint.  The answer is in *resp at
     * once, or status 0 until a later advance(): read it with http_response. */
    void (*http_request)(conform_target_t *t, const target_http_request_t *req,
                         target_http_call_t *call, target_http_response_t *resp);
    /* false while the call is pending. */
    bool (*http_response)(conform_target_t *t, target_http_call_t call, target_http_response_t *resp);

    /* ---- after the case (optional: NULL says nothing) ---------------------- */
    /* Called once after the case ran, before close. */
    void (*case_notes)(conform_target_t *t, target_case_notes_t *out);

    /* ---- field gateways (optional: NULL = the target cannot, the case SKIPs) ---- */
    /* A leaf device's sub-connection over the connection of its gateway
     * (an IoT Edge device, identity_create with iot_edge; the leaf created
     * with parent_id = the gateway).  leaf->sas_token: the leaf's own token
     * or the gateway's.  The handle works like device_connect's; the leaf is
     * offline when the gateway's connection goes. */
    void (*device_connect_leaf)(conform_target_t *t, target_conn_t gateway, const target_connect_t *leaf,
                                target_conn_t *out, target_status_t *st);
} target_ops_t;

extern const target_ops_t target_inproc;

/* Targets by name ("inproc"); NULL when unknown. */
const target_ops_t *target_find(const char *name);
/* Fill st with success (200, code 0). */
void target_status_ok(target_status_t *st);
/* Fill st with an error. */
void target_status_set(target_status_t *st, int http, int code, const char *name,
                       const char *detail);
/* "200" or "400 ArgumentInvalid (400004)". */
const char *target_status_format(const target_status_t *st, char *buf, size_t cap);
/* A property of a received message by name (case-sensitive); NULL when absent. */
const char *target_rx_sys(const target_rx_msg_t *m, const char *name);
const char *target_rx_app(const target_rx_msg_t *m, const char *name);
/* A response header by name (case-insensitive); NULL when absent. */
const char *target_http_header(const target_http_response_t *r, const char *name);

#endif
