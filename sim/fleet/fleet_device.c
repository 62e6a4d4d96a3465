/* Virtual device behaviour: connect with backoff, telemetry over a latent link, method, C2D and twin handling.
 *
 * Every device draws only from its own stream, in a fixed order per event,
 * so a device's life does not depend on how many other devices exist.
 * Timers carry (device, epoch) in their argument: a drop or reconnect bumps
 * the epoch, and a timer from an older connection finds a mismatch and does
 * nothing, which is cheaper than cancelling it.  Telemetry, outage and
 * periodic-twin timers run for the whole scenario whatever the connection
 * state (a device keeps producing data while offline; what it cannot send is
 * counted as skipped).
 */
#include "fleet_internal.h"

#include <stdlib.h>
#include <string.h>


const char *fleet_device_id(struct fleet *f, uint32_t dev, char *buf, size_t cap)
{
    scenario_id_format(&f->id_formats[f->devices[dev].group], fleet_device_n(f, dev), buf, cap);
    return buf;
}

static const scn_group_t *group_of(struct fleet *f, uint32_t dev)
{
    return &f->s->groups[f->devices[dev].group];
}

static void schedule_dev(struct fleet *f, sim_time_t delay, uint32_t handler, uint32_t dev)
{
    sim_kernel_after(f->k, delay, SIM_PRIO_DEVICE, handler, fleet_ev_arg(dev, f->devices[dev].epoch),
                     NULL);
}

static sim_time_t backoff_delay(struct fleet *f, uint32_t dev)
{
    const scn_connectivity_t *c = &group_of(f, dev)->connectivity;
    fleet_device_t *d = &f->devices[dev];
    double delay = (double)c->backoff_initial;
    for (unsigned i = 1; i < d->failures && delay < (double)c->backoff_max; i++)
        delay *= c->backoff_multiplier;
    if (delay > (double)c->backoff_max)
        delay = (double)c->backoff_max;
    double u = sim_rng_unit(&d->rng);
    delay *= 1.0 - c->backoff_jitter / 2.0 + c->backoff_jitter * u;
    return delay > 0 ? (sim_time_t)delay : 0;
}

static void go_offline(struct fleet *f, uint32_t dev)
{
    fleet_device_t *d = &f->devices[dev];
    bool was_online = d->state == DEV_ONLINE;
    if (was_online)
        f->online--;
    d->state = DEV_OFFLINE;
    d->conn = 0;
    d->epoch++;
    if (f->gateways)
        fleet_gateway_offline(f, dev, was_online);
}

static void schedule_reconnect(struct fleet *f, uint32_t dev)
{
    fleet_device_t *d = &f->devices[dev];
    if (d->hold)
        return;
    schedule_dev(f, backoff_delay(f, dev), f->h_connect, dev);
}

static void do_connect(struct fleet *f, uint32_t dev)
{
    fleet_device_t *d = &f->devices[dev];
    char id[HUB_CONFIG_ID_MAX + 1];
    fleet_device_id(f, dev, id, sizeof id);
    /* Draw the misbehaviour dice every time, in a fixed order, so changing
     * one probability does not shift the device's other draws. */
    double u_bad = sim_rng_unit(&d->rng), u_expired = sim_rng_unit(&d->rng);
    const scn_misbehaviour_t *mb = &group_of(f, dev)->misbehaviour;
    f->conn_attempts++;
    d->state = DEV_CONNECTING;
    bool bad = u_bad < mb->p_bad_sas, expired = u_expired < mb->p_expired_sas;
    if (f->gateways && fleet_gateway_connect(f, dev, id, bad, expired))
        return; /* a leaf: through its gateway's connection */
    f->port->connect(f->port_ctx, dev, id, bad, expired);
}

void fleet_port_connected(struct fleet *f, uint32_t dev, fleet_port_result_t r)
{
    fleet_device_t *d = &f->devices[dev];
    const scn_group_t *g = group_of(f, dev);
    if (d->state != DEV_CONNECTING)
        return; /* a late answer for a connect the fleet gave up on */
    if (r.code != 0) {
        char code[16];
        f->conn_failed++;
        f->errors++;
        fleet_countf(f, 1, "conn.failed.%s", fleet_code_text(r.code, code, sizeof code));
        if (f->port->live && r.code / 1000 == 429)
            fleet_count(f, "throttled", 1);
        d->state = DEV_OFFLINE;
        if (d->failures < 250)
            d->failures++;
        if (r.code == FLEET_PORT_UNSUPPORTED && fleet_is_leaf(f, dev)) {
            d->hold = (uint8_t)(d->hold | HOLD_GATEWAY); /* retried when its gateway reconnects */
            return;
        }
        schedule_reconnect(f, dev);
        return;
    }
    f->conn_ok++;
    d->state = DEV_ONLINE;
    d->failures = 0;
    d->epoch++;
    if (++f->online > f->online_max)
        f->online_max = f->online;
    if (d->hold) {
        /* held while the connect was under way (live ports only) */
        f->port->disconnect(f->port_ctx, dev);
        f->conn_closed_by_device++;
        d->state = DEV_OFFLINE;
        f->online--;
        d->epoch++;
        return;
    }
    unsigned subs = 0;
    for (size_t i = 0; i < g->nmethods; i++)
        if (g->methods[i].subscribed)
            subs |= HUB_SUB_METHODS;
    if (g->c2d.subscribed)
        subs |= HUB_SUB_C2D;
    if (g->twin.report_on_desired)
        subs |= HUB_SUB_DESIRED;
    if (subs)
        f->port->subscribe(f->port_ctx, dev, subs);
    if (f->gateways)
        fleet_gateway_online(f, dev);
}

void fleet_port_subscribed(struct fleet *f, uint32_t dev, fleet_port_result_t r)
{
    (void)dev;
    if (r.code != 0)
        fleet_count(f, "conn.subscribe_failed", 1);
}

static void on_connect(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32);
    fleet_device_t *d = &f->devices[dev];
    if (d->epoch != (uint32_t)arg || d->state != DEV_OFFLINE || d->hold)
        return;
    do_connect(f, dev);
}

/* ---- telemetry ------------------------------------------------------------- */

static uint32_t inflight_alloc(struct fleet *f)
{
    if (f->inflight_free == NO_FREE) {
        uint32_t cap = f->inflight_cap ? f->inflight_cap * 2 : 1024;
        inflight_t *n = realloc(f->inflight, cap * sizeof *n);
        if (!n)
            return NO_FREE;
        for (uint32_t i = cap; i-- > f->inflight_cap;) {
            n[i].next_free = f->inflight_free;
            f->inflight_free = i;
        }
        f->inflight = n;
        f->inflight_cap = cap;
    }
    uint32_t slot = f->inflight_free;
    f->inflight_free = f->inflight[slot].next_free;
    return slot;
}

static void send_one(struct fleet *f, uint32_t dev, sim_time_t extra_delay)
{
    fleet_device_t *d = &f->devices[dev];
    f->d2c_sent++;
    if (d->state != DEV_ONLINE) {
        f->d2c_skipped_offline++;
        return;
    }
    uint32_t slot = inflight_alloc(f);
    if (slot == NO_FREE) {
        fleet_count(f, "fleet.out_of_memory", 1);
        return;
    }
    f->inflight[slot] = (inflight_t){ dev, d->seq++, sim_kernel_now(f->k), NO_FREE };
    sim_time_t lat = scn_dist_draw(&group_of(f, dev)->link_latency, &d->rng);
    if (f->port->live)
        lat = 0; /* the real network is the link */
    sim_kernel_after(f->k, lat + extra_delay, SIM_PRIO_DEVICE, f->h_arrive, slot, NULL);
}

static void schedule_telemetry(struct fleet *f, uint32_t dev, uint32_t next_index)
{
    const scn_telemetry_t *t = &group_of(f, dev)->telemetry;
    fleet_device_t *d = &f->devices[dev];
    if (t->nschedule) {
        if (next_index >= t->nschedule)
            return;
        sim_time_t at = t->schedule[next_index];
        sim_time_t now = sim_kernel_now(f->k);
        sim_kernel_at(f->k, at > now ? at : now, SIM_PRIO_DEVICE, f->h_telemetry,
                      fleet_ev_arg(dev, next_index), NULL);
        return;
    }
    sim_time_t gap = scn_dist_draw(&t->interval, &d->rng);
    if (gap == 0)
        gap = SIM_MS; /* never a zero-gap loop */
    sim_kernel_after(f->k, gap, SIM_PRIO_DEVICE, f->h_telemetry, fleet_ev_arg(dev, next_index), NULL);
}

static void on_telemetry(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32), index = (uint32_t)arg;
    const scn_telemetry_t *t = &group_of(f, dev)->telemetry;
    fleet_device_t *d = &f->devices[dev];
    uint64_t burst = 1;
    double u = sim_rng_unit(&d->rng);
    if (u < t->burst_probability) {
        burst = scn_dist_draw(&t->burst_size, &d->rng);
        if (burst == 0)
            burst = 1;
    }
    sim_time_t offset = 0;
    for (uint64_t i = 0; i < burst; i++) {
        send_one(f, dev, offset);
        offset += scn_dist_draw(&t->burst_gap, &d->rng);
    }
    schedule_telemetry(f, dev, index + 1);
}

/* Append text / a decimal number at w (bounded by cap, always terminated).
 * Inlined, strlen of a literal folds to a constant. */
static inline size_t append(char *buf, size_t w, size_t cap, const char *text)
{
    size_t n = strlen(text);
    if (n > cap - 1 - w)
        n = cap - 1 - w;
    memcpy(buf + w, text, n);
    w += n;
    buf[w] = 0;
    return w;
}

static size_t append_u64(char *buf, size_t w, size_t cap, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && w + 1 < cap)
        buf[w++] = tmp[--n];
    buf[w] = 0;
    return w;
}

/* Expand {device} {seq} {time} {rand:N} into out. */
static size_t expand_template(struct fleet *f, uint32_t dev, uint32_t seq, const char *tpl,
                              char *out, size_t cap)
{
    size_t w = 0;
    char id[HUB_CONFIG_ID_MAX + 1];
    for (const char *p = tpl; *p && w + 1 < cap; p++) {
        const char *sub = NULL;
        char tmp[64];
        size_t skip = 0;
        if (*p == '{') {
            if (!strncmp(p, "{device}", 8)) {
                sub = fleet_device_id(f, dev, id, sizeof id);
                skip = 7;
            } else if (!strncmp(p, "{seq}", 5)) {
                append_u64(tmp, 0, sizeof tmp, seq);
                sub = tmp;
                skip = 4;
            } else if (!strncmp(p, "{time}", 6)) {
                sim_utc_format(sim_kernel_epoch(f->k), sim_kernel_now(f->k), tmp, sizeof tmp);
                sub = tmp;
                skip = 5;
            } else if (!strncmp(p, "{rand:", 6)) {
                char *end;
                unsigned long n = strtoul(p + 6, &end, 10);
                if (*end == '}' && n > 0 && n < sizeof tmp) {
                    for (unsigned long i = 0; i < n; i++)
                        tmp[i] = "0123456789abcdef"[sim_rng_below(&f->devices[dev].rng, 16)];
                    tmp[n] = 0;
                    sub = tmp;
                    skip = (size_t)(end - p);
                }
            }
        }
        if (sub) {
            size_t n = strlen(sub);
            if (n > cap - 1 - w)
                n = cap - 1 - w;
            memcpy(out + w, sub, n);
            w += n;
            p += skip;
        } else {
            out[w++] = *p;
        }
    }
    out[w] = 0;
    return w;
}

static hub_msg_t *build_message(struct fleet *f, const inflight_t *m)
{
    uint32_t dev = m->dev;
    const scn_group_t *g = group_of(f, dev);
    const scn_telemetry_t *t = &g->telemetry;
    fleet_device_t *d = &f->devices[dev];
    double u_big = sim_rng_unit(&d->rng), u_badprop = sim_rng_unit(&d->rng),
           u_spoof = sim_rng_unit(&d->rng);
    char id[HUB_CONFIG_ID_MAX + 1];
    fleet_device_id(f, dev, id, sizeof id);
    char head[1024];
    size_t head_len;
    if (t->payload_template)
        head_len = expand_template(f, dev, m->seq, t->payload_template, head, sizeof head);
    else {
        /* Hand-assembled: this runs for every message of a million-device run. */
        size_t w = append(head, 0, sizeof head, "{\"deviceId\":\"");
        w = append(head, w, sizeof head, id);
        w = append(head, w, sizeof head, "\",\"seq\":");
        w = append_u64(head, w, sizeof head, m->seq);
        w = append(head, w, sizeof head, ",\"temperature\":");
        w = append_u64(head, w, sizeof head, 15 + sim_rng_below(&d->rng, 20));
        w = append(head, w, sizeof head, ".");
        head_len = append_u64(head, w, sizeof head, sim_rng_below(&d->rng, 10));
    }
    uint64_t size = t->payload_size;
    if (u_big < g->misbehaviour.p_oversized)
        size = g->misbehaviour.oversized_size;
    if (size < head_len + (t->payload_template ? 0 : 1))
        size = head_len + (t->payload_template ? 0 : 1);
    if (size > SIZE_MAX / 2)
        return NULL;
    /* The body is written straight into the message's own allocation. */
    void *room;
    hub_msg_t *msg = hub_msg_new_with_body((size_t)size, &room);
    if (!msg)
        return NULL;
    char *body = room;
    if (size) /* a template may expand to nothing */
        memcpy(body, head, head_len);
    if (!t->payload_template) {
        /* generated JSON: pad inside a "pad" string so the body stays JSON */
        size_t w = head_len;
        if (size >= head_len + 10) {
            memcpy(body + w, ",\"pad\":\"", 8);
            w += 8;
            memset(body + w, 'x', size - 2 - w);
            w = size - 2;
            body[w++] = '"';
        }
        memset(body + w, ' ', size - 1 - w);
        body[size - 1] = '}';
    } else if (size > head_len) {
        memset(body + head_len, ' ', size - head_len);
    }
    if (t->content_type)
        hub_msg_set_sys(msg, HUB_SYS_CONTENT_TYPE, t->content_type);
    if (t->content_encoding)
        hub_msg_set_sys(msg, HUB_SYS_CONTENT_ENCODING, t->content_encoding);
    char buf[512];
    size_t len;
    if (t->message_id) {
        len = expand_template(f, dev, m->seq, t->message_id, buf, sizeof buf);
    } else { /* the default "{device}-{seq}", without the template walk */
        size_t w = append(buf, 0, sizeof buf, id);
        w = append(buf, w, sizeof buf, "-");
        len = append_u64(buf, w, sizeof buf, m->seq);
    }
    hub_msg_set_sys_len(msg, HUB_SYS_MESSAGE_ID, buf, len);
    for (size_t i = 0; i < t->nsys_props; i++) {
        hub_msg_sys_t sys;
        if (hub_msg_sys_lookup(t->sys_props[i].name, &sys) != HS_EOK)
            continue;
        len = expand_template(f, dev, m->seq, t->sys_props[i].value, buf, sizeof buf);
        hub_msg_set_sys_len(msg, sys, buf, len);
    }
    for (size_t i = 0; i < t->napp_props; i++) {
        len = expand_template(f, dev, m->seq, t->app_props[i].value, buf, sizeof buf);
        hub_msg_add_app_len(msg, t->app_props[i].name, strlen(t->app_props[i].name), buf, len);
    }
    if (u_badprop < g->misbehaviour.p_bad_property)
        hub_msg_add_app(msg, "bad(name)", "value with spaces");
    if (u_spoof < g->misbehaviour.p_spoof)
        hub_msg_set_sys(msg, HUB_SYS_CONNECTION_DEVICE_ID, "spoofed-device");
    return msg;
}

static void on_arrive(sim_kernel_t *k, void *ctx, uint64_t slot)
{
    (void)k;
    struct fleet *f = ctx;
    inflight_t m = f->inflight[slot];
    f->inflight[slot].next_free = f->inflight_free;
    f->inflight_free = (uint32_t)slot;
    fleet_device_t *d = &f->devices[m.dev];
    if (d->state != DEV_ONLINE) {
        f->d2c_lost_offline++; /* the connection went down while it was on the wire */
        return;
    }
    if (f->hub)
        hub_prefetch_conn(f->hub, d->conn); /* overlaps the hub's misses with building the message */
    hub_msg_t *msg = build_message(f, &m);
    if (!msg) {
        fleet_count(f, "fleet.out_of_memory", 1);
        return;
    }
    f->arriving = &m;
    f->port->send(f->port_ctx, m.dev, msg, (uint64_t)m.created);
    f->arriving = NULL;
}

void fleet_port_sent(struct fleet *f, uint32_t dev, uint64_t tag, fleet_port_result_t r)
{
    (void)dev;
    if (r.code == 0) {
        f->d2c_accepted++;
        if (f->port->live) /* no endpoint view: latency is send to acknowledgement */
            report_hist_record(f->d2c_latency, sim_kernel_now(f->k) - (sim_time_t)tag);
    } else {
        char code[16];
        f->d2c_rejected++;
        f->errors++;
        fleet_countf(f, 1, "d2c.rejected.%s", fleet_code_text(r.code, code, sizeof code));
        if (f->port->live && r.code / 1000 == 429)
            fleet_count(f, "throttled", 1);
    }
}

/* ---- what the hub delivers to a device ------------------------------------------- */

void fleet_port_disconnected(struct fleet *f, uint32_t dev, fleet_port_result_t r)
{
    char code[16];
    f->conn_dropped_by_hub++;
    fleet_countf(f, 1, "conn.dropped.%s", fleet_code_text(r.code, code, sizeof code));
    go_offline(f, dev);
    schedule_reconnect(f, dev);
}

static uint32_t answer_alloc(struct fleet *f)
{
    if (f->answers_free == NO_FREE) {
        uint32_t cap = f->answers_cap ? f->answers_cap * 2 : 256;
        answer_t *n = realloc(f->answers, cap * sizeof *n);
        if (!n)
            return NO_FREE;
        for (uint32_t i = cap; i-- > f->answers_cap;) {
            n[i].next_free = f->answers_free;
            f->answers_free = i;
        }
        f->answers = n;
        f->answers_cap = cap;
    }
    uint32_t slot = f->answers_free;
    f->answers_free = f->answers[slot].next_free;
    return slot;
}

/* The tag of a method answer: its handler (UINT32_MAX: none); the unknown-rid misbehaviour's has this. */
#define TAG_UNKNOWN_RID UINT64_MAX

void fleet_port_method_request(struct fleet *f, uint32_t dev, const char *name, const char *rid)
{
    fleet_device_t *d = &f->devices[dev];
    const scn_group_t *g = group_of(f, dev);
    double u_silent = sim_rng_unit(&d->rng), u_rid = sim_rng_unit(&d->rng);
    uint32_t h = UINT32_MAX;
    for (size_t i = 0; i < g->nmethods; i++)
        if (strcmp(g->methods[i].method, name) == 0)
            h = (uint32_t)i;
    uint32_t slot = answer_alloc(f);
    if (slot == NO_FREE)
        return;
    answer_t *a = &f->answers[slot];
    *a = (answer_t){ .dev = dev, .epoch = d->epoch, .handler = h, .next_free = NO_FREE };
    snprintf(a->rid, sizeof a->rid, "%s", rid);
    sim_time_t delay = scn_dist_draw(&g->link_latency, &d->rng);
    if (h == UINT32_MAX) {
        /* No handler: the SDKs answer 501 "not implemented". */
        fleet_countf(f, 1, "device.method.%s.unhandled", name);
        a->status = 501;
        a->size = 0;
    } else {
        const scn_method_handler_t *mh = &g->methods[h];
        if (u_silent < mh->p_no_answer) {
            fleet_countf(f, 1, "device.method.%s.silent", name);
            a->next_free = f->answers_free;
            f->answers_free = slot;
            return;
        }
        a->status = mh->status;
        a->size = mh->response_size;
        delay += scn_dist_draw(&mh->latency, &d->rng);
    }
    sim_kernel_after(f->k, delay, SIM_PRIO_DEVICE, f->h_answer, slot, NULL);
    if (u_rid < g->misbehaviour.p_unknown_rid && d->state == DEV_ONLINE) {
        fleet_count(f, "device.method.unknown_rid_sent", 1);
        f->port->respond(f->port_ctx, dev, "ffffffffffff", 200, "null", 4, TAG_UNKNOWN_RID);
    }
}

static void on_answer(sim_kernel_t *k, void *ctx, uint64_t slot)
{
    (void)k;
    struct fleet *f = ctx;
    answer_t a = f->answers[slot];
    f->answers[slot].next_free = f->answers_free;
    f->answers_free = (uint32_t)slot;
    fleet_device_t *d = &f->devices[a.dev];
    const char *name = a.handler == UINT32_MAX ? "unhandled" : group_of(f, a.dev)->methods[a.handler].method;
    if (d->state != DEV_ONLINE) {
        fleet_countf(f, 1, "device.method.%s.answer_lost_offline", name);
        return;
    }
    char small[64];
    char *payload = small;
    size_t len;
    if (a.size <= 2) {
        len = (size_t)snprintf(small, sizeof small, "null");
    } else {
        payload = malloc(a.size + 1);
        if (!payload)
            return;
        memcpy(payload, "{\"r\":\"", 6);
        size_t w = 6;
        while (w + 2 < a.size)
            payload[w++] = 'x';
        payload[w++] = '"';
        payload[w++] = '}';
        len = w;
        if (a.size < 8)
            len = (size_t)snprintf(payload, a.size + 1, "%s", "0");
    }
    f->port->respond(f->port_ctx, a.dev, a.rid, a.status, payload, len, a.handler);
    if (payload != small)
        free(payload);
}

void fleet_port_responded(struct fleet *f, uint32_t dev, uint64_t tag, fleet_port_result_t r)
{
    if (tag == TAG_UNKNOWN_RID)
        return;
    const char *name = tag == UINT32_MAX ? "unhandled" : group_of(f, dev)->methods[tag].method;
    char code[16];
    if (r.code != 0)
        fleet_countf(f, 1, "device.method.%s.respond_failed.%s", name, fleet_code_text(r.code, code, sizeof code));
    else
        fleet_countf(f, 1, "device.method.%s.answered", name);
}

void fleet_port_c2d_available(struct fleet *f, uint32_t dev)
{
    fleet_device_t *d = &f->devices[dev];
    schedule_dev(f, scn_dist_draw(&group_of(f, dev)->link_latency, &d->rng), f->h_c2d_receive, dev);
}

static void on_c2d_receive(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32);
    fleet_device_t *d = &f->devices[dev];
    if (d->epoch != (uint32_t)arg || d->state != DEV_ONLINE)
        return;
    char lock[sizeof f->settles[0].token];
    if (!f->port->c2d_receive(f->port_ctx, dev, lock, sizeof lock))
        return;
    fleet_count(f, "device.c2d.received", 1);
    if (f->gateways)
        fleet_gateway_c2d_received(f, dev);
    const scn_c2d_behaviour_t *b = &group_of(f, dev)->c2d;
    double u = sim_rng_unit(&d->rng);
    uint32_t action;
    if (u < b->p_complete)
        action = SETTLE_COMPLETE;
    else if (u < b->p_complete + b->p_reject)
        action = SETTLE_REJECT;
    else if (u < b->p_complete + b->p_reject + b->p_abandon)
        action = SETTLE_ABANDON;
    else {
        fleet_count(f, "device.c2d.ignored", 1); /* the lock will expire */
        return;
    }
    if (f->settles_free == NO_FREE) {
        uint32_t cap = f->settles_cap ? f->settles_cap * 2 : 256;
        settle_t *n = realloc(f->settles, cap * sizeof *n);
        if (!n)
            return;
        for (uint32_t i = cap; i-- > f->settles_cap;) {
            n[i].next_free = f->settles_free;
            f->settles_free = i;
        }
        f->settles = n;
        f->settles_cap = cap;
    }
    uint32_t slot = f->settles_free;
    settle_t *st = &f->settles[slot];
    f->settles_free = st->next_free;
    st->dev = dev;
    st->epoch = d->epoch;
    st->action = action;
    st->next_free = NO_FREE;
    memcpy(st->token, lock, sizeof st->token);
    sim_kernel_after(f->k, scn_dist_draw(&b->processing_delay, &d->rng), SIM_PRIO_DEVICE,
                     f->h_c2d_settle, slot, NULL);
}

static void on_c2d_settle(sim_kernel_t *k, void *ctx, uint64_t slot)
{
    (void)k;
    struct fleet *f = ctx;
    settle_t st = f->settles[slot];
    f->settles[slot].next_free = f->settles_free;
    f->settles_free = (uint32_t)slot;
    fleet_device_t *d = &f->devices[st.dev];
    if (d->epoch != st.epoch || d->state != DEV_ONLINE) {
        fleet_count(f, "device.c2d.settle_lost_offline", 1);
        return;
    }
    f->port->c2d_settle(f->port_ctx, st.dev, st.token, st.action);
}

void fleet_port_settled(struct fleet *f, uint32_t dev, unsigned how, fleet_port_result_t r)
{
    (void)dev;
    static const char *const names[] = { "completed", "rejected", "abandoned" };
    char code[16];
    if (r.code == 0)
        fleet_countf(f, 1, "device.c2d.%s", names[how % 3]);
    else
        fleet_countf(f, 1, "device.c2d.settle_failed.%s", fleet_code_text(r.code, code, sizeof code));
}

void fleet_port_desired(struct fleet *f, uint32_t dev)
{
    fleet_device_t *d = &f->devices[dev];
    fleet_count(f, "device.twin.desired_received", 1);
    const scn_twin_behaviour_t *t = &group_of(f, dev)->twin;
    if (t->report_on_desired)
        schedule_dev(f, scn_dist_draw(&t->report_delay, &d->rng), f->h_twin_report, dev);
}

static void report_twin(struct fleet *f, uint32_t dev)
{
    fleet_device_t *d = &f->devices[dev];
    const scn_twin_behaviour_t *t = &group_of(f, dev)->twin;
    if (d->state != DEV_ONLINE) {
        fleet_count(f, "device.twin.report_skipped_offline", 1);
        return;
    }
    char buf[256];
    size_t want = t->reported_size;
    char *patch = buf;
    int n = snprintf(buf, sizeof buf, "{\"seq\":%u,\"firmware\":\"1.0.%u\"}", d->seq, d->epoch);
    size_t len = (size_t)n;
    if (want > len + 12) {
        patch = malloc(want + 1);
        if (!patch)
            return;
        size_t w = (size_t)snprintf(patch, want + 1, "{\"seq\":%u,\"pad\":\"", d->seq);
        while (w + 2 < want)
            patch[w++] = 'p';
        patch[w++] = '"';
        patch[w++] = '}';
        len = w;
    }
    f->port->report(f->port_ctx, dev, patch, len);
    if (patch != buf)
        free(patch);
}

void fleet_port_reported(struct fleet *f, uint32_t dev, fleet_port_result_t r)
{
    (void)dev;
    char code[16];
    if (r.code == 0)
        fleet_count(f, "device.twin.reported_accepted", 1);
    else {
        f->errors++;
        fleet_countf(f, 1, "device.twin.reported_rejected.%s", fleet_code_text(r.code, code, sizeof code));
        if (f->port->live && r.code / 1000 == 429)
            fleet_count(f, "throttled", 1);
    }
}

static void on_twin_report(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32);
    if (f->devices[dev].epoch != (uint32_t)arg)
        return;
    report_twin(f, dev);
}

static void on_twin_periodic(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32);
    const scn_twin_behaviour_t *t = &group_of(f, dev)->twin;
    report_twin(f, dev);
    sim_kernel_after(f->k, scn_dist_draw(&t->periodic_interval, &f->devices[dev].rng) + SIM_MS,
                     SIM_PRIO_DEVICE, f->h_twin_periodic, arg, NULL);
}

/* ---- holds: offline windows, outages, registry --------------------------------- */

void fleet_device_hold(struct fleet *f, uint32_t dev, unsigned bit, bool on)
{
    fleet_device_t *d = &f->devices[dev];
    if (on) {
        unsigned before = d->hold;
        d->hold = (uint8_t)(d->hold | bit);
        if (!before && d->state == DEV_ONLINE) {
            f->port->disconnect(f->port_ctx, dev);
            f->conn_closed_by_device++;
            go_offline(f, dev);
        }
        return;
    }
    d->hold = (uint8_t)(d->hold & ~bit);
    if (!d->hold && d->state == DEV_OFFLINE) {
        d->failures = 0;
        d->epoch++;
        schedule_dev(f, 0, f->h_connect, dev);
    }
}

void fleet_device_drop(struct fleet *f, uint32_t dev, const char *why)
{
    fleet_device_t *d = &f->devices[dev];
    if (d->state != DEV_ONLINE)
        return;
    f->port->disconnect(f->port_ctx, dev);
    f->conn_closed_by_device++;
    fleet_countf(f, 1, "conn.closed.%s", why);
    go_offline(f, dev);
    schedule_reconnect(f, dev);
}

static void on_outage_start(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32);
    const scn_connectivity_t *c = &group_of(f, dev)->connectivity;
    fleet_count(f, "device.outages", 1);
    fleet_device_hold(f, dev, HOLD_OUTAGE, true);
    sim_kernel_after(f->k, scn_dist_draw(&c->time_to_repair, &f->devices[dev].rng), SIM_PRIO_DEVICE,
                     f->h_outage_end, arg, NULL);
}

static void on_outage_end(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32);
    const scn_connectivity_t *c = &group_of(f, dev)->connectivity;
    fleet_device_hold(f, dev, HOLD_OUTAGE, false);
    sim_kernel_after(f->k, scn_dist_draw(&c->time_between_failures, &f->devices[dev].rng) + SIM_MS,
                     SIM_PRIO_DEVICE, f->h_outage_start, arg, NULL);
}

/* Group-wide events carry (group << 32 | window << 1 | is_end) or (group << 32 | storm). */
static void on_window(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t g = (uint32_t)(arg >> 32);
    bool end = arg & 1;
    for (uint64_t i = 0; i < f->group_count[g]; i++)
        fleet_device_hold(f, (uint32_t)(f->group_first[g] + i), HOLD_WINDOW, !end);
}

static void on_storm(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t g = (uint32_t)(arg >> 32);
    fleet_count(f, "fleet.storms", 1);
    for (uint64_t i = 0; i < f->group_count[g]; i++)
        fleet_device_drop(f, (uint32_t)(f->group_first[g] + i), "storm");
}

/* ---- prefetch hints: start loading the next event's device ------------------------ */

static void prefetch_device(const struct fleet *f, uint32_t dev)
{
    if (dev < f->ndevices) {
        const char *p = (const char *)&f->devices[dev];
        __builtin_prefetch(p);
        __builtin_prefetch(p + sizeof(fleet_device_t) - 1);
    }
}

static void prefetch_by_dev(void *ctx, uint64_t arg)
{
    prefetch_device(ctx, (uint32_t)(arg >> 32));
}

/* A pipeline over the kernel's two hints: when the event's time bucket loads
 * (a bucket of events ahead) the device record is fetched; just before the
 * event fires the record is in cache and its hub connection slot is fetched;
 * the handler then fetches the identity behind the slot (hub_prefetch_conn). */
static void preload_arrive(void *ctx, uint64_t slot)
{
    const struct fleet *f = ctx;
    if (slot < f->inflight_cap)
        prefetch_device(f, f->inflight[slot].dev);
}

static void prefetch_arrive(void *ctx, uint64_t slot)
{
    const struct fleet *f = ctx;
    if (slot < f->inflight_cap && f->inflight[slot].dev < f->ndevices)
        hub_prefetch_conn_slot(f->hub, f->devices[f->inflight[slot].dev].conn);
}

/* ---- start ---------------------------------------------------------------------- */

void fleet_device_handlers(struct fleet *f)
{
    f->h_connect = sim_kernel_register(f->k, on_connect, f);
    f->h_telemetry = sim_kernel_register(f->k, on_telemetry, f);
    f->h_arrive = sim_kernel_register(f->k, on_arrive, f);
    sim_kernel_set_prefetch(f->k, f->h_connect, prefetch_by_dev);
    sim_kernel_set_prefetch(f->k, f->h_telemetry, prefetch_by_dev);
    sim_kernel_set_prefetch(f->k, f->h_arrive, prefetch_arrive);
    sim_kernel_set_preload(f->k, f->h_connect, prefetch_by_dev);
    sim_kernel_set_preload(f->k, f->h_telemetry, prefetch_by_dev);
    sim_kernel_set_preload(f->k, f->h_arrive, preload_arrive);
    f->h_outage_start = sim_kernel_register(f->k, on_outage_start, f);
    f->h_outage_end = sim_kernel_register(f->k, on_outage_end, f);
    f->h_window = sim_kernel_register(f->k, on_window, f);
    f->h_storm = sim_kernel_register(f->k, on_storm, f);
    f->h_answer = sim_kernel_register(f->k, on_answer, f);
    f->h_c2d_receive = sim_kernel_register(f->k, on_c2d_receive, f);
    f->h_c2d_settle = sim_kernel_register(f->k, on_c2d_settle, f);
    f->h_twin_report = sim_kernel_register(f->k, on_twin_report, f);
    f->h_twin_periodic = sim_kernel_register(f->k, on_twin_periodic, f);
}

void fleet_device_start(struct fleet *f, uint32_t dev)
{
    fleet_device_t *d = &f->devices[dev];
    const scn_group_t *g = group_of(f, dev);
    const scn_connectivity_t *c = &g->connectivity;
    sim_time_t first = c->connect_at + (c->connect_spread ? sim_rng_below(&d->rng, c->connect_spread) : 0);
    if (fleet_is_leaf(f, dev))
        d->hold = (uint8_t)(d->hold | HOLD_GATEWAY); /* until its gateway is online */
    sim_kernel_at(f->k, first, SIM_PRIO_DEVICE, f->h_connect, fleet_ev_arg(dev, d->epoch), NULL);
    if (g->telemetry.enabled) {
        if (g->telemetry.nschedule)
            schedule_telemetry(f, dev, 0);
        else
            sim_kernel_at(f->k, first + scn_dist_draw(&g->telemetry.interval, &d->rng) + SIM_MS,
                          SIM_PRIO_DEVICE, f->h_telemetry, fleet_ev_arg(dev, 0), NULL);
    }
    if (c->outages)
        sim_kernel_at(f->k, first + scn_dist_draw(&c->time_between_failures, &d->rng) + SIM_MS,
                      SIM_PRIO_DEVICE, f->h_outage_start, fleet_ev_arg(dev, 0), NULL);
    if (g->twin.periodic)
        sim_kernel_at(f->k, first + scn_dist_draw(&g->twin.periodic_interval, &d->rng) + SIM_MS,
                      SIM_PRIO_DEVICE, f->h_twin_periodic, fleet_ev_arg(dev, 0), NULL);
    if (g->uploads.enabled)
        fleet_uploads_start(f, dev, first);
}
