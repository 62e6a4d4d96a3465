/* The discrete-event kernel: one virtual clock, one event queue, handlers, seeded streams, trace, log. */
#ifndef SIM_KERNEL_H
#define SIM_KERNEL_H

#include <stdint.h>
#include "errors.h"
#include "event_queue.h"
#include "log.h"
#include "rng.h"
#include "simtime.h"
#include "trace.h"

typedef struct sim_kernel sim_kernel_t;

/* A handler is registered once (a device pool, the hub's timer wheel...) and
 * events carry only its index and a 64-bit argument: 24 bytes per pending
 * event (12 more for one scheduled with an id, so it can be cancelled), no
 * per-event closure allocation.  Ask for an id (id_out) only to cancel. */
typedef void (*sim_handler_fn)(sim_kernel_t *k, void *ctx, uint64_t arg);

/* Standard priorities among events at the same instant (lower first).
 * HUB_DEADLINE vs DEVICE is what the hub's `deadline_wins` knob flips. */
enum {
    SIM_PRIO_CONTROL = 0,  /* faults and registry changes on the scenario timeline */
    SIM_PRIO_DEADLINE = 4, /* hub deadlines when they win ties */
    SIM_PRIO_DEVICE = 8,   /* device and service actions */
    SIM_PRIO_LATE_DEADLINE = 12,
    SIM_PRIO_REPORT = 15,  /* sampling for reports: sees the instant's final state */
};

sim_kernel_t *sim_kernel_new(uint64_t seed, int64_t epoch_unix);
void sim_kernel_free(sim_kernel_t *k);

/* Returns a handler id >= 1, or 0 on allocation failure. */
uint32_t sim_kernel_register(sim_kernel_t *k, sim_handler_fn fn, void *ctx);

/* Optional, per handler: called with the argument of the NEXT pending event
 * of that handler just before the current event fires, so its owner can
 * start fetching that event's state (one device among a million) while the
 * current one runs.  It must only read and prefetch, never change state. */
typedef void (*sim_prefetch_fn)(void *ctx, uint64_t arg);
hs_err_t sim_kernel_set_prefetch(sim_kernel_t *k, uint32_t handler, sim_prefetch_fn fn);
/* Optional, per handler: called earlier, when the event's time bucket is
 * loaded for firing (typically 8-16 events ahead), with the same contract.
 * Together with the hint above it makes a pipeline: the preload fetches the
 * owner's record, the next-event hint follows a pointer out of it. */
hs_err_t sim_kernel_set_preload(sim_kernel_t *k, uint32_t handler, sim_prefetch_fn fn);

/* Schedule at an absolute time (>= now, else HS_ERANGE) or after a delay. */
hs_err_t sim_kernel_at(sim_kernel_t *k, sim_time_t t, uint32_t prio, uint32_t handler,
                       uint64_t arg, sim_event_id_t *id_out);
hs_err_t sim_kernel_after(sim_kernel_t *k, sim_time_t delay, uint32_t prio, uint32_t handler,
                          uint64_t arg, sim_event_id_t *id_out);
hs_err_t sim_kernel_cancel(sim_kernel_t *k, sim_event_id_t id);

/* Fire every event with time <= until, then leave the clock at `until`
 * (unless stopped).  Returns the number fired. */
uint64_t sim_kernel_run_until(sim_kernel_t *k, sim_time_t until);
/* Fire one event; 0 when the queue is empty. */
int sim_kernel_step(sim_kernel_t *k);
/* Ask run_until to return after the current event. */
void sim_kernel_stop(sim_kernel_t *k);

sim_time_t sim_kernel_now(const sim_kernel_t *k);
uint64_t sim_kernel_seed(const sim_kernel_t *k);
int64_t sim_kernel_epoch(const sim_kernel_t *k);
uint64_t sim_kernel_fired(const sim_kernel_t *k);
size_t sim_kernel_pending(const sim_kernel_t *k);
sim_queue_t *sim_kernel_queue(sim_kernel_t *k);
sim_trace_t *sim_kernel_trace(sim_kernel_t *k);
sim_log_t *sim_kernel_log(sim_kernel_t *k);
/* A stream for (kernel seed, stream id). */
void sim_kernel_stream(const sim_kernel_t *k, uint64_t stream_id, sim_rng_t *out);
/* Emit a trace event at the current virtual time. */
void sim_kernel_emit(sim_kernel_t *k, const char *kind, const sim_tf_t *fields, size_t n);

#define SIM_LOG(k, level, component, ...)                                                   \
    sim_log_write(sim_kernel_log(k), sim_kernel_now(k), (level), (component), __VA_ARGS__)

#endif
