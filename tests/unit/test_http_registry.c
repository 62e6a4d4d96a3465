/* Identity registry and twins over REST: CRUD with etags and If-Match (409/412/404), the SDK device JSON, listing, statistics, purge, twin GET/PATCH/PUT. */
#include "test_http_fixture.h"

static const char *jstr(json_t *o, const char *path)
{
    /* "a.b.c" member path */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *s = strtok(buf, "."); s && cur; s = strtok(NULL, "."))
        cur = json_object_get(cur, s);
    return json_string_value(cur);
}

static void test_device_crud_etags(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    /* create: what registry.create sends (no If-Match) */
    fx_svc(f, "PUT", "/devices/dev2?api-version=2021-04-12", (const char *[]){ "Content-Type: application/json; charset=utf-8", NULL },
           "{\"deviceId\":\"dev2\",\"status\":\"enabled\",\"authentication\":{\"type\":\"sas\","
           "\"symmetricKey\":{\"primaryKey\":null,\"secondaryKey\":null}}}",
           &c);
    assert_int_equal(c.status, 200);
    assert_non_null(strstr(cap_header(&c, "Content-Type"), "application/json"));
    json_t *d = cap_json(&c);
    assert_string_equal(jstr(d, "deviceId"), "dev2");
    assert_string_equal(jstr(d, "status"), "enabled");
    assert_string_equal(jstr(d, "connectionState"), "Disconnected");
    assert_string_equal(jstr(d, "authentication.type"), "sas");
    assert_non_null(jstr(d, "authentication.symmetricKey.primaryKey")); /* derived by the hub */
    assert_true(json_is_null(json_object_get(json_object_get(json_object_get(d, "authentication"), "x509Thumbprint"), "primaryThumbprint")));
    assert_int_equal(json_integer_value(json_object_get(d, "cloudToDeviceMessageCount")), 0);
    assert_true(strlen(jstr(d, "generationId")) > 0);
    char etag1[64];
    snprintf(etag1, sizeof etag1, "%s", jstr(d, "etag"));
    char quoted[80];
    snprintf(quoted, sizeof quoted, "\"%s\"", etag1);
    assert_string_equal(cap_header(&c, "ETag"), quoted);
    json_decref(d);

    /* re-create: 409 */
    fx_svc(f, "PUT", "/devices/dev2", NULL, "{\"deviceId\":\"dev2\"}", &c);
    assert_hub_error(&c, 409, "DeviceAlreadyExists");

    /* update with a stale etag: 412; with "*" (quoted, as the SDKs send it): new etag */
    const char *stale[] = { "If-Match: \"nope\"", NULL };
    fx_svc(f, "PUT", "/devices/dev2", stale, "{\"deviceId\":\"dev2\",\"status\":\"disabled\"}", &c);
    assert_hub_error(&c, 412, "PreconditionFailed");
    const char *star[] = { "If-Match: \"*\"", NULL };
    fx_svc(f, "PUT", "/devices/dev2", star, "{\"deviceId\":\"dev2\",\"status\":\"disabled\"}", &c);
    assert_int_equal(c.status, 200);
    d = cap_json(&c);
    assert_string_equal(jstr(d, "status"), "disabled");
    assert_string_not_equal(jstr(d, "etag"), etag1);
    char etag2[64];
    snprintf(etag2, sizeof etag2, "%s", jstr(d, "etag"));
    json_decref(d);

    /* an update that leaves status out keeps it */
    char im[96];
    snprintf(im, sizeof im, "If-Match: \"%s\"", etag2);
    fx_svc(f, "PUT", "/devices/dev2", (const char *[]){ im, NULL }, "{}", &c);
    assert_int_equal(c.status, 200);
    d = cap_json(&c);
    assert_string_equal(jstr(d, "status"), "disabled");
    char etag3[64];
    snprintf(etag3, sizeof etag3, "%s", jstr(d, "etag"));
    json_decref(d);

    /* update of an absent identity: 404 */
    fx_svc(f, "PUT", "/devices/ghost", star, "{}", &c);
    assert_hub_error(&c, 404, "DeviceNotFound");

    /* delete: stale 412, current 204, then 404 */
    snprintf(im, sizeof im, "If-Match: \"%s\"", etag1);
    fx_svc(f, "DELETE", "/devices/dev2", (const char *[]){ im, NULL }, NULL, &c);
    assert_hub_error(&c, 412, "PreconditionFailed");
    snprintf(im, sizeof im, "If-Match: %s", etag3);
    fx_svc(f, "DELETE", "/devices/dev2", (const char *[]){ im, NULL }, NULL, &c);
    assert_int_equal(c.status, 204);
    assert_int_equal(c.body_len, 0);
    fx_svc(f, "GET", "/devices/dev2", NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    fx_free(f);
}

static void test_module_crud_and_list(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    fx_svc(f, "PUT", "/devices/dev1/modules/m1", NULL, "{\"deviceId\":\"dev1\",\"moduleId\":\"m1\"}", &c);
    assert_int_equal(c.status, 200);
    json_t *d = cap_json(&c);
    assert_string_equal(jstr(d, "moduleId"), "m1");
    assert_string_equal(jstr(d, "deviceId"), "dev1");
    json_decref(d);
    fx_svc(f, "PUT", "/devices/dev1/modules/m1", NULL, "{}", &c);
    assert_hub_error(&c, 409, "ModuleAlreadyExistsOnDevice");
    fx_svc(f, "PUT", "/devices/ghost/modules/m1", NULL, "{}", &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    fx_svc(f, "PUT", "/devices/dev1/modules/m2", NULL, "{}", &c);
    assert_int_equal(c.status, 200);

    fx_svc(f, "GET", "/devices/dev1/modules", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    d = cap_json(&c);
    assert_int_equal(json_array_size(d), 2);
    assert_string_equal(jstr(json_array_get(d, 0), "moduleId"), "m1");
    assert_string_equal(jstr(json_array_get(d, 1), "moduleId"), "m2");
    json_decref(d);

    /* the device list holds devices only, in registration order; top caps it */
    fx_svc(f, "PUT", "/devices/dev3", NULL, "{\"status\":\"disabled\"}", &c);
    fx_svc(f, "GET", "/devices", NULL, NULL, &c);
    d = cap_json(&c);
    assert_int_equal(json_array_size(d), 2);
    assert_string_equal(jstr(json_array_get(d, 0), "deviceId"), "dev1");
    assert_string_equal(jstr(json_array_get(d, 1), "deviceId"), "dev3");
    json_decref(d);
    fx_svc(f, "GET", "/devices?top=1", NULL, NULL, &c);
    d = cap_json(&c);
    assert_int_equal(json_array_size(d), 1);
    json_decref(d);
    fx_svc(f, "GET", "/devices?top=0", NULL, NULL, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");

    fx_svc(f, "GET", "/statistics/devices", NULL, NULL, &c);
    assert_string_equal(c.body, "{\"totalDeviceCount\":2,\"enabledDeviceCount\":1,\"disabledDeviceCount\":1}");

    fx_svc(f, "DELETE", "/devices/dev1/modules/m1", (const char *[]){ "If-Match: \"*\"", NULL }, NULL, &c);
    assert_int_equal(c.status, 204);
    fx_svc(f, "GET", "/devices/dev1/modules/m1", NULL, NULL, &c);
    assert_hub_error(&c, 404, "ModuleNotFound");
    fx_free(f);
}

static void test_x509_identity(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    fx_svc(f, "PUT", "/devices/cam", NULL,
           "{\"authentication\":{\"type\":\"selfSigned\",\"x509Thumbprint\":{\"primaryThumbprint\":\"" THUMB
           "\",\"secondaryThumbprint\":null}}}",
           &c);
    assert_int_equal(c.status, 200);
    json_t *d = cap_json(&c);
    assert_string_equal(jstr(d, "authentication.type"), "selfSigned");
    assert_string_equal(jstr(d, "authentication.x509Thumbprint.primaryThumbprint"), THUMB);
    json_decref(d);
    /* selfSigned without a thumbprint: the hub refuses */
    fx_svc(f, "PUT", "/devices/cam2", NULL, "{\"authentication\":{\"type\":\"selfSigned\"}}", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_svc(f, "PUT", "/devices/cam3", NULL, "{\"authentication\":{\"type\":\"certificateAuthority\"}}", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_non_null(strstr(c.body, "certificateAuthority"));
    fx_free(f);
}

static void test_registry_bad_bodies(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    static const struct {
        const char *body;
        const char *detail;
    } bad[] = {
        { "{\"deviceId\":", "line 1" },
        { "[1]", "must be a JSON object, got an array" },
        { "{\"deviceId\":\"other\"}", "does not match" },
        { "{\"status\":\"paused\"}", "status: expected \\\"enabled\\\" or \\\"disabled\\\"" },
        { "{\"status\":3}", "status: expected a string or null, got a number" },
        { "{\"authentication\":[]}", "authentication: expected an object or null, got an array" },
        { "{\"authentication\":{\"symmetricKey\":{\"primaryKey\":7}}}",
          "authentication.symmetricKey.primaryKey: expected a string or null" },
        { NULL, "the request body is empty" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_svc(f, "PUT", "/devices/devx", NULL, bad[i].body, &c);
        assert_hub_error(&c, 400, "ArgumentInvalid");
        if (!strstr(c.body, bad[i].detail))
            fail_msg("body %s lacks %s", c.body, bad[i].detail);
    }
    /* a bad key is the hub's rule */
    fx_svc(f, "PUT", "/devices/devx", NULL, "{\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"short\"}}}", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_svc(f, "GET", "/devices/devx", NULL, NULL, &c);
    assert_int_equal(c.status, 404);
    fx_free(f);
}

static void test_purge_and_c2d_count(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    for (int i = 0; i < 3; i++) {
        hub_msg_t *m = hub_msg_new();
        hub_msg_set_body(m, "x", 1);
        assert_int_equal(hub_c2d_send(f->hub, "dev1", m, 0, NULL), HUB_EOK);
    }
    capture_t c;
    fx_svc(f, "GET", "/devices/dev1", NULL, NULL, &c);
    json_t *d = cap_json(&c);
    assert_int_equal(json_integer_value(json_object_get(d, "cloudToDeviceMessageCount")), 3);
    json_decref(d);
    fx_svc(f, "DELETE", "/devices/dev1/commands", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "{\"totalMessagesPurged\":3,\"deviceId\":\"dev1\",\"moduleId\":null}");
    fx_svc(f, "DELETE", "/devices/ghost/commands", NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    fx_free(f);
}

static void test_twin_get_patch_put(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    capture_t c;
    fx_svc(f, "GET", "/twins/dev1", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    json_t *t = cap_json(&c);
    assert_string_equal(jstr(t, "deviceId"), "dev1");
    char etag[64], q[80];
    snprintf(etag, sizeof etag, "%s", jstr(t, "etag"));
    snprintf(q, sizeof q, "\"%s\"", etag);
    assert_string_equal(cap_header(&c, "ETag"), q);
    json_decref(t);

    /* stale If-Match: 412; current (quoted, as the SDKs send it): 200 with the new twin */
    fx_svc(f, "PATCH", "/twins/dev1", (const char *[]){ "If-Match: \"AAAAAAAAAAk=\"", NULL },
           "{\"properties\":{\"desired\":{\"fan\":1}}}", &c);
    assert_hub_error(&c, 412, "PreconditionFailed");
    char im[96];
    snprintf(im, sizeof im, "If-Match: \"%s\"", etag);
    fx_svc(f, "PATCH", "/twins/dev1", (const char *[]){ im, NULL },
           "{\"tags\":{\"site\":\"a\"},\"properties\":{\"desired\":{\"fan\":1}}}", &c);
    assert_int_equal(c.status, 200);
    t = cap_json(&c);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(t, "properties"), "desired"), "fan")), 1);
    assert_string_equal(jstr(t, "tags.site"), "a");
    assert_string_not_equal(jstr(t, "etag"), etag);
    snprintf(q, sizeof q, "\"%s\"", jstr(t, "etag"));
    assert_string_equal(cap_header(&c, "ETag"), q);
    json_decref(t);
    /* the old etag is stale now */
    fx_svc(f, "PATCH", "/twins/dev1", (const char *[]){ im, NULL }, "{\"tags\":{\"x\":1}}", &c);
    assert_hub_error(&c, 412, "PreconditionFailed");

    /* PUT replaces tags and desired */
    fx_svc(f, "PUT", "/twins/dev1", NULL, "{\"tags\":{\"b\":2},\"properties\":{\"desired\":{}}}", &c);
    assert_int_equal(c.status, 200);
    t = cap_json(&c);
    assert_null(json_object_get(json_object_get(t, "tags"), "site"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "tags"), "b")), 2);
    json_decref(t);

    /* module twins, unknown twins, bad JSON (counted by the hub) */
    hub_identity_spec_t m = { .device_id = "dev1", .module_id = "m1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    fx_svc(f, "GET", "/twins/dev1/modules/m1", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    t = cap_json(&c);
    assert_string_equal(jstr(t, "moduleId"), "m1");
    json_decref(t);
    fx_svc(f, "PATCH", "/twins/dev1/modules/m1", NULL, "{\"tags\":{\"m\":true}}", &c);
    assert_int_equal(c.status, 200);
    fx_svc(f, "GET", "/twins/ghost", NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    uint64_t refused = hub_counter(f->hub, "twin.refused");
    fx_svc(f, "PATCH", "/twins/dev1", NULL, "{\"tags\":", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_non_null(strstr(c.body, "not JSON: line 1"));
    assert_int_equal(hub_counter(f->hub, "twin.refused"), refused + 1);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_crud_etags),
        cmocka_unit_test(test_module_crud_and_list),
        cmocka_unit_test(test_x509_identity),
        cmocka_unit_test(test_registry_bad_bodies),
        cmocka_unit_test(test_purge_and_c2d_count),
        cmocka_unit_test(test_twin_get_patch_put),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
