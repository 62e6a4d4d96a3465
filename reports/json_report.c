/* report.json: the result model as JSON (reports/report.schema.json), and reading it back for merges. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"
#include "writer.h"
#include "writer_internal.h"

/* Any text from a hub or a trace may hold bytes that are not UTF-8; they
 * become U+FFFD rather than silently dropping the member. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *clean = report_utf8_clean(s);
    j = clean ? json_string(clean) : NULL;
    free(clean);
    return j;
}

static json_t *str_or_null(const char *s)
{
    return s ? jstr(s) : json_null();
}

static void set_key(json_t *o, const char *key, json_t *v)
{
    if (json_object_set_new(o, key, v) == 0)
        return;
    char *clean = report_utf8_clean(key);
    if (clean)
        json_object_set_new(o, clean, v);
    else
        json_decref(v);
    free(clean);
}

/* uint64 values that may exceed JSON's safe integer range travel as decimal strings. */
static json_t *u64_string(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_string(buf);
}

static json_t *kv_object(const report_kv_t *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        set_key(o, kv[i].key, jstr(kv[i].value));
    return o;
}

static json_t *case_to_json(const report_case_t *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(c->id));
    json_object_set_new(o, "area", jstr(c->area));
    json_object_set_new(o, "name", str_or_null(c->name));
    json_object_set_new(o, "verdict", json_string(report_verdict_name(c->verdict)));
    json_object_set_new(o, "level", str_or_null(c->level));
    json_object_set_new(o, "rule_text", str_or_null(c->rule_text));
    json_object_set_new(o, "spec", str_or_null(c->spec_ref));
    json_object_set_new(o, "expected", str_or_null(c->expected));
    json_object_set_new(o, "observed", str_or_null(c->observed));
    json_object_set_new(o, "message", str_or_null(c->message));
    json_object_set_new(o, "trace_excerpt", str_or_null(c->trace_excerpt));
    json_object_set_new(o, "baseline", str_or_null(c->baseline));
    json_object_set_new(o, "virtual_duration_ns", json_integer((json_int_t)c->duration));
    if (c->tolerance) /* live targets only: in-process reports keep their shape */
        json_object_set_new(o, "tolerance", json_string(c->tolerance));
    return o;
}

static json_t *hist_to_json(const report_hist_t *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "unit", json_string("ns"));
    json_object_set_new(o, "count", u64_string(report_hist_count(h)));
    json_object_set_new(o, "sum", u64_string(report_hist_sum(h)));
    json_object_set_new(o, "min", u64_string(report_hist_min(h)));
    json_object_set_new(o, "max", u64_string(report_hist_max(h)));
    for (size_t k = 0; k < REPORT_NPCT; k++)
        json_object_set_new(o, report_pct_key[k], u64_string(report_hist_quantile(h, report_pct_q[k])));
    json_object_set_new(o, "sub_bucket_bits", json_integer(REPORT_HIST_SUB_BITS));
    json_t *b = json_array();
    for (size_t i = report_hist_next(h, 0); i < REPORT_HIST_BUCKETS; i = report_hist_next(h, i + 1)) {
        json_t *pair = json_array();
        json_array_append_new(pair, json_integer((json_int_t)i));
        json_array_append_new(pair, u64_string(report_hist_bucket_count(h, i)));
        json_array_append_new(b, pair);
    }
    json_object_set_new(o, "buckets", b);
    return o;
}

json_t *report_result_to_json(const report_result_t *r)
{
    char buf[64];
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    json_object_set_new(doc, "report_format", json_integer(REPORT_FORMAT_VERSION));
    json_object_set_new(doc, "kind",
                        json_string(r->kind == REPORT_KIND_SCENARIO ? "scenario" : "conformance"));
    json_object_set_new(doc, "name", jstr(r->name));

    json_t *run = json_object();
    json_object_set_new(run, "hubsim_version", json_string(HUBSIM_VERSION));
    json_object_set_new(run, "trace_format_version", json_integer(SIM_TRACE_FORMAT_VERSION));
    json_object_set_new(run, "catalogue_version",
                        r->catalogue_version ? json_integer(r->catalogue_version) : json_null());
    json_object_set_new(run, "seed", r->has_seed ? u64_string(r->seed) : json_null());
    json_object_set_new(run, "target", str_or_null(r->target));
    json_object_set_new(run, "strict", json_boolean(r->strict));
    if (r->has_trace_hash)
        report_fmt_hash(r->trace_hash, buf, sizeof buf);
    json_object_set_new(run, "trace_hash", r->has_trace_hash ? json_string(buf) : json_null());
    if (r->has_virtual)
        report_fmt_epoch(r->epoch_unix, buf, sizeof buf);
    json_object_set_new(run, "virtual_epoch", r->has_virtual ? json_string(buf) : json_null());
    json_object_set_new(run, "virtual_duration_ns", json_integer((json_int_t)r->virtual_duration));
    json_object_set_new(run, "knobs", kv_object(r->knobs, r->nknobs));
    json_object_set_new(run, "info", kv_object(r->info, r->ninfo));
    json_object_set_new(doc, "run", run);

    /* Kept apart so two identical runs differ in this object only. */
    json_t *wall = json_object();
    if (r->has_wallclock) {
        report_fmt_wall(r->wall_started_ms, buf, sizeof buf);
        json_object_set_new(wall, "started", json_string(buf));
        report_fmt_wall(r->wall_finished_ms, buf, sizeof buf);
        json_object_set_new(wall, "finished", json_string(buf));
        json_object_set_new(wall, "elapsed_ms", json_integer(r->wall_finished_ms - r->wall_started_ms));
    } else {
        json_object_set_new(wall, "started", json_null());
        json_object_set_new(wall, "finished", json_null());
        json_object_set_new(wall, "elapsed_ms", json_null());
    }
    json_object_set_new(doc, "wallclock", wall);

    json_t *summary = json_object(), *verdicts = json_object(), *areas = json_object();
    json_object_set_new(summary, "total", json_integer((json_int_t)r->ncases));
    for (unsigned v = 0; v < REPORT_VERDICT_COUNT; v++)
        json_object_set_new(verdicts, report_verdict_name((report_verdict_t)v),
                            json_integer((json_int_t)report_result_verdict_count(r, (report_verdict_t)v)));
    json_object_set_new(summary, "verdicts", verdicts);
    for (size_t i = 0; i < r->ncases; i++) {
        const report_case_t *c = &r->cases[i];
        char *key = report_utf8_clean(c->area);
        if (!key)
            continue;
        json_t *a = json_object_get(areas, key);
        if (!a) {
            a = json_object();
            for (unsigned v = 0; v < REPORT_VERDICT_COUNT; v++)
                json_object_set_new(a, report_verdict_name((report_verdict_t)v), json_integer(0));
            json_object_set_new(areas, key, a);
        }
        const char *vn = report_verdict_name(c->verdict);
        json_object_set_new(a, vn, json_integer(json_integer_value(json_object_get(a, vn)) + 1));
        free(key);
    }
    json_object_set_new(summary, "areas", areas);
    json_object_set_new(summary, "gate", json_string(report_gate_word(r)));
    json_object_set_new(summary, "exit_code", json_integer(report_result_exit_code(r)));
    json_object_set_new(doc, "summary", summary);

    json_t *cases = json_array();
    for (size_t i = 0; i < r->ncases; i++)
        json_array_append_new(cases, case_to_json(&r->cases[i]));
    json_object_set_new(doc, "cases", cases);

    json_t *metrics = json_object(), *counters = json_object(), *hists = json_object(),
           *series = json_object();
    for (size_t i = 0; i < r->ncounters; i++)
        set_key(counters, r->counters[i].name, json_integer(*r->counters[i].value));
    for (size_t i = 0; i < r->nhists; i++)
        set_key(hists, r->hists[i].name, hist_to_json(r->hists[i].hist));
    for (size_t i = 0; i < r->nseries; i++) {
        const report_series_t *s = &r->series[i];
        json_t *pts = json_array();
        for (size_t k = 0; k < s->npoints; k++)
            json_array_append_new(pts, json_pack("[I, f]", (json_int_t)s->points[k].t, s->points[k].v));
        set_key(series, s->name, json_pack("{s:o, s:o}", "unit", jstr(s->unit), "points", pts));
    }
    json_object_set_new(metrics, "counters", counters);
    json_object_set_new(metrics, "histograms", hists);
    json_object_set_new(metrics, "series", series);
    json_object_set_new(doc, "metrics", metrics);

    json_t *km = json_object(), *entries = json_array();
    size_t killed = report_result_killed_count(r);
    json_object_set_new(km, "switches", json_integer((json_int_t)r->nkills));
    json_object_set_new(km, "killed", json_integer((json_int_t)killed));
    json_object_set_new(km, "kill_rate",
                        r->nkills ? json_real((double)killed / (double)r->nkills) : json_null());
    for (size_t i = 0; i < r->nkills; i++) {
        const report_kill_t *k = &r->kills[i];
        json_array_append_new(entries, json_pack("{s:o, s:o, s:b, s:o, s:o}", "switch", jstr(k->switch_id),
                                                 "rule", str_or_null(k->rule_id), "killed", k->killed,
                                                 "by_case", str_or_null(k->by_case), "note",
                                                 str_or_null(k->note)));
    }
    json_object_set_new(km, "entries", entries);
    json_object_set_new(doc, "kill_matrix", km);
    return doc;
}

static hs_err_t write_json(const report_result_t *r, FILE *f)
{
    json_t *doc = report_result_to_json(r);
    if (!doc)
        return HS_ENOMEM;
    /* Insertion order (the model's sorted order) and a fixed indent: the
     * file is byte-identical for identical runs apart from "wallclock". */
    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (rc != 0 || fputc('\n', f) == EOF)
        return HS_EIO;
    return HS_EOK;
}

const report_writer_t report_writer_json = {
    .name = "json",
    .extension = "json",
    .default_file = "report.json",
    .write = write_json,
};

/* ---- reading back ------------------------------------------------------ */

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static const char *opt_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int parse_u64(const json_t *v, uint64_t *out)
{
    const char *s = json_string_value(v);
    if (!s || !*s)
        return -1;
    uint64_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *out = x;
    return 0;
}

static hs_err_t read_body(const json_t *doc, report_result_t *r, char *err, size_t cap)
{
    const json_t *run = json_object_get(doc, "run");
    if (!json_is_object(run)) {
        set_err(err, cap, "$.run: expected an object");
        return HS_EINVAL;
    }
    uint64_t u;
    const json_t *v = json_object_get(run, "seed");
    if (v && !json_is_null(v)) {
        if (parse_u64(v, &u)) {
            set_err(err, cap, "$.run.seed: expected a decimal string");
            return HS_EINVAL;
        }
        report_result_set_seed(r, u);
    }
    if (opt_str(run, "target") && report_result_set_target(r, opt_str(run, "target")))
        return HS_ENOMEM;
    v = json_object_get(run, "catalogue_version");
    if (json_is_integer(v))
        report_result_set_catalogue_version(r, (int)json_integer_value(v));
    report_result_set_strict(r, json_is_true(json_object_get(run, "strict")));
    const char *th = opt_str(run, "trace_hash");
    if (th) {
        char *end;
        unsigned long long h = strtoull(th, &end, 16);
        if (strlen(th) != 16 || *end) {
            set_err(err, cap, "$.run.trace_hash: expected 16 hex digits");
            return HS_EINVAL;
        }
        report_result_set_trace_hash(r, h);
    }
    const char *ep = opt_str(run, "virtual_epoch");
    if (ep) {
        int64_t sec;
        uint32_t ns;
        if (sim_utc_parse(ep, &sec, &ns)) {
            set_err(err, cap, "$.run.virtual_epoch: expected an ISO-8601 UTC instant");
            return HS_EINVAL;
        }
        report_result_set_virtual(r, sec,
                                  (sim_time_t)json_integer_value(json_object_get(run, "virtual_duration_ns")));
    }
    const char *key;
    json_t *val;
    const char *maps[] = { "knobs", "info" };
    for (int m = 0; m < 2; m++) {
        json_t *o = json_object_get(run, maps[m]);
        if (o && !json_is_object(o)) {
            set_err(err, cap, "$.run.%s: expected an object of strings", maps[m]);
            return HS_EINVAL;
        }
        json_object_foreach(o, key, val) {
            if (!json_is_string(val)) {
                set_err(err, cap, "$.run.%s.%s: expected a string", maps[m], key);
                return HS_EINVAL;
            }
            hs_err_t rc = m ? report_result_set_info(r, key, json_string_value(val))
                            : report_result_set_knob(r, key, json_string_value(val));
            if (rc)
                return rc;
        }
    }

    const json_t *cases = json_object_get(doc, "cases");
    if (!json_is_array(cases)) {
        set_err(err, cap, "$.cases: expected an array");
        return HS_EINVAL;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        report_case_t k = {
            .id = opt_str(c, "id"), .area = opt_str(c, "area"), .name = opt_str(c, "name"),
            .level = opt_str(c, "level"), .rule_text = opt_str(c, "rule_text"),
            .spec_ref = opt_str(c, "spec"), .expected = opt_str(c, "expected"),
            .observed = opt_str(c, "observed"), .message = opt_str(c, "message"),
            .trace_excerpt = opt_str(c, "trace_excerpt"), .baseline = opt_str(c, "baseline"),
            .duration = (sim_time_t)json_integer_value(json_object_get(c, "virtual_duration_ns")),
            .tolerance = opt_str(c, "tolerance"),
        };
        if (report_verdict_parse(opt_str(c, "verdict"), &k.verdict) || !k.id || !k.area) {
            set_err(err, cap, "$.cases[%zu]: needs id, area and a known verdict", i);
            return HS_EINVAL;
        }
        hs_err_t rc = report_result_add_case(r, &k);
        if (rc)
            return rc;
    }

    const json_t *metrics = json_object_get(doc, "metrics");
    json_object_foreach((json_t *)json_object_get(metrics, "counters"), key, val) {
        if (!json_is_integer(val)) {
            set_err(err, cap, "$.metrics.counters.%s: expected an integer", key);
            return HS_EINVAL;
        }
        hs_err_t rc = report_result_add_counter(r, key, json_integer_value(val));
        if (rc)
            return rc;
    }
    json_object_foreach((json_t *)json_object_get(metrics, "histograms"), key, val) {
        report_hist_t *h;
        hs_err_t rc = report_result_hist(r, key, &h);
        if (rc)
            return rc;
        if (json_integer_value(json_object_get(val, "sub_bucket_bits")) != REPORT_HIST_SUB_BITS) {
            set_err(err, cap, "$.metrics.histograms.%s.sub_bucket_bits: expected %d", key,
                    REPORT_HIST_SUB_BITS);
            return HS_EINVAL;
        }
        size_t bi;
        json_t *pair;
        json_array_foreach(json_object_get(val, "buckets"), bi, pair) {
            uint64_t n;
            json_t *idx = json_array_get(pair, 0);
            if (!json_is_integer(idx) || json_integer_value(idx) < 0 || parse_u64(json_array_get(pair, 1), &n) ||
                report_hist_add_bucket(h, (size_t)json_integer_value(idx), n)) {
                set_err(err, cap, "$.metrics.histograms.%s.buckets[%zu]: expected [index, \"count\"]", key, bi);
                return HS_EINVAL;
            }
        }
        uint64_t mn = 0, mx = 0, sum = 0;
        if (parse_u64(json_object_get(val, "min"), &mn) || parse_u64(json_object_get(val, "max"), &mx) ||
            parse_u64(json_object_get(val, "sum"), &sum)) {
            set_err(err, cap, "$.metrics.histograms.%s: min, max and sum must be decimal strings", key);
            return HS_EINVAL;
        }
        report_hist_restore_stats(h, mn, mx, sum);
    }
    json_object_foreach((json_t *)json_object_get(metrics, "series"), key, val) {
        size_t pi;
        json_t *pt;
        json_array_foreach(json_object_get(val, "points"), pi, pt) {
            json_t *t = json_array_get(pt, 0), *y = json_array_get(pt, 1);
            if (!json_is_integer(t) || !json_is_number(y) ||
                report_result_add_point(r, key, opt_str(val, "unit"), (sim_time_t)json_integer_value(t),
                                        json_number_value(y))) {
                set_err(err, cap, "$.metrics.series.%s.points[%zu]: expected [t_ns, value] in time order", key, pi);
                return HS_EINVAL;
            }
        }
    }
    json_array_foreach(json_object_get(json_object_get(doc, "kill_matrix"), "entries"), i, c) {
        const char *sw = opt_str(c, "switch");
        if (!sw || !json_is_boolean(json_object_get(c, "killed"))) {
            set_err(err, cap, "$.kill_matrix.entries[%zu]: needs switch and killed", i);
            return HS_EINVAL;
        }
        hs_err_t rc = report_result_add_kill(r, sw, opt_str(c, "rule"), json_is_true(json_object_get(c, "killed")),
                                             opt_str(c, "by_case"), opt_str(c, "note"));
        if (rc)
            return rc;
    }
    const json_t *wall = json_object_get(doc, "wallclock");
    const char *ws = opt_str(wall, "started"), *wf = opt_str(wall, "finished");
    if (ws && wf) {
        int64_t s1, s2;
        uint32_t n1, n2;
        if (!sim_utc_parse(ws, &s1, &n1) && !sim_utc_parse(wf, &s2, &n2))
            report_result_set_wallclock(r, s1 * 1000 + n1 / 1000000, s2 * 1000 + n2 / 1000000);
    }
    return HS_EOK;
}

hs_err_t report_result_from_json(const json_t *doc, report_result_t **out, char *err, size_t errcap)
{
    *out = NULL;
    if (!json_is_object(doc)) {
        set_err(err, errcap, "$: expected an object");
        return HS_EINVAL;
    }
    json_t *fmt = json_object_get(doc, "report_format");
    if (!json_is_integer(fmt) || json_integer_value(fmt) != REPORT_FORMAT_VERSION) {
        set_err(err, errcap, "$.report_format: expected %d", REPORT_FORMAT_VERSION);
        return HS_EINVAL;
    }
    const char *kind = opt_str(doc, "kind");
    if (!kind || (strcmp(kind, "scenario") && strcmp(kind, "conformance"))) {
        set_err(err, errcap, "$.kind: expected \"conformance\" or \"scenario\"");
        return HS_EINVAL;
    }
    report_result_t *r = report_result_new(strcmp(kind, "scenario") ? REPORT_KIND_CONFORMANCE
                                                                    : REPORT_KIND_SCENARIO,
                                           opt_str(doc, "name"));
    if (!r)
        return HS_ENOMEM;
    hs_err_t rc = read_body(doc, r, err, errcap);
    if (rc) {
        if (rc == HS_ENOMEM)
            set_err(err, errcap, "out of memory");
        report_result_free(r);
        return rc;
    }
    *out = r;
    return HS_EOK;
}
