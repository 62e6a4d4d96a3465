/* The hub's MQTT topic space: classify device topics and subscription filters, parse and format URL-encoded property bags. */
#ifndef SERVE_MQTT_TOPIC_H
#define SERVE_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include "sim/hub/message.h"

/* NOTES.md "MQTT 3.1.1 device side" (topics [doc/sdk]). */
typedef enum {
    MQTT_TOPIC_UNKNOWN = 0,       /* not a topic the hub knows */
    MQTT_TOPIC_FOREIGN,           /* a devices/{other}/... topic: another identity's */
    MQTT_TOPIC_TELEMETRY,         /* devices/{id}[/modules/{mid}]/messages/events/{bag} */
    MQTT_TOPIC_METHOD_RESPONSE,   /* $iothub/methods/res/{status}/?$rid={rid} */
    MQTT_TOPIC_TWIN_GET,          /* $iothub/twin/GET/?$rid={rid} */
    MQTT_TOPIC_TWIN_PATCH,        /* $iothub/twin/PATCH/properties/reported/?$rid={rid} */
    MQTT_TOPIC_BAD_RID            /* a $iothub topic above without a usable $rid / status */
} mqtt_topic_kind_t;

#define MQTT_RID_MAX 128

typedef struct {
    mqtt_topic_kind_t kind;
    const char *bag;          /* TELEMETRY: the property bag (borrowed, bag_len bytes, may be 0) */
    size_t bag_len;
    int status;               /* METHOD_RESPONSE */
    char rid[MQTT_RID_MAX + 1]; /* METHOD_RESPONSE, TWIN_GET, TWIN_PATCH (percent-decoded) */
} mqtt_topic_t;

/* Classify a PUBLISH topic for the identity (module_id NULL or "" = device). */
mqtt_topic_kind_t mqtt_topic_classify(const char *topic, size_t len, const char *device_id,
                                      const char *module_id, mqtt_topic_t *out);

typedef enum {
    MQTT_FILTER_UNKNOWN = 0,
    MQTT_FILTER_FOREIGN,          /* devices/{other}/... */
    MQTT_FILTER_C2D,              /* devices/{id}/messages/devicebound/# (devices only) */
    MQTT_FILTER_METHODS,          /* $iothub/methods/POST/# */
    MQTT_FILTER_TWIN_RES,         /* $iothub/twin/res/# */
    MQTT_FILTER_DESIRED           /* $iothub/twin/PATCH/properties/desired/# */
} mqtt_filter_kind_t;

mqtt_filter_kind_t mqtt_filter_classify(const char *filter, size_t len, const char *device_id,
                                        const char *module_id);

/* Parse a URL-encoded property bag "k=v&k2=v2" into m: the `$.` names of
 * the system-property table become system properties, everything else an
 * application property (a key without '=' has the value "").  -1 with the
 * reason in why for a malformed bag (bad %-escape, %00, empty key, a raw
 * character that must be percent-encoded, ill-formed UTF-8); m may then
 * hold the properties before the bad one. */
int mqtt_bag_parse(const char *bag, size_t len, hub_msg_t *m, char *why, size_t cap);

/* Format m's system properties (table names) then application properties
 * as a URL-encoded bag.  malloc'd, "" when there are none; NULL on
 * allocation failure. */
char *mqtt_bag_format(const hub_msg_t *m);

/* The system-property names of a bag ("$.mid" -> HUB_SYS_MESSAGE_ID).
 * HS_ENOTFOUND for other names. */
hs_err_t mqtt_bag_sys_lookup(const char *name, hub_msg_sys_t *id_out);
/* "$.mid", ...; NULL for a property the bag does not carry. */
const char *mqtt_bag_sys_name(hub_msg_sys_t id);

#endif
