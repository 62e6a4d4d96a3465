/* `hubsim conform`: run the conformance suite against a target, gate on MUST rules, write JUnit/HTML/JSON, run the kill matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conformance/switches.h"
#include "conformance/target_live.h"
#include "conformance/runner.h"
#include "run_common.h"
#include "sim/fleet/report_knobs.h"
#include "sim/hub/faults.h"
#include "sim/hub/hub_config.h"
#include "transports/tr_connstr.h"
#include "transports/tr_http.h"
#include "transports/tr_loop.h"

enum {
    OPT_TARGET, OPT_ONLY, OPT_PROTOCOL, OPT_SEED, OPT_STRICT, OPT_BASELINE, OPT_TODAY, OPT_BREAK,
    OPT_KILL, OPT_UPDATE, OPT_OUT, OPT_JUNIT, OPT_HTML, OPT_JSON, OPT_QUIET, OPT_LIST, OPT_CA, OPT_YES, OPT_QUICK
};
static const cli_opt_t conform_options[] = {
    { "target", 0, "NAME|CS", "where to run the cases: inproc (default), or a hub's service connection string "
      "(HostName=..;SharedAccessKeyName=..;SharedAccessKey=..[;MqttPort=..;HttpsPort=..;AdminPort=..]) for the live target" },
    { "only", 0, "GLOB", "only rules whose ID matches one of these comma-separated globs" },
    { "protocol", 0, "P", "mqtt, amqp or https: skip rules that do not apply, connect devices with it" },
    { "seed", 's', "N", "seed of every case's kernel (default 1)" },
    { "strict", 0, NULL, "NON-STRICT verdicts (SHOULD and knob rules) fail the gate too" },
    { "baseline", 0, "FILE", "known failures [{rule, reason, expires YYYY-MM-DD}] that do not gate until they expire" },
    { "today", 0, "YYYY-MM-DD", "the date baseline expiry is compared with (default: today, UTC)" },
    { "break", 0, "SWITCH", "arm a break switch in every case: a hub one (RULE-ID or RULE-ID:off-by-one), a wire one (MQTT-..., http-...) or the CONN-UNKNOWN-TOPIC knob flip" },
    { "kill-matrix", 0, NULL, "also run the suite once per break switch and print the kill rate" },
    { "update", 0, NULL, "rewrite golden traces (conformance cases keep none yet: nothing to rewrite)" },
    { "out", 'o', "DIR", "write report.json, report.html and junit.xml into DIR" },
    { "junit", 0, "FILE", "write the JUnit XML report to FILE" },
    { "html", 0, "FILE", "write the HTML report to FILE" },
    { "json", 0, "FILE", "write the JSON report to FILE" },
    { "quiet", 'q', NULL, "print only the summary line" },
    { "list", 'l', NULL, "list the cases (after --only) with their rule's level and area; run nothing" },
    { "ca", 0, "FILE", "live target: trust the CAs in this PEM file instead of the system store" },
    { "yes", 'y', NULL, "live target on a hub that is not hubsim serve: register the devices the run says it needs" },
    { "quick", 0, NULL, "live target: SKIP the rules with a case that waits a minute or more of wall time" },
    { 0 },
};

#define MAX_BREAKS 16

typedef struct {
    const char *target;
    const char *ca;
    const char *only;
    int protocol;
    unsigned long long seed;
    int strict;
    const char *baseline;
    const char *today;
    const char *breaks[MAX_BREAKS];
    size_t n_breaks;
    int kill;
    int update;
    int quiet;
    int list;
    int yes;
    int quick;
    reports_paths_t reports;
} conform_args_t;

static int parse_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int mo = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 ? 0 : -1;
}

static int parse_args(const hs_command_t *cmd, int argc, char **argv, conform_args_t *a)
{
    cli_iter_t it;
    const char *v;
    memset(a, 0, sizeof *a);
    a->target = "inproc";
    a->protocol = -1;
    a->seed = 1;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &v)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return -1;
        case CLI_ARG: return cli_usage_error(cmd, "unexpected argument '%s'", v);
        case OPT_TARGET: a->target = v; break;
        case OPT_CA: a->ca = v; break;
        case OPT_ONLY: a->only = v; break;
        case OPT_PROTOCOL:
            if (strcmp(v, "mqtt") == 0)
                a->protocol = TARGET_PROTO_MQTT;
            else if (strcmp(v, "amqp") == 0)
                a->protocol = TARGET_PROTO_AMQP;
            else if (strcmp(v, "https") == 0)
                a->protocol = TARGET_PROTO_HTTPS;
            else
                return cli_usage_error(cmd, "--protocol takes mqtt, amqp or https, not '%s'", v);
            break;
        case OPT_SEED:
            if (cli_parse_u64(v, &a->seed))
                return cli_usage_error(cmd, "--seed takes an unsigned integer, not '%s'", v);
            break;
        case OPT_STRICT: a->strict = 1; break;
        case OPT_BASELINE: a->baseline = v; break;
        case OPT_TODAY:
            if (parse_date(v))
                return cli_usage_error(cmd, "--today takes a YYYY-MM-DD date, not '%s'", v);
            a->today = v;
            break;
        case OPT_BREAK: {
            conform_switch_t sw;
            if (!conform_switch_find(v, &sw))
                return cli_usage_error(cmd, "unknown break switch '%s' (hubsim serve --list-breaks lists them: "
                                            "hub RULE-ID or RULE-ID:off-by-one, MQTT-..., http-..., CONN-UNKNOWN-TOPIC)", v);
            if (a->n_breaks == MAX_BREAKS)
                return cli_usage_error(cmd, "at most %d --break switches", MAX_BREAKS);
            a->breaks[a->n_breaks++] = v;
            break;
        }
        case OPT_KILL: a->kill = 1; break;
        case OPT_UPDATE: a->update = 1; break;
        case OPT_OUT: a->reports.out_dir = v; break;
        case OPT_JUNIT: a->reports.junit = v; break;
        case OPT_HTML: a->reports.html = v; break;
        case OPT_JSON: a->reports.json = v; break;
        case OPT_QUIET: a->quiet = 1; break;
        case OPT_LIST: a->list = 1; break;
        case OPT_YES: a->yes = 1; break;
        case OPT_QUICK: a->quick = 1; break;
        }
    }
    return HS_EXIT_OK;
}

#define THROTTLED_CAUSE "throttled (429)"

/* Every non-PASS case with expected/observed; on a wall-clock target (its
 * cases carry a tolerance) every case that ran, each with its tolerance. */
static void print_cases(const report_result_t *r)
{
    for (size_t i = 0; i < report_result_case_count(r); i++) {
        const report_case_t *c = report_result_case_at(r, i);
        if (c->verdict == REPORT_SKIP || (c->verdict == REPORT_PASS && !c->tolerance))
            continue;
        printf("%-10s %-30s %s%s\n", report_verdict_name(c->verdict), c->id, c->name ? c->name : "",
               c->baseline ? "  [baseline]" : "");
        if (c->expected && c->verdict != REPORT_PASS)
            printf("           expected: %s\n", c->expected);
        if (c->observed && c->verdict != REPORT_PASS)
            printf("           observed: %s\n", c->observed);
        if (c->message)
            printf("           %s\n", c->message);
        if (c->tolerance)
            printf("           tolerance: %s\n", c->tolerance);
    }
}

/* Cases the target throttled: their verdicts are ERROR with the cause, not rule failures. */
static size_t throttled_cases(const report_result_t *r)
{
    size_t n = 0;
    for (size_t i = 0; i < report_result_case_count(r); i++) {
        const report_case_t *c = report_result_case_at(r, i);
        n += c->verdict == REPORT_ERROR && c->message && strncmp(c->message, THROTTLED_CAUSE, strlen(THROTTLED_CAUSE)) == 0;
    }
    return n;
}

/* ---- live target: provisioning confirmation and --quick ---------------------------- */

#define QUICK_MAX_NS ((sim_time_t)60 * 1000000000) /* --quick skips rules with a case this long or longer */
#define ADMIN_PROBE_MS 5000

/* The address is `hubsim serve` when its admin API answers GET /health. */
static bool served_hub(const char *address)
{
    tr_connstr_t cs;
    char why[400];
    if (tr_connstr_parse(address, &cs, why, sizeof why) != HS_EOK || !cs.admin_port)
        return false;
    tr_loop_t *l = tr_loop_new();
    if (!l)
        return false;
    tr_http_target_t to = { .loop = l, .host = cs.connect_host, .port = cs.admin_port };
    tr_http_request_t rq = { .method = "GET", .path = "/health" };
    tr_http_req_t *req = NULL;
    bool ok = tr_http_call(&to, &rq, ADMIN_PROBE_MS, &req, why, sizeof why) == HS_EOK &&
              tr_http_result(req)->status == 200;
    tr_http_free(req);
    tr_loop_free(l);
    return ok;
}

/* Selected cases that can run on a target with caps (an upper bound: the
 * protocol filter is not applied). */
static size_t live_case_count(const char *only, unsigned caps)
{
    size_t n = 0;
    for (size_t i = 0; i < conform_case_count(); i++) {
        const conf_case_t *cs = conform_case_at(i);
        n += cs->run && !cs->skip && !(cs->needs & ~caps) && conform_only_match(only, cs->rule);
    }
    return n;
}

typedef struct {
    char *only;       /* the selection without the slow rules ("" when none is left) */
    const char **slow; /* slow rule IDs */
    sim_time_t *slow_ns;
    size_t n_slow;
} quick_t;

static void quick_free(quick_t *q)
{
    free(q->only);
    free(q->slow);
    free(q->slow_ns);
    memset(q, 0, sizeof *q);
}

static size_t quick_find(const quick_t *q, const char *rule)
{
    for (size_t i = 0; i < q->n_slow; i++)
        if (strcmp(q->slow[i], rule) == 0)
            return i;
    return q->n_slow;
}

static const conf_case_t *case_named(const char *rule, const char *name)
{
    for (size_t i = 0; i < conform_case_count(); i++) {
        const conf_case_t *cs = conform_case_at(i);
        if (strcmp(cs->rule, rule) == 0 && cs->name && name && strcmp(cs->name, name) == 0)
            return cs;
    }
    return NULL;
}

/* Measure every selected case's duration in-process (virtual time: the
 * whole suite takes well under a second) and drop the rules with a case of
 * a minute or more that would run on the live target. */
static hs_err_t quick_plan(const conform_options_t *o, const char *only, unsigned caps, quick_t *q)
{
    memset(q, 0, sizeof *q);
    conform_options_t p = *o;
    p.target = &target_inproc;
    p.target_name = "inproc";
    p.address = NULL;
    p.only = only;
    p.capture_trace = false;
    p.baseline = NULL;
    report_result_t *ref = report_result_new(REPORT_KIND_CONFORMANCE, "conformance");
    conform_summary_t sum;
    if (!ref || conform_run(&p, ref, &sum) != HS_EOK) {
        report_result_free(ref);
        return HS_ENOMEM;
    }
    size_t n = report_result_case_count(ref);
    q->slow = calloc(n + 1, sizeof *q->slow);
    q->slow_ns = calloc(n + 1, sizeof *q->slow_ns);
    size_t cap = 1;
    for (size_t i = 0; i < catalogue_count(o->cat); i++)
        cap += strlen(catalogue_rule_at(o->cat, i)->id) + 1;
    q->only = calloc(cap, 1);
    if (!q->slow || !q->slow_ns || !q->only) {
        report_result_free(ref);
        quick_free(q);
        return HS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const report_case_t *rc = report_result_case_at(ref, i);
        const conf_case_t *cs = case_named(rc->id, rc->name);
        if (!cs || rc->duration < QUICK_MAX_NS || cs->skip || (cs->needs & ~caps))
            continue;
        size_t k = quick_find(q, cs->rule);
        if (k == q->n_slow)
            q->slow[q->n_slow++] = cs->rule; /* a static string of the case table */
        if (rc->duration > q->slow_ns[k])
            q->slow_ns[k] = rc->duration;
    }
    report_result_free(ref);
    /* every catalogue rule of the selection but the slow ones, so rules
     * without a case (client rules) still get their SKIP line */
    for (size_t i = 0; i < catalogue_count(o->cat); i++) {
        const char *rule = catalogue_rule_at(o->cat, i)->id;
        if (!conform_only_match(only, rule) || quick_find(q, rule) < q->n_slow)
            continue;
        if (*q->only)
            strcat(q->only, ",");
        strcat(q->only, rule);
    }
    return HS_EOK;
}

/* The SKIP verdicts of the rules --quick left out, with the wait that decided it. */
static hs_err_t quick_report(const quick_t *q, const char *only, const catalogue_t *cat, report_result_t *r,
                             conform_summary_t *sum)
{
    for (size_t i = 0; i < conform_case_count(); i++) {
        const conf_case_t *cs = conform_case_at(i);
        size_t k = quick_find(q, cs->rule);
        if (k == q->n_slow || !conform_only_match(only, cs->rule))
            continue;
        const catalogue_rule_t *rule = catalogue_find(cat, cs->rule);
        char msg[200];
        snprintf(msg, sizeof msg, "--quick: a case of this rule waits %.0f s of wall time on a live hub",
                 (double)q->slow_ns[k] / 1e9);
        report_case_t rc = { .id = cs->rule, .area = rule ? rule->area : "hub", .name = cs->name,
                             .verdict = REPORT_SKIP, .level = rule ? rule->level_name : NULL,
                             .rule_text = rule ? rule->text : NULL, .message = msg };
        if (report_result_add_case(r, &rc) != HS_EOK)
            return HS_ENOMEM;
        sum->cases++;
        sum->by_verdict[REPORT_SKIP]++;
    }
    return HS_EOK;
}

static int run_conform(const hs_command_t *cmd, int argc, char **argv)
{
    conform_args_t a;
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc)
        return rc < 0 ? HS_EXIT_OK : rc;

    char err[768];
    catalogue_t *cat = NULL;
    if (catalogue_load_default(&cat, err, sizeof err) != HS_EOK) {
        fprintf(stderr, "hubsim conform: rule catalogue: %s\n", err);
        return HS_EXIT_HARNESS;
    }
    conform_baseline_t *baseline = NULL;
    report_result_t *r = NULL;
    char *address = NULL; /* the live target's connection string (+ CaFile) */
    quick_t quick;
    memset(&quick, 0, sizeof quick);
    rc = HS_EXIT_USAGE;
    if (a.only && conform_only_check(a.only, cat, err, sizeof err) != HS_EOK) {
        fprintf(stderr, "hubsim conform: %s\n", err);
        goto out;
    }
    if (a.baseline && conform_baseline_load(a.baseline, cat, &baseline, err, sizeof err) != HS_EOK) {
        fprintf(stderr, "hubsim conform: --baseline %s\n", err);
        goto out;
    }
    if (a.list) {
        for (size_t i = 0; i < conform_case_count(); i++) {
            const conf_case_t *cs = conform_case_at(i);
            if (!conform_only_match(a.only, cs->rule))
                continue;
            const catalogue_rule_t *rule = catalogue_find(cat, cs->rule);
            printf("%-30s %-6s %-12s %s%s%s%s\n", cs->rule, rule ? rule->level_name : "?",
                   rule ? rule->area : "?", cs->name, cs->skip ? "  [SKIP: " : "",
                   cs->skip ? cs->skip : "", cs->skip ? "]" : "");
        }
        rc = HS_EXIT_OK;
        goto out;
    }
    char today[16];
    if (!a.today) {
        /* tools/ may read the wall clock; the date only decides baseline expiry */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(today, sizeof today, "%Y-%m-%d", &tm);
        a.today = today;
    }
    if (a.update && !a.quiet)
        printf("--update: conformance cases keep no golden traces yet; nothing to rewrite\n");

    conform_options_t o;
    conform_options_init(&o);
    o.cat = cat;
    o.seed = a.seed;
    o.only = a.only;
    o.protocol = a.protocol;
    o.breaks = a.breaks;
    o.n_breaks = a.n_breaks;
    o.baseline = baseline;
    o.today = a.today;
    o.target_name = a.target;
    o.target = target_find(a.target);
    /* A connection string selects the live target; its key never reaches
     * the output (target_name is "live"). */
    if (strstr(a.target, "HostName=")) {
        size_t n = strlen(a.target) + (a.ca ? strlen(a.ca) + 16 : 0) + 1;
        address = malloc(n);
        if (!address) {
            rc = HS_EXIT_HARNESS;
            goto out;
        }
        snprintf(address, n, "%s%s%s", a.target, a.ca ? ";CaFile=" : "", a.ca ? a.ca : "");
        o.address = address;
        o.target = target_live_for_address(address);
        o.target_name = a.target = "live";
    }
    if (address && o.target && !served_hub(address)) {
        /* a hub that is not hubsim serve may be paid and has quotas: say what the run registers first */
        tr_connstr_t cs;
        char why[300];
        const char *host = tr_connstr_parse(address, &cs, why, sizeof why) == HS_EOK ? cs.host : "the target";
        size_t n = live_case_count(a.only, o.target->caps);
        size_t bound = n * TARGET_LIVE_MAX_IDENTITIES_PER_CASE;
        if (!a.yes) {
            fprintf(stderr,
                    "hubsim conform: %s is not hubsim serve (no admin API answers): %zu case%s would register up to "
                    "%zu devices and modules there (at most %d per case, ids hsXXXXXX-..., each case deletes its own "
                    "before the next) and send their C2D and D2C messages; run again with --yes to go ahead\n",
                    host, n, n == 1 ? "" : "s", bound, TARGET_LIVE_MAX_IDENTITIES_PER_CASE);
            rc = HS_EXIT_USAGE;
            goto out;
        }
        if (!a.quiet)
            printf("%s is not hubsim serve: %zu cases, up to %zu devices and modules registered (--yes given); "
                   "after a crash: hubsim cleanup --target ... --prefix hs --yes\n", host, n, bound);
    }
    bool run_none = false;
    if (a.quick && address && o.target) {
        if (quick_plan(&o, a.only, o.target->caps, &quick) != HS_EOK) {
            rc = HS_EXIT_HARNESS;
            fprintf(stderr, "hubsim conform: out of memory\n");
            goto out;
        }
        run_none = !*quick.only;
        o.only = quick.only;
    } else if (a.quick && !a.quiet) {
        printf("--quick: in-process boundaries take milliseconds of virtual time; nothing to skip\n");
    }
    char terr[256];
    if (!o.target) {
        /* A target that cannot be used is a harness error with a report of
         * ERROR cases, not silence: CI then shows what did not run. */
        snprintf(terr, sizeof terr, "unknown or unreachable target '%s' (built-in: inproc, or a service connection string)", a.target);
        o.target_error = terr;
        fprintf(stderr, "hubsim conform: %s\n", terr);
    }

    r = report_result_new(REPORT_KIND_CONFORMANCE, "conformance");
    rc = HS_EXIT_HARNESS;
    if (!r)
        goto out;
    int64_t wall_start = run_wall_ms();
    double mono0 = run_mono_s();
    report_result_set_strict(r, a.strict);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    report_stamp_hub_knobs(r, &cfg);
    hub_config_free(&cfg);
    printf("seed=%llu target=%s catalogue=v%d protocol=%s%s%s\n", a.seed, a.target, catalogue_version(cat),
           a.protocol < 0 ? "any" : a.protocol == TARGET_PROTO_AMQP ? "amqp"
                                   : a.protocol == TARGET_PROTO_HTTPS ? "https" : "mqtt",
           a.only ? " only=" : "", a.only ? a.only : "");
    conform_summary_t sum;
    memset(&sum, 0, sizeof sum);
    if ((!run_none && conform_run(&o, r, &sum) != HS_EOK) ||
        (quick.n_slow && quick_report(&quick, a.only, cat, r, &sum) != HS_EOK)) {
        fprintf(stderr, "hubsim conform: out of memory\n");
        goto out;
    }
    double suite_s = run_mono_s() - mono0;
    if (!a.quiet)
        print_cases(r);
    printf("%zu cases: %zu PASS, %zu NON-STRICT, %zu WRONG-CODE, %zu FAIL, %zu SKIP, %zu ERROR (%.2fs)\n",
           sum.cases, sum.by_verdict[REPORT_PASS], sum.by_verdict[REPORT_NON_STRICT],
           sum.by_verdict[REPORT_WRONG_CODE], sum.by_verdict[REPORT_FAIL], sum.by_verdict[REPORT_SKIP],
           sum.by_verdict[REPORT_ERROR], suite_s);
    size_t throttled = throttled_cases(r);
    if (throttled)
        printf("%zu case%s " THROTTLED_CAUSE " by the target: reported ERROR with the cause, not as rule failures "
               "(the hub's throttling limits were reached; run fewer cases at once or raise its units)\n",
               throttled, throttled == 1 ? "" : "s");
    if (sum.stale[0])
        printf("stale baseline entries (their rules now pass): %s\n", sum.stale);
    if (sum.expired[0])
        printf("expired baseline entries (failing again): %s\n", sum.expired);

    int kill_failed = 0;
    if (a.kill) {
        size_t killed = 0, total = 0;
        double k0 = run_mono_s();
        hs_err_t e = conform_kill_matrix(&o, r, a.quiet ? NULL : stdout, &killed, &total);
        if (e == HS_EUNSUPPORTED) {
            fprintf(stderr, "hubsim conform: --kill-matrix needs a target that can break rules (inproc); against "
                            "hubsim serve, scripts/live-kill-matrix.sh starts serve --break SWITCH per switch\n");
            kill_failed = 1;
        } else if (e != HS_EOK) {
            fprintf(stderr, "hubsim conform: kill matrix: %s\n", hs_strerror(e));
            goto out;
        } else {
            printf("kill rate %zu/%zu (%.1f%%) in %.2fs\n", killed, total,
                   total ? 100.0 * (double)killed / (double)total : 0.0, run_mono_s() - k0);
            kill_failed = killed != total;
        }
    }
    report_result_set_wallclock(r, wall_start, run_wall_ms());
    if (sum.has_trace_hash)
        printf("trace-hash=%016llx\n", (unsigned long long)sum.trace_hash);
    rc = run_write_reports(cmd->name, r, &a.reports);
    if (rc == HS_EXIT_OK) {
        rc = report_result_exit_code(r);
        if (rc == HS_EXIT_OK && kill_failed)
            rc = HS_EXIT_CHECK;
    }
out:
    quick_free(&quick);
    free(address);
    report_result_free(r);
    conform_baseline_free(baseline);
    catalogue_free(cat);
    return rc;
}

const hs_command_t hs_cmd_conform = {
    .name = "conform",
    .summary = "run the conformance suite (every catalogue rule at its boundaries) against a target",
    .usage = "[--target inproc|CONNECTION-STRING [--ca FILE] [--yes] [--quick]] [--only GLOB] [--protocol mqtt|amqp|https] [--seed N] [--strict] "
             "[--baseline FILE] [--break SWITCH] [--kill-matrix] [--out DIR] [--junit F] [--html F] [--json F]",
    .description =
        "Runs one or more cases per rule of the catalogue (hubsim rules) through the transport\n"
        "seam: in-process (the default) every case gets a fresh hub in virtual time, so the\n"
        "300 s boundaries take milliseconds.  Verdicts: PASS, NON-STRICT (a SHOULD or knob rule\n"
        "differs), WRONG-CODE (refused as due but with another status or error code), FAIL,\n"
        "SKIP (with why), ERROR (the harness or target failed).  Each non-PASS case prints the\n"
        "expected and observed outcome; the reports add the rule text, spec reference and a\n"
        "trace excerpt.  --break makes the in-process hub violate a rule, to see a failing\n"
        "report; --kill-matrix proves every break switch is caught by a case of its own rule.\n"
        "A connection string runs the cases in wall time against that hub (docs/live.md); on a\n"
        "hub that is not hubsim serve (no AdminPort= whose admin API answers) the run first\n"
        "states how many devices it may register and needs --yes.  --quick there SKIPs the\n"
        "rules with a case that waits a minute or more (measured in-process first).  Each live\n"
        "verdict is printed with the timing tolerance its case ran with; a case the hub\n"
        "throttled is ERROR with the cause \"throttled (429)\", not a rule failure.\n"
        "Exit 0: every MUST case passes (baseline entries excepted until they expire); 1: a\n"
        "case failed (or, with --strict, was NON-STRICT; or a switch survived the kill matrix);\n"
        "2: bad flags, a malformed --only glob, an unknown rule ID or switch, a bad baseline;\n"
        "3: harness or target error (ERROR verdicts; the reports are still written).",
    .options = conform_options,
    .run = run_conform,
};
