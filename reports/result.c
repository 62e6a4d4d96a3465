/* Result model storage: sorted, copied, deterministic; every insertion keeps its array ordered by stable keys. */
#include "result_internal.h"

#include <stdlib.h>
#include <string.h>

/* Exit codes as in tools/exit_codes.h; repeated here because reports/ sits
 * below tools/ and must not include it. */
enum { EXIT_OK = 0, EXIT_CHECK = 1, EXIT_HARNESS = 3 };

static const char *const verdict_names[] = {
#define REPORT_VERDICT_NAME(e, name, what) name,
    REPORT_VERDICT_MAP(REPORT_VERDICT_NAME)
#undef REPORT_VERDICT_NAME
};

const char *report_verdict_name(report_verdict_t v)
{
    return (unsigned)v < REPORT_VERDICT_COUNT ? verdict_names[v] : "?";
}

hs_err_t report_verdict_parse(const char *name, report_verdict_t *out)
{
    for (unsigned i = 0; name && i < REPORT_VERDICT_COUNT; i++) {
        if (strcmp(name, verdict_names[i]) == 0) {
            *out = (report_verdict_t)i;
            return HS_EOK;
        }
    }
    return HS_EINVAL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* strdup that reports failure through *ok (so a chain of copies can be
 * checked once). */
static char *dup_opt(const char *s, int *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = 0;
    return d;
}

report_result_t *report_result_new(report_kind_t kind, const char *name)
{
    report_result_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = kind;
    r->name = strdup(name ? name : (kind == REPORT_KIND_SCENARIO ? "scenario" : "conformance"));
    if (!r->name) {
        free(r);
        return NULL;
    }
    return r;
}

static void free_case(report_case_t *c)
{
    free((char *)c->id);
    free((char *)c->area);
    free((char *)c->name);
    free((char *)c->level);
    free((char *)c->rule_text);
    free((char *)c->spec_ref);
    free((char *)c->expected);
    free((char *)c->observed);
    free((char *)c->message);
    free((char *)c->trace_excerpt);
    free((char *)c->baseline);
    free((char *)c->tolerance);
}

void report_result_free(report_result_t *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->target);
    for (size_t i = 0; i < r->nknobs; i++) {
        free(r->knobs[i].key);
        free(r->knobs[i].value);
    }
    free(r->knobs);
    for (size_t i = 0; i < r->ninfo; i++) {
        free(r->info[i].key);
        free(r->info[i].value);
    }
    free(r->info);
    for (size_t i = 0; i < r->ncases; i++)
        free_case(&r->cases[i]);
    free(r->cases);
    for (size_t i = 0; i < r->ncounters; i++) {
        free(r->counters[i].name);
        free(r->counters[i].value);
    }
    free(r->counters);
    for (size_t i = 0; i < r->nhists; i++) {
        free(r->hists[i].name);
        report_hist_free(r->hists[i].hist);
    }
    free(r->hists);
    for (size_t i = 0; i < r->nseries; i++) {
        free(r->series[i].name);
        free(r->series[i].unit);
        free(r->series[i].points);
    }
    free(r->series);
    for (size_t i = 0; i < r->nkills; i++) {
        free(r->kills[i].switch_id);
        free(r->kills[i].rule_id);
        free(r->kills[i].by_case);
        free(r->kills[i].note);
    }
    free(r->kills);
    free(r);
}

void report_result_set_seed(report_result_t *r, uint64_t seed)
{
    r->seed = seed;
    r->has_seed = 1;
}

hs_err_t report_result_set_target(report_result_t *r, const char *target)
{
    char *t = dup_or_null(target);
    if (target && !t)
        return HS_ENOMEM;
    free(r->target);
    r->target = t;
    return HS_EOK;
}

void report_result_set_catalogue_version(report_result_t *r, int version)
{
    r->catalogue_version = version > 0 ? version : 0;
}

void report_result_set_trace_hash(report_result_t *r, uint64_t hash)
{
    r->trace_hash = hash;
    r->has_trace_hash = 1;
}

void report_result_set_strict(report_result_t *r, int strict)
{
    r->strict = strict ? 1 : 0;
}

void report_result_set_virtual(report_result_t *r, int64_t epoch_unix, sim_time_t duration)
{
    r->epoch_unix = epoch_unix;
    r->virtual_duration = duration;
    r->has_virtual = 1;
}

void report_result_set_wallclock(report_result_t *r, int64_t started_ms, int64_t finished_ms)
{
    r->wall_started_ms = started_ms;
    r->wall_finished_ms = finished_ms;
    r->has_wallclock = 1;
}

/* Binary search in an array of elements whose first member is a char *
 * key; returns the index of the match or the insertion point (*found). */
static size_t find_sorted(const void *base, size_t n, size_t size, const char *key, int *found)
{
    size_t lo = 0, hi = n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = *(char *const *)(const void *)((const char *)base + mid * size);
        int c = strcmp(k, key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Make room for one element at index pos of a sorted array. */
static hs_err_t insert_at(void **base, size_t *n, size_t size, size_t pos)
{
    void *p = realloc(*base, (*n + 1) * size);
    if (!p)
        return HS_ENOMEM;
    *base = p;
    memmove((char *)p + (pos + 1) * size, (char *)p + pos * size, (*n - pos) * size);
    (*n)++;
    return HS_EOK;
}

static hs_err_t set_kv(report_kv_t **arr, size_t *n, const char *key, const char *value)
{
    if (!key || !value)
        return HS_EINVAL;
    int found;
    size_t pos = find_sorted(*arr, *n, sizeof **arr, key, &found);
    char *v = strdup(value);
    if (!v)
        return HS_ENOMEM;
    if (found) {
        free((*arr)[pos].value);
        (*arr)[pos].value = v;
        return HS_EOK;
    }
    char *k = strdup(key);
    if (!k || insert_at((void **)arr, n, sizeof **arr, pos)) {
        free(k);
        free(v);
        return HS_ENOMEM;
    }
    (*arr)[pos].key = k;
    (*arr)[pos].value = v;
    return HS_EOK;
}

hs_err_t report_result_set_knob(report_result_t *r, const char *key, const char *value)
{
    return set_kv(&r->knobs, &r->nknobs, key, value);
}

hs_err_t report_result_set_info(report_result_t *r, const char *key, const char *value)
{
    return set_kv(&r->info, &r->ninfo, key, value);
}

static int strcmp_null(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int case_cmp(const report_case_t *a, const report_case_t *b)
{
    int c = strcmp(a->area, b->area);
    if (!c)
        c = strcmp(a->id, b->id);
    if (!c)
        c = strcmp_null(a->name, b->name);
    return c;
}

hs_err_t report_result_add_case(report_result_t *r, const report_case_t *c)
{
    if (!c || !c->id || !*c->id || !c->area || !*c->area || (unsigned)c->verdict >= REPORT_VERDICT_COUNT)
        return HS_EINVAL;
    int ok = 1;
    report_case_t k = {
        .id = dup_opt(c->id, &ok),
        .area = dup_opt(c->area, &ok),
        .name = dup_opt(c->name, &ok),
        .verdict = c->verdict,
        .level = dup_opt(c->level, &ok),
        .rule_text = dup_opt(c->rule_text, &ok),
        .spec_ref = dup_opt(c->spec_ref, &ok),
        .expected = dup_opt(c->expected, &ok),
        .observed = dup_opt(c->observed, &ok),
        .message = dup_opt(c->message, &ok),
        .trace_excerpt = dup_opt(c->trace_excerpt, &ok),
        .baseline = dup_opt(c->baseline, &ok),
        .duration = c->duration,
        .tolerance = dup_opt(c->tolerance, &ok),
    };
    if (!ok) {
        free_case(&k);
        return HS_ENOMEM;
    }
    /* Upper bound: equal keys keep insertion order. */
    size_t lo = 0, hi = r->ncases;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (case_cmp(&r->cases[mid], &k) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (insert_at((void **)&r->cases, &r->ncases, sizeof *r->cases, lo)) {
        free_case(&k);
        return HS_ENOMEM;
    }
    r->cases[lo] = k;
    return HS_EOK;
}

size_t report_result_case_count(const report_result_t *r)
{
    return r->ncases;
}

const report_case_t *report_result_case_at(const report_result_t *r, size_t i)
{
    return i < r->ncases ? &r->cases[i] : NULL;
}

size_t report_result_verdict_count(const report_result_t *r, report_verdict_t v)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ncases; i++)
        n += r->cases[i].verdict == v;
    return n;
}

const char **report_result_areas(const report_result_t *r, size_t *n)
{
    const char **out = calloc(r->ncases ? r->ncases : 1, sizeof *out);
    *n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < r->ncases; i++)
        if (!*n || strcmp(out[*n - 1], r->cases[i].area) != 0)
            out[(*n)++] = r->cases[i].area;
    return out;
}

hs_err_t report_result_counter_ref(report_result_t *r, const char *name, int64_t **out)
{
    *out = NULL;
    if (!name || !*name)
        return HS_EINVAL;
    int found;
    size_t pos = find_sorted(r->counters, r->ncounters, sizeof *r->counters, name, &found);
    if (!found) {
        char *k = strdup(name);
        int64_t *v = calloc(1, sizeof *v);
        if (!k || !v || insert_at((void **)&r->counters, &r->ncounters, sizeof *r->counters, pos)) {
            free(k);
            free(v);
            return HS_ENOMEM;
        }
        r->counters[pos].name = k;
        r->counters[pos].value = v;
    }
    *out = r->counters[pos].value;
    return HS_EOK;
}

hs_err_t report_result_add_counter(report_result_t *r, const char *name, int64_t delta)
{
    int64_t *v;
    hs_err_t rc = report_result_counter_ref(r, name, &v);
    if (rc)
        return rc;
    *v += delta;
    return HS_EOK;
}

hs_err_t report_result_hist(report_result_t *r, const char *name, report_hist_t **out)
{
    *out = NULL;
    if (!name || !*name)
        return HS_EINVAL;
    int found;
    size_t pos = find_sorted(r->hists, r->nhists, sizeof *r->hists, name, &found);
    if (!found) {
        char *k = strdup(name);
        report_hist_t *h = report_hist_new();
        if (!k || !h || insert_at((void **)&r->hists, &r->nhists, sizeof *r->hists, pos)) {
            free(k);
            report_hist_free(h);
            return HS_ENOMEM;
        }
        r->hists[pos].name = k;
        r->hists[pos].hist = h;
    }
    *out = r->hists[pos].hist;
    return HS_EOK;
}

static hs_err_t get_series(report_result_t *r, const char *name, const char *unit, report_series_t **out)
{
    int found;
    size_t pos = find_sorted(r->series, r->nseries, sizeof *r->series, name, &found);
    if (!found) {
        char *k = strdup(name), *u = strdup(unit ? unit : "");
        if (!k || !u || insert_at((void **)&r->series, &r->nseries, sizeof *r->series, pos)) {
            free(k);
            free(u);
            return HS_ENOMEM;
        }
        memset(&r->series[pos], 0, sizeof r->series[pos]);
        r->series[pos].name = k;
        r->series[pos].unit = u;
    }
    *out = &r->series[pos];
    return HS_EOK;
}

static hs_err_t series_push(report_series_t *s, sim_time_t t, double v)
{
    if (s->npoints == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        report_point_t *p = realloc(s->points, cap * sizeof *p);
        if (!p)
            return HS_ENOMEM;
        s->points = p;
        s->cap = cap;
    }
    s->points[s->npoints].t = t;
    s->points[s->npoints].v = v;
    s->npoints++;
    return HS_EOK;
}

hs_err_t report_result_add_point(report_result_t *r, const char *series, const char *unit,
                                 sim_time_t t, double value)
{
    if (!series || !*series || value != value) /* NaN has no place on a chart */
        return HS_EINVAL;
    report_series_t *s;
    hs_err_t rc = get_series(r, series, unit, &s);
    if (rc)
        return rc;
    if (s->npoints && t < s->points[s->npoints - 1].t)
        return HS_EINVAL;
    return series_push(s, t, value);
}

hs_err_t report_result_add_kill(report_result_t *r, const char *switch_id, const char *rule_id,
                                int killed, const char *by_case, const char *note)
{
    if (!switch_id || !*switch_id)
        return HS_EINVAL;
    int found, ok = 1;
    size_t pos = find_sorted(r->kills, r->nkills, sizeof *r->kills, switch_id, &found);
    while (pos < r->nkills && strcmp(r->kills[pos].switch_id, switch_id) == 0)
        pos++; /* after equal ids: stable */
    report_kill_t k = { .switch_id = dup_opt(switch_id, &ok), .rule_id = dup_opt(rule_id, &ok),
                        .by_case = dup_opt(by_case, &ok), .note = dup_opt(note, &ok),
                        .killed = killed ? 1 : 0 };
    if (!ok || insert_at((void **)&r->kills, &r->nkills, sizeof *r->kills, pos)) {
        free(k.switch_id);
        free(k.rule_id);
        free(k.by_case);
        free(k.note);
        return HS_ENOMEM;
    }
    r->kills[pos] = k;
    return HS_EOK;
}

size_t report_result_kill_count(const report_result_t *r)
{
    return r->nkills;
}

size_t report_result_killed_count(const report_result_t *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nkills; i++)
        n += (size_t)r->kills[i].killed;
    return n;
}

int report_result_exit_code(const report_result_t *r)
{
    int rc = EXIT_OK;
    for (size_t i = 0; i < r->ncases; i++) {
        const report_case_t *c = &r->cases[i];
        if (c->verdict == REPORT_ERROR)
            return EXIT_HARNESS;
        int fails = c->verdict == REPORT_FAIL || c->verdict == REPORT_WRONG_CODE ||
                    (r->strict && c->verdict == REPORT_NON_STRICT);
        if (fails && !c->baseline)
            rc = EXIT_CHECK;
    }
    return rc;
}

hs_err_t report_result_merge(report_result_t *dst, const report_result_t *src)
{
    if (dst->kind != src->kind || dst->has_seed != src->has_seed ||
        (dst->has_seed && dst->seed != src->seed) || strcmp_null(dst->target, src->target) != 0 ||
        dst->nknobs != src->nknobs)
        return HS_EINVAL;
    for (size_t i = 0; i < src->nknobs; i++)
        if (strcmp(dst->knobs[i].key, src->knobs[i].key) || strcmp(dst->knobs[i].value, src->knobs[i].value))
            return HS_EINVAL;
    hs_err_t rc = HS_EOK;
    for (size_t i = 0; !rc && i < src->ncases; i++)
        rc = report_result_add_case(dst, &src->cases[i]);
    for (size_t i = 0; !rc && i < src->ncounters; i++)
        rc = report_result_add_counter(dst, src->counters[i].name, *src->counters[i].value);
    for (size_t i = 0; !rc && i < src->nhists; i++) {
        report_hist_t *h;
        rc = report_result_hist(dst, src->hists[i].name, &h);
        if (!rc)
            report_hist_merge(h, src->hists[i].hist);
    }
    /* Series: a shard's throughput at time t adds to the others' at t. */
    for (size_t i = 0; !rc && i < src->nseries; i++) {
        const report_series_t *ss = &src->series[i];
        report_series_t *ds;
        rc = get_series(dst, ss->name, ss->unit, &ds);
        if (rc)
            break;
        size_t alloc = ds->npoints + ss->npoints + 1;
        report_point_t *merged = malloc(alloc * sizeof *merged);
        if (!merged) {
            rc = HS_ENOMEM;
            break;
        }
        size_t a = 0, b = 0, n = 0;
        while (a < ds->npoints || b < ss->npoints) {
            if (b == ss->npoints || (a < ds->npoints && ds->points[a].t < ss->points[b].t))
                merged[n++] = ds->points[a++];
            else if (a == ds->npoints || ss->points[b].t < ds->points[a].t)
                merged[n++] = ss->points[b++];
            else {
                merged[n] = ds->points[a++];
                merged[n++].v += ss->points[b++].v;
            }
        }
        free(ds->points);
        ds->points = merged;
        ds->npoints = n;
        ds->cap = alloc;
    }
    for (size_t i = 0; !rc && i < src->nkills; i++)
        rc = report_result_add_kill(dst, src->kills[i].switch_id, src->kills[i].rule_id,
                                    src->kills[i].killed, src->kills[i].by_case, src->kills[i].note);
    if (!rc && src->virtual_duration > dst->virtual_duration)
        dst->virtual_duration = src->virtual_duration;
    return rc;
}
