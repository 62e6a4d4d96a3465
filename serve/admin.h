/* The served hub's admin API: HTTP+JSON on its own port to read counters and routed messages and to inject faults at run time (docs/serve.md). */
#ifndef SERVE_ADMIN_H
#define SERVE_ADMIN_H

#include <event2/event.h>
#include <jansson.h>
#include "serve/wallclock.h"
#include "sim/errors.h"
#include "sim/hub/hub.h"

typedef struct serve_admin serve_admin_t;

/* Extra read-only views the admin API serves, each optional: a callback
 * that returns a new JSON value for the request's query string (the
 * endpoint log, feedback, client violations), or NULL with *status and
 * *error set (404 unknown endpoint, 400 bad query). */
typedef json_t *(*serve_admin_view_fn)(void *ctx, const char *name, const char *query, int *status,
                                       const char **error);

typedef struct {
    struct event_base *base;
    serve_clock_t *clock;
    hub_t *hub;
    const char *bind;
    int port;          /* 0: the system picks */
    const char *token; /* NULL or "": no bearer token required */
    serve_admin_view_fn endpoint_messages; /* GET /endpoints/{name}/messages?from=N */
    serve_admin_view_fn feedback;          /* GET /feedback?from=N */
    serve_admin_view_fn violations;        /* GET /violations */
    void *view_ctx;
    void (*shutdown)(void *ctx); /* POST /shutdown; NULL = not offered */
    void *shutdown_ctx;
} serve_admin_opts_t;

hs_err_t serve_admin_new(const serve_admin_opts_t *o, serve_admin_t **out, char *why, size_t cap);
int serve_admin_port(const serve_admin_t *a);
void serve_admin_free(serve_admin_t *a);

#endif
