/* `hubsim shrink SCENARIO --expect NAME`: reduce a failing scenario to a minimal repro with the same failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sim/fleet/shrink.h"
#include "sim/simtime.h"

enum { OPT_EXPECT, OPT_OUT, OPT_BREAK, OPT_TRIALS, OPT_QUIET };
static const cli_opt_t shrink_options[] = {
    { "expect", 'e', "NAME", "the failing expectation to preserve (its name, or its text)" },
    { "out", 'o', "FILE", "where to write the reduced scenario (default: SCENARIO with .min.json)" },
    { "break", 0, "RULE-ID", "arm a hub fault switch in every trial (repeatable)" },
    { "max-trials", 0, "N", "stop after N simulation trials (default 400)" },
    { "quiet", 'q', NULL, "do not list each accepted reduction" },
    { 0 },
};

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("  - %s\n", line);
    fflush(stdout);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *g = realloc(buf, cap *= 2);
            if (!g) {
                free(buf);
                buf = NULL;
            } else
                buf = g;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int run_shrink(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *v, *path = NULL, *expect = NULL, *out_path = NULL;
    const char *breaks[16];
    size_t nbreaks = 0;
    unsigned long long trials = 0;
    int quiet = 0;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &v)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return HS_EXIT_OK;
        case CLI_ARG:
            if (path)
                return cli_usage_error(cmd, "one scenario at a time");
            path = v;
            break;
        case OPT_EXPECT: expect = v; break;
        case OPT_OUT: out_path = v; break;
        case OPT_BREAK:
            if (nbreaks == 16)
                return cli_usage_error(cmd, "at most 16 --break switches");
            breaks[nbreaks++] = v;
            break;
        case OPT_TRIALS:
            if (cli_parse_u64(v, &trials) || trials == 0)
                return cli_usage_error(cmd, "--max-trials takes a positive number");
            break;
        case OPT_QUIET: quiet = 1; break;
        }
    }
    if (!path || !expect)
        return cli_usage_error(cmd, "needs a scenario file and --expect NAME");
    size_t len = 0;
    char *text = read_all(path, &len);
    if (!text) {
        fprintf(stderr, "hubsim shrink: cannot read %s\n", path);
        return HS_EXIT_USAGE;
    }
    char def_out[1024];
    if (!out_path) {
        size_t n = strlen(path);
        if (n > 5 && strcmp(path + n - 5, ".json") == 0)
            n -= 5;
        snprintf(def_out, sizeof def_out, "%.*s.min.json", (int)n, path);
        out_path = def_out;
    }
    shrink_options_t so = { .expectation = expect, .breaks = breaks, .nbreaks = nbreaks,
                            .max_trials = (size_t)trials, .log = quiet ? NULL : log_line };
    shrink_stats_t st;
    char *result = NULL, why[512] = "";
    printf("shrinking %s, keeping expectation '%s' failing\n", path, expect);
    hs_err_t err = shrink_scenario(text, len, path, &so, &result, &st, why, sizeof why);
    free(text);
    if (err != HS_EOK) {
        fprintf(stderr, "hubsim shrink: %s\n", why[0] ? why : hs_strerror(err));
        return err == HS_EINVAL ? HS_EXIT_USAGE : HS_EXIT_HARNESS;
    }
    FILE *f = fopen(out_path, "w");
    if (!f || fputs(result, f) < 0 || fputc('\n', f) < 0) {
        fprintf(stderr, "hubsim shrink: cannot write %s\n", out_path);
        if (f)
            fclose(f);
        free(result);
        return HS_EXIT_HARNESS;
    }
    fclose(f);
    free(result);
    char d0[32], d1[32];
    sim_duration_format(st.duration_before_ns, d0, sizeof d0);
    sim_duration_format(st.duration_after_ns, d1, sizeof d1);
    printf("signature: %s\n", st.signature);
    printf("devices %llu -> %llu, groups %zu -> %zu, actors %zu -> %zu, faults %zu -> %zu, "
           "duration %s -> %s (%zu trials, %zu reductions)\n",
           st.devices_before, st.devices_after, st.groups_before, st.groups_after, st.actors_before,
           st.actors_after, st.faults_before, st.faults_after, d0, d1, st.trials, st.accepted);
    printf("wrote %s\n", out_path);
    return HS_EXIT_OK;
}

const hs_command_t hs_cmd_shrink = {
    .name = "shrink",
    .summary = "reduce a failing scenario to a minimal one that fails the same way",
    .usage = "SCENARIO --expect NAME [--out FILE] [--break RULE-ID] [--max-trials N]",
    .description =
        "Replays the scenario (same seed) and keeps the failure signature of the named\n"
        "expectation: the same expectation failing on the same metric.  It then tries, in a\n"
        "fixed order, to drop actors, faults and groups, to cut device counts and the\n"
        "duration, and to drop behaviours, keeping each reduction that still fails the same\n"
        "way, until nothing more can go.  The result is a scenario file a person can read,\n"
        "share and replay: a field bug becomes a minimal repro.\n"
        "Exit 0: a reduced scenario was written; 2: the scenario does not load, or the\n"
        "expectation is unknown or does not fail; 3: the output cannot be written.",
    .options = shrink_options,
    .run = run_shrink,
};
