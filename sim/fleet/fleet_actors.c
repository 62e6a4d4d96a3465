/* Service actors (method invokers, C2D senders, twin updaters, registry operations) and hub-side faults.
 *
 * Each actor draws from its own stream (seed, "actor:<name>") and targets
 * the shard's slice of its group; with --shard K/N every shard runs every
 * actor at 1/N of its rate (its interval times N), so merged shard reports
 * add up to the whole fleet's load.
 */
#include "fleet_internal.h"

#include <stdlib.h>
#include <string.h>

static char *filled_json(uint64_t size, const char *key)
{
    if (size < 16)
        size = 16;
    char *p = malloc(size + 1);
    if (!p)
        return NULL;
    size_t w = (size_t)snprintf(p, size + 1, "{\"%s\":\"", key);
    while (w + 2 < size)
        p[w++] = 'v';
    p[w++] = '"';
    p[w++] = '}';
    p[w] = 0;
    return p;
}

/* Pick a target device (fleet index) in the actor's slice; UINT32_MAX when
 * the slice is empty.  EXPLICIT ids are resolved by the caller. */
static uint32_t pick_target(const scn_actor_t *a, actor_state_t *st)
{
    if (st->count == 0)
        return UINT32_MAX;
    uint64_t i;
    switch (a->pick.kind) {
    case SCN_PICK_ZIPF:
        i = sim_rng_zipf(&st->rng, st->count, a->pick.zipf_s) - 1;
        break;
    case SCN_PICK_ROUND_ROBIN:
        i = st->rr_next++ % st->count;
        break;
    default:
        i = sim_rng_below(&st->rng, st->count);
    }
    return (uint32_t)(st->first + i);
}

/* The target's id; *dev (may be NULL) gets its fleet number, UINT32_MAX for an explicit id. */
static const char *target_id(struct fleet *f, const scn_actor_t *a, actor_state_t *st, char *buf,
                             size_t cap, uint32_t *dev_out)
{
    if (dev_out)
        *dev_out = UINT32_MAX;
    if (a->pick.kind == SCN_PICK_EXPLICIT) {
        if (a->pick.nids == 0)
            return NULL;
        return a->pick.ids[sim_rng_below(&st->rng, a->pick.nids)];
    }
    uint32_t dev = pick_target(a, st);
    if (dev == UINT32_MAX)
        return NULL;
    if (dev_out)
        *dev_out = dev;
    return fleet_device_id(f, dev, buf, cap);
}

void fleet_port_invoked(struct fleet *f, void *call_ctx, const fleet_port_method_result_t *r)
{
    call_t *c = call_ctx;
    const scn_actor_t *a = &f->s->actors[c->actor];
    sim_time_t lat = sim_kernel_now(f->k) - c->invoked;
    fleet_countf(f, 1, "method.%s.status.%d", a->method, r->http_status);
    fleet_countf(f, 1, "method.status.%d", r->http_status);
    if (c->leaf != UINT32_MAX) {
        fleet_countf(f, 1, "gateway.leaf_method.status.%d", r->http_status);
        if (c->gateway_down)
            fleet_countf(f, 1, "gateway.leaf_method_gateway_down.status.%d", r->http_status);
    }
    if (r->code != 0) {
        char code[16];
        f->errors++;
        fleet_countf(f, 1, "method.%s.code.%s", a->method, fleet_code_text(r->code, code, sizeof code));
        if (f->port->live && r->code / 1000 == 429)
            fleet_count(f, "throttled", 1);
    } else {
        fleet_countf(f, 1, "method.%s.device_status.%d", a->method, r->device_status);
    }
    char name[160];
    snprintf(name, sizeof name, "method.%s.latency", a->method);
    report_hist_t *h;
    if (report_result_hist(f->result, name, &h) == HS_EOK)
        report_hist_record(h, lat);
    report_hist_record(f->method_latency, lat);
    /* swap-remove: the last outstanding call takes this one's place */
    call_t *last = f->calls[--f->ncalls];
    f->calls[c->index] = last;
    last->index = c->index;
    free(c);
}

static void invoke_method(struct fleet *f, uint32_t ai, actor_state_t *st)
{
    const scn_actor_t *a = &f->s->actors[ai];
    char id[HUB_CONFIG_ID_MAX + 1];
    uint32_t dev;
    const char *target = target_id(f, a, st, id, sizeof id, &dev);
    if (!target)
        return;
    char *payload = a->payload_size > 4 ? filled_json(a->payload_size, "input") : NULL;
    hub_method_call_t call = {
        .device_id = target,
        .method_name = a->method,
        .payload = payload,
        .payload_len = payload ? strlen(payload) : 0,
        .has_response_timeout = a->has_response_timeout,
        .response_timeout_s = a->response_timeout_s,
        .has_connect_timeout = a->has_connect_timeout,
        .connect_timeout_s = a->connect_timeout_s,
    };
    if (f->ncalls == f->calls_cap) {
        size_t cap = f->calls_cap ? f->calls_cap * 2 : 64;
        call_t **grown = realloc(f->calls, cap * sizeof *grown);
        if (!grown) {
            free(payload);
            fleet_count(f, "fleet.out_of_memory", 1);
            return;
        }
        f->calls = grown;
        f->calls_cap = cap;
    }
    call_t *c = malloc(sizeof *c);
    if (!c) {
        free(payload);
        fleet_count(f, "fleet.out_of_memory", 1);
        return;
    }
    *c = (call_t){ .fleet = f, .actor = ai, .index = f->ncalls, .invoked = sim_kernel_now(f->k), .leaf = UINT32_MAX };
    if (dev != UINT32_MAX && fleet_is_leaf(f, dev)) {
        c->leaf = dev;
        c->gateway_down = f->devices[fleet_leaf_gateway(f, dev)].state != DEV_ONLINE;
    }
    f->calls[f->ncalls++] = c;
    fleet_countf(f, 1, "method.%s.invoked", a->method);
    f->port->invoke(f->port_ctx, &call, c);
    free(payload);
}

static void send_c2d(struct fleet *f, uint32_t ai, actor_state_t *st)
{
    const scn_actor_t *a = &f->s->actors[ai];
    char id[HUB_CONFIG_ID_MAX + 1], mid[64];
    uint32_t dev;
    const char *target = target_id(f, a, st, id, sizeof id, &dev);
    if (!target)
        return;
    hub_msg_t *msg = hub_msg_new();
    char *body = filled_json(a->message_size ? a->message_size : 64, "command");
    if (!msg || !body) {
        hub_msg_free(msg);
        free(body);
        return;
    }
    hub_msg_take_body(msg, body, strlen(body));
    snprintf(mid, sizeof mid, "%s-%llu", a->name, (unsigned long long)sim_rng_next(&st->rng) % 1000000000ULL);
    hub_msg_set_sys(msg, HUB_SYS_MESSAGE_ID, mid);
    if (a->ack)
        hub_msg_set_sys(msg, HUB_SYS_ACK, a->ack);
    fleet_count(f, "c2d.sent", 1);
    fleet_gateway_c2d_sending(f, dev);
    f->port->c2d_send(f->port_ctx, target, msg, a->ttl);
    f->c2d_leaf = UINT32_MAX;
}

void fleet_port_c2d_sent(struct fleet *f, fleet_port_result_t r)
{
    if (r.code == 0) {
        fleet_count(f, "c2d.accepted", 1);
        fleet_gateway_c2d_accepted(f);
    } else {
        char code[16];
        f->errors++;
        fleet_countf(f, 1, "c2d.rejected.%s", fleet_code_text(r.code, code, sizeof code));
        if (f->port->live && r.code / 1000 == 429)
            fleet_count(f, "throttled", 1);
    }
}

static void update_twin(struct fleet *f, uint32_t ai, actor_state_t *st)
{
    const scn_actor_t *a = &f->s->actors[ai];
    char id[HUB_CONFIG_ID_MAX + 1];
    const char *target = target_id(f, a, st, id, sizeof id, NULL);
    if (!target)
        return;
    char *patch = malloc(a->patch_size + 96);
    if (!patch)
        return;
    size_t w = (size_t)snprintf(patch, 96, "{\"properties\":{\"desired\":{\"setting\":%llu,\"pad\":\"",
                                (unsigned long long)sim_rng_below(&st->rng, 1000000));
    while (w < a->patch_size + 60 && w + 5 < a->patch_size)
        patch[w++] = 's';
    memcpy(patch + w, "\"}}}", 5);
    w += 4;
    fleet_count(f, "twin.desired.sent", 1);
    f->port->twin_patch(f->port_ctx, target, patch, w);
    free(patch);
}

void fleet_port_twin_patched(struct fleet *f, fleet_port_result_t r)
{
    if (r.code == 0)
        fleet_count(f, "twin.desired.accepted", 1);
    else {
        char code[16];
        f->errors++;
        fleet_countf(f, 1, "twin.desired.rejected.%s", fleet_code_text(r.code, code, sizeof code));
        if (f->port->live && r.code / 1000 == 429)
            fleet_count(f, "throttled", 1);
    }
}

static const char *const registry_ops[] = { "disable", "enable", "delete" };

void fleet_port_registry_done(struct fleet *f, unsigned op, fleet_port_result_t r)
{
    char code[16];
    if (r.code == 0)
        fleet_countf(f, 1, "registry.%s.ok", registry_ops[op % 3]);
    else
        fleet_countf(f, 1, "registry.%s.failed.%s", registry_ops[op % 3], fleet_code_text(r.code, code, sizeof code));
}

static void registry_op(struct fleet *f, uint32_t ai, actor_state_t *st)
{
    const scn_actor_t *a = &f->s->actors[ai];
    char id[HUB_CONFIG_ID_MAX + 1];
    /* Walk the slice in order; each device is chosen by a Bernoulli draw. */
    for (uint64_t i = 0; i < st->count; i++) {
        if (!sim_rng_bernoulli(&st->rng, a->fraction))
            continue;
        uint32_t dev = (uint32_t)(st->first + i);
        fleet_device_id(f, dev, id, sizeof id);
        f->port->registry(f->port_ctx, id, (unsigned)a->op);
    }
}

static void on_actor(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t ai = (uint32_t)arg;
    const scn_actor_t *a = &f->s->actors[ai];
    actor_state_t *st = &f->actors[ai];
    sim_time_t end = a->end ? a->end : f->s->duration;
    if (sim_kernel_now(f->k) > end)
        return;
    switch (a->kind) {
    case SCN_ACTOR_METHOD_INVOKER: invoke_method(f, ai, st); break;
    case SCN_ACTOR_C2D_SENDER: send_c2d(f, ai, st); break;
    case SCN_ACTOR_TWIN_UPDATER: update_twin(f, ai, st); break;
    case SCN_ACTOR_REGISTRY: registry_op(f, ai, st); return; /* one-shot */
    case SCN_ACTOR_JOB:
        fleet_job_create(f, ai);
        if (!a->job_repeat)
            return;
        break;
    }
    sim_time_t gap = scn_dist_draw(&a->interval, &st->rng) * st->interval_scale;
    sim_kernel_after(f->k, gap ? gap : SIM_MS, SIM_PRIO_DEVICE, f->h_actor, ai, NULL);
}

/* ---- faults ------------------------------------------------------------------- */

static void on_fault(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    const scn_fault_t *ft = &f->s->faults[arg];
    sim_tf_t tf[] = { TF_INT("index", (int64_t)arg) };
    sim_kernel_emit(f->k, "fleet.fault", tf, 1);
    fleet_count(f, "fleet.faults", 1);
    switch (ft->kind) {
    case SCN_FAULT_DROP_CONNECTIONS: {
        uint32_t g = (uint32_t)ft->group_index;
        sim_rng_t r;
        sim_kernel_stream(f->k, sim_rng_stream_id("fault", 5) ^ arg, &r);
        char id[HUB_CONFIG_ID_MAX + 1];
        for (uint64_t i = 0; i < f->group_count[g]; i++) {
            if (!sim_rng_bernoulli(&r, ft->fraction))
                continue;
            /* Hub-initiated: the device hears `disconnected` and reconnects
             * with its backoff, as after a real service-side drop. */
            fleet_device_id(f, (uint32_t)(f->group_first[g] + i), id, sizeof id);
            if (f->port->drop(f->port_ctx, id, "fault: dropConnections") == HS_EUNSUPPORTED)
                fleet_count(f, "fleet.fault_unsupported", 1);
        }
        break;
    }
    case SCN_FAULT_BREAK: {
        hs_err_t e = f->port->arm_break(f->port_ctx, ft->rule);
        if (e == HS_EUNSUPPORTED)
            fleet_count(f, "fleet.fault_unsupported", 1);
        else if (e != HS_EOK)
            fleet_count(f, "fleet.fault_unknown_rule", 1);
        break;
    }
    default:
        /* Hub-side run-time switches (throttle, method delay, endpoint). */
        if (f->port->hub_fault(f->port_ctx, ft, true) != HS_EOK)
            fleet_count(f, "fleet.fault_unsupported", 1);
        else if (ft->duration)
            sim_kernel_after(f->k, ft->duration, SIM_PRIO_CONTROL, f->h_fault_end, arg, NULL);
    }
}

static void on_fault_end(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    f->port->hub_fault(f->port_ctx, &f->s->faults[arg], false);
}

void fleet_actor_handlers(struct fleet *f)
{
    f->h_actor = sim_kernel_register(f->k, on_actor, f);
    f->h_fault = sim_kernel_register(f->k, on_fault, f);
    f->h_fault_end = sim_kernel_register(f->k, on_fault_end, f);
    fleet_jobs_handlers(f);
}

hs_err_t fleet_actors_start(struct fleet *f, char *why, size_t cap)
{
    const scenario_t *s = f->s;
    f->actors = calloc(s->nactors ? s->nactors : 1, sizeof *f->actors);
    if (!f->actors)
        return HS_ENOMEM;
    for (size_t i = 0; i < s->nactors; i++) {
        const scn_actor_t *a = &s->actors[i];
        actor_state_t *st = &f->actors[i];
        char name[300];
        int n = snprintf(name, sizeof name, "actor:%s", a->name);
        sim_kernel_stream(f->k, sim_rng_stream_id(name, (size_t)n), &st->rng);
        st->first = f->group_first[a->group_index];
        st->count = f->group_count[a->group_index];
        st->interval_scale = f->opt.shard_count ? f->opt.shard_count : 1;
        if (a->kind == SCN_ACTOR_REGISTRY || a->kind == SCN_ACTOR_JOB)
            st->interval_scale = 1;
        sim_kernel_at(f->k, a->start, SIM_PRIO_DEVICE, f->h_actor, i, NULL);
    }
    for (size_t i = 0; i < s->nfaults; i++) {
        if (!fleet_hub_fault_supported(s->faults[i].kind)) {
            snprintf(why, cap, "faults[%zu]: this hub model cannot apply that fault kind at run time yet", i);
            return HS_EUNSUPPORTED;
        }
        if (s->faults[i].kind == SCN_FAULT_BREAK && s->faults[i].at == 0) {
            /* Armed before anything runs, so the very first calls see it. */
            hs_err_t e = f->port->arm_break(f->port_ctx, s->faults[i].rule);
            if (e == HS_EUNSUPPORTED) {
                fleet_count(f, "fleet.fault_unsupported", 1);
                continue;
            }
            if (e != HS_EOK) {
                snprintf(why, cap, "faults[%zu]: unknown break switch '%s'", i, s->faults[i].rule);
                return HS_EINVAL;
            }
            continue;
        }
        sim_kernel_at(f->k, s->faults[i].at, SIM_PRIO_CONTROL, f->h_fault, i, NULL);
    }
    return HS_EOK;
}

void fleet_calls_free(struct fleet *f)
{
    for (size_t i = 0; i < f->ncalls; i++)
        free(f->calls[i]);
    free(f->calls);
    f->calls = NULL;
    f->ncalls = 0;
}
