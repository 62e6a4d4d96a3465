/* Conformance cases for routing through the hub: query truth, three-valued logic, $body gating, twin refs, dedup, fallback. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conformance/case.h"
#include "conformance/catalogue.h"
/* base64 of the corpus's binary bodies: a client-side utility */
#include "sim/hub/auth.h"

/* Each case saves routes (one custom endpoint "ep1"), sends D2C messages and
 * reads what every endpoint received.  The fallback route sends messages no
 * route matched to the built-in endpoint "events" (endpoints.txt). */

#define NEEDS (TARGET_CAP_CONFIGURE | TARGET_CAP_ENDPOINTS)

static bool routes(conf_ctx_t *c, const char *const *conds, size_t n)
{
    char cfg[2048];
    int len = snprintf(cfg, sizeof cfg,
                       "{\"routing\":{\"endpoints\":{\"eventHubs\":[{\"name\":\"ep1\"}]},\"routes\":[");
    for (size_t i = 0; i < n; i++)
        len += snprintf(cfg + len, sizeof cfg - (size_t)len,
                        "%s{\"name\":\"r%zu\",\"source\":\"DeviceMessages\",\"condition\":\"%s\","
                        "\"endpointNames\":[\"ep1\"]}",
                        i ? "," : "", i, conds[i]);
    snprintf(cfg + len, sizeof cfg - (size_t)len, "]}}");
    return conf_configure(c, cfg);
}

static bool route1(conf_ctx_t *c, const char *cond)
{
    return routes(c, &cond, 1);
}

/* Count (and drain) what an endpoint received. */
static size_t drained(conf_ctx_t *c, const char *ep)
{
    size_t n = 0;
    target_rx_msg_t rx;
    while (c->ops->endpoint_next(c->t, ep, &rx))
        n++;
    return n;
}

/* Send one message from d1 (online) and check where it went. */
static void expect_route(conf_ctx_t *c, target_conn_t conn, const target_msg_t *m, size_t ep1,
                         size_t events, const char *what)
{
    target_status_t st;
    c->ops->device_send(c->t, conn, m, &st);
    if (!conf_status(c, &st, 200, 0, what))
        return;
    size_t a = drained(c, "ep1"), b = drained(c, "events");
    char exp[200];
    snprintf(exp, sizeof exp, "%s: ep1 %zu, events %zu", what, ep1, events);
    conf_check(c, a == ep1 && b == events, exp, "ep1 %zu, events %zu", a, b);
}

static bool setup(conf_ctx_t *c, const char *cond, target_conn_t *conn)
{
    return route1(c, cond) && conf_online(c, "d1", NULL, 0, conn);
}

static void app1(target_msg_t *m, const char *body, const char *k, const char *v)
{
    conf_msg_init(m, body);
    if (k)
        conf_msg_app(m, k, v);
}

static void json_body(target_msg_t *m, const char *body)
{
    conf_msg_init(m, body);
    conf_msg_sys(m, "contentType", "application/json");
    conf_msg_sys(m, "contentEncoding", "utf-8");
}

static void query_true(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "level = 'hi'", &conn))
        return;
    app1(&m, "x", "level", "hi");
    expect_route(c, conn, &m, 1, 0, "level=hi (true)");
    app1(&m, "x", "level", "lo");
    expect_route(c, conn, &m, 0, 1, "level=lo (false)");
    app1(&m, "x", NULL, NULL);
    expect_route(c, conn, &m, 0, 1, "no level (undefined)");
}

static void three_valued(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "NOT (missing = 1)", &conn))
        return;
    app1(&m, "x", "other", "1");
    expect_route(c, conn, &m, 0, 1, "NOT over an undefined comparison");
}

static void sysprop(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "$contentType = 'application/json' AND $site = 'a'", &conn))
        return;
    json_body(&m, "{}");
    conf_msg_app(&m, "$site", "a");
    expect_route(c, conn, &m, 1, 0, "$contentType (system) and $site (falls back to the app property \"$site\")");
    conf_msg_init(&m, "{}");
    conf_msg_app(&m, "$site", "a");
    expect_route(c, conn, &m, 0, 1, "no contentType system property");
    /* both exist: the system property wins over an app property "contentType" */
    json_body(&m, "{}");
    conf_msg_app(&m, "$contentType", "text/plain");
    conf_msg_app(&m, "$site", "a");
    expect_route(c, conn, &m, 1, 0, "$contentType is the system property, not the app property \"$contentType\"");
}

static void body_gating(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "$body.temp > 30", &conn))
        return;
    json_body(&m, "{\"temp\":40}");
    expect_route(c, conn, &m, 1, 0, "application/json utf-8 body");
    conf_msg_init(&m, "{\"temp\":40}");
    expect_route(c, conn, &m, 0, 1, "same body without contentType");
    conf_msg_init(&m, "{\"temp\":40}");
    conf_msg_sys(&m, "contentType", "application/json");
    conf_msg_sys(&m, "contentEncoding", "latin1");
    expect_route(c, conn, &m, 0, 1, "application/json with contentEncoding latin1");
}

static void body_whole(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "$body[0] = 1", &conn))
        return;
    json_body(&m, "[1]");
    expect_route(c, conn, &m, 0, 1, "$body[0] over a JSON array body");
}

static void twin_ref(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "$twin.tags.site = 'north' AND $twin.properties.desired.mode = 'eco'", &conn))
        return;
    app1(&m, "x", NULL, NULL);
    expect_route(c, conn, &m, 0, 1, "before the twin holds the values");
    target_status_t st;
    char etag[64];
    c->ops->twin_patch(c->t, "d1", NULL,
                       "{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":{\"mode\":\"eco\"}}}",
                       NULL, etag, &st);
    if (!conf_status(c, &st, 200, 0, "twin patch"))
        return;
    expect_route(c, conn, &m, 1, 0, "after the twin patch");
}

static void case_insensitive(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "LEVEL = 'hi' aNd is_defined($BODY.Temp) AND upper(level) = 'HI'", &conn))
        return;
    json_body(&m, "{\"temp\":1}");
    conf_msg_app(&m, "level", "hi");
    expect_route(c, conn, &m, 1, 0, "names, functions and keywords in other case");
}

static void invalid_query(conf_ctx_t *c)
{
    if (!(c->ops->caps & TARGET_CAP_CONFIGURE)) {
        conf_skip(c, "needs hub settings this target cannot change");
        return;
    }
    target_status_t st;
    c->ops->configure(c->t,
                      "{\"routing\":{\"endpoints\":{\"eventHubs\":[{\"name\":\"ep1\"}]},\"routes\":["
                      "{\"name\":\"bad\",\"source\":\"DeviceMessages\",\"condition\":\"level = \","
                      "\"endpointNames\":[\"ep1\"]}]}}",
                      &st);
    conf_refused(c, &st, 400, "saving a route whose query is 'level = '");
}

static void period_names(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "$body.a.b = 1", &conn))
        return;
    json_body(&m, "{\"a.b\":1}");
    expect_route(c, conn, &m, 0, 1, "body member named 'a.b'");
}

static void functions(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "ABS(-2) = 2 AND CONCAT('a', 'b') = 'ab' AND LENGTH(level) = 2 AND IS_STRING(level)", &conn))
        return;
    app1(&m, "x", "level", "hi");
    expect_route(c, conn, &m, 1, 0, "ABS, CONCAT, LENGTH, IS_STRING");
}

static void type_functions(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "IS_OBJECT($body.o) AND IS_ARRAY($body.a) AND IS_PRIMITIVE($body.n)", &conn))
        return;
    json_body(&m, "{\"o\":{},\"a\":[],\"n\":1}");
    expect_route(c, conn, &m, 1, 0, "IS_OBJECT, IS_ARRAY, IS_PRIMITIVE (knob default: on)");
}

static void dedup(conf_ctx_t *c)
{
    static const char *const conds[] = { "level = 'hi'", "true", "IS_DEFINED(level)" };
    target_conn_t conn;
    target_msg_t m;
    if (!routes(c, conds, 3) || !conf_online(c, "d1", NULL, 0, &conn))
        return;
    app1(&m, "x", "level", "hi");
    expect_route(c, conn, &m, 1, 0, "three matching routes to ep1");
}

static void fallback(conf_ctx_t *c)
{
    target_conn_t conn;
    target_msg_t m;
    if (!setup(c, "level = 'hi'", &conn))
        return;
    app1(&m, "x", "level", "lo");
    expect_route(c, conn, &m, 0, 1, "no route matched: fallback to events");
    app1(&m, "x", "level", "hi");
    expect_route(c, conn, &m, 1, 0, "a route matched: no fallback");
}


/* ---- the routing corpus through the hub ---------------------------------------------- */

/* fixtures/routing/vectors.json beside the catalogue this build uses. */
static json_t *corpus_load(char *path, size_t cap)
{
    char cat[1024];
    if (catalogue_default_path(cat, sizeof cat) != HS_EOK)
        return NULL;
    const char *tail = strstr(cat, "conformance/catalogue.json");
    if (!tail)
        return NULL;
    snprintf(path, cap, "%.*sfixtures/routing/vectors.json", (int)(tail - cat), cat);
    return json_load_file(path, 0, NULL);
}

static bool mentions(const char *expr, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = expr; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return true;
    return false;
}

/* Vectors the hub cannot reproduce as sent: knob variants, twins the
 * device would have to report, and references to properties the hub stamps
 * itself (message-format.txt: the sender's values are replaced). */
static const char *corpus_unfit(json_t *v, json_t *msg)
{
    const char *expr = json_string_value(json_object_get(v, "expr"));
    static const char *const stamped[] = { "enqueuedtime", "connectionDevice", "connectionModule",
                                           "connectionAuth", "connection-", "message-source",
                                           "sequencenumber", "sequence-number" };
    if (json_object_get(v, "options"))
        return "knob variant";
    if (json_object_get(v, "twin"))
        return "twin";
    for (size_t i = 0; i < sizeof stamped / sizeof stamped[0]; i++)
        if (mentions(expr, stamped[i]))
            return "stamped property";
    const char *k;
    json_t *val;
    json_object_foreach(json_object_get(msg, "appProperties"), k, val)
        if (!json_is_string(val) && mentions(expr, k))
            return "non-string app property";
    return NULL;
}

static bool corpus_send(conf_ctx_t *c, json_t *msg, target_status_t *st)
{
    target_msg_t m;
    unsigned char *bin = NULL;
    const char *body = json_string_value(json_object_get(msg, "body"));
    const char *b64 = json_string_value(json_object_get(msg, "bodyBase64"));
    conf_msg_init(&m, body);
    if (b64) {
        size_t cap = strlen(b64), len = 0;
        bin = malloc(cap + 1);
        if (!bin || hub_b64_decode(b64, bin, cap + 1, &len) != HS_EOK) {
            free(bin);
            return conf_error(c, "corpus: bad bodyBase64");
        }
        m.body = bin;
        m.body_len = len;
    }
    const char *k;
    json_t *val;
    json_object_foreach(json_object_get(msg, "systemProperties"), k, val)
        conf_msg_sys(&m, k, json_string_value(val));
    json_object_foreach(json_object_get(msg, "appProperties"), k, val)
        conf_msg_app(&m, k, json_is_string(val) ? json_string_value(val) : "");
    target_conn_t conn;
    bool ok = conf_online(c, "thermostat-01", NULL, 0, &conn);
    if (ok)
        c->ops->device_send(c->t, conn, &m, st);
    free(bin);
    return ok;
}

static void corpus(conf_ctx_t *c)
{
    char path[1200];
    json_t *doc = corpus_load(path, sizeof path);
    if (!doc) {
        conf_skip(c, "fixtures/routing/vectors.json not found beside the catalogue");
        return;
    }
    json_t *msgs = json_object_get(doc, "messages");
    size_t i, ran = 0, unfit = 0, bad = 0;
    char first[CONF_TEXT_CAP] = "";
    json_t *v;
    json_array_foreach(json_object_get(doc, "vectors"), i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *expr = json_string_value(json_object_get(v, "expr"));
        const char *want = json_string_value(json_object_get(v, "expected"));
        json_t *msg = json_object_get(msgs, json_string_value(json_object_get(v, "message")));
        if (!id || !expr || !want || !msg) {
            conf_error(c, "corpus: vector #%zu is incomplete", i);
            break;
        }
        if (corpus_unfit(v, msg)) {
            unfit++;
            continue;
        }
        json_t *cfg = json_pack("{s:{s:{s:[{s:s}]},s:[{s:s,s:s,s:s,s:[s]}]}}", "routing", "endpoints",
                                "eventHubs", "name", "ep1", "routes", "name", "r", "source",
                                "DeviceMessages", "condition", expr, "endpointNames", "ep1");
        char *text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
        json_decref(cfg);
        if (!text) {
            conf_error(c, "corpus: out of memory");
            break;
        }
        target_status_t st;
        c->ops->configure(c->t, text, &st);
        free(text);
        ran++;
        char got[40];
        if (st.http != 200) {
            snprintf(got, sizeof got, "refused when saved");
        } else {
            if (!corpus_send(c, msg, &st))
                break;
            if (st.http == 400 && c->protocol == TARGET_PROTO_HTTPS) {
                /* HTTPS applies the property character rule (MSG-PROP-CHARSET):
                 * this message cannot be sent that way; not a routing fact. */
                unfit++;
                ran--;
                continue;
            } else if (st.http != 200) {
                snprintf(got, sizeof got, "send refused %d", st.http);
            } else {
                size_t a = drained(c, "ep1"), b = drained(c, "events");
                snprintf(got, sizeof got, "%s", a == 1 && b == 0 ? "routed" : a == 0 && b == 1 ? "fallback" : "lost");
            }
        }
        const char *exp = strcmp(want, "error") == 0 ? "refused when saved"
                          : strcmp(want, "true") == 0 ? "routed"
                                                      : "fallback";
        if (strcmp(got, exp) != 0) {
            if (!bad) {
                size_t n = strlen(first);
                snprintf(first + n, sizeof first - n, "%s%s [%s]: %s (expected %s, %s)", n ? "; " : "", id,
                         expr, got, want, exp);
            }
            bad++;
        }
    }
    json_decref(doc);
    char exp[160];
    snprintf(exp, sizeof exp, "all %zu runnable vectors of the routing corpus route as written (%zu left out)",
             ran, unfit);
    conf_check(c, bad == 0, exp, "%zu differ; first: %s", bad, first);
}


/* ---- ROUTE-TWIN-CHANGE-EVENT / ROUTE-LIFECYCLE-EVENT ------------------------------ */

/* One route of `source` (condition true) to ep1. */
static bool source_route(conf_ctx_t *c, const char *source)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"routing\":{\"endpoints\":{\"eventHubs\":[{\"name\":\"ep1\"}]},\"routes\":[{\"name\":\"r0\","
             "\"source\":\"%s\",\"condition\":\"true\",\"endpointNames\":[\"ep1\"]}]}}",
             source);
    return conf_configure(c, cfg);
}

static const char *rx_app(const target_rx_msg_t *rx, const char *name)
{
    for (size_t i = 0; i < rx->n_app; i++)
        if (rx->app[i].name && strcmp(rx->app[i].name, name) == 0)
            return rx->app[i].value;
    return NULL;
}

/* The next message of ep1 has schema and opType as given and deviceId d1. */
static bool expect_event(conf_ctx_t *c, const char *schema, const char *op, const char *what, json_t **body)
{
    target_rx_msg_t rx;
    if (!conf_check(c, c->ops->endpoint_next(c->t, "ep1", &rx), what, "no message on ep1"))
        return false;
    const char *sc = rx_app(&rx, "iothub-message-schema"), *ot = rx_app(&rx, "opType");
    const char *dev = rx_app(&rx, "deviceId");
    char exp[200];
    snprintf(exp, sizeof exp, "%s: iothub-message-schema %s, opType %s, deviceId d1, hubName and operationTimestamp",
             what, schema, op);
    bool ok = sc && strcmp(sc, schema) == 0 && ot && strcmp(ot, op) == 0 && dev && strcmp(dev, "d1") == 0 &&
              rx_app(&rx, "hubName") && rx_app(&rx, "operationTimestamp");
    if (!conf_check(c, ok, exp, "schema %s, opType %s, deviceId %s", sc ? sc : "(none)", ot ? ot : "(none)",
                    dev ? dev : "(none)"))
        return false;
    if (body)
        *body = rx.body ? json_loadb(rx.body, rx.body_len, 0, NULL) : NULL;
    return true;
}

static void twin_change_event(conf_ctx_t *c)
{
    if (!source_route(c, "TwinChangeEvents") || !conf_create(c, "d1", NULL))
        return;
    (void)drained(c, "ep1");
    target_status_t st;
    char etag[64];
    c->ops->twin_patch(c->t, "d1", NULL, "{\"properties\":{\"desired\":{\"x\":1}}}", NULL, etag, &st);
    if (!conf_status(c, &st, 200, 0, "desired patch"))
        return;
    json_t *body = NULL;
    if (!expect_event(c, "twinChangeNotification", "updateTwin", "twin change event of a patch", &body))
        return;
    json_t *x = json_object_get(json_object_get(json_object_get(body, "properties"), "desired"), "x");
    bool ok = json_is_integer(json_object_get(body, "version")) && json_is_integer(x) &&
              json_integer_value(x) == 1;
    conf_check(c, ok, "body {\"version\":N,\"properties\":{\"desired\":{\"x\":1,...}}}", "%s",
               body ? "another body" : "no JSON body");
    json_decref(body);
    if (ok)
        conf_check(c, drained(c, "ep1") == 0, "one event per change", "more than one event");
}

static void lifecycle_event(conf_ctx_t *c)
{
    if (!source_route(c, "DeviceLifecycleEvents") || !conf_create(c, "d1", NULL))
        return;
    if (!expect_event(c, "deviceLifecycleNotification", "createDeviceIdentity", "event of the create", NULL))
        return;
    target_status_t st;
    c->ops->identity_delete(c->t, "d1", NULL, "*", &st);
    if (!conf_status(c, &st, 200, 0, "delete d1"))
        return;
    expect_event(c, "deviceLifecycleNotification", "deleteDeviceIdentity", "event of the delete", NULL);
}

const conf_case_t conf_cases_routing[] = {
    { "ROUTE-QUERY-TRUE", "true routes; false and undefined do not", query_true, NEEDS, NULL, false },
    { "ROUTE-QUERY-TRUE", "the routing corpus (fixtures/routing/vectors.json) through the hub", corpus,
      NEEDS, NULL, false },
    { "ROUTE-THREE-VALUED", "NOT of an undefined comparison is not a match", three_valued, NEEDS, NULL, false },
    { "ROUTE-SYSPROP", "$name: system property, else the app property", sysprop, NEEDS, NULL, false },
    { "ROUTE-BODY-GATING", "$body only for application/json in UTF-8", body_gating, NEEDS, NULL, false },
    { "ROUTE-BODY-WHOLE", "$body[0] is undefined", body_whole, NEEDS, NULL, false },
    { "ROUTE-TWIN-REF", "$twin.tags and desired read at routing time", twin_ref, NEEDS, NULL, false },
    { "ROUTE-CASE-INSENSITIVE", "names, functions and keywords in any case", case_insensitive, NEEDS, NULL, false },
    { "ROUTE-INVALID-QUERY", "a route with a syntax error is refused when saved", invalid_query,
      TARGET_CAP_CONFIGURE, NULL, false },
    { "ROUTE-PERIOD-NAMES", "a body member with a period cannot be addressed", period_names, NEEDS, NULL, false },
    { "ROUTE-FUNCTIONS", "ABS, CONCAT, LENGTH, IS_STRING", functions, NEEDS, NULL, false },
    { "ROUTE-TYPE-FUNCTIONS", "IS_OBJECT, IS_ARRAY, IS_PRIMITIVE available", type_functions, NEEDS, NULL, false },
    { "ROUTE-DEDUP", "several matching routes to one endpoint deliver once", dedup, NEEDS, NULL, false },
    { "ROUTE-FALLBACK", "fallback only when no route matched", fallback, NEEDS, NULL, false },
    { "ROUTE-TWIN-CHANGE-EVENT", "a desired patch emits one updateTwin twinChangeNotification", twin_change_event,
      NEEDS, NULL, false },
    { "ROUTE-LIFECYCLE-EVENT", "create and delete emit createDeviceIdentity and deleteDeviceIdentity",
      lifecycle_event, NEEDS, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
