/* The live conformance target: open/close against a reachable hub, wall-clock time, service side over REST, hubsim's admin API for endpoints and the ledger. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "conformance/target_support.h"
#include "conformance/target_live_internal.h"
#include "sim/hub/auth.h"
#include "sim/hub/hub_errors.h"

/*
 * One target = one event loop, one TLS context and the identities this
 * case created (prefixed with a run-specific prefix, deleted at close).
 * The hub is shared by every case of the run, so nothing about it is
 * assumed beyond what its connection string says.
 *
 * The seam's operations are synchronous; the hub's answers are not.  Each
 * service operation that sets off something on the device side waits
 * (bounded) for it to arrive, the way the in-process target sees it at once:
 * a method invocation until the request reaches a device or the call
 * answers, a desired patch until subscribed connections heard it, a method
 * response until the service call completes.
 */

/* ---- lifecycle ------------------------------------------------------------- */

static void live_close(conform_target_t *t);

static hs_err_t probe_service(conform_target_t *t, char *why, size_t cap)
{
    tr_http_req_t *req = NULL;
    char w[800];
    hs_err_t e = tr_rest_start(&t->rest, "GET", "/statistics/devices", NULL, NULL, NULL, 0, NULL, 0, &req, w, sizeof w);
    target_status_t st;
    if (!live_call(t, e, req, w, &st)) {
        snprintf(why, cap, "the hub's HTTPS endpoint %s:%d is not usable: %s", t->cs.connect_host, t->cs.https_port,
                 st.detail);
        tr_http_free(req);
        return HS_EIO;
    }
    tr_http_free(req);
    if (st.http == 401) {
        snprintf(why, cap, "the hub refused the service credentials (SharedAccessKeyName=%s): 401 %s: %s",
                 t->cs.key_name, st.name, st.detail);
        return HS_EIO;
    }
    if (st.http != 200) {
        snprintf(why, cap, "GET /statistics/devices answered %d %s: %s", st.http, st.name, st.detail);
        return HS_EIO;
    }
    return HS_EOK;
}

static hs_err_t probe_admin(conform_target_t *t, char *why, size_t cap)
{
    tr_http_req_t *req = NULL;
    char w[800];
    tr_http_request_t rq = { .method = "GET", .path = "/health" };
    hs_err_t e = tr_http_call(&t->admin, &rq, LIVE_OP_MS, &req, w, sizeof w);
    if (e != HS_EOK) {
        snprintf(why, cap, "the admin API at %s:%d is not reachable: %s", t->cs.connect_host, t->cs.admin_port, w);
        return HS_EIO;
    }
    int status = tr_http_result(req)->status;
    tr_http_free(req);
    if (status != 200) {
        snprintf(why, cap, "the admin API at %s:%d answered GET /health with %d", t->cs.connect_host,
                 t->cs.admin_port, status);
        return HS_EIO;
    }
    return HS_EOK;
}

static hs_err_t open_common(const char *address, bool admin, conform_target_t **out, char *why, size_t cap)
{
    *out = NULL;
    conform_target_t *t = calloc(1, sizeof *t);
    if (!t)
        return HS_ENOMEM;
    t->t0_ms = tr_now_ms();
    hs_err_t e = tr_connstr_parse(address, &t->cs, why, cap);
    if (e != HS_EOK) {
        free(t);
        return e;
    }
    unsigned char rnd[3];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        snprintf(why, cap, "no random bytes for the run prefix");
        free(t);
        return HS_EIO;
    }
    snprintf(t->prefix, sizeof t->prefix, "hs%02x%02x%02x-", rnd[0], rnd[1], rnd[2]);
    tr_tls_opts_t to = { .ca_file = t->cs.ca_file };
    if (!(t->loop = tr_loop_new())) {
        free(t);
        return HS_ENOMEM;
    }
    if ((e = tr_tls_new(&to, &t->tls, why, cap)) != HS_EOK) {
        live_close(t);
        return HS_EIO;
    }
    tr_rest_init(&t->rest, &t->cs, t->loop, t->tls);
    t->admin = (tr_http_target_t){ .loop = t->loop, .tls = NULL, .host = t->cs.connect_host,
                                   .port = t->cs.admin_port, .tls_name = NULL };
    if ((e = probe_service(t, why, cap)) != HS_EOK) {
        live_close(t);
        return e;
    }
    if (admin) {
        if (!t->cs.admin_port) {
            snprintf(why, cap, "endpoint observation needs hubsim serve's admin API: AdminPort= is not in the address");
            live_close(t);
            return HS_EUNSUPPORTED;
        }
        if ((e = probe_admin(t, why, cap)) != HS_EOK) {
            live_close(t);
            return e;
        }
        t->has_admin = true;
    }
    live_notes_begin(t);
    *out = t;
    return HS_EOK;
}

static hs_err_t live_open(const char *address, const target_options_t *o, conform_target_t **out, char *why,
                          size_t cap)
{
    (void)o; /* wall time: no seed or epoch to honour */
    return open_common(address, false, out, why, cap);
}

static hs_err_t live_open_admin(const char *address, const target_options_t *o, conform_target_t **out,
                                char *why, size_t cap)
{
    (void)o;
    return open_common(address, true, out, why, cap);
}

static void delete_identities(conform_target_t *t)
{
    /* devices first: a device's delete takes its modules along */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->n_ids; i++) {
            live_ident_t *id = &t->ids[i];
            if ((pass == 0) != (id->mod == NULL))
                continue;
            char wdev[300], why[800];
            live_target_wire_id(t, id->dev, wdev, sizeof wdev);
            tr_http_req_t *req = NULL;
            target_status_t st;
            hs_err_t e = tr_rest_identity_delete(&t->rest, wdev, id->mod, "*", &req, why, sizeof why);
            live_call(t, e, req, why, &st);
            tr_http_free(req);
        }
}

static void live_close(conform_target_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_conns; i++) {
        t->conns[i]->closed_by_us = true;
        if (t->conns[i]->m)
            tr_mqtt_disconnect(t->conns[i]->m);
    }
    if (t->loop && t->tls)
        delete_identities(t);
    for (size_t i = 0; i < t->n_conns; i++)
        live_conn_free(t->conns[i]);
    free(t->conns);
    for (size_t i = 0; i < t->n_calls; i++) {
        tr_http_free(t->calls[i]->req);
        free(t->calls[i]->payload);
        free(t->calls[i]);
    }
    free(t->calls);
    for (size_t i = 0; i < t->n_ids; i++) {
        free(t->ids[i].dev);
        free(t->ids[i].mod);
        free(t->ids[i].keys[0]);
        free(t->ids[i].keys[1]);
    }
    free(t->ids);
    for (size_t i = 0; i < t->n_rx; i++)
        target_rx_owned_free(&t->rx[i]);
    free(t->rx);
    target_rx_owned_free(&t->rx_last);
    tr_amqp_svc_free(t->amqp);
    free(t->fb);
    tr_tls_free(t->tls);
    tr_loop_free(t->loop);
    free(t);
}

/* ---- control ------------------------------------------------------------- */

static sim_time_t live_now_op(conform_target_t *t)
{
    return live_now(t);
}

static int64_t live_unix_now(conform_target_t *t)
{
    (void)t;
    return (int64_t)time(NULL);
}

static void live_advance(conform_target_t *t, sim_time_t d)
{
    int64_t asked = (int64_t)(d / 1000000), t0 = tr_now_ms();
    live_wait(t, NULL, NULL, asked);
    live_note_wait(t, asked, tr_now_ms() - t0);
}

static const char *live_host(conform_target_t *t)
{
    return t->cs.host;
}

json_t *live_admin_get(conform_target_t *t, const char *path, char *why, size_t cap)
{
    tr_http_req_t *req = NULL;
    tr_http_request_t rq = { .method = "GET", .path = path };
    char w[800];
    if (tr_http_call(&t->admin, &rq, LIVE_OP_MS, &req, w, sizeof w) != HS_EOK) {
        snprintf(why, cap, "admin API: %s", w);
        return NULL;
    }
    const tr_http_response_t *r = tr_http_result(req);
    json_t *doc = r->status == 200 ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    if (!doc)
        snprintf(why, cap, "admin API: GET %s answered %d", path, r->status);
    tr_http_free(req);
    return doc;
}

static hs_err_t live_check(conform_target_t *t, char *why, size_t cap)
{
    json_t *doc = live_admin_get(t, "/check", why, cap);
    if (!doc)
        return HS_EIO;
    bool ok = json_is_true(json_object_get(doc, "balanced"));
    if (!ok)
        snprintf(why, cap, "%s", json_string_value(json_object_get(doc, "detail")) ?: "unbalanced");
    json_decref(doc);
    return ok ? HS_EOK : HS_EINVAL;
}

/* ---- service side: credentials and registry --------------------------------- */

/* A request the token's rights decide without side effects: a read, or a
 * write/twin on an id that does not exist (404 when allowed, 401 when not). */
static void live_service_authorize(conform_target_t *t, const char *token, unsigned rights, target_status_t *st)
{
    char probe[64], why[800];
    snprintf(probe, sizeof probe, "%sauthorize-probe", t->prefix);
    target_status_ok(st);
    for (unsigned bit = 1; bit <= TARGET_RIGHT_DEVICE_CONNECT; bit <<= 1) {
        if (!(rights & bit))
            continue;
        tr_http_req_t *req = NULL;
        hs_err_t e;
        char path[200];
        tr_header_t star = { "If-Match", "\"*\"" };
        switch (bit) {
        case TARGET_RIGHT_REGISTRY_READ:
            e = tr_rest_start(&t->rest, "GET", "/statistics/devices", NULL, token, NULL, 0, NULL, 0, &req, why, sizeof why);
            break;
        case TARGET_RIGHT_REGISTRY_WRITE:
            snprintf(path, sizeof path, "/devices/%s", probe);
            e = tr_rest_start(&t->rest, "DELETE", path, NULL, token, &star, 1, NULL, 0, &req, why, sizeof why);
            break;
        case TARGET_RIGHT_SERVICE_CONNECT:
            snprintf(path, sizeof path, "/twins/%s", probe);
            e = tr_rest_start(&t->rest, "GET", path, NULL, token, NULL, 0, NULL, 0, &req, why, sizeof why);
            break;
        default:
            snprintf(path, sizeof path, "/devices/%s/messages/deviceBound", probe);
            e = tr_rest_start(&t->rest, "GET", path, NULL, token, NULL, 0, NULL, 0, &req, why, sizeof why);
            break;
        }
        target_status_t one;
        bool answered = live_call(t, e, req, why, &one);
        tr_http_free(req);
        if (!answered) {
            *st = one;
            return;
        }
        if (one.http == 401) {
            *st = one;
            return;
        }
    }
}

static void identity_json(conform_target_t *t, const target_identity_spec_t *s, char *wdev, size_t cap, char **out)
{
    live_target_wire_id(t, s->device_id, wdev, cap);
    json_t *auth;
    if (s->x509)
        auth = json_pack("{s:s,s:{s:s?,s:s?}}", "type", "selfSigned", "x509Thumbprint", "primaryThumbprint",
                         s->primary_thumbprint, "secondaryThumbprint", s->secondary_thumbprint);
    else
        auth = json_pack("{s:s,s:{s:s,s:s}}", "type", "sas", "symmetricKey", "primaryKey",
                         s->primary_key ? s->primary_key : "", "secondaryKey", s->secondary_key ? s->secondary_key : "");
    json_t *doc = json_pack("{s:s,s:s,s:o}", "deviceId", wdev, "status", s->disabled ? "disabled" : "enabled",
                            "authentication", auth);
    if (s->module_id && *s->module_id) {
        json_object_del(doc, "status");
        json_object_set_new(doc, "moduleId", json_string(s->module_id));
    }
    *out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!*out)
        abort();
}

static void ident_answer(conform_target_t *t, tr_http_req_t *req, const char *dev, const char *mod,
                         target_identity_info_t *out, target_status_t *st)
{
    const tr_http_response_t *r = tr_http_result(req);
    json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
    if (out) {
        memset(out, 0, sizeof *out);
        snprintf(out->etag, sizeof out->etag, "%s", json_string_value(json_object_get(doc, "etag")) ?: "");
        snprintf(out->generation_id, sizeof out->generation_id, "%s",
                 json_string_value(json_object_get(doc, "generationId")) ?: "");
        const char *status = json_string_value(json_object_get(doc, "status"));
        out->enabled = !status || strcmp(status, "enabled") == 0;
    }
    if (!doc)
        target_status_set(st, 0, 0, "BadAnswer", "the registry answer is not JSON");
    else if (t)
        live_ident_remember(t, dev, mod, doc);
    json_decref(doc);
}

static void identity_put(conform_target_t *t, const target_identity_spec_t *s, const char *if_match,
                         target_identity_info_t *out, target_status_t *st)
{
    char wdev[300], why[800], *body;
    if (!if_match && t->n_created >= TARGET_LIVE_MAX_IDENTITIES_PER_CASE) {
        snprintf(why, sizeof why, "a case registers at most %d identities on a live hub (the bound hubsim conform "
                 "states before provisioning)", TARGET_LIVE_MAX_IDENTITIES_PER_CASE);
        target_status_set(st, 0, 0, "LiveLimit", why);
        return;
    }
    identity_json(t, s, wdev, sizeof wdev, &body);
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_identity_put(&t->rest, wdev, s->module_id, body, if_match, &req, why, sizeof why);
    free(body);
    if (live_call(t, e, req, why, st) && st->http == 200) {
        t->n_created += !if_match;
        ident_answer(t, req, s->device_id, s->module_id, out, st);
    }
    tr_http_free(req);
}

static void live_identity_create(conform_target_t *t, const target_identity_spec_t *s, target_identity_info_t *out,
                                 target_status_t *st)
{
    identity_put(t, s, NULL, out, st);
}

static void live_identity_update(conform_target_t *t, const target_identity_spec_t *s, const char *if_match,
                                 target_identity_info_t *out, target_status_t *st)
{
    /* no If-Match over REST means create; the seam's NULL means unconditional */
    identity_put(t, s, if_match ? if_match : "*", out, st);
}

static void live_identity_get(conform_target_t *t, const char *dev, const char *mod, target_identity_info_t *out,
                              target_status_t *st)
{
    char wdev[300], why[800];
    live_target_wire_id(t, dev, wdev, sizeof wdev);
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_identity_get(&t->rest, wdev, mod, &req, why, sizeof why);
    if (live_call(t, e, req, why, st) && st->http == 200)
        ident_answer(NULL, req, dev, mod, out, st);
    tr_http_free(req);
}

static void live_identity_delete(conform_target_t *t, const char *dev, const char *mod, const char *if_match,
                                 target_status_t *st)
{
    char wdev[300], why[800];
    live_target_wire_id(t, dev, wdev, sizeof wdev);
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_identity_delete(&t->rest, wdev, mod, if_match, &req, why, sizeof why);
    if (live_call(t, e, req, why, st) && st->http == 200)
        live_ident_forget(t, dev, mod);
    tr_http_free(req);
}

/* ---- service side: methods, C2D, twins, endpoints ------------------------------ */

static void call_finish(live_call_t *c)
{
    if (c->done || !c->req || !tr_http_done(c->req))
        return;
    c->done = true;
    const tr_http_response_t *r = tr_http_result(c->req);
    if (r->failed) {
        c->r.http = 0;
        snprintf(c->r.name, sizeof c->r.name, "TransportError");
        return;
    }
    c->r.http = r->status;
    if (r->status == 200) {
        snprintf(c->r.name, sizeof c->r.name, "OK");
        json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
        c->r.device_status = (int)json_integer_value(json_object_get(doc, "status"));
        json_t *p = json_object_get(doc, "payload");
        if (p) {
            c->payload = json_dumps(p, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
            c->r.payload = c->payload;
            c->r.payload_len = c->payload ? strlen(c->payload) : 0;
        }
        json_decref(doc);
    } else {
        char detail[200];
        tr_rest_error(r, &c->r.code, c->r.name, sizeof c->r.name, detail, sizeof detail);
    }
}

typedef struct {
    conform_target_t *t;
    live_call_t *call;
    uint64_t heard;
} invoke_wait_t;

static bool invoke_settled(void *arg)
{
    invoke_wait_t *w = arg;
    return tr_http_done(w->call->req) || live_methods_heard(w->t) > w->heard;
}

static void live_method_invoke(conform_target_t *t, const char *dev, const char *mod, const char *body, size_t len,
                               target_call_t *call, target_status_t *st)
{
    live_call_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    t->calls = realloc(t->calls, (t->n_calls + 1) * sizeof *t->calls);
    if (!t->calls)
        abort();
    t->calls[t->n_calls++] = c;
    *call = (target_call_t)t->n_calls;
    char wdev[300], why[800];
    live_target_wire_id(t, dev, wdev, sizeof wdev);
    hs_err_t e = tr_rest_method_invoke(&t->rest, wdev, mod, body, len, &c->req, why, sizeof why);
    if (e != HS_EOK) {
        c->done = true;
        snprintf(c->r.name, sizeof c->r.name, "TransportError");
        live_status_transport(st, why);
        return;
    }
    invoke_wait_t w = { t, c, live_methods_heard(t) };
    live_wait(t, invoke_settled, &w, LIVE_SETTLE_MS);
    call_finish(c);
    if (c->done && c->r.http != 200) {
        if (c->r.http == 0)
            live_status_transport(st, tr_http_result(c->req)->why);
        else
            target_status_set(st, c->r.http, c->r.code, c->r.name, "");
        live_note_status(t, st);
        c->r.completed_at = live_now(t);
        return;
    }
    target_status_ok(st);
}

static bool live_method_result(conform_target_t *t, target_call_t call, target_method_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (call == 0 || call > t->n_calls)
        return false;
    live_call_t *c = t->calls[call - 1];
    if (!c->done) {
        live_wait(t, NULL, NULL, 0);
        call_finish(c);
        if (c->done) {
            c->r.completed_at = live_now(t);
            target_status_t st;
            target_status_set(&st, c->r.http, c->r.code, c->r.name, "method call");
            live_note_status(t, &st);
        }
    }
    if (!c->done)
        return false;
    *out = c->r;
    return true;
}

/* The service AMQP connection, opened at first use with the feedback
 * receiver attached, so every batch the hub emits after the case's first
 * C2D operation is heard (feedback_next filters other runs' records). */
static bool amqp_ready(conform_target_t *t, target_status_t *st)
{
    if (t->amqp && tr_amqp_svc_is_open(t->amqp))
        return true;
    tr_amqp_svc_free(t->amqp);
    t->amqp = NULL;
    tr_amqp_svc_opts_t o = { .host_name = t->cs.host, .connect_host = t->cs.connect_host, .port = t->cs.amqp_port,
                             .key_name = t->cs.key_name, .key = t->cs.key };
    char why[800];
    hs_err_t e = tr_amqp_svc_open(t->loop, t->tls, &o, LIVE_OP_MS, &t->amqp, why, sizeof why);
    if (e == HS_EOK)
        e = tr_amqp_svc_feedback_attach(t->amqp, 50, LIVE_OP_MS, why, sizeof why);
    if (e != HS_EOK) {
        tr_amqp_svc_free(t->amqp);
        t->amqp = NULL;
        if (st)
            live_status_transport(st, why);
        return false;
    }
    return true;
}

/* System properties a service C2D message can carry over AMQP. */
static bool c2d_sys(tr_amqp_c2d_t *c, const char *name, const char *value)
{
    static const struct {
        const char *name;
        size_t off;
    } map[] = {
        { "messageId", offsetof(tr_amqp_c2d_t, message_id) },
        { "correlationId", offsetof(tr_amqp_c2d_t, correlation_id) },
        { "userId", offsetof(tr_amqp_c2d_t, user_id) },
        { "contentType", offsetof(tr_amqp_c2d_t, content_type) },
        { "contentEncoding", offsetof(tr_amqp_c2d_t, content_encoding) },
        { "ack", offsetof(tr_amqp_c2d_t, ack) },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0) {
            *(const char **)(void *)((char *)c + map[i].off) = value;
            return true;
        }
    return false;
}

static void live_c2d_send(conform_target_t *t, const char *dev, const target_msg_t *m, sim_time_t ttl,
                          target_status_t *st)
{
    char wdev[300], why[800];
    live_target_wire_id(t, dev, wdev, sizeof wdev);
    tr_amqp_c2d_t c = { .device_id = wdev, .body = m->body, .body_len = m->body_len,
                        .ttl_ms = (uint32_t)(ttl / 1000000 > UINT32_MAX ? UINT32_MAX : ttl / 1000000) };
    for (size_t i = 0; i < m->n_sys; i++)
        if (!c2d_sys(&c, m->sys[i].name, m->sys[i].value)) {
            /* as in-process: an unknown system property name is refused, not guessed */
            target_status_set(st, 400, 400004, "ArgumentInvalid", "unknown system property");
            return;
        }
    for (size_t i = 0; i < m->n_app && i < TR_AMQP_MAX_APP; i++)
        c.app[c.n_app++] = (tr_amqp_prop_t){ m->app[i].name, m->app[i].value };
    if (!amqp_ready(t, st))
        return;
    tr_amqp_outcome_t o;
    if (tr_amqp_svc_c2d_send(t->amqp, &c, LIVE_OP_MS, &o, why, sizeof why) != HS_EOK) {
        live_status_transport(st, why);
        return;
    }
    if (o.accepted) {
        target_status_ok(st);
        return;
    }
    /* rejected: the description is "ErrorCode:<Name>;<text>", the name decides status and code */
    char name[48] = "";
    const char *text = o.description;
    const char *semi = strchr(o.description, ';');
    if (strncmp(o.description, "ErrorCode:", 10) == 0 && semi) {
        snprintf(name, sizeof name, "%.*s", (int)(semi - o.description - 10), o.description + 10);
        text = semi + 1;
    }
    int row = name[0] ? hub_error_by_name(name) : -1;
    if (row < 0) {
        target_status_set(st, 0, 0, o.condition[0] ? o.condition : "Rejected", o.description);
        return;
    }
    const hub_error_info_t *info = hub_error_info((hub_err_t)row);
    target_status_set(st, info->http_status, info->code, info->name, text);
    live_note_status(t, st);
}

static bool live_feedback_next(conform_target_t *t, target_feedback_t *out)
{
    memset(out, 0, sizeof *out);
    free(t->fb);
    t->fb = NULL;
    if (!amqp_ready(t, NULL))
        return false;
    size_t plen = strlen(t->prefix);
    int64_t deadline = tr_now_ms() + LIVE_FEEDBACK_MS;
    for (;;) {
        int64_t left = deadline - tr_now_ms();
        char *body = NULL;
        size_t len = 0;
        if (!tr_amqp_svc_feedback_next(t->amqp, left > 0 ? left : 0, &body, &len))
            return false;
        json_t *doc = json_loadb(body, len, 0, NULL);
        free(body);
        size_t n = json_array_size(doc), k = 0;
        t->fb = calloc(n + 1, sizeof *t->fb);
        if (!t->fb)
            abort();
        size_t i;
        json_t *r;
        json_array_foreach(doc, i, r)
        {
            const char *d = json_string_value(json_object_get(r, "deviceId"));
            if (!d || strncmp(d, t->prefix, plen) != 0)
                continue; /* another case's device (the hub's feedback queue is shared) */
            target_fb_record_t *f = &t->fb[k++];
            snprintf(f->device_id, sizeof f->device_id, "%s", live_case_id(t, d));
            snprintf(f->original_message_id, sizeof f->original_message_id, "%s",
                     json_string_value(json_object_get(r, "originalMessageId")) ?: "");
            snprintf(f->status, sizeof f->status, "%s", json_string_value(json_object_get(r, "statusCode")) ?: "");
        }
        json_decref(doc);
        if (k) {
            out->records = t->fb;
            out->count = k;
            out->at = live_now(t);
            return true;
        }
        free(t->fb);
        t->fb = NULL;
    }
}

static void unmap_twin(conform_target_t *t, json_t *doc)
{
    const char *d = json_string_value(json_object_get(doc, "deviceId"));
    if (d)
        json_object_set_new(doc, "deviceId", json_string(live_case_id(t, d)));
}

static void live_twin_get(conform_target_t *t, const char *dev, const char *mod, json_t **out, target_status_t *st)
{
    *out = NULL;
    char wdev[300], why[800];
    live_target_wire_id(t, dev, wdev, sizeof wdev);
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_twin(&t->rest, "GET", wdev, mod, NULL, NULL, &req, why, sizeof why);
    if (live_call(t, e, req, why, st) && st->http == 200) {
        const tr_http_response_t *r = tr_http_result(req);
        *out = json_loadb(r->body, r->body_len, 0, NULL);
        if (*out)
            unmap_twin(t, *out);
        else
            target_status_set(st, 0, 0, "BadAnswer", "the twin answer is not JSON");
    }
    tr_http_free(req);
}

typedef struct {
    conform_target_t *t;
    const char *dev;
    uint64_t heard;
} desired_wait_t;

static bool desired_arrived(void *arg)
{
    desired_wait_t *w = arg;
    return live_desired_heard(w->t, w->dev) > w->heard;
}

static bool desired_listeners(conform_target_t *t, const char *dev, const char *mod)
{
    for (size_t i = 0; i < t->n_conns; i++) {
        live_conn_t *c = t->conns[i];
        if (strcmp(c->dev, dev) == 0 && strcmp(c->mod ? c->mod : "", mod ? mod : "") == 0 &&
            (c->subs & TARGET_SUB_DESIRED) && c->m && tr_mqtt_is_open(c->m))
            return true;
    }
    return false;
}

static void twin_write(conform_target_t *t, const char *method, const char *dev, const char *mod, const char *doc,
                       const char *if_match, char *etag_out, target_status_t *st)
{
    char wdev[300], why[800];
    if (etag_out)
        etag_out[0] = '\0';
    live_target_wire_id(t, dev, wdev, sizeof wdev);
    desired_wait_t w = { t, dev, live_desired_heard(t, dev) };
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_twin(&t->rest, method, wdev, mod, doc, if_match, &req, why, sizeof why);
    if (live_call(t, e, req, why, st) && st->http == 200) {
        const tr_http_response_t *r = tr_http_result(req);
        json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
        if (etag_out)
            snprintf(etag_out, 64, "%s", json_string_value(json_object_get(j, "etag")) ?: "");
        json_decref(j);
        if (strstr(doc, "\"desired\"") && desired_listeners(t, dev, mod))
            live_wait(t, desired_arrived, &w, LIVE_SETTLE_MS);
    }
    tr_http_free(req);
}

static void live_twin_patch(conform_target_t *t, const char *dev, const char *mod, const char *patch,
                            const char *if_match, char *etag_out, target_status_t *st)
{
    twin_write(t, "PATCH", dev, mod, patch, if_match, etag_out, st);
}

static void live_twin_put(conform_target_t *t, const char *dev, const char *mod, const char *doc,
                          const char *if_match, char *etag_out, target_status_t *st)
{
    twin_write(t, "PUT", dev, mod, doc, if_match, etag_out, st);
}

static target_prop_t *props_of(json_t *o, size_t *n, conform_target_t *t, bool sys)
{
    *n = 0;
    target_prop_t *p = calloc(json_object_size(o) + 1, sizeof *p);
    if (!p)
        abort();
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        if (sys && strcmp(k, "connectionDeviceId") == 0)
            s = live_case_id(t, s);
        p[*n].name = live_dup(k);
        p[(*n)++].value = live_dup(s);
    }
    return p;
}

/* Fetch what the endpoint log holds past the cursor, keeping this target's devices' messages. */
static void fetch_endpoint(conform_target_t *t, const char *name)
{
    char path[300], why[400];
    for (int page = 0; page < 50; page++) {
        snprintf(path, sizeof path, "/endpoints/%s/messages?from=%llu", name, (unsigned long long)t->ep_from);
        json_t *doc = live_admin_get(t, path, why, sizeof why);
        if (!doc)
            return;
        json_t *msgs = json_object_get(doc, "messages");
        size_t i;
        json_t *m;
        json_array_foreach(msgs, i, m)
        {
            json_t *sys = json_object_get(m, "systemProperties");
            const char *cd = json_string_value(json_object_get(sys, "connectionDeviceId"));
            if (!cd || strncmp(cd, t->prefix, strlen(t->prefix)) != 0)
                continue; /* another run's or another case's device */
            t->rx = realloc(t->rx, (t->n_rx + 1) * sizeof *t->rx);
            if (!t->rx)
                abort();
            live_rx_t *r = &t->rx[t->n_rx++];
            memset(r, 0, sizeof *r);
            r->endpoint = live_dup(name);
            const char *body = json_string_value(json_object_get(m, "body"));
            const char *b64 = json_string_value(json_object_get(m, "bodyBase64"));
            if (body) {
                r->body = live_dup_n(body, json_string_length(json_object_get(m, "body")));
                r->body_len = json_string_length(json_object_get(m, "body"));
            } else if (b64) {
                size_t cap = strlen(b64) + 4, len = 0;
                r->body = malloc(cap);
                if (!r->body)
                    abort();
                if (hub_b64_decode(b64, (unsigned char *)r->body, cap, &len) != HS_EOK)
                    len = 0;
                r->body[len] = '\0';
                r->body_len = len;
            } else {
                r->body = live_dup("");
            }
            r->sys = props_of(sys, &r->n_sys, t, true);
            r->app = props_of(json_object_get(m, "appProperties"), &r->n_app, t, false);
        }
        size_t count = json_array_size(msgs);
        json_int_t next = json_integer_value(json_object_get(doc, "next"));
        json_decref(doc);
        if (next > 0)
            t->ep_from = (uint64_t)next;
        if (count == 0)
            return;
    }
}

static bool live_endpoint_next(conform_target_t *t, const char *endpoint, target_rx_msg_t *out)
{
    target_rx_owned_free(&t->rx_last);
    memset(out, 0, sizeof *out);
    if (!t->has_admin)
        return false;
    const char *name = endpoint ? endpoint : "events";
    if (strcmp(name, "events") != 0)
        return false; /* routes cannot be configured on a live hub: only the built-in endpoint exists */
    live_wait(t, NULL, NULL, 0);
    fetch_endpoint(t, name);
    if (!t->n_rx)
        return false;
    target_rx_pop(t->rx, &t->n_rx, 0, &t->rx_last, out);
    return true;
}

/* ---- the tables ---------------------------------------------------------------------- */

#define LIVE_COMMON_OPS                                                                                  \
    .close = live_close, .now = live_now_op, .unix_now = live_unix_now, .advance = live_advance,         \
    .host = live_host, .service_authorize = live_service_authorize,                                       \
    .identity_create = live_identity_create, .identity_update = live_identity_update,                     \
    .identity_get = live_identity_get, .identity_delete = live_identity_delete,                           \
    .method_invoke = live_method_invoke, .method_result = live_method_result, .c2d_send = live_c2d_send,  \
    .feedback_next = live_feedback_next, .twin_get = live_twin_get, .twin_patch = live_twin_patch,        \
    .twin_put = live_twin_put, .endpoint_next = live_endpoint_next,                                       \
    .device_connect = live_device_connect, .device_disconnect = live_device_disconnect,                   \
    .device_connected = live_device_connected, .device_subscribe = live_device_subscribe,                 \
    .device_send = live_device_send, .device_next_event = live_device_next_event,                         \
    .device_method_respond = live_device_method_respond, .device_c2d_receive = live_device_c2d_receive,   \
    .device_c2d_settle = live_device_c2d_settle, .device_twin_get = live_device_twin_get,                 \
    .device_twin_patch_reported = live_device_twin_patch_reported, .case_notes = live_case_notes

const target_ops_t target_live = {
    .name = "live",
    .caps = 0, /* wall time, no hub-side control, knobs unknown */
    .open = live_open,
    LIVE_COMMON_OPS,
};

const target_ops_t target_live_admin = {
    .name = "live",
    .caps = TARGET_CAP_ENDPOINTS | TARGET_CAP_CHECK, /* hubsim serve's admin API */
    .open = live_open_admin,
    .check = live_check,
    LIVE_COMMON_OPS,
};

const target_ops_t *target_live_for_address(const char *address)
{
    tr_connstr_t cs;
    char why[200];
    if (address && tr_connstr_parse(address, &cs, why, sizeof why) == HS_EOK && cs.admin_port)
        return &target_live_admin;
    return &target_live;
}
