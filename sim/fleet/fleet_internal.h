/* Fleet internals shared by fleet.c, fleet_device.c, fleet_actors.c and fleet_metrics.c. */
#ifndef FLEET_INTERNAL_H
#define FLEET_INTERNAL_H

#include <stdio.h>
#include "sim/fleet/fleet.h"
#include "sim/fleet/fleet_port.h"
#include "sim/fleet/dist.h"
#include "reports/histogram.h"

/* Device connection state. */
enum { DEV_OFFLINE = 0, DEV_CONNECTING, DEV_ONLINE, DEV_GONE /* deleted or disabled */ };
/* Why a device is held offline (bits): it reconnects when none remain. */
enum { HOLD_WINDOW = 1u, HOLD_OUTAGE = 2u, HOLD_DISABLED = 4u, HOLD_DELETED = 8u,
       HOLD_GATEWAY = 16u /* a leaf whose gateway is offline */ };

/* Per virtual device: one 64-byte cache line (the array is 64-byte
 * aligned), in one array indexed by fleet device number; its index within
 * its group is not stored (fleet_device_n). */
typedef struct {
    struct fleet *fleet;   /* sink context back-pointer */
    hub_conn_t conn;
    sim_rng_t rng;         /* the device's own stream: (seed, "device:<id>") */
    uint32_t group;
    uint32_t epoch;        /* bumped on every connect and drop: stale timers see a mismatch */
    uint32_t seq;          /* next telemetry sequence number */
    uint8_t state;
    uint8_t hold;
    uint8_t failures;      /* consecutive failed connects: the backoff exponent */
    uint8_t telemetry_armed;
} fleet_device_t;

/* A telemetry message in flight from device to hub (link latency). */
typedef struct {
    uint32_t dev;
    uint32_t seq;
    sim_time_t created;
    uint32_t next_free;
} inflight_t;

/* A method answer the device will send after its handler's latency. */
typedef struct {
    uint32_t dev;
    uint32_t epoch;
    int status;
    uint32_t handler;
    uint64_t size;
    char rid[40];
    uint32_t next_free;
} answer_t;

/* A locked C2D message the device will settle after processing. */
enum { SETTLE_COMPLETE = 0, SETTLE_REJECT, SETTLE_ABANDON };
typedef struct {
    uint32_t dev;
    uint32_t epoch;
    uint32_t next_free;
    uint32_t action;
    char token[44];
} settle_t;

/* A method call in progress (the hub calls back with the outcome). */
typedef struct {
    struct fleet *fleet;
    uint32_t actor;
    size_t index;          /* position in fleet.calls, for O(1) removal */
    sim_time_t invoked;
    uint32_t leaf;         /* the target when it is a gateway leaf, else UINT32_MAX */
    bool gateway_down;     /* the leaf's gateway was offline when the call was made */
} call_t;

typedef struct {
    sim_rng_t rng;
    uint64_t rr_next;      /* round-robin cursor */
    uint64_t first, count; /* the shard's slice of the target group */
    sim_time_t interval_scale; /* shards: each runs 1/N of the rate */
    uint32_t jobs_created;     /* job actors: the next job's sequence number */
} actor_state_t;

#define NO_FREE UINT32_MAX

struct fleet {
    sim_kernel_t *k;
    hub_t *hub;                   /* the in-process port's hub; NULL on another port */
    const fleet_port_ops_t *port; /* where every hub operation goes */
    void *port_ctx;
    const scenario_t *s;
    report_result_t *result;
    fleet_options_t opt;

    fleet_device_t *devices;
    uint64_t ndevices;
    uint64_t *group_first;   /* fleet index of each group's first device in this shard */
    uint64_t *group_count;   /* devices of each group in this shard */
    uint64_t *group_n0;      /* group-relative index of the shard's first device */
    scn_id_format_t *id_formats; /* each group's id pattern, parsed once */

    actor_state_t *actors;

    /* handlers */
    uint32_t h_connect, h_telemetry, h_arrive, h_outage_start, h_outage_end, h_window,
        h_storm, h_answer, h_c2d_receive, h_c2d_settle, h_twin_report, h_twin_periodic,
        h_actor, h_fault, h_fault_end, h_sample;

    /* pools */
    inflight_t *inflight;
    uint32_t inflight_cap, inflight_free;
    answer_t *answers;
    uint32_t answers_cap, answers_free;
    settle_t *settles;
    uint32_t settles_cap, settles_free;
    call_t **calls;          /* outstanding method calls (freed at the end if the hub keeps them) */
    size_t ncalls, calls_cap;

    const inflight_t *arriving; /* the message being handed to the hub right now */
    /* The counter cells of "d2c.delivered.<endpoint>" for the first few
     * endpoints, so a delivery counts without formatting and looking up
     * the name (fleet_port_inproc.c). */
    struct {
        char endpoint[48];
        int64_t *count;
    } delivered[8];
    unsigned ndelivered;

    /* hot counters, exported at the end */
    uint64_t online, online_max;
    uint64_t conn_attempts, conn_ok, conn_failed, conn_dropped_by_hub, conn_closed_by_device;
    uint64_t d2c_sent, d2c_accepted, d2c_rejected, d2c_skipped_offline, d2c_lost_offline;
    uint64_t d2c_delivered;
    uint64_t errors;
    report_hist_t *d2c_latency;
    report_hist_t *method_latency;

    /* time series state */
    uint64_t last_sample_accepted;
    sim_time_t last_sample_at;
    uint64_t last_method_count, last_method_sum;

    /* uploads (fleet_uploads.c): registered only when a group uploads */
    uint32_t h_upload, h_upload_done;
    struct fleet_upload *uploads;
    uint32_t uploads_cap, uploads_free;
    report_hist_t *upload_duration;
    uint64_t upload_completed, upload_notifications;

    /* jobs (fleet_jobs.c): registered only when a scenario has job actors */
    uint32_t h_job_poll;
    struct hub_jobs *jobs;        /* the in-process port's job service, made on first use */

    /* field gateways (fleet_gateways.c); all NULL/0 when no group is a gateway */
    bool gateways;
    sim_time_t *leaf_down_since; /* per device: 1 + when a leaf lost its connection, 0 = online/never */
    report_hist_t *leaf_offline; /* gateway.leaf_offline: leaf offline periods */
    uint64_t gateway_outages, leaf_drops, leaf_stranded;
    uint32_t *leaf_c2d_waiting;   /* per device: C2D accepted while its gateway was down, not yet received */
    uint32_t c2d_leaf;            /* the leaf a C2D send is for while the port answers, else UINT32_MAX */
    uint64_t leaf_c2d_queued, leaf_c2d_after_reconnect;

    hub_sink_ops_t sink;
    struct hub_sas_signer *signer; /* the devices' SAS tokens; NULL: slower, same tokens */
    char scratch[512];
};

/* A device's index within its group (what its id pattern's {n} formats). */
static inline uint64_t fleet_device_n(const struct fleet *f, uint32_t dev)
{
    uint32_t g = f->devices[dev].group;
    return f->group_n0[g] + (dev - f->group_first[g]);
}

/* fleet_device.c */
void fleet_device_handlers(struct fleet *f);
void fleet_device_start(struct fleet *f, uint32_t dev);
void fleet_device_hold(struct fleet *f, uint32_t dev, unsigned hold_bit, bool on);
void fleet_device_drop(struct fleet *f, uint32_t dev, const char *why);
const char *fleet_device_id(struct fleet *f, uint32_t dev, char *buf, size_t cap);

/* fleet_gateways.c: leaves connect through their gateway's connection. */
hs_err_t fleet_gateways_init(struct fleet *f, char *why, size_t cap);
bool fleet_is_leaf(const struct fleet *f, uint32_t dev);
/* The leaf's gateway device (fleet number). */
uint32_t fleet_leaf_gateway(const struct fleet *f, uint32_t dev);
/* Identity spec fields for a gateway (iotEdge) or leaf (parent) device. */
void fleet_gateway_spec(struct fleet *f, uint32_t dev, hub_identity_spec_t *spec, char *parent, size_t cap);
/* The device is about to connect: true when a leaf connect was handled. */
bool fleet_gateway_connect(struct fleet *f, uint32_t dev, const char *id, bool bad_key, bool expired);
/* A connection came up / went down (after the fleet's own state change). */
void fleet_gateway_online(struct fleet *f, uint32_t dev);
void fleet_gateway_offline(struct fleet *f, uint32_t dev, bool was_online);
void fleet_gateways_finish(struct fleet *f);
/* C2D bookkeeping for leaves: a send to dev is starting / was accepted; dev received one. */
void fleet_gateway_c2d_sending(struct fleet *f, uint32_t dev);
void fleet_gateway_c2d_accepted(struct fleet *f);
void fleet_gateway_c2d_received(struct fleet *f, uint32_t dev);
void fleet_gateways_free(struct fleet *f);

/* fleet_uploads.c: devices upload files (start, timed transfer, notify). */
hs_err_t fleet_uploads_init(struct fleet *f);
void fleet_uploads_start(struct fleet *f, uint32_t dev, sim_time_t first);
void fleet_uploads_free(struct fleet *f);
void fleet_uploads_finish(struct fleet *f);

/* fleet_jobs.c: job actors create jobs and poll them to their end. */
void fleet_jobs_handlers(struct fleet *f);
void fleet_job_create(struct fleet *f, uint32_t actor);
void fleet_jobs_free(struct fleet *f);

/* fleet_actors.c */
void fleet_actor_handlers(struct fleet *f);
hs_err_t fleet_actors_start(struct fleet *f, char *why, size_t cap);
void fleet_calls_free(struct fleet *f);

/* fleet_hubfaults.c: which timeline faults a fleet can apply (the port
 * applies them: fleet_port_ops_t.hub_fault). */
bool fleet_hub_fault_supported(scn_fault_kind_t kind);

/* fleet_port_inproc.c: the port over the in-process hub (ctx = the fleet). */
extern const fleet_port_ops_t fleet_port_inproc;
void fleet_port_inproc_attach(struct fleet *f);

/* fleet.c */
void fleet_count(struct fleet *f, const char *name, int64_t delta);
void fleet_countf(struct fleet *f, int64_t delta, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t fleet_ev_arg(uint32_t dev, uint32_t epoch);
/* A completion's code as counter text: the six-digit code, "transport" or "unsupported". */
const char *fleet_code_text(int code, char *buf, size_t cap);

#endif
