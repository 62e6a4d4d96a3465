/* Tests for the rule catalogue: shipped file validity, IDs the hub uses, strict loader errors, `hubsim rules`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "conformance/catalogue.h"
#include "conformance/switches.h"
#include "reports/jschema.h"
#include "serve/amqp/amqp_breaks.h"
#include "sim/hub/faults.h"
#include "sim/hub/hub_errors.h"

static const char *src_dir(void)
{
    const char *d = getenv("HUBSIM_SOURCE_DIR");
    return d ? d : ".";
}

static catalogue_t *load_shipped(void)
{
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/conformance/catalogue.json", src_dir());
    catalogue_t *cat = NULL;
    hs_err_t rc = catalogue_load_file(path, &cat, err, sizeof err);
    if (rc)
        fail_msg("shipped catalogue does not load: %s", err);
    return cat;
}

static void test_shipped_catalogue_loads(void **state)
{
    (void)state;
    catalogue_t *cat = load_shipped();
    assert_true(catalogue_version(cat) >= 1);
    assert_true(catalogue_count(cat) >= 50);
    /* Issue 7 lists these areas as the minimum the catalogue covers. */
    const char *areas[] = { "methods", "messages", "c2d", "twins", "routing", "auth" };
    for (size_t a = 0; a < 6; a++) {
        size_t n = 0;
        for (size_t i = 0; i < catalogue_count(cat); i++)
            n += strcmp(catalogue_rule_at(cat, i)->area, areas[a]) == 0;
        if (n < 3)
            fail_msg("area %s has only %zu rules", areas[a], n);
    }
    catalogue_free(cat);
}

/* The IDs the hub engineer codes against (the brief's list). */
static void test_hub_rule_ids_exist(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "METHOD-404-UNKNOWN", "METHOD-404-OFFLINE", "METHOD-CONNECT-TIMEOUT-WINDOW",
        "METHOD-504-TIMEOUT", "METHOD-TIMEOUT-RANGE", "METHOD-PAYLOAD-LIMIT", "METHOD-NAME-CHARSET",
        "METHOD-LATE-RESPONSE", "MSG-PROP-CHARSET", "MSG-MESSAGEID", "MSG-SIZE-LIMIT", "MSG-ANTISPOOF",
        "MSG-CONTENT-TYPE", "C2D-QUEUE-DEPTH", "C2D-TTL", "C2D-LOCK", "C2D-DELIVERY-COUNT", "C2D-FEEDBACK",
        "TWIN-VERSION", "TWIN-IF-MATCH", "AUTH-SAS", "AUTH-SAS-EXPIRED", "AUTH-SAS-SIGNATURE",
        "AUTH-SAS-SCOPE", "CONN-SECOND-DROPS-FIRST", "REGISTRY-DEVICE-ID", "REGISTRY-CRUD", "HUB-IF-MATCH",
        "HUB-ARGUMENT-INVALID", "HUB-THROTTLE", "HUB-DAILY-QUOTA", "ROUTE-DEDUP", "ROUTE-FALLBACK",
    };
    catalogue_t *cat = load_shipped();
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        if (!catalogue_find(cat, ids[i]))
            fail_msg("rule %s missing from the catalogue", ids[i]);
    catalogue_free(cat);
}

/* Every rule ID the hub error table names must be a catalogue rule. */
static void test_hub_error_table_rules_exist(void **state)
{
    (void)state;
    catalogue_t *cat = load_shipped();
    size_t named = 0;
    for (int e = 0; e < HUB_E__COUNT; e++) {
        const hub_error_info_t *info = hub_error_info((hub_err_t)e);
        if (!info->rule_id || !info->rule_id[0])
            continue;
        named++;
        if (!catalogue_find(cat, info->rule_id))
            fail_msg("hub error %s names rule %s, which the catalogue lacks", info->name, info->rule_id);
    }
    assert_true(named >= 10); /* the table does name rules: this loop checked something */
    catalogue_free(cat);
}

/* Every break switch names the rule whose cases must kill it: that rule
 * must be in the catalogue, or the kill matrix would point nowhere. */
static void test_break_switch_rules_exist(void **state)
{
    (void)state;
    catalogue_t *cat = load_shipped();
    size_t n = 0;
    for (int f = 0; f < HUB_FAULT__COUNT; f++) {
        const hub_fault_info_t *info = hub_fault_info((hub_fault_t)f);
        assert_non_null(info);
        n++;
        if (!catalogue_find(cat, info->rule_id))
            fail_msg("break switch %s names rule %s, which the catalogue lacks", info->name, info->rule_id);
    }
    assert_true(n >= 10);
    /* A retired ID is known as retired, and is not a rule. */
    assert_true(catalogue_is_retired(cat, "METHOD-STATUS-PASSTHROUGH"));
    assert_null(catalogue_find(cat, "METHOD-STATUS-PASSTHROUGH"));
    assert_false(catalogue_is_retired(cat, "METHOD-RESPONSE-PASSTHROUGH"));
    catalogue_free(cat);
}

/* Issue 8: the rule each AMQP wire break names is an AMQP-only MUST rule of
 * NOTES.md in the area its behaviour belongs to, with a confidence mark. */
static void test_amqp_break_rules(void **state)
{
    (void)state;
    static const struct {
        const char *rule, *area;
    } want[] = {
        { "AMQP-CBS-PUT-TOKEN", "auth" },        { "AMQP-LINK-AUTH", "auth" },
        { "AMQP-ADDRESS-CASE", "connections" },  { "AMQP-D2C-DISPOSITION", "messages" },
        { "AMQP-ERROR-CONDITION", "messages" },  { "AMQP-D2C-PROPERTIES", "messages" },
        { "AMQP-C2D-SETTLE", "c2d" },            { "AMQP-METHOD-RESPONSE", "methods" },
        { "AMQP-FEEDBACK", "c2d" },              { "AMQP-EVENTS-ANNOTATIONS", "messages" },
    };
    catalogue_t *cat = load_shipped();
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const catalogue_rule_t *r = catalogue_find(cat, want[i].rule);
        if (!r)
            fail_msg("rule %s missing from the catalogue", want[i].rule);
        assert_string_equal(r->area, want[i].area);
        assert_int_equal(r->level, CATALOGUE_MUST);
        assert_string_equal(r->doc, "NOTES.md");
        assert_non_null(r->confidence);
        assert_true(strcmp(r->confidence, "doc") == 0 || strcmp(r->confidence, "sdk") == 0);
        assert_int_equal(r->protocols, CATALOGUE_PROTO_AMQP);
    }
    size_t n = 0;
    for (const amqp_break_info_t *b; (b = amqp_break_at(n)) != NULL; n++) {
        bool listed = false;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            listed = listed || strcmp(want[i].rule, b->rule_id) == 0;
        if (!listed || !catalogue_find(cat, b->rule_id))
            fail_msg("AMQP break %s names rule %s, which is not an AMQP catalogue rule", b->name, b->rule_id);
    }
    assert_int_equal(n, AMQP_BREAK__COUNT);
    catalogue_free(cat);
}

static void test_rule_fields(void **state)
{
    (void)state;
    catalogue_t *cat = load_shipped();
    const catalogue_rule_t *r = catalogue_find(cat, "METHOD-TIMEOUT-RANGE");
    assert_non_null(r);
    assert_string_equal(r->area, "methods");
    assert_int_equal(r->level, CATALOGUE_MUST);
    assert_string_equal(r->doc, "direct-methods.txt");
    /* The rule sentence carries the spec's bounds. */
    assert_non_null(strstr(r->text, "5"));
    assert_non_null(strstr(r->text, "300"));
    char ref[256];
    assert_string_equal(catalogue_spec_ref(r, ref, sizeof ref), "direct-methods.txt, Method invocation (timeouts)");
    r = catalogue_find(cat, "METHOD-LATE-RESPONSE");
    assert_non_null(r);
    assert_int_equal(r->level, CATALOGUE_KNOB);
    assert_string_equal(r->doc, "NOTES.md");
    assert_string_equal(r->confidence, "?");
    assert_non_null(r->knob_name);
    assert_string_equal(catalogue_spec_ref(r, ref, sizeof ref), "NOTES.md [?], Direct methods (service side)");
    for (size_t i = 0; i < catalogue_count(cat); i++) {
        const catalogue_rule_t *x = catalogue_rule_at(cat, i);
        assert_true(x->protocols != 0);
        if (!strcmp(x->doc, "NOTES.md"))
            assert_non_null(x->confidence);
        if (x->confidence && !strcmp(x->confidence, "?") && x->level == CATALOGUE_MUST &&
            strcmp(x->doc, "NOTES.md") == 0)
            fail_msg("%s rests on an unconfirmed [?] fact but is MUST, not KNOB", x->id);
        /* Issue 10: rules of its areas rest on a page under docs/ with a mark, and only a fact
         * the public documentation states ([doc]) may be MUST; the rest are KNOB. */
        if (!strncmp(x->doc, "docs/", 5)) {
            assert_non_null(x->confidence);
            if (strcmp(x->confidence, "doc") != 0 && x->level != CATALOGUE_KNOB)
                fail_msg("%s rests on a [%s] fact of %s but is not KNOB", x->id, x->confidence, x->doc);
        }
    }
    /* Lookups are exact. */
    assert_null(catalogue_find(cat, "method-timeout-range"));
    assert_null(catalogue_find(cat, "METHOD-TIMEOUT-RANG"));
    assert_null(catalogue_find(cat, NULL));
    assert_null(catalogue_rule_at(cat, catalogue_count(cat)));
    char buf[32];
    assert_string_equal(catalogue_protocols_format(CATALOGUE_PROTO_MQTT | CATALOGUE_PROTO_HTTPS, buf, sizeof buf),
                        "mqtt,https");
    catalogue_free(cat);
}

static json_t *load_json_file(const char *rel)
{
    char path[4096];
    json_error_t e;
    snprintf(path, sizeof path, "%s/%s", src_dir(), rel);
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("%s:%d: %s", path, e.line, e.text);
    return j;
}

static void test_catalogue_matches_schema(void **state)
{
    (void)state;
    json_t *schema = load_json_file("conformance/catalogue.schema.json");
    json_t *doc = load_json_file("conformance/catalogue.json");
    char err[512] = "";
    if (jschema_validate(schema, doc, err, sizeof err))
        fail_msg("catalogue.json does not follow its schema: %s", err);
    /* The validator bites: a rule with a lower-case ID and one without
     * protocols are refused. */
    json_t *rule = json_array_get(json_object_get(doc, "rules"), 0);
    json_object_set_new(rule, "id", json_string("method-x"));
    assert_int_equal(jschema_validate(schema, doc, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "$.rules[0].id"));
    json_object_set_new(rule, "id", json_string("METHOD-X"));
    json_object_set_new(rule, "protocols", json_array());
    assert_int_equal(jschema_validate(schema, doc, err, sizeof err), HS_EINVAL);
    json_decref(schema);
    json_decref(doc);
}

/* A minimal valid catalogue with one placeholder swapped in. */
static hs_err_t load_variant(const char *rules, const char *retired, char *err, size_t cap)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"catalogue_version\": 1, \"areas\": [\"methods\", \"auth\"], \"retired\": %s, \"rules\": %s}",
             retired, rules);
    catalogue_t *cat = NULL;
    hs_err_t rc = catalogue_load_string(text, "test.json", &cat, err, cap);
    if (rc == HS_EOK)
        assert_non_null(cat);
    else
        assert_null(cat);
    catalogue_free(cat);
    return rc;
}

#define RULE(id, area, level, extra)                                                              \
    "{\"id\":\"" id "\",\"area\":\"" area "\",\"level\":\"" level "\",\"spec\":{\"doc\":"       \
    "\"direct-methods.txt\"},\"text\":\"a sentence long enough to be a rule\",\"protocols\":[\"mqtt\"]" extra "}"

static void test_loader_rejects_bad_catalogues(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(load_variant("[" RULE("METHOD-A", "methods", "MUST", "") "]", "[]", err, sizeof err), HS_EOK);
    assert_int_equal(load_variant("[" RULE("METHOD-A", "methods", "MUST", "") "," RULE("METHOD-A", "auth", "MUST", "") "]",
                                  "[]", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "appears twice"));
    assert_int_equal(load_variant("[" RULE("METHOD-A", "methods", "MUST", "") "]",
                                  "[{\"id\":\"METHOD-A\",\"retired_in\":1,\"reason\":\"merged\"}]", err, sizeof err),
                     HS_EINVAL);
    assert_non_null(strstr(err, "never reused"));
    assert_int_equal(load_variant("[" RULE("METHOD-A", "twins", "MUST", "") "]", "[]", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "$.rules[0].area"));
    assert_int_equal(load_variant("[" RULE("METHOD-A", "methods", "MAY", "") "]", "[]", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "$.rules[0].level"));
    assert_int_equal(load_variant("[" RULE("METHOD-A", "methods", "KNOB", "") "]", "[]", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "knob"));
    assert_int_equal(load_variant("[" RULE("METHOD-A", "methods", "KNOB", ",\"knob\":{\"name\":\"k\",\"default\":\"1\"}") "]",
                                  "[]", err, sizeof err), HS_EOK);
    /* ID pattern, both sides: two words pass, one word or empty words fail. */
    assert_int_equal(load_variant("[" RULE("A-1", "methods", "MUST", "") "]", "[]", err, sizeof err), HS_EOK);
    const char *bad_ids[] = { "METHOD", "method-a", "METHOD--A", "-METHOD-A", "METHOD-A-", "METHOD_A" };
    for (size_t i = 0; i < 6; i++) {
        char rules[1024];
        snprintf(rules, sizeof rules,
                 "[{\"id\":\"%s\",\"area\":\"methods\",\"level\":\"MUST\",\"spec\":{\"doc\":\"direct-methods.txt\"},"
                 "\"text\":\"a sentence long enough to be a rule\",\"protocols\":[\"mqtt\"]}]", bad_ids[i]);
        if (load_variant(rules, "[]", err, sizeof err) != HS_EINVAL)
            fail_msg("rule ID \"%s\" was accepted", bad_ids[i]);
    }
    /* NOTES.md rules need their confidence mark. */
    assert_int_equal(load_variant("[{\"id\":\"AUTH-X\",\"area\":\"auth\",\"level\":\"MUST\",\"spec\":{\"doc\":\"NOTES.md\"},"
                                  "\"text\":\"a sentence long enough to be a rule\",\"protocols\":[\"amqp\"]}]",
                                  "[]", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "confidence"));
    assert_int_equal(load_variant("[" RULE("METHOD-A", "methods", "MUST", ",\"extra\":1") "]", "[]", err, sizeof err),
                     HS_EINVAL);
    assert_non_null(strstr(err, "unknown member"));
    assert_int_equal(load_variant("[{\"id\":\"AUTH-X\",\"area\":\"auth\",\"level\":\"MUST\",\"spec\":{\"doc\":\"rfc.txt\"},"
                                  "\"text\":\"a sentence long enough to be a rule\",\"protocols\":[\"amqp\"]}]",
                                  "[]", err, sizeof err), HS_EINVAL);
    assert_int_equal(load_variant("[{\"id\":\"AUTH-X\",\"area\":\"auth\",\"level\":\"MUST\",\"spec\":{\"doc\":\"endpoints.txt\"},"
                                  "\"text\":\"a sentence long enough to be a rule\",\"protocols\":[\"coap\"]}]",
                                  "[]", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "protocols[0]"));
    /* a docs/ page needs its mark, like NOTES.md */
    assert_int_equal(load_variant("[{\"id\":\"JOB-X\",\"area\":\"methods\",\"level\":\"MUST\",\"spec\":{\"doc\":\"docs/jobs.md\"},"
                                  "\"text\":\"a sentence long enough to be a rule\",\"protocols\":[\"amqp\"]}]",
                                  "[]", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "confidence"));
    assert_int_equal(load_variant("[{\"id\":\"JOB-X\",\"area\":\"methods\",\"level\":\"MUST\",\"spec\":{\"doc\":\"docs/jobs.md\","
                                  "\"confidence\":\"doc\"},\"text\":\"a sentence long enough to be a rule\",\"protocols\":[\"amqp\"]}]",
                                  "[]", err, sizeof err), HS_EOK);

    catalogue_t *cat = NULL;
    assert_int_equal(catalogue_load_string("{\"catalogue_version\": 1,\n \"rules\": [}", "x.json", &cat, err, sizeof err),
                     HS_EPARSE);
    assert_non_null(strstr(err, "x.json:2:"));
    assert_int_equal(catalogue_load_string("{\"catalogue_version\": 0, \"areas\": [\"auth\"], \"rules\": [], \"retired\": []}",
                                           "x.json", &cat, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "catalogue_version"));
    assert_int_equal(catalogue_load_file("/nonexistent/catalogue.json", &cat, err, sizeof err), HS_EIO);
    assert_null(cat);
}

/* Runs hubsim with args, captures stdout into buf; returns the exit code. */
static int run_hubsim(const char *args, char *buf, size_t cap)
{
    const char *bin = getenv("HUBSIM_BIN");
    if (!bin)
        fail_msg("HUBSIM_BIN is not set (run through ctest)");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(buf, 1, cap - 1, p);
    buf[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_rules_command(void **state)
{
    (void)state;
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    assert_int_equal(run_hubsim("rules --json", out, cap), 0);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    assert_non_null(doc);
    catalogue_t *cat = load_shipped();
    assert_int_equal(json_array_size(json_object_get(doc, "rules")), catalogue_count(cat));
    assert_int_equal(json_integer_value(json_object_get(doc, "catalogue_version")), catalogue_version(cat));
    json_decref(doc);

    assert_int_equal(run_hubsim("rules --json --area c2d", out, cap), 0);
    doc = json_loads(out, 0, &e);
    assert_non_null(doc);
    size_t i, want = 0;
    json_t *r;
    for (size_t k = 0; k < catalogue_count(cat); k++)
        want += strcmp(catalogue_rule_at(cat, k)->area, "c2d") == 0;
    assert_true(want > 0);
    assert_int_equal(json_array_size(json_object_get(doc, "rules")), want);
    json_array_foreach(json_object_get(doc, "rules"), i, r)
        assert_string_equal(json_string_value(json_object_get(r, "area")), "c2d");
    json_decref(doc);

    /* Break switches are listed under their rule. */
    assert_int_equal(run_hubsim("rules --json --area methods", out, cap), 0);
    doc = json_loads(out, 0, &e);
    assert_non_null(doc);
    int seen_obo = 0;
    json_array_foreach(json_object_get(doc, "rules"), i, r) {
        if (strcmp(json_string_value(json_object_get(r, "id")), "METHOD-504-TIMEOUT"))
            continue;
        size_t k;
        json_t *sw;
        json_array_foreach(json_object_get(r, "break_switches"), k, sw)
            seen_obo += !strcmp(json_string_value(sw), "METHOD-504-TIMEOUT:off-by-one");
    }
    assert_int_equal(seen_obo, 1);
    json_decref(doc);

    /* Every switch of the kill matrix (hub, staged, wire, knob) is listed
     * under the rule it must be killed by. */
    assert_int_equal(run_hubsim("rules --json", out, cap), 0);
    doc = json_loads(out, 0, &e);
    assert_non_null(doc);
    conform_switch_t csw;
    size_t listed = 0;
    for (size_t n = 0; conform_switch_at(n, &csw); n++) {
        int found = 0;
        json_array_foreach(json_object_get(doc, "rules"), i, r) {
            if (strcmp(json_string_value(json_object_get(r, "id")), csw.rule_id))
                continue;
            size_t k;
            json_t *sw;
            json_array_foreach(json_object_get(r, "break_switches"), k, sw)
                found += !strcmp(json_string_value(sw), csw.name);
        }
        if (found != 1)
            fail_msg("switch %s not listed once under %s", csw.name, csw.rule_id);
        listed++;
    }
    assert_int_equal(listed, conform_switch_count());
    json_decref(doc);

    assert_int_equal(run_hubsim("rules", out, cap), 0);
    assert_non_null(strstr(out, "METHOD-504-TIMEOUT"));
    assert_non_null(strstr(out, "rule catalogue version"));
    assert_int_equal(run_hubsim("rules --area nosuch", out, cap), 2);
    assert_int_equal(run_hubsim("rules extra-arg", out, cap), 2);
    assert_int_equal(run_hubsim("rules --catalogue /nonexistent.json", out, cap), 2);
    catalogue_free(cat);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_catalogue_loads),
        cmocka_unit_test(test_hub_rule_ids_exist),
        cmocka_unit_test(test_hub_error_table_rules_exist),
        cmocka_unit_test(test_break_switch_rules_exist),
        cmocka_unit_test(test_amqp_break_rules),
        cmocka_unit_test(test_rule_fields),
        cmocka_unit_test(test_catalogue_matches_schema),
        cmocka_unit_test(test_loader_rejects_bad_catalogues),
        cmocka_unit_test(test_rules_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
