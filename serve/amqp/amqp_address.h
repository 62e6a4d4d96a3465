/* AMQP link addresses of an IoT hub: parse a source/target address into what it names (device links, service links, CBS). */
#ifndef SERVE_AMQP_ADDRESS_H
#define SERVE_AMQP_ADDRESS_H

#include <stdbool.h>
#include "sim/hub/hub_config.h"

typedef enum {
    AMQP_ADDR_UNKNOWN = 0,
    AMQP_ADDR_CBS,          /* $cbs */
    AMQP_ADDR_D2C,          /* /devices/{id}[/modules/{mid}]/messages/events */
    AMQP_ADDR_C2D,          /* /devices/{id}[/modules/{mid}]/messages/devicebound */
    AMQP_ADDR_METHODS,      /* /devices/{id}[/modules/{mid}]/methods/devicebound */
    AMQP_ADDR_TWIN,         /* /devices/{id}[/modules/{mid}]/twin */
    AMQP_ADDR_SVC_C2D,      /* /messages/devicebound */
    AMQP_ADDR_SVC_FEEDBACK, /* /messages/servicebound/feedback */
    AMQP_ADDR_SVC_EVENTS,   /* /messages/events[/ConsumerGroups/{cg}/Partitions/{n}],
                               {hubname}/ConsumerGroups/{cg}/Partitions/{n} */
    AMQP_ADDR_EH_MGMT,      /* {hubname}/$management, $management: Event Hubs READ requests */
    AMQP_ADDR_SVC_FILE_NOTIFICATIONS /* /messages/servicebound/filenotifications */
} amqp_addr_kind_t;

#define AMQP_ADDR_CG_MAX 64

typedef struct {
    amqp_addr_kind_t kind;
    char device_id[HUB_CONFIG_ID_MAX + 1]; /* percent-decoded; device links only */
    char module_id[HUB_CONFIG_ID_MAX + 1]; /* "" for the device itself */
    char consumer_group[AMQP_ADDR_CG_MAX + 1]; /* events: "" when not named */
    int partition;                         /* events: -1 = every partition */
} amqp_addr_t;

/* Parse an address.  A leading "amqps://host" (or "amqp://host") and a
 * leading '/' are optional; the fixed words compare case-insensitively
 * unless case_sensitive (a break switch), ids exactly.  hub_name is the
 * hub's short name for the Event Hubs form.  Returns the kind (also in
 * out->kind); AMQP_ADDR_UNKNOWN for NULL, malformed or unknown addresses. */
amqp_addr_kind_t amqp_addr_parse(const char *address, const char *hub_name, bool case_sensitive,
                                 amqp_addr_t *out);

/* "cbs", "d2c", ... for logs and violations. */
const char *amqp_addr_kind_name(amqp_addr_kind_t kind);

#endif
