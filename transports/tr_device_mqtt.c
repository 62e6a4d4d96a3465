/* Device client over MQTT 3.1.1 (hubsim's codec on tr_stream): IoT Hub topics, property bags, QoS 1 telemetry, methods, C2D, twin, keep-alive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "serve/mqtt/mqtt_packet.h"
#include "sim/hub/auth.h"
#include "transports/tr_device_impl.h"
#include "transports/tr_rest.h"
#include "transports/tr_stream.h"

#define TWIN_RES_FILTER "$iothub/twin/res/#"

typedef struct {
    tr_stream_t *s;
    mqtt_decoder_t *dec;
    struct event *ping;
    uint16_t next_pid;
    uint32_t next_rid;
    bool connack_seen;
    bool twin_res_subscribed;
    int64_t last_rx_ms;
} mq_t;

static mq_t *mq(const tr_device_t *d)
{
    return d->proto;
}

/* CONNACK return code -> hub code (docs/live-devices.md). */
static tr_device_result_t connack_result(int code, char *why, size_t cap)
{
    static const struct {
        int hub, status;
        const char *text;
    } map[] = {
        { 0, 0, "accepted" },
        { -1, 0, "unacceptable protocol version" },
        { 400004, 400, "identifier rejected" },
        { 429001, 429, "server unavailable (the hub throttled the connect, or is busy)" },
        { 401002, 401, "bad user name or password" },
        { 401002, 401, "not authorized" },
    };
    if (code < 0 || code > 5) {
        snprintf(why, cap, "CONNACK %d (unknown return code)", code);
        return tr_dev_fail(-1, 0, why);
    }
    snprintf(why, cap, "CONNACK %d (%s)", code, map[code].text);
    return tr_dev_fail(map[code].hub, map[code].status, why);
}

static bool send_packet(tr_device_t *d, const mqtt_packet_t *p)
{
    uint8_t small[512], *buf = small;
    size_t n = 0;
    mqtt_err_t e = mqtt_encode(p, small, sizeof small, &n);
    if (e == MQTT_E_BUFFER_TOO_SMALL)
        e = mqtt_encode_alloc(p, &buf, &n);
    if (e != MQTT_E_OK)
        return false;
    bool ok = mq(d)->s && tr_stream_write(mq(d)->s, buf, n);
    if (buf != small)
        free(buf);
    return ok;
}

static uint16_t next_pid(mq_t *m)
{
    if (++m->next_pid == 0)
        m->next_pid = 1;
    return m->next_pid;
}

static void identity_prefix(const tr_device_t *d, char *out, size_t cap)
{
    if (d->module_id)
        snprintf(out, cap, "devices/%s/modules/%s", d->device_id, d->module_id);
    else
        snprintf(out, cap, "devices/%s", d->device_id);
}

/* ---- received PUBLISHes --------------------------------------------------- */

/* The value of `key` in a "a=1&b=2" query (raw, not decoded) into out. */
static bool query_get(const char *q, size_t qlen, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key), i = 0;
    while (i < qlen) {
        size_t e = i;
        while (e < qlen && q[e] != '&')
            e++;
        if (e - i > kl && memcmp(q + i, key, kl) == 0 && q[i + kl] == '=') {
            size_t vl = e - i - kl - 1;
            if (vl >= cap)
                return false;
            memcpy(out, q + i + kl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        i = e + 1;
    }
    return false;
}

static bool starts(const char *t, size_t n, const char *prefix, size_t *plen)
{
    *plen = strlen(prefix);
    return n >= *plen && memcmp(t, prefix, *plen) == 0;
}

static void on_method(tr_device_t *d, const char *t, size_t n, const mqtt_publish_t *p)
{
    /* $iothub/methods/POST/{name}/?$rid={rid} */
    size_t pl;
    starts(t, n, "$iothub/methods/POST/", &pl);
    const char *name = t + pl;
    const char *q = memchr(name, '?', n - pl);
    if (!q || q == name || q[-1] != '/')
        return;
    char nm[256], rid[64];
    size_t nl = (size_t)(q - 1 - name);
    if (nl >= sizeof nm || !query_get(q + 1, (size_t)(t + n - q - 1), "$rid", rid, sizeof rid))
        return;
    memcpy(nm, name, nl);
    nm[nl] = '\0';
    if (d->cb.method && !d->quiet)
        d->cb.method(d->ctx, nm, rid, p->payload, p->payload_len);
}

static void on_c2d(tr_device_t *d, const char *bag, size_t blen, const mqtt_publish_t *p)
{
    enum { MAXP = 32 };
    tr_device_prop_t props[MAXP];
    size_t np = 0;
    char *copy = malloc(blen * 2 + 2); /* decoded names and values, NUL-separated */
    if (!copy)
        return;
    tr_device_c2d_t m = { .body = p->payload, .body_len = p->payload_len, .lock = p->packet_id };
    char *o = copy;
    size_t i = 0;
    while (i < blen) {
        size_t e = i;
        while (e < blen && bag[e] != '&')
            e++;
        const char *eq = memchr(bag + i, '=', e - i);
        size_t kl = eq ? (size_t)(eq - bag - i) : e - i;
        char *k = o, *v;
        if (kl && hub_url_decode(bag + i, kl, k, blen + 1) == HS_EOK) {
            o += strlen(k) + 1;
            v = o;
            if (!eq || hub_url_decode(eq + 1, (size_t)(bag + e - eq - 1), v, blen + 1) != HS_EOK)
                *v = '\0';
            o += strlen(v) + 1;
            if (!strcmp(k, "$.mid"))
                m.message_id = v;
            else if (!strcmp(k, "$.cid"))
                m.correlation_id = v;
            else if (strncmp(k, "$.", 2) != 0 && strcmp(k, "iothub-ack") != 0 && np < MAXP)
                props[np++] = (tr_device_prop_t){ k, v };
        }
        i = e + 1;
    }
    m.app = props;
    m.n_app = np;
    if (d->cb.c2d && !d->quiet)
        d->cb.c2d(d->ctx, &m);
    free(copy);
}

static void on_twin_res(tr_device_t *d, const char *t, size_t n, const mqtt_publish_t *p)
{
    /* $iothub/twin/res/{status}/?$rid={rid}[&$version=N] */
    size_t pl;
    starts(t, n, "$iothub/twin/res/", &pl);
    int status = atoi(t + pl);
    const char *q = memchr(t + pl, '?', n - pl);
    char rid[32], ver[32];
    if (!q || !query_get(q + 1, (size_t)(t + n - q - 1), "$rid", rid, sizeof rid))
        return;
    uint64_t tag;
    if (!tr_dev_op_take(d, TR_OP_REPORT, strtoull(rid, NULL, 10), &tag))
        return; /* not ours (a GET we never sent) or already timed out */
    if (status >= 200 && status < 300) {
        uint64_t v = query_get(q + 1, (size_t)(t + n - q - 1), "$version", ver, sizeof ver) ? strtoull(ver, NULL, 10) : 0;
        tr_dev_emit(d, TR_OP_REPORT, tag, v, tr_dev_ok());
        return;
    }
    char body[400], why[500];
    size_t bl = p->payload_len < sizeof body - 1 ? p->payload_len : sizeof body - 1;
    memcpy(body, p->payload, bl);
    body[bl] = '\0';
    snprintf(why, sizeof why, "reported patch: status %d %s", status, body);
    tr_dev_emit(d, TR_OP_REPORT, tag, 0, tr_dev_fail(tr_dev_code_for(status, body), status, why));
}

static void on_publish(tr_device_t *d, const mqtt_publish_t *p)
{
    const char *t = p->topic.p;
    size_t n = p->topic.len, pl;
    char pre[300];
    identity_prefix(d, pre, sizeof pre);
    strncat(pre, "/messages/devicebound/", sizeof pre - strlen(pre) - 1);
    if (starts(t, n, "$iothub/methods/POST/", &pl))
        on_method(d, t, n, p);
    else if (starts(t, n, "$iothub/twin/PATCH/properties/desired/", &pl)) {
        const char *q = memchr(t + pl, '?', n - pl);
        char ver[32];
        uint64_t v = q && query_get(q + 1, (size_t)(t + n - q - 1), "$version", ver, sizeof ver)
                         ? strtoull(ver, NULL, 10) : 0;
        if (d->cb.desired && !d->quiet)
            d->cb.desired(d->ctx, v, (const char *)p->payload, p->payload_len);
    } else if (starts(t, n, "$iothub/twin/res/", &pl))
        on_twin_res(d, t, n, p);
    else if (starts(t, n, pre, &pl))
        on_c2d(d, t + pl, n - pl, p);
    else if (p->qos == 1) { /* unknown: acknowledge so the hub does not resend forever */
        mqtt_packet_t a = { .type = MQTT_PUBACK };
        a.u.packet_id = p->packet_id;
        send_packet(d, &a);
    }
}

static void on_suback(tr_device_t *d, const mqtt_suback_t *s)
{
    uint64_t subs;
    if (!tr_dev_op_take(d, TR_OP_SUBSCRIBE, s->packet_id, &subs))
        return; /* the silent twin/res subscription of a report */
    for (size_t i = 0; i < s->count; i++) {
        if (s->codes[i] == MQTT_SUBACK_FAILURE) {
            char why[100];
            snprintf(why, sizeof why, "SUBACK refused filter %zu of %zu", i + 1, s->count);
            tr_dev_emit(d, TR_OP_SUBSCRIBE, subs, 0, tr_dev_fail(-1, 0, why));
            return;
        }
    }
    tr_dev_emit(d, TR_OP_SUBSCRIBE, subs, 0, tr_dev_ok());
}

static void on_packet(tr_device_t *d, const mqtt_packet_t *p)
{
    mq_t *m = mq(d);
    switch (p->type) {
    case MQTT_CONNACK:
        if (m->connack_seen)
            break;
        m->connack_seen = true;
        if (p->u.connack.code == MQTT_CONNACK_ACCEPTED) {
            if (d->keep_alive_s) {
                struct timeval tv = { d->keep_alive_s / 2 ? d->keep_alive_s / 2 : 1, 0 };
                event_add(m->ping, &tv);
            }
            tr_dev_connected(d);
        } else {
            char why[200];
            tr_dev_ended(d, connack_result(p->u.connack.code, why, sizeof why));
        }
        break;
    case MQTT_SUBACK:
        on_suback(d, &p->u.suback);
        break;
    case MQTT_PUBACK: {
        uint64_t tag;
        if (tr_dev_op_take(d, TR_OP_SEND, p->u.packet_id, &tag))
            tr_dev_emit(d, TR_OP_SEND, tag, 0, tr_dev_ok());
        break;
    }
    case MQTT_PUBLISH:
        on_publish(d, &p->u.publish);
        break;
    default:
        break; /* PINGRESP; anything else a hub should not send */
    }
}

/* ---- stream callbacks ----------------------------------------------------- */

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    tr_device_t *d = ctx;
    mq_t *m = mq(d);
    m->last_rx_ms = tr_now_ms();
    while (n > 0 && !d->ended && !d->free_pending) {
        size_t used = 0;
        bool got = false;
        mqtt_packet_t pk;
        mqtt_err_t e = mqtt_decoder_feed(m->dec, p, n, &used, &pk, &got);
        if (e != MQTT_E_OK) {
            char why[200];
            snprintf(why, sizeof why, "malformed packet from the hub: %s (%s)", mqtt_err_name(e), mqtt_strerror(e));
            event_del(m->ping);
            tr_dev_ended(d, tr_dev_fail(-1, 0, why));
            return;
        }
        if (got)
            on_packet(d, &pk);
        p += used;
        n -= used;
        if (!used && !got)
            break;
    }
}

static void on_opened(void *ctx)
{
    tr_device_t *d = ctx;
    char cid[300], user[700], tok[1024], why[300];
    int64_t se;
    tr_dev_client_id(d, cid, sizeof cid);
    if (d->module_id)
        snprintf(user, sizeof user, "%s/%s/%s/?api-version=%s", d->host, d->device_id, d->module_id, TR_API_VERSION);
    else
        snprintf(user, sizeof user, "%s/%s/?api-version=%s", d->host, d->device_id, TR_API_VERSION);
    mqtt_packet_t p = { .type = MQTT_CONNECT };
    mqtt_connect_t *c = &p.u.connect;
    c->clean_session = false;
    c->keep_alive = d->keep_alive_s;
    c->client_id = (mqtt_str_t){ cid, strlen(cid) };
    c->has_username = true;
    c->username = (mqtt_str_t){ user, strlen(user) };
    if (tr_dev_token(d, tok, sizeof tok, &se, why, sizeof why) == HS_EOK) {
        c->has_password = true;
        c->password = (mqtt_str_t){ tok, strlen(tok) };
    }
    mq(d)->last_rx_ms = tr_now_ms();
    send_packet(d, &p);
}

static void on_closed(void *ctx, const char *why)
{
    tr_device_t *d = ctx;
    event_del(mq(d)->ping);
    char w[760];
    if (d->up || mq(d)->connack_seen)
        snprintf(w, sizeof w, "%s", why && *why ? why : "the hub closed the connection");
    else
        snprintf(w, sizeof w, "%s", why && *why ? why : "the hub closed the connection before CONNACK");
    tr_dev_ended(d, tr_dev_fail(-1, 0, w));
}

static const tr_stream_cb_t stream_cb = { on_opened, on_data, on_closed };

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tr_device_t *d = arg;
    mq_t *m = mq(d);
    if (!d->up)
        return;
    /* nothing from the hub for 1.5 keep-alive periods: the link is dead
     * (the hub answers every PINGREQ sent each half period) */
    if (tr_now_ms() - m->last_rx_ms > (int64_t)d->keep_alive_s * 1500) {
        event_del(m->ping);
        char why[120];
        snprintf(why, sizeof why, "keep-alive lost: nothing from the hub for %u s", (unsigned)(d->keep_alive_s * 3 / 2));
        tr_dev_ended(d, tr_dev_fail(-1, 0, why));
        return;
    }
    mqtt_packet_t p = { .type = MQTT_PINGREQ };
    send_packet(d, &p);
}

/* ---- operations ----------------------------------------------------------- */

static hs_err_t mq_start(tr_device_t *d, char *why, size_t cap)
{
    mq_t *m = calloc(1, sizeof *m);
    if (!m)
        return HS_ENOMEM;
    d->proto = m;
    m->dec = mqtt_decoder_new(0);
    m->ping = event_new(tr_loop_base(d->loop), -1, EV_PERSIST, on_ping, d);
    if (!m->dec || !m->ping)
        return HS_ENOMEM;
    char w[300];
    hs_err_t e = tr_stream_start(d->loop, d->tls, d->dial_host, d->port, d->host, &stream_cb, d, &m->s, w, sizeof w);
    if (e == HS_ENOMEM)
        return e;
    if (e != HS_EOK)
        tr_dev_post(d, TR_OP_CONNECT, 0, 0, -1, 0, w);
    (void)why;
    (void)cap;
    return HS_EOK;
}

static hs_err_t mq_subscribe(tr_device_t *d, unsigned subs)
{
    if ((subs & TR_DEV_SUB_C2D) && d->module_id)
        return HS_EUNSUPPORTED; /* modules have no C2D queue (serve would close on the filter) */
    char pre[300], c2d[340];
    identity_prefix(d, pre, sizeof pre);
    snprintf(c2d, sizeof c2d, "%s/messages/devicebound/#", pre);
    mqtt_packet_t p = { .type = MQTT_SUBSCRIBE };
    mqtt_subscribe_t *s = &p.u.subscribe;
    if (subs & TR_DEV_SUB_METHODS)
        s->filters[s->count++] = (mqtt_str_t){ "$iothub/methods/POST/#", strlen("$iothub/methods/POST/#") };
    if (subs & TR_DEV_SUB_C2D)
        s->filters[s->count++] = (mqtt_str_t){ c2d, strlen(c2d) };
    if (subs & TR_DEV_SUB_DESIRED) {
        static const char des[] = "$iothub/twin/PATCH/properties/desired/#";
        s->filters[s->count++] = (mqtt_str_t){ des, strlen(des) };
        s->filters[s->count++] = (mqtt_str_t){ TWIN_RES_FILTER, strlen(TWIN_RES_FILTER) };
        mq(d)->twin_res_subscribed = true;
    }
    for (size_t i = 0; i < s->count; i++)
        s->qos[i] = 1;
    s->packet_id = next_pid(mq(d));
    hs_err_t e = tr_dev_op_add(d, TR_OP_SUBSCRIBE, s->packet_id, subs);
    if (e != HS_EOK)
        return e;
    if (!send_packet(d, &p)) {
        tr_dev_op_take(d, TR_OP_SUBSCRIBE, s->packet_id, NULL);
        return HS_EIO;
    }
    return HS_EOK;
}

/* Appends "name=value&" percent-encoded (encodeURIComponent, as the Node SDK). */
static bool bag_add(char *out, size_t cap, size_t *len, const char *name, const char *value)
{
    char en[600], ev[1800];
    if (hub_url_encode(name, en, sizeof en) != HS_EOK || hub_url_encode(value, ev, sizeof ev) != HS_EOK)
        return false;
    int n = snprintf(out + *len, cap - *len, "%s%s=%s", *len && out[*len - 1] != '/' ? "&" : "", en, ev);
    if (n < 0 || (size_t)n >= cap - *len)
        return false;
    *len += (size_t)n;
    return true;
}

static hs_err_t mq_send(tr_device_t *d, const tr_device_msg_t *m, uint64_t tag)
{
    char pre[300];
    identity_prefix(d, pre, sizeof pre);
    size_t cap = 400 + 3 * 4 * 128;
    for (size_t i = 0; i < m->n_app; i++)
        cap += 3 * (strlen(m->app[i].name) + strlen(m->app[i].value)) + 2;
    char *topic = malloc(cap);
    if (!topic)
        return HS_ENOMEM;
    int n0 = snprintf(topic, cap, "%s/messages/events/", pre);
    size_t len = (size_t)n0;
    bool ok = true;
    const char *sys[4][2] = { { "$.mid", m->message_id }, { "$.cid", m->correlation_id },
                              { "$.ct", m->content_type }, { "$.ce", m->content_encoding } };
    for (int i = 0; i < 4 && ok; i++)
        if (sys[i][1])
            ok = bag_add(topic, cap, &len, sys[i][0], sys[i][1]);
    for (size_t i = 0; i < m->n_app && ok; i++)
        ok = bag_add(topic, cap, &len, m->app[i].name, m->app[i].value);
    if (!ok) {
        free(topic);
        return HS_EINVAL; /* a property over 600/1800 bytes encoded */
    }
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.qos = 1;
    p.u.publish.topic = (mqtt_str_t){ topic, len };
    p.u.publish.payload = m->body;
    p.u.publish.payload_len = m->body_len;
    p.u.publish.packet_id = next_pid(mq(d));
    hs_err_t e = tr_dev_op_add(d, TR_OP_SEND, p.u.publish.packet_id, tag);
    if (e == HS_EOK && !send_packet(d, &p)) {
        tr_dev_op_take(d, TR_OP_SEND, p.u.publish.packet_id, NULL);
        e = HS_EINVAL; /* the codec refused it (a topic over 64 KB, bad UTF-8) */
    }
    free(topic);
    return e;
}

static hs_err_t publish0(tr_device_t *d, const char *topic, const void *payload, size_t len)
{
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.topic = (mqtt_str_t){ topic, strlen(topic) };
    p.u.publish.payload = payload;
    p.u.publish.payload_len = len;
    return send_packet(d, &p) ? HS_EOK : HS_EINVAL;
}

static hs_err_t mq_method_respond(tr_device_t *d, const char *rid, int status, const void *p, size_t n)
{
    char topic[200];
    if ((size_t)snprintf(topic, sizeof topic, "$iothub/methods/res/%d/?$rid=%s", status, rid) >= sizeof topic)
        return HS_EINVAL;
    return publish0(d, topic, p, n);
}

static hs_err_t mq_settle(tr_device_t *d, uint64_t lock, tr_settle_t how)
{
    if (how != TR_SETTLE_COMPLETE)
        return HS_EUNSUPPORTED; /* MQTT 3.1.1 has no negative acknowledgement */
    if (!lock || lock > 0xFFFF)
        return HS_EINVAL;
    mqtt_packet_t p = { .type = MQTT_PUBACK };
    p.u.packet_id = (uint16_t)lock;
    if (!send_packet(d, &p))
        return HS_EIO;
    /* PUBACK has no answer: done once written */
    tr_dev_post(d, TR_OP_SETTLE, lock, 0, 0, 0, "");
    return HS_EOK;
}

static hs_err_t mq_report(tr_device_t *d, const char *json, size_t n, uint64_t tag)
{
    mq_t *m = mq(d);
    if (!m->twin_res_subscribed) {
        mqtt_packet_t s = { .type = MQTT_SUBSCRIBE };
        s.u.subscribe.packet_id = next_pid(m);
        s.u.subscribe.count = 1;
        s.u.subscribe.filters[0] = (mqtt_str_t){ TWIN_RES_FILTER, strlen(TWIN_RES_FILTER) };
        s.u.subscribe.qos[0] = 0;
        if (!send_packet(d, &s))
            return HS_EIO;
        m->twin_res_subscribed = true;
    }
    uint32_t rid = ++m->next_rid;
    char topic[100];
    snprintf(topic, sizeof topic, "$iothub/twin/PATCH/properties/reported/?$rid=%u", (unsigned)rid);
    hs_err_t e = tr_dev_op_add(d, TR_OP_REPORT, rid, tag);
    if (e == HS_EOK && (e = publish0(d, topic, json, n)) != HS_EOK)
        tr_dev_op_take(d, TR_OP_REPORT, rid, NULL);
    return e;
}

static void mq_close(tr_device_t *d)
{
    mq_t *m = mq(d);
    event_del(m->ping);
    if (d->up) {
        mqtt_packet_t p = { .type = MQTT_DISCONNECT };
        send_packet(d, &p); /* flushed while the owner pumps the loop before tr_device_free */
    }
}

static void mq_destroy(tr_device_t *d)
{
    mq_t *m = mq(d);
    if (m->ping)
        event_free(m->ping);
    tr_stream_free(m->s);
    mqtt_decoder_free(m->dec);
    free(m);
    d->proto = NULL;
}

static size_t mq_footprint(const tr_device_t *d)
{
    const mq_t *m = mq(d);
    return sizeof *m + event_get_struct_event_size() + tr_stream_footprint(m->s) + mqtt_decoder_pending(m->dec) +
           64 /* decoder record */ + (m->s ? TR_DEV_TLS_ESTIMATE : 0);
}

const tr_dev_ops_t tr_dev_mqtt_ops = {
    mq_start, mq_subscribe, mq_send, mq_method_respond, mq_settle, mq_report, mq_close, mq_destroy, mq_footprint,
};
