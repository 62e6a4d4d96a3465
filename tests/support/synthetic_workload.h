/* A fixed synthetic kernel workload (telemetry, Zipf method targets, cancelled outages) for golden hashes. */
#ifndef SYNTHETIC_WORKLOAD_H
#define SYNTHETIC_WORKLOAD_H

#include <stdio.h>
#include "sim/kernel.h"

/* Runs the workload and returns its trace hash; trace_out may be NULL. */
uint64_t synthetic_workload_run(uint64_t seed, uint32_t devices, sim_time_t duration,
                                FILE *trace_out, uint64_t *events_out);

#endif
