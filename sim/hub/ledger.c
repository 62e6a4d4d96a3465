/* Hub bookkeeping: counter names and the conservation equations. */
#include <inttypes.h>
#include <string.h>
#include "ledger.h"

static const char *const hub_ledger_names[] = {
#define HUB_LEDGER_NAME(e, name) name,
    HUB_LEDGER_MAP(HUB_LEDGER_NAME)
#undef HUB_LEDGER_NAME
};

const char *hub_ledger_name(hub_ledger_counter_t c)
{
    if ((unsigned)c >= (unsigned)HUB_L__COUNT)
        return NULL;
    return hub_ledger_names[c];
}

hs_err_t hub_ledger_lookup(const char *name, hub_ledger_counter_t *out)
{
    if (!name || !out)
        return HS_EINVAL;
    for (unsigned i = 0; i < (unsigned)HUB_L__COUNT; i++) {
        if (strcmp(hub_ledger_names[i], name) == 0) {
            *out = (hub_ledger_counter_t)i;
            return HS_EOK;
        }
    }
    return HS_ENOTFOUND;
}

hs_err_t hub_ledger_check(const hub_ledger_t *l, uint64_t methods_in_progress, char *why,
                          size_t cap)
{
    const uint64_t *n = l->n;
    uint64_t d2c_out = n[HUB_L_D2C_DELIVERED] + n[HUB_L_D2C_DROPPED_NO_ROUTE] +
                       n[HUB_L_D2C_DROPPED_ENDPOINT];
    if (n[HUB_L_D2C_ACCEPTED] != d2c_out) {
        if (why)
            snprintf(why, cap,
                     "d2c: %" PRIu64 " accepted but %" PRIu64 " accounted for (delivered %" PRIu64
                     ", dropped no-route %" PRIu64 ", dropped endpoint %" PRIu64 ")",
                     n[HUB_L_D2C_ACCEPTED], d2c_out, n[HUB_L_D2C_DELIVERED],
                     n[HUB_L_D2C_DROPPED_NO_ROUTE], n[HUB_L_D2C_DROPPED_ENDPOINT]);
        return HS_ESTATE;
    }
    uint64_t m_out = n[HUB_L_METHOD_OK] + n[HUB_L_METHOD_TIMEOUT] +
                     n[HUB_L_METHOD_OFFLINE_AFTER_WAIT] + n[HUB_L_METHOD_ABORTED] +
                     methods_in_progress;
    if (n[HUB_L_METHOD_ACCEPTED] != m_out) {
        if (why)
            snprintf(why, cap,
                     "methods: %" PRIu64 " accepted but %" PRIu64 " accounted for (200 %" PRIu64
                     ", 504 %" PRIu64 ", 404 after wait %" PRIu64 ", aborted %" PRIu64
                     ", in progress %" PRIu64 ")",
                     n[HUB_L_METHOD_ACCEPTED], m_out, n[HUB_L_METHOD_OK], n[HUB_L_METHOD_TIMEOUT],
                     n[HUB_L_METHOD_OFFLINE_AFTER_WAIT], n[HUB_L_METHOD_ABORTED],
                     methods_in_progress);
        return HS_ESTATE;
    }
    if (why && cap)
        why[0] = '\0';
    return HS_EOK;
}

void hub_ledger_write(const hub_ledger_t *l, FILE *f)
{
    for (unsigned i = 0; i < (unsigned)HUB_L__COUNT; i++)
        fprintf(f, "%s %" PRIu64 "\n", hub_ledger_names[i], l->n[i]);
}
