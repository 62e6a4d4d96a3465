/* A fixed synthetic kernel workload whose trace hash is committed as a golden value. */
#include "synthetic_workload.h"

#include <stdio.h>
#include <stdlib.h>

/* Model: `devices` virtual devices each send telemetry with exponential gaps
 * (mean 5 s), sometimes burst (Bernoulli 0.1, normal burst size), a method
 * target is drawn by Zipf over the fleet every 2 s and answers after a
 * lognormal latency; a device-wide outage is cancelled half the time.  Every
 * distribution and the cancel path therefore shape the schedule, so a
 * platform-dependent draw or an ordering bug changes the hash. */
typedef struct {
    sim_kernel_t *k;
    sim_rng_t *dev_rng;
    sim_rng_t actor_rng;
    uint32_t h_telemetry, h_invoke, h_respond, h_outage;
    uint32_t devices;
    sim_event_id_t *outage_ids;
    char name[32];
} workload_t;

static const char *dev_name(workload_t *w, uint64_t i)
{
    snprintf(w->name, sizeof w->name, "dev-%05llu", (unsigned long long)i);
    return w->name;
}

static void on_telemetry(sim_kernel_t *k, void *ctx, uint64_t dev)
{
    workload_t *w = ctx;
    sim_rng_t *r = &w->dev_rng[dev];
    int64_t burst = 1;
    if (sim_rng_bernoulli(r, 0.1)) {
        double b = sim_rng_normal(r, 4.0, 1.5);
        burst = b < 1 ? 1 : (int64_t)b;
    }
    sim_tf_t f[] = { TF_STR("device", dev_name(w, dev)), TF_INT("burst", burst) };
    sim_kernel_emit(k, "d2c.sent", f, 2);
    sim_time_t gap = (sim_time_t)(sim_rng_exponential(r, 5.0) * (double)SIM_SEC);
    sim_kernel_after(k, gap + SIM_MS, SIM_PRIO_DEVICE, w->h_telemetry, dev, NULL);
    /* An outage scheduled and, half the time, cancelled again. */
    if (w->outage_ids[dev] == 0 && sim_rng_bernoulli(r, 0.05)) {
        sim_kernel_after(k, 30 * SIM_SEC, SIM_PRIO_CONTROL, w->h_outage, dev, &w->outage_ids[dev]);
    } else if (w->outage_ids[dev] && sim_rng_bernoulli(r, 0.5)) {
        sim_kernel_cancel(k, w->outage_ids[dev]);
        w->outage_ids[dev] = 0;
    }
}

static void on_outage(sim_kernel_t *k, void *ctx, uint64_t dev)
{
    workload_t *w = ctx;
    w->outage_ids[dev] = 0;
    sim_tf_t f[] = { TF_STR("device", dev_name(w, dev)), TF_STR("reason", "scheduled") };
    sim_kernel_emit(k, "conn.dropped", f, 2);
}

static void on_invoke(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    workload_t *w = ctx;
    (void)arg;
    uint64_t target = sim_rng_zipf(&w->actor_rng, w->devices, 1.1) - 1;
    double lat = sim_rng_lognormal(&w->actor_rng, 3.0, 1.0); /* ms */
    sim_tf_t f[] = { TF_STR("device", dev_name(w, target)), TF_STR("method", "reboot") };
    sim_kernel_emit(k, "method.invoked", f, 2);
    sim_kernel_after(k, (sim_time_t)(lat * (double)SIM_MS), SIM_PRIO_DEVICE, w->h_respond, target, NULL);
    sim_kernel_after(k, 2 * SIM_SEC, SIM_PRIO_DEVICE, w->h_invoke, 0, NULL);
}

static void on_respond(sim_kernel_t *k, void *ctx, uint64_t dev)
{
    workload_t *w = ctx;
    sim_tf_t f[] = { TF_STR("device", dev_name(w, dev)), TF_INT("status", 200),
                     TF_BOOL("late", 0) };
    sim_kernel_emit(k, "method.response", f, 3);
}

uint64_t synthetic_workload_run(uint64_t seed, uint32_t devices, sim_time_t duration,
                                FILE *trace_out, uint64_t *events_out)
{
    sim_kernel_t *k = sim_kernel_new(seed, SIM_DEFAULT_EPOCH_UNIX);
    workload_t w = { .k = k, .devices = devices };
    w.dev_rng = calloc(devices, sizeof *w.dev_rng);
    w.outage_ids = calloc(devices, sizeof *w.outage_ids);
    if (trace_out)
        sim_trace_attach(sim_kernel_trace(k), trace_out);
    w.h_telemetry = sim_kernel_register(k, on_telemetry, &w);
    w.h_invoke = sim_kernel_register(k, on_invoke, &w);
    w.h_respond = sim_kernel_register(k, on_respond, &w);
    w.h_outage = sim_kernel_register(k, on_outage, &w);
    sim_kernel_stream(k, sim_rng_stream_id("actor:invoker", 13), &w.actor_rng);
    for (uint32_t i = 0; i < devices; i++) {
        const char *n = dev_name(&w, i);
        sim_kernel_stream(k, sim_rng_stream_id(n, 9), &w.dev_rng[i]);
        sim_time_t first = sim_rng_below(&w.dev_rng[i], 5 * SIM_SEC);
        sim_kernel_at(k, first, SIM_PRIO_DEVICE, w.h_telemetry, i, NULL);
    }
    sim_kernel_at(k, 0, SIM_PRIO_DEVICE, w.h_invoke, 0, NULL);
    sim_kernel_run_until(k, duration);
    uint64_t hash = sim_trace_hash(sim_kernel_trace(k));
    if (events_out)
        *events_out = sim_kernel_fired(k);
    free(w.dev_rng);
    free(w.outage_ids);
    sim_kernel_free(k);
    return hash;
}
