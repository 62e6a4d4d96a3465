/* junit.xml: one testsuite per area, one testcase per case named by its rule ID (Jenkins junit-10.xsd). */
/*
 * Mapping of verdicts (the XSD has only failure, error and skipped):
 *   PASS        plain testcase
 *   NON-STRICT  plain testcase with a system-out note; a <failure
 *               type="NON-STRICT"> under --strict, where it fails the gate
 *   WRONG-CODE  <failure type="WRONG-CODE">
 *   FAIL        <failure type="FAIL">
 *   SKIP        <skipped message="why">
 *   ERROR       <error type="ERROR">
 * A failure covered by a --baseline entry stays a failure in the XML (CI
 * dashboards should keep showing it) with the baseline reason in its message.
 * "time" is the case's virtual duration in seconds: deterministic, and what
 * the case simulated rather than how fast this machine is.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"
#include "writer.h"
#include "writer_internal.h"

typedef struct {
    FILE *f;
    int bad;
} xml_out_t;

static void put(xml_out_t *o, const char *s)
{
    if (fputs(s, o->f) == EOF)
        o->bad = 1;
}

static void esc(xml_out_t *o, const char *s)
{
    if (report_put_escaped(o->f, s))
        o->bad = 1;
}

static void attr(xml_out_t *o, const char *name, const char *value)
{
    put(o, " ");
    put(o, name);
    put(o, "=\"");
    esc(o, value ? value : "");
    put(o, "\"");
}

static void attr_num(xml_out_t *o, const char *name, unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    attr(o, name, buf);
}

static void property(xml_out_t *o, const char *name, const char *value)
{
    put(o, "      <property");
    attr(o, "name", name);
    attr(o, "value", value);
    put(o, "/>\n");
}

static void properties(xml_out_t *o, const report_result_t *r)
{
    char buf[64];
    put(o, "    <properties>\n");
    property(o, "hubsim.version", HUBSIM_VERSION);
    snprintf(buf, sizeof buf, "%d", SIM_TRACE_FORMAT_VERSION);
    property(o, "trace.format_version", buf);
    if (r->catalogue_version) {
        snprintf(buf, sizeof buf, "%d", r->catalogue_version);
        property(o, "catalogue.version", buf);
    }
    if (r->has_seed) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)r->seed);
        property(o, "seed", buf);
    }
    if (r->target)
        property(o, "target", r->target);
    property(o, "strict", r->strict ? "true" : "false");
    if (r->has_trace_hash) {
        report_fmt_hash(r->trace_hash, buf, sizeof buf);
        property(o, "trace.hash", buf);
    }
    if (r->has_virtual) {
        report_fmt_epoch(r->epoch_unix, buf, sizeof buf);
        property(o, "virtual.epoch", buf);
    }
    for (size_t i = 0; i < r->nknobs; i++) {
        char key[256];
        snprintf(key, sizeof key, "knob.%s", r->knobs[i].key);
        property(o, key, r->knobs[i].value);
    }
    for (size_t i = 0; i < r->ninfo; i++) {
        char key[256];
        snprintf(key, sizeof key, "info.%s", r->info[i].key);
        property(o, key, r->info[i].value);
    }
    put(o, "    </properties>\n");
}

/* The failure/error element's text: everything a CI reader needs without
 * opening the HTML report. */
static void details(xml_out_t *o, const report_case_t *c)
{
    struct { const char *label, *value; } rows[] = {
        { "rule", c->id },           { "level", c->level },       { "spec", c->spec_ref },
        { "rule text", c->rule_text }, { "expected", c->expected }, { "observed", c->observed },
        { "baseline", c->baseline }, { "tolerance", c->tolerance }, { "trace excerpt", c->trace_excerpt },
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (!rows[i].value)
            continue;
        esc(o, rows[i].label);
        put(o, !strcmp(rows[i].label, "trace excerpt") ? ":\n" : ": ");
        esc(o, rows[i].value);
        put(o, "\n");
    }
}

static void failure_message(char *buf, size_t cap, const report_case_t *c)
{
    snprintf(buf, cap, "%s%s%s%s%s%s", report_verdict_name(c->verdict), c->message ? ": " : "",
             c->message ? c->message : "", c->baseline ? " [known failure, baseline: " : "",
             c->baseline ? c->baseline : "", c->baseline ? "]" : "");
}

static void testcase(xml_out_t *o, const report_result_t *r, const report_case_t *c)
{
    char name[512], cls[256], t[32], msg[2048];
    if (c->name)
        snprintf(name, sizeof name, "%s: %s", c->id, c->name);
    else
        snprintf(name, sizeof name, "%s", c->id);
    snprintf(cls, sizeof cls, "hubsim.%s.%s", r->kind == REPORT_KIND_SCENARIO ? "scenario" : "conformance",
             c->area);
    report_fmt_seconds(c->duration, t, sizeof t);
    put(o, "    <testcase");
    attr(o, "name", name);
    attr(o, "classname", cls);
    attr(o, "time", t);
    int failing = c->verdict == REPORT_FAIL || c->verdict == REPORT_WRONG_CODE ||
                  (c->verdict == REPORT_NON_STRICT && r->strict);
    if (c->verdict == REPORT_PASS) {
        put(o, "/>\n");
        return;
    }
    put(o, ">\n");
    failure_message(msg, sizeof msg, c);
    if (failing || c->verdict == REPORT_ERROR) {
        put(o, c->verdict == REPORT_ERROR ? "      <error" : "      <failure");
        attr(o, "type", report_verdict_name(c->verdict));
        attr(o, "message", msg);
        put(o, ">");
        details(o, c);
        put(o, c->verdict == REPORT_ERROR ? "</error>\n" : "</failure>\n");
    } else if (c->verdict == REPORT_SKIP) {
        put(o, "      <skipped");
        attr(o, "message", c->message ? c->message : "not applicable to this target");
        put(o, "/>\n");
    } else { /* NON-STRICT, not gating */
        put(o, "      <system-out>");
        esc(o, msg);
        put(o, "\n");
        details(o, c);
        put(o, "</system-out>\n");
    }
    put(o, "    </testcase>\n");
}

static hs_err_t write_junit(const report_result_t *r, FILE *f)
{
    xml_out_t o = { f, 0 };
    size_t nareas;
    const char **areas = report_result_areas(r, &nareas);
    if (!areas)
        return HS_ENOMEM;
    size_t nfail = 0, nerr = 0;
    sim_time_t total = 0;
    for (size_t i = 0; i < r->ncases; i++) {
        const report_case_t *c = &r->cases[i];
        nfail += c->verdict == REPORT_FAIL || c->verdict == REPORT_WRONG_CODE ||
                 (c->verdict == REPORT_NON_STRICT && r->strict);
        nerr += c->verdict == REPORT_ERROR;
        total += c->duration;
    }
    char t[32], stamp[48];
    report_fmt_seconds(total, t, sizeof t);
    put(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
    attr(&o, "name", r->name);
    attr_num(&o, "tests", r->ncases);
    attr_num(&o, "failures", nfail);
    attr_num(&o, "errors", nerr);
    attr(&o, "time", t);
    put(&o, ">\n");
    if (r->has_wallclock)
        report_fmt_wall(r->wall_started_ms, stamp, sizeof stamp);
    for (size_t a = 0; a < nareas; a++) {
        size_t n = 0, fl = 0, er = 0, sk = 0;
        sim_time_t at = 0;
        for (size_t i = 0; i < r->ncases; i++) {
            const report_case_t *c = &r->cases[i];
            if (strcmp(c->area, areas[a]))
                continue;
            n++;
            fl += c->verdict == REPORT_FAIL || c->verdict == REPORT_WRONG_CODE ||
                  (c->verdict == REPORT_NON_STRICT && r->strict);
            er += c->verdict == REPORT_ERROR;
            sk += c->verdict == REPORT_SKIP;
            at += c->duration;
        }
        char suite[256];
        snprintf(suite, sizeof suite, "%s.%s", r->name, areas[a]);
        report_fmt_seconds(at, t, sizeof t);
        put(&o, "  <testsuite");
        attr(&o, "name", suite);
        attr_num(&o, "tests", n);
        attr_num(&o, "failures", fl);
        attr_num(&o, "errors", er);
        attr_num(&o, "skipped", sk);
        attr(&o, "time", t);
        if (r->has_wallclock) /* the one wall-clock field in this file */
            attr(&o, "timestamp", stamp);
        put(&o, ">\n");
        properties(&o, r);
        for (size_t i = 0; i < r->ncases; i++)
            if (!strcmp(r->cases[i].area, areas[a]))
                testcase(&o, r, &r->cases[i]);
        put(&o, "  </testsuite>\n");
    }
    put(&o, "</testsuites>\n");
    free(areas);
    return o.bad ? HS_EIO : HS_EOK;
}

const report_writer_t report_writer_junit = {
    .name = "junit",
    .extension = "xml",
    .default_file = "junit.xml",
    .write = write_junit,
};
