/* `hubsim query EXPR --message MSG.json`: evaluate a routing query offline, or show which endpoints a message reaches. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sim/route/route_msgfile.h"
#include "sim/route/route_table.h"

enum { OPT_MESSAGE, OPT_TWIN, OPT_HUB, OPT_EXPLAIN, OPT_ROUTES, OPT_SOURCE };
static const cli_opt_t query_options[] = {
    { "message", 'm', "MSG.json", "the message: {\"systemProperties\":{..},\"appProperties\":{..},\"body\":\"..\"} (or \"bodyBase64\")" },
    { "twin", 't', "TWIN.json", "the sending device's twin ({\"tags\":{..},\"properties\":{\"desired\":{..},\"reported\":{..}}})" },
    { "hub", 0, "CONFIG", "a hub config file: its routeQuery and routing.options knobs apply (docs/routing.md)" },
    { "explain", 'x', NULL, "after the result, print the evaluation tree with each node's value" },
    { "routes", 'r', "CONFIG", "instead of EXPR, print the endpoints the message reaches through CONFIG's routing section" },
    { "source", 's', "SOURCE", "with --routes: the route source (default DeviceMessages)" },
    { 0 },
};

static json_t *load_json(const char *path, const char *what)
{
    json_error_t err;
    json_t *j = json_load_file(path, JSON_DECODE_ANY, &err);
    if (!j)
        fprintf(stderr, "hubsim query: %s %s:%d:%d: %s\n", what, path, err.line, err.column, err.text);
    return j;
}

/* A config is either a hub config with a "routing" member or a bare routing section. */
static const json_t *routing_section(const json_t *cfg)
{
    const json_t *r = json_object_get(cfg, "routing");
    return r ? r : cfg;
}

static int run_query(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *value, *expr = NULL, *msg_path = NULL, *twin_path = NULL, *hub_path = NULL,
                       *routes_path = NULL, *source = "DeviceMessages";
    int explain = 0;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &value)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return HS_EXIT_OK;
        case CLI_ARG:
            if (expr)
                return cli_usage_error(cmd, "one expression only (quote it): '%s'", value);
            expr = value;
            break;
        case OPT_MESSAGE: msg_path = value; break;
        case OPT_TWIN: twin_path = value; break;
        case OPT_HUB: hub_path = value; break;
        case OPT_EXPLAIN: explain = 1; break;
        case OPT_ROUTES: routes_path = value; break;
        case OPT_SOURCE: source = value; break;
        }
    }
    if (!msg_path)
        return cli_usage_error(cmd, "--message MSG.json is required");
    if (!routes_path && !expr)
        return cli_usage_error(cmd, "needs an expression (or --routes CONFIG)");
    if (routes_path && expr)
        return cli_usage_error(cmd, "give either an expression or --routes, not both");
    int src = route_source_lookup(source);
    if (src < 0)
        return cli_usage_error(cmd, "unknown --source '%s'", source);

    int rc = HS_EXIT_USAGE;
    json_t *msg = NULL, *twin = NULL, *hub = NULL, *routes = NULL;
    route_msgfile_t *mf = NULL;
    route_query_t *q = NULL;
    route_table_t *table = NULL;
    route_options_t opt;
    char err[256];
    route_options_default(&opt);
    if (hub_path) {
        if (!(hub = load_json(hub_path, "hub config")))
            goto out;
        /* a hub config: routeQuery + routing.options; a bare routing section: its options */
        hs_err_t oe = json_object_get(hub, "routing") || json_object_get(hub, "routeQuery")
                          ? route_options_from_hub_json(&opt, hub, err, sizeof err)
                          : json_object_get(hub, "options")
                                ? route_options_from_json(&opt, json_object_get(hub, "options"), err, sizeof err)
                                : HS_EOK;
        if (oe) {
            fprintf(stderr, "hubsim query: %s: %s\n", hub_path, err);
            goto out;
        }
    }
    if (!(msg = load_json(msg_path, "message")))
        goto out;
    if (twin_path && !(twin = load_json(twin_path, "twin")))
        goto out;
    if (route_msgfile_load(msg, twin, &mf, err, sizeof err)) {
        fprintf(stderr, "hubsim query: %s: %s\n", msg_path, err);
        goto out;
    }
    route_message_t *view = route_msgfile_view(mf);

    if (routes_path) {
        if (!(routes = load_json(routes_path, "routes config")))
            goto out;
        route_load_error_t le;
        hs_err_t e = route_table_load(routing_section(routes), &opt, &table, &le);
        if (e) {
            if (le.line)
                fprintf(stderr, "hubsim query: %s: %s: line %d, column %d: %s\n", routes_path, le.where,
                        le.line, le.column, le.message);
            else
                fprintf(stderr, "hubsim query: %s: %s: %s\n", routes_path, le.where,
                        e == HS_EPARSE ? le.message : hs_strerror(e));
            goto out;
        }
        size_t n = route_table_endpoint_count(table), nr = route_table_route_count(table);
        uint32_t *eps = calloc(n, sizeof *eps), *matched = calloc(nr + 1, sizeof *matched);
        route_match_t res;
        if (!eps || !matched ||
            route_table_match(table, view, (route_source_t)src, eps, n, &res, matched)) {
            free(eps);
            free(matched);
            rc = HS_EXIT_HARNESS;
            goto out;
        }
        /* one line per endpoint: name, then the routes that reached it */
        for (size_t i = 0; i < res.nendpoints; i++) {
            printf("%s\t", route_table_endpoint_name(table, eps[i]));
            if (res.fallback) {
                printf("%s (fallback)\n", route_table_route_name(table, nr));
                continue;
            }
            const char *sep = "";
            for (size_t k = 0; k < res.nmatched; k++)
                if (route_table_route_endpoint(table, matched[k]) == eps[i]) {
                    printf("%s%s", sep, route_table_route_name(table, matched[k]));
                    sep = ",";
                }
            printf("\n");
        }
        if (!res.nendpoints)
            printf("(none)\n");
        free(eps);
        free(matched);
        rc = HS_EXIT_OK;
        goto out;
    }

    route_syntax_error_t se;
    hs_err_t e = route_query_compile(expr, &opt, &q, &se);
    if (e == HS_EPARSE) {
        fprintf(stderr, "hubsim query: syntax error at line %d, column %d: %s\n", se.line, se.column,
                se.message);
        cli_print_caret(expr, se.line, se.column);
        goto out;
    }
    if (e) {
        fprintf(stderr, "hubsim query: %s\n", hs_strerror(e));
        rc = HS_EXIT_HARNESS;
        goto out;
    }
    if (explain) {
        /* the result line first, then the tree: evaluate once into a buffer */
        char *tree = NULL;
        size_t tlen = 0;
        FILE *mem = open_memstream(&tree, &tlen);
        if (!mem) {
            rc = HS_EXIT_HARNESS;
            goto out;
        }
        route_tri_t r = route_query_explain(q, view, mem);
        fclose(mem);
        printf("%s\n%s", route_tri_name(r), tree ? tree : "");
        free(tree);
    } else {
        printf("%s\n", route_tri_name(route_query_eval(q, view)));
    }
    rc = HS_EXIT_OK;
out:
    route_query_free(q);
    route_table_free(table);
    route_msgfile_free(mf);
    json_decref(msg);
    json_decref(twin);
    json_decref(hub);
    json_decref(routes);
    return rc;
}

const hs_command_t hs_cmd_query = {
    .name = "query",
    .summary = "evaluate a message-routing query against a message offline",
    .usage = "'EXPR' --message MSG.json [--twin TWIN.json] [--hub CONFIG] [--explain] | --routes CONFIG --message MSG.json",
    .description =
        "Evaluates an IoT Hub routing query (routing-query.txt) against one message, the way the "
        "hub's router would.  The first line on stdout is exactly one of true, false, undefined "
        "(a route matches only on true); the exit status is 0.  --explain then prints each node "
        "of the expression with its value.  A syntax error prints, on stderr, the expression with "
        "a caret under the column and exits 2.  Options go before `--` when the expression starts with '-'.\n\n"
        "With --routes CONFIG (a hub config with a \"routing\" section, or the section alone), "
        "prints the endpoints the message reaches after deduplication and the fallback route, "
        "one per line: the endpoint name, a tab, and the matching routes.\n\n"
        "The knobs for the points the documentation leaves open are listed in docs/routing.md.",
    .options = query_options,
    .run = run_query,
};
