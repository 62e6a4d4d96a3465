/* The protocol sessions as the served hub's carriers see them: ops tables for the stream listeners, the REST API, wire break switches, and the endpoint log views. */
#ifndef SERVE_PROTOCOLS_H
#define SERVE_PROTOCOLS_H

#include <jansson.h>
#include "serve/http/http_api.h"
#include "serve/stream_listener.h"
#include "sim/hub/hub.h"

typedef struct serve_protocols serve_protocols_t;

/* Built in two steps: new, then break() for each --break name that is a
 * wire switch, then start() (options are copied into the sessions then). */
serve_protocols_t *serve_protocols_new(hub_t *hub);
/* HS_ENOTFOUND when no protocol has a switch of that name. */
hs_err_t serve_protocols_break(serve_protocols_t *p, const char *name);
hs_err_t serve_protocols_start(serve_protocols_t *p);
/* Before hub_free: the routed-message and feedback logs leave the hub's
 * sinks (the sessions using them must be gone). */
void serve_protocols_detach(serve_protocols_t *p);
/* After hub_free: the REST API (the hub may hold its pending calls until then). */
void serve_protocols_free(serve_protocols_t *p);

/* Every wire switch name with its description, for `hubsim rules --switches`
 * style listings: fn is called once per switch. */
void serve_protocols_for_each_break(void (*fn)(void *ctx, const char *name, const char *what), void *ctx);

const serve_stream_proto_t *serve_protocols_mqtt(void);
const serve_stream_proto_t *serve_protocols_amqp(void);
http_api_t *serve_protocols_http(serve_protocols_t *p);

/* Admin views over the routed-message and feedback logs (see admin.h). */
json_t *serve_protocols_endpoint_json(serve_protocols_t *p, const char *endpoint, const char *query,
                                      int *status, const char **error);
json_t *serve_protocols_feedback_json(serve_protocols_t *p, const char *query, int *status,
                                      const char **error);

#endif
