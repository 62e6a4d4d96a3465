/* The mock IoT hub model: public API for service-side calls, device-side calls, and per-connection sinks. */
#ifndef HUB_HUB_H
#define HUB_HUB_H

/*
 * The hub runs on a sim_kernel_t and is driven by calls: it never reads a
 * clock or touches a socket.  Every outcome is a trace event (kind "hub.*")
 * and a ledger counter.  The same code serves virtual time (`run`,
 * `conform`) and wall time (`serve` advances the kernel to the wall clock).
 *
 * Identities (devices and modules) get a stable number ("device_no", the
 * registration index, never reused) that other facilities index by.
 *
 * Device side: hub_device_connect() authenticates one identity and returns a
 * connection handle; the hub talks back through the connection's sink (a
 * const table of function pointers + ctx).  Sinks may call back into the hub
 * from inside a callback (respond to a method from method_request, receive
 * from c2d_available): the hub finishes its own bookkeeping before calling
 * out.  A stale handle (the connection was dropped) answers
 * HUB_EUNAUTHORIZED_ACCESS and changes nothing.
 *
 * Same-instant rule: hub deadlines (method connect/response timeouts) are
 * kernel events at SIM_PRIO_DEADLINE when the config's deadline_wins knob is
 * true (default) and SIM_PRIO_LATE_DEADLINE otherwise; device and service
 * actions scheduled at SIM_PRIO_DEVICE therefore lose (resp. win) a tie with
 * a deadline at the same instant.  See docs/hub-model.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/kernel.h"
#include "sim/hub/c2d_queue.h"
#include "sim/hub/faults.h"
#include "sim/hub/hub_config.h"
#include "sim/hub/hub_errors.h"
#include "sim/hub/message.h"

typedef struct hub hub_t;

/* A connection handle: (generation << 32 | slot + 1).  0 is never valid. */
typedef uint64_t hub_conn_t;

/* ---- lifecycle ------------------------------------------------------------- */

/* The config is copied (NULL = hub_config_defaults) and its devices and
 * modules are registered in file order.  The kernel must outlive the hub.
 * HS_EINVAL (bad config: why says which device), HS_ENOMEM. */
hs_err_t hub_new(sim_kernel_t *k, const hub_config_t *cfg, hub_t **out, char *why, size_t cap);
/* Cancels the hub's pending timers; pending method calls are completed with
 * nothing (callbacks are not called).  NULL is fine. */
void hub_free(hub_t *hub);
sim_kernel_t *hub_kernel(hub_t *hub);
const hub_config_t *hub_config(const hub_t *hub);

/* Arm a break switch by name (faults.h table).  HS_ENOTFOUND for an unknown
 * name.  Arm before driving the hub. */
hs_err_t hub_break(hub_t *hub, const char *name);
const hub_faults_t *hub_faults(const hub_t *hub);

/* ---- identity registry ---------------------------------------------------- */

typedef struct {
    const char *device_id;           /* required */
    const char *module_id;           /* NULL or "" = the device itself */
    bool disabled;                   /* status "disabled" */
    bool x509;                       /* X.509 thumbprint auth instead of SAS */
    const char *primary_key;         /* base64 (16-64 bytes); NULL = derived from the seed */
    const char *secondary_key;       /* base64; NULL = derived from the seed */
    const char *primary_thumbprint;  /* hex; required when x509 */
    const char *secondary_thumbprint;
    /* Field gateways (docs/gateways.md; devices only).  Create: iot_edge as
     * given.  Update: the flag changes only when has_iot_edge.  parent_id:
     * the leaf's gateway (an IoT Edge device: its deviceScope becomes the
     * gateway's scope); NULL = none on create, keep on update; "" = none. */
    bool has_iot_edge;
    bool iot_edge;                   /* capabilities.iotEdge */
    const char *parent_id;
} hub_identity_spec_t;

#define HUB_ETAG_CAP 24
#define HUB_GENERATION_ID_CAP 24
#define HUB_SCOPE_CAP (HUB_CONFIG_ID_MAX + 48)

typedef struct {
    uint32_t device_no;
    char device_id[HUB_CONFIG_ID_MAX + 1];
    char module_id[HUB_CONFIG_ID_MAX + 1];     /* "" for a device */
    char generation_id[HUB_GENERATION_ID_CAP]; /* 18 decimal digits */
    char etag[HUB_ETAG_CAP];
    bool enabled;
    bool x509;
    bool connected;
    char primary_key[HUB_CONFIG_KEY_MAX + 1];
    char secondary_key[HUB_CONFIG_KEY_MAX + 1];
    char primary_thumbprint[HUB_CONFIG_THUMBPRINT_MAX + 1];
    char secondary_thumbprint[HUB_CONFIG_THUMBPRINT_MAX + 1];
    bool iot_edge;                             /* capabilities.iotEdge */
    char parent_id[HUB_CONFIG_ID_MAX + 1];     /* the gateway device, "" = none */
    char device_scope[HUB_SCOPE_CAP];          /* "ms-azure-iot-edge://{id}-{generationId}", "" = none */
    char parent_scope[HUB_SCOPE_CAP];          /* parentScopes[0], "" = none */
} hub_identity_t;

/* Create: ARGUMENT_INVALID (parent_id not an IoT Edge device, a module, the
 * identity itself; id rule: <= 128 chars of the allowed set; bad key
 * or thumbprint), DEVICE_ALREADY_EXISTS / MODULE_ALREADY_EXISTS,
 * DEVICE_NOT_FOUND (module of an unknown device).  out may be NULL. */
hub_err_t hub_identity_create(hub_t *hub, const hub_identity_spec_t *spec, hub_identity_t *out);
/* Update status/keys/thumbprints.  if_match NULL, "" or "*" = unconditional,
 * else must equal the current etag (quotes allowed) → PRECONDITION_FAILED.
 * Disabling drops the identity's connection.  Changing keys does not. */
hub_err_t hub_identity_update(hub_t *hub, const hub_identity_spec_t *spec, const char *if_match,
                              hub_identity_t *out);
/* PUT semantics: create when absent (if_match ignored), else update. */
hub_err_t hub_identity_put(hub_t *hub, const hub_identity_spec_t *spec, const char *if_match,
                           hub_identity_t *out);
hub_err_t hub_identity_get(hub_t *hub, const char *device_id, const char *module_id,
                           hub_identity_t *out);
/* Only the primary symmetric key of an identity into key (what a device
 * signs its SAS token with), without filling a whole hub_identity_t: a
 * million-device fleet asks this once per connect.  "" for an X.509
 * identity.  DEVICE_NOT_FOUND / MODULE_NOT_FOUND as hub_identity_get;
 * ARGUMENT_INVALID when cap is too small. */
hub_err_t hub_identity_primary_key(hub_t *hub, const char *device_id, const char *module_id, char *key,
                                   size_t cap);
/* Room for `identities` more identities and as many connections, taken up
 * front (a fleet knows its size): no array growth, copying or index
 * rehashing while they register and connect (string room is sized for
 * short ids with keys the hub generates; longer ones still fit, by growth).  Never changes behaviour;
 * HUB_ESERVER_ERROR when the memory cannot be had. */
hub_err_t hub_reserve(hub_t *hub, size_t identities);
/* Deleting a device deletes its modules; connections are dropped, pending
 * calls to it end 404 at their deadline, its C2D queue is purged. */
hub_err_t hub_identity_delete(hub_t *hub, const char *device_id, const char *module_id,
                              const char *if_match);
/* Live identities (devices + modules). */
size_t hub_identity_count(const hub_t *hub);

/* ---- auth ------------------------------------------------------------------ */

/* Check a service token (skn = a shared access policy with all of `rights`,
 * sr = the hub host).  UNAUTHORIZED_ACCESS (401002) for a bad or expired
 * token. */
hub_err_t hub_service_authorize(hub_t *hub, const char *token, unsigned rights);

/* ---- device side ----------------------------------------------------------- */

enum {
    HUB_SUB_METHODS = 1u << 0, /* $iothub/methods/POST/# */
    HUB_SUB_C2D = 1u << 1,     /* devices/{id}/messages/devicebound/# */
    HUB_SUB_DESIRED = 1u << 2, /* $iothub/twin/PATCH/properties/desired/# */
    HUB_SUB__ALL = 7u
};

typedef enum {
    HUB_PROTO_MQTT = 0,
    HUB_PROTO_AMQP,
    HUB_PROTO_HTTPS /* D2C property character rule applies */
} hub_protocol_t;

/* What the hub delivers to a device connection.  Every member may be NULL.
 * Strings are borrowed for the duration of the call. */
typedef struct {
    /* A direct method request: rid is the hub's hex request id. */
    void (*method_request)(void *ctx, hub_conn_t conn, const char *method_name, const char *rid,
                           const char *payload, size_t payload_len);
    /* A C2D message became visible for this identity (connection subscribed
     * to HUB_SUB_C2D): call hub_device_c2d_receive to lock it. */
    void (*c2d_available)(void *ctx, hub_conn_t conn);
    /* A desired-properties update (connection subscribed to HUB_SUB_DESIRED):
     * patch JSON text with "$version". */
    void (*desired_patch)(void *ctx, hub_conn_t conn, uint64_t version, const char *patch_json,
                          size_t len);
    /* The hub closed the connection (second connection, identity disabled or
     * deleted, ...).  The handle is already stale. */
    void (*disconnected)(void *ctx, hub_conn_t conn, hub_err_t err, const char *reason);
} hub_sink_ops_t;

typedef struct {
    const char *device_id;
    const char *module_id;       /* NULL or "" for the device itself */
    const char *sas_token;       /* "SharedAccessSignature sr=..&sig=..&se=..[&skn=..]" */
    const char *x509_thumbprint; /* hex thumbprint of the client certificate */
    hub_protocol_t protocol;
} hub_connect_params_t;

/* UNAUTHORIZED_ACCESS (401002: unknown identity, disabled, bad/expired/
 * wrong-scope token, wrong thumbprint — each counted under its own auth.*
 * counter), THROTTLED, ARGUMENT_NULL, ARGUMENT_INVALID (protocol).  A second
 * connection for the same identity drops the first (its sink hears
 * `disconnected` with CONNECTION_REPLACED, 400027).  ops may be NULL (a
 * connection that hears nothing). */
hub_err_t hub_device_connect(hub_t *hub, const hub_connect_params_t *p, const hub_sink_ops_t *ops,
                             void *sink_ctx, hub_conn_t *out);
hub_err_t hub_device_disconnect(hub_t *hub, hub_conn_t conn);
/* Subscribing to methods makes the identity "online" for direct methods:
 * calls waiting in their connect window are delivered then. */
hub_err_t hub_device_subscribe(hub_t *hub, hub_conn_t conn, unsigned subs);
hub_err_t hub_device_unsubscribe(hub_t *hub, hub_conn_t conn, unsigned subs);
bool hub_device_is_connected(const hub_t *hub, hub_conn_t conn);

/* Answer a method request.  A late response (after the 504) is dropped and
 * counted; an unknown rid is ignored and counted; both return HUB_EOK (the
 * hub does not answer the device).  A payload that is not JSON or exceeds
 * the payload limit is refused with the configured status
 * (ARGUMENT_INVALID or MESSAGE_TOO_LARGE) and the call keeps waiting. */
hub_err_t hub_device_method_respond(hub_t *hub, hub_conn_t conn, const char *rid, int status,
                                    const char *payload, size_t payload_len);

/* Device-to-cloud.  The message is borrowed and modified in place: the hub
 * removes device-set stamped properties and stamps its own
 * (connectionDeviceId, connectionModuleId, connectionDeviceGenerationId,
 * connectionAuthMethod, enqueuedTime).  MESSAGE_TOO_LARGE (size rule > the
 * 256 KB knob), ARGUMENT_INVALID (MessageId; property characters over HTTPS),
 * THROTTLED, QUOTA_EXCEEDED. */
hub_err_t hub_device_send_d2c(hub_t *hub, hub_conn_t conn, hub_msg_t *msg);
/* Performance hint, no effect on behaviour: start loading what a call for
 * this connection will touch (its slot, identity record and id), so a
 * caller can overlap those memory misses with building the message.  Any
 * handle is accepted (a stale one is ignored). */
void hub_prefetch_conn(hub_t *hub, hub_conn_t conn);
/* The first stage of the same hint: start loading only the connection's
 * slot (no memory is read), for a pipeline that follows it up later with
 * hub_prefetch_conn. */
void hub_prefetch_conn_slot(const hub_t *hub, hub_conn_t conn);

/* C2D, device side: lock the oldest visible message (MESSAGE_NOT_FOUND when
 * none), then settle it by lock token. */
hub_err_t hub_device_c2d_receive(hub_t *hub, hub_conn_t conn, hub_c2d_delivery_t *out);
hub_err_t hub_device_c2d_complete(hub_t *hub, hub_conn_t conn, const char *lock_token);
hub_err_t hub_device_c2d_reject(hub_t *hub, hub_conn_t conn, const char *lock_token);
hub_err_t hub_device_c2d_abandon(hub_t *hub, hub_conn_t conn, const char *lock_token);

/* Twin, device side.  get: new reference {"desired":..,"reported":..}.
 * patch_reported: merge patch; version_out = new reported $version. */
hub_err_t hub_device_twin_get(hub_t *hub, hub_conn_t conn, json_t **out);
hub_err_t hub_device_twin_patch_reported(hub_t *hub, hub_conn_t conn, const char *patch_json,
                                         size_t len, uint64_t *version_out);

/* ---- service side: direct methods ----------------------------------------- */

typedef struct {
    int http_status;          /* 200, 404, 504, (400/429 only synchronously) */
    hub_err_t error;          /* HUB_EOK on 200 */
    int device_status;        /* the device's status (200 only) */
    const char *payload;      /* the device's JSON (200 only), borrowed; else NULL */
    size_t payload_len;
    uint64_t call_id;         /* what invoke returned */
} hub_method_result_t;

typedef void (*hub_method_cb)(void *ctx, const hub_method_result_t *result);

typedef struct {
    const char *device_id;
    const char *module_id;            /* NULL or "" = device method */
    const char *method_name;
    const char *payload;              /* JSON text; NULL = null */
    size_t payload_len;
    bool has_response_timeout;        /* false = default (30 s) */
    int64_t response_timeout_s;       /* 5..300 */
    bool has_connect_timeout;         /* false = default (0 s) */
    int64_t connect_timeout_s;        /* 0..300 */
} hub_method_call_t;

/* Returns HUB_EOK when the call is in progress: cb is called exactly once,
 * later or (if the device answers from inside its sink) before this returns.
 * Any other return is the synchronous answer and cb is never called:
 * ARGUMENT_INVALID (name, timeouts, payload not JSON or > 128 KB),
 * ARGUMENT_NULL, DEVICE_NOT_FOUND / MODULE_NOT_FOUND, DEVICE_NOT_ONLINE
 * (offline with connectTimeout 0), THROTTLED.  call_id may be NULL. */
hub_err_t hub_method_invoke(hub_t *hub, const hub_method_call_t *call, hub_method_cb cb,
                            void *cb_ctx, uint64_t *call_id);
/* The REST form: body is the JSON request body
 * {"methodName":..,"payload":..,"responseTimeoutInSeconds":..,"connectTimeoutInSeconds":..};
 * wrong JSON types (a string timeout, a numeric methodName, a fraction)
 * → ARGUMENT_INVALID. */
hub_err_t hub_method_invoke_json(hub_t *hub, const char *device_id, const char *module_id,
                                 const char *body, size_t body_len, hub_method_cb cb, void *cb_ctx,
                                 uint64_t *call_id);
/* Calls in progress. */
size_t hub_method_pending(const hub_t *hub);

/* ---- service side: C2D and twins ------------------------------------------ */

/* Enqueue for a device (the msg is owned by the hub on HUB_EOK, by the
 * caller otherwise).  ttl 0 = default.  DEVICE_NOT_FOUND, QUEUE_DEPTH_EXCEEDED,
 * MESSAGE_TOO_LARGE (> 64 KB), ARGUMENT_INVALID, THROTTLED. */
hub_err_t hub_c2d_send(hub_t *hub, const char *device_id, hub_msg_t *msg, sim_time_t ttl,
                       uint64_t *seq_out);
hub_err_t hub_c2d_purge_device(hub_t *hub, const char *device_id, size_t *n_out);
/* Where feedback batches go (NULL = counted and dropped). */
void hub_set_feedback_sink(hub_t *hub, void (*fn)(void *ctx, const hub_c2d_fb_batch_t *b),
                           void *ctx);
hub_c2d_t *hub_c2d_store(hub_t *hub);

/* Service twin GET (new reference), PATCH (JSON text), PUT. */
hub_err_t hub_twin_get(hub_t *hub, const char *device_id, const char *module_id, json_t **out);
hub_err_t hub_twin_patch(hub_t *hub, const char *device_id, const char *module_id,
                         const char *patch_json, size_t len, const char *if_match,
                         char *etag_out /* HUB_ETAG_CAP, may be NULL */);
hub_err_t hub_twin_put(hub_t *hub, const char *device_id, const char *module_id,
                       const char *doc_json, size_t len, const char *if_match, char *etag_out);

/* ---- endpoints (routing output) ------------------------------------------- */

/* Where accepted D2C messages go after routing: endpoint name ("events" for
 * the built-in endpoint) and the stamped message, borrowed for the call. */
typedef struct {
    void (*deliver)(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t device_no);
} hub_endpoint_ops_t;

void hub_set_endpoint_sink(hub_t *hub, const hub_endpoint_ops_t *ops, void *ctx);

/* ---- run-time switches (the scenario fault timeline) ---------------------- */

/* Switch the throttling profile from now on (HUB_THROTTLE_OFF or _S1 with
 * `units`, 1-200); the buckets start full.  HS_EINVAL for bad values. */
hs_err_t hub_set_throttling(hub_t *hub, hub_config_throttle_profile_t profile, uint32_t units);
/* A dispatch delay between the hub's decision to deliver a method request
 * (when the response deadline starts) and the request reaching the device;
 * 0 (default) = none.  Calls whose deadline passes first end 504. */
hs_err_t hub_set_method_delay(hub_t *hub, sim_time_t delay);
/* Mark a routing endpoint ("events" or a configured one, case-insensitive)
 * unreachable or reachable again.  A D2C message whose selected endpoints
 * are all unreachable is counted d2c.dropped_endpoint.  HS_ENOTFOUND for an
 * unknown name. */
hs_err_t hub_set_endpoint_reachable(hub_t *hub, const char *endpoint, bool reachable);
/* Close an identity's connection from the hub side (its sink hears
 * `disconnected` with `reason`); HUB_EOK also when it was not connected.
 * DEVICE_NOT_FOUND / MODULE_NOT_FOUND for unknown identities. */
hub_err_t hub_device_drop(hub_t *hub, const char *device_id, const char *module_id,
                          const char *reason);

/* ---- bookkeeping ------------------------------------------------------------ */

/* Counters by index, for writers that want every one: NULL past the end. */
const char *hub_counter_name(size_t i);
uint64_t hub_counter_value(const hub_t *hub, size_t i);

/* Read one counter by name ("d2c.accepted", see ledger.h); 0 for unknown. */
uint64_t hub_counter(const hub_t *hub, const char *name);
/* Conservation check over D2C, C2D and method calls: HS_EOK, or HS_ESTATE
 * with the discrepancy in why.  Run at the end of every simulation. */
hs_err_t hub_check(const hub_t *hub, char *why, size_t cap);
/* Write every counter as "name value" lines (stable order). */
void hub_counters_write(const hub_t *hub, FILE *f);
/* Bytes held by the hub's registry (records, index, string arena) and
 * connection tables, for the bytes-per-idle-device figure. */
size_t hub_registry_bytes(const hub_t *hub);

/* ---- HTTPS device requests and registry walk (sim/hub/device_authorize.c,
 * sim/hub/identity_list.c; added for serve/http) ----------------------------- */

/* One HTTPS request of a device: authenticate it by the rules and auth.*
 * counters of hub_device_connect (not its connect throttle) and lend it a
 * handle for hub_device_send_d2c / hub_device_c2d_*.  The handle is not the
 * identity's live connection: an MQTT/AMQP connection of the same identity
 * stays up, the identity does not become online for methods, no
 * connection-state event is routed and conn.* counters do not move.
 * Same errors as hub_device_connect except THROTTLED.  End it with
 * hub_device_request_end before control returns to the kernel. */
hub_err_t hub_device_request_begin(hub_t *hub, const hub_connect_params_t *p, hub_conn_t *out);
void hub_device_request_end(hub_t *hub, hub_conn_t conn);

/* Live identities (devices and modules) in registration order: start with
 * *cursor = 0; false at the end. */
bool hub_identity_next(hub_t *hub, uint32_t *cursor, hub_identity_t *out);

/* ---- file uploads (sim/hub/uploads.c; docs/file-uploads.md) ---------------- */

#define HUB_UPLOAD_CONTAINER "hubsim-files" /* the container name handed to devices [our choice] */
#define HUB_UPLOAD_ID_CAP 40                /* correlation id text */
#define HUB_UPLOAD_BLOB_CAP 1024            /* "{deviceId}/{blobName}" */
#define HUB_UPLOAD_SAS_CAP 160

/* What POST /devices/{id}/files answers. */
typedef struct {
    char correlation_id[HUB_UPLOAD_ID_CAP];
    char blob_name[HUB_UPLOAD_BLOB_CAP];  /* "{deviceId}/{requested name}" [doc] */
    char sas_token[HUB_UPLOAD_SAS_CAP];   /* "?sv=..&sr=b&sig=..&se=..&sp=rw", appended to the blob URI */
    sim_time_t expires_at;                /* kernel time the SAS (and the upload) expires */
} hub_upload_t;

/* A file notification for the service (when fileUpload.notifications). */
typedef struct {
    const char *device_id;
    const char *blob_uri;        /* "https://{host}/{container}/{blobName}" */
    const char *blob_name;
    const char *json;            /* the notification body (docs/file-uploads.md) */
    size_t json_len;
    uint64_t blob_size;
    int64_t last_updated_unix_ms;
    int64_t enqueued_unix_ms;
    sim_time_t ttl;              /* fileUpload.notificationTtl */
    uint32_t max_delivery_count; /* fileUpload.notificationMaxDeliveryCount */
} hub_file_notification_t;

typedef struct {
    uint64_t started, completed_ok, completed_failed, refused_limit, unknown_correlation,
        expired, notified, notifications_dropped, blob_writes, blob_refused;
    uint32_t active; /* started, not notified, SAS not expired (as of the last sweep) */
} hub_upload_stats_t;

/* Start an upload for device_id (the caller authenticated the device):
 * DEVICE_NOT_FOUND, ARGUMENT_INVALID (empty or too long blob name),
 * FILE_UPLOAD_LIMIT (403006: fileUpload.maxConcurrentPerDevice active uploads
 * whose SAS has not expired and that have no notification yet). */
hub_err_t hub_upload_start(hub_t *hub, const char *device_id, const char *blob_name,
                           hub_upload_t *out);
/* The device's completion notification.  ARGUMENT_INVALID for an unknown,
 * expired or already notified correlation id or one of another device [?].  A success queues a
 * file notification when fileUpload.notifications is on. */
hub_err_t hub_upload_complete(hub_t *hub, const char *device_id, const char *correlation_id,
                              bool is_success, int status_code, const char *status_description);
/* The blob endpoint asks before a write/read of blob_name (decoded, without
 * the container) with the request's `sig` parameter: HUB_EOK when an active
 * upload of that blob has this signature and its SAS has not expired, else
 * UNAUTHORIZED_ACCESS. */
hub_err_t hub_upload_blob_authorize(hub_t *hub, const char *blob_name, const char *sig);
/* The blob endpoint committed blob_name with `size` bytes (recorded for the
 * notification's blobSizeInBytes and lastUpdatedTime). */
void hub_upload_blob_written(hub_t *hub, const char *blob_name, uint64_t size);
void hub_set_file_notification_sink(hub_t *hub,
                                    void (*fn)(void *ctx, const hub_file_notification_t *n),
                                    void *ctx);
void hub_upload_stats(const hub_t *hub, hub_upload_stats_t *out);


/* ---- field gateways (sim/hub/gateways.c; docs/gateways.md) ---------------- */

/* A leaf device's sub-connection over its gateway's connection.  gateway
 * is a live connection of an IoT Edge device (capabilities.iotEdge) or of
 * one of its modules (edgeHub is the module $edgeHub).  leaf names the
 * leaf identity (a device, or a module of a device) whose device's scope
 * (parent) must name the gateway device.  leaf->sas_token is either the
 * leaf's own token (sr = the leaf) or the gateway's token (sr = the
 * gateway, "on behalf of"); gateways.leafAuth says which are accepted.
 * leaf->protocol is ignored (the gateway's connection's protocol is used).
 *
 * The sub-connection is the leaf's live connection: methods, C2D, twins
 * and D2C work on it as on any connection (a second connection for the
 * leaf drops it as usual).  When the gateway's connection goes away (it
 * disconnects, is dropped, replaced, disabled, deleted), every leaf on it
 * is dropped first with GATEWAY_OFFLINE reasons: the leaves are offline.
 *
 * UNAUTHORIZED_ACCESS (401002) with a counted reason: stale gateway handle
 * (gateway.refused_gateway_gone), gateway not an IoT Edge device
 * (gateway.refused_not_edge), leaf's scope does not name this gateway
 * (gateway.refused_scope), a token kind the knob forbids
 * (gateway.refused_auth_mode), and the usual auth.* reasons (unknown leaf,
 * disabled, bad/expired token).  ARGUMENT_NULL. */
hub_err_t hub_gateway_leaf_connect(hub_t *hub, hub_conn_t gateway, const hub_connect_params_t *leaf,
                                   const hub_sink_ops_t *ops, void *sink_ctx, hub_conn_t *out);
/* The gateway connection carrying conn when it is a leaf sub-connection, else 0. */
hub_conn_t hub_gateway_of(const hub_t *hub, hub_conn_t conn);
/* Live leaf sub-connections on a gateway connection. */
size_t hub_gateway_leaf_count(const hub_t *hub, hub_conn_t gateway);
/* The rec of the device whose deviceScope text is `scope`
 * ("ms-azure-iot-edge://{id}-{generationId}"): fills device_id (cap
 * HUB_CONFIG_ID_MAX + 1).  DEVICE_NOT_FOUND when no live IoT Edge device
 * has that scope, ARGUMENT_INVALID when it does not parse. */
hub_err_t hub_gateway_scope_device(hub_t *hub, const char *scope, char *device_id, size_t cap);

/* ---- identity import/export (sim/hub/identity_io.c;
 * docs/identity-import-export.md) ------------------------------------------- */

#define HUB_IO_JOB_ID_CAP 40

/* Create and run an import or export job from the POST /jobs/create body:
 * {"type": "export"|"exportDevices"|"import"|"importDevices",
 *  "outputBlobContainerUri": .., "inputBlobContainerUri": (import) ..,
 *  "excludeKeysInExport": bool, "inputBlobName"/"outputBlobName"?}.
 * A container URI is "file:///abs/dir" or any URI whose last path segment
 * names a folder under jobs.importExportDir.  The job runs at once (in the
 * calling instant); doc_out gets the job document (new reference) with
 * status "completed" or "failed" and failureReason.  ARGUMENT_INVALID
 * (why says what) for a body that is not a job request: the job is then not
 * created. */
hub_err_t hub_io_job_create(hub_t *hub, const json_t *body, json_t **doc_out, char *why, size_t cap);
/* The job document (new reference); false when no such job. */
bool hub_io_job_get(hub_t *hub, const char *job_id, json_t **doc_out);
/* Job documents in creation order (new array). */
json_t *hub_io_job_list(hub_t *hub);

/* The two operations under the jobs, on a local folder.  Export writes
 * {dir}/{blob} (blob NULL = "devices.txt"): one JSON line per identity in
 * registration order.  Import reads {dir}/{blob} and applies it all or
 * nothing (every line is checked first); per-device errors (create of an
 * existing id, update of a missing one, etag mismatch) are written to
 * {out_dir}/importErrors.log and counted, the rest applies.  why gets the
 * failure reason ("devices.txt line 3: ...").  HS_EIO (folder or file),
 * HS_EPARSE (malformed line), HS_EINVAL (duplicate id, bad field),
 * HS_ENOMEM. */
hs_err_t hub_identity_export(hub_t *hub, const char *dir, const char *blob, bool exclude_keys,
                             size_t *n_out, char *why, size_t cap);
hs_err_t hub_identity_import(hub_t *hub, const char *dir, const char *blob, const char *out_dir,
                             size_t *n_applied, size_t *n_errors, char *why, size_t cap);

#endif
