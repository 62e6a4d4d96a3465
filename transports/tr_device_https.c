/* Device client over HTTPS (tr_http, one connection per request): credential probe, telemetry POST with iothub-* headers, C2D polling and settlement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "transports/tr_device_impl.h"
#include "transports/tr_rest.h"

typedef enum { RQ_PROBE, RQ_SEND, RQ_POLL, RQ_SETTLE, RQ_SILENT } rq_kind_t;

typedef struct {
    tr_http_req_t *req;
    uint8_t kind;   /* rq_kind_t */
    uint64_t tag;   /* send tag / settle lock */
} hx_req_t;

typedef struct {
    uint64_t id;
    char *token; /* the hub's lock token (ETag without quotes) */
} hx_lock_t;

typedef struct {
    hx_req_t *reqs;
    size_t n_reqs, cap_reqs;
    hx_lock_t *locks;
    size_t n_locks, cap_locks;
    uint64_t next_lock;
    struct event *ready; /* a request finished: handle it on a later turn */
    struct event *poll;  /* C2D polling period */
    bool polling, poll_in_flight;
    char token[700];
    int64_t token_expiry; /* unix s; 0 = given token */
} hx_t;

static hx_t *hx(const tr_device_t *d)
{
    return d->proto;
}

/* A REST context for this device (only the HTTPS target and host name matter). */
static void rest_for(const tr_device_t *d, tr_rest_t *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->host_name, sizeof r->host_name, "%s", d->host);
    r->https.loop = d->loop;
    r->https.tls = d->tls;
    r->https.host = d->dial_host;
    r->https.port = d->port;
    r->https.tls_name = d->host;
}

/* The Authorization value: "" for X.509; a signed token renewed when less
 * than a fifth of its lifetime (or a minute) is left. */
static const char *auth(tr_device_t *d)
{
    hx_t *h = hx(d);
    int64_t now = (int64_t)time(NULL);
    int64_t margin = d->sas_ttl_s / 5 > 60 ? d->sas_ttl_s / 5 : 60;
    if (!h->token[0] || (h->token_expiry && h->token_expiry - now < margin)) {
        char why[200];
        if (tr_dev_token(d, h->token, sizeof h->token, &h->token_expiry, why, sizeof why) != HS_EOK)
            h->token[0] = '\0';
    }
    return h->token;
}

static void on_http_done(void *ctx, tr_http_req_t *r)
{
    (void)r;
    tr_device_t *d = ctx;
    event_active(hx(d)->ready, EV_TIMEOUT, 0);
}

static hs_err_t track(tr_device_t *d, tr_http_req_t *req, rq_kind_t kind, uint64_t tag)
{
    hx_t *h = hx(d);
    if (h->n_reqs == h->cap_reqs) {
        size_t nc = h->cap_reqs ? h->cap_reqs * 2 : 2;
        hx_req_t *p = realloc(h->reqs, nc * sizeof *p);
        if (!p) {
            tr_http_free(req);
            return HS_ENOMEM;
        }
        h->reqs = p;
        h->cap_reqs = nc;
    }
    h->reqs[h->n_reqs++] = (hx_req_t){ req, (uint8_t)kind, tag };
    tr_http_on_done(req, on_http_done, d);
    if (tr_http_done(req)) /* cannot happen today; keep the turn rule anyway */
        event_active(h->ready, EV_TIMEOUT, 0);
    return HS_EOK;
}

/* Status + iothub-errorcode (or the body's ErrorCode:) -> a result. */
static tr_device_result_t http_result(const tr_http_response_t *resp, const char *what, char *why, size_t cap)
{
    if (resp->failed) {
        snprintf(why, cap, "%s: %s", what, resp->why);
        return tr_dev_fail(-1, 0, why);
    }
    if (resp->status >= 200 && resp->status < 300)
        return tr_dev_ok();
    int code;
    char name[96], detail[200];
    tr_rest_error(resp, &code, name, sizeof name, detail, sizeof detail);
    snprintf(why, cap, "%s: HTTP %d %s%s%s", what, resp->status, name, *detail ? ": " : "", detail);
    return tr_dev_fail(code ? code : tr_dev_code_for(resp->status, name), resp->status, why);
}

static const char *hdr(const tr_http_response_t *r, const char *name)
{
    return tr_http_header(r, name);
}

static void start_poll(tr_device_t *d);

static void silent_settle(tr_device_t *d, const char *token, const char *how)
{
    tr_rest_t rest;
    rest_for(d, &rest);
    tr_http_req_t *req = NULL;
    char why[300];
    if (tr_rest_c2d_settle(&rest, d->device_id, auth(d), token, how, &req, why, sizeof why) == HS_EOK)
        track(d, req, RQ_SILENT, 0);
}

/* A polled message: keep its lock token, hand it to the caller. */
static void deliver(tr_device_t *d, const tr_http_response_t *resp)
{
    hx_t *h = hx(d);
    const char *etag = hdr(resp, "ETag");
    if (!etag || !*etag)
        return;
    size_t tl = strlen(etag);
    if (tl >= 2 && etag[0] == '"' && etag[tl - 1] == '"') {
        etag++;
        tl -= 2;
    }
    if (h->n_locks == h->cap_locks) {
        size_t nc = h->cap_locks ? h->cap_locks * 2 : 2;
        hx_lock_t *p = realloc(h->locks, nc * sizeof *p);
        if (!p)
            return; /* the lock ends at the hub and the message comes again */
        h->locks = p;
        h->cap_locks = nc;
    }
    char *tok = malloc(tl + 1);
    if (!tok)
        return;
    memcpy(tok, etag, tl);
    tok[tl] = '\0';
    uint64_t id = ++h->next_lock;
    h->locks[h->n_locks++] = (hx_lock_t){ id, tok };
    enum { MAXP = 32 };
    tr_device_prop_t props[MAXP];
    size_t np = 0;
    for (size_t i = 0; i < resp->n_headers && np < MAXP; i++)
        if (strncasecmp(resp->headers[i].name, "iothub-app-", 11) == 0)
            props[np++] = (tr_device_prop_t){ resp->headers[i].name + 11, resp->headers[i].value };
    tr_device_c2d_t m = { hdr(resp, "iothub-messageid"), hdr(resp, "iothub-correlationid"), resp->body,
                          resp->body_len, props, np, id };
    if (d->cb.c2d && !d->quiet)
        d->cb.c2d(d->ctx, &m);
}

static void handle(tr_device_t *d, hx_req_t q)
{
    hx_t *h = hx(d);
    const tr_http_response_t *resp = tr_http_result(q.req);
    char why[500];
    uint64_t tag;
    switch ((rq_kind_t)q.kind) {
    case RQ_PROBE: {
        tr_device_result_t r = http_result(resp, "connect (C2D probe)", why, sizeof why);
        if (r.code != 0) {
            tr_dev_ended(d, r);
            break;
        }
        if (resp->status == 200) { /* the probe locked a message: give it back */
            const char *etag = hdr(resp, "ETag");
            char tok[300];
            snprintf(tok, sizeof tok, "%s", etag ? etag : "");
            size_t tl = strlen(tok);
            if (tl >= 2 && tok[0] == '"') {
                memmove(tok, tok + 1, tl - 2);
                tok[tl - 2] = '\0';
            }
            if (*tok)
                silent_settle(d, tok, "abandon");
        }
        tr_dev_connected(d);
        break;
    }
    case RQ_SEND:
        if (tr_dev_op_take(d, TR_OP_SEND, (uint64_t)(uintptr_t)q.req, &tag))
            tr_dev_emit(d, TR_OP_SEND, tag, 0, http_result(resp, "telemetry", why, sizeof why));
        break;
    case RQ_SETTLE:
        if (tr_dev_op_take(d, TR_OP_SETTLE, (uint64_t)(uintptr_t)q.req, &tag))
            tr_dev_emit(d, TR_OP_SETTLE, tag, 0, http_result(resp, "settle", why, sizeof why));
        break;
    case RQ_POLL:
        h->poll_in_flight = false;
        if (!resp->failed && resp->status == 200)
            deliver(d, resp);
        /* 204: nothing visible; an error (throttled, 401 after a key
         * change) or a transport failure: try again next period */
        if (h->polling && !d->quiet && !(!resp->failed && resp->status == 200)) {
            struct timeval tv = { (time_t)(d->c2d_poll_ms / 1000), (suseconds_t)((d->c2d_poll_ms % 1000) * 1000) };
            event_add(h->poll, &tv);
        } else if (h->polling && !d->quiet) {
            start_poll(d); /* more may be waiting: ask again at once */
        }
        break;
    case RQ_SILENT:
        break;
    }
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tr_device_t *d = arg;
    for (;;) {
        hx_t *h = hx(d);
        if (!h || d->free_pending)
            return;
        size_t i = 0;
        while (i < h->n_reqs && !tr_http_done(h->reqs[i].req))
            i++;
        if (i == h->n_reqs)
            return;
        hx_req_t q = h->reqs[i];
        h->reqs[i] = h->reqs[--h->n_reqs];
        handle(d, q);
        tr_http_free(q.req);
    }
}

static void start_poll(tr_device_t *d)
{
    hx_t *h = hx(d);
    if (h->poll_in_flight || d->quiet || !d->up)
        return;
    tr_rest_t rest;
    rest_for(d, &rest);
    tr_http_req_t *req = NULL;
    char why[300];
    if (tr_rest_c2d_receive(&rest, d->device_id, auth(d), &req, why, sizeof why) == HS_EOK &&
        track(d, req, RQ_POLL, 0) == HS_EOK)
        h->poll_in_flight = true;
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_poll(arg);
}

static hs_err_t hx_start(tr_device_t *d, char *why, size_t cap)
{
    hx_t *h = calloc(1, sizeof *h);
    if (!h)
        return HS_ENOMEM;
    d->proto = h;
    h->ready = event_new(tr_loop_base(d->loop), -1, 0, on_ready, d);
    h->poll = evtimer_new(tr_loop_base(d->loop), on_poll, d);
    if (!h->ready || !h->poll)
        return HS_ENOMEM;
    if (d->module_id) { /* modules have no C2D queue to probe: nothing to check without a side effect */
        tr_dev_post(d, TR_OP_CONNECT, 0, 0, 0, 0, "");
        return HS_EOK;
    }
    tr_rest_t rest;
    rest_for(d, &rest);
    tr_http_req_t *req = NULL;
    char w[300];
    hs_err_t e = tr_rest_c2d_receive(&rest, d->device_id, auth(d), &req, w, sizeof w);
    if (e == HS_ENOMEM)
        return e;
    if (e != HS_EOK)
        tr_dev_post(d, TR_OP_CONNECT, 0, 0, -1, 0, w);
    else if ((e = track(d, req, RQ_PROBE, 0)) != HS_EOK)
        return e;
    (void)why;
    (void)cap;
    return HS_EOK;
}

static hs_err_t hx_subscribe(tr_device_t *d, unsigned subs)
{
    if (subs & (TR_DEV_SUB_METHODS | TR_DEV_SUB_DESIRED))
        return HS_EUNSUPPORTED; /* the hub offers neither over HTTPS */
    if (d->module_id)
        return HS_EUNSUPPORTED; /* modules have no C2D queue */
    hx(d)->polling = true;
    tr_dev_post(d, TR_OP_SUBSCRIBE, subs, 0, 0, 0, "");
    struct timeval now = { 0, 0 };
    event_add(hx(d)->poll, &now);
    return HS_EOK;
}

static bool header_safe(const char *s, bool name)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n' || (name && (*s == ':' || *s == ' ')))
            return false;
    return true;
}

static hs_err_t hx_send(tr_device_t *d, const tr_device_msg_t *m, uint64_t tag)
{
    enum { MAXH = 36 };
    if (m->n_app > MAXH - 4)
        return HS_EINVAL;
    tr_header_t hs[MAXH];
    char *names[MAXH];
    size_t n = 0, nn = 0;
    const char *sys[4][2] = { { "iothub-messageid", m->message_id }, { "iothub-correlationid", m->correlation_id },
                              { "iothub-contenttype", m->content_type }, { "iothub-contentencoding", m->content_encoding } };
    for (int i = 0; i < 4; i++) {
        if (!sys[i][1])
            continue;
        if (!header_safe(sys[i][1], false))
            return HS_EINVAL;
        hs[n++] = (tr_header_t){ sys[i][0], sys[i][1] };
    }
    hs_err_t e = HS_EOK;
    for (size_t i = 0; i < m->n_app && e == HS_EOK; i++) {
        if (!header_safe(m->app[i].name, true) || !header_safe(m->app[i].value, false)) {
            e = HS_EINVAL;
            break;
        }
        size_t l = strlen(m->app[i].name) + 12;
        char *nm = malloc(l);
        if (!nm) {
            e = HS_ENOMEM;
            break;
        }
        snprintf(nm, l, "iothub-app-%s", m->app[i].name);
        names[nn++] = nm;
        hs[n++] = (tr_header_t){ nm, m->app[i].value };
    }
    tr_http_req_t *req = NULL;
    if (e == HS_EOK) {
        tr_rest_t rest;
        rest_for(d, &rest);
        char why[300];
        e = tr_rest_d2c(&rest, d->device_id, d->module_id, auth(d), hs, n, m->body, m->body_len, &req, why,
                        sizeof why);
        if (e != HS_EOK && e != HS_ENOMEM) {
            /* the dial failed at once (the name does not resolve): report it through sent() */
            tr_dev_post(d, TR_OP_SEND, tag, 0, -1, 0, why);
            e = HS_EOK;
        } else if (e == HS_EOK && (e = tr_dev_op_add(d, TR_OP_SEND, (uint64_t)(uintptr_t)req, tag)) == HS_EOK) {
            e = track(d, req, RQ_SEND, tag);
            if (e != HS_EOK)
                tr_dev_op_take(d, TR_OP_SEND, (uint64_t)(uintptr_t)req, NULL);
        } else if (req) {
            tr_http_free(req);
        }
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    return e;
}

static hs_err_t hx_method_respond(tr_device_t *d, const char *rid, int status, const void *p, size_t n)
{
    (void)d;
    (void)rid;
    (void)status;
    (void)p;
    (void)n;
    return HS_EUNSUPPORTED;
}

static hs_err_t hx_settle(tr_device_t *d, uint64_t lock, tr_settle_t how)
{
    hx_t *h = hx(d);
    size_t i = 0;
    while (i < h->n_locks && h->locks[i].id != lock)
        i++;
    if (i == h->n_locks)
        return HS_ENOTFOUND;
    static const char *const hows[] = { "complete", "reject", "abandon" };
    tr_rest_t rest;
    rest_for(d, &rest);
    tr_http_req_t *req = NULL;
    char why[300];
    hs_err_t e = tr_rest_c2d_settle(&rest, d->device_id, auth(d), h->locks[i].token, hows[how], &req, why, sizeof why);
    if (e != HS_EOK)
        return e == HS_ENOMEM ? e : HS_EIO;
    free(h->locks[i].token);
    h->locks[i] = h->locks[--h->n_locks];
    if ((e = tr_dev_op_add(d, TR_OP_SETTLE, (uint64_t)(uintptr_t)req, lock)) != HS_EOK) {
        tr_http_free(req);
        return e;
    }
    if ((e = track(d, req, RQ_SETTLE, lock)) != HS_EOK)
        tr_dev_op_take(d, TR_OP_SETTLE, (uint64_t)(uintptr_t)req, NULL);
    return e;
}

static hs_err_t hx_report(tr_device_t *d, const char *json, size_t n, uint64_t tag)
{
    (void)d;
    (void)json;
    (void)n;
    (void)tag;
    return HS_EUNSUPPORTED; /* devices have no twin over HTTPS */
}

static void hx_close(tr_device_t *d)
{
    hx_t *h = hx(d);
    h->polling = false;
    event_del(h->poll);
    /* requests in flight are abandoned (their connections close); locked
     * C2D messages come back when their locks end at the hub */
    for (size_t i = 0; i < h->n_reqs; i++)
        tr_http_free(h->reqs[i].req);
    h->n_reqs = 0;
}

static void hx_destroy(tr_device_t *d)
{
    hx_t *h = hx(d);
    for (size_t i = 0; i < h->n_reqs; i++)
        tr_http_free(h->reqs[i].req);
    for (size_t i = 0; i < h->n_locks; i++)
        free(h->locks[i].token);
    free(h->reqs);
    free(h->locks);
    if (h->ready)
        event_free(h->ready);
    if (h->poll)
        event_free(h->poll);
    free(h);
    d->proto = NULL;
}

static size_t hx_footprint(const tr_device_t *d)
{
    const hx_t *h = hx(d);
    size_t n = sizeof *h + 2 * event_get_struct_event_size() + h->cap_reqs * sizeof *h->reqs +
               h->cap_locks * sizeof *h->locks;
    for (size_t i = 0; i < h->n_locks; i++)
        n += strlen(h->locks[i].token) + 1;
    /* each request in flight holds its own connection: about 1.5 KB of
     * record and buffers plus its TLS state (TR_DEV_TLS_ESTIMATE) */
    n += h->n_reqs * (1536 + TR_DEV_TLS_ESTIMATE);
    return n;
}

const tr_dev_ops_t tr_dev_https_ops = {
    hx_start, hx_subscribe, hx_send, hx_method_respond, hx_settle, hx_report, hx_close, hx_destroy, hx_footprint,
};
