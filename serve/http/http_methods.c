/* Direct methods over REST: POST /twins/{id}[/modules/{mid}]/methods answered when the device (or the hub's deadline) answers, in kernel time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_internal.h"

/*
 * A call record lives from the invoke until the hub calls back: the hub
 * has no cancel, so a client that went away (http_api_cancel) only marks
 * its record; the device still gets the request and the record goes when
 * the hub answers.  The hub may answer from inside hub_method_invoke_json
 * (a device that responds from its sink): the record then answers at once
 * and the invoker frees it.
 */

struct http_call {
    http_api_t *api;
    http_call_t *prev, *next;
    uint64_t handle;
    http_respond_fn respond;
    void *ctx;
    bool cancelled;
    bool in_invoke;
    bool answered;
};

static void call_unlink(http_call_t *call)
{
    http_api_t *api = call->api;
    if (call->prev)
        call->prev->next = call->next;
    else
        api->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    api->outstanding--;
    if (!call->cancelled)
        api->pending--;
    free(call);
}

static void answer_result(const http_api_t *api, const hub_method_result_t *res, http_resp_t *r)
{
    if (res->http_status != 200) {
        http_resp_hub_error(r, api->opts.breaks, res->error, NULL);
        return;
    }
    const char *payload = res->payload && res->payload_len ? res->payload : "null";
    size_t plen = res->payload && res->payload_len ? res->payload_len : 4;
    if (api->opts.breaks & HTTP_BREAK_METHOD_BODY_FLAT) {
        http_resp_body(r, payload, plen, "application/json; charset=utf-8");
        return;
    }
    /* The device's payload is JSON the hub has checked: embed it verbatim. */
    char head[48];
    int n = snprintf(head, sizeof head, "{\"status\":%d,\"payload\":", res->device_status);
    size_t len = (size_t)n + plen + 1;
    char *body = malloc(len);
    if (!body) {
        r->failed = true;
        return;
    }
    memcpy(body, head, (size_t)n);
    memcpy(body + n, payload, plen);
    body[len - 1] = '}';
    http_resp_body(r, body, len, "application/json; charset=utf-8");
    free(body);
}

static void on_method_result(void *ctx, const hub_method_result_t *res)
{
    http_call_t *call = ctx;
    call->answered = true;
    if (!call->cancelled) {
        http_resp_t r;
        http_resp_init(&r, 200);
        answer_result(call->api, res, &r);
        http_resp_send(&r, call->respond, call->ctx);
    }
    if (!call->in_invoke)
        call_unlink(call);
}

/* Why the hub refused a body, as precisely as this layer can tell. */
static void explain_body(const http_request_t *req, char *why, size_t cap)
{
    json_t *doc = http_body_json(req, false, why, cap);
    if (!doc)
        return;
    const json_t *name = json_object_get(doc, "methodName");
    static const struct {
        const char *key;
        json_int_t lo, hi;
    } timeouts[] = { { "responseTimeoutInSeconds", 5, 300 }, { "connectTimeoutInSeconds", 0, 300 } };
    hub_msg_violation_t v;
    memset(&v, 0, sizeof v);
    if (!name)
        snprintf(why, cap, "methodName is required");
    else if (!json_is_string(name))
        snprintf(why, cap, "methodName: expected a string");
    else if (hub_msg_check_method_name(json_string_value(name), 0, &v) != HUB_EOK)
        snprintf(why, cap, "methodName: %s", v.detail);
    else
        snprintf(why, cap, "methodName '%.100s': see the direct-method payload and timeout rules",
                 json_string_value(name));
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        const json_t *t = json_object_get(doc, timeouts[i].key);
        if (!t || json_is_null(t))
            continue;
        if (!json_is_integer(t))
            snprintf(why, cap, "%s: expected an integer number of seconds", timeouts[i].key);
        else if (json_integer_value(t) < timeouts[i].lo || json_integer_value(t) > timeouts[i].hi)
            snprintf(why, cap, "%s %lld is outside %lld..%lld (the default bounds)", timeouts[i].key,
                     (long long)json_integer_value(t), (long long)timeouts[i].lo,
                     (long long)timeouts[i].hi);
    }
    json_decref(doc);
}

bool http_method_invoke(http_ctx_t *c, http_resp_t *r)
{
    http_api_t *api = c->api;
    http_call_t *call = calloc(1, sizeof *call);
    if (!call) {
        r->failed = true;
        return true;
    }
    call->api = api;
    call->handle = api->next_handle++;
    call->respond = c->respond;
    call->ctx = c->ctx;
    call->in_invoke = true;
    /* append: the list is oldest first */
    http_call_t **tail = &api->calls;
    http_call_t *prev = NULL;
    while (*tail) {
        prev = *tail;
        tail = &(*tail)->next;
    }
    call->prev = prev;
    *tail = call;
    api->outstanding++;
    api->pending++;

    hub_err_t e = hub_method_invoke_json(api->hub, c->dev, c->mod,
                                         c->req->body ? c->req->body : "", c->req->body_len,
                                         on_method_result, call, NULL);
    call->in_invoke = false;
    if (e != HUB_EOK) {
        call_unlink(call); /* the hub never calls back on a synchronous answer */
        char why[256] = "";
        if (e == HUB_EARGUMENT_INVALID || e == HUB_EARGUMENT_NULL)
            explain_body(c->req, why, sizeof why);
        http_resp_hub_error(r, api->opts.breaks, e, why[0] ? why : NULL);
        return true;
    }
    if (call->answered) {
        call_unlink(call);
        c->handle = 0;
        return false;
    }
    c->handle = call->handle;
    return false;
}

void http_calls_cancel(http_api_t *api, uint64_t handle)
{
    for (http_call_t *call = api->calls; call; call = call->next) {
        if (call->handle == handle && !call->cancelled && !call->answered) {
            call->cancelled = true;
            api->pending--;
            return;
        }
    }
}

void http_calls_free(http_api_t *api)
{
    while (api->calls)
        call_unlink(api->calls);
}
