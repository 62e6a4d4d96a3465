/* Walk the identity registry in registration order (REST device listing and registry statistics). */
#include "hub_internal.h"

bool hub_identity_next(hub_t *hub, uint32_t *cursor, hub_identity_t *out)
{
    if (!hub || !cursor || !out)
        return false;
    for (uint32_t i = *cursor; i < hub->nrecs; i++) {
        const hub_rec_t *r = &hub->recs[i];
        if (r->deleted)
            continue;
        char dev[HUB_CONFIG_ID_MAX + 1], mod[HUB_CONFIG_ID_MAX + 1];
        hub_rec_ids(hub, r, dev, sizeof dev, mod, sizeof mod);
        if (hub_identity_get(hub, dev, mod[0] ? mod : NULL, out) != HUB_EOK)
            continue;
        *cursor = i + 1;
        return true;
    }
    *cursor = hub->nrecs;
    return false;
}
