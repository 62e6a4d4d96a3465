/* Run-time hub switches used by the fault timeline: throttling, method dispatch delay, endpoint reachability. */
#include "fleet_internal.h"

/* Which timeline faults the hub model can apply at run time.  A scenario
 * asking for one it cannot is refused before the run (fleet_new), never
 * silently ignored. */
bool fleet_hub_fault_supported(scn_fault_kind_t kind)
{
    return kind == SCN_FAULT_DROP_CONNECTIONS || kind == SCN_FAULT_BREAK;
}

hs_err_t fleet_hub_fault(struct fleet *f, const scn_fault_t *ft, bool on)
{
    (void)f;
    (void)on;
    return fleet_hub_fault_supported(ft->kind) ? HS_EOK : HS_EUNSUPPORTED;
}
