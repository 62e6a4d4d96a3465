/* Device-to-cloud through the hub: stamps and anti-spoofing, 256 KB, MessageId, HTTPS character rule, routing, throttling, conservation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define EPOCH 1767225600LL

typedef struct {
    int deliveries;
    char endpoints[8][32];
    char last_device[64];
    char last_module[64];
    char last_optype[64];
    char last_body[256];
} ep_t;

static void ep_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t device_no)
{
    (void)device_no;
    ep_t *e = ctx;
    if (e->deliveries < 8)
        snprintf(e->endpoints[e->deliveries], sizeof e->endpoints[0], "%s", endpoint);
    e->deliveries++;
    const char *d = hub_msg_get_sys(msg, HUB_SYS_CONNECTION_DEVICE_ID);
    const char *m = hub_msg_get_sys(msg, HUB_SYS_CONNECTION_MODULE_ID);
    snprintf(e->last_device, sizeof e->last_device, "%s", d ? d : "");
    snprintf(e->last_module, sizeof e->last_module, "%s", m ? m : "");
    const char *op = hub_msg_get_app(msg, "opType");
    snprintf(e->last_optype, sizeof e->last_optype, "%s", op ? op : "");
    size_t bl = 0;
    const char *body = hub_msg_body(msg, &bl);
    snprintf(e->last_body, sizeof e->last_body, "%.*s", (int)bl, body);
}

static const hub_endpoint_ops_t ep_ops = { .deliver = ep_deliver };

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    hub_conn_t conn;
    ep_t ep;
} fx_t;

static hub_conn_t connect_as(fx_t *f, const char *dev, const char *mod, hub_protocol_t proto)
{
    char res[256], tok[512];
    if (mod)
        snprintf(res, sizeof res, "hubsim.azure-devices.net/devices/%s/modules/%s", dev, mod);
    else
        snprintf(res, sizeof res, "hubsim.azure-devices.net/devices/%s", dev);
    assert_int_equal(hub_sas_make(KEY, res, EPOCH + 86400, NULL, tok, sizeof tok), HS_EOK);
    hub_connect_params_t p = { .device_id = dev, .module_id = mod, .sas_token = tok, .protocol = proto };
    hub_conn_t c = 0;
    assert_int_equal(hub_device_connect(f->hub, &p, NULL, NULL, &c), HUB_EOK);
    return c;
}

static fx_t *fx_new_cfg(hub_config_t *cfg, hub_protocol_t proto)
{
    fx_t *f = calloc(1, sizeof *f);
    f->k = sim_kernel_new(3, EPOCH);
    char why[256];
    assert_int_equal(hub_new(f->k, cfg, &f->hub, why, sizeof why), HS_EOK);
    hub_set_endpoint_sink(f->hub, &ep_ops, &f->ep);
    hub_identity_spec_t s = { .device_id = "dev1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
    f->conn = connect_as(f, "dev1", NULL, proto);
    return f;
}

static fx_t *fx_new(hub_protocol_t proto)
{
    return fx_new_cfg(NULL, proto);
}

static void fx_free(fx_t *f, bool expect_balanced)
{
    char why[256];
    assert_int_equal(hub_check(f->hub, why, sizeof why), expect_balanced ? HS_EOK : HS_ESTATE);
    hub_free(f->hub);
    assert_int_equal(sim_kernel_pending(f->k), 0);
    sim_kernel_free(f->k);
    free(f);
}

static hub_msg_t *msg_of(size_t body_len)
{
    hub_msg_t *m = hub_msg_new();
    char *b = malloc(body_len ? body_len : 1);
    memset(b, 'b', body_len);
    assert_int_equal(hub_msg_set_body(m, b, body_len), HS_EOK);
    free(b);
    return m;
}

static int code(hub_err_t e)
{
    return hub_error_info(e)->code;
}

static void test_stamps_and_antispoofing(void **state)
{
    (void)state;
    fx_t *f = fx_new(HUB_PROTO_MQTT);
    sim_kernel_run_until(f->k, 1500 * SIM_MS);
    hub_msg_t *m = msg_of(10);
    /* The device tries to set what only the hub may set. */
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONNECTION_DEVICE_ID, "evil"), HS_EOK);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONNECTION_MODULE_ID, "evilmod"), HS_EOK);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONNECTION_DEVICE_GENERATION_ID, "1"), HS_EOK);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_ENQUEUED_TIME, "1999-01-01T00:00:00Z"), HS_EOK);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONNECTION_AUTH_METHOD, "{}"), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_identity_t id;
    assert_int_equal(hub_identity_get(f->hub, "dev1", NULL, &id), HUB_EOK);
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CONNECTION_DEVICE_ID), "dev1");
    assert_null(hub_msg_get_sys(m, HUB_SYS_CONNECTION_MODULE_ID));
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CONNECTION_DEVICE_GENERATION_ID), id.generation_id);
    /* 2026-01-01T00:00:01.5 UTC, 7 fractional digits as the hub writes them */
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_ENQUEUED_TIME), "2026-01-01T00:00:01.5000000Z");
    assert_non_null(strstr(hub_msg_get_sys(m, HUB_SYS_CONNECTION_AUTH_METHOD), "\"type\":\"sas\""));
    assert_non_null(strstr(hub_msg_get_sys(m, HUB_SYS_CONNECTION_AUTH_METHOD), "\"scope\":\"device\""));
    /* Delivered once, to the built-in endpoint. */
    assert_int_equal(f->ep.deliveries, 1);
    assert_string_equal(f->ep.endpoints[0], "events");
    assert_string_equal(f->ep.last_device, "dev1");
    hub_msg_free(m);
    /* A module's messages carry the module id and the module scope. */
    hub_identity_spec_t s = { .device_id = "dev1", .module_id = "mod1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
    hub_conn_t mc = connect_as(f, "dev1", "mod1", HUB_PROTO_AMQP);
    m = msg_of(1);
    assert_int_equal(hub_device_send_d2c(f->hub, mc, m), HUB_EOK);
    assert_string_equal(f->ep.last_module, "mod1");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CONNECTION_DEVICE_GENERATION_ID), id.generation_id);
    assert_non_null(strstr(hub_msg_get_sys(m, HUB_SYS_CONNECTION_AUTH_METHOD), "\"scope\":\"module\""));
    hub_msg_free(m);
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 2);
    fx_free(f, true);
}

static void test_size_limit_256k(void **state)
{
    (void)state;
    fx_t *f = fx_new(HUB_PROTO_MQTT);
    /* 256 KB = 262144 bytes: exactly the limit passes, one more byte is 413. */
    hub_msg_t *m = msg_of(262144);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_msg_free(m);
    m = msg_of(262145);
    hub_err_t e = hub_device_send_d2c(f->hub, f->conn, m);
    assert_int_equal(hub_error_info(e)->http_status, 413);
    assert_int_equal(code(e), 413001);
    hub_msg_free(m);
    /* Properties count: body 262140 + "ab"="cd" (4 bytes) = 262144 passes; "abc"="cd" does not. */
    m = msg_of(262140);
    assert_int_equal(hub_msg_add_app(m, "ab", "cd"), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_msg_free(m);
    m = msg_of(262140);
    assert_int_equal(hub_msg_add_app(m, "abc", "cd"), HS_EOK);
    assert_int_equal(code(hub_device_send_d2c(f->hub, f->conn, m)), 413001);
    /* Device-set stamps do not count: they are removed before measuring. */
    hub_msg_free(m);
    m = msg_of(262144);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONNECTION_DEVICE_ID, "spoofed-and-long"), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_msg_free(m);
    assert_int_equal(hub_counter(f->hub, "d2c.rejected_size"), 2);
    fx_free(f, true);
}

static void test_message_id_and_https_chars(void **state)
{
    (void)state;
    fx_t *f = fx_new(HUB_PROTO_HTTPS);
    char id[131];
    memset(id, 'i', 130);
    id[128] = '\0';
    hub_msg_t *m = msg_of(1);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, id), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    id[128] = 'i';
    id[129] = '\0';
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, id), HS_EOK);
    assert_int_equal(code(hub_device_send_d2c(f->hub, f->conn, m)), 400004);
    hub_msg_free(m);
    /* Over HTTPS the property character rule applies... */
    m = msg_of(1);
    assert_int_equal(hub_msg_add_app(m, "a b", "v"), HS_EOK);
    assert_int_equal(code(hub_device_send_d2c(f->hub, f->conn, m)), 400004);
    /* ...over MQTT it does not (message-format.txt: HTTP D2C and C2D only). */
    hub_conn_t mq = connect_as(f, "dev1", NULL, HUB_PROTO_MQTT);
    assert_int_equal(hub_device_send_d2c(f->hub, mq, m), HUB_EOK);
    hub_msg_free(m);
    /* A stale connection (dropped by the second connect) is refused. */
    m = msg_of(1);
    assert_int_equal(hub_error_info(hub_device_send_d2c(f->hub, f->conn, m))->http_status, 401);
    hub_msg_free(m);
    fx_free(f, true);
}

static void test_routing_to_custom_endpoint(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    json_error_t je;
    cfg.routing = json_loads("{\"endpoints\":{\"eventHubs\":[{\"name\":\"hot\"}]},"
                             "\"routes\":[{\"name\":\"r1\",\"source\":\"DeviceMessages\","
                             "\"condition\":\"level = 'hot'\",\"endpointNames\":[\"hot\"]}]}",
                             0, &je);
    assert_non_null(cfg.routing);
    fx_t *f = fx_new_cfg(&cfg, HUB_PROTO_MQTT);
    hub_config_free(&cfg);
    hub_msg_t *m = msg_of(1);
    assert_int_equal(hub_msg_add_app(m, "level", "hot"), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(f->ep.deliveries, 1);
    assert_string_equal(f->ep.endpoints[0], "hot");
    hub_msg_free(m);
    /* No route matches: the fallback sends to events. */
    m = msg_of(1);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(f->ep.deliveries, 2);
    assert_string_equal(f->ep.endpoints[1], "events");
    hub_msg_free(m);
    assert_int_equal(hub_counter(f->hub, "d2c.delivered"), 2);
    fx_free(f, true);
}

static void test_throttle_s1_d2c(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.throttling.profile = HUB_THROTTLE_S1;
    fx_t *f = fx_new_cfg(&cfg, HUB_PROTO_MQTT);
    hub_config_free(&cfg);
    /* S1, one unit: 100/s/unit but at least 12,000/min per hub = 200/s. */
    hub_msg_t *m = msg_of(8);
    for (int i = 0; i < 200; i++)
        assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_err_t e = hub_device_send_d2c(f->hub, f->conn, m);
    assert_int_equal(hub_error_info(e)->http_status, 429);
    assert_int_equal(code(e), 429001);
    assert_int_equal(hub_counter(f->hub, "throttled.d2c"), 1);
    /* One second later the bucket is full again. */
    sim_kernel_run_until(f->k, SIM_SEC);
    for (int i = 0; i < 200; i++)
        assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(code(hub_device_send_d2c(f->hub, f->conn, m)), 429001);
    hub_msg_free(m);
    fx_free(f, true);
}

static void test_throttle_s1_other_operations(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.throttling.profile = HUB_THROTTLE_S1;
    fx_t *f = fx_new_cfg(&cfg, HUB_PROTO_MQTT); /* one connection used */
    hub_config_free(&cfg);
    /* device connections 100/s/unit: 99 more at t=0, then 429 */
    for (int i = 0; i < 99; i++)
        f->conn = connect_as(f, "dev1", NULL, HUB_PROTO_MQTT);
    char tok[512];
    hub_sas_make(KEY, "hubsim.azure-devices.net/devices/dev1", EPOCH + 86400, NULL, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = "dev1", .sas_token = tok };
    hub_conn_t c;
    assert_int_equal(code(hub_device_connect(f->hub, &p, NULL, NULL, &c)), 429001);
    /* twin reads 10/s/unit */
    json_t *doc;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(hub_twin_get(f->hub, "dev1", NULL, &doc), HUB_EOK);
        json_decref(doc);
    }
    assert_int_equal(code(hub_twin_get(f->hub, "dev1", NULL, &doc)), 429001);
    /* C2D sends 1.67/s/unit: one at t=0, the second is 429; one second later, one more */
    hub_msg_t *m = msg_of(1);
    assert_int_equal(hub_c2d_send(f->hub, "dev1", m, 0, NULL), HUB_EOK);
    m = msg_of(1);
    assert_int_equal(code(hub_c2d_send(f->hub, "dev1", m, 0, NULL)), 429001);
    /* methods 160 KB/s/unit of payload: 128 KB passes, another 128 KB at once is 429 */
    char *big = malloc(131073);
    big[0] = '"';
    memset(big + 1, 'x', 131070);
    big[131071] = '"';
    big[131072] = '\0';
    hub_method_call_t call = { .device_id = "dev1", .method_name = "m", .payload = big,
                               .payload_len = 131072, .has_connect_timeout = true,
                               .connect_timeout_s = 1 };
    assert_int_equal(hub_method_invoke(f->hub, &call, NULL, NULL, NULL), HUB_EOK);
    assert_int_equal(code(hub_method_invoke(f->hub, &call, NULL, NULL, NULL)), 429001);
    free(big);
    sim_kernel_run_until(f->k, SIM_SEC);
    assert_int_equal(hub_c2d_send(f->hub, "dev1", m, 0, NULL), HUB_EOK);
    assert_int_equal(hub_counter(f->hub, "throttled.connect"), 1);
    assert_int_equal(hub_counter(f->hub, "throttled.twin_read"), 1);
    assert_int_equal(hub_counter(f->hub, "throttled.c2d"), 1);
    assert_int_equal(hub_counter(f->hub, "throttled.method"), 1);
    assert_int_equal(hub_c2d_purge_device(f->hub, "dev1", NULL), HUB_EOK);
    fx_free(f, true);
}

static void test_throttle_off_by_default(void **state)
{
    (void)state;
    fx_t *f = fx_new(HUB_PROTO_MQTT);
    hub_msg_t *m = msg_of(8);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_msg_free(m);
    fx_free(f, true);
}

static void test_conservation_catches_lost_message(void **state)
{
    (void)state;
    fx_t *f = fx_new(HUB_PROTO_MQTT);
    assert_int_equal(hub_break(f->hub, "LEDGER-LOSE-ONE"), HS_EOK);
    hub_msg_t *m = msg_of(8);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_msg_free(m);
    assert_int_equal(f->ep.deliveries, 2);
    char why[256];
    assert_int_equal(hub_check(f->hub, why, sizeof why), HS_ESTATE);
    assert_non_null(strstr(why, "d2c"));
    fx_free(f, false);
}

static void test_breaks_msg_rules(void **state)
{
    (void)state;
    fx_t *f = fx_new(HUB_PROTO_HTTPS);
    assert_int_equal(hub_break(f->hub, "MSG-SIZE-LIMIT:off-by-one"), HS_EOK);
    assert_int_equal(hub_break(f->hub, "MSG-ANTISPOOF"), HS_EOK);
    assert_int_equal(hub_break(f->hub, "MSG-PROP-CHARSET"), HS_EOK);
    hub_msg_t *m = msg_of(262144);
    assert_int_equal(code(hub_device_send_d2c(f->hub, f->conn, m)), 413001);
    hub_msg_free(m);
    m = msg_of(1);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_CONNECTION_DEVICE_ID, "evil"), HS_EOK);
    assert_int_equal(hub_msg_add_app(m, "a b", "v"), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CONNECTION_DEVICE_ID), "evil");
    hub_msg_free(m);
    fx_free(f, true);
}

static void test_events_routed(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    json_error_t je;
    cfg.routing = json_loads(
        "{\"endpoints\":{\"eventHubs\":[{\"name\":\"twins\"},{\"name\":\"life\"},{\"name\":\"conn\"}]},"
        "\"routes\":["
        "{\"name\":\"t\",\"source\":\"TwinChangeEvents\",\"condition\":\"true\",\"endpointNames\":[\"twins\"]},"
        "{\"name\":\"l\",\"source\":\"DeviceLifecycleEvents\",\"condition\":\"opType = 'deleteDeviceIdentity'\",\"endpointNames\":[\"life\"]},"
        "{\"name\":\"c\",\"source\":\"DeviceConnectionStateEvents\",\"condition\":\"true\",\"endpointNames\":[\"conn\"]}]}",
        0, &je);
    assert_non_null(cfg.routing);
    fx_t *f = fx_new_cfg(&cfg, HUB_PROTO_MQTT);
    hub_config_free(&cfg);
    /* fx_new_cfg connected dev1: one deviceConnected event (created is not routed: condition). */
    assert_int_equal(f->ep.deliveries, 1);
    assert_string_equal(f->ep.endpoints[0], "conn");
    assert_string_equal(f->ep.last_optype, "deviceConnected");
    const char *p = "{\"properties\":{\"desired\":{\"x\":1}}}";
    assert_int_equal(hub_twin_patch(f->hub, "dev1", NULL, p, strlen(p), NULL, NULL), HUB_EOK);
    assert_int_equal(f->ep.deliveries, 2);
    assert_string_equal(f->ep.endpoints[1], "twins");
    assert_string_equal(f->ep.last_optype, "updateTwin");
    assert_non_null(strstr(f->ep.last_body, "\"desired\":{\"x\":1"));
    assert_int_equal(hub_identity_delete(f->hub, "dev1", NULL, NULL), HUB_EOK);
    /* delete: lifecycle event, then the dropped connection's deviceDisconnected */
    assert_int_equal(f->ep.deliveries, 4);
    assert_string_equal(f->ep.endpoints[2], "life");
    assert_string_equal(f->ep.endpoints[3], "conn");
    assert_string_equal(f->ep.last_optype, "deviceDisconnected");
    assert_int_equal(hub_counter(f->hub, "event.routed"), 4);
    assert_int_equal(hub_counter(f->hub, "event.unrouted"), 1); /* the create, filtered out */
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 0);
    fx_free(f, true);
}

static void test_runtime_switches(void **state)
{
    (void)state;
    fx_t *f = fx_new(HUB_PROTO_MQTT);
    hub_msg_t *m = msg_of(4);
    /* events unreachable: the message is accepted, then dropped with its reason */
    assert_int_equal(hub_set_endpoint_reachable(f->hub, "EVENTS", false), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(f->ep.deliveries, 0);
    assert_int_equal(hub_counter(f->hub, "d2c.dropped_endpoint"), 1);
    assert_int_equal(hub_set_endpoint_reachable(f->hub, "events", true), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(f->ep.deliveries, 1);
    assert_int_equal(hub_set_endpoint_reachable(f->hub, "nosuch", false), HS_ENOTFOUND);
    /* throttling switched on at 10 s: 200 more, then 429 */
    sim_kernel_run_until(f->k, 10 * SIM_SEC);
    assert_int_equal(hub_set_throttling(f->hub, HUB_THROTTLE_S1, 1), HS_EOK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(code(hub_device_send_d2c(f->hub, f->conn, m)), 429001);
    assert_int_equal(hub_set_throttling(f->hub, HUB_THROTTLE_OFF, 1), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(hub_set_throttling(f->hub, HUB_THROTTLE_S1, 0), HS_EINVAL);
    /* 3 units: 300/s */
    assert_int_equal(hub_set_throttling(f->hub, HUB_THROTTLE_S1, 3), HS_EOK);
    for (int i = 0; i < 300; i++)
        assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    assert_int_equal(code(hub_device_send_d2c(f->hub, f->conn, m)), 429001);
    hub_msg_free(m);
    /* a server-side drop */
    assert_int_equal(hub_device_drop(f->hub, "dev1", NULL, "fault"), HUB_EOK);
    assert_false(hub_device_is_connected(f->hub, f->conn));
    assert_int_equal(hub_counter(f->hub, "conn.dropped_fault"), 1);
    assert_int_equal(hub_device_drop(f->hub, "dev1", NULL, "again"), HUB_EOK);
    assert_int_equal(code(hub_device_drop(f->hub, "ghost", NULL, NULL)), 404001);
    /* counters by index */
    size_t n = 0;
    while (hub_counter_name(n))
        n++;
    assert_true(n > 40);
    for (size_t i = 0; i < n; i++)
        assert_true(hub_counter_value(f->hub, i) == hub_counter(f->hub, hub_counter_name(i)));
    assert_int_equal(hub_counter_value(f->hub, n), 0);
    fx_free(f, true);
}

typedef struct {
    hub_t *hub;
    hub_conn_t conn;
    int depth;
    char log[256];
} reent_t;

static void reent_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t dev)
{
    (void)msg;
    (void)dev;
    reent_t *r = ctx;
    strncat(r->log, endpoint, sizeof r->log - strlen(r->log) - 2);
    strcat(r->log, ",");
    if (r->depth == 0) {
        /* an endpoint consumer that sends from inside the delivery */
        r->depth++;
        hub_msg_t *m = msg_of(1);
        assert_int_equal(hub_msg_add_app(m, "k", "inner"), HS_EOK);
        assert_int_equal(hub_device_send_d2c(r->hub, r->conn, m), HUB_EOK);
        hub_msg_free(m);
    }
}

static const hub_endpoint_ops_t reent_ops = { .deliver = reent_deliver };

static void test_reentrant_endpoint_sink(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    json_error_t je;
    /* outer message (k=outer) selects [a, b]; the inner one (k=inner) [b, c] */
    cfg.routing = json_loads(
        "{\"endpoints\":{\"eventHubs\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]},"
        "\"routes\":[{\"name\":\"ra\",\"source\":\"DeviceMessages\",\"condition\":\"k = 'outer'\",\"endpointNames\":[\"a\"]},"
        "{\"name\":\"rb\",\"source\":\"DeviceMessages\",\"condition\":\"true\",\"endpointNames\":[\"b\"]},"
        "{\"name\":\"rc\",\"source\":\"DeviceMessages\",\"condition\":\"k = 'inner'\",\"endpointNames\":[\"c\"]}]}",
        0, &je);
    fx_t *f = fx_new_cfg(&cfg, HUB_PROTO_MQTT);
    hub_config_free(&cfg);
    reent_t r = { .hub = f->hub, .conn = f->conn };
    hub_set_endpoint_sink(f->hub, &reent_ops, &r);
    hub_msg_t *m = msg_of(1);
    assert_int_equal(hub_msg_add_app(m, "k", "outer"), HS_EOK);
    assert_int_equal(hub_device_send_d2c(f->hub, f->conn, m), HUB_EOK);
    hub_msg_free(m);
    /* outer to a, the inner to b and c, then the outer still reaches b */
    assert_string_equal(r.log, "a,b,c,b,");
    assert_int_equal(hub_counter(f->hub, "d2c.endpoint_deliveries"), 4);
    fx_free(f, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamps_and_antispoofing),
        cmocka_unit_test(test_size_limit_256k),
        cmocka_unit_test(test_message_id_and_https_chars),
        cmocka_unit_test(test_routing_to_custom_endpoint),
        cmocka_unit_test(test_throttle_s1_d2c),
        cmocka_unit_test(test_throttle_s1_other_operations),
        cmocka_unit_test(test_throttle_off_by_default),
        cmocka_unit_test(test_conservation_catches_lost_message),
        cmocka_unit_test(test_breaks_msg_rules),
        cmocka_unit_test(test_events_routed),
        cmocka_unit_test(test_runtime_switches),
        cmocka_unit_test(test_reentrant_endpoint_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
