/* File uploads as a device behaviour: bad settings refused with every error listed, transfer time = size / bandwidth in virtual time, notifications counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/fleet/play.h"
#include "sim/fleet/scenario.h"

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

static int64_t counter(report_result_t *r, const char *name)
{
    int64_t *v;
    assert_int_equal(report_result_counter_ref(r, name, &v), HS_EOK);
    return *v;
}

static void test_upload_errors_all_listed(void **state)
{
    (void)state;
    const char *text =
        "{\"duration\": \"10m\", \"groups\": [\n"
        " {\"name\": \"a\", \"count\": 1, \"uploads\": {\"bandwidth\": -5, \"interval\": \"0s\",\n"
        "   \"fileSize\": \"-1MB\", \"failureProbability\": 1.5, \"noNotifyProbability\": -0.1, \"speed\": 1}},\n"
        " {\"name\": \"b\", \"count\": 1, \"uploads\": {\"bandwidth\": 0, \"fileSize\": {\"uniform\": [\"5MB\", \"1MB\"]}}},\n"
        " {\"name\": \"c\", \"count\": 1, \"uploads\": \"often\"}\n"
        "]}";
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    scenario_t s;
    assert_int_not_equal(scenario_load_text(text, strlen(text), "case.json", &s, d), HS_EOK);
    has_diag(d, "$.groups[0].uploads.bandwidth", "expected a non-negative size, got -5");
    has_diag(d, "$.groups[0].uploads.interval", "expected a positive value");
    has_diag(d, "$.groups[0].uploads.fileSize", "expected a non-negative size, got \"-1MB\"");
    has_diag(d, "$.groups[0].uploads.failureProbability", "expected a probability in 0..1, got 1.5");
    has_diag(d, "$.groups[0].uploads.noNotifyProbability", "expected a probability in 0..1, got -0.1");
    has_diag(d, "$.groups[0].uploads.speed", "unknown key \"speed\"");
    has_diag(d, "$.groups[1].uploads.bandwidth", "expected a bandwidth above 0");
    has_diag(d, "$.groups[1].uploads.fileSize.uniform", "expected [low, high] with low <= high");
    has_diag(d, "$.groups[2].uploads", "expected object");
    json_diag_list_free(d);
}

static void play_text(const char *text, play_outcome_t *out)
{
    json_diag_list_t *d = NULL;
    assert_int_equal(json_diag_list_new(&d), HS_EOK);
    scenario_t s;
    hs_err_t rc = scenario_load_text(text, strlen(text), "ok.json", &s, d);
    if (rc)
        json_diag_print(d, stderr);
    assert_int_equal(rc, HS_EOK);
    json_diag_list_free(d);
    play_options_t po = { .shard = { 0, 1 } };
    assert_int_equal(play_scenario(&s, &po, out), HS_EOK);
    scenario_free(&s);
}

/* 4 devices upload 3 MB at 1 MB/s every 2 minutes: each upload takes exactly 3 s. */
static void test_transfer_time_is_size_over_bandwidth(void **state)
{
    (void)state;
    play_outcome_t out;
    play_text("{\"duration\": \"10m\", \"hub\": {\"fileUpload\": {\"notifications\": true}}, \"groups\": [\n"
              " {\"name\": \"cam\", \"count\": 4, \"connectivity\": {\"connectSpread\": \"1s\"},\n"
              "  \"uploads\": {\"interval\": \"2m\", \"fileSize\": \"3MB\", \"bandwidth\": \"1MB\"}}]}",
              &out);
    report_result_t *r = out.result;
    assert_true(out.conserved);
    assert_int_equal(counter(r, "upload.started"), 16); /* at ~2m, 4m, 6m, 8m */
    assert_int_equal(counter(r, "upload.completed"), 16);
    assert_int_equal(counter(r, "upload.notifications"), 16);
    assert_int_equal(counter(r, "upload.notification_gap"), 0);
    report_hist_t *h;
    assert_int_equal(report_result_hist(r, "upload.duration", &h), HS_EOK);
    assert_int_equal(report_hist_count(h), 16);
    assert_int_equal(report_hist_sum(h), 16ULL * 3000000000ULL);
    report_result_free(r);
}

/* Notifications off in the hub: uploads complete, none is notified; reported
 * failures are accepted by the hub and not notified either. */
static void test_failures_and_disabled_notifications(void **state)
{
    (void)state;
    play_outcome_t out;
    play_text("{\"duration\": \"10m\", \"groups\": [\n"
              " {\"name\": \"cam\", \"count\": 20, \"uploads\": {\"interval\": \"1m\", \"fileSize\": \"100KB\",\n"
              "  \"bandwidth\": \"1MB\", \"failureProbability\": 0.5}}]}",
              &out);
    report_result_t *r = out.result;
    int64_t done = counter(r, "upload.completed"), failed = counter(r, "upload.failed_reported");
    assert_true(done > 20 && failed > 20);
    assert_int_equal(done + failed, counter(r, "upload.started"));
    assert_int_equal(counter(r, "upload.notifications"), 0);
    assert_int_equal(counter(r, "upload.notification_gap"), done);
    report_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_errors_all_listed),
        cmocka_unit_test(test_transfer_time_is_size_over_bandwidth),
        cmocka_unit_test(test_failures_and_disabled_notifications),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
