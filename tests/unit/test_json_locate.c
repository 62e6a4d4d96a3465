/* JSON position index and positioned diagnostics: paths, line:column (in characters), malformed input, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/json_locate.h"

static json_locate_t *index_text(const char *text)
{
    json_locate_t *loc = NULL;
    assert_int_equal(json_locate_new(text, strlen(text), &loc), HS_EOK);
    assert_non_null(loc);
    return loc;
}

static void assert_value_at(const json_locate_t *loc, const char *path, unsigned line, unsigned col)
{
    unsigned l = 0, c = 0;
    assert_int_equal(json_locate_value(loc, path, &l, &c), HS_EOK);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static void assert_key_at(const json_locate_t *loc, const char *path, unsigned line, unsigned col)
{
    unsigned l = 0, c = 0;
    assert_int_equal(json_locate_key(loc, path, &l, &c), HS_EOK);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static void test_nested_paths(void **state)
{
    (void)state;
    const char *text =
        "{\n"                                         /* 1 */
        "  \"devices\": [\n"                          /* 2 */
        "    {\"id\": \"a\"},\n"                      /* 3 */
        "    {\"id\": \"b\", \"keys\": {\"primary\": \"K\"}}\n" /* 4 */
        "  ],\n"                                      /* 5 */
        "  \"n\": -1.5e3, \"t\": true, \"z\": null\n" /* 6 */
        "}\n";
    json_locate_t *loc = index_text(text);
    assert_value_at(loc, "$", 1, 1);
    assert_value_at(loc, "$.devices", 2, 14);
    assert_key_at(loc, "$.devices", 2, 3);
    assert_value_at(loc, "$.devices[0]", 3, 5);
    assert_key_at(loc, "$.devices[0]", 3, 5); /* array element: key = value position */
    assert_value_at(loc, "$.devices[0].id", 3, 12);
    assert_key_at(loc, "$.devices[0].id", 3, 6);
    assert_value_at(loc, "$.devices[1].keys", 4, 25);
    assert_value_at(loc, "$.devices[1].keys.primary", 4, 37);
    assert_key_at(loc, "$.devices[1].keys.primary", 4, 26);
    assert_value_at(loc, "$.n", 6, 8);
    assert_value_at(loc, "$.t", 6, 21);
    assert_value_at(loc, "$.z", 6, 32);
    /* root, devices, 2 elements, 2 ids, keys, primary, n, t, z */
    assert_int_equal(json_locate_count(loc), 11);
    unsigned l, c;
    assert_int_equal(json_locate_value(loc, "$.devices[2]", &l, &c), HS_ENOTFOUND);
    assert_int_equal(json_locate_value(loc, "$.device", &l, &c), HS_ENOTFOUND);
    assert_int_equal(json_locate_key(loc, "$.nope", &l, &c), HS_ENOTFOUND);
    json_locate_free(loc);
}

static void test_columns_count_characters(void **state)
{
    (void)state;
    /* "é" is 2 bytes, "€" 3, "😀" 4: each one column, as jansson counts */
    const char *text = "{\"\xC3\xA9\": \"\xE2\x82\xAC\xF0\x9F\x98\x80\", \"k\": 1}";
    json_locate_t *loc = index_text(text);
    /* {"é": "€😀", "k": 1}
     * 1234567 8 9...  : the value of k sits at column 18 */
    assert_value_at(loc, "$[\"\xC3\xA9\"]", 1, 7);
    assert_value_at(loc, "$.k", 1, 18);
    assert_key_at(loc, "$.k", 1, 13);
    json_locate_free(loc);
}

static void test_key_spelling(void **state)
{
    (void)state;
    const char *text = "{\"a b\": 1, \"q\\\"x\": 2, \"\\u0041\": 3, \"$ok_1\": 4, \"1st\": 5, \"\": 6, \"\\ud83d\\ude00\": 7}";
    json_locate_t *loc = index_text(text);
    unsigned l, c;
    assert_int_equal(json_locate_value(loc, "$[\"a b\"]", &l, &c), HS_EOK);
    assert_int_equal(json_locate_value(loc, "$[\"q\\\"x\"]", &l, &c), HS_EOK);
    assert_int_equal(json_locate_value(loc, "$.A", &l, &c), HS_EOK); /* escapes decoded */
    assert_int_equal(json_locate_value(loc, "$.$ok_1", &l, &c), HS_EOK);
    assert_int_equal(json_locate_value(loc, "$[\"1st\"]", &l, &c), HS_EOK); /* digit first: bracketed */
    assert_int_equal(json_locate_value(loc, "$[\"\"]", &l, &c), HS_EOK);
    assert_int_equal(json_locate_value(loc, "$[\"\xF0\x9F\x98\x80\"]", &l, &c), HS_EOK); /* surrogate pair */
    json_locate_free(loc);

    char buf[64] = "$";
    assert_int_equal(json_path_key(buf, sizeof buf, "devices"), HS_EOK);
    assert_int_equal(json_path_index(buf, sizeof buf, 3), HS_EOK);
    assert_int_equal(json_path_key(buf, sizeof buf, "a\"b\\"), HS_EOK);
    assert_int_equal(json_path_key(buf, sizeof buf, "tab\there"), HS_EOK);
    assert_string_equal(buf, "$.devices[3][\"a\\\"b\\\\\"][\"tab\\u0009here\"]");
}

static void test_path_buffer_bounds(void **state)
{
    (void)state;
    char buf[8] = "$";
    /* "$.abcde" is 7 chars + NUL = 8: fits exactly */
    assert_int_equal(json_path_key(buf, sizeof buf, "abcde"), HS_EOK);
    assert_string_equal(buf, "$.abcde");
    char buf2[8] = "$";
    /* one more character does not fit, and the buffer is left unchanged */
    assert_int_equal(json_path_key(buf2, sizeof buf2, "abcdef"), HS_ERANGE);
    assert_string_equal(buf2, "$");
    char buf3[6] = "$";
    assert_int_equal(json_path_index(buf3, sizeof buf3, 12), HS_EOK); /* "$[12]" + NUL = 6 */
    assert_string_equal(buf3, "$[12]");
    char buf4[5] = "$";
    assert_int_equal(json_path_index(buf4, sizeof buf4, 12), HS_ERANGE);
    assert_string_equal(buf4, "$");
    assert_int_equal(json_path_key(NULL, 8, "a"), HS_EINVAL);
}

static void test_duplicate_key_first_wins(void **state)
{
    (void)state;
    const char *text = "{\"a\": 1,\n \"a\": 2}";
    json_locate_t *loc = index_text(text);
    assert_value_at(loc, "$.a", 1, 7);
    json_locate_free(loc);
}

static void test_malformed_never_crashes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "{", "[", "{\"a\"", "{\"a\":", "{\"a\": [1, 2", "{\"a\": tru}", "{\"a\": 01}",
        "{\"a\": 1,}", "{\"a\" 1}", "{\"\\ud800\": 1}", "{\"\\x\": 1}", "\"unterminated",
        "{\"a\": -}", "{\"a\": 1.}", "{\"a\": 1e}", "{\"a\": \"\x01\"}", "}", "nul", "{\"a\":1}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_locate_t *loc = NULL;
        assert_int_equal(json_locate_new(bad[i], strlen(bad[i]), &loc), HS_EOK);
        json_locate_free(loc);
    }
    /* what came before the error is still indexed */
    json_locate_t *loc = index_text("{\"ok\": 1, \"bad\": [1, }");
    assert_value_at(loc, "$.ok", 1, 8);
    assert_value_at(loc, "$.bad[0]", 1, 19);
    json_locate_free(loc);
    /* text need not be NUL-terminated: only len bytes are read */
    char exact[4] = { '[', '1', ']', 'X' };
    assert_int_equal(json_locate_new(exact, 3, &loc), HS_EOK);
    assert_value_at(loc, "$[0]", 1, 2);
    json_locate_free(loc);
    assert_int_equal(json_locate_new(NULL, 1, &loc), HS_EINVAL);
}

static void test_deep_nesting_is_capped(void **state)
{
    (void)state;
    size_t n = 100000;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, '[', n);
    text[n] = '\0';
    json_locate_t *loc = NULL;
    assert_int_equal(json_locate_new(text, n, &loc), HS_EOK);
    /* indexing stops at depth 2048 (jansson's own cap), far below 100000 */
    assert_true(json_locate_count(loc) <= 2050);
    assert_true(json_locate_count(loc) >= 2048);
    json_locate_free(loc);
    free(text);
}

static void test_crlf_and_bom(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF{\r\n  \"a\": 1\r\n}";
    json_locate_t *loc = index_text(text);
    assert_value_at(loc, "$", 1, 1);
    assert_value_at(loc, "$.a", 2, 8);
    json_locate_free(loc);
}

static void test_diag_format_and_sort(void **state)
{
    (void)state;
    json_diag_list_t *list = NULL;
    assert_int_equal(json_diag_list_new(&list), HS_EOK);
    assert_int_equal(json_diag_add(list, HS_ERANGE, "hub.json", 12, 5, "$.c2d.maxDeliveryCount",
                                   "expected %s, got %d", "1..100", 0), HS_EOK);
    assert_int_equal(json_diag_add(list, HS_EPARSE, "hub.json", 3, 7, "$.name",
                                   "expected string, got integer"), HS_EOK);
    assert_int_equal(json_diag_add(list, HS_EIO, "hub.json", 0, 0, "", "cannot read"), HS_EOK);
    assert_int_equal(json_diag_add(list, HS_EPARSE, NULL, 2, 1, NULL, "no file"), HS_EOK);
    assert_int_equal(json_diag_count(list), 4);
    assert_null(json_diag_get(list, 4));

    char buf[160];
    size_t n = json_diag_format(json_diag_get(list, 0), buf, sizeof buf);
    assert_string_equal(buf, "hub.json:12:5: $.c2d.maxDeliveryCount: expected 1..100, got 0");
    assert_int_equal(n, strlen(buf));
    json_diag_format(json_diag_get(list, 2), buf, sizeof buf);
    assert_string_equal(buf, "hub.json: cannot read");
    json_diag_format(json_diag_get(list, 3), buf, sizeof buf);
    assert_string_equal(buf, "2:1: no file");
    /* too small a buffer: truncated, and the needed length returned */
    char small[10];
    n = json_diag_format(json_diag_get(list, 1), small, sizeof small);
    assert_int_equal(n, strlen("hub.json:3:7: $.name: expected string, got integer"));
    assert_string_equal(small, "hub.json:");

    json_diag_sort(list);
    /* by file ("" first), then line (0 first), then column */
    assert_string_equal(json_diag_get(list, 0)->message, "no file");
    assert_int_equal(json_diag_get(list, 1)->line, 0);
    assert_int_equal(json_diag_get(list, 2)->line, 3);
    assert_int_equal(json_diag_get(list, 3)->line, 12);
    assert_int_equal(json_diag_get(list, 3)->code, HS_ERANGE);
    json_diag_list_free(list);
}

static void test_diag_add_at_looks_up_position(void **state)
{
    (void)state;
    const char *text = "{\n  \"c2d\": {\"ttl\": 5}\n}";
    json_locate_t *loc = index_text(text);
    json_diag_list_t *list = NULL;
    assert_int_equal(json_diag_list_new(&list), HS_EOK);
    assert_int_equal(json_diag_add_at(list, loc, 1, HS_EPARSE, "f.json", "$.c2d.ttl", "unknown key"), HS_EOK);
    assert_int_equal(json_diag_add_at(list, loc, 0, HS_ERANGE, "f.json", "$.c2d.ttl", "too small"), HS_EOK);
    assert_int_equal(json_diag_add_at(list, loc, 0, HS_ERANGE, "f.json", "$.absent", "x"), HS_EOK);
    assert_int_equal(json_diag_add_at(list, NULL, 0, HS_ERANGE, "f.json", "$.c2d", "y"), HS_EOK);
    char buf[128];
    json_diag_format(json_diag_get(list, 0), buf, sizeof buf);
    assert_string_equal(buf, "f.json:2:11: $.c2d.ttl: unknown key");
    json_diag_format(json_diag_get(list, 1), buf, sizeof buf);
    assert_string_equal(buf, "f.json:2:18: $.c2d.ttl: too small");
    json_diag_format(json_diag_get(list, 2), buf, sizeof buf);
    assert_string_equal(buf, "f.json: $.absent: x");
    json_diag_format(json_diag_get(list, 3), buf, sizeof buf);
    assert_string_equal(buf, "f.json: $.c2d: y");
    json_diag_list_free(list);
    json_locate_free(loc);
}

static void test_type_labels(void **state)
{
    (void)state;
    json_t *v[] = { json_object(), json_array(), json_string("s"), json_integer(1), json_real(1.5),
                    json_true(), json_false(), json_null() };
    const char *want[] = { "object", "array", "string", "integer", "number", "boolean", "boolean", "null" };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_string_equal(json_type_label(v[i]), want[i]);
        json_decref(v[i]);
    }
    assert_string_equal(json_type_label(NULL), "nothing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_paths),
        cmocka_unit_test(test_columns_count_characters),
        cmocka_unit_test(test_key_spelling),
        cmocka_unit_test(test_path_buffer_bounds),
        cmocka_unit_test(test_duplicate_key_first_wins),
        cmocka_unit_test(test_malformed_never_crashes),
        cmocka_unit_test(test_deep_nesting_is_capped),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_diag_format_and_sort),
        cmocka_unit_test(test_diag_add_at_looks_up_position),
        cmocka_unit_test(test_type_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
