/* Determinism: same seed → same trace hash, other seed → other hash, and a committed golden hash.
 *
 * This test also runs in the gcc -O2 and clang -O2 builds (its name carries
 * "golden"), so a result that depends on compiler or optimisation level
 * fails CI.  Refresh the golden file only deliberately:
 *   HUBSIM_UPDATE_GOLDEN=1 ./test_kernel_golden */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "synthetic_workload.h"
#include "test_util.h"

#define GOLDEN_SEED 7
#define GOLDEN_DEVICES 2000
#define GOLDEN_DURATION (10 * SIM_MIN)

static void test_same_seed_same_hash(void **state)
{
    (void)state;
    uint64_t e1, e2;
    uint64_t a = synthetic_workload_run(GOLDEN_SEED, 300, 2 * SIM_MIN, NULL, &e1);
    uint64_t b = synthetic_workload_run(GOLDEN_SEED, 300, 2 * SIM_MIN, NULL, &e2);
    uint64_t c = synthetic_workload_run(GOLDEN_SEED + 1, 300, 2 * SIM_MIN, NULL, NULL);
    assert_int_equal(a, b);
    assert_int_equal(e1, e2);
    assert_true(e1 > 1000);
    assert_int_not_equal(a, c);
}

static void test_golden_hash(void **state)
{
    (void)state;
    uint64_t events;
    uint64_t h = synthetic_workload_run(GOLDEN_SEED, GOLDEN_DEVICES, GOLDEN_DURATION, NULL, &events);
    char line[128];
    snprintf(line, sizeof line, "seed=%d devices=%d duration=10m trace-hash=%016llx\n", GOLDEN_SEED,
             GOLDEN_DEVICES, (unsigned long long)h);
    assert_int_equal(tu_check_golden("kernel-synthetic.hash", line), 0);
}

/* The hash printed by a run equals the one `hubsim diff` recomputes from
 * the JSON-lines trace: docs/trace.md describes the hashed bytes exactly. */
static void test_trace_file_and_diff(void **state)
{
    (void)state;
    char pa[] = "/tmp/hubsim-trace-a-XXXXXX", pb[] = "/tmp/hubsim-trace-b-XXXXXX";
    int fa = mkstemp(pa), fb = mkstemp(pb);
    assert_true(fa >= 0 && fb >= 0);
    FILE *a = fdopen(fa, "w"), *b = fdopen(fb, "w");
    uint64_t ha = synthetic_workload_run(3, 50, 30 * SIM_SEC, a, NULL);
    synthetic_workload_run(4, 50, 30 * SIM_SEC, b, NULL);
    fclose(a);
    fclose(b);

    char *out = NULL, *err = NULL;
    const char *same[] = { "diff", pa, pa, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, same), 0);
    char expect[64];
    snprintf(expect, sizeof expect, "trace-hash=%016llx", (unsigned long long)ha);
    assert_non_null(strstr(out, expect));
    free(out);
    free(err);

    const char *differ[] = { "diff", "-C", "2", pa, pb, NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, differ), 1);
    assert_non_null(strstr(out, "traces diverge after"));
    assert_non_null(strstr(out, "- /tmp/hubsim-trace-a"));
    free(out);
    free(err);

    const char *missing[] = { "diff", pa, "/nonexistent/trace", NULL };
    assert_int_equal(tu_run_hubsim(&out, &err, missing), 2);
    assert_non_null(strstr(err, "cannot open /nonexistent/trace"));
    free(out);
    free(err);
    unlink(pa);
    unlink(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_hash),
        cmocka_unit_test(test_golden_hash),
        cmocka_unit_test(test_trace_file_and_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
