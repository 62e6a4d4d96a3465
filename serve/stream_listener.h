/* A TLS stream listener (MQTT, AMQP): accepts, handshakes, then feeds each connection's bytes to a sans-IO protocol session and writes what it emits. */
#ifndef SERVE_STREAM_LISTENER_H
#define SERVE_STREAM_LISTENER_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include "serve/wallclock.h"
#include "serve/wire.h"
#include "sim/errors.h"

/* A protocol as the listener sees it: a const ops table per protocol
 * (serve/protocols.c), ctx shared by all its sessions (the hub, knobs). */
typedef struct {
    const char *name; /* "mqtt", "amqp" */
    /* A session for a connection whose TLS handshake completed.  NULL = refuse
     * (the connection is closed). */
    void *(*open)(void *proto_ctx, const wire_peer_t *peer, const wire_io_ops_t *io, void *io_ctx,
                  const wire_observer_ops_t *obs, void *obs_ctx);
    void (*input)(void *session, const void *bytes, size_t len);
    /* The peer went away (EOF, reset, TLS error, or after the session asked
     * to close): the session tells the hub.  Called once, before free. */
    void (*transport_closed)(void *session);
    void (*free)(void *session);
} serve_stream_proto_t;

typedef struct serve_listener serve_listener_t;

typedef struct {
    struct event_base *base;
    serve_clock_t *clock;
    SSL_CTX *ssl; /* NULL: plain TCP (tests, or behind a TLS terminator) */
    const char *bind;
    int port; /* 0: the system picks; serve_listener_port() tells */
    const serve_stream_proto_t *proto;
    void *proto_ctx;
    const wire_observer_ops_t *obs; /* NULL unless --check-clients */
    void *obs_ctx;
} serve_listener_opts_t;

hs_err_t serve_listener_new(const serve_listener_opts_t *o, serve_listener_t **out, char *why,
                            size_t cap);
int serve_listener_port(const serve_listener_t *l);
size_t serve_listener_connections(const serve_listener_t *l);
/* Stop accepting (shutdown begins). */
void serve_listener_stop(serve_listener_t *l);
/* Closes every connection (their sessions hear transport_closed) and frees. */
void serve_listener_free(serve_listener_t *l);

#endif
