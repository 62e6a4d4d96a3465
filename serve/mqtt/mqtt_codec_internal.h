/* Codec internals: the field reader and writer every packet file uses, and each packet kind's body codec. */
#ifndef SERVE_MQTT_CODEC_INTERNAL_H
#define SERVE_MQTT_CODEC_INTERNAL_H

#include "mqtt_packet.h"

/* Reads fields from a packet body (the bytes after the fixed header). */
typedef struct {
    const uint8_t *p;
    size_t len, off;
} mqtt_rd_t;

mqtt_err_t mqtt_rd_u8(mqtt_rd_t *r, uint8_t *v);
mqtt_err_t mqtt_rd_u16(mqtt_rd_t *r, uint16_t *v);
/* A packet identifier: 0 is MQTT_E_PACKET_ID_ZERO. */
mqtt_err_t mqtt_rd_id(mqtt_rd_t *r, uint16_t *v);
/* A length-prefixed string (utf8: checked by 1.5.3) or binary field. */
mqtt_err_t mqtt_rd_str(mqtt_rd_t *r, mqtt_str_t *s, bool utf8);
size_t mqtt_rd_left(const mqtt_rd_t *r);

/* Writes a packet body; p NULL measures only (len counts, nothing stored). */
typedef struct {
    uint8_t *p;
    size_t len;
} mqtt_wr_t;

void mqtt_wr_u8(mqtt_wr_t *w, uint8_t v);
void mqtt_wr_u16(mqtt_wr_t *w, uint16_t v);
void mqtt_wr_bytes(mqtt_wr_t *w, const void *b, size_t n);
/* Length-prefixed; MQTT_E_STRING_TOO_LONG / MQTT_E_BAD_UTF8. */
mqtt_err_t mqtt_wr_str(mqtt_wr_t *w, mqtt_str_t s, bool utf8);

/* Body codecs, one file per packet kind.  `flags` is the fixed header's
 * low nibble (only PUBLISH carries meaning there; the dispatcher checks
 * the others).  Encoders validate exactly what decoders refuse and return
 * the header flags to use in *flags_out. */
mqtt_err_t mqtt_connect_decode(mqtt_rd_t *r, mqtt_connect_t *c);
mqtt_err_t mqtt_connect_encode(const mqtt_connect_t *c, mqtt_wr_t *w);
mqtt_err_t mqtt_connack_decode(mqtt_rd_t *r, mqtt_connack_t *c);
mqtt_err_t mqtt_connack_encode(const mqtt_connack_t *c, mqtt_wr_t *w);
mqtt_err_t mqtt_publish_decode(mqtt_rd_t *r, uint8_t flags, mqtt_publish_t *p);
mqtt_err_t mqtt_publish_encode(const mqtt_publish_t *p, mqtt_wr_t *w, uint8_t *flags_out);
mqtt_err_t mqtt_filter_list_decode(mqtt_rd_t *r, mqtt_subscribe_t *s, bool with_qos);
mqtt_err_t mqtt_filter_list_encode(const mqtt_subscribe_t *s, bool with_qos, mqtt_wr_t *w);
mqtt_err_t mqtt_subscribe_decode(mqtt_rd_t *r, mqtt_subscribe_t *s);
mqtt_err_t mqtt_subscribe_encode(const mqtt_subscribe_t *s, mqtt_wr_t *w);
mqtt_err_t mqtt_suback_decode(mqtt_rd_t *r, mqtt_suback_t *s);
mqtt_err_t mqtt_suback_encode(const mqtt_suback_t *s, mqtt_wr_t *w);
mqtt_err_t mqtt_unsubscribe_decode(mqtt_rd_t *r, mqtt_subscribe_t *s);
mqtt_err_t mqtt_unsubscribe_encode(const mqtt_subscribe_t *s, mqtt_wr_t *w);
/* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a packet identifier only. */
mqtt_err_t mqtt_ack_decode(mqtt_rd_t *r, uint16_t *packet_id);
mqtt_err_t mqtt_ack_encode(uint16_t packet_id, mqtt_wr_t *w);

#endif
