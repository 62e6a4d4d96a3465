/* Direct methods: argument rules, 404001/404103/504101, the connect window, late and unknown responses. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hub_internal.h"
#include "methods.h"

/*
 * A call lives in a slot of hub->calls from acceptance to completion.  Its
 * id (= the rid the device sees, in hex) is (sequence << 24 | slot): a
 * response finds its slot in O(1) and a stale or forged rid never matches
 * because the sequence part differs.  Each call has at most one timer: the
 * connect deadline while it waits for the device to come online, then the
 * response deadline once delivered.  Timers fire at SIM_PRIO_DEADLINE or
 * SIM_PRIO_LATE_DEADLINE (the deadline_wins knob), so a device action at
 * SIM_PRIO_DEVICE on the same instant comes after or before them.
 *
 * Callbacks (the device sink, the service completion) may re-enter the hub:
 * a slot is never reused while its request is being handed to the device,
 * and nothing holds a pointer into hub->calls across a callback.
 */

typedef struct {
    uint64_t rid;
    uint32_t rec;
    hub_method_cb cb;
    void *ctx;
} late_info_t;

/* Per-slot memory of the last call that timed out there (late responses). */
typedef struct {
    late_info_t *v;
    uint32_t cap;
} late_table_t;

static late_info_t *late_slot(hub_t *hub, uint32_t slot);
static late_info_t *late_find(hub_t *hub, uint32_t slot);

void hub_method_format_rid(uint64_t call_id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIx64, call_id);
}

hs_err_t hub_method_parse_rid(const char *text, uint64_t *call_id)
{
    if (!text || !call_id)
        return HS_EINVAL;
    size_t n = strlen(text);
    if (n == 0 || n > 16)
        return HS_EPARSE;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return HS_EPARSE;
        v = (v << 4) | d;
    }
    *call_id = v;
    return HS_EOK;
}

static void rid_text(const hub_t *hub, uint64_t rid, char *buf, size_t cap)
{
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_RID_HEX))
        snprintf(buf, cap, "r%" PRIu64, rid);
    else
        hub_method_format_rid(rid, buf, cap);
}

static hs_err_t rid_parse(const hub_t *hub, const char *text, uint64_t *rid)
{
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_RID_HEX)) {
        if (!text || text[0] != 'r')
            return HS_EPARSE;
        char *end;
        unsigned long long v = strtoull(text + 1, &end, 10);
        if (*end || end == text + 1)
            return HS_EPARSE;
        *rid = v;
        return HS_EOK;
    }
    return hub_method_parse_rid(text, rid);
}

static uint32_t deadline_prio(const hub_t *hub)
{
    return hub->cfg.deadline_wins ? SIM_PRIO_DEADLINE : SIM_PRIO_LATE_DEADLINE;
}

static void method_emit(hub_t *hub, const char *outcome, uint64_t rid, uint32_t rec, hub_err_t err,
                        const char *method)
{
    char rs[HUB_RID_CAP];
    hub_method_format_rid(rid, rs, sizeof rs);
    const hub_error_info_t *ei = hub_error_info(err);
    sim_tf_t f[] = { TF_STR("outcome", outcome),
                     TF_STR("id", rec != HUB_NONE ? hub_str(hub, hub->recs[rec].key_off) : ""),
                     TF_STR("rid", rs), TF_STR("method", method ? method : ""),
                     TF_INT("http", ei->http_status), TF_INT("code", ei->code) };
    sim_kernel_emit(hub->k, "hub.method", f, 6);
}

/* ---- slots ------------------------------------------------------------- */

static hub_err_t call_alloc(hub_t *hub, uint32_t *out)
{
    if (hub->call_free != HUB_NONE) {
        *out = hub->call_free;
        hub->call_free = hub->calls[*out].next_free;
        return HUB_EOK;
    }
    if (hub->ncalls > HUB_RID_SLOT_MASK)
        return HUB_ETHROTTLED; /* 16.7 M calls in progress: refuse rather than alias rids */
    if (hub->ncalls == hub->capcalls) {
        uint32_t cap = hub->capcalls ? hub->capcalls * 2 : 16;
        hub_call_t *n = realloc(hub->calls, cap * sizeof *n);
        if (!n)
            return HUB_ESERVER_ERROR;
        hub->calls = n;
        hub->capcalls = cap;
    }
    *out = hub->ncalls++;
    memset(&hub->calls[*out], 0, sizeof hub->calls[*out]);
    return HUB_EOK;
}

static void call_free_slot(hub_t *hub, uint32_t slot)
{
    hub_call_t *c = &hub->calls[slot];
    free(c->name);
    free(c->payload);
    c->name = NULL;
    c->payload = NULL;
    c->rid = 0;
    c->state = HUB_CALL_FREE;
    c->next_free = hub->call_free;
    hub->call_free = slot;
}

/* End a call: bookkeeping first, then the service callback. */
static void call_complete(hub_t *hub, uint32_t slot, hub_err_t err, int device_status,
                          const char *payload, size_t payload_len, hub_ledger_counter_t counter,
                          const char *outcome, bool from_timer)
{
    hub_call_t *c = &hub->calls[slot];
    if (!from_timer && c->timer)
        (void)sim_kernel_cancel(hub->k, c->timer);
    c->timer = 0;
    if (c->handover)
        (void)sim_kernel_cancel(hub->k, c->handover);
    c->handover = 0;
    if (c->state == HUB_CALL_WAIT_CONNECT)
        hub->waiting_connect--;
    uint64_t rid = c->rid;
    uint32_t rec = c->rec;
    hub_method_cb cb = c->cb;
    void *ctx = c->cb_ctx;
    char name[256];
    snprintf(name, sizeof name, "%s", c->name ? c->name : "");
    if (counter == HUB_L_METHOD_TIMEOUT) {
        late_info_t *li = late_slot(hub, slot);
        if (li)
            *li = (late_info_t){ rid, rec, cb, ctx };
    }
    c->state = HUB_CALL_FREE;
    /* While the request is being handed to the device the slot stays
     * reserved; deliver() releases it when the sink returns. */
    if (!c->delivering)
        call_free_slot(hub, slot);
    else
        c->rid = 0;
    hub->in_progress--;
    hub_ledger_add(&hub->ledger, counter, 1);
    method_emit(hub, outcome, rid, rec, err, name);
    if (cb) {
        const hub_error_info_t *ei = hub_error_info(err);
        hub_method_result_t r = { .http_status = ei->http_status,
                                  .error = err,
                                  .device_status = err == HUB_EOK ? device_status : 0,
                                  .payload = err == HUB_EOK ? payload : NULL,
                                  .payload_len = err == HUB_EOK ? payload_len : 0,
                                  .call_id = rid };
        cb(ctx, &r);
    }
}

static void arm_timer(hub_t *hub, uint32_t slot, sim_time_t delay)
{
    hub_call_t *c = &hub->calls[slot];
    sim_time_t now = sim_kernel_now(hub->k);
    sim_time_t at = delay > SIM_TIME_MAX - now ? SIM_TIME_MAX : now + delay;
    if (sim_kernel_at(hub->k, at, deadline_prio(hub), hub->h_method_timer, c->rid, &c->timer) !=
        HS_EOK)
        c->timer = 0;
}

/* Give the request to the identity's live connection (if it is still
 * online for methods: with a dispatch delay it may have left meanwhile, and
 * then the call simply runs into its deadline). */
static void handover(hub_t *hub, uint32_t slot)
{
    hub_call_t *c = &hub->calls[slot];
    uint32_t rec = c->rec;
    if (!hub_conn_methods_online(hub, rec))
        return;
    uint32_t cs = hub->recs[rec].conn - 1;
    const hub_sink_ops_t *ops = hub->conns[cs].ops;
    void *sctx = hub->conns[cs].ctx;
    hub_conn_t handle = hub_conn_handle(hub, cs);
    if (!ops || !ops->method_request)
        return;
    char rs[HUB_RID_CAP];
    rid_text(hub, c->rid, rs, sizeof rs);
    /* Reserve the slot (and its strings) for the duration of the sink call. */
    c->delivering = 1;
    char *name = c->name, *payload = c->payload;
    size_t plen = c->payload_len;
    ops->method_request(sctx, handle, name, rs, payload, plen);
    c = &hub->calls[slot];
    c->delivering = 0;
    if (c->state == HUB_CALL_FREE)
        call_free_slot(hub, slot);
}

static void on_delayed_handover(sim_kernel_t *k, void *ctx, uint64_t rid)
{
    (void)k;
    hub_t *hub = ctx;
    uint32_t slot = (uint32_t)(rid & HUB_RID_SLOT_MASK);
    if (slot < hub->ncalls && hub->calls[slot].rid == rid &&
        hub->calls[slot].state == HUB_CALL_WAIT_RESPONSE) {
        hub->calls[slot].handover = 0;
        handover(hub, slot);
    }
}

/* Start a call's response deadline and hand it to the device (now, or
 * after the method-delay fault's dispatch delay). */
static void deliver(hub_t *hub, uint32_t slot)
{
    hub_call_t *c = &hub->calls[slot];
    uint32_t rec = c->rec;
    if (c->state == HUB_CALL_WAIT_CONNECT) {
        hub->waiting_connect--;
        if (c->timer)
            (void)sim_kernel_cancel(hub->k, c->timer);
        c->timer = 0;
    }
    c->state = HUB_CALL_WAIT_RESPONSE;
    sim_time_t rt = c->response_timeout;
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_504_OBO))
        rt += SIM_SEC;
    arm_timer(hub, slot, rt);
    hub_ledger_add(&hub->ledger, HUB_L_METHOD_DELIVERED, 1);
    method_emit(hub, "delivered", c->rid, rec, HUB_EOK, c->name);
    if (hub->method_delay) {
        if (sim_kernel_after(hub->k, hub->method_delay, SIM_PRIO_DEVICE, hub->h_method_deliver,
                             c->rid, &c->handover) != HS_EOK)
            c->handover = 0;
        return;
    }
    handover(hub, slot);
}

static void on_timer(sim_kernel_t *k, void *ctx, uint64_t rid)
{
    (void)k;
    hub_t *hub = ctx;
    uint32_t slot = (uint32_t)(rid & HUB_RID_SLOT_MASK);
    if (slot >= hub->ncalls || hub->calls[slot].rid != rid || hub->calls[slot].state == HUB_CALL_FREE)
        return;
    hub->calls[slot].timer = 0;
    if (hub->calls[slot].state == HUB_CALL_WAIT_CONNECT) {
        hub_err_t e = hub_faults_on(&hub->faults, HUB_FAULT_METHOD_404_OFFLINE)
                          ? HUB_EDEVICE_NOT_FOUND
                          : HUB_EDEVICE_NOT_ONLINE;
        call_complete(hub, slot, e, 0, NULL, 0, HUB_L_METHOD_OFFLINE_AFTER_WAIT, "offline", true);
    } else {
        hub_err_t e = hub_faults_on(&hub->faults, HUB_FAULT_METHOD_504) ? HUB_EDEVICE_NOT_ONLINE
                                                                         : HUB_EGATEWAY_TIMEOUT;
        call_complete(hub, slot, e, 0, NULL, 0, HUB_L_METHOD_TIMEOUT, "timeout", true);
    }
}

/* ---- late-response memory ---------------------------------------------- */

static late_info_t *late_slot(hub_t *hub, uint32_t slot)
{
    late_table_t *t = (late_table_t *)hub->late;
    if (!t)
        return NULL;
    if (slot >= t->cap) {
        uint32_t cap = t->cap ? t->cap : 16;
        while (cap <= slot)
            cap *= 2;
        late_info_t *n = realloc(t->v, cap * sizeof *n);
        if (!n)
            return NULL;
        memset(n + t->cap, 0, (cap - t->cap) * sizeof *n);
        t->v = n;
        t->cap = cap;
    }
    return &t->v[slot];
}

/* Lookup only: a rid comes from the device and may name any slot, so it must
 * never grow the table (a forged "7fffffff" once cost 600 MB). */
static late_info_t *late_find(hub_t *hub, uint32_t slot)
{
    late_table_t *t = (late_table_t *)hub->late;
    return t && slot < t->cap ? &t->v[slot] : NULL;
}

hs_err_t hub_methods_init(hub_t *hub)
{
    hub->call_free = HUB_NONE;
    hub->late = calloc(1, sizeof(late_table_t));
    if (!hub->late)
        return HS_ENOMEM;
    hub->h_method_timer = sim_kernel_register(hub->k, on_timer, hub);
    hub->h_method_deliver = sim_kernel_register(hub->k, on_delayed_handover, hub);
    return hub->h_method_timer && hub->h_method_deliver ? HS_EOK : HS_ENOMEM;
}

void hub_methods_release(hub_t *hub)
{
    for (uint32_t i = 0; i < hub->ncalls; i++) {
        hub_call_t *c = &hub->calls[i];
        if (c->state != HUB_CALL_FREE && c->timer)
            (void)sim_kernel_cancel(hub->k, c->timer);
        if (c->state != HUB_CALL_FREE && c->handover)
            (void)sim_kernel_cancel(hub->k, c->handover);
        free(c->name);
        free(c->payload);
    }
    free(hub->calls);
    hub->calls = NULL;
    late_table_t *t = (late_table_t *)hub->late;
    if (t)
        free(t->v);
    free(t);
    hub->late = NULL;
}

size_t hub_method_pending(const hub_t *hub)
{
    return hub ? hub->in_progress : 0;
}

/* ---- invoke --------------------------------------------------------------- */

static hub_err_t reject(hub_t *hub, hub_err_t e, hub_ledger_counter_t counter, uint32_t rec,
                        const char *method)
{
    hub_ledger_add(&hub->ledger, counter, 1);
    method_emit(hub, "rejected", 0, rec, e, method);
    return e;
}

static bool payload_is_json(const char *p, size_t len)
{
    json_error_t jerr;
    json_t *v = json_loadb(p, len, JSON_DECODE_ANY, &jerr);
    if (!v)
        return false;
    json_decref(v);
    return true;
}

static bool over_limit(const hub_t *hub, size_t len)
{
    uint64_t max = hub->cfg.methods.max_payload_bytes;
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_PAYLOAD_LIMIT))
        return false;
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_PAYLOAD_LIMIT_OBO))
        return (uint64_t)len >= max;
    return (uint64_t)len > max;
}

hub_err_t hub_method_invoke(hub_t *hub, const hub_method_call_t *call, hub_method_cb cb,
                            void *cb_ctx, uint64_t *call_id)
{
    if (call_id)
        *call_id = 0;
    if (!hub || !call)
        return HUB_EARGUMENT_NULL;
    hub_ledger_add(&hub->ledger, HUB_L_METHOD_INVOKED, 1);
    const char *name = call->method_name;
    if (!call->device_id || !name)
        return reject(hub, HUB_EARGUMENT_NULL, HUB_L_METHOD_REJECTED_ARGUMENT, HUB_NONE, name);

    /* Method name: the direct-methods character rule and the length knob. */
    size_t max_len = hub->cfg.methods.name_max_length;
    if (max_len && hub_faults_on(&hub->faults, HUB_FAULT_METHOD_NAME_LENGTH_OBO))
        max_len++;
    hub_msg_violation_t v;
    memset(&v, 0, sizeof v);
    hub_err_t ne = hub_msg_check_method_name(name, max_len, &v);
    if (ne != HUB_EOK && !(v.ch != 0 && hub_faults_on(&hub->faults, HUB_FAULT_METHOD_NAME_CHARSET)))
        return reject(hub, HUB_EARGUMENT_INVALID, HUB_L_METHOD_REJECTED_ARGUMENT, HUB_NONE, name);

    /* Timeouts: responseTimeoutInSeconds 5..300 (default 30),
     * connectTimeoutInSeconds 0..300 (default 0), whole seconds. */
    const hub_config_methods_t *mc = &hub->cfg.methods;
    int64_t rmin = (int64_t)(mc->response_timeout_min / SIM_SEC);
    int64_t rmax = (int64_t)(mc->response_timeout_max / SIM_SEC);
    int64_t cmax = (int64_t)(mc->connect_timeout_max / SIM_SEC);
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_TIMEOUT_RANGE_OBO)) {
        rmin--;
        rmax++;
        cmax++;
    }
    sim_time_t rt = mc->response_timeout_default;
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_TIMEOUT_DEFAULT))
        rt = 60 * SIM_SEC;
    sim_time_t ct = mc->connect_timeout_default;
    bool any_range = hub_faults_on(&hub->faults, HUB_FAULT_METHOD_TIMEOUT_RANGE);
    if (call->has_response_timeout) {
        int64_t s = call->response_timeout_s;
        if (!any_range && (s < rmin || s > rmax))
            return reject(hub, HUB_EARGUMENT_INVALID, HUB_L_METHOD_REJECTED_ARGUMENT, HUB_NONE, name);
        rt = s <= 0 ? 0 : (s > 86400 ? 86400 : (sim_time_t)s) * SIM_SEC;
    }
    if (call->has_connect_timeout) {
        int64_t s = call->connect_timeout_s;
        if (!any_range && (s < 0 || s > cmax))
            return reject(hub, HUB_EARGUMENT_INVALID, HUB_L_METHOD_REJECTED_ARGUMENT, HUB_NONE, name);
        ct = s <= 0 ? 0 : (s > 86400 ? 86400 : (sim_time_t)s) * SIM_SEC;
    }

    /* Payload: any JSON (absent = null), at most 128 KB of serialized bytes. */
    const char *payload = call->payload ? call->payload : "null";
    size_t plen = call->payload ? call->payload_len : 4;
    if (over_limit(hub, plen) || !payload_is_json(payload, plen))
        return reject(hub, HUB_EARGUMENT_INVALID, HUB_L_METHOD_REJECTED_ARGUMENT, HUB_NONE, name);

    if (!hub_bucket_take(&hub->b_method, sim_kernel_now(hub->k), plen ? plen : 1)) {
        hub_ledger_add(&hub->ledger, HUB_L_THROTTLED_METHOD, 1);
        return reject(hub, HUB_ETHROTTLED, HUB_L_METHOD_REJECTED_ARGUMENT, HUB_NONE, name);
    }

    /* The target identity. */
    const char *mod = (call->module_id && call->module_id[0]) ? call->module_id : NULL;
    uint32_t rec = hub_registry_find(hub, call->device_id, mod);
    if (rec == HUB_NONE || (mod && hub_faults_on(&hub->faults, HUB_FAULT_METHOD_MODULE))) {
        hub_err_t e = HUB_EDEVICE_NOT_FOUND;
        if (mod && hub_registry_find(hub, call->device_id, NULL) != HUB_NONE)
            e = HUB_EMODULE_NOT_FOUND;
        if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_404_UNKNOWN))
            e = HUB_EDEVICE_NOT_ONLINE;
        return reject(hub, e, HUB_L_METHOD_NOT_FOUND, HUB_NONE, name);
    }
    if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_CONCURRENT)) {
        for (uint32_t i = 0; i < hub->ncalls; i++)
            if (hub->calls[i].state != HUB_CALL_FREE && hub->calls[i].rec == rec)
                return reject(hub, HUB_ETHROTTLED, HUB_L_METHOD_REJECTED_ARGUMENT, rec, name);
    }
    bool online = hub_conn_methods_online(hub, rec);
    if (!online && ct == 0) {
        hub_err_t e = hub_faults_on(&hub->faults, HUB_FAULT_METHOD_404_OFFLINE)
                          ? HUB_EDEVICE_NOT_FOUND
                          : HUB_EDEVICE_NOT_ONLINE;
        return reject(hub, e, HUB_L_METHOD_OFFLINE, rec, name);
    }

    uint32_t slot;
    hub_err_t ae = call_alloc(hub, &slot);
    if (ae)
        return reject(hub, ae, HUB_L_METHOD_REJECTED_ARGUMENT, rec, name);
    hub_call_t *c = &hub->calls[slot];
    c->name = strdup(name);
    c->payload = malloc(plen + 1);
    if (!c->name || !c->payload) {
        call_free_slot(hub, slot);
        return HUB_ESERVER_ERROR;
    }
    memcpy(c->payload, payload, plen);
    c->payload[plen] = '\0';
    c->payload_len = plen;
    c->rec = rec;
    c->cb = cb;
    c->cb_ctx = cb_ctx;
    c->response_timeout = rt;
    c->delivering = 0;
    hub->call_seq++;
    c->rid = (hub->call_seq << HUB_RID_SLOT_BITS) | slot;
    uint64_t rid = c->rid;
    if (call_id)
        *call_id = rid;
    hub->in_progress++;
    hub_ledger_add(&hub->ledger, HUB_L_METHOD_ACCEPTED, 1);
    method_emit(hub, "accepted", rid, rec, HUB_EOK, name);
    if (online) {
        deliver(hub, slot);
    } else {
        /* Wait up to connectTimeout for the device to come online. */
        c->state = HUB_CALL_WAIT_CONNECT;
        hub->waiting_connect++;
        if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_CONNECT_WINDOW_OBO))
            ct += SIM_SEC;
        arm_timer(hub, slot, ct);
    }
    return HUB_EOK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void hub_methods_on_online(hub_t *hub, uint32_t rec)
{
    if (!hub->waiting_connect || hub_faults_on(&hub->faults, HUB_FAULT_METHOD_CONNECT_WINDOW))
        return;
    /* Collect first (in call order), then deliver: delivery may re-enter. */
    size_t n = 0;
    for (uint32_t i = 0; i < hub->ncalls; i++)
        if (hub->calls[i].state == HUB_CALL_WAIT_CONNECT && hub->calls[i].rec == rec)
            n++;
    if (!n)
        return;
    uint64_t *rids = malloc(n * sizeof *rids);
    if (!rids)
        return;
    size_t m = 0;
    for (uint32_t i = 0; i < hub->ncalls && m < n; i++)
        if (hub->calls[i].state == HUB_CALL_WAIT_CONNECT && hub->calls[i].rec == rec)
            rids[m++] = hub->calls[i].rid;
    qsort(rids, m, sizeof *rids, cmp_u64);
    for (size_t i = 0; i < m; i++) {
        uint32_t slot = (uint32_t)(rids[i] & HUB_RID_SLOT_MASK);
        if (hub->calls[slot].rid == rids[i] && hub->calls[slot].state == HUB_CALL_WAIT_CONNECT &&
            hub_conn_methods_online(hub, rec))
            deliver(hub, slot);
    }
    free(rids);
}

/* ---- respond -------------------------------------------------------------- */

hub_err_t hub_device_method_respond(hub_t *hub, hub_conn_t conn, const char *rid_s, int status,
                                    const char *payload, size_t payload_len)
{
    hub_conn_slot_t *s = hub_conn_get(hub, conn);
    if (!s)
        return HUB_EUNAUTHORIZED_ACCESS;
    uint32_t rec = s->rec;
    uint64_t rid = 0;
    bool parsed = rid_parse(hub, rid_s, &rid) == HS_EOK;
    uint32_t slot = (uint32_t)(rid & HUB_RID_SLOT_MASK);
    if (parsed && slot < hub->ncalls && hub->calls[slot].rid == rid && rid != 0 &&
        hub->calls[slot].state == HUB_CALL_WAIT_RESPONSE && hub->calls[slot].rec == rec) {
        const char *p = (payload && payload_len) ? payload : "null";
        size_t plen = (payload && payload_len) ? payload_len : 4;
        /* the off-by-one mutant measures the response one byte short */
        size_t rlen = hub_faults_on(&hub->faults, HUB_FAULT_METHOD_RESPONSE_LIMIT_OBO) ? plen - 1 : plen;
        if (over_limit(hub, rlen) || !payload_is_json(p, plen)) {
            bool as_413 = hub->cfg.methods.oversized_response_status == 413 ||
                          hub_faults_on(&hub->faults, HUB_FAULT_METHOD_RESPONSE_LIMIT);
            hub_err_t e = as_413 && over_limit(hub, rlen)
                              ? HUB_EMESSAGE_TOO_LARGE
                              : HUB_EARGUMENT_INVALID;
            hub_ledger_add(&hub->ledger, HUB_L_METHOD_BAD_RESPONSE, 1);
            method_emit(hub, "bad_response", rid, rec, e, hub->calls[slot].name);
            return e;
        }
        int st = hub_faults_on(&hub->faults, HUB_FAULT_METHOD_PASSTHROUGH) ? 200 : status;
        call_complete(hub, slot, HUB_EOK, st, p, plen, HUB_L_METHOD_OK, "ok", false);
        return HUB_EOK;
    }
    late_info_t *li = parsed && rid ? late_find(hub, slot) : NULL;
    if (li && li->rid == rid && li->rec == rec) {
        /* The call already ended 504: the response is dropped and counted. */
        hub_ledger_add(&hub->ledger, HUB_L_METHOD_LATE_RESPONSE, 1);
        method_emit(hub, "late_response", rid, rec, HUB_EOK, "");
        if (hub_faults_on(&hub->faults, HUB_FAULT_METHOD_LATE_RESPONSE) && li->cb) {
            hub_method_result_t r = { .http_status = 200, .error = HUB_EOK, .device_status = status,
                                      .payload = payload, .payload_len = payload_len,
                                      .call_id = rid };
            li->cb(li->ctx, &r);
        } else if (hub->cfg.methods.late_response == HUB_LATE_RESPONSE_CLOSE) {
            hub_conn_drop_rec(hub, rec, HUB_EOK, "late method response",
                              HUB_L_CONN_DROPPED_PROTOCOL);
        }
        return HUB_EOK;
    }
    hub_ledger_add(&hub->ledger, HUB_L_METHOD_UNKNOWN_RID, 1);
    method_emit(hub, "unknown_rid", rid, rec, HUB_EOK, "");
    if (hub->cfg.methods.unknown_rid == HUB_UNKNOWN_RID_CLOSE ||
        hub_faults_on(&hub->faults, HUB_FAULT_METHOD_UNKNOWN_RID))
        hub_conn_drop_rec(hub, rec, HUB_EOK, "method response with unknown rid",
                          HUB_L_CONN_DROPPED_PROTOCOL);
    return HUB_EOK;
}

/* ---- the REST body form ------------------------------------------------- */

hub_err_t hub_method_invoke_json(hub_t *hub, const char *device_id, const char *module_id,
                                 const char *body, size_t body_len, hub_method_cb cb, void *cb_ctx,
                                 uint64_t *call_id)
{
    if (call_id)
        *call_id = 0;
    if (!hub || !device_id || !body)
        return HUB_EARGUMENT_NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(body, body_len, 0, &jerr);
    hub_method_call_t c;
    memset(&c, 0, sizeof c);
    c.device_id = device_id;
    c.module_id = module_id;
    hub_err_t e = HUB_EOK;
    char *payload = NULL;
    json_t *name = doc ? json_object_get(doc, "methodName") : NULL;
    json_t *rt = doc ? json_object_get(doc, "responseTimeoutInSeconds") : NULL;
    json_t *ct = doc ? json_object_get(doc, "connectTimeoutInSeconds") : NULL;
    json_t *pl = doc ? json_object_get(doc, "payload") : NULL;
    /* the mutant takes a fractional timeout for its integer part */
    bool lax = hub_faults_on(&hub->faults, HUB_FAULT_HUB_ARGUMENT_INVALID);
    bool rt_num = json_is_integer(rt) || (lax && json_is_real(rt));
    bool ct_num = json_is_integer(ct) || (lax && json_is_real(ct));
    if (!doc || !json_is_object(doc) || !json_is_string(name) || (rt && !json_is_null(rt) && !rt_num) ||
        (ct && !json_is_null(ct) && !ct_num)) {
        e = HUB_EARGUMENT_INVALID;
    } else {
        c.method_name = json_string_value(name);
        if (rt_num) {
            c.has_response_timeout = true;
            c.response_timeout_s = json_is_real(rt) ? (int64_t)json_real_value(rt) : json_integer_value(rt);
        }
        if (ct_num) {
            c.has_connect_timeout = true;
            c.connect_timeout_s = json_is_real(ct) ? (int64_t)json_real_value(ct) : json_integer_value(ct);
        }
        if (pl) {
            /* The payload is measured as the compact serialization the device receives. */
            payload = json_dumps(pl, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!payload)
                e = HUB_ESERVER_ERROR;
            c.payload = payload;
            c.payload_len = payload ? strlen(payload) : 0;
        }
    }
    if (e == HUB_EOK)
        e = hub_method_invoke(hub, &c, cb, cb_ctx, call_id);
    else
        reject(hub, e, HUB_L_METHOD_REJECTED_ARGUMENT, HUB_NONE, "");
    free(payload);
    json_decref(doc);
    return e;
}
