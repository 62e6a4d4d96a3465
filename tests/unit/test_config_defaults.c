/* Hub config defaults: every knob's default written as the literal NOTES.md / the spec gives, and the S1 figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/hub_config.h"

#define NS_PER_S 1000000000ULL

static void test_identity_defaults(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    assert_string_equal(cfg.name, "hubsim");
    /* NOTES.md: Hub host `{hub}.azure-devices.net` [doc] */
    assert_string_equal(cfg.host, "hubsim.azure-devices.net");
    /* a new hub has five policies [doc] */
    assert_int_equal(cfg.n_policies, 5);
    const hub_config_policy_t *owner = hub_config_find_policy(&cfg, "iothubowner");
    assert_non_null(owner);
    assert_int_equal(owner->rights, HUB_RIGHT_REGISTRY_READ | HUB_RIGHT_REGISTRY_WRITE |
                                    HUB_RIGHT_SERVICE_CONNECT | HUB_RIGHT_DEVICE_CONNECT);
    assert_string_equal(owner->primary_key, "nQ9Ms+NDeIZhwcy3lBpi65VfQgKvb5/Wg1J50AnbH7U=");
    assert_int_equal(hub_config_find_policy(&cfg, "service")->rights, HUB_RIGHT_SERVICE_CONNECT);
    assert_int_equal(hub_config_find_policy(&cfg, "device")->rights, HUB_RIGHT_DEVICE_CONNECT);
    assert_int_equal(hub_config_find_policy(&cfg, "registryRead")->rights, HUB_RIGHT_REGISTRY_READ);
    assert_int_equal(hub_config_find_policy(&cfg, "registryReadWrite")->rights,
                     HUB_RIGHT_REGISTRY_READ | HUB_RIGHT_REGISTRY_WRITE);
    assert_null(hub_config_find_policy(&cfg, "nobody"));
    assert_int_equal(cfg.n_devices, 0);
    assert_null(cfg.devices);
    assert_null(cfg.routing);
    assert_null(hub_config_find_device(&cfg, "d1"));
    hub_config_free(&cfg);
}

static void test_knob_defaults(void **state)
{
    (void)state;
    hub_config_t cfg;
    hub_config_defaults(&cfg);

    /* issue 4: throttling profile `off` is the default; quotas unlimited */
    assert_int_equal(cfg.throttling.profile, HUB_THROTTLE_OFF);
    assert_int_equal(cfg.throttling.units, 1);
    assert_int_equal(cfg.throttling.d2c_milli_per_sec, 0);
    assert_int_equal(cfg.throttling.c2d_milli_per_sec, 0);
    assert_int_equal(cfg.throttling.twin_read_milli_per_sec, 0);
    assert_int_equal(cfg.throttling.twin_update_milli_per_sec, 0);
    assert_int_equal(cfg.throttling.connect_milli_per_sec, 0);
    assert_int_equal(cfg.throttling.method_bytes_per_sec, 0);
    assert_int_equal(cfg.throttling.window, 1 * NS_PER_S);
    assert_int_equal(cfg.quotas.daily_messages, 0);
    assert_int_equal(cfg.quotas.message_chunk, 4096);

    /* issue 4: "make it a knob, default: the deadline wins" */
    assert_true(cfg.deadline_wins);

    /* direct-methods.txt: "a JSON document up to 128 KB"; KB = 1024 [?] */
    assert_int_equal(cfg.methods.kb_size, 1024);
    assert_int_equal(cfg.methods.max_payload_bytes, 131072);
    /* NOTES.md: edgeHub caps method name at 100 chars [?] */
    assert_int_equal(cfg.methods.name_max_length, 100);
    /* NOTES.md: response payload > 128 KB: [?] 400/413 knob */
    assert_int_equal(cfg.methods.oversized_response_status, 400);
    /* NOTES.md: a late device response (after 504) is dropped; unknown $rid ignored [?] */
    assert_int_equal(cfg.methods.late_response, HUB_LATE_RESPONSE_DROP);
    assert_int_equal(cfg.methods.unknown_rid, HUB_UNKNOWN_RID_IGNORE);
    /* direct-methods.txt: default 30 s, between 5 and 300; connect default 0, max 300 */
    assert_int_equal(cfg.methods.response_timeout_default, 30 * NS_PER_S);
    assert_int_equal(cfg.methods.response_timeout_min, 5 * NS_PER_S);
    assert_int_equal(cfg.methods.response_timeout_max, 300 * NS_PER_S);
    assert_int_equal(cfg.methods.connect_timeout_default, 0);
    assert_int_equal(cfg.methods.connect_timeout_max, 300 * NS_PER_S);

    /* NOTES.md: D2C max size 256 KB, C2D max 64 KB; MessageId <= 128 chars */
    assert_int_equal(cfg.messages.d2c_max_bytes, 262144);
    assert_int_equal(cfg.messages.c2d_max_bytes, 65536);
    assert_int_equal(cfg.messages.message_id_max_length, 128);

    /* NOTES.md: queue max 50, TTL default 1 h, max 48 h, lock 1 min,
     * maxDeliveryCount default 10; feedback 64 records or 15 s [?] */
    assert_int_equal(cfg.c2d.max_queue_depth, 50);
    assert_int_equal(cfg.c2d.ttl_default, 3600 * NS_PER_S);
    assert_int_equal(cfg.c2d.ttl_max, 172800 * NS_PER_S);
    assert_int_equal(cfg.c2d.lock_timeout, 60 * NS_PER_S);
    assert_int_equal(cfg.c2d.max_delivery_count, 10);
    assert_int_equal(cfg.c2d.feedback_batch_records, 64);
    assert_int_equal(cfg.c2d.feedback_flush_interval, 15 * NS_PER_S);

    /* NOTES.md: tags <= 8 KB, desired <= 32 KB, reported <= 32 KB, depth <= 10,
     * key <= 1 KB, string value <= 4 KB */
    assert_int_equal(cfg.twins.tags_max_bytes, 8192);
    assert_int_equal(cfg.twins.desired_max_bytes, 32768);
    assert_int_equal(cfg.twins.reported_max_bytes, 32768);
    assert_int_equal(cfg.twins.max_depth, 10);
    assert_int_equal(cfg.twins.key_max_bytes, 1024);
    assert_int_equal(cfg.twins.string_value_max_bytes, 4096);

    /* NOTES.md: unknown or forbidden topic: close [?]; keep-alive max 1767 s,
     * pings out after 1.5x */
    assert_int_equal(cfg.mqtt.unknown_topic, HUB_UNKNOWN_TOPIC_CLOSE);
    assert_int_equal(cfg.mqtt.keep_alive_max, 1767 * NS_PER_S);
    assert_int_equal(cfg.mqtt.keep_alive_grace_permille, 1500);

    /* NOTES.md: no SASL, SASL ANONYMOUS, SASL PLAIN [?]: "Accept all three." */
    assert_true(cfg.amqp.allow_no_sasl);
    assert_true(cfg.amqp.allow_sasl_anonymous);
    assert_true(cfg.amqp.allow_sasl_plain);

    /* NOTES.md: bare `$name` tries the system property first [doc] */
    assert_int_equal(cfg.route_query.bare_dollar_name, HUB_DOLLAR_NAME_SYSTEM_FIRST);
    assert_true(cfg.route_query.type_functions);
    hub_config_free(&cfg);
}

static void test_free_returns_to_defaults(void **state)
{
    (void)state;
    hub_config_t a, b;
    hub_config_defaults(&a);
    hub_config_defaults(&b);
    a.n_devices = 1;
    a.devices = calloc(1, sizeof *a.devices);
    assert_non_null(a.devices);
    a.devices[0].modules = calloc(2, sizeof *a.devices[0].modules);
    a.devices[0].n_modules = 2;
    a.routing = json_object();
    hub_config_free(&a);
    assert_memory_equal(&a, &b, sizeof a);
    hub_config_free(&a); /* twice is harmless */
    hub_config_defaults(NULL);
    hub_config_free(NULL);
}

static hub_config_t load_or_fail(const char *text)
{
    hub_config_t cfg;
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    hs_err_t rc = hub_config_load_json(text, strlen(text), "t.json", &cfg, d);
    if (rc != HS_EOK)
        json_diag_print(d, stderr);
    assert_int_equal(rc, HS_EOK);
    json_diag_list_free(d);
    return cfg;
}

/* NOTES.md "Throttling and quotas": D2C 100/s/unit (minimum 12,000/min per
 * hub), methods 160 KB/s/unit, C2D 1.67/s/unit, twin reads/updates 10/s per
 * unit, connections 100/s per unit. */
static void test_s1_rates(void **state)
{
    (void)state;
    hub_config_t cfg = load_or_fail("{\"throttling\": {\"profile\": \"s1\"}}");
    assert_int_equal(cfg.throttling.profile, HUB_THROTTLE_S1);
    assert_int_equal(cfg.throttling.units, 1);
    assert_int_equal(cfg.throttling.d2c_milli_per_sec, 200000);   /* 12,000/min floor = 200/s */
    assert_int_equal(cfg.throttling.c2d_milli_per_sec, 1670);     /* 1.67/s */
    assert_int_equal(cfg.throttling.twin_read_milli_per_sec, 10000);
    assert_int_equal(cfg.throttling.twin_update_milli_per_sec, 10000);
    assert_int_equal(cfg.throttling.connect_milli_per_sec, 100000);
    assert_int_equal(cfg.throttling.method_bytes_per_sec, 163840); /* 160 x 1024 */
    hub_config_free(&cfg);

    /* 2 units: 100 x 2 = 200/s, exactly the floor; 3 units: 300/s, above it */
    cfg = load_or_fail("{\"throttling\": {\"profile\": \"s1\", \"units\": 2}}");
    assert_int_equal(cfg.throttling.d2c_milli_per_sec, 200000);
    assert_int_equal(cfg.throttling.c2d_milli_per_sec, 3340);
    hub_config_free(&cfg);
    cfg = load_or_fail("{\"throttling\": {\"profile\": \"s1\", \"units\": 3}}");
    assert_int_equal(cfg.throttling.d2c_milli_per_sec, 300000);
    assert_int_equal(cfg.throttling.c2d_milli_per_sec, 5010);
    assert_int_equal(cfg.throttling.twin_read_milli_per_sec, 30000);
    assert_int_equal(cfg.throttling.connect_milli_per_sec, 300000);
    assert_int_equal(cfg.throttling.method_bytes_per_sec, 491520);
    hub_config_free(&cfg);

    /* methods' KB = 1000 changes both the payload limit and the method rate */
    cfg = load_or_fail("{\"throttling\": {\"profile\": \"s1\"}, \"methods\": {\"kbSize\": 1000}}");
    assert_int_equal(cfg.methods.max_payload_bytes, 128000);
    assert_int_equal(cfg.throttling.method_bytes_per_sec, 160000);
    hub_config_free(&cfg);

    /* an override wins over the profile, and also works with profile off */
    cfg = load_or_fail("{\"throttling\": {\"profile\": \"s1\", \"rates\": {\"d2cPerSecond\": 5}}}");
    assert_int_equal(cfg.throttling.d2c_milli_per_sec, 5000);
    assert_int_equal(cfg.throttling.c2d_milli_per_sec, 1670);
    hub_config_free(&cfg);
    cfg = load_or_fail("{\"throttling\": {\"rates\": {\"c2dPerSecond\": 0.5}}}");
    assert_int_equal(cfg.throttling.profile, HUB_THROTTLE_OFF);
    assert_int_equal(cfg.throttling.c2d_milli_per_sec, 500);
    assert_int_equal(cfg.throttling.d2c_milli_per_sec, 0);
    hub_config_free(&cfg);
}

static void test_empty_object_is_defaults(void **state)
{
    (void)state;
    hub_config_t want, got = load_or_fail("{}");
    hub_config_defaults(&want);
    assert_memory_equal(&got, &want, sizeof want);
    hub_config_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_defaults),
        cmocka_unit_test(test_knob_defaults),
        cmocka_unit_test(test_free_returns_to_defaults),
        cmocka_unit_test(test_s1_rates),
        cmocka_unit_test(test_empty_object_is_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
