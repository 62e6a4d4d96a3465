/* Shared by the device-client tests: a served hub on port 0, devices registered over REST, a recorder of every client callback, bounded waits. */
#ifndef TEST_TR_DEVICE_FIXTURE_H
#define TEST_TR_DEVICE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include <jansson.h>

#include "serve_proc.h"
#include "test_util.h"
#include "transports/tr_amqp_service.h"
#include "transports/tr_connstr.h"
#include "transports/tr_device.h"
#include "transports/tr_rest.h"

#define DV_KEY "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define DV_WRONG_KEY "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nd3I="
#define DV_WAIT_MS 10000

typedef struct {
    serve_proc_t sp;
    tr_loop_t *loop;
    tr_tls_t *tls;
    tr_connstr_t cs;
    tr_rest_t rest;
} dv_fix_t;

/* Everything a client told us. */
typedef struct {
    int connected, closed, subscribed, sent_ok, sent_fail, methods, c2ds, settled, desired, reported;
    tr_device_result_t last_connect, last_close, last_sub, last_sent, last_settle, last_report;
    char why[400];
    uint64_t last_tag, report_version, desired_version;
    char method_name[64], method_rid[64], method_payload[256];
    char c2d_mid[64], c2d_body[256], c2d_props[256];
    uint64_t c2d_lock;
    char desired_json[512];
    tr_device_t *dev;
    unsigned max_429_seen;
} dv_rec_t;

static inline void dv_keep(dv_rec_t *r, tr_device_result_t *slot, tr_device_result_t x)
{
    snprintf(r->why, sizeof r->why, "%s", x.why);
    *slot = x;
    slot->why = r->why;
    if (x.code >= 429000 && x.code < 430000)
        r->max_429_seen++;
}

static inline void dv_on_connected(void *ctx, tr_device_result_t x)
{
    dv_rec_t *r = ctx;
    r->connected++;
    dv_keep(r, &r->last_connect, x);
}

static inline void dv_on_closed(void *ctx, tr_device_result_t x)
{
    dv_rec_t *r = ctx;
    r->closed++;
    dv_keep(r, &r->last_close, x);
}

static inline void dv_on_subscribed(void *ctx, unsigned subs, tr_device_result_t x)
{
    (void)subs;
    dv_rec_t *r = ctx;
    r->subscribed++;
    dv_keep(r, &r->last_sub, x);
}

static inline void dv_on_sent(void *ctx, uint64_t tag, tr_device_result_t x)
{
    dv_rec_t *r = ctx;
    if (x.code == 0)
        r->sent_ok++;
    else
        r->sent_fail++;
    r->last_tag = tag;
    dv_keep(r, &r->last_sent, x);
}

static inline void dv_copy(char *dst, size_t cap, const void *p, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, p, n);
    dst[n] = '\0';
}

static inline void dv_on_method(void *ctx, const char *name, const char *rid, const void *payload, size_t len)
{
    dv_rec_t *r = ctx;
    r->methods++;
    snprintf(r->method_name, sizeof r->method_name, "%s", name);
    snprintf(r->method_rid, sizeof r->method_rid, "%s", rid);
    dv_copy(r->method_payload, sizeof r->method_payload, payload, len);
}

static inline void dv_on_c2d(void *ctx, const tr_device_c2d_t *m)
{
    dv_rec_t *r = ctx;
    r->c2ds++;
    snprintf(r->c2d_mid, sizeof r->c2d_mid, "%s", m->message_id ? m->message_id : "");
    dv_copy(r->c2d_body, sizeof r->c2d_body, m->body, m->body_len);
    r->c2d_props[0] = '\0';
    for (size_t i = 0; i < m->n_app; i++) {
        size_t l = strlen(r->c2d_props);
        snprintf(r->c2d_props + l, sizeof r->c2d_props - l, "%s=%s;", m->app[i].name, m->app[i].value);
    }
    r->c2d_lock = m->lock;
}

static inline void dv_on_settled(void *ctx, uint64_t lock, tr_device_result_t x)
{
    (void)lock;
    dv_rec_t *r = ctx;
    r->settled++;
    dv_keep(r, &r->last_settle, x);
}

static inline void dv_on_desired(void *ctx, uint64_t version, const char *json, size_t len)
{
    dv_rec_t *r = ctx;
    r->desired++;
    r->desired_version = version;
    dv_copy(r->desired_json, sizeof r->desired_json, json, len);
}

static inline void dv_on_reported(void *ctx, uint64_t tag, uint64_t version, tr_device_result_t x)
{
    dv_rec_t *r = ctx;
    r->reported++;
    r->last_tag = tag;
    r->report_version = version;
    dv_keep(r, &r->last_report, x);
}

static const tr_device_cb_t dv_cb = { dv_on_connected, dv_on_closed, dv_on_subscribed, dv_on_sent, dv_on_method,
                                      dv_on_c2d, dv_on_settled, dv_on_desired, dv_on_reported };

/* ---- waits ---------------------------------------------------------------- */

typedef struct {
    const int *counter;
    int want;
} dv_wait_t;

static inline bool dv_reached(void *arg)
{
    const dv_wait_t *w = arg;
    return *w->counter >= w->want;
}

/* Pump until *counter >= want (bounded by DV_WAIT_MS). */
static inline bool dv_wait(dv_fix_t *f, const int *counter, int want)
{
    dv_wait_t w = { counter, want };
    return tr_loop_wait(f->loop, dv_reached, &w, DV_WAIT_MS);
}

static inline bool dv_http_done(void *arg)
{
    return tr_http_done(arg);
}

static inline const tr_http_response_t *dv_http_wait(dv_fix_t *f, tr_http_req_t *req)
{
    assert_non_null(req);
    assert_true(tr_loop_wait(f->loop, dv_http_done, req, DV_WAIT_MS));
    return tr_http_result(req);
}

/* ---- hub ------------------------------------------------------------------ */

static inline void dv_register(dv_fix_t *f, const char *id)
{
    char body[600], why[400];
    snprintf(body, sizeof body,
             "{\"deviceId\":\"%.128s\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":"
             "{\"primaryKey\":\"%s\",\"secondaryKey\":\"%s\"}}}", id, DV_KEY, DV_KEY);
    tr_http_req_t *req = NULL;
    assert_int_equal(tr_rest_identity_put(&f->rest, id, NULL, body, NULL, &req, why, sizeof why), HS_EOK);
    const tr_http_response_t *resp = dv_http_wait(f, req);
    if (resp->status != 200)
        fprintf(stderr, "register %s: %d %s %s\n", id, resp->status, resp->body ? resp->body : "", resp->why);
    assert_int_equal(resp->status, 200);
    tr_http_free(req);
}

static inline int dv_fix_setup(void **state, const char *const *extra)
{
    dv_fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    int rc = sp_start(&f->sp, extra);
    if (rc != 0)
        fprintf(stderr, "serve did not get ready:\n%s\n", f->sp.output ? f->sp.output : "(no output)");
    assert_int_equal(rc, 0);
    char cs[1500], why[400];
    snprintf(cs, sizeof cs, "%s;MqttPort=%d;HttpsPort=%d;AmqpPort=%d;AdminPort=%d;CaFile=%s/fixtures/certs/ca.pem",
             f->sp.service_cs, f->sp.mqtt, f->sp.https, f->sp.amqp, f->sp.admin, tu_source_dir());
    assert_int_equal(tr_connstr_parse(cs, &f->cs, why, sizeof why), HS_EOK);
    f->loop = tr_loop_new();
    assert_non_null(f->loop);
    tr_tls_opts_t to = { f->cs.ca_file, NULL, NULL };
    assert_int_equal(tr_tls_new(&to, &f->tls, why, sizeof why), HS_EOK);
    tr_rest_init(&f->rest, &f->cs, f->loop, f->tls);
    *state = f;
    return 0;
}

/* The same with a hub config file (JSON text) written to the build dir as `name`. */
static inline int dv_fix_setup_config(void **state, const char *name, const char *json)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", tu_build_dir(), name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(json, fp);
    fclose(fp);
    const char *const extra[] = { "--config", path, NULL };
    return dv_fix_setup(state, extra);
}

static inline int dv_fix_teardown(void **state)
{
    dv_fix_t *f = *state;
    sp_stop(&f->sp);
    sp_free(&f->sp);
    tr_tls_free(f->tls);
    tr_loop_free(f->loop);
    free(f);
    return 0;
}

static inline void dv_opts(dv_fix_t *f, tr_device_protocol_t proto, const char *id, const char *key, tr_device_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->protocol = proto;
    o->host = f->cs.host;
    o->dial_host = f->cs.connect_host;
    o->port = proto == TR_DEV_MQTT ? f->cs.mqtt_port : proto == TR_DEV_AMQP ? f->cs.amqp_port : f->cs.https_port;
    o->tls = f->tls;
    o->device_id = id;
    o->sas_key = key;
    o->timeout_ms = DV_WAIT_MS;
    o->c2d_poll_ms = 100;
}

/* Opens `id` with `key` and waits for the connected callback. */
static inline tr_device_t *dv_open(dv_fix_t *f, tr_device_protocol_t proto, const char *id, const char *key, dv_rec_t *r)
{
    tr_device_opts_t o;
    dv_opts(f, proto, id, key, &o);
    memset(r, 0, sizeof *r);
    char why[400];
    tr_device_t *d = NULL;
    hs_err_t e = tr_device_open(f->loop, &o, &dv_cb, r, &d, why, sizeof why);
    if (e != HS_EOK)
        fprintf(stderr, "tr_device_open: %s\n", why);
    assert_int_equal(e, HS_EOK);
    r->dev = d;
    assert_true(dv_wait(f, &r->connected, 1));
    if (r->last_connect.code != 0 && strcmp(key, DV_KEY) == 0)
        fprintf(stderr, "connect %s: %d %s\n", id, r->last_connect.code, r->last_connect.why);
    return d;
}

/* ---- admin reads ---------------------------------------------------------- */

/* The routed message with messageId `mid` from the events endpoint (caller decrefs), or NULL. */
static inline json_t *dv_routed(dv_fix_t *f, const char *mid)
{
    char *resp = NULL;
    int st = sp_http(f->sp.admin, false, "GET", "/endpoints/events/messages?from=0", NULL, NULL, &resp);
    assert_int_equal(st, 200);
    json_t *root = json_loads(sp_body(resp), 0, NULL);
    free(resp);
    assert_non_null(root);
    json_t *msgs = json_object_get(root, "messages"), *v, *found = NULL;
    size_t i;
    json_array_foreach(msgs, i, v) {
        json_t *sys = json_object_get(v, "systemProperties");
        const char *m = json_string_value(json_object_get(sys, "message-id"));
        if (!m)
            m = json_string_value(json_object_get(sys, "messageId"));
        if (m && !strcmp(m, mid)) {
            found = json_incref(v);
            break;
        }
    }
    json_decref(root);
    return found;
}

static inline void dv_admin_post(dv_fix_t *f, const char *path, const char *body)
{
    assert_int_equal(sp_http(f->sp.admin, false, "POST", path, NULL, body, NULL), 200);
}

/* Invokes `method` on `id` over REST; returns the pending request. */
static inline tr_http_req_t *dv_invoke(dv_fix_t *f, const char *id, const char *method, const char *payload)
{
    char body[300], why[400];
    int n = snprintf(body, sizeof body, "{\"methodName\":\"%s\",\"payload\":%s,\"responseTimeoutInSeconds\":10}", method,
                     payload);
    tr_http_req_t *req = NULL;
    assert_int_equal(tr_rest_method_invoke(&f->rest, id, NULL, body, (size_t)n, &req, why, sizeof why), HS_EOK);
    return req;
}

/* Sends a C2D message to `id` through the service AMQP client (which pumps the same loop). */
static inline void dv_c2d_send(dv_fix_t *f, const char *id, const char *mid, const char *body)
{
    tr_amqp_svc_opts_t so = { f->cs.host, f->cs.connect_host, f->cs.amqp_port, f->cs.key_name, f->cs.key };
    tr_amqp_svc_t *svc = NULL;
    char why[600];
    hs_err_t e = tr_amqp_svc_open(f->loop, f->tls, &so, DV_WAIT_MS, &svc, why, sizeof why);
    if (e != HS_EOK)
        fprintf(stderr, "service AMQP: %s\n", why);
    assert_int_equal(e, HS_EOK);
    tr_amqp_c2d_t m = { .device_id = id, .body = body, .body_len = strlen(body), .message_id = mid };
    m.app[0] = (tr_amqp_prop_t){ "color", "blue" };
    m.n_app = 1;
    tr_amqp_outcome_t out;
    hs_err_t se = tr_amqp_svc_c2d_send(svc, &m, DV_WAIT_MS, &out, why, sizeof why);
    tr_amqp_svc_free(svc);
    if (se != HS_EOK || !out.accepted)
        fprintf(stderr, "C2D to %s: %s %s %s\n", id, se != HS_EOK ? why : "", out.condition, out.description);
    assert_int_equal(se, HS_EOK);
    assert_true(out.accepted);
}

/* PATCHes the desired properties of `id` through the service REST API. */
static inline void dv_patch_desired(dv_fix_t *f, const char *id, const char *desired_json)
{
    char doc[400], why[400];
    snprintf(doc, sizeof doc, "{\"properties\":{\"desired\":%s}}", desired_json);
    tr_http_req_t *req = NULL;
    assert_int_equal(tr_rest_twin(&f->rest, "PATCH", id, NULL, doc, NULL, &req, why, sizeof why), HS_EOK);
    const tr_http_response_t *resp = dv_http_wait(f, req);
    assert_int_equal(resp->status, 200);
    tr_http_free(req);
}

/* Closes and frees a client, pumping once so its goodbye is flushed. */
static inline void dv_close(dv_fix_t *f, tr_device_t *d)
{
    tr_device_close(d);
    tr_loop_wait(f->loop, NULL, NULL, 20);
    tr_device_free(d);
}

/* Heap bytes in use in this process (glibc; 0 under ASan, whose allocator does not report). */
static inline size_t dv_heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* N clients of `proto` on one loop: all connect, each sends one message,
 * all acknowledged; prints the mean footprint and the measured heap per
 * idle connected client. */
static inline void dv_case_many(dv_fix_t *f, tr_device_protocol_t proto, const char *prefix, int n)
{
    dv_rec_t *recs = calloc((size_t)n, sizeof *recs);
    tr_device_t **devs = calloc((size_t)n, sizeof *devs);
    char (*ids)[32] = calloc((size_t)n, sizeof *ids);
    assert_true(recs && devs && ids);
    int connected = 0, sent = 0;
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "%s-%03d", prefix, i);
        dv_register(f, ids[i]);
    }
    tr_loop_wait(f->loop, NULL, NULL, 50);
    size_t heap0 = dv_heap_in_use();
    for (int i = 0; i < n; i++) {
        tr_device_opts_t o;
        dv_opts(f, proto, ids[i], DV_KEY, &o);
        char why[300];
        assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, &recs[i], &devs[i], why, sizeof why), HS_EOK);
    }
    int64_t end = tr_now_ms() + 60000;
    while (connected < n && tr_now_ms() < end) {
        tr_loop_wait(f->loop, NULL, NULL, 20);
        connected = 0;
        for (int i = 0; i < n; i++)
            connected += recs[i].connected && recs[i].last_connect.code == 0;
    }
    assert_int_equal(connected, n);
    tr_loop_wait(f->loop, NULL, NULL, 100); /* settle: handshakes done, buffers released */
    size_t heap1 = dv_heap_in_use();
    size_t foot = 0;
    for (int i = 0; i < n; i++)
        foot += tr_device_footprint(devs[i]);
    for (int i = 0; i < n; i++) {
        tr_device_msg_t m = { .body = ids[i], .body_len = strlen(ids[i]), .message_id = ids[i] };
        assert_int_equal(tr_device_send(devs[i], &m, (uint64_t)i), HS_EOK);
    }
    while (sent < n && tr_now_ms() < end) {
        tr_loop_wait(f->loop, NULL, NULL, 20);
        sent = 0;
        for (int i = 0; i < n; i++)
            sent += recs[i].sent_ok;
    }
    assert_int_equal(sent, n);
    print_message("%d %s clients on one loop: mean tr_device_footprint %zu bytes, measured heap %zu bytes per client%s\n",
                  n, proto == TR_DEV_MQTT ? "MQTT" : proto == TR_DEV_AMQP ? "AMQP" : "HTTPS", foot / (size_t)n,
                  heap1 > heap0 ? (heap1 - heap0) / (size_t)n : 0, heap0 ? "" : " (not measurable under ASan)");
    if (heap0 && heap1 > heap0) { /* the estimate stays honest: within [0.6, 1.5] of the measured heap */
        size_t mean = foot / (size_t)n, measured = (heap1 - heap0) / (size_t)n;
        assert_true(mean * 10 >= measured * 6 && mean * 10 <= measured * 15);
    }
    for (int i = 0; i < n; i++)
        tr_device_close(devs[i]);
    tr_loop_wait(f->loop, NULL, NULL, 50);
    for (int i = 0; i < n; i++)
        tr_device_free(devs[i]);
    free(recs);
    free(devs);
    free(ids);
}

/* ---- cases every protocol runs -------------------------------------------- */

/* A good key connects; a wrong key ends in connected() with 401002. */
static inline void dv_case_connect(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    dv_rec_t r, bad;
    tr_device_t *d = dv_open(f, proto, id, DV_KEY, &r);
    assert_int_equal(r.last_connect.code, 0);
    assert_true(tr_device_is_open(d));
    assert_true(tr_device_footprint(d) > 0);
    tr_device_t *b = dv_open(f, proto, id, DV_WRONG_KEY, &bad);
    if (bad.last_connect.code != 401002)
        fprintf(stderr, "wrong key: code %d status %d: %s\n", bad.last_connect.code, bad.last_connect.status,
                bad.last_connect.why);
    assert_int_equal(bad.last_connect.code, 401002);
    assert_int_equal(bad.last_connect.status, 401);
    assert_false(tr_device_is_open(b));
    assert_int_equal(tr_device_send(b, &(tr_device_msg_t){ .body = "x", .body_len = 1 }, 1), HS_ESTATE);
    tr_loop_wait(f->loop, NULL, NULL, 50);
    assert_int_equal(bad.closed, 0); /* never up: no closed() */
    tr_device_free(b);
    dv_close(f, d);
}

/* Telemetry with system and application properties is acknowledged and routed with them. */
static inline void dv_case_telemetry(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    dv_rec_t r;
    tr_device_t *d = dv_open(f, proto, id, DV_KEY, &r);
    char mid[80];
    snprintf(mid, sizeof mid, "mid-%s", id);
    /* the hub refuses spaces and other characters in HTTPS property headers */
    const char *note = proto == TR_DEV_HTTPS ? "a_b-c.d" : "a b&c=d/é";
    const tr_device_prop_t app[] = { { "temp", "21.5" }, { "note", note } };
    tr_device_msg_t m = { .body = "{\"t\":21.5}", .body_len = 10, .message_id = mid, .correlation_id = "cid-1",
                          .content_type = "application/json", .content_encoding = "utf-8", .app = app, .n_app = 2 };
    assert_int_equal(tr_device_send(d, &m, 42), HS_EOK);
    assert_int_equal(r.sent_ok, 0); /* never inside the call */
    dv_wait(f, &r.sent_ok, 1);
    if (r.sent_ok != 1)
        fprintf(stderr, "telemetry: %d ok, %d failed: %d %s\n", r.sent_ok, r.sent_fail, r.last_sent.code, r.last_sent.why);
    assert_int_equal(r.sent_ok, 1);
    assert_int_equal(r.last_tag, 42);
    json_t *msg = dv_routed(f, mid);
    assert_non_null(msg);
    json_t *sys = json_object_get(msg, "systemProperties"), *ap = json_object_get(msg, "appProperties");
    assert_string_equal(json_string_value(json_object_get(sys, "correlationId")), "cid-1");
    assert_string_equal(json_string_value(json_object_get(sys, "contentType")), "application/json");
    assert_string_equal(json_string_value(json_object_get(sys, "contentEncoding")), "utf-8");
    assert_string_equal(json_string_value(json_object_get(sys, "connectionDeviceId")), id);
    assert_string_equal(json_string_value(json_object_get(ap, "temp")), "21.5");
    assert_string_equal(json_string_value(json_object_get(ap, "note")), note);
    assert_string_equal(json_string_value(json_object_get(msg, "body")), "{\"t\":21.5}");
    json_decref(msg);
    dv_close(f, d);
}

/* A direct method from the service REST API is answered by the device callback. */
static inline void dv_case_method(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    dv_rec_t r;
    tr_device_t *d = dv_open(f, proto, id, DV_KEY, &r);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_METHODS), HS_EOK);
    assert_true(dv_wait(f, &r.subscribed, 1));
    assert_int_equal(r.last_sub.code, 0);
    tr_http_req_t *req = dv_invoke(f, id, "reboot", "{\"delay\":3}");
    assert_true(dv_wait(f, &r.methods, 1));
    assert_string_equal(r.method_name, "reboot");
    assert_string_equal(r.method_payload, "{\"delay\":3}");
    static const char answer[] = "{\"rebooting\":true}";
    assert_int_equal(tr_device_method_respond(d, r.method_rid, 201, answer, strlen(answer)), HS_EOK);
    const tr_http_response_t *resp = dv_http_wait(f, req);
    assert_int_equal(resp->status, 200);
    assert_non_null(strstr(resp->body, "\"status\":201"));
    assert_non_null(strstr(resp->body, "rebooting"));
    tr_http_free(req);
    dv_close(f, d);
}

/* A C2D message from the service arrives with its properties and is settled `how`. */
static inline void dv_case_c2d(dv_fix_t *f, tr_device_protocol_t proto, const char *id, tr_settle_t how)
{
    dv_register(f, id);
    dv_rec_t r;
    tr_device_t *d = dv_open(f, proto, id, DV_KEY, &r);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_C2D), HS_EOK);
    assert_true(dv_wait(f, &r.subscribed, 1));
    assert_int_equal(r.last_sub.code, 0);
    dv_c2d_send(f, id, "c2d-1", "hello device");
    assert_true(dv_wait(f, &r.c2ds, 1));
    assert_string_equal(r.c2d_mid, "c2d-1");
    assert_string_equal(r.c2d_body, "hello device");
    assert_non_null(strstr(r.c2d_props, "color=blue;"));
    assert_int_equal(tr_device_settle(d, r.c2d_lock, how), HS_EOK);
    assert_true(dv_wait(f, &r.settled, 1));
    assert_int_equal(r.last_settle.code, 0);
    dv_close(f, d);
}

/* A desired patch is pushed; a reported patch is acknowledged with a version. */
static inline void dv_case_twin(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    dv_rec_t r;
    tr_device_t *d = dv_open(f, proto, id, DV_KEY, &r);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_DESIRED), HS_EOK);
    assert_true(dv_wait(f, &r.subscribed, 1));
    assert_int_equal(r.last_sub.code, 0);
    dv_patch_desired(f, id, "{\"fan\":\"on\"}");
    assert_true(dv_wait(f, &r.desired, 1));
    assert_true(r.desired_version >= 1);
    assert_non_null(strstr(r.desired_json, "\"fan\""));
    static const char rep[] = "{\"fan\":\"on\",\"rpm\":1200}";
    assert_int_equal(tr_device_report(d, rep, strlen(rep), 7), HS_EOK);
    assert_true(dv_wait(f, &r.reported, 1));
    if (r.last_report.code)
        fprintf(stderr, "report: %s\n", r.last_report.why);
    assert_int_equal(r.last_report.code, 0);
    assert_int_equal(r.last_tag, 7);
    assert_true(r.report_version >= 1);
    assert_int_equal(tr_device_report(d, rep, strlen(rep), 8), HS_EOK);
    assert_true(dv_wait(f, &r.reported, 2));
    assert_int_equal(r.last_report.code, 0);
    dv_close(f, d);
}

/* The hub drops the device (admin API): closed() comes, the client is no longer open. */
static inline void dv_case_drop(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    dv_rec_t r;
    tr_device_t *d = dv_open(f, proto, id, DV_KEY, &r);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_C2D), HS_EOK);
    assert_true(dv_wait(f, &r.subscribed, 1));
    char path[200];
    snprintf(path, sizeof path, "/devices/%s/drop", id);
    dv_admin_post(f, path, "{\"reason\":\"test drop\"}");
    assert_true(dv_wait(f, &r.closed, 1));
    /* MQTT: -1 (the socket just closes); AMQP: the detach condition's code (500001 amqp:internal-error) */
    assert_int_equal(r.last_close.code, proto == TR_DEV_AMQP ? 500001 : -1);
    assert_non_null(strstr(r.last_close.why, proto == TR_DEV_AMQP ? "test drop" : "closed"));
    assert_false(tr_device_is_open(d));
    assert_int_equal(r.closed, 1);
    tr_device_free(d);
}

/* A throttled hub (S1, 1 unit) answers reported patches 429: of 60 patches
 * some come back 429, the last with code 429001 / status 429. */
static inline void dv_case_report_throttled(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    dv_rec_t r;
    tr_device_t *d = dv_open(f, proto, id, DV_KEY, &r);
    dv_admin_post(f, "/faults/throttle", "{\"profile\":\"S1\",\"units\":1}");
    static const char rep[] = "{\"n\":1}";
    enum { N = 60 };
    for (int i = 0; i < N; i++)
        assert_int_equal(tr_device_report(d, rep, strlen(rep), (uint64_t)i), HS_EOK);
    assert_true(dv_wait(f, &r.reported, N));
    dv_admin_post(f, "/faults/throttle", "{\"profile\":\"off\"}");
    assert_true(r.max_429_seen > 0);
    assert_int_equal(r.last_report.code, 429001);
    assert_int_equal(r.last_report.status, 429);
    dv_close(f, d);
}

/* A hub admitting one connection per second: of n clients opened at once,
 * the refused ones end in connected() with 429001 / 429. */
static inline void dv_case_connect_throttled(dv_fix_t *f, tr_device_protocol_t proto, const char *prefix)
{
    enum { N = 5 };
    dv_rec_t recs[N];
    tr_device_t *devs[N];
    char ids[N][32];
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "%s-%d", prefix, i);
        dv_register(f, ids[i]);
    }
    for (int i = 0; i < N; i++) {
        tr_device_opts_t o;
        dv_opts(f, proto, ids[i], DV_KEY, &o);
        char why[300];
        assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, &recs[i], &devs[i], why, sizeof why), HS_EOK);
    }
    int done = 0, ok = 0, throttled = 0;
    int64_t end = tr_now_ms() + DV_WAIT_MS;
    while (done < N && tr_now_ms() < end) {
        tr_loop_wait(f->loop, NULL, NULL, 20);
        done = 0;
        for (int i = 0; i < N; i++)
            done += recs[i].connected;
    }
    assert_int_equal(done, N);
    for (int i = 0; i < N; i++) {
        ok += recs[i].last_connect.code == 0;
        if (recs[i].last_connect.code == 429001 && recs[i].last_connect.status == 429)
            throttled++;
        else if (recs[i].last_connect.code != 0)
            fprintf(stderr, "%s: %d %s\n", ids[i], recs[i].last_connect.code, recs[i].last_connect.why);
    }
    assert_true(ok >= 1);
    assert_true(throttled >= 1);
    assert_int_equal(ok + throttled, N);
    for (int i = 0; i < N; i++)
        tr_device_free(devs[i]);
}

/* A module identity: its own token scope and topics/links; telemetry is routed
 * with the module id, a module method is answered, reported patches work. */
static inline void dv_case_module(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    char body[600], why[400];
    snprintf(body, sizeof body,
             "{\"deviceId\":\"%.128s\",\"moduleId\":\"m1\",\"authentication\":{\"type\":\"sas\","
             "\"symmetricKey\":{\"primaryKey\":\"%s\",\"secondaryKey\":\"%s\"}}}", id, DV_KEY, DV_KEY);
    tr_http_req_t *req = NULL;
    assert_int_equal(tr_rest_identity_put(&f->rest, id, "m1", body, NULL, &req, why, sizeof why), HS_EOK);
    assert_int_equal(dv_http_wait(f, req)->status, 200);
    tr_http_free(req);
    tr_device_opts_t o;
    dv_opts(f, proto, id, DV_KEY, &o);
    o.module_id = "m1";
    dv_rec_t r;
    memset(&r, 0, sizeof r);
    tr_device_t *d = NULL;
    assert_int_equal(tr_device_open(f->loop, &o, &dv_cb, &r, &d, why, sizeof why), HS_EOK);
    assert_true(dv_wait(f, &r.connected, 1));
    if (r.last_connect.code)
        fprintf(stderr, "module connect: %s\n", r.last_connect.why);
    assert_int_equal(r.last_connect.code, 0);
    char mid[80];
    snprintf(mid, sizeof mid, "mod-%s", id);
    tr_device_msg_t m = { .body = "m", .body_len = 1, .message_id = mid };
    assert_int_equal(tr_device_send(d, &m, 3), HS_EOK);
    assert_true(dv_wait(f, &r.sent_ok, 1));
    json_t *msg = dv_routed(f, mid);
    assert_non_null(msg);
    assert_string_equal(json_string_value(json_object_get(json_object_get(msg, "systemProperties"), "connectionModuleId")), "m1");
    json_decref(msg);
    if (proto != TR_DEV_HTTPS) {
        assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_METHODS), HS_EOK);
        assert_true(dv_wait(f, &r.subscribed, 1));
        assert_int_equal(r.last_sub.code, 0);
        char mbody[200];
        int n = snprintf(mbody, sizeof mbody, "{\"methodName\":\"mm\",\"payload\":1,\"responseTimeoutInSeconds\":10}");
        assert_int_equal(tr_rest_method_invoke(&f->rest, id, "m1", mbody, (size_t)n, &req, why, sizeof why), HS_EOK);
        assert_true(dv_wait(f, &r.methods, 1));
        assert_string_equal(r.method_name, "mm");
        assert_int_equal(tr_device_method_respond(d, r.method_rid, 200, "2", 1), HS_EOK);
        assert_int_equal(dv_http_wait(f, req)->status, 200);
        tr_http_free(req);
        assert_int_equal(tr_device_report(d, "{\"a\":1}", 7, 9), HS_EOK);
        assert_true(dv_wait(f, &r.reported, 1));
        assert_int_equal(r.last_report.code, 0);
    }
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_C2D), HS_EUNSUPPORTED); /* modules have no C2D queue */
    dv_close(f, d);
}

/* A client freed from inside its own callback with free_later. */
static inline void dv_free_later_cb(void *ctx, tr_device_result_t x)
{
    dv_rec_t *r = ctx;
    dv_on_connected(ctx, x);
    tr_device_free_later(r->dev);
}

static inline void dv_case_free_later(dv_fix_t *f, tr_device_protocol_t proto, const char *id)
{
    dv_register(f, id);
    tr_device_opts_t o;
    dv_opts(f, proto, id, DV_KEY, &o);
    dv_rec_t r;
    memset(&r, 0, sizeof r);
    tr_device_cb_t cb = dv_cb;
    cb.connected = dv_free_later_cb;
    char why[300];
    assert_int_equal(tr_device_open(f->loop, &o, &cb, &r, &r.dev, why, sizeof why), HS_EOK);
    assert_true(dv_wait(f, &r.connected, 1));
    tr_loop_wait(f->loop, NULL, NULL, 50); /* the free happens here (ASan checks it) */
    assert_int_equal(r.closed, 0);
}

#endif
