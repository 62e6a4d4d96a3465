/* The scenario data model: fleet groups, behaviours, service actors, fault timeline, expectations. */
#ifndef FLEET_SCENARIO_H
#define FLEET_SCENARIO_H

/*
 * A scenario_t is what a scenario file means, fully validated: the fleet
 * engine (sim/fleet/fleet.c) trusts every value in it.  It is a plain value
 * record like hub_config_t.  All strings and arrays are malloc'd and owned
 * by the scenario; scenario_free() releases everything.
 *
 * Times are sim_time_t (ns of virtual time since `start`), probabilities are
 * doubles in [0, 1], sizes are bytes.  Arrays keep file order, which is the
 * order the engine walks them in (determinism).
 *
 * File format: scenarios/README.md; JSON Schema: scenarios/schema.json.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "sim/simtime.h"
#include "sim/hub/hub_config.h"
#include "sim/hub/json_locate.h"

/* A distribution of durations (or, for sizes/counts, of plain numbers:
 * the same record with values in bytes or units instead of ns).
 *   {"fixed": "5s"} | "5s"                 → FIXED a
 *   {"uniform": ["1s", "3s"]}              → UNIFORM [a, b]
 *   {"exponential": "30s"}                 → EXPONENTIAL, mean a
 *   {"normal": ["200ms", "50ms"]}          → NORMAL mean a, stddev b (clamped at 0)
 *   {"lognormal": ["200ms", 0.5]}          → LOGNORMAL median a, sigma
 */
typedef enum {
    SCN_DIST_FIXED = 0,
    SCN_DIST_UNIFORM,
    SCN_DIST_EXPONENTIAL,
    SCN_DIST_NORMAL,
    SCN_DIST_LOGNORMAL,
} scn_dist_kind_t;

typedef struct {
    scn_dist_kind_t kind;
    uint64_t a;
    uint64_t b;
    double sigma;
} scn_dist_t;

/* A name/value pair; the value may hold generator placeholders expanded per
 * message: {device} {seq} {rand:N} (N random hex chars) {time} (UTC). */
typedef struct {
    char *name;
    char *value;
} scn_kv_t;

/* ---- device behaviours ----------------------------------------------------- */

typedef struct {
    bool enabled;
    scn_dist_t interval;           /* gap between sends */
    uint64_t *schedule;            /* optional explicit send times (sorted) instead of interval */
    size_t nschedule;
    uint64_t payload_size;         /* bytes of body (template padded/truncated to it); 0 = template as is */
    char *payload_template;        /* JSON text with placeholders; NULL = generated JSON */
    char *content_type;            /* NULL = none */
    char *content_encoding;        /* NULL = none */
    char *message_id;              /* template, NULL = "{device}-{seq}" */
    scn_kv_t *app_props;           /* application properties (templates) */
    size_t napp_props;
    scn_kv_t *sys_props;           /* other system properties by query name (correlationId, userId...) */
    size_t nsys_props;
    double burst_probability;      /* per send: send a burst instead of one message */
    scn_dist_t burst_size;         /* messages in a burst (numbers, not ns) */
    scn_dist_t burst_gap;          /* gap between burst messages */
} scn_telemetry_t;

typedef struct {
    uint64_t start;
    uint64_t end;
} scn_window_t;

typedef struct {
    scn_window_t *offline;         /* scheduled offline windows */
    size_t noffline;
    bool outages;                  /* random outages on */
    scn_dist_t time_between_failures;
    scn_dist_t time_to_repair;
    sim_time_t backoff_initial;    /* reconnect backoff: initial delay */
    sim_time_t backoff_max;
    double backoff_multiplier;     /* >= 1 */
    double backoff_jitter;         /* 0..1: fraction of the delay randomised */
    uint64_t *storms;              /* instants at which the whole group drops and reconnects at once */
    size_t nstorms;
    sim_time_t connect_at;         /* first connect: at this time + uniform(0, connect_spread) */
    sim_time_t connect_spread;
} scn_connectivity_t;

typedef struct {
    char *method;                  /* method name this handler answers */
    bool subscribed;               /* false: the device never subscribes to methods */
    scn_dist_t latency;            /* time to answer */
    int status;                    /* status the device returns */
    uint64_t response_size;        /* bytes of JSON payload in the response */
    double p_no_answer;            /* probability the device never answers */
} scn_method_handler_t;

typedef struct {
    bool report_on_desired;        /* patch reported after a desired update */
    scn_dist_t report_delay;
    bool periodic;                 /* periodic reported updates */
    scn_dist_t periodic_interval;
    uint64_t reported_size;        /* bytes of reported patch */
} scn_twin_behaviour_t;

typedef struct {
    bool subscribed;               /* listens for C2D at all */
    double p_complete;             /* the four sum to 1 (validated) */
    double p_reject;
    double p_abandon;
    double p_ignore;               /* lock expires, message reappears */
    scn_dist_t processing_delay;
} scn_c2d_behaviour_t;

typedef struct {
    double p_oversized;            /* per telemetry send: body grows to oversized_size */
    uint64_t oversized_size;       /* default 256 KB + 1 */
    double p_bad_property;         /* per send: a property with a forbidden character */
    double p_spoof;                /* per send: set connectionDeviceId etc. itself */
    double p_bad_sas;              /* per connect: wrong signature */
    double p_expired_sas;          /* per connect: token already expired */
    double p_unknown_rid;          /* per method answer: also answer an unknown rid */
} scn_misbehaviour_t;

/* File uploads (docs/file-uploads.md): start -> SAS -> blob transfer of
 * size / bandwidth in virtual time -> completion notification. */
typedef struct {
    bool enabled;                  /* "uploads" present */
    scn_dist_t interval;           /* gap between uploads */
    scn_dist_t file_size;          /* bytes */
    uint64_t bandwidth;            /* bytes per second of the device's uplink, > 0 */
    double p_failure;              /* the device notifies isSuccess false (statusCode 500) */
    double p_no_notify;            /* the device never notifies (the upload's SAS expires) */
} scn_uploads_t;

typedef enum { SCN_AUTH_SAS = 0, SCN_AUTH_X509 } scn_auth_t;
typedef enum { SCN_PROTO_MQTT = 0, SCN_PROTO_AMQP, SCN_PROTO_HTTPS } scn_protocol_t;

typedef struct {
    char *name;
    uint64_t count;
    char *id_pattern;              /* "{group}-{n:05}" style; {n} is 0-based within the group */
    char **modules;                /* module ids created under each device */
    size_t nmodules;
    scn_auth_t auth;
    scn_protocol_t protocol;
    scn_dist_t link_latency;       /* one-way network latency device <-> hub */
    scn_telemetry_t telemetry;
    scn_connectivity_t connectivity;
    scn_method_handler_t *methods;
    size_t nmethods;
    scn_twin_behaviour_t twin;
    scn_c2d_behaviour_t c2d;
    scn_misbehaviour_t misbehaviour;
    /* Field gateways (docs/gateways.md): a gateway group's devices are IoT
     * Edge devices; a leaf group's device n connects through device
     * n mod count of the gateway group `behind` (its registry parent). */
    scn_uploads_t uploads;
    bool gateway;
    char *behind;                  /* NULL = connects directly */
    size_t behind_index;           /* resolved index of `behind` in scenario_t.groups */
} scn_group_t;

/* ---- service actors ---------------------------------------------------------- */

typedef enum { SCN_PICK_UNIFORM = 0, SCN_PICK_ZIPF, SCN_PICK_EXPLICIT, SCN_PICK_ROUND_ROBIN } scn_pick_kind_t;

typedef struct {
    scn_pick_kind_t kind;
    double zipf_s;                 /* exponent for ZIPF */
    char **ids;                    /* EXPLICIT device ids (may name devices outside any group) */
    size_t nids;
} scn_pick_t;

typedef enum {
    SCN_ACTOR_METHOD_INVOKER = 0,
    SCN_ACTOR_C2D_SENDER,
    SCN_ACTOR_TWIN_UPDATER,
    SCN_ACTOR_REGISTRY,
    SCN_ACTOR_JOB,                 /* a scheduled job (sim/hub/jobs.h) over the devices its query selects */
} scn_actor_kind_t;

typedef enum { SCN_JOB_METHOD = 0, SCN_JOB_TWIN } scn_job_type_t;

typedef enum { SCN_REG_DISABLE = 0, SCN_REG_ENABLE, SCN_REG_DELETE } scn_registry_op_t;

typedef struct {
    char *name;
    scn_actor_kind_t kind;
    char *group;                   /* target group name (validated to exist) */
    size_t group_index;            /* resolved index into scenario_t.groups */
    scn_pick_t pick;
    scn_dist_t interval;           /* time between actions */
    sim_time_t start;              /* active from ... */
    sim_time_t end;                /* ... until (0 = scenario end) */
    /* METHOD_INVOKER */
    char *method;
    uint64_t payload_size;
    bool has_response_timeout;
    int64_t response_timeout_s;    /* as sent: may be deliberately out of range */
    bool has_connect_timeout;
    int64_t connect_timeout_s;
    /* C2D_SENDER */
    char *ack;                     /* none|positive|negative|full */
    sim_time_t ttl;                /* 0 = hub default */
    uint64_t message_size;
    /* TWIN_UPDATER */
    uint64_t patch_size;
    /* REGISTRY: one-shot at `start` */
    scn_registry_op_t op;
    double fraction;               /* of the group's devices, chosen by the actor's stream */
    /* JOB: created at `start`, and again every `interval` when job_repeat.
     * METHOD jobs use method/payload_size/response and connect timeouts,
     * TWIN jobs patch_size. */
    scn_job_type_t job_type;
    char *query_condition;         /* twin query WHERE text (validated) */
    sim_time_t job_start_delay;    /* startTime = creation + this */
    int64_t max_exec_s;            /* maxExecutionTimeInSeconds */
    sim_time_t poll_interval;      /* how often the actor reads the job's status */
    bool job_repeat;               /* "interval" given */
} scn_actor_t;

/* ---- hub-side faults on the timeline ------------------------------------------ */

typedef enum {
    SCN_FAULT_DROP_CONNECTIONS = 0, /* group, fraction */
    SCN_FAULT_THROTTLE,             /* profile s1 (units) between at and at+duration */
    SCN_FAULT_DELAY_METHODS,        /* add `delay` before dispatching method requests */
    SCN_FAULT_ENDPOINT_UNREACHABLE, /* endpoint name */
    SCN_FAULT_BREAK,                /* arm a hub break switch (rule id) at `at` */
} scn_fault_kind_t;

typedef struct {
    scn_fault_kind_t kind;
    sim_time_t at;
    sim_time_t duration;           /* 0 = until the end */
    char *group;
    size_t group_index;
    double fraction;
    uint32_t units;
    sim_time_t delay;
    char *endpoint;
    char *rule;
} scn_fault_t;

/* ---- expectations ---------------------------------------------------------------- */

/* "method.reboot.status[\"504\"] >= 10", "d2c.latency.p99 < \"50ms\"",
 * "conservation == \"ok\"".  Parsed by sim/fleet/expect.h. */
typedef struct {
    char *text;                    /* as written; also the test case name */
    char *name;                    /* optional short name (for `shrink --expect NAME`); NULL = text */
    int line;                      /* position in the file, for messages */
    int column;
} scn_expectation_t;

typedef struct {
    char *path;                    /* the file it came from */
    char *name;
    char *description;
    uint64_t seed;
    int64_t start_unix;            /* virtual epoch; default SIM_DEFAULT_EPOCH_UNIX */
    sim_time_t duration;
    sim_time_t sample_interval;    /* time-series resolution for reports; default duration/120 */
    hub_config_t hub;              /* inline object or loaded from "hub": "path" */
    json_t *hub_json;              /* the inline "hub" object as written (one reference owned), else NULL;
                                      kept so scenario_to_json can write the hub back */
    char *hub_path;                /* "hub": "path": the resolved (absolute when possible) path, else NULL */
    scn_group_t *groups;
    size_t ngroups;
    scn_actor_t *actors;
    size_t nactors;
    scn_fault_t *faults;
    size_t nfaults;
    scn_expectation_t *expectations;
    size_t nexpectations;
} scenario_t;

/* Load and validate a scenario file.  On any error returns HS_EPARSE (or
 * HS_EIO for an unreadable file) and appends EVERY error found to diags
 * (file:line:column, JSON path, expected vs got), leaving *out zeroed.
 * Unknown keys, wrong types, unknown group or method names, negative
 * durations, probabilities outside [0, 1], C2D probabilities not summing to 1
 * are all errors. */
hs_err_t scenario_load_file(const char *path, scenario_t *out, json_diag_list_t *diags);
hs_err_t scenario_load_text(const char *text, size_t len, const char *name, scenario_t *out,
                            json_diag_list_t *diags);
void scenario_free(scenario_t *s);

/* Total devices over all groups. */
uint64_t scenario_device_count(const scenario_t *s);
/* Format device n (0-based within the group) of a group into buf. */
size_t scenario_device_id(const scn_group_t *g, uint64_t n, char *buf, size_t cap);

/* A group's id pattern parsed once, for formatting millions of ids (the
 * fleet formats one per message).  scenario_id_format_init leaves ok false
 * when the group's pattern is bad (then every id is ""). */
typedef struct {
    char prefix[2 * 128 + 1];
    char suffix[2 * 128 + 1];
    int has_n;
    unsigned width;
    bool ok;
} scn_id_format_t;
void scenario_id_format_init(const scn_group_t *g, scn_id_format_t *out);
/* Same text and return value as scenario_device_id for that group. */
size_t scenario_id_format(const scn_id_format_t *f, uint64_t n, char *buf, size_t cap);

/* Serialize back to JSON text (malloc'd), with durations as strings: used by
 * `hubsim shrink` to write a reduced scenario.  The result loads back to an
 * equal scenario. */
char *scenario_to_json(const scenario_t *s);

/* Call fn once for the JSON path of every key the loader accepts, in table
 * order, with "[]" standing for "any array element": "$.duration",
 * "$.groups[].telemetry.interval", "$.hub" (its inside is the hub config's).
 * Generated from the tables the loader checks keys with, so a test can
 * compare it with scenarios/schema.json and the two cannot drift. */
void scenario_for_each_key(void (*fn)(void *ctx, const char *path), void *ctx);

#endif
