/* Direct methods through the hub model: 404001/404103/504101, timeout bounds, connect window, payload and name rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

/* Every expected status, code and limit below is a literal from
 * direct-methods.txt or NOTES.md, never read back from the hub. */

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define EPOCH 1767225600LL

typedef struct {
    int calls;
    hub_method_result_t last;
    char payload[256];
} result_t;

typedef struct {
    int requests;
    char name[256];
    char rid[64];
    char payload[256];
    size_t payload_len;
    int disconnects;
    int disc_code;
    /* respond from inside the sink */
    int auto_status;
} sink_t;

enum { ACT_CONNECT_SUB, ACT_RESPOND, ACT_CONNECT };

typedef struct {
    int kind;
    sink_t *sink;
    hub_conn_t *conn;
    const char *module;
    int status;
    const char *payload;
} action_t;

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    uint32_t h_act;
    action_t acts[16];
    int nacts;
    sink_t sink;
    hub_conn_t conn;
} fx_t;

static void on_result(void *ctx, const hub_method_result_t *r)
{
    result_t *res = ctx;
    res->calls++;
    res->last = *r;
    snprintf(res->payload, sizeof res->payload, "%.*s", (int)r->payload_len,
             r->payload ? r->payload : "");
    res->last.payload = NULL;
}

static void sink_method(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                        const char *payload, size_t len)
{
    (void)conn;
    sink_t *s = ctx;
    s->requests++;
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->rid, sizeof s->rid, "%s", rid);
    snprintf(s->payload, sizeof s->payload, "%.*s", (int)len, payload);
    s->payload_len = len;
}

static void sink_disc(void *ctx, hub_conn_t conn, hub_err_t err, const char *reason)
{
    (void)conn;
    (void)reason;
    ((sink_t *)ctx)->disconnects++;
    ((sink_t *)ctx)->disc_code = hub_error_info(err)->code;
}

static const hub_sink_ops_t sink_ops = { .method_request = sink_method, .disconnected = sink_disc };

static hub_err_t connect_as(fx_t *f, const char *dev, const char *mod, sink_t *s, hub_conn_t *c)
{
    char res[512], tok[1024];
    if (mod)
        snprintf(res, sizeof res, "hubsim.azure-devices.net/devices/%s/modules/%s", dev, mod);
    else
        snprintf(res, sizeof res, "hubsim.azure-devices.net/devices/%s", dev);
    assert_int_equal(hub_sas_make(KEY, res, EPOCH + 86400, NULL, tok, sizeof tok), HS_EOK);
    hub_connect_params_t p = { .device_id = dev, .module_id = mod, .sas_token = tok };
    return hub_device_connect(f->hub, &p, &sink_ops, s, c);
}

static void on_action(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    fx_t *f = ctx;
    action_t *a = &f->acts[arg];
    switch (a->kind) {
    case ACT_CONNECT_SUB:
    case ACT_CONNECT:
        assert_int_equal(connect_as(f, "dev1", a->module, a->sink, a->conn), HUB_EOK);
        if (a->kind == ACT_CONNECT_SUB)
            assert_int_equal(hub_device_subscribe(f->hub, *a->conn, HUB_SUB_METHODS), HUB_EOK);
        break;
    case ACT_RESPOND:
        (void)hub_device_method_respond(f->hub, *a->conn, a->sink->rid, a->status, a->payload,
                                        a->payload ? strlen(a->payload) : 0);
        break;
    }
}

/* Schedule a device action at SIM_PRIO_DEVICE, as the fleet does. */
static void at(fx_t *f, sim_time_t t, action_t a)
{
    f->acts[f->nacts] = a;
    assert_int_equal(sim_kernel_at(f->k, t, SIM_PRIO_DEVICE, f->h_act, (uint64_t)f->nacts, NULL),
                     HS_EOK);
    f->nacts++;
}

static fx_t *fx_new(bool deadline_wins)
{
    fx_t *f = calloc(1, sizeof *f);
    f->k = sim_kernel_new(42, EPOCH);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.deadline_wins = deadline_wins;
    char why[256];
    assert_int_equal(hub_new(f->k, &cfg, &f->hub, why, sizeof why), HS_EOK);
    hub_config_free(&cfg);
    f->h_act = sim_kernel_register(f->k, on_action, f);
    hub_identity_spec_t s = { .device_id = "dev1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
    hub_identity_spec_t m = { .device_id = "dev1", .module_id = "mod1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    return f;
}

static void fx_online(fx_t *f)
{
    assert_int_equal(connect_as(f, "dev1", NULL, &f->sink, &f->conn), HUB_EOK);
    assert_int_equal(hub_device_subscribe(f->hub, f->conn, HUB_SUB_METHODS), HUB_EOK);
}

static void fx_free(fx_t *f)
{
    sim_kernel_run_until(f->k, sim_kernel_now(f->k) + 400 * SIM_SEC);
    char why[256];
    assert_int_equal(hub_check(f->hub, why, sizeof why), HS_EOK);
    assert_int_equal(hub_method_pending(f->hub), 0);
    hub_free(f->hub);
    assert_int_equal(sim_kernel_pending(f->k), 0);
    sim_kernel_free(f->k);
    free(f);
}

static hub_method_call_t call(const char *name)
{
    hub_method_call_t c = { .device_id = "dev1", .method_name = name, .payload = "{\"a\":1}",
                            .payload_len = 7 };
    return c;
}

/* ---- 404 split ---------------------------------------------------------- */

static void test_unknown_device_404001(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    hub_method_call_t c = call("reboot");
    c.device_id = "nosuch";
    result_t r = { 0 };
    hub_err_t e = hub_method_invoke(f->hub, &c, on_result, &r, NULL);
    assert_int_equal(hub_error_info(e)->http_status, 404);
    assert_int_equal(hub_error_info(e)->code, 404001);
    assert_int_equal(r.calls, 0);
    /* Even with a connect window an unknown device is 404001 at once. */
    c.has_connect_timeout = true;
    c.connect_timeout_s = 30;
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c, on_result, &r, NULL))->code, 404001);
    fx_free(f);
}

static void test_offline_404103(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    hub_method_call_t c = call("reboot");
    result_t r = { 0 };
    hub_err_t e = hub_method_invoke(f->hub, &c, on_result, &r, NULL);
    assert_int_equal(hub_error_info(e)->http_status, 404);
    assert_int_equal(hub_error_info(e)->code, 404103);
    /* Connected but never subscribed to $iothub/methods/POST/# counts as not online. */
    assert_int_equal(connect_as(f, "dev1", NULL, &f->sink, &f->conn), HUB_EOK);
    e = hub_method_invoke(f->hub, &c, on_result, &r, NULL);
    assert_int_equal(hub_error_info(e)->code, 404103);
    assert_int_equal(f->sink.requests, 0);
    /* Subscribed, then unsubscribed: offline again. */
    assert_int_equal(hub_device_subscribe(f->hub, f->conn, HUB_SUB_METHODS), HUB_EOK);
    assert_int_equal(hub_device_unsubscribe(f->hub, f->conn, HUB_SUB_METHODS), HUB_EOK);
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c, on_result, &r, NULL))->code, 404103);
    assert_int_equal(r.calls, 0);
    assert_int_equal(hub_counter(f->hub, "method.offline"), 3);
    fx_free(f);
}

/* ---- success and passthrough ------------------------------------------- */

static void test_success_passthrough_and_hex_rid(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    hub_method_call_t c = call("reboot");
    result_t r = { 0 };
    uint64_t id = 0;
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, &id), HUB_EOK);
    assert_int_equal(f->sink.requests, 1);
    assert_string_equal(f->sink.name, "reboot");
    assert_string_equal(f->sink.payload, "{\"a\":1}");
    /* "The request ID is a hexadecimal formatted value." */
    assert_true(strlen(f->sink.rid) > 0);
    assert_true(strspn(f->sink.rid, "0123456789abcdefABCDEF") == strlen(f->sink.rid));
    assert_int_equal(hub_method_pending(f->hub), 1);
    const char *resp = "{\"done\":true}";
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 201, resp, strlen(resp)),
                     HUB_EOK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last.http_status, 200);
    assert_int_equal(r.last.device_status, 201);
    assert_string_equal(r.payload, "{\"done\":true}");
    assert_true(r.last.call_id == id);
    /* Absent payload reaches the device as JSON null. */
    c.payload = NULL;
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    assert_string_equal(f->sink.payload, "null");
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, NULL, 0), HUB_EOK);
    assert_int_equal(r.calls, 2);
    fx_free(f);
}

/* ---- responseTimeout: default 30 s; 5..300 --------------------------------- */

static void run_response_at(bool deadline_wins, bool has_rt, int64_t rt_s, sim_time_t respond_at,
                            int expect_http, int expect_code)
{
    fx_t *f = fx_new(deadline_wins);
    fx_online(f);
    hub_method_call_t c = call("m");
    c.has_response_timeout = has_rt;
    c.response_timeout_s = rt_s;
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    at(f, respond_at, (action_t){ .kind = ACT_RESPOND, .sink = &f->sink, .conn = &f->conn,
                                  .status = 200, .payload = "1" });
    sim_kernel_run_until(f->k, respond_at + SIM_SEC);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last.http_status, expect_http);
    assert_int_equal(hub_error_info(r.last.error)->code, expect_code);
    fx_free(f);
}

static void test_response_timeout_boundaries(void **state)
{
    (void)state;
    /* default 30 s */
    run_response_at(true, false, 0, 30 * SIM_SEC - SIM_MS, 200, 0);
    run_response_at(true, false, 0, 30 * SIM_SEC + SIM_MS, 504, 504101);
    /* explicit 5 s and 300 s */
    run_response_at(true, true, 5, 5 * SIM_SEC - SIM_MS, 200, 0);
    run_response_at(true, true, 5, 5 * SIM_SEC + SIM_MS, 504, 504101);
    run_response_at(true, true, 300, 300 * SIM_SEC - SIM_MS, 200, 0);
    run_response_at(true, true, 300, 300 * SIM_SEC + SIM_MS, 504, 504101);
}

static void test_same_instant_knob(void **state)
{
    (void)state;
    /* A response exactly at responseTimeout: the deadline wins by default... */
    run_response_at(true, true, 5, 5 * SIM_SEC, 504, 504101);
    /* ...and the device wins with deadline_wins = false. */
    run_response_at(false, true, 5, 5 * SIM_SEC, 200, 0);
}

static void test_timeout_ranges(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    static const struct { int64_t v; int ok; } rts[] = { { 4, 0 }, { 5, 1 }, { 300, 1 }, { 301, 0 },
                                                         { 0, 0 }, { -1, 0 } };
    for (size_t i = 0; i < sizeof rts / sizeof rts[0]; i++) {
        hub_method_call_t c = call("m");
        c.has_response_timeout = true;
        c.response_timeout_s = rts[i].v;
        result_t r = { 0 };
        hub_err_t e = hub_method_invoke(f->hub, &c, on_result, &r, NULL);
        if (rts[i].ok) {
            assert_int_equal(e, HUB_EOK);
            assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
        } else {
            assert_int_equal(hub_error_info(e)->http_status, 400);
            assert_int_equal(hub_error_info(e)->code, 400004);
        }
    }
    static const struct { int64_t v; int ok; } cts[] = { { -1, 0 }, { 0, 1 }, { 300, 1 }, { 301, 0 } };
    for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++) {
        hub_method_call_t c = call("m");
        c.has_connect_timeout = true;
        c.connect_timeout_s = cts[i].v;
        result_t r = { 0 };
        hub_err_t e = hub_method_invoke(f->hub, &c, on_result, &r, NULL);
        if (cts[i].ok) {
            assert_int_equal(e, HUB_EOK);
            assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
        } else {
            assert_int_equal(hub_error_info(e)->code, 400004);
        }
    }
    fx_free(f);
}

/* ---- connectTimeout window ---------------------------------------------- */

static void run_connect_window(bool deadline_wins, int64_t ct_s, sim_time_t online_at,
                               int expect_http, int expect_code)
{
    fx_t *f = fx_new(deadline_wins);
    hub_method_call_t c = call("m");
    c.has_connect_timeout = true;
    c.connect_timeout_s = ct_s;
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    assert_int_equal(r.calls, 0);
    at(f, online_at, (action_t){ .kind = ACT_CONNECT_SUB, .sink = &f->sink, .conn = &f->conn });
    sim_kernel_run_until(f->k, online_at);
    if (f->sink.requests) {
        assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
    }
    sim_kernel_run_until(f->k, online_at + SIM_SEC);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last.http_status, expect_http);
    assert_int_equal(hub_error_info(r.last.error)->code, expect_code);
    fx_free(f);
}

static void test_connect_window(void **state)
{
    (void)state;
    run_connect_window(true, 10, 10 * SIM_SEC - SIM_MS, 200, 0);
    run_connect_window(true, 10, 10 * SIM_SEC + SIM_MS, 404, 404103);
    run_connect_window(true, 300, 300 * SIM_SEC - SIM_MS, 200, 0);
    run_connect_window(true, 300, 300 * SIM_SEC + SIM_MS, 404, 404103);
    /* exactly at the deadline */
    run_connect_window(true, 10, 10 * SIM_SEC, 404, 404103);
    run_connect_window(false, 10, 10 * SIM_SEC, 200, 0);
}

static void test_connect_window_needs_subscription(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    hub_method_call_t c = call("m");
    c.has_connect_timeout = true;
    c.connect_timeout_s = 10;
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    /* connects inside the window but never subscribes */
    at(f, 5 * SIM_SEC, (action_t){ .kind = ACT_CONNECT, .sink = &f->sink, .conn = &f->conn });
    sim_kernel_run_until(f->k, 11 * SIM_SEC);
    assert_int_equal(f->sink.requests, 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(hub_error_info(r.last.error)->code, 404103);
    fx_free(f);
}

/* ---- payload 128 KB -------------------------------------------------------- */

/* A JSON string of exactly n serialized bytes: quotes + n-2 letters. */
static char *json_string_of(size_t n)
{
    char *p = malloc(n + 1);
    p[0] = '"';
    memset(p + 1, 'x', n - 2);
    p[n - 1] = '"';
    p[n] = '\0';
    return p;
}

static void test_payload_limit(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    char *exact = json_string_of(131072), *over = json_string_of(131073);
    hub_method_call_t c = call("m");
    result_t r = { 0 };
    c.payload = exact;
    c.payload_len = 131072;
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    /* The device may answer with exactly 128 KB too... */
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, exact, 131072),
                     HUB_EOK);
    assert_int_equal(r.last.http_status, 200);
    assert_int_equal(r.last.payload_len, 131072);
    c.payload = over;
    c.payload_len = 131073;
    hub_err_t e = hub_method_invoke(f->hub, &c, on_result, &r, NULL);
    assert_int_equal(hub_error_info(e)->http_status, 400);
    assert_int_equal(hub_error_info(e)->code, 400004);
    /* ...but not with one byte more: refused (400 by default), the call waits on. */
    c.payload = "1";
    c.payload_len = 1;
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    e = hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, over, 131073);
    assert_int_equal(hub_error_info(e)->http_status, 400);
    assert_int_equal(hub_method_pending(f->hub), 1);
    /* Not JSON at all. */
    e = hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "{nope", 5);
    assert_int_equal(hub_error_info(e)->http_status, 400);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "[]", 2), HUB_EOK);
    assert_int_equal(hub_counter(f->hub, "method.bad_response"), 2);
    c.payload = "{nope";
    c.payload_len = 5;
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c, on_result, &r, NULL))->code, 400004);
    free(exact);
    free(over);
    fx_free(f);
}

/* ---- method names ------------------------------------------------------------ */

static void test_method_name_chars(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    /* direct-methods.txt: "$ ( ) < > @ , ; : \ " / [ ] ? = { } SP HT" are forbidden. */
    static const char forbidden[] = { '$', '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"',
                                      '/', '[', ']', '?', '=', '{', '}', ' ', '\t' };
    for (size_t i = 0; i < sizeof forbidden; i++) {
        char name[8] = { 'a', forbidden[i], 'b', 0 };
        hub_method_call_t c = call(name);
        result_t r = { 0 };
        hub_err_t e = hub_method_invoke(f->hub, &c, on_result, &r, NULL);
        assert_int_equal(hub_error_info(e)->code, 400004);
    }
    /* Not printable US-ASCII. */
    static const char *const others[] = { "a\x01", "a\x7f", "a\xc3\xa9", "" };
    for (size_t i = 0; i < 4; i++) {
        hub_method_call_t c = call(others[i]);
        assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c, NULL, NULL, NULL))->code, 400004);
    }
    /* Printable characters outside the list are fine. */
    hub_method_call_t ok = call("re-boot_now.v2!#%&'*+^`|~");
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &ok, on_result, &r, NULL), HUB_EOK);
    assert_string_equal(f->sink.name, "re-boot_now.v2!#%&'*+^`|~");
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
    /* Length: 100 characters [? edgeHub cap, the default of the knob] vs 101. */
    char n100[102];
    memset(n100, 'a', 101);
    n100[100] = '\0';
    hub_method_call_t c100 = call(n100);
    assert_int_equal(hub_method_invoke(f->hub, &c100, on_result, &r, NULL), HUB_EOK);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
    n100[100] = 'a';
    n100[101] = '\0';
    hub_method_call_t c101 = call(n100);
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c101, on_result, &r, NULL))->code, 400004);
    fx_free(f);
}

/* ---- late, unknown, concurrent ------------------------------------------------ */

static void test_late_and_unknown_responses(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    hub_method_call_t c = call("m");
    c.has_response_timeout = true;
    c.response_timeout_s = 5;
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    sim_kernel_run_until(f->k, 6 * SIM_SEC);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last.http_status, 504);
    /* The late response is dropped and counted; the caller hears nothing more. */
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(hub_counter(f->hub, "method.late_response"), 1);
    assert_int_equal(hub_counter(f->hub, "method.unknown_rid"), 0);
    /* Unknown and malformed rids are ignored and counted; the connection stays.
     * A forged rid naming a huge slot must not grow any table (one once
     * allocated ~600 MB): mallinfo2 counts the heap, mmapped blocks included,
     * in the plain build; under ASan it reads 0 and the check is vacuous. */
    struct mallinfo2 before = mallinfo2();
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, "abcdef0123", 200, "1", 1), HUB_EOK);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, "not-hex", 200, "1", 1), HUB_EOK);
    assert_int_equal(hub_counter(f->hub, "method.unknown_rid"), 2);
    assert_true(hub_device_is_connected(f->hub, f->conn));
    assert_int_equal(r.calls, 1);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, "7fffffff", 200, "1", 1), HUB_EOK);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, "ffffffffffffffff", 200, "1", 1), HUB_EOK);
    struct mallinfo2 after = mallinfo2();
    assert_true(after.uordblks + after.hblkhd < before.uordblks + before.hblkhd + 1024 * 1024);
    assert_int_equal(hub_counter(f->hub, "method.unknown_rid"), 4);
    fx_free(f);
}

static void test_concurrent_calls_independent(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    result_t r1 = { 0 }, r2 = { 0 };
    hub_method_call_t c = call("one");
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r1, NULL), HUB_EOK);
    char rid1[64];
    snprintf(rid1, sizeof rid1, "%s", f->sink.rid);
    c.method_name = "two";
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r2, NULL), HUB_EOK);
    assert_string_not_equal(rid1, f->sink.rid);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 202, "\"b\"", 3), HUB_EOK);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r1.calls, 0);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, rid1, 201, "\"a\"", 3), HUB_EOK);
    assert_int_equal(r1.last.device_status, 201);
    assert_string_equal(r1.payload, "\"a\"");
    assert_int_equal(r2.last.device_status, 202);
    assert_string_equal(r2.payload, "\"b\"");
    fx_free(f);
}

static void test_module_methods(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    sink_t ms = { 0 };
    hub_conn_t mc = 0;
    assert_int_equal(connect_as(f, "dev1", "mod1", &ms, &mc), HUB_EOK);
    hub_method_call_t c = call("m");
    c.module_id = "mod1";
    result_t r = { 0 };
    /* Module connected but not subscribed: 404103, although the device is online. */
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c, on_result, &r, NULL))->code, 404103);
    assert_int_equal(hub_device_subscribe(f->hub, mc, HUB_SUB_METHODS), HUB_EOK);
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    assert_int_equal(ms.requests, 1);
    assert_int_equal(f->sink.requests, 0);
    /* The device connection cannot answer the module's call. */
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, ms.rid, 200, "1", 1), HUB_EOK);
    assert_int_equal(r.calls, 0);
    assert_int_equal(hub_device_method_respond(f->hub, mc, ms.rid, 200, "1", 1), HUB_EOK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last.http_status, 200);
    /* An unknown module of a known device is 404 too. */
    c.module_id = "nosuch";
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c, on_result, &r, NULL))->http_status, 404);
    fx_free(f);
}

static void test_second_connection_gets_calls(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    sink_t s2 = { 0 };
    hub_conn_t c2 = 0;
    assert_int_equal(connect_as(f, "dev1", NULL, &s2, &c2), HUB_EOK);
    assert_int_equal(f->sink.disconnects, 1);
    /* troubleshooting page: 400027 ConnectionForcefullyClosedOnNewConnection */
    assert_int_equal(f->sink.disc_code, 400027);
    assert_false(hub_device_is_connected(f->hub, f->conn));
    hub_method_call_t c = call("m");
    result_t r = { 0 };
    /* The new connection has not subscribed yet. */
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &c, on_result, &r, NULL))->code, 404103);
    assert_int_equal(hub_device_subscribe(f->hub, c2, HUB_SUB_METHODS), HUB_EOK);
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    assert_int_equal(s2.requests, 1);
    assert_int_equal(hub_error_info(hub_device_method_respond(f->hub, f->conn, s2.rid, 200, "1", 1))->http_status,
                     401);
    assert_int_equal(hub_device_method_respond(f->hub, c2, s2.rid, 200, "1", 1), HUB_EOK);
    assert_int_equal(r.calls, 1);
    fx_free(f);
}

/* ---- REST body types ------------------------------------------------------ */

static void test_json_body(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    fx_online(f);
    static const char *const bad[] = {
        "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":\"30\"}",
        "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":5.5}",
        "{\"methodName\":\"m\",\"connectTimeoutInSeconds\":true}",
        "{\"methodName\":5}",
        "{\"payload\":{}}",
        "[\"methodName\"]",
        "{\"methodName\":\"m\"",
        "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":301}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hub_err_t e = hub_method_invoke_json(f->hub, "dev1", NULL, bad[i], strlen(bad[i]), NULL, NULL, NULL);
        assert_int_equal(hub_error_info(e)->http_status, 400);
    }
    const char *good = "{\"methodName\":\"reboot\",\"responseTimeoutInSeconds\":200,"
                       "\"connectTimeoutInSeconds\":200,\"payload\":{\"input1\":\"someInput\"}}";
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke_json(f->hub, "dev1", NULL, good, strlen(good), on_result, &r, NULL),
                     HUB_EOK);
    assert_string_equal(f->sink.payload, "{\"input1\":\"someInput\"}");
    at(f, 200 * SIM_SEC - SIM_MS, (action_t){ .kind = ACT_RESPOND, .sink = &f->sink, .conn = &f->conn,
                                              .status = 200, .payload = "{}" });
    sim_kernel_run_until(f->k, 201 * SIM_SEC);
    assert_int_equal(r.last.http_status, 200);
    fx_free(f);
}

/* ---- break switches flip the rule they name --------------------------------- */

static void test_break_switches(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    assert_int_equal(hub_break(f->hub, "NO-SUCH-RULE"), HS_ENOTFOUND);
    assert_int_equal(hub_break(f->hub, "METHOD-TIMEOUT-RANGE:off-by-one"), HS_EOK);
    assert_int_equal(hub_break(f->hub, "METHOD-PAYLOAD-LIMIT:off-by-one"), HS_EOK);
    assert_int_equal(hub_break(f->hub, "METHOD-404-UNKNOWN"), HS_EOK);
    fx_online(f);
    hub_method_call_t c = call("m");
    c.has_response_timeout = true;
    c.response_timeout_s = 301;
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
    char *exact = json_string_of(131072);
    hub_method_call_t p = call("m");
    p.payload = exact;
    p.payload_len = 131072;
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &p, on_result, &r, NULL))->code, 400004);
    free(exact);
    hub_method_call_t u = call("m");
    u.device_id = "nosuch";
    assert_int_equal(hub_error_info(hub_method_invoke(f->hub, &u, on_result, &r, NULL))->code, 404103);
    fx_free(f);
}

static void test_break_late_response_double_completion(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    assert_int_equal(hub_break(f->hub, "METHOD-LATE-RESPONSE"), HS_EOK);
    fx_online(f);
    hub_method_call_t c = call("m");
    c.has_response_timeout = true;
    c.response_timeout_s = 5;
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    sim_kernel_run_until(f->k, 6 * SIM_SEC);
    assert_int_equal(hub_device_method_respond(f->hub, f->conn, f->sink.rid, 200, "1", 1), HUB_EOK);
    assert_int_equal(r.calls, 2); /* the broken hub completes twice */
    fx_free(f);
}

static void test_method_dispatch_delay(void **state)
{
    (void)state;
    /* Delay 3 s, responseTimeout 5 s: the device hears at 3 s and answers at 4.999 s. */
    fx_t *f = fx_new(true);
    fx_online(f);
    assert_int_equal(hub_set_method_delay(f->hub, 3 * SIM_SEC), HS_EOK);
    hub_method_call_t c = call("m");
    c.has_response_timeout = true;
    c.response_timeout_s = 5;
    result_t r = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r, NULL), HUB_EOK);
    assert_int_equal(f->sink.requests, 0);
    sim_kernel_run_until(f->k, 3 * SIM_SEC - SIM_MS);
    assert_int_equal(f->sink.requests, 0);
    sim_kernel_run_until(f->k, 3 * SIM_SEC);
    assert_int_equal(f->sink.requests, 1);
    at(f, 5 * SIM_SEC - SIM_MS, (action_t){ .kind = ACT_RESPOND, .sink = &f->sink, .conn = &f->conn,
                                            .status = 200, .payload = "1" });
    sim_kernel_run_until(f->k, 6 * SIM_SEC);
    assert_int_equal(r.last.http_status, 200);
    /* Delay 6 s > 5 s: the call ends 504 and the request never arrives. */
    assert_int_equal(hub_set_method_delay(f->hub, 6 * SIM_SEC), HS_EOK);
    result_t r2 = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r2, NULL), HUB_EOK);
    sim_kernel_run_until(f->k, 20 * SIM_SEC);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(hub_error_info(r2.last.error)->code, 504101);
    assert_int_equal(f->sink.requests, 1);
    /* A call still waiting for its delayed hand-over when the hub is freed leaves no event behind. */
    assert_int_equal(hub_method_invoke(f->hub, &c, on_result, &r2, NULL), HUB_EOK);
    hub_free(f->hub);
    assert_int_equal(sim_kernel_pending(f->k), 0);
    sim_kernel_free(f->k);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_device_404001),
        cmocka_unit_test(test_offline_404103),
        cmocka_unit_test(test_success_passthrough_and_hex_rid),
        cmocka_unit_test(test_response_timeout_boundaries),
        cmocka_unit_test(test_same_instant_knob),
        cmocka_unit_test(test_timeout_ranges),
        cmocka_unit_test(test_connect_window),
        cmocka_unit_test(test_connect_window_needs_subscription),
        cmocka_unit_test(test_payload_limit),
        cmocka_unit_test(test_method_name_chars),
        cmocka_unit_test(test_late_and_unknown_responses),
        cmocka_unit_test(test_concurrent_calls_independent),
        cmocka_unit_test(test_module_methods),
        cmocka_unit_test(test_second_connection_gets_calls),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_break_switches),
        cmocka_unit_test(test_break_late_response_double_completion),
        cmocka_unit_test(test_method_dispatch_delay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
