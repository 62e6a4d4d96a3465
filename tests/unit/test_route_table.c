/* Unit tests for the route table: loading and its errors, dedup of endpoints, the fallback route, per-route counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/route/route_table.h"

static const char *config_text =
    "{\"endpoints\":{"
    "  \"eventHubs\":[{\"name\":\"hot\",\"connectionString\":\"ignored\"}],"
    "  \"serviceBusQueues\":[{\"name\":\"alerts\"}],"
    "  \"serviceBusTopics\":[{\"name\":\"topic\"}],"
    "  \"storageContainers\":[{\"name\":\"cold\"}]},"
    " \"routes\":["
    "  {\"name\":\"toCold\",\"source\":\"DeviceMessages\",\"condition\":\"true\",\"endpointNames\":[\"cold\"],\"isEnabled\":true},"
    "  {\"name\":\"hot1\",\"source\":\"DeviceMessages\",\"condition\":\"processingPath = 'hot'\",\"endpointNames\":[\"hot\"]},"
    "  {\"name\":\"hot2\",\"source\":\"DeviceMessages\",\"condition\":\"severity = '5'\",\"endpointNames\":[\"HOT\"]},"
    "  {\"name\":\"err\",\"source\":\"DeviceMessages\",\"condition\":\"nosuch = 'x'\",\"endpointNames\":[\"alerts\"]},"
    "  {\"name\":\"twin\",\"source\":\"TwinChangeEvents\",\"endpointNames\":[\"topic\"]},"
    "  {\"name\":\"off\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"events\"],\"isEnabled\":false}"
    " ]}";

static route_table_t *load(const char *text, route_load_error_t *err, hs_err_t want)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) {
        print_error("bad JSON in test: %s\n", jerr.text);
        fail();
    }
    route_table_t *t = NULL;
    route_load_error_t local;
    hs_err_t e = route_table_load(j, NULL, &t, err ? err : &local);
    json_decref(j);
    if (e != want) {
        print_error("load gave %d (%s: %s), want %d\n", e, (err ? err : &local)->where,
                    (err ? err : &local)->message, want);
        route_table_free(t);
        fail();
    }
    return t;
}

static void msg_with(route_message_t *m, route_prop_t *props, size_t n)
{
    route_message_init(m);
    m->app = props;
    m->napp = n;
}

static void test_endpoint_order(void **state)
{
    (void)state;
    route_table_t *t = load(config_text, NULL, HS_EOK);
    assert_int_equal(route_table_endpoint_count(t), 5);
    assert_string_equal(route_table_endpoint_name(t, 0), "events");
    assert_string_equal(route_table_endpoint_name(t, 1), "hot");
    assert_string_equal(route_table_endpoint_name(t, 2), "alerts");
    assert_string_equal(route_table_endpoint_name(t, 3), "topic");
    assert_string_equal(route_table_endpoint_name(t, 4), "cold");
    assert_int_equal(route_table_endpoint_kind(t, 4), ROUTE_EP_STORAGE);
    assert_int_equal(route_table_endpoint_find(t, "HOT"), 1);
    assert_int_equal(route_table_endpoint_find(t, "nope"), -1);
    assert_int_equal(route_table_route_count(t), 6);
    route_table_free(t);
}

static void test_dedup(void **state)
{
    (void)state;
    route_table_t *t = load(config_text, NULL, HS_EOK);
    route_prop_t props[] = { { "processingPath", "hot" }, { "severity", "5" } };
    route_message_t m;
    msg_with(&m, props, 2);
    uint32_t eps[8], matched[8];
    route_match_t res;
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 8, &res, matched), HS_EOK);
    /* toCold, hot1, hot2 match; hot1 and hot2 share "hot": delivered once */
    assert_int_equal(res.nmatched, 3);
    assert_int_equal(res.nendpoints, 2);
    assert_int_equal(eps[0], 1); /* hot */
    assert_int_equal(eps[1], 4); /* cold */
    assert_false(res.fallback);
    assert_int_equal(matched[0], 0);
    assert_int_equal(matched[1], 1);
    assert_int_equal(matched[2], 2);
    /* the capacity is checked */
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 1, &res, NULL), HS_EFULL);
    route_table_free(t);
}

static void test_fallback(void **state)
{
    (void)state;
    /* only a conditional route: no match -> fallback to events; match -> no fallback */
    const char *cfg = "{\"endpoints\":{\"eventHubs\":[{\"name\":\"hot\"}]},\"routes\":["
                      "{\"name\":\"r\",\"source\":\"DeviceMessages\",\"condition\":\"p = 'hot'\","
                      "\"endpointNames\":[\"hot\"]}]}";
    route_table_t *t = load(cfg, NULL, HS_EOK);
    route_prop_t cold[] = { { "p", "cold" } }, hot[] = { { "p", "hot" } };
    route_message_t m;
    uint32_t eps[4];
    route_match_t res;
    msg_with(&m, cold, 1);
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_true(res.fallback);
    assert_int_equal(res.nendpoints, 1);
    assert_int_equal(eps[0], ROUTE_ENDPOINT_EVENTS);
    msg_with(&m, hot, 1);
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_false(res.fallback);
    assert_int_equal(res.nendpoints, 1);
    assert_int_equal(eps[0], 1);
    /* the fallback is for device messages only */
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_TWIN_CHANGE_EVENTS, eps, 4, &res, NULL), HS_EOK);
    assert_int_equal(res.nendpoints, 0);
    assert_false(res.fallback);
    /* disabled fallback: nothing */
    msg_with(&m, cold, 1);
    assert_int_equal(route_table_route_enable(t, 1, false), HS_EOK);
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_int_equal(res.nendpoints, 0);
    assert_false(res.fallback);
    assert_int_equal(route_table_route_enable(t, 2, false), HS_ERANGE);
    route_stats_t st;
    assert_int_equal(route_table_route_stats(t, 1, &st), HS_EOK);
    assert_int_equal(st.evaluated, 1); /* evaluated once: before it was disabled */
    assert_string_equal(route_table_route_name(t, 1), "$fallback");
    route_table_free(t);

    /* a fallback with its own condition, and disabled from the file */
    t = load("{\"fallbackRoute\":{\"name\":\"fb\",\"condition\":\"p = 'x'\",\"isEnabled\":true}}", NULL, HS_EOK);
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_int_equal(res.nendpoints, 0);
    route_table_free(t);
    t = load("{\"fallbackRoute\":{\"isEnabled\":false}}", NULL, HS_EOK);
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_int_equal(res.nendpoints, 0);
    route_table_free(t);
    /* no routing section at all: everything to events */
    assert_int_equal(route_table_load(NULL, NULL, &t, NULL), HS_EOK);
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_true(res.fallback);
    assert_int_equal(eps[0], 0);
    route_table_free(t);
}

static void test_route_matching_to_events_is_not_fallback(void **state)
{
    (void)state;
    /* a route to "events" plus one elsewhere: events once, no fallback */
    const char *cfg = "{\"endpoints\":{\"eventHubs\":[{\"name\":\"hot\"}]},\"routes\":["
                      "{\"name\":\"a\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"events\"]},"
                      "{\"name\":\"b\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"events\"]},"
                      "{\"name\":\"c\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"hot\"]}]}";
    route_table_t *t = load(cfg, NULL, HS_EOK);
    route_message_t m;
    msg_with(&m, NULL, 0);
    uint32_t eps[4];
    route_match_t res;
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_int_equal(res.nendpoints, 2);
    assert_int_equal(eps[0], 0);
    assert_int_equal(eps[1], 1);
    assert_false(res.fallback);
    route_table_free(t);
}

static void test_stats_and_sources(void **state)
{
    (void)state;
    route_table_t *t = load(config_text, NULL, HS_EOK);
    route_message_t m;
    msg_with(&m, NULL, 0);
    uint32_t eps[8];
    route_match_t res;
    for (int i = 0; i < 3; i++)
        assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 8, &res, NULL), HS_EOK);
    route_stats_t st;
    assert_int_equal(route_table_route_stats(t, 3, &st), HS_EOK); /* "err": undefined every time */
    assert_int_equal(st.evaluated, 3);
    assert_int_equal(st.errors, 3);
    assert_int_equal(st.matched, 0);
    assert_int_equal(route_table_route_stats(t, 4, &st), HS_EOK); /* twin route: other source */
    assert_int_equal(st.evaluated, 0);
    assert_int_equal(route_table_route_stats(t, 5, &st), HS_EOK); /* disabled */
    assert_int_equal(st.evaluated, 0);
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_TWIN_CHANGE_EVENTS, eps, 8, &res, NULL), HS_EOK);
    assert_int_equal(res.nendpoints, 1);
    assert_int_equal(eps[0], 3);
    assert_int_equal(route_table_route_stats(t, 7, &st), HS_ERANGE);
    assert_int_equal(route_source_lookup("twinchangeevents"), ROUTE_SRC_TWIN_CHANGE_EVENTS);
    assert_int_equal(route_source_lookup("Nope"), -1);
    route_table_free(t);
}

static void expect_load_error(const char *cfg, const char *where, const char *msg, int line, int column)
{
    route_load_error_t err;
    route_table_t *t = load(cfg, &err, HS_EPARSE);
    assert_null(t);
    if (!strstr(err.where, where) || !strstr(err.message, msg) || err.line != line || err.column != column) {
        print_error("got where='%s' msg='%s' %d:%d; want '%s' '%s' %d:%d\n", err.where, err.message,
                    err.line, err.column, where, msg, line, column);
        fail();
    }
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("{\"routes\":[{\"name\":\"bad\",\"source\":\"DeviceMessages\",\"condition\":"
                      "\"a = 1 AND\\n b = \",\"endpointNames\":[\"events\"]}]}",
                      "routes[0] \"bad\"", "end of expression", 2, 6);
    expect_load_error("{\"routes\":[{\"name\":\"f\",\"source\":\"DeviceMessages\",\"condition\":"
                      "\"nosuch(1)\",\"endpointNames\":[\"events\"]}]}",
                      "\"f\"", "unknown function", 1, 1);
    expect_load_error("{\"routes\":[{\"name\":\"r\",\"source\":\"Nope\",\"endpointNames\":[\"events\"]}]}",
                      "\"r\"", "source", 0, 0);
    expect_load_error("{\"routes\":[{\"name\":\"r\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"x\"]}]}",
                      "\"r\"", "not defined", 0, 0);
    expect_load_error("{\"routes\":[{\"name\":\"r\",\"source\":\"DeviceMessages\",\"endpointNames\":[]}]}",
                      "\"r\"", "exactly one", 0, 0);
    expect_load_error("{\"routes\":[{\"name\":\"r\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"events\"]},"
                      "{\"name\":\"R\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"events\"]}]}",
                      "routes[1]", "duplicate route", 0, 0);
    expect_load_error("{\"endpoints\":{\"eventHubs\":[{\"name\":\"a\"}],\"storageContainers\":[{\"name\":\"A\"}]}}",
                      "storageContainers[0]", "duplicate endpoint", 0, 0);
    expect_load_error("{\"endpoints\":{\"eventHubs\":[{\"name\":\"events\"}]}}", "eventHubs[0]", "reserved", 0, 0);
    expect_load_error("{\"endpoints\":{\"kafka\":[]}}", "endpoints.kafka", "unknown endpoint group", 0, 0);
    expect_load_error("{\"routez\":[]}", "routing", "unknown key", 0, 0);
    expect_load_error("{\"fallbackRoute\":{\"endpointNames\":[\"hot\"]}}", "fallbackRoute", "events", 0, 0);
    expect_load_error("{\"fallbackRoute\":{\"source\":\"TwinChangeEvents\"}}", "fallbackRoute", "DeviceMessages", 0, 0);
    expect_load_error("{\"options\":{\"nope\":true}}", "options", "nope", 0, 0);
    expect_load_error("{\"routes\":[{\"name\":\"r\",\"source\":\"DeviceMessages\",\"endpointNames\":[\"events\"],"
                      "\"isEnabled\":\"yes\"}]}", "\"r\"", "isEnabled", 0, 0);
}

static void test_options_section(void **state)
{
    (void)state;
    /* the section's options apply to its routes: app-first resolution */
    const char *cfg = "{\"options\":{\"dollarAppFirst\":true},\"routes\":[{\"name\":\"r\",\"source\":"
                      "\"DeviceMessages\",\"condition\":\"$contentType = 'shadow'\",\"endpointNames\":[\"events\"]}]}";
    route_table_t *t = load(cfg, NULL, HS_EOK);
    assert_true(route_table_options(t)->dollar_app_first);
    route_prop_t props[] = { { "$contentType", "shadow" } };
    route_message_t m;
    msg_with(&m, props, 1);
    m.sys[ROUTE_SYS_CONTENT_TYPE] = "application/json";
    uint32_t eps[4];
    route_match_t res;
    assert_int_equal(route_table_match(t, &m, ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL), HS_EOK);
    assert_int_equal(res.nmatched, 1);
    assert_false(res.fallback);
    route_table_free(t);
}

static void test_reads_twin(void **state)
{
    (void)state;
    const char *cfg = "{\"routes\":[{\"name\":\"a\",\"source\":\"DeviceMessages\",\"condition\":\"p = 1\","
                      "\"endpointNames\":[\"events\"]},{\"name\":\"b\",\"source\":\"TwinChangeEvents\",\"condition\":"
                      "\"$twin.tags.x = 1\",\"endpointNames\":[\"events\"]}]}";
    route_table_t *t = load(cfg, NULL, HS_EOK);
    assert_false(route_table_reads_twin(t, ROUTE_SRC_DEVICE_MESSAGES));
    assert_true(route_table_reads_twin(t, ROUTE_SRC_TWIN_CHANGE_EVENTS));
    assert_int_equal(route_table_route_enable(t, 1, false), HS_EOK);
    assert_false(route_table_reads_twin(t, ROUTE_SRC_TWIN_CHANGE_EVENTS));
    route_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_order),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_route_matching_to_events_is_not_fallback),
        cmocka_unit_test(test_stats_and_sources),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_options_section),
        cmocka_unit_test(test_reads_twin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
