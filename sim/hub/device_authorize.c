/* Per-request device authentication for HTTPS: a borrowed connection handle that leaves the identity's live MQTT/AMQP connection alone. */
#include <string.h>
#include "hub_internal.h"

/*
 * An HTTPS request of a device is not a connection: it must not replace
 * the identity's MQTT or AMQP connection (hub_device_connect drops the
 * first connection of an identity), must not make the identity online for
 * direct methods and must not route a connection-state event.  Yet the
 * device calls (hub_device_send_d2c, hub_device_c2d_*) take a connection
 * handle, because the handle carries who is speaking and how (protocol,
 * auth method).  So a request borrows a connection slot that the identity
 * record does not point to: hub_conn_get finds it, the identity's `conn`
 * never names it, and nothing that walks identities (method delivery, C2D
 * notification, desired pushes, drops) ever sees it.  The slot lives for
 * one synchronous request: begin, one or two device calls, end.
 *
 * Slots come from connections.c's allocator (hub_conn_slot_alloc).
 */

static hub_err_t request_refused(hub_t *hub, const char *id, hub_err_t e)
{
    sim_tf_t f[] = { TF_STR("id", id), TF_INT("code", hub_error_info(e)->code) };
    sim_kernel_emit(hub->k, "hub.request_refused", f, 2);
    return e;
}

hub_err_t hub_device_request_begin(hub_t *hub, const hub_connect_params_t *p, hub_conn_t *out)
{
    if (!hub || !p || !p->device_id || !out)
        return HUB_EARGUMENT_NULL;
    *out = 0;
    if ((unsigned)p->protocol > HUB_PROTO_HTTPS)
        return HUB_EARGUMENT_INVALID;
    /* The same checks, in the same order and with the same auth.* counters,
     * as hub_device_connect; the connect throttle does not apply (a request
     * is not a connection; its operation has its own bucket). */
    uint32_t rec;
    bool x509;
    hub_err_t e = hub_device_authenticate(hub, p, &rec, &x509);
    if (e)
        return request_refused(hub, p->device_id, e);
    uint32_t slot;
    if ((e = hub_conn_slot_alloc(hub, &slot)) != HUB_EOK)
        return e;
    hub_conn_slot_bind(hub, slot, rec, p->protocol, x509, NULL, NULL);
    *out = hub_conn_handle(hub, slot);
    return HUB_EOK;
}

void hub_device_request_end(hub_t *hub, hub_conn_t conn)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return;
    uint32_t slot = (uint32_t)(s - hub->conns);
    /* A request slot is never an identity's live connection; check anyway
     * so a live handle passed here by mistake leaves no dangling record. */
    if (hub->recs[s->rec].conn == slot + 1)
        return;
    s->rec = HUB_NONE;
    s->ops = NULL;
    s->ctx = NULL;
    s->subs = 0;
    s->next_free = hub->conn_free;
    hub->conn_free = slot;
}
