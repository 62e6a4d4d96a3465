/* Tests of the C2D store: depth, sequence numbers, TTL, locks, delivery count, dead-lettering, purge, feedback batching, conservation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "sim/hub/c2d_queue.h"

#define MS  ((sim_time_t)1000000)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

typedef struct {
    int batches;
    size_t last_count;
    bool last_by_count;
    sim_time_t last_at;
    hub_c2d_fb_status_t statuses[256];
    char ids[256][32];
    size_t nrec;
    uint64_t total_records;
    int available;
    uint32_t last_dev;
    /* reentrancy probe: receive from inside the hook */
    hub_c2d_t *store;
    bool receive_in_hook;
    hub_err_t hook_receive_result;
    char *last_json;
    int64_t epoch;
    int reenter; /* feedback hook: this many more positive round trips from inside */
} probe_t;

static void on_feedback(void *ctx, const hub_c2d_fb_batch_t *b)
{
    probe_t *p = ctx;
    p->batches++;
    p->last_count = b->count;
    p->last_by_count = b->by_count;
    p->last_at = b->flushed_at;
    p->total_records += b->count;
    for (size_t i = 0; i < b->count && p->nrec < 256; i++) {
        p->statuses[p->nrec] = b->records[i].status;
        snprintf(p->ids[p->nrec], sizeof(p->ids[0]), "%s", b->records[i].original_message_id);
        p->nrec++;
    }
    free(p->last_json);
    p->last_json = hub_c2d_fb_batch_json(b, p->epoch);
    if (p->reenter > 0 && p->store) {
        p->reenter--;
        hub_msg_t *m = hub_msg_new();
        hub_msg_set_sys(m, HUB_SYS_ACK, "positive");
        hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, "inner");
        if (hub_c2d_enqueue(p->store, 77, "inner-dev", "g", m, 0, NULL) != HUB_EOK)
            hub_msg_free(m);
        hub_c2d_delivery_t d;
        if (hub_c2d_receive(p->store, 77, &d) == HUB_EOK)
            (void)hub_c2d_complete(p->store, 77, d.lock_token);
    }
}

static void on_available(void *ctx, uint32_t dev)
{
    probe_t *p = ctx;
    p->available++;
    p->last_dev = dev;
    if (p->receive_in_hook && p->store) {
        hub_c2d_delivery_t d;
        p->hook_receive_result = hub_c2d_receive(p->store, dev, &d);
    }
}

typedef struct {
    sim_kernel_t *k;
    hub_c2d_t *c;
    probe_t p;
    hub_c2d_config_t cfg;
    /* tie tests: a kernel event completes tie_token (arg 1) or receives (arg 2) */
    const char *tie_token;
    hub_err_t tie_result;
    int tie_count;
} fx_t;

static void fx_open(fx_t *f, const hub_c2d_config_t *cfg)
{
    memset(f, 0, sizeof(*f));
    f->k = sim_kernel_new(42, SIM_DEFAULT_EPOCH_UNIX);
    assert_non_null(f->k);
    if (cfg)
        f->cfg = *cfg;
    else
        hub_c2d_config_default(&f->cfg);
    f->p.epoch = SIM_DEFAULT_EPOCH_UNIX;
    hub_c2d_hooks_t h = { .ctx = &f->p, .available = on_available, .feedback = on_feedback };
    f->c = hub_c2d_new(f->k, &f->cfg, &h);
    assert_non_null(f->c);
    f->p.store = f->c;
}

static void fx_close(fx_t *f)
{
    char why[256];
    assert_int_equal(hub_c2d_check(f->c, why, sizeof(why)), HS_EOK);
    hub_c2d_free(f->c);
    assert_int_equal(sim_kernel_pending(f->k), 0);
    sim_kernel_free(f->k);
    free(f->p.last_json);
}

static hub_msg_t *mk(const char *id, const char *ack)
{
    hub_msg_t *m = hub_msg_new();
    assert_non_null(m);
    if (id)
        assert_int_equal(hub_msg_set_sys(m, HUB_SYS_MESSAGE_ID, id), HS_EOK);
    if (ack)
        assert_int_equal(hub_msg_set_sys(m, HUB_SYS_ACK, ack), HS_EOK);
    assert_int_equal(hub_msg_set_body(m, "on", 2), HS_EOK);
    return m;
}

static hub_err_t put(fx_t *f, uint32_t dev, const char *id, const char *ack, sim_time_t ttl)
{
    hub_msg_t *m = mk(id, ack);
    hub_err_t e = hub_c2d_enqueue(f->c, dev, "dev-a", "gen-1", m, ttl, NULL);
    if (e != HUB_EOK)
        hub_msg_free(m);
    return e;
}


static void device_action(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    fx_t *f = ctx;
    if (arg == 1) {
        f->tie_result = hub_c2d_complete(f->c, 1, f->tie_token);
    } else {
        hub_c2d_delivery_t d;
        f->tie_result = hub_c2d_receive(f->c, 1, &d);
        if (f->tie_result == HUB_EOK)
            f->tie_count++;
    }
}

static void test_depth_50_then_51(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    for (int i = 0; i < 50; i++)
        assert_int_equal(put(&f, 7, NULL, NULL, 0), HUB_EOK);
    assert_int_equal(hub_c2d_depth(f.c, 7), 50);
    assert_int_equal(put(&f, 7, NULL, NULL, 0), HUB_EQUEUE_DEPTH_EXCEEDED);
    assert_int_equal(hub_error_info(HUB_EQUEUE_DEPTH_EXCEEDED)->code, 403004);
    assert_int_equal(hub_c2d_depth(f.c, 7), 50);
    /* Another device is unaffected. */
    assert_int_equal(put(&f, 8, NULL, NULL, 0), HUB_EOK);
    /* Completing one frees one place. */
    hub_c2d_delivery_t d;
    assert_int_equal(hub_c2d_receive(f.c, 7, &d), HUB_EOK);
    assert_int_equal(put(&f, 7, NULL, NULL, 0), HUB_EQUEUE_DEPTH_EXCEEDED); /* locked still counts */
    assert_int_equal(hub_c2d_complete(f.c, 7, d.lock_token), HUB_EOK);
    assert_int_equal(put(&f, 7, NULL, NULL, 0), HUB_EOK);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.refused, 2);
    assert_int_equal(s.enqueued, 52);
    assert_int_equal(s.in_queue, 51);
    assert_int_equal(hub_c2d_purge(f.c, 7, NULL), HUB_EOK);
    assert_int_equal(hub_c2d_purge(f.c, 8, NULL), HUB_EOK);
    fx_close(&f);
}

static void test_sequence_numbers_and_stamps(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    uint64_t seq = 0;
    for (uint64_t i = 1; i <= 3; i++) {
        hub_msg_t *m = mk(NULL, NULL);
        assert_int_equal(hub_c2d_enqueue(f.c, 1, "dev-a", "gen-1", m, 0, &seq), HUB_EOK);
        assert_int_equal(seq, i);
    }
    hub_c2d_delivery_t d;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
        assert_int_equal(d.sequence_number, (uint64_t)i);
        assert_int_equal(d.delivery_count, 1);
        char want[16];
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(hub_msg_get_sys(d.msg, HUB_SYS_SEQUENCE_NUMBER), want);
        assert_string_equal(hub_msg_get_sys(d.msg, HUB_SYS_ENQUEUED_TIME), "2026-01-01T00:00:00.0000000Z");
        assert_string_equal(hub_msg_get_sys(d.msg, HUB_SYS_EXPIRY_TIME_UTC), "2026-01-01T01:00:00.0000000Z");
        assert_int_equal(hub_c2d_complete(f.c, 1, d.lock_token), HUB_EOK);
    }
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EMESSAGE_NOT_FOUND);
    /* The queue drained; numbers stay unique. */
    hub_msg_t *m = mk(NULL, NULL);
    assert_int_equal(hub_c2d_enqueue(f.c, 1, "dev-a", "gen-1", m, 0, &seq), HUB_EOK);
    assert_int_equal(seq, 4);
    /* Each device has its own sequence. */
    m = mk(NULL, NULL);
    assert_int_equal(hub_c2d_enqueue(f.c, 2, "dev-b", "gen-1", m, 0, &seq), HUB_EOK);
    assert_int_equal(seq, 1);
    sim_kernel_run_until(f.k, 2 * HOUR);
    fx_close(&f);
}

static void test_ttl_default_expires_at_the_instant(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    assert_int_equal(put(&f, 1, "m1", "negative", 0), HUB_EOK);
    sim_kernel_run_until(f.k, HOUR - 1);
    assert_int_equal(hub_c2d_depth(f.c, 1), 1);
    sim_kernel_run_until(f.k, HOUR);
    assert_int_equal(hub_c2d_depth(f.c, 1), 0);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.expired, 1);
    assert_int_equal(s.dead_lettered, 1);
    assert_int_equal(hub_c2d_feedback_pending(f.c), 1);
    sim_kernel_run_until(f.k, HOUR + 15 * SEC);
    assert_int_equal(f.p.batches, 1);
    assert_int_equal(f.p.statuses[0], HUB_C2D_FB_EXPIRED);
    assert_string_equal(f.p.ids[0], "m1");
    fx_close(&f);
}

/* A receive at the expiry instant itself finds nothing, whatever the event order. */
static void test_receive_at_expiry_instant(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    assert_int_equal(put(&f, 1, "m1", NULL, 10 * SEC), HUB_EOK);
    assert_int_equal(put(&f, 1, "m2", NULL, 20 * SEC), HUB_EOK);
    /* Advance to just before the instant without firing the expiry event. */
    sim_kernel_run_until(f.k, 10 * SEC - 1);
    hub_c2d_delivery_t d;
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
    assert_string_equal(hub_msg_get_sys(d.msg, HUB_SYS_MESSAGE_ID), "m1");
    assert_int_equal(hub_c2d_abandon(f.c, 1, d.lock_token), HUB_EOK);
    sim_kernel_run_until(f.k, 10 * SEC);
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
    assert_string_equal(hub_msg_get_sys(d.msg, HUB_SYS_MESSAGE_ID), "m2");
    assert_int_equal(hub_c2d_complete(f.c, 1, d.lock_token), HUB_EOK);
    fx_close(&f);
}

static void test_ttl_max_48h_clamp_or_reject(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    assert_int_equal(put(&f, 1, NULL, NULL, 49 * HOUR), HUB_EOK);
    hub_c2d_delivery_t d;
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
    assert_int_equal(d.expiry_time, 48 * HOUR);
    assert_int_equal(hub_c2d_complete(f.c, 1, d.lock_token), HUB_EOK);
    fx_close(&f);

    hub_c2d_config_t cfg;
    hub_c2d_config_default(&cfg);
    cfg.reject_ttl_over_max = true;
    fx_open(&f, &cfg);
    assert_int_equal(put(&f, 1, NULL, NULL, 48 * HOUR + 1), HUB_EARGUMENT_INVALID);
    assert_int_equal(put(&f, 1, NULL, NULL, 48 * HOUR), HUB_EOK);
    sim_kernel_run_until(f.k, 48 * HOUR);
    assert_int_equal(hub_c2d_depth(f.c, 1), 0);
    fx_close(&f);
}

static void test_lock_one_minute(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    assert_int_equal(put(&f, 1, "a", NULL, 0), HUB_EOK);
    assert_int_equal(put(&f, 1, "b", NULL, 0), HUB_EOK);
    hub_c2d_delivery_t d1, d2;
    assert_int_equal(hub_c2d_receive(f.c, 1, &d1), HUB_EOK);
    assert_int_equal(d1.lock_until, 60 * SEC);
    assert_int_equal(hub_c2d_receive(f.c, 1, &d2), HUB_EOK);
    assert_int_equal(hub_c2d_receive(f.c, 1, &d2), HUB_EMESSAGE_NOT_FOUND); /* both locked */
    assert_int_equal(hub_c2d_receive(f.c, 1, &d2), HUB_EMESSAGE_NOT_FOUND);
    sim_kernel_run_until(f.k, 0);
    /* re-receive b to get its token (the failed receives did not touch it) */
    fx_close(&f);

    fx_open(&f, NULL);
    assert_int_equal(put(&f, 1, "a", NULL, 0), HUB_EOK);
    assert_int_equal(put(&f, 1, "b", NULL, 0), HUB_EOK);
    assert_int_equal(hub_c2d_receive(f.c, 1, &d1), HUB_EOK);
    assert_int_equal(hub_c2d_receive(f.c, 1, &d2), HUB_EOK);
    sim_kernel_run_until(f.k, 60 * SEC - 1);
    assert_int_equal(hub_c2d_complete(f.c, 1, d1.lock_token), HUB_EOK); /* 1 ns before: fine */
    sim_kernel_run_until(f.k, 60 * SEC);
    assert_int_equal(hub_c2d_complete(f.c, 1, d2.lock_token), HUB_ELOCK_LOST); /* at 1 min: lost */
    assert_int_equal(hub_error_info(HUB_ELOCK_LOST)->http_status, 412);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.lock_expired, 1);
    assert_int_equal(hub_c2d_depth(f.c, 1), 1);
    /* b is visible again, second delivery, new token; the old one stays lost. */
    hub_c2d_delivery_t d3;
    assert_int_equal(hub_c2d_receive(f.c, 1, &d3), HUB_EOK);
    assert_string_equal(hub_msg_get_sys(d3.msg, HUB_SYS_MESSAGE_ID), "b");
    assert_int_equal(d3.delivery_count, 2);
    assert_string_not_equal(d3.lock_token, d2.lock_token);
    assert_int_equal(hub_c2d_complete(f.c, 1, d2.lock_token), HUB_ELOCK_LOST);
    assert_int_equal(hub_c2d_complete(f.c, 1, d3.lock_token), HUB_EOK);
    /* Settled message: token names nothing. */
    assert_int_equal(hub_c2d_complete(f.c, 1, d3.lock_token), HUB_EMESSAGE_NOT_FOUND);
    assert_int_equal(hub_c2d_complete(f.c, 1, d1.lock_token), HUB_EMESSAGE_NOT_FOUND);
    fx_close(&f);
}

static void test_bad_tokens(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    assert_int_equal(put(&f, 3, "a", NULL, 0), HUB_EOK);
    hub_c2d_delivery_t d;
    assert_int_equal(hub_c2d_receive(f.c, 3, &d), HUB_EOK);
    assert_int_equal(strlen(d.lock_token), 36);
    assert_int_equal(hub_c2d_complete(f.c, 3, "garbage"), HUB_EMESSAGE_NOT_FOUND);
    assert_int_equal(hub_c2d_complete(f.c, 3, ""), HUB_EMESSAGE_NOT_FOUND);
    assert_int_equal(hub_c2d_complete(f.c, 3, NULL), HUB_EARGUMENT_NULL);
    assert_int_equal(hub_c2d_complete(f.c, 4, d.lock_token), HUB_EMESSAGE_NOT_FOUND);
    char t[HUB_C2D_LOCK_TOKEN_CAP];
    memcpy(t, d.lock_token, sizeof(t));
    t[8] = 'x'; /* dash replaced */
    assert_int_equal(hub_c2d_reject(f.c, 3, t), HUB_EMESSAGE_NOT_FOUND);
    memcpy(t, d.lock_token, sizeof(t));
    t[35] = t[35] == '1' ? '2' : '1'; /* another delivery attempt of the same message */
    assert_int_equal(hub_c2d_abandon(f.c, 3, t), HUB_ELOCK_LOST);
    assert_int_equal(hub_c2d_receive(f.c, 99, &d), HUB_EMESSAGE_NOT_FOUND);
    assert_int_equal(hub_c2d_purge(f.c, 3, NULL), HUB_EOK);
    fx_close(&f);
}

static void test_delivery_count_10_then_dead_letter(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    assert_int_equal(put(&f, 1, "m", "full", 0), HUB_EOK);
    hub_c2d_delivery_t d;
    for (int i = 1; i <= 9; i++) {
        assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
        assert_int_equal(d.delivery_count, (uint32_t)i);
        assert_int_equal(hub_c2d_abandon(f.c, 1, d.lock_token), HUB_EOK);
        assert_int_equal(hub_c2d_depth(f.c, 1), 1);
    }
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
    assert_int_equal(d.delivery_count, 10);
    assert_int_equal(hub_c2d_abandon(f.c, 1, d.lock_token), HUB_EOK);
    assert_int_equal(hub_c2d_depth(f.c, 1), 0);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.delivery_exceeded, 1);
    assert_int_equal(s.abandoned, 10);
    assert_int_equal(s.delivered, 10);
    hub_c2d_flush_feedback(f.c);
    assert_int_equal(f.p.nrec, 1);
    assert_int_equal(f.p.statuses[0], HUB_C2D_FB_DELIVERY_COUNT_EXCEEDED);
    fx_close(&f);
}

static void test_delivery_count_by_lock_expiry_and_knob(void **state)
{
    (void)state;
    hub_c2d_config_t cfg;
    hub_c2d_config_default(&cfg);
    cfg.max_delivery_count = 2;
    fx_t f;
    fx_open(&f, &cfg);
    assert_int_equal(put(&f, 1, "m", NULL, 0), HUB_EOK);
    hub_c2d_delivery_t d;
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
    sim_kernel_run_until(f.k, MIN);
    assert_int_equal(hub_c2d_depth(f.c, 1), 1);
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
    assert_int_equal(d.delivery_count, 2);
    sim_kernel_run_until(f.k, 2 * MIN);
    assert_int_equal(hub_c2d_depth(f.c, 1), 0);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.lock_expired, 2);
    assert_int_equal(s.delivery_exceeded, 1);
    fx_close(&f);
}

static void test_config_ranges(void **state)
{
    (void)state;
    hub_c2d_config_t cfg;
    hub_c2d_config_default(&cfg);
    assert_int_equal(cfg.max_depth, 50);
    assert_int_equal(cfg.default_ttl, HOUR);
    assert_int_equal(cfg.max_ttl, 48 * HOUR);
    assert_int_equal(cfg.lock_timeout, MIN);
    assert_int_equal(cfg.max_delivery_count, 10);
    assert_int_equal(cfg.feedback_batch_max, 64);
    assert_int_equal(cfg.feedback_interval, 15 * SEC);
    assert_int_equal(cfg.max_message_bytes, 65536);
    char why[128];
    cfg.max_delivery_count = 0;
    assert_int_equal(hub_c2d_config_check(&cfg, why, sizeof(why)), HS_ERANGE);
    assert_non_null(strstr(why, "1..100"));
    cfg.max_delivery_count = 1;
    assert_int_equal(hub_c2d_config_check(&cfg, why, sizeof(why)), HS_EOK);
    cfg.max_delivery_count = 100;
    assert_int_equal(hub_c2d_config_check(&cfg, why, sizeof(why)), HS_EOK);
    cfg.max_delivery_count = 101;
    assert_int_equal(hub_c2d_config_check(&cfg, why, sizeof(why)), HS_ERANGE);
    sim_kernel_t *k = sim_kernel_new(1, 0);
    assert_null(hub_c2d_new(k, &cfg, NULL));
    assert_null(hub_c2d_new(k, NULL, NULL));
    sim_kernel_free(k);
}

static void test_reject_and_ack_kinds(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    /* ack:          none    positive    negative    full */
    const char *acks[] = { "none", "positive", "negative", "full" };
    hub_c2d_delivery_t d;
    /* completed: feedback for positive and full */
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c-%s", acks[i]);
        assert_int_equal(put(&f, 1, id, acks[i], 0), HUB_EOK);
        assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
        assert_int_equal(hub_c2d_complete(f.c, 1, d.lock_token), HUB_EOK);
    }
    /* rejected: feedback for negative and full */
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof(id), "r-%s", acks[i]);
        assert_int_equal(put(&f, 1, id, acks[i], 0), HUB_EOK);
        assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
        assert_int_equal(hub_c2d_reject(f.c, 1, d.lock_token), HUB_EOK);
    }
    hub_c2d_flush_feedback(f.c);
    assert_int_equal(f.p.nrec, 4);
    assert_string_equal(f.p.ids[0], "c-positive");
    assert_int_equal(f.p.statuses[0], HUB_C2D_FB_SUCCESS);
    assert_string_equal(f.p.ids[1], "c-full");
    assert_string_equal(f.p.ids[2], "r-negative");
    assert_int_equal(f.p.statuses[2], HUB_C2D_FB_REJECTED);
    assert_string_equal(f.p.ids[3], "r-full");
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.rejected, 4);
    assert_int_equal(s.completed, 4);
    assert_int_equal(s.dead_lettered, 4);
    assert_int_equal(put(&f, 1, "x", "sometimes", 0), HUB_EARGUMENT_INVALID);
    fx_close(&f);
}

static void complete_n_positive(fx_t *f, int n)
{
    hub_c2d_delivery_t d;
    for (int i = 0; i < n; i++) {
        assert_int_equal(put(f, (uint32_t)(i % 5), "p", "positive", 0), HUB_EOK);
        assert_int_equal(hub_c2d_receive(f->c, (uint32_t)(i % 5), &d), HUB_EOK);
        assert_int_equal(hub_c2d_complete(f->c, (uint32_t)(i % 5), d.lock_token), HUB_EOK);
    }
}

static void test_feedback_flush_at_64_records(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    complete_n_positive(&f, 63);
    assert_int_equal(f.p.batches, 0);
    assert_int_equal(hub_c2d_feedback_pending(f.c), 63);
    complete_n_positive(&f, 1);
    assert_int_equal(f.p.batches, 1);
    assert_int_equal(f.p.last_count, 64);
    assert_true(f.p.last_by_count);
    assert_int_equal(f.p.last_at, 0);
    assert_int_equal(hub_c2d_feedback_pending(f.c), 0);
    complete_n_positive(&f, 65);
    assert_int_equal(f.p.batches, 2);
    assert_int_equal(hub_c2d_feedback_pending(f.c), 1);
    sim_kernel_run_until(f.k, 15 * SEC);
    assert_int_equal(f.p.batches, 3);
    assert_int_equal(f.p.last_count, 1);
    fx_close(&f);
}

static void test_feedback_flush_at_15s(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    sim_kernel_run_until(f.k, 5 * SEC);
    complete_n_positive(&f, 1);
    sim_kernel_run_until(f.k, 10 * SEC);
    complete_n_positive(&f, 2);
    sim_kernel_run_until(f.k, 20 * SEC - 1);
    assert_int_equal(f.p.batches, 0);
    sim_kernel_run_until(f.k, 20 * SEC); /* 15 s after the batch's first record */
    assert_int_equal(f.p.batches, 1);
    assert_int_equal(f.p.last_count, 3);
    assert_false(f.p.last_by_count);
    assert_int_equal(f.p.last_at, 20 * SEC);
    /* JSON body of the feedback message */
    json_error_t err;
    json_t *arr = json_loads(f.p.last_json, 0, &err);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 3);
    json_t *r0 = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "originalMessageId")), "p");
    assert_string_equal(json_string_value(json_object_get(r0, "deviceId")), "dev-a");
    assert_string_equal(json_string_value(json_object_get(r0, "deviceGenerationId")), "gen-1");
    assert_string_equal(json_string_value(json_object_get(r0, "statusCode")), "Success");
    assert_non_null(json_string_value(json_object_get(r0, "description")));
    assert_string_equal(json_string_value(json_object_get(r0, "enqueuedTimeUtc")),
                        "2026-01-01T00:00:05.0000000Z");
    json_decref(arr);
    /* knobs: batch of 2, interval 1 s */
    fx_close(&f);
    hub_c2d_config_t cfg;
    hub_c2d_config_default(&cfg);
    cfg.feedback_batch_max = 2;
    cfg.feedback_interval = SEC;
    fx_open(&f, &cfg);
    complete_n_positive(&f, 5);
    assert_int_equal(f.p.batches, 2);
    sim_kernel_run_until(f.k, SEC);
    assert_int_equal(f.p.batches, 3);
    fx_close(&f);
}

static void test_purge_with_feedback(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(put(&f, 9, "m", i % 2 ? "negative" : "positive", 0), HUB_EOK);
    hub_c2d_delivery_t d;
    assert_int_equal(hub_c2d_receive(f.c, 9, &d), HUB_EOK);
    size_t n;
    assert_int_equal(hub_c2d_purge(f.c, 9, &n), HUB_EOK);
    assert_int_equal(n, 5);
    assert_int_equal(hub_c2d_complete(f.c, 9, d.lock_token), HUB_EMESSAGE_NOT_FOUND);
    hub_c2d_flush_feedback(f.c);
    assert_int_equal(f.p.nrec, 2);
    assert_int_equal(f.p.statuses[0], HUB_C2D_FB_PURGED);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.purged, 5);
    assert_int_equal(hub_c2d_purge(f.c, 12345, &n), HUB_EOK);
    assert_int_equal(n, 0);
    fx_close(&f);
}

static void test_size_limit_64k_on_enqueue(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    hub_msg_t *m = hub_msg_new();
    void *b = calloc(1, 65536);
    assert_int_equal(hub_msg_take_body(m, b, 65536), HS_EOK);
    assert_int_equal(hub_c2d_enqueue(f.c, 1, "d", "g", m, 0, NULL), HUB_EOK);
    m = hub_msg_new();
    b = calloc(1, 65537);
    assert_int_equal(hub_msg_take_body(m, b, 65537), HS_EOK);
    assert_int_equal(hub_c2d_enqueue(f.c, 1, "d", "g", m, 0, NULL), HUB_EMESSAGE_TOO_LARGE);
    hub_msg_free(m); /* refused: still ours */
    m = hub_msg_new();
    assert_int_equal(hub_msg_add_app(m, "bad key", "v"), HS_EOK);
    assert_int_equal(hub_c2d_enqueue(f.c, 1, "d", "g", m, 0, NULL), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_c2d_enqueue(f.c, 1, NULL, "g", m, 0, NULL), HUB_EARGUMENT_NULL);
    assert_int_equal(hub_c2d_enqueue(f.c, 1, "d", "g", NULL, 0, NULL), HUB_EARGUMENT_NULL);
    hub_msg_free(m);
    sim_kernel_run_until(f.k, HOUR);
    fx_close(&f);
}

static void test_available_hook_reentrant(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    f.p.receive_in_hook = true;
    assert_int_equal(put(&f, 4, "m", NULL, 0), HUB_EOK);
    assert_int_equal(f.p.available, 1);
    assert_int_equal(f.p.last_dev, 4);
    assert_int_equal(f.p.hook_receive_result, HUB_EOK); /* pushed to the "connected" device */
    f.p.receive_in_hook = false;
    sim_kernel_run_until(f.k, MIN); /* lock runs out: visible again */
    assert_int_equal(f.p.available, 2);
    assert_int_equal(hub_c2d_purge(f.c, 4, NULL), HUB_EOK);
    fx_close(&f);
}

/* Many devices, few with messages: empty devices cost nothing and all is accounted for. */
static void test_many_devices(void **state)
{
    (void)state;
    fx_t f;
    fx_open(&f, NULL);
    for (uint32_t dev = 0; dev < 20000; dev += 7)
        assert_int_equal(put(&f, dev * 2654435761u, "m", NULL, (sim_time_t)(dev % 13 + 1) * SEC), HUB_EOK);
    hub_c2d_delivery_t d;
    assert_int_equal(hub_c2d_receive(f.c, 7u * 2654435761u, &d), HUB_EOK);
    assert_int_equal(hub_c2d_depth(f.c, 1), 0);
    sim_kernel_run_until(f.k, 14 * SEC);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.in_queue, 0);
    assert_int_equal(s.expired, s.enqueued);
    fx_close(&f);
}


/* Which side wins when a device event and a deadline share an instant. */
static void tie_case(bool deadline_wins, hub_err_t want_complete, hub_err_t want_receive)
{
    hub_c2d_config_t cfg;
    hub_c2d_config_default(&cfg);
    cfg.deadline_wins = deadline_wins;
    fx_t f;
    fx_open(&f, &cfg);
    uint32_t h = sim_kernel_register(f.k, device_action, &f);
    hub_c2d_delivery_t d;
    assert_int_equal(put(&f, 1, "a", NULL, 2 * MIN), HUB_EOK);
    assert_int_equal(hub_c2d_receive(f.c, 1, &d), HUB_EOK);
    f.tie_token = d.lock_token;
    /* complete at exactly the lock end (1 min), at device priority */
    assert_int_equal(sim_kernel_at(f.k, MIN, SIM_PRIO_DEVICE, h, 1, NULL), HS_EOK);
    sim_kernel_run_until(f.k, MIN);
    assert_int_equal(f.tie_result, want_complete);
    assert_int_equal(hub_c2d_purge(f.c, 1, NULL), HUB_EOK);
    /* receive at exactly the expiry instant */
    assert_int_equal(put(&f, 1, "b", NULL, MIN), HUB_EOK); /* expires at 2 min */
    assert_int_equal(sim_kernel_at(f.k, 2 * MIN, SIM_PRIO_DEVICE, h, 2, NULL), HS_EOK);
    sim_kernel_run_until(f.k, 2 * MIN);
    assert_int_equal(f.tie_result, want_receive);
    /* either way the message is expired once the instant is over */
    sim_kernel_run_until(f.k, 2 * MIN + 1);
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.expired, 1);
    assert_int_equal(hub_c2d_depth(f.c, 1), 0);
    fx_close(&f);
}

static void test_deadline_wins_knob(void **state)
{
    (void)state;
    hub_c2d_config_t cfg;
    hub_c2d_config_default(&cfg);
    assert_true(cfg.deadline_wins);
    tie_case(true, HUB_ELOCK_LOST, HUB_EMESSAGE_NOT_FOUND);
    tie_case(false, HUB_EOK, HUB_EOK);
}

/* A random workload over a few devices: after every operation the books
 * balance and no queue exceeds 50; the same seed gives the same trace. */
static uint64_t random_run(uint64_t seed)
{
    fx_t f;
    fx_open(&f, NULL);
    sim_rng_t r;
    sim_rng_init(&r, seed, 1);
    char tokens[8][HUB_C2D_LOCK_TOKEN_CAP] = { { 0 } };
    static const char *const acks[] = { NULL, "none", "positive", "negative", "full" };
    char why[256];
    for (int step = 0; step < 20000; step++) {
        uint32_t dev = (uint32_t)sim_rng_below(&r, 8);
        switch (sim_rng_below(&r, 8)) {
        case 0:
        case 1:
        case 2: {
            hub_err_t e = put(&f, dev, "m", acks[sim_rng_below(&r, 5)],
                              (sim_time_t)sim_rng_below(&r, 5 * MIN) + 1);
            assert_true(e == HUB_EOK || e == HUB_EQUEUE_DEPTH_EXCEEDED);
            break;
        }
        case 3: {
            hub_c2d_delivery_t d;
            if (hub_c2d_receive(f.c, dev, &d) == HUB_EOK)
                memcpy(tokens[dev], d.lock_token, sizeof(tokens[dev]));
            break;
        }
        case 4: {
            hub_err_t e = hub_c2d_complete(f.c, dev, tokens[dev]);
            assert_true(e == HUB_EOK || e == HUB_ELOCK_LOST || e == HUB_EMESSAGE_NOT_FOUND);
            break;
        }
        case 5:
            (void)(sim_rng_below(&r, 2) ? hub_c2d_abandon(f.c, dev, tokens[dev])
                                        : hub_c2d_reject(f.c, dev, tokens[dev]));
            break;
        case 6:
            if (sim_rng_below(&r, 50) == 0)
                assert_int_equal(hub_c2d_purge(f.c, dev, NULL), HUB_EOK);
            break;
        default:
            sim_kernel_run_until(f.k, sim_kernel_now(f.k) + (sim_time_t)sim_rng_below(&r, 20 * SEC));
            break;
        }
        assert_true(hub_c2d_depth(f.c, dev) <= 50);
        if (hub_c2d_check(f.c, why, sizeof(why)) != HS_EOK)
            fail_msg("step %d: %s", step, why);
    }
    sim_kernel_run_until(f.k, sim_kernel_now(f.k) + HOUR);
    hub_c2d_stats_t st;
    hub_c2d_stats(f.c, &st);
    assert_int_equal(st.in_queue, 0);
    assert_true(st.completed > 0 && st.expired > 0 && st.rejected > 0 && st.purged > 0);
    assert_int_equal(hub_c2d_feedback_pending(f.c), 0);
    assert_true(st.feedback_records > 0);
    assert_int_equal(st.feedback_records, f.p.total_records);
    uint64_t h = sim_trace_hash(sim_kernel_trace(f.k));
    fx_close(&f);
    return h;
}

static void test_random_workload_balances_and_repeats(void **state)
{
    (void)state;
    uint64_t a = random_run(7);
    uint64_t b = random_run(7);
    uint64_t c = random_run(8);
    assert_true(a == b);
    assert_true(a != c);
}

/* A feedback hook that drives the store (and so makes more feedback) sees every
 * record exactly once. */
static void test_feedback_hook_reentrant(void **state)
{
    (void)state;
    hub_c2d_config_t cfg;
    hub_c2d_config_default(&cfg);
    cfg.feedback_batch_max = 1;
    fx_t f;
    fx_open(&f, &cfg);
    f.p.reenter = 3;
    complete_n_positive(&f, 2);
    assert_int_equal(f.p.total_records, 5);
    assert_int_equal(f.p.batches, 5);
    assert_string_equal(f.p.ids[1], "inner");
    hub_c2d_stats_t s;
    hub_c2d_stats(f.c, &s);
    assert_int_equal(s.feedback_records, 5);
    assert_int_equal(s.completed, 5);
    assert_int_equal(hub_c2d_feedback_pending(f.c), 0);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_50_then_51),
        cmocka_unit_test(test_sequence_numbers_and_stamps),
        cmocka_unit_test(test_ttl_default_expires_at_the_instant),
        cmocka_unit_test(test_receive_at_expiry_instant),
        cmocka_unit_test(test_ttl_max_48h_clamp_or_reject),
        cmocka_unit_test(test_lock_one_minute),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_delivery_count_10_then_dead_letter),
        cmocka_unit_test(test_delivery_count_by_lock_expiry_and_knob),
        cmocka_unit_test(test_config_ranges),
        cmocka_unit_test(test_reject_and_ack_kinds),
        cmocka_unit_test(test_feedback_flush_at_64_records),
        cmocka_unit_test(test_feedback_flush_at_15s),
        cmocka_unit_test(test_purge_with_feedback),
        cmocka_unit_test(test_size_limit_64k_on_enqueue),
        cmocka_unit_test(test_available_hook_reentrant),
        cmocka_unit_test(test_many_devices),
        cmocka_unit_test(test_deadline_wins_knob),
        cmocka_unit_test(test_random_workload_balances_and_repeats),
        cmocka_unit_test(test_feedback_hook_reentrant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
