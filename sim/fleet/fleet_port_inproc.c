/* The fleet's port over the in-process hub: each operation calls the hub and completes before it returns. */
#include "fleet_internal.h"

#include <string.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub_errors.h"
#include "sim/hub/jobs.h"

static fleet_port_result_t result_of(hub_err_t err)
{
    if (err == HUB_EOK)
        return (fleet_port_result_t){ 0, 200, NULL };
    const hub_error_info_t *e = hub_error_info(err);
    return (fleet_port_result_t){ e->code, e->http_status, e->name };
}

/* ---- sinks: what the hub delivers to a device connection ------------------------ */

static uint32_t dev_of(void *ctx)
{
    fleet_device_t *d = ctx;
    return (uint32_t)(d - d->fleet->devices);
}

static void sink_disconnected(void *ctx, hub_conn_t conn, hub_err_t err, const char *reason)
{
    (void)conn;
    fleet_port_result_t r = result_of(err);
    r.why = reason;
    fleet_port_disconnected(((fleet_device_t *)ctx)->fleet, dev_of(ctx), r);
}

static void sink_method_request(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                                const char *payload, size_t len)
{
    (void)conn;
    (void)payload;
    (void)len;
    fleet_port_method_request(((fleet_device_t *)ctx)->fleet, dev_of(ctx), name, rid);
}

static void sink_c2d_available(void *ctx, hub_conn_t conn)
{
    (void)conn;
    fleet_port_c2d_available(((fleet_device_t *)ctx)->fleet, dev_of(ctx));
}

static void sink_desired_patch(void *ctx, hub_conn_t conn, uint64_t version, const char *patch, size_t len)
{
    (void)conn;
    (void)version;
    (void)patch;
    (void)len;
    fleet_port_desired(((fleet_device_t *)ctx)->fleet, dev_of(ctx));
}

/* The "d2c.delivered.<endpoint>" counter cell, found by name once per
 * endpoint; NULL past the first few endpoints or names too long to keep. */
static int64_t *delivered_cell(struct fleet *f, const char *endpoint)
{
    for (unsigned i = 0; i < f->ndelivered; i++)
        if (strcmp(f->delivered[i].endpoint, endpoint) == 0)
            return f->delivered[i].count;
    size_t n = strlen(endpoint);
    unsigned cap = sizeof f->delivered / sizeof f->delivered[0];
    if (f->ndelivered == cap || n >= sizeof f->delivered[0].endpoint)
        return NULL;
    char name[sizeof f->delivered[0].endpoint + 16];
    memcpy(name, "d2c.delivered.", 14);
    memcpy(name + 14, endpoint, n + 1);
    int64_t *cell;
    if (report_result_counter_ref(f->result, name, &cell) != HS_EOK)
        return NULL;
    memcpy(f->delivered[f->ndelivered].endpoint, endpoint, n + 1);
    f->delivered[f->ndelivered].count = cell;
    f->ndelivered++;
    return cell;
}

static void endpoint_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t device_no)
{
    (void)msg;
    (void)device_no;
    struct fleet *f = ctx;
    f->d2c_delivered++;
    int64_t *cell = delivered_cell(f, endpoint);
    if (cell)
        ++*cell;
    else
        fleet_countf(f, 1, "d2c.delivered.%s", endpoint);
    if (f->arriving)
        report_hist_record(f->d2c_latency, sim_kernel_now(f->k) - f->arriving->created);
}

static void on_file_notification(void *ctx, const hub_file_notification_t *n)
{
    (void)n;
    struct fleet *f = ctx;
    f->upload_notifications++;
    fleet_count(f, "upload.notifications", 1);
}

void fleet_port_inproc_attach(struct fleet *f)
{
    f->sink = (hub_sink_ops_t){
        .method_request = sink_method_request,
        .c2d_available = sink_c2d_available,
        .desired_patch = sink_desired_patch,
        .disconnected = sink_disconnected,
    };
    static const hub_endpoint_ops_t endpoint_ops = { .deliver = endpoint_deliver };
    hub_set_endpoint_sink(f->hub, &endpoint_ops, f);
    /* Every identity the fleet registers, up front: a million of them then
     * register without growing the registry (only a cost, so a refusal
     * here changes nothing: registration grows as it needs). */
    size_t identities = 0;
    for (size_t g = 0; g < f->s->ngroups; g++)
        identities += f->group_count[g] * (1 + f->s->groups[g].nmodules);
    (void)hub_reserve(f->hub, identities);
    for (size_t g = 0; g < f->s->ngroups; g++)
        if (f->s->groups[g].uploads.enabled) {
            hub_set_file_notification_sink(f->hub, on_file_notification, f);
            break;
        }
}

/* ---- device side ------------------------------------------------------------------ */

/* Connect device dev directly (gateway 0) or as a leaf over gateway device gateway_dev's connection. */
static void connect_device(struct fleet *f, uint32_t dev, const uint32_t *gateway_dev, const char *id, bool bad_key,
                           bool expired)
{
    fleet_device_t *d = &f->devices[dev];
    const scn_group_t *g = &f->s->groups[d->group];
    char token[1024];
    hub_connect_params_t p = { .device_id = id, .protocol = (hub_protocol_t)g->protocol };
    hub_identity_t ident; /* filled for X.509 only */
    hub_err_t err;
    if (g->auth == SCN_AUTH_X509) {
        err = hub_identity_get(f->hub, id, NULL, &ident);
        if (err == HUB_EOK)
            p.x509_thumbprint = ident.primary_thumbprint;
    } else {
        /* only the key: a million-device fleet connects a million times */
        char key[HUB_CONFIG_KEY_MAX + 1];
        err = hub_identity_primary_key(f->hub, id, NULL, key, sizeof key);
        if (err == HUB_EOK) {
            int64_t now_unix = sim_kernel_epoch(f->k) + (int64_t)(sim_kernel_now(f->k) / SIM_SEC);
            int64_t expiry = expired ? now_unix - 60 : now_unix + 24 * 3600;
            const char *signing_key = key;
            if (bad_key)
                signing_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="; /* base64 "wrong-key-wrong-key-wrong-key" */
            char resource[HUB_CONFIG_HOST_MAX + HUB_CONFIG_ID_MAX + 16];
            const char *host = hub_config(f->hub)->host;
            size_t hl = strlen(host), il = strlen(id);
            if (hl + 9 + il < sizeof resource) { /* "%s/devices/%s" */
                memcpy(resource, host, hl);
                memcpy(resource + hl, "/devices/", 9);
                memcpy(resource + hl + 9, id, il + 1);
                if (hub_sas_make_with(f->signer, signing_key, resource, expiry, NULL, token, sizeof token) ==
                    HS_EOK)
                    p.sas_token = token;
            }
        }
    }
    if (err == HUB_EOK) {
        if (gateway_dev)
            err = hub_gateway_leaf_connect(f->hub, f->devices[*gateway_dev].conn, &p, &f->sink, d, &d->conn);
        else
            err = hub_device_connect(f->hub, &p, &f->sink, d, &d->conn);
    }
    fleet_port_connected(f, dev, result_of(err));
}

static void p_connect(void *port, uint32_t dev, const char *id, bool bad_key, bool expired)
{
    connect_device(port, dev, NULL, id, bad_key, expired);
}

static void p_leaf_connect(void *port, uint32_t dev, uint32_t gateway_dev, const char *id, bool bad_key,
                           bool expired)
{
    connect_device(port, dev, &gateway_dev, id, bad_key, expired);
}

static void p_subscribe(void *port, uint32_t dev, unsigned subs)
{
    struct fleet *f = port;
    fleet_port_subscribed(f, dev, result_of(hub_device_subscribe(f->hub, f->devices[dev].conn, subs)));
}

static void p_send(void *port, uint32_t dev, hub_msg_t *msg, uint64_t tag)
{
    struct fleet *f = port;
    hub_err_t err = hub_device_send_d2c(f->hub, f->devices[dev].conn, msg);
    hub_msg_free(msg);
    fleet_port_sent(f, dev, tag, result_of(err));
}

static void p_respond(void *port, uint32_t dev, const char *rid, int status, const char *payload, size_t len,
                      uint64_t tag)
{
    struct fleet *f = port;
    hub_err_t err = hub_device_method_respond(f->hub, f->devices[dev].conn, rid, status, payload, len);
    fleet_port_responded(f, dev, tag, result_of(err));
}

static bool p_c2d_receive(void *port, uint32_t dev, char *lock, size_t cap)
{
    struct fleet *f = port;
    hub_c2d_delivery_t del;
    if (hub_device_c2d_receive(f->hub, f->devices[dev].conn, &del) != HUB_EOK)
        return false;
    snprintf(lock, cap, "%s", del.lock_token);
    return true;
}

static void p_c2d_settle(void *port, uint32_t dev, const char *lock, unsigned how)
{
    struct fleet *f = port;
    hub_conn_t c = f->devices[dev].conn;
    hub_err_t err;
    if (how == FLEET_SETTLE_COMPLETE)
        err = hub_device_c2d_complete(f->hub, c, lock);
    else if (how == FLEET_SETTLE_REJECT)
        err = hub_device_c2d_reject(f->hub, c, lock);
    else
        err = hub_device_c2d_abandon(f->hub, c, lock);
    fleet_port_settled(f, dev, how, result_of(err));
}

static void p_report(void *port, uint32_t dev, const char *patch, size_t len)
{
    struct fleet *f = port;
    uint64_t version;
    hub_err_t err = hub_device_twin_patch_reported(f->hub, f->devices[dev].conn, patch, len, &version);
    fleet_port_reported(f, dev, result_of(err));
}

static void p_disconnect(void *port, uint32_t dev)
{
    struct fleet *f = port;
    hub_device_disconnect(f->hub, f->devices[dev].conn);
}

/* ---- service side ------------------------------------------------------------------ */

static hs_err_t p_provision(void *port, const hub_identity_spec_t *spec, char *why, size_t cap)
{
    struct fleet *f = port;
    hub_err_t err = hub_identity_create(f->hub, spec, NULL);
    if (err == HUB_EOK || err == HUB_EDEVICE_ALREADY_EXISTS)
        return HS_EOK;
    snprintf(why, cap, "%s", hub_error_info(err)->name);
    return HS_EINVAL;
}

static void on_method_result(void *ctx, const hub_method_result_t *r)
{
    call_t *c = ctx;
    fleet_port_method_result_t m = { r->http_status, r->error == HUB_EOK ? 0 : hub_error_info(r->error)->code,
                                     r->device_status };
    fleet_port_invoked(c->fleet, c, &m);
}

static void p_invoke(void *port, const hub_method_call_t *call, void *call_ctx)
{
    struct fleet *f = port;
    hub_err_t err = hub_method_invoke(f->hub, call, on_method_result, call_ctx, NULL);
    if (err != HUB_EOK) {
        /* Synchronous answer: the callback is never called. */
        const hub_error_info_t *e = hub_error_info(err);
        fleet_port_method_result_t m = { e->http_status, e->code, 0 };
        fleet_port_invoked(f, call_ctx, &m);
    }
}

static void p_c2d_send(void *port, const char *device_id, hub_msg_t *msg, sim_time_t ttl)
{
    struct fleet *f = port;
    hub_err_t err = hub_c2d_send(f->hub, device_id, msg, ttl, NULL);
    if (err != HUB_EOK)
        hub_msg_free(msg);
    fleet_port_c2d_sent(f, result_of(err));
}

static void p_twin_patch(void *port, const char *device_id, const char *patch, size_t len)
{
    struct fleet *f = port;
    fleet_port_twin_patched(f, result_of(hub_twin_patch(f->hub, device_id, NULL, patch, len, NULL, NULL)));
}

static void p_registry(void *port, const char *id, unsigned op)
{
    struct fleet *f = port;
    hub_err_t err;
    if (op == FLEET_REG_DELETE) {
        err = hub_identity_delete(f->hub, id, NULL, "*");
    } else {
        hub_identity_spec_t spec = { .device_id = id, .disabled = op == FLEET_REG_DISABLE };
        hub_identity_t cur;
        err = hub_identity_get(f->hub, id, NULL, &cur);
        if (err == HUB_EOK) {
            spec.x509 = cur.x509;
            spec.primary_key = cur.primary_key;
            spec.secondary_key = cur.secondary_key;
            spec.primary_thumbprint = cur.primary_thumbprint;
            spec.secondary_thumbprint = cur.secondary_thumbprint;
            err = hub_identity_update(f->hub, &spec, "*", NULL);
        }
    }
    fleet_port_registry_done(f, op, result_of(err));
}

/* ---- hub-side faults ----------------------------------------------------------------- */

static hs_err_t p_drop(void *port, const char *device_id, const char *reason)
{
    struct fleet *f = port;
    return hub_device_drop(f->hub, device_id, NULL, reason) == HUB_EOK ? HS_EOK : HS_EINVAL;
}

static hs_err_t p_arm_break(void *port, const char *rule)
{
    struct fleet *f = port;
    return hub_break(f->hub, rule);
}

/* on: the fault starts; off: its duration ended (restore the configured state). */
static hs_err_t p_hub_fault(void *port, const scn_fault_t *ft, bool on)
{
    struct fleet *f = port;
    const hub_config_t *cfg = &f->s->hub;
    switch (ft->kind) {
    case SCN_FAULT_THROTTLE:
        if (on)
            return hub_set_throttling(f->hub, HUB_THROTTLE_S1, ft->units ? ft->units : 1);
        return hub_set_throttling(f->hub, cfg->throttling.profile,
                                  cfg->throttling.units ? cfg->throttling.units : 1);
    case SCN_FAULT_DELAY_METHODS:
        return hub_set_method_delay(f->hub, on ? ft->delay : 0);
    case SCN_FAULT_ENDPOINT_UNREACHABLE:
        return hub_set_endpoint_reachable(f->hub, ft->endpoint ? ft->endpoint : "events", !on);
    case SCN_FAULT_DROP_CONNECTIONS:
    case SCN_FAULT_BREAK:
        return HS_EOK; /* applied directly by the fleet (fleet_actors.c) */
    }
    return HS_EUNSUPPORTED;
}

/* ---- file uploads ------------------------------------------------------------------- */

static void p_upload_start(void *port, uint32_t dev, const char *device_id, const char *blob_name, uint64_t tag)
{
    struct fleet *f = port;
    hub_upload_t up;
    hub_err_t err = hub_upload_start(f->hub, device_id, blob_name, &up);
    fleet_port_upload_started(f, dev, tag, result_of(err), err == HUB_EOK ? up.correlation_id : NULL,
                              err == HUB_EOK ? up.blob_name : NULL);
}

static void p_upload_notify(void *port, uint32_t dev, const char *device_id, const char *correlation_id,
                            const char *blob_name, uint64_t size, bool success, int status, uint64_t tag)
{
    struct fleet *f = port;
    if (success)
        hub_upload_blob_written(f->hub, blob_name, size); /* the blob endpoint's part */
    hub_err_t err = hub_upload_complete(f->hub, device_id, correlation_id, success, status,
                                        success ? "uploaded" : "the device's transfer failed");
    fleet_port_upload_notified(f, dev, tag, result_of(err));
}

/* ---- jobs ------------------------------------------------------------------------------ */

static fleet_port_result_t jobs_result(hub_jobs_err_t e, const char *why)
{
    static const struct { int code, http; } map[] = {
        [HUB_JOBS_OK] = { 0, 200 },
        [HUB_JOBS_EINVALID] = { 400004, 400 },
        [HUB_JOBS_ENOTFOUND] = { 404001, 404 },
        [HUB_JOBS_EEXISTS] = { 409001, 409 },
        [HUB_JOBS_ENOMEM] = { 500001, 500 },
    };
    return (fleet_port_result_t){ map[e].code, map[e].http, why };
}

static void p_job_create(void *port, const char *job_id, const char *desc, size_t len, uint32_t actor)
{
    struct fleet *f = port;
    char why[256] = "";
    if (!f->jobs && !(f->jobs = hub_jobs_new(f->hub))) {
        fleet_port_job_created(f, actor, job_id, jobs_result(HUB_JOBS_ENOMEM, "out of memory"));
        return;
    }
    json_t *d = json_loadb(desc, len, 0, NULL);
    hub_jobs_err_t e = d ? hub_jobs_create(f->jobs, job_id, d, NULL, why, sizeof why) : HUB_JOBS_EINVALID;
    json_decref(d);
    fleet_port_job_created(f, actor, job_id, jobs_result(e, why));
}

static void p_job_poll(void *port, const char *job_id, uint32_t actor)
{
    struct fleet *f = port;
    hub_job_status_t st;
    hub_job_stats_t stats;
    hub_jobs_err_t e = f->jobs ? hub_jobs_status(f->jobs, job_id, &st, &stats) : HUB_JOBS_ENOTFOUND;
    if (e != HUB_JOBS_OK) {
        fleet_port_job_status(f, actor, job_id, jobs_result(e, "no such job"), NULL);
        return;
    }
    fleet_port_job_t job = { .status = hub_job_status_name(st), .run_s = -1 };
    job.done = st == HUB_JOB_COMPLETED || st == HUB_JOB_FAILED || st == HUB_JOB_CANCELLED;
    json_t *records = NULL, *doc = NULL;
    fleet_port_job_device_t *devs = NULL;
    if (job.done) {
        if (hub_jobs_get(f->jobs, job_id, &doc) != HUB_JOBS_OK)
            doc = NULL;
        records = hub_jobs_device_records(f->jobs, job_id);
        devs = fleet_port_job_read(&job, doc, records);
    }
    fleet_port_job_status(f, actor, job_id, (fleet_port_result_t){ 0, 200, NULL }, &job);
    free(devs);
    json_decref(records);
    json_decref(doc);
}

static bool p_check(void *port, char *why, size_t cap)
{
    struct fleet *f = port;
    return hub_check(f->hub, why, cap) == HS_EOK;
}

const fleet_port_ops_t fleet_port_inproc = {
    .live = false,
    .connect = p_connect,
    .subscribe = p_subscribe,
    .send = p_send,
    .respond = p_respond,
    .c2d_receive = p_c2d_receive,
    .c2d_settle = p_c2d_settle,
    .report = p_report,
    .disconnect = p_disconnect,
    .provision = p_provision,
    .invoke = p_invoke,
    .c2d_send = p_c2d_send,
    .twin_patch = p_twin_patch,
    .registry = p_registry,
    .drop = p_drop,
    .arm_break = p_arm_break,
    .hub_fault = p_hub_fault,
    .check = p_check,
    .leaf_connect = p_leaf_connect,
    .job_create = p_job_create,
    .job_poll = p_job_poll,
    .upload_start = p_upload_start,
    .upload_notify = p_upload_notify,
};
