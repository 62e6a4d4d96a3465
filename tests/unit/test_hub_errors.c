/* Hub error table: codes as the public SDK enums give them, decoding by code and name, REST error bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/hub_errors.h"

static void test_codes_match_the_sdk(void **state)
{
    (void)state;
    /* Literals from the C# service SDK's ErrorCode / IotHubServiceErrorCode
     * enums and the IoT Hub troubleshooting page. */
    static const struct { hub_err_t e; int http; int code; const char *name; } rows[] = {
        { HUB_EARGUMENT_INVALID, 400, 400004, "ArgumentInvalid" },
        { HUB_EARGUMENT_NULL, 400, 400005, "ArgumentNull" },
        { HUB_ECONNECTION_REPLACED, 400, 400027, "ConnectionForcefullyClosedOnNewConnection" },
        { HUB_EUNAUTHORIZED_ACCESS, 401, 401002, "IotHubUnauthorizedAccess" },
        { HUB_EQUOTA_EXCEEDED, 403, 403002, "IotHubQuotaExceeded" },
        { HUB_EQUEUE_DEPTH_EXCEEDED, 403, 403004, "DeviceMaximumQueueDepthExceeded" },
        { HUB_EDEVICE_NOT_FOUND, 404, 404001, "DeviceNotFound" },
        { HUB_EMODULE_NOT_FOUND, 404, 404010, "ModuleNotFound" },
        { HUB_EDEVICE_NOT_ONLINE, 404, 404103, "DeviceNotOnline" },
        { HUB_EDEVICE_ALREADY_EXISTS, 409, 409001, "DeviceAlreadyExists" },
        { HUB_EMODULE_ALREADY_EXISTS, 409, 409301, "ModuleAlreadyExistsOnDevice" },
        { HUB_EPRECONDITION_FAILED, 412, 412001, "PreconditionFailed" },
        { HUB_ELOCK_LOST, 412, 412002, "DeviceMessageLockLost" },
        { HUB_EMESSAGE_TOO_LARGE, 413, 413001, "MessageTooLarge" },
        { HUB_ETHROTTLED, 429, 429001, "ThrottlingException" },
        { HUB_ESERVER_ERROR, 500, 500001, "ServerError" },
        { HUB_EGATEWAY_TIMEOUT, 504, 504101, "GatewayTimeout" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const hub_error_info_t *e = hub_error_info(rows[i].e);
        assert_int_equal(e->http_status, rows[i].http);
        assert_int_equal(e->code, rows[i].code);
        assert_string_equal(e->name, rows[i].name);
        assert_int_equal(hub_error_by_code(rows[i].code), rows[i].e);
        assert_int_equal(hub_error_by_name(rows[i].name), rows[i].e);
    }
    assert_int_equal(hub_error_by_name("devicenotonline"), HUB_EDEVICE_NOT_ONLINE);
    assert_int_equal(hub_error_by_code(999999), -1);
    assert_int_equal(hub_error_by_name("Nope"), -1);
    assert_int_equal(hub_error_by_name(NULL), -1);
    /* out of range maps to ServerError */
    assert_int_equal(hub_error_info((hub_err_t)9999)->code, 500001);
    /* codes are unique */
    for (int a = 0; a < HUB_E__COUNT; a++)
        for (int b = a + 1; b < HUB_E__COUNT; b++)
            assert_int_not_equal(hub_error_info((hub_err_t)a)->code, hub_error_info((hub_err_t)b)->code);
}

static void test_error_body(void **state)
{
    (void)state;
    char buf[512];
    size_t n = hub_error_body(HUB_EDEVICE_NOT_ONLINE, "device \"d1\"", buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(buf, "{\"Message\":\"ErrorCode:DeviceNotOnline;"));
    assert_non_null(strstr(buf, "device \\\"d1\\\""));
    assert_non_null(strstr(buf, "\"ExceptionMessage\":"));
    /* truncation keeps a terminated prefix and reports the full length */
    char small[10];
    assert_int_equal(hub_error_body(HUB_EDEVICE_NOT_ONLINE, NULL, small, sizeof small),
                     hub_error_body(HUB_EDEVICE_NOT_ONLINE, NULL, buf, sizeof buf));
    assert_int_equal(strlen(small), 9);
    assert_true(hub_error_body(HUB_ETHROTTLED, NULL, NULL, 0) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_match_the_sdk),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
