/* Conformance cases for direct methods (direct-methods.txt): 404s, timeouts and their bounds, payload and name limits, passthrough. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/case.h"

/* Every number below is the spec's: responseTimeoutInSeconds 5..300 (default
 * 30), connectTimeoutInSeconds 0..300 (default 0), payloads 128 KB =
 * 131072 bytes, 404001 / 404010 / 404103 / 504101, 400004 for refusals
 * (NOTES.md [?]), method names capped at 100 characters (knob default). */

#define MS ((sim_time_t)1000000)
#define SEC ((sim_time_t)1000000000)

static target_call_t invoke_raw(conf_ctx_t *c, const char *dev, const char *mod, const char *body,
                                size_t len)
{
    target_call_t call = 0;
    target_status_t st;
    c->ops->method_invoke(c->t, dev, mod, body, len, &call, &st);
    return call;
}

/* The call was taken (pending or answered 200): not refused. */
static bool accepted(conf_ctx_t *c, target_call_t call, const char *what)
{
    target_method_result_t r;
    if (!c->ops->method_result(c->t, call, &r) || r.http == 200)
        return true;
    char exp[200];
    snprintf(exp, sizeof exp, "%.180s: accepted", what);
    return conf_check(c, false, exp, "refused %d %s (%d)", r.http, r.name, r.code);
}

static bool pending(conf_ctx_t *c, target_call_t call, const char *what)
{
    target_method_result_t r;
    if (!c->ops->method_result(c->t, call, &r))
        return true;
    char exp[200];
    snprintf(exp, sizeof exp, "%s: still waiting", what);
    return conf_check(c, false, exp, "answered %d %s (%d)", r.http, r.name, r.code);
}

/* ---- METHOD-404-UNKNOWN ------------------------------------------------------ */

static void m404_unknown_device(conf_ctx_t *c)
{
    target_call_t call = conf_invoke(c, "nobody", NULL, "{\"methodName\":\"m\",\"payload\":null}");
    conf_method(c, call, 404, 404001, "call to an unregistered device");
}

static void m404_unknown_module(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_call_t call = conf_invoke(c, "d1", "nomod", "{\"methodName\":\"m\",\"payload\":null}");
    conf_method(c, call, 404, 404010, "call to an unregistered module");
}

/* ---- METHOD-404-OFFLINE ------------------------------------------------------ */

static void m404_offline(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":null}");
    conf_method(c, call, 404, 404103, "call to a registered, never connected device");
}

static void m404_unsubscribed(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":null}");
    conf_method(c, call, 404, 404103, "call to a connected device not subscribed to methods");
}

static void m404_disconnected(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    c->ops->device_disconnect(c->t, conn);
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":null}");
    conf_method(c, call, 404, 404103, "call to a device that subscribed and then disconnected");
}

/* ---- METHOD-CONNECT-TIMEOUT-WINDOW ------------------------------------------- */

/* The device comes online `at` after the call (connectTimeout window_s). */
static void window_at(conf_ctx_t *c, int window_s, sim_time_t at, bool inside)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL,
                                     "{\"methodName\":\"m\",\"payload\":1,\"connectTimeoutInSeconds\":%d,"
                                     "\"responseTimeoutInSeconds\":30}",
                                     window_s);
    conf_advance(c, at);
    char what[120];
    snprintf(what, sizeof what, "before the device comes online inside connectTimeout %d s", window_s);
    if (inside && !pending(c, call, what))
        return;
    snprintf(what, sizeof what, "connectTimeout %d s passed, device came 1 ms later", window_s);
    if (!inside && !conf_method(c, call, 404, 404103, what))
        return;
    target_conn_t conn;
    target_status_t st;
    if (!conf_connect(c, "d1", NULL, &conn, NULL))
        return;
    c->ops->device_subscribe(c->t, conn, TARGET_SUB_METHODS, &st);
    target_event_t ev;
    bool got = conf_next_method(c, conn, &ev);
    if (!inside) {
        conf_check(c, !got, "no request delivered after the window closed", "request %s delivered",
                   got ? ev.method_name : "");
        return;
    }
    if (!conf_check(c, got, "the pending call delivered when the device subscribes 1 ms before the window ends",
                    "nothing delivered"))
        return;
    c->ops->device_method_respond(c->t, conn, ev.rid, 200, "{}", 2, &st);
    conf_method(c, call, 200, 0, "response to a call delivered inside the connect window");
}

static void window_inside(conf_ctx_t *c) { window_at(c, 10, 10 * SEC - MS, true); }
static void window_outside(conf_ctx_t *c) { window_at(c, 10, 10 * SEC + MS, false); }
static void window300_inside(conf_ctx_t *c) { window_at(c, 300, 300 * SEC - MS, true); }
static void window300_outside(conf_ctx_t *c) { window_at(c, 300, 300 * SEC + MS, false); }

/* ---- METHOD-504-TIMEOUT / METHOD-TIMEOUT-DEFAULT ------------------------------- */

/* Deliver a call with the given responseTimeout (0 = absent) and answer it
 * after `after`; expect 200 when inside, else 504101 already before. */
static void respond_after(conf_ctx_t *c, int timeout_s, sim_time_t after, bool inside)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t call = timeout_s
                             ? conf_invoke(c, "d1", NULL,
                                           "{\"methodName\":\"m\",\"payload\":1,\"responseTimeoutInSeconds\":%d}",
                                           timeout_s)
                             : conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":1}");
    target_event_t ev;
    if (!conf_check(c, conf_next_method(c, conn, &ev), "the request delivered to the online device",
                    "nothing delivered"))
        return;
    char rid[64];
    snprintf(rid, sizeof rid, "%s", ev.rid);
    conf_advance(c, after);
    char what[160];
    if (!inside) {
        snprintf(what, sizeof what, "no response %lld ms after the call (responseTimeout %d s)",
                 (long long)(after / MS), timeout_s ? timeout_s : 30);
        conf_method(c, call, 504, 504101, what);
        return;
    }
    if (!pending(c, call, "before the device answers inside responseTimeout"))
        return;
    target_status_t st;
    c->ops->device_method_respond(c->t, conn, rid, 200, "{\"ok\":true}", 11, &st);
    snprintf(what, sizeof what, "response %lld ms after the call (responseTimeout %d s)",
             (long long)(after / MS), timeout_s ? timeout_s : 30);
    conf_method(c, call, 200, 0, what);
}

static void r5_inside(conf_ctx_t *c) { respond_after(c, 5, 5 * SEC - MS, true); }
static void r5_outside(conf_ctx_t *c) { respond_after(c, 5, 5 * SEC + MS, false); }
static void r300_inside(conf_ctx_t *c) { respond_after(c, 300, 300 * SEC - MS, true); }
static void r300_outside(conf_ctx_t *c) { respond_after(c, 300, 300 * SEC + MS, false); }
static void rdef_inside(conf_ctx_t *c) { respond_after(c, 0, 30 * SEC - MS, true); }
static void rdef_outside(conf_ctx_t *c) { respond_after(c, 0, 30 * SEC + MS, false); }

static void connect_default_zero(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":1}");
    conf_method(c, call, 404, 404103, "no connectTimeoutInSeconds, device offline: answered at once");
}

/* ---- METHOD-TIMEOUT-RANGE ------------------------------------------------------ */

static void range_one(conf_ctx_t *c, const char *member, long long v, bool ok)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":1,\"%s\":%lld}",
                                     member, v);
    char what[120];
    snprintf(what, sizeof what, "%s %lld", member, v);
    if (ok)
        accepted(c, call, what);
    else
        conf_method(c, call, 400, 400004, what);
}

static void rt4(conf_ctx_t *c) { range_one(c, "responseTimeoutInSeconds", 4, false); }
static void rt5(conf_ctx_t *c) { range_one(c, "responseTimeoutInSeconds", 5, true); }
static void rt300(conf_ctx_t *c) { range_one(c, "responseTimeoutInSeconds", 300, true); }
static void rt301(conf_ctx_t *c) { range_one(c, "responseTimeoutInSeconds", 301, false); }
static void ctm1(conf_ctx_t *c) { range_one(c, "connectTimeoutInSeconds", -1, false); }
static void ct0(conf_ctx_t *c) { range_one(c, "connectTimeoutInSeconds", 0, true); }
static void ct300(conf_ctx_t *c) { range_one(c, "connectTimeoutInSeconds", 300, true); }
static void ct301(conf_ctx_t *c) { range_one(c, "connectTimeoutInSeconds", 301, false); }

/* ---- METHOD-PAYLOAD-LIMIT / METHOD-RESPONSE-LIMIT ------------------------------ */

/* A JSON string document of exactly `total` bytes: '"' + x... + '"'. */
static char *json_string_of(size_t total)
{
    char *s = malloc(total + 1);
    if (!s)
        return NULL;
    memset(s, 'x', total);
    s[0] = '"';
    s[total - 1] = '"';
    s[total] = '\0';
    return s;
}

static void request_payload(conf_ctx_t *c, size_t total, bool ok)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    char *p = json_string_of(total);
    size_t blen = total + 64;
    char *body = malloc(blen);
    if (!p || !body) {
        free(p);
        free(body);
        conf_error(c, "out of memory");
        return;
    }
    int n = snprintf(body, blen, "{\"methodName\":\"m\",\"payload\":%s}", p);
    target_call_t call = invoke_raw(c, "d1", NULL, body, (size_t)n);
    free(p);
    free(body);
    char what[120];
    snprintf(what, sizeof what, "request payload of %zu bytes", total);
    if (!ok) {
        conf_method(c, call, 400, 400004, what);
        return;
    }
    target_event_t ev;
    if (!accepted(c, call, what) ||
        !conf_check(c, conf_next_method(c, conn, &ev), "the request delivered", "nothing delivered"))
        return;
    conf_check(c, ev.payload_len == total, "the device receives the payload unchanged",
               "%zu bytes delivered", ev.payload_len);
}

static void req_exact(conf_ctx_t *c) { request_payload(c, 131072, true); }
static void req_over(conf_ctx_t *c) { request_payload(c, 131073, false); }

static void response_payload(conf_ctx_t *c, size_t total, bool ok)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":1,\"responseTimeoutInSeconds\":5}");
    target_event_t ev;
    if (!conf_check(c, conf_next_method(c, conn, &ev), "the request delivered", "nothing delivered"))
        return;
    char rid[64];
    snprintf(rid, sizeof rid, "%s", ev.rid);
    char *p = json_string_of(total);
    if (!p) {
        conf_error(c, "out of memory");
        return;
    }
    target_status_t st;
    c->ops->device_method_respond(c->t, conn, rid, 200, p, total, &st);
    free(p);
    char what[120];
    snprintf(what, sizeof what, "device response payload of %zu bytes", total);
    if (ok) {
        if (!conf_status(c, &st, 200, 0, what) || !conf_method(c, call, 200, 0, what))
            return;
        target_method_result_t r;
        c->ops->method_result(c->t, call, &r);
        conf_check(c, r.payload_len == total, "the caller receives the payload unchanged",
                   "%zu bytes", r.payload_len);
        return;
    }
    /* METHOD-RESPONSE-LIMIT knob default: 400, and the call keeps waiting. */
    if (!conf_status(c, &st, 400, 400004, what) || !pending(c, call, "after a refused response"))
        return;
    conf_advance(c, 5 * SEC + MS);
    conf_method(c, call, 504, 504101, "no acceptable response inside 5 s");
}

static void resp_exact(conf_ctx_t *c) { response_payload(c, 131072, true); }
static void resp_over(conf_ctx_t *c) { response_payload(c, 131073, false); }

/* ---- METHOD-NAME-CHARSET / METHOD-NAME-LENGTH ------------------------------------ */

static void name_try(conf_ctx_t *c, const char *name, bool ok)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    json_t *b = json_pack("{s:s,s:i}", "methodName", name, "payload", 1);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body) {
        conf_error(c, "cannot build the request body");
        return;
    }
    target_call_t call = invoke_raw(c, "d1", NULL, body, strlen(body));
    free(body);
    char what[200], shown[16];
    if (strlen(name) > 8)
        snprintf(what, sizeof what, "method name of %zu characters", strlen(name));
    else {
        const char *bad = name + 1;
        if (*bad == '\t')
            snprintf(shown, sizeof shown, "TAB");
        else if (*bad == ' ')
            snprintf(shown, sizeof shown, "SPACE");
        else
            snprintf(shown, sizeof shown, "'%c'", *bad);
        snprintf(what, sizeof what, "method name \"%s\" (holds %s)", name, shown);
    }
    if (ok) {
        target_event_t ev;
        if (accepted(c, call, what))
            conf_check(c, conf_next_method(c, conn, &ev) && strcmp(ev.method_name, name) == 0,
                       "the request delivered under the same name", "not delivered as sent");
    } else {
        conf_method(c, call, 400, 400004, what);
    }
}

#define NAME_CASE(fn, ch, label)                                                 \
    static void fn(conf_ctx_t *c) { name_try(c, "a" ch "b", false); }
NAME_CASE(nc_dollar, "$", "$")
NAME_CASE(nc_lpar, "(", "(")
NAME_CASE(nc_rpar, ")", ")")
NAME_CASE(nc_lt, "<", "<")
NAME_CASE(nc_gt, ">", ">")
NAME_CASE(nc_at, "@", "@")
NAME_CASE(nc_comma, ",", ",")
NAME_CASE(nc_semi, ";", ";")
NAME_CASE(nc_colon, ":", ":")
NAME_CASE(nc_bslash, "\\", "\\")
NAME_CASE(nc_quote, "\"", "\"")
NAME_CASE(nc_slash, "/", "/")
NAME_CASE(nc_lbr, "[", "[")
NAME_CASE(nc_rbr, "]", "]")
NAME_CASE(nc_q, "?", "?")
NAME_CASE(nc_eq, "=", "=")
NAME_CASE(nc_lcb, "{", "{")
NAME_CASE(nc_rcb, "}", "}")
NAME_CASE(nc_sp, " ", "space")
NAME_CASE(nc_tab, "\t", "tab")

static void nc_allowed(conf_ctx_t *c)
{
    name_try(c, "Reboot_now-2.x!#%&'*+^`|~", true);
}

static void name_len(conf_ctx_t *c, size_t n, bool ok)
{
    char name[128];
    memset(name, 'm', n);
    name[n] = '\0';
    name_try(c, name, ok);
}

static void nl_100(conf_ctx_t *c) { name_len(c, 100, true); }
static void nl_101(conf_ctx_t *c) { name_len(c, 101, false); }

/* ---- passthrough, module, late, unknown rid, rid hex, concurrency ------------- */

static void passthrough(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":{\"in\":1}}");
    target_event_t ev;
    if (!conf_check(c, conf_next_method(c, conn, &ev), "the request delivered", "nothing delivered"))
        return;
    target_status_t st;
    c->ops->device_method_respond(c->t, conn, ev.rid, 299, "{\"out\":[1,2]}", 13, &st);
    if (!conf_method(c, call, 200, 0, "a device answer with status 299"))
        return;
    target_method_result_t r;
    c->ops->method_result(c->t, call, &r);
    json_t *got = r.payload ? json_loadb(r.payload, r.payload_len, 0, NULL) : NULL;
    json_t *want = json_pack("{s:[i,i]}", "out", 1, 2);
    bool same = got && want && json_equal(got, want);
    json_decref(got);
    json_decref(want);
    if (!conf_check(c, r.device_status == 299, "status 299 passed through", "status %d",
                    r.device_status))
        return;
    conf_check(c, same, "payload {\"out\":[1,2]} passed through", "%.*s", (int)r.payload_len,
               r.payload ? r.payload : "(none)");
}

static void module_method(conf_ctx_t *c)
{
    target_conn_t dconn, mconn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &dconn) ||
        !conf_online(c, "d1", "m1", TARGET_SUB_METHODS, &mconn))
        return;
    target_call_t call = conf_invoke(c, "d1", "m1", "{\"methodName\":\"mm\",\"payload\":2}");
    target_event_t ev;
    if (!conf_check(c, !conf_next_method(c, dconn, &ev), "the device connection hears nothing",
                    "the device connection got %s", ev.method_name ? ev.method_name : "a request") ||
        !conf_check(c, conf_next_method(c, mconn, &ev), "the module connection hears the call",
                    "nothing delivered to the module"))
        return;
    target_status_t st;
    c->ops->device_method_respond(c->t, mconn, ev.rid, 200, "{}", 2, &st);
    conf_method(c, call, 200, 0, "module method answered");
}

static void late_response(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":1,\"responseTimeoutInSeconds\":5}");
    target_event_t ev;
    if (!conf_check(c, conf_next_method(c, conn, &ev), "the request delivered", "nothing delivered"))
        return;
    char rid[64];
    snprintf(rid, sizeof rid, "%s", ev.rid);
    conf_advance(c, 6 * SEC);
    if (!conf_method(c, call, 504, 504101, "no answer in 5 s"))
        return;
    target_status_t st;
    c->ops->device_method_respond(c->t, conn, rid, 200, "{}", 2, &st);
    if (!conf_method(c, call, 504, 504101, "the caller's answer after a late response"))
        return;
    conf_check(c, c->ops->device_connected(c->t, conn), "the device stays connected (knob: drop)",
               "connection closed");
}

static void unknown_rid(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_status_t st;
    /* No call was made in this case, so every id is unknown; a small one
     * keeps the suite fast (the hub grows a table up to the id's slot). */
    c->ops->device_method_respond(c->t, conn, "7fffffff", 200, "{}", 2, &st);
    conf_check(c, c->ops->device_connected(c->t, conn),
               "a response with a never-issued request id is ignored, device stays connected",
               "the connection was closed");
}

static void rid_hex(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "{\"methodName\":\"m\",\"payload\":1}");
    target_event_t ev;
    if (!conf_check(c, conf_next_method(c, conn, &ev), "the request delivered", "nothing delivered"))
        return;
    bool hex = ev.rid && *ev.rid && strspn(ev.rid, "0123456789abcdefABCDEF") == strlen(ev.rid);
    if (!conf_check(c, hex, "$rid is a hexadecimal value", "$rid=%s", ev.rid ? ev.rid : "(none)"))
        return;
    target_status_t st;
    c->ops->device_method_respond(c->t, conn, ev.rid, 200, "{}", 2, &st);
    conf_method(c, call, 200, 0, "answer with the same $rid");
}

static void concurrent(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t a = conf_invoke(c, "d1", NULL, "{\"methodName\":\"first\",\"payload\":1}");
    target_call_t b = conf_invoke(c, "d1", NULL, "{\"methodName\":\"second\",\"payload\":2}");
    if (!accepted(c, b, "a second call while the first is in flight"))
        return;
    target_event_t e1, e2;
    char rid1[64] = "", rid2[64] = "";
    if (conf_next_method(c, conn, &e1))
        snprintf(rid1, sizeof rid1, "%s", e1.rid);
    bool two = conf_next_method(c, conn, &e2);
    if (two)
        snprintf(rid2, sizeof rid2, "%s", e2.rid);
    if (!conf_check(c, rid1[0] && two, "both requests delivered without waiting", "only %d delivered",
                    rid1[0] ? 1 : 0))
        return;
    target_status_t st;
    /* answer in reverse order: completion order is free */
    c->ops->device_method_respond(c->t, conn, rid2, 200, "{}", 2, &st);
    c->ops->device_method_respond(c->t, conn, rid1, 200, "{}", 2, &st);
    if (conf_method(c, a, 200, 0, "first call"))
        conf_method(c, b, 200, 0, "second call");
}

const conf_case_t conf_cases_methods[] = {
    { "METHOD-404-UNKNOWN", "unregistered device: 404001", m404_unknown_device, 0, NULL, false },
    { "METHOD-404-UNKNOWN", "unregistered module: 404010", m404_unknown_module, 0, NULL, false },
    { "METHOD-404-OFFLINE", "registered, never connected: 404103", m404_offline, 0, NULL, false },
    { "METHOD-404-OFFLINE", "connected, not subscribed: 404103", m404_unsubscribed, 0, NULL, false },
    { "METHOD-404-OFFLINE", "subscribed, then disconnected: 404103", m404_disconnected, 0, NULL, false },
    { "METHOD-CONNECT-TIMEOUT-WINDOW", "online 1 ms before connectTimeout 10 s: delivered",
      window_inside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-CONNECT-TIMEOUT-WINDOW", "online 1 ms after connectTimeout 10 s: 404103",
      window_outside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-CONNECT-TIMEOUT-WINDOW", "online 1 ms before connectTimeout 300 s: delivered",
      window300_inside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-CONNECT-TIMEOUT-WINDOW", "online 1 ms after connectTimeout 300 s: 404103",
      window300_outside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-504-TIMEOUT", "response 1 ms before responseTimeout 5 s: 200", r5_inside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-504-TIMEOUT", "no response by responseTimeout 5 s + 1 ms: 504101", r5_outside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-504-TIMEOUT", "response 1 ms before responseTimeout 300 s: 200", r300_inside,
      TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-504-TIMEOUT", "no response by responseTimeout 300 s + 1 ms: 504101", r300_outside,
      TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-TIMEOUT-DEFAULT", "no responseTimeout: answered at 30 s - 1 ms", rdef_inside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-TIMEOUT-DEFAULT", "no responseTimeout: 504 at 30 s + 1 ms", rdef_outside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-TIMEOUT-DEFAULT", "no connectTimeout: offline device answered 404 at once",
      connect_default_zero, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "responseTimeout 4 s refused", rt4, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "responseTimeout 5 s accepted", rt5, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "responseTimeout 300 s accepted", rt300, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "responseTimeout 301 s refused", rt301, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "connectTimeout -1 s refused", ctm1, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "connectTimeout 0 s accepted", ct0, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "connectTimeout 300 s accepted", ct300, 0, NULL, false },
    { "METHOD-TIMEOUT-RANGE", "connectTimeout 301 s refused", ct301, 0, NULL, false },
    { "METHOD-PAYLOAD-LIMIT", "request payload of exactly 131072 bytes accepted", req_exact, 0, NULL, false },
    { "METHOD-PAYLOAD-LIMIT", "request payload of 131073 bytes refused", req_over, 0, NULL, false },
    { "METHOD-PAYLOAD-LIMIT", "response payload of exactly 131072 bytes delivered", resp_exact, 0, NULL, false },
    { "METHOD-RESPONSE-LIMIT", "response payload of 131073 bytes refused with 400, call waits",
      resp_over, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '$' refused", nc_dollar, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '(' refused", nc_lpar, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with ')' refused", nc_rpar, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '<' refused", nc_lt, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '>' refused", nc_gt, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '@' refused", nc_at, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with ',' refused", nc_comma, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with ';' refused", nc_semi, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with ':' refused", nc_colon, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '\\' refused", nc_bslash, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '\"' refused", nc_quote, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '/' refused", nc_slash, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '[' refused", nc_lbr, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with ']' refused", nc_rbr, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '?' refused", nc_q, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '=' refused", nc_eq, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '{' refused", nc_lcb, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with '}' refused", nc_rcb, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with a space refused", nc_sp, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name with a tab refused", nc_tab, 0, NULL, false },
    { "METHOD-NAME-CHARSET", "name of allowed symbols accepted", nc_allowed, 0, NULL, false },
    { "METHOD-NAME-LENGTH", "name of 100 characters accepted", nl_100, 0, NULL, false },
    { "METHOD-NAME-LENGTH", "name of 101 characters refused", nl_101, 0, NULL, false },
    { "METHOD-RESPONSE-PASSTHROUGH", "device status 299 and payload reach the caller unchanged",
      passthrough, 0, NULL, false },
    { "METHOD-MODULE", "module method delivered to the module's connection only", module_method, 0, NULL, false },
    { "METHOD-LATE-RESPONSE", "response after the 504 is dropped", late_response, 0, NULL, false },
    { "METHOD-UNKNOWN-RID", "response with a never-issued $rid ignored", unknown_rid, 0, NULL, false },
    { "METHOD-RID-HEX", "$rid is hexadecimal and answers the call", rid_hex, 0, NULL, false },
    { "METHOD-CONCURRENT", "two calls in flight both delivered and answered", concurrent, 0, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
