/* `hubsim certs DIR`: a test CA, a server certificate for localhost and a device client certificate, for `hubsim serve` and its clients. */
#include <stdlib.h>

#include "cli.h"
#include "serve/certs.h"

enum { OPT_HOST, OPT_CLIENT, OPT_DAYS };
static const cli_opt_t certs_options[] = {
    { "host", 0, "NAME", "one more name or address for the server certificate (besides localhost and 127.0.0.1)" },
    { "client-cn", 0, "NAME", "common name of the device client certificate (default: device-x509)" },
    { "days", 0, "N", "validity in days (default 3650)" },
    { 0 },
};

static int run_certs(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *value, *dir = NULL, *host = NULL, *client = "device-x509";
    unsigned long long days = 3650;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &value)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return HS_EXIT_OK;
        case CLI_ARG:
            if (dir)
                return cli_usage_error(cmd, "one directory only: '%s'", value);
            dir = value;
            break;
        case OPT_HOST: host = value; break;
        case OPT_CLIENT: client = value; break;
        case OPT_DAYS:
            if (cli_parse_u64(value, &days) != 0 || days == 0 || days > 36500)
                return cli_usage_error(cmd, "--days wants 1..36500, got '%s'", value);
            break;
        }
    }
    if (!dir)
        return cli_usage_error(cmd, "the output directory is required");
    char why[512];
    if (serve_certs_make(dir, host, client, (int)days, why, sizeof why) != HS_EOK) {
        fprintf(stderr, "hubsim certs: %s\n", why);
        return HS_EXIT_HARNESS;
    }
    printf("wrote %s/{ca.pem,ca.key,server.pem,server.key,client.pem,client.key,client.thumbprint}\n", dir);
    printf("serve:   hubsim serve --cert %s/server.pem --key %s/server.key\n", dir, dir);
    printf("clients: trust %s/ca.pem (Node.js: NODE_EXTRA_CA_CERTS=%s/ca.pem)\n", dir, dir);
    return HS_EXIT_OK;
}

const hs_command_t hs_cmd_certs = {
    .name = "certs",
    .summary = "make a test CA, a localhost server certificate and a device client certificate",
    .usage = "DIR [--host NAME] [--client-cn NAME] [--days N]",
    .description =
        "Writes PEM files for `hubsim serve` and its clients into DIR: ca.pem and ca.key (a test CA), "
        "server.pem and server.key (a server certificate for localhost and 127.0.0.1, signed by the CA), "
        "client.pem and client.key (a device certificate for X.509 authentication) and client.thumbprint "
        "(its SHA-1 thumbprint, the value of a device's x509Thumbprint in the hub config). Keys are EC P-256. "
        "These are test credentials: never use them outside a test network. fixtures/certs/ holds a pair "
        "made this way for the test suite.",
    .options = certs_options,
    .run = run_certs,
};
