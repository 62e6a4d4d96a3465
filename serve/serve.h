/* `hubsim serve`: the hub model behind real MQTT/TLS, HTTPS and AMQP listeners and an admin API, on one libevent loop in wall time. */
#ifndef SERVE_SERVE_H
#define SERVE_SERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "sim/errors.h"
#include "sim/hub/hub_config.h"

/* A port of -1 turns a listener off; 0 lets the system pick (tests). */
typedef struct {
    const hub_config_t *config; /* NULL = defaults; copied */
    const char *host_name;      /* the hub host clients put in HostName= (default "localhost") */
    const char *bind;           /* default "127.0.0.1" */
    int mqtt_port, https_port, amqp_port, admin_port;
    const char *cert_pem, *key_pem;
    uint64_t seed;
    const char *const *breaks; /* --break names: hub switches and wire switches */
    size_t n_breaks;
    bool check_clients;
    const char *admin_token; /* required when bind is not loopback */
    bool quiet;              /* no per-connection log lines */
} serve_opts_t;

typedef struct serve serve_t;

/* Builds the hub, binds every listener.  HS_EINVAL (bad option: why says
 * which), HS_EIO (a port in use, unreadable certificate). */
hs_err_t serve_new(const serve_opts_t *o, serve_t **out, char *why, size_t cap);
/* The lines a user needs: listeners, connection strings, then "ready". */
void serve_print_banner(const serve_t *s, FILE *f);
/* Runs until SIGINT/SIGTERM, POST /shutdown or serve_stop; then stops
 * accepting, closes connections (sessions tell the hub) and returns. */
void serve_run(serve_t *s);
void serve_stop(serve_t *s);
/* The client-check report (NULL without --check-clients): the caller writes
 * it and frees it. */
struct report_result *serve_client_report(const serve_t *s);
/* Close every connection (each session tells the hub) and stop listening;
 * serve_run returns first.  Idempotent. */
void serve_close_connections(serve_t *s);
/* The hub's own books at exit: HS_EOK or HS_ESTATE with why. */
hs_err_t serve_check(const serve_t *s, char *why, size_t cap);
void serve_free(serve_t *s);

#endif
