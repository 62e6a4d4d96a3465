/* Hub config loading: fixtures, every error kind with its exact file:line:column and path, all errors at once, boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/hub_config.h"
#include "test_util.h"

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL

static char *fixture_text(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fixtures/hubs/%s", tu_source_dir(), name);
    char *text = tu_read_file(path, len);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

/* Loads a fixture (messages name it by its bare file name) and returns the
 * diagnostics as one string, a line each. */
static hs_err_t load_fixture(const char *name, hub_config_t *cfg, char **report)
{
    size_t len = 0;
    char *text = fixture_text(name, &len);
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    hs_err_t rc = hub_config_load_json(text, len, name, cfg, d);
    free(text);
    size_t cap = 1, n = json_diag_count(d);
    for (size_t i = 0; i < n; i++)
        cap += json_diag_format(json_diag_get(d, i), NULL, 0) + 1;
    char *out = calloc(1, cap);
    assert_non_null(out);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        at += json_diag_format(json_diag_get(d, i), out + at, cap - at);
        out[at++] = '\n';
    }
    json_diag_list_free(d);
    *report = out;
    return rc;
}

static void expect_report(const char *fixture, hs_err_t want_rc, const char *const *want, size_t n_want)
{
    hub_config_t cfg;
    char *report = NULL;
    hs_err_t rc = load_fixture(fixture, &cfg, &report);
    size_t need = 1;
    for (size_t i = 0; i < n_want; i++)
        need += strlen(want[i]) + 1;
    char *expected = calloc(1, need);
    assert_non_null(expected);
    for (size_t i = 0; i < n_want; i++) {
        strcat(expected, want[i]);
        strcat(expected, "\n");
    }
    if (strcmp(report, expected) != 0)
        fprintf(stderr, "--- expected\n%s--- got\n%s", expected, report);
    assert_string_equal(report, expected);
    assert_int_equal(rc, want_rc);
    free(expected);
    free(report);
    hub_config_free(&cfg);
}

#define EXPECT(fixture, rc, ...)                                                 \
    do {                                                                         \
        static const char *const lines_[] = { __VA_ARGS__ };                     \
        expect_report(fixture, rc, lines_, sizeof lines_ / sizeof lines_[0]);    \
    } while (0)

/* ---- good fixtures ------------------------------------------------------- */

static void test_default_fixture(void **state)
{
    (void)state;
    hub_config_t cfg, want;
    char *report;
    assert_int_equal(load_fixture("default.json", &cfg, &report), HS_EOK);
    assert_string_equal(report, "");
    free(report);
    hub_config_defaults(&want);
    assert_memory_equal(&cfg, &want, sizeof want);
    hub_config_free(&cfg);
}

static void test_s1_fixture(void **state)
{
    (void)state;
    hub_config_t cfg;
    char *report;
    assert_int_equal(load_fixture("s1-throttled.json", &cfg, &report), HS_EOK);
    free(report);
    assert_string_equal(cfg.host, "s1-hub.azure-devices.net");
    assert_int_equal(cfg.throttling.profile, HUB_THROTTLE_S1);
    assert_int_equal(cfg.throttling.units, 2);
    assert_int_equal(cfg.throttling.d2c_milli_per_sec, 200000);
    assert_int_equal(cfg.throttling.c2d_milli_per_sec, 3340);
    assert_int_equal(cfg.quotas.daily_messages, 800000);
    assert_int_equal(cfg.n_devices, 2);
    assert_string_equal(cfg.devices[1].id, "sensor-002");
    assert_true(cfg.devices[1].enabled);
    assert_int_equal(cfg.devices[1].auth.kind, HUB_AUTH_SAS);
    assert_string_equal(cfg.devices[1].auth.primary_key, "c2Vuc29yLTAwMi1wcmltYXJ5LWtleS0zMmJ5dGVzISE=");
    assert_string_equal(cfg.devices[1].auth.secondary_key, "");
    hub_config_free(&cfg);
}

static void check_full(const hub_config_t *cfg)
{
    assert_string_equal(cfg->name, "full-hub");
    assert_string_equal(cfg->host, "full-hub.example.test");
    assert_int_equal(cfg->n_policies, 2);
    assert_string_equal(cfg->policies[0].name, "owner");
    assert_int_equal(cfg->policies[0].rights, HUB_RIGHT_ALL);
    assert_string_equal(cfg->policies[0].secondary_key, "b3duZXItc2Vjb25kYXJ5LWtleS1mb3ItaHVic2ltLXRlc3Q=");
    assert_string_equal(cfg->policies[1].name, "svc");
    assert_int_equal(cfg->policies[1].rights, HUB_RIGHT_SERVICE_CONNECT);
    assert_string_equal(cfg->policies[1].secondary_key, "");
    assert_null(hub_config_find_policy(cfg, "iothubowner")); /* the file's list replaces the defaults */

    assert_int_equal(cfg->quotas.daily_messages, 400000);
    assert_int_equal(cfg->quotas.message_chunk, 8192);
    assert_int_equal(cfg->throttling.profile, HUB_THROTTLE_S1);
    assert_int_equal(cfg->throttling.units, 3);
    assert_int_equal(cfg->throttling.window, 2 * NS_PER_S);
    assert_int_equal(cfg->throttling.d2c_milli_per_sec, 50000);
    assert_int_equal(cfg->throttling.c2d_milli_per_sec, 2500);
    assert_int_equal(cfg->throttling.twin_read_milli_per_sec, 7000);
    assert_int_equal(cfg->throttling.twin_update_milli_per_sec, 8000);
    assert_int_equal(cfg->throttling.connect_milli_per_sec, 9500);
    assert_int_equal(cfg->throttling.method_bytes_per_sec, 102400);
    assert_false(cfg->deadline_wins);

    assert_int_equal(cfg->methods.kb_size, 1000);
    assert_int_equal(cfg->methods.max_payload_bytes, 100000);
    assert_int_equal(cfg->methods.name_max_length, 64);
    assert_int_equal(cfg->methods.oversized_response_status, 413);
    assert_int_equal(cfg->methods.late_response, HUB_LATE_RESPONSE_CLOSE);
    assert_int_equal(cfg->methods.unknown_rid, HUB_UNKNOWN_RID_CLOSE);
    assert_int_equal(cfg->methods.response_timeout_default, 20 * NS_PER_S);
    assert_int_equal(cfg->methods.response_timeout_min, 2 * NS_PER_S);
    assert_int_equal(cfg->methods.response_timeout_max, 600 * NS_PER_S);
    assert_int_equal(cfg->methods.connect_timeout_default, 1 * NS_PER_S);
    assert_int_equal(cfg->methods.connect_timeout_max, 120 * NS_PER_S);

    assert_int_equal(cfg->messages.d2c_max_bytes, 131072);
    assert_int_equal(cfg->messages.c2d_max_bytes, 32768);
    assert_int_equal(cfg->messages.message_id_max_length, 64);

    assert_int_equal(cfg->c2d.max_queue_depth, 10);
    assert_int_equal(cfg->c2d.ttl_default, 1800 * NS_PER_S);
    assert_int_equal(cfg->c2d.ttl_max, 86400 * NS_PER_S);
    assert_int_equal(cfg->c2d.lock_timeout, 30 * NS_PER_S);
    assert_int_equal(cfg->c2d.max_delivery_count, 3);
    assert_int_equal(cfg->c2d.feedback_batch_records, 8);
    assert_int_equal(cfg->c2d.feedback_flush_interval, 5 * NS_PER_S);

    assert_int_equal(cfg->twins.tags_max_bytes, 4096);
    assert_int_equal(cfg->twins.desired_max_bytes, 16384);
    assert_int_equal(cfg->twins.reported_max_bytes, 16384);
    assert_int_equal(cfg->twins.max_depth, 5);
    assert_int_equal(cfg->twins.key_max_bytes, 512);
    assert_int_equal(cfg->twins.string_value_max_bytes, 2048);

    assert_int_equal(cfg->mqtt.unknown_topic, HUB_UNKNOWN_TOPIC_IGNORE);
    assert_int_equal(cfg->mqtt.keep_alive_max, 1200 * NS_PER_S);
    assert_int_equal(cfg->mqtt.keep_alive_grace_permille, 2000);
    assert_false(cfg->amqp.allow_no_sasl);
    assert_true(cfg->amqp.allow_sasl_anonymous);
    assert_false(cfg->amqp.allow_sasl_plain);
    assert_int_equal(cfg->route_query.bare_dollar_name, HUB_DOLLAR_NAME_APP_FIRST);
    assert_false(cfg->route_query.type_functions);

    assert_int_equal(cfg->n_devices, 2);
    const hub_config_device_t *edge = hub_config_find_device(cfg, "edge-1");
    assert_ptr_equal(edge, &cfg->devices[0]);
    assert_true(edge->enabled);
    assert_true(edge->iot_edge);
    assert_string_equal(edge->device_scope, "ms-azure-iot-edge://edge-1-637000000000000000");
    assert_string_equal(edge->auth.secondary_key, "ZWRnZS0xLXNlY29uZGFyeS1rZXktZm9yLWh1YnNpbS10ZXM=");
    assert_int_equal(edge->n_modules, 2);
    assert_string_equal(edge->modules[0].id, "$edgeAgent");
    assert_int_equal(edge->modules[0].auth.kind, HUB_AUTH_SAS);
    assert_string_equal(edge->modules[1].id, "filter");
    assert_int_equal(edge->modules[1].auth.kind, HUB_AUTH_X509);
    assert_string_equal(edge->modules[1].auth.primary_thumbprint, "00112233445566778899AABBCCDDEEFF00112233");
    const hub_config_device_t *leaf = hub_config_find_device(cfg, "leaf:1");
    assert_non_null(leaf);
    assert_false(leaf->enabled);
    assert_false(leaf->iot_edge);
    assert_int_equal(leaf->auth.kind, HUB_AUTH_X509);
    assert_string_equal(leaf->auth.primary_thumbprint,
                        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
    assert_string_equal(leaf->auth.secondary_thumbprint, "FEDCBA9876543210FEDCBA9876543210FEDCBA98");
    assert_string_equal(leaf->parent_id, "edge-1");
    assert_int_equal(leaf->n_modules, 0);

    assert_non_null(cfg->routing);
    json_t *routes = json_object_get(cfg->routing, "routes");
    assert_int_equal(json_array_size(routes), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(routes, 0), "name")), "all");
    assert_string_equal(json_string_value(json_object_get(json_array_get(routes, 1), "name")), "alarms");
}

static void test_full_fixture(void **state)
{
    (void)state;
    hub_config_t cfg;
    char *report;
    assert_int_equal(load_fixture("full.json", &cfg, &report), HS_EOK);
    assert_string_equal(report, "");
    free(report);
    check_full(&cfg);

    /* a deep copy outlives its source */
    hub_config_t copy;
    assert_int_equal(hub_config_copy(&copy, &cfg), HS_EOK);
    hub_config_free(&cfg);
    check_full(&copy);
    hub_config_free(&copy);
}

static void test_load_file_names_the_file(void **state)
{
    (void)state;
    char path[4096];
    hub_config_t cfg;
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    snprintf(path, sizeof path, "%s/fixtures/hubs/full.json", tu_source_dir());
    assert_int_equal(hub_config_load_file(path, &cfg, d), HS_EOK);
    assert_int_equal(json_diag_count(d), 0);
    check_full(&cfg);
    hub_config_free(&cfg);

    snprintf(path, sizeof path, "%s/fixtures/hubs/bad-not-object.json", tu_source_dir());
    assert_int_equal(hub_config_load_file(path, &cfg, d), HS_EPARSE);
    assert_int_equal(json_diag_count(d), 1);
    assert_string_equal(json_diag_get(d, 0)->file, path);
    assert_int_equal(json_diag_get(d, 0)->line, 1);
    hub_config_free(&cfg);

    snprintf(path, sizeof path, "%s/fixtures/hubs/no-such-file.json", tu_source_dir());
    assert_int_equal(hub_config_load_file(path, &cfg, d), HS_EIO);
    assert_int_equal(json_diag_count(d), 2);
    char buf[4200], want[4200];
    json_diag_format(json_diag_get(d, 1), buf, sizeof buf);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    assert_string_equal(buf, want);
    hub_config_free(&cfg);
    /* a directory is not a config file either */
    assert_int_equal(hub_config_load_file(tu_source_dir(), &cfg, NULL), HS_EIO);
    hub_config_free(&cfg);
    json_diag_list_free(d);
}

/* ---- malformed fixtures: the exact report ----------------------------------- */

static void test_bad_syntax(void **state)
{
    (void)state;
    EXPECT("bad-syntax.json", HS_EPARSE, "bad-syntax.json:5:3: string or '}' expected near '}'");
    EXPECT("bad-duplicate-key.json", HS_EPARSE,
           "bad-duplicate-key.json:3:36: duplicate object key near '\"ttlMax\"'");
    EXPECT("bad-not-object.json", HS_EPARSE, "bad-not-object.json:1:1: $: expected object, got array");
}

static void test_bad_unknown_keys(void **state)
{
    (void)state;
    EXPECT("bad-unknown-keys.json", HS_EPARSE,
           "bad-unknown-keys.json:3:35: $.c2d.maxDeliveryCounts: unknown key (did you mean \"maxDeliveryCount\"?)",
           "bad-unknown-keys.json:4:3: $.method: unknown key (did you mean \"methods\"?)",
           "bad-unknown-keys.json:6:80: $.devices[0].keys.tertiary: unknown key",
           "bad-unknown-keys.json:6:99: $.devices[0].colour: unknown key",
           "bad-unknown-keys.json:8:3: $[\"weird key\"]: unknown key");
}

static void test_bad_types(void **state)
{
    (void)state;
    EXPECT("bad-types.json", HS_EPARSE,
           "bad-types.json:2:11: $.name: expected string, got integer",
           "bad-types.json:3:19: $.deadlineWins: expected boolean, got string",
           "bad-types.json:5:22: $.c2d.maxQueueDepth: expected integer, got string",
           "bad-types.json:6:19: $.c2d.ttlDefault: expected duration (string or integer seconds), got boolean",
           "bad-types.json:7:25: $.c2d.maxDeliveryCount: expected integer, got number",
           "bad-types.json:9:31: $.messages.d2cMaxSize: expected a size such as 4096 or \"256KB\", got \"256 kilobytes\"",
           "bad-types.json:10:42: $.methods.responseTimeoutDefault: expected a duration such as \"250ms\" or \"1h\", got \"soon\"",
           "bad-types.json:11:30: $.throttling.profile: expected \"off\" or \"s1\", got integer",
           "bad-types.json:11:60: $.throttling.rates.c2dPerSecond: expected number, got string",
           "bad-types.json:12:12: $.twins: expected object, got array",
           "bad-types.json:13:14: $.devices: expected array of devices, got object",
           "bad-types.json:14:14: $.routing: expected object, got string");
}

static void test_bad_ranges(void **state)
{
    (void)state;
    /* only range errors: the return code says so */
    EXPECT("bad-ranges.json", HS_ERANGE,
           "bad-ranges.json:2:11: $.name: expected 3..50 characters, got 2",
           "bad-ranges.json:3:30: $.throttling.profile: expected \"off\" or \"s1\", got \"s2\"",
           "bad-ranges.json:3:45: $.throttling.units: expected an integer in 1..200, got 201",
           "bad-ranges.json:5:15: $.methods.kbSize: expected 1000 or 1024, got 1023",
           "bad-ranges.json:6:32: $.methods.oversizedResponseStatus: expected 400 or 413, got 404",
           "bad-ranges.json:7:27: $.methods.responseTimeoutMin: expected responseTimeoutMin (40s) <= responseTimeoutDefault (30s)",
           "bad-ranges.json:11:25: $.c2d.maxDeliveryCount: expected an integer in 1..100, got 101",
           "bad-ranges.json:13:15: $.c2d.ttlMax: expected a duration in 1ms..48h, got \"49h\"",
           "bad-ranges.json:14:22: $.c2d.maxQueueDepth: expected an integer in 1..1000000, got 0",
           "bad-ranges.json:16:31: $.messages.d2cMaxSize: expected a size in 1..16MB, got 0",
           "bad-ranges.json:16:48: $.messages.c2dMaxSize: expected a size in 1..16MB, got \"17MB\"",
           "bad-ranges.json:17:31: $.mqtt.keepAliveGrace: expected a number in 1..10, got 0.5");
}

static void test_bad_devices(void **state)
{
    (void)state;
    EXPECT("bad-devices.json", HS_EPARSE,
           "bad-devices.json:5:13: $.devices[1].id: duplicate device id \"dup\" (first at 4:13)",
           "bad-devices.json:6:13: $.devices[2].id: expected an id of ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ ', got \"has space\"",
           "bad-devices.json:6:47: $.devices[2].keys.primary: expected a base64 key of 16 to 64 bytes, got \"not base64!\"",
           "bad-devices.json:7:35: $.devices[3].parentId: parent \"ghost\" is not a device in this file",
           "bad-devices.json:7:65: $.devices[3].keys.primary: expected a base64 key of 16 to 64 bytes, got \"c2hvcnQ=\"",
           "bad-devices.json:8:5: $.devices[4]: missing required key \"thumbprints\" (auth \"x509\")",
           "bad-devices.json:8:33: $.devices[4].parentId: parent \"dup\" is not an IoT Edge device (iotEdge: true)",
           "bad-devices.json:8:56: $.devices[4].keys: keys need auth \"sas\"",
           "bad-devices.json:9:5: $.devices[5]: missing required key \"keys\" (auth \"sas\")",
           "bad-devices.json:10:66: $.devices[6].thumbprints.primary: expected a hex SHA-1 (40 digits) or SHA-256 (64 digits) thumbprint, got \"XYZ\"",
           "bad-devices.json:11:5: $.devices[7]: missing required key \"id\"",
           "bad-devices.json:13:28: $.devices[7].modules[1].id: duplicate module id \"m\" on this device");
}

static void test_bad_policies(void **state)
{
    (void)state;
    EXPECT("bad-policies.json", HS_EPARSE,
           "bad-policies.json:4:117: $.policies[0].rights[1]: expected \"registryRead\", \"registryWrite\", \"serviceConnect\" or \"deviceConnect\", got \"admin\"",
           "bad-policies.json:5:15: $.policies[1].name: duplicate policy name \"owner\"",
           "bad-policies.json:5:119: $.policies[1].rights[1]: duplicate right \"serviceConnect\"",
           "bad-policies.json:6:5: $.policies[2]: missing required key \"primaryKey\"");
}

/* ---- boundaries, both sides ---------------------------------------------------- */

static hs_err_t load_text(const char *text, hub_config_t *cfg, char *first, size_t cap)
{
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    hs_err_t rc = hub_config_load_json(text, strlen(text), "t.json", cfg, d);
    if (first) {
        first[0] = '\0';
        if (json_diag_count(d))
            json_diag_format(json_diag_get(d, 0), first, cap);
    }
    json_diag_list_free(d);
    return rc;
}

static void expect_ok(const char *text)
{
    hub_config_t cfg;
    char msg[512];
    hs_err_t rc = load_text(text, &cfg, msg, sizeof msg);
    if (rc != HS_EOK)
        fail_msg("%s -> %s", text, msg);
    hub_config_free(&cfg);
}

static void expect_error(const char *text, hs_err_t want, const char *want_msg)
{
    hub_config_t cfg;
    char msg[512];
    assert_int_equal(load_text(text, &cfg, msg, sizeof msg), want);
    assert_string_equal(msg, want_msg);
    hub_config_free(&cfg);
}

static void test_delivery_count_bounds(void **state)
{
    (void)state;
    /* NOTES.md: maxDeliveryCount default 10 (1-100) */
    expect_error("{\"c2d\": {\"maxDeliveryCount\": 0}}", HS_ERANGE,
                 "t.json:1:30: $.c2d.maxDeliveryCount: expected an integer in 1..100, got 0");
    expect_ok("{\"c2d\": {\"maxDeliveryCount\": 1}}");
    expect_ok("{\"c2d\": {\"maxDeliveryCount\": 100}}");
    expect_error("{\"c2d\": {\"maxDeliveryCount\": 101}}", HS_ERANGE,
                 "t.json:1:30: $.c2d.maxDeliveryCount: expected an integer in 1..100, got 101");
    expect_error("{\"c2d\": {\"maxDeliveryCount\": -1}}", HS_ERANGE,
                 "t.json:1:30: $.c2d.maxDeliveryCount: expected an integer in 1..100, got -1");
}

static void test_ttl_bounds(void **state)
{
    (void)state;
    /* NOTES.md: TTL max 48 h */
    hub_config_t cfg;
    assert_int_equal(load_text("{\"c2d\": {\"ttlMax\": \"48h\"}}", &cfg, NULL, 0), HS_EOK);
    assert_int_equal(cfg.c2d.ttl_max, 172800 * NS_PER_S);
    hub_config_free(&cfg);
    expect_error("{\"c2d\": {\"ttlMax\": \"48h1ms\"}}", HS_ERANGE,
                 "t.json:1:20: $.c2d.ttlMax: expected a duration in 1ms..48h, got \"48h1ms\"");
    assert_int_equal(load_text("{\"c2d\": {\"ttlMax\": 172800}}", &cfg, NULL, 0), HS_EOK); /* integer seconds */
    assert_int_equal(cfg.c2d.ttl_max, 172800 * NS_PER_S);
    hub_config_free(&cfg);
    expect_error("{\"c2d\": {\"ttlMax\": 172801}}", HS_ERANGE,
                 "t.json:1:20: $.c2d.ttlMax: expected a duration in 1ms..48h, got 172801");
    expect_error("{\"c2d\": {\"ttlDefault\": -1}}", HS_ERANGE,
                 "t.json:1:24: $.c2d.ttlDefault: expected a duration in 1ms..48h, got -1");
    /* default may equal max, not exceed it */
    expect_ok("{\"c2d\": {\"ttlDefault\": \"2h\", \"ttlMax\": \"2h\"}}");
    expect_error("{\"c2d\": {\"ttlDefault\": \"2h1ms\", \"ttlMax\": \"2h\"}}", HS_ERANGE,
                 "t.json:1:24: $.c2d.ttlDefault: expected ttlDefault (7200001ms) <= ttlMax (2h)");
    assert_int_equal(load_text("{\"c2d\": {\"lockTimeout\": \"250ms\"}}", &cfg, NULL, 0), HS_EOK);
    assert_int_equal(cfg.c2d.lock_timeout, 250 * NS_PER_MS);
    hub_config_free(&cfg);
}

static void test_units_and_names(void **state)
{
    (void)state;
    expect_ok("{\"throttling\": {\"units\": 200}}");
    expect_error("{\"throttling\": {\"units\": 201}}", HS_ERANGE,
                 "t.json:1:26: $.throttling.units: expected an integer in 1..200, got 201");
    expect_error("{\"throttling\": {\"units\": 0}}", HS_ERANGE,
                 "t.json:1:26: $.throttling.units: expected an integer in 1..200, got 0");
    /* hub names: 3-50 characters */
    expect_ok("{\"name\": \"abc\"}");
    expect_error("{\"name\": \"ab\"}", HS_ERANGE, "t.json:1:10: $.name: expected 3..50 characters, got 2");
    expect_ok("{\"name\": \"a1234567890123456789012345678901234567890123456789\"}"); /* 50 */
    expect_error("{\"name\": \"a12345678901234567890123456789012345678901234567890\"}", HS_ERANGE,
                 "t.json:1:10: $.name: expected 3..50 characters, got 51");
    expect_error("{\"name\": \"-abc\"}", HS_EPARSE,
                 "t.json:1:10: $.name: expected a hub name of letters, digits and inner hyphens, got \"-abc\"");
    hub_config_t cfg;
    assert_int_equal(load_text("{\"name\": \"my-hub\"}", &cfg, NULL, 0), HS_EOK);
    assert_string_equal(cfg.host, "my-hub.azure-devices.net");
    hub_config_free(&cfg);
}

static void test_device_id_and_key_bounds(void **state)
{
    (void)state;
    char text[1024], id[200];
    /* 16-byte key: base64 of 16 bytes is 24 chars with "==" */
    const char *k16 = "MDEyMzQ1Njc4OWFiY2RlZg==";
    const char *k15 = "MDEyMzQ1Njc4OWFiY2Rl";
    const char *k64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
    const char *k65 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjA=";
    snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"d\", \"keys\": {\"primary\": \"%s\"}}]}", k16);
    expect_ok(text);
    snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"d\", \"keys\": {\"primary\": \"%s\"}}]}", k64);
    expect_ok(text);
    snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"d\", \"keys\": {\"primary\": \"%s\"}}]}", k15);
    expect_error(text, HS_EPARSE, "t.json:1:46: $.devices[0].keys.primary: expected a base64 key of 16 to 64 bytes, got \"MDEyMzQ1Njc4OWFiY2Rl\"");
    snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"d\", \"keys\": {\"primary\": \"%s\"}}]}", k65);
    hub_config_t cfg;
    assert_int_equal(load_text(text, &cfg, NULL, 0), HS_EPARSE);
    hub_config_free(&cfg);

    /* device id <= 128 characters [doc] */
    memset(id, 'x', 128);
    id[128] = '\0';
    snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"%s\", \"keys\": {\"primary\": \"%s\"}}]}", id, k16);
    expect_ok(text);
    id[128] = 'x';
    id[129] = '\0';
    snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"%s\", \"keys\": {\"primary\": \"%s\"}}]}", id, k16);
    expect_error(text, HS_ERANGE, "t.json:1:21: $.devices[0].id: expected 1..128 characters, got 129");
    /* every allowed punctuation character at once, then each forbidden neighbour */
    snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"a-:.+%%_#*?!(),=@;$'z\", \"keys\": {\"primary\": \"%s\"}}]}", k16);
    expect_ok(text);
    static const char forbidden[] = " /&<>[]{}|^`~\\";
    for (const char *c = forbidden; *c; c++) {
        char esc[3] = { *c, 0, 0 };
        if (*c == '\\') {
            esc[0] = '\\';
            esc[1] = '\\';
        }
        snprintf(text, sizeof text, "{\"devices\": [{\"id\": \"a%sb\", \"keys\": {\"primary\": \"%s\"}}]}", esc, k16);
        assert_int_equal(load_text(text, &cfg, NULL, 0), HS_EPARSE);
        hub_config_free(&cfg);
    }
}

static void test_sizes_and_durations(void **state)
{
    (void)state;
    hub_config_t cfg;
    assert_int_equal(load_text("{\"messages\": {\"d2cMaxSize\": \"1MB\", \"c2dMaxSize\": \"512 B\"},"
                               " \"twins\": {\"tagsMaxSize\": \"2KiB\", \"keyMaxSize\": \"64KB\"},"
                               " \"methods\": {\"responseTimeoutMax\": \"1h\", \"connectTimeoutMax\": \"1m30s\"}}",
                               &cfg, NULL, 0), HS_EOK);
    assert_int_equal(cfg.messages.d2c_max_bytes, 1048576);
    assert_int_equal(cfg.messages.c2d_max_bytes, 512);
    assert_int_equal(cfg.twins.tags_max_bytes, 2048);
    assert_int_equal(cfg.twins.key_max_bytes, 65536);
    assert_int_equal(cfg.methods.response_timeout_max, 3600 * NS_PER_S);
    assert_int_equal(cfg.methods.connect_timeout_max, 90 * NS_PER_S);
    hub_config_free(&cfg);
    expect_error("{\"twins\": {\"keyMaxSize\": \"65537\"}}", HS_ERANGE,
                 "t.json:1:26: $.twins.keyMaxSize: expected a size in 1..64KB, got \"65537\"");
    expect_error("{\"messages\": {\"d2cMaxSize\": \"1.5KB\"}}", HS_EPARSE,
                 "t.json:1:29: $.messages.d2cMaxSize: expected a size such as 4096 or \"256KB\", got \"1.5KB\"");
    expect_error("{\"messages\": {\"d2cMaxSize\": -1}}", HS_ERANGE,
                 "t.json:1:29: $.messages.d2cMaxSize: expected a size in 1..16MB, got -1");
    expect_error("{\"messages\": {\"d2cMaxSize\": \"99999999999999999999KB\"}}", HS_EPARSE,
                 "t.json:1:29: $.messages.d2cMaxSize: expected a size such as 4096 or \"256KB\", got \"99999999999999999999KB\"");
    expect_error("{\"c2d\": {\"lockTimeout\": \"0s\"}}", HS_ERANGE,
                 "t.json:1:25: $.c2d.lockTimeout: expected a duration in 1ms..48h, got \"0s\"");
}

static void test_method_timeout_order(void **state)
{
    (void)state;
    expect_ok("{\"methods\": {\"responseTimeoutMin\": \"30s\"}}"); /* min == default */
    expect_error("{\"methods\": {\"responseTimeoutMax\": \"29s\"}}", HS_ERANGE,
                 "t.json:1:36: $.methods.responseTimeoutMax: expected responseTimeoutDefault (30s) <= responseTimeoutMax (29s)");
    expect_error("{\"methods\": {\"connectTimeoutDefault\": \"301s\"}}", HS_ERANGE,
                 "t.json:1:39: $.methods.connectTimeoutDefault: expected connectTimeoutDefault (301s) <= connectTimeoutMax (5m)");
}

static void test_many_errors_at_once(void **state)
{
    (void)state;
    const char *text =
        "{\n"
        "  \"nmae\": \"x\",\n"
        "  \"c2d\": {\"maxDeliveryCount\": 0, \"ttlMax\": \"3d\"},\n"
        "  \"methods\": {\"kbSize\": \"1024\"},\n"
        "  \"devices\": [{\"id\": \"a\", \"keys\": {\"primary\": \"\"}}, {\"id\": \"a\", \"keys\": 1}]\n"
        "}\n";
    hub_config_t cfg;
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    /* earlier entries in the caller's list stay first and untouched */
    assert_int_equal(json_diag_add(d, HS_EINVAL, "other.json", 9, 9, "$.x", "earlier"), HS_EOK);
    assert_int_equal(hub_config_load_json(text, strlen(text), "many.json", &cfg, d), HS_EPARSE);
    static const char *const want[] = {
        "other.json:9:9: $.x: earlier",
        "many.json:2:3: $.nmae: unknown key (did you mean \"name\"?)",
        "many.json:3:31: $.c2d.maxDeliveryCount: expected an integer in 1..100, got 0",
        "many.json:3:44: $.c2d.ttlMax: expected a duration in 1ms..48h, got \"3d\"",
        "many.json:4:25: $.methods.kbSize: expected integer, got string",
        "many.json:5:47: $.devices[0].keys.primary: expected a base64 key of 16 to 64 bytes, got \"\"",
        "many.json:5:60: $.devices[1].id: duplicate device id \"a\" (first at 5:22)",
        "many.json:5:73: $.devices[1].keys: expected object, got integer",
    };
    assert_int_equal(json_diag_count(d), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char buf[256];
        json_diag_format(json_diag_get(d, i), buf, sizeof buf);
        assert_string_equal(buf, want[i]);
    }
    /* valid parts were applied, invalid ones kept their defaults */
    assert_int_equal(cfg.c2d.max_delivery_count, 10);
    assert_int_equal(cfg.n_devices, 2);
    json_diag_list_free(d);
    hub_config_free(&cfg);
    /* NULL diagnostics list: still the right code */
    assert_int_equal(hub_config_load_json(text, strlen(text), NULL, &cfg, NULL), HS_EPARSE);
    hub_config_free(&cfg);
}

static void test_inconsistent_is_einval(void **state)
{
    (void)state;
    expect_error("{\"policies\": [{\"name\": \"p\", \"primaryKey\": \"MDEyMzQ1Njc4OWFiY2RlZg==\", \"rights\": []},"
                 " {\"name\": \"p\", \"primaryKey\": \"MDEyMzQ1Njc4OWFiY2RlZg==\", \"rights\": []}]}",
                 HS_EINVAL, "t.json:1:95: $.policies[1].name: duplicate policy name \"p\"");
    /* 16 policies allowed [doc], 17 not */
    char text[8192];
    size_t at = (size_t)snprintf(text, sizeof text, "{\"policies\": [");
    for (int i = 0; i < 17; i++)
        at += (size_t)snprintf(text + at, sizeof text - at,
                               "%s{\"name\": \"p%d\", \"primaryKey\": \"MDEyMzQ1Njc4OWFiY2RlZg==\", \"rights\": [\"deviceConnect\"]}",
                               i ? "," : "", i);
    snprintf(text + at, sizeof text - at, "]}");
    expect_error(text, HS_ERANGE, "t.json:1:14: $.policies: expected at most 16 policies, got 17");
    char *cut = strstr(text, ",{\"name\": \"p16\"");
    assert_non_null(cut);
    strcpy(cut, "]}");
    hub_config_t cfg;
    assert_int_equal(load_text(text, &cfg, NULL, 0), HS_EOK);
    assert_int_equal(cfg.n_policies, 16);
    assert_int_equal(cfg.policies[15].rights, HUB_RIGHT_DEVICE_CONNECT);
    hub_config_free(&cfg);
    /* an empty list is allowed: no service access at all */
    assert_int_equal(load_text("{\"policies\": []}", &cfg, NULL, 0), HS_EOK);
    assert_int_equal(cfg.n_policies, 0);
    hub_config_free(&cfg);
}

/* A hub object inline in a bigger file (a scenario's "hub"): paths and
 * positions are those of the enclosing file. */
static void test_inline_value(void **state)
{
    (void)state;
    const char *text =
        "{\"seed\": 7,\n"
        " \"hub\": {\"methods\": {\"responseTimeoutMax\": \"10s\"},\n"
        "         \"devices\": [{\"id\": \"a\", \"keys\": {\"primary\": \"MDEyMzQ1Njc4OWFiY2RlZg==\"}},\n"
        "                     {\"id\": \"a\", \"keys\": {\"primary\": \"MDEyMzQ1Njc4OWFiY2RlZg==\"}}],\n"
        "         \"c2d\": {\"ttlMax\": \"49h\"}, \"routing\": {\"routes\": []}}}\n";
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    assert_non_null(root);
    json_locate_t *loc = NULL;
    assert_int_equal(json_locate_new(text, strlen(text), &loc), HS_EOK);
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    hub_config_t cfg;
    assert_int_equal(hub_config_load_value(json_object_get(root, "hub"), loc, "scn.json", "$.hub", &cfg, d),
                     HS_EINVAL);
    static const char *const want[] = {
        "scn.json:2:44: $.hub.methods.responseTimeoutMax: expected responseTimeoutDefault (30s) <= responseTimeoutMax (10s)",
        "scn.json:4:29: $.hub.devices[1].id: duplicate device id \"a\" (first at 3:29)",
        "scn.json:5:28: $.hub.c2d.ttlMax: expected a duration in 1ms..48h, got \"49h\"",
    };
    assert_int_equal(json_diag_count(d), 3);
    for (size_t i = 0; i < 3; i++) {
        char buf[256];
        json_diag_format(json_diag_get(d, i), buf, sizeof buf);
        assert_string_equal(buf, want[i]);
    }
    /* the routing section outlives the parsed document: the config holds a reference */
    json_decref(root);
    assert_non_null(json_object_get(cfg.routing, "routes"));
    hub_config_free(&cfg);
    json_diag_list_free(d);
    json_locate_free(loc);
    assert_int_equal(hub_config_load_value(NULL, NULL, NULL, NULL, &cfg, NULL), HS_EINVAL);
    hub_config_free(&cfg);
}

/* Deterministic byte mutations of full.json: the loader must never crash
 * or leak (ASan/UBSan watch), whatever it is fed. */
static void test_mutations_never_crash(void **state)
{
    (void)state;
    size_t len = 0;
    char *orig = fixture_text("full.json", &len);
    char *buf = malloc(len);
    assert_non_null(buf);
    static const char junk[] = "{}[]\",:0-9eE.tfn \\u\x01\xff";
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    size_t ok = 0;
    for (int round = 0; round < 2000; round++) {
        memcpy(buf, orig, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[x % len] = junk[(x >> 32) % (sizeof junk - 1)];
        }
        hub_config_t cfg;
        json_diag_list_t *d = NULL;
        assert_int_equal(json_diag_list_new(&d), HS_EOK);
        size_t cut = round % 3 == 0 ? len - (x >> 40) % len : len; /* truncations too */
        hs_err_t rc = hub_config_load_json(buf, cut, "m.json", &cfg, d);
        if (rc == HS_EOK) {
            ok++;
            assert_int_equal(json_diag_count(d), 0);
        } else {
            assert_true(json_diag_count(d) > 0);
        }
        json_diag_list_free(d);
        hub_config_free(&cfg);
    }
    assert_true(ok < 2000);
    free(buf);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_fixture),
        cmocka_unit_test(test_s1_fixture),
        cmocka_unit_test(test_full_fixture),
        cmocka_unit_test(test_load_file_names_the_file),
        cmocka_unit_test(test_bad_syntax),
        cmocka_unit_test(test_bad_unknown_keys),
        cmocka_unit_test(test_bad_types),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_bad_devices),
        cmocka_unit_test(test_bad_policies),
        cmocka_unit_test(test_delivery_count_bounds),
        cmocka_unit_test(test_ttl_bounds),
        cmocka_unit_test(test_units_and_names),
        cmocka_unit_test(test_device_id_and_key_bounds),
        cmocka_unit_test(test_sizes_and_durations),
        cmocka_unit_test(test_method_timeout_order),
        cmocka_unit_test(test_many_errors_at_once),
        cmocka_unit_test(test_inconsistent_is_einval),
        cmocka_unit_test(test_inline_value),
        cmocka_unit_test(test_mutations_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
