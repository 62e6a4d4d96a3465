/* Throttling: deterministic token buckets in virtual time, one per throttled operation. */
#ifndef HUB_THROTTLE_H
#define HUB_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/simtime.h"

/* A bucket refills continuously at `rate_milli` thousandths of a unit per
 * second and holds at most rate x window.  Levels are integers in
 * (milli-units x ns / s) so that 1.67/s is exact and nothing rounds: one
 * unit costs 1000 x 1e9.  A rate of 0 means unlimited.  Buckets start full. */
typedef struct {
    uint64_t rate_milli;
    uint64_t cap;
    uint64_t level;
    sim_time_t last;
    uint64_t extra; /* added capacity (the off-by-one mutant: one unit) */
} hub_bucket_t;

void hub_bucket_init(hub_bucket_t *b, uint64_t rate_milli, sim_time_t window);
/* Give the bucket `extra_units` more capacity (mutants); refills to full. */
void hub_bucket_widen(hub_bucket_t *b, uint64_t extra_units);
/* Take `units` at time now: true when admitted (the level drops), false when
 * throttled (the level is unchanged). */
bool hub_bucket_take(hub_bucket_t *b, sim_time_t now, uint64_t units);

#endif
