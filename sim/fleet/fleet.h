/* The virtual fleet: plays a scenario's devices, service actors and faults against the hub in virtual time. */
#ifndef FLEET_FLEET_H
#define FLEET_FLEET_H

/*
 * The fleet owns nothing it is given: the kernel, the hub and the report
 * result outlive it.  fleet_new() registers every device of the fleet's
 * shard with the hub (ids from the groups' patterns) and schedules the first
 * events; fleet_run_until() advances virtual time; fleet_finish() samples
 * the final state, runs the hub's conservation check and writes every
 * metric into the result.  Metric names: docs/metrics.md.
 */

#include <stdbool.h>
#include <stdint.h>
#include "sim/errors.h"
#include "sim/kernel.h"
#include "sim/hub/hub.h"
#include "sim/fleet/scenario.h"
#include "reports/result.h"

typedef struct fleet fleet_t;

typedef struct {
    uint32_t shard_index;  /* K of --shard K/N (0-based) */
    uint32_t shard_count;  /* N; 1 = no sharding */
} fleet_options_t;

/* HS_EINVAL with why filled (a device id the hub refused, an unknown break
 * switch, ...), HS_ENOMEM. */
hs_err_t fleet_new(sim_kernel_t *k, hub_t *hub, const scenario_t *s, const fleet_options_t *opt,
                   report_result_t *result, fleet_t **out, char *why, size_t cap);
void fleet_free(fleet_t *f);

/* Advance virtual time to `t` (<= the scenario's duration). */
void fleet_run_until(fleet_t *f, sim_time_t t);

/* Live figures for the progress line. */
typedef struct {
    uint64_t devices;
    uint64_t online;
    uint64_t d2c_accepted;
    uint64_t errors;       /* hub errors seen by devices and actors so far */
} fleet_progress_t;
void fleet_progress(const fleet_t *f, fleet_progress_t *out);

/* Final sample, conservation check, metrics into the result.  Returns
 * whether the conservation check passed (why filled otherwise). */
bool fleet_finish(fleet_t *f, char *why, size_t cap);

/* The devices this shard plays (after --shard slicing). */
uint64_t fleet_device_count(const fleet_t *f);

#endif
