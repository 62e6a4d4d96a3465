/* Kernel benchmark: schedule+fire throughput and bytes per pending event, 2-/4-/8-ary heaps compared. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/kernel.h"
#include "sim/rng.h"

/* The same queue source compiled at arity 2 under renamed symbols, so the
 * comparison measures exactly the code the kernel ships (arity 4). */
#undef SIM_EVENT_QUEUE_H
#define SIM_HEAP_ARITY 2
#define sim_queue_new q2_new
#define sim_queue_free q2_free
#define sim_queue_push q2_push
#define sim_queue_cancel q2_cancel
#define sim_queue_pop q2_pop
#define sim_queue_pop_until q2_pop_until
#define sim_queue_peek_time q2_peek
#define sim_queue_peek_next q2_peek_next
#define sim_queue_size q2_size
#define sim_queue_bytes q2_bytes
#define sim_queue_set_seq_limit q2_seq
#define sim_queue_reserve q2_reserve
#define sim_queue_set_calendar q2_set_calendar
#define sim_queue_set_load_hook q2_set_load_hook
#define sim_queue q2
#define sim_queue_t q2_t
#define sim_event_t q2_event_t
#include "sim/event_queue.c"
#undef sim_queue_new
#undef sim_queue_free
#undef sim_queue_push
#undef sim_queue_cancel
#undef sim_queue_pop
#undef sim_queue_pop_until
#undef sim_queue_peek_time
#undef sim_queue_peek_next
#undef sim_queue_size
#undef sim_queue_bytes
#undef sim_queue_set_seq_limit
#undef sim_queue_reserve
#undef sim_queue_set_calendar
#undef sim_queue_set_load_hook
#undef sim_queue
#undef sim_queue_t
#undef sim_event_t

/* CPU time by default: on a shared machine wall time is mostly the other
 * processes (-DBENCH_CLOCK=CLOCK_MONOTONIC for wall time). */
#ifndef BENCH_CLOCK
#define BENCH_CLOCK CLOCK_PROCESS_CPUTIME_ID
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(BENCH_CLOCK, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    const char *name;
    void *(*create)(void);
    void (*destroy)(void *);
    hs_err_t (*push)(void *, sim_time_t, uint32_t, uint32_t, uint64_t, sim_event_id_t *);
    int (*pop)(void *, sim_event_t *);
    hs_err_t (*reserve)(void *, size_t);
    size_t (*bytes)(const void *);
} variant_t;

static void *c4(void) { return sim_queue_new(); }
static void d4(void *q) { sim_queue_free(q); }
static hs_err_t p4(void *q, sim_time_t t, uint32_t pr, uint32_t h, uint64_t a, sim_event_id_t *id) { return sim_queue_push(q, t, pr, h, a, id); }
static int o4(void *q, sim_event_t *e) { return sim_queue_pop(q, e); }
static size_t b4(const void *q) { return sim_queue_bytes(q); }
static hs_err_t r4(void *q, size_t n) { return sim_queue_reserve(q, n); }
static hs_err_t r2(void *q, size_t n) { return q2_reserve(q, n); }
static void *c2(void) { return q2_new(); }
static void d2(void *q) { q2_free(q); }
static hs_err_t p2(void *q, sim_time_t t, uint32_t pr, uint32_t h, uint64_t a, sim_event_id_t *id) { return q2_push(q, t, pr, h, a, id); }
static int o2(void *q, sim_event_t *e) { return q2_pop(q, (q2_event_t *)(void *)e); }
static size_t b2(const void *q) { return q2_bytes(q); }

/* Classic "hold" model: N pending; each op pops the minimum and schedules a
 * successor at now + exponential(mean 1 ms), i.e. one schedule + one fire. */
static void hold(const variant_t *v, size_t pending, size_t ops, double *rate, double *bytes_per)
{
    void *q = v->create();
    v->reserve(q, pending + 1);
    sim_rng_t r;
    sim_rng_init(&r, 1, 1);
    for (size_t i = 0; i < pending; i++)
        v->push(q, (sim_time_t)(sim_rng_exponential(&r, 1e6) * (double)pending / 1000.0), 8, 1, i, NULL);
    *bytes_per = (double)v->bytes(q) / (double)pending;
    /* Pre-draw increments so the timing measures the queue, not det_log. */
    enum { INC = 1 << 16 };
    sim_time_t *inc = malloc(INC * sizeof *inc);
    for (size_t i = 0; i < INC; i++)
        inc[i] = (sim_time_t)(sim_rng_exponential(&r, 1e6) * (double)pending / 1000.0) + 1;
    sim_event_t ev;
    double t0 = now_s();
    for (size_t i = 0; i < ops; i++) {
        v->pop(q, &ev);
        v->push(q, ev.time + inc[i & (INC - 1)], 8, 1, ev.arg, NULL);
    }
    double dt = now_s() - t0;
    *rate = (double)ops / dt;
    free(inc);
    v->destroy(q);
}

/* Through the whole kernel (handler dispatch included), arity 4. */
typedef struct { sim_rng_t r; uint32_t h; uint64_t left; sim_time_t *inc; } kbench_t;
static void on_fire(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    kbench_t *b = ctx;
    if (b->left == 0)
        return;
    b->left--;
    sim_kernel_after(k, b->inc[b->left & 65535], SIM_PRIO_DEVICE, b->h, arg, NULL);
}

static double kernel_rate(size_t pending, size_t ops)
{
    sim_kernel_t *k = sim_kernel_new(1, 0);
    kbench_t b = { .left = ops };
    sim_rng_init(&b.r, 1, 2);
    b.inc = malloc(65536 * sizeof *b.inc);
    for (size_t i = 0; i < 65536; i++)
        b.inc[i] = (sim_time_t)(sim_rng_exponential(&b.r, 1e6) * (double)pending / 1000.0) + 1;
    b.h = sim_kernel_register(k, on_fire, &b);
    for (size_t i = 0; i < pending; i++)
        sim_kernel_at(k, b.inc[i & 65535] + i, SIM_PRIO_DEVICE, b.h, i, NULL);
    uint64_t fired0 = sim_kernel_fired(k);
    double t0 = now_s();
    while (b.left && sim_kernel_step(k))
        ;
    double dt = now_s() - t0;
    double rate = (double)(sim_kernel_fired(k) - fired0) / dt;
    free(b.inc);
    sim_kernel_free(k);
    return rate;
}

/* The 1M-device fleet's shape through the kernel: n devices, each with a
 * telemetry timer every 60 s (first ones spread over a minute) that sends a
 * message arriving 20 ms later; both handlers touch the device's 64-byte
 * record (n of them: cache misses, as in the fleet), and, as the fleet does,
 * a preload hook and a next-event hint prefetch that record.  Events are
 * pushed without ids (the fleet cancels none). */
typedef struct { uint64_t v[8]; } fs_rec_t;
typedef struct { fs_rec_t *recs; uint32_t h_tel, h_arr; uint64_t left; } fshape_t;

static void fs_tel(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    fshape_t *fs = ctx;
    fs->recs[arg].v[0]++;
    if (fs->left == 0)
        return;
    fs->left--;
    sim_kernel_after(k, 60 * SIM_SEC, SIM_PRIO_DEVICE, fs->h_tel, arg, NULL);
    sim_kernel_after(k, 20 * SIM_MS, SIM_PRIO_DEVICE, fs->h_arr, arg, NULL);
}
static void fs_arr(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    fshape_t *fs = ctx;
    fs->recs[arg].v[1] += fs->recs[arg].v[0];
}
static void fs_prefetch(void *ctx, uint64_t arg)
{
    const fshape_t *fs = ctx;
    __builtin_prefetch(&fs->recs[arg]);
}

/* M events/s (CPU) firing `events` events of an n-device fleet. */
static double fleet_shape_rate(size_t n, uint64_t events)
{
    sim_kernel_t *k = sim_kernel_new(1, 0);
    fshape_t fs = { calloc(n, sizeof(fs_rec_t)), 0, 0, events / 2 };
    fs.h_tel = sim_kernel_register(k, fs_tel, &fs);
    fs.h_arr = sim_kernel_register(k, fs_arr, &fs);
    sim_kernel_set_prefetch(k, fs.h_tel, fs_prefetch);
    sim_kernel_set_prefetch(k, fs.h_arr, fs_prefetch);
    sim_kernel_set_preload(k, fs.h_tel, fs_prefetch);
    sim_kernel_set_preload(k, fs.h_arr, fs_prefetch);
    sim_queue_reserve(sim_kernel_queue(k), 3 * n + 1024);
    sim_rng_t r;
    sim_rng_init(&r, 1, 3);
    for (size_t i = 0; i < n; i++)
        sim_kernel_at(k, sim_rng_below(&r, 60 * SIM_SEC), SIM_PRIO_DEVICE, fs.h_tel, i, NULL);
    /* one minute to warm up (the calendar tunes itself), then measure */
    sim_kernel_run_until(k, 60 * SIM_SEC);
    uint64_t fired0 = sim_kernel_fired(k);
    double t0 = now_s();
    sim_kernel_run_until(k, SIM_TIME_MAX - 1);
    double dt = now_s() - t0;
    double rate = (double)(sim_kernel_fired(k) - fired0) / dt;
    free(fs.recs);
    sim_kernel_free(k);
    return rate;
}

int main(int argc, char **argv)
{
    int quick = 0, repeat = 3;
    size_t only = 0, fleet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--pending") == 0 && i + 1 < argc)
            only = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--fleet") == 0 && i + 1 < argc)
            fleet = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_kernel [--quick] [--repeat N] [--pending N] [--fleet DEVICES]\n");
            return 2;
        }
    }
    if (repeat < 1)
        repeat = 1;
    if (fleet) {
        /* only the fleet shape: 10 events per device after the warm-up minute */
        double best = 0;
        for (int rep = 0; rep < repeat; rep++) {
            double r1 = fleet_shape_rate(fleet, 10 * (uint64_t)fleet + 2 * (uint64_t)fleet);
            if (r1 > best)
                best = r1;
        }
        printf("fleet shape: %zu devices, 60 s timer + 20 ms arrival, best of %d: %.3f M events/cpu-s\n", fleet,
               repeat, best / 1e6);
        return 0;
    }
    const size_t sizes[] = { 1000, 100000, 10000000 };
    const variant_t variants[] = {
        { "4-ary heap (shipped)", c4, d4, p4, o4, r4, b4 },
        { "binary heap", c2, d2, p2, o2, r2, b2 },
    };
    printf("bench_kernel: schedule+fire (hold model), CPU time, best of %d%s\n", repeat,
           quick ? " (--quick)" : "");
    printf("%-22s %12s %16s %14s\n", "structure", "pending", "M sched+fire/s", "bytes/pending");
    for (size_t s = 0; s < 3; s++) {
        if ((quick && sizes[s] > 100000) || (only && sizes[s] != only))
            continue;
        size_t ops = quick ? 1000000 : 10000000;
        for (size_t v = 0; v < 2; v++) {
            double rate = 0, bytes = 0;
            for (int rep = 0; rep < repeat; rep++) {
                double r1, b1;
                hold(&variants[v], sizes[s], ops, &r1, &b1);
                if (r1 > rate)
                    rate = r1, bytes = b1;
            }
            printf("%-22s %12zu %16.2f %14.1f\n", variants[v].name, sizes[s], rate / 1e6, bytes);
        }
        double kr = 0;
        for (int rep = 0; rep < repeat; rep++) {
            double r1 = kernel_rate(sizes[s], ops);
            if (r1 > kr)
                kr = r1;
        }
        printf("%-22s %12zu %16.2f %14s\n", "kernel (dispatch incl.)", sizes[s], kr / 1e6, "-");
    }
    printf("bytes/pending = allocated bytes / pending after sim_queue_reserve(pending + 1): "
           "a 24 B entry (+ a 12 B slot only for events pushed with an id)\n");
    return 0;
}
