/* MQTT 3.1.1 codec, sans-IO: every packet kind decoded from and encoded to bytes, plus an incremental frame decoder. */
#ifndef SERVE_MQTT_PACKET_H
#define SERVE_MQTT_PACKET_H

/*
 * The codec is symmetric: every packet kind decodes and encodes, so the
 * same code serves the hub's side (serve), an in-test client, and a later
 * device-side client.  Decoded strings and payloads are BORROWED from the
 * bytes given to mqtt_decode (or the decoder's buffer, until the next
 * mqtt_decoder_feed call); they are not NUL-terminated.
 *
 * Validation is the same in both directions: what the decoder refuses, the
 * encoder refuses too (packet id 0, QoS 3, ill-formed UTF-8, misplaced
 * wildcards...), with the same mqtt_err_t.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mqtt_errors.h"

typedef enum {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_PUBREC = 5,
    MQTT_PUBREL = 6,
    MQTT_PUBCOMP = 7,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10,
    MQTT_UNSUBACK = 11,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14
} mqtt_type_t;

/* "CONNECT", ...; "RESERVED" for 0, 15 and out of range. */
const char *mqtt_type_name(unsigned type);

/* Largest remaining length the varint can carry (2.2.3). */
#define MQTT_REMAINING_MAX 268435455u
/* Topic filters per SUBSCRIBE / UNSUBSCRIBE / SUBACK (ours: a bound, not the spec's). */
#define MQTT_MAX_TOPICS 16

/* CONNACK return codes (3.2.2.3). */
enum {
    MQTT_CONNACK_ACCEPTED = 0,
    MQTT_CONNACK_BAD_PROTOCOL = 1,
    MQTT_CONNACK_ID_REJECTED = 2,
    MQTT_CONNACK_UNAVAILABLE = 3,
    MQTT_CONNACK_BAD_CREDENTIALS = 4,
    MQTT_CONNACK_NOT_AUTHORIZED = 5
};
#define MQTT_SUBACK_FAILURE 0x80

/* Borrowed bytes (not NUL-terminated).  p may be NULL when len is 0. */
typedef struct {
    const char *p;
    size_t len;
} mqtt_str_t;

typedef struct {
    mqtt_str_t protocol_name; /* "MQTT" (encode: empty = "MQTT") */
    uint8_t level;            /* 4 (encode: 0 = 4) */
    bool clean_session;
    uint16_t keep_alive;      /* seconds, 0 = off */
    mqtt_str_t client_id;
    bool will;
    uint8_t will_qos;
    bool will_retain;
    mqtt_str_t will_topic;
    mqtt_str_t will_payload;  /* binary */
    bool has_username;
    mqtt_str_t username;
    bool has_password;
    mqtt_str_t password;      /* binary */
} mqtt_connect_t;

typedef struct {
    bool session_present;
    uint8_t code;             /* MQTT_CONNACK_* */
} mqtt_connack_t;

typedef struct {
    bool dup;
    uint8_t qos;              /* 0, 1, 2 */
    bool retain;
    mqtt_str_t topic;
    uint16_t packet_id;       /* qos > 0 only */
    const uint8_t *payload;
    size_t payload_len;
} mqtt_publish_t;

typedef struct {
    uint16_t packet_id;
    size_t count;                         /* 1..MQTT_MAX_TOPICS */
    mqtt_str_t filters[MQTT_MAX_TOPICS];
    uint8_t qos[MQTT_MAX_TOPICS];         /* SUBSCRIBE only */
} mqtt_subscribe_t;                       /* also UNSUBSCRIBE (qos unused) */

typedef struct {
    uint16_t packet_id;
    size_t count;                         /* 1..MQTT_MAX_TOPICS */
    uint8_t codes[MQTT_MAX_TOPICS];       /* 0, 1, 2 or MQTT_SUBACK_FAILURE */
} mqtt_suback_t;

typedef struct {
    mqtt_type_t type;
    union {
        mqtt_connect_t connect;
        mqtt_connack_t connack;
        mqtt_publish_t publish;
        mqtt_subscribe_t subscribe;   /* SUBSCRIBE, UNSUBSCRIBE */
        mqtt_suback_t suback;
        uint16_t packet_id;           /* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK */
    } u;
} mqtt_packet_t;

/* Decode exactly one whole frame (fixed header included, len bytes).
 * On error `out->type` is set when the fixed header was readable, and for
 * MQTT_E_PROTOCOL_LEVEL the CONNECT fields before the level are filled
 * (the server answers CONNACK 1 to it). */
mqtt_err_t mqtt_decode(const uint8_t *frame, size_t len, mqtt_packet_t *out);

/* Encode into out[0..cap).  *len_out is the frame's length in every case
 * that got past validation (call with out NULL / cap 0 to measure);
 * MQTT_E_BUFFER_TOO_SMALL when cap is short. */
mqtt_err_t mqtt_encode(const mqtt_packet_t *p, uint8_t *out, size_t cap, size_t *len_out);
/* The same into a malloc'd buffer the caller frees. */
mqtt_err_t mqtt_encode_alloc(const mqtt_packet_t *p, uint8_t **out, size_t *len_out);

/* Remaining-length varint (2.2.3): encode into 1..4 bytes (returns the
 * count, 0 when v > MQTT_REMAINING_MAX); decode from up to len bytes:
 * MQTT_E_TRUNCATED when more bytes are needed, MQTT_E_REMAINING_LENGTH
 * when a fifth byte would be needed. */
size_t mqtt_varint_encode(uint32_t v, uint8_t out[4]);
mqtt_err_t mqtt_varint_decode(const uint8_t *in, size_t len, uint32_t *v, size_t *used);

/* Well-formed UTF-8 without U+0000 (1.5.3). */
bool mqtt_utf8_ok(const char *s, size_t len);
/* Topic filter rule (4.7.1): '#' alone in the last level, '+' alone in its level. */
bool mqtt_filter_ok(const char *s, size_t len);

/* ---- incremental decoder ----------------------------------------------- */

/* Accepts input split at any byte; holds at most one frame, never more
 * than max_packet bytes (whole frame, fixed header included), and refuses
 * a frame as soon as its remaining length says it is too large, before
 * buffering its body.  The buffer grows with the bytes that arrive, not
 * with what the header announces. */
typedef struct mqtt_decoder mqtt_decoder_t;

/* max_packet 0 = MQTT_REMAINING_MAX + 5.  NULL on allocation failure. */
mqtt_decoder_t *mqtt_decoder_new(size_t max_packet);
void mqtt_decoder_free(mqtt_decoder_t *d);

/* Consume bytes from in[0..len) up to the end of one frame: *used says how
 * many were taken and *got whether a whole packet was decoded into out
 * (borrowing from the decoder until the next feed).  Call again with the
 * rest while *used < len.  Errors are sticky: after one, every call answers
 * MQTT_E_FAILED (the session closes the connection anyway). */
mqtt_err_t mqtt_decoder_feed(mqtt_decoder_t *d, const uint8_t *in, size_t len, size_t *used,
                             mqtt_packet_t *out, bool *got);
/* Bytes of a partial frame held. */
size_t mqtt_decoder_pending(const mqtt_decoder_t *d);

#endif
