/* Expectation metrics: zero-valued counters of declared names read 0, undeclared names (typos) stay missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/fleet/play.h"
#include "sim/fleet/scenario.h"

static const char *scenario_text =
    "{ \"name\": \"zero\", \"duration\": \"2m\",\n"
    "  \"groups\": [ { \"name\": \"g\", \"count\": 10, \"telemetry\": {\"interval\": \"10s\"},\n"
    "                \"methods\": [ { \"name\": \"ping\", \"latency\": \"10ms\" } ] } ],\n"
    "  \"actors\": [ { \"name\": \"p\", \"kind\": \"methodInvoker\", \"group\": \"g\", \"method\": \"ping\",\n"
    "                \"interval\": \"5s\", \"connectTimeout\": 30 } ],\n"
    "  \"expectations\": [\n"
    "    { \"name\": \"no-504\", \"expect\": \"method.ping.status[\\\"504\\\"] == 0\" },\n"
    "    { \"name\": \"no-413\", \"expect\": \"d2c.rejected[\\\"413001\\\"] == 0\" },\n"
    "    { \"name\": \"no-c2d\", \"expect\": \"c2d.sent == 0\" },\n"
    "    { \"name\": \"events\", \"expect\": \"d2c.delivered.events > 0\" },\n"
    "    { \"name\": \"typo-method\", \"expect\": \"method.pong.status[\\\"504\\\"] == 0\" },\n"
    "    { \"name\": \"typo-endpoint\", \"expect\": \"d2c.delivered.nowhere == 0\" },\n"
    "    { \"name\": \"typo-counter\", \"expect\": \"d2c.acepted == 0\" } ] }\n";

static void test_zero_families_and_typos(void **state)
{
    (void)state;
    scenario_t s;
    json_diag_list_t *d = NULL;
    json_diag_list_new(&d);
    assert_int_equal(scenario_load_text(scenario_text, strlen(scenario_text), "zero.json", &s, d), HS_EOK);
    json_diag_list_free(d);
    play_outcome_t out;
    assert_int_equal(play_scenario(&s, NULL, &out), HS_EOK);
    const struct { const char *id; report_verdict_t v; int missing; } want[] = {
        { "no-504", REPORT_PASS, 0 }, { "no-413", REPORT_PASS, 0 }, { "no-c2d", REPORT_PASS, 0 },
        { "events", REPORT_PASS, 0 }, { "typo-method", REPORT_FAIL, 1 },
        { "typo-endpoint", REPORT_FAIL, 1 }, { "typo-counter", REPORT_FAIL, 1 },
    };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        const report_case_t *c = NULL;
        for (size_t i = 0; i < report_result_case_count(out.result); i++)
            if (!strcmp(report_result_case_at(out.result, i)->id, want[w].id))
                c = report_result_case_at(out.result, i);
        assert_non_null(c);
        assert_int_equal(c->verdict, want[w].v);
        if (want[w].missing)
            assert_non_null(strstr(c->observed, "not found"));
    }
    report_result_free(out.result);
    scenario_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_zero_families_and_typos) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
