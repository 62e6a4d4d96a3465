/* Field gateways over AMQP, sans-IO: leaves multiplexed on a gateway's connection (own CBS token or the gateway's on their behalf), scope refusal, offline together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/connection_driver.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/message.h>
#include <proton/session.h>
#include <proton/terminus.h>
#include <proton/transport.h>

#include "serve/amqp/amqp_address.h"
#include "serve/amqp/amqp_codec.h"
#include "serve/amqp/amqp_session.h"
#include "serve/amqp/feeds.h"
#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

#include "amqp_pipe.h"

/* Expected statuses, conditions and property names are literals from
 * NOTES.md "AMQP 1.0" and the SDK sources cited in docs/amqp.md, never read
 * back from the session. */

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define EPOCH 1767225600LL
#define HOST "hubsim.azure-devices.net"

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    amqp_feeds_t *feeds;
    amqp_session_opts_t opts;
    amqp_pipe_t p; /* the server session and the proton client (tests/support/amqp_pipe.h) */
} fx_t;

typedef ap_rx_t rx_t;

/* The shared pipe's helpers, on the fixture. */
static void pump(fx_t *f) { ap_pump(&f->p); }
static pn_link_t *c_sender(fx_t *f, const char *name, const char *address)
{
    return ap_sender(&f->p, name, address);
}
static pn_link_t *c_receiver(fx_t *f, const char *name, const char *address, int credit)
{
    return ap_receiver(&f->p, name, address, credit);
}
static rx_t *last_on(fx_t *f, pn_link_t *l) { return ap_last_on(&f->p, l); }
static bool saw(const fx_t *f, const char *rule) { return ap_saw(&f->p, rule); }
#define put_app ap_put_app
#define status_of ap_status_of
#define d2c_msg ap_d2c_msg
#define peek_cb ap_peek_cb
typedef ap_cbs_t cbs_t;
typedef ap_peek_t peek_t;
static cbs_t cbs_open(fx_t *f) { return ap_cbs_open(&f->p); }
static int put_token(fx_t *f, cbs_t *c, const char *name, const char *token)
{
    return ap_put_token(&f->p, c, name, token);
}
static uint64_t send_d2c(fx_t *f, pn_link_t *l, const char *id, const char *body)
{
    return ap_send_d2c(&f->p, l, id, body);
}

/* ---- fixture ------------------------------------------------------------------------- */

/* A fresh server session and client connection (no SASL, CBS next). */
static void open_client(fx_t *f)
{
    ap_open(&f->p, f->hub, f->feeds, &(ap_open_t){ .host = HOST, .opts = &f->opts });
}

static fx_t *fx_new_hub(void)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->k = sim_kernel_new(7, EPOCH);
    char why[200];
    assert_int_equal(hub_new(f->k, NULL, &f->hub, why, sizeof why), HS_EOK);
    assert_int_equal(amqp_feeds_new(f->hub, NULL, &f->feeds), HS_EOK);
    amqp_session_opts_default(&f->opts);
    open_client(f);
    return f;
}

/* The AMQP connection is gone; the same client comes back on a new one. */
static void reconnect(fx_t *f)
{
    ap_close(&f->p);
    open_client(f);
}

static void fx_free(fx_t *f)
{
    char why[300];
    hs_err_t ck = ap_teardown(&f->p, f->k, f->hub, f->feeds, why, sizeof why);
    free(f);
    if (ck != HS_EOK)
        fail_msg("hub_check: %s", why);
}

static void device_token(const char *dev, const char *key, int64_t expiry, char *out, size_t cap)
{
    ap_device_token(HOST, dev, key, expiry, out, cap);
}

/* ---- gateway fixtures ------------------------------------------------------------------ */

static void make_ident(fx_t *f, const char *id, bool edge, const char *parent)
{
    hub_identity_spec_t s = { .device_id = id, .primary_key = KEY, .iot_edge = edge,
                              .parent_id = parent };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
}

static fx_t *gw_fx(void)
{
    fx_t *f = fx_new_hub();
    make_ident(f, "gw", true, NULL);
    make_ident(f, "leaf1", false, "gw");
    make_ident(f, "leaf2", false, "gw");
    make_ident(f, "stranger", false, NULL);
    return f;
}

/* put-token for `name_dev` with a token signed for `token_dev`. */
static int put_for(fx_t *f, cbs_t *c, const char *name_dev, const char *token_dev)
{
    char tok[600], name[300];
    device_token(token_dev, KEY, EPOCH + 3600, tok, sizeof tok);
    snprintf(name, sizeof name, HOST "%%2Fdevices%%2F%s", name_dev);
    return put_token(f, c, name, tok);
}

typedef struct {
    int calls, http, code;
} mres_t;

static void on_mres(void *ctx, const hub_method_result_t *r)
{
    mres_t *m = ctx;
    m->calls++;
    m->http = r->http_status;
    m->code = hub_error_info(r->error)->code;
}

static int invoke_code(fx_t *f, const char *dev)
{
    hub_method_call_t call = { .device_id = dev, .method_name = "ping", .payload = "{}",
                               .payload_len = 2 };
    mres_t r = { 0 };
    return hub_error_info(hub_method_invoke(f->hub, &call, on_mres, &r, NULL))->code;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Two leaves over the gateway's one AMQP connection: one with its own CBS
 * token, one with the gateway's token on its behalf; both send D2C under
 * their own identity; a device whose scope does not name the gateway is
 * refused 401 with a counted reason. */
static void test_two_leaves_one_connection(void **state)
{
    (void)state;
    fx_t *f = gw_fx();
    cbs_t c = cbs_open(f);
    assert_int_equal(put_for(f, &c, "gw", "gw"), 200);
    assert_int_equal(put_for(f, &c, "leaf1", "leaf1"), 200);
    assert_int_equal(put_for(f, &c, "leaf2", "gw"), 200);
    assert_int_equal(put_for(f, &c, "stranger", "stranger"), 401);
    assert_int_equal(put_for(f, &c, "stranger", "gw"), 401);
    assert_int_equal(hub_counter(f->hub, "gateway.leaf_opened"), 2);
    assert_int_equal(hub_counter(f->hub, "gateway.refused_scope"), 2);
    pn_link_t *a = c_sender(f, "a", "/devices/leaf1/messages/events");
    pn_link_t *b = c_sender(f, "b", "/devices/leaf2/messages/events");
    assert_int_equal(send_d2c(f, a, "a1", "{}"), PN_ACCEPTED);
    assert_int_equal(send_d2c(f, b, "b1", "{}"), PN_ACCEPTED);
    peek_t p = { 0 };
    amqp_feeds_read(f->feeds, "events", 1, peek_cb, &p);
    assert_string_equal(p.dev, "leaf2");
    amqp_session_stats_t st;
    amqp_session_stats(f->p.s, &st);
    assert_int_equal(st.identities, 3);
    /* both leaves are online for methods once subscribed; offline now */
    assert_int_equal(invoke_code(f, "leaf1"), 404103);
    /* the gateway renews its token: its leaves stay on */
    assert_int_equal(put_for(f, &c, "gw", "gw"), 200);
    assert_false(pn_link_state(a) & PN_REMOTE_CLOSED);
    assert_int_equal(send_d2c(f, a, "a2", "{}"), PN_ACCEPTED);
    assert_int_equal(hub_counter(f->hub, "gateway.leaf_dropped_gateway"), 0);
    assert_false(saw(f, "CLIENT-AMQP-CBS")); /* well-formed put-tokens all along */
    fx_free(f);
}

/* The hub drops the gateway: the leaves' links close, they are offline,
 * their C2D messages queue. */
static void test_gateway_drop_takes_leaves(void **state)
{
    (void)state;
    fx_t *f = gw_fx();
    cbs_t c = cbs_open(f);
    assert_int_equal(put_for(f, &c, "gw", "gw"), 200);
    assert_int_equal(put_for(f, &c, "leaf1", "leaf1"), 200);
    pn_link_t *a = c_sender(f, "a", "/devices/leaf1/messages/events");
    assert_int_equal(hub_device_drop(f->hub, "gw", NULL, "outage"), HUB_EOK);
    pump(f);
    assert_true(pn_link_state(a) & PN_REMOTE_CLOSED);
    hub_identity_t id;
    assert_int_equal(hub_identity_get(f->hub, "leaf1", NULL, &id), HUB_EOK);
    assert_false(id.connected);
    assert_int_equal(hub_counter(f->hub, "gateway.leaf_dropped_gateway"), 1);
    fx_free(f);
}

/* The AMQP connection closes: gateway and leaves go offline together;
 * methods to a leaf are 404103, C2D for it queues. */
static void test_transport_close_offline_together(void **state)
{
    (void)state;
    fx_t *f = gw_fx();
    cbs_t c = cbs_open(f);
    assert_int_equal(put_for(f, &c, "gw", "gw"), 200);
    assert_int_equal(put_for(f, &c, "leaf1", "leaf1"), 200);
    assert_int_equal(put_for(f, &c, "leaf2", "gw"), 200);
    pn_link_t *rx = c_receiver(f, "c2d", "/devices/leaf1/messages/devicebound", 5);
    assert_false(pn_link_state(rx) & PN_REMOTE_CLOSED);
    amqp_session_transport_closed(f->p.s);
    const char *leaves[] = { "gw", "leaf1", "leaf2" };
    for (size_t i = 0; i < 3; i++) {
        hub_identity_t id;
        assert_int_equal(hub_identity_get(f->hub, leaves[i], NULL, &id), HUB_EOK);
        assert_false(id.connected);
    }
    assert_int_equal(invoke_code(f, "leaf2"), 404103);
    hub_msg_t *m = hub_msg_new();
    assert_int_equal(hub_msg_set_body(m, "x", 1), HS_EOK);
    assert_int_equal(hub_c2d_send(f->hub, "leaf1", m, 0, NULL), HUB_EOK);
    hub_identity_t l1;
    assert_int_equal(hub_identity_get(f->hub, "leaf1", NULL, &l1), HUB_EOK);
    assert_int_equal(hub_c2d_depth(hub_c2d_store(f->hub), l1.device_no), 1);
    assert_int_equal(hub_counter(f->hub, "gateway.leaf_opened"),
                     hub_counter(f->hub, "gateway.leaf_dropped_gateway") +
                         hub_counter(f->hub, "gateway.leaf_closed"));
    /* The gateway comes back on a new connection with its leaf: the queued
     * message is delivered on the leaf's C2D link and completed. */
    reconnect(f);
    c = cbs_open(f);
    assert_int_equal(put_for(f, &c, "gw", "gw"), 200);
    assert_int_equal(put_for(f, &c, "leaf1", "gw"), 200);
    rx = c_receiver(f, "c2d", "/devices/leaf1/messages/devicebound", 5);
    rx_t *got = last_on(f, rx);
    assert_non_null(got);
    pn_delivery_update(got->d, PN_ACCEPTED);
    pn_delivery_settle(got->d);
    pump(f);
    hub_c2d_stats_t cs;
    hub_c2d_stats(hub_c2d_store(f->hub), &cs);
    assert_int_equal(cs.completed, 1);
    assert_int_equal(hub_c2d_depth(hub_c2d_store(f->hub), l1.device_no), 0);
    fx_free(f);
}

/* Without an IoT Edge identity on the connection, several devices still
 * share it as independent connections (plain multiplexing, unchanged). */
static void test_plain_multiplexing_unchanged(void **state)
{
    (void)state;
    fx_t *f = gw_fx();
    cbs_t c = cbs_open(f);
    assert_int_equal(put_for(f, &c, "stranger", "stranger"), 200);
    assert_int_equal(put_for(f, &c, "leaf1", "leaf1"), 200);
    assert_int_equal(hub_counter(f->hub, "gateway.leaf_opened"), 0);
    /* a token put for another device's name is still refused */
    assert_int_equal(put_for(f, &c, "leaf2", "leaf1"), 401);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_leaves_one_connection),
        cmocka_unit_test(test_gateway_drop_takes_leaves),
        cmocka_unit_test(test_transport_close_offline_together),
        cmocka_unit_test(test_plain_multiplexing_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
