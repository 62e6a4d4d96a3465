/* Jobs over REST: PUT/GET /jobs/v2/{jobId}, POST /jobs/v2/{jobId}/cancel, GET /jobs/v2/query (paged), on the hub model's jobs (sim/hub/jobs.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_internal.h"
#include "sim/hub/jobs.h"

/*
 * The http api makes its hub_jobs_t on first use (one per http_api_t).
 * Errors: a bad description is 400 ArgumentInvalid with the precise reason;
 * an unknown job id is 404 JobNotFound [?]; an id in use is 409
 * JobAlreadyExists [?] (neither name is in the hub's error table, whose
 * codes are device-level).  docs/jobs.md has the facts and their marks.
 */

#define JOBS_DEFAULT_PAGE 100u /* x-ms-max-item-count absent [?] */
#define JOBS_MAX_PAGE 1000u

static hub_jobs_t *api_jobs(http_api_t *api)
{
    if (!api->jobs)
        api->jobs = hub_jobs_new(api->hub);
    return api->jobs;
}

static void answer_err(http_ctx_t *c, http_resp_t *r, hub_jobs_err_t e, const char *why)
{
    unsigned breaks = c->api->opts.breaks;
    char detail[300];
    switch (e) {
    case HUB_JOBS_EINVALID:
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, why);
        break;
    case HUB_JOBS_ENOTFOUND:
        snprintf(detail, sizeof detail, "no job with id '%.200s'", c->token ? c->token : "");
        if (hub_faults_on(hub_faults(c->api->hub), HUB_FAULT_JOB_NOT_FOUND)) /* the broken hub's answer */
            http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, detail);
        else
            http_resp_error(r, breaks, 404, "JobNotFound", "the job does not exist", detail);
        break;
    case HUB_JOBS_EEXISTS:
        http_resp_error(r, breaks, 409, "JobAlreadyExists", "a job with this id exists", why);
        break;
    default:
        http_resp_hub_error(r, breaks, HUB_ESERVER_ERROR, why && why[0] ? why : "out of memory");
        break;
    }
}

static void answer_doc(http_resp_t *r, json_t *doc)
{
    if (doc)
        http_resp_json(r, doc);
    else
        r->failed = true;
}

bool http_jobs_create(http_ctx_t *c, http_resp_t *r)
{
    char why[320];
    json_t *body = http_body_json(c->req, false, why, sizeof why);
    if (!body) {
        http_resp_hub_error(r, c->api->opts.breaks, HUB_EARGUMENT_INVALID, why);
        return true;
    }
    hub_jobs_t *js = api_jobs(c->api);
    json_t *doc = NULL;
    hub_jobs_err_t e = js ? hub_jobs_create(js, c->token, body, &doc, why, sizeof why) : HUB_JOBS_ENOMEM;
    json_decref(body);
    if (e)
        answer_err(c, r, e, why);
    else
        answer_doc(r, doc);
    return true;
}

bool http_jobs_get(http_ctx_t *c, http_resp_t *r)
{
    hub_jobs_t *js = api_jobs(c->api);
    json_t *doc = NULL;
    hub_jobs_err_t e = js ? hub_jobs_get(js, c->token, &doc) : HUB_JOBS_ENOMEM;
    if (e)
        answer_err(c, r, e, "");
    else
        answer_doc(r, doc);
    return true;
}

bool http_jobs_cancel(http_ctx_t *c, http_resp_t *r)
{
    hub_jobs_t *js = api_jobs(c->api);
    json_t *doc = NULL;
    hub_jobs_err_t e = js ? hub_jobs_cancel(js, c->token, &doc) : HUB_JOBS_ENOMEM;
    if (e)
        answer_err(c, r, e, "");
    else
        answer_doc(r, doc);
    return true;
}

static bool known(const char *v, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(v, *names) == 0)
            return true;
    return false;
}

bool http_jobs_query(http_ctx_t *c, http_resp_t *r)
{
    static const char *const types[] = { "scheduleDeviceMethod", "scheduleUpdateTwin", NULL };
    static const char *const statuses[] = { "queued", "scheduled", "running", "completed",
                                            "failed", "cancelled", NULL };
    unsigned breaks = c->api->opts.breaks;
    char type[64] = "", status[64] = "";
    http_query_get(c->query, "jobType", type, sizeof type);
    http_query_get(c->query, "jobStatus", status, sizeof status);
    if (type[0] && !known(type, types)) {
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                            "jobType must be scheduleDeviceMethod or scheduleUpdateTwin");
        return true;
    }
    if (status[0] && !known(status, statuses)) {
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                            "jobStatus must be queued, scheduled, running, completed, failed or cancelled");
        return true;
    }
    size_t page = JOBS_DEFAULT_PAGE;
    const char *max = http_req_header(c->req, "x-ms-max-item-count");
    if (max && max[0]) {
        char *end = NULL;
        long long v = strtoll(max, &end, 10);
        if (!end || *end || v <= 0) {
            http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                                "x-ms-max-item-count must be a positive whole number");
            return true;
        }
        page = v > (long long)JOBS_MAX_PAGE ? JOBS_MAX_PAGE : (size_t)v;
    }
    size_t offset = 0;
    const char *cont = http_req_header(c->req, "x-ms-continuation");
    if (cont && cont[0]) {
        unsigned long long off;
        int used = 0;
        if (sscanf(cont, "hsj1.%llu%n", &off, &used) != 1 || cont[used] != '\0' || off > SIZE_MAX / 2) {
            http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                                "x-ms-continuation is not a token a job query returned");
            return true;
        }
        offset = (size_t)off;
    }
    hub_jobs_t *js = api_jobs(c->api);
    json_t *all = js ? hub_jobs_list(js, type, status) : NULL;
    json_t *slice = json_array();
    if (!all || !slice) {
        json_decref(all);
        json_decref(slice);
        r->failed = true;
        return true;
    }
    size_t total = json_array_size(all);
    for (size_t i = offset; i < total && i < offset + page; i++)
        json_array_append(slice, json_array_get(all, i));
    json_decref(all);
    http_resp_header(r, "x-ms-item-type", "jobResponse");
    if (offset + page < total)
        http_resp_headerf(r, "x-ms-continuation", "hsj1.%zu", offset + page);
    http_resp_json(r, slice);
    return true;
}

void http_jobs_free(http_api_t *api)
{
    hub_jobs_free(api->jobs);
    api->jobs = NULL;
}
