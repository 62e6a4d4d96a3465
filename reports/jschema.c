/* JSON Schema subset validation, enough to hold report.json and catalogue.json to their published schemas. */
#include "jschema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const json_t *root;
    char *err;
    size_t cap;
} ctx_t;

static hs_err_t fail(ctx_t *c, hs_err_t rc, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static hs_err_t fail(ctx_t *c, hs_err_t rc, const char *path, const char *fmt, ...)
{
    if (c->err && c->cap) {
        int n = snprintf(c->err, c->cap, "%s: ", path);
        if (n >= 0 && (size_t)n < c->cap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->cap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

static int is_type(const json_t *v, const char *t)
{
    if (!strcmp(t, "object")) return json_is_object(v);
    if (!strcmp(t, "array")) return json_is_array(v);
    if (!strcmp(t, "string")) return json_is_string(v);
    if (!strcmp(t, "integer")) return json_is_integer(v);
    if (!strcmp(t, "number")) return json_is_number(v);
    if (!strcmp(t, "boolean")) return json_is_boolean(v);
    if (!strcmp(t, "null")) return json_is_null(v);
    return -1;
}

static int all_of(const char *s, const char *set)
{
    for (; *s; s++)
        if (!strchr(set, *s))
            return 0;
    return 1;
}

/* 1 match, 0 no match, -1 pattern not supported. */
static int pattern_match(const char *pat, const char *s)
{
    if (!strcmp(pat, "^[0-9]+$"))
        return *s && all_of(s, "0123456789");
    if (!strcmp(pat, "^[0-9a-f]{16}$"))
        return strlen(s) == 16 && all_of(s, "0123456789abcdef");
    if (!strcmp(pat, "^[A-Z0-9]+(-[A-Z0-9]+)+$")) {
        if (!*s || !all_of(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") || s[0] == '-' ||
            s[strlen(s) - 1] == '-' || strstr(s, "--") || !strchr(s, '-'))
            return 0;
        return 1;
    }
    return -1;
}

static hs_err_t check(ctx_t *c, const json_t *schema, const json_t *v, const char *path);

static hs_err_t check_ref(ctx_t *c, const char *ref, const json_t *v, const char *path)
{
    const char *prefix = "#/$defs/";
    if (strncmp(ref, prefix, strlen(prefix)) != 0)
        return fail(c, HS_EUNSUPPORTED, path, "$ref \"%s\" not supported", ref);
    const json_t *target = json_object_get(json_object_get(c->root, "$defs"), ref + strlen(prefix));
    if (!target)
        return fail(c, HS_EINVAL, path, "$ref \"%s\" names nothing", ref);
    return check(c, target, v, path);
}

static hs_err_t check(ctx_t *c, const json_t *schema, const json_t *v, const char *path)
{
    if (json_is_true(schema))
        return HS_EOK;
    if (json_is_false(schema))
        return fail(c, HS_EINVAL, path, "not allowed here");
    if (!json_is_object(schema))
        return fail(c, HS_EINVAL, path, "schema is not an object");
    const json_t *k;
    hs_err_t rc;
    if ((k = json_object_get(schema, "$ref")) && (rc = check_ref(c, json_string_value(k), v, path)))
        return rc;
    if ((k = json_object_get(schema, "type"))) {
        int ok = 0;
        if (json_is_string(k)) {
            ok = is_type(v, json_string_value(k));
        } else {
            size_t i;
            json_t *t;
            json_array_foreach(k, i, t) {
                if (is_type(v, json_string_value(t)) == 1)
                    ok = 1;
            }
        }
        if (ok < 0)
            return fail(c, HS_EUNSUPPORTED, path, "unknown type in schema");
        if (!ok)
            return fail(c, HS_EINVAL, path, "wrong type (schema type keyword)");
    }
    if ((k = json_object_get(schema, "enum"))) {
        size_t i;
        json_t *e;
        int ok = 0;
        json_array_foreach(k, i, e) {
            if (json_equal(e, (json_t *)v))
                ok = 1;
        }
        if (!ok)
            return fail(c, HS_EINVAL, path, "value not in enum");
    }
    if ((k = json_object_get(schema, "const")) && !json_equal((json_t *)k, (json_t *)v))
        return fail(c, HS_EINVAL, path, "value differs from const");
    if (json_is_string(v)) {
        if ((k = json_object_get(schema, "minLength")) &&
            (json_int_t)json_string_length(v) < json_integer_value(k))
            return fail(c, HS_EINVAL, path, "shorter than minLength");
        if ((k = json_object_get(schema, "pattern"))) {
            int m = pattern_match(json_string_value(k), json_string_value(v));
            if (m < 0)
                return fail(c, HS_EUNSUPPORTED, path, "pattern %s not supported", json_string_value(k));
            if (!m)
                return fail(c, HS_EINVAL, path, "does not match pattern %s", json_string_value(k));
        }
    }
    if (json_is_number(v) && (k = json_object_get(schema, "minimum")) &&
        json_number_value(v) < json_number_value(k))
        return fail(c, HS_EINVAL, path, "below minimum");
    if (json_is_array(v)) {
        if ((k = json_object_get(schema, "minItems")) && (json_int_t)json_array_size(v) < json_integer_value(k))
            return fail(c, HS_EINVAL, path, "fewer items than minItems");
        if ((k = json_object_get(schema, "items"))) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                char sub[512];
                snprintf(sub, sizeof sub, "%s[%zu]", path, i);
                if ((rc = check(c, k, e, sub)))
                    return rc;
            }
        }
    }
    if (json_is_object(v)) {
        const json_t *props = json_object_get(schema, "properties");
        const json_t *extra = json_object_get(schema, "additionalProperties");
        if ((k = json_object_get(schema, "required"))) {
            size_t i;
            json_t *name;
            json_array_foreach(k, i, name) {
                if (!json_object_get(v, json_string_value(name)))
                    return fail(c, HS_EINVAL, path, "required member \"%s\" missing", json_string_value(name));
            }
        }
        const char *key;
        json_t *mv;
        json_object_foreach((json_t *)v, key, mv) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            const json_t *ps = props ? json_object_get(props, key) : NULL;
            if (ps)
                rc = check(c, ps, mv, sub);
            else if (extra)
                rc = check(c, extra, mv, sub);
            else
                rc = HS_EOK;
            if (rc)
                return rc;
        }
    }
    return HS_EOK;
}

hs_err_t jschema_validate(const json_t *schema, const json_t *doc, char *err, size_t errcap)
{
    ctx_t c = { schema, err, errcap };
    return check(&c, schema, doc, "$");
}
