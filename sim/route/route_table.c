/* The route table: loads endpoints and routes, evaluates them per message, dedups endpoints, applies the fallback. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route_table.h"

typedef struct {
    char *name;
    route_endpoint_kind_t kind;
} endpoint_t;

typedef struct {
    char *name;
    route_source_t source;
    route_query_t *cond;
    uint32_t endpoint;
    bool enabled;
    route_stats_t stats;
} route_t;

struct route_table {
    route_options_t opt;
    endpoint_t *eps;
    size_t neps;
    route_t *routes;
    size_t nroutes;
    route_t fallback; /* endpoint always events, source DeviceMessages */
    uint8_t *seen;    /* scratch for dedup, one byte per endpoint */
};

static const char *const source_names[ROUTE_SRC_COUNT] = {
#define ROUTE_SRC_NAME(id, name) name,
    ROUTE_SOURCE_MAP(ROUTE_SRC_NAME)
#undef ROUTE_SRC_NAME
};

const char *route_source_name(route_source_t s)
{
    return (unsigned)s < ROUTE_SRC_COUNT ? source_names[s] : "?";
}

int route_source_lookup(const char *name)
{
    for (int i = 0; i < ROUTE_SRC_COUNT; i++)
        if (name && !strcasecmp(name, source_names[i]))
            return i;
    return -1;
}

const char *route_endpoint_kind_name(route_endpoint_kind_t k)
{
    switch (k) {
    case ROUTE_EP_BUILTIN_EVENTS: return "events";
    case ROUTE_EP_EVENTHUB: return "eventhub";
    case ROUTE_EP_SERVICEBUS_QUEUE: return "servicebus-queue";
    case ROUTE_EP_SERVICEBUS_TOPIC: return "servicebus-topic";
    case ROUTE_EP_STORAGE: return "storage";
    }
    return "?";
}

void route_table_free(route_table_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->neps; i++)
        free(t->eps[i].name);
    for (size_t i = 0; i < t->nroutes; i++) {
        free(t->routes[i].name);
        route_query_free(t->routes[i].cond);
    }
    free(t->fallback.name);
    route_query_free(t->fallback.cond);
    free(t->eps);
    free(t->routes);
    free(t->seen);
    free(t);
}

static hs_err_t fail(route_load_error_t *err, const char *where, const char *msg)
{
    if (err) {
        snprintf(err->where, sizeof err->where, "%s", where);
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return HS_EPARSE;
}

long route_table_endpoint_find(const route_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->neps; i++)
        if (!strcasecmp(t->eps[i].name, name))
            return (long)i;
    return -1;
}

static const char *const reserved_names[] = { "events", "$default", "operationsMonitoringEvents",
                                              "fileNotifications" };

static hs_err_t load_endpoints(route_table_t *t, const json_t *eps, route_load_error_t *err)
{
    static const struct {
        const char *key;
        route_endpoint_kind_t kind;
    } groups[] = {
        { "eventHubs", ROUTE_EP_EVENTHUB },
        { "serviceBusQueues", ROUTE_EP_SERVICEBUS_QUEUE },
        { "serviceBusTopics", ROUTE_EP_SERVICEBUS_TOPIC },
        { "storageContainers", ROUTE_EP_STORAGE },
    };
    char where[96];
    size_t total = 1;
    if (eps) {
        if (!json_is_object(eps))
            return fail(err, "endpoints", "must be an object of eventHubs, serviceBusQueues, "
                                          "serviceBusTopics, storageContainers arrays");
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)eps, key, val) {
            size_t g;
            for (g = 0; g < 4; g++)
                if (!strcmp(key, groups[g].key))
                    break;
            if (g == 4) {
                snprintf(where, sizeof where, "endpoints.%.60s", key);
                return fail(err, where, "unknown endpoint group (eventHubs, serviceBusQueues, "
                                        "serviceBusTopics, storageContainers)");
            }
            if (!json_is_array(val)) {
                snprintf(where, sizeof where, "endpoints.%s", key);
                return fail(err, where, "must be an array");
            }
            total += json_array_size(val);
        }
    }
    t->eps = calloc(total, sizeof *t->eps);
    t->seen = calloc(total, 1);
    if (!t->eps || !t->seen)
        return HS_ENOMEM;
    t->eps[0].name = strdup("events");
    if (!t->eps[0].name)
        return HS_ENOMEM;
    t->eps[0].kind = ROUTE_EP_BUILTIN_EVENTS;
    t->neps = 1;
    /* group order then file order: the index order dedup results use */
    for (size_t g = 0; eps && g < 4; g++) {
        json_t *arr = json_object_get(eps, groups[g].key);
        size_t i;
        json_t *item;
        json_array_foreach(arr, i, item) {
            snprintf(where, sizeof where, "endpoints.%s[%zu]", groups[g].key, i);
            json_t *name = json_object_get(item, "name");
            if (!json_is_object(item) || !json_is_string(name) || !json_string_length(name))
                return fail(err, where, "an endpoint needs a non-empty \"name\"");
            const char *nm = json_string_value(name);
            if (strlen(nm) != json_string_length(name))
                return fail(err, where, "endpoint name contains a NUL character");
            for (size_t r = 0; r < sizeof reserved_names / sizeof reserved_names[0]; r++)
                if (!strcasecmp(nm, reserved_names[r]))
                    return fail(err, where, "endpoint name is reserved");
            if (route_table_endpoint_find(t, nm) >= 0)
                return fail(err, where, "duplicate endpoint name (names are case-insensitive)");
            t->eps[t->neps].name = strdup(nm);
            if (!t->eps[t->neps].name)
                return HS_ENOMEM;
            t->eps[t->neps].kind = groups[g].kind;
            t->neps++;
        }
    }
    return HS_EOK;
}

static hs_err_t compile_cond(route_table_t *t, route_t *r, const json_t *cond, const char *where,
                             route_load_error_t *err)
{
    if (cond && !json_is_string(cond))
        return fail(err, where, "\"condition\" must be a string");
    const char *text = cond ? json_string_value(cond) : "true";
    if (cond && strlen(text) != json_string_length(cond))
        return fail(err, where, "condition contains a NUL character");
    route_syntax_error_t se;
    hs_err_t e = route_query_compile(text, &t->opt, &r->cond, &se);
    if (e == HS_EPARSE) {
        char msg[200];
        snprintf(msg, sizeof msg, "condition: %s", se.message);
        fail(err, where, msg);
        if (err) {
            err->line = se.line;
            err->column = se.column;
        }
    }
    return e;
}

static int get_bool(const json_t *obj, const char *key, bool def, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

static hs_err_t check_keys(const json_t *obj, const char *const *allowed, const char *where,
                           route_load_error_t *err)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (!strcmp(key, allowed[i]))
                ok = 1;
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown key \"%.80s\"", key);
            return fail(err, where, msg);
        }
    }
    return HS_EOK;
}

static hs_err_t load_route(route_table_t *t, route_t *r, const json_t *item, size_t i,
                           route_load_error_t *err)
{
    static const char *const keys[] = { "name", "source", "condition", "endpointNames", "isEnabled", NULL };
    char where[96];
    snprintf(where, sizeof where, "routes[%zu]", i);
    if (!json_is_object(item))
        return fail(err, where, "a route must be an object");
    json_t *name = json_object_get(item, "name");
    if (!json_is_string(name) || !json_string_length(name))
        return fail(err, where, "a route needs a non-empty \"name\"");
    snprintf(where, sizeof where, "routes[%zu] \"%.60s\"", i, json_string_value(name));
    hs_err_t e = check_keys(item, keys, where, err);
    if (e)
        return e;
    for (size_t k = 0; k < t->nroutes; k++)
        if (&t->routes[k] != r && !strcasecmp(t->routes[k].name, json_string_value(name)))
            return fail(err, where, "duplicate route name (names are case-insensitive)");
    r->name = strdup(json_string_value(name));
    if (!r->name)
        return HS_ENOMEM;
    json_t *src = json_object_get(item, "source");
    int s = json_is_string(src) ? route_source_lookup(json_string_value(src)) : -1;
    if (s < 0)
        return fail(err, where, "\"source\" must be one of DeviceMessages, TwinChangeEvents, "
                                "DeviceLifecycleEvents, DeviceConnectionStateEvents, "
                                "DeviceJobLifecycleEvents, DigitalTwinChangeEvents");
    r->source = (route_source_t)s;
    json_t *names = json_object_get(item, "endpointNames");
    if (!json_is_array(names) || json_array_size(names) != 1 ||
        !json_is_string(json_array_get(names, 0)))
        return fail(err, where, "\"endpointNames\" must be an array of exactly one endpoint name");
    long ep = route_table_endpoint_find(t, json_string_value(json_array_get(names, 0)));
    if (ep < 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "endpoint \"%.80s\" is not defined",
                 json_string_value(json_array_get(names, 0)));
        return fail(err, where, msg);
    }
    r->endpoint = (uint32_t)ep;
    if (get_bool(item, "isEnabled", true, &r->enabled))
        return fail(err, where, "\"isEnabled\" must be true or false");
    return compile_cond(t, r, json_object_get(item, "condition"), where, err);
}

hs_err_t route_table_load(const json_t *routing, const route_options_t *o, route_table_t **out,
                          route_load_error_t *err)
{
    *out = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    route_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return HS_ENOMEM;
    if (o)
        t->opt = *o;
    else
        route_options_default(&t->opt);
    hs_err_t e = HS_EOK;
    static const char *const top_keys[] = { "endpoints", "routes", "fallbackRoute", "options", NULL };
    if (routing && !json_is_object(routing)) {
        e = fail(err, "routing", "must be an object");
        goto out;
    }
    if (routing && (e = check_keys(routing, top_keys, "routing", err)))
        goto out;
    json_t *opts = routing ? json_object_get(routing, "options") : NULL;
    if (opts) {
        char msg[200];
        if ((e = route_options_from_json(&t->opt, opts, msg, sizeof msg))) {
            fail(err, "options", msg);
            goto out;
        }
    }
    if ((e = load_endpoints(t, routing ? json_object_get(routing, "endpoints") : NULL, err)))
        goto out;
    json_t *routes = routing ? json_object_get(routing, "routes") : NULL;
    if (routes && !json_is_array(routes)) {
        e = fail(err, "routes", "must be an array");
        goto out;
    }
    if (routes && json_array_size(routes)) {
        t->routes = calloc(json_array_size(routes), sizeof *t->routes);
        if (!t->routes) {
            e = HS_ENOMEM;
            goto out;
        }
        size_t i;
        json_t *item;
        json_array_foreach(routes, i, item) {
            /* count the slot first so route_table_free releases a half-loaded route */
            route_t *r = &t->routes[t->nroutes++];
            if ((e = load_route(t, r, item, i, err)))
                goto out;
        }
    }
    json_t *fb = routing ? json_object_get(routing, "fallbackRoute") : NULL;
    t->fallback.name = strdup(fb && json_is_string(json_object_get(fb, "name"))
                                  ? json_string_value(json_object_get(fb, "name"))
                                  : "$fallback");
    if (!t->fallback.name) {
        e = HS_ENOMEM;
        goto out;
    }
    t->fallback.source = ROUTE_SRC_DEVICE_MESSAGES;
    t->fallback.endpoint = ROUTE_ENDPOINT_EVENTS;
    t->fallback.enabled = true;
    if (fb) {
        static const char *const fb_keys[] = { "name", "source", "condition", "endpointNames",
                                               "isEnabled", NULL };
        if (!json_is_object(fb)) {
            e = fail(err, "fallbackRoute", "must be an object");
            goto out;
        }
        if ((e = check_keys(fb, fb_keys, "fallbackRoute", err)))
            goto out;
        json_t *src = json_object_get(fb, "source");
        if (src && (!json_is_string(src) ||
                    route_source_lookup(json_string_value(src)) != ROUTE_SRC_DEVICE_MESSAGES)) {
            e = fail(err, "fallbackRoute", "the fallback route's source can only be DeviceMessages");
            goto out;
        }
        json_t *names = json_object_get(fb, "endpointNames");
        if (names && (!json_is_array(names) || json_array_size(names) != 1 ||
                      !json_is_string(json_array_get(names, 0)) ||
                      strcasecmp(json_string_value(json_array_get(names, 0)), "events"))) {
            e = fail(err, "fallbackRoute", "the fallback route can only send to [\"events\"]");
            goto out;
        }
        if (get_bool(fb, "isEnabled", true, &t->fallback.enabled)) {
            e = fail(err, "fallbackRoute", "\"isEnabled\" must be true or false");
            goto out;
        }
    }
    e = compile_cond(t, &t->fallback, fb ? json_object_get(fb, "condition") : NULL, "fallbackRoute", err);
out:
    if (e) {
        route_table_free(t);
        return e;
    }
    *out = t;
    return HS_EOK;
}

const route_options_t *route_table_options(const route_table_t *t)
{
    return &t->opt;
}

size_t route_table_endpoint_count(const route_table_t *t)
{
    return t->neps;
}

const char *route_table_endpoint_name(const route_table_t *t, size_t i)
{
    return i < t->neps ? t->eps[i].name : NULL;
}

route_endpoint_kind_t route_table_endpoint_kind(const route_table_t *t, size_t i)
{
    return i < t->neps ? t->eps[i].kind : ROUTE_EP_BUILTIN_EVENTS;
}

size_t route_table_route_count(const route_table_t *t)
{
    return t->nroutes;
}

const char *route_table_route_name(const route_table_t *t, size_t i)
{
    return i < t->nroutes ? t->routes[i].name : i == t->nroutes ? t->fallback.name : NULL;
}

uint32_t route_table_route_endpoint(const route_table_t *t, size_t i)
{
    return i < t->nroutes ? t->routes[i].endpoint : ROUTE_ENDPOINT_EVENTS;
}

hs_err_t route_table_route_enable(route_table_t *t, size_t i, bool enabled)
{
    if (i > t->nroutes)
        return HS_ERANGE;
    if (i == t->nroutes)
        t->fallback.enabled = enabled;
    else
        t->routes[i].enabled = enabled;
    return HS_EOK;
}

hs_err_t route_table_route_stats(const route_table_t *t, size_t i, route_stats_t *out)
{
    if (i > t->nroutes)
        return HS_ERANGE;
    *out = i == t->nroutes ? t->fallback.stats : t->routes[i].stats;
    return HS_EOK;
}

bool route_table_reads_twin(const route_table_t *t, route_source_t src)
{
    for (size_t i = 0; i < t->nroutes; i++)
        if (t->routes[i].enabled && t->routes[i].source == src && route_query_reads_twin(t->routes[i].cond))
            return true;
    return src == ROUTE_SRC_DEVICE_MESSAGES && t->fallback.enabled && route_query_reads_twin(t->fallback.cond);
}

static route_tri_t eval_route(route_t *r, route_message_t *msg)
{
    r->stats.evaluated++;
    route_tri_t v = route_query_eval(r->cond, msg);
    if (v == ROUTE_TRUE)
        r->stats.matched++;
    else if (v == ROUTE_UNDEFINED)
        r->stats.errors++;
    return v;
}

hs_err_t route_table_match(route_table_t *t, route_message_t *msg, route_source_t src,
                           uint32_t *out_endpoints, size_t cap, route_match_t *res,
                           uint32_t *matched_routes)
{
    memset(res, 0, sizeof *res);
    if ((unsigned)src >= ROUTE_SRC_COUNT)
        return HS_EINVAL;
    memset(t->seen, 0, t->neps);
    size_t distinct = 0;
    for (size_t i = 0; i < t->nroutes; i++) {
        route_t *r = &t->routes[i];
        if (!r->enabled || r->source != src)
            continue;
        route_tri_t v = eval_route(r, msg);
        if (v != ROUTE_TRUE && !(v == ROUTE_UNDEFINED && (t->opt.breaks & ROUTE_BREAK_UNDEF_ROUTES)))
            continue;
        if (matched_routes)
            matched_routes[res->nmatched] = (uint32_t)i;
        res->nmatched++;
        if (!t->seen[r->endpoint]) {
            t->seen[r->endpoint] = 1;
            distinct++;
        }
    }
    if (!res->nmatched && src == ROUTE_SRC_DEVICE_MESSAGES && t->fallback.enabled &&
        eval_route(&t->fallback, msg) == ROUTE_TRUE) {
        t->seen[ROUTE_ENDPOINT_EVENTS] = 1;
        distinct = 1;
        res->fallback = true;
    }
    if (distinct > cap)
        return HS_EFULL;
    /* ascending endpoint index: deterministic, independent of route order */
    for (size_t e = 0; e < t->neps; e++)
        if (t->seen[e])
            out_endpoints[res->nendpoints++] = (uint32_t)e;
    return HS_EOK;
}
