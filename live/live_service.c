/* The live port's service side: direct methods, twin patches and registry changes over REST; C2D over the service AMQP link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "live/live_internal.h"
#include "sim/hub/hub_errors.h"

void live_svc_track(struct live_port *p, int kind, tr_http_req_t *req, void *call_ctx, unsigned op)
{
    p->ops = live_grow(p->ops, &p->capops, p->nops + 1, sizeof *p->ops);
    int64_t wait = p->op_ms;
    p->ops[p->nops++] = (live_op_t){ kind, req, call_ctx, op, tr_now_ms() + wait };
}

static void invoke_failed(struct live_port *p, void *call_ctx, const char *why)
{
    live_note(p, "method.code.transport", why);
    fleet_port_method_result_t m = { 0, FLEET_PORT_TRANSPORT, 0 };
    fleet_port_invoked(p->fleet, call_ctx, &m);
}

void live_svc_invoke(void *port, const hub_method_call_t *call, void *call_ctx)
{
    struct live_port *p = port;
    char buf[300], why[400];
    const char *wid = live_wire_id(p, call->device_id, buf, sizeof buf);
    json_t *body = json_pack("{s:s}", "methodName", call->method_name);
    json_t *payload = call->payload ? json_loadb(call->payload, call->payload_len, JSON_DECODE_ANY, NULL) : NULL;
    json_object_set_new(body, "payload", payload ? payload : json_null());
    if (call->has_response_timeout)
        json_object_set_new(body, "responseTimeoutInSeconds", json_integer(call->response_timeout_s));
    if (call->has_connect_timeout)
        json_object_set_new(body, "connectTimeoutInSeconds", json_integer(call->connect_timeout_s));
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text)
        abort();
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_method_invoke(&p->rest, wid, NULL, text, strlen(text), &req, why, sizeof why);
    free(text);
    if (e != HS_EOK) {
        invoke_failed(p, call_ctx, why);
        return;
    }
    /* the hub holds the call up to its response timeout (default 30 s) plus the connect timeout */
    live_svc_track(p, OP_INVOKE, req, call_ctx, 0);
    int64_t hold = (call->has_response_timeout ? call->response_timeout_s : 30) +
                   (call->has_connect_timeout ? call->connect_timeout_s : 0);
    p->ops[p->nops - 1].deadline_ms = tr_now_ms() + hold * 1000 + p->op_ms;
}

void live_svc_twin_patch(void *port, const char *device_id, const char *patch, size_t len)
{
    struct live_port *p = port;
    char buf[300], why[400];
    const char *wid = live_wire_id(p, device_id, buf, sizeof buf);
    char *json = malloc(len + 1);
    if (!json)
        abort();
    memcpy(json, patch, len);
    json[len] = 0;
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_twin(&p->rest, "PATCH", wid, NULL, json, NULL, &req, why, sizeof why);
    free(json);
    if (e != HS_EOK) {
        live_note(p, "twin.desired.rejected.transport", why);
        fleet_port_twin_patched(p->fleet, (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, why });
        return;
    }
    live_svc_track(p, OP_TWIN, req, NULL, 0);
}

void live_svc_registry(void *port, const char *device_id, unsigned op)
{
    struct live_port *p = port;
    char buf[300], why[400];
    const char *wid = live_wire_id(p, device_id, buf, sizeof buf);
    tr_http_req_t *req = NULL;
    hs_err_t e;
    if (op == FLEET_REG_DELETE) {
        e = tr_rest_identity_delete(&p->rest, wid, NULL, "*", &req, why, sizeof why);
    } else {
        /* the key the run registered (or the list's) stays the device's key */
        const char *key = "";
        bool iot_edge = false;
        for (size_t i = 0; i < p->nidents; i++)
            if (!p->idents[i].module && strcmp(p->idents[i].wid, wid) == 0) {
                key = p->idents[i].key;
                iot_edge = p->idents[i].iot_edge;
            }
        json_t *doc = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}}}", "deviceId", wid, "status",
                                op == FLEET_REG_DISABLE ? "disabled" : "enabled", "authentication", "type", "sas",
                                "symmetricKey", "primaryKey", key, "secondaryKey", key);
        if (iot_edge) /* a gateway stays one */
            json_object_set_new(doc, "capabilities", json_pack("{s:b}", "iotEdge", 1));
        char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (!text)
            abort();
        e = tr_rest_identity_put(&p->rest, wid, NULL, text, "*", &req, why, sizeof why);
        free(text);
    }
    if (e != HS_EOK) {
        live_note(p, "registry.failed.transport", why);
        fleet_port_registry_done(p->fleet, op, (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, why });
        return;
    }
    live_svc_track(p, OP_REGISTRY, req, NULL, op);
}

void live_svc_c2d_send(void *port, const char *device_id, hub_msg_t *msg, sim_time_t ttl)
{
    struct live_port *p = port;
    char buf[300];
    p->c2d_out = live_grow(p->c2d_out, &p->capc2d_out, p->nc2d_out + 1, sizeof *p->c2d_out);
    p->c2d_out[p->nc2d_out++] = (live_c2d_out_t){ live_strdup(live_wire_id(p, device_id, buf, sizeof buf)), msg, ttl };
}

/* ---- answers ---------------------------------------------------------------------------- */

static void finish_op(struct live_port *p, live_op_t *op, bool answered)
{
    char why[400];
    fleet_port_result_t r;
    if (answered) {
        r = live_http_result(tr_http_result(op->req), why, sizeof why);
    } else {
        snprintf(why, sizeof why, "no answer within %lld ms", (long long)p->op_ms);
        r = (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, why };
    }
    char counter[96];
    switch (op->kind) {
    case OP_INVOKE: {
        fleet_port_method_result_t m = { r.http_status, r.code, 0 };
        if (r.code == 0) {
            const tr_http_response_t *resp = tr_http_result(op->req);
            json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
            m.device_status = (int)json_integer_value(json_object_get(doc, "status"));
            json_decref(doc);
        } else {
            snprintf(counter, sizeof counter, "method.code.%d", r.code);
            live_note(p, r.code > 0 ? counter : "method.code.transport", why);
        }
        fleet_port_invoked(p->fleet, op->call_ctx, &m);
        break;
    }
    case OP_TWIN:
        if (r.code) {
            snprintf(counter, sizeof counter, "twin.desired.rejected.%d", r.code);
            live_note(p, r.code > 0 ? counter : "twin.desired.rejected.transport", why);
        }
        fleet_port_twin_patched(p->fleet, r);
        break;
    case OP_REGISTRY:
        fleet_port_registry_done(p->fleet, op->op, r);
        break;
    case OP_JOB:
        live_job_finish(p, op, r);
        break;
    case OP_UPLOAD:
        live_upload_finish(p, op, r);
        break;
    default: /* admin requests: fire and forget, outcomes counted */
        fleet_port_count(p->fleet, r.code ? "live.admin.failed" : "live.admin.ok", 1);
        if (r.code) {
            live_note(p, "live.admin.failed", why);
        }
        break;
    }
}

static bool amqp_ready(struct live_port *p, char *why, size_t cap)
{
    if (p->amqp && tr_amqp_svc_is_open(p->amqp))
        return true;
    if (p->amqp_failed)
        return false;
    tr_amqp_svc_free(p->amqp);
    p->amqp = NULL;
    tr_amqp_svc_opts_t o = { .host_name = p->cs.host, .connect_host = p->cs.connect_host, .port = p->cs.amqp_port,
                             .key_name = p->cs.key_name, .key = p->cs.key };
    if (tr_amqp_svc_open(p->loop, p->tls, &o, p->op_ms, &p->amqp, why, cap) != HS_EOK) {
        p->amqp_failed = true; /* once: every later C2D send is counted as failed with this cause */
        live_note(p, "c2d.rejected.transport", why);
        return false;
    }
    return true;
}

static fleet_port_result_t c2d_outcome(const tr_amqp_outcome_t *o, char *why, size_t cap)
{
    if (o->accepted)
        return (fleet_port_result_t){ 0, 200, NULL };
    char name[64] = "";
    const char *semi = strchr(o->description, ';');
    if (strncmp(o->description, "ErrorCode:", 10) == 0 && semi)
        snprintf(name, sizeof name, "%.*s", (int)(semi - o->description - 10), o->description + 10);
    int row = name[0] ? hub_error_by_name(name) : -1;
    snprintf(why, cap, "%s %s", o->condition, o->description);
    if (row < 0)
        return (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, why };
    const hub_error_info_t *info = hub_error_info((hub_err_t)row);
    return (fleet_port_result_t){ info->code, info->http_status, why };
}

static void send_c2d(struct live_port *p, live_c2d_out_t *m)
{
    char why[600];
    fleet_port_result_t r = { FLEET_PORT_TRANSPORT, 0, why };
    snprintf(why, sizeof why, "the service AMQP link is down");
    if (amqp_ready(p, why, sizeof why)) {
        size_t len;
        const void *body = hub_msg_body(m->msg, &len);
        sim_time_t ms = m->ttl / 1000000;
        tr_amqp_c2d_t c = {
            .device_id = m->wid,
            .body = body,
            .body_len = len,
            .message_id = hub_msg_get_sys(m->msg, HUB_SYS_MESSAGE_ID),
            .ack = hub_msg_get_sys(m->msg, HUB_SYS_ACK),
            .ttl_ms = (uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms),
        };
        tr_amqp_outcome_t o;
        if (tr_amqp_svc_c2d_send(p->amqp, &c, p->op_ms, &o, why, sizeof why) == HS_EOK) {
            r = c2d_outcome(&o, why, sizeof why);
        }
    }
    if (r.code) {
        char counter[64];
        snprintf(counter, sizeof counter, "c2d.rejected.%d", r.code);
        live_note(p, r.code > 0 ? counter : "c2d.rejected.transport", why);
    }
    hub_msg_free(m->msg);
    free(m->wid);
    fleet_port_c2d_sent(p->fleet, r);
}

void live_svc_service(struct live_port *p)
{
    int64_t now = tr_now_ms();
    for (size_t i = 0; i < p->nops;) {
        live_op_t *op = &p->ops[i];
        bool done = tr_http_done(op->req);
        if (!done && now < op->deadline_ms) {
            i++;
            continue;
        }
        live_op_t taken = *op;
        p->ops[i] = p->ops[--p->nops]; /* order does not matter: each completes on its own */
        p->wake = true;
        finish_op(p, &taken, done);
        tr_http_free(taken.req);
    }
    /* C2D sends wait for their disposition; they run here, outside the
     * kernel's handlers, and take the queue as it is now */
    size_t n = p->nc2d_out;
    if (!n)
        return;
    live_c2d_out_t *batch = malloc(n * sizeof *batch);
    if (!batch)
        abort();
    memcpy(batch, p->c2d_out, n * sizeof *batch);
    p->nc2d_out = 0;
    for (size_t i = 0; i < n; i++)
        send_c2d(p, &batch[i]);
    free(batch);
    p->wake = true;
}

void live_svc_free(struct live_port *p)
{
    for (size_t i = 0; i < p->nops; i++) {
        if (p->ops[i].kind == OP_JOB)
            live_job_drop(&p->ops[i]);
        else if (p->ops[i].kind == OP_UPLOAD)
            live_upload_drop(&p->ops[i]);
        tr_http_free(p->ops[i].req);
    }
    free(p->ops);
    p->ops = NULL;
    p->nops = 0;
    for (size_t i = 0; i < p->nc2d_out; i++) {
        hub_msg_free(p->c2d_out[i].msg);
        free(p->c2d_out[i].wid);
    }
    free(p->c2d_out);
    p->c2d_out = NULL;
    p->nc2d_out = 0;
    tr_amqp_svc_free(p->amqp);
    p->amqp = NULL;
}
