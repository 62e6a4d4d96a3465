/* Scenario files: the validating JSON loader with positioned errors, device ids, and serialisation back to JSON. */

/*
 * Model.  The loader walks the jansson tree object by object.  Each object
 * kind has a key table (keyspec_t); keys not in it are errors, and the same
 * tables drive scenario_for_each_key(), which the schema test compares with
 * scenarios/schema.json.  Every getter validates one value, records a
 * diagnostic positioned by json_locate when it is wrong, and keeps going, so
 * a file with five mistakes yields five lines.  Cross-references (actor and
 * fault groups, invoked methods, id-pattern collisions, expectation syntax)
 * are checked once every group is known.
 *
 * An inline "hub" object is validated by the hub config loader itself: it is
 * handed a copy of the file in which everything outside the object is blanked
 * (newlines kept, one space per character), so its diagnostics carry the
 * scenario file's own line:column; only the path needs the "$.hub" prefix.
 */

#include "sim/units.h"
#include "sim/fleet/scenario.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sim/fleet/expect.h"
#include "sim/hub/faults.h"
#include "sim/hub/message.h"
#include "sim/route/twin_query.h"

#define PATH_CAP 1024
#define ID_MAX 128

/* ---- key tables ------------------------------------------------------------- */

typedef struct keyspec keyspec_t;
struct keyspec {
    const char *key;
    const keyspec_t *child; /* object (or array of objects) this key holds; NULL = a value */
    int array;
};

static const keyspec_t window_keys[] = { { "start", NULL, 0 }, { "end", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t outage_keys[] = {
    { "timeBetweenFailures", NULL, 0 }, { "timeToRepair", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t backoff_keys[] = {
    { "initial", NULL, 0 }, { "max", NULL, 0 }, { "multiplier", NULL, 0 }, { "jitter", NULL, 0 },
    { NULL, NULL, 0 } };
static const keyspec_t burst_keys[] = {
    { "probability", NULL, 0 }, { "size", NULL, 0 }, { "gap", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t telemetry_keys[] = {
    { "enabled", NULL, 0 }, { "interval", NULL, 0 }, { "schedule", NULL, 0 },
    { "payloadSize", NULL, 0 }, { "payload", NULL, 0 }, { "contentType", NULL, 0 },
    { "contentEncoding", NULL, 0 }, { "messageId", NULL, 0 }, { "properties", NULL, 0 },
    { "systemProperties", NULL, 0 }, { "burst", burst_keys, 0 }, { NULL, NULL, 0 } };
static const keyspec_t connectivity_keys[] = {
    { "offline", window_keys, 1 }, { "outages", outage_keys, 0 }, { "backoff", backoff_keys, 0 },
    { "storms", NULL, 0 }, { "connectAt", NULL, 0 }, { "connectSpread", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t method_keys[] = {
    { "name", NULL, 0 }, { "subscribed", NULL, 0 }, { "latency", NULL, 0 }, { "status", NULL, 0 },
    { "responseSize", NULL, 0 }, { "noAnswerProbability", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t twin_keys[] = {
    { "reportOnDesired", NULL, 0 }, { "reportDelay", NULL, 0 }, { "periodicInterval", NULL, 0 },
    { "reportedSize", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t c2d_keys[] = {
    { "subscribed", NULL, 0 }, { "complete", NULL, 0 }, { "reject", NULL, 0 }, { "abandon", NULL, 0 },
    { "ignore", NULL, 0 }, { "processingDelay", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t misbehaviour_keys[] = {
    { "oversized", NULL, 0 }, { "oversizedSize", NULL, 0 }, { "badProperty", NULL, 0 },
    { "spoofSystemProperties", NULL, 0 }, { "badSas", NULL, 0 }, { "expiredSas", NULL, 0 },
    { "unknownRid", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t uploads_keys[] = {
    { "interval", NULL, 0 }, { "fileSize", NULL, 0 }, { "bandwidth", NULL, 0 },
    { "failureProbability", NULL, 0 }, { "noNotifyProbability", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t group_keys[] = {
    { "name", NULL, 0 }, { "count", NULL, 0 }, { "idPattern", NULL, 0 }, { "modules", NULL, 0 },
    { "auth", NULL, 0 }, { "protocol", NULL, 0 }, { "linkLatency", NULL, 0 },
    { "telemetry", telemetry_keys, 0 }, { "connectivity", connectivity_keys, 0 },
    { "methods", method_keys, 1 }, { "twin", twin_keys, 0 }, { "c2d", c2d_keys, 0 },
    { "misbehaviour", misbehaviour_keys, 0 }, { "gateway", NULL, 0 }, { "behind", NULL, 0 },
    { "uploads", uploads_keys, 0 }, { NULL, NULL, 0 } };
static const keyspec_t actor_keys[] = {
    { "name", NULL, 0 }, { "kind", NULL, 0 }, { "group", NULL, 0 }, { "pick", NULL, 0 },
    { "interval", NULL, 0 }, { "start", NULL, 0 }, { "end", NULL, 0 }, { "method", NULL, 0 },
    { "payloadSize", NULL, 0 }, { "responseTimeout", NULL, 0 }, { "connectTimeout", NULL, 0 },
    { "ack", NULL, 0 }, { "ttl", NULL, 0 }, { "messageSize", NULL, 0 }, { "patchSize", NULL, 0 },
    { "op", NULL, 0 }, { "fraction", NULL, 0 }, { "jobType", NULL, 0 }, { "queryCondition", NULL, 0 },
    { "startTime", NULL, 0 }, { "maxExecutionTime", NULL, 0 }, { "pollInterval", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t fault_keys[] = {
    { "kind", NULL, 0 }, { "at", NULL, 0 }, { "duration", NULL, 0 }, { "group", NULL, 0 },
    { "fraction", NULL, 0 }, { "units", NULL, 0 }, { "delay", NULL, 0 }, { "endpoint", NULL, 0 },
    { "rule", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t expectation_keys[] = { { "name", NULL, 0 }, { "expect", NULL, 0 }, { NULL, NULL, 0 } };
static const keyspec_t top_keys[] = {
    { "$schema", NULL, 0 }, { "name", NULL, 0 }, { "description", NULL, 0 }, { "seed", NULL, 0 },
    { "start", NULL, 0 }, { "duration", NULL, 0 }, { "sampleInterval", NULL, 0 }, { "hub", NULL, 0 },
    { "groups", group_keys, 1 }, { "actors", actor_keys, 1 }, { "faults", fault_keys, 1 },
    { "expectations", expectation_keys, 1 }, { NULL, NULL, 0 } };

/* Which kind-specific keys an actor / fault kind takes (the common keys are
 * listed in `common`). */
static const char *const actor_kind_names[] = { "methodInvoker", "c2dSender", "twinUpdater", "registry", "job", NULL };
static const char *const actor_common[] = { "name", "kind", "group", "pick", "start", "end", NULL };
static const char *const actor_specific[][12] = {
    { "interval", "method", "payloadSize", "responseTimeout", "connectTimeout", NULL },
    { "interval", "ack", "ttl", "messageSize", NULL },
    { "interval", "patchSize", NULL },
    { "op", "fraction", NULL },
    { "interval", "jobType", "queryCondition", "startTime", "maxExecutionTime", "pollInterval", "method",
      "payloadSize", "responseTimeout", "connectTimeout", "patchSize", NULL },
};
static const char *const job_type_names[] = { "scheduleDeviceMethod", "scheduleUpdateTwin", NULL };
static const char *const fault_kind_names[] = {
    "dropConnections", "throttle", "delayMethods", "endpointUnreachable", "break", NULL };
static const char *const fault_common[] = { "kind", "at", "duration", NULL };
static const char *const fault_specific[][3] = {
    { "group", "fraction", NULL }, { "units", NULL, NULL }, { "delay", NULL, NULL },
    { "endpoint", NULL, NULL }, { "rule", NULL, NULL },
};
static const char *const auth_names[] = { "sas", "x509", NULL };
static const char *const protocol_names[] = { "mqtt", "amqp", "https", NULL };
static const char *const ack_names[] = { "none", "positive", "negative", "full", NULL };
static const char *const op_names[] = { "disable", "enable", "delete", NULL };
static const char *const dist_names[] = { "fixed", "uniform", "exponential", "normal", "lognormal", NULL };

/* ---- loader context ------------------------------------------------------------ */

typedef struct {
    const char *file;
    const char *text;
    size_t len;
    const json_locate_t *loc;
    json_diag_list_t *diags;
    json_diag_list_t *hub_diags; /* errors of a hub config file (another file) */
    int nomem;
} ctx_t;

static void diag(ctx_t *c, int at_key, hs_err_t code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void diag(ctx_t *c, int at_key, hs_err_t code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (json_diag_vadd_at(c->diags, c->loc, at_key, code, c->file, path, fmt, ap) != HS_EOK)
        c->nomem = 1;
    va_end(ap);
}

static void path_join(char *dst, const char *prefix, const char *key)
{
    snprintf(dst, PATH_CAP, "%s", prefix);
    json_path_key(dst, PATH_CAP, key);
}

static void path_index(char *dst, const char *prefix, size_t i)
{
    snprintf(dst, PATH_CAP, "%s", prefix);
    json_path_index(dst, PATH_CAP, i);
}

static char *xstrdup(ctx_t *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        c->nomem = 1;
    return d;
}

static void *xcalloc(ctx_t *c, size_t n, size_t size)
{
    if (n == 0)
        return NULL;
    void *p = calloc(n, size);
    if (!p)
        c->nomem = 1;
    return p;
}

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static int index_of(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return i;
    return -1;
}

static void join_names(const char *const *list, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; list[i]; i++) {
        int n = snprintf(buf + used, cap - used, "%s\"%s\"", i ? (list[i + 1] ? ", " : " or ") : "", list[i]);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

/* Unknown keys of obj (checked against the table), reported at the key. */
static void check_keys(ctx_t *c, const json_t *obj, const char *path, const keyspec_t *keys)
{
    const char *key;
    json_t *v;
    char sub[PATH_CAP];
    json_object_foreach((json_t *)obj, key, v) {
        int ok = 0;
        for (size_t i = 0; keys[i].key; i++)
            if (strcmp(keys[i].key, key) == 0)
                ok = 1;
        if (!ok) {
            path_join(sub, path, key);
            diag(c, 1, HS_EPARSE, sub, "unknown key \"%s\"", key);
        }
    }
}

/* The object at key, or NULL (reported when present but not an object). */
static json_t *get_object(ctx_t *c, const json_t *obj, const char *path, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return NULL;
    if (!json_is_object(v)) {
        char sub[PATH_CAP];
        path_join(sub, path, key);
        diag(c, 0, HS_EPARSE, sub, "expected object, got %s", json_type_label(v));
        return NULL;
    }
    return v;
}

static json_t *get_array(ctx_t *c, const json_t *obj, const char *path, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return NULL;
    if (!json_is_array(v)) {
        char sub[PATH_CAP];
        path_join(sub, path, key);
        diag(c, 0, HS_EPARSE, sub, "expected array, got %s", json_type_label(v));
        return NULL;
    }
    return v;
}

/* ---- value parsers --------------------------------------------------------------- */

/* "262144", "256KB", "256 KB", "1MB", "512B", "2KiB"; KB = 1024 bytes. */
static int parse_size_text(const char *s, uint64_t *out)
{
    return sim_size_parse(s, false, out) == HS_EOK;
}

/* A duration value: "250ms" or integer seconds, not negative. */
static int value_duration(ctx_t *c, const json_t *v, const char *path, sim_time_t *out)
{
    char got[64];
    json_describe_value(v, got, sizeof got);
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) {
            diag(c, 0, HS_ERANGE, path, "expected a non-negative duration, got %s", got);
            return 0;
        }
        if ((uint64_t)i > UINT64_MAX / SIM_SEC) {
            diag(c, 0, HS_ERANGE, path, "expected a duration that fits in 584 years, got %s", got);
            return 0;
        }
        *out = (sim_time_t)i * SIM_SEC;
        return 1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (s[0] == '-') {
            diag(c, 0, HS_ERANGE, path, "expected a non-negative duration, got %s", got);
            return 0;
        }
        hs_err_t rc = sim_duration_parse(s, out);
        if (rc == HS_EOK)
            return 1;
        if (rc == HS_ERANGE) {
            diag(c, 0, HS_ERANGE, path, "expected a duration that fits in 584 years, got %s", got);
            return 0;
        }
    }
    diag(c, 0, HS_EPARSE, path, "expected a duration such as \"250ms\", \"5m\" or \"48h\", got %s", got);
    return 0;
}

static int value_size(ctx_t *c, const json_t *v, const char *path, uint64_t *out)
{
    char got[64];
    json_describe_value(v, got, sizeof got);
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0) {
            diag(c, 0, HS_ERANGE, path, "expected a non-negative size, got %s", got);
            return 0;
        }
        *out = (uint64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_string(v)) {
        if (json_string_value(v)[0] == '-') {
            diag(c, 0, HS_ERANGE, path, "expected a non-negative size, got %s", got);
            return 0;
        }
        if (parse_size_text(json_string_value(v), out))
            return 1;
    }
    diag(c, 0, HS_EPARSE, path, "expected a size such as 4096, \"128KB\" or \"1MB\", got %s", got);
    return 0;
}

static int value_number(ctx_t *c, const json_t *v, const char *path, double *out)
{
    if (!json_is_number(v)) {
        diag(c, 0, HS_EPARSE, path, "expected number, got %s", json_type_label(v));
        return 0;
    }
    *out = json_number_value(v);
    return 1;
}

static int get_duration(ctx_t *c, const json_t *obj, const char *path, const char *key, sim_time_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char sub[PATH_CAP];
    path_join(sub, path, key);
    return value_duration(c, v, sub, out);
}

static int get_size(ctx_t *c, const json_t *obj, const char *path, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char sub[PATH_CAP];
    path_join(sub, path, key);
    return value_size(c, v, sub, out);
}

static int get_bool(ctx_t *c, const json_t *obj, const char *path, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char sub[PATH_CAP];
        path_join(sub, path, key);
        diag(c, 0, HS_EPARSE, sub, "expected boolean, got %s", json_type_label(v));
        return 0;
    }
    *out = json_is_true(v);
    return 1;
}

static int get_int(ctx_t *c, const json_t *obj, const char *path, const char *key, long long min,
                   long long max, long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char sub[PATH_CAP];
    path_join(sub, path, key);
    if (!json_is_integer(v)) {
        diag(c, 0, HS_EPARSE, sub, "expected integer, got %s", json_type_label(v));
        return 0;
    }
    long long i = (long long)json_integer_value(v);
    if (i < min || i > max) {
        diag(c, 0, HS_ERANGE, sub, "expected an integer in %lld..%lld, got %lld", min, max, i);
        return 0;
    }
    *out = i;
    return 1;
}

static int get_real(ctx_t *c, const json_t *obj, const char *path, const char *key, double min, double max,
                    const char *what, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char sub[PATH_CAP];
    path_join(sub, path, key);
    double d;
    if (!value_number(c, v, sub, &d))
        return 0;
    if (!(d >= min && d <= max)) {
        char got[64];
        json_describe_value(v, got, sizeof got);
        diag(c, 0, HS_ERANGE, sub, "expected %s in %g..%g, got %s", what, min, max, got);
        return 0;
    }
    *out = d;
    return 1;
}

static int get_prob(ctx_t *c, const json_t *obj, const char *path, const char *key, double *out)
{
    return get_real(c, obj, path, key, 0.0, 1.0, "a probability", out);
}

/* A string (copied into *out, which is freed first when already set). */
static int get_string(ctx_t *c, const json_t *obj, const char *path, const char *key, int nonempty, char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char sub[PATH_CAP];
    path_join(sub, path, key);
    if (!json_is_string(v)) {
        diag(c, 0, HS_EPARSE, sub, "expected string, got %s", json_type_label(v));
        return 0;
    }
    if (nonempty && json_string_length(v) == 0) {
        diag(c, 0, HS_ERANGE, sub, "expected a non-empty string");
        return 0;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        diag(c, 0, HS_EPARSE, sub, "expected a string without NUL characters");
        return 0;
    }
    free(*out);
    *out = xstrdup(c, json_string_value(v));
    return 1;
}

static int get_enum(ctx_t *c, const json_t *obj, const char *path, const char *key, const char *const *names,
                    int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char sub[PATH_CAP], set[256];
    path_join(sub, path, key);
    join_names(names, set, sizeof set);
    if (!json_is_string(v)) {
        diag(c, 0, HS_EPARSE, sub, "expected %s, got %s", set, json_type_label(v));
        return 0;
    }
    int i = index_of(names, json_string_value(v));
    if (i < 0) {
        char got[64];
        json_describe_value(v, got, sizeof got);
        diag(c, 0, HS_EPARSE, sub, "expected %s, got %s", set, got);
        return 0;
    }
    *out = i;
    return 1;
}

/* ---- distributions ------------------------------------------------------------------ */

typedef enum { DIST_DURATION, DIST_COUNT, DIST_SIZE } dist_unit_t;

static int dist_value(ctx_t *c, const json_t *v, const char *path, dist_unit_t unit, uint64_t *out)
{
    if (unit == DIST_DURATION)
        return value_duration(c, v, path, out);
    if (unit == DIST_SIZE)
        return value_size(c, v, path, out);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        char got[64];
        json_describe_value(v, got, sizeof got);
        diag(c, 0, json_is_integer(v) ? HS_ERANGE : HS_EPARSE, path,
             "expected a non-negative integer, got %s", got);
        return 0;
    }
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

/* `positive`: the distribution's mean must be above 0 (intervals between
 * events; a zero gap would make the engine spin at one instant). */
static int value_dist(ctx_t *c, const json_t *v, const char *path, dist_unit_t unit, int positive,
                      scn_dist_t *out)
{
    scn_dist_t d = { .kind = SCN_DIST_FIXED };
    char sub[PATH_CAP], sub2[PATH_CAP];
    if (!json_is_object(v)) {
        if (!json_is_string(v) && !json_is_number(v)) {
            diag(c, 0, HS_EPARSE, path, "expected a %s or a distribution object such as {\"uniform\": [\"1s\", \"3s\"]}, got %s",
                 unit == DIST_DURATION ? "duration" : unit == DIST_SIZE ? "size" : "count", json_type_label(v));
            return 0;
        }
        if (!dist_value(c, v, path, unit, &d.a))
            return 0;
    } else {
        if (json_object_size(v) != 1) {
            char set[128];
            join_names(dist_names, set, sizeof set);
            diag(c, 0, HS_EPARSE, path, "expected an object with exactly one key, %s; got %zu keys", set,
                 json_object_size(v));
            return 0;
        }
        const char *key = json_object_iter_key(json_object_iter((json_t *)v));
        json_t *arg = json_object_get(v, key);
        path_join(sub, path, key);
        int k = index_of(dist_names, key);
        if (k < 0) {
            char set[128];
            join_names(dist_names, set, sizeof set);
            diag(c, 1, HS_EPARSE, sub, "unknown distribution \"%s\", expected %s", key, set);
            return 0;
        }
        d.kind = (scn_dist_kind_t)k;
        if (d.kind == SCN_DIST_FIXED || d.kind == SCN_DIST_EXPONENTIAL) {
            if (!dist_value(c, arg, sub, unit, &d.a))
                return 0;
        } else {
            if (!json_is_array(arg) || json_array_size(arg) != 2) {
                diag(c, 0, HS_EPARSE, sub, "expected an array of two values, got %s%s", json_type_label(arg),
                     json_is_array(arg) ? " of another length" : "");
                return 0;
            }
            path_index(sub2, sub, 0);
            int ok = dist_value(c, json_array_get(arg, 0), sub2, unit, &d.a);
            path_index(sub2, sub, 1);
            if (d.kind == SCN_DIST_LOGNORMAL) {
                double sigma;
                if (!value_number(c, json_array_get(arg, 1), sub2, &sigma))
                    return 0;
                if (!(sigma >= 0 && sigma <= 10)) {
                    diag(c, 0, HS_ERANGE, sub2, "expected a sigma in 0..10, got %g", sigma);
                    return 0;
                }
                d.sigma = sigma;
            } else if (!dist_value(c, json_array_get(arg, 1), sub2, unit, &d.b)) {
                return 0;
            }
            if (!ok)
                return 0;
            if (d.kind == SCN_DIST_UNIFORM && d.a > d.b) {
                diag(c, 0, HS_ERANGE, sub, "expected [low, high] with low <= high");
                return 0;
            }
        }
    }
    if (positive) {
        int zero = d.kind == SCN_DIST_UNIFORM ? d.b == 0 : d.a == 0;
        if (zero) {
            diag(c, 0, HS_ERANGE, path, "expected a positive %s (an interval of 0 would repeat forever)",
                 d.kind == SCN_DIST_FIXED ? "value" : "mean");
            return 0;
        }
    }
    *out = d;
    return 1;
}

static int get_dist(ctx_t *c, const json_t *obj, const char *path, const char *key, dist_unit_t unit,
                    int positive, scn_dist_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char sub[PATH_CAP];
    path_join(sub, path, key);
    return value_dist(c, v, sub, unit, positive, out);
}

static scn_dist_t fixed(uint64_t a)
{
    scn_dist_t d = { .kind = SCN_DIST_FIXED, .a = a };
    return d;
}

/* An array of durations (schedule, storms): each <= limit. */
static int get_times(ctx_t *c, const json_t *obj, const char *path, const char *key, sim_time_t limit,
                     uint64_t **out, size_t *n)
{
    json_t *arr = get_array(c, obj, path, key);
    if (!arr)
        return 0;
    char sub[PATH_CAP], el[PATH_CAP];
    path_join(sub, path, key);
    size_t cnt = json_array_size(arr);
    uint64_t *t = xcalloc(c, cnt, sizeof *t);
    if (cnt && !t)
        return 0;
    size_t used = 0;
    for (size_t i = 0; i < cnt; i++) {
        path_index(el, sub, i);
        sim_time_t v;
        if (!value_duration(c, json_array_get(arr, i), el, &v))
            continue;
        if (v >= limit) {
            char d[32], l[32];
            sim_duration_format(v, d, sizeof d);
            sim_duration_format(limit, l, sizeof l);
            diag(c, 0, HS_ERANGE, el, "expected a time before the end of the run (%s), got %s", l, d);
            continue;
        }
        if (used && v < t[used - 1]) {
            diag(c, 0, HS_EINVAL, el, "expected times in increasing order");
            continue;
        }
        t[used++] = v;
    }
    *out = t;
    *n = used;
    return 1;
}

/* An object of name -> string (application / system properties).  System
 * property names must be ones the hub model knows (query or wire name),
 * else the fleet could not set them. */
static void get_props(ctx_t *c, const json_t *obj, const char *path, const char *key, int sys, scn_kv_t **out,
                      size_t *n)
{
    json_t *o = get_object(c, obj, path, key);
    if (!o)
        return;
    char sub[PATH_CAP], el[PATH_CAP];
    path_join(sub, path, key);
    scn_kv_t *kv = xcalloc(c, json_object_size(o), sizeof *kv);
    if (json_object_size(o) && !kv)
        return;
    size_t used = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        path_join(el, sub, k);
        if (!json_is_string(v)) {
            diag(c, 0, HS_EPARSE, el, "expected string, got %s", json_type_label(v));
            continue;
        }
        if (!*k) {
            diag(c, 1, HS_ERANGE, el, "expected a non-empty property name");
            continue;
        }
        hub_msg_sys_t id;
        if (sys && hub_msg_sys_lookup(k, &id) != HS_EOK) {
            char names[600];
            size_t u = 0;
            names[0] = '\0';
            for (int i = 0; i < (int)HUB_SYS__COUNT; i++) {
                int w = snprintf(names + u, sizeof names - u, "%s%s", i ? ", " : "",
                                 hub_msg_sys_query_name((hub_msg_sys_t)i));
                if (w < 0 || (size_t)w >= sizeof names - u)
                    break;
                u += (size_t)w;
            }
            diag(c, 1, HS_EPARSE, el, "unknown system property \"%s\" (known: %s)", k, names);
            continue;
        }
        kv[used].name = xstrdup(c, k);
        kv[used].value = xstrdup(c, json_string_value(v));
        used++;
    }
    *out = kv;
    *n = used;
}

/* ---- id patterns ---------------------------------------------------------------- */

typedef scn_id_format_t idpat_t;
_Static_assert(sizeof(((idpat_t *)0)->prefix) == ID_MAX * 2 + 1, "scn_id_format_t follows ID_MAX");

static int id_char_ok(char ch)
{
    static const char extra[] = "-:.+%_#*?!(),=@;$'";
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr(extra, ch));
}

/* Parse "{group}-{n:05}" for group `name`.  NULL on success, else what is
 * wrong (written into err). */
static const char *idpat_parse(const char *pattern, const char *name, idpat_t *p, char *err, size_t cap)
{
    memset(p, 0, sizeof *p);
    char *dst = p->prefix;
    size_t used = 0, dcap = sizeof p->prefix;
    for (const char *s = pattern; *s;) {
        if (*s == '{') {
            const char *close = strchr(s, '}');
            if (!close) {
                snprintf(err, cap, "unterminated '{' in id pattern");
                return err;
            }
            size_t n = (size_t)(close - s - 1);
            const char *in = s + 1;
            if (n == 5 && strncmp(in, "group", 5) == 0) {
                for (const char *g = name; *g; g++) {
                    if (used + 1 >= dcap) {
                        snprintf(err, cap, "id pattern too long");
                        return err;
                    }
                    dst[used++] = *g;
                }
            } else if ((n == 1 && in[0] == 'n') || (n >= 4 && strncmp(in, "n:0", 3) == 0)) {
                if (p->has_n) {
                    snprintf(err, cap, "id pattern has {n} twice");
                    return err;
                }
                unsigned w = 0;
                if (n > 1) {
                    for (size_t i = 3; i < n; i++) {
                        if (in[i] < '0' || in[i] > '9' || w > 100) {
                            snprintf(err, cap, "expected {n} or {n:0W} with a width W of 1..20, got {%.*s}", (int)n, in);
                            return err;
                        }
                        w = w * 10 + (unsigned)(in[i] - '0');
                    }
                    if (w < 1 || w > 20) {
                        snprintf(err, cap, "expected {n} or {n:0W} with a width W of 1..20, got {%.*s}", (int)n, in);
                        return err;
                    }
                }
                p->has_n = 1;
                p->width = w;
                dst[used] = '\0';
                dst = p->suffix;
                used = 0;
                dcap = sizeof p->suffix;
            } else {
                snprintf(err, cap, "unknown placeholder {%.*s} (expected {group}, {n} or {n:0W})", (int)n, in);
                return err;
            }
            s = close + 1;
            continue;
        }
        if (!id_char_ok(*s)) {
            snprintf(err, cap, "character '%c' is not allowed in a device id (letters, digits and - : . + %% _ # * ? ! ( ) , = @ ; $ ')",
                     *s);
            return err;
        }
        if (used + 1 >= dcap) {
            snprintf(err, cap, "id pattern too long");
            return err;
        }
        dst[used++] = *s++;
    }
    dst[used] = '\0';
    return NULL;
}

static unsigned digits_of(uint64_t v)
{
    unsigned d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* Hand-formatted: the fleet formats a device id for nearly every event, and
 * snprintf's format parsing showed up in profiles.  snprintf-style result:
 * the full length even when cap truncates the text. */
static size_t idpat_format(const idpat_t *p, uint64_t n, char *buf, size_t cap)
{
    size_t w = 0;
#define IDPAT_PUT(ch) do { char c_ = (ch); if (w + 1 < cap) buf[w] = c_; w++; } while (0)
    for (const char *s = p->prefix; *s; s++)
        IDPAT_PUT(*s);
    if (p->has_n) {
        char digits[24];
        size_t nd = 0;
        do {
            digits[nd++] = (char)('0' + n % 10);
            n /= 10;
        } while (n);
        for (size_t pad = nd; pad < p->width; pad++)
            IDPAT_PUT('0');
        while (nd)
            IDPAT_PUT(digits[--nd]);
        for (const char *s = p->suffix; *s; s++)
            IDPAT_PUT(*s);
    }
#undef IDPAT_PUT
    if (cap)
        buf[w < cap ? w : cap - 1] = '\0';
    return w;
}

/* Does `id` belong to the group with pattern p and `count` devices? */
static int idpat_match(const idpat_t *p, uint64_t count, const char *id)
{
    size_t len = strlen(id), pl = strlen(p->prefix), sl = strlen(p->suffix);
    if (!p->has_n)
        return strcmp(id, p->prefix) == 0;
    if (len < pl + sl + 1 || strncmp(id, p->prefix, pl) != 0 || strcmp(id + len - sl, p->suffix) != 0)
        return 0;
    const char *mid = id + pl;
    size_t ml = len - pl - sl;
    if (ml > 20)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < ml; i++) {
        if (mid[i] < '0' || mid[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(mid[i] - '0');
    }
    /* printf("%0*llu") output: exactly max(width, digits) characters */
    unsigned want = digits_of(v) > p->width ? digits_of(v) : p->width;
    if (ml != want)
        return 0;
    return v < count;
}

static size_t common_prefix(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    return i;
}

/* Cheap proof that two patterns with {n} cannot make the same id: after the
 * shared literal text, one side has a letter where the other has a digit or
 * a different letter. */
static int idpat_disjoint(const idpat_t *a, const idpat_t *b)
{
    size_t k = common_prefix(a->prefix, b->prefix);
    const char *ra = a->prefix + k, *rb = b->prefix + k;
    if (*ra && *rb)
        return 1;
    if ((*ra && !(*ra >= '0' && *ra <= '9')) || (*rb && !(*rb >= '0' && *rb <= '9')))
        return 1;
    size_t la = strlen(a->suffix), lb = strlen(b->suffix), i = 0;
    while (i < la && i < lb && a->suffix[la - 1 - i] == b->suffix[lb - 1 - i])
        i++;
    if (i < la && i < lb)
        return 1;
    if (i < la && !(a->suffix[la - 1 - i] >= '0' && a->suffix[la - 1 - i] <= '9'))
        return 1;
    if (i < lb && !(b->suffix[lb - 1 - i] >= '0' && b->suffix[lb - 1 - i] <= '9'))
        return 1;
    return 0;
}

static const char *default_id_pattern = "{group}-{n:05}";

size_t scenario_device_id(const scn_group_t *g, uint64_t n, char *buf, size_t cap)
{
    idpat_t p;
    char err[160];
    if (!g || !g->name || idpat_parse(g->id_pattern ? g->id_pattern : default_id_pattern, g->name, &p, err,
                                      sizeof err)) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    return idpat_format(&p, n, buf, cap);
}

void scenario_id_format_init(const scn_group_t *g, scn_id_format_t *out)
{
    char err[160];
    out->ok = g && g->name &&
              !idpat_parse(g->id_pattern ? g->id_pattern : default_id_pattern, g->name, out, err,
                           sizeof err);
}

size_t scenario_id_format(const scn_id_format_t *f, uint64_t n, char *buf, size_t cap)
{
    if (!f->ok) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    return idpat_format(f, n, buf, cap);
}

uint64_t scenario_device_count(const scenario_t *s)
{
    uint64_t n = 0;
    if (!s)
        return 0;
    for (size_t i = 0; i < s->ngroups; i++)
        n += s->groups[i].count;
    return n;
}

/* ---- groups ------------------------------------------------------------------------- */

static void load_telemetry(ctx_t *c, const json_t *o, const char *path, sim_time_t duration, scn_telemetry_t *t)
{
    t->enabled = o != NULL;
    t->interval = fixed(60 * SIM_SEC);
    t->burst_size = fixed(10);
    t->burst_gap = fixed(10 * SIM_MS);
    if (!o)
        return;
    check_keys(c, o, path, telemetry_keys);
    get_bool(c, o, path, "enabled", &t->enabled);
    get_dist(c, o, path, "interval", DIST_DURATION, 1, &t->interval);
    get_times(c, o, path, "schedule", duration, &t->schedule, &t->nschedule);
    get_size(c, o, path, "payloadSize", &t->payload_size);
    json_t *pl = json_object_get(o, "payload");
    if (pl) {
        if (json_is_string(pl)) {
            get_string(c, o, path, "payload", 0, &t->payload_template);
        } else if (json_is_object(pl) || json_is_array(pl)) {
            /* written as JSON in the file: keep its text (key order as written) */
            t->payload_template = json_dumps(pl, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (!t->payload_template)
                c->nomem = 1;
        } else {
            char sub[PATH_CAP];
            path_join(sub, path, "payload");
            diag(c, 0, HS_EPARSE, sub, "expected a template string or a JSON object, got %s", json_type_label(pl));
        }
    }
    get_string(c, o, path, "contentType", 1, &t->content_type);
    get_string(c, o, path, "contentEncoding", 1, &t->content_encoding);
    get_string(c, o, path, "messageId", 1, &t->message_id);
    get_props(c, o, path, "properties", 0, &t->app_props, &t->napp_props);
    get_props(c, o, path, "systemProperties", 1, &t->sys_props, &t->nsys_props);
    json_t *b = get_object(c, o, path, "burst");
    if (b) {
        char sub[PATH_CAP];
        path_join(sub, path, "burst");
        check_keys(c, b, sub, burst_keys);
        get_prob(c, b, sub, "probability", &t->burst_probability);
        get_dist(c, b, sub, "size", DIST_COUNT, 1, &t->burst_size);
        get_dist(c, b, sub, "gap", DIST_DURATION, 0, &t->burst_gap);
    }
}

static void load_connectivity(ctx_t *c, const json_t *o, const char *path, sim_time_t duration,
                              scn_connectivity_t *k)
{
    k->time_between_failures = fixed(SIM_HOUR);
    k->time_to_repair = fixed(SIM_MIN);
    k->backoff_initial = SIM_SEC;
    k->backoff_max = 60 * SIM_SEC;
    k->backoff_multiplier = 2.0;
    k->backoff_jitter = 0.2;
    k->connect_at = 0;
    k->connect_spread = 10 * SIM_SEC;
    if (!o)
        return;
    char sub[PATH_CAP], el[PATH_CAP];
    check_keys(c, o, path, connectivity_keys);
    json_t *off = get_array(c, o, path, "offline");
    if (off) {
        path_join(sub, path, "offline");
        k->offline = xcalloc(c, json_array_size(off), sizeof *k->offline);
        for (size_t i = 0; k->offline && i < json_array_size(off); i++) {
            json_t *w = json_array_get(off, i);
            path_index(el, sub, i);
            if (!json_is_object(w)) {
                diag(c, 0, HS_EPARSE, el, "expected object {\"start\": ..., \"end\": ...}, got %s", json_type_label(w));
                continue;
            }
            check_keys(c, w, el, window_keys);
            scn_window_t win = { 0, 0 };
            int ok = 1;
            if (!json_object_get(w, "start") || !json_object_get(w, "end")) {
                diag(c, 0, HS_EPARSE, el, "missing required key \"%s\"", json_object_get(w, "start") ? "end" : "start");
                ok = 0;
            }
            ok &= get_duration(c, w, el, "start", &win.start) | !json_object_get(w, "start");
            ok &= get_duration(c, w, el, "end", &win.end) | !json_object_get(w, "end");
            if (!ok)
                continue;
            char ep[PATH_CAP];
            path_join(ep, el, "end");
            if (win.end <= win.start) {
                diag(c, 0, HS_ERANGE, ep, "expected an end after the start");
                continue;
            }
            if (win.start >= duration) {
                char sp[PATH_CAP];
                path_join(sp, el, "start");
                diag(c, 0, HS_ERANGE, sp, "expected a time before the end of the run");
                continue;
            }
            if (k->noffline && win.start < k->offline[k->noffline - 1].end) {
                diag(c, 0, HS_EINVAL, el, "offline windows must be in order and not overlap");
                continue;
            }
            k->offline[k->noffline++] = win;
        }
    }
    json_t *out = get_object(c, o, path, "outages");
    if (out) {
        path_join(sub, path, "outages");
        check_keys(c, out, sub, outage_keys);
        k->outages = true;
        if (!json_object_get(out, "timeBetweenFailures") || !json_object_get(out, "timeToRepair"))
            diag(c, 0, HS_EPARSE, sub, "missing required key \"%s\"",
                 json_object_get(out, "timeBetweenFailures") ? "timeToRepair" : "timeBetweenFailures");
        get_dist(c, out, sub, "timeBetweenFailures", DIST_DURATION, 1, &k->time_between_failures);
        get_dist(c, out, sub, "timeToRepair", DIST_DURATION, 0, &k->time_to_repair);
    }
    json_t *b = get_object(c, o, path, "backoff");
    if (b) {
        path_join(sub, path, "backoff");
        check_keys(c, b, sub, backoff_keys);
        get_duration(c, b, sub, "initial", &k->backoff_initial);
        get_duration(c, b, sub, "max", &k->backoff_max);
        get_real(c, b, sub, "multiplier", 1.0, 100.0, "a multiplier", &k->backoff_multiplier);
        get_real(c, b, sub, "jitter", 0.0, 1.0, "a fraction", &k->backoff_jitter);
        if (k->backoff_initial > k->backoff_max) {
            path_join(el, sub, "max");
            diag(c, 0, HS_ERANGE, json_object_get(b, "max") ? el : sub,
                 "expected max >= initial backoff");
        }
    }
    get_times(c, o, path, "storms", duration, &k->storms, &k->nstorms);
    get_duration(c, o, path, "connectAt", &k->connect_at);
    get_duration(c, o, path, "connectSpread", &k->connect_spread);
}

static void load_methods(ctx_t *c, const json_t *arr, const char *path, scn_group_t *g)
{
    char el[PATH_CAP], sub[PATH_CAP];
    g->methods = xcalloc(c, json_array_size(arr), sizeof *g->methods);
    for (size_t i = 0; g->methods && i < json_array_size(arr); i++) {
        json_t *m = json_array_get(arr, i);
        path_index(el, path, i);
        if (!json_is_object(m)) {
            diag(c, 0, HS_EPARSE, el, "expected object, got %s", json_type_label(m));
            continue;
        }
        check_keys(c, m, el, method_keys);
        scn_method_handler_t h = { .subscribed = true, .latency = fixed(100 * SIM_MS), .status = 200 };
        if (!get_string(c, m, el, "name", 1, &h.method)) {
            if (!json_object_get(m, "name"))
                diag(c, 0, HS_EPARSE, el, "missing required key \"name\"");
            continue;
        }
        for (size_t j = 0; j < g->nmethods; j++) {
            if (strcmp(g->methods[j].method, h.method) == 0) {
                path_join(sub, el, "name");
                diag(c, 0, HS_EINVAL, sub, "duplicate method \"%s\" in this group", h.method);
            }
        }
        get_bool(c, m, el, "subscribed", &h.subscribed);
        get_dist(c, m, el, "latency", DIST_DURATION, 0, &h.latency);
        long long st;
        if (get_int(c, m, el, "status", 0, 999, &st))
            h.status = (int)st;
        get_size(c, m, el, "responseSize", &h.response_size);
        get_prob(c, m, el, "noAnswerProbability", &h.p_no_answer);
        g->methods[g->nmethods++] = h;
    }
}

static void load_c2d(ctx_t *c, const json_t *o, const char *path, scn_c2d_behaviour_t *d)
{
    d->subscribed = true;
    d->p_complete = 1.0;
    d->processing_delay = fixed(10 * SIM_MS);
    if (!o)
        return;
    check_keys(c, o, path, c2d_keys);
    get_bool(c, o, path, "subscribed", &d->subscribed);
    int ok = 1;
    double rej = 0, ab = 0, ign = 0, comp = 0;
    if (json_object_get(o, "reject"))
        ok &= get_prob(c, o, path, "reject", &rej);
    if (json_object_get(o, "abandon"))
        ok &= get_prob(c, o, path, "abandon", &ab);
    if (json_object_get(o, "ignore"))
        ok &= get_prob(c, o, path, "ignore", &ign);
    int has_complete = json_object_get(o, "complete") != NULL;
    if (has_complete)
        ok &= get_prob(c, o, path, "complete", &comp);
    get_dist(c, o, path, "processingDelay", DIST_DURATION, 0, &d->processing_delay);
    if (!ok)
        return;
    /* an absent "complete" takes what the others leave */
    if (!has_complete)
        comp = 1.0 - (rej + ab + ign);
    double sum = comp + rej + ab + ign;
    if (fabs(sum - 1.0) > 1e-9 || comp < -1e-9) {
        diag(c, 0, HS_ERANGE, path,
             "expected complete + reject + abandon + ignore = 1, got %.10g + %.10g + %.10g + %.10g = %.10g",
             comp, rej, ab, ign, has_complete ? sum : rej + ab + ign);
        return;
    }
    d->p_complete = comp < 0 ? 0 : comp;
    d->p_reject = rej;
    d->p_abandon = ab;
    d->p_ignore = ign;
}

static void load_group(ctx_t *c, const json_t *o, const char *path, sim_time_t duration, scn_group_t *g)
{
    char sub[PATH_CAP];
    g->link_latency = fixed(20 * SIM_MS);
    g->auth = SCN_AUTH_SAS;
    g->protocol = SCN_PROTO_MQTT;
    g->misbehaviour.oversized_size = 256 * 1024 + 1;
    g->twin.report_delay = fixed(100 * SIM_MS);
    g->twin.periodic_interval = fixed(SIM_HOUR);
    g->twin.reported_size = 128;
    check_keys(c, o, path, group_keys);

    if (!json_object_get(o, "name")) {
        diag(c, 0, HS_EPARSE, path, "missing required key \"name\"");
    } else if (get_string(c, o, path, "name", 1, &g->name)) {
        for (const char *p = g->name; *p; p++) {
            if (!id_char_ok(*p) || *p == '{' || *p == '}') {
                path_join(sub, path, "name");
                diag(c, 0, HS_EPARSE, sub, "expected a group name of id characters (letters, digits, - _ . :), got \"%s\"",
                     g->name);
                break;
            }
        }
    }
    long long cnt;
    if (!json_object_get(o, "count"))
        diag(c, 0, HS_EPARSE, path, "missing required key \"count\"");
    else if (get_int(c, o, path, "count", 1, 1000000000LL, &cnt))
        g->count = (uint64_t)cnt;
    get_string(c, o, path, "idPattern", 1, &g->id_pattern);
    if (!g->id_pattern && !c->nomem)
        g->id_pattern = xstrdup(c, default_id_pattern);
    json_t *mods = get_array(c, o, path, "modules");
    if (mods) {
        path_join(sub, path, "modules");
        g->modules = xcalloc(c, json_array_size(mods), sizeof *g->modules);
        for (size_t i = 0; g->modules && i < json_array_size(mods); i++) {
            char el[PATH_CAP];
            path_index(el, sub, i);
            json_t *m = json_array_get(mods, i);
            const char *bad = NULL;
            if (!json_is_string(m) || json_string_length(m) == 0 || json_string_length(m) > ID_MAX) {
                bad = "a module id of 1..128 characters";
            } else {
                for (const char *p = json_string_value(m); *p; p++)
                    if (!id_char_ok(*p))
                        bad = "a module id of letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '";
            }
            if (bad) {
                char got[64];
                json_describe_value(m, got, sizeof got);
                diag(c, 0, json_is_string(m) ? HS_ERANGE : HS_EPARSE, el, "expected %s, got %s", bad, got);
                continue;
            }
            int dup = 0;
            for (size_t j = 0; j < g->nmodules; j++)
                dup |= strcmp(g->modules[j], json_string_value(m)) == 0;
            if (dup) {
                diag(c, 0, HS_EINVAL, el, "duplicate module id \"%s\"", json_string_value(m));
                continue;
            }
            g->modules[g->nmodules++] = xstrdup(c, json_string_value(m));
        }
    }
    int e;
    if (get_enum(c, o, path, "auth", auth_names, &e))
        g->auth = (scn_auth_t)e;
    if (get_enum(c, o, path, "protocol", protocol_names, &e))
        g->protocol = (scn_protocol_t)e;
    get_dist(c, o, path, "linkLatency", DIST_DURATION, 0, &g->link_latency);

    path_join(sub, path, "telemetry");
    load_telemetry(c, get_object(c, o, path, "telemetry"), sub, duration, &g->telemetry);
    path_join(sub, path, "connectivity");
    load_connectivity(c, get_object(c, o, path, "connectivity"), sub, duration, &g->connectivity);
    json_t *methods = get_array(c, o, path, "methods");
    if (methods) {
        path_join(sub, path, "methods");
        load_methods(c, methods, sub, g);
    }
    json_t *twin = get_object(c, o, path, "twin");
    if (twin) {
        path_join(sub, path, "twin");
        check_keys(c, twin, sub, twin_keys);
        get_bool(c, twin, sub, "reportOnDesired", &g->twin.report_on_desired);
        get_dist(c, twin, sub, "reportDelay", DIST_DURATION, 0, &g->twin.report_delay);
        if (get_dist(c, twin, sub, "periodicInterval", DIST_DURATION, 1, &g->twin.periodic_interval))
            g->twin.periodic = true;
        get_size(c, twin, sub, "reportedSize", &g->twin.reported_size);
    }
    path_join(sub, path, "c2d");
    load_c2d(c, get_object(c, o, path, "c2d"), sub, &g->c2d);
    json_t *mis = get_object(c, o, path, "misbehaviour");
    if (mis) {
        scn_misbehaviour_t *m = &g->misbehaviour;
        path_join(sub, path, "misbehaviour");
        check_keys(c, mis, sub, misbehaviour_keys);
        get_prob(c, mis, sub, "oversized", &m->p_oversized);
        get_size(c, mis, sub, "oversizedSize", &m->oversized_size);
        get_prob(c, mis, sub, "badProperty", &m->p_bad_property);
        get_prob(c, mis, sub, "spoofSystemProperties", &m->p_spoof);
        get_prob(c, mis, sub, "badSas", &m->p_bad_sas);
        get_prob(c, mis, sub, "expiredSas", &m->p_expired_sas);
        get_prob(c, mis, sub, "unknownRid", &m->p_unknown_rid);
    }
    get_bool(c, o, path, "gateway", &g->gateway);
    get_string(c, o, path, "behind", 1, &g->behind);
    json_t *up = get_object(c, o, path, "uploads");
    if (up) {
        scn_uploads_t *u = &g->uploads;
        path_join(sub, path, "uploads");
        check_keys(c, up, sub, uploads_keys);
        u->enabled = true;
        u->interval = fixed(10 * SIM_MIN);
        u->file_size = fixed(1024 * 1024);
        u->bandwidth = 1024 * 1024;
        get_dist(c, up, sub, "interval", DIST_DURATION, 1, &u->interval);
        get_dist(c, up, sub, "fileSize", DIST_SIZE, 0, &u->file_size);
        if (get_size(c, up, sub, "bandwidth", &u->bandwidth) && u->bandwidth == 0) {
            char bp[PATH_CAP];
            path_join(bp, sub, "bandwidth");
            diag(c, 0, HS_ERANGE, bp, "expected a bandwidth above 0 (bytes per second, e.g. \"1MB\")");
        }
        get_prob(c, up, sub, "failureProbability", &u->p_failure);
        get_prob(c, up, sub, "noNotifyProbability", &u->p_no_notify);
    }
}

static int find_group(const scenario_t *s, const char *name, size_t *idx);
static void group_names(const scenario_t *s, char *buf, size_t cap);

/* Field gateways: a leaf group is behind an earlier gateway group (the
 * registry creates a leaf's parent first); gateways are not nested. */
static void check_gateways(ctx_t *c, scenario_t *s)
{
    char path[PATH_CAP], sub[PATH_CAP];
    for (size_t i = 0; i < s->ngroups; i++) {
        scn_group_t *g = &s->groups[i];
        if (!g->behind)
            continue;
        path_index(path, "$.groups", i);
        path_join(sub, path, "behind");
        size_t gi;
        if (g->gateway) {
            diag(c, 0, HS_EINVAL, sub, "a gateway group cannot itself be behind a gateway (nested gateways are not modelled)");
        } else if (!find_group(s, g->behind, &gi)) {
            char names[512];
            group_names(s, names, sizeof names);
            diag(c, 0, HS_EINVAL, sub, "unknown gateway group \"%s\" (groups: %s)", g->behind, names[0] ? names : "none");
        } else if (!s->groups[gi].gateway) {
            diag(c, 0, HS_EINVAL, sub, "group \"%s\" is not a gateway group (it needs \"gateway\": true)", g->behind);
        } else if (gi > i) {
            diag(c, 0, HS_EINVAL, sub, "gateway group \"%s\" must come before its leaf group \"%s\" in \"groups\"",
                 g->behind, g->name ? g->name : "");
        } else {
            g->behind_index = gi;
        }
    }
}

/* Id patterns: well formed, short enough, one id per device, no two groups
 * making the same id. */
static void check_id_patterns(ctx_t *c, const json_t *groups, scenario_t *s)
{
    idpat_t *pats = xcalloc(c, s->ngroups, sizeof *pats);
    int *ok = xcalloc(c, s->ngroups, sizeof *ok);
    char path[PATH_CAP], sub[PATH_CAP], err[200];
    for (size_t i = 0; pats && ok && i < s->ngroups; i++) {
        scn_group_t *g = &s->groups[i];
        path_index(path, "$.groups", i);
        path_join(sub, path, json_object_get(json_array_get(groups, i), "idPattern") ? "idPattern" : "name");
        if (!g->name || !g->id_pattern || !g->count)
            continue;
        if (idpat_parse(g->id_pattern, g->name, &pats[i], err, sizeof err)) {
            diag(c, 0, HS_EPARSE, sub, "%s", err);
            continue;
        }
        if (!pats[i].has_n && g->count > 1) {
            diag(c, 0, HS_EINVAL, sub, "id pattern \"%s\" has no {n}: all %llu devices would share one id",
                 g->id_pattern, (unsigned long long)g->count);
            continue;
        }
        unsigned nd = digits_of(g->count - 1);
        size_t longest = strlen(pats[i].prefix) + strlen(pats[i].suffix) +
                         (pats[i].has_n ? (nd > pats[i].width ? nd : pats[i].width) : 0);
        if (longest > ID_MAX) {
            diag(c, 0, HS_ERANGE, sub, "expected device ids of at most 128 characters, the pattern makes %zu", longest);
            continue;
        }
        if (longest == 0) {
            diag(c, 0, HS_ERANGE, sub, "id pattern makes an empty device id");
            continue;
        }
        ok[i] = 1;
    }
    for (size_t i = 0; pats && ok && i < s->ngroups; i++) {
        for (size_t j = i + 1; ok[i] && j < s->ngroups; j++) {
            if (!ok[j])
                continue;
            if (pats[i].has_n && pats[j].has_n && idpat_disjoint(&pats[i], &pats[j]))
                continue;
            /* walk the smaller group's ids through the other's matcher */
            size_t a = s->groups[i].count <= s->groups[j].count ? i : j, b = a == i ? j : i;
            char id[ID_MAX * 3];
            for (uint64_t n = 0; n < s->groups[a].count; n++) {
                idpat_format(&pats[a], n, id, sizeof id);
                if (idpat_match(&pats[b], s->groups[b].count, id)) {
                    path_index(path, "$.groups", j);
                    path_join(sub, path,
                              json_object_get(json_array_get(groups, j), "idPattern") ? "idPattern" : "name");
                    diag(c, 0, HS_EINVAL, sub, "id pattern collides with group \"%s\": both make device id \"%s\"",
                         s->groups[i].name, id);
                    break;
                }
            }
        }
    }
    free(pats);
    free(ok);
}

/* ---- actors and faults ----------------------------------------------------------------- */

static int find_group(const scenario_t *s, const char *name, size_t *idx)
{
    for (size_t i = 0; i < s->ngroups; i++) {
        if (s->groups[i].name && strcmp(s->groups[i].name, name) == 0) {
            *idx = i;
            return 1;
        }
    }
    return 0;
}

static void group_names(const scenario_t *s, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->ngroups; i++) {
        int seen = !s->groups[i].name;
        for (size_t j = 0; !seen && j < i; j++)
            seen = s->groups[j].name && strcmp(s->groups[j].name, s->groups[i].name) == 0;
        if (seen)
            continue;
        int n = snprintf(buf + used, cap - used, "%s\"%s\"", used ? ", " : "", s->groups[i].name);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

/* Keys that belong to another kind than `kind`. */
static void check_kind_keys(ctx_t *c, const json_t *o, const char *path, const char *const *common,
                            const char *const *specific, const char *kind)
{
    const char *key;
    json_t *v;
    char sub[PATH_CAP];
    json_object_foreach((json_t *)o, key, v) {
        if (in_list(common, key) || in_list(specific, key))
            continue;
        path_join(sub, path, key);
        diag(c, 1, HS_EPARSE, sub, "key \"%s\" does not apply to kind \"%s\"", key, kind);
    }
}

static int resolve_group(ctx_t *c, const json_t *o, const char *path, scenario_t *s, char **name, size_t *idx)
{
    char sub[PATH_CAP];
    if (!json_object_get(o, "group")) {
        diag(c, 0, HS_EPARSE, path, "missing required key \"group\"");
        return 0;
    }
    if (!get_string(c, o, path, "group", 1, name))
        return 0;
    if (!find_group(s, *name, idx)) {
        char names[512];
        group_names(s, names, sizeof names);
        path_join(sub, path, "group");
        diag(c, 0, HS_EINVAL, sub, "unknown group \"%s\" (groups: %s)", *name, names[0] ? names : "none");
        return 0;
    }
    return 1;
}

static void load_pick(ctx_t *c, const json_t *o, const char *path, scn_pick_t *p)
{
    json_t *v = json_object_get(o, "pick");
    p->kind = SCN_PICK_UNIFORM;
    p->zipf_s = 1.0;
    if (!v)
        return;
    char sub[PATH_CAP], el[PATH_CAP];
    path_join(sub, path, "pick");
    const char *expected = "expected \"uniform\", \"roundRobin\", \"zipf\", {\"zipf\": S} or {\"ids\": [...]}";
    if (json_is_string(v)) {
        const char *t = json_string_value(v);
        if (strcmp(t, "uniform") == 0)
            p->kind = SCN_PICK_UNIFORM;
        else if (strcmp(t, "roundRobin") == 0)
            p->kind = SCN_PICK_ROUND_ROBIN;
        else if (strcmp(t, "zipf") == 0)
            p->kind = SCN_PICK_ZIPF;
        else {
            char got[64];
            json_describe_value(v, got, sizeof got);
            diag(c, 0, HS_EPARSE, sub, "%s, got %s", expected, got);
        }
        return;
    }
    if (!json_is_object(v) || json_object_size(v) != 1) {
        diag(c, 0, HS_EPARSE, sub, "%s, got %s", expected, json_type_label(v));
        return;
    }
    if (json_object_get(v, "zipf")) {
        double sv;
        if (get_real(c, v, sub, "zipf", 0.01, 10.0, "a Zipf exponent", &sv)) {
            p->kind = SCN_PICK_ZIPF;
            p->zipf_s = sv;
        }
    } else if (json_object_get(v, "ids")) {
        json_t *ids = get_array(c, v, sub, "ids");
        if (!ids)
            return;
        path_join(el, sub, "ids");
        if (json_array_size(ids) == 0) {
            diag(c, 0, HS_ERANGE, el, "expected at least one device id");
            return;
        }
        p->kind = SCN_PICK_EXPLICIT;
        p->ids = xcalloc(c, json_array_size(ids), sizeof *p->ids);
        for (size_t i = 0; p->ids && i < json_array_size(ids); i++) {
            json_t *id = json_array_get(ids, i);
            char ip[PATH_CAP];
            path_index(ip, el, i);
            if (!json_is_string(id) || json_string_length(id) == 0) {
                char got[64];
                json_describe_value(id, got, sizeof got);
                diag(c, 0, HS_EPARSE, ip, "expected a device id, got %s", got);
                continue;
            }
            p->ids[p->nids++] = xstrdup(c, json_string_value(id));
        }
    } else {
        const char *k = json_object_iter_key(json_object_iter(v));
        path_join(el, sub, k);
        diag(c, 1, HS_EPARSE, el, "unknown key \"%s\" (%s)", k, expected);
    }
}

/* A method actor's method (one its group declares), payload and timeouts. */
static void load_actor_method(ctx_t *c, const json_t *o, const char *path, scenario_t *s, scn_actor_t *a,
                              int have_group)
{
    char sub[PATH_CAP];
    long long t;
    if (!json_object_get(o, "method")) {
        diag(c, 0, HS_EPARSE, path, "missing required key \"method\"");
    } else if (get_string(c, o, path, "method", 1, &a->method) && have_group) {
        const scn_group_t *g = &s->groups[a->group_index];
        int known = 0;
        for (size_t i = 0; i < g->nmethods; i++)
            known |= strcmp(g->methods[i].method, a->method) == 0;
        if (!known) {
            char names[512] = "";
            size_t used = 0;
            for (size_t i = 0; i < g->nmethods; i++) {
                int n = snprintf(names + used, sizeof names - used, "%s\"%s\"", i ? ", " : "", g->methods[i].method);
                if (n < 0 || (size_t)n >= sizeof names - used)
                    break;
                used += (size_t)n;
            }
            path_join(sub, path, "method");
            diag(c, 0, HS_EINVAL, sub,
                 "unknown method \"%s\" for group \"%s\" (methods: %s); declare it with \"subscribed\": false to call a device that never answers",
                 a->method, g->name, used ? names : "none");
        }
    }
    get_size(c, o, path, "payloadSize", &a->payload_size);
    if (get_int(c, o, path, "responseTimeout", INT_MIN, INT_MAX, &t)) {
        a->has_response_timeout = true;
        a->response_timeout_s = t;
    }
    if (get_int(c, o, path, "connectTimeout", INT_MIN, INT_MAX, &t)) {
        a->has_connect_timeout = true;
        a->connect_timeout_s = t;
    }
}

/* A job actor: its type, query (compiled here so a bad one is refused at
 * load), start offset, time limit, poll period and the method or patch. */
static void load_job(ctx_t *c, const json_t *o, const char *path, scenario_t *s, scn_actor_t *a, int have_group)
{
    char sub[PATH_CAP];
    int e;
    a->job_repeat = json_object_get(o, "interval") != NULL;
    a->max_exec_s = 3600;
    a->poll_interval = SIM_SEC;
    a->patch_size = 64;
    if (!json_object_get(o, "jobType"))
        diag(c, 0, HS_EPARSE, path, "missing required key \"jobType\"");
    else if (get_enum(c, o, path, "jobType", job_type_names, &e))
        a->job_type = (scn_job_type_t)e;
    if (!json_object_get(o, "queryCondition")) {
        diag(c, 0, HS_EPARSE, path, "missing required key \"queryCondition\"");
    } else if (get_string(c, o, path, "queryCondition", 1, &a->query_condition)) {
        static const char prefix[] = "SELECT * FROM devices WHERE ";
        size_t n = strlen(prefix) + strlen(a->query_condition) + 1;
        char *text = malloc(n);
        if (!text) {
            c->nomem = 1;
        } else {
            snprintf(text, n, "%s%s", prefix, a->query_condition);
            twin_query_t *q = NULL;
            route_syntax_error_t se;
            hs_err_t qe = twin_query_compile(text, &q, &se);
            if (qe == HS_ENOMEM)
                c->nomem = 1;
            else if (qe) {
                int col = se.line == 1 ? se.column - (int)strlen(prefix) : se.column;
                path_join(sub, path, "queryCondition");
                diag(c, 0, HS_EPARSE, sub, "expected a twin query WHERE condition, got a syntax error at column %d: %s",
                     col < 1 ? 1 : col, se.message);
            }
            twin_query_free(q);
            free(text);
        }
    }
    get_duration(c, o, path, "startTime", &a->job_start_delay);
    sim_time_t max_exec;
    if (get_duration(c, o, path, "maxExecutionTime", &max_exec)) {
        if (max_exec < SIM_SEC) {
            path_join(sub, path, "maxExecutionTime");
            diag(c, 0, HS_ERANGE, sub, "expected at least 1s (maxExecutionTimeInSeconds is whole seconds)");
        } else {
            a->max_exec_s = (int64_t)((max_exec + SIM_SEC - 1) / SIM_SEC);
        }
    }
    if (get_duration(c, o, path, "pollInterval", &a->poll_interval) && a->poll_interval == 0) {
        path_join(sub, path, "pollInterval");
        diag(c, 0, HS_ERANGE, sub, "expected a poll interval above 0");
        a->poll_interval = SIM_SEC;
    }
    if (a->job_type == SCN_JOB_METHOD) {
        load_actor_method(c, o, path, s, a, have_group);
    } else {
        static const char *const method_only[] = { "method", "payloadSize", "responseTimeout", "connectTimeout", NULL };
        for (size_t i = 0; method_only[i]; i++)
            if (json_object_get(o, method_only[i])) {
                path_join(sub, path, method_only[i]);
                diag(c, 1, HS_EPARSE, sub, "key \"%s\" does not apply to jobType \"scheduleUpdateTwin\"", method_only[i]);
            }
        get_size(c, o, path, "patchSize", &a->patch_size);
    }
}

static void load_actor(ctx_t *c, const json_t *o, const char *path, size_t index, scenario_t *s, scn_actor_t *a)
{
    char sub[PATH_CAP];
    check_keys(c, o, path, actor_keys);
    a->interval = fixed(10 * SIM_SEC);
    int kind;
    if (!json_object_get(o, "kind")) {
        diag(c, 0, HS_EPARSE, path, "missing required key \"kind\"");
        return;
    }
    if (!get_enum(c, o, path, "kind", actor_kind_names, &kind))
        return;
    a->kind = (scn_actor_kind_t)kind;
    check_kind_keys(c, o, path, actor_common, actor_specific[kind], actor_kind_names[kind]);
    if (!get_string(c, o, path, "name", 1, &a->name) && !c->nomem) {
        char def[64];
        snprintf(def, sizeof def, "%s-%zu", actor_kind_names[kind], index);
        a->name = xstrdup(c, def);
    }
    int have_group = resolve_group(c, o, path, s, &a->group, &a->group_index);
    load_pick(c, o, path, &a->pick);
    if (a->kind != SCN_ACTOR_REGISTRY)
        get_dist(c, o, path, "interval", DIST_DURATION, 1, &a->interval);
    get_duration(c, o, path, "start", &a->start);
    get_duration(c, o, path, "end", &a->end);
    if (a->start >= s->duration && s->duration) {
        path_join(sub, path, "start");
        diag(c, 0, HS_ERANGE, sub, "expected a start before the end of the run");
    }
    if (a->end && a->end <= a->start) {
        path_join(sub, path, "end");
        diag(c, 0, HS_ERANGE, sub, "expected an end after the start (or 0 for the end of the run)");
    }
    switch (a->kind) {
    case SCN_ACTOR_JOB:
        load_job(c, o, path, s, a, have_group);
        break;
    case SCN_ACTOR_METHOD_INVOKER:
        load_actor_method(c, o, path, s, a, have_group);
        break;
    case SCN_ACTOR_C2D_SENDER: {
        int ack = 0;
        get_enum(c, o, path, "ack", ack_names, &ack);
        a->ack = xstrdup(c, ack_names[ack]);
        get_duration(c, o, path, "ttl", &a->ttl);
        a->message_size = 64;
        get_size(c, o, path, "messageSize", &a->message_size);
        break;
    }
    case SCN_ACTOR_TWIN_UPDATER:
        a->patch_size = 64;
        get_size(c, o, path, "patchSize", &a->patch_size);
        break;
    case SCN_ACTOR_REGISTRY: {
        int op;
        if (!json_object_get(o, "op"))
            diag(c, 0, HS_EPARSE, path, "missing required key \"op\"");
        else if (get_enum(c, o, path, "op", op_names, &op))
            a->op = (scn_registry_op_t)op;
        if (!json_object_get(o, "fraction"))
            diag(c, 0, HS_EPARSE, path, "missing required key \"fraction\"");
        else
            get_real(c, o, path, "fraction", 0.0, 1.0, "a fraction", &a->fraction);
        break;
    }
    }
}

/* "events" or an endpoint named in the hub's routing section (shape:
 * sim/route/routing.schema.json; names are case-insensitive there). */
static int endpoint_known(const hub_config_t *hub, const char *name)
{
    if (strcasecmp(name, "events") == 0)
        return 1;
    json_t *eps = hub->routing ? json_object_get(hub->routing, "endpoints") : NULL;
    const char *key;
    json_t *arr;
    if (!json_is_object(eps))
        return 0;
    json_object_foreach(eps, key, arr) {
        size_t i;
        json_t *ep;
        json_array_foreach(arr, i, ep) {
            json_t *n = json_object_get(ep, "name");
            if (json_is_string(n) && strcasecmp(json_string_value(n), name) == 0)
                return 1;
        }
    }
    return 0;
}

static void load_fault(ctx_t *c, const json_t *o, const char *path, scenario_t *s, scn_fault_t *f)
{
    char sub[PATH_CAP];
    check_keys(c, o, path, fault_keys);
    int kind;
    if (!json_object_get(o, "kind")) {
        diag(c, 0, HS_EPARSE, path, "missing required key \"kind\"");
        return;
    }
    if (!get_enum(c, o, path, "kind", fault_kind_names, &kind))
        return;
    f->kind = (scn_fault_kind_t)kind;
    check_kind_keys(c, o, path, fault_common, fault_specific[kind], fault_kind_names[kind]);
    get_duration(c, o, path, "at", &f->at);
    if (s->duration && f->at >= s->duration) {
        path_join(sub, path, "at");
        diag(c, 0, HS_ERANGE, sub, "expected a time before the end of the run");
    }
    get_duration(c, o, path, "duration", &f->duration);
    long long u;
    switch (f->kind) {
    case SCN_FAULT_DROP_CONNECTIONS:
        resolve_group(c, o, path, s, &f->group, &f->group_index);
        f->fraction = 1.0;
        get_real(c, o, path, "fraction", 0.0, 1.0, "a fraction", &f->fraction);
        break;
    case SCN_FAULT_THROTTLE:
        f->units = 1;
        if (get_int(c, o, path, "units", 1, 200, &u))
            f->units = (uint32_t)u;
        break;
    case SCN_FAULT_DELAY_METHODS:
        if (!json_object_get(o, "delay"))
            diag(c, 0, HS_EPARSE, path, "missing required key \"delay\"");
        get_duration(c, o, path, "delay", &f->delay);
        break;
    case SCN_FAULT_ENDPOINT_UNREACHABLE:
        if (!json_object_get(o, "endpoint"))
            diag(c, 0, HS_EPARSE, path, "missing required key \"endpoint\"");
        if (get_string(c, o, path, "endpoint", 1, &f->endpoint) && !endpoint_known(&s->hub, f->endpoint)) {
            path_join(sub, path, "endpoint");
            diag(c, 0, HS_EINVAL, sub, "unknown endpoint \"%s\" (not \"events\" nor an endpoint of the hub's routing)",
                 f->endpoint);
        }
        break;
    case SCN_FAULT_BREAK:
        if (!json_object_get(o, "rule"))
            diag(c, 0, HS_EPARSE, path, "missing required key \"rule\"");
        if (get_string(c, o, path, "rule", 1, &f->rule)) {
            hub_fault_t hf;
            if (hub_fault_lookup(f->rule, &hf) != HS_EOK) {
                path_join(sub, path, "rule");
                diag(c, 0, HS_EINVAL, sub, "unknown break switch \"%s\" (hubsim rules lists them)", f->rule);
            }
        }
        break;
    }
}

/* ---- expectations ---------------------------------------------------------------------- */

/* Byte offset of line:column (column in code points) in the text. */
static size_t offset_of(const ctx_t *c, unsigned line, unsigned column)
{
    size_t off = 0;
    for (unsigned l = 1; l < line && off < c->len; off++)
        if (c->text[off] == '\n')
            l++;
    for (unsigned col = 1; col < column && off < c->len; col++) {
        off++;
        while (off < c->len && ((unsigned char)c->text[off] & 0xC0) == 0x80)
            off++;
    }
    return off;
}

/* The file column of byte `k` (0-based) of the decoded JSON string whose
 * opening quote is at line:column: escapes take more room in the file than
 * in the string. */
static unsigned string_column(const ctx_t *c, unsigned line, unsigned column, unsigned k)
{
    size_t off = offset_of(c, line, column) + 1;
    unsigned col = column + 1, i = 0;
    while (i < k && off < c->len && c->text[off] != '"') {
        unsigned char ch = (unsigned char)c->text[off];
        if (ch == '\\') {
            if (off + 1 < c->len && c->text[off + 1] == 'u') {
                off += 6;
                col += 6;
            } else {
                off += 2;
                col += 2;
            }
            i++;
        } else {
            size_t n = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
            off += n;
            i += (unsigned)n;
            col++;
        }
    }
    (void)line;
    return col;
}

static void load_expectations(ctx_t *c, const json_t *arr, scenario_t *s)
{
    char el[PATH_CAP], sub[PATH_CAP];
    s->expectations = xcalloc(c, json_array_size(arr), sizeof *s->expectations);
    for (size_t i = 0; s->expectations && i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        path_index(el, "$.expectations", i);
        scn_expectation_t x = { 0 };
        const char *text_path = el;
        if (json_is_object(v)) {
            check_keys(c, v, el, expectation_keys);
            get_string(c, v, el, "name", 1, &x.name);
            if (!json_object_get(v, "expect")) {
                diag(c, 0, HS_EPARSE, el, "missing required key \"expect\"");
                free(x.name);
                continue;
            }
            if (!get_string(c, v, el, "expect", 1, &x.text)) {
                free(x.name);
                continue;
            }
            path_join(sub, el, "expect");
            text_path = sub;
        } else if (json_is_string(v)) {
            x.text = xstrdup(c, json_string_value(v));
        } else {
            diag(c, 0, HS_EPARSE, el, "expected an expression string or {\"name\": ..., \"expect\": ...}, got %s",
                 json_type_label(v));
            continue;
        }
        if (!x.text)
            continue;
        unsigned line = 0, col = 0;
        json_locate_value(c->loc, text_path, &line, &col);
        x.line = (int)line;
        x.column = (int)col;
        expect_t *e = NULL;
        expect_error_t err;
        hs_err_t rc = expect_parse(x.text, &e, &err);
        if (rc == HS_ENOMEM)
            c->nomem = 1;
        if (rc == HS_EPARSE) {
            unsigned ecol = line ? string_column(c, line, col, err.column - 1) : 0;
            if (json_diag_add(c->diags, HS_EPARSE, c->file, line, ecol, text_path, "expectation: %s", err.message) !=
                HS_EOK)
                c->nomem = 1;
        }
        expect_free(e);
        for (size_t j = 0; x.name && j < s->nexpectations; j++) {
            if (s->expectations[j].name && strcmp(s->expectations[j].name, x.name) == 0) {
                path_join(sub, el, "name");
                diag(c, 0, HS_EINVAL, sub, "duplicate expectation name \"%s\"", x.name);
            }
        }
        s->expectations[s->nexpectations++] = x;
    }
}

/* ---- the hub ------------------------------------------------------------------------------ */

/* End (exclusive) of the JSON object starting at byte `start`. */
static size_t object_end(const char *t, size_t len, size_t start)
{
    int depth = 0, in_str = 0;
    for (size_t i = start; i < len; i++) {
        char ch = t[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if (ch == '"')
            in_str = 1;
        else if (ch == '{' || ch == '[')
            depth++;
        else if (ch == '}' || ch == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return len;
}

static void merge_hub_diags(ctx_t *c, const json_diag_list_t *from)
{
    for (size_t i = 0; i < json_diag_count(from); i++) {
        const json_diag_t *d = json_diag_get(from, i);
        char p[PATH_CAP];
        snprintf(p, sizeof p, "$.hub%s", d->path[0] == '$' ? d->path + 1 : d->path);
        if (json_diag_add(c->diags, d->code, d->file, d->line, d->column, p, "%s", d->message) != HS_EOK)
            c->nomem = 1;
    }
}

static char *dir_join(const char *file, const char *rel)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    size_t dl = (rel[0] == '/' || !slash) ? 0 : (size_t)(slash - file) + 1;
    char *out = malloc(dl + strlen(rel) + 1);
    if (!out)
        return NULL;
    memcpy(out, file, dl);
    strcpy(out + dl, rel);
    return out;
}

/* Drop "." segments and fold "dir/.." in an absolute path, in place, so
 * messages read "/src/fixtures/hubs/x.json", not ".../scenarios/../hubs/x.json". */
static void normalise_path(char *p)
{
    char *src = strdup(p); /* read from a copy: the result is never longer */
    if (!src)
        return;
    size_t out = 0;
    const char *in = src;
    while (*in) {
        while (*in == '/')
            in++;
        const char *end = strchr(in, '/');
        size_t n = end ? (size_t)(end - in) : strlen(in);
        if (n == 0 || (n == 1 && in[0] == '.')) {
            /* nothing */
        } else if (n == 2 && in[0] == '.' && in[1] == '.') {
            while (out > 0 && p[out - 1] != '/')
                out--;
            if (out > 0)
                out--; /* and the '/' before the dropped segment */
        } else {
            p[out++] = '/';
            memcpy(p + out, in, n);
            out += n;
        }
        in += n;
    }
    if (out == 0)
        p[out++] = '/';
    p[out] = '\0';
    free(src);
}

/* Make a relative path absolute (against the working directory), so that a
 * scenario written elsewhere by scenario_to_json still finds its hub file. */
static char *absolute_path(ctx_t *c, const char *p)
{
    char cwd[4096];
    if (p[0] == '/') {
        char *abs = xstrdup(c, p);
        if (abs)
            normalise_path(abs);
        return abs;
    }
    if (!getcwd(cwd, sizeof cwd))
        return xstrdup(c, p);
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *out = malloc(n);
    if (!out) {
        c->nomem = 1;
        return NULL;
    }
    snprintf(out, n, "%s/%s", cwd, p);
    normalise_path(out);
    return out;
}

static void load_hub(ctx_t *c, const json_t *v, scenario_t *s)
{
    json_diag_list_t *tmp = NULL;
    if (json_diag_list_new(&tmp) != HS_EOK) {
        c->nomem = 1;
        return;
    }
    if (json_is_string(v)) {
        char *joined = dir_join(c->file, json_string_value(v));
        if (!joined) {
            c->nomem = 1;
        } else {
            s->hub_path = absolute_path(c, joined);
            free(joined);
            if (s->hub_path) {
                /* the hub file's own errors follow the scenario's (sorted apart: another file) */
                hs_err_t rc = hub_config_load_file(s->hub_path, &s->hub, c->hub_diags);
                if (rc == HS_ENOMEM)
                    c->nomem = 1;
                if (rc == HS_EIO)
                    diag(c, 0, HS_EIO, "$.hub", "cannot read hub config \"%s\"", s->hub_path);
                else if (rc != HS_EOK && json_diag_count(c->hub_diags) == 0)
                    diag(c, 0, rc, "$.hub", "hub config \"%s\" is not valid (%s)", s->hub_path, hs_strerror(rc));
            }
        }
    } else if (json_is_object(v)) {
        unsigned line = 0, col = 0;
        s->hub_json = json_deep_copy(v);
        if (!s->hub_json)
            c->nomem = 1;
        if (json_locate_value(c->loc, "$.hub", &line, &col) == HS_EOK) {
            size_t start = offset_of(c, line, col), end = object_end(c->text, c->len, start);
            char *blank = malloc(c->len + 1);
            if (!blank) {
                c->nomem = 1;
            } else {
                /* one space per character outside the object, newlines kept */
                size_t o = 0;
                for (size_t i = 0; i < c->len; i++) {
                    char ch = c->text[i];
                    if (i >= start && i < end)
                        blank[o++] = ch;
                    else if (ch == '\n')
                        blank[o++] = '\n';
                    else if (((unsigned char)ch & 0xC0) != 0x80)
                        blank[o++] = ' ';
                }
                blank[o] = '\0';
                hs_err_t rc = hub_config_load_json(blank, o, c->file, &s->hub, tmp);
                if (rc == HS_ENOMEM)
                    c->nomem = 1;
                merge_hub_diags(c, tmp);
                free(blank);
            }
        }
    } else {
        diag(c, 0, HS_EPARSE, "$.hub", "expected a hub config object or the path of a hub config file, got %s",
             json_type_label(v));
    }
    json_diag_list_free(tmp);
}

/* ---- top level ------------------------------------------------------------------------------ */

static void load_root(ctx_t *c, const json_t *root, scenario_t *s)
{
    char sub[PATH_CAP];
    if (!json_is_object(root)) {
        diag(c, 0, HS_EPARSE, "$", "expected a scenario object, got %s", json_type_label(root));
        return;
    }
    check_keys(c, root, "$", top_keys);
    json_t *schema = json_object_get(root, "$schema");
    if (schema && !json_is_string(schema))
        diag(c, 0, HS_EPARSE, "$.$schema", "expected string, got %s", json_type_label(schema));
    if (!get_string(c, root, "$", "name", 1, &s->name) && !c->nomem) {
        /* default: the file's base name without .json */
        const char *base = strrchr(c->file, '/');
        base = base ? base + 1 : c->file;
        size_t n = strlen(base);
        if (n > 5 && strcmp(base + n - 5, ".json") == 0)
            n -= 5;
        s->name = malloc(n + 1);
        if (!s->name) {
            c->nomem = 1;
        } else {
            memcpy(s->name, base, n);
            s->name[n] = '\0';
        }
    }
    get_string(c, root, "$", "description", 0, &s->description);
    long long seed;
    s->seed = 1;
    if (get_int(c, root, "$", "seed", 0, LLONG_MAX, &seed))
        s->seed = (uint64_t)seed;
    s->start_unix = SIM_DEFAULT_EPOCH_UNIX;
    json_t *start = json_object_get(root, "start");
    if (start) {
        int64_t unix_s;
        uint32_t nanos;
        char got[64];
        json_describe_value(start, got, sizeof got);
        if (!json_is_string(start) || sim_utc_parse(json_string_value(start), &unix_s, &nanos) != HS_EOK)
            diag(c, 0, HS_EPARSE, "$.start", "expected a UTC instant such as \"2026-01-01T00:00:00Z\", got %s", got);
        else if (nanos)
            diag(c, 0, HS_ERANGE, "$.start", "expected a whole second, got %s", got);
        else
            s->start_unix = unix_s;
    }
    if (!json_object_get(root, "duration"))
        diag(c, 0, HS_EPARSE, "$", "missing required key \"duration\"");
    else if (get_duration(c, root, "$", "duration", &s->duration) && s->duration == 0)
        diag(c, 0, HS_ERANGE, "$.duration", "expected a duration above 0");
    s->sample_interval = s->duration / 120 ? s->duration / 120 : 1;
    if (get_duration(c, root, "$", "sampleInterval", &s->sample_interval) &&
        (s->sample_interval == 0 || (s->duration && s->sample_interval > s->duration))) {
        diag(c, 0, HS_ERANGE, "$.sampleInterval", "expected a duration above 0 and at most the run's duration");
        s->sample_interval = s->duration / 120 ? s->duration / 120 : 1;
    }

    json_t *hub = json_object_get(root, "hub");
    if (hub)
        load_hub(c, hub, s);

    json_t *groups = get_array(c, root, "$", "groups");
    if (!json_object_get(root, "groups"))
        diag(c, 0, HS_EPARSE, "$", "missing required key \"groups\"");
    else if (groups && json_array_size(groups) == 0)
        diag(c, 0, HS_ERANGE, "$.groups", "expected at least one device group");
    if (groups && json_array_size(groups)) {
        s->groups = xcalloc(c, json_array_size(groups), sizeof *s->groups);
        for (size_t i = 0; s->groups && i < json_array_size(groups); i++) {
            json_t *g = json_array_get(groups, i);
            path_index(sub, "$.groups", i);
            if (!json_is_object(g)) {
                diag(c, 0, HS_EPARSE, sub, "expected object, got %s", json_type_label(g));
                continue;
            }
            scn_group_t *grp = &s->groups[s->ngroups++];
            load_group(c, g, sub, s->duration ? s->duration : SIM_TIME_MAX, grp);
            for (size_t j = 0; grp->name && j + 1 < s->ngroups; j++) {
                if (s->groups[j].name && strcmp(s->groups[j].name, grp->name) == 0) {
                    char np[PATH_CAP];
                    path_join(np, sub, "name");
                    diag(c, 0, HS_EINVAL, np, "duplicate group name \"%s\"", grp->name);
                }
            }
        }
        /* ids only when every element was an object, so indexes line up */
        if (s->ngroups == json_array_size(groups))
            check_id_patterns(c, groups, s);
        check_gateways(c, s);
    }

    json_t *actors = get_array(c, root, "$", "actors");
    if (actors && json_array_size(actors)) {
        s->actors = xcalloc(c, json_array_size(actors), sizeof *s->actors);
        for (size_t i = 0; s->actors && i < json_array_size(actors); i++) {
            json_t *a = json_array_get(actors, i);
            path_index(sub, "$.actors", i);
            if (!json_is_object(a)) {
                diag(c, 0, HS_EPARSE, sub, "expected object, got %s", json_type_label(a));
                continue;
            }
            scn_actor_t *act = &s->actors[s->nactors++];
            load_actor(c, a, sub, i, s, act);
            for (size_t j = 0; act->name && j + 1 < s->nactors; j++) {
                if (s->actors[j].name && strcmp(s->actors[j].name, act->name) == 0) {
                    char np[PATH_CAP];
                    path_join(np, sub, json_object_get(a, "name") ? "name" : "kind");
                    diag(c, 0, HS_EINVAL, np, "duplicate actor name \"%s\"", act->name);
                }
            }
        }
    }
    json_t *faults = get_array(c, root, "$", "faults");
    if (faults && json_array_size(faults)) {
        s->faults = xcalloc(c, json_array_size(faults), sizeof *s->faults);
        for (size_t i = 0; s->faults && i < json_array_size(faults); i++) {
            json_t *f = json_array_get(faults, i);
            path_index(sub, "$.faults", i);
            if (!json_is_object(f)) {
                diag(c, 0, HS_EPARSE, sub, "expected object, got %s", json_type_label(f));
                continue;
            }
            load_fault(c, f, sub, s, &s->faults[s->nfaults++]);
        }
    }
    json_t *ex = get_array(c, root, "$", "expectations");
    if (ex && json_array_size(ex))
        load_expectations(c, ex, s);
}

static hs_err_t worst_code(const json_diag_list_t *list)
{
    int parse = 0, inval = 0, range = 0, io = 0;
    for (size_t i = 0; i < json_diag_count(list); i++) {
        hs_err_t code = json_diag_get(list, i)->code;
        parse |= code == HS_EPARSE;
        inval |= code == HS_EINVAL;
        range |= code == HS_ERANGE;
        io |= code == HS_EIO;
    }
    (void)inval;
    (void)range;
    if (io && !parse && !inval && !range)
        return HS_EIO;
    return json_diag_count(list) ? HS_EPARSE : HS_EOK;
}

hs_err_t scenario_load_text(const char *text, size_t len, const char *name, scenario_t *out,
                            json_diag_list_t *diags)
{
    if (!out)
        return HS_EINVAL;
    memset(out, 0, sizeof *out);
    if (!text && len)
        return HS_EINVAL;
    if (!name)
        name = "<scenario>";
    json_diag_list_t *list = NULL, *hub_list = NULL;
    if (json_diag_list_new(&list) != HS_EOK)
        return HS_ENOMEM;
    if (json_diag_list_new(&hub_list) != HS_EOK) {
        json_diag_list_free(list);
        return HS_ENOMEM;
    }
    scenario_t *s = out;
    hub_config_defaults(&s->hub);
    ctx_t c = { .file = name, .text = text ? text : "", .len = len, .diags = list, .hub_diags = hub_list };
    hs_err_t rc;

    json_error_t jerr;
    json_t *root = json_loadb(c.text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_locate_t *loc = NULL;
    if (!root) {
        if (json_diag_add(list, HS_EPARSE, name, jerr.line > 0 ? (unsigned)jerr.line : 0,
                          jerr.column > 0 ? (unsigned)jerr.column : 0, "", "%s", jerr.text) != HS_EOK)
            c.nomem = 1;
    } else if (json_locate_new(c.text, len, &loc) != HS_EOK) {
        c.nomem = 1;
    } else {
        c.loc = loc;
        load_root(&c, root, s);
        s->path = xstrdup(&c, name);
    }
    json_diag_sort(list);
    for (size_t i = 0; i < json_diag_count(hub_list); i++) {
        const json_diag_t *d = json_diag_get(hub_list, i);
        if (json_diag_add(list, d->code, d->file, d->line, d->column, d->path, "%s", d->message) != HS_EOK)
            c.nomem = 1;
    }
    json_diag_list_free(hub_list);
    rc = c.nomem ? HS_ENOMEM : worst_code(list);
    if (!c.nomem && diags) {
        for (size_t i = 0; i < json_diag_count(list); i++) {
            const json_diag_t *d = json_diag_get(list, i);
            if (json_diag_add(diags, d->code, d->file, d->line, d->column, d->path, "%s", d->message) != HS_EOK) {
                rc = HS_ENOMEM;
                break;
            }
        }
    }
    json_diag_list_free(list);
    json_locate_free(loc);
    json_decref(root);
    if (rc != HS_EOK)
        scenario_free(s);
    return rc;
}

hs_err_t scenario_load_file(const char *path, scenario_t *out, json_diag_list_t *diags)
{
    if (!out || !path)
        return HS_EINVAL;
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (f) {
        for (;;) {
            if (len + 4096 + 1 > cap) {
                cap = cap ? cap * 2 : 65536;
                char *nb = realloc(buf, cap);
                if (!nb) {
                    free(buf);
                    fclose(f);
                    return HS_ENOMEM;
                }
                buf = nb;
            }
            size_t n = fread(buf + len, 1, cap - len - 1, f);
            len += n;
            if (n == 0)
                break;
        }
        int err = ferror(f);
        fclose(f);
        if (err) {
            free(buf);
            buf = NULL;
        }
    }
    if (!buf) {
        if (diags)
            json_diag_add(diags, HS_EIO, path, 0, 0, "", "cannot read scenario file");
        return HS_EIO;
    }
    buf[len] = '\0';
    hs_err_t rc = scenario_load_text(buf, len, path, out, diags);
    free(buf);
    return rc;
}

/* ---- free -------------------------------------------------------------------------------------- */

static void free_kv(scn_kv_t *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].name);
        free(kv[i].value);
    }
    free(kv);
}

void scenario_free(scenario_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ngroups; i++) {
        scn_group_t *g = &s->groups[i];
        free(g->name);
        free(g->id_pattern);
        for (size_t j = 0; j < g->nmodules; j++)
            free(g->modules[j]);
        free(g->modules);
        scn_telemetry_t *t = &g->telemetry;
        free(t->schedule);
        free(t->payload_template);
        free(t->content_type);
        free(t->content_encoding);
        free(t->message_id);
        free_kv(t->app_props, t->napp_props);
        free_kv(t->sys_props, t->nsys_props);
        free(g->connectivity.offline);
        free(g->connectivity.storms);
        for (size_t j = 0; j < g->nmethods; j++)
            free(g->methods[j].method);
        free(g->methods);
        free(g->behind);
    }
    free(s->groups);
    for (size_t i = 0; i < s->nactors; i++) {
        scn_actor_t *a = &s->actors[i];
        free(a->name);
        free(a->group);
        for (size_t j = 0; j < a->pick.nids; j++)
            free(a->pick.ids[j]);
        free(a->pick.ids);
        free(a->method);
        free(a->query_condition);
        free(a->ack);
    }
    free(s->actors);
    for (size_t i = 0; i < s->nfaults; i++) {
        free(s->faults[i].group);
        free(s->faults[i].endpoint);
        free(s->faults[i].rule);
    }
    free(s->faults);
    for (size_t i = 0; i < s->nexpectations; i++) {
        free(s->expectations[i].text);
        free(s->expectations[i].name);
    }
    free(s->expectations);
    free(s->path);
    free(s->name);
    free(s->description);
    free(s->hub_path);
    if (s->hub_json)
        json_decref(s->hub_json);
    hub_config_free(&s->hub);
    memset(s, 0, sizeof *s);
}

/* ---- serialisation ------------------------------------------------------------------------------ */

/* The largest unit that divides v: "48h", "90s", "1500ms". */
static json_t *j_duration(sim_time_t v)
{
    static const struct { sim_time_t unit; const char *name; } units[] = {
        { 24 * SIM_HOUR, "d" }, { SIM_HOUR, "h" }, { SIM_MIN, "m" }, { SIM_SEC, "s" },
        { SIM_MS, "ms" },       { SIM_US, "us" },
    };
    char buf[48];
    snprintf(buf, sizeof buf, "%lluns", (unsigned long long)v);
    if (v == 0)
        snprintf(buf, sizeof buf, "0s");
    for (size_t i = 0; v && i < sizeof units / sizeof units[0]; i++) {
        if (v % units[i].unit == 0) {
            snprintf(buf, sizeof buf, "%llu%s", (unsigned long long)(v / units[i].unit), units[i].name);
            break;
        }
    }
    return json_string(buf);
}

static json_t *j_size(uint64_t v)
{
    char buf[48];
    if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
        snprintf(buf, sizeof buf, "%lluMB", (unsigned long long)(v / (1024 * 1024)));
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(buf, sizeof buf, "%lluKB", (unsigned long long)(v / 1024));
    else
        return json_integer((json_int_t)v);
    return json_string(buf);
}

static json_t *j_dist(const scn_dist_t *d, dist_unit_t unit)
{
    json_t *(*val)(uint64_t) = NULL;
    json_t *a, *b = NULL;
    if (unit == DIST_DURATION) {
        a = j_duration(d->a);
        if (d->kind == SCN_DIST_UNIFORM || d->kind == SCN_DIST_NORMAL)
            b = j_duration(d->b);
    } else {
        a = json_integer((json_int_t)d->a);
        if (d->kind == SCN_DIST_UNIFORM || d->kind == SCN_DIST_NORMAL)
            b = json_integer((json_int_t)d->b);
    }
    (void)val;
    if (d->kind == SCN_DIST_LOGNORMAL)
        b = json_real(d->sigma);
    if (d->kind == SCN_DIST_FIXED)
        return a;
    json_t *o = json_object();
    if (d->kind == SCN_DIST_EXPONENTIAL) {
        json_object_set_new(o, "exponential", a);
    } else {
        json_t *arr = json_array();
        json_array_append_new(arr, a);
        json_array_append_new(arr, b);
        json_object_set_new(o, dist_names[d->kind], arr);
    }
    return o;
}

static json_t *j_str(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *j_times(const uint64_t *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, j_duration(t[i]));
    return a;
}

static json_t *j_props(const scn_kv_t *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, kv[i].name, json_string(kv[i].value));
    return o;
}

static json_t *j_group(const scn_group_t *g)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", j_str(g->name));
    json_object_set_new(o, "count", json_integer((json_int_t)g->count));
    json_object_set_new(o, "idPattern", j_str(g->id_pattern));
    json_t *mods = json_array();
    for (size_t i = 0; i < g->nmodules; i++)
        json_array_append_new(mods, json_string(g->modules[i]));
    json_object_set_new(o, "modules", mods);
    json_object_set_new(o, "auth", json_string(auth_names[g->auth]));
    json_object_set_new(o, "protocol", json_string(protocol_names[g->protocol]));
    json_object_set_new(o, "linkLatency", j_dist(&g->link_latency, DIST_DURATION));
    if (g->gateway)
        json_object_set_new(o, "gateway", json_true());
    if (g->behind)
        json_object_set_new(o, "behind", json_string(g->behind));
    if (g->uploads.enabled) {
        json_t *u = json_object();
        json_object_set_new(u, "interval", j_dist(&g->uploads.interval, DIST_DURATION));
        json_object_set_new(u, "fileSize", j_dist(&g->uploads.file_size, DIST_SIZE));
        json_object_set_new(u, "bandwidth", j_size(g->uploads.bandwidth));
        json_object_set_new(u, "failureProbability", json_real(g->uploads.p_failure));
        json_object_set_new(u, "noNotifyProbability", json_real(g->uploads.p_no_notify));
        json_object_set_new(o, "uploads", u);
    }

    const scn_telemetry_t *t = &g->telemetry;
    json_t *to = json_object();
    json_object_set_new(to, "enabled", json_boolean(t->enabled));
    json_object_set_new(to, "interval", j_dist(&t->interval, DIST_DURATION));
    if (t->nschedule)
        json_object_set_new(to, "schedule", j_times(t->schedule, t->nschedule));
    json_object_set_new(to, "payloadSize", j_size(t->payload_size));
    if (t->payload_template)
        json_object_set_new(to, "payload", json_string(t->payload_template));
    if (t->content_type)
        json_object_set_new(to, "contentType", json_string(t->content_type));
    if (t->content_encoding)
        json_object_set_new(to, "contentEncoding", json_string(t->content_encoding));
    if (t->message_id)
        json_object_set_new(to, "messageId", json_string(t->message_id));
    json_object_set_new(to, "properties", j_props(t->app_props, t->napp_props));
    json_object_set_new(to, "systemProperties", j_props(t->sys_props, t->nsys_props));
    json_t *burst = json_object();
    json_object_set_new(burst, "probability", json_real(t->burst_probability));
    json_object_set_new(burst, "size", j_dist(&t->burst_size, DIST_COUNT));
    json_object_set_new(burst, "gap", j_dist(&t->burst_gap, DIST_DURATION));
    json_object_set_new(to, "burst", burst);
    /* a group without telemetry still has the object, disabled */
    json_object_set_new(o, "telemetry", to);

    const scn_connectivity_t *k = &g->connectivity;
    json_t *ko = json_object();
    json_t *off = json_array();
    for (size_t i = 0; i < k->noffline; i++) {
        json_t *w = json_object();
        json_object_set_new(w, "start", j_duration(k->offline[i].start));
        json_object_set_new(w, "end", j_duration(k->offline[i].end));
        json_array_append_new(off, w);
    }
    json_object_set_new(ko, "offline", off);
    if (k->outages) {
        json_t *out = json_object();
        json_object_set_new(out, "timeBetweenFailures", j_dist(&k->time_between_failures, DIST_DURATION));
        json_object_set_new(out, "timeToRepair", j_dist(&k->time_to_repair, DIST_DURATION));
        json_object_set_new(ko, "outages", out);
    }
    json_t *b = json_object();
    json_object_set_new(b, "initial", j_duration(k->backoff_initial));
    json_object_set_new(b, "max", j_duration(k->backoff_max));
    json_object_set_new(b, "multiplier", json_real(k->backoff_multiplier));
    json_object_set_new(b, "jitter", json_real(k->backoff_jitter));
    json_object_set_new(ko, "backoff", b);
    json_object_set_new(ko, "storms", j_times(k->storms, k->nstorms));
    json_object_set_new(ko, "connectAt", j_duration(k->connect_at));
    json_object_set_new(ko, "connectSpread", j_duration(k->connect_spread));
    json_object_set_new(o, "connectivity", ko);

    json_t *ms = json_array();
    for (size_t i = 0; i < g->nmethods; i++) {
        const scn_method_handler_t *h = &g->methods[i];
        json_t *m = json_object();
        json_object_set_new(m, "name", json_string(h->method));
        json_object_set_new(m, "subscribed", json_boolean(h->subscribed));
        json_object_set_new(m, "latency", j_dist(&h->latency, DIST_DURATION));
        json_object_set_new(m, "status", json_integer(h->status));
        json_object_set_new(m, "responseSize", j_size(h->response_size));
        json_object_set_new(m, "noAnswerProbability", json_real(h->p_no_answer));
        json_array_append_new(ms, m);
    }
    json_object_set_new(o, "methods", ms);

    json_t *tw = json_object();
    json_object_set_new(tw, "reportOnDesired", json_boolean(g->twin.report_on_desired));
    json_object_set_new(tw, "reportDelay", j_dist(&g->twin.report_delay, DIST_DURATION));
    if (g->twin.periodic)
        json_object_set_new(tw, "periodicInterval", j_dist(&g->twin.periodic_interval, DIST_DURATION));
    json_object_set_new(tw, "reportedSize", j_size(g->twin.reported_size));
    json_object_set_new(o, "twin", tw);

    json_t *c2 = json_object();
    json_object_set_new(c2, "subscribed", json_boolean(g->c2d.subscribed));
    json_object_set_new(c2, "complete", json_real(g->c2d.p_complete));
    json_object_set_new(c2, "reject", json_real(g->c2d.p_reject));
    json_object_set_new(c2, "abandon", json_real(g->c2d.p_abandon));
    json_object_set_new(c2, "ignore", json_real(g->c2d.p_ignore));
    json_object_set_new(c2, "processingDelay", j_dist(&g->c2d.processing_delay, DIST_DURATION));
    json_object_set_new(o, "c2d", c2);

    const scn_misbehaviour_t *m = &g->misbehaviour;
    json_t *mo = json_object();
    json_object_set_new(mo, "oversized", json_real(m->p_oversized));
    json_object_set_new(mo, "oversizedSize", j_size(m->oversized_size));
    json_object_set_new(mo, "badProperty", json_real(m->p_bad_property));
    json_object_set_new(mo, "spoofSystemProperties", json_real(m->p_spoof));
    json_object_set_new(mo, "badSas", json_real(m->p_bad_sas));
    json_object_set_new(mo, "expiredSas", json_real(m->p_expired_sas));
    json_object_set_new(mo, "unknownRid", json_real(m->p_unknown_rid));
    json_object_set_new(o, "misbehaviour", mo);
    return o;
}

static json_t *j_pick(const scn_pick_t *p)
{
    json_t *o;
    switch (p->kind) {
    case SCN_PICK_ZIPF:
        o = json_object();
        json_object_set_new(o, "zipf", json_real(p->zipf_s));
        return o;
    case SCN_PICK_EXPLICIT: {
        o = json_object();
        json_t *ids = json_array();
        for (size_t i = 0; i < p->nids; i++)
            json_array_append_new(ids, json_string(p->ids[i]));
        json_object_set_new(o, "ids", ids);
        return o;
    }
    case SCN_PICK_ROUND_ROBIN:
        return json_string("roundRobin");
    case SCN_PICK_UNIFORM:
        break;
    }
    return json_string("uniform");
}

static json_t *j_actor(const scn_actor_t *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", j_str(a->name));
    json_object_set_new(o, "kind", json_string(actor_kind_names[a->kind]));
    json_object_set_new(o, "group", j_str(a->group));
    json_object_set_new(o, "pick", j_pick(&a->pick));
    if (a->kind != SCN_ACTOR_REGISTRY && (a->kind != SCN_ACTOR_JOB || a->job_repeat))
        json_object_set_new(o, "interval", j_dist(&a->interval, DIST_DURATION));
    json_object_set_new(o, "start", j_duration(a->start));
    json_object_set_new(o, "end", j_duration(a->end));
    switch (a->kind) {
    case SCN_ACTOR_METHOD_INVOKER:
        json_object_set_new(o, "method", j_str(a->method));
        json_object_set_new(o, "payloadSize", j_size(a->payload_size));
        if (a->has_response_timeout)
            json_object_set_new(o, "responseTimeout", json_integer(a->response_timeout_s));
        if (a->has_connect_timeout)
            json_object_set_new(o, "connectTimeout", json_integer(a->connect_timeout_s));
        break;
    case SCN_ACTOR_C2D_SENDER:
        json_object_set_new(o, "ack", j_str(a->ack));
        json_object_set_new(o, "ttl", j_duration(a->ttl));
        json_object_set_new(o, "messageSize", j_size(a->message_size));
        break;
    case SCN_ACTOR_TWIN_UPDATER:
        json_object_set_new(o, "patchSize", j_size(a->patch_size));
        break;
    case SCN_ACTOR_JOB:
        json_object_set_new(o, "jobType", json_string(job_type_names[a->job_type]));
        json_object_set_new(o, "queryCondition", j_str(a->query_condition));
        json_object_set_new(o, "startTime", j_duration(a->job_start_delay));
        json_object_set_new(o, "maxExecutionTime", j_duration(a->max_exec_s * SIM_SEC));
        json_object_set_new(o, "pollInterval", j_duration(a->poll_interval));
        if (a->job_type == SCN_JOB_METHOD) {
            json_object_set_new(o, "method", j_str(a->method));
            json_object_set_new(o, "payloadSize", j_size(a->payload_size));
            if (a->has_response_timeout)
                json_object_set_new(o, "responseTimeout", json_integer(a->response_timeout_s));
            if (a->has_connect_timeout)
                json_object_set_new(o, "connectTimeout", json_integer(a->connect_timeout_s));
        } else {
            json_object_set_new(o, "patchSize", j_size(a->patch_size));
        }
        break;
    case SCN_ACTOR_REGISTRY:
        json_object_set_new(o, "op", json_string(op_names[a->op]));
        json_object_set_new(o, "fraction", json_real(a->fraction));
        break;
    }
    return o;
}

static json_t *j_fault(const scn_fault_t *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(fault_kind_names[f->kind]));
    json_object_set_new(o, "at", j_duration(f->at));
    json_object_set_new(o, "duration", j_duration(f->duration));
    switch (f->kind) {
    case SCN_FAULT_DROP_CONNECTIONS:
        json_object_set_new(o, "group", j_str(f->group));
        json_object_set_new(o, "fraction", json_real(f->fraction));
        break;
    case SCN_FAULT_THROTTLE:
        json_object_set_new(o, "units", json_integer(f->units));
        break;
    case SCN_FAULT_DELAY_METHODS:
        json_object_set_new(o, "delay", j_duration(f->delay));
        break;
    case SCN_FAULT_ENDPOINT_UNREACHABLE:
        json_object_set_new(o, "endpoint", j_str(f->endpoint));
        break;
    case SCN_FAULT_BREAK:
        json_object_set_new(o, "rule", j_str(f->rule));
        break;
    }
    return o;
}

/* Same shape and every real bit-identical (a and b come from one dump). */
static int reals_identical(const json_t *a, const json_t *b)
{
    if (json_is_real(a))
        return json_is_real(b) && memcmp(&(double){ json_real_value(a) }, &(double){ json_real_value(b) },
                                         sizeof(double)) == 0;
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            if (!reals_identical(v, json_object_get(b, k)))
                return 0;
        }
        return 1;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!reals_identical(json_array_get(a, i), json_array_get(b, i)))
                return 0;
    }
    return 1;
}

char *scenario_to_json(const scenario_t *s)
{
    if (!s)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", j_str(s->name));
    if (s->description)
        json_object_set_new(o, "description", json_string(s->description));
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    char start[40];
    int64_t days = s->start_unix / 86400;
    (void)days;
    sim_utc_format(s->start_unix, 0, start, sizeof start);
    /* "2026-01-01T00:00:00.0000000Z" -> whole seconds as the loader wants */
    char *dot = strchr(start, '.');
    if (dot) {
        dot[0] = 'Z';
        dot[1] = '\0';
    }
    json_object_set_new(o, "start", json_string(start));
    json_object_set_new(o, "duration", j_duration(s->duration));
    json_object_set_new(o, "sampleInterval", j_duration(s->sample_interval));
    if (s->hub_path)
        json_object_set_new(o, "hub", json_string(s->hub_path));
    else if (s->hub_json)
        json_object_set_new(o, "hub", json_deep_copy(s->hub_json));
    json_t *groups = json_array();
    for (size_t i = 0; i < s->ngroups; i++)
        json_array_append_new(groups, j_group(&s->groups[i]));
    json_object_set_new(o, "groups", groups);
    json_t *actors = json_array();
    for (size_t i = 0; i < s->nactors; i++)
        json_array_append_new(actors, j_actor(&s->actors[i]));
    json_object_set_new(o, "actors", actors);
    json_t *faults = json_array();
    for (size_t i = 0; i < s->nfaults; i++)
        json_array_append_new(faults, j_fault(&s->faults[i]));
    json_object_set_new(o, "faults", faults);
    json_t *ex = json_array();
    for (size_t i = 0; i < s->nexpectations; i++) {
        const scn_expectation_t *x = &s->expectations[i];
        if (x->name) {
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(x->name));
            json_object_set_new(e, "expect", j_str(x->text));
            json_array_append_new(ex, e);
        } else {
            json_array_append_new(ex, j_str(x->text));
        }
    }
    json_object_set_new(o, "expectations", ex);
    /* 15 significant digits read best (0.2, not 0.20000000000000001); fall
     * back to 17, which is always exact, when some number would not come
     * back bit for bit */
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    if (text && (!back || !reals_identical(o, back))) {
        free(text);
        text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    }
    json_decref(back);
    json_decref(o);
    return text;
}

/* ---- key walk ------------------------------------------------------------------------------------- */

static void walk_keys(const keyspec_t *keys, const char *prefix, void (*fn)(void *, const char *), void *ctx)
{
    char path[PATH_CAP];
    for (size_t i = 0; keys[i].key; i++) {
        path_join(path, prefix, keys[i].key);
        fn(ctx, path);
        if (keys[i].child) {
            if (keys[i].array) {
                size_t n = strlen(path);
                if (n + 3 <= sizeof path)
                    memcpy(path + n, "[]", 3);
            }
            walk_keys(keys[i].child, path, fn, ctx);
        }
    }
}

void scenario_for_each_key(void (*fn)(void *ctx, const char *path), void *ctx)
{
    if (fn)
        walk_keys(top_keys, "$", fn, ctx);
}
