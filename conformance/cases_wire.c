/* Conformance cases for wire rules: MQTT topics, QoS, keep-alive, CONNACK codes, PUBACK completion; HTTPS headers, error bodies, method bodies. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/case.h"
#include "conformance/wire_client.h"
/* token signing is client-side crypto, what an SDK does */
#include "sim/hub/auth.h"

/* Literals from NOTES.md "MQTT 3.1.1 device side", "HTTPS", "Messages and
 * C2D queue", "Direct methods (service side)" and MQTT 3.1.1: keep-alive
 * times 1.5, at most 1767 s; QoS 2 PUBLISH closes, QoS 2 SUBSCRIBE granted 1;
 * CONNACK 1 / 2 / 5; D2C above 256 KB refused (MQTT: disconnect); C2D
 * completed by PUBACK, feedback in 15 s batches (knob default); twin reported
 * PATCH answered res/204 with $version; error bodies
 * {"Message":"ErrorCode:<Name>;...","ExceptionMessage":...} with an
 * iothub-errorcode header; method 200 {"status","payload"}. */

#define SEC ((sim_time_t)1000000000)
#define WIRE TARGET_CAP_WIRE
#define API "api-version=2021-04-12"

/* ---- MQTT helpers ------------------------------------------------------------------ */

/* Register d1 and connect it over a raw MQTT transport (keep-alive ka). */
static bool mqtt_online(conf_ctx_t *c, wc_t *m, const char *dev, uint16_t ka)
{
    if (!conf_create(c, dev, NULL) || !wc_open(c, m))
        return false;
    int code = wc_connect(m, dev, ka);
    if (code != 0) {
        wc_free(m);
        return conf_error(c, "CONNECT %s with a valid token: CONNACK %d", dev, code);
    }
    return true;
}

/* The hub's bytes decode; FAIL otherwise. */
static bool wire_sane(conf_ctx_t *c, wc_t *m)
{
    const char *bad = wc_bad(m);
    return conf_check(c, bad == NULL, "well-formed MQTT from the hub", "%s", bad ? bad : "");
}

static const char *type_name(const wc_rx_t *r)
{
    return r ? mqtt_type_name((unsigned)r->type) : "nothing";
}

/* ---- MQTT-SECOND-CONNECTION ------------------------------------------------------- */

static void second_connection(conf_ctx_t *c)
{
    wc_t a, b;
    if (!mqtt_online(c, &a, "d1", 60))
        return;
    if (!wc_open(c, &b)) {
        wc_free(&a);
        return;
    }
    int code = wc_connect(&b, "d1", 60);
    if (conf_check(c, code == 0, "the second CONNECT for d1 is accepted: CONNACK 0", "CONNACK %d", code) &&
        conf_check(c, wc_closed(&a), "the first connection's transport is closed", "still open"))
        conf_check(c, !wc_closed(&b), "the second connection stays open", "closed");
    wc_free(&a);
    wc_free(&b);
}

/* ---- MQTT-QOS2-* ------------------------------------------------------------------- */

static void qos2_publish(conf_ctx_t *c)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", 60))
        return;
    wc_publish(&m, "devices/d1/messages/events/", 2, 1, "x", 1);
    const wc_rx_t *r = wc_next(&m);
    if (wire_sane(c, &m) &&
        conf_check(c, wc_closed(&m), "a QoS 2 PUBLISH closes the connection", "still open (the hub answered %s)",
                   type_name(r)) &&
        conf_check(c, r == NULL, "no answer to the QoS 2 PUBLISH (no PUBREC)", "%s", type_name(r))) {
        target_rx_msg_t rx;
        if (c->ops->caps & TARGET_CAP_ENDPOINTS)
            conf_check(c, !c->ops->endpoint_next(c->t, NULL, &rx), "the QoS 2 message is not accepted",
                       "an endpoint received it");
    }
    wc_free(&m);
}

static void qos2_subscribe(conf_ctx_t *c)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", 60))
        return;
    int code = wc_subscribe(&m, "$iothub/methods/POST/#", 2);
    if (wire_sane(c, &m))
        conf_check(c, code == 1, "SUBACK grants QoS 1 to a QoS 2 request", "SUBACK code %d", code);
    wc_free(&m);
}

/* ---- MQTT-KEEPALIVE ---------------------------------------------------------------- */

/* Silent for open_until seconds: still open; one second more: closed. */
static void keepalive(conf_ctx_t *c, uint16_t ka, int64_t open_until, const char *what)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", ka))
        return;
    conf_advance(c, (sim_time_t)open_until * SEC);
    char exp[160];
    snprintf(exp, sizeof exp, "%s: open after %lld s of silence", what, (long long)open_until);
    if (conf_check(c, !wc_closed(&m), exp, "closed")) {
        conf_advance(c, SEC);
        snprintf(exp, sizeof exp, "%s: closed after %lld s of silence", what, (long long)open_until + 1);
        conf_check(c, wc_closed(&m), exp, "still open");
    }
    wc_free(&m);
}

static void keepalive_60(conf_ctx_t *c) { keepalive(c, 60, 89, "keep-alive 60 s (1.5x = 90 s)"); }
static void keepalive_clamped(conf_ctx_t *c)
{
    keepalive(c, 3600, 2650, "keep-alive 3600 s clamped to 1767 s (1.5x = 2650.5 s)");
}

static void keepalive_ping(conf_ctx_t *c)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", 60))
        return;
    conf_advance(c, 80 * SEC);
    wc_simple(&m, MQTT_PINGREQ, 0);
    const wc_rx_t *r = wc_next(&m);
    if (wire_sane(c, &m) &&
        conf_check(c, r && r->type == MQTT_PINGRESP, "PINGREQ at 80 s answered PINGRESP", "%s", type_name(r))) {
        conf_advance(c, 89 * SEC);
        if (conf_check(c, !wc_closed(&m), "open 89 s after the PINGREQ", "closed")) {
            conf_advance(c, SEC);
            conf_check(c, wc_closed(&m), "closed 90 s after the PINGREQ", "still open");
        }
    }
    wc_free(&m);
}

/* ---- MQTT-D2C-REFUSED -------------------------------------------------------------------- */

static void d2c_too_large(conf_ctx_t *c)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", 60))
        return;
    size_t n = 256 * 1024 + 1;
    char *body = malloc(n);
    if (!body) {
        conf_error(c, "out of memory");
        wc_free(&m);
        return;
    }
    memset(body, 'x', n);
    wc_publish(&m, "devices/d1/messages/events/", 1, 3, body, n);
    free(body);
    const wc_rx_t *r = wc_next(&m);
    if (wire_sane(c, &m) &&
        conf_check(c, r == NULL, "a 256 KB + 1 telemetry PUBLISH is not PUBACKed", "%s", type_name(r)))
        conf_check(c, wc_closed(&m), "the hub closes the connection", "still open");
    wc_free(&m);
}

/* ---- MQTT-TOPIC-FOREIGN, CONN-UNKNOWN-TOPIC ---------------------------------------------------- */

static void topic_publish(conf_ctx_t *c, const char *topic, const char *what)
{
    wc_t m;
    if ((strstr(topic, "/d2/") && !conf_create(c, "d2", NULL)) || !mqtt_online(c, &m, "d1", 60))
        return;
    wc_publish(&m, topic, 1, 5, "x", 1);
    const wc_rx_t *r = wc_next(&m);
    char exp[200];
    snprintf(exp, sizeof exp, "%s: the connection is closed", what);
    if (wire_sane(c, &m) && conf_check(c, wc_closed(&m), exp, "still open (the hub answered %s)", type_name(r)))
        conf_check(c, r == NULL, "no PUBACK", "%s", type_name(r));
    wc_free(&m);
}

static void topic_subscribe(conf_ctx_t *c, const char *filter, const char *what)
{
    wc_t m;
    if ((strstr(filter, "/d2/") && !conf_create(c, "d2", NULL)) || !mqtt_online(c, &m, "d1", 60))
        return;
    int code = wc_subscribe(&m, filter, 1);
    char exp[200];
    snprintf(exp, sizeof exp, "%s: the connection is closed without a SUBACK", what);
    if (wire_sane(c, &m))
        conf_check(c, wc_closed(&m) && code == -1, exp, "%s, SUBACK %d", wc_closed(&m) ? "closed" : "open", code);
    wc_free(&m);
}

static void foreign_publish(conf_ctx_t *c)
{
    topic_publish(c, "devices/d2/messages/events/", "d1 publishes on d2's telemetry topic");
}
static void foreign_subscribe(conf_ctx_t *c)
{
    topic_subscribe(c, "devices/d2/messages/devicebound/#", "d1 subscribes to d2's C2D topic");
}
static void unknown_publish(conf_ctx_t *c)
{
    topic_publish(c, "hubsim/not-a-hub-topic", "a PUBLISH on a topic the hub does not know");
}
static void unknown_subscribe(conf_ctx_t *c)
{
    topic_subscribe(c, "$iothub/nothing/#", "a SUBSCRIBE to a filter the hub does not know");
}

/* ---- MQTT-C2D-PUBACK ------------------------------------------------------------------------- */

static void c2d_puback(conf_ctx_t *c)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", 0))
        return;
    int code = wc_subscribe(&m, "devices/d1/messages/devicebound/#", 1);
    if (!conf_check(c, code == 1, "SUBACK 1 for the C2D topic", "SUBACK %d", code)) {
        wc_free(&m);
        return;
    }
    target_msg_t msg;
    target_status_t st;
    conf_msg_init(&msg, "hello");
    conf_msg_sys(&msg, "messageId", "c1");
    conf_msg_sys(&msg, "ack", "positive");
    c->ops->c2d_send(c->t, "d1", &msg, 0, &st);
    if (!conf_status(c, &st, 200, 0, "send C2D c1 (ack positive)")) {
        wc_free(&m);
        return;
    }
    const wc_rx_t *r = wc_next(&m);
    if (!wire_sane(c, &m) ||
        !conf_check(c, r && r->type == MQTT_PUBLISH && r->qos == 1 &&
                           strncmp(r->topic, "devices/d1/messages/devicebound/", 32) == 0,
                    "C2D delivered as a QoS 1 PUBLISH on devices/d1/messages/devicebound/...", "%s %s",
                    type_name(r), r ? r->topic : "")) {
        wc_free(&m);
        return;
    }
    wc_simple(&m, MQTT_PUBACK, r->pid);
    conf_advance(c, 16 * SEC);
    target_feedback_t fb;
    bool got = c->ops->feedback_next(c->t, &fb);
    if (conf_check(c, got && fb.count == 1 && strcmp(fb.records[0].status, "Success") == 0 &&
                          strcmp(fb.records[0].original_message_id, "c1") == 0,
                   "the PUBACK completes c1: one feedback record Success", "%s",
                   got && fb.count ? fb.records[0].status : "no feedback")) {
        conf_advance(c, 61 * SEC); /* past the 1 min lock */
        const wc_rx_t *again = wc_next(&m);
        conf_check(c, again == NULL, "a completed message is not delivered again", "%s", type_name(again));
    }
    wc_free(&m);
}

/* ---- MQTT-PROPERTY-BAG ------------------------------------------------------------------------ */

static void property_bag(conf_ctx_t *c)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", 60))
        return;
    wc_publish(&m, "devices/d1/messages/events/%24.mid=m1&%24.cid=c1&%24.ct=text%2Fplain&k=v%20w", 1, 4, "x", 1);
    const wc_rx_t *r = wc_next(&m);
    target_rx_msg_t rx;
    if (!wire_sane(c, &m) ||
        !conf_check(c, r && r->type == MQTT_PUBACK && r->pid == 4, "PUBACK 4", "%s", type_name(r)) ||
        !conf_check(c, c->ops->endpoint_next(c->t, NULL, &rx), "the message reaches an endpoint", "nothing")) {
        wc_free(&m);
        return;
    }
    const char *mid = target_rx_sys(&rx, "messageId"), *cid = target_rx_sys(&rx, "correlationId"),
               *ct = target_rx_sys(&rx, "contentType"), *k = target_rx_app(&rx, "k");
    if (conf_check(c, mid && strcmp(mid, "m1") == 0 && cid && strcmp(cid, "c1") == 0 && ct &&
                          strcmp(ct, "text/plain") == 0,
                   "system properties messageId m1, correlationId c1, contentType text/plain",
                   "messageId %s, correlationId %s, contentType %s", mid ? mid : "(none)",
                   cid ? cid : "(none)", ct ? ct : "(none)") &&
        conf_check(c, k && strcmp(k, "v w") == 0, "application property k = 'v w'", "%s", k ? k : "(none)"))
        conf_check(c, !target_rx_app(&rx, "$.mid") && !target_rx_app(&rx, "$.ct"),
                   "no application property named $.mid or $.ct", "present");
    wc_free(&m);
}

/* ---- MQTT-CONNACK-CODES ------------------------------------------------------------------------ */

static void connack_client_id(conf_ctx_t *c)
{
    wc_t m;
    if (!conf_create(c, "d1", NULL) || !wc_open(c, &m))
        return;
    char tok[1024], user[512];
    if (conf_token(c, CONF_KEY_A, "d1", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok)) {
        snprintf(user, sizeof user, "%s/d1/?" API, c->ops->host(c->t));
        int code = wc_connect_raw(&m, "a/b/c", user, tok, 60);
        if (wire_sane(c, &m))
            conf_check(c, code == 2, "a client id that is not deviceId or deviceId/moduleId: CONNACK 2",
                       "CONNACK %d", code);
    }
    wc_free(&m);
}

static void connack_level(conf_ctx_t *c)
{
    wc_t m;
    if (!wc_open(c, &m))
        return;
    /* an MQTT 3.1 CONNECT: protocol "MQIsdp", level 3, keep-alive 60, client id "" */
    static const uint8_t v31[] = { 0x10, 0x0e, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03,
                                   0x02, 0x00, 0x3c, 0x00, 0x00 };
    wc_send_raw(&m, v31, sizeof v31);
    const wc_rx_t *r = wc_next(&m);
    if (wire_sane(c, &m))
        conf_check(c, r && r->type == MQTT_CONNACK && r->code == 1, "protocol level 3: CONNACK 1", "%s %d",
                   type_name(r), r ? r->code : -1);
    wc_free(&m);
}

static void connack_credentials(conf_ctx_t *c)
{
    wc_t m;
    if (!conf_create(c, "d1", NULL) || !wc_open(c, &m))
        return;
    char user[512];
    snprintf(user, sizeof user, "%s/d1/?" API, c->ops->host(c->t));
    int code = wc_connect_raw(&m, "d1", user, "SharedAccessSignature sr=nothing", 60);
    if (wire_sane(c, &m))
        conf_check(c, code == 5, "a password that is no valid token: CONNACK 5", "CONNACK %d", code);
    wc_free(&m);
}

/* An X.509 device over TLS with a client certificate: no password. */
static void connack_x509(conf_ctx_t *c, const char *thumb, int want, const char *what)
{
    target_identity_spec_t s = { .device_id = "x1", .x509 = true,
                                 .primary_thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567" };
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, &st);
    if (st.http != 200) {
        conf_error(c, "cannot register an X.509 device: %d %s", st.http, st.name);
        return;
    }
    wc_t m;
    if (!wc_open_x509(c, &m, thumb))
        return;
    char user[512];
    snprintf(user, sizeof user, "%s/x1/?" API, c->ops->host(c->t));
    int code = wc_connect_raw(&m, "x1", user, NULL, 60);
    if (wire_sane(c, &m))
        conf_check(c, code == want, what, "CONNACK %d", code);
    wc_free(&m);
}

static void x509_wire_ok(conf_ctx_t *c)
{
    connack_x509(c, "0123456789ABCDEF0123456789ABCDEF01234567", 0,
                 "the registered certificate, no password: CONNACK 0");
}
static void x509_wire_other(conf_ctx_t *c)
{
    connack_x509(c, "FEDCBA9876543210FEDCBA9876543210FEDCBA98", 5,
                 "a certificate the device does not have: CONNACK 5");
}

/* ---- MQTT-TWIN-REPORTED ------------------------------------------------------------------------ */

static void twin_reported(conf_ctx_t *c)
{
    wc_t m;
    if (!mqtt_online(c, &m, "d1", 60))
        return;
    if (wc_subscribe(&m, "$iothub/twin/res/#", 0) != 0) {
        wc_free(&m);
        conf_error(c, "SUBSCRIBE $iothub/twin/res/# refused");
        return;
    }
    wc_publish(&m, "$iothub/twin/PATCH/properties/reported/?$rid=2", 0, 0, "{\"a\":1}", 7);
    const wc_rx_t *r = wc_next(&m);
    const char *want = "$iothub/twin/res/204/?$rid=2&$version=";
    if (!wire_sane(c, &m) ||
        !conf_check(c, r && r->type == MQTT_PUBLISH && strncmp(r->topic, want, strlen(want)) == 0,
                    "answered on $iothub/twin/res/204/?$rid=2&$version=N", "%s %s", type_name(r),
                    r ? r->topic : "")) {
        wc_free(&m);
        return;
    }
    long long v = atoll(r->topic + strlen(want));
    json_t *twin = NULL;
    target_status_t st;
    c->ops->twin_get(c->t, "d1", NULL, &twin, &st);
    json_t *ver = json_object_get(json_object_get(json_object_get(twin, "properties"), "reported"), "$version");
    if (conf_status(c, &st, 200, 0, "service reads the twin"))
        conf_check(c, json_is_integer(ver) && json_integer_value(ver) == v,
                   "$version N is the twin's new reported $version", "N = %lld, twin %lld", v,
                   json_is_integer(ver) ? (long long)json_integer_value(ver) : -1LL);
    json_decref(twin);
    wc_free(&m);
}

/* ---- HTTPS helpers ------------------------------------------------------------------------------ */

/* The owner policy (all rights) signed with CONF_KEY_B. */
static bool owner_policy(conf_ctx_t *c)
{
    char cfg[400];
    snprintf(cfg, sizeof cfg,
             "{\"policies\":[{\"name\":\"owner\",\"primaryKey\":\"%s\",\"rights\":[\"registryRead\","
             "\"registryWrite\",\"serviceConnect\",\"deviceConnect\"]}]}",
             CONF_KEY_B);
    return conf_configure(c, cfg);
}

static bool owner_token(conf_ctx_t *c, char *tok, size_t cap)
{
    if (hub_sas_make(CONF_KEY_B, c->ops->host(c->t), c->ops->unix_now(c->t) + 3600, "owner", tok, cap) != HS_EOK)
        return conf_error(c, "cannot sign a service token");
    return true;
}

/* One request with Authorization auth (NULL = none) and one extra header
 * (NULL = none). */
static void http(conf_ctx_t *c, const char *method, const char *path, const char *auth, const char *hname,
                 const char *hvalue, const char *body, target_http_call_t *call, target_http_response_t *resp)
{
    target_prop_t h[2];
    size_t n = 0;
    if (auth)
        h[n++] = (target_prop_t){ "Authorization", auth };
    if (hname)
        h[n++] = (target_prop_t){ hname, hvalue };
    target_http_request_t req = { .method = method, .path = path, .headers = h, .n_headers = n,
                                  .body = body, .body_len = body ? strlen(body) : 0 };
    c->ops->http_request(c->t, &req, call, resp);
}

static bool http_status(conf_ctx_t *c, const target_http_response_t *r, int want, const char *what)
{
    const char *code = target_http_header(r, "iothub-errorcode");
    return conf_check(c, r->status == want, what, "%d %s %.200s", r->status, code ? code : "", r->body);
}

/* ---- HUB-ERROR-BODY ---------------------------------------------------------------------------- */

/* create: a device registered first (NULL = none). */
static void error_body(conf_ctx_t *c, const char *create, const char *method, const char *path,
                       const char *body, int status, const char *name)
{
    char tok[1024];
    if (!owner_policy(c) || (create && !conf_create(c, create, NULL)) || !owner_token(c, tok, sizeof tok))
        return;
    target_http_call_t call;
    target_http_response_t r;
    http(c, method, path, tok, NULL, NULL, body, &call, &r);
    char exp[200];
    snprintf(exp, sizeof exp, "%s %s answers %d", method, path, status);
    if (!http_status(c, &r, status, exp))
        return;
    const char *code = target_http_header(&r, "iothub-errorcode");
    snprintf(exp, sizeof exp, "header iothub-errorcode: %s", name);
    if (!conf_check(c, code && strcmp(code, name) == 0, exp, "%s", code ? code : "(none)"))
        return;
    json_error_t je;
    json_t *doc = json_loadb(r.body, r.body_len, 0, &je);
    const char *msg = json_string_value(json_object_get(doc, "Message"));
    char prefix[80];
    snprintf(prefix, sizeof prefix, "ErrorCode:%s;", name);
    snprintf(exp, sizeof exp, "body {\"Message\":\"%s...\",\"ExceptionMessage\":\"...\"}", prefix);
    conf_check(c, msg && strncmp(msg, prefix, strlen(prefix)) == 0 &&
                      json_is_string(json_object_get(doc, "ExceptionMessage")),
               exp, "%.300s", r.body);
    json_decref(doc);
}

static void error_body_registry(conf_ctx_t *c)
{
    error_body(c, NULL, "GET", "/devices/ghost?" API, NULL, 404, "DeviceNotFound");
}

/* An error of the REST layer itself (no hub switch can change it): the same shape. */
static void error_body_route(conf_ctx_t *c)
{
    error_body(c, NULL, "GET", "/nothing/here?" API, NULL, 404, "NotFound");
}

/* ---- HUB-IF-MATCH over HTTPS ---------------------------------------------------------------------- */

static void if_match_http(conf_ctx_t *c)
{
    char tok[1024];
    if (!owner_policy(c) || !conf_create(c, "d1", NULL) || !owner_token(c, tok, sizeof tok))
        return;
    target_http_call_t call;
    target_http_response_t r;
    http(c, "PUT", "/devices/d1?" API, tok, "If-Match", "\"stale\"", "{\"deviceId\":\"d1\",\"status\":\"disabled\"}",
         &call, &r);
    if (!http_status(c, &r, 412, "PUT /devices/d1 with a stale If-Match: 412"))
        return;
    target_identity_info_t info;
    target_status_t st;
    c->ops->identity_get(c->t, "d1", NULL, &info, &st);
    if (conf_status(c, &st, 200, 0, "read d1 back"))
        conf_check(c, info.enabled, "d1 is still enabled", "disabled");
}

/* ---- HTTP-SERVICE-AUTH ------------------------------------------------------------------------------ */

static void service_auth_missing(conf_ctx_t *c)
{
    if (!owner_policy(c) || !conf_create(c, "d1", NULL))
        return;
    target_http_call_t call;
    target_http_response_t r;
    http(c, "GET", "/devices/d1?" API, NULL, NULL, NULL, NULL, &call, &r);
    if (http_status(c, &r, 401, "GET /devices/d1 without Authorization: 401")) {
        const char *code = target_http_header(&r, "iothub-errorcode");
        conf_check(c, code && strcmp(code, "IotHubUnauthorizedAccess") == 0,
                   "iothub-errorcode IotHubUnauthorizedAccess", "%s", code ? code : "(none)");
    }
}

/* ---- HTTP-METHOD-BODY --------------------------------------------------------------------------------- */

static void method_body(conf_ctx_t *c)
{
    char tok[1024], dtok[1024];
    if (!owner_policy(c) || !conf_create(c, "d1", NULL) || !owner_token(c, tok, sizeof tok) ||
        !conf_token(c, CONF_KEY_A, "d1", NULL, c->ops->unix_now(c->t) + 3600, dtok, sizeof dtok))
        return;
    /* the device answers over MQTT (methods need a connection) */
    target_connect_t p = { .device_id = "d1", .sas_token = dtok, .protocol = TARGET_PROTO_MQTT };
    target_conn_t conn;
    target_status_t st;
    c->ops->device_connect(c->t, &p, &conn, &st);
    if (!conf_status(c, &st, 200, 0, "d1 connects"))
        return;
    c->ops->device_subscribe(c->t, conn, TARGET_SUB_METHODS, &st);
    if (!conf_status(c, &st, 200, 0, "d1 subscribes to methods"))
        return;
    target_http_call_t call;
    target_http_response_t r;
    http(c, "POST", "/twins/d1/methods?" API, tok, NULL, NULL,
         "{\"methodName\":\"m\",\"payload\":{\"in\":1},\"responseTimeoutInSeconds\":30}", &call, &r);
    target_event_t ev;
    if (!conf_check(c, r.status == 0, "the call waits for the device", "answered %d at once", r.status) ||
        !conf_check(c, conf_next_method(c, conn, &ev), "d1 hears the request", "nothing"))
        return;
    c->ops->device_method_respond(c->t, conn, ev.rid, 201, "{\"ok\":true}", 11, &st);
    if (!conf_status(c, &st, 200, 0, "d1 answers 201 {\"ok\":true}"))
        return;
    conf_advance(c, SEC);
    if (!conf_check(c, c->ops->http_response(c->t, call, &r), "the REST call is answered", "still pending") ||
        !http_status(c, &r, 200, "POST /twins/d1/methods: 200"))
        return;
    json_t *doc = json_loadb(r.body, r.body_len, 0, NULL);
    json_t *want = json_pack("{s:i,s:{s:b}}", "status", 201, "payload", "ok", 1);
    conf_check(c, doc && want && json_equal(doc, want), "body {\"status\":201,\"payload\":{\"ok\":true}}",
               "%.300s", r.body);
    json_decref(doc);
    json_decref(want);
}

/* ---- HTTP-C2D-ETAG -------------------------------------------------------------------------------- */

static void c2d_etag(conf_ctx_t *c)
{
    char tok[1024];
    if (!conf_create(c, "d1", NULL) ||
        !conf_token(c, CONF_KEY_A, "d1", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok))
        return;
    target_msg_t msg;
    target_status_t st;
    conf_msg_init(&msg, "hello");
    conf_msg_sys(&msg, "messageId", "c1");
    c->ops->c2d_send(c->t, "d1", &msg, 0, &st);
    if (!conf_status(c, &st, 200, 0, "send C2D c1"))
        return;
    target_http_call_t call;
    target_http_response_t r;
    http(c, "GET", "/devices/d1/messages/deviceBound?" API, tok, NULL, NULL, NULL, &call, &r);
    if (!http_status(c, &r, 200, "GET .../deviceBound with a message waiting: 200"))
        return;
    const char *etag = target_http_header(&r, "ETag");
    size_t n = etag ? strlen(etag) : 0;
    if (!conf_check(c, n > 2 && etag[0] == '"' && etag[n - 1] == '"', "ETag: \"<lock token>\" (quoted)", "%s",
                    etag ? etag : "(none)"))
        return;
    char path[300];
    snprintf(path, sizeof path, "/devices/d1/messages/deviceBound/%.*s?" API, (int)(n - 2), etag + 1);
    http(c, "DELETE", path, tok, NULL, NULL, NULL, &call, &r);
    if (!http_status(c, &r, 204, "DELETE .../deviceBound/{lock}: 204 (completed)"))
        return;
    http(c, "GET", "/devices/d1/messages/deviceBound?" API, tok, NULL, NULL, NULL, &call, &r);
    http_status(c, &r, 204, "GET .../deviceBound after the complete: 204 (nothing left)");
}

/* ---- HTTP-D2C-*-PROPS ------------------------------------------------------------------------------- */

static void d2c_header(conf_ctx_t *c, const char *hname, const char *hvalue, bool app, const char *prop,
                       const char *want)
{
    char tok[1024];
    if (!conf_create(c, "d1", NULL) ||
        !conf_token(c, CONF_KEY_A, "d1", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok))
        return;
    target_http_call_t call;
    target_http_response_t r;
    http(c, "POST", "/devices/d1/messages/events?" API, tok, hname, hvalue, "body", &call, &r);
    char exp[200];
    snprintf(exp, sizeof exp, "POST .../messages/events with %s: %s: 204", hname, hvalue);
    if (!http_status(c, &r, 204, exp))
        return;
    target_rx_msg_t rx;
    if (!conf_check(c, c->ops->endpoint_next(c->t, NULL, &rx), "the message reaches an endpoint", "nothing"))
        return;
    const char *got = app ? target_rx_app(&rx, prop) : target_rx_sys(&rx, prop);
    snprintf(exp, sizeof exp, "%s property %s = %s", app ? "application" : "system", prop, want);
    conf_check(c, got && strcmp(got, want) == 0, exp, "%s", got ? got : "(none)");
}

static void d2c_app(conf_ctx_t *c) { d2c_header(c, "iothub-app-k", "v", true, "k", "v"); }
static void d2c_mid(conf_ctx_t *c) { d2c_header(c, "IoTHub-MessageId", "m-1", false, "messageId", "m-1"); }
static void d2c_cid(conf_ctx_t *c)
{
    d2c_header(c, "iothub-correlationid", "c-1", false, "correlationId", "c-1");
}
static void d2c_ct(conf_ctx_t *c)
{
    d2c_header(c, "iothub-contenttype", "text/plain", false, "contentType", "text/plain");
}

/* ---- the table ---------------------------------------------------------------------------------------- */

#define VT TARGET_CAP_VIRTUAL_TIME
#define EP TARGET_CAP_ENDPOINTS

const conf_case_t conf_cases_wire[] = {
    { "MQTT-SECOND-CONNECTION", "second CONNECT for d1: the first transport is closed, the second open",
      second_connection, WIRE, NULL, false },
    { "MQTT-QOS2-PUBLISH", "QoS 2 telemetry PUBLISH: closed, no PUBREC, not accepted", qos2_publish, WIRE, NULL,
      false },
    { "MQTT-QOS2-SUBSCRIBE", "SUBSCRIBE with QoS 2: SUBACK grants 1", qos2_subscribe, WIRE, NULL, false },
    { "MQTT-KEEPALIVE", "keep-alive 60 s: open after 89 s of silence, closed at 90 s", keepalive_60, WIRE | VT,
      NULL, false },
    { "MQTT-KEEPALIVE", "PINGREQ at 80 s: open until 169 s, closed at 170 s", keepalive_ping, WIRE | VT, NULL,
      false },
    { "MQTT-KEEPALIVE", "keep-alive 3600 s clamped to 1767 s: closed after 2651 s, not at 2650 s",
      keepalive_clamped, WIRE | VT, NULL, false },
    { "MQTT-D2C-REFUSED", "telemetry of 256 KB + 1: no PUBACK, connection closed", d2c_too_large, WIRE, NULL,
      false },
    { "MQTT-TOPIC-FOREIGN", "PUBLISH on another device's telemetry topic: closed", foreign_publish, WIRE, NULL,
      false },
    { "MQTT-TOPIC-FOREIGN", "SUBSCRIBE to another device's C2D topic: closed", foreign_subscribe, WIRE, NULL,
      false },
    { "CONN-UNKNOWN-TOPIC", "PUBLISH on a topic the hub does not know: closed", unknown_publish, WIRE, NULL,
      false },
    { "CONN-UNKNOWN-TOPIC", "SUBSCRIBE to a filter the hub does not know: closed", unknown_subscribe, WIRE, NULL,
      false },
    { "MQTT-C2D-PUBACK", "PUBACK of a C2D PUBLISH completes it: feedback Success, no redelivery", c2d_puback,
      WIRE | VT, NULL, false },
    { "MQTT-PROPERTY-BAG", "$.mid, $.cid, $.ct become system properties, k an application property",
      property_bag, WIRE | EP, NULL, false },
    { "MQTT-CONNACK-CODES", "client id a/b/c: CONNACK 2", connack_client_id, WIRE, NULL, false },
    { "MQTT-CONNACK-CODES", "MQTT 3.1 (level 3) CONNECT: CONNACK 1", connack_level, WIRE, NULL, false },
    { "MQTT-CONNACK-CODES", "a password that is no token: CONNACK 5", connack_credentials, WIRE, NULL, false },
    { "AUTH-X509-THUMBPRINT", "MQTT over TLS with the registered client certificate: CONNACK 0",
      x509_wire_ok, WIRE, NULL, false },
    { "AUTH-X509-THUMBPRINT", "MQTT over TLS with another client certificate: CONNACK 5", x509_wire_other,
      WIRE, NULL, false },
    { "MQTT-TWIN-REPORTED", "reported PATCH answered res/204 with the new $version", twin_reported, WIRE, NULL,
      false },
    { "HUB-ERROR-BODY", "GET /devices/ghost: 404, iothub-errorcode and ErrorCode:DeviceNotFound; body",
      error_body_registry, WIRE, NULL, true },
    { "HUB-ERROR-BODY", "GET /nothing/here: 404, iothub-errorcode and ErrorCode:NotFound; body",
      error_body_route, WIRE, NULL, true },
    { "HUB-IF-MATCH", "HTTPS PUT /devices/d1 with a stale If-Match: 412, d1 unchanged", if_match_http, WIRE,
      NULL, true },
    { "HTTP-SERVICE-AUTH", "GET /devices/d1 without Authorization: 401 IotHubUnauthorizedAccess",
      service_auth_missing, WIRE, NULL, true },
    { "HTTP-METHOD-BODY", "method answered 201 {\"ok\":true}: 200 {\"status\":201,\"payload\":{\"ok\":true}}",
      method_body, WIRE | VT, NULL, true },
    { "HTTP-C2D-ETAG", "C2D over HTTPS: quoted ETag, DELETE with the token inside completes", c2d_etag, WIRE,
      NULL, false },
    { "HTTP-D2C-APP-PROPS", "iothub-app-k: v becomes application property k", d2c_app, WIRE | EP, NULL, false },
    { "HTTP-D2C-SYS-PROPS", "IoTHub-MessageId: m-1 becomes messageId", d2c_mid, WIRE | EP, NULL, false },
    { "HTTP-D2C-SYS-PROPS", "iothub-correlationid: c-1 becomes correlationId", d2c_cid, WIRE | EP, NULL, false },
    { "HTTP-D2C-SYS-PROPS", "iothub-contenttype: text/plain becomes contentType", d2c_ct, WIRE | EP, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
