/* `hubsim serve`: the hub model behind real MQTT/TLS, HTTPS and AMQP listeners and an admin API, on one libevent loop in wall time. */
#include "serve/serve.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "serve/admin.h"
#include "serve/client_checks.h"
#include "serve/https_listener.h"
#include "serve/protocols.h"
#include "serve/stream_listener.h"
#include "serve/tls.h"
#include "serve/wallclock.h"
#include "sim/hub/hub.h"
#include "sim/kernel.h"

/*
 * One event loop, one thread.  Every socket callback syncs the kernel to the
 * wall clock first (serve/wallclock.c), so the hub sees time pass exactly as
 * in a virtual run, only slower.  The protocol sessions (serve/mqtt,
 * serve/amqp, serve/http) are the same code the tests drive in virtual time;
 * this file only builds them, binds their listeners and tears them down.
 */

struct serve {
    serve_opts_t o;
    hub_config_t cfg;
    struct event_base *base;
    serve_clock_t *clock;
    sim_kernel_t *k;
    hub_t *hub;
    SSL_CTX *ssl;
    serve_protocols_t *protocols;
    serve_listener_t *mqtt, *amqp;
    serve_https_t *https;
    serve_admin_t *admin;
    struct event *sigint, *sigterm;
    catalogue_t *cat;
    client_checks_t *checks;
    bool stopping;
};

static bool is_loopback(const char *addr)
{
    return strcmp(addr, "127.0.0.1") == 0 || strcmp(addr, "::1") == 0 || strcmp(addr, "localhost") == 0 ||
           strncmp(addr, "127.", 4) == 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    serve_stop(arg);
}

static void admin_shutdown(void *ctx)
{
    serve_stop(ctx);
}

static json_t *view_violations(void *ctx, const char *name, const char *query, int *status,
                               const char **error)
{
    (void)name;
    (void)query;
    serve_t *s = ctx;
    if (!s->checks) {
        *status = 404;
        *error = "client checking is off (serve --check-clients)";
        return NULL;
    }
    return client_checks_json(s->checks);
}

static json_t *view_endpoint(void *ctx, const char *name, const char *query, int *status,
                             const char **error)
{
    serve_t *s = ctx;
    return serve_protocols_endpoint_json(s->protocols, name, query, status, error);
}

static json_t *view_feedback(void *ctx, const char *name, const char *query, int *status,
                             const char **error)
{
    (void)name;
    serve_t *s = ctx;
    return serve_protocols_feedback_json(s->protocols, query, status, error);
}

static hs_err_t arm_breaks(serve_t *s, char *why, size_t cap)
{
    for (size_t i = 0; i < s->o.n_breaks; i++) {
        const char *name = s->o.breaks[i];
        if (hub_break(s->hub, name) == HS_EOK)
            continue;
        if (serve_protocols_break(s->protocols, name) == HS_EOK)
            continue;
        snprintf(why, cap, "--break %s: no hub or wire switch of that name (hubsim rules --switches lists them)", name);
        return HS_EINVAL;
    }
    return HS_EOK;
}

static hs_err_t listen_stream(serve_t *s, const serve_stream_proto_t *proto, void *ctx, int port,
                              serve_listener_t **out, char *why, size_t cap)
{
    if (port < 0 || !proto)
        return HS_EOK;
    serve_listener_opts_t lo = {
        .base = s->base, .clock = s->clock, .ssl = s->ssl, .bind = s->o.bind, .port = port,
        .proto = proto, .proto_ctx = ctx,
        .obs = s->checks ? client_checks_observer() : NULL, .obs_ctx = s->checks,
    };
    return serve_listener_new(&lo, out, why, cap);
}

hs_err_t serve_new(const serve_opts_t *o, serve_t **out, char *why, size_t cap)
{
    *out = NULL;
    serve_t *s = calloc(1, sizeof *s);
    if (!s)
        return HS_ENOMEM;
    s->o = *o;
    if (!s->o.bind)
        s->o.bind = "127.0.0.1";
    if (!s->o.host_name)
        s->o.host_name = "localhost";
    hs_err_t rc = HS_EINVAL;
    if (!is_loopback(s->o.bind) && (!s->o.admin_token || !*s->o.admin_token) && s->o.admin_port >= 0) {
        snprintf(why, cap, "--bind %s is not a loopback address: the admin API then needs --admin-token "
                           "(or --admin-port -1 to turn it off)", s->o.bind);
        goto fail;
    }
    if ((s->o.mqtt_port >= 0 || s->o.https_port >= 0 || s->o.amqp_port >= 0) &&
        (!s->o.cert_pem || !s->o.key_pem)) {
        snprintf(why, cap, "TLS listeners need --cert and --key (hubsim certs DIR makes a test pair)");
        goto fail;
    }
    if (o->config)
        rc = hub_config_copy(&s->cfg, o->config);
    else {
        hub_config_defaults(&s->cfg);
        rc = HS_EOK;
    }
    if (rc != HS_EOK) {
        snprintf(why, cap, "out of memory copying the hub config");
        goto fail;
    }
    if (strlen(s->o.host_name) >= sizeof s->cfg.host) {
        snprintf(why, cap, "--host-name is longer than %zu characters", sizeof s->cfg.host - 1);
        rc = HS_EINVAL;
        goto fail;
    }
    snprintf(s->cfg.host, sizeof s->cfg.host, "%s", s->o.host_name);

    rc = HS_ENOMEM;
    int64_t epoch = 0;
    /* epoll changelists: a write event added and removed within one loop
     * turn (every flush) costs no system call (5-15 % CPU per message in
     * bench-serve) */
    struct event_config *ec = event_config_new();
    if (ec)
        event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    s->base = ec ? event_base_new_with_config(ec) : NULL;
    if (ec)
        event_config_free(ec);
    if (!s->base || !(s->clock = serve_clock_new(s->base, &epoch)) ||
        !(s->k = sim_kernel_new(s->o.seed, epoch))) {
        snprintf(why, cap, "out of memory starting the event loop");
        goto fail;
    }
    if ((rc = hub_new(s->k, &s->cfg, &s->hub, why, cap)) != HS_EOK)
        goto fail;
    if (s->o.check_clients) {
        char err[512];
        if (catalogue_load_default(&s->cat, err, sizeof err) != HS_EOK) {
            snprintf(why, cap, "--check-clients needs the rule catalogue: %s", err);
            rc = HS_EIO;
            goto fail;
        }
        if (!(s->checks = client_checks_new(s->cat))) {
            rc = HS_ENOMEM;
            goto fail;
        }
    }
    if (!(s->protocols = serve_protocols_new(s->hub))) {
        snprintf(why, cap, "out of memory building the protocol sessions");
        rc = HS_ENOMEM;
        goto fail;
    }
    if ((rc = arm_breaks(s, why, cap)) != HS_EOK)
        goto fail;
    if ((rc = serve_protocols_start(s->protocols)) != HS_EOK) {
        snprintf(why, cap, "out of memory building the protocol sessions");
        goto fail;
    }
    if (s->o.cert_pem && s->o.key_pem &&
        (rc = serve_tls_server_ctx(s->o.cert_pem, s->o.key_pem, &s->ssl, why, cap)) != HS_EOK)
        goto fail;

    if ((rc = listen_stream(s, serve_protocols_mqtt(), s->protocols, s->o.mqtt_port, &s->mqtt, why, cap)) != HS_EOK ||
        (rc = listen_stream(s, serve_protocols_amqp(), s->protocols, s->o.amqp_port, &s->amqp, why, cap)) != HS_EOK)
        goto fail;
    if (s->o.https_port >= 0) {
        serve_https_opts_t ho = { .base = s->base, .clock = s->clock, .ssl = s->ssl, .bind = s->o.bind,
                                  .port = s->o.https_port, .api = serve_protocols_http(s->protocols) };
        if ((rc = serve_https_new(&ho, &s->https, why, cap)) != HS_EOK)
            goto fail;
    }
    if (s->o.admin_port >= 0) {
        serve_admin_opts_t ao = {
            .base = s->base, .clock = s->clock, .hub = s->hub, .bind = s->o.bind,
            .port = s->o.admin_port, .token = s->o.admin_token,
            .endpoint_messages = view_endpoint, .feedback = view_feedback,
            .violations = view_violations, .view_ctx = s,
            .shutdown = admin_shutdown, .shutdown_ctx = s,
        };
        if ((rc = serve_admin_new(&ao, &s->admin, why, cap)) != HS_EOK)
            goto fail;
    }
    s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
    s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
    if (!s->sigint || !s->sigterm || evsignal_add(s->sigint, NULL) != 0 ||
        evsignal_add(s->sigterm, NULL) != 0) {
        snprintf(why, cap, "cannot install the SIGINT/SIGTERM handlers");
        rc = HS_EIO;
        goto fail;
    }
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished mid-write is an EPIPE, not a death */
    serve_clock_attach(s->clock, s->k);
    *out = s;
    return HS_EOK;
fail:
    serve_free(s);
    return rc;
}

void serve_print_banner(const serve_t *s, FILE *f)
{
    const hub_config_t *cfg = hub_config(s->hub);
    fprintf(f, "hubsim serve: hub %s, seed %llu\n", cfg->host, (unsigned long long)s->o.seed);
    if (s->mqtt)
        fprintf(f, "mqtt:  %s:%d (MQTT 3.1.1 over TLS)\n", s->o.bind, serve_listener_port(s->mqtt));
    if (s->https)
        fprintf(f, "https: %s:%d (service and device REST)\n", s->o.bind, serve_https_port(s->https));
    if (s->amqp)
        fprintf(f, "amqp:  %s:%d (AMQP 1.0 over TLS)\n", s->o.bind, serve_listener_port(s->amqp));
    if (s->admin)
        fprintf(f, "admin: http://%s:%d/ (docs/serve.md)\n", s->o.bind, serve_admin_port(s->admin));
    for (size_t i = 0; i < cfg->n_policies; i++)
        if ((cfg->policies[i].rights & HUB_RIGHT_ALL) == HUB_RIGHT_ALL) {
            fprintf(f, "service-connection-string: HostName=%s;SharedAccessKeyName=%s;SharedAccessKey=%s\n",
                    cfg->host, cfg->policies[i].name, cfg->policies[i].primary_key);
            if (s->amqp)
                fprintf(f, "eventhubs-connection-string: Endpoint=sb://%s/;SharedAccessKeyName=%s;SharedAccessKey=%s;EntityPath=%s\n",
                        cfg->host, cfg->policies[i].name, cfg->policies[i].primary_key, cfg->name);
            break;
        }
    fprintf(f, "device-connection-string: HostName=%s;DeviceId={deviceId};SharedAccessKey={key}", cfg->host);
    if (s->mqtt && serve_listener_port(s->mqtt) != 8883)
        fprintf(f, ";GatewayHostName=%s:%d", cfg->host, serve_listener_port(s->mqtt));
    fputc('\n', f);
    for (size_t i = 0; i < cfg->n_devices && i < 5; i++) {
        hub_identity_t id;
        if (hub_identity_get(s->hub, cfg->devices[i].id, NULL, &id) == HUB_EOK && !id.x509)
            fprintf(f, "device %s: HostName=%s;DeviceId=%s;SharedAccessKey=%s\n", id.device_id, cfg->host,
                    id.device_id, id.primary_key);
    }
    if (cfg->n_devices > 5)
        fprintf(f, "(%zu more devices in the config)\n", cfg->n_devices - 5);
    if (s->o.n_breaks)
        for (size_t i = 0; i < s->o.n_breaks; i++)
            fprintf(f, "break: %s (this hub breaks the rule on purpose)\n", s->o.breaks[i]);
    fprintf(f, "ready\n");
    fflush(f);
}

void serve_run(serve_t *s)
{
    event_base_dispatch(s->base);
}

void serve_stop(serve_t *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    serve_listener_stop(s->mqtt);
    serve_listener_stop(s->amqp);
    event_base_loopbreak(s->base);
}

report_result_t *serve_client_report(const serve_t *s)
{
    if (!s->checks)
        return NULL;
    char target[300];
    snprintf(target, sizeof target, "clients of hubsim serve (%s)", hub_config(s->hub)->host);
    return client_checks_report(s->checks, target);
}

void serve_close_connections(serve_t *s)
{
    serve_clock_sync(s->clock);
    serve_listener_free(s->mqtt);
    serve_listener_free(s->amqp);
    serve_https_free(s->https);
    s->mqtt = s->amqp = NULL;
    s->https = NULL;
}

hs_err_t serve_check(const serve_t *s, char *why, size_t cap)
{
    return hub_check(s->hub, why, cap);
}

void serve_free(serve_t *s)
{
    if (!s)
        return;
    /* connections first: their sessions disconnect from the hub */
    serve_listener_free(s->mqtt);
    serve_listener_free(s->amqp);
    serve_https_free(s->https);
    serve_admin_free(s->admin);
    if (s->sigint)
        event_free(s->sigint);
    if (s->sigterm)
        event_free(s->sigterm);
    serve_protocols_detach(s->protocols);
    hub_free(s->hub); /* the hub calls nobody back after this */
    serve_protocols_free(s->protocols);
    sim_kernel_free(s->k);
    serve_clock_free(s->clock);
    if (s->ssl)
        SSL_CTX_free(s->ssl);
    client_checks_free(s->checks);
    catalogue_free(s->cat);
    hub_config_free(&s->cfg);
    if (s->base)
        event_base_free(s->base);
    free(s);
}
