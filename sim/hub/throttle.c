/* Throttling: token-bucket arithmetic in integers, so the same run throttles the same calls everywhere. */
#include "throttle.h"

#define HUB_BUCKET_UNIT ((uint64_t)1000 * 1000000000u) /* one unit, in milli x ns/s */

void hub_bucket_init(hub_bucket_t *b, uint64_t rate_milli, sim_time_t window)
{
    b->rate_milli = rate_milli;
    /* window is in ns; rate_milli x window is milli-units x ns/s.  Cap the
     * product so that absurd configs saturate instead of overflowing. */
    if (rate_milli && window > UINT64_MAX / rate_milli)
        b->cap = UINT64_MAX / 2;
    else
        b->cap = rate_milli * window;
    b->extra = 0;
    b->level = b->cap;
    b->last = 0;
}

void hub_bucket_widen(hub_bucket_t *b, uint64_t extra_units)
{
    b->extra = extra_units * HUB_BUCKET_UNIT;
    b->level = b->cap + b->extra;
}

bool hub_bucket_take(hub_bucket_t *b, sim_time_t now, uint64_t units)
{
    if (b->rate_milli == 0)
        return true;
    uint64_t full = b->cap + b->extra;
    if (now > b->last) {
        sim_time_t dt = now - b->last;
        /* Refilling for longer than the whole capacity fills it: avoids the
         * multiplication overflowing after a long idle stretch. */
        if (dt >= full / b->rate_milli + 1)
            b->level = full;
        else {
            uint64_t add = dt * b->rate_milli;
            b->level = (full - b->level < add) ? full : b->level + add;
        }
        b->last = now;
    }
    if (units > UINT64_MAX / HUB_BUCKET_UNIT)
        return false;
    uint64_t cost = units * HUB_BUCKET_UNIT;
    if (cost > b->level)
        return false;
    b->level -= cost;
    return true;
}
