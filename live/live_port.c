/* The live port's life: open (connection string, TLS, service probe), identities registered and deleted, the pump, the ops table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "live/live_internal.h"

#define LIVE_OP_MS_DEFAULT 30000
#define LIVE_REGISTRY_WINDOW 32 /* registry requests in flight at once */

void *live_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, nc * elem);
    if (!q)
        abort(); /* the run cannot keep its books without memory */
    *cap = nc;
    return q;
}

char *live_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

void live_note(struct live_port *p, const char *counter, const char *why)
{
    for (size_t i = 0; i < p->ncauses; i++)
        if (strcmp(p->causes[i].counter, counter) == 0)
            return;
    if (p->ncauses == LIVE_MAX_CAUSES)
        return;
    p->causes[p->ncauses].counter = live_strdup(counter);
    p->causes[p->ncauses].why = live_strdup(why && *why ? why : "(no detail)");
    p->ncauses++;
}

bool live_port_cause_at(const live_port_t *p, size_t i, const char **counter, const char **why)
{
    if (i >= p->ncauses)
        return false;
    *counter = p->causes[i].counter;
    *why = p->causes[i].why;
    return true;
}

fleet_port_result_t live_http_result(const tr_http_response_t *r, char *why, size_t cap)
{
    if (r->failed) {
        snprintf(why, cap, "%s", r->why);
        return (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, why };
    }
    if (r->status >= 200 && r->status < 300) {
        why[0] = 0;
        return (fleet_port_result_t){ 0, r->status, why };
    }
    int code;
    char name[64], detail[200];
    tr_rest_error(r, &code, name, sizeof name, detail, sizeof detail);
    if (code <= 0)
        code = r->status * 1000; /* a code the hub's table lacks: keep its class (429000 = throttled) */
    snprintf(why, cap, "%d %s: %s", r->status, *name ? name : "HttpError", detail);
    return (fleet_port_result_t){ code, r->status, why };
}

/* ---- identities -------------------------------------------------------------------- */

static int cmp_sid(const void *a, const void *b)
{
    return strcmp(((const live_sid_t *)a)->sid, ((const live_sid_t *)b)->sid);
}

static void index_by_sid(struct live_port *p)
{
    free(p->by_sid);
    p->by_sid = malloc((p->ndevs ? p->ndevs : 1) * sizeof *p->by_sid);
    if (!p->by_sid)
        abort();
    for (size_t i = 0; i < p->ndevs; i++)
        p->by_sid[i] = (live_sid_t){ p->idents[p->dev_ident[i]].sid, p->dev_ident[i] };
    p->nby_sid = p->ndevs;
    qsort(p->by_sid, p->nby_sid, sizeof *p->by_sid, cmp_sid);
}

const char *live_wire_id(struct live_port *p, const char *sid, char *buf, size_t cap)
{
    size_t lo = 0, hi = p->nby_sid;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(p->by_sid[mid].sid, sid);
        if (c == 0)
            return p->idents[p->by_sid[mid].ident].wid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    snprintf(buf, cap, "%s%s", p->nlist ? "" : p->prefix, sid); /* an id outside the fleet */
    return buf;
}

static void random_key(char *out, size_t cap)
{
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
        abort();
    unsigned char b64[64];
    EVP_EncodeBlock(b64, raw, sizeof raw);
    snprintf(out, cap, "%s", (const char *)b64);
}

hs_err_t live_svc_provision(void *port, const hub_identity_spec_t *spec, char *why, size_t cap)
{
    struct live_port *p = port;
    bool module = spec->module_id && *spec->module_id;
    if (!module && p->nlist && p->ndevs >= p->nlist) {
        snprintf(why, cap, "the device list has %zu devices, the scenario needs more", p->nlist);
        return HS_EINVAL;
    }
    p->idents = live_grow(p->idents, &p->capidents, p->nidents + 1, sizeof *p->idents);
    live_ident_t *id = &p->idents[p->nidents];
    memset(id, 0, sizeof *id);
    id->sid = live_strdup(spec->device_id);
    id->x509 = spec->x509;
    id->iot_edge = spec->has_iot_edge && spec->iot_edge;
    if (!module && spec->parent_id && *spec->parent_id)
        id->parent_sid = live_strdup(spec->parent_id);
    if (spec->primary_thumbprint)
        snprintf(id->thumb, sizeof id->thumb, "%s", spec->primary_thumbprint);
    if (module) {
        id->module = live_strdup(spec->module_id);
        /* a module belongs to the device registered last under this scenario id */
        id->wid = NULL;
        for (size_t i = p->nidents; i-- > 0;)
            if (!p->idents[i].module && strcmp(p->idents[i].sid, spec->device_id) == 0) {
                id->wid = live_strdup(p->idents[i].wid);
                break;
            }
        if (!id->wid) {
            char w[300];
            snprintf(w, sizeof w, "%s%s", p->prefix, spec->device_id);
            id->wid = live_strdup(w);
        }
        random_key(id->key, sizeof id->key);
        p->nidents++;
        return HS_EOK;
    }
    if (p->nlist) {
        id->wid = live_strdup(p->list_ids[p->ndevs]);
        snprintf(id->key, sizeof id->key, "%s", p->list_keys[p->ndevs]);
    } else {
        char w[300];
        snprintf(w, sizeof w, "%s%s", p->prefix, spec->device_id);
        id->wid = live_strdup(w);
        random_key(id->key, sizeof id->key);
    }
    p->devs = live_grow(p->devs, &p->capdevs, p->ndevs + 1, sizeof *p->devs);
    size_t cap_ident = p->ndevs + 1;
    uint32_t *di = realloc(p->dev_ident, cap_ident * sizeof *di);
    if (!di)
        abort();
    p->dev_ident = di;
    p->dev_ident[p->ndevs] = (uint32_t)p->nidents;
    memset(&p->devs[p->ndevs], 0, sizeof p->devs[0]);
    p->devs[p->ndevs].dev = (uint32_t)p->ndevs;
    p->devs[p->ndevs].ident = (uint32_t)p->nidents;
    p->ndevs++;
    p->nidents++;
    return HS_EOK;
}

size_t live_port_identity_count(const live_port_t *p)
{
    return p->nidents;
}

/* A leaf's gateway among the identities before it (a device with that scenario id), else NULL. */
static const live_ident_t *parent_of(const struct live_port *p, size_t i)
{
    const live_ident_t *id = &p->idents[i];
    if (!id->parent_sid)
        return NULL;
    for (size_t j = i; j-- > 0;)
        if (!p->idents[j].module && strcmp(p->idents[j].sid, id->parent_sid) == 0)
            return &p->idents[j];
    return NULL;
}

/* parent_scope: a leaf's gateway's deviceScope (the leaf's deviceScope names its gateway), or NULL. */
static char *identity_json(const live_ident_t *id, const char *parent_scope)
{
    json_t *auth;
    if (id->x509)
        auth = json_pack("{s:s,s:{s:s}}", "type", "selfSigned", "x509Thumbprint", "primaryThumbprint", id->thumb);
    else
        auth = json_pack("{s:s,s:{s:s,s:s}}", "type", "sas", "symmetricKey", "primaryKey", id->key, "secondaryKey",
                         id->key);
    json_t *doc = json_pack("{s:s,s:s,s:o}", "deviceId", id->wid, "status", "enabled", "authentication", auth);
    if (id->iot_edge)
        json_object_set_new(doc, "capabilities", json_pack("{s:b}", "iotEdge", 1));
    if (parent_scope && *parent_scope)
        json_object_set_new(doc, "deviceScope", json_string(parent_scope));
    if (id->module) {
        json_object_del(doc, "status");
        json_object_set_new(doc, "moduleId", json_string(id->module));
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text)
        abort();
    return text;
}

typedef struct {
    tr_http_req_t *req;
    size_t ident;
    int64_t deadline;
} reg_slot_t;

static bool any_done(void *arg)
{
    reg_slot_t *slots = arg;
    for (size_t i = 0; i < LIVE_REGISTRY_WINDOW; i++)
        if (slots[i].req && tr_http_done(slots[i].req))
            return true;
    return false;
}

/* Runs one registry request per identity (PUT or DELETE), a window at a time.
 * Returns the first failure (why) but goes on with the rest when keep_going. */
static hs_err_t registry_sweep(struct live_port *p, bool put, bool keep_going, size_t *done_out, char *why,
                               size_t cap)
{
    reg_slot_t slots[LIVE_REGISTRY_WINDOW];
    memset(slots, 0, sizeof slots);
    size_t next = 0, busy = 0, done = 0;
    hs_err_t first = HS_EOK;
    for (;;) {
        bool stop = (first != HS_EOK && !keep_going) || (put && p->o.stop && *p->o.stop);
        while (!stop && next < p->nidents && busy < LIVE_REGISTRY_WINDOW) {
            live_ident_t *id = &p->idents[next];
            if (put ? id->registered : (!id->registered || id->module)) {
                next++;
                continue; /* DELETE of a device takes its modules with it */
            }
            const live_ident_t *gw = put ? parent_of(p, next) : NULL;
            if (gw && gw->iot_edge && !gw->registered)
                break; /* the leaf names its gateway's scope: wait for the gateway's answer */
            size_t s = 0;
            while (slots[s].req)
                s++;
            char w[400];
            hs_err_t e;
            if (put) {
                char *body = identity_json(id, gw ? gw->scope : NULL);
                e = tr_rest_identity_put(&p->rest, id->wid, id->module, body, NULL, &slots[s].req, w, sizeof w);
                free(body);
            } else {
                e = tr_rest_identity_delete(&p->rest, id->wid, NULL, NULL, &slots[s].req, w, sizeof w);
            }
            if (e != HS_EOK) {
                if (first == HS_EOK)
                    snprintf(why, cap, "%s %s: %s", put ? "registering" : "deleting", id->wid, w);
                first = HS_EIO;
                slots[s].req = NULL;
                next++;
                break;
            }
            slots[s].ident = next++;
            slots[s].deadline = tr_now_ms() + p->op_ms;
            busy++;
        }
        if (!busy)
            break;
        tr_loop_wait(p->loop, any_done, slots, 200);
        int64_t now = tr_now_ms();
        for (size_t s = 0; s < LIVE_REGISTRY_WINDOW; s++) {
            if (!slots[s].req)
                continue;
            bool fin = tr_http_done(slots[s].req);
            if (!fin && now < slots[s].deadline)
                continue;
            live_ident_t *id = &p->idents[slots[s].ident];
            char w[400];
            if (!fin) {
                snprintf(w, sizeof w, "no answer within %lld ms", (long long)p->op_ms);
            } else {
                fleet_port_result_t r = live_http_result(tr_http_result(slots[s].req), w, sizeof w);
                if (r.code == 0 || (!put && r.http_status == 404)) {
                    if (put && id->iot_edge) { /* its leaves will name this scope */
                        const tr_http_response_t *resp = tr_http_result(slots[s].req);
                        json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
                        const char *scope = json_string_value(json_object_get(doc, "deviceScope"));
                        free(id->scope);
                        id->scope = scope && *scope ? live_strdup(scope) : NULL;
                        json_decref(doc);
                    }
                    if (put)
                        id->registered = true;
                    else
                        id->registered = false;
                    done++;
                    w[0] = 0;
                }
            }
            if (w[0] && first == HS_EOK) {
                snprintf(why, cap, "%s %s%s%s at %s: %s", put ? "registering" : "deleting", id->wid,
                         id->module ? "/" : "", id->module ? id->module : "", p->cs.host, w);
                first = HS_EIO;
            }
            tr_http_free(slots[s].req);
            slots[s].req = NULL;
            busy--;
        }
    }
    if (done_out)
        *done_out = done;
    return first;
}

hs_err_t live_port_register(live_port_t *p, char *why, size_t cap)
{
    index_by_sid(p);
    if (p->nlist)
        return HS_EOK; /* pre-provisioned: nothing to create */
    return registry_sweep(p, true, false, NULL, why, cap);
}

size_t live_port_registered(const live_port_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nidents; i++)
        n += p->idents[i].registered;
    return n;
}

hs_err_t live_port_unregister(live_port_t *p, size_t *deleted, char *why, size_t cap)
{
    *deleted = 0;
    if (p->nlist)
        return HS_EOK;
    return registry_sweep(p, false, true, deleted, why, cap);
}

/* ---- the device list ------------------------------------------------------------------ */

static hs_err_t read_device_list(struct live_port *p, const char *path, char *why, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, cap, "cannot read the device list %s", path);
        return HS_EIO;
    }
    char line[1024];
    size_t capl = 0, lineno = 0;
    hs_err_t rc = HS_EOK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        char *semi = strchr(s, ';');
        if (!semi || semi == s || !semi[1] || semi - s > 128 || strlen(semi + 1) >= LIVE_KEY_CAP) {
            snprintf(why, cap, "%s:%zu: expected deviceId;base64key (id at most 128 characters)", path, lineno);
            rc = HS_EPARSE;
            break;
        }
        *semi = 0;
        size_t need = p->nlist + 1, c2 = capl;
        p->list_ids = live_grow(p->list_ids, &capl, need, sizeof *p->list_ids);
        p->list_keys = live_grow(p->list_keys, &c2, need, sizeof *p->list_keys);
        memcpy(p->list_ids[p->nlist], s, (size_t)(semi - s) + 1); /* checked: at most 128 + NUL */
        memcpy(p->list_keys[p->nlist], semi + 1, strlen(semi + 1) + 1);
        p->nlist++;
    }
    fclose(f);
    if (rc == HS_EOK && !p->nlist) {
        snprintf(why, cap, "%s: no devices in the list", path);
        rc = HS_EPARSE;
    }
    return rc;
}

/* ---- open / close ----------------------------------------------------------------------- */

static bool req_done(void *arg)
{
    return tr_http_done(arg);
}

static hs_err_t probe_service(struct live_port *p, char *why, size_t cap)
{
    tr_http_req_t *req = NULL;
    char w[600];
    if (tr_rest_start(&p->rest, "GET", "/statistics/devices", NULL, NULL, NULL, 0, NULL, 0, &req, w, sizeof w) !=
        HS_EOK) {
        snprintf(why, cap, "the hub's HTTPS endpoint %s:%d is not usable: %s", p->cs.connect_host, p->cs.https_port, w);
        return HS_EIO;
    }
    if (!tr_loop_wait(p->loop, req_done, req, p->op_ms)) {
        snprintf(why, cap, "the hub's HTTPS endpoint %s:%d did not answer within %lld ms", p->cs.connect_host,
                 p->cs.https_port, (long long)p->op_ms);
        tr_http_free(req);
        return HS_EIO;
    }
    fleet_port_result_t r = live_http_result(tr_http_result(req), w, sizeof w);
    tr_http_free(req);
    if (r.code == FLEET_PORT_TRANSPORT) {
        snprintf(why, cap, "the hub's HTTPS endpoint %s:%d is not usable: %s", p->cs.connect_host, p->cs.https_port, w);
        return HS_EIO;
    }
    if (r.http_status == 401) {
        snprintf(why, cap, "the hub refused the service credentials (SharedAccessKeyName=%s): %s", p->cs.key_name, w);
        return HS_EIO;
    }
    if (r.http_status == 429) {
        snprintf(why, cap, "the hub throttles the service (429) already: %s", w);
        return HS_EIO;
    }
    if (r.code != 0) {
        snprintf(why, cap, "GET /statistics/devices answered %s", w);
        return HS_EIO;
    }
    return HS_EOK;
}

hs_err_t live_port_open(const live_port_opts_t *o, live_port_t **out, char *why, size_t cap)
{
    *out = NULL;
    struct live_port *p = calloc(1, sizeof *p);
    if (!p)
        return HS_ENOMEM;
    p->o = *o;
    p->op_ms = o->op_timeout_ms > 0 ? o->op_timeout_ms : LIVE_OP_MS_DEFAULT;
    hs_err_t e = tr_connstr_parse(o->connstr, &p->cs, why, cap);
    if (e != HS_EOK) {
        free(p);
        return HS_EPARSE;
    }
    if (o->prefix) {
        snprintf(p->prefix, sizeof p->prefix, "%s", o->prefix);
    } else {
        unsigned char rnd[3];
        if (RAND_bytes(rnd, sizeof rnd) != 1) {
            snprintf(why, cap, "no random bytes for the run prefix");
            free(p);
            return HS_EIO;
        }
        snprintf(p->prefix, sizeof p->prefix, "hs%02x%02x%02x-", rnd[0], rnd[1], rnd[2]);
    }
    if (!(p->loop = tr_loop_new())) {
        free(p);
        return HS_ENOMEM;
    }
    if (o->device_list && (e = read_device_list(p, o->device_list, why, cap)) != HS_EOK) {
        live_port_free(p);
        return e;
    }
    const char *ca = o->ca_file && *o->ca_file ? o->ca_file : p->cs.ca_file;
    tr_tls_opts_t to = { .ca_file = ca };
    if ((e = tr_tls_new(&to, &p->tls, why, cap)) != HS_EOK) {
        live_port_free(p);
        return HS_EIO;
    }
    tr_rest_init(&p->rest, &p->cs, p->loop, p->tls);
    p->admin = (tr_http_target_t){ .loop = p->loop, .tls = NULL, .host = p->cs.connect_host,
                                   .port = p->cs.admin_port, .tls_name = NULL };
    if ((e = probe_service(p, why, cap)) != HS_EOK) {
        live_port_free(p);
        return e;
    }
    p->served = p->cs.admin_port && live_admin_probe(p);
    *out = p;
    return HS_EOK;
}

void live_port_free(live_port_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ndevs; i++)
        live_dev_release(p, &p->devs[i]);
    live_svc_free(p);
    live_uploads_free(p);
    for (size_t i = 0; i < p->nidents; i++) {
        free(p->idents[i].sid);
        free(p->idents[i].wid);
        free(p->idents[i].module);
        free(p->idents[i].parent_sid);
        free(p->idents[i].scope);
    }
    for (size_t i = 0; i < p->ncauses; i++) {
        free(p->causes[i].counter);
        free(p->causes[i].why);
    }
    free(p->idents);
    free(p->devs);
    free(p->dev_ident);
    free(p->by_sid);
    free(p->connect_queue);
    free(p->list_ids);
    free(p->list_keys);
    tr_tls_free(p->tls);
    tr_loop_free(p->loop);
    free(p);
}

bool live_port_served(const live_port_t *p) { return p->served; }
const char *live_port_host(const live_port_t *p) { return p->cs.host; }
const char *live_port_prefix(const live_port_t *p) { return p->nlist ? "" : p->prefix; }
tr_loop_t *live_port_loop(live_port_t *p) { return p->loop; }
void live_port_bind(live_port_t *p, fleet_t *f) { p->fleet = f; }
void live_port_set_clock(live_port_t *p, sim_kernel_t *k, double time_scale)
{
    p->k = k;
    p->time_scale = time_scale > 0 ? time_scale : 1.0;
}

/* ---- the pump ----------------------------------------------------------------------------- */

static bool woken(void *arg)
{
    return ((struct live_port *)arg)->wake;
}

void live_port_pump(live_port_t *p, int64_t max_ms)
{
    p->wake = false;
    if (max_ms > 0)
        tr_loop_wait(p->loop, woken, p, max_ms);
    else
        tr_loop_poll(p->loop);
    live_svc_service(p);
    live_dev_start_queued(p);
}

size_t live_port_outstanding(const live_port_t *p)
{
    size_t n = p->nops + p->nc2d_out;
    for (size_t i = 0; i < p->ndevs; i++)
        n += p->devs[i].unacked + p->devs[i].nsettling;
    return n + p->nconnecting + p->cq_len;
}

void live_port_disconnect_all(live_port_t *p)
{
    /* close all, pump so the goodbyes leave (DISCONNECT, AMQP close), then
     * free: freeing at once would look like lost connections to the hub */
    for (size_t i = 0; i < p->ndevs; i++) {
        live_dev_t *d = &p->devs[i];
        d->queued = false;
        if (d->conn) {
            p->unacked_total += d->unacked;
            d->unacked = 0;
            tr_device_close(d->conn);
        }
    }
    p->cq_len = p->cq_head = 0;
    p->nconnecting = 0;
    tr_loop_wait(p->loop, NULL, NULL, 50);
    for (size_t i = 0; i < p->ndevs; i++) {
        live_dev_t *d = &p->devs[i];
        if (d->conn)
            tr_device_free(d->conn);
        d->conn = NULL;
        d->connecting = false;
        live_dev_release(p, d);
    }
}

void live_port_abandon(live_port_t *p)
{
    size_t ops = p->nops + p->nc2d_out;
    live_svc_free(p);
    if (p->fleet) {
        fleet_port_count(p->fleet, "live.d2c.unacked_at_close", (int64_t)p->unacked_total);
        fleet_port_count(p->fleet, "live.requests_abandoned", (int64_t)ops);
    }
}

size_t live_port_footprint(const live_port_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->ndevs; i++)
        if (p->devs[i].conn)
            n += tr_device_footprint(p->devs[i].conn);
    return n;
}

const fleet_port_ops_t live_port_ops = {
    .live = true,
    .connect = live_dev_connect,
    .subscribe = live_dev_subscribe,
    .send = live_dev_send,
    .respond = live_dev_respond,
    .c2d_receive = live_dev_c2d_receive,
    .c2d_settle = live_dev_c2d_settle,
    .report = live_dev_report,
    .disconnect = live_dev_disconnect,
    .provision = live_svc_provision,
    .invoke = live_svc_invoke,
    .c2d_send = live_svc_c2d_send,
    .twin_patch = live_svc_twin_patch,
    .registry = live_svc_registry,
    .drop = live_admin_drop,
    .arm_break = live_admin_break,
    .hub_fault = live_admin_fault,
    .check = live_admin_check,
    .job_create = live_job_create,
    .job_poll = live_job_poll,
    .upload_start = live_upload_start,
    .upload_notify = live_upload_notify,
    /* leaf_connect stays NULL: leaves over a gateway's AMQP connection need link multiplexing in tr_device */
};
