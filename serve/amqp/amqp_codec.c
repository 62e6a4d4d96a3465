/* Translate between decoded AMQP messages (pn_message_t) and hub messages, and hub errors into AMQP error conditions. */
#include "serve/amqp/amqp_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sim/simtime.h"

static const char *const condition_table[] = {
#define AMQP_COND_ROW(e, cond, mark) [HUB_E##e] = cond,
    AMQP_CONDITION_MAP(AMQP_COND_ROW)
#undef AMQP_COND_ROW
};

const char *amqp_condition_for(hub_err_t err)
{
    if ((unsigned)err >= HUB_E__COUNT || !condition_table[err])
        return "amqp:internal-error";
    return condition_table[err];
}

static char *dup_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static char *dup_fmt_u(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return strdup(b);
}

static char *dup_fmt_i(int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRId64, v);
    return strdup(b);
}

static char *uuid_text(const pn_uuid_t *u)
{
    char b[40];
    const unsigned char *x = (const unsigned char *)u->bytes;
    snprintf(b, sizeof b,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", x[0], x[1],
             x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12], x[13], x[14], x[15]);
    return strdup(b);
}

void amqp_ms_to_iso(int64_t ms, char *buf, size_t cap)
{
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        sec -= 1;
    }
    sim_utc_format(sec, (sim_time_t)rem * 1000000u, buf, cap);
}

bool amqp_iso_to_ms(const char *iso, int64_t *ms_out)
{
    int64_t sec;
    uint32_t nanos;
    if (!iso || sim_utc_parse(iso, &sec, &nanos) != HS_EOK)
        return false;
    *ms_out = sec * 1000 + (int64_t)(nanos / 1000000u);
    return true;
}

static char *ts_text(int64_t ms)
{
    char b[48];
    amqp_ms_to_iso(ms, b, sizeof b);
    return strdup(b);
}

char *amqp_data_text(pn_data_t *d)
{
    switch (pn_data_type(d)) {
    case PN_STRING: {
        pn_bytes_t b = pn_data_get_string(d);
        return dup_bytes(b.start, b.size);
    }
    case PN_SYMBOL: {
        pn_bytes_t b = pn_data_get_symbol(d);
        return dup_bytes(b.start, b.size);
    }
    case PN_BINARY: {
        pn_bytes_t b = pn_data_get_binary(d);
        return dup_bytes(b.start, b.size);
    }
    case PN_BOOL: return strdup(pn_data_get_bool(d) ? "true" : "false");
    case PN_UBYTE: return dup_fmt_u(pn_data_get_ubyte(d));
    case PN_USHORT: return dup_fmt_u(pn_data_get_ushort(d));
    case PN_UINT: return dup_fmt_u(pn_data_get_uint(d));
    case PN_ULONG: return dup_fmt_u(pn_data_get_ulong(d));
    case PN_BYTE: return dup_fmt_i(pn_data_get_byte(d));
    case PN_SHORT: return dup_fmt_i(pn_data_get_short(d));
    case PN_INT: return dup_fmt_i(pn_data_get_int(d));
    case PN_LONG: return dup_fmt_i(pn_data_get_long(d));
    case PN_CHAR: return dup_fmt_u(pn_data_get_char(d));
    case PN_TIMESTAMP: return ts_text(pn_data_get_timestamp(d));
    case PN_UUID: {
        pn_uuid_t u = pn_data_get_uuid(d);
        return uuid_text(&u);
    }
    case PN_DOUBLE: {
        char b[40];
        snprintf(b, sizeof b, "%.17g", pn_data_get_double(d));
        return strdup(b);
    }
    case PN_FLOAT: {
        char b[40];
        snprintf(b, sizeof b, "%.9g", (double)pn_data_get_float(d));
        return strdup(b);
    }
    default: return NULL;
    }
}

char *amqp_atom_text(pn_atom_t a)
{
    switch (a.type) {
    case PN_STRING:
    case PN_SYMBOL:
    case PN_BINARY: return dup_bytes(a.u.as_bytes.start, a.u.as_bytes.size);
    case PN_ULONG: return dup_fmt_u(a.u.as_ulong);
    case PN_LONG: return dup_fmt_i(a.u.as_long);
    case PN_UINT: return dup_fmt_u(a.u.as_uint);
    case PN_INT: return dup_fmt_i(a.u.as_int);
    case PN_UUID: return uuid_text(&a.u.as_uuid);
    default: return NULL;
    }
}

bool amqp_map_find(pn_data_t *data, const char *key, bool nocase)
{
    pn_data_rewind(data);
    if (!pn_data_next(data) || pn_data_type(data) != PN_MAP)
        return false;
    size_t n = pn_data_get_map(data) / 2;
    pn_data_enter(data);
    for (size_t i = 0; i < n; i++) {
        if (!pn_data_next(data))
            break;
        pn_type_t t = pn_data_type(data);
        pn_bytes_t k = t == PN_STRING ? pn_data_get_string(data)
                       : t == PN_SYMBOL ? pn_data_get_symbol(data)
                                        : pn_bytes(0, NULL);
        bool hit = k.start && strlen(key) == k.size &&
                   (nocase ? strncasecmp(k.start, key, k.size) == 0
                           : memcmp(k.start, key, k.size) == 0);
        if (!pn_data_next(data))
            break;
        if (hit)
            return true;
    }
    return false;
}

static hub_err_t set_sys(hub_msg_t *h, hub_msg_sys_t id, char *text)
{
    if (!text)
        return HUB_ESERVER_ERROR;
    hs_err_t e = hub_msg_set_sys(h, id, text);
    free(text);
    return e == HS_EOK ? HUB_EOK : HUB_ESERVER_ERROR;
}

/* Walk a map of (key, scalar) pairs: fn gets key text and the data cursor. */
typedef hub_err_t (*map_visit_fn)(hub_msg_t *h, const char *key, pn_data_t *d, char *why,
                                  size_t cap);

static hub_err_t walk_map(pn_data_t *data, hub_msg_t *h, map_visit_fn fn, const char *what,
                          char *why, size_t cap)
{
    pn_data_rewind(data);
    if (!pn_data_next(data))
        return HUB_EOK;
    if (pn_data_type(data) != PN_MAP) {
        snprintf(why, cap, "%s is a %s, not a map", what, pn_type_name(pn_data_type(data)));
        return HUB_EARGUMENT_INVALID;
    }
    size_t n = pn_data_get_map(data) / 2;
    pn_data_enter(data);
    hub_err_t e = HUB_EOK;
    for (size_t i = 0; i < n && e == HUB_EOK; i++) {
        if (!pn_data_next(data))
            break;
        char *key = NULL;
        pn_type_t kt = pn_data_type(data);
        if (kt == PN_STRING || kt == PN_SYMBOL)
            key = amqp_data_text(data);
        if (!key) {
            snprintf(why, cap, "%s key #%zu is a %s, not a string", what, i, pn_type_name(kt));
            e = kt == PN_STRING || kt == PN_SYMBOL ? HUB_ESERVER_ERROR : HUB_EARGUMENT_INVALID;
            break;
        }
        if (!pn_data_next(data)) {
            free(key);
            break;
        }
        e = fn(h, key, data, why, cap);
        free(key);
    }
    pn_data_exit(data);
    return e;
}

static hub_err_t visit_app(hub_msg_t *h, const char *key, pn_data_t *d, char *why, size_t cap)
{
    if (pn_data_type(d) == PN_NULL)
        return hub_msg_add_app(h, key, "") == HS_EOK ? HUB_EOK : HUB_ESERVER_ERROR;
    char *v = amqp_data_text(d);
    if (!v) {
        snprintf(why, cap, "application property '%s' is a %s (only scalars are allowed)", key,
                 pn_type_name(pn_data_type(d)));
        return HUB_EARGUMENT_INVALID;
    }
    hs_err_t e = hub_msg_add_app(h, key, v);
    free(v);
    return e == HS_EOK ? HUB_EOK : HUB_ESERVER_ERROR;
}

static hub_err_t visit_annotation(hub_msg_t *h, const char *key, pn_data_t *d, char *why,
                                  size_t cap)
{
    (void)why;
    (void)cap;
    hub_msg_sys_t id;
    if (hub_msg_sys_lookup(key, &id) != HS_EOK || strcmp(hub_msg_sys_wire_name(id), key) != 0)
        return HUB_EOK; /* x-opt-* and friends: not the hub's business */
    char *v = amqp_data_text(d);
    if (!v)
        return HUB_EOK;
    return set_sys(h, id, v); /* stamped ones are cleared by the hub (anti-spoofing) */
}

hub_err_t amqp_msg_to_hub(pn_message_t *m, bool drop_app, hub_msg_t **out, char *why, size_t cap)
{
    *out = NULL;
    if (cap)
        why[0] = '\0';
    hub_msg_t *h = hub_msg_new();
    if (!h)
        return HUB_ESERVER_ERROR;
    hub_err_t e = HUB_EOK;
    char *t;
    if ((t = amqp_atom_text(pn_message_get_id(m))) != NULL)
        e = set_sys(h, HUB_SYS_MESSAGE_ID, t);
    if (e == HUB_EOK && (t = amqp_atom_text(pn_message_get_correlation_id(m))) != NULL)
        e = set_sys(h, HUB_SYS_CORRELATION_ID, t);
    pn_bytes_t uid = pn_message_get_user_id(m);
    if (e == HUB_EOK && uid.size)
        e = set_sys(h, HUB_SYS_USER_ID, dup_bytes(uid.start, uid.size));
    const char *s;
    if (e == HUB_EOK && (s = pn_message_get_address(m)) != NULL)
        e = set_sys(h, HUB_SYS_TO, strdup(s));
    if (e == HUB_EOK && (s = pn_message_get_content_type(m)) != NULL)
        e = set_sys(h, HUB_SYS_CONTENT_TYPE, strdup(s));
    if (e == HUB_EOK && (s = pn_message_get_content_encoding(m)) != NULL)
        e = set_sys(h, HUB_SYS_CONTENT_ENCODING, strdup(s));
    pn_timestamp_t exp = pn_message_get_expiry_time(m);
    if (e == HUB_EOK && exp != 0)
        e = set_sys(h, HUB_SYS_EXPIRY_TIME_UTC, ts_text(exp));
    if (e == HUB_EOK)
        e = walk_map(pn_message_annotations(m), h, visit_annotation, "message-annotations", why, cap);
    if (e == HUB_EOK && !drop_app)
        e = walk_map(pn_message_properties(m), h, visit_app, "application-properties", why, cap);
    if (e == HUB_EOK) {
        pn_data_t *b = pn_message_body(m);
        pn_data_rewind(b);
        if (pn_data_next(b)) {
            pn_type_t bt = pn_data_type(b);
            pn_bytes_t bytes = bt == PN_BINARY   ? pn_data_get_binary(b)
                               : bt == PN_STRING ? pn_data_get_string(b)
                                                 : pn_bytes(0, NULL);
            if (bt == PN_BINARY || bt == PN_STRING) {
                if (hub_msg_set_body(h, bytes.size ? bytes.start : "", bytes.size) != HS_EOK)
                    e = HUB_ESERVER_ERROR;
            } else if (bt != PN_NULL) {
                snprintf(why, cap, "message body is an amqp-value %s (data sections, strings and binary only)",
                         pn_type_name(bt));
                e = HUB_EARGUMENT_INVALID;
            }
        }
    }
    if (e != HUB_EOK) {
        if (e == HUB_ESERVER_ERROR && cap && !why[0])
            snprintf(why, cap, "out of memory");
        hub_msg_free(h);
        return e;
    }
    *out = h;
    return HUB_EOK;
}

hs_err_t amqp_map_put_string(pn_data_t *map, bool symbol_key, const char *key, const char *value)
{
    pn_bytes_t k = pn_bytes(strlen(key), key);
    int rc = symbol_key ? pn_data_put_symbol(map, k) : pn_data_put_string(map, k);
    if (!rc)
        rc = pn_data_put_string(map, pn_bytes(strlen(value), value));
    return rc ? HS_ENOMEM : HS_EOK;
}

static bool is_annotation_sys(hub_msg_sys_t id)
{
    return hub_msg_sys_is_stamped(id) || id == HUB_SYS_DT_DATASCHEMA || id == HUB_SYS_DT_SUBJECT;
}

hs_err_t amqp_msg_from_hub(const hub_msg_t *h, unsigned flags, const amqp_event_marks_t *marks,
                           pn_message_t *m)
{
    pn_message_clear(m);
    const char *v;
    if ((v = hub_msg_get_sys(h, HUB_SYS_MESSAGE_ID)) != NULL) {
        pn_atom_t a = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(v), v) };
        pn_message_set_id(m, a);
    }
    if ((v = hub_msg_get_sys(h, HUB_SYS_CORRELATION_ID)) != NULL) {
        pn_atom_t a = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(v), v) };
        pn_message_set_correlation_id(m, a);
    }
    if ((v = hub_msg_get_sys(h, HUB_SYS_USER_ID)) != NULL)
        pn_message_set_user_id(m, pn_bytes(strlen(v), v));
    if ((v = hub_msg_get_sys(h, HUB_SYS_TO)) != NULL)
        pn_message_set_address(m, v);
    if ((v = hub_msg_get_sys(h, HUB_SYS_CONTENT_TYPE)) != NULL)
        pn_message_set_content_type(m, v);
    if ((v = hub_msg_get_sys(h, HUB_SYS_CONTENT_ENCODING)) != NULL)
        pn_message_set_content_encoding(m, v);
    int64_t ms;
    if ((v = hub_msg_get_sys(h, HUB_SYS_EXPIRY_TIME_UTC)) != NULL && amqp_iso_to_ms(v, &ms))
        pn_message_set_expiry_time(m, ms);

    size_t n = hub_msg_app_count(h);
    if (n) {
        pn_data_t *p = pn_message_properties(m);
        if (pn_data_put_map(p))
            return HS_ENOMEM;
        pn_data_enter(p);
        for (size_t i = 0; i < n; i++) {
            const char *k, *val;
            if (hub_msg_app_at(h, i, &k, &val) == HS_EOK && amqp_map_put_string(p, false, k, val))
                return HS_ENOMEM;
        }
        pn_data_exit(p);
    }
    if (flags & AMQP_MSG_STAMPED_ANNOTATIONS) {
        pn_data_t *a = pn_message_annotations(m);
        if (pn_data_put_map(a))
            return HS_ENOMEM;
        pn_data_enter(a);
        for (int id = 0; id < HUB_SYS__COUNT; id++) {
            if (!is_annotation_sys((hub_msg_sys_t)id) || id == HUB_SYS_SEQUENCE_NUMBER)
                continue;
            if ((v = hub_msg_get_sys(h, (hub_msg_sys_t)id)) == NULL)
                continue;
            const char *k = hub_msg_sys_wire_name((hub_msg_sys_t)id);
            if (id == HUB_SYS_ENQUEUED_TIME && amqp_iso_to_ms(v, &ms)) {
                pn_data_put_symbol(a, pn_bytes(strlen(k), k));
                pn_data_put_timestamp(a, ms);
            } else if (amqp_map_put_string(a, true, k, v)) {
                return HS_ENOMEM;
            }
        }
        if (marks) {
            char off[24];
            snprintf(off, sizeof off, "%" PRIu64, marks->sequence_number);
            pn_data_put_symbol(a, pn_bytes(strlen("x-opt-sequence-number"), "x-opt-sequence-number"));
            pn_data_put_long(a, (int64_t)marks->sequence_number);
            if (amqp_map_put_string(a, true, "x-opt-offset", off))
                return HS_ENOMEM;
            pn_data_put_symbol(a, pn_bytes(strlen("x-opt-enqueued-time"), "x-opt-enqueued-time"));
            pn_data_put_timestamp(a, marks->enqueued_unix_ms);
        }
        pn_data_exit(a);
    }
    size_t blen = 0;
    const void *body = hub_msg_body(h, &blen);
    pn_data_t *b = pn_message_body(m);
    if (pn_data_put_binary(b, pn_bytes(blen, blen ? (const char *)body : "")))
        return HS_ENOMEM;
    pn_message_set_inferred(m, true); /* binary body = one data section */
    return HS_EOK;
}

bool amqp_bytes_are_message(const char *bytes, size_t len)
{
    pn_data_t *d = pn_data(4);
    if (!d)
        return false;
    bool ok = len > 0;
    while (ok && len > 0) {
        pn_data_clear(d);
        ssize_t used = pn_data_decode(d, bytes, len);
        if (used <= 0 || (size_t)used > len) {
            ok = false;
            break;
        }
        pn_data_rewind(d);
        ok = pn_data_next(d) && pn_data_type(d) == PN_DESCRIBED;
        if (ok) {
            pn_data_enter(d);
            ok = pn_data_next(d) && pn_data_type(d) == PN_ULONG && pn_data_get_ulong(d) >= 0x70 &&
                 pn_data_get_ulong(d) <= 0x78;
        }
        bytes += used;
        len -= (size_t)used;
    }
    pn_data_free(d);
    return ok;
}

hs_err_t amqp_msg_encode(pn_message_t *m, char **out, size_t *len)
{
    pn_rwbytes_t buf = { 0, NULL };
    ssize_t n = pn_message_encode2(m, &buf);
    if (n < 0) {
        free(buf.start);
        *out = NULL;
        *len = 0;
        return n == PN_OUT_OF_MEMORY ? HS_ENOMEM : HS_EPARSE;
    }
    *out = buf.start;
    *len = (size_t)n;
    return HS_EOK;
}
