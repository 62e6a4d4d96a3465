/* sim_size_parse: the byte-size syntax shared by hub configs, scenarios and expectations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/units.h"

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(sim_size_parse("262144", false, &v), HS_EOK);
    assert_int_equal(v, 262144);
    assert_int_equal(sim_size_parse("256KB", false, &v), HS_EOK);
    assert_int_equal(v, 262144); /* KB = 1024, as IoT Hub states its limits */
    assert_int_equal(sim_size_parse("256 KB", false, &v), HS_EOK);
    assert_int_equal(v, 262144);
    assert_int_equal(sim_size_parse("2KiB", false, &v), HS_EOK);
    assert_int_equal(v, 2048);
    assert_int_equal(sim_size_parse("1MB", true, &v), HS_EOK);
    assert_int_equal(v, 1048576);
    assert_int_equal(sim_size_parse("1GiB", true, &v), HS_EOK);
    assert_int_equal(v, 1073741824ULL);
    assert_int_equal(sim_size_parse("512B", true, &v), HS_EOK);
    assert_int_equal(v, 512);
    assert_int_equal(sim_size_parse("300", true, &v), HS_EPARSE);   /* unit required */
    assert_int_equal(sim_size_parse("300 ", false, &v), HS_EPARSE);  /* a space needs a unit */
    assert_int_equal(sim_size_parse("1.5KB", false, &v), HS_EPARSE); /* no fractions */
    assert_int_equal(sim_size_parse("KB", false, &v), HS_EPARSE);
    assert_int_equal(sim_size_parse("-1", false, &v), HS_EPARSE);
    assert_int_equal(sim_size_parse("12kb", false, &v), HS_EPARSE);
    assert_int_equal(sim_size_parse("", false, &v), HS_EPARSE);
    assert_int_equal(sim_size_parse(NULL, false, &v), HS_EPARSE);
    assert_int_equal(sim_size_parse("99999999999999999999", false, &v), HS_ERANGE);
    assert_int_equal(sim_size_parse("18014398509481984KB", false, &v), HS_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_sizes) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
