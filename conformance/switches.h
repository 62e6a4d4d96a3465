/* Every break switch the conformance suite can arm: the hub model's (faults.h), the MQTT, HTTPS and AMQP sessions' wire breaks, and knob flips, each with the rule that must kill it. */
#ifndef CONFORMANCE_SWITCHES_H
#define CONFORMANCE_SWITCHES_H

/*
 * `--break NAME` and the kill matrix take any name of this table.  Hub
 * switches are armed in the hub model; MQTT, HTTPS and AMQP switches are
 * option bits of the wire sessions the in-process target creates for
 * TARGET_CAP_WIRE (serve/mqtt/mqtt_session.h MQTT_BREAK_MAP,
 * serve/http/http_api.h HTTP_BREAK_MAP, serve/amqp/amqp_breaks.h
 * AMQP_BREAK_MAP); a knob switch sets an unconfirmed-fact knob away from the
 * catalogue default, which the knob's rule must notice.  The HTTPS map has
 * no rule column, so the rule of each http-* switch is named here.
 */

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CONFORM_SWITCH_HUB = 0, /* sim/hub/faults.h */
    CONFORM_SWITCH_MQTT,    /* an MQTT_BREAK_* bit of the MQTT sessions */
    CONFORM_SWITCH_HTTP,    /* an HTTP_BREAK_* bit of the REST API */
    CONFORM_SWITCH_AMQP,    /* an AMQP_BREAK_* bit of the AMQP sessions */
    CONFORM_SWITCH_KNOB,    /* a knob off its default (bit: CONFORM_KNOB_*) */
} conform_switch_kind_t;

/* Knob switches: the in-process target builds the hub (and its AMQP feeds)
 * with that setting away from the catalogue default. */
enum {
    CONFORM_KNOB_MQTT_UNKNOWN_TOPIC_IGNORE = 1u,
    CONFORM_KNOB_UPLOAD_MAX_CONCURRENT_11 = 1u << 1, /* fileUpload.maxConcurrentPerDevice 11 */
    CONFORM_KNOB_UPLOAD_SAS_TTL_2H = 1u << 2,        /* fileUpload.sasTtl 2 h */
    CONFORM_KNOB_UPLOAD_NOTIFY_ON = 1u << 3,         /* fileUpload.notifications forced on */
    CONFORM_KNOB_UPLOAD_NOTIFY_OFF = 1u << 4,        /* fileUpload.notifications forced off */
    CONFORM_KNOB_EH_PARTITIONS_5 = 1u << 5,          /* 5 partitions on the events endpoint */
};


typedef struct {
    const char *name;        /* what --break takes */
    const char *rule_id;     /* the rule whose cases must kill it */
    const char *description; /* what the broken hub does */
    conform_switch_kind_t kind;
    unsigned bit;            /* MQTT / HTTP / AMQP / KNOB: the option bit; HUB: the hub_fault_t */
} conform_switch_t;

/* Hub switches first (faults.h order), then MQTT, HTTPS, AMQP, knobs,
 * and last the hub's staged switches (gateways, import/export, jobs, uploads, twin
 * queries, Event Hubs; faults.h HUB_FAULT_STAGED_MAP). */
size_t conform_switch_count(void);
/* false past the end. */
bool conform_switch_at(size_t i, conform_switch_t *out);
/* Exact (case-sensitive) name; false when unknown. */
bool conform_switch_find(const char *name, conform_switch_t *out);

#endif
