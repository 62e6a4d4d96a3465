/* Cloud-to-device queues for every device of a hub, in virtual time, with locks, dead-lettering and batched feedback. */
#include "sim/hub/c2d_queue.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Model.  Devices live in an open-addressing hash table keyed by device
 * number (hashed with a fixed mixer, never by pointer), so a device that
 * never got a message costs nothing and lookups stay O(1) for millions of
 * devices.  Behaviour never depends on table order: the only whole-table
 * walks are the conservation sum and free.
 *
 * A device's messages sit in an array in sequence order (at most max_depth,
 * 50 by default, so removals by shifting are cheap).  The array is freed
 * when the queue drains; the device record stays (about 50 bytes) so that
 * sequence numbers remain unique per device queue.
 *
 * Time.  Each message has at most one pending kernel timer, at its expiry
 * (Enqueued) or at min(lock end, expiry) (Invisible).  Every operation on a
 * device first settles whatever is due at the current instant, so results
 * do not depend on whether the timer event or the caller's event runs first
 * at a shared instant.  With deadline_wins (the default) a deadline is due
 * at t >= deadline: at t == expiry the message is expired, at t == lock end
 * the lock is lost.  Without it, an operation at t == deadline still sees
 * the message or lock; the timer (at SIM_PRIO_LATE_DEADLINE, after device
 * events of the instant) then applies the deadline.
 *
 * Hooks run only at the end of an operation, after all state changes, so a
 * hook may call straight back into the store.
 */

enum { C2D_ENQUEUED = 1, C2D_INVISIBLE = 2 };

typedef struct {
    hub_msg_t *msg;
    uint64_t seq;
    sim_time_t enqueued;
    sim_time_t expiry;
    sim_time_t lock_until;
    sim_event_id_t timer;
    uint32_t delivery_count;
    uint8_t state;
    uint8_t ack;
} c2d_item_t;

typedef struct {
    uint32_t device_no;
    uint32_t n;
    uint32_t cap;
    uint64_t next_seq;
    char *device_id;
    char *generation_id;
    c2d_item_t *items;
} c2d_dev_t;

struct hub_c2d {
    sim_kernel_t *k;
    hub_c2d_config_t cfg;
    hub_c2d_hooks_t hooks;
    uint32_t h_item;  /* message timers */
    uint32_t h_flush; /* feedback interval */
    /* device table */
    c2d_dev_t **slots;
    size_t nslots; /* power of two */
    size_t ndev;
    /* feedback buffer */
    hub_c2d_fb_record_t *fb;
    size_t nfb;
    size_t cfb;
    sim_event_id_t fb_timer;
    sim_time_t fb_timer_at;
    uint64_t batch_no;
    /* deferred "available" notices of the current operation */
    uint32_t *avail;
    size_t navail;
    size_t cavail;
    hub_c2d_stats_t st;
};

/* ---- small helpers ---------------------------------------------------- */

static char *c2d_strdup(const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static uint64_t c2d_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static c2d_dev_t *c2d_find(const hub_c2d_t *c, uint32_t device_no)
{
    if (!c->nslots)
        return NULL;
    size_t mask = c->nslots - 1;
    for (size_t i = (size_t)c2d_mix(device_no) & mask;; i = (i + 1) & mask) {
        c2d_dev_t *d = c->slots[i];
        if (!d)
            return NULL;
        if (d->device_no == device_no)
            return d;
    }
}

static void c2d_place(c2d_dev_t **slots, size_t nslots, c2d_dev_t *d)
{
    size_t mask = nslots - 1;
    size_t i = (size_t)c2d_mix(d->device_no) & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = d;
}

static c2d_dev_t *c2d_get_or_add(hub_c2d_t *c, uint32_t device_no)
{
    c2d_dev_t *d = c2d_find(c, device_no);
    if (d)
        return d;
    if ((c->ndev + 1) * 4 > c->nslots * 3) { /* keep load under 3/4 */
        size_t n = c->nslots ? c->nslots * 2 : 64;
        c2d_dev_t **s = calloc(n, sizeof(*s));
        if (!s)
            return NULL;
        for (size_t i = 0; i < c->nslots; i++)
            if (c->slots[i])
                c2d_place(s, n, c->slots[i]);
        free(c->slots);
        c->slots = s;
        c->nslots = n;
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->device_no = device_no;
    d->next_seq = 1;
    c2d_place(c->slots, c->nslots, d);
    c->ndev++;
    return d;
}

static void c2d_emit(hub_c2d_t *c, const char *kind, const c2d_dev_t *d, const c2d_item_t *it,
                     const char *extra_key, const char *extra_val)
{
    sim_tf_t f[5];
    size_t n = 0;
    f[n++] = TF_INT("dev", d->device_no);
    f[n++] = TF_STR("device", d->device_id ? d->device_id : "");
    if (it) {
        f[n++] = TF_INT("seq", it->seq);
        f[n++] = TF_INT("count", it->delivery_count);
    }
    if (extra_key)
        f[n++] = TF_STR(extra_key, extra_val);
    sim_kernel_emit(c->k, kind, f, n);
}

static void c2d_note_available(hub_c2d_t *c, uint32_t device_no)
{
    for (size_t i = 0; i < c->navail; i++)
        if (c->avail[i] == device_no)
            return;
    if (c->navail == c->cavail) {
        size_t n = c->cavail ? c->cavail * 2 : 8;
        uint32_t *a = realloc(c->avail, n * sizeof(*a));
        if (!a)
            return; /* a lost notice only delays a push; the device can still receive */
        c->avail = a;
        c->cavail = n;
    }
    c->avail[c->navail++] = device_no;
}

/* ---- feedback ----------------------------------------------------------- */

static const char *const c2d_fb_names[] = { "Success", "Expired", "DeliveryCountExceeded",
                                            "Rejected", "Purged" };
static const char *const c2d_fb_desc[] = {
    "Success", "Message expired", "Message delivery count exceeded", "Message rejected",
    "Message purged",
};

const char *hub_c2d_fb_status_name(hub_c2d_fb_status_t s)
{
    return (unsigned)s < 5 ? c2d_fb_names[s] : "Unknown";
}

static void c2d_fb_free_records(hub_c2d_fb_record_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].original_message_id);
        free(r[i].device_id);
        free(r[i].device_generation_id);
    }
}

static void c2d_fb_arm(hub_c2d_t *c)
{
    if (c->nfb == 0) {
        if (c->fb_timer) {
            sim_kernel_cancel(c->k, c->fb_timer);
            c->fb_timer = 0;
        }
        return;
    }
    sim_time_t at = c->fb[0].enqueued_time + c->cfg.feedback_interval;
    if (at < sim_kernel_now(c->k))
        at = sim_kernel_now(c->k);
    if (c->fb_timer && c->fb_timer_at == at)
        return;
    if (c->fb_timer)
        sim_kernel_cancel(c->k, c->fb_timer);
    c->fb_timer = 0;
    if (sim_kernel_at(c->k, at, SIM_PRIO_DEADLINE, c->h_flush, 0, &c->fb_timer) == HS_EOK)
        c->fb_timer_at = at;
}

/* Deliver the first n buffered records as one feedback message. */
static void c2d_fb_flush_n(hub_c2d_t *c, size_t n, bool by_count)
{
    if (n == 0)
        return;
    hub_c2d_fb_batch_t b = {
        .records = c->fb,
        .count = n,
        .batch_no = ++c->batch_no,
        .flushed_at = sim_kernel_now(c->k),
        .by_count = by_count,
    };
    sim_tf_t f[3] = { TF_INT("batch", b.batch_no), TF_INT("records", n),
                      TF_BOOL("by_count", by_count) };
    sim_kernel_emit(c->k, "c2d.feedback", f, 3);
    c->st.feedback_batches++;
    /* Detach the records before the hook runs, so a hook that makes the
     * store produce more feedback cannot disturb this batch. */
    hub_c2d_fb_record_t *recs = c->fb;
    size_t rest = c->nfb - n;
    hub_c2d_fb_record_t *keep = NULL;
    size_t ckeep = 0;
    if (rest) {
        ckeep = rest > 8 ? rest : 8;
        keep = malloc(ckeep * sizeof(*keep));
        if (!keep) { /* deliver everything rather than lose records */
            n = c->nfb;
            b.count = n;
            rest = 0;
            ckeep = 0;
        } else {
            memcpy(keep, recs + n, rest * sizeof(*keep));
        }
    }
    c->fb = keep;
    c->nfb = rest;
    c->cfb = ckeep;
    if (c->hooks.feedback)
        c->hooks.feedback(c->hooks.ctx, &b);
    c2d_fb_free_records(recs, n);
    free(recs);
}

static void c2d_fb_add(hub_c2d_t *c, const c2d_dev_t *d, const c2d_item_t *it,
                       hub_c2d_fb_status_t status)
{
    bool positive = status == HUB_C2D_FB_SUCCESS;
    bool want = it->ack == HUB_ACK_FULL || (positive && it->ack == HUB_ACK_POSITIVE) ||
                (!positive && it->ack == HUB_ACK_NEGATIVE);
    if (!want)
        return;
    if (c->nfb == c->cfb) {
        size_t n = c->cfb ? c->cfb * 2 : 16;
        hub_c2d_fb_record_t *r = realloc(c->fb, n * sizeof(*r));
        if (!r)
            return;
        c->fb = r;
        c->cfb = n;
    }
    hub_c2d_fb_record_t *r = &c->fb[c->nfb];
    const char *mid = hub_msg_get_sys(it->msg, HUB_SYS_MESSAGE_ID);
    r->original_message_id = c2d_strdup(mid);
    r->device_id = c2d_strdup(d->device_id);
    r->device_generation_id = c2d_strdup(d->generation_id);
    if (!r->original_message_id || !r->device_id || !r->device_generation_id) {
        c2d_fb_free_records(r, 1);
        return;
    }
    r->status = status;
    r->description = c2d_fb_desc[status];
    r->enqueued_time = sim_kernel_now(c->k);
    r->device_no = d->device_no;
    r->sequence_number = it->seq;
    c->nfb++;
    c->st.feedback_records++;
}

/* End of every operation: count flushes, timer, then availability hooks. */
static void c2d_op_end(hub_c2d_t *c)
{
    while (c->nfb >= c->cfg.feedback_batch_max)
        c2d_fb_flush_n(c, c->cfg.feedback_batch_max, true);
    c2d_fb_arm(c);
    while (c->navail) {
        uint32_t dev = c->avail[0];
        memmove(c->avail, c->avail + 1, (c->navail - 1) * sizeof(*c->avail));
        c->navail--;
        if (c->hooks.available)
            c->hooks.available(c->hooks.ctx, dev);
    }
}

static void c2d_on_flush(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    hub_c2d_t *c = ctx;
    c->fb_timer = 0;
    c2d_fb_flush_n(c, c->nfb, false);
    c2d_op_end(c);
}

/* ---- per-message state ---------------------------------------------------- */

static void c2d_cancel_timer(hub_c2d_t *c, c2d_item_t *it)
{
    if (it->timer) {
        sim_kernel_cancel(c->k, it->timer);
        it->timer = 0;
    }
}

static void c2d_arm(hub_c2d_t *c, const c2d_dev_t *d, c2d_item_t *it)
{
    c2d_cancel_timer(c, it);
    sim_time_t at = it->expiry;
    if (it->state == C2D_INVISIBLE && it->lock_until < at)
        at = it->lock_until;
    if (at < sim_kernel_now(c->k))
        at = sim_kernel_now(c->k);
    uint64_t arg = ((uint64_t)d->device_no << 32) | (it->seq & 0xFFFFFFFFu);
    /* On failure (queue full) the lazy settle still applies the deadline. */
    (void)sim_kernel_at(c->k, at, c->cfg.deadline_wins ? SIM_PRIO_DEADLINE : SIM_PRIO_LATE_DEADLINE,
                        c->h_item, arg, &it->timer);
}

/* Remove item i from the device, freeing its message. */
static void c2d_remove(hub_c2d_t *c, c2d_dev_t *d, uint32_t i)
{
    c2d_cancel_timer(c, &d->items[i]);
    hub_msg_free(d->items[i].msg);
    memmove(&d->items[i], &d->items[i + 1], (d->n - i - 1) * sizeof(c2d_item_t));
    d->n--;
    c->st.in_queue--;
    if (d->n == 0) {
        /* Drained: keep only what sequence numbering needs. */
        free(d->items);
        d->items = NULL;
        d->cap = 0;
        free(d->device_id);
        free(d->generation_id);
        d->device_id = NULL;
        d->generation_id = NULL;
    }
}

static void c2d_dead_letter(hub_c2d_t *c, c2d_dev_t *d, uint32_t i, hub_c2d_fb_status_t why)
{
    c2d_item_t *it = &d->items[i];
    const char *kind = "c2d.expire";
    switch (why) {
    case HUB_C2D_FB_EXPIRED:
        c->st.expired++;
        break;
    case HUB_C2D_FB_REJECTED:
        c->st.rejected++;
        kind = "c2d.reject";
        break;
    default:
        c->st.delivery_exceeded++;
        kind = "c2d.deadletter";
        break;
    }
    c->st.dead_lettered++;
    c2d_emit(c, kind, d, it, "reason", hub_c2d_fb_status_name(why));
    c2d_fb_add(c, d, it, why);
    c2d_remove(c, d, i);
}

/* The lock of item i ended without settlement (abandon or timeout). */
static void c2d_unlock(hub_c2d_t *c, c2d_dev_t *d, uint32_t i)
{
    c2d_item_t *it = &d->items[i];
    if (it->delivery_count >= c->cfg.max_delivery_count) {
        c2d_dead_letter(c, d, i, HUB_C2D_FB_DELIVERY_COUNT_EXCEEDED);
        return;
    }
    it->state = C2D_ENQUEUED;
    it->lock_until = 0;
    c2d_arm(c, d, it);
    c2d_note_available(c, d->device_no);
}

/* Is a deadline due now?  Timer events always apply it; an operation at
 * the very instant applies it only when deadlines win. */
static bool c2d_due(const hub_c2d_t *c, sim_time_t deadline, bool from_timer)
{
    sim_time_t now = sim_kernel_now(c->k);
    return now > deadline || (now == deadline && (from_timer || c->cfg.deadline_wins));
}

/* Apply every deadline of the device that is due now. */
static void c2d_settle_at(hub_c2d_t *c, c2d_dev_t *d, bool from_timer)
{
    uint32_t i = 0;
    while (i < d->n) {
        c2d_item_t *it = &d->items[i];
        if (c2d_due(c, it->expiry, from_timer)) {
            c2d_dead_letter(c, d, i, HUB_C2D_FB_EXPIRED);
            continue; /* item i is now the next one */
        }
        if (it->state == C2D_INVISIBLE && c2d_due(c, it->lock_until, from_timer)) {
            c->st.lock_expired++;
            c2d_emit(c, "c2d.lock_expired", d, it, NULL, NULL);
            uint32_t before = d->n;
            c2d_unlock(c, d, i);
            if (d->n < before)
                continue;
        }
        i++;
    }
}

static void c2d_settle(hub_c2d_t *c, c2d_dev_t *d)
{
    c2d_settle_at(c, d, false);
}

static void c2d_on_item(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    hub_c2d_t *c = ctx;
    c2d_dev_t *d = c2d_find(c, (uint32_t)(arg >> 32));
    if (!d)
        return;
    uint32_t low = (uint32_t)arg;
    for (uint32_t i = 0; i < d->n; i++) {
        if ((uint32_t)d->items[i].seq == low) {
            d->items[i].timer = 0; /* this event has fired */
            break;
        }
    }
    c2d_settle_at(c, d, true);
    c2d_op_end(c);
}

/* ---- lock tokens -------------------------------------------------------- */

/* GUID-shaped and deterministic: device number, sequence number, delivery
 * count.  A token names one delivery attempt of one message. */
static void c2d_token(char *buf, uint32_t dev, uint64_t seq, uint32_t count)
{
    snprintf(buf, HUB_C2D_LOCK_TOKEN_CAP, "%08x-%04x-%04x-%04x-%04x%08x", dev,
             (unsigned)((seq >> 48) & 0xFFFF), (unsigned)((seq >> 32) & 0xFFFF),
             (unsigned)((seq >> 16) & 0xFFFF), (unsigned)(seq & 0xFFFF), count);
}

static bool c2d_hexval(char ch, unsigned *v)
{
    if (ch >= '0' && ch <= '9')
        *v = (unsigned)(ch - '0');
    else if (ch >= 'a' && ch <= 'f')
        *v = (unsigned)(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F')
        *v = (unsigned)(ch - 'A' + 10);
    else
        return false;
    return true;
}

static bool c2d_parse_token(const char *tok, uint32_t *dev, uint64_t *seq, uint32_t *count)
{
    if (!tok || strlen(tok) != 36)
        return false;
    uint64_t hexv[5] = { 0 };
    int digits = 0, group = 0;
    static const int widths[5] = { 8, 4, 4, 4, 12 };
    for (size_t i = 0; i < 36; i++) {
        if (tok[i] == '-') {
            if (digits != widths[group])
                return false;
            group++;
            digits = 0;
            continue;
        }
        unsigned v;
        if (group > 4 || !c2d_hexval(tok[i], &v))
            return false;
        hexv[group] = (hexv[group] << 4) | v;
        digits++;
    }
    if (group != 4 || digits != 12)
        return false;
    *dev = (uint32_t)hexv[0];
    *seq = (hexv[1] << 48) | (hexv[2] << 32) | (hexv[3] << 16) | (hexv[4] >> 32);
    *count = (uint32_t)(hexv[4] & 0xFFFFFFFFu);
    return true;
}

/* ---- public API ------------------------------------------------------- */

void hub_c2d_config_default(hub_c2d_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_depth = 50;
    cfg->default_ttl = SIM_HOUR;
    cfg->max_ttl = 48 * SIM_HOUR;
    cfg->reject_ttl_over_max = false;
    cfg->lock_timeout = SIM_MIN;
    cfg->max_delivery_count = 10;
    cfg->max_message_bytes = 64 * 1024;
    cfg->check_message_rules = true;
    cfg->feedback_batch_max = 64;
    cfg->feedback_interval = 15 * SIM_SEC;
    cfg->deadline_wins = true;
}

hs_err_t hub_c2d_config_check(const hub_c2d_config_t *cfg, char *why, size_t cap)
{
    const char *msg = NULL;
    if (!cfg)
        msg = "no configuration";
    else if (cfg->max_depth == 0)
        msg = "max_depth must be at least 1";
    else if (cfg->max_delivery_count < 1 || cfg->max_delivery_count > 100)
        msg = "max_delivery_count must be within 1..100";
    else if (cfg->lock_timeout == 0)
        msg = "lock_timeout must be positive";
    else if (cfg->max_ttl == 0)
        msg = "max_ttl must be positive";
    else if (cfg->default_ttl == 0 || cfg->default_ttl > cfg->max_ttl)
        msg = "default_ttl must be within (0, max_ttl]";
    else if (cfg->feedback_batch_max == 0)
        msg = "feedback_batch_max must be at least 1";
    else if (cfg->feedback_interval == 0)
        msg = "feedback_interval must be positive";
    if (!msg)
        return HS_EOK;
    if (why && cap)
        snprintf(why, cap, "%s", msg);
    return HS_ERANGE;
}

hub_c2d_t *hub_c2d_new(sim_kernel_t *k, const hub_c2d_config_t *cfg, const hub_c2d_hooks_t *hooks)
{
    if (!k || hub_c2d_config_check(cfg, NULL, 0) != HS_EOK)
        return NULL;
    hub_c2d_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->k = k;
    c->cfg = *cfg;
    if (hooks)
        c->hooks = *hooks;
    c->h_item = sim_kernel_register(k, c2d_on_item, c);
    c->h_flush = sim_kernel_register(k, c2d_on_flush, c);
    if (!c->h_item || !c->h_flush) {
        free(c);
        return NULL;
    }
    return c;
}

void hub_c2d_free(hub_c2d_t *c)
{
    if (!c)
        return;
    for (size_t s = 0; s < c->nslots; s++) {
        c2d_dev_t *d = c->slots[s];
        if (!d)
            continue;
        for (uint32_t i = 0; i < d->n; i++) {
            c2d_cancel_timer(c, &d->items[i]);
            hub_msg_free(d->items[i].msg);
        }
        free(d->items);
        free(d->device_id);
        free(d->generation_id);
        free(d);
    }
    free(c->slots);
    if (c->fb_timer)
        sim_kernel_cancel(c->k, c->fb_timer);
    c->st.feedback_discarded += c->nfb;
    c2d_fb_free_records(c->fb, c->nfb);
    free(c->fb);
    free(c->avail);
    free(c);
}

static hub_err_t c2d_set_ids(c2d_dev_t *d, const char *device_id, const char *gen)
{
    if (!d->device_id || strcmp(d->device_id, device_id) != 0) {
        char *s = c2d_strdup(device_id);
        if (!s)
            return HUB_ESERVER_ERROR;
        free(d->device_id);
        d->device_id = s;
    }
    if (!d->generation_id || strcmp(d->generation_id, gen ? gen : "") != 0) {
        char *s = c2d_strdup(gen);
        if (!s)
            return HUB_ESERVER_ERROR;
        free(d->generation_id);
        d->generation_id = s;
    }
    return HUB_EOK;
}

static hub_err_t c2d_refuse(hub_c2d_t *c, uint32_t device_no, const char *device_id, hub_err_t e)
{
    c->st.refused++;
    sim_tf_t f[3] = { TF_INT("dev", device_no), TF_STR("device", device_id ? device_id : ""),
                      TF_STR("error", hub_error_info(e)->name) };
    sim_kernel_emit(c->k, "c2d.refuse", f, 3);
    return e;
}

hub_err_t hub_c2d_enqueue(hub_c2d_t *c, uint32_t device_no, const char *device_id,
                          const char *generation_id, hub_msg_t *msg, sim_time_t ttl,
                          uint64_t *seq_out)
{
    if (!c)
        return HUB_EARGUMENT_NULL;
    if (!msg || !device_id)
        return c2d_refuse(c, device_no, device_id, HUB_EARGUMENT_NULL);
    hub_ack_t ack;
    if (hub_msg_get_ack(msg, &ack) != HUB_EOK)
        return c2d_refuse(c, device_no, device_id, HUB_EARGUMENT_INVALID);
    hub_msg_rules_t rules = {
        .max_bytes = c->cfg.max_message_bytes,
        .message_id_max = c->cfg.check_message_rules ? HUB_MSG_ID_MAX_CHARS : 0,
        .check_prop_chars = c->cfg.check_message_rules,
        .count_stamped = false,
    };
    hub_err_t e = hub_msg_validate(msg, &rules, NULL);
    if (e != HUB_EOK)
        return c2d_refuse(c, device_no, device_id, e);
    if (ttl == 0)
        ttl = c->cfg.default_ttl;
    if (ttl > c->cfg.max_ttl) {
        if (c->cfg.reject_ttl_over_max)
            return c2d_refuse(c, device_no, device_id, HUB_EARGUMENT_INVALID);
        ttl = c->cfg.max_ttl;
    }
    c2d_dev_t *d = c2d_find(c, device_no);
    if (d) {
        c2d_settle(c, d); /* an expiry due now frees its place first */
        if (d->n >= c->cfg.max_depth) {
            c2d_op_end(c);
            return c2d_refuse(c, device_no, device_id, HUB_EQUEUE_DEPTH_EXCEEDED);
        }
    } else if (!(d = c2d_get_or_add(c, device_no))) {
        return c2d_refuse(c, device_no, device_id, HUB_ESERVER_ERROR);
    }
    if (c2d_set_ids(d, device_id, generation_id) != HUB_EOK)
        return c2d_refuse(c, device_no, device_id, HUB_ESERVER_ERROR);
    if (d->n == d->cap) {
        uint32_t n = d->cap ? d->cap * 2 : 4;
        c2d_item_t *a = realloc(d->items, n * sizeof(*a));
        if (!a)
            return c2d_refuse(c, device_no, device_id, HUB_ESERVER_ERROR);
        d->items = a;
        d->cap = n;
    }
    sim_time_t now = sim_kernel_now(c->k);
    sim_time_t expiry = now + ttl < now ? SIM_TIME_MAX : now + ttl;
    /* Stamp what the device will see; on failure nothing was taken. */
    char seqtxt[24], enq[40], exp[40];
    snprintf(seqtxt, sizeof(seqtxt), "%llu", (unsigned long long)d->next_seq);
    sim_utc_format(sim_kernel_epoch(c->k), now, enq, sizeof(enq));
    sim_utc_format(sim_kernel_epoch(c->k), expiry, exp, sizeof(exp));
    if (hub_msg_set_sys(msg, HUB_SYS_SEQUENCE_NUMBER, seqtxt) != HS_EOK ||
        hub_msg_set_sys(msg, HUB_SYS_ENQUEUED_TIME, enq) != HS_EOK ||
        hub_msg_set_sys(msg, HUB_SYS_EXPIRY_TIME_UTC, exp) != HS_EOK)
        return c2d_refuse(c, device_no, device_id, HUB_ESERVER_ERROR);
    c2d_item_t *it = &d->items[d->n++];
    memset(it, 0, sizeof(*it));
    it->msg = msg;
    it->seq = d->next_seq++;
    it->enqueued = now;
    it->expiry = expiry;
    it->state = C2D_ENQUEUED;
    it->ack = (uint8_t)ack;
    c2d_arm(c, d, it);
    c->st.enqueued++;
    c->st.in_queue++;
    if (seq_out)
        *seq_out = it->seq;
    c2d_emit(c, "c2d.enqueue", d, it, "ack", hub_ack_name(ack));
    c2d_note_available(c, device_no);
    c2d_op_end(c);
    return HUB_EOK;
}

hub_err_t hub_c2d_receive(hub_c2d_t *c, uint32_t device_no, hub_c2d_delivery_t *out)
{
    if (!c || !out)
        return HUB_EARGUMENT_NULL;
    memset(out, 0, sizeof(*out));
    c2d_dev_t *d = c2d_find(c, device_no);
    if (!d)
        return HUB_EMESSAGE_NOT_FOUND;
    c2d_settle(c, d);
    hub_err_t e = HUB_EMESSAGE_NOT_FOUND;
    for (uint32_t i = 0; i < d->n; i++) {
        c2d_item_t *it = &d->items[i];
        if (it->state != C2D_ENQUEUED)
            continue;
        it->state = C2D_INVISIBLE;
        it->delivery_count++;
        sim_time_t now = sim_kernel_now(c->k);
        it->lock_until = now + c->cfg.lock_timeout;
        c2d_arm(c, d, it);
        c->st.delivered++;
        out->msg = it->msg;
        out->sequence_number = it->seq;
        out->delivery_count = it->delivery_count;
        out->enqueued_time = it->enqueued;
        out->expiry_time = it->expiry;
        out->lock_until = it->lock_until;
        c2d_token(out->lock_token, d->device_no, it->seq, it->delivery_count);
        c2d_emit(c, "c2d.deliver", d, it, NULL, NULL);
        e = HUB_EOK;
        break;
    }
    c2d_op_end(c);
    return e;
}

/* Find the locked item a token names; settles first. */
static hub_err_t c2d_lookup_lock(hub_c2d_t *c, uint32_t device_no, const char *tok,
                                 c2d_dev_t **d_out, uint32_t *i_out)
{
    uint32_t tdev, tcount;
    uint64_t tseq;
    if (!c2d_parse_token(tok, &tdev, &tseq, &tcount) || tdev != device_no)
        return HUB_EMESSAGE_NOT_FOUND;
    c2d_dev_t *d = c2d_find(c, device_no);
    if (!d)
        return HUB_EMESSAGE_NOT_FOUND;
    c2d_settle(c, d);
    for (uint32_t i = 0; i < d->n; i++) {
        c2d_item_t *it = &d->items[i];
        if (it->seq != tseq)
            continue;
        if (it->state != C2D_INVISIBLE || it->delivery_count != tcount)
            return HUB_ELOCK_LOST;
        *d_out = d;
        *i_out = i;
        return HUB_EOK;
    }
    return HUB_EMESSAGE_NOT_FOUND;
}

static void c2d_settle_error(hub_c2d_t *c, uint32_t device_no, const char *what, hub_err_t e)
{
    sim_tf_t f[3] = { TF_INT("dev", device_no), TF_STR("op", what),
                      TF_STR("error", hub_error_info(e)->name) };
    sim_kernel_emit(c->k, "c2d.settle_error", f, 3);
}

hub_err_t hub_c2d_complete(hub_c2d_t *c, uint32_t device_no, const char *lock_token)
{
    if (!c || !lock_token)
        return HUB_EARGUMENT_NULL;
    c2d_dev_t *d;
    uint32_t i;
    hub_err_t e = c2d_lookup_lock(c, device_no, lock_token, &d, &i);
    if (e == HUB_EOK) {
        c->st.completed++;
        c2d_emit(c, "c2d.complete", d, &d->items[i], NULL, NULL);
        c2d_fb_add(c, d, &d->items[i], HUB_C2D_FB_SUCCESS);
        c2d_remove(c, d, i);
    } else {
        c2d_settle_error(c, device_no, "complete", e);
    }
    c2d_op_end(c);
    return e;
}

hub_err_t hub_c2d_reject(hub_c2d_t *c, uint32_t device_no, const char *lock_token)
{
    if (!c || !lock_token)
        return HUB_EARGUMENT_NULL;
    c2d_dev_t *d;
    uint32_t i;
    hub_err_t e = c2d_lookup_lock(c, device_no, lock_token, &d, &i);
    if (e == HUB_EOK)
        c2d_dead_letter(c, d, i, HUB_C2D_FB_REJECTED);
    else
        c2d_settle_error(c, device_no, "reject", e);
    c2d_op_end(c);
    return e;
}

hub_err_t hub_c2d_abandon(hub_c2d_t *c, uint32_t device_no, const char *lock_token)
{
    if (!c || !lock_token)
        return HUB_EARGUMENT_NULL;
    c2d_dev_t *d;
    uint32_t i;
    hub_err_t e = c2d_lookup_lock(c, device_no, lock_token, &d, &i);
    if (e == HUB_EOK) {
        c->st.abandoned++;
        c2d_emit(c, "c2d.abandon", d, &d->items[i], NULL, NULL);
        c2d_unlock(c, d, i);
    } else {
        c2d_settle_error(c, device_no, "abandon", e);
    }
    c2d_op_end(c);
    return e;
}

hub_err_t hub_c2d_purge(hub_c2d_t *c, uint32_t device_no, size_t *n_out)
{
    if (n_out)
        *n_out = 0;
    if (!c)
        return HUB_EARGUMENT_NULL;
    c2d_dev_t *d = c2d_find(c, device_no);
    size_t n = 0;
    if (d) {
        c2d_settle(c, d);
        sim_tf_t f[3] = { TF_INT("dev", device_no), TF_STR("device", d->device_id ? d->device_id : ""),
                          TF_INT("messages", d->n) };
        sim_kernel_emit(c->k, "c2d.purge", f, 3);
        while (d->n) {
            c->st.purged++;
            c2d_fb_add(c, d, &d->items[0], HUB_C2D_FB_PURGED);
            c2d_remove(c, d, 0);
            n++;
        }
    }
    if (n_out)
        *n_out = n;
    c2d_op_end(c);
    return HUB_EOK;
}

size_t hub_c2d_depth(const hub_c2d_t *c, uint32_t device_no)
{
    const c2d_dev_t *d = c ? c2d_find(c, device_no) : NULL;
    return d ? d->n : 0;
}

void hub_c2d_flush_feedback(hub_c2d_t *c)
{
    if (!c)
        return;
    c2d_fb_flush_n(c, c->nfb, false);
    c2d_op_end(c);
}

size_t hub_c2d_feedback_pending(const hub_c2d_t *c)
{
    return c ? c->nfb : 0;
}

void hub_c2d_stats(const hub_c2d_t *c, hub_c2d_stats_t *out)
{
    if (!out)
        return;
    if (!c) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = c->st;
}

hs_err_t hub_c2d_check(const hub_c2d_t *c, char *why, size_t cap)
{
    if (!c)
        return HS_EINVAL;
    const hub_c2d_stats_t *s = &c->st;
    uint64_t held = 0;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i])
            held += c->slots[i]->n;
    uint64_t out = s->completed + s->dead_lettered + s->purged + s->in_queue;
    if (s->enqueued != out) {
        if (why && cap)
            snprintf(why, cap,
                     "c2d: %llu enqueued but %llu completed + %llu dead-lettered + %llu purged + "
                     "%llu queued = %llu",
                     (unsigned long long)s->enqueued, (unsigned long long)s->completed,
                     (unsigned long long)s->dead_lettered, (unsigned long long)s->purged,
                     (unsigned long long)s->in_queue, (unsigned long long)out);
        return HS_ESTATE;
    }
    if (held != s->in_queue ||
        s->dead_lettered != s->rejected + s->expired + s->delivery_exceeded) {
        if (why && cap)
            snprintf(why, cap, "c2d: queues hold %llu messages, counter says %llu",
                     (unsigned long long)held, (unsigned long long)s->in_queue);
        return HS_ESTATE;
    }
    return HS_EOK;
}

char *hub_c2d_fb_batch_json(const hub_c2d_fb_batch_t *b, int64_t epoch_unix)
{
    if (!b)
        return NULL;
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < b->count; i++) {
        const hub_c2d_fb_record_t *r = &b->records[i];
        char t[40];
        sim_utc_format(epoch_unix, r->enqueued_time, t, sizeof(t));
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "originalMessageId",
                              r->original_message_id ? r->original_message_id : "", "deviceId",
                              r->device_id ? r->device_id : "", "deviceGenerationId",
                              r->device_generation_id ? r->device_generation_id : "",
                              "statusCode", hub_c2d_fb_status_name(r->status), "description",
                              r->description ? r->description : "", "enqueuedTimeUtc", t);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    char *txt = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    return txt;
}
