/* AMQP wire break switches: named mutations of the AMQP front-end, each making it violate exactly one wire rule (conformance kill matrix). */
#ifndef SERVE_AMQP_BREAKS_H
#define SERVE_AMQP_BREAKS_H

#include <stddef.h>

/* X(ENUM, "switch-name", "RULE-ID", "what the broken front-end does").
 * A session consults a switch in the code path that implements its rule;
 * switches are bits of amqp_session_opts_t.breaks. */
#define AMQP_BREAK_MAP(X)                                                                        \
    X(CBS_ALWAYS_200, "AMQP-CBS-ALWAYS-200", "AMQP-CBS-PUT-TOKEN",                                \
      "a put-token with a bad or expired token is answered status-code 200 (nothing authorized)") \
    X(CBS_NO_CORRELATION, "AMQP-CBS-NO-CORRELATION", "AMQP-CBS-PUT-TOKEN",                        \
      "the put-token reply carries no correlation-id")                                            \
    X(LINK_BEFORE_AUTH, "AMQP-LINK-BEFORE-AUTH", "AMQP-LINK-AUTH",                                \
      "a device link attached before any put-token is accepted (its messages are then refused)")  \
    X(ADDRESS_CASE, "AMQP-ADDRESS-CASE", "AMQP-ADDRESS-CASE",                                     \
      "link addresses are matched case-sensitively against lower-case words")                  \
    X(D2C_ACCEPT_ALL, "AMQP-D2C-ACCEPT-ALL", "AMQP-D2C-DISPOSITION",                              \
      "every D2C transfer is settled accepted, even when the hub refused the message")            \
    X(REJECT_NO_CONDITION, "AMQP-REJECT-NO-CONDITION", "AMQP-ERROR-CONDITION",                    \
      "rejected dispositions carry no error condition")                                           \
    X(D2C_DROP_APP_PROPS, "AMQP-D2C-DROP-APP-PROPS", "AMQP-D2C-PROPERTIES",                       \
      "D2C application properties are not passed to the hub")                                     \
    X(C2D_RELEASE_COMPLETES, "AMQP-C2D-RELEASE-COMPLETES", "AMQP-C2D-SETTLE",                     \
      "a released or modified C2D delivery completes the message instead of abandoning it")     \
    X(METHOD_STATUS_IGNORED, "AMQP-METHOD-STATUS-IGNORED", "AMQP-METHOD-RESPONSE",                \
      "the IoThub-status of a method response is ignored: the hub always hears 200")              \
    X(FEEDBACK_CONTENT_TYPE, "AMQP-FEEDBACK-CONTENT-TYPE", "AMQP-FEEDBACK",                       \
      "feedback messages carry no content-type")                                                  \
    X(EVENTS_NO_ANNOTATIONS, "AMQP-EVENTS-NO-ANNOTATIONS", "AMQP-EVENTS-ANNOTATIONS",             \
      "messages on the events endpoint carry no system annotations")

typedef enum {
#define AMQP_BREAK_ENUM(e, name, rule, what) AMQP_BREAK_BIT_##e,
    AMQP_BREAK_MAP(AMQP_BREAK_ENUM)
#undef AMQP_BREAK_ENUM
    AMQP_BREAK__COUNT
} amqp_break_bit_t;

/* The bit masks: AMQP_BREAK_CBS_ALWAYS_200 etc. */
enum {
#define AMQP_BREAK_MASK(e, name, rule, what) AMQP_BREAK_##e = 1u << AMQP_BREAK_BIT_##e,
    AMQP_BREAK_MAP(AMQP_BREAK_MASK)
#undef AMQP_BREAK_MASK
    AMQP_BREAK__ALL = (1u << AMQP_BREAK__COUNT) - 1u
};

typedef struct {
    unsigned mask;
    const char *name;
    const char *rule_id;
    const char *what;
} amqp_break_info_t;

/* The mask of a switch by name (case-insensitive); 0 when unknown. */
unsigned amqp_break_lookup(const char *name);
/* Table access by index: NULL past the end. */
const amqp_break_info_t *amqp_break_at(size_t i);

#endif
