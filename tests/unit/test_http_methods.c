/* Direct methods over REST: 200 {status,payload} answered in kernel time, 404001/404103, 504101 at the deadline, 400 bodies, cancel, and freeing with calls in flight. */
#include "test_http_fixture.h"

/* A device that records requests; the test answers when it likes. */
typedef struct {
    fx_t *f;
    hub_conn_t conn;
    int requests;
    char rid[64];
    char name[64];
    char payload[256];
    bool answer_inside; /* respond from inside the sink */
} device_t;

static void on_method(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                      const char *payload, size_t len)
{
    device_t *d = ctx;
    d->requests++;
    snprintf(d->rid, sizeof d->rid, "%s", rid);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->payload, sizeof d->payload, "%.*s", (int)len, payload);
    if (d->answer_inside)
        assert_int_equal(hub_device_method_respond(d->f->hub, conn, rid, 201, "\"done\"", 6), HUB_EOK);
}

static const hub_sink_ops_t device_ops = { .method_request = on_method };

static void device_online(fx_t *f, device_t *d)
{
    d->f = f;
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 86400, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = "dev1", .sas_token = tok };
    assert_int_equal(hub_device_connect(f->hub, &p, &device_ops, d, &d->conn), HUB_EOK);
    assert_int_equal(hub_device_subscribe(f->hub, d->conn, HUB_SUB_METHODS), HUB_EOK);
}

typedef struct {
    device_t *d;
    int status;
    const char *payload;
} answer_t;

static void answer_later(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    answer_t *a = ctx;
    assert_int_equal(hub_device_method_respond(a->d->f->hub, a->d->conn, a->d->rid, a->status, a->payload,
                                               strlen(a->payload)),
                     HUB_EOK);
}

static void test_method_200_later(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    device_t d = { 0 };
    device_online(f, &d);
    capture_t c;
    uint64_t h = fx_send(f, "POST", "/twins/dev1/methods?api-version=2021-04-12", f->svc_token,
                         (const char *[]){ "Content-Type: application/json; charset=utf-8", NULL },
                         "{\"methodName\":\"reboot\",\"payload\":{\"delay\":3},\"responseTimeoutInSeconds\":30}",
                         &c);
    assert_int_not_equal(h, 0);
    assert_int_equal(c.calls, 0);
    assert_int_equal(http_api_pending(f->api), 1);
    assert_int_equal(d.requests, 1);
    assert_string_equal(d.name, "reboot");
    assert_string_equal(d.payload, "{\"delay\":3}");
    /* the device answers 2 s later, in kernel time */
    answer_t a = { &d, 200, "{\"rebooted\":true}" };
    uint32_t hid = sim_kernel_register(f->k, answer_later, &a);
    assert_int_equal(sim_kernel_after(f->k, 2 * SIM_SEC, SIM_PRIO_DEVICE, hid, 0, NULL), HS_EOK);
    sim_kernel_run_until(f->k, 1 * SIM_SEC);
    assert_int_equal(c.calls, 0);
    sim_kernel_run_until(f->k, 3 * SIM_SEC);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "{\"status\":200,\"payload\":{\"rebooted\":true}}");
    assert_non_null(strstr(cap_header(&c, "Content-Type"), "application/json"));
    assert_int_equal(http_api_pending(f->api), 0);
    assert_int_equal(http_api_outstanding(f->api), 0);
    fx_free(f);
}

static void test_method_answered_inside_sink(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    device_t d = { .answer_inside = true };
    device_online(f, &d);
    capture_t c;
    /* no payload: the device sees null */
    uint64_t h = fx_send(f, "POST", "/twins/dev1/methods", f->svc_token, NULL, "{\"methodName\":\"ping\"}", &c);
    assert_int_equal(h, 0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "{\"status\":201,\"payload\":\"done\"}");
    assert_string_equal(d.payload, "null");
    assert_int_equal(http_api_outstanding(f->api), 0);
    fx_free(f);
}

static void test_method_404_split(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    fx_svc(f, "POST", "/twins/ghost/methods", NULL, "{\"methodName\":\"m\"}", &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    /* registered but offline, connectTimeout 0 */
    fx_svc(f, "POST", "/twins/dev1/methods", NULL, "{\"methodName\":\"m\"}", &c);
    assert_hub_error(&c, 404, "DeviceNotOnline");
    /* offline for a 10 s connect window: the 404 comes at its end */
    uint64_t h = fx_send(f, "POST", "/twins/dev1/methods", f->svc_token, NULL,
                         "{\"methodName\":\"m\",\"connectTimeoutInSeconds\":10}", &c);
    assert_int_not_equal(h, 0);
    sim_kernel_run_until(f->k, 9 * SIM_SEC);
    assert_int_equal(c.calls, 0);
    sim_kernel_run_until(f->k, 11 * SIM_SEC);
    assert_int_equal(c.calls, 1);
    assert_hub_error(&c, 404, "DeviceNotOnline");
    /* module methods: unknown module */
    fx_svc(f, "POST", "/twins/dev1/modules/nomod/methods", NULL, "{\"methodName\":\"m\"}", &c);
    assert_hub_error(&c, 404, "ModuleNotFound");
    fx_free(f);
}

static void test_method_504(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    device_t d = { 0 };
    device_online(f, &d);
    capture_t c;
    uint64_t h = fx_send(f, "POST", "/twins/dev1/methods", f->svc_token, NULL,
                         "{\"methodName\":\"slow\",\"responseTimeoutInSeconds\":5}", &c);
    assert_int_not_equal(h, 0);
    sim_kernel_run_until(f->k, 5 * SIM_SEC - 1);
    assert_int_equal(c.calls, 0);
    sim_kernel_run_until(f->k, 5 * SIM_SEC);
    assert_int_equal(c.calls, 1);
    assert_hub_error(&c, 504, "GatewayTimeout");
    /* a late answer changes nothing */
    assert_int_equal(hub_device_method_respond(f->hub, d.conn, d.rid, 200, "1", 1), HUB_EOK);
    assert_int_equal(c.calls, 1);
    fx_free(f);
}

static void test_method_bad_bodies(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    device_t d = { 0 };
    device_online(f, &d);
    capture_t c;
    static const struct {
        const char *body;
        const char *detail;
    } bad[] = {
        { "{\"methodName\":", "not JSON: line 1" },
        { "{\"payload\":1}", "methodName is required" },
        { "{\"methodName\":7}", "methodName: expected a string" },
        { "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":5.5}", "responseTimeoutInSeconds: expected an integer" },
        { "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":301}", "responseTimeoutInSeconds 301 is outside 5..300" },
        { "{\"methodName\":\"a b\"}", "methodName: " },
        { NULL, "the request body is empty" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_svc(f, "POST", "/twins/dev1/methods", NULL, bad[i].body, &c);
        assert_int_equal(c.status, 400);
        assert_non_null(cap_header(&c, "iothub-errorcode"));
        if (!strstr(c.body, bad[i].detail))
            fail_msg("body %s lacks %s", c.body, bad[i].detail);
    }
    assert_int_equal(d.requests, 0);
    assert_int_equal(http_api_outstanding(f->api), 0);
    fx_free(f);
}

static void test_method_cancel(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    device_t d = { 0 };
    device_online(f, &d);
    capture_t c1, c2;
    uint64_t h1 = fx_send(f, "POST", "/twins/dev1/methods", f->svc_token, NULL,
                          "{\"methodName\":\"a\",\"responseTimeoutInSeconds\":5}", &c1);
    uint64_t h2 = fx_send(f, "POST", "/twins/dev1/methods", f->svc_token, NULL,
                          "{\"methodName\":\"b\",\"responseTimeoutInSeconds\":5}", &c2);
    assert_int_not_equal(h1, 0);
    assert_int_not_equal(h2, h1);
    assert_int_equal(http_api_pending(f->api), 2);
    http_api_cancel(f->api, h1);
    http_api_cancel(f->api, h1); /* twice is harmless */
    assert_int_equal(http_api_pending(f->api), 1);
    assert_int_equal(http_api_outstanding(f->api), 2);
    sim_kernel_run_until(f->k, 6 * SIM_SEC);
    assert_int_equal(c1.calls, 0); /* never answered: the client left */
    assert_int_equal(c2.calls, 1);
    assert_int_equal(c2.status, 504);
    assert_int_equal(http_api_outstanding(f->api), 0);
    fx_free(f);
}

static void test_free_hub_then_api_with_calls_in_flight(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    device_t d = { 0 };
    device_online(f, &d);
    capture_t c;
    uint64_t h = fx_send(f, "POST", "/twins/dev1/methods", f->svc_token, NULL, "{\"methodName\":\"a\"}", &c);
    assert_int_not_equal(h, 0);
    /* serve's shutdown order: the hub first (it calls nobody back), then the api */
    hub_free(f->hub);
    assert_int_equal(c.calls, 0);
    http_api_free(f->api); /* frees the waiting record: ASan checks */
    sim_kernel_free(f->k);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_200_later),
        cmocka_unit_test(test_method_answered_inside_sink),
        cmocka_unit_test(test_method_404_split),
        cmocka_unit_test(test_method_504),
        cmocka_unit_test(test_method_bad_bodies),
        cmocka_unit_test(test_method_cancel),
        cmocka_unit_test(test_free_hub_then_api_with_calls_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
