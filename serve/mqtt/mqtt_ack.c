/* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK (3.4-3.7, 3.11): a packet identifier and nothing else. */
#include "mqtt_codec_internal.h"

mqtt_err_t mqtt_ack_decode(mqtt_rd_t *r, uint16_t *packet_id)
{
    *packet_id = 0;
    if (mqtt_rd_left(r) != 2)
        return MQTT_E_BAD_LENGTH;
    return mqtt_rd_id(r, packet_id);
}

mqtt_err_t mqtt_ack_encode(uint16_t packet_id, mqtt_wr_t *w)
{
    if (packet_id == 0)
        return MQTT_E_PACKET_ID_ZERO;
    mqtt_wr_u16(w, packet_id);
    return MQTT_E_OK;
}
