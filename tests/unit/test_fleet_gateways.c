/* Field gateways and job actors in scenarios: the loader refuses bad ones with every error listed, and small runs show leaves going offline with their gateway and jobs counting per-device outcomes. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/fleet/fleet_port.h"
#include "sim/fleet/play.h"
#include "sim/fleet/scenario.h"
#include "sim/kernel.h"

static json_diag_list_t *load_fail(const char *text)
{
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    scenario_t s;
    hs_err_t rc = scenario_load_text(text, strlen(text), "case.json", &s, d);
    assert_int_not_equal(rc, HS_EOK);
    assert_null(s.groups);
    return d;
}

static void has_diag(const json_diag_list_t *d, const char *path, const char *needle)
{
    for (size_t i = 0; i < json_diag_count(d); i++) {
        const json_diag_t *x = json_diag_get(d, i);
        if (strcmp(x->path, path) == 0 && strstr(x->message, needle))
            return;
    }
    json_diag_print(d, stderr);
    fail_msg("no diagnostic %s: ...%s...", path, needle);
}

static void load_ok(const char *text, scenario_t *s)
{
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    hs_err_t rc = scenario_load_text(text, strlen(text), "ok.json", s, d);
    if (rc != HS_EOK)
        json_diag_print(d, stderr);
    assert_int_equal(rc, HS_EOK);
    json_diag_list_free(d);
}

static int64_t counter(report_result_t *r, const char *name)
{
    int64_t *v;
    assert_int_equal(report_result_counter_ref(r, name, &v), HS_EOK);
    return *v;
}

/* Every gateway error of one file is listed, each at its key. */
static void test_gateway_errors_all_listed(void **state)
{
    (void)state;
    json_diag_list_t *d = load_fail(
        "{\"duration\": \"10m\", \"groups\": [\n"
        " {\"name\": \"early-leaf\", \"count\": 2, \"behind\": \"gw\"},\n"
        " {\"name\": \"gw\", \"count\": 2, \"gateway\": true},\n"
        " {\"name\": \"plain\", \"count\": 2},\n"
        " {\"name\": \"a\", \"count\": 2, \"behind\": \"nosuch\"},\n"
        " {\"name\": \"b\", \"count\": 2, \"behind\": \"plain\"},\n"
        " {\"name\": \"c\", \"count\": 2, \"gateway\": true, \"behind\": \"gw\"},\n"
        " {\"name\": \"d\", \"count\": 2, \"gateway\": \"yes\", \"behind\": 3}\n"
        "]}");
    has_diag(d, "$.groups[0].behind", "gateway group \"gw\" must come before its leaf group \"early-leaf\"");
    has_diag(d, "$.groups[3].behind", "unknown gateway group \"nosuch\"");
    has_diag(d, "$.groups[4].behind", "group \"plain\" is not a gateway group");
    has_diag(d, "$.groups[5].behind", "a gateway group cannot itself be behind a gateway");
    has_diag(d, "$.groups[6].gateway", "expected boolean");
    has_diag(d, "$.groups[6].behind", "expected string");
    json_diag_list_free(d);
}

/* Every job error of one file is listed. */
static void test_job_errors_all_listed(void **state)
{
    (void)state;
    json_diag_list_t *d = load_fail(
        "{\"duration\": \"10m\", \"groups\": [{\"name\": \"g\", \"count\": 2, \"methods\": [{\"name\": \"m\"}]}],\n"
        " \"actors\": [\n"
        "  {\"kind\": \"job\", \"group\": \"g\"},\n"
        "  {\"kind\": \"job\", \"group\": \"g\", \"jobType\": \"reboot\", \"queryCondition\": \"deviceId = \"},\n"
        "  {\"kind\": \"job\", \"group\": \"g\", \"jobType\": \"scheduleDeviceMethod\", \"queryCondition\": \"1 = 1\",\n"
        "   \"method\": \"nosuch\", \"maxExecutionTime\": \"500ms\", \"pollInterval\": \"0s\", \"startTime\": \"-5s\"},\n"
        "  {\"kind\": \"job\", \"group\": \"g\", \"jobType\": \"scheduleUpdateTwin\", \"queryCondition\": \"1 = 1\",\n"
        "   \"method\": \"m\", \"ttl\": \"5s\"},\n"
        "  {\"kind\": \"job\", \"group\": \"g\", \"jobType\": \"scheduleDeviceMethod\", \"queryCondition\": \"1 = 1\"}\n"
        " ]}");
    has_diag(d, "$.actors[0]", "missing required key \"jobType\"");
    has_diag(d, "$.actors[0]", "missing required key \"queryCondition\"");
    has_diag(d, "$.actors[1].jobType", "expected \"scheduleDeviceMethod\" or \"scheduleUpdateTwin\"");
    has_diag(d, "$.actors[1].queryCondition", "expected a twin query WHERE condition");
    has_diag(d, "$.actors[2].method", "unknown method \"nosuch\"");
    has_diag(d, "$.actors[2].maxExecutionTime", "expected at least 1s");
    has_diag(d, "$.actors[2].pollInterval", "expected a poll interval above 0");
    has_diag(d, "$.actors[2].startTime", "non-negative duration");
    has_diag(d, "$.actors[3].method", "does not apply to jobType \"scheduleUpdateTwin\"");
    has_diag(d, "$.actors[3].ttl", "does not apply to kind \"job\"");
    has_diag(d, "$.actors[4]", "missing required key \"method\"");
    json_diag_list_free(d);
}

/* Gateways, leaves and a job survive scenario_to_json. */
static void test_round_trip(void **state)
{
    (void)state;
    scenario_t s, back;
    load_ok("{\"duration\": \"10m\", \"groups\": [{\"name\": \"gw\", \"count\": 2, \"gateway\": true},\n"
            " {\"name\": \"leaf\", \"count\": 4, \"behind\": \"gw\", \"methods\": [{\"name\": \"m\"}]}],\n"
            " \"actors\": [{\"name\": \"j\", \"kind\": \"job\", \"group\": \"leaf\", \"jobType\": \"scheduleDeviceMethod\",\n"
            "  \"method\": \"m\", \"queryCondition\": \"STARTS_WITH(deviceId, 'leaf')\", \"startTime\": \"30s\",\n"
            "  \"maxExecutionTime\": \"90s\", \"responseTimeout\": 7}]}",
            &s);
    assert_true(s.groups[0].gateway);
    assert_string_equal(s.groups[1].behind, "gw");
    assert_int_equal(s.groups[1].behind_index, 0);
    assert_int_equal(s.actors[0].kind, SCN_ACTOR_JOB);
    assert_int_equal(s.actors[0].max_exec_s, 90);
    assert_false(s.actors[0].job_repeat);
    char *text = scenario_to_json(&s);
    load_ok(text, &back);
    assert_true(back.groups[0].gateway);
    assert_string_equal(back.groups[1].behind, "gw");
    assert_string_equal(back.actors[0].query_condition, "STARTS_WITH(deviceId, 'leaf')");
    assert_int_equal(back.actors[0].job_start_delay, s.actors[0].job_start_delay);
    assert_int_equal(back.actors[0].max_exec_s, 90);
    assert_false(back.actors[0].job_repeat);
    assert_int_equal(back.actors[0].response_timeout_s, 7);
    free(text);
    scenario_free(&back);
    scenario_free(&s);
}

/* 2 gateways x 3 leaves each; the gateways are offline from 2m to 4m. */
static const char gateway_run[] =
    "{\"duration\": \"6m\", \"seed\": 3, \"groups\": [\n"
    " {\"name\": \"gw\", \"count\": 2, \"gateway\": true,\n"
    "  \"connectivity\": {\"offline\": [{\"start\": \"2m\", \"end\": \"4m\"}], \"connectSpread\": \"1s\"}},\n"
    " {\"name\": \"leaf\", \"count\": 6, \"behind\": \"gw\", \"methods\": [{\"name\": \"m\", \"latency\": \"10ms\"}]}],\n"
    " \"actors\": [{\"kind\": \"methodInvoker\", \"group\": \"leaf\", \"method\": \"m\", \"interval\": \"1s\",\n"
    "  \"pick\": \"roundRobin\"},\n"
    "  {\"kind\": \"c2dSender\", \"group\": \"leaf\", \"interval\": \"10s\", \"start\": \"2m30s\", \"end\": \"3m30s\"}]}";

static void play_text(const char *text, const char *brk, unsigned shards, play_outcome_t *out, hs_err_t want)
{
    scenario_t s;
    load_ok(text, &s);
    const char *breaks[1] = { brk };
    play_options_t po = { .shard = { 0, shards }, .breaks = breaks, .nbreaks = brk ? 1 : 0 };
    assert_int_equal(play_scenario(&s, &po, out), want);
    scenario_free(&s);
}

static void test_leaves_follow_their_gateway(void **state)
{
    (void)state;
    play_outcome_t out;
    play_text(gateway_run, NULL, 1, &out, HS_EOK);
    assert_true(out.conserved);
    report_result_t *r = out.result;
    assert_int_equal(counter(r, "gateway.outages"), 2);          /* each gateway once */
    assert_int_equal(counter(r, "gateway.leaf_drops"), 6);       /* every leaf with it */
    assert_int_equal(counter(r, "gateway.leaf_stranded"), 0);
    assert_int_equal(counter(r, "gateway.leaves_offline_at_end"), 0); /* all back after 4m */
    assert_int_equal(counter(r, "conn.online"), 8);
    /* ~120 calls in the 2 minutes down, all DeviceNotOnline; none answered then */
    assert_true(counter(r, "gateway.leaf_method_gateway_down.status.404") >= 110);
    assert_int_equal(counter(r, "gateway.leaf_method_gateway_down.status.200"), 0);
    assert_true(counter(r, "gateway.leaf_method.status.200") >= 200);
    /* C2D sent while the leaves were offline (2m30s..3m30s) is accepted, queued
     * and received after they return (a device takes one message per
     * reconnect notice, so a second queued one may wait) */
    assert_int_equal(counter(r, "c2d.accepted"), 7);
    assert_int_equal(counter(r, "device.c2d.received"), 5);
    assert_int_equal(counter(r, "device.c2d.completed"), 5);
    assert_int_equal(counter(r, "gateway.leaf_c2d_queued_gateway_down"), 7);
    assert_int_equal(counter(r, "gateway.leaf_c2d_after_reconnect"), 5);
    report_result_free(r);
}

/* A hub that keeps leaves online when the gateway goes (GATEWAY-LEAF-OFFLINE)
 * is seen: the leaves are stranded and answer calls while the gateway is down. */
static void test_broken_hub_strands_leaves(void **state)
{
    (void)state;
    play_outcome_t out;
    play_text(gateway_run, "GATEWAY-LEAF-OFFLINE", 1, &out, HS_EOK);
    assert_int_equal(counter(out.result, "gateway.leaf_stranded"), 6);
    assert_true(counter(out.result, "gateway.leaf_method_gateway_down.status.200") > 0);
    report_result_free(out.result);
}

/* A leaf and its gateway must share a hub: sharded gateway runs are refused. */
static void test_gateways_refuse_shards(void **state)
{
    (void)state;
    play_outcome_t out;
    memset(&out, 0, sizeof out);
    play_text(gateway_run, NULL, 2, &out, HS_EUNSUPPORTED);
    assert_non_null(strstr(out.why, "one shard"));
    report_result_free(out.result);
}

/* A job over 10 devices, 4 of them offline for the whole run: 6 x 200, 4 x 404. */
static void test_job_counts_device_outcomes(void **state)
{
    (void)state;
    play_outcome_t out;
    play_text("{\"duration\": \"5m\", \"groups\": [\n"
              " {\"name\": \"on\", \"count\": 6, \"idPattern\": \"d-on{n}\", \"methods\": [{\"name\": \"m\"}]},\n"
              " {\"name\": \"off\", \"count\": 4, \"idPattern\": \"d-off{n}\", \"methods\": [{\"name\": \"m\"}],\n"
              "  \"connectivity\": {\"offline\": [{\"start\": \"0s\", \"end\": \"10m\"}]}}],\n"
              " \"actors\": [{\"name\": \"j\", \"kind\": \"job\", \"group\": \"on\", \"jobType\": \"scheduleDeviceMethod\",\n"
              "  \"method\": \"m\", \"queryCondition\": \"STARTS_WITH(deviceId, 'd-')\", \"start\": \"1m\",\n"
              "  \"startTime\": \"30s\", \"pollInterval\": \"2s\"},\n"
              "  {\"name\": \"t\", \"kind\": \"job\", \"group\": \"on\", \"jobType\": \"scheduleUpdateTwin\",\n"
              "  \"queryCondition\": \"STARTS_WITH(deviceId, 'd-off')\", \"start\": \"1m\", \"interval\": \"1m\"}]}",
              NULL, 1, &out, HS_EOK);
    report_result_t *r = out.result;
    assert_int_equal(counter(r, "job.j.created"), 1);
    assert_int_equal(counter(r, "job.j.status.completed"), 1);
    assert_int_equal(counter(r, "job.j.devices"), 10);
    assert_int_equal(counter(r, "job.j.device.completed"), 6);
    assert_int_equal(counter(r, "job.j.device.failed"), 4);
    assert_int_equal(counter(r, "job.j.device.http.200"), 6);
    assert_int_equal(counter(r, "job.j.device.http.404"), 4);
    assert_int_equal(counter(r, "job.j.device.error.DeviceNotOnline"), 4);
    /* a repeating twin job: at 1m, 2m, 3m, 4m (the one at 5m is the run's end) */
    assert_true(counter(r, "job.t.created") >= 4);
    assert_int_equal(counter(r, "job.t.device.completed"), 4 * counter(r, "job.t.status.completed"));
    report_result_free(r);
}

/* ---- a port without the optional operations (like the live port today) ---- */

typedef struct {
    fleet_t *fleet;
    int leaf_parents; /* provisioned identities naming a parent */
} bare_port_t;

static void bare_connect(void *port, uint32_t dev, const char *id, bool bad_key, bool expired)
{
    (void)id;
    (void)bad_key;
    (void)expired;
    fleet_port_connected(((bare_port_t *)port)->fleet, dev, (fleet_port_result_t){ 0, 200, NULL });
}

static void bare_subscribe(void *port, uint32_t dev, unsigned subs)
{
    (void)subs;
    fleet_port_subscribed(((bare_port_t *)port)->fleet, dev, (fleet_port_result_t){ 0, 200, NULL });
}

static void bare_disconnect(void *port, uint32_t dev)
{
    (void)port;
    (void)dev;
}

static hs_err_t bare_provision(void *port, const hub_identity_spec_t *spec, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    if (spec->parent_id)
        ((bare_port_t *)port)->leaf_parents++;
    return HS_EOK;
}

static bool bare_check(void *port, char *why, size_t cap)
{
    (void)port;
    (void)why;
    (void)cap;
    return true;
}

/* A port with no leaf_connect, job or upload operations: every attempt is
 * counted as unsupported (never silently skipped), leaves are not retried
 * in a loop, and nothing crashes. */
static void test_port_without_optional_ops_reports_unsupported(void **state)
{
    (void)state;
    static const fleet_port_ops_t ops = { .connect = bare_connect, .subscribe = bare_subscribe,
                                          .disconnect = bare_disconnect, .provision = bare_provision,
                                          .check = bare_check };
    scenario_t s;
    load_ok("{\"duration\": \"5m\", \"groups\": [\n"
            " {\"name\": \"gw\", \"count\": 2, \"gateway\": true, \"uploads\": {\"interval\": \"1m\"}},\n"
            " {\"name\": \"leaf\", \"count\": 4, \"behind\": \"gw\"}],\n"
            " \"actors\": [{\"kind\": \"job\", \"group\": \"leaf\", \"jobType\": \"scheduleUpdateTwin\",\n"
            "  \"queryCondition\": \"1 = 1\", \"start\": \"1m\"}]}",
            &s);
    sim_kernel_t *k = sim_kernel_new(s.seed, s.start_unix);
    report_result_t *r = report_result_new(REPORT_KIND_SCENARIO, "bare");
    bare_port_t port = { 0 };
    fleet_options_t opt = { 0, 1 };
    char why[256] = "";
    assert_int_equal(fleet_new_on_port(k, &ops, &port, &s, &opt, r, &port.fleet, why, sizeof why), HS_EOK);
    fleet_run_until(port.fleet, s.duration);
    assert_true(fleet_finish(port.fleet, why, sizeof why));
    assert_int_equal(port.leaf_parents, 4);
    assert_int_equal(counter(r, "gateway.unsupported"), 4);      /* each leaf once: its gateway connected once */
    assert_int_equal(counter(r, "conn.failed.unsupported"), 4);
    assert_int_equal(counter(r, "conn.online"), 2);               /* the gateways */
    assert_int_equal(counter(r, "job.unsupported"), 1);
    assert_true(counter(r, "upload.unsupported") >= 8);           /* 2 gateways, ~every minute */
    fleet_free(port.fleet);
    report_result_free(r);
    sim_kernel_free(k);
    scenario_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_errors_all_listed),
        cmocka_unit_test(test_job_errors_all_listed),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_leaves_follow_their_gateway),
        cmocka_unit_test(test_broken_hub_strands_leaves),
        cmocka_unit_test(test_gateways_refuse_shards),
        cmocka_unit_test(test_job_counts_device_outcomes),
        cmocka_unit_test(test_port_without_optional_ops_reports_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
