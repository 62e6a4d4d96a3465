/* Live target helpers: allocation, statuses from HTTP answers and error bodies, bounded waits that drain device connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/target_live_internal.h"
#include "sim/hub/hub_errors.h"

char *live_dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort(); /* the harness cannot report without memory */
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *live_dup(const char *s)
{
    return live_dup_n(s ? s : "", s ? strlen(s) : 0);
}

void *live_target_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, nc * elem);
    if (!q)
        abort();
    *cap = nc;
    return q;
}

void live_status_transport(target_status_t *st, const char *why)
{
    /* No HTTP status: the operation never got an answer. */
    target_status_set(st, 0, 0, "TransportError", why);
}

void live_status_http(target_status_t *st, const tr_http_response_t *resp)
{
    if (resp->status >= 200 && resp->status < 300) {
        target_status_ok(st);
        return;
    }
    int code;
    char name[48], detail[200];
    tr_rest_error(resp, &code, name, sizeof name, detail, sizeof detail);
    target_status_set(st, resp->status, code, *name ? name : "HttpError", detail);
}

void live_status_body(target_status_t *st, int status, const char *body, size_t len)
{
    tr_http_response_t r;
    memset(&r, 0, sizeof r);
    r.status = status;
    r.body = (char *)(uintptr_t)body;
    r.body_len = len;
    live_status_http(st, &r);
}

static bool req_done(void *arg)
{
    return tr_http_done(arg);
}

bool live_call(conform_target_t *t, hs_err_t start_err, tr_http_req_t *req, const char *why,
               target_status_t *st)
{
    if (start_err != HS_EOK) {
        live_status_transport(st, why);
        return false;
    }
    int64_t t0 = tr_now_ms();
    if (!live_wait(t, req_done, req, LIVE_OP_MS)) {
        char w[200];
        snprintf(w, sizeof w, "no HTTPS answer within %d ms", LIVE_OP_MS);
        live_status_transport(st, w);
        return false;
    }
    const tr_http_response_t *r = tr_http_result(req);
    if (r->failed) {
        live_status_transport(st, r->why);
        return false;
    }
    live_status_http(st, r);
    live_note_answer_ms(t, tr_now_ms() - t0);
    live_note_status(t, st);
    return true;
}

typedef struct {
    conform_target_t *t;
    bool (*pred)(void *);
    void *arg;
} wait_ctx_t;

static bool drained_pred(void *arg)
{
    wait_ctx_t *w = arg;
    live_drain(w->t);
    return w->pred ? w->pred(w->arg) : false;
}

bool live_wait(conform_target_t *t, bool (*pred)(void *), void *arg, int64_t ms)
{
    wait_ctx_t w = { t, pred, arg };
    bool ok = tr_loop_wait(t->loop, drained_pred, &w, ms);
    live_drain(t);
    return pred ? ok : true;
}

sim_time_t live_now(conform_target_t *t)
{
    return (sim_time_t)(tr_now_ms() - t->t0_ms) * 1000000;
}
