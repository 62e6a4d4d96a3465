/* The asynchronous device client over AMQP against `hubsim serve`: CBS with good and wrong keys, telemetry with properties, methods, C2D with every settlement, twin, drops, throttling. */
#include "test_tr_device_fixture.h"

#define P TR_DEV_AMQP

static int setup(void **state)
{
    return dv_fix_setup(state, NULL);
}

static void test_connect(void **state)
{
    dv_case_connect(*state, P, "aq-conn");
}

static void test_telemetry(void **state)
{
    dv_case_telemetry(*state, P, "aq-tele");
}

static void test_method(void **state)
{
    dv_case_method(*state, P, "aq-meth");
}

static void test_c2d_complete(void **state)
{
    dv_case_c2d(*state, P, "aq-c2d-c", TR_SETTLE_COMPLETE);
}

static void test_c2d_reject(void **state)
{
    dv_case_c2d(*state, P, "aq-c2d-r", TR_SETTLE_REJECT);
}

static void test_c2d_abandon(void **state)
{
    dv_case_c2d(*state, P, "aq-c2d-a", TR_SETTLE_ABANDON);
}

static void test_twin(void **state)
{
    dv_case_twin(*state, P, "aq-twin");
}

static void test_drop(void **state)
{
    dv_case_drop(*state, P, "aq-drop");
}

static void test_module(void **state)
{
    dv_case_module(*state, P, "aq-mod");
}

static void test_free_later(void **state)
{
    dv_case_free_later(*state, P, "aq-later");
}

/* A throttled hub answers reported patches 429 on the twin link: 429001. */
static void test_throttle(void **state)
{
    dv_case_report_throttled(*state, P, "aq-thr");
}

/* 50 AMQP clients (one connection each) on one loop. */
static void test_many(void **state)
{
    dv_case_many(*state, P, "aq-many", 50);
}

/* ---- a hub that admits one connection per second --------------------------- */

static int setup_throttled(void **state)
{
    return dv_fix_setup_config(state, "tr-device-amqp-throttle.json", "{\"name\":\"hubsim\",\"throttling\":{\"profile\":\"s1\",\"rates\":{\"connectionsPerSecond\":1}}}\n");
}

/* Connects past the hub's rate come back 429001 (put-token answered 429). */
static void test_connect_throttled(void **state)
{
    dv_case_connect_throttled(*state, P, "aq-cthr");
}

/* ---- a hub whose put-token replies carry no correlation-id ------------------- */

static int setup_no_corr(void **state)
{
    const char *const extra[] = { "--break", "AMQP-CBS-NO-CORRELATION", NULL };
    return dv_fix_setup(state, extra);
}

/* The reply is not recognisably ours: the connect deadline ends it with -1 and says so. */
static void test_connect_deadline(void **state)
{
    dv_fix_t *f = *state;
    dv_register(f, "aq-dl");
    tr_device_opts_t o;
    dv_opts(f, P, "aq-dl", DV_KEY, &o);
    o.timeout_ms = 500;
    dv_rec_t r;
    memset(&r, 0, sizeof r);
    tr_device_t *d = NULL;
    char why[300];
    assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, &r, &d, why, sizeof why), HS_EOK);
    assert_true(dv_wait(f, &r.connected, 1));
    assert_int_equal(r.last_connect.code, -1);
    assert_non_null(strstr(r.last_connect.why, "no answer"));
    assert_non_null(strstr(r.last_connect.why, "500 ms"));
    assert_false(tr_device_is_open(d));
    tr_device_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),     cmocka_unit_test(test_telemetry),  cmocka_unit_test(test_method),
        cmocka_unit_test(test_c2d_complete), cmocka_unit_test(test_c2d_reject), cmocka_unit_test(test_c2d_abandon),
        cmocka_unit_test(test_twin),        cmocka_unit_test(test_drop),       cmocka_unit_test(test_free_later), cmocka_unit_test(test_module),
        cmocka_unit_test(test_throttle),    cmocka_unit_test(test_many),
    };
    const struct CMUnitTest throttled[] = { cmocka_unit_test(test_connect_throttled) };
    int rc = cmocka_run_group_tests(tests, setup, dv_fix_teardown);
    rc += cmocka_run_group_tests_name("throttled connects", throttled, setup_throttled, dv_fix_teardown);
    const struct CMUnitTest no_corr[] = { cmocka_unit_test(test_connect_deadline) };
    rc += cmocka_run_group_tests_name("put-token replies without correlation-id", no_corr, setup_no_corr,
                                      dv_fix_teardown);
    return rc;
}
