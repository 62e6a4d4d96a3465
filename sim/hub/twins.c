/* Twins in the hub: per-identity twin documents, service GET/PATCH/PUT, device GET and reported patches, desired pushes. */
#include <stdlib.h>
#include <string.h>
#include "hub_internal.h"

/* Twins are created on first use (an idle device costs one 32-bit field)
 * and live in hub->twins, indexed by the record's twin slot. */

static hub_twin_t *twin_of(hub_t *hub, uint32_t rec)
{
    hub_rec_t *r = &hub->recs[rec];
    if (r->twin)
        return hub->twins[r->twin - 1];
    if (hub->ntwins == hub->captwins) {
        uint32_t cap = hub->captwins ? hub->captwins * 2 : 16;
        hub_twin_t **n = realloc(hub->twins, cap * sizeof *n);
        if (!n)
            return NULL;
        hub->twins = n;
        hub->captwins = cap;
    }
    hub_twin_t *t = hub_twin_new();
    if (!t)
        return NULL;
    hub->twins[hub->ntwins++] = t;
    r->twin = hub->ntwins;
    return t;
}

static hub_err_t find(hub_t *hub, const char *dev, const char *mod, uint32_t *rec)
{
    if (!hub || !dev)
        return HUB_EARGUMENT_NULL;
    const char *m = (mod && mod[0]) ? mod : NULL;
    uint32_t i = hub_registry_find(hub, dev, m);
    if (i == HUB_NONE)
        return (m && hub_registry_find(hub, dev, NULL) != HUB_NONE) ? HUB_EMODULE_NOT_FOUND
                                                                   : HUB_EDEVICE_NOT_FOUND;
    *rec = i;
    return HUB_EOK;
}

static void twin_op(hub_t *hub, hub_twin_op_t *op, const char *if_match)
{
    op->limits = &hub->twin_limits;
    op->epoch_unix = hub->epoch;
    op->now = sim_kernel_now(hub->k);
    op->if_match = hub_faults_on(&hub->faults, HUB_FAULT_TWIN_IF_MATCH) ? NULL : if_match;
}

static void twin_emit(hub_t *hub, const char *op, uint32_t rec, hub_err_t e, uint64_t version)
{
    sim_tf_t f[] = { TF_STR("op", op), TF_STR("id", hub_str(hub, hub->recs[rec].key_off)),
                     TF_INT("code", hub_error_info(e)->code), TF_INT("version", (int64_t)version) };
    sim_kernel_emit(hub->k, "hub.twin", f, 4);
}

/* Push the applied desired patch to the identity's subscribed connection. */
static void push_desired(hub_t *hub, uint32_t rec, const hub_twin_change_t *ch)
{
    if (!(ch->changed & HUB_TWIN_BIT(HUB_TWIN_DESIRED)) || !ch->patch[HUB_TWIN_DESIRED] ||
        hub_faults_on(&hub->faults, HUB_FAULT_TWIN_DESIRED_PUSH))
        return;
    uint32_t c = hub->recs[rec].conn;
    if (!c)
        return;
    hub_conn_slot_t *s = &hub->conns[c - 1];
    if (!(s->subs & HUB_SUB_DESIRED) || !s->ops || !s->ops->desired_patch)
        return;
    char *text = json_dumps(ch->patch[HUB_TWIN_DESIRED], JSON_COMPACT);
    if (!text)
        return;
    hub_ledger_add(&hub->ledger, HUB_L_TWIN_DESIRED_PUSHED, 1);
    s->ops->desired_patch(s->ctx, hub_conn_handle(hub, c - 1), ch->desired_version, text,
                          strlen(text));
    free(text);
}

hub_err_t hub_twin_get(hub_t *hub, const char *device_id, const char *module_id, json_t **out)
{
    uint32_t rec;
    hub_err_t e = find(hub, device_id, module_id, &rec);
    if (e)
        return e;
    if (!out)
        return HUB_EARGUMENT_NULL;
    if (!hub_bucket_take(&hub->b_twin_read, sim_kernel_now(hub->k), 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_TWIN_READ, 1);
        return HUB_ETHROTTLED;
    }
    hub_twin_t *t = twin_of(hub, rec);
    *out = t ? hub_twin_service_json(t, device_id, module_id && module_id[0] ? module_id : NULL)
             : NULL;
    if (!*out)
        return HUB_ESERVER_ERROR;
    hub_ledger_add(&hub->ledger, HUB_L_TWIN_READ, 1);
    return HUB_EOK;
}

typedef hub_err_t (*twin_apply_fn)(hub_twin_t *t, const hub_twin_op_t *op, const json_t *doc,
                                   hub_twin_change_t *ch);

static hub_err_t service_change(hub_t *hub, const char *device_id, const char *module_id,
                                const char *json_text, size_t len, const char *if_match,
                                char *etag_out, twin_apply_fn fn, const char *opname)
{
    uint32_t rec;
    hub_err_t e = find(hub, device_id, module_id, &rec);
    if (e)
        return e;
    if (!json_text)
        return HUB_EARGUMENT_NULL;
    if (!hub_bucket_take(&hub->b_twin_update, sim_kernel_now(hub->k), 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_TWIN_UPDATE, 1);
        return HUB_ETHROTTLED;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(json_text, len, 0, &jerr);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        hub_ledger_add(&hub->ledger, HUB_L_TWIN_REFUSED, 1);
        twin_emit(hub, opname, rec, HUB_EARGUMENT_INVALID, 0);
        return HUB_EARGUMENT_INVALID;
    }
    hub_twin_t *t = twin_of(hub, rec);
    if (!t) {
        json_decref(doc);
        return HUB_ESERVER_ERROR;
    }
    hub_twin_op_t op;
    twin_op(hub, &op, if_match);
    hub_twin_change_t ch;
    memset(&ch, 0, sizeof ch);
    e = fn(t, &op, doc, &ch);
    json_decref(doc);
    hub_ledger_add(&hub->ledger, e == HUB_EOK ? HUB_L_TWIN_UPDATED : HUB_L_TWIN_REFUSED, 1);
    twin_emit(hub, opname, rec, e, e == HUB_EOK ? ch.version : 0);
    if (e == HUB_EOK) {
        if (etag_out)
            hub_twin_etag(t, etag_out);
        push_desired(hub, rec, &ch);
        hub_event_twin_change(hub, rec, &ch);
    }
    hub_twin_change_clear(&ch);
    return e;
}

hub_err_t hub_twin_patch(hub_t *hub, const char *device_id, const char *module_id,
                         const char *patch_json, size_t len, const char *if_match, char *etag_out)
{
    return service_change(hub, device_id, module_id, patch_json, len, if_match, etag_out,
                          hub_twin_update, "patch");
}

hub_err_t hub_twin_put(hub_t *hub, const char *device_id, const char *module_id,
                       const char *doc_json, size_t len, const char *if_match, char *etag_out)
{
    return service_change(hub, device_id, module_id, doc_json, len, if_match, etag_out,
                          hub_twin_replace, "replace");
}

hub_err_t hub_device_twin_get(hub_t *hub, hub_conn_t conn, json_t **out)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    if (!out)
        return HUB_EARGUMENT_NULL;
    uint32_t rec = s->rec;
    if (!hub_bucket_take(&hub->b_twin_read, sim_kernel_now(hub->k), 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_TWIN_READ, 1);
        return HUB_ETHROTTLED;
    }
    hub_twin_t *t = twin_of(hub, rec);
    *out = t ? hub_twin_device_json(t) : NULL;
    if (!*out)
        return HUB_ESERVER_ERROR;
    hub_ledger_add(&hub->ledger, HUB_L_TWIN_READ, 1);
    return HUB_EOK;
}

hub_err_t hub_device_twin_patch_reported(hub_t *hub, hub_conn_t conn, const char *patch_json,
                                         size_t len, uint64_t *version_out)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    if (!patch_json)
        return HUB_EARGUMENT_NULL;
    uint32_t rec = s->rec;
    if (!hub_bucket_take(&hub->b_twin_update, sim_kernel_now(hub->k), 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_TWIN_UPDATE, 1);
        return HUB_ETHROTTLED;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(patch_json, len, 0, &jerr);
    hub_twin_t *t = twin_of(hub, rec);
    hub_err_t e;
    hub_twin_change_t ch;
    memset(&ch, 0, sizeof ch);
    if (!doc || !json_is_object(doc)) {
        e = HUB_EARGUMENT_INVALID;
    } else if (!t) {
        e = HUB_ESERVER_ERROR;
    } else {
        hub_twin_op_t op;
        twin_op(hub, &op, NULL);
        e = hub_twin_patch_section(t, &op, HUB_TWIN_REPORTED, doc, &ch);
    }
    json_decref(doc);
    hub_ledger_add(&hub->ledger, e == HUB_EOK ? HUB_L_TWIN_UPDATED : HUB_L_TWIN_REFUSED, 1);
    twin_emit(hub, "reported", rec, e, e == HUB_EOK ? ch.reported_version : 0);
    if (e == HUB_EOK && version_out)
        *version_out = ch.reported_version;
    if (e == HUB_EOK)
        hub_event_twin_change(hub, rec, &ch);
    hub_twin_change_clear(&ch);
    return e;
}
