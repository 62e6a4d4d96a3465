/* Hub events for routing: twin-change, device-lifecycle and connection-state notifications as routable messages. */
#include <stdlib.h>
#include <string.h>
#include "hub_internal.h"

/*
 * NOTES.md (routing): a twin change event has the body
 * {"version":N,"properties":{"desired"|"reported":{...}}} and application
 * properties hubName, deviceId, operationTimestamp,
 * iothub-message-schema = twinChangeNotification, opType = updateTwin |
 * replaceTwin; lifecycle events use opType createDeviceIdentity |
 * deleteDeviceIdentity and schema deviceLifecycleNotification.  Connection
 * state events (deviceConnected | deviceDisconnected,
 * deviceConnectionStateNotification) follow the same shape.
 *
 * Events are built only when some route reads their source (the set is
 * taken from the routing section at creation), so an idle hub or a bulk
 * registration pays nothing for them.  They are routed like D2C messages
 * (same endpoints sink) but are not D2C traffic: they are counted under
 * event.routed / event.unrouted and stay out of the D2C conservation sum.
 */

void hub_events_setup(hub_t *hub)
{
    hub->route_sources = 0;
    json_t *routes = hub->cfg.routing ? json_object_get(hub->cfg.routing, "routes") : NULL;
    size_t i;
    json_t *r;
    json_array_foreach(routes, i, r) {
        json_t *src = json_object_get(r, "source");
        int s = json_is_string(src) ? route_source_lookup(json_string_value(src)) : -1;
        if (s >= 0 && s < 32)
            hub->route_sources |= 1u << (unsigned)s;
    }
}

static bool wanted(const hub_t *hub, route_source_t src)
{
    return (hub->route_sources >> (unsigned)src) & 1u;
}

static void route_event(hub_t *hub, uint32_t rec, route_source_t src, const char *schema,
                        const char *source_name, const char *op, json_t *body)
{
    hub_msg_t *m = hub_msg_new();
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!m || !text) {
        hub_msg_free(m);
        free(text);
        return;
    }
    const hub_rec_t *r = &hub->recs[rec];
    char dev[HUB_CONFIG_ID_MAX + 1], mod[HUB_CONFIG_ID_MAX + 1], when[40];
    hub_rec_ids(hub, r, dev, sizeof dev, mod, sizeof mod);
    sim_utc_format(hub->epoch, sim_kernel_now(hub->k), when, sizeof when);
    bool ok = hub_msg_set_body(m, text, strlen(text)) == HS_EOK &&
              hub_msg_set_sys(m, HUB_SYS_CONTENT_TYPE, "application/json") == HS_EOK &&
              hub_msg_set_sys(m, HUB_SYS_CONTENT_ENCODING, "utf-8") == HS_EOK &&
              hub_msg_set_sys(m, HUB_SYS_CONNECTION_DEVICE_ID, dev) == HS_EOK &&
              (!mod[0] || hub_msg_set_sys(m, HUB_SYS_CONNECTION_MODULE_ID, mod) == HS_EOK) &&
              hub_msg_set_sys(m, HUB_SYS_ENQUEUED_TIME, when) == HS_EOK &&
              hub_msg_set_sys(m, HUB_SYS_MESSAGE_SOURCE, source_name) == HS_EOK &&
              hub_msg_add_app(m, "hubName", hub->cfg.name) == HS_EOK &&
              hub_msg_add_app(m, "deviceId", dev) == HS_EOK &&
              (!mod[0] || hub_msg_add_app(m, "moduleId", mod) == HS_EOK) &&
              hub_msg_add_app(m, "operationTimestamp", when) == HS_EOK &&
              hub_msg_add_app(m, "iothub-message-schema", schema) == HS_EOK &&
              hub_msg_add_app(m, "opType", op) == HS_EOK;
    free(text);
    if (ok) {
        size_t n = hub_route_message(hub, rec, m, (int)src, NULL);
        hub_ledger_add(&hub->ledger, n ? HUB_L_EVENT_ROUTED : HUB_L_EVENT_UNROUTED, 1);
        sim_tf_t f[] = { TF_STR("source", route_source_name(src)), TF_STR("op", op),
                         TF_STR("id", hub_str(hub, r->key_off)), TF_INT("endpoints", (int64_t)n) };
        sim_kernel_emit(hub->k, "hub.event", f, 4);
    }
    hub_msg_free(m);
}

void hub_event_twin_change(hub_t *hub, uint32_t rec, const hub_twin_change_t *ch)
{
    if (!wanted(hub, ROUTE_SRC_TWIN_CHANGE_EVENTS) || !ch->changed)
        return;
    json_t *body = hub_twin_change_event_body(ch);
    bool replaced = ch->replaced != hub_faults_on(&hub->faults, HUB_FAULT_ROUTE_TWIN_CHANGE_EVENT);
    route_event(hub, rec, ROUTE_SRC_TWIN_CHANGE_EVENTS, "twinChangeNotification", "twinChangeEvents",
                replaced ? "replaceTwin" : "updateTwin", body);
    json_decref(body);
}

void hub_event_lifecycle(hub_t *hub, uint32_t rec, bool created)
{
    if (!wanted(hub, ROUTE_SRC_DEVICE_LIFECYCLE_EVENTS))
        return;
    const hub_rec_t *r = &hub->recs[rec];
    char dev[HUB_CONFIG_ID_MAX + 1], mod[HUB_CONFIG_ID_MAX + 1], gen[HUB_GENERATION_ID_CAP];
    hub_rec_ids(hub, r, dev, sizeof dev, mod, sizeof mod);
    hub_rec_generation_id(hub, r, gen, sizeof gen);
    json_t *body = json_pack("{s:s, s:s, s:s}", "deviceId", dev, "generationId", gen, "status",
                             r->enabled ? "enabled" : "disabled");
    if (body && mod[0])
        json_object_set_new(body, "moduleId", json_string(mod));
    if (hub_faults_on(&hub->faults, HUB_FAULT_ROUTE_LIFECYCLE_EVENT))
        created = true;
    route_event(hub, rec, ROUTE_SRC_DEVICE_LIFECYCLE_EVENTS, "deviceLifecycleNotification",
                "deviceLifecycleEvents", created ? "createDeviceIdentity" : "deleteDeviceIdentity",
                body);
    json_decref(body);
}

void hub_event_connection(hub_t *hub, uint32_t rec, bool connected)
{
    if (!wanted(hub, ROUTE_SRC_DEVICE_CONNECTION_STATE_EVENTS))
        return;
    hub->conn_event_seq++;
    char seq[40];
    snprintf(seq, sizeof seq, "%032llx", (unsigned long long)hub->conn_event_seq);
    json_t *body = json_pack("{s:s}", "sequenceNumber", seq);
    route_event(hub, rec, ROUTE_SRC_DEVICE_CONNECTION_STATE_EVENTS,
                "deviceConnectionStateNotification", "deviceConnectionStateEvents",
                connected ? "deviceConnected" : "deviceDisconnected", body);
    json_decref(body);
}
