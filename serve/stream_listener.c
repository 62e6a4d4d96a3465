/* A TLS stream listener (MQTT, AMQP): accepts, handshakes, then feeds each connection's bytes to a sans-IO protocol session and writes what it emits. */
#include "serve/stream_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/tls.h"

/* A TLS handshake must finish in this time (a client that connects and
 * says nothing must not hold a descriptor forever). */
#define HANDSHAKE_TIMEOUT_S 10

typedef struct stream_conn stream_conn_t;

struct serve_listener {
    serve_listener_opts_t o;
    struct evconnlistener *lev;
    int port;
    stream_conn_t *conns; /* doubly linked, in accept order */
    size_t n_conns;
};

struct stream_conn {
    serve_listener_t *l;
    struct bufferevent *bev;
    struct event *reaper; /* frees the connection from a later loop turn */
    void *session;
    bool closing;         /* the session asked to close: flush, then go */
    bool transport_down;  /* transport_closed was delivered */
    char address[64];
    char thumbprint[SERVE_TLS_THUMBPRINT_CAP];
    stream_conn_t *prev, *next;
};

static void conn_destroy(stream_conn_t *c)
{
    serve_listener_t *l = c->l;
    if (c->session) {
        if (!c->transport_down)
            l->o.proto->transport_closed(c->session);
        l->o.proto->free(c->session);
    }
    if (c->bev)
        bufferevent_free(c->bev);
    event_free(c->reaper);
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->n_conns--;
    free(c);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_conn_t *c = arg;
    serve_clock_t *clock = c->l->o.clock;
    serve_clock_sync(clock);
    conn_destroy(c);
    serve_clock_rearm(clock);
}

/* Free on the next loop turn: never from inside a call into the session. */
static void conn_schedule_reap(stream_conn_t *c)
{
    if (c->session && !c->transport_down) {
        c->transport_down = true;
        c->l->o.proto->transport_closed(c->session);
    }
    static const struct timeval now = { 0, 0 };
    evtimer_add(c->reaper, &now);
}

static void io_write(void *ctx, const void *bytes, size_t len)
{
    stream_conn_t *c = ctx;
    if (c->bev && !c->transport_down && len)
        bufferevent_write(c->bev, bytes, len);
}

static void on_drained(struct bufferevent *bev, void *arg)
{
    (void)bev;
    stream_conn_t *c = arg;
    if (c->closing)
        conn_schedule_reap(c);
}

static void io_close(void *ctx, const char *reason)
{
    (void)reason;
    stream_conn_t *c = ctx;
    if (c->closing)
        return;
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_schedule_reap(c);
    /* else on_drained fires when the last byte is written */
}

static const wire_io_ops_t stream_io = { .write = io_write, .close = io_close };

static void on_read(struct bufferevent *bev, void *arg)
{
    stream_conn_t *c = arg;
    serve_clock_t *clock = c->l->o.clock;
    struct evbuffer *in = bufferevent_get_input(bev);
    serve_clock_sync(clock);
    while (evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t n = v.iov_len;
        if (!c->closing && c->session)
            c->l->o.proto->input(c->session, v.iov_base, n);
        evbuffer_drain(in, n); /* after closing: read and discard */
    }
    serve_clock_rearm(clock);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    stream_conn_t *c = arg;
    serve_listener_t *l = c->l;
    serve_clock_sync(l->o.clock);
    if (what & BEV_EVENT_CONNECTED) {
        /* handshake done: now we know the client certificate, if any */
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        bool has_cert = ssl && serve_tls_peer_thumbprint(ssl, c->thumbprint, sizeof c->thumbprint);
        wire_peer_t peer = { .address = c->address,
                             .x509_thumbprint = has_cert ? c->thumbprint : NULL,
                             .tls = ssl != NULL };
        bufferevent_set_timeouts(bev, NULL, NULL);
        c->session = l->o.proto->open(l->o.proto_ctx, &peer, &stream_io, c, l->o.obs, l->o.obs_ctx);
        if (!c->session)
            conn_schedule_reap(c);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        bufferevent_disable(bev, EV_READ | EV_WRITE);
        conn_schedule_reap(c);
    }
    serve_clock_rearm(l->o.clock);
}

static void format_address(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, cap, "%s:%d", host, port);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)lev;
    (void)salen;
    serve_listener_t *l = arg;
    stream_conn_t *c = calloc(1, sizeof *c);
    SSL *ssl = NULL;
    if (c && l->o.ssl)
        ssl = SSL_new(l->o.ssl);
    if (!c || (l->o.ssl && !ssl)) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    c->l = l;
    format_address(sa, c->address, sizeof c->address);
    c->reaper = evtimer_new(l->o.base, on_reap, c);
    if (ssl)
        c->bev = bufferevent_openssl_socket_new(l->o.base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE);
    else
        c->bev = bufferevent_socket_new(l->o.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev || !c->reaper) {
        if (c->bev)
            bufferevent_free(c->bev);
        else {
            if (ssl)
                SSL_free(ssl);
            evutil_closesocket(fd);
        }
        if (c->reaper)
            event_free(c->reaper);
        free(c);
        return;
    }
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->n_conns++;
    bufferevent_setcb(c->bev, on_read, on_drained, on_event, c);
    if (ssl) {
        struct timeval hs = { HANDSHAKE_TIMEOUT_S, 0 };
        bufferevent_set_timeouts(c->bev, &hs, &hs);
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (!ssl) /* plain TCP: no handshake to wait for */
        on_event(c->bev, BEV_EVENT_CONNECTED, c);
}

hs_err_t serve_listener_new(const serve_listener_opts_t *o, serve_listener_t **out, char *why,
                            size_t cap)
{
    *out = NULL;
    serve_listener_t *l = calloc(1, sizeof *l);
    if (!l)
        return HS_ENOMEM;
    l->o = *o;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int sslen;
    char spec[128];
    snprintf(spec, sizeof spec, strchr(o->bind, ':') ? "[%s]:%d" : "%s:%d", o->bind, o->port);
    struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
    /* by hand: evutil_parse_sockaddr_port refuses port 0 (any free port) */
    if (inet_pton(AF_INET, strcmp(o->bind, "localhost") == 0 ? "127.0.0.1" : o->bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)o->port);
        sslen = sizeof *in4;
    } else if (inet_pton(AF_INET6, o->bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->port);
        sslen = sizeof *in6;
    } else {
        snprintf(why, cap, "%s: bad bind address '%s' (an IPv4 or IPv6 address)", o->proto->name, o->bind);
        free(l);
        return HS_EINVAL;
    }
    l->lev = evconnlistener_new_bind(o->base, on_accept, l,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512,
                                     (struct sockaddr *)&ss, sslen);
    if (!l->lev) {
        snprintf(why, cap, "%s: cannot listen on %s: %s", o->proto->name, spec, strerror(errno));
        free(l);
        return HS_EIO;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(l->lev), (struct sockaddr *)&bound, &blen) == 0)
        l->port = bound.ss_family == AF_INET6
                      ? ntohs(((struct sockaddr_in6 *)(void *)&bound)->sin6_port)
                      : ntohs(((struct sockaddr_in *)(void *)&bound)->sin_port);
    *out = l;
    return HS_EOK;
}

int serve_listener_port(const serve_listener_t *l)
{
    return l->port;
}

size_t serve_listener_connections(const serve_listener_t *l)
{
    return l->n_conns;
}

void serve_listener_stop(serve_listener_t *l)
{
    if (l && l->lev)
        evconnlistener_disable(l->lev);
}

void serve_listener_free(serve_listener_t *l)
{
    if (!l)
        return;
    while (l->conns)
        conn_destroy(l->conns);
    if (l->lev)
        evconnlistener_free(l->lev);
    free(l);
}
