/* Routing benchmark: evaluations/s for a 3-clause property query, a 2-field query on a fresh 1 KB JSON body, and 50 routes per message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/route/route_table.h"

/* Wall time for the figures only (bench is not under sim/). */
static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const route_prop_t props[] = {
    { "processingPath", "hot" }, { "verbose", "true" }, { "severity", "3" },
    { "testDevice", "false" },   { "region", "westeurope" }, { "firmware", "1.2.3" },
};

static void fill(route_message_t *m, const char *body)
{
    route_message_init(m);
    m->sys[ROUTE_SYS_CONTENT_TYPE] = "application/json";
    m->sys[ROUTE_SYS_CONTENT_ENCODING] = "UTF-8";
    m->sys[ROUTE_SYS_CONNECTION_DEVICE_ID] = "thermostat-0001";
    m->sys[ROUTE_SYS_MESSAGE_SOURCE] = "deviceMessages";
    m->app = props;
    m->napp = sizeof props / sizeof props[0];
    m->body = body;
    m->body_len = strlen(body);
}

/* A ~1 KB telemetry body. */
static char *make_body(void)
{
    char *b = malloc(2048);
    int n = snprintf(b, 2048,
                     "{\"Weather\":{\"Temperature\":50,\"Humidity\":41.5,\"Time\":\"2017-03-09T00:00:00.000Z\","
                     "\"IsEnabled\":true,\"Location\":{\"Street\":\"One Microsoft Way\",\"City\":\"Redmond\","
                     "\"State\":\"WA\"},\"PrevTemperatures\":[20,30,40,45,47,49,50,51],\"HistoricalData\":[");
    for (int i = 0; n < 960; i++)
        n += snprintf(b + n, 2048 - (size_t)n, "%s{\"Month\":\"M%02d\",\"Temperature\":%d,\"Ok\":true}",
                      i ? "," : "", i, 20 + i);
    snprintf(b + n, 2048 - (size_t)n, "]},\"seq\":1}");
    return b;
}

static route_query_t *compile(const char *text)
{
    route_query_t *q;
    route_syntax_error_t err;
    if (route_query_compile(text, NULL, &q, &err)) {
        fprintf(stderr, "bench_routing: %s: %d:%d %s\n", text, err.line, err.column, err.message);
        exit(3);
    }
    return q;
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0; /* "bench_routing 0.1" for a quick run */
    if (scale <= 0)
        scale = 1.0;
    char *body = make_body();
    route_message_t m;
    volatile unsigned sink = 0;

    /* (a) three-clause property query, one message */
    route_query_t *qa = compile("$contentType = 'application/json' AND processingPath = 'hot' AND severity = '3'");
    fill(&m, body);
    long na = (long)(5e6 * scale);
    double t0 = wall();
    for (long i = 0; i < na; i++)
        sink += route_query_eval(qa, &m);
    double ta = wall() - t0;
    route_message_reset(&m);
    if (route_query_eval(qa, &m) != ROUTE_TRUE)
        return 3;

    /* (b) two body fields of a 1 KB JSON body, a fresh message each time so the parse counts */
    route_query_t *qb = compile("$body.Weather.Temperature > 40 AND $body.Weather.Location.State = 'WA'");
    long nb = (long)(3e5 * scale);
    t0 = wall();
    for (long i = 0; i < nb; i++) {
        fill(&m, body);
        sink += route_query_eval(qb, &m);
        route_message_reset(&m);
    }
    double tb = wall() - t0;
    fill(&m, body);
    if (route_query_eval(qb, &m) != ROUTE_TRUE)
        return 3;
    route_message_reset(&m);

    /* the JSON library alone on the same body: the ceiling for (b) */
    t0 = wall();
    for (long i = 0; i < nb; i++) {
        json_t *j = json_loadb(body, strlen(body), 0, NULL);
        sink += j != NULL;
        json_decref(j);
    }
    double tj = wall() - t0;

    /* (c) 50 routes on one (fresh) message: 40 property routes, 10 body routes, 5 endpoints */
    json_t *routing = json_pack("{s:{s:[{s:s},{s:s}],s:[{s:s},{s:s}]},s:[]}", "endpoints", "eventHubs", "name",
                                "eh0", "name", "eh1", "storageContainers", "name", "st0", "name", "st1", "routes");
    json_t *routes = json_object_get(routing, "routes");
    static const char *const eps[] = { "eh0", "eh1", "st0", "st1", "events" };
    for (int i = 0; i < 50; i++) {
        char name[16], cond[160];
        snprintf(name, sizeof name, "r%02d", i);
        if (i % 5 == 4)
            snprintf(cond, sizeof cond, "$body.Weather.Temperature > %d AND $body.Weather.IsEnabled", i);
        else
            snprintf(cond, sizeof cond, "processingPath = '%s' AND as_number(severity) >= %d OR region = 'r%d'",
                     i % 2 ? "hot" : "cold", i % 6, i);
        json_array_append_new(routes, json_pack("{s:s,s:s,s:s,s:[s]}", "name", name, "source", "DeviceMessages",
                                                "condition", cond, "endpointNames", eps[i % 5]));
    }
    route_table_t *rt;
    route_load_error_t le;
    if (route_table_load(routing, NULL, &rt, &le)) {
        fprintf(stderr, "bench_routing: %s: %s\n", le.where, le.message);
        return 3;
    }
    uint32_t out[8];
    route_match_t res;
    long nc = (long)(2e5 * scale);
    t0 = wall();
    for (long i = 0; i < nc; i++) {
        fill(&m, body);
        route_table_match(rt, &m, ROUTE_SRC_DEVICE_MESSAGES, out, 8, &res, NULL);
        sink += (unsigned)res.nendpoints;
        route_message_reset(&m);
    }
    double tc = wall() - t0;

    printf("routing (a) 3-clause property query: %.2f M evaluations/s (target >= 2 M/s)\n", (double)na / ta / 1e6);
    printf("routing (b) 2 body fields, fresh 1 KB body: %.0f k evaluations/s (target >= 300 k/s)\n",
           (double)nb / tb / 1e3);
    printf("   (jansson json_loadb alone on that body: %.0f k parses/s, the ceiling for (b))\n", (double)nb / tj / 1e3);
    printf("routing (c) 50 routes per message: %.0f k messages/s = %.2f M route evaluations/s (%zu endpoints)\n",
           (double)nc / tc / 1e3, (double)nc * 50 / tc / 1e6, res.nendpoints);
    printf("body bytes %zu, sink %u\n", strlen(body), sink);
    route_table_free(rt);
    json_decref(routing);
    route_query_free(qa);
    route_query_free(qb);
    free(body);
    return 0;
}
