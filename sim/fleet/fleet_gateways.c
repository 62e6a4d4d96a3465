/* Field gateways in the fleet: gateway groups are IoT Edge devices, leaf groups connect through their gateway's connection and go offline with it.
 *
 * Leaf device n of a group behind gateway group G is the child of gateway
 * device n mod count(G): registered with that parent (deviceScope), and
 * connected as a sub-connection of the gateway's connection
 * (hub_gateway_leaf_connect through fleet_port_ops_t.leaf_connect).  A leaf
 * is held offline (HOLD_GATEWAY) while its gateway is offline; the hub
 * itself drops the leaves' connections when the gateway's goes away, and a
 * leaf the hub leaves open is counted as stranded (a hub bug the scenario
 * can assert on).  When the gateway reconnects its leaves reconnect at once.
 * Nothing here runs unless a scenario group says "gateway" or "behind".
 */
#include "fleet_internal.h"

#include <stdlib.h>
#include <string.h>

static const scn_group_t *group_of(const struct fleet *f, uint32_t dev)
{
    return &f->s->groups[f->devices[dev].group];
}

hs_err_t fleet_gateways_init(struct fleet *f, char *why, size_t cap)
{
    for (size_t g = 0; g < f->s->ngroups; g++)
        if (f->s->groups[g].gateway || f->s->groups[g].behind)
            f->gateways = true;
    if (!f->gateways)
        return HS_EOK;
    if (f->opt.shard_count > 1) {
        snprintf(why, cap, "field gateways: a scenario with gateway groups runs in one shard "
                           "(a leaf and its gateway must share one hub)");
        return HS_EUNSUPPORTED;
    }
    f->c2d_leaf = UINT32_MAX;
    f->leaf_down_since = calloc(f->ndevices ? f->ndevices : 1, sizeof *f->leaf_down_since);
    f->leaf_c2d_waiting = calloc(f->ndevices ? f->ndevices : 1, sizeof *f->leaf_c2d_waiting);
    if (!f->leaf_down_since || !f->leaf_c2d_waiting || report_result_hist(f->result, "gateway.leaf_offline", &f->leaf_offline) != HS_EOK)
        return HS_ENOMEM;
    return HS_EOK;
}

void fleet_gateways_free(struct fleet *f)
{
    free(f->leaf_down_since);
    free(f->leaf_c2d_waiting);
    f->leaf_down_since = NULL;
    f->leaf_c2d_waiting = NULL;
}

bool fleet_is_leaf(const struct fleet *f, uint32_t dev)
{
    return f->gateways && group_of(f, dev)->behind != NULL;
}

uint32_t fleet_leaf_gateway(const struct fleet *f, uint32_t dev)
{
    const scn_group_t *g = group_of(f, dev);
    size_t gi = g->behind_index;
    return (uint32_t)(f->group_first[gi] + fleet_device_n(f, dev) % f->s->groups[gi].count);
}

void fleet_gateway_spec(struct fleet *f, uint32_t dev, hub_identity_spec_t *spec, char *parent, size_t cap)
{
    if (!f->gateways)
        return;
    const scn_group_t *g = group_of(f, dev);
    if (g->gateway) {
        spec->has_iot_edge = true;
        spec->iot_edge = true;
    }
    if (g->behind)
        spec->parent_id = fleet_device_id(f, fleet_leaf_gateway(f, dev), parent, cap);
}

/* Call fn for each leaf of gateway device gw, in group then index order. */
static void for_each_leaf(struct fleet *f, uint32_t gw, void (*fn)(struct fleet *f, uint32_t leaf))
{
    uint32_t gg = f->devices[gw].group;
    uint64_t gcount = f->s->groups[gg].count, gn = fleet_device_n(f, gw);
    for (size_t l = 0; l < f->s->ngroups; l++) {
        const scn_group_t *lg = &f->s->groups[l];
        if (!lg->behind || lg->behind_index != gg)
            continue;
        for (uint64_t n = gn; n < f->group_count[l]; n += gcount)
            fn(f, (uint32_t)(f->group_first[l] + n));
    }
}

bool fleet_gateway_connect(struct fleet *f, uint32_t dev, const char *id, bool bad_key, bool expired)
{
    if (!fleet_is_leaf(f, dev))
        return false;
    fleet_device_t *d = &f->devices[dev];
    uint32_t gw = fleet_leaf_gateway(f, dev);
    if (f->devices[gw].state != DEV_ONLINE) {
        /* Its gateway went away meanwhile: wait for it. */
        d->state = DEV_OFFLINE;
        d->hold = (uint8_t)(d->hold | HOLD_GATEWAY);
        fleet_count(f, "gateway.leaf_connect_waits", 1);
        return true;
    }
    if (!f->port->leaf_connect) {
        fleet_count(f, "gateway.unsupported", 1);
        fleet_port_connected(f, dev, (fleet_port_result_t){ FLEET_PORT_UNSUPPORTED, 0,
                                                            "this port cannot connect leaves through a gateway" });
        return true;
    }
    f->port->leaf_connect(f->port_ctx, dev, gw, id, bad_key, expired);
    return true;
}

static void release_leaf(struct fleet *f, uint32_t leaf)
{
    fleet_device_hold(f, leaf, HOLD_GATEWAY, false);
}

static void hold_leaf(struct fleet *f, uint32_t leaf)
{
    fleet_device_t *d = &f->devices[leaf];
    d->hold = (uint8_t)(d->hold | HOLD_GATEWAY);
    if (d->state == DEV_ONLINE)
        f->leaf_stranded++; /* the hub kept the leaf's sub-connection open */
}

void fleet_gateway_online(struct fleet *f, uint32_t dev)
{
    if (!f->gateways)
        return;
    const scn_group_t *g = group_of(f, dev);
    if (g->behind && f->leaf_down_since[dev]) {
        report_hist_record(f->leaf_offline, sim_kernel_now(f->k) - (f->leaf_down_since[dev] - 1));
        f->leaf_down_since[dev] = 0;
    }
    if (g->gateway)
        for_each_leaf(f, dev, release_leaf);
}

void fleet_gateway_offline(struct fleet *f, uint32_t dev, bool was_online)
{
    if (!f->gateways || !was_online)
        return;
    const scn_group_t *g = group_of(f, dev);
    if (g->behind) {
        f->leaf_drops++;
        f->leaf_down_since[dev] = sim_kernel_now(f->k) + 1;
    }
    if (g->gateway) {
        f->gateway_outages++;
        for_each_leaf(f, dev, hold_leaf);
    }
}

/* The in-process port answers a C2D send before c2d_send returns, so the
 * leaf it was for is known in the completion (a live port answers later:
 * not counted there). */
void fleet_gateway_c2d_sending(struct fleet *f, uint32_t dev)
{
    if (!f->gateways)
        return;
    f->c2d_leaf = UINT32_MAX;
    if (dev != UINT32_MAX && fleet_is_leaf(f, dev) && f->devices[fleet_leaf_gateway(f, dev)].state != DEV_ONLINE)
        f->c2d_leaf = dev;
}

void fleet_gateway_c2d_accepted(struct fleet *f)
{
    if (!f->gateways || f->c2d_leaf == UINT32_MAX)
        return;
    f->leaf_c2d_waiting[f->c2d_leaf]++;
    f->leaf_c2d_queued++;
    f->c2d_leaf = UINT32_MAX;
}

void fleet_gateway_c2d_received(struct fleet *f, uint32_t dev)
{
    if (!f->gateways || !f->leaf_c2d_waiting[dev])
        return;
    f->leaf_c2d_waiting[dev]--;
    f->leaf_c2d_after_reconnect++;
}

void fleet_gateways_finish(struct fleet *f)
{
    if (!f->gateways)
        return;
    fleet_count(f, "gateway.leaf_c2d_queued_gateway_down", (int64_t)f->leaf_c2d_queued);
    fleet_count(f, "gateway.leaf_c2d_after_reconnect", (int64_t)f->leaf_c2d_after_reconnect);
    fleet_count(f, "gateway.outages", (int64_t)f->gateway_outages);
    fleet_count(f, "gateway.leaf_drops", (int64_t)f->leaf_drops);
    fleet_count(f, "gateway.leaf_stranded", (int64_t)f->leaf_stranded);
    uint64_t offline = 0;
    for (uint32_t dev = 0; dev < f->ndevices; dev++)
        if (fleet_is_leaf(f, dev) && f->devices[dev].state != DEV_ONLINE)
            offline++;
    fleet_count(f, "gateway.leaves_offline_at_end", (int64_t)offline);
}
