/* Virtual time: nanoseconds since the scenario's start instant, and conversions to UTC text. */
#ifndef SIM_TIME_H
#define SIM_TIME_H

#include <stddef.h>
#include <stdint.h>
#include "errors.h"

typedef uint64_t sim_time_t;

#define SIM_NS    ((sim_time_t)1)
#define SIM_US    ((sim_time_t)1000)
#define SIM_MS    ((sim_time_t)1000000)
#define SIM_SEC   ((sim_time_t)1000000000)
#define SIM_MIN   (60 * SIM_SEC)
#define SIM_HOUR  (60 * SIM_MIN)
#define SIM_TIME_MAX UINT64_MAX

/* The default virtual epoch: 2026-01-01T00:00:00Z as Unix seconds.  A scenario
 * may choose another `start`; nothing ever reads the wall clock for it. */
#define SIM_DEFAULT_EPOCH_UNIX 1767225600LL

/* Parse "250ms", "5m", "48h", "1.5s", "300" (seconds) into nanoseconds. */
hs_err_t sim_duration_parse(const char *text, sim_time_t *out);
/* Format a duration compactly ("1h2m3.5s"); returns bytes written. */
size_t sim_duration_format(sim_time_t d, char *buf, size_t cap);

/* Unix seconds of an ISO-8601 UTC instant "YYYY-MM-DDTHH:MM:SS[.fff]Z". */
hs_err_t sim_utc_parse(const char *text, int64_t *unix_sec_out, uint32_t *nanos_out);
/* Write epoch+t as "YYYY-MM-DDTHH:MM:SS.fffffffZ" (7 fractional digits, as the hub does). */
size_t sim_utc_format(int64_t epoch_unix, sim_time_t t, char *buf, size_t cap);

#endif
