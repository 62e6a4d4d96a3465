/* SUBSCRIBE (3.8): packet id, then topic filters each with a requested QoS byte; the filter list UNSUBSCRIBE shares. */
#include <string.h>
#include "mqtt_codec_internal.h"

/* SUBSCRIBE and UNSUBSCRIBE carry the same list: a packet id, then at
 * least one filter, SUBSCRIBE's each followed by a QoS byte. */
mqtt_err_t mqtt_filter_list_decode(mqtt_rd_t *r, mqtt_subscribe_t *s, bool with_qos)
{
    memset(s, 0, sizeof *s);
    mqtt_err_t e;
    if ((e = mqtt_rd_id(r, &s->packet_id)))
        return e;
    if (mqtt_rd_left(r) == 0)
        return MQTT_E_NO_TOPICS;
    while (mqtt_rd_left(r)) {
        if (s->count == MQTT_MAX_TOPICS)
            return MQTT_E_TOO_MANY_TOPICS;
        mqtt_str_t f;
        uint8_t q = 0;
        if ((e = mqtt_rd_str(r, &f, true)) || (with_qos && (e = mqtt_rd_u8(r, &q))))
            return e;
        if (f.len == 0)
            return MQTT_E_TOPIC_EMPTY;
        if (!mqtt_filter_ok(f.p, f.len))
            return MQTT_E_FILTER_INVALID;
        if (q > 2) /* also the six reserved bits (3.8.3-4) */
            return MQTT_E_QOS_INVALID;
        s->filters[s->count] = f;
        s->qos[s->count] = q;
        s->count++;
    }
    return MQTT_E_OK;
}

mqtt_err_t mqtt_filter_list_encode(const mqtt_subscribe_t *s, bool with_qos, mqtt_wr_t *w)
{
    if (s->packet_id == 0)
        return MQTT_E_PACKET_ID_ZERO;
    if (s->count == 0)
        return MQTT_E_NO_TOPICS;
    if (s->count > MQTT_MAX_TOPICS)
        return MQTT_E_TOO_MANY_TOPICS;
    mqtt_wr_u16(w, s->packet_id);
    for (size_t i = 0; i < s->count; i++) {
        if (s->filters[i].len == 0)
            return MQTT_E_TOPIC_EMPTY;
        mqtt_err_t e = mqtt_wr_str(w, s->filters[i], true);
        if (e)
            return e;
        if (!mqtt_filter_ok(s->filters[i].p, s->filters[i].len))
            return MQTT_E_FILTER_INVALID;
        if (!with_qos)
            continue;
        if (s->qos[i] > 2)
            return MQTT_E_QOS_INVALID;
        mqtt_wr_u8(w, s->qos[i]);
    }
    return MQTT_E_OK;
}

mqtt_err_t mqtt_subscribe_decode(mqtt_rd_t *r, mqtt_subscribe_t *s)
{
    return mqtt_filter_list_decode(r, s, true);
}

mqtt_err_t mqtt_subscribe_encode(const mqtt_subscribe_t *s, mqtt_wr_t *w)
{
    return mqtt_filter_list_encode(s, true, w);
}
