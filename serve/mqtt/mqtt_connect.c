/* CONNECT (3.1): protocol name and level, connect flags, keep-alive, client id, will, user name, password. */
#include <string.h>
#include "mqtt_codec_internal.h"

enum {
    F_RESERVED = 0x01,
    F_CLEAN = 0x02,
    F_WILL = 0x04,
    F_WILL_QOS_SHIFT = 3,
    F_WILL_RETAIN = 0x20,
    F_PASSWORD = 0x40,
    F_USERNAME = 0x80
};

static bool str_is(mqtt_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static mqtt_err_t topic_name_check(mqtt_str_t t)
{
    if (t.len == 0)
        return MQTT_E_TOPIC_EMPTY;
    if (memchr(t.p, '+', t.len) || memchr(t.p, '#', t.len))
        return MQTT_E_TOPIC_WILDCARD;
    return MQTT_E_OK;
}

mqtt_err_t mqtt_connect_decode(mqtt_rd_t *r, mqtt_connect_t *c)
{
    memset(c, 0, sizeof *c);
    mqtt_err_t e;
    uint8_t flags;
    if ((e = mqtt_rd_str(r, &c->protocol_name, true)))
        return e;
    if ((e = mqtt_rd_u8(r, &c->level)))
        return e;
    /* "MQIsdp" is MQTT 3.1: a known protocol at a level we do not speak,
     * answered with CONNACK 1 like any other level (3.1.2-2). */
    if (!str_is(c->protocol_name, "MQTT") && !str_is(c->protocol_name, "MQIsdp"))
        return MQTT_E_PROTOCOL_NAME;
    if (c->level != 4 || !str_is(c->protocol_name, "MQTT"))
        return MQTT_E_PROTOCOL_LEVEL;
    if ((e = mqtt_rd_u8(r, &flags)) || (e = mqtt_rd_u16(r, &c->keep_alive)))
        return e;
    if (flags & F_RESERVED)
        return MQTT_E_CONNECT_RESERVED;
    c->clean_session = (flags & F_CLEAN) != 0;
    c->will = (flags & F_WILL) != 0;
    c->will_qos = (uint8_t)((flags >> F_WILL_QOS_SHIFT) & 3);
    c->will_retain = (flags & F_WILL_RETAIN) != 0;
    c->has_username = (flags & F_USERNAME) != 0;
    c->has_password = (flags & F_PASSWORD) != 0;
    if (c->will_qos == 3 || (!c->will && (c->will_qos || c->will_retain)))
        return MQTT_E_WILL_FLAGS;
    if (c->has_password && !c->has_username)
        return MQTT_E_PASSWORD_NO_USER;
    if ((e = mqtt_rd_str(r, &c->client_id, true)))
        return e;
    if (c->will) {
        if ((e = mqtt_rd_str(r, &c->will_topic, true)) || (e = topic_name_check(c->will_topic)))
            return e;
        if ((e = mqtt_rd_str(r, &c->will_payload, false)))
            return e;
    }
    if (c->has_username && (e = mqtt_rd_str(r, &c->username, true)))
        return e;
    if (c->has_password && (e = mqtt_rd_str(r, &c->password, false)))
        return e;
    return mqtt_rd_left(r) ? MQTT_E_TRAILING : MQTT_E_OK;
}

/* The protocol name and level are written as given (tests speak other
 * levels on purpose); every other rule is the decoder's. */
mqtt_err_t mqtt_connect_encode(const mqtt_connect_t *c, mqtt_wr_t *w)
{
    mqtt_err_t e;
    if (c->will_qos > 2 || (!c->will && (c->will_qos || c->will_retain)))
        return MQTT_E_WILL_FLAGS;
    if (c->has_password && !c->has_username)
        return MQTT_E_PASSWORD_NO_USER;
    if (c->will && (e = topic_name_check(c->will_topic)))
        return e;
    mqtt_str_t name = c->protocol_name;
    if (name.len == 0)
        name = (mqtt_str_t){ "MQTT", 4 };
    if ((e = mqtt_wr_str(w, name, true)))
        return e;
    mqtt_wr_u8(w, c->level ? c->level : 4);
    uint8_t flags = (uint8_t)((c->clean_session ? F_CLEAN : 0) | (c->will ? F_WILL : 0) |
                              (c->will_qos << F_WILL_QOS_SHIFT) | (c->will_retain ? F_WILL_RETAIN : 0) |
                              (c->has_password ? F_PASSWORD : 0) | (c->has_username ? F_USERNAME : 0));
    mqtt_wr_u8(w, flags);
    mqtt_wr_u16(w, c->keep_alive);
    if ((e = mqtt_wr_str(w, c->client_id, true)))
        return e;
    if (c->will && ((e = mqtt_wr_str(w, c->will_topic, true)) || (e = mqtt_wr_str(w, c->will_payload, false))))
        return e;
    if (c->has_username && (e = mqtt_wr_str(w, c->username, true)))
        return e;
    if (c->has_password && (e = mqtt_wr_str(w, c->password, false)))
        return e;
    return MQTT_E_OK;
}
