/* Run-time hub switches used by the fault timeline: throttling, method dispatch delay, endpoint reachability. */
#include "fleet_internal.h"

/* Which timeline faults the fleet can apply.  All of them, now that the hub
 * model has run-time switches; kept as a function so a hub without one is
 * refused before the run, never silently ignored. */
bool fleet_hub_fault_supported(scn_fault_kind_t kind)
{
    switch (kind) {
    case SCN_FAULT_DROP_CONNECTIONS:
    case SCN_FAULT_BREAK:
    case SCN_FAULT_THROTTLE:
    case SCN_FAULT_DELAY_METHODS:
    case SCN_FAULT_ENDPOINT_UNREACHABLE:
        return true;
    }
    return false;
}

/* on: the fault starts; off: its duration ended (restore the configured state). */
hs_err_t fleet_hub_fault(struct fleet *f, const scn_fault_t *ft, bool on)
{
    const hub_config_t *cfg = &f->s->hub;
    switch (ft->kind) {
    case SCN_FAULT_THROTTLE:
        if (on)
            return hub_set_throttling(f->hub, HUB_THROTTLE_S1, ft->units ? ft->units : 1);
        return hub_set_throttling(f->hub, cfg->throttling.profile,
                                  cfg->throttling.units ? cfg->throttling.units : 1);
    case SCN_FAULT_DELAY_METHODS:
        return hub_set_method_delay(f->hub, on ? ft->delay : 0);
    case SCN_FAULT_ENDPOINT_UNREACHABLE:
        return hub_set_endpoint_reachable(f->hub, ft->endpoint ? ft->endpoint : "events", !on);
    case SCN_FAULT_DROP_CONNECTIONS:
    case SCN_FAULT_BREAK:
        return HS_EOK; /* applied directly by the fleet (fleet_actors.c) */
    }
    return HS_EUNSUPPORTED;
}
