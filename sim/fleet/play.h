/* Play a whole scenario (kernel + hub + fleet + expectations) into a report: the core of run, shrink and tests. */
#ifndef FLEET_PLAY_H
#define FLEET_PLAY_H

#include <stdbool.h>
#include <stdio.h>
#include "sim/fleet/fleet.h"
#include "sim/fleet/scenario.h"
#include "reports/result.h"

typedef struct {
    fleet_options_t shard;
    FILE *trace;                     /* JSON-lines trace, or NULL */
    const char *const *breaks;       /* hub fault switches armed before the run */
    size_t nbreaks;
    /* Called after each slice of virtual time (1/200 of the duration). */
    void (*progress)(void *ctx, sim_time_t t, sim_time_t duration, uint64_t events,
                     const fleet_progress_t *p);
    void *progress_ctx;
} play_options_t;

typedef struct {
    report_result_t *result;         /* owned by the caller after play() */
    uint64_t trace_hash;
    uint64_t events;
    bool conserved;
    int failed;                      /* failed expectations (conservation included) */
    char why[512];                   /* setup failure or conservation discrepancy */
} play_outcome_t;

/* HS_EOK when the scenario ran (whatever its expectations say); HS_EINVAL
 * for a scenario the hub or fleet refused (why says which), HS_ENOMEM. */
hs_err_t play_scenario(const scenario_t *s, const play_options_t *opt, play_outcome_t *out);

#endif
