/* Reduce a failing scenario to a small one that fails the same way: a field bug becomes a minimal repro. */
#ifndef FLEET_SHRINK_H
#define FLEET_SHRINK_H

#include <stddef.h>
#include "sim/errors.h"

typedef struct {
    const char *expectation;          /* name (or text) of the failing expectation to keep */
    const char *const *breaks;        /* hub fault switches armed in every trial */
    size_t nbreaks;
    size_t max_trials;                /* 0 = 400 */
    void (*log)(void *ctx, const char *line); /* one line per accepted reduction, or NULL */
    void *log_ctx;
} shrink_options_t;

typedef struct {
    size_t trials;
    size_t accepted;
    unsigned long long devices_before, devices_after;
    size_t groups_before, groups_after, actors_before, actors_after, faults_before, faults_after;
    unsigned long long duration_before_ns, duration_after_ns;
    char signature[320];              /* "expectation X fails on metric Y (compared|missing)" */
} shrink_stats_t;

/* text/name: the scenario file's contents and path (relative hub paths
 * resolve against it).  On HS_EOK *out_json is the reduced scenario
 * (malloc'd, pretty-printed).  HS_EINVAL with why when the scenario does not
 * load, or the expectation is unknown or does not fail on the original. */
hs_err_t shrink_scenario(const char *text, size_t len, const char *name, const shrink_options_t *opt,
                         char **out_json, shrink_stats_t *stats, char *why, size_t cap);

#endif
