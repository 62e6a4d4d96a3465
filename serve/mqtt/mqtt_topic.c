/* The hub's MQTT topics: telemetry, C2D, methods and twin topics for one identity, and the URL-encoded property bag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/hub/auth.h"
#include "mqtt_packet.h"
#include "mqtt_topic.h"

/* Bag names of system properties.  [doc]: $.mid $.cid $.uid $.to $.ct $.ce
 * $.exp; [sdk] (.NET device SDK's wire names): $.sub (component name →
 * dt-subject), $.cdid/$.cmid (hub-stamped: a device's value is dropped by
 * the hub's anti-spoofing); iothub-ack only travels hub → device on C2D. */
static const struct {
    const char *name;
    hub_msg_sys_t id;
} bag_sys[] = {
    { "$.mid", HUB_SYS_MESSAGE_ID },
    { "$.cid", HUB_SYS_CORRELATION_ID },
    { "$.uid", HUB_SYS_USER_ID },
    { "$.to", HUB_SYS_TO },
    { "$.ct", HUB_SYS_CONTENT_TYPE },
    { "$.ce", HUB_SYS_CONTENT_ENCODING },
    { "$.exp", HUB_SYS_EXPIRY_TIME_UTC },
    { "$.sub", HUB_SYS_DT_SUBJECT },
    { "$.cdid", HUB_SYS_CONNECTION_DEVICE_ID },
    { "$.cmid", HUB_SYS_CONNECTION_MODULE_ID },
    { "iothub-ack", HUB_SYS_ACK },
};
#define N_BAG_SYS (sizeof bag_sys / sizeof bag_sys[0])

hs_err_t mqtt_bag_sys_lookup(const char *name, hub_msg_sys_t *id_out)
{
    for (size_t i = 0; i < N_BAG_SYS; i++)
        if (strcmp(bag_sys[i].name, name) == 0) {
            *id_out = bag_sys[i].id;
            return HS_EOK;
        }
    return HS_ENOTFOUND;
}

const char *mqtt_bag_sys_name(hub_msg_sys_t id)
{
    for (size_t i = 0; i < N_BAG_SYS; i++)
        if (bag_sys[i].id == id)
            return bag_sys[i].name;
    return NULL;
}

/* ---- topics ---------------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t len;
} span_t;

static bool eat(span_t *s, const char *lit)
{
    size_t n = strlen(lit);
    if (s->len < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    s->len -= n;
    return true;
}

/* Eat one level "x/" equal to id. */
static bool eat_level(span_t *s, const char *id)
{
    size_t n = strlen(id);
    if (s->len <= n || memcmp(s->p, id, n) != 0 || s->p[n] != '/')
        return false;
    s->p += n + 1;
    s->len -= n + 1;
    return true;
}

/* "devices/{id}/" [+ "modules/{mid}/"] for this identity; *foreign when the
 * topic starts "devices/" but names another identity. */
static bool eat_identity(span_t *s, const char *dev, const char *mod, bool *foreign)
{
    *foreign = false;
    if (!eat(s, "devices/"))
        return false;
    if (!eat_level(s, dev)) {
        *foreign = true;
        return false;
    }
    if (mod && mod[0]) {
        if (!eat(s, "modules/") || !eat_level(s, mod)) {
            *foreign = true;
            return false;
        }
    } else if (s->len >= 8 && memcmp(s->p, "modules/", 8) == 0) {
        *foreign = true; /* a module's topic from the device's connection */
        return false;
    }
    return true;
}

/* "?k=v&..." → the percent-decoded $rid; false when absent or bad. */
static bool query_rid(span_t q, char *rid, size_t cap)
{
    if (!eat(&q, "?"))
        return false;
    while (q.len) {
        const char *amp = memchr(q.p, '&', q.len);
        size_t seg = amp ? (size_t)(amp - q.p) : q.len;
        const char *eq = memchr(q.p, '=', seg);
        if (eq) {
            size_t klen = (size_t)(eq - q.p);
            bool is_rid = (klen == 4 && memcmp(q.p, "$rid", 4) == 0) ||
                          (klen == 6 && memcmp(q.p, "%24rid", 6) == 0);
            size_t vlen = seg - klen - 1;
            if (is_rid)
                return vlen > 0 && hub_url_decode(eq + 1, vlen, rid, cap) == HS_EOK;
        }
        q.p += seg;
        q.len -= seg;
        if (q.len) {
            q.p++;
            q.len--;
        }
    }
    return false;
}

mqtt_topic_kind_t mqtt_topic_classify(const char *topic, size_t len, const char *device_id,
                                      const char *module_id, mqtt_topic_t *out)
{
    memset(out, 0, sizeof *out);
    span_t s = { topic, len };
    bool foreign;
    if (eat_identity(&s, device_id, module_id, &foreign)) {
        span_t t = s;
        if (eat(&t, "messages/events/") || (eat(&t, "messages/events") && t.len == 0)) {
            out->kind = MQTT_TOPIC_TELEMETRY;
            out->bag = t.p;
            out->bag_len = t.len;
        }
        return out->kind;
    }
    if (foreign)
        return out->kind = MQTT_TOPIC_FOREIGN;
    s = (span_t){ topic, len };
    if (eat(&s, "$iothub/methods/res/")) {
        const char *slash = memchr(s.p, '/', s.len);
        char num[16];
        size_t n = slash ? (size_t)(slash - s.p) : 0;
        out->kind = MQTT_TOPIC_BAD_RID;
        if (n == 0 || n >= sizeof num)
            return out->kind;
        memcpy(num, s.p, n);
        num[n] = '\0';
        char *end;
        long v = strtol(num, &end, 10);
        if (*end || v < -2147483647L || v > 2147483647L)
            return out->kind;
        s.p += n + 1;
        s.len -= n + 1;
        if (!query_rid(s, out->rid, sizeof out->rid))
            return out->kind;
        out->status = (int)v;
        return out->kind = MQTT_TOPIC_METHOD_RESPONSE;
    }
    mqtt_topic_kind_t k = MQTT_TOPIC_UNKNOWN;
    if (eat(&s, "$iothub/twin/GET/"))
        k = MQTT_TOPIC_TWIN_GET;
    else if (eat(&s, "$iothub/twin/PATCH/properties/reported/"))
        k = MQTT_TOPIC_TWIN_PATCH;
    if (k == MQTT_TOPIC_UNKNOWN)
        return out->kind = k;
    return out->kind = query_rid(s, out->rid, sizeof out->rid) ? k : MQTT_TOPIC_BAD_RID;
}

mqtt_filter_kind_t mqtt_filter_classify(const char *filter, size_t len, const char *device_id,
                                        const char *module_id)
{
    span_t s = { filter, len };
    bool foreign;
    if (eat_identity(&s, device_id, module_id, &foreign)) {
        /* C2D is device-only: a module has no devicebound queue [doc]. */
        if (!(module_id && module_id[0]) && s.len == 22 && memcmp(s.p, "messages/devicebound/#", 22) == 0)
            return MQTT_FILTER_C2D;
        return MQTT_FILTER_UNKNOWN;
    }
    if (foreign)
        return MQTT_FILTER_FOREIGN;
    static const struct {
        const char *f;
        mqtt_filter_kind_t k;
    } fixed[] = {
        { "$iothub/methods/POST/#", MQTT_FILTER_METHODS },
        { "$iothub/twin/res/#", MQTT_FILTER_TWIN_RES },
        { "$iothub/twin/PATCH/properties/desired/#", MQTT_FILTER_DESIRED },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (len == strlen(fixed[i].f) && memcmp(filter, fixed[i].f, len) == 0)
            return fixed[i].k;
    return MQTT_FILTER_UNKNOWN;
}

/* ---- property bags ---------------------------------------------------------- */

static void set_why(char *why, size_t cap, const char *fmt, const char *a, size_t alen)
{
    if (why && cap)
        snprintf(why, cap, fmt, (int)alen, a);
}

/* What RFC 3986 lets stand unencoded in a query component, minus the
 * bag's own '&' and '=' delimiters (and '%', the escape itself). */
static bool raw_ok(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("-._~!$'()*+,;:@/?", c) != NULL;
}

/* Decode one key or value into a malloc'd string. */
static int bag_token(const char *p, size_t n, char **out, int *warn, char *why, size_t cap)
{
    for (size_t i = 0; i < n && !*warn; i++)
        if (p[i] != '%' && !raw_ok((unsigned char)p[i])) {
            *warn = 1;
            char c[8];
            snprintf(c, sizeof c, "0x%02X", (unsigned char)p[i]);
            set_why(why, cap, "raw character %.*s must be percent-encoded", c, strlen(c));
        }
    *out = malloc(n + 1);
    if (!*out)
        return -1;
    if (hub_url_decode(p, n, *out, n + 1) != HS_EOK) {
        set_why(why, cap, "bad percent-escape or %%00 in '%.*s'", p, n > 64 ? 64 : n);
        free(*out);
        *out = NULL;
        return -1;
    }
    if (!mqtt_utf8_ok(*out, strlen(*out))) {
        set_why(why, cap, "'%.*s' decodes to ill-formed UTF-8", p, n > 64 ? 64 : n);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int mqtt_bag_parse(const char *bag, size_t len, hub_msg_t *m, char *why, size_t cap)
{
    int warn = 0;
    size_t i = 0;
    while (i < len) {
        const char *seg = bag + i;
        const char *amp = memchr(seg, '&', len - i);
        size_t slen = amp ? (size_t)(amp - seg) : len - i;
        i += slen + (amp ? 1 : 0);
        if (slen == 0)
            continue; /* "a=1&&b=2", a trailing '&': nothing to carry */
        const char *eq = memchr(seg, '=', slen);
        size_t klen = eq ? (size_t)(eq - seg) : slen;
        if (klen == 0) {
            set_why(why, cap, "empty property name in '%.*s'", seg, slen > 64 ? 64 : slen);
            return -1;
        }
        char *k = NULL, *v = NULL;
        if (bag_token(seg, klen, &k, &warn, why, cap))
            return -1;
        if (bag_token(eq ? eq + 1 : "", eq ? slen - klen - 1 : 0, &v, &warn, why, cap)) {
            free(k);
            return -1;
        }
        hub_msg_sys_t id;
        /* iothub-ack from a device is an application property: only the hub
         * sets Ack, on C2D. */
        hs_err_t e = (mqtt_bag_sys_lookup(k, &id) == HS_EOK && id != HUB_SYS_ACK)
                         ? hub_msg_set_sys(m, id, v)
                         : hub_msg_add_app(m, k, v);
        free(k);
        free(v);
        if (e != HS_EOK) {
            set_why(why, cap, "%.*s", "out of memory", 13);
            return -1;
        }
    }
    return warn;
}

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void sb_pair(sbuf_t *b, const char *k, const char *v)
{
    size_t kn = strlen(k) * 3 + 1, vn = strlen(v) * 3 + 1;
    char *ek = malloc(kn), *ev = malloc(vn);
    if (!ek || !ev || hub_url_encode(k, ek, kn) || hub_url_encode(v, ev, vn)) {
        b->oom = true;
    } else {
        if (b->len)
            sb_add(b, "&");
        sb_add(b, ek);
        sb_add(b, "=");
        sb_add(b, ev);
    }
    free(ek);
    free(ev);
}

char *mqtt_bag_format(const hub_msg_t *m)
{
    sbuf_t b = { 0 };
    sb_add(&b, "");
    for (size_t i = 0; i < N_BAG_SYS; i++) {
        const char *v = hub_msg_get_sys(m, bag_sys[i].id);
        if (v)
            sb_pair(&b, bag_sys[i].name, v);
    }
    size_t n = hub_msg_app_count(m);
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        if (hub_msg_app_at(m, i, &k, &v) == HS_EOK)
            sb_pair(&b, k, v);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
