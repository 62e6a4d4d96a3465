/* Expectation lookups over a run's report counters, histograms and the hub ledger. */
#include "fleet_metrics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/writer.h"

struct fleet_metrics {
    const scenario_t *known;  /* declared names for zero-valued families, or NULL */
    report_result_t *result;
    json_t *doc;      /* the result's JSON form: counters and histogram names */
    json_t *hub;      /* hub counters: name -> integer */
    bool conservation_ok;
    char text[64];
};

static json_t *hub_counters_json(const hub_t *hub)
{
    json_t *o = json_object();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!o || !f) {
        if (f)
            fclose(f);
        free(buf);
        return o;
    }
    hub_counters_write(hub, f);
    fclose(f);
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strrchr(line, ' ');
        if (!sp)
            continue;
        *sp = 0;
        json_object_set_new(o, line, json_integer(strtoll(sp + 1, NULL, 10)));
    }
    free(buf);
    return o;
}

fleet_metrics_t *fleet_metrics_new(report_result_t *r, const hub_t *hub, bool conservation_ok)
{
    fleet_metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->result = r;
    m->doc = report_result_to_json(r);
    m->hub = hub ? hub_counters_json(hub) : json_object();
    m->conservation_ok = conservation_ok;
    if (!m->doc || !m->hub) {
        fleet_metrics_free(m);
        return NULL;
    }
    return m;
}

void fleet_metrics_free(fleet_metrics_t *m)
{
    if (!m)
        return;
    json_decref(m->doc);
    json_decref(m->hub);
    free(m);
}

static json_t *section(const fleet_metrics_t *m, const char *name)
{
    return json_object_get(json_object_get(m->doc, "metrics"), name);
}

static const struct { const char *suffix; uint32_t q; } stats[] = {
    { "p50", 50000 }, { "p90", 90000 }, { "p99", 99000 }, { "p99.9", 99900 }, { "p999", 99900 },
    { "max", 0 }, { "min", 0 }, { "mean", 0 }, { "count", 0 },
};

void fleet_metrics_know(fleet_metrics_t *m, const scenario_t *s) { m->known = s; }

/* Counters the fleet writes by fixed name (0 until something happens). */
static const char *const fixed_counters[] = {
    "devices", "errors", "conn.attempts", "conn.connected", "conn.failed", "conn.dropped",
    "conn.closed", "conn.closed.storm", "conn.closed.fault", "conn.online", "conn.online_max",
    "conn.subscribe_failed", "device.outages", "fleet.storms", "fleet.faults", "d2c.sent",
    "d2c.accepted", "d2c.rejected", "d2c.skipped_offline", "d2c.lost_offline", "d2c.delivered",
    "d2c.in_flight_at_end", "c2d.sent", "c2d.accepted", "device.c2d.received",
    "device.c2d.completed", "device.c2d.rejected", "device.c2d.abandoned", "device.c2d.ignored",
    "device.c2d.settle_lost_offline", "twin.desired.sent", "twin.desired.accepted",
    "device.twin.desired_received", "device.twin.reported_accepted",
    "device.twin.report_skipped_offline", "device.method.unknown_rid_sent",
};

/* Families whose last segment is a numeric status or code. */
static const char *const numeric_families[] = {
    "method.status.", "d2c.rejected.", "c2d.rejected.", "conn.failed.", "conn.dropped.",
    "twin.desired.rejected.", "device.twin.reported_rejected.", "device.c2d.settle_failed.",
};

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int method_declared(const scenario_t *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->nactors; i++)
        if (s->actors[i].method && strlen(s->actors[i].method) == len &&
            !strncmp(s->actors[i].method, name, len))
            return 1;
    for (size_t g = 0; g < s->ngroups; g++)
        for (size_t i = 0; i < s->groups[g].nmethods; i++)
            if (strlen(s->groups[g].methods[i].method) == len &&
                !strncmp(s->groups[g].methods[i].method, name, len))
                return 1;
    return 0;
}

static int endpoint_declared(const scenario_t *s, const char *name)
{
    if (!strcmp(name, "events"))
        return 1;
    json_t *eps = json_object_get(s->hub.routing, "endpoints"), *list;
    const char *kind;
    json_object_foreach(eps, kind, list) {
        size_t i;
        json_t *ep;
        json_array_foreach(list, i, ep) {
            const char *n = json_string_value(json_object_get(ep, "name"));
            if (n && !strcmp(n, name))
                return 1;
        }
    }
    return 0;
}

/* Is `key` a counter the fleet would have written, had anything happened? */
static int known_zero(const scenario_t *s, const char *key)
{
    for (size_t i = 0; i < sizeof fixed_counters / sizeof fixed_counters[0]; i++)
        if (!strcmp(key, fixed_counters[i]))
            return 1;
    for (size_t i = 0; i < sizeof numeric_families / sizeof numeric_families[0]; i++) {
        size_t n = strlen(numeric_families[i]);
        if (!strncmp(key, numeric_families[i], n) && all_digits(key + n))
            return 1;
    }
    if (!strncmp(key, "d2c.delivered.", 14))
        return endpoint_declared(s, key + 14);
    /* method.<m>.<what>[.<n>] and device.method.<m>.<what> for declared methods */
    const char *rest = !strncmp(key, "method.", 7) ? key + 7
                       : !strncmp(key, "device.method.", 14) ? key + 14 : NULL;
    if (!rest)
        return 0;
    const char *dot = strchr(rest, '.');
    if (!dot || !method_declared(s, rest, (size_t)(dot - rest)))
        return 0;
    const char *what = dot + 1;
    static const char *const plain[] = { "invoked", "answered", "silent", "unhandled",
                                         "answer_lost_offline" };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (!strcmp(what, plain[i]))
            return 1;
    static const char *const numbered[] = { "status.", "code.", "device_status.", "respond_failed." };
    for (size_t i = 0; i < sizeof numbered / sizeof numbered[0]; i++) {
        size_t n = strlen(numbered[i]);
        if (!strncmp(what, numbered[i], n) && all_digits(what + n))
            return 1;
    }
    return 0;
}

int fleet_metrics_lookup(void *ctx, const char *key, expect_value_t *out)
{
    fleet_metrics_t *m = ctx;
    out->kind = EXPECT_VALUE_MISSING;
    if (strcmp(key, "conservation") == 0) {
        out->kind = EXPECT_VALUE_STRING;
        out->string = m->conservation_ok ? "ok" : "failed";
        return 0;
    }
    if (strncmp(key, "hub.counter.", 12) == 0) {
        json_t *v = json_object_get(m->hub, key + 12);
        if (json_is_integer(v)) {
            out->kind = EXPECT_VALUE_NUMBER;
            out->number = (double)json_integer_value(v);
        }
        return 0;
    }
    json_t *c = json_object_get(section(m, "counters"), key);
    if (json_is_integer(c)) {
        out->kind = EXPECT_VALUE_NUMBER;
        out->number = (double)json_integer_value(c);
        return 0;
    }
    /* <histogram>.<stat>: try each statistic suffix. */
    size_t klen = strlen(key);
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
        size_t slen = strlen(stats[i].suffix);
        if (klen <= slen + 1 || key[klen - slen - 1] != '.' || strcmp(key + klen - slen, stats[i].suffix))
            continue;
        char name[256];
        if (klen - slen - 1 >= sizeof name)
            return 0;
        memcpy(name, key, klen - slen - 1);
        name[klen - slen - 1] = 0;
        if (!json_object_get(section(m, "histograms"), name))
            return 0;
        report_hist_t *h;
        if (report_result_hist(m->result, name, &h) != HS_EOK)
            return -1;
        uint64_t v;
        const char *st = stats[i].suffix;
        if (stats[i].q)
            v = report_hist_quantile(h, stats[i].q);
        else if (!strcmp(st, "max"))
            v = report_hist_max(h);
        else if (!strcmp(st, "min"))
            v = report_hist_min(h);
        else if (!strcmp(st, "count"))
            v = report_hist_count(h);
        else
            v = report_hist_count(h) ? report_hist_sum(h) / report_hist_count(h) : 0;
        out->kind = EXPECT_VALUE_NUMBER;
        out->number = (double)v;
        return 0;
    }
    if (m->known && known_zero(m->known, key)) {
        out->kind = EXPECT_VALUE_NUMBER;
        out->number = 0;
    }
    return 0;
}

void fleet_metrics_keys(void *ctx, void (*emit)(void *ectx, const char *key), void *ectx)
{
    fleet_metrics_t *m = ctx;
    const char *k;
    json_t *v;
    char buf[300];
    emit(ectx, "conservation");
    json_object_foreach(section(m, "counters"), k, v)
        emit(ectx, k);
    json_object_foreach(section(m, "histograms"), k, v) {
        for (size_t i = 0; i < 4; i++) {
            snprintf(buf, sizeof buf, "%s.%s", k, stats[i].suffix);
            emit(ectx, buf);
        }
    }
    json_object_foreach(m->hub, k, v) {
        snprintf(buf, sizeof buf, "hub.counter.%s", k);
        emit(ectx, buf);
    }
}

int fleet_expectations_evaluate(const scenario_t *s, fleet_metrics_t *m, report_result_t *r,
                                bool conservation_ok, const char *conservation_why)
{
    int failed = 0;
    fleet_metrics_know(m, s);
    report_case_t cons = {
        .id = "conservation",
        .area = "expectations",
        .name = "every accepted message is delivered, expired, dead-lettered or dropped with a reason",
        .verdict = conservation_ok ? REPORT_PASS : REPORT_FAIL,
        .level = "MUST",
        .expected = "ok",
        .observed = conservation_ok ? "ok" : conservation_why,
        .message = conservation_ok ? NULL : conservation_why,
        .duration = s->duration,
    };
    report_result_add_case(r, &cons);
    failed += !conservation_ok;
    for (size_t i = 0; i < s->nexpectations; i++) {
        const scn_expectation_t *x = &s->expectations[i];
        expect_t *e = NULL;
        expect_error_t perr;
        expect_result_t res = { 0 };
        char msg[256];
        report_case_t c = { .id = x->name ? x->name : x->text, .area = "expectations", .name = x->text,
                            .level = "MUST", .duration = s->duration };
        if (expect_parse(x->text, &e, &perr) != HS_EOK) {
            snprintf(msg, sizeof msg, "column %u: %s", perr.column, perr.message);
            c.verdict = REPORT_ERROR;
            c.message = msg;
            report_result_add_case(r, &c);
            failed++;
            continue;
        }
        hs_err_t err = expect_eval(e, fleet_metrics_lookup, fleet_metrics_keys, m, &res);
        char expected[200];
        snprintf(expected, sizeof expected, "%s %s", expect_op_text(expect_op(e)), expect_target_text(e));
        c.expected = expected;
        if (err != HS_EOK) {
            c.verdict = REPORT_ERROR;
            c.message = "the metrics lookup failed";
        } else {
            c.verdict = res.pass ? REPORT_PASS : REPORT_FAIL;
            c.observed = res.detail;
            c.message = res.pass ? NULL : res.detail;
        }
        failed += c.verdict != REPORT_PASS;
        report_result_add_case(r, &c);
        expect_result_free(&res);
        expect_free(e);
    }
    return failed;
}
