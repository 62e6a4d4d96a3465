/* Tests for the report writers on a synthetic result with every verdict: JUnit vs Jenkins' XSD, JSON vs its schema, HTML self-containment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports/jschema.h"
#include "reports/result.h"
#include "reports/writer.h"

/* A string that would break every format if it went out unescaped. */
#define NASTY "<script>alert('x')</script> & \"q\" ]]> \x01 \xff end"

static const char *build_dir(void)
{
    const char *d = getenv("HUBSIM_BUILD_DIR");
    return d ? d : ".";
}

static const char *src_dir(void)
{
    const char *d = getenv("HUBSIM_SOURCE_DIR");
    return d ? d : ".";
}

typedef struct {
    const char *id, *area, *name;
    report_verdict_t verdict;
} spec_case_t;

static const spec_case_t synthetic_cases[] = {
    { "METHOD-TIMEOUT-RANGE", "methods", "responseTimeout 300 s accepted", REPORT_PASS },
    { "METHOD-TIMEOUT-RANGE", "methods", "responseTimeout 301 s refused", REPORT_FAIL },
    { "METHOD-404-OFFLINE", "methods", "not subscribed counts as offline", REPORT_WRONG_CODE },
    { "METHOD-LATE-RESPONSE", "methods", "late response dropped", REPORT_NON_STRICT },
    { "MSG-SIZE-LIMIT", "messages", "256 KB accepted", REPORT_PASS },
    { "MSG-PROP-CHARSET", "messages", NASTY, REPORT_FAIL },
    { "C2D-QUEUE-DEPTH", "c2d", "51st message refused", REPORT_PASS },
    { "AUTH-SAS-SCOPE", "auth", "service token scope", REPORT_SKIP },
    { "ROUTE-DEDUP", "routing", "two routes one endpoint", REPORT_ERROR },
    { "TWIN-IF-MATCH", "twins", "stale etag", REPORT_PASS },
};
#define NCASES (sizeof synthetic_cases / sizeof *synthetic_cases)

static report_result_t *synthetic(report_kind_t kind, int strict)
{
    report_result_t *r = report_result_new(kind, kind == REPORT_KIND_SCENARIO ? "offline-windows" : "conformance");
    assert_non_null(r);
    report_result_set_seed(r, 18446744073709551615ull);
    assert_int_equal(report_result_set_target(r, "inproc"), HS_EOK);
    report_result_set_catalogue_version(r, 1);
    report_result_set_trace_hash(r, 0xfeedface01234567ull);
    report_result_set_strict(r, strict);
    report_result_set_virtual(r, 1767225600, 3600 * SIM_SEC);
    assert_int_equal(report_result_set_knob(r, "method_name_max", "100"), HS_EOK);
    assert_int_equal(report_result_set_knob(r, "c2d_feedback_batch", "64 records / 15s"), HS_EOK);
    assert_int_equal(report_result_set_knob(r, "nasty", NASTY), HS_EOK);
    assert_int_equal(report_result_set_info(r, "protocol", "mqtt"), HS_EOK);
    for (size_t i = 0; i < NCASES; i++) {
        const spec_case_t *s = &synthetic_cases[i];
        report_case_t c = {
            .id = s->id, .area = s->area, .name = s->name, .verdict = s->verdict,
            .level = s->verdict == REPORT_NON_STRICT ? "KNOB" : "MUST",
            .rule_text = "responseTimeoutInSeconds accepts 5 to 300 seconds inclusive",
            .spec_ref = "direct-methods.txt: Method invocation",
            .expected = s->verdict == REPORT_PASS ? "200" : "400 ArgumentInvalid",
            .observed = s->verdict == REPORT_PASS ? "200" : "200 " NASTY,
            .message = s->verdict == REPORT_PASS ? NULL : "the hub accepted an out-of-range timeout",
            .trace_excerpt = "{\"t\":0,\"kind\":\"method.invoke\",\"timeout\":301}\n{\"t\":1,\"kind\":\"" NASTY "\"}",
            .duration = (sim_time_t)(i + 1) * 301 * SIM_SEC,
        };
        assert_int_equal(report_result_add_case(r, &c), HS_EOK);
    }
    assert_int_equal(report_result_add_kill(r, "METHOD-TIMEOUT-RANGE", "METHOD-TIMEOUT-RANGE", 1,
                                            "METHOD-TIMEOUT-RANGE: responseTimeout 301 s refused", NULL), HS_EOK);
    assert_int_equal(report_result_add_kill(r, "MSG-SIZE-LIMIT+1", "MSG-SIZE-LIMIT", 0, NULL,
                                            "no case sends 256 KB + 1"), HS_EOK);
    assert_int_equal(report_result_add_kill(r, "C2D-QUEUE-DEPTH", "C2D-QUEUE-DEPTH", 1, "C2D-QUEUE-DEPTH: 51st", NULL),
                     HS_EOK);
    assert_int_equal(report_result_add_counter(r, "method.reboot.status.200", 812), HS_EOK);
    assert_int_equal(report_result_add_counter(r, "method.reboot.status.504", 17), HS_EOK);
    assert_int_equal(report_result_add_counter(r, "d2c.sent", 120000), HS_EOK);
    report_hist_t *h;
    assert_int_equal(report_result_hist(r, "method.reboot.latency", &h), HS_EOK);
    for (uint64_t i = 1; i <= 1000; i++)
        report_hist_record(h, i * 137 * SIM_US);
    for (int m = 0; m <= 60; m++) {
        sim_time_t t = (sim_time_t)m * SIM_MIN;
        assert_int_equal(report_result_add_point(r, "throughput", "msg/s", t, 30.0 + (m % 7) * 2.5), HS_EOK);
        assert_int_equal(report_result_add_point(r, "online devices", "devices", t, m >= 20 && m < 30 ? 60 : 100), HS_EOK);
        assert_int_equal(report_result_add_point(r, "method latency p99", "ms", t, 120.0 + m), HS_EOK);
    }
    return r;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void out_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/report-sample/%s", build_dir(), name);
}

static void write_sample(const char *name, report_kind_t kind, int strict, char *dir, size_t cap)
{
    out_dir(dir, cap, name);
    report_result_t *r = synthetic(kind, strict);
    report_result_set_wallclock(r, 1767268800000, 1767268801234);
    assert_int_equal(reports_write_all(r, dir), HS_EOK);
    report_result_free(r);
}

static int have_xmllint(void)
{
    return system("xmllint --version >/dev/null 2>&1") == 0;
}

static int xmllint_schema(const char *xml)
{
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "xmllint --noout --schema '%.2000s/fixtures/junit/junit-10.xsd' '%.2000s' 2>'%.2000s.xmllint.log'",
                     src_dir(), xml, xml);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_write_all_files(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    write_sample("conformance", REPORT_KIND_CONFORMANCE, 0, dir, sizeof dir);
    const char *files[] = { "report.json", "report.html", "junit.xml" };
    for (int i = 0; i < 3; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 500);
    }
    /* Single-path overrides write only what they name. */
    report_result_t *r = synthetic(REPORT_KIND_CONFORMANCE, 0);
    char only[4200], err[256] = "";
    snprintf(only, sizeof only, "%s/report-sample/only.xml", build_dir());
    unlink(only);
    reports_paths_t p = { .junit = only };
    assert_int_equal(reports_write(r, &p, err, sizeof err), HS_EOK);
    struct stat st;
    assert_int_equal(stat(only, &st), 0);
    /* An unwritable place is an error with a message, not a crash. */
    reports_paths_t bad = { .json = "/nonexistent-dir/x/report.json" };
    assert_int_equal(reports_write(r, &bad, err, sizeof err), HS_EIO);
    assert_non_null(strstr(err, "/nonexistent-dir/x/report.json"));
    assert_non_null(report_writer_find("html"));
    assert_null(report_writer_find("pdf"));
    report_result_free(r);
}

static void test_junit_valid_against_jenkins_xsd(void **state)
{
    (void)state;
    if (!have_xmllint()) {
        fprintf(stderr, "SKIP: xmllint not installed (Debian libxml2-utils, listed in scripts/deps.sh)\n");
        skip();
    }
    char dir[4096], xml[4200];
    for (int strict = 0; strict < 2; strict++) {
        write_sample(strict ? "strict" : "conformance", REPORT_KIND_CONFORMANCE, strict, dir, sizeof dir);
        snprintf(xml, sizeof xml, "%s/junit.xml", dir);
        if (xmllint_schema(xml) != 0)
            fail_msg("%s does not validate against junit-10.xsd (see %s.xmllint.log)", xml, xml);
        char *s = slurp(xml);
        /* One testsuite per area (6 areas), one testcase per case, named by rule ID. */
        assert_int_equal(count_of(s, "<testsuite "), 6);
        assert_int_equal(count_of(s, "<testcase "), NCASES);
        for (size_t i = 0; i < NCASES; i++) {
            char needle[256];
            snprintf(needle, sizeof needle, "<testcase name=\"%s", synthetic_cases[i].id);
            assert_non_null(strstr(s, needle));
        }
        assert_int_equal(count_of(s, "<failure type=\"FAIL\""), 2);
        assert_int_equal(count_of(s, "<failure type=\"WRONG-CODE\""), 1);
        assert_int_equal(count_of(s, "<failure type=\"NON-STRICT\""), strict ? 1 : 0);
        assert_int_equal(count_of(s, "<skipped "), 1);
        assert_int_equal(count_of(s, "<error type=\"ERROR\""), 1);
        assert_non_null(strstr(s, "<property name=\"seed\" value=\"18446744073709551615\"/>"));
        assert_non_null(strstr(s, "<property name=\"target\" value=\"inproc\"/>"));
        assert_non_null(strstr(s, "<property name=\"knob.method_name_max\" value=\"100\"/>"));
        assert_non_null(strstr(s, "<property name=\"hubsim.version\""));
        assert_non_null(strstr(s, "<property name=\"trace.format_version\""));
        assert_non_null(strstr(s, "<property name=\"catalogue.version\" value=\"1\"/>"));
        /* Virtual durations: case 2 took 2 x 301 s. */
        assert_non_null(strstr(s, "time=\"602.000\""));
        assert_null(strstr(s, "<script>"));
        assert_non_null(strstr(s, "&lt;script&gt;alert(&#39;x&#39;)"));
        free(s);
    }
    /* The schema check bites: a testcase without its required name fails. */
    char broken[4200];
    snprintf(broken, sizeof broken, "%s/report-sample/broken-junit.xml", build_dir());
    FILE *f = fopen(broken, "w");
    assert_non_null(f);
    fputs("<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"0\" errors=\"0\">"
          "<testcase classname=\"x\"/></testsuite></testsuites>\n", f);
    fclose(f);
    assert_int_not_equal(xmllint_schema(broken), 0);
}

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("%s:%d: %s", path, e.line, e.text);
    return j;
}

static void test_json_valid_against_schema(void **state)
{
    (void)state;
    char dir[4096], path[4200], err[512] = "";
    write_sample("conformance", REPORT_KIND_CONFORMANCE, 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_t *doc = load_json(path);
    snprintf(path, sizeof path, "%s/reports/report.schema.json", src_dir());
    json_t *schema = load_json(path);
    if (jschema_validate(schema, doc, err, sizeof err))
        fail_msg("report.json does not follow report.schema.json: %s", err);
    json_t *summary = json_object_get(doc, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "total")), NCASES);
    json_t *v = json_object_get(summary, "verdicts");
    assert_int_equal(json_integer_value(json_object_get(v, "FAIL")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "ERROR")), 1);
    assert_string_equal(json_string_value(json_object_get(summary, "gate")), "error");
    assert_int_equal(json_integer_value(json_object_get(summary, "exit_code")), 3);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "run"), "seed")), "18446744073709551615");
    /* The schema check bites. */
    json_object_set_new(json_array_get(json_object_get(doc, "cases"), 0), "verdict", json_string("MAYBE"));
    assert_int_equal(jschema_validate(schema, doc, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "$.cases[0].verdict"));
    json_object_del(doc, "wallclock");
    json_object_set_new(json_array_get(json_object_get(doc, "cases"), 0), "verdict", json_string("PASS"));
    assert_int_equal(jschema_validate(schema, doc, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "wallclock"));
    json_decref(doc);
    json_decref(schema);
}

/* Same inputs, different wall clock: files differ only in the wall-clock fields. */
static void test_reports_deterministic(void **state)
{
    (void)state;
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/report-sample/det-a", build_dir());
    snprintf(b, sizeof b, "%s/report-sample/det-b", build_dir());
    report_result_t *r1 = synthetic(REPORT_KIND_SCENARIO, 0), *r2 = synthetic(REPORT_KIND_SCENARIO, 0);
    report_result_set_wallclock(r1, 1767268800000, 1767268801000);
    report_result_set_wallclock(r2, 1800000000000, 1800000009000);
    assert_int_equal(reports_write_all(r1, a), HS_EOK);
    assert_int_equal(reports_write_all(r2, b), HS_EOK);
    char pa[4300], pb[4300];
    snprintf(pa, sizeof pa, "%s/report.json", a);
    snprintf(pb, sizeof pb, "%s/report.json", b);
    json_t *ja = load_json(pa), *jb = load_json(pb);
    assert_false(json_equal(json_object_get(ja, "wallclock"), json_object_get(jb, "wallclock")));
    json_object_del(ja, "wallclock");
    json_object_del(jb, "wallclock");
    assert_true(json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);
    /* Without wall clock, the whole files are byte-identical. */
    report_result_t *r3 = synthetic(REPORT_KIND_SCENARIO, 0), *r4 = synthetic(REPORT_KIND_SCENARIO, 0);
    assert_int_equal(reports_write_all(r3, a), HS_EOK);
    assert_int_equal(reports_write_all(r4, b), HS_EOK);
    const char *files[] = { "report.json", "report.html", "junit.xml" };
    for (int i = 0; i < 3; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        char *sa = slurp(pa), *sb = slurp(pb);
        assert_string_equal(sa, sb);
        free(sa);
        free(sb);
    }
    report_result_free(r1);
    report_result_free(r2);
    report_result_free(r3);
    report_result_free(r4);
}

static void check_self_contained(const char *html)
{
    /* No network reference of any kind. */
    const char *forbidden[] = { "http://", "https://", "<script src", " src=", "href=", "<link", "@import", "url(",
                                "//fonts", "@font-face" };
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++)
        if (strstr(html, forbidden[i]))
            fail_msg("report.html contains \"%s\"", forbidden[i]);
    assert_non_null(strstr(html, "<style>"));
    assert_non_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "default-src 'none'"));
    /* Exactly one (inline) script element: the page's own. */
    assert_int_equal(count_of(html, "<script"), 1);
}

static void test_html_self_contained_and_complete(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    write_sample("conformance", REPORT_KIND_CONFORMANCE, 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *s = slurp(path);
    check_self_contained(s);
    /* Every case present, expandable, with its verdict and area for the filters. */
    assert_int_equal(count_of(s, "<details class=\"case\""), NCASES);
    for (size_t i = 0; i < NCASES; i++) {
        char needle[256];
        snprintf(needle, sizeof needle, "data-id=\"%s\"", synthetic_cases[i].id);
        assert_non_null(strstr(s, needle));
    }
    assert_int_equal(count_of(s, "data-verdict=\"FAIL\""), 2);
    assert_int_equal(count_of(s, "data-area=\"methods\""), 4);
    /* Summary: totals, target, seed, date; matrix; kill rate 2 of 3. */
    assert_non_null(strstr(s, "id=\"total-FAIL\""));
    assert_non_null(strstr(s, "<dd>inproc</dd>"));
    assert_non_null(strstr(s, "<dd>18446744073709551615</dd>"));
    assert_non_null(strstr(s, "<dd>2026-01-01T12:00:00.000Z</dd>"));
    assert_non_null(strstr(s, "id=\"matrix\""));
    assert_non_null(strstr(s, "<strong id=\"kill-rate\">66.7%</strong>"));
    /* Escaping: the hostile string never appears raw. */
    assert_null(strstr(s, "<script>alert"));
    assert_non_null(strstr(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_null(strstr(s, "\x01"));
    assert_null(strstr(s, "\xff"));
    free(s);

    /* A scenario report carries the charts and outcome tables. */
    write_sample("scenario", REPORT_KIND_SCENARIO, 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/report.html", dir);
    s = slurp(path);
    check_self_contained(s);
    assert_int_equal(count_of(s, "<svg "), 3);
    assert_int_equal(count_of(s, "<polyline "), 3);
    assert_non_null(strstr(s, "id=\"outcomes\""));
    assert_non_null(strstr(s, "method.reboot.status.504"));
    assert_non_null(strstr(s, "id=\"latency\""));
    assert_non_null(strstr(s, "hubsim scenario report"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_all_files),
        cmocka_unit_test(test_junit_valid_against_jenkins_xsd),
        cmocka_unit_test(test_json_valid_against_schema),
        cmocka_unit_test(test_reports_deterministic),
        cmocka_unit_test(test_html_self_contained_and_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
