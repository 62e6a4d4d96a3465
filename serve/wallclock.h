/* The served hub's clock: the kernel's virtual time follows the wall clock, so hub deadlines and token expiry are real seconds. */
#ifndef SERVE_WALLCLOCK_H
#define SERVE_WALLCLOCK_H

#include <event2/event.h>
#include "sim/kernel.h"

/*
 * The hub model never reads a clock.  In `serve` the kernel's epoch is the
 * Unix second at start and virtual time is the monotonic time elapsed since
 * that second began,
 * so a SAS token's `se` and a method's 30 s response timeout mean what they
 * mean in the cloud.  Every carrier callback calls serve_clock_sync() before
 * touching the hub (firing whatever fell due) and serve_clock_rearm() after,
 * which points one libevent timer at the kernel's next event.
 */

typedef struct serve_clock serve_clock_t;

/* epoch_unix_out (may be NULL) receives the epoch to give sim_kernel_new. */
serve_clock_t *serve_clock_new(struct event_base *base, int64_t *epoch_unix_out);
/* Attach the kernel (made with the epoch above) and arm the timer. */
void serve_clock_attach(serve_clock_t *c, sim_kernel_t *k);
void serve_clock_free(serve_clock_t *c);
/* Fire every kernel event due by the wall clock now. */
void serve_clock_sync(serve_clock_t *c);
/* Point the timer at the next pending kernel event. */
void serve_clock_rearm(serve_clock_t *c);

#endif
