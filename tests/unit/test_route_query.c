/* Unit tests for the routing query language: lexer, syntax errors with line/column, evaluator, body decoding and cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/route/route_query.h"

static const route_prop_t app_props[] = {
    { "processingPath", "hot" }, { "severity", "3" }, { "nullProp", NULL },
    { "$contentType", "app-shadow" }, { "enqueuedTime", "app-time" }, { "my-prop", "dash" },
};

/* A telemetry message with a UTF-8 JSON body. */
static void make_msg(route_message_t *m, const char *body)
{
    route_message_init(m);
    m->sys[ROUTE_SYS_CONTENT_TYPE] = "application/json";
    m->sys[ROUTE_SYS_CONTENT_ENCODING] = "UTF-8";
    m->sys[ROUTE_SYS_CONNECTION_DEVICE_ID] = "dev1";
    m->app = app_props;
    m->napp = sizeof app_props / sizeof app_props[0];
    m->body = body;
    m->body_len = body ? strlen(body) : 0;
}

static route_tri_t eval_opt(const char *expr, route_message_t *m, const route_options_t *o)
{
    route_query_t *q;
    route_syntax_error_t err;
    hs_err_t e = route_query_compile(expr, o, &q, &err);
    if (e) {
        print_error("compile failed for %s: %d:%d %s\n", expr, err.line, err.column, err.message);
        fail();
    }
    route_tri_t r = route_query_eval(q, m);
    route_query_free(q);
    return r;
}

static route_tri_t eval_body(const char *expr, const char *body)
{
    route_message_t m;
    make_msg(&m, body);
    route_tri_t r = eval_opt(expr, &m, NULL);
    route_message_reset(&m);
    return r;
}

static route_tri_t ev(const char *expr)
{
    return eval_body(expr, "{\"a\":{\"b\":[1,2,{\"c\":\"x\"}],\"n\":null,\"t\":true},\"Temp\":50}");
}

static void expect_syntax(const char *expr, int line, int column, const char *fragment)
{
    route_query_t *q = NULL;
    route_syntax_error_t err;
    hs_err_t e = route_query_compile(expr, NULL, &q, &err);
    if (e != HS_EPARSE) {
        print_error("expected a syntax error for [%s]\n", expr);
        route_query_free(q);
        fail();
    }
    assert_null(q);
    if (err.line != line || err.column != column || !strstr(err.message, fragment)) {
        print_error("[%s]: got %d:%d '%s', want %d:%d '%s'\n", expr, err.line, err.column, err.message,
                    line, column, fragment);
        fail();
    }
}

static void test_literals_and_operators(void **state)
{
    (void)state;
    assert_int_equal(ev("true"), ROUTE_TRUE);
    assert_int_equal(ev("false"), ROUTE_FALSE);
    assert_int_equal(ev("TRUE"), ROUTE_TRUE);
    assert_int_equal(ev("1 = 1"), ROUTE_TRUE);
    assert_int_equal(ev("1 <> 1"), ROUTE_FALSE);
    assert_int_equal(ev("1 != 2"), ROUTE_TRUE);
    assert_int_equal(ev("2 < 3 AND 3 <= 3 AND 4 > 3 AND 3 >= 3"), ROUTE_TRUE);
    assert_int_equal(ev("3 < 3"), ROUTE_FALSE);
    assert_int_equal(ev("2 + 3 * 4 = 14"), ROUTE_TRUE);
    assert_int_equal(ev("(2 + 3) * 4 = 20"), ROUTE_TRUE);
    assert_int_equal(ev("7 % 4 = 3"), ROUTE_TRUE);
    assert_int_equal(ev("7 / 2 = 3.5"), ROUTE_TRUE);
    assert_int_equal(ev("3-4 = -1"), ROUTE_TRUE);
    assert_int_equal(ev("-(1 + 2) = -3"), ROUTE_TRUE);
    assert_int_equal(ev("0x1F = 31"), ROUTE_TRUE);
    assert_int_equal(ev("1e3 = 1000"), ROUTE_TRUE);
    assert_int_equal(ev(".5 = 0.5"), ROUTE_TRUE);
    assert_int_equal(ev("'a' || 'b' = 'ab'"), ROUTE_TRUE);
    assert_int_equal(ev("'it\\'s' = \"it's\""), ROUTE_TRUE);
    assert_int_equal(ev("'\\u00e9' = 'é'"), ROUTE_TRUE);
    assert_int_equal(ev("'\\ud83d\\ude00' = '😀'"), ROUTE_TRUE);
    assert_int_equal(ev("/* comment */ true"), ROUTE_TRUE);
    assert_int_equal(ev("0.1 + 0.2 = 0.3"), ROUTE_FALSE); /* IEEE doubles, exact equality */
}

static void test_three_valued_logic(void **state)
{
    (void)state;
    assert_int_equal(ev("missing = 'x'"), ROUTE_UNDEFINED);
    assert_int_equal(ev("missing = 'x' OR true"), ROUTE_TRUE);
    assert_int_equal(ev("missing = 'x' OR false"), ROUTE_UNDEFINED);
    assert_int_equal(ev("missing = 'x' AND false"), ROUTE_FALSE);
    assert_int_equal(ev("missing = 'x' AND true"), ROUTE_UNDEFINED);
    assert_int_equal(ev("NOT (missing = 'x')"), ROUTE_UNDEFINED);
    assert_int_equal(ev("NOT true"), ROUTE_FALSE);
    assert_int_equal(ev("null"), ROUTE_UNDEFINED);
    assert_int_equal(ev("null = null"), ROUTE_TRUE);
    assert_int_equal(ev("undefined = undefined"), ROUTE_UNDEFINED);
    assert_int_equal(ev("3"), ROUTE_UNDEFINED);
    assert_int_equal(ev("'5' = 5"), ROUTE_UNDEFINED);
    assert_int_equal(ev("severity = 3"), ROUTE_UNDEFINED);
    assert_int_equal(ev("true = 1"), ROUTE_UNDEFINED);
    assert_int_equal(ev("true < false"), ROUTE_UNDEFINED);
    assert_int_equal(ev("'a' + 1 = 1"), ROUTE_UNDEFINED);
}

static void test_not_precedence(void **state)
{
    (void)state;
    /* SQL reading: NOT applies to the whole comparison */
    assert_int_equal(ev("NOT 1 = 2"), ROUTE_TRUE);
    route_options_t o;
    route_options_default(&o);
    o.not_binds_tight = true;
    route_message_t m;
    make_msg(&m, NULL);
    /* (NOT 1) is undefined, so the comparison is undefined */
    assert_int_equal(eval_opt("NOT 1 = 2", &m, &o), ROUTE_UNDEFINED);
    assert_int_equal(eval_opt("NOT false = true", &m, &o), ROUTE_TRUE);
    route_message_reset(&m);
}

static void test_resolution(void **state)
{
    (void)state;
    assert_int_equal(ev("$connectionDeviceId = 'dev1'"), ROUTE_TRUE);
    assert_int_equal(ev("$CONNECTIONDEVICEID = 'dev1'"), ROUTE_TRUE);
    assert_int_equal(ev("$iothub-connection-device-id = 'dev1'"), ROUTE_TRUE);
    assert_int_equal(ev("PROCESSINGPATH = 'hot'"), ROUTE_TRUE);
    /* $contentType exists as a system property: it wins over the app property "$contentType" */
    assert_int_equal(ev("$contentType = 'application/json'"), ROUTE_TRUE);
    assert_int_equal(ev("{$contentType} = 'application/json'"), ROUTE_TRUE);
    /* no system property $processingPath: falls back to... an app property named "$processingPath" */
    assert_int_equal(ev("$processingPath = 'hot'"), ROUTE_UNDEFINED);
    assert_int_equal(ev("{$nosuch} = 'x'"), ROUTE_UNDEFINED);
    assert_int_equal(ev("my-prop = 'dash'"), ROUTE_TRUE);
    /* bare enqueuedTime: the app property first */
    assert_int_equal(ev("enqueuedTime = 'app-time'"), ROUTE_TRUE);
    assert_int_equal(ev("is_null(nullProp)"), ROUTE_TRUE);
    route_options_t o;
    route_options_default(&o);
    o.dollar_app_first = true;
    route_message_t m;
    make_msg(&m, NULL);
    assert_int_equal(eval_opt("$contentType = 'app-shadow'", &m, &o), ROUTE_TRUE);
    assert_int_equal(eval_opt("{$contentType} = 'application/json'", &m, &o), ROUTE_TRUE);
    m.napp = 0;
    m.sys[ROUTE_SYS_ENQUEUED_TIME] = "2017-05-08T18:55:31Z";
    assert_int_equal(eval_opt("enqueuedTime = '2017-05-08T18:55:31Z'", &m, NULL), ROUTE_TRUE);
    o.bare_enqueued_time = false;
    assert_int_equal(eval_opt("enqueuedTime = '2017-05-08T18:55:31Z'", &m, &o), ROUTE_UNDEFINED);
    route_message_reset(&m);
}

static void test_body_paths(void **state)
{
    (void)state;
    assert_int_equal(ev("$body.Temp = 50"), ROUTE_TRUE);
    assert_int_equal(ev("$body.temp = 50"), ROUTE_TRUE); /* case-insensitive after an exact miss */
    assert_int_equal(ev("$body.a.b[1] = 2"), ROUTE_TRUE);
    assert_int_equal(ev("$body.a.b[2].c = 'x'"), ROUTE_TRUE);
    assert_int_equal(ev("$body.a.b[3] = 2"), ROUTE_UNDEFINED);
    assert_int_equal(ev("$body.a.t"), ROUTE_TRUE);
    assert_int_equal(ev("is_null($body.a.n)"), ROUTE_TRUE);
    assert_int_equal(ev("is_defined($body.a.missing)"), ROUTE_FALSE);
    assert_int_equal(ev("is_object($body.a)"), ROUTE_TRUE);
    assert_int_equal(ev("is_array($body.a.b)"), ROUTE_TRUE);
    assert_int_equal(ev("$body[0] = 1"), ROUTE_UNDEFINED);
    assert_int_equal(ev("is_defined($body)"), ROUTE_FALSE);
    assert_int_equal(eval_body("$body.x = 1", "not json"), ROUTE_UNDEFINED);
    assert_int_equal(eval_body("$body.x = 1", NULL), ROUTE_UNDEFINED);
}

static void test_body_gating(void **state)
{
    (void)state;
    route_message_t m;
    make_msg(&m, "{\"x\":1}");
    m.sys[ROUTE_SYS_CONTENT_TYPE] = "text/plain";
    assert_int_equal(eval_opt("$body.x = 1", &m, NULL), ROUTE_UNDEFINED);
    route_message_reset(&m);
    m.sys[ROUTE_SYS_CONTENT_TYPE] = "Application/JSON";
    assert_int_equal(eval_opt("$body.x = 1", &m, NULL), ROUTE_TRUE);
    route_message_reset(&m);
    m.sys[ROUTE_SYS_CONTENT_TYPE] = "application/json; charset=utf-8";
    assert_int_equal(eval_opt("$body.x = 1", &m, NULL), ROUTE_TRUE);
    route_message_reset(&m);
    route_options_t o;
    route_options_default(&o);
    o.content_type_params = false;
    assert_int_equal(eval_opt("$body.x = 1", &m, &o), ROUTE_UNDEFINED);
    route_message_reset(&m);
    m.sys[ROUTE_SYS_CONTENT_TYPE] = "application/json";
    m.sys[ROUTE_SYS_CONTENT_ENCODING] = NULL;
    assert_int_equal(eval_opt("$body.x = 1", &m, NULL), ROUTE_UNDEFINED);
    route_message_reset(&m);
    m.sys[ROUTE_SYS_CONTENT_ENCODING] = "ascii";
    assert_int_equal(eval_opt("$body.x = 1", &m, NULL), ROUTE_UNDEFINED);
    route_message_reset(&m);
    m.sys[ROUTE_SYS_CONTENT_ENCODING] = "utf8";
    assert_int_equal(eval_opt("$body.x = 1", &m, NULL), ROUTE_TRUE);
    route_message_reset(&m);
    o.encoding_aliases = false;
    assert_int_equal(eval_opt("$body.x = 1", &m, &o), ROUTE_UNDEFINED);
    route_message_reset(&m);
}

/* "{"k":"é"}" in UTF-16/32 with and without BOM, both byte orders. */
static void encode(const char *enc, int bom, int be, unsigned char *out, size_t *n)
{
    static const uint32_t cps[] = { '{', '"', 'k', '"', ':', '"', 0xE9, 0x1F600, '"', '}' };
    int wide = strstr(enc, "32") ? 4 : 2;
    size_t at = 0;
    uint32_t units[32];
    size_t nu = 0;
    if (bom)
        units[nu++] = 0xFEFF;
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        if (wide == 2 && cps[i] >= 0x10000) {
            units[nu++] = 0xD800 + ((cps[i] - 0x10000) >> 10);
            units[nu++] = 0xDC00 + ((cps[i] - 0x10000) & 0x3FF);
        } else {
            units[nu++] = cps[i];
        }
    }
    for (size_t i = 0; i < nu; i++)
        for (int k = 0; k < wide; k++) {
            int shift = be ? (wide - 1 - k) * 8 : k * 8;
            out[at++] = (unsigned char)(units[i] >> shift);
        }
    *n = at;
}

static void test_body_encodings(void **state)
{
    (void)state;
    static const struct {
        const char *enc;
        int bom, be;
        route_tri_t want;
    } cases[] = {
        { "UTF-16", 1, 0, ROUTE_TRUE },    { "UTF-16", 1, 1, ROUTE_TRUE },
        { "UTF-16", 0, 0, ROUTE_TRUE },    { "UTF-16", 0, 1, ROUTE_UNDEFINED },
        { "UTF-32", 1, 0, ROUTE_TRUE },    { "UTF-32", 1, 1, ROUTE_TRUE },
        { "UTF-32", 0, 0, ROUTE_TRUE },    { "UTF-32", 0, 1, ROUTE_UNDEFINED },
        { "utf-16le", 0, 0, ROUTE_TRUE },  { "utf-16be", 0, 1, ROUTE_TRUE },
        { "utf-32be", 0, 1, ROUTE_TRUE },  { "utf-32le", 1, 0, ROUTE_TRUE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char buf[256];
        size_t n;
        encode(cases[i].enc, cases[i].bom, cases[i].be, buf, &n);
        route_message_t m;
        make_msg(&m, NULL);
        m.body = buf;
        m.body_len = n;
        m.sys[ROUTE_SYS_CONTENT_ENCODING] = cases[i].enc;
        route_tri_t r = eval_opt("$body.k = 'é😀'", &m, NULL);
        if (r != cases[i].want) {
            print_error("case %zu (%s bom=%d be=%d): got %d\n", i, cases[i].enc, cases[i].bom, cases[i].be, r);
            fail();
        }
        route_message_reset(&m);
    }
    /* the knob flips the no-BOM reading to big-endian */
    unsigned char buf[256];
    size_t n;
    encode("UTF-16", 0, 1, buf, &n);
    route_options_t o;
    route_options_default(&o);
    o.utf_no_bom_big_endian = true;
    route_message_t m;
    make_msg(&m, NULL);
    m.body = buf;
    m.body_len = n;
    m.sys[ROUTE_SYS_CONTENT_ENCODING] = "UTF-16";
    assert_int_equal(eval_opt("$body.k = 'é😀'", &m, &o), ROUTE_TRUE);
    route_message_reset(&m);
    /* an odd byte count or a lone surrogate is not decodable */
    char *out;
    size_t olen;
    assert_int_equal(route_decode_text("\x41", 1, "UTF-16", NULL, &out, &olen), HS_EPARSE);
    assert_int_equal(route_decode_text("\x00\xD8\x41\x00", 4, "UTF-16", NULL, &out, &olen), HS_EPARSE);
    assert_int_equal(route_decode_text("\x00\x00\x11\x00", 4, "UTF-32", NULL, &out, &olen), HS_EPARSE);
    assert_int_equal(route_decode_text("\x00\xD8\x00\x00", 4, "UTF-32", NULL, &out, &olen), HS_EPARSE);
    assert_int_equal(route_decode_text("\xFF\xFF\x10\x00", 4, "UTF-32", NULL, &out, &olen), HS_EOK);
    assert_int_equal(olen, 4); /* U+10FFFF, the last code point */
    free(out);
    assert_int_equal(route_decode_text("\xEF\xBB\xBF{}", 5, "UTF-8", NULL, &out, &olen), HS_EOK);
    assert_int_equal(olen, 2);
    free(out);
}

static void test_body_parsed_once(void **state)
{
    (void)state;
    route_message_t m;
    make_msg(&m, "{\"x\":1,\"y\":2}");
    route_query_t *q1, *q2;
    assert_int_equal(route_query_compile("$body.x = 1 AND $body.y = 2", NULL, &q1, NULL), HS_EOK);
    assert_int_equal(route_query_compile("$body.y = 2", NULL, &q2, NULL), HS_EOK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(route_query_eval(q1, &m), ROUTE_TRUE);
        assert_int_equal(route_query_eval(q2, &m), ROUTE_TRUE);
    }
    assert_int_equal(m.body_parses, 1);
    route_message_reset(&m);
    /* an unparsable body is tried once too */
    make_msg(&m, "{broken");
    for (int i = 0; i < 3; i++)
        assert_int_equal(route_query_eval(q2, &m), ROUTE_UNDEFINED);
    assert_int_equal(m.body_parses, 1);
    assert_int_equal(route_query_eval_errors(q2), 3);
    route_message_reset(&m);
    route_query_free(q1);
    route_query_free(q2);
}

static void test_twin(void **state)
{
    (void)state;
    json_t *twin = json_loads("{\"tags\":{\"loc\":{\"floor\":\"1\"}},\"properties\":{\"desired\":"
                              "{\"cfg\":{\"freq\":\"5m\"}},\"reported\":{\"battery\":55}}}", 0, NULL);
    route_message_t m;
    make_msg(&m, NULL);
    assert_int_equal(eval_opt("$twin.tags.loc.floor = '1'", &m, NULL), ROUTE_UNDEFINED); /* no twin */
    m.twin = twin;
    assert_int_equal(eval_opt("$twin.tags.loc.floor = '1'", &m, NULL), ROUTE_TRUE);
    assert_int_equal(eval_opt("$twin.TAGS.Loc.FLOOR = '1'", &m, NULL), ROUTE_TRUE);
    assert_int_equal(eval_opt("$twin.properties.desired.cfg.freq = '5m'", &m, NULL), ROUTE_TRUE);
    assert_int_equal(eval_opt("$twin.properties.reported.battery > 50", &m, NULL), ROUTE_TRUE);
    assert_int_equal(eval_opt("$twin.tags.loc.floor = 1", &m, NULL), ROUTE_UNDEFINED);
    route_options_t o;
    route_options_default(&o);
    o.coerce_numeric_strings = true;
    assert_int_equal(eval_opt("$twin.tags.loc.floor = 1", &m, &o), ROUTE_TRUE);
    route_message_reset(&m);
    json_decref(twin);
}

static void test_functions(void **state)
{
    (void)state;
    const char *t[] = {
        "abs(-2) = 2", "exp(0) = 1", "power(2, 10) = 1024", "square(3) = 9", "floor(-2.5) = -3",
        "ceiling(2.1) = 3", "sign(-4) = -1", "sqrt(16) = 4", "length('abc') = 3",
        "concat('a', 'b', 'c') = 'abc'", "lower('AbC') = 'abc'", "upper('aBc') = 'ABC'",
        "substring('hello', 1) = 'ello'", "substring('hello', 1, 3) = 'ell'",
        "substring('hello', 4, 10) = 'o'", "index_of('abcdef', 'cd') = 2", "index_of('abc', 'z') = -1",
        "starts_with('abc', 'ab')", "ends_with('abc', 'bc')", "contains('abc', 'b')",
        "is_defined(processingPath)", "is_null(null)", "is_bool(false)", "is_number(1.5)",
        "is_string('x')", "as_number('12.5') = 12.5", "is_primitive(1)", "NOT is_primitive($body.a)",
        "LENGTH('é') = 1", "length('😀') = 2", "lower('ÀÉÎ') = 'àéî'", "upper('αβγ') = 'ΑΒΓ'",
        "lower('ЖЁ') = 'жё'", "index_of('é😀x', 'x') = 3", "substring('😀ab', 2) = 'ab'",
        "'b' > 'a'", "'é' > 'z'", "is_defined(3 / 0)", "NOT is_number(3 / 0)",
        "NOT is_defined(3 % 0)", "NOT is_defined(sqrt(-1))", "NOT is_defined(substring('abc', 4))",
        "substring('abc', 3) = ''", "NOT is_defined(substring('abc', -1))", "NOT is_defined(as_number('x'))",
        "NOT is_defined(as_number('0x10'))", "is_defined(null)", "concat('a', nullProp) = 'a'",
        "NOT is_defined(length(5))", "NOT is_defined(abs('x'))",
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        route_tri_t r = ev(t[i]);
        if (r != ROUTE_TRUE) {
            print_error("[%s] gave %s\n", t[i], route_tri_name(r));
            fail();
        }
    }
    route_options_t o;
    route_options_default(&o);
    o.length_utf16_units = false;
    route_message_t m;
    make_msg(&m, NULL);
    assert_int_equal(eval_opt("length('😀') = 1", &m, &o), ROUTE_TRUE);
    o.div_by_zero_undefined = true;
    assert_int_equal(eval_opt("is_defined(1 / 0)", &m, &o), ROUTE_FALSE);
    o.null_is_defined = false;
    assert_int_equal(eval_opt("is_defined(null)", &m, &o), ROUTE_FALSE);
    route_message_reset(&m);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_syntax("a = ", 1, 5, "end of expression");
    expect_syntax("a = 'x", 1, 5, "unterminated string");
    expect_syntax("a = 'x' AND\n  b = @", 2, 7, "unexpected character");
    expect_syntax("(a = 1", 1, 7, "expected ')'");
    expect_syntax("a = 1)", 1, 6, "after the end");
    expect_syntax("nosuch(1)", 1, 1, "unknown function");
    expect_syntax("x = length(1, 2)", 1, 5, "takes 1 argument");
    expect_syntax("substring('a')", 1, 1, "takes 2 to 3");
    expect_syntax("concat('a')", 1, 1, "at least 2");
    expect_syntax("a == 1", 1, 3, "'=='");
    expect_syntax("a ! b", 1, 3, "'!'");
    expect_syntax("'\\n' = 'x'", 1, 2, "invalid escape");
    expect_syntax("'\\ud800' = 'x'", 1, 2, "surrogate");
    expect_syntax("é = 1 AND 3x = 1", 1, 11, "invalid number");
    expect_syntax("$body.a[x] = 1", 1, 8, "array index");
    expect_syntax("$body.a..b = 1", 1, 9, "empty name");
    expect_syntax("a[0] = 1", 1, 2, "'['");
    expect_syntax("$body. = 1", 1, 6, "end with '.'");
    expect_syntax("$twin.tags. = 1", 1, 11, "end with '.'");
    expect_syntax("{processingPath} = 'x'", 1, 2, "$system");
    expect_syntax("1 /* open", 1, 3, "unterminated comment");
    expect_syntax("a = 1 OR", 1, 9, "end of expression");
    /* is_array is a [?] function: gone when the knob is off */
    route_options_t o;
    route_options_default(&o);
    o.extended_type_functions = false;
    route_query_t *q = NULL;
    assert_int_equal(route_query_compile("is_array(x)", &o, &q, NULL), HS_EPARSE);
    o.literals_case_insensitive = false;
    assert_int_equal(route_query_compile("TRUE", &o, &q, NULL), HS_EOK);
    route_message_t m;
    make_msg(&m, NULL);
    assert_int_equal(route_query_eval(q, &m), ROUTE_UNDEFINED); /* an app property named TRUE */
    route_query_free(q);
}

static void test_limits(void **state)
{
    (void)state;
    /* 199 nested parentheses are fine, 250 are not; a 3000-clause chain is too deep */
    char buf[8192];
    size_t n = 0;
    for (int i = 0; i < 150; i++)
        buf[n++] = '(';
    buf[n++] = '1';
    for (int i = 0; i < 150; i++)
        buf[n++] = ')';
    memcpy(buf + n, " = 1", 5);
    assert_int_equal(ev(buf), ROUTE_TRUE);
    n = 0;
    for (int i = 0; i < 250; i++)
        buf[n++] = '(';
    buf[n++] = '1';
    buf[n] = 0;
    route_query_t *q = NULL;
    route_syntax_error_t err;
    assert_int_equal(route_query_compile(buf, NULL, &q, &err), HS_EPARSE);
    assert_non_null(strstr(err.message, "deeply"));
    n = 0;
    for (int i = 0; i < 1000; i++) {
        memcpy(buf + n, "1=1 AND ", 8);
        n += 8;
    }
    memcpy(buf + n, "true", 5);
    assert_int_equal(route_query_compile(buf, NULL, &q, &err), HS_EPARSE);
}

static void test_empty_condition(void **state)
{
    (void)state;
    assert_int_equal(ev(""), ROUTE_TRUE);
    assert_int_equal(ev("   \n "), ROUTE_TRUE);
    route_options_t o;
    route_options_default(&o);
    o.empty_condition_true = false;
    route_message_t m;
    make_msg(&m, NULL);
    assert_int_equal(eval_opt("", &m, &o), ROUTE_UNDEFINED);
    route_message_reset(&m);
}

static void test_explain(void **state)
{
    (void)state;
    route_message_t m;
    make_msg(&m, NULL);
    route_query_t *q;
    assert_int_equal(route_query_compile("processingPath = 'hot' OR missing", NULL, &q, NULL), HS_EOK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(route_query_explain(q, &m, f), ROUTE_TRUE);
    fclose(f);
    assert_non_null(strstr(buf, "processingPath  =>  'hot'"));
    assert_non_null(strstr(buf, "missing  =>  (not evaluated)"));
    free(buf);
    route_query_free(q);
}

static void test_options_json(void **state)
{
    (void)state;
    route_options_t o;
    route_options_default(&o);
    char err[128];
    json_t *j = json_loads("{\"dollarAppFirst\":true,\"coerceNumericStrings\":true}", 0, NULL);
    assert_int_equal(route_options_from_json(&o, j, err, sizeof err), HS_EOK);
    assert_true(o.dollar_app_first);
    assert_true(o.coerce_numeric_strings);
    json_decref(j);
    j = json_loads("{\"dollarAppFirst\":false,\"nope\":true}", 0, NULL);
    assert_int_equal(route_options_from_json(&o, j, err, sizeof err), HS_EPARSE);
    assert_true(o.dollar_app_first); /* unchanged on error */
    assert_non_null(strstr(err, "nope"));
    json_decref(j);
    j = json_loads("{\"dollarAppFirst\":1}", 0, NULL);
    assert_int_equal(route_options_from_json(&o, j, err, sizeof err), HS_EPARSE);
    json_decref(j);
}

static void test_options_from_hub(void **state)
{
    (void)state;
    route_options_t o;
    route_options_default(&o);
    char err[160];
    json_t *hub = json_loads("{\"name\":\"h\",\"routeQuery\":{\"bareDollarName\":\"appFirst\",\"typeFunctions\":false},"
                             "\"routing\":{\"options\":{\"coerceNumericStrings\":true}}}", 0, NULL);
    assert_int_equal(route_options_from_hub_json(&o, hub, err, sizeof err), HS_EOK);
    assert_true(o.dollar_app_first);
    assert_false(o.extended_type_functions);
    assert_true(o.coerce_numeric_strings);
    json_decref(hub);
    hub = json_loads("{\"routeQuery\":{\"bareDollarName\":\"sideways\"}}", 0, NULL);
    route_options_default(&o);
    assert_int_equal(route_options_from_hub_json(&o, hub, err, sizeof err), HS_EPARSE);
    assert_false(o.dollar_app_first);
    json_decref(hub);
}

/* The schema's option keys are exactly the loader's, and its defaults are the code's. */
static void test_schema_matches_options(void **state)
{
    (void)state;
    const char *src = getenv("HUBSIM_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/sim/route/routing.schema.json", src ? src : ".");
    json_t *schema = json_load_file(path, 0, NULL);
    assert_non_null(schema);
    json_t *props = json_object_get(json_object_get(json_object_get(schema, "properties"), "options"), "properties");
    assert_true(json_object_size(props) >= 14);
    const char *key;
    json_t *val;
    char err[160];
    json_object_foreach(props, key, val) {
        route_options_t def, o;
        route_options_default(&def);
        route_options_default(&o);
        json_t *one = json_pack("{s:O}", key, json_object_get(val, "default"));
        if (route_options_from_json(&o, one, err, sizeof err) != HS_EOK) {
            print_error("schema option %s not accepted: %s\n", key, err);
            fail();
        }
        if (memcmp(&o, &def, sizeof o)) {
            print_error("schema default of %s differs from route_options_default\n", key);
            fail();
        }
        /* and the opposite value changes something: the key is wired */
        json_object_set_new(one, key, json_boolean(!json_is_true(json_object_get(val, "default"))));
        assert_int_equal(route_options_from_json(&o, one, err, sizeof err), HS_EOK);
        assert_memory_not_equal(&o, &def, sizeof o);
        json_decref(one);
    }
    json_decref(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals_and_operators),
        cmocka_unit_test(test_three_valued_logic),
        cmocka_unit_test(test_not_precedence),
        cmocka_unit_test(test_resolution),
        cmocka_unit_test(test_body_paths),
        cmocka_unit_test(test_body_gating),
        cmocka_unit_test(test_body_encodings),
        cmocka_unit_test(test_body_parsed_once),
        cmocka_unit_test(test_twin),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_empty_condition),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_options_json),
        cmocka_unit_test(test_options_from_hub),
        cmocka_unit_test(test_schema_matches_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
