/* Device clients, protocol-neutral part: option checks, dispatch, SAS tokens, pending operations with deadlines, deferred callbacks, free_later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub_errors.h"
#include "transports/tr_device_impl.h"

/* ---- results and codes ---------------------------------------------------- */

tr_device_result_t tr_dev_ok(void)
{
    return (tr_device_result_t){ 0, 0, "" };
}

tr_device_result_t tr_dev_fail(int code, int status, const char *why)
{
    return (tr_device_result_t){ code, status, why ? why : "" };
}

int tr_dev_code_for(int status, const char *name)
{
    if (name) {
        const char *p = strstr(name, "ErrorCode:");
        char buf[96];
        if (p) {
            p += strlen("ErrorCode:");
            size_t n = strcspn(p, ";");
            if (n >= sizeof buf)
                n = sizeof buf - 1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            name = buf;
        }
        int row = hub_error_by_name(name);
        if (row >= 0)
            return hub_error_info((hub_err_t)row)->code;
    }
    return status > 0 ? status * 1000 : -1;
}

/* ---- identity and tokens -------------------------------------------------- */

void tr_dev_resource(const tr_device_t *d, char *out, size_t cap)
{
    if (d->module_id)
        snprintf(out, cap, "%s/devices/%s/modules/%s", d->host, d->device_id, d->module_id);
    else
        snprintf(out, cap, "%s/devices/%s", d->host, d->device_id);
}

void tr_dev_client_id(const tr_device_t *d, char *out, size_t cap)
{
    if (d->module_id)
        snprintf(out, cap, "%s/%s", d->device_id, d->module_id);
    else
        snprintf(out, cap, "%s", d->device_id);
}

hs_err_t tr_dev_token(const tr_device_t *d, char *out, size_t cap, int64_t *expiry_unix, char *why, size_t wcap)
{
    *expiry_unix = 0;
    if (d->sas_token) {
        if (strlen(d->sas_token) >= cap) {
            snprintf(why, wcap, "the SAS token is longer than %zu bytes", cap - 1);
            return HS_EINVAL;
        }
        snprintf(out, cap, "%s", d->sas_token);
        return HS_EOK;
    }
    if (!d->sas_key)
        return HS_ENOTFOUND;
    char sr[600];
    tr_dev_resource(d, sr, sizeof sr);
    int64_t se = (int64_t)time(NULL) + d->sas_ttl_s;
    hs_err_t e = hub_sas_make(d->sas_key, sr, se, NULL, out, cap);
    if (e != HS_EOK) {
        snprintf(why, wcap, "cannot sign a SAS token for %s: %s (is the key base64?)", sr, hs_strerror(e));
        return HS_EINVAL;
    }
    *expiry_unix = se;
    return HS_EOK;
}

/* ---- pending operations --------------------------------------------------- */

static void arm_deadline(tr_device_t *d)
{
    if (!d->n_pend) {
        event_del(d->deadline_ev);
        return;
    }
    int64_t first = d->pend[0].deadline;
    for (size_t i = 1; i < d->n_pend; i++)
        if (d->pend[i].deadline < first)
            first = d->pend[i].deadline;
    int64_t left = first - tr_now_ms();
    if (left < 0)
        left = 0;
    struct timeval tv = { (time_t)(left / 1000), (suseconds_t)((left % 1000) * 1000) };
    event_add(d->deadline_ev, &tv);
}

hs_err_t tr_dev_op_add(tr_device_t *d, tr_op_kind_t kind, uint64_t key, uint64_t tag)
{
    if (d->n_pend == d->cap_pend) {
        size_t nc = d->cap_pend ? d->cap_pend * 2 : 4;
        tr_dev_op_t *p = realloc(d->pend, nc * sizeof *p);
        if (!p)
            return HS_ENOMEM;
        d->pend = p;
        d->cap_pend = nc;
    }
    d->pend[d->n_pend++] = (tr_dev_op_t){ (uint8_t)kind, key, tag, tr_now_ms() + d->timeout_ms };
    if (d->n_pend == 1)
        arm_deadline(d);
    return HS_EOK;
}

bool tr_dev_op_take(tr_device_t *d, tr_op_kind_t kind, uint64_t key, uint64_t *tag)
{
    for (size_t i = 0; i < d->n_pend; i++) {
        if (d->pend[i].kind == kind && d->pend[i].key == key) {
            if (tag)
                *tag = d->pend[i].tag;
            memmove(&d->pend[i], &d->pend[i + 1], (d->n_pend - i - 1) * sizeof *d->pend);
            d->n_pend--;
            if (!d->n_pend)
                event_del(d->deadline_ev);
            return true;
        }
    }
    return false;
}

size_t tr_dev_op_count(const tr_device_t *d, tr_op_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n_pend; i++)
        n += d->pend[i].kind == kind;
    return n;
}

static const char *op_name(tr_op_kind_t k)
{
    switch (k) {
    case TR_OP_CONNECT: return "connect";
    case TR_OP_SUBSCRIBE: return "subscribe";
    case TR_OP_SEND: return "telemetry";
    case TR_OP_SETTLE: return "settle";
    case TR_OP_REPORT: return "reported patch";
    }
    return "operation";
}

void tr_dev_emit(tr_device_t *d, tr_op_kind_t kind, uint64_t tag, uint64_t version, tr_device_result_t r)
{
    if (d->quiet)
        return;
    switch (kind) {
    case TR_OP_CONNECT:
        if (d->cb.connected)
            d->cb.connected(d->ctx, r);
        break;
    case TR_OP_SUBSCRIBE:
        if (d->cb.subscribed)
            d->cb.subscribed(d->ctx, (unsigned)tag, r);
        break;
    case TR_OP_SEND:
        if (d->cb.sent)
            d->cb.sent(d->ctx, tag, r);
        break;
    case TR_OP_SETTLE:
        if (d->cb.settled)
            d->cb.settled(d->ctx, tag, r);
        break;
    case TR_OP_REPORT:
        if (d->cb.reported)
            d->cb.reported(d->ctx, tag, version, r);
        break;
    }
}

/* Fails every pending op (oldest first) with r; connect ops are left to the caller. */
static void fail_pending(tr_device_t *d, bool only_expired, const char *why_closed)
{
    int64_t now = tr_now_ms();
    size_t i = 0;
    while (i < d->n_pend && !d->free_pending) {
        tr_dev_op_t op = d->pend[i];
        if ((only_expired && op.deadline > now) || op.kind == TR_OP_CONNECT) {
            i++;
            continue;
        }
        memmove(&d->pend[i], &d->pend[i + 1], (d->n_pend - i - 1) * sizeof *d->pend);
        d->n_pend--;
        char why[400];
        if (only_expired)
            snprintf(why, sizeof why, "%s: no answer from the hub within %lld ms", op_name(op.kind),
                     (long long)d->timeout_ms);
        else
            snprintf(why, sizeof why, "%s: the connection ended before the hub answered (%.300s)",
                     op_name(op.kind), why_closed);
        tr_dev_emit(d, op.kind, op.tag, 0, tr_dev_fail(-1, 0, why));
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tr_device_t *d = arg;
    int64_t now = tr_now_ms();
    for (size_t i = 0; i < d->n_pend; i++) {
        if (d->pend[i].kind == TR_OP_CONNECT && d->pend[i].deadline <= now) {
            d->n_pend = 0; /* nothing else can be pending before connected */
            char why[200];
            snprintf(why, sizeof why, "connect: no answer from %s:%d within %lld ms", d->dial_host, d->port,
                     (long long)d->timeout_ms);
            tr_dev_ended(d, tr_dev_fail(-1, 0, why));
            return;
        }
    }
    fail_pending(d, true, "");
    if (!d->free_pending)
        arm_deadline(d);
}

/* ---- lifecycle ------------------------------------------------------------ */

void tr_dev_connected(tr_device_t *d)
{
    if (d->ended || d->up)
        return; /* an answer after the connect deadline already ended it */
    tr_dev_op_take(d, TR_OP_CONNECT, 0, NULL);
    d->up = true;
    tr_dev_emit(d, TR_OP_CONNECT, 0, 0, tr_dev_ok());
}

void tr_dev_ended(tr_device_t *d, tr_device_result_t r)
{
    if (d->ended)
        return;
    bool was_up = d->up;
    d->ended = true;
    d->up = false;
    tr_dev_op_take(d, TR_OP_CONNECT, 0, NULL);
    char why[400];
    snprintf(why, sizeof why, "%s", r.why);
    r.why = why;
    fail_pending(d, false, why);
    if (d->free_pending || d->quiet)
        return;
    if (was_up) {
        if (d->cb.closed)
            d->cb.closed(d->ctx, r);
    } else if (d->cb.connected) {
        d->cb.connected(d->ctx, r);
    }
}

static void on_defer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tr_device_t *d = arg;
    d->in_defer = true;
    size_t i = 0;
    while (i < d->n_notes && !d->free_pending) {
        tr_dev_note_t n = d->notes[i++];
        tr_device_result_t r = tr_dev_fail(n.code, n.status, n.why);
        if (n.kind == TR_OP_CONNECT && n.code != 0)
            tr_dev_ended(d, r);
        else if (n.kind == TR_OP_CONNECT)
            tr_dev_connected(d);
        else
            tr_dev_emit(d, (tr_op_kind_t)n.kind, n.tag, n.version, r);
    }
    if (i < d->n_notes)
        memmove(&d->notes[0], &d->notes[i], (d->n_notes - i) * sizeof *d->notes);
    d->n_notes -= i;
    d->in_defer = false;
    if (d->free_pending) {
        tr_device_free(d);
        return;
    }
    if (d->n_notes)
        event_active(d->defer_ev, EV_TIMEOUT, 0);
}

void tr_dev_post(tr_device_t *d, tr_op_kind_t kind, uint64_t tag, uint64_t version, int code, int status,
                 const char *why)
{
    if (d->n_notes == d->cap_notes) {
        size_t nc = d->cap_notes ? d->cap_notes * 2 : 2;
        tr_dev_note_t *p = realloc(d->notes, nc * sizeof *p);
        if (!p)
            return; /* out of memory: the op's deadline still reports it */
        d->notes = p;
        d->cap_notes = nc;
    }
    tr_dev_note_t *n = &d->notes[d->n_notes++];
    *n = (tr_dev_note_t){ (uint8_t)kind, tag, version, code, status, "" };
    snprintf(n->why, sizeof n->why, "%s", why ? why : "");
    event_active(d->defer_ev, EV_TIMEOUT, 0);
}

static const tr_dev_ops_t *ops_for(tr_device_protocol_t p)
{
    switch (p) {
    case TR_DEV_MQTT: return &tr_dev_mqtt_ops;
    case TR_DEV_AMQP: return &tr_dev_amqp_ops;
    case TR_DEV_HTTPS: return &tr_dev_https_ops;
    }
    return NULL;
}

static bool id_ok(const char *s)
{
    return s && *s && strlen(s) <= 128;
}

hs_err_t tr_device_open(tr_loop_t *l, const tr_device_opts_t *o, const tr_device_cb_t *cb, void *ctx,
                        tr_device_t **out, char *why, size_t cap)
{
    *out = NULL;
    const tr_dev_ops_t *ops = o ? ops_for(o->protocol) : NULL;
    if (!l || !o || !ops) {
        snprintf(why, cap, "tr_device_open: no loop, no options or an unknown protocol");
        return HS_EINVAL;
    }
    if (!o->host || !*o->host || o->port <= 0 || o->port > 65535 || !id_ok(o->device_id)) {
        snprintf(why, cap, "tr_device_open: host, port (1..65535) and device_id (1..128 chars) are required");
        return HS_EINVAL;
    }
    if (o->module_id && *o->module_id && !id_ok(o->module_id)) {
        snprintf(why, cap, "tr_device_open: module_id is longer than 128 chars");
        return HS_EINVAL;
    }
    if (!o->tls) {
        snprintf(why, cap, "tr_device_open: a TLS context is required (every device protocol runs over TLS)");
        return HS_EINVAL;
    }
    tr_device_t *d = calloc(1, sizeof *d);
    if (!d)
        return HS_ENOMEM;
    const char *src[6] = { o->host, o->dial_host && *o->dial_host ? o->dial_host : o->host, o->device_id,
                           o->module_id && *o->module_id ? o->module_id : NULL, o->sas_key, o->sas_token };
    size_t total = 0;
    for (int i = 0; i < 6; i++)
        total += src[i] ? strlen(src[i]) + 1 : 0;
    d->strs = malloc(total ? total : 1);
    d->deadline_ev = evtimer_new(tr_loop_base(l), on_deadline, d);
    d->defer_ev = event_new(tr_loop_base(l), -1, 0, on_defer, d);
    if (!d->strs || !d->deadline_ev || !d->defer_ev) {
        tr_device_free(d);
        return HS_ENOMEM;
    }
    const char **dst[6] = { &d->host, &d->dial_host, &d->device_id, &d->module_id, &d->sas_key, &d->sas_token };
    char *p = d->strs;
    for (int i = 0; i < 6; i++) {
        if (!src[i])
            continue;
        size_t n = strlen(src[i]) + 1;
        memcpy(p, src[i], n);
        *dst[i] = p;
        p += n;
    }
    d->loop = l;
    d->ops = ops;
    d->protocol = o->protocol;
    if (cb)
        d->cb = *cb;
    d->ctx = ctx;
    d->port = o->port;
    d->tls = o->tls;
    d->sas_ttl_s = o->sas_ttl_s > 0 ? o->sas_ttl_s : 3600;
    d->keep_alive_s = o->keep_alive_s ? o->keep_alive_s : 240;
    d->c2d_poll_ms = o->c2d_poll_ms > 0 ? o->c2d_poll_ms : 1000;
    d->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    char tok[1024];
    int64_t se;
    hs_err_t e = tr_dev_token(d, tok, sizeof tok, &se, why, cap);
    if (e == HS_EINVAL) {
        tr_device_free(d);
        return HS_EINVAL;
    }
    e = tr_dev_op_add(d, TR_OP_CONNECT, 0, 0);
    if (e == HS_EOK)
        e = ops->start(d, why, cap);
    if (e != HS_EOK) {
        tr_device_free(d);
        return e;
    }
    *out = d;
    return HS_EOK;
}

static hs_err_t usable(const tr_device_t *d)
{
    if (!d)
        return HS_EINVAL;
    return d->up && !d->quiet && !d->free_pending ? HS_EOK : HS_ESTATE;
}

hs_err_t tr_device_subscribe(tr_device_t *d, unsigned subs)
{
    hs_err_t e = usable(d);
    if (e != HS_EOK)
        return e;
    if (!subs || (subs & ~(unsigned)(TR_DEV_SUB_METHODS | TR_DEV_SUB_C2D | TR_DEV_SUB_DESIRED)))
        return HS_EINVAL;
    return d->ops->subscribe(d, subs);
}

hs_err_t tr_device_send(tr_device_t *d, const tr_device_msg_t *m, uint64_t tag)
{
    hs_err_t e = usable(d);
    if (e != HS_EOK)
        return e;
    if (!m || (m->body_len && !m->body) || (m->n_app && !m->app))
        return HS_EINVAL;
    for (size_t i = 0; i < m->n_app; i++)
        if (!m->app[i].name || !*m->app[i].name || !m->app[i].value)
            return HS_EINVAL;
    return d->ops->send(d, m, tag);
}

hs_err_t tr_device_method_respond(tr_device_t *d, const char *rid, int status, const void *payload, size_t len)
{
    hs_err_t e = usable(d);
    if (e != HS_EOK)
        return e;
    if (!rid || !*rid || (len && !payload))
        return HS_EINVAL;
    return d->ops->method_respond(d, rid, status, payload, len);
}

hs_err_t tr_device_settle(tr_device_t *d, uint64_t lock, tr_settle_t how)
{
    hs_err_t e = usable(d);
    if (e != HS_EOK)
        return e;
    if (how != TR_SETTLE_COMPLETE && how != TR_SETTLE_REJECT && how != TR_SETTLE_ABANDON)
        return HS_EINVAL;
    return d->ops->settle(d, lock, how);
}

hs_err_t tr_device_report(tr_device_t *d, const char *patch_json, size_t len, uint64_t tag)
{
    hs_err_t e = usable(d);
    if (e != HS_EOK)
        return e;
    if (!patch_json || !len)
        return HS_EINVAL;
    return d->ops->report(d, patch_json, len, tag);
}

bool tr_device_is_open(const tr_device_t *d)
{
    return d && d->up && !d->quiet;
}

void tr_device_close(tr_device_t *d)
{
    if (!d || d->quiet)
        return;
    d->quiet = true;
    if (d->proto)
        d->ops->close(d);
    d->up = false;
}

void tr_device_free(tr_device_t *d)
{
    if (!d)
        return;
    if (d->in_defer) { /* freed from a deferred callback: finish the turn first */
        d->free_pending = true;
        return;
    }
    if (d->proto)
        d->ops->destroy(d);
    if (d->deadline_ev)
        event_free(d->deadline_ev);
    if (d->defer_ev)
        event_free(d->defer_ev);
    free(d->pend);
    free(d->notes);
    free(d->strs);
    free(d);
}

void tr_device_free_later(tr_device_t *d)
{
    if (!d || d->free_pending)
        return;
    d->free_pending = true;
    d->quiet = true;
    event_active(d->defer_ev, EV_TIMEOUT, 0);
}

size_t tr_device_footprint(const tr_device_t *d)
{
    if (!d)
        return 0;
    size_t n = sizeof *d;
    const char *strs[] = { d->host, d->dial_host, d->device_id, d->module_id, d->sas_key, d->sas_token };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        n += strs[i] ? strlen(strs[i]) + 1 : 0;
    n += d->cap_pend * sizeof *d->pend + d->cap_notes * sizeof *d->notes;
    n += 2 * event_get_struct_event_size(); /* deadline_ev, defer_ev */
    if (d->proto)
        n += d->ops->footprint(d);
    return n;
}
