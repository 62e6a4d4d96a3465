/* HTTP/1.1 client: request framing, status line and header parsing, Content-Length/chunked/close-delimited bodies. */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transports/tr_http.h"
#include "transports/tr_stream.h"

struct tr_http_req {
    tr_stream_t *s;
    char *out;        /* the request bytes, sent once open */
    size_t out_len;
    char *in;         /* everything received */
    size_t in_len, in_cap;
    bool headers_done;
    size_t body_start;
    long long content_length; /* -1: unknown */
    bool chunked;
    bool done;
    tr_http_response_t resp;
    void (*on_done)(void *ctx, tr_http_req_t *r);
    void *on_done_ctx;
};

static void notify_done(tr_http_req_t *r)
{
    if (r->on_done)
        r->on_done(r->on_done_ctx, r);
}

void tr_http_on_done(tr_http_req_t *r, void (*fn)(void *ctx, tr_http_req_t *r), void *ctx)
{
    r->on_done = fn;
    r->on_done_ctx = ctx;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort(); /* a client without memory cannot report anything */
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void fail(tr_http_req_t *r, const char *why)
{
    if (r->done)
        return;
    r->done = true;
    r->resp.failed = true;
    r->resp.status = 0;
    snprintf(r->resp.why, sizeof r->resp.why, "%s", why);
    notify_done(r);
}

const char *tr_http_header(const tr_http_response_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static bool parse_headers(tr_http_req_t *r, size_t end)
{
    /* r->in[0..end) is the head without the blank line */
    char *head = dup_n(r->in, end);
    char *save = NULL;
    char *line = strtok_r(head, "\r\n", &save);
    int major, minor, status;
    if (!line || sscanf(line, "HTTP/%d.%d %d", &major, &minor, &status) != 3 || status < 100 || status > 999) {
        free(head);
        return false;
    }
    r->resp.status = status;
    while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        tr_header_t *h = realloc(r->resp.headers, (r->resp.n_headers + 1) * sizeof *h);
        if (!h)
            abort();
        r->resp.headers = h;
        h[r->resp.n_headers].name = dup_n(line, strlen(line));
        h[r->resp.n_headers].value = dup_n(v, vl);
        r->resp.n_headers++;
    }
    free(head);
    const char *cl = tr_http_header(&r->resp, "Content-Length");
    const char *te = tr_http_header(&r->resp, "Transfer-Encoding");
    r->content_length = cl ? atoll(cl) : -1;
    r->chunked = te && strcasestr(te, "chunked");
    if (status == 204 || status == 304 || (status >= 100 && status < 200))
        r->content_length = 0;
    return true;
}

static void finish(tr_http_req_t *r, const char *body, size_t n)
{
    r->resp.body = dup_n(body ? body : "", body ? n : 0);
    r->resp.body_len = body ? n : 0;
    r->done = true;
    notify_done(r);
}

/* Decode a chunked body from r->in[body_start..); false while incomplete. */
static bool try_chunked(tr_http_req_t *r, bool *bad)
{
    size_t p = r->body_start;
    char *body = NULL;
    size_t blen = 0;
    for (;;) {
        char *nl = memmem(r->in + p, r->in_len - p, "\r\n", 2);
        if (!nl)
            break;
        unsigned long sz = strtoul(r->in + p, NULL, 16);
        size_t data = (size_t)(nl - r->in) + 2;
        if (sz == 0) {
            free(r->resp.body);
            finish(r, body ? body : "", blen);
            free(body);
            return true;
        }
        if (r->in_len < data + sz + 2)
            break;
        char *nb = realloc(body, blen + sz + 1);
        if (!nb)
            abort();
        body = nb;
        memcpy(body + blen, r->in + data, sz);
        blen += sz;
        p = data + sz + 2;
        if (sz > (1u << 30)) {
            *bad = true;
            break;
        }
    }
    free(body);
    return false;
}

static void progress(tr_http_req_t *r, bool eof)
{
    if (r->done)
        return;
    if (!r->headers_done) {
        char *e = r->in_len ? memmem(r->in, r->in_len, "\r\n\r\n", 4) : NULL;
        if (!e) {
            if (eof)
                fail(r, r->in_len ? "the server closed the connection inside the response head"
                                  : "the server closed the connection without an answer");
            return;
        }
        if (!parse_headers(r, (size_t)(e - r->in))) {
            fail(r, "the answer is not HTTP/1.x (bad status line)");
            return;
        }
        r->headers_done = true;
        r->body_start = (size_t)(e - r->in) + 4;
    }
    size_t have = r->in_len - r->body_start;
    if (r->chunked) {
        bool bad = false;
        if (!try_chunked(r, &bad) && (eof || bad))
            fail(r, "truncated or malformed chunked body");
        return;
    }
    if (r->content_length >= 0) {
        if (have >= (size_t)r->content_length)
            finish(r, r->in + r->body_start, (size_t)r->content_length);
        else if (eof)
            fail(r, "the server closed the connection before the whole body (Content-Length)");
        return;
    }
    if (eof)
        finish(r, r->in + r->body_start, have);
}

static void on_opened(void *ctx)
{
    tr_http_req_t *r = ctx;
    if (!tr_stream_write(r->s, r->out, r->out_len))
        fail(r, "cannot write the request");
}

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    tr_http_req_t *r = ctx;
    if (r->in_len + n + 1 > r->in_cap) {
        size_t nc = r->in_cap ? r->in_cap : 4096;
        while (nc < r->in_len + n + 1)
            nc *= 2;
        char *q = realloc(r->in, nc);
        if (!q)
            abort();
        r->in = q;
        r->in_cap = nc;
    }
    memcpy(r->in + r->in_len, p, n);
    r->in_len += n;
    progress(r, false);
}

static void on_closed(void *ctx, const char *why)
{
    tr_http_req_t *r = ctx;
    if (why && *why) {
        if (!r->done)
            fail(r, why);
        return;
    }
    progress(r, true);
}

static const tr_stream_cb_t http_cb = { on_opened, on_data, on_closed };

hs_err_t tr_http_start(const tr_http_target_t *to, const tr_http_request_t *rq, tr_http_req_t **out,
                       char *why, size_t cap)
{
    *out = NULL;
    tr_http_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return HS_ENOMEM;
    const char *hostname = to->tls_name && *to->tls_name ? to->tls_name : to->host;
    char *head = NULL;
    size_t hl = 0;
    FILE *f = open_memstream(&head, &hl);
    if (!f) {
        free(r);
        return HS_ENOMEM;
    }
    fprintf(f, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %zu\r\n", rq->method,
            rq->path, hostname, to->port, rq->body_len);
    for (size_t i = 0; i < rq->n_headers; i++)
        fprintf(f, "%s: %s\r\n", rq->headers[i].name, rq->headers[i].value);
    fputs("\r\n", f);
    if (rq->body_len)
        fwrite(rq->body, 1, rq->body_len, f);
    fclose(f);
    r->out = head;
    r->out_len = hl;
    r->content_length = -1;
    hs_err_t e = tr_stream_start(to->loop, to->tls, to->host, to->port, hostname, &http_cb, r, &r->s, why, cap);
    if (e != HS_EOK) {
        tr_http_free(r);
        return e;
    }
    *out = r;
    return HS_EOK;
}

bool tr_http_done(const tr_http_req_t *r)
{
    return r->done;
}

const tr_http_response_t *tr_http_result(const tr_http_req_t *r)
{
    return &r->resp;
}

void tr_http_free(tr_http_req_t *r)
{
    if (!r)
        return;
    tr_stream_free(r->s);
    free(r->out);
    free(r->in);
    for (size_t i = 0; i < r->resp.n_headers; i++) {
        free((char *)r->resp.headers[i].name);
        free((char *)r->resp.headers[i].value);
    }
    free(r->resp.headers);
    free(r->resp.body);
    free(r);
}

static bool req_done(void *arg)
{
    return tr_http_done(arg);
}

hs_err_t tr_http_call(const tr_http_target_t *to, const tr_http_request_t *rq, int64_t timeout_ms,
                      tr_http_req_t **out, char *why, size_t cap)
{
    *out = NULL;
    tr_http_req_t *r;
    hs_err_t e = tr_http_start(to, rq, &r, why, cap);
    if (e != HS_EOK)
        return e;
    if (!tr_loop_wait(to->loop, req_done, r, timeout_ms)) {
        snprintf(why, cap, "%s %s on %s:%d: no answer within %lld ms", rq->method, rq->path, to->host, to->port,
                 (long long)timeout_ms);
        tr_http_free(r);
        return HS_EIO;
    }
    if (r->resp.failed) {
        snprintf(why, cap, "%s %s: %s", rq->method, rq->path, r->resp.why);
        tr_http_free(r);
        return HS_EIO;
    }
    *out = r;
    return HS_EOK;
}
