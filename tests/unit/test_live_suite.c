/* The whole conformance suite against `hubsim serve` on loopback (`hubsim conform --target CS --quick`) gives the in-process verdicts, case by case, but for a table of explained differences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "conformance/runner.h"
#include "reports/jschema.h"
#include "serve_proc.h"
#include "test_util.h"

/*
 * Every case of the suite runs twice through the command line: in-process
 * and against a served hub (--quick: rules with a case of a minute or more
 * SKIP).  Cases are matched by (rule ID, case name); both runs must hold
 * the same cases.  A live verdict may differ from the in-process one only
 * when
 *   - the live case SKIPs because the target lacks a capability (virtual
 *     time, raw wire, hub settings) or --quick left its rule out, or
 *   - the difference is in the table below, with its reason.
 * A difference not in the table fails, and so does a table row that no
 * longer differs (the table stays the truth docs/live.md repeats).
 * Every live case that ran carries its timing tolerance.
 */

typedef struct {
    const char *id;
    const char *name;  /* case name prefix */
    const char *live;  /* the live verdict */
    const char *why;
} known_diff_t;

static const known_diff_t known[] = {
    { "MSG-MESSAGEID", "MessageId of 129", "WRONG-CODE", "an MQTT refusal is a close: MQTT 3.1.1 carries no error code" },
    { "MSG-MESSAGEID", "MessageId with '/'", "WRONG-CODE", "an MQTT refusal is a close: MQTT 3.1.1 carries no error code" },
    { "MSG-MESSAGEID", "MessageId with a space", "WRONG-CODE", "an MQTT refusal is a close: MQTT 3.1.1 carries no error code" },
    { "MSG-SIZE-LIMIT", "D2C of 262145", "WRONG-CODE", "an MQTT refusal is a close: MQTT 3.1.1 carries no error code" },
    { "MSG-SIZE-ACCOUNTING", "body + properties = 262145", "WRONG-CODE",
      "an MQTT refusal is a close: MQTT 3.1.1 carries no error code" },
    { "AUTH-X509-THUMBPRINT", "another thumbprint", "WRONG-CODE",
      "the live device client has no client certificate for an arbitrary thumbprint" },
    { "AUTH-X509-THUMBPRINT", "primary thumbprint", "FAIL",
      "the live device client has no client certificate for an arbitrary thumbprint" },
    { "AUTH-X509-THUMBPRINT", "secondary thumbprint", "FAIL",
      "the live device client has no client certificate for an arbitrary thumbprint" },
    { "C2D-SETTLE", "reject", "FAIL", "MQTT has no reject (only PUBACK = complete); passes with --protocol https" },
    { "C2D-SETTLE", "abandon", "FAIL", "MQTT has no abandon (only PUBACK = complete); passes with --protocol https" },
    { "C2D-FEEDBACK", "ack full + reject", "FAIL", "MQTT has no reject; passes with --protocol https" },
    { "C2D-DELIVERY-COUNT", "10 deliveries", "FAIL", "MQTT has no abandon and carries no delivery count" },
    { "METHOD-NAME-CHARSET", "name of allowed symbols", "FAIL",
      "the name holds '#' and '+', which MQTT 3.1.1 forbids in a PUBLISH topic name [MQTT-3.3.2-2]: the client's "
      "codec refuses the method request serve publishes" },
};
#define N_KNOWN (sizeof known / sizeof known[0])

static const known_diff_t *known_find(const char *id, const char *name, size_t *index)
{
    for (size_t i = 0; i < N_KNOWN; i++)
        if (strcmp(known[i].id, id) == 0 && name && strncmp(name, known[i].name, strlen(known[i].name)) == 0) {
            *index = i;
            return &known[i];
        }
    return NULL;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* `hubsim conform ARGS --out DIR`: the report's cases (caller decrefs); the
 * JSON report follows reports/report.schema.json, and with want_tolerance
 * the HTML and JUnit reports show the tolerance too. */
static json_t *conform_cases(const char *const *args, size_t n_args, const char *tag, bool want_tolerance,
                             char **console, double *secs)
{
    char dir[256], path[400];
    snprintf(dir, sizeof dir, "/tmp/hubsim-live-suite-%d-%s", (int)getpid(), tag);
    const char *argv[24];
    assert_true(n_args + 4 < sizeof argv / sizeof argv[0]);
    size_t k = 0;
    argv[k++] = "conform";
    for (size_t i = 0; i < n_args; i++)
        argv[k++] = args[i];
    argv[k++] = "--out";
    argv[k++] = dir;
    argv[k] = NULL;
    char *out = NULL, *err = NULL;
    double t0 = mono_s();
    int rc = tu_run_hubsim(&out, &err, argv);
    *secs = mono_s() - t0;
    /* exit 1: some case failed (the known live differences do); the
     * caller fails on NULL once serve is stopped */
    if (rc != 0 && rc != 1) {
        printf("hubsim conform (%s) exit %d:\n%s\n%s\n", tag, rc, out ? out : "", err ? err : "");
        free(out);
        free(err);
        return NULL;
    }
    free(err);
    json_error_t je;
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        printf("%s: %s\n", path, je.text);
        free(out);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/reports/report.schema.json", tu_source_dir());
    json_t *schema = json_load_file(path, 0, &je);
    assert_non_null(schema);
    char verr[512] = "";
    if (jschema_validate(schema, doc, verr, sizeof verr) != HS_EOK)
        fail_msg("%s report.json: %s", tag, verr);
    json_decref(schema);
    const char *files[] = { "report.html", "junit.xml" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        char *text = tu_read_file(path, NULL);
        assert_non_null(text);
        if (want_tolerance != (strstr(text, i == 0 ? "<dt>tolerance</dt>" : "tolerance: wall clock") != NULL))
            fail_msg("%s %s: tolerance %s", tag, files[i], want_tolerance ? "missing" : "present in-process");
        free(text);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/report.json", dir);
    unlink(path);
    rmdir(dir);
    json_t *cases = json_incref(json_object_get(doc, "cases"));
    json_decref(doc);
    assert_true(json_is_array(cases));
    *console = out;
    return cases;
}

static const json_t *case_find(const json_t *cases, const char *id, const char *name)
{
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c)
    {
        if (strcmp(jstr(c, "id"), id) == 0 && strcmp(jstr(c, "name"), name) == 0)
            return c;
    }
    return NULL;
}

/* The served hub: started and stopped by the group fixture, so a failing
 * check never leaves it running; it checks its books at exit. */
static int setup(void **state)
{
    serve_proc_t *sp = calloc(1, sizeof *sp);
    if (!sp || sp_start(sp, NULL) != 0) {
        fprintf(stderr, "hubsim serve did not start:\n%s\n", sp && sp->output ? sp->output : "");
        if (sp)
            sp_free(sp);
        free(sp);
        return -1;
    }
    *state = sp;
    return 0;
}

static int teardown(void **state)
{
    serve_proc_t *sp = *state;
    if (!sp)
        return 0;
    int rc = sp_stop(sp);
    if (rc != 0) /* every live case left the hub's books balanced */
        fprintf(stderr, "serve exit %d:\n%s\n", rc, sp->output);
    sp_free(sp);
    free(sp);
    return rc == 0 ? 0 : -1;
}

static void test_whole_suite_matches_inproc(void **state)
{
    serve_proc_t *sp = *state;
    char cs[1400], ca[600];
    snprintf(cs, sizeof cs, "%s;MqttPort=%d;HttpsPort=%d;AmqpPort=%d;AdminPort=%d", sp->service_cs, sp->mqtt,
             sp->https, sp->amqp, sp->admin);
    snprintf(ca, sizeof ca, "%s/fixtures/certs/ca.pem", tu_source_dir());

    char *live_out = NULL, *ref_out = NULL;
    double live_s = 0, ref_s = 0;
    const char *live_args[] = { "--target", cs, "--ca", ca, "--quick" };
    json_t *live = conform_cases(live_args, 5, "live", true, &live_out, &live_s);
    assert_non_null(live);
    const char *ref_args[] = { "--quick" };
    json_t *ref = conform_cases(ref_args, 1, "inproc", false, &ref_out, &ref_s);
    assert_non_null(ref);

    /* the same cases in both runs */
    assert_int_equal(json_array_size(live), json_array_size(ref));
    size_t pass = 0, same = 0, skip_cap = 0, skip_quick = 0, n_known = 0, unexplained = 0, ran = 0;
    bool seen[N_KNOWN] = { false };
    size_t i;
    const json_t *a;
    json_array_foreach(live, i, a)
    {
        const char *id = jstr(a, "id"), *name = jstr(a, "name"), *va = jstr(a, "verdict"), *msg = jstr(a, "message");
        const json_t *b = case_find(ref, id, name);
        if (!b)
            fail_msg("%s [%s]: live only, no in-process case", id, name);
        const char *vb = jstr(b, "verdict");
        pass += strcmp(va, "PASS") == 0;
        if (strcmp(va, "SKIP") != 0) {
            ran++;
            /* the tolerance is printed with each verdict */
            if (!json_string_value(json_object_get(a, "tolerance")))
                fail_msg("%s [%s]: a live %s without its tolerance", id, name, va);
        }
        if (strcmp(va, vb) == 0) {
            same++;
            continue;
        }
        if (strcmp(va, "SKIP") == 0 && strstr(msg, "lacks a capability")) {
            skip_cap++;
            continue;
        }
        if (strcmp(va, "SKIP") == 0 && strncmp(msg, "--quick:", 8) == 0) {
            skip_quick++;
            continue;
        }
        size_t k = 0;
        const known_diff_t *kd = known_find(id, name, &k);
        if (kd && strcmp(kd->live, va) == 0) {
            seen[k] = true;
            n_known++;
            printf("known: %s [%s]: live %s, in-process %s: %s\n", id, name, va, vb, kd->why);
            continue;
        }
        unexplained++;
        printf("UNEXPLAINED: %s [%s]: live %s, in-process %s\n  expected: %s\n  observed: %s\n  %s\n  tolerance: %s\n",
               id, name, va, vb, jstr(a, "expected"), jstr(a, "observed"), msg, jstr(a, "tolerance"));
    }
    size_t stale = 0;
    for (size_t k = 0; k < N_KNOWN; k++)
        if (!seen[k]) {
            stale++;
            printf("STALE table row: %s [%s...] no longer differs (live %s expected): remove it here and in "
                   "docs/live.md\n", known[k].id, known[k].name, known[k].live);
        }
    printf("whole suite live (--quick): %zu cases (%zu ran), %zu PASS, %zu same verdict as in-process, "
           "%zu SKIP for a capability, %zu SKIP for --quick, %zu known differences, %zu unexplained; "
           "live %.1f s, in-process %.1f s\n",
           json_array_size(live), ran, pass, same, skip_cap, skip_quick, n_known, unexplained, live_s, ref_s);
    /* the console line of each live verdict carries its tolerance */
    assert_non_null(strstr(live_out, "tolerance: wall clock +-"));
    assert_null(strstr(ref_out, "tolerance:"));
    assert_int_equal(unexplained, 0);
    assert_int_equal(stale, 0);
    assert_true(pass >= 100);
    free(live_out);
    free(ref_out);
    json_decref(live);
    json_decref(ref);
}

/* The runner's side of case_notes, with a target that says every case was
 * throttled: a red verdict becomes ERROR with the cause first, a PASS
 * stays PASS and says so, and the tolerance lands in the report. */
static void fake_notes(conform_target_t *t, target_case_notes_t *out)
{
    (void)t;
    snprintf(out->tolerance, sizeof out->tolerance, "wall clock +-7 ms (fake)");
    snprintf(out->cause, sizeof out->cause, "throttled (429): 1 answer 429 ThrottlingException (429001)");
}

static void test_case_notes_in_the_runner(void **state)
{
    (void)state;
    catalogue_t *cat = NULL;
    char err[512];
    assert_int_equal(catalogue_load_default(&cat, err, sizeof err), HS_EOK);
    target_ops_t noted = target_inproc;
    noted.case_notes = fake_notes;
    const char *brk[] = { "C2D-QUEUE-DEPTH:off-by-one" };
    for (int broken = 0; broken < 2; broken++) {
        conform_options_t o;
        conform_options_init(&o);
        o.cat = cat;
        o.target = &noted;
        o.only = "C2D-QUEUE-DEPTH";
        o.breaks = brk;
        o.n_breaks = (size_t)broken;
        report_result_t *r = report_result_new(REPORT_KIND_CONFORMANCE, "conformance");
        conform_summary_t sum;
        assert_int_equal(conform_run(&o, r, &sum), HS_EOK);
        size_t errors = 0;
        for (size_t i = 0; i < report_result_case_count(r); i++) {
            const report_case_t *c = report_result_case_at(r, i);
            assert_non_null(c->tolerance);
            assert_string_equal(c->tolerance, "wall clock +-7 ms (fake)");
            assert_non_null(c->message);
            if (c->verdict == REPORT_ERROR) {
                errors++;
                assert_int_equal(strncmp(c->message, "throttled (429): ", 17), 0);
            } else {
                assert_int_equal(c->verdict, REPORT_PASS);
                assert_non_null(strstr(c->message, "(passed although throttled (429): "));
            }
        }
        /* unbroken: every case passes; the off-by-one hub fails one (51st accepted) */
        assert_int_equal(errors, broken ? 1 : 0);
        assert_int_equal(sum.by_verdict[REPORT_FAIL], 0);
        report_result_free(r);
    }
    catalogue_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_notes_in_the_runner),
        cmocka_unit_test(test_whole_suite_matches_inproc),
    };
    return cmocka_run_group_tests_name("live_suite", tests, setup, teardown);
}
