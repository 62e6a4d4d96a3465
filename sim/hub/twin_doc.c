/* A device or module twin document: tags, desired, reported, versions, etag, metadata, merge patch and limits. */
#include "sim/hub/twin_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every change is computed on copies: the candidate section(s), their
 * metadata trees and the effective patch are built first, checked against
 * every rule, and only then swapped in.  So a refused change leaves the twin
 * exactly as it was, and a service PATCH touching tags and desired is one
 * atomic change.
 *
 * Metadata mirrors the section: each member key has an object holding
 * "$lastUpdated" (and "$lastUpdatedVersion" in desired), plus the metadata
 * of its own members when the value is an object.  A never-written twin
 * shows "0001-01-01T00:00:00Z", as the hub does.
 */

#define TWIN_NEVER "0001-01-01T00:00:00Z"

struct hub_twin {
    json_t *sec[HUB_TWIN__SECTIONS]; /* objects, no read-only keys */
    json_t *meta[HUB_TWIN__SECTIONS]; /* desired and reported only */
    uint64_t version;
    uint64_t sver[HUB_TWIN__SECTIONS];
};

static const char *const twin_names[HUB_TWIN__SECTIONS] = { "tags", "desired", "reported" };

const char *hub_twin_section_name(hub_twin_section_t s)
{
    return (unsigned)s < HUB_TWIN__SECTIONS ? twin_names[s] : NULL;
}

void hub_twin_limits_default(hub_twin_limits_t *l, size_t kb)
{
    if (!l)
        return;
    l->max_bytes[HUB_TWIN_TAGS] = 8 * kb;
    l->max_bytes[HUB_TWIN_DESIRED] = 32 * kb;
    l->max_bytes[HUB_TWIN_REPORTED] = 32 * kb;
    l->max_depth = 10;
    l->key_max_bytes = kb;
    l->string_max_bytes = 4 * kb;
    l->breaks = 0;
}

void hub_twin_change_clear(hub_twin_change_t *ch)
{
    if (!ch)
        return;
    for (int i = 0; i < HUB_TWIN__SECTIONS; i++) {
        json_decref(ch->patch[i]);
        ch->patch[i] = NULL;
    }
}

static json_t *twin_new_meta(void)
{
    return json_pack("{s:s}", "$lastUpdated", TWIN_NEVER);
}

hub_twin_t *hub_twin_new(void)
{
    hub_twin_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    for (int i = 0; i < HUB_TWIN__SECTIONS; i++) {
        t->sec[i] = json_object();
        if (!t->sec[i])
            goto fail;
    }
    t->meta[HUB_TWIN_DESIRED] = json_pack("{s:s,s:I}", "$lastUpdated", TWIN_NEVER,
                                          "$lastUpdatedVersion", (json_int_t)1);
    t->meta[HUB_TWIN_REPORTED] = twin_new_meta();
    if (!t->meta[HUB_TWIN_DESIRED] || !t->meta[HUB_TWIN_REPORTED])
        goto fail;
    t->version = 1;
    t->sver[HUB_TWIN_DESIRED] = 1;
    t->sver[HUB_TWIN_REPORTED] = 1;
    return t;
fail:
    hub_twin_free(t);
    return NULL;
}

void hub_twin_free(hub_twin_t *t)
{
    if (!t)
        return;
    for (int i = 0; i < HUB_TWIN__SECTIONS; i++) {
        json_decref(t->sec[i]);
        json_decref(t->meta[i]);
    }
    free(t);
}

uint64_t hub_twin_version(const hub_twin_t *t)
{
    return t ? t->version : 0;
}

uint64_t hub_twin_section_version(const hub_twin_t *t, hub_twin_section_t s)
{
    if (!t || (s != HUB_TWIN_DESIRED && s != HUB_TWIN_REPORTED))
        return 0;
    return t->sver[s];
}

void hub_twin_etag(const hub_twin_t *t, char buf[HUB_TWIN_ETAG_CAP])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char in[9] = { 0 };
    uint64_t v = t ? t->version : 0;
    for (int i = 0; i < 8; i++)
        in[i] = (unsigned char)(v >> (56 - 8 * i));
    /* 8 bytes → 12 characters, the last one '=' (two full groups + one of two bytes). */
    int o = 0;
    for (int i = 0; i < 9; i += 3) {
        unsigned x = ((unsigned)in[i] << 16) | ((unsigned)in[i + 1] << 8) | in[i + 2];
        buf[o++] = b64[(x >> 18) & 63];
        buf[o++] = b64[(x >> 12) & 63];
        buf[o++] = b64[(x >> 6) & 63];
        buf[o++] = i == 6 ? '=' : b64[x & 63];
    }
    buf[o] = '\0';
}

const json_t *hub_twin_section(const hub_twin_t *t, hub_twin_section_t s)
{
    if (!t || (unsigned)s >= HUB_TWIN__SECTIONS)
        return NULL;
    return t->sec[s];
}

/* ---- size and rules ------------------------------------------------------ */

/* UTF-8 characters excluding C0 and C1 control characters.  Bytes of a
 * malformed sequence count one each (they cannot occur in jansson text). */
static size_t twin_chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80)
            continue; /* continuation byte */
        if (c < 0x20)
            continue; /* C0 */
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F)
            continue; /* C1: U+0080..U+009F */
        count++;
    }
    return count;
}

size_t hub_twin_json_size(const json_t *v)
{
    if (!v)
        return 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = 0;
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) n += twin_chars(k, strlen(k)) + hub_twin_json_size(m);
        return n;
    }
    case JSON_ARRAY: {
        size_t n = 0;
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) n += hub_twin_json_size(m);
        return n;
    }
    case JSON_STRING:
        return twin_chars(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
    case JSON_REAL:
        return 8;
    case JSON_TRUE:
    case JSON_FALSE:
        return 4;
    default:
        return 0; /* null */
    }
}

typedef struct {
    const hub_twin_limits_t *l;
    char path[200];
    char *why;
    size_t cap;
} twin_walk_t;

static hub_err_t twin_fail(twin_walk_t *w, const char *fmt, const char *detail)
{
    if (w->why && w->cap) {
        char msg[160];
        snprintf(msg, sizeof(msg), fmt, detail);
        snprintf(w->why, w->cap, "%s: %s", w->path, msg);
    }
    return HUB_EARGUMENT_INVALID;
}

static const char *twin_key_problem(const char *k, size_t max_bytes, bool any_chars)
{
    size_t n = strlen(k);
    if (n == 0)
        return "empty key";
    if (n > max_bytes)
        return "key longer than the limit";
    for (size_t i = 0; i < n && !any_chars; i++) {
        unsigned char c = (unsigned char)k[i];
        if (c == '.')
            return "key contains '.'";
        if (c == '$')
            return "key contains '$'";
        if (c == ' ')
            return "key contains a space";
        if (c < 0x20)
            return "key contains a control character";
        if (c == 0xC2 && i + 1 < n && (unsigned char)k[i + 1] >= 0x80 && (unsigned char)k[i + 1] <= 0x9F)
            return "key contains a control character";
    }
    return NULL;
}

static hub_err_t twin_walk(twin_walk_t *w, const json_t *v, unsigned depth)
{
    size_t plen = strlen(w->path);
    hub_err_t e = HUB_EOK;
    if (json_is_object(v) || json_is_array(v)) {
        if (depth > w->l->max_depth) {
            char d[16];
            snprintf(d, sizeof(d), "%u", w->l->max_depth);
            return twin_fail(w, "nesting deeper than %s levels", d);
        }
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) {
            snprintf(w->path + plen, sizeof(w->path) - plen, ".%.40s", k);
            const char *bad = twin_key_problem(k, w->l->key_max_bytes,
                                               (w->l->breaks & HUB_TWIN_BREAK_KEY_CHARSET) != 0);
            if (bad) {
                e = twin_fail(w, "%s", bad);
                break;
            }
            if ((e = twin_walk(w, m, depth + 1)) != HUB_EOK)
                break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            snprintf(w->path + plen, sizeof(w->path) - plen, "[%zu]", i);
            if ((e = twin_walk(w, m, depth + 1)) != HUB_EOK)
                break;
        }
    } else if (json_is_string(v)) {
        if (json_string_length(v) > w->l->string_max_bytes)
            e = twin_fail(w, "%s", "string value longer than the limit");
    }
    if (e == HUB_EOK)
        w->path[plen] = '\0';
    return e;
}

hub_err_t hub_twin_check_section(const json_t *section, hub_twin_section_t s,
                                 const hub_twin_limits_t *l, char *why, size_t cap)
{
    hub_twin_limits_t def;
    if (!l) {
        hub_twin_limits_default(&def, 1024);
        l = &def;
    }
    if ((unsigned)s >= HUB_TWIN__SECTIONS || !json_is_object(section)) {
        if (why && cap)
            snprintf(why, cap, "%s: must be a JSON object", hub_twin_section_name(s) ? hub_twin_section_name(s) : "section");
        return HUB_EARGUMENT_INVALID;
    }
    twin_walk_t w = { .l = l, .why = why, .cap = cap };
    snprintf(w.path, sizeof(w.path), "%s", twin_names[s]);
    hub_err_t e = twin_walk(&w, section, 0);
    if (e != HUB_EOK)
        return e;
    size_t size = hub_twin_json_size(section);
    if (size > l->max_bytes[s]) {
        if (why && cap)
            snprintf(why, cap, "%s: size %zu exceeds the limit of %zu bytes", twin_names[s], size,
                     l->max_bytes[s]);
        return HUB_EARGUMENT_INVALID;
    }
    return HUB_EOK;
}

/* ---- building candidates ---------------------------------------------- */

static bool twin_readonly_key(const char *k)
{
    return strcmp(k, "$version") == 0 || strcmp(k, "$metadata") == 0 || strcmp(k, "$etag") == 0;
}

/* Deep copy without object members whose value is null (a stored twin
 * holds no nulls); root read-only keys dropped when root is true. */
static json_t *twin_copy_clean(const json_t *v, bool root)
{
    if (!json_is_object(v))
        return json_deep_copy(v);
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m) {
        if (json_is_null(m) || (root && twin_readonly_key(k)))
            continue;
        json_t *c = twin_copy_clean(m, false);
        if (!c || json_object_set_new(o, k, c) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *twin_meta_leaf(const char *ts, uint64_t ver, bool with_ver)
{
    if (with_ver)
        return json_pack("{s:s,s:I}", "$lastUpdated", ts, "$lastUpdatedVersion", (json_int_t)ver);
    return json_pack("{s:s}", "$lastUpdated", ts);
}

/* Metadata for a whole (clean) value. */
static json_t *twin_meta_for(const json_t *v, const char *ts, uint64_t ver, bool with_ver)
{
    json_t *m = twin_meta_leaf(ts, ver, with_ver);
    if (!m || !json_is_object(v))
        return m;
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)v, k, c) {
        json_t *cm = twin_meta_for(c, ts, ver, with_ver);
        if (!cm || json_object_set_new(m, k, cm) != 0) {
            json_decref(m);
            return NULL;
        }
    }
    return m;
}

static int twin_touch(json_t *meta, const char *ts, uint64_t ver, bool with_ver)
{
    if (json_object_set_new(meta, "$lastUpdated", json_string(ts)) != 0)
        return -1;
    if (with_ver &&
        json_object_set_new(meta, "$lastUpdatedVersion", json_integer((json_int_t)ver)) != 0)
        return -1;
    return 0;
}

/* JSON merge patch of `patch` into sec (and its metadata when meta is not
 * NULL), in place.  Returns 0, or -1 on allocation failure. */
static int twin_merge(json_t *sec, json_t *meta, const json_t *patch, bool root, const char *ts,
                      uint64_t ver, bool with_ver, unsigned breaks)
{
    const char *k;
    json_t *pv;
    json_object_foreach((json_t *)patch, k, pv) {
        if (root && twin_readonly_key(k))
            continue;
        if (json_is_null(pv)) {
            if (breaks & HUB_TWIN_BREAK_NULL_DELETE)
                continue;
            json_object_del(sec, k);
            if (meta)
                json_object_del(meta, k);
            continue;
        }
        json_t *cur = json_object_get(sec, k);
        if (json_is_object(pv) && json_is_object(cur)) {
            json_t *cm = meta ? json_object_get(meta, k) : NULL;
            if (meta && !json_is_object(cm)) {
                cm = twin_meta_for(cur, ts, ver, with_ver);
                if (!cm || json_object_set_new(meta, k, cm) != 0)
                    return -1;
            }
            if (twin_merge(cur, cm, pv, false, ts, ver, with_ver, breaks) != 0)
                return -1;
            if (cm && twin_touch(cm, ts, ver, with_ver) != 0)
                return -1;
            continue;
        }
        json_t *nv = twin_copy_clean(pv, false);
        if (!nv || json_object_set_new(sec, k, nv) != 0)
            return -1;
        if (meta) {
            json_t *nm = twin_meta_for(nv, ts, ver, with_ver);
            if (!nm || json_object_set_new(meta, k, nm) != 0)
                return -1;
        }
    }
    return 0;
}

/* The effective patch as applied: read-only root keys dropped. */
static json_t *twin_effective(const json_t *patch)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
        if (twin_readonly_key(k))
            continue;
        if (json_object_set_new(o, k, json_deep_copy(v)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

typedef struct {
    bool used;
    json_t *sec;
    json_t *meta;
    json_t *patch;
} twin_cand_t;

static void twin_cand_clear(twin_cand_t *c)
{
    for (int i = 0; i < HUB_TWIN__SECTIONS; i++) {
        json_decref(c[i].sec);
        json_decref(c[i].meta);
        json_decref(c[i].patch);
        c[i] = (twin_cand_t){ 0 };
    }
}

static void twin_err(hub_twin_change_t *ch, const char *fmt, const char *detail)
{
    if (ch)
        snprintf(ch->error, sizeof(ch->error), fmt, detail);
}

/* Build the candidate for one section: a patch (replace false) or a new
 * document (replace true). */
static hub_err_t twin_prepare(const hub_twin_t *t, const hub_twin_op_t *op, hub_twin_section_t s,
                              const json_t *in, bool replace, twin_cand_t *cand,
                              hub_twin_change_t *ch)
{
    if (!json_is_object(in)) {
        twin_err(ch, "%s must be a JSON object", twin_names[s]);
        return HUB_EARGUMENT_INVALID;
    }
    hub_twin_limits_t def;
    const hub_twin_limits_t *l = op->limits;
    if (!l) {
        hub_twin_limits_default(&def, 1024);
        l = &def;
    }
    char ts[40];
    sim_time_t stamp = op->now + ((l->breaks & HUB_TWIN_BREAK_METADATA_TIME) ? SIM_SEC : 0);
    sim_utc_format(op->epoch_unix, stamp, ts, sizeof(ts));
    bool has_meta = s != HUB_TWIN_TAGS;
    bool with_ver = s == HUB_TWIN_DESIRED;
    uint64_t newver = t->sver[s] + 1;
    twin_cand_t *c = &cand[s];
    c->used = true;
    if (replace) {
        c->sec = twin_copy_clean(in, true);
        if (c->sec && has_meta)
            c->meta = twin_meta_for(c->sec, ts, newver, with_ver);
        c->patch = c->sec ? json_deep_copy(c->sec) : NULL;
        if (!c->sec || (has_meta && !c->meta) || !c->patch)
            return HUB_ESERVER_ERROR;
    } else {
        c->sec = json_deep_copy(t->sec[s]);
        c->meta = has_meta ? json_deep_copy(t->meta[s]) : NULL;
        c->patch = twin_effective(in);
        if (!c->sec || (has_meta && !c->meta) || !c->patch)
            return HUB_ESERVER_ERROR;
        if (twin_merge(c->sec, c->meta, in, true, ts, newver, with_ver, l->breaks) != 0)
            return HUB_ESERVER_ERROR;
        if (has_meta && twin_touch(c->meta, ts, newver, with_ver) != 0)
            return HUB_ESERVER_ERROR;
    }
    char why[sizeof(ch->error)];
    hub_err_t e = hub_twin_check_section(c->sec, s, l, why, sizeof(why));
    if (e != HUB_EOK) {
        twin_err(ch, "%s", why);
        return e;
    }
    return HUB_EOK;
}

static hub_err_t twin_check_if_match(const hub_twin_t *t, const hub_twin_op_t *op, hub_twin_change_t *ch)
{
    const char *m = op->if_match;
    if (!m || !*m || strcmp(m, "*") == 0)
        return HUB_EOK;
    size_t n = strlen(m);
    if (n >= 2 && m[0] == '"' && m[n - 1] == '"') {
        m++;
        n -= 2;
    }
    char etag[HUB_TWIN_ETAG_CAP];
    hub_twin_etag(t, etag);
    if (n == strlen(etag) && memcmp(m, etag, n) == 0)
        return HUB_EOK;
    if (ch)
        snprintf(ch->error, sizeof(ch->error), "If-Match %.64s does not match the twin etag \"%s\"",
                 op->if_match, etag);
    return HUB_EPRECONDITION_FAILED;
}

/* Swap the candidates in and fill the change. */
static hub_err_t twin_commit(hub_twin_t *t, twin_cand_t *cand, bool replaced, unsigned breaks,
                             hub_twin_change_t *ch)
{
    /* The mutation keeps the reported $version where it was. */
    bool keep_reported = (breaks & HUB_TWIN_BREAK_REPORTED_VERSION) != 0;
    for (int s = 0; s < HUB_TWIN__SECTIONS; s++) {
        if (!cand[s].used || s == HUB_TWIN_TAGS || (s == HUB_TWIN_REPORTED && keep_reported))
            continue;
        if (json_object_set_new(cand[s].patch, "$version", json_integer((json_int_t)(t->sver[s] + 1))) != 0)
            return HUB_ESERVER_ERROR;
    }
    t->version++;
    for (int s = 0; s < HUB_TWIN__SECTIONS; s++) {
        if (!cand[s].used)
            continue;
        json_decref(t->sec[s]);
        t->sec[s] = cand[s].sec;
        cand[s].sec = NULL;
        if (cand[s].meta) {
            json_decref(t->meta[s]);
            t->meta[s] = cand[s].meta;
            cand[s].meta = NULL;
        }
        if (s != HUB_TWIN_TAGS && !(s == HUB_TWIN_REPORTED && keep_reported))
            t->sver[s]++;
        if (ch) {
            ch->changed |= HUB_TWIN_BIT(s);
            ch->patch[s] = cand[s].patch;
            cand[s].patch = NULL;
        }
    }
    if (ch) {
        ch->replaced = replaced;
        ch->version = t->version;
        ch->desired_version = t->sver[HUB_TWIN_DESIRED];
        ch->reported_version = t->sver[HUB_TWIN_REPORTED];
    }
    return HUB_EOK;
}

static void twin_change_init(hub_twin_change_t *ch)
{
    if (ch)
        memset(ch, 0, sizeof(*ch));
}

static hub_err_t twin_one(hub_twin_t *t, const hub_twin_op_t *op, hub_twin_section_t s,
                          const json_t *in, bool replace, hub_twin_change_t *ch)
{
    twin_change_init(ch);
    if (!t || !op || !in)
        return HUB_EARGUMENT_NULL;
    if ((unsigned)s >= HUB_TWIN__SECTIONS) {
        twin_err(ch, "%s", "no such twin section");
        return HUB_EARGUMENT_INVALID;
    }
    hub_err_t e = twin_check_if_match(t, op, ch);
    if (e != HUB_EOK)
        return e;
    twin_cand_t cand[HUB_TWIN__SECTIONS] = { 0 };
    e = twin_prepare(t, op, s, in, replace, cand, ch);
    if (e == HUB_EOK)
        e = twin_commit(t, cand, replace, op->limits ? op->limits->breaks : 0u, ch);
    twin_cand_clear(cand);
    return e;
}

hub_err_t hub_twin_patch_section(hub_twin_t *t, const hub_twin_op_t *op, hub_twin_section_t s,
                                 const json_t *patch, hub_twin_change_t *ch)
{
    return twin_one(t, op, s, patch, false, ch);
}

hub_err_t hub_twin_replace_section(hub_twin_t *t, const hub_twin_op_t *op, hub_twin_section_t s,
                                   const json_t *doc, hub_twin_change_t *ch)
{
    return twin_one(t, op, s, doc, true, ch);
}

/* Service-level document: tags and properties.desired. */
static hub_err_t twin_service(hub_twin_t *t, const hub_twin_op_t *op, const json_t *doc,
                              bool replace, hub_twin_change_t *ch)
{
    twin_change_init(ch);
    if (!t || !op || !doc)
        return HUB_EARGUMENT_NULL;
    if (!json_is_object(doc)) {
        twin_err(ch, "%s", "the twin must be a JSON object");
        return HUB_EARGUMENT_INVALID;
    }
    json_t *tags = json_object_get(doc, "tags");
    json_t *props = json_object_get(doc, "properties");
    json_t *desired = NULL;
    if (props && !json_is_null(props)) {
        if (!json_is_object(props)) {
            twin_err(ch, "%s", "properties must be a JSON object");
            return HUB_EARGUMENT_INVALID;
        }
        if (json_object_get(props, "reported")) {
            twin_err(ch, "%s", "reported properties are read-only for the service");
            return HUB_EARGUMENT_INVALID;
        }
        desired = json_object_get(props, "desired");
    }
    if (tags && !json_is_null(tags) && !json_is_object(tags)) {
        twin_err(ch, "%s", "tags must be a JSON object");
        return HUB_EARGUMENT_INVALID;
    }
    if (desired && !json_is_null(desired) && !json_is_object(desired)) {
        twin_err(ch, "%s", "properties.desired must be a JSON object");
        return HUB_EARGUMENT_INVALID;
    }
    hub_err_t e = twin_check_if_match(t, op, ch);
    if (e != HUB_EOK)
        return e;
    json_t *empty = json_object();
    if (!empty)
        return HUB_ESERVER_ERROR;
    twin_cand_t cand[HUB_TWIN__SECTIONS] = { 0 };
    /* A PUT replaces both (absent = empty); a PATCH touches what it names,
     * and a null section in a PATCH empties it. */
    const json_t *in[HUB_TWIN__SECTIONS] = { tags, desired, NULL };
    for (int s = 0; s < 2 && e == HUB_EOK; s++) {
        const json_t *v = in[s];
        if (replace) {
            e = twin_prepare(t, op, (hub_twin_section_t)s, json_is_object(v) ? v : empty, true, cand, ch);
        } else if (json_is_null(v)) {
            e = twin_prepare(t, op, (hub_twin_section_t)s, empty, true, cand, ch);
        } else if (v) {
            e = twin_prepare(t, op, (hub_twin_section_t)s, v, false, cand, ch);
        }
    }
    if (e == HUB_EOK)
        e = twin_commit(t, cand, replace, op->limits ? op->limits->breaks : 0u, ch);
    twin_cand_clear(cand);
    json_decref(empty);
    return e;
}

hub_err_t hub_twin_update(hub_twin_t *t, const hub_twin_op_t *op, const json_t *twin_patch,
                          hub_twin_change_t *ch)
{
    return twin_service(t, op, twin_patch, false, ch);
}

hub_err_t hub_twin_replace(hub_twin_t *t, const hub_twin_op_t *op, const json_t *twin_doc,
                           hub_twin_change_t *ch)
{
    return twin_service(t, op, twin_doc, true, ch);
}

/* ---- serialization -------------------------------------------------------- */

static json_t *twin_section_out(const hub_twin_t *t, hub_twin_section_t s, bool with_meta)
{
    json_t *o = json_deep_copy(t->sec[s]);
    if (!o)
        return NULL;
    if (with_meta && json_object_set_new(o, "$metadata", json_deep_copy(t->meta[s])) != 0)
        goto fail;
    if (json_object_set_new(o, "$version", json_integer((json_int_t)t->sver[s])) != 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *hub_twin_device_json(const hub_twin_t *t)
{
    if (!t)
        return NULL;
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "desired", twin_section_out(t, HUB_TWIN_DESIRED, false)) != 0 ||
        json_object_set_new(o, "reported", twin_section_out(t, HUB_TWIN_REPORTED, false)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *hub_twin_service_json(const hub_twin_t *t, const char *device_id, const char *module_id)
{
    if (!t)
        return NULL;
    char etag[HUB_TWIN_ETAG_CAP];
    hub_twin_etag(t, etag);
    json_t *o = json_object();
    json_t *props = json_object();
    if (!o || !props)
        goto fail;
    if (json_object_set_new(o, "deviceId", json_string(device_id ? device_id : "")) != 0)
        goto fail;
    if (module_id && json_object_set_new(o, "moduleId", json_string(module_id)) != 0)
        goto fail;
    if (json_object_set_new(o, "etag", json_string(etag)) != 0 ||
        json_object_set_new(o, "version", json_integer((json_int_t)t->version)) != 0 ||
        json_object_set_new(o, "tags", json_deep_copy(t->sec[HUB_TWIN_TAGS])) != 0)
        goto fail;
    if (json_object_set_new(props, "desired", twin_section_out(t, HUB_TWIN_DESIRED, true)) != 0 ||
        json_object_set_new(props, "reported", twin_section_out(t, HUB_TWIN_REPORTED, true)) != 0)
        goto fail;
    /* set_new takes the reference even when it fails */
    if (json_object_set_new(o, "properties", props) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
fail:
    json_decref(props);
    json_decref(o);
    return NULL;
}

json_t *hub_twin_change_event_body(const hub_twin_change_t *ch)
{
    if (!ch)
        return NULL;
    json_t *o = json_pack("{s:I}", "version", (json_int_t)ch->version);
    if (!o)
        return NULL;
    if (ch->patch[HUB_TWIN_TAGS] &&
        json_object_set_new(o, "tags", json_deep_copy(ch->patch[HUB_TWIN_TAGS])) != 0)
        goto fail;
    if (ch->patch[HUB_TWIN_DESIRED] || ch->patch[HUB_TWIN_REPORTED]) {
        json_t *props = json_object();
        if (!props || json_object_set_new(o, "properties", props) != 0)
            goto fail;
        for (int s = HUB_TWIN_DESIRED; s <= HUB_TWIN_REPORTED; s++) {
            if (ch->patch[s] &&
                json_object_set_new(props, twin_names[s], json_deep_copy(ch->patch[s])) != 0)
                goto fail;
        }
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}
