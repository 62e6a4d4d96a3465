/* The live port's device side: each fleet device is one tr_device client; its callbacks become the fleet's completions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live/live_internal.h"
#include "sim/hub/auth.h"

/* Connects under way at once.  Each is a TLS handshake on the one loop
 * thread; thousands started together made one loop pass take seconds
 * (measured: 18 s with 10,000 devices), so the rest wait their turn. */
#define LIVE_MAX_CONNECTING 32

/* Signs tokens no registered key verifies (the scenario's bad-SAS misbehaviour). */
#define LIVE_WRONG_KEY "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="

static fleet_port_result_t result_of(tr_device_result_t r)
{
    return (fleet_port_result_t){ r.code == 0 ? 0 : (r.code > 0 ? r.code : FLEET_PORT_TRANSPORT), r.status, r.why };
}

static void note_failure(struct live_port *p, const char *what, tr_device_result_t r)
{
    if (r.code == 0)
        return;
    char counter[96];
    if (r.code > 0)
        snprintf(counter, sizeof counter, "%s.%d", what, r.code);
    else
        snprintf(counter, sizeof counter, "%s.transport", what);
    live_note(p, counter, r.why);
}

static void drop_conn(live_dev_t *d, bool in_callback)
{
    struct live_port *p = d->p;
    if (!d->conn)
        return;
    p->unacked_total += d->unacked;
    d->unacked = 0;
    d->nsettling = 0;
    d->nc2d = d->c2d_head = 0;
    if (d->connecting && p->nconnecting)
        p->nconnecting--;
    d->connecting = false;
    tr_device_close(d->conn);
    if (in_callback)
        tr_device_free_later(d->conn);
    else
        tr_device_free(d->conn);
    d->conn = NULL;
}

void live_dev_release(struct live_port *p, live_dev_t *d)
{
    (void)p;
    drop_conn(d, false);
    free(d->c2d);
    free(d->settling);
    d->c2d = d->settling = NULL;
    d->capc2d = d->capsettling = 0;
}

/* ---- callbacks from the client ------------------------------------------------------ */

static void cb_connected(void *ctx, tr_device_result_t r)
{
    live_dev_t *d = ctx;
    struct live_port *p = d->p;
    if (d->connecting && p->nconnecting)
        p->nconnecting--;
    d->connecting = false;
    p->wake = true;
    if (r.code != 0) {
        note_failure(p, "conn.failed", r);
        tr_device_free_later(d->conn);
        d->conn = NULL;
    }
    fleet_port_connected(p->fleet, d->dev, result_of(r));
}

static void cb_closed(void *ctx, tr_device_result_t r)
{
    live_dev_t *d = ctx;
    struct live_port *p = d->p;
    p->wake = true;
    if (r.code == 0)
        r.code = -1; /* closed without a hub code: the transport ended */
    note_failure(p, "conn.dropped", r);
    p->unacked_total += d->unacked;
    d->unacked = 0;
    d->nsettling = 0;
    d->nc2d = d->c2d_head = 0;
    tr_device_free_later(d->conn);
    d->conn = NULL;
    fleet_port_disconnected(p->fleet, d->dev, result_of(r));
}

static void cb_subscribed(void *ctx, unsigned subs, tr_device_result_t r)
{
    (void)subs;
    live_dev_t *d = ctx;
    d->p->wake = true;
    note_failure(d->p, "conn.subscribe_failed", r);
    fleet_port_subscribed(d->p->fleet, d->dev, result_of(r));
}

static void cb_sent(void *ctx, uint64_t tag, tr_device_result_t r)
{
    live_dev_t *d = ctx;
    d->p->wake = true;
    if (d->unacked)
        d->unacked--;
    note_failure(d->p, "d2c.rejected", r);
    fleet_port_sent(d->p->fleet, d->dev, tag, result_of(r));
}

static void cb_method(void *ctx, const char *name, const char *rid, const void *payload, size_t len)
{
    (void)payload;
    (void)len;
    live_dev_t *d = ctx;
    d->p->wake = true;
    fleet_port_method_request(d->p->fleet, d->dev, name, rid);
}

static void cb_c2d(void *ctx, const tr_device_c2d_t *m)
{
    live_dev_t *d = ctx;
    d->p->wake = true;
    if (d->c2d_head && d->c2d_head == d->nc2d)
        d->nc2d = d->c2d_head = 0;
    d->c2d = live_grow(d->c2d, &d->capc2d, d->nc2d + 1, sizeof *d->c2d);
    d->c2d[d->nc2d++] = (live_lock_t){ m->lock, 0 };
    fleet_port_c2d_available(d->p->fleet, d->dev);
}

static void cb_settled(void *ctx, uint64_t lock, tr_device_result_t r)
{
    live_dev_t *d = ctx;
    d->p->wake = true;
    unsigned how = FLEET_SETTLE_COMPLETE;
    for (size_t i = 0; i < d->nsettling; i++)
        if (d->settling[i].lock == lock) {
            how = d->settling[i].how;
            d->settling[i] = d->settling[--d->nsettling];
            break;
        }
    note_failure(d->p, "device.c2d.settle_failed", r);
    fleet_port_settled(d->p->fleet, d->dev, how, result_of(r));
}

static void cb_desired(void *ctx, uint64_t version, const char *patch, size_t len)
{
    (void)version;
    (void)patch;
    (void)len;
    live_dev_t *d = ctx;
    d->p->wake = true;
    fleet_port_desired(d->p->fleet, d->dev);
}

static void cb_reported(void *ctx, uint64_t tag, uint64_t version, tr_device_result_t r)
{
    (void)tag;
    (void)version;
    live_dev_t *d = ctx;
    d->p->wake = true;
    note_failure(d->p, "device.twin.reported_rejected", r);
    fleet_port_reported(d->p->fleet, d->dev, result_of(r));
}

static const tr_device_cb_t device_callbacks = {
    .connected = cb_connected,
    .closed = cb_closed,
    .subscribed = cb_subscribed,
    .sent = cb_sent,
    .method = cb_method,
    .c2d = cb_c2d,
    .settled = cb_settled,
    .desired = cb_desired,
    .reported = cb_reported,
};

/* ---- operations from the fleet --------------------------------------------------------- */

static tr_device_protocol_t protocol_of(struct live_port *p, uint32_t dev)
{
    if (p->o.protocol >= 0)
        return (tr_device_protocol_t)p->o.protocol;
    return (tr_device_protocol_t)fleet_port_group(p->fleet, dev)->protocol;
}

static void fail_now(struct live_port *p, uint32_t dev, const char *counter, int code, const char *why)
{
    live_note(p, counter, why);
    fleet_port_connected(p->fleet, dev, (fleet_port_result_t){ code, 0, why });
}

static void start_connect(struct live_port *p, uint32_t dev, bool bad_key, bool expired)
{
    live_dev_t *d = &p->devs[dev];
    live_ident_t *ident = &p->idents[d->ident];
    tr_device_protocol_t proto = protocol_of(p, dev);
    int port_no = proto == TR_DEV_MQTT ? p->cs.mqtt_port : proto == TR_DEV_AMQP ? p->cs.amqp_port : p->cs.https_port;
    char token[1024];
    tr_device_opts_t o = {
        .protocol = proto,
        .host = p->cs.host,
        .dial_host = p->cs.connect_host,
        .port = port_no,
        .tls = p->tls,
        .device_id = ident->wid,
        .sas_key = bad_key ? LIVE_WRONG_KEY : ident->key,
        .timeout_ms = p->op_ms,
    };
    if (expired) {
        char resource[400];
        snprintf(resource, sizeof resource, "%s/devices/%s", p->cs.host, ident->wid);
        if (hub_sas_make(o.sas_key, resource, (int64_t)(tr_now_ms() / 1000) - 3600, NULL, token, sizeof token) ==
            HS_EOK)
            o.sas_token = token;
    }
    char why[300];
    d->connecting = true;
    p->nconnecting++;
    if (tr_device_open(p->loop, &o, &device_callbacks, d, &d->conn, why, sizeof why) != HS_EOK) {
        d->connecting = false;
        p->nconnecting--;
        d->conn = NULL;
        fail_now(p, dev, "conn.failed.transport", FLEET_PORT_TRANSPORT, why);
    }
}

void live_dev_connect(void *port, uint32_t dev, const char *id, bool bad_key, bool expired)
{
    (void)id;
    struct live_port *p = port;
    live_dev_t *d = &p->devs[dev];
    d->p = p;
    if (p->idents[d->ident].x509) {
        fail_now(p, dev, "conn.failed.unsupported", FLEET_PORT_UNSUPPORTED,
                 "X.509 devices need client certificates per device; live runs have SAS keys only");
        return;
    }
    if (p->nconnecting < LIVE_MAX_CONNECTING && !p->cq_len) {
        start_connect(p, dev, bad_key, expired);
        return;
    }
    if (p->cq_head + p->cq_len == p->cq_cap && p->cq_head) { /* compact before growing */
        memmove(p->connect_queue, p->connect_queue + p->cq_head, p->cq_len * sizeof *p->connect_queue);
        p->cq_head = 0;
    }
    p->connect_queue = live_grow(p->connect_queue, &p->cq_cap, p->cq_head + p->cq_len + 1, sizeof *p->connect_queue);
    p->connect_queue[p->cq_head + p->cq_len++] = dev;
    d->queued = true;
    d->q_bad_key = bad_key;
    d->q_expired = expired;
}

void live_dev_start_queued(struct live_port *p)
{
    while (p->cq_len && p->nconnecting < LIVE_MAX_CONNECTING) {
        uint32_t dev = p->connect_queue[p->cq_head++];
        p->cq_len--;
        if (!p->cq_len)
            p->cq_head = 0;
        live_dev_t *d = &p->devs[dev];
        if (!d->queued)
            continue;
        d->queued = false;
        start_connect(p, dev, d->q_bad_key, d->q_expired);
    }
}

void live_dev_subscribe(void *port, uint32_t dev, unsigned subs)
{
    struct live_port *p = port;
    live_dev_t *d = &p->devs[dev];
    unsigned want = 0;
    if (subs & HUB_SUB_METHODS)
        want |= TR_DEV_SUB_METHODS;
    if (subs & HUB_SUB_C2D)
        want |= TR_DEV_SUB_C2D;
    if (subs & HUB_SUB_DESIRED)
        want |= TR_DEV_SUB_DESIRED;
    if (protocol_of(p, dev) == TR_DEV_HTTPS && (want & ~TR_DEV_SUB_C2D)) {
        /* the hub offers neither methods nor desired patches over HTTPS */
        fleet_port_count(p->fleet, "live.https.no_methods_or_desired", 1);
        want &= TR_DEV_SUB_C2D;
    }
    if (!d->conn || !want || tr_device_subscribe(d->conn, want) != HS_EOK)
        fleet_port_subscribed(p->fleet, dev, (fleet_port_result_t){ want ? FLEET_PORT_TRANSPORT : 0, 0, NULL });
}

#define LIVE_MAX_APP 32

void live_dev_send(void *port, uint32_t dev, hub_msg_t *msg, uint64_t tag)
{
    struct live_port *p = port;
    live_dev_t *d = &p->devs[dev];
    tr_device_prop_t app[LIVE_MAX_APP];
    size_t napp = hub_msg_app_count(msg);
    if (napp > LIVE_MAX_APP)
        napp = LIVE_MAX_APP;
    for (size_t i = 0; i < napp; i++)
        hub_msg_app_at(msg, i, &app[i].name, &app[i].value);
    tr_device_msg_t m = {
        .message_id = hub_msg_get_sys(msg, HUB_SYS_MESSAGE_ID),
        .correlation_id = hub_msg_get_sys(msg, HUB_SYS_CORRELATION_ID),
        .content_type = hub_msg_get_sys(msg, HUB_SYS_CONTENT_TYPE),
        .content_encoding = hub_msg_get_sys(msg, HUB_SYS_CONTENT_ENCODING),
        .app = app,
        .n_app = napp,
    };
    m.body = hub_msg_body(msg, &m.body_len);
    hs_err_t e = d->conn ? tr_device_send(d->conn, &m, tag) : HS_EIO;
    hub_msg_free(msg);
    if (e == HS_EOK) {
        d->unacked++;
        return;
    }
    live_note(p, "d2c.rejected.transport", d->conn ? "the client refused the message" : "not connected");
    fleet_port_sent(p->fleet, dev, tag, (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, NULL });
}

void live_dev_respond(void *port, uint32_t dev, const char *rid, int status, const char *payload, size_t len,
                      uint64_t tag)
{
    struct live_port *p = port;
    live_dev_t *d = &p->devs[dev];
    hs_err_t e = d->conn ? tr_device_method_respond(d->conn, rid, status, payload, len) : HS_EIO;
    /* the client has no completion for a method answer: it is done once queued */
    fleet_port_responded(p->fleet, dev, tag,
                         (fleet_port_result_t){ e == HS_EOK ? 0 : FLEET_PORT_TRANSPORT, 0, NULL });
}

bool live_dev_c2d_receive(void *port, uint32_t dev, char *lock, size_t cap)
{
    struct live_port *p = port;
    live_dev_t *d = &p->devs[dev];
    if (d->c2d_head >= d->nc2d)
        return false;
    snprintf(lock, cap, "%llu", (unsigned long long)d->c2d[d->c2d_head++].lock);
    return true;
}

void live_dev_c2d_settle(void *port, uint32_t dev, const char *lock, unsigned how)
{
    struct live_port *p = port;
    live_dev_t *d = &p->devs[dev];
    uint64_t l = strtoull(lock, NULL, 10);
    static const tr_settle_t map[] = { TR_SETTLE_COMPLETE, TR_SETTLE_REJECT, TR_SETTLE_ABANDON };
    hs_err_t e = d->conn ? tr_device_settle(d->conn, l, map[how % 3]) : HS_EIO;
    if (e == HS_EOK) {
        d->settling = live_grow(d->settling, &d->capsettling, d->nsettling + 1, sizeof *d->settling);
        d->settling[d->nsettling++] = (live_lock_t){ l, how };
        return;
    }
    int code = e == HS_EUNSUPPORTED ? FLEET_PORT_UNSUPPORTED : FLEET_PORT_TRANSPORT;
    if (e == HS_EUNSUPPORTED)
        live_note(p, "device.c2d.settle_failed.unsupported", "MQTT cannot reject or abandon a C2D message");
    fleet_port_settled(p->fleet, dev, how, (fleet_port_result_t){ code, 0, NULL });
}

void live_dev_report(void *port, uint32_t dev, const char *patch, size_t len)
{
    struct live_port *p = port;
    live_dev_t *d = &p->devs[dev];
    hs_err_t e = d->conn ? tr_device_report(d->conn, patch, len, 0) : HS_ESTATE;
    if (e == HS_EOK)
        return;
    /* HTTPS devices have no twin: HS_EUNSUPPORTED; not open: the transport */
    fleet_port_reported(p->fleet, dev,
                        (fleet_port_result_t){ e == HS_EUNSUPPORTED ? FLEET_PORT_UNSUPPORTED : FLEET_PORT_TRANSPORT, 0,
                                               NULL });
}

void live_dev_disconnect(void *port, uint32_t dev)
{
    struct live_port *p = port;
    drop_conn(&p->devs[dev], true);
}
