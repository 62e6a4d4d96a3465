/* AMQP message <-> hub message: properties, application properties, annotations, body, ids, and hub error -> AMQP error condition. */
#ifndef SERVE_AMQP_CODEC_H
#define SERVE_AMQP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <proton/codec.h>
#include <proton/delivery.h>
#include <proton/link.h>
#include <proton/message.h>
#include "sim/hub/hub_errors.h"
#include "sim/hub/message.h"

/* X(ENUM, "condition", "confidence") for every hub error a disposition,
 * detach or reply can carry.  Confidence as in NOTES.md ([sdk]: the Node
 * SDKs' translateError table knows the condition; [?]: our choice). */
#define AMQP_CONDITION_MAP(X)                                                                     \
    X(OK,                    "",                                         "")                      \
    X(ARGUMENT_INVALID,      "com.microsoft:argument-error",             "[sdk]")                 \
    X(ARGUMENT_NULL,         "com.microsoft:argument-error",             "[sdk]")                 \
    X(CONNECTION_REPLACED,   "amqp:link:stolen",                         "[?]")                   \
    X(INVALID_CONTENT,       "com.microsoft:argument-error",             "[?]")                   \
    X(UNAUTHORIZED,          "amqp:unauthorized-access",                 "[sdk]")                 \
    X(UNAUTHORIZED_ACCESS,   "amqp:unauthorized-access",                 "[sdk]")                 \
    X(QUOTA_EXCEEDED,        "com.microsoft:quota-exceeded",             "[sdk]")                 \
    X(QUEUE_DEPTH_EXCEEDED,  "amqp:resource-limit-exceeded",             "[?]")                   \
    X(DEVICE_NOT_FOUND,      "amqp:not-found",                           "[sdk]")                 \
    X(MODULE_NOT_FOUND,      "amqp:not-found",                           "[sdk]")                 \
    X(DEVICE_NOT_ONLINE,     "amqp:not-found",                           "[?]")                   \
    X(MESSAGE_NOT_FOUND,     "amqp:not-found",                           "[?]")                   \
    X(DEVICE_ALREADY_EXISTS, "com.microsoft:device-already-exists",      "[sdk]")                 \
    X(MODULE_ALREADY_EXISTS, "com.microsoft:device-already-exists",      "[?]")                   \
    X(PRECONDITION_FAILED,   "com.microsoft:precondition-failed",        "[sdk]")                 \
    X(LOCK_LOST,             "com.microsoft:message-lock-lost",          "[sdk]")                 \
    X(MESSAGE_TOO_LARGE,     "amqp:link:message-size-exceeded",          "[doc]")                 \
    X(THROTTLED,             "com.microsoft:device-container-throttled", "[sdk]")                 \
    X(SERVER_ERROR,          "amqp:internal-error",                      "[sdk]")                 \
    X(GATEWAY_TIMEOUT,       "com.microsoft:timeout",                    "[sdk]")

/* The condition symbol for a hub error ("" for HUB_EOK). */
const char *amqp_condition_for(hub_err_t err);

/* The text of a scalar at pn_data's cursor: strings and symbols as they
 * are, binary as its bytes, integers in decimal, bool "true"/"false",
 * uuid as 8-4-4-4-12 lowercase hex, timestamp as ISO-8601 UTC.  malloc'd;
 * NULL for compound or unsupported types (and allocation failure). */
char *amqp_data_text(pn_data_t *d);
/* The same for a message id / correlation id atom; NULL for PN_NULL. */
char *amqp_atom_text(pn_atom_t a);

/* Build a hub message from a decoded AMQP message: properties (message-id,
 * correlation-id, user-id, to, content-type, content-encoding,
 * absolute-expiry-time), application properties (scalars as text; unless
 * drop_app) and message annotations whose key is a system property's wire
 * name; body from a data section or an amqp-value string/binary.  A
 * compound application property value, a non-string key or another body
 * kind → HUB_EARGUMENT_INVALID with the reason in why; SERVER_ERROR on
 * allocation failure. */
hub_err_t amqp_msg_to_hub(pn_message_t *m, bool drop_app, hub_msg_t **out, char *why, size_t cap);

enum {
    AMQP_MSG_STAMPED_ANNOTATIONS = 1u << 0 /* hub-stamped system properties as message annotations */
};

/* Event Hubs marks of a message read from an endpoint log. */
typedef struct {
    uint64_t sequence_number; /* x-opt-sequence-number (long) and x-opt-offset (its text) */
    int64_t enqueued_unix_ms; /* x-opt-enqueued-time (timestamp) */
} amqp_event_marks_t;

/* Fill an AMQP message (cleared first) from a hub message: the properties
 * above, application properties as strings, the body as one data section;
 * with AMQP_MSG_STAMPED_ANNOTATIONS the stamped system properties (and
 * dt-*) become message annotations by their wire names (iothub-enqueuedtime
 * as a timestamp), plus the event marks when `marks` is not NULL. */
hs_err_t amqp_msg_from_hub(const hub_msg_t *h, unsigned flags, const amqp_event_marks_t *marks,
                           pn_message_t *m);

/* Annotation/application property helpers (keys are symbols in
 * annotations, strings in application properties). */
hs_err_t amqp_map_put_string(pn_data_t *map, bool symbol_key, const char *key, const char *value);
/* Find key (compare exactly, or case-insensitively when nocase) in a map
 * at the top of `data`; on success the cursor is on the value. */
bool amqp_map_find(pn_data_t *data, const char *key, bool nocase);

/* True when bytes are a sequence of AMQP message sections (described
 * types 0x70..0x78).  proton's pn_message_decode accepts garbage, so the
 * session checks first. */
bool amqp_bytes_are_message(const char *bytes, size_t len);

/* Encode m: malloc'd bytes in *out (caller frees).  HS_ENOMEM / HS_EPARSE. */
hs_err_t amqp_msg_encode(pn_message_t *m, char **out, size_t *len);

/* ISO-8601 UTC ↔ Unix milliseconds (the hub keeps times as text). */
bool amqp_iso_to_ms(const char *iso, int64_t *ms_out);
void amqp_ms_to_iso(int64_t ms, char *buf, size_t cap);

#endif
