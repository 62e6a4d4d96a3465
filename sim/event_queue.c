/* Event queue: a calendar of time buckets in front of a d-ary heap, (time, prio, seq) order, O(1) cancel.
 *
 * Model.  Each event is an entry {time, key, arg} ordered by {time, key}; key
 * packs priority (4 bits), insertion sequence (36 bits) and a 24-bit tag, so
 * comparing two entries is two integer compares and the tag never decides an
 * order (sequences are unique).  The tag says where the handler is:
 *   direct (bit 23 set): the handler itself (< 2^23).  An event pushed
 *            without asking for its id can never be cancelled, so it needs no
 *            slot: firing it reads nothing but its entry (the fleet's timers
 *            and message arrivals, nearly every event);
 *   slot:    the index of a slot holding the handler and a generation
 *            counter; the event id is (generation, slot), so a stale id
 *            (fired or cancelled) is recognised in O(1), and cancel marks the
 *            slot dead.
 * When the 36-bit sequence would wrap, pending entries are renumbered in
 * their current order: deterministic, and never observable.
 *
 * Where an event waits.  Time is cut into buckets of 2^wshift ns; bucket
 * index idx = time >> wshift, and `cur` is the bucket being fired.
 *   run:     every entry with idx <= cur: a small sorted array (a 4-ary
 *            heap while it is large);
 *   buckets: entries with cur < idx < cur + 2^nbits, one unordered array
 *            per bucket (a bitmap marks the non-empty ones);
 *   far:     a 4-ary heap of the rest (idx >= cur + 2^nbits).
 * Every run entry precedes every bucket and far entry, so popping the run's
 * top yields exactly the global (time, key) minimum.  When the run is empty,
 * cur moves to the smallest idx among the next non-empty bucket and the far
 * heap's top, and that bucket (plus far entries of the same idx) is sorted
 * into the run.  The order is therefore the heap's order, whatever the
 * geometry; the geometry only decides the cost.  With a million pending
 * timers a push is an append to a bucket and a pop touches a run of a
 * handful of entries (the next bucket's array prefetched while this one
 * fires), instead of ~10 cache-missing heap levels.
 *
 * The geometry is tuned from the queue's own history (no clock): after each
 * epoch of pops, bucket width 8-16x the mean virtual gap between pops and
 * 2^nbits = pending/4..pending/2 buckets, so the window spans 2-8 times the
 * time it takes to drain what is pending.  Small queues (< CAL_MIN_LIVE)
 * stay a plain heap.  Cancel marks the slot dead; a dead entry is dropped
 * when it surfaces, and everything is compacted when dead entries outnumber
 * live ones.  Pending cost: a 24-byte entry (in the run, a bucket or the far
 * heap), plus 16 bytes per bucket and spare bucket room; a cancellable event
 * also holds a 12-byte slot. */
#include "event_queue.h"

#include <stdlib.h>
#include <string.h>

#ifndef SIM_HEAP_ARITY
#define SIM_HEAP_ARITY 4
#endif

#define SLOT_BITS 24 /* the tag; an id is (generation << 24 | slot) */
#define SEQ_BITS  36
#define SLOT_MASK ((1ULL << SLOT_BITS) - 1)
#define SEQ_MASK  ((1ULL << SEQ_BITS) - 1)
#define TAG_DIRECT (1u << (SLOT_BITS - 1)) /* tag = TAG_DIRECT | handler: no slot */
#define MAX_SLOTS TAG_DIRECT               /* slot indices stay below the direct bit */
#define HANDLER_DEAD 0u
#define NO_SLOT UINT32_MAX
/* With arity 4 the children of node i are 4i+1..4i+4; shifting the array by
 * 3 entries starts each such group (96 bytes) at a 32-byte boundary: two
 * cache lines. */
#define HEAP_PAD (SIM_HEAP_ARITY == 4 ? 3 : 0)
/* Rare paths kept out of the per-event ones, so those stay small (no
 * register spills in their prologues). */
#define COLD __attribute__((noinline, cold))

/* Calendar tuning. */
#define CAL_MIN_LIVE 4096u     /* below this many pending, a plain heap is faster */
#define CAL_MIN_EPOCH 8192u    /* pops between two looks at the geometry */
#define CAL_MIN_BITS 10u
#define CAL_MAX_BITS 22u
#define RUN_SORTED_MAX 48u     /* a run up to this size is a sorted array, larger a heap */
#define CAL_SPARES 64u         /* emptied bucket arrays kept for reuse ... */
#define CAL_SPARE_MAX 1024u    /* ... when no larger than this many entries */

typedef struct {
    sim_time_t time;
    uint64_t key; /* prio:4 | seq:36 | tag:24 */
    uint64_t arg;
} heap_entry_t;

/* Only cancellable events (pushed with id_out) hold a slot. */
typedef struct {
    uint32_t handler; /* HANDLER_DEAD when cancelled or free */
    uint32_t gen;
    uint32_t next;    /* while free: index of the next free slot */
} slot_t;

/* One bucket: an unordered array of entries, freed when the bucket fires. */
typedef struct {
    heap_entry_t *v;
    uint32_t len, cap;
} bucket_t;

struct sim_queue {
    heap_entry_t *heap;       /* far heap: HEAP_PAD entries into `heap_block` */
    heap_entry_t *heap_block; /* 64-byte aligned allocation */
    size_t heap_len, heap_cap;
    int far_lazy;             /* heap[0..heap_len) is unordered until far_ready() */
    heap_entry_t *run;        /* run: entries with idx <= cur, run[run_head..run_len) */
    size_t run_head, run_len, run_cap;
    int run_sorted;           /* 1: ascending array popped at run_head; 0: a heap (run_head 0) */
    bucket_t *buckets;        /* 2^nbits of them */
    uint64_t *bucket_bits;    /* non-empty buckets */
    unsigned wshift, nbits;   /* nbits 0: calendar off, everything in the far heap */
    uint64_t cur;
    size_t in_buckets;
    int autotune;
    uint64_t epoch_pops, epoch_len;
    sim_time_t epoch_t0;
    slot_t *slots;
    uint32_t slot_cap;
    uint32_t free_head;
    size_t live;
    size_t lazy_dead;   /* cancelled entries still held (run, buckets, far heap) */
    uint64_t next_seq;
    uint64_t seq_limit; /* SEQ_MASK; lowered only by tests to reach the renumbering path */
    sim_queue_load_fn load_hook; /* NULL: none */
    void *load_ctx;
    /* Arrays of fired buckets, handed to the next buckets that fill: a
     * bucket lap costs no malloc/realloc chain (memory: at most
     * CAL_SPARES * CAL_SPARE_MAX entries). */
    heap_entry_t *spare[CAL_SPARES];
    uint32_t spare_cap[CAL_SPARES];
    unsigned nspare;
};

static inline uint32_t tag_of(const heap_entry_t *e) { return (uint32_t)(e->key & SLOT_MASK); }

/* The entry's handler; HANDLER_DEAD when its event was cancelled. */
static inline uint32_t entry_handler(const sim_queue_t *q, const heap_entry_t *e)
{
    uint32_t tag = tag_of(e);
    return tag & TAG_DIRECT ? tag & ~TAG_DIRECT : q->slots[tag].handler;
}

static inline int entry_less(const heap_entry_t *a, const heap_entry_t *b)
{
    return a->time < b->time || (a->time == b->time && a->key < b->key);
}

static void sift_up(heap_entry_t *h, size_t i)
{
    heap_entry_t e = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / SIM_HEAP_ARITY;
        if (!entry_less(&e, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static void sift_down(heap_entry_t *h, size_t len, size_t i)
{
    heap_entry_t e = h[i];
    for (;;) {
        size_t first = i * SIM_HEAP_ARITY + 1;
        if (first >= len)
            break;
        size_t best = first;
        size_t last = first + SIM_HEAP_ARITY;
        if (last > len)
            last = len;
        for (size_t c = first + 1; c < last; c++)
            if (entry_less(&h[c], &h[best]))
                best = c;
        if (!entry_less(&h[best], &e))
            break;
        h[i] = h[best];
        i = best;
    }
    h[i] = e;
}

static void heapify(heap_entry_t *h, size_t len)
{
    for (size_t i = len / SIM_HEAP_ARITY + 1; i-- > 0;)
        if (i < len)
            sift_down(h, len, i);
}

/* Remove the root: move the last entry there and sift it down.  (Floyd's
 * bottom-up variant measured no faster here; see bench/bench_kernel.c.) */
static void remove_root(heap_entry_t *h, size_t len)
{
    if (--len) {
        h[0] = h[len];
        sift_down(h, len, 0);
    }
}

static void free_buckets(sim_queue_t *q)
{
    if (q->buckets) {
        size_t nb = (size_t)1 << q->nbits;
        for (size_t b = 0; b < nb; b++)
            free(q->buckets[b].v);
    }
    free(q->buckets);
    free(q->bucket_bits);
    q->buckets = NULL;
    q->bucket_bits = NULL;
}

sim_queue_t *sim_queue_new(void)
{
    sim_queue_t *q = calloc(1, sizeof *q);
    if (q) {
        q->run_sorted = 1;
        q->free_head = NO_SLOT;
        q->seq_limit = SEQ_MASK;
        q->autotune = 1;
        q->epoch_len = CAL_MIN_EPOCH;
    }
    return q;
}

void sim_queue_free(sim_queue_t *q)
{
    if (!q)
        return;
    free(q->heap_block);
    free(q->run);
    free_buckets(q);
    free(q->slots);
    for (unsigned i = 0; i < q->nspare; i++)
        free(q->spare[i]);
    free(q);
}

static hs_err_t grow_slots(sim_queue_t *q, uint32_t cap)
{
    if (cap > MAX_SLOTS)
        cap = MAX_SLOTS;
    if (cap <= q->slot_cap)
        return HS_EFULL;
    slot_t *s = realloc(q->slots, (size_t)cap * sizeof *s);
    if (!s)
        return HS_ENOMEM;
    /* Slot 0 is never handed out so that id 0 stays invalid; new slots are
     * chained in ascending order (deterministic, independent of addresses). */
    for (uint32_t i = cap; i-- > q->slot_cap;) {
        s[i].handler = HANDLER_DEAD;
        s[i].gen = 1;
        s[i].next = q->free_head;
        if (i != 0)
            q->free_head = i;
    }
    q->slots = s;
    q->slot_cap = cap;
    return HS_EOK;
}

static hs_err_t grow_heap(sim_queue_t *q, size_t cap)
{
    size_t bytes = (cap + HEAP_PAD) * sizeof(heap_entry_t);
    bytes = (bytes + 63) & ~(size_t)63;
    heap_entry_t *block = aligned_alloc(64, bytes);
    if (!block)
        return HS_ENOMEM;
    if (q->heap_len)
        memcpy(block + HEAP_PAD, q->heap, q->heap_len * sizeof *block);
    free(q->heap_block);
    q->heap_block = block;
    q->heap = block + HEAP_PAD;
    q->heap_cap = cap;
    return HS_EOK;
}

static hs_err_t far_reserve(sim_queue_t *q, size_t n)
{
    if (n <= q->heap_cap)
        return HS_EOK;
    size_t cap = q->heap_cap ? q->heap_cap : 64;
    while (cap < n)
        cap *= 2;
    return grow_heap(q, cap);
}

static hs_err_t run_reserve(sim_queue_t *q, size_t n)
{
    if (n <= q->run_cap)
        return HS_EOK;
    size_t cap = q->run_cap ? q->run_cap : 64;
    while (cap < n)
        cap *= 2;
    heap_entry_t *r = realloc(q->run, cap * sizeof *r);
    if (!r)
        return HS_ENOMEM;
    q->run = r;
    q->run_cap = cap;
    return HS_EOK;
}

/* ---- the run ------------------------------------------------------------- *
 * A bucket holds a handful of entries; sorting them once as the bucket loads
 * and popping from the front is cheaper than a heap's sift per pop.  An entry
 * pushed into the current bucket is inserted in place from the back (it
 * usually sorts last).  A run that grows past RUN_SORTED_MAX (a burst at one
 * instant, a wide bucket) turns into a heap until it empties: an ascending
 * array already is one.  Either way the pop order is the (time, key) order. */

static void sort_small(heap_entry_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        heap_entry_t e = v[i];
        size_t j = i;
        while (j > 0 && entry_less(&e, &v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = e;
    }
}

/* The run was empty and now holds run[0..run_len): order it. */
static void run_loaded(sim_queue_t *q)
{
    q->run_head = 0;
    q->run_sorted = q->run_len <= RUN_SORTED_MAX;
    if (q->run_sorted)
        sort_small(q->run, q->run_len);
    else
        heapify(q->run, q->run_len);
}

static void run_pop(sim_queue_t *q)
{
    if (q->run_sorted) {
        if (++q->run_head < q->run_len)
            return;
    } else if (--q->run_len) {
        q->run[0] = q->run[q->run_len];
        sift_down(q->run, q->run_len, 0);
        return;
    }
    q->run_head = q->run_len = 0;
    q->run_sorted = 1;
}

static COLD hs_err_t run_insert(sim_queue_t *q, const heap_entry_t *e)
{
    size_t n = q->run_len - q->run_head;
    if (q->run_head && (q->run_len == q->run_cap || n >= RUN_SORTED_MAX)) {
        memmove(q->run, q->run + q->run_head, n * sizeof *q->run);
        q->run_head = 0;
        q->run_len = n;
    }
    hs_err_t err = run_reserve(q, q->run_len + 1);
    if (err)
        return err;
    if (q->run_sorted && n >= RUN_SORTED_MAX)
        q->run_sorted = 0; /* ascending from run[0]: a heap as it stands */
    if (!q->run_sorted) {
        q->run[q->run_len] = *e;
        sift_up(q->run, q->run_len++);
        return HS_EOK;
    }
    size_t i = q->run_len++;
    while (i > q->run_head && entry_less(e, &q->run[i - 1])) {
        q->run[i] = q->run[i - 1];
        i--;
    }
    q->run[i] = *e;
    return HS_EOK;
}

static void release_slot(sim_queue_t *q, uint32_t slot)
{
    slot_t *s = &q->slots[slot];
    s->handler = HANDLER_DEAD;
    s->gen++;
    if (s->gen == 0)
        s->gen = 1;
    s->next = q->free_head;
    q->free_head = slot;
}

/* ---- buckets ------------------------------------------------------------- */

static inline uint64_t bucket_of(const sim_queue_t *q, sim_time_t t) { return t >> q->wshift; }

/* A full (or array-less) bucket: a spare array, else a larger one. */
static COLD hs_err_t bucket_grow(sim_queue_t *q, bucket_t *bk)
{
    if (bk->cap == 0 && q->nspare) {
        q->nspare--;
        bk->v = q->spare[q->nspare];
        bk->cap = q->spare_cap[q->nspare];
        if (bk->cap)
            return HS_EOK;
    }
    uint32_t cap = bk->cap ? bk->cap * 2 : 8;
    heap_entry_t *v = realloc(bk->v, cap * sizeof *v);
    if (!v)
        return HS_ENOMEM;
    bk->v = v;
    bk->cap = cap;
    return HS_EOK;
}

static inline hs_err_t bucket_insert(sim_queue_t *q, const heap_entry_t *e, uint64_t idx)
{
    size_t b = (size_t)(idx & ((1ULL << q->nbits) - 1));
    bucket_t *bk = &q->buckets[b];
    if (bk->len == bk->cap && bucket_grow(q, bk) != HS_EOK)
        return HS_ENOMEM;
    if (bk->len == 0)
        q->bucket_bits[b >> 6] |= 1ULL << (b & 63);
    bk->v[bk->len++] = *e;
    q->in_buckets++;
    /* Pushes mostly come in streams at now + a constant (a period, a link
     * latency), so a stream's next bucket is this one's neighbour, filled
     * long ago and cold by now: start fetching the descriptor two buckets
     * ahead and the tail line of the one after this. */
    size_t mask = ((size_t)1 << q->nbits) - 1;
    const bucket_t *nx = &q->buckets[(b + 1) & mask];
    __builtin_prefetch(&q->buckets[(b + 2) & mask], 1);
    if (nx->len < nx->cap)
        __builtin_prefetch(nx->v + nx->len, 1);
    return HS_EOK;
}

/* The smallest bucket index > cur holding entries (all lie below cur + 2^nbits). */
static int next_bucket(const sim_queue_t *q, uint64_t *idx_out)
{
    if (!q->in_buckets)
        return 0;
    size_t nb = (size_t)1 << q->nbits, mask = nb - 1, words = nb >> 6;
    size_t start = (size_t)((q->cur + 1) & mask);
    size_t w = start >> 6;
    uint64_t bits = q->bucket_bits[w] & (~0ULL << (start & 63));
    for (size_t i = 0; i <= words; i++) {
        if (bits) {
            size_t pos = (w << 6) + (size_t)__builtin_ctzll(bits);
            *idx_out = q->cur + 1 + ((pos - start) & mask);
            return 1;
        }
        w = (w + 1) & (words - 1);
        bits = q->bucket_bits[w];
    }
    return 0;
}

/* Start fetching the entries of the next non-empty bucket (written long
 * ago, so cold), so that when it loads they are in cache: a two-stage
 * pipeline (entries one bucket ahead, the owners' state, through the load
 * hook, one bucket ahead of firing). */
static void prefetch_next_bucket(const sim_queue_t *q)
{
    uint64_t idx;
    if (!next_bucket(q, &idx))
        return;
    const bucket_t *bk = &q->buckets[idx & ((1ULL << q->nbits) - 1)];
    if (!bk->len)
        return;
    const char *p = (const char *)bk->v, *end = (const char *)(bk->v + bk->len);
    for (p -= (uintptr_t)p & 63; p < end; p += 64)
        __builtin_prefetch(p);
}

/* Place an entry (its slot, if any, already holds the handler) by its bucket index. */
static COLD hs_err_t far_insert(sim_queue_t *q, const heap_entry_t *e);

static inline hs_err_t place(sim_queue_t *q, const heap_entry_t *e)
{
    if (q->nbits) {
        uint64_t idx = bucket_of(q, e->time);
        if (idx <= q->cur)
            return run_insert(q, e);
        if (idx - q->cur < (1ULL << q->nbits) && bucket_insert(q, e, idx) == HS_EOK)
            return HS_EOK;
    }
    return far_insert(q, e);
}

/* Beyond the calendar's window, or no calendar. */
static COLD hs_err_t far_insert(sim_queue_t *q, const heap_entry_t *e)
{
    hs_err_t err = far_reserve(q, q->heap_len + 1);
    if (err)
        return err;
    q->heap[q->heap_len] = *e;
    /* Pushes into an empty far heap (a fleet scheduling its million first
     * events before anything fires) are appended and heapified when the top
     * is first needed: one sweep instead of a cache-missing sift each. */
    if (q->heap_len == 0 || q->far_lazy)
        q->far_lazy = 1;
    else
        sift_up(q->heap, q->heap_len);
    q->heap_len++;
    return HS_EOK;
}

/* The far heap's top is about to be read. */
static inline void far_ready(sim_queue_t *q)
{
    if (q->far_lazy) {
        heapify(q->heap, q->heap_len);
        q->far_lazy = 0;
    }
}

/* Move every pending entry into the far heap array (unordered), dropping
 * cancelled ones; buckets end empty.  The caller re-heapifies or
 * redistributes. */
static hs_err_t collect_all(sim_queue_t *q)
{
    size_t nrun = q->run_len - q->run_head;
    hs_err_t err = far_reserve(q, q->heap_len + nrun + q->in_buckets);
    if (err)
        return err;
    q->far_lazy = 0; /* the caller orders the array */
    if (nrun)
        memcpy(q->heap + q->heap_len, q->run + q->run_head, nrun * sizeof *q->run);
    q->heap_len += nrun;
    q->run_head = q->run_len = 0;
    q->run_sorted = 1;
    if (q->nbits) {
        size_t words = ((size_t)1 << q->nbits) >> 6;
        for (size_t w = 0; w < words && q->in_buckets; w++) {
            for (uint64_t bits = q->bucket_bits[w]; bits; bits &= bits - 1) {
                bucket_t *bk = &q->buckets[(w << 6) + (size_t)__builtin_ctzll(bits)];
                memcpy(q->heap + q->heap_len, bk->v, bk->len * sizeof *bk->v);
                q->heap_len += bk->len;
                q->in_buckets -= bk->len;
                bk->len = 0;
            }
            q->bucket_bits[w] = 0;
        }
    }
    size_t w = 0;
    for (size_t r = 0; r < q->heap_len; r++) {
        if (entry_handler(q, &q->heap[r]) == HANDLER_DEAD)
            release_slot(q, tag_of(&q->heap[r]));
        else
            q->heap[w++] = q->heap[r];
    }
    q->heap_len = w;
    q->lazy_dead = 0;
    return HS_EOK;
}

/* After collect_all: cur = the earliest entry's bucket; split the far array
 * into run / buckets / far.  Cannot fail: the run fits in the far array's
 * spare room only if reserved, so reserve first. */
static hs_err_t distribute(sim_queue_t *q)
{
    if (!q->nbits || !q->heap_len) {
        heapify(q->heap, q->heap_len);
        return HS_EOK;
    }
    sim_time_t tmin = q->heap[0].time;
    for (size_t i = 1; i < q->heap_len; i++)
        if (q->heap[i].time < tmin)
            tmin = q->heap[i].time;
    q->cur = bucket_of(q, tmin);
    size_t nrun = 0;
    for (size_t i = 0; i < q->heap_len; i++)
        nrun += bucket_of(q, q->heap[i].time) <= q->cur;
    hs_err_t err = run_reserve(q, nrun);
    if (err)
        return err;
    size_t w = 0;
    for (size_t r = 0; r < q->heap_len; r++) {
        heap_entry_t e = q->heap[r];
        uint64_t idx = bucket_of(q, e.time);
        if (idx <= q->cur)
            q->run[q->run_len++] = e;
        else if (idx - q->cur >= (1ULL << q->nbits) || bucket_insert(q, &e, idx) != HS_EOK)
            q->heap[w++] = e; /* beyond the window (or no memory for the bucket): far */
    }
    q->heap_len = w;
    heapify(q->heap, q->heap_len);
    run_loaded(q);
    return HS_EOK;
}

/* Change the calendar geometry (nbits 0: plain heap).  On allocation
 * failure the queue stays a plain heap, which is always correct. */
static void set_geometry(sim_queue_t *q, unsigned wshift, unsigned nbits)
{
    if (collect_all(q) != HS_EOK)
        return; /* unchanged: the old geometry still holds */
    free_buckets(q);
    q->nbits = 0;
    q->wshift = wshift;
    q->cur = 0;
    if (nbits) {
        size_t nb = (size_t)1 << nbits;
        q->buckets = calloc(nb, sizeof *q->buckets);
        q->bucket_bits = calloc(nb >> 6, sizeof *q->bucket_bits);
        if (q->buckets && q->bucket_bits) {
            q->nbits = nbits;
        } else {
            free(q->buckets);
            free(q->bucket_bits);
            q->buckets = NULL;
            q->bucket_bits = NULL;
        }
    }
    if (distribute(q) != HS_EOK) {
        /* no room for the run: fall back to the plain heap */
        collect_all(q);
        q->nbits = 0;
        heapify(q->heap, q->heap_len);
    }
}

static unsigned log2_floor(uint64_t v)
{
    return v ? 63u - (unsigned)__builtin_clzll(v) : 0u;
}

/* After an epoch of pops: bucket width 8-16 mean gaps between pops,
 * pending/4..pending/2 buckets.  Only a change of at least 2x in either moves entries around. */
static void retune(sim_queue_t *q, sim_time_t now)
{
    uint64_t pops = q->epoch_pops;
    sim_time_t span = now >= q->epoch_t0 ? now - q->epoch_t0 : 0;
    q->epoch_pops = 0;
    q->epoch_t0 = now;
    q->epoch_len = q->live > CAL_MIN_EPOCH ? q->live : CAL_MIN_EPOCH;
    if (!q->autotune)
        return;
    if (q->live < CAL_MIN_LIVE) {
        if (q->nbits && q->live < CAL_MIN_LIVE / 4)
            set_geometry(q, 0, 0);
        return;
    }
    /* buckets 8-16 mean gaps wide, pending/4..pending/2 of them: the window
     * spans 2-8 times the time it takes to drain what is pending */
    unsigned wshift = log2_floor(8 * (span / (pops ? pops : 1))) + 1;
    unsigned nbits = log2_floor(q->live) - 1;
    if (nbits < CAL_MIN_BITS)
        nbits = CAL_MIN_BITS;
    if (nbits > CAL_MAX_BITS)
        nbits = CAL_MAX_BITS;
    if (wshift > 63 - CAL_MAX_BITS)
        wshift = 63 - CAL_MAX_BITS;
    if (q->nbits && wshift + 1 >= q->wshift && wshift <= q->wshift + 1 && nbits + 2 >= q->nbits &&
        nbits <= q->nbits + 1)
        return;
    set_geometry(q, wshift, nbits);
}

/* Run empty: make cur the next bucket index holding entries and sort its
 * entries (bucket list plus far entries of that index) into the run.
 * 0 when nothing is pending. */
static int advance(sim_queue_t *q)
{
    uint64_t bidx = 0, fidx = 0;
    int has_b = next_bucket(q, &bidx);
    int has_f = q->heap_len > 0;
    if (!has_b && !has_f)
        return 0;
    far_ready(q);
    if (has_f)
        fidx = bucket_of(q, q->heap[0].time);
    uint64_t c = has_b && (!has_f || bidx <= fidx) ? bidx : fidx;
    q->cur = c;
    if (has_b && bidx == c) {
        size_t b = (size_t)(c & ((1ULL << q->nbits) - 1));
        bucket_t *bk = &q->buckets[b];
        if (run_reserve(q, q->run_len + bk->len) != HS_EOK)
            return -1;
        /* The entries were prefetched one bucket earlier (see
         * prefetch_next_bucket); tell the owners about them now. */
        if (q->load_hook)
            for (uint32_t i = 0; i < bk->len; i++) {
                uint32_t h = entry_handler(q, &bk->v[i]);
                if (h != HANDLER_DEAD)
                    q->load_hook(q->load_ctx, h, bk->v[i].arg);
            }
        memcpy(q->run + q->run_len, bk->v, bk->len * sizeof *bk->v);
        q->run_len += bk->len;
        q->in_buckets -= bk->len;
        /* Give the memory back: a window is mostly buckets that are not in
         * use yet, and keeping every bucket's peak room costs more than a
         * malloc per bucket lap; a few small arrays wait for the next
         * buckets to fill instead. */
        if (q->nspare < CAL_SPARES && bk->cap <= CAL_SPARE_MAX) {
            q->spare[q->nspare] = bk->v;
            q->spare_cap[q->nspare++] = bk->cap;
        } else {
            free(bk->v);
        }
        *bk = (bucket_t){ NULL, 0, 0 };
        q->bucket_bits[b >> 6] &= ~(1ULL << (b & 63));
        prefetch_next_bucket(q);
    }
    while (q->heap_len && bucket_of(q, q->heap[0].time) == c) {
        if (run_reserve(q, q->run_len + 1) != HS_EOK)
            return -1;
        if (q->load_hook) {
            uint32_t h = entry_handler(q, &q->heap[0]);
            if (h != HANDLER_DEAD)
                q->load_hook(q->load_ctx, h, q->heap[0].arg);
        }
        q->run[q->run_len++] = q->heap[0];
        remove_root(q->heap, q->heap_len--);
    }
    run_loaded(q);
    return 1;
}

/* Where the next event waits: the run, or the far heap when the calendar
 * is off. */
enum { TOP_RUN, TOP_FAR };

static void drop_top(sim_queue_t *q, int where)
{
    if (where == TOP_RUN)
        run_pop(q);
    else
        remove_root(q->heap, q->heap_len--);
}

/* next_top's general case: load the next bucket, drop cancelled tops, or
 * use the far heap. */
static COLD heap_entry_t *next_top_slow(sim_queue_t *q, int *where)
{
    for (;;) {
        heap_entry_t *h;
        int w;
        if (q->run_len) {
            h = q->run + q->run_head;
            w = TOP_RUN;
        } else if (q->nbits && (q->heap_len || q->in_buckets)) {
            int a = advance(q);
            if (a < 0) {
                /* out of memory while loading: continue as a plain heap */
                collect_all(q);
                q->nbits = 0;
                heapify(q->heap, q->heap_len);
            }
            continue;
        } else if (q->heap_len) {
            far_ready(q);
            h = q->heap;
            w = TOP_FAR;
        } else {
            return NULL;
        }
        uint32_t tag = tag_of(h);
        if ((tag & TAG_DIRECT) || q->slots[tag].handler != HANDLER_DEAD) {
            *where = w;
            return h;
        }
        release_slot(q, tag);
        q->lazy_dead--;
        drop_top(q, w);
    }
}

/* The next live entry, after dropping cancelled tops; NULL when empty. */
static inline heap_entry_t *next_top(sim_queue_t *q, int *where)
{
    if (q->run_len) {
        heap_entry_t *h = q->run + q->run_head;
        if (tag_of(h) & TAG_DIRECT) {
            *where = TOP_RUN;
            return h;
        }
    }
    return next_top_slow(q, where);
}

static int cmp_entries_fwd(const void *a, const void *b)
{
    const heap_entry_t *x = a, *y = b;
    if (entry_less(x, y))
        return -1;
    return entry_less(y, x) ? 1 : 0;
}

/* Drop dead entries from the run and far heaps and/or renumber sequences. */
static COLD void rebuild(sim_queue_t *q, int renumber)
{
    if (renumber) {
        unsigned nbits = q->nbits, wshift = q->wshift;
        if (collect_all(q) != HS_EOK)
            return;
        qsort(q->heap, q->heap_len, sizeof *q->heap, cmp_entries_fwd);
        for (size_t i = 0; i < q->heap_len; i++) {
            uint64_t prio = q->heap[i].key >> (SEQ_BITS + SLOT_BITS);
            uint64_t tag = q->heap[i].key & SLOT_MASK;
            q->heap[i].key = (prio << (SEQ_BITS + SLOT_BITS)) | ((uint64_t)i << SLOT_BITS) | tag;
        }
        q->next_seq = q->heap_len;
        if (nbits) {
            q->nbits = nbits; /* buckets were emptied by collect_all */
            q->wshift = wshift;
            if (distribute(q) != HS_EOK) {
                collect_all(q);
                q->nbits = 0;
                heapify(q->heap, q->heap_len);
            }
        } /* else: a sorted array is already a heap */
        return;
    }
    /* collect_all drops the dead; distribute puts the rest back in place */
    if (collect_all(q) != HS_EOK)
        return;
    if (distribute(q) != HS_EOK) {
        collect_all(q);
        q->nbits = 0;
        heapify(q->heap, q->heap_len);
    }
}

/* A push that asks for an id (or whose handler is too large for a tag):
 * the event takes a slot. */
static COLD hs_err_t push_slotted(sim_queue_t *q, heap_entry_t *e, uint32_t handler, sim_event_id_t *id_out)
{
    if (q->free_head == NO_SLOT) {
        hs_err_t err = grow_slots(q, q->slot_cap ? q->slot_cap * 2 : 64);
        if (err)
            return err;
        if (q->free_head == NO_SLOT)
            return HS_EFULL;
    }
    uint32_t tag = q->free_head;
    slot_t *s = &q->slots[tag];
    e->key |= tag;
    s->handler = handler;
    hs_err_t err = place(q, e);
    if (err) {
        s->handler = HANDLER_DEAD;
        return err;
    }
    q->free_head = s->next;
    if (id_out)
        *id_out = ((uint64_t)s->gen << SLOT_BITS) | tag;
    return HS_EOK;
}

hs_err_t sim_queue_push(sim_queue_t *q, sim_time_t t, uint32_t priority, uint32_t handler,
                        uint64_t arg, sim_event_id_t *id_out)
{
    if (priority > SIM_PRIO_MAX || handler == HANDLER_DEAD)
        return HS_ERANGE;
    if (q->live >= SIM_QUEUE_MAX_PENDING)
        return HS_EFULL;
    if (q->next_seq > q->seq_limit)
        rebuild(q, 1);
    heap_entry_t e = { t, ((uint64_t)priority << (SEQ_BITS + SLOT_BITS)) | (q->next_seq << SLOT_BITS), arg };
    hs_err_t err;
    if (!id_out && handler < TAG_DIRECT) {
        /* Nobody can cancel an event whose id nobody asked for: no slot. */
        e.key |= TAG_DIRECT | handler;
        err = place(q, &e);
    } else {
        err = push_slotted(q, &e, handler, id_out);
    }
    if (err)
        return err;
    q->next_seq++;
    q->live++;
    return HS_EOK;
}

hs_err_t sim_queue_cancel(sim_queue_t *q, sim_event_id_t id)
{
    uint32_t slot = (uint32_t)(id & SLOT_MASK);
    uint32_t gen = (uint32_t)(id >> SLOT_BITS);
    if (slot == 0 || slot >= q->slot_cap)
        return HS_ENOTFOUND;
    slot_t *s = &q->slots[slot];
    if (s->gen != gen || s->handler == HANDLER_DEAD)
        return HS_ENOTFOUND;
    q->live--;
    s->handler = HANDLER_DEAD;
    q->lazy_dead++;
    /* Compact when dead entries dominate, so cancel-heavy owners (method
     * timeouts that are nearly always cancelled) cannot bloat the queue. */
    if (q->lazy_dead > 1024 && q->lazy_dead > q->live)
        rebuild(q, 0);
    return HS_EOK;
}

/* Pop the live top found by next_top. */
static void pop_top(sim_queue_t *q, const heap_entry_t *top_p, int where, sim_event_t *out)
{
    heap_entry_t top = *top_p;
    uint32_t tag = tag_of(&top);
    out->time = top.time;
    out->priority = (uint32_t)(top.key >> (SEQ_BITS + SLOT_BITS));
    out->arg = top.arg;
    if (tag & TAG_DIRECT) {
        out->id = 0;
        out->handler = tag & ~TAG_DIRECT;
    } else {
        const slot_t *s = &q->slots[tag];
        out->id = ((uint64_t)s->gen << SLOT_BITS) | tag;
        out->handler = s->handler;
        release_slot(q, tag);
    }
    q->live--;
    drop_top(q, where);
    if (++q->epoch_pops >= q->epoch_len)
        retune(q, top.time);
}

int sim_queue_pop(sim_queue_t *q, sim_event_t *out)
{
    int where;
    const heap_entry_t *h = next_top(q, &where);
    if (!h)
        return 0;
    pop_top(q, h, where, out);
    return 1;
}

int sim_queue_pop_until(sim_queue_t *q, sim_time_t until, sim_event_t *out)
{
    int where;
    const heap_entry_t *h = next_top(q, &where);
    if (!h || h->time > until)
        return 0;
    pop_top(q, h, where, out);
    return 1;
}

int sim_queue_peek_time(sim_queue_t *q, sim_time_t *out)
{
    int where;
    const heap_entry_t *h = next_top(q, &where);
    if (!h)
        return 0;
    *out = h->time;
    return 1;
}

int sim_queue_peek_next(sim_queue_t *q, uint32_t *handler, uint64_t *arg)
{
    int where;
    const heap_entry_t *h = next_top(q, &where);
    if (!h)
        return 0;
    *handler = entry_handler(q, h);
    *arg = h->arg;
    return 1;
}

size_t sim_queue_size(const sim_queue_t *q) { return q->live; }

void sim_queue_set_load_hook(sim_queue_t *q, sim_queue_load_fn fn, void *ctx)
{
    q->load_hook = fn;
    q->load_ctx = ctx;
}

size_t sim_queue_bytes(const sim_queue_t *q)
{
    size_t buckets = 0;
    if (q->nbits) {
        size_t nb = (size_t)1 << q->nbits;
        buckets = nb * sizeof(bucket_t) + nb / 8;
        for (size_t b = 0; b < nb; b++)
            buckets += q->buckets[b].cap * sizeof(heap_entry_t);
    }
    for (unsigned i = 0; i < q->nspare; i++)
        buckets += q->spare_cap[i] * sizeof(heap_entry_t);
    return q->heap_cap * sizeof(heap_entry_t) + q->run_cap * sizeof(heap_entry_t) +
           (size_t)q->slot_cap * sizeof(slot_t) + buckets;
}

void sim_queue_set_seq_limit(sim_queue_t *q, uint64_t limit)
{
    q->seq_limit = limit < SEQ_MASK ? limit : SEQ_MASK;
}

hs_err_t sim_queue_set_calendar(sim_queue_t *q, unsigned bucket_shift, unsigned bucket_bits)
{
    if (bucket_bits && (bucket_bits < 6 || bucket_bits > CAL_MAX_BITS || bucket_shift > 63 - CAL_MAX_BITS))
        return HS_ERANGE;
    q->autotune = 0;
    set_geometry(q, bucket_shift, bucket_bits);
    return q->nbits == bucket_bits ? HS_EOK : HS_ENOMEM;
}

hs_err_t sim_queue_reserve(sim_queue_t *q, size_t pending)
{
    if (pending > SIM_QUEUE_MAX_PENDING)
        return HS_EFULL;
    if (pending > q->heap_cap)
        return grow_heap(q, pending);
    return HS_EOK;
}
