/* The hub context: lifecycle from a hub_config_t, break switches, C2D and twin wiring, counters and the check. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "auth.h"
#include "hub_internal.h"
#include "uploads.h"

/*
 * hub.c owns what ties the facilities together: creation (config copy,
 * throttling buckets, the C2D store, the route table, provisioning), the
 * break switches that need a facility rebuilt, the service- and device-side
 * C2D and twin calls that delegate to c2d_queue and twin_doc, and the
 * bookkeeping read-outs.  The other facility files are registry.c, auth.c,
 * connections.c, methods.c, d2c.c, throttle.c, ledger.c and faults.c.
 */

/* ---- throttling and the C2D store, rebuilt when a switch changes them ---- */

static void throttle_setup(hub_t *hub)
{
    hub_config_throttling_t t = hub->cfg.throttling;
    sim_time_t w = t.window ? t.window : SIM_SEC;
    uint64_t u = t.units ? t.units : 1;
    if (t.profile == HUB_THROTTLE_S1) {
        /* A hand-built config (not from a file) leaves the rates at 0: use
         * the NOTES.md standard-tier figures, as the loader does. */
        if (!t.d2c_milli_per_sec)
            t.d2c_milli_per_sec = (100 * u < 200 ? 200 : 100 * u) * 1000;
        if (!t.c2d_milli_per_sec)
            t.c2d_milli_per_sec = 1670 * u;
        if (!t.twin_read_milli_per_sec)
            t.twin_read_milli_per_sec = 10000 * u;
        if (!t.twin_update_milli_per_sec)
            t.twin_update_milli_per_sec = 10000 * u;
        if (!t.connect_milli_per_sec)
            t.connect_milli_per_sec = 100000 * u;
        if (!t.method_bytes_per_sec)
            t.method_bytes_per_sec = 160 * (uint64_t)(hub->cfg.methods.kb_size ? hub->cfg.methods.kb_size : 1024) * u;
    } else {
        memset(&t, 0, sizeof t);
    }
    if (hub_faults_on(&hub->faults, HUB_FAULT_HUB_THROTTLE))
        memset(&t, 0, sizeof t);
    hub_bucket_init(&hub->b_d2c, t.d2c_milli_per_sec, w);
    hub_bucket_init(&hub->b_c2d, t.c2d_milli_per_sec, w);
    hub_bucket_init(&hub->b_twin_read, t.twin_read_milli_per_sec, w);
    hub_bucket_init(&hub->b_twin_update, t.twin_update_milli_per_sec, w);
    hub_bucket_init(&hub->b_connect, t.connect_milli_per_sec, w);
    /* Method bytes: one "unit" is one byte. */
    hub_bucket_init(&hub->b_method, t.method_bytes_per_sec * 1000, w);
    if (hub_faults_on(&hub->faults, HUB_FAULT_HUB_THROTTLE_OBO)) {
        hub_bucket_widen(&hub->b_d2c, 1);
        hub_bucket_widen(&hub->b_c2d, 1);
        hub_bucket_widen(&hub->b_twin_read, 1);
        hub_bucket_widen(&hub->b_twin_update, 1);
        hub_bucket_widen(&hub->b_connect, 1);
        hub_bucket_widen(&hub->b_method, 1);
    }
}

static void c2d_hook_available(void *ctx, uint32_t device_no)
{
    hub_t *hub = ctx;
    if (device_no < hub->nrecs && !hub->recs[device_no].deleted)
        hub_conn_c2d_available(hub, device_no);
}

static void c2d_hook_feedback(void *ctx, const hub_c2d_fb_batch_t *b)
{
    hub_t *hub = ctx;
    if (hub->fb_fn && !hub_faults_on(&hub->faults, HUB_FAULT_C2D_FEEDBACK))
        hub->fb_fn(hub->fb_ctx, b);
}

static hs_err_t c2d_setup(hub_t *hub, char *why, size_t cap)
{
    hub_c2d_config_t c;
    hub_c2d_config_default(&c);
    const hub_config_c2d_t *k = &hub->cfg.c2d;
    c.max_depth = k->max_queue_depth;
    c.default_ttl = k->ttl_default;
    c.max_ttl = k->ttl_max;
    c.lock_timeout = k->lock_timeout;
    c.max_delivery_count = k->max_delivery_count;
    c.max_message_bytes = (size_t)hub->cfg.messages.c2d_max_bytes;
    c.feedback_batch_max = k->feedback_batch_records;
    c.feedback_interval = k->feedback_flush_interval;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_QUEUE_DEPTH))
        c.max_depth = UINT32_MAX;
    else if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_QUEUE_DEPTH_OBO))
        c.max_depth++;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_SIZE_LIMIT))
        c.max_message_bytes = 0;
    else if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_SIZE_LIMIT_OBO) && c.max_message_bytes)
        c.max_message_bytes--;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_TTL))
        c.default_ttl = c.max_ttl;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_TTL_OBO)) {
        c.default_ttl += SIM_SEC;
        c.max_ttl += SIM_SEC;
    }
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_LOCK))
        c.lock_timeout *= 2;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_LOCK_OBO))
        c.lock_timeout += SIM_SEC;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_DELIVERY_COUNT))
        c.max_delivery_count = 100;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_DELIVERY_COUNT_OBO) && c.max_delivery_count < 100)
        c.max_delivery_count++;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_FEEDBACK_BATCH))
        c.feedback_interval *= 2;
    if (hub_faults_on(&hub->faults, HUB_FAULT_C2D_FEEDBACK_BATCH_OBO))
        c.feedback_batch_max++;
    if (hub_faults_on(&hub->faults, HUB_FAULT_MSG_PROP_CHARSET) ||
        hub_faults_on(&hub->faults, HUB_FAULT_MSG_MESSAGEID))
        c.check_message_rules = false;
    if (hub_c2d_config_check(&c, why, cap) != HS_EOK)
        return HS_EINVAL;
    hub_c2d_hooks_t hooks = { .ctx = hub, .available = c2d_hook_available,
                              .feedback = c2d_hook_feedback };
    hub_c2d_t *store = hub_c2d_new(hub->k, &c, &hooks);
    if (!store)
        return HS_ENOMEM;
    hub_c2d_free(hub->c2d);
    hub->c2d = store;
    return HS_EOK;
}

/* The twin limits from the config, with the armed twin switches applied
 * (re-run by hub_break: twins read the limits on every change). */
static void twin_limits_setup(hub_t *hub)
{
    hub_twin_limits_t *l = &hub->twin_limits;
    hub_twin_limits_default(l, hub->cfg.methods.kb_size ? hub->cfg.methods.kb_size : 1024);
    l->max_bytes[HUB_TWIN_TAGS] = (size_t)hub->cfg.twins.tags_max_bytes;
    l->max_bytes[HUB_TWIN_DESIRED] = (size_t)hub->cfg.twins.desired_max_bytes;
    l->max_bytes[HUB_TWIN_REPORTED] = (size_t)hub->cfg.twins.reported_max_bytes;
    l->max_depth = hub->cfg.twins.max_depth;
    l->key_max_bytes = hub->cfg.twins.key_max_bytes;
    l->string_max_bytes = hub->cfg.twins.string_value_max_bytes;
    const hub_faults_t *f = &hub->faults;
    for (int s = 0; s < HUB_TWIN__SECTIONS; s++) {
        if (hub_faults_on(f, HUB_FAULT_TWIN_SIZE_LIMIT))
            l->max_bytes[s] = SIZE_MAX;
        else if (hub_faults_on(f, HUB_FAULT_TWIN_SIZE_LIMIT_OBO))
            l->max_bytes[s]++;
    }
    if (hub_faults_on(f, HUB_FAULT_TWIN_DEPTH_LIMIT))
        l->max_depth = UINT_MAX - 1;
    else if (hub_faults_on(f, HUB_FAULT_TWIN_DEPTH_LIMIT_OBO))
        l->max_depth++;
    if (hub_faults_on(f, HUB_FAULT_TWIN_KEY_RULES_OBO)) {
        l->key_max_bytes++;
        l->string_max_bytes++;
    }
    if (hub_faults_on(f, HUB_FAULT_TWIN_KEY_RULES))
        l->breaks |= HUB_TWIN_BREAK_KEY_CHARSET;
    if (hub_faults_on(f, HUB_FAULT_TWIN_VERSION))
        l->breaks |= HUB_TWIN_BREAK_REPORTED_VERSION;
    if (hub_faults_on(f, HUB_FAULT_TWIN_PATCH_MERGE))
        l->breaks |= HUB_TWIN_BREAK_NULL_DELETE;
    if (hub_faults_on(f, HUB_FAULT_TWIN_METADATA))
        l->breaks |= HUB_TWIN_BREAK_METADATA_TIME;
}

static hs_err_t routes_setup(hub_t *hub, char *why, size_t cap)
{
    route_options_t o;
    route_options_default(&o);
    o.dollar_app_first = hub->cfg.route_query.bare_dollar_name == HUB_DOLLAR_NAME_APP_FIRST;
    o.extended_type_functions = hub->cfg.route_query.type_functions;
    const hub_faults_t *f = &hub->faults;
    if (hub_faults_on(f, HUB_FAULT_ROUTE_SYSPROP))
        o.dollar_app_first = !o.dollar_app_first;
    static const struct {
        hub_fault_t f;
        unsigned bit;
    } route_breaks[] = {
        { HUB_FAULT_ROUTE_BODY_GATING, ROUTE_BREAK_BODY_GATING },
        { HUB_FAULT_ROUTE_CASE_INSENSITIVE, ROUTE_BREAK_CASE },
        { HUB_FAULT_ROUTE_THREE_VALUED, ROUTE_BREAK_NOT_UNDEF },
        { HUB_FAULT_ROUTE_TWIN_REF, ROUTE_BREAK_TWIN_REF },
        { HUB_FAULT_ROUTE_FUNCTIONS, ROUTE_BREAK_ABS },
        { HUB_FAULT_ROUTE_QUERY_TRUE, ROUTE_BREAK_UNDEF_ROUTES },
        { HUB_FAULT_ROUTE_TYPE_FUNCTIONS, ROUTE_BREAK_IS_ARRAY },
        { HUB_FAULT_ROUTE_BODY_WHOLE, ROUTE_BREAK_WHOLE_INDEX },
        { HUB_FAULT_ROUTE_PERIOD_NAMES, ROUTE_BREAK_PERIOD_NAMES },
    };
    for (size_t i = 0; i < sizeof route_breaks / sizeof route_breaks[0]; i++)
        if (hub_faults_on(f, route_breaks[i].f))
            o.breaks |= route_breaks[i].bit;
    route_load_error_t err;
    memset(&err, 0, sizeof err);
    if (route_table_load(hub->cfg.routing, &o, &hub->routes, &err) != HS_EOK) {
        if (why)
            snprintf(why, cap, "routing: %s: %s", err.where, err.message);
        return HS_EINVAL;
    }
    hub->route_eps_cap = route_table_endpoint_count(hub->routes);
    if (hub->route_eps_cap == 0)
        hub->route_eps_cap = 1;
    hub->route_eps = calloc(hub->route_eps_cap, sizeof *hub->route_eps);
    if (!hub->route_eps)
        return HS_ENOMEM;
    for (unsigned i = 0; i < (unsigned)HUB_SYS__COUNT; i++) {
        const char *q = hub_msg_sys_query_name((hub_msg_sys_t)i);
        hub->sys_to_route[i] = q ? route_sysprop_lookup(q, strlen(q)) : -1;
    }
    hub_events_setup(hub);
    return HS_EOK;
}

/* ---- lifecycle ------------------------------------------------------------- */

hs_err_t hub_new(sim_kernel_t *k, const hub_config_t *cfg, hub_t **out, char *why, size_t cap)
{
    if (why && cap)
        why[0] = '\0';
    if (!k || !out)
        return HS_EINVAL;
    *out = NULL;
    hub_t *hub = calloc(1, sizeof *hub);
    if (!hub)
        return HS_ENOMEM;
    hub->k = k;
    hub->signer = hub_sas_signer_new(); /* NULL is fine: slower, same result */
    hub->epoch = sim_kernel_epoch(k);
    hub->conn_free = HUB_NONE;
    hub->quota_day = -1;
    hs_err_t e = HS_EOK;
    if (cfg)
        e = hub_config_copy(&hub->cfg, cfg);
    else
        hub_config_defaults(&hub->cfg);
    if (e != HS_EOK) {
        hub_config_defaults(&hub->cfg);
        hub_free(hub);
        return e;
    }
    twin_limits_setup(hub);
    throttle_setup(hub);
    if ((e = hub_registry_init(hub)) != HS_EOK || (e = hub_methods_init(hub)) != HS_EOK ||
        (e = c2d_setup(hub, why, cap)) != HS_EOK || (e = routes_setup(hub, why, cap)) != HS_EOK ||
        (e = hub_registry_provision(hub, &hub->cfg, why, cap)) != HS_EOK ||
        (e = hub_gw_provision(hub, &hub->cfg, why, cap)) != HS_EOK) {
        hub_free(hub);
        return e;
    }
    *out = hub;
    return HS_EOK;
}

void hub_free(hub_t *hub)
{
    if (!hub)
        return;
    hub_methods_release(hub);
    hub_uploads_free(hub->uploads);
    hub_io_free(hub);
    hub_gw_free(hub);
    hub_c2d_free(hub->c2d);
    for (uint32_t i = 0; i < hub->ntwins; i++)
        hub_twin_free(hub->twins[i]);
    free(hub->twins);
    route_table_free(hub->routes);
    free(hub->ep_down);
    free(hub->route_props);
    free(hub->route_eps);
    hub_conn_release(hub);
    hub_registry_release(hub);
    hub_config_free(&hub->cfg);
    hub_sas_signer_free(hub->signer);
    free(hub);
}

sim_kernel_t *hub_kernel(hub_t *hub)
{
    return hub ? hub->k : NULL;
}

const hub_config_t *hub_config(const hub_t *hub)
{
    return hub ? &hub->cfg : NULL;
}

hs_err_t hub_break(hub_t *hub, const char *name)
{
    if (!hub || !name)
        return HS_EINVAL;
    hub_fault_t f;
    hs_err_t e = hub_fault_lookup(name, &f);
    if (e)
        return e;
    hub_faults_arm(&hub->faults, f);
    sim_tf_t tf[] = { TF_STR("switch", name) };
    sim_kernel_emit(hub->k, "hub.break", tf, 1);
    /* Switches baked into a facility's configuration rebuild it.  The C2D
     * store is rebuilt only while it is still empty. */
    throttle_setup(hub);
    twin_limits_setup(hub);
    if (f == HUB_FAULT_ROUTE_SYSPROP || f == HUB_FAULT_ROUTE_TYPE_FUNCTIONS ||
        f == HUB_FAULT_ROUTE_BODY_GATING || f == HUB_FAULT_ROUTE_CASE_INSENSITIVE ||
        f == HUB_FAULT_ROUTE_THREE_VALUED || f == HUB_FAULT_ROUTE_TWIN_REF ||
        f == HUB_FAULT_ROUTE_FUNCTIONS || f == HUB_FAULT_ROUTE_QUERY_TRUE ||
        f == HUB_FAULT_ROUTE_BODY_WHOLE || f == HUB_FAULT_ROUTE_PERIOD_NAMES) {
        /* the route options are bound into the compiled conditions: reload */
        route_table_free(hub->routes);
        hub->routes = NULL;
        free(hub->route_eps);
        hub->route_eps = NULL;
        return routes_setup(hub, NULL, 0);
    }
    if (f == HUB_FAULT_C2D_QUEUE_DEPTH || f == HUB_FAULT_C2D_QUEUE_DEPTH_OBO ||
        f == HUB_FAULT_C2D_SIZE_LIMIT || f == HUB_FAULT_C2D_SIZE_LIMIT_OBO ||
        f == HUB_FAULT_MSG_PROP_CHARSET || f == HUB_FAULT_MSG_MESSAGEID || f == HUB_FAULT_C2D_TTL || f == HUB_FAULT_C2D_TTL_OBO ||
        f == HUB_FAULT_C2D_LOCK || f == HUB_FAULT_C2D_LOCK_OBO || f == HUB_FAULT_C2D_DELIVERY_COUNT ||
        f == HUB_FAULT_C2D_DELIVERY_COUNT_OBO || f == HUB_FAULT_C2D_FEEDBACK_BATCH ||
        f == HUB_FAULT_C2D_FEEDBACK_BATCH_OBO) {
        hub_c2d_stats_t st;
        hub_c2d_stats(hub->c2d, &st);
        if (st.enqueued || st.refused)
            return HS_ESTATE;
        return c2d_setup(hub, NULL, 0);
    }
    return HS_EOK;
}

const hub_faults_t *hub_faults(const hub_t *hub)
{
    return hub ? &hub->faults : NULL;
}

/* ---- C2D ------------------------------------------------------------------ */

static hub_err_t conn_device(hub_t *hub, hub_conn_t conn, uint32_t *rec)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    /* Modules have no cloud-to-device queue. */
    if (hub->recs[s->rec].parent != HUB_NONE)
        return HUB_EARGUMENT_INVALID;
    *rec = s->rec;
    return HUB_EOK;
}

hub_err_t hub_c2d_send(hub_t *hub, const char *device_id, hub_msg_t *msg, sim_time_t ttl,
                       uint64_t *seq_out)
{
    if (!hub || !device_id || !msg)
        return HUB_EARGUMENT_NULL;
    uint32_t rec = hub_registry_find(hub, device_id, NULL);
    hub_err_t e;
    if (rec == HUB_NONE) {
        e = HUB_EDEVICE_NOT_FOUND;
    } else if (!hub_bucket_take(&hub->b_c2d, sim_kernel_now(hub->k), 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_C2D, 1);
        e = HUB_ETHROTTLED;
    } else {
        char gen[HUB_GENERATION_ID_CAP];
        hub_rec_generation_id(hub, &hub->recs[rec], gen, sizeof gen);
        e = hub_c2d_enqueue(hub->c2d, rec, device_id, gen, msg, ttl, seq_out);
    }
    hub_ledger_add(&hub->ledger, e == HUB_EOK ? HUB_L_C2D_SENT : HUB_L_C2D_REFUSED, 1);
    return e;
}

hub_err_t hub_c2d_purge_device(hub_t *hub, const char *device_id, size_t *n_out)
{
    if (!hub || !device_id)
        return HUB_EARGUMENT_NULL;
    uint32_t rec = hub_registry_find(hub, device_id, NULL);
    if (rec == HUB_NONE)
        return HUB_EDEVICE_NOT_FOUND;
    return hub_c2d_purge(hub->c2d, rec, n_out);
}

void hub_set_feedback_sink(hub_t *hub, void (*fn)(void *ctx, const hub_c2d_fb_batch_t *b),
                           void *ctx)
{
    if (!hub)
        return;
    hub->fb_fn = fn;
    hub->fb_ctx = ctx;
}

hub_c2d_t *hub_c2d_store(hub_t *hub)
{
    return hub ? hub->c2d : NULL;
}

hub_err_t hub_device_c2d_receive(hub_t *hub, hub_conn_t conn, hub_c2d_delivery_t *out)
{
    uint32_t rec;
    hub_err_t e = conn_device(hub, conn, &rec);
    return e ? e : hub_c2d_receive(hub->c2d, rec, out);
}

hub_err_t hub_device_c2d_complete(hub_t *hub, hub_conn_t conn, const char *lock_token)
{
    uint32_t rec;
    hub_err_t e = conn_device(hub, conn, &rec);
    return e ? e : hub_c2d_complete(hub->c2d, rec, lock_token);
}

hub_err_t hub_device_c2d_reject(hub_t *hub, hub_conn_t conn, const char *lock_token)
{
    uint32_t rec;
    hub_err_t e = conn_device(hub, conn, &rec);
    if (!e && hub_faults_on(&hub->faults, HUB_FAULT_C2D_SETTLE))
        return hub_c2d_complete(hub->c2d, rec, lock_token);
    return e ? e : hub_c2d_reject(hub->c2d, rec, lock_token);
}

hub_err_t hub_device_c2d_abandon(hub_t *hub, hub_conn_t conn, const char *lock_token)
{
    uint32_t rec;
    hub_err_t e = conn_device(hub, conn, &rec);
    return e ? e : hub_c2d_abandon(hub->c2d, rec, lock_token);
}

/* ---- endpoints and bookkeeping ------------------------------------------- */

void hub_set_endpoint_sink(hub_t *hub, const hub_endpoint_ops_t *ops, void *ctx)
{
    if (!hub)
        return;
    hub->ep_ops = ops;
    hub->ep_ctx = ctx;
}

const char *hub_counter_name(size_t i)
{
    return i < (size_t)HUB_L__COUNT ? hub_ledger_name((hub_ledger_counter_t)i) : NULL;
}

uint64_t hub_counter_value(const hub_t *hub, size_t i)
{
    return hub && i < (size_t)HUB_L__COUNT ? hub->ledger.n[i] : 0;
}

/* ---- run-time switches ---------------------------------------------------- */

hs_err_t hub_set_throttling(hub_t *hub, hub_config_throttle_profile_t profile, uint32_t units)
{
    if (!hub || (profile != HUB_THROTTLE_OFF && profile != HUB_THROTTLE_S1) || units < 1 ||
        units > 200)
        return HS_EINVAL;
    hub->cfg.throttling.profile = profile;
    if (units != hub->cfg.throttling.units) {
        /* Rates scale with units: recompute them from the S1 figures. */
        hub->cfg.throttling.units = units;
        hub->cfg.throttling.d2c_milli_per_sec = 0;
        hub->cfg.throttling.c2d_milli_per_sec = 0;
        hub->cfg.throttling.twin_read_milli_per_sec = 0;
        hub->cfg.throttling.twin_update_milli_per_sec = 0;
        hub->cfg.throttling.connect_milli_per_sec = 0;
        hub->cfg.throttling.method_bytes_per_sec = 0;
    }
    throttle_setup(hub);
    /* Buckets are relative to "now": start them full at this instant. */
    sim_time_t now = sim_kernel_now(hub->k);
    hub->b_d2c.last = hub->b_c2d.last = hub->b_twin_read.last = now;
    hub->b_twin_update.last = hub->b_connect.last = hub->b_method.last = now;
    sim_tf_t f[] = { TF_STR("profile", profile == HUB_THROTTLE_S1 ? "s1" : "off"),
                     TF_INT("units", units) };
    sim_kernel_emit(hub->k, "hub.throttling", f, 2);
    return HS_EOK;
}

hs_err_t hub_set_method_delay(hub_t *hub, sim_time_t delay)
{
    if (!hub)
        return HS_EINVAL;
    hub->method_delay = delay;
    sim_tf_t f[] = { TF_INT("delay_ns", (int64_t)delay) };
    sim_kernel_emit(hub->k, "hub.method_delay", f, 1);
    return HS_EOK;
}

hs_err_t hub_set_endpoint_reachable(hub_t *hub, const char *endpoint, bool reachable)
{
    if (!hub || !endpoint)
        return HS_EINVAL;
    long i = route_table_endpoint_find(hub->routes, endpoint);
    if (i < 0)
        return HS_ENOTFOUND;
    size_t n = route_table_endpoint_count(hub->routes);
    if (!hub->ep_down) {
        hub->ep_down = calloc(n ? n : 1, 1);
        if (!hub->ep_down)
            return HS_ENOMEM;
        hub->ep_down_cap = n;
    }
    hub->ep_down[i] = reachable ? 0 : 1;
    sim_tf_t f[] = { TF_STR("endpoint", endpoint), TF_BOOL("reachable", reachable) };
    sim_kernel_emit(hub->k, "hub.endpoint", f, 2);
    return HS_EOK;
}

hub_err_t hub_device_drop(hub_t *hub, const char *device_id, const char *module_id,
                          const char *reason)
{
    if (!hub || !device_id)
        return HUB_EARGUMENT_NULL;
    const char *m = (module_id && module_id[0]) ? module_id : NULL;
    uint32_t rec = hub_registry_find(hub, device_id, m);
    if (rec == HUB_NONE)
        return (m && hub_registry_find(hub, device_id, NULL) != HUB_NONE) ? HUB_EMODULE_NOT_FOUND
                                                                         : HUB_EDEVICE_NOT_FOUND;
    hub_conn_drop_rec(hub, rec, HUB_ESERVER_ERROR, reason ? reason : "dropped by the hub",
                      HUB_L_CONN_DROPPED_FAULT);
    return HUB_EOK;
}

uint64_t hub_counter(const hub_t *hub, const char *name)
{
    hub_ledger_counter_t c;
    if (!hub || hub_ledger_lookup(name, &c) != HS_EOK)
        return 0;
    return hub->ledger.n[c];
}

hs_err_t hub_check(const hub_t *hub, char *why, size_t cap)
{
    if (!hub)
        return HS_EINVAL;
    hs_err_t e = hub_ledger_check(&hub->ledger, hub->in_progress, why, cap);
    if (e)
        return e;
    if ((e = hub_gw_check(hub, why, cap)) != HS_EOK)
        return e;
    return hub_c2d_check(hub->c2d, why, cap);
}

void hub_counters_write(const hub_t *hub, FILE *f)
{
    hub_ledger_write(&hub->ledger, f);
}
