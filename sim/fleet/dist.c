/* scn_dist_t sampling over sim/rng.h streams. */
#include "dist.h"

#include "sim/detmath.h"

static uint64_t clamp_u64(double v)
{
    if (!(v > 0)) /* also NaN */
        return 0;
    if (v >= 1.8e19)
        return UINT64_MAX;
    return (uint64_t)v;
}

uint64_t scn_dist_draw(const scn_dist_t *d, sim_rng_t *r)
{
    switch (d->kind) {
    case SCN_DIST_FIXED:
        return d->a;
    case SCN_DIST_UNIFORM:
        if (d->b <= d->a)
            return d->a;
        return d->a + sim_rng_below(r, d->b - d->a + 1);
    case SCN_DIST_EXPONENTIAL:
        return clamp_u64(sim_rng_exponential(r, (double)d->a));
    case SCN_DIST_NORMAL:
        return clamp_u64(sim_rng_normal(r, (double)d->a, (double)d->b));
    case SCN_DIST_LOGNORMAL:
        return clamp_u64((double)d->a * det_exp(sim_rng_normal(r, 0.0, d->sigma)));
    }
    return d->a;
}

double scn_dist_mean(const scn_dist_t *d)
{
    switch (d->kind) {
    case SCN_DIST_UNIFORM:
        return ((double)d->a + (double)d->b) / 2.0;
    case SCN_DIST_LOGNORMAL:
        return (double)d->a * det_exp(d->sigma * d->sigma / 2.0);
    default:
        return (double)d->a;
    }
}
