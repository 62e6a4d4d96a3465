/* The live fleet port: a scenario's devices over tr_device, its service actors over REST and service AMQP, hub faults over hubsim serve's admin API. */
#ifndef LIVE_LIVE_PORT_H
#define LIVE_LIVE_PORT_H

/*
 * A port (sim/fleet/fleet_port.h) whose operations go over real sockets to
 * the hub named by a service connection string.  Nothing runs on its own
 * thread: every answer arrives while the owner pumps the loop
 * (live_port_pump), and is fed into the fleet from there.
 *
 * Identities: the fleet's scenario ids get a run prefix ("hsXXXXXX-" by
 * default) and are registered through the registry with keys made here
 * (live_port_register) and deleted at the end (live_port_unregister), or
 * come from a device list file ("deviceId;base64key" per line: the fleet's
 * devices take them in order, nothing is registered or deleted).
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "sim/fleet/fleet_port.h"
#include "transports/tr_loop.h"

typedef struct live_port live_port_t;

typedef struct {
    const char *connstr;     /* the hub's service connection string */
    const char *ca_file;     /* NULL: the string's CaFile=, else the system store */
    int protocol;            /* -1: each group's protocol; else a tr_device_protocol_t */
    const char *prefix;      /* NULL: a random "hsXXXXXX-" */
    const char *device_list; /* NULL: register identities */
    int64_t op_timeout_ms;   /* one network operation; 0 = 30000 */
    volatile sig_atomic_t *stop; /* non-zero: register no more identities (a signal came) */
} live_port_opts_t;

/* Parses the string, sets up TLS and checks the service endpoint (GET
 * /statistics/devices).  HS_EPARSE (bad string), HS_EIO with the cause:
 * unreachable, TLS failure, refused credentials (401), throttled (429). */
hs_err_t live_port_open(const live_port_opts_t *o, live_port_t **out, char *why, size_t cap);
void live_port_free(live_port_t *p);

extern const fleet_port_ops_t live_port_ops;

/* The target answers hubsim serve's admin API (AdminPort= given and GET /health 200). */
bool live_port_served(const live_port_t *p);
const char *live_port_host(const live_port_t *p);
const char *live_port_prefix(const live_port_t *p);
tr_loop_t *live_port_loop(live_port_t *p);

/* The run's kernel and time scale: times the fleet writes on its virtual
 * clock (a job's startTime) are moved onto the wall clock. */
struct sim_kernel;
void live_port_set_clock(live_port_t *p, struct sim_kernel *k, double time_scale);

/* The fleet whose completions this port feeds (after fleet_new_on_port). */
void live_port_bind(live_port_t *p, fleet_t *f);

/* Identities the fleet asked for (fleet_new_on_port records them). */
size_t live_port_identity_count(const live_port_t *p);
/* Register them (or check the device list covers them).  HS_EIO with the
 * cause of the first refusal; those registered so far are still deleted by
 * live_port_unregister. */
hs_err_t live_port_register(live_port_t *p, char *why, size_t cap);
/* Identities this run created and has not deleted yet. */
size_t live_port_registered(const live_port_t *p);
/* Delete what live_port_register created; *deleted counts them. */
hs_err_t live_port_unregister(live_port_t *p, size_t *deleted, char *why, size_t cap);

/* Pump the network up to max_ms (returns early when something for the
 * fleet arrived), then start queued service operations. */
void live_port_pump(live_port_t *p, int64_t max_ms);
/* Operations still waiting for an answer (sends, calls, requests). */
size_t live_port_outstanding(const live_port_t *p);
/* Close every device connection (graceful; unanswered sends are counted). */
void live_port_disconnect_all(live_port_t *p);

/* Give up on requests still unanswered (the run is over); counts the
 * sends that never got an answer as live.d2c.unacked_at_close. */
void live_port_abandon(live_port_t *p);

/* hubsim serve's counters now (GET /counters on the admin API) as a JSON
 * object (caller decrefs); NULL when the target has no admin API. */
struct json_t;
struct json_t *live_port_served_counters(live_port_t *p);

/* Client-side memory held by the device connections now (tr_device_footprint). */
size_t live_port_footprint(const live_port_t *p);
/* First cause seen for each failure counter ("conn.failed.401002" -> why): i-th, false past the end. */
bool live_port_cause_at(const live_port_t *p, size_t i, const char **counter, const char **why);

#endif
