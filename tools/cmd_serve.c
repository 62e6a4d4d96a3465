/* `hubsim serve`: the mock hub on real MQTT/TLS, HTTPS and AMQP listeners with an admin API, until SIGINT/SIGTERM. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_common.h"
#include "serve/protocols.h"
#include "serve/serve.h"
#include "sim/hub/json_locate.h"

enum {
    OPT_CONFIG, OPT_BIND, OPT_HOST, OPT_MQTT, OPT_HTTPS, OPT_AMQP, OPT_ADMIN, OPT_CERT, OPT_KEY,
    OPT_BREAK, OPT_LIST_BREAKS, OPT_CHECK, OPT_JUNIT, OPT_HTML, OPT_JSON, OPT_SEED, OPT_TOKEN, OPT_QUIET
};
static const cli_opt_t serve_options[] = {
    { "config", 'c', "FILE", "hub config (the same file the hub model and scenarios use; default: built-in defaults)" },
    { "bind", 0, "ADDR", "address every listener binds (default 127.0.0.1)" },
    { "host-name", 0, "NAME", "hub host name clients put in HostName= and SAS tokens (default localhost)" },
    { "mqtt-port", 0, "N", "MQTT 3.1.1 over TLS (default 8883; -1 turns it off; 0 = any free port)" },
    { "https-port", 0, "N", "HTTPS REST, service and device (default 443)" },
    { "amqp-port", 0, "N", "AMQP 1.0 over TLS (default 5671)" },
    { "admin-port", 0, "N", "admin API, plain HTTP (default 8080; docs/serve.md)" },
    { "cert", 0, "PEM", "server certificate chain (hubsim certs DIR makes one)" },
    { "key", 0, "PEM", "server private key" },
    { "break", 'b', "RULE-ID", "make the hub break a rule on purpose (a hub or wire switch; repeatable)" },
    { "list-breaks", 0, NULL, "list every switch --break takes (hub model and wire) and exit" },
    { "check-clients", 0, NULL, "record the CLIENT- rules clients break; report them on exit" },
    { "junit", 0, "FILE", "with --check-clients: JUnit XML report on exit" },
    { "html", 0, "FILE", "with --check-clients: HTML report on exit" },
    { "json", 0, "FILE", "with --check-clients: JSON report on exit" },
    { "seed", 's', "N", "seed of the hub's random choices (generated keys, ids); default 1" },
    { "admin-token", 0, "TOKEN", "bearer token the admin API requires (mandatory when --bind is not loopback)" },
    { "quiet", 'q', NULL, "print only the banner" },
    { 0 },
};

static int parse_port(const hs_command_t *cmd, const char *opt, const char *text, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < -1 || v > 65535)
        return cli_usage_error(cmd, "--%s wants a port 0..65535 or -1 (off), got '%s'", opt, text);
    *out = (int)v;
    return HS_EXIT_OK;
}

static void print_break(void *ctx, const char *name, const char *what)
{
    fprintf(ctx, "  %-44s %s\n", name, what);
}

static void list_breaks(FILE *f)
{
    fprintf(f, "hub model switches (also for hubsim conform --break):\n");
    for (int i = 0; i < HUB_FAULT__COUNT; i++)
        print_break(f, hub_fault_info((hub_fault_t)i)->name, hub_fault_info((hub_fault_t)i)->description);
    for (size_t i = 0; hub_fault_staged_info(i); i++)
        print_break(f, hub_fault_staged_info(i)->name, hub_fault_staged_info(i)->description);
    fprintf(f, "wire switches (MQTT, HTTPS and AMQP sessions):\n");
    serve_protocols_for_each_break(print_break, f);
}

static int run_serve(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *value, *config_path = NULL;
    serve_opts_t o = { .mqtt_port = 8883, .https_port = 443, .amqp_port = 5671, .admin_port = 8080,
                       .seed = 1 };
    reports_paths_t paths = { 0 };
    const char **breaks = calloc((size_t)argc + 1, sizeof *breaks);
    size_t n_breaks = 0;
    int rc = HS_EXIT_OK;
    if (!breaks)
        return HS_EXIT_HARNESS;
    cli_iter_init(&it, cmd, argc, argv);
    for (int opt; rc == HS_EXIT_OK && (opt = cli_next(&it, &value)) != CLI_END;) {
        unsigned long long u;
        switch (opt) {
        case CLI_ERR: rc = HS_EXIT_USAGE; break;
        case CLI_HELP: cli_print_help(cmd, stdout); free(breaks); return HS_EXIT_OK;
        case CLI_ARG: rc = cli_usage_error(cmd, "unexpected argument '%s'", value); break;
        case OPT_CONFIG: config_path = value; break;
        case OPT_BIND: o.bind = value; break;
        case OPT_HOST: o.host_name = value; break;
        case OPT_MQTT: rc = parse_port(cmd, "mqtt-port", value, &o.mqtt_port); break;
        case OPT_HTTPS: rc = parse_port(cmd, "https-port", value, &o.https_port); break;
        case OPT_AMQP: rc = parse_port(cmd, "amqp-port", value, &o.amqp_port); break;
        case OPT_ADMIN: rc = parse_port(cmd, "admin-port", value, &o.admin_port); break;
        case OPT_CERT: o.cert_pem = value; break;
        case OPT_KEY: o.key_pem = value; break;
        case OPT_BREAK: breaks[n_breaks++] = value; break;
        case OPT_LIST_BREAKS: list_breaks(stdout); free(breaks); return HS_EXIT_OK;
        case OPT_CHECK: o.check_clients = true; break;
        case OPT_JUNIT: paths.junit = value; break;
        case OPT_HTML: paths.html = value; break;
        case OPT_JSON: paths.json = value; break;
        case OPT_SEED:
            if (cli_parse_u64(value, &u) != 0)
                rc = cli_usage_error(cmd, "--seed wants an unsigned integer, got '%s'", value);
            o.seed = u;
            break;
        case OPT_TOKEN: o.admin_token = value; break;
        case OPT_QUIET: o.quiet = true; break;
        }
    }
    if (rc == HS_EXIT_OK && (paths.junit || paths.html || paths.json) && !o.check_clients)
        rc = cli_usage_error(cmd, "--junit/--html/--json report the client checks: add --check-clients");
    if (rc != HS_EXIT_OK) {
        free(breaks);
        return rc;
    }
    o.breaks = breaks;
    o.n_breaks = n_breaks;

    hub_config_t cfg;
    hub_config_defaults(&cfg);
    if (config_path) {
        json_diag_list_t *diags = NULL;
        json_diag_list_new(&diags);
        if (hub_config_load_file(config_path, &cfg, diags) != HS_EOK) {
            fprintf(stderr, "hubsim serve: the hub config has errors:\n");
            json_diag_print(diags, stderr);
            json_diag_list_free(diags);
            hub_config_free(&cfg);
            free(breaks);
            return HS_EXIT_USAGE;
        }
        json_diag_list_free(diags);
        o.config = &cfg;
    }
    serve_t *s = NULL;
    char why[1024];
    hs_err_t err = serve_new(&o, &s, why, sizeof why);
    if (err != HS_EOK) {
        fprintf(stderr, "hubsim serve: %s\n", why);
        hub_config_free(&cfg);
        free(breaks);
        return err == HS_EINVAL ? HS_EXIT_USAGE : HS_EXIT_HARNESS;
    }
    int64_t started = run_wall_ms();
    serve_print_banner(s, stdout);
    serve_run(s);
    fprintf(stdout, "hubsim serve: shutting down\n");

    rc = HS_EXIT_OK;
    /* every connection closed, the hub told: now its books must balance */
    serve_close_connections(s);
    char books[512];
    if (serve_check(s, books, sizeof books) == HS_EOK) {
        fprintf(stdout, "hub books: balanced\n");
    } else {
        fprintf(stdout, "hub books: UNBALANCED: %s\n", books);
        rc = HS_EXIT_HARNESS;
    }
    report_result_t *report = serve_client_report(s);
    if (report) {
        report_result_set_wallclock(report, started, run_wall_ms());
        size_t failed = report_result_verdict_count(report, REPORT_FAIL) +
                        report_result_verdict_count(report, REPORT_ERROR);
        fprintf(stdout, "client checks: %zu rule%s broken\n", failed, failed == 1 ? "" : "s");
        int wrc = run_write_reports("serve", report, &paths);
        if (wrc != HS_EXIT_OK)
            rc = wrc;
        else if (rc == HS_EXIT_OK)
            rc = report_result_exit_code(report);
        report_result_free(report);
    }
    serve_free(s); /* closes the connections: the hub hears every disconnect */
    hub_config_free(&cfg);
    free(breaks);
    fflush(stdout);
    return rc;
}

const hs_command_t hs_cmd_serve = {
    .name = "serve",
    .summary = "serve the mock hub over MQTT/TLS, HTTPS and AMQP with an admin API",
    .usage = "[--config FILE] [--cert PEM --key PEM] [--mqtt-port N] [--https-port N] [--amqp-port N] "
             "[--admin-port N] [--break RULE-ID]... [--check-clients [--junit F] [--html F] [--json F]]",
    .description =
        "Runs the same hub model as `hubsim run` and `hubsim conform` behind real listeners, in wall time, "
        "so unmodified device firmware and the official Azure IoT SDKs can talk to it: MQTT 3.1.1 over TLS "
        "(8883), the service and device REST API over HTTPS (443) and AMQP 1.0 over TLS (5671). On start it "
        "prints the listeners, the service connection string, the device connection-string template, then "
        "`ready`. The admin API (plain HTTP on 127.0.0.1:8080, docs/serve.md) reads counters and routed "
        "messages and injects faults at run time: drop a device, throttle, delay or swallow method "
        "dispatch, make an endpoint unreachable. --break makes the hub violate a rule on purpose so a "
        "client's or suite's test of that rule can be shown to fail.\n\n"
        "With --check-clients the sessions record the CLIENT- rules that connecting devices break (QoS 2, "
        "foreign topics, bad property bags, responses to unknown requests, unacknowledged C2D messages) and "
        "write them on exit in the conformance report format; the exit code is then 1 when a rule was "
        "broken. SIGINT and SIGTERM shut down cleanly: connections are closed, the hub is told, its "
        "conservation check runs (`hub books: balanced`), reports are flushed. Exit codes: 0 clean, 1 "
        "client rule broken, 2 usage or config error, 3 a listener could not start (port in use, "
        "unreadable certificate) or the hub's books did not balance.",
    .options = serve_options,
    .run = run_serve,
};
