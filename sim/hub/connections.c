/* Device connections: connect with SAS or X.509, one live connection per identity, subscriptions, drops. */
#include <stdlib.h>
#include <string.h>
#include "hub_internal.h"
#include "sim/hugemem.h"

static const char *const proto_names[] = { "mqtt", "amqp", "https" };

hub_conn_t hub_conn_handle(const hub_t *hub, uint32_t slot)
{
    return ((uint64_t)hub->conns[slot].gen << 32) | (uint64_t)(slot + 1);
}

hub_conn_slot_t *hub_conn_get(hub_t *hub, hub_conn_t c)
{
    uint32_t slot = (uint32_t)(c & 0xffffffffu);
    if (!hub || slot == 0 || slot > hub->nconns)
        return NULL;
    hub_conn_slot_t *s = &hub->conns[slot - 1];
    if (s->rec == HUB_NONE || s->gen != (uint32_t)(c >> 32))
        return NULL;
    return s;
}

_Static_assert(sizeof(hub_conn_slot_t) == 64, "a connection slot is one cache line");

/* The slot caches everything a device message needs (hub_internal.h), so
 * fetching it is enough; nothing here waits for memory. */
void hub_prefetch_conn(hub_t *hub, hub_conn_t conn)
{
    hub_prefetch_conn_slot(hub, conn);
}

void hub_prefetch_conn_slot(const hub_t *hub, hub_conn_t conn)
{
    uint32_t slot = (uint32_t)(conn & 0xffffffffu);
    if (slot && slot <= hub->nconns)
        __builtin_prefetch(&hub->conns[slot - 1]);
}

bool hub_device_is_connected(const hub_t *hub, hub_conn_t conn)
{
    return hub_conn_get((hub_t *)hub, conn) != NULL;
}

bool hub_conn_methods_online(const hub_t *hub, uint32_t rec)
{
    uint32_t c = hub->recs[rec].conn;
    if (!c)
        return false;
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_404_UNSUBSCRIBED))
        return true;
    return (hub->conns[c - 1].subs & HUB_SUB_METHODS) != 0;
}

static void conn_emit(hub_t *hub, const char *kind, uint32_t rec, const char *reason)
{
    sim_tf_t f[] = { TF_STR("id", hub_str(hub, hub->recs[rec].key_off)), TF_STR("reason", reason) };
    sim_kernel_emit(hub->k, kind, f, 2);
}

/* Free a slot; the identity forgets it when it was its live connection. */
static void slot_release(hub_t *hub, uint32_t slot, bool dropped)
{
    hub_conn_slot_t *s = &hub->conns[slot];
    if (hub->gw)
        hub_gw_slot_released(hub, slot, dropped);
    if (s->rec != HUB_NONE && hub->recs[s->rec].conn == slot + 1)
        hub->recs[s->rec].conn = 0;
    s->rec = HUB_NONE;
    s->ops = NULL;
    s->ctx = NULL;
    s->subs = 0;
    s->next_free = hub->conn_free;
    hub->conn_free = slot;
}

void hub_conn_drop_rec(hub_t *hub, uint32_t rec, hub_err_t err, const char *reason,
                       hub_ledger_counter_t counter)
{
    uint32_t c = hub->recs[rec].conn;
    if (!c)
        return;
    uint32_t slot = c - 1;
    hub_conn_t handle = hub_conn_handle(hub, slot);
    const hub_sink_ops_t *ops = hub->conns[slot].ops;
    void *ctx = hub->conns[slot].ctx;
    hub_conn_t *leaves = NULL;
    size_t nleaves = hub->gw ? hub_gw_take_leaves(hub, slot, &leaves) : 0;
    slot_release(hub, slot, true);
    hub_ledger_add(&hub->ledger, counter, 1);
    conn_emit(hub, "hub.drop", rec, reason);
    hub_event_connection(hub, rec, false);
    /* A gateway's leaves go offline with it, before its own sink hears. */
    if (nleaves)
        hub_gw_drop_leaves(hub, leaves, nleaves);
    /* Tell the sink last: it may reconnect from inside the callback. */
    if (ops && ops->disconnected)
        ops->disconnected(ctx, handle, err, reason);
}

/* The slot array at cap slots; aligned, so a slot is exactly one cache
 * line (realloc keeps 16). */
static hub_err_t conns_resize(hub_t *hub, uint32_t cap)
{
    hub_conn_slot_t *n = aligned_alloc(64, (size_t)cap * sizeof *n);
    if (!n)
        return HUB_ESERVER_ERROR;
    sim_mem_advise_huge(n, (size_t)cap * sizeof *n);
    if (hub->nconns)
        memcpy(n, hub->conns, hub->nconns * sizeof *n);
    free(hub->conns);
    hub->conns = n;
    hub->capconns = cap;
    return HUB_EOK;
}

hub_err_t hub_conn_reserve(hub_t *hub, uint32_t n)
{
    if (n > UINT32_MAX - 1 - hub->nconns)
        return HUB_ESERVER_ERROR;
    if (hub->nconns + n <= hub->capconns)
        return HUB_EOK;
    return conns_resize(hub, hub->nconns + n);
}

/* A free connection slot (the free list first, else the array grows); the
 * HTTPS request handles of device_authorize.c come from here too. */
hub_err_t hub_conn_slot_alloc(hub_t *hub, uint32_t *out)
{
    if (hub->conn_free != HUB_NONE) {
        *out = hub->conn_free;
        hub->conn_free = hub->conns[*out].next_free;
        return HUB_EOK;
    }
    if (hub->nconns == hub->capconns) {
        hub_err_t e = conns_resize(hub, hub->capconns ? hub->capconns * 2 : 16);
        if (e)
            return e;
    }
    *out = hub->nconns++;
    memset(&hub->conns[*out], 0, sizeof hub->conns[*out]);
    hub->conns[*out].rec = HUB_NONE;
    return HUB_EOK;
}

void hub_conn_slot_bind(hub_t *hub, uint32_t slot, uint32_t rec, hub_protocol_t protocol, bool x509,
                        const hub_sink_ops_t *ops, void *ctx)
{
    hub_conn_slot_t *s = &hub->conns[slot];
    const hub_rec_t *r = &hub->recs[rec];
    s->rec = rec;
    s->gen++;
    s->subs = 0;
    s->protocol = (uint8_t)protocol;
    s->auth_x509 = x509;
    s->ops = ops;
    s->ctx = ctx;
    /* a module's messages carry its device's generation */
    s->gen_seq = r->parent != HUB_NONE ? hub->recs[r->parent].gen_seq : r->gen_seq;
    s->id_len = 0;
    s->id[0] = '\0';
    if (r->parent == HUB_NONE && r->key_len && r->key_len < HUB_SLOT_ID_CAP) {
        memcpy(s->id, hub_str(hub, r->key_off), r->key_len);
        s->id[r->key_len] = '\0';
        s->id_len = (uint8_t)r->key_len;
    }
}

/* The identity checks a connection and a device HTTPS request share, in
 * this order and with these auth.* counters.  An unknown identity is "not
 * authorized", as on the wire (CONNACK 5 / 401): the hub does not reveal
 * which ids exist. */
hub_err_t hub_device_authenticate(hub_t *hub, const hub_connect_params_t *p, uint32_t *rec_out,
                                  bool *x509_out)
{
    uint32_t rec = hub_registry_find(hub, p->device_id, p->module_id);
    *rec_out = rec;
    *x509_out = false;
    if (rec == HUB_NONE) {
        hub_ledger_add(&hub->ledger, HUB_L_AUTH_UNKNOWN_IDENTITY, 1);
        return HUB_EUNAUTHORIZED_ACCESS;
    }
    if (!hub->recs[rec].enabled ||
        (hub->recs[rec].parent != HUB_NONE && !hub->recs[hub->recs[rec].parent].enabled)) {
        if (!hub_faults_on(&hub->faults, HUB_FAULT_AUTH_DISABLED)) {
            hub_ledger_add(&hub->ledger, HUB_L_AUTH_DISABLED, 1);
            return HUB_EUNAUTHORIZED_ACCESS;
        }
    }
    if (p->sas_token && p->sas_token[0])
        return hub_auth_check_device(hub, rec, p->sas_token);
    if (p->x509_thumbprint && p->x509_thumbprint[0]) {
        *x509_out = true;
        return hub_auth_check_x509(hub, rec, p->x509_thumbprint);
    }
    hub_ledger_add(&hub->ledger, HUB_L_AUTH_MALFORMED, 1);
    return HUB_EUNAUTHORIZED_ACCESS;
}

static hub_err_t connect_fail(hub_t *hub, const char *id, hub_err_t e)
{
    sim_tf_t f[] = { TF_STR("id", id), TF_INT("code", hub_error_info(e)->code) };
    sim_kernel_emit(hub->k, "hub.connect_refused", f, 2);
    return e;
}

hub_err_t hub_device_connect(hub_t *hub, const hub_connect_params_t *p, const hub_sink_ops_t *ops,
                             void *sink_ctx, hub_conn_t *out)
{
    if (!hub || !p || !p->device_id || !out)
        return HUB_EARGUMENT_NULL;
    *out = 0;
    if ((unsigned)p->protocol > HUB_PROTO_HTTPS)
        return HUB_EARGUMENT_INVALID;
    if (!hub_bucket_take(&hub->b_connect, sim_kernel_now(hub->k), 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_CONNECT, 1);
        return connect_fail(hub, p->device_id, HUB_ETHROTTLED);
    }
    uint32_t rec;
    bool x509;
    hub_err_t e = hub_device_authenticate(hub, p, &rec, &x509);
    if (e)
        return connect_fail(hub, p->device_id, e);

    return hub_conn_open(hub, rec, p->protocol, x509, ops, sink_ctx, out);
}

hub_err_t hub_conn_open(hub_t *hub, uint32_t rec, hub_protocol_t protocol, bool x509,
                        const hub_sink_ops_t *ops, void *sink_ctx, hub_conn_t *out)
{
    hub_err_t e;
    /* A second connection for the same identity drops the first. */
    if (hub->recs[rec].conn && !hub_faults_on(&hub->faults, HUB_FAULT_CONN_SECOND_DROPS_FIRST))
        hub_conn_drop_rec(hub, rec, HUB_ECONNECTION_REPLACED, "second connection for the identity",
                          HUB_L_CONN_DROPPED_SECOND);
    uint32_t slot;
    if ((e = hub_conn_slot_alloc(hub, &slot)) != HUB_EOK)
        return e;
    hub_conn_slot_bind(hub, slot, rec, protocol, x509, ops, sink_ctx);
    hub->recs[rec].conn = slot + 1;
    hub_ledger_add(&hub->ledger, HUB_L_CONN_OPENED, 1);
    conn_emit(hub, "hub.connect", rec, proto_names[protocol]);
    *out = hub_conn_handle(hub, slot);
    hub_event_connection(hub, rec, true);
    return HUB_EOK;
}

hub_err_t hub_device_disconnect(hub_t *hub, hub_conn_t conn)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    uint32_t rec = s->rec, slot = (uint32_t)(s - hub->conns);
    hub_conn_t *leaves = NULL;
    size_t nleaves = hub->gw ? hub_gw_take_leaves(hub, slot, &leaves) : 0;
    slot_release(hub, slot, false);
    hub_ledger_add(&hub->ledger, HUB_L_CONN_CLOSED, 1);
    conn_emit(hub, "hub.disconnect", rec, "device");
    hub_event_connection(hub, rec, false);
    if (nleaves)
        hub_gw_drop_leaves(hub, leaves, nleaves);
    return HUB_EOK;
}

static void c2d_notify(hub_t *hub, uint32_t slot);

hub_err_t hub_device_subscribe(hub_t *hub, hub_conn_t conn, unsigned subs)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    if (subs & ~(unsigned)HUB_SUB__ALL)
        return HUB_EARGUMENT_INVALID;
    unsigned added = subs & ~(unsigned)s->subs;
    s->subs = (uint8_t)(s->subs | subs);
    uint32_t rec = s->rec, slot = (uint32_t)(s - hub->conns);
    sim_tf_t f[] = { TF_STR("id", hub_str(hub, hub->recs[rec].key_off)), TF_INT("subs", subs) };
    sim_kernel_emit(hub->k, "hub.subscribe", f, 2);
    if ((added & HUB_SUB_METHODS) && hub->recs[rec].conn == slot + 1)
        hub_methods_on_online(hub, rec);
    if ((added & HUB_SUB_C2D) && hub_conn_get(hub, conn))
        c2d_notify(hub, slot);
    return HUB_EOK;
}

hub_err_t hub_device_unsubscribe(hub_t *hub, hub_conn_t conn, unsigned subs)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    if (subs & ~(unsigned)HUB_SUB__ALL)
        return HUB_EARGUMENT_INVALID;
    s->subs = (uint8_t)(s->subs & ~subs);
    sim_tf_t f[] = { TF_STR("id", hub_str(hub, hub->recs[s->rec].key_off)), TF_INT("subs", subs) };
    sim_kernel_emit(hub->k, "hub.unsubscribe", f, 2);
    return HUB_EOK;
}

/* Tell a C2D-subscribed device connection that messages are waiting. */
static void c2d_notify(hub_t *hub, uint32_t slot)
{
    hub_conn_slot_t *s = &hub->conns[slot];
    if (!hub->c2d || s->rec == HUB_NONE || !(s->subs & HUB_SUB_C2D) || !s->ops ||
        !s->ops->c2d_available || hub->recs[s->rec].parent != HUB_NONE)
        return;
    if (hub_c2d_depth(hub->c2d, s->rec) == 0)
        return;
    s->ops->c2d_available(s->ctx, hub_conn_handle(hub, slot));
}

void hub_conn_c2d_available(hub_t *hub, uint32_t rec)
{
    uint32_t c = hub->recs[rec].conn;
    if (c)
        c2d_notify(hub, c - 1);
}

void hub_conn_release(hub_t *hub)
{
    free(hub->conns);
    hub->conns = NULL;
}
