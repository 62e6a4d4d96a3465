/* Hub configuration: identity, policies, quotas, throttling, every NOTES.md knob, pre-provisioned devices. */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

/*
 * A hub_config_t is a plain value record, deliberately not opaque: the hub
 * model reads dozens of knobs and a getter per knob would add nothing.  It
 * carries no invariants beyond "validated by the loader"; code that fills
 * one by hand starts from hub_config_defaults().
 *
 * Every fact that NOTES.md marks [?] is a knob here with the default NOTES.md
 * gives; the comment after each field names the fact and its mark.  Limits
 * that NOTES.md or the spec documents state as [doc] are knobs too, so that
 * the harness can model another hub, but their defaults are the documented
 * values.  Sizes are bytes, durations are sim_time_t (ns), rates are in
 * thousandths of an operation per second ("milli") so that 1.67/s is exact.
 *
 * Ownership: strings are fixed arrays (defaults never allocate); `devices`
 * (and each device's `modules`) are malloc'd and `routing` holds one jansson
 * reference.  hub_config_free() releases them and leaves the defaults behind;
 * it is safe on a defaults-only config and may be called twice.
 *
 * File format: docs/hub-config.md; JSON Schema: sim/hub/hub.schema.json.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sim/errors.h"
#include "sim/simtime.h"
#include "sim/hub/json_locate.h"

/* Array bounds (each + 1 for the NUL). */
#define HUB_CONFIG_NAME_MAX        50   /* hub names: 3-50 chars [doc] */
#define HUB_CONFIG_HOST_MAX        253  /* DNS name */
#define HUB_CONFIG_POLICY_NAME_MAX 64
#define HUB_CONFIG_KEY_MAX         128  /* base64 text; decodes to 16-64 bytes */
#define HUB_CONFIG_THUMBPRINT_MAX  64   /* hex SHA-1 (40) or SHA-256 (64) */
#define HUB_CONFIG_ID_MAX          128  /* device / module id: <= 128 chars [doc] */
#define HUB_CONFIG_SCOPE_MAX       256  /* deviceScope text */
#define HUB_CONFIG_MAX_POLICIES    16   /* shared access policies per hub [doc] */

/* Shared access policy rights (bit set). */
enum {
    HUB_RIGHT_REGISTRY_READ   = 1u << 0,
    HUB_RIGHT_REGISTRY_WRITE  = 1u << 1,
    HUB_RIGHT_SERVICE_CONNECT = 1u << 2,
    HUB_RIGHT_DEVICE_CONNECT  = 1u << 3,
    HUB_RIGHT_ALL             = 0xFu
};

typedef struct {
    char name[HUB_CONFIG_POLICY_NAME_MAX + 1];     /* skn, e.g. "iothubowner" */
    char primary_key[HUB_CONFIG_KEY_MAX + 1];      /* base64 */
    char secondary_key[HUB_CONFIG_KEY_MAX + 1];    /* base64, "" = none */
    unsigned rights;                               /* HUB_RIGHT_* */
} hub_config_policy_t;

typedef enum {
    HUB_THROTTLE_OFF = 0, /* default: functional tests are never throttled */
    HUB_THROTTLE_S1       /* standard tier S1 figures x units */
} hub_config_throttle_profile_t;

/* Resolved per-operation rates; 0 means unlimited.  With profile s1 the
 * loader fills them from NOTES.md ("Throttling and quotas" [doc]) times
 * `units` unless the file overrides a rate. */
typedef struct {
    hub_config_throttle_profile_t profile;
    uint32_t units;                         /* 1 (1-200) */
    uint64_t d2c_milli_per_sec;             /* s1: 100/s/unit, at least 12,000/min per hub = 200/s */
    uint64_t c2d_milli_per_sec;             /* s1: 1.67/s/unit */
    uint64_t twin_read_milli_per_sec;       /* s1: 10/s/unit */
    uint64_t twin_update_milli_per_sec;     /* s1: 10/s/unit */
    uint64_t connect_milli_per_sec;         /* s1: 100/s/unit (device connections) */
    uint64_t method_bytes_per_sec;          /* s1: 160 KB/s/unit (KB = methods.kb_size) */
    sim_time_t window;                      /* token-bucket depth = rate x window; 1 s (our choice; not in NOTES) */
} hub_config_throttling_t;

typedef struct {
    uint64_t daily_messages;   /* 0 = unlimited (default); over it: 403002 [doc] */
    uint64_t message_chunk;    /* a message counts ceil(size/chunk) against the quota; 4096 [doc, S1 4 KB blocks] */
} hub_config_quotas_t;

typedef enum { HUB_LATE_RESPONSE_DROP = 0, HUB_LATE_RESPONSE_CLOSE } hub_config_late_response_t;
typedef enum { HUB_UNKNOWN_RID_IGNORE = 0, HUB_UNKNOWN_RID_CLOSE } hub_config_unknown_rid_t;

typedef struct {
    uint32_t kb_size;                       /* bytes in the spec's "KB": 1024 [?] (1000 or 1024) */
    uint64_t max_payload_bytes;             /* request and response payload: 128 KB = 128 x kb_size [doc; 400 on excess ?] */
    uint32_t name_max_length;               /* method name cap: 100 chars [? edgeHub] */
    int oversized_response_status;          /* device response > max payload: 400 [?] (400 or 413) */
    hub_config_late_response_t late_response; /* response after 504: drop and count [?] */
    hub_config_unknown_rid_t unknown_rid;     /* response with unknown $rid: ignore and count [?] */
    sim_time_t response_timeout_default;    /* 30 s [doc] */
    sim_time_t response_timeout_min;        /* 5 s [doc] */
    sim_time_t response_timeout_max;        /* 300 s [doc] */
    sim_time_t connect_timeout_default;     /* 0 s [doc] */
    sim_time_t connect_timeout_max;         /* 300 s [doc] */
} hub_config_methods_t;

typedef struct {
    uint64_t d2c_max_bytes;                 /* 256 KB = 262144 [doc] */
    uint64_t c2d_max_bytes;                 /* 64 KB = 65536 [doc] */
    uint32_t message_id_max_length;         /* 128 chars [doc] */
} hub_config_messages_t;

typedef struct {
    uint32_t max_queue_depth;               /* 50 per device; beyond: 403004 [doc] */
    sim_time_t ttl_default;                 /* 1 h [doc] */
    sim_time_t ttl_max;                     /* 48 h [doc] */
    sim_time_t lock_timeout;                /* 1 min [doc] */
    uint32_t max_delivery_count;            /* 10 [doc]; allowed 1-100 */
    uint32_t feedback_batch_records;        /* 64 records [?] */
    sim_time_t feedback_flush_interval;     /* 15 s [?] */
} hub_config_c2d_t;

typedef struct {
    uint64_t tags_max_bytes;                /* 8 KB = 8192 [doc] */
    uint64_t desired_max_bytes;             /* 32 KB = 32768 [doc] */
    uint64_t reported_max_bytes;            /* 32 KB = 32768 [doc] */
    uint32_t max_depth;                     /* 10 [doc] (5 in older API versions) */
    uint32_t key_max_bytes;                 /* 1 KB = 1024 [doc] */
    uint32_t string_value_max_bytes;        /* 4 KB = 4096 [doc] */
} hub_config_twins_t;

typedef enum { HUB_UNKNOWN_TOPIC_CLOSE = 0, HUB_UNKNOWN_TOPIC_IGNORE } hub_config_unknown_topic_t;

typedef struct {
    hub_config_unknown_topic_t unknown_topic; /* unknown or forbidden topic: close [?] */
    sim_time_t keep_alive_max;              /* 1767 s [doc] */
    uint32_t keep_alive_grace_permille;     /* hub pings out after 1.5 x keep-alive = 1500 [doc] */
} hub_config_mqtt_t;

typedef struct {
    bool allow_no_sasl;                     /* TLS then AMQP with no SASL layer (Node SDKs): true [sdk] */
    bool allow_sasl_anonymous;              /* SASL ANONYMOUS then CBS: true [sdk] */
    bool allow_sasl_plain;                  /* SASL PLAIN, token as password: true [?] */
} hub_config_amqp_t;

typedef enum { HUB_DOLLAR_NAME_SYSTEM_FIRST = 0, HUB_DOLLAR_NAME_APP_FIRST } hub_config_dollar_name_t;

typedef struct {
    hub_config_dollar_name_t bare_dollar_name; /* bare `$name`: system property first [doc]; edgeHub app-first [?] */
    bool type_functions;                    /* IS_ARRAY / IS_OBJECT / IS_PRIMITIVE available: true [?] */
} hub_config_route_query_t;

/* File uploads (docs/file-uploads.md). */
typedef struct {
    bool notifications;                     /* file upload notifications for the service: false [doc] */
    sim_time_t sas_ttl;                     /* SAS URI lifetime: 1 h [doc]; 1 min-24 h [doc] */
    uint32_t max_concurrent_per_device;     /* active uploads per device: 10 [doc]; beyond: 403006 [doc] */
    sim_time_t notification_ttl;            /* notification TTL: 1 h [doc]; 1 min-48 h [doc] */
    uint32_t notification_max_delivery_count; /* 10 [doc]; 1-100 [doc] */
    sim_time_t notification_lock_duration;  /* 1 min [doc]; 5-300 s [doc] */
} hub_config_file_upload_t;

/* Field gateways (docs/gateways.md). */
typedef enum {
    HUB_LEAF_AUTH_EITHER = 0,   /* the leaf's own token or the gateway's [?] */
    HUB_LEAF_AUTH_LEAF_TOKEN,   /* each leaf puts its own token [sdk: per-device CBS] */
    HUB_LEAF_AUTH_GATEWAY_TOKEN /* the gateway's token on behalf of the leaf [edge] */
} hub_config_leaf_auth_t;

typedef struct {
    hub_config_leaf_auth_t leaf_auth;       /* which token a leaf sub-connection takes: either [?] */
} hub_config_gateways_t;

#define HUB_CONFIG_PATH_MAX 1024

/* Identity import/export jobs (docs/identity-import-export.md). */
typedef struct {
    char import_export_dir[HUB_CONFIG_PATH_MAX + 1]; /* folder holding the "blob containers": "" = only file:// URIs [our choice] */
} hub_config_jobs_t;

typedef enum { HUB_AUTH_SAS = 0, HUB_AUTH_X509 } hub_config_auth_kind_t;

typedef struct {
    hub_config_auth_kind_t kind;
    char primary_key[HUB_CONFIG_KEY_MAX + 1];            /* sas: base64, required */
    char secondary_key[HUB_CONFIG_KEY_MAX + 1];          /* sas: "" = none */
    char primary_thumbprint[HUB_CONFIG_THUMBPRINT_MAX + 1];   /* x509: upper-case hex, required */
    char secondary_thumbprint[HUB_CONFIG_THUMBPRINT_MAX + 1]; /* x509: "" = none */
} hub_config_auth_t;

typedef struct {
    char id[HUB_CONFIG_ID_MAX + 1];
    hub_config_auth_t auth;
} hub_config_module_t;

typedef struct {
    char id[HUB_CONFIG_ID_MAX + 1];
    bool enabled;                           /* status "enabled" (default) / "disabled" */
    bool iot_edge;                          /* capabilities.iotEdge, default false */
    hub_config_auth_t auth;
    char parent_id[HUB_CONFIG_ID_MAX + 1];  /* "" = none; else a device listed in the same file */
    char device_scope[HUB_CONFIG_SCOPE_MAX + 1]; /* "" = none */
    hub_config_module_t *modules;           /* owned, n_modules entries, file order */
    size_t n_modules;
} hub_config_device_t;

typedef struct {
    char name[HUB_CONFIG_NAME_MAX + 1];     /* "hubsim" */
    char host[HUB_CONFIG_HOST_MAX + 1];     /* "{name}.azure-devices.net" unless hostName is given */
    hub_config_policy_t policies[HUB_CONFIG_MAX_POLICIES]; /* default: iothubowner, all rights */
    size_t n_policies;
    hub_config_quotas_t quotas;
    hub_config_throttling_t throttling;
    bool deadline_wins;                     /* device event and deadline at the same instant: deadline wins [issue 4 knob] */
    hub_config_methods_t methods;
    hub_config_messages_t messages;
    hub_config_c2d_t c2d;
    hub_config_twins_t twins;
    hub_config_mqtt_t mqtt;
    hub_config_amqp_t amqp;
    hub_config_route_query_t route_query;
    hub_config_file_upload_t file_upload;
    hub_config_gateways_t gateways;
    hub_config_jobs_t jobs;
    hub_config_device_t *devices;           /* owned, n_devices entries, file order */
    size_t n_devices;
    json_t *routing;                        /* the file's "routing" object (one reference owned), NULL when absent;
                                               its inner shape belongs to the routing engine */
} hub_config_t;

/* Fill every field with its default (the values in the comments above).
 * Never allocates, so it cannot fail; does not free what was there. */
void hub_config_defaults(hub_config_t *cfg);

/* Release devices, modules and the routing reference; cfg is left at defaults. */
void hub_config_free(hub_config_t *cfg);

/* Deep copy (dst is overwritten, not freed first; free it yourself if it held data). */
hs_err_t hub_config_copy(hub_config_t *dst, const hub_config_t *src);

/* Load a hub config file.  cfg need not be initialised: loading starts from
 * hub_config_defaults(), then applies the file.  Every problem found is
 * appended to `diags` (may be NULL) as "FILE:LINE:COL: $.path: message",
 * sorted by position, not just the first.  Returns HS_EOK, HS_EIO
 * (unreadable file), HS_EPARSE (syntax error, wrong type, unknown or missing
 * key), HS_EINVAL (inconsistent: duplicate ids, unknown parent, ...),
 * HS_ERANGE (only out-of-range values), HS_ENOMEM.  On error cfg holds
 * defaults plus whatever was valid; call hub_config_free() in every case. */
hs_err_t hub_config_load_file(const char *path, hub_config_t *cfg, json_diag_list_t *diags);
/* As above from text (len bytes); `name` is used as FILE in messages. */
hs_err_t hub_config_load_json(const char *text, size_t len, const char *name,
                              hub_config_t *cfg, json_diag_list_t *diags);

/* As above for a value already parsed, e.g. the inline "hub" object of a
 * scenario file: `loc` indexes the whole file (may be NULL: no positions),
 * `base_path` is the value's JSON path in it ("$.hub"; NULL = "$"), and
 * messages name `file`.  The value is not kept (routing takes its own
 * reference). */
hs_err_t hub_config_load_value(const json_t *value, const json_locate_t *loc, const char *file,
                               const char *base_path, hub_config_t *cfg, json_diag_list_t *diags);

/* Lookups (linear; the config is small and the hub builds its own index). */
const hub_config_device_t *hub_config_find_device(const hub_config_t *cfg, const char *device_id);
const hub_config_policy_t *hub_config_find_policy(const hub_config_t *cfg, const char *name);

/* Call fn once for the JSON path of every key the loader accepts, in table
 * order, with "[]" standing for "any array element": "$.c2d.ttlDefault",
 * "$.devices[].modules[].id", "$.routing" (its inside is not the loader's).
 * Generated from the same tables the loader validates with, so a test can
 * compare it with hub.schema.json and the two cannot drift. */
void hub_config_for_each_key(void (*fn)(void *ctx, const char *path), void *ctx);

#endif
