/* REST API front door: routes (404/405), path decoding, api-version knob, body cap (413), service auth (401), the error format, and every wire break. */
#include "test_http_fixture.h"

static void test_unknown_route_404(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    fx_svc(f, "GET", "/nothing/here", NULL, NULL, &c);
    assert_hub_error(&c, 404, "NotFound");
    assert_non_null(strstr(c.body, "/nothing/here"));
    fx_svc(f, "GET", "/", NULL, NULL, &c);
    assert_int_equal(c.status, 404);
    fx_svc(f, "GET", "/devices/dev1/a/b/c/d/e/f/g/h", NULL, NULL, &c);
    assert_int_equal(c.status, 404);
    fx_free(f);
}

static void test_wrong_method_405(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    fx_svc(f, "POST", "/devices/dev1", NULL, "{}", &c);
    assert_hub_error(&c, 405, "MethodNotAllowed");
    assert_string_equal(cap_header(&c, "Allow"), "GET, PUT, DELETE");
    fx_svc(f, "GET", "/twins/dev1/methods", NULL, NULL, &c);
    assert_int_equal(c.status, 405);
    assert_string_equal(cap_header(&c, "Allow"), "POST");
    fx_free(f);
}

static void test_path_decoding(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    hub_identity_spec_t s = { .device_id = "a:b+c$d", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
    capture_t c;
    /* percent-encoded id, query inside the path, trailing slash, literal case */
    fx_svc(f, "GET", "/DEVICES/a%3Ab%2Bc%24d/?api-version=2021-04-12", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    json_t *doc = cap_json(&c);
    assert_string_equal(json_string_value(json_object_get(doc, "deviceId")), "a:b+c$d");
    json_decref(doc);
    /* ids are case-sensitive */
    fx_svc(f, "GET", "/devices/DEV1", NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    /* a bad escape is a precise 400 */
    fx_svc(f, "GET", "/devices/dev%zz", NULL, NULL, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_non_null(strstr(c.body, "percent-escape"));
    fx_svc(f, "GET", "/devices/dev%00", NULL, NULL, &c);
    assert_int_equal(c.status, 400);
    fx_free(f);
}

static void test_api_version_knob(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    /* default: optional, any value */
    fx_svc(f, "GET", "/devices/dev1", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    fx_svc(f, "GET", "/devices/dev1?api-version=1999-01-01", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    fx_free(f);

    http_api_opts_t o = { .require_api_version = true };
    f = fx_new_opts(&o);
    fx_svc(f, "GET", "/devices/dev1", NULL, NULL, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_non_null(strstr(c.body, "api-version"));
    http_request_t req = { .method = "GET", .path = "/devices/dev1", .query = "top=1&api-version=2021-04-12",
                           .headers = &(http_header_t){ "authorization", f->svc_token }, .n_headers = 1 };
    memset(&c, 0, sizeof c);
    assert_int_equal(http_api_handle(f->api, &req, fx_capture, &c), 0);
    assert_int_equal(c.status, 200);
    fx_free(f);
}

static void test_body_cap_413(void **state)
{
    (void)state;
    http_api_opts_t o = { .max_body_bytes = 16 };
    fx_t *f = fx_new_opts(&o);
    capture_t c;
    fx_svc(f, "PUT", "/devices/dev2", NULL, "{\"deviceId\":\"dev2\"}", &c); /* 19 bytes */
    assert_hub_error(&c, 413, "MessageTooLarge");
    assert_non_null(strstr(c.body, "19 bytes"));
    fx_svc(f, "PUT", "/devices/dev2", NULL, "{}", &c);
    assert_int_equal(c.status, 200);
    fx_free(f);
}

static void test_service_auth_401(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    /* no Authorization */
    assert_int_equal(fx_send(f, "GET", "/devices/dev1", NULL, NULL, NULL, &c), 0);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    assert_non_null(strstr(c.body, "Authorization header is missing"));
    /* garbage, and a device token on a service route */
    fx_send(f, "GET", "/devices/dev1", "Bearer x", NULL, NULL, &c);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    fx_send(f, "GET", "/devices/dev1", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 401);
    /* rights: registryRead reads but does not write; service cannot read the registry */
    const hub_config_policy_t *rr = hub_config_find_policy(hub_config(f->hub), "registryRead");
    assert_int_equal(hub_sas_make(rr->primary_key, HOST, EPOCH + 3600, "registryRead", tok, sizeof tok), HS_EOK);
    fx_send(f, "GET", "/devices/dev1", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    fx_send(f, "DELETE", "/devices/dev1", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 401);
    fx_send(f, "GET", "/twins/dev1", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 401);
    const hub_config_policy_t *sv = hub_config_find_policy(hub_config(f->hub), "service");
    assert_int_equal(hub_sas_make(sv->primary_key, HOST, EPOCH + 3600, "service", tok, sizeof tok), HS_EOK);
    fx_send(f, "GET", "/twins/dev1", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    fx_send(f, "GET", "/devices/dev1", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 401);
    /* expiry follows the kernel's clock */
    sim_kernel_run_until(f->k, 3600 * SIM_SEC);
    fx_send(f, "GET", "/twins/dev1", tok, NULL, NULL, &c);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    fx_free(f);
}

static void test_hub_error_body_from_table(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    fx_svc(f, "GET", "/devices/ghost", NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    /* exactly the hub's formatter's text, which the SDKs split on ':' and ';' */
    char want[512];
    hub_error_body(HUB_EDEVICE_NOT_FOUND, NULL, want, sizeof want);
    assert_string_equal(c.body, want);
    fx_svc(f, "GET", "/devices/dev1/modules/ghost", NULL, NULL, &c);
    assert_hub_error(&c, 404, "ModuleNotFound");
    fx_free(f);
}

/* ---- wire breaks: each must make its own check fail ----------------------- */

typedef bool (*rule_check_fn)(fx_t *f);

static bool chk_errorcode_header(fx_t *f)
{
    capture_t c;
    fx_svc(f, "GET", "/devices/ghost", NULL, NULL, &c);
    const char *h = cap_header(&c, "iothub-errorcode");
    return h && strcmp(h, "DeviceNotFound") == 0;
}

static bool chk_error_body_prefix(fx_t *f)
{
    capture_t c;
    fx_svc(f, "GET", "/devices/ghost", NULL, NULL, &c);
    return strncmp(c.body, "{\"Message\":\"ErrorCode:DeviceNotFound;", 37) == 0;
}

static bool chk_error_status(fx_t *f)
{
    capture_t c;
    fx_svc(f, "GET", "/devices/ghost", NULL, NULL, &c);
    return c.status == 404;
}

static bool chk_c2d_etag_quoted(fx_t *f)
{
    hub_msg_t *m = hub_msg_new();
    hub_msg_set_body(m, "x", 1);
    assert_int_equal(hub_c2d_send(f->hub, "dev1", m, 0, NULL), HUB_EOK);
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    capture_t c;
    fx_send(f, "GET", "/devices/dev1/messages/devicebound", tok, NULL, NULL, &c);
    const char *e = cap_header(&c, "ETag");
    assert_non_null(e);
    size_t n = strlen(e);
    /* what the Node SDK does: strip one character each side */
    char lock[64];
    snprintf(lock, sizeof lock, "%.*s", (int)(n >= 2 ? n - 2 : 0), e + 1);
    char path[160];
    snprintf(path, sizeof path, "/devices/dev1/messages/devicebound/%s", lock);
    fx_send(f, "DELETE", path, tok, NULL, NULL, &c);
    return c.status == 204;
}

static bool chk_d2c_app(fx_t *f)
{
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    capture_t c;
    const char *h[] = { "iothub-app-k: v", NULL };
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, h, "b", &c);
    assert_int_equal(c.status, 204);
    return f->ep.n_app == 1 && strcmp(f->ep.app_name[0], "k") == 0;
}

static bool chk_d2c_sys(fx_t *f)
{
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    capture_t c;
    const char *h[] = { "IoTHub-MessageId: m-1", NULL };
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, h, "b", &c);
    assert_int_equal(c.status, 204);
    return strcmp(f->ep.message_id, "m-1") == 0;
}

static bool chk_auth_required(fx_t *f)
{
    capture_t c;
    fx_send(f, "GET", "/devices/dev1", NULL, NULL, NULL, &c);
    return c.status == 401;
}

static void answer_inside(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                          const char *payload, size_t len)
{
    (void)name;
    (void)payload;
    (void)len;
    (void)hub_device_method_respond(ctx, conn, rid, 200, "{\"ok\":true}", 11);
}

static const hub_sink_ops_t inside_ops = { .method_request = answer_inside };

static bool chk_method_body(fx_t *f)
{
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = "dev1", .sas_token = tok };
    hub_conn_t conn;
    assert_int_equal(hub_device_connect(f->hub, &p, &inside_ops, f->hub, &conn), HUB_EOK);
    assert_int_equal(hub_device_subscribe(f->hub, conn, HUB_SUB_METHODS), HUB_EOK);
    capture_t c;
    fx_svc(f, "POST", "/twins/dev1/methods", NULL, "{\"methodName\":\"m\"}", &c);
    assert_int_equal(c.status, 200);
    return strcmp(c.body, "{\"status\":200,\"payload\":{\"ok\":true}}") == 0;
}

static bool chk_if_match(fx_t *f)
{
    capture_t c;
    const char *h[] = { "If-Match: \"stale\"", NULL };
    fx_svc(f, "PUT", "/devices/dev1", h, "{\"status\":\"enabled\"}", &c);
    return c.status == 412;
}

static const struct {
    const char *name;
    rule_check_fn check;
} break_checks[] = {
    { "http-no-errorcode-header", chk_errorcode_header },
    { "http-error-body-bare", chk_error_body_prefix },
    { "http-error-status-flat", chk_error_status },
    { "http-c2d-etag-unquoted", chk_c2d_etag_quoted },
    { "http-d2c-app-props-dropped", chk_d2c_app },
    { "http-d2c-sys-props-dropped", chk_d2c_sys },
    { "http-auth-skipped", chk_auth_required },
    { "http-method-body-flat", chk_method_body },
    { "http-if-match-ignored", chk_if_match },
};

static void test_every_break_kills_its_check(void **state)
{
    (void)state;
    size_t n = sizeof break_checks / sizeof break_checks[0];
    assert_int_equal(n, HTTP_BREAK__COUNT); /* a new break needs its check here */
    for (size_t i = 0; i < n; i++) {
        unsigned bit = http_break_lookup(break_checks[i].name);
        assert_int_not_equal(bit, 0);
        fx_t *f = fx_new();
        if (!break_checks[i].check(f))
            fail_msg("%s: the check fails without the break", break_checks[i].name);
        fx_free(f);
        http_api_opts_t o = { .breaks = bit };
        f = fx_new_opts(&o);
        if (break_checks[i].check(f))
            fail_msg("%s: the check still passes with the break armed", break_checks[i].name);
        fx_free(f);
    }
}

static void test_break_table(void **state)
{
    (void)state;
    assert_int_equal(http_break_lookup("no-such-break"), 0);
    assert_int_equal(http_break_lookup(NULL), 0);
    for (size_t i = 0; i < HTTP_BREAK__COUNT; i++) {
        assert_non_null(http_break_name(i));
        assert_non_null(http_break_description(i));
        assert_int_equal(http_break_lookup(http_break_name(i)), 1u << i);
    }
    assert_null(http_break_name(HTTP_BREAK__COUNT));
    assert_int_equal(http_break_lookup("http-no-errorcode-header"), HTTP_BREAK_NO_ERRORCODE_HEADER);
}

static void test_null_request(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c = { 0 };
    http_request_t req = { .method = NULL, .path = "/devices" };
    assert_int_equal(http_api_handle(f->api, &req, fx_capture, &c), 0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, 400);
    http_api_cancel(f->api, 12345); /* unknown handle: ignored */
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_route_404),
        cmocka_unit_test(test_wrong_method_405),
        cmocka_unit_test(test_path_decoding),
        cmocka_unit_test(test_api_version_knob),
        cmocka_unit_test(test_body_cap_413),
        cmocka_unit_test(test_service_auth_401),
        cmocka_unit_test(test_hub_error_body_from_table),
        cmocka_unit_test(test_every_break_kills_its_check),
        cmocka_unit_test(test_break_table),
        cmocka_unit_test(test_null_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
