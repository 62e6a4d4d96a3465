/* `hubsim merge SCENARIO SHARD-REPORT...`: join the reports of a sharded run exactly and re-judge its expectations. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_common.h"
#include "sim/fleet/fleet_metrics.h"
#include "sim/fleet/scenario.h"
#include "sim/trace.h"

enum { OPT_OUT, OPT_JSON, OPT_HTML, OPT_JUNIT };
static const cli_opt_t merge_options[] = {
    { "out", 'o', "DIR", "write report.json, report.html and junit.xml into DIR" },
    { "json", 0, "FILE", "write the JSON report to FILE" },
    { "html", 0, "FILE", "write the HTML report to FILE" },
    { "junit", 0, "FILE", "write the JUnit XML report to FILE" },
    { 0 },
};

#define MAX_SHARDS 4096

typedef struct {
    json_t *doc;
    unsigned k, n;
    unsigned long long hash;
    int conserved;
    const char *path;
} shard_t;

static int by_index(const void *a, const void *b)
{
    const shard_t *x = a, *y = b;
    return x->k < y->k ? -1 : x->k > y->k;
}

static int load_shard(const char *path, shard_t *sh)
{
    json_error_t e;
    sh->path = path;
    sh->doc = json_load_file(path, JSON_PRESERVE_ORDER, &e);
    if (!sh->doc) {
        fprintf(stderr, "hubsim merge: %s:%d:%d: %s\n", path, e.line, e.column, e.text);
        return -1;
    }
    json_t *run = json_object_get(sh->doc, "run");
    const char *shard = json_string_value(json_object_get(json_object_get(run, "info"), "shard"));
    const char *hash = json_string_value(json_object_get(run, "trace_hash"));
    if (!shard || sscanf(shard, "%u/%u", &sh->k, &sh->n) != 2 || !hash ||
        sscanf(hash, "%llx", &sh->hash) != 1) {
        fprintf(stderr, "hubsim merge: %s: not a report of `hubsim run --shard K/N` "
                        "(no run.info.shard or run.trace_hash)\n", path);
        return -1;
    }
    sh->conserved = 0;
    json_t *cases = json_object_get(sh->doc, "cases"), *c;
    size_t i;
    json_array_foreach(cases, i, c) {
        if (!strcmp(json_string_value(json_object_get(c, "id")) ? json_string_value(json_object_get(c, "id")) : "", "conservation"))
            sh->conserved = !strcmp(json_string_value(json_object_get(c, "verdict")), "PASS");
    }
    /* Cases are re-judged on the merged metrics; drop the shard's own. */
    json_object_set_new(sh->doc, "cases", json_array());
    return 0;
}

static int run_merge(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *v, *scenario_path = NULL;
    reports_paths_t paths = { 0 };
    shard_t *shards = calloc(MAX_SHARDS, sizeof *shards);
    size_t n = 0;
    int rc = HS_EXIT_USAGE;
    if (!shards)
        return HS_EXIT_HARNESS;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &v)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: free(shards); return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); free(shards); return HS_EXIT_OK;
        case CLI_ARG:
            if (!scenario_path)
                scenario_path = v;
            else if (n == MAX_SHARDS) {
                free(shards);
                return cli_usage_error(cmd, "at most %d shard reports", MAX_SHARDS);
            } else
                shards[n++].path = v;
            break;
        case OPT_OUT: paths.out_dir = v; break;
        case OPT_JSON: paths.json = v; break;
        case OPT_HTML: paths.html = v; break;
        case OPT_JUNIT: paths.junit = v; break;
        }
    }
    if (!scenario_path || n == 0) {
        free(shards);
        return cli_usage_error(cmd, "needs the scenario file and at least one shard report");
    }
    scenario_t s;
    json_diag_list_t *diags = NULL;
    json_diag_list_new(&diags);
    if (scenario_load_file(scenario_path, &s, diags) != HS_EOK) {
        json_diag_print(diags, stderr);
        json_diag_list_free(diags);
        free(shards);
        return HS_EXIT_USAGE;
    }
    json_diag_list_free(diags);
    report_result_t *merged = NULL;
    for (size_t i = 0; i < n; i++)
        if (load_shard(shards[i].path, &shards[i]))
            goto out;
    qsort(shards, n, sizeof *shards, by_index);
    for (size_t i = 0; i < n; i++) {
        if (shards[i].n != n || shards[i].k != i) {
            fprintf(stderr, "hubsim merge: expected shards 0/%zu..%zu/%zu exactly once; %s is %u/%u\n",
                    n, n - 1, n, shards[i].path, shards[i].k, shards[i].n);
            goto out;
        }
    }
    /* The sharded run's trace hash: the hash of the shard hashes in order. */
    sim_hash_t h;
    sim_hash_init(&h);
    int conserved = 1;
    char err[512];
    for (size_t i = 0; i < n; i++) {
        sim_hash_u64(&h, shards[i].hash);
        conserved &= shards[i].conserved;
        report_result_t *r = NULL;
        if (report_result_from_json(shards[i].doc, &r, err, sizeof err) != HS_EOK) {
            fprintf(stderr, "hubsim merge: %s: %s\n", shards[i].path, err);
            goto out;
        }
        if (!merged) {
            merged = r;
            continue;
        }
        hs_err_t me = report_result_merge(merged, r);
        report_result_free(r);
        if (me != HS_EOK) {
            fprintf(stderr, "hubsim merge: %s does not belong with %s (different seed, target or knobs)\n",
                    shards[i].path, shards[0].path);
            goto out;
        }
    }
    uint64_t hash = sim_hash_final(&h);
    report_result_set_trace_hash(merged, hash);
    char info[32];
    snprintf(info, sizeof info, "merged %zu", n);
    report_result_set_info(merged, "shard", info);
    fleet_metrics_t *m = fleet_metrics_new(merged, NULL, conserved);
    int failed = m ? fleet_expectations_evaluate(&s, m, merged, conserved,
                                                 "a shard's conservation check failed") : -1;
    fleet_metrics_free(m);
    if (failed < 0) {
        rc = HS_EXIT_HARNESS;
        goto out;
    }
    for (size_t i = 0; i < report_result_case_count(merged); i++) {
        const report_case_t *c = report_result_case_at(merged, i);
        printf("%-6s %s\n", report_verdict_name(c->verdict), c->name ? c->name : c->id);
    }
    rc = run_write_reports(cmd->name, merged, &paths);
    if (rc == HS_EXIT_OK && failed)
        rc = HS_EXIT_CHECK;
    printf("merged %zu shards\ntrace-hash=%016llx\n", n, (unsigned long long)hash);
out:
    for (size_t i = 0; i < n; i++)
        json_decref(shards[i].doc);
    free(shards);
    report_result_free(merged);
    scenario_free(&s);
    return rc;
}

const hs_command_t hs_cmd_merge = {
    .name = "merge",
    .summary = "join the reports of a sharded run and judge its expectations",
    .usage = "SCENARIO SHARD-REPORT.json... [--out DIR]",
    .description =
        "Reads the report.json of every shard of `hubsim run --shard K/N` (all N of them,\n"
        "in any order), adds their counters, histogram buckets and time series exactly\n"
        "(histograms are stored as buckets, so percentiles of the whole fleet are exact to\n"
        "the bucket), evaluates the scenario's expectations on the merged metrics, and\n"
        "writes one report.  Conservation holds when it held in every shard.  The merged\n"
        "trace hash is the hash of the shard hashes in shard order.  Hub-ledger metrics\n"
        "(hub.counter.*) are per shard and not available after a merge.\n"
        "Exit 0: expectations hold; 1: one failed; 2: bad input (missing or extra shards,\n"
        "reports of different runs); 3: reports could not be written.",
    .options = merge_options,
    .run = run_merge,
};
