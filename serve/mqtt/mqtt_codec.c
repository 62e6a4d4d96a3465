/* The codec's dispatcher: fixed header and remaining length, then the packet kind's body codec (mosquitto read_handle style). */
#include <stdlib.h>
#include <string.h>
#include "mqtt_codec_internal.h"

/* Per type: name and the fixed-header flags 2.2.2 requires (-1 = PUBLISH's
 * own flags; PINGREQ/PINGRESP/DISCONNECT have no body, handled here). */
static const struct {
    const char *name;
    int flags;
} types[16] = {
    { "RESERVED", -2 },   { "CONNECT", 0 },   { "CONNACK", 0 }, { "PUBLISH", -1 },
    { "PUBACK", 0 },      { "PUBREC", 0 },    { "PUBREL", 2 },  { "PUBCOMP", 0 },
    { "SUBSCRIBE", 2 },   { "SUBACK", 0 },    { "UNSUBSCRIBE", 2 }, { "UNSUBACK", 0 },
    { "PINGREQ", 0 },     { "PINGRESP", 0 },  { "DISCONNECT", 0 }, { "RESERVED", -2 },
};

const char *mqtt_type_name(unsigned type)
{
    return type < 16 ? types[type].name : "RESERVED";
}

size_t mqtt_varint_encode(uint32_t v, uint8_t out[4])
{
    if (v > MQTT_REMAINING_MAX)
        return 0;
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v % 128);
        v /= 128;
        out[n++] = (uint8_t)(v ? b | 0x80 : b);
    } while (v);
    return n;
}

mqtt_err_t mqtt_varint_decode(const uint8_t *in, size_t len, uint32_t *v, size_t *used)
{
    uint32_t val = 0, mul = 1;
    for (size_t i = 0; i < 4; i++) {
        if (i == len)
            return MQTT_E_TRUNCATED;
        val += (uint32_t)(in[i] & 0x7f) * mul;
        if (!(in[i] & 0x80)) {
            *v = val;
            *used = i + 1;
            return MQTT_E_OK;
        }
        mul *= 128;
    }
    return MQTT_E_REMAINING_LENGTH;
}

static mqtt_err_t decode_body(mqtt_type_t type, uint8_t flags, mqtt_rd_t *r, mqtt_packet_t *out)
{
    switch (type) {
    case MQTT_CONNECT:
        return mqtt_connect_decode(r, &out->u.connect);
    case MQTT_CONNACK:
        if (mqtt_rd_left(r) != 2)
            return MQTT_E_BAD_LENGTH;
        return mqtt_connack_decode(r, &out->u.connack);
    case MQTT_PUBLISH:
        return mqtt_publish_decode(r, flags, &out->u.publish);
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
    case MQTT_UNSUBACK:
        return mqtt_ack_decode(r, &out->u.packet_id);
    case MQTT_SUBSCRIBE:
        return mqtt_subscribe_decode(r, &out->u.subscribe);
    case MQTT_SUBACK:
        return mqtt_suback_decode(r, &out->u.suback);
    case MQTT_UNSUBSCRIBE:
        return mqtt_unsubscribe_decode(r, &out->u.subscribe);
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
    case MQTT_DISCONNECT:
        return mqtt_rd_left(r) ? MQTT_E_BAD_LENGTH : MQTT_E_OK;
    }
    return MQTT_E_PACKET_TYPE;
}

mqtt_err_t mqtt_decode(const uint8_t *frame, size_t len, mqtt_packet_t *out)
{
    if (!out || (!frame && len))
        return MQTT_E_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (len < 2)
        return MQTT_E_TRUNCATED;
    unsigned type = frame[0] >> 4;
    uint8_t flags = frame[0] & 0x0f;
    if (type == 0 || type == 15)
        return MQTT_E_PACKET_TYPE;
    out->type = (mqtt_type_t)type;
    uint32_t rem;
    size_t used;
    mqtt_err_t e = mqtt_varint_decode(frame + 1, len - 1, &rem, &used);
    if (e)
        return e;
    if ((size_t)rem + used + 1 > len)
        return MQTT_E_TRUNCATED;
    if ((size_t)rem + used + 1 < len)
        return MQTT_E_TRAILING;
    if (types[type].flags >= 0 && flags != types[type].flags)
        return MQTT_E_RESERVED_FLAGS;
    mqtt_rd_t r = { frame + 1 + used, rem, 0 };
    e = decode_body(out->type, flags, &r, out);
    if (e == MQTT_E_OK && mqtt_rd_left(&r))
        e = MQTT_E_TRAILING;
    return e;
}

static mqtt_err_t encode_body(const mqtt_packet_t *p, mqtt_wr_t *w, uint8_t *flags)
{
    unsigned t = (unsigned)p->type;
    if (t == 0 || t >= 15)
        return MQTT_E_PACKET_TYPE;
    *flags = types[t].flags > 0 ? (uint8_t)types[t].flags : 0;
    switch (p->type) {
    case MQTT_CONNECT:
        return mqtt_connect_encode(&p->u.connect, w);
    case MQTT_CONNACK:
        return mqtt_connack_encode(&p->u.connack, w);
    case MQTT_PUBLISH:
        return mqtt_publish_encode(&p->u.publish, w, flags);
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
    case MQTT_UNSUBACK:
        return mqtt_ack_encode(p->u.packet_id, w);
    case MQTT_SUBSCRIBE:
        return mqtt_subscribe_encode(&p->u.subscribe, w);
    case MQTT_SUBACK:
        return mqtt_suback_encode(&p->u.suback, w);
    case MQTT_UNSUBSCRIBE:
        return mqtt_unsubscribe_encode(&p->u.subscribe, w);
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
    case MQTT_DISCONNECT:
        return MQTT_E_OK;
    }
    return MQTT_E_PACKET_TYPE;
}

mqtt_err_t mqtt_encode(const mqtt_packet_t *p, uint8_t *out, size_t cap, size_t *len_out)
{
    if (!p || !len_out)
        return MQTT_E_ARGUMENT;
    *len_out = 0;
    mqtt_wr_t measure = { NULL, 0 };
    uint8_t flags;
    mqtt_err_t e = encode_body(p, &measure, &flags);
    if (e)
        return e;
    if (measure.len > MQTT_REMAINING_MAX)
        return MQTT_E_TOO_LARGE;
    uint8_t vi[4];
    size_t vn = mqtt_varint_encode((uint32_t)measure.len, vi);
    size_t total = 1 + vn + measure.len;
    *len_out = total;
    if (!out || cap < total)
        return MQTT_E_BUFFER_TOO_SMALL;
    out[0] = (uint8_t)(((unsigned)p->type << 4) | flags);
    memcpy(out + 1, vi, vn);
    mqtt_wr_t w = { out + 1 + vn, 0 };
    (void)encode_body(p, &w, &flags);
    return MQTT_E_OK;
}

mqtt_err_t mqtt_encode_alloc(const mqtt_packet_t *p, uint8_t **out, size_t *len_out)
{
    if (!out || !len_out)
        return MQTT_E_ARGUMENT;
    *out = NULL;
    size_t n;
    mqtt_err_t e = mqtt_encode(p, NULL, 0, &n);
    if (e != MQTT_E_BUFFER_TOO_SMALL)
        return e;
    uint8_t *b = malloc(n);
    if (!b)
        return MQTT_E_NOMEM;
    if ((e = mqtt_encode(p, b, n, len_out))) {
        free(b);
        return e;
    }
    *out = b;
    return MQTT_E_OK;
}
