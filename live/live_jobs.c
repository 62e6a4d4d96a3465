/* The live port's jobs: PUT /jobs/v2/{prefix}{jobId} with the condition kept to the run's devices, GET to poll, the device records over POST /devices/query. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "live/live_internal.h"
#include "sim/kernel.h"
#include "sim/simtime.h"

#define JOB_RECORDS_PAGE "1000" /* x-ms-max-item-count of the records query (serve's maximum) */

enum { JOB_CREATE, JOB_GET, JOB_RECORDS };

typedef struct {
    int stage;
    char *job_id; /* the fleet's ("<actor>-<n>") */
    char *wid;    /* the hub's: run prefix + job_id */
    uint32_t actor;
    json_t *doc;     /* JOB_RECORDS: the job document */
    json_t *records; /* JOB_RECORDS: the device records so far */
} live_job_t;

static void job_free(live_job_t *j)
{
    if (!j)
        return;
    free(j->job_id);
    free(j->wid);
    json_decref(j->doc);
    json_decref(j->records);
    free(j);
}

void live_job_drop(live_op_t *op)
{
    job_free(op->call_ctx);
    op->call_ctx = NULL;
}

static live_job_t *job_new(struct live_port *p, const char *job_id, uint32_t actor, int stage)
{
    live_job_t *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    j->stage = stage;
    j->job_id = live_strdup(job_id);
    size_t n = strlen(p->prefix) + strlen(job_id) + 1;
    j->wid = malloc(n);
    if (!j->wid)
        abort();
    snprintf(j->wid, n, "%s%s", p->prefix, job_id);
    j->actor = actor;
    return j;
}

/* ---- the condition ------------------------------------------------------------------------ */

static void put(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    *out = live_grow(*out, cap, *len + n + 1, 1);
    memcpy(*out + *len, s, n);
    *len += n;
    (*out)[*len] = 0;
}

/* Literals compared with deviceId (=, !=, <>, <, >, IN [...], STARTS_WITH(deviceId, ...)) get the
 * prefix; everything else is copied as it is. */
char *live_job_condition(const char *prefix, const char *cond)
{
    char *out = NULL;
    size_t len = 0, cap = 0;
    if (!prefix || !*prefix) {
        put(&out, &len, &cap, cond, strlen(cond));
        return out;
    }
    char head[200];
    snprintf(head, sizeof head, "STARTS_WITH(deviceId, '%s') AND (", prefix);
    put(&out, &len, &cap, head, strlen(head));
    enum { NONE, SAW_ID, SAW_OP, IN_LIST } st = NONE;
    bool starts_with = false;
    const char *s = cond;
    while (*s) {
        if (*s == '\'' || *s == '"') {
            const char *e = s + 1;
            while (*e && *e != *s)
                e++;
            put(&out, &len, &cap, s, 1);
            if (st == SAW_OP || st == IN_LIST)
                put(&out, &len, &cap, prefix, strlen(prefix));
            put(&out, &len, &cap, s + 1, (size_t)(e - s - 1) + (*e ? 1 : 0));
            s = *e ? e + 1 : e;
            if (st == SAW_OP)
                st = NONE;
            starts_with = false;
            continue;
        }
        if (isalpha((unsigned char)*s) || *s == '_' || *s == '$') {
            const char *e = s;
            while (isalnum((unsigned char)*e) || *e == '_' || *e == '$' || *e == '.')
                e++;
            size_t n = (size_t)(e - s);
            if ((n == 8 && strncasecmp(s, "deviceId", 8) == 0) ||
                (n == 16 && strncasecmp(s, "devices.deviceId", 16) == 0))
                st = SAW_ID;
            else if (st == SAW_ID && n == 2 && strncasecmp(s, "IN", 2) == 0)
                st = IN_LIST;
            else if (st != IN_LIST)
                st = NONE;
            if (n == 11 && strncasecmp(s, "STARTS_WITH", 11) == 0)
                starts_with = true;
            put(&out, &len, &cap, s, n);
            s = e;
            continue;
        }
        if (st == SAW_ID && strchr("=!<>", *s))
            st = SAW_OP;
        else if (st == SAW_ID && *s == ',' && starts_with)
            st = SAW_OP;
        else if (st == IN_LIST && (*s == ']' || *s == ')'))
            st = NONE;
        else if (st == SAW_ID && !isspace((unsigned char)*s))
            st = NONE;
        put(&out, &len, &cap, s, 1);
        s++;
    }
    put(&out, &len, &cap, ")", 1);
    return out;
}

/* ---- requests ---------------------------------------------------------------------------- */

static void track(struct live_port *p, tr_http_req_t *req, live_job_t *j)
{
    live_svc_track(p, OP_JOB, req, j, 0);
}

static hs_err_t start_get(struct live_port *p, live_job_t *j, tr_http_req_t **req, char *why, size_t cap)
{
    char path[400];
    if (tr_rest_identity_path("/jobs/v2", j->wid, NULL, NULL, path, sizeof path) != HS_EOK) {
        snprintf(why, cap, "job id too long: %s", j->wid);
        return HS_ERANGE;
    }
    return tr_rest_start(&p->rest, "GET", path, NULL, NULL, NULL, 0, NULL, 0, req, why, cap);
}

static hs_err_t start_records(struct live_port *p, live_job_t *j, const char *continuation, tr_http_req_t **req,
                              char *why, size_t cap)
{
    char q[600];
    snprintf(q, sizeof q, "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '%s'", j->wid);
    json_t *body = json_pack("{s:s}", "query", q);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        abort();
    tr_header_t h[2] = { { "x-ms-max-item-count", JOB_RECORDS_PAGE }, { "x-ms-continuation", continuation } };
    hs_err_t e = tr_rest_start(&p->rest, "POST", "/devices/query", NULL, NULL, h, continuation ? 2 : 1, text,
                               strlen(text), req, why, cap);
    free(text);
    return e;
}

static void note_failure(struct live_port *p, const char *what, fleet_port_result_t r)
{
    char counter[96];
    if (r.code > 0)
        snprintf(counter, sizeof counter, "job.%s.%d", what, r.code);
    else
        snprintf(counter, sizeof counter, "job.%s.transport", what);
    live_note(p, counter, r.why);
}

/* startTime is on the fleet's clock (epoch + virtual now + the actor's delay): the same delay,
 * divided by the time scale, from the wall clock now. */
static void wall_start_time(struct live_port *p, json_t *d)
{
    const char *st = json_string_value(json_object_get(d, "startTime"));
    int64_t sec;
    uint32_t ns;
    if (!st || !p->k || sim_utc_parse(st, &sec, &ns) != HS_EOK)
        return;
    double virt_now = (double)sim_kernel_epoch(p->k) + (double)sim_kernel_now(p->k) / 1e9;
    double delay = (double)sec + ns / 1e9 - virt_now;
    if (delay < 0)
        delay = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + delay / p->time_scale;
    int64_t wsec = (int64_t)wall;
    char buf[64];
    sim_utc_format(wsec, (sim_time_t)((wall - (double)wsec) * 1e9), buf, sizeof buf);
    json_object_set_new(d, "startTime", json_string(buf));
}

void live_job_create(void *port, const char *job_id, const char *desc, size_t len, uint32_t actor)
{
    struct live_port *p = port;
    char why[400] = "";
    live_job_t *j = job_new(p, job_id, actor, JOB_CREATE);
    json_t *d = json_loadb(desc, len, 0, NULL);
    if (!d) {
        fleet_port_result_t r = { FLEET_PORT_UNSUPPORTED, 0, "the fleet's job description is not JSON" };
        fleet_port_job_created(p->fleet, actor, job_id, r);
        job_free(j);
        return;
    }
    json_object_set_new(d, "jobId", json_string(j->wid));
    wall_start_time(p, d);
    const char *cond = json_string_value(json_object_get(d, "queryCondition"));
    if (cond) {
        char *c = live_job_condition(p->nlist ? "" : p->prefix, cond);
        json_object_set_new(d, "queryCondition", json_string(c));
        free(c);
    }
    char *text = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    if (!text)
        abort();
    char path[400];
    tr_http_req_t *req = NULL;
    hs_err_t e = tr_rest_identity_path("/jobs/v2", j->wid, NULL, NULL, path, sizeof path);
    if (e == HS_EOK)
        e = tr_rest_start(&p->rest, "PUT", path, NULL, NULL, NULL, 0, text, strlen(text), &req, why, sizeof why);
    else
        snprintf(why, sizeof why, "job id too long: %s", j->wid);
    free(text);
    if (e != HS_EOK) {
        fleet_port_result_t r = { FLEET_PORT_TRANSPORT, 0, why };
        note_failure(p, "create_failed", r);
        fleet_port_job_created(p->fleet, actor, job_id, r);
        job_free(j);
        return;
    }
    track(p, req, j);
}

void live_job_poll(void *port, const char *job_id, uint32_t actor)
{
    struct live_port *p = port;
    char why[400] = "";
    live_job_t *j = job_new(p, job_id, actor, JOB_GET);
    tr_http_req_t *req = NULL;
    if (start_get(p, j, &req, why, sizeof why) != HS_EOK) {
        fleet_port_result_t r = { FLEET_PORT_TRANSPORT, 0, why };
        note_failure(p, "poll_failed", r);
        fleet_port_job_status(p->fleet, actor, job_id, r, NULL);
        job_free(j);
        return;
    }
    track(p, req, j);
}

/* ---- answers -------------------------------------------------------------------------------- */

/* The finished job to the fleet: the document's status and run time, each device record's outcome
 * read by the same fleet_port_job_read the in-process port uses. */
static void complete_done(struct live_port *p, live_job_t *j)
{
    const char *status = json_string_value(json_object_get(j->doc, "status"));
    fleet_port_job_t job = { .status = status ? status : "unknown", .done = true };
    fleet_port_job_device_t *devs = fleet_port_job_read(&job, j->doc, j->records);
    if (!devs)
        abort();
    fleet_port_job_status(p->fleet, j->actor, j->job_id, (fleet_port_result_t){ 0, 200, NULL }, &job);
    free(devs);
}

static bool is_done(const char *status)
{
    return status && (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0 ||
                      strcmp(status, "cancelled") == 0);
}

/* A records page arrived: keep it, ask for the next or complete. */
static void on_records(struct live_port *p, live_job_t *j, const tr_http_response_t *resp)
{
    char why[400];
    json_t *page = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (!json_is_array(page)) {
        json_decref(page);
        snprintf(why, sizeof why, "POST /devices/query for the records of job %s: the answer is not a JSON array",
                 j->wid);
        fleet_port_result_t r = { FLEET_PORT_TRANSPORT, resp->status, why };
        note_failure(p, "poll_failed", r);
        fleet_port_job_status(p->fleet, j->actor, j->job_id, r, NULL);
        job_free(j);
        return;
    }
    json_array_extend(j->records, page);
    json_decref(page);
    const char *cont = tr_http_header(resp, "x-ms-continuation");
    if (cont && *cont) {
        tr_http_req_t *req = NULL;
        if (start_records(p, j, cont, &req, why, sizeof why) == HS_EOK) {
            track(p, req, j);
            return;
        }
        fleet_port_result_t r = { FLEET_PORT_TRANSPORT, 0, why };
        note_failure(p, "poll_failed", r);
        fleet_port_job_status(p->fleet, j->actor, j->job_id, r, NULL);
        job_free(j);
        return;
    }
    complete_done(p, j);
    job_free(j);
}

void live_job_finish(struct live_port *p, live_op_t *op, fleet_port_result_t r)
{
    live_job_t *j = op->call_ctx;
    op->call_ctx = NULL;
    char why[400]; /* the reasons of the next stages */
    if (j->stage == JOB_CREATE) {
        if (r.code)
            note_failure(p, "create_failed", r);
        fleet_port_job_created(p->fleet, j->actor, j->job_id, r);
        job_free(j);
        return;
    }
    if (r.code) {
        note_failure(p, "poll_failed", r);
        fleet_port_job_status(p->fleet, j->actor, j->job_id, r, NULL);
        job_free(j);
        return;
    }
    const tr_http_response_t *resp = tr_http_result(op->req);
    if (j->stage == JOB_RECORDS) {
        on_records(p, j, resp);
        return;
    }
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *status = json_string_value(json_object_get(doc, "status"));
    if (!status) {
        json_decref(doc);
        snprintf(why, sizeof why, "GET /jobs/v2/%s: no \"status\" in the answer", j->wid);
        r = (fleet_port_result_t){ FLEET_PORT_TRANSPORT, resp->status, why };
        note_failure(p, "poll_failed", r);
        fleet_port_job_status(p->fleet, j->actor, j->job_id, r, NULL);
        job_free(j);
        return;
    }
    if (!is_done(status)) {
        fleet_port_job_t job = { .status = status, .done = false, .run_s = -1 };
        fleet_port_job_status(p->fleet, j->actor, j->job_id, r, &job);
        json_decref(doc);
        job_free(j);
        return;
    }
    /* ended: read its device records before completing */
    j->doc = doc;
    j->records = json_array();
    j->stage = JOB_RECORDS;
    tr_http_req_t *req = NULL;
    if (start_records(p, j, NULL, &req, why, sizeof why) != HS_EOK) {
        r = (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, why };
        note_failure(p, "poll_failed", r);
        fleet_port_job_status(p->fleet, j->actor, j->job_id, r, NULL);
        job_free(j);
        return;
    }
    track(p, req, j);
}
