/* Device-to-cloud messages: rules, anti-spoofing stamps, daily quota, routing and endpoint delivery. */
#include <stdlib.h>
#include <string.h>
#include "sim/route/route_table.h"
#include "d2c.h"
#include "hub_internal.h"

/*
 * Order of the gates (each failure is counted under its own name):
 *   stale connection → 401, throttle → 429, the hub drops the device's
 *   attempts at stamped properties (anti-spoofing), then the message rules
 *   (MessageId, the character rule over HTTPS, size ≤ 256 KB measured
 *   without the stamps: the size the sender controls) → 400/413, daily
 *   quota → 403002, stamps, accept, route, deliver.
 * Accepted messages are delivered synchronously to every endpoint the route
 * table selects (deduplicated by the table); a message no route selects is
 * "dropped_no_route" — both terminal outcomes the conservation check sums.
 */

static const char *const auth_methods[2][2] = {
    { "{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",
      "{\"scope\":\"device\",\"type\":\"x509Certificate\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}" },
    { "{\"scope\":\"module\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",
      "{\"scope\":\"module\",\"type\":\"x509Certificate\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}" },
};

const char *hub_d2c_auth_method_json(int module_scope, int x509)
{
    return auth_methods[module_scope ? 1 : 0][x509 ? 1 : 0];
}

static hub_err_t d2c_reject(hub_t *hub, uint32_t rec, hub_err_t e, hub_ledger_counter_t counter,
                            const char *detail)
{
    hub_ledger_add(&hub->ledger, counter, 1);
    sim_tf_t f[] = { TF_STR("id", hub_str(hub, hub->recs[rec].key_off)),
                     TF_INT("code", hub_error_info(e)->code), TF_STR("detail", detail) };
    sim_kernel_emit(hub->k, "hub.d2c_rejected", f, 3);
    return e;
}

/* The daily quota counts ceil(size / chunk) per message; the day is the
 * virtual UTC day. */
static bool quota_take(hub_t *hub, size_t size)
{
    uint64_t quota = hub->cfg.quotas.daily_messages;
    if (!quota || hub_faults_on(&hub->faults, HUB_FAULT_HUB_DAILY_QUOTA))
        return true;
    if (hub_faults_on(&hub->faults, HUB_FAULT_HUB_DAILY_QUOTA_OBO))
        quota++;
    uint64_t chunk = hub->cfg.quotas.message_chunk ? hub->cfg.quotas.message_chunk : 4096;
    int64_t day = (hub->epoch + (int64_t)(sim_kernel_now(hub->k) / SIM_SEC)) / 86400;
    if (day != hub->quota_day) {
        hub->quota_day = day;
        hub->quota_used = 0;
    }
    uint64_t units = size ? (size + chunk - 1) / chunk : 1;
    if (hub->quota_used + units > quota)
        return false;
    hub->quota_used += units;
    return true;
}

static hs_err_t grow_props(hub_t *hub, size_t n)
{
    if (n <= hub->route_props_cap)
        return HS_EOK;
    size_t cap = hub->route_props_cap ? hub->route_props_cap : 16;
    while (cap < n)
        cap *= 2;
    route_prop_t *p = realloc(hub->route_props, cap * sizeof *p);
    if (!p)
        return HS_ENOMEM;
    hub->route_props = p;
    hub->route_props_cap = cap;
    return HS_EOK;
}

/* Route one message of a source and deliver it to every selected endpoint
 * that is reachable; returns the endpoints reached, *selected_out the
 * endpoints the routes chose (reachable or not). */
size_t hub_route_message(hub_t *hub, uint32_t rec, const hub_msg_t *msg, int source,
                         size_t *selected_out)
{
    route_message_t view;
    route_message_init(&view);
    const char *const *sys = hub_msg_sys_values(msg);
    for (unsigned i = 0; i < (unsigned)HUB_SYS__COUNT; i++) {
        int slot = hub->sys_to_route[i];
        if (slot >= 0)
            view.sys[slot] = sys[i];
    }
    size_t napp = hub_msg_app_count(msg);
    if (grow_props(hub, napp) != HS_EOK)
        napp = 0;
    for (size_t i = 0; i < napp; i++)
        (void)hub_msg_app_at(msg, i, &hub->route_props[i].name, &hub->route_props[i].value);
    view.app = hub->route_props;
    view.napp = napp;
    view.body = hub_msg_body(msg, &view.body_len);
    json_t *twin = NULL;
    uint32_t trec = rec;
    /* The twin document only feeds $twin conditions: not built (nor the
     * record touched) when no route of the source reads it. */
    if (route_table_reads_twin(hub->routes, (route_source_t)source) && hub->recs[trec].twin &&
        hub->twins[hub->recs[trec].twin - 1]) {
        char dev[HUB_CONFIG_ID_MAX + 1], mod[HUB_CONFIG_ID_MAX + 1];
        hub_rec_ids(hub, &hub->recs[trec], dev, sizeof dev, mod, sizeof mod);
        twin = hub_twin_service_json(hub->twins[hub->recs[trec].twin - 1], dev, mod[0] ? mod : NULL);
        view.twin = twin;
    }
    route_match_t res;
    memset(&res, 0, sizeof res);
    size_t n = 0;
    size_t nroutes = route_table_route_count(hub->routes);
    bool per_route = hub_faults_on(&hub->faults, HUB_FAULT_ROUTE_DEDUP);
    uint32_t *matched = per_route ? malloc((nroutes ? nroutes : 1) * sizeof *matched) : NULL;
    if (route_table_match(hub->routes, &view, (route_source_t)source, hub->route_eps,
                          hub->route_eps_cap, &res, matched) == HS_EOK)
        n = res.nendpoints;
    route_message_reset(&view);
    json_decref(twin);
    bool add_fallback = hub_faults_on(&hub->faults, HUB_FAULT_ROUTE_FALLBACK) && res.nmatched &&
                        source == ROUTE_SRC_DEVICE_MESSAGES;
    size_t total = (per_route && matched && res.nmatched ? res.nmatched : n) + (add_fallback ? 1 : 0);
    if (selected_out)
        *selected_out = total;
    /* An endpoint sink may call back into the hub (and route again), which
     * reuses hub->route_eps: iterate over a private copy. */
    uint32_t local[32];
    uint32_t *eps = total <= 32 ? local : malloc((total ? total : 1) * sizeof *eps);
    if (!eps) {
        free(matched);
        return 0;
    }
    if (per_route && matched && res.nmatched) {
        for (size_t i = 0; i < res.nmatched; i++)
            eps[i] = route_table_route_endpoint(hub->routes, matched[i]);
    } else {
        memcpy(eps, hub->route_eps, n * sizeof *eps);
    }
    free(matched);
    if (add_fallback)
        eps[total - 1] = ROUTE_ENDPOINT_EVENTS;
    n = total;
    size_t reached = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t ep = eps[i];
        if (ep < hub->ep_down_cap && hub->ep_down[ep])
            continue; /* unreachable (a fault-timeline switch): not delivered */
        reached++;
        if (hub->ep_ops && hub->ep_ops->deliver)
            hub->ep_ops->deliver(hub->ep_ctx, route_table_endpoint_name(hub->routes, ep), msg, rec);
    }
    if (eps != local)
        free(eps);
    return reached;
}

/* The enqueuedTime text for now into hub->when.  Messages of one second
 * share all but the 7 tick digits ("YYYY-MM-DDTHH:MM:SS.fffffffZ"), so
 * within the second only those are rewritten: same text, no calendar. */
static void enqueued_time_at(hub_t *hub, sim_time_t now)
{
    sim_time_t stamp = now + (hub_faults_on(&hub->faults, HUB_FAULT_MSG_ENQUEUED_TIME) ? SIM_SEC : 0);
    uint64_t sec = stamp / SIM_SEC;
    if (hub->when_valid && hub->when_sec == sec && hub->when_len == 28 && hub->when[19] == '.') {
        uint64_t ticks = (stamp % SIM_SEC) / 100;
        for (int i = 26; i >= 20; i--) {
            hub->when[i] = (char)('0' + ticks % 10);
            ticks /= 10;
        }
    } else {
        hub->when_len = sim_utc_format(hub->epoch, stamp, hub->when, sizeof hub->when);
        hub->when_sec = sec;
    }
    hub->when_t = now;
    hub->when_valid = true;
}

hub_err_t hub_device_send_d2c(hub_t *hub, hub_conn_t conn, hub_msg_t *msg)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    if (!msg)
        return HUB_EARGUMENT_NULL;
    uint32_t rec = s->rec;
    bool https = s->protocol == HUB_PROTO_HTTPS;
    bool x509 = s->auth_x509;
    /* What the stamps and the trace need, from the slot's cache line when
     * it holds the id (a device with a short id): the record stays cold. */
    char slot_id[HUB_SLOT_ID_CAP];
    size_t slot_id_len = s->id_len;
    bool cached = slot_id_len != 0;
    uint32_t gen_seq = s->gen_seq;
    if (cached) /* the whole array: a fixed-size copy is a few moves, not a `rep movs` */
        memcpy(slot_id, s->id, sizeof slot_id);
    hub_ledger_add(&hub->ledger, HUB_L_D2C_RECEIVED, 1);
    sim_time_t now = sim_kernel_now(hub->k);
    if (!hub_bucket_take(&hub->b_d2c, now, 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_D2C, 1);
        return d2c_reject(hub, rec, HUB_ETHROTTLED, HUB_L_D2C_REJECTED_QUOTA, "throttled");
    }

    /* Anti-spoofing: whatever the device set in hub-stamped properties goes. */
    char *spoof = NULL;
    if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_ANTISPOOF)) {
        const char *v = hub_msg_get_sys(msg, HUB_SYS_CONNECTION_DEVICE_ID);
        spoof = v ? strdup(v) : NULL;
    }
    hub_msg_clear_stamped(msg);

    hub_msg_rules_t r;
    hub_msg_rules_d2c(&r, https, hub->cfg.methods.kb_size ? hub->cfg.methods.kb_size : 1024);
    r.max_bytes = (size_t)hub->cfg.messages.d2c_max_bytes;
    r.message_id_max = hub->cfg.messages.message_id_max_length;
    if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_SIZE_LIMIT))
        r.max_bytes = 0;
    else if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_SIZE_LIMIT_OBO) && r.max_bytes)
        r.max_bytes--;
    if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_PROP_CHARSET))
        r.check_prop_chars = false;
    if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_MESSAGEID))
        r.message_id_max = 0;
    else if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_MESSAGEID_OBO) && r.message_id_max)
        r.message_id_max++;
    /* the accounting mutant: the limit applies to the body alone */
    size_t body_max = 0;
    if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_SIZE_ACCOUNTING)) {
        body_max = r.max_bytes;
        r.max_bytes = 0;
    }
    hub_msg_violation_t v; /* cleared by the validation */
    hub_err_t e = hub_msg_validate(msg, &r, &v);
    size_t body_len = 0;
    (void)hub_msg_body(msg, &body_len);
    if (e == HUB_EOK && body_max && body_len > body_max)
        e = HUB_EMESSAGE_TOO_LARGE;
    if (e != HUB_EOK) {
        free(spoof);
        return d2c_reject(hub, rec, e,
                          e == HUB_EMESSAGE_TOO_LARGE ? HUB_L_D2C_REJECTED_SIZE
                                                      : HUB_L_D2C_REJECTED_ARGUMENT,
                          v.detail);
    }
    /* The size the sender controls: the stamps below do not change it. */
    size_t size = hub_msg_size(msg, false);
    if (!quota_take(hub, size)) {
        free(spoof);
        return d2c_reject(hub, rec, HUB_EQUOTA_EXCEEDED, HUB_L_D2C_REJECTED_QUOTA, "daily quota");
    }

    /* Stamps.  The device's own id is the NUL-terminated head of its key
     * in the arena (a module's id is its tail), so no copy is needed for
     * the common case; the enqueued time is cached per instant. */
    char dev[HUB_CONFIG_ID_MAX + 1], gen[HUB_GENERATION_ID_CAP];
    const char *dev_id = slot_id, *mod_id = NULL;
    size_t dev_id_len = slot_id_len;
    if (!cached) {
        const hub_rec_t *rr = &hub->recs[rec];
        const char *key = hub_str(hub, rr->key_off);
        dev_id = key;
        if (rr->parent != HUB_NONE) {
            memcpy(dev, key, rr->dev_len);
            dev[rr->dev_len] = '\0';
            dev_id = dev;
            mod_id = key + rr->dev_len + 1;
        }
        dev_id_len = strlen(dev_id);
    }
    if (spoof) {
        dev_id = spoof;
        dev_id_len = strlen(spoof);
    }
    /* A module's messages carry its device's generation id (the slot's). */
    hub_generation_id_format(gen_seq, gen, sizeof gen);
    if (!hub->when_valid || hub->when_t != now)
        enqueued_time_at(hub, now);
    if (hub_msg_set_sys_len(msg, HUB_SYS_CONNECTION_DEVICE_ID, dev_id, dev_id_len) ||
        (mod_id && hub_msg_set_sys(msg, HUB_SYS_CONNECTION_MODULE_ID, mod_id)) ||
        hub_msg_set_sys(msg, HUB_SYS_CONNECTION_DEVICE_GENERATION_ID, gen) ||
        hub_msg_set_sys_static(msg, HUB_SYS_CONNECTION_AUTH_METHOD,
                               hub_d2c_auth_method_json(mod_id != NULL, x509)) ||
        hub_msg_set_sys_len(msg, HUB_SYS_ENQUEUED_TIME, hub->when,
                            hub->when_len < sizeof hub->when ? hub->when_len : strlen(hub->when)) ||
        hub_msg_set_sys_static(msg, HUB_SYS_MESSAGE_SOURCE, "Telemetry")) {
        free(spoof);
        return d2c_reject(hub, rec, HUB_ESERVER_ERROR, HUB_L_D2C_REJECTED_ARGUMENT, "out of memory");
    }
    free(spoof);
    hub_ledger_add(&hub->ledger, HUB_L_D2C_ACCEPTED, 1);
    if (hub_faults_on(&hub->faults, HUB_FAULT_LEDGER_LOSE_ONE) && !hub->lost_one) {
        hub->lost_one = true; /* the test switch: accepted, then silently gone */
        return HUB_EOK;
    }
    size_t selected = 0;
    size_t n = hub_route_message(hub, rec, msg, ROUTE_SRC_DEVICE_MESSAGES, &selected);
    if (n) {
        hub_ledger_add(&hub->ledger, HUB_L_D2C_DELIVERED, 1);
        hub_ledger_add(&hub->ledger, HUB_L_D2C_ENDPOINT_DELIVERIES, n);
    } else if (selected) {
        /* Every endpoint the routes chose is unreachable: dropped, with the reason. */
        hub_ledger_add(&hub->ledger, HUB_L_D2C_DROPPED_ENDPOINT, 1);
    } else {
        hub_ledger_add(&hub->ledger, HUB_L_D2C_DROPPED_NO_ROUTE, 1);
    }
    const char *trace_id = cached ? slot_id : hub_str(hub, hub->recs[rec].key_off);
    sim_tf_t f[] = { TF_STRN("id", trace_id, cached ? slot_id_len : strlen(trace_id)),
                     TF_INT("size", (int64_t)size), TF_INT("endpoints", (int64_t)n) };
    sim_kernel_emit(hub->k, "hub.d2c", f, 3);
    return HUB_EOK;
}
