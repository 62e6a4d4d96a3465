/* A proton client connection wired in memory to one sans-IO AMQP server session: the pump, link helpers and received-message log the AMQP tests share. */
#ifndef TESTS_SUPPORT_AMQP_PIPE_H
#define TESTS_SUPPORT_AMQP_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <proton/connection_driver.h>
#include <proton/delivery.h>
#include <proton/link.h>
#include <proton/message.h>

#include "serve/amqp/amqp_session.h"
#include "serve/amqp/feeds.h"
#include "sim/hub/hub.h"

/*
 * The server side is the real amqp_session (bytes in, hub calls, bytes out);
 * the client side is qpid-proton's connection driver.  ap_pump moves bytes
 * both ways until neither side has anything left (bounded: a pump that does
 * not settle in 1000 rounds fails the test).  Every whole delivery the
 * client receives is decoded into `rx` in arrival order.
 */

typedef struct {
    pn_link_t *link;
    pn_delivery_t *d;
    pn_message_t *m;
} ap_rx_t;

typedef struct {
    char rule[64];
    char identity[160];
    char detail[512];
} ap_viol_t;

#define AP_RX_MAX 128
#define AP_VIOL_MAX 32

typedef struct {
    amqp_session_t *s;
    /* server -> client bytes not yet read by the client */
    char *out;
    size_t out_len, out_cap;
    int closes;             /* times the session asked the carrier to close */
    char close_reason[300];
    pn_connection_driver_t c;
    pn_session_t *ssn;
    ap_rx_t rx[AP_RX_MAX];
    int n_rx;
    ap_viol_t viol[AP_VIOL_MAX]; /* CLIENT- rule violations the session reported */
    int n_viol;
    uint64_t tag;
    int msgid;              /* put-token message ids */
    bool accept_received;   /* settle every received delivery as accepted */
    bool has_client;        /* ap_open (true) or ap_open_server (false) */
} amqp_pipe_t;

typedef struct {
    const char *container; /* client container id; NULL = "test-client" */
    const char *host;      /* the connection's hostname */
    const char *sasl_mechs; /* NULL = no SASL layer; "ANONYMOUS" or "PLAIN" */
    const char *user, *password; /* PLAIN */
    const amqp_session_opts_t *opts; /* NULL = defaults */
} ap_open_t;

/* A new server session and client connection with one session, opened and pumped. */
void ap_open(amqp_pipe_t *p, hub_t *hub, amqp_feeds_t *feeds, const ap_open_t *o);
/* Only the server session, writing into the pipe (no client): for raw-byte
 * tests that feed amqp_session_input themselves.  ap_close frees it. */
void ap_open_server(amqp_pipe_t *p, hub_t *hub, amqp_feeds_t *feeds, const amqp_session_opts_t *opts);
/* Frees both sides and the received messages; the pipe can be opened again. */
void ap_close(amqp_pipe_t *p);
void ap_pump(amqp_pipe_t *p);

pn_link_t *ap_sender(amqp_pipe_t *p, const char *name, const char *address);
pn_link_t *ap_receiver(amqp_pipe_t *p, const char *name, const char *address, int credit);
/* Sends m as one delivery (tag t1, t2, ...) and pumps. */
pn_delivery_t *ap_send(amqp_pipe_t *p, pn_link_t *l, pn_message_t *m);
/* The remote closed l with this condition name. */
bool ap_refused(pn_link_t *l, const char *condition);
/* Application properties from a NULL-terminated key, value, ... list. */
void ap_put_app(pn_message_t *m, const char *const *kv);

ap_rx_t *ap_last_on(amqp_pipe_t *p, pn_link_t *l);
/* The k-th (0-based) message received on l, NULL when fewer arrived. */
ap_rx_t *ap_nth_on(amqp_pipe_t *p, pn_link_t *l, int k);
int ap_count_on(const amqp_pipe_t *p, pn_link_t *l);
bool ap_saw(const amqp_pipe_t *p, const char *rule);

/* Closes the pipe, then checks the hub's books (hub_check: its result, why
 * filled when they do not balance) and frees the feeds, the hub and its
 * kernel. */
hs_err_t ap_teardown(amqp_pipe_t *p, sim_kernel_t *k, hub_t *hub, amqp_feeds_t *feeds, char *why, size_t cap);

/* A device SAS token for host/devices/{dev} signed with key, expiring at `expiry` (Unix s). */
void ap_device_token(const char *host, const char *dev, const char *key, int64_t expiry, char *out,
                     size_t cap);

/* A reply's "status-code" application property, -1 when absent. */
int ap_status_of(pn_message_t *m);

/* The client's CBS pair ($cbs sender and receiver with 10 credits). */
typedef struct {
    pn_link_t *tx, *rx;
} ap_cbs_t;
ap_cbs_t ap_cbs_open(amqp_pipe_t *p);
/* put-token (message id put-N); the reply's status-code, -1 without a
 * matching reply.  The put-token delivery itself must be accepted. */
int ap_put_token(amqp_pipe_t *p, ap_cbs_t *c, const char *name, const char *token);

/* A device D2C message as the SDKs send it: message id `id`, correlation id
 * "corr", JSON content type, UTF-8 encoding, app property temp=21, binary body. */
pn_message_t *ap_d2c_msg(const char *id, const char *body);
/* Sends ap_d2c_msg on l and returns the remote disposition (settled). */
uint64_t ap_send_d2c(amqp_pipe_t *p, pn_link_t *l, const char *id, const char *body);

/* What the last routed message looked like (amqp_feeds_peek callback). */
typedef struct {
    int n;
    char app_temp[32];
    char msg_id[64];
    char dev[64];
} ap_peek_t;
bool ap_peek_cb(void *ctx, const amqp_feed_entry_t *e);

#endif
