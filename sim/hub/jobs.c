/* Scheduled jobs in virtual time: validation, the start and deadline events, per-device calls, job and device documents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/hub/jobs.h"
#include "sim/route/twin_query.h"

typedef enum { JOB_METHOD = 0, JOB_TWIN = 1 } job_type_t;
typedef enum { DEV_PENDING = 0, DEV_RUNNING, DEV_COMPLETED, DEV_FAILED, DEV_CANCELED } dev_state_t;

static const char *const type_names[] = { "scheduleDeviceMethod", "scheduleUpdateTwin" };
static const char *const status_names[] = { "queued", "scheduled", "running",
                                             "completed", "failed", "cancelled" };
/* per-device statuses: DeviceJobStatus [doc] */
static const char *const dev_state_names[] = { "pending", "running", "completed", "failed",
                                               "canceled" };

enum { EV_START = 0, EV_DEADLINE = 1 };

typedef struct job job_t;

typedef struct {
    job_t *job;
    char *device_id;
    dev_state_t state;
    json_t *outcome; /* {"deviceMethodResponse": ...} when completed */
    json_t *error;   /* {"code","description"} when failed or canceled */
    int64_t end_ms;
} job_dev_t;

struct job {
    hub_jobs_t *owner;
    uint32_t index;
    char id[HUB_JOBS_ID_MAX + 1];
    job_type_t type;
    char *condition;
    twin_query_t *query;
    json_t *method; /* cloudToDeviceMethod as stored (normalized) */
    char *payload;  /* the method payload as JSON text */
    json_t *patch;  /* updateTwin as given */
    char *patch_text; /* {"tags":..,"properties":{"desired":..}} for hub_twin_patch */
    int64_t created_ms, start_ms, end_ms; /* end_ms < 0: not ended */
    int64_t max_exec_s;
    hub_job_status_t status;
    const char *failure_reason;
    job_dev_t *devs;
    size_t n_devs, next, running;
    sim_event_id_t start_ev, deadline_ev;
    bool start_armed, deadline_armed, dispatching;
};

struct hub_jobs {
    hub_t *hub;
    sim_kernel_t *k;
    uint32_t handler;
    job_t **v;
    size_t n, cap;
};

/* The hub's armed break switch f (faults.h, staged JOB-* rows). */
static bool broken(const hub_jobs_t *js, hub_fault_t f)
{
    return hub_faults_on(hub_faults(js->hub), f);
}

/* ---- time -------------------------------------------------------------------- */

static int64_t now_ms(const hub_jobs_t *js)
{
    return sim_kernel_epoch(js->k) * 1000 + (int64_t)(sim_kernel_now(js->k) / SIM_MS);
}

/* days since 1970-01-01 of a civil date (H. Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static json_t *iso_time(int64_t ms)
{
    if (ms < 0)
        return json_null();
    int64_t days = ms / 86400000, rem = ms % 86400000;
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    char buf[40];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
    return json_string(buf);
}

/* "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh:mm|-hh:mm)" -> unix ms; false when malformed. */
static bool iso_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, se, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6 || used != 19)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970)
        return false;
    const char *p = s + used;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        if (!digits)
            return false;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, n2 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n2) != 2 || n2 != 5)
            return false;
        off_s = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return false; /* a time without a zone is ambiguous [our choice] */
    }
    if (*p)
        return false;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_s;
    *ms = secs * 1000 + frac;
    return true;
}

/* ---- documents ------------------------------------------------------------- */

static void stats_of(const job_t *j, hub_job_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->device_count = (uint32_t)j->n_devs;
    for (size_t i = 0; i < j->n_devs; i++) {
        switch (j->devs[i].state) {
        case DEV_PENDING: st->pending_count++; break;
        case DEV_RUNNING: st->running_count++; break;
        case DEV_COMPLETED: st->succeeded_count++; break;
        case DEV_FAILED:
        case DEV_CANCELED: st->failed_count++; break; /* canceled counts as failed [?] */
        }
    }
}

static json_t *job_doc(const job_t *j)
{
    hub_job_stats_t st;
    stats_of(j, &st);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "jobId", json_string(j->id));
    json_object_set_new(o, "type", json_string(type_names[j->type]));
    json_object_set_new(o, "status", json_string(status_names[j->status]));
    json_object_set_new(o, "queryCondition", json_string(j->condition));
    json_object_set_new(o, "createdTime", iso_time(j->created_ms));
    json_object_set_new(o, "startTime", iso_time(j->start_ms));
    json_object_set_new(o, "endTime", iso_time(j->end_ms));
    json_object_set_new(o, "maxExecutionTimeInSeconds", json_integer(j->max_exec_s));
    if (j->type == JOB_METHOD)
        json_object_set(o, "cloudToDeviceMethod", j->method);
    else
        json_object_set(o, "updateTwin", j->patch);
    if (j->failure_reason)
        json_object_set_new(o, "failureReason", json_string(j->failure_reason));
    json_object_set_new(o, "deviceJobStatistics",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "deviceCount", (json_int_t)st.device_count,
                                  "failedCount", (json_int_t)st.failed_count, "succeededCount",
                                  (json_int_t)st.succeeded_count, "runningCount",
                                  (json_int_t)st.running_count, "pendingCount",
                                  (json_int_t)st.pending_count));
    return o;
}

static json_t *dev_doc(const job_t *j, const job_dev_t *d)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "deviceId", json_string(d->device_id));
    json_object_set_new(o, "jobId", json_string(j->id));
    json_object_set_new(o, "jobType", json_string(type_names[j->type]));
    json_object_set_new(o, "status", json_string(dev_state_names[d->state]));
    json_object_set_new(o, "startTimeUtc", iso_time(j->start_ms));
    json_object_set_new(o, "endTimeUtc", iso_time(d->end_ms));
    json_object_set_new(o, "createdDateTimeUtc", iso_time(j->created_ms));
    json_object_set_new(o, "lastUpdatedDateTimeUtc", iso_time(d->end_ms >= 0 ? d->end_ms : j->start_ms));
    if (d->outcome)
        json_object_set(o, "outcome", d->outcome);
    if (d->error)
        json_object_set(o, "error", d->error);
    return o;
}

/* ---- running ----------------------------------------------------------------- */

static void dev_fail(job_t *j, job_dev_t *d, dev_state_t st, const char *code, const char *desc)
{
    d->state = st;
    d->end_ms = now_ms(j->owner);
    json_decref(d->error);
    d->error = json_pack("{s:s, s:s}", "code", code, "description", desc);
}

static void job_end(job_t *j, hub_job_status_t status, const char *reason)
{
    hub_jobs_t *js = j->owner;
    j->status = status;
    j->end_ms = now_ms(js);
    j->failure_reason = reason;
    if (j->deadline_armed) {
        sim_kernel_cancel(js->k, j->deadline_ev);
        j->deadline_armed = false;
    }
    if (j->start_armed) {
        sim_kernel_cancel(js->k, j->start_ev);
        j->start_armed = false;
    }
}

static void job_maybe_finish(job_t *j)
{
    if (j->status != HUB_JOB_RUNNING || j->running != 0 || j->next != j->n_devs)
        return;
    /* the broken hubs leave a finished job running (its deadline still fails it) */
    if (broken(j->owner, j->n_devs ? HUB_FAULT_JOB_STATUS_MACHINE : HUB_FAULT_JOB_ZERO_DEVICES))
        return;
    job_end(j, HUB_JOB_COMPLETED, NULL);
}

/* A device's call ended without an answer (error e).  JOB-DEVICE-OUTCOMES
 * broken: recorded succeeded as if it had answered. */
static void call_failed(job_t *j, job_dev_t *d, hub_err_t e)
{
    if (broken(j->owner, HUB_FAULT_JOB_DEVICE_OUTCOMES)) {
        d->state = DEV_COMPLETED;
        d->end_ms = now_ms(j->owner);
        json_decref(d->outcome);
        d->outcome = json_pack("{s:{s:i, s:n}}", "deviceMethodResponse", "status", 200, "payload");
        return;
    }
    const hub_error_info_t *info = hub_error_info(e);
    dev_fail(j, d, DEV_FAILED, info->name, info->message);
}

static void job_dispatch(job_t *j);

static void method_done(void *ctx, const hub_method_result_t *res)
{
    job_dev_t *d = ctx;
    job_t *j = d->job;
    if (d->state != DEV_RUNNING)
        return; /* the job ended it already (max execution time) */
    j->running--;
    if (res->http_status == 200) {
        d->state = DEV_COMPLETED;
        d->end_ms = now_ms(j->owner);
        json_t *payload = NULL;
        if (res->payload && res->payload_len)
            payload = json_loadb(res->payload, res->payload_len, JSON_DECODE_ANY, NULL);
        d->outcome = json_pack("{s:{s:i, s:o}}", "deviceMethodResponse", "status", res->device_status,
                               "payload", payload ? payload : json_null());
    } else {
        call_failed(j, d, res->error);
    }
    if (!j->dispatching) {
        job_dispatch(j);
    }
}

static void job_call_one(job_t *j, job_dev_t *d)
{
    hub_jobs_t *js = j->owner;
    if (j->type == JOB_TWIN) {
        hub_err_t e = hub_twin_patch(js->hub, d->device_id, NULL, j->patch_text, strlen(j->patch_text),
                                     NULL, NULL);
        if (e == HUB_EOK) {
            d->state = DEV_COMPLETED;
            d->end_ms = now_ms(js);
            d->outcome = json_pack("{s:n}", "deviceMethodResponse");
        } else {
            const hub_error_info_t *info = hub_error_info(e);
            dev_fail(j, d, DEV_FAILED, info->name, info->message);
        }
        return;
    }
    json_t *m = j->method;
    hub_method_call_t call = {
        .device_id = d->device_id,
        .method_name = json_string_value(json_object_get(m, "methodName")),
        .payload = j->payload,
        .payload_len = strlen(j->payload),
        .has_response_timeout = true,
        .response_timeout_s = json_integer_value(json_object_get(m, "responseTimeoutInSeconds")),
        .has_connect_timeout = true,
        .connect_timeout_s = json_integer_value(json_object_get(m, "connectTimeoutInSeconds")),
    };
    d->state = DEV_RUNNING;
    j->running++;
    hub_err_t e = hub_method_invoke(js->hub, &call, method_done, d, NULL);
    if (e != HUB_EOK) {
        j->running--;
        call_failed(j, d, e);
    }
}

static void job_dispatch(job_t *j)
{
    j->dispatching = true;
    while (j->status == HUB_JOB_RUNNING && j->next < j->n_devs && j->running < HUB_JOBS_CONCURRENCY)
        job_call_one(j, &j->devs[j->next++]);
    j->dispatching = false;
    job_maybe_finish(j);
}

/* The twin document a query condition sees: identity fields + the twin. */
static json_t *twin_document(hub_t *hub, const hub_identity_t *id)
{
    json_t *twin = NULL;
    if (hub_twin_get(hub, id->device_id, NULL, &twin) != HUB_EOK)
        return NULL;
    json_t *o = json_object();
    if (!o) {
        json_decref(twin);
        return NULL;
    }
    json_object_set_new(o, "deviceId", json_string(id->device_id));
    json_object_set_new(o, "deviceEtag", json_string(id->etag));
    json_object_set_new(o, "status", json_string(id->enabled ? "enabled" : "disabled"));
    json_object_set_new(o, "connectionState", json_string(id->connected ? "Connected" : "Disconnected"));
    json_object_set_new(o, "authenticationType", json_string(id->x509 ? "selfSigned" : "sas"));
    const char *key;
    json_t *v;
    json_object_foreach(twin, key, v) {
        if (!json_object_get(o, key))
            json_object_set(o, key, v);
    }
    json_decref(twin);
    return o;
}

static void job_start(job_t *j)
{
    hub_jobs_t *js = j->owner;
    j->start_armed = false;
    if (j->status != HUB_JOB_QUEUED && j->status != HUB_JOB_SCHEDULED)
        return;
    j->status = HUB_JOB_RUNNING;
    j->start_ms = now_ms(js);
    /* select the devices now, in registration order */
    size_t cap = hub_identity_count(js->hub);
    j->devs = calloc(cap ? cap : 1, sizeof *j->devs);
    if (!j->devs) {
        job_end(j, HUB_JOB_FAILED, "out of memory selecting devices");
        return;
    }
    hub_identity_t id;
    uint32_t cursor = 0;
    while (j->n_devs < cap && hub_identity_next(js->hub, &cursor, &id)) {
        if (id.module_id[0])
            continue;
        json_t *doc = twin_document(js->hub, &id);
        bool hit = doc && twin_query_matches(j->query, doc);
        json_decref(doc);
        if (!hit)
            continue;
        job_dev_t *d = &j->devs[j->n_devs++];
        d->job = j;
        d->end_ms = -1;
        d->device_id = strdup(id.device_id);
        if (!d->device_id) {
            j->n_devs--;
            job_end(j, HUB_JOB_FAILED, "out of memory selecting devices");
            return;
        }
    }
    if (!broken(js, HUB_FAULT_JOB_MAX_EXECUTION) &&
        sim_kernel_after(js->k, (sim_time_t)j->max_exec_s * SIM_SEC, SIM_PRIO_DEVICE, js->handler,
                         (uint64_t)j->index << 1 | EV_DEADLINE, &j->deadline_ev) == HS_EOK)
        j->deadline_armed = true;
    job_dispatch(j);
}

/* maxExecutionTimeInSeconds passed: devices not called are canceled, calls
 * in flight failed, the job failed [?]. */
static void job_deadline(job_t *j)
{
    j->deadline_armed = false;
    if (j->status != HUB_JOB_RUNNING)
        return;
    for (size_t i = 0; i < j->n_devs; i++) {
        job_dev_t *d = &j->devs[i];
        if (d->state == DEV_PENDING)
            dev_fail(j, d, DEV_CANCELED, "JobTimedOut", "the job reached its maxExecutionTimeInSeconds before calling this device");
        else if (d->state == DEV_RUNNING)
            dev_fail(j, d, DEV_FAILED, "JobTimedOut", "the job reached its maxExecutionTimeInSeconds while this call was in progress");
    }
    j->running = 0;
    j->next = j->n_devs;
    job_end(j, HUB_JOB_FAILED, "the job did not finish within maxExecutionTimeInSeconds");
}

static void on_event(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    hub_jobs_t *js = ctx;
    size_t idx = (size_t)(arg >> 1);
    if (idx >= js->n)
        return;
    if ((arg & 1) == EV_START)
        job_start(js->v[idx]);
    else
        job_deadline(js->v[idx]);
}

/* ---- lifecycle ----------------------------------------------------------------- */

hub_jobs_t *hub_jobs_new(hub_t *hub)
{
    if (!hub)
        return NULL;
    hub_jobs_t *js = calloc(1, sizeof *js);
    if (!js)
        return NULL;
    js->hub = hub;
    js->k = hub_kernel(hub);
    js->handler = sim_kernel_register(js->k, on_event, js);
    if (!js->handler) {
        free(js);
        return NULL;
    }
    return js;
}

static void job_free(hub_jobs_t *js, job_t *j)
{
    if (j->start_armed)
        sim_kernel_cancel(js->k, j->start_ev);
    if (j->deadline_armed)
        sim_kernel_cancel(js->k, j->deadline_ev);
    for (size_t i = 0; i < j->n_devs; i++) {
        free(j->devs[i].device_id);
        json_decref(j->devs[i].outcome);
        json_decref(j->devs[i].error);
    }
    free(j->devs);
    free(j->condition);
    twin_query_free(j->query);
    json_decref(j->method);
    free(j->payload);
    json_decref(j->patch);
    free(j->patch_text);
    free(j);
}

void hub_jobs_free(hub_jobs_t *js)
{
    if (!js)
        return;
    for (size_t i = 0; i < js->n; i++)
        job_free(js, js->v[i]);
    free(js->v);
    free(js);
}

/* ---- create ---------------------------------------------------------------------- */

static job_t *find(hub_jobs_t *js, const char *id)
{
    for (size_t i = 0; i < js->n; i++)
        if (strcmp(js->v[i]->id, id) == 0)
            return js->v[i];
    return NULL;
}

#define FAIL(...)                                 \
    do {                                          \
        snprintf(why, cap, __VA_ARGS__);          \
        return HUB_JOBS_EINVALID;                 \
    } while (0)

/* A whole number member in [lo, hi], or dflt when absent/null. */
static hub_jobs_err_t int_member(const json_t *o, const char *name, json_int_t lo, json_int_t hi,
                                 json_int_t dflt, json_int_t *out, char *why, size_t cap)
{
    const json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return HUB_JOBS_OK;
    }
    if (!json_is_integer(v))
        FAIL("%s must be a whole number", name);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        FAIL("%s must be between %lld and %lld, not %lld", name, (long long)lo, (long long)hi,
             (long long)x);
    *out = x;
    return HUB_JOBS_OK;
}

static hub_jobs_err_t parse_method(job_t *j, const json_t *m, char *why, size_t cap)
{
    if (!json_is_object(m))
        FAIL("a scheduleDeviceMethod job needs a cloudToDeviceMethod object");
    const char *name = json_string_value(json_object_get(m, "methodName"));
    if (!name || !name[0])
        FAIL("cloudToDeviceMethod.methodName must be a non-empty string");
    json_int_t rt, ct;
    hub_jobs_err_t e;
    /* the direct method limits [doc: 5..300 s response, 0..300 s connect] */
    if ((e = int_member(m, "responseTimeoutInSeconds", 5, 300, 30, &rt, why, cap)))
        return e;
    if ((e = int_member(m, "connectTimeoutInSeconds", 0, 300, 0, &ct, why, cap)))
        return e;
    const json_t *payload = json_object_get(m, "payload");
    j->payload = json_dumps(payload ? payload : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    j->method = json_pack("{s:s, s:O, s:I, s:I}", "methodName", name, "payload",
                          payload ? payload : json_null(), "responseTimeoutInSeconds", rt,
                          "connectTimeoutInSeconds", ct);
    if (!j->payload || !j->method)
        return HUB_JOBS_ENOMEM;
    if (strlen(j->payload) > 128 * 1024)
        FAIL("cloudToDeviceMethod.payload is larger than 128 KB");
    return HUB_JOBS_OK;
}

static hub_jobs_err_t parse_twin(job_t *j, const json_t *t, char *why, size_t cap)
{
    if (!json_is_object(t))
        FAIL("a scheduleUpdateTwin job needs an updateTwin object");
    const json_t *tags = json_object_get(t, "tags");
    const json_t *props = json_object_get(t, "properties");
    const json_t *desired = json_object_get(props, "desired");
    if (props && !json_is_object(props))
        FAIL("updateTwin.properties must be an object");
    if (props && json_object_get(props, "reported"))
        FAIL("updateTwin.properties.reported cannot be written by a job");
    if (!tags && !desired)
        FAIL("updateTwin needs tags or properties.desired");
    json_t *patch = json_object();
    if (!patch)
        return HUB_JOBS_ENOMEM;
    if (tags)
        json_object_set(patch, "tags", (json_t *)tags);
    if (desired)
        json_object_set_new(patch, "properties", json_pack("{s:O}", "desired", desired));
    j->patch_text = json_dumps(patch, JSON_COMPACT);
    json_decref(patch);
    j->patch = json_deep_copy(t);
    if (!j->patch_text || !j->patch)
        return HUB_JOBS_ENOMEM;
    return HUB_JOBS_OK;
}

static hub_jobs_err_t parse_desc(hub_jobs_t *js, job_t *j, const char *job_id, const json_t *desc,
                                 char *why, size_t cap)
{
    if (!job_id || !job_id[0])
        FAIL("the job id is empty");
    if (strlen(job_id) > HUB_JOBS_ID_MAX)
        FAIL("the job id is longer than %d characters", HUB_JOBS_ID_MAX);
    snprintf(j->id, sizeof j->id, "%s", job_id);
    if (!json_is_object(desc))
        FAIL("the job description must be a JSON object");
    const json_t *bid = json_object_get(desc, "jobId");
    if (bid && !json_is_null(bid) && (!json_is_string(bid) || strcmp(json_string_value(bid), job_id) != 0))
        FAIL("jobId in the body does not match the job id in the path");
    const char *type = json_string_value(json_object_get(desc, "type"));
    if (!type)
        FAIL("type is required: scheduleDeviceMethod or scheduleUpdateTwin");
    if (strcmp(type, type_names[JOB_METHOD]) == 0)
        j->type = JOB_METHOD;
    else if (strcmp(type, type_names[JOB_TWIN]) == 0)
        j->type = JOB_TWIN;
    else
        FAIL("unknown job type '%.64s': scheduleDeviceMethod or scheduleUpdateTwin", type);

    const char *cond = json_string_value(json_object_get(desc, "queryCondition"));
    if (!cond || !cond[0])
        FAIL("queryCondition is required (a twin query WHERE condition, e.g. \"deviceId IN ['d1']\")");
    static const char prefix[] = "SELECT * FROM devices WHERE ";
    size_t plen = sizeof prefix - 1, clen = strlen(cond);
    if (clen > TWIN_QUERY_MAX_LEN - plen)
        FAIL("queryCondition is longer than %zu characters", (size_t)TWIN_QUERY_MAX_LEN - plen);
    char *text = malloc(plen + clen + 1);
    j->condition = strdup(cond);
    if (!text || !j->condition) {
        free(text);
        return HUB_JOBS_ENOMEM;
    }
    memcpy(text, prefix, plen);
    memcpy(text + plen, cond, clen + 1);
    route_syntax_error_t se;
    hs_err_t qe = twin_query_compile(text, &j->query, &se);
    free(text);
    if (qe == HS_ENOMEM)
        return HUB_JOBS_ENOMEM;
    if (qe && broken(js, HUB_FAULT_JOB_BAD_QUERY))
        FAIL("queryCondition: syntax error: %s", se.message);
    if (qe) {
        int col = se.line == 1 ? se.column - (int)plen : se.column;
        FAIL("queryCondition: syntax error at line %d, column %d: %s", se.line, col < 1 ? 1 : col,
             se.message);
    }

    const json_t *st = json_object_get(desc, "startTime");
    int64_t now = now_ms(js);
    int64_t start = now;
    if (json_is_string(st)) {
        if (!iso_parse(json_string_value(st), &start))
            FAIL("startTime '%.40s' is not an ISO-8601 time with a zone (2026-01-01T00:00:00Z)",
                 json_string_value(st));
    } else if (json_is_integer(st)) {
        start = (int64_t)json_integer_value(st) * 1000; /* unix seconds [our choice] */
    } else if (st && !json_is_null(st)) {
        FAIL("startTime must be an ISO-8601 string");
    }
    j->start_ms = start < now ? now : start; /* a start in the past means now [?] */
    if (broken(js, HUB_FAULT_JOB_START_TIME))
        j->start_ms = now;

    json_int_t mx;
    hub_jobs_err_t e = int_member(desc, "maxExecutionTimeInSeconds", 1, INT32_MAX,
                                  HUB_JOBS_DEFAULT_MAX_EXEC_S, &mx, why, cap);
    if (e)
        return e;
    j->max_exec_s = mx;
    if (j->type == JOB_METHOD) {
        if (json_object_get(desc, "updateTwin") && !json_is_null(json_object_get(desc, "updateTwin")))
            FAIL("a scheduleDeviceMethod job takes cloudToDeviceMethod, not updateTwin");
        return parse_method(j, json_object_get(desc, "cloudToDeviceMethod"), why, cap);
    }
    if (json_object_get(desc, "cloudToDeviceMethod") &&
        !json_is_null(json_object_get(desc, "cloudToDeviceMethod")))
        FAIL("a scheduleUpdateTwin job takes updateTwin, not cloudToDeviceMethod");
    return parse_twin(j, json_object_get(desc, "updateTwin"), why, cap);
}

#undef FAIL

hub_jobs_err_t hub_jobs_create(hub_jobs_t *js, const char *job_id, const json_t *desc,
                               json_t **doc_out, char *why, size_t cap)
{
    if (doc_out)
        *doc_out = NULL;
    if (why && cap)
        why[0] = 0;
    char dummy[8];
    if (!why || !cap) {
        why = dummy;
        cap = sizeof dummy;
    }
    if (!js)
        return HUB_JOBS_EINVALID;
    if (job_id && find(js, job_id)) {
        snprintf(why, cap, "a job with id '%.128s' exists", job_id);
        return HUB_JOBS_EEXISTS;
    }
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        return HUB_JOBS_ENOMEM;
    j->owner = js;
    j->end_ms = -1;
    hub_jobs_err_t e = parse_desc(js, j, job_id, desc, why, cap);
    if (e == HUB_JOBS_OK && js->n == js->cap) {
        size_t nc = js->cap ? js->cap * 2 : 8;
        job_t **nv = realloc(js->v, nc * sizeof *nv);
        if (!nv)
            e = HUB_JOBS_ENOMEM;
        else {
            js->v = nv;
            js->cap = nc;
        }
    }
    if (e != HUB_JOBS_OK) {
        if (e == HUB_JOBS_ENOMEM)
            snprintf(why, cap, "out of memory");
        job_free(js, j);
        return e;
    }
    int64_t now = now_ms(js);
    j->created_ms = now;
    j->index = (uint32_t)js->n;
    j->status = j->start_ms > now ? HUB_JOB_SCHEDULED : HUB_JOB_QUEUED;
    sim_time_t delay = (sim_time_t)(j->start_ms - now) * SIM_MS;
    if (sim_kernel_after(js->k, delay, SIM_PRIO_DEVICE, js->handler, (uint64_t)j->index << 1 | EV_START,
                         &j->start_ev) != HS_EOK) {
        snprintf(why, cap, "the start event could not be scheduled");
        job_free(js, j);
        return HUB_JOBS_ENOMEM;
    }
    j->start_armed = true;
    js->v[js->n++] = j;
    if (doc_out)
        *doc_out = job_doc(j);
    return HUB_JOBS_OK;
}

/* ---- read, cancel, list ---------------------------------------------------------- */

hub_jobs_err_t hub_jobs_get(hub_jobs_t *js, const char *job_id, json_t **doc_out)
{
    job_t *j = js && job_id ? find(js, job_id) : NULL;
    if (!j)
        return HUB_JOBS_ENOTFOUND;
    *doc_out = job_doc(j);
    return *doc_out ? HUB_JOBS_OK : HUB_JOBS_ENOMEM;
}

hub_jobs_err_t hub_jobs_cancel(hub_jobs_t *js, const char *job_id, json_t **doc_out)
{
    job_t *j = js && job_id ? find(js, job_id) : NULL;
    if (!j)
        return HUB_JOBS_ENOTFOUND;
    bool cancellable = j->status == HUB_JOB_QUEUED || j->status == HUB_JOB_SCHEDULED || j->status == HUB_JOB_RUNNING;
    if (cancellable && !broken(js, HUB_FAULT_JOB_CANCEL)) {
        for (size_t i = j->next; i < j->n_devs; i++)
            if (j->devs[i].state == DEV_PENDING)
                dev_fail(j, &j->devs[i], DEV_CANCELED, "JobCancelled",
                         "the job was cancelled before this device was called");
        j->next = j->n_devs;
        job_end(j, HUB_JOB_CANCELLED, NULL);
    }
    if (doc_out) {
        *doc_out = job_doc(j);
        if (!*doc_out)
            return HUB_JOBS_ENOMEM;
    }
    return HUB_JOBS_OK;
}

json_t *hub_jobs_list(hub_jobs_t *js, const char *type, const char *status)
{
    json_t *arr = json_array();
    if (!arr || !js)
        return arr;
    for (size_t i = 0; i < js->n; i++) {
        const job_t *j = js->v[i];
        if (type && type[0] && strcmp(type, type_names[j->type]) != 0)
            continue;
        if (status && status[0] && strcmp(status, status_names[j->status]) != 0)
            continue;
        json_t *d = job_doc(j);
        if (!d || json_array_append_new(arr, d) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *hub_jobs_device_records(hub_jobs_t *js, const char *job_id)
{
    json_t *arr = json_array();
    if (!arr || !js)
        return arr;
    for (size_t i = 0; i < js->n; i++) {
        const job_t *j = js->v[i];
        if (job_id && strcmp(job_id, j->id) != 0)
            continue;
        for (size_t k = 0; k < j->n_devs; k++) {
            json_t *d = dev_doc(j, &j->devs[k]);
            if (!d || json_array_append_new(arr, d) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
    }
    return arr;
}

hub_jobs_err_t hub_jobs_status(hub_jobs_t *js, const char *job_id, hub_job_status_t *status,
                               hub_job_stats_t *stats)
{
    job_t *j = js && job_id ? find(js, job_id) : NULL;
    if (!j)
        return HUB_JOBS_ENOTFOUND;
    if (status)
        *status = j->status;
    if (stats)
        stats_of(j, stats);
    return HUB_JOBS_OK;
}

const char *hub_job_status_name(hub_job_status_t s)
{
    return (unsigned)s < sizeof status_names / sizeof status_names[0] ? status_names[s] : "unknown";
}

size_t hub_jobs_count(const hub_jobs_t *js)
{
    return js ? js->n : 0;
}
