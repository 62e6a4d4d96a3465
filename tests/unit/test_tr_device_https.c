/* The asynchronous device client over HTTPS against `hubsim serve`: credential probe, telemetry with properties, C2D polling with every settlement, what HTTPS cannot do, throttled telemetry. */
#include "test_tr_device_fixture.h"

#define P TR_DEV_HTTPS

static int setup(void **state)
{
    return dv_fix_setup(state, NULL);
}

static void test_connect(void **state)
{
    dv_case_connect(*state, P, "hx-conn");
}

static void test_telemetry(void **state)
{
    dv_case_telemetry(*state, P, "hx-tele");
}

static void test_c2d_complete(void **state)
{
    dv_case_c2d(*state, P, "hx-c2d-c", TR_SETTLE_COMPLETE);
}

static void test_c2d_reject(void **state)
{
    dv_case_c2d(*state, P, "hx-c2d-r", TR_SETTLE_REJECT);
}

/* Abandon puts the message back: it is polled again, then completed. */
static void test_c2d_abandon(void **state)
{
    dv_fix_t *f = *state;
    dv_case_c2d(f, P, "hx-c2d-a", TR_SETTLE_COMPLETE);
    dv_rec_t r;
    tr_device_t *d = dv_open(f, P, "hx-c2d-a", DV_KEY, &r);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_C2D), HS_EOK);
    dv_c2d_send(f, "hx-c2d-a", "c2d-2", "again");
    assert_true(dv_wait(f, &r.c2ds, 1));
    assert_int_equal(tr_device_settle(d, r.c2d_lock, TR_SETTLE_ABANDON), HS_EOK);
    assert_true(dv_wait(f, &r.settled, 1));
    assert_int_equal(r.last_settle.code, 0);
    assert_true(dv_wait(f, &r.c2ds, 2));
    assert_string_equal(r.c2d_mid, "c2d-2");
    assert_int_equal(tr_device_settle(d, r.c2d_lock, TR_SETTLE_COMPLETE), HS_EOK);
    assert_true(dv_wait(f, &r.settled, 2));
    assert_int_equal(r.last_settle.code, 0);
    assert_int_equal(tr_device_settle(d, 999, TR_SETTLE_COMPLETE), HS_ENOTFOUND);
    dv_close(f, d);
}

/* No methods, desired patches or twin over HTTPS. */
static void test_limits(void **state)
{
    dv_fix_t *f = *state;
    dv_register(f, "hx-lim");
    dv_rec_t r;
    tr_device_t *d = dv_open(f, P, "hx-lim", DV_KEY, &r);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_METHODS), HS_EUNSUPPORTED);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_DESIRED), HS_EUNSUPPORTED);
    assert_int_equal(tr_device_report(d, "{}", 2, 1), HS_EUNSUPPORTED);
    assert_int_equal(tr_device_method_respond(d, "1", 200, NULL, 0), HS_EUNSUPPORTED);
    dv_close(f, d);
}

static void test_module(void **state)
{
    dv_case_module(*state, P, "hx-mod");
}

static void test_free_later(void **state)
{
    dv_case_free_later(*state, P, "hx-later");
}

/* 50 HTTPS clients on one loop (no connection at rest: each request dials). */
static void test_many(void **state)
{
    dv_case_many(*state, P, "hx-many", 50);
}

/* ---- a hub that admits one D2C message per second ------------------------- */

static int setup_throttled(void **state)
{
    return dv_fix_setup_config(state, "tr-device-https-throttle.json",
                               "{\"name\":\"hubsim\",\"throttling\":{\"profile\":\"s1\",\"rates\":{\"d2cPerSecond\":1}}}\n");
}

/* Telemetry past the hub's rate answers 429 + ThrottlingException: code 429001. */
static void test_throttle(void **state)
{
    dv_fix_t *f = *state;
    dv_register(f, "hx-thr");
    dv_rec_t r;
    tr_device_t *d = dv_open(f, P, "hx-thr", DV_KEY, &r);
    enum { N = 5 };
    for (int i = 0; i < N; i++)
        assert_int_equal(tr_device_send(d, &(tr_device_msg_t){ .body = "x", .body_len = 1 }, (uint64_t)i), HS_EOK);
    int done = 0;
    int64_t end = tr_now_ms() + DV_WAIT_MS;
    while (done < N && tr_now_ms() < end) {
        tr_loop_wait(f->loop, NULL, NULL, 20);
        done = r.sent_ok + r.sent_fail;
    }
    assert_int_equal(done, N);
    fprintf(stderr, "throttle: %d ok %d failed, last %d %s\n", r.sent_ok, r.sent_fail, r.last_sent.code, r.last_sent.why);
    assert_true(r.sent_fail >= 1);
    assert_true(r.max_429_seen >= 1);
    assert_int_equal(r.last_sent.code, 429001);
    assert_int_equal(r.last_sent.status, 429);
    dv_close(f, d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),     cmocka_unit_test(test_telemetry),   cmocka_unit_test(test_c2d_complete),
        cmocka_unit_test(test_c2d_reject),  cmocka_unit_test(test_c2d_abandon), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_free_later), cmocka_unit_test(test_module),  cmocka_unit_test(test_many),
    };
    const struct CMUnitTest throttled[] = { cmocka_unit_test(test_throttle) };
    int rc = cmocka_run_group_tests(tests, setup, dv_fix_teardown);
    rc += cmocka_run_group_tests_name("throttled hub", throttled, setup_throttled, dv_fix_teardown);
    return rc;
}
