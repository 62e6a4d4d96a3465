/* The Event Hubs-compatible endpoint against a proton client driver in memory: sb:// tokens, $management READ, partitions, filters, consumer groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/connection_driver.h>
#include <proton/delivery.h>
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

/* Expected names, statuses and body keys are literals from docs/eventhubs.md
 * (what @azure/event-hubs 6.0.4 and core-amqp send and read), never read
 * back from the session. */

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define EPOCH 1767225600LL
#define HOST "hubsim.azure-devices.net"
#define EH "sb://" HOST "/hubsim"
#define OWNER_KEY "nQ9Ms+NDeIZhwcy3lBpi65VfQgKvb5/Wg1J50AnbH7U=" /* default iothubowner (hub_config.c) */

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    amqp_feeds_t *feeds;
    int msgid;
    pn_link_t *cbs_tx, *cbs_rx, *mg_tx, *mg_rx;
    amqp_pipe_t p; /* the server session and the proton client (tests/support/amqp_pipe.h) */
} fx_t;

typedef ap_rx_t rx_t;

/* The shared pipe's helpers, on the fixture. */
static void pump(fx_t *f) { ap_pump(&f->p); }
static pn_link_t *c_sender(fx_t *f, const char *name, const char *address)
{
    return ap_sender(&f->p, name, address);
}
static pn_delivery_t *c_send(fx_t *f, pn_link_t *l, pn_message_t *m) { return ap_send(&f->p, l, m); }
static rx_t *last_on(fx_t *f, pn_link_t *l) { return ap_last_on(&f->p, l); }
static rx_t *nth_on(fx_t *f, pn_link_t *l, int k) { return ap_nth_on(&f->p, l, k); }
static int count_on(fx_t *f, pn_link_t *l) { return ap_count_on(&f->p, l); }
#define refused ap_refused
#define put_app ap_put_app

/* A receiver with an optional Event Hubs selector filter. */
static pn_link_t *c_receiver_f(fx_t *f, const char *name, const char *address, const char *target,
                               const char *filter, int credit)
{
    pn_link_t *l = pn_receiver(f->p.ssn, name);
    pn_terminus_t *src = pn_link_source(l);
    pn_terminus_set_address(src, address);
    if (target)
        pn_terminus_set_address(pn_link_target(l), target);
    if (filter) {
        const char *fname = "apache.org:selector-filter:string";
        pn_data_t *flt = pn_terminus_filter(src);
        pn_data_put_map(flt);
        pn_data_enter(flt);
        pn_data_put_symbol(flt, pn_bytes(strlen(fname), fname));
        pn_data_put_described(flt);
        pn_data_enter(flt);
        pn_data_put_ulong(flt, 0x0000468C00000004ull); /* the descriptor core-amqp sends (77567109365764) */
        pn_data_put_string(flt, pn_bytes(strlen(filter), filter));
        pn_data_exit(flt);
        pn_data_exit(flt);
    }
    pn_link_open(l);
    if (credit)
        pn_link_flow(l, credit);
    pump(f);
    return l;
}

static int64_t ann_long(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_annotations(m);
    assert_true(amqp_map_find(p, key, false));
    assert_int_equal(pn_data_type(p), PN_LONG);
    return pn_data_get_long(p);
}

static char *ann_text(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_annotations(m);
    return amqp_map_find(p, key, false) ? amqp_data_text(p) : NULL;
}

/* ---- tokens ------------------------------------------------------------------------------- */

/* core-amqp createToken: sr = encodeURIComponent(audience), HMAC-SHA256 keyed
 * with the key's TEXT over sr + "\n" + expiry, signature base64 then
 * URL-encoded. */
static void eh_token(const char *audience, const char *policy, const char *key, int64_t expiry, char *out,
                     size_t cap)
{
    char sr[600], sig_enc[200], to_sign[700], b64[120];
    assert_int_equal(hub_url_encode(audience, sr, sizeof sr), HS_EOK);
    int n = snprintf(to_sign, sizeof to_sign, "%s\n%lld", sr, (long long)expiry);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)to_sign, (size_t)n, mac,
                         &mac_len));
    assert_int_equal(hub_b64_encode(mac, mac_len, b64, sizeof b64), HS_EOK);
    assert_int_equal(hub_url_encode(b64, sig_enc, sizeof sig_enc), HS_EOK);
    snprintf(out, cap, "SharedAccessSignature sr=%s&sig=%s&se=%lld&skn=%s", sr, sig_enc, (long long)expiry, policy);
}

static void device_token(const char *dev, char *out, size_t cap)
{
    ap_device_token(HOST, dev, KEY, EPOCH + 3600, out, cap);
}

/* ---- fixture -------------------------------------------------------------------------------- */

static fx_t *fx_new_parts(uint32_t partitions)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->k = sim_kernel_new(11, EPOCH);
    char why[200];
    assert_int_equal(hub_new(f->k, NULL, &f->hub, why, sizeof why), HS_EOK);
    for (int i = 1; i <= 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "dev%d", i);
        hub_identity_spec_t s = { .device_id = id, .primary_key = KEY };
        assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
    }
    amqp_feeds_opts_t fo;
    amqp_feeds_opts_default(&fo);
    if (partitions)
        fo.partitions = partitions;
    assert_int_equal(amqp_feeds_new(f->hub, &fo, &f->feeds), HS_EOK);
    f->p.accept_received = true; /* as a back end's receiver settles what it read */
    ap_open(&f->p, f->hub, f->feeds, &(ap_open_t){ .container = "eh-client", .host = HOST });
    f->cbs_tx = c_sender(f, "cbs-tx", "$cbs");
    f->cbs_rx = c_receiver_f(f, "cbs-rx", "$cbs", "cbs-reply", NULL, 10);
    return f;
}

static fx_t *fx_new(void)
{
    return fx_new_parts(0);
}

static void fx_free(fx_t *f)
{
    char why[300];
    hs_err_t ck = ap_teardown(&f->p, f->k, f->hub, f->feeds, why, sizeof why);
    free(f);
    if (ck != HS_EOK)
        fail_msg("hub_check: %s", why);
}

static int app_int(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_properties(m);
    if (!amqp_map_find(p, key, false) || pn_data_type(p) != PN_INT)
        return -1;
    return pn_data_get_int(p);
}

static char *app_text(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_properties(m);
    return amqp_map_find(p, key, false) ? amqp_data_text(p) : NULL;
}

/* put-token as core-amqp's CbsClient sends it; the reply's status-code. */
static int put_token(fx_t *f, const char *name, const char *token)
{
    pn_message_t *m = pn_message();
    char id[32];
    snprintf(id, sizeof id, "cbs-%d", ++f->msgid);
    pn_message_set_id(m, (pn_atom_t){ .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(id), id) });
    pn_message_set_reply_to(m, "cbs-reply");
    pn_message_set_address(m, "$cbs");
    const char *kv[] = { "operation", "put-token", "type", "servicebus.windows.net:sastoken", "name", name, NULL };
    put_app(m, kv);
    pn_data_put_string(pn_message_body(m), pn_bytes(strlen(token), token));
    pn_delivery_t *d = c_send(f, f->cbs_tx, m);
    pn_message_free(m);
    pn_delivery_settle(d);
    rx_t *r = last_on(f, f->cbs_rx);
    return r ? app_int(r->m, "status-code") : -1;
}

static int auth_eh(fx_t *f, const char *audience)
{
    char tok[1000];
    eh_token(audience, "iothubowner", OWNER_KEY, EPOCH + 3600, tok, sizeof tok);
    return put_token(f, audience, tok);
}

static pn_link_t *d2c_link(fx_t *f, const char *dev)
{
    char tok[600], aud[200], addr[120];
    device_token(dev, tok, sizeof tok);
    snprintf(aud, sizeof aud, HOST "/devices/%s", dev);
    assert_int_equal(put_token(f, aud, tok), 200);
    snprintf(addr, sizeof addr, "/devices/%s/messages/events", dev);
    pn_link_t *l = c_sender(f, dev, addr);
    assert_false(pn_link_state(l) & PN_REMOTE_CLOSED);
    return l;
}

static void send_d2c(fx_t *f, pn_link_t *l, const char *id)
{
    pn_message_t *m = pn_message();
    pn_message_set_id(m, (pn_atom_t){ .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(id), id) });
    const char *kv[] = { "k", id, NULL };
    put_app(m, kv);
    pn_data_put_binary(pn_message_body(m), pn_bytes(2, "{}"));
    pn_delivery_t *d = c_send(f, l, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    pn_delivery_settle(d);
}

static uint32_t partition_of(fx_t *f, const char *dev, uint32_t parts)
{
    hub_identity_t who;
    assert_int_equal(hub_identity_get(f->hub, dev, NULL, &who), HUB_EOK);
    return who.device_no % parts;
}

/* ---- $management ---------------------------------------------------------------------------- */

static void mgmt_open(fx_t *f)
{
    assert_int_equal(auth_eh(f, EH "/$management"), 200);
    f->mg_tx = c_sender(f, "mg-tx", "$management");
    f->mg_rx = c_receiver_f(f, "mg-rx", "$management", "mg-reply-1", NULL, 10);
    assert_false(pn_link_state(f->mg_tx) & PN_REMOTE_CLOSED);
    assert_false(pn_link_state(f->mg_rx) & PN_REMOTE_CLOSED);
}

/* A READ request as ManagementClient sends it; returns the reply (or NULL). */
static pn_message_t *mgmt_read(fx_t *f, const char *name, const char *type, const char *partition,
                               const char *operation)
{
    pn_message_t *m = pn_message();
    char id[32];
    snprintf(id, sizeof id, "mg-%d", ++f->msgid);
    pn_message_set_id(m, (pn_atom_t){ .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(id), id) });
    pn_message_set_reply_to(m, "mg-reply-1");
    const char *kv[] = { "operation", operation, "name", name, "type", type, "security_token", "x",
                         partition ? "partition" : NULL, partition, NULL };
    put_app(m, kv);
    pn_data_put_binary(pn_message_body(m), pn_bytes(2, "[]"));
    int before = count_on(f, f->mg_rx);
    pn_delivery_t *d = c_send(f, f->mg_tx, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    pn_delivery_settle(d);
    if (count_on(f, f->mg_rx) != before + 1)
        return NULL;
    pn_message_t *r = last_on(f, f->mg_rx)->m;
    char *corr = amqp_atom_text(pn_message_get_correlation_id(r));
    assert_non_null(corr);
    assert_string_equal(corr, id);
    free(corr);
    return r;
}

static bool body_find(pn_message_t *r, const char *key)
{
    pn_data_t *b = pn_message_body(r);
    pn_data_rewind(b);
    if (!pn_data_next(b) || pn_data_type(b) != PN_MAP)
        return false;
    return amqp_map_find(b, key, false);
}

static int64_t body_long(pn_message_t *r, const char *key)
{
    assert_true(body_find(r, key));
    pn_data_t *b = pn_message_body(r);
    assert_int_equal(pn_data_type(b), PN_LONG);
    return pn_data_get_long(b);
}

static char *body_text(pn_message_t *r, const char *key)
{
    assert_true(body_find(r, key));
    return amqp_data_text(pn_message_body(r));
}

static void assert_body_string(pn_message_t *r, const char *key, const char *want)
{
    char *v = body_text(r, key);
    assert_non_null(v);
    assert_string_equal(v, want);
    free(v);
}

static void test_mgmt_read_eventhub(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    mgmt_open(f);
    pn_message_t *r = mgmt_read(f, "hubsim", "com.microsoft:eventhub", NULL, "READ");
    assert_non_null(r);
    assert_int_equal(app_int(r, "status-code"), 200);
    assert_body_string(r, "name", "hubsim");
    assert_body_string(r, "type", "com.microsoft:eventhub");
    assert_true(body_find(r, "partition_count"));
    assert_int_equal(pn_data_type(pn_message_body(r)), PN_INT);
    assert_int_equal(pn_data_get_int(pn_message_body(r)), 4);
    assert_true(body_find(r, "created_at"));
    assert_int_equal(pn_data_type(pn_message_body(r)), PN_TIMESTAMP);
    assert_int_equal(pn_data_get_timestamp(pn_message_body(r)), EPOCH * 1000);
    assert_true(body_find(r, "partition_ids"));
    pn_data_t *b = pn_message_body(r);
    assert_int_equal(pn_data_type(b), PN_ARRAY);
    assert_int_equal(pn_data_get_array(b), 4);
    assert_int_equal(pn_data_get_array_type(b), PN_STRING);
    pn_data_enter(b);
    for (int i = 0; i < 4; i++) {
        assert_true(pn_data_next(b));
        char want[4];
        snprintf(want, sizeof want, "%d", i);
        pn_bytes_t s = pn_data_get_string(b);
        assert_int_equal(s.size, strlen(want));
        assert_memory_equal(s.start, want, s.size);
    }
    pn_data_exit(b);
    /* the entity name is case-insensitive like the addresses; another name is not found */
    r = mgmt_read(f, "HubSim", "com.microsoft:eventhub", NULL, "READ");
    assert_int_equal(app_int(r, "status-code"), 200);
    r = mgmt_read(f, "other", "com.microsoft:eventhub", NULL, "READ");
    assert_int_equal(app_int(r, "status-code"), 404);
    char *cond = app_text(r, "error-condition");
    assert_string_equal(cond, "amqp:not-found");
    free(cond);
    /* only READ, only the two types */
    r = mgmt_read(f, "hubsim", "com.microsoft:eventhub", NULL, "WRITE");
    assert_int_equal(app_int(r, "status-code"), 400);
    r = mgmt_read(f, "hubsim", "com.microsoft:queue", NULL, "READ");
    assert_int_equal(app_int(r, "status-code"), 400);
    cond = app_text(r, "error-condition");
    assert_string_equal(cond, "com.microsoft:argument-error");
    free(cond);
    fx_free(f);
}

static void test_mgmt_read_partition(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    mgmt_open(f);
    pn_link_t *tx = d2c_link(f, "dev1");
    uint32_t p1 = partition_of(f, "dev1", 4);
    send_d2c(f, tx, "a");
    sim_kernel_run_until(f->k, sim_kernel_now(f->k) + 2000000000u); /* 2 s later */
    send_d2c(f, tx, "b");
    char id[8];
    snprintf(id, sizeof id, "%u", p1);
    pn_message_t *r = mgmt_read(f, "hubsim", "com.microsoft:partition", id, "READ");
    assert_non_null(r);
    assert_int_equal(app_int(r, "status-code"), 200);
    assert_body_string(r, "name", "hubsim");
    assert_body_string(r, "type", "com.microsoft:partition");
    assert_body_string(r, "partition", id);
    assert_int_equal(body_long(r, "begin_sequence_number"), 1);
    assert_int_equal(body_long(r, "last_enqueued_sequence_number"), 2);
    assert_body_string(r, "last_enqueued_offset", "2");
    assert_true(body_find(r, "last_enqueued_time_utc"));
    assert_int_equal(pn_data_type(pn_message_body(r)), PN_TIMESTAMP);
    assert_int_equal(pn_data_get_timestamp(pn_message_body(r)), EPOCH * 1000 + 2000);
    assert_true(body_find(r, "is_partition_empty"));
    assert_false(pn_data_get_bool(pn_message_body(r)));
    /* another partition is empty */
    snprintf(id, sizeof id, "%u", (p1 + 1) % 4);
    r = mgmt_read(f, "hubsim", "com.microsoft:partition", id, "READ");
    assert_int_equal(app_int(r, "status-code"), 200);
    assert_true(body_find(r, "is_partition_empty"));
    assert_true(pn_data_get_bool(pn_message_body(r)));
    assert_int_equal(body_long(r, "last_enqueued_sequence_number"), -1);
    /* unknown partitions */
    r = mgmt_read(f, "hubsim", "com.microsoft:partition", "4", "READ");
    assert_int_equal(app_int(r, "status-code"), 404);
    r = mgmt_read(f, "hubsim", "com.microsoft:partition", "x1", "READ");
    assert_int_equal(app_int(r, "status-code"), 404);
    r = mgmt_read(f, "hubsim", "com.microsoft:partition", NULL, "READ");
    assert_int_equal(app_int(r, "status-code"), 404);
    fx_free(f);
}

static void test_mgmt_partition_count_knob(void **state)
{
    (void)state;
    fx_t *f = fx_new_parts(2);
    mgmt_open(f);
    pn_message_t *r = mgmt_read(f, "hubsim", "com.microsoft:eventhub", NULL, "READ");
    assert_true(body_find(r, "partition_count"));
    assert_int_equal(pn_data_get_int(pn_message_body(r)), 2);
    r = mgmt_read(f, "hubsim", "com.microsoft:partition", "2", "READ");
    assert_int_equal(app_int(r, "status-code"), 404);
    /* a receiver on a partition that does not exist is refused */
    pn_link_t *bad = c_receiver_f(f, "bad", "hubsim/ConsumerGroups/$Default/Partitions/2", NULL, NULL, 5);
    assert_true(refused(bad, "amqp:not-found"));
    fx_free(f);
}

/* ---- authorization -------------------------------------------------------------------------- */

static void test_eh_token_audiences(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    char tok[1000];
    /* links before any token are refused */
    pn_link_t *early = c_sender(f, "early", "$management");
    assert_true(refused(early, "amqp:unauthorized-access"));
    /* wrong host, wrong entity, unknown policy, a policy without ServiceConnect, wrong key, expired */
    assert_int_equal(auth_eh(f, "sb://elsewhere.servicebus.windows.net/hubsim/$management"), 401);
    assert_int_equal(auth_eh(f, "sb://" HOST "/otherhub/$management"), 401);
    eh_token(EH "/$management", "nobody", OWNER_KEY, EPOCH + 3600, tok, sizeof tok);
    assert_int_equal(put_token(f, EH "/$management", tok), 401);
    eh_token(EH "/$management", "registryRead", "mo29yBvLoy1pAym16cdcpVHnkPW3ewPa+o4Xqg8uYuw=", EPOCH + 3600, tok,
             sizeof tok);
    assert_int_equal(put_token(f, EH "/$management", tok), 401);
    eh_token(EH "/$management", "iothubowner", KEY, EPOCH + 3600, tok, sizeof tok);
    assert_int_equal(put_token(f, EH "/$management", tok), 401);
    eh_token(EH "/$management", "iothubowner", OWNER_KEY, EPOCH - 1, tok, sizeof tok);
    assert_int_equal(put_token(f, EH "/$management", tok), 401);
    /* put-token name and sr must agree */
    eh_token(EH "/$management", "iothubowner", OWNER_KEY, EPOCH + 3600, tok, sizeof tok);
    assert_int_equal(put_token(f, EH "/ConsumerGroups/$Default/Partitions/0", tok), 401);
    pn_link_t *still = c_sender(f, "still", "$management");
    assert_true(refused(still, "amqp:unauthorized-access"));
    /* the "service" policy (ServiceConnect) with an IoT Hub-style (base64-decoded key) signature works too */
    char res[200];
    assert_int_equal(hub_sas_make("/vxOAOrpe0Hihw6Qtifiuo/gM2K6YEkP764e++SBXe4=",
                                  EH "/ConsumerGroups/$Default/Partitions/1", EPOCH + 3600, "service", tok,
                                  sizeof tok),
                     HS_EOK);
    snprintf(res, sizeof res, "%s", EH "/ConsumerGroups/$Default/Partitions/1");
    assert_int_equal(put_token(f, res, tok), 200);
    pn_link_t *ok = c_sender(f, "ok", "hubsim/$management");
    assert_false(pn_link_state(ok) & PN_REMOTE_CLOSED);
    fx_free(f);
}

/* ---- receivers: partitions, filters, consumer groups --------------------------------------------- */

static void test_partition_receivers_and_groups(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    pn_link_t *tx[6];
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "dev%d", i + 1);
        tx[i] = d2c_link(f, id);
    }
    assert_int_equal(auth_eh(f, EH "/ConsumerGroups/$Default/Partitions/0"), 200);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", i + 1);
        send_d2c(f, tx[i], id);
    }
    /* each partition receiver of $Default gets exactly its devices' events */
    int total = 0;
    pn_link_t *rx[4];
    for (int p = 0; p < 4; p++) {
        char addr[80], name[16];
        snprintf(addr, sizeof addr, "hubsim/ConsumerGroups/$Default/Partitions/%d", p);
        snprintf(name, sizeof name, "p%d", p);
        rx[p] = c_receiver_f(f, name, addr, NULL, "amqp.annotation.x-opt-offset > '-1'", 20);
        int want = 0;
        for (int i = 0; i < 6; i++) {
            char dev[8];
            snprintf(dev, sizeof dev, "dev%d", i + 1);
            want += partition_of(f, dev, 4) == (uint32_t)p;
        }
        assert_int_equal(count_on(f, rx[p]), want);
        for (int k = 0; k < want; k++) {
            char *dev = ann_text(nth_on(f, rx[p], k)->m, "iothub-connection-device-id");
            assert_non_null(dev);
            assert_int_equal(partition_of(f, dev, 4), (uint32_t)p);
            free(dev);
        }
        total += want;
    }
    assert_int_equal(total, 6);
    /* another consumer group (any name) reads the same log from the start, independently */
    pn_link_t *g2 = c_receiver_f(f, "g2", "hubsim/ConsumerGroups/analytics/Partitions/0", NULL,
                                 "amqp.annotation.x-opt-offset > '-1'", 20);
    assert_int_equal(count_on(f, g2), count_on(f, rx[0]));
    /* live events reach both groups */
    uint32_t p1 = partition_of(f, "dev1", 4);
    send_d2c(f, tx[0], "live");
    char addr[80];
    snprintf(addr, sizeof addr, "hubsim/ConsumerGroups/analytics/Partitions/%u", p1);
    pn_link_t *g2p = c_receiver_f(f, "g2p", addr, NULL, "amqp.annotation.x-opt-offset > '@latest'", 20);
    assert_int_equal(count_on(f, g2p), 0); /* @latest: only what comes next */
    int before = count_on(f, rx[p1]);
    send_d2c(f, tx[0], "live2");
    assert_int_equal(count_on(f, rx[p1]), before + 1);
    assert_int_equal(count_on(f, g2p), 1);
    assert_int_equal(ann_long(last_on(f, g2p)->m, "x-opt-sequence-number"),
                     ann_long(last_on(f, rx[p1])->m, "x-opt-sequence-number"));
    fx_free(f);
}

static void test_filters(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    pn_link_t *tx = d2c_link(f, "dev1");
    assert_int_equal(auth_eh(f, EH "/ConsumerGroups/$Default/Partitions/0"), 200);
    uint32_t p = partition_of(f, "dev1", 4);
    for (int i = 1; i <= 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "f%d", i);
        send_d2c(f, tx, id);
        sim_kernel_run_until(f->k, sim_kernel_now(f->k) + 1000000000u); /* one per second: t = 0, 1, 2, 3 s */
    }
    char addr[80];
    snprintf(addr, sizeof addr, "hubsim/ConsumerGroups/$Default/Partitions/%u", p);
    static const struct {
        const char *filter;
        int count;
        int64_t first_seq;
    } cases[] = {
        { "amqp.annotation.x-opt-sequence-number > '2'", 2, 3 },
        { "amqp.annotation.x-opt-sequence-number >= '2'", 3, 2 },
        { "amqp.annotation.x-opt-offset > '3'", 1, 4 },
        { "amqp.annotation.x-opt-offset >= '1'", 4, 1 },
        { "amqp.annotation.x-opt-offset > '-1'", 4, 1 },
        { "amqp.annotation.x-opt-enqueued-time > '1767225601000'", 2, 3 }, /* strictly after t = 1 s */
        { "amqp.annotation.x-opt-enqueued-time > '1767225600999'", 3, 2 },
        { "amqp.annotation.x-opt-offset > '@latest'", 0, 0 },
        { "amqp.annotation.x-opt-sequence-number > '9'", 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%zu", i);
        pn_link_t *rx = c_receiver_f(f, name, addr, NULL, cases[i].filter, 20);
        assert_false(pn_link_state(rx) & PN_REMOTE_CLOSED);
        if (count_on(f, rx) != cases[i].count)
            fail_msg("%s: %d events, want %d", cases[i].filter, count_on(f, rx), cases[i].count);
        if (cases[i].count) {
            pn_message_t *m = nth_on(f, rx, 0)->m;
            assert_int_equal(ann_long(m, "x-opt-sequence-number"), cases[i].first_seq);
            char *off = ann_text(m, "x-opt-offset");
            char want[24];
            snprintf(want, sizeof want, "%lld", (long long)cases[i].first_seq);
            assert_string_equal(off, want);
            free(off);
            pn_data_t *a = pn_message_annotations(m);
            assert_true(amqp_map_find(a, "x-opt-enqueued-time", false));
            assert_int_equal(pn_data_type(a), PN_TIMESTAMP);
            assert_int_equal(pn_data_get_timestamp(a), EPOCH * 1000 + (cases[i].first_seq - 1) * 1000);
        }
        pn_link_close(rx);
        pump(f);
    }
    fx_free(f);
}

static void test_address_forms(void **state)
{
    (void)state;
    amqp_addr_t a;
    assert_int_equal(amqp_addr_parse("$management", "hubsim", false, &a), AMQP_ADDR_EH_MGMT);
    assert_int_equal(amqp_addr_parse("hubsim/$management", "hubsim", false, &a), AMQP_ADDR_EH_MGMT);
    assert_int_equal(amqp_addr_parse("amqps://h/hubsim/$management", "hubsim", false, &a), AMQP_ADDR_EH_MGMT);
    assert_int_equal(amqp_addr_parse("other/$management", "hubsim", false, &a), AMQP_ADDR_UNKNOWN);
    assert_int_equal(amqp_addr_parse("hubsim/ConsumerGroups/$Default/Partitions/3", "hubsim", false, &a),
                     AMQP_ADDR_SVC_EVENTS);
    assert_string_equal(a.consumer_group, "$Default");
    assert_int_equal(a.partition, 3);
    assert_string_equal(amqp_addr_kind_name(AMQP_ADDR_EH_MGMT), "eh-management");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mgmt_read_eventhub),
        cmocka_unit_test(test_mgmt_read_partition),
        cmocka_unit_test(test_mgmt_partition_count_knob),
        cmocka_unit_test(test_eh_token_audiences),
        cmocka_unit_test(test_partition_receivers_and_groups),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_address_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
