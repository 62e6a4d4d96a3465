/* UNSUBSCRIBE (3.10): packet id, then topic filters (SUBSCRIBE's list without the QoS bytes). */
#include "mqtt_codec_internal.h"

mqtt_err_t mqtt_unsubscribe_decode(mqtt_rd_t *r, mqtt_subscribe_t *s)
{
    return mqtt_filter_list_decode(r, s, false);
}

mqtt_err_t mqtt_unsubscribe_encode(const mqtt_subscribe_t *s, mqtt_wr_t *w)
{
    return mqtt_filter_list_encode(s, false, w);
}
