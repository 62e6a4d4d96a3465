/* Play a scenario in wall time against a real hub through the live port: provision, run, report, clean up. */
#ifndef LIVE_LIVE_PLAY_H
#define LIVE_LIVE_PLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include "live/live_port.h"
#include "sim/fleet/play.h"

/*
 * The kernel follows the wall clock (virtual ns = wall ns since the start,
 * times time_scale); timers run on the kernel, network events arrive on the
 * transport loop and are fed into the fleet between timers.  Not
 * deterministic: no trace hash is claimed.  Every exit path after the
 * identities were registered deletes them again (also when *stop is set by
 * a signal handler: the run stops, reports are still produced).
 */

typedef struct {
    live_port_opts_t port;
    double time_scale;              /* virtual seconds per wall second (> 0); 1 = real time */
    bool yes;                       /* register on a hub that is not hubsim serve */
    volatile sig_atomic_t *stop;    /* non-zero: stop now (a signal number) */
    FILE *info;                     /* the plan and cleanup lines (NULL: none) */
    void (*progress)(void *ctx, sim_time_t t, sim_time_t duration, uint64_t events,
                     const fleet_progress_t *p);
    void *progress_ctx;
} live_play_options_t;

typedef enum {
    LIVE_OK = 0,         /* the scenario ran (or was stopped); reports are valid */
    LIVE_REFUSED,        /* not hubsim serve and no --yes: nothing was created */
    LIVE_BAD_INPUT,      /* the connection string, device list or scenario was refused */
    LIVE_TARGET_FAILED,  /* unreachable, TLS, credentials, registration refused */
} live_status_t;

typedef struct {
    play_outcome_t play;            /* result (caller frees), events, conserved, failed, why */
    live_status_t status;
    int stopped_by;                 /* the *stop value that ended the run early, 0 otherwise */
    size_t identities, registered, deleted;
    uint64_t planned_messages;
    double wall_s;
    uint64_t jitter_p50_ns, jitter_p99_ns, jitter_max_ns, jitter_samples;
    size_t client_bytes;            /* tr_device footprint at the end of the run */
    double all_online_s;            /* wall seconds until every device was online once; -1: never */
    long client_maxrss_kb;          /* this process's peak resident set */
    char cleanup_why[400];          /* non-empty when deleting failed */
    char causes[16][320];           /* "counter: first cause" of each failure counter */
    size_t ncauses;
} live_outcome_t;

live_status_t live_play_scenario(const scenario_t *s, const live_play_options_t *o, live_outcome_t *out);

#endif
