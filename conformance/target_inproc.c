/* The in-process conformance target: the transport seam implemented over the hub model on a virtual-time kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/switches.h"
#include "conformance/target.h"
#include "conformance/target_support.h"
#include "serve/amqp/amqp_session.h"
#include "serve/amqp/feeds.h"
#include "serve/http/http_api.h"
#include "serve/mqtt/mqtt_session.h"
#include "sim/hub/hub.h"
#include "sim/hub/json_locate.h"
#include "sim/kernel.h"
#include "sim/route/route_table.h"

/*
 * One target = one kernel + one hub, both fresh per case.  The hub's sinks
 * (per-connection device sink, method result callback, endpoint and
 * feedback sinks) copy what they hear into queues the case polls, so the
 * case code looks the same as it will over a live transport.  Every
 * connection, call and queued record is a separate allocation whose address
 * is handed to the hub as callback context, so growing the tables never
 * moves a pointer the hub holds.
 *
 * The first AMQP wire opens the hub's AMQP feeds (serve/amqp/feeds.h),
 * which serve's events and feedback links read.  The feeds take over the
 * hub's endpoint and feedback sinks, so from then on the target hears
 * deliveries through feed watchers (one per routing endpoint, one for
 * feedback), in the order the hub made them: endpoint_next and
 * feedback_next read the same queues either way.  Cases that never open an
 * AMQP wire never create feeds.
 */

typedef struct {
    target_event_kind_t kind;
    sim_time_t at;
    char *method_name;
    char *rid;
    char *payload;
    size_t payload_len;
    uint64_t version;
    target_status_t status;
} inproc_event_t;

typedef struct inproc_conn {
    struct conform_target *t;
    hub_conn_t hc;
    inproc_event_t *evs;
    size_t n_evs, cap_evs;
    inproc_event_t last; /* the popped event, freed on the next pop */
    char *c2d_body;
} inproc_conn_t;

typedef struct {
    bool done;
    target_method_result_t r;
    char *payload;
} inproc_call_t;

typedef target_rx_owned_t inproc_rx_t;

typedef struct {
    target_fb_record_t *records;
    size_t count;
    sim_time_t at;
} inproc_fb_t;

/* A raw transport: the client's bytes go to the served hub's own MQTT or
 * AMQP session, what the session writes waits in out until the case takes it. */
typedef struct {
    struct conform_target *t;
    mqtt_session_t *s;   /* MQTT */
    amqp_session_t *as;  /* AMQP */
    uint8_t *out;
    size_t n_out, cap_out;
    uint8_t *taken; /* the last take, freed on the next */
    bool closed;
} inproc_wire_t;

typedef struct {
    bool done;
    int status;
    target_prop_t *headers;
    size_t n_headers;
    char *body;
    size_t body_len;
} inproc_http_t;

/* A feed watcher: what an endpoint (or, endpoint NULL, the feedback log)
 * received since the last notification, read from cursor on. */
typedef struct inproc_watch {
    struct conform_target *t;
    char *endpoint;
    uint64_t cursor;
} inproc_watch_t;

struct conform_target {
    target_options_t opt;
    sim_kernel_t *k;
    hub_t *hub;
    FILE *trace_f;
    char *trace_buf;
    size_t trace_len;
    char *breaks[8];
    size_t n_breaks;
    inproc_conn_t **conns;
    size_t n_conns;
    inproc_call_t **calls;
    size_t n_calls;
    inproc_rx_t *rx; /* deliveries not yet popped, oldest first */
    size_t n_rx, cap_rx;
    inproc_rx_t rx_last; /* the popped one, alive until the next pop */
    inproc_fb_t *fb;     /* feedback batches; [fb_head, n_fb) not yet popped */
    size_t n_fb, cap_fb, fb_head;
    inproc_fb_t fb_last;
    /* wire front-ends (TARGET_CAP_WIRE), created on first use */
    unsigned mqtt_breaks, http_breaks, knobs; /* armed wire switches */
    unsigned amqp_breaks;
    mqtt_shared_t *mqtt_sh;
    amqp_feeds_t *feeds; /* with the first AMQP wire */
    struct inproc_watch **watches;
    size_t n_watches;
    inproc_wire_t **wires;
    size_t n_wires;
    http_api_t *api;
    inproc_http_t **https;
    size_t n_https;
};

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort(); /* the harness cannot report without memory: fail loudly */
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *dup_s(const char *s)
{
    return dup_n(s ? s : "", s ? strlen(s) : 0);
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, nc * elem);
    if (!q)
        abort();
    *cap = nc;
    return q;
}

static void status_from_hub(target_status_t *st, hub_err_t e, const char *detail)
{
    if (e == HUB_EOK) {
        target_status_ok(st);
        return;
    }
    const hub_error_info_t *i = hub_error_info(e);
    target_status_set(st, i->http_status, i->code, i->name, detail ? detail : i->message);
}

/* ---- sinks ----------------------------------------------------------------- */

static void conn_push(inproc_conn_t *c, const inproc_event_t *ev)
{
    c->evs = grow(c->evs, &c->cap_evs, c->n_evs + 1, sizeof *c->evs);
    c->evs[c->n_evs++] = *ev;
}

static void sink_method(void *ctx, hub_conn_t conn, const char *name, const char *rid,
                        const char *payload, size_t len)
{
    (void)conn;
    inproc_conn_t *c = ctx;
    inproc_event_t ev = { .kind = TARGET_EV_METHOD, .at = sim_kernel_now(c->t->k) };
    ev.method_name = dup_s(name);
    ev.rid = dup_s(rid);
    ev.payload = dup_n(payload ? payload : "", payload ? len : 0);
    ev.payload_len = payload ? len : 0;
    conn_push(c, &ev);
}

static void sink_c2d(void *ctx, hub_conn_t conn)
{
    (void)conn;
    inproc_conn_t *c = ctx;
    inproc_event_t ev = { .kind = TARGET_EV_C2D_AVAILABLE, .at = sim_kernel_now(c->t->k) };
    conn_push(c, &ev);
}

static void sink_desired(void *ctx, hub_conn_t conn, uint64_t version, const char *patch, size_t len)
{
    (void)conn;
    inproc_conn_t *c = ctx;
    inproc_event_t ev = { .kind = TARGET_EV_DESIRED, .at = sim_kernel_now(c->t->k) };
    ev.version = version;
    ev.payload = dup_n(patch ? patch : "", patch ? len : 0);
    ev.payload_len = patch ? len : 0;
    conn_push(c, &ev);
}

static void sink_disc(void *ctx, hub_conn_t conn, hub_err_t err, const char *reason)
{
    (void)conn;
    inproc_conn_t *c = ctx;
    inproc_event_t ev = { .kind = TARGET_EV_DISCONNECTED, .at = sim_kernel_now(c->t->k) };
    status_from_hub(&ev.status, err, reason);
    conn_push(c, &ev);
}

static const hub_sink_ops_t inproc_sink = {
    .method_request = sink_method,
    .c2d_available = sink_c2d,
    .desired_patch = sink_desired,
    .disconnected = sink_disc,
};

static void on_method_result(void *ctx, const hub_method_result_t *r)
{
    inproc_call_t *call = ctx;
    call->done = true;
    call->r.http = r->http_status;
    const hub_error_info_t *i = hub_error_info(r->error);
    call->r.code = r->error == HUB_EOK ? 0 : i->code;
    snprintf(call->r.name, sizeof call->r.name, "%s", r->error == HUB_EOK ? "OK" : i->name);
    call->r.device_status = r->device_status;
    free(call->payload);
    call->payload = r->payload ? dup_n(r->payload, r->payload_len) : NULL;
    call->r.payload = call->payload;
    call->r.payload_len = r->payload ? r->payload_len : 0;
}

static void on_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t device_no)
{
    (void)device_no;
    conform_target_t *t = ctx;
    t->rx = grow(t->rx, &t->cap_rx, t->n_rx + 1, sizeof *t->rx);
    inproc_rx_t *r = &t->rx[t->n_rx++];
    memset(r, 0, sizeof *r);
    r->endpoint = dup_s(endpoint);
    size_t blen;
    const void *b = hub_msg_body(msg, &blen);
    r->body = dup_n(b, blen);
    r->body_len = blen;
    r->sys = calloc(HUB_SYS__COUNT, sizeof *r->sys);
    size_t na = hub_msg_app_count(msg);
    r->app = calloc(na ? na : 1, sizeof *r->app);
    if (!r->sys || !r->app)
        abort();
    for (int i = 0; i < (int)HUB_SYS__COUNT; i++) {
        const char *v = hub_msg_get_sys(msg, (hub_msg_sys_t)i);
        if (!v)
            continue;
        r->sys[r->n_sys].name = dup_s(hub_msg_sys_query_name((hub_msg_sys_t)i));
        r->sys[r->n_sys++].value = dup_s(v);
    }
    for (size_t i = 0; i < na; i++) {
        const char *n, *v;
        if (hub_msg_app_at(msg, i, &n, &v) != HS_EOK)
            break;
        r->app[r->n_app].name = dup_s(n);
        r->app[r->n_app++].value = dup_s(v);
    }
}

static const hub_endpoint_ops_t inproc_endpoints = { .deliver = on_deliver };

static void on_feedback(void *ctx, const hub_c2d_fb_batch_t *b)
{
    conform_target_t *t = ctx;
    t->fb = grow(t->fb, &t->cap_fb, t->n_fb + 1, sizeof *t->fb);
    inproc_fb_t *f = &t->fb[t->n_fb++];
    f->count = b->count;
    f->at = sim_kernel_now(t->k);
    f->records = calloc(b->count ? b->count : 1, sizeof *f->records);
    if (!f->records)
        abort();
    for (size_t i = 0; i < b->count; i++) {
        const hub_c2d_fb_record_t *r = &b->records[i];
        snprintf(f->records[i].original_message_id, sizeof f->records[i].original_message_id, "%s",
                 r->original_message_id ? r->original_message_id : "");
        snprintf(f->records[i].device_id, sizeof f->records[i].device_id, "%s",
                 r->device_id ? r->device_id : "");
        snprintf(f->records[i].status, sizeof f->records[i].status, "%s",
                 hub_c2d_fb_status_name(r->status));
    }
}

/* ---- the AMQP feeds' watchers -------------------------------------------------- */

static bool watch_entry(void *ctx, const amqp_feed_entry_t *e)
{
    inproc_watch_t *w = ctx;
    on_deliver(w->t, w->endpoint, e->msg, e->device_no);
    return true;
}

static void watch_endpoint(void *ctx)
{
    inproc_watch_t *w = ctx;
    w->cursor = amqp_feeds_read(w->t->feeds, w->endpoint, w->cursor, watch_entry, w);
}

/* A feedback batch as the feeds keep it (hub_c2d_fb_batch_json) back into
 * records. */
static bool watch_batch(void *ctx, const amqp_feedback_entry_t *e)
{
    inproc_watch_t *w = ctx;
    conform_target_t *t = w->t;
    json_t *arr = json_loadb(e->json, e->len, 0, NULL);
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    t->fb = grow(t->fb, &t->cap_fb, t->n_fb + 1, sizeof *t->fb);
    inproc_fb_t *f = &t->fb[t->n_fb++];
    f->count = n;
    f->at = sim_kernel_now(t->k);
    f->records = calloc(n ? n : 1, sizeof *f->records);
    if (!f->records)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(arr, i);
        const char *mid = json_string_value(json_object_get(r, "originalMessageId"));
        const char *dev = json_string_value(json_object_get(r, "deviceId"));
        const char *st = json_string_value(json_object_get(r, "statusCode"));
        snprintf(f->records[i].original_message_id, sizeof f->records[i].original_message_id, "%s",
                 mid ? mid : "");
        snprintf(f->records[i].device_id, sizeof f->records[i].device_id, "%s", dev ? dev : "");
        snprintf(f->records[i].status, sizeof f->records[i].status, "%s", st ? st : "");
    }
    json_decref(arr);
    return true;
}

static void watch_feedback(void *ctx)
{
    inproc_watch_t *w = ctx;
    w->cursor = amqp_feeds_read_feedback(w->t->feeds, w->cursor, watch_batch, w);
}

static void watch_add(conform_target_t *t, const char *endpoint)
{
    inproc_watch_t *w = calloc(1, sizeof *w);
    t->watches = realloc(t->watches, (t->n_watches + 1) * sizeof *t->watches);
    if (!w || !t->watches)
        abort();
    t->watches[t->n_watches++] = w;
    w->t = t;
    w->endpoint = endpoint ? dup_s(endpoint) : NULL;
    w->cursor = endpoint ? amqp_feeds_tail(t->feeds, endpoint) : amqp_feeds_feedback_head(t->feeds);
    if (!amqp_feeds_watch(t->feeds, endpoint, endpoint ? watch_endpoint : watch_feedback, w))
        abort();
}

/* The hub's AMQP feeds, created with the first AMQP wire; the target keeps
 * hearing every endpoint (the built-in one and each configured one) and
 * the feedback batches through watchers. */
static void feeds_ensure(conform_target_t *t)
{
    if (t->feeds)
        return;
    amqp_feeds_opts_t fo;
    amqp_feeds_opts_default(&fo);
    if (t->knobs & CONFORM_KNOB_EH_PARTITIONS_5)
        fo.partitions = 5;
    fo.retain = 1024; /* a case sends a handful of messages */
    fo.feedback_retain = 64;
    if (amqp_feeds_new(t->hub, &fo, &t->feeds) != HS_EOK)
        abort();
    route_table_t *rt = NULL;
    route_load_error_t err;
    if (route_table_load(hub_config(t->hub)->routing, NULL, &rt, &err) != HS_EOK)
        abort(); /* the hub loaded the same section when it was built */
    for (size_t i = 0; i < route_table_endpoint_count(rt); i++)
        watch_add(t, route_table_endpoint_name(rt, i));
    route_table_free(rt);
    watch_add(t, NULL);
}

/* ---- lifecycle ------------------------------------------------------------- */

/* End every wire session (as if its transport dropped), the shared MQTT
 * timer handler and the AMQP feeds (the hub's sinks go back to the
 * target's own), while the hub they call is still alive. */
static void wire_teardown(conform_target_t *t)
{
    for (size_t i = 0; i < t->n_wires; i++) {
        mqtt_session_free(t->wires[i]->s);
        t->wires[i]->s = NULL;
        amqp_session_free(t->wires[i]->as);
        t->wires[i]->as = NULL;
        t->wires[i]->closed = true;
    }
    mqtt_shared_free(t->mqtt_sh);
    t->mqtt_sh = NULL;
    if (t->feeds) {
        amqp_feeds_free(t->feeds);
        t->feeds = NULL;
        if (t->hub) {
            hub_set_endpoint_sink(t->hub, &inproc_endpoints, t);
            hub_set_feedback_sink(t->hub, on_feedback, t);
        }
    }
    for (size_t i = 0; i < t->n_watches; i++) {
        free(t->watches[i]->endpoint);
        free(t->watches[i]);
    }
    free(t->watches);
    t->watches = NULL;
    t->n_watches = 0;
}

/* Hub-config knob switches: the settings a case asked for, with the armed
 * knob moved away from its default (a shallow copy: hub_new copies). */
static void apply_config_knobs(const conform_target_t *t, hub_config_t *cfg)
{
    if (t->knobs & CONFORM_KNOB_UPLOAD_MAX_CONCURRENT_11)
        cfg->file_upload.max_concurrent_per_device = 11;
    if (t->knobs & CONFORM_KNOB_UPLOAD_SAS_TTL_2H)
        cfg->file_upload.sas_ttl = 2 * 3600 * SIM_SEC;
    if (t->knobs & CONFORM_KNOB_UPLOAD_NOTIFY_ON)
        cfg->file_upload.notifications = true;
    if (t->knobs & CONFORM_KNOB_UPLOAD_NOTIFY_OFF)
        cfg->file_upload.notifications = false;
}

static hs_err_t inproc_build_hub(conform_target_t *t, const hub_config_t *cfg_in, char *why, size_t cap)
{
    hub_t *hub = NULL;
    hub_config_t cfg = *cfg_in;
    apply_config_knobs(t, &cfg);
    hs_err_t e = hub_new(t->k, &cfg, &hub, why, cap);
    if (e != HS_EOK)
        return e;
    for (size_t i = 0; i < t->n_breaks; i++)
        if (hub_break(hub, t->breaks[i]) != HS_EOK) {
            hub_free(hub);
            snprintf(why, cap, "unknown break switch '%s'", t->breaks[i]);
            return HS_ENOTFOUND;
        }
    hub_set_endpoint_sink(hub, &inproc_endpoints, t);
    hub_set_feedback_sink(hub, on_feedback, t);
    /* the wire front-ends serve the old hub: end them first */
    wire_teardown(t);
    hub_free(t->hub);
    http_api_free(t->api);
    t->api = NULL;
    t->hub = hub;
    return HS_EOK;
}

static hs_err_t inproc_open(const char *address, const target_options_t *o, conform_target_t **out,
                            char *why, size_t cap)
{
    (void)address;
    *out = NULL;
    conform_target_t *t = calloc(1, sizeof *t);
    if (!t)
        return HS_ENOMEM;
    t->opt = *o;
    t->k = sim_kernel_new(o->seed, o->epoch_unix);
    if (!t->k) {
        free(t);
        return HS_ENOMEM;
    }
    if (o->capture_trace) {
        t->trace_f = open_memstream(&t->trace_buf, &t->trace_len);
        if (t->trace_f)
            sim_trace_attach(sim_kernel_trace(t->k), t->trace_f);
    }
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    hs_err_t e = inproc_build_hub(t, &cfg, why, cap);
    hub_config_free(&cfg);
    if (e != HS_EOK) {
        target_inproc.close(t);
        return e;
    }
    *out = t;
    return HS_EOK;
}

static void event_free(inproc_event_t *ev)
{
    free(ev->method_name);
    free(ev->rid);
    free(ev->payload);
    memset(ev, 0, sizeof *ev);
}

static void inproc_close(conform_target_t *t)
{
    if (!t)
        return;
    wire_teardown(t);
    hub_free(t->hub);
    http_api_free(t->api); /* after the hub: it calls nobody back then */
    sim_kernel_free(t->k);
    for (size_t i = 0; i < t->n_wires; i++) {
        free(t->wires[i]->out);
        free(t->wires[i]->taken);
        free(t->wires[i]);
    }
    free(t->wires);
    for (size_t i = 0; i < t->n_https; i++) {
        inproc_http_t *h = t->https[i];
        for (size_t j = 0; j < h->n_headers; j++) {
            free((char *)h->headers[j].name);
            free((char *)h->headers[j].value);
        }
        free(h->headers);
        free(h->body);
        free(h);
    }
    free(t->https);
    if (t->trace_f)
        fclose(t->trace_f);
    free(t->trace_buf);
    for (size_t i = 0; i < t->n_breaks; i++)
        free(t->breaks[i]);
    for (size_t i = 0; i < t->n_conns; i++) {
        inproc_conn_t *c = t->conns[i];
        for (size_t j = 0; j < c->n_evs; j++)
            event_free(&c->evs[j]);
        event_free(&c->last);
        free(c->evs);
        free(c->c2d_body);
        free(c);
    }
    free(t->conns);
    for (size_t i = 0; i < t->n_calls; i++) {
        free(t->calls[i]->payload);
        free(t->calls[i]);
    }
    free(t->calls);
    for (size_t i = 0; i < t->n_rx; i++)
        target_rx_owned_free(&t->rx[i]);
    target_rx_owned_free(&t->rx_last);
    free(t->rx);
    for (size_t i = t->fb_head; i < t->n_fb; i++)
        free(t->fb[i].records);
    free(t->fb_last.records);
    free(t->fb);
    free(t);
}

/* ---- control ------------------------------------------------------------- */

static void inproc_configure(conform_target_t *t, const char *hub_json, target_status_t *st)
{
    hub_config_t cfg;
    json_diag_list_t *diags = NULL;
    char why[512] = "";
    if (json_diag_list_new(&diags) != HS_EOK) {
        target_status_set(st, 500, 500001, "ServerError", "out of memory");
        return;
    }
    hs_err_t e = hub_config_load_json(hub_json, strlen(hub_json), "case", &cfg, diags);
    if (e != HS_EOK) {
        if (json_diag_count(diags))
            json_diag_format(json_diag_get(diags, 0), why, sizeof why);
        target_status_set(st, 400, 400004, "ArgumentInvalid", why);
    } else if ((e = inproc_build_hub(t, &cfg, why, sizeof why)) != HS_EOK) {
        target_status_set(st, 400, 400004, "ArgumentInvalid", why);
    } else {
        target_status_ok(st);
    }
    hub_config_free(&cfg);
    json_diag_list_free(diags);
}

static hs_err_t inproc_break(conform_target_t *t, const char *name)
{
    conform_switch_t sw;
    if (!conform_switch_find(name, &sw))
        return HS_ENOTFOUND;
    switch (sw.kind) {
    case CONFORM_SWITCH_MQTT:
        t->mqtt_breaks |= sw.bit; /* sessions opened from now on */
        return HS_EOK;
    case CONFORM_SWITCH_AMQP:
        t->amqp_breaks |= sw.bit; /* sessions opened from now on */
        return HS_EOK;
    case CONFORM_SWITCH_HTTP:
        if (t->api)
            return HS_ESTATE; /* the REST API takes its breaks when it is created */
        t->http_breaks |= sw.bit;
        return HS_EOK;
    case CONFORM_SWITCH_KNOB:
        t->knobs |= sw.bit;
        if (sw.bit != CONFORM_KNOB_MQTT_UNKNOWN_TOPIC_IGNORE && sw.bit != CONFORM_KNOB_EH_PARTITIONS_5) {
            /* a hub-config knob: rebuild the (still unused) hub with it */
            char why[256];
            hub_config_t cfg;
            hub_config_defaults(&cfg);
            hs_err_t e = inproc_build_hub(t, &cfg, why, sizeof why);
            hub_config_free(&cfg);
            return e;
        }
        return HS_EOK;
    case CONFORM_SWITCH_HUB:
        break;
    }
    if (t->n_breaks == sizeof t->breaks / sizeof t->breaks[0])
        return HS_EFULL;
    hs_err_t e = hub_break(t->hub, name);
    if (e == HS_EOK)
        t->breaks[t->n_breaks++] = dup_s(name);
    return e;
}

static sim_time_t inproc_now(conform_target_t *t)
{
    return sim_kernel_now(t->k);
}

static int64_t inproc_unix_now(conform_target_t *t)
{
    return sim_kernel_epoch(t->k) + (int64_t)(sim_kernel_now(t->k) / SIM_SEC);
}

static void inproc_advance(conform_target_t *t, sim_time_t d)
{
    sim_kernel_run_until(t->k, sim_kernel_now(t->k) + d);
}

static const char *inproc_host(conform_target_t *t)
{
    return hub_config(t->hub)->host;
}

static hs_err_t inproc_check(conform_target_t *t, char *why, size_t cap)
{
    return hub_check(t->hub, why, cap);
}

static void inproc_trace_excerpt(conform_target_t *t, size_t lines, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
    if (!t->trace_f || !cap)
        return;
    fflush(t->trace_f);
    if (!t->trace_buf || !t->trace_len)
        return;
    size_t end = t->trace_len, start = end, seen = 0;
    while (start > 0) {
        if (t->trace_buf[start - 1] == '\n' && start != end && ++seen == lines)
            break;
        start--;
    }
    /* keep the tail that fits */
    if (end - start >= cap)
        start = end - (cap - 1);
    memcpy(buf, t->trace_buf + start, end - start);
    buf[end - start] = '\0';
}

static uint64_t inproc_trace_hash(conform_target_t *t)
{
    return sim_trace_hash(sim_kernel_trace(t->k));
}

static void inproc_service_authorize(conform_target_t *t, const char *token, unsigned rights,
                                     target_status_t *st)
{
    unsigned h = 0;
    if (rights & TARGET_RIGHT_REGISTRY_READ)
        h |= HUB_RIGHT_REGISTRY_READ;
    if (rights & TARGET_RIGHT_REGISTRY_WRITE)
        h |= HUB_RIGHT_REGISTRY_WRITE;
    if (rights & TARGET_RIGHT_SERVICE_CONNECT)
        h |= HUB_RIGHT_SERVICE_CONNECT;
    if (rights & TARGET_RIGHT_DEVICE_CONNECT)
        h |= HUB_RIGHT_DEVICE_CONNECT;
    status_from_hub(st, hub_service_authorize(t->hub, token, h), NULL);
}

/* ---- registry -------------------------------------------------------------- */

static void ident_spec(const target_identity_spec_t *s, hub_identity_spec_t *h)
{
    memset(h, 0, sizeof *h);
    h->device_id = s->device_id;
    h->module_id = s->module_id;
    h->disabled = s->disabled;
    h->x509 = s->x509;
    h->primary_key = s->primary_key;
    h->secondary_key = s->secondary_key;
    h->primary_thumbprint = s->primary_thumbprint;
    h->secondary_thumbprint = s->secondary_thumbprint;
    if (!s->module_id || !s->module_id[0]) {
        h->has_iot_edge = true; /* an update sets the flag as given (false for every plain device) */
        h->iot_edge = s->iot_edge;
        h->parent_id = s->parent_id;
    }
}

static void ident_info(const hub_identity_t *id, target_identity_info_t *out)
{
    if (!out)
        return;
    snprintf(out->etag, sizeof out->etag, "%s", id->etag);
    snprintf(out->generation_id, sizeof out->generation_id, "%s", id->generation_id);
    out->enabled = id->enabled;
}

static void inproc_identity_create(conform_target_t *t, const target_identity_spec_t *s,
                                   target_identity_info_t *out, target_status_t *st)
{
    hub_identity_spec_t h;
    hub_identity_t id;
    ident_spec(s, &h);
    hub_err_t e = hub_identity_create(t->hub, &h, &id);
    if (e == HUB_EOK)
        ident_info(&id, out);
    status_from_hub(st, e, NULL);
}

static void inproc_identity_update(conform_target_t *t, const target_identity_spec_t *s,
                                   const char *if_match, target_identity_info_t *out,
                                   target_status_t *st)
{
    hub_identity_spec_t h;
    hub_identity_t id;
    ident_spec(s, &h);
    hub_err_t e = hub_identity_update(t->hub, &h, if_match, &id);
    if (e == HUB_EOK)
        ident_info(&id, out);
    status_from_hub(st, e, NULL);
}

static void inproc_identity_get(conform_target_t *t, const char *dev, const char *mod,
                                target_identity_info_t *out, target_status_t *st)
{
    hub_identity_t id;
    hub_err_t e = hub_identity_get(t->hub, dev, mod, &id);
    if (e == HUB_EOK)
        ident_info(&id, out);
    status_from_hub(st, e, NULL);
}

static void inproc_identity_delete(conform_target_t *t, const char *dev, const char *mod,
                                   const char *if_match, target_status_t *st)
{
    status_from_hub(st, hub_identity_delete(t->hub, dev, mod, if_match), NULL);
}

/* ---- service: methods, C2D, twins, endpoints ------------------------------ */

static void inproc_method_invoke(conform_target_t *t, const char *dev, const char *mod,
                                 const char *body, size_t len, target_call_t *call,
                                 target_status_t *st)
{
    inproc_call_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    t->calls = realloc(t->calls, (t->n_calls + 1) * sizeof *t->calls);
    if (!t->calls)
        abort();
    t->calls[t->n_calls++] = c;
    *call = (target_call_t)t->n_calls;
    hub_err_t e = hub_method_invoke_json(t->hub, dev, mod, body, len, on_method_result, c, NULL);
    if (e != HUB_EOK) {
        /* The synchronous answer is also the call's result, so a case can
         * read every outcome the same way. */
        const hub_error_info_t *i = hub_error_info(e);
        c->done = true;
        c->r.http = i->http_status;
        c->r.code = i->code;
        snprintf(c->r.name, sizeof c->r.name, "%s", i->name);
        c->r.completed_at = sim_kernel_now(t->k);
    } else if (c->done) {
        c->r.completed_at = sim_kernel_now(t->k);
    }
    status_from_hub(st, e, NULL);
}

static bool inproc_method_result(conform_target_t *t, target_call_t call, target_method_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (call == 0 || call > t->n_calls)
        return false;
    inproc_call_t *c = t->calls[call - 1];
    if (!c->done)
        return false;
    *out = c->r;
    return true;
}

static void inproc_c2d_send(conform_target_t *t, const char *dev, const target_msg_t *m,
                            sim_time_t ttl, target_status_t *st)
{
    hub_msg_t *msg = target_msg_to_hub(m, st);
    if (!msg)
        return;
    hub_err_t e = hub_c2d_send(t->hub, dev, msg, ttl, NULL);
    if (e != HUB_EOK)
        hub_msg_free(msg);
    status_from_hub(st, e, NULL);
}

static bool inproc_feedback_next(conform_target_t *t, target_feedback_t *out)
{
    free(t->fb_last.records);
    memset(&t->fb_last, 0, sizeof t->fb_last);
    if (t->fb_head == t->n_fb)
        return false;
    t->fb_last = t->fb[t->fb_head++];
    out->records = t->fb_last.records;
    out->count = t->fb_last.count;
    out->at = t->fb_last.at;
    return true;
}

static void inproc_twin_get(conform_target_t *t, const char *dev, const char *mod, json_t **out,
                            target_status_t *st)
{
    *out = NULL;
    status_from_hub(st, hub_twin_get(t->hub, dev, mod, out), NULL);
}

static void inproc_twin_patch(conform_target_t *t, const char *dev, const char *mod,
                              const char *patch, const char *if_match, char *etag_out,
                              target_status_t *st)
{
    char etag[HUB_ETAG_CAP] = "";
    hub_err_t e = hub_twin_patch(t->hub, dev, mod, patch, strlen(patch), if_match, etag);
    if (etag_out)
        snprintf(etag_out, 64, "%s", etag);
    status_from_hub(st, e, NULL);
}

static void inproc_twin_put(conform_target_t *t, const char *dev, const char *mod, const char *doc,
                            const char *if_match, char *etag_out, target_status_t *st)
{
    char etag[HUB_ETAG_CAP] = "";
    hub_err_t e = hub_twin_put(t->hub, dev, mod, doc, strlen(doc), if_match, etag);
    if (etag_out)
        snprintf(etag_out, 64, "%s", etag);
    status_from_hub(st, e, NULL);
}

static bool inproc_endpoint_next(conform_target_t *t, const char *endpoint, target_rx_msg_t *out)
{
    target_rx_owned_free(&t->rx_last);
    for (size_t i = 0; i < t->n_rx; i++) {
        if (endpoint && strcmp(t->rx[i].endpoint, endpoint) != 0)
            continue;
        target_rx_pop(t->rx, &t->n_rx, i, &t->rx_last, out);
        return true;
    }
    return false;
}

/* ---- device side ----------------------------------------------------------- */

static inproc_conn_t *conn_get(conform_target_t *t, target_conn_t c)
{
    return c == 0 || c > t->n_conns ? NULL : t->conns[c - 1];
}

static void inproc_device_connect(conform_target_t *t, const target_connect_t *p, target_conn_t *out,
                                  target_status_t *st)
{
    *out = 0;
    inproc_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->t = t;
    hub_connect_params_t hp = {
        .device_id = p->device_id,
        .module_id = p->module_id,
        .sas_token = p->sas_token,
        .x509_thumbprint = p->x509_thumbprint,
        .protocol = p->protocol == TARGET_PROTO_HTTPS  ? HUB_PROTO_HTTPS
                    : p->protocol == TARGET_PROTO_AMQP ? HUB_PROTO_AMQP
                                                       : HUB_PROTO_MQTT,
    };
    /* Register the connection record first: the hub may call its sink
     * (disconnect of an older connection) from inside connect. */
    t->conns = realloc(t->conns, (t->n_conns + 1) * sizeof *t->conns);
    if (!t->conns)
        abort();
    t->conns[t->n_conns++] = c;
    hub_err_t e = hub_device_connect(t->hub, &hp, &inproc_sink, c, &c->hc);
    status_from_hub(st, e, NULL);
    if (e == HUB_EOK)
        *out = (target_conn_t)t->n_conns;
}

static hub_conn_t hc_of(conform_target_t *t, target_conn_t c);

/* A leaf over its gateway's connection (sim/hub/hub.h hub_gateway_leaf_connect). */
static void inproc_device_connect_leaf(conform_target_t *t, target_conn_t gateway, const target_connect_t *p,
                                       target_conn_t *out, target_status_t *st)
{
    *out = 0;
    inproc_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->t = t;
    hub_connect_params_t hp = { .device_id = p->device_id, .module_id = p->module_id, .sas_token = p->sas_token };
    t->conns = realloc(t->conns, (t->n_conns + 1) * sizeof *t->conns);
    if (!t->conns)
        abort();
    t->conns[t->n_conns++] = c;
    hub_err_t e = hub_gateway_leaf_connect(t->hub, hc_of(t, gateway), &hp, &inproc_sink, c, &c->hc);
    status_from_hub(st, e, NULL);
    if (e == HUB_EOK)
        *out = (target_conn_t)t->n_conns;
}

static void inproc_device_disconnect(conform_target_t *t, target_conn_t c)
{
    inproc_conn_t *ic = conn_get(t, c);
    if (ic)
        (void)hub_device_disconnect(t->hub, ic->hc);
}

static bool inproc_device_connected(conform_target_t *t, target_conn_t c)
{
    inproc_conn_t *ic = conn_get(t, c);
    return ic && hub_device_is_connected(t->hub, ic->hc);
}

static hub_conn_t hc_of(conform_target_t *t, target_conn_t c)
{
    inproc_conn_t *ic = conn_get(t, c);
    return ic ? ic->hc : 0;
}

static void inproc_device_subscribe(conform_target_t *t, target_conn_t c, unsigned subs,
                                    target_status_t *st)
{
    unsigned h = 0;
    if (subs & TARGET_SUB_METHODS)
        h |= HUB_SUB_METHODS;
    if (subs & TARGET_SUB_C2D)
        h |= HUB_SUB_C2D;
    if (subs & TARGET_SUB_DESIRED)
        h |= HUB_SUB_DESIRED;
    status_from_hub(st, hub_device_subscribe(t->hub, hc_of(t, c), h), NULL);
}

static void inproc_device_send(conform_target_t *t, target_conn_t c, const target_msg_t *m,
                               target_status_t *st)
{
    hub_msg_t *msg = target_msg_to_hub(m, st);
    if (!msg)
        return;
    status_from_hub(st, hub_device_send_d2c(t->hub, hc_of(t, c), msg), NULL);
    hub_msg_free(msg);
}

static bool inproc_device_next_event(conform_target_t *t, target_conn_t c, target_event_kind_t kind,
                                     target_event_t *out)
{
    inproc_conn_t *ic = conn_get(t, c);
    memset(out, 0, sizeof *out);
    if (!ic)
        return false;
    event_free(&ic->last);
    for (size_t i = 0; i < ic->n_evs; i++) {
        if (kind != TARGET_EV_ANY && ic->evs[i].kind != kind)
            continue;
        ic->last = ic->evs[i];
        memmove(&ic->evs[i], &ic->evs[i + 1], (ic->n_evs - i - 1) * sizeof *ic->evs);
        ic->n_evs--;
        out->kind = ic->last.kind;
        out->at = ic->last.at;
        out->method_name = ic->last.method_name;
        out->rid = ic->last.rid;
        out->payload = ic->last.payload;
        out->payload_len = ic->last.payload_len;
        out->version = ic->last.version;
        out->status = ic->last.status;
        return true;
    }
    return false;
}

static void inproc_device_method_respond(conform_target_t *t, target_conn_t c, const char *rid,
                                         int status, const char *payload, size_t len,
                                         target_status_t *st)
{
    status_from_hub(st, hub_device_method_respond(t->hub, hc_of(t, c), rid, status, payload, len),
                    NULL);
}

static void inproc_device_c2d_receive(conform_target_t *t, target_conn_t c, target_c2d_t *out,
                                      target_status_t *st)
{
    inproc_conn_t *ic = conn_get(t, c);
    memset(out, 0, sizeof *out);
    hub_c2d_delivery_t d;
    hub_err_t e = hub_device_c2d_receive(t->hub, hc_of(t, c), &d);
    status_from_hub(st, e, NULL);
    if (e != HUB_EOK || !ic)
        return;
    snprintf(out->lock_token, sizeof out->lock_token, "%s", d.lock_token);
    out->delivery_count = d.delivery_count;
    out->sequence_number = d.sequence_number;
    const char *mid = hub_msg_get_sys(d.msg, HUB_SYS_MESSAGE_ID);
    snprintf(out->message_id, sizeof out->message_id, "%s", mid ? mid : "");
    size_t blen;
    const void *b = hub_msg_body(d.msg, &blen);
    free(ic->c2d_body);
    ic->c2d_body = dup_n(b, blen);
    out->body = ic->c2d_body;
    out->body_len = blen;
}

static void inproc_device_c2d_settle(conform_target_t *t, target_conn_t c, const char *lock,
                                     target_settle_t how, target_status_t *st)
{
    hub_conn_t hc = hc_of(t, c);
    hub_err_t e = how == TARGET_SETTLE_COMPLETE ? hub_device_c2d_complete(t->hub, hc, lock)
                  : how == TARGET_SETTLE_REJECT ? hub_device_c2d_reject(t->hub, hc, lock)
                                                : hub_device_c2d_abandon(t->hub, hc, lock);
    status_from_hub(st, e, NULL);
}

static void inproc_device_twin_get(conform_target_t *t, target_conn_t c, json_t **out,
                                   target_status_t *st)
{
    *out = NULL;
    status_from_hub(st, hub_device_twin_get(t->hub, hc_of(t, c), out), NULL);
}

static void inproc_device_twin_patch_reported(conform_target_t *t, target_conn_t c,
                                              const char *patch, uint64_t *version_out,
                                              target_status_t *st)
{
    uint64_t v = 0;
    status_from_hub(st, hub_device_twin_patch_reported(t->hub, hc_of(t, c), patch, strlen(patch), &v),
                    NULL);
    if (version_out)
        *version_out = v;
}

/* ---- raw wire ------------------------------------------------------------------ */

static void wire_io_write(void *ctx, const void *bytes, size_t len)
{
    inproc_wire_t *w = ctx;
    w->out = grow(w->out, &w->cap_out, w->n_out + len, 1);
    memcpy(w->out + w->n_out, bytes, len);
    w->n_out += len;
}

static void wire_io_close(void *ctx, const char *reason)
{
    (void)reason;
    inproc_wire_t *w = ctx;
    w->closed = true; /* the session is freed with the target, never from inside its call */
}

static const wire_io_ops_t inproc_wire_io = { wire_io_write, wire_io_close };

static inproc_wire_t *wire_get(conform_target_t *t, target_wire_t w)
{
    return w == 0 || w > t->n_wires ? NULL : t->wires[w - 1];
}

static hs_err_t inproc_wire_open(conform_target_t *t, target_protocol_t proto, const char *thumbprint,
                                 target_wire_t *out, char *why, size_t cap)
{
    *out = 0;
    if (proto != TARGET_PROTO_MQTT && proto != TARGET_PROTO_AMQP) {
        snprintf(why, cap, "the in-process target carries raw MQTT and AMQP only (HTTPS: http_request)");
        return HS_EUNSUPPORTED;
    }
    if (proto == TARGET_PROTO_MQTT && !t->mqtt_sh && !(t->mqtt_sh = mqtt_shared_new(t->hub)))
        abort();
    if (proto == TARGET_PROTO_AMQP)
        feeds_ensure(t);
    inproc_wire_t *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->t = t;
    t->wires = realloc(t->wires, (t->n_wires + 1) * sizeof *t->wires);
    if (!t->wires)
        abort();
    t->wires[t->n_wires++] = w;
    char addr[32];
    snprintf(addr, sizeof addr, "conformance:%zu", t->n_wires);
    wire_peer_t peer = { .address = addr, .x509_thumbprint = thumbprint, .tls = true };
    if (proto == TARGET_PROTO_AMQP) {
        amqp_session_opts_t ao;
        amqp_session_opts_default(&ao);
        ao.breaks = t->amqp_breaks;
        if (!(w->as = amqp_session_new(t->hub, t->feeds, &ao, &peer, &inproc_wire_io, w, NULL, NULL)))
            abort();
        *out = (target_wire_t)t->n_wires;
        return HS_EOK;
    }
    mqtt_session_opts_t o;
    mqtt_session_opts_defaults(&o, t->hub);
    o.breaks = t->mqtt_breaks;
    o.shared = t->mqtt_sh;
    if (t->knobs & CONFORM_KNOB_MQTT_UNKNOWN_TOPIC_IGNORE)
        o.unknown_topic = HUB_UNKNOWN_TOPIC_IGNORE;
    w->s = mqtt_session_new(t->hub, &o, &peer, &inproc_wire_io, w, NULL, NULL);
    if (!w->s)
        abort();
    *out = (target_wire_t)t->n_wires;
    return HS_EOK;
}

static void inproc_wire_send(conform_target_t *t, target_wire_t id, const void *bytes, size_t len)
{
    inproc_wire_t *w = wire_get(t, id);
    if (w && !w->closed && w->s)
        mqtt_session_input(w->s, bytes, len);
    else if (w && !w->closed && w->as)
        amqp_session_input(w->as, bytes, len);
}

static void inproc_wire_take(conform_target_t *t, target_wire_t id, const uint8_t **bytes, size_t *len)
{
    inproc_wire_t *w = wire_get(t, id);
    *bytes = NULL;
    *len = 0;
    if (!w)
        return;
    free(w->taken);
    w->taken = w->out;
    *bytes = w->out;
    *len = w->n_out;
    w->out = NULL;
    w->n_out = w->cap_out = 0;
}

static bool inproc_wire_is_closed(conform_target_t *t, target_wire_t id)
{
    inproc_wire_t *w = wire_get(t, id);
    return !w || w->closed;
}

static void inproc_wire_close(conform_target_t *t, target_wire_t id)
{
    inproc_wire_t *w = wire_get(t, id);
    if (!w || w->closed)
        return;
    w->closed = true;
    if (w->s)
        mqtt_session_transport_closed(w->s);
    if (w->as)
        amqp_session_transport_closed(w->as);
}

/* ---- HTTPS -------------------------------------------------------------------------- */

static void on_http(void *ctx, const http_response_t *r)
{
    inproc_http_t *h = ctx;
    h->done = true;
    h->status = r->status;
    h->headers = calloc(r->n_headers ? r->n_headers : 1, sizeof *h->headers);
    if (!h->headers)
        abort();
    for (size_t i = 0; i < r->n_headers; i++) {
        h->headers[i].name = dup_s(r->headers[i].name);
        h->headers[i].value = dup_s(r->headers[i].value);
    }
    h->n_headers = r->n_headers;
    h->body = dup_n(r->body ? r->body : "", r->body ? r->body_len : 0);
    h->body_len = r->body ? r->body_len : 0;
}

static bool inproc_http_response(conform_target_t *t, target_http_call_t call,
                                 target_http_response_t *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->body = "";
    if (call == 0 || call > t->n_https || !t->https[call - 1]->done)
        return false;
    inproc_http_t *h = t->https[call - 1];
    resp->status = h->status;
    resp->headers = h->headers;
    resp->n_headers = h->n_headers;
    resp->body = h->body;
    resp->body_len = h->body_len;
    return true;
}

#define INPROC_HTTP_MAX_HEADERS 32

static void inproc_http_request(conform_target_t *t, const target_http_request_t *req,
                                target_http_call_t *call, target_http_response_t *resp)
{
    if (!t->api) {
        http_api_opts_t o = { .breaks = t->http_breaks };
        if (!(t->api = http_api_new(t->hub, &o)))
            abort();
    }
    inproc_http_t *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    t->https = realloc(t->https, (t->n_https + 1) * sizeof *t->https);
    if (!t->https)
        abort();
    t->https[t->n_https++] = h;
    *call = (target_http_call_t)t->n_https;
    http_header_t hs[INPROC_HTTP_MAX_HEADERS];
    size_t n = req->n_headers < INPROC_HTTP_MAX_HEADERS ? req->n_headers : INPROC_HTTP_MAX_HEADERS;
    for (size_t i = 0; i < n; i++)
        hs[i] = (http_header_t){ req->headers[i].name, req->headers[i].value };
    wire_peer_t peer = { .address = "conformance:https", .x509_thumbprint = req->x509_thumbprint,
                         .tls = true };
    http_request_t r = { .method = req->method, .path = req->path, .headers = hs, .n_headers = n,
                         .body = req->body_len ? req->body : NULL, .body_len = req->body_len, .peer = &peer };
    (void)http_api_handle(t->api, &r, on_http, h);
    inproc_http_response(t, *call, resp);
}

const target_ops_t target_inproc = {
    .name = "inproc",
    .caps = TARGET_CAP_VIRTUAL_TIME | TARGET_CAP_BREAK | TARGET_CAP_CONFIGURE |
            TARGET_CAP_KNOWN_KNOBS | TARGET_CAP_CHECK | TARGET_CAP_ENDPOINTS | TARGET_CAP_TRACE |
            TARGET_CAP_WIRE,
    .open = inproc_open,
    .close = inproc_close,
    .configure = inproc_configure,
    .break_switch = inproc_break,
    .now = inproc_now,
    .unix_now = inproc_unix_now,
    .advance = inproc_advance,
    .host = inproc_host,
    .check = inproc_check,
    .trace_excerpt = inproc_trace_excerpt,
    .trace_hash = inproc_trace_hash,
    .service_authorize = inproc_service_authorize,
    .identity_create = inproc_identity_create,
    .identity_update = inproc_identity_update,
    .identity_get = inproc_identity_get,
    .identity_delete = inproc_identity_delete,
    .method_invoke = inproc_method_invoke,
    .method_result = inproc_method_result,
    .c2d_send = inproc_c2d_send,
    .feedback_next = inproc_feedback_next,
    .twin_get = inproc_twin_get,
    .twin_patch = inproc_twin_patch,
    .twin_put = inproc_twin_put,
    .endpoint_next = inproc_endpoint_next,
    .device_connect = inproc_device_connect,
    .device_disconnect = inproc_device_disconnect,
    .device_connected = inproc_device_connected,
    .device_subscribe = inproc_device_subscribe,
    .device_send = inproc_device_send,
    .device_next_event = inproc_device_next_event,
    .device_method_respond = inproc_device_method_respond,
    .device_c2d_receive = inproc_device_c2d_receive,
    .device_c2d_settle = inproc_device_c2d_settle,
    .device_twin_get = inproc_device_twin_get,
    .device_twin_patch_reported = inproc_device_twin_patch_reported,
    .wire_open = inproc_wire_open,
    .wire_send = inproc_wire_send,
    .wire_take = inproc_wire_take,
    .wire_is_closed = inproc_wire_is_closed,
    .wire_close = inproc_wire_close,
    .http_request = inproc_http_request,
    .http_response = inproc_http_response,
    .device_connect_leaf = inproc_device_connect_leaf,
};
