/* Shared pieces of the commands that run the simulation (run, shrink, merge): reports, knobs, progress. */
#ifndef HS_RUN_COMMON_H
#define HS_RUN_COMMON_H

#include <stdint.h>
#include "sim/hub/hub_config.h"
#include "reports/result.h"
#include "reports/writer.h"

/* Wall-clock milliseconds since the Unix epoch (reports' wall-clock fields
 * only; never fed to the simulation). */
int64_t run_wall_ms(void);
/* Monotonic seconds, for progress rates. */
double run_mono_s(void);
/* Write the reports the paths ask for; prints one line on failure and
 * returns HS_EXIT_HARNESS, else HS_EXIT_OK. */
int run_write_reports(const char *cmd, const report_result_t *r, const reports_paths_t *paths);
/* Parse "K/N" with 0 <= K < N. */
int run_parse_shard(const char *text, uint32_t *k, uint32_t *n);

#endif
