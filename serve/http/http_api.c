/* The REST API's front door: route table, path decoding, api-version, body cap, service authorization, dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http_internal.h"
#include "sim/hub/auth.h"

/*
 * One table row per (method, path pattern).  Patterns are '/'-separated
 * segments: literals compare case-insensitively (the Node SDK writes
 * "devicebound" where the documentation writes "deviceBound"), {d} {m} {t}
 * capture the device id, module id and lock token, percent-decoded and
 * case-sensitive.  A path that matches some row but not the method answers
 * 405 with Allow; a path that matches none answers 404.
 *
 * Service rows name the shared-access rights they need (checked here with
 * hub_service_authorize); device rows authenticate the device themselves
 * (http_device.c), because the identity comes from the path.
 */

typedef enum { AUTH_SERVICE, AUTH_DEVICE } auth_kind_t;

typedef struct {
    const char *method;
    const char *pattern;
    auth_kind_t auth;
    unsigned rights;
    http_route_fn fn;
} http_route_t;

#define RR HUB_RIGHT_REGISTRY_READ
#define RW HUB_RIGHT_REGISTRY_WRITE
#define SC HUB_RIGHT_SERVICE_CONNECT

static const http_route_t routes[] = {
    /* identity registry */
    { "GET", "devices", AUTH_SERVICE, RR, http_registry_list },
    { "GET", "devices/{d}", AUTH_SERVICE, RR, http_registry_get },
    { "PUT", "devices/{d}", AUTH_SERVICE, RW, http_registry_put },
    { "DELETE", "devices/{d}", AUTH_SERVICE, RW, http_registry_delete },
    { "GET", "devices/{d}/modules", AUTH_SERVICE, RR, http_registry_list_modules },
    { "GET", "devices/{d}/modules/{m}", AUTH_SERVICE, RR, http_registry_get },
    { "PUT", "devices/{d}/modules/{m}", AUTH_SERVICE, RW, http_registry_put },
    { "DELETE", "devices/{d}/modules/{m}", AUTH_SERVICE, RW, http_registry_delete },
    { "GET", "statistics/devices", AUTH_SERVICE, RR, http_registry_statistics },
    { "POST", "devices/query", AUTH_SERVICE, RR, http_query_devices },
    /* cloud-to-device queue, service side */
    { "DELETE", "devices/{d}/commands", AUTH_SERVICE, SC, http_registry_purge_c2d },
    /* twins */
    { "GET", "twins/{d}", AUTH_SERVICE, SC, http_twin_get },
    { "PATCH", "twins/{d}", AUTH_SERVICE, SC, http_twin_patch },
    { "PUT", "twins/{d}", AUTH_SERVICE, SC, http_twin_put },
    { "GET", "twins/{d}/modules/{m}", AUTH_SERVICE, SC, http_twin_get },
    { "PATCH", "twins/{d}/modules/{m}", AUTH_SERVICE, SC, http_twin_patch },
    { "PUT", "twins/{d}/modules/{m}", AUTH_SERVICE, SC, http_twin_put },
    /* direct methods */
    /* jobs: the query row before the {t} rows */
    { "GET", "jobs/v2/query", AUTH_SERVICE, RR, http_jobs_query },
    { "PUT", "jobs/v2/{t}", AUTH_SERVICE, RW, http_jobs_create },
    { "GET", "jobs/v2/{t}", AUTH_SERVICE, RR, http_jobs_get },
    { "POST", "jobs/v2/{t}/cancel", AUTH_SERVICE, RW, http_jobs_cancel },
    /* identity import/export jobs (after the v2 rows) */
    { "POST", "jobs/create", AUTH_SERVICE, RW, http_io_job_create },
    { "GET", "jobs", AUTH_SERVICE, RR, http_io_job_list },
    { "GET", "jobs/{t}", AUTH_SERVICE, RR, http_io_job_get },
    { "DELETE", "jobs/{t}", AUTH_SERVICE, RW, http_io_job_get },

    { "POST", "twins/{d}/methods", AUTH_SERVICE, SC, http_method_invoke },
    { "POST", "twins/{d}/modules/{m}/methods", AUTH_SERVICE, SC, http_method_invoke },
    /* device side */
    { "POST", "devices/{d}/messages/events", AUTH_DEVICE, 0, http_device_d2c },
    { "POST", "devices/{d}/modules/{m}/messages/events", AUTH_DEVICE, 0, http_device_d2c },
    { "GET", "devices/{d}/messages/deviceBound", AUTH_DEVICE, 0, http_device_c2d_receive },
    { "DELETE", "devices/{d}/messages/deviceBound/{t}", AUTH_DEVICE, 0, http_device_c2d_settle },
    { "POST", "devices/{d}/messages/deviceBound/{t}/abandon", AUTH_DEVICE, 0, http_device_c2d_abandon },
    { "GET", "devices/{d}/modules/{m}/messages/deviceBound", AUTH_DEVICE, 0, http_device_c2d_receive },
    { "DELETE", "devices/{d}/modules/{m}/messages/deviceBound/{t}", AUTH_DEVICE, 0,
      http_device_c2d_settle },
    { "POST", "devices/{d}/modules/{m}/messages/deviceBound/{t}/abandon", AUTH_DEVICE, 0,
      http_device_c2d_abandon },
    /* file uploads, device side (the blob itself: http_blobs.c) */
    { "POST", "devices/{d}/files", AUTH_DEVICE, 0, http_upload_start },
    { "POST", "devices/{d}/files/notifications", AUTH_DEVICE, 0, http_upload_notify },
    { "POST", "devices/{d}/files/notifications/{t}", AUTH_DEVICE, 0, http_upload_notify },
};

#undef RR
#undef RW
#undef SC

http_api_t *http_api_new(hub_t *hub, const http_api_opts_t *opts)
{
    if (!hub)
        return NULL;
    http_api_t *api = calloc(1, sizeof *api);
    if (!api)
        return NULL;
    api->hub = hub;
    if (opts)
        api->opts = *opts;
    if (!api->opts.max_body_bytes)
        api->opts.max_body_bytes = HTTP_API_DEFAULT_MAX_BODY;
    api->next_handle = 1;
    return api;
}

void http_api_free(http_api_t *api)
{
    if (!api)
        return;
    http_calls_free(api);
    http_jobs_free(api);
    http_blobs_free(api->blobs);
    free(api);
}

size_t http_api_pending(const http_api_t *api)
{
    return api ? api->pending : 0;
}

size_t http_api_outstanding(const http_api_t *api)
{
    return api ? api->outstanding : 0;
}

void http_api_cancel(http_api_t *api, uint64_t handle)
{
    if (api && handle)
        http_calls_cancel(api, handle);
}

/* The request path split into decoded segments. */
typedef struct {
    char seg[HTTP_MAX_SEGMENTS][HTTP_SEGMENT_CAP];
    size_t n;
} path_t;

/* 0 on success; else an error text for a 400 (or "" for "no such route"). */
static const char *path_split(const char *path, size_t len, path_t *p)
{
    p->n = 0;
    size_t i = 0;
    if (i < len && path[i] == '/')
        i++;
    if (len && path[len - 1] == '/' && len > 1)
        len--; /* one trailing '/' is ignored */
    if (i >= len)
        return "";
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (p->n == HTTP_MAX_SEGMENTS)
            return "";
        hs_err_t e = hub_url_decode(path + i, j - i, p->seg[p->n], HTTP_SEGMENT_CAP);
        if (e == HS_ERANGE)
            return "a path segment is too long";
        if (e != HS_EOK)
            return "a path segment has a bad percent-escape or a NUL";
        p->n++;
        i = j + 1;
    }
    return NULL;
}

/* Match a pattern; fill the captures. */
static bool pattern_match(const char *pattern, const path_t *p, http_ctx_t *c)
{
    const char *dev = NULL, *mod = NULL, *tok = NULL;
    size_t k = 0;
    const char *s = pattern;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (k >= p->n)
            return false;
        const char *seg = p->seg[k];
        if (n == 3 && s[0] == '{') {
            if (!seg[0])
                return false;
            if (s[1] == 'd')
                dev = seg;
            else if (s[1] == 'm')
                mod = seg;
            else
                tok = seg;
        } else if (strlen(seg) != n || strncasecmp(seg, s, n) != 0) {
            return false;
        }
        k++;
        s += n;
        if (*s == '/')
            s++;
    }
    if (k != p->n)
        return false;
    c->dev = dev;
    c->mod = mod;
    c->token = tok;
    return true;
}

static void method_not_allowed(http_api_t *api, http_resp_t *r, const path_t *p, const char *method)
{
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        http_ctx_t tmp;
        if (!pattern_match(routes[i].pattern, p, &tmp))
            continue;
        size_t n = strlen(allow);
        snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", routes[i].method);
    }
    char detail[160];
    snprintf(detail, sizeof detail, "%.16s is not allowed here; allowed: %s", method, allow);
    http_resp_error(r, api->opts.breaks, 405, "MethodNotAllowed", "the method is not allowed",
                    detail);
    http_resp_header(r, "Allow", allow);
}

uint64_t http_api_handle(http_api_t *api, const http_request_t *req, http_respond_fn respond,
                         void *ctx)
{
    http_resp_t r;
    http_resp_init(&r, 200);
    if (!api || !req || !req->method || !req->path) {
        http_resp_hub_error(&r, api ? api->opts.breaks : 0, HUB_EARGUMENT_NULL,
                            "the request has no method or path");
        http_resp_send(&r, respond, ctx);
        return 0;
    }
    unsigned breaks = api->opts.breaks;
    const char *query = req->query ? req->query : "";
    size_t path_len = strlen(req->path);
    if (!req->query) {
        const char *q = strchr(req->path, '?');
        if (q) {
            path_len = (size_t)(q - req->path);
            query = q + 1;
        }
    }

    /* the local blob endpoint: its own auth, errors and body cap */
    if (http_blob_request(api, req, path_len, query, &r)) {
        http_resp_send(&r, respond, ctx);
        return 0;
    }
    path_t *p = malloc(sizeof *p);
    if (!p) {
        r.failed = true;
        http_resp_send(&r, respond, ctx);
        return 0;
    }
    http_ctx_t c = { .api = api, .req = req, .query = query, .respond = respond, .ctx = ctx };
    const http_route_t *route = NULL;
    bool path_known = false;
    const char *bad = path_split(req->path, path_len, p);
    if (bad && bad[0]) {
        http_resp_hub_error(&r, breaks, HUB_EARGUMENT_INVALID, bad);
        goto send;
    }
    if (!bad) {
        for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !route; i++) {
            if (!pattern_match(routes[i].pattern, p, &c))
                continue;
            path_known = true;
            if (strcmp(routes[i].method, req->method) == 0)
                route = &routes[i];
        }
    }
    if (!route) {
        if (path_known) {
            method_not_allowed(api, &r, p, req->method);
        } else {
            char detail[200];
            snprintf(detail, sizeof detail, "no resource at %.*s", (int)(path_len > 120 ? 120 : path_len),
                     req->path);
            http_resp_error(&r, breaks, 404, "NotFound", "the resource does not exist", detail);
        }
        goto send;
    }
    if (api->opts.require_api_version && !http_query_get(query, "api-version", NULL, 0)) {
        http_resp_hub_error(&r, breaks, HUB_EARGUMENT_INVALID,
                            "the api-version query parameter is required");
        goto send;
    }
    if (route->auth == AUTH_SERVICE && !(breaks & HTTP_BREAK_AUTH_SKIPPED)) {
        const char *auth = http_req_header(req, "Authorization");
        hub_err_t e = auth ? hub_service_authorize(api->hub, auth, route->rights)
                           : HUB_EUNAUTHORIZED_ACCESS;
        if (e != HUB_EOK) {
            http_resp_hub_error(&r, breaks, e,
                                auth ? "the shared access signature is not valid for this operation"
                                     : "the Authorization header is missing");
            goto send;
        }
    }
    if (req->body_len > api->opts.max_body_bytes) {
        char detail[96];
        snprintf(detail, sizeof detail, "the request body has %zu bytes, more than %zu", req->body_len,
                 api->opts.max_body_bytes);
        http_resp_hub_error(&r, breaks, HUB_EMESSAGE_TOO_LARGE, detail);
        goto send;
    }
    /* The handler runs with the path buffer alive. */
    if (!route->fn(&c, &r)) {
        http_resp_free(&r);
        free(p);
        return c.handle;
    }
send:
    free(p);
    http_resp_send(&r, respond, ctx);
    return 0;
}
