/* The served hub's admin API: HTTP+JSON on its own port to read counters and routed messages and to inject faults at run time (docs/serve.md). */
#include "serve/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/simtime.h"

/* Fault request bodies are small JSON objects. */
#define ADMIN_BODY_MAX 65536

struct serve_admin {
    serve_admin_opts_t o;
    struct evhttp *http;
    int port;
};

typedef struct {
    int status;
    json_t *body; /* owned */
} admin_reply_t;

static admin_reply_t reply_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static admin_reply_t reply_error(int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return (admin_reply_t){ status, json_pack("{s:s}", "error", msg) };
}

static admin_reply_t reply_ok(json_t *body)
{
    return (admin_reply_t){ 200, body ? body : json_pack("{s:b}", "ok", 1) };
}

/* ---- handlers ------------------------------------------------------------ */

typedef struct {
    serve_admin_t *a;
    const char *path_arg;  /* what the route's {name} matched (decoded) */
    const char *query;     /* raw query string or NULL */
    json_t *body;          /* parsed request body (an object) or NULL */
} admin_req_t;

static admin_reply_t get_health(admin_req_t *r)
{
    (void)r;
    return reply_ok(json_pack("{s:s}", "status", "ok"));
}

static admin_reply_t get_counters(admin_req_t *r)
{
    json_t *o = json_object();
    for (size_t i = 0; hub_counter_name(i); i++)
        json_object_set_new(o, hub_counter_name(i), json_integer((json_int_t)hub_counter_value(r->a->o.hub, i)));
    /* File uploads keep their own books (hub_upload_stats), outside the message ledger. */
    hub_upload_stats_t u;
    hub_upload_stats(r->a->o.hub, &u);
    const struct {
        const char *name;
        uint64_t value;
    } uploads[] = {
        { "upload.started", u.started },
        { "upload.completed_ok", u.completed_ok },
        { "upload.completed_failed", u.completed_failed },
        { "upload.refused_limit", u.refused_limit },
        { "upload.unknown_correlation", u.unknown_correlation },
        { "upload.expired", u.expired },
        { "upload.notified", u.notified },
        { "upload.notifications_dropped", u.notifications_dropped },
        { "upload.blob_writes", u.blob_writes },
        { "upload.blob_refused", u.blob_refused },
    };
    for (size_t i = 0; i < sizeof uploads / sizeof uploads[0]; i++)
        json_object_set_new(o, uploads[i].name, json_integer((json_int_t)uploads[i].value));
    return reply_ok(o);
}

static admin_reply_t get_check(admin_req_t *r)
{
    char why[512] = "";
    hs_err_t rc = hub_check(r->a->o.hub, why, sizeof why);
    return reply_ok(json_pack("{s:b,s:s}", "balanced", rc == HS_EOK, "detail", rc == HS_EOK ? "" : why));
}

static admin_reply_t run_view(serve_admin_view_fn fn, admin_req_t *r)
{
    if (!fn)
        return reply_error(404, "not available on this server");
    int status = 200;
    const char *err = "error";
    json_t *v = fn(r->a->o.view_ctx, r->path_arg, r->query, &status, &err);
    return v ? reply_ok(v) : reply_error(status, "%s", err);
}

static admin_reply_t get_endpoint_messages(admin_req_t *r)
{
    return run_view(r->a->o.endpoint_messages, r);
}

static admin_reply_t get_feedback(admin_req_t *r)
{
    return run_view(r->a->o.feedback, r);
}

static admin_reply_t get_violations(admin_req_t *r)
{
    return run_view(r->a->o.violations, r);
}

static admin_reply_t post_drop(admin_req_t *r)
{
    const char *module = NULL, *reason = "dropped by the admin API";
    if (r->body && json_unpack(r->body, "{s?s,s?s}", "moduleId", &module, "reason", &reason) != 0)
        return reply_error(400, "body: {\"moduleId\": string, \"reason\": string}, both optional");
    hub_err_t e = hub_device_drop(r->a->o.hub, r->path_arg, module, reason);
    if (e != HUB_EOK)
        return reply_error(hub_error_info(e)->http_status, "%s: %s", hub_error_info(e)->name, r->path_arg);
    return reply_ok(NULL);
}

static admin_reply_t post_throttle(admin_req_t *r)
{
    const char *profile = NULL;
    json_int_t units = 1;
    if (!r->body || json_unpack(r->body, "{s:s,s?I}", "profile", &profile, "units", &units) != 0)
        return reply_error(400, "body: {\"profile\": \"S1\" | \"off\", \"units\": 1..200}");
    hub_config_throttle_profile_t p;
    if (strcmp(profile, "S1") == 0 || strcmp(profile, "s1") == 0)
        p = HUB_THROTTLE_S1;
    else if (strcmp(profile, "off") == 0)
        p = HUB_THROTTLE_OFF;
    else
        return reply_error(400, "profile: \"S1\" or \"off\", got \"%s\"", profile);
    if (units < 1 || units > 200)
        return reply_error(400, "units: 1..200, got %lld", (long long)units);
    if (hub_set_throttling(r->a->o.hub, p, (uint32_t)units) != HS_EOK)
        return reply_error(400, "the hub refused profile %s with %lld units", profile, (long long)units);
    return reply_ok(NULL);
}

/* A request that never reaches the device: delayed past the longest
 * response timeout the hub accepts (300 s), so every call ends 504. */
#define SWALLOW_DELAY ((sim_time_t)3600 * 1000000000)

static admin_reply_t post_method_delay(admin_req_t *r)
{
    const char *text = NULL;
    int swallow = 0;
    if (!r->body || json_unpack(r->body, "{s?s,s?b}", "delay", &text, "swallow", &swallow) != 0 ||
        (!text && !swallow))
        return reply_error(400, "body: {\"delay\": \"2s\"} or {\"swallow\": true}; {\"delay\": \"0s\"} restores");
    sim_time_t d = SWALLOW_DELAY;
    if (!swallow && sim_duration_parse(text, &d) != HS_EOK)
        return reply_error(400, "delay: a duration such as \"250ms\" or \"2s\", got \"%s\"", text);
    if (hub_set_method_delay(r->a->o.hub, d) != HS_EOK)
        return reply_error(400, "the hub refused delay \"%s\"", text ? text : "swallow");
    return reply_ok(NULL);
}

static admin_reply_t post_endpoint(admin_req_t *r)
{
    int reachable = 1;
    if (!r->body || json_unpack(r->body, "{s:b}", "reachable", &reachable) != 0)
        return reply_error(400, "body: {\"reachable\": true | false}");
    if (hub_set_endpoint_reachable(r->a->o.hub, r->path_arg, reachable != 0) != HS_EOK)
        return reply_error(404, "no endpoint named \"%s\"", r->path_arg);
    return reply_ok(NULL);
}

static admin_reply_t post_shutdown(admin_req_t *r)
{
    if (!r->a->o.shutdown)
        return reply_error(404, "not available on this server");
    r->a->o.shutdown(r->a->o.shutdown_ctx);
    return reply_ok(NULL);
}

/* Routes: a path pattern with at most one {name} segment. */
typedef struct {
    enum evhttp_cmd_type method;
    const char *prefix; /* up to the {name} segment, or the whole path */
    const char *suffix; /* after it; NULL when the route has no {name} */
    admin_reply_t (*fn)(admin_req_t *r);
} admin_route_t;

static const admin_route_t admin_routes[] = {
    { EVHTTP_REQ_GET, "/health", NULL, get_health },
    { EVHTTP_REQ_GET, "/counters", NULL, get_counters },
    { EVHTTP_REQ_GET, "/check", NULL, get_check },
    { EVHTTP_REQ_GET, "/feedback", NULL, get_feedback },
    { EVHTTP_REQ_GET, "/violations", NULL, get_violations },
    { EVHTTP_REQ_GET, "/endpoints/", "/messages", get_endpoint_messages },
    { EVHTTP_REQ_POST, "/devices/", "/drop", post_drop },
    { EVHTTP_REQ_POST, "/faults/throttle", NULL, post_throttle },
    { EVHTTP_REQ_POST, "/faults/method-delay", NULL, post_method_delay },
    { EVHTTP_REQ_POST, "/faults/endpoints/", "", post_endpoint },
    { EVHTTP_REQ_POST, "/shutdown", NULL, post_shutdown },
};

/* Matches path against a route; on a {name} route, the decoded segment is
 * written to arg. */
static bool route_match(const admin_route_t *rt, const char *path, char *arg, size_t cap)
{
    size_t pl = strlen(rt->prefix);
    if (!rt->suffix)
        return strcmp(path, rt->prefix) == 0;
    if (strncmp(path, rt->prefix, pl) != 0)
        return false;
    const char *seg = path + pl, *slash = strchr(seg, '/');
    size_t seglen = slash ? (size_t)(slash - seg) : strlen(seg);
    if (seglen == 0 || seglen >= cap || strcmp(seg + seglen, rt->suffix) != 0)
        return false;
    char raw[512];
    if (seglen >= sizeof raw)
        return false;
    memcpy(raw, seg, seglen);
    raw[seglen] = '\0';
    char *dec = evhttp_uridecode(raw, 0, NULL);
    if (!dec)
        return false;
    snprintf(arg, cap, "%s", dec);
    free(dec);
    return true;
}

static void send_reply(struct evhttp_request *req, admin_reply_t rep)
{
    struct evbuffer *buf = evbuffer_new();
    char *text = json_dumps(rep.body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (buf && text) {
        evbuffer_add(buf, text, strlen(text));
        evbuffer_add(buf, "\n", 1);
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, rep.status, rep.status == 200 ? "OK" : "Error", buf);
    free(text);
    json_decref(rep.body);
    if (buf)
        evbuffer_free(buf);
}

static bool authorized(serve_admin_t *a, struct evhttp_request *req)
{
    if (!a->o.token || !*a->o.token)
        return true;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    return h && strncmp(h, "Bearer ", 7) == 0 && strcmp(h + 7, a->o.token) == 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    serve_admin_t *a = arg;
    serve_clock_sync(a->o.clock);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    admin_req_t r = { .a = a, .query = uri ? evhttp_uri_get_query(uri) : NULL };
    char arg_buf[512] = "";
    admin_reply_t rep;
    if (!authorized(a, req)) {
        rep = reply_error(401, "this admin API wants 'Authorization: Bearer <token>' (serve --admin-token)");
        goto out;
    }
    const admin_route_t *hit = NULL;
    bool path_known = false;
    for (size_t i = 0; path && i < sizeof admin_routes / sizeof admin_routes[0]; i++) {
        if (!route_match(&admin_routes[i], path, arg_buf, sizeof arg_buf))
            continue;
        path_known = true;
        if (admin_routes[i].method == method) {
            hit = &admin_routes[i];
            break;
        }
    }
    if (!hit) {
        rep = path_known ? reply_error(405, "method not allowed on %s", path)
                         : reply_error(404, "no admin route %s (see docs/serve.md)", path ? path : "?");
        goto out;
    }
    r.path_arg = arg_buf;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len > 0) {
        json_error_t err;
        const char *text = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        r.body = json_loadb(text, len, 0, &err);
        if (!r.body || !json_is_object(r.body)) {
            rep = r.body ? reply_error(400, "body: a JSON object expected")
                         : reply_error(400, "body:%d:%d: %s", err.line, err.column, err.text);
            goto out;
        }
    }
    rep = hit->fn(&r);
out:
    json_decref(r.body);
    send_reply(req, rep);
    serve_clock_rearm(a->o.clock);
}

hs_err_t serve_admin_new(const serve_admin_opts_t *o, serve_admin_t **out, char *why, size_t cap)
{
    *out = NULL;
    serve_admin_t *a = calloc(1, sizeof *a);
    if (!a || !(a->http = evhttp_new(o->base))) {
        free(a);
        return HS_ENOMEM;
    }
    a->o = *o;
    evhttp_set_max_body_size(a->http, ADMIN_BODY_MAX);
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(a->http, on_request, a);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(a->http, o->bind, (ev_uint16_t)o->port);
    if (!bs) {
        snprintf(why, cap, "admin: cannot listen on %s:%d: %s", o->bind, o->port, strerror(errno));
        evhttp_free(a->http);
        free(a);
        return HS_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
        a->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    *out = a;
    return HS_EOK;
}

int serve_admin_port(const serve_admin_t *a)
{
    return a->port;
}

void serve_admin_free(serve_admin_t *a)
{
    if (!a)
        return;
    evhttp_free(a->http);
    free(a);
}
