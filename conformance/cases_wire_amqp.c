/* Conformance cases for AMQP wire rules: CBS put-token, link authorization and addresses, D2C dispositions and properties, C2D outcomes, method responses, feedback and events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proton/codec.h>
#include <proton/disposition.h>

#include "conformance/case.h"
#include "conformance/wire_amqp_client.h"
/* token signing is client-side crypto, what an SDK does */
#include "sim/hub/auth.h"

/* Literals from NOTES.md "AMQP 1.0" and "Messages and C2D queue" and
 * docs/amqp.md (which cites the SDK sources): put-token answered on $cbs
 * with status-code 200 / 401 and correlation-id = the request's message-id;
 * links before authorization detached amqp:unauthorized-access; addresses
 * case-insensitive (the Node service SDK attaches
 * /messages/serviceBound/feedback); D2C above 256 KB rejected
 * amqp:link:message-size-exceeded, an invalid message-id
 * com.microsoft:argument-error; C2D accepted = complete, rejected = reject,
 * released = abandon; method response IoThub-status; feedback content-type
 * application/vnd.microsoft.iothub.feedback.json in 15 s batches (knob
 * default); events annotated iothub-connection-device-id. */

#define SEC ((sim_time_t)1000000000)
#define WIRE TARGET_CAP_WIRE
#define VT TARGET_CAP_VIRTUAL_TIME
#define EP TARGET_CAP_ENDPOINTS

/* A key d1 does not have (conf_create registers CONF_KEY_A and CONF_KEY_B). */
#define OTHER_KEY "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

#define D2C_ADDR "/devices/d1/messages/events"
#define C2D_ADDR "/devices/d1/messages/devicebound"
#define METHODS_ADDR "/devices/d1/methods/devicebound"
#define FEEDBACK_ADDR "/messages/servicebound/feedback"
#define EVENTS_ADDR "/messages/events"

/* ---- helpers ------------------------------------------------------------------------------ */

/* The hub's bytes decoded and the exchange settled; FAIL otherwise. */
static bool amqp_sane(conf_ctx_t *c, wa_t *a)
{
    const char *bad = wa_bad(a);
    return conf_check(c, bad == NULL, "well-formed AMQP from the hub", "%s", bad ? bad : "");
}

/* Register d1, open an AMQP connection (no SASL) and authorize d1 by CBS. */
static bool device_online(conf_ctx_t *c, wa_t *a)
{
    if (!conf_create(c, "d1", NULL) || !wa_open(c, a, WA_AUTH_NONE, NULL, NULL))
        return false;
    if (!wa_auth_device(a, "d1")) {
        wa_free(a);
        return false;
    }
    return true;
}

/* A service policy "owner" with every right, signed with CONF_KEY_B (before any other call). */
static bool owner_policy(conf_ctx_t *c)
{
    char cfg[600];
    snprintf(cfg, sizeof cfg,
             "{\"policies\":[{\"name\":\"owner\",\"primaryKey\":\"%s\",\"rights\":[\"registryRead\","
             "\"registryWrite\",\"serviceConnect\",\"deviceConnect\"]}]}",
             CONF_KEY_B);
    return conf_configure(c, cfg);
}

/* A service connection authorized with the owner policy. */
static bool service_online(conf_ctx_t *c, wa_t *a)
{
    if (!wa_open(c, a, WA_AUTH_NONE, NULL, NULL))
        return false;
    if (!wa_auth_service(a, "owner", CONF_KEY_B)) {
        wa_free(a);
        return false;
    }
    return true;
}

static const char *state_name(uint64_t s)
{
    switch (s) {
    case PN_ACCEPTED: return "accepted";
    case PN_REJECTED: return "rejected";
    case PN_RELEASED: return "released";
    case PN_MODIFIED: return "modified";
    case PN_RECEIVED: return "received";
    case 0: return "not settled";
    default: return "another outcome";
    }
}

/* A sender link that must stay attached. */
static pn_link_t *attached_sender(conf_ctx_t *c, wa_t *a, const char *name, const char *addr)
{
    pn_link_t *l = wa_sender(a, name, addr);
    char exp[200];
    snprintf(exp, sizeof exp, "the sender on %s stays attached", addr);
    return conf_check(c, !wa_link_closed(l), exp, "detached: %s", wa_link_condition(l)) ? l : NULL;
}

static pn_link_t *attached_receiver(conf_ctx_t *c, wa_t *a, const char *name, const char *addr, int credit)
{
    pn_link_t *l = wa_receiver(a, name, addr, credit);
    char exp[200];
    snprintf(exp, sizeof exp, "the receiver on %s stays attached", addr);
    return conf_check(c, !wa_link_closed(l), exp, "detached: %s", wa_link_condition(l)) ? l : NULL;
}

/* Send one D2C message on d1's telemetry link. */
static void d2c_send(wa_t *a, pn_link_t *l, const char *id, const void *body, size_t len, wa_outcome_t *o)
{
    pn_message_t *m = wa_message(id, body, len);
    wa_send(a, l, m, o);
    pn_message_free(m);
}

/* ---- AMQP-CBS-PUT-TOKEN ------------------------------------------------------------------------ */

static void cbs_token(conf_ctx_t *c, const char *key, int want, const char *what)
{
    wa_t a;
    if (!conf_create(c, "d1", NULL) || !wa_open(c, &a, WA_AUTH_NONE, NULL, NULL))
        return;
    char tok[1024], aud[600];
    snprintf(aud, sizeof aud, "%s/devices/d1", c->ops->host(c->t));
    if (conf_token(c, key, "d1", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok)) {
        wa_cbs_reply_t r;
        wa_put_token(&a, aud, tok, &r);
        char exp[200];
        snprintf(exp, sizeof exp, "put-token with %s: status-code %d", what, want);
        if (amqp_sane(c, &a) &&
            conf_check(c, r.answered, "a reply on the $cbs receiver", "none") &&
            conf_check(c, r.status == want, exp, "status-code %d (%s)", r.status, r.description) &&
            conf_check(c, r.correlated, "the reply's correlation-id is the request's message-id put-1",
                       "correlation-id '%s'", r.correlation) &&
            want != 200) {
            pn_link_t *l = wa_sender(&a, "d2c", D2C_ADDR);
            conf_check(c, wa_link_closed(l) && strcmp(wa_link_condition(l), "amqp:unauthorized-access") == 0,
                       "after the 401, d1's telemetry link is detached with amqp:unauthorized-access",
                       "%s %s", wa_link_closed(l) ? "detached" : "attached", wa_link_condition(l));
        }
    }
    wa_free(&a);
}

static void cbs_bad_key(conf_ctx_t *c) { cbs_token(c, OTHER_KEY, 401, "a token signed with a key d1 does not have"); }
static void cbs_good(conf_ctx_t *c) { cbs_token(c, CONF_KEY_A, 200, "a valid device token"); }

/* ---- AMQP-LINK-AUTH ------------------------------------------------------------------------------ */

static void link_before_token(conf_ctx_t *c)
{
    wa_t a;
    if (!conf_create(c, "d1", NULL) || !wa_open(c, &a, WA_AUTH_NONE, NULL, NULL))
        return;
    pn_link_t *l = wa_sender(&a, "d2c", D2C_ADDR);
    if (amqp_sane(c, &a))
        conf_check(c, wa_link_closed(l) && strcmp(wa_link_condition(l), "amqp:unauthorized-access") == 0,
                   "a telemetry link attached before any put-token is detached with amqp:unauthorized-access",
                   "%s %s", wa_link_closed(l) ? "detached" : "still attached", wa_link_condition(l));
    wa_free(&a);
}

/* ---- AMQP-ADDRESS-CASE ---------------------------------------------------------------------------- */

static void address_case_device(conf_ctx_t *c)
{
    wa_t a;
    if (!device_online(c, &a))
        return;
    pn_link_t *l = attached_sender(c, &a, "d2c", "/DEVICES/d1/Messages/Events");
    if (l) {
        wa_outcome_t o;
        d2c_send(&a, l, "m-1", "x", 1, &o);
        if (amqp_sane(c, &a))
            conf_check(c, o.state == PN_ACCEPTED, "a message on /DEVICES/d1/Messages/Events is accepted", "%s %s",
                       state_name(o.state), o.condition);
    }
    wa_free(&a);
}

static void address_case_feedback(conf_ctx_t *c)
{
    wa_t a;
    if (!owner_policy(c) || !service_online(c, &a))
        return;
    if (attached_receiver(c, &a, "fb", "/messages/serviceBound/feedback", 5))
        amqp_sane(c, &a);
    wa_free(&a);
}

/* ---- AMQP-D2C-DISPOSITION, AMQP-ERROR-CONDITION -------------------------------------------------------- */

/* d1 sends 1 byte (accepted), then 256 KB + 1 bytes. */
static bool oversize(conf_ctx_t *c, wa_t *a, wa_outcome_t *o)
{
    if (!device_online(c, a))
        return false;
    pn_link_t *l = attached_sender(c, a, "d2c", D2C_ADDR);
    if (!l)
        return true;
    d2c_send(a, l, "small", "x", 1, o);
    if (!amqp_sane(c, a) ||
        !conf_check(c, o->state == PN_ACCEPTED, "a 1-byte message is settled accepted", "%s %s",
                    state_name(o->state), o->condition))
        return true;
    size_t n = 256 * 1024 + 1;
    char *body = malloc(n);
    if (!body) {
        conf_error(c, "out of memory");
        return true;
    }
    memset(body, 'x', n);
    d2c_send(a, l, "big", body, n, o);
    free(body);
    amqp_sane(c, a);
    return true;
}

static void d2c_disposition(conf_ctx_t *c)
{
    wa_t a;
    wa_outcome_t o;
    if (!oversize(c, &a, &o))
        return;
    if (conf_ok(c) &&
        conf_check(c, o.state == PN_REJECTED, "a 256 KB + 1 message is settled rejected", "%s",
                   state_name(o.state)) &&
        (c->ops->caps & EP)) {
        size_t n = 0;
        target_rx_msg_t rx;
        while (c->ops->endpoint_next(c->t, NULL, &rx))
            n++;
        conf_check(c, n == 1, "only the accepted message reaches an endpoint", "%zu delivered", n);
    }
    wa_free(&a);
}

static void condition_size(conf_ctx_t *c)
{
    wa_t a;
    wa_outcome_t o;
    if (!oversize(c, &a, &o))
        return;
    if (conf_ok(c))
        conf_check(c, o.state == PN_REJECTED && strcmp(o.condition, "amqp:link:message-size-exceeded") == 0,
                   "a 256 KB + 1 message is rejected with amqp:link:message-size-exceeded", "%s '%s'",
                   state_name(o.state), o.condition);
    wa_free(&a);
}

static void condition_message_id(conf_ctx_t *c)
{
    wa_t a;
    if (!device_online(c, &a))
        return;
    pn_link_t *l = attached_sender(c, &a, "d2c", D2C_ADDR);
    if (l) {
        wa_outcome_t o;
        d2c_send(&a, l, "bad id with spaces", "x", 1, &o);
        if (amqp_sane(c, &a))
            conf_check(c, o.state == PN_REJECTED && strcmp(o.condition, "com.microsoft:argument-error") == 0,
                       "message-id 'bad id with spaces' is rejected with com.microsoft:argument-error",
                       "%s '%s'", state_name(o.state), o.condition);
    }
    wa_free(&a);
}

/* ---- AMQP-D2C-PROPERTIES --------------------------------------------------------------------------- */

static bool prop_is(conf_ctx_t *c, const char *got, const char *want, const char *what)
{
    char exp[200];
    snprintf(exp, sizeof exp, "%s = %s at the endpoint", what, want);
    return conf_check(c, got && strcmp(got, want) == 0, exp, "%s", got ? got : "(none)");
}

static void d2c_properties(conf_ctx_t *c)
{
    wa_t a;
    if (!device_online(c, &a))
        return;
    pn_link_t *l = attached_sender(c, &a, "d2c", D2C_ADDR);
    if (l) {
        pn_message_t *m = wa_message("m-1", "{\"t\":21}", 8);
        pn_atom_t cid = { .type = PN_STRING, .u.as_bytes = pn_bytes(3, "c-1") };
        pn_message_set_correlation_id(m, cid);
        pn_message_set_content_type(m, "application/json");
        pn_message_set_content_encoding(m, "utf-8");
        const char *kv[] = { "temp", "21", "site", "north", NULL };
        wa_message_app(m, kv);
        wa_outcome_t o;
        wa_send(&a, l, m, &o);
        pn_message_free(m);
        target_rx_msg_t rx;
        if (amqp_sane(c, &a) &&
            conf_check(c, o.state == PN_ACCEPTED, "the message is settled accepted", "%s %s", state_name(o.state),
                       o.condition) &&
            conf_check(c, c->ops->endpoint_next(c->t, NULL, &rx), "the message reaches an endpoint", "nothing") &&
            prop_is(c, target_rx_app(&rx, "temp"), "21", "application property temp") &&
            prop_is(c, target_rx_app(&rx, "site"), "north", "application property site") &&
            prop_is(c, target_rx_sys(&rx, "messageId"), "m-1", "messageId") &&
            prop_is(c, target_rx_sys(&rx, "correlationId"), "c-1", "correlationId") &&
            prop_is(c, target_rx_sys(&rx, "contentType"), "application/json", "contentType"))
            prop_is(c, target_rx_sys(&rx, "contentEncoding"), "utf-8", "contentEncoding");
    }
    wa_free(&a);
}

/* ---- AMQP-C2D-SETTLE --------------------------------------------------------------------------------- */

static bool c2d_enqueue(conf_ctx_t *c, const char *id)
{
    target_msg_t msg;
    target_status_t st;
    conf_msg_init(&msg, "hello");
    conf_msg_sys(&msg, "messageId", id);
    conf_msg_sys(&msg, "ack", "full");
    c->ops->c2d_send(c->t, "d1", &msg, 0, &st);
    char what[80];
    snprintf(what, sizeof what, "send C2D %s (ack full)", id);
    return conf_status(c, &st, 200, 0, what);
}

static bool c2d_id_is(conf_ctx_t *c, const wa_rx_t *r, const char *id, const char *what)
{
    char got[160] = "";
    if (r) {
        pn_atom_t a = pn_message_get_id(r->m);
        if (a.type == PN_STRING)
            snprintf(got, sizeof got, "%.*s", (int)a.u.as_bytes.size, a.u.as_bytes.start);
        else
            snprintf(got, sizeof got, "(no string message-id)");
    }
    return conf_check(c, r && strcmp(got, id) == 0, what, "%s", r ? got : "nothing");
}

static bool feedback_is(conf_ctx_t *c, const char *status, const char *what)
{
    conf_advance(c, 16 * SEC); /* one feedback batch */
    target_feedback_t fb;
    bool got = c->ops->feedback_next(c->t, &fb);
    return conf_check(c, got && fb.count == 1 && strcmp(fb.records[0].status, status) == 0, what, "%s",
                      got && fb.count ? fb.records[0].status : "no feedback");
}

static void c2d_release(conf_ctx_t *c)
{
    wa_t a;
    if (!device_online(c, &a))
        return;
    pn_link_t *l = NULL;
    if (c2d_enqueue(c, "c1") && (l = attached_receiver(c, &a, "c2d", C2D_ADDR, 1)) != NULL) {
        wa_rx_t *r = wa_next(&a, l);
        if (amqp_sane(c, &a) && c2d_id_is(c, r, "c1", "c1 is delivered on the C2D link")) {
            wa_settle(&a, r, PN_RELEASED);
            wa_flow(&a, l, 1);
            wa_rx_t *again = wa_next(&a, l);
            if (c2d_id_is(c, again, "c1", "released (abandoned), c1 is delivered again") &&
                conf_check(c, pn_message_get_delivery_count(again->m) == 1,
                           "the second delivery has delivery-count 1", "delivery-count %u",
                           (unsigned)pn_message_get_delivery_count(again->m))) {
                wa_settle(&a, again, PN_ACCEPTED);
                feedback_is(c, "Success", "accepted the second time: one feedback record Success");
            }
        }
    }
    wa_free(&a);
}

static void c2d_reject(conf_ctx_t *c)
{
    wa_t a;
    if (!device_online(c, &a))
        return;
    pn_link_t *l = NULL;
    if (c2d_enqueue(c, "c1") && (l = attached_receiver(c, &a, "c2d", C2D_ADDR, 1)) != NULL) {
        wa_rx_t *r = wa_next(&a, l);
        if (amqp_sane(c, &a) && c2d_id_is(c, r, "c1", "c1 is delivered on the C2D link")) {
            wa_settle(&a, r, PN_REJECTED);
            if (feedback_is(c, "Rejected", "rejected: one feedback record Rejected")) {
                wa_flow(&a, l, 1);
                conf_advance(c, 61 * SEC); /* past the 1 min lock */
                wa_rx_t *again = wa_next(&a, l);
                conf_check(c, again == NULL, "a rejected message is not delivered again", "delivered again");
            }
        }
    }
    wa_free(&a);
}

/* ---- AMQP-METHOD-RESPONSE ------------------------------------------------------------------------------ */

static void method_status(conf_ctx_t *c)
{
    wa_t a;
    if (!device_online(c, &a))
        return;
    pn_link_t *rx = attached_receiver(c, &a, "m-rx", METHODS_ADDR, 10);
    pn_link_t *tx = rx ? attached_sender(c, &a, "m-tx", METHODS_ADDR) : NULL;
    if (!tx) {
        wa_free(&a);
        return;
    }
    const char *body = "{\"methodName\":\"m\",\"payload\":{\"in\":1},\"responseTimeoutInSeconds\":30}";
    target_call_t call;
    target_status_t st;
    c->ops->method_invoke(c->t, "d1", NULL, body, strlen(body), &call, &st);
    wa_rx_t *r = wa_next(&a, rx);
    char name[64] = "", rid[160] = "";
    if (r) {
        wa_app_text(r->m, "IoThub-methodname", name, sizeof name);
        wa_correlation_text(r->m, rid, sizeof rid);
    }
    if (!conf_status(c, &st, 200, 0, "invoke m on d1") || !amqp_sane(c, &a) ||
        !conf_check(c, r && strcmp(name, "m") == 0 && rid[0], "d1 hears m (IoThub-methodname m, a correlation-id)",
                    "%s", r ? name : "nothing")) {
        wa_free(&a);
        return;
    }
    wa_settle(&a, r, PN_ACCEPTED);
    pn_message_t *m = wa_message(NULL, "{\"ok\":true}", 11);
    pn_atom_t cid = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(rid), rid) };
    pn_message_set_correlation_id(m, cid);
    pn_data_t *p = pn_message_properties(m);
    pn_data_put_map(p);
    pn_data_enter(p);
    pn_data_put_string(p, pn_bytes(strlen("IoThub-status"), "IoThub-status"));
    pn_data_put_int(p, 201);
    pn_data_exit(p);
    wa_outcome_t o;
    wa_send(&a, tx, m, &o);
    pn_message_free(m);
    target_method_result_t res;
    bool done = c->ops->method_result(c->t, call, &res);
    if (!done) {
        conf_advance(c, SEC);
        done = c->ops->method_result(c->t, call, &res);
    }
    if (conf_check(c, o.state == PN_ACCEPTED, "the response is settled accepted", "%s %s", state_name(o.state),
                   o.condition) &&
        conf_check(c, done && res.http == 200, "the call is answered 200", "%s %d", done ? "answered" : "pending",
                   done ? res.http : 0) &&
        conf_check(c, res.device_status == 201, "the service sees status 201 (IoThub-status)", "status %d",
                   res.device_status))
        conf_check(c, res.payload && res.payload_len == 11 && memcmp(res.payload, "{\"ok\":true}", 11) == 0,
                   "the service sees payload {\"ok\":true}", "%.*s", (int)res.payload_len,
                   res.payload ? res.payload : "");
    wa_free(&a);
}

/* ---- AMQP-FEEDBACK ------------------------------------------------------------------------------------------- */

static void feedback_message(conf_ctx_t *c)
{
    wa_t svc, dev;
    if (!owner_policy(c) || !service_online(c, &svc))
        return;
    if (!device_online(c, &dev)) {
        wa_free(&svc);
        return;
    }
    pn_link_t *fb = attached_receiver(c, &svc, "fb", FEEDBACK_ADDR, 10);
    pn_link_t *l = NULL;
    if (fb && c2d_enqueue(c, "c1") && (l = attached_receiver(c, &dev, "c2d", C2D_ADDR, 1)) != NULL) {
        wa_rx_t *r = wa_next(&dev, l);
        if (amqp_sane(c, &dev) && c2d_id_is(c, r, "c1", "c1 is delivered on the C2D link")) {
            wa_settle(&dev, r, PN_ACCEPTED);
            conf_advance(c, 16 * SEC); /* one feedback batch */
            wa_rx_t *f = wa_next(&svc, fb);
            const char *ct = f ? pn_message_get_content_type(f->m) : NULL;
            char body[1024] = "";
            if (f)
                wa_body_text(f->m, body, sizeof body);
            if (amqp_sane(c, &svc) &&
                conf_check(c, f != NULL, "a feedback message on " FEEDBACK_ADDR, "nothing") &&
                conf_check(c, ct && strcmp(ct, "application/vnd.microsoft.iothub.feedback.json") == 0,
                           "content-type application/vnd.microsoft.iothub.feedback.json", "%s",
                           ct ? ct : "(none)"))
                conf_check(c, strstr(body, "\"originalMessageId\":\"c1\"") && strstr(body, "\"statusCode\":\"Success\""),
                           "the body records c1 with statusCode Success", "%s", body);
        }
    }
    wa_free(&dev);
    wa_free(&svc);
}

/* ---- AMQP-EVENTS-ANNOTATIONS -------------------------------------------------------------------------------- */

static void events_annotations(conf_ctx_t *c)
{
    wa_t svc, dev;
    if (!owner_policy(c) || !service_online(c, &svc))
        return;
    if (!device_online(c, &dev)) {
        wa_free(&svc);
        return;
    }
    pn_link_t *ev = attached_receiver(c, &svc, "ev", EVENTS_ADDR, 10);
    pn_link_t *tx = ev ? attached_sender(c, &dev, "d2c", D2C_ADDR) : NULL;
    if (tx) {
        wa_outcome_t o;
        d2c_send(&dev, tx, "m-1", "x", 1, &o);
        wa_rx_t *r = wa_next(&svc, ev);
        char devid[160] = "", seq[32] = "";
        if (r) {
            wa_annotation_text(r->m, "iothub-connection-device-id", devid, sizeof devid);
            wa_annotation_text(r->m, "x-opt-sequence-number", seq, sizeof seq);
        }
        if (amqp_sane(c, &svc) && amqp_sane(c, &dev) &&
            conf_check(c, o.state == PN_ACCEPTED, "the message is settled accepted", "%s", state_name(o.state)) &&
            conf_check(c, r != NULL, "the message arrives on " EVENTS_ADDR, "nothing") &&
            conf_check(c, strcmp(devid, "d1") == 0, "annotation iothub-connection-device-id = d1", "'%s'", devid))
            conf_check(c, seq[0] != '\0', "annotation x-opt-sequence-number present", "absent");
    }
    wa_free(&dev);
    wa_free(&svc);
}

/* ---- the table ------------------------------------------------------------------------------------------------ */

const conf_case_t conf_cases_wire_amqp[] = {
    { "AMQP-CBS-PUT-TOKEN", "put-token with a token signed by another key: status-code 401, correlation-id put-1",
      cbs_bad_key, WIRE, NULL, false },
    { "AMQP-CBS-PUT-TOKEN", "put-token with a valid device token: status-code 200, correlation-id put-1", cbs_good,
      WIRE, NULL, false },
    { "AMQP-LINK-AUTH", "telemetry link attached before put-token: detached amqp:unauthorized-access",
      link_before_token, WIRE, NULL, false },
    { "AMQP-ADDRESS-CASE", "sender on /DEVICES/d1/Messages/Events attaches and its message is accepted",
      address_case_device, WIRE, NULL, false },
    { "AMQP-ADDRESS-CASE", "receiver on /messages/serviceBound/feedback attaches", address_case_feedback, WIRE,
      NULL, false },
    { "AMQP-D2C-DISPOSITION", "1 byte: accepted; 256 KB + 1: rejected, never routed", d2c_disposition, WIRE, NULL,
      false },
    { "AMQP-ERROR-CONDITION", "256 KB + 1: rejected with amqp:link:message-size-exceeded", condition_size, WIRE,
      NULL, false },
    { "AMQP-ERROR-CONDITION", "message-id with spaces: rejected with com.microsoft:argument-error",
      condition_message_id, WIRE, NULL, false },
    { "AMQP-D2C-PROPERTIES", "message-id, correlation-id, content-type/-encoding and app properties reach the endpoint",
      d2c_properties, WIRE | EP, NULL, false },
    { "AMQP-C2D-SETTLE", "released C2D: delivered again with delivery-count 1 (abandoned, not completed)",
      c2d_release, WIRE | VT, NULL, false },
    { "AMQP-C2D-SETTLE", "rejected C2D: feedback Rejected, not delivered again", c2d_reject, WIRE | VT, NULL, false },
    { "AMQP-METHOD-RESPONSE", "response with IoThub-status 201 and {\"ok\":true}: the service sees 201 and the payload",
      method_status, WIRE | VT, NULL, false },
    { "AMQP-FEEDBACK", "feedback of an accepted C2D: content-type application/vnd.microsoft.iothub.feedback.json",
      feedback_message, WIRE | VT, NULL, false },
    { "AMQP-EVENTS-ANNOTATIONS", "an event from d1 carries iothub-connection-device-id d1 and x-opt-sequence-number",
      events_annotations, WIRE, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
