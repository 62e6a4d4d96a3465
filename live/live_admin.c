/* The live port's hub-side faults: hubsim serve's admin API (docs/serve.md) when the target has one, otherwise unsupported and counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "live/live_internal.h"

static bool req_done(void *arg)
{
    return tr_http_done(arg);
}

/* A request to the admin API, answered synchronously (before the run and
 * at its end) when wait, else tracked and finished by the pump. */
static hs_err_t admin_request(struct live_port *p, const char *method, const char *path, const char *body,
                              bool wait, char *why, size_t cap, tr_http_req_t **out)
{
    tr_header_t ct = { "Content-Type", "application/json" };
    tr_http_request_t rq = { .method = method, .path = path, .headers = body ? &ct : NULL, .n_headers = body ? 1 : 0,
                             .body = body, .body_len = body ? strlen(body) : 0 };
    tr_http_req_t *req = NULL;
    if (tr_http_start(&p->admin, &rq, &req, why, cap) != HS_EOK)
        return HS_EIO;
    if (!wait) {
        live_svc_track(p, OP_ADMIN, req, NULL, 0);
        return HS_EOK;
    }
    if (!tr_loop_wait(p->loop, req_done, req, p->op_ms) || tr_http_result(req)->failed) {
        snprintf(why, cap, "the admin API at %.100s:%d did not answer %.8s %.120s", p->cs.connect_host,
                 p->cs.admin_port, method, path);
        tr_http_free(req);
        return HS_EIO;
    }
    *out = req;
    return HS_EOK;
}

bool live_admin_probe(struct live_port *p)
{
    char why[300];
    tr_http_req_t *req = NULL;
    if (admin_request(p, "GET", "/health", NULL, true, why, sizeof why, &req) != HS_EOK)
        return false;
    bool ok = tr_http_result(req)->status == 200;
    tr_http_free(req);
    return ok;
}

static hs_err_t admin_post(struct live_port *p, const char *path, const char *body)
{
    if (!p->served)
        return HS_EUNSUPPORTED;
    char why[300];
    if (admin_request(p, "POST", path, body, false, why, sizeof why, NULL) != HS_EOK) {
        if (p->fleet)
            fleet_port_count(p->fleet, "live.admin.failed", 1);
        live_note(p, "live.admin.failed", why);
        return HS_EIO;
    }
    return HS_EOK;
}

hs_err_t live_admin_drop(void *port, const char *device_id, const char *reason)
{
    struct live_port *p = port;
    if (!p->served) {
        live_note(p, "fleet.fault_unsupported",
                  "dropConnections needs hubsim serve's admin API (AdminPort=); the fault was skipped");
        return HS_EUNSUPPORTED;
    }
    char buf[300], path[400];
    const char *wid = live_wire_id(p, device_id, buf, sizeof buf);
    if (tr_rest_identity_path("/devices", wid, NULL, "/drop", path, sizeof path) != HS_EOK)
        return HS_EINVAL;
    json_t *doc = json_pack("{s:s}", "reason", reason ? reason : "");
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    hs_err_t e = admin_post(p, path, body);
    free(body);
    return e;
}

hs_err_t live_admin_break(void *port, const char *rule)
{
    struct live_port *p = port;
    char why[300];
    /* serve arms kill switches at start only (serve --break) */
    snprintf(why, sizeof why, "break '%s': a kill switch is armed when the hub starts (hubsim serve --break %s); "
             "the fault was skipped", rule, rule);
    live_note(p, "fleet.fault_unsupported", why);
    return HS_EUNSUPPORTED;
}

hs_err_t live_admin_fault(void *port, const scn_fault_t *ft, bool on)
{
    struct live_port *p = port;
    char body[200], path[300];
    switch (ft->kind) {
    case SCN_FAULT_THROTTLE:
        if (on)
            snprintf(body, sizeof body, "{\"profile\":\"S1\",\"units\":%u}", ft->units ? (unsigned)ft->units : 1u);
        else
            snprintf(body, sizeof body, "{\"profile\":\"off\"}");
        snprintf(path, sizeof path, "/faults/throttle");
        break;
    case SCN_FAULT_DELAY_METHODS:
        snprintf(body, sizeof body, "{\"delay\":\"%lldms\"}", on ? (long long)(ft->delay / 1000000) : 0LL);
        snprintf(path, sizeof path, "/faults/method-delay");
        break;
    case SCN_FAULT_ENDPOINT_UNREACHABLE:
        snprintf(body, sizeof body, "{\"reachable\":%s}", on ? "false" : "true");
        if (tr_rest_identity_path("/faults/endpoints", ft->endpoint ? ft->endpoint : "events", NULL, "", path,
                                  sizeof path) != HS_EOK)
            return HS_EINVAL;
        break;
    case SCN_FAULT_DROP_CONNECTIONS:
    case SCN_FAULT_BREAK:
        return HS_EOK; /* applied by the fleet through drop / arm_break */
    default:
        return HS_EUNSUPPORTED;
    }
    hs_err_t e = admin_post(p, path, body);
    if (e == HS_EUNSUPPORTED)
        live_note(p, "fleet.fault_unsupported",
                  "hub faults need hubsim serve's admin API (AdminPort=); the fault was skipped");
    return e;
}

bool live_admin_check(void *port, char *why, size_t cap)
{
    struct live_port *p = port;
    if (!p->served) {
        why[0] = 0;
        return true; /* no way to see the hub's books: nothing to check */
    }
    tr_http_req_t *req = NULL;
    if (admin_request(p, "GET", "/check", NULL, true, why, cap, &req) != HS_EOK)
        return false;
    const tr_http_response_t *r = tr_http_result(req);
    json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
    bool ok = json_is_true(json_object_get(doc, "balanced"));
    if (!ok)
        snprintf(why, cap, "the served hub's check: %s",
                 json_string_value(json_object_get(doc, "detail")) ? json_string_value(json_object_get(doc, "detail"))
                                                                   : r->body);
    json_decref(doc);
    tr_http_free(req);
    return ok;
}

json_t *live_port_served_counters(live_port_t *p)
{
    if (!p->served)
        return NULL;
    char why[300];
    tr_http_req_t *req = NULL;
    if (admin_request(p, "GET", "/counters", NULL, true, why, sizeof why, &req) != HS_EOK)
        return NULL;
    const tr_http_response_t *r = tr_http_result(req);
    json_t *doc = r->status == 200 ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    tr_http_free(req);
    return doc;
}
