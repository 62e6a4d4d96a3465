/* The served hub's routing output: one retained, bounded log per endpoint and one for C2D feedback, read by AMQP links and the admin API. */
#ifndef SERVE_AMQP_FEEDS_H
#define SERVE_AMQP_FEEDS_H

/*
 * One amqp_feeds_t per served hub.  It becomes the hub's ONLY endpoint sink
 * (hub_set_endpoint_sink), feedback sink (hub_set_feedback_sink) and file
 * notification sink (hub_set_file_notification_sink): every routed D2C
 * message (built-in "events" and configured endpoints), every feedback
 * batch and every file notification lands in a log here.
 *
 * A log keeps the newest `retain` entries.  An entry pushed out by the bound
 * is counted (evicted); a reader whose cursor points at an evicted entry
 * skips it and the skip is counted (overrun): nothing disappears silently.
 * Readers never hold a pointer into the log across calls: they keep a
 * cursor (a sequence number) and ask for the next entry, so a slow AMQP
 * link (no credit) simply lags behind and is buffered by the log itself.
 *
 * Sequence numbers start at 1 per endpoint (and per feedback log) and never
 * repeat.  Endpoint names compare case-insensitively; the spelling of the
 * first delivery is kept.  Watchers hear "something new" (no data) so that
 * a session can pull as far as its link credit allows.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "sim/hub/hub.h"

typedef struct amqp_feeds amqp_feeds_t;

typedef struct {
    size_t retain;            /* messages kept per endpoint: 10,000 */
    size_t feedback_retain;   /* feedback batches kept: 1,000 */
    uint32_t partitions;      /* partitions of the events endpoint (device_no % n): 4 */
} amqp_feeds_opts_t;

void amqp_feeds_opts_default(amqp_feeds_opts_t *o);

/* Registers itself as the hub's endpoint and feedback sink.  opts NULL =
 * defaults.  HS_EINVAL (retain, feedback_retain or partitions 0), HS_ENOMEM. */
hs_err_t amqp_feeds_new(hub_t *hub, const amqp_feeds_opts_t *opts, amqp_feeds_t **out);
/* Unregisters the sinks and frees every retained message.  NULL is fine.
 * Free the sessions that watch it first. */
void amqp_feeds_free(amqp_feeds_t *f);
hub_t *amqp_feeds_hub(const amqp_feeds_t *f);
const amqp_feeds_opts_t *amqp_feeds_opts(const amqp_feeds_t *f);

/* ---- endpoint logs ----------------------------------------------------------- */

typedef struct {
    uint64_t seq;              /* 1, 2, ... per endpoint */
    const hub_msg_t *msg;      /* the stamped message; borrowed, valid until the next hub call */
    uint32_t device_no;        /* the sender's registry number */
    uint32_t partition;        /* device_no % partitions */
    sim_time_t enqueued_at;    /* kernel time of the delivery */
    int64_t enqueued_unix_ms;  /* the same as Unix milliseconds (x-opt-enqueued-time) */
} amqp_feed_entry_t;

typedef struct {
    uint64_t first_seq;        /* oldest retained; == next_seq when empty */
    uint64_t next_seq;         /* what the next message will get */
    size_t retained;
    uint64_t delivered;        /* messages the hub delivered here */
    uint64_t evicted;          /* pushed out by the retain bound */
    uint64_t overrun;          /* entries readers skipped because they were already evicted */
    uint64_t dropped_nomem;    /* deliveries lost to allocation failure (no seq taken) */
} amqp_feed_stats_t;

/* Visit retained entries with seq >= from_seq in order until cb returns
 * false.  Returns the seq after the last entry visited (the cursor to pass
 * next time); from_seq when nothing was visited.  Unknown endpoint: 1, no
 * calls.  This is the admin API's read. */
uint64_t amqp_feeds_read(amqp_feeds_t *f, const char *endpoint, uint64_t from_seq,
                         bool (*cb)(void *ctx, const amqp_feed_entry_t *e), void *ctx);
/* HS_ENOTFOUND for an endpoint that never received a message or watcher. */
hs_err_t amqp_feeds_stats(const amqp_feeds_t *f, const char *endpoint, amqp_feed_stats_t *out);
/* Endpoints in first-seen order; NULL past the end. */
const char *amqp_feeds_endpoint_at(const amqp_feeds_t *f, size_t i);

/* A reader's step: the first retained entry with seq >= *cursor (and, when
 * partition >= 0, in that partition); entries it had to skip because they
 * were evicted are counted as overrun.  Advances *cursor past the entry.
 * NULL when the reader is caught up. */
const amqp_feed_entry_t *amqp_feeds_next(amqp_feeds_t *f, const char *endpoint, int partition,
                                         uint64_t *cursor);
/* The cursor of a reader that wants only what arrives from now on. */
uint64_t amqp_feeds_tail(amqp_feeds_t *f, const char *endpoint);
/* The cursor of a reader that wants everything still retained. */
uint64_t amqp_feeds_head(amqp_feeds_t *f, const char *endpoint);
/* The cursor of a reader whose x-opt-enqueued-time filter asks for what
 * was enqueued after after_unix_ms: the first such retained entry, else
 * the tail. */
uint64_t amqp_feeds_seek_time(amqp_feeds_t *f, const char *endpoint, int64_t after_unix_ms);

/* ---- feedback log ------------------------------------------------------------ */

typedef struct {
    uint64_t seq;              /* 1, 2, ... (the hub's batch_no may differ after a hub swap) */
    uint64_t batch_no;
    const char *json;          /* the feedback body (hub_c2d_fb_batch_json) */
    size_t len;
    size_t records;
    sim_time_t flushed_at;
    int64_t flushed_unix_ms;
    bool consumed;             /* a receiver accepted or rejected it */
} amqp_feedback_entry_t;

typedef struct {
    uint64_t first_seq, next_seq;
    size_t retained;
    uint64_t batches;          /* batches the hub delivered */
    uint64_t records;          /* records in them */
    uint64_t evicted;          /* pushed out by the bound */
    uint64_t evicted_unconsumed; /* ... before any receiver took them */
    uint64_t consumed;
    uint64_t dropped_nomem;    /* batches lost to allocation failure */
} amqp_feedback_stats_t;

uint64_t amqp_feeds_read_feedback(amqp_feeds_t *f, uint64_t from_seq,
                                  bool (*cb)(void *ctx, const amqp_feedback_entry_t *e), void *ctx);
void amqp_feeds_feedback_stats(const amqp_feeds_t *f, amqp_feedback_stats_t *out);
/* Queue semantics for AMQP feedback receivers: the next retained batch
 * with seq >= *cursor not yet consumed; advances *cursor.  NULL when none. */
const amqp_feedback_entry_t *amqp_feeds_next_feedback(amqp_feeds_t *f, uint64_t *cursor);
/* Where a new feedback receiver starts: the oldest unconsumed batch. */
uint64_t amqp_feeds_feedback_head(amqp_feeds_t *f);
/* A receiver accepted/rejected the batch: later receivers skip it.
 * HS_ENOTFOUND when it is no longer retained. */
hs_err_t amqp_feeds_feedback_consume(amqp_feeds_t *f, uint64_t seq);

/* ---- file notification queue (hub_set_file_notification_sink) ------------------
 * Queue semantics like feedback, plus the hub's fileUpload knobs: an entry
 * older than its TTL is dropped (expired) and one sent max-delivery-count
 * times without being accepted or rejected is dropped (dead-lettered);
 * both counted when a reader meets them.  Retained bound: feedback_retain. */

typedef struct {
    uint64_t seq;              /* 1, 2, ... */
    const char *json;          /* the notification body (docs/file-uploads.md) */
    size_t len;
    int64_t enqueued_unix_ms;
    sim_time_t expires_at;     /* kernel time */
    uint32_t deliveries;
    uint32_t max_deliveries;
    bool consumed;             /* accepted/rejected, expired or dead-lettered */
} amqp_filenote_entry_t;

typedef struct {
    uint64_t first_seq, next_seq;
    size_t retained;
    uint64_t notified;         /* notifications the hub delivered here */
    uint64_t consumed;         /* accepted or rejected by a receiver */
    uint64_t expired;
    uint64_t dead_lettered;
    uint64_t evicted, evicted_unconsumed;
    uint64_t dropped_nomem;
} amqp_filenote_stats_t;

void amqp_feeds_filenote_stats(const amqp_feeds_t *f, amqp_filenote_stats_t *out);
/* The next deliverable entry with seq >= *cursor (counts the delivery);
 * advances *cursor.  NULL when none. */
const amqp_filenote_entry_t *amqp_feeds_next_filenote(amqp_feeds_t *f, uint64_t *cursor);
/* Where a new receiver starts: the oldest entry not yet consumed. */
uint64_t amqp_feeds_filenote_head(amqp_feeds_t *f);
/* Accepted/rejected.  HS_ENOTFOUND when no longer retained. */
hs_err_t amqp_feeds_filenote_consume(amqp_feeds_t *f, uint64_t seq);
/* fn(ctx) after each new file notification; same contract as amqp_feeds_watch. */
uint64_t amqp_feeds_watch_filenotes(amqp_feeds_t *f, void (*fn)(void *ctx), void *ctx);

/* ---- watchers ------------------------------------------------------------------ */

/* fn(ctx) after each new entry of `endpoint` (NULL = the feedback log).
 * Called synchronously from inside the hub's delivery.  Returns an id > 0,
 * 0 on allocation failure. */
uint64_t amqp_feeds_watch(amqp_feeds_t *f, const char *endpoint, void (*fn)(void *ctx), void *ctx);
/* Safe from inside a notification; unknown ids are ignored. */
void amqp_feeds_unwatch(amqp_feeds_t *f, uint64_t id);

#endif
