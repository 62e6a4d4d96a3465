/* Seeded random streams (xoshiro256** seeded by splitmix64) and the distributions scenarios need. */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

/* One stream.  Streams are derived from (seed, stream id) with no shared
 * state, so adding a device (a new stream id) never changes another's draws. */
typedef struct { uint64_t s[4]; } sim_rng_t;

void sim_rng_init(sim_rng_t *r, uint64_t seed, uint64_t stream_id);
/* A stream id from a name (FNV-1a 64 of its bytes): "device:dev-0001". */
uint64_t sim_rng_stream_id(const char *name, size_t len);

uint64_t sim_rng_next(sim_rng_t *r);
/* Uniform integer in [0, n), unbiased (Lemire); n == 0 returns 0. */
uint64_t sim_rng_below(sim_rng_t *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double sim_rng_unit(sim_rng_t *r);
/* true with probability p (clamped to [0,1]). */
int sim_rng_bernoulli(sim_rng_t *r, double p);
/* Exponential with the given mean (any unit); deterministic via det_log. */
double sim_rng_exponential(sim_rng_t *r, double mean);
/* Normal (Marsaglia polar method) and log-normal of the underlying normal. */
double sim_rng_normal(sim_rng_t *r, double mean, double stddev);
double sim_rng_lognormal(sim_rng_t *r, double mu, double sigma);
/* Zipf over ranks 1..n with exponent s > 0 (rejection-inversion, Hörmann and Derflinger). */
uint64_t sim_rng_zipf(sim_rng_t *r, uint64_t n, double s);

/* splitmix64 step: also used to scramble seeds and ids. */
uint64_t sim_splitmix64(uint64_t *state);

#endif
