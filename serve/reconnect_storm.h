/* Reconnect-storm detection for `serve --check-clients`: an identity that connects more often than the backoff rule allows. */
#ifndef SERVE_RECONNECT_STORM_H
#define SERVE_RECONNECT_STORM_H

#include <stdbool.h>
#include <stddef.h>
#include "sim/simtime.h"

/* CLIENT-RECONNECT-STORM: a device that lost its connection retries with
 * backoff, so one identity never makes more than `max_connects` accepted
 * connections within `window` (knob defaults: 5 within 10 s [?]). */
#define STORM_DEFAULT_MAX_CONNECTS 5
#define STORM_DEFAULT_WINDOW ((sim_time_t)10 * 1000000000)

typedef struct storm_watch storm_watch_t;

storm_watch_t *storm_watch_new(size_t max_connects, sim_time_t window);
void storm_watch_free(storm_watch_t *w);
/* One accepted connection of `identity` at `now` (non-decreasing).  True
 * when it breaks the rule: the (max_connects+1)-th connection inside one
 * window.  The caller reports it; detail (may be NULL) says how many within
 * how long. */
bool storm_watch_note(storm_watch_t *w, const char *identity, sim_time_t now, char *detail, size_t cap);

#endif
