/* The live conformance target: the transport seam over real sockets (MQTT, HTTPS, hubsim's admin API) against any hub reachable by a service connection string. */
#ifndef CONFORMANCE_TARGET_LIVE_H
#define CONFORMANCE_TARGET_LIVE_H

#include "conformance/target.h"

/*
 * The address is a service connection string (transports/tr_connstr.h):
 * HostName=..;SharedAccessKeyName=..;SharedAccessKey=.. plus hubsim's
 * optional MqttPort=, HttpsPort=, AmqpPort=, AdminPort=, CaFile=,
 * ConnectHost=.  Two tables share the code: target_live (device and service
 * basics, no hub-side control) and target_live_admin (also endpoint
 * observation and the conservation check through `hubsim serve`'s admin
 * API; open() fails when that API is unreachable).  Both are named "live".
 */

/* A case registers at most this many identities (devices and modules) on
 * a live hub; a case that tries more gets status "LiveLimit" (ERROR).  The
 * bound `hubsim conform` states before provisioning on a hub that is not
 * `hubsim serve`. */
#define TARGET_LIVE_MAX_IDENTITIES_PER_CASE 10

extern const target_ops_t target_live;
extern const target_ops_t target_live_admin;

/* target_live_admin when the address has AdminPort=, else target_live. */
const target_ops_t *target_live_for_address(const char *address);

#endif
