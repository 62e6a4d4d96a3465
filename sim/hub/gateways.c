/* Field gateways: the leaf/gateway scope relation of the registry and leaf sub-connections carried on a gateway's connection. */
#include <stdlib.h>
#include <string.h>
#include "auth.h"
#include "hub_internal.h"

/*
 * Side tables, made the first time a gateway fact is set (an iotEdge flag,
 * a parent, a leaf sub-connection), so a hub that never sees a gateway
 * keeps its 48-byte records and its trace unchanged.
 *
 * Per identity record: edge (capabilities.iotEdge) and parent (the
 * gateway device record + 1: the leaf's deviceScope).  Records are never
 * reused, so a re-created gateway (new generationId, new scope) is a new
 * record and its old leaves' scope no longer names it, as in the cloud
 * where the scope text carries the generationId [doc].
 *
 * Per connection slot: via (the gateway slot + 1 for a leaf
 * sub-connection; ORPHAN once its gateway is gone and the leaf is about to
 * be dropped) and the gateway's leaf list (first/next/prev, slot + 1), so a
 * gateway drop walks only its own leaves, in list order (deterministic).
 */

#define ORPHAN UINT32_MAX

struct hub_gw {
    uint8_t *edge;      /* per record */
    uint32_t *parent;   /* per record: gateway device record + 1, 0 = none */
    uint32_t rec_cap;
    uint32_t *via;      /* per slot */
    uint32_t *first, *next, *prev; /* per slot */
    uint32_t slot_cap;
    uint64_t live_leaves;
};

#define SCOPE_PREFIX "ms-azure-iot-edge://"

static void *grow(void *p, size_t elem, uint32_t old_n, uint32_t new_n)
{
    unsigned char *n = realloc(p, (size_t)new_n * elem);
    if (n)
        memset(n + (size_t)old_n * elem, 0, (size_t)(new_n - old_n) * elem);
    return n;
}

static struct hub_gw *gw_get(hub_t *hub)
{
    if (!hub->gw)
        hub->gw = calloc(1, sizeof *hub->gw);
    return hub->gw;
}

static bool gw_recs(hub_t *hub, uint32_t need)
{
    struct hub_gw *g = gw_get(hub);
    if (!g)
        return false;
    if (need <= g->rec_cap)
        return true;
    uint32_t cap = g->rec_cap ? g->rec_cap : 64;
    while (cap < need)
        cap *= 2;
    uint8_t *e = grow(g->edge, 1, g->rec_cap, cap);
    if (!e)
        return false;
    g->edge = e;
    uint32_t *p = grow(g->parent, sizeof *p, g->rec_cap, cap);
    if (!p)
        return false;
    g->parent = p;
    g->rec_cap = cap;
    return true;
}

static bool gw_slots(hub_t *hub, uint32_t need)
{
    struct hub_gw *g = gw_get(hub);
    if (!g)
        return false;
    if (need <= g->slot_cap)
        return true;
    uint32_t cap = g->slot_cap ? g->slot_cap : 64;
    while (cap < need)
        cap *= 2;
    uint32_t **arrs[] = { &g->via, &g->first, &g->next, &g->prev };
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) {
        uint32_t *n = grow(*arrs[i], sizeof(uint32_t), g->slot_cap, cap);
        if (!n)
            return false;
        *arrs[i] = n;
    }
    g->slot_cap = cap;
    return true;
}

void hub_gw_free(hub_t *hub)
{
    struct hub_gw *g = hub->gw;
    if (!g)
        return;
    free(g->edge);
    free(g->parent);
    free(g->via);
    free(g->first);
    free(g->next);
    free(g->prev);
    free(g);
    hub->gw = NULL;
}

bool hub_gw_is_edge(const hub_t *hub, uint32_t rec)
{
    const struct hub_gw *g = hub->gw;
    return g && rec < g->rec_cap && g->edge[rec];
}

static uint32_t gw_parent(const hub_t *hub, uint32_t rec)
{
    const struct hub_gw *g = hub->gw;
    if (!g || rec >= g->rec_cap || !g->parent[rec])
        return HUB_NONE;
    uint32_t p = g->parent[rec] - 1;
    return hub->recs[p].deleted ? HUB_NONE : p;
}

/* ---- registry fields -------------------------------------------------------- */

static void scope_text(const hub_t *hub, uint32_t rec, char *buf, size_t cap)
{
    char dev[HUB_CONFIG_ID_MAX + 1], gen[HUB_GENERATION_ID_CAP];
    hub_rec_ids(hub, &hub->recs[rec], dev, sizeof dev, NULL, 0);
    hub_rec_generation_id(hub, &hub->recs[rec], gen, sizeof gen);
    snprintf(buf, cap, SCOPE_PREFIX "%s-%s", dev, gen);
}

void hub_gw_fill(const hub_t *hub, uint32_t rec, hub_identity_t *out)
{
    if (!hub->gw || hub->recs[rec].parent != HUB_NONE)
        return;
    out->iot_edge = hub_gw_is_edge(hub, rec);
    uint32_t p = gw_parent(hub, rec);
    if (p != HUB_NONE) {
        hub_rec_ids(hub, &hub->recs[p], out->parent_id, sizeof out->parent_id, NULL, 0);
        scope_text(hub, p, out->parent_scope, sizeof out->parent_scope);
    }
    /* An edge device's scope is its own [doc]; a leaf's is its parent's. */
    if (out->iot_edge)
        scope_text(hub, rec, out->device_scope, sizeof out->device_scope);
    else if (p != HUB_NONE)
        snprintf(out->device_scope, sizeof out->device_scope, "%s", out->parent_scope);
}

hub_err_t hub_gw_check_spec(hub_t *hub, uint32_t rec, const hub_identity_spec_t *spec,
                            bool is_create)
{
    bool is_module = spec->module_id && spec->module_id[0];
    bool sets_edge = is_create ? spec->iot_edge : (spec->has_iot_edge && spec->iot_edge);
    bool sets_parent = spec->parent_id && spec->parent_id[0];
    if (is_module && (sets_edge || sets_parent))
        return HUB_EARGUMENT_INVALID; /* scopes are device facts [doc] */
    if (!sets_parent)
        return HUB_EOK;
    uint32_t p = hub_registry_find(hub, spec->parent_id, NULL);
    if (p == HUB_NONE || p == rec || strcmp(spec->parent_id, spec->device_id) == 0)
        return HUB_EARGUMENT_INVALID;
    if (!hub_gw_is_edge(hub, p) && !hub_faults_on(&hub->faults, HUB_FAULT_GATEWAY_SCOPE_REGISTRY))
        return HUB_EARGUMENT_INVALID; /* the parent must be an IoT Edge device [doc] */
    /* Nested edge devices: no cycle (the chain is at most nrecs long). */
    uint32_t up = p;
    for (uint32_t steps = 0; up != HUB_NONE && steps <= hub->nrecs; steps++) {
        if (up == rec)
            return HUB_EARGUMENT_INVALID;
        up = gw_parent(hub, up);
    }
    return HUB_EOK;
}

hs_err_t hub_gw_apply_spec(hub_t *hub, uint32_t rec, const hub_identity_spec_t *spec,
                           bool is_create)
{
    bool edge_given = is_create ? spec->iot_edge : spec->has_iot_edge;
    bool parent_given = spec->parent_id != NULL && (!is_create || spec->parent_id[0]);
    if (!edge_given && !parent_given)
        return HS_EOK;
    if (!hub->gw && !spec->iot_edge && !(spec->parent_id && spec->parent_id[0]))
        return HS_EOK; /* clearing what was never set */
    if (!gw_recs(hub, hub->nrecs))
        return HS_ENOMEM;
    struct hub_gw *g = hub->gw;
    if (edge_given)
        g->edge[rec] = spec->iot_edge ? 1 : 0;
    if (parent_given) {
        uint32_t p = spec->parent_id[0] ? hub_registry_find(hub, spec->parent_id, NULL) : HUB_NONE;
        g->parent[rec] = p == HUB_NONE ? 0 : p + 1;
    }
    return HS_EOK;
}

/* After the registry is provisioned from the config: flags first, parents
 * second (a parent may come after its child in the file). */
hs_err_t hub_gw_provision(hub_t *hub, const hub_config_t *cfg, char *why, size_t cap)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cfg->n_devices; i++) {
            const hub_config_device_t *d = &cfg->devices[i];
            if (pass == 0 ? !d->iot_edge : !d->parent_id[0])
                continue;
            uint32_t rec = hub_registry_find(hub, d->id, NULL);
            hub_identity_spec_t s;
            memset(&s, 0, sizeof s);
            s.device_id = d->id;
            s.has_iot_edge = pass == 0;
            s.iot_edge = d->iot_edge;
            s.parent_id = pass == 1 ? d->parent_id : NULL;
            hub_err_t e = rec == HUB_NONE ? HUB_EDEVICE_NOT_FOUND : hub_gw_check_spec(hub, rec, &s, false);
            if (e == HUB_EOK && hub_gw_apply_spec(hub, rec, &s, false) != HS_EOK)
                e = HUB_ESERVER_ERROR;
            if (e) {
                if (why)
                    snprintf(why, cap, "devices[%zu] \"%s\": %s", i, d->id,
                             pass == 0 ? hub_error_info(e)->message : "parent is not an IoT Edge device");
                return e == HUB_ESERVER_ERROR ? HS_ENOMEM : HS_EINVAL;
            }
        }
    }
    return HS_EOK;
}

hub_err_t hub_gateway_scope_device(hub_t *hub, const char *scope, char *device_id, size_t cap)
{
    if (!hub || !scope)
        return HUB_EARGUMENT_NULL;
    size_t plen = strlen(SCOPE_PREFIX);
    const char *dash = strrchr(scope, '-');
    if (strncmp(scope, SCOPE_PREFIX, plen) != 0 || !dash || dash <= scope + plen ||
        (size_t)(dash - scope - plen) > HUB_CONFIG_ID_MAX)
        return HUB_EARGUMENT_INVALID;
    char dev[HUB_CONFIG_ID_MAX + 1];
    memcpy(dev, scope + plen, (size_t)(dash - scope - plen));
    dev[dash - scope - plen] = '\0';
    uint32_t rec = hub_registry_find(hub, dev, NULL);
    if (rec == HUB_NONE || !hub_gw_is_edge(hub, rec))
        return HUB_EDEVICE_NOT_FOUND;
    char want[HUB_SCOPE_CAP];
    scope_text(hub, rec, want, sizeof want);
    if (strcmp(want, scope) != 0)
        return HUB_EDEVICE_NOT_FOUND; /* an older generation's scope */
    if (device_id)
        snprintf(device_id, cap, "%s", dev);
    return HUB_EOK;
}

/* ---- leaf sub-connections ------------------------------------------------- */

void hub_gw_slot_released(hub_t *hub, uint32_t slot, bool dropped)
{
    struct hub_gw *g = hub->gw;
    if (slot >= g->slot_cap || !g->via[slot])
        return;
    uint32_t via = g->via[slot];
    if (via == ORPHAN) {
        hub_ledger_add(&hub->ledger, HUB_L_GATEWAY_LEAF_DROPPED_GATEWAY, 1);
    } else {
        uint32_t gs = via - 1, nx = g->next[slot], pv = g->prev[slot];
        if (pv)
            g->next[pv - 1] = nx;
        else
            g->first[gs] = nx;
        if (nx)
            g->prev[nx - 1] = pv;
        hub_ledger_add(&hub->ledger,
                       dropped ? HUB_L_GATEWAY_LEAF_DROPPED_OTHER : HUB_L_GATEWAY_LEAF_CLOSED, 1);
    }
    g->via[slot] = g->next[slot] = g->prev[slot] = 0;
    g->live_leaves--;
}

size_t hub_gw_take_leaves(hub_t *hub, uint32_t slot, hub_conn_t **out)
{
    struct hub_gw *g = hub->gw;
    *out = NULL;
    if (slot >= g->slot_cap || !g->first[slot])
        return 0;
    size_t n = 0;
    for (uint32_t s = g->first[slot]; s; s = g->next[s - 1])
        n++;
    hub_conn_t *h = malloc(n * sizeof *h);
    bool keep_online = hub_faults_on(&hub->faults, HUB_FAULT_GATEWAY_LEAF_OFFLINE);
    size_t i = 0;
    for (uint32_t s = g->first[slot], nx; s; s = nx) {
        nx = g->next[s - 1];
        if (h)
            h[i++] = hub_conn_handle(hub, s - 1);
        g->next[s - 1] = g->prev[s - 1] = 0;
        if (keep_online || !h) {
            /* broken hub: the leaf becomes an ordinary connection */
            g->via[s - 1] = 0;
            g->live_leaves--;
            hub_ledger_add(&hub->ledger, HUB_L_GATEWAY_LEAF_DROPPED_GATEWAY, 1);
        } else {
            g->via[s - 1] = ORPHAN;
        }
    }
    g->first[slot] = 0;
    if (keep_online || !h) {
        free(h);
        return 0;
    }
    *out = h;
    return n;
}

void hub_gw_drop_leaves(hub_t *hub, hub_conn_t *leaves, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hub_conn_slot_t *s = hub_conn_get(hub, leaves[i]);
        if (!s)
            continue; /* closed from inside an earlier leaf's callback */
        uint32_t rec = s->rec;
        if (hub->recs[rec].conn == (uint32_t)(s - hub->conns) + 1)
            hub_conn_drop_rec(hub, rec, HUB_ESERVER_ERROR, "gateway connection closed",
                              HUB_L_CONN_DROPPED_GATEWAY);
        /* Broken hub: the leaf's queued C2D messages go with its gateway. */
        if (hub_faults_on(&hub->faults, HUB_FAULT_GATEWAY_C2D_QUEUE) && hub->c2d &&
            hub->recs[rec].parent == HUB_NONE)
            (void)hub_c2d_purge(hub->c2d, rec, NULL);
    }
    free(leaves);
}

static hub_err_t leaf_refused(hub_t *hub, const char *id, hub_ledger_counter_t why)
{
    if (why != HUB_L__COUNT)
        hub_ledger_add(&hub->ledger, why, 1);
    sim_tf_t f[] = { TF_STR("id", id), TF_STR("reason", why != HUB_L__COUNT ? hub_ledger_name(why) : "auth") };
    sim_kernel_emit(hub->k, "hub.leaf_refused", f, 2);
    return HUB_EUNAUTHORIZED_ACCESS;
}

/* Does the token's sr name the leaf itself (its own token) rather than the
 * gateway?  A token that does not parse counts as the leaf's (the normal
 * checks then refuse it with auth.malformed). */
static bool token_names_leaf(hub_t *hub, const hub_connect_params_t *leaf)
{
    hub_sas_t t;
    if (!leaf->sas_token || hub_sas_parse(leaf->sas_token, &t, NULL, 0) != HS_EOK)
        return true;
    char res[HUB_CONFIG_HOST_MAX + 2 * HUB_CONFIG_ID_MAX + 32];
    if (leaf->module_id && leaf->module_id[0])
        snprintf(res, sizeof res, "%s/devices/%s/modules/%s", hub->cfg.host, leaf->device_id,
                 leaf->module_id);
    else
        snprintf(res, sizeof res, "%s/devices/%s", hub->cfg.host, leaf->device_id);
    return hub_sas_scope_covers(t.sr, res, !t.has_skn);
}

hub_err_t hub_gateway_leaf_connect(hub_t *hub, hub_conn_t gateway, const hub_connect_params_t *leaf,
                                   const hub_sink_ops_t *ops, void *sink_ctx, hub_conn_t *out)
{
    if (!hub || !leaf || !leaf->device_id || !out)
        return HUB_EARGUMENT_NULL;
    *out = 0;
    hub_conn_slot_t *gs = hub_conn_get(hub, gateway);
    uint32_t gslot = gs ? (uint32_t)(gs - hub->conns) : HUB_NONE;
    if (!gs || hub->recs[gs->rec].conn != gslot + 1)
        return leaf_refused(hub, leaf->device_id, HUB_L_GATEWAY_REFUSED_GATEWAY_GONE);
    uint32_t grec = gs->rec;
    uint32_t gdev = hub->recs[grec].parent != HUB_NONE ? hub->recs[grec].parent : grec;
    if (!hub_gw_is_edge(hub, gdev) && !hub_faults_on(&hub->faults, HUB_FAULT_GATEWAY_EDGE_ONLY))
        return leaf_refused(hub, leaf->device_id, HUB_L_GATEWAY_REFUSED_NOT_EDGE);
    uint32_t lrec = hub_registry_find(hub, leaf->device_id, leaf->module_id);
    if (lrec == HUB_NONE) {
        hub_ledger_add(&hub->ledger, HUB_L_AUTH_UNKNOWN_IDENTITY, 1);
        return leaf_refused(hub, leaf->device_id, HUB_L__COUNT);
    }
    uint32_t ldev = hub->recs[lrec].parent != HUB_NONE ? hub->recs[lrec].parent : lrec;
    if (ldev == gdev || (gw_parent(hub, ldev) != gdev &&
                         !hub_faults_on(&hub->faults, HUB_FAULT_GATEWAY_SCOPE)))
        return leaf_refused(hub, leaf->device_id, HUB_L_GATEWAY_REFUSED_SCOPE);
    /* Whose token: the leaf's own (checked as any connect of the leaf) or
     * the gateway's on behalf of the leaf (checked against the gateway's
     * connected identity; the leaf must still be enabled). */
    bool own = token_names_leaf(hub, leaf);
    hub_config_leaf_auth_t mode = hub->cfg.gateways.leaf_auth;
    if ((own && mode == HUB_LEAF_AUTH_GATEWAY_TOKEN) || (!own && mode == HUB_LEAF_AUTH_LEAF_TOKEN))
        return leaf_refused(hub, leaf->device_id, HUB_L_GATEWAY_REFUSED_AUTH_MODE);
    bool x509 = false;
    hub_err_t e;
    if (own) {
        uint32_t r2;
        e = hub_device_authenticate(hub, leaf, &r2, &x509);
    } else {
        bool enabled = hub->recs[lrec].enabled && hub->recs[ldev].enabled;
        if (!enabled && !hub_faults_on(&hub->faults, HUB_FAULT_AUTH_DISABLED)) {
            hub_ledger_add(&hub->ledger, HUB_L_AUTH_DISABLED, 1);
            e = HUB_EUNAUTHORIZED_ACCESS;
        } else {
            e = hub_auth_check_device(hub, grec, leaf->sas_token);
        }
    }
    if (e)
        return leaf_refused(hub, leaf->device_id, HUB_L__COUNT);
    if (!gw_slots(hub, hub->nconns + 1))
        return HUB_ESERVER_ERROR;
    hub_conn_t h;
    /* gs may move when the slot pool grows: use the slot number. */
    e = hub_conn_open(hub, lrec, (hub_protocol_t)hub->conns[gslot].protocol, x509, ops, sink_ctx, &h);
    if (e)
        return e;
    uint32_t lslot = (uint32_t)(h & 0xffffffffu) - 1;
    if (!gw_slots(hub, hub->nconns)) {
        (void)hub_device_disconnect(hub, h);
        return HUB_ESERVER_ERROR;
    }
    struct hub_gw *g = hub->gw;
    g->via[lslot] = gslot + 1;
    g->prev[lslot] = 0;
    g->next[lslot] = g->first[gslot];
    if (g->first[gslot])
        g->prev[g->first[gslot] - 1] = lslot + 1;
    g->first[gslot] = lslot + 1;
    g->live_leaves++;
    hub_ledger_add(&hub->ledger, HUB_L_GATEWAY_LEAF_OPENED, 1);
    sim_tf_t f[] = { TF_STR("id", hub_str(hub, hub->recs[lrec].key_off)),
                     TF_STR("gateway", hub_str(hub, hub->recs[grec].key_off)) };
    sim_kernel_emit(hub->k, "hub.leaf_connect", f, 2);
    *out = h;
    return HUB_EOK;
}

hub_conn_t hub_gateway_of(const hub_t *hub, hub_conn_t conn)
{
    hub_conn_slot_t *s = hub_conn_get((hub_t *)hub, conn);
    const struct hub_gw *g = hub ? hub->gw : NULL;
    if (!s || !g)
        return 0;
    uint32_t slot = (uint32_t)(s - hub->conns);
    if (slot >= g->slot_cap || !g->via[slot] || g->via[slot] == ORPHAN)
        return 0;
    return hub_conn_handle(hub, g->via[slot] - 1);
}

size_t hub_gateway_leaf_count(const hub_t *hub, hub_conn_t gateway)
{
    hub_conn_slot_t *s = hub_conn_get((hub_t *)hub, gateway);
    const struct hub_gw *g = hub ? hub->gw : NULL;
    if (!s || !g)
        return 0;
    uint32_t slot = (uint32_t)(s - hub->conns);
    size_t n = 0;
    if (slot < g->slot_cap)
        for (uint32_t x = g->first[slot]; x; x = g->next[x - 1])
            n++;
    return n;
}

hs_err_t hub_gw_check(const hub_t *hub, char *why, size_t cap)
{
    const uint64_t *n = hub->ledger.n;
    uint64_t live = hub->gw ? hub->gw->live_leaves : 0;
    uint64_t out = n[HUB_L_GATEWAY_LEAF_CLOSED] + n[HUB_L_GATEWAY_LEAF_DROPPED_GATEWAY] +
                   n[HUB_L_GATEWAY_LEAF_DROPPED_OTHER] + live;
    if (n[HUB_L_GATEWAY_LEAF_OPENED] != out) {
        if (why)
            snprintf(why, cap,
                     "gateway.leaf_opened %llu != closed + dropped_gateway + dropped_other + live %llu",
                     (unsigned long long)n[HUB_L_GATEWAY_LEAF_OPENED], (unsigned long long)out);
        return HS_ESTATE;
    }
    return HS_EOK;
}
