/* SUBACK (3.9): packet id, then one return code per filter of the SUBSCRIBE. */
#include <string.h>
#include "mqtt_codec_internal.h"

static bool code_ok(uint8_t c)
{
    return c <= 2 || c == MQTT_SUBACK_FAILURE;
}

mqtt_err_t mqtt_suback_decode(mqtt_rd_t *r, mqtt_suback_t *s)
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
        uint8_t c;
        (void)mqtt_rd_u8(r, &c);
        if (!code_ok(c))
            return MQTT_E_SUBACK_CODE;
        s->codes[s->count++] = c;
    }
    return MQTT_E_OK;
}

mqtt_err_t mqtt_suback_encode(const mqtt_suback_t *s, mqtt_wr_t *w)
{
    if (s->packet_id == 0)
        return MQTT_E_PACKET_ID_ZERO;
    if (s->count == 0)
        return MQTT_E_NO_TOPICS;
    if (s->count > MQTT_MAX_TOPICS)
        return MQTT_E_TOO_MANY_TOPICS;
    mqtt_wr_u16(w, s->packet_id);
    for (size_t i = 0; i < s->count; i++) {
        if (!code_ok(s->codes[i]))
            return MQTT_E_SUBACK_CODE;
        mqtt_wr_u8(w, s->codes[i]);
    }
    return MQTT_E_OK;
}
