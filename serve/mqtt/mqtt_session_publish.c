/* Device PUBLISH handling: telemetry into the hub, method responses, twin GET and reported PATCH, with every refusal counted. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "sim/hub/auth.h"
#include "mqtt_session_internal.h"

static void puback(mqtt_session_t *s, const mqtt_publish_t *p)
{
    if (p->qos == 0 || s->state == MS_CLOSED)
        return;
    mqtt_packet_t a = { .type = MQTT_PUBACK };
    a.u.packet_id = p->packet_id;
    ms_emit(s, &a);
}

/* Unknown, foreign or malformed-request topic: close (default) or ignore. */
static void bad_topic(mqtt_session_t *s, const mqtt_publish_t *p, mqtt_topic_kind_t kind)
{
    ms_violation(s, "CLIENT-MQTT-TOPIC", "PUBLISH to %s topic '%.*s'",
                 kind == MQTT_TOPIC_FOREIGN ? "another identity's" :
                 kind == MQTT_TOPIC_BAD_RID ? "a request topic without a usable $rid/status on" : "an unknown",
                 (int)(p->topic.len > 200 ? 200 : p->topic.len), p->topic.p);
    bool ignore = s->o.unknown_topic == HUB_UNKNOWN_TOPIC_IGNORE ||
                  (kind == MQTT_TOPIC_FOREIGN && (s->o.breaks & MQTT_BREAK_IGNORE_FOREIGN_TOPIC));
    if (ignore) {
        ms_count(s, MQTT_STAT_PUBLISH_IGNORED);
        SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: PUBLISH to unknown topic '%.*s' ignored", s->identity,
                (int)(p->topic.len > 200 ? 200 : p->topic.len), p->topic.p);
        puback(s, p);
        return;
    }
    ms_count(s, MQTT_STAT_PUBLISH_REFUSED_TOPIC);
    ms_close(s, kind == MQTT_TOPIC_FOREIGN ? "PUBLISH to another identity's topic" : "PUBLISH to an unknown topic",
             false);
}

static void telemetry(mqtt_session_t *s, const mqtt_publish_t *p, const mqtt_topic_t *t)
{
    hub_msg_t *m = hub_msg_new();
    if (!m || hub_msg_set_body(m, p->payload, p->payload_len) != HS_EOK) {
        hub_msg_free(m);
        ms_count(s, MQTT_STAT_PUBLISH_REFUSED_PROPS);
        ms_close(s, "out of memory", false);
        return;
    }
    char why[200];
    int r = mqtt_bag_parse(t->bag, t->bag_len, m, why, sizeof why);
    if (r != 0)
        ms_violation(s, "CLIENT-MQTT-PROPS", "telemetry property bag: %s", why);
    if (r < 0) {
        hub_msg_free(m);
        ms_count(s, MQTT_STAT_PUBLISH_REFUSED_PROPS);
        SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: malformed property bag (%s), closing", s->identity, why);
        ms_close(s, "malformed property bag", false);
        return;
    }
    if (s->o.breaks & MQTT_BREAK_SYSPROPS_AS_APP) {
        /* the broken session keeps the bag's own names as app properties */
        for (int id = 0; id < HUB_SYS__COUNT; id++) {
            const char *name = mqtt_bag_sys_name((hub_msg_sys_t)id);
            const char *v = hub_msg_get_sys(m, (hub_msg_sys_t)id);
            if (name && v && !hub_msg_sys_is_stamped((hub_msg_sys_t)id)) {
                (void)hub_msg_add_app(m, name, v);
                (void)hub_msg_set_sys(m, (hub_msg_sys_t)id, NULL);
            }
        }
    }
    hub_err_t e = hub_device_send_d2c(s->hub, s->conn, m);
    hub_msg_free(m);
    if (e == HUB_EOK) {
        ms_count(s, MQTT_STAT_D2C_FORWARDED);
        puback(s, p);
        return;
    }
    /* NOTES: MESSAGE_TOO_LARGE, THROTTLED, ARGUMENT_INVALID, QUOTA_EXCEEDED
     * → the MQTT connection is closed (no negative PUBACK in 3.1.1); the
     * hub counted the refusal, the session counts it too. */
    ms_count(s, MQTT_STAT_D2C_REFUSED_HUB);
    SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: telemetry refused by the hub: %d %s", s->identity,
            hub_error_info(e)->code, hub_error_info(e)->name);
    if (s->o.breaks & MQTT_BREAK_PUBACK_REFUSED) {
        puback(s, p);
        return;
    }
    char reason[128];
    snprintf(reason, sizeof reason, "telemetry refused: %s", hub_error_info(e)->name);
    ms_close(s, reason, false);
}

bool ms_rid_take(mqtt_session_t *s, const char *rid)
{
    for (size_t i = 0; i < s->n_rids; i++)
        if (strcmp(s->rids[i], rid) == 0) {
            free(s->rids[i]);
            memmove(&s->rids[i], &s->rids[i + 1], (s->n_rids - i - 1) * sizeof *s->rids);
            s->n_rids--;
            return true;
        }
    return false;
}

static void method_response(mqtt_session_t *s, const mqtt_publish_t *p, const mqtt_topic_t *t)
{
    if (!ms_rid_take(s, t->rid))
        ms_violation(s, "CLIENT-MQTT-UNKNOWN-RID",
                     "method response with $rid=%s, which this connection was not sent (or already answered)",
                     t->rid);
    hub_err_t e = hub_device_method_respond(s->hub, s->conn, t->rid, t->status, (const char *)p->payload,
                                            p->payload_len);
    ms_count(s, e ? MQTT_STAT_METHOD_RESPONSES_REFUSED : MQTT_STAT_METHOD_RESPONSES);
    if (e)
        SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: method response $rid=%s refused by the hub: %s", s->identity,
                t->rid, hub_error_info(e)->name);
    puback(s, p);
}

/* $iothub/twin/res/{status}/?$rid={rid}[&$version=N] */
static void twin_answer(mqtt_session_t *s, int status, const char *rid, const char *version,
                        const char *body, size_t len)
{
    if (!s->twin_res) {
        ms_count(s, MQTT_STAT_TWIN_UNSUBSCRIBED);
        SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: twin answer %d for $rid=%s not sent: no $iothub/twin/res/# subscription",
                s->identity, status, rid);
        return;
    }
    char enc[3 * MQTT_RID_MAX + 1];
    if (hub_url_encode(rid, enc, sizeof enc))
        return;
    char *topic = version ? ms_fmt("$iothub/twin/res/%d/?$rid=%s&$version=%s", status, enc, version)
                          : ms_fmt("$iothub/twin/res/%d/?$rid=%s", status, enc);
    if (topic)
        ms_publish(s, topic, 0, 0, body, len);
    free(topic);
}

static void twin_error(mqtt_session_t *s, const char *rid, hub_err_t e)
{
    char body[512];
    size_t n = hub_error_body(e, NULL, body, sizeof body);
    ms_count(s, MQTT_STAT_TWIN_ERRORS);
    twin_answer(s, hub_error_info(e)->http_status, rid, NULL, body, n < sizeof body ? n : sizeof body - 1);
}

static void twin_get(mqtt_session_t *s, const mqtt_topic_t *t)
{
    json_t *doc = NULL;
    hub_err_t e = hub_device_twin_get(s->hub, s->conn, &doc);
    if (e) {
        twin_error(s, t->rid, e);
        return;
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text) {
        twin_error(s, t->rid, HUB_ESERVER_ERROR);
        return;
    }
    twin_answer(s, 200, t->rid, NULL, text, strlen(text));
    free(text);
}

static void twin_patch(mqtt_session_t *s, const mqtt_publish_t *p, const mqtt_topic_t *t)
{
    uint64_t version = 0;
    hub_err_t e = hub_device_twin_patch_reported(s->hub, s->conn, (const char *)p->payload, p->payload_len,
                                                 &version);
    if (e) {
        twin_error(s, t->rid, e);
        return;
    }
    char v[24];
    snprintf(v, sizeof v, "%llu", (unsigned long long)version);
    twin_answer(s, 204, t->rid, (s->o.breaks & MQTT_BREAK_TWIN_NO_VERSION) ? NULL : v, "", 0);
}

void ms_handle_publish(mqtt_session_t *s, const mqtt_publish_t *p)
{
    mqtt_publish_t q = *p;
    if (q.qos == 2) {
        ms_violation(s, "CLIENT-MQTT-QOS2", "PUBLISH with QoS 2 on '%.*s'",
                     (int)(q.topic.len > 200 ? 200 : q.topic.len), q.topic.p);
        if (!(s->o.breaks & MQTT_BREAK_ACCEPT_QOS2)) {
            ms_count(s, MQTT_STAT_PUBLISH_REFUSED_QOS2);
            SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: QoS 2 PUBLISH, closing", s->identity);
            ms_close(s, "QoS 2 PUBLISH (not supported)", false);
            return;
        }
        q.qos = 1;
    }
    /* Retain is ignored [doc]. */
    mqtt_topic_t t;
    switch (mqtt_topic_classify(q.topic.p, q.topic.len, s->device_id, s->module_id, &t)) {
    case MQTT_TOPIC_TELEMETRY:
        telemetry(s, &q, &t);
        break;
    case MQTT_TOPIC_METHOD_RESPONSE:
        method_response(s, &q, &t);
        break;
    case MQTT_TOPIC_TWIN_GET:
        ms_count(s, MQTT_STAT_TWIN_REQUESTS);
        twin_get(s, &t);
        puback(s, &q);
        break;
    case MQTT_TOPIC_TWIN_PATCH:
        ms_count(s, MQTT_STAT_TWIN_REQUESTS);
        twin_patch(s, &q, &t);
        puback(s, &q);
        break;
    default:
        bad_topic(s, &q, t.kind);
        break;
    }
}

void ms_handle_puback(mqtt_session_t *s, uint16_t packet_id)
{
    size_t i = 0;
    while (i < s->n_inflight && s->inflight[i].packet_id != packet_id)
        i++;
    if (i == s->n_inflight) {
        /* late (its lock already ended) or never sent: nothing to settle */
        ms_count(s, MQTT_STAT_C2D_COMPLETE_FAILED);
        SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: PUBACK for packet id %u that is not in flight", s->identity,
                (unsigned)packet_id);
        return;
    }
    ms_inflight_t f = s->inflight[i];
    memmove(&s->inflight[i], &s->inflight[i + 1], (s->n_inflight - i - 1) * sizeof *s->inflight);
    s->n_inflight--;
    hub_err_t e = HUB_EOK;
    if (!(s->o.breaks & MQTT_BREAK_C2D_NO_COMPLETE))
        e = hub_device_c2d_complete(s->hub, s->conn, f.lock_token);
    ms_count(s, e ? MQTT_STAT_C2D_COMPLETE_FAILED : MQTT_STAT_C2D_COMPLETED);
    if (e)
        SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: C2D complete (packet id %u) failed: %s", s->identity,
                (unsigned)packet_id, hub_error_info(e)->name);
    ms_arm_lock_timer(s);
    ms_c2d_pump(s);
}
