/* The wire cases' MQTT device: packets encoded with the serve codec go out through wire_send, what the hub wrote comes back decoded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/wire_client.h"

bool wc_open(conf_ctx_t *c, wc_t *m)
{
    return wc_open_x509(c, m, NULL);
}

bool wc_open_x509(conf_ctx_t *c, wc_t *m, const char *thumbprint)
{
    memset(m, 0, sizeof *m);
    m->c = c;
    char why[256] = "";
    if (c->ops->wire_open(c->t, TARGET_PROTO_MQTT, thumbprint, &m->w, why, sizeof why) != HS_EOK)
        return conf_error(c, "cannot open an MQTT transport: %s", why);
    if (!(m->dec = mqtt_decoder_new(0)))
        return conf_error(c, "out of memory");
    return true;
}

void wc_free(wc_t *m)
{
    mqtt_decoder_free(m->dec);
    m->dec = NULL;
}

static void keep(wc_t *m, const mqtt_packet_t *p)
{
    if (m->nrx == WC_MAX_RX) {
        snprintf(m->bad, sizeof m->bad, "more than %d packets from the hub", WC_MAX_RX);
        return;
    }
    wc_rx_t *r = &m->rx[m->nrx++];
    memset(r, 0, sizeof *r);
    r->type = p->type;
    switch (p->type) {
    case MQTT_CONNACK:
        r->code = p->u.connack.code;
        break;
    case MQTT_PUBLISH:
        r->qos = p->u.publish.qos;
        r->pid = p->u.publish.packet_id;
        snprintf(r->topic, sizeof r->topic, "%.*s", (int)p->u.publish.topic.len, p->u.publish.topic.p);
        r->payload_len = p->u.publish.payload_len;
        snprintf(r->payload, sizeof r->payload, "%.*s", (int)p->u.publish.payload_len,
                 (const char *)p->u.publish.payload);
        break;
    case MQTT_SUBACK:
        r->pid = p->u.suback.packet_id;
        r->ncodes = p->u.suback.count;
        memcpy(r->codes, p->u.suback.codes, p->u.suback.count);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
    case MQTT_UNSUBACK:
        r->pid = p->u.packet_id;
        break;
    default:
        break;
    }
}

static void take(wc_t *m)
{
    const uint8_t *in;
    size_t len;
    m->c->ops->wire_take(m->c->t, m->w, &in, &len);
    while (len && !m->bad[0]) {
        size_t used = 0;
        bool got = false;
        mqtt_packet_t p;
        mqtt_err_t e = mqtt_decoder_feed(m->dec, in, len, &used, &p, &got);
        if (e != MQTT_E_OK) {
            snprintf(m->bad, sizeof m->bad, "the hub sent bytes the MQTT codec refuses (error %d)", (int)e);
            return;
        }
        in += used;
        len -= used;
        if (got)
            keep(m, &p);
    }
}

void wc_send_raw(wc_t *m, const void *bytes, size_t len)
{
    m->c->ops->wire_send(m->c->t, m->w, bytes, len);
}

void wc_send(wc_t *m, const mqtt_packet_t *p)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (mqtt_encode_alloc(p, &b, &n) != MQTT_E_OK) {
        conf_error(m->c, "the case built an unencodable %s", mqtt_type_name((unsigned)p->type));
        return;
    }
    wc_send_raw(m, b, n);
    free(b);
}

const wc_rx_t *wc_next(wc_t *m)
{
    take(m);
    return m->next < m->nrx ? &m->rx[m->next++] : NULL;
}

size_t wc_pending(wc_t *m)
{
    take(m);
    return m->nrx - m->next;
}

bool wc_closed(wc_t *m)
{
    return m->c->ops->wire_is_closed(m->c->t, m->w);
}

const char *wc_bad(wc_t *m)
{
    take(m);
    return m->bad[0] ? m->bad : NULL;
}

int wc_connect_raw(wc_t *m, const char *client_id, const char *username, const char *password,
                   uint16_t keep_alive)
{
    mqtt_packet_t p = { .type = MQTT_CONNECT };
    p.u.connect.clean_session = true;
    p.u.connect.keep_alive = keep_alive;
    p.u.connect.client_id = (mqtt_str_t){ client_id, strlen(client_id) };
    if (username) {
        p.u.connect.has_username = true;
        p.u.connect.username = (mqtt_str_t){ username, strlen(username) };
    }
    if (password) {
        p.u.connect.has_password = true;
        p.u.connect.password = (mqtt_str_t){ password, strlen(password) };
    }
    wc_send(m, &p);
    const wc_rx_t *r = wc_next(m);
    return r && r->type == MQTT_CONNACK ? r->code : -1;
}

int wc_connect(wc_t *m, const char *device_id, uint16_t keep_alive)
{
    char tok[1024], user[512];
    if (!conf_token(m->c, CONF_KEY_A, device_id, NULL, m->c->ops->unix_now(m->c->t) + 86400, tok, sizeof tok))
        return -1;
    snprintf(user, sizeof user, "%s/%s/?api-version=2021-04-12", m->c->ops->host(m->c->t), device_id);
    return wc_connect_raw(m, device_id, user, tok, keep_alive);
}

int wc_subscribe(wc_t *m, const char *filter, uint8_t qos)
{
    mqtt_packet_t p = { .type = MQTT_SUBSCRIBE };
    p.u.subscribe.packet_id = 11;
    p.u.subscribe.count = 1;
    p.u.subscribe.filters[0] = (mqtt_str_t){ filter, strlen(filter) };
    p.u.subscribe.qos[0] = qos;
    wc_send(m, &p);
    const wc_rx_t *r = wc_next(m);
    return r && r->type == MQTT_SUBACK && r->ncodes == 1 && r->pid == 11 ? r->codes[0] : -1;
}

void wc_publish(wc_t *m, const char *topic, uint8_t qos, uint16_t pid, const void *payload, size_t len)
{
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.qos = qos;
    p.u.publish.packet_id = pid;
    p.u.publish.topic = (mqtt_str_t){ topic, strlen(topic) };
    p.u.publish.payload = payload;
    p.u.publish.payload_len = len;
    wc_send(m, &p);
}

void wc_simple(wc_t *m, mqtt_type_t type, uint16_t pid)
{
    mqtt_packet_t p = { .type = type };
    p.u.packet_id = pid;
    wc_send(m, &p);
}
