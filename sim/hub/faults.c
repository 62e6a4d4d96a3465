/* The break-switch table and the armed-switch set. */
#include <string.h>
#include "faults.h"

static const hub_fault_info_t hub_fault_rows[] = {
#define HUB_FAULT_ROW(e, name, rule, desc) { name, rule, desc },
    HUB_FAULT_MAP(HUB_FAULT_ROW)
#undef HUB_FAULT_ROW
};

const hub_fault_info_t *hub_fault_info(hub_fault_t f)
{
    if ((unsigned)f >= (unsigned)HUB_FAULT__COUNT)
        return NULL;
    return &hub_fault_rows[f];
}

hs_err_t hub_fault_lookup(const char *name, hub_fault_t *out)
{
    if (!name || !out)
        return HS_EINVAL;
    for (unsigned i = 0; i < (unsigned)HUB_FAULT__COUNT; i++) {
        if (strcmp(hub_fault_rows[i].name, name) == 0) {
            *out = (hub_fault_t)i;
            return HS_EOK;
        }
    }
    return HS_ENOTFOUND;
}

void hub_faults_clear(hub_faults_t *fs)
{
    memset(fs, 0, sizeof *fs);
}

void hub_faults_arm(hub_faults_t *fs, hub_fault_t f)
{
    if ((unsigned)f < (unsigned)HUB_FAULT__COUNT)
        fs->bits[(unsigned)f / 64] |= (uint64_t)1 << ((unsigned)f % 64);
}

bool hub_faults_any(const hub_faults_t *fs)
{
    for (size_t i = 0; i < sizeof fs->bits / sizeof fs->bits[0]; i++)
        if (fs->bits[i])
            return true;
    return false;
}
