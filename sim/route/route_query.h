/* The routing query language: options, the per-message view, compile once, evaluate per message. */
#ifndef ROUTE_QUERY_H
#define ROUTE_QUERY_H

/*
 * Model.  A route's condition is compiled once (route_query_compile) into a
 * flat node array; every message is then evaluated against it
 * (route_query_eval) through a route_message_t view that the hub fills
 * without copying anything: system properties by fixed slot, application
 * properties as a borrowed array, the body bytes, and a borrowed twin.  The
 * view caches the parsed JSON body, so however many routes read $body, the
 * body is decoded and parsed at most once per message.  The knobs for every
 * point the spec leaves open live in route_options_t and are bound into the
 * compiled query (docs/routing.md says why each default is what it is).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/errors.h"

/* System properties by query name (`$contentType`...).  Each slot also answers
 * to the names listed in route_sysprop_aliases (e.g. iothub-connection-device-id). */
#define ROUTE_SYSPROP_MAP(X)                                                   \
    X(MESSAGE_ID, "messageId", "message-id")                                    \
    X(CORRELATION_ID, "correlationId", "correlation-id")                        \
    X(USER_ID, "userId", "user-id")                                             \
    X(TO, "to", "iothub-to")                                                    \
    X(EXPIRY_TIME_UTC, "expiryTimeUtc", "absolute-expiry-time")                 \
    X(ENQUEUED_TIME, "enqueuedTime", "iothub-enqueuedtime")                     \
    X(CONTENT_TYPE, "contentType", "content-type")                              \
    X(CONTENT_ENCODING, "contentEncoding", "content-encoding")                  \
    X(CONNECTION_DEVICE_ID, "connectionDeviceId", "iothub-connection-device-id") \
    X(CONNECTION_MODULE_ID, "connectionModuleId", "iothub-connection-module-id") \
    X(CONNECTION_GENERATION_ID, "connectionDeviceGenerationId",                 \
      "iothub-connection-auth-generation-id")                                   \
    X(CONNECTION_AUTH_METHOD, "connectionAuthMethod", "iothub-connection-auth-method") \
    X(MESSAGE_SOURCE, "iothub-message-source", "messageSource")                 \
    X(DT_DATASCHEMA, "dt-dataschema", "dataschema")                             \
    X(DT_SUBJECT, "dt-subject", "subject")                                      \
    X(SEQUENCE_NUMBER, "sequenceNumber", "sequence-number")                     \
    X(ACK, "ack", "iothub-ack")

typedef enum {
#define ROUTE_SYS_ENUM(id, qname, alias) ROUTE_SYS_##id,
    ROUTE_SYSPROP_MAP(ROUTE_SYS_ENUM)
#undef ROUTE_SYS_ENUM
    ROUTE_SYS_COUNT
} route_sysprop_t;

/* The slot for a query name or alias (case-insensitive, without '$'), or -1. */
int route_sysprop_lookup(const char *name, size_t len);
/* The query name of a slot ("contentType"); NULL when out of range. */
const char *route_sysprop_name(int slot);

/* Knobs for the points where the documentation and edgeHub disagree or are
 * silent.  route_options_default gives the documented defaults. */
typedef struct {
    bool dollar_app_first;          /* $name: app property before system (edgeHub) */
    bool bare_enqueued_time;        /* bare `enqueuedTime` falls back to the system property */
    bool coerce_numeric_strings;    /* '5' = 5 compares numerically */
    bool literals_case_insensitive; /* TRUE, False, NULL, UNDEFINED are literals */
    bool not_binds_tight;           /* NOT a = b means (NOT a) = b */
    bool empty_condition_true;      /* "" and "   " mean true */
    bool div_by_zero_undefined;     /* x / 0 is undefined instead of +-infinity */
    bool content_type_params;       /* "application/json; charset=utf-8" enables $body */
    bool encoding_aliases;          /* utf8, utf-16le, utf-16be, utf-32le, utf-32be, ... */
    bool utf_no_bom_big_endian;     /* UTF-16/UTF-32 without BOM read as big-endian */
    bool extended_type_functions;   /* IS_ARRAY, IS_OBJECT, IS_PRIMITIVE exist */
    bool length_utf16_units;        /* LENGTH/SUBSTRING/INDEX_OF count UTF-16 code units */
    bool body_case_insensitive;     /* $body names match case-insensitively after an exact miss */
    bool null_is_defined;           /* IS_DEFINED(null) is true */
    /* Kill-matrix mutations (ROUTE_BREAK_*), 0 = none: set only by the hub
     * from its armed break switches (sim/hub/faults.h), never from JSON. */
    unsigned breaks;
} route_options_t;

#define ROUTE_BREAK_BODY_GATING 0x01u  /* $body is read whatever the content type */
#define ROUTE_BREAK_CASE 0x02u         /* application property names compare case-sensitively */
#define ROUTE_BREAK_NOT_UNDEF 0x04u    /* NOT undefined is true */
#define ROUTE_BREAK_TWIN_REF 0x08u     /* $twin paths are never resolved */
#define ROUTE_BREAK_ABS 0x10u          /* ABS returns its argument unchanged */
#define ROUTE_BREAK_UNDEF_ROUTES 0x20u /* a condition that is undefined routes like true */
#define ROUTE_BREAK_IS_ARRAY 0x80u     /* IS_ARRAY is false for arrays too */
#define ROUTE_BREAK_WHOLE_INDEX 0x100u /* `$body[0]` indexes the whole body */
#define ROUTE_BREAK_PERIOD_NAMES 0x200u /* `$body.a.b` also finds a member named "a.b" */

void route_options_default(route_options_t *o);
/* Apply the keys present in obj (a JSON object of booleans, keys as the field
 * names above in camelCase, e.g. "dollarAppFirst"); unknown keys and
 * non-booleans are HS_EPARSE with a message in err. */
hs_err_t route_options_from_json(route_options_t *o, const json_t *obj, char *err, size_t cap);
/* From a whole hub config: its "routeQuery" object (bareDollarName
 * "systemFirst"|"appFirst", typeFunctions, as docs/hub-config.md defines
 * them), then its "routing.options" object (the full knob set above). */
hs_err_t route_options_from_hub_json(route_options_t *o, const json_t *hub, char *err, size_t cap);

/* One application property.  value NULL means a property present with a null
 * value (edgeHub allows it; the JSON message form writes null). */
typedef struct {
    const char *name;
    const char *value;
} route_prop_t;

/* The per-message view.  Everything is borrowed from the caller for the
 * duration of the evaluations; route_message_init before the first use and
 * route_message_reset after the last (it frees the parsed-body cache). */
typedef struct {
    const char *sys[ROUTE_SYS_COUNT]; /* NUL-terminated values, NULL: absent */
    const route_prop_t *app;
    size_t napp;
    const void *body;
    size_t body_len;
    const json_t *twin; /* the twin document ({"tags":..,"properties":..}) or NULL */
    /* private: the lazily parsed body */
    int body_state; /* 0 not tried, 1 parsed, 2 not queryable */
    json_t *body_json;
    uint32_t body_parses; /* how many times the body was parsed (0 or 1): for tests */
} route_message_t;

void route_message_init(route_message_t *m);
void route_message_reset(route_message_t *m);
/* The parsed body (borrowed from m) or NULL when the body is not queryable:
 * wrong content type or encoding, undecodable, or not JSON. */
const json_t *route_message_body(route_message_t *m, const route_options_t *o);

/* Decode body bytes in the named encoding (UTF-8/16/32 and, with
 * encoding_aliases, their spellings) into UTF-8; *out is malloc'd. */
hs_err_t route_decode_text(const void *bytes, size_t len, const char *encoding,
                           const route_options_t *o, char **out, size_t *out_len);

typedef enum { ROUTE_FALSE = 0, ROUTE_TRUE = 1, ROUTE_UNDEFINED = 2 } route_tri_t;

typedef struct {
    int line;   /* 1-based */
    int column; /* 1-based, in characters (code points) */
    char message[160];
} route_syntax_error_t;

typedef struct route_query route_query_t;

/* Compile text with options o (NULL: defaults).  A syntax error, an unknown
 * function or a wrong argument count is HS_EPARSE with err filled. */
hs_err_t route_query_compile(const char *text, const route_options_t *o, route_query_t **out,
                             route_syntax_error_t *err);
void route_query_free(route_query_t *q);
/* ROUTE_TRUE only when the whole condition is Boolean true; a result that is
 * not a Boolean (undefined, null, number...) is ROUTE_UNDEFINED and counts
 * as an evaluation error (route_query_eval_errors). */
route_tri_t route_query_eval(route_query_t *q, route_message_t *m);
uint64_t route_query_eval_errors(const route_query_t *q);
/* Whether the condition reads $twin / $body at all: a caller can skip
 * building the twin document (or the body) for queries that never look. */
bool route_query_reads_twin(const route_query_t *q);
bool route_query_reads_body(const route_query_t *q);
/* Evaluate and print the evaluation tree, each node with its value. */
route_tri_t route_query_explain(route_query_t *q, route_message_t *m, FILE *f);
const char *route_tri_name(route_tri_t t);

#endif
