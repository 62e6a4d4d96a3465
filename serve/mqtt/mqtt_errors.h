/* MQTT codec and session errors: one X-macro table of names and messages, citing the MQTT 3.1.1 section each enforces. */
#ifndef SERVE_MQTT_ERRORS_H
#define SERVE_MQTT_ERRORS_H

/* X(NAME, "message").  Section numbers are MQTT 3.1.1 (OASIS, 2014). */
#define MQTT_ERROR_MAP(X)                                                                        \
    X(OK,               "success")                                                              \
    X(TRUNCATED,        "a field runs past the end of the packet")                              \
    X(TRAILING,         "bytes left over after the packet's last field")                        \
    X(REMAINING_LENGTH, "remaining length longer than 4 bytes (2.2.3)")                         \
    X(TOO_LARGE,        "packet larger than the maximum packet size")                           \
    X(PACKET_TYPE,      "reserved packet type 0 or 15 (2.2.1)")                                 \
    X(RESERVED_FLAGS,   "fixed header flags wrong for the packet type (2.2.2)")                 \
    X(BAD_LENGTH,       "remaining length wrong for a fixed-size packet")                       \
    X(BAD_UTF8,         "string is not well-formed UTF-8 or holds U+0000 (1.5.3)")              \
    X(PROTOCOL_NAME,    "protocol name is not \"MQTT\" (3.1.2.1)")                              \
    X(PROTOCOL_LEVEL,   "protocol level is not 4 (3.1.2.2)")                                    \
    X(CONNECT_RESERVED, "CONNECT flags reserved bit is set (3.1.2-3)")                          \
    X(WILL_FLAGS,       "will QoS/retain without the will flag, or will QoS 3 (3.1.2-11..15)")  \
    X(PASSWORD_NO_USER, "password flag set without the user name flag (3.1.2-22)")             \
    X(PACKET_ID_ZERO,   "packet identifier 0 (2.3.1-1)")                                        \
    X(QOS_INVALID,      "QoS 3 or reserved bits in a QoS byte (3.3.1-4, 3.8.3-4)")              \
    X(DUP_QOS0,         "DUP flag set on a QoS 0 PUBLISH (3.3.1-2)")                            \
    X(TOPIC_EMPTY,      "empty topic name or filter (4.7.3)")                                   \
    X(TOPIC_WILDCARD,   "wildcard character in a PUBLISH topic name (3.3.2-2)")                 \
    X(FILTER_INVALID,   "misplaced wildcard in a topic filter (4.7.1)")                         \
    X(NO_TOPICS,        "SUBSCRIBE or UNSUBSCRIBE without a topic filter (3.8.3-3, 3.10.3-2)")  \
    X(TOO_MANY_TOPICS,  "more topic filters in one packet than MQTT_MAX_TOPICS")                \
    X(CONNACK_FLAGS,    "CONNACK reserved flag bits set, or session present with a refusal (3.2.2)") \
    X(CONNACK_CODE,     "CONNACK return code above 5 (3.2.2.3)")                                \
    X(SUBACK_CODE,      "SUBACK return code not 0, 1, 2 or 0x80 (3.9.3)")                       \
    X(STRING_TOO_LONG,  "string longer than 65535 bytes (1.5.3)")                               \
    X(BUFFER_TOO_SMALL, "output buffer too small")                                              \
    X(ARGUMENT,         "invalid argument")                                                     \
    X(NOMEM,            "out of memory")                                                        \
    X(FAILED,           "the decoder already failed on an earlier packet")

typedef enum {
#define MQTT_ERR_ENUM(name, msg) MQTT_E_##name,
    MQTT_ERROR_MAP(MQTT_ERR_ENUM)
#undef MQTT_ERR_ENUM
    MQTT_E__COUNT
} mqtt_err_t;

/* "success", ...; never NULL. */
const char *mqtt_strerror(mqtt_err_t err);
/* "OK", "TRUNCATED", ...; never NULL. */
const char *mqtt_err_name(mqtt_err_t err);

#endif
