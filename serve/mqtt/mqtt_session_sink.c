/* Hub to device over MQTT: C2D deliveries at QoS 1, method requests, desired-property pushes, and the hub dropping the connection. */
#include <stdlib.h>
#include <string.h>
#include "mqtt_session_internal.h"

static bool ours(mqtt_session_t *s, hub_conn_t conn)
{
    return s->state == MS_CONNECTED && conn == s->conn;
}

static uint16_t next_packet_id(mqtt_session_t *s)
{
    for (;;) {
        uint16_t id = s->next_pid;
        s->next_pid = (uint16_t)(s->next_pid == 65535 ? 1 : s->next_pid + 1);
        bool used = false;
        for (size_t i = 0; i < s->n_inflight && !used; i++)
            used = s->inflight[i].packet_id == id;
        if (!used)
            return id;
    }
}

/* Lock and deliver while the in-flight window has room.  Topic:
 * devices/{id}/messages/devicebound/{bag}, QoS 1 [doc]. */
void ms_c2d_pump(mqtt_session_t *s)
{
    if (s->pumping || s->state != MS_CONNECTED || !(s->subs & HUB_SUB_C2D))
        return;
    s->pumping = true;
    while (s->state == MS_CONNECTED && s->n_inflight < s->o.c2d_max_inflight) {
        hub_c2d_delivery_t d;
        if (hub_device_c2d_receive(s->hub, s->conn, &d) != HUB_EOK)
            break;
        if (s->n_inflight == s->cap_inflight) {
            size_t cap = s->cap_inflight ? s->cap_inflight * 2 : 4;
            ms_inflight_t *n = realloc(s->inflight, cap * sizeof *n);
            if (!n) {
                (void)hub_device_c2d_abandon(s->hub, s->conn, d.lock_token);
                break;
            }
            s->inflight = n;
            s->cap_inflight = cap;
        }
        char *bag = mqtt_bag_format(d.msg);
        char *topic = bag ? ms_fmt("devices/%s/messages/devicebound/%s", s->device_id, bag) : NULL;
        free(bag);
        if (!topic) {
            (void)hub_device_c2d_abandon(s->hub, s->conn, d.lock_token);
            break;
        }
        ms_inflight_t *f = &s->inflight[s->n_inflight++];
        f->packet_id = next_packet_id(s);
        memcpy(f->lock_token, d.lock_token, sizeof f->lock_token);
        f->lock_until = d.lock_until;
        size_t blen;
        const void *body = hub_msg_body(d.msg, &blen);
        ms_count(s, MQTT_STAT_C2D_DELIVERED);
        ms_publish(s, topic, 1, f->packet_id, body, blen);
        free(topic);
    }
    s->pumping = false;
    ms_arm_lock_timer(s);
}

static void on_c2d_available(void *ctx, hub_conn_t conn)
{
    mqtt_session_t *s = ctx;
    if (!ours(s, conn))
        return;
    if (s->pumping) /* the pump's loop receives again anyway */
        return;
    if (s->busy) { /* after the packet being handled (a SUBACK goes first) */
        s->c2d_wanted = true;
        return;
    }
    ms_c2d_pump(s);
}

/* $iothub/methods/POST/{name}/?$rid={rid}, QoS 0 [doc]. */
static void on_method_request(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                              const char *payload, size_t len)
{
    mqtt_session_t *s = ctx;
    if (!ours(s, conn))
        return;
    if (s->n_rids == s->cap_rids) {
        size_t cap = s->cap_rids ? s->cap_rids * 2 : 4;
        char **n = realloc(s->rids, cap * sizeof *n);
        if (n) {
            s->rids = n;
            s->cap_rids = cap;
        }
    }
    char *copy = strdup(rid);
    if (copy && s->n_rids < s->cap_rids)
        s->rids[s->n_rids++] = copy;
    else
        free(copy);
    /* direct-methods.txt allows '+' and '#' in a method name, but MQTT
     * 3.1.1 (4.7.1) forbids wildcards in a PUBLISH topic name: such a request
     * cannot be delivered over MQTT.  It is counted and logged; the call ends
     * 504 at its response timeout (what the hub in the cloud does: [?]). */
    if (strpbrk(name, "+#")) {
        ms_count(s, MQTT_STAT_METHOD_UNDELIVERABLE);
        SIM_LOG(s->k, SIM_LOG_WARN, "mqtt", "%s: method '%s' cannot be published over MQTT (wildcard in the name)",
                s->identity, name);
        return;
    }
    char *topic = ms_fmt("$iothub/methods/POST/%s/?$rid=%s", name, rid);
    if (!topic)
        return;
    ms_count(s, MQTT_STAT_METHOD_REQUESTS);
    ms_publish(s, topic, 0, 0, payload, len);
    free(topic);
}

/* $iothub/twin/PATCH/properties/desired/?$version={N}, QoS 0 [doc]. */
static void on_desired_patch(void *ctx, hub_conn_t conn, uint64_t version, const char *patch, size_t len)
{
    mqtt_session_t *s = ctx;
    if (!ours(s, conn))
        return;
    char *topic = ms_fmt("$iothub/twin/PATCH/properties/desired/?$version=%llu", (unsigned long long)version);
    if (!topic)
        return;
    ms_count(s, MQTT_STAT_DESIRED_PUSHES);
    ms_publish(s, topic, 0, 0, patch, len);
    free(topic);
}

/* The hub closed the connection (second connection for the identity,
 * identity disabled or deleted): close the transport. */
static void on_disconnected(void *ctx, hub_conn_t conn, hub_err_t err, const char *reason)
{
    mqtt_session_t *s = ctx;
    if (!ours(s, conn))
        return;
    ms_count(s, MQTT_STAT_REPLACED);
    SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: the hub dropped the connection: %s (%s)", s->identity,
            reason ? reason : "", hub_error_info(err)->name);
    s->n_inflight = 0; /* the hub released them with the connection */
    if (s->o.breaks & MQTT_BREAK_KEEP_SECOND_CONNECTION)
        return;
    ms_close(s, reason ? reason : hub_error_info(err)->message, false);
}

const hub_sink_ops_t ms_sink_ops = {
    .method_request = on_method_request,
    .c2d_available = on_c2d_available,
    .desired_patch = on_desired_patch,
    .disconnected = on_disconnected,
};
