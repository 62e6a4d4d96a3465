/* `hubsim run SCENARIO`: play a scenario in virtual time against the in-process hub, or in wall time against a real hub (--target), and report. */
#include <signal.h>
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
#include "live/live_play.h"
#include "transports/tr_device.h"

enum {
    OPT_SEED, OPT_OUT, OPT_JSON, OPT_HTML, OPT_JUNIT, OPT_TRACE, OPT_SHARD, OPT_QUIET, OPT_BREAK,
    OPT_TARGET, OPT_CA, OPT_PROTOCOL, OPT_TIME_SCALE, OPT_YES, OPT_DEVICE_LIST, OPT_PREFIX
};
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
    { "target", 0, "CS", "play in wall time against the hub of this service connection string (docs/run-live.md)" },
    { "ca", 0, "FILE", "live: trust the CAs in this PEM file (default: the string's CaFile=, else the system store)" },
    { "protocol", 0, "PROTO", "live: mqtt, amqp or https for every device (default: each group's protocol)" },
    { "time-scale", 0, "X", "live: virtual seconds per wall second (default 1; 10 plays 60 s in 6 s)" },
    { "yes", 'y', NULL, "live: go ahead on a hub that is not hubsim serve (registers devices, sends messages)" },
    { "device-list", 0, "FILE", "live: pre-provisioned devices, one 'deviceId;base64key' per line, taken in order" },
    { "prefix", 0, "P", "live: device id prefix of the registered devices (default hsXXXXXX-, random per run)" },
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
    const char *target, *ca, *device_list, *prefix;
    int protocol; /* -1: the groups' */
    double time_scale;
    int yes;
} run_args_t;

static int parse_args(const hs_command_t *cmd, int argc, char **argv, run_args_t *a)
{
    cli_iter_t it;
    const char *v;
    memset(a, 0, sizeof *a);
    a->shard_n = 1;
    a->protocol = -1;
    a->time_scale = 1.0;
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
        case OPT_TARGET: a->target = v; break;
        case OPT_CA: a->ca = v; break;
        case OPT_DEVICE_LIST: a->device_list = v; break;
        case OPT_PREFIX:
            if (!*v || strlen(v) > 40)
                return cli_usage_error(cmd, "--prefix takes 1 to 40 characters, not '%s'", v);
            a->prefix = v;
            break;
        case OPT_YES: a->yes = 1; break;
        case OPT_PROTOCOL:
            if (!strcmp(v, "mqtt"))
                a->protocol = TR_DEV_MQTT;
            else if (!strcmp(v, "amqp"))
                a->protocol = TR_DEV_AMQP;
            else if (!strcmp(v, "https"))
                a->protocol = TR_DEV_HTTPS;
            else
                return cli_usage_error(cmd, "--protocol takes mqtt, amqp or https, not '%s'", v);
            break;
        case OPT_TIME_SCALE: {
            char *end;
            a->time_scale = strtod(v, &end);
            if (end == v || *end || !(a->time_scale > 0) || a->time_scale > 1e6)
                return cli_usage_error(cmd, "--time-scale takes a number > 0 (at most 1e6), not '%s'", v);
            break;
        }
        }
    }
    if (!a->path)
        return cli_usage_error(cmd, "needs a scenario file");
    if (a->target && !strcmp(a->target, "inproc"))
        a->target = NULL;
    if (a->target) {
        if (a->shard_n != 1)
            return cli_usage_error(cmd, "--shard is for virtual runs; a live run plays the whole fleet");
        if (a->nbreaks)
            return cli_usage_error(cmd, "--break arms the in-process hub; for hubsim serve use serve --break");
        if (a->trace)
            return cli_usage_error(cmd, "--trace is for virtual runs (a live run has no reproducible trace)");
    } else if (a->ca || a->protocol >= 0 || a->time_scale != 1.0 || a->yes || a->device_list || a->prefix) {
        return cli_usage_error(cmd, "--ca, --protocol, --time-scale, --yes, --device-list and --prefix need --target");
    }
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

/* The signal that asked a live run to stop (a handler can only set a flag). */
static volatile sig_atomic_t live_stop;

static void on_stop_signal(int sig)
{
    live_stop = sig;
}

static void print_wallclock(const live_outcome_t *lo)
{
    printf("\nwall clock (live: not deterministic)\n");
    printf("%-34s %14.3fs\n", "wall time", lo->wall_s);
    printf("%-34s %14.3fms\n", "timer late p50", (double)lo->jitter_p50_ns / 1e6);
    printf("%-34s %14.3fms\n", "timer late p99", (double)lo->jitter_p99_ns / 1e6);
    printf("%-34s %14.3fms\n", "timer late max", (double)lo->jitter_max_ns / 1e6);
    if (lo->all_online_s >= 0)
        printf("%-34s %14.3fs\n", "all devices online after", lo->all_online_s);
    printf("%-34s %16zu\n", "identities", lo->identities);
    printf("%-34s %16zu\n", "deleted at the end", lo->deleted);
    if (lo->identities)
        printf("%-34s %16zu\n", "client bytes per device", lo->client_bytes / lo->identities);
}

static void print_causes(const live_outcome_t *lo)
{
    if (lo->ncauses)
        printf("\nfirst cause of each failure counter\n");
    for (size_t i = 0; i < lo->ncauses; i++)
        printf("  %s\n", lo->causes[i]);
}

static int run_live(const hs_command_t *cmd, const run_args_t *a, scenario_t *s)
{
    char dur[32];
    sim_duration_format(s->duration, dur, sizeof dur);
    printf("seed=%llu scenario=%s (%s) devices=%llu duration=%s target=live time-scale=%g "
           "(wall clock: not deterministic, no trace hash)\n",
           (unsigned long long)s->seed, s->name ? s->name : "?", a->path,
           (unsigned long long)scenario_device_count(s), dur, a->time_scale);
    fflush(stdout);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    live_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* a write to a connection the hub already closed must fail, not kill the run */
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    progress_t pr = { run_mono_s(), 0, !a->quiet && isatty(STDERR_FILENO) };
    live_play_options_t lo = {
        .port = { .connstr = a->target, .ca_file = a->ca, .protocol = a->protocol, .prefix = a->prefix,
                  .device_list = a->device_list },
        .time_scale = a->time_scale,
        .yes = a->yes,
        .stop = &live_stop,
        .info = a->quiet ? NULL : stdout,
        .progress = show_progress,
        .progress_ctx = &pr,
    };
    int64_t wall_start = run_wall_ms();
    live_outcome_t out;
    live_status_t st = live_play_scenario(s, &lo, &out);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    if (pr.enabled)
        fputc('\n', stderr);
    int rc;
    switch (st) {
    case LIVE_REFUSED:
        fprintf(stderr, "hubsim run: %s\n", out.play.why);
        rc = HS_EXIT_USAGE;
        goto out;
    case LIVE_BAD_INPUT:
        fprintf(stderr, "hubsim run: %s\n", out.play.why);
        rc = HS_EXIT_USAGE;
        goto out;
    case LIVE_TARGET_FAILED:
        fprintf(stderr, "hubsim run: %s\n", out.play.why);
        if (!a->quiet)
            print_causes(&out);
        if (out.registered)
            fprintf(stderr, "hubsim run: %zu of %zu registered identities deleted again\n", out.deleted,
                    out.registered);
        rc = HS_EXIT_HARNESS;
        goto out;
    case LIVE_OK:
        break;
    }
    report_result_set_wallclock(out.play.result, wall_start, run_wall_ms());
    if (!a->quiet) {
        fleet_metrics_t *m = fleet_metrics_new(out.play.result, NULL, out.play.conserved);
        if (m)
            print_summary(out.play.result, m);
        fleet_metrics_free(m);
        print_wallclock(&out);
        print_causes(&out);
    }
    rc = run_write_reports(cmd->name, out.play.result, &a->reports);
    if (rc == HS_EXIT_OK && out.play.failed)
        rc = report_result_exit_code(out.play.result) == HS_EXIT_HARNESS ? HS_EXIT_HARNESS : HS_EXIT_CHECK;
    if (!out.play.conserved)
        fprintf(stderr, "hubsim run: the hub's conservation check failed: %s\n", out.play.why);
    if (out.cleanup_why[0])
        fprintf(stderr, "hubsim run: cleanup incomplete: %s\n", out.cleanup_why);
    if (out.stopped_by) {
        fprintf(stderr, "hubsim run: stopped by signal %d after %.1fs; reports written, %zu identities deleted\n",
                out.stopped_by, out.wall_s, out.deleted);
        if (rc == HS_EXIT_OK || rc == HS_EXIT_CHECK)
            rc = 128 + out.stopped_by;
    }
    printf("trace-hash=none (live run: wall clock, not reproducible)\n");
out:
    report_result_free(out.play.result);
    return rc;
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
    if (a.target) {
        rc = run_live(cmd, &a, &s);
        scenario_free(&s);
        return rc;
    }

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
    .summary = "play a scenario in virtual time against the in-process hub, or in wall time against a real hub",
    .usage = "SCENARIO [--seed N] [--out DIR] [--trace FILE] [--shard K/N] [--quiet]\n"
             "       SCENARIO --target CONNECTION-STRING [--ca FILE] [--protocol mqtt|amqp|https] [--time-scale X]\n"
             "                [--yes] [--device-list FILE] [--prefix P] [--out DIR] [--quiet]",
    .description =
        "Loads the scenario (every error is listed with file:line:column before anything\n"
        "runs), registers its fleet with an in-process hub built from the scenario's hub\n"
        "configuration, and plays it in virtual time: an hour of fleet life takes seconds.\n"
        "The first line printed names the seed and scenario; the last is trace-hash=<16 hex>,\n"
        "identical for the same seed and scenario on any machine.  A progress line is shown\n"
        "on a terminal.  Each expectation of the scenario becomes a test case in the reports,\n"
        "and the hub's conservation check (every accepted message accounted for) is one more.\n"
        "Exit 0: all expectations hold; 1: one failed or conservation failed; 2: bad\n"
        "scenario or flags; 3: a harness failure (reports could not be written).\n"
        "\n"
        "With --target (docs/run-live.md) the same scenario plays in WALL time against the\n"
        "hub of a service connection string (hubsim serve, or any hub with the IoT Hub\n"
        "protocols): devices connect over MQTT/AMQP/HTTPS, the service actors use REST and\n"
        "AMQP, hub faults go through hubsim serve's admin API (AdminPort=) or are counted\n"
        "as skipped.  Devices are registered with a run prefix and deleted at the end, also\n"
        "after SIGINT/SIGTERM (the run stops, reports are written, exit 128+signal), or\n"
        "taken from --device-list.  On a hub that is not hubsim serve the run first says how\n"
        "many devices and messages it would create and needs --yes.  Live runs are not\n"
        "deterministic: no trace hash; the reports add a wall-clock section (how late timers\n"
        "fired: p50/p99/max) and the first cause of each failure counter.  Exit 3: the\n"
        "target is unreachable, TLS failed, the credentials were refused or registration\n"
        "failed (the cause is printed).",
    .options = run_options,
    .run = run_run,
};
