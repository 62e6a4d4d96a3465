/* Fleet set-up, the shard slice, periodic sampling for charts, and the export of metrics into the report. */
#include "fleet_internal.h"
#include "sim/hub/auth.h"
#include "sim/hugemem.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

uint64_t fleet_ev_arg(uint32_t dev, uint32_t epoch) { return (uint64_t)dev << 32 | epoch; }

_Static_assert(sizeof(fleet_device_t) == 64, "a virtual device is one cache line");

void fleet_count(struct fleet *f, const char *name, int64_t delta)
{
    report_result_add_counter(f->result, name, delta);
}

void fleet_countf(struct fleet *f, int64_t delta, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    report_result_add_counter(f->result, name, delta);
}

void fleet_port_count(fleet_t *f, const char *name, int64_t delta)
{
    fleet_count(f, name, delta);
}

const char *fleet_code_text(int code, char *buf, size_t cap)
{
    if (code == FLEET_PORT_TRANSPORT)
        return "transport";
    if (code == FLEET_PORT_UNSUPPORTED)
        return "unsupported";
    snprintf(buf, cap, "%d", code);
    return buf;
}

const char *fleet_port_device_id(fleet_t *f, uint32_t dev, char *buf, size_t cap)
{
    return fleet_device_id(f, dev, buf, cap);
}

const scn_group_t *fleet_port_group(fleet_t *f, uint32_t dev)
{
    return &f->s->groups[f->devices[dev].group];
}

static void on_sample(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)arg;
    struct fleet *f = ctx;
    sim_time_t now = sim_kernel_now(k);
    sim_time_t span = now - f->last_sample_at;
    if (span > 0) {
        double rate = (double)(f->d2c_accepted - f->last_sample_accepted) * (double)SIM_SEC / (double)span;
        report_result_add_point(f->result, "d2c accepted", "msg/s", now, rate);
    }
    report_result_add_point(f->result, "devices online", "devices", now, (double)f->online);
    uint64_t cnt = report_hist_count(f->method_latency), sum = report_hist_sum(f->method_latency);
    if (cnt > f->last_method_count)
        report_result_add_point(f->result, "method latency (mean)", "ms", now,
                                (double)(sum - f->last_method_sum) / (double)(cnt - f->last_method_count) / 1e6);
    f->last_method_count = cnt;
    f->last_method_sum = sum;
    f->last_sample_accepted = f->d2c_accepted;
    f->last_sample_at = now;
    if (now + f->s->sample_interval <= f->s->duration)
        sim_kernel_after(k, f->s->sample_interval, SIM_PRIO_REPORT, f->h_sample, 0, NULL);
}

/* The shard's slice of each group: devices are numbered group by group in
 * file order and the whole fleet is cut into N contiguous ranges. */
static void compute_slices(struct fleet *f)
{
    uint64_t total = scenario_device_count(f->s);
    uint32_t n = f->opt.shard_count ? f->opt.shard_count : 1, k = f->opt.shard_index;
    uint64_t lo = total * k / n, hi = total * (k + 1) / n;
    uint64_t base = 0, fleet_index = 0;
    for (size_t g = 0; g < f->s->ngroups; g++) {
        uint64_t count = f->s->groups[g].count;
        uint64_t a = lo > base ? lo - base : 0, b = hi - base < count ? hi - base : count;
        if (hi <= base || lo >= base + count)
            a = b = 0;
        f->group_first[g] = fleet_index;
        f->group_n0[g] = a;
        f->group_count[g] = b > a ? b - a : 0;
        fleet_index += f->group_count[g];
        base += count;
    }
    f->ndevices = fleet_index;
}

static hs_err_t fleet_create(sim_kernel_t *k, hub_t *hub, const fleet_port_ops_t *ops, void *port,
                             const scenario_t *s, const fleet_options_t *opt, report_result_t *result,
                             fleet_t **out, char *why, size_t cap)
{
    struct fleet *f = calloc(1, sizeof *f);
    if (!f)
        return HS_ENOMEM;
    f->k = k;
    f->hub = hub;
    f->port = ops;
    f->port_ctx = port ? port : f; /* the in-process port's context is the fleet */
    f->s = s;
    f->result = result;
    f->opt = *opt;
    if (f->opt.shard_count == 0)
        f->opt.shard_count = 1;
    f->inflight_free = f->answers_free = f->settles_free = NO_FREE;
    f->signer = hub_sas_signer_new();
    size_t ng = s->ngroups ? s->ngroups : 1;
    f->group_first = calloc(ng, sizeof *f->group_first);
    f->group_count = calloc(ng, sizeof *f->group_count);
    f->group_n0 = calloc(ng, sizeof *f->group_n0);
    f->id_formats = calloc(ng, sizeof *f->id_formats);
    if (!f->group_first || !f->group_count || !f->group_n0 || !f->id_formats)
        goto nomem;
    for (size_t g = 0; g < s->ngroups; g++)
        scenario_id_format_init(&s->groups[g], &f->id_formats[g]);
    compute_slices(f);
    if (f->ndevices > UINT32_MAX - 1) {
        snprintf(why, cap, "a shard holds at most %u devices", UINT32_MAX - 1);
        fleet_free(f);
        return HS_ERANGE;
    }
    /* one device = one cache line */
    size_t dev_bytes = (f->ndevices ? f->ndevices : 1) * sizeof *f->devices;
    f->devices = aligned_alloc(64, dev_bytes);
    if (f->devices) {
        sim_mem_advise_huge(f->devices, dev_bytes);
        memset(f->devices, 0, dev_bytes);
    }
    if (!f->devices || report_result_hist(result, "d2c.latency", &f->d2c_latency) != HS_EOK ||
        report_result_hist(result, "method.latency", &f->method_latency) != HS_EOK)
        goto nomem;
    hs_err_t gerr = fleet_uploads_init(f);
    if (gerr == HS_EOK)
        gerr = fleet_gateways_init(f, why, cap);
    if (gerr) {
        fleet_free(f);
        return gerr;
    }
    /* Room for each device's telemetry, connect and outage timers up front. */
    sim_queue_reserve(sim_kernel_queue(k), sim_kernel_pending(k) + 3 * f->ndevices + 1024);
    fleet_device_handlers(f);
    fleet_actor_handlers(f);
    f->h_sample = sim_kernel_register(k, on_sample, f);
    if (hub)
        fleet_port_inproc_attach(f);

    char id[HUB_CONFIG_ID_MAX + 1], stream[HUB_CONFIG_ID_MAX + 16];
    for (size_t g = 0; g < s->ngroups; g++) {
        const scn_group_t *grp = &s->groups[g];
        for (uint64_t i = 0; i < f->group_count[g]; i++) {
            uint32_t dev = (uint32_t)(f->group_first[g] + i);
            fleet_device_t *d = &f->devices[dev];
            d->fleet = f;
            d->group = (uint32_t)g;
            size_t idn = scenario_id_format(&f->id_formats[g], f->group_n0[g] + i, id, sizeof id);
            if (idn >= sizeof id)
                idn = sizeof id - 1;
            memcpy(stream, "device:", 7);
            memcpy(stream + 7, id, idn + 1);
            int n = (int)(7 + idn);
            sim_kernel_stream(k, sim_rng_stream_id(stream, (size_t)n), &d->rng);
            hub_identity_spec_t spec = { .device_id = id, .x509 = grp->auth == SCN_AUTH_X509 };
            char parent[HUB_CONFIG_ID_MAX + 1];
            fleet_gateway_spec(f, dev, &spec, parent, sizeof parent);
            char thumb[65];
            if (spec.x509) {
                /* a stable per-device thumbprint derived from the id */
                uint64_t h1 = sim_rng_stream_id(id, strlen(id)), h2 = h1 * 0x9e3779b97f4a7c15ULL;
                snprintf(thumb, sizeof thumb, "%016llx%016llx%08llx", (unsigned long long)h1,
                         (unsigned long long)h2, (unsigned long long)(h1 >> 32));
                spec.primary_thumbprint = thumb;
            }
            char refusal[200];
            hs_err_t perr = f->port->provision(f->port_ctx, &spec, refusal, sizeof refusal);
            if (perr != HS_EOK) {
                snprintf(why, cap, "group '%s': the hub refused device '%s': %s", grp->name, id, refusal);
                fleet_free(f);
                return perr == HS_ENOMEM ? HS_ENOMEM : HS_EINVAL;
            }
            for (size_t m = 0; m < grp->nmodules; m++) {
                hub_identity_spec_t ms = { .device_id = id, .module_id = grp->modules[m] };
                f->port->provision(f->port_ctx, &ms, refusal, sizeof refusal);
            }
        }
    }
    hs_err_t err = fleet_actors_start(f, why, cap);
    if (err) {
        fleet_free(f);
        return err;
    }
    for (size_t g = 0; g < s->ngroups; g++) {
        const scn_connectivity_t *c = &s->groups[g].connectivity;
        if (!f->group_count[g])
            continue;
        for (size_t w = 0; w < c->noffline; w++) {
            sim_kernel_at(k, c->offline[w].start, SIM_PRIO_CONTROL, f->h_window, (uint64_t)g << 32 | (w << 1), NULL);
            sim_kernel_at(k, c->offline[w].end, SIM_PRIO_CONTROL, f->h_window, (uint64_t)g << 32 | (w << 1) | 1, NULL);
        }
        for (size_t st = 0; st < c->nstorms; st++)
            sim_kernel_at(k, c->storms[st], SIM_PRIO_CONTROL, f->h_storm, (uint64_t)g << 32 | st, NULL);
    }
    for (uint32_t dev = 0; dev < f->ndevices; dev++)
        fleet_device_start(f, dev);
    sim_kernel_at(k, 0, SIM_PRIO_REPORT, f->h_sample, 0, NULL);
    sim_tf_t tf[] = { TF_STR("scenario", s->name ? s->name : ""), TF_INT("devices", (int64_t)f->ndevices),
                      TF_INT("shard", f->opt.shard_index), TF_INT("shards", f->opt.shard_count) };
    sim_kernel_emit(k, "fleet.start", tf, 4);
    *out = f;
    return HS_EOK;
nomem:
    fleet_free(f);
    return HS_ENOMEM;
}

hs_err_t fleet_new(sim_kernel_t *k, hub_t *hub, const scenario_t *s, const fleet_options_t *opt,
                   report_result_t *result, fleet_t **out, char *why, size_t cap)
{
    return fleet_create(k, hub, &fleet_port_inproc, NULL, s, opt, result, out, why, cap);
}

hs_err_t fleet_new_on_port(sim_kernel_t *k, const fleet_port_ops_t *ops, void *port, const scenario_t *s,
                           const fleet_options_t *opt, report_result_t *result, fleet_t **out, char *why,
                           size_t cap)
{
    return fleet_create(k, NULL, ops, port, s, opt, result, out, why, cap);
}

void fleet_free(fleet_t *f)
{
    if (!f)
        return;
    fleet_calls_free(f);
    fleet_jobs_free(f);
    fleet_uploads_free(f);
    fleet_gateways_free(f);
    free(f->devices);
    free(f->group_first);
    free(f->group_count);
    free(f->group_n0);
    free(f->id_formats);
    free(f->actors);
    free(f->inflight);
    free(f->answers);
    free(f->settles);
    hub_sas_signer_free(f->signer);
    free(f);
}

void fleet_run_until(fleet_t *f, sim_time_t t)
{
    if (t > f->s->duration)
        t = f->s->duration;
    sim_kernel_run_until(f->k, t);
}

void fleet_progress(const fleet_t *f, fleet_progress_t *out)
{
    out->devices = f->ndevices;
    out->online = f->online;
    out->d2c_accepted = f->d2c_accepted;
    out->errors = f->errors;
}

uint64_t fleet_device_count(const fleet_t *f) { return f->ndevices; }

bool fleet_finish(fleet_t *f, char *why, size_t cap)
{
    static const struct { const char *name; size_t off; } hot[] = {
        { "conn.attempts", offsetof(struct fleet, conn_attempts) },
        { "conn.connected", offsetof(struct fleet, conn_ok) },
        { "conn.failed", offsetof(struct fleet, conn_failed) },
        { "conn.dropped", offsetof(struct fleet, conn_dropped_by_hub) },
        { "conn.closed", offsetof(struct fleet, conn_closed_by_device) },
        { "conn.online_max", offsetof(struct fleet, online_max) },
        { "conn.online", offsetof(struct fleet, online) },
        { "d2c.sent", offsetof(struct fleet, d2c_sent) },
        { "d2c.accepted", offsetof(struct fleet, d2c_accepted) },
        { "d2c.rejected", offsetof(struct fleet, d2c_rejected) },
        { "d2c.skipped_offline", offsetof(struct fleet, d2c_skipped_offline) },
        { "d2c.lost_offline", offsetof(struct fleet, d2c_lost_offline) },
        { "d2c.delivered", offsetof(struct fleet, d2c_delivered) },
        { "errors", offsetof(struct fleet, errors) },
    };
    for (size_t i = 0; i < sizeof hot / sizeof hot[0]; i++)
        fleet_count(f, hot[i].name, (int64_t) * (const uint64_t *)((const char *)f + hot[i].off));
    fleet_count(f, "devices", (int64_t)f->ndevices);
    fleet_gateways_finish(f);
    fleet_uploads_finish(f);
    /* Messages still on the wire at the end never reached the hub. */
    uint64_t in_flight = f->d2c_sent - f->d2c_skipped_offline - f->d2c_lost_offline -
                         f->d2c_accepted - f->d2c_rejected;
    fleet_count(f, "d2c.in_flight_at_end", (int64_t)in_flight);
    bool ok = f->port->check(f->port_ctx, why, cap);
    sim_tf_t tf[] = { TF_BOOL("conservation", ok), TF_INT("accepted", (int64_t)f->d2c_accepted) };
    sim_kernel_emit(f->k, "fleet.end", tf, 2);
    return ok;
}
