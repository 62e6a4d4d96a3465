/* Retained per-endpoint logs of routed D2C messages, C2D feedback batches and file notifications, with cursors and watchers for AMQP links and the admin API. */
#include "serve/amqp/feeds.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One ring per log: slot (seq - 1) % cap.  Entries [first_seq, next_seq)
 * are retained. */
typedef struct {
    char *name;
    amqp_feed_entry_t *ring;
    hub_msg_t **msgs; /* owned clones, parallel to ring */
    amqp_feed_stats_t st;
    uint64_t *shared; /* EH-CONSUMER-GROUPS broken: one cursor per partition (+1: all) for every reader */
} feed_t;

typedef struct {
    uint64_t id;
    int feed; /* index into feeds, -1 = feedback, -2 = file notifications */
    void (*fn)(void *ctx);
    void *ctx;
    bool live;
} watcher_t;

struct amqp_feeds {
    hub_t *hub;
    amqp_feeds_opts_t opts;
    feed_t *feeds;
    size_t n_feeds, cap_feeds;
    amqp_feedback_entry_t *fb;  /* ring of feedback_retain */
    char **fb_json;             /* owned bodies, parallel */
    amqp_feedback_stats_t fbst;
    amqp_filenote_entry_t *fn;  /* ring of feedback_retain */
    char **fn_json;             /* owned bodies, parallel */
    amqp_filenote_stats_t fnst;
    watcher_t *w;
    size_t n_w, cap_w;
    uint64_t next_watch_id;
    int notifying;              /* depth: compaction waits until 0 */
};

void amqp_feeds_opts_default(amqp_feeds_opts_t *o)
{
    o->retain = 10000;
    o->feedback_retain = 1000;
    o->partitions = 4;
}

static int feed_find(const amqp_feeds_t *f, const char *name)
{
    for (size_t i = 0; i < f->n_feeds; i++)
        if (strcasecmp(f->feeds[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int feed_get(amqp_feeds_t *f, const char *name)
{
    int i = feed_find(f, name);
    if (i >= 0)
        return i;
    if (f->n_feeds == f->cap_feeds) {
        size_t cap = f->cap_feeds ? 2 * f->cap_feeds : 4;
        feed_t *nf = realloc(f->feeds, cap * sizeof *nf);
        if (!nf)
            return -1;
        f->feeds = nf;
        f->cap_feeds = cap;
    }
    feed_t *fd = &f->feeds[f->n_feeds];
    memset(fd, 0, sizeof *fd);
    fd->name = strdup(name);
    fd->ring = calloc(f->opts.retain, sizeof *fd->ring);
    fd->msgs = calloc(f->opts.retain, sizeof *fd->msgs);
    fd->shared = calloc((size_t)f->opts.partitions + 1, sizeof *fd->shared);
    if (!fd->name || !fd->ring || !fd->msgs || !fd->shared) {
        free(fd->name);
        free(fd->ring);
        free(fd->msgs);
        free(fd->shared);
        return -1;
    }
    fd->st.first_seq = fd->st.next_seq = 1;
    return (int)f->n_feeds++;
}

static void notify(amqp_feeds_t *f, int feed)
{
    f->notifying++;
    size_t n = f->n_w; /* watchers added during the loop wait for the next entry */
    for (size_t i = 0; i < n; i++)
        if (f->w[i].live && f->w[i].feed == feed)
            f->w[i].fn(f->w[i].ctx);
    if (--f->notifying == 0) {
        size_t k = 0;
        for (size_t i = 0; i < f->n_w; i++)
            if (f->w[i].live)
                f->w[k++] = f->w[i];
        f->n_w = k;
    }
}

/* The hub's armed break switch (faults.h, the staged EH-* rows). */
static bool broken(const amqp_feeds_t *f, hub_fault_t fault)
{
    return hub_faults_on(hub_faults(f->hub), fault);
}

static int64_t unix_ms(const amqp_feeds_t *f, sim_time_t t)
{
    sim_kernel_t *k = hub_kernel(f->hub);
    return sim_kernel_epoch(k) * 1000 + (int64_t)(t / 1000000u);
}

static void on_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg, uint32_t device_no)
{
    amqp_feeds_t *f = ctx;
    int i = feed_get(f, endpoint ? endpoint : "events");
    if (i < 0)
        return; /* allocation failure: the hub counted the delivery; nothing to keep */
    feed_t *fd = &f->feeds[i];
    hub_msg_t *copy = hub_msg_clone(msg);
    fd->st.delivered++;
    if (!copy) {
        fd->st.dropped_nomem++;
        return;
    }
    size_t cap = f->opts.retain;
    if (fd->st.retained == cap) {
        size_t old = (size_t)((fd->st.first_seq - 1) % cap);
        hub_msg_free(fd->msgs[old]);
        fd->msgs[old] = NULL;
        fd->st.first_seq++;
        fd->st.retained--;
        fd->st.evicted++;
    }
    uint64_t seq = fd->st.next_seq++;
    size_t slot = (size_t)((seq - 1) % cap);
    sim_time_t now = sim_kernel_now(hub_kernel(f->hub));
    /* by the sender; EH-PARTITION-BY-DEVICE broken: round-robin */
    uint32_t partition = broken(f, HUB_FAULT_EH_PARTITION_BY_DEVICE) ? (uint32_t)((seq - 1) % f->opts.partitions)
                                                                       : device_no % f->opts.partitions;
    fd->msgs[slot] = copy;
    fd->ring[slot] = (amqp_feed_entry_t){ .seq = seq,
                                          .msg = copy,
                                          .device_no = device_no,
                                          .partition = partition,
                                          .enqueued_at = now,
                                          .enqueued_unix_ms = unix_ms(f, now) };
    fd->st.retained++;
    notify(f, i);
}

static void on_feedback(void *ctx, const hub_c2d_fb_batch_t *b)
{
    amqp_feeds_t *f = ctx;
    f->fbst.batches++;
    f->fbst.records += b->count;
    char *json = hub_c2d_fb_batch_json(b, sim_kernel_epoch(hub_kernel(f->hub)));
    if (!json) {
        f->fbst.dropped_nomem++;
        return;
    }
    size_t cap = f->opts.feedback_retain;
    if (f->fbst.retained == cap) {
        size_t old = (size_t)((f->fbst.first_seq - 1) % cap);
        if (!f->fb[old].consumed)
            f->fbst.evicted_unconsumed++;
        free(f->fb_json[old]);
        f->fb_json[old] = NULL;
        f->fbst.first_seq++;
        f->fbst.retained--;
        f->fbst.evicted++;
    }
    uint64_t seq = f->fbst.next_seq++;
    size_t slot = (size_t)((seq - 1) % cap);
    f->fb_json[slot] = json;
    f->fb[slot] = (amqp_feedback_entry_t){ .seq = seq,
                                           .batch_no = b->batch_no,
                                           .json = json,
                                           .len = strlen(json),
                                           .records = b->count,
                                           .flushed_at = b->flushed_at,
                                           .flushed_unix_ms = unix_ms(f, b->flushed_at) };
    f->fbst.retained++;
    notify(f, -1);
}

static void on_file_notification(void *ctx, const hub_file_notification_t *n)
{
    amqp_feeds_t *f = ctx;
    f->fnst.notified++;
    char *json = malloc(n->json_len + 1);
    if (!json) {
        f->fnst.dropped_nomem++;
        return;
    }
    memcpy(json, n->json, n->json_len);
    json[n->json_len] = 0;
    size_t cap = f->opts.feedback_retain;
    if (f->fnst.retained == cap) {
        size_t old = (size_t)((f->fnst.first_seq - 1) % cap);
        if (!f->fn[old].consumed)
            f->fnst.evicted_unconsumed++;
        free(f->fn_json[old]);
        f->fn_json[old] = NULL;
        f->fnst.first_seq++;
        f->fnst.retained--;
        f->fnst.evicted++;
    }
    uint64_t seq = f->fnst.next_seq++;
    size_t slot = (size_t)((seq - 1) % cap);
    f->fn_json[slot] = json;
    f->fn[slot] = (amqp_filenote_entry_t){
        .seq = seq,
        .json = json,
        .len = n->json_len,
        .enqueued_unix_ms = n->enqueued_unix_ms,
        .expires_at = sim_kernel_now(hub_kernel(f->hub)) + n->ttl,
        .max_deliveries = n->max_delivery_count,
    };
    f->fnst.retained++;
    notify(f, -2);
}

static const hub_endpoint_ops_t endpoint_ops = { .deliver = on_deliver };

hs_err_t amqp_feeds_new(hub_t *hub, const amqp_feeds_opts_t *opts, amqp_feeds_t **out)
{
    *out = NULL;
    amqp_feeds_opts_t o;
    if (opts)
        o = *opts;
    else
        amqp_feeds_opts_default(&o);
    if (!hub || o.retain == 0 || o.feedback_retain == 0 || o.partitions == 0)
        return HS_EINVAL;
    amqp_feeds_t *f = calloc(1, sizeof *f);
    if (!f)
        return HS_ENOMEM;
    f->hub = hub;
    f->opts = o;
    f->fb = calloc(o.feedback_retain, sizeof *f->fb);
    f->fb_json = calloc(o.feedback_retain, sizeof *f->fb_json);
    f->fn = calloc(o.feedback_retain, sizeof *f->fn);
    f->fn_json = calloc(o.feedback_retain, sizeof *f->fn_json);
    if (!f->fb || !f->fb_json || !f->fn || !f->fn_json) {
        free(f->fb);
        free(f->fb_json);
        free(f->fn);
        free(f->fn_json);
        free(f);
        return HS_ENOMEM;
    }
    f->fbst.first_seq = f->fbst.next_seq = 1;
    f->fnst.first_seq = f->fnst.next_seq = 1;
    f->next_watch_id = 1;
    hub_set_endpoint_sink(hub, &endpoint_ops, f);
    hub_set_feedback_sink(hub, on_feedback, f);
    hub_set_file_notification_sink(hub, on_file_notification, f);
    *out = f;
    return HS_EOK;
}

void amqp_feeds_free(amqp_feeds_t *f)
{
    if (!f)
        return;
    hub_set_endpoint_sink(f->hub, NULL, NULL);
    hub_set_feedback_sink(f->hub, NULL, NULL);
    hub_set_file_notification_sink(f->hub, NULL, NULL);
    for (size_t i = 0; i < f->n_feeds; i++) {
        for (size_t j = 0; j < f->opts.retain; j++)
            hub_msg_free(f->feeds[i].msgs[j]);
        free(f->feeds[i].msgs);
        free(f->feeds[i].ring);
        free(f->feeds[i].shared);
        free(f->feeds[i].name);
    }
    for (size_t j = 0; j < f->opts.feedback_retain; j++)
        free(f->fb_json[j]);
    free(f->fb_json);
    free(f->fb);
    for (size_t j = 0; j < f->opts.feedback_retain; j++)
        free(f->fn_json[j]);
    free(f->fn_json);
    free(f->fn);
    free(f->feeds);
    free(f->w);
    free(f);
}

hub_t *amqp_feeds_hub(const amqp_feeds_t *f)
{
    return f->hub;
}

const amqp_feeds_opts_t *amqp_feeds_opts(const amqp_feeds_t *f)
{
    return &f->opts;
}

uint64_t amqp_feeds_read(amqp_feeds_t *f, const char *endpoint, uint64_t from_seq,
                         bool (*cb)(void *ctx, const amqp_feed_entry_t *e), void *ctx)
{
    int i = endpoint ? feed_find(f, endpoint) : -1;
    if (i < 0)
        return from_seq ? from_seq : 1;
    feed_t *fd = &f->feeds[i];
    uint64_t seq = from_seq < fd->st.first_seq ? fd->st.first_seq : from_seq;
    uint64_t next = from_seq;
    for (; seq < fd->st.next_seq; seq++) {
        const amqp_feed_entry_t *e = &fd->ring[(seq - 1) % f->opts.retain];
        next = seq + 1;
        if (!cb(ctx, e))
            break;
    }
    return next;
}

hs_err_t amqp_feeds_stats(const amqp_feeds_t *f, const char *endpoint, amqp_feed_stats_t *out)
{
    int i = endpoint ? feed_find(f, endpoint) : -1;
    if (i < 0)
        return HS_ENOTFOUND;
    *out = f->feeds[i].st;
    return HS_EOK;
}

const char *amqp_feeds_endpoint_at(const amqp_feeds_t *f, size_t i)
{
    return i < f->n_feeds ? f->feeds[i].name : NULL;
}

const amqp_feed_entry_t *amqp_feeds_next(amqp_feeds_t *f, const char *endpoint, int partition,
                                         uint64_t *cursor)
{
    int i = feed_get(f, endpoint);
    if (i < 0)
        return NULL;
    feed_t *fd = &f->feeds[i];
    /* EH-CONSUMER-GROUPS broken: every reader of a partition (whatever its
     * consumer group) moves one shared cursor */
    uint64_t *shared = NULL;
    if (broken(f, HUB_FAULT_EH_CONSUMER_GROUPS)) {
        shared = &fd->shared[partition >= 0 && (uint32_t)partition < f->opts.partitions ? (size_t)partition
                                                                                         : f->opts.partitions];
        if (*cursor < *shared)
            *cursor = *shared;
    }
    if (*cursor < fd->st.first_seq) {
        fd->st.overrun += fd->st.first_seq - *cursor;
        *cursor = fd->st.first_seq;
    }
    const amqp_feed_entry_t *found = NULL;
    while (!found && *cursor < fd->st.next_seq) {
        const amqp_feed_entry_t *e = &fd->ring[(*cursor - 1) % f->opts.retain];
        (*cursor)++;
        if (partition < 0 || e->partition == (uint32_t)partition)
            found = e;
    }
    if (shared)
        *shared = *cursor;
    return found;
}

typedef struct {
    int64_t after_ms;
    uint64_t found;
} time_seek_t;

static bool seek_time(void *ctx, const amqp_feed_entry_t *e)
{
    time_seek_t *t = ctx;
    if (e->enqueued_unix_ms > t->after_ms) {
        t->found = e->seq;
        return false;
    }
    return true;
}

uint64_t amqp_feeds_seek_time(amqp_feeds_t *f, const char *endpoint, int64_t after_unix_ms)
{
    uint64_t head = amqp_feeds_head(f, endpoint);
    if (broken(f, HUB_FAULT_EH_ENQUEUED_TIME_FILTER))
        return head; /* the filter ignored: from the oldest retained event */
    time_seek_t t = { .after_ms = after_unix_ms, .found = 0 };
    amqp_feeds_read(f, endpoint, head, seek_time, &t);
    return t.found ? t.found : amqp_feeds_tail(f, endpoint);
}

uint64_t amqp_feeds_tail(amqp_feeds_t *f, const char *endpoint)
{
    int i = feed_get(f, endpoint);
    return i < 0 ? 1 : f->feeds[i].st.next_seq;
}

uint64_t amqp_feeds_head(amqp_feeds_t *f, const char *endpoint)
{
    int i = feed_get(f, endpoint);
    return i < 0 ? 1 : f->feeds[i].st.first_seq;
}

uint64_t amqp_feeds_read_feedback(amqp_feeds_t *f, uint64_t from_seq,
                                  bool (*cb)(void *ctx, const amqp_feedback_entry_t *e), void *ctx)
{
    uint64_t seq = from_seq < f->fbst.first_seq ? f->fbst.first_seq : from_seq;
    uint64_t next = from_seq;
    for (; seq < f->fbst.next_seq; seq++) {
        next = seq + 1;
        if (!cb(ctx, &f->fb[(seq - 1) % f->opts.feedback_retain]))
            break;
    }
    return next;
}

void amqp_feeds_feedback_stats(const amqp_feeds_t *f, amqp_feedback_stats_t *out)
{
    *out = f->fbst;
}

const amqp_feedback_entry_t *amqp_feeds_next_feedback(amqp_feeds_t *f, uint64_t *cursor)
{
    if (*cursor < f->fbst.first_seq)
        *cursor = f->fbst.first_seq;
    while (*cursor < f->fbst.next_seq) {
        const amqp_feedback_entry_t *e = &f->fb[(*cursor - 1) % f->opts.feedback_retain];
        (*cursor)++;
        if (!e->consumed)
            return e;
    }
    return NULL;
}

uint64_t amqp_feeds_feedback_head(amqp_feeds_t *f)
{
    uint64_t c = f->fbst.first_seq;
    while (c < f->fbst.next_seq && f->fb[(c - 1) % f->opts.feedback_retain].consumed)
        c++;
    return c;
}

hs_err_t amqp_feeds_feedback_consume(amqp_feeds_t *f, uint64_t seq)
{
    if (seq < f->fbst.first_seq || seq >= f->fbst.next_seq)
        return HS_ENOTFOUND;
    amqp_feedback_entry_t *e = &f->fb[(seq - 1) % f->opts.feedback_retain];
    if (!e->consumed) {
        e->consumed = true;
        f->fbst.consumed++;
    }
    return HS_EOK;
}

void amqp_feeds_filenote_stats(const amqp_feeds_t *f, amqp_filenote_stats_t *out)
{
    *out = f->fnst;
}

/* Expired or delivered too often: consumed from now on, counted once. */
static bool filenote_spent(amqp_feeds_t *f, amqp_filenote_entry_t *e)
{
    if (e->consumed)
        return true;
    if (sim_kernel_now(hub_kernel(f->hub)) >= e->expires_at) {
        e->consumed = true;
        f->fnst.expired++;
        return true;
    }
    if (e->max_deliveries && e->deliveries >= e->max_deliveries) {
        e->consumed = true;
        f->fnst.dead_lettered++;
        return true;
    }
    return false;
}

const amqp_filenote_entry_t *amqp_feeds_next_filenote(amqp_feeds_t *f, uint64_t *cursor)
{
    if (*cursor < f->fnst.first_seq)
        *cursor = f->fnst.first_seq;
    while (*cursor < f->fnst.next_seq) {
        amqp_filenote_entry_t *e = &f->fn[(*cursor - 1) % f->opts.feedback_retain];
        (*cursor)++;
        if (!filenote_spent(f, e)) {
            e->deliveries++;
            return e;
        }
    }
    return NULL;
}

uint64_t amqp_feeds_filenote_head(amqp_feeds_t *f)
{
    uint64_t c = f->fnst.first_seq;
    while (c < f->fnst.next_seq && filenote_spent(f, &f->fn[(c - 1) % f->opts.feedback_retain]))
        c++;
    return c;
}

hs_err_t amqp_feeds_filenote_consume(amqp_feeds_t *f, uint64_t seq)
{
    if (seq < f->fnst.first_seq || seq >= f->fnst.next_seq)
        return HS_ENOTFOUND;
    amqp_filenote_entry_t *e = &f->fn[(seq - 1) % f->opts.feedback_retain];
    if (!e->consumed) {
        e->consumed = true;
        f->fnst.consumed++;
    }
    return HS_EOK;
}

static uint64_t watch_add(amqp_feeds_t *f, int feed, void (*fn)(void *ctx), void *ctx);

uint64_t amqp_feeds_watch_filenotes(amqp_feeds_t *f, void (*fn)(void *ctx), void *ctx)
{
    return watch_add(f, -2, fn, ctx);
}

uint64_t amqp_feeds_watch(amqp_feeds_t *f, const char *endpoint, void (*fn)(void *ctx), void *ctx)
{
    int feed = -1;
    if (endpoint && (feed = feed_get(f, endpoint)) < 0)
        return 0;
    return watch_add(f, feed, fn, ctx);
}

static uint64_t watch_add(amqp_feeds_t *f, int feed, void (*fn)(void *ctx), void *ctx)
{
    if (f->n_w == f->cap_w) {
        size_t cap = f->cap_w ? 2 * f->cap_w : 8;
        watcher_t *nw = realloc(f->w, cap * sizeof *nw);
        if (!nw)
            return 0;
        f->w = nw;
        f->cap_w = cap;
    }
    uint64_t id = f->next_watch_id++;
    f->w[f->n_w++] = (watcher_t){ .id = id, .feed = feed, .fn = fn, .ctx = ctx, .live = true };
    return id;
}

void amqp_feeds_unwatch(amqp_feeds_t *f, uint64_t id)
{
    for (size_t i = 0; i < f->n_w; i++) {
        if (f->w[i].id == id && f->w[i].live) {
            f->w[i].live = false;
            if (f->notifying == 0) {
                memmove(&f->w[i], &f->w[i + 1], (f->n_w - i - 1) * sizeof *f->w);
                f->n_w--;
            }
            return;
        }
    }
}
