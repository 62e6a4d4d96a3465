/* The one size parser shared by the hub config, scenarios and expectations. */
#include "units.h"

#include <string.h>

hs_err_t sim_size_parse(const char *text, bool require_unit, uint64_t *out)
{
    static const struct { const char *unit; uint64_t mult; } units[] = {
        { "B", 1 }, { "KB", 1024 }, { "KiB", 1024 }, { "MB", 1024 * 1024 }, { "MiB", 1024 * 1024 },
        { "GB", 1024ULL * 1024 * 1024 }, { "GiB", 1024ULL * 1024 * 1024 },
    };
    const char *p = text;
    if (!p || *p < '0' || *p > '9')
        return HS_EPARSE;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return HS_ERANGE;
        v = v * 10 + d;
        p++;
    }
    if (*p == ' ')
        p++;
    uint64_t mult = 0;
    if (*p == '\0')
        mult = require_unit || p[-1] == ' ' ? 0 : 1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(p, units[i].unit) == 0)
            mult = units[i].mult;
    if (!mult)
        return HS_EPARSE;
    if (v > UINT64_MAX / mult)
        return HS_ERANGE;
    *out = v * mult;
    return HS_EOK;
}
