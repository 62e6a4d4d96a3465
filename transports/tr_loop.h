/* One libevent event_base for every live transport of a target, pumped only inside calls, with bounded waits. */
#ifndef TRANSPORTS_TR_LOOP_H
#define TRANSPORTS_TR_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Nothing runs on its own thread: the owner pumps the loop inside each of
 * its calls, and every wait has a deadline.  tr_loop_wait returns as soon
 * as done(arg) holds (checked before the first pump and after every
 * dispatched event), or at the deadline.
 */

struct event_base;
typedef struct tr_loop tr_loop_t;

tr_loop_t *tr_loop_new(void); /* NULL on allocation failure */
void tr_loop_free(tr_loop_t *l);
struct event_base *tr_loop_base(tr_loop_t *l);

/* Monotonic milliseconds (any origin). */
int64_t tr_now_ms(void);

typedef bool (*tr_done_fn)(void *arg);
/* Pump until done(arg) or timeout_ms passed; returns done(arg).  done NULL:
 * pump for exactly timeout_ms. */
bool tr_loop_wait(tr_loop_t *l, tr_done_fn done, void *arg, int64_t timeout_ms);
/* Dispatch whatever is ready now without blocking. */
void tr_loop_poll(tr_loop_t *l);

#endif
