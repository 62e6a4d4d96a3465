/* Expectations: parsing (canonical keys, literals, errors with columns) and evaluation through a lookup callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/fleet/expect.h"

static expect_t *parse_ok(const char *text)
{
    expect_t *e = NULL;
    expect_error_t err;
    hs_err_t rc = expect_parse(text, &e, &err);
    if (rc != HS_EOK)
        fail_msg("'%s': column %u: %s", text, err.column, err.message);
    return e;
}

static void parse_bad(const char *text, unsigned column, const char *needle)
{
    expect_t *e = (expect_t *)1;
    expect_error_t err;
    assert_int_equal(expect_parse(text, &e, &err), HS_EPARSE);
    assert_null(e);
    if (err.column != column || !strstr(err.message, needle))
        fail_msg("'%s': got column %u '%s', want column %u containing '%s'", text, err.column, err.message,
                 column, needle);
}

static void test_canonical_keys(void **state)
{
    (void)state;
    static const struct { const char *text, *key; } cases[] = {
        { "method.reboot.status[\"504\"] >= 10", "method.reboot.status.504" },
        { "d2c.rejected[\"413001\"] == 0", "d2c.rejected.413001" },
        { "d2c.rejected[413001] == 0", "d2c.rejected.413001" },
        { "hub.counter[\"d2c.accepted\"] > 0", "hub.counter.d2c.accepted" },
        { "d2c.latency.p99 < \"50ms\"", "d2c.latency.p99" },
        { "d2c.latency.p99.9 < \"50ms\"", "d2c.latency.p99.9" },
        { "conservation == \"ok\"", "conservation" },
        { "  _x.a-b[\"q\\\"r\"]  !=  1  ", "_x.a-b.q\"r" },
        { "x[\"a b\"][\"c\"].d>=0", "x.a b.c.d" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_t *e = parse_ok(cases[i].text);
        assert_string_equal(expect_metric(e), cases[i].key);
        expect_free(e);
    }
}

static void test_operators(void **state)
{
    (void)state;
    static const struct { const char *text; expect_op_t op; } cases[] = {
        { "a == 1", EXPECT_OP_EQ }, { "a != 1", EXPECT_OP_NE }, { "a < 1", EXPECT_OP_LT },
        { "a <= 1", EXPECT_OP_LE }, { "a > 1", EXPECT_OP_GT },  { "a >= 1", EXPECT_OP_GE },
        { "a>=1", EXPECT_OP_GE },   { "a<1", EXPECT_OP_LT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_t *e = parse_ok(cases[i].text);
        assert_int_equal(expect_op(e), cases[i].op);
        expect_free(e);
    }
    assert_string_equal(expect_op_text(EXPECT_OP_LE), "<=");
    assert_string_equal(expect_op_text(EXPECT_OP_NE), "!=");
}

static void test_literals(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        expect_lit_kind_t kind;
        double number;
    } cases[] = {
        { "a == 10", EXPECT_LIT_NUMBER, 10 },
        { "a == -2.5", EXPECT_LIT_NUMBER, -2.5 },
        { "a == 1e3", EXPECT_LIT_NUMBER, 1000 },
        { "a == 0.001", EXPECT_LIT_NUMBER, 0.001 },
        { "a < \"50ms\"", EXPECT_LIT_DURATION, 50000000.0 },
        { "a < \"1.5s\"", EXPECT_LIT_DURATION, 1500000000.0 },
        { "a < \"2m\"", EXPECT_LIT_DURATION, 120000000000.0 },
        { "a < \"250us\"", EXPECT_LIT_DURATION, 250000.0 },
        { "a <= \"128KB\"", EXPECT_LIT_SIZE, 131072 },
        { "a <= \"1MB\"", EXPECT_LIT_SIZE, 1048576 },
        { "a <= \"512B\"", EXPECT_LIT_SIZE, 512 },
        { "a <= \"2 KiB\"", EXPECT_LIT_SIZE, 2048 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_t *e = parse_ok(cases[i].text);
        assert_int_equal(expect_literal_kind(e), cases[i].kind);
        expect_value_t t = expect_target(e);
        assert_int_equal(t.kind, EXPECT_VALUE_NUMBER);
        if (t.number != cases[i].number)
            fail_msg("'%s': %.17g != %.17g", cases[i].text, t.number, cases[i].number);
        expect_free(e);
    }
    expect_t *e = parse_ok("conservation == \"ok\"");
    assert_int_equal(expect_literal_kind(e), EXPECT_LIT_STRING);
    assert_int_equal(expect_target(e).kind, EXPECT_VALUE_STRING);
    assert_string_equal(expect_target(e).string, "ok");
    assert_string_equal(expect_target_text(e), "\"ok\"");
    expect_free(e);
    e = parse_ok("a != \"1m5\"");  /* a duration ending without a unit still reads as one: 1m5s */
    assert_int_equal(expect_literal_kind(e), EXPECT_LIT_DURATION);
    expect_free(e);
}

static void test_parse_errors(void **state)
{
    (void)state;
    /* columns are 1-based in the expression */
    parse_bad("", 1, "expected a metric name");
    parse_bad("   ", 4, "expected a metric name");
    parse_bad("9abc > 1", 1, "expected a metric name");
    parse_bad("a. > 1", 3, "expected a name after '.'");
    parse_bad("a > ", 5, "expected a value");
    parse_bad("a >> 3", 4, "expected a value");
    parse_bad("a = 3", 3, "write ==");
    parse_bad("a ~ 3", 3, "expected an operator");
    parse_bad("a", 2, "expected an operator");
    parse_bad("a[\"x\" > 1", 6, "expected ']'");
    parse_bad("a[] > 1", 3, "quoted string or an integer");
    parse_bad("a[\"\"] > 1", 3, "non-empty segment");
    parse_bad("a[\"x] > 1", 3, "unterminated string");
    parse_bad("a == 1 extra", 8, "expected end of expression");
    parse_bad("a == 10ms", 6, "quote durations and sizes");
    parse_bad("a == \"300\"", 6, "without quotes");
    parse_bad("a < \"ok\"", 5, "strings compare with == or != only");
    parse_bad("a >= \"fast\"", 6, "strings compare with == or != only");
    parse_bad("a == 1e", 8, "exponent");
    parse_bad("a == -", 6, "expected a number");
    parse_bad("a == \"x\\q\"", 8, "after a backslash");
    expect_error_t err;
    expect_t *e;
    assert_int_equal(expect_parse(NULL, &e, &err), HS_EINVAL);
}

/* ---- evaluation ---------------------------------------------------------------- */

typedef struct {
    const char *keys[8];
    expect_value_t values[8];
    size_t n;
    int fail;
} fake_t;

static int fake_lookup(void *ctx, const char *key, expect_value_t *out)
{
    fake_t *f = ctx;
    if (f->fail)
        return -1;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->keys[i], key) == 0) {
            *out = f->values[i];
            return 0;
        }
    }
    out->kind = EXPECT_VALUE_MISSING;
    return 0;
}

static void fake_keys(void *ctx, void (*emit)(void *, const char *), void *ectx)
{
    fake_t *f = ctx;
    for (size_t i = 0; i < f->n; i++)
        emit(ectx, f->keys[i]);
}

static fake_t make_fake(void)
{
    fake_t f = { .n = 5 };
    f.keys[0] = "method.reboot.status.504";
    f.values[0] = (expect_value_t){ .kind = EXPECT_VALUE_NUMBER, .number = 12 };
    f.keys[1] = "d2c.latency.p99";
    f.values[1] = (expect_value_t){ .kind = EXPECT_VALUE_NUMBER, .number = 61e6 };
    f.keys[2] = "conservation";
    f.values[2] = (expect_value_t){ .kind = EXPECT_VALUE_STRING, .string = "ok" };
    f.keys[3] = "d2c.latency.p50";
    f.values[3] = (expect_value_t){ .kind = EXPECT_VALUE_NUMBER, .number = 20e6 };
    f.keys[4] = "d2c.bytes";
    f.values[4] = (expect_value_t){ .kind = EXPECT_VALUE_NUMBER, .number = 131072 };
    return f;
}

static void eval(fake_t *f, const char *text, bool pass, const char *detail)
{
    expect_t *e = parse_ok(text);
    expect_result_t r;
    assert_int_equal(expect_eval(e, fake_lookup, fake_keys, f, &r), HS_EOK);
    if (r.pass != pass || strcmp(r.detail, detail) != 0)
        fail_msg("'%s': got %s '%s', want %s '%s'", text, r.pass ? "pass" : "fail", r.detail,
                 pass ? "pass" : "fail", detail);
    expect_result_free(&r);
    assert_null(r.detail);
    expect_free(e);
}

static void test_eval_numbers(void **state)
{
    (void)state;
    fake_t f = make_fake();
    /* both sides of each boundary */
    eval(&f, "method.reboot.status[\"504\"] >= 12", true, "observed 12, expected >= 12");
    eval(&f, "method.reboot.status[\"504\"] >= 13", false, "observed 12, expected >= 13");
    eval(&f, "method.reboot.status[\"504\"] > 11", true, "observed 12, expected > 11");
    eval(&f, "method.reboot.status[\"504\"] > 12", false, "observed 12, expected > 12");
    eval(&f, "method.reboot.status[\"504\"] < 13", true, "observed 12, expected < 13");
    eval(&f, "method.reboot.status[\"504\"] < 12", false, "observed 12, expected < 12");
    eval(&f, "method.reboot.status[\"504\"] <= 12", true, "observed 12, expected <= 12");
    eval(&f, "method.reboot.status[\"504\"] <= 11", false, "observed 12, expected <= 11");
    eval(&f, "method.reboot.status[\"504\"] == 12", true, "observed 12, expected == 12");
    eval(&f, "method.reboot.status[\"504\"] != 12", false, "observed 12, expected != 12");
}

static void test_eval_durations_sizes_strings(void **state)
{
    (void)state;
    fake_t f = make_fake();
    eval(&f, "d2c.latency.p99 < \"50ms\"", false, "observed 61ms (61000000 ns), expected < \"50ms\"");
    eval(&f, "d2c.latency.p99 < \"62ms\"", true, "observed 61ms (61000000 ns), expected < \"62ms\"");
    eval(&f, "d2c.latency.p99 <= \"61ms\"", true, "observed 61ms (61000000 ns), expected <= \"61ms\"");
    eval(&f, "d2c.bytes <= \"128KB\"", true, "observed 131072 bytes, expected <= \"128KB\"");
    eval(&f, "d2c.bytes < \"128KB\"", false, "observed 131072 bytes, expected < \"128KB\"");
    eval(&f, "conservation == \"ok\"", true, "observed \"ok\", expected == \"ok\"");
    eval(&f, "conservation != \"ok\"", false, "observed \"ok\", expected != \"ok\"");
    eval(&f, "conservation == \"failed\"", false, "observed \"ok\", expected == \"failed\"");
    eval(&f, "conservation > 1", false, "metric conservation is a string (\"ok\"), expected a number");
    eval(&f, "d2c.bytes == \"ok\"", false, "metric d2c.bytes is a number (131072), expected a string == \"ok\"");
}

static void test_eval_missing(void **state)
{
    (void)state;
    fake_t f = make_fake();
    /* keys of the same family first, sorted */
    eval(&f, "d2c.latncy.p99 < \"1s\"", false,
         "metric d2c.latncy.p99 not found (known: d2c.bytes, d2c.latency.p50, d2c.latency.p99)");
    /* no family: everything, sorted */
    eval(&f, "nope > 1", false,
         "metric nope not found (known: conservation, d2c.bytes, d2c.latency.p50, d2c.latency.p99, "
         "method.reboot.status.504)");
    expect_t *e = parse_ok("nope > 1");
    expect_result_t r;
    assert_int_equal(expect_eval(e, fake_lookup, NULL, &f, &r), HS_EOK);
    assert_false(r.pass);
    assert_string_equal(r.detail, "metric nope not found");
    expect_result_free(&r);
    fake_t empty = { 0 };
    assert_int_equal(expect_eval(e, fake_lookup, fake_keys, &empty, &r), HS_EOK);
    assert_string_equal(r.detail, "metric nope not found (no metrics known)");
    expect_result_free(&r);
    /* a lookup failure is a harness error, not a failed expectation */
    f.fail = 1;
    assert_int_equal(expect_eval(e, fake_lookup, fake_keys, &f, &r), HS_EINVAL);
    assert_false(r.pass);
    assert_null(r.detail);
    expect_free(e);
}

/* Many keys: the list is cut at 12 and says how many more. */
static void many_keys(void *ctx, void (*emit)(void *, const char *), void *ectx)
{
    (void)ctx;
    char k[32];
    for (int i = 20; i > 0; i--) {
        snprintf(k, sizeof k, "m.k%02d", i);
        emit(ectx, k);
    }
}

static int none_lookup(void *ctx, const char *key, expect_value_t *out)
{
    (void)ctx;
    (void)key;
    out->kind = EXPECT_VALUE_MISSING;
    return 0;
}

static void test_eval_missing_many(void **state)
{
    (void)state;
    expect_t *e = parse_ok("m.x > 1");
    expect_result_t r;
    assert_int_equal(expect_eval(e, none_lookup, many_keys, NULL, &r), HS_EOK);
    assert_string_equal(r.detail, "metric m.x not found (known: m.k01, m.k02, m.k03, m.k04, m.k05, m.k06, "
                                  "m.k07, m.k08, m.k09, m.k10, m.k11, m.k12, ... 8 more)");
    expect_result_free(&r);
    expect_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_keys),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_eval_numbers),
        cmocka_unit_test(test_eval_durations_sizes_strings),
        cmocka_unit_test(test_eval_missing),
        cmocka_unit_test(test_eval_missing_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
