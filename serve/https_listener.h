/* The HTTPS carrier: libevent's evhttp over OpenSSL turns each request into the sans-IO REST API's request (serve/http) and writes its response. */
#ifndef SERVE_HTTPS_LISTENER_H
#define SERVE_HTTPS_LISTENER_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include "serve/http/http_api.h"
#include "serve/wallclock.h"
#include "sim/errors.h"

typedef struct serve_https serve_https_t;

typedef struct {
    struct event_base *base;
    serve_clock_t *clock;
    SSL_CTX *ssl; /* NULL: plain HTTP (tests) */
    const char *bind;
    int port;
    http_api_t *api; /* borrowed */
} serve_https_opts_t;

hs_err_t serve_https_new(const serve_https_opts_t *o, serve_https_t **out, char *why, size_t cap);
int serve_https_port(const serve_https_t *h);
/* Requests waiting for the hub (direct methods). */
size_t serve_https_waiting(const serve_https_t *h);
/* Cancels waiting requests (their clients get no answer) and frees. */
void serve_https_free(serve_https_t *h);

#endif
