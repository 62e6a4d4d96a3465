/* Cloud-to-device queues for every device of a hub, in virtual time, with locks, dead-lettering and batched feedback. */
#ifndef HUB_C2D_QUEUE_H
#define HUB_C2D_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/kernel.h"
#include "sim/hub/hub_errors.h"
#include "sim/hub/message.h"

/* One hub_c2d_t holds the queues of all devices, indexed by the hub's
 * device number (any uint32).  A device that never received a C2D message
 * costs no memory; a device whose queue drained keeps a small record so its
 * sequence numbers stay unique.
 *
 * Message life (NOTES.md "Messages and C2D queue"):
 *   Enqueued --receive--> Invisible (locked for lock_timeout, lock token)
 *   Invisible --complete--> Completed                      (feedback Success)
 *   Invisible --reject--> Dead-lettered                    (feedback Rejected)
 *   Invisible --abandon | lock expiry--> Enqueued, or Dead-lettered when the
 *       delivery count reached max_delivery_count    (DeliveryCountExceeded)
 *   Enqueued | Invisible --expiry time reached--> Dead-lettered (Expired)
 *   any --purge--> removed                                   (Purged)
 * Expiry is absolute: a message whose ExpiryTimeUtc has come is never
 * delivered or completed again, even while locked (its token then answers
 * MESSAGE_NOT_FOUND).  Timers come from two handlers registered once per
 * store (message deadlines, feedback interval); each message has at most
 * one pending timer.  Free the store before its kernel.
 *
 * Every change emits a trace event "c2d.<what>" and bumps a counter, and
 * hub_c2d_check() verifies that every enqueued message is in a queue or
 * accounted for by exactly one terminal outcome. */

typedef struct hub_c2d hub_c2d_t;

typedef enum {
    HUB_C2D_FB_SUCCESS = 0,
    HUB_C2D_FB_EXPIRED,
    HUB_C2D_FB_DELIVERY_COUNT_EXCEEDED,
    HUB_C2D_FB_REJECTED,
    HUB_C2D_FB_PURGED
} hub_c2d_fb_status_t;

/* "Success", "Expired", "DeliveryCountExceeded", "Rejected", "Purged". */
const char *hub_c2d_fb_status_name(hub_c2d_fb_status_t s);

/* One feedback record.  Strings are owned by the batch. */
typedef struct {
    char *original_message_id;   /* "" when the message had none */
    char *device_id;
    char *device_generation_id;
    hub_c2d_fb_status_t status;
    const char *description;     /* static text */
    sim_time_t enqueued_time;    /* when the record was made (the outcome instant) */
    uint32_t device_no;
    uint64_t sequence_number;
} hub_c2d_fb_record_t;

/* A feedback message: records in the order their outcomes happened.
 * Borrowed by the feedback hook for the duration of the call. */
typedef struct {
    const hub_c2d_fb_record_t *records;
    size_t count;
    uint64_t batch_no;           /* 1, 2, ... */
    sim_time_t flushed_at;
    bool by_count;               /* flushed because the batch filled up */
} hub_c2d_fb_batch_t;

/* The feedback message body: a JSON array of
 * {"originalMessageId","deviceId","deviceGenerationId","statusCode","description","enqueuedTimeUtc"}
 * with enqueuedTimeUtc from sim_utc_format(epoch_unix, ...).  malloc'd text
 * the caller frees, or NULL on allocation failure. */
char *hub_c2d_fb_batch_json(const hub_c2d_fb_batch_t *b, int64_t epoch_unix);

/* Knobs; hub_c2d_config_default gives the NOTES.md defaults. */
typedef struct {
    uint32_t max_depth;            /* 50: the 51st message → QUEUE_DEPTH_EXCEEDED */
    sim_time_t default_ttl;        /* 1 h */
    sim_time_t max_ttl;            /* 48 h */
    bool reject_ttl_over_max;      /* false: clamp to max_ttl; true: ARGUMENT_INVALID */
    sim_time_t lock_timeout;       /* 1 min */
    uint32_t max_delivery_count;   /* 10 (valid 1..100) */
    size_t max_message_bytes;      /* 64*1024; 0 = not checked here */
    bool check_message_rules;      /* MessageId and property character rules on enqueue */
    uint32_t feedback_batch_max;   /* 64 records */
    sim_time_t feedback_interval;  /* 15 s after the first record of a batch */
    /* A device operation at the very instant of a deadline (expiry, lock
     * end): true (default, the hub's deadline_wins knob) = the deadline has
     * already happened; false = the operation still sees the message or
     * lock, and the deadline applies after it (timers at
     * SIM_PRIO_LATE_DEADLINE). */
    bool deadline_wins;
} hub_c2d_config_t;

void hub_c2d_config_default(hub_c2d_config_t *c);
/* HS_ERANGE with a message in why (may be NULL) when a knob is out of range
 * (max_delivery_count outside 1..100, zero depth/lock/interval/batch, ...). */
hs_err_t hub_c2d_config_check(const hub_c2d_config_t *c, char *why, size_t cap);

/* Hooks, called synchronously from inside store calls and timer events.
 * Either may be NULL.  `available`: a message of this device became
 * visible (enqueued, abandoned, lock expired) — the hub may push it to a
 * connected device; it may call back into the store. */
typedef struct {
    void *ctx;
    void (*available)(void *ctx, uint32_t device_no);
    void (*feedback)(void *ctx, const hub_c2d_fb_batch_t *batch);
} hub_c2d_hooks_t;

/* The config is copied; hooks may be NULL.  NULL on allocation failure or
 * a config that fails hub_c2d_config_check. */
hub_c2d_t *hub_c2d_new(sim_kernel_t *k, const hub_c2d_config_t *cfg, const hub_c2d_hooks_t *hooks);
/* Frees everything, cancels pending timers.  Pending feedback records are
 * discarded (call hub_c2d_flush_feedback first to deliver them). */
void hub_c2d_free(hub_c2d_t *c);

/* Enqueue for a device.  On HUB_EOK the store owns msg and stamps
 * sequenceNumber, enqueuedTime and expiryTimeUtc on it; on any error the
 * caller still owns msg.  ttl 0 = default_ttl.  device_id and generation_id
 * are copied (used in feedback records).  Errors: QUEUE_DEPTH_EXCEEDED
 * (queue already holds max_depth), MESSAGE_TOO_LARGE, ARGUMENT_INVALID (bad
 * MessageId, characters, Ack value, TTL over max when rejecting),
 * ARGUMENT_NULL, SERVER_ERROR (allocation). */
hub_err_t hub_c2d_enqueue(hub_c2d_t *c, uint32_t device_no, const char *device_id,
                          const char *generation_id, hub_msg_t *msg, sim_time_t ttl,
                          uint64_t *seq_out);

#define HUB_C2D_LOCK_TOKEN_CAP 40

/* What a receive hands out.  msg is borrowed: valid until the next call
 * into the store or the next kernel event (clone it to keep it). */
typedef struct {
    const hub_msg_t *msg;
    uint64_t sequence_number;
    uint32_t delivery_count;     /* 1 on the first delivery */
    sim_time_t enqueued_time;
    sim_time_t expiry_time;
    sim_time_t lock_until;
    char lock_token[HUB_C2D_LOCK_TOKEN_CAP]; /* 36-char GUID-shaped text */
} hub_c2d_delivery_t;

/* Lock the oldest visible message.  HUB_EMESSAGE_NOT_FOUND when none is
 * visible (the caller's "empty", not an error to report). */
hub_err_t hub_c2d_receive(hub_c2d_t *c, uint32_t device_no, hub_c2d_delivery_t *out);

/* Settle by lock token.  Unknown token, or the message is gone →
 * MESSAGE_NOT_FOUND; the message exists but this lock expired or was
 * superseded → LOCK_LOST. */
hub_err_t hub_c2d_complete(hub_c2d_t *c, uint32_t device_no, const char *lock_token);
hub_err_t hub_c2d_reject(hub_c2d_t *c, uint32_t device_no, const char *lock_token);
hub_err_t hub_c2d_abandon(hub_c2d_t *c, uint32_t device_no, const char *lock_token);

/* Remove every message of the device (service purge, device deleted);
 * negative/full acks get Purged feedback.  n_out may be NULL. */
hub_err_t hub_c2d_purge(hub_c2d_t *c, uint32_t device_no, size_t *n_out);

/* Messages in the device's queue (Enqueued + Invisible). */
size_t hub_c2d_depth(const hub_c2d_t *c, uint32_t device_no);
/* Deliver pending feedback records now (end of run, tests). */
void hub_c2d_flush_feedback(hub_c2d_t *c);
size_t hub_c2d_feedback_pending(const hub_c2d_t *c);

typedef struct {
    uint64_t enqueued;           /* accepted into a queue */
    uint64_t refused;            /* enqueue attempts refused (depth, size, rules) */
    uint64_t delivered;          /* receives (each delivery attempt) */
    uint64_t completed;
    uint64_t rejected;           /* dead-lettered by reject */
    uint64_t abandoned;          /* abandon calls that succeeded */
    uint64_t lock_expired;       /* locks that ran out */
    uint64_t expired;            /* dead-lettered by expiry */
    uint64_t delivery_exceeded;  /* dead-lettered by delivery count */
    uint64_t dead_lettered;      /* rejected + expired + delivery_exceeded */
    uint64_t purged;
    uint64_t in_queue;           /* currently held, all devices */
    uint64_t feedback_records;   /* records made */
    uint64_t feedback_batches;   /* feedback messages delivered */
    uint64_t feedback_discarded; /* records dropped by hub_c2d_free */
} hub_c2d_stats_t;

void hub_c2d_stats(const hub_c2d_t *c, hub_c2d_stats_t *out);
/* Conservation: enqueued == completed + dead_lettered + purged + in_queue,
 * and the per-device queues sum to in_queue.  HS_ESTATE with the
 * discrepancy in why (may be NULL) otherwise. */
hs_err_t hub_c2d_check(const hub_c2d_t *c, char *why, size_t cap);

#endif
