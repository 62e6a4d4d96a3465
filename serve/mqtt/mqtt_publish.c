/* PUBLISH (3.3): DUP/QoS/RETAIN in the fixed header, topic name, packet id when QoS > 0, the payload to the end. */
#include <string.h>
#include "mqtt_codec_internal.h"

static mqtt_err_t publish_check(const mqtt_publish_t *p)
{
    if (p->qos > 2)
        return MQTT_E_QOS_INVALID;
    if (p->dup && p->qos == 0)
        return MQTT_E_DUP_QOS0;
    if (p->topic.len == 0)
        return MQTT_E_TOPIC_EMPTY;
    if (memchr(p->topic.p, '+', p->topic.len) || memchr(p->topic.p, '#', p->topic.len))
        return MQTT_E_TOPIC_WILDCARD;
    if (p->qos > 0 && p->packet_id == 0)
        return MQTT_E_PACKET_ID_ZERO;
    return MQTT_E_OK;
}

mqtt_err_t mqtt_publish_decode(mqtt_rd_t *r, uint8_t flags, mqtt_publish_t *p)
{
    memset(p, 0, sizeof *p);
    p->dup = (flags & 8) != 0;
    p->qos = (uint8_t)((flags >> 1) & 3);
    p->retain = (flags & 1) != 0;
    if (p->qos > 2)
        return MQTT_E_QOS_INVALID;
    if (p->dup && p->qos == 0)
        return MQTT_E_DUP_QOS0;
    mqtt_err_t e;
    if ((e = mqtt_rd_str(r, &p->topic, true)))
        return e;
    if (p->qos > 0 && (e = mqtt_rd_id(r, &p->packet_id)))
        return e;
    if ((e = publish_check(p)))
        return e;
    p->payload = r->p + r->off;
    p->payload_len = mqtt_rd_left(r);
    r->off = r->len;
    return MQTT_E_OK;
}

mqtt_err_t mqtt_publish_encode(const mqtt_publish_t *p, mqtt_wr_t *w, uint8_t *flags_out)
{
    mqtt_err_t e = publish_check(p);
    if (e)
        return e;
    if (p->payload_len && !p->payload)
        return MQTT_E_ARGUMENT;
    *flags_out = (uint8_t)((p->dup ? 8 : 0) | (p->qos << 1) | (p->retain ? 1 : 0));
    if ((e = mqtt_wr_str(w, p->topic, true)))
        return e;
    if (p->qos > 0)
        mqtt_wr_u16(w, p->packet_id);
    mqtt_wr_bytes(w, p->payload, p->payload_len);
    return MQTT_E_OK;
}
