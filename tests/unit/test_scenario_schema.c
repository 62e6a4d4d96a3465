/* scenarios/schema.json against the scenario loader: same key set, closed objects, documented keys, enums and defaults accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/fleet/scenario.h"
#include "test_strset.h"
#include "test_util.h"

static json_t *load_schema(void)
{
    return tu_load_source_json("scenarios/schema.json");
}

/* $defs that describe VALUES (a duration, a distribution, a target pick):
 * their object forms are value syntax, not scenario keys, so the key walk
 * stops at them (the loader's key tables stop there too). */
static int is_value_def(const char *ref)
{
    static const char *const values[] = { "#/$defs/duration", "#/$defs/size", "#/$defs/probability",
                                          "#/$defs/distribution", "#/$defs/count", "#/$defs/countDistribution",
                                          "#/$defs/pick", "#/$defs/times", "#/$defs/props", NULL };
    for (size_t i = 0; values[i]; i++)
        if (strcmp(ref, values[i]) == 0)
            return 1;
    return 0;
}

static const json_t *resolve(const json_t *root, const json_t *node)
{
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    if (!ref || strncmp(ref, "#/$defs/", 8) != 0)
        return node;
    const json_t *target = json_object_get(json_object_get(root, "$defs"), ref + 8);
    if (!target)
        fail_msg("dangling $ref %s", ref);
    return target;
}

typedef void (*visit_fn)(void *ctx, const char *path, const json_t *prop);

/* Keys: "properties" of objects, "items" of arrays ("[]"), and the object
 * branches of a "oneOf" (an expectation is a string or an object). */
static void walk(const json_t *root, const json_t *node, const char *path, visit_fn fn, void *ctx)
{
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    if (ref && is_value_def(ref))
        return;
    const json_t *n = resolve(root, node);
    const json_t *props = json_object_get(n, "properties");
    const char *key;
    json_t *sub;
    json_object_foreach((json_t *)props, key, sub) {
        char p[1024];
        snprintf(p, sizeof p, "%s", path);
        assert_int_equal(json_path_key(p, sizeof p, key), HS_EOK);
        fn(ctx, p, sub);
        walk(root, sub, p, fn, ctx);
    }
    const json_t *items = json_object_get(n, "items");
    if (json_is_object(items)) {
        char p[1024];
        snprintf(p, sizeof p, "%s[]", path);
        walk(root, items, p, fn, ctx);
    }
    const json_t *one = json_object_get(n, "oneOf");
    size_t i;
    json_t *branch;
    json_array_foreach((json_t *)one, i, branch) {
        walk(root, branch, path, fn, ctx);
    }
}

static void collect(void *ctx, const char *path, const json_t *prop)
{
    (void)prop;
    set_add(ctx, path);
}

static void test_schema_is_draft_2020_12(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    assert_string_equal(json_string_value(json_object_get(schema, "$schema")),
                        "https://json-schema.org/draft/2020-12/schema");
    assert_string_equal(json_string_value(json_object_get(schema, "type")), "object");
    assert_true(json_is_false(json_object_get(schema, "additionalProperties")));
    json_decref(schema);
}

static void test_schema_and_loader_keys_agree(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    strset_t from_schema = { 0 }, from_loader = { 0 };
    walk(schema, schema, "$", collect, &from_schema);
    scenario_for_each_key(loader_key, &from_loader);
    int missing = 0;
    for (size_t i = 0; i < from_loader.n; i++) {
        if (!set_has(&from_schema, from_loader.items[i])) {
            fprintf(stderr, "accepted by the loader, absent from schema.json: %s\n", from_loader.items[i]);
            missing++;
        }
    }
    for (size_t i = 0; i < from_schema.n; i++) {
        if (!set_has(&from_loader, from_schema.items[i])) {
            fprintf(stderr, "in schema.json, unknown to the loader: %s\n", from_schema.items[i]);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    assert_int_equal(from_schema.n, from_loader.n);
    /* the walk reaches deep keys on both sides */
    assert_true(set_has(&from_loader, "$.groups[].telemetry.interval"));
    assert_true(set_has(&from_loader, "$.groups[].connectivity.offline[].end"));
    assert_true(set_has(&from_loader, "$.groups[].methods[].noAnswerProbability"));
    assert_true(set_has(&from_loader, "$.actors[].responseTimeout"));
    assert_true(set_has(&from_loader, "$.faults[].endpoint"));
    assert_true(set_has(&from_loader, "$.expectations[].expect"));
    assert_true(set_has(&from_loader, "$.hub"));
    assert_false(set_has(&from_loader, "$.hub.c2d")); /* the hub config's own keys */
    set_free(&from_schema);
    set_free(&from_loader);
    json_decref(schema);
}

/* Every key is documented, and every object closes its key set. */
static void check_documented(void *ctx, const char *path, const json_t *prop)
{
    int *bad = ctx;
    const char *desc = json_string_value(json_object_get(prop, "description"));
    if (!desc || !*desc) {
        fprintf(stderr, "%s: no description\n", path);
        (*bad)++;
    }
    if (json_object_get(prop, "properties") && !json_is_false(json_object_get(prop, "additionalProperties"))) {
        fprintf(stderr, "%s: object without additionalProperties: false\n", path);
        (*bad)++;
    }
    const json_t *items = json_object_get(prop, "items");
    if (json_object_get(items, "properties") && !json_is_false(json_object_get(items, "additionalProperties"))) {
        fprintf(stderr, "%s[]: object without additionalProperties: false\n", path);
        (*bad)++;
    }
}

static void test_schema_keys_documented_and_closed(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    int bad = 0;
    walk(schema, schema, "$", check_documented, &bad);
    assert_int_equal(bad, 0);
    json_decref(schema);
}

/* The schema's enums are exactly what the loader accepts: a scenario using
 * each enum value loads, and one value outside fails. */
static void test_schema_enums_load(void **state)
{
    (void)state;
    static const struct { const char *fmt; const char *values[6]; } cases[] = {
        { "{\"duration\": \"1m\", \"groups\": [{\"name\": \"g\", \"count\": 1, \"auth\": \"%s\"}]}", { "sas", "x509" } },
        { "{\"duration\": \"1m\", \"groups\": [{\"name\": \"g\", \"count\": 1, \"protocol\": \"%s\"}]}",
          { "mqtt", "amqp", "https" } },
        { "{\"duration\": \"1m\", \"groups\": [{\"name\": \"g\", \"count\": 1}], \"actors\": [{\"kind\": \"c2dSender\","
          " \"group\": \"g\", \"ack\": \"%s\"}]}",
          { "none", "positive", "negative", "full" } },
        { "{\"duration\": \"1m\", \"groups\": [{\"name\": \"g\", \"count\": 1}], \"actors\": [{\"kind\": \"registry\","
          " \"group\": \"g\", \"fraction\": 1, \"op\": \"%s\"}]}",
          { "disable", "enable", "delete" } },
    };
    char text[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t j = 0; cases[i].values[j]; j++) {
            snprintf(text, sizeof text, cases[i].fmt, cases[i].values[j]);
            scenario_t s;
            if (scenario_load_text(text, strlen(text), "enum.json", &s, NULL) != HS_EOK)
                fail_msg("refused: %s", text);
            scenario_free(&s);
        }
        snprintf(text, sizeof text, cases[i].fmt, "SAS");
        scenario_t s;
        assert_int_equal(scenario_load_text(text, strlen(text), "enum.json", &s, NULL), HS_EPARSE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_is_draft_2020_12),
        cmocka_unit_test(test_schema_and_loader_keys_agree),
        cmocka_unit_test(test_schema_keys_documented_and_closed),
        cmocka_unit_test(test_schema_enums_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
