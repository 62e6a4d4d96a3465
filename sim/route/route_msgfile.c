/* Loading a JSON message file (routing-query.txt's representation) into the routing message view. */
#include <stdlib.h>
#include <string.h>

#include "route_msgfile.h"

struct route_msgfile {
    route_message_t view;
    route_prop_t *props;
    char **owned; /* strings made from numbers/Booleans, and the body */
    size_t nowned;
    json_t *doc;
    json_t *twin;
};

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

hs_err_t route_base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    unsigned char *b = malloc(len / 4 * 3 + 4);
    if (!b)
        return HS_ENOMEM;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64val(c);
        if (v < 0 || pad) {
            free(b);
            return HS_EPARSE;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            b[n++] = (unsigned char)(acc >> bits);
        }
    }
    *out = b;
    *out_len = n;
    return HS_EOK;
}

static char *own(route_msgfile_t *mf, char *s)
{
    if (!s)
        return NULL;
    char **no = realloc(mf->owned, (mf->nowned + 1) * sizeof *no);
    if (!no) {
        free(s);
        return NULL;
    }
    mf->owned = no;
    mf->owned[mf->nowned++] = s;
    return s;
}

/* The text of a scalar: strings as they are, others as compact JSON. */
static const char *scalar_text(route_msgfile_t *mf, json_t *v, int *is_null)
{
    *is_null = 0;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_null(v)) {
        *is_null = 1;
        return NULL;
    }
    if (json_is_number(v) || json_is_boolean(v))
        return own(mf, json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT));
    return NULL;
}

void route_msgfile_free(route_msgfile_t *mf)
{
    if (!mf)
        return;
    route_message_reset(&mf->view);
    for (size_t i = 0; i < mf->nowned; i++)
        free(mf->owned[i]);
    free(mf->owned);
    free(mf->props);
    json_decref(mf->doc);
    json_decref(mf->twin);
    free(mf);
}

route_message_t *route_msgfile_view(route_msgfile_t *mf)
{
    return &mf->view;
}

hs_err_t route_msgfile_load(const json_t *doc, const json_t *twin, route_msgfile_t **out, char *err,
                            size_t cap)
{
    *out = NULL;
    if (json_is_object(doc) && json_is_object(json_object_get(doc, "message")))
        doc = json_object_get(doc, "message");
    if (!json_is_object(doc)) {
        snprintf(err, cap, "a message must be a JSON object");
        return HS_EPARSE;
    }
    if (twin && !json_is_object(twin)) {
        snprintf(err, cap, "a twin must be a JSON object");
        return HS_EPARSE;
    }
    route_msgfile_t *mf = calloc(1, sizeof *mf);
    if (!mf)
        return HS_ENOMEM;
    route_message_init(&mf->view);
    mf->doc = json_incref((json_t *)doc);
    if (twin) {
        mf->twin = json_incref((json_t *)twin);
        mf->view.twin = mf->twin;
    }
    hs_err_t e = HS_EPARSE;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)doc, key, val) {
        if (strcmp(key, "systemProperties") && strcmp(key, "appProperties") && strcmp(key, "body") &&
            strcmp(key, "bodyBase64")) {
            snprintf(err, cap, "unknown message key \"%.60s\" (systemProperties, appProperties, "
                               "body, bodyBase64)", key);
            goto fail;
        }
    }
    json_t *sys = json_object_get(doc, "systemProperties");
    if (sys && !json_is_object(sys)) {
        snprintf(err, cap, "systemProperties must be an object");
        goto fail;
    }
    json_object_foreach(sys, key, val) {
        int slot = route_sysprop_lookup(key, strlen(key)), is_null;
        if (slot < 0) {
            snprintf(err, cap, "unknown system property \"%.60s\"", key);
            goto fail;
        }
        const char *text = scalar_text(mf, val, &is_null);
        if (!text && !is_null) {
            snprintf(err, cap, "system property \"%.60s\" must be a string, number or Boolean", key);
            goto fail;
        }
        mf->view.sys[slot] = text;
    }
    json_t *app = json_object_get(doc, "appProperties");
    if (app && !json_is_object(app)) {
        snprintf(err, cap, "appProperties must be an object");
        goto fail;
    }
    if (app && json_object_size(app)) {
        mf->props = calloc(json_object_size(app), sizeof *mf->props);
        if (!mf->props) {
            e = HS_ENOMEM;
            goto fail;
        }
        json_object_foreach(app, key, val) {
            int is_null;
            const char *text = scalar_text(mf, val, &is_null);
            if (!text && !is_null) {
                snprintf(err, cap, "app property \"%.60s\" must be a string, number, Boolean or null", key);
                goto fail;
            }
            mf->props[mf->view.napp].name = key;
            mf->props[mf->view.napp].value = text;
            mf->view.napp++;
        }
        mf->view.app = mf->props;
    }
    json_t *body = json_object_get(doc, "body"), *b64 = json_object_get(doc, "bodyBase64");
    if (body && b64) {
        snprintf(err, cap, "give either body or bodyBase64, not both");
        goto fail;
    }
    if (body) {
        if (json_is_string(body)) {
            mf->view.body = json_string_value(body);
            mf->view.body_len = json_string_length(body);
        } else {
            /* convenience: a JSON value is the body's text */
            char *s = own(mf, json_dumps(body, JSON_ENCODE_ANY | JSON_COMPACT));
            if (!s) {
                e = HS_ENOMEM;
                goto fail;
            }
            mf->view.body = s;
            mf->view.body_len = strlen(s);
        }
    } else if (b64) {
        unsigned char *bytes;
        size_t n;
        if (!json_is_string(b64) ||
            route_base64_decode(json_string_value(b64), json_string_length(b64), &bytes, &n)) {
            snprintf(err, cap, "bodyBase64 is not valid base64");
            goto fail;
        }
        if (!own(mf, (char *)bytes)) {
            e = HS_ENOMEM;
            goto fail;
        }
        mf->view.body = bytes;
        mf->view.body_len = n;
    }
    *out = mf;
    return HS_EOK;
fail:
    route_msgfile_free(mf);
    return e;
}
