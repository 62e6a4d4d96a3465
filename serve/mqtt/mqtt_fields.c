/* Field-level reading and writing for MQTT packet bodies: integers, length-prefixed strings, UTF-8 and topic checks. */
#include <string.h>
#include "mqtt_codec_internal.h"

size_t mqtt_rd_left(const mqtt_rd_t *r)
{
    return r->len - r->off;
}

mqtt_err_t mqtt_rd_u8(mqtt_rd_t *r, uint8_t *v)
{
    if (mqtt_rd_left(r) < 1)
        return MQTT_E_TRUNCATED;
    *v = r->p[r->off++];
    return MQTT_E_OK;
}

mqtt_err_t mqtt_rd_u16(mqtt_rd_t *r, uint16_t *v)
{
    if (mqtt_rd_left(r) < 2)
        return MQTT_E_TRUNCATED;
    *v = (uint16_t)((r->p[r->off] << 8) | r->p[r->off + 1]);
    r->off += 2;
    return MQTT_E_OK;
}

mqtt_err_t mqtt_rd_id(mqtt_rd_t *r, uint16_t *v)
{
    mqtt_err_t e = mqtt_rd_u16(r, v);
    if (e == MQTT_E_OK && *v == 0)
        return MQTT_E_PACKET_ID_ZERO;
    return e;
}

mqtt_err_t mqtt_rd_str(mqtt_rd_t *r, mqtt_str_t *s, bool utf8)
{
    uint16_t n;
    mqtt_err_t e = mqtt_rd_u16(r, &n);
    if (e)
        return e;
    if (mqtt_rd_left(r) < n)
        return MQTT_E_TRUNCATED;
    s->p = (const char *)r->p + r->off;
    s->len = n;
    r->off += n;
    if (utf8 && !mqtt_utf8_ok(s->p, s->len))
        return MQTT_E_BAD_UTF8;
    return MQTT_E_OK;
}

void mqtt_wr_u8(mqtt_wr_t *w, uint8_t v)
{
    if (w->p)
        w->p[w->len] = v;
    w->len++;
}

void mqtt_wr_u16(mqtt_wr_t *w, uint16_t v)
{
    mqtt_wr_u8(w, (uint8_t)(v >> 8));
    mqtt_wr_u8(w, (uint8_t)(v & 0xff));
}

void mqtt_wr_bytes(mqtt_wr_t *w, const void *b, size_t n)
{
    if (w->p && n)
        memcpy(w->p + w->len, b, n);
    w->len += n;
}

mqtt_err_t mqtt_wr_str(mqtt_wr_t *w, mqtt_str_t s, bool utf8)
{
    if (s.len > 65535)
        return MQTT_E_STRING_TOO_LONG;
    if (s.len && !s.p)
        return MQTT_E_ARGUMENT;
    if (utf8 && !mqtt_utf8_ok(s.p, s.len))
        return MQTT_E_BAD_UTF8;
    mqtt_wr_u16(w, (uint16_t)s.len);
    mqtt_wr_bytes(w, s.p, s.len);
    return MQTT_E_OK;
}

/* RFC 3629 well-formedness (no overlongs, no surrogates, <= U+10FFFF)
 * plus MQTT's ban on U+0000. */
bool mqtt_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

bool mqtt_filter_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || s[i - 1] == '/';
        bool level_end = i + 1 == len || s[i + 1] == '/';
        if (s[i] == '+' && !(level_start && level_end))
            return false;
        if (s[i] == '#' && !(level_start && i + 1 == len))
            return false;
    }
    return true;
}
