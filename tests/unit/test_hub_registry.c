/* Hub identity registry and auth: id rules, etags and If-Match, generation ids, SAS expiry/signature/scope, X.509, disabled devices. */
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

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define EPOCH 1767225600LL
#define HOST "hubsim.azure-devices.net"
#define THUMB "0123456789ABCDEF0123456789ABCDEF01234567"

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
} fx_t;

static fx_t fx_new(void)
{
    fx_t f;
    f.k = sim_kernel_new(7, EPOCH);
    char why[256];
    assert_int_equal(hub_new(f.k, NULL, &f.hub, why, sizeof why), HS_EOK);
    return f;
}

static void fx_free(fx_t f)
{
    char why[256];
    assert_int_equal(hub_check(f.hub, why, sizeof why), HS_EOK);
    hub_free(f.hub);
    assert_int_equal(sim_kernel_pending(f.k), 0);
    sim_kernel_free(f.k);
}

static int code(hub_err_t e)
{
    return hub_error_info(e)->code;
}

static hub_err_t create(fx_t *f, const char *dev, const char *mod)
{
    hub_identity_spec_t s = { .device_id = dev, .module_id = mod, .primary_key = KEY };
    return hub_identity_create(f->hub, &s, NULL);
}

/* ---- ids ------------------------------------------------------------------- */

static void test_id_rules(void **state)
{
    (void)state;
    fx_t f = fx_new();
    /* <= 128 chars: 128 accepted, 129 refused. */
    char id[131];
    memset(id, 'd', 130);
    id[128] = '\0';
    assert_int_equal(create(&f, id, NULL), HUB_EOK);
    id[128] = 'd';
    id[129] = '\0';
    assert_int_equal(code(create(&f, id, NULL)), 400004);
    /* Every special character NOTES.md allows. */
    assert_int_equal(create(&f, "a-:.+%_#*?!(),=@;$'", NULL), HUB_EOK);
    /* Characters outside the set. */
    static const char *const bad[] = { "a/b", "a b", "a&b", "a^b", "a~b", "a\"b", "a<b", "a\\b",
                                       "a\xc3\xa9", "a\tb", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(code(create(&f, bad[i], NULL)), 400004);
    /* Case-sensitive: Dev and dev are two devices. */
    assert_int_equal(create(&f, "dev", NULL), HUB_EOK);
    assert_int_equal(create(&f, "Dev", NULL), HUB_EOK);
    assert_int_equal(code(create(&f, "dev", NULL)), 409001);
    /* Modules: 128/129 and their own duplicates; a module of an unknown device. */
    memset(id, 'm', 128);
    id[128] = '\0';
    assert_int_equal(create(&f, "dev", id), HUB_EOK);
    id[128] = 'm';
    assert_int_equal(code(create(&f, "dev", id)), 400004);
    assert_int_equal(code(create(&f, "dev", "m/x")), 400004);
    assert_int_equal(create(&f, "dev", "mod"), HUB_EOK);
    assert_int_equal(code(create(&f, "dev", "mod")), 409301);
    assert_int_equal(code(create(&f, "ghost", "mod")), 404001);
    /* Bad keys and thumbprints. */
    hub_identity_spec_t s = { .device_id = "k1", .primary_key = "not base64!" };
    assert_int_equal(code(hub_identity_create(f.hub, &s, NULL)), 400004);
    s.primary_key = "AAAA"; /* 3 bytes: too short */
    assert_int_equal(code(hub_identity_create(f.hub, &s, NULL)), 400004);
    hub_identity_spec_t x = { .device_id = "x1", .x509 = true };
    assert_int_equal(code(hub_identity_create(f.hub, &x, NULL)), 400004);
    x.primary_thumbprint = "XYZ";
    assert_int_equal(code(hub_identity_create(f.hub, &x, NULL)), 400004);
    assert_int_equal(hub_identity_count(f.hub), 6);
    fx_free(f);
}

/* ---- etags, If-Match, generationId ------------------------------------------ */

static void test_etag_if_match_generation(void **state)
{
    (void)state;
    fx_t f = fx_new();
    hub_identity_t a, b, c;
    hub_identity_spec_t s = { .device_id = "d1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f.hub, &s, &a), HUB_EOK);
    assert_true(a.enabled);
    assert_string_equal(a.primary_key, KEY);
    assert_int_equal(strlen(a.generation_id), 18);
    /* Update with the current etag succeeds and changes the etag. */
    s.disabled = true;
    assert_int_equal(hub_identity_update(f.hub, &s, a.etag, &b), HUB_EOK);
    assert_string_not_equal(a.etag, b.etag);
    assert_false(b.enabled);
    assert_string_equal(a.generation_id, b.generation_id);
    /* The old etag now fails with 412 (quoted form too); "*" always matches. */
    assert_int_equal(code(hub_identity_update(f.hub, &s, a.etag, NULL)), 412001);
    char quoted[40];
    snprintf(quoted, sizeof quoted, "\"%s\"", b.etag);
    s.disabled = false;
    assert_int_equal(hub_identity_update(f.hub, &s, quoted, &c), HUB_EOK);
    assert_int_equal(hub_identity_update(f.hub, &s, "*", &c), HUB_EOK);
    assert_int_equal(code(hub_identity_delete(f.hub, "d1", NULL, a.etag)), 412001);
    assert_int_equal(hub_identity_delete(f.hub, "d1", NULL, c.etag), HUB_EOK);
    assert_int_equal(code(hub_identity_get(f.hub, "d1", NULL, &c)), 404001);
    assert_int_equal(code(hub_identity_delete(f.hub, "d1", NULL, NULL)), 404001);
    /* Re-created: a new generationId. */
    assert_int_equal(hub_identity_create(f.hub, &s, &c), HUB_EOK);
    assert_string_not_equal(a.generation_id, c.generation_id);
    /* PUT creates or updates. */
    hub_identity_spec_t p = { .device_id = "p1" };
    assert_int_equal(hub_identity_put(f.hub, &p, NULL, &a), HUB_EOK);
    assert_true(strlen(a.primary_key) > 0); /* derived from the seed */
    assert_int_equal(code(hub_identity_put(f.hub, &p, "\"nope\"", NULL)), 412001);
    /* Deleting a device deletes its modules. */
    assert_int_equal(create(&f, "p1", "m1"), HUB_EOK);
    assert_int_equal(hub_identity_delete(f.hub, "p1", NULL, "*"), HUB_EOK);
    assert_int_equal(code(hub_identity_get(f.hub, "p1", "m1", &a)), 404001);
    assert_int_equal(hub_identity_count(f.hub), 1);
    fx_free(f);
}

static void test_derived_keys_are_deterministic(void **state)
{
    (void)state;
    hub_identity_t a, b;
    for (int i = 0; i < 2; i++) {
        fx_t f = fx_new();
        hub_identity_spec_t s = { .device_id = "seeded" };
        assert_int_equal(hub_identity_create(f.hub, &s, i ? &b : &a), HUB_EOK);
        fx_free(f);
    }
    assert_string_equal(a.primary_key, b.primary_key);
    assert_string_not_equal(a.primary_key, a.secondary_key);
}

/* The hub's own keys are derived when read, not stored: the same text as
 * when they were stored at creation (values taken from the build that
 * stored them, seed 7), kept until an update gives a key, and both keys
 * authenticate. */
static hub_err_t connect_tok(fx_t *f, const char *dev, const char *mod, const char *tok);

static void test_derived_keys_read_back_and_updates(void **state)
{
    (void)state;
    fx_t f = fx_new();
    hub_identity_spec_t s = { .device_id = "seeded" }, m = { .device_id = "seeded", .module_id = "mod" };
    hub_identity_t a;
    assert_int_equal(hub_identity_create(f.hub, &s, &a), HUB_EOK);
    assert_string_equal(a.primary_key, "tSeObva9HIK2WWQj13Mz2pZQzWK7i+Zt63HiQGWuclI=");
    assert_string_equal(a.secondary_key, "U7p9B26t1NREVqrdLEw/RmoS6rSGOXfXBu4I+Re10uw=");
    assert_int_equal(hub_identity_create(f.hub, &m, &a), HUB_EOK);
    assert_string_equal(a.primary_key, "MBjcsG/WXqo/22O+mSGVnyQEYfW5qCjngsMQ140w044=");
    char tok[512];
    const char *res = HOST "/devices/seeded";
    /* the secondary key authenticates too */
    assert_int_equal(hub_sas_make("U7p9B26t1NREVqrdLEw/RmoS6rSGOXfXBu4I+Re10uw=", res, EPOCH + 60, NULL, tok,
                                  sizeof tok), HS_EOK);
    assert_int_equal(connect_tok(&f, "seeded", NULL, tok), HUB_EOK);
    /* a given primary replaces the derived one; the secondary stays the hub's */
    hub_identity_spec_t u = { .device_id = "seeded", .primary_key = KEY };
    assert_int_equal(hub_identity_update(f.hub, &u, NULL, &a), HUB_EOK);
    assert_string_equal(a.primary_key, KEY);
    assert_string_equal(a.secondary_key, "U7p9B26t1NREVqrdLEw/RmoS6rSGOXfXBu4I+Re10uw=");
    assert_int_equal(hub_sas_make("tSeObva9HIK2WWQj13Mz2pZQzWK7i+Zt63HiQGWuclI=", res, EPOCH + 60, NULL, tok,
                                  sizeof tok), HS_EOK);
    assert_int_equal(connect_tok(&f, "seeded", NULL, tok), HUB_EUNAUTHORIZED_ACCESS);
    assert_int_equal(hub_sas_make(KEY, res, EPOCH + 60, NULL, tok, sizeof tok), HS_EOK);
    assert_int_equal(connect_tok(&f, "seeded", NULL, tok), HUB_EOK);
    /* "" removes the secondary */
    hub_identity_spec_t none = { .device_id = "seeded", .secondary_key = "" };
    assert_int_equal(hub_identity_update(f.hub, &none, NULL, &a), HUB_EOK);
    assert_string_equal(a.secondary_key, "");
    assert_string_equal(a.primary_key, KEY);
    /* an update that names no key keeps the module's derived one */
    hub_identity_spec_t md = { .device_id = "seeded", .module_id = "mod", .disabled = false };
    assert_int_equal(hub_identity_update(f.hub, &md, NULL, &a), HUB_EOK);
    assert_string_equal(a.primary_key, "MBjcsG/WXqo/22O+mSGVnyQEYfW5qCjngsMQ140w044=");
    fx_free(f);
}

/* ---- SAS ------------------------------------------------------------------ */

static void test_sas_known_vector(void **state)
{
    (void)state;
    /* Computed independently (Python hmac/base64/urllib) for key KEY,
     * sr = hubsim.azure-devices.net/devices/dev1, se = 1767229200. */
    const char *expect = "SharedAccessSignature sr=hubsim.azure-devices.net%2Fdevices%2Fdev1"
                         "&sig=Qkao2tazlJCD%2B6IJnT0YV0Jz565bx2KjGqfBIzzo4jk%3D&se=1767229200";
    char tok[512];
    assert_int_equal(hub_sas_make(KEY, HOST "/devices/dev1", 1767229200, NULL, tok, sizeof tok), HS_EOK);
    assert_string_equal(tok, expect);
    hub_sas_t t;
    assert_int_equal(hub_sas_parse(expect, &t, NULL, 0), HS_EOK);
    assert_string_equal(t.sr, HOST "/devices/dev1");
    assert_int_equal(t.se, 1767229200);
    assert_false(t.has_skn);
    assert_int_equal(hub_sas_verify(&t, KEY), HS_EOK);
    assert_int_equal(hub_sas_verify(&t, KEY2), HS_EINVAL);
    /* Field order does not matter. */
    assert_int_equal(hub_sas_parse("SharedAccessSignature se=1&sig=AAAA&sr=x", &t, NULL, 0), HS_EOK);
    static const char *const bad[] = { "sr=x&sig=AAAA&se=1", "SharedAccessSignature sr=x&sig=AAAA",
                                       "SharedAccessSignature sr=x&sig=AAAA&se=12a",
                                       "SharedAccessSignature sr=%zz&sig=AAAA&se=1",
                                       "SharedAccessSignature sr=x&sig=!!!!&se=1",
                                       "SharedAccessSignature sr", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hub_sas_parse(bad[i], &t, NULL, 0), HS_EPARSE);
}

static hub_err_t connect_tok(fx_t *f, const char *dev, const char *mod, const char *tok)
{
    hub_connect_params_t p = { .device_id = dev, .module_id = mod, .sas_token = tok };
    hub_conn_t c;
    return hub_device_connect(f->hub, &p, NULL, NULL, &c);
}

static void test_sas_expiry_virtual_time(void **state)
{
    (void)state;
    fx_t f = fx_new();
    assert_int_equal(create(&f, "dev1", NULL), HUB_EOK);
    char tok[512];
    /* se = epoch + 100 s: valid while the virtual clock is before it. */
    assert_int_equal(hub_sas_make(KEY, HOST "/devices/dev1", EPOCH + 100, NULL, tok, sizeof tok), HS_EOK);
    sim_kernel_run_until(f.k, 100 * SIM_SEC - SIM_MS);
    assert_int_equal(connect_tok(&f, "dev1", NULL, tok), HUB_EOK);
    sim_kernel_run_until(f.k, 100 * SIM_SEC);
    hub_err_t e = connect_tok(&f, "dev1", NULL, tok);
    assert_int_equal(hub_error_info(e)->http_status, 401);
    assert_int_equal(hub_counter(f.hub, "auth.expired"), 1);
    fx_free(f);
}

static void test_sas_signature_scope_policy(void **state)
{
    (void)state;
    fx_t f = fx_new();
    assert_int_equal(create(&f, "dev1", NULL), HUB_EOK);
    assert_int_equal(create(&f, "dev2", NULL), HUB_EOK);
    assert_int_equal(create(&f, "dev1", "mod1"), HUB_EOK);
    char tok[512];
    int64_t se = EPOCH + 3600;
    /* wrong key */
    assert_int_equal(hub_sas_make(KEY2, HOST "/devices/dev1", se, NULL, tok, sizeof tok), HS_EOK);
    assert_int_equal(hub_error_info(connect_tok(&f, "dev1", NULL, tok))->http_status, 401);
    assert_int_equal(hub_counter(f.hub, "auth.bad_signature"), 1);
    /* right key, another device's scope */
    assert_int_equal(hub_sas_make(KEY, HOST "/devices/dev2", se, NULL, tok, sizeof tok), HS_EOK);
    assert_int_equal(hub_error_info(connect_tok(&f, "dev1", NULL, tok))->http_status, 401);
    assert_int_equal(connect_tok(&f, "dev2", NULL, tok), HUB_EOK);
    /* a device token does not cover its modules; a module token works for the module */
    assert_int_equal(hub_sas_make(KEY, HOST "/devices/dev1", se, NULL, tok, sizeof tok), HS_EOK);
    assert_int_equal(hub_error_info(connect_tok(&f, "dev1", "mod1", tok))->http_status, 401);
    assert_int_equal(hub_sas_make(KEY, HOST "/devices/dev1/modules/mod1", se, NULL, tok, sizeof tok), HS_EOK);
    assert_int_equal(connect_tok(&f, "dev1", "mod1", tok), HUB_EOK);
    /* host part is case-insensitive */
    assert_int_equal(hub_sas_make(KEY, "HUBSIM.azure-devices.net/devices/dev1", se, NULL, tok, sizeof tok), HS_EOK);
    assert_int_equal(connect_tok(&f, "dev1", NULL, tok), HUB_EOK);
    /* a DeviceConnect policy token scoped to the hub covers every device */
    const hub_config_policy_t *pol = hub_config_find_policy(hub_config(f.hub), "device");
    assert_non_null(pol);
    assert_int_equal(hub_sas_make(pol->primary_key, HOST, se, "device", tok, sizeof tok), HS_EOK);
    assert_int_equal(connect_tok(&f, "dev1", NULL, tok), HUB_EOK);
    /* ...but a service-only policy does not */
    const hub_config_policy_t *svc = hub_config_find_policy(hub_config(f.hub), "service");
    assert_int_equal(hub_sas_make(svc->primary_key, HOST, se, "service", tok, sizeof tok), HS_EOK);
    assert_int_equal(hub_error_info(connect_tok(&f, "dev1", NULL, tok))->http_status, 401);
    assert_int_equal(hub_service_authorize(f.hub, tok, HUB_RIGHT_SERVICE_CONNECT), HUB_EOK);
    assert_int_equal(hub_error_info(hub_service_authorize(f.hub, tok, HUB_RIGHT_REGISTRY_WRITE))->http_status, 401);
    /* unknown identity, malformed and missing tokens */
    assert_int_equal(hub_error_info(connect_tok(&f, "ghost", NULL, tok))->http_status, 401);
    assert_int_equal(hub_error_info(connect_tok(&f, "dev1", NULL, "garbage"))->http_status, 401);
    assert_int_equal(hub_error_info(connect_tok(&f, "dev1", NULL, NULL))->http_status, 401);
    /* the secondary key works too */
    hub_identity_spec_t s = { .device_id = "dev3", .primary_key = KEY, .secondary_key = KEY2 };
    assert_int_equal(hub_identity_create(f.hub, &s, NULL), HUB_EOK);
    assert_int_equal(hub_sas_make(KEY2, HOST "/devices/dev3", se, NULL, tok, sizeof tok), HS_EOK);
    assert_int_equal(connect_tok(&f, "dev3", NULL, tok), HUB_EOK);
    fx_free(f);
}

static void test_x509_and_disabled(void **state)
{
    (void)state;
    fx_t f = fx_new();
    hub_identity_spec_t s = { .device_id = "x1", .x509 = true, .primary_thumbprint = THUMB };
    assert_int_equal(hub_identity_create(f.hub, &s, NULL), HUB_EOK);
    hub_connect_params_t p = { .device_id = "x1", .x509_thumbprint = "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67" };
    hub_conn_t c = 0;
    assert_int_equal(hub_device_connect(f.hub, &p, NULL, NULL, &c), HUB_EOK);
    p.x509_thumbprint = "1123456789ABCDEF0123456789ABCDEF01234567";
    assert_int_equal(hub_error_info(hub_device_connect(f.hub, &p, NULL, NULL, &c))->http_status, 401);
    assert_int_equal(create(&f, "dev1", NULL), HUB_EOK);
    p.device_id = "dev1";
    p.x509_thumbprint = THUMB; /* a SAS identity has no thumbprint */
    assert_int_equal(hub_error_info(hub_device_connect(f.hub, &p, NULL, NULL, &c))->http_status, 401);
    /* Disabling drops the live connection and refuses new ones. */
    char tok[512];
    assert_int_equal(hub_sas_make(KEY, HOST "/devices/dev1", EPOCH + 3600, NULL, tok, sizeof tok), HS_EOK);
    hub_connect_params_t q = { .device_id = "dev1", .sas_token = tok };
    assert_int_equal(hub_device_connect(f.hub, &q, NULL, NULL, &c), HUB_EOK);
    hub_identity_spec_t d = { .device_id = "dev1", .disabled = true };
    assert_int_equal(hub_identity_update(f.hub, &d, NULL, NULL), HUB_EOK);
    assert_false(hub_device_is_connected(f.hub, c));
    assert_int_equal(hub_counter(f.hub, "conn.dropped_disabled"), 1);
    assert_int_equal(hub_error_info(hub_device_connect(f.hub, &q, NULL, NULL, &c))->http_status, 401);
    assert_int_equal(hub_counter(f.hub, "auth.disabled"), 1);
    /* Re-enabled (keys kept: NULL means unchanged): connects again; deleting drops it. */
    d.disabled = false;
    assert_int_equal(hub_identity_update(f.hub, &d, NULL, NULL), HUB_EOK);
    assert_int_equal(hub_device_connect(f.hub, &q, NULL, NULL, &c), HUB_EOK);
    assert_int_equal(hub_identity_delete(f.hub, "dev1", NULL, NULL), HUB_EOK);
    assert_false(hub_device_is_connected(f.hub, c));
    assert_int_equal(hub_error_info(hub_device_disconnect(f.hub, c))->http_status, 401);
    fx_free(f);
}

static void test_provisioned_from_config(void **state)
{
    (void)state;
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    const char *json =
        "{\"devices\":[{\"id\":\"cfgdev\",\"auth\":\"sas\",\"keys\":{\"primary\":\"" KEY "\"},"
        "\"modules\":[{\"id\":\"$edgeAgent\",\"keys\":{\"primary\":\"" KEY2 "\"}},"
        "{\"id\":\"filter\",\"auth\":\"x509\",\"thumbprints\":{\"primary\":\"" THUMB "\"}}]},"
        "{\"id\":\"off\",\"status\":\"disabled\",\"auth\":\"sas\",\"keys\":{\"primary\":\"" KEY "\"}}]}";
    assert_int_equal(hub_config_load_json(json, strlen(json), "inline", &cfg, NULL), HS_EOK);
    hub_t *hub = NULL;
    char why[256];
    assert_int_equal(hub_new(k, &cfg, &hub, why, sizeof why), HS_EOK);
    hub_config_free(&cfg);
    hub_identity_t id;
    assert_int_equal(hub_identity_get(hub, "cfgdev", NULL, &id), HUB_EOK);
    assert_string_equal(id.primary_key, KEY);
    assert_int_equal(id.device_no, 0);
    assert_int_equal(hub_identity_get(hub, "cfgdev", "$edgeAgent", &id), HUB_EOK);
    assert_string_equal(id.primary_key, KEY2);
    assert_int_equal(id.device_no, 1);
    assert_int_equal(hub_identity_get(hub, "cfgdev", "filter", &id), HUB_EOK);
    assert_true(id.x509);
    assert_int_equal(hub_identity_get(hub, "off", NULL, &id), HUB_EOK);
    assert_false(id.enabled);
    assert_int_equal(hub_identity_count(hub), 4);
    hub_free(hub);
    sim_kernel_free(k);
}

/* hub_identity_primary_key: the key hub_identity_get reports, derived or
 * given, for devices and modules; the lookup errors of hub_identity_get. */
static void test_primary_key_only(void **state)
{
    (void)state;
    fx_t f = fx_new();
    assert_int_equal(create(&f, "given", NULL), HUB_EOK);
    assert_int_equal(create(&f, "given", "m1"), HUB_EOK);
    hub_identity_spec_t derived = { .device_id = "derived" };
    assert_int_equal(hub_identity_create(f.hub, &derived, NULL), HUB_EOK);
    hub_identity_spec_t x = { .device_id = "x1", .x509 = true, .primary_thumbprint = THUMB };
    assert_int_equal(hub_identity_create(f.hub, &x, NULL), HUB_EOK);
    const char *cases[][2] = { { "given", NULL }, { "given", "m1" }, { "derived", NULL }, { "x1", NULL } };
    for (size_t i = 0; i < 4; i++) {
        hub_identity_t id;
        char key[HUB_CONFIG_KEY_MAX + 1];
        assert_int_equal(hub_identity_get(f.hub, cases[i][0], cases[i][1], &id), HUB_EOK);
        assert_int_equal(hub_identity_primary_key(f.hub, cases[i][0], cases[i][1], key, sizeof key), HUB_EOK);
        assert_string_equal(key, id.primary_key);
    }
    char key[HUB_CONFIG_KEY_MAX + 1];
    assert_int_equal(hub_identity_primary_key(f.hub, "derived", NULL, key, sizeof key), HUB_EOK);
    assert_true(strlen(key) == 44 && strcmp(key, KEY) != 0);
    assert_int_equal(hub_identity_primary_key(f.hub, "nobody", NULL, key, sizeof key), HUB_EDEVICE_NOT_FOUND);
    assert_int_equal(hub_identity_primary_key(f.hub, "given", "m2", key, sizeof key), HUB_EMODULE_NOT_FOUND);
    assert_int_equal(hub_identity_primary_key(f.hub, "given", NULL, key, 44), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_identity_primary_key(f.hub, "given", NULL, key, 45), HUB_EOK);
    fx_free(f);
}

/* hub_reserve: the identities and connections reserved for (short ids,
 * keys the hub generates: a fleet's) then register and connect without the
 * registry's arrays growing, and behave as without. */
static void test_reserve_takes_room_up_front(void **state)
{
    (void)state;
    fx_t f = fx_new();
    assert_int_equal(create(&f, "before", NULL), HUB_EOK);
    assert_int_equal(hub_reserve(f.hub, 3000), HUB_EOK);
    size_t bytes = hub_registry_bytes(f.hub);
    char tok[512];
    for (int i = 0; i < 3000; i++) {
        char dev[32];
        snprintf(dev, sizeof dev, "reserved-%04d", i);
        hub_identity_spec_t spec = { .device_id = dev };
        assert_int_equal(hub_identity_create(f.hub, &spec, NULL), HUB_EOK);
        char res[128], key[HUB_CONFIG_KEY_MAX + 1];
        snprintf(res, sizeof res, HOST "/devices/%s", dev);
        assert_int_equal(hub_identity_primary_key(f.hub, dev, NULL, key, sizeof key), HUB_EOK);
        assert_int_equal(hub_sas_make(key, res, EPOCH + 3600, NULL, tok, sizeof tok), HS_EOK);
        assert_int_equal(connect_tok(&f, dev, NULL, tok), HUB_EOK);
    }
    assert_int_equal(hub_registry_bytes(f.hub), bytes);
    assert_int_equal(hub_identity_count(f.hub), 3001);
    hub_identity_t id;
    assert_int_equal(hub_identity_get(f.hub, "reserved-2999", NULL, &id), HUB_EOK);
    assert_true(id.connected);
    assert_int_equal(hub_identity_get(f.hub, "before", NULL, &id), HUB_EOK);
    assert_int_equal(hub_reserve(f.hub, SIZE_MAX), HUB_ESERVER_ERROR);
    assert_int_equal(hub_reserve(NULL, 1), HUB_EARGUMENT_NULL);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_rules),
        cmocka_unit_test(test_etag_if_match_generation),
        cmocka_unit_test(test_derived_keys_are_deterministic),
        cmocka_unit_test(test_derived_keys_read_back_and_updates),
        cmocka_unit_test(test_sas_known_vector),
        cmocka_unit_test(test_sas_expiry_virtual_time),
        cmocka_unit_test(test_sas_signature_scope_policy),
        cmocka_unit_test(test_x509_and_disabled),
        cmocka_unit_test(test_provisioned_from_config),
        cmocka_unit_test(test_primary_key_only),
        cmocka_unit_test(test_reserve_takes_room_up_front),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
