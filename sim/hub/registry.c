/* The identity registry: devices and modules, etags and If-Match, generation ids, keys, the id index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth.h"
#include "hub_internal.h"
#include "registry.h"
#include "sim/hugemem.h"

/*
 * Records are appended in registration order and never moved or reused, so
 * a record number is a stable device_no.  The index maps a key ("dev" or
 * "dev/mod") to record number + 1 with linear probing and backward-shift
 * deletion; it is only ever probed, never iterated.
 */

bool hub_id_char_ok(unsigned char c)
{
    if (c >= 128)
        return false;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("-:.+%_#*?!(),=@;$'", c) != NULL;
}

bool hub_id_valid(const hub_t *hub, const char *s)
{
    size_t n = strlen(s);
    size_t max = HUB_ID_MAX_CHARS;
    if (hub_faults_on(&hub->faults, HUB_FAULT_REGISTRY_DEVICE_ID_OBO))
        max++;
    if (n == 0 || n > max)
        return false;
    if (hub_faults_on(&hub->faults, HUB_FAULT_REGISTRY_DEVICE_ID))
        return strchr(s, '/') == NULL; /* the key separator must stay unambiguous */
    for (size_t i = 0; i < n; i++)
        if (!hub_id_char_ok((unsigned char)s[i]))
            return false;
    return true;
}

const char *hub_str(const hub_t *hub, uint32_t off)
{
    return hub->arena + off;
}

static hs_err_t arena_put(hub_t *hub, const char *s, size_t len, uint32_t *off)
{
    if (hub->arena_len + len + 1 > hub->arena_cap) {
        size_t cap = hub->arena_cap ? hub->arena_cap : 4096;
        while (cap < hub->arena_len + len + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return HS_EFULL;
        char *a = realloc(hub->arena, cap);
        if (!a)
            return HS_ENOMEM;
        hub->arena = a;
        hub->arena_cap = cap;
    }
    *off = (uint32_t)hub->arena_len;
    memcpy(hub->arena + hub->arena_len, s, len);
    hub->arena[hub->arena_len + len] = '\0';
    hub->arena_len += len + 1;
    return HS_EOK;
}

static uint32_t key_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* An index entry carries its key's hash and arena offset beside the record
 * number, so a probe compares hashes in the index line, reads the key only
 * on a hash match and never the record (fetched meanwhile for the caller),
 * and growing the index touches neither.  Arena keys are NUL-terminated and
 * ids hold no NUL: equal bytes plus the NUL at len is an equal key. */
static uint32_t index_find(const hub_t *hub, const char *key, size_t len)
{
    if (!hub->index_cap)
        return HUB_NONE;
    uint32_t mask = hub->index_cap - 1;
    uint32_t h = key_hash(key, len);
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        hub_index_entry_t e = hub->index[i];
        if (!e.v)
            return HUB_NONE;
        if (e.hash != h)
            continue;
        __builtin_prefetch(&hub->recs[e.v - 1]); /* in parallel with the key's miss */
        const char *k = hub->arena + e.key_off;
        if (strncmp(k, key, len) == 0 && k[len] == '\0')
            return e.v - 1;
    }
}

static void index_place(hub_index_entry_t *index, uint32_t cap, hub_index_entry_t e)
{
    uint32_t mask = cap - 1;
    uint32_t i = e.hash & mask;
    while (index[i].v)
        i = (i + 1) & mask;
    index[i] = e;
}

/* The index rebuilt at cap entries (a power of two). */
static hs_err_t index_resize(hub_t *hub, uint32_t cap)
{
    hub_index_entry_t *ni = calloc(cap, sizeof *ni);
    if (!ni)
        return HS_ENOMEM;
    sim_mem_advise_huge(ni, (size_t)cap * sizeof *ni);
    for (uint32_t i = 0; i < hub->index_cap; i++)
        if (hub->index[i].v)
            index_place(ni, cap, hub->index[i]);
    free(hub->index);
    hub->index = ni;
    hub->index_cap = cap;
    return HS_EOK;
}

static hs_err_t index_insert(hub_t *hub, uint32_t rec, uint32_t hash)
{
    if ((hub->index_used + 1) * 2 > hub->index_cap) {
        hs_err_t e = index_resize(hub, hub->index_cap ? hub->index_cap * 2 : 64);
        if (e)
            return e;
    }
    index_place(hub->index, hub->index_cap,
                (hub_index_entry_t){ rec + 1, hash, hub->recs[rec].key_off });
    hub->index_used++;
    return HS_EOK;
}

static void index_remove(hub_t *hub, uint32_t rec)
{
    uint32_t mask = hub->index_cap - 1;
    const hub_rec_t *r = &hub->recs[rec];
    uint32_t i = key_hash(hub->arena + r->key_off, r->key_len) & mask;
    while (hub->index[i].v != rec + 1) {
        if (!hub->index[i].v)
            return;
        i = (i + 1) & mask;
    }
    hub->index[i].v = 0;
    /* Backward-shift: re-place the rest of the cluster so probes still find it. */
    for (uint32_t j = (i + 1) & mask; hub->index[j].v; j = (j + 1) & mask) {
        hub_index_entry_t e = hub->index[j];
        hub->index[j].v = 0;
        index_place(hub->index, hub->index_cap, e);
    }
    hub->index_used--;
}

/* "dev" or "dev/mod" into buf; 0 when it does not fit (memcpy, not
 * snprintf: every connect and identity creation builds keys). */
static size_t make_key(const char *dev, const char *mod, char *buf, size_t cap)
{
    size_t dl = strlen(dev), ml = (mod && mod[0]) ? strlen(mod) : 0;
    size_t n = ml ? dl + 1 + ml : dl;
    if (n >= cap)
        return 0;
    memcpy(buf, dev, dl);
    if (ml) {
        buf[dl] = '/';
        memcpy(buf + dl + 1, mod, ml);
    }
    buf[n] = '\0';
    return n;
}

/* snprintf(dst, cap, "%s", src) without the format machinery. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    if (!cap)
        return;
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

uint32_t hub_registry_find(const hub_t *hub, const char *device_id, const char *module_id)
{
    char key[2 * HUB_CONFIG_ID_MAX + 8];
    if (!device_id)
        return HUB_NONE;
    size_t n = make_key(device_id, module_id, key, sizeof key);
    if (!n)
        return HUB_NONE;
    /* One-entry memo: a connect looks the same id up twice in a row
     * (identity, then connection).  It only skips the probe: the record
     * must still be live and carry exactly this key. */
    uint32_t memo = hub->find_memo;
    if (memo && memo - 1 < hub->nrecs) {
        const hub_rec_t *r = &hub->recs[memo - 1];
        if (!r->deleted && r->key_len == n && memcmp(hub->arena + r->key_off, key, n) == 0)
            return memo - 1;
    }
    uint32_t rec = index_find(hub, key, n);
    if (rec != HUB_NONE)
        ((hub_t *)(uintptr_t)hub)->find_memo = rec + 1; /* a cache, not state */
    return rec;
}

void hub_rec_ids(const hub_t *hub, const hub_rec_t *r, char *dev, size_t devcap, char *mod,
                 size_t modcap)
{
    /* memcpy, not snprintf: this runs for every accepted D2C message. */
    const char *k = hub->arena + r->key_off;
    size_t dl = r->dev_len < devcap ? r->dev_len : devcap - 1;
    memcpy(dev, k, dl);
    dev[dl] = '\0';
    if (!modcap)
        return;
    if (r->parent != HUB_NONE) {
        size_t ml = (size_t)r->key_len - r->dev_len - 1;
        if (ml >= modcap)
            ml = modcap - 1;
        memcpy(mod, k + r->dev_len + 1, ml);
        mod[ml] = '\0';
    } else {
        mod[0] = '\0';
    }
}

void hub_rec_generation_id(const hub_t *hub, const hub_rec_t *r, char *buf, size_t cap)
{
    (void)hub;
    hub_generation_id_format(r->gen_seq, buf, cap);
}

void hub_generation_id_format(uint32_t gen_seq, char *buf, size_t cap)
{
    /* 18 decimal digits like the hub's ("637...") and never repeated:
     * "6380" + the generation counter zero-padded to 14 digits. */
    char tmp[19] = "638000000000000000";
    uint32_t v = gen_seq;
    for (int i = 17; i >= 4 && v; i--) {
        tmp[i] = (char)('0' + v % 10);
        v /= 10;
    }
    if (!cap)
        return;
    size_t n = cap < sizeof tmp ? cap - 1 : sizeof tmp - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}

static void rec_etag(const hub_rec_t *r, char *buf, size_t cap)
{
    char dec[16];
    size_t n = 0;
    uint32_t v = r->etag_seq;
    char rev[16];
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dec[i] = rev[n - 1 - i];
    dec[n] = '\0';
    if (hub_b64_encode(dec, n, buf, cap) != HS_EOK && cap)
        buf[0] = '\0';
}

/* If-Match: NULL, "" and "*" match anything; quotes around the etag are allowed. */
static bool etag_matches(const hub_t *hub, const hub_rec_t *r, const char *if_match)
{
    if (!if_match || !if_match[0] || strcmp(if_match, "*") == 0)
        return true;
    if (hub_faults_on(&hub->faults, HUB_FAULT_HUB_IF_MATCH))
        return true;
    char cur[HUB_ETAG_CAP];
    rec_etag(r, cur, sizeof cur);
    size_t n = strlen(if_match);
    if (n >= 2 && if_match[0] == '"' && if_match[n - 1] == '"')
        return n - 2 == strlen(cur) && memcmp(if_match + 1, cur, n - 2) == 0;
    return strcmp(if_match, cur) == 0;
}

static bool key_valid(const char *k)
{
    unsigned char buf[128];
    size_t n;
    return strlen(k) <= HUB_CONFIG_KEY_MAX && hub_b64_decode(k, buf, sizeof buf, &n) == HS_EOK &&
           n >= 16 && n <= 64;
}

static bool thumb_valid(const char *t)
{
    size_t n = 0;
    for (const char *p = t; *p; p++) {
        if (*p == ':')
            continue;
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            return false;
        n++;
    }
    return (n == 40 || n == 64) && strlen(t) <= HUB_CONFIG_THUMBPRINT_MAX;
}

/* A key derived from (seed, identity, which): deterministic, never printed
 * from a clock or /dev/urandom. */
static void derive_key(const hub_t *hub, const char *key, const char *which, char *out, size_t cap)
{
    char name[2 * HUB_CONFIG_ID_MAX + 32];
    /* "key:<which>:<key>", truncated as snprintf would */
    size_t wl = strlen(which), kl = strlen(key), n = 0;
    memcpy(name, "key:", 4);
    n = 4;
    memcpy(name + n, which, wl); /* which is a short literal */
    n += wl;
    name[n++] = ':';
    if (kl > sizeof name - 1 - n)
        kl = sizeof name - 1 - n;
    memcpy(name + n, key, kl);
    n += kl;
    name[n] = '\0';
    sim_rng_t rng;
    sim_kernel_stream(hub->k, sim_rng_stream_id(name, n), &rng);
    unsigned char raw[32];
    for (size_t i = 0; i < sizeof raw; i += 8) {
        uint64_t v = sim_rng_next(&rng);
        memcpy(raw + i, &v, 8);
    }
    (void)hub_b64_encode(raw, sizeof raw, out, cap);
}

/* A generated key is not stored: it is a pure function of (seed, identity
 * key, which), so it is derived again whenever it is read (connects read
 * it once), and a million identities keep ~90 bytes each less. */
const char *hub_rec_key(const hub_t *hub, const hub_rec_t *r, unsigned which, char *buf)
{
    if (r->keys_derived & which) {
        char key[2 * HUB_CONFIG_ID_MAX + 8];
        size_t n = r->key_len < sizeof key ? r->key_len : sizeof key - 1;
        memcpy(key, hub_str(hub, r->key_off), n);
        key[n] = '\0';
        derive_key(hub, key, which == HUB_KEY_PRIMARY ? "primary" : "secondary", buf, HUB_KEY_TEXT_CAP);
        return buf;
    }
    uint32_t off = which == HUB_KEY_PRIMARY ? r->pk_off : r->sk_off;
    return off ? hub_str(hub, off) : NULL;
}

static void copy_key(const hub_t *hub, const hub_rec_t *r, unsigned which, char *dst, size_t cap)
{
    char buf[HUB_KEY_TEXT_CAP];
    const char *k = hub_rec_key(hub, r, which, buf);
    copy_str(dst, cap, k ? k : "");
}

static void fill_identity(const hub_t *hub, uint32_t idx, hub_identity_t *out)
{
    if (!out)
        return;
    const hub_rec_t *r = &hub->recs[idx];
    memset(out, 0, sizeof *out);
    out->device_no = idx;
    hub_rec_ids(hub, r, out->device_id, sizeof out->device_id, out->module_id,
                sizeof out->module_id);
    hub_rec_generation_id(hub, r, out->generation_id, sizeof out->generation_id);
    rec_etag(r, out->etag, sizeof out->etag);
    out->enabled = r->enabled;
    out->x509 = r->x509;
    out->connected = r->conn != 0;
    copy_key(hub, r, HUB_KEY_PRIMARY, out->primary_key, sizeof out->primary_key);
    copy_key(hub, r, HUB_KEY_SECONDARY, out->secondary_key, sizeof out->secondary_key);
    copy_str(out->primary_thumbprint, sizeof out->primary_thumbprint, hub_str(hub, r->tp1_off));
    copy_str(out->secondary_thumbprint, sizeof out->secondary_thumbprint, hub_str(hub, r->tp2_off));
    hub_gw_fill(hub, idx, out);
}

static void registry_emit(hub_t *hub, const char *op, uint32_t idx, hub_err_t err)
{
    const hub_rec_t *r = idx != HUB_NONE ? &hub->recs[idx] : NULL;
    sim_tf_t f[] = { TF_STR("op", op), TF_STR("id", r ? hub_str(hub, r->key_off) : ""),
                     TF_INT("code", hub_error_info(err)->code) };
    sim_kernel_emit(hub->k, "hub.registry", f, 3);
}

static hub_err_t reject(hub_t *hub, const char *op, hub_err_t err)
{
    hub_ledger_add(&hub->ledger, HUB_L_REGISTRY_REJECTED, 1);
    registry_emit(hub, op, HUB_NONE, err);
    return err;
}

/* Validate the credential fields of a spec (those given). */
static hub_err_t spec_check_creds(const hub_identity_spec_t *s)
{
    if ((s->primary_key && s->primary_key[0] && !key_valid(s->primary_key)) ||
        (s->secondary_key && s->secondary_key[0] && !key_valid(s->secondary_key)))
        return HUB_EARGUMENT_INVALID;
    if ((s->primary_thumbprint && s->primary_thumbprint[0] && !thumb_valid(s->primary_thumbprint)) ||
        (s->secondary_thumbprint && s->secondary_thumbprint[0] &&
         !thumb_valid(s->secondary_thumbprint)))
        return HUB_EARGUMENT_INVALID;
    return HUB_EOK;
}

static hs_err_t put_opt(hub_t *hub, const char *s, uint32_t *off)
{
    if (!s || !s[0]) {
        *off = 0;
        return HS_EOK;
    }
    return arena_put(hub, s, strlen(s), off);
}

hub_err_t hub_identity_create(hub_t *hub, const hub_identity_spec_t *spec, hub_identity_t *out)
{
    if (!hub || !spec || !spec->device_id)
        return HUB_EARGUMENT_NULL;
    const char *mod = (spec->module_id && spec->module_id[0]) ? spec->module_id : NULL;
    if (!hub_id_valid(hub, spec->device_id) || (mod && !hub_id_valid(hub, mod)))
        return reject(hub, "create", HUB_EARGUMENT_INVALID);
    hub_err_t ce = spec_check_creds(spec);
    if (ce == HUB_EOK && spec->x509 && !(spec->primary_thumbprint && spec->primary_thumbprint[0]))
        ce = HUB_EARGUMENT_INVALID;
    if (ce)
        return reject(hub, "create", ce);
    uint32_t parent = HUB_NONE;
    if (mod) {
        parent = hub_registry_find(hub, spec->device_id, NULL);
        if (parent == HUB_NONE)
            return reject(hub, "create", HUB_EDEVICE_NOT_FOUND);
    }
    /* one probe: the gateway check changes nothing */
    uint32_t existing = hub_registry_find(hub, spec->device_id, mod);
    if (existing == HUB_NONE && (ce = hub_gw_check_spec(hub, HUB_NONE, spec, true)) != HUB_EOK)
        return reject(hub, "create", ce);
    if (existing != HUB_NONE)
        return reject(hub, "create",
                      hub_faults_on(&hub->faults, HUB_FAULT_REGISTRY_CRUD) ? HUB_EARGUMENT_INVALID
                      : mod                                               ? HUB_EMODULE_ALREADY_EXISTS
                                                                          : HUB_EDEVICE_ALREADY_EXISTS);
    if (hub->nrecs == hub->caprecs) {
        uint32_t cap = hub->caprecs ? hub->caprecs * 2 : 64;
        hub_rec_t *nr = realloc(hub->recs, cap * sizeof *nr);
        if (!nr)
            return HUB_ESERVER_ERROR;
        hub->recs = nr;
        hub->caprecs = cap;
    }
    char key[2 * HUB_CONFIG_ID_MAX + 8];
    size_t klen = make_key(spec->device_id, mod, key, sizeof key);
    hub_rec_t r;
    memset(&r, 0, sizeof r);
    r.parent = parent;
    r.key_len = (uint16_t)klen;
    r.dev_len = (uint16_t)strlen(spec->device_id);
    r.enabled = !spec->disabled;
    r.x509 = spec->x509;
    /* keys not given are the hub's own: derived when read (hub_rec_key) */
    const char *pks = spec->primary_key, *sks = spec->secondary_key;
    if (!spec->x509 && !(pks && pks[0]))
        r.keys_derived |= HUB_KEY_PRIMARY;
    if (!spec->x509 && !(sks && sks[0]))
        r.keys_derived |= HUB_KEY_SECONDARY;
    if (arena_put(hub, key, klen, &r.key_off) || put_opt(hub, pks, &r.pk_off) ||
        put_opt(hub, sks, &r.sk_off) || put_opt(hub, spec->primary_thumbprint, &r.tp1_off) ||
        put_opt(hub, spec->secondary_thumbprint, &r.tp2_off))
        return HUB_ESERVER_ERROR;
    r.etag_seq = ++hub->etag_counter;
    if (hub_faults_on(&hub->faults, HUB_FAULT_REGISTRY_GENERATION_ID))
        r.gen_seq = key_hash(key, klen) % 100000000u; /* the same id gets the same generation */
    else
        r.gen_seq = ++hub->gen_counter;
    uint32_t idx = hub->nrecs;
    hub->recs[idx] = r;
    hub->nrecs++;
    if (index_insert(hub, idx, key_hash(key, klen)) != HS_EOK) {
        hub->nrecs--;
        return HUB_ESERVER_ERROR;
    }
    hub->live++;
    if (hub_gw_apply_spec(hub, idx, spec, true) != HS_EOK)
        return HUB_ESERVER_ERROR;
    hub_ledger_add(&hub->ledger, HUB_L_REGISTRY_CREATED, 1);
    registry_emit(hub, "create", idx, HUB_EOK);
    hub_event_lifecycle(hub, idx, true);
    fill_identity(hub, idx, out);
    return HUB_EOK;
}

static hub_err_t lookup(const hub_t *hub, const char *dev, const char *mod, uint32_t *idx)
{
    if (!dev)
        return HUB_EARGUMENT_NULL;
    const char *m = (mod && mod[0]) ? mod : NULL;
    uint32_t i = hub_registry_find(hub, dev, m);
    if (i == HUB_NONE) {
        if (m && hub_registry_find(hub, dev, NULL) != HUB_NONE)
            return HUB_EMODULE_NOT_FOUND;
        return HUB_EDEVICE_NOT_FOUND;
    }
    *idx = i;
    return HUB_EOK;
}

hub_err_t hub_identity_update(hub_t *hub, const hub_identity_spec_t *spec, const char *if_match,
                              hub_identity_t *out)
{
    if (!hub || !spec)
        return HUB_EARGUMENT_NULL;
    uint32_t idx = HUB_NONE;
    hub_err_t e = lookup(hub, spec->device_id, spec->module_id, &idx);
    if (e)
        return reject(hub, "update", e);
    if (!etag_matches(hub, &hub->recs[idx], if_match))
        return reject(hub, "update", HUB_EPRECONDITION_FAILED);
    if ((e = spec_check_creds(spec)) != HUB_EOK || (e = hub_gw_check_spec(hub, idx, spec, false)))
        return reject(hub, "update", e);
    uint32_t pk = hub->recs[idx].pk_off, sk = hub->recs[idx].sk_off;
    uint32_t t1 = hub->recs[idx].tp1_off, t2 = hub->recs[idx].tp2_off;
    if ((spec->primary_key && put_opt(hub, spec->primary_key, &pk)) ||
        (spec->secondary_key && put_opt(hub, spec->secondary_key, &sk)) ||
        (spec->primary_thumbprint && put_opt(hub, spec->primary_thumbprint, &t1)) ||
        (spec->secondary_thumbprint && put_opt(hub, spec->secondary_thumbprint, &t2)))
        return HUB_ESERVER_ERROR;
    if (spec->x509 && !t1)
        return reject(hub, "update", HUB_EARGUMENT_INVALID);
    hub_rec_t *r = &hub->recs[idx];
    if (spec->primary_key) /* a given key (or "" = none) replaces the hub's own */
        r->keys_derived &= (uint8_t)~HUB_KEY_PRIMARY;
    if (spec->secondary_key)
        r->keys_derived &= (uint8_t)~HUB_KEY_SECONDARY;
    r->pk_off = pk;
    r->sk_off = sk;
    r->tp1_off = t1;
    r->tp2_off = t2;
    r->x509 = spec->x509;
    bool was_enabled = r->enabled;
    r->enabled = !spec->disabled;
    if (hub_gw_apply_spec(hub, idx, spec, false) != HS_EOK)
        return HUB_ESERVER_ERROR;
    if (!hub_faults_on(&hub->faults, HUB_FAULT_REGISTRY_ETAG))
        r->etag_seq = ++hub->etag_counter;
    hub_ledger_add(&hub->ledger, HUB_L_REGISTRY_UPDATED, 1);
    registry_emit(hub, "update", idx, HUB_EOK);
    /* A disabled device is disconnected and can no longer authenticate. */
    if (was_enabled && spec->disabled && !hub_faults_on(&hub->faults, HUB_FAULT_AUTH_DISABLED)) {
        hub_conn_drop_rec(hub, idx, HUB_EUNAUTHORIZED_ACCESS, "identity disabled",
                          HUB_L_CONN_DROPPED_DISABLED);
        for (uint32_t i = 0; i < hub->nrecs; i++)
            if (hub->recs[i].parent == idx && !hub->recs[i].deleted)
                hub_conn_drop_rec(hub, i, HUB_EUNAUTHORIZED_ACCESS, "device disabled",
                                  HUB_L_CONN_DROPPED_DISABLED);
    }
    fill_identity(hub, idx, out);
    return HUB_EOK;
}

hub_err_t hub_identity_put(hub_t *hub, const hub_identity_spec_t *spec, const char *if_match,
                           hub_identity_t *out)
{
    if (!hub || !spec || !spec->device_id)
        return HUB_EARGUMENT_NULL;
    if (hub_registry_find(hub, spec->device_id, spec->module_id) == HUB_NONE)
        return hub_identity_create(hub, spec, out);
    return hub_identity_update(hub, spec, if_match, out);
}

hub_err_t hub_identity_get(hub_t *hub, const char *device_id, const char *module_id,
                           hub_identity_t *out)
{
    if (!hub || !out)
        return HUB_EARGUMENT_NULL;
    uint32_t idx = HUB_NONE;
    hub_err_t e = lookup(hub, device_id, module_id, &idx);
    if (e)
        return e;
    fill_identity(hub, idx, out);
    return HUB_EOK;
}

hub_err_t hub_identity_primary_key(hub_t *hub, const char *device_id, const char *module_id, char *key,
                                   size_t cap)
{
    if (!hub || !key || !cap)
        return HUB_EARGUMENT_NULL;
    uint32_t idx = HUB_NONE;
    hub_err_t e = lookup(hub, device_id, module_id, &idx);
    if (e)
        return e;
    char buf[HUB_KEY_TEXT_CAP];
    const char *k = hub_rec_key(hub, &hub->recs[idx], HUB_KEY_PRIMARY, buf);
    if (!k)
        k = "";
    size_t n = strlen(k);
    if (n >= cap)
        return HUB_EARGUMENT_INVALID;
    memcpy(key, k, n + 1);
    return HUB_EOK;
}

/* Arena bytes an identity takes when its id is short and its keys are the
 * hub's (derived, not stored): its key and NUL (a guess: the arena still
 * grows past it). */
#define ARENA_PER_IDENTITY 16u

hub_err_t hub_reserve(hub_t *hub, size_t identities)
{
    if (!hub)
        return HUB_EARGUMENT_NULL;
    if (hub->nrecs > (UINT32_MAX >> 2) || identities > (UINT32_MAX >> 2) - hub->nrecs)
        return HUB_ESERVER_ERROR;
    uint32_t want = hub->nrecs + (uint32_t)identities;
    if (want > hub->caprecs) {
        hub_rec_t *nr = realloc(hub->recs, want * sizeof *nr);
        if (!nr)
            return HUB_ESERVER_ERROR;
        sim_mem_advise_huge(nr, (size_t)want * sizeof *nr);
        hub->recs = nr;
        hub->caprecs = want;
    }
    uint32_t cap = hub->index_cap ? hub->index_cap : 64;
    while ((hub->index_used + (uint32_t)identities) * 2 > cap)
        cap *= 2;
    if (cap != hub->index_cap && index_resize(hub, cap) != HS_EOK)
        return HUB_ESERVER_ERROR;
    size_t arena = hub->arena_len + identities * ARENA_PER_IDENTITY;
    if (arena > hub->arena_cap && arena <= UINT32_MAX) {
        char *a = realloc(hub->arena, arena);
        if (!a)
            return HUB_ESERVER_ERROR;
        sim_mem_advise_huge(a, arena);
        hub->arena = a;
        hub->arena_cap = arena;
    }
    return hub_conn_reserve(hub, (uint32_t)identities);
}

static void delete_rec(hub_t *hub, uint32_t idx)
{
    hub_event_lifecycle(hub, idx, false);
    hub_conn_drop_rec(hub, idx, HUB_EDEVICE_NOT_FOUND, "identity deleted",
                      HUB_L_CONN_DROPPED_DELETED);
    if (hub->recs[idx].parent == HUB_NONE && hub->c2d)
        (void)hub_c2d_purge(hub->c2d, idx, NULL);
    index_remove(hub, idx);
    hub_rec_t *r = &hub->recs[idx];
    r->deleted = 1;
    if (r->twin && hub->twins[r->twin - 1]) {
        hub_twin_free(hub->twins[r->twin - 1]);
        hub->twins[r->twin - 1] = NULL;
    }
    hub->live--;
    hub_ledger_add(&hub->ledger, HUB_L_REGISTRY_DELETED, 1);
    registry_emit(hub, "delete", idx, HUB_EOK);
}

hub_err_t hub_identity_delete(hub_t *hub, const char *device_id, const char *module_id,
                              const char *if_match)
{
    if (!hub)
        return HUB_EARGUMENT_NULL;
    uint32_t idx = HUB_NONE;
    hub_err_t e = lookup(hub, device_id, module_id, &idx);
    if (e)
        return reject(hub, "delete", e);
    if (!etag_matches(hub, &hub->recs[idx], if_match))
        return reject(hub, "delete", HUB_EPRECONDITION_FAILED);
    if (hub->recs[idx].parent == HUB_NONE)
        for (uint32_t i = 0; i < hub->nrecs; i++)
            if (hub->recs[i].parent == idx && !hub->recs[i].deleted)
                delete_rec(hub, i);
    delete_rec(hub, idx);
    return HUB_EOK;
}

size_t hub_identity_count(const hub_t *hub)
{
    return hub ? hub->live : 0;
}

static hub_err_t provision_one(hub_t *hub, const char *dev, const char *mod, bool disabled,
                               const hub_config_auth_t *a)
{
    hub_identity_spec_t s;
    memset(&s, 0, sizeof s);
    s.device_id = dev;
    s.module_id = mod;
    s.disabled = disabled;
    s.x509 = a->kind == HUB_AUTH_X509;
    s.primary_key = a->primary_key[0] ? a->primary_key : NULL;
    s.secondary_key = a->secondary_key[0] ? a->secondary_key : NULL;
    s.primary_thumbprint = a->primary_thumbprint[0] ? a->primary_thumbprint : NULL;
    s.secondary_thumbprint = a->secondary_thumbprint[0] ? a->secondary_thumbprint : NULL;
    return hub_identity_create(hub, &s, NULL);
}

hs_err_t hub_registry_provision(hub_t *hub, const hub_config_t *cfg, char *why, size_t cap)
{
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const hub_config_device_t *d = &cfg->devices[i];
        hub_err_t e = provision_one(hub, d->id, NULL, !d->enabled, &d->auth);
        for (size_t j = 0; e == HUB_EOK && j < d->n_modules; j++)
            e = provision_one(hub, d->id, d->modules[j].id, false, &d->modules[j].auth);
        if (e) {
            if (why)
                snprintf(why, cap, "devices[%zu] \"%s\": %s", i, d->id, hub_error_info(e)->message);
            return e == HUB_ESERVER_ERROR ? HS_ENOMEM : HS_EINVAL;
        }
    }
    return HS_EOK;
}

void hub_registry_release(hub_t *hub)
{
    free(hub->recs);
    free(hub->index);
    free(hub->arena);
    hub->recs = NULL;
    hub->index = NULL;
    hub->arena = NULL;
}

size_t hub_registry_bytes(const hub_t *hub)
{
    return hub->caprecs * sizeof(hub_rec_t) + hub->index_cap * sizeof(hub_index_entry_t) + hub->arena_cap +
           hub->capconns * sizeof(hub_conn_slot_t) + hub->captwins * sizeof(hub_twin_t *);
}

hs_err_t hub_registry_init(hub_t *hub)
{
    uint32_t off;
    return arena_put(hub, "", 0, &off); /* offset 0 is the empty string: "no such field" */
}
