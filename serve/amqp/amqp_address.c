/* Parse IoT hub AMQP link addresses into a kind plus device/module ids, consumer group and partition. */
#include "serve/amqp/amqp_address.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sim/hub/auth.h"

#define MAX_SEGS 8
#define SEG_CAP 260

typedef struct {
    char seg[MAX_SEGS][SEG_CAP];
    int n;
} segs_t;

/* Split "a/b/c" on '/' (empty segments from "//" are refused). */
static bool split(const char *p, segs_t *s)
{
    s->n = 0;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || len >= SEG_CAP || s->n == MAX_SEGS)
            return false;
        memcpy(s->seg[s->n], p, len);
        s->seg[s->n][len] = '\0';
        s->n++;
        if (!e)
            break;
        p = e + 1;
        if (!*p) /* one trailing '/' is fine */
            break;
    }
    return s->n > 0;
}

static bool word_eq(const char *a, const char *b, bool cs)
{
    return cs ? strcmp(a, b) == 0 : strcasecmp(a, b) == 0;
}

static bool copy_id(char *dst, size_t cap, const char *src)
{
    char tmp[SEG_CAP];
    if (hub_url_decode(src, strlen(src), tmp, sizeof tmp) != HS_EOK)
        return false;
    size_t n = strlen(tmp);
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, tmp, n + 1);
    return true;
}

static bool parse_partition(const char *s, int *out)
{
    if (!*s || strlen(s) > 4)
        return false;
    int v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

/* ".../ConsumerGroups/{cg}/Partitions/{n}" starting at segment i. */
static bool parse_cg(const segs_t *s, int i, amqp_addr_t *out)
{
    if (s->n == i)
        return true;
    if (s->n != i + 4 || strcasecmp(s->seg[i], "ConsumerGroups") != 0 ||
        strcasecmp(s->seg[i + 2], "Partitions") != 0)
        return false;
    size_t n = strlen(s->seg[i + 1]);
    if (n > AMQP_ADDR_CG_MAX)
        return false;
    memcpy(out->consumer_group, s->seg[i + 1], n + 1);
    return parse_partition(s->seg[i + 3], &out->partition);
}

static amqp_addr_kind_t device_tail(const segs_t *s, int i, bool cs)
{
    int left = s->n - i;
    if (left == 1 && word_eq(s->seg[i], "twin", cs))
        return AMQP_ADDR_TWIN;
    if (left != 2)
        return AMQP_ADDR_UNKNOWN;
    if (word_eq(s->seg[i], "messages", cs)) {
        if (word_eq(s->seg[i + 1], "events", cs))
            return AMQP_ADDR_D2C;
        if (word_eq(s->seg[i + 1], "devicebound", cs))
            return AMQP_ADDR_C2D;
    } else if (word_eq(s->seg[i], "methods", cs) && word_eq(s->seg[i + 1], "devicebound", cs)) {
        return AMQP_ADDR_METHODS;
    }
    return AMQP_ADDR_UNKNOWN;
}

amqp_addr_kind_t amqp_addr_parse(const char *address, const char *hub_name, bool cs,
                                 amqp_addr_t *out)
{
    memset(out, 0, sizeof *out);
    out->partition = -1;
    if (!address)
        return AMQP_ADDR_UNKNOWN;
    const char *p = address;
    if (strncasecmp(p, "amqps://", 8) == 0 || strncasecmp(p, "amqp://", 7) == 0) {
        p = strstr(p, "://") + 3;
        p = strchr(p, '/');
        if (!p)
            return AMQP_ADDR_UNKNOWN;
    }
    while (*p == '/')
        p++;
    if (strcmp(p, "$cbs") == 0 || (!cs && strcasecmp(p, "$cbs") == 0))
        return out->kind = AMQP_ADDR_CBS;
    if (strcmp(p, "$management") == 0)
        return out->kind = AMQP_ADDR_EH_MGMT;
    segs_t s;
    if (!split(p, &s))
        return AMQP_ADDR_UNKNOWN;
    amqp_addr_kind_t k = AMQP_ADDR_UNKNOWN;
    if (word_eq(s.seg[0], "devices", cs) && s.n >= 3) {
        if (!copy_id(out->device_id, sizeof out->device_id, s.seg[1]))
            return AMQP_ADDR_UNKNOWN;
        int i = 2;
        if (word_eq(s.seg[2], "modules", cs)) {
            if (s.n < 5 || !copy_id(out->module_id, sizeof out->module_id, s.seg[3]))
                return AMQP_ADDR_UNKNOWN;
            i = 4;
        }
        k = device_tail(&s, i, cs);
    } else if (word_eq(s.seg[0], "messages", cs) && s.n >= 2) {
        if (s.n == 2 && word_eq(s.seg[1], "devicebound", cs))
            k = AMQP_ADDR_SVC_C2D;
        else if (s.n == 3 && word_eq(s.seg[1], "servicebound", cs) &&
                 word_eq(s.seg[2], "feedback", cs))
            k = AMQP_ADDR_SVC_FEEDBACK;
        else if (s.n == 3 && word_eq(s.seg[1], "servicebound", cs) &&
                 word_eq(s.seg[2], "filenotifications", cs))
            k = AMQP_ADDR_SVC_FILE_NOTIFICATIONS;
        else if (word_eq(s.seg[1], "events", cs) && parse_cg(&s, 2, out))
            k = AMQP_ADDR_SVC_EVENTS;
    } else if (hub_name && *hub_name && strcasecmp(s.seg[0], hub_name) == 0 && s.n == 5 &&
               parse_cg(&s, 1, out)) {
        k = AMQP_ADDR_SVC_EVENTS;
    } else if (hub_name && *hub_name && strcasecmp(s.seg[0], hub_name) == 0 && s.n == 2 &&
               strcmp(s.seg[1], "$management") == 0) {
        k = AMQP_ADDR_EH_MGMT;
    }
    if (k == AMQP_ADDR_UNKNOWN) {
        memset(out, 0, sizeof *out);
        out->partition = -1;
    }
    return out->kind = k;
}

const char *amqp_addr_kind_name(amqp_addr_kind_t kind)
{
    static const char *const names[] = { "unknown", "cbs",      "d2c",          "c2d",   "methods",
                                         "twin",    "service-c2d", "feedback", "events",
                                         "eh-management", "file-notifications" };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}
