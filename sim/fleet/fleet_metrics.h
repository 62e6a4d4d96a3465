/* A run's metrics as expectation keys: counters, histogram statistics, hub counters, conservation. */
#ifndef FLEET_METRICS_H
#define FLEET_METRICS_H

/*
 * Keys (docs/metrics.md lists the names the fleet writes):
 *   <counter>                          e.g. d2c.accepted, method.reboot.status.504
 *   <histogram>.<stat>                 stat: count min max mean p50 p90 p99 p99.9 (alias p999)
 *   hub.counter.<hub counter name>     the hub model's own ledger (hub_counters_write)
 *   conservation                       "ok" or "failed"
 */

#include <stdbool.h>
#include "sim/hub/hub.h"
#include "sim/fleet/expect.h"
#include "sim/fleet/scenario.h"
#include "reports/result.h"

typedef struct fleet_metrics fleet_metrics_t;

/* Snapshot of the result's counters and histograms and of the hub's ledger.
 * The result must outlive the metrics (histograms are read in place). */
fleet_metrics_t *fleet_metrics_new(report_result_t *r, const hub_t *hub, bool conservation_ok);
void fleet_metrics_free(fleet_metrics_t *m);
/* Let counters of the fleet's known families read 0 when nothing counted
 * them (docs/metrics.md): `method.<m>.status.<n>` for a method the scenario
 * names, `d2c.rejected.<code>`, `d2c.delivered.<endpoint>` for a configured
 * endpoint, ...  A name the scenario does not declare (a typo) stays
 * missing, so its expectation still fails with the list of known keys. */
void fleet_metrics_know(fleet_metrics_t *m, const scenario_t *s);

/* expect_lookup_fn / expect_keys_fn over the snapshot (ctx = the metrics). */
int fleet_metrics_lookup(void *ctx, const char *key, expect_value_t *out);
void fleet_metrics_keys(void *ctx, void (*emit)(void *ectx, const char *key), void *ectx);

/* Evaluate every expectation of s, add one report case each (area
 * "expectations") plus one for the conservation check, and return the number
 * that failed.  -1 on a harness failure (out of memory). */
int fleet_expectations_evaluate(const scenario_t *s, fleet_metrics_t *m, report_result_t *r,
                                bool conservation_ok, const char *conservation_why);

#endif
