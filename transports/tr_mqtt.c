/* Device MQTT client: framing through the incremental decoder, one synchronous operation at a time, a received-message queue, keep-alive pings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "serve/mqtt/mqtt_packet.h"
#include "transports/tr_mqtt.h"
#include "transports/tr_stream.h"

typedef struct {
    char *topic;
    uint8_t *payload;
    size_t len;
    uint8_t qos;
    uint16_t packet_id;
} rx_t;

struct tr_mqtt {
    tr_loop_t *loop;
    tr_stream_t *s;
    mqtt_decoder_t *dec;
    struct event *ping;
    bool open;       /* stream open and not closed since */
    char why[700];
    /* the one operation waited for */
    mqtt_type_t want;    /* 0 = none */
    uint16_t want_id;
    bool got;
    mqtt_connack_t connack;
    mqtt_suback_t suback;
    uint16_t next_id;
    rx_t *q;
    size_t n_q, cap_q;
    rx_t last; /* popped, freed on the next pop */
};

static const char *const connack_texts[] = {
    "accepted", "unacceptable protocol version", "identifier rejected", "server unavailable",
    "bad user name or password", "not authorized",
};

const char *tr_mqtt_connack_text(int code)
{
    return code >= 0 && code <= 5 ? connack_texts[code] : "unknown return code";
}

static void closed_with(tr_mqtt_t *m, const char *why)
{
    if (!m->open && *m->why)
        return;
    m->open = false;
    snprintf(m->why, sizeof m->why, "%s", why && *why ? why : "the hub closed the connection");
    if (m->ping)
        event_del(m->ping);
}

static void send_packet(tr_mqtt_t *m, const mqtt_packet_t *p)
{
    uint8_t *buf;
    size_t n;
    if (!m->s || mqtt_encode_alloc(p, &buf, &n) != MQTT_E_OK)
        return;
    tr_stream_write(m->s, buf, n);
    free(buf);
}

static void queue_publish(tr_mqtt_t *m, const mqtt_publish_t *p)
{
    if (m->n_q == m->cap_q) {
        size_t nc = m->cap_q ? m->cap_q * 2 : 8;
        rx_t *q = realloc(m->q, nc * sizeof *q);
        if (!q)
            abort();
        m->q = q;
        m->cap_q = nc;
    }
    rx_t *r = &m->q[m->n_q++];
    r->topic = malloc(p->topic.len + 1);
    r->payload = malloc(p->payload_len + 1);
    if (!r->topic || !r->payload)
        abort();
    memcpy(r->topic, p->topic.p, p->topic.len);
    r->topic[p->topic.len] = '\0';
    if (p->payload_len)
        memcpy(r->payload, p->payload, p->payload_len);
    r->payload[p->payload_len] = 0;
    r->len = p->payload_len;
    r->qos = p->qos;
    r->packet_id = p->packet_id;
}

static void on_packet(tr_mqtt_t *m, const mqtt_packet_t *p)
{
    switch (p->type) {
    case MQTT_CONNACK:
        if (m->want == MQTT_CONNACK) {
            m->connack = p->u.connack;
            m->got = true;
        }
        break;
    case MQTT_SUBACK:
        if (m->want == MQTT_SUBACK && p->u.suback.packet_id == m->want_id) {
            m->suback = p->u.suback;
            m->got = true;
        }
        break;
    case MQTT_PUBACK:
        if (m->want == MQTT_PUBACK && p->u.packet_id == m->want_id)
            m->got = true;
        break;
    case MQTT_PUBLISH:
        queue_publish(m, &p->u.publish);
        break;
    default:
        break; /* PINGRESP, anything else the hub should not send */
    }
}

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    tr_mqtt_t *m = ctx;
    while (n > 0 && m->open) {
        size_t used = 0;
        bool got = false;
        mqtt_packet_t pk;
        mqtt_err_t e = mqtt_decoder_feed(m->dec, p, n, &used, &pk, &got);
        if (e != MQTT_E_OK) {
            char why[200];
            snprintf(why, sizeof why, "malformed packet from the hub: %s (%s)", mqtt_err_name(e), mqtt_strerror(e));
            closed_with(m, why);
            return;
        }
        if (got)
            on_packet(m, &pk);
        p += used;
        n -= used;
        if (!used && !got)
            break;
    }
}

static void on_opened(void *ctx)
{
    tr_mqtt_t *m = ctx;
    m->open = true;
}

static void on_closed(void *ctx, const char *why)
{
    tr_mqtt_t *m = ctx;
    closed_with(m, why);
}

static const tr_stream_cb_t mqtt_cb = { on_opened, on_data, on_closed };

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tr_mqtt_t *m = arg;
    if (!m->open)
        return;
    mqtt_packet_t p = { .type = MQTT_PINGREQ };
    send_packet(m, &p);
}

static bool op_done(void *arg)
{
    tr_mqtt_t *m = arg;
    return m->got || !m->open;
}

static uint16_t next_id(tr_mqtt_t *m)
{
    if (++m->next_id == 0)
        m->next_id = 1;
    return m->next_id;
}

/* Wait for the operation set up in m->want; HS_EIO with why otherwise. */
static hs_err_t wait_op(tr_mqtt_t *m, const char *what, int64_t timeout_ms, char *why, size_t cap)
{
    m->got = false;
    bool ok = tr_loop_wait(m->loop, op_done, m, timeout_ms);
    mqtt_type_t want = m->want;
    m->want = 0;
    if (m->got)
        return HS_EOK;
    if (!ok)
        snprintf(why, cap, "%s: no %s within %lld ms", what, mqtt_type_name(want), (long long)timeout_ms);
    else
        snprintf(why, cap, "%s: the connection closed before %s (%s)", what, mqtt_type_name(want), m->why);
    return HS_EIO;
}

hs_err_t tr_mqtt_connect(tr_loop_t *l, tr_tls_t *tls, const char *host, int port, const char *tls_name,
                         const tr_mqtt_connect_t *c, int64_t timeout_ms, tr_mqtt_t **out, int *connack,
                         char *why, size_t cap)
{
    *out = NULL;
    *connack = -1;
    tr_mqtt_t *m = calloc(1, sizeof *m);
    if (!m)
        return HS_ENOMEM;
    m->loop = l;
    m->dec = mqtt_decoder_new(0);
    m->ping = event_new(tr_loop_base(l), -1, EV_PERSIST, on_ping, m);
    if (!m->dec || !m->ping) {
        tr_mqtt_free(m);
        return HS_ENOMEM;
    }
    int64_t start = tr_now_ms();
    hs_err_t e = tr_stream_connect(l, tls, host, port, tls_name, &mqtt_cb, m, timeout_ms, &m->s, why, cap);
    if (e != HS_EOK) {
        tr_mqtt_free(m);
        return e;
    }
    m->open = true;
    mqtt_packet_t p = { .type = MQTT_CONNECT };
    mqtt_connect_t *cn = &p.u.connect;
    cn->clean_session = c->clean_session;
    cn->keep_alive = c->keep_alive;
    cn->client_id = (mqtt_str_t){ c->client_id, strlen(c->client_id) };
    if (c->username) {
        cn->has_username = true;
        cn->username = (mqtt_str_t){ c->username, strlen(c->username) };
    }
    if (c->password) {
        cn->has_password = true;
        cn->password = (mqtt_str_t){ c->password, strlen(c->password) };
    }
    m->want = MQTT_CONNACK;
    send_packet(m, &p);
    int64_t left = timeout_ms - (tr_now_ms() - start);
    e = wait_op(m, "CONNECT", left > 0 ? left : 1, why, cap);
    if (e != HS_EOK) {
        tr_mqtt_free(m);
        return e;
    }
    *connack = m->connack.code;
    if (m->connack.code != MQTT_CONNACK_ACCEPTED) {
        snprintf(why, cap, "CONNACK %d (%s)", m->connack.code, tr_mqtt_connack_text(m->connack.code));
        tr_mqtt_free(m);
        return HS_EINVAL;
    }
    if (c->keep_alive) {
        struct timeval tv = { c->keep_alive / 2 ? c->keep_alive / 2 : 1, 0 };
        event_add(m->ping, &tv);
    }
    *out = m;
    return HS_EOK;
}

hs_err_t tr_mqtt_subscribe(tr_mqtt_t *m, const char *const *filters, const uint8_t *qos, size_t n,
                           int64_t timeout_ms, uint8_t *codes_out, char *why, size_t cap)
{
    if (!m->open) {
        snprintf(why, cap, "SUBSCRIBE: the connection is closed (%s)", m->why);
        return HS_EIO;
    }
    if (n == 0 || n > MQTT_MAX_TOPICS)
        return HS_EINVAL;
    mqtt_packet_t p = { .type = MQTT_SUBSCRIBE };
    p.u.subscribe.packet_id = next_id(m);
    p.u.subscribe.count = n;
    for (size_t i = 0; i < n; i++) {
        p.u.subscribe.filters[i] = (mqtt_str_t){ filters[i], strlen(filters[i]) };
        p.u.subscribe.qos[i] = qos[i];
    }
    m->want = MQTT_SUBACK;
    m->want_id = p.u.subscribe.packet_id;
    send_packet(m, &p);
    hs_err_t e = wait_op(m, "SUBSCRIBE", timeout_ms, why, cap);
    if (e != HS_EOK)
        return e;
    for (size_t i = 0; i < n; i++)
        codes_out[i] = i < m->suback.count ? m->suback.codes[i] : MQTT_SUBACK_FAILURE;
    return HS_EOK;
}

hs_err_t tr_mqtt_publish(tr_mqtt_t *m, const char *topic, const void *payload, size_t len, uint8_t qos,
                         int64_t timeout_ms, char *why, size_t cap)
{
    if (!m->open) {
        snprintf(why, cap, "PUBLISH: the connection is closed (%s)", m->why);
        return HS_EIO;
    }
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.qos = qos;
    p.u.publish.topic = (mqtt_str_t){ topic, strlen(topic) };
    p.u.publish.payload = payload;
    p.u.publish.payload_len = len;
    if (qos)
        p.u.publish.packet_id = next_id(m);
    uint8_t *buf;
    size_t n;
    mqtt_err_t me = mqtt_encode_alloc(&p, &buf, &n);
    if (me != MQTT_E_OK) {
        snprintf(why, cap, "PUBLISH cannot be encoded: %s", mqtt_strerror(me));
        return HS_EINVAL;
    }
    if (qos) {
        m->want = MQTT_PUBACK;
        m->want_id = p.u.publish.packet_id;
    }
    tr_stream_write(m->s, buf, n);
    free(buf);
    if (!qos) {
        tr_loop_poll(m->loop);
        return HS_EOK;
    }
    return wait_op(m, "PUBLISH", timeout_ms, why, cap);
}

bool tr_mqtt_next(tr_mqtt_t *m, tr_mqtt_msg_t *out)
{
    free(m->last.topic);
    free(m->last.payload);
    memset(&m->last, 0, sizeof m->last);
    if (!m->n_q)
        return false;
    m->last = m->q[0];
    memmove(&m->q[0], &m->q[1], (m->n_q - 1) * sizeof *m->q);
    m->n_q--;
    out->topic = m->last.topic;
    out->payload = m->last.payload;
    out->payload_len = m->last.len;
    out->qos = m->last.qos;
    out->packet_id = m->last.packet_id;
    return true;
}

size_t tr_mqtt_queued(const tr_mqtt_t *m)
{
    return m->n_q;
}

hs_err_t tr_mqtt_puback(tr_mqtt_t *m, uint16_t packet_id)
{
    if (!m->open)
        return HS_EIO;
    mqtt_packet_t p = { .type = MQTT_PUBACK };
    p.u.packet_id = packet_id;
    send_packet(m, &p);
    tr_loop_poll(m->loop);
    return HS_EOK;
}

bool tr_mqtt_is_open(const tr_mqtt_t *m)
{
    return m->open;
}

const char *tr_mqtt_why(const tr_mqtt_t *m)
{
    return m->why;
}

static bool flushed(void *arg)
{
    tr_mqtt_t *m = arg;
    return !m->open || tr_stream_pending_out(m->s) == 0;
}

void tr_mqtt_disconnect(tr_mqtt_t *m)
{
    if (!m || !m->open)
        return;
    mqtt_packet_t p = { .type = MQTT_DISCONNECT };
    send_packet(m, &p);
    tr_loop_wait(m->loop, flushed, m, 1000);
    m->open = false;
    snprintf(m->why, sizeof m->why, "disconnected by the client");
    event_del(m->ping);
    tr_stream_free(m->s);
    m->s = NULL;
}

void tr_mqtt_free(tr_mqtt_t *m)
{
    if (!m)
        return;
    if (m->ping)
        event_free(m->ping);
    tr_stream_free(m->s);
    mqtt_decoder_free(m->dec);
    for (size_t i = 0; i < m->n_q; i++) {
        free(m->q[i].topic);
        free(m->q[i].payload);
    }
    free(m->q);
    free(m->last.topic);
    free(m->last.payload);
    free(m);
}
