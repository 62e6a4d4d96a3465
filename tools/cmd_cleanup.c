/* `hubsim cleanup`: list the devices whose id starts with a prefix on a hub reached by its service connection string, and delete them with --yes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "transports/tr_connstr.h"
#include "transports/tr_http.h"
#include "transports/tr_loop.h"
#include "transports/tr_rest.h"
#include "transports/tr_tls.h"

#define CLEANUP_OP_MS 10000 /* one registry request */
#define CLEANUP_TOP 1000    /* GET /devices?top= maximum (docs/http-api.md) */

enum { OPT_TARGET, OPT_CA, OPT_PREFIX, OPT_YES };
static const cli_opt_t cleanup_options[] = {
    { "target", 0, "CS", "the hub's service connection string (HostName=..;SharedAccessKeyName=..;SharedAccessKey=..[;HttpsPort=..])" },
    { "ca", 0, "FILE", "trust the CAs in this PEM file instead of the system store" },
    { "prefix", 0, "P", "delete devices whose id starts with P (required, not empty; live runs use hsXXXXXX-)" },
    { "yes", 'y', NULL, "delete them; without it, only print what would be deleted" },
    { 0 },
};

typedef struct {
    tr_loop_t *loop;
    tr_tls_t *tls;
    tr_connstr_t cs;
    tr_rest_t rest;
} cleanup_t;

static bool req_done(void *arg)
{
    return tr_http_done(arg);
}

/* Start, wait (bounded), and say why when there is no HTTP answer. */
static bool call(cleanup_t *c, hs_err_t start, tr_http_req_t *req, char *why, size_t cap)
{
    if (start != HS_EOK)
        return false;
    if (!tr_loop_wait(c->loop, req_done, req, CLEANUP_OP_MS)) {
        snprintf(why, cap, "no answer from %s:%d within %d ms", c->cs.connect_host, c->cs.https_port, CLEANUP_OP_MS);
        return false;
    }
    const tr_http_response_t *r = tr_http_result(req);
    if (r->failed) {
        snprintf(why, cap, "%s", r->why);
        return false;
    }
    return true;
}

static void http_error(const tr_http_response_t *r, char *why, size_t cap)
{
    int code;
    char name[64], detail[200];
    tr_rest_error(r, &code, name, sizeof name, detail, sizeof detail);
    snprintf(why, cap, "%d %s: %s", r->status, name, detail);
}

/* One listing: the ids starting with prefix (caller frees json), the total listed. */
static json_t *list_matching(cleanup_t *c, const char *prefix, size_t *listed, char *why, size_t cap)
{
    char w[600], q[32];
    tr_http_req_t *req = NULL;
    snprintf(q, sizeof q, "top=%d", CLEANUP_TOP);
    hs_err_t e = tr_rest_start(&c->rest, "GET", "/devices", q, NULL, NULL, 0, NULL, 0, &req, w, sizeof w);
    if (!call(c, e, req, w, sizeof w)) {
        snprintf(why, cap, "GET /devices: %s", w);
        tr_http_free(req);
        return NULL;
    }
    const tr_http_response_t *r = tr_http_result(req);
    if (r->status != 200) {
        http_error(r, w, sizeof w);
        snprintf(why, cap, "GET /devices answered %s", w);
        tr_http_free(req);
        return NULL;
    }
    json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
    tr_http_free(req);
    if (!json_is_array(doc)) {
        json_decref(doc);
        snprintf(why, cap, "GET /devices: the answer is not a JSON array");
        return NULL;
    }
    *listed = json_array_size(doc);
    json_t *ids = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(doc, i, d)
    {
        const char *id = json_string_value(json_object_get(d, "deviceId"));
        if (id && strncmp(id, prefix, strlen(prefix)) == 0)
            json_array_append_new(ids, json_string(id));
    }
    json_decref(doc);
    return ids;
}

static bool delete_one(cleanup_t *c, const char *id, char *why, size_t cap)
{
    char w[600];
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_identity_delete(&c->rest, id, NULL, "*", &req, w, sizeof w);
    bool ok = call(c, e, req, w, sizeof w);
    if (ok) {
        const tr_http_response_t *r = tr_http_result(req);
        /* 404: gone meanwhile (another cleanup, the run's own close) */
        if (r->status != 200 && r->status != 204 && r->status != 404) {
            http_error(r, w, sizeof w);
            ok = false;
        }
    }
    if (!ok)
        snprintf(why, cap, "DELETE %s: %s", id, w);
    tr_http_free(req);
    return ok;
}

static int run_cleanup(const hs_command_t *cmd, int argc, char **argv)
{
    const char *target = NULL, *ca = NULL, *prefix = NULL, *v;
    int yes = 0;
    cli_iter_t it;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &v)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return HS_EXIT_OK;
        case CLI_ARG: return cli_usage_error(cmd, "unexpected argument '%s'", v);
        case OPT_TARGET: target = v; break;
        case OPT_CA: ca = v; break;
        case OPT_PREFIX: prefix = v; break;
        case OPT_YES: yes = 1; break;
        }
    }
    if (!target)
        return cli_usage_error(cmd, "--target CONNECTION-STRING is required");
    if (!prefix || !*prefix)
        return cli_usage_error(cmd, "--prefix P is required and must not be empty (it would match every device)");

    cleanup_t c;
    memset(&c, 0, sizeof c);
    char why[1024];
    if (tr_connstr_parse(target, &c.cs, why, sizeof why) != HS_EOK) {
        fprintf(stderr, "hubsim cleanup: --target: %s\n", why);
        return HS_EXIT_USAGE;
    }
    if (ca)
        snprintf(c.cs.ca_file, sizeof c.cs.ca_file, "%s", ca);
    int rc = HS_EXIT_HARNESS;
    json_t *ids = NULL;
    tr_tls_opts_t to = { .ca_file = c.cs.ca_file };
    if (!(c.loop = tr_loop_new())) {
        fprintf(stderr, "hubsim cleanup: out of memory\n");
        return HS_EXIT_HARNESS;
    }
    if (tr_tls_new(&to, &c.tls, why, sizeof why) != HS_EOK) {
        fprintf(stderr, "hubsim cleanup: %s\n", why);
        goto out;
    }
    tr_rest_init(&c.rest, &c.cs, c.loop, c.tls);
    size_t listed = 0;
    if (!(ids = list_matching(&c, prefix, &listed, why, sizeof why))) {
        fprintf(stderr, "hubsim cleanup: %s\n", why);
        goto out;
    }
    size_t n = json_array_size(ids);
    printf("%zu device%s on %s with ids starting '%s'%s\n", n, n == 1 ? "" : "s", c.cs.host, prefix,
           listed == CLEANUP_TOP ? " (among the first 1000 listed; run again after deleting)" : "");
    if (!yes) {
        for (size_t i = 0; i < n; i++)
            printf("  would delete %s\n", json_string_value(json_array_get(ids, i)));
        if (n)
            printf("nothing deleted: run again with --yes to delete them\n");
        rc = HS_EXIT_OK;
        goto out;
    }
    size_t deleted = 0, failed = 0;
    /* a listing shows at most 1000 devices: list again while deleting frees room */
    for (int round = 0; n && round < 1000; round++) {
        for (size_t i = 0; i < n; i++) {
            const char *id = json_string_value(json_array_get(ids, i));
            if (delete_one(&c, id, why, sizeof why)) {
                deleted++;
            } else {
                failed++;
                fprintf(stderr, "hubsim cleanup: %s\n", why);
            }
        }
        if (failed || listed < CLEANUP_TOP)
            break;
        json_decref(ids);
        if (!(ids = list_matching(&c, prefix, &listed, why, sizeof why))) {
            fprintf(stderr, "hubsim cleanup: %s\n", why);
            failed++;
            break;
        }
        n = json_array_size(ids);
    }
    printf("deleted %zu device%s%s\n", deleted, deleted == 1 ? "" : "s", failed ? " (some deletes failed)" : "");
    rc = failed ? HS_EXIT_HARNESS : HS_EXIT_OK;
out:
    json_decref(ids);
    tr_tls_free(c.tls);
    tr_loop_free(c.loop);
    return rc;
}

const hs_command_t hs_cmd_cleanup = {
    .name = "cleanup",
    .summary = "delete devices a crashed live run left behind on a hub (by id prefix)",
    .usage = "--target CONNECTION-STRING [--ca FILE] --prefix P [--yes]",
    .description =
        "Lists the hub's devices (GET /devices?top=1000 with the connection string's policy)\n"
        "whose id starts with P and prints how many.  Without --yes nothing is deleted: each\n"
        "id is printed with 'would delete'.  With --yes each is deleted (If-Match: *; their\n"
        "modules go with them), listing again while a full page of 1000 keeps yielding\n"
        "matches.  Live conformance runs name their devices hsXXXXXX-... and delete them at\n"
        "the end of each case; this is for runs that were killed.\n"
        "Exit 0: listed (and deleted with --yes); 2: bad flags or connection string;\n"
        "3: the hub is unreachable, refused the credentials, or a delete failed.",
    .options = cleanup_options,
    .run = run_cleanup,
};
