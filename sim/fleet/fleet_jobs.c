/* Job actors: create scheduled jobs (scheduleDeviceMethod / scheduleUpdateTwin) through the port and poll each to its end for statuses, durations and per-device outcomes.
 *
 * A job actor creates job "<actor>-<n>" at its start (and every interval
 * when it has one) with startTime = now + its startTime offset, then reads
 * the job every pollInterval until it has ended.  At the end it counts
 * job.<actor>.status.<status>, the job's run time (startTime to endTime)
 * into the histogram job.<actor>.duration, and each device's outcome:
 * job.<actor>.device.<completed|failed|canceled|...>,
 * job.<actor>.device.http.<status> and job.<actor>.device.error.<code>.
 */
#include "fleet_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sim/hub/jobs.h"

/* Poll events carry (actor << 32 | job sequence number). */
static void job_id_of(const struct fleet *f, uint32_t actor, uint32_t seq, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%u", f->s->actors[actor].name, seq);
}

static void on_job_poll(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t actor = (uint32_t)(arg >> 32), seq = (uint32_t)arg;
    char id[HUB_JOBS_ID_MAX + 1];
    job_id_of(f, actor, seq, id, sizeof id);
    f->port->job_poll(f->port_ctx, id, actor);
}

void fleet_jobs_handlers(struct fleet *f)
{
    for (size_t i = 0; i < f->s->nactors; i++)
        if (f->s->actors[i].kind == SCN_ACTOR_JOB) {
            f->h_job_poll = sim_kernel_register(f->k, on_job_poll, f);
            return;
        }
}

void fleet_jobs_free(struct fleet *f)
{
    hub_jobs_free(f->jobs);
    f->jobs = NULL;
}

static json_t *job_description(struct fleet *f, const scn_actor_t *a, const char *id)
{
    char start[64];
    sim_utc_format(sim_kernel_epoch(f->k), sim_kernel_now(f->k) + a->job_start_delay, start, sizeof start);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:I}", "jobId", id, "type",
                          a->job_type == SCN_JOB_METHOD ? "scheduleDeviceMethod" : "scheduleUpdateTwin",
                          "queryCondition", a->query_condition, "startTime", start, "maxExecutionTimeInSeconds",
                          (json_int_t)a->max_exec_s);
    if (!d)
        return NULL;
    if (a->job_type == SCN_JOB_METHOD) {
        json_t *m = json_pack("{s:s}", "methodName", a->method);
        if (m && a->payload_size > 12) {
            char *pad = malloc(a->payload_size - 11);
            if (pad) {
                memset(pad, 'p', a->payload_size - 12);
                pad[a->payload_size - 12] = 0;
                json_object_set_new(m, "payload", json_pack("{s:s}", "input", pad)); /* {"input":"pp.."} */
                free(pad);
            }
        }
        if (m && a->has_response_timeout)
            json_object_set_new(m, "responseTimeoutInSeconds", json_integer(a->response_timeout_s));
        if (m && a->has_connect_timeout)
            json_object_set_new(m, "connectTimeoutInSeconds", json_integer(a->connect_timeout_s));
        json_object_set_new(d, "cloudToDeviceMethod", m);
    } else {
        uint64_t n = a->patch_size > 40 ? a->patch_size - 40 : 1;
        char *pad = malloc(n + 1);
        if (pad) {
            memset(pad, 's', n);
            pad[n] = 0;
            json_object_set_new(d, "updateTwin",
                                json_pack("{s:s, s:{s:{s:s}}}", "etag", "*", "properties", "desired", "jobSetting", pad));
            free(pad);
        }
    }
    return d;
}

void fleet_job_create(struct fleet *f, uint32_t actor)
{
    const scn_actor_t *a = &f->s->actors[actor];
    actor_state_t *st = &f->actors[actor];
    if (!f->port->job_create || !f->port->job_poll) {
        fleet_count(f, "job.unsupported", 1);
        return;
    }
    char id[HUB_JOBS_ID_MAX + 1];
    job_id_of(f, actor, st->jobs_created++, id, sizeof id);
    json_t *d = job_description(f, a, id);
    char *text = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(d);
    if (!text) {
        fleet_count(f, "fleet.out_of_memory", 1);
        return;
    }
    fleet_countf(f, 1, "job.%s.created", a->name);
    f->port->job_create(f->port_ctx, id, text, strlen(text), actor);
    free(text);
}

/* The sequence number at the end of "<actor>-<n>". */
static uint32_t job_seq(const char *job_id)
{
    const char *dash = strrchr(job_id, '-');
    return dash ? (uint32_t)strtoul(dash + 1, NULL, 10) : 0;
}

void fleet_port_job_created(struct fleet *f, uint32_t actor, const char *job_id, fleet_port_result_t r)
{
    const scn_actor_t *a = &f->s->actors[actor];
    if (r.code != 0) {
        char code[16];
        f->errors++;
        fleet_countf(f, 1, "job.%s.create_failed.%s", a->name, fleet_code_text(r.code, code, sizeof code));
        return;
    }
    fleet_countf(f, 1, "job.%s.accepted", a->name);
    sim_kernel_after(f->k, a->poll_interval, SIM_PRIO_DEVICE, f->h_job_poll,
                     (uint64_t)actor << 32 | job_seq(job_id), NULL);
}

void fleet_port_job_status(struct fleet *f, uint32_t actor, const char *job_id, fleet_port_result_t r,
                           const fleet_port_job_t *job)
{
    const scn_actor_t *a = &f->s->actors[actor];
    if (r.code != 0 || !job) {
        char code[16];
        f->errors++;
        fleet_countf(f, 1, "job.%s.poll_failed.%s", a->name, fleet_code_text(r.code, code, sizeof code));
        return;
    }
    if (!job->done) {
        sim_kernel_after(f->k, a->poll_interval, SIM_PRIO_DEVICE, f->h_job_poll,
                         (uint64_t)actor << 32 | job_seq(job_id), NULL);
        return;
    }
    fleet_countf(f, 1, "job.%s.status.%s", a->name, job->status);
    fleet_countf(f, 1, "job.status.%s", job->status);
    if (job->run_s >= 0) {
        char name[160];
        snprintf(name, sizeof name, "job.%s.duration", a->name);
        report_hist_t *h;
        if (report_result_hist(f->result, name, &h) == HS_EOK)
            report_hist_record(h, (uint64_t)(job->run_s * 1e9));
    }
    fleet_countf(f, (int64_t)job->ndevices, "job.%s.devices", a->name);
    for (size_t i = 0; i < job->ndevices; i++) {
        const fleet_port_job_device_t *d = &job->devices[i];
        fleet_countf(f, 1, "job.%s.device.%s", a->name, d->status);
        if (d->http_status)
            fleet_countf(f, 1, "job.%s.device.http.%d", a->name, d->http_status);
        if (d->error)
            fleet_countf(f, 1, "job.%s.device.error.%s", a->name, d->error);
    }
}
