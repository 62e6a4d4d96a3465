/* Byte sizes written with units ("256KB", "1 MiB", "512B"), parsed once for every file format. */
#ifndef SIM_UNITS_H
#define SIM_UNITS_H

#include <stdbool.h>
#include <stdint.h>
#include "errors.h"

/* Digits, an optional space, then a unit: B, KB/KiB (1024), MB/MiB, GB/GiB.
 * IoT Hub states its limits in binary KB, so KB = 1024.  No fractions.  A
 * bare number is bytes unless require_unit.  HS_EPARSE for anything else,
 * HS_ERANGE on overflow. */
hs_err_t sim_size_parse(const char *text, bool require_unit, uint64_t *out);

#endif
