/* Runs a scenario end to end in virtual time and evaluates its expectations. */
#include "play.h"

#include <string.h>

#include "sim/fleet/fleet_metrics.h"
#include "sim/fleet/report_knobs.h"
#include "sim/hub/hub.h"

static void stamp(report_result_t *r, const scenario_t *s, const play_options_t *o)
{
    char shard[32];
    report_result_set_seed(r, s->seed);
    report_result_set_target(r, "inproc");
    report_result_set_virtual(r, s->start_unix, s->duration);
    if (s->path)
        report_result_set_info(r, "scenario", s->path);
    snprintf(shard, sizeof shard, "%u/%u", o->shard.shard_index,
             o->shard.shard_count ? o->shard.shard_count : 1);
    report_result_set_info(r, "shard", shard);
    report_stamp_hub_knobs(r, &s->hub);
}

hs_err_t play_scenario(const scenario_t *s, const play_options_t *opt, play_outcome_t *out)
{
    static const play_options_t defaults = { .shard = { 0, 1 } };
    if (!opt)
        opt = &defaults;
    memset(out, 0, sizeof *out);
    hs_err_t rc = HS_ENOMEM;
    sim_kernel_t *k = sim_kernel_new(s->seed, s->start_unix);
    hub_t *hub = NULL;
    fleet_t *fleet = NULL;
    out->result = report_result_new(REPORT_KIND_SCENARIO, s->name ? s->name : "scenario");
    if (!k || !out->result)
        goto done;
    if (opt->trace)
        sim_trace_attach(sim_kernel_trace(k), opt->trace);
    rc = hub_new(k, &s->hub, &hub, out->why, sizeof out->why);
    if (rc != HS_EOK)
        goto done;
    for (size_t i = 0; i < opt->nbreaks; i++)
        if (hub_break(hub, opt->breaks[i]) != HS_EOK) {
            snprintf(out->why, sizeof out->why, "unknown fault switch '%s'", opt->breaks[i]);
            rc = HS_EINVAL;
            goto done;
        }
    stamp(out->result, s, opt);
    rc = fleet_new(k, hub, s, &opt->shard, out->result, &fleet, out->why, sizeof out->why);
    if (rc != HS_EOK)
        goto done;
    sim_time_t step = s->duration / 200 ? s->duration / 200 : 1;
    for (sim_time_t t = 0; t < s->duration;) {
        t = t + step > s->duration ? s->duration : t + step;
        fleet_run_until(fleet, t);
        if (opt->progress) {
            fleet_progress_t p;
            fleet_progress(fleet, &p);
            opt->progress(opt->progress_ctx, t, s->duration, sim_kernel_fired(k), &p);
        }
    }
    out->conserved = fleet_finish(fleet, out->why, sizeof out->why);
    out->trace_hash = sim_trace_hash(sim_kernel_trace(k));
    out->events = sim_kernel_fired(k);
    report_result_set_trace_hash(out->result, out->trace_hash);
    fleet_metrics_t *m = fleet_metrics_new(out->result, hub, out->conserved);
    if (!m) {
        rc = HS_ENOMEM;
        goto done;
    }
    out->failed = fleet_expectations_evaluate(s, m, out->result, out->conserved, out->why);
    fleet_metrics_free(m);
    rc = out->failed < 0 ? HS_ENOMEM : HS_EOK;
done:
    fleet_free(fleet);
    hub_free(hub);
    sim_kernel_free(k);
    if (rc != HS_EOK && rc != HS_EINVAL && !out->why[0])
        snprintf(out->why, sizeof out->why, "%s", hs_strerror(rc));
    return rc;
}
