/* Device side over REST: D2C with iothub-app-* and system headers reaching the endpoint, C2D receive/complete/reject/abandon, auth, and the MQTT connection left alone. */
#include "test_http_fixture.h"

typedef struct {
    int disconnects;
} mqtt_sink_t;

static void on_disc(void *ctx, hub_conn_t conn, hub_err_t err, const char *reason)
{
    (void)conn;
    (void)err;
    (void)reason;
    ((mqtt_sink_t *)ctx)->disconnects++;
}

static const hub_sink_ops_t mqtt_ops = { .disconnected = on_disc };

static void test_d2c_props_reach_endpoint(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    /* what the Node SDK's Http.sendEvent writes */
    const char *h[] = { "iothub-to: /devices/dev1/messages/events",
                        "User-Agent: azure-iot-device/1.0",
                        "iothub-app-temperature: 21",
                        "iothub-app-alert: high",
                        "IoTHub-MessageId: msg-1",
                        "IoTHub-CorrelationId: corr-1",
                        "iothub-contenttype: application/json",
                        "iothub-contentencoding: utf-8",
                        "iothub-connection-device-id: spoofed",
                        NULL };
    capture_t c;
    assert_int_equal(fx_send(f, "POST", "/devices/dev1/messages/events?api-version=2020-09-30", tok, h,
                             "{\"t\":21}", &c),
                     0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, 204);
    assert_int_equal(c.body_len, 0);
    assert_int_equal(f->ep.count, 1);
    assert_string_equal(f->ep.endpoint, "events");
    assert_string_equal(f->ep.body, "{\"t\":21}");
    assert_string_equal(f->ep.message_id, "msg-1");
    assert_string_equal(f->ep.correlation_id, "corr-1");
    assert_string_equal(f->ep.content_type, "application/json");
    assert_string_equal(f->ep.content_encoding, "utf-8");
    assert_string_equal(f->ep.to, "/devices/dev1/messages/events");
    assert_int_equal(f->ep.n_app, 2);
    assert_string_equal(f->ep.app_name[0], "temperature");
    assert_string_equal(f->ep.app_value[0], "21");
    assert_string_equal(f->ep.app_name[1], "alert");
    assert_string_equal(f->ep.app_value[1], "high");
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 1);
    fx_free(f);
}

static void test_d2c_keeps_mqtt_connection(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    mqtt_sink_t s = { 0 };
    hub_connect_params_t p = { .device_id = "dev1", .sas_token = tok, .protocol = HUB_PROTO_MQTT };
    hub_conn_t mq;
    assert_int_equal(hub_device_connect(f->hub, &p, &mqtt_ops, &s, &mq), HUB_EOK);
    assert_int_equal(hub_device_subscribe(f->hub, mq, HUB_SUB_METHODS), HUB_EOK);
    capture_t c;
    for (int i = 0; i < 3; i++) {
        fx_send(f, "POST", "/devices/dev1/messages/events", tok, NULL, "x", &c);
        assert_int_equal(c.status, 204);
    }
    fx_send(f, "GET", "/devices/dev1/messages/deviceBound", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 204);
    assert_true(hub_device_is_connected(f->hub, mq));
    assert_int_equal(s.disconnects, 0);
    assert_int_equal(hub_counter(f->hub, "conn.dropped_second"), 0);
    assert_int_equal(hub_counter(f->hub, "conn.opened"), 1);
    /* the registry still sees the MQTT connection */
    hub_identity_t id;
    assert_int_equal(hub_identity_get(f->hub, "dev1", NULL, &id), HUB_EOK);
    assert_true(id.connected);
    /* and MQTT D2C still works on its handle */
    hub_msg_t *m = hub_msg_new();
    assert_int_equal(hub_device_send_d2c(f->hub, mq, m), HUB_EOK);
    hub_msg_free(m);
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 4);
    fx_free(f);
}

static void test_d2c_auth(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    hub_identity_spec_t x = { .device_id = "cam", .x509 = true, .primary_thumbprint = THUMB };
    assert_int_equal(hub_identity_create(f->hub, &x, NULL), HUB_EOK);
    capture_t c;
    char tok[512];
    /* no credentials */
    fx_send(f, "POST", "/devices/dev1/messages/events", NULL, NULL, "x", &c);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    assert_non_null(strstr(c.body, "no Authorization header"));
    /* another device's token */
    fx_device_token("cam", NULL, EPOCH + 3600, tok, sizeof tok);
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, NULL, "x", &c);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    /* expired (virtual time) */
    fx_device_token("dev1", NULL, EPOCH + 10, tok, sizeof tok);
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, NULL, "x", &c);
    assert_int_equal(c.status, 204);
    sim_kernel_run_until(f->k, 10 * SIM_SEC);
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, NULL, "x", &c);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    /* unknown device */
    fx_device_token("ghost", NULL, EPOCH + 3600, tok, sizeof tok);
    fx_send(f, "POST", "/devices/ghost/messages/events", tok, NULL, "x", &c);
    assert_int_equal(c.status, 401);
    /* X.509: the client certificate's thumbprint from the carrier */
    wire_peer_t good = { .address = "127.0.0.1:1", .x509_thumbprint = THUMB, .tls = true };
    wire_peer_t bad = { .address = "127.0.0.1:2",
                        .x509_thumbprint = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", .tls = true };
    fx_send_peer(f, "POST", "/devices/cam/messages/events", NULL, NULL, "x", &good, &c);
    assert_int_equal(c.status, 204);
    assert_non_null(strstr(f->ep.auth_method, "x509"));
    fx_send_peer(f, "POST", "/devices/cam/messages/events", NULL, NULL, "x", &bad, &c);
    assert_int_equal(c.status, 401);
    assert_int_equal(hub_counter(f->hub, "auth.bad_thumbprint"), 1);
    fx_free(f);
}

static void test_d2c_rules(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    capture_t c;
    /* the HTTPS property character rule (message-format.txt) */
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, (const char *[]){ "iothub-app-k: a@b", NULL }, "x", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_int_equal(hub_counter(f->hub, "d2c.rejected_argument"), 1);
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, (const char *[]){ "iothub-app-k: a,b", NULL }, "x", &c);
    assert_int_equal(c.status, 400);
    /* size: 256 KB passes, one more byte is 413 (the hub's rule, not the body cap) */
    size_t limit = 256 * 1024;
    char *big = malloc(limit + 2);
    memset(big, 'a', limit + 1);
    big[limit] = '\0';
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, NULL, big, &c);
    assert_int_equal(c.status, 204);
    big[limit] = 'a';
    big[limit + 1] = '\0';
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, NULL, big, &c);
    assert_hub_error(&c, 413, "MessageTooLarge");
    assert_int_equal(hub_counter(f->hub, "d2c.rejected_size"), 1);
    free(big);
    /* module D2C */
    hub_identity_spec_t m = { .device_id = "dev1", .module_id = "m1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    fx_device_token("dev1", "m1", EPOCH + 3600, tok, sizeof tok);
    fx_send(f, "POST", "/devices/dev1/modules/m1/messages/events", tok, NULL, "x", &c);
    assert_int_equal(c.status, 204);
    fx_free(f);
}

static void test_d2c_batch(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[512];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    capture_t c;
    const char *h[] = { "Content-Type: application/vnd.microsoft.iothub.json", NULL };
    /* what Http.sendEventBatch writes: "aGk=" is "hi", "eW8=" is "yo" */
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, h,
            "[{\"body\": \"aGk=\", \"properties\":{\"iothub-app-k\":\"v\",\"iothub-messageid\":\"b-1\"}},"
            "{\"body\": \"eW8=\"}]",
            &c);
    assert_int_equal(c.status, 204);
    assert_int_equal(f->ep.count, 2);
    assert_string_equal(f->ep.body, "yo"); /* the last one */
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 2);
    /* structure errors refuse the whole batch before anything is sent */
    static const struct {
        const char *body;
        const char *detail;
    } bad[] = {
        { "{}", "must be a JSON array" },
        { "[{\"body\":\"aGk=\"},3]", "batch element #1: expected an object" },
        { "[{\"body\":\"***\"}]", "body is not base64" },
        { "[{\"body\":\"aGk=\",\"properties\":{\"k\":\"v\"}}]", "neither iothub-app-* nor" },
        { "[{\"body\":\"aGk=\",\"properties\":{\"iothub-app-k\":1}}]", "expected a string" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_send(f, "POST", "/devices/dev1/messages/events", tok, h, bad[i].body, &c);
        assert_hub_error(&c, 400, "ArgumentInvalid");
        if (!strstr(c.body, bad[i].detail))
            fail_msg("body %s lacks %s", c.body, bad[i].detail);
    }
    assert_int_equal(hub_counter(f->hub, "d2c.received"), 2);
    /* a hub refusal names the element; the ones before it stay accepted */
    fx_send(f, "POST", "/devices/dev1/messages/events", tok, h,
            "[{\"body\":\"aGk=\"},{\"body\":\"aGk=\",\"properties\":{\"iothub-app-k\":\"a@b\"}}]", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_non_null(strstr(c.body, "batch element #1: application property"));
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 3);
    fx_free(f);
}

static hub_msg_t *c2d_msg(const char *id)
{
    hub_msg_t *m = hub_msg_new();
    hub_msg_set_body(m, "hello", 5);
    hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, id);
    hub_msg_set_sys(m, HUB_SYS_CORRELATION_ID, "c-1");
    hub_msg_add_app(m, "color", "red");
    return m;
}

/* GET, returning the unquoted lock token. */
static void c2d_get(fx_t *f, const char *tok, capture_t *c, char *lock, size_t cap)
{
    fx_send(f, "GET", "/devices/dev1/messages/devicebound?api-version=2020-09-30", tok, NULL, NULL, c);
    assert_int_equal(c->status, 200);
    const char *e = cap_header(c, "ETag");
    assert_non_null(e);
    size_t n = strlen(e);
    assert_true(n > 2 && e[0] == '"' && e[n - 1] == '"');
    snprintf(lock, cap, "%.*s", (int)(n - 2), e + 1);
}

static void test_c2d_receive_complete(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[512], lock[64], path[200];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    capture_t c;
    fx_send(f, "GET", "/devices/dev1/messages/deviceBound", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 204);
    assert_int_equal(c.body_len, 0);
    assert_int_equal(hub_c2d_send(f->hub, "dev1", c2d_msg("m-1"), 0, NULL), HUB_EOK);
    c2d_get(f, tok, &c, lock, sizeof lock);
    assert_string_equal(c.body, "hello");
    assert_string_equal(cap_header(&c, "iothub-messageid"), "m-1");
    assert_string_equal(cap_header(&c, "iothub-correlationid"), "c-1");
    assert_string_equal(cap_header(&c, "iothub-app-color"), "red");
    assert_string_equal(cap_header(&c, "iothub-deliverycount"), "1");
    assert_non_null(cap_header(&c, "iothub-expiry"));
    assert_non_null(cap_header(&c, "iothub-enqueuedtime"));
    assert_non_null(cap_header(&c, "iothub-sequencenumber"));
    /* locked: nothing else visible */
    fx_send(f, "GET", "/devices/dev1/messages/deviceBound", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 204);
    /* complete (the SDK also sends If-Match with the token) */
    char im[96];
    snprintf(im, sizeof im, "If-Match: %s", lock);
    snprintf(path, sizeof path, "/devices/dev1/messages/devicebound/%s?api-version=2020-09-30", lock);
    fx_send(f, "DELETE", path, tok, (const char *[]){ im, NULL }, NULL, &c);
    assert_int_equal(c.status, 204);
    /* the same token again: gone */
    fx_send(f, "DELETE", path, tok, NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceMessageNotFound");
    hub_c2d_stats_t st;
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    assert_int_equal(st.completed, 1);
    fx_free(f);
}

static void test_c2d_reject_abandon(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[512], lock[64], path[200];
    fx_device_token("dev1", NULL, EPOCH + 3600, tok, sizeof tok);
    capture_t c;
    assert_int_equal(hub_c2d_send(f->hub, "dev1", c2d_msg("m-1"), 0, NULL), HUB_EOK);
    /* abandon: visible again with delivery count 2 */
    c2d_get(f, tok, &c, lock, sizeof lock);
    snprintf(path, sizeof path, "/devices/dev1/messages/devicebound/%s/abandon?api-version=2020-09-30", lock);
    fx_send(f, "POST", path, tok, NULL, NULL, &c);
    assert_int_equal(c.status, 204);
    c2d_get(f, tok, &c, lock, sizeof lock);
    assert_string_equal(cap_header(&c, "iothub-deliverycount"), "2");
    /* reject: the Node SDK's "?api-version=...&reject" */
    snprintf(path, sizeof path, "/devices/dev1/messages/devicebound/%s?api-version=2020-09-30&reject", lock);
    fx_send(f, "DELETE", path, tok, NULL, NULL, &c);
    assert_int_equal(c.status, 204);
    hub_c2d_stats_t st;
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.abandoned, 1);
    assert_int_equal(st.completed, 0);
    fx_send(f, "GET", "/devices/dev1/messages/deviceBound", tok, NULL, NULL, &c);
    assert_int_equal(c.status, 204);
    /* unknown lock token; an expired lock is 412 DeviceMessageLockLost */
    fx_send(f, "DELETE", "/devices/dev1/messages/deviceBound/00000000-0000-0000-0000-000000000000", tok,
            NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceMessageNotFound");
    assert_int_equal(hub_c2d_send(f->hub, "dev1", c2d_msg("m-2"), 0, NULL), HUB_EOK);
    c2d_get(f, tok, &c, lock, sizeof lock);
    sim_kernel_run_until(f->k, sim_kernel_now(f->k) + 61 * SIM_SEC); /* lock timeout 1 min [doc] */
    char lock2[64];
    c2d_get(f, tok, &c, lock2, sizeof lock2);
    snprintf(path, sizeof path, "/devices/dev1/messages/deviceBound/%s", lock);
    fx_send(f, "DELETE", path, tok, NULL, NULL, &c);
    assert_hub_error(&c, 412, "DeviceMessageLockLost");
    snprintf(path, sizeof path, "/devices/dev1/messages/deviceBound/%s", lock2);
    fx_send(f, "DELETE", path, tok, NULL, NULL, &c);
    assert_int_equal(c.status, 204);
    /* modules have no C2D queue: the hub says so */
    hub_identity_spec_t m = { .device_id = "dev1", .module_id = "m1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    fx_device_token("dev1", "m1", EPOCH + 3600, tok, sizeof tok);
    fx_send(f, "GET", "/devices/dev1/modules/m1/messages/deviceBound", tok, NULL, NULL, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_d2c_props_reach_endpoint),
        cmocka_unit_test(test_d2c_keeps_mqtt_connection),
        cmocka_unit_test(test_d2c_auth),
        cmocka_unit_test(test_d2c_rules),
        cmocka_unit_test(test_d2c_batch),
        cmocka_unit_test(test_c2d_receive_complete),
        cmocka_unit_test(test_c2d_reject_abandon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
