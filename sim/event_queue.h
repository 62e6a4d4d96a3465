/* The kernel's event queue: time buckets in front of a d-ary min-heap, ordered by (time, priority, sequence), O(1) cancel. */
#ifndef SIM_EVENT_QUEUE_H
#define SIM_EVENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include "errors.h"
#include "simtime.h"

/* Priorities: lower fires first among events at the same instant. */
#define SIM_PRIO_BITS 4
#define SIM_PRIO_MAX  ((1u << SIM_PRIO_BITS) - 1)

/* An event id: (generation << 24 | slot).  0 is never a valid id; an event
 * pushed without asking for its id has none (it cannot be cancelled, and pop
 * reports id 0). */
typedef uint64_t sim_event_id_t;

/* What a popped event carries: the handler index the owner registered and a
 * 64-bit argument (a device index, a request slot...). */
typedef struct {
    sim_time_t time;
    sim_event_id_t id;
    uint32_t handler;
    uint32_t priority;
    uint64_t arg;
} sim_event_t;

typedef struct sim_queue sim_queue_t;

/* Max pending events: 2^24 - 1 (16.7 M), of which at most 2^23 - 1 (8.4 M)
 * cancellable ones (pushed with id_out). */
#define SIM_QUEUE_MAX_PENDING ((1u << 24) - 1)

sim_queue_t *sim_queue_new(void);
void sim_queue_free(sim_queue_t *q);

/* Schedule; handler must be non-zero (0 marks a cancelled slot).  Pass
 * id_out only to cancel later: an event without an id is cheaper (no slot;
 * firing it reads only its queue entry).  HS_EFULL past the limits above,
 * HS_ERANGE for priority > SIM_PRIO_MAX. */
hs_err_t sim_queue_push(sim_queue_t *q, sim_time_t t, uint32_t priority, uint32_t handler,
                        uint64_t arg, sim_event_id_t *id_out);
/* HS_EOK if the event was pending and is now cancelled; HS_ENOTFOUND if it
 * already fired, was already cancelled, or never existed. */
hs_err_t sim_queue_cancel(sim_queue_t *q, sim_event_id_t id);
/* Pop the next live event; 0 when empty. */
int sim_queue_pop(sim_queue_t *q, sim_event_t *out);
/* Pop the next live event if its time is <= until; 0 otherwise (or empty).
 * Same as peek_time + pop, with one look at the top instead of two. */
int sim_queue_pop_until(sim_queue_t *q, sim_time_t until, sim_event_t *out);
/* Time of the next live event without popping; 0 when empty. */
int sim_queue_peek_time(sim_queue_t *q, sim_time_t *out);
/* Handler and argument of the next live event without popping; 0 when empty. */
int sim_queue_peek_next(sim_queue_t *q, uint32_t *handler, uint64_t *arg);
/* Optional: called with the handler and argument of every live event of a
 * time bucket as the bucket becomes the next to fire (a bucket's worth of
 * events ahead of its turn), so owners can start fetching their state early.
 * Only reads and prefetches; it never changes state.  The entries of the
 * bucket after it are prefetched at the same moment, so the hook reads
 * entries that are already on their way. */
typedef void (*sim_queue_load_fn)(void *ctx, uint32_t handler, uint64_t arg);
void sim_queue_set_load_hook(sim_queue_t *q, sim_queue_load_fn fn, void *ctx);
/* Live (not cancelled) pending events. */
size_t sim_queue_size(const sim_queue_t *q);
/* Bytes held by the queue's arrays (for the memory figures). */
size_t sim_queue_bytes(const sim_queue_t *q);
/* Size the heap for `pending` events up front (a fleet knows its size), so
 * no growth slack is paid: 24 bytes per pending event while the queue is a
 * plain heap (pages never touched cost nothing); with the calendar on (>= 4096
 * pending) an event waiting in a bucket costs its 24-byte entry plus bucket
 * room instead.  A cancellable event also holds a 12-byte slot (grown on
 * demand, not reserved here). */
hs_err_t sim_queue_reserve(sim_queue_t *q, size_t pending);
/* Tests and benches: fix the calendar front-end's geometry (buckets of
 * 2^bucket_shift ns, 2^bucket_bits of them, 6..22; 0 bits = a plain heap)
 * and stop its automatic tuning.  Never changes the order of events, only
 * the cost.  HS_ERANGE for a bad geometry. */
hs_err_t sim_queue_set_calendar(sim_queue_t *q, unsigned bucket_shift, unsigned bucket_bits);
/* Tests only: renumber sequences once they pass `limit` (default 2^36 - 1),
 * so the wrap-around path can be exercised without 68 billion pushes. */
void sim_queue_set_seq_limit(sim_queue_t *q, uint64_t limit);

#endif
