/* Random streams: reproducibility, independence, distribution moments, portable math. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/detmath.h"
#include "sim/kernel.h"
#include "sim/rng.h"

/* The generators against their published reference values: xoshiro256**
 * from state {1,2,3,4} yields 11520, 0, 1509978240, 1215971899390074240, and
 * splitmix64 from state 0 yields 0xe220a8397b1dcdaf.  Then the derived
 * stream (seed 1, stream 0) is pinned: integer-only, so the literal holds on
 * any machine, and a change to seeding (which changes every golden trace)
 * must be a deliberate trace-format bump. */
static void test_pinned_outputs(void **state)
{
    (void)state;
    sim_rng_t ref = { { 1, 2, 3, 4 } };
    assert_int_equal(sim_rng_next(&ref), 11520ULL);
    assert_int_equal(sim_rng_next(&ref), 0ULL);
    assert_int_equal(sim_rng_next(&ref), 1509978240ULL);
    assert_int_equal(sim_rng_next(&ref), 1215971899390074240ULL);
    uint64_t sm = 0;
    assert_int_equal(sim_splitmix64(&sm), 0xe220a8397b1dcdafULL);
    sim_rng_t r;
    sim_rng_init(&r, 1, 0);
    uint64_t got[3] = { sim_rng_next(&r), sim_rng_next(&r), sim_rng_next(&r) };
    sim_rng_t again;
    sim_rng_init(&again, 1, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sim_rng_next(&again), got[i]);
    assert_int_equal(got[0], 0xef75d62a19ba94edULL);
}

static void test_streams_independent_of_other_streams(void **state)
{
    (void)state;
    /* Stream "dev-7" draws the same values whether 10 or 10,000 other
     * streams were derived before it: there is no shared state. */
    sim_kernel_t *k = sim_kernel_new(99, 0);
    sim_rng_t a, b, other;
    sim_kernel_stream(k, sim_rng_stream_id("dev-7", 5), &a);
    for (int i = 0; i < 10000; i++)
        sim_kernel_stream(k, (uint64_t)i, &other), sim_rng_next(&other);
    sim_kernel_stream(k, sim_rng_stream_id("dev-7", 5), &b);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sim_rng_next(&a), sim_rng_next(&b));
    /* Neighbouring stream ids and seeds give unrelated sequences. */
    sim_rng_t s1, s2, s3;
    sim_rng_init(&s1, 99, 1);
    sim_rng_init(&s2, 99, 2);
    sim_rng_init(&s3, 100, 1);
    int same12 = 0, same13 = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&s1), y = sim_rng_next(&s2), z = sim_rng_next(&s3);
        same12 += x == y;
        same13 += x == z;
    }
    assert_int_equal(same12, 0);
    assert_int_equal(same13, 0);
    sim_kernel_free(k);
}

static void test_below_bounds_and_uniformity(void **state)
{
    (void)state;
    sim_rng_t r;
    sim_rng_init(&r, 5, 5);
    enum { BINS = 10, N = 200000 };
    unsigned counts[BINS] = { 0 };
    for (int i = 0; i < N; i++) {
        uint64_t v = sim_rng_below(&r, BINS);
        assert_true(v < BINS);
        counts[v]++;
    }
    double chi = 0;
    for (int i = 0; i < BINS; i++) {
        double d = counts[i] - N / (double)BINS;
        chi += d * d / (N / (double)BINS);
    }
    assert_true(chi < 30.0); /* 9 dof: p ~ 0.0004 */
    assert_int_equal(sim_rng_below(&r, 0), 0);
    assert_int_equal(sim_rng_below(&r, 1), 0);
    for (int i = 0; i < 1000; i++) {
        double u = sim_rng_unit(&r);
        assert_true(u >= 0.0 && u < 1.0);
    }
}

static void test_distribution_moments(void **state)
{
    (void)state;
    sim_rng_t r;
    sim_rng_init(&r, 11, 3);
    enum { N = 200000 };
    double se = 0, sn = 0, sn2 = 0;
    int hits = 0;
    for (int i = 0; i < N; i++) {
        double e = sim_rng_exponential(&r, 2.0);
        assert_true(e >= 0);
        se += e;
        double n = sim_rng_normal(&r, 10.0, 3.0);
        sn += n;
        sn2 += n * n;
        hits += sim_rng_bernoulli(&r, 0.25);
    }
    assert_true(fabs(se / N - 2.0) < 0.03);
    double mean = sn / N, var = sn2 / N - mean * mean;
    assert_true(fabs(mean - 10.0) < 0.05);
    assert_true(fabs(sqrt(var) - 3.0) < 0.05);
    assert_true(fabs(hits / (double)N - 0.25) < 0.01);
    assert_int_equal(sim_rng_bernoulli(&r, 0.0), 0);
    assert_int_equal(sim_rng_bernoulli(&r, 1.0), 1);
    assert_int_equal(sim_rng_bernoulli(&r, 1.5), 1);
    /* lognormal(mu, sigma): median e^mu */
    int below = 0;
    for (int i = 0; i < 20000; i++)
        below += sim_rng_lognormal(&r, 1.0, 0.5) < exp(1.0);
    assert_true(fabs(below / 20000.0 - 0.5) < 0.02);
}

static void test_zipf_shape(void **state)
{
    (void)state;
    sim_rng_t r;
    sim_rng_init(&r, 3, 9);
    enum { N = 100000, M = 1000 };
    unsigned c1 = 0, c2 = 0;
    for (int i = 0; i < N; i++) {
        uint64_t k = sim_rng_zipf(&r, M, 1.0);
        assert_true(k >= 1 && k <= M);
        c1 += k == 1;
        c2 += k == 2;
    }
    /* s = 1, n = 1000: P(1) = 1/H_1000 = 0.1336, P(2) = half of that. */
    assert_true(fabs(c1 / (double)N - 0.1336) < 0.01);
    assert_true(fabs((double)c1 / c2 - 2.0) < 0.15);
    assert_int_equal(sim_rng_zipf(&r, 1, 1.0), 1);
}

static void test_detmath_matches_libm_closely(void **state)
{
    (void)state;
    const double xs[] = { 1e-300, 1e-10, 0.1, 0.5, 0.999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300 };
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double a = det_log(xs[i]), b = log(xs[i]);
        assert_true(fabs(a - b) <= 1e-15 * fmax(1.0, fabs(b)));
    }
    const double es[] = { -700, -20, -1, -1e-8, 0, 1e-8, 0.5, 1, 20, 700 };
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++) {
        double a = det_exp(es[i]), b = exp(es[i]);
        assert_true(fabs(a - b) <= 2e-15 * b);
    }
    assert_true(isnan(det_log(-1)));
    assert_true(isinf(det_log(0)));
    assert_true(det_exp(1000) == INFINITY);
    assert_true(det_exp(-1000) == 0.0);
    assert_true(fabs(det_pow(2.0, 10.0) - 1024.0) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinned_outputs),
        cmocka_unit_test(test_streams_independent_of_other_streams),
        cmocka_unit_test(test_below_bounds_and_uniformity),
        cmocka_unit_test(test_distribution_moments),
        cmocka_unit_test(test_zipf_shape),
        cmocka_unit_test(test_detmath_matches_libm_closely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
