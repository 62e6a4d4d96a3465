/* `hubsim diff A B`: the first event where two JSON-lines traces diverge, with context. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sim/trace.h"

enum { OPT_CONTEXT, OPT_QUIET };
static const cli_opt_t diff_options[] = {
    { "context", 'C', "N", "events of common context to show before the divergence (default 3)" },
    { "quiet", 'q', NULL, "print nothing; the exit code says whether the traces differ" },
    { 0 },
};

#define MAX_CONTEXT 32

typedef struct {
    const char *path;
    FILE *f;
    char *line;
    size_t cap;
    unsigned long lineno;
    sim_hash_t hash;
    int events;
} trace_reader_t;

/* Fold one JSON-lines event into the running hash exactly as sim_trace_emit
 * did (docs/trace.md): kind, t, field count, then each field in order. */
static int hash_event(trace_reader_t *r, const char *line)
{
    json_error_t err;
    json_t *ev = json_loads(line, JSON_PRESERVE_ORDER | JSON_DISABLE_EOF_CHECK, &err);
    if (!ev || !json_is_object(ev)) {
        fprintf(stderr, "hubsim diff: %s:%lu:%d: not a trace event: %s\n", r->path, r->lineno,
                err.column, ev ? "not an object" : err.text);
        json_decref(ev);
        return -1;
    }
    if (json_object_get(ev, "trace")) { /* the header line */
        json_decref(ev);
        return 0;
    }
    json_t *kind = json_object_get(ev, "kind"), *t = json_object_get(ev, "t");
    if (!json_is_string(kind) || !json_is_integer(t)) {
        fprintf(stderr, "hubsim diff: %s:%lu: event lacks \"kind\" or \"t\"\n", r->path, r->lineno);
        json_decref(ev);
        return -1;
    }
    const char *k = json_string_value(kind);
    sim_hash_bytes(&r->hash, k, strlen(k) + 1);
    sim_hash_u64(&r->hash, (uint64_t)json_integer_value(t));
    sim_hash_u64(&r->hash, json_object_size(ev) - 3);
    const char *key;
    json_t *val;
    json_object_foreach(ev, key, val) {
        if (!strcmp(key, "n") || !strcmp(key, "t") || !strcmp(key, "kind"))
            continue;
        sim_hash_bytes(&r->hash, key, strlen(key) + 1);
        if (json_is_string(val)) {
            sim_hash_u64(&r->hash, SIM_TF_STR);
            sim_hash_bytes(&r->hash, json_string_value(val), json_string_length(val) + 1);
        } else if (json_is_boolean(val)) {
            sim_hash_u64(&r->hash, SIM_TF_BOOL);
            sim_hash_u64(&r->hash, json_is_true(val) ? 1 : 0);
        } else {
            sim_hash_u64(&r->hash, SIM_TF_INT);
            sim_hash_u64(&r->hash, (uint64_t)json_integer_value(val));
        }
    }
    r->events++;
    json_decref(ev);
    return 0;
}

/* 1: a line was read, 0: end of file, -1: error (reported). */
static int read_event(trace_reader_t *r)
{
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0)
        return 0;
    r->lineno++;
    if (n > 0 && r->line[n - 1] == '\n')
        r->line[n - 1] = 0;
    return hash_event(r, r->line) ? -1 : 1;
}

static int run_diff(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *value, *paths[2] = { 0 };
    int npaths = 0, quiet = 0;
    unsigned long long context = 3;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &value)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return HS_EXIT_OK;
        case CLI_ARG:
            if (npaths == 2)
                return cli_usage_error(cmd, "too many arguments: '%s'", value);
            paths[npaths++] = value;
            break;
        case OPT_CONTEXT:
            if (cli_parse_u64(value, &context) || context > MAX_CONTEXT)
                return cli_usage_error(cmd, "--context takes a number from 0 to %d", MAX_CONTEXT);
            break;
        case OPT_QUIET: quiet = 1; break;
        }
    }
    if (npaths != 2)
        return cli_usage_error(cmd, "needs two trace files");

    trace_reader_t r[2];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++) {
        r[i].path = paths[i];
        sim_hash_init(&r[i].hash);
        r[i].f = fopen(paths[i], "r");
        if (!r[i].f) {
            fprintf(stderr, "hubsim diff: cannot open %s\n", paths[i]);
            if (i)
                fclose(r[0].f);
            return HS_EXIT_USAGE;
        }
    }
    char *ring[MAX_CONTEXT] = { 0 };
    unsigned long common = 0;
    int rc = HS_EXIT_OK;
    for (;;) {
        int a = read_event(&r[0]), b = read_event(&r[1]);
        if (a < 0 || b < 0) {
            rc = HS_EXIT_USAGE;
            break;
        }
        if (!a && !b)
            break;
        if (a && b && strcmp(r[0].line, r[1].line) == 0) {
            if (context) {
                free(ring[common % context]);
                ring[common % context] = strdup(r[0].line);
            }
            common++;
            continue;
        }
        rc = HS_EXIT_CHECK;
        if (!quiet) {
            printf("traces diverge after %lu common line(s) (line %lu)\n", common, common + 1);
            unsigned long first = common > context ? common - context : 0;
            for (unsigned long i = first; i < common; i++)
                printf("  %s\n", ring[i % context]);
            printf("- %s: %s\n", paths[0], a ? r[0].line : "(end of trace)");
            printf("+ %s: %s\n", paths[1], b ? r[1].line : "(end of trace)");
        }
        break;
    }
    if (rc == HS_EXIT_OK && !quiet) {
        char line[40];
        snprintf(line, sizeof line, "trace-hash=%016llx",
                 (unsigned long long)sim_hash_final(&r[0].hash));
        printf("identical: %d events, %s\n", r[0].events, line);
    }
    for (unsigned i = 0; i < MAX_CONTEXT; i++)
        free(ring[i]);
    for (int i = 0; i < 2; i++) {
        free(r[i].line);
        fclose(r[i].f);
    }
    return rc;
}

const hs_command_t hs_cmd_diff = {
    .name = "diff",
    .summary = "show the first event where two traces diverge",
    .usage = "[-C N] [-q] TRACE_A TRACE_B",
    .description =
        "Compares two JSON-lines traces written with --trace, event by event, and prints\n"
        "the first divergence with N events of common context.  When the traces are\n"
        "identical it prints the event count and the trace hash recomputed from the file,\n"
        "which equals the trace-hash= line of the run that wrote it.\n"
        "Exit 0: identical; 1: they differ; 2: a file is missing or malformed.",
    .options = diff_options,
    .run = run_diff,
};
