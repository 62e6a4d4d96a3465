/* report.html: one self-contained page (inline CSS, JS and SVG; no network) for a QA engineer. */
/*
 * Layout: summary (verdict totals as filter buttons, target, seed, date,
 * versions), a matrix of areas x verdicts whose cells filter the case list,
 * verdict and area filter buttons, the cases as <details> elements (expand
 * to rule text, spec reference, expected/observed, message, trace excerpt),
 * the kill matrix with its kill rate, and for scenario results the charts
 * (inline SVG drawn here, so they need no script) and outcome tables.
 *
 * Every dynamic string goes through report_put_escaped; the page names no
 * URL at all, and a Content-Security-Policy of default-src 'none' makes the
 * browser refuse any load should one slip in.  Filters are plain DOM
 * attributes (data-verdict, data-area, hidden), which the headless-browser
 * test in tests/interop/html/ drives.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"
#include "writer.h"
#include "writer_internal.h"

typedef struct {
    FILE *f;
    int bad;
} out_t;

static void put(out_t *o, const char *s)
{
    if (fputs(s, o->f) == EOF)
        o->bad = 1;
}

static void esc(out_t *o, const char *s)
{
    if (report_put_escaped(o->f, s))
        o->bad = 1;
}

static void putf(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0)
        o->bad = 1;
    va_end(ap);
}

static const char css[] =
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0;"
    "color:#1d232a;background:#f5f6f8}"
    "header{background:#1d2b3a;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}"
    "header .sub{opacity:.8;margin:4px 0 0}"
    "main{padding:16px 24px;max-width:1280px}section{background:#fff;border:1px solid #dde1e6;"
    "border-radius:6px;padding:12px 16px;margin:0 0 16px}h2{font-size:16px;margin:0 0 10px}"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:4px 16px;margin:0 0 12px}"
    "dl.meta dt{color:#5b6470}dl.meta dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;"
    "word-break:break-all}"
    ".totals{display:flex;flex-wrap:wrap;gap:8px}"
    "button{font:inherit;cursor:pointer;border:1px solid #c5ccd4;background:#fff;border-radius:4px;padding:4px 10px}"
    "button[aria-pressed=true]{outline:2px solid #1d2b3a;outline-offset:1px;font-weight:600}"
    ".total{min-width:110px;text-align:left}.total .n{display:block;font-size:22px;font-weight:700}"
    ".v-PASS{border-left:6px solid #2e7d32}.v-NON-STRICT{border-left:6px solid #c79100}"
    ".v-WRONG-CODE{border-left:6px solid #e65100}.v-FAIL{border-left:6px solid #c62828}"
    ".v-SKIP{border-left:6px solid #9e9e9e}.v-ERROR{border-left:6px solid #6a1b9a}"
    ".badge{display:inline-block;min-width:92px;padding:1px 6px;border-radius:3px;color:#fff;"
    "font-size:12px;font-weight:700;text-align:center;border:0}"
    ".badge.v-PASS{background:#2e7d32}.badge.v-NON-STRICT{background:#c79100}"
    ".badge.v-WRONG-CODE{background:#e65100}.badge.v-FAIL{background:#c62828}"
    ".badge.v-SKIP{background:#757575}.badge.v-ERROR{background:#6a1b9a}"
    ".gate-pass{color:#2e7d32;font-weight:700}.gate-fail{color:#c62828;font-weight:700}"
    ".gate-error{color:#6a1b9a;font-weight:700}"
    "table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;"
    "text-align:left;vertical-align:top}th{background:#f0f2f5;font-weight:600}td.num,th.num{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    "td.cell button{min-width:42px}td.zero{color:#b0b6bd;text-align:right}"
    "#filters{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin-bottom:8px}"
    "#filters .group{display:flex;flex-wrap:wrap;gap:4px;align-items:center}"
    "#filters .label{color:#5b6470;margin-right:4px}"
    "details.case{border:1px solid #e3e6ea;border-radius:4px;margin:4px 0;background:#fff}"
    "details.case summary{padding:6px 8px;cursor:pointer;display:flex;gap:10px;align-items:baseline}"
    "details.case summary code{font-weight:600}details.case .name{flex:1}"
    "details.case .dur{color:#5b6470;font-size:12px}"
    "details.case .body{padding:4px 12px 10px 14px;border-top:1px solid #eef0f2}"
    "details.case .rule{font-style:italic;margin:6px 0}"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:6px 0}"
    "dl.kv dt{color:#5b6470}dl.kv dd{margin:0;white-space:pre-wrap;word-break:break-word}"
    "pre.trace{background:#0f1720;color:#d7e0ea;padding:8px;border-radius:4px;overflow:auto;max-height:320px;"
    "font-size:12px}"
    ".killed{color:#2e7d32;font-weight:700}.survived{color:#c62828;font-weight:700}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px}"
    ".chart svg{width:100%;height:auto;background:#fbfcfd;border:1px solid #e3e6ea}"
    ".chart h3{font-size:14px;margin:0 0 4px}"
    "svg .axis{stroke:#9aa3ad;stroke-width:1}svg .line{fill:none;stroke:#1565c0;stroke-width:1.5}"
    "svg text{font-size:11px;fill:#5b6470}"
    "tr.group th{background:#e8ecf1;font-size:12px;text-transform:uppercase;letter-spacing:.04em}"
    "footer{color:#5b6470;font-size:12px;padding:0 24px 24px}"
    "[hidden]{display:none!important}";

static const char script[] =
    "(function(){\n"
    "  'use strict';\n"
    "  var state = { verdict: '', area: '' };\n"
    "  var cases = Array.prototype.slice.call(document.querySelectorAll('#case-list details.case'));\n"
    "  var shown = document.getElementById('shown-count');\n"
    "  function apply() {\n"
    "    var n = 0;\n"
    "    cases.forEach(function (c) {\n"
    "      var ok = (!state.verdict || c.getAttribute('data-verdict') === state.verdict) &&\n"
    "               (!state.area || c.getAttribute('data-area') === state.area);\n"
    "      c.hidden = !ok;\n"
    "      if (ok) n++;\n"
    "    });\n"
    "    shown.textContent = String(n);\n"
    "    document.querySelectorAll('button[data-filter]').forEach(function (b) {\n"
    "      var on = state[b.getAttribute('data-filter')] === b.getAttribute('data-value');\n"
    "      b.setAttribute('aria-pressed', on ? 'true' : 'false');\n"
    "    });\n"
    "    var empty = document.getElementById('no-cases');\n"
    "    if (empty) empty.hidden = n !== 0;\n"
    "  }\n"
    "  document.addEventListener('click', function (e) {\n"
    "    var t = e.target.closest ? e.target.closest('button') : null;\n"
    "    if (!t) return;\n"
    "    if (t.hasAttribute('data-filter')) {\n"
    "      state[t.getAttribute('data-filter')] = t.getAttribute('data-value');\n"
    "      apply();\n"
    "    } else if (t.hasAttribute('data-show-verdict')) {\n"
    "      state.verdict = t.getAttribute('data-show-verdict');\n"
    "      state.area = t.getAttribute('data-show-area') || '';\n"
    "      apply();\n"
    "      document.getElementById('cases').scrollIntoView();\n"
    "    } else if (t.id === 'expand-all' || t.id === 'collapse-all') {\n"
    "      var open = t.id === 'expand-all';\n"
    "      cases.forEach(function (c) { if (!c.hidden) c.open = open; });\n"
    "    }\n"
    "  });\n"
    "  apply();\n"
    "})();\n";

static void meta(out_t *o, const char *label, const char *value)
{
    put(o, "<dt>");
    esc(o, label);
    put(o, "</dt><dd>");
    esc(o, value ? value : "-");
    put(o, "</dd>");
}

static void summary(out_t *o, const report_result_t *r)
{
    char buf[64], buf2[96];
    put(o, "<section id=\"summary\"><h2>Summary</h2><dl class=\"meta\">");
    meta(o, "target", r->target);
    if (r->has_seed)
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)r->seed);
    meta(o, "seed", r->has_seed ? buf : NULL);
    /* The date a QA engineer wants is when it ran; without a wall clock
     * (a golden report) the virtual epoch stands in, labelled as such. */
    if (r->has_wallclock) {
        report_fmt_wall(r->wall_started_ms, buf, sizeof buf);
        meta(o, "date", buf);
    } else if (r->has_virtual) {
        report_fmt_epoch(r->epoch_unix, buf, sizeof buf);
        snprintf(buf2, sizeof buf2, "%s (virtual)", buf);
        meta(o, "date", buf2);
    } else {
        meta(o, "date", NULL);
    }
    put(o, "<dt>gate</dt><dd id=\"gate\" class=\"gate-");
    put(o, report_gate_word(r));
    put(o, "\">");
    put(o, report_gate_word(r));
    putf(o, " (exit %d%s)</dd>", report_result_exit_code(r), r->strict ? ", --strict" : "");
    meta(o, "hubsim version", HUBSIM_VERSION);
    snprintf(buf, sizeof buf, "%d", SIM_TRACE_FORMAT_VERSION);
    meta(o, "trace format", buf);
    if (r->catalogue_version)
        snprintf(buf, sizeof buf, "%d", r->catalogue_version);
    meta(o, "rule catalogue", r->catalogue_version ? buf : NULL);
    if (r->has_trace_hash)
        report_fmt_hash(r->trace_hash, buf, sizeof buf);
    meta(o, "trace hash", r->has_trace_hash ? buf : NULL);
    if (r->has_virtual) {
        sim_duration_format(r->virtual_duration, buf, sizeof buf);
        meta(o, "virtual time", buf);
    }
    put(o, "</dl>\n<div class=\"totals\" id=\"totals\">");
    putf(o, "<button class=\"total\" data-filter=\"verdict\" data-value=\"\"><span class=\"n\">%zu</span>all cases</button>",
         r->ncases);
    for (unsigned v = 0; v < REPORT_VERDICT_COUNT; v++) {
        const char *vn = report_verdict_name((report_verdict_t)v);
        putf(o, "<button class=\"total v-%s\" data-filter=\"verdict\" data-value=\"%s\" id=\"total-%s\">"
                "<span class=\"n\">%zu</span>%s</button>",
             vn, vn, vn, report_result_verdict_count(r, (report_verdict_t)v), vn);
    }
    put(o, "</div></section>\n");
}

static void matrix(out_t *o, const report_result_t *r, const char **areas, size_t nareas)
{
    put(o, "<section id=\"matrix\"><h2>Areas &#215; verdicts</h2><table><thead><tr><th>area</th>");
    for (unsigned v = 0; v < REPORT_VERDICT_COUNT; v++)
        putf(o, "<th class=\"num\">%s</th>", report_verdict_name((report_verdict_t)v));
    put(o, "<th class=\"num\">total</th></tr></thead><tbody>");
    for (size_t a = 0; a < nareas; a++) {
        size_t counts[REPORT_VERDICT_COUNT] = { 0 }, total = 0;
        for (size_t i = 0; i < r->ncases; i++)
            if (!strcmp(r->cases[i].area, areas[a])) {
                counts[r->cases[i].verdict]++;
                total++;
            }
        put(o, "<tr><th>");
        esc(o, areas[a]);
        put(o, "</th>");
        for (unsigned v = 0; v < REPORT_VERDICT_COUNT; v++) {
            const char *vn = report_verdict_name((report_verdict_t)v);
            if (!counts[v]) {
                put(o, "<td class=\"zero\">0</td>");
                continue;
            }
            putf(o, "<td class=\"cell num\"><button class=\"v-%s\" data-show-verdict=\"%s\" data-show-area=\"", vn, vn);
            esc(o, areas[a]);
            putf(o, "\">%zu</button></td>", counts[v]);
        }
        putf(o, "<td class=\"num\">%zu</td></tr>", total);
    }
    put(o, "</tbody></table></section>\n");
}

static void kv_row(out_t *o, const char *label, const char *value)
{
    if (!value)
        return;
    put(o, "<dt>");
    esc(o, label);
    put(o, "</dt><dd>");
    esc(o, value);
    put(o, "</dd>");
}

static void case_list(out_t *o, const report_result_t *r, const char **areas, size_t nareas)
{
    put(o, "<section id=\"cases\"><h2>Cases</h2><div id=\"filters\"><div class=\"group\" id=\"verdict-filters\">"
           "<span class=\"label\">verdict</span><button data-filter=\"verdict\" data-value=\"\">all</button>");
    for (unsigned v = 0; v < REPORT_VERDICT_COUNT; v++) {
        const char *vn = report_verdict_name((report_verdict_t)v);
        putf(o, "<button class=\"v-%s\" data-filter=\"verdict\" data-value=\"%s\">%s</button>", vn, vn, vn);
    }
    put(o, "</div><div class=\"group\" id=\"area-filters\"><span class=\"label\">area</span>"
           "<button data-filter=\"area\" data-value=\"\">all</button>");
    for (size_t a = 0; a < nareas; a++) {
        put(o, "<button data-filter=\"area\" data-value=\"");
        esc(o, areas[a]);
        put(o, "\">");
        esc(o, areas[a]);
        put(o, "</button>");
    }
    putf(o, "</div><div class=\"group\"><button id=\"expand-all\">expand all</button>"
            "<button id=\"collapse-all\">collapse all</button></div></div>"
            "<p>showing <span id=\"shown-count\">%zu</span> of <span id=\"case-total\">%zu</span> cases</p>"
            "<p id=\"no-cases\" hidden>no case matches these filters</p><div id=\"case-list\">\n",
         r->ncases, r->ncases);
    for (size_t i = 0; i < r->ncases; i++) {
        const report_case_t *c = &r->cases[i];
        const char *vn = report_verdict_name(c->verdict);
        char dur[32];
        report_fmt_latency(c->duration, dur, sizeof dur);
        putf(o, "<details class=\"case\" id=\"case-%zu\" data-verdict=\"%s\" data-area=\"", i + 1, vn);
        esc(o, c->area);
        put(o, "\" data-id=\"");
        esc(o, c->id);
        putf(o, "\"><summary><span class=\"badge v-%s\">%s</span><code>", vn, vn);
        esc(o, c->id);
        put(o, "</code><span class=\"name\">");
        esc(o, c->name ? c->name : "");
        if (c->baseline)
            put(o, " <em>(known failure)</em>");
        putf(o, "</span><span class=\"dur\" title=\"virtual time\">%s</span></summary><div class=\"body\">", dur);
        if (c->rule_text) {
            put(o, "<p class=\"rule\">");
            esc(o, c->rule_text);
            put(o, "</p>");
        }
        put(o, "<dl class=\"kv\">");
        kv_row(o, "area", c->area);
        kv_row(o, "level", c->level);
        kv_row(o, "spec", c->spec_ref);
        kv_row(o, "expected", c->expected);
        kv_row(o, "observed", c->observed);
        kv_row(o, "message", c->message);
        kv_row(o, "baseline", c->baseline);
        kv_row(o, "tolerance", c->tolerance);
        put(o, "</dl>");
        if (c->trace_excerpt) {
            put(o, "<pre class=\"trace\">");
            esc(o, c->trace_excerpt);
            put(o, "</pre>");
        }
        put(o, "</div></details>\n");
    }
    put(o, "</div></section>\n");
}

static void kill_matrix(out_t *o, const report_result_t *r)
{
    if (!r->nkills)
        return;
    size_t killed = report_result_killed_count(r);
    /* Percent with one decimal from integers: no FP formatting in the page. */
    unsigned long long permille = (unsigned long long)(killed * 1000 + r->nkills / 2) / r->nkills;
    putf(o, "<section id=\"kill-matrix\"><h2>Kill matrix</h2><p>kill rate: <strong id=\"kill-rate\">%llu.%llu%%</strong>"
            " (%zu of %zu fault switches killed by a case of their own rule)</p>",
         permille / 10, permille % 10, killed, r->nkills);
    put(o, "<table><thead><tr><th>switch</th><th>rule</th><th>result</th><th>killed by</th><th>note</th></tr>"
           "</thead><tbody>");
    for (size_t i = 0; i < r->nkills; i++) {
        const report_kill_t *k = &r->kills[i];
        put(o, "<tr><td><code>");
        esc(o, k->switch_id);
        put(o, "</code></td><td>");
        esc(o, k->rule_id ? k->rule_id : "");
        put(o, k->killed ? "</td><td class=\"killed\">killed" : "</td><td class=\"survived\">survived");
        put(o, "</td><td>");
        esc(o, k->by_case ? k->by_case : "");
        put(o, "</td><td>");
        esc(o, k->note ? k->note : "");
        put(o, "</td></tr>");
    }
    put(o, "</tbody></table></section>\n");
}

/* One line chart of a series over virtual time, drawn as inline SVG. */
static void chart(out_t *o, const report_series_t *s, size_t idx)
{
    enum { W = 640, H = 220, L = 56, R = 12, T = 12, B = 30 };
    const size_t max_points = 1200;
    if (!s->npoints)
        return;
    sim_time_t t0 = s->points[0].t, t1 = s->points[s->npoints - 1].t;
    double lo = 0, hi = 0;
    for (size_t i = 0; i < s->npoints; i++) {
        if (s->points[i].v < lo)
            lo = s->points[i].v;
        if (s->points[i].v > hi)
            hi = s->points[i].v;
    }
    if (hi == lo)
        hi = lo + 1;
    char d0[32], d1[32];
    sim_duration_format(t0, d0, sizeof d0);
    sim_duration_format(t1, d1, sizeof d1);
    put(o, "<div class=\"chart\"><h3>");
    esc(o, s->name);
    if (s->unit[0]) {
        put(o, " (");
        esc(o, s->unit);
        put(o, ")");
    }
    putf(o, "</h3><svg id=\"chart-%zu\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", idx, W, H);
    esc(o, s->name);
    put(o, " over virtual time\">");
    putf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", L, H - B, W - R, H - B);
    putf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", L, T, L, H - B);
    putf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.6g</text>", L - 4, T + 10, hi);
    putf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.6g</text>", L - 4, H - B, lo);
    putf(o, "<text x=\"%d\" y=\"%d\">%s</text>", L, H - 10, d0);
    putf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", W - R, H - 10, d1);
    put(o, "<polyline class=\"line\" points=\"");
    /* Long series are thinned by a fixed stride: deterministic, and the
     * chart stays a few tens of KB. */
    size_t stride = s->npoints > max_points ? (s->npoints + max_points - 1) / max_points : 1;
    double span = t1 > t0 ? (double)(t1 - t0) : 1.0;
    for (size_t i = 0; i < s->npoints; i += stride) {
        size_t k = i + stride >= s->npoints ? s->npoints - 1 : i;
        double x = L + (double)(W - L - R) * ((double)(s->points[k].t - t0) / span);
        double y = (H - B) - (double)(H - B - T) * ((s->points[k].v - lo) / (hi - lo));
        putf(o, "%s%.1f,%.1f", i ? " " : "", x, y);
        if (k == s->npoints - 1)
            break;
    }
    put(o, "\"/></svg></div>");
}

static void metrics(out_t *o, const report_result_t *r)
{
    if (!r->nseries && !r->ncounters && !r->nhists)
        return;
    put(o, "<section id=\"metrics\"><h2>Metrics</h2>");
    if (r->nseries) {
        put(o, "<div class=\"charts\">");
        for (size_t i = 0; i < r->nseries; i++)
            chart(o, &r->series[i], i + 1);
        put(o, "</div>");
    }
    if (r->nhists) {
        put(o, "<h3>Latency</h3><table id=\"latency\"><thead><tr><th>histogram</th><th class=\"num\">count</th>");
        for (size_t k = 0; k < REPORT_NPCT; k++)
            putf(o, "<th class=\"num\">%s</th>", report_pct_label[k]);
        put(o, "<th class=\"num\">max</th></tr></thead><tbody>");
        for (size_t i = 0; i < r->nhists; i++) {
            const report_hist_t *h = r->hists[i].hist;
            char buf[32];
            put(o, "<tr><td>");
            esc(o, r->hists[i].name);
            putf(o, "</td><td class=\"num\">%llu</td>", (unsigned long long)report_hist_count(h));
            for (size_t k = 0; k < REPORT_NPCT; k++) {
                report_fmt_latency(report_hist_quantile(h, report_pct_q[k]), buf, sizeof buf);
                putf(o, "<td class=\"num\">%s</td>", buf);
            }
            report_fmt_latency(report_hist_max(h), buf, sizeof buf);
            putf(o, "<td class=\"num\">%s</td></tr>", buf);
        }
        put(o, "</tbody></table>");
    }
    if (r->ncounters) {
        put(o, "<h3>Outcomes</h3><table id=\"outcomes\"><thead><tr><th>counter</th><th class=\"num\">value</th>"
               "</tr></thead><tbody>");
        for (size_t i = 0; i < r->ncounters; i++) {
            /* Counters are sorted, so one heading row per first name segment
             * ("method", "d2c", "c2d") groups the outcome table. */
            const char *name = r->counters[i].name, *dot = strchr(name, '.');
            size_t plen = dot ? (size_t)(dot - name) : strlen(name);
            const char *prev = i ? r->counters[i - 1].name : NULL;
            if (!prev || strncmp(prev, name, plen) != 0 || (prev[plen] != '.' && prev[plen] != 0)) {
                put(o, "<tr class=\"group\"><th colspan=\"2\">");
                char *head = strndup(name, plen);
                esc(o, head ? head : "");
                free(head);
                put(o, "</th></tr>");
            }
            put(o, "<tr><td><code>");
            esc(o, r->counters[i].name);
            putf(o, "</code></td><td class=\"num\">%lld</td></tr>", (long long)*r->counters[i].value);
        }
        put(o, "</tbody></table>");
    }
    put(o, "</section>\n");
}

static void settings(out_t *o, const report_result_t *r)
{
    if (!r->nknobs && !r->ninfo)
        return;
    put(o, "<section id=\"knobs\"><h2>Hub knobs and run settings</h2><table><thead><tr><th>name</th><th>value</th>"
           "</tr></thead><tbody>");
    for (size_t i = 0; i < r->nknobs; i++) {
        put(o, "<tr><td><code>");
        esc(o, r->knobs[i].key);
        put(o, "</code></td><td>");
        esc(o, r->knobs[i].value);
        put(o, "</td></tr>");
    }
    for (size_t i = 0; i < r->ninfo; i++) {
        put(o, "<tr><td><code>");
        esc(o, r->info[i].key);
        put(o, "</code> (run)</td><td>");
        esc(o, r->info[i].value);
        put(o, "</td></tr>");
    }
    put(o, "</tbody></table></section>\n");
}

static hs_err_t write_html(const report_result_t *r, FILE *f)
{
    out_t o = { f, 0 };
    size_t nareas;
    const char **areas = report_result_areas(r, &nareas);
    if (!areas)
        return HS_ENOMEM;
    const char *what = r->kind == REPORT_KIND_SCENARIO ? "scenario report" : "conformance report";
    put(&o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            "<title>hubsim ");
    put(&o, what);
    put(&o, ": ");
    esc(&o, r->name);
    put(&o, "</title><style>");
    put(&o, css);
    put(&o, "</style></head><body><header><h1>hubsim ");
    put(&o, what);
    put(&o, "</h1><p class=\"sub\" id=\"report-name\">");
    esc(&o, r->name);
    put(&o, "</p></header><main>\n");
    summary(&o, r);
    matrix(&o, r, areas, nareas);
    case_list(&o, r, areas, nareas);
    kill_matrix(&o, r);
    metrics(&o, r);
    settings(&o, r);
    put(&o, "</main><footer>");
    if (r->has_wallclock) {
        char a[48], b[48];
        report_fmt_wall(r->wall_started_ms, a, sizeof a);
        report_fmt_wall(r->wall_finished_ms, b, sizeof b);
        putf(&o, "wall clock: started %s, finished %s (%lld ms). ", a, b,
             (long long)(r->wall_finished_ms - r->wall_started_ms));
    }
    put(&o, "Written by hubsim " HUBSIM_VERSION "; everything above the wall-clock line is reproducible from the seed."
            "</footer><script>");
    put(&o, script);
    put(&o, "</script></body></html>\n");
    free(areas);
    return o.bad ? HS_EIO : HS_EOK;
}

const report_writer_t report_writer_html = {
    .name = "html",
    .extension = "html",
    .default_file = "report.html",
    .write = write_html,
};
