/* The scenario fault timeline: every hub-side fault kind takes effect, and without it its expectation fails. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/fleet/play.h"
#include "sim/fleet/scenario.h"
#include "test_util.h"

/* fixtures/fleet/faults.json has five faults in this order, each paired with
 * the expectation only it satisfies. */
static const char *const expectation_of_fault[] = { "throttled", "delayed", "unreachable", "dropped", "broken" };

static const report_case_t *find_case(report_result_t *r, const char *id)
{
    for (size_t i = 0; i < report_result_case_count(r); i++)
        if (strcmp(report_result_case_at(r, i)->id, id) == 0)
            return report_result_case_at(r, i);
    return NULL;
}

static void play_doc(json_t *doc, play_outcome_t *out)
{
    char *text = json_dumps(doc, JSON_PRESERVE_ORDER);
    scenario_t s;
    json_diag_list_t *d = NULL;
    json_diag_list_new(&d);
    hs_err_t err = scenario_load_text(text, strlen(text), "faults.json", &s, d);
    if (err)
        json_diag_print(d, stderr);
    json_diag_list_free(d);
    free(text);
    assert_int_equal(err, HS_EOK);
    assert_int_equal(play_scenario(&s, NULL, out), HS_EOK);
    scenario_free(&s);
}

static void test_every_fault_takes_effect_and_is_needed(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/fleet/faults.json", tu_source_dir());
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_PRESERVE_ORDER, &je);
    assert_non_null(doc);
    play_outcome_t out;
    play_doc(doc, &out);
    assert_int_equal(out.failed, 0);
    assert_true(out.conserved);
    report_result_free(out.result);
    for (size_t i = 0; i < 5; i++) {
        json_t *mutant = json_deep_copy(doc);
        json_array_remove(json_object_get(mutant, "faults"), i);
        play_doc(mutant, &out);
        const report_case_t *c = find_case(out.result, expectation_of_fault[i]);
        assert_non_null(c);
        if (c->verdict != REPORT_FAIL)
            fprintf(stderr, "without fault %zu, expectation %s still holds\n", i, expectation_of_fault[i]);
        assert_int_equal(c->verdict, REPORT_FAIL);
        assert_true(out.conserved);
        report_result_free(out.result);
        json_decref(mutant);
    }
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fault_takes_effect_and_is_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
