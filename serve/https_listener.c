/* The HTTPS carrier: libevent's evhttp over OpenSSL turns each request into the sans-IO REST API's request (serve/http) and writes its response. */
#include "serve/https_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/tls.h"

/* evhttp's own body cap sits above the API's, so an oversized body still
 * gets the hub's MessageTooLarge error body from the API, not a bare 413. */
#define EVHTTP_BODY_MAX (4u * HTTP_API_DEFAULT_MAX_BODY)
#define MAX_HEADERS 128

typedef struct waiting waiting_t;

struct serve_https {
    serve_https_opts_t o;
    struct evhttp *http;
    int port;
    waiting_t *waiting; /* requests the API answers later */
    size_t n_waiting;
};

/* One request in flight through the API. */
struct waiting {
    serve_https_t *h;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    uint64_t handle;
    bool answered;
    bool linked;
    waiting_t *prev, *next;
};

static void unlink_waiting(waiting_t *w)
{
    if (!w->linked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->h->waiting = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->linked = false;
    w->h->n_waiting--;
}

static void respond(void *ctx, const http_response_t *resp)
{
    waiting_t *w = ctx;
    struct evkeyvalq *out = evhttp_request_get_output_headers(w->req);
    for (size_t i = 0; i < resp->n_headers; i++)
        evhttp_add_header(out, resp->headers[i].name, resp->headers[i].value);
    struct evbuffer *buf = evbuffer_new();
    if (buf && resp->body_len)
        evbuffer_add(buf, resp->body, resp->body_len);
    evhttp_send_reply(w->req, resp->status, resp->reason ? resp->reason : "", buf);
    if (buf)
        evbuffer_free(buf);
    w->answered = true;
    if (w->linked) { /* a later answer: this request's bookkeeping ends here */
        unlink_waiting(w);
        free(w);
    }
}

/* The client hung up: whatever it was waiting for is not answered. */
static void on_connection_closed(struct evhttp_connection *evcon, void *arg)
{
    serve_https_t *h = arg;
    for (waiting_t *w = h->waiting, *next; w; w = next) {
        next = w->next;
        if (w->evcon != evcon)
            continue;
        http_api_cancel(h->o.api, w->handle);
        /* evhttp detaches an unanswered request from a failed connection
         * and leaves it to us; one still attached is freed with it. */
        if (!evhttp_request_get_connection(w->req))
            evhttp_request_free(w->req);
        unlink_waiting(w);
        free(w);
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    serve_https_t *h = arg;
    serve_clock_sync(h->o.clock);
    http_header_t headers[MAX_HEADERS];
    size_t n = 0;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    for (struct evkeyval *kv = in->tqh_first; kv && n < MAX_HEADERS; kv = kv->next.tqe_next)
        headers[n++] = (http_header_t){ kv->key, kv->value };
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t body_len = evbuffer_get_length(body);
    static const char *const methods[] = { "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS",
                                           "TRACE", "CONNECT", "PATCH" };
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *method = "?";
    for (unsigned i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (cmd == (enum evhttp_cmd_type)(1u << i))
            method = methods[i];

    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char *peer_host = NULL;
    ev_uint16_t peer_port = 0;
    evhttp_connection_get_peer(evcon, &peer_host, &peer_port);
    char address[80], thumb[SERVE_TLS_THUMBPRINT_CAP];
    snprintf(address, sizeof address, "%s:%u", peer_host ? peer_host : "?", peer_port);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    bool has_cert = ssl && serve_tls_peer_thumbprint(ssl, thumb, sizeof thumb);
    wire_peer_t peer = { .address = address, .x509_thumbprint = has_cert ? thumb : NULL,
                         .tls = ssl != NULL };

    http_request_t r = {
        .method = method,
        .path = evhttp_request_get_uri(req),
        .query = NULL,
        .headers = headers,
        .n_headers = n,
        .body = body_len ? evbuffer_pullup(body, (ev_ssize_t)body_len) : NULL,
        .body_len = body_len,
        .peer = &peer,
    };
    waiting_t *w = calloc(1, sizeof *w);
    if (!w) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    *w = (waiting_t){ .h = h, .req = req, .evcon = evcon };
    uint64_t handle = http_api_handle(h->o.api, &r, respond, w);
    if (w->answered) {
        free(w);
    } else {
        w->handle = handle;
        w->linked = true;
        w->next = h->waiting;
        if (h->waiting)
            h->waiting->prev = w;
        h->waiting = w;
        h->n_waiting++;
        evhttp_connection_set_closecb(evcon, on_connection_closed, h);
    }
    serve_clock_rearm(h->o.clock);
}

static struct bufferevent *make_tls_bev(struct event_base *base, void *arg)
{
    serve_https_t *h = arg;
    SSL *ssl = SSL_new(h->o.ssl);
    if (!ssl)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

hs_err_t serve_https_new(const serve_https_opts_t *o, serve_https_t **out, char *why, size_t cap)
{
    *out = NULL;
    serve_https_t *h = calloc(1, sizeof *h);
    if (!h || !(h->http = evhttp_new(o->base))) {
        free(h);
        return HS_ENOMEM;
    }
    h->o = *o;
    evhttp_set_max_body_size(h->http, EVHTTP_BODY_MAX);
    /* the API sets Content-Type itself; evhttp would add text/html to a 204 */
    evhttp_set_default_content_type(h->http, NULL);
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(h->http, on_request, h);
    if (o->ssl)
        evhttp_set_bevcb(h->http, make_tls_bev, h);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h->http, o->bind, (ev_uint16_t)o->port);
    if (!bs) {
        snprintf(why, cap, "https: cannot listen on %s:%d: %s", o->bind, o->port, strerror(errno));
        evhttp_free(h->http);
        free(h);
        return HS_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
        h->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    *out = h;
    return HS_EOK;
}

int serve_https_port(const serve_https_t *h)
{
    return h->port;
}

size_t serve_https_waiting(const serve_https_t *h)
{
    return h->n_waiting;
}

void serve_https_free(serve_https_t *h)
{
    if (!h)
        return;
    while (h->waiting) {
        waiting_t *w = h->waiting;
        http_api_cancel(h->o.api, w->handle);
        unlink_waiting(w);
        free(w);
    }
    evhttp_free(h->http);
    free(h);
}
