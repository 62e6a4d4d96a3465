/* The hub message: owned storage for properties and body, and the message-format.txt / direct-methods.txt rules. */
#include "sim/hub/message.h"
#include "sim/hub/hub_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *name;
    char *value;
    uint32_t name_len;
    uint32_t value_len;
} hub_msg_app_t;

/*
 * Storage.  Every string a message holds lives in its own small arena: the
 * first HUB_MSG_INLINE bytes inside the struct, then chunks from malloc that
 * never move (a pointer handed out by a getter stays valid until the message
 * is freed or that property is replaced).  A replaced or cleared string is not
 * reclaimed before hub_msg_free; messages are short-lived or cloned (a clone
 * copies only what is live).  One D2C message thus costs one allocation for
 * the struct (plus its body) instead of two per property; a message made by
 * hub_msg_new_with_body keeps its body at the head of the inline store too,
 * so it costs one allocation in all.  Lengths are kept beside the pointers
 * so size accounting needs no strlen.
 */
#define HUB_MSG_INLINE 320
#define HUB_MSG_APP_INLINE 4
#define HUB_MSG_CHUNK 512

typedef struct hub_msg_chunk {
    struct hub_msg_chunk *next;
    size_t cap;
    char data[];
} hub_msg_chunk_t;

struct hub_msg {
    char *sys[HUB_SYS__COUNT];
    uint32_t sys_len[HUB_SYS__COUNT];
    hub_msg_app_t *app;   /* app_inline until more are added */
    size_t napp;
    size_t capp;
    unsigned char *body;  /* NULL when empty */
    size_t body_len;
    bool body_inline;     /* body lives in inline_store: not freed on its own */
    char *free_at;        /* bump pointer into the current block */
    size_t free_left;
    hub_msg_chunk_t *chunks;
    hub_msg_app_t app_inline[HUB_MSG_APP_INLINE];
    char inline_store[]; /* HUB_MSG_INLINE bytes, plus the body's for hub_msg_new_with_body */
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

/* A copy of s (n bytes + NUL) in the message's arena; NULL when out of memory. */
static char *hub_msg_store(hub_msg_t *m, const char *s, size_t n)
{
    if (n + 1 > m->free_left) {
        size_t cap = n + 1 > HUB_MSG_CHUNK ? n + 1 : HUB_MSG_CHUNK;
        hub_msg_chunk_t *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = m->chunks;
        c->cap = cap;
        m->chunks = c;
        m->free_at = c->data;
        m->free_left = cap;
    }
    char *d = m->free_at;
    memcpy(d, s, n);
    d[n] = '\0';
    m->free_at += n + 1;
    m->free_left -= n + 1;
    return d;
}

/* Zero n bytes in 64-byte pieces: GCC compiles one constant memset of a few
 * hundred bytes into a `rep stos`, slow to start on every message. */
static inline void hub_msg_zero(void *p, size_t n)
{
    char *c = p;
    for (; n >= 64; c += 64, n -= 64)
        memset(c, 0, 64);
    memset(c, 0, n);
}

/* A message whose inline store holds `store` bytes. */
static hub_msg_t *hub_msg_alloc(size_t store)
{
    hub_msg_t *m = malloc(offsetof(hub_msg_t, inline_store) + store);
    if (!m)
        return NULL;
    /* Everything but the two inline stores starts zeroed. */
    hub_msg_zero(m, offsetof(hub_msg_t, app_inline));
    m->app = m->app_inline;
    m->capp = HUB_MSG_APP_INLINE;
    m->free_at = m->inline_store;
    m->free_left = store;
    return m;
}

hub_msg_t *hub_msg_new(void)
{
    return hub_msg_alloc(HUB_MSG_INLINE);
}

hub_msg_t *hub_msg_new_with_body(size_t len, void **body_out)
{
    if (!body_out || len > SIZE_MAX - HUB_MSG_INLINE - offsetof(hub_msg_t, inline_store))
        return NULL;
    hub_msg_t *m = hub_msg_alloc(HUB_MSG_INLINE + len);
    if (!m)
        return NULL;
    *body_out = NULL;
    if (len) {
        m->body = (unsigned char *)m->inline_store;
        m->body_len = len;
        m->body_inline = true;
        m->free_at += len;
        m->free_left -= len;
        *body_out = m->body;
    }
    return m;
}

static void hub_msg_drop_body(hub_msg_t *m)
{
    if (!m->body_inline)
        free(m->body);
    m->body_inline = false;
}

void hub_msg_free(hub_msg_t *m)
{
    if (!m)
        return;
    for (hub_msg_chunk_t *c = m->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    if (m->app != m->app_inline)
        free(m->app);
    hub_msg_drop_body(m);
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
        if (m->sys[i]) {
            if (!(c->sys[i] = hub_msg_store(c, m->sys[i], m->sys_len[i])))
                goto fail;
            c->sys_len[i] = m->sys_len[i];
        }
    }
    for (size_t i = 0; i < m->napp; i++) {
        if (hub_msg_add_app_len(c, m->app[i].name, m->app[i].name_len, m->app[i].value,
                                m->app[i].value_len) != HS_EOK)
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
    hub_msg_drop_body(m);
    m->body = b;
    m->body_len = len;
    return HS_EOK;
}

hs_err_t hub_msg_take_body(hub_msg_t *m, void *body, size_t len)
{
    if (!m || (!body && len))
        return HS_EINVAL;
    if (body && m->body_inline && body == m->body)
        return HS_EINVAL; /* the message's own inline body is not a separate allocation */
    hub_msg_drop_body(m);
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
    return hub_msg_set_sys_len(m, id, value, value ? strlen(value) : 0);
}

hs_err_t hub_msg_set_sys_len(hub_msg_t *m, hub_msg_sys_t id, const char *value, size_t len)
{
    if (!m || (unsigned)id >= HUB_SYS__COUNT || len > UINT32_MAX)
        return HS_EINVAL;
    if (!value) {
        m->sys[id] = NULL;
        m->sys_len[id] = 0;
        return HS_EOK;
    }
    char *v = hub_msg_store(m, value, len);
    if (!v)
        return HS_ENOMEM;
    m->sys[id] = v;
    m->sys_len[id] = (uint32_t)len;
    return HS_EOK;
}

hs_err_t hub_msg_set_sys_static(hub_msg_t *m, hub_msg_sys_t id, const char *literal)
{
    if (!m || (unsigned)id >= HUB_SYS__COUNT || !literal)
        return HS_EINVAL;
    m->sys[id] = (char *)(uintptr_t)literal; /* never written through, never freed */
    m->sys_len[id] = (uint32_t)strlen(literal);
    return HS_EOK;
}

const char *hub_msg_get_sys(const hub_msg_t *m, hub_msg_sys_t id)
{
    if (!m || (unsigned)id >= HUB_SYS__COUNT)
        return NULL;
    return m->sys[id];
}

const char *const *hub_msg_sys_values(const hub_msg_t *m)
{
    return (const char *const *)m->sys;
}

void hub_msg_clear_stamped(hub_msg_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < HUB_SYS__COUNT; i++) {
        if (hub_msg_stamped[i]) {
            m->sys[i] = NULL;
            m->sys_len[i] = 0;
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
    size_t cap = m->capp * 2;
    hub_msg_app_t *a = malloc(cap * sizeof(*a));
    if (!a)
        return HS_ENOMEM;
    memcpy(a, m->app, m->napp * sizeof(*a));
    if (m->app != m->app_inline)
        free(m->app);
    m->app = a;
    m->capp = cap;
    return HS_EOK;
}

hs_err_t hub_msg_add_app(hub_msg_t *m, const char *name, const char *value)
{
    if (!name)
        return HS_EINVAL;
    return hub_msg_add_app_len(m, name, strlen(name), value, value ? strlen(value) : 0);
}

hs_err_t hub_msg_add_app_len(hub_msg_t *m, const char *name, size_t nl, const char *value,
                             size_t vl)
{
    if (!m || !name || nl > UINT32_MAX || vl > UINT32_MAX)
        return HS_EINVAL;
    if (hub_msg_app_grow(m) != HS_EOK)
        return HS_ENOMEM;
    if (!value) {
        value = "";
        vl = 0;
    }
    char *n = hub_msg_store(m, name, nl);
    char *v = n ? hub_msg_store(m, value, vl) : NULL;
    if (!v)
        return HS_ENOMEM;
    m->app[m->napp] = (hub_msg_app_t){ n, v, (uint32_t)nl, (uint32_t)vl };
    m->napp++;
    return HS_EOK;
}

hs_err_t hub_msg_set_app(hub_msg_t *m, const char *name, const char *value)
{
    if (!m || !name)
        return HS_EINVAL;
    for (size_t i = 0; i < m->napp; i++) {
        if (strcmp(m->app[i].name, name) == 0) {
            if (!value)
                value = "";
            size_t vl = strlen(value);
            char *v = hub_msg_store(m, value, vl);
            if (!v)
                return HS_ENOMEM;
            m->app[i].value = v;
            m->app[i].value_len = (uint32_t)vl;
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

/* Field by field: the detail buffer only needs its terminator, and a
 * 232-byte memset per D2C message compiles to a slow `rep stos`. */
static void hub_msg_clear_violation(hub_msg_violation_t *v)
{
    if (v)
        hub_msg_fill(v, HUB_EOK, HUB_MSG_WHERE_NONE, 0, 0, 0);
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

/* The MessageId rule over an id of known length n; v already cleared. */
static hub_err_t hub_msg_check_id_len(const char *id, size_t n, size_t max_len,
                                      hub_msg_violation_t *v)
{
    if (n == 0 || (max_len && n > max_len)) {
        hub_msg_fill(v, HUB_EARGUMENT_INVALID, HUB_MSG_WHERE_MESSAGE_ID, HUB_SYS_MESSAGE_ID, n, 0);
        if (v)
            snprintf(v->detail, sizeof(v->detail), "MessageId length %zu is outside 1..%zu", n,
                     max_len);
        return HUB_EARGUMENT_INVALID;
    }
    long bad = -1;
    for (size_t i = 0; i < n; i++) { /* the set looked up in place: every D2C message runs this */
        if (!hub_msg_in(&hub_msg_id_set, (unsigned char)id[i])) {
            bad = (long)i;
            break;
        }
    }
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

hub_err_t hub_msg_check_message_id(const char *id, size_t max_len, hub_msg_violation_t *v)
{
    hub_msg_clear_violation(v);
    if (!id) {
        hub_msg_fill(v, HUB_EARGUMENT_NULL, HUB_MSG_WHERE_MESSAGE_ID, HUB_SYS_MESSAGE_ID, 0, 0);
        if (v)
            snprintf(v->detail, sizeof(v->detail), "MessageId is missing");
        return HUB_EARGUMENT_NULL;
    }
    return hub_msg_check_id_len(id, strlen(id), max_len, v);
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
            n += m->sys_len[i];
    }
    for (size_t i = 0; i < m->napp; i++)
        n += (size_t)m->app[i].name_len + m->app[i].value_len;
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
        e = hub_msg_check_id_len(m->sys[HUB_SYS_MESSAGE_ID], m->sys_len[HUB_SYS_MESSAGE_ID],
                                 r->message_id_max, v);
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
