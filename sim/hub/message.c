/* The hub message: owned storage for properties and body, and the message-format.txt / direct-methods.txt rules. */
#include "sim/hub/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *name;
    char *value;
} hub_msg_app_t;

struct hub_msg {
    char *sys[HUB_SYS__COUNT];
    hub_msg_app_t *app;
    size_t napp;
    size_t capp;
    unsigned char *body; /* NULL when empty */
    size_t body_len;
};

static const char *const hub_msg_query_names[HUB_SYS__COUNT] = {
#define HUB_MSG_SYS_Q(e, q, w, s) q,
    HUB_MSG_SYS_MAP(HUB_MSG_SYS_Q)
#undef HUB_MSG_SYS_Q
};
static const char *const hub_msg_wire_names[HUB_SYS__COUNT] = {
#define HUB_MSG_SYS_W(e, q, w, s) w,
    HUB_MSG_SYS_MAP(HUB_MSG_SYS_W)
#undef HUB_MSG_SYS_W
};
static const unsigned char hub_msg_stamped[HUB_SYS__COUNT] = {
#define HUB_MSG_SYS_S(e, q, w, s) s,
    HUB_MSG_SYS_MAP(HUB_MSG_SYS_S)
#undef HUB_MSG_SYS_S
};

static char *hub_msg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

hub_msg_t *hub_msg_new(void)
{
    return calloc(1, sizeof(hub_msg_t));
}

void hub_msg_free(hub_msg_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < HUB_SYS__COUNT; i++)
        free(m->sys[i]);
    for (size_t i = 0; i < m->napp; i++) {
        free(m->app[i].name);
        free(m->app[i].value);
    }
    free(m->app);
    free(m->body);
    free(m);
}

hub_msg_t *hub_msg_clone(const hub_msg_t *m)
{
    if (!m)
        return NULL;
    hub_msg_t *c = hub_msg_new();
    if (!c)
        return NULL;
    for (size_t i = 0; i < HUB_SYS__COUNT; i++) {
        if (m->sys[i] && !(c->sys[i] = hub_msg_strdup(m->sys[i])))
            goto fail;
    }
    for (size_t i = 0; i < m->napp; i++) {
        if (hub_msg_add_app(c, m->app[i].name, m->app[i].value) != HS_EOK)
            goto fail;
    }
    if (hub_msg_set_body(c, m->body, m->body_len) != HS_EOK)
        goto fail;
    return c;
fail:
    hub_msg_free(c);
    return NULL;
}

hs_err_t hub_msg_set_body(hub_msg_t *m, const void *body, size_t len)
{
    if (!m || (!body && len))
        return HS_EINVAL;
    unsigned char *b = NULL;
    if (len) {
        b = malloc(len);
        if (!b)
            return HS_ENOMEM;
        memcpy(b, body, len);
    }
    free(m->body);
    m->body = b;
    m->body_len = len;
    return HS_EOK;
}

hs_err_t hub_msg_take_body(hub_msg_t *m, void *body, size_t len)
{
    if (!m || (!body && len))
        return HS_EINVAL;
    free(m->body);
    if (len == 0) {
        free(body);
        body = NULL;
    }
    m->body = body;
    m->body_len = len;
    return HS_EOK;
}

const void *hub_msg_body(const hub_msg_t *m, size_t *len_out)
{
    if (len_out)
        *len_out = m ? m->body_len : 0;
    if (!m || !m->body)
        return "";
    return m->body;
}

hs_err_t hub_msg_set_sys(hub_msg_t *m, hub_msg_sys_t id, const char *value)
{
    if (!m || (unsigned)id >= HUB_SYS__COUNT)
        return HS_EINVAL;
    char *v = NULL;
    if (value && !(v = hub_msg_strdup(value)))
        return HS_ENOMEM;
    free(m->sys[id]);
    m->sys[id] = v;
    return HS_EOK;
}

const char *hub_msg_get_sys(const hub_msg_t *m, hub_msg_sys_t id)
{
    if (!m || (unsigned)id >= HUB_SYS__COUNT)
        return NULL;
    return m->sys[id];
}

void hub_msg_clear_stamped(hub_msg_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < HUB_SYS__COUNT; i++) {
        if (hub_msg_stamped[i]) {
            free(m->sys[i]);
            m->sys[i] = NULL;
        }
    }
}

bool hub_msg_sys_is_stamped(hub_msg_sys_t id)
{
    return (unsigned)id < HUB_SYS__COUNT && hub_msg_stamped[id];
}

const char *hub_msg_sys_query_name(hub_msg_sys_t id)
{
    return (unsigned)id < HUB_SYS__COUNT ? hub_msg_query_names[id] : NULL;
}

const char *hub_msg_sys_wire_name(hub_msg_sys_t id)
{
    return (unsigned)id < HUB_SYS__COUNT ? hub_msg_wire_names[id] : NULL;
}

hs_err_t hub_msg_sys_lookup(const char *name, hub_msg_sys_t *id_out)
{
    if (!name || !id_out)
        return HS_EINVAL;
    for (size_t i = 0; i < HUB_SYS__COUNT; i++) {
        if (strcasecmp(name, hub_msg_query_names[i]) == 0 ||
            strcasecmp(name, hub_msg_wire_names[i]) == 0) {
            *id_out = (hub_msg_sys_t)i;
            return HS_EOK;
        }
    }
    return HS_ENOTFOUND;
}

static const char *const hub_ack_names[] = { "none", "positive", "negative", "full" };

const char *hub_ack_name(hub_ack_t ack)
{
    return (unsigned)ack < 4 ? hub_ack_names[ack] : "none";
}

hub_err_t hub_msg_get_ack(const hub_msg_t *m, hub_ack_t *ack_out)
{
    if (!m || !ack_out)
        return HUB_EARGUMENT_NULL;
    const char *v = m->sys[HUB_SYS_ACK];
    *ack_out = HUB_ACK_NONE;
    if (!v)
        return HUB_EOK;
    for (unsigned i = 0; i < 4; i++) {
        if (strcasecmp(v, hub_ack_names[i]) == 0) {
            *ack_out = (hub_ack_t)i;
            return HUB_EOK;
        }
    }
    return HUB_EARGUMENT_INVALID;
}

static hs_err_t hub_msg_app_grow(hub_msg_t *m)
{
    if (m->napp < m->capp)
        return HS_EOK;
    size_t cap = m->capp ? m->capp * 2 : 4;
    hub_msg_app_t *a = realloc(m->app, cap * sizeof(*a));
    if (!a)
        return HS_ENOMEM;
    m->app = a;
    m->capp = cap;
    return HS_EOK;
}

hs_err_t hub_msg_add_app(hub_msg_t *m, const char *name, const char *value)
{
    if (!m || !name)
        return HS_EINVAL;
    if (hub_msg_app_grow(m) != HS_EOK)
        return HS_ENOMEM;
    char *n = hub_msg_strdup(name);
    char *v = hub_msg_strdup(value ? value : "");
    if (!n || !v) {
        free(n);
        free(v);
        return HS_ENOMEM;
    }
    m->app[m->napp].name = n;
    m->app[m->napp].value = v;
    m->napp++;
    return HS_EOK;
}

hs_err_t hub_msg_set_app(hub_msg_t *m, const char *name, const char *value)
{
    if (!m || !name)
        return HS_EINVAL;
    for (size_t i = 0; i < m->napp; i++) {
        if (strcmp(m->app[i].name, name) == 0) {
            char *v = hub_msg_strdup(value ? value : "");
            if (!v)
                return HS_ENOMEM;
            free(m->app[i].value);
            m->app[i].value = v;
            return HS_EOK;
        }
    }
    return hub_msg_add_app(m, name, value);
}

const char *hub_msg_get_app(const hub_msg_t *m, const char *name)
{
    if (!m || !name)
        return NULL;
    for (size_t i = 0; i < m->napp; i++) {
        if (strcmp(m->app[i].name, name) == 0)
            return m->app[i].value;
    }
    return NULL;
}

size_t hub_msg_remove_app(hub_msg_t *m, const char *name)
{
    if (!m || !name)
        return 0;
    size_t w = 0, removed = 0;
    for (size_t r = 0; r < m->napp; r++) {
        if (strcmp(m->app[r].name, name) == 0) {
            free(m->app[r].name);
            free(m->app[r].value);
            removed++;
        } else {
            m->app[w++] = m->app[r];
        }
    }
    m->napp = w;
    return removed;
}

size_t hub_msg_app_count(const hub_msg_t *m)
{
    return m ? m->napp : 0;
}

hs_err_t hub_msg_app_at(const hub_msg_t *m, size_t i, const char **name_out, const char **value_out)
{
    if (!m || i >= m->napp)
        return HS_ERANGE;
    if (name_out)
        *name_out = m->app[i].name;
    if (value_out)
        *value_out = m->app[i].value;
    return HS_EOK;
}

/* ---- rules ------------------------------------------------------------ */

/* The three character sets as 256-bit maps, written out once from the spec
 * sentences: validation runs on every D2C message, so no strchr per byte. */
typedef struct {
    uint64_t w[4];
} hub_msg_charset_t;

static bool hub_msg_in(const hub_msg_charset_t *set, unsigned char c)
{
    return (set->w[c >> 6] >> (c & 63)) & 1u;
}

#define HUB_MSG_BIT(c) ((uint64_t)1 << ((c) & 63))
/* 0-9 in word 0; A-Z and a-z in word 1 */
#define HUB_MSG_DIGITS (((uint64_t)0x3FF) << 48)
#define HUB_MSG_ALPHA ((((uint64_t)0x3FFFFFF) << 1) | (((uint64_t)0x3FFFFFF) << 33))

/* message-format.txt: alphanumerics + ! # $ % & ' * + - . ^ _ ` | ~ */
static const hub_msg_charset_t hub_msg_prop_set = { {
    HUB_MSG_DIGITS | HUB_MSG_BIT('!') | HUB_MSG_BIT('#') | HUB_MSG_BIT('$') | HUB_MSG_BIT('%') |
        HUB_MSG_BIT('&') | HUB_MSG_BIT('\'') | HUB_MSG_BIT('*') | HUB_MSG_BIT('+') |
        HUB_MSG_BIT('-') | HUB_MSG_BIT('.'),
    HUB_MSG_ALPHA | HUB_MSG_BIT('^') | HUB_MSG_BIT('_') | HUB_MSG_BIT('`') | HUB_MSG_BIT('|') |
        HUB_MSG_BIT('~'),
    0, 0 } };

/* message-format.txt MessageId: alphanumerics + - : . + % _ # * ? ! ( ) , = @ ; $ ' */
static const hub_msg_charset_t hub_msg_id_set = { {
    HUB_MSG_DIGITS | HUB_MSG_BIT('-') | HUB_MSG_BIT(':') | HUB_MSG_BIT('.') | HUB_MSG_BIT('+') |
        HUB_MSG_BIT('%') | HUB_MSG_BIT('#') | HUB_MSG_BIT('*') | HUB_MSG_BIT('?') |
        HUB_MSG_BIT('!') | HUB_MSG_BIT('(') | HUB_MSG_BIT(')') | HUB_MSG_BIT(',') |
        HUB_MSG_BIT('=') | HUB_MSG_BIT(';') | HUB_MSG_BIT('$') | HUB_MSG_BIT('\''),
    HUB_MSG_ALPHA | HUB_MSG_BIT('_') | HUB_MSG_BIT('@'),
    0, 0 } };

bool hub_msg_prop_char_ok(unsigned char c)
{
    /* The spec's set lists '*' twice; the distinct set is 15 characters. */
    return hub_msg_in(&hub_msg_prop_set, c);
}

bool hub_msg_method_char_ok(unsigned char c)
{
    if (c < 0x21 || c > 0x7E) /* SP, HT, controls, DEL and non-ASCII */
        return false;
    return strchr("$()<>@,;:\\\"/[]?={}", c) == NULL;
}

bool hub_msg_id_char_ok(unsigned char c)
{
    return hub_msg_in(&hub_msg_id_set, c);
}

static void hub_msg_fill(hub_msg_violation_t *v, hub_err_t err, hub_msg_where_t where,
                         size_t index, size_t offset, unsigned char ch)
{
    if (!v)
        return;
    v->err = err;
    v->where = where;
    v->index = index;
    v->offset = offset;
    v->ch = ch;
    v->size = 0;
    v->detail[0] = '\0';
}

static void hub_msg_clear_violation(hub_msg_violation_t *v)
{
    if (v) {
        memset(v, 0, sizeof(*v));
        v->err = HUB_EOK;
    }
}

/* A printable rendering of a byte for messages: 'x' or 0xNN. */
static void hub_msg_char_text(unsigned char c, char *buf, size_t cap)
{
    if (c >= 0x21 && c <= 0x7E)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "0x%02X", c);
}

/* First byte of s failing ok(), or -1. */
static long hub_msg_scan(const char *s, bool (*ok)(unsigned char))
{
    for (size_t i = 0; s[i]; i++) {
        if (!ok((unsigned char)s[i]))
            return (long)i;
    }
    return -1;
}

hub_err_t hub_msg_check_method_name(const char *s, size_t max_len, hub_msg_violation_t *v)
{
    hub_msg_clear_violation(v);
    if (!s) {
        hub_msg_fill(v, HUB_EARGUMENT_NULL, HUB_MSG_WHERE_TEXT, 0, 0, 0);
        if (v)
            snprintf(v->detail, sizeof(v->detail), "method name is missing");
        return HUB_EARGUMENT_NULL;
    }
    size_t n = strlen(s);
    if (n == 0 || (max_len && n > max_len)) {
        hub_msg_fill(v, HUB_EARGUMENT_INVALID, HUB_MSG_WHERE_TEXT, 0, n, 0);
        if (v)
            snprintf(v->detail, sizeof(v->detail), "method name length %zu is outside 1..%zu", n,
                     max_len);
        return HUB_EARGUMENT_INVALID;
    }
    long bad = hub_msg_scan(s, hub_msg_method_char_ok);
    if (bad >= 0) {
        unsigned char c = (unsigned char)s[bad];
        hub_msg_fill(v, HUB_EARGUMENT_INVALID, HUB_MSG_WHERE_TEXT, 0, (size_t)bad, c);
        if (v) {
            char ct[8];
            hub_msg_char_text(c, ct, sizeof(ct));
            snprintf(v->detail, sizeof(v->detail),
                     "method name has forbidden character %s at offset %ld", ct, bad);
        }
        return HUB_EARGUMENT_INVALID;
    }
    return HUB_EOK;
}

hub_err_t hub_msg_check_message_id(const char *id, size_t max_len, hub_msg_violation_t *v)
{
    hub_msg_clear_violation(v);
    if (!id) {
        hub_msg_fill(v, HUB_EARGUMENT_NULL, HUB_MSG_WHERE_MESSAGE_ID, HUB_SYS_MESSAGE_ID, 0, 0);
        if (v)
            snprintf(v->detail, sizeof(v->detail), "MessageId is missing");
        return HUB_EARGUMENT_NULL;
    }
    size_t n = strlen(id);
    if (n == 0 || (max_len && n > max_len)) {
        hub_msg_fill(v, HUB_EARGUMENT_INVALID, HUB_MSG_WHERE_MESSAGE_ID, HUB_SYS_MESSAGE_ID, n, 0);
        if (v)
            snprintf(v->detail, sizeof(v->detail), "MessageId length %zu is outside 1..%zu", n,
                     max_len);
        return HUB_EARGUMENT_INVALID;
    }
    long bad = hub_msg_scan(id, hub_msg_id_char_ok);
    if (bad >= 0) {
        unsigned char c = (unsigned char)id[bad];
        hub_msg_fill(v, HUB_EARGUMENT_INVALID, HUB_MSG_WHERE_MESSAGE_ID, HUB_SYS_MESSAGE_ID,
                     (size_t)bad, c);
        if (v) {
            char ct[8];
            hub_msg_char_text(c, ct, sizeof(ct));
            snprintf(v->detail, sizeof(v->detail),
                     "MessageId has forbidden character %s at offset %ld", ct, bad);
        }
        return HUB_EARGUMENT_INVALID;
    }
    return HUB_EOK;
}

hub_err_t hub_msg_check_prop_chars(const hub_msg_t *m, hub_msg_violation_t *v)
{
    hub_msg_clear_violation(v);
    if (!m)
        return HUB_EARGUMENT_NULL;
    for (size_t i = 0; i < m->napp; i++) {
        for (int which = 0; which < 2; which++) {
            const char *s = which ? m->app[i].value : m->app[i].name;
            long bad = hub_msg_scan(s, hub_msg_prop_char_ok);
            /* An empty name is not a name at all. */
            if (bad < 0 && !(which == 0 && s[0] == '\0'))
                continue;
            unsigned char c = bad >= 0 ? (unsigned char)s[bad] : 0;
            hub_msg_fill(v, HUB_EARGUMENT_INVALID,
                         which ? HUB_MSG_WHERE_APP_VALUE : HUB_MSG_WHERE_APP_NAME, i,
                         bad >= 0 ? (size_t)bad : 0, c);
            if (v) {
                if (bad < 0) {
                    snprintf(v->detail, sizeof(v->detail), "application property #%zu has an empty name", i);
                } else {
                    char ct[8];
                    hub_msg_char_text(c, ct, sizeof(ct));
                    snprintf(v->detail, sizeof(v->detail),
                             "application property '%.64s' %s has forbidden character %s at offset %ld",
                             m->app[i].name, which ? "value" : "name", ct, bad);
                }
            }
            return HUB_EARGUMENT_INVALID;
        }
    }
    return HUB_EOK;
}

size_t hub_msg_size(const hub_msg_t *m, bool include_stamped)
{
    if (!m)
        return 0;
    size_t n = m->body_len;
    for (size_t i = 0; i < HUB_SYS__COUNT; i++) {
        if (m->sys[i] && (include_stamped || !hub_msg_stamped[i]))
            n += strlen(m->sys[i]);
    }
    for (size_t i = 0; i < m->napp; i++)
        n += strlen(m->app[i].name) + strlen(m->app[i].value);
    return n;
}

void hub_msg_rules_d2c(hub_msg_rules_t *r, bool http, size_t kb)
{
    if (!r)
        return;
    r->max_bytes = (size_t)HUB_MSG_D2C_MAX_KB * kb;
    r->message_id_max = HUB_MSG_ID_MAX_CHARS;
    r->check_prop_chars = http;
    r->count_stamped = false;
}

void hub_msg_rules_c2d(hub_msg_rules_t *r, size_t kb)
{
    if (!r)
        return;
    r->max_bytes = (size_t)HUB_MSG_C2D_MAX_KB * kb;
    r->message_id_max = HUB_MSG_ID_MAX_CHARS;
    r->check_prop_chars = true;
    r->count_stamped = false;
}

hub_err_t hub_msg_validate(const hub_msg_t *m, const hub_msg_rules_t *r, hub_msg_violation_t *v)
{
    hub_msg_clear_violation(v);
    if (!m || !r)
        return HUB_EARGUMENT_NULL;
    hub_err_t e;
    if (r->message_id_max && m->sys[HUB_SYS_MESSAGE_ID]) {
        e = hub_msg_check_message_id(m->sys[HUB_SYS_MESSAGE_ID], r->message_id_max, v);
        if (e != HUB_EOK)
            return e;
    }
    if (r->check_prop_chars) {
        e = hub_msg_check_prop_chars(m, v);
        if (e != HUB_EOK)
            return e;
    }
    if (r->max_bytes) {
        size_t sz = hub_msg_size(m, r->count_stamped);
        if (sz > r->max_bytes) {
            hub_msg_fill(v, HUB_EMESSAGE_TOO_LARGE, HUB_MSG_WHERE_SIZE, 0, 0, 0);
            if (v) {
                v->size = sz;
                snprintf(v->detail, sizeof(v->detail),
                         "message size %zu bytes exceeds the limit of %zu bytes", sz, r->max_bytes);
            }
            return HUB_EMESSAGE_TOO_LARGE;
        }
    }
    return HUB_EOK;
}
