/* Every example scenario runs with all expectations holding, and one mutation per example makes a named expectation fail. */

/*
 * Issue 6: "Each [example] has expectations that hold, so the test suite runs
 * them all; and for each, a test applies one mutation ... that must make one
 * of its expectations fail, so no example asserts nothing."  A mutation edits
 * the loaded scenario_t and writes it back with scenario_to_json, so the
 * mutant is a real scenario file that `hubsim run` loads like any other.
 * Verdicts are read from report.json (--out), not from the summary text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <jansson.h>

#include "sim/fleet/scenario.h"
#include "test_util.h"

typedef void (*mutate_fn)(scenario_t *s);

static scn_group_t *group(scenario_t *s, const char *name)
{
    for (size_t i = 0; i < s->ngroups; i++)
        if (strcmp(s->groups[i].name, name) == 0)
            return &s->groups[i];
    fail_msg("no group %s", name);
    return NULL;
}

static scn_method_handler_t *method(scn_group_t *g, const char *name)
{
    for (size_t i = 0; i < g->nmethods; i++)
        if (strcmp(g->methods[i].method, name) == 0)
            return &g->methods[i];
    fail_msg("no method %s", name);
    return NULL;
}

/* ---- one mutation per example ------------------------------------------------- */

static void no_offline_windows(scenario_t *s)
{
    for (size_t i = 0; i < s->ngroups; i++)
        s->groups[i].connectivity.noffline = 0; /* the array stays owned; only the count changes */
}

static void fast_diagnose(scenario_t *s)
{
    scn_method_handler_t *m = method(group(s, "pump"), "diagnose");
    m->latency.kind = SCN_DIST_FIXED;
    m->latency.a = 100 * SIM_MS;
    m->p_no_answer = 0;
}

static void no_oversized(scenario_t *s)
{
    group(s, "cam")->misbehaviour.p_oversized = 0;
}

static void props_over_mqtt(scenario_t *s)
{
    group(s, "tracker")->protocol = SCN_PROTO_MQTT; /* MQTT carries property characters unchecked */
}

static void c2d_always_complete(scenario_t *s)
{
    scn_c2d_behaviour_t *c = &group(s, "valve")->c2d;
    c->p_complete = 1;
    c->p_reject = c->p_abandon = c->p_ignore = 0;
}

static void twin_no_reports(scenario_t *s)
{
    scn_twin_behaviour_t *t = &group(s, "light")->twin;
    t->report_on_desired = false;
    t->periodic = false;
}

static void boilers_not_alarming(scenario_t *s)
{
    scn_telemetry_t *t = &group(s, "boiler")->telemetry;
    for (size_t i = 0; i < t->napp_props; i++) {
        if (strcmp(t->app_props[i].name, "level") == 0) {
            free(t->app_props[i].value);
            t->app_props[i].value = strdup("info");
            assert_non_null(t->app_props[i].value);
        }
    }
}

static void fleet_ten_minutes(scenario_t *s)
{
    s->duration = 10 * SIM_MIN;
    s->sample_interval = 5 * SIM_SEC;
    /* squeeze every timeline item into the shorter run (the loader refuses times past the end) */
    for (size_t i = 0; i < s->ngroups; i++) {
        scn_connectivity_t *c = &s->groups[i].connectivity;
        for (size_t w = 0; w < c->noffline; w++) {
            c->offline[w].start /= 6;
            c->offline[w].end /= 6;
        }
        for (size_t k = 0; k < c->nstorms; k++)
            c->storms[k] /= 6;
    }
    for (size_t i = 0; i < s->nfaults; i++)
        s->faults[i].at /= 6;
}

static void firmware_fixed(scenario_t *s)
{
    method(group(s, "kiosk-fw42"), "setMode")->p_no_answer = 0;
}

/* Answers after the 30 s response timeout: the hub times every call out. */
static void reboot_too_slow(scenario_t *s)
{
    scn_method_handler_t *m = method(group(s, "thermostat"), "reboot");
    m->latency.kind = SCN_DIST_FIXED;
    m->latency.a = 40 * SIM_SEC;
    m = method(group(s, "gateway"), "reboot");
    m->latency.kind = SCN_DIST_FIXED;
    m->latency.a = 40 * SIM_SEC;
}

static const struct {
    const char *file;
    mutate_fn mutate;
    const char *must_fail; /* expectation name (or text) */
} examples[] = {
    { "offline-windows", no_offline_windows, "offline-calls-404" },
    { "slow-method-responders", fast_diagnose, "timeouts-answered-504" },
    { "oversized-payloads", no_oversized, "oversized-refused" },
    { "bad-property-chars", props_over_mqtt, "bad-props-refused" },
    { "c2d-under-churn", c2d_always_complete, "rejected" },
    { "twin-storm", twin_no_reports, "reports-accepted" },
    { "routing-fan-out", boilers_not_alarming, "queue-gets-alarms" },
    { "fleet-10k-1h", fleet_ten_minutes, "telemetry-flows" },
    { "field-bug-example", firmware_fixed, "bug-reproduces" },
    { "demo", reboot_too_slow, "reboots-answer" },
};

/* ---- running -------------------------------------------------------------------- */

/* Run hubsim on path with --out dir; return the exit code and the parsed report. */
static int run(const char *path, const char *dir, json_t **report)
{
    const char *args[] = { "run", path, "--quiet", "--out", dir, NULL };
    char *out = NULL, *err = NULL;
    int rc = tu_run_hubsim(&out, &err, args);
    char rpath[4096];
    snprintf(rpath, sizeof rpath, "%s/report.json", dir);
    json_error_t jerr;
    *report = json_load_file(rpath, 0, &jerr);
    if (!*report)
        fail_msg("%s: no report (%s); exit %d\nstdout:\n%s\nstderr:\n%s", path, jerr.text, rc, out ? out : "",
                 err ? err : "");
    free(out);
    free(err);
    return rc;
}

/* Verdict of the expectation named `name` (its name, or its text when unnamed). */
static const char *verdict_of(const json_t *report, const scenario_t *s, const char *name)
{
    const char *text = NULL;
    for (size_t i = 0; i < s->nexpectations; i++) {
        const scn_expectation_t *x = &s->expectations[i];
        if ((x->name && strcmp(x->name, name) == 0) || strcmp(x->text, name) == 0)
            text = x->text;
    }
    if (!text)
        fail_msg("the scenario has no expectation %s", name);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(report, "cases"), i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *cname = json_string_value(json_object_get(c, "name"));
        if ((id && (strcmp(id, name) == 0 || strcmp(id, text) == 0)) ||
            (cname && (strcmp(cname, name) == 0 || strcmp(cname, text) == 0)))
            return json_string_value(json_object_get(c, "verdict"));
    }
    return NULL;
}

static void check_all_pass(const json_t *report, const char *file)
{
    size_t i;
    json_t *c;
    int bad = 0;
    json_array_foreach(json_object_get(report, "cases"), i, c) {
        const char *v = json_string_value(json_object_get(c, "verdict"));
        if (!v || strcmp(v, "PASS") != 0) {
            fprintf(stderr, "%s: %s: %s (%s)\n", file, json_string_value(json_object_get(c, "name")), v ? v : "?",
                    json_string_value(json_object_get(c, "observed")));
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_examples(void **state)
{
    (void)state;
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/scenario-examples", tu_build_dir());
    mkdir(dir, 0755);
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        char path[8192], outdir[8192], mutant[8192];
        snprintf(path, sizeof path, "%s/scenarios/%s.json", tu_source_dir(), examples[e].file);
        scenario_t s;
        json_diag_list_t *d = NULL;
        assert_int_equal(json_diag_list_new(&d), HS_EOK);
        if (scenario_load_file(path, &s, d) != HS_EOK) {
            json_diag_print(d, stderr);
            fail_msg("%s does not load", path);
        }
        json_diag_list_free(d);

        /* as written: exit 0, every expectation (and conservation) passes */
        snprintf(outdir, sizeof outdir, "%s/%s", dir, examples[e].file);
        json_t *report = NULL;
        int rc = run(path, outdir, &report);
        check_all_pass(report, examples[e].file);
        assert_int_equal(rc, 0);
        const char *v = verdict_of(report, &s, examples[e].must_fail);
        if (!v || strcmp(v, "PASS") != 0)
            fail_msg("%s: %s is %s before the mutation", examples[e].file, examples[e].must_fail, v ? v : "absent");
        json_decref(report);

        /* mutated: exit 1, and the chosen expectation fails */
        examples[e].mutate(&s);
        char *text = scenario_to_json(&s);
        assert_non_null(text);
        snprintf(mutant, sizeof mutant, "%s/%s.mutant.json", dir, examples[e].file);
        FILE *f = fopen(mutant, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        free(text);
        snprintf(outdir, sizeof outdir, "%s/%s.mutant", dir, examples[e].file);
        rc = run(mutant, outdir, &report);
        v = verdict_of(report, &s, examples[e].must_fail);
        if (rc != 1 || !v || strcmp(v, "PASS") == 0)
            fail_msg("%s mutant: exit %d, %s is %s (expected exit 1 and a failure)", examples[e].file, rc,
                     examples[e].must_fail, v ? v : "absent");
        json_decref(report);
        scenario_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
