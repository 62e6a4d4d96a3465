/* Conformance cases for jobs over REST: the status machine, startTime, maxExecutionTimeInSeconds, cancel, per-device outcomes and statistics, unknown ids, zero devices, malformed conditions. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conformance/case.h"
#include "conformance/case_rest.h"

/* Literals from docs/jobs.md: statuses queued/scheduled/running/completed/
 * failed/cancelled, deviceJobStatistics {deviceCount, failedCount,
 * succeededCount, runningCount, pendingCount}; an offline device with
 * connectTimeout 0 fails at once; maxExecutionTimeInSeconds runs from the
 * start; an unknown id is 404; a bad queryCondition is 400 with the line
 * and column in the condition's text. */

#define SEC ((sim_time_t)1000000000)
#define MS ((sim_time_t)1000000)
#define WIRE TARGET_CAP_WIRE
#define VT TARGET_CAP_VIRTUAL_TIME
#define NOHDR ((conf_rest_header_t){ NULL, NULL })

/* ---- helpers ------------------------------------------------------------------------------ */

/* Register device_id (already created when conn is NULL and online false) and tag it kind = kind. */
static bool tag(conf_ctx_t *c, const char *device_id, const char *kind)
{
    char patch[200], etag[64];
    target_status_t st;
    snprintf(patch, sizeof patch, "{\"tags\":{\"kind\":\"%s\"}}", kind);
    c->ops->twin_patch(c->t, device_id, NULL, patch, NULL, etag, &st);
    if (st.http != 200)
        return conf_error(c, "cannot tag %s: %d %s", device_id, st.http, st.detail);
    return true;
}

/* ISO-8601 UTC of a Unix second (what the SDKs send: Date.toISOString()). */
static void iso(int64_t unix_s, char *out, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/* PUT /jobs/v2/{id} with body; the job document on 200 (else NULL, verdict decided). */
static json_t *create_job(conf_ctx_t *c, const char *id, const char *body, const char *what)
{
    char path[200];
    target_http_response_t r;
    snprintf(path, sizeof path, "/jobs/v2/%s", id);
    if (!conf_rest_service(c, "PUT", path, body, NOHDR, &r) || !conf_rest_status(c, &r, 200, what))
        return NULL;
    return conf_rest_json(c, &r, what);
}

static json_t *get_job(conf_ctx_t *c, const char *id, const char *what)
{
    char path[200];
    target_http_response_t r;
    snprintf(path, sizeof path, "/jobs/v2/%s", id);
    if (!conf_rest_service(c, "GET", path, NULL, NOHDR, &r) || !conf_rest_status(c, &r, 200, what))
        return NULL;
    return conf_rest_json(c, &r, what);
}

static const char *status_of(const json_t *doc)
{
    const char *s = json_string_value(json_object_get(doc, "status"));
    return s ? s : "(none)";
}

/* GET the job and expect status want. */
static bool expect_status(conf_ctx_t *c, const char *id, const char *want, const char *when)
{
    char what[200];
    snprintf(what, sizeof what, "%s: job status %s", when, want);
    json_t *doc = get_job(c, id, what);
    if (!doc)
        return false;
    bool ok = conf_check(c, strcmp(status_of(doc), want) == 0, what, "%s", status_of(doc));
    json_decref(doc);
    return ok;
}

static long long stat_of(const json_t *doc, const char *name)
{
    json_t *v = json_object_get(json_object_get(doc, "deviceJobStatistics"), name);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* A method job over tags.kind = kind. */
static void method_job_body(char *out, size_t cap, const char *id, const char *kind, int max_exec)
{
    snprintf(out, cap,
             "{\"jobId\":\"%s\",\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"tags.kind = '%s'\","
             "\"cloudToDeviceMethod\":{\"methodName\":\"reboot\",\"payload\":{},\"responseTimeoutInSeconds\":300,"
             "\"connectTimeoutInSeconds\":0},\"maxExecutionTimeInSeconds\":%d}",
             id, kind, max_exec);
}

/* A twin job setting tags.done = 1 over tags.kind = kind, starting at start_unix (0: now). */
static void twin_job_body(conf_ctx_t *c, char *out, size_t cap, const char *id, const char *kind, int64_t start_unix)
{
    char start[64] = "null";
    if (start_unix) {
        char t[40];
        iso(start_unix, t, sizeof t);
        snprintf(start, sizeof start, "\"%s\"", t);
    }
    (void)c;
    snprintf(out, cap,
             "{\"jobId\":\"%s\",\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"tags.kind = '%s'\","
             "\"updateTwin\":{\"tags\":{\"done\":1},\"etag\":\"*\"},\"startTime\":%s,"
             "\"maxExecutionTimeInSeconds\":600}",
             id, kind, start);
}

/* Whether the twin of device_id has tags.done (the twin job ran on it). */
static bool twin_done(conf_ctx_t *c, const char *device_id, bool *done)
{
    json_t *twin = NULL;
    target_status_t st;
    c->ops->twin_get(c->t, device_id, NULL, &twin, &st);
    if (st.http != 200 || !twin) {
        json_decref(twin);
        return conf_error(c, "cannot read the twin of %s: %d", device_id, st.http);
    }
    *done = json_object_get(json_object_get(twin, "tags"), "done") != NULL;
    json_decref(twin);
    return true;
}

/* ---- JOB-STATUS-MACHINE ------------------------------------------------------------------ */

static void status_machine(conf_ctx_t *c)
{
    target_conn_t conn;
    char body[600];
    if (!conf_rest_setup(c, NULL) || !conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn) || !tag(c, "d1", "a"))
        return;
    method_job_body(body, sizeof body, "j1", "a", 600);
    json_t *doc = create_job(c, "j1", body, "PUT /jobs/v2/j1 (start now): 200");
    if (!doc)
        return;
    bool ok = conf_check(c, strcmp(status_of(doc), "queued") == 0, "at creation: status queued", "%s",
                         status_of(doc));
    json_decref(doc);
    if (!ok)
        return;
    conf_advance(c, MS);
    if (!expect_status(c, "j1", "running", "the call is waiting for d1"))
        return;
    target_event_t ev;
    if (!conf_check(c, conf_next_method(c, conn, &ev), "d1 hears the job's method call", "nothing"))
        return;
    target_status_t st;
    c->ops->device_method_respond(c->t, conn, ev.rid, 200, "{}", 2, &st);
    if (!conf_status(c, &st, 200, 0, "d1 answers 200"))
        return;
    conf_advance(c, MS);
    expect_status(c, "j1", "completed", "d1 answered");
}

/* ---- JOB-START-TIME ---------------------------------------------------------------------- */

static void start_time(conf_ctx_t *c)
{
    char body[600];
    if (!conf_rest_setup(c, NULL) || !conf_create(c, "d1", NULL) || !tag(c, "d1", "a"))
        return;
    twin_job_body(c, body, sizeof body, "later", "a", c->ops->unix_now(c->t) + 60);
    json_t *doc = create_job(c, "later", body, "PUT /jobs/v2/later (startTime 60 s ahead): 200");
    if (!doc)
        return;
    bool ok = conf_check(c, strcmp(status_of(doc), "scheduled") == 0, "at creation: status scheduled", "%s",
                         status_of(doc));
    json_decref(doc);
    bool done = false;
    if (!ok)
        return;
    conf_advance(c, 59 * SEC);
    if (!expect_status(c, "later", "scheduled", "59 s later") || !twin_done(c, "d1", &done) ||
        !conf_check(c, !done, "59 s later: d1's twin not updated yet", "tags.done is set"))
        return;
    conf_advance(c, 1 * SEC);
    if (!expect_status(c, "later", "completed", "at the startTime") || !twin_done(c, "d1", &done))
        return;
    conf_check(c, done, "at the startTime: d1's twin updated (tags.done)", "tags.done absent");
}

/* ---- JOB-MAX-EXECUTION ------------------------------------------------------------------- */

static void max_execution(conf_ctx_t *c)
{
    target_conn_t conn;
    char body[600];
    if (!conf_rest_setup(c, NULL) || !conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn) || !tag(c, "d1", "a"))
        return;
    method_job_body(body, sizeof body, "short", "a", 10);
    json_t *doc = create_job(c, "short", body, "PUT /jobs/v2/short (maxExecutionTimeInSeconds 10): 200");
    if (!doc)
        return;
    json_decref(doc);
    conf_advance(c, 9 * SEC); /* d1 never answers (responseTimeout 300 s) */
    if (!expect_status(c, "short", "running", "9 s after the start"))
        return;
    conf_advance(c, 1 * SEC);
    if (!(doc = get_job(c, "short", "10 s after the start")))
        return;
    if (conf_check(c, strcmp(status_of(doc), "failed") == 0, "10 s after the start: status failed", "%s",
                   status_of(doc)))
        conf_check(c, stat_of(doc, "failedCount") == 1 && stat_of(doc, "runningCount") == 0,
                   "d1's call counted failed (failedCount 1, runningCount 0)", "failedCount %lld, runningCount %lld",
                   stat_of(doc, "failedCount"), stat_of(doc, "runningCount"));
    json_decref(doc);
}

/* ---- JOB-CANCEL ------------------------------------------------------------------------ */

static void cancel_scheduled(conf_ctx_t *c)
{
    char body[600];
    if (!conf_rest_setup(c, NULL) || !conf_create(c, "d1", NULL) || !tag(c, "d1", "a"))
        return;
    twin_job_body(c, body, sizeof body, "sched", "a", c->ops->unix_now(c->t) + 60);
    json_t *doc = create_job(c, "sched", body, "PUT /jobs/v2/sched (startTime 60 s ahead): 200");
    if (!doc)
        return;
    json_decref(doc);
    target_http_response_t r;
    if (!conf_rest_service(c, "POST", "/jobs/v2/sched/cancel", NULL, NOHDR, &r) ||
        !conf_rest_status(c, &r, 200, "POST /jobs/v2/sched/cancel: 200") ||
        !(doc = conf_rest_json(c, &r, "the cancel answer is the job document")))
        return;
    bool ok = conf_check(c, strcmp(status_of(doc), "cancelled") == 0, "the cancel answer: status cancelled", "%s",
                         status_of(doc));
    json_decref(doc);
    bool done = false;
    if (!ok)
        return;
    conf_advance(c, 61 * SEC);
    if (expect_status(c, "sched", "cancelled", "past the startTime") && twin_done(c, "d1", &done))
        conf_check(c, !done, "past the startTime: the cancelled job never ran (no tags.done)", "tags.done is set");
}

/* A running method job (its only call in flight) cancelled: status cancelled at once. */
static void cancel_running(conf_ctx_t *c)
{
    target_conn_t conn;
    char body[600];
    if (!conf_rest_setup(c, NULL) || !conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn) || !tag(c, "d1", "a"))
        return;
    method_job_body(body, sizeof body, "run", "a", 600);
    json_t *doc = create_job(c, "run", body, "PUT /jobs/v2/run: 200");
    if (!doc)
        return;
    json_decref(doc);
    conf_advance(c, SEC);
    if (!expect_status(c, "run", "running", "1 s in, d1 silent"))
        return;
    target_http_response_t r;
    if (!conf_rest_service(c, "POST", "/jobs/v2/run/cancel", NULL, NOHDR, &r) ||
        !conf_rest_status(c, &r, 200, "POST /jobs/v2/run/cancel: 200") ||
        !(doc = conf_rest_json(c, &r, "the cancel answer is the job document")))
        return;
    bool ok = conf_check(c, strcmp(status_of(doc), "cancelled") == 0, "the cancel answer: status cancelled", "%s",
                         status_of(doc));
    json_decref(doc);
    if (ok) {
        conf_advance(c, 10 * SEC);
        expect_status(c, "run", "cancelled", "10 s later");
    }
}

/* ---- JOB-DEVICE-OUTCOMES --------------------------------------------------------------- */

static void device_outcomes(conf_ctx_t *c)
{
    target_conn_t conn;
    char body[600];
    if (!conf_rest_setup(c, NULL) || !conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn) || !tag(c, "d1", "a") ||
        !conf_create(c, "d2", NULL) || !tag(c, "d2", "a"))
        return;
    method_job_body(body, sizeof body, "mixed", "a", 600);
    json_t *doc = create_job(c, "mixed", body, "PUT /jobs/v2/mixed: 200");
    if (!doc)
        return;
    json_decref(doc);
    conf_advance(c, MS);
    target_event_t ev;
    target_status_t st;
    if (!conf_check(c, conf_next_method(c, conn, &ev), "online d1 hears the job's method call", "nothing"))
        return;
    c->ops->device_method_respond(c->t, conn, ev.rid, 200, "{}", 2, &st);
    conf_advance(c, MS);
    if (!(doc = get_job(c, "mixed", "after d1 answered and d2 (offline, connectTimeout 0) failed")))
        return;
    if (conf_check(c, strcmp(status_of(doc), "completed") == 0, "status completed (failed devices do not fail the job)",
                   "%s", status_of(doc)))
        conf_check(c,
                   stat_of(doc, "deviceCount") == 2 && stat_of(doc, "succeededCount") == 1 &&
                       stat_of(doc, "failedCount") == 1 && stat_of(doc, "runningCount") == 0 &&
                       stat_of(doc, "pendingCount") == 0,
                   "deviceJobStatistics deviceCount 2, succeededCount 1 (d1), failedCount 1 (d2), running 0, pending 0",
                   "deviceCount %lld, succeededCount %lld, failedCount %lld, runningCount %lld, pendingCount %lld",
                   stat_of(doc, "deviceCount"), stat_of(doc, "succeededCount"), stat_of(doc, "failedCount"),
                   stat_of(doc, "runningCount"), stat_of(doc, "pendingCount"));
    json_decref(doc);
}

/* A device that never answers: its call ends failed at the method's response timeout (the 504 is
 * METHOD-504-TIMEOUT's; checked with a second's slack so that rule's switches stay its own). */
static void device_silent(conf_ctx_t *c)
{
    target_conn_t conn;
    const char *body = "{\"jobId\":\"quiet\",\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"tags.kind = 'a'\","
                       "\"cloudToDeviceMethod\":{\"methodName\":\"reboot\",\"payload\":{},\"responseTimeoutInSeconds\":5,"
                       "\"connectTimeoutInSeconds\":0},\"maxExecutionTimeInSeconds\":600}";
    if (!conf_rest_setup(c, NULL) || !conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn) || !tag(c, "d1", "a"))
        return;
    json_t *doc = create_job(c, "quiet", body, "PUT /jobs/v2/quiet (responseTimeoutInSeconds 5): 200");
    if (!doc)
        return;
    json_decref(doc);
    conf_advance(c, 4 * SEC);
    if (!(doc = get_job(c, "quiet", "4 s after the start")))
        return;
    bool ok = conf_check(c, strcmp(status_of(doc), "running") == 0 && stat_of(doc, "runningCount") == 1,
                         "4 s in: running, d1's call in flight (runningCount 1)", "%s, runningCount %lld",
                         status_of(doc), stat_of(doc, "runningCount"));
    json_decref(doc);
    if (!ok)
        return;
    conf_advance(c, 3 * SEC);
    if (!(doc = get_job(c, "quiet", "7 s after the start")))
        return;
    conf_check(c,
               strcmp(status_of(doc), "completed") == 0 && stat_of(doc, "failedCount") == 1 &&
                   stat_of(doc, "succeededCount") == 0,
               "past the 5 s response timeout: d1 failed (failedCount 1), the job completed", "%s, failedCount %lld, "
               "succeededCount %lld", status_of(doc), stat_of(doc, "failedCount"), stat_of(doc, "succeededCount"));
    json_decref(doc);
}

/* ---- JOB-NOT-FOUND --------------------------------------------------------------------- */

static void not_found(conf_ctx_t *c)
{
    target_http_response_t r;
    if (!conf_rest_setup(c, NULL) || !conf_rest_service(c, "GET", "/jobs/v2/nosuch", NULL, NOHDR, &r) ||
        !conf_rest_status(c, &r, 404, "GET /jobs/v2/nosuch (never created): 404"))
        return;
    if (conf_rest_service(c, "POST", "/jobs/v2/nosuch/cancel", NULL, NOHDR, &r))
        conf_rest_status(c, &r, 404, "POST /jobs/v2/nosuch/cancel: 404");
}

/* ---- JOB-ZERO-DEVICES ------------------------------------------------------------------ */

static void zero_devices(conf_ctx_t *c)
{
    char body[600];
    if (!conf_rest_setup(c, NULL) || !conf_create(c, "d1", NULL) || !tag(c, "d1", "a"))
        return;
    twin_job_body(c, body, sizeof body, "none", "nobody", 0);
    json_t *doc = create_job(c, "none", body, "PUT /jobs/v2/none (a condition no device matches): 200");
    if (!doc)
        return;
    json_decref(doc);
    conf_advance(c, MS);
    if (!(doc = get_job(c, "none", "once started")))
        return;
    if (conf_check(c, strcmp(status_of(doc), "completed") == 0, "once started: status completed", "%s",
                   status_of(doc)))
        conf_check(c, stat_of(doc, "deviceCount") == 0, "deviceCount 0", "%lld", stat_of(doc, "deviceCount"));
    json_decref(doc);
}

/* ---- JOB-BAD-QUERY --------------------------------------------------------------------- */

static void bad_query(conf_ctx_t *c)
{
    target_http_response_t r;
    /* line 2, column 5: the ')' with nothing to close */
    const char *body = "{\"jobId\":\"bad\",\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"tags.kind = 'a'\\nAND )\","
                       "\"updateTwin\":{\"tags\":{\"done\":1},\"etag\":\"*\"}}";
    if (!conf_rest_setup(c, NULL) || !conf_rest_service(c, "PUT", "/jobs/v2/bad", body, NOHDR, &r) ||
        !conf_rest_status(c, &r, 400, "PUT with queryCondition \"tags.kind = 'a'\\nAND )\": 400"))
        return;
    conf_check(c, strstr(r.body, "line 2, column 5") != NULL, "the error names line 2, column 5", "%.300s", r.body);
    /* and nothing was created */
    if (conf_ok(c) && conf_rest_service(c, "GET", "/jobs/v2/bad", NULL, NOHDR, &r))
        conf_rest_status(c, &r, 404, "GET /jobs/v2/bad after the refusal: 404 (not created)");
}

/* ---- the table ------------------------------------------------------------------------- */

const conf_case_t conf_cases_jobs[] = {
    { "JOB-STATUS-MACHINE", "method job on an online device: queued, running while the call waits, completed after the answer",
      status_machine, WIRE | VT, NULL, false },
    { "JOB-START-TIME", "twin job with startTime 60 s ahead: scheduled and not run at 59 s, completed at 60 s",
      start_time, WIRE | VT, NULL, true },
    { "JOB-MAX-EXECUTION", "method job, maxExecutionTimeInSeconds 10, device silent: running at 9 s, failed at 10 s",
      max_execution, WIRE | VT, NULL, false },
    { "JOB-CANCEL", "scheduled job cancelled: status cancelled, never runs at its startTime", cancel_scheduled,
      WIRE | VT, NULL, true },
    { "JOB-CANCEL", "running method job (a call in flight) cancelled: status cancelled, still cancelled 10 s later",
      cancel_running, WIRE | VT, NULL, false },
    { "JOB-DEVICE-OUTCOMES", "method job over an answering and an offline device: 1 succeeded, 1 failed, job completed",
      device_outcomes, WIRE | VT, NULL, false },
    { "JOB-DEVICE-OUTCOMES", "method job, device silent, responseTimeout 5: running at 4 s, d1 failed by 7 s",
      device_silent, WIRE | VT, NULL, false },
    { "JOB-NOT-FOUND", "GET and cancel of an unknown job id: 404", not_found, WIRE, NULL, true },
    { "JOB-ZERO-DEVICES", "job whose condition matches no device: completed, deviceCount 0", zero_devices,
      WIRE | VT, NULL, true },
    { "JOB-BAD-QUERY", "malformed queryCondition: 400 naming line 2, column 5; no job created", bad_query, WIRE,
      NULL, true },
    { NULL, NULL, NULL, 0, NULL, false },
};
