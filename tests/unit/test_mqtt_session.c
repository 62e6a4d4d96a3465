/* The MQTT session against a hub in virtual time: connect, telemetry, C2D, methods, twins, keep-alive, closes, client rules, break switches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serve/mqtt/mqtt_packet.h"
#include "serve/mqtt/mqtt_session.h"
#include "serve/mqtt/mqtt_topic.h"
#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

/* Expected codes, topics and limits are literals from NOTES.md "MQTT 3.1.1
 * device side" and MQTT 3.1.1, never read back from the session. */

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define THUMB "0123456789ABCDEF0123456789ABCDEF01234567"
#define HOST "hubsim.azure-devices.net"
#define EPOCH 1767225600LL

/* ---- an in-memory client -------------------------------------------------- */

typedef struct {
    int type;
    uint8_t code;
    uint8_t qos;
    uint16_t pid;
    char topic[512];
    char payload[4096];
    size_t payload_len;
    uint8_t codes[MQTT_MAX_TOPICS];
    size_t ncodes;
} rx_t;

typedef struct {
    char rule[64];
    char identity[300];
    char detail[300];
} viol_t;

typedef struct fx fx_t;

typedef struct {
    fx_t *f;
    mqtt_session_t *s;
    mqtt_decoder_t *dec;
    rx_t rx[64];
    size_t nrx, next;
    bool closed;
    char reason[256];
    viol_t viol[16];
    size_t nviol;
    bool bytewise; /* feed the session one byte at a time */
} client_t;

typedef struct {
    int n;
    hub_msg_t *last;
} endpoint_t;

struct fx {
    sim_kernel_t *k;
    hub_t *hub;
    mqtt_shared_t *sh;
    endpoint_t ep;
    unsigned breaks;
    hub_config_unknown_topic_t unknown_topic;
};

static void io_write(void *ctx, const void *bytes, size_t len)
{
    client_t *c = ctx;
    assert_false(c->closed); /* nothing written after close */
    const uint8_t *in = bytes;
    while (len) {
        size_t used;
        bool got;
        mqtt_packet_t p;
        assert_int_equal(mqtt_decoder_feed(c->dec, in, len, &used, &p, &got), MQTT_E_OK);
        in += used;
        len -= used;
        if (!got)
            continue;
        assert_true(c->nrx < 64);
        rx_t *r = &c->rx[c->nrx++];
        memset(r, 0, sizeof *r);
        r->type = p.type;
        switch (p.type) {
        case MQTT_CONNACK:
            r->code = p.u.connack.code;
            break;
        case MQTT_PUBLISH:
            r->qos = p.u.publish.qos;
            r->pid = p.u.publish.packet_id;
            snprintf(r->topic, sizeof r->topic, "%.*s", (int)p.u.publish.topic.len, p.u.publish.topic.p);
            r->payload_len = p.u.publish.payload_len;
            snprintf(r->payload, sizeof r->payload, "%.*s", (int)p.u.publish.payload_len,
                     (const char *)p.u.publish.payload);
            break;
        case MQTT_SUBACK:
            r->pid = p.u.suback.packet_id;
            r->ncodes = p.u.suback.count;
            memcpy(r->codes, p.u.suback.codes, p.u.suback.count);
            break;
        case MQTT_PUBACK:
        case MQTT_UNSUBACK:
            r->pid = p.u.packet_id;
            break;
        default:
            break;
        }
    }
}

static void io_close(void *ctx, const char *reason)
{
    client_t *c = ctx;
    assert_false(c->closed);
    c->closed = true;
    snprintf(c->reason, sizeof c->reason, "%s", reason);
}

static const wire_io_ops_t io_ops = { io_write, io_close };

static void on_violation(void *ctx, const char *rule, const char *identity, const char *detail)
{
    client_t *c = ctx;
    assert_true(c->nviol < 16);
    viol_t *v = &c->viol[c->nviol++];
    snprintf(v->rule, sizeof v->rule, "%s", rule);
    snprintf(v->identity, sizeof v->identity, "%s", identity);
    snprintf(v->detail, sizeof v->detail, "%s", detail);
}

static const wire_observer_ops_t obs_ops = { on_violation };

static bool has_violation(const client_t *c, const char *rule)
{
    for (size_t i = 0; i < c->nviol; i++)
        if (strcmp(c->viol[i].rule, rule) == 0)
            return true;
    return false;
}

static client_t *client_new(fx_t *f, const char *thumbprint)
{
    client_t *c = calloc(1, sizeof *c);
    c->f = f;
    c->dec = mqtt_decoder_new(0);
    mqtt_session_opts_t o;
    mqtt_session_opts_defaults(&o, f->hub);
    o.breaks = f->breaks;
    o.shared = f->sh;
    o.unknown_topic = f->unknown_topic;
    wire_peer_t peer = { .address = "127.0.0.1:5000", .x509_thumbprint = thumbprint, .tls = false };
    c->s = mqtt_session_new(f->hub, &o, &peer, &io_ops, c, &obs_ops, c);
    assert_non_null(c->s);
    return c;
}

static void client_free(client_t *c)
{
    mqtt_session_free(c->s);
    mqtt_decoder_free(c->dec);
    free(c);
}

static void send_raw(client_t *c, const uint8_t *b, size_t n)
{
    if (c->bytewise)
        for (size_t i = 0; i < n; i++)
            mqtt_session_input(c->s, b + i, 1);
    else
        mqtt_session_input(c->s, b, n);
}

static void send_pkt(client_t *c, const mqtt_packet_t *p)
{
    uint8_t *b;
    size_t n;
    assert_int_equal(mqtt_encode_alloc(p, &b, &n), MQTT_E_OK);
    send_raw(c, b, n);
    free(b);
}

static void assert_prefix(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("'%s' does not start with '%s'", s, prefix);
}

static void assert_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (n < k || strcmp(s + n - k, suffix) != 0)
        fail_msg("'%s' does not end with '%s'", s, suffix);
}

/* The next packet the session sent, or NULL. */
static rx_t *next_rx(client_t *c)
{
    return c->next < c->nrx ? &c->rx[c->next++] : NULL;
}

static rx_t *expect(client_t *c, int type)
{
    rx_t *r = next_rx(c);
    if (!r)
        fail_msg("expected %s, got nothing", mqtt_type_name((unsigned)type));
    if (r->type != type)
        fail_msg("expected %s, got %s", mqtt_type_name((unsigned)type), mqtt_type_name((unsigned)r->type));
    return r;
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

/* CONNECT and return the CONNACK code (-1 when no CONNACK came). */
static int connect_full(client_t *c, const char *client_id, const char *username, const char *password,
                        uint16_t keep_alive)
{
    mqtt_packet_t p = { .type = MQTT_CONNECT };
    p.u.connect.clean_session = true;
    p.u.connect.keep_alive = keep_alive;
    p.u.connect.client_id = (mqtt_str_t){ client_id, strlen(client_id) };
    if (username) {
        p.u.connect.has_username = true;
        p.u.connect.username = (mqtt_str_t){ username, strlen(username) };
    }
    if (password) {
        p.u.connect.has_password = true;
        p.u.connect.password = (mqtt_str_t){ password, strlen(password) };
    }
    size_t before = c->nrx;
    send_pkt(c, &p);
    if (c->nrx == before)
        return -1;
    rx_t *r = expect(c, MQTT_CONNACK);
    return r->code;
}

static int connect_as(client_t *c, const char *dev, const char *mod, uint16_t keep_alive)
{
    char tok[1024], cid[300], user[600];
    token_for(dev, mod, KEY, tok, sizeof tok);
    if (mod) {
        snprintf(cid, sizeof cid, "%s/%s", dev, mod);
        snprintf(user, sizeof user, HOST "/%s/%s/?api-version=2021-04-12", dev, mod);
    } else {
        snprintf(cid, sizeof cid, "%s", dev);
        snprintf(user, sizeof user, HOST "/%s/?api-version=2021-04-12&DeviceClientType=test", dev);
    }
    return connect_full(c, cid, user, tok, keep_alive);
}

static uint8_t subscribe(client_t *c, const char *filter, uint8_t qos)
{
    mqtt_packet_t p = { .type = MQTT_SUBSCRIBE };
    p.u.subscribe.packet_id = 11;
    p.u.subscribe.count = 1;
    p.u.subscribe.filters[0] = (mqtt_str_t){ filter, strlen(filter) };
    p.u.subscribe.qos[0] = qos;
    size_t before = c->nrx;
    send_pkt(c, &p);
    if (c->closed && c->nrx == before)
        return 0xff;
    rx_t *r = expect(c, MQTT_SUBACK);
    assert_int_equal(r->pid, 11);
    assert_int_equal(r->ncodes, 1);
    return r->codes[0];
}

static void publish(client_t *c, const char *topic, uint8_t qos, uint16_t pid, const char *payload)
{
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.qos = qos;
    p.u.publish.packet_id = pid;
    p.u.publish.topic = (mqtt_str_t){ topic, strlen(topic) };
    p.u.publish.payload = (const uint8_t *)payload;
    p.u.publish.payload_len = payload ? strlen(payload) : 0;
    send_pkt(c, &p);
}

static void send_simple(client_t *c, mqtt_type_t type, uint16_t pid)
{
    mqtt_packet_t p = { .type = type };
    p.u.packet_id = pid;
    send_pkt(c, &p);
}

/* ---- fixture ------------------------------------------------------------------ */

static void ep_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t device_no)
{
    (void)endpoint;
    (void)device_no;
    endpoint_t *e = ctx;
    e->n++;
    hub_msg_free(e->last);
    e->last = hub_msg_clone(msg);
}

static const hub_endpoint_ops_t ep_ops = { ep_deliver };

static fx_t *fx_new_with(unsigned breaks)
{
    fx_t *f = calloc(1, sizeof *f);
    f->k = sim_kernel_new(7, EPOCH);
    f->breaks = breaks;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    char why[256];
    assert_int_equal(hub_new(f->k, &cfg, &f->hub, why, sizeof why), HS_EOK);
    hub_config_free(&cfg);
    assert_string_equal(hub_config(f->hub)->host, HOST);
    hub_identity_spec_t d1 = { .device_id = "dev1", .primary_key = KEY };
    hub_identity_spec_t d2 = { .device_id = "dev2", .primary_key = KEY };
    hub_identity_spec_t m1 = { .device_id = "dev1", .module_id = "mod1", .primary_key = KEY };
    hub_identity_spec_t x = { .device_id = "devx", .x509 = true, .primary_thumbprint = THUMB };
    assert_int_equal(hub_identity_create(f->hub, &d1, NULL), HUB_EOK);
    assert_int_equal(hub_identity_create(f->hub, &d2, NULL), HUB_EOK);
    assert_int_equal(hub_identity_create(f->hub, &m1, NULL), HUB_EOK);
    assert_int_equal(hub_identity_create(f->hub, &x, NULL), HUB_EOK);
    hub_set_endpoint_sink(f->hub, &ep_ops, &f->ep);
    f->sh = mqtt_shared_new(f->hub);
    assert_non_null(f->sh);
    return f;
}

static fx_t *fx_new(void)
{
    return fx_new_with(0);
}

static void fx_free(fx_t *f)
{
    char why[256];
    if (hub_check(f->hub, why, sizeof why) != HS_EOK)
        fail_msg("hub_check: %s", why);
    hub_msg_free(f->ep.last);
    mqtt_shared_free(f->sh);
    hub_free(f->hub);
    assert_int_equal(sim_kernel_pending(f->k), 0);
    sim_kernel_free(f->k);
    free(f);
}

static void run_for(fx_t *f, sim_time_t d)
{
    sim_kernel_run_until(f->k, sim_kernel_now(f->k) + d);
}

/* ---- connect --------------------------------------------------------------------- */

static void test_connect_good(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    assert_false(c->closed);
    assert_string_equal(mqtt_session_identity(c->s), "dev1");
    assert_int_equal(hub_counter(f->hub, "conn.opened"), 1);
    send_simple(c, MQTT_PINGREQ, 0);
    expect(c, MQTT_PINGRESP);
    send_simple(c, MQTT_DISCONNECT, 0);
    assert_true(c->closed);
    assert_int_equal(hub_counter(f->hub, "conn.closed"), 1);
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_DISCONNECTS_CLEAN], 1);
    client_free(c);
    /* a module */
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", "mod1", 60), 0);
    assert_string_equal(mqtt_session_identity(c->s), "dev1/mod1");
    client_free(c);
    assert_int_equal(mqtt_shared_stats(f->sh)->v[MQTT_STAT_CONNECTS_ACCEPTED], 2);
    fx_free(f);
}

static void test_connect_refusals(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[1024];
    /* bad token: signed with another key → 5 */
    token_for("dev1", NULL, "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", tok, sizeof tok);
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "dev1", HOST "/dev1/?api-version=2021-04-12", tok, 60), 5);
    assert_true(c->closed);
    assert_int_equal(hub_counter(f->hub, "auth.bad_signature"), 1);
    client_free(c);
    /* unknown device → 5 */
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "nosuch", NULL, 60), 5);
    assert_true(c->closed);
    client_free(c);
    /* no password and no certificate → 5 */
    c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "dev1", HOST "/dev1/?api-version=2021-04-12", NULL, 60), 5);
    client_free(c);
    /* client id: empty, three levels → 2 */
    c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "", HOST "//?api-version=2021-04-12", "x", 60), 2);
    client_free(c);
    c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "dev1/mod1/x", HOST "/dev1/?api-version=2021-04-12", "x", 60), 2);
    client_free(c);
    /* user name for another host, another device, or missing → 5 */
    token_for("dev1", NULL, KEY, tok, sizeof tok);
    c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "dev1", "other.azure-devices.net/dev1/?api-version=2021-04-12", tok, 60), 5);
    client_free(c);
    c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "dev1", HOST "/dev2/?api-version=2021-04-12", tok, 60), 5);
    client_free(c);
    c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "dev1", NULL, NULL, 60), 5);
    client_free(c);
    /* the host compares case-insensitively */
    c = client_new(f, NULL);
    assert_int_equal(connect_full(c, "dev1", "HUBSIM.azure-devices.net/dev1/?api-version=2021-04-12", tok, 60), 0);
    client_free(c);
    assert_int_equal(mqtt_shared_stats(f->sh)->v[MQTT_STAT_CONNECTS_REFUSED], 8);
    fx_free(f);
}

static void test_connect_x509(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, THUMB);
    assert_int_equal(connect_full(c, "devx", HOST "/devx/?api-version=2021-04-12", NULL, 60), 0);
    client_free(c);
    c = client_new(f, "FFFF456789ABCDEF0123456789ABCDEF01234567");
    assert_int_equal(connect_full(c, "devx", HOST "/devx/?api-version=2021-04-12", "", 60), 5);
    assert_int_equal(hub_counter(f->hub, "auth.bad_thumbprint"), 1);
    client_free(c);
    fx_free(f);
}

static void test_connect_protocol_level(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    static const uint8_t v31[] = { 0x10, 0x0e, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x00 };
    send_raw(c, v31, sizeof v31);
    assert_int_equal(expect(c, MQTT_CONNACK)->code, 1);
    assert_true(c->closed);
    client_free(c);
    /* a bad protocol name: closed without a CONNACK */
    c = client_new(f, NULL);
    static const uint8_t bad[] = { 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00 };
    send_raw(c, bad, sizeof bad);
    assert_true(c->closed);
    assert_int_equal(c->nrx, 0);
    client_free(c);
    /* first packet not CONNECT */
    c = client_new(f, NULL);
    send_simple(c, MQTT_PINGREQ, 0);
    assert_true(c->closed);
    assert_int_equal(c->nrx, 0);
    client_free(c);
    /* a second CONNECT closes */
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), -1);
    assert_true(c->closed);
    assert_int_equal(hub_counter(f->hub, "conn.closed"), 1);
    client_free(c);
    fx_free(f);
}

static void test_connect_throttled(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    assert_int_equal(hub_set_throttling(f->hub, HUB_THROTTLE_S1, 1), HS_EOK);
    int codes[4] = { 0 };
    /* 100 connections/s per unit: the bucket holds 100 at one instant */
    for (int i = 0; i < 101; i++) {
        client_t *c = client_new(f, NULL);
        int code = connect_as(c, "dev1", NULL, 60);
        assert_true(code == 0 || code == 3);
        codes[code]++;
        client_free(c);
    }
    assert_int_equal(codes[3], 1);
    assert_int_equal(hub_counter(f->hub, "throttled.connect"), 1);
    fx_free(f);
}

/* ---- telemetry ------------------------------------------------------------------- */

static void test_telemetry_props(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    c->bytewise = true; /* the whole exchange split at every byte */
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    publish(c,
            "devices/dev1/messages/events/%24.mid=m1&%24.cid=c1&%24.uid=u1&%24.ct=application%2Fjson&%24.ce=utf-8"
            "&%24.exp=2030-01-01T00%3A00%3A00Z&$.to=x&a=1&b=x%20y&flag",
            1, 5, "{\"t\":21}");
    assert_int_equal(expect(c, MQTT_PUBACK)->pid, 5);
    assert_int_equal(f->ep.n, 1);
    hub_msg_t *m = f->ep.last;
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_MESSAGE_ID), "m1");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CORRELATION_ID), "c1");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_USER_ID), "u1");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CONTENT_TYPE), "application/json");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CONTENT_ENCODING), "utf-8");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_EXPIRY_TIME_UTC), "2030-01-01T00:00:00Z");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_TO), "x");
    assert_string_equal(hub_msg_get_sys(m, HUB_SYS_CONNECTION_DEVICE_ID), "dev1");
    assert_string_equal(hub_msg_get_app(m, "a"), "1");
    assert_string_equal(hub_msg_get_app(m, "b"), "x y");
    assert_string_equal(hub_msg_get_app(m, "flag"), "");
    assert_null(hub_msg_get_app(m, "$.mid"));
    size_t blen;
    const char *body = hub_msg_body(m, &blen);
    assert_int_equal(blen, 8);
    assert_memory_equal(body, "{\"t\":21}", 8);
    /* QoS 0, no bag, no trailing slash: accepted, no PUBACK */
    publish(c, "devices/dev1/messages/events", 0, 0, "x");
    assert_int_equal(f->ep.n, 2);
    assert_null(next_rx(c));
    /* device-set stamped properties are replaced by the hub's */
    publish(c, "devices/dev1/messages/events/%24.cdid=evil", 0, 0, "x");
    assert_string_equal(hub_msg_get_sys(f->ep.last, HUB_SYS_CONNECTION_DEVICE_ID), "dev1");
    assert_int_equal(hub_counter(f->hub, "d2c.accepted"), 3);
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_D2C_FORWARDED], 3);
    client_free(c);
    /* a module's telemetry */
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", "mod1", 60), 0);
    publish(c, "devices/dev1/modules/mod1/messages/events/k=v", 1, 9, "m");
    assert_int_equal(expect(c, MQTT_PUBACK)->pid, 9);
    assert_string_equal(hub_msg_get_sys(f->ep.last, HUB_SYS_CONNECTION_MODULE_ID), "mod1");
    assert_string_equal(hub_msg_get_app(f->ep.last, "k"), "v");
    /* the device's topic from the module's connection is foreign */
    publish(c, "devices/dev1/messages/events/", 1, 10, "m");
    assert_true(c->closed);
    assert_true(has_violation(c, "CLIENT-MQTT-TOPIC"));
    client_free(c);
    fx_free(f);
}

static void test_telemetry_refused_closes(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    size_t big = 256 * 1024 + 1;
    char *body = malloc(big + 1);
    memset(body, 'x', big);
    body[big] = '\0';
    publish(c, "devices/dev1/messages/events/", 1, 3, body);
    free(body);
    assert_null(next_rx(c)); /* no PUBACK */
    assert_true(c->closed);
    assert_int_equal(hub_counter(f->hub, "d2c.rejected_size"), 1);
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_D2C_REFUSED_HUB], 1);
    client_free(c);
    fx_free(f);
}

/* ---- C2D --------------------------------------------------------------------------- */

static void c2d_send(fx_t *f, const char *mid, const char *app)
{
    hub_msg_t *m = hub_msg_new();
    hub_msg_set_body(m, "hello", 5);
    hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, mid);
    if (app)
        hub_msg_add_app(m, "k", app);
    assert_int_equal(hub_c2d_send(f->hub, "dev1", m, 0, NULL), HUB_EOK);
}

static void test_c2d_delivery_and_complete(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    c2d_send(f, "c1", "v%1");
    c2d_send(f, "c2", NULL);
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    /* the SUBACK comes before the waiting message */
    assert_int_equal(subscribe(c, "devices/dev1/messages/devicebound/#", 1), 1);
    rx_t *r = expect(c, MQTT_PUBLISH);
    assert_int_equal(r->qos, 1);
    /* system properties first ($.exp: the store stamps the expiry), then app properties */
    assert_prefix(r->topic, "devices/dev1/messages/devicebound/%24.mid=c1&%24.exp=2026-01-01T01%3A00%3A00");
    assert_suffix(r->topic, "&k=v%251");
    assert_string_equal(r->payload, "hello");
    assert_null(next_rx(c)); /* one in flight */
    send_simple(c, MQTT_PUBACK, r->pid);
    hub_c2d_stats_t st;
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    assert_int_equal(st.completed, 1);
    r = expect(c, MQTT_PUBLISH);
    assert_prefix(r->topic, "devices/dev1/messages/devicebound/%24.mid=c2&");
    send_simple(c, MQTT_PUBACK, r->pid);
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    assert_int_equal(st.completed, 2);
    /* a message sent while subscribed is pushed at once */
    c2d_send(f, "c3", NULL);
    r = expect(c, MQTT_PUBLISH);
    assert_prefix(r->topic, "devices/dev1/messages/devicebound/%24.mid=c3&");
    send_simple(c, MQTT_PUBACK, r->pid);
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_C2D_COMPLETED], 3);
    assert_int_equal(c->nviol, 0);
    client_free(c);
    fx_free(f);
}

static void test_c2d_no_puback(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 600), 0);
    assert_int_equal(subscribe(c, "devices/dev1/messages/devicebound/#", 1), 1);
    c2d_send(f, "c1", NULL);
    rx_t *r = expect(c, MQTT_PUBLISH);
    uint16_t first = r->pid;
    /* lock timeout 1 min: no PUBACK → violation, redelivered */
    run_for(f, 61 * SIM_SEC);
    assert_true(has_violation(c, "CLIENT-MQTT-NO-PUBACK"));
    r = expect(c, MQTT_PUBLISH);
    assert_prefix(r->topic, "devices/dev1/messages/devicebound/%24.mid=c1&");
    assert_int_not_equal(r->pid, first);
    /* the late PUBACK for the first delivery settles nothing */
    send_simple(c, MQTT_PUBACK, first);
    hub_c2d_stats_t st;
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    assert_int_equal(st.completed, 0);
    send_simple(c, MQTT_PUBACK, r->pid);
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    assert_int_equal(st.completed, 1);
    /* delivered, then the device goes away: violation, message abandoned */
    c2d_send(f, "c2", NULL);
    expect(c, MQTT_PUBLISH);
    size_t before = c->nviol;
    mqtt_session_transport_closed(c->s);
    assert_int_equal(c->nviol, before + 1);
    assert_string_equal(c->viol[before].rule, "CLIENT-MQTT-NO-PUBACK");
    assert_string_equal(c->viol[before].identity, "dev1");
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    assert_int_equal(st.abandoned, 1);
    client_free(c);
    fx_free(f);
}

/* ---- methods ---------------------------------------------------------------------- */

typedef struct {
    int calls;
    int status;
    int device_status;
    char payload[256];
} mres_t;

static void on_mres(void *ctx, const hub_method_result_t *r)
{
    mres_t *m = ctx;
    m->calls++;
    m->status = r->http_status;
    m->device_status = r->device_status;
    snprintf(m->payload, sizeof m->payload, "%.*s", (int)r->payload_len, r->payload ? r->payload : "");
}

static void invoke(fx_t *f, const char *name, mres_t *res)
{
    hub_method_call_t call = { .device_id = "dev1", .method_name = name, .payload = "{\"a\":1}", .payload_len = 7 };
    assert_int_equal(hub_method_invoke(f->hub, &call, on_mres, res, NULL), HUB_EOK);
}

static const char *rid_of(const char *topic)
{
    const char *p = strstr(topic, "?$rid=");
    assert_non_null(p);
    return p + 6;
}

static void test_methods(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 600), 0);
    assert_int_equal(subscribe(c, "$iothub/methods/POST/#", 0), 0);
    mres_t res = { 0 };
    invoke(f, "reboot", &res);
    rx_t *r = expect(c, MQTT_PUBLISH);
    assert_int_equal(r->qos, 0);
    assert_memory_equal(r->topic, "$iothub/methods/POST/reboot/?$rid=", 34);
    assert_string_equal(r->payload, "{\"a\":1}");
    char topic[300];
    snprintf(topic, sizeof topic, "$iothub/methods/res/201/?$rid=%s", rid_of(r->topic));
    publish(c, topic, 1, 4, "{\"done\":true}");
    assert_int_equal(expect(c, MQTT_PUBACK)->pid, 4);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.device_status, 201);
    assert_string_equal(res.payload, "{\"done\":true}");
    assert_int_equal(c->nviol, 0);
    /* no answer: 504 after the 30 s default */
    mres_t late = { 0 };
    invoke(f, "slow", &late);
    r = expect(c, MQTT_PUBLISH);
    run_for(f, 31 * SIM_SEC);
    assert_int_equal(late.calls, 1);
    assert_int_equal(late.status, 504);
    /* answering an unknown rid: the hub ignores it, the client rule fires */
    publish(c, "$iothub/methods/res/200/?$rid=ffff", 0, 0, "{}");
    assert_true(has_violation(c, "CLIENT-MQTT-UNKNOWN-RID"));
    assert_int_equal(hub_counter(f->hub, "method.unknown_rid"), 1);
    assert_false(c->closed);
    /* a method response without $rid is a bad topic */
    publish(c, "$iothub/methods/res/200/", 0, 0, "{}");
    assert_true(c->closed);
    client_free(c);
    fx_free(f);
}

/* A method name the hub allows but MQTT cannot carry ('#', '+' are
 * wildcards, forbidden in a PUBLISH topic name): not published, counted,
 * and the call ends 504 at its response timeout. */
static void test_method_name_with_wildcard(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 600), 0);
    assert_int_equal(subscribe(c, "$iothub/methods/POST/#", 0), 0);
    size_t before = c->nrx;
    mres_t res = { 0 };
    invoke(f, "a#b+c", &res);
    assert_int_equal(c->nrx, before); /* nothing on the wire */
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_METHOD_UNDELIVERABLE], 1);
    run_for(f, 31 * SIM_SEC);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.status, 504);
    assert_false(c->closed);
    client_free(c);
    fx_free(f);
}

/* A call waiting in its connect window reaches the device after the SUBACK. */
static void test_method_pending_after_suback(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 600), 0);
    hub_method_call_t call = { .device_id = "dev1", .method_name = "m", .payload = "1", .payload_len = 1,
                               .has_connect_timeout = true, .connect_timeout_s = 30 };
    mres_t res = { 0 };
    assert_int_equal(hub_method_invoke(f->hub, &call, on_mres, &res, NULL), HUB_EOK);
    assert_int_equal(subscribe(c, "$iothub/methods/POST/#", 1), 1);
    rx_t *r = expect(c, MQTT_PUBLISH);
    assert_memory_equal(r->topic, "$iothub/methods/POST/m/?$rid=", 29);
    char topic[300];
    snprintf(topic, sizeof topic, "$iothub/methods/res/200/?$rid=%s", rid_of(r->topic));
    publish(c, topic, 0, 0, "null");
    assert_int_equal(res.status, 200);
    client_free(c);
    fx_free(f);
}

/* ---- twins --------------------------------------------------------------------------- */

static void test_twin(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 600), 0);
    assert_int_equal(subscribe(c, "$iothub/twin/res/#", 0), 0);
    publish(c, "$iothub/twin/GET/?$rid=1", 0, 0, "");
    rx_t *r = expect(c, MQTT_PUBLISH);
    assert_string_equal(r->topic, "$iothub/twin/res/200/?$rid=1");
    assert_non_null(strstr(r->payload, "\"desired\""));
    assert_non_null(strstr(r->payload, "\"reported\""));
    publish(c, "$iothub/twin/PATCH/properties/reported/?$rid=2", 1, 8, "{\"temp\":20}");
    r = expect(c, MQTT_PUBLISH);
    assert_memory_equal(r->topic, "$iothub/twin/res/204/?$rid=2&$version=", 38);
    assert_int_equal(r->payload_len, 0);
    assert_int_equal(expect(c, MQTT_PUBACK)->pid, 8);
    publish(c, "$iothub/twin/GET/?$rid=3", 0, 0, "");
    r = expect(c, MQTT_PUBLISH);
    assert_non_null(strstr(r->payload, "\"temp\":20"));
    /* malformed patch → 400 on the res topic */
    publish(c, "$iothub/twin/PATCH/properties/reported/?$rid=4", 0, 0, "{not json");
    r = expect(c, MQTT_PUBLISH);
    assert_string_equal(r->topic, "$iothub/twin/res/400/?$rid=4");
    /* desired pushes after subscribing */
    assert_int_equal(subscribe(c, "$iothub/twin/PATCH/properties/desired/#", 1), 1);
    assert_int_equal(hub_twin_patch(f->hub, "dev1", NULL, "{\"properties\":{\"desired\":{\"fan\":1}}}", 36, NULL, NULL),
                     HUB_EOK);
    r = expect(c, MQTT_PUBLISH);
    assert_memory_equal(r->topic, "$iothub/twin/PATCH/properties/desired/?$version=", 48);
    assert_non_null(strstr(r->payload, "\"fan\":1"));
    assert_false(c->closed);
    client_free(c);
    fx_free(f);
}

static void test_twin_throttled_429(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 600), 0);
    assert_int_equal(subscribe(c, "$iothub/twin/res/#", 0), 0);
    assert_int_equal(hub_set_throttling(f->hub, HUB_THROTTLE_S1, 1), HS_EOK);
    int n429 = 0;
    for (int i = 0; i < 20; i++) {
        char t[64];
        snprintf(t, sizeof t, "$iothub/twin/GET/?$rid=%d", i);
        publish(c, t, 0, 0, "");
        rx_t *r = expect(c, MQTT_PUBLISH);
        if (strncmp(r->topic, "$iothub/twin/res/429/", 21) == 0)
            n429++;
    }
    assert_true(n429 > 0);
    client_free(c);
    fx_free(f);
}

/* ---- keep-alive, second connection, QoS 2, topics ---------------------------------- */

static void test_keepalive(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 10), 0);
    run_for(f, 14 * SIM_SEC + 999 * SIM_MS);
    assert_false(c->closed);
    run_for(f, 1 * SIM_MS);
    assert_true(c->closed); /* 1.5 x 10 s */
    assert_int_equal(hub_counter(f->hub, "conn.closed"), 1);
    client_free(c);
    /* a PINGREQ at 10 s moves the deadline to 25 s */
    sim_time_t t0 = sim_kernel_now(f->k);
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 10), 0);
    run_for(f, 10 * SIM_SEC);
    send_simple(c, MQTT_PINGREQ, 0);
    run_for(f, 14 * SIM_SEC);
    assert_false(c->closed);
    sim_kernel_run_until(f->k, t0 + 25 * SIM_SEC);
    assert_true(c->closed);
    client_free(c);
    /* keep-alive above 1767 s is clamped: closed at 1.5 x 1767 s */
    c = client_new(f, NULL);
    t0 = sim_kernel_now(f->k);
    assert_int_equal(connect_as(c, "dev1", NULL, 3600), 0);
    sim_kernel_run_until(f->k, t0 + 2650 * SIM_SEC);
    assert_false(c->closed);
    sim_kernel_run_until(f->k, t0 + 2651 * SIM_SEC);
    assert_true(c->closed);
    client_free(c);
    /* keep-alive 0: never */
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 0), 0);
    run_for(f, 100000 * SIM_SEC);
    assert_false(c->closed);
    client_free(c);
    fx_free(f);
}

static void test_second_connection_closes_first(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *a = client_new(f, NULL), *b = client_new(f, NULL);
    assert_int_equal(connect_as(a, "dev1", NULL, 60), 0);
    assert_int_equal(connect_as(b, "dev1", NULL, 60), 0);
    assert_true(a->closed);
    assert_false(b->closed);
    assert_int_equal(hub_counter(f->hub, "conn.dropped_second"), 1);
    /* the old session is fed nothing more, and freeing it does not touch b's connection */
    client_free(a);
    publish(b, "devices/dev1/messages/events/", 1, 1, "x");
    expect(b, MQTT_PUBACK);
    client_free(b);
    fx_free(f);
}

static void test_qos2_closes(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    /* QoS 2 SUBSCRIBE is granted QoS 1 */
    assert_int_equal(subscribe(c, "devices/dev1/messages/devicebound/#", 2), 1);
    publish(c, "devices/dev1/messages/events/", 2, 1, "x");
    assert_true(c->closed);
    assert_int_equal(f->ep.n, 0);
    assert_true(has_violation(c, "CLIENT-MQTT-QOS2"));
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_PUBLISH_REFUSED_QOS2], 1);
    client_free(c);
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    send_simple(c, MQTT_PUBREL, 3);
    assert_true(c->closed);
    client_free(c);
    fx_free(f);
}

static void test_topics(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    publish(c, "devices/dev2/messages/events/", 1, 1, "x");
    assert_true(c->closed);
    assert_true(has_violation(c, "CLIENT-MQTT-TOPIC"));
    assert_int_equal(f->ep.n, 0);
    client_free(c);
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    assert_int_equal(subscribe(c, "devices/dev2/messages/devicebound/#", 1), 0xff);
    assert_true(c->closed);
    client_free(c);
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    publish(c, "some/other/topic", 0, 0, "x");
    assert_true(c->closed);
    client_free(c);
    /* the ignore knob: PUBACK, counted, SUBACK 0x80 */
    f->unknown_topic = HUB_UNKNOWN_TOPIC_IGNORE;
    c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    publish(c, "some/other/topic", 1, 2, "x");
    assert_int_equal(expect(c, MQTT_PUBACK)->pid, 2);
    assert_int_equal(subscribe(c, "other/#", 1), 0x80);
    assert_false(c->closed);
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_PUBLISH_IGNORED], 1);
    client_free(c);
    fx_free(f);
}

static void test_property_bag_rules(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    assert_int_equal(connect_as(c, "dev1", NULL, 60), 0);
    /* a raw space: accepted, but the client rule fires */
    publish(c, "devices/dev1/messages/events/a=x y", 1, 1, "x");
    expect(c, MQTT_PUBACK);
    assert_true(has_violation(c, "CLIENT-MQTT-PROPS"));
    assert_string_equal(hub_msg_get_app(f->ep.last, "a"), "x y");
    /* a bad escape: refused, closed, counted */
    publish(c, "devices/dev1/messages/events/a=%zz", 1, 2, "x");
    assert_true(c->closed);
    assert_int_equal(f->ep.n, 1);
    assert_int_equal(mqtt_session_stats(c->s)->v[MQTT_STAT_PUBLISH_REFUSED_PROPS], 1);
    client_free(c);
    fx_free(f);
}

static void test_will(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    client_t *c = client_new(f, NULL);
    char tok[1024];
    token_for("dev1", NULL, KEY, tok, sizeof tok);
    mqtt_packet_t p = { .type = MQTT_CONNECT };
    p.u.connect.keep_alive = 60;
    p.u.connect.client_id = (mqtt_str_t){ "dev1", 4 };
    p.u.connect.has_username = true;
    p.u.connect.username = (mqtt_str_t){ HOST "/dev1/?api-version=2021-04-12", strlen(HOST) + 29 };
    p.u.connect.has_password = true;
    p.u.connect.password = (mqtt_str_t){ tok, strlen(tok) };
    p.u.connect.will = true;
    p.u.connect.will_qos = 1;
    p.u.connect.will_topic = (mqtt_str_t){ "devices/dev1/messages/events/w=1", 32 };
    p.u.connect.will_payload = (mqtt_str_t){ "gone", 4 };
    send_pkt(c, &p);
    assert_int_equal(expect(c, MQTT_CONNACK)->code, 0);
    mqtt_session_transport_closed(c->s);
    assert_int_equal(f->ep.n, 1);
    assert_string_equal(hub_msg_get_app(f->ep.last, "iothub-MessageType"), "Will");
    assert_string_equal(hub_msg_get_app(f->ep.last, "w"), "1");
    client_free(c);
    fx_free(f);
}

/* ---- break switches ------------------------------------------------------------------ */

/* Each probe drives one wire rule and returns true when the session kept it. */
typedef bool (*probe_fn)(unsigned breaks);

static bool probe_second_connection(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *a = client_new(f, NULL), *b = client_new(f, NULL);
    connect_as(a, "dev1", NULL, 60);
    connect_as(b, "dev1", NULL, 60);
    bool ok = a->closed && !b->closed;
    client_free(a);
    client_free(b);
    fx_free(f);
    return ok;
}

static bool probe_qos2_publish(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 60);
    publish(c, "devices/dev1/messages/events/", 2, 1, "x");
    bool ok = c->closed && f->ep.n == 0;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_qos2_subscribe(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 60);
    bool ok = subscribe(c, "$iothub/methods/POST/#", 2) == 1;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_keepalive(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 10);
    run_for(f, 14 * SIM_SEC);
    bool open_at_14 = !c->closed;
    run_for(f, 1 * SIM_SEC);
    bool ok = open_at_14 && c->closed;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_d2c_refused(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 60);
    size_t big = 256 * 1024 + 1;
    char *body = malloc(big + 1);
    memset(body, 'x', big);
    body[big] = '\0';
    publish(c, "devices/dev1/messages/events/", 1, 3, body);
    free(body);
    bool ok = c->closed && c->next == c->nrx;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_foreign_topic(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 60);
    publish(c, "devices/dev2/messages/events/", 1, 1, "x");
    bool ok = c->closed;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_c2d_puback(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 60);
    subscribe(c, "devices/dev1/messages/devicebound/#", 1);
    c2d_send(f, "c1", NULL);
    rx_t *r = next_rx(c);
    if (r && r->type == MQTT_PUBLISH)
        send_simple(c, MQTT_PUBACK, r->pid);
    hub_c2d_stats_t st;
    hub_c2d_stats(hub_c2d_store(f->hub), &st);
    bool ok = st.completed == 1;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_property_bag(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 60);
    publish(c, "devices/dev1/messages/events/%24.mid=m1&%24.ct=text%2Fplain", 0, 0, "x");
    const char *mid = f->ep.last ? hub_msg_get_sys(f->ep.last, HUB_SYS_MESSAGE_ID) : NULL;
    const char *ct = f->ep.last ? hub_msg_get_sys(f->ep.last, HUB_SYS_CONTENT_TYPE) : NULL;
    bool ok = mid && strcmp(mid, "m1") == 0 && ct && strcmp(ct, "text/plain") == 0;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_connack_codes(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    bool ok = connect_full(c, "a/b/c", HOST "/a/?api-version=1", "x", 60) == 2;
    client_free(c);
    fx_free(f);
    return ok;
}

static bool probe_twin_reported(unsigned breaks)
{
    fx_t *f = fx_new_with(breaks);
    client_t *c = client_new(f, NULL);
    connect_as(c, "dev1", NULL, 60);
    subscribe(c, "$iothub/twin/res/#", 0);
    publish(c, "$iothub/twin/PATCH/properties/reported/?$rid=2", 0, 0, "{\"a\":1}");
    rx_t *r = next_rx(c);
    bool ok = r && r->type == MQTT_PUBLISH && strstr(r->topic, "res/204/?$rid=2&$version=") != NULL;
    client_free(c);
    fx_free(f);
    return ok;
}

static const struct {
    const char *name;
    probe_fn probe;
} probes[] = {
    { "MQTT-SECOND-CONNECTION", probe_second_connection },
    { "MQTT-QOS2-PUBLISH", probe_qos2_publish },
    { "MQTT-QOS2-SUBSCRIBE", probe_qos2_subscribe },
    { "MQTT-KEEPALIVE", probe_keepalive },
    { "MQTT-KEEPALIVE:off-by-half", probe_keepalive },
    { "MQTT-D2C-REFUSED", probe_d2c_refused },
    { "MQTT-TOPIC-FOREIGN", probe_foreign_topic },
    { "MQTT-C2D-PUBACK", probe_c2d_puback },
    { "MQTT-PROPERTY-BAG", probe_property_bag },
    { "MQTT-CONNACK-CODES", probe_connack_codes },
    { "MQTT-TWIN-REPORTED", probe_twin_reported },
};

static void test_break_switches_kill_their_probe(void **state)
{
    (void)state;
    size_t n = sizeof probes / sizeof probes[0];
    assert_int_equal(n, MQTT_BREAK__COUNT); /* every switch has a probe */
    for (size_t i = 0; i < n; i++) {
        unsigned flag = mqtt_break_lookup(probes[i].name);
        if (!flag)
            fail_msg("unknown switch %s", probes[i].name);
        if (!probes[i].probe(0))
            fail_msg("%s: the rule does not hold on the unbroken session", probes[i].name);
        if (probes[i].probe(flag))
            fail_msg("%s: the probe still passes with the switch armed", probes[i].name);
    }
}

static void test_break_table(void **state)
{
    (void)state;
    assert_int_equal(mqtt_break_lookup("MQTT-SECOND-CONNECTION"), MQTT_BREAK_KEEP_SECOND_CONNECTION);
    assert_int_equal(mqtt_break_lookup("nope"), 0);
    assert_int_equal(mqtt_break_lookup(NULL), 0);
    unsigned all = 0;
    for (size_t i = 0; mqtt_break_at(i); i++) {
        const mqtt_break_info_t *b = mqtt_break_at(i);
        assert_int_equal(all & b->flag, 0);
        all |= b->flag;
        assert_non_null(b->rule_id);
        assert_non_null(b->text);
        assert_int_equal(mqtt_break_lookup(b->name), b->flag);
    }
    assert_null(mqtt_break_at(MQTT_BREAK__COUNT));
    assert_string_equal(mqtt_stat_name(MQTT_STAT_D2C_FORWARDED), "d2c.forwarded");
    assert_null(mqtt_stat_name(MQTT_STAT__COUNT));
}

/* The topic and bag helpers on their own. */
static void test_topic_helpers(void **state)
{
    (void)state;
    mqtt_topic_t t;
    const char *s = "$iothub/methods/res/-3/?$rid=ab%20c&x=1";
    assert_int_equal(mqtt_topic_classify(s, strlen(s), "d", NULL, &t), MQTT_TOPIC_METHOD_RESPONSE);
    assert_int_equal(t.status, -3);
    assert_string_equal(t.rid, "ab c");
    s = "$iothub/methods/res/abc/?$rid=1";
    assert_int_equal(mqtt_topic_classify(s, strlen(s), "d", NULL, &t), MQTT_TOPIC_BAD_RID);
    s = "$iothub/twin/GET/?%24rid=7";
    assert_int_equal(mqtt_topic_classify(s, strlen(s), "d", NULL, &t), MQTT_TOPIC_TWIN_GET);
    assert_string_equal(t.rid, "7");
    s = "devices/d/messages/eventsX";
    assert_int_equal(mqtt_topic_classify(s, strlen(s), "d", NULL, &t), MQTT_TOPIC_UNKNOWN);
    s = "devices/dd/messages/events/";
    assert_int_equal(mqtt_topic_classify(s, strlen(s), "d", NULL, &t), MQTT_TOPIC_FOREIGN);
    s = "devices/d/modules/m/messages/devicebound/#";
    assert_int_equal(mqtt_filter_classify(s, strlen(s), "d", "m"), MQTT_FILTER_UNKNOWN);
    s = "devices/d/messages/devicebound/#";
    assert_int_equal(mqtt_filter_classify(s, strlen(s), "d", NULL), MQTT_FILTER_C2D);
    hub_msg_t *m = hub_msg_new();
    char why[128];
    assert_int_equal(mqtt_bag_parse("=v", 2, m, why, sizeof why), -1);
    assert_int_equal(mqtt_bag_parse("a=%00", 5, m, why, sizeof why), -1);
    assert_int_equal(mqtt_bag_parse("a=%C3%28", 8, m, why, sizeof why), -1);
    assert_int_equal(mqtt_bag_parse("a=1&&b=2&", 9, m, why, sizeof why), 0);
    hub_msg_free(m);
    m = hub_msg_new();
    hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, "m/1");
    hub_msg_set_sys(m, HUB_SYS_ACK, "full");
    hub_msg_add_app(m, "a b", "&=");
    char *bag = mqtt_bag_format(m);
    assert_string_equal(bag, "%24.mid=m%2F1&iothub-ack=full&a%20b=%26%3D");
    hub_msg_t *back = hub_msg_new();
    assert_int_equal(mqtt_bag_parse(bag, strlen(bag), back, why, sizeof why), 0);
    assert_string_equal(hub_msg_get_sys(back, HUB_SYS_MESSAGE_ID), "m/1");
    assert_string_equal(hub_msg_get_app(back, "a b"), "&=");
    free(bag);
    hub_msg_free(back);
    hub_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_good),
        cmocka_unit_test(test_connect_refusals),
        cmocka_unit_test(test_connect_x509),
        cmocka_unit_test(test_connect_protocol_level),
        cmocka_unit_test(test_connect_throttled),
        cmocka_unit_test(test_telemetry_props),
        cmocka_unit_test(test_telemetry_refused_closes),
        cmocka_unit_test(test_c2d_delivery_and_complete),
        cmocka_unit_test(test_c2d_no_puback),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_method_name_with_wildcard),
        cmocka_unit_test(test_method_pending_after_suback),
        cmocka_unit_test(test_twin),
        cmocka_unit_test(test_twin_throttled_429),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_second_connection_closes_first),
        cmocka_unit_test(test_qos2_closes),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_property_bag_rules),
        cmocka_unit_test(test_will),
        cmocka_unit_test(test_break_switches_kill_their_probe),
        cmocka_unit_test(test_break_table),
        cmocka_unit_test(test_topic_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
