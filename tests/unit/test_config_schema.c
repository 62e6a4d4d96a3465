/* hub.schema.json against the loader: same key set, documented knobs, schema defaults = loader defaults, enums accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/hub_config.h"
#include "test_strset.h"
#include "test_util.h"

static json_t *load_schema(void)
{
    return tu_load_source_json("sim/hub/hub.schema.json");
}

/* Follow a local "$ref": "#/$defs/NAME". */
static const json_t *resolve(const json_t *root, const json_t *node)
{
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    if (!ref)
        return node;
    assert_true(strncmp(ref, "#/$defs/", 8) == 0);
    const json_t *target = json_object_get(json_object_get(root, "$defs"), ref + 8);
    if (!target)
        fail_msg("dangling $ref %s", ref);
    return target;
}

typedef void (*visit_fn)(void *ctx, const char *path, const json_t *prop, const json_t *resolved);

static void walk(const json_t *root, const json_t *node, const char *path, visit_fn fn, void *ctx)
{
    const json_t *n = resolve(root, node);
    const json_t *props = json_object_get(n, "properties");
    const char *key;
    json_t *sub;
    json_object_foreach((json_t *)props, key, sub) {
        char p[1024];
        snprintf(p, sizeof p, "%s", path);
        assert_int_equal(json_path_key(p, sizeof p, key), HS_EOK);
        fn(ctx, p, sub, resolve(root, sub));
        walk(root, sub, p, fn, ctx);
    }
    const json_t *items = json_object_get(n, "items");
    if (items) {
        char p[1024];
        snprintf(p, sizeof p, "%s[]", path);
        walk(root, items, p, fn, ctx);
    }
}

static void collect(void *ctx, const char *path, const json_t *prop, const json_t *resolved)
{
    (void)prop;
    (void)resolved;
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
    hub_config_for_each_key(loader_key, &from_loader);
    int missing = 0;
    for (size_t i = 0; i < from_loader.n; i++) {
        if (!set_has(&from_schema, from_loader.items[i])) {
            fprintf(stderr, "accepted by the loader, absent from hub.schema.json: %s\n", from_loader.items[i]);
            missing++;
        }
    }
    for (size_t i = 0; i < from_schema.n; i++) {
        if (!set_has(&from_loader, from_schema.items[i])) {
            fprintf(stderr, "in hub.schema.json, unknown to the loader: %s\n", from_schema.items[i]);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    assert_int_equal(from_schema.n, from_loader.n);
    /* a spot check that the walk is not trivially empty on both sides */
    assert_true(set_has(&from_loader, "$.c2d.maxDeliveryCount"));
    assert_true(set_has(&from_loader, "$.devices[].modules[].thumbprints.primary"));
    assert_true(set_has(&from_loader, "$.routing"));
    assert_false(set_has(&from_loader, "$.routing.routes")); /* the routing engine's own */
    set_free(&from_schema);
    set_free(&from_loader);
    json_decref(schema);
}

/* Each object in the schema closes its key set, so editors flag unknown keys
 * as the loader does. */
static void check_closed(void *ctx, const char *path, const json_t *prop, const json_t *resolved)
{
    (void)prop;
    int *bad = ctx;
    if (json_object_get(resolved, "properties") && !json_is_false(json_object_get(resolved, "additionalProperties"))) {
        fprintf(stderr, "%s: object without additionalProperties: false\n", path);
        (*bad)++;
    }
    if (strcmp(path, "$.routing") != 0 && json_is_object(resolved) &&
        json_string_value(json_object_get(resolved, "type")) &&
        strcmp(json_string_value(json_object_get(resolved, "type")), "object") == 0 &&
        !json_object_get(resolved, "properties")) {
        fprintf(stderr, "%s: open object\n", path);
        (*bad)++;
    }
}

static void test_schema_objects_closed(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    int bad = 0;
    walk(schema, schema, "$", check_closed, &bad);
    assert_int_equal(bad, 0);
    json_decref(schema);
}

/* Every key has a description; every knob under a section states its
 * default and where the fact comes from (a NOTES.md mark). */
static void check_documented(void *ctx, const char *path, const json_t *prop, const json_t *resolved)
{
    (void)resolved;
    int *bad = ctx;
    const char *desc = json_string_value(json_object_get(prop, "description"));
    if (!desc || !*desc) {
        fprintf(stderr, "%s: no description\n", path);
        (*bad)++;
        return;
    }
    static const char *const sections[] = { "$.quotas.", "$.throttling.", "$.methods.", "$.messages.", "$.c2d.",
                                            "$.twins.", "$.mqtt.", "$.amqp.", "$.routeQuery." };
    int knob = strcmp(path, "$.deadlineWins") == 0;
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strncmp(path, sections[i], strlen(sections[i])) == 0)
            knob = 1;
    if (!knob || strncmp(path, "$.throttling.rates", 18) == 0)
        return;
    if (!json_object_get(prop, "default")) {
        fprintf(stderr, "%s: knob without a default\n", path);
        (*bad)++;
    }
    if (!strstr(desc, "[doc") && !strstr(desc, "[?") && !strstr(desc, "[sdk") && !strstr(desc, "[edge") &&
        !strstr(desc, "issue 4") && !strstr(desc, "our choice") && strcmp(path, "$.throttling.units") != 0) {
        fprintf(stderr, "%s: description names no source mark\n", path);
        (*bad)++;
    }
}

static void test_schema_documents_every_knob(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    int bad = 0;
    walk(schema, schema, "$", check_documented, &bad);
    assert_int_equal(bad, 0);
    json_decref(schema);
}

/* Build a config file from the schema's defaults: loading it must give
 * exactly hub_config_defaults(), so the documentation cannot drift from the
 * code. */
static void test_schema_defaults_are_loader_defaults(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    json_t *doc = json_object();
    const json_t *props = json_object_get(schema, "properties");
    const char *key;
    json_t *prop;
    size_t knobs = 0;
    json_object_foreach((json_t *)props, key, prop) {
        const json_t *sub = json_object_get(prop, "properties");
        if (json_object_get(prop, "default")) {
            json_object_set(doc, key, json_object_get(prop, "default"));
            knobs++;
        }
        if (!sub)
            continue;
        json_t *section = json_object();
        const char *k2;
        json_t *p2;
        json_object_foreach((json_t *)sub, k2, p2) {
            if (json_object_get(p2, "default")) {
                json_object_set(section, k2, json_object_get(p2, "default"));
                knobs++;
            }
        }
        json_object_set_new(doc, key, section);
    }
    char *text = json_dumps(doc, JSON_INDENT(2));
    assert_non_null(text);
    hub_config_t got, want;
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    hs_err_t rc = hub_config_load_json(text, strlen(text), "schema-defaults.json", &got, d);
    if (rc != HS_EOK)
        json_diag_print(d, stderr);
    assert_int_equal(rc, HS_EOK);
    hub_config_defaults(&want);
    assert_memory_equal(&got.quotas, &want.quotas, sizeof want.quotas);
    assert_memory_equal(&got.throttling, &want.throttling, sizeof want.throttling);
    assert_memory_equal(&got.methods, &want.methods, sizeof want.methods);
    assert_memory_equal(&got.messages, &want.messages, sizeof want.messages);
    assert_memory_equal(&got.c2d, &want.c2d, sizeof want.c2d);
    assert_memory_equal(&got.twins, &want.twins, sizeof want.twins);
    assert_memory_equal(&got.mqtt, &want.mqtt, sizeof want.mqtt);
    assert_memory_equal(&got.amqp, &want.amqp, sizeof want.amqp);
    assert_memory_equal(&got.route_query, &want.route_query, sizeof want.route_query);
    assert_memory_equal(&got, &want, sizeof want);
    /* every NOTES.md knob is in there: 40 defaults at the time of writing */
    assert_true(knobs >= 40);
    json_diag_list_free(d);
    hub_config_free(&got);
    free(text);
    json_decref(doc);
    json_decref(schema);
}

/* Every enum value the schema offers for a section knob is accepted by the
 * loader, and a value outside the enum is refused. */
static void test_schema_enums_accepted(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    const json_t *props = json_object_get(schema, "properties");
    const char *sec;
    json_t *sp;
    size_t tried = 0;
    json_object_foreach((json_t *)props, sec, sp) {
        const char *k;
        json_t *kp;
        json_object_foreach(json_object_get(sp, "properties"), k, kp) {
            const json_t *en = json_object_get(kp, "enum");
            if (!en)
                continue;
            size_t i;
            json_t *val;
            json_array_foreach(en, i, val) {
                json_t *doc = json_pack("{s:{s:O}}", sec, k, val);
                char *text = json_dumps(doc, 0);
                hub_config_t cfg;
                hs_err_t rc = hub_config_load_json(text, strlen(text), "e.json", &cfg, NULL);
                if (rc != HS_EOK)
                    fail_msg("schema enum value refused by the loader: %s", text);
                hub_config_free(&cfg);
                free(text);
                json_decref(doc);
                tried++;
            }
            json_t *doc = json_pack("{s:{s:s}}", sec, k, "surely-not-a-value");
            char *text = json_dumps(doc, 0);
            hub_config_t cfg;
            assert_int_not_equal(hub_config_load_json(text, strlen(text), "e.json", &cfg, NULL), HS_EOK);
            hub_config_free(&cfg);
            free(text);
            json_decref(doc);
        }
    }
    assert_true(tried >= 14); /* profile, kbSize, oversizedResponseStatus, lateResponse, unknownRequestId, unknownTopic, bareDollarName */
    json_decref(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_is_draft_2020_12),
        cmocka_unit_test(test_schema_and_loader_keys_agree),
        cmocka_unit_test(test_schema_objects_closed),
        cmocka_unit_test(test_schema_documents_every_knob),
        cmocka_unit_test(test_schema_defaults_are_loader_defaults),
        cmocka_unit_test(test_schema_enums_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
