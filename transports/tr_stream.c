/* Client streams: address list walk, libevent bufferevents (plain or OpenSSL), failure reasons, deferred close. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "transports/tr_stream.h"

struct tr_stream {
    tr_loop_t *loop;
    tr_tls_t *tls;
    char host[256];
    char tls_name[256];
    int port;
    tr_stream_cb_t cb;
    void *ctx;
    struct addrinfo *ai_head, *ai_next;
    char addr_text[64];
    struct bufferevent *bev;
    SSL *ssl; /* owned by bev */
    tr_stream_state_t state;
    char why[700];
};

static void set_closed(tr_stream_t *s, const char *why)
{
    if (s->state == TR_STREAM_CLOSED)
        return;
    s->state = TR_STREAM_CLOSED;
    snprintf(s->why, sizeof s->why, "%s", why ? why : "");
    if (s->bev)
        bufferevent_disable(s->bev, EV_READ | EV_WRITE);
    if (s->cb.closed)
        s->cb.closed(s->ctx, s->why);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    tr_stream_t *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (s->state == TR_STREAM_OPEN && evbuffer_get_length(in) > 0) {
        uint8_t buf[16384];
        int n = evbuffer_remove(in, buf, sizeof buf);
        if (n <= 0)
            break;
        if (s->cb.data)
            s->cb.data(s->ctx, buf, (size_t)n);
    }
}

static hs_err_t try_next(tr_stream_t *s);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    tr_stream_t *s = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        if (s->state == TR_STREAM_CONNECTING) {
            s->state = TR_STREAM_OPEN;
            if (s->cb.opened)
                s->cb.opened(s->ctx);
        }
        return;
    }
    if (!(what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
        return;
    char why[700];
    int err = EVUTIL_SOCKET_ERROR();
    unsigned long ssl_err = s->ssl ? bufferevent_get_openssl_error(s->bev) : 0;
    if (s->state == TR_STREAM_CONNECTING) {
        /* bufferevent_openssl reports a refused TCP connect as an SSL
         * error too: only a socket with a peer got as far as TLS. */
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        evutil_socket_t fd = bufferevent_getfd(s->bev);
        bool tcp_up = fd >= 0 && getpeername(fd, (struct sockaddr *)&peer, &pl) == 0;
        if (!tcp_up && fd >= 0) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
                err = soerr;
            else if (!err)
                err = ECONNREFUSED; /* the error was consumed; a socket without a peer was refused */
        }
        if (tcp_up && s->ssl && (ssl_err || SSL_get_verify_result(s->ssl) != X509_V_OK || (what & BEV_EVENT_EOF))) {
            char d[300];
            if (!ssl_err && SSL_get_verify_result(s->ssl) == X509_V_OK)
                snprintf(d, sizeof d, "the server closed the connection during the handshake");
            else
                tr_tls_describe_error(s->ssl, ssl_err, d, sizeof d);
            snprintf(why, sizeof why, "TLS handshake with %.200s:%d (%s) failed: %.300s", s->host, s->port,
                     s->addr_text, d);
            set_closed(s, why);
            return;
        }
        snprintf(why, sizeof why, "connect to %.200s:%d (%s): %.200s", s->host, s->port, s->addr_text,
                 err ? evutil_socket_error_to_string(err) : "connection closed");
        snprintf(s->why, sizeof s->why, "%s", why);
        if (s->ai_next && try_next(s) == HS_EOK)
            return;
        set_closed(s, why);
        return;
    }
    if (what & BEV_EVENT_EOF)
        set_closed(s, "");
    else if (ssl_err) {
        char d[300];
        tr_tls_describe_error(s->ssl, ssl_err, d, sizeof d);
        snprintf(why, sizeof why, "TLS error on %.200s:%d: %.300s", s->host, s->port, d);
        set_closed(s, why);
    } else {
        snprintf(why, sizeof why, "connection to %.200s:%d lost: %.200s", s->host, s->port,
                 err ? evutil_socket_error_to_string(err) : "error");
        set_closed(s, why);
    }
}

static hs_err_t try_next(tr_stream_t *s)
{
    if (s->bev) {
        bufferevent_free(s->bev); /* frees the SSL too */
        s->bev = NULL;
        s->ssl = NULL;
    }
    struct addrinfo *ai = s->ai_next;
    if (!ai)
        return HS_EIO;
    s->ai_next = ai->ai_next;
    void *a = ai->ai_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
                                        : (void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
    inet_ntop(ai->ai_family, a, s->addr_text, sizeof s->addr_text);
    struct event_base *base = tr_loop_base(s->loop);
    if (s->tls) {
        s->ssl = tr_tls_new_ssl(s->tls, s->tls_name);
        if (!s->ssl)
            return HS_ENOMEM;
        s->bev = bufferevent_openssl_socket_new(base, -1, s->ssl, BUFFEREVENT_SSL_CONNECTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        if (!s->bev) {
            SSL_free(s->ssl);
            s->ssl = NULL;
            return HS_ENOMEM;
        }
        bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
    } else {
        s->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!s->bev)
            return HS_ENOMEM;
    }
    bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(s->bev, ai->ai_addr, (int)ai->ai_addrlen) != 0) {
        int err = EVUTIL_SOCKET_ERROR();
        snprintf(s->why, sizeof s->why, "connect to %.200s:%d (%s): %.200s", s->host, s->port, s->addr_text,
                 evutil_socket_error_to_string(err));
        return try_next(s);
    }
    return HS_EOK;
}

hs_err_t tr_stream_start(tr_loop_t *l, tr_tls_t *tls, const char *host, int port, const char *tls_name,
                         const tr_stream_cb_t *cb, void *ctx, tr_stream_t **out, char *why, size_t cap)
{
    *out = NULL;
    tr_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return HS_ENOMEM;
    s->loop = l;
    s->tls = tls;
    s->port = port;
    snprintf(s->host, sizeof s->host, "%s", host);
    snprintf(s->tls_name, sizeof s->tls_name, "%s", tls_name && *tls_name ? tls_name : host);
    if (cb)
        s->cb = *cb;
    s->ctx = ctx;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    int rc = getaddrinfo(host, ps, &hints, &s->ai_head);
    if (rc != 0) {
        snprintf(why, cap, "cannot resolve host '%s': %s", host, gai_strerror(rc));
        free(s);
        return HS_EIO;
    }
    s->ai_next = s->ai_head;
    hs_err_t e = try_next(s);
    if (e != HS_EOK) {
        snprintf(why, cap, "%s", *s->why ? s->why : "cannot connect");
        tr_stream_free(s);
        return e == HS_ENOMEM ? e : HS_EIO;
    }
    *out = s;
    return HS_EOK;
}

tr_stream_state_t tr_stream_state(const tr_stream_t *s)
{
    return s->state;
}

const char *tr_stream_why(const tr_stream_t *s)
{
    return s->why;
}

bool tr_stream_write(tr_stream_t *s, const void *p, size_t n)
{
    if (s->state != TR_STREAM_OPEN)
        return false;
    return bufferevent_write(s->bev, p, n) == 0;
}

size_t tr_stream_pending_out(const tr_stream_t *s)
{
    return s->bev ? evbuffer_get_length(bufferevent_get_output(s->bev)) : 0;
}

size_t tr_stream_footprint(const tr_stream_t *s)
{
    if (!s)
        return 0;
    size_t n = sizeof *s;
    for (const struct addrinfo *ai = s->ai_head; ai; ai = ai->ai_next)
        n += sizeof *ai + ai->ai_addrlen;
    if (s->bev)
        n += evbuffer_get_length(bufferevent_get_input(s->bev)) +
             evbuffer_get_length(bufferevent_get_output(s->bev));
    return n;
}

void tr_stream_free(tr_stream_t *s)
{
    if (!s)
        return;
    if (s->bev) {
        if (s->ssl && s->state == TR_STREAM_OPEN)
            SSL_set_shutdown(s->ssl, SSL_RECEIVED_SHUTDOWN); /* no blocking close_notify exchange */
        bufferevent_free(s->bev);
    }
    if (s->ai_head)
        freeaddrinfo(s->ai_head);
    free(s);
}

static bool settled(void *arg)
{
    return tr_stream_state(arg) != TR_STREAM_CONNECTING;
}

hs_err_t tr_stream_connect(tr_loop_t *l, tr_tls_t *tls, const char *host, int port, const char *tls_name,
                           const tr_stream_cb_t *cb, void *ctx, int64_t timeout_ms, tr_stream_t **out,
                           char *why, size_t cap)
{
    tr_stream_t *s;
    hs_err_t e = tr_stream_start(l, tls, host, port, tls_name, cb, ctx, &s, why, cap);
    if (e != HS_EOK)
        return e;
    if (!tr_loop_wait(l, settled, s, timeout_ms)) {
        snprintf(why, cap, "connect to %s:%d: no answer within %lld ms", host, port, (long long)timeout_ms);
        tr_stream_free(s);
        return HS_EIO;
    }
    if (s->state != TR_STREAM_OPEN) {
        snprintf(why, cap, "%s", s->why);
        tr_stream_free(s);
        return HS_EIO;
    }
    *out = s;
    return HS_EOK;
}
