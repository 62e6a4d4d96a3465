/* The route table: endpoints, routes with compiled conditions, fallback, dedup; loaded from a hub config's "routing" section. */
#ifndef ROUTE_TABLE_H
#define ROUTE_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route_query.h"
#include "sim/errors.h"

/* Route sources (the names the configuration uses, case-insensitive). */
#define ROUTE_SOURCE_MAP(X)                                         \
    X(DEVICE_MESSAGES, "DeviceMessages")                            \
    X(TWIN_CHANGE_EVENTS, "TwinChangeEvents")                       \
    X(DEVICE_LIFECYCLE_EVENTS, "DeviceLifecycleEvents")             \
    X(DEVICE_CONNECTION_STATE_EVENTS, "DeviceConnectionStateEvents") \
    X(DEVICE_JOB_LIFECYCLE_EVENTS, "DeviceJobLifecycleEvents")      \
    X(DIGITAL_TWIN_CHANGE_EVENTS, "DigitalTwinChangeEvents")

typedef enum {
#define ROUTE_SRC_ENUM(id, name) ROUTE_SRC_##id,
    ROUTE_SOURCE_MAP(ROUTE_SRC_ENUM)
#undef ROUTE_SRC_ENUM
    ROUTE_SRC_COUNT
} route_source_t;

const char *route_source_name(route_source_t s);
/* -1 when unknown */
int route_source_lookup(const char *name);

typedef enum {
    ROUTE_EP_BUILTIN_EVENTS, /* the built-in "events" endpoint, always index 0 */
    ROUTE_EP_EVENTHUB,
    ROUTE_EP_SERVICEBUS_QUEUE,
    ROUTE_EP_SERVICEBUS_TOPIC,
    ROUTE_EP_STORAGE,
} route_endpoint_kind_t;

const char *route_endpoint_kind_name(route_endpoint_kind_t k);

/* The built-in endpoint's index in every table. */
#define ROUTE_ENDPOINT_EVENTS 0u

typedef struct route_table route_table_t;

typedef struct {
    char where[96];     /* "routes[2] \"hot\"", "endpoints.eventHubs[0]" ... */
    int line, column;   /* of a query syntax error, else 0 */
    char message[200];
} route_load_error_t;

/* Build a table from the routing section (shape: sim/route/routing.schema.json,
 * documented in docs/routing.md).  NULL section: only the built-in endpoint
 * and the default fallback.  o: the query options (NULL: defaults; a
 * section's own "options" object is applied on top).  A route whose
 * condition does not compile is HS_EPARSE naming the route, line and column. */
hs_err_t route_table_load(const json_t *routing, const route_options_t *o, route_table_t **out,
                          route_load_error_t *err);
void route_table_free(route_table_t *t);

/* The options actually in force (after the section's own "options"). */
const route_options_t *route_table_options(const route_table_t *t);

size_t route_table_endpoint_count(const route_table_t *t);
const char *route_table_endpoint_name(const route_table_t *t, size_t i);
route_endpoint_kind_t route_table_endpoint_kind(const route_table_t *t, size_t i);
/* index by name (case-insensitive), or -1 */
long route_table_endpoint_find(const route_table_t *t, const char *name);

size_t route_table_route_count(const route_table_t *t);
const char *route_table_route_name(const route_table_t *t, size_t i);
/* The endpoint index route i sends to (the fallback, i == count, sends to events). */
uint32_t route_table_route_endpoint(const route_table_t *t, size_t i);
/* Enable or disable route i (i == count: the fallback route). */
hs_err_t route_table_route_enable(route_table_t *t, size_t i, bool enabled);

/* Whether any enabled route of source src (or the fallback, for
 * DeviceMessages) reads $twin: when false the hub need not build the twin
 * document for route_message_t.twin. */
bool route_table_reads_twin(const route_table_t *t, route_source_t src);

typedef struct {
    uint64_t evaluated; /* conditions evaluated */
    uint64_t matched;   /* evaluated to true */
    uint64_t errors;    /* evaluated to undefined, null or a non-Boolean (resource-log errors) */
} route_stats_t;

/* Per-route counters; i == route_table_route_count(t) is the fallback route. */
hs_err_t route_table_route_stats(const route_table_t *t, size_t i, route_stats_t *out);

typedef struct {
    size_t nendpoints;   /* distinct endpoints reached, ascending index order */
    bool fallback;       /* the fallback route delivered to "events" */
    size_t nmatched;     /* enabled routes of this source whose condition was true */
} route_match_t;

/* Evaluate every enabled route of source src against msg.  Fills out_endpoints
 * (capacity cap; route_table_endpoint_count(t) always suffices) with the
 * deduplicated endpoint indices in ascending order.  The fallback applies to
 * DeviceMessages only, when no route matched and it is enabled and its own
 * condition is true.  Optionally records which routes matched: matched_routes
 * may be NULL, else has room for route_table_route_count(t) indices. */
hs_err_t route_table_match(route_table_t *t, route_message_t *msg, route_source_t src,
                           uint32_t *out_endpoints, size_t cap, route_match_t *res,
                           uint32_t *matched_routes);

#endif
