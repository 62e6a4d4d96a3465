/* Conformance cases for routing through the hub: query truth, three-valued logic, $body gating, twin refs, dedup, fallback. */
#include <stdio.h>
#include <string.h>

#include "conformance/case.h"

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

const conf_case_t conf_cases_routing[] = {
    { "ROUTE-QUERY-TRUE", "true routes; false and undefined do not", query_true, NEEDS, NULL },
    { "ROUTE-THREE-VALUED", "NOT of an undefined comparison is not a match", three_valued, NEEDS, NULL },
    { "ROUTE-SYSPROP", "$name: system property, else the app property", sysprop, NEEDS, NULL },
    { "ROUTE-BODY-GATING", "$body only for application/json in UTF-8", body_gating, NEEDS, NULL },
    { "ROUTE-BODY-WHOLE", "$body[0] is undefined", body_whole, NEEDS, NULL },
    { "ROUTE-TWIN-REF", "$twin.tags and desired read at routing time", twin_ref, NEEDS, NULL },
    { "ROUTE-CASE-INSENSITIVE", "names, functions and keywords in any case", case_insensitive, NEEDS, NULL },
    { "ROUTE-INVALID-QUERY", "a route with a syntax error is refused when saved", invalid_query,
      TARGET_CAP_CONFIGURE, NULL },
    { "ROUTE-PERIOD-NAMES", "a body member with a period cannot be addressed", period_names, NEEDS, NULL },
    { "ROUTE-FUNCTIONS", "ABS, CONCAT, LENGTH, IS_STRING", functions, NEEDS, NULL },
    { "ROUTE-TYPE-FUNCTIONS", "IS_OBJECT, IS_ARRAY, IS_PRIMITIVE available", type_functions, NEEDS, NULL },
    { "ROUTE-DEDUP", "several matching routes to one endpoint deliver once", dedup, NEEDS, NULL },
    { "ROUTE-FALLBACK", "fallback only when no route matched", fallback, NEEDS, NULL },
    { "ROUTE-TWIN-CHANGE-EVENT", "twin change notification", NULL, 0,
      "the in-process hub does not emit TwinChangeEvents messages yet (sim/hub)" },
    { "ROUTE-LIFECYCLE-EVENT", "device lifecycle notification", NULL, 0,
      "the in-process hub does not emit DeviceLifecycleEvents messages yet (sim/hub)" },
    { NULL, NULL, NULL, 0, NULL },
};
