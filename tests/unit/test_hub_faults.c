/* Break-switch table: unique names, lookup, every switch (staged ones included) consulted in the hub's code and documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/faults.h"
#include "sim/hub/hub.h"

static const char *const enum_names[] = {
#define ENUM_NAME(e, name, rule, desc) "HUB_FAULT_" #e,
    HUB_FAULT_MAP(ENUM_NAME)
#undef ENUM_NAME
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static void test_names_unique_and_lookup(void **state)
{
    (void)state;
    assert_true(HUB_FAULT__COUNT >= 40);
    for (int i = 0; i < HUB_FAULT__COUNT; i++) {
        const hub_fault_info_t *a = hub_fault_info((hub_fault_t)i);
        assert_non_null(a);
        assert_true(strlen(a->rule_id) > 0);
        assert_true(strlen(a->description) > 0);
        /* A switch is its rule or the rule's ":off-by-one" mutant (or the
         * conservation test switch). */
        size_t rl = strlen(a->rule_id);
        bool own = strcmp(a->name, a->rule_id) == 0 ||
                   (strncmp(a->name, a->rule_id, rl) == 0 && a->name[rl] == ':');
        if (!own)
            assert_string_equal(a->name, "LEDGER-LOSE-ONE");
        hub_fault_t f;
        assert_int_equal(hub_fault_lookup(a->name, &f), HS_EOK);
        assert_int_equal(f, i);
        for (int j = i + 1; j < HUB_FAULT__COUNT; j++)
            assert_string_not_equal(a->name, hub_fault_info((hub_fault_t)j)->name);
    }
    hub_fault_t f;
    assert_int_equal(hub_fault_lookup("method-404-unknown", &f), HS_ENOTFOUND);
    assert_int_equal(hub_fault_lookup("", &f), HS_ENOTFOUND);
    assert_null(hub_fault_info(HUB_FAULT__COUNT));
    hub_faults_t fs;
    hub_faults_clear(&fs);
    assert_false(hub_faults_any(&fs));
    hub_faults_arm(&fs, (hub_fault_t)(HUB_FAULT__COUNT - 1));
    assert_true(hub_faults_on(&fs, (hub_fault_t)(HUB_FAULT__COUNT - 1)));
    assert_false(hub_faults_on(&fs, (hub_fault_t)0));
    assert_false(hub_faults_on(&fs, HUB_FAULT__COUNT));
}

/* A switch nobody consults would count as "not killed" forever: every one
 * must appear in a hub facility file other than faults.c. */
static void test_every_switch_is_consulted(void **state)
{
    (void)state;
    const char *root = getenv("HUBSIM_SOURCE_DIR");
    if (!root)
        skip();
    static const char *const files[] = { "hub.c", "registry.c", "auth.c", "connections.c",
                                         "methods.c", "d2c.c", "twins.c", "throttle.c", "events.c" };
    char *text[sizeof files / sizeof files[0]];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/sim/hub/%s", root, files[i]);
        text[i] = slurp(path);
        assert_non_null(text[i]);
    }
    for (int e = 0; e < HUB_FAULT__COUNT; e++) {
        bool found = false;
        size_t n = strlen(enum_names[e]);
        for (size_t i = 0; i < sizeof files / sizeof files[0] && !found; i++) {
            for (const char *p = strstr(text[i], enum_names[e]); p; p = strstr(p + 1, enum_names[e])) {
                char next = p[n];
                if (!(next == '_' || (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9'))) {
                    found = true;
                    break;
                }
            }
        }
        if (!found)
            fail_msg("%s is never consulted by the hub", enum_names[e]);
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        free(text[i]);
}

static void test_every_switch_documented(void **state)
{
    (void)state;
    const char *root = getenv("HUBSIM_SOURCE_DIR");
    if (!root)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/hub-model.md", root);
    char *doc = slurp(path);
    assert_non_null(doc);
    for (int e = 0; e < HUB_FAULT__COUNT; e++) {
        char want[128];
        snprintf(want, sizeof want, "`%s`", hub_fault_info((hub_fault_t)e)->name);
        if (!strstr(doc, want))
            fail_msg("docs/hub-model.md does not list %s", want);
    }
    free(doc);
}

static void test_hub_break_names(void **state)
{
    (void)state;
    sim_kernel_t *k = sim_kernel_new(1, 1767225600LL);
    hub_t *hub = NULL;
    assert_int_equal(hub_new(k, NULL, &hub, NULL, 0), HS_EOK);
    assert_int_equal(hub_break(hub, "NOT-A-RULE"), HS_ENOTFOUND);
    assert_int_equal(hub_break(hub, NULL), HS_EINVAL);
    for (int e = 0; e < HUB_FAULT__COUNT; e++)
        assert_int_equal(hub_break(hub, hub_fault_info((hub_fault_t)e)->name), HS_EOK);
    for (int e = 0; e < HUB_FAULT__COUNT; e++)
        assert_true(hub_faults_on(hub_faults(hub), (hub_fault_t)e));
    hub_free(hub);
    sim_kernel_free(k);
}

static const char *const staged_enum_names[] = {
#define ENUM_NAME(e, name, rule, desc) "HUB_FAULT_" #e,
    HUB_FAULT_STAGED_MAP(ENUM_NAME)
#undef ENUM_NAME
};

/* True when text holds word as a whole identifier. */
static bool names(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        char next = p[n];
        if (!(next == '_' || (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9')))
            return true;
    }
    return false;
}

/* The staged switches (issue 10's areas): each is looked up by name, armed
 * by hub_break, consulted in the code of its area and documented. */
static void test_staged_switches(void **state)
{
    (void)state;
    size_t n = hub_fault_staged_count();
    assert_int_equal(n, sizeof staged_enum_names / sizeof staged_enum_names[0]);
    assert_true(n >= 30);
    assert_null(hub_fault_staged_info(n));
    sim_kernel_t *k = sim_kernel_new(1, 1767225600LL);
    hub_t *hub = NULL;
    assert_int_equal(hub_new(k, NULL, &hub, NULL, 0), HS_EOK);
    for (size_t i = 0; i < n; i++) {
        const hub_fault_info_t *a = hub_fault_staged_info(i);
        assert_non_null(a);
        assert_string_equal(a->name, a->rule_id); /* each names the rule it breaks */
        assert_true(strlen(a->description) > 0);
        hub_fault_t f;
        assert_int_equal(hub_fault_lookup(a->name, &f), HS_EOK);
        assert_int_equal((size_t)f, (size_t)HUB_FAULT__COUNT + i);
        assert_null(hub_fault_info(f));
        for (int j = 0; j < HUB_FAULT__COUNT; j++)
            assert_string_not_equal(a->name, hub_fault_info((hub_fault_t)j)->name);
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(a->name, hub_fault_staged_info(j)->name);
        assert_false(hub_faults_on(hub_faults(hub), f));
        assert_int_equal(hub_break(hub, a->name), HS_EOK);
        assert_true(hub_faults_on(hub_faults(hub), f));
    }
    hub_free(hub);
    sim_kernel_free(k);

    const char *root = getenv("HUBSIM_SOURCE_DIR");
    if (!root)
        skip();
    static const char *const code[] = {
        "sim/hub/gateways.c",  "sim/hub/identity_io.c",  "sim/hub/jobs.c",    "sim/hub/uploads.c",
        "serve/http/http_jobs.c", "serve/http/http_query.c", "serve/amqp/feeds.c",
    };
    static const char *const docs[] = { "docs/gateways.md", "docs/conformance.md" };
    char *ctext[sizeof code / sizeof code[0]], *dtext[sizeof docs / sizeof docs[0]];
    for (size_t i = 0; i < sizeof code / sizeof code[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", root, code[i]);
        assert_non_null(ctext[i] = slurp(path));
    }
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", root, docs[i]);
        assert_non_null(dtext[i] = slurp(path));
    }
    for (size_t e = 0; e < n; e++) {
        bool consulted = false, documented = false;
        for (size_t i = 0; i < sizeof code / sizeof code[0]; i++)
            consulted = consulted || names(ctext[i], staged_enum_names[e]);
        char want[128];
        snprintf(want, sizeof want, "`%s`", hub_fault_staged_info(e)->name);
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
            documented = documented || strstr(dtext[i], want) != NULL;
        if (!consulted)
            fail_msg("%s is never consulted", staged_enum_names[e]);
        if (!documented)
            fail_msg("neither docs/gateways.md nor docs/conformance.md lists %s", want);
    }
    for (size_t i = 0; i < sizeof code / sizeof code[0]; i++)
        free(ctext[i]);
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        free(dtext[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_unique_and_lookup),
        cmocka_unit_test(test_every_switch_is_consulted),
        cmocka_unit_test(test_every_switch_documented),
        cmocka_unit_test(test_hub_break_names),
        cmocka_unit_test(test_staged_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
