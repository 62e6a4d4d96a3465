/* The break-switch table and the armed-switch set. */
#include <string.h>
#include "faults.h"

static const hub_fault_info_t hub_fault_rows[] = {
#define HUB_FAULT_ROW(e, name, rule, desc) { name, rule, desc },
    HUB_FAULT_MAP(HUB_FAULT_ROW)
#undef HUB_FAULT_ROW
};

static const hub_fault_info_t hub_fault_staged_rows[] = {
#define HUB_FAULT_ROW(e, name, rule, desc) { name, rule, desc },
    HUB_FAULT_STAGED_MAP(HUB_FAULT_ROW)
#undef HUB_FAULT_ROW
};

#define STAGED_N (sizeof hub_fault_staged_rows / sizeof hub_fault_staged_rows[0])

const hub_fault_info_t *hub_fault_staged_info(size_t i)
{
    return i < STAGED_N ? &hub_fault_staged_rows[i] : NULL;
}

size_t hub_fault_staged_count(void)
{
    return STAGED_N;
}

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
    for (size_t i = 0; i < STAGED_N; i++) {
        if (strcmp(hub_fault_staged_rows[i].name, name) == 0) {
            *out = (hub_fault_t)((size_t)HUB_FAULT__COUNT + i);
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
    if ((unsigned)f < (unsigned)HUB_FAULT__ALL)
        fs->bits[(unsigned)f / 64] |= (uint64_t)1 << ((unsigned)f % 64);
}

bool hub_faults_any(const hub_faults_t *fs)
{
    for (size_t i = 0; i < sizeof fs->bits / sizeof fs->bits[0]; i++)
        if (fs->bits[i])
            return true;
    return false;
}
