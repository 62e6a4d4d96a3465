/* The fleet's seam to a hub: device, service and fault operations whose outcomes come back through completions (in-process or live). */
#ifndef FLEET_FLEET_PORT_H
#define FLEET_FLEET_PORT_H

/*
 * The fleet decides what happens and when (virtual time, its random
 * streams); a port carries each decision to a hub and reports the outcome.
 * Every operation is asynchronous from the fleet's point of view: its
 * outcome arrives through the fleet_port_* completion named next to it.
 * The in-process port (fleet_port_inproc.c) calls the hub and completes
 * before the operation returns, at exactly the point the fleet used to
 * call the hub itself, so virtual runs keep their trace hashes.  A live
 * port (live/) completes later, from its network loop.
 *
 * Device operations name the device by its fleet number `dev`; service
 * operations name it by its scenario id (the port maps it to the id the
 * hub knows, e.g. with a run prefix).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sim/errors.h"
#include "sim/fleet/fleet.h"

/* An outcome: code 0 = success, else the hub's six-digit error code
 * (429xxx = throttled), FLEET_PORT_TRANSPORT when no answer came (why
 * says why), FLEET_PORT_UNSUPPORTED when the port cannot do it. */
enum { FLEET_PORT_TRANSPORT = -1, FLEET_PORT_UNSUPPORTED = -2 };
typedef struct {
    int code;
    int http_status; /* when known, else 0 */
    const char *why; /* borrowed for the call; may be NULL */
} fleet_port_result_t;

/* A direct method's outcome as the service sees it. */
typedef struct {
    int http_status;   /* 200, 404, 504, ...; 0 = no answer */
    int code;          /* 0 on 200, else as fleet_port_result_t.code */
    int device_status; /* the device's status (200 only) */
} fleet_port_method_result_t;

enum { FLEET_REG_DISABLE = 0, FLEET_REG_ENABLE, FLEET_REG_DELETE }; /* = scn_registry_op order */
enum { FLEET_SETTLE_COMPLETE = 0, FLEET_SETTLE_REJECT, FLEET_SETTLE_ABANDON };

typedef struct {
    /* true: a real network is the link (no simulated link latency) and the
     * hub's endpoints are not observed (d2c latency = send to acknowledgement). */
    bool live;

    /* ---- device side ---- */
    /* -> fleet_port_connected.  bad_key / expired: the scenario's SAS misbehaviour. */
    void (*connect)(void *port, uint32_t dev, const char *device_id, bool bad_key, bool expired);
    /* subs: HUB_SUB_* bits -> fleet_port_subscribed */
    void (*subscribe)(void *port, uint32_t dev, unsigned subs);
    /* msg is the port's to free -> fleet_port_sent(tag) */
    void (*send)(void *port, uint32_t dev, hub_msg_t *msg, uint64_t tag);
    /* -> fleet_port_responded(tag) */
    void (*respond)(void *port, uint32_t dev, const char *rid, int status, const char *payload, size_t len,
                    uint64_t tag);
    /* Take the oldest C2D message announced by fleet_port_c2d_available:
     * its lock token into lock; false when none. */
    bool (*c2d_receive)(void *port, uint32_t dev, char *lock, size_t cap);
    /* how: FLEET_SETTLE_* -> fleet_port_settled(how) */
    void (*c2d_settle)(void *port, uint32_t dev, const char *lock, unsigned how);
    /* -> fleet_port_reported */
    void (*report)(void *port, uint32_t dev, const char *patch, size_t len);
    /* The device closes its connection; nothing completes. */
    void (*disconnect)(void *port, uint32_t dev);

    /* ---- service side ---- */
    /* Register an identity before the run; HS_EOK also when it exists;
     * otherwise why names the hub's refusal. */
    hs_err_t (*provision)(void *port, const hub_identity_spec_t *spec, char *why, size_t cap);
    /* -> fleet_port_invoked(call_ctx) */
    void (*invoke)(void *port, const hub_method_call_t *call, void *call_ctx);
    /* msg is the port's -> fleet_port_c2d_sent */
    void (*c2d_send)(void *port, const char *device_id, hub_msg_t *msg, sim_time_t ttl);
    /* patch is borrowed -> fleet_port_twin_patched */
    void (*twin_patch)(void *port, const char *device_id, const char *patch, size_t len);
    /* op: FLEET_REG_* -> fleet_port_registry_done(op) */
    void (*registry)(void *port, const char *device_id, unsigned op);

    /* ---- hub-side faults ---- */
    /* Close the device's connection from the hub side. */
    hs_err_t (*drop)(void *port, const char *device_id, const char *reason);
    /* Arm a kill switch (hubsim rules). */
    hs_err_t (*arm_break)(void *port, const char *rule);
    /* Throttle / method delay / endpoint faults (on: starts; off: ends).
     * HS_EUNSUPPORTED when this hub cannot be switched (counted, never silent). */
    hs_err_t (*hub_fault)(void *port, const scn_fault_t *ft, bool on);
    /* The hub's conservation check at the end; false with why. */
    bool (*check)(void *port, char *why, size_t cap);

    /* ---- optional operations: NULL = this port cannot (the fleet counts
     * `<area>.unsupported` and completes with FLEET_PORT_UNSUPPORTED) ---- */
    /* Field gateways: connect leaf device dev through the open connection of
     * gateway device gateway_dev (hub_gateway_leaf_connect) -> fleet_port_connected. */
    void (*leaf_connect)(void *port, uint32_t dev, uint32_t gateway_dev, const char *device_id, bool bad_key,
                         bool expired);
    /* Jobs: create job_id from its description (the PUT /jobs/v2/{id} body
     * as JSON text) -> fleet_port_job_created(actor). */
    void (*job_create)(void *port, const char *job_id, const char *desc, size_t len, uint32_t actor);
    /* Read the job's status and per-device records -> fleet_port_job_status(actor). */
    void (*job_poll)(void *port, const char *job_id, uint32_t actor);
    /* File uploads: ask for a SAS URI (POST /devices/{id}/files) ->
     * fleet_port_upload_started(tag) with the correlation id and blob name. */
    void (*upload_start)(void *port, uint32_t dev, const char *device_id, const char *blob_name, uint64_t tag);
    /* The blob of `size` bytes was transferred (when success) and the device
     * notifies (POST /devices/{id}/files/notifications) -> fleet_port_upload_notified(tag). */
    void (*upload_notify)(void *port, uint32_t dev, const char *device_id, const char *correlation_id,
                          const char *blob_name, uint64_t size, bool success, int status, uint64_t tag);
} fleet_port_ops_t;

/* A job as read by job_poll (all strings borrowed for the call). */
typedef struct {
    const char *status;       /* "completed", "failed", "canceled", "pending", "running" */
    const char *error;        /* the error code name when failed or canceled (DeviceNotOnline...), else NULL */
    int http_status;          /* failed: the error's HTTP status when known; completed method: 200; else 0 */
    int device_status;        /* completed method call: the device's status, else 0 */
} fleet_port_job_device_t;
typedef struct {
    const char *status;       /* "queued" .. "cancelled" */
    bool done;                /* completed, failed or cancelled */
    double run_s;             /* done: endTime - startTime in seconds, else -1 */
    const fleet_port_job_device_t *devices;
    size_t ndevices;
} fleet_port_job_t;

/* A finished job read from its JSON: `doc` the job document (startTime,
 * endTime; NULL: run_s -1), `records` the per-device records (status,
 * error.code, outcome.deviceMethodResponse) as hub_jobs_device_records and
 * `FROM devices.jobs` give them.  Fills job->run_s, devices and ndevices and
 * returns the devices array (the caller frees it; NULL, and no devices,
 * when memory ran out). */
fleet_port_job_device_t *fleet_port_job_read(fleet_port_job_t *job, const json_t *doc, const json_t *records);

/* A fleet over any port (fleet_new in fleet.h is this with the in-process
 * port over `hub`).  The port must outlive the fleet. */
hs_err_t fleet_new_on_port(sim_kernel_t *k, const fleet_port_ops_t *ops, void *port, const scenario_t *s,
                           const fleet_options_t *opt, report_result_t *result, fleet_t **out, char *why,
                           size_t cap);

/* The scenario id of device `dev` (what the port maps to a hub id). */
const char *fleet_port_device_id(fleet_t *f, uint32_t dev, char *buf, size_t cap);
/* The scenario group of device `dev`. */
const scn_group_t *fleet_port_group(fleet_t *f, uint32_t dev);

/* ---- completions (the port calls these) ---- */
void fleet_port_connected(fleet_t *f, uint32_t dev, fleet_port_result_t r);
void fleet_port_subscribed(fleet_t *f, uint32_t dev, fleet_port_result_t r);
void fleet_port_sent(fleet_t *f, uint32_t dev, uint64_t tag, fleet_port_result_t r);
void fleet_port_responded(fleet_t *f, uint32_t dev, uint64_t tag, fleet_port_result_t r);
void fleet_port_settled(fleet_t *f, uint32_t dev, unsigned how, fleet_port_result_t r);
void fleet_port_reported(fleet_t *f, uint32_t dev, fleet_port_result_t r);
void fleet_port_invoked(fleet_t *f, void *call_ctx, const fleet_port_method_result_t *r);
void fleet_port_c2d_sent(fleet_t *f, fleet_port_result_t r);
void fleet_port_twin_patched(fleet_t *f, fleet_port_result_t r);
void fleet_port_registry_done(fleet_t *f, unsigned op, fleet_port_result_t r);
void fleet_port_upload_started(fleet_t *f, uint32_t dev, uint64_t tag, fleet_port_result_t r,
                               const char *correlation_id, const char *blob_name);
void fleet_port_upload_notified(fleet_t *f, uint32_t dev, uint64_t tag, fleet_port_result_t r);
void fleet_port_job_created(fleet_t *f, uint32_t actor, const char *job_id, fleet_port_result_t r);
/* job is NULL when r.code != 0. */
void fleet_port_job_status(fleet_t *f, uint32_t actor, const char *job_id, fleet_port_result_t r,
                           const fleet_port_job_t *job);

/* ---- what the hub delivers to a device (the port calls these) ---- */
void fleet_port_method_request(fleet_t *f, uint32_t dev, const char *name, const char *rid);
void fleet_port_c2d_available(fleet_t *f, uint32_t dev);
void fleet_port_desired(fleet_t *f, uint32_t dev);
/* The hub (or the network) closed an open connection. */
void fleet_port_disconnected(fleet_t *f, uint32_t dev, fleet_port_result_t r);

/* Count a metric into the run's result (ports count their own events). */
void fleet_port_count(fleet_t *f, const char *name, int64_t delta);

#endif
