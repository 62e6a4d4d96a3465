/* Hub configuration: defaults, the table-driven JSON loader with positioned errors, copy and free. */

/*
 * Model.  Every object in the file has a shape: a table of fields, each with
 * its key, kind (bool, integer, size, duration, enum, rate, string, object,
 * array, opaque), where the value lands (an offset from the object's base
 * pointer) and its bounds.  One generic walker applies a JSON object to a
 * shape: unknown keys, wrong types, out-of-range values and missing required
 * keys all become diagnostics positioned by json_locate, and the walk goes
 * on, so a file with five mistakes yields five lines.  Arrays that allocate
 * (devices, modules) or fill fixed slots (policies) have small handlers.
 * Cross-field rules (min <= default <= max, unique ids, parents that exist)
 * run after the walk, and derived values (host name, S1 rates, the method
 * payload limit in the chosen KB) are resolved last, only where the file did
 * not set them.  hub_config_for_each_key() walks the same tables, so the
 * JSON Schema test compares against the loader's real key set.
 */

#include "sim/units.h"
#include "sim/hub/hub_config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_CAP 1024

/* K_ENUM stores an int index into enum-typed fields. */
_Static_assert(sizeof(hub_config_auth_kind_t) == sizeof(int), "enums are int-sized");
_Static_assert(sizeof(hub_config_throttle_profile_t) == sizeof(int), "enums are int-sized");
#define NO_TARGET ((size_t)-1)

/* ---- defaults ------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *primary;
    const char *secondary;
    unsigned rights;
} default_policy_t;

/* The five policies a new Azure IoT hub is created with [doc].  Keys are
 * fixed (base64 of SHA-256 of "hubsim default policy key:NAME:primary|secondary")
 * so every run of every checkout agrees; they are not secrets. */
static const default_policy_t default_policies[] = {
    { "iothubowner", "nQ9Ms+NDeIZhwcy3lBpi65VfQgKvb5/Wg1J50AnbH7U=",
      "gcZskB3yMx024YSwwsv1IKlIB3P3VqlX5170355TWx0=", HUB_RIGHT_ALL },
    { "service", "/vxOAOrpe0Hihw6Qtifiuo/gM2K6YEkP764e++SBXe4=",
      "kWRDkl5BBk17jAG7MlWMb5SsiyyLf8ImAwIMOKVNHh0=", HUB_RIGHT_SERVICE_CONNECT },
    { "device", "sXpa54wD8G7AeUuprHJmsFR2GVU/DyLbqJBTlXyP7mY=",
      "SYn4OgT36GVjBUKq/WAphv4Pd1o5pJfoQXy0LJyLIU0=", HUB_RIGHT_DEVICE_CONNECT },
    { "registryRead", "mo29yBvLoy1pAym16cdcpVHnkPW3ewPa+o4Xqg8uYuw=",
      "JBa8JswjfeJBx3r8IF7p1Spn+SRt6TIKSaaKFOyRWcU=", HUB_RIGHT_REGISTRY_READ },
    { "registryReadWrite", "JYyqFEn2uog+R+SbgHaGQpFkHcS87jbKoJ0oEJuEuag=",
      "rZGX/hihcsEVoDdr+jWiroVIwUM3EfkzWMMZyiuXa+Y=",
      HUB_RIGHT_REGISTRY_READ | HUB_RIGHT_REGISTRY_WRITE },
};

#define HUB_DEFAULT_NAME "hubsim"
#define HUB_HOST_SUFFIX ".azure-devices.net"

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void hub_config_defaults(hub_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    copy_str(cfg->name, sizeof cfg->name, HUB_DEFAULT_NAME);
    snprintf(cfg->host, sizeof cfg->host, "%s%s", cfg->name, HUB_HOST_SUFFIX);
    for (size_t i = 0; i < sizeof default_policies / sizeof default_policies[0]; i++) {
        hub_config_policy_t *p = &cfg->policies[i];
        copy_str(p->name, sizeof p->name, default_policies[i].name);
        copy_str(p->primary_key, sizeof p->primary_key, default_policies[i].primary);
        copy_str(p->secondary_key, sizeof p->secondary_key, default_policies[i].secondary);
        p->rights = default_policies[i].rights;
        cfg->n_policies++;
    }

    cfg->quotas.daily_messages = 0;
    cfg->quotas.message_chunk = 4096;

    cfg->throttling.profile = HUB_THROTTLE_OFF;
    cfg->throttling.units = 1;
    cfg->throttling.window = SIM_SEC;
    /* rates stay 0 = unlimited for profile off */

    cfg->deadline_wins = true;

    cfg->methods.kb_size = 1024;
    cfg->methods.max_payload_bytes = 128u * 1024u;
    cfg->methods.name_max_length = 100;
    cfg->methods.oversized_response_status = 400;
    cfg->methods.late_response = HUB_LATE_RESPONSE_DROP;
    cfg->methods.unknown_rid = HUB_UNKNOWN_RID_IGNORE;
    cfg->methods.response_timeout_default = 30 * SIM_SEC;
    cfg->methods.response_timeout_min = 5 * SIM_SEC;
    cfg->methods.response_timeout_max = 300 * SIM_SEC;
    cfg->methods.connect_timeout_default = 0;
    cfg->methods.connect_timeout_max = 300 * SIM_SEC;

    cfg->messages.d2c_max_bytes = 256u * 1024u;
    cfg->messages.c2d_max_bytes = 64u * 1024u;
    cfg->messages.message_id_max_length = 128;

    cfg->c2d.max_queue_depth = 50;
    cfg->c2d.ttl_default = SIM_HOUR;
    cfg->c2d.ttl_max = 48 * SIM_HOUR;
    cfg->c2d.lock_timeout = SIM_MIN;
    cfg->c2d.max_delivery_count = 10;
    cfg->c2d.feedback_batch_records = 64;
    cfg->c2d.feedback_flush_interval = 15 * SIM_SEC;

    cfg->file_upload.notifications = false;
    cfg->file_upload.sas_ttl = SIM_HOUR;
    cfg->file_upload.max_concurrent_per_device = 10;
    cfg->file_upload.notification_ttl = SIM_HOUR;
    cfg->file_upload.notification_max_delivery_count = 10;
    cfg->file_upload.notification_lock_duration = SIM_MIN;

    cfg->twins.tags_max_bytes = 8u * 1024u;
    cfg->twins.desired_max_bytes = 32u * 1024u;
    cfg->twins.reported_max_bytes = 32u * 1024u;
    cfg->twins.max_depth = 10;
    cfg->twins.key_max_bytes = 1024;
    cfg->twins.string_value_max_bytes = 4u * 1024u;

    cfg->mqtt.unknown_topic = HUB_UNKNOWN_TOPIC_CLOSE;
    cfg->mqtt.keep_alive_max = 1767 * SIM_SEC;
    cfg->mqtt.keep_alive_grace_permille = 1500;

    cfg->amqp.allow_no_sasl = true;
    cfg->amqp.allow_sasl_anonymous = true;
    cfg->amqp.allow_sasl_plain = true;

    cfg->route_query.bare_dollar_name = HUB_DOLLAR_NAME_SYSTEM_FIRST;
    cfg->route_query.type_functions = true;

    cfg->devices = NULL;
    cfg->n_devices = 0;
    cfg->routing = NULL;
}

void hub_config_free(hub_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_devices; i++)
        free(cfg->devices[i].modules);
    free(cfg->devices);
    if (cfg->routing)
        json_decref(cfg->routing);
    hub_config_defaults(cfg);
}

hs_err_t hub_config_copy(hub_config_t *dst, const hub_config_t *src)
{
    if (!dst || !src)
        return HS_EINVAL;
    hub_config_t tmp = *src;
    tmp.devices = NULL;
    tmp.n_devices = 0;
    tmp.routing = NULL;
    if (src->n_devices) {
        tmp.devices = calloc(src->n_devices, sizeof *tmp.devices);
        if (!tmp.devices)
            return HS_ENOMEM;
        for (size_t i = 0; i < src->n_devices; i++) {
            tmp.devices[i] = src->devices[i];
            tmp.devices[i].modules = NULL;
            tmp.devices[i].n_modules = 0;
            tmp.n_devices = i + 1;
            size_t nm = src->devices[i].n_modules;
            if (nm) {
                hub_config_module_t *m = malloc(nm * sizeof *m);
                if (!m) {
                    hub_config_free(&tmp);
                    return HS_ENOMEM;
                }
                memcpy(m, src->devices[i].modules, nm * sizeof *m);
                tmp.devices[i].modules = m;
                tmp.devices[i].n_modules = nm;
            }
        }
    }
    if (src->routing) {
        /* a private copy: the routing engine may keep it past the source's life */
        tmp.routing = json_deep_copy(src->routing);
        if (!tmp.routing) {
            hub_config_free(&tmp);
            return HS_ENOMEM;
        }
    }
    *dst = tmp;
    return HS_EOK;
}

const hub_config_device_t *hub_config_find_device(const hub_config_t *cfg, const char *device_id)
{
    if (!cfg || !device_id)
        return NULL;
    for (size_t i = 0; i < cfg->n_devices; i++)
        if (strcmp(cfg->devices[i].id, device_id) == 0)
            return &cfg->devices[i];
    return NULL;
}

const hub_config_policy_t *hub_config_find_policy(const hub_config_t *cfg, const char *name)
{
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->n_policies; i++)
        if (strcmp(cfg->policies[i].name, name) == 0)
            return &cfg->policies[i];
    return NULL;
}

/* ---- loader context ------------------------------------------------------ */

typedef struct {
    const char *file;
    const char *base;          /* path of the config object: "$", or "$.hub" inside a scenario */
    const json_locate_t *loc;
    json_diag_list_t *diags;
    int nomem;
} load_ctx_t;

typedef enum {
    K_BOOL,      /* true/false */
    K_UINT,      /* integer in [min, max]; width 4 or 8 */
    K_UINT_SET,  /* integer, one of `values` */
    K_SIZE,      /* integer bytes or "256KB"; [min, max] bytes */
    K_DURATION,  /* "250ms" / "1h" or integer seconds; [min, max] ns */
    K_ENUM,      /* string, one of `names`; stored as int index */
    K_RATE,      /* number >= 0 per second, stored x1000 (uint64) */
    K_PERMILLE,  /* number in [min/1000, max/1000], stored x1000 (uint32) */
    K_STRING,    /* string into char[width]; length in [min, max]; `check` */
    K_OBJECT,    /* nested shape, base shifted by off */
    K_ARRAY,     /* handled by `handler` */
    K_OPAQUE     /* handled by `handler` (kept as json_t) */
} kind_t;

typedef struct field field_t;
typedef struct {
    const field_t *fields;
    size_t n;
} shape_t;

/* Returns NULL when s is acceptable, else what was expected ("a base64 key ..."). */
typedef const char *(*check_fn)(const char *s);
typedef void (*handler_fn)(load_ctx_t *ctx, const json_t *value, const char *path, void *base);

struct field {
    const char *key;
    kind_t kind;
    size_t off;      /* NO_TARGET: validated, not stored */
    size_t width;
    uint64_t min, max;
    const char *const *names;   /* K_ENUM: NULL-terminated */
    const uint64_t *values;     /* K_UINT_SET: `max` entries */
    const shape_t *child;       /* K_OBJECT; K_ARRAY: element shape (for the key walk) */
    check_fn check;             /* K_STRING */
    handler_fn handler;         /* K_ARRAY / K_OPAQUE */
    int required;
};

static void diag(load_ctx_t *ctx, int at_key, hs_err_t code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void diag(load_ctx_t *ctx, int at_key, hs_err_t code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (json_diag_vadd_at(ctx->diags, ctx->loc, at_key, code, ctx->file, path, fmt, ap) != HS_EOK)
        ctx->nomem = 1;
    va_end(ap);
}

static void store_u(void *p, size_t width, uint64_t v)
{
    if (width == sizeof(uint64_t)) {
        memcpy(p, &v, sizeof v);
    } else if (width == sizeof(uint32_t)) {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof x);
    } else if (width == sizeof(uint16_t)) {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, sizeof x);
    }
}

/* ---- value parsers ------------------------------------------------------- */

/* "262144", "256KB", "256 KB", "1MB", "512B", "2KiB".  KB and KiB are 1024
 * bytes (IoT Hub states its limits in binary KB); no fractions. */
static int parse_size_text(const char *s, uint64_t *out)
{
    return sim_size_parse(s, false, out) == HS_EOK;
}

static void format_size(uint64_t v, char *buf, size_t cap)
{
    if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
        snprintf(buf, cap, "%lluMB", (unsigned long long)(v / (1024 * 1024)));
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(buf, cap, "%lluKB", (unsigned long long)(v / 1024));
    else
        snprintf(buf, cap, "%llu", (unsigned long long)v);
}

/* The largest unit that divides v evenly: "48h", "90s", "1500ms" (messages
 * should echo bounds the way a person writes them in the file). */
static void format_duration(sim_time_t v, char *buf, size_t cap)
{
    static const struct { sim_time_t unit; const char *name; } units[] = {
        { SIM_HOUR, "h" }, { SIM_MIN, "m" }, { SIM_SEC, "s" }, { SIM_MS, "ms" }, { SIM_US, "us" },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (v && v % units[i].unit == 0) {
            snprintf(buf, cap, "%llu%s", (unsigned long long)(v / units[i].unit), units[i].name);
            return;
        }
    }
    snprintf(buf, cap, "%lluns", (unsigned long long)v);
    if (v == 0)
        snprintf(buf, cap, "0s");
}

/* ---- string checks --------------------------------------------------------- */

static const char *check_hub_name(const char *s)
{
    size_t n = strlen(s);
    if (s[0] == '-' || (n && s[n - 1] == '-'))
        goto bad;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            goto bad;
    }
    return NULL;
bad:
    return "a hub name of letters, digits and inner hyphens";
}

static const char *check_host(const char *s)
{
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return "a DNS host name (letters, digits, '-' and '.')";
    }
    return NULL;
}

/* Device and module ids: ASCII alphanumerics plus - : . + % _ # * ? ! ( ) , = @ ; $ ' [doc] */
static const char *check_identity(const char *s)
{
    static const char extra[] = "-:.+%_#*?!(),=@;$'";
    for (const char *p = s; *p; p++) {
        char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        if (strchr(extra, c))
            continue;
        return "an id of ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '";
    }
    return NULL;
}

/* Symmetric keys: base64 text decoding to 16-64 bytes [doc]. */
static const char *check_base64_key(const char *s)
{
    static const char *expect = "a base64 key of 16 to 64 bytes";
    size_t n = strlen(s);
    if (n == 0 || n % 4 != 0)
        return expect;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (c == '=' && i >= n - 2) {
            pad++;
            continue;
        }
        if (!ok || pad)
            return expect;
    }
    size_t bytes = n / 4 * 3 - pad;
    if (bytes < 16 || bytes > 64)
        return expect;
    return NULL;
}

static const char *check_thumbprint(const char *s)
{
    size_t n = strlen(s);
    if (n != 40 && n != 64)
        return "a hex SHA-1 (40 digits) or SHA-256 (64 digits) thumbprint";
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return "a hex SHA-1 (40 digits) or SHA-256 (64 digits) thumbprint";
    }
    return NULL;
}

static const char *check_printable(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
            return "printable ASCII text";
    return NULL;
}

/* ---- the generic walker ---------------------------------------------------- */

static void apply_object(load_ctx_t *ctx, const json_t *obj, const char *path, const shape_t *shape, void *base);

static int path_join(char *out, const char *parent, const char *key)
{
    if (out != parent)
        copy_str(out, PATH_CAP, parent);
    return json_path_key(out, PATH_CAP, key) == HS_EOK;
}

static int path_elem(char *out, const char *parent, size_t i)
{
    if (out != parent)
        copy_str(out, PATH_CAP, parent);
    return json_path_index(out, PATH_CAP, i) == HS_EOK;
}

static void type_error(load_ctx_t *ctx, const char *path, const char *expected, const json_t *v)
{
    diag(ctx, 0, HS_EPARSE, path, "expected %s, got %s", expected, json_type_label(v));
}

static void apply_field(load_ctx_t *ctx, const field_t *f, const json_t *v, const char *path, void *base)
{
    char *dst = f->off == NO_TARGET ? NULL : (char *)base + f->off;
    char got[64];
    char lo[32], hi[32];

    switch (f->kind) {
    case K_BOOL:
        if (!json_is_boolean(v)) {
            type_error(ctx, path, "boolean", v);
            return;
        }
        if (dst)
            *(bool *)dst = json_is_true(v);
        return;

    case K_UINT:
    case K_UINT_SET: {
        if (!json_is_integer(v)) {
            type_error(ctx, path, "integer", v);
            return;
        }
        json_int_t x = json_integer_value(v);
        if (f->kind == K_UINT) {
            if (x < 0 || (uint64_t)x < f->min || (uint64_t)x > f->max) {
                diag(ctx, 0, HS_ERANGE, path, "expected an integer in %llu..%llu, got %s",
                     (unsigned long long)f->min, (unsigned long long)f->max, json_describe_value(v, got, sizeof got));
                return;
            }
        } else {
            int ok = 0;
            char set[128] = "";
            for (size_t i = 0; i < f->max; i++) {
                if (x >= 0 && (uint64_t)x == f->values[i])
                    ok = 1;
                size_t len = strlen(set);
                snprintf(set + len, sizeof set - len, "%s%llu", i ? (i + 1 == f->max ? " or " : ", ") : "",
                         (unsigned long long)f->values[i]);
            }
            if (!ok) {
                diag(ctx, 0, HS_ERANGE, path, "expected %s, got %s", set, json_describe_value(v, got, sizeof got));
                return;
            }
        }
        if (dst)
            store_u(dst, f->width, (uint64_t)x);
        return;
    }

    case K_SIZE: {
        uint64_t x;
        if (json_is_integer(v)) {
            if (json_integer_value(v) < 0) {
                format_size(f->min, lo, sizeof lo);
                format_size(f->max, hi, sizeof hi);
                diag(ctx, 0, HS_ERANGE, path, "expected a size in %s..%s, got %s", lo, hi, json_describe_value(v, got, sizeof got));
                return;
            }
            x = (uint64_t)json_integer_value(v);
        } else if (json_is_string(v)) {
            if (!parse_size_text(json_string_value(v), &x)) {
                diag(ctx, 0, HS_EPARSE, path, "expected a size such as 4096 or \"256KB\", got %s", json_describe_value(v, got, sizeof got));
                return;
            }
        } else {
            type_error(ctx, path, "size (integer or string)", v);
            return;
        }
        if (x < f->min || x > f->max) {
            format_size(f->min, lo, sizeof lo);
            format_size(f->max, hi, sizeof hi);
            diag(ctx, 0, HS_ERANGE, path, "expected a size in %s..%s, got %s", lo, hi, json_describe_value(v, got, sizeof got));
            return;
        }
        if (dst)
            store_u(dst, f->width, x);
        return;
    }

    case K_DURATION: {
        sim_time_t x = 0;
        format_duration(f->min, lo, sizeof lo);
        format_duration(f->max, hi, sizeof hi);
        if (json_is_integer(v)) {
            json_int_t s = json_integer_value(v);
            if (s < 0 || (uint64_t)s > UINT64_MAX / SIM_SEC) {
                diag(ctx, 0, HS_ERANGE, path, "expected a duration in %s..%s, got %s", lo, hi, json_describe_value(v, got, sizeof got));
                return;
            }
            x = (sim_time_t)s * SIM_SEC;
        } else if (json_is_string(v)) {
            if (sim_duration_parse(json_string_value(v), &x) != HS_EOK) {
                diag(ctx, 0, HS_EPARSE, path, "expected a duration such as \"250ms\" or \"1h\", got %s", json_describe_value(v, got, sizeof got));
                return;
            }
        } else {
            type_error(ctx, path, "duration (string or integer seconds)", v);
            return;
        }
        if (x < f->min || x > f->max) {
            diag(ctx, 0, HS_ERANGE, path, "expected a duration in %s..%s, got %s", lo, hi, json_describe_value(v, got, sizeof got));
            return;
        }
        if (dst)
            store_u(dst, f->width, x);
        return;
    }

    case K_ENUM: {
        char set[160] = "";
        size_t count = 0;
        while (f->names[count])
            count++;
        for (size_t i = 0; i < count; i++) {
            size_t len = strlen(set);
            snprintf(set + len, sizeof set - len, "%s\"%s\"", i ? (i + 1 == count ? " or " : ", ") : "",
                     f->names[i]);
        }
        if (!json_is_string(v)) {
            diag(ctx, 0, HS_EPARSE, path, "expected %s, got %s", set, json_type_label(v));
            return;
        }
        for (size_t i = 0; i < count; i++) {
            if (strcmp(json_string_value(v), f->names[i]) == 0) {
                if (dst) {
                    int x = (int)i;
                    memcpy(dst, &x, sizeof x);
                }
                return;
            }
        }
        diag(ctx, 0, HS_ERANGE, path, "expected %s, got %s", set, json_describe_value(v, got, sizeof got));
        return;
    }

    case K_RATE:
    case K_PERMILLE: {
        if (!json_is_number(v)) {
            type_error(ctx, path, "number", v);
            return;
        }
        double x = json_number_value(v);
        double mn = (double)f->min / 1000.0, mx = (double)f->max / 1000.0;
        if (!(x >= mn && x <= mx)) {
            diag(ctx, 0, HS_ERANGE, path, "expected a number in %g..%g, got %s", mn, mx, json_describe_value(v, got, sizeof got));
            return;
        }
        /* thousandths, rounded half up: 1.67 -> 1670 exactly */
        uint64_t milli = (uint64_t)(x * 1000.0 + 0.5);
        if (dst)
            store_u(dst, f->width, milli);
        return;
    }

    case K_STRING: {
        if (!json_is_string(v)) {
            type_error(ctx, path, "string", v);
            return;
        }
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strlen(s) != n) {
            diag(ctx, 0, HS_EPARSE, path, "expected a string without NUL characters");
            return;
        }
        /* the character rule first: it names what the value should be,
         * which says more than a bare length ("a base64 key of 16 to 64 bytes") */
        if (f->check) {
            const char *expected = f->check(s);
            if (expected) {
                diag(ctx, 0, HS_EPARSE, path, "expected %s, got %s", expected, json_describe_value(v, got, sizeof got));
                return;
            }
        }
        if (n < f->min || n > f->max) {
            diag(ctx, 0, HS_ERANGE, path, "expected %llu..%llu characters, got %zu",
                 (unsigned long long)f->min, (unsigned long long)f->max, n);
            return;
        }
        if (dst)
            copy_str(dst, f->width, s);
        return;
    }

    case K_OBJECT:
        apply_object(ctx, v, path, f->child, dst ? dst : base);
        return;

    case K_ARRAY:
    case K_OPAQUE:
        f->handler(ctx, v, path, base);
        return;
    }
}

/* Edit distance (insert, delete, substitute; case folded) capped at 3: enough
 * to suggest "maxDeliveryCount" for "maxDeliveryCounts" or "methods" for
 * "method" without suggesting unrelated keys. */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 64 || nb > 64)
        return 99;
    unsigned row[65];
    for (size_t j = 0; j <= nb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= na; i++) {
        unsigned diag_prev = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= nb; j++) {
            unsigned up = row[j];
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z') ca = (char)(ca - 'A' + 'a');
            if (cb >= 'A' && cb <= 'Z') cb = (char)(cb - 'A' + 'a');
            unsigned best = diag_prev + (ca != cb);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag_prev = up;
        }
    }
    return row[nb];
}

static const char *closest_key(const shape_t *shape, const char *key)
{
    const char *best = NULL;
    unsigned best_d = 3; /* suggest only at distance <= 2 */
    for (size_t i = 0; i < shape->n; i++) {
        unsigned d = edit_distance(key, shape->fields[i].key);
        if (d < best_d) { /* first of equals wins: table order, deterministic */
            best_d = d;
            best = shape->fields[i].key;
        }
    }
    return best;
}

static void apply_object(load_ctx_t *ctx, const json_t *obj, const char *path, const shape_t *shape, void *base)
{
    if (!json_is_object(obj)) {
        type_error(ctx, path, "object", obj);
        return;
    }
    char sub[PATH_CAP];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        const field_t *f = NULL;
        for (size_t i = 0; i < shape->n; i++) {
            if (strcmp(shape->fields[i].key, key) == 0) {
                f = &shape->fields[i];
                break;
            }
        }
        int fits = path_join(sub, path, key);
        if (!f) {
            const char *hint = closest_key(shape, key);
            if (fits && hint)
                diag(ctx, 1, HS_EPARSE, sub, "unknown key (did you mean \"%s\"?)", hint);
            else if (fits)
                diag(ctx, 1, HS_EPARSE, sub, "unknown key");
            else
                diag(ctx, 0, HS_EPARSE, path, "unknown key \"%.40s...\"", key);
            continue;
        }
        apply_field(ctx, f, v, sub, base);
    }
    for (size_t i = 0; i < shape->n; i++) {
        if (shape->fields[i].required && !json_object_get(obj, shape->fields[i].key))
            diag(ctx, 0, HS_EPARSE, path, "missing required key \"%s\"", shape->fields[i].key);
    }
}

/* ---- shapes --------------------------------------------------------------- */

#define FIELD_W(type, member) sizeof(((type *)0)->member)
#define SCALAR(type, k, kind_, member, mn, mx) \
    { .key = k, .kind = kind_, .off = offsetof(type, member), .width = FIELD_W(type, member), .min = mn, .max = mx }
#define ENUMF(type, k, member, names_) \
    { .key = k, .kind = K_ENUM, .off = offsetof(type, member), .width = FIELD_W(type, member), .names = names_ }
#define STRF(type, k, member, mn, check_, req) \
    { .key = k, .kind = K_STRING, .off = offsetof(type, member), .width = FIELD_W(type, member), \
      .min = mn, .max = FIELD_W(type, member) - 1, .check = check_, .required = req }
#define SHAPE(arr) { arr, sizeof arr / sizeof arr[0] }

#define KB 1024u
#define MB (1024u * 1024u)
#define HOURS48 (48 * SIM_HOUR)

static const char *const late_names[] = { "drop", "close", NULL };
static const char *const rid_names[] = { "ignore", "close", NULL };
static const char *const topic_names[] = { "close", "ignore", NULL };
static const char *const dollar_names[] = { "systemFirst", "appFirst", NULL };
static const char *const profile_names[] = { "off", "s1", NULL };
static const char *const auth_names[] = { "sas", "x509", NULL };
static const char *const status_names[] = { "enabled", "disabled", NULL };
static const char *const right_names[] = { "registryRead", "registryWrite", "serviceConnect", "deviceConnect", NULL };

static const uint64_t kb_values[] = { 1000, 1024 };
static const uint64_t oversize_values[] = { 400, 413 };

static const field_t methods_fields[] = {
    { .key = "kbSize", .kind = K_UINT_SET, .off = offsetof(hub_config_methods_t, kb_size),
      .width = FIELD_W(hub_config_methods_t, kb_size), .values = kb_values, .max = 2 },
    SCALAR(hub_config_methods_t, "maxPayloadSize", K_SIZE, max_payload_bytes, 1, 16 * MB),
    SCALAR(hub_config_methods_t, "nameMaxLength", K_UINT, name_max_length, 1, 65535),
    { .key = "oversizedResponseStatus", .kind = K_UINT_SET, .off = offsetof(hub_config_methods_t, oversized_response_status),
      .width = FIELD_W(hub_config_methods_t, oversized_response_status), .values = oversize_values, .max = 2 },
    ENUMF(hub_config_methods_t, "lateResponse", late_response, late_names),
    ENUMF(hub_config_methods_t, "unknownRequestId", unknown_rid, rid_names),
    SCALAR(hub_config_methods_t, "responseTimeoutDefault", K_DURATION, response_timeout_default, 0, 3600 * SIM_SEC),
    SCALAR(hub_config_methods_t, "responseTimeoutMin", K_DURATION, response_timeout_min, 0, 3600 * SIM_SEC),
    SCALAR(hub_config_methods_t, "responseTimeoutMax", K_DURATION, response_timeout_max, 0, 3600 * SIM_SEC),
    SCALAR(hub_config_methods_t, "connectTimeoutDefault", K_DURATION, connect_timeout_default, 0, 3600 * SIM_SEC),
    SCALAR(hub_config_methods_t, "connectTimeoutMax", K_DURATION, connect_timeout_max, 0, 3600 * SIM_SEC),
};
static const shape_t methods_shape = SHAPE(methods_fields);

static const field_t messages_fields[] = {
    SCALAR(hub_config_messages_t, "d2cMaxSize", K_SIZE, d2c_max_bytes, 1, 16 * MB),
    SCALAR(hub_config_messages_t, "c2dMaxSize", K_SIZE, c2d_max_bytes, 1, 16 * MB),
    SCALAR(hub_config_messages_t, "messageIdMaxLength", K_UINT, message_id_max_length, 1, 65535),
};
static const shape_t messages_shape = SHAPE(messages_fields);

static const field_t c2d_fields[] = {
    SCALAR(hub_config_c2d_t, "maxQueueDepth", K_UINT, max_queue_depth, 1, 1000000),
    SCALAR(hub_config_c2d_t, "ttlDefault", K_DURATION, ttl_default, SIM_MS, HOURS48),
    SCALAR(hub_config_c2d_t, "ttlMax", K_DURATION, ttl_max, SIM_MS, HOURS48),
    SCALAR(hub_config_c2d_t, "lockTimeout", K_DURATION, lock_timeout, SIM_MS, HOURS48),
    SCALAR(hub_config_c2d_t, "maxDeliveryCount", K_UINT, max_delivery_count, 1, 100),
    SCALAR(hub_config_c2d_t, "feedbackBatchRecords", K_UINT, feedback_batch_records, 1, 100000),
    SCALAR(hub_config_c2d_t, "feedbackFlushInterval", K_DURATION, feedback_flush_interval, SIM_MS, HOURS48),
};
static const shape_t c2d_shape = SHAPE(c2d_fields);

static const field_t file_upload_fields[] = {
    SCALAR(hub_config_file_upload_t, "notifications", K_BOOL, notifications, 0, 1),
    SCALAR(hub_config_file_upload_t, "sasTtl", K_DURATION, sas_ttl, SIM_MIN, 24 * SIM_HOUR),
    SCALAR(hub_config_file_upload_t, "maxConcurrentPerDevice", K_UINT, max_concurrent_per_device, 1, 1000000),
    SCALAR(hub_config_file_upload_t, "notificationTtl", K_DURATION, notification_ttl, SIM_MIN, HOURS48),
    SCALAR(hub_config_file_upload_t, "notificationMaxDeliveryCount", K_UINT, notification_max_delivery_count, 1, 100),
    SCALAR(hub_config_file_upload_t, "notificationLockDuration", K_DURATION, notification_lock_duration, 5 * SIM_SEC,
           300 * SIM_SEC),
};
static const shape_t file_upload_shape = SHAPE(file_upload_fields);

static const char *const leaf_auth_names[] = { "either", "leafToken", "gatewayToken", NULL };
static const field_t gateways_fields[] = {
    ENUMF(hub_config_gateways_t, "leafAuth", leaf_auth, leaf_auth_names),
};
static const shape_t gateways_shape = SHAPE(gateways_fields);

static const field_t jobs_fields[] = {
    STRF(hub_config_jobs_t, "importExportDir", import_export_dir, 0, check_printable, 0),
};
static const shape_t jobs_shape = SHAPE(jobs_fields);

static const field_t twins_fields[] = {
    SCALAR(hub_config_twins_t, "tagsMaxSize", K_SIZE, tags_max_bytes, 1, 16 * MB),
    SCALAR(hub_config_twins_t, "desiredMaxSize", K_SIZE, desired_max_bytes, 1, 16 * MB),
    SCALAR(hub_config_twins_t, "reportedMaxSize", K_SIZE, reported_max_bytes, 1, 16 * MB),
    SCALAR(hub_config_twins_t, "maxDepth", K_UINT, max_depth, 1, 100),
    SCALAR(hub_config_twins_t, "keyMaxSize", K_SIZE, key_max_bytes, 1, 64 * KB),
    SCALAR(hub_config_twins_t, "stringValueMaxSize", K_SIZE, string_value_max_bytes, 1, 16 * MB),
};
static const shape_t twins_shape = SHAPE(twins_fields);

static const field_t mqtt_fields[] = {
    ENUMF(hub_config_mqtt_t, "unknownTopic", unknown_topic, topic_names),
    SCALAR(hub_config_mqtt_t, "keepAliveMax", K_DURATION, keep_alive_max, SIM_SEC, 65535 * SIM_SEC),
    SCALAR(hub_config_mqtt_t, "keepAliveGrace", K_PERMILLE, keep_alive_grace_permille, 1000, 10000),
};
static const shape_t mqtt_shape = SHAPE(mqtt_fields);

static const field_t amqp_fields[] = {
    SCALAR(hub_config_amqp_t, "allowNoSasl", K_BOOL, allow_no_sasl, 0, 1),
    SCALAR(hub_config_amqp_t, "allowSaslAnonymous", K_BOOL, allow_sasl_anonymous, 0, 1),
    SCALAR(hub_config_amqp_t, "allowSaslPlain", K_BOOL, allow_sasl_plain, 0, 1),
};
static const shape_t amqp_shape = SHAPE(amqp_fields);

static const field_t route_query_fields[] = {
    ENUMF(hub_config_route_query_t, "bareDollarName", bare_dollar_name, dollar_names),
    SCALAR(hub_config_route_query_t, "typeFunctions", K_BOOL, type_functions, 0, 1),
};
static const shape_t route_query_shape = SHAPE(route_query_fields);

static const field_t quotas_fields[] = {
    SCALAR(hub_config_quotas_t, "dailyMessages", K_UINT, daily_messages, 0, (uint64_t)1 << 53),
    SCALAR(hub_config_quotas_t, "messageChunkSize", K_SIZE, message_chunk, 1, 16 * MB),
};
static const shape_t quotas_shape = SHAPE(quotas_fields);

/* Rates in the file are per second (1.67 allowed); stored in thousandths. */
static const field_t rates_fields[] = {
    SCALAR(hub_config_throttling_t, "d2cPerSecond", K_RATE, d2c_milli_per_sec, 0, 1000000000000ull),
    SCALAR(hub_config_throttling_t, "c2dPerSecond", K_RATE, c2d_milli_per_sec, 0, 1000000000000ull),
    SCALAR(hub_config_throttling_t, "twinReadsPerSecond", K_RATE, twin_read_milli_per_sec, 0, 1000000000000ull),
    SCALAR(hub_config_throttling_t, "twinUpdatesPerSecond", K_RATE, twin_update_milli_per_sec, 0, 1000000000000ull),
    SCALAR(hub_config_throttling_t, "connectionsPerSecond", K_RATE, connect_milli_per_sec, 0, 1000000000000ull),
    SCALAR(hub_config_throttling_t, "methodBytesPerSecond", K_SIZE, method_bytes_per_sec, 0, (uint64_t)1 << 40),
};
static const shape_t rates_shape = SHAPE(rates_fields);

static const field_t throttling_fields[] = {
    ENUMF(hub_config_throttling_t, "profile", profile, profile_names),
    SCALAR(hub_config_throttling_t, "units", K_UINT, units, 1, 200),
    SCALAR(hub_config_throttling_t, "window", K_DURATION, window, SIM_MS, SIM_HOUR),
    { .key = "rates", .kind = K_OBJECT, .off = 0, .child = &rates_shape },
};
static const shape_t throttling_shape = SHAPE(throttling_fields);

static const field_t keys_fields[] = {
    STRF(hub_config_auth_t, "primary", primary_key, 1, check_base64_key, 1),
    STRF(hub_config_auth_t, "secondary", secondary_key, 1, check_base64_key, 0),
};
static const shape_t keys_shape = SHAPE(keys_fields);

static const field_t thumbprints_fields[] = {
    STRF(hub_config_auth_t, "primary", primary_thumbprint, 1, check_thumbprint, 1),
    STRF(hub_config_auth_t, "secondary", secondary_thumbprint, 1, check_thumbprint, 0),
};
static const shape_t thumbprints_shape = SHAPE(thumbprints_fields);

static const field_t module_fields[] = {
    STRF(hub_config_module_t, "id", id, 1, check_identity, 1),
    { .key = "auth", .kind = K_ENUM, .off = offsetof(hub_config_module_t, auth.kind),
      .width = FIELD_W(hub_config_module_t, auth.kind), .names = auth_names },
    { .key = "keys", .kind = K_OBJECT, .off = offsetof(hub_config_module_t, auth), .child = &keys_shape },
    { .key = "thumbprints", .kind = K_OBJECT, .off = offsetof(hub_config_module_t, auth), .child = &thumbprints_shape },
};
static const shape_t module_shape = SHAPE(module_fields);

static void handle_modules(load_ctx_t *ctx, const json_t *v, const char *path, void *base);
static void handle_status(load_ctx_t *ctx, const json_t *v, const char *path, void *base);

static const field_t status_field = ENUMF(hub_config_device_t, "status", enabled, status_names);

static const field_t device_fields[] = {
    STRF(hub_config_device_t, "id", id, 1, check_identity, 1),
    { .key = "status", .kind = K_OPAQUE, .handler = handle_status },
    { .key = "auth", .kind = K_ENUM, .off = offsetof(hub_config_device_t, auth.kind),
      .width = FIELD_W(hub_config_device_t, auth.kind), .names = auth_names },
    { .key = "keys", .kind = K_OBJECT, .off = offsetof(hub_config_device_t, auth), .child = &keys_shape },
    { .key = "thumbprints", .kind = K_OBJECT, .off = offsetof(hub_config_device_t, auth), .child = &thumbprints_shape },
    SCALAR(hub_config_device_t, "iotEdge", K_BOOL, iot_edge, 0, 1),
    STRF(hub_config_device_t, "parentId", parent_id, 1, check_identity, 0),
    STRF(hub_config_device_t, "deviceScope", device_scope, 1, check_printable, 0),
    { .key = "modules", .kind = K_ARRAY, .child = &module_shape, .handler = handle_modules },
};
static const shape_t device_shape = SHAPE(device_fields);

static void handle_rights(load_ctx_t *ctx, const json_t *v, const char *path, void *base);

static const field_t policy_fields[] = {
    STRF(hub_config_policy_t, "name", name, 1, check_identity, 1),
    STRF(hub_config_policy_t, "primaryKey", primary_key, 1, check_base64_key, 1),
    STRF(hub_config_policy_t, "secondaryKey", secondary_key, 1, check_base64_key, 0),
    { .key = "rights", .kind = K_ARRAY, .handler = handle_rights, .required = 1 },
};
static const shape_t policy_shape = SHAPE(policy_fields);

static void handle_policies(load_ctx_t *ctx, const json_t *v, const char *path, void *base);
static void handle_devices(load_ctx_t *ctx, const json_t *v, const char *path, void *base);
static void handle_routing(load_ctx_t *ctx, const json_t *v, const char *path, void *base);

static const field_t top_fields[] = {
    { .key = "$schema", .kind = K_STRING, .off = NO_TARGET, .min = 0, .max = 4096 },
    { .key = "description", .kind = K_STRING, .off = NO_TARGET, .min = 0, .max = 65536 },
    STRF(hub_config_t, "name", name, 3, check_hub_name, 0),
    STRF(hub_config_t, "hostName", host, 1, check_host, 0),
    { .key = "policies", .kind = K_ARRAY, .child = &policy_shape, .handler = handle_policies },
    { .key = "quotas", .kind = K_OBJECT, .off = offsetof(hub_config_t, quotas), .child = &quotas_shape },
    { .key = "throttling", .kind = K_OBJECT, .off = offsetof(hub_config_t, throttling), .child = &throttling_shape },
    SCALAR(hub_config_t, "deadlineWins", K_BOOL, deadline_wins, 0, 1),
    { .key = "methods", .kind = K_OBJECT, .off = offsetof(hub_config_t, methods), .child = &methods_shape },
    { .key = "messages", .kind = K_OBJECT, .off = offsetof(hub_config_t, messages), .child = &messages_shape },
    { .key = "c2d", .kind = K_OBJECT, .off = offsetof(hub_config_t, c2d), .child = &c2d_shape },
    { .key = "twins", .kind = K_OBJECT, .off = offsetof(hub_config_t, twins), .child = &twins_shape },
    { .key = "mqtt", .kind = K_OBJECT, .off = offsetof(hub_config_t, mqtt), .child = &mqtt_shape },
    { .key = "amqp", .kind = K_OBJECT, .off = offsetof(hub_config_t, amqp), .child = &amqp_shape },
    { .key = "routeQuery", .kind = K_OBJECT, .off = offsetof(hub_config_t, route_query), .child = &route_query_shape },
    { .key = "fileUpload", .kind = K_OBJECT, .off = offsetof(hub_config_t, file_upload), .child = &file_upload_shape },
    { .key = "gateways", .kind = K_OBJECT, .off = offsetof(hub_config_t, gateways), .child = &gateways_shape },
    { .key = "jobs", .kind = K_OBJECT, .off = offsetof(hub_config_t, jobs), .child = &jobs_shape },
    { .key = "devices", .kind = K_ARRAY, .child = &device_shape, .handler = handle_devices },
    { .key = "routing", .kind = K_OPAQUE, .handler = handle_routing },
};
static const shape_t top_shape = SHAPE(top_fields);

/* ---- array and special handlers -------------------------------------------- */

/* Thumbprints compare case-insensitively; store them upper-case once. */
static void upcase_auth(hub_config_auth_t *a)
{
    for (char *p = a->primary_thumbprint; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    for (char *p = a->secondary_thumbprint; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
}

/* "status": "enabled" | "disabled" lands in a bool (enabled), not an enum. */
static void handle_status(load_ctx_t *ctx, const json_t *v, const char *path, void *base)
{
    int idx = -1;
    hub_config_device_t *d = base;
    field_t f = status_field;
    f.off = NO_TARGET;
    apply_field(ctx, &f, v, path, base); /* reports type and value errors */
    if (json_is_string(v)) {
        for (int i = 0; status_names[i]; i++)
            if (strcmp(json_string_value(v), status_names[i]) == 0)
                idx = i;
    }
    if (idx >= 0)
        d->enabled = idx == 0;
}

static void handle_rights(load_ctx_t *ctx, const json_t *v, const char *path, void *base)
{
    hub_config_policy_t *p = base;
    if (!json_is_array(v)) {
        type_error(ctx, path, "array of rights", v);
        return;
    }
    char sub[PATH_CAP];
    unsigned rights = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *r = json_array_get(v, i);
        path_elem(sub, path, i);
        field_t f = { .key = "", .kind = K_ENUM, .off = NO_TARGET, .names = right_names };
        apply_field(ctx, &f, r, sub, NULL);
        if (!json_is_string(r))
            continue;
        for (unsigned k = 0; right_names[k]; k++) {
            if (strcmp(json_string_value(r), right_names[k]) == 0) {
                if (rights & (1u << k))
                    diag(ctx, 0, HS_EINVAL, sub, "duplicate right \"%s\"", right_names[k]);
                rights |= 1u << k;
            }
        }
    }
    p->rights = rights;
}

static void handle_policies(load_ctx_t *ctx, const json_t *v, const char *path, void *base)
{
    hub_config_t *cfg = base;
    if (!json_is_array(v)) {
        type_error(ctx, path, "array of policies", v);
        return;
    }
    size_t n = json_array_size(v);
    if (n > HUB_CONFIG_MAX_POLICIES) {
        diag(ctx, 0, HS_ERANGE, path, "expected at most 16 policies, got %zu", n);
        return;
    }
    /* the file's list replaces the five default policies */
    memset(cfg->policies, 0, sizeof cfg->policies);
    cfg->n_policies = n;
    char sub[PATH_CAP];
    for (size_t i = 0; i < n; i++) {
        path_elem(sub, path, i);
        apply_object(ctx, json_array_get(v, i), sub, &policy_shape, &cfg->policies[i]);
    }
}

static void handle_modules(load_ctx_t *ctx, const json_t *v, const char *path, void *base)
{
    hub_config_device_t *d = base;
    if (!json_is_array(v)) {
        type_error(ctx, path, "array of modules", v);
        return;
    }
    size_t n = json_array_size(v);
    if (n == 0)
        return;
    d->modules = calloc(n, sizeof *d->modules);
    if (!d->modules) {
        ctx->nomem = 1;
        return;
    }
    d->n_modules = n;
    char sub[PATH_CAP];
    for (size_t i = 0; i < n; i++) {
        path_elem(sub, path, i);
        d->modules[i].auth.kind = HUB_AUTH_SAS;
        apply_object(ctx, json_array_get(v, i), sub, &module_shape, &d->modules[i]);
        upcase_auth(&d->modules[i].auth);
    }
}

static void handle_devices(load_ctx_t *ctx, const json_t *v, const char *path, void *base)
{
    hub_config_t *cfg = base;
    if (!json_is_array(v)) {
        type_error(ctx, path, "array of devices", v);
        return;
    }
    size_t n = json_array_size(v);
    if (n == 0)
        return;
    cfg->devices = calloc(n, sizeof *cfg->devices);
    if (!cfg->devices) {
        ctx->nomem = 1;
        return;
    }
    cfg->n_devices = n;
    char sub[PATH_CAP];
    for (size_t i = 0; i < n; i++) {
        path_elem(sub, path, i);
        cfg->devices[i].enabled = true;
        cfg->devices[i].auth.kind = HUB_AUTH_SAS;
        apply_object(ctx, json_array_get(v, i), sub, &device_shape, &cfg->devices[i]);
        upcase_auth(&cfg->devices[i].auth);
    }
}

static void handle_routing(load_ctx_t *ctx, const json_t *v, const char *path, void *base)
{
    hub_config_t *cfg = base;
    if (!json_is_object(v)) {
        type_error(ctx, path, "object", v);
        return;
    }
    cfg->routing = json_incref((json_t *)v);
}

/* ---- cross-field rules and derived values ----------------------------------- */

/* lo <= hi, reported at whichever of the two the file sets (lo first), so
 * the position points at a value the user wrote. */
/* section.lo <= section.hi, reported at whichever of the two the file sets
 * (lo first), so the position points at a value the user wrote. */
static void check_order(load_ctx_t *ctx, const char *section, const char *lo_name, sim_time_t lo,
                        const char *hi_name, sim_time_t hi)
{
    if (lo <= hi)
        return;
    char lo_path[PATH_CAP], hi_path[PATH_CAP], a[32], b[32];
    unsigned l, c;
    path_join(lo_path, ctx->base, section);
    path_join(hi_path, lo_path, hi_name);
    path_join(lo_path, lo_path, lo_name);
    const char *at = lo_path;
    if (json_locate_value(ctx->loc, lo_path, &l, &c) != HS_EOK &&
        json_locate_value(ctx->loc, hi_path, &l, &c) == HS_EOK)
        at = hi_path;
    format_duration(lo, a, sizeof a);
    format_duration(hi, b, sizeof b);
    diag(ctx, 0, HS_ERANGE, at, "expected %s (%s) <= %s (%s)", lo_name, a, hi_name, b);
}

/* An auth block must carry what its kind needs and nothing of the other kind. */
static void check_auth(load_ctx_t *ctx, const json_t *obj, const char *path, const hub_config_auth_t *a)
{
    int has_keys = json_object_get(obj, "keys") != NULL;
    int has_thumbs = json_object_get(obj, "thumbprints") != NULL;
    if (a->kind == HUB_AUTH_SAS) {
        if (!has_keys)
            diag(ctx, 0, HS_EPARSE, path, "missing required key \"keys\" (auth \"sas\")");
        if (has_thumbs) {
            char sub[PATH_CAP];
            path_join(sub, path, "thumbprints");
            diag(ctx, 1, HS_EINVAL, sub, "thumbprints need auth \"x509\"");
        }
    } else {
        if (!has_thumbs)
            diag(ctx, 0, HS_EPARSE, path, "missing required key \"thumbprints\" (auth \"x509\")");
        if (has_keys) {
            char sub[PATH_CAP];
            path_join(sub, path, "keys");
            diag(ctx, 1, HS_EINVAL, sub, "keys need auth \"sas\"");
        }
    }
}

/* Device ids sorted once (ties by file order), so duplicate and parent
 * checks stay O(n log n) for files with many thousands of devices. */
typedef struct {
    const char *id;
    size_t idx;
} id_ref_t;

static int id_ref_cmp(const void *a, const void *b)
{
    const id_ref_t *x = a, *y = b;
    int r = strcmp(x->id, y->id);
    if (r)
        return r;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The first device (in file order) with this id, or NULL. */
static const hub_config_device_t *find_sorted(const hub_config_t *cfg, const id_ref_t *refs, size_t n,
                                              const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(refs[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(refs[lo].id, id) == 0 ? &cfg->devices[refs[lo].idx] : NULL;
}

static void check_devices(load_ctx_t *ctx, const json_t *root, hub_config_t *cfg)
{
    const json_t *arr = json_object_get(root, "devices");
    if (!json_is_array(arr) || !cfg->devices)
        return;
    char dpath[PATH_CAP], sub[PATH_CAP], mpath[PATH_CAP], devs[PATH_CAP];
    path_join(devs, ctx->base, "devices");

    id_ref_t *refs = malloc(cfg->n_devices * sizeof *refs);
    if (!refs) {
        ctx->nomem = 1;
        return;
    }
    for (size_t i = 0; i < cfg->n_devices; i++) {
        refs[i].id = cfg->devices[i].id;
        refs[i].idx = i;
    }
    qsort(refs, cfg->n_devices, sizeof *refs, id_ref_cmp);
    for (size_t k = 1; k < cfg->n_devices; k++) {
        if (!refs[k].id[0] || strcmp(refs[k].id, refs[k - 1].id) != 0)
            continue;
        size_t first_k = k - 1;
        while (first_k > 0 && strcmp(refs[first_k - 1].id, refs[k].id) == 0)
            first_k--;
        unsigned l = 0, c = 0;
        char first[PATH_CAP];
        path_elem(first, devs, refs[first_k].idx);
        path_join(first, first, "id");
        json_locate_value(ctx->loc, first, &l, &c);
        path_elem(sub, devs, refs[k].idx);
        path_join(sub, sub, "id");
        diag(ctx, 0, HS_EINVAL, sub, "duplicate device id \"%s\" (first at %u:%u)", refs[k].id, l, c);
    }

    for (size_t i = 0; i < cfg->n_devices; i++) {
        const json_t *dj = json_array_get(arr, i);
        const hub_config_device_t *d = &cfg->devices[i];
        if (!json_is_object(dj))
            continue;
        path_elem(dpath, devs, i);
        check_auth(ctx, dj, dpath, &d->auth);
        if (d->parent_id[0]) {
            path_join(sub, dpath, "parentId");
            const hub_config_device_t *p = find_sorted(cfg, refs, cfg->n_devices, d->parent_id);
            if (!p)
                diag(ctx, 0, HS_EINVAL, sub, "parent \"%s\" is not a device in this file", d->parent_id);
            else if (p == d)
                diag(ctx, 0, HS_EINVAL, sub, "a device cannot be its own parent");
            else if (!p->iot_edge)
                diag(ctx, 0, HS_EINVAL, sub, "parent \"%s\" is not an IoT Edge device (iotEdge: true)", d->parent_id);
        }
        const json_t *mods = json_object_get(dj, "modules");
        for (size_t m = 0; m < d->n_modules && json_is_array(mods); m++) {
            const json_t *mj = json_array_get(mods, m);
            if (!json_is_object(mj))
                continue;
            path_join(mpath, dpath, "modules");
            path_elem(mpath, mpath, m);
            check_auth(ctx, mj, mpath, &d->modules[m].auth);
            for (size_t k = 0; k < m && d->modules[m].id[0]; k++) {
                if (strcmp(d->modules[k].id, d->modules[m].id) == 0) {
                    path_join(sub, mpath, "id");
                    diag(ctx, 0, HS_EINVAL, sub, "duplicate module id \"%s\" on this device",
                         d->modules[m].id);
                    break;
                }
            }
        }
    }
    free(refs);
}

static void check_policies(load_ctx_t *ctx, const hub_config_t *cfg)
{
    char sub[PATH_CAP], pols[PATH_CAP];
    path_join(pols, ctx->base, "policies");
    for (size_t i = 0; i < cfg->n_policies; i++) {
        for (size_t j = 0; j < i && cfg->policies[i].name[0]; j++) {
            if (strcmp(cfg->policies[i].name, cfg->policies[j].name) == 0) {
                path_elem(sub, pols, i);
                path_join(sub, sub, "name");
                diag(ctx, 0, HS_EINVAL, sub, "duplicate policy name \"%s\"", cfg->policies[i].name);
                break;
            }
        }
    }
}

static const json_t *get_path2(const json_t *root, const char *a, const char *b)
{
    const json_t *x = json_object_get(root, a);
    return json_is_object(x) ? json_object_get(x, b) : NULL;
}

/* Fill what the file left to be derived: host, method limit in the chosen
 * KB, and the S1 rates (NOTES.md "Throttling and quotas") x units. */
static void resolve(const json_t *root, hub_config_t *cfg)
{
    if (!json_object_get(root, "hostName"))
        snprintf(cfg->host, sizeof cfg->host, "%s%s", cfg->name, HUB_HOST_SUFFIX);
    if (!get_path2(root, "methods", "maxPayloadSize"))
        cfg->methods.max_payload_bytes = 128u * (uint64_t)cfg->methods.kb_size;

    hub_config_throttling_t *t = &cfg->throttling;
    const json_t *th = json_object_get(root, "throttling");
    const json_t *rates = json_is_object(th) ? json_object_get(th, "rates") : NULL;
    if (!json_is_object(rates))
        rates = NULL;
#define UNSET(key) (!rates || !json_object_get(rates, key))
    if (t->profile == HUB_THROTTLE_S1) {
        uint64_t u = t->units;
        if (UNSET("d2cPerSecond")) {
            /* 100/s/unit, but never below 12,000/min = 200/s per hub */
            uint64_t r = 100u * u;
            t->d2c_milli_per_sec = (r < 200 ? 200 : r) * 1000u;
        }
        if (UNSET("c2dPerSecond"))
            t->c2d_milli_per_sec = 1670u * u;
        if (UNSET("twinReadsPerSecond"))
            t->twin_read_milli_per_sec = 10000u * u;
        if (UNSET("twinUpdatesPerSecond"))
            t->twin_update_milli_per_sec = 10000u * u;
        if (UNSET("connectionsPerSecond"))
            t->connect_milli_per_sec = 100000u * u;
        if (UNSET("methodBytesPerSecond"))
            t->method_bytes_per_sec = 160u * (uint64_t)cfg->methods.kb_size * u;
    }
#undef UNSET
}

static void check_cross(load_ctx_t *ctx, const hub_config_t *cfg)
{
    const hub_config_methods_t *m = &cfg->methods;
    check_order(ctx, "methods", "responseTimeoutMin", m->response_timeout_min,
                "responseTimeoutDefault", m->response_timeout_default);
    check_order(ctx, "methods", "responseTimeoutDefault", m->response_timeout_default,
                "responseTimeoutMax", m->response_timeout_max);
    check_order(ctx, "methods", "connectTimeoutDefault", m->connect_timeout_default,
                "connectTimeoutMax", m->connect_timeout_max);
    check_order(ctx, "c2d", "ttlDefault", cfg->c2d.ttl_default, "ttlMax", cfg->c2d.ttl_max);
}

/* ---- entry points ------------------------------------------------------------ */

static hs_err_t worst_code(const json_diag_list_t *list)
{
    int parse = 0, inval = 0, range = 0, io = 0;
    for (size_t i = 0; i < json_diag_count(list); i++) {
        hs_err_t c = json_diag_get(list, i)->code;
        parse |= c == HS_EPARSE;
        inval |= c == HS_EINVAL;
        range |= c == HS_ERANGE;
        io |= c == HS_EIO;
    }
    if (io) return HS_EIO;
    if (parse) return HS_EPARSE;
    if (inval) return HS_EINVAL;
    if (range) return HS_ERANGE;
    return json_diag_count(list) ? HS_EPARSE : HS_EOK;
}

/* Copy the sorted internal list onto the caller's. */
static hs_err_t diags_append(json_diag_list_t *dst, const json_diag_list_t *src)
{
    if (!dst)
        return HS_EOK;
    for (size_t i = 0; i < json_diag_count(src); i++) {
        const json_diag_t *d = json_diag_get(src, i);
        hs_err_t e = json_diag_add(dst, d->code, d->file, d->line, d->column, d->path, "%s", d->message);
        if (e != HS_EOK)
            return e;
    }
    return HS_EOK;
}

/* Validate and apply `root` (already parsed) onto cfg, which holds defaults.
 * Diagnostics go to a private list first so they can be sorted by position
 * without reordering what the caller's list already holds. */
static hs_err_t load_value(const json_t *root, const json_locate_t *loc, const char *file, const char *base,
                           hub_config_t *cfg, json_diag_list_t *diags)
{
    json_diag_list_t *list = NULL;
    if (json_diag_list_new(&list) != HS_EOK)
        return HS_ENOMEM;
    load_ctx_t ctx = { .file = file, .base = base, .loc = loc, .diags = list };
    apply_object(&ctx, root, base, &top_shape, cfg);
    if (json_is_object(root)) {
        check_policies(&ctx, cfg);
        check_devices(&ctx, root, cfg);
        resolve(root, cfg);
        check_cross(&ctx, cfg);
    }
    json_diag_sort(list);
    hs_err_t rc = ctx.nomem ? HS_ENOMEM : worst_code(list);
    if (diags_append(diags, list) != HS_EOK)
        rc = HS_ENOMEM;
    json_diag_list_free(list);
    return rc;
}

hs_err_t hub_config_load_value(const json_t *value, const json_locate_t *loc, const char *file,
                               const char *base_path, hub_config_t *cfg, json_diag_list_t *diags)
{
    if (!cfg)
        return HS_EINVAL;
    hub_config_defaults(cfg);
    if (!value)
        return HS_EINVAL;
    char base[PATH_CAP];
    copy_str(base, sizeof base, base_path && base_path[0] ? base_path : "$");
    return load_value(value, loc, file ? file : "", base, cfg, diags);
}

hs_err_t hub_config_load_json(const char *text, size_t len, const char *name, hub_config_t *cfg,
                              json_diag_list_t *diags)
{
    if (!cfg)
        return HS_EINVAL;
    hub_config_defaults(cfg);
    if (!text && len)
        return HS_EINVAL;
    if (!name)
        name = "<config>";

    json_error_t jerr;
    json_t *root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        hs_err_t rc = HS_EPARSE;
        if (diags && json_diag_add(diags, HS_EPARSE, name, jerr.line > 0 ? (unsigned)jerr.line : 0,
                                   jerr.column > 0 ? (unsigned)jerr.column : 0, "", "%s", jerr.text) != HS_EOK)
            rc = HS_ENOMEM;
        return rc;
    }
    json_locate_t *loc = NULL;
    if (json_locate_new(text, len, &loc) != HS_EOK) {
        json_decref(root);
        return HS_ENOMEM;
    }
    hs_err_t rc = load_value(root, loc, name, "$", cfg, diags);
    json_locate_free(loc);
    json_decref(root);
    return rc;
}

hs_err_t hub_config_load_file(const char *path, hub_config_t *cfg, json_diag_list_t *diags)
{
    if (!cfg || !path)
        return HS_EINVAL;
    hub_config_defaults(cfg);
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int err = 0;
    if (!f) {
        err = errno;
    } else {
        for (;;) {
            if (len == cap) {
                size_t ncap = cap ? cap * 2 : 4096;
                char *p = realloc(buf, ncap);
                if (!p) {
                    free(buf);
                    fclose(f);
                    return HS_ENOMEM;
                }
                buf = p;
                cap = ncap;
            }
            size_t got = fread(buf + len, 1, cap - len, f);
            len += got;
            if (got == 0) {
                if (ferror(f))
                    err = errno ? errno : EIO;
                break;
            }
        }
        fclose(f);
    }
    if (err) {
        free(buf);
        if (diags && json_diag_add(diags, HS_EIO, path, 0, 0, "", "cannot read: %s", strerror(err)) != HS_EOK)
            return HS_ENOMEM;
        return HS_EIO;
    }
    hs_err_t rc = hub_config_load_json(buf, len, path, cfg, diags);
    free(buf);
    return rc;
}

/* ---- key walk --------------------------------------------------------------- */

static void walk_shape(const shape_t *shape, const char *prefix, void (*fn)(void *, const char *), void *ctx)
{
    char path[PATH_CAP];
    for (size_t i = 0; i < shape->n; i++) {
        const field_t *f = &shape->fields[i];
        path_join(path, prefix, f->key);
        fn(ctx, path);
        if (f->kind == K_OBJECT && f->child) {
            walk_shape(f->child, path, fn, ctx);
        } else if (f->kind == K_ARRAY && f->child) {
            size_t n = strlen(path);
            if (n + 3 <= sizeof path) {
                memcpy(path + n, "[]", 3);
                walk_shape(f->child, path, fn, ctx);
            }
        }
    }
}

void hub_config_for_each_key(void (*fn)(void *ctx, const char *path), void *ctx)
{
    if (fn)
        walk_shape(&top_shape, "$", fn, ctx);
}
