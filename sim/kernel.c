/* Kernel: owns the clock and queue; dispatches popped events to registered handlers. */
#include "kernel.h"

#include <stdlib.h>

typedef struct {
    sim_handler_fn fn;
    void *ctx;
    sim_prefetch_fn prefetch;
    sim_prefetch_fn preload;
} handler_entry_t;

struct sim_kernel {
    sim_time_t now;
    uint64_t seed;
    int64_t epoch_unix;
    uint64_t fired;
    int stop;
    int prefetching; /* some handler has a prefetch hint */
    sim_queue_t *queue;
    handler_entry_t *handlers; /* index 0 unused */
    uint32_t nhandlers, handler_cap;
    sim_trace_t *trace;
    sim_log_t log;
};

sim_kernel_t *sim_kernel_new(uint64_t seed, int64_t epoch_unix)
{
    sim_kernel_t *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->seed = seed;
    k->epoch_unix = epoch_unix;
    k->queue = sim_queue_new();
    k->trace = sim_trace_new(seed, epoch_unix);
    k->nhandlers = 1;
    k->log.out = NULL;
    k->log.level = SIM_LOG_WARN;
    if (!k->queue || !k->trace) {
        sim_kernel_free(k);
        return NULL;
    }
    return k;
}

void sim_kernel_free(sim_kernel_t *k)
{
    if (!k)
        return;
    sim_queue_free(k->queue);
    sim_trace_free(k->trace);
    free(k->handlers);
    free(k);
}

uint32_t sim_kernel_register(sim_kernel_t *k, sim_handler_fn fn, void *ctx)
{
    if (k->nhandlers >= k->handler_cap) {
        uint32_t cap = k->handler_cap ? k->handler_cap * 2 : 16;
        handler_entry_t *h = realloc(k->handlers, cap * sizeof *h);
        if (!h)
            return 0;
        k->handlers = h;
        k->handler_cap = cap;
    }
    k->handlers[k->nhandlers] = (handler_entry_t){ fn, ctx, NULL, NULL };
    return k->nhandlers++;
}

hs_err_t sim_kernel_set_prefetch(sim_kernel_t *k, uint32_t handler, sim_prefetch_fn fn)
{
    if (handler == 0 || handler >= k->nhandlers)
        return HS_ERANGE;
    k->handlers[handler].prefetch = fn;
    if (fn)
        k->prefetching = 1;
    return HS_EOK;
}

static void preload_event(void *ctx, uint32_t handler, uint64_t arg)
{
    const sim_kernel_t *k = ctx;
    const handler_entry_t *h = &k->handlers[handler];
    if (h->preload)
        h->preload(h->ctx, arg);
}

hs_err_t sim_kernel_set_preload(sim_kernel_t *k, uint32_t handler, sim_prefetch_fn fn)
{
    if (handler == 0 || handler >= k->nhandlers)
        return HS_ERANGE;
    k->handlers[handler].preload = fn;
    if (fn)
        sim_queue_set_load_hook(k->queue, preload_event, k);
    return HS_EOK;
}

/* Hint the owner of the event after the one about to fire. */
static void prefetch_next(sim_kernel_t *k)
{
    uint32_t h;
    uint64_t arg;
    if (sim_queue_peek_next(k->queue, &h, &arg) && k->handlers[h].prefetch)
        k->handlers[h].prefetch(k->handlers[h].ctx, arg);
}

hs_err_t sim_kernel_at(sim_kernel_t *k, sim_time_t t, uint32_t prio, uint32_t handler,
                       uint64_t arg, sim_event_id_t *id_out)
{
    if (t < k->now || handler == 0 || handler >= k->nhandlers)
        return HS_ERANGE;
    return sim_queue_push(k->queue, t, prio, handler, arg, id_out);
}

hs_err_t sim_kernel_after(sim_kernel_t *k, sim_time_t delay, uint32_t prio, uint32_t handler,
                          uint64_t arg, sim_event_id_t *id_out)
{
    if (delay > SIM_TIME_MAX - k->now)
        return HS_ERANGE;
    return sim_kernel_at(k, k->now + delay, prio, handler, arg, id_out);
}

hs_err_t sim_kernel_cancel(sim_kernel_t *k, sim_event_id_t id)
{
    return sim_queue_cancel(k->queue, id);
}

static void fire(sim_kernel_t *k, const sim_event_t *ev)
{
    k->now = ev->time;
    k->fired++;
    handler_entry_t *h = &k->handlers[ev->handler];
    h->fn(k, h->ctx, ev->arg);
}

uint64_t sim_kernel_run_until(sim_kernel_t *k, sim_time_t until)
{
    uint64_t before = k->fired;
    sim_event_t ev;
    k->stop = 0;
    while (!k->stop && sim_queue_pop_until(k->queue, until, &ev)) {
        if (k->prefetching)
            prefetch_next(k);
        fire(k, &ev);
    }
    if (!k->stop && until > k->now)
        k->now = until;
    return k->fired - before;
}

int sim_kernel_step(sim_kernel_t *k)
{
    sim_event_t ev;
    if (!sim_queue_pop(k->queue, &ev))
        return 0;
    fire(k, &ev);
    return 1;
}

void sim_kernel_stop(sim_kernel_t *k) { k->stop = 1; }
sim_time_t sim_kernel_now(const sim_kernel_t *k) { return k->now; }
uint64_t sim_kernel_seed(const sim_kernel_t *k) { return k->seed; }
int64_t sim_kernel_epoch(const sim_kernel_t *k) { return k->epoch_unix; }
uint64_t sim_kernel_fired(const sim_kernel_t *k) { return k->fired; }
size_t sim_kernel_pending(const sim_kernel_t *k) { return sim_queue_size(k->queue); }
sim_queue_t *sim_kernel_queue(sim_kernel_t *k) { return k->queue; }
sim_trace_t *sim_kernel_trace(sim_kernel_t *k) { return k->trace; }
sim_log_t *sim_kernel_log(sim_kernel_t *k) { return &k->log; }

void sim_kernel_stream(const sim_kernel_t *k, uint64_t stream_id, sim_rng_t *out)
{
    sim_rng_init(out, k->seed, stream_id);
}

void sim_kernel_emit(sim_kernel_t *k, const char *kind, const sim_tf_t *fields, size_t n)
{
    sim_trace_emit(k->trace, k->now, kind, fields, n);
}
