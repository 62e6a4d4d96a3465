/* The HTTPS REST API of `hubsim serve`, sans-IO: one parsed request in, one response out (now, or later in kernel time for direct methods). */
#ifndef SERVE_HTTP_API_H
#define SERVE_HTTP_API_H

/*
 * The carrier (serve/, libevent evhttp + OpenSSL) turns each HTTP request
 * into an http_request_t and writes the http_response_t it gets back.  This
 * layer never reads a socket or a clock: device SAS expiry and method
 * timeouts run on the hub's kernel, so the same code answers in virtual
 * time (tests, conformance wire cases) and in wall time (serve).
 *
 * Routes, headers, error format and knobs: docs/http-api.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "serve/wire.h"
#include "sim/hub/hub.h"

typedef struct {
    const char *name;  /* compared case-insensitively; the first match wins */
    const char *value;
} http_header_t;

typedef struct {
    const char *method;            /* "GET", "PUT", "PATCH", "POST", "DELETE" (exact case) */
    const char *path;              /* the raw path of the request line, still percent-encoded
                                      (each segment is decoded here); when query is NULL a
                                      "?query" tail is split off */
    const char *query;             /* raw query string without '?'; NULL or "" = none */
    const http_header_t *headers;
    size_t n_headers;
    const void *body;              /* may be NULL when body_len is 0 */
    size_t body_len;
    const wire_peer_t *peer;       /* may be NULL (no client certificate) */
} http_request_t;

/* Everything is borrowed for the duration of the respond call: copy what
 * you keep.  headers hold Content-Type when there is a body, never
 * Content-Length (the carrier's job). */
typedef struct {
    int status;
    const char *reason;            /* "OK", "No Content", ... */
    const http_header_t *headers;
    size_t n_headers;
    const char *body;              /* NULL when body_len is 0 */
    size_t body_len;
} http_response_t;

typedef void (*http_respond_fn)(void *ctx, const http_response_t *resp);

/* Wire breaks: each one a deliberately wrong behaviour that a conformance
 * case must catch (the kill matrix for wire rules).
 * X(ENUM, "name", "what goes wrong") */
#define HTTP_BREAK_MAP(X)                                                                              \
    X(NO_ERRORCODE_HEADER, "http-no-errorcode-header",                                                  \
      "error responses lack the iothub-errorcode header (HUB-ERROR-BODY)")                              \
    X(ERROR_BODY_BARE, "http-error-body-bare",                                                          \
      "error bodies lose the \"ErrorCode:<Name>;\" prefix of Message (HUB-ERROR-BODY)")                 \
    X(ERROR_STATUS_FLAT, "http-error-status-flat",                                                      \
      "every hub error answers 400 instead of its table status (HUB-ERROR-BODY)")                        \
    X(C2D_ETAG_UNQUOTED, "http-c2d-etag-unquoted",                                                      \
      "the C2D lock token ETag is sent without its quotes (SDKs strip one char each side)")             \
    X(D2C_APP_PROPS_DROPPED, "http-d2c-app-props-dropped",                                              \
      "iothub-app-* headers of a D2C POST are ignored")                                                 \
    X(D2C_SYS_PROPS_DROPPED, "http-d2c-sys-props-dropped",                                              \
      "iothub-messageid / correlationid / contenttype ... headers of a D2C POST are ignored")           \
    X(AUTH_SKIPPED, "http-auth-skipped",                                                                \
      "service requests are served without checking Authorization (device auth is the hub's rule)")     \
    X(METHOD_BODY_FLAT, "http-method-body-flat",                                                        \
      "a direct method 200 body is the device payload alone, not {\"status\",\"payload\"}")             \
    X(IF_MATCH_IGNORED, "http-if-match-ignored", "If-Match headers are not passed to the hub (HUB-IF-MATCH)")

enum {
#define HTTP_BREAK_IDX(e, name, what) HTTP_BREAK_IDX_##e,
    HTTP_BREAK_MAP(HTTP_BREAK_IDX)
#undef HTTP_BREAK_IDX
    HTTP_BREAK__COUNT
};
enum {
#define HTTP_BREAK_BIT(e, name, what) HTTP_BREAK_##e = 1u << HTTP_BREAK_IDX_##e,
    HTTP_BREAK_MAP(HTTP_BREAK_BIT)
#undef HTTP_BREAK_BIT
};

/* The bit of a break by name ("http-no-errorcode-header"); 0 when unknown. */
unsigned http_break_lookup(const char *name);
/* Name and description of break #i (0..HTTP_BREAK__COUNT-1); NULL past the end. */
const char *http_break_name(size_t i);
const char *http_break_description(size_t i);

/* Default request body cap: above the 256 KB D2C limit so the hub's own size
 * rule (MSG-SIZE-LIMIT, 413) is what a device meets first [our choice]. */
#define HTTP_API_DEFAULT_MAX_BODY (1024u * 1024u)

typedef struct {
    bool require_api_version; /* false (default): api-version optional, any value accepted;
                                 true: missing → 400 ArgumentInvalid [?] */
    size_t max_body_bytes;    /* 0 = HTTP_API_DEFAULT_MAX_BODY; larger body → 413 MessageTooLarge */
    unsigned breaks;          /* HTTP_BREAK_* bits */
} http_api_opts_t;

typedef struct http_api http_api_t;

/* opts NULL = defaults (copied).  The hub must outlive the api's last
 * request; NULL on allocation failure. */
http_api_t *http_api_new(hub_t *hub, const http_api_opts_t *opts);

/* Serve one request.  respond(ctx, resp) is called exactly once: before this
 * returns (returns 0), or later from a kernel event of the hub (a direct
 * method waiting for its device; returns a non-zero handle for
 * http_api_cancel).  The request and everything it points to are only read
 * during this call. */
uint64_t http_api_handle(http_api_t *api, const http_request_t *req, http_respond_fn respond,
                         void *ctx);

/* The client went away: respond is never called for this handle.  The hub
 * call itself runs to its end (the device still sees the request).  Unknown
 * or finished handles are ignored. */
void http_api_cancel(http_api_t *api, uint64_t handle);

/* Requests still waiting to respond (cancelled ones excluded). */
size_t http_api_pending(const http_api_t *api);

/* Free after hub_free (the hub then never calls back), or when
 * http_api_pending() is 0 and no cancelled call is still running in the hub
 * (http_api_outstanding() == 0).  NULL is fine. */
void http_api_free(http_api_t *api);
/* Hub calls started by this api that have not called back yet (including
 * cancelled ones). */
size_t http_api_outstanding(const http_api_t *api);

#endif
