/* Tests of twin documents: versions and etag, merge patch, metadata, If-Match, replace, and every limit at and over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "sim/hub/twin_doc.h"
#include "sim/rng.h"

#define SEC ((sim_time_t)1000000000)

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return v;
}

static hub_twin_op_t op_at(sim_time_t now, const char *if_match)
{
    hub_twin_op_t op = { .limits = NULL, .epoch_unix = SIM_DEFAULT_EPOCH_UNIX, .now = now,
                         .if_match = if_match };
    return op;
}

/* Patch a section from JSON text; returns the error and clears the change. */
static hub_err_t patch_txt(hub_twin_t *t, hub_twin_section_t s, const char *txt, const char *if_match)
{
    json_t *p = J(txt);
    hub_twin_op_t op = op_at(SEC, if_match);
    hub_twin_change_t ch;
    hub_err_t e = hub_twin_patch_section(t, &op, s, p, &ch);
    hub_twin_change_clear(&ch);
    json_decref(p);
    return e;
}

static char *str_of(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_new_twin_versions_and_etag(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    assert_non_null(t);
    assert_int_equal(hub_twin_version(t), 1);
    assert_int_equal(hub_twin_section_version(t, HUB_TWIN_DESIRED), 1);
    assert_int_equal(hub_twin_section_version(t, HUB_TWIN_REPORTED), 1);
    char etag[HUB_TWIN_ETAG_CAP];
    hub_twin_etag(t, etag);
    assert_string_equal(etag, "AAAAAAAAAAE=");
    json_t *d = hub_twin_device_json(t);
    char *txt = json_dumps(d, JSON_COMPACT);
    assert_string_equal(txt, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
    free(txt);
    json_decref(d);
    hub_twin_free(t);
    hub_twin_free(NULL);
}

static void test_reported_patch_versions_metadata(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    json_t *p = J("{\"fw\":\"1.0\",\"net\":{\"rssi\":-60,\"up\":true}}");
    hub_twin_op_t op = op_at(90 * SEC, NULL);
    hub_twin_change_t ch;
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_REPORTED, p, &ch), HUB_EOK);
    json_decref(p);
    assert_int_equal(ch.changed, HUB_TWIN_BIT(HUB_TWIN_REPORTED));
    assert_int_equal(ch.version, 2);
    assert_int_equal(ch.reported_version, 2);
    assert_int_equal(ch.desired_version, 1);
    assert_false(ch.replaced);
    assert_int_equal(json_integer_value(json_object_get(ch.patch[HUB_TWIN_REPORTED], "$version")), 2);
    hub_twin_change_clear(&ch);
    char etag[HUB_TWIN_ETAG_CAP];
    hub_twin_etag(t, etag);
    assert_string_equal(etag, "AAAAAAAAAAI=");
    json_t *svc = hub_twin_service_json(t, "dev-1", NULL);
    json_t *rep = json_object_get(json_object_get(svc, "properties"), "reported");
    assert_int_equal(json_integer_value(json_object_get(rep, "$version")), 2);
    json_t *meta = json_object_get(rep, "$metadata");
    assert_string_equal(json_string_value(json_object_get(meta, "$lastUpdated")),
                        "2026-01-01T00:01:30.0000000Z");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(meta, "net"), "rssi"), "$lastUpdated")),
                        "2026-01-01T00:01:30.0000000Z");
    assert_null(json_object_get(json_object_get(meta, "fw"), "$lastUpdatedVersion"));
    assert_string_equal(json_string_value(json_object_get(svc, "etag")), "AAAAAAAAAAI=");
    assert_int_equal(json_integer_value(json_object_get(svc, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(svc, "deviceId")), "dev-1");
    assert_null(json_object_get(svc, "moduleId"));
    json_decref(svc);
    /* Second patch: version 3, reported 3; metadata untouched for fw. */
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "{\"net\":{\"rssi\":-70}}", NULL), HUB_EOK);
    assert_int_equal(hub_twin_version(t), 3);
    assert_int_equal(hub_twin_section_version(t, HUB_TWIN_REPORTED), 3);
    hub_twin_free(t);
}

static void test_merge_null_deletes(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[1,2]}", NULL), HUB_EOK);
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "{\"a\":null,\"b\":{\"c\":null,\"x\":{\"y\":null}},\"e\":[3]}", NULL), HUB_EOK);
    char *txt = json_dumps(hub_twin_section(t, HUB_TWIN_REPORTED), JSON_COMPACT);
    assert_string_equal(txt, "{\"b\":{\"d\":3,\"x\":{}},\"e\":[3]}");
    free(txt);
    json_t *svc = hub_twin_service_json(t, "d", "m1");
    json_t *meta = json_object_get(json_object_get(json_object_get(svc, "properties"), "reported"), "$metadata");
    assert_null(json_object_get(meta, "a"));
    assert_null(json_object_get(json_object_get(meta, "b"), "c"));
    assert_non_null(json_object_get(json_object_get(meta, "b"), "d"));
    assert_string_equal(json_string_value(json_object_get(svc, "moduleId")), "m1");
    json_decref(svc);
    /* Read-only root keys are ignored, nested ones are not keys you may write. */
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "{\"$version\":99,\"$metadata\":{},\"k\":1}", NULL), HUB_EOK);
    assert_int_equal(hub_twin_section_version(t, HUB_TWIN_REPORTED), 4);
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "{\"k\":{\"$v\":1}}", NULL), HUB_EARGUMENT_INVALID);
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "[1]", NULL), HUB_EARGUMENT_INVALID);
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "\"x\"", NULL), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_twin_section_version(t, HUB_TWIN_REPORTED), 4);
    hub_twin_free(t);
}

static void test_if_match_412(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    assert_int_equal(patch_txt(t, HUB_TWIN_DESIRED, "{\"a\":1}", "\"AAAAAAAAAAE=\""), HUB_EOK);
    assert_int_equal(hub_twin_version(t), 2);
    /* the old etag no longer matches */
    json_t *p = J("{\"a\":2}");
    hub_twin_op_t op = op_at(SEC, "AAAAAAAAAAE=");
    hub_twin_change_t ch;
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_DESIRED, p, &ch), HUB_EPRECONDITION_FAILED);
    assert_int_equal(hub_error_info(HUB_EPRECONDITION_FAILED)->http_status, 412);
    assert_non_null(strstr(ch.error, "AAAAAAAAAAI="));
    assert_int_equal(ch.changed, 0);
    hub_twin_change_clear(&ch);
    assert_int_equal(hub_twin_version(t), 2);
    assert_int_equal(json_integer_value(json_object_get(hub_twin_section(t, HUB_TWIN_DESIRED), "a")), 1);
    /* the current one, quoted or not, and "*" */
    op.if_match = "AAAAAAAAAAI=";
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_DESIRED, p, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    op.if_match = "\"AAAAAAAAAAM=\"";
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_DESIRED, p, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    op.if_match = "*";
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_DESIRED, p, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    op.if_match = "\"\"";
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_DESIRED, p, &ch), HUB_EPRECONDITION_FAILED);
    hub_twin_change_clear(&ch);
    json_decref(p);
    /* service-level update obeys If-Match too */
    json_t *u = J("{\"tags\":{\"site\":\"x\"}}");
    op.if_match = "AAAAAAAAAAE=";
    assert_int_equal(hub_twin_update(t, &op, u, &ch), HUB_EPRECONDITION_FAILED);
    hub_twin_change_clear(&ch);
    json_decref(u);
    hub_twin_free(t);
}

static void test_service_update_tags_and_desired(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    json_t *u = J("{\"deviceId\":\"ignored\",\"tags\":{\"site\":\"b12\"},\"properties\":{\"desired\":{\"rate\":5}}}");
    hub_twin_op_t op = op_at(2 * SEC, NULL);
    hub_twin_change_t ch;
    assert_int_equal(hub_twin_update(t, &op, u, &ch), HUB_EOK);
    json_decref(u);
    assert_int_equal(ch.changed, HUB_TWIN_BIT(HUB_TWIN_TAGS) | HUB_TWIN_BIT(HUB_TWIN_DESIRED));
    assert_int_equal(ch.version, 2); /* one change, one version */
    assert_int_equal(ch.desired_version, 2);
    char *txt = json_dumps(ch.patch[HUB_TWIN_DESIRED], JSON_COMPACT);
    assert_string_equal(txt, "{\"rate\":5,\"$version\":2}");
    free(txt);
    json_t *ev = hub_twin_change_event_body(&ch);
    txt = json_dumps(ev, JSON_COMPACT);
    assert_string_equal(txt, "{\"version\":2,\"tags\":{\"site\":\"b12\"},\"properties\":{\"desired\":{\"rate\":5,\"$version\":2}}}");
    free(txt);
    json_decref(ev);
    hub_twin_change_clear(&ch);
    json_t *svc = hub_twin_service_json(t, "d", NULL);
    json_t *dm = json_object_get(json_object_get(json_object_get(svc, "properties"), "desired"), "$metadata");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(dm, "rate"), "$lastUpdatedVersion")), 2);
    json_decref(svc);
    /* The service cannot write reported; nothing changes. */
    u = J("{\"tags\":{\"a\":1},\"properties\":{\"reported\":{\"x\":1}}}");
    assert_int_equal(hub_twin_update(t, &op, u, &ch), HUB_EARGUMENT_INVALID);
    hub_twin_change_clear(&ch);
    json_decref(u);
    assert_int_equal(hub_twin_version(t), 2);
    /* Atomic: a bad desired leaves tags alone too. */
    u = J("{\"tags\":{\"a\":1},\"properties\":{\"desired\":{\"bad.key\":1}}}");
    assert_int_equal(hub_twin_update(t, &op, u, &ch), HUB_EARGUMENT_INVALID);
    assert_non_null(strstr(ch.error, "desired.bad.key"));
    hub_twin_change_clear(&ch);
    json_decref(u);
    assert_null(json_object_get(hub_twin_section(t, HUB_TWIN_TAGS), "a"));
    hub_twin_free(t);
}

static void test_replace(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, "{\"r\":1}", NULL), HUB_EOK);
    assert_int_equal(patch_txt(t, HUB_TWIN_TAGS, "{\"old\":1}", NULL), HUB_EOK);
    assert_int_equal(patch_txt(t, HUB_TWIN_DESIRED, "{\"d1\":1}", NULL), HUB_EOK);
    json_t *doc = J("{\"properties\":{\"desired\":{\"d2\":2,\"$version\":77,\"gone\":null}}}");
    hub_twin_op_t op = op_at(3 * SEC, NULL);
    hub_twin_change_t ch;
    assert_int_equal(hub_twin_replace(t, &op, doc, &ch), HUB_EOK);
    json_decref(doc);
    assert_true(ch.replaced);
    assert_int_equal(ch.version, 5);
    char *txt = json_dumps(hub_twin_section(t, HUB_TWIN_DESIRED), JSON_COMPACT);
    assert_string_equal(txt, "{\"d2\":2}");
    free(txt);
    assert_int_equal(json_object_size(hub_twin_section(t, HUB_TWIN_TAGS)), 0);
    assert_int_equal(json_integer_value(json_object_get(hub_twin_section(t, HUB_TWIN_REPORTED), "r")), 1);
    assert_int_equal(hub_twin_section_version(t, HUB_TWIN_DESIRED), 3);
    hub_twin_change_clear(&ch);
    /* Replace one section; PATCH with "tags": null empties tags. */
    doc = J("{\"x\":true}");
    assert_int_equal(hub_twin_replace_section(t, &op, HUB_TWIN_REPORTED, doc, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    json_decref(doc);
    txt = json_dumps(hub_twin_section(t, HUB_TWIN_REPORTED), JSON_COMPACT);
    assert_string_equal(txt, "{\"x\":true}");
    free(txt);
    assert_int_equal(patch_txt(t, HUB_TWIN_TAGS, "{\"t\":1}", NULL), HUB_EOK);
    doc = J("{\"tags\":null}");
    assert_int_equal(hub_twin_update(t, &op, doc, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    json_decref(doc);
    assert_int_equal(json_object_size(hub_twin_section(t, HUB_TWIN_TAGS)), 0);
    hub_twin_free(t);
}

static void test_size_rule_literals(void **state)
{
    (void)state;
    /* keys and strings in UTF-8 characters, numbers 8, booleans 4, objects the sum */
    json_t *v = J("{\"ab\":\"xyz\",\"n\":1,\"f\":2.5,\"b\":true,\"o\":{\"k\":false}}");
    assert_int_equal(hub_twin_json_size(v), (2 + 3) + (1 + 8) + (1 + 8) + (1 + 4) + (1 + (1 + 4)));
    json_decref(v);
    v = J("{\"\\u00e9t\\u00e9\":\"caf\\u00e9\\u0001\\u0085\"}"); /* été: 3, café + C0 + C1: 4 */
    assert_int_equal(hub_twin_json_size(v), 3 + 4);
    json_decref(v);
    v = J("{\"a\":[1,\"xy\",true]}");
    assert_int_equal(hub_twin_json_size(v), 1 + 8 + 2 + 4);
    json_decref(v);
}

/* A section of n keys "a","b",... each with a string of len chars: size n*(1+len). */
static json_t *filled(int n, size_t len, size_t last_len)
{
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        char k[2] = { (char)('a' + i), 0 };
        char *s = str_of('v', i == n - 1 ? last_len : len);
        json_object_set_new(o, k, json_string(s));
        free(s);
    }
    return o;
}

static void section_limit_case(hub_twin_section_t s, int keys, size_t total)
{
    /* keys*(1+4095) == total exactly; one more character is over */
    assert_int_equal((size_t)keys * 4096, total);
    hub_twin_t *t = hub_twin_new();
    hub_twin_op_t op = op_at(SEC, NULL);
    hub_twin_change_t ch;
    json_t *ok = filled(keys, 4095, 4095);
    assert_int_equal(hub_twin_json_size(ok), total);
    assert_int_equal(hub_twin_patch_section(t, &op, s, ok, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    json_t *over = filled(keys, 4095, 4096);
    assert_int_equal(hub_twin_json_size(over), total + 1);
    assert_int_equal(hub_twin_patch_section(t, &op, s, over, &ch), HUB_EARGUMENT_INVALID);
    assert_non_null(strstr(ch.error, "exceeds"));
    hub_twin_change_clear(&ch);
    /* section unchanged */
    assert_true(json_equal((json_t *)hub_twin_section(t, s), ok));
    assert_int_equal(hub_twin_version(t), 2);
    /* a patch that would push it over by one key is refused too */
    json_t *more = J("{\"zz\":1}");
    assert_int_equal(hub_twin_patch_section(t, &op, s, more, &ch), HUB_EARGUMENT_INVALID);
    hub_twin_change_clear(&ch);
    json_decref(more);
    json_decref(ok);
    json_decref(over);
    hub_twin_free(t);
}

static void test_tags_8k(void **state)
{
    (void)state;
    section_limit_case(HUB_TWIN_TAGS, 2, 8192);
}

static void test_desired_and_reported_32k(void **state)
{
    (void)state;
    section_limit_case(HUB_TWIN_DESIRED, 8, 32768);
    section_limit_case(HUB_TWIN_REPORTED, 8, 32768);
}

static void test_depth_10(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    /* The documented example: one..ten nested under desired is legal. */
    const char *ten = "{\"one\":{\"two\":{\"three\":{\"four\":{\"five\":{\"six\":{\"seven\":{\"eight\":"
                      "{\"nine\":{\"ten\":{\"property\":\"value\"}}}}}}}}}}}";
    assert_int_equal(patch_txt(t, HUB_TWIN_DESIRED, ten, NULL), HUB_EOK);
    const char *eleven = "{\"one\":{\"two\":{\"three\":{\"four\":{\"five\":{\"six\":{\"seven\":{\"eight\":"
                         "{\"nine\":{\"ten\":{\"eleven\":{\"property\":\"value\"}}}}}}}}}}}}";
    assert_int_equal(patch_txt(t, HUB_TWIN_REPORTED, eleven, NULL), HUB_EARGUMENT_INVALID);
    /* merging one more level into the legal tree is refused as well */
    assert_int_equal(patch_txt(t, HUB_TWIN_DESIRED,
                               "{\"one\":{\"two\":{\"three\":{\"four\":{\"five\":{\"six\":{\"seven\":{\"eight\":"
                               "{\"nine\":{\"ten\":{\"x\":{}}}}}}}}}}}}", NULL),
                     HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_twin_version(t), 2);
    hub_twin_free(t);
}

static void test_key_rules(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    char *k1024 = str_of('k', 1024);
    char *k1025 = str_of('k', 1025);
    json_t *p = json_object();
    json_object_set_new(p, k1024, json_integer(1));
    hub_twin_op_t op = op_at(SEC, NULL);
    hub_twin_change_t ch;
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_REPORTED, p, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    json_decref(p);
    p = json_object();
    json_object_set_new(p, k1025, json_integer(1));
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_REPORTED, p, &ch), HUB_EARGUMENT_INVALID);
    hub_twin_change_clear(&ch);
    json_decref(p);
    free(k1024);
    free(k1025);
    const char *bad[] = { "{\"a.b\":1}", "{\"a$b\":1}", "{\"a b\":1}", "{\"a\\u0001b\":1}",
                          "{\"a\\u001fb\":1}", "{\"a\\u0085b\":1}", "{\"\":1}", "{\"x\":{\"a.b\":1}}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(patch_txt(t, HUB_TWIN_TAGS, bad[i], NULL), HUB_EARGUMENT_INVALID);
    assert_int_equal(patch_txt(t, HUB_TWIN_TAGS, "{\"a-b_c\\u00e9~\":1}", NULL), HUB_EOK);
    assert_int_equal(hub_twin_version(t), 3);
    hub_twin_free(t);
}

static void test_string_value_4k(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    hub_twin_op_t op = op_at(SEC, NULL);
    hub_twin_change_t ch;
    char *s = str_of('s', 4096);
    json_t *p = json_pack("{s:s}", "v", s);
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_DESIRED, p, &ch), HUB_EOK);
    hub_twin_change_clear(&ch);
    json_decref(p);
    free(s);
    s = str_of('s', 4097);
    p = json_pack("{s:[s]}", "v", s);
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_DESIRED, p, &ch), HUB_EARGUMENT_INVALID);
    assert_non_null(strstr(ch.error, "desired.v[0]"));
    hub_twin_change_clear(&ch);
    json_decref(p);
    free(s);
    /* Limits follow the KB knob. */
    hub_twin_limits_t l;
    hub_twin_limits_default(&l, 1000);
    assert_int_equal(l.string_max_bytes, 4000);
    assert_int_equal(l.max_bytes[HUB_TWIN_TAGS], 8000);
    assert_int_equal(l.key_max_bytes, 1000);
    hub_twin_free(t);
}

static void test_bad_input(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    hub_twin_op_t op = op_at(SEC, NULL);
    hub_twin_change_t ch;
    json_t *p = J("{\"a\":1}");
    assert_int_equal(hub_twin_patch_section(NULL, &op, HUB_TWIN_TAGS, p, &ch), HUB_EARGUMENT_NULL);
    assert_int_equal(hub_twin_patch_section(t, NULL, HUB_TWIN_TAGS, p, &ch), HUB_EARGUMENT_NULL);
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_TAGS, NULL, &ch), HUB_EARGUMENT_NULL);
    assert_int_equal(hub_twin_patch_section(t, &op, (hub_twin_section_t)7, p, &ch), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_twin_patch_section(t, &op, HUB_TWIN_TAGS, p, NULL), HUB_EOK);
    json_decref(p);
    const char *bad[] = { "[]", "{\"properties\":5}", "{\"tags\":[1]}", "{\"properties\":{\"desired\":\"x\"}}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = J(bad[i]);
        assert_int_equal(hub_twin_update(t, &op, p, &ch), HUB_EARGUMENT_INVALID);
        assert_true(ch.error[0] != '\0');
        hub_twin_change_clear(&ch);
        assert_int_equal(hub_twin_replace(t, &op, p, &ch), HUB_EARGUMENT_INVALID);
        hub_twin_change_clear(&ch);
        json_decref(p);
    }
    assert_int_equal(hub_twin_version(t), 2);
    assert_null(hub_twin_section(t, (hub_twin_section_t)3));
    assert_null(hub_twin_section_name((hub_twin_section_t)3));
    assert_int_equal(hub_twin_section_version(t, HUB_TWIN_TAGS), 0);
    assert_null(hub_twin_device_json(NULL));
    assert_null(hub_twin_service_json(NULL, "d", NULL));
    hub_twin_change_clear(NULL);
    hub_twin_free(t);
}

/* A random JSON value of bounded depth with keys from a small alphabet that includes
 * forbidden characters, long strings and nulls. */
static json_t *rand_value(sim_rng_t *r, int depth)
{
    switch (sim_rng_below(r, depth > 12 ? 4 : 7)) {
    case 0: return json_integer((json_int_t)sim_rng_below(r, 1000));
    case 1: return json_true();
    case 2: return json_null();
    case 3: {
        size_t n = sim_rng_below(r, 8) == 0 ? 3000 + sim_rng_below(r, 2000) : sim_rng_below(r, 20);
        char *s = str_of('s', n);
        json_t *v = json_string(s);
        free(s);
        return v;
    }
    case 4: {
        json_t *a = json_array();
        size_t n = sim_rng_below(r, 3);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, rand_value(r, depth + 1));
        return a;
    }
    default: {
        static const char *const keys[] = { "a", "b", "c", "d", "e", "x.y", "$z", "sp ace", "\xc3\xa9" };
        json_t *o = json_object();
        size_t n = sim_rng_below(r, 4);
        for (size_t i = 0; i < n; i++) {
            size_t ki = sim_rng_below(r, 20) == 0 ? 5 + sim_rng_below(r, 4) : sim_rng_below(r, 5);
            json_object_set_new(o, keys[ki], rand_value(r, depth + 1));
        }
        return o;
    }
    }
}

static void test_random_patches_keep_invariants(void **state)
{
    (void)state;
    hub_twin_t *t = hub_twin_new();
    sim_rng_t r;
    sim_rng_init(&r, 11, 2);
    hub_twin_limits_t lim;
    hub_twin_limits_default(&lim, 1024);
    int ok = 0, refused = 0;
    for (int i = 0; i < 3000; i++) {
        hub_twin_section_t s = (hub_twin_section_t)sim_rng_below(&r, 3);
        json_t *p = json_object();
        size_t n = 1 + sim_rng_below(&r, 4);
        for (size_t j = 0; j < n; j++) {
            char k[4] = { (char)('a' + sim_rng_below(&r, 5)), 0 };
            json_object_set_new(p, k, rand_value(&r, 1));
        }
        json_t *before = json_deep_copy(hub_twin_section(t, s));
        uint64_t v0 = hub_twin_version(t);
        hub_twin_op_t op = op_at((sim_time_t)i * SEC, NULL);
        hub_twin_change_t ch;
        hub_err_t e = hub_twin_patch_section(t, &op, s, p, &ch);
        if (e == HUB_EOK) {
            ok++;
            assert_int_equal(hub_twin_version(t), v0 + 1);
            assert_int_equal(hub_twin_check_section(hub_twin_section(t, s), s, &lim, NULL, 0), HUB_EOK);
        } else {
            refused++;
            assert_int_equal(e, HUB_EARGUMENT_INVALID);
            assert_int_equal(hub_twin_version(t), v0);
            assert_true(json_equal(before, (json_t *)hub_twin_section(t, s)));
        }
        hub_twin_change_clear(&ch);
        json_decref(before);
        json_decref(p);
        json_t *svc = hub_twin_service_json(t, "d", NULL);
        assert_non_null(svc);
        json_decref(svc);
    }
    assert_true(ok > 100);
    assert_true(refused > 100);
    hub_twin_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_twin_versions_and_etag),
        cmocka_unit_test(test_reported_patch_versions_metadata),
        cmocka_unit_test(test_merge_null_deletes),
        cmocka_unit_test(test_if_match_412),
        cmocka_unit_test(test_service_update_tags_and_desired),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_size_rule_literals),
        cmocka_unit_test(test_tags_8k),
        cmocka_unit_test(test_desired_and_reported_32k),
        cmocka_unit_test(test_depth_10),
        cmocka_unit_test(test_key_rules),
        cmocka_unit_test(test_string_value_4k),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_random_patches_keep_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
