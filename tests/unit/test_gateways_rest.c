/* Field gateways and identity import/export over service REST: capabilities.iotEdge, deviceScope, parentScopes on PUT/GET, and POST /jobs/create with GET /jobs/{id}. */
#include <sys/stat.h>
#include <unistd.h>
#include "test_http_fixture.h"

static json_t *put_device(fx_t *f, const char *id, const char *body, int want_status)
{
    char path[160];
    snprintf(path, sizeof path, "/devices/%s?api-version=2021-04-12", id);
    capture_t c;
    fx_svc(f, "PUT", path, NULL, body, &c);
    if (c.status != want_status)
        fail_msg("PUT %s: %d %s", id, c.status, c.body);
    return c.status == 200 ? cap_json(&c) : NULL;
}

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_scope_fields_round_trip(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    json_t *gw = put_device(f, "gw", "{\"deviceId\":\"gw\",\"capabilities\":{\"iotEdge\":true}}", 200);
    assert_true(json_is_true(json_object_get(json_object_get(gw, "capabilities"), "iotEdge")));
    char scope[300];
    snprintf(scope, sizeof scope, "ms-azure-iot-edge://gw-%s", str_of(gw, "generationId"));
    assert_string_equal(str_of(gw, "deviceScope"), scope);
    assert_null(json_object_get(gw, "parentScopes"));
    /* a leaf names the gateway by its scope */
    char body[600];
    snprintf(body, sizeof body, "{\"deviceId\":\"leaf\",\"deviceScope\":\"%s\"}", scope);
    json_t *leaf = put_device(f, "leaf", body, 200);
    assert_string_equal(str_of(leaf, "deviceScope"), scope);
    assert_string_equal(json_string_value(json_array_get(json_object_get(leaf, "parentScopes"), 0)), scope);
    assert_false(json_is_true(json_object_get(json_object_get(leaf, "capabilities"), "iotEdge")));
    /* GET says the same; a GET body PUT back (If-Match *) changes nothing */
    capture_t c;
    fx_svc(f, "GET", "/devices/leaf", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    const char *star[] = { "If-Match: *", NULL };
    char back[16384];
    snprintf(back, sizeof back, "%s", c.body);
    fx_svc(f, "PUT", "/devices/leaf", star, back, &c);
    assert_int_equal(c.status, 200);
    json_t *again = cap_json(&c);
    assert_string_equal(str_of(again, "deviceScope"), scope);
    json_decref(again);
    /* the edge device's own body back (its own scope) keeps it parentless */
    fx_svc(f, "GET", "/devices/gw", NULL, NULL, &c);
    snprintf(back, sizeof back, "%s", c.body);
    fx_svc(f, "PUT", "/devices/gw", star, back, &c);
    assert_int_equal(c.status, 200);
    again = cap_json(&c);
    assert_null(json_object_get(again, "parentScopes"));
    json_decref(again);
    /* an unknown or stale scope, a non-edge parent, wrong types: 400 */
    put_device(f, "bad1", "{\"deviceId\":\"bad1\",\"deviceScope\":\"ms-azure-iot-edge://gw-1\"}", 400);
    put_device(f, "bad2", "{\"deviceId\":\"bad2\",\"deviceScope\":\"nonsense\"}", 400);
    put_device(f, "bad3", "{\"deviceId\":\"bad3\",\"capabilities\":{\"iotEdge\":\"yes\"}}", 400);
    put_device(f, "bad4", "{\"deviceId\":\"bad4\",\"parentScopes\":\"x\"}", 400);
    /* deviceScope "" detaches the leaf */
    fx_svc(f, "PUT", "/devices/leaf", star, "{\"deviceId\":\"leaf\",\"deviceScope\":\"\"}", &c);
    assert_int_equal(c.status, 200);
    again = cap_json(&c);
    assert_null(json_object_get(again, "deviceScope"));
    json_decref(again);
    json_decref(gw);
    json_decref(leaf);
    fx_free(f);
}

static void test_import_export_jobs_over_rest(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/hubsim-rest-io-XXXXXX");
    assert_non_null(mkdtemp(dir));
    fx_t *f = fx_new();
    char body[400];
    snprintf(body, sizeof body,
             "{\"type\":\"export\",\"outputBlobContainerUri\":\"file://%s\",\"excludeKeysInExport\":false}", dir);
    capture_t c;
    fx_svc(f, "POST", "/jobs/create?api-version=2021-04-12", NULL, body, &c);
    assert_int_equal(c.status, 200);
    json_t *job = cap_json(&c);
    assert_string_equal(str_of(job, "status"), "completed");
    assert_string_equal(str_of(job, "type"), "export");
    char path[200];
    snprintf(path, sizeof path, "/jobs/%s?api-version=2021-04-12", str_of(job, "jobId"));
    json_decref(job);
    fx_svc(f, "GET", path, NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    job = cap_json(&c);
    assert_int_equal(json_integer_value(json_object_get(job, "deviceCount")), 1);
    json_decref(job);
    fx_svc(f, "GET", "/jobs?api-version=2021-04-12", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    job = cap_json(&c);
    assert_int_equal(json_array_size(job), 1);
    json_decref(job);
    fx_svc(f, "GET", "/jobs/nosuch", NULL, NULL, &c);
    assert_int_equal(c.status, 404);
    /* a bad request is 400, a missing folder a failed job */
    fx_svc(f, "POST", "/jobs/create", NULL, "{\"type\":\"export\"}", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_svc(f, "POST", "/jobs/create", NULL,
           "{\"type\":\"import\",\"inputBlobContainerUri\":\"file:///nonexistent-hubsim\",\"outputBlobContainerUri\":\"file:///tmp\"}",
           &c);
    assert_int_equal(c.status, 200);
    job = cap_json(&c);
    assert_string_equal(str_of(job, "status"), "failed");
    assert_non_null(strstr(str_of(job, "failureReason"), "does not exist"));
    json_decref(job);
    fx_free(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_fields_round_trip),
        cmocka_unit_test(test_import_export_jobs_over_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
