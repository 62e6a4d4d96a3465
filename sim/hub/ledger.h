/* Hub bookkeeping: one counter per outcome (X-macro) and the conservation check. */
#ifndef HUB_LEDGER_H
#define HUB_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sim/errors.h"

/* X(ENUM, "name").  Names are stable: reports and conformance cases read
 * them.  Conservation (hub_ledger_check):
 *   d2c.accepted == d2c.delivered + d2c.dropped_no_route + d2c.dropped_endpoint
 *   method.accepted == method.ok + method.timeout + method.offline_after_wait
 *                      + method.aborted + (calls in progress)
 * and (sim/hub/gateways.c, checked by hub_check):
 *   gateway.leaf_opened == gateway.leaf_closed + gateway.leaf_dropped_gateway
 *                          + gateway.leaf_dropped_other + (live leaf sub-connections)  */
#define HUB_LEDGER_MAP(X)                                    \
    X(CONN_OPENED, "conn.opened")                            \
    X(CONN_CLOSED, "conn.closed")                            \
    X(CONN_DROPPED_SECOND, "conn.dropped_second")            \
    X(CONN_DROPPED_DISABLED, "conn.dropped_disabled")        \
    X(CONN_DROPPED_DELETED, "conn.dropped_deleted")          \
    X(CONN_DROPPED_PROTOCOL, "conn.dropped_protocol")        \
    X(CONN_DROPPED_FAULT, "conn.dropped_fault")              \
    X(AUTH_OK, "auth.ok")                                    \
    X(AUTH_EXPIRED, "auth.expired")                          \
    X(AUTH_BAD_SIGNATURE, "auth.bad_signature")              \
    X(AUTH_BAD_SCOPE, "auth.bad_scope")                      \
    X(AUTH_MALFORMED, "auth.malformed")                      \
    X(AUTH_DISABLED, "auth.disabled")                        \
    X(AUTH_BAD_THUMBPRINT, "auth.bad_thumbprint")            \
    X(AUTH_UNKNOWN_IDENTITY, "auth.unknown_identity")        \
    X(REGISTRY_CREATED, "registry.created")                  \
    X(REGISTRY_UPDATED, "registry.updated")                  \
    X(REGISTRY_DELETED, "registry.deleted")                  \
    X(REGISTRY_REJECTED, "registry.rejected")                \
    X(METHOD_INVOKED, "method.invoked")                      \
    X(METHOD_REJECTED_ARGUMENT, "method.rejected_argument")  \
    X(METHOD_NOT_FOUND, "method.not_found")                  \
    X(METHOD_OFFLINE, "method.offline")                      \
    X(METHOD_ACCEPTED, "method.accepted")                    \
    X(METHOD_DELIVERED, "method.delivered")                  \
    X(METHOD_OK, "method.ok")                                \
    X(METHOD_TIMEOUT, "method.timeout")                      \
    X(METHOD_OFFLINE_AFTER_WAIT, "method.offline_after_wait") \
    X(METHOD_ABORTED, "method.aborted")                      \
    X(METHOD_LATE_RESPONSE, "method.late_response")          \
    X(METHOD_UNKNOWN_RID, "method.unknown_rid")              \
    X(METHOD_BAD_RESPONSE, "method.bad_response")            \
    X(D2C_RECEIVED, "d2c.received")                          \
    X(D2C_REJECTED_SIZE, "d2c.rejected_size")                \
    X(D2C_REJECTED_ARGUMENT, "d2c.rejected_argument")        \
    X(D2C_REJECTED_QUOTA, "d2c.rejected_quota")              \
    X(D2C_ACCEPTED, "d2c.accepted")                          \
    X(D2C_DELIVERED, "d2c.delivered")                        \
    X(D2C_ENDPOINT_DELIVERIES, "d2c.endpoint_deliveries")    \
    X(D2C_DROPPED_NO_ROUTE, "d2c.dropped_no_route")          \
    X(D2C_DROPPED_ENDPOINT, "d2c.dropped_endpoint")          \
    X(EVENT_ROUTED, "event.routed")                          \
    X(EVENT_UNROUTED, "event.unrouted")                      \
    X(C2D_SENT, "c2d.sent")                                  \
    X(C2D_REFUSED, "c2d.refused")                            \
    X(TWIN_READ, "twin.read")                                \
    X(TWIN_UPDATED, "twin.updated")                          \
    X(TWIN_REFUSED, "twin.refused")                          \
    X(TWIN_DESIRED_PUSHED, "twin.desired_pushed")            \
    X(THROTTLED_D2C, "throttled.d2c")                        \
    X(THROTTLED_C2D, "throttled.c2d")                        \
    X(THROTTLED_METHOD, "throttled.method")                  \
    X(THROTTLED_TWIN_READ, "throttled.twin_read")            \
    X(THROTTLED_TWIN_UPDATE, "throttled.twin_update")        \
    X(THROTTLED_CONNECT, "throttled.connect")                \
    X(CONN_DROPPED_GATEWAY, "conn.dropped_gateway")          \
    X(GATEWAY_LEAF_OPENED, "gateway.leaf_opened")            \
    X(GATEWAY_LEAF_CLOSED, "gateway.leaf_closed")            \
    X(GATEWAY_LEAF_DROPPED_GATEWAY, "gateway.leaf_dropped_gateway") \
    X(GATEWAY_LEAF_DROPPED_OTHER, "gateway.leaf_dropped_other") \
    X(GATEWAY_REFUSED_SCOPE, "gateway.refused_scope")        \
    X(GATEWAY_REFUSED_NOT_EDGE, "gateway.refused_not_edge")  \
    X(GATEWAY_REFUSED_GATEWAY_GONE, "gateway.refused_gateway_gone") \
    X(GATEWAY_REFUSED_AUTH_MODE, "gateway.refused_auth_mode") \
    X(IO_JOBS_COMPLETED, "identity_io.jobs_completed")       \
    X(IO_JOBS_FAILED, "identity_io.jobs_failed")             \
    X(IO_EXPORTED, "identity_io.exported")                   \
    X(IO_IMPORTED, "identity_io.imported")                   \
    X(IO_IMPORT_ERRORS, "identity_io.import_errors")

typedef enum {
#define HUB_LEDGER_ENUM(e, name) HUB_L_##e,
    HUB_LEDGER_MAP(HUB_LEDGER_ENUM)
#undef HUB_LEDGER_ENUM
    HUB_L__COUNT
} hub_ledger_counter_t;

/* Plain counters owned by the hub (embedded, not allocated). */
typedef struct {
    uint64_t n[HUB_L__COUNT];
} hub_ledger_t;

static inline void hub_ledger_add(hub_ledger_t *l, hub_ledger_counter_t c, uint64_t by)
{
    l->n[c] += by;
}

/* "d2c.accepted" ...; NULL for out of range. */
const char *hub_ledger_name(hub_ledger_counter_t c);
/* HS_ENOTFOUND for an unknown name. */
hs_err_t hub_ledger_lookup(const char *name, hub_ledger_counter_t *out);
/* The D2C and method equations above; methods_in_progress is what the
 * method table still holds.  HS_ESTATE with the first discrepancy in why. */
hs_err_t hub_ledger_check(const hub_ledger_t *l, uint64_t methods_in_progress, char *why,
                          size_t cap);
void hub_ledger_write(const hub_ledger_t *l, FILE *f);

#endif
