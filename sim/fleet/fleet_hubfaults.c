/* Which fault-timeline kinds a fleet can apply at run time (the port applies them). */
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
