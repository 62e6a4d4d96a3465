/* Every break switch changes what the hub does: one probe battery, run clean and with each switch armed, must differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

/*
 * The battery touches every rule at its boundary (values from the spec
 * sentences: 5/300 s, 0/300 s, 128 KB, 256 KB, 64 KB, 50 messages, 128-char
 * ids, se, ...) and records each outcome as a token.  A switch that leaves
 * the whole signature unchanged is dead code: this test fails on it.  (The
 * conformance kill matrix asks the stronger question — that a case of the
 * switch's own rule fails — this one guards the model's side.)
 */

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define EPOCH 1767225600LL
#define HOST "hubsim.azure-devices.net"
#define THUMB "0123456789ABCDEF0123456789ABCDEF01234567"

typedef struct {
    char *s;
    size_t len, cap;
    bool with_trace; /* also record each kernel's trace hash (determinism test) */
} sig_t;

static void put(sig_t *g, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (g->len + (size_t)n + 2 > g->cap) {
        g->cap = (g->cap + (size_t)n + 2) * 2;
        g->s = realloc(g->s, g->cap);
    }
    memcpy(g->s + g->len, buf, (size_t)n);
    g->len += (size_t)n;
    g->s[g->len++] = ';';
    g->s[g->len] = '\0';
}

static int code(hub_err_t e)
{
    return hub_error_info(e)->code;
}

typedef struct {
    int requests;
    char rid[64];
    int disconnects;
    int desired;
} sink_t;

static void s_method(void *ctx, hub_conn_t c, const char *n, const char *rid, const char *p, size_t l)
{
    (void)c;
    (void)n;
    (void)p;
    (void)l;
    sink_t *s = ctx;
    s->requests++;
    snprintf(s->rid, sizeof s->rid, "%s", rid);
}
static void s_disc(void *ctx, hub_conn_t c, hub_err_t e, const char *r)
{
    (void)c;
    (void)e;
    (void)r;
    ((sink_t *)ctx)->disconnects++;
}
static void s_desired(void *ctx, hub_conn_t c, uint64_t v, const char *j, size_t l)
{
    (void)c;
    (void)v;
    (void)j;
    (void)l;
    ((sink_t *)ctx)->desired++;
}
static const hub_sink_ops_t ops = { .method_request = s_method, .disconnected = s_disc,
                                    .desired_patch = s_desired };

typedef struct {
    int calls;
    int http;
    int code;
    int dev_status;
} res_t;

static void on_res(void *ctx, const hub_method_result_t *r)
{
    res_t *x = ctx;
    x->calls++;
    x->http = r->http_status;
    x->code = hub_error_info(r->error)->code;
    x->dev_status = r->device_status;
}

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    uint32_t h_act;
    int act;
    hub_conn_t *act_conn;
    sink_t *act_sink;
} env_t;

static hub_err_t connect(env_t *e, const char *dev, const char *mod, int64_t se, const char *key,
                         hub_protocol_t proto, sink_t *s, hub_conn_t *c)
{
    char res[256], tok[512];
    if (mod)
        snprintf(res, sizeof res, HOST "/devices/%s/modules/%s", dev, mod);
    else
        snprintf(res, sizeof res, HOST "/devices/%s", dev);
    hub_sas_make(key, res, se, NULL, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = dev, .module_id = mod, .sas_token = tok, .protocol = proto };
    hub_conn_t dummy;
    return hub_device_connect(e->hub, &p, &ops, s, c ? c : &dummy);
}

/* Kernel-scheduled device action: connect dev2 and subscribe to methods. */
static void on_act(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    env_t *e = ctx;
    if (connect(e, "dev2", NULL, EPOCH + 86400, KEY, HUB_PROTO_MQTT, e->act_sink, e->act_conn) == HUB_EOK)
        hub_device_subscribe(e->hub, *e->act_conn, HUB_SUB_METHODS);
}

static void env_open(env_t *e, const char *brk, bool s1)
{
    memset(e, 0, sizeof *e);
    e->k = sim_kernel_new(11, EPOCH);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    if (s1)
        cfg.throttling.profile = HUB_THROTTLE_S1;
    assert_int_equal(hub_new(e->k, &cfg, &e->hub, NULL, 0), HS_EOK);
    hub_config_free(&cfg);
    if (brk)
        assert_int_equal(hub_break(e->hub, brk), HS_EOK);
    e->h_act = sim_kernel_register(e->k, on_act, e);
}

static void env_close(env_t *e, sig_t *g)
{
    sim_kernel_run_until(e->k, sim_kernel_now(e->k) + 1000 * SIM_SEC);
    char why[256];
    put(g, "check:%d", hub_check(e->hub, why, sizeof why));
    if (g->with_trace)
        put(g, "trace:%016llx/%llu", (unsigned long long)sim_trace_hash(sim_kernel_trace(e->k)),
            (unsigned long long)sim_trace_count(sim_kernel_trace(e->k)));
    hub_free(e->hub);
    sim_kernel_free(e->k);
}

static char *json_str(size_t n)
{
    char *p = malloc(n + 1);
    p[0] = '"';
    memset(p + 1, 'x', n - 2);
    p[n - 1] = '"';
    p[n] = '\0';
    return p;
}

static hub_msg_t *msg_of(size_t n)
{
    hub_msg_t *m = hub_msg_new();
    char *b = calloc(1, n + 1);
    memset(b, 'b', n);
    hub_msg_set_body(m, b, n);
    free(b);
    return m;
}

static void battery_methods(const char *brk, sig_t *g)
{
    env_t e;
    env_open(&e, brk, false);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_spec_t d2 = { .device_id = "dev2", .primary_key = KEY };
    hub_identity_spec_t m1 = { .device_id = "dev1", .module_id = "mod1", .primary_key = KEY };
    hub_identity_create(e.hub, &d1, NULL);
    hub_identity_create(e.hub, &d2, NULL);
    hub_identity_create(e.hub, &m1, NULL);
    sink_t s = { 0 }, ms = { 0 }, s2 = { 0 };
    hub_conn_t c = 0, mc = 0, c2 = 0;
    hub_method_call_t call = { .device_id = "nosuch", .method_name = "m", .payload = "1", .payload_len = 1 };
    res_t r = { 0 };
    put(g, "unknown:%d", code(hub_method_invoke(e.hub, &call, on_res, &r, NULL)));
    call.device_id = "dev1";
    put(g, "offline:%d", code(hub_method_invoke(e.hub, &call, on_res, &r, NULL)));
    connect(&e, "dev1", NULL, EPOCH + 86400, KEY, HUB_PROTO_MQTT, &s, &c);
    put(g, "unsub:%d", code(hub_method_invoke(e.hub, &call, on_res, &r, NULL)));
    hub_device_subscribe(e.hub, c, HUB_SUB_METHODS);
    /* timeouts */
    static const int64_t rts[] = { 4, 5, 300, 301 };
    for (size_t i = 0; i < 4; i++) {
        hub_method_call_t t = call;
        t.has_response_timeout = true;
        t.response_timeout_s = rts[i];
        res_t rr = { 0 };
        hub_err_t er = hub_method_invoke(e.hub, &t, on_res, &rr, NULL);
        if (er == HUB_EOK)
            hub_device_method_respond(e.hub, c, s.rid, 200, "1", 1);
        put(g, "rt%lld:%d", (long long)rts[i], code(er));
    }
    hub_method_call_t ct = call;
    ct.has_connect_timeout = true;
    ct.connect_timeout_s = 301;
    put(g, "ct301:%d", code(hub_method_invoke(e.hub, &ct, on_res, &r, NULL)));
    /* payload 128 KB exact */
    char *exact = json_str(131072), *over = json_str(131073);
    hub_method_call_t p = call;
    p.payload = exact;
    p.payload_len = 131072;
    hub_err_t pe = hub_method_invoke(e.hub, &p, on_res, &r, NULL);
    if (pe == HUB_EOK)
        hub_device_method_respond(e.hub, c, s.rid, 200, "1", 1);
    put(g, "p128k:%d", code(pe));
    p.payload = over;
    p.payload_len = 131073;
    pe = hub_method_invoke(e.hub, &p, on_res, &r, NULL);
    if (pe == HUB_EOK)
        hub_device_method_respond(e.hub, c, s.rid, 200, "1", 1);
    put(g, "p128k+1:%d", code(pe));
    free(exact);
    free(over);
    /* names */
    hub_method_call_t nm = call;
    nm.method_name = "a$b";
    pe = hub_method_invoke(e.hub, &nm, on_res, &r, NULL);
    if (pe == HUB_EOK)
        hub_device_method_respond(e.hub, c, s.rid, 200, "1", 1);
    put(g, "name$:%d", code(pe));
    char n101[102];
    memset(n101, 'a', 101);
    n101[101] = '\0';
    nm.method_name = n101;
    pe = hub_method_invoke(e.hub, &nm, on_res, &r, NULL);
    if (pe == HUB_EOK)
        hub_device_method_respond(e.hub, c, s.rid, 200, "1", 1);
    put(g, "name101:%d", code(pe));
    /* status passthrough and the rid format */
    res_t ok = { 0 };
    hub_method_invoke(e.hub, &call, on_res, &ok, NULL);
    put(g, "rid-hex:%d", (int)(strspn(s.rid, "0123456789abcdef") == strlen(s.rid)));
    hub_device_method_respond(e.hub, c, s.rid, 201, "1", 1);
    put(g, "pass:%d/%d/%d", ok.calls, ok.http, ok.dev_status);
    /* concurrency */
    res_t a = { 0 }, b = { 0 };
    hub_err_t ea = hub_method_invoke(e.hub, &call, on_res, &a, NULL);
    char rid_a[64];
    snprintf(rid_a, sizeof rid_a, "%s", s.rid);
    hub_err_t eb = hub_method_invoke(e.hub, &call, on_res, &b, NULL);
    put(g, "conc:%d/%d", code(ea), code(eb));
    if (eb == HUB_EOK)
        hub_device_method_respond(e.hub, c, s.rid, 200, "1", 1);
    hub_device_method_respond(e.hub, c, rid_a, 200, "1", 1);
    /* module */
    connect(&e, "dev1", "mod1", EPOCH + 86400, KEY, HUB_PROTO_MQTT, &ms, &mc);
    hub_device_subscribe(e.hub, mc, HUB_SUB_METHODS);
    hub_method_call_t mcall = call;
    mcall.module_id = "mod1";
    pe = hub_method_invoke(e.hub, &mcall, on_res, &r, NULL);
    if (pe == HUB_EOK)
        hub_device_method_respond(e.hub, mc, ms.rid, 200, "1", 1);
    put(g, "module:%d/%d", code(pe), ms.requests);
    /* 504 at 5 s + 1 ms, then a late response */
    hub_method_call_t t5 = call;
    t5.has_response_timeout = true;
    t5.response_timeout_s = 5;
    res_t late = { 0 };
    hub_method_invoke(e.hub, &t5, on_res, &late, NULL);
    sim_kernel_run_until(e.k, sim_kernel_now(e.k) + 5 * SIM_SEC + SIM_MS);
    put(g, "504:%d/%d", late.calls, late.code);
    hub_device_method_respond(e.hub, c, s.rid, 200, "1", 1);
    put(g, "late:%d/%llu", late.calls, (unsigned long long)hub_counter(e.hub, "method.late_response"));
    hub_device_method_respond(e.hub, c, "abc", 200, "1", 1);
    put(g, "unknown-rid:%d", (int)hub_device_is_connected(e.hub, c));
    /* default timeout 30 s: response at 30 s + 1 ms */
    res_t dflt = { 0 };
    hub_method_invoke(e.hub, &call, on_res, &dflt, NULL);
    sim_kernel_run_until(e.k, sim_kernel_now(e.k) + 30 * SIM_SEC + SIM_MS);
    put(g, "default30:%d/%d", dflt.calls, dflt.code);
    /* connect window 10 s: dev2 comes online at 10 s + 1 ms */
    res_t win = { 0 };
    hub_method_call_t w = call;
    w.device_id = "dev2";
    w.has_connect_timeout = true;
    w.connect_timeout_s = 10;
    hub_method_invoke(e.hub, &w, on_res, &win, NULL);
    e.act_conn = &c2;
    e.act_sink = &s2;
    sim_kernel_after(e.k, 10 * SIM_SEC + SIM_MS, SIM_PRIO_DEVICE, e.h_act, 0, NULL);
    sim_kernel_run_until(e.k, sim_kernel_now(e.k) + 10 * SIM_SEC + SIM_MS);
    if (s2.requests)
        hub_device_method_respond(e.hub, c2, s2.rid, 200, "1", 1);
    put(g, "window:%d/%d", win.calls, win.code);
    hub_device_disconnect(e.hub, c2);
    /* connect window 10 s: online at 5 s */
    res_t win2 = { 0 };
    hub_method_invoke(e.hub, &w, on_res, &win2, NULL);
    sim_kernel_after(e.k, 5 * SIM_SEC, SIM_PRIO_DEVICE, e.h_act, 0, NULL);
    sim_kernel_run_until(e.k, sim_kernel_now(e.k) + 5 * SIM_SEC);
    if (s2.requests > 0 && win2.calls == 0)
        hub_device_method_respond(e.hub, c2, s2.rid, 200, "1", 1);
    put(g, "window-in:%d/%d", win2.calls, win2.code);
    env_close(&e, g);
}

static void battery_auth_registry(const char *brk, sig_t *g)
{
    env_t e;
    env_open(&e, brk, false);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_t id, id2;
    hub_identity_create(e.hub, &d1, &id);
    sink_t s = { 0 };
    hub_conn_t c = 0, c2 = 0;
    sim_kernel_run_until(e.k, 100 * SIM_SEC);
    put(g, "se=now:%d", code(connect(&e, "dev1", NULL, EPOCH + 100, KEY, HUB_PROTO_MQTT, &s, NULL)));
    put(g, "se<now:%d", code(connect(&e, "dev1", NULL, EPOCH + 99, KEY, HUB_PROTO_MQTT, &s, NULL)));
    put(g, "badkey:%d", code(connect(&e, "dev1", NULL, EPOCH + 999, KEY2, HUB_PROTO_MQTT, &s, NULL)));
    char tok[512];
    hub_sas_make(KEY, HOST "/devices/other", EPOCH + 999, NULL, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = "dev1", .sas_token = tok };
    put(g, "scope:%d", code(hub_device_connect(e.hub, &p, NULL, NULL, &c2)));
    hub_identity_spec_t x = { .device_id = "x1", .x509 = true, .primary_thumbprint = THUMB };
    hub_identity_create(e.hub, &x, NULL);
    hub_connect_params_t xp = { .device_id = "x1", .x509_thumbprint = "FFFF456789ABCDEF0123456789ABCDEF01234567" };
    put(g, "x509:%d", code(hub_device_connect(e.hub, &xp, NULL, NULL, &c2)));
    /* second connection */
    sink_t s1 = { 0 }, s2 = { 0 };
    connect(&e, "dev1", NULL, EPOCH + 999, KEY, HUB_PROTO_MQTT, &s1, &c);
    connect(&e, "dev1", NULL, EPOCH + 999, KEY, HUB_PROTO_MQTT, &s2, &c2);
    put(g, "second:%d/%d", s1.disconnects, (int)hub_device_is_connected(e.hub, c));
    /* disabled */
    hub_identity_spec_t dis = { .device_id = "dev1", .disabled = true };
    hub_identity_update(e.hub, &dis, NULL, &id2);
    put(g, "disabled:%d/%d", (int)hub_device_is_connected(e.hub, c2),
        code(connect(&e, "dev1", NULL, EPOCH + 999, KEY, HUB_PROTO_MQTT, &s, NULL)));
    /* etag and If-Match */
    put(g, "etag-changed:%d", strcmp(id.etag, id2.etag) != 0);
    put(g, "ifmatch:%d", code(hub_identity_update(e.hub, &dis, id.etag, NULL)));
    /* ids */
    char id129[131];
    memset(id129, 'd', 129);
    id129[129] = '\0';
    hub_identity_spec_t big = { .device_id = id129 };
    put(g, "id129:%d", code(hub_identity_create(e.hub, &big, NULL)));
    hub_identity_spec_t bad = { .device_id = "a&b" };
    put(g, "id&:%d", code(hub_identity_create(e.hub, &bad, NULL)));
    /* generation id on re-create */
    hub_identity_delete(e.hub, "dev1", NULL, NULL);
    hub_identity_create(e.hub, &d1, &id2);
    put(g, "gen-new:%d", strcmp(id.generation_id, id2.generation_id) != 0);
    env_close(&e, g);
}

static void battery_messages(const char *brk, sig_t *g)
{
    env_t e;
    env_open(&e, brk, false);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_create(e.hub, &d1, NULL);
    sink_t s = { 0 };
    hub_conn_t c = 0;
    connect(&e, "dev1", NULL, EPOCH + 86400, KEY, HUB_PROTO_HTTPS, &s, &c);
    hub_msg_t *m = msg_of(262144);
    put(g, "256k:%d", code(hub_device_send_d2c(e.hub, c, m)));
    hub_msg_free(m);
    m = msg_of(262145);
    put(g, "256k+1:%d", code(hub_device_send_d2c(e.hub, c, m)));
    hub_msg_free(m);
    m = msg_of(1);
    hub_msg_set_sys(m, HUB_SYS_CONNECTION_DEVICE_ID, "evil");
    hub_device_send_d2c(e.hub, c, m);
    put(g, "spoof:%s", hub_msg_get_sys(m, HUB_SYS_CONNECTION_DEVICE_ID));
    hub_msg_free(m);
    m = msg_of(1);
    hub_msg_add_app(m, "a b", "v");
    put(g, "chars:%d", code(hub_device_send_d2c(e.hub, c, m)));
    hub_msg_free(m);
    char mid[131];
    memset(mid, 'i', 129);
    mid[129] = '\0';
    m = msg_of(1);
    hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, mid);
    put(g, "mid129:%d", code(hub_device_send_d2c(e.hub, c, m)));
    hub_msg_free(m);
    /* C2D */
    int accepted = 0;
    hub_err_t last = HUB_EOK;
    for (int i = 0; i < 52 && last == HUB_EOK; i++) {
        hub_msg_t *cm = msg_of(1);
        last = hub_c2d_send(e.hub, "dev1", cm, 0, NULL);
        if (last == HUB_EOK)
            accepted++;
        else
            hub_msg_free(cm);
    }
    put(g, "c2d-depth:%d/%d", accepted, code(last));
    hub_c2d_purge_device(e.hub, "dev1", NULL);
    m = msg_of(65536);
    hub_err_t ce = hub_c2d_send(e.hub, "dev1", m, 0, NULL);
    if (ce != HUB_EOK)
        hub_msg_free(m);
    put(g, "c2d-64k:%d", code(ce));
    hub_c2d_purge_device(e.hub, "dev1", NULL);
    m = msg_of(65537);
    ce = hub_c2d_send(e.hub, "dev1", m, 0, NULL);
    if (ce != HUB_EOK)
        hub_msg_free(m);
    put(g, "c2d-64k+1:%d", code(ce));
    m = msg_of(1);
    hub_msg_add_app(m, "a b", "v");
    ce = hub_c2d_send(e.hub, "dev1", m, 0, NULL);
    if (ce != HUB_EOK)
        hub_msg_free(m);
    put(g, "c2d-chars:%d", code(ce));
    m = msg_of(1);
    hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, mid);
    ce = hub_c2d_send(e.hub, "dev1", m, 0, NULL);
    if (ce != HUB_EOK)
        hub_msg_free(m);
    put(g, "c2d-mid129:%d", code(ce));
    hub_c2d_purge_device(e.hub, "dev1", NULL);
    /* twins */
    hub_device_subscribe(e.hub, c, HUB_SUB_DESIRED);
    char etag[HUB_ETAG_CAP];
    const char *pt = "{\"properties\":{\"desired\":{\"a\":1}}}";
    hub_twin_patch(e.hub, "dev1", NULL, pt, strlen(pt), NULL, etag);
    put(g, "desired-push:%d", s.desired);
    hub_twin_patch(e.hub, "dev1", NULL, pt, strlen(pt), NULL, NULL);
    put(g, "twin-ifmatch:%d", code(hub_twin_patch(e.hub, "dev1", NULL, pt, strlen(pt), etag, NULL)));
    /* three D2C messages for the conservation check */
    m = msg_of(1);
    for (int i = 0; i < 3; i++)
        hub_device_send_d2c(e.hub, c, m);
    hub_msg_free(m);
    env_close(&e, g);
}

static void battery_throttle(const char *brk, sig_t *g)
{
    env_t e;
    env_open(&e, brk, true);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_create(e.hub, &d1, NULL);
    hub_conn_t c = 0;
    sink_t s = { 0 };
    connect(&e, "dev1", NULL, EPOCH + 86400, KEY, HUB_PROTO_MQTT, &s, &c);
    hub_msg_t *m = msg_of(1);
    int ok = 0;
    for (int i = 0; i < 210; i++)
        if (hub_device_send_d2c(e.hub, c, m) == HUB_EOK)
            ok++;
    hub_msg_free(m);
    put(g, "s1-d2c:%d", ok);
    env_close(&e, g);
}


typedef struct {
    sim_kernel_t *k;
    int batches;
    int records;
    char sizes[128];
    char statuses[128];
} fb_sink_t;

static void on_fb(void *ctx, const hub_c2d_fb_batch_t *b)
{
    fb_sink_t *f = ctx;
    f->batches++;
    f->records += (int)b->count;
    size_t n = strlen(f->sizes);
    snprintf(f->sizes + n, sizeof f->sizes - n, "%zu@%llu,", b->count,
             (unsigned long long)(sim_kernel_now(f->k) / SIM_MS));
    for (size_t i = 0; i < b->count && i < 4; i++) {
        n = strlen(f->statuses);
        snprintf(f->statuses + n, sizeof f->statuses - n, "%s,", hub_c2d_fb_status_name(b->records[i].status));
    }
}

static void c2d_one(env_t *e, const char *dev, const char *ack)
{
    hub_msg_t *m = msg_of(1);
    if (ack)
        hub_msg_set_sys(m, HUB_SYS_ACK, ack);
    if (hub_c2d_send(e->hub, dev, m, 0, NULL) != HUB_EOK)
        hub_msg_free(m);
}

static void run_for(env_t *e, sim_time_t d)
{
    sim_kernel_run_until(e->k, sim_kernel_now(e->k) + d);
}

/* Twin section of `total` key+value characters in eight members (the size rule). */
static char *twin_sized(const char *sec, size_t total)
{
    json_t *d = json_object();
    size_t per = total / 8;
    for (int i = 0; i < 8; i++) {
        size_t vlen = per - 2 + (i == 7 ? total % 8 : 0);
        char *v = malloc(vlen + 1);
        memset(v, 'a' + i, vlen);
        v[vlen] = '\0';
        char k[4];
        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(d, k, json_string(v));
        free(v);
    }
    json_t *p = strcmp(sec, "tags") == 0 ? json_pack("{s:o}", "tags", d)
                                          : json_pack("{s:{s:o}}", "properties", sec, d);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return text;
}

static int twin_try(env_t *e, const char *text)
{
    return code(hub_twin_patch(e->hub, "dev1", NULL, text, strlen(text), NULL, NULL));
}

/* C2D life (TTL 1 h, lock 1 min, 10 deliveries, reject, feedback 64/15 s)
 * and twin documents (versions, merge, 8 KB tags, depth 10, keys, metadata). */
static void battery_c2d_twins(const char *brk, sig_t *g)
{
    env_t e;
    env_open(&e, brk, false);
    fb_sink_t fb = { .k = e.k };
    hub_set_feedback_sink(e.hub, on_fb, &fb);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_spec_t d2 = { .device_id = "dev2", .primary_key = KEY };
    hub_identity_create(e.hub, &d1, NULL);
    hub_identity_create(e.hub, &d2, NULL);
    sink_t s = { 0 };
    hub_conn_t c = 0, c2 = 0;
    connect(&e, "dev1", NULL, EPOCH + 10 * 86400, KEY, HUB_PROTO_HTTPS, &s, &c);
    connect(&e, "dev2", NULL, EPOCH + 10 * 86400, KEY, HUB_PROTO_HTTPS, &s, &c2);
    hub_c2d_delivery_t d;
    /* TTL: 1 h default; 500 ms after it the message is gone */
    c2d_one(&e, "dev1", "full");
    run_for(&e, 3600 * SIM_SEC + 500 * SIM_MS);
    put(g, "ttl:%d", code(hub_device_c2d_receive(e.hub, c, &d)));
    /* lock: 1 min; 500 ms after it the message is visible again */
    c2d_one(&e, "dev1", NULL);
    hub_device_c2d_receive(e.hub, c, &d);
    run_for(&e, 60 * SIM_SEC + 500 * SIM_MS);
    hub_err_t le = hub_device_c2d_receive(e.hub, c, &d);
    put(g, "lock:%d/%u", code(le), le == HUB_EOK ? d.delivery_count : 0);
    hub_c2d_purge_device(e.hub, "dev1", NULL);
    /* delivery count: abandoned until dead-lettered */
    c2d_one(&e, "dev1", "negative");
    int deliveries = 0;
    while (deliveries < 200 && hub_device_c2d_receive(e.hub, c, &d) == HUB_EOK) {
        deliveries++;
        hub_device_c2d_abandon(e.hub, c, d.lock_token);
    }
    put(g, "deliveries:%d", deliveries);
    /* reject dead-letters (feedback Rejected) */
    c2d_one(&e, "dev1", "full");
    hub_device_c2d_receive(e.hub, c, &d);
    hub_device_c2d_reject(e.hub, c, d.lock_token);
    run_for(&e, 20 * SIM_SEC);
    /* a lone record flushed at 15 s */
    c2d_one(&e, "dev1", "positive");
    hub_device_c2d_receive(e.hub, c, &d);
    hub_device_c2d_complete(e.hub, c, d.lock_token);
    run_for(&e, 15 * SIM_SEC + 500 * SIM_MS);
    put(g, "fb-15s:%d", fb.batches);
    run_for(&e, 20 * SIM_SEC);
    /* 65 completions at one instant: 64 then 1 */
    for (int i = 0; i < 65; i++)
        c2d_one(&e, i % 2 ? "dev2" : "dev1", "positive");
    for (int i = 0; i < 65; i++) {
        hub_conn_t cc = i % 2 ? c2 : c;
        if (hub_device_c2d_receive(e.hub, cc, &d) == HUB_EOK)
            hub_device_c2d_complete(e.hub, cc, d.lock_token);
    }
    run_for(&e, 20 * SIM_SEC);
    put(g, "fb:%d/%d/%s/%s", fb.batches, fb.records, fb.sizes, fb.statuses);
    /* twins */
    uint64_t v1 = 0, v2 = 0;
    hub_device_twin_patch_reported(e.hub, c, "{\"r\":1}", 7, &v1);
    hub_device_twin_patch_reported(e.hub, c, "{\"r\":2}", 7, &v2);
    put(g, "reported-version:%llu/%llu", (unsigned long long)v1, (unsigned long long)v2);
    const char *p1 = "{\"properties\":{\"desired\":{\"a\":{\"b\":1,\"c\":2}}}}";
    const char *p2 = "{\"properties\":{\"desired\":{\"a\":{\"b\":null}}}}";
    twin_try(&e, p1);
    twin_try(&e, p2);
    json_t *tw = NULL;
    hub_twin_get(e.hub, "dev1", NULL, &tw);
    json_t *des = json_object_get(json_object_get(tw, "properties"), "desired");
    put(g, "merge-b:%d", json_object_get(json_object_get(des, "a"), "b") != NULL);
    json_decref(tw);
    char *t = twin_sized("tags", 8193);
    put(g, "tags8193:%d", twin_try(&e, t));
    free(t);
    t = twin_sized("desired", 40000);
    put(g, "desired40000:%d", twin_try(&e, t));
    free(t);
    for (int levels = 11; levels <= 12; levels++) {
        json_t *inner = json_pack("{s:s}", "k", "v");
        for (int i = levels - 1; i >= 1; i--) {
            char k[16];
            snprintf(k, sizeof k, "l%d", i);
            json_t *o = json_object();
            json_object_set_new(o, k, inner);
            inner = o;
        }
        json_t *pp = json_pack("{s:{s:{s:o}}}", "properties", "desired", "l0", inner);
        t = json_dumps(pp, JSON_COMPACT);
        json_decref(pp);
        put(g, "depth%d:%d", levels, twin_try(&e, t));
        free(t);
    }
    put(g, "key-dot:%d", twin_try(&e, "{\"tags\":{\"a.b\":1}}"));
    char *longkey = calloc(1, 1100);
    memcpy(longkey, "{\"tags\":{\"", 10);
    memset(longkey + 10, 'k', 1025);
    strcat(longkey, "\":1}}");
    put(g, "key1025:%d", twin_try(&e, longkey));
    free(longkey);
    run_for(&e, 90 * SIM_SEC);
    twin_try(&e, "{\"properties\":{\"desired\":{\"temp\":21}}}");
    hub_twin_get(e.hub, "dev1", NULL, &tw);
    des = json_object_get(json_object_get(tw, "properties"), "desired");
    const char *lu = json_string_value(
        json_object_get(json_object_get(json_object_get(des, "$metadata"), "temp"), "$lastUpdated"));
    sim_time_t now = sim_kernel_now(e.k);
    char want[40];
    sim_utc_format(EPOCH, now, want, sizeof want);
    put(g, "metadata-now:%d", lu && strcmp(lu, want) == 0);
    json_decref(tw);
    env_close(&e, g);
}


static void on_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t device_no)
{
    (void)device_no;
    sig_t *g = ctx;
    const char *op = NULL;
    for (size_t i = 0; i < hub_msg_app_count(msg); i++) {
        const char *k = NULL, *v = NULL;
        if (hub_msg_app_at(msg, i, &k, &v) == HS_EOK && k && strcmp(k, "opType") == 0)
            op = v;
    }
    put(g, "%s%s%s", endpoint, op ? "/" : "", op ? op : "");
}

/* Routing: dedup, fallback, $name order, $body gating, name case, NOT of
 * undefined, $twin, ABS, IS_ARRAY, undefined conditions. */
static void battery_routing(const char *brk, sig_t *g)
{
    static const char *const routes[][2] = {
        { "tag = 'dup'", "e_dup" },       { "tag = 'dup'", "e_dup" },
        { "$contentType = 'application/json'", "e_sys" },
        { "$body.temp > 30", "e_body" }, { "LEVEL = 'hi'", "e_case" },
        { "NOT (missing = 1)", "e_not" }, { "$twin.tags.t = 1", "e_twin" },
        { "ABS(-2) = 2 AND tag = 'abs'", "e_abs" }, { "IS_ARRAY($body.a)", "e_arr" },
        { "missing = 1", "e_undef" },     { "$body[0] = 1", "e_whole" },
        { "$body.a.b = 1", "e_period" },
    };
    json_t *eps = json_array(), *rs = json_array();
    const char *names[] = { "e_dup", "e_sys",   "e_body",  "e_case",  "e_not",   "e_twin",
                            "e_abs", "e_arr",   "e_undef", "e_whole", "e_period" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        json_array_append_new(eps, json_pack("{s:s}", "name", names[i]));
    json_array_append_new(eps, json_pack("{s:s}", "name", "e_ev"));
    json_array_append_new(rs, json_pack("{s:s,s:s,s:s,s:[s]}", "name", "twinev", "source", "TwinChangeEvents",
                                        "condition", "true", "endpointNames", "e_ev"));
    json_array_append_new(rs, json_pack("{s:s,s:s,s:s,s:[s]}", "name", "lifeev", "source",
                                        "DeviceLifecycleEvents", "condition", "true", "endpointNames", "e_ev"));
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char rn[16];
        snprintf(rn, sizeof rn, "r%zu", i);
        json_array_append_new(rs, json_pack("{s:s,s:s,s:s,s:[s]}", "name", rn, "source", "DeviceMessages",
                                            "condition", routes[i][0], "endpointNames", routes[i][1]));
    }
    env_t e;
    memset(&e, 0, sizeof e);
    e.k = sim_kernel_new(11, EPOCH);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.routing = json_pack("{s:{s:o},s:o}", "endpoints", "eventHubs", eps, "routes", rs);
    assert_int_equal(hub_new(e.k, &cfg, &e.hub, NULL, 0), HS_EOK);
    hub_config_free(&cfg);
    if (brk)
        assert_int_equal(hub_break(e.hub, brk), HS_EOK);
    hub_endpoint_ops_t eo = { .deliver = on_deliver };
    hub_set_endpoint_sink(e.hub, &eo, g);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_create(e.hub, &d1, NULL);
    const char *tp = "{\"tags\":{\"t\":1}}";
    hub_twin_patch(e.hub, "dev1", NULL, tp, strlen(tp), NULL, NULL);
    sink_t s = { 0 };
    hub_conn_t c = 0;
    connect(&e, "dev1", NULL, EPOCH + 86400, KEY, HUB_PROTO_MQTT, &s, &c);
    const char *body = "{\"temp\":40,\"a\":[]}";
    for (int i = 0; i < 6; i++) {
        hub_msg_t *m = hub_msg_new();
        put(g, "msg%d", i);
        if (i == 0) {
            hub_msg_set_body(m, "{}", 2);
            hub_msg_add_app(m, "tag", "dup");
            hub_msg_add_app(m, "level", "hi");
        } else if (i == 1) {
            hub_msg_set_body(m, body, strlen(body));
            hub_msg_add_app(m, "$contentType", "application/json");
        } else if (i == 2) {
            hub_msg_set_body(m, body, strlen(body));
            hub_msg_set_sys(m, HUB_SYS_CONTENT_TYPE, "application/json");
            hub_msg_set_sys(m, HUB_SYS_CONTENT_ENCODING, "utf-8");
            hub_msg_add_app(m, "$contentType", "text/plain");
        } else if (i == 3) {
            hub_msg_set_body(m, "x", 1);
            hub_msg_add_app(m, "tag", "abs");
        } else {
            const char *b = i == 4 ? "[1]" : "{\"a.b\":1}";
            hub_msg_set_body(m, b, strlen(b));
            hub_msg_set_sys(m, HUB_SYS_CONTENT_TYPE, "application/json");
            hub_msg_set_sys(m, HUB_SYS_CONTENT_ENCODING, "utf-8");
        }
        put(g, "d2c:%d", code(hub_device_send_d2c(e.hub, c, m)));
        hub_msg_free(m);
    }
    hub_identity_delete(e.hub, "dev1", NULL, NULL);
    env_close(&e, g);
}


/* Size accounting, enqueued time, daily quota (3 messages), oversized
 * method response (knob default 400), re-create of an existing device. */
static void battery_misc(const char *brk, sig_t *g)
{
    env_t e;
    memset(&e, 0, sizeof e);
    e.k = sim_kernel_new(11, EPOCH);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.quotas.daily_messages = 3;
    assert_int_equal(hub_new(e.k, &cfg, &e.hub, NULL, 0), HS_EOK);
    hub_config_free(&cfg);
    if (brk)
        assert_int_equal(hub_break(e.hub, brk), HS_EOK);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_create(e.hub, &d1, NULL);
    put(g, "recreate:%d", code(hub_identity_create(e.hub, &d1, NULL)));
    sink_t s = { 0 };
    hub_conn_t c = 0;
    hub_connect_params_t bad = { .device_id = "dev1", .sas_token = "SharedAccessSignature sr=nothing",
                                 .protocol = HUB_PROTO_MQTT };
    put(g, "sas-malformed:%d", code(hub_device_connect(e.hub, &bad, &ops, &s, &c)));
    const char *frac = "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":5.5}";
    res_t fr = { 0 };
    put(g, "timeout5.5:%d", code(hub_method_invoke_json(e.hub, "dev1", NULL, frac, strlen(frac), on_res, &fr, NULL)));
    connect(&e, "dev1", NULL, EPOCH + 86400, KEY, HUB_PROTO_MQTT, &s, &c);
    /* 262140 body bytes + "ab" + "cde" = 262145 */
    hub_msg_t *m = msg_of(262140);
    hub_msg_add_app(m, "ab", "cde");
    put(g, "acct262145:%d", code(hub_device_send_d2c(e.hub, c, m)));
    hub_msg_free(m);
    sim_kernel_run_until(e.k, 90 * SIM_SEC);
    int ok = 0;
    for (int i = 0; i < 5; i++) {
        m = msg_of(1);
        if (hub_device_send_d2c(e.hub, c, m) == HUB_EOK)
            ok++;
        if (i == 0)
            put(g, "enqueued:%s", hub_msg_get_sys(m, HUB_SYS_ENQUEUED_TIME));
        hub_msg_free(m);
    }
    put(g, "quota3:%d", ok);
    hub_device_subscribe(e.hub, c, HUB_SUB_METHODS);
    hub_method_call_t call = { .device_id = "dev1", .method_name = "m", .payload = "1", .payload_len = 1 };
    res_t r = { 0 };
    hub_method_invoke(e.hub, &call, on_res, &r, NULL);
    char *big = json_str(131073);
    put(g, "resp131073:%d", code(hub_device_method_respond(e.hub, c, s.rid, 200, big, 131073)));
    free(big);
    env_close(&e, g);
}

static char *signature_ex(const char *brk, bool with_trace)
{
    sig_t g = { 0 };
    g.with_trace = with_trace;
    battery_methods(brk, &g);
    battery_auth_registry(brk, &g);
    battery_messages(brk, &g);
    battery_throttle(brk, &g);
    battery_c2d_twins(brk, &g);
    battery_routing(brk, &g);
    battery_misc(brk, &g);
    return g.s;
}

static char *signature(const char *brk)
{
    return signature_ex(brk, false);
}

/* The same calls give the same trace, event for event (hash and count). */
static void test_trace_is_deterministic(void **state)
{
    (void)state;
    char *a = signature_ex(NULL, true), *b = signature_ex(NULL, true);
    assert_non_null(strstr(a, "trace:"));
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_every_switch_changes_the_signature(void **state)
{
    (void)state;
    char *clean = signature(NULL);
    if (getenv("HUBSIM_SHOW_SIG")) /* to read the clean outcomes when a spot check fails */
        fprintf(stderr, "%s\n", clean);
    char *again = signature(NULL);
    assert_string_equal(clean, again); /* the battery itself is deterministic */
    free(again);
    /* spot-check the clean run against the spec literals */
    assert_non_null(strstr(clean, "unknown:404001;offline:404103;unsub:404103;"));
    assert_non_null(strstr(clean, "rt4:400004;rt5:0;rt300:0;rt301:400004;ct301:400004;"));
    assert_non_null(strstr(clean, "p128k:0;p128k+1:400004;"));
    assert_non_null(strstr(clean, "504:1/504101;late:1/1;"));
    assert_non_null(strstr(clean, "window:1/404103;window-in:1/0;"));
    assert_non_null(strstr(clean, "256k:0;256k+1:413001;spoof:dev1;"));
    assert_non_null(strstr(clean, "c2d-depth:50/403004;"));
    assert_non_null(strstr(clean, "c2d-64k:0;c2d-64k+1:413001;"));
    assert_non_null(strstr(clean, "s1-d2c:200;"));
    assert_non_null(strstr(clean, "ttl:404002;lock:0/2;deliveries:10;fb-15s:3;"));
    assert_non_null(strstr(clean, "reported-version:2/3;merge-b:0;tags8193:400004;"));
    /* one delivery per endpoint, no fallback when a route matched, $name
     * system-first, $body only for JSON, names in any case, NOT undefined
     * is no match, $twin read, ABS(-2) = 2, IS_ARRAY of [] */
    assert_non_null(strstr(clean, "e_ev/createDeviceIdentity;e_ev/updateTwin;msg0;"));
    assert_non_null(strstr(clean, "d2c:0;e_ev/deleteDeviceIdentity;"));
    assert_non_null(strstr(clean, "msg0;e_dup;e_case;e_twin;d2c:0;msg1;e_sys;e_twin;d2c:0;"
                                  "msg2;e_sys;e_body;e_twin;e_arr;d2c:0;msg3;e_twin;e_abs;d2c:0;"
                                  "msg4;e_sys;e_twin;d2c:0;msg5;e_sys;e_twin;d2c:0;"));
    assert_non_null(strstr(clean, "recreate:409001;sas-malformed:401002;timeout5.5:400004;acct262145:413001;enqueued:2026-01-01T00:01:30.0000000Z;"
                                  "quota3:3;resp131073:400004;"));
    assert_non_null(strstr(clean, "depth11:400004;depth12:400004;key-dot:400004;key1025:400004;metadata-now:1;"));
    int dead = 0;
    for (int f = 0; f < HUB_FAULT__COUNT; f++) {
        const char *name = hub_fault_info((hub_fault_t)f)->name;
        char *broken = signature(name);
        if (strcmp(clean, broken) == 0) {
            print_error("switch %s changes nothing the battery observes\n", name);
            dead++;
        }
        free(broken);
    }
    free(clean);
    assert_int_equal(dead, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_switch_changes_the_signature),
        cmocka_unit_test(test_trace_is_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
