/* `hubsim run SCENARIO`: play a scenario in virtual time against the in-process hub and report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "run_common.h"
#include "sim/fleet/fleet.h"
#include "sim/fleet/fleet_metrics.h"
#include "sim/fleet/play.h"
#include "sim/fleet/scenario.h"

enum { OPT_SEED, OPT_OUT, OPT_JSON, OPT_HTML, OPT_JUNIT, OPT_TRACE, OPT_SHARD, OPT_QUIET, OPT_BREAK };
static const cli_opt_t run_options[] = {
    { "seed", 's', "N", "override the scenario's seed" },
    { "out", 'o', "DIR", "write report.json, report.html and junit.xml into DIR" },
    { "json", 0, "FILE", "write the JSON report to FILE" },
    { "html", 0, "FILE", "write the HTML report to FILE" },
    { "junit", 0, "FILE", "write the JUnit XML report to FILE" },
    { "trace", 't', "FILE", "write every trace event to FILE as JSON lines" },
    { "shard", 0, "K/N", "play only slice K (0-based) of N of the fleet; merge with `hubsim merge`" },
    { "quiet", 'q', NULL, "no progress line and no summary table" },
    { "break", 0, "RULE-ID", "arm a hub fault switch before the run (see hubsim rules)" },
    { 0 },
};

typedef struct {
    const char *path;
    int seed_set;
    unsigned long long seed;
    reports_paths_t reports;
    const char *trace;
    uint32_t shard_k, shard_n;
    int quiet;
    const char *breaks[16];
    int nbreaks;
} run_args_t;

static int parse_args(const hs_command_t *cmd, int argc, char **argv, run_args_t *a)
{
    cli_iter_t it;
    const char *v;
    memset(a, 0, sizeof *a);
    a->shard_n = 1;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &v)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return -1;
        case CLI_ARG:
            if (a->path)
                return cli_usage_error(cmd, "one scenario at a time (got '%s' and '%s')", a->path, v);
            a->path = v;
            break;
        case OPT_SEED:
            if (cli_parse_u64(v, &a->seed))
                return cli_usage_error(cmd, "--seed takes an unsigned integer, not '%s'", v);
            a->seed_set = 1;
            break;
        case OPT_OUT: a->reports.out_dir = v; break;
        case OPT_JSON: a->reports.json = v; break;
        case OPT_HTML: a->reports.html = v; break;
        case OPT_JUNIT: a->reports.junit = v; break;
        case OPT_TRACE: a->trace = v; break;
        case OPT_SHARD:
            if (run_parse_shard(v, &a->shard_k, &a->shard_n))
                return cli_usage_error(cmd, "--shard takes K/N with 0 <= K < N, not '%s'", v);
            break;
        case OPT_QUIET: a->quiet = 1; break;
        case OPT_BREAK:
            if (a->nbreaks == 16)
                return cli_usage_error(cmd, "at most 16 --break switches");
            a->breaks[a->nbreaks++] = v;
            break;
        }
    }
    if (!a->path)
        return cli_usage_error(cmd, "needs a scenario file");
    return HS_EXIT_OK;
}

static void print_summary(const report_result_t *r, fleet_metrics_t *m)
{
    static const char *const rows[] = {
        "devices", "conn.connected", "conn.failed", "conn.dropped", "conn.online_max",
        "d2c.sent", "d2c.accepted", "d2c.rejected", "d2c.skipped_offline", "d2c.delivered",
        "d2c.latency.p50", "d2c.latency.p99", "method.latency.count", "method.status.200",
        "method.status.404", "method.status.504", "method.latency.p50", "method.latency.p99",
        "c2d.sent", "c2d.accepted", "device.c2d.completed", "twin.desired.accepted",
        "device.twin.reported_accepted", "errors",
    };
    printf("\n%-34s %16s\n", "metric", "value");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        expect_value_t v;
        if (fleet_metrics_lookup(m, rows[i], &v) || v.kind != EXPECT_VALUE_NUMBER)
            continue;
        if (strstr(rows[i], "latency.p")) {
            printf("%-34s %14.3fms\n", rows[i], v.number / 1e6);
        } else {
            printf("%-34s %16.0f\n", rows[i], v.number);
        }
    }
    size_t n = report_result_case_count(r);
    if (n) {
        printf("\n%-6s %s\n", "result", "expectation");
        for (size_t i = 0; i < n; i++) {
            const report_case_t *c = report_result_case_at(r, i);
            printf("%-6s %s%s%s\n", report_verdict_name(c->verdict), c->name ? c->name : c->id,
                   c->observed && c->verdict != REPORT_PASS ? "  -- " : "",
                   c->observed && c->verdict != REPORT_PASS ? c->observed : "");
        }
    }
}

typedef struct {
    double start, last;
    int enabled;
} progress_t;

static void show_progress(void *ctx, sim_time_t t, sim_time_t duration, uint64_t events,
                          const fleet_progress_t *p)
{
    progress_t *pr = ctx;
    double now = run_mono_s();
    if (!pr->enabled || (now - pr->last < 0.2 && t != duration))
        return;
    char vt[32];
    sim_duration_format(t - t % SIM_SEC, vt, sizeof vt);
    double el = now - pr->start;
    fprintf(stderr, "\r[%5.1f%%] t=%-10s %6.2fM events/s  online %llu/%llu  d2c %llu  errors %llu   ",
            100.0 * (double)t / (double)duration, vt, el > 0 ? (double)events / el / 1e6 : 0.0,
            (unsigned long long)p->online, (unsigned long long)p->devices,
            (unsigned long long)p->d2c_accepted, (unsigned long long)p->errors);
    pr->last = now;
}

static int run_run(const hs_command_t *cmd, int argc, char **argv)
{
    run_args_t a;
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc)
        return rc < 0 ? HS_EXIT_OK : rc;

    scenario_t s;
    json_diag_list_t *diags = NULL;
    if (json_diag_list_new(&diags) != HS_EOK)
        return HS_EXIT_HARNESS;
    hs_err_t err = scenario_load_file(a.path, &s, diags);
    if (err != HS_EOK) {
        json_diag_print(diags, stderr);
        fprintf(stderr, "hubsim run: %s: %zu error(s); nothing was run\n", a.path, json_diag_count(diags));
        json_diag_list_free(diags);
        return HS_EXIT_USAGE;
    }
    json_diag_list_free(diags);
    if (a.seed_set)
        s.seed = a.seed;

    char dur[32];
    sim_duration_format(s.duration, dur, sizeof dur);
    printf("seed=%llu scenario=%s (%s) devices=%llu duration=%s shard=%u/%u\n",
           (unsigned long long)s.seed, s.name ? s.name : "?", a.path,
           (unsigned long long)scenario_device_count(&s), dur, a.shard_k, a.shard_n);
    fflush(stdout);

    FILE *trace = NULL;
    if (a.trace && !(trace = fopen(a.trace, "w"))) {
        fprintf(stderr, "hubsim run: cannot write trace %s\n", a.trace);
        scenario_free(&s);
        return HS_EXIT_HARNESS;
    }
    progress_t pr = { run_mono_s(), 0, !a.quiet && isatty(STDERR_FILENO) };
    play_options_t po = {
        .shard = { a.shard_k, a.shard_n },
        .trace = trace,
        .breaks = a.breaks,
        .nbreaks = (size_t)a.nbreaks,
        .progress = show_progress,
        .progress_ctx = &pr,
    };
    int64_t wall_start = run_wall_ms();
    play_outcome_t out;
    err = play_scenario(&s, &po, &out);
    if (pr.enabled)
        fputc('\n', stderr);
    double elapsed = run_mono_s() - pr.start;
    if (err != HS_EOK) {
        fprintf(stderr, "hubsim run: %s: %s\n", a.path, out.why);
        rc = err == HS_EINVAL ? HS_EXIT_USAGE : HS_EXIT_HARNESS;
        goto out;
    }
    report_result_set_wallclock(out.result, wall_start, run_wall_ms());
    if (!a.quiet) {
        fleet_metrics_t *m = fleet_metrics_new(out.result, NULL, out.conserved);
        if (m)
            print_summary(out.result, m);
        fleet_metrics_free(m);
        printf("\nwall %.2fs, %llu events (%.2fM events/s)\n", elapsed, (unsigned long long)out.events,
               elapsed > 0 ? (double)out.events / elapsed / 1e6 : 0.0);
    }
    rc = run_write_reports(cmd->name, out.result, &a.reports);
    if (rc == HS_EXIT_OK && out.failed)
        rc = report_result_exit_code(out.result) == HS_EXIT_HARNESS ? HS_EXIT_HARNESS : HS_EXIT_CHECK;
    if (!out.conserved)
        fprintf(stderr, "hubsim run: conservation check failed: %s\n", out.why);
    printf("trace-hash=%016llx\n", (unsigned long long)out.trace_hash);
out:
    report_result_free(out.result);
    if (trace)
        fclose(trace);
    scenario_free(&s);
    return rc;
}

const hs_command_t hs_cmd_run = {
    .name = "run",
    .summary = "play a scenario in virtual time against the in-process hub",
    .usage = "SCENARIO [--seed N] [--out DIR] [--trace FILE] [--shard K/N] [--quiet]",
    .description =
        "Loads the scenario (every error is listed with file:line:column before anything\n"
        "runs), registers its fleet with an in-process hub built from the scenario's hub\n"
        "configuration, and plays it in virtual time: an hour of fleet life takes seconds.\n"
        "The first line printed names the seed and scenario; the last is trace-hash=<16 hex>,\n"
        "identical for the same seed and scenario on any machine.  A progress line is shown\n"
        "on a terminal.  Each expectation of the scenario becomes a test case in the reports,\n"
        "and the hub's conservation check (every accepted message accounted for) is one more.\n"
        "Exit 0: all expectations hold; 1: one failed or conservation failed; 2: bad\n"
        "scenario or flags; 3: a harness failure (reports could not be written).",
    .options = run_options,
    .run = run_run,
};
