/* Connection strings of a hub: HostName, SharedAccessKeyName, SharedAccessKey, and hubsim's optional port, CA and admin keys. */
#ifndef TRANSPORTS_TR_CONNSTR_H
#define TRANSPORTS_TR_CONNSTR_H

#include <stdbool.h>
#include <stddef.h>
#include "sim/errors.h"

/*
 * "HostName=h;SharedAccessKeyName=p;SharedAccessKey=k" as the SDKs read it
 * (split on ';', each element at its first '=', empty names or values
 * dropped: docs/sdk-wire.md §1), plus keys only hubsim reads, for a served
 * hub on non-standard loopback ports:
 *   MqttPort=  (default 8883)   HttpsPort= (443)   AmqpPort= (5671)
 *   AdminPort= (none: the hub has no reachable admin API)
 *   CaFile=    a PEM file of trusted CAs (default: the system store)
 *   ConnectHost= the address to dial when it differs from HostName
 * Unknown keys are ignored (a cloud connection string may carry more).
 */

#define TR_CS_FIELD 512

typedef struct {
    char host[256];
    char key_name[128];
    char key[128]; /* base64 */
    char ca_file[TR_CS_FIELD];
    char connect_host[256]; /* host when not given */
    int mqtt_port, https_port, amqp_port;
    int admin_port; /* 0 = none */
} tr_connstr_t;

/* HS_EPARSE with the reason in why: a missing HostName, SharedAccessKeyName
 * or SharedAccessKey, a port that is not 1..65535, an over-long field. */
hs_err_t tr_connstr_parse(const char *text, tr_connstr_t *out, char *why, size_t cap);

#endif
