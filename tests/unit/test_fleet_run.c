/* `hubsim run`, `merge` and `shrink` as a user runs them: exit codes, first/last lines, reports, conservation. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_util.h"

static char small[1024], planted[1024], tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(small, sizeof small, "%s/fixtures/fleet/small.json", tu_source_dir());
    snprintf(planted, sizeof planted, "%s/fixtures/shrink/planted.json", tu_source_dir());
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hubsim-fleet-run-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static const char *last_line(const char *out)
{
    size_t n = strlen(out);
    while (n && out[n - 1] == '\n')
        n--;
    while (n && out[n - 1] != '\n')
        n--;
    return out + n;
}

static void test_run_passes_and_prints_seed_then_hash(void **state)
{
    (void)state;
    char *out, *err, outdir[300];
    snprintf(outdir, sizeof outdir, "%s/reports", tmpdir);
    const char *args[] = { "run", small, "--out", outdir, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, args), 0);
    assert_true(strncmp(out, "seed=7 scenario=fleet-small", 27) == 0);
    assert_true(strncmp(last_line(out), "trace-hash=", 11) == 0);
    assert_int_equal(strlen(last_line(out)), 28); /* "trace-hash=" + 16 hex + '\n' */
    char path[400];
    const char *files[] = { "report.json", "report.html", "junit.xml" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", outdir, files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    /* The report carries the seed, the trace hash and one case per expectation. */
    snprintf(path, sizeof path, "%s/report.json", outdir);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    assert_non_null(doc);
    json_t *run = json_object_get(doc, "run");
    assert_string_equal(json_string_value(json_object_get(run, "seed")), "7");
    assert_non_null(strstr(out, json_string_value(json_object_get(run, "trace_hash"))));
    assert_int_equal(json_array_size(json_object_get(doc, "cases")), 5); /* 4 expectations + conservation */
    json_decref(doc);
    free(out), free(err);
}

static void test_seed_override_changes_hash(void **state)
{
    (void)state;
    char *o1, *e1, *o2, *e2;
    const char *a1[] = { "run", small, "-q", NULL };
    const char *a2[] = { "run", small, "-q", "--seed", "99", NULL };
    assert_int_equal(tu_run_hubsim(&o1, &e1, a1), 0);
    assert_int_equal(tu_run_hubsim(&o2, &e2, a2), 0);
    assert_true(strncmp(o2, "seed=99 ", 8) == 0);
    assert_string_not_equal(last_line(o1), last_line(o2));
    free(o1), free(e1), free(o2), free(e2);
}

/* A hub that silently loses one accepted message fails the run with exit 1. */
static void test_conservation_check_catches_a_lost_message(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = { "run", small, "-q", "--break", "LEDGER-LOSE-ONE", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, args), 1);
    assert_non_null(strstr(err, "conservation check failed"));
    free(out), free(err);
}

static void test_failing_expectation_exits_1(void **state)
{
    (void)state;
    char path[400], *out, *err;
    snprintf(path, sizeof path, "%s/fail.json", tmpdir);
    char *text = tu_read_file(small, NULL);
    assert_non_null(text);
    char *at = strstr(text, "d2c.accepted > 100");
    assert_non_null(at);
    memcpy(at, "d2c.accepted < 100", 18);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    free(text);
    const char *args[] = { "run", path, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, args), 1);
    assert_non_null(strstr(out, "FAIL   d2c.accepted < 100"));
    free(out), free(err);
}

static void test_bad_input_exits_2(void **state)
{
    (void)state;
    char path[400], *out, *err;
    snprintf(path, sizeof path, "%s/bad.json", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("{\n  \"duration\": \"-5m\",\n  \"groups\": [ { \"name\": \"g\", \"count\": 0 } ],\n"
          "  \"frobnicate\": 1\n}\n", f);
    fclose(f);
    const char *args[] = { "run", path, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, args), 2);
    /* Every error, each with file:line:column, and nothing run. */
    assert_non_null(strstr(err, "bad.json:2:"));
    assert_non_null(strstr(err, "bad.json:3:"));
    assert_non_null(strstr(err, "bad.json:4:"));
    assert_non_null(strstr(err, "nothing was run"));
    assert_string_equal(out, "");
    free(out), free(err);
    const char *unknown_switch[] = { "run", small, "--break", "NO-SUCH-RULE", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, unknown_switch), 2);
    free(out), free(err);
    const char *badshard[] = { "run", small, "--shard", "3/3", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, badshard), 2);
    free(out), free(err);
    const char *missing[] = { "run", "/nonexistent/scenario.json", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, missing), 2);
    free(out), free(err);
}

static long long counter(const char *path, const char *name)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    assert_non_null(doc);
    long long v = json_integer_value(
        json_object_get(json_object_get(json_object_get(doc, "metrics"), "counters"), name));
    json_decref(doc);
    return v;
}

/* Shards add up exactly, in any order of arguments, and the merged hash is stable. */
static void test_shards_merge_exactly(void **state)
{
    (void)state;
    char shard[3][400], merged[400], *out, *err;
    for (int k = 0; k < 3; k++) {
        char spec[8];
        snprintf(shard[k], sizeof shard[k], "%s/shard%d.json", tmpdir, k);
        snprintf(spec, sizeof spec, "%d/3", k);
        const char *args[] = { "run", small, "-q", "--shard", spec, "--json", shard[k], NULL };
        assert_int_equal(tu_run_hubsim(&out, &err, args), 0);
        free(out), free(err);
    }
    snprintf(merged, sizeof merged, "%s/merged.json", tmpdir);
    const char *margs[] = { "merge", small, shard[2], shard[0], shard[1], "--json", merged, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, margs), 0);
    char *hash1 = strdup(last_line(out));
    free(out), free(err);
    const char *names[] = { "devices", "d2c.sent", "d2c.accepted", "conn.connected", "c2d.sent" };
    for (int i = 0; i < 5; i++) {
        long long sum = 0;
        for (int k = 0; k < 3; k++)
            sum += counter(shard[k], names[i]);
        assert_int_equal(counter(merged, names[i]), sum);
    }
    assert_int_equal(counter(merged, "devices"), 200);
    const char *again[] = { "merge", small, shard[0], shard[1], shard[2], "--json", merged, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, again), 0);
    assert_string_equal(last_line(out), hash1);
    free(out), free(err), free(hash1);
    /* A missing shard is refused. */
    const char *partial[] = { "merge", small, shard[0], shard[2], NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, partial), 2);
    assert_non_null(strstr(err, "exactly once"));
    free(out), free(err);
}

/* A planted hub bug in a 340-device, 4-actor, 2-fault, 20-minute scenario:
 * the known minimal repro is 1 group of 1 device, 1 method invoker, and the
 * fault that plants the bug.  shrink must find exactly that size. */
static void test_shrink_finds_known_minimal_repro(void **state)
{
    (void)state;
    char outpath[400], *out, *err;
    snprintf(outpath, sizeof outpath, "%s/planted.min.json", tmpdir);
    const char *args[] = { "shrink", planted, "--expect", "reboot-status-kept", "--out", outpath, "-q", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, args), 0);
    assert_non_null(strstr(out, "devices 340 -> 1, groups 2 -> 1, actors 4 -> 1, faults 2 -> 1"));
    free(out), free(err);
    json_error_t je;
    json_t *doc = json_load_file(outpath, 0, &je);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "groups")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "groups"), 0), "count")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "faults"), 0), "rule")),
                        "METHOD-RESPONSE-PASSTHROUGH");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "actors"), 0), "kind")),
                        "methodInvoker");
    json_decref(doc);
    /* The repro still fails, the same way. */
    const char *replay[] = { "run", outpath, "-q", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, replay), 1);
    free(out), free(err);
    /* An expectation that holds cannot be shrunk. */
    const char *holds[] = { "shrink", small, "--expect", "d2c.accepted > 100", "--out", outpath, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, holds), 2);
    assert_non_null(strstr(err, "does not fail"));
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_passes_and_prints_seed_then_hash),
        cmocka_unit_test(test_seed_override_changes_hash),
        cmocka_unit_test(test_conservation_check_catches_a_lost_message),
        cmocka_unit_test(test_failing_expectation_exits_1),
        cmocka_unit_test(test_bad_input_exits_2),
        cmocka_unit_test(test_shards_merge_exactly),
        cmocka_unit_test(test_shrink_finds_known_minimal_repro),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
