/* The table of every break switch the conformance suite arms: hub faults (the staged ones included), MQTT, HTTPS and AMQP wire breaks with their rules, knob flips. */
#include <string.h>

#include "conformance/switches.h"
#include "serve/amqp/amqp_breaks.h"
#include "serve/http/http_api.h"
#include "serve/mqtt/mqtt_session.h"
#include "sim/hub/faults.h"

/* The rule each HTTPS wire break violates (HTTP_BREAK_MAP order is not
 * assumed: matched by name). */
static const struct {
    const char *name;
    const char *rule_id;
} http_rules[] = {
    { "http-no-errorcode-header", "HUB-ERROR-BODY" },
    { "http-error-body-bare", "HUB-ERROR-BODY" },
    { "http-error-status-flat", "HUB-ERROR-BODY" },
    { "http-c2d-etag-unquoted", "HTTP-C2D-ETAG" },
    { "http-d2c-app-props-dropped", "HTTP-D2C-APP-PROPS" },
    { "http-d2c-sys-props-dropped", "HTTP-D2C-SYS-PROPS" },
    { "http-auth-skipped", "HTTP-SERVICE-AUTH" },
    { "http-method-body-flat", "HTTP-METHOD-BODY" },
    { "http-if-match-ignored", "HUB-IF-MATCH" },
};

static const struct {
    const char *name;
    const char *rule_id;
    const char *description;
    unsigned bit;
} knob_switches[] = {
    { "CONN-UNKNOWN-TOPIC", "CONN-UNKNOWN-TOPIC",
      "MQTT sessions run with the unknown-topic knob at 'ignore' (the default is 'close')",
      CONFORM_KNOB_MQTT_UNKNOWN_TOPIC_IGNORE },
    { "UPLOAD-CONCURRENT-LIMIT:11", "UPLOAD-CONCURRENT-LIMIT",
      "fileUpload.maxConcurrentPerDevice is 11 (the documented limit is 10)", CONFORM_KNOB_UPLOAD_MAX_CONCURRENT_11 },
    { "UPLOAD-SAS-EXPIRY:2h", "UPLOAD-SAS-EXPIRY", "fileUpload.sasTtl is 2 h (the documented default is 1 h)",
      CONFORM_KNOB_UPLOAD_SAS_TTL_2H },
    { "UPLOAD-NOTIFICATIONS-OFF:on", "UPLOAD-NOTIFICATIONS-OFF",
      "file upload notifications are on although the hub config leaves them off", CONFORM_KNOB_UPLOAD_NOTIFY_ON },
    { "UPLOAD-NOTIFICATION:off", "UPLOAD-NOTIFICATION",
      "file upload notifications stay off although the hub config turns them on", CONFORM_KNOB_UPLOAD_NOTIFY_OFF },
    { "EH-PARTITION-COUNT:5", "EH-PARTITION-COUNT",
      "the events endpoint has 5 partitions (the catalogue default is 4)", CONFORM_KNOB_EH_PARTITIONS_5 },
};

#define N_KNOBS (sizeof knob_switches / sizeof knob_switches[0])

/* The hub's staged switches (faults.h HUB_FAULT_STAGED_MAP: field gateways,
 * identity import/export, jobs, uploads, twin queries, the Event Hubs-compatible
 * endpoint): every one has catalogue entries and cases, so all join the matrix.
 * The i-th one (its enum value in *value); NULL past the end. */
static const hub_fault_info_t *staged_at(size_t i, unsigned *value)
{
    const hub_fault_info_t *fi = hub_fault_staged_info(i);
    if (fi)
        *value = (unsigned)HUB_FAULT__COUNT + (unsigned)i;
    return fi;
}

static size_t staged_count(void)
{
    return hub_fault_staged_count();
}

static const char *http_rule(const char *name)
{
    for (size_t i = 0; i < sizeof http_rules / sizeof http_rules[0]; i++)
        if (strcmp(http_rules[i].name, name) == 0)
            return http_rules[i].rule_id;
    return "HTTP-BREAK-WITHOUT-RULE"; /* a new break without a row: not a catalogue rule, so the kill matrix reports it */
}

size_t conform_switch_count(void)
{
    return (size_t)HUB_FAULT__COUNT + (size_t)MQTT_BREAK__COUNT + (size_t)HTTP_BREAK__COUNT +
           (size_t)AMQP_BREAK__COUNT + N_KNOBS + staged_count();
}

bool conform_switch_at(size_t i, conform_switch_t *out)
{
    memset(out, 0, sizeof *out);
    if (i < (size_t)HUB_FAULT__COUNT) {
        const hub_fault_info_t *fi = hub_fault_info((hub_fault_t)i);
        *out = (conform_switch_t){ fi->name, fi->rule_id, fi->description, CONFORM_SWITCH_HUB, (unsigned)i };
        return true;
    }
    i -= (size_t)HUB_FAULT__COUNT;
    if (i < (size_t)MQTT_BREAK__COUNT) {
        const mqtt_break_info_t *b = mqtt_break_at(i);
        *out = (conform_switch_t){ b->name, b->rule_id, b->text, CONFORM_SWITCH_MQTT, b->flag };
        return true;
    }
    i -= (size_t)MQTT_BREAK__COUNT;
    if (i < (size_t)HTTP_BREAK__COUNT) {
        *out = (conform_switch_t){ http_break_name(i), http_rule(http_break_name(i)),
                                   http_break_description(i), CONFORM_SWITCH_HTTP, 1u << i };
        return true;
    }
    i -= (size_t)HTTP_BREAK__COUNT;
    if (i < (size_t)AMQP_BREAK__COUNT) {
        const amqp_break_info_t *b = amqp_break_at(i);
        *out = (conform_switch_t){ b->name, b->rule_id, b->what, CONFORM_SWITCH_AMQP, b->mask };
        return true;
    }
    i -= (size_t)AMQP_BREAK__COUNT;
    if (i < N_KNOBS) {
        *out = (conform_switch_t){ knob_switches[i].name, knob_switches[i].rule_id,
                                   knob_switches[i].description, CONFORM_SWITCH_KNOB, knob_switches[i].bit };
        return true;
    }
    i -= N_KNOBS;
    unsigned value = 0;
    const hub_fault_info_t *fi = staged_at(i, &value);
    if (fi) {
        *out = (conform_switch_t){ fi->name, fi->rule_id, fi->description, CONFORM_SWITCH_HUB, value };
        return true;
    }
    return false;
}

bool conform_switch_find(const char *name, conform_switch_t *out)
{
    if (!name)
        return false;
    for (size_t i = 0; conform_switch_at(i, out); i++)
        if (strcmp(out->name, name) == 0)
            return true;
    return false;
}
