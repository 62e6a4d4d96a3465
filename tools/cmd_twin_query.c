/* `hubsim twin-query 'SELECT ...' --twins FILE.json`: run a twin query offline over a JSON array of twin documents. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sim/route/twin_query.h"

enum { OPT_TWINS, OPT_PAGE_SIZE };
static const cli_opt_t twin_query_options[] = {
    { "twins", 't', "FILE.json", "a JSON array of twin documents ({\"deviceId\":..,\"tags\":..,\"properties\":..}; module twins carry \"moduleId\")" },
    { "page-size", 'n', "N", "print the result in pages of N rows, one JSON array per line, as POST /devices/query would return them" },
    { 0 },
};

static int run_twin_query(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *value, *text = NULL, *twins_path = NULL;
    long page = 0;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &value)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return HS_EXIT_OK;
        case CLI_ARG:
            if (text)
                return cli_usage_error(cmd, "one query only (quote it): '%s'", value);
            text = value;
            break;
        case OPT_TWINS: twins_path = value; break;
        case OPT_PAGE_SIZE: {
            char *end = NULL;
            page = strtol(value, &end, 10);
            if (!end || *end || page <= 0 || page > 1000000)
                return cli_usage_error(cmd, "--page-size needs a positive whole number, not '%s'", value);
            break;
        }
        }
    }
    if (!text)
        return cli_usage_error(cmd, "needs a query, e.g. 'SELECT * FROM devices'");
    if (!twins_path)
        return cli_usage_error(cmd, "--twins FILE.json is required");

    route_syntax_error_t se;
    twin_query_t *q = NULL;
    hs_err_t e = twin_query_compile(text, &q, &se);
    if (e == HS_EPARSE) {
        fprintf(stderr, "hubsim twin-query: <query>:%d:%d: %s\n", se.line, se.column, se.message);
        cli_print_caret(text, se.line, se.column);
        return HS_EXIT_USAGE;
    }
    if (e) {
        fprintf(stderr, "hubsim twin-query: %s\n", hs_strerror(e));
        return HS_EXIT_HARNESS;
    }
    json_error_t je;
    json_t *docs = json_load_file(twins_path, JSON_DECODE_ANY, &je);
    if (!docs) {
        fprintf(stderr, "hubsim twin-query: %s:%d:%d: %s\n", twins_path, je.line, je.column, je.text);
        twin_query_free(q);
        return HS_EXIT_USAGE;
    }
    if (!json_is_array(docs)) {
        fprintf(stderr, "hubsim twin-query: %s:1:1: expected a JSON array of twin documents\n", twins_path);
        json_decref(docs);
        twin_query_free(q);
        return HS_EXIT_USAGE;
    }
    int rc = HS_EXIT_OK;
    json_t *rows = twin_query_run(q, docs);
    if (!rows) {
        rc = HS_EXIT_HARNESS;
    } else if (!page) {
        char *s = json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        else
            rc = HS_EXIT_HARNESS;
        free(s);
    } else {
        /* one compact array per page; an empty result is one empty page */
        size_t n = json_array_size(rows), step = (size_t)page;
        for (size_t off = 0; off == 0 || off < n; off += step) {
            json_t *slice = json_array();
            for (size_t i = off; slice && i < n && i < off + step; i++)
                json_array_append(slice, json_array_get(rows, i));
            char *s = slice ? json_dumps(slice, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            if (s)
                printf("%s\n", s);
            else
                rc = HS_EXIT_HARNESS;
            free(s);
            json_decref(slice);
            if (n == 0)
                break;
        }
    }
    json_decref(rows);
    json_decref(docs);
    twin_query_free(q);
    return rc;
}

const hs_command_t hs_cmd_twin_query = {
    .name = "twin-query",
    .summary = "run a device/module twin query (SELECT ... FROM devices) over twin documents offline",
    .usage = "'SELECT ...' --twins FILE.json [--page-size N]",
    .description =
        "Runs an IoT Hub twin query (SELECT [TOP n] * | paths | COUNT() SUM() AVG() MIN() MAX() "
        "FROM devices | devices.modules [WHERE condition] [GROUP BY path]) over a JSON array of twin documents, the way "
        "POST /devices/query does, and prints the result rows as a JSON array.  With --page-size N "
        "the rows are printed as pages of N, one compact array per line.  A bad query prints "
        "<query>:LINE:COLUMN with a caret under the column on stderr and exits 2; an unreadable "
        "twins file prints FILE:LINE:COLUMN and exits 2.  The language and how it differs from "
        "routing queries: docs/twin-query.md.",
    .options = twin_query_options,
    .run = run_twin_query,
};
