/* The live run: plan and consent, registration, the wall-clock loop feeding network events into the fleet, reports, cleanup. */
#include "live/live_play.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "sim/fleet/dist.h"
#include "sim/fleet/fleet_metrics.h"

#define LIVE_MAX_WAIT_MS 20     /* longest pump between two looks at the kernel */
#define LIVE_DRAIN_MS 5000      /* after the scenario's end: answers still on their way */
#define LIVE_DRAIN_STOPPED_MS 1000

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Messages the scenario will create on the hub (telemetry, C2D, method
 * calls, twin patches): an estimate from the distributions' means. */
static uint64_t planned_messages(const scenario_t *s)
{
    double n = 0;
    double dur = (double)s->duration;
    for (size_t g = 0; g < s->ngroups; g++) {
        const scn_telemetry_t *t = &s->groups[g].telemetry;
        if (!t->enabled)
            continue;
        double per = t->nschedule ? (double)t->nschedule : dur / fmax(scn_dist_mean(&t->interval), (double)SIM_MS);
        n += per * (double)s->groups[g].count;
    }
    for (size_t g = 0; g < s->ngroups; g++) {
        const scn_uploads_t *u = &s->groups[g].uploads;
        if (u->enabled) /* each upload: SAS request, blob write, notification */
            n += 3.0 * dur / fmax(scn_dist_mean(&u->interval), (double)SIM_MS) * (double)s->groups[g].count;
    }
    for (size_t i = 0; i < s->nactors; i++) {
        const scn_actor_t *a = &s->actors[i];
        if (a->kind == SCN_ACTOR_REGISTRY)
            continue;
        double end = a->end ? (double)a->end : dur;
        if (end > (double)a->start)
            n += (end - (double)a->start) / fmax(scn_dist_mean(&a->interval), (double)SIM_MS);
    }
    return (uint64_t)ceil(n);
}

static void stamp(report_result_t *r, const scenario_t *s, const live_play_options_t *o, live_port_t *port,
                  int64_t epoch)
{
    char buf[600];
    report_result_set_seed(r, s->seed);
    snprintf(buf, sizeof buf, "live:%s", live_port_host(port));
    report_result_set_target(r, buf);
    report_result_set_virtual(r, epoch, s->duration);
    if (s->path)
        report_result_set_info(r, "scenario", s->path);
    report_result_set_info(r, "mode", "live: wall clock against a real hub; not deterministic, no trace hash");
    snprintf(buf, sizeof buf, "%g", o->time_scale);
    report_result_set_info(r, "wallclock.time_scale", buf);
    report_result_set_info(r, "live.prefix", live_port_prefix(port));
    report_result_set_info(r, "live.served_hub", live_port_served(port) ? "yes (admin API)" : "no");
    report_result_set_info(r, "shard", "0/1");
    /* no hub knobs: the target's configuration is its own, not the scenario's hub block */
}

static void ms_text(char *buf, size_t cap, uint64_t ns)
{
    snprintf(buf, cap, "%.3f", (double)ns / 1e6);
}

/* The wall-clock section of the report: how late timers fired, the run's wall time, client memory. */
static void stamp_wallclock(report_result_t *r, live_outcome_t *out, report_hist_t *late)
{
    char buf[64];
    out->jitter_samples = report_hist_count(late);
    out->jitter_p50_ns = report_hist_quantile(late, 50000);
    out->jitter_p99_ns = report_hist_quantile(late, 99000);
    out->jitter_max_ns = report_hist_max(late);
    ms_text(buf, sizeof buf, out->jitter_p50_ns);
    report_result_set_info(r, "wallclock.timer_late_p50_ms", buf);
    ms_text(buf, sizeof buf, out->jitter_p99_ns);
    report_result_set_info(r, "wallclock.timer_late_p99_ms", buf);
    ms_text(buf, sizeof buf, out->jitter_max_ns);
    report_result_set_info(r, "wallclock.timer_late_max_ms", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)out->jitter_samples);
    report_result_set_info(r, "wallclock.timer_samples", buf);
    snprintf(buf, sizeof buf, "%.3f", out->wall_s);
    report_result_set_info(r, "wallclock.run_s", buf);
    snprintf(buf, sizeof buf, "%zu", out->client_bytes);
    report_result_set_info(r, "wallclock.client_bytes", buf);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        out->client_maxrss_kb = ru.ru_maxrss;
    snprintf(buf, sizeof buf, "%ld", out->client_maxrss_kb);
    report_result_set_info(r, "wallclock.client_maxrss_kb", buf);
    if (out->all_online_s >= 0) {
        snprintf(buf, sizeof buf, "%.3f", out->all_online_s);
        report_result_set_info(r, "wallclock.all_online_s", buf);
    }
}

static void record_causes(report_result_t *r, live_port_t *port, live_outcome_t *out)
{
    const char *counter, *why;
    char key[160];
    for (size_t i = 0; live_port_cause_at(port, i, &counter, &why); i++) {
        snprintf(key, sizeof key, "live.cause.%s", counter);
        report_result_set_info(r, key, why);
        if (out->ncauses < sizeof out->causes / sizeof out->causes[0])
            snprintf(out->causes[out->ncauses++], sizeof out->causes[0], "%.80s: %.230s", counter, why);
    }
}

/* What the served hub counted during the run (its /counters after minus
 * before) as served.<name>: the hub's own books next to the fleet's
 * (delivered to endpoints, throttled.*, ...).  The served hub may have
 * other clients; these are its totals. */
static void add_served_deltas(report_result_t *r, json_t *before, json_t *after, live_outcome_t *out)
{
    const char *name;
    json_t *v;
    char key[200];
    json_object_foreach(after, name, v)
    {
        long long d = (long long)(json_integer_value(v) - json_integer_value(json_object_get(before, name)));
        if (!json_is_integer(v) || d == 0)
            continue;
        snprintf(key, sizeof key, "served.%s", name);
        report_result_add_counter(r, key, d);
        if (strncmp(name, "throttled.", 10) == 0) {
            /* the hub's count; "throttled" is what the devices and actors saw answered 429 */
            if (out->ncauses < sizeof out->causes / sizeof out->causes[0])
                snprintf(out->causes[out->ncauses++], sizeof out->causes[0],
                         "%.60s: %lld operations throttled by the hub (429; over MQTT the hub closes the connection)",
                         key, d);
        }
    }
}

/* Runs the kernel after the wall clock until the scenario's end or a stop. */
static void wall_loop(const scenario_t *s, const live_play_options_t *o, sim_kernel_t *k, fleet_t *fleet,
                      live_port_t *port, report_hist_t *late, live_outcome_t *out)
{
    int64_t t0 = mono_ns();
    out->all_online_s = -1;
    double scale = o->time_scale > 0 ? o->time_scale : 1.0;
    sim_time_t step = s->duration / 200 ? s->duration / 200 : 1, next_progress = step;
    for (;;) {
        if (o->stop && *o->stop) {
            out->stopped_by = (int)*o->stop;
            break;
        }
        int64_t wall = mono_ns() - t0;
        sim_time_t now = (sim_time_t)((double)wall * scale);
        if (now > s->duration)
            now = s->duration;
        sim_time_t due;
        if (sim_queue_peek_time(sim_kernel_queue(k), &due) && due <= now && due >= sim_kernel_now(k)) {
            /* how late the earliest due timer fires, in wall time */
            double due_wall = (double)due / scale;
            report_hist_record(late, (uint64_t)((double)wall > due_wall ? (double)wall - due_wall : 0));
        }
        fleet_run_until(fleet, now);
        if (out->all_online_s < 0) {
            fleet_progress_t pr;
            fleet_progress(fleet, &pr);
            if (pr.devices && pr.online == pr.devices)
                out->all_online_s = (double)(mono_ns() - t0) / 1e9;
        }
        if (o->progress && (now >= next_progress || now == s->duration)) {
            fleet_progress_t pr;
            fleet_progress(fleet, &pr);
            o->progress(o->progress_ctx, now, s->duration, sim_kernel_fired(k), &pr);
            next_progress = now + step;
        }
        if (now >= s->duration)
            break;
        int64_t wait_ms = LIVE_MAX_WAIT_MS;
        if (sim_queue_peek_time(sim_kernel_queue(k), &due)) {
            double until = ((double)due / scale - (double)(mono_ns() - t0)) / 1e6;
            if (until < (double)wait_ms)
                wait_ms = until > 0 ? (int64_t)until : 0;
        }
        live_port_pump(port, wait_ms);
    }
    /* answers to what was sent before the end */
    int64_t drain_until = mono_ns() + (int64_t)(out->stopped_by ? LIVE_DRAIN_STOPPED_MS : LIVE_DRAIN_MS) * 1000000;
    while (live_port_outstanding(port) && mono_ns() < drain_until) {
        if (o->stop && *o->stop && !out->stopped_by)
            out->stopped_by = (int)*o->stop;
        live_port_pump(port, 10);
    }
    out->wall_s = (double)(mono_ns() - t0) / 1e9;
}

live_status_t live_play_scenario(const scenario_t *s, const live_play_options_t *o, live_outcome_t *out)
{
    memset(out, 0, sizeof *out);
    play_outcome_t *po = &out->play;
    live_port_t *port = NULL;
    sim_kernel_t *k = NULL;
    fleet_t *fleet = NULL;
    json_t *served_before = NULL;
    live_port_opts_t popts = o->port;
    popts.stop = o->stop;
    hs_err_t e = live_port_open(&popts, &port, po->why, sizeof po->why);
    if (e != HS_EOK) {
        out->status = e == HS_EPARSE ? LIVE_BAD_INPUT : LIVE_TARGET_FAILED;
        return out->status;
    }
    int64_t epoch = (int64_t)time(NULL);
    k = sim_kernel_new(s->seed, epoch);
    po->result = report_result_new(REPORT_KIND_SCENARIO, s->name ? s->name : "scenario");
    report_hist_t *late = NULL;
    if (!k || !po->result || report_result_hist(po->result, "wallclock.timer_late", &late) != HS_EOK) {
        snprintf(po->why, sizeof po->why, "out of memory");
        out->status = LIVE_TARGET_FAILED;
        goto done;
    }
    stamp(po->result, s, o, port, epoch);
    fleet_options_t fo = { 0, 1 };
    e = fleet_new_on_port(k, &live_port_ops, port, s, &fo, po->result, &fleet, po->why, sizeof po->why);
    if (e != HS_EOK) {
        out->status = LIVE_BAD_INPUT;
        goto done;
    }
    live_port_bind(port, fleet);
    live_port_set_clock(port, k, o->time_scale);
    out->identities = live_port_identity_count(port);
    out->planned_messages = planned_messages(s);
    if (!live_port_served(port) && !o->yes && !o->port.device_list) {
        snprintf(po->why, sizeof po->why,
                 "%s is not hubsim serve (no admin API answers): the run would register %zu devices and modules "
                 "there (ids %s...) and send about %llu messages (telemetry, C2D, method calls, twin patches, jobs, "
                 "file-upload requests); "
                 "run again with --yes to go ahead",
                 live_port_host(port), out->identities, live_port_prefix(port),
                 (unsigned long long)out->planned_messages);
        out->status = LIVE_REFUSED;
        goto done;
    }
    if (o->info)
        fprintf(o->info, "live: %s%s: %zu identities %s, about %llu messages; time scale %g; after a crash: "
                         "hubsim cleanup --target ... --prefix %s --yes\n",
                live_port_host(port), live_port_served(port) ? " (hubsim serve)" : "", out->identities,
                o->port.device_list ? "from the device list" : "to register", (unsigned long long)out->planned_messages,
                o->time_scale, live_port_prefix(port));
    served_before = live_port_served_counters(port);
    e = live_port_register(port, po->why, sizeof po->why);
    out->registered = live_port_registered(port);
    if (e != HS_EOK) {
        out->status = LIVE_TARGET_FAILED;
        goto cleanup;
    }

    wall_loop(s, o, k, fleet, port, late, out);

    out->client_bytes = live_port_footprint(port);
    live_port_disconnect_all(port);
    live_port_abandon(port);
    po->conserved = fleet_finish(fleet, po->why, sizeof po->why);
    po->events = sim_kernel_fired(k);
    json_t *served_after = live_port_served_counters(port);
    if (served_before && served_after)
        add_served_deltas(po->result, served_before, served_after, out);
    json_decref(served_after);
    stamp_wallclock(po->result, out, late);
    if (out->stopped_by) {
        char buf[32];
        snprintf(buf, sizeof buf, "signal %d", out->stopped_by);
        report_result_set_info(po->result, "live.stopped_by", buf);
    }
    out->status = LIVE_OK;
cleanup:
    json_decref(served_before);
    if (live_port_unregister(port, &out->deleted, out->cleanup_why, sizeof out->cleanup_why) != HS_EOK && o->info)
        fprintf(o->info, "live: cleanup incomplete: %s (hubsim cleanup --target ... --prefix %s --yes)\n",
                out->cleanup_why, live_port_prefix(port));
    if (po->result) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", out->deleted);
        report_result_set_info(po->result, "live.deleted", buf);
        report_result_add_counter(po->result, "live.identities", (int64_t)out->identities);
        report_result_add_counter(po->result, "live.deleted", (int64_t)out->deleted);
        record_causes(po->result, port, out);
    }
    if (out->status == LIVE_OK) {
        fleet_metrics_t *m = fleet_metrics_new(po->result, NULL, po->conserved);
        if (!m) {
            snprintf(po->why, sizeof po->why, "out of memory");
            out->status = LIVE_TARGET_FAILED;
        } else {
            po->failed = fleet_expectations_evaluate(s, m, po->result, po->conserved, po->why);
            fleet_metrics_free(m);
        }
    }
done:
    fleet_free(fleet);
    sim_kernel_free(k);
    live_port_free(port);
    return out->status;
}
