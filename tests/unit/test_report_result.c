/* Tests for the result model: histogram buckets and percentiles, ordering, gate exit codes, merge, JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/histogram.h"
#include "reports/result.h"
#include "reports/writer.h"

static void test_bucket_boundaries(void **state)
{
    (void)state;
    /* Below 128 every value has its own bucket. */
    assert_int_equal(report_hist_bucket_of(0), 0);
    assert_int_equal(report_hist_bucket_of(127), 127);
    assert_int_equal(report_hist_bucket_low(127), 127);
    assert_int_equal(report_hist_bucket_high(127), 127);
    /* 128..255: still width 1. */
    assert_int_equal(report_hist_bucket_of(128), 128);
    assert_int_equal(report_hist_bucket_of(255), 255);
    assert_int_equal(report_hist_bucket_high(255), 255);
    /* 256..511: width 2, so 256 and 257 share a bucket, 258 starts the next. */
    assert_int_equal(report_hist_bucket_of(256), report_hist_bucket_of(257));
    assert_int_equal(report_hist_bucket_of(258), report_hist_bucket_of(257) + 1);
    assert_int_equal(report_hist_bucket_low(report_hist_bucket_of(257)), 256);
    assert_int_equal(report_hist_bucket_high(report_hist_bucket_of(257)), 257);
    /* The top: UINT64_MAX maps to the last bucket, whose high end is UINT64_MAX. */
    assert_int_equal(report_hist_bucket_of(UINT64_MAX), REPORT_HIST_BUCKETS - 1);
    assert_true(report_hist_bucket_high(REPORT_HIST_BUCKETS - 1) == UINT64_MAX);
    /* Every bucket contains what maps to it, and widths stay under 1/128 of
     * the values (checked at many points across the range). */
    for (uint64_t v = 1; v < UINT64_MAX / 3; v = v * 3 + 1) {
        size_t b = report_hist_bucket_of(v);
        uint64_t lo = report_hist_bucket_low(b), hi = report_hist_bucket_high(b);
        assert_true(lo <= v && v <= hi);
        assert_true((hi - lo) <= lo / 128);
    }
}

static void test_quantiles(void **state)
{
    (void)state;
    report_hist_t *h = report_hist_new();
    assert_int_equal(report_hist_quantile(h, 50000), 0);
    assert_int_equal(report_hist_max(h), 0);
    /* 1..1000 ms: p50 is the 500th value, p99 the 990th, p99.9 the 999th. */
    for (uint64_t i = 1; i <= 1000; i++)
        report_hist_record(h, i * 1000000);
    assert_int_equal(report_hist_count(h), 1000);
    assert_int_equal(report_hist_min(h), 1000000);
    assert_int_equal(report_hist_max(h), 1000000000);
    assert_true(report_hist_sum(h) == 500500ull * 1000000ull);
    struct { uint32_t q; uint64_t exact; } want[] = {
        { 50000, 500000000 }, { 90000, 900000000 }, { 99000, 990000000 }, { 99900, 999000000 }, { 100000, 1000000000 },
    };
    for (size_t i = 0; i < 5; i++) {
        uint64_t got = report_hist_quantile(h, want[i].q);
        /* Reported as the bucket's high end: never below the true value, at
         * most 1/128 above it. */
        assert_true(got >= want[i].exact);
        assert_true(got - want[i].exact <= want[i].exact / 128);
    }
    assert_int_equal(report_hist_quantile(h, 100000), 1000000000); /* capped at max */
    /* One sample: every quantile is that sample. */
    report_hist_t *one = report_hist_new();
    report_hist_record(one, 42);
    assert_int_equal(report_hist_quantile(one, 1), 42);
    assert_int_equal(report_hist_quantile(one, 99900), 42);
    report_hist_free(one);
    report_hist_free(h);
}

static void test_hist_merge_is_exact(void **state)
{
    (void)state;
    report_hist_t *a = report_hist_new(), *b = report_hist_new(), *all = report_hist_new();
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t v = (i * 2654435761u) % 300000000u;
        report_hist_record(i % 2 ? a : b, v);
        report_hist_record(all, v);
    }
    report_hist_merge(a, b);
    assert_int_equal(report_hist_count(a), report_hist_count(all));
    assert_int_equal(report_hist_min(a), report_hist_min(all));
    assert_int_equal(report_hist_max(a), report_hist_max(all));
    assert_true(report_hist_sum(a) == report_hist_sum(all));
    for (size_t i = 0; i < REPORT_HIST_BUCKETS; i++)
        assert_true(report_hist_bucket_count(a, i) == report_hist_bucket_count(all, i));
    assert_int_equal(report_hist_quantile(a, 99000), report_hist_quantile(all, 99000));
    report_hist_free(a);
    report_hist_free(b);
    report_hist_free(all);
}

static report_case_t mk(const char *id, const char *area, const char *name, report_verdict_t v)
{
    report_case_t c = { .id = id, .area = area, .name = name, .verdict = v, .level = "MUST" };
    return c;
}

static void test_case_order_and_counts(void **state)
{
    (void)state;
    report_result_t *r = report_result_new(REPORT_KIND_CONFORMANCE, NULL);
    report_case_t cs[] = {
        mk("TWIN-VERSION", "twins", "b", REPORT_PASS),        mk("METHOD-504-TIMEOUT", "methods", "x", REPORT_FAIL),
        mk("METHOD-404-OFFLINE", "methods", "z", REPORT_PASS), mk("METHOD-404-OFFLINE", "methods", "a", REPORT_SKIP),
        mk("METHOD-404-OFFLINE", "methods", "a", REPORT_ERROR), /* same key: stays after the SKIP one */
    };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(report_result_add_case(r, &cs[i]), HS_EOK);
    const char *want[][3] = {
        { "METHOD-404-OFFLINE", "a", "SKIP" }, { "METHOD-404-OFFLINE", "a", "ERROR" },
        { "METHOD-404-OFFLINE", "z", "PASS" }, { "METHOD-504-TIMEOUT", "x", "FAIL" }, { "TWIN-VERSION", "b", "PASS" },
    };
    assert_int_equal(report_result_case_count(r), 5);
    for (size_t i = 0; i < 5; i++) {
        const report_case_t *c = report_result_case_at(r, i);
        assert_string_equal(c->id, want[i][0]);
        assert_string_equal(c->name, want[i][1]);
        assert_string_equal(report_verdict_name(c->verdict), want[i][2]);
    }
    assert_null(report_result_case_at(r, 5));
    assert_int_equal(report_result_verdict_count(r, REPORT_PASS), 2);
    assert_int_equal(report_result_verdict_count(r, REPORT_WRONG_CODE), 0);
    /* Bad input. */
    report_case_t bad = mk(NULL, "methods", NULL, REPORT_PASS);
    assert_int_equal(report_result_add_case(r, &bad), HS_EINVAL);
    bad = mk("X-Y", "", NULL, REPORT_PASS);
    assert_int_equal(report_result_add_case(r, &bad), HS_EINVAL);
    bad = mk("X-Y", "methods", NULL, REPORT_VERDICT_COUNT);
    assert_int_equal(report_result_add_case(r, &bad), HS_EINVAL);
    assert_int_equal(report_result_case_count(r), 5);
    report_result_free(r);
}

static void test_verdict_names(void **state)
{
    (void)state;
    const char *names[] = { "PASS", "NON-STRICT", "WRONG-CODE", "FAIL", "SKIP", "ERROR" };
    for (int i = 0; i < 6; i++) {
        report_verdict_t v;
        assert_int_equal(report_verdict_parse(names[i], &v), HS_EOK);
        assert_string_equal(report_verdict_name(v), names[i]);
    }
    report_verdict_t v;
    assert_int_equal(report_verdict_parse("pass", &v), HS_EINVAL);
    assert_int_equal(report_verdict_parse("NON_STRICT", &v), HS_EINVAL);
    assert_int_equal(report_verdict_parse(NULL, &v), HS_EINVAL);
    assert_string_equal(report_verdict_name((report_verdict_t)99), "?");
}

static int exit_for(report_verdict_t v, int strict, const char *baseline)
{
    report_result_t *r = report_result_new(REPORT_KIND_CONFORMANCE, NULL);
    report_case_t ok = mk("A-B", "methods", NULL, REPORT_PASS), c = mk("A-C", "methods", NULL, v);
    c.baseline = baseline;
    report_result_set_strict(r, strict);
    assert_int_equal(report_result_add_case(r, &ok), HS_EOK);
    assert_int_equal(report_result_add_case(r, &c), HS_EOK);
    int rc = report_result_exit_code(r);
    report_result_free(r);
    return rc;
}

/* Exit codes from issue 7: 0 every MUST passes, 1 one fails, 3 ERROR;
 * --strict also fails on NON-STRICT; baselined failures do not gate. */
static void test_gate(void **state)
{
    (void)state;
    assert_int_equal(exit_for(REPORT_PASS, 0, NULL), 0);
    assert_int_equal(exit_for(REPORT_SKIP, 1, NULL), 0);
    assert_int_equal(exit_for(REPORT_NON_STRICT, 0, NULL), 0);
    assert_int_equal(exit_for(REPORT_NON_STRICT, 1, NULL), 1);
    assert_int_equal(exit_for(REPORT_FAIL, 0, NULL), 1);
    assert_int_equal(exit_for(REPORT_WRONG_CODE, 0, NULL), 1);
    assert_int_equal(exit_for(REPORT_FAIL, 0, "known: ticket 12, expires 2027-01-01"), 0);
    assert_int_equal(exit_for(REPORT_ERROR, 0, NULL), 3);
    report_result_t *empty = report_result_new(REPORT_KIND_SCENARIO, "s");
    assert_int_equal(report_result_exit_code(empty), 0);
    report_result_free(empty);
}

static void test_metrics_and_kills(void **state)
{
    (void)state;
    report_result_t *r = report_result_new(REPORT_KIND_SCENARIO, "s");
    assert_int_equal(report_result_add_counter(r, "b", 2), HS_EOK);
    assert_int_equal(report_result_add_counter(r, "a", 1), HS_EOK);
    assert_int_equal(report_result_add_counter(r, "b", 3), HS_EOK);
    assert_int_equal(report_result_add_counter(r, "", 3), HS_EINVAL);
    /* A value cell stays put while other counters are inserted around it. */
    int64_t *cell, *again;
    assert_int_equal(report_result_counter_ref(r, "m", &cell), HS_EOK);
    assert_int_equal(*cell, 0);
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%03d", i);
        assert_int_equal(report_result_add_counter(r, name, i), HS_EOK);
    }
    *cell += 7;
    assert_int_equal(report_result_add_counter(r, "m", 1), HS_EOK);
    assert_int_equal(report_result_counter_ref(r, "m", &again), HS_EOK);
    assert_ptr_equal(cell, again);
    assert_int_equal(*cell, 8);
    assert_int_equal(report_result_counter_ref(r, NULL, &again), HS_EINVAL);
    assert_int_equal(report_result_set_knob(r, "method_name_max", "100"), HS_EOK);
    assert_int_equal(report_result_set_knob(r, "method_name_max", "101"), HS_EOK);
    assert_int_equal(report_result_set_knob(r, NULL, "1"), HS_EINVAL);
    assert_int_equal(report_result_add_point(r, "online", "devices", 10, 5), HS_EOK);
    assert_int_equal(report_result_add_point(r, "online", "devices", 10, 6), HS_EOK); /* equal time: fine */
    assert_int_equal(report_result_add_point(r, "online", "devices", 9, 6), HS_EINVAL); /* backwards */
    assert_int_equal(report_result_add_point(r, "online", "devices", 11, (double)NAN), HS_EINVAL);
    report_hist_t *h1, *h2;
    assert_int_equal(report_result_hist(r, "d2c.latency", &h1), HS_EOK);
    assert_int_equal(report_result_hist(r, "d2c.latency", &h2), HS_EOK);
    assert_ptr_equal(h1, h2);
    assert_int_equal(report_result_add_kill(r, "METHOD-504-TIMEOUT", "METHOD-504-TIMEOUT", 1, "case 3", NULL), HS_EOK);
    assert_int_equal(report_result_add_kill(r, "C2D-TTL+1", "C2D-TTL", 0, NULL, "no case at 48h+1s"), HS_EOK);
    assert_int_equal(report_result_add_kill(r, NULL, "X", 0, NULL, NULL), HS_EINVAL);
    assert_int_equal(report_result_kill_count(r), 2);
    assert_int_equal(report_result_killed_count(r), 1);

    json_t *j = report_result_to_json(r);
    json_t *counters = json_object_get(json_object_get(j, "metrics"), "counters");
    assert_int_equal(json_integer_value(json_object_get(counters, "b")), 5);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "run"), "knobs"),
                                                          "method_name_max")), "101");
    /* Kills sorted by switch id: C2D before METHOD. */
    json_t *entries = json_object_get(json_object_get(j, "kill_matrix"), "entries");
    assert_string_equal(json_string_value(json_object_get(json_array_get(entries, 0), "switch")), "C2D-TTL+1");
    assert_true(json_real_value(json_object_get(json_object_get(j, "kill_matrix"), "kill_rate")) == 0.5);
    json_decref(j);
    report_result_free(r);
}

static report_result_t *shard(int k)
{
    report_result_t *r = report_result_new(REPORT_KIND_SCENARIO, "fleet");
    report_result_set_seed(r, 7);
    assert_int_equal(report_result_set_target(r, "inproc"), HS_EOK);
    assert_int_equal(report_result_set_knob(r, "c2d_queue_depth", "50"), HS_EOK);
    assert_int_equal(report_result_add_counter(r, "d2c.sent", 100 + k), HS_EOK);
    report_hist_t *h;
    assert_int_equal(report_result_hist(r, "d2c.latency", &h), HS_EOK);
    for (uint64_t i = 0; i < 100; i++)
        report_hist_record(h, (uint64_t)k * 1000000 + i * 10000);
    assert_int_equal(report_result_add_point(r, "throughput", "msg/s", 0, 10.0 * k), HS_EOK);
    assert_int_equal(report_result_add_point(r, "throughput", "msg/s", (sim_time_t)(k + 1) * SIM_SEC, 1.5), HS_EOK);
    report_case_t c = mk(k ? "d2c.latency.p99" : "d2c.sent", "expectations", NULL, REPORT_PASS);
    assert_int_equal(report_result_add_case(r, &c), HS_EOK);
    return r;
}

static void test_merge(void **state)
{
    (void)state;
    report_result_t *a = shard(1), *b = shard(2);
    assert_int_equal(report_result_merge(a, b), HS_EOK);
    json_t *j = report_result_to_json(a);
    json_t *m = json_object_get(j, "metrics");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "counters"), "d2c.sent")), 203);
    json_t *h = json_object_get(json_object_get(m, "histograms"), "d2c.latency");
    assert_string_equal(json_string_value(json_object_get(h, "count")), "200");
    assert_string_equal(json_string_value(json_object_get(h, "min")), "1000000");
    assert_string_equal(json_string_value(json_object_get(h, "max")), "2990000");
    /* Series: t=0 summed (10+20), t=2s and t=3s kept apart, in time order. */
    json_t *pts = json_object_get(json_object_get(json_object_get(m, "series"), "throughput"), "points");
    assert_int_equal(json_array_size(pts), 3);
    assert_true(json_number_value(json_array_get(json_array_get(pts, 0), 1)) == 30.0);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(pts, 1), 0)), 2 * SIM_SEC);
    assert_int_equal(report_result_case_count(a), 2);
    json_decref(j);

    /* Shards of different runs do not merge. */
    report_result_t *c = shard(3);
    assert_int_equal(report_result_set_knob(c, "c2d_queue_depth", "51"), HS_EOK);
    assert_int_equal(report_result_merge(a, c), HS_EINVAL);
    report_result_set_seed(c, 8);
    assert_int_equal(report_result_merge(a, c), HS_EINVAL);
    report_result_t *d = report_result_new(REPORT_KIND_CONFORMANCE, "fleet");
    assert_int_equal(report_result_merge(a, d), HS_EINVAL);
    report_result_free(a);
    report_result_free(b);
    report_result_free(c);
    report_result_free(d);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    report_result_t *r = shard(1);
    report_result_set_trace_hash(r, 0x0123456789abcdefull);
    report_result_set_catalogue_version(r, 3);
    report_result_set_virtual(r, 1767225600, 3600 * SIM_SEC);
    report_result_set_wallclock(r, 1700000000123, 1700000004567);
    assert_int_equal(report_result_set_info(r, "shard", "1/2"), HS_EOK);
    report_case_t c = mk("MSG-SIZE-LIMIT", "messages", "256 KB + 1 refused", REPORT_WRONG_CODE);
    c.expected = "413";
    c.observed = "400";
    c.trace_excerpt = "{\"kind\":\"d2c.reject\"}";
    c.baseline = "known";
    c.duration = 5 * SIM_MS;
    assert_int_equal(report_result_add_case(r, &c), HS_EOK);
    assert_int_equal(report_result_add_kill(r, "S-1", "MSG-SIZE-LIMIT", 1, "MSG-SIZE-LIMIT: x", NULL), HS_EOK);

    json_t *j1 = report_result_to_json(r);
    report_result_t *back = NULL;
    char err[256] = "";
    if (report_result_from_json(j1, &back, err, sizeof err))
        fail_msg("read back failed: %s", err);
    json_t *j2 = report_result_to_json(back);
    char *s1 = json_dumps(j1, JSON_PRESERVE_ORDER | JSON_SORT_KEYS), *s2 = json_dumps(j2, JSON_PRESERVE_ORDER | JSON_SORT_KEYS);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    json_decref(j2);
    report_result_free(back);

    /* Malformed documents are refused with a path. */
    json_object_set_new(json_object_get(j1, "run"), "seed", json_integer(7));
    assert_int_equal(report_result_from_json(j1, &back, err, sizeof err), HS_EINVAL);
    assert_null(back);
    assert_non_null(strstr(err, "$.run.seed"));
    json_object_set_new(j1, "report_format", json_integer(2));
    assert_int_equal(report_result_from_json(j1, &back, err, sizeof err), HS_EINVAL);
    json_decref(j1);
    report_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_boundaries),
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_hist_merge_is_exact),
        cmocka_unit_test(test_case_order_and_counts),
        cmocka_unit_test(test_verdict_names),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_metrics_and_kills),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
