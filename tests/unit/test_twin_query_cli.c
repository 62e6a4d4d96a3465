/* `hubsim twin-query`: results over fixtures/twins, pages, and exit 2 with positions for bad queries and files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_util.h"

static char fleet[1024], bad_syntax[1024], not_array[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(fleet, sizeof fleet, "%s/fixtures/twins/fleet.json", tu_source_dir());
    snprintf(bad_syntax, sizeof bad_syntax, "%s/fixtures/twins/bad-syntax.json", tu_source_dir());
    snprintf(not_array, sizeof not_array, "%s/fixtures/twins/not-array.json", tu_source_dir());
    return 0;
}

static int run(char **out, char **err, const char *q, const char *twins, const char *page)
{
    const char *args[] = { "twin-query", q, "--twins", twins, page ? "--page-size" : NULL, page, NULL };
    return tu_run_hubsim(out, err, args);
}

static void test_results(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run(&out, &err, "SELECT deviceId FROM devices WHERE tags.location.region = 'US'", fleet, NULL), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    json_t *want = json_loads("[{\"deviceId\":\"thermo-1\"},{\"deviceId\":\"thermo-2\"}]", 0, &je);
    assert_true(json_equal(j, want));
    json_decref(j);
    json_decref(want);
    assert_string_equal(err, "");
    free(out), free(err);

    assert_int_equal(run(&out, &err,
                         "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices "
                         "FROM devices GROUP BY properties.reported.telemetryConfig.status",
                         fleet, NULL),
                     0);
    j = json_loads(out, 0, &je);
    want = json_loads("[{\"status\":\"Success\",\"numberOfDevices\":2},{\"status\":\"Pending\",\"numberOfDevices\":1},"
                      "{\"status\":\"Error\",\"numberOfDevices\":1},{\"numberOfDevices\":1}]",
                      0, &je);
    assert_true(json_equal(j, want));
    json_decref(j);
    json_decref(want);
    free(out), free(err);

    assert_int_equal(run(&out, &err,
                         "SELECT COUNT() AS n FROM devices.modules WHERE properties.reported.status = 'scanning' "
                         "AND deviceId IN ['thermo-1', 'pump-1']",
                         fleet, NULL),
                     0);
    j = json_loads(out, 0, &je);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "n")), 2);
    json_decref(j);
    free(out), free(err);
}

static void test_pages(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run(&out, &err, "SELECT deviceId FROM devices", fleet, "2"), 0);
    assert_string_equal(out, "[{\"deviceId\":\"thermo-1\"},{\"deviceId\":\"thermo-2\"}]\n"
                             "[{\"deviceId\":\"thermo-3\"},{\"deviceId\":\"pump-1\"}]\n"
                             "[{\"deviceId\":\"pump-2\"}]\n");
    free(out), free(err);
    assert_int_equal(run(&out, &err, "SELECT deviceId FROM devices WHERE deviceId = 'none'", fleet, "2"), 0);
    assert_string_equal(out, "[]\n");
    free(out), free(err);
    assert_int_equal(run(&out, &err, "SELECT * FROM devices", fleet, "0"), 2);
    assert_non_null(strstr(err, "--page-size"));
    free(out), free(err);
}

static void test_errors_exit_2(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run(&out, &err, "SELECT * FROM devices\nWHERE tags.x = 1 AND\n  properties.reported.x >> 3",
                         fleet, NULL),
                     2);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "hubsim twin-query: <query>:3:26: "));
    /* the line and a caret under column 26 */
    assert_non_null(strstr(err, "\n    properties.reported.x >> 3\n                           ^\n"));
    free(out), free(err);
    assert_int_equal(run(&out, &err, "SELECT deviceId FROM devices.jobs", fleet, NULL), 2);
    assert_non_null(strstr(err, "<query>:1:8:"));
    free(out), free(err);
    assert_int_equal(run(&out, &err, "SELECT * FROM devices", bad_syntax, NULL), 2);
    assert_non_null(strstr(err, "bad-syntax.json:1:19:"));
    free(out), free(err);
    assert_int_equal(run(&out, &err, "SELECT * FROM devices", not_array, NULL), 2);
    assert_non_null(strstr(err, "not-array.json:1:1: expected a JSON array"));
    free(out), free(err);
    assert_int_equal(run(&out, &err, "SELECT * FROM devices", "/nonexistent/twins.json", NULL), 2);
    free(out), free(err);
    const char *no_twins[] = { "twin-query", "SELECT * FROM devices", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, no_twins), 2);
    assert_non_null(strstr(err, "--twins"));
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_errors_exit_2),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
