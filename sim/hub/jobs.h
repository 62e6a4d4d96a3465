/* Scheduled jobs over the device fleet (scheduleDeviceMethod, scheduleUpdateTwin) in virtual time: create, run at startTime, cancel, query. */
#ifndef HUB_JOBS_H
#define HUB_JOBS_H

/*
 * A job selects the devices whose twin matches its queryCondition (the twin
 * query WHERE text, sim/route/twin_query.h) at the instant it starts, then
 * calls each one in registration order: a direct method through
 * hub_method_invoke (the hub's own 404/504 semantics), or a twin patch
 * through hub_twin_patch.  At most HUB_JOBS_CONCURRENCY method calls of one
 * job are in flight at a time [?].  Job and device documents use the field
 * names of the service SDKs (docs/jobs.md has the facts and their marks).
 *
 * Statuses: queued (created, start not yet processed) -> scheduled (start in
 * the future) -> running -> completed | failed | cancelled.  A job whose
 * start time has come runs as a kernel event at SIM_PRIO_DEVICE.
 *
 * Lifetime: hub_jobs_free cancels the jobs' kernel events.  Method calls in
 * flight hold pointers into the jobs, so free the jobs after hub_free (which
 * completes pending calls without callbacks) or when no job is running.
 */

#include <jansson.h>
#include <stddef.h>
#include "sim/hub/hub.h"

#define HUB_JOBS_CONCURRENCY 100u        /* method calls in flight per job [?] */
#define HUB_JOBS_DEFAULT_MAX_EXEC_S 3600 /* maxExecutionTimeInSeconds absent [sdk: Node default 3600] */
#define HUB_JOBS_ID_MAX 128              /* job id length [?: same rule as device ids] */

typedef struct hub_jobs hub_jobs_t;

typedef enum {
    HUB_JOBS_OK = 0,
    HUB_JOBS_EINVALID,  /* bad request: why says what (400 ArgumentInvalid) */
    HUB_JOBS_ENOTFOUND, /* no job with that id (404 JobNotFound [?]) */
    HUB_JOBS_EEXISTS,   /* a job with that id exists (409 JobAlreadyExists [?]) */
    HUB_JOBS_ENOMEM,
} hub_jobs_err_t;

typedef enum {
    HUB_JOB_QUEUED = 0,
    HUB_JOB_SCHEDULED,
    HUB_JOB_RUNNING,
    HUB_JOB_COMPLETED,
    HUB_JOB_FAILED,
    HUB_JOB_CANCELLED,
} hub_job_status_t;

typedef struct {
    uint32_t device_count, failed_count, succeeded_count, running_count, pending_count;
} hub_job_stats_t;

/* NULL on allocation failure.  Registers one kernel handler on the hub's kernel. */
hub_jobs_t *hub_jobs_new(hub_t *hub);
void hub_jobs_free(hub_jobs_t *jobs);

/* Create a job from its JSON description (the PUT /jobs/v2/{id} body):
 * {"jobId"?, "type": "scheduleDeviceMethod"|"scheduleUpdateTwin",
 *  "queryCondition": "WHERE text", "startTime": ISO-8601 | unix seconds | null,
 *  "maxExecutionTimeInSeconds": n, "cloudToDeviceMethod": {...} | "updateTwin": {...}}.
 * A body jobId must equal job_id.  doc_out (may be NULL) gets the job document. */
hub_jobs_err_t hub_jobs_create(hub_jobs_t *jobs, const char *job_id, const json_t *desc,
                               json_t **doc_out, char *why, size_t cap);
/* The job document (new reference). */
hub_jobs_err_t hub_jobs_get(hub_jobs_t *jobs, const char *job_id, json_t **doc_out);
/* Cancel a queued, scheduled or running job: devices not yet called are
 * "canceled", calls in flight still record their outcome.  A job that has
 * ended is left as it is [?].  doc_out may be NULL. */
hub_jobs_err_t hub_jobs_cancel(hub_jobs_t *jobs, const char *job_id, json_t **doc_out);
/* Job documents in creation order, filtered by type and status (NULL or ""
 * = any).  A new array, NULL on allocation failure. */
json_t *hub_jobs_list(hub_jobs_t *jobs, const char *type, const char *status);
/* Per-device records of every job (the devices.jobs collection): {deviceId,
 * jobId, jobType, status, startTimeUtc, endTimeUtc, createdDateTimeUtc,
 * lastUpdatedDateTimeUtc, outcome | error}, by job then device order. */
json_t *hub_jobs_device_records(hub_jobs_t *jobs, const char *job_id /* NULL = all */);

hub_jobs_err_t hub_jobs_status(hub_jobs_t *jobs, const char *job_id, hub_job_status_t *status,
                               hub_job_stats_t *stats);
const char *hub_job_status_name(hub_job_status_t s);
size_t hub_jobs_count(const hub_jobs_t *jobs);

#endif
