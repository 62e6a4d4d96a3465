/* UNSUBSCRIBE (3.10): packet id, then topic filters. */
#include <string.h>
#include "mqtt_codec_internal.h"

mqtt_err_t mqtt_unsubscribe_decode(mqtt_rd_t *r, mqtt_subscribe_t *s)
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
        if ((e = mqtt_rd_str(r, &f, true)))
            return e;
        if (f.len == 0)
            return MQTT_E_TOPIC_EMPTY;
        if (!mqtt_filter_ok(f.p, f.len))
            return MQTT_E_FILTER_INVALID;
        s->filters[s->count++] = f;
    }
    return MQTT_E_OK;
}

mqtt_err_t mqtt_unsubscribe_encode(const mqtt_subscribe_t *s, mqtt_wr_t *w)
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
    }
    return MQTT_E_OK;
}
