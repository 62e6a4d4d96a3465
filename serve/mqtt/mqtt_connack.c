/* CONNACK (3.2): session-present flag and return code. */
#include <string.h>
#include "mqtt_codec_internal.h"

static mqtt_err_t connack_check(bool session_present, uint8_t code)
{
    if (code > MQTT_CONNACK_NOT_AUTHORIZED)
        return MQTT_E_CONNACK_CODE;
    if (session_present && code != MQTT_CONNACK_ACCEPTED)
        return MQTT_E_CONNACK_FLAGS; /* 3.2.2-4 */
    return MQTT_E_OK;
}

mqtt_err_t mqtt_connack_decode(mqtt_rd_t *r, mqtt_connack_t *c)
{
    memset(c, 0, sizeof *c);
    uint8_t flags;
    mqtt_err_t e;
    if ((e = mqtt_rd_u8(r, &flags)) || (e = mqtt_rd_u8(r, &c->code)))
        return e;
    if (flags & 0xfe)
        return MQTT_E_CONNACK_FLAGS;
    c->session_present = flags & 1;
    return connack_check(c->session_present, c->code);
}

mqtt_err_t mqtt_connack_encode(const mqtt_connack_t *c, mqtt_wr_t *w)
{
    mqtt_err_t e = connack_check(c->session_present, c->code);
    if (e)
        return e;
    mqtt_wr_u8(w, c->session_present ? 1 : 0);
    mqtt_wr_u8(w, c->code);
    return MQTT_E_OK;
}
