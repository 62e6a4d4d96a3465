/* xoshiro256** streams and distributions built on deterministic math only. */
#include "rng.h"
#include "detmath.h"

uint64_t sim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sim_rng_init(sim_rng_t *r, uint64_t seed, uint64_t stream_id)
{
    /* Mix the stream id through one splitmix round before combining so that
     * neighbouring ids give unrelated states. */
    uint64_t sid = stream_id;
    uint64_t st = seed ^ sim_splitmix64(&sid);
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&st);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

uint64_t sim_rng_stream_id(const char *name, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)name[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_next(sim_rng_t *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sim_rng_below(sim_rng_t *r, uint64_t n)
{
    if (n == 0)
        return 0;
    __uint128_t m = (__uint128_t)sim_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (__uint128_t)sim_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double sim_rng_unit(sim_rng_t *r)
{
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

int sim_rng_bernoulli(sim_rng_t *r, double p)
{
    if (p <= 0)
        return 0;
    if (p >= 1)
        return 1;
    return sim_rng_unit(r) < p;
}

double sim_rng_exponential(sim_rng_t *r, double mean)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    return -mean * det_log(1.0 - sim_rng_unit(r));
}

double sim_rng_normal(sim_rng_t *r, double mean, double stddev)
{
    double u, v, s;
    do {
        u = 2.0 * sim_rng_unit(r) - 1.0;
        v = 2.0 * sim_rng_unit(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double factor = det_sqrt(-2.0 * det_log(s) / s);
    return mean + stddev * u * factor;
}

double sim_rng_lognormal(sim_rng_t *r, double mu, double sigma)
{
    return det_exp(sim_rng_normal(r, mu, sigma));
}

/* H(x) = ((x)^(1-s) - 1) / (1 - s), or log(x) when s == 1, and its inverse. */
static double zipf_h(double x, double s)
{
    double e = 1.0 - s;
    if (e > -1e-12 && e < 1e-12)
        return det_log(x);
    return (det_exp(e * det_log(x)) - 1.0) / e;
}

static double zipf_h_inv(double x, double s)
{
    double e = 1.0 - s;
    if (e > -1e-12 && e < 1e-12)
        return det_exp(x);
    double t = x * e + 1.0;
    if (t <= 0)
        t = 1e-300;
    return det_exp(det_log(t) / e);
}

uint64_t sim_rng_zipf(sim_rng_t *r, uint64_t n, double s)
{
    if (n <= 1)
        return 1;
    if (s <= 0)
        return 1 + sim_rng_below(r, n);
    const double h_x1 = zipf_h(1.5, s) - 1.0;
    const double h_n = zipf_h((double)n + 0.5, s);
    const double s_const = 2.0 - zipf_h_inv(zipf_h(2.5, s) - det_exp(-s * det_log(2.0)), s);
    for (;;) {
        double u = h_n + sim_rng_unit(r) * (h_x1 - h_n);
        double x = zipf_h_inv(u, s);
        double kd = x + 0.5;
        if (kd < 1)
            kd = 1;
        if (kd > (double)n)
            kd = (double)n;
        uint64_t k = (uint64_t)kd;
        double kk = (double)k;
        if (kk - x <= s_const || u >= zipf_h(kk + 0.5, s) - det_exp(-s * det_log(kk)))
            return k;
    }
}
