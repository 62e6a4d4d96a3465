/* Bad input to the hub model: NULL arguments, stale handles, malformed bodies and tokens never crash and answer the right error. */
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
#define EPOCH 1767225600LL

static int http(hub_err_t e)
{
    return hub_error_info(e)->http_status;
}

static void test_null_hub(void **state)
{
    (void)state;
    hub_identity_spec_t s = { .device_id = "d" };
    hub_identity_t id;
    hub_conn_t c = 0;
    hub_connect_params_t p = { .device_id = "d", .sas_token = "x" };
    hub_method_call_t call = { .device_id = "d", .method_name = "m" };
    json_t *j = NULL;
    assert_int_equal(http(hub_identity_create(NULL, &s, NULL)), 400);
    assert_int_equal(http(hub_identity_update(NULL, &s, NULL, NULL)), 400);
    assert_int_equal(http(hub_identity_put(NULL, &s, NULL, NULL)), 400);
    assert_int_equal(http(hub_identity_get(NULL, "d", NULL, &id)), 400);
    assert_int_equal(http(hub_identity_delete(NULL, "d", NULL, NULL)), 400);
    assert_int_equal(hub_identity_count(NULL), 0);
    assert_int_equal(http(hub_device_connect(NULL, &p, NULL, NULL, &c)), 400);
    assert_int_equal(http(hub_device_disconnect(NULL, 1)), 401);
    assert_int_equal(http(hub_device_subscribe(NULL, 1, HUB_SUB_METHODS)), 401);
    assert_int_equal(http(hub_device_unsubscribe(NULL, 1, HUB_SUB_METHODS)), 401);
    assert_false(hub_device_is_connected(NULL, 1));
    assert_int_equal(http(hub_device_method_respond(NULL, 1, "1", 200, "1", 1)), 401);
    assert_int_equal(http(hub_device_send_d2c(NULL, 1, NULL)), 401);
    assert_int_equal(http(hub_device_c2d_receive(NULL, 1, NULL)), 401);
    assert_int_equal(http(hub_device_twin_get(NULL, 1, &j)), 401);
    assert_int_equal(http(hub_method_invoke(NULL, &call, NULL, NULL, NULL)), 400);
    assert_int_equal(http(hub_method_invoke_json(NULL, "d", NULL, "{}", 2, NULL, NULL, NULL)), 400);
    assert_int_equal(hub_method_pending(NULL), 0);
    assert_int_equal(http(hub_c2d_send(NULL, "d", NULL, 0, NULL)), 400);
    assert_int_equal(http(hub_c2d_purge_device(NULL, "d", NULL)), 400);
    assert_int_equal(http(hub_twin_get(NULL, "d", NULL, &j)), 400);
    assert_int_equal(http(hub_twin_patch(NULL, "d", NULL, "{}", 2, NULL, NULL)), 400);
    assert_int_equal(http(hub_service_authorize(NULL, "x", 0)), 400);
    assert_int_equal(hub_counter(NULL, "d2c.accepted"), 0);
    assert_int_equal(hub_check(NULL, NULL, 0), HS_EINVAL);
    assert_int_equal(hub_break(NULL, "METHOD-504-TIMEOUT"), HS_EINVAL);
    assert_null(hub_kernel(NULL));
    assert_null(hub_config(NULL));
    assert_null(hub_faults(NULL));
    hub_set_endpoint_sink(NULL, NULL, NULL);
    hub_set_feedback_sink(NULL, NULL, NULL);
    hub_free(NULL);
    hub_t *h = NULL;
    assert_int_equal(hub_new(NULL, NULL, &h, NULL, 0), HS_EINVAL);
}

static void test_null_args_and_stale_handles(void **state)
{
    (void)state;
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_t *hub = NULL;
    assert_int_equal(hub_new(k, NULL, &hub, NULL, 0), HS_EOK);
    hub_identity_spec_t s = { .device_id = "d", .primary_key = KEY };
    assert_int_equal(hub_identity_create(hub, &s, NULL), HUB_EOK);
    assert_int_equal(http(hub_identity_create(hub, NULL, NULL)), 400);
    hub_identity_spec_t nul = { 0 };
    assert_int_equal(http(hub_identity_create(hub, &nul, NULL)), 400);
    assert_int_equal(http(hub_identity_update(hub, &nul, NULL, NULL)), 400);
    assert_int_equal(http(hub_identity_get(hub, NULL, NULL, NULL)), 400);
    assert_int_equal(http(hub_identity_get(hub, "d", NULL, NULL)), 400);
    hub_conn_t c = 0;
    assert_int_equal(http(hub_device_connect(hub, NULL, NULL, NULL, &c)), 400);
    hub_connect_params_t p = { .device_id = "d", .sas_token = "SharedAccessSignature " };
    assert_int_equal(http(hub_device_connect(hub, &p, NULL, NULL, NULL)), 400);
    assert_int_equal(http(hub_device_connect(hub, &p, NULL, NULL, &c)), 401);
    p.protocol = (hub_protocol_t)7;
    assert_int_equal(http(hub_device_connect(hub, &p, NULL, NULL, &c)), 400);
    /* forged and zero handles */
    static const hub_conn_t forged[] = { 0, 1, 0x100000001ull, UINT64_MAX };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(http(hub_device_disconnect(hub, forged[i])), 401);
        assert_int_equal(http(hub_device_method_respond(hub, forged[i], "1", 200, "1", 1)), 401);
        hub_msg_t *m = hub_msg_new();
        assert_int_equal(http(hub_device_send_d2c(hub, forged[i], m)), 401);
        hub_msg_free(m);
    }
    /* a real connection: bad subscription bits, NULL rid, NULL message */
    char tok[512];
    hub_sas_make(KEY, "hubsim.azure-devices.net/devices/d", EPOCH + 60, NULL, tok, sizeof tok);
    hub_connect_params_t good = { .device_id = "d", .sas_token = tok };
    assert_int_equal(hub_device_connect(hub, &good, NULL, NULL, &c), HUB_EOK);
    assert_int_equal(http(hub_device_subscribe(hub, c, 0x80)), 400);
    assert_int_equal(hub_device_method_respond(hub, c, NULL, 200, NULL, 0), HUB_EOK);
    assert_int_equal(hub_counter(hub, "method.unknown_rid"), 1);
    assert_int_equal(http(hub_device_send_d2c(hub, c, NULL)), 400);
    assert_int_equal(http(hub_device_twin_patch_reported(hub, c, NULL, 0, NULL)), 400);
    assert_int_equal(http(hub_device_twin_patch_reported(hub, c, "\x01\xff", 2, NULL)), 400);
    /* method calls with missing parts */
    hub_method_call_t call = { .device_id = "d" };
    assert_int_equal(http(hub_method_invoke(hub, &call, NULL, NULL, NULL)), 400);
    assert_int_equal(http(hub_method_invoke(hub, NULL, NULL, NULL, NULL)), 400);
    assert_int_equal(hub_check(hub, NULL, 0), HS_EOK);
    hub_free(hub);
    sim_kernel_free(k);
}

static void test_garbage_bodies_and_tokens(void **state)
{
    (void)state;
    sim_kernel_t *k = sim_kernel_new(1, EPOCH);
    hub_t *hub = NULL;
    assert_int_equal(hub_new(k, NULL, &hub, NULL, 0), HS_EOK);
    hub_identity_spec_t s = { .device_id = "d", .primary_key = KEY };
    assert_int_equal(hub_identity_create(hub, &s, NULL), HUB_EOK);
    /* deterministic pseudo-random bytes (no rand(): a fixed LCG) */
    uint32_t x = 12345;
    char buf[300];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 299);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
        }
        buf[n] = '\0';
        hub_err_t e = hub_method_invoke_json(hub, "d", NULL, buf, n, NULL, NULL, NULL);
        assert_true(http(e) == 400 || http(e) == 404);
        hub_connect_params_t p = { .device_id = "d", .sas_token = buf };
        hub_conn_t c;
        assert_int_equal(http(hub_device_connect(hub, &p, NULL, NULL, &c)), 401);
        hub_sas_t t;
        (void)hub_sas_parse(buf, &t, NULL, 0);
        assert_int_not_equal(hub_twin_patch(hub, "d", NULL, buf, n, NULL, NULL), HUB_EOK);
    }
    /* a token with every field oversized */
    char big[4096];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "SharedAccessSignature sr=", 25);
    hub_connect_params_t p = { .device_id = "d", .sas_token = big };
    hub_conn_t c;
    assert_int_equal(http(hub_device_connect(hub, &p, NULL, NULL, &c)), 401);
    assert_int_equal(hub_check(hub, NULL, 0), HS_EOK);
    hub_free(hub);
    sim_kernel_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_hub),
        cmocka_unit_test(test_null_args_and_stale_handles),
        cmocka_unit_test(test_garbage_bodies_and_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
