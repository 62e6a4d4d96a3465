/* Field gateways in the hub model: 100 gateways x 100 leaves on their gateways' connections, outages, methods, C2D queueing, scope refusals, registry fields. */
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

/* Expected codes are literals from direct-methods.txt / NOTES.md and
 * docs/gateways.md, never read back from the hub. */

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define EPOCH 1767225600LL
#define HOST "hubsim.azure-devices.net"

enum { NGW = 100, NLEAF = 100 };

typedef struct {
    int requests, disconnects, c2d_available;
    char rid[64];
    int disc_code;
} sink_t;

static void sink_method(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                        const char *payload, size_t len)
{
    (void)conn, (void)name, (void)payload, (void)len;
    sink_t *s = ctx;
    s->requests++;
    snprintf(s->rid, sizeof s->rid, "%s", rid);
}

static void sink_disc(void *ctx, hub_conn_t conn, hub_err_t err, const char *reason)
{
    (void)conn, (void)reason;
    sink_t *s = ctx;
    s->disconnects++;
    s->disc_code = hub_error_info(err)->code;
}

static void sink_c2d(void *ctx, hub_conn_t conn)
{
    (void)conn;
    ((sink_t *)ctx)->c2d_available++;
}

static const hub_sink_ops_t ops = { .method_request = sink_method, .disconnected = sink_disc,
                                    .c2d_available = sink_c2d };

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
} fx_t;

static fx_t fx_new(hub_config_leaf_auth_t mode)
{
    fx_t f;
    f.k = sim_kernel_new(7, EPOCH);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.gateways.leaf_auth = mode;
    char why[256] = "";
    assert_int_equal(hub_new(f.k, &cfg, &f.hub, why, sizeof why), HS_EOK);
    hub_config_free(&cfg);
    return f;
}

static void fx_free(fx_t *f)
{
    char why[256] = "";
    hs_err_t e = hub_check(f->hub, why, sizeof why);
    if (e)
        fail_msg("books: %s", why);
    hub_free(f->hub);
    sim_kernel_free(f->k);
}

static void token_for(const char *dev, const char *mod, const char *key, char *tok, size_t cap)
{
    char res[512];
    if (mod)
        snprintf(res, sizeof res, HOST "/devices/%s/modules/%s", dev, mod);
    else
        snprintf(res, sizeof res, HOST "/devices/%s", dev);
    assert_int_equal(hub_sas_make(key, res, EPOCH + 86400, NULL, tok, cap), HS_EOK);
}

static void make_device(fx_t *f, const char *id, bool edge, const char *parent)
{
    hub_identity_spec_t s = { .device_id = id, .primary_key = KEY, .iot_edge = edge,
                              .parent_id = parent };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
}

static hub_conn_t connect_dev(fx_t *f, const char *id, sink_t *s)
{
    char tok[1024];
    token_for(id, NULL, KEY, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = id, .sas_token = tok, .protocol = HUB_PROTO_AMQP };
    hub_conn_t c = 0;
    assert_int_equal(hub_device_connect(f->hub, &p, &ops, s, &c), HUB_EOK);
    return c;
}

static hub_err_t leaf_connect(fx_t *f, hub_conn_t gw, const char *leaf, const char *tok_dev,
                              sink_t *s, hub_conn_t *out)
{
    char tok[1024];
    token_for(tok_dev, NULL, KEY, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = leaf, .sas_token = tok };
    return hub_gateway_leaf_connect(f->hub, gw, &p, &ops, s, out);
}

typedef struct {
    int calls, http;
    int code;
} res_t;

static void on_result(void *ctx, const hub_method_result_t *r)
{
    res_t *x = ctx;
    x->calls++;
    x->http = r->http_status;
    x->code = hub_error_info(r->error)->code;
}

static hub_err_t invoke(fx_t *f, const char *dev, int64_t connect_timeout, res_t *r)
{
    hub_method_call_t c = { .device_id = dev, .method_name = "ping", .payload = "{}",
                            .payload_len = 2, .has_connect_timeout = connect_timeout > 0,
                            .connect_timeout_s = connect_timeout };
    return hub_method_invoke(f->hub, &c, on_result, r, NULL);
}

static void send_c2d(fx_t *f, const char *dev)
{
    hub_msg_t *m = hub_msg_new();
    assert_non_null(m);
    assert_int_equal(hub_msg_set_body(m, "hi", 2), HS_EOK);
    assert_int_equal(hub_c2d_send(f->hub, dev, m, 0, NULL), HUB_EOK);
}

/* ---- the big one: 100 gateways x 100 leaves --------------------------------- */

static void test_hundred_gateways_outage(void **state)
{
    (void)state;
    fx_t f = fx_new(HUB_LEAF_AUTH_EITHER);
    char id[64], gid[64];
    for (int g = 0; g < NGW; g++) {
        snprintf(gid, sizeof gid, "gw%03d", g);
        make_device(&f, gid, true, NULL);
        for (int l = 0; l < NLEAF; l++) {
            snprintf(id, sizeof id, "gw%03d-leaf%03d", g, l);
            make_device(&f, id, false, gid);
        }
    }
    static sink_t gws[NGW], leaves[NGW][NLEAF];
    memset(gws, 0, sizeof gws);
    memset(leaves, 0, sizeof leaves);
    hub_conn_t gconn[NGW], lconn[NGW][NLEAF];
    for (int g = 0; g < NGW; g++) {
        snprintf(gid, sizeof gid, "gw%03d", g);
        gconn[g] = connect_dev(&f, gid, &gws[g]);
        for (int l = 0; l < NLEAF; l++) {
            snprintf(id, sizeof id, "gw%03d-leaf%03d", g, l);
            /* odd leaves put their own token, even ones the gateway's */
            assert_int_equal(leaf_connect(&f, gconn[g], id, (l % 2) ? id : gid, &leaves[g][l],
                                          &lconn[g][l]),
                             HUB_EOK);
            assert_int_equal(hub_device_subscribe(f.hub, lconn[g][l], HUB_SUB_METHODS | HUB_SUB_C2D),
                             HUB_EOK);
            assert_true(hub_gateway_of(f.hub, lconn[g][l]) == gconn[g]);
        }
        assert_int_equal(hub_gateway_leaf_count(f.hub, gconn[g]), NLEAF);
    }
    assert_int_equal(hub_counter(f.hub, "gateway.leaf_opened"), NGW * NLEAF);

    /* Every leaf answers a method over its gateway's connection. */
    res_t ok = { 0 };
    assert_int_equal(invoke(&f, "gw042-leaf007", 0, &ok), HUB_EOK);
    assert_int_equal(leaves[42][7].requests, 1);
    assert_int_equal(hub_device_method_respond(f.hub, lconn[42][7], leaves[42][7].rid, 200, "{}", 2),
                     HUB_EOK);
    assert_int_equal(ok.http, 200);

    /* Outage: gateways 10..19 drop at t = 10 s. */
    sim_kernel_run_until(f.k, 10 * SIM_SEC);
    for (int g = 10; g < 20; g++) {
        snprintf(gid, sizeof gid, "gw%03d", g);
        assert_int_equal(hub_device_drop(f.hub, gid, NULL, "outage"), HUB_EOK);
        assert_int_equal(gws[g].disconnects, 1);
        for (int l = 0; l < NLEAF; l++) {
            assert_int_equal(leaves[g][l].disconnects, 1);
            assert_false(hub_device_is_connected(f.hub, lconn[g][l]));
        }
    }
    /* Other gateways' leaves stay. */
    assert_true(hub_device_is_connected(f.hub, lconn[9][99]));
    assert_true(hub_device_is_connected(f.hub, lconn[20][0]));
    assert_int_equal(hub_counter(f.hub, "gateway.leaf_dropped_gateway"), 10 * NLEAF);
    assert_int_equal(hub_counter(f.hub, "conn.dropped_gateway"), 10 * NLEAF);

    /* Methods to an offline leaf: 404103 at once without a window, and
     * exactly at connectTimeout with one. */
    res_t r0 = { 0 }, r30 = { 0 };
    assert_int_equal(hub_error_info(invoke(&f, "gw015-leaf050", 0, &r0))->code, 404103);
    assert_int_equal(invoke(&f, "gw015-leaf050", 30, &r30), HUB_EOK);
    sim_kernel_run_until(f.k, 10 * SIM_SEC + 30 * SIM_SEC - 1);
    assert_int_equal(r30.calls, 0);
    sim_kernel_run_until(f.k, 40 * SIM_SEC);
    assert_int_equal(r30.calls, 1);
    assert_int_equal(r30.http, 404);
    assert_int_equal(r30.code, 404103);

    /* C2D to offline leaves queues; nothing is lost. */
    for (int l = 0; l < NLEAF; l++) {
        snprintf(id, sizeof id, "gw015-leaf%03d", l);
        send_c2d(&f, id);
    }
    assert_int_equal(leaves[15][0].c2d_available, 0);

    /* The gateway reconnects and brings its leaves back: the queued
     * messages are delivered, a method waiting in its window is delivered. */
    res_t rw = { 0 };
    assert_int_equal(invoke(&f, "gw015-leaf001", 60, &rw), HUB_EOK);
    sim_kernel_run_until(f.k, 50 * SIM_SEC);
    memset(&gws[15], 0, sizeof gws[15]);
    gconn[15] = connect_dev(&f, "gw015", &gws[15]);
    for (int l = 0; l < NLEAF; l++) {
        snprintf(id, sizeof id, "gw015-leaf%03d", l);
        memset(&leaves[15][l], 0, sizeof leaves[15][l]);
        assert_int_equal(leaf_connect(&f, gconn[15], id, id, &leaves[15][l], &lconn[15][l]), HUB_EOK);
        assert_int_equal(hub_device_subscribe(f.hub, lconn[15][l], HUB_SUB_METHODS | HUB_SUB_C2D),
                         HUB_EOK);
        assert_int_equal(leaves[15][l].c2d_available, 1);
        hub_c2d_delivery_t d;
        assert_int_equal(hub_device_c2d_receive(f.hub, lconn[15][l], &d), HUB_EOK);
        assert_int_equal(hub_device_c2d_complete(f.hub, lconn[15][l], d.lock_token), HUB_EOK);
    }
    assert_int_equal(leaves[15][1].requests, 1);
    assert_int_equal(hub_device_method_respond(f.hub, lconn[15][1], leaves[15][1].rid, 201, "{}", 2),
                     HUB_EOK);
    assert_int_equal(rw.http, 200);

    /* The gateway closes on its own: its leaves go offline too. */
    assert_int_equal(hub_device_disconnect(f.hub, gconn[3]), HUB_EOK);
    assert_int_equal(leaves[3][50].disconnects, 1);
    assert_int_equal(hub_counter(f.hub, "gateway.leaf_dropped_gateway"), 11 * NLEAF);
    /* A leaf closing itself leaves the gateway's others alone. */
    assert_int_equal(hub_device_disconnect(f.hub, lconn[4][0]), HUB_EOK);
    assert_int_equal(hub_gateway_leaf_count(f.hub, gconn[4]), NLEAF - 1);
    assert_int_equal(hub_counter(f.hub, "gateway.leaf_closed"), 1);
    /* A leaf connecting directly replaces its sub-connection. */
    sink_t direct = { 0 };
    (void)connect_dev(&f, "gw005-leaf000", &direct);
    assert_int_equal(leaves[5][0].disconnects, 1);
    assert_int_equal(hub_gateway_leaf_count(f.hub, gconn[5]), NLEAF - 1);
    assert_int_equal(hub_counter(f.hub, "gateway.leaf_dropped_other"), 1);
    sim_kernel_run_until(f.k, 400 * SIM_SEC);
    fx_free(&f);
}

/* ---- refusals ------------------------------------------------------------------ */

static void test_scope_refusals(void **state)
{
    (void)state;
    fx_t f = fx_new(HUB_LEAF_AUTH_EITHER);
    make_device(&f, "gwA", true, NULL);
    make_device(&f, "gwB", true, NULL);
    make_device(&f, "plain", false, NULL);
    make_device(&f, "leafA", false, "gwA");
    make_device(&f, "orphan", false, NULL);
    sink_t sa = { 0 }, sb = { 0 }, sp = { 0 }, sl = { 0 };
    hub_conn_t ga = connect_dev(&f, "gwA", &sa), gb = connect_dev(&f, "gwB", &sb);
    hub_conn_t gp = connect_dev(&f, "plain", &sp), c = 0;
    /* leafA's scope names gwA, not gwB */
    assert_int_equal(hub_error_info(leaf_connect(&f, gb, "leafA", "leafA", &sl, &c))->code, 401002);
    assert_int_equal(hub_error_info(leaf_connect(&f, gb, "orphan", "orphan", &sl, &c))->code, 401002);
    assert_int_equal(hub_counter(f.hub, "gateway.refused_scope"), 2);
    /* a gateway cannot carry itself */
    assert_int_equal(hub_error_info(leaf_connect(&f, ga, "gwA", "gwA", &sl, &c))->code, 401002);
    assert_int_equal(hub_counter(f.hub, "gateway.refused_scope"), 3);
    /* a device that is not an IoT Edge device carries nobody */
    assert_int_equal(hub_error_info(leaf_connect(&f, gp, "leafA", "leafA", &sl, &c))->code, 401002);
    assert_int_equal(hub_counter(f.hub, "gateway.refused_not_edge"), 1);
    /* unknown leaf, wrong key, stale gateway handle */
    assert_int_equal(hub_error_info(leaf_connect(&f, ga, "nosuch", "nosuch", &sl, &c))->code, 401002);
    char tok[1024];
    token_for("leafA", NULL, KEY2, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = "leafA", .sas_token = tok };
    assert_int_equal(hub_error_info(hub_gateway_leaf_connect(f.hub, ga, &p, &ops, &sl, &c))->code,
                     401002);
    assert_int_equal(hub_counter(f.hub, "auth.bad_signature"), 1);
    assert_int_equal(hub_device_disconnect(f.hub, gb), HUB_EOK);
    assert_int_equal(hub_error_info(leaf_connect(&f, gb, "leafA", "leafA", &sl, &c))->code, 401002);
    assert_int_equal(hub_counter(f.hub, "gateway.refused_gateway_gone"), 1);
    /* and the right one works; nothing opened on a refusal */
    assert_int_equal(leaf_connect(&f, ga, "leafA", "gwA", &sl, &c), HUB_EOK);
    assert_int_equal(hub_counter(f.hub, "gateway.leaf_opened"), 1);
    /* a disabled leaf is refused even with the gateway's token */
    hub_identity_spec_t dis = { .device_id = "leafA", .disabled = true };
    assert_int_equal(hub_identity_update(f.hub, &dis, NULL, NULL), HUB_EOK);
    assert_int_equal(sl.disconnects, 1);
    assert_int_equal(hub_error_info(leaf_connect(&f, ga, "leafA", "gwA", &sl, &c))->code, 401002);
    fx_free(&f);
}

static void test_leaf_auth_knob(void **state)
{
    (void)state;
    fx_t f = fx_new(HUB_LEAF_AUTH_LEAF_TOKEN);
    make_device(&f, "gw", true, NULL);
    make_device(&f, "leaf", false, "gw");
    sink_t sg = { 0 }, sl = { 0 };
    hub_conn_t g = connect_dev(&f, "gw", &sg), c = 0;
    assert_int_equal(hub_error_info(leaf_connect(&f, g, "leaf", "gw", &sl, &c))->code, 401002);
    assert_int_equal(hub_counter(f.hub, "gateway.refused_auth_mode"), 1);
    assert_int_equal(leaf_connect(&f, g, "leaf", "leaf", &sl, &c), HUB_EOK);
    fx_free(&f);

    f = fx_new(HUB_LEAF_AUTH_GATEWAY_TOKEN);
    make_device(&f, "gw", true, NULL);
    make_device(&f, "leaf", false, "gw");
    g = connect_dev(&f, "gw", &sg);
    assert_int_equal(hub_error_info(leaf_connect(&f, g, "leaf", "leaf", &sl, &c))->code, 401002);
    assert_int_equal(leaf_connect(&f, g, "leaf", "gw", &sl, &c), HUB_EOK);
    fx_free(&f);
}

/* ---- registry fields --------------------------------------------------------- */

static void test_registry_scope_fields(void **state)
{
    (void)state;
    fx_t f = fx_new(HUB_LEAF_AUTH_EITHER);
    make_device(&f, "edge1", true, NULL);
    make_device(&f, "plain", false, NULL);
    make_device(&f, "leaf", false, "edge1");
    hub_identity_t e, l;
    assert_int_equal(hub_identity_get(f.hub, "edge1", NULL, &e), HUB_EOK);
    assert_true(e.iot_edge);
    char want[256];
    snprintf(want, sizeof want, "ms-azure-iot-edge://edge1-%s", e.generation_id);
    assert_string_equal(e.device_scope, want);
    assert_string_equal(e.parent_scope, "");
    assert_int_equal(hub_identity_get(f.hub, "leaf", NULL, &l), HUB_EOK);
    assert_false(l.iot_edge);
    assert_string_equal(l.device_scope, want);
    assert_string_equal(l.parent_scope, want);
    assert_string_equal(l.parent_id, "edge1");
    char dev[200];
    assert_int_equal(hub_gateway_scope_device(f.hub, want, dev, sizeof dev), HUB_EOK);
    assert_string_equal(dev, "edge1");
    assert_int_equal(hub_gateway_scope_device(f.hub, "ms-azure-iot-edge://edge1-1", dev, sizeof dev),
                     HUB_EDEVICE_NOT_FOUND);
    assert_int_equal(hub_gateway_scope_device(f.hub, "garbage", dev, sizeof dev),
                     HUB_EARGUMENT_INVALID);
    /* a parent that is not an IoT Edge device, unknown, or itself: 400004 */
    hub_identity_spec_t bad = { .device_id = "x", .parent_id = "plain" };
    assert_int_equal(hub_error_info(hub_identity_create(f.hub, &bad, NULL))->code, 400004);
    bad.parent_id = "nosuch";
    assert_int_equal(hub_error_info(hub_identity_create(f.hub, &bad, NULL))->code, 400004);
    hub_identity_spec_t self = { .device_id = "edge1", .parent_id = "edge1" };
    assert_int_equal(hub_error_info(hub_identity_update(f.hub, &self, NULL, NULL))->code, 400004);
    /* nested edge devices, but no cycle */
    make_device(&f, "edge2", true, "edge1");
    hub_identity_spec_t cyc = { .device_id = "edge1", .parent_id = "edge2" };
    assert_int_equal(hub_error_info(hub_identity_update(f.hub, &cyc, NULL, NULL))->code, 400004);
    hub_identity_t e2;
    assert_int_equal(hub_identity_get(f.hub, "edge2", NULL, &e2), HUB_EOK);
    assert_string_equal(e2.parent_scope, want);
    assert_string_not_equal(e2.device_scope, want);
    /* modules have no scope of their own */
    hub_identity_spec_t mod = { .device_id = "leaf", .module_id = "m", .parent_id = "edge1" };
    assert_int_equal(hub_error_info(hub_identity_create(f.hub, &mod, NULL))->code, 400004);
    /* update keeps the parent when parent_id is NULL, clears it with "" */
    hub_identity_spec_t keep = { .device_id = "leaf" };
    assert_int_equal(hub_identity_update(f.hub, &keep, NULL, &l), HUB_EOK);
    assert_string_equal(l.parent_id, "edge1");
    hub_identity_spec_t clear = { .device_id = "leaf", .parent_id = "" };
    assert_int_equal(hub_identity_update(f.hub, &clear, NULL, &l), HUB_EOK);
    assert_string_equal(l.parent_id, "");
    assert_string_equal(l.device_scope, "");
    /* a re-created gateway has a new scope: its old leaves are not its own */
    hub_identity_spec_t back = { .device_id = "leaf", .parent_id = "edge1" };
    assert_int_equal(hub_identity_update(f.hub, &back, NULL, NULL), HUB_EOK);
    assert_int_equal(hub_identity_delete(f.hub, "edge1", NULL, NULL), HUB_EOK);
    make_device(&f, "edge1", true, NULL);
    sink_t sg = { 0 }, sl = { 0 };
    hub_conn_t g = connect_dev(&f, "edge1", &sg), c = 0;
    assert_int_equal(hub_error_info(leaf_connect(&f, g, "leaf", "leaf", &sl, &c))->code, 401002);
    fx_free(&f);
}

/* A hub config's iotEdge/parentId provision the relation
 * (fixtures/hubs/gateways.json; a parent may come after its child). */
static void test_config_provisions_gateways(void **state)
{
    (void)state;
    const char *json = "{\"devices\":[{\"id\":\"leaf\",\"parentId\":\"gw\",\"keys\":{\"primary\":\"" KEY "\"}},"
                       "{\"id\":\"gw\",\"iotEdge\":true,\"keys\":{\"primary\":\"" KEY "\"}}],"
                       "\"gateways\":{\"leafAuth\":\"leafToken\"}}";
    hub_config_t cfg;
    assert_int_equal(hub_config_load_json(json, strlen(json), "t.json", &cfg, NULL), HS_EOK);
    assert_int_equal(cfg.gateways.leaf_auth, HUB_LEAF_AUTH_LEAF_TOKEN);
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_t *hub = NULL;
    char why[256] = "";
    assert_int_equal(hub_new(k, &cfg, &hub, why, sizeof why), HS_EOK);
    hub_config_free(&cfg);
    hub_identity_t l;
    assert_int_equal(hub_identity_get(hub, "leaf", NULL, &l), HUB_EOK);
    assert_string_equal(l.parent_id, "gw");
    hub_free(hub);
    sim_kernel_free(k);

    const char *root = getenv("HUBSIM_SOURCE_DIR");
    if (!root)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/hubs/gateways.json", root);
    assert_int_equal(hub_config_load_file(path, &cfg, NULL), HS_EOK);
    k = sim_kernel_new(1, EPOCH);
    assert_int_equal(hub_new(k, &cfg, &hub, why, sizeof why), HS_EOK);
    hub_config_free(&cfg);
    assert_int_equal(hub_identity_get(hub, "leaf-2b", NULL, &l), HUB_EOK);
    assert_string_equal(l.parent_id, "gateway-2");
    assert_int_equal(hub_identity_get(hub, "loner", NULL, &l), HUB_EOK);
    assert_string_equal(l.parent_id, "");
    hub_free(hub);
    sim_kernel_free(k);
}

/* ---- staged break switches: each one changes what these checks see ------------ */

static void test_break_switches(void **state)
{
    (void)state;
    const char *names[] = { "GATEWAY-LEAF-OFFLINE", "GATEWAY-SCOPE", "GATEWAY-EDGE-ONLY",
                            "GATEWAY-LEAF-C2D-QUEUE", "GATEWAY-SCOPE-REGISTRY" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        fx_t f = fx_new(HUB_LEAF_AUTH_EITHER);
        assert_int_equal(hub_break(f.hub, names[i]), HS_EOK);
        make_device(&f, "gw", true, NULL);
        make_device(&f, "plain", false, NULL);
        make_device(&f, "leaf", false, "gw");
        make_device(&f, "other", false, NULL);
        make_device(&f, "gw2", true, NULL);
        make_device(&f, "leaf2", false, "gw2");
        /* gw2 stops being an IoT Edge device: its leaves keep naming it */
        hub_identity_spec_t demote = { .device_id = "gw2", .has_iot_edge = true, .iot_edge = false };
        assert_int_equal(hub_identity_update(f.hub, &demote, NULL, NULL), HUB_EOK);
        sink_t sg = { 0 }, sp = { 0 }, sl = { 0 }, so = { 0 }, sx = { 0 };
        hub_conn_t g = connect_dev(&f, "gw", &sg), p = connect_dev(&f, "gw2", &sp), c = 0, co = 0, cx = 0;
        hub_err_t scope = leaf_connect(&f, g, "other", "other", &so, &co);
        hub_err_t edge = leaf_connect(&f, p, "leaf2", "leaf2", &sx, &cx);
        assert_int_equal(leaf_connect(&f, g, "leaf", "leaf", &sl, &c), HUB_EOK);
        assert_int_equal(hub_device_subscribe(f.hub, c, HUB_SUB_METHODS | HUB_SUB_C2D), HUB_EOK);
        send_c2d(&f, "leaf");
        assert_int_equal(hub_device_disconnect(f.hub, g), HUB_EOK);
        bool leaf_online = hub_device_is_connected(f.hub, c);
        hub_identity_spec_t reg = { .device_id = "y", .parent_id = "plain" };
        hub_err_t rege = hub_identity_create(f.hub, &reg, NULL);
        hub_identity_t li;
        assert_int_equal(hub_identity_get(f.hub, "leaf", NULL, &li), HUB_EOK);
        size_t depth = hub_c2d_depth(hub_c2d_store(f.hub), li.device_no);
        bool clean = !leaf_online && scope != HUB_EOK && edge != HUB_EOK && depth == 1 &&
                     rege != HUB_EOK;
        if (clean)
            fail_msg("switch %s changes nothing", names[i]);
        fx_free(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hundred_gateways_outage),
        cmocka_unit_test(test_scope_refusals),
        cmocka_unit_test(test_leaf_auth_knob),
        cmocka_unit_test(test_registry_scope_fields),
        cmocka_unit_test(test_config_provisions_gateways),
        cmocka_unit_test(test_break_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
