/* Stamping a report with the hub configuration's knob values. */
#ifndef FLEET_REPORT_KNOBS_H
#define FLEET_REPORT_KNOBS_H

#include "sim/hub/hub_config.h"
#include "reports/result.h"

/* Every knob as "section.key" = value text (durations as "30s"). */
void report_stamp_hub_knobs(report_result_t *r, const hub_config_t *c);

#endif
