/* Every example scenario holds, and one mutation of each (a hub fault switch or a scenario edit) makes it fail.
 *
 * So no example asserts nothing: each has an expectation that a broken hub,
 * or a changed fleet, visibly violates. */
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

typedef void (*mutate_fn)(json_t *doc);

static json_t *group(json_t *doc, size_t i) { return json_array_get(json_object_get(doc, "groups"), i); }

static void slow_link(json_t *doc)
{
    for (size_t i = 0; i < json_array_size(json_object_get(doc, "groups")); i++)
        json_object_set_new(group(doc, i), "linkLatency", json_string("2s"));
}

static void drop_actors(json_t *doc) { json_object_del(doc, "actors"); }

static void no_offline_windows(json_t *doc)
{
    for (size_t i = 0; i < json_array_size(json_object_get(doc, "groups")); i++)
        json_object_del(json_object_get(group(doc, i), "connectivity"), "offline");
}

static void drop_first_route(json_t *doc)
{
    json_array_remove(json_object_get(json_object_get(json_object_get(doc, "hub"), "routing"), "routes"), 0);
}

static void no_file_notifications(json_t *doc)
{
    json_object_set_new(json_object_get(json_object_get(doc, "hub"), "fileUpload"), "notifications", json_false());
}

static void slower_telemetry(json_t *doc)
{
    for (size_t i = 0; i < json_array_size(json_object_get(doc, "groups")); i++)
        json_object_set_new(json_object_get(group(doc, i), "telemetry"), "interval", json_string("10m"));
}

typedef struct {
    const char *file;
    const char *break_switch; /* hub fault switch, or NULL */
    mutate_fn mutate;         /* scenario edit, or NULL */
    const char *must_fail;    /* expectation id that the mutation must make FAIL */
} example_t;

static const example_t examples[] = {
    { "bad-property-chars.json", "MSG-PROP-CHARSET", NULL, "bad-props-refused" },
    { "c2d-under-churn.json", NULL, drop_actors, "sent" },
    { "demo.json", NULL, slow_link, "d2c.latency.p99 < \"1s\"" },
    { "field-bug-example.json", "METHOD-504-TIMEOUT", NULL, "bug-reproduces" },
    { "file-uploads.json", NULL, no_file_notifications, "one-notification-per-upload" },
    { "gateways-100x100.json", "GATEWAY-LEAF-OFFLINE", NULL, "leaves-follow-gateway" },
    { "jobs-while-offline.json", NULL, no_offline_windows, "offline-devices-404" },
    { "fleet-10k-1h.json", NULL, slower_telemetry, "telemetry-flows" },
    { "live-fleet-10k.json", NULL, slower_telemetry, "telemetry-flows" },
    { "live-jobs-uploads.json", NULL, drop_actors, "fwcheck-completes" },
    { "live-smoke.json", "AUTH-SAS-EXPIRED", NULL, "expired-tokens-refused" },
    { "live-throttle.json", "HUB-THROTTLE", NULL, "throttling-bites" },
    { "offline-windows.json", NULL, no_offline_windows, "offline-calls-404" },
    { "oversized-payloads.json", "MSG-SIZE-LIMIT", NULL, "oversized-refused" },
    { "routing-fan-out.json", NULL, drop_first_route, "queue-gets-alarms" },
    { "slow-method-responders.json", "METHOD-504-TIMEOUT", NULL, "timeouts-answered-504" },
    { "twin-storm.json", "TWIN-DESIRED-PUSH", NULL, "reports-accepted" },
};

static void play_text(const char *text, const char *name, const char *brk, play_outcome_t *out)
{
    scenario_t s;
    json_diag_list_t *d = NULL;
    json_diag_list_new(&d);
    hs_err_t err = scenario_load_text(text, strlen(text), name, &s, d);
    if (err)
        json_diag_print(d, stderr);
    json_diag_list_free(d);
    assert_int_equal(err, HS_EOK);
    const char *breaks[1] = { brk };
    play_options_t po = { .shard = { 0, 1 }, .breaks = breaks, .nbreaks = brk ? 1 : 0 };
    assert_int_equal(play_scenario(&s, &po, out), HS_EOK);
    scenario_free(&s);
}

static void check_example(const example_t *ex)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/scenarios/%s", tu_source_dir(), ex->file);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    play_outcome_t out;
    play_text(text, path, NULL, &out);
    for (size_t i = 0; i < report_result_case_count(out.result); i++) {
        const report_case_t *c = report_result_case_at(out.result, i);
        if (c->verdict != REPORT_PASS)
            fprintf(stderr, "%s: %s: %s %s\n", ex->file, c->id, report_verdict_name(c->verdict),
                    c->observed ? c->observed : "");
    }
    assert_int_equal(out.failed, 0);
    report_result_free(out.result);

    char *mutated = text;
    json_t *doc = NULL;
    if (ex->mutate) {
        json_error_t je;
        doc = json_loads(text, JSON_PRESERVE_ORDER, &je);
        assert_non_null(doc);
        ex->mutate(doc);
        mutated = json_dumps(doc, JSON_PRESERVE_ORDER);
    }
    play_text(mutated, path, ex->break_switch, &out);
    const report_case_t *hit = NULL;
    for (size_t i = 0; i < report_result_case_count(out.result); i++)
        if (strcmp(report_result_case_at(out.result, i)->id, ex->must_fail) == 0)
            hit = report_result_case_at(out.result, i);
    assert_non_null(hit);
    if (hit->verdict != REPORT_FAIL)
        fprintf(stderr, "%s: mutation left '%s' %s (%s)\n", ex->file, ex->must_fail,
                report_verdict_name(hit->verdict), hit->observed ? hit->observed : "");
    assert_int_equal(hit->verdict, REPORT_FAIL);
    report_result_free(out.result);
    if (doc) {
        free(mutated);
        json_decref(doc);
    }
    free(text);
}

static void test_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        check_example(&examples[i]);
}

/* Every example in scenarios/ has a row above (a new example needs a mutation). */
static void test_every_example_has_a_mutation(void **state)
{
    (void)state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s/scenarios/*.json", tu_source_dir());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        char *base = strrchr(line, '/');
        base = base ? base + 1 : line;
        base[strcspn(base, "\n")] = 0;
        if (strcmp(base, "schema.json") == 0)
            continue;
        int found = 0;
        for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
            found |= strcmp(examples[i].file, base) == 0;
        if (!found)
            fprintf(stderr, "scenarios/%s has no mutation in tests/unit/test_examples.c\n", base);
        assert_true(found);
        n++;
    }
    pclose(p);
    assert_int_equal(n, (int)(sizeof examples / sizeof examples[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_example_has_a_mutation),
        cmocka_unit_test(test_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
