/* Conformance cases for field gateways: leaves offline with their gateway, their C2D queued meanwhile, the leaf's scope naming the gateway, a parent that must be an IoT Edge device. */
#include <stdio.h>
#include <string.h>

#include "conformance/case.h"
#include "conformance/wire_amqp_client.h"

#include <proton/disposition.h>

/* Literals from docs/gateways.md (issue 10: "when the gateway goes offline
 * every leaf is offline for direct methods (404 after connectTimeout) while
 * their C2D messages queue"): a leaf's parent is an IoT Edge device [doc],
 * only an IoT Edge device's connection carries leaves [doc], a leaf connects
 * through the gateway its scope names [edge].  Codes: offline 404 (the
 * method code is METHOD-404-OFFLINE's), a refused leaf 401, a refused
 * parent 400. */

/* The target can carry leaves, else SKIP. */
static bool can_leaf(conf_ctx_t *c)
{
    if (c->ops->device_connect_leaf)
        return true;
    conf_skip(c, "the target lacks a capability the case needs "
                 "(leaf sub-connections over a gateway's connection: device_connect_leaf)");
    return false;
}

/* Register an identity: an IoT Edge device (edge) or a leaf of parent. */
static bool create(conf_ctx_t *c, const char *id, bool edge, const char *parent, target_status_t *st_out)
{
    target_identity_spec_t s = { .device_id = id, .primary_key = CONF_KEY_A, .secondary_key = CONF_KEY_B,
                                 .iot_edge = edge, .parent_id = parent };
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, st_out ? st_out : &st);
    if (!st_out && st.http != 200)
        return conf_error(c, "cannot register %s: %d %s %s", id, st.http, st.name, st.detail);
    return true;
}

/* Connect the leaf over gateway with its own token; st NULL: must succeed (ERROR otherwise). */
static bool leaf_connect(conf_ctx_t *c, target_conn_t gateway, const char *leaf, target_conn_t *out,
                         target_status_t *st_out)
{
    char tok[1024];
    if (!conf_token(c, CONF_KEY_A, leaf, NULL, c->ops->unix_now(c->t) + 86400, tok, sizeof tok))
        return false;
    target_connect_t p = { .device_id = leaf, .sas_token = tok, .protocol = c->protocol };
    target_status_t st;
    c->ops->device_connect_leaf(c->t, gateway, &p, out, st_out ? st_out : &st);
    if (!st_out && st.http != 200)
        return conf_error(c, "cannot connect leaf %s: %d %s %s", leaf, st.http, st.name, st.detail);
    return true;
}

/* g1 (IoT Edge) online, l1 (parent g1) connected over it. */
static bool gateway_and_leaf(conf_ctx_t *c, target_conn_t *g, target_conn_t *l)
{
    return can_leaf(c) && create(c, "g1", true, NULL, NULL) && create(c, "l1", false, "g1", NULL) &&
           conf_connect(c, "g1", NULL, g, NULL) && leaf_connect(c, *g, "l1", l, NULL);
}

/* ---- GATEWAY-LEAF-OFFLINE ------------------------------------------------------------------- */

static void leaf_offline(conf_ctx_t *c)
{
    target_conn_t g, l;
    target_status_t st;
    if (!gateway_and_leaf(c, &g, &l))
        return;
    c->ops->device_subscribe(c->t, l, TARGET_SUB_METHODS, &st);
    if (!conf_status(c, &st, 200, 0, "l1 subscribes to methods over g1"))
        return;
    target_call_t call = conf_invoke(c, "l1", NULL, "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":5}");
    target_event_t ev;
    if (!conf_check(c, conf_next_method(c, l, &ev), "with g1 online, l1 hears the call", "nothing"))
        return;
    c->ops->device_method_respond(c->t, l, ev.rid, 200, "{}", 2, &st);
    if (!conf_method(c, call, 200, 0, "l1 answers over g1: 200"))
        return;
    c->ops->device_disconnect(c->t, g);
    if (!conf_check(c, !c->ops->device_connected(c->t, l), "g1 gone: l1 is no longer connected", "l1 still connected"))
        return;
    call = conf_invoke(c, "l1", NULL, "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":5,\"connectTimeoutInSeconds\":0}");
    target_method_result_t r;
    bool done = c->ops->method_result(c->t, call, &r);
    /* the code (404103) is METHOD-404-OFFLINE's rule; here: offline, answered 404 */
    conf_check(c, done && r.http == 404, "g1 gone: a call to l1 (connectTimeout 0) is answered 404 at once",
               "%s", done ? (r.http == 200 ? "200 (delivered)" : r.name) : "pending");
}

/* ---- GATEWAY-LEAF-C2D-QUEUE ------------------------------------------------------------------ */

/* Send a C2D message with that id to l1. */
static bool c2d(conf_ctx_t *c, const char *id, const char *what)
{
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "for l1");
    conf_msg_sys(&m, "messageId", id);
    c->ops->c2d_send(c->t, "l1", &m, 0, &st);
    return conf_status(c, &st, 200, 0, what);
}

static void leaf_c2d_queue(conf_ctx_t *c)
{
    target_conn_t g, l;
    target_status_t st;
    if (!gateway_and_leaf(c, &g, &l) || !c2d(c, "c1", "C2D c1 to l1 (online, not yet received): accepted"))
        return;
    c->ops->device_disconnect(c->t, g);
    if (!c2d(c, "c2", "C2D c2 to l1 while g1 is offline: accepted (queued)"))
        return;
    if (!conf_connect(c, "g1", NULL, &g, NULL) || !leaf_connect(c, g, "l1", &l, NULL))
        return;
    c->ops->device_subscribe(c->t, l, TARGET_SUB_C2D, &st);
    if (!conf_status(c, &st, 200, 0, "l1 subscribes to C2D over g1 again"))
        return;
    static const char *const want[] = { "c1", "c2" };
    for (size_t i = 0; i < 2; i++) {
        target_c2d_t msg;
        char what[120];
        snprintf(what, sizeof what, "back over g1, l1 receives %s (queued across the outage)", want[i]);
        c->ops->device_c2d_receive(c->t, l, &msg, &st);
        if (!conf_status(c, &st, 200, 0, what) ||
            !conf_check(c, strcmp(msg.message_id, want[i]) == 0, what, "%s", msg.message_id))
            return;
        c->ops->device_c2d_settle(c->t, l, msg.lock_token, TARGET_SETTLE_COMPLETE, &st);
        if (!conf_status(c, &st, 200, 0, "complete it"))
            return;
    }
}

/* ---- GATEWAY-SCOPE ---------------------------------------------------------------------------- */

static void leaf_scope(conf_ctx_t *c)
{
    target_conn_t g, l;
    target_status_t st;
    if (!can_leaf(c) || !create(c, "g1", true, NULL, NULL) || !create(c, "g2", true, NULL, NULL) ||
        !create(c, "l2", false, "g2", NULL) || !conf_connect(c, "g1", NULL, &g, NULL) ||
        !leaf_connect(c, g, "l2", &l, &st))
        return;
    conf_refused(c, &st, 401, "l2 (scope g2) over g1's connection: refused 401");
}

/* Over AMQP (serve's multiplexing): on g1's connection l2 (scope g2) gets no telemetry link after its
 * put-token, l1 (scope g1) does and its message is accepted.  Judged by the link, not by the
 * put-token's status-code (that is AMQP-CBS-PUT-TOKEN's rule). */
static bool leaf_can_send(conf_ctx_t *c, wa_t *a, const char *leaf)
{
    char tok[1024], aud[600], addr[200];
    if (!conf_token(c, CONF_KEY_A, leaf, NULL, c->ops->unix_now(c->t) + 86400, tok, sizeof tok))
        return false;
    snprintf(aud, sizeof aud, "%s/devices/%s", c->ops->host(c->t), leaf);
    wa_cbs_reply_t r;
    wa_put_token(a, aud, tok, &r);
    snprintf(addr, sizeof addr, "/devices/%s/messages/events", leaf);
    pn_link_t *l = wa_sender(a, leaf, addr);
    if (wa_link_closed(l))
        return false;
    pn_message_t *m = wa_message("m-1", "x", 1);
    wa_outcome_t o;
    wa_send(a, l, m, &o);
    pn_message_free(m);
    return o.state == PN_ACCEPTED;
}

static void leaf_scope_amqp(conf_ctx_t *c)
{
    wa_t a;
    memset(&a, 0, sizeof a);
    if (create(c, "g1", true, NULL, NULL) && create(c, "g2", true, NULL, NULL) && create(c, "l1", false, "g1", NULL) &&
        create(c, "l2", false, "g2", NULL) && wa_open(c, &a, WA_AUTH_NONE, NULL, NULL) && wa_auth_device(&a, "g1") &&
        conf_check(c, !leaf_can_send(c, &a, "l2"),
                   "on g1's AMQP connection l2 (scope g2) cannot send telemetry after its put-token",
                   "l2's message accepted"))
        conf_check(c, leaf_can_send(c, &a, "l1"), "on g1's AMQP connection l1 (scope g1) sends, accepted",
                   "l1 refused");
    wa_free(&a);
}

/* ---- GATEWAY-EDGE-ONLY --------------------------------------------------------------------------- */

static void edge_only(conf_ctx_t *c)
{
    target_conn_t g, l;
    target_status_t st;
    if (!can_leaf(c) || !create(c, "g1", true, NULL, NULL) || !create(c, "l1", false, "g1", NULL))
        return;
    /* g1 stops being an IoT Edge device; l1 still names it */
    target_identity_spec_t s = { .device_id = "g1", .primary_key = CONF_KEY_A, .secondary_key = CONF_KEY_B,
                                 .iot_edge = false };
    c->ops->identity_update(c->t, &s, "*", NULL, &st);
    if (st.http != 200) {
        conf_error(c, "cannot turn g1 into a plain device: %d %s %s", st.http, st.name, st.detail);
        return;
    }
    if (conf_connect(c, "g1", NULL, &g, NULL) && leaf_connect(c, g, "l1", &l, &st))
        conf_refused(c, &st, 401, "l1 over the connection of g1, no longer an IoT Edge device: refused 401");
}

/* ---- GATEWAY-SCOPE-REGISTRY ------------------------------------------------------------------- */

static void scope_registry(conf_ctx_t *c)
{
    target_status_t st;
    if (!can_leaf(c) || !conf_create(c, "n1", NULL) || !create(c, "l1", false, "n1", &st))
        return;
    conf_refused(c, &st, 400, "a leaf whose parent n1 is not an IoT Edge device: refused 400");
}

/* ---- the table -------------------------------------------------------------------------------- */

const conf_case_t conf_cases_gateways[] = {
    { "GATEWAY-LEAF-OFFLINE", "l1 over g1 answers; g1 gone: l1 offline, a call answered 404 at once", leaf_offline,
      0, NULL, false },
    { "GATEWAY-LEAF-C2D-QUEUE", "C2D to l1 before and during g1's outage: both delivered after both reconnect",
      leaf_c2d_queue, 0, NULL, false },
    { "GATEWAY-SCOPE", "a leaf whose scope names another gateway is refused 401 on this one", leaf_scope, 0, NULL,
      false },
    { "GATEWAY-SCOPE", "over AMQP: on g1's connection l2 (scope g2) cannot send, l1 (scope g1) can",
      leaf_scope_amqp, TARGET_CAP_WIRE, NULL, false },
    { "GATEWAY-EDGE-ONLY", "g1 no longer an IoT Edge device: l1 (scope g1) refused 401 on its connection", edge_only,
      0, NULL, false },
    { "GATEWAY-SCOPE-REGISTRY", "a leaf whose parent is not an IoT Edge device is refused 400", scope_registry, 0,
      NULL, true },
    { NULL, NULL, NULL, 0, NULL, false },
};
