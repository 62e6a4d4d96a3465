/* Live port internals shared by live_port.c, live_device.c, live_service.c and live_admin.c. */
#ifndef LIVE_LIVE_INTERNAL_H
#define LIVE_LIVE_INTERNAL_H

#include "live/live_port.h"
#include "transports/tr_amqp_service.h"
#include "transports/tr_connstr.h"
#include "transports/tr_device.h"
#include "transports/tr_http.h"
#include "transports/tr_rest.h"
#include "transports/tr_tls.h"

#define LIVE_KEY_CAP 96
#define LIVE_MAX_CAUSES 32

/* One identity the fleet asked for: a device (dev = its fleet number) or a module. */
typedef struct live_ident {
    char *sid;     /* scenario id */
    char *wid;     /* wire id: prefix + sid, or the device list's */
    char *module;  /* NULL: a device */
    char key[LIVE_KEY_CAP];
    char thumb[72];
    bool x509;
    bool iot_edge;   /* capabilities.iotEdge (a field gateway) */
    char *parent_sid; /* a leaf: its gateway's scenario id, else NULL */
    char *scope;      /* a gateway: the deviceScope the hub gave it at registration */
    bool registered; /* created by this run: deleted at the end */
} live_ident_t;

typedef struct {
    uint64_t lock;
    unsigned how;  /* while settling */
} live_lock_t;

/* A device's connection and what it holds for the fleet. */
typedef struct live_dev {
    struct live_port *p;
    uint32_t dev;
    uint32_t ident;         /* index into p->idents */
    tr_device_t *conn;
    bool connecting;
    bool queued;            /* waiting for a connect slot */
    bool q_bad_key, q_expired;
    uint32_t unacked;       /* sends without an answer */
    live_lock_t *c2d;       /* received, not yet taken by the fleet */
    size_t nc2d, capc2d, c2d_head;
    live_lock_t *settling;  /* settles under way */
    size_t nsettling, capsettling;
} live_dev_t;

typedef struct {
    const char *sid; /* borrowed from the identity */
    uint32_t ident;
} live_sid_t;

/* A REST request the fleet waits on. */
enum { OP_INVOKE, OP_TWIN, OP_REGISTRY, OP_DROP, OP_ADMIN, OP_JOB, OP_UPLOAD };
typedef struct {
    int kind;
    tr_http_req_t *req;
    void *call_ctx;  /* OP_INVOKE; OP_JOB / OP_UPLOAD: their own state (live_jobs.c, live_uploads.c) */
    unsigned op;     /* OP_REGISTRY */
    int64_t deadline_ms;
} live_op_t;

/* A C2D message waiting for the service AMQP link (sent outside kernel handlers). */
typedef struct {
    char *wid;
    hub_msg_t *msg;
    sim_time_t ttl;
} live_c2d_out_t;

struct live_port {
    live_port_opts_t o;
    tr_connstr_t cs;
    tr_loop_t *loop;
    tr_tls_t *tls;
    tr_rest_t rest;
    tr_http_target_t admin;
    bool served;
    char prefix[64];
    int64_t op_ms;
    fleet_t *fleet;
    sim_kernel_t *k;         /* the run's kernel (virtual times to wall times) */
    double time_scale;

    live_ident_t *idents;
    size_t nidents, capidents;
    uint32_t *dev_ident;     /* fleet device -> identity */
    live_dev_t *devs;
    size_t ndevs, capdevs;
    live_sid_t *by_sid;      /* device identities sorted by scenario id (lookups) */
    size_t nby_sid;

    char (*list_ids)[129];   /* the device list */
    char (*list_keys)[LIVE_KEY_CAP];
    size_t nlist;

    live_op_t *ops;
    size_t nops, capops;
    live_c2d_out_t *c2d_out;
    size_t nc2d_out, capc2d_out;
    tr_amqp_svc_t *amqp;
    bool amqp_failed;

    bool wake;               /* something for the fleet arrived during this pump */
    size_t nconnecting;      /* connects under way (TLS handshakes on the one loop) */
    uint32_t *connect_queue; /* devices waiting for a connect slot, FIFO */
    size_t cq_head, cq_len, cq_cap;
    uint64_t unacked_total;

    struct live_upload **held; /* uploads started, waiting for their notify (live_uploads.c) */
    size_t nheld, capheld;

    struct { char *counter, *why; } causes[LIVE_MAX_CAUSES];
    size_t ncauses;
};

/* live_port.c */
void *live_grow(void *p, size_t *cap, size_t need, size_t elem);
char *live_strdup(const char *s);
/* Remember the first cause of a failure counter (shown with the summary). */
void live_note(struct live_port *p, const char *counter, const char *why);
/* The wire id for a scenario id (a fleet device's, or prefix + id). */
const char *live_wire_id(struct live_port *p, const char *sid, char *buf, size_t cap);
/* A REST answer as a port result (code from iothub-errorcode / the body). */
fleet_port_result_t live_http_result(const tr_http_response_t *r, char *why, size_t cap);

/* live_device.c */
void live_dev_connect(void *port, uint32_t dev, const char *id, bool bad_key, bool expired);
void live_dev_subscribe(void *port, uint32_t dev, unsigned subs);
void live_dev_send(void *port, uint32_t dev, hub_msg_t *msg, uint64_t tag);
void live_dev_respond(void *port, uint32_t dev, const char *rid, int status, const char *payload, size_t len,
                      uint64_t tag);
bool live_dev_c2d_receive(void *port, uint32_t dev, char *lock, size_t cap);
void live_dev_c2d_settle(void *port, uint32_t dev, const char *lock, unsigned how);
void live_dev_report(void *port, uint32_t dev, const char *patch, size_t len);
void live_dev_disconnect(void *port, uint32_t dev);
void live_dev_release(struct live_port *p, live_dev_t *d);
/* Start queued connects while slots are free. */
void live_dev_start_queued(struct live_port *p);

/* live_service.c */
hs_err_t live_svc_provision(void *port, const hub_identity_spec_t *spec, char *why, size_t cap);
void live_svc_invoke(void *port, const hub_method_call_t *call, void *call_ctx);
void live_svc_c2d_send(void *port, const char *device_id, hub_msg_t *msg, sim_time_t ttl);
void live_svc_twin_patch(void *port, const char *device_id, const char *patch, size_t len);
void live_svc_registry(void *port, const char *device_id, unsigned op);
void live_svc_track(struct live_port *p, int kind, tr_http_req_t *req, void *call_ctx, unsigned op);
/* Finish answered requests, send queued C2D messages. */
void live_svc_service(struct live_port *p);
void live_svc_free(struct live_port *p);

/* live_jobs.c: PUT / GET /jobs/v2/{prefix}{jobId}, then the device records over POST /devices/query. */
void live_job_create(void *port, const char *job_id, const char *desc, size_t len, uint32_t actor);
void live_job_poll(void *port, const char *job_id, uint32_t actor);
/* The condition a job of this run gets: ids in deviceId comparisons carry the
 * run prefix, and the job is kept to this run's devices (caller frees). */
char *live_job_condition(const char *prefix, const char *cond);
/* A job request's outcome, as finish_op (live_service.c) made it of the answer or its absence. */
void live_job_finish(struct live_port *p, live_op_t *op, fleet_port_result_t r);
void live_job_drop(live_op_t *op);

/* live_uploads.c: POST /devices/{id}/files, the blob endpoint, POST .../files/notifications. */
void live_upload_start(void *port, uint32_t dev, const char *device_id, const char *blob_name, uint64_t tag);
void live_upload_notify(void *port, uint32_t dev, const char *device_id, const char *correlation_id,
                        const char *blob_name, uint64_t size, bool success, int status, uint64_t tag);
/* An upload request's outcome, as finish_op made it (r.why borrowed for the call). */
void live_upload_finish(struct live_port *p, live_op_t *op, fleet_port_result_t r);
void live_upload_drop(live_op_t *op);
void live_uploads_free(struct live_port *p);

/* live_admin.c */
hs_err_t live_admin_drop(void *port, const char *device_id, const char *reason);
hs_err_t live_admin_break(void *port, const char *rule);
hs_err_t live_admin_fault(void *port, const scn_fault_t *ft, bool on);
bool live_admin_check(void *port, char *why, size_t cap);
bool live_admin_probe(struct live_port *p);

#endif
