/* A device that speaks raw MQTT through the transport seam's wire ops: encodes packets with the serve codec, decodes what the hub wrote. */
#ifndef CONFORMANCE_WIRE_CLIENT_H
#define CONFORMANCE_WIRE_CLIENT_H

/*
 * The wire cases' client: what a device SDK does on the socket, no more.
 * It only uses target.h's wire ops (never a hub header), so the same case
 * runs over the in-process pipe and, later, a live TLS socket.  Packets the
 * hub wrote are decoded as they are taken and queued; wc_next() pops them in
 * order.  Bytes the codec cannot decode are a hub fault: wc_bad() says so.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conformance/case.h"
#include "serve/mqtt/mqtt_packet.h"

#define WC_MAX_RX 32

typedef struct {
    int type;          /* mqtt_type_t */
    uint8_t code;      /* CONNACK return code */
    uint8_t qos;       /* PUBLISH */
    uint16_t pid;      /* PUBLISH (qos > 0), PUBACK, SUBACK, UNSUBACK */
    char topic[512];   /* PUBLISH */
    char payload[2048];/* PUBLISH, NUL-terminated (truncated beyond) */
    size_t payload_len;
    uint8_t codes[MQTT_MAX_TOPICS]; /* SUBACK */
    size_t ncodes;
} wc_rx_t;

typedef struct {
    conf_ctx_t *c;
    target_wire_t w;
    mqtt_decoder_t *dec;
    wc_rx_t rx[WC_MAX_RX];
    size_t nrx, next;
    char bad[200]; /* the first undecodable input, "" when none */
} wc_t;

/* Open a raw MQTT transport; false (ERROR decided) when the target cannot. */
bool wc_open(conf_ctx_t *c, wc_t *m);
/* The same with a client certificate (uppercase hex SHA-1 thumbprint). */
bool wc_open_x509(conf_ctx_t *c, wc_t *m, const char *thumbprint);
void wc_free(wc_t *m);
/* Encode and send one packet (an unencodable packet is ERROR). */
void wc_send(wc_t *m, const mqtt_packet_t *p);
void wc_send_raw(wc_t *m, const void *bytes, size_t len);
/* The next packet the hub sent (taking new bytes first); NULL when none. */
const wc_rx_t *wc_next(wc_t *m);
/* Packets not popped yet (taking new bytes first). */
size_t wc_pending(wc_t *m);
bool wc_closed(wc_t *m);
/* The reason the hub's bytes did not decode, or NULL. */
const char *wc_bad(wc_t *m);

/* CONNECT as device_id (client id = id, username {host}/{id}/?api-version=2021-04-12,
 * password = a CONF_KEY_A token valid for a day) with this keep-alive;
 * the CONNACK code, -1 when none came. */
int wc_connect(wc_t *m, const char *device_id, uint16_t keep_alive);
/* CONNECT with explicit fields (password NULL = none). */
int wc_connect_raw(wc_t *m, const char *client_id, const char *username, const char *password,
                   uint16_t keep_alive);
/* SUBSCRIBE one filter (packet id 11): the SUBACK code, -1 when no SUBACK came. */
int wc_subscribe(wc_t *m, const char *filter, uint8_t qos);
void wc_publish(wc_t *m, const char *topic, uint8_t qos, uint16_t pid, const void *payload, size_t len);
/* PUBACK, PINGREQ, DISCONNECT... (packet id when the kind has one). */
void wc_simple(wc_t *m, mqtt_type_t type, uint16_t pid);

#endif
