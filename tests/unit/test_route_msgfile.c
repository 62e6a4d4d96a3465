/* Unit tests for the JSON message-file form (routing-query.txt's representation) used by `hubsim query` and the vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/route/route_msgfile.h"

static route_msgfile_t *load_ok(const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    route_msgfile_t *mf = NULL;
    char err[256];
    hs_err_t e = route_msgfile_load(doc, NULL, &mf, err, sizeof err);
    json_decref(doc); /* the file keeps its own reference */
    if (e) {
        print_error("load failed: %s\n", err);
        fail();
    }
    return mf;
}

static void expect_error(const char *text, const char *fragment)
{
    json_t *doc = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(doc);
    route_msgfile_t *mf = NULL;
    char err[256] = "";
    assert_int_equal(route_msgfile_load(doc, NULL, &mf, err, sizeof err), HS_EPARSE);
    assert_null(mf);
    if (!strstr(err, fragment)) {
        print_error("error '%s' lacks '%s'\n", err, fragment);
        fail();
    }
    json_decref(doc);
}

static void test_fields(void **state)
{
    (void)state;
    route_msgfile_t *mf = load_ok("{\"message\":{\"systemProperties\":{\"iothub-connection-device-id\":\"d1\","
                                  "\"contentType\":\"application/json\",\"sequenceNumber\":42},"
                                  "\"appProperties\":{\"a\":\"x\",\"n\":null,\"num\":1.5,\"flag\":true},"
                                  "\"body\":\"{}\"}}");
    route_message_t *m = route_msgfile_view(mf);
    assert_string_equal(m->sys[ROUTE_SYS_CONNECTION_DEVICE_ID], "d1");
    assert_string_equal(m->sys[ROUTE_SYS_SEQUENCE_NUMBER], "42");
    assert_null(m->sys[ROUTE_SYS_MESSAGE_ID]);
    assert_int_equal(m->napp, 4);
    assert_string_equal(m->app[0].name, "a");
    assert_null(m->app[1].value);
    assert_string_equal(m->app[2].value, "1.5");
    assert_string_equal(m->app[3].value, "true");
    assert_int_equal(m->body_len, 2);
    assert_memory_equal(m->body, "{}", 2);
    route_msgfile_free(mf);

    /* bodyBase64 keeps bytes exactly, including NUL */
    mf = load_ok("{\"bodyBase64\":\"//4AAHsA\"}");
    m = route_msgfile_view(mf);
    assert_int_equal(m->body_len, 6);
    assert_memory_equal(m->body, "\xff\xfe\x00\x00{\x00", 6);
    route_msgfile_free(mf);

    /* a JSON value as body is its compact text */
    mf = load_ok("{\"body\":{\"a\":[1, 2]}}");
    m = route_msgfile_view(mf);
    assert_int_equal(m->body_len, strlen("{\"a\":[1,2]}"));
    route_msgfile_free(mf);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[1]", "JSON object");
    expect_error("{\"sysProps\":{}}", "unknown message key");
    expect_error("{\"systemProperties\":{\"contentTipe\":\"x\"}}", "unknown system property");
    expect_error("{\"systemProperties\":{\"contentType\":[1]}}", "must be a string");
    expect_error("{\"appProperties\":{\"a\":{}}}", "must be a string");
    expect_error("{\"appProperties\":[1]}", "must be an object");
    expect_error("{\"body\":\"x\",\"bodyBase64\":\"eA==\"}", "not both");
    expect_error("{\"bodyBase64\":\"!!!\"}", "base64");
    expect_error("{\"bodyBase64\":\"eA==eA\"}", "base64");
}

static void test_base64(void **state)
{
    (void)state;
    unsigned char *out;
    size_t n;
    assert_int_equal(route_base64_decode("aGVsbG8=", 8, &out, &n), HS_EOK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    free(out);
    assert_int_equal(route_base64_decode("aGVs\nbG8", 8, &out, &n), HS_EOK); /* whitespace, no padding */
    assert_int_equal(n, 5);
    free(out);
    assert_int_equal(route_base64_decode("", 0, &out, &n), HS_EOK);
    assert_int_equal(n, 0);
    free(out);
    assert_int_equal(route_base64_decode("a$", 2, &out, &n), HS_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
