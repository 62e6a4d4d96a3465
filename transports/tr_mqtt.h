/* A device-side MQTT 3.1.1 client on hubsim's own codec over tr_stream: CONNECT, SUBSCRIBE, PUBLISH with acks, received messages queued for polling. */
#ifndef TRANSPORTS_TR_MQTT_H
#define TRANSPORTS_TR_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "transports/tr_loop.h"
#include "transports/tr_tls.h"

/*
 * One operation waits at a time (the caller is synchronous), each with its
 * own deadline.  Every PUBLISH the hub sends is queued; QoS 1 ones are
 * acknowledged only when the caller says so (tr_mqtt_puback), because a
 * C2D acknowledgement completes the message at the hub.  Keep-alive:
 * PINGREQ every keep_alive/2 while the loop is pumped.
 */

typedef struct tr_mqtt tr_mqtt_t;

typedef struct {
    const char *client_id;
    const char *username;
    const char *password; /* NULL: none */
    uint16_t keep_alive;  /* seconds; 0 = off */
    bool clean_session;
} tr_mqtt_connect_t;

typedef struct {
    const char *topic;        /* NUL-terminated, owned until the next tr_mqtt_next */
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    uint16_t packet_id;       /* qos 1 */
} tr_mqtt_msg_t;

/* HS_EOK: accepted (CONNACK 0).  HS_EINVAL: refused, *connack holds the
 * code and why says it.  HS_EIO: transport failure, a close without
 * CONNACK, or no CONNACK within timeout_ms (why says which). */
hs_err_t tr_mqtt_connect(tr_loop_t *l, tr_tls_t *tls, const char *host, int port, const char *tls_name,
                         const tr_mqtt_connect_t *c, int64_t timeout_ms, tr_mqtt_t **out, int *connack,
                         char *why, size_t cap);
/* SUBSCRIBE and wait for SUBACK; codes_out[i] per filter (0x80 = refused). */
hs_err_t tr_mqtt_subscribe(tr_mqtt_t *m, const char *const *filters, const uint8_t *qos, size_t n,
                           int64_t timeout_ms, uint8_t *codes_out, char *why, size_t cap);
/* PUBLISH; QoS 1 waits for PUBACK: HS_EIO when the connection closed
 * first or the deadline passed (why says which). */
hs_err_t tr_mqtt_publish(tr_mqtt_t *m, const char *topic, const void *payload, size_t len, uint8_t qos,
                         int64_t timeout_ms, char *why, size_t cap);
/* Pops the oldest received PUBLISH; false when none. */
bool tr_mqtt_next(tr_mqtt_t *m, tr_mqtt_msg_t *out);
/* Messages queued, not yet popped. */
size_t tr_mqtt_queued(const tr_mqtt_t *m);
hs_err_t tr_mqtt_puback(tr_mqtt_t *m, uint16_t packet_id);
bool tr_mqtt_is_open(const tr_mqtt_t *m);
/* Why the connection ended ("" while open or after a clean close). */
const char *tr_mqtt_why(const tr_mqtt_t *m);
/* DISCONNECT, flush (bounded) and close; the handle stays valid until free. */
void tr_mqtt_disconnect(tr_mqtt_t *m);
void tr_mqtt_free(tr_mqtt_t *m);
/* "accepted", "unacceptable protocol version", ..., "not authorized". */
const char *tr_mqtt_connack_text(int code);

#endif
