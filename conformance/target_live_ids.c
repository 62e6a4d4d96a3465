/* Live target ids and tokens: the run prefix on device ids, identities and their keys, device tokens re-signed for wire ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/target_live_internal.h"
#include "sim/hub/auth.h"

/* Device ids may be 128 characters (REGISTRY-DEVICE-ID); an id the prefix
 * would push past that goes on the wire as it is (still deleted at close). */
#define LIVE_ID_MAX 128
/* Signs tokens no registered key verifies, so they stay refused. */
#define LIVE_WRONG_KEY "7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u4="

void live_target_wire_id(const conform_target_t *t, const char *id, char *out, size_t cap)
{
    if (strlen(t->prefix) + strlen(id) <= LIVE_ID_MAX)
        snprintf(out, cap, "%s%s", t->prefix, id);
    else
        snprintf(out, cap, "%s", id);
}

const char *live_case_id(const conform_target_t *t, const char *wire)
{
    size_t n = strlen(t->prefix);
    return strncmp(wire, t->prefix, n) == 0 ? wire + n : wire;
}

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

live_ident_t *live_ident_find(conform_target_t *t, const char *dev, const char *mod)
{
    for (size_t i = 0; i < t->n_ids; i++)
        if (same(t->ids[i].dev, dev) && same(t->ids[i].mod, mod))
            return &t->ids[i];
    return NULL;
}

void live_ident_remember(conform_target_t *t, const char *dev, const char *mod, json_t *doc)
{
    live_ident_t *id = live_ident_find(t, dev, mod);
    if (!id) {
        live_ident_t *ids = realloc(t->ids, (t->n_ids + 1) * sizeof *ids);
        if (!ids)
            abort();
        t->ids = ids;
        id = &t->ids[t->n_ids++];
        memset(id, 0, sizeof *id);
        id->dev = live_dup(dev);
        id->mod = mod && *mod ? live_dup(mod) : NULL;
    }
    json_t *sk = json_object_get(json_object_get(doc, "authentication"), "symmetricKey");
    const char *k[2] = { json_string_value(json_object_get(sk, "primaryKey")),
                         json_string_value(json_object_get(sk, "secondaryKey")) };
    for (int i = 0; i < 2; i++) {
        free(id->keys[i]);
        id->keys[i] = k[i] && *k[i] ? live_dup(k[i]) : NULL;
    }
}

void live_ident_forget(conform_target_t *t, const char *dev, const char *mod)
{
    for (size_t i = 0; i < t->n_ids;) {
        live_ident_t *id = &t->ids[i];
        /* deleting a device deletes its modules */
        if (same(id->dev, dev) && (!mod || !*mod || same(id->mod, mod))) {
            free(id->dev);
            free(id->mod);
            free(id->keys[0]);
            free(id->keys[1]);
            memmove(id, id + 1, (t->n_ids - i - 1) * sizeof *id);
            t->n_ids--;
        } else {
            i++;
        }
    }
}

/* "host/devices/{id}[/...]": the id segment's bounds in sr; false when
 * the resource names no device. */
static bool sr_device(const char *sr, size_t *start, size_t *len)
{
    const char *d = strstr(sr, "/devices/");
    if (!d)
        return false;
    *start = (size_t)(d - sr) + 9;
    const char *end = strchr(sr + *start, '/');
    *len = end ? (size_t)(end - sr) - *start : strlen(sr + *start);
    return *len > 0;
}

static const char *module_of(const char *sr)
{
    const char *m = strstr(sr, "/modules/");
    return m ? m + 9 : NULL;
}

void live_token_for_wire(conform_target_t *t, const char *token, char *out, size_t cap)
{
    snprintf(out, cap, "%s", token ? token : "");
    hub_sas_t s;
    size_t start, len;
    if (!token || hub_sas_parse(token, &s, NULL, 0) != HS_EOK || !sr_device(s.sr, &start, &len))
        return; /* nothing to map: the hub judges it as the case wrote it */
    char dev[HUB_SAS_FIELD_MAX], wire[HUB_SAS_FIELD_MAX + 32], res[2 * HUB_SAS_FIELD_MAX + 64];
    snprintf(dev, sizeof dev, "%.*s", (int)len, s.sr + start);
    live_target_wire_id(t, dev, wire, sizeof wire);
    snprintf(res, sizeof res, "%.*s%s%s", (int)start, s.sr, wire, s.sr + start + len);
    const char *key = NULL;
    if (s.has_skn) {
        if (strcmp(s.skn, t->cs.key_name) == 0 && hub_sas_verify(&s, t->cs.key) == HS_EOK)
            key = t->cs.key;
    } else {
        const char *mod = module_of(s.sr);
        live_ident_t *id = live_ident_find(t, dev, mod);
        for (int i = 0; id && i < 2 && !key; i++)
            if (id->keys[i] && hub_sas_verify(&s, id->keys[i]) == HS_EOK)
                key = id->keys[i];
    }
    if (!key && s.has_skn)
        return; /* another policy's token: its key is unknown here, send it as it is */
    if (hub_sas_make(key ? key : LIVE_WRONG_KEY, res, s.se, s.has_skn ? s.skn : NULL, out, cap) != HS_EOK)
        snprintf(out, cap, "%s", token);
}
