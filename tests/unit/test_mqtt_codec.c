/* MQTT 3.1.1 codec: round trip of every packet kind, every malformed case with its error, byte-at-a-time input, the packet size limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serve/mqtt/mqtt_packet.h"

#define S(lit) ((mqtt_str_t){ lit, sizeof lit - 1 })

static bool str_eq(mqtt_str_t a, mqtt_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Every packet kind with non-trivial field values. */
static size_t sample_packets(mqtt_packet_t *out)
{
    size_t n = 0;
    mqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNECT;
    p.u.connect = (mqtt_connect_t){ .clean_session = true, .keep_alive = 240, .client_id = S("dev1/mod1"),
                                    .will = true, .will_qos = 1, .will_retain = true,
                                    .will_topic = S("devices/dev1/messages/events/"),
                                    .will_payload = S("bye\0x"), .has_username = true,
                                    .username = S("h.azure-devices.net/dev1/?api-version=2021-04-12"),
                                    .has_password = true, .password = S("SharedAccessSignature sr=x") };
    out[n++] = p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNECT; /* minimal: no will, no credentials, empty client id */
    out[n++] = p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNACK;
    p.u.connack = (mqtt_connack_t){ .session_present = true, .code = 0 };
    out[n++] = p;
    p.u.connack = (mqtt_connack_t){ .session_present = false, .code = 5 };
    out[n++] = p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.u.publish = (mqtt_publish_t){ .qos = 1, .dup = true, .retain = true, .topic = S("devices/d/messages/events/a=1"),
                                    .packet_id = 65535, .payload = (const uint8_t *)"\x00\x01\xff", .payload_len = 3 };
    out[n++] = p;
    p.u.publish = (mqtt_publish_t){ .qos = 0, .topic = S("t\xc3\xa9"), .payload = NULL, .payload_len = 0 };
    out[n++] = p;
    p.u.publish = (mqtt_publish_t){ .qos = 2, .topic = S("x"), .packet_id = 7, .payload = (const uint8_t *)"p", .payload_len = 1 };
    out[n++] = p;
    static const mqtt_type_t acks[] = { MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL, MQTT_PUBCOMP, MQTT_UNSUBACK };
    for (size_t i = 0; i < 5; i++) {
        memset(&p, 0, sizeof p);
        p.type = acks[i];
        p.u.packet_id = (uint16_t)(0x1234 + i);
        out[n++] = p;
    }
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBSCRIBE;
    p.u.subscribe.packet_id = 2;
    p.u.subscribe.count = 3;
    p.u.subscribe.filters[0] = S("devices/d/messages/devicebound/#");
    p.u.subscribe.filters[1] = S("$iothub/methods/POST/#");
    p.u.subscribe.filters[2] = S("a/+/b");
    p.u.subscribe.qos[0] = 1;
    p.u.subscribe.qos[1] = 0;
    p.u.subscribe.qos[2] = 2;
    out[n++] = p;
    p.type = MQTT_UNSUBSCRIBE;
    out[n++] = p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBACK;
    p.u.suback.packet_id = 2;
    p.u.suback.count = 4;
    p.u.suback.codes[0] = 0;
    p.u.suback.codes[1] = 1;
    p.u.suback.codes[2] = 2;
    p.u.suback.codes[3] = 0x80;
    out[n++] = p;
    static const mqtt_type_t empties[] = { MQTT_PINGREQ, MQTT_PINGRESP, MQTT_DISCONNECT };
    for (size_t i = 0; i < 3; i++) {
        memset(&p, 0, sizeof p);
        p.type = empties[i];
        out[n++] = p;
    }
    return n;
}

static void assert_same(const mqtt_packet_t *a, const mqtt_packet_t *b)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case MQTT_CONNECT: {
        const mqtt_connect_t *x = &a->u.connect, *y = &b->u.connect;
        assert_true(str_eq(y->protocol_name, S("MQTT")));
        assert_int_equal(y->level, 4);
        assert_int_equal(x->clean_session, y->clean_session);
        assert_int_equal(x->keep_alive, y->keep_alive);
        assert_true(str_eq(x->client_id, y->client_id));
        assert_int_equal(x->will, y->will);
        assert_int_equal(x->will_qos, y->will_qos);
        assert_int_equal(x->will_retain, y->will_retain);
        assert_true(str_eq(x->will_topic, y->will_topic));
        assert_true(str_eq(x->will_payload, y->will_payload));
        assert_int_equal(x->has_username, y->has_username);
        assert_true(str_eq(x->username, y->username));
        assert_int_equal(x->has_password, y->has_password);
        assert_true(str_eq(x->password, y->password));
        break;
    }
    case MQTT_CONNACK:
        assert_int_equal(a->u.connack.code, b->u.connack.code);
        assert_int_equal(a->u.connack.session_present, b->u.connack.session_present);
        break;
    case MQTT_PUBLISH: {
        const mqtt_publish_t *x = &a->u.publish, *y = &b->u.publish;
        assert_int_equal(x->qos, y->qos);
        assert_int_equal(x->dup, y->dup);
        assert_int_equal(x->retain, y->retain);
        assert_true(str_eq(x->topic, y->topic));
        assert_int_equal(x->packet_id, y->packet_id);
        assert_int_equal(x->payload_len, y->payload_len);
        if (x->payload_len)
            assert_memory_equal(x->payload, y->payload, x->payload_len);
        break;
    }
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        assert_int_equal(a->u.subscribe.packet_id, b->u.subscribe.packet_id);
        assert_int_equal(a->u.subscribe.count, b->u.subscribe.count);
        for (size_t i = 0; i < a->u.subscribe.count; i++) {
            assert_true(str_eq(a->u.subscribe.filters[i], b->u.subscribe.filters[i]));
            if (a->type == MQTT_SUBSCRIBE)
                assert_int_equal(a->u.subscribe.qos[i], b->u.subscribe.qos[i]);
        }
        break;
    case MQTT_SUBACK:
        assert_int_equal(a->u.suback.packet_id, b->u.suback.packet_id);
        assert_int_equal(a->u.suback.count, b->u.suback.count);
        assert_memory_equal(a->u.suback.codes, b->u.suback.codes, a->u.suback.count);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
    case MQTT_UNSUBACK:
        assert_int_equal(a->u.packet_id, b->u.packet_id);
        break;
    default:
        break;
    }
}

static void test_round_trip_every_kind(void **state)
{
    (void)state;
    mqtt_packet_t pk[32];
    size_t n = sample_packets(pk);
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *b;
        size_t len;
        assert_int_equal(mqtt_encode_alloc(&pk[i], &b, &len), MQTT_E_OK);
        mqtt_packet_t d;
        assert_int_equal(mqtt_decode(b, len, &d), MQTT_E_OK);
        assert_same(&pk[i], &d);
        /* re-encoding the decoded packet gives the same bytes */
        uint8_t *b2;
        size_t len2;
        assert_int_equal(mqtt_encode_alloc(&d, &b2, &len2), MQTT_E_OK);
        assert_int_equal(len, len2);
        assert_memory_equal(b, b2, len);
        free(b2);
        free(b);
        seen |= 1u << pk[i].type;
    }
    assert_int_equal(seen, 0x7ffe); /* types 1..14 all covered */
}

static void test_known_bytes(void **state)
{
    (void)state;
    /* The spec's examples: PINGREQ C0 00, DISCONNECT E0 00, PUBACK 40 02 id. */
    mqtt_packet_t p = { .type = MQTT_PINGREQ };
    uint8_t b[16];
    size_t n;
    assert_int_equal(mqtt_encode(&p, b, sizeof b, &n), MQTT_E_OK);
    assert_int_equal(n, 2);
    assert_int_equal(b[0], 0xC0);
    assert_int_equal(b[1], 0x00);
    p.type = MQTT_PUBREL;
    p.u.packet_id = 0x0102;
    assert_int_equal(mqtt_encode(&p, b, sizeof b, &n), MQTT_E_OK);
    static const uint8_t pubrel[] = { 0x62, 0x02, 0x01, 0x02 };
    assert_int_equal(n, 4);
    assert_memory_equal(b, pubrel, 4);
    p.type = MQTT_SUBSCRIBE;
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.count = 1;
    p.u.subscribe.filters[0] = S("a");
    p.u.subscribe.qos[0] = 1;
    assert_int_equal(mqtt_encode(&p, b, sizeof b, &n), MQTT_E_OK);
    static const uint8_t sub[] = { 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x01 };
    assert_int_equal(n, sizeof sub);
    assert_memory_equal(b, sub, sizeof sub);
    /* too small a buffer: measured length still reported */
    assert_int_equal(mqtt_encode(&p, b, 3, &n), MQTT_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, sizeof sub);
}

static void test_varint(void **state)
{
    (void)state;
    static const struct {
        uint32_t v;
        size_t n;
    } cases[] = { { 0, 1 }, { 127, 1 }, { 128, 2 }, { 16383, 2 }, { 16384, 3 }, { 2097151, 3 },
                  { 2097152, 4 }, { 268435455, 4 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[4];
        assert_int_equal(mqtt_varint_encode(cases[i].v, b), cases[i].n);
        uint32_t v;
        size_t used;
        assert_int_equal(mqtt_varint_decode(b, cases[i].n, &v, &used), MQTT_E_OK);
        assert_int_equal(v, cases[i].v);
        assert_int_equal(used, cases[i].n);
        if (cases[i].n > 1)
            assert_int_equal(mqtt_varint_decode(b, cases[i].n - 1, &v, &used), MQTT_E_TRUNCATED);
    }
    uint8_t b[4];
    assert_int_equal(mqtt_varint_encode(268435456u, b), 0);
    static const uint8_t five[] = { 0xff, 0xff, 0xff, 0xff, 0x01 };
    uint32_t v;
    size_t used;
    assert_int_equal(mqtt_varint_decode(five, 5, &v, &used), MQTT_E_REMAINING_LENGTH);
}

/* ---- malformed input --------------------------------------------------------- */

typedef struct {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    mqtt_err_t want;
} bad_t;

#define BAD(nm, err, ...)                                                                          \
    { nm, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), MQTT_E_##err }

/* CONNECT header bytes: 10 len 00 04 'MQTT' 04 flags 00 3c */
#define CH(len, flags) 0x10, len, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, flags, 0x00, 0x3c

static const bad_t bad_cases[] = {
    BAD("type 0", PACKET_TYPE, 0x00, 0x00),
    BAD("type 15", PACKET_TYPE, 0xF0, 0x00),
    BAD("five-byte remaining length", REMAINING_LENGTH, 0x30, 0xff, 0xff, 0xff, 0xff, 0x01),
    BAD("SUBSCRIBE flags 0000", RESERVED_FLAGS, 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
    BAD("UNSUBSCRIBE flags 0000", RESERVED_FLAGS, 0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
    BAD("PUBREL flags 0000", RESERVED_FLAGS, 0x60, 0x02, 0x00, 0x01),
    BAD("PUBACK flags 0001", RESERVED_FLAGS, 0x41, 0x02, 0x00, 0x01),
    BAD("PINGREQ flags 0001", RESERVED_FLAGS, 0xC1, 0x00),
    BAD("CONNECT flags 0010", RESERVED_FLAGS, 0x12, 0x00),
    BAD("PINGREQ with a body", BAD_LENGTH, 0xC0, 0x01, 0x00),
    BAD("DISCONNECT with a body", BAD_LENGTH, 0xE0, 0x01, 0x00),
    BAD("PUBACK of 3 bytes", BAD_LENGTH, 0x40, 0x03, 0x00, 0x01, 0x00),
    BAD("PUBACK of 1 byte", BAD_LENGTH, 0x40, 0x01, 0x00),
    BAD("CONNACK of 3 bytes", BAD_LENGTH, 0x20, 0x03, 0x00, 0x00, 0x00),
    BAD("PUBACK id 0", PACKET_ID_ZERO, 0x40, 0x02, 0x00, 0x00),
    BAD("UNSUBACK id 0", PACKET_ID_ZERO, 0xB0, 0x02, 0x00, 0x00),
    BAD("PUBLISH QoS 1 id 0", PACKET_ID_ZERO, 0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00),
    BAD("SUBSCRIBE id 0", PACKET_ID_ZERO, 0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00),
    BAD("PUBLISH QoS 3", QOS_INVALID, 0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01),
    BAD("SUBSCRIBE QoS 3", QOS_INVALID, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03),
    BAD("SUBSCRIBE reserved QoS bits", QOS_INVALID, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x40),
    BAD("PUBLISH QoS 0 with DUP", DUP_QOS0, 0x38, 0x03, 0x00, 0x01, 't'),
    BAD("PUBLISH empty topic", TOPIC_EMPTY, 0x30, 0x02, 0x00, 0x00),
    BAD("PUBLISH topic with +", TOPIC_WILDCARD, 0x30, 0x05, 0x00, 0x03, 'a', '/', '+'),
    BAD("PUBLISH topic with #", TOPIC_WILDCARD, 0x30, 0x03, 0x00, 0x01, '#'),
    BAD("topic with U+0000", BAD_UTF8, 0x30, 0x04, 0x00, 0x02, 'a', 0x00),
    BAD("topic with overlong NUL", BAD_UTF8, 0x30, 0x04, 0x00, 0x02, 0xC0, 0x80),
    BAD("topic with a surrogate", BAD_UTF8, 0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80),
    BAD("topic with a cut sequence", BAD_UTF8, 0x30, 0x04, 0x00, 0x02, 'a', 0xE2),
    BAD("topic with 0xFF", BAD_UTF8, 0x30, 0x03, 0x00, 0x01, 0xFF),
    BAD("topic above U+10FFFF", BAD_UTF8, 0x30, 0x06, 0x00, 0x04, 0xF4, 0x90, 0x80, 0x80),
    BAD("topic length past the end", TRUNCATED, 0x30, 0x03, 0x00, 0x05, 'a'),
    BAD("frame shorter than its length", TRUNCATED, 0x30, 0x05, 0x00, 0x01, 'a'),
    BAD("frame longer than its length", TRAILING, 0xC0, 0x00, 0x00),
    BAD("protocol name MQTX", PROTOCOL_NAME, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00),
    BAD("protocol level 3", PROTOCOL_LEVEL, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x00),
    BAD("protocol level 5", PROTOCOL_LEVEL, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00),
    BAD("MQIsdp (3.1)", PROTOCOL_LEVEL, 0x10, 0x0e, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x00),
    BAD("CONNECT reserved flag", CONNECT_RESERVED, CH(0x0c, 0x03), 0x00, 0x00),
    BAD("will QoS without will", WILL_FLAGS, CH(0x0c, 0x0a), 0x00, 0x00),
    BAD("will retain without will", WILL_FLAGS, CH(0x0c, 0x22), 0x00, 0x00),
    BAD("will QoS 3", WILL_FLAGS, CH(0x0c, 0x1e), 0x00, 0x00),
    BAD("password without user name", PASSWORD_NO_USER, CH(0x0c, 0x42), 0x00, 0x00),
    BAD("CONNECT client id past the end", TRUNCATED, CH(0x0c, 0x02), 0x00, 0x09),
    BAD("CONNECT user name missing", TRUNCATED, CH(0x0c, 0x82), 0x00, 0x00),
    BAD("CONNECT trailing byte", TRAILING, CH(0x0d, 0x02), 0x00, 0x00, 0x00),
    BAD("CONNECT cut in the header", TRUNCATED, 0x10, 0x04, 0x00, 0x04, 'M', 'Q'),
    BAD("will topic with a wildcard", TOPIC_WILDCARD, CH(0x11, 0x06), 0x00, 0x00, 0x00, 0x01, '#', 0x00, 0x00),
    BAD("filter a/#/b", FILTER_INVALID, 0x82, 0x0a, 0x00, 0x01, 0x00, 0x05, 'a', '/', '#', '/', 'b', 0x00),
    BAD("filter a+", FILTER_INVALID, 0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '+', 0x00),
    BAD("unsubscribe filter #a", FILTER_INVALID, 0xA2, 0x06, 0x00, 0x01, 0x00, 0x02, '#', 'a'),
    BAD("empty filter", TOPIC_EMPTY, 0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00),
    BAD("SUBSCRIBE without filters", NO_TOPICS, 0x82, 0x02, 0x00, 0x01),
    BAD("UNSUBSCRIBE without filters", NO_TOPICS, 0xA2, 0x02, 0x00, 0x01),
    BAD("SUBACK without codes", NO_TOPICS, 0x90, 0x02, 0x00, 0x01),
    BAD("SUBSCRIBE filter without QoS byte", TRUNCATED, 0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
    BAD("CONNACK reserved flags", CONNACK_FLAGS, 0x20, 0x02, 0x02, 0x00),
    BAD("CONNACK session present with code 5", CONNACK_FLAGS, 0x20, 0x02, 0x01, 0x05),
    BAD("CONNACK code 6", CONNACK_CODE, 0x20, 0x02, 0x00, 0x06),
    BAD("SUBACK code 3", SUBACK_CODE, 0x90, 0x03, 0x00, 0x01, 0x03),
    BAD("SUBACK code 0x81", SUBACK_CODE, 0x90, 0x03, 0x00, 0x01, 0x81),
};

static void test_malformed_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_t *c = &bad_cases[i];
        mqtt_packet_t p;
        mqtt_err_t e = mqtt_decode(c->bytes, c->len, &p);
        if (e != c->want)
            fail_msg("%s: got %s, want %s", c->name, mqtt_err_name(e), mqtt_err_name(c->want));
    }
}

/* The same cases through the incremental decoder, one byte at a time:
 * the same error (a frame cut short just waits for more). */
static void test_malformed_bytewise(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_t *c = &bad_cases[i];
        mqtt_decoder_t *d = mqtt_decoder_new(0);
        mqtt_err_t e = MQTT_E_OK;
        bool got = false, got_any = false;
        for (size_t k = 0; k < c->len && e == MQTT_E_OK; k++) {
            size_t used;
            mqtt_packet_t p;
            e = mqtt_decoder_feed(d, c->bytes + k, 1, &used, &p, &got);
            got_any |= got;
        }
        mqtt_err_t want = c->want;
        if (want == MQTT_E_TRUNCATED && !got && e == MQTT_E_OK)
            want = MQTT_E_OK; /* a short frame: the decoder waits */
        if (c->want == MQTT_E_TRAILING && got_any)
            want = MQTT_E_PACKET_TYPE; /* the extra 0x00 starts a next frame of type 0 */
        if (e != want)
            fail_msg("%s: got %s, want %s", c->name, mqtt_err_name(e), mqtt_err_name(want));
        if (e) { /* sticky */
            size_t used;
            mqtt_packet_t p;
            assert_int_equal(mqtt_decoder_feed(d, (const uint8_t *)"\xc0\x00", 2, &used, &p, &got), MQTT_E_FAILED);
        }
        mqtt_decoder_free(d);
    }
}

/* A stream of every sample packet, fed in chunks of every size 1..17. */
static void test_stream_split_anywhere(void **state)
{
    (void)state;
    mqtt_packet_t pk[32];
    size_t n = sample_packets(pk);
    uint8_t *stream = NULL;
    size_t slen = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *b;
        size_t len;
        assert_int_equal(mqtt_encode_alloc(&pk[i], &b, &len), MQTT_E_OK);
        stream = realloc(stream, slen + len);
        memcpy(stream + slen, b, len);
        slen += len;
        free(b);
    }
    for (size_t chunk = 1; chunk <= 17; chunk++) {
        mqtt_decoder_t *d = mqtt_decoder_new(4096);
        size_t got_n = 0;
        for (size_t off = 0; off < slen;) {
            size_t len = slen - off < chunk ? slen - off : chunk;
            const uint8_t *in = stream + off;
            off += len;
            while (len) {
                size_t used;
                bool got;
                mqtt_packet_t p;
                assert_int_equal(mqtt_decoder_feed(d, in, len, &used, &p, &got), MQTT_E_OK);
                in += used;
                len -= used;
                if (got)
                    assert_same(&pk[got_n++], &p);
            }
        }
        assert_int_equal(got_n, n);
        assert_int_equal(mqtt_decoder_pending(d), 0);
        mqtt_decoder_free(d);
    }
    free(stream);
}

static uint8_t *publish_of(size_t payload, size_t *len)
{
    uint8_t *body = calloc(1, payload ? payload : 1);
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.topic = S("t");
    p.u.publish.payload = body;
    p.u.publish.payload_len = payload;
    uint8_t *b;
    assert_int_equal(mqtt_encode_alloc(&p, &b, len), MQTT_E_OK);
    free(body);
    return b;
}

static void test_max_packet_size(void **state)
{
    (void)state;
    /* 100-byte frame: 1 + 1 (varint) + 3 (topic) + 95 payload */
    size_t len;
    uint8_t *ok = publish_of(95, &len);
    assert_int_equal(len, 100);
    mqtt_decoder_t *d = mqtt_decoder_new(100);
    size_t used;
    bool got;
    mqtt_packet_t p;
    assert_int_equal(mqtt_decoder_feed(d, ok, len, &used, &p, &got), MQTT_E_OK);
    assert_true(got);
    assert_int_equal(p.u.publish.payload_len, 95);
    free(ok);
    /* one byte more: refused as soon as the header is complete, before the body */
    uint8_t *big = publish_of(96, &len);
    assert_int_equal(len, 101);
    assert_int_equal(mqtt_decoder_feed(d, big, 2, &used, &p, &got), MQTT_E_TOO_LARGE);
    assert_false(got);
    assert_int_equal(p.type, MQTT_PUBLISH);
    assert_int_equal(mqtt_decoder_feed(d, big + 2, len - 2, &used, &p, &got), MQTT_E_FAILED);
    free(big);
    mqtt_decoder_free(d);
}

/* A hostile length (256 MB announced) costs only what arrives. */
static void test_hostile_length_buffers_what_arrives(void **state)
{
    (void)state;
    mqtt_decoder_t *d = mqtt_decoder_new(0);
    static const uint8_t hdr[] = { 0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 't', 'x', 'y' };
    size_t used;
    bool got;
    mqtt_packet_t p;
    assert_int_equal(mqtt_decoder_feed(d, hdr, sizeof hdr, &used, &p, &got), MQTT_E_OK);
    assert_false(got);
    assert_int_equal(used, sizeof hdr);
    assert_int_equal(mqtt_decoder_pending(d), sizeof hdr);
    mqtt_decoder_free(d);
    /* the default session limit refuses it outright */
    d = mqtt_decoder_new(2 * 262144 + 65536);
    assert_int_equal(mqtt_decoder_feed(d, hdr, sizeof hdr, &used, &p, &got), MQTT_E_TOO_LARGE);
    assert_int_equal(used, 5);
    mqtt_decoder_free(d);
}

static void test_encoder_refuses_what_decoder_refuses(void **state)
{
    (void)state;
    size_t n;
    mqtt_packet_t p = { .type = MQTT_PUBACK };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_PACKET_ID_ZERO);
    p.type = MQTT_PUBLISH;
    p.u.publish = (mqtt_publish_t){ .qos = 1, .topic = S("t") };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_PACKET_ID_ZERO);
    p.u.publish = (mqtt_publish_t){ .qos = 3, .topic = S("t"), .packet_id = 1 };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_QOS_INVALID);
    p.u.publish = (mqtt_publish_t){ .dup = true, .topic = S("t") };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_DUP_QOS0);
    p.u.publish = (mqtt_publish_t){ .topic = S("a/#") };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_TOPIC_WILDCARD);
    p.u.publish = (mqtt_publish_t){ .topic = S("a\xc0\x80") };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_BAD_UTF8);
    char *longs = malloc(65536);
    memset(longs, 'a', 65536);
    p.u.publish = (mqtt_publish_t){ .topic = { longs, 65536 } };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_STRING_TOO_LONG);
    p.u.publish = (mqtt_publish_t){ .topic = { longs, 65535 } };
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 1 + 3 + 2 + 65535);
    free(longs);
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBSCRIBE;
    p.u.subscribe.packet_id = 1;
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_NO_TOPICS);
    p.u.subscribe.count = MQTT_MAX_TOPICS + 1;
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_TOO_MANY_TOPICS);
    p.u.subscribe.count = 1;
    p.u.subscribe.filters[0] = S("a/b#");
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_FILTER_INVALID);
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNACK;
    p.u.connack.code = 6;
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_CONNACK_CODE);
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNECT;
    p.u.connect.has_password = true;
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_PASSWORD_NO_USER);
    p.type = (mqtt_type_t)15;
    assert_int_equal(mqtt_encode(&p, NULL, 0, &n), MQTT_E_PACKET_TYPE);
}

static void test_too_many_topics_decoded(void **state)
{
    (void)state;
    /* 17 one-letter filters */
    uint8_t b[2 + 2 + 17 * 4];
    size_t n = 0;
    b[n++] = 0x82;
    b[n++] = (uint8_t)(2 + 17 * 4);
    b[n++] = 0;
    b[n++] = 1;
    for (int i = 0; i < 17; i++) {
        b[n++] = 0;
        b[n++] = 1;
        b[n++] = (uint8_t)('a' + i);
        b[n++] = 0;
    }
    mqtt_packet_t p;
    assert_int_equal(mqtt_decode(b, n, &p), MQTT_E_TOO_MANY_TOPICS);
    b[1] = (uint8_t)(2 + 16 * 4); /* 16 is fine */
    assert_int_equal(mqtt_decode(b, n - 4, &p), MQTT_E_OK);
    assert_int_equal(p.u.subscribe.count, 16);
}

static void test_error_table(void **state)
{
    (void)state;
    for (int i = 0; i < (int)MQTT_E__COUNT; i++) {
        assert_non_null(mqtt_strerror((mqtt_err_t)i));
        assert_non_null(mqtt_err_name((mqtt_err_t)i));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(mqtt_err_name((mqtt_err_t)i), mqtt_err_name((mqtt_err_t)j));
    }
    assert_string_equal(mqtt_err_name(MQTT_E__COUNT), "UNKNOWN");
    assert_string_equal(mqtt_type_name(MQTT_SUBACK), "SUBACK");
    assert_string_equal(mqtt_type_name(0), "RESERVED");
    assert_string_equal(mqtt_type_name(99), "RESERVED");
    assert_true(mqtt_filter_ok("#", 1));
    assert_true(mqtt_filter_ok("+/+/#", 5));
    assert_false(mqtt_filter_ok("a#", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_known_bytes),
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_malformed_whole),
        cmocka_unit_test(test_malformed_bytewise),
        cmocka_unit_test(test_stream_split_anywhere),
        cmocka_unit_test(test_max_packet_size),
        cmocka_unit_test(test_hostile_length_buffers_what_arrives),
        cmocka_unit_test(test_encoder_refuses_what_decoder_refuses),
        cmocka_unit_test(test_too_many_topics_decoded),
        cmocka_unit_test(test_error_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
