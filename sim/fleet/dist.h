/* Drawing from scenario distributions with a device's or actor's own stream, rounded to integers. */
#ifndef FLEET_DIST_H
#define FLEET_DIST_H

#include "sim/rng.h"
#include "sim/fleet/scenario.h"

/* A draw, rounded down to an integer (ns for durations, units for counts);
 * never negative.  Rounding happens before the value touches the schedule,
 * so the schedule depends only on det_* math (sim/detmath.h). */
uint64_t scn_dist_draw(const scn_dist_t *d, sim_rng_t *r);
/* The distribution's mean, for reports and rate estimates. */
double scn_dist_mean(const scn_dist_t *d);

#endif
