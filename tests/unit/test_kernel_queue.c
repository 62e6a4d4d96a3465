/* Event queue and kernel: ordering, cancel semantics, compaction, renumbering, randomized model check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sim/event_queue.h"
#include "sim/kernel.h"
#include "sim/rng.h"

static void pop_expect(sim_queue_t *q, sim_time_t t, uint64_t arg)
{
    sim_event_t ev;
    assert_int_equal(sim_queue_pop(q, &ev), 1);
    assert_int_equal(ev.time, t);
    assert_int_equal(ev.arg, arg);
}

static void test_equal_time_and_priority_is_fifo(void **state)
{
    (void)state;
    sim_queue_t *q = sim_queue_new();
    for (uint64_t i = 0; i < 100; i++)
        assert_int_equal(sim_queue_push(q, 50, 3, 1, i, NULL), HS_EOK);
    for (uint64_t i = 0; i < 100; i++)
        pop_expect(q, 50, i);
    sim_event_t ev;
    assert_int_equal(sim_queue_pop(q, &ev), 0);
    sim_queue_free(q);
}

static void test_time_then_priority_then_insertion(void **state)
{
    (void)state;
    sim_queue_t *q = sim_queue_new();
    sim_queue_push(q, 20, 0, 1, 100, NULL);
    sim_queue_push(q, 10, 9, 1, 1, NULL);
    sim_queue_push(q, 10, 2, 1, 2, NULL);
    sim_queue_push(q, 10, 2, 1, 3, NULL);
    sim_queue_push(q, 10, 0, 1, 4, NULL);
    pop_expect(q, 10, 4);
    pop_expect(q, 10, 2);
    pop_expect(q, 10, 3);
    pop_expect(q, 10, 1);
    pop_expect(q, 20, 100);
    assert_int_equal(sim_queue_size(q), 0);
    sim_queue_free(q);
}

static void test_cancel_pending_fired_unknown(void **state)
{
    (void)state;
    sim_queue_t *q = sim_queue_new();
    sim_event_id_t a, b, c;
    sim_queue_push(q, 5, 0, 1, 1, &a);
    sim_queue_push(q, 6, 0, 1, 2, &b);
    sim_queue_push(q, 7, 0, 1, 3, &c);
    assert_int_equal(sim_queue_cancel(q, b), HS_EOK);        /* pending */
    assert_int_equal(sim_queue_cancel(q, b), HS_ENOTFOUND);  /* already cancelled */
    assert_int_equal(sim_queue_size(q), 2);
    pop_expect(q, 5, 1);
    assert_int_equal(sim_queue_cancel(q, a), HS_ENOTFOUND);  /* fired */
    assert_int_equal(sim_queue_cancel(q, 0), HS_ENOTFOUND);  /* never valid */
    assert_int_equal(sim_queue_cancel(q, (sim_event_id_t)0xfffffffffULL), HS_ENOTFOUND);
    pop_expect(q, 7, 3);
    /* The slot of a fired event is reused; the old id must stay dead. */
    sim_event_id_t d;
    sim_queue_push(q, 9, 0, 1, 4, &d);
    assert_int_not_equal(d, a);
    assert_int_equal(sim_queue_cancel(q, a), HS_ENOTFOUND);
    assert_int_equal(sim_queue_cancel(q, c), HS_ENOTFOUND);
    assert_int_equal(sim_queue_cancel(q, d), HS_EOK);
    sim_event_t ev;
    assert_int_equal(sim_queue_pop(q, &ev), 0);
    sim_queue_free(q);
}

static void test_bad_priority_and_handler(void **state)
{
    (void)state;
    sim_queue_t *q = sim_queue_new();
    assert_int_equal(sim_queue_push(q, 1, 16, 1, 0, NULL), HS_ERANGE);
    assert_int_equal(sim_queue_push(q, 1, 15, 0, 0, NULL), HS_ERANGE);
    assert_int_equal(sim_queue_push(q, 1, 15, 1, 0, NULL), HS_EOK);
    sim_event_t ev;
    assert_int_equal(sim_queue_pop(q, &ev), 1);
    sim_queue_free(q);
}

/* Mass cancellation triggers compaction; order must survive it. */
static void test_compaction_keeps_order(void **state)
{
    (void)state;
    sim_queue_t *q = sim_queue_new();
    enum { N = 5000 };
    sim_event_id_t *ids = calloc(N, sizeof *ids);
    for (uint64_t i = 0; i < N; i++)
        sim_queue_push(q, (N - i) * 10, 0, 1, i, &ids[i]);
    size_t bytes_before = sim_queue_bytes(q);
    for (uint64_t i = 0; i < N; i++)
        if (i % 5 != 0)
            assert_int_equal(sim_queue_cancel(q, ids[i]), HS_EOK);
    assert_int_equal(sim_queue_size(q), N / 5);
    assert_true(sim_queue_bytes(q) <= bytes_before);
    sim_time_t last = 0;
    sim_event_t ev;
    size_t n = 0;
    while (sim_queue_pop(q, &ev)) {
        assert_true(ev.time >= last);
        assert_int_equal(ev.arg % 5, 0);
        last = ev.time;
        n++;
    }
    assert_int_equal(n, N / 5);
    free(ids);
    sim_queue_free(q);
}

/* Sequence wrap: renumbering must preserve (time, priority, insertion) order. */
static void test_sequence_renumbering(void **state)
{
    (void)state;
    sim_queue_t *q = sim_queue_new();
    sim_queue_set_seq_limit(q, 10);
    sim_event_id_t mid;
    for (uint64_t i = 0; i < 40; i++)
        sim_queue_push(q, 100 + (i % 3), 1, 1, i, i == 20 ? &mid : NULL);
    assert_int_equal(sim_queue_cancel(q, mid), HS_EOK);
    uint64_t expect_time = 100, seen = 0;
    int64_t last_arg = -1;
    sim_event_t ev;
    while (sim_queue_pop(q, &ev)) {
        if (ev.time != expect_time) {
            assert_true(ev.time > expect_time);
            expect_time = ev.time;
            last_arg = -1;
        }
        assert_true((int64_t)ev.arg > last_arg); /* FIFO within one instant */
        assert_int_equal(ev.arg % 3, ev.time - 100);
        assert_int_not_equal(ev.arg, 20);
        last_arg = (int64_t)ev.arg;
        seen++;
    }
    assert_int_equal(seen, 39);
    sim_queue_free(q);
}

/* 10^6 mixed operations against a linear-scan reference model. */
typedef struct { sim_time_t t; uint32_t prio; uint64_t seq; uint64_t arg; sim_event_id_t id; } ref_t;

/* A randomized run: pushes at now + below(spread), cancels, pops checked
 * against the linear-scan reference (time, then priority, then insertion).
 * `geometry` runs every few thousand operations: it may change the queue's
 * calendar while events are pending.  `direct_pct` percent of the pushes ask
 * for no id (no slot: they cannot be cancelled and pop with id 0). */
static void randomized_run(int ops, uint64_t spread, uint64_t seq_limit,
                           void (*geometry)(sim_queue_t *q, int op), unsigned direct_pct)
{
    sim_queue_t *q = sim_queue_new();
    if (seq_limit)
        sim_queue_set_seq_limit(q, seq_limit);
    sim_rng_t r;
    sim_rng_init(&r, 42, 7);
    enum { CAP = 4096 };
    ref_t *ref = calloc(CAP, sizeof *ref);
    size_t n = 0;
    uint64_t seq = 0;
    sim_time_t now = 0;
    for (int op = 0; op < ops; op++) {
        if (geometry && op % 4096 == 0)
            geometry(q, op);
        uint64_t dice = sim_rng_below(&r, 100);
        if ((dice < 50 && n < CAP) || n == 0) {
            ref_t e = { now + sim_rng_below(&r, spread), (uint32_t)sim_rng_below(&r, 3), seq++,
                        sim_rng_next(&r), 0 };
            int direct = direct_pct && sim_rng_below(&r, 100) < direct_pct;
            assert_int_equal(sim_queue_push(q, e.t, e.prio, 1, e.arg, direct ? NULL : &e.id), HS_EOK);
            ref[n++] = e;
        } else if (dice < 65) {
            size_t victim = sim_rng_below(&r, n);
            if (ref[victim].id == 0) /* no id: cannot be cancelled */
                continue;
            assert_int_equal(sim_queue_cancel(q, ref[victim].id), HS_EOK);
            assert_int_equal(sim_queue_cancel(q, ref[victim].id), HS_ENOTFOUND);
            ref[victim] = ref[--n];
        } else {
            size_t best = 0;
            for (size_t i = 1; i < n; i++) {
                const ref_t *a = &ref[i], *b = &ref[best];
                if (a->t < b->t || (a->t == b->t && (a->prio < b->prio ||
                                                     (a->prio == b->prio && a->seq < b->seq))))
                    best = i;
            }
            sim_event_t ev;
            if (dice < 70) {
                sim_time_t peek;
                assert_int_equal(sim_queue_peek_time(q, &peek), 1);
                assert_int_equal(peek, ref[best].t);
            }
            assert_int_equal(sim_queue_pop(q, &ev), 1);
            assert_int_equal(ev.time, ref[best].t);
            assert_int_equal(ev.arg, ref[best].arg);
            assert_int_equal(ev.id, ref[best].id);
            now = ev.time;
            ref[best] = ref[--n];
        }
        assert_int_equal(sim_queue_size(q), n);
    }
    free(ref);
    sim_queue_free(q);
}

static void test_randomized_against_reference(void **state)
{
    (void)state;
    randomized_run(1000000, 64, 0, NULL, 0);
}

/* The calendar front-end: buckets narrower and wider than the spread of
 * times, a window shorter than the spread (the far heap is used), entries
 * earlier than the current bucket; the same reference order every time. */
static void geometry_fixed_narrow(sim_queue_t *q, int op)
{
    if (op == 0)
        assert_int_equal(sim_queue_set_calendar(q, 0, 6), HS_EOK); /* 1 ns x 64: window 64 ns */
}
static void geometry_fixed_wide(sim_queue_t *q, int op)
{
    if (op == 0)
        assert_int_equal(sim_queue_set_calendar(q, 4, 8), HS_EOK); /* 16 ns x 256 */
}
static void geometry_changing(sim_queue_t *q, int op)
{
    /* re-cut the calendar (or switch it off) with events pending */
    static const unsigned shapes[][2] = { { 0, 6 }, { 3, 10 }, { 0, 0 }, { 7, 6 }, { 1, 12 } };
    const unsigned *g = shapes[(op / 4096) % 5];
    assert_int_equal(sim_queue_set_calendar(q, g[0], g[1]), HS_EOK);
}

static void test_calendar_against_reference(void **state)
{
    (void)state;
    sim_queue_t *bad = sim_queue_new();
    assert_int_equal(sim_queue_set_calendar(bad, 0, 5), HS_ERANGE); /* fewer than 64 buckets */
    assert_int_equal(sim_queue_set_calendar(bad, 60, 10), HS_ERANGE);
    sim_queue_free(bad);
    randomized_run(300000, 64, 0, geometry_fixed_narrow, 0);
    randomized_run(300000, 1000, 0, geometry_fixed_narrow, 0); /* mostly far */
    randomized_run(300000, 64, 0, geometry_fixed_wide, 0);     /* many per bucket */
    randomized_run(300000, 5000, 0, geometry_changing, 0);
    randomized_run(100000, 300, 1000, geometry_changing, 0);   /* sequence renumbering too */
}

/* Events pushed without an id (no slot) mixed with cancellable ones: the
 * same order in every part of the queue, through compaction and renumbering. */
static void test_direct_events_against_reference(void **state)
{
    (void)state;
    randomized_run(300000, 64, 0, NULL, 40);
    randomized_run(300000, 64, 0, geometry_fixed_wide, 60);
    randomized_run(300000, 5000, 0, geometry_changing, 40);
    randomized_run(100000, 300, 1000, geometry_changing, 50);
}

/* A handler too large for an entry's tag takes a slot even without an id;
 * pop_until stops at `until` and pops nothing past it; direct events report
 * id 0, cancellable ones their id. */
static void test_direct_tag_limits_and_pop_until(void **state)
{
    (void)state;
    sim_queue_t *q = sim_queue_new();
    const uint32_t big = (1u << 23) + 5, top = UINT32_MAX;
    sim_event_id_t id;
    assert_int_equal(sim_queue_push(q, 30, 1, top, 3, NULL), HS_EOK);
    assert_int_equal(sim_queue_push(q, 10, 1, big, 1, NULL), HS_EOK);
    assert_int_equal(sim_queue_push(q, 20, 1, 7, 2, &id), HS_EOK);
    assert_int_equal(sim_queue_push(q, 20, 1, (1u << 23) - 1, 4, NULL), HS_EOK);
    uint32_t h;
    uint64_t arg;
    assert_int_equal(sim_queue_peek_next(q, &h, &arg), 1);
    assert_int_equal(h, big);
    assert_int_equal(arg, 1);
    sim_event_t ev;
    assert_int_equal(sim_queue_pop_until(q, 9, &ev), 0);
    assert_int_equal(sim_queue_size(q), 4);
    assert_int_equal(sim_queue_pop_until(q, 10, &ev), 1);
    assert_int_equal(ev.handler, big);
    assert_int_not_equal(ev.id, 0); /* it held a slot */
    assert_int_equal(sim_queue_pop_until(q, 20, &ev), 1);
    assert_int_equal(ev.handler, 7);
    assert_int_equal(ev.id, id);
    assert_int_equal(sim_queue_cancel(q, id), HS_ENOTFOUND); /* fired */
    assert_int_equal(sim_queue_pop_until(q, 20, &ev), 1);
    assert_int_equal(ev.handler, (1u << 23) - 1);
    assert_int_equal(ev.id, 0);
    assert_int_equal(sim_queue_pop_until(q, 29, &ev), 0);
    assert_int_equal(sim_queue_pop_until(q, SIM_TIME_MAX, &ev), 1);
    assert_int_equal(ev.handler, top);
    assert_int_equal(ev.arg, 3);
    assert_int_equal(sim_queue_pop_until(q, SIM_TIME_MAX, &ev), 0);
    assert_int_equal(sim_queue_size(q), 0);
    /* a cancelled top is skipped by pop_until too */
    sim_queue_push(q, 5, 0, 1, 50, &id);
    sim_queue_push(q, 6, 0, 1, 60, NULL);
    assert_int_equal(sim_queue_cancel(q, id), HS_EOK);
    assert_int_equal(sim_queue_pop_until(q, 5, &ev), 0);
    assert_int_equal(sim_queue_pop_until(q, 6, &ev), 1);
    assert_int_equal(ev.arg, 60);
    sim_queue_free(q);
}

/* Automatic tuning on a large queue (the fleet's shape: a fixed period plus
 * short hops, mass cancellation, a burst at one instant) pops exactly what a
 * plain heap pops. */
static void test_calendar_autotune_matches_heap(void **state)
{
    (void)state;
    sim_queue_t *cal = sim_queue_new(), *heap = sim_queue_new();
    assert_int_equal(sim_queue_set_calendar(heap, 0, 0), HS_EOK);
    sim_rng_t r;
    sim_rng_init(&r, 9, 1);
    enum { N = 60000 };
    sim_event_id_t *ids_c = calloc(N, sizeof *ids_c), *ids_h = calloc(N, sizeof *ids_h);
    for (uint64_t i = 0; i < N; i++) {
        sim_time_t t = sim_rng_below(&r, 60000000000ULL);
        assert_int_equal(sim_queue_push(cal, t, 8, 1, i, &ids_c[i]), HS_EOK);
        assert_int_equal(sim_queue_push(heap, t, 8, 1, i, &ids_h[i]), HS_EOK);
    }
    /* a burst at one instant */
    for (uint64_t i = 0; i < 5000; i++) {
        sim_queue_push(cal, 30000000000ULL, (uint32_t)(i % 3), 1, N + i, NULL);
        sim_queue_push(heap, 30000000000ULL, (uint32_t)(i % 3), 1, N + i, NULL);
    }
    sim_event_t a, b;
    size_t popped = 0;
    while (sim_queue_pop(cal, &a)) {
        assert_int_equal(sim_queue_pop(heap, &b), 1);
        assert_int_equal(a.time, b.time);
        assert_int_equal(a.arg, b.arg);
        assert_int_equal(a.priority, b.priority);
        popped++;
        if (a.arg < N && popped < 400000) {
            /* periodic successor 60 s later, plus a short hop; cancel some */
            sim_time_t period = a.time + 60000000000ULL, hop = a.time + sim_rng_below(&r, 50000000);
            assert_int_equal(sim_queue_push(cal, period, 8, 1, a.arg, &ids_c[a.arg]), HS_EOK);
            assert_int_equal(sim_queue_push(heap, period, 8, 1, a.arg, &ids_h[a.arg]), HS_EOK);
            sim_queue_push(cal, hop, 8, 1, N + 10000 + a.arg, NULL);
            sim_queue_push(heap, hop, 8, 1, N + 10000 + a.arg, NULL);
            uint64_t victim = sim_rng_below(&r, N);
            if (popped % 7 == 0) {
                hs_err_t e1 = sim_queue_cancel(cal, ids_c[victim]);
                assert_int_equal(e1, sim_queue_cancel(heap, ids_h[victim]));
            }
        }
    }
    assert_int_equal(sim_queue_pop(heap, &b), 0);
    assert_true(popped > 400000);
    free(ids_c);
    free(ids_h);
    sim_queue_free(cal);
    sim_queue_free(heap);
}

/* The run (the entries of the bucket being fired) is a sorted array while
 * small and a heap past 48 entries: pushes into the current bucket, at the
 * current instant and later, in bursts that cross that size both ways, pop
 * exactly what a plain heap pops. */
static void test_run_sorted_and_heap_modes(void **state)
{
    (void)state;
    sim_queue_t *cal = sim_queue_new(), *heap = sim_queue_new();
    assert_int_equal(sim_queue_set_calendar(cal, 6, 6), HS_EOK); /* 64 ns buckets */
    assert_int_equal(sim_queue_set_calendar(heap, 0, 0), HS_EOK);
    sim_rng_t r;
    sim_rng_init(&r, 11, 4);
    sim_time_t now = 0;
    uint64_t arg = 0, popped = 0;
    for (int op = 0; op < 200000; op++) {
        /* phases: bursts of pushes (runs past 48), then drains (back to sorted) */
        int burst = (op / 500) % 3 == 0;
        if (sim_rng_below(&r, 100) < (burst ? 80u : 35u)) {
            sim_time_t t = now + sim_rng_below(&r, sim_rng_below(&r, 2) ? 3 : 200);
            uint32_t prio = (uint32_t)sim_rng_below(&r, 3);
            assert_int_equal(sim_queue_push(cal, t, prio, 1, arg, NULL), HS_EOK);
            assert_int_equal(sim_queue_push(heap, t, prio, 1, arg, NULL), HS_EOK);
            arg++;
        } else {
            sim_event_t a, b;
            int ha = sim_queue_pop(cal, &a), hb = sim_queue_pop(heap, &b);
            assert_int_equal(ha, hb);
            if (!ha)
                continue;
            assert_int_equal(a.time, b.time);
            assert_int_equal(a.arg, b.arg);
            assert_int_equal(a.priority, b.priority);
            now = a.time;
            popped++;
        }
    }
    sim_event_t a, b;
    while (sim_queue_pop(cal, &a)) {
        assert_int_equal(sim_queue_pop(heap, &b), 1);
        assert_int_equal(a.arg, b.arg);
        popped++;
    }
    assert_int_equal(sim_queue_pop(heap, &b), 0);
    assert_true(popped == arg);
    sim_queue_free(cal);
    sim_queue_free(heap);
}

typedef struct { uint8_t *seen; uint64_t calls, wrong_handler; } preload_t;

static void on_preload(void *ctx, uint32_t handler, uint64_t arg)
{
    preload_t *p = ctx;
    p->calls++;
    if (handler != 3)
        p->wrong_handler++;
    p->seen[arg] = 1;
}

/* The load hook (the kernel's preload pipeline) hears every live event of
 * the calendar before it fires, with its own handler and argument, never a
 * cancelled one, and does not change the order (half the events pushed
 * without an id: no slot). */
static void test_calendar_load_hook_precedes_firing(void **state)
{
    (void)state;
    enum { N = 20000 };
    sim_queue_t *q = sim_queue_new(), *ref = sim_queue_new();
    assert_int_equal(sim_queue_set_calendar(q, 24, 12), HS_EOK);
    assert_int_equal(sim_queue_set_calendar(ref, 0, 0), HS_EOK);
    preload_t p = { calloc(N, 1), 0, 0 };
    sim_queue_set_load_hook(q, on_preload, &p);
    sim_rng_t r;
    sim_rng_init(&r, 5, 2);
    sim_event_id_t victim = 0;
    for (uint64_t i = 0; i < N; i++) {
        sim_time_t t = sim_rng_below(&r, 600ULL * 1000000000ULL); /* some land in the far heap */
        sim_event_id_t id;
        assert_int_equal(sim_queue_push(q, t, 8, 3, i, i % 2 || i == N / 2 ? &id : NULL), HS_EOK);
        assert_int_equal(sim_queue_push(ref, t, 8, 3, i, NULL), HS_EOK);
        if (i == N / 2)
            victim = id;
    }
    assert_int_equal(sim_queue_cancel(q, victim), HS_EOK);
    sim_event_t a, b;
    uint64_t popped = 0;
    while (sim_queue_pop(q, &a)) {
        assert_int_equal(sim_queue_pop(ref, &b), 1);
        if (b.arg == N / 2) /* the cancelled one */
            assert_int_equal(sim_queue_pop(ref, &b), 1);
        assert_int_equal(a.arg, b.arg);
        assert_int_equal(a.time, b.time);
        assert_true(p.seen[a.arg]); /* heard before it fired */
        popped++;
    }
    assert_int_equal(popped, N - 1);
    assert_int_equal(p.seen[N / 2], 0);
    assert_int_equal(p.calls, N - 1);
    assert_int_equal(p.wrong_handler, 0);
    free(p.seen);
    sim_queue_free(q);
    sim_queue_free(ref);
}

typedef struct { int fired; sim_time_t at[8]; uint32_t self; } kctx_t;

static void on_event(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    kctx_t *c = ctx;
    c->at[c->fired++] = sim_kernel_now(k);
    if (arg == 1) /* schedule another event at the same instant from inside a handler */
        assert_int_equal(sim_kernel_at(k, sim_kernel_now(k), SIM_PRIO_DEVICE, c->self, 0, NULL), HS_EOK);
}

static void test_kernel_clock_and_run_until(void **state)
{
    (void)state;
    sim_kernel_t *k = sim_kernel_new(1, SIM_DEFAULT_EPOCH_UNIX);
    kctx_t c = { 0 };
    c.self = sim_kernel_register(k, on_event, &c);
    assert_true(c.self >= 1);
    sim_kernel_at(k, 5 * SIM_SEC, SIM_PRIO_DEVICE, c.self, 1, NULL);
    sim_kernel_at(k, 20 * SIM_SEC, SIM_PRIO_DEVICE, c.self, 0, NULL);
    assert_int_equal(sim_kernel_run_until(k, 10 * SIM_SEC), 2);
    assert_int_equal(c.fired, 2);
    assert_int_equal(c.at[1], 5 * SIM_SEC);
    assert_int_equal(sim_kernel_now(k), 10 * SIM_SEC);
    /* The past is closed; unknown handlers are refused. */
    assert_int_equal(sim_kernel_at(k, 9 * SIM_SEC, SIM_PRIO_DEVICE, c.self, 0, NULL), HS_ERANGE);
    assert_int_equal(sim_kernel_at(k, 11 * SIM_SEC, SIM_PRIO_DEVICE, 99, 0, NULL), HS_ERANGE);
    assert_int_equal(sim_kernel_after(k, SIM_TIME_MAX, SIM_PRIO_DEVICE, c.self, 0, NULL), HS_ERANGE);
    assert_int_equal(sim_kernel_run_until(k, 30 * SIM_SEC), 1);
    assert_int_equal(sim_kernel_pending(k), 0);
    sim_kernel_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_time_and_priority_is_fifo),
        cmocka_unit_test(test_time_then_priority_then_insertion),
        cmocka_unit_test(test_cancel_pending_fired_unknown),
        cmocka_unit_test(test_bad_priority_and_handler),
        cmocka_unit_test(test_compaction_keeps_order),
        cmocka_unit_test(test_sequence_renumbering),
        cmocka_unit_test(test_randomized_against_reference),
        cmocka_unit_test(test_calendar_against_reference),
        cmocka_unit_test(test_direct_events_against_reference),
        cmocka_unit_test(test_direct_tag_limits_and_pop_until),
        cmocka_unit_test(test_run_sorted_and_heap_modes),
        cmocka_unit_test(test_calendar_autotune_matches_heap),
        cmocka_unit_test(test_calendar_load_hook_precedes_firing),
        cmocka_unit_test(test_kernel_clock_and_run_until),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
