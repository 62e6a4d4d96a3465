/* Scheduled jobs in virtual time: method jobs with 404/504 outcomes, twin jobs, start in the future, max execution time, cancel, REST routes (FROM devices.jobs included) and bad input. */
#include "test_http_fixture.h"

#include <jansson.h>
#include "sim/hub/jobs.h"
#include "sim/route/twin_query.h"

/* Literals of this test, never read back from the code under test. */
#define NDEV 300
#define CONCURRENCY 100 /* per-job calls in flight (docs/jobs.md knob) */

/* Device i: i % 10 in {0,1} never connects, {2,3,4} answers at once,
 * {5..9} is online and never answers. */
typedef enum { OFFLINE, ANSWER, SILENT } kind_t;

static kind_t kind_of(int i)
{
    int r = i % 10;
    return r < 2 ? OFFLINE : r < 5 ? ANSWER : SILENT;
}

typedef struct {
    hub_t *hub;
    hub_conn_t conn;
    kind_t kind;
    int n;
    int requests;
} dev_t;

static void on_method(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                      const char *payload, size_t len)
{
    (void)name;
    (void)payload;
    (void)len;
    dev_t *d = ctx;
    d->requests++;
    if (d->kind == ANSWER) {
        char body[64];
        snprintf(body, sizeof body, "{\"n\":%d}", d->n);
        assert_int_equal(hub_device_method_respond(d->hub, conn, rid, 201, body, strlen(body)), HUB_EOK);
    }
}

static const hub_sink_ops_t dev_ops = { .method_request = on_method };

typedef struct {
    fx_t *f;
    dev_t devs[NDEV];
} fleet_t;

static fleet_t *fleet_new(void)
{
    fleet_t *fl = calloc(1, sizeof *fl);
    assert_non_null(fl);
    fl->f = fx_new();
    static const char *const kinds[] = { "offline", "answer", "silent" };
    for (int i = 0; i < NDEV; i++) {
        char id[16], patch[96], res[128], tok[1024];
        snprintf(id, sizeof id, "j%03d", i);
        hub_identity_spec_t s = { .device_id = id, .primary_key = KEY };
        assert_int_equal(hub_identity_create(fl->f->hub, &s, NULL), HUB_EOK);
        snprintf(patch, sizeof patch, "{\"tags\":{\"kind\":\"%s\",\"n\":%d}}", kinds[kind_of(i)], i);
        assert_int_equal(hub_twin_patch(fl->f->hub, id, NULL, patch, strlen(patch), NULL, NULL), HUB_EOK);
        dev_t *d = &fl->devs[i];
        d->hub = fl->f->hub;
        d->kind = kind_of(i);
        d->n = i;
        if (d->kind == OFFLINE)
            continue;
        snprintf(res, sizeof res, "%s/devices/%s", HOST, id);
        assert_int_equal(hub_sas_make(KEY, res, EPOCH + 86400, NULL, tok, sizeof tok), HS_EOK);
        hub_connect_params_t p = { .device_id = id, .sas_token = tok };
        assert_int_equal(hub_device_connect(fl->f->hub, &p, &dev_ops, d, &d->conn), HUB_EOK);
        assert_int_equal(hub_device_subscribe(fl->f->hub, d->conn, HUB_SUB_METHODS), HUB_EOK);
    }
    return fl;
}

static void fleet_free(fleet_t *fl, hub_jobs_t *js)
{
    hub_jobs_free(js); /* every job has ended: no call in flight */
    fx_free(fl->f);
    free(fl);
}

static void run_to(fleet_t *fl, sim_time_t t)
{
    sim_kernel_run_until(fl->f->k, t);
}

static hub_jobs_err_t create(hub_jobs_t *js, const char *id, const char *desc_json, char *why, size_t cap)
{
    json_error_t je;
    json_t *desc = json_loads(desc_json, 0, &je);
    if (!desc)
        fail_msg("test description is not JSON: %s", je.text);
    hub_jobs_err_t e = hub_jobs_create(js, id, desc, NULL, why, cap);
    json_decref(desc);
    return e;
}

static void expect_state(hub_jobs_t *js, const char *id, hub_job_status_t want, uint32_t devices,
                         uint32_t failed, uint32_t succeeded, uint32_t running, uint32_t pending)
{
    hub_job_status_t st;
    hub_job_stats_t s;
    assert_int_equal(hub_jobs_status(js, id, &st, &s), HUB_JOBS_OK);
    if (st != want)
        fail_msg("job %s is %s, want %s", id, hub_job_status_name(st), hub_job_status_name(want));
    assert_int_equal(s.device_count, devices);
    assert_int_equal(s.failed_count, failed);
    assert_int_equal(s.succeeded_count, succeeded);
    assert_int_equal(s.running_count, running);
    assert_int_equal(s.pending_count, pending);
}

/* Count device records of a job by (status, error code or outcome status). */
static int count_records(hub_jobs_t *js, const char *job, const char *status, const char *code)
{
    json_t *recs = hub_jobs_device_records(js, job);
    assert_non_null(recs);
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "status")), status) != 0)
            continue;
        const char *c = json_string_value(json_object_get(json_object_get(r, "error"), "code"));
        if (code && (!c || strcmp(c, code) != 0))
            continue;
        n++;
    }
    json_decref(recs);
    return n;
}

#define METHOD_JOB(cond, extra)                                                                       \
    "{\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"" cond "\","                          \
    "\"cloudToDeviceMethod\":{\"methodName\":\"reboot\",\"payload\":{\"delay\":1},"                 \
    "\"responseTimeoutInSeconds\":5,\"connectTimeoutInSeconds\":0}" extra "}"

static void test_method_job_outcomes(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    hub_jobs_t *js = hub_jobs_new(fl->f->hub);
    assert_non_null(js);
    char why[256];
    /* every fleet device (dev1 of the fixture has no tags) */
    assert_int_equal(create(js, "reboot-all", METHOD_JOB("IS_DEFINED(tags.kind)", ""), why, sizeof why),
                     HUB_JOBS_OK);
    expect_state(js, "reboot-all", HUB_JOB_QUEUED, 0, 0, 0, 0, 0);
    run_to(fl, SIM_SEC);
    /* in order until 100 silent calls are in flight (j000..j199): 40 offline
     * (404 at once), 60 answered, 100 waiting; j200..j299 not called yet */
    expect_state(js, "reboot-all", HUB_JOB_RUNNING, NDEV, 40, 60, CONCURRENCY, 100);
    assert_int_equal(count_records(js, "reboot-all", "failed", "DeviceNotOnline"), 40);
    assert_int_equal(count_records(js, "reboot-all", "pending", NULL), 100);
    assert_int_equal(hub_method_pending(fl->f->hub), CONCURRENCY);
    /* at 5 s the first 100 end 504 and j200..j299 are called: 20 offline,
     * 30 answered, 50 in flight */
    run_to(fl, 5 * SIM_SEC);
    expect_state(js, "reboot-all", HUB_JOB_RUNNING, NDEV, 160, 90, 50, 0);
    run_to(fl, 10 * SIM_SEC);
    expect_state(js, "reboot-all", HUB_JOB_COMPLETED, NDEV, 210, 90, 0, 0);
    assert_int_equal(count_records(js, "reboot-all", "failed", "GatewayTimeout"), 150);
    assert_int_equal(count_records(js, "reboot-all", "completed", NULL), 90);
    for (int i = 0; i < NDEV; i++)
        assert_int_equal(fl->devs[i].requests, kind_of(i) == OFFLINE ? 0 : 1);

    /* the outcome of an answering device, in registration order */
    json_t *recs = hub_jobs_device_records(js, "reboot-all");
    json_t *r2 = json_array_get(recs, 2);
    assert_string_equal(json_string_value(json_object_get(r2, "deviceId")), "j002");
    json_t *resp = json_object_get(json_object_get(r2, "outcome"), "deviceMethodResponse");
    assert_int_equal(json_integer_value(json_object_get(resp, "status")), 201);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(resp, "payload"), "n")), 2);
    json_t *r0 = json_array_get(recs, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "deviceId")), "j000");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "error"), "code")),
                        "DeviceNotOnline");
    json_decref(recs);

    json_t *doc = NULL;
    assert_int_equal(hub_jobs_get(js, "reboot-all", &doc), HUB_JOBS_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "completed");
    assert_string_equal(json_string_value(json_object_get(doc, "createdTime")), "2026-01-01T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(doc, "startTime")), "2026-01-01T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(doc, "endTime")), "2026-01-01T00:00:10.000Z");
    json_decref(doc);
    fleet_free(fl, js);
}

/* FROM devices.jobs (sim/route/twin_query.h) over the records the model keeps: the per-device
 * outcomes of a method job, selected by status and error code. */
static void test_device_jobs_query(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    hub_jobs_t *js = hub_jobs_new(fl->f->hub);
    char why[256];
    assert_int_equal(create(js, "reboot-all", METHOD_JOB("IS_DEFINED(tags.kind)", ""), why, sizeof why),
                     HUB_JOBS_OK);
    run_to(fl, 10 * SIM_SEC);
    expect_state(js, "reboot-all", HUB_JOB_COMPLETED, NDEV, 210, 90, 0, 0);
    json_t *recs = hub_jobs_device_records(js, NULL);
    static const struct {
        const char *q;
        size_t want;
    } cases[] = {
        { "SELECT * FROM devices.jobs", NDEV },
        { "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'reboot-all' AND devices.jobs.status = 'completed'", 90 },
        { "SELECT * FROM devices.jobs WHERE status = 'failed' AND error.code = 'DeviceNotOnline'", 60 },
        { "SELECT * FROM devices.jobs WHERE error.code = 'GatewayTimeout'", 150 },
        { "SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'j002' AND jobType = 'scheduleDeviceMethod'"
          " AND outcome.deviceMethodResponse.status = 201", 1 },
        { "SELECT * FROM devices.jobs WHERE IS_DEFINED(createdDateTimeUtc) AND IS_DEFINED(lastUpdatedDateTimeUtc)"
          " AND IS_DEFINED(startTimeUtc) AND IS_DEFINED(endTimeUtc)", NDEV },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        twin_query_t *q = NULL;
        route_syntax_error_t se;
        if (twin_query_compile(cases[k].q, &q, &se))
            fail_msg("'%s': %d:%d %s", cases[k].q, se.line, se.column, se.message);
        json_t *rows = twin_query_run(q, recs);
        assert_non_null(rows);
        if (json_array_size(rows) != cases[k].want)
            fail_msg("'%s': %zu rows, want %zu", cases[k].q, json_array_size(rows), cases[k].want);
        json_decref(rows);
        twin_query_free(q);
    }
    json_decref(recs);
    fleet_free(fl, js);
}

static void test_twin_job(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    hub_jobs_t *js = hub_jobs_new(fl->f->hub);
    char why[256];
    assert_int_equal(create(js, "fw",
                            "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"tags.kind = 'answer'\","
                            "\"updateTwin\":{\"etag\":\"*\",\"tags\":{\"fw\":\"2.0\"},"
                            "\"properties\":{\"desired\":{\"rate\":5}}}}",
                            why, sizeof why),
                     HUB_JOBS_OK);
    run_to(fl, 0);
    expect_state(js, "fw", HUB_JOB_COMPLETED, 90, 0, 90, 0, 0);
    json_t *twin = NULL;
    assert_int_equal(hub_twin_get(fl->f->hub, "j003", NULL, &twin), HUB_EOK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(twin, "tags"), "fw")), "2.0");
    json_t *des = json_object_get(json_object_get(twin, "properties"), "desired");
    assert_int_equal(json_integer_value(json_object_get(des, "rate")), 5);
    json_decref(twin);
    assert_int_equal(hub_twin_get(fl->f->hub, "j005", NULL, &twin), HUB_EOK);
    assert_null(json_object_get(json_object_get(twin, "tags"), "fw"));
    json_decref(twin);
    fleet_free(fl, js);
}

static void test_start_in_the_future(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    hub_jobs_t *js = hub_jobs_new(fl->f->hub);
    char why[256];
    /* EPOCH + 60 s */
    assert_int_equal(create(js, "later", METHOD_JOB("tags.kind = 'silent'", ",\"startTime\":\"2026-01-01T00:01:00Z\""),
                            why, sizeof why),
                     HUB_JOBS_OK);
    expect_state(js, "later", HUB_JOB_SCHEDULED, 0, 0, 0, 0, 0);
    run_to(fl, 60 * SIM_SEC - 1);
    expect_state(js, "later", HUB_JOB_SCHEDULED, 0, 0, 0, 0, 0);
    assert_int_equal(fl->devs[5].requests, 0);
    run_to(fl, 60 * SIM_SEC);
    expect_state(js, "later", HUB_JOB_RUNNING, 150, 0, 0, CONCURRENCY, 50);
    assert_int_equal(fl->devs[5].requests, 1);
    run_to(fl, 70 * SIM_SEC);
    expect_state(js, "later", HUB_JOB_COMPLETED, 150, 150, 0, 0, 0);
    /* a start in the past means now */
    assert_int_equal(create(js, "past", METHOD_JOB("deviceId = 'j002'", ",\"startTime\":\"2020-01-01T00:00:00Z\""),
                            why, sizeof why),
                     HUB_JOBS_OK);
    expect_state(js, "past", HUB_JOB_QUEUED, 0, 0, 0, 0, 0);
    run_to(fl, 70 * SIM_SEC);
    expect_state(js, "past", HUB_JOB_COMPLETED, 1, 0, 1, 0, 0);
    fleet_free(fl, js);
}

/* The model break switches (sim/hub/faults.h, staged JOB-* rows), each on its own hub: the broken
 * behaviour the conformance cases must notice, straight from the model. */
static void test_break_switches(void **state)
{
    (void)state;
    char why[256];
    /* JOB-START-TIME: the future start is ignored */
    fleet_t *fl = fleet_new();
    assert_int_equal(hub_break(fl->f->hub, "JOB-START-TIME"), HS_EOK);
    hub_jobs_t *js = hub_jobs_new(fl->f->hub);
    assert_int_equal(create(js, "later", METHOD_JOB("deviceId = 'j002'", ",\"startTime\":\"2026-01-01T00:01:00Z\""),
                            why, sizeof why),
                     HUB_JOBS_OK);
    expect_state(js, "later", HUB_JOB_QUEUED, 0, 0, 0, 0, 0);
    run_to(fl, SIM_SEC);
    expect_state(js, "later", HUB_JOB_COMPLETED, 1, 0, 1, 0, 0);
    /* JOB-MAX-EXECUTION: j005 never answers; the 3 s limit (due at 4 s) never fails the job, the
     * method's own 504 at 6 s ends the call */
    assert_int_equal(hub_break(fl->f->hub, "JOB-MAX-EXECUTION"), HS_EOK);
    assert_int_equal(create(js, "short", METHOD_JOB("deviceId = 'j005'", ",\"maxExecutionTimeInSeconds\":3"),
                            why, sizeof why),
                     HUB_JOBS_OK);
    run_to(fl, 4500 * SIM_MS);
    expect_state(js, "short", HUB_JOB_RUNNING, 1, 0, 0, 1, 0);
    run_to(fl, 7 * SIM_SEC);
    expect_state(js, "short", HUB_JOB_COMPLETED, 1, 1, 0, 0, 0);
    fleet_free(fl, js);

    /* JOB-CANCEL, JOB-ZERO-DEVICES, JOB-BAD-QUERY, JOB-DEVICE-OUTCOMES, JOB-STATUS-MACHINE on one hub */
    fl = fleet_new();
    static const char *const brk[] = { "JOB-CANCEL", "JOB-ZERO-DEVICES", "JOB-BAD-QUERY", "JOB-DEVICE-OUTCOMES",
                                       "JOB-STATUS-MACHINE" };
    for (size_t i = 0; i < sizeof brk / sizeof brk[0]; i++)
        assert_int_equal(hub_break(fl->f->hub, brk[i]), HS_EOK);
    js = hub_jobs_new(fl->f->hub);
    assert_int_equal(create(js, "sched", METHOD_JOB("deviceId = 'j002'", ",\"startTime\":\"2026-01-01T00:01:00Z\""),
                            why, sizeof why),
                     HUB_JOBS_OK);
    json_t *doc = NULL;
    assert_int_equal(hub_jobs_cancel(js, "sched", &doc), HUB_JOBS_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "scheduled"); /* not cancelled */
    json_decref(doc);
    assert_int_equal(create(js, "none", METHOD_JOB("tags.kind = 'nobody'", ""), why, sizeof why), HUB_JOBS_OK);
    assert_int_equal(create(js, "bad", METHOD_JOB("tags.kind = \\n)", ""), why, sizeof why), HUB_JOBS_EINVALID);
    assert_null(strstr(why, "line "));
    assert_null(strstr(why, "column"));
    /* j000, j001 offline: failed calls recorded succeeded; the job stays running to its deadline */
    assert_int_equal(create(js, "offline", METHOD_JOB("deviceId IN ['j000', 'j001']", ",\"maxExecutionTimeInSeconds\":30"),
                            why, sizeof why),
                     HUB_JOBS_OK);
    run_to(fl, SIM_SEC);
    expect_state(js, "none", HUB_JOB_RUNNING, 0, 0, 0, 0, 0);
    expect_state(js, "offline", HUB_JOB_RUNNING, 2, 0, 2, 0, 0);
    run_to(fl, 61 * SIM_SEC);
    /* ran anyway (j002 answered) and, JOB-STATUS-MACHINE armed, never completes */
    expect_state(js, "sched", HUB_JOB_RUNNING, 1, 0, 1, 0, 0);
    expect_state(js, "offline", HUB_JOB_FAILED, 2, 0, 2, 0, 0);
    fleet_free(fl, js);
}

static void test_max_execution_time(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    hub_jobs_t *js = hub_jobs_new(fl->f->hub);
    char why[256];
    assert_int_equal(create(js, "short", METHOD_JOB("tags.kind = 'silent'", ",\"maxExecutionTimeInSeconds\":3"),
                            why, sizeof why),
                     HUB_JOBS_OK);
    run_to(fl, 3 * SIM_SEC - 1);
    expect_state(js, "short", HUB_JOB_RUNNING, 150, 0, 0, CONCURRENCY, 50);
    run_to(fl, 3 * SIM_SEC);
    expect_state(js, "short", HUB_JOB_FAILED, 150, 150, 0, 0, 0);
    assert_int_equal(count_records(js, "short", "failed", "JobTimedOut"), CONCURRENCY);
    assert_int_equal(count_records(js, "short", "canceled", "JobTimedOut"), 50);
    /* the hub's 504s at 5 s change nothing; the last 50 were never called */
    run_to(fl, 10 * SIM_SEC);
    expect_state(js, "short", HUB_JOB_FAILED, 150, 150, 0, 0, 0);
    assert_int_equal(fl->devs[299].requests, 0);
    json_t *doc = NULL;
    assert_int_equal(hub_jobs_get(js, "short", &doc), HUB_JOBS_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "endTime")), "2026-01-01T00:00:03.000Z");
    assert_non_null(json_string_value(json_object_get(doc, "failureReason")));
    json_decref(doc);
    fleet_free(fl, js);
}

static void test_cancel(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    hub_jobs_t *js = hub_jobs_new(fl->f->hub);
    char why[256];
    assert_int_equal(create(js, "sched", METHOD_JOB("tags.kind = 'answer'", ",\"startTime\":\"2026-01-01T01:00:00Z\""),
                            why, sizeof why),
                     HUB_JOBS_OK);
    assert_int_equal(create(js, "run", METHOD_JOB("tags.kind = 'silent'", ""), why, sizeof why), HUB_JOBS_OK);
    assert_int_equal(hub_jobs_cancel(js, "sched", NULL), HUB_JOBS_OK);
    expect_state(js, "sched", HUB_JOB_CANCELLED, 0, 0, 0, 0, 0);
    run_to(fl, SIM_SEC);
    expect_state(js, "run", HUB_JOB_RUNNING, 150, 0, 0, CONCURRENCY, 50);
    assert_int_equal(hub_jobs_cancel(js, "run", NULL), HUB_JOBS_OK);
    /* the 50 not called are canceled; the calls in flight still end (504 at 5 s) */
    expect_state(js, "run", HUB_JOB_CANCELLED, 150, 50, 0, CONCURRENCY, 0);
    run_to(fl, 2 * 3600 * SIM_SEC);
    expect_state(js, "run", HUB_JOB_CANCELLED, 150, 150, 0, 0, 0);
    expect_state(js, "sched", HUB_JOB_CANCELLED, 0, 0, 0, 0, 0);
    assert_int_equal(fl->devs[2].requests, 0); /* the scheduled job never ran */
    assert_int_equal(count_records(js, "run", "canceled", "JobCancelled"), 50);
    /* cancelling an ended job leaves it; unknown ids */
    assert_int_equal(hub_jobs_cancel(js, "run", NULL), HUB_JOBS_OK);
    expect_state(js, "run", HUB_JOB_CANCELLED, 150, 150, 0, 0, 0);
    assert_int_equal(hub_jobs_cancel(js, "nope", NULL), HUB_JOBS_ENOTFOUND);
    assert_int_equal(hub_jobs_status(js, "nope", NULL, NULL), HUB_JOBS_ENOTFOUND);
    /* a job on zero devices completes at once */
    assert_int_equal(create(js, "none", METHOD_JOB("tags.kind = 'nobody'", ""), why, sizeof why), HUB_JOBS_OK);
    run_to(fl, 2 * 3600 * SIM_SEC);
    expect_state(js, "none", HUB_JOB_COMPLETED, 0, 0, 0, 0, 0);
    fleet_free(fl, js);
}

/* ---- REST ------------------------------------------------------------------ */

static json_t *body_json(const capture_t *c)
{
    json_error_t je;
    json_t *j = json_loads(c->body, 0, &je);
    if (!j)
        fail_msg("body is not JSON: %s", c->body);
    return j;
}

static const char *str_of(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void test_rest_round_trip(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    fx_t *f = fl->f;
    capture_t c;
    const char *ct[] = { "Content-Type: application/json; charset=utf-8", NULL };
    /* what the Node SDK's JobClient.scheduleDeviceMethod sends */
    fx_svc(f, "PUT", "/jobs/v2/job1?api-version=2021-04-12", ct,
           "{\"jobId\":\"job1\",\"type\":\"scheduleDeviceMethod\",\"cloudToDeviceMethod\":"
           "{\"methodName\":\"reboot\",\"payload\":null,\"responseTimeoutInSeconds\":5},"
           "\"startTime\":\"2026-01-01T00:00:00.000Z\",\"maxExecutionTimeInSeconds\":3600,"
           "\"queryCondition\":\"tags.kind IN ['answer', 'silent']\"}",
           &c);
    assert_int_equal(c.status, 200);
    json_t *doc = body_json(&c);
    assert_string_equal(str_of(doc, "jobId"), "job1");
    assert_string_equal(str_of(doc, "type"), "scheduleDeviceMethod");
    assert_string_equal(str_of(doc, "status"), "queued");
    assert_string_equal(str_of(json_object_get(doc, "cloudToDeviceMethod"), "methodName"), "reboot");
    assert_true(json_is_null(json_object_get(doc, "endTime")));
    json_decref(doc);
    /* an id in use */
    fx_svc(f, "PUT", "/jobs/v2/job1?api-version=2021-04-12", ct,
           "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"true\",\"updateTwin\":{\"tags\":{\"a\":1}}}", &c);
    assert_int_equal(c.status, 409);
    assert_non_null(strstr(c.body, "JobAlreadyExists"));
    /* a twin job in the future, URL-encoded id */
    fx_svc(f, "PUT", "/jobs/v2/twin%20job?api-version=2021-04-12", ct,
           "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"deviceId = 'j001'\","
           "\"startTime\":\"2026-01-01T00:00:30Z\",\"updateTwin\":{\"tags\":{\"a\":1}}}", &c);
    assert_int_equal(c.status, 200);
    doc = body_json(&c);
    assert_string_equal(str_of(doc, "status"), "scheduled");
    assert_string_equal(str_of(doc, "startTime"), "2026-01-01T00:00:30.000Z");
    json_decref(doc);

    sim_kernel_run_until(f->k, SIM_SEC);
    fx_svc(f, "GET", "/jobs/v2/job1?api-version=2021-04-12", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    doc = body_json(&c);
    assert_string_equal(str_of(doc, "status"), "running");
    json_t *st = json_object_get(doc, "deviceJobStatistics");
    assert_int_equal(json_integer_value(json_object_get(st, "deviceCount")), 240);
    /* j002..j199: 60 answered, 100 silent in flight; j200..j299: 80 waiting */
    assert_int_equal(json_integer_value(json_object_get(st, "succeededCount")), 60);
    assert_int_equal(json_integer_value(json_object_get(st, "runningCount")), CONCURRENCY);
    assert_int_equal(json_integer_value(json_object_get(st, "pendingCount")), 80);
    json_decref(doc);

    /* query: by type, by status, paged */
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12&jobType=scheduleUpdateTwin", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    doc = body_json(&c);
    assert_int_equal(json_array_size(doc), 1);
    assert_string_equal(str_of(json_array_get(doc, 0), "jobId"), "twin job");
    json_decref(doc);
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12&jobStatus=running", NULL, NULL, &c);
    doc = body_json(&c);
    assert_int_equal(json_array_size(doc), 1);
    assert_string_equal(str_of(json_array_get(doc, 0), "jobId"), "job1");
    json_decref(doc);
    const char *page1[] = { "x-ms-max-item-count: 1", NULL };
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12", page1, NULL, &c);
    assert_int_equal(c.status, 200);
    doc = body_json(&c);
    assert_int_equal(json_array_size(doc), 1);
    assert_string_equal(str_of(json_array_get(doc, 0), "jobId"), "job1");
    json_decref(doc);
    const char *tok = cap_header(&c, "x-ms-continuation");
    assert_non_null(tok);
    char hdr[128];
    snprintf(hdr, sizeof hdr, "x-ms-continuation: %s", tok);
    const char *page2[] = { "x-ms-max-item-count: 1", hdr, NULL };
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12", page2, NULL, &c);
    doc = body_json(&c);
    assert_int_equal(json_array_size(doc), 1);
    assert_string_equal(str_of(json_array_get(doc, 0), "jobId"), "twin job");
    assert_null(cap_header(&c, "x-ms-continuation"));
    json_decref(doc);

    /* cancel the running job, then the status machine stays */
    fx_svc(f, "POST", "/jobs/v2/job1/cancel?api-version=2021-04-12", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    doc = body_json(&c);
    assert_string_equal(str_of(doc, "status"), "cancelled");
    json_decref(doc);
    sim_kernel_run_until(f->k, 40 * SIM_SEC);
    fx_svc(f, "GET", "/jobs/v2/twin%20job?api-version=2021-04-12", NULL, NULL, &c);
    doc = body_json(&c);
    assert_string_equal(str_of(doc, "status"), "completed");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "deviceJobStatistics"), "succeededCount")), 1);
    json_decref(doc);

    /* unknown ids, rights */
    fx_svc(f, "GET", "/jobs/v2/nope?api-version=2021-04-12", NULL, NULL, &c);
    assert_int_equal(c.status, 404);
    assert_non_null(strstr(c.body, "JobNotFound"));
    fx_svc(f, "POST", "/jobs/v2/nope/cancel?api-version=2021-04-12", NULL, NULL, &c);
    assert_int_equal(c.status, 404);
    assert_int_equal(fx_send(f, "GET", "/jobs/v2/job1?api-version=2021-04-12", NULL, NULL, NULL, &c), 0);
    assert_int_equal(c.status, 401);
    fx_free(f);
    free(fl);
}

/* POST /devices/query with page size page (0: default) and continuation token tok ("" : none); the
 * rows, with the next token copied to tok ("" on the last page). */
static json_t *rest_query(fx_t *f, const char *sql, int page, char *tok, size_t cap)
{
    capture_t c;
    char body[512], size[64], cont[200];
    json_t *b = json_pack("{s:s}", "query", sql);
    char *text = json_dumps(b, JSON_COMPACT);
    snprintf(body, sizeof body, "%s", text);
    free(text);
    json_decref(b);
    snprintf(size, sizeof size, "x-ms-max-item-count: %d", page);
    snprintf(cont, sizeof cont, "x-ms-continuation: %s", tok);
    const char *hdr[3] = { NULL, NULL, NULL };
    size_t n = 0;
    if (page)
        hdr[n++] = size;
    if (tok[0])
        hdr[n++] = cont;
    fx_svc(f, "POST", "/devices/query?api-version=2021-04-12", hdr, body, &c);
    if (c.status != 200)
        fail_msg("'%s': %d %s", sql, c.status, c.body);
    const char *type = cap_header(&c, "x-ms-item-type");
    assert_non_null(type);
    assert_string_equal(type, "deviceJob");
    const char *next = cap_header(&c, "x-ms-continuation");
    snprintf(tok, cap, "%s", next ? next : "");
    return body_json(&c);
}

/* Every row of sql, 20 a page following the tokens: how many, and the first one's deviceId. */
static size_t rest_count(fx_t *f, const char *sql, char *first, size_t cap)
{
    char tok[200] = "";
    size_t total = 0, pages = 0;
    first[0] = '\0';
    do {
        json_t *rows = rest_query(f, sql, 20, tok, sizeof tok);
        assert_true(json_array_size(rows) <= 20);
        if (!total && json_array_size(rows))
            snprintf(first, cap, "%s/%s", str_of(json_array_get(rows, 0), "jobId"),
                     str_of(json_array_get(rows, 0), "deviceId"));
        total += json_array_size(rows);
        json_decref(rows);
        assert_true(++pages < 100);
    } while (tok[0]);
    return total;
}

/* FROM devices.jobs over REST: the per-device records of the jobs made over the same API. */
static void test_rest_devices_jobs_query(void **state)
{
    (void)state;
    fleet_t *fl = fleet_new();
    fx_t *f = fl->f;
    char tok[200] = "", first[64];
    /* no job yet: an empty collection, not an error */
    json_t *rows = rest_query(f, "SELECT * FROM devices.jobs", 0, tok, sizeof tok);
    assert_int_equal(json_array_size(rows), 0);
    assert_string_equal(tok, "");
    json_decref(rows);
    capture_t c;
    fx_svc(f, "PUT", "/jobs/v2/reboot-all?api-version=2021-04-12", NULL, METHOD_JOB("IS_DEFINED(tags.kind)", ""), &c);
    assert_int_equal(c.status, 200);
    sim_kernel_run_until(f->k, 10 * SIM_SEC);
    /* 300 devices: 90 answered (completed), 60 offline + 150 silent (failed) */
    assert_int_equal(rest_count(f, "SELECT * FROM devices.jobs", first, sizeof first), NDEV);
    assert_string_equal(first, "reboot-all/j000");
    assert_int_equal(rest_count(f, "SELECT * FROM devices.jobs WHERE devices.jobs.status = 'completed'", first,
                                sizeof first), 90);
    assert_string_equal(first, "reboot-all/j002");
    assert_int_equal(rest_count(f, "SELECT * FROM devices.jobs WHERE error.code = 'DeviceNotOnline'", first,
                                sizeof first), 60);
    /* twins are not in the collection: no record has tags */
    assert_int_equal(rest_count(f, "SELECT * FROM devices.jobs WHERE IS_DEFINED(tags.kind)", first, sizeof first), 0);
    /* no projection over devices.jobs */
    fx_svc(f, "POST", "/devices/query?api-version=2021-04-12", NULL,
           "{\"query\":\"SELECT deviceId FROM devices.jobs\"}", &c);
    assert_int_equal(c.status, 400);
    fx_free(f);
    free(fl);
}

static void expect_400(fx_t *f, const char *id, const char *body, const char *fragment)
{
    capture_t c;
    char path[128];
    snprintf(path, sizeof path, "/jobs/v2/%s?api-version=2021-04-12", id);
    fx_svc(f, "PUT", path, NULL, body, &c);
    if (c.status != 400 || !strstr(c.body, "ArgumentInvalid") || !strstr(c.body, fragment))
        fail_msg("%s: want 400 with '%s', got %d %s", body, fragment, c.status, c.body);
}

static void test_rest_bad_input(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    expect_400(f, "b", "{\"type\":\"rebootAll\",\"queryCondition\":\"true\"}", "unknown job type 'rebootAll'");
    expect_400(f, "b", "{\"queryCondition\":\"true\"}", "type is required");
    expect_400(f, "b", "{\"type\":\"scheduleDeviceMethod\",\"cloudToDeviceMethod\":{\"methodName\":\"m\"}}",
               "queryCondition is required");
    expect_400(f, "b", "{\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"true\"}",
               "needs a cloudToDeviceMethod object");
    expect_400(f, "b",
               "{\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"true\",\"cloudToDeviceMethod\":{\"payload\":1}}",
               "methodName must be a non-empty string");
    expect_400(f, "b",
               "{\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"true\",\"cloudToDeviceMethod\":"
               "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":1}}",
               "responseTimeoutInSeconds must be between 5 and 300, not 1");
    expect_400(f, "b", "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"true\"}", "needs an updateTwin object");
    expect_400(f, "b",
               "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"true\",\"updateTwin\":{\"properties\":{\"reported\":{}}}}",
               "reported cannot be written");
    /* the position is in the condition's own text */
    expect_400(f, "b",
               "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"tags.x = = 1\",\"updateTwin\":{\"tags\":{}}}",
               "queryCondition: syntax error at line 1, column 10");
    expect_400(f, "b",
               "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"true\",\"startTime\":\"tomorrow\",\"updateTwin\":{\"tags\":{}}}",
               "startTime 'tomorrow' is not an ISO-8601 time");
    expect_400(f, "b",
               "{\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"true\",\"maxExecutionTimeInSeconds\":0,\"updateTwin\":{\"tags\":{}}}",
               "maxExecutionTimeInSeconds must be between 1");
    expect_400(f, "b",
               "{\"jobId\":\"other\",\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"true\",\"updateTwin\":{\"tags\":{}}}",
               "does not match the job id in the path");
    expect_400(f, "b", "[1]", "");
    expect_400(f, "b", "{\"type\":", "");
    capture_t c;
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12&jobType=bogus", NULL, NULL, &c);
    assert_int_equal(c.status, 400);
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12&jobStatus=done", NULL, NULL, &c);
    assert_int_equal(c.status, 400);
    const char *bad_tok[] = { "x-ms-continuation: xyz", NULL };
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12", bad_tok, NULL, &c);
    assert_int_equal(c.status, 400);
    /* nothing was created */
    fx_svc(f, "GET", "/jobs/v2/query?api-version=2021-04-12", NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "[]");
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_job_outcomes),
        cmocka_unit_test(test_device_jobs_query),
        cmocka_unit_test(test_twin_job),
        cmocka_unit_test(test_start_in_the_future),
        cmocka_unit_test(test_max_execution_time),
        cmocka_unit_test(test_break_switches),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_rest_round_trip),
        cmocka_unit_test(test_rest_devices_jobs_query),
        cmocka_unit_test(test_rest_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
