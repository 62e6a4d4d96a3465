/* The hub message: system properties, ordered application properties, opaque body, and the message-format rules. */
#ifndef HUB_MESSAGE_H
#define HUB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "sim/hub/hub_errors.h"

/* The message model of message-format.txt.  A hub_msg_t owns every byte it
 * holds: setters copy their arguments, hub_msg_free releases everything.
 *
 * System properties are a fixed set of named slots (X-macro below), each a
 * NUL-terminated string or unset.  Typed facts (sequence number, times) are
 * kept as the text the hub would put on the wire, so size accounting and
 * routing see exactly what a device or service sees.
 *
 * X(ENUM, "queryName", "wireName", stamped)
 *   queryName: the name a routing query uses after `$` (routing-query.txt)
 *   wireName:  the AMQP/MQTT annotation or property name
 *   stamped:   1 when the hub sets it and ignores a sender's value
 *              (anti-spoofing); hub_msg_clear_stamped() drops those. */
#define HUB_MSG_SYS_MAP(X)                                                                     \
    X(MESSAGE_ID,           "messageId",                    "message-id",                         0) \
    X(CORRELATION_ID,       "correlationId",                "correlation-id",                     0) \
    X(USER_ID,              "userId",                       "user-id",                            0) \
    X(TO,                   "to",                           "to",                                 0) \
    X(CONTENT_TYPE,         "contentType",                  "content-type",                       0) \
    X(CONTENT_ENCODING,     "contentEncoding",              "content-encoding",                   0) \
    X(EXPIRY_TIME_UTC,      "expiryTimeUtc",                "absolute-expiry-time",               0) \
    X(ACK,                  "ack",                          "iothub-ack",                         0) \
    X(DT_DATASCHEMA,        "dt-dataschema",                "dt-dataschema",                      0) \
    X(DT_SUBJECT,           "dt-subject",                   "dt-subject",                         0) \
    X(SEQUENCE_NUMBER,      "sequenceNumber",               "x-opt-sequence-number",              1) \
    X(ENQUEUED_TIME,        "enqueuedTime",                 "iothub-enqueuedtime",                1) \
    X(CONNECTION_DEVICE_ID, "connectionDeviceId",           "iothub-connection-device-id",        1) \
    X(CONNECTION_MODULE_ID, "connectionModuleId",           "iothub-connection-module-id",        1) \
    X(CONNECTION_DEVICE_GENERATION_ID, "connectionDeviceGenerationId", "iothub-connection-gen-id", 1) \
    X(CONNECTION_AUTH_METHOD, "connectionAuthMethod",       "iothub-connection-auth-method",      1) \
    X(MESSAGE_SOURCE,       "iothub-message-source",        "iothub-message-source",              1)

typedef enum {
#define HUB_MSG_SYS_ENUM(e, q, w, s) HUB_SYS_##e,
    HUB_MSG_SYS_MAP(HUB_MSG_SYS_ENUM)
#undef HUB_MSG_SYS_ENUM
    HUB_SYS__COUNT
} hub_msg_sys_t;

/* Feedback request of a C2D message (the `Ack` system property). */
typedef enum {
    HUB_ACK_NONE = 0, /* default: no feedback */
    HUB_ACK_POSITIVE, /* feedback when completed */
    HUB_ACK_NEGATIVE, /* feedback when expired, dead-lettered, rejected or purged */
    HUB_ACK_FULL      /* both */
} hub_ack_t;

/* Spec figures, for callers that build defaults from knobs.  Limits are in
 * KB; the caller multiplies by its KB knob (1024 by default). */
#define HUB_MSG_D2C_MAX_KB 256
#define HUB_MSG_C2D_MAX_KB 64
#define HUB_MSG_ID_MAX_CHARS 128

typedef struct hub_msg hub_msg_t;

hub_msg_t *hub_msg_new(void);
/* A message with room for a len-byte body inside its own allocation: the
 * caller writes the body through *body_out (NULL when len is 0), which stays
 * valid until the body changes or the message is freed.  NULL when out of
 * memory. */
hub_msg_t *hub_msg_new_with_body(size_t len, void **body_out);
void hub_msg_free(hub_msg_t *m);           /* NULL is fine */
hub_msg_t *hub_msg_clone(const hub_msg_t *m); /* NULL on allocation failure */

/* Body: copied (set) or adopted (take: `body` must come from malloc; on
 * error the caller still owns it).  len 0 with body NULL clears. */
hs_err_t hub_msg_set_body(hub_msg_t *m, const void *body, size_t len);
hs_err_t hub_msg_take_body(hub_msg_t *m, void *body, size_t len);
/* Borrowed; valid until the body changes or the message is freed.  Never
 * NULL (an empty body is ""). */
const void *hub_msg_body(const hub_msg_t *m, size_t *len_out);

/* System properties: value copied; NULL unsets.  HS_EINVAL for a bad id. */
hs_err_t hub_msg_set_sys(hub_msg_t *m, hub_msg_sys_t id, const char *value);
/* The same with the length known: value's first len bytes (no NUL among
 * them; value need not be terminated at len). */
hs_err_t hub_msg_set_sys_len(hub_msg_t *m, hub_msg_sys_t id, const char *value, size_t len);
const char *hub_msg_get_sys(const hub_msg_t *m, hub_msg_sys_t id); /* NULL when unset */
/* Every system property at once, indexed by hub_msg_sys_t (NULL when
 * unset); borrowed like hub_msg_get_sys.  m must not be NULL. */
const char *const *hub_msg_sys_values(const hub_msg_t *m);
/* Drop every hub-stamped system property (anti-spoofing on accept). */
void hub_msg_clear_stamped(hub_msg_t *m);
bool hub_msg_sys_is_stamped(hub_msg_sys_t id);
const char *hub_msg_sys_query_name(hub_msg_sys_t id); /* "messageId"...; NULL for bad id */
const char *hub_msg_sys_wire_name(hub_msg_sys_t id);  /* "message-id"...; NULL for bad id */
/* Look a system property up by its query name (case-insensitive, without
 * the `$`) or wire name; HS_ENOTFOUND when neither matches. */
hs_err_t hub_msg_sys_lookup(const char *name, hub_msg_sys_t *id_out);

/* The Ack property: unset → HUB_ACK_NONE; "none|positive|negative|full"
 * (case-insensitive); anything else → HUB_EARGUMENT_INVALID. */
hub_err_t hub_msg_get_ack(const hub_msg_t *m, hub_ack_t *ack_out);
const char *hub_ack_name(hub_ack_t ack);

/* Application properties: an ordered list of (name, value).  `add` appends
 * (duplicates allowed: some transports carry them); `set` replaces the first
 * property with that exact name or appends.  NULL name → HS_EINVAL; a NULL
 * value is stored as "". */
hs_err_t hub_msg_add_app(hub_msg_t *m, const char *name, const char *value);
/* add with the lengths known (name_len / value_len bytes, no NUL among them). */
hs_err_t hub_msg_add_app_len(hub_msg_t *m, const char *name, size_t name_len, const char *value,
                             size_t value_len);
hs_err_t hub_msg_set_app(hub_msg_t *m, const char *name, const char *value);
/* First value with this exact name, or NULL. */
const char *hub_msg_get_app(const hub_msg_t *m, const char *name);
/* Remove every property with this exact name; returns how many. */
size_t hub_msg_remove_app(hub_msg_t *m, const char *name);
size_t hub_msg_app_count(const hub_msg_t *m);
/* Borrowed pointers; HS_ERANGE past the end. */
hs_err_t hub_msg_app_at(const hub_msg_t *m, size_t i, const char **name_out,
                        const char **value_out);

/* ---- rules ------------------------------------------------------------ */

/* Where a rule failed: enough for a precise error message. */
typedef enum {
    HUB_MSG_WHERE_NONE = 0,
    HUB_MSG_WHERE_APP_NAME,   /* application property name #index */
    HUB_MSG_WHERE_APP_VALUE,  /* application property value #index */
    HUB_MSG_WHERE_SYS_VALUE,  /* system property #index (a hub_msg_sys_t) */
    HUB_MSG_WHERE_MESSAGE_ID, /* the MessageId */
    HUB_MSG_WHERE_SIZE,       /* the whole message */
    HUB_MSG_WHERE_TEXT        /* a free-standing string (method name...) */
} hub_msg_where_t;

typedef struct {
    hub_err_t err;         /* HUB_EOK when nothing failed */
    hub_msg_where_t where;
    size_t index;          /* property index (app) or hub_msg_sys_t (sys) */
    size_t offset;         /* byte offset of the bad character, or the length */
    unsigned char ch;      /* the bad character (0 for length/size failures) */
    size_t size;           /* measured size for HUB_MSG_WHERE_SIZE */
    char detail[192];      /* human text for the error body */
} hub_msg_violation_t;

/* message-format.txt: ASCII alphanumerics plus ! # $ % & ' * + - . ^ _ ` | ~
 * (what property names and values may hold over HTTP D2C and for C2D). */
bool hub_msg_prop_char_ok(unsigned char c);
/* direct-methods.txt: "US-ASCII printable alphanumeric, except any in:
 * $ ( ) < > @ , ; : \ " / [ ] ? = { } SP HT" — read as printable ASCII
 * 0x21..0x7E minus that list (docs/messages-c2d-twins.md). */
bool hub_msg_method_char_ok(unsigned char c);
/* message-format.txt MessageId set: ASCII alphanumerics plus
 * - : . + % _ # * ? ! ( ) , = @ ; $ ' */
bool hub_msg_id_char_ok(unsigned char c);

/* A method name (or a method property name/value) by the direct-methods
 * rule: 1..max_len characters (max_len 0 = no length limit).  Empty, too
 * long or a forbidden character → HUB_EARGUMENT_INVALID with `v` filled
 * (v may be NULL).  `s` NULL → HUB_EARGUMENT_NULL. */
hub_err_t hub_msg_check_method_name(const char *s, size_t max_len, hub_msg_violation_t *v);

/* A MessageId: 1..max_len (128 per spec) characters of the MessageId set. */
hub_err_t hub_msg_check_message_id(const char *id, size_t max_len, hub_msg_violation_t *v);

/* The property character rule over every application property name and
 * value (the first failure is reported).  System property values have their
 * own formats (contentType holds '/'), so only MessageId is checked among
 * them, by its own rule, in hub_msg_validate. */
hub_err_t hub_msg_check_prop_chars(const hub_msg_t *m, hub_msg_violation_t *v);

/* Size per message-format.txt: body bytes + system property values + app
 * property names and values.  With include_stamped false the hub-stamped
 * system properties are left out: that is the size the sender controls and
 * the one the limit applies to (the hub checks before it stamps). */
size_t hub_msg_size(const hub_msg_t *m, bool include_stamped);

typedef struct {
    size_t max_bytes;        /* e.g. 256*1024 (D2C) or 64*1024 (C2D); 0 = no limit */
    size_t message_id_max;   /* 128; 0 = do not check MessageId */
    bool check_prop_chars;   /* true for HTTP D2C and for C2D */
    bool count_stamped;      /* include hub-stamped properties in the size */
} hub_msg_rules_t;

/* Fill rules for D2C over HTTP (chars checked) or not, and for C2D.  kb is
 * the KB knob (1024 by default). */
void hub_msg_rules_d2c(hub_msg_rules_t *r, bool http, size_t kb);
void hub_msg_rules_c2d(hub_msg_rules_t *r, size_t kb);

/* All rules in order: MessageId, property characters, size.  Size over
 * max_bytes → HUB_EMESSAGE_TOO_LARGE (exactly max_bytes passes); others →
 * HUB_EARGUMENT_INVALID. */
hub_err_t hub_msg_validate(const hub_msg_t *m, const hub_msg_rules_t *r, hub_msg_violation_t *v);

#endif
