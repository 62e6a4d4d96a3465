/* The AMQP session against a proton client driver in memory: auth modes, CBS, device and service links, feeds, client checks, break switches. */
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
#include <proton/sasl.h>
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
#define BADKEY "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define EPOCH 1767225600LL
#define HOST "hubsim.azure-devices.net"

enum { MODE_NO_SASL, MODE_ANON, MODE_PLAIN };

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
static pn_delivery_t *c_send(fx_t *f, pn_link_t *l, pn_message_t *m) { return ap_send(&f->p, l, m); }
static rx_t *last_on(fx_t *f, pn_link_t *l) { return ap_last_on(&f->p, l); }
static int count_on(fx_t *f, pn_link_t *l) { return ap_count_on(&f->p, l); }
static bool saw(const fx_t *f, const char *rule) { return ap_saw(&f->p, rule); }
#define refused ap_refused
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

static void make_device(fx_t *f, const char *id)
{
    hub_identity_spec_t s = { .device_id = id, .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
}

static fx_t *fx_new_cfg(int mode, const char *user, const char *pass, const hub_config_t *cfg,
                        unsigned breaks)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->k = sim_kernel_new(7, EPOCH);
    char why[200];
    assert_int_equal(hub_new(f->k, cfg, &f->hub, why, sizeof why), HS_EOK);
    make_device(f, "dev1");
    make_device(f, "dev2");
    assert_int_equal(amqp_feeds_new(f->hub, NULL, &f->feeds), HS_EOK);
    amqp_session_opts_default(&f->opts);
    f->opts.breaks = breaks;
    ap_open_t o = { .host = HOST, .opts = &f->opts };
    if (mode != MODE_NO_SASL)
        o.sasl_mechs = mode == MODE_ANON ? "ANONYMOUS" : "PLAIN";
    if (mode == MODE_PLAIN) {
        o.user = user;
        o.password = pass;
    }
    ap_open(&f->p, f->hub, f->feeds, &o);
    return f;
}

static fx_t *fx_new(int mode, unsigned breaks)
{
    return fx_new_cfg(mode, NULL, NULL, NULL, breaks);
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

static void service_token(fx_t *f, char *out, size_t cap)
{
    const hub_config_policy_t *p = &hub_config(f->hub)->policies[0];
    assert_int_equal(hub_sas_make(p->primary_key, HOST, EPOCH + 3600, p->name, out, cap), HS_EOK);
}

/* ---- client helpers ----------------------------------------------------------------------- */

static char *app_of(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_properties(m);
    return amqp_map_find(p, key, false) ? amqp_data_text(p) : NULL;
}

static char *ann_of(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_annotations(m);
    return amqp_map_find(p, key, false) ? amqp_data_text(p) : NULL;
}

static pn_type_t ann_type(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_annotations(m);
    return amqp_map_find(p, key, false) ? pn_data_type(p) : PN_NULL;
}

static char *body_of(pn_message_t *m)
{
    pn_data_t *b = pn_message_body(m);
    pn_data_rewind(b);
    if (!pn_data_next(b))
        return strdup("");
    return amqp_data_text(b);
}

static int auth_device(fx_t *f, cbs_t *c, const char *dev)
{
    char tok[600], name[300];
    device_token(dev, KEY, EPOCH + 3600, tok, sizeof tok);
    snprintf(name, sizeof name, HOST "%%2Fdevices%%2F%s", dev);
    return put_token(f, c, name, tok);
}

static int auth_service(fx_t *f, cbs_t *c)
{
    char tok[600];
    service_token(f, tok, sizeof tok);
    return put_token(f, c, HOST, tok);
}

/* ---- tests: authentication -------------------------------------------------------------- */

static void d2c_roundtrip(fx_t *f, cbs_t *c)
{
    assert_int_equal(auth_device(f, c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_false(pn_link_state(tx) & PN_REMOTE_CLOSED);
    assert_int_equal(send_d2c(f, tx, "m-1", "{\"t\":1}"), PN_ACCEPTED);
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 1);
    peek_t p = { 0 };
    amqp_feeds_read(f->feeds, "events", 1, peek_cb, &p);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.app_temp, "21");
    assert_string_equal(p.msg_id, "m-1");
    assert_string_equal(p.dev, "dev1");
}

static void test_auth_no_sasl_cbs(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    d2c_roundtrip(f, &c);
    amqp_session_stats_t st;
    amqp_session_stats(f->p.s, &st);
    assert_int_equal(st.sasl_ok, 0);
    assert_int_equal(st.cbs_ok, 1);
    assert_int_equal(st.identities, 1);
    fx_free(f);
}

static void test_auth_anonymous_cbs(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_ANON, 0);
    cbs_t c = cbs_open(f);
    d2c_roundtrip(f, &c);
    amqp_session_stats_t st;
    amqp_session_stats(f->p.s, &st);
    assert_int_equal(st.sasl_ok, 1);
    fx_free(f);
}

static void test_auth_plain_device(void **state)
{
    (void)state;
    char tok[600];
    device_token("dev1", KEY, EPOCH + 3600, tok, sizeof tok);
    fx_t *f = fx_new_cfg(MODE_PLAIN, "dev1@sas.hubsim", tok, NULL, 0);
    /* no CBS at all: the SASL PLAIN password authorized dev1 */
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_false(pn_link_state(tx) & PN_REMOTE_CLOSED);
    assert_int_equal(send_d2c(f, tx, "m-1", "{}"), PN_ACCEPTED);
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 1);
    /* dev2 was not authorized by that token */
    pn_link_t *tx2 = c_sender(f, "d2c-2", "/devices/dev2/messages/events");
    assert_true(refused(tx2, "amqp:unauthorized-access"));
    fx_free(f);
}

static void test_auth_plain_refused(void **state)
{
    (void)state;
    char tok[600];
    device_token("dev1", BADKEY, EPOCH + 3600, tok, sizeof tok);
    fx_t *f = fx_new_cfg(MODE_PLAIN, "dev1@sas.hubsim", tok, NULL, 0);
    assert_int_equal(f->p.closes, 1);
    assert_non_null(strstr(f->p.close_reason, "amqp:unauthorized-access"));
    amqp_session_stats_t st;
    amqp_session_stats(f->p.s, &st);
    assert_int_equal(st.sasl_refused, 1);
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 0);
    fx_free(f);

    /* a user name that does not match the token's device is refused too */
    device_token("dev1", KEY, EPOCH + 3600, tok, sizeof tok);
    f = fx_new_cfg(MODE_PLAIN, "dev2@sas.hubsim", tok, NULL, 0);
    assert_int_equal(f->p.closes, 1);
    assert_true(saw(f, "CLIENT-AMQP-AUTH"));
    fx_free(f);
}

static void test_auth_plain_service(void **state)
{
    (void)state;
    fx_t *probe = fx_new(MODE_NO_SASL, 0);
    char tok[600];
    service_token(probe, tok, sizeof tok);
    fx_free(probe);
    fx_t *f = fx_new_cfg(MODE_PLAIN, "iothubowner@sas.root.hubsim", tok, NULL, 0);
    pn_link_t *tx = c_sender(f, "svc", "/messages/devicebound");
    assert_false(pn_link_state(tx) & PN_REMOTE_CLOSED);
    fx_free(f);
}

static void test_auth_mode_knobs(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.amqp.allow_no_sasl = false;
    fx_t *f = fx_new_cfg(MODE_NO_SASL, NULL, NULL, &cfg, 0);
    assert_int_equal(f->p.closes, 1); /* "Client skipped authentication - forbidden" */
    fx_free(f);

    hub_config_defaults(&cfg);
    cfg.amqp.allow_sasl_anonymous = false;
    f = fx_new_cfg(MODE_ANON, NULL, NULL, &cfg, 0);
    /* ANONYMOUS is not offered: the client finds no mechanism and gives up */
    assert_true(pn_condition_is_set(pn_transport_condition(f->p.c.transport)));
    amqp_session_stats_t st;
    amqp_session_stats(f->p.s, &st);
    assert_int_equal(st.sasl_ok, 0);
    fx_free(f);

    /* with the mode on, the same clients get through */
    f = fx_new(MODE_ANON, 0);
    assert_int_equal(f->p.closes, 0);
    fx_free(f);
}

static void test_cbs_401_bad_token(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    char tok[600];
    device_token("dev1", BADKEY, EPOCH + 3600, tok, sizeof tok);
    assert_int_equal(put_token(f, &c, HOST "/devices/dev1", tok), 401);
    char *desc = app_of(last_on(f, c.rx)->m, "status-description");
    assert_non_null(desc);
    assert_non_null(strstr(desc, "IotHubUnauthorizedAccess"));
    free(desc);
    /* expired */
    device_token("dev1", KEY, EPOCH - 10, tok, sizeof tok);
    assert_int_equal(put_token(f, &c, HOST "/devices/dev1", tok), 401);
    /* garbage */
    assert_int_equal(put_token(f, &c, HOST "/devices/dev1", "not a token"), 401);
    /* the device links stay closed */
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_true(refused(tx, "amqp:unauthorized-access"));
    /* a service token with a bad key does not open service links */
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *svc = c_sender(f, "svc", "/messages/devicebound");
    assert_true(refused(svc, "amqp:unauthorized-access"));
    fx_free(f);
}

static void test_links_refused_before_auth(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_true(refused(tx, "amqp:unauthorized-access"));
    assert_true(saw(f, "CLIENT-AMQP-AUTH"));
    pn_link_t *rx = c_receiver(f, "fb", "/messages/serviceBound/feedback", 5);
    assert_true(refused(rx, "amqp:unauthorized-access"));
    pn_link_t *bad = c_sender(f, "x", "/nowhere/at/all");
    assert_true(refused(bad, "amqp:not-found"));
    assert_true(saw(f, "CLIENT-AMQP-LINK"));
    /* wrong direction: a receiver on the D2C address */
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *wrong = c_receiver(f, "w", "/devices/dev1/messages/events", 1);
    assert_true(refused(wrong, "amqp:not-found"));
    /* after auth: the amqps:// prefix and any case are accepted */
    pn_link_t *ok = c_sender(f, "d2c2", "amqps://" HOST "/DEVICES/dev1/Messages/Events");
    assert_false(pn_link_state(ok) & PN_REMOTE_CLOSED);
    fx_free(f);
}

static void test_multiplexed_devices(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_ANON, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    assert_int_equal(auth_device(f, &c, "dev2"), 200);
    pn_link_t *a = c_sender(f, "a", "/devices/dev1/messages/events");
    pn_link_t *b = c_sender(f, "b", "/devices/dev2/messages/events");
    assert_int_equal(send_d2c(f, a, "a1", "{}"), PN_ACCEPTED);
    assert_int_equal(send_d2c(f, b, "b1", "{}"), PN_ACCEPTED);
    peek_t p = { 0 };
    amqp_feeds_read(f->feeds, "events", 2, peek_cb, &p);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.dev, "dev2");
    amqp_session_stats_t st;
    amqp_session_stats(f->p.s, &st);
    assert_int_equal(st.identities, 2);
    /* token renewal keeps dev1 working */
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    assert_false(pn_link_state(a) & PN_REMOTE_CLOSED);
    assert_int_equal(send_d2c(f, a, "a2", "{}"), PN_ACCEPTED);
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 3);
    fx_free(f);
}

/* ---- tests: D2C --------------------------------------------------------------------------- */

static void test_d2c_properties_and_limits(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    pn_link_t *ev = NULL;
    assert_int_equal(auth_service(f, &c), 200);
    ev = c_receiver(f, "ev", "/messages/events", 10);
    /* spoofed stamped annotation is replaced by the hub */
    pn_message_t *m = d2c_msg("m-1", "{\"a\":1}");
    pn_data_t *a = pn_message_annotations(m);
    pn_data_put_map(a);
    pn_data_enter(a);
    pn_data_put_symbol(a, pn_bytes(strlen("iothub-connection-device-id"), "iothub-connection-device-id"));
    pn_data_put_string(a, pn_bytes(5, "liar!"));
    pn_data_exit(a);
    pn_delivery_t *d = c_send(f, tx, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    rx_t *r = last_on(f, ev);
    assert_non_null(r);
    char *dev = ann_of(r->m, "iothub-connection-device-id");
    assert_string_equal(dev, "dev1");
    free(dev);
    assert_string_equal(pn_message_get_content_type(r->m), "application/json");
    assert_string_equal(pn_message_get_content_encoding(r->m), "utf-8");
    char *corr = amqp_atom_text(pn_message_get_correlation_id(r->m));
    assert_string_equal(corr, "corr");
    free(corr);

    /* 256 KB + 1 body: amqp:link:message-size-exceeded */
    size_t big = 256 * 1024 + 1;
    char *body = malloc(big + 1);
    memset(body, 'x', big);
    body[big] = '\0';
    m = d2c_msg("m-2", body);
    free(body);
    d = c_send(f, tx, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_REJECTED);
    assert_string_equal(pn_condition_get_name(pn_disposition_condition(pn_delivery_remote(d))),
                        "amqp:link:message-size-exceeded");
    assert_int_equal(hub_counter(f->hub, "d2c.rejected_size"), 1);

    /* a bad MessageId: com.microsoft:argument-error */
    m = d2c_msg("bad id with spaces", "{}");
    d = c_send(f, tx, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_REJECTED);
    assert_string_equal(pn_condition_get_name(pn_disposition_condition(pn_delivery_remote(d))),
                        "com.microsoft:argument-error");
    /* a compound application property */
    m = pn_message();
    pn_data_t *p = pn_message_properties(m);
    pn_data_put_map(p);
    pn_data_enter(p);
    pn_data_put_string(p, pn_bytes(1, "k"));
    pn_data_put_list(p);
    pn_data_exit(p);
    d = c_send(f, tx, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_REJECTED);
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 1);
    fx_free(f);
}

/* ---- tests: C2D ---------------------------------------------------------------------------- */

static void enqueue_c2d(fx_t *f, const char *dev, const char *id, const char *ack)
{
    hub_msg_t *m = hub_msg_new();
    hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, id);
    if (ack)
        hub_msg_set_sys(m, HUB_SYS_ACK, ack);
    hub_msg_add_app(m, "color", "blue");
    hub_msg_set_body(m, "hello", 5);
    assert_int_equal(hub_c2d_send(f->hub, dev, m, 0, NULL), HUB_EOK);
}

static void test_c2d_settle_mapping(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    enqueue_c2d(f, "dev1", "c1", NULL);
    enqueue_c2d(f, "dev1", "c2", NULL);
    enqueue_c2d(f, "dev1", "c3", NULL);
    pn_link_t *rx = c_receiver(f, "c2d", "/devices/dev1/messages/devicebound", 0);
    assert_int_equal(count_on(f, rx), 0); /* no credit, nothing sent */
    pn_link_flow(rx, 3);
    pump(f);
    assert_int_equal(count_on(f, rx), 3);
    char *body = body_of(f->p.rx[f->p.n_rx - 3].m);
    assert_string_equal(body, "hello");
    free(body);
    char *color = app_of(f->p.rx[f->p.n_rx - 3].m, "color");
    assert_string_equal(color, "blue");
    free(color);
    pn_delivery_update(f->p.rx[f->p.n_rx - 3].d, PN_ACCEPTED);
    pn_delivery_settle(f->p.rx[f->p.n_rx - 3].d);
    pn_delivery_update(f->p.rx[f->p.n_rx - 2].d, PN_REJECTED);
    pn_delivery_settle(f->p.rx[f->p.n_rx - 2].d);
    pn_delivery_update(f->p.rx[f->p.n_rx - 1].d, PN_RELEASED);
    pn_delivery_settle(f->p.rx[f->p.n_rx - 1].d);
    pump(f);
    hub_c2d_stats_t cs;
    hub_c2d_stats(hub_c2d_store(f->hub), &cs);
    assert_int_equal(cs.completed, 1);
    assert_int_equal(cs.rejected, 1);
    assert_int_equal(cs.abandoned, 1);
    /* the abandoned one comes back at once (credit 0 left) */
    pn_link_flow(rx, 1);
    pump(f);
    assert_int_equal(count_on(f, rx), 4);
    assert_int_equal(pn_message_get_delivery_count(last_on(f, rx)->m), 1);
    /* detach with it unsettled: abandoned and reported */
    pn_link_close(rx);
    pump(f);
    hub_c2d_stats(hub_c2d_store(f->hub), &cs);
    assert_int_equal(cs.abandoned, 2);
    assert_true(saw(f, "CLIENT-AMQP-UNSETTLED"));
    fx_free(f);
}

/* ---- tests: methods ------------------------------------------------------------------------- */

typedef struct {
    int calls;
    hub_method_result_t r;
    char payload[128];
} mres_t;

static void on_mres(void *ctx, const hub_method_result_t *r)
{
    mres_t *m = ctx;
    m->calls++;
    m->r = *r;
    snprintf(m->payload, sizeof m->payload, "%.*s", (int)r->payload_len, r->payload ? r->payload : "");
    m->r.payload = NULL;
}

static void invoke(fx_t *f, const char *name, int timeout_s, mres_t *res)
{
    hub_method_call_t call = { .device_id = "dev1",
                               .method_name = name,
                               .payload = "{\"x\":1}",
                               .payload_len = 7,
                               .has_response_timeout = true,
                               .response_timeout_s = timeout_s };
    assert_int_equal(hub_method_invoke(f->hub, &call, on_mres, res, NULL), HUB_EOK);
    pump(f);
}

static pn_delivery_t *respond(fx_t *f, pn_link_t *tx, const char *rid, const char *status,
                              const char *body)
{
    pn_message_t *m = pn_message();
    pn_atom_t cid = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(rid), rid) };
    pn_message_set_correlation_id(m, cid);
    const char *kv[] = { "IoThub-status", status, NULL };
    put_app(m, kv);
    pn_data_put_binary(pn_message_body(m), pn_bytes(strlen(body), body));
    pn_message_set_inferred(m, true);
    pn_delivery_t *d = c_send(f, tx, m);
    pn_message_free(m);
    return d;
}

static void test_method_roundtrip_and_timeout(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "m-tx", "/devices/dev1/methods/devicebound");
    pn_link_t *rx = c_receiver(f, "m-rx", "/devices/dev1/methods/deviceBound", 10);
    mres_t res = { 0 };
    invoke(f, "reboot", 30, &res);
    rx_t *r = last_on(f, rx);
    assert_non_null(r);
    char *name = app_of(r->m, "IoThub-methodname");
    assert_string_equal(name, "reboot");
    free(name);
    char *body = body_of(r->m);
    assert_string_equal(body, "{\"x\":1}");
    free(body);
    char *rid = amqp_atom_text(pn_message_get_correlation_id(r->m));
    assert_non_null(rid);
    pn_delivery_update(r->d, PN_ACCEPTED);
    pn_delivery_settle(r->d);
    pn_delivery_t *d = respond(f, tx, rid, "201", "{\"done\":true}");
    free(rid);
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.r.http_status, 200);
    assert_int_equal(res.r.device_status, 201);
    assert_string_equal(res.payload, "{\"done\":true}");

    /* no answer within 5 s: 504 */
    mres_t late = { 0 };
    invoke(f, "slow", 5, &late);
    assert_int_equal(count_on(f, rx), 2);
    sim_kernel_run_until(f->k, sim_kernel_now(f->k) + 6 * SIM_SEC);
    assert_int_equal(late.calls, 1);
    assert_int_equal(late.r.http_status, 504);
    assert_false(saw(f, "CLIENT-AMQP-UNKNOWN-RID"));

    /* an answer with a correlation id no request carried */
    d = respond(f, tx, "deadbeef", "200", "{}");
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    assert_true(saw(f, "CLIENT-AMQP-UNKNOWN-RID"));
    /* no IoThub-status: refused */
    pn_message_t *m = pn_message();
    pn_atom_t cid = { .type = PN_STRING, .u.as_bytes = pn_bytes(2, "ab") };
    pn_message_set_correlation_id(m, cid);
    d = c_send(f, tx, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_REJECTED);
    assert_string_equal(pn_condition_get_name(pn_disposition_condition(pn_delivery_remote(d))),
                        "com.microsoft:argument-error");
    fx_free(f);
}

/* ---- tests: twin --------------------------------------------------------------------------- */

static pn_message_t *twin_req(const char *op, const char *resource, const char *corr, const char *body)
{
    pn_message_t *m = pn_message();
    pn_atom_t cid = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(corr), corr) };
    pn_message_set_correlation_id(m, cid);
    pn_data_t *a = pn_message_annotations(m);
    pn_data_put_map(a);
    pn_data_enter(a);
    pn_data_put_symbol(a, pn_bytes(9, "operation"));
    pn_data_put_string(a, pn_bytes(strlen(op), op));
    if (resource) {
        pn_data_put_symbol(a, pn_bytes(8, "resource"));
        pn_data_put_string(a, pn_bytes(strlen(resource), resource));
    }
    pn_data_exit(a);
    if (body) {
        pn_data_put_binary(pn_message_body(m), pn_bytes(strlen(body), body));
        pn_message_set_inferred(m, true);
    }
    return m;
}

static void test_twin_get_patch_desired(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "t-tx", "/devices/dev1/twin");
    pn_link_t *rx = c_receiver(f, "t-rx", "/devices/dev1/twin", 10);
    pn_message_t *m = twin_req("PATCH", "/properties/reported", "p1", "{\"fw\":\"1.0\"}");
    c_send(f, tx, m);
    pn_message_free(m);
    rx_t *r = last_on(f, rx);
    assert_non_null(r);
    char *st = ann_of(r->m, "status");
    assert_string_equal(st, "204");
    free(st);
    m = twin_req("GET", NULL, "g1", " ");
    c_send(f, tx, m);
    pn_message_free(m);
    r = last_on(f, rx);
    char *corr = amqp_atom_text(pn_message_get_correlation_id(r->m));
    assert_string_equal(corr, "g1");
    free(corr);
    char *body = body_of(r->m);
    assert_non_null(strstr(body, "\"fw\":\"1.0\""));
    free(body);
    m = twin_req("PUT", "/notifications/twin/properties/desired", "n1", " ");
    c_send(f, tx, m);
    pn_message_free(m);
    int before = count_on(f, rx);
    assert_int_equal(hub_twin_patch(f->hub, "dev1", NULL, "{\"properties\":{\"desired\":{\"x\":5}}}",
                                    strlen("{\"properties\":{\"desired\":{\"x\":5}}}"), NULL, NULL),
                     HUB_EOK);
    pump(f);
    assert_int_equal(count_on(f, rx), before + 1);
    r = last_on(f, rx);
    assert_true(pn_message_get_correlation_id(r->m).type == PN_NULL);
    body = body_of(r->m);
    assert_non_null(strstr(body, "\"x\":5"));
    free(body);
    fx_free(f);
}

/* ---- tests: service side ----------------------------------------------------------------------- */

static void test_service_c2d_and_feedback(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_service(f, &c), 200);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *svc = c_sender(f, "svc", "/messages/devicebound");
    pn_link_t *fb = c_receiver(f, "fb", "/messages/serviceBound/feedback", 10);
    assert_false(pn_link_state(fb) & PN_REMOTE_CLOSED);
    pn_message_t *m = pn_message();
    pn_atom_t mid = { .type = PN_STRING, .u.as_bytes = pn_bytes(5, "c2d-1") };
    pn_message_set_id(m, mid);
    pn_message_set_address(m, "/devices/dev1/messages/devicebound");
    const char *kv[] = { "iothub-ack", "full", "k", "v", NULL };
    put_app(m, kv);
    pn_data_put_binary(pn_message_body(m), pn_bytes(2, "hi"));
    pn_message_set_inferred(m, true);
    pn_delivery_t *d = c_send(f, svc, m);
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    assert_int_equal(hub_counter(f->hub, "c2d.sent"), 1);
    /* to an unknown device: amqp:not-found */
    pn_message_set_address(m, "/devices/nobody/messages/devicebound");
    d = c_send(f, svc, m);
    assert_int_equal(pn_delivery_remote_state(d), PN_REJECTED);
    assert_string_equal(pn_condition_get_name(pn_disposition_condition(pn_delivery_remote(d))),
                        "amqp:not-found");
    pn_message_free(m);

    pn_link_t *rx = c_receiver(f, "c2d", "/devices/dev1/messages/devicebound", 5);
    rx_t *r = last_on(f, rx);
    assert_non_null(r);
    char *v = app_of(r->m, "k");
    assert_string_equal(v, "v");
    free(v);
    assert_null(app_of(r->m, "iothub-ack"));
    pn_delivery_update(r->d, PN_ACCEPTED);
    pn_delivery_settle(r->d);
    pump(f);
    hub_c2d_flush_feedback(hub_c2d_store(f->hub));
    pump(f);
    r = last_on(f, fb);
    assert_non_null(r);
    assert_string_equal(pn_message_get_content_type(r->m),
                        "application/vnd.microsoft.iothub.feedback.json");
    char *body = body_of(r->m);
    assert_non_null(strstr(body, "\"originalMessageId\":\"c2d-1\""));
    assert_non_null(strstr(body, "Success"));
    assert_non_null(strstr(body, "\"deviceId\":\"dev1\""));
    free(body);
    pn_delivery_update(r->d, PN_ACCEPTED);
    pn_delivery_settle(r->d);
    pump(f);
    amqp_feedback_stats_t fs;
    amqp_feeds_feedback_stats(f->feeds, &fs);
    assert_int_equal(fs.batches, 1);
    assert_int_equal(fs.consumed, 1);
    /* a second feedback receiver starts after the consumed batch */
    pn_link_t *fb2 = c_receiver(f, "fb2", "/messages/servicebound/feedback", 10);
    assert_int_equal(count_on(f, fb2), 0);
    fx_free(f);
}

static void test_events_receiver(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_service(f, &c), 200);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_int_equal(send_d2c(f, tx, "e-1", "{\"n\":1}"), PN_ACCEPTED);
    /* attached later: no filter = everything retained */
    pn_link_t *ev = c_receiver(f, "ev", "/messages/events", 10);
    assert_int_equal(count_on(f, ev), 1);
    rx_t *r = last_on(f, ev);
    char *dev = ann_of(r->m, "iothub-connection-device-id");
    assert_string_equal(dev, "dev1");
    free(dev);
    char *auth = ann_of(r->m, "iothub-connection-auth-method");
    assert_non_null(auth);
    free(auth);
    char *seq = ann_of(r->m, "x-opt-sequence-number");
    assert_string_equal(seq, "1");
    free(seq);
    assert_int_equal(ann_type(r->m, "x-opt-enqueued-time"), PN_TIMESTAMP);
    assert_int_equal(ann_type(r->m, "iothub-enqueuedtime"), PN_TIMESTAMP);
    char *b = body_of(r->m);
    assert_string_equal(b, "{\"n\":1}");
    free(b);
    /* live delivery, and the Event Hubs form with a partition */
    hub_identity_t who;
    assert_int_equal(hub_identity_get(f->hub, "dev1", NULL, &who), HUB_EOK);
    int mine = (int)(who.device_no % 4);
    char addr[80];
    snprintf(addr, sizeof addr, "hubsim/ConsumerGroups/$Default/Partitions/%d", mine);
    pn_link_t *pm = c_receiver(f, "pm", addr, 10);
    snprintf(addr, sizeof addr, "hubsim/ConsumerGroups/$Default/Partitions/%d", (mine + 1) % 4);
    pn_link_t *po = c_receiver(f, "po", addr, 10);
    assert_int_equal(count_on(f, pm), 1); /* e-1 is retained */
    assert_int_equal(count_on(f, po), 0);
    assert_int_equal(send_d2c(f, tx, "e-2", "{}"), PN_ACCEPTED);
    assert_int_equal(count_on(f, ev), 2);
    assert_int_equal(count_on(f, pm), 2);
    assert_int_equal(count_on(f, po), 0);
    /* credit bounds what is in flight; the log buffers the rest */
    pn_link_t *slow = c_receiver(f, "slow", "/messages/events", 1);
    assert_int_equal(count_on(f, slow), 1);
    pn_link_flow(slow, 5);
    pump(f);
    assert_int_equal(count_on(f, slow), 2);
    /* an offset filter */
    pn_link_t *fl = pn_receiver(f->p.ssn, "filtered");
    pn_terminus_t *src = pn_link_source(fl);
    pn_terminus_set_address(src, "/messages/events");
    pn_data_t *flt = pn_terminus_filter(src);
    pn_data_put_map(flt);
    pn_data_enter(flt);
    pn_data_put_symbol(flt, pn_bytes(strlen("apache.org:selector-filter:string"),
                                     "apache.org:selector-filter:string"));
    pn_data_put_described(flt);
    pn_data_enter(flt);
    pn_data_put_symbol(flt, pn_bytes(strlen("apache.org:selector-filter:string"),
                                     "apache.org:selector-filter:string"));
    const char *expr = "amqp.annotation.x-opt-offset > '1'";
    pn_data_put_string(flt, pn_bytes(strlen(expr), expr));
    pn_data_exit(flt);
    pn_data_exit(flt);
    pn_link_open(fl);
    pn_link_flow(fl, 10);
    pump(f);
    /* only seq 2 is after offset 1 */
    assert_int_equal(count_on(f, fl), 1);
    char *s2 = ann_of(last_on(f, fl)->m, "x-opt-sequence-number");
    assert_string_equal(s2, "2");
    free(s2);
    amqp_feed_stats_t fs;
    assert_int_equal(amqp_feeds_stats(f->feeds, "events", &fs), HS_EOK);
    assert_int_equal(fs.delivered, 2);
    fx_free(f);
}

/* ---- tests: robustness --------------------------------------------------------------------------- */

static void garbage_session(const void *bytes, size_t len, bool after_header)
{
    fx_t *f = calloc(1, sizeof *f);
    f->k = sim_kernel_new(1, EPOCH);
    char why[100];
    assert_int_equal(hub_new(f->k, NULL, &f->hub, why, sizeof why), HS_EOK);
    ap_open_server(&f->p, f->hub, NULL, NULL);
    if (after_header)
        amqp_session_input(f->p.s, "AMQP\0\1\0\0", 8);
    for (size_t i = 0; i < len; i += 7)
        amqp_session_input(f->p.s, (const char *)bytes + i, len - i < 7 ? len - i : 7);
    assert_int_equal(f->p.closes, 1);
    amqp_session_input(f->p.s, bytes, len); /* ignored after close */
    assert_int_equal(f->p.closes, 1);
    ap_close(&f->p);
    hub_free(f->hub);
    sim_kernel_free(f->k);
    free(f);
}

static void test_garbage_input(void **state)
{
    (void)state;
    garbage_session("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, false);
    unsigned char junk[256];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    garbage_session(junk, sizeof junk, false);
    garbage_session(junk, sizeof junk, true);
    /* a frame header announcing a huge frame */
    unsigned char frame[] = { 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0x00, 0x53, 0x10 };
    garbage_session(frame, sizeof frame, true);

    /* a transfer that is not an AMQP message: rejected amqp:decode-error, session lives */
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    pn_delivery_t *d = pn_delivery(tx, pn_dtag("g", 1));
    pn_link_send(tx, "\xff\xfe\xfd", 3);
    pn_link_advance(tx);
    pump(f);
    assert_int_equal(pn_delivery_remote_state(d), PN_REJECTED);
    assert_string_equal(pn_condition_get_name(pn_disposition_condition(pn_delivery_remote(d))),
                        "amqp:decode-error");
    assert_int_equal(send_d2c(f, tx, "ok", "{}"), PN_ACCEPTED);
    /* the transport closing drops the hub connection */
    amqp_session_transport_closed(f->p.s);
    assert_true(amqp_session_closed(f->p.s));
    amqp_session_stats_t st;
    amqp_session_stats(f->p.s, &st);
    assert_int_equal(st.identities, 0);
    fx_free(f);
}

static void test_hub_drop_closes_links(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, 0);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_int_equal(hub_device_drop(f->hub, "dev1", NULL, "test drop"), HUB_EOK);
    pump(f);
    assert_true(pn_link_state(tx) & PN_REMOTE_CLOSED);
    assert_non_null(pn_condition_get_name(pn_link_remote_condition(tx)));
    fx_free(f);
}

/* ---- tests: parsers and feeds --------------------------------------------------------------------- */

static void test_address_parse(void **state)
{
    (void)state;
    amqp_addr_t a;
    assert_int_equal(amqp_addr_parse("$cbs", "hubsim", false, &a), AMQP_ADDR_CBS);
    assert_int_equal(amqp_addr_parse("/devices/d%2F1/messages/events", "hubsim", false, &a), AMQP_ADDR_D2C);
    assert_string_equal(a.device_id, "d/1");
    assert_int_equal(amqp_addr_parse("devices/d/modules/m/messages/events", "hubsim", false, &a),
                     AMQP_ADDR_D2C);
    assert_string_equal(a.module_id, "m");
    assert_int_equal(amqp_addr_parse("amqps://h.azure-devices.net/devices/d/messages/deviceBound",
                                     "hubsim", false, &a),
                     AMQP_ADDR_C2D);
    assert_int_equal(amqp_addr_parse("/devices/d/methods/devicebound", "hubsim", false, &a),
                     AMQP_ADDR_METHODS);
    assert_int_equal(amqp_addr_parse("/devices/d/twin", "hubsim", false, &a), AMQP_ADDR_TWIN);
    assert_int_equal(amqp_addr_parse("/messages/devicebound", "hubsim", false, &a), AMQP_ADDR_SVC_C2D);
    assert_int_equal(amqp_addr_parse("/messages/serviceBound/feedback", "hubsim", false, &a),
                     AMQP_ADDR_SVC_FEEDBACK);
    assert_int_equal(amqp_addr_parse("/messages/serviceBound/feedback", "hubsim", true, &a),
                     AMQP_ADDR_UNKNOWN);
    assert_int_equal(amqp_addr_parse("HubSim/ConsumerGroups/cg1/Partitions/3", "hubsim", false, &a),
                     AMQP_ADDR_SVC_EVENTS);
    assert_string_equal(a.consumer_group, "cg1");
    assert_int_equal(a.partition, 3);
    assert_int_equal(amqp_addr_parse("/messages/events", "hubsim", false, &a), AMQP_ADDR_SVC_EVENTS);
    assert_int_equal(a.partition, -1);
    assert_int_equal(amqp_addr_parse("/devices//messages/events", "hubsim", false, &a), AMQP_ADDR_UNKNOWN);
    assert_int_equal(amqp_addr_parse("/devices/d/messages/other", "hubsim", false, &a), AMQP_ADDR_UNKNOWN);
    assert_int_equal(amqp_addr_parse(NULL, "hubsim", false, &a), AMQP_ADDR_UNKNOWN);
    assert_int_equal(amqp_addr_parse("other/ConsumerGroups/x/Partitions/1", "hubsim", false, &a),
                     AMQP_ADDR_UNKNOWN);
}

static bool count_cb(void *ctx, const amqp_feed_entry_t *e)
{
    (void)e;
    ++*(int *)ctx;
    return true;
}

static void test_feeds_bound(void **state)
{
    (void)state;
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_t *hub;
    char why[100];
    assert_int_equal(hub_new(k, NULL, &hub, why, sizeof why), HS_EOK);
    hub_identity_spec_t s = { .device_id = "d", .primary_key = KEY };
    assert_int_equal(hub_identity_create(hub, &s, NULL), HUB_EOK);
    amqp_feeds_opts_t o;
    amqp_feeds_opts_default(&o);
    assert_int_equal(o.retain, 10000);
    o.retain = 3;
    amqp_feeds_t *f;
    assert_int_equal(amqp_feeds_new(hub, &o, &f), HS_EOK);
    char tok[600];
    device_token("d", KEY, EPOCH + 3600, tok, sizeof tok);
    hub_connect_params_t p = { .device_id = "d", .sas_token = tok, .protocol = HUB_PROTO_AMQP };
    hub_conn_t conn;
    assert_int_equal(hub_device_connect(hub, &p, NULL, NULL, &conn), HUB_EOK);
    uint64_t cursor = amqp_feeds_head(f, "events");
    for (int i = 0; i < 5; i++) {
        hub_msg_t *m = hub_msg_new();
        hub_msg_set_body(m, "x", 1);
        assert_int_equal(hub_device_send_d2c(hub, conn, m), HUB_EOK);
        hub_msg_free(m);
    }
    amqp_feed_stats_t st;
    assert_int_equal(amqp_feeds_stats(f, "EVENTS", &st), HS_EOK);
    assert_int_equal(st.delivered, 5);
    assert_int_equal(st.retained, 3);
    assert_int_equal(st.evicted, 2);
    assert_int_equal(st.first_seq, 3);
    int n = 0;
    assert_int_equal(amqp_feeds_read(f, "events", 1, count_cb, &n), 6);
    assert_int_equal(n, 3);
    /* a reader that lagged from seq 1 skips 2, counted */
    const amqp_feed_entry_t *e = amqp_feeds_next(f, "events", -1, &cursor);
    assert_non_null(e);
    assert_int_equal(e->seq, 3);
    assert_int_equal(amqp_feeds_stats(f, "events", &st), HS_EOK);
    assert_int_equal(st.overrun, 2);
    assert_int_equal(amqp_feeds_stats(f, "nope", &st), HS_ENOTFOUND);
    assert_string_equal(amqp_feeds_endpoint_at(f, 0), "events");
    assert_null(amqp_feeds_endpoint_at(f, 1));
    amqp_feeds_free(f);
    hub_free(hub);
    sim_kernel_free(k);
}

/* ---- tests: break switches ---------------------------------------------------------------------------- */

static void test_break_lookup(void **state)
{
    (void)state;
    assert_int_equal(amqp_break_lookup("AMQP-CBS-ALWAYS-200"), AMQP_BREAK_CBS_ALWAYS_200);
    assert_int_equal(amqp_break_lookup("amqp-events-no-annotations"), AMQP_BREAK_EVENTS_NO_ANNOTATIONS);
    assert_int_equal(amqp_break_lookup("nope"), 0);
    size_t n = 0;
    while (amqp_break_at(n))
        n++;
    assert_int_equal(n, AMQP_BREAK__COUNT);
}

static void test_break_cbs(void **state)
{
    (void)state;
    char tok[600];
    device_token("dev1", BADKEY, EPOCH + 3600, tok, sizeof tok);
    fx_t *f = fx_new(MODE_NO_SASL, AMQP_BREAK_CBS_ALWAYS_200);
    cbs_t c = cbs_open(f);
    assert_int_equal(put_token(f, &c, HOST "/devices/dev1", tok), 200);
    fx_free(f);

    f = fx_new(MODE_NO_SASL, AMQP_BREAK_CBS_NO_CORRELATION);
    c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), -1); /* reply without correlation-id */
    assert_true(pn_message_get_correlation_id(last_on(f, c.rx)->m).type == PN_NULL);
    fx_free(f);
}

static void test_break_links(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, AMQP_BREAK_LINK_BEFORE_AUTH);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_false(pn_link_state(tx) & PN_REMOTE_CLOSED);
    fx_free(f);

    f = fx_new(MODE_NO_SASL, AMQP_BREAK_ADDRESS_CASE);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_service(f, &c), 200);
    pn_link_t *fb = c_receiver(f, "fb", "/messages/serviceBound/feedback", 5);
    assert_true(refused(fb, "amqp:not-found"));
    fx_free(f);
}

static void oversize(fx_t *f, pn_delivery_t **out)
{
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    size_t big = 256 * 1024 + 1;
    char *body = malloc(big + 1);
    memset(body, 'y', big);
    body[big] = '\0';
    pn_message_t *m = d2c_msg("big", body);
    free(body);
    *out = c_send(f, tx, m);
    pn_message_free(m);
}

static void test_break_d2c(void **state)
{
    (void)state;
    pn_delivery_t *d;
    fx_t *f = fx_new(MODE_NO_SASL, AMQP_BREAK_D2C_ACCEPT_ALL);
    oversize(f, &d);
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    fx_free(f);

    f = fx_new(MODE_NO_SASL, AMQP_BREAK_REJECT_NO_CONDITION);
    oversize(f, &d);
    assert_int_equal(pn_delivery_remote_state(d), PN_REJECTED);
    assert_false(pn_condition_is_set(pn_disposition_condition(pn_delivery_remote(d))));
    fx_free(f);

    f = fx_new(MODE_NO_SASL, AMQP_BREAK_D2C_DROP_APP_PROPS);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_int_equal(send_d2c(f, tx, "m", "{}"), PN_ACCEPTED);
    peek_t p = { 0 };
    amqp_feeds_read(f->feeds, "events", 1, peek_cb, &p);
    assert_string_equal(p.app_temp, "");
    fx_free(f);
}

static void test_break_c2d_release(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, AMQP_BREAK_C2D_RELEASE_COMPLETES);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    enqueue_c2d(f, "dev1", "c1", NULL);
    pn_link_t *rx = c_receiver(f, "c2d", "/devices/dev1/messages/devicebound", 1);
    rx_t *r = last_on(f, rx);
    assert_non_null(r);
    pn_delivery_update(r->d, PN_RELEASED);
    pn_delivery_settle(r->d);
    pump(f);
    hub_c2d_stats_t cs;
    hub_c2d_stats(hub_c2d_store(f->hub), &cs);
    assert_int_equal(cs.completed, 1);
    assert_int_equal(cs.abandoned, 0);
    fx_free(f);
}

static void test_break_method_status(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, AMQP_BREAK_METHOD_STATUS_IGNORED);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *tx = c_sender(f, "m-tx", "/devices/dev1/methods/devicebound");
    pn_link_t *rx = c_receiver(f, "m-rx", "/devices/dev1/methods/devicebound", 10);
    mres_t res = { 0 };
    invoke(f, "go", 30, &res);
    char *rid = amqp_atom_text(pn_message_get_correlation_id(last_on(f, rx)->m));
    respond(f, tx, rid, "500", "{}");
    free(rid);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.r.device_status, 200);
    fx_free(f);
}

static void test_break_service_feeds(void **state)
{
    (void)state;
    fx_t *f = fx_new(MODE_NO_SASL, AMQP_BREAK_FEEDBACK_CONTENT_TYPE | AMQP_BREAK_EVENTS_NO_ANNOTATIONS);
    cbs_t c = cbs_open(f);
    assert_int_equal(auth_service(f, &c), 200);
    assert_int_equal(auth_device(f, &c, "dev1"), 200);
    pn_link_t *fb = c_receiver(f, "fb", "/messages/serviceBound/feedback", 10);
    pn_link_t *ev = c_receiver(f, "ev", "/messages/events", 10);
    pn_link_t *tx = c_sender(f, "d2c", "/devices/dev1/messages/events");
    assert_int_equal(send_d2c(f, tx, "m", "{}"), PN_ACCEPTED);
    rx_t *r = last_on(f, ev);
    assert_non_null(r);
    assert_null(ann_of(r->m, "iothub-connection-device-id"));
    enqueue_c2d(f, "dev1", "c1", "full");
    pn_link_t *rx = c_receiver(f, "c2d", "/devices/dev1/messages/devicebound", 1);
    r = last_on(f, rx);
    pn_delivery_update(r->d, PN_ACCEPTED);
    pn_delivery_settle(r->d);
    pump(f);
    hub_c2d_flush_feedback(hub_c2d_store(f->hub));
    pump(f);
    r = last_on(f, fb);
    assert_non_null(r);
    assert_null(pn_message_get_content_type(r->m));
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_no_sasl_cbs),
        cmocka_unit_test(test_auth_anonymous_cbs),
        cmocka_unit_test(test_auth_plain_device),
        cmocka_unit_test(test_auth_plain_refused),
        cmocka_unit_test(test_auth_plain_service),
        cmocka_unit_test(test_auth_mode_knobs),
        cmocka_unit_test(test_cbs_401_bad_token),
        cmocka_unit_test(test_links_refused_before_auth),
        cmocka_unit_test(test_multiplexed_devices),
        cmocka_unit_test(test_d2c_properties_and_limits),
        cmocka_unit_test(test_c2d_settle_mapping),
        cmocka_unit_test(test_method_roundtrip_and_timeout),
        cmocka_unit_test(test_twin_get_patch_desired),
        cmocka_unit_test(test_service_c2d_and_feedback),
        cmocka_unit_test(test_events_receiver),
        cmocka_unit_test(test_garbage_input),
        cmocka_unit_test(test_hub_drop_closes_links),
        cmocka_unit_test(test_address_parse),
        cmocka_unit_test(test_feeds_bound),
        cmocka_unit_test(test_break_lookup),
        cmocka_unit_test(test_break_cbs),
        cmocka_unit_test(test_break_links),
        cmocka_unit_test(test_break_d2c),
        cmocka_unit_test(test_break_c2d_release),
        cmocka_unit_test(test_break_method_status),
        cmocka_unit_test(test_break_service_feeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
