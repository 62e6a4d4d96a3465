/* CONNECT handling: client id and user name checked against the hub's host, SAS or X.509 credentials, CONNACK codes, keep-alive. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mqtt_session_internal.h"

/* NOTES.md "MQTT 3.1.1 device side": ClientId = deviceId or
 * deviceId/moduleId; Username = {host}/{deviceId}/?api-version=... (module:
 * {host}/{deviceId}/{moduleId}/?...); Password = SAS token, or empty with
 * an X.509 client certificate.  CONNACK 5 for 401, 3 for throttled, 2 for a
 * bad client id, 1 for a protocol level other than 4 [doc/sdk]. */

static void connack(mqtt_session_t *s, uint8_t code)
{
    if (code != MQTT_CONNACK_ACCEPTED && (s->o.breaks & MQTT_BREAK_CONNACK_CODES))
        code = MQTT_CONNACK_NOT_AUTHORIZED;
    mqtt_packet_t p = { .type = MQTT_CONNACK };
    p.u.connack.code = code;
    ms_emit(s, &p);
}

static void refuse(mqtt_session_t *s, uint8_t code, const char *why)
{
    ms_count(s, MQTT_STAT_CONNECTS_REFUSED);
    SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: CONNECT refused (CONNACK %u): %s",
            s->address ? s->address : "?", (unsigned)code, why);
    connack(s, code);
    s->identity[0] = '\0';
    ms_close(s, why, true);
}

/* The client id: "dev" or "dev/mod", each a non-empty id of <= 128 chars. */
static bool split_client_id(mqtt_session_t *s, mqtt_str_t id)
{
    const char *slash = memchr(id.p, '/', id.len);
    size_t dlen = slash ? (size_t)(slash - id.p) : id.len;
    size_t mlen = slash ? id.len - dlen - 1 : 0;
    if (dlen == 0 || dlen > HUB_CONFIG_ID_MAX || (slash && (mlen == 0 || mlen > HUB_CONFIG_ID_MAX)))
        return false;
    if (slash && memchr(slash + 1, '/', mlen))
        return false;
    memcpy(s->device_id, id.p, dlen);
    s->device_id[dlen] = '\0';
    if (slash)
        memcpy(s->module_id, slash + 1, mlen);
    s->module_id[mlen] = '\0';
    return true;
}

static bool eat(const char **p, const char *end, const char *lit, size_t n, bool nocase)
{
    if ((size_t)(end - *p) < n || (nocase ? strncasecmp(*p, lit, n) : memcmp(*p, lit, n)) != 0)
        return false;
    *p += n;
    return true;
}

/* "{host}/{dev}/[{mod}/]" then anything ("?api-version=...").  The host
 * compares case-insensitively, the ids exactly. */
static bool username_ok(mqtt_session_t *s, mqtt_str_t u)
{
    const char *p = u.p, *end = u.p + u.len;
    const char *host = hub_config(s->hub)->host;
    if (!eat(&p, end, host, strlen(host), true) || !eat(&p, end, "/", 1, false) ||
        !eat(&p, end, s->device_id, strlen(s->device_id), false) || !eat(&p, end, "/", 1, false))
        return false;
    if (s->module_id[0] && (!eat(&p, end, s->module_id, strlen(s->module_id), false) ||
                            !eat(&p, end, "/", 1, false)))
        return false;
    /* What follows is the query: a device's username must not name a
     * module (a third path level). */
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *slash = memchr(p, '/', (size_t)(end - p));
    return !(slash && (!q || slash < q));
}

static uint8_t connack_for(hub_err_t e)
{
    switch (e) {
    case HUB_EOK:
        return MQTT_CONNACK_ACCEPTED;
    case HUB_ETHROTTLED:
    case HUB_ESERVER_ERROR:
        return MQTT_CONNACK_UNAVAILABLE;
    case HUB_EARGUMENT_INVALID:
    case HUB_EARGUMENT_NULL:
        return MQTT_CONNACK_ID_REJECTED;
    default:
        return MQTT_CONNACK_NOT_AUTHORIZED;
    }
}

static void keep_will(mqtt_session_t *s, const mqtt_connect_t *c)
{
    if (!c->will)
        return;
    s->will_topic = malloc(c->will_topic.len + 1);
    s->will_payload = malloc(c->will_payload.len ? c->will_payload.len : 1);
    if (!s->will_topic || !s->will_payload) {
        free(s->will_topic);
        free(s->will_payload);
        s->will_topic = NULL;
        s->will_payload = NULL;
        return;
    }
    memcpy(s->will_topic, c->will_topic.p, c->will_topic.len);
    s->will_topic[c->will_topic.len] = '\0';
    if (c->will_payload.len)
        memcpy(s->will_payload, c->will_payload.p, c->will_payload.len);
    s->will_len = c->will_payload.len;
    s->has_will = true;
}

void ms_handle_connect(mqtt_session_t *s, const mqtt_connect_t *c)
{
    if (!split_client_id(s, c->client_id)) {
        refuse(s, MQTT_CONNACK_ID_REJECTED, "client id is not deviceId or deviceId/moduleId");
        return;
    }
    if (!c->has_username || !username_ok(s, c->username)) {
        refuse(s, MQTT_CONNACK_NOT_AUTHORIZED,
               "user name is not {host}/{deviceId}/[{moduleId}/]?api-version=... for this hub and client id");
        return;
    }
    char *token = NULL;
    if (c->has_password && c->password.len) {
        if (memchr(c->password.p, '\0', c->password.len) || !(token = malloc(c->password.len + 1))) {
            refuse(s, MQTT_CONNACK_NOT_AUTHORIZED, "password is not a SAS token");
            return;
        }
        memcpy(token, c->password.p, c->password.len);
        token[c->password.len] = '\0';
    }
    hub_connect_params_t hp = {
        .device_id = s->device_id,
        .module_id = s->module_id[0] ? s->module_id : NULL,
        .sas_token = token,
        .x509_thumbprint = token ? NULL : s->thumbprint,
        .protocol = HUB_PROTO_MQTT,
    };
    hub_conn_t conn;
    hub_err_t e = hub_device_connect(s->hub, &hp, &ms_sink_ops, s, &conn);
    free(token);
    if (e != HUB_EOK) {
        refuse(s, connack_for(e), hub_error_info(e)->message);
        return;
    }
    s->conn = conn;
    s->state = MS_CONNECTED;
    if (s->module_id[0])
        snprintf(s->identity, sizeof s->identity, "%s/%s", s->device_id, s->module_id);
    else
        snprintf(s->identity, sizeof s->identity, "%s", s->device_id);
    keep_will(s, c);
    ms_count(s, MQTT_STAT_CONNECTS_ACCEPTED);
    /* Keep-alive: a larger value than the maximum is clamped [doc]; the hub
     * closes after grace x keep-alive without a packet (3.1.2.10: 1.5x). */
    sim_time_t ka = (sim_time_t)c->keep_alive * SIM_SEC;
    if (s->o.keep_alive_max && ka > s->o.keep_alive_max)
        ka = s->o.keep_alive_max;
    uint64_t permille = (s->o.breaks & MQTT_BREAK_KEEPALIVE_1X) ? 1000 : s->o.keep_alive_grace_permille;
    s->ka_span = ka / 1000 * permille + (ka % 1000) * permille / 1000;
    SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: connected from %s (keep-alive %us, clean session %d)",
            s->identity, s->address ? s->address : "?", (unsigned)c->keep_alive, c->clean_session);
    /* CleanSession=0: the hub keeps no MQTT session state across
     * connections here; session present is always 0 (docs/mqtt.md). */
    connack(s, MQTT_CONNACK_ACCEPTED);
    ms_arm_keepalive(s);
}
