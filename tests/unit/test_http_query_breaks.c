/* POST /devices/query under each TWINQ-* break switch: the broken answer the conformance cases must notice, and the unbroken one beside it. */
#include "test_http_fixture.h"

#include <jansson.h>

/* The fleet: the fixture's dev1 and d4 without tags, d1 {region US, floor 1}, d2 {EU}, d3 {US},
 * d5 {ASIA}; module d1/m1. */
static fx_t *fleet(const char *brk)
{
    fx_t *f = fx_new();
    if (brk)
        assert_int_equal(hub_break(f->hub, brk), HS_EOK);
    static const struct {
        const char *id, *patch;
    } devs[] = {
        { "d1", "{\"tags\":{\"region\":\"US\",\"floor\":1}}" },
        { "d2", "{\"tags\":{\"region\":\"EU\"}}" },
        { "d3", "{\"tags\":{\"region\":\"US\"}}" },
        { "d4", NULL },
        { "d5", "{\"tags\":{\"region\":\"ASIA\"}}" },
    };
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        hub_identity_spec_t s = { .device_id = devs[i].id, .primary_key = KEY };
        assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
        if (devs[i].patch)
            assert_int_equal(hub_twin_patch(f->hub, devs[i].id, NULL, devs[i].patch, strlen(devs[i].patch), NULL, NULL),
                             HUB_EOK);
    }
    hub_identity_spec_t m = { .device_id = "d1", .module_id = "m1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    return f;
}

/* POST the query (page size 2 when paged, token tok or ""); the status, body and next token. */
static int post(fx_t *f, const char *sql, bool paged, const char *tok, capture_t *c, char *next, size_t cap)
{
    json_t *b = json_pack("{s:s}", "query", sql);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    char cont[200];
    snprintf(cont, sizeof cont, "x-ms-continuation: %s", tok);
    const char *hdr[3] = { NULL, NULL, NULL };
    size_t n = 0;
    if (paged)
        hdr[n++] = "x-ms-max-item-count: 2";
    if (tok && tok[0])
        hdr[n++] = cont;
    fx_svc(f, "POST", "/devices/query?api-version=2021-04-12", hdr, text, c);
    free(text);
    const char *t = cap_header(c, "x-ms-continuation");
    if (next)
        snprintf(next, cap, "%s", t ? t : "");
    return c->status;
}

/* The deviceIds of the rows in answer order ("d1,d3"), or the whole body for aggregates. */
static void ids(const capture_t *c, char *out, size_t cap)
{
    json_t *rows = cap_json(c);
    out[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v) {
        const char *id = json_string_value(json_object_get(v, "deviceId"));
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", used ? "," : "", id ? id : "?");
    }
    json_decref(rows);
}

/* sql's rows on the unbroken hub and on the hub with brk armed. */
static void expect(const char *brk, const char *sql, const char *plain, const char *broken)
{
    const char *names[2] = { NULL, brk };
    const char *want[2] = { plain, broken };
    for (int k = 0; k < 2; k++) {
        fx_t *f = fleet(names[k]);
        capture_t c;
        char got[400];
        assert_int_equal(post(f, sql, false, "", &c, NULL, 0), 200);
        ids(&c, got, sizeof got);
        if (strcmp(got, want[k]) != 0)
            fail_msg("%s '%s': %s, want %s", names[k] ? names[k] : "unbroken", sql, got, want[k]);
        fx_free(f);
    }
}

static void test_language_switches(void **state)
{
    (void)state;
    expect("TWINQ-WHERE", "SELECT * FROM devices WHERE tags.region = 'US'", "d1,d3", "dev1,d1,d2,d3,d4,d5");
    expect("TWINQ-IN-NIN", "SELECT * FROM devices WHERE IS_DEFINED(tags.region) AND tags.region NIN ['US', 'EU']",
           "d5", "d1,d2,d3");
    expect("TWINQ-IS-DEFINED", "SELECT * FROM devices WHERE IS_DEFINED(tags.floor)", "d1", "dev1,d2,d3,d4,d5");
    expect("TWINQ-MODULES", "SELECT * FROM devices.modules", "d1", "");
    /* GROUP BY ignored: one row over every twin */
    for (int k = 0; k < 2; k++) {
        fx_t *f = fleet(k ? "TWINQ-COUNT-GROUP-BY" : NULL);
        capture_t c;
        assert_int_equal(post(f, "SELECT tags.region AS region, COUNT() AS n FROM devices GROUP BY tags.region", false,
                              "", &c, NULL, 0),
                         200);
        json_t *rows = cap_json(&c);
        assert_int_equal(json_array_size(rows), k ? 1 : 4); /* (none: dev1, d4), US, EU, ASIA */
        if (k)
            assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "n")), 6);
        json_decref(rows);
        fx_free(f);
    }
}

static void test_paging_and_error_switches(void **state)
{
    (void)state;
    /* TWINQ-CONTINUATION: the token points at the last row of its page */
    for (int k = 0; k < 2; k++) {
        fx_t *f = fleet(k ? "TWINQ-CONTINUATION" : NULL);
        char tok[200] = "", seen[200] = "";
        int pages = 0;
        do {
            capture_t c;
            char got[100];
            assert_int_equal(post(f, "SELECT * FROM devices", true, tok, &c, tok, sizeof tok), 200);
            ids(&c, got, sizeof got);
            size_t used = strlen(seen);
            snprintf(seen + used, sizeof seen - used, "%s%s", used ? "|" : "", got);
            assert_true(++pages < 10);
        } while (tok[0]);
        assert_string_equal(seen, k ? "dev1,d1|d1,d2|d2,d3|d3,d4|d4,d5" : "dev1,d1|d2,d3|d4,d5");
        fx_free(f);
    }
    /* TWINQ-BAD-QUERY: still 400, without the position */
    for (int k = 0; k < 2; k++) {
        fx_t *f = fleet(k ? "TWINQ-BAD-QUERY" : NULL);
        capture_t c;
        assert_int_equal(post(f, "SELECT * FROM devices\nWHERE tags.region = )", false, "", &c, NULL, 0), 400);
        if (k)
            assert_null(strstr(c.body, "line 2"));
        else
            assert_non_null(strstr(c.body, "line 2, column 21"));
        fx_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_language_switches),
        cmocka_unit_test(test_paging_and_error_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
