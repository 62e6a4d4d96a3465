/* SUBSCRIBE and UNSUBSCRIBE: hub topic filters to hub subscriptions, QoS 2 granted as 1, unknown and foreign filters. */
#include <string.h>
#include "mqtt_session_internal.h"

static unsigned hub_bit(mqtt_filter_kind_t k)
{
    switch (k) {
    case MQTT_FILTER_C2D:
        return HUB_SUB_C2D;
    case MQTT_FILTER_METHODS:
        return HUB_SUB_METHODS;
    case MQTT_FILTER_DESIRED:
        return HUB_SUB_DESIRED;
    default:
        return 0;
    }
}

void ms_handle_subscribe(mqtt_session_t *s, const mqtt_subscribe_t *sub)
{
    mqtt_packet_t ack = { .type = MQTT_SUBACK };
    ack.u.suback.packet_id = sub->packet_id;
    ack.u.suback.count = sub->count;
    unsigned add = 0;
    bool twin_res = false;
    for (size_t i = 0; i < sub->count; i++) {
        mqtt_str_t f = sub->filters[i];
        mqtt_filter_kind_t k = mqtt_filter_classify(f.p, f.len, s->device_id, s->module_id);
        if (k == MQTT_FILTER_UNKNOWN || k == MQTT_FILTER_FOREIGN) {
            ms_violation(s, "CLIENT-MQTT-TOPIC", "SUBSCRIBE to %s filter '%.*s'",
                         k == MQTT_FILTER_FOREIGN ? "another identity's" : "an unknown",
                         (int)(f.len > 200 ? 200 : f.len), f.p);
            bool ignore = s->o.unknown_topic == HUB_UNKNOWN_TOPIC_IGNORE ||
                          (k == MQTT_FILTER_FOREIGN && (s->o.breaks & MQTT_BREAK_IGNORE_FOREIGN_TOPIC));
            if (!ignore) {
                ms_close(s, k == MQTT_FILTER_FOREIGN ? "SUBSCRIBE to another identity's topic"
                                                     : "SUBSCRIBE to an unknown topic",
                         false);
                return;
            }
            ms_count(s, MQTT_STAT_SUBSCRIBE_FAILURES);
            ack.u.suback.codes[i] = MQTT_SUBACK_FAILURE;
            continue;
        }
        /* QoS 2 is granted as QoS 1 [doc]. */
        uint8_t q = sub->qos[i];
        ack.u.suback.codes[i] = (q > 1 && !(s->o.breaks & MQTT_BREAK_GRANT_QOS2)) ? 1 : q;
        add |= hub_bit(k);
        twin_res |= k == MQTT_FILTER_TWIN_RES;
    }
    ms_count(s, MQTT_STAT_SUBSCRIBES);
    s->twin_res |= twin_res;
    s->subs |= add;
    /* The hub may deliver at once (a pending method call, a waiting C2D
     * message): hold that output until the SUBACK is out. */
    s->hold = true;
    hub_err_t e = add ? hub_device_subscribe(s->hub, s->conn, add) : HUB_EOK;
    if (s->state == MS_CLOSED)
        return;
    if (e) {
        ms_release_hold(s);
        ms_close(s, "the hub refused the subscription", false);
        return;
    }
    ms_write_direct(s, &ack);
    ms_release_hold(s);
}

void ms_handle_unsubscribe(mqtt_session_t *s, const mqtt_subscribe_t *sub)
{
    unsigned drop = 0;
    for (size_t i = 0; i < sub->count; i++) {
        mqtt_filter_kind_t k = mqtt_filter_classify(sub->filters[i].p, sub->filters[i].len, s->device_id,
                                                    s->module_id);
        drop |= hub_bit(k);
        if (k == MQTT_FILTER_TWIN_RES)
            s->twin_res = false;
    }
    s->subs &= ~drop;
    if (drop)
        (void)hub_device_unsubscribe(s->hub, s->conn, drop);
    mqtt_packet_t ack = { .type = MQTT_UNSUBACK };
    ack.u.packet_id = sub->packet_id;
    ms_emit(s, &ack);
}
