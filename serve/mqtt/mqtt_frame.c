/* The incremental frame decoder: gathers one MQTT frame from input split at any byte, bounded by a maximum packet size. */
#include <stdlib.h>
#include <string.h>
#include "mqtt_packet.h"

/*
 * State: `buf` holds the frame so far (fixed header first).  Until the
 * remaining length is complete `need` is 0; then it is the whole frame's
 * length.  The buffer grows geometrically with the bytes that actually
 * arrive, so a peer announcing 256 MB and sending 10 bytes costs 10 bytes.
 */
struct mqtt_decoder {
    uint8_t *buf;
    size_t len, cap;
    size_t need;        /* whole frame length once known, else 0 */
    size_t max_packet;
    bool failed;
};

mqtt_decoder_t *mqtt_decoder_new(size_t max_packet)
{
    mqtt_decoder_t *d = calloc(1, sizeof *d);
    if (d)
        d->max_packet = max_packet ? max_packet : (size_t)MQTT_REMAINING_MAX + 5;
    return d;
}

void mqtt_decoder_free(mqtt_decoder_t *d)
{
    if (!d)
        return;
    free(d->buf);
    free(d);
}

size_t mqtt_decoder_pending(const mqtt_decoder_t *d)
{
    if (!d || (d->need && d->len == d->need)) /* the last frame was handed out */
        return 0;
    return d->len;
}

static bool reserve(mqtt_decoder_t *d, size_t want)
{
    if (want <= d->cap)
        return true;
    size_t cap = d->cap ? d->cap : 64;
    while (cap < want)
        cap *= 2;
    if (d->need && cap > d->need)
        cap = d->need;
    uint8_t *b = realloc(d->buf, cap);
    if (!b)
        return false;
    d->buf = b;
    d->cap = cap;
    return true;
}

static mqtt_err_t fail(mqtt_decoder_t *d, mqtt_err_t e)
{
    d->failed = true;
    return e;
}

mqtt_err_t mqtt_decoder_feed(mqtt_decoder_t *d, const uint8_t *in, size_t len, size_t *used,
                             mqtt_packet_t *out, bool *got)
{
    if (!d || !used || !out || !got || (!in && len))
        return MQTT_E_ARGUMENT;
    *used = 0;
    *got = false;
    if (d->failed)
        return MQTT_E_FAILED;
    if (d->len == d->need && d->need) { /* the previous frame was handed out */
        d->len = 0;
        d->need = 0;
    }
    size_t i = 0;
    while (i < len) {
        if (!d->need) {
            /* header byte by byte until the varint ends */
            if (!reserve(d, d->len + 1))
                return fail(d, MQTT_E_NOMEM);
            d->buf[d->len++] = in[i++];
            if (d->len == 1) {
                unsigned t = d->buf[0] >> 4;
                if (t == 0 || t == 15) {
                    *used = i;
                    memset(out, 0, sizeof *out);
                    return fail(d, MQTT_E_PACKET_TYPE);
                }
                continue;
            }
            uint32_t rem;
            size_t vn;
            mqtt_err_t e = mqtt_varint_decode(d->buf + 1, d->len - 1, &rem, &vn);
            if (e == MQTT_E_TRUNCATED)
                continue;
            if (e) {
                *used = i;
                return fail(d, e);
            }
            size_t total = 1 + vn + (size_t)rem;
            if (total > d->max_packet) {
                *used = i;
                memset(out, 0, sizeof *out);
                out->type = (mqtt_type_t)(d->buf[0] >> 4);
                return fail(d, MQTT_E_TOO_LARGE);
            }
            d->need = total;
        } else {
            size_t take = d->need - d->len;
            if (take > len - i)
                take = len - i;
            if (!reserve(d, d->len + take))
                return fail(d, MQTT_E_NOMEM);
            memcpy(d->buf + d->len, in + i, take);
            d->len += take;
            i += take;
        }
        if (d->need && d->len == d->need) {
            *used = i;
            *got = true;
            mqtt_err_t e = mqtt_decode(d->buf, d->len, out);
            if (e) {
                *got = false;
                return fail(d, e);
            }
            return MQTT_E_OK;
        }
    }
    *used = i;
    return MQTT_E_OK;
}
