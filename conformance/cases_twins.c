/* Conformance cases for twins: versions, merge patches, If-Match, size/depth/key limits, metadata, desired pushes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/case.h"
#include "sim/simtime.h"

/* Literals from NOTES.md "Twins": desired 32 KB = 32768 by the size rule
 * (keys and string values in characters), depth 10, keys 1 KB with no '.',
 * '$' or space, string values 4 KB = 4096, 412 PreconditionFailed (412001). */

#define SEC ((sim_time_t)1000000000)

static json_t *get_twin(conf_ctx_t *c, const char *dev)
{
    json_t *tw = NULL;
    target_status_t st;
    c->ops->twin_get(c->t, dev, NULL, &tw, &st);
    if (!conf_status(c, &st, 200, 0, "twin GET")) {
        json_decref(tw);
        return NULL;
    }
    return tw;
}

static json_t *section(json_t *tw, const char *name)
{
    return json_object_get(json_object_get(tw, "properties"), name);
}

static long long desired_version(conf_ctx_t *c, const char *dev)
{
    json_t *tw = get_twin(c, dev);
    long long v = tw ? (long long)json_integer_value(json_object_get(section(tw, "desired"), "$version")) : -1;
    json_decref(tw);
    return v;
}

static bool patch(conf_ctx_t *c, const char *dev, const char *json, const char *if_match,
                  target_status_t *st)
{
    char etag[64];
    c->ops->twin_patch(c->t, dev, NULL, json, if_match, etag, st);
    return st->http == 200;
}

/* ---- TWIN-VERSION --------------------------------------------------------------- */

static void version_desired(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    long long v0 = desired_version(c, "d1");
    target_status_t st;
    patch(c, "d1", "{\"properties\":{\"desired\":{\"a\":1}}}", NULL, &st);
    if (!conf_status(c, &st, 200, 0, "first desired patch"))
        return;
    long long v1 = desired_version(c, "d1");
    patch(c, "d1", "{\"properties\":{\"desired\":{\"a\":2}}}", NULL, &st);
    if (!conf_status(c, &st, 200, 0, "second desired patch"))
        return;
    long long v2 = desired_version(c, "d1");
    conf_check(c, v1 == v0 + 1 && v2 == v1 + 1, "desired $version grows by one per change",
               "$version %lld -> %lld -> %lld", v0, v1, v2);
}

static void version_reported(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return;
    uint64_t v1 = 0, v2 = 0;
    target_status_t st;
    c->ops->device_twin_patch_reported(c->t, conn, "{\"r\":1}", &v1, &st);
    if (!conf_status(c, &st, 200, 0, "first reported patch"))
        return;
    c->ops->device_twin_patch_reported(c->t, conn, "{\"r\":2}", &v2, &st);
    if (!conf_status(c, &st, 200, 0, "second reported patch"))
        return;
    conf_check(c, v2 == v1 + 1, "reported $version grows by one per change", "%llu -> %llu",
               (unsigned long long)v1, (unsigned long long)v2);
}

/* ---- TWIN-PATCH-MERGE -------------------------------------------------------------- */

static void merge(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_status_t st;
    if (!patch(c, "d1", "{\"properties\":{\"desired\":{\"a\":{\"b\":1,\"c\":2},\"keep\":true}}}", NULL, &st) &&
        !conf_status(c, &st, 200, 0, "first patch"))
        return;
    if (!patch(c, "d1", "{\"properties\":{\"desired\":{\"a\":{\"b\":null,\"d\":3}}}}", NULL, &st) &&
        !conf_status(c, &st, 200, 0, "patch with a null member"))
        return;
    json_t *tw = get_twin(c, "d1");
    if (!tw)
        return;
    json_t *a = json_object_get(section(tw, "desired"), "a");
    json_t *want = json_pack("{s:i,s:i}", "c", 2, "d", 3);
    bool ok = a && want && json_equal(a, want) &&
              json_is_true(json_object_get(section(tw, "desired"), "keep"));
    char *got = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    conf_check(c, ok, "desired.a = {\"c\":2,\"d\":3} and keep untouched", "desired.a = %s",
               got ? got : "(absent)");
    free(got);
    json_decref(want);
    json_decref(tw);
}

/* ---- TWIN-IF-MATCH ------------------------------------------------------------------- */

static void if_match(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    json_t *tw = get_twin(c, "d1");
    if (!tw)
        return;
    char etag[80];
    const char *cur = json_string_value(json_object_get(tw, "etag"));
    snprintf(etag, sizeof etag, "\"%s\"", cur ? cur : "");
    json_decref(tw);
    target_status_t st;
    patch(c, "d1", "{\"properties\":{\"desired\":{\"x\":1}}}", "\"AAAAAAAAAHs=\"", &st);
    if (!conf_status(c, &st, 412, 412001, "patch with a stale If-Match etag"))
        return;
    tw = get_twin(c, "d1");
    bool unchanged = tw && !json_object_get(section(tw, "desired"), "x");
    json_decref(tw);
    if (!conf_check(c, unchanged, "the refused patch changed nothing", "desired.x was set"))
        return;
    patch(c, "d1", "{\"properties\":{\"desired\":{\"x\":2}}}", etag, &st);
    if (!conf_status(c, &st, 200, 0, "patch with the current etag"))
        return;
    patch(c, "d1", "{\"properties\":{\"desired\":{\"x\":3}}}", "*", &st);
    conf_status(c, &st, 200, 0, "patch with If-Match *");
}

static void if_match_put(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_status_t st;
    char etag[64];
    c->ops->twin_put(c->t, "d1", NULL, "{\"tags\":{\"a\":1},\"properties\":{\"desired\":{\"x\":1}}}",
                     "\"AAAAAAAAAHs=\"", etag, &st);
    if (!conf_status(c, &st, 412, 412001, "twin PUT with a stale If-Match etag"))
        return;
    json_t *tw = get_twin(c, "d1");
    bool unchanged = tw && !json_object_get(section(tw, "desired"), "x") &&
                     !json_object_get(json_object_get(tw, "tags"), "a");
    json_decref(tw);
    if (!conf_check(c, unchanged, "the refused PUT changed nothing", "the twin changed"))
        return;
    c->ops->twin_put(c->t, "d1", NULL, "{\"tags\":{\"a\":1},\"properties\":{\"desired\":{\"x\":1}}}",
                     "*", etag, &st);
    conf_status(c, &st, 200, 0, "twin PUT with If-Match *");
}

/* ---- TWIN-SIZE-LIMIT / TWIN-DEPTH-LIMIT / TWIN-KEY-RULES ---------------------------------- */

/* Eight members k0..k7 whose key+value characters sum to `total`, in the
 * desired properties or the tags. */
static void section_size(conf_ctx_t *c, const char *sec, size_t total, bool ok)
{
    if (!conf_create(c, "d1", NULL))
        return;
    json_t *d = json_object();
    size_t per = total / 8;
    for (int i = 0; i < 8; i++) {
        size_t vlen = per - 2 + (i == 7 ? total % 8 : 0);
        char *v = malloc(vlen + 1);
        if (!v) {
            json_decref(d);
            conf_error(c, "out of memory");
            return;
        }
        memset(v, 'a' + i, vlen);
        v[vlen] = '\0';
        char k[4];
        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(d, k, json_string(v));
        free(v);
    }
    json_t *p = strcmp(sec, "tags") == 0 ? json_pack("{s:o}", "tags", d)
                                          : json_pack("{s:{s:o}}", "properties", sec, d);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    target_status_t st;
    patch(c, "d1", text, NULL, &st);
    free(text);
    char what[80];
    snprintf(what, sizeof what, "%s of %zu bytes by the size rule", sec, total);
    if (ok)
        conf_status(c, &st, 200, 0, what);
    else
        conf_refused(c, &st, 400, what);
}

static void size_exact(conf_ctx_t *c) { section_size(c, "desired", 32768, true); }
static void size_over(conf_ctx_t *c) { section_size(c, "desired", 32769, false); }
static void tags_exact(conf_ctx_t *c) { section_size(c, "tags", 8192, true); }
static void tags_over(conf_ctx_t *c) { section_size(c, "tags", 8193, false); }

static void depth(conf_ctx_t *c, int levels, bool ok)
{
    if (!conf_create(c, "d1", NULL))
        return;
    json_t *inner = json_pack("{s:s}", "k", "v");
    for (int i = levels - 1; i >= 1; i--) {
        char k[16];
        snprintf(k, sizeof k, "l%d", i);
        json_t *o = json_object();
        json_object_set_new(o, k, inner);
        inner = o;
    }
    /* `levels` objects below the section root, the innermost holding k:"v" */
    json_t *p = json_pack("{s:{s:{s:o}}}", "properties", "desired", "l0", inner);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    target_status_t st;
    patch(c, "d1", text, NULL, &st);
    free(text);
    char what[80];
    snprintf(what, sizeof what, "desired nested %d objects deep", levels);
    if (ok)
        conf_status(c, &st, 200, 0, what);
    else
        conf_refused(c, &st, 400, what);
}

static void depth_10(conf_ctx_t *c) { depth(c, 10, true); }
static void depth_11(conf_ctx_t *c) { depth(c, 11, false); }

static void key_try(conf_ctx_t *c, const char *key, bool ok, const char *what)
{
    if (!conf_create(c, "d1", NULL))
        return;
    json_t *p = json_pack("{s:{s:{s:i}}}", "properties", "desired", key, 1);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    target_status_t st;
    patch(c, "d1", text, NULL, &st);
    free(text);
    if (ok)
        conf_status(c, &st, 200, 0, what);
    else
        conf_refused(c, &st, 400, what);
}

static void key_dot(conf_ctx_t *c) { key_try(c, "a.b", false, "key with '.'"); }
static void key_dollar(conf_ctx_t *c) { key_try(c, "a$b", false, "key with '$'"); }
static void key_space(conf_ctx_t *c) { key_try(c, "a b", false, "key with a space"); }
static void key_ok(conf_ctx_t *c) { key_try(c, "a-b_c", true, "key a-b_c"); }

static void key_len(conf_ctx_t *c, size_t n, bool ok)
{
    char *k = malloc(n + 1);
    if (!k) {
        conf_error(c, "out of memory");
        return;
    }
    memset(k, 'k', n);
    k[n] = '\0';
    char what[64];
    snprintf(what, sizeof what, "key of %zu characters", n);
    key_try(c, k, ok, what);
    free(k);
}

static void key_1024(conf_ctx_t *c) { key_len(c, 1024, true); }
static void key_1025(conf_ctx_t *c) { key_len(c, 1025, false); }

static void strval(conf_ctx_t *c, size_t n, bool ok)
{
    if (!conf_create(c, "d1", NULL))
        return;
    char *v = malloc(n + 1);
    if (!v) {
        conf_error(c, "out of memory");
        return;
    }
    memset(v, 's', n);
    v[n] = '\0';
    json_t *p = json_pack("{s:{s:{s:s}}}", "properties", "desired", "s", v);
    free(v);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    target_status_t st;
    patch(c, "d1", text, NULL, &st);
    free(text);
    char what[64];
    snprintf(what, sizeof what, "string value of %zu characters", n);
    if (ok)
        conf_status(c, &st, 200, 0, what);
    else
        conf_refused(c, &st, 400, what);
}

static void str_4096(conf_ctx_t *c) { strval(c, 4096, true); }
static void str_4097(conf_ctx_t *c) { strval(c, 4097, false); }

/* ---- TWIN-METADATA / TWIN-DESIRED-PUSH ------------------------------------------------------ */

static void metadata(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    conf_advance(c, 90 * SEC);
    target_status_t st;
    /* the instant of the change as the target tells time: exactly 90 s into
     * a virtual run, a window of wall seconds on a live hub */
    int64_t before = c->ops->unix_now(c->t);
    patch(c, "d1", "{\"properties\":{\"desired\":{\"temp\":21}}}", NULL, &st);
    int64_t after = c->ops->unix_now(c->t);
    if (!conf_status(c, &st, 200, 0, "desired patch 90 s into the run"))
        return;
    json_t *tw = get_twin(c, "d1");
    if (!tw)
        return;
    const char *lu = json_string_value(json_object_get(
        json_object_get(json_object_get(section(tw, "desired"), "$metadata"), "temp"), "$lastUpdated"));
    int64_t at = 0;
    uint32_t nanos = 0;
    bool parsed = lu && sim_utc_parse(lu, &at, &nanos) == HS_EOK;
    conf_check(c, parsed && at >= before && at <= after,
               "$metadata.temp.$lastUpdated is the instant of the change (between the target's clock before and after the patch)",
               "%s (window %lld..%lld)", lu ? lu : "(absent)", (long long)before, (long long)after);
    json_decref(tw);
}

static void desired_push(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_DESIRED, &conn))
        return;
    target_event_t ev;
    while (c->ops->device_next_event(c->t, conn, TARGET_EV_DESIRED, &ev)) {
    } /* anything pushed on subscribe is not this case's business */
    target_status_t st;
    patch(c, "d1", "{\"properties\":{\"desired\":{\"p\":1}}}", NULL, &st);
    if (!conf_status(c, &st, 200, 0, "first desired patch"))
        return;
    patch(c, "d1", "{\"properties\":{\"desired\":{\"p\":2}}}", NULL, &st);
    if (!conf_status(c, &st, 200, 0, "second desired patch"))
        return;
    long long v = desired_version(c, "d1");
    uint64_t v1 = 0, v2 = 0;
    bool one = c->ops->device_next_event(c->t, conn, TARGET_EV_DESIRED, &ev);
    bool first_ok = one && strstr(ev.payload, "\"p\":1") != NULL;
    if (one)
        v1 = ev.version;
    bool two = c->ops->device_next_event(c->t, conn, TARGET_EV_DESIRED, &ev);
    bool second_ok = two && strstr(ev.payload, "\"p\":2") != NULL;
    if (two)
        v2 = ev.version;
    if (!conf_check(c, one && two, "two desired pushes", "%d push(es)", (int)one + (int)two))
        return;
    conf_check(c, first_ok && second_ok && v1 + 1 == v2 && (long long)v2 == v,
               "pushes in version order, stamped with the new $version", "versions %llu, %llu (twin %lld)",
               (unsigned long long)v1, (unsigned long long)v2, v);
}

const conf_case_t conf_cases_twins[] = {
    { "TWIN-VERSION", "desired $version +1 per service patch", version_desired, 0, NULL, false },
    { "TWIN-VERSION", "reported $version +1 per device patch", version_reported, 0, NULL, false },
    { "TWIN-PATCH-MERGE", "nested merge, null deletes", merge, 0, NULL, false },
    { "TWIN-IF-MATCH", "stale etag 412 and no change; current etag and * accepted", if_match, 0, NULL, false },
    { "TWIN-IF-MATCH", "PUT with a stale etag 412 and no change; * accepted", if_match_put, 0, NULL, false },
    { "TWIN-SIZE-LIMIT", "desired of exactly 32768 bytes accepted", size_exact, 0, NULL, false },
    { "TWIN-SIZE-LIMIT", "desired of 32769 bytes refused", size_over, 0, NULL, false },
    { "TWIN-SIZE-LIMIT", "tags of exactly 8192 bytes accepted", tags_exact, 0, NULL, false },
    { "TWIN-SIZE-LIMIT", "tags of 8193 bytes refused", tags_over, 0, NULL, false },
    { "TWIN-DEPTH-LIMIT", "10 nested levels accepted", depth_10, 0, NULL, false },
    { "TWIN-DEPTH-LIMIT", "11 nested levels refused", depth_11, 0, NULL, false },
    { "TWIN-KEY-RULES", "key with '.' refused", key_dot, 0, NULL, false },
    { "TWIN-KEY-RULES", "key with '$' refused", key_dollar, 0, NULL, false },
    { "TWIN-KEY-RULES", "key with a space refused", key_space, 0, NULL, false },
    { "TWIN-KEY-RULES", "plain key accepted", key_ok, 0, NULL, false },
    { "TWIN-KEY-RULES", "key of 1024 characters accepted", key_1024, 0, NULL, false },
    { "TWIN-KEY-RULES", "key of 1025 characters refused", key_1025, 0, NULL, false },
    { "TWIN-KEY-RULES", "string value of 4096 characters accepted", str_4096, 0, NULL, false },
    { "TWIN-KEY-RULES", "string value of 4097 characters refused", str_4097, 0, NULL, false },
    { "TWIN-METADATA", "$lastUpdated of a changed leaf", metadata, 0, NULL, false },
    { "TWIN-DESIRED-PUSH", "each desired patch pushed in version order", desired_push, 0, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
