/* d-ary heap of 16-byte entries plus a slot table: (time, prio, seq) order, lazy O(1) cancel.
 *
 * Model.  Each heap entry is {time, key}; key packs priority (4 bits),
 * insertion sequence (36 bits) and slot index (24 bits), so comparing two
 * entries is two integer compares and the slot bits never decide an order
 * (sequences are unique).  A slot holds the handler, argument and a
 * generation counter; an event id is (generation, slot), so a stale id (fired
 * or cancelled) is recognised in O(1).  Cancel marks the slot dead; the heap
 * entry is discarded when it reaches the top, and the heap is compacted when
 * dead entries outnumber live ones.  With arity 4 a node's children share one
 * 64-byte cache line.  Pending cost: 16 (heap) + 16 (slot) = 32 bytes.
 * When the 36-bit sequence would wrap, pending entries are renumbered in
 * their current order: deterministic, and never observable. */
#include "event_queue.h"

#include <stdlib.h>
#include <string.h>

#ifndef SIM_HEAP_ARITY
#define SIM_HEAP_ARITY 4
#endif

#define SLOT_BITS 24
#define SEQ_BITS  36
#define SLOT_MASK ((1ULL << SLOT_BITS) - 1)
#define SEQ_MASK  ((1ULL << SEQ_BITS) - 1)
#define HANDLER_DEAD 0u
#define NO_SLOT UINT32_MAX
/* With arity 4 the children of node i are 4i+1..4i+4; shifting the array by
 * 3 entries puts each such group at a 64-byte boundary: one cache line. */
#define HEAP_PAD (SIM_HEAP_ARITY == 4 ? 3 : 0)

typedef struct {
    sim_time_t time;
    uint64_t key; /* prio:4 | seq:36 | slot:24 */
} heap_entry_t;

typedef struct {
    uint64_t arg;     /* while free: index of the next free slot */
    uint32_t handler; /* HANDLER_DEAD when cancelled or free */
    uint32_t gen;
} slot_t;

struct sim_queue {
    heap_entry_t *heap;       /* HEAP_PAD entries into `heap_block` */
    heap_entry_t *heap_block; /* 64-byte aligned allocation */
    size_t heap_len, heap_cap;
    slot_t *slots;
    uint32_t slot_cap;
    uint32_t free_head;
    size_t live;
    uint64_t next_seq;
    uint64_t seq_limit; /* SEQ_MASK; lowered only by tests to reach the renumbering path */
};

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

/* Remove the root: move the last entry there and sift it down.  (Floyd's
 * bottom-up variant measured no faster here; see bench/bench_kernel.c.) */
static void remove_root(heap_entry_t *h, size_t len)
{
    if (--len) {
        h[0] = h[len];
        sift_down(h, len, 0);
    }
}

sim_queue_t *sim_queue_new(void)
{
    sim_queue_t *q = calloc(1, sizeof *q);
    if (q) {
        q->free_head = NO_SLOT;
        q->seq_limit = SEQ_MASK;
    }
    return q;
}

void sim_queue_free(sim_queue_t *q)
{
    if (!q)
        return;
    free(q->heap_block);
    free(q->slots);
    free(q);
}

static hs_err_t grow_slots(sim_queue_t *q, uint32_t cap)
{
    if (cap > SIM_QUEUE_MAX_PENDING + 1u)
        cap = SIM_QUEUE_MAX_PENDING + 1u;
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
        s[i].arg = q->free_head;
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

static void release_slot(sim_queue_t *q, uint32_t slot)
{
    slot_t *s = &q->slots[slot];
    s->handler = HANDLER_DEAD;
    s->gen++;
    if (s->gen == 0)
        s->gen = 1;
    s->arg = q->free_head;
    q->free_head = slot;
}

static int cmp_entries(const void *a, const void *b)
{
    const heap_entry_t *x = a, *y = b;
    if (entry_less(x, y))
        return -1;
    return entry_less(y, x) ? 1 : 0;
}

/* Drop dead entries and/or renumber sequences; rebuild the heap. */
static void rebuild(sim_queue_t *q, int renumber)
{
    size_t w = 0;
    for (size_t r = 0; r < q->heap_len; r++) {
        uint32_t slot = (uint32_t)(q->heap[r].key & SLOT_MASK);
        if (q->slots[slot].handler == HANDLER_DEAD)
            release_slot(q, slot);
        else
            q->heap[w++] = q->heap[r];
    }
    q->heap_len = w;
    if (renumber) {
        qsort(q->heap, q->heap_len, sizeof *q->heap, cmp_entries);
        for (size_t i = 0; i < q->heap_len; i++) {
            uint64_t prio = q->heap[i].key >> (SEQ_BITS + SLOT_BITS);
            uint64_t slot = q->heap[i].key & SLOT_MASK;
            q->heap[i].key = (prio << (SEQ_BITS + SLOT_BITS)) | ((uint64_t)i << SLOT_BITS) | slot;
        }
        q->next_seq = q->heap_len;
        return; /* a sorted array is already a heap */
    }
    for (size_t i = q->heap_len / SIM_HEAP_ARITY + 1; i-- > 0;)
        if (i < q->heap_len)
            sift_down(q->heap, q->heap_len, i);
}

hs_err_t sim_queue_push(sim_queue_t *q, sim_time_t t, uint32_t priority, uint32_t handler,
                        uint64_t arg, sim_event_id_t *id_out)
{
    if (priority > SIM_PRIO_MAX || handler == HANDLER_DEAD)
        return HS_ERANGE;
    if (q->free_head == NO_SLOT) {
        hs_err_t err = grow_slots(q, q->slot_cap ? q->slot_cap * 2 : 64);
        if (err)
            return err;
        if (q->free_head == NO_SLOT)
            return HS_EFULL;
    }
    if (q->heap_len == q->heap_cap) {
        hs_err_t err = grow_heap(q, q->heap_cap ? q->heap_cap * 2 : 64);
        if (err)
            return err;
    }
    if (q->next_seq > q->seq_limit)
        rebuild(q, 1);
    uint32_t slot = q->free_head;
    slot_t *s = &q->slots[slot];
    q->free_head = (uint32_t)s->arg;
    s->arg = arg;
    s->handler = handler;
    uint64_t key = ((uint64_t)priority << (SEQ_BITS + SLOT_BITS)) | (q->next_seq++ << SLOT_BITS) | slot;
    q->heap[q->heap_len] = (heap_entry_t){ t, key };
    sift_up(q->heap, q->heap_len++);
    q->live++;
    if (id_out)
        *id_out = ((uint64_t)s->gen << SLOT_BITS) | slot;
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
    s->handler = HANDLER_DEAD;
    q->live--;
    /* Compact when dead entries dominate, so cancel-heavy owners (method
     * timeouts that are nearly always cancelled) cannot bloat the heap. */
    if (q->heap_len > 1024 && q->heap_len - q->live > q->live)
        rebuild(q, 0);
    return HS_EOK;
}

static void drop_dead_top(sim_queue_t *q)
{
    while (q->heap_len) {
        uint32_t slot = (uint32_t)(q->heap[0].key & SLOT_MASK);
        if (q->slots[slot].handler != HANDLER_DEAD)
            return;
        release_slot(q, slot);
        remove_root(q->heap, q->heap_len--);
    }
}

int sim_queue_pop(sim_queue_t *q, sim_event_t *out)
{
    drop_dead_top(q);
    if (!q->heap_len)
        return 0;
    heap_entry_t top = q->heap[0];
    uint32_t slot = (uint32_t)(top.key & SLOT_MASK);
    slot_t *s = &q->slots[slot];
    out->time = top.time;
    out->id = ((uint64_t)s->gen << SLOT_BITS) | slot;
    out->handler = s->handler;
    out->priority = (uint32_t)(top.key >> (SEQ_BITS + SLOT_BITS));
    out->arg = s->arg;
    release_slot(q, slot);
    q->live--;
    remove_root(q->heap, q->heap_len--);
    return 1;
}

int sim_queue_peek_time(sim_queue_t *q, sim_time_t *out)
{
    drop_dead_top(q);
    if (!q->heap_len)
        return 0;
    *out = q->heap[0].time;
    return 1;
}

size_t sim_queue_size(const sim_queue_t *q) { return q->live; }

size_t sim_queue_bytes(const sim_queue_t *q)
{
    return q->heap_cap * sizeof(heap_entry_t) + (size_t)q->slot_cap * sizeof(slot_t);
}

void sim_queue_set_seq_limit(sim_queue_t *q, uint64_t limit)
{
    q->seq_limit = limit < SEQ_MASK ? limit : SEQ_MASK;
}

hs_err_t sim_queue_reserve(sim_queue_t *q, size_t pending)
{
    if (pending > SIM_QUEUE_MAX_PENDING)
        return HS_EFULL;
    if (pending > q->heap_cap) {
        hs_err_t err = grow_heap(q, pending);
        if (err)
            return err;
    }
    if (pending + 1 > q->slot_cap)
        return grow_slots(q, (uint32_t)pending + 1);
    return HS_EOK;
}
