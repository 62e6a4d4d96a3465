/* libFuzzer entry point over the MQTT codec: whole-frame and incremental decoding, re-encoding, and the property-bag parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/mqtt/mqtt_packet.h"
#include "serve/mqtt/mqtt_topic.h"

/*
 * Input layout: [CHUNK] BYTES.  The first byte sets the chunk size (1..32)
 * the incremental decoder is fed with; the rest is an MQTT byte stream.
 * Every packet decoded is re-encoded and decoded again: the codec is
 * symmetric, so both must succeed and agree byte for byte (abort
 * otherwise).  Telemetry-looking topics also go through the bag parser.
 */

static void check_round_trip(const mqtt_packet_t *p)
{
    uint8_t *b;
    size_t n;
    mqtt_err_t e = mqtt_encode_alloc(p, &b, &n);
    if (e != MQTT_E_OK) {
        /* only the protocol name/level are written as given: a decoded
         * packet always re-encodes */
        abort();
    }
    mqtt_packet_t q;
    if (mqtt_decode(b, n, &q) != MQTT_E_OK || q.type != p->type)
        abort();
    uint8_t *b2;
    size_t n2;
    if (mqtt_encode_alloc(&q, &b2, &n2) != MQTT_E_OK || n2 != n || memcmp(b, b2, n) != 0)
        abort();
    free(b2);
    free(b);
}

static void bag(const mqtt_publish_t *p)
{
    mqtt_topic_t t;
    if (mqtt_topic_classify(p->topic.p, p->topic.len, "d", NULL, &t) != MQTT_TOPIC_TELEMETRY)
        return;
    hub_msg_t *m = hub_msg_new();
    char why[128];
    if (m && mqtt_bag_parse(t.bag, t.bag_len, m, why, sizeof why) >= 0) {
        char *s = mqtt_bag_format(m);
        free(s);
    }
    hub_msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)(data[0] % 32) + 1;
    data++;
    size--;
    /* the whole input as one frame */
    mqtt_packet_t p;
    if (mqtt_decode(data, size, &p) == MQTT_E_OK)
        check_round_trip(&p);
    /* the stream, chunk by chunk, with a small packet limit */
    mqtt_decoder_t *d = mqtt_decoder_new(4096);
    if (!d)
        return 0;
    for (size_t off = 0; off < size;) {
        size_t len = size - off < chunk ? size - off : chunk;
        const uint8_t *in = data + off;
        off += len;
        while (len) {
            size_t used;
            bool got;
            if (mqtt_decoder_feed(d, in, len, &used, &p, &got) != MQTT_E_OK)
                goto done;
            in += used;
            len -= used;
            if (got) {
                check_round_trip(&p);
                if (p.type == MQTT_PUBLISH)
                    bag(&p.u.publish);
            }
        }
    }
done:
    mqtt_decoder_free(d);
    return 0;
}
