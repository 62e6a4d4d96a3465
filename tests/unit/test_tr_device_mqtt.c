/* The asynchronous device client over MQTT against `hubsim serve`: SAS and wrong keys, telemetry with properties, methods, C2D, twin, drops, throttling, 200 clients on one loop. */
#include "test_tr_device_fixture.h"

#define P TR_DEV_MQTT

static int setup(void **state)
{
    return dv_fix_setup(state, NULL);
}

static void test_connect(void **state)
{
    dv_case_connect(*state, P, "mq-conn");
}

static void test_telemetry(void **state)
{
    dv_case_telemetry(*state, P, "mq-tele");
}

static void test_method(void **state)
{
    dv_case_method(*state, P, "mq-meth");
}

static void test_c2d(void **state)
{
    dv_case_c2d(*state, P, "mq-c2d", TR_SETTLE_COMPLETE);
}

static void test_twin(void **state)
{
    dv_case_twin(*state, P, "mq-twin");
}

static void test_drop(void **state)
{
    dv_case_drop(*state, P, "mq-drop");
}

static void test_module(void **state)
{
    dv_case_module(*state, P, "mq-mod");
}

static void test_free_later(void **state)
{
    dv_case_free_later(*state, P, "mq-later");
}

/* MQTT cannot reject or abandon: HS_EUNSUPPORTED, nothing sent. */
static void test_settle_limits(void **state)
{
    dv_fix_t *f = *state;
    dv_register(f, "mq-lim");
    dv_rec_t r;
    tr_device_t *d = dv_open(f, P, "mq-lim", DV_KEY, &r);
    assert_int_equal(tr_device_settle(d, 1, TR_SETTLE_REJECT), HS_EUNSUPPORTED);
    assert_int_equal(tr_device_settle(d, 1, TR_SETTLE_ABANDON), HS_EUNSUPPORTED);
    assert_int_equal(tr_device_subscribe(d, 0), HS_EINVAL);
    assert_int_equal(tr_device_subscribe(d, 64), HS_EINVAL);
    dv_close(f, d);
}

/* Bad options are refused at open with the reason; transport failures come through connected(-1). */
static void test_bad_options_and_transport_failures(void **state)
{
    dv_fix_t *f = *state;
    tr_device_opts_t o;
    tr_device_t *d = NULL;
    char why[300];
    dv_opts(f, P, "mq-bad", DV_KEY, &o);
    o.tls = NULL;
    assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, NULL, &d, why, sizeof why), HS_EINVAL);
    assert_non_null(strstr(why, "TLS"));
    dv_opts(f, P, "", DV_KEY, &o);
    assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, NULL, &d, why, sizeof why), HS_EINVAL);
    dv_opts(f, P, "mq-bad", "not base64 !!", &o);
    assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, NULL, &d, why, sizeof why), HS_EINVAL);
    assert_non_null(strstr(why, "base64"));
    assert_null(d);
    /* a host that does not resolve: connected(-1) on a later turn, never inside open */
    dv_rec_t r;
    memset(&r, 0, sizeof r);
    dv_opts(f, P, "mq-bad", DV_KEY, &o);
    o.dial_host = "no-such-host.invalid";
    assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, &r, &d, why, sizeof why), HS_EOK);
    assert_int_equal(r.connected, 0);
    assert_true(dv_wait(f, &r.connected, 1));
    assert_int_equal(r.last_connect.code, -1);
    assert_non_null(strstr(r.last_connect.why, "no-such-host.invalid"));
    tr_device_free(d);
    /* a port that does not speak TLS (the plain-HTTP admin API): the handshake fails */
    memset(&r, 0, sizeof r);
    dv_opts(f, P, "mq-bad", DV_KEY, &o);
    o.port = f->sp.admin;
    assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, &r, &d, why, sizeof why), HS_EOK);
    assert_true(dv_wait(f, &r.connected, 1));
    assert_int_equal(r.last_connect.code, -1);
    assert_non_null(strstr(r.last_connect.why, "TLS"));
    assert_int_equal(r.closed, 0);
    tr_device_free(d);
}

/* A throttled hub answers reported patches 429 (twin/res/429): the result carries 429001. */
static void test_throttle(void **state)
{
    dv_case_report_throttled(*state, P, "mq-thr");
}

/* 200 clients on one loop: all connected, each sends one message, all acknowledged. */
static void test_many(void **state)
{
    dv_case_many(*state, P, "mq-many", 200);
}

/* ---- a hub that admits one connection per second --------------------------- */

static int setup_throttled(void **state)
{
    return dv_fix_setup_config(state, "tr-device-mqtt-throttle.json", "{\"name\":\"hubsim\",\"throttling\":{\"profile\":\"s1\",\"rates\":{\"connectionsPerSecond\":1}}}\n");
}

/* Connects past the hub's rate come back 429001 (CONNACK 3). */
static void test_connect_throttled(void **state)
{
    dv_case_connect_throttled(*state, P, "mq-cthr");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),   cmocka_unit_test(test_telemetry), cmocka_unit_test(test_method),
        cmocka_unit_test(test_c2d),       cmocka_unit_test(test_twin),      cmocka_unit_test(test_drop),
        cmocka_unit_test(test_free_later), cmocka_unit_test(test_module), cmocka_unit_test(test_settle_limits), cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_many),      cmocka_unit_test(test_bad_options_and_transport_failures),
    };
    const struct CMUnitTest throttled[] = { cmocka_unit_test(test_connect_throttled) };
    int rc = cmocka_run_group_tests(tests, setup, dv_fix_teardown);
    rc += cmocka_run_group_tests_name("throttled connects", throttled, setup_throttled, dv_fix_teardown);
    return rc;
}
