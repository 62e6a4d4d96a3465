/* Conformance cases for cloud-to-device messages: queue depth, size, TTL, lock, delivery count, settlement, feedback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/case.h"

/* Literals from NOTES.md "Messages and C2D queue" and the C2D doc: depth 50
 * (51st: 403 403004), 64 KB = 65536 bytes (413 413001), TTL 1 h default,
 * lock 1 min, maxDeliveryCount 10, 412 412002 lock lost, 404 404002 unknown
 * token, feedback batches of 64 records or 15 s (knob defaults). */

#define MS ((sim_time_t)1000000)
#define SEC ((sim_time_t)1000000000)

static bool send_c2d(conf_ctx_t *c, const char *dev, const char *id, const char *ack,
                     target_status_t *st)
{
    target_msg_t m;
    conf_msg_init(&m, "hello");
    if (id)
        conf_msg_sys(&m, "messageId", id);
    if (ack)
        conf_msg_sys(&m, "ack", ack);
    c->ops->c2d_send(c->t, dev, &m, 0, st);
    return st->http == 200;
}

static bool send_ok(conf_ctx_t *c, const char *dev, const char *id, const char *ack)
{
    target_status_t st;
    send_c2d(c, dev, id, ack, &st);
    return conf_status(c, &st, 200, 0, "C2D send");
}

/* ---- C2D-QUEUE-DEPTH ---------------------------------------------------------- */

static void depth(conf_ctx_t *c, int n, bool last_ok)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_status_t st;
    for (int i = 1; i < n; i++)
        if (!send_c2d(c, "d1", NULL, NULL, &st)) {
            char what[80];
            snprintf(what, sizeof what, "C2D message %d of %d pending", i, n);
            conf_status(c, &st, 200, 0, what);
            return;
        }
    send_c2d(c, "d1", NULL, NULL, &st);
    char what[80];
    snprintf(what, sizeof what, "C2D message %d while %d are pending", n, n - 1);
    conf_status(c, &st, last_ok ? 200 : 403, last_ok ? 0 : 403004, what);
}

static void depth_50(conf_ctx_t *c) { depth(c, 50, true); }
static void depth_51(conf_ctx_t *c) { depth(c, 51, false); }

static void depth_frees(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &conn))
        return;
    for (int i = 0; i < 50; i++)
        if (!send_ok(c, "d1", NULL, NULL))
            return;
    target_c2d_t d;
    target_status_t st;
    c->ops->device_c2d_receive(c->t, conn, &d, &st);
    if (!conf_status(c, &st, 200, 0, "receive"))
        return;
    c->ops->device_c2d_settle(c->t, conn, d.lock_token, TARGET_SETTLE_COMPLETE, &st);
    if (!conf_status(c, &st, 200, 0, "complete"))
        return;
    send_c2d(c, "d1", NULL, NULL, &st);
    conf_status(c, &st, 200, 0, "a send after one of 50 was completed");
}

/* ---- C2D-SIZE-LIMIT -------------------------------------------------------------- */

static void c2d_size(conf_ctx_t *c, size_t n, bool ok)
{
    if (!conf_create(c, "d1", NULL))
        return;
    char *b = malloc(n + 1);
    if (!b) {
        conf_error(c, "out of memory");
        return;
    }
    memset(b, 'c', n);
    b[n] = '\0';
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, b);
    c->ops->c2d_send(c->t, "d1", &m, 0, &st);
    free(b);
    char what[80];
    snprintf(what, sizeof what, "C2D body of %zu bytes", n);
    conf_status(c, &st, ok ? 200 : 413, ok ? 0 : 413001, what);
}

static void size_exact(conf_ctx_t *c) { c2d_size(c, 65536, true); }
static void size_over(conf_ctx_t *c) { c2d_size(c, 65537, false); }

/* ---- C2D-TTL ------------------------------------------------------------------------ */

static void ttl(conf_ctx_t *c, sim_time_t wait, bool visible)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &conn) || !send_ok(c, "d1", "t1", "full"))
        return;
    conf_advance(c, wait);
    target_c2d_t d;
    target_status_t st;
    c->ops->device_c2d_receive(c->t, conn, &d, &st);
    if (visible) {
        conf_status(c, &st, 200, 0, "receive 1 ms before the default TTL of 1 h");
        return;
    }
    if (!conf_status(c, &st, 404, 404002, "receive 1 ms after the default TTL of 1 h"))
        return;
    conf_advance(c, 16 * SEC);
    target_feedback_t fb;
    bool got = c->ops->feedback_next(c->t, &fb);
    conf_check(c, got && fb.count == 1 && strcmp(fb.records[0].status, "Expired") == 0,
               "one feedback record Expired (ack full)", "%s",
               got && fb.count ? fb.records[0].status : "no feedback");
}

/* An explicit TTL (ttl_s), or one over the 48 h maximum that the hub cuts
 * to 48 h: visible 1 ms before its end, gone 1 ms after. */
static void ttl_explicit(conf_ctx_t *c, int64_t ttl_s, sim_time_t end, bool visible)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &conn))
        return;
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "ttl");
    c->ops->c2d_send(c->t, "d1", &m, (sim_time_t)ttl_s * SEC, &st);
    char what[120];
    snprintf(what, sizeof what, "C2D with a TTL of %lld s", (long long)ttl_s);
    if (!conf_status(c, &st, 200, 0, what))
        return;
    conf_advance(c, visible ? end - MS : end + MS);
    target_c2d_t d;
    c->ops->device_c2d_receive(c->t, conn, &d, &st);
    snprintf(what, sizeof what, "receive 1 ms %s the message's end at %lld s", visible ? "before" : "after",
             (long long)(end / SEC));
    conf_status(c, &st, visible ? 200 : 404, visible ? 0 : 404002, what);
}

static void ttl10_inside(conf_ctx_t *c) { ttl_explicit(c, 10, 10 * SEC, true); }
static void ttl10_outside(conf_ctx_t *c) { ttl_explicit(c, 10, 10 * SEC, false); }
static void ttl49h_inside(conf_ctx_t *c) { ttl_explicit(c, 49 * 3600, 48 * 3600 * SEC, true); }
static void ttl49h_outside(conf_ctx_t *c) { ttl_explicit(c, 49 * 3600, 48 * 3600 * SEC, false); }

static void ttl_inside(conf_ctx_t *c) { ttl(c, 3600 * SEC - MS, true); }
static void ttl_outside(conf_ctx_t *c) { ttl(c, 3600 * SEC + MS, false); }

/* ---- C2D-LOCK ------------------------------------------------------------------------ */

static void lock(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &conn) || !send_ok(c, "d1", "l1", NULL))
        return;
    target_c2d_t d1, d2;
    target_status_t st;
    c->ops->device_c2d_receive(c->t, conn, &d1, &st);
    if (!conf_status(c, &st, 200, 0, "first receive"))
        return;
    conf_advance(c, 60 * SEC - MS);
    c->ops->device_c2d_receive(c->t, conn, &d2, &st);
    if (!conf_status(c, &st, 404, 404002, "receive 1 ms before the 1 min lock ends: nothing visible"))
        return;
    conf_advance(c, 2 * MS);
    c->ops->device_c2d_receive(c->t, conn, &d2, &st);
    if (!conf_status(c, &st, 200, 0, "receive 1 ms after the 1 min lock ended") ||
        !conf_check(c, d2.delivery_count == 2, "delivery count 2", "delivery count %u", d2.delivery_count))
        return;
    c->ops->device_c2d_settle(c->t, conn, d1.lock_token, TARGET_SETTLE_COMPLETE, &st);
    if (!conf_status(c, &st, 412, 412002, "complete with the superseded lock token"))
        return;
    c->ops->device_c2d_settle(c->t, conn, "00000000-0000-0000-0000-000000000000", TARGET_SETTLE_COMPLETE, &st);
    if (!conf_status(c, &st, 404, 404002, "complete with an unknown lock token"))
        return;
    c->ops->device_c2d_settle(c->t, conn, d2.lock_token, TARGET_SETTLE_COMPLETE, &st);
    conf_status(c, &st, 200, 0, "complete with the current lock token");
}

/* ---- C2D-DELIVERY-COUNT ------------------------------------------------------------ */

static void delivery_count(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &conn) || !send_ok(c, "d1", "dc", "negative"))
        return;
    target_c2d_t d;
    target_status_t st;
    for (unsigned i = 1; i <= 10; i++) {
        c->ops->device_c2d_receive(c->t, conn, &d, &st);
        char what[80];
        snprintf(what, sizeof what, "delivery %u of maxDeliveryCount 10", i);
        if (!conf_status(c, &st, 200, 0, what) ||
            !conf_check(c, d.delivery_count == i, what, "delivery count %u", d.delivery_count))
            return;
        c->ops->device_c2d_settle(c->t, conn, d.lock_token, TARGET_SETTLE_ABANDON, &st);
        if (!conf_status(c, &st, 200, 0, "abandon"))
            return;
    }
    c->ops->device_c2d_receive(c->t, conn, &d, &st);
    if (!conf_status(c, &st, 404, 404002, "an 11th receive after 10 deliveries"))
        return;
    conf_advance(c, 16 * SEC);
    target_feedback_t fb;
    bool got = c->ops->feedback_next(c->t, &fb);
    conf_check(c, got && fb.count == 1 && strcmp(fb.records[0].status, "DeliveryCountExceeded") == 0,
               "one feedback record DeliveryCountExceeded", "%s",
               got && fb.count ? fb.records[0].status : "no feedback");
}

/* ---- C2D-SETTLE / C2D-FEEDBACK ------------------------------------------------------- */

static void settle(conf_ctx_t *c, target_settle_t how, const char *ack, const char *fb_status)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &conn) || !send_ok(c, "d1", "s1", ack))
        return;
    target_c2d_t d;
    target_status_t st;
    c->ops->device_c2d_receive(c->t, conn, &d, &st);
    if (!conf_status(c, &st, 200, 0, "receive") ||
        !conf_check(c, strcmp(d.message_id, "s1") == 0, "the message s1", "message %s", d.message_id))
        return;
    c->ops->device_c2d_settle(c->t, conn, d.lock_token, how, &st);
    if (!conf_status(c, &st, 200, 0, "settle"))
        return;
    c->ops->device_c2d_receive(c->t, conn, &d, &st);
    if (how == TARGET_SETTLE_ABANDON) {
        if (!conf_status(c, &st, 200, 0, "receive after abandon: visible again") ||
            !conf_check(c, d.delivery_count == 2, "delivery count 2", "%u", d.delivery_count))
            return;
    } else if (!conf_status(c, &st, 404, 404002,
                            how == TARGET_SETTLE_COMPLETE ? "receive after complete: gone"
                                                          : "receive after reject: dead-lettered")) {
        return;
    }
    conf_advance(c, 16 * SEC);
    target_feedback_t fb;
    bool got = c->ops->feedback_next(c->t, &fb);
    if (!fb_status) {
        conf_check(c, !got, "no feedback", "%zu feedback record(s)", got ? fb.count : 0);
        return;
    }
    char exp[120];
    snprintf(exp, sizeof exp, "one feedback record %s for s1 of d1 (ack %s)", fb_status, ack);
    conf_check(c, got && fb.count == 1 && strcmp(fb.records[0].status, fb_status) == 0 &&
                      strcmp(fb.records[0].original_message_id, "s1") == 0 &&
                      strcmp(fb.records[0].device_id, "d1") == 0,
               exp, "%s", got && fb.count ? fb.records[0].status : "no feedback");
}

static void settle_complete(conf_ctx_t *c) { settle(c, TARGET_SETTLE_COMPLETE, "positive", "Success"); }
static void settle_reject(conf_ctx_t *c) { settle(c, TARGET_SETTLE_REJECT, "negative", "Rejected"); }
static void settle_abandon(conf_ctx_t *c) { settle(c, TARGET_SETTLE_ABANDON, NULL, NULL); }
static void fb_full_complete(conf_ctx_t *c) { settle(c, TARGET_SETTLE_COMPLETE, "full", "Success"); }
static void fb_full_reject(conf_ctx_t *c) { settle(c, TARGET_SETTLE_REJECT, "full", "Rejected"); }
static void fb_none(conf_ctx_t *c) { settle(c, TARGET_SETTLE_COMPLETE, "none", NULL); }
static void fb_negative_complete(conf_ctx_t *c) { settle(c, TARGET_SETTLE_COMPLETE, "negative", NULL); }

/* ---- C2D-FEEDBACK-BATCH ---------------------------------------------------------------- */

/* n completions with ack positive spread over two devices (depth 50 each). */
static bool complete_n(conf_ctx_t *c, int n)
{
    target_conn_t a, b;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &a) || !conf_online(c, "d2", NULL, TARGET_SUB_C2D, &b))
        return false;
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "f%d", i);
        if (!send_ok(c, i % 2 ? "d2" : "d1", id, "positive"))
            return false;
    }
    for (int i = 0; i < n; i++) {
        target_conn_t conn = i % 2 ? b : a;
        target_c2d_t d;
        target_status_t st;
        c->ops->device_c2d_receive(c->t, conn, &d, &st);
        if (!conf_status(c, &st, 200, 0, "receive"))
            return false;
        c->ops->device_c2d_settle(c->t, conn, d.lock_token, TARGET_SETTLE_COMPLETE, &st);
        if (!conf_status(c, &st, 200, 0, "complete"))
            return false;
    }
    return true;
}

static void batch_64(conf_ctx_t *c)
{
    if (!complete_n(c, 65))
        return;
    target_feedback_t fb;
    bool got = c->ops->feedback_next(c->t, &fb);
    if (!conf_check(c, got && fb.count == 64, "a feedback message of 64 records at once",
                    "%s %zu records", got ? "a message of" : "no message,", got ? fb.count : 0))
        return;
    conf_advance(c, 15 * SEC + MS);
    got = c->ops->feedback_next(c->t, &fb);
    conf_check(c, got && fb.count == 1, "the 65th record in the next message within 15 s",
               "%s", got ? "another size" : "none");
}

static void batch_interval(conf_ctx_t *c)
{
    if (!complete_n(c, 1))
        return;
    target_feedback_t fb;
    conf_advance(c, 15 * SEC - MS);
    bool got = c->ops->feedback_next(c->t, &fb);
    if (!conf_check(c, !got, "no feedback message 1 ms before 15 s", "a message of %zu records",
                    got ? fb.count : 0))
        return;
    conf_advance(c, 2 * MS);
    got = c->ops->feedback_next(c->t, &fb);
    conf_check(c, got && fb.count == 1, "one record flushed by 15 s + 1 ms", "%s",
               got ? "another size" : "none");
}

const conf_case_t conf_cases_c2d[] = {
    { "C2D-QUEUE-DEPTH", "50th pending message accepted", depth_50, 0, NULL, false },
    { "C2D-QUEUE-DEPTH", "51st while 50 pending refused 403004", depth_51, 0, NULL, false },
    { "C2D-QUEUE-DEPTH", "a completed message frees its place", depth_frees, 0, NULL, false },
    { "C2D-SIZE-LIMIT", "C2D of exactly 65536 bytes accepted", size_exact, 0, NULL, true },
    { "C2D-SIZE-LIMIT", "C2D of 65537 bytes refused 413", size_over, 0, NULL, true },
    { "C2D-TTL", "visible 1 ms before the default TTL of 1 h", ttl_inside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-TTL", "expired 1 ms after 1 h, feedback Expired", ttl_outside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-TTL", "explicit TTL 10 s: visible 1 ms before", ttl10_inside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-TTL", "explicit TTL 10 s: gone 1 ms after", ttl10_outside, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-TTL", "TTL 49 h lives at most 48 h: visible 1 ms before 48 h", ttl49h_inside,
      TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-TTL", "TTL 49 h lives at most 48 h: gone 1 ms after 48 h", ttl49h_outside,
      TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-LOCK", "1 min lock, 412 for a stale token, 404 for an unknown one", lock, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-DELIVERY-COUNT", "10 deliveries then dead-lettered DeliveryCountExceeded", delivery_count, 0, NULL, false },
    { "C2D-SETTLE", "complete removes the message", settle_complete, 0, NULL, false },
    { "C2D-SETTLE", "reject dead-letters at once", settle_reject, 0, NULL, false },
    { "C2D-SETTLE", "abandon makes it visible again", settle_abandon, 0, NULL, false },
    { "C2D-FEEDBACK", "ack full + complete: Success", fb_full_complete, 0, NULL, false },
    { "C2D-FEEDBACK", "ack full + reject: Rejected", fb_full_reject, 0, NULL, false },
    { "C2D-FEEDBACK", "ack none: no feedback", fb_none, 0, NULL, false },
    { "C2D-FEEDBACK", "ack negative + complete: no feedback", fb_negative_complete, 0, NULL, false },
    { "C2D-FEEDBACK-BATCH", "64 records make one message, the 65th waits", batch_64, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "C2D-FEEDBACK-BATCH", "a partial batch is flushed after 15 s", batch_interval, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
