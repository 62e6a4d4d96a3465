/* Durations and UTC instants: parsing, formatting and errors, with no clock involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/simtime.h"

static void test_duration_parse(void **state)
{
    (void)state;
    sim_time_t d;
    assert_int_equal(sim_duration_parse("250ms", &d), HS_EOK);
    assert_int_equal(d, 250000000ULL);
    assert_int_equal(sim_duration_parse("5m", &d), HS_EOK);
    assert_int_equal(d, 300000000000ULL);
    assert_int_equal(sim_duration_parse("48h", &d), HS_EOK);
    assert_int_equal(d, 172800000000000ULL);
    assert_int_equal(sim_duration_parse("1.5s", &d), HS_EOK);
    assert_int_equal(d, 1500000000ULL);
    assert_int_equal(sim_duration_parse("300", &d), HS_EOK); /* bare number: seconds */
    assert_int_equal(d, 300000000000ULL);
    assert_int_equal(sim_duration_parse("1h30m", &d), HS_EOK);
    assert_int_equal(d, 5400000000000ULL);
    assert_int_equal(sim_duration_parse("7us", &d), HS_EOK);
    assert_int_equal(d, 7000ULL);
    assert_int_equal(sim_duration_parse("2d", &d), HS_EOK);
    assert_int_equal(d, 172800000000000ULL);
    assert_int_equal(sim_duration_parse("", &d), HS_EPARSE);
    assert_int_equal(sim_duration_parse("ms", &d), HS_EPARSE);
    assert_int_equal(sim_duration_parse("5x", &d), HS_EPARSE);
    assert_int_equal(sim_duration_parse("-5s", &d), HS_EPARSE);
    assert_int_equal(sim_duration_parse("99999999999999999999s", &d), HS_ERANGE);
    assert_int_equal(sim_duration_parse("999999999999h", &d), HS_ERANGE);
}

static void test_duration_format(void **state)
{
    (void)state;
    char b[32];
    sim_duration_format(250 * SIM_MS, b, sizeof b);
    assert_string_equal(b, "250ms");
    sim_duration_format(SIM_HOUR + 2 * SIM_MIN + 3 * SIM_SEC + 500 * SIM_MS, b, sizeof b);
    assert_string_equal(b, "1h2m3.5s");
    sim_duration_format(5 * SIM_SEC, b, sizeof b);
    assert_string_equal(b, "5s");
    sim_duration_format(1500, b, sizeof b);
    assert_string_equal(b, "1500ns");
}

static void test_utc_roundtrip(void **state)
{
    (void)state;
    int64_t secs;
    uint32_t ns;
    assert_int_equal(sim_utc_parse("2026-01-01T00:00:00Z", &secs, &ns), HS_EOK);
    assert_int_equal(secs, 1767225600LL); /* `date -u -d 2026-01-01 +%s` */
    assert_int_equal(sim_utc_parse("1970-01-01T00:00:00.5Z", &secs, &ns), HS_EOK);
    assert_int_equal(secs, 0);
    assert_int_equal(ns, 500000000);
    assert_int_equal(sim_utc_parse("2024-02-29T23:59:59Z", &secs, &ns), HS_EOK);
    assert_int_equal(secs, 1709251199LL);
    assert_int_equal(sim_utc_parse("2023-02-29T00:00:00Z", &secs, &ns), HS_ERANGE);
    assert_int_equal(sim_utc_parse("2026-13-01T00:00:00Z", &secs, &ns), HS_ERANGE);
    assert_int_equal(sim_utc_parse("2026-01-01 00:00:00Z", &secs, &ns), HS_EPARSE);
    assert_int_equal(sim_utc_parse("2026-01-01T00:00:00", &secs, &ns), HS_EPARSE);
    char b[40];
    sim_utc_format(1767225600LL, 90 * SIM_SEC + 1234567 * SIM_NS * 100, b, sizeof b);
    assert_string_equal(b, "2026-01-01T00:01:30.1234567Z");
    sim_utc_format(0, 0, b, sizeof b);
    assert_string_equal(b, "1970-01-01T00:00:00.0000000Z");
    sim_utc_format(1709251199LL, SIM_SEC, b, sizeof b);
    assert_string_equal(b, "2024-03-01T00:00:00.0000000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_utc_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
