/* A minimal HTTP/1.1 client over tr_stream (HTTPS or plain): one request per connection, asynchronous, polled. */
#ifndef TRANSPORTS_TR_HTTP_H
#define TRANSPORTS_TR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "transports/tr_loop.h"
#include "transports/tr_tls.h"

/*
 * Each request opens its own connection and sends `Connection: close`, so
 * a slow answer (a direct method waiting for its device) never blocks
 * another request.  Responses with Content-Length, chunked bodies or
 * bodies ending at the close are read whole; header names keep the case
 * the server sent (compare case-insensitively).
 */

typedef struct {
    const char *name;
    const char *value;
} tr_header_t;

typedef struct {
    const char *method; /* "GET", "PUT", ... */
    const char *path;   /* percent-encoded, with "?query" */
    const tr_header_t *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
} tr_http_request_t;

typedef struct {
    int status;        /* 0 while pending or after a transport failure */
    tr_header_t *headers;
    size_t n_headers;
    char *body;        /* NUL-terminated */
    size_t body_len;
    bool failed;       /* the transport failed: why says how */
    char why[400];
} tr_http_response_t;

typedef struct tr_http_req tr_http_req_t;

typedef struct {
    tr_loop_t *loop;
    tr_tls_t *tls;        /* NULL: plain HTTP */
    const char *host;     /* dialled */
    int port;
    const char *tls_name; /* SNI/name check and the Host header; NULL = host */
} tr_http_target_t;

hs_err_t tr_http_start(const tr_http_target_t *to, const tr_http_request_t *rq, tr_http_req_t **out,
                       char *why, size_t cap);
/* Call fn(ctx, r) once when r is answered or failed (from inside a pump of
 * the loop, within the connection's own callback: fn must not free r; it
 * may note it for a later turn).  Set right after tr_http_start. */
void tr_http_on_done(tr_http_req_t *r, void (*fn)(void *ctx, tr_http_req_t *r), void *ctx);
/* Answered or failed. */
bool tr_http_done(const tr_http_req_t *r);
const tr_http_response_t *tr_http_result(const tr_http_req_t *r);
/* Abandons the request if pending (closes its connection). */
void tr_http_free(tr_http_req_t *r);
/* Start and wait up to timeout_ms: HS_EIO with why (transport failure or
 * "no answer within N ms"); HS_EOK with *out answered (any status). */
hs_err_t tr_http_call(const tr_http_target_t *to, const tr_http_request_t *rq, int64_t timeout_ms,
                      tr_http_req_t **out, char *why, size_t cap);
/* A response header by name (case-insensitive), NULL when absent. */
const char *tr_http_header(const tr_http_response_t *r, const char *name);

#endif
