/* A client that speaks raw AMQP 1.0 through the transport seam's wire ops: a proton connection driver in client mode, no sockets. */
#ifndef CONFORMANCE_WIRE_AMQP_CLIENT_H
#define CONFORMANCE_WIRE_AMQP_CLIENT_H

/*
 * The AMQP wire cases' client: what a device or service SDK does on the
 * connection, no more.  A proton pn_connection_driver_t in client mode
 * writes into wire_send and reads what wire_take returns, so the same case
 * runs over the in-process pipe and a live TLS socket.  Everything happens
 * inside the calls below: each one pumps bytes both ways until neither side
 * has anything left to say (the in-process hub answers synchronously; a
 * live target would need advance() between pumps).
 *
 * Messages the client's receivers get are decoded and queued in arrival
 * order; wa_next() pops the oldest one of a link.  The client never reads
 * a hub header: it sees links, deliveries, dispositions and messages.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <proton/connection_driver.h>
#include <proton/delivery.h>
#include <proton/link.h>
#include <proton/message.h>
#include <proton/session.h>

#include "conformance/case.h"

#define WA_MAX_RX 32

typedef enum {
    WA_AUTH_NONE = 0,  /* AMQP straight after TLS (the Node SDKs), then CBS */
    WA_AUTH_ANONYMOUS, /* SASL ANONYMOUS, then CBS */
    WA_AUTH_PLAIN,     /* SASL PLAIN: user name and the SAS token as password */
} wa_auth_t;

/* A message one of our receivers got (unsettled until wa_settle). */
typedef struct {
    pn_link_t *link;
    pn_delivery_t *d;
    pn_message_t *m;
    bool popped;
} wa_rx_t;

typedef struct {
    conf_ctx_t *c;
    target_wire_t w;
    pn_connection_driver_t drv;
    bool drv_ok;
    pn_session_t *ssn;
    pn_link_t *cbs_tx, *cbs_rx; /* opened with the first put-token */
    wa_rx_t rx[WA_MAX_RX];
    size_t nrx;
    uint64_t tag;
    unsigned msgid;
    char bad[200]; /* the first problem with the hub's bytes, "" when none */
} wa_t;

/* The answer to a put-token. */
typedef struct {
    bool answered;        /* a reply came on the $cbs receiver */
    int status;           /* its status-code application property, -1 when absent */
    bool correlated;      /* its correlation-id equals the request's message-id */
    char correlation[160];/* the reply's correlation-id as text ("" when none) */
    char description[256];/* status-description */
} wa_cbs_reply_t;

/* How the hub settled one of our transfers. */
typedef struct {
    uint64_t state;       /* PN_ACCEPTED, PN_REJECTED, ... 0 when not settled yet */
    char condition[128];  /* the rejection's error condition name, "" when none */
    char description[256];
} wa_outcome_t;

/* Open a transport and an AMQP connection with one session.  user and
 * password only with WA_AUTH_PLAIN.  false (ERROR decided) when the target
 * cannot carry AMQP. */
bool wa_open(conf_ctx_t *c, wa_t *a, wa_auth_t auth, const char *user, const char *password);
void wa_free(wa_t *a);
/* Move bytes both ways until both sides are quiet. */
void wa_pump(wa_t *a);
/* The hub closed the transport (after pumping). */
bool wa_closed(wa_t *a);
/* The first thing that was wrong with the hub's bytes, or NULL. */
const char *wa_bad(wa_t *a);

/* ---- CBS ------------------------------------------------------------------- */

/* put-token on $cbs (links opened on first use): message-id "put-N",
 * application properties operation, type servicebus.windows.net:sastoken,
 * name = audience; body = the token.  The reply is the newest message on
 * the $cbs receiver, whatever its correlation-id (out says whether it
 * matched). */
void wa_put_token(wa_t *a, const char *audience, const char *token, wa_cbs_reply_t *out);
/* A CONF_KEY_A device token valid for a day, audience {host}/devices/{id}:
 * true when the hub answered 200 (otherwise ERROR is decided). */
bool wa_auth_device(wa_t *a, const char *device_id);
/* A policy token (audience {host}) signed with key; true on 200 (else ERROR). */
bool wa_auth_service(wa_t *a, const char *policy, const char *key);

/* ---- links ------------------------------------------------------------------- */

pn_link_t *wa_sender(wa_t *a, const char *name, const char *address);
/* credit 0: none granted yet (wa_flow). */
pn_link_t *wa_receiver(wa_t *a, const char *name, const char *address, int credit);
void wa_flow(wa_t *a, pn_link_t *l, int credit);
/* The hub detached (closed) the link. */
bool wa_link_closed(pn_link_t *l);
/* The condition of the hub's detach, "" when none or still attached. */
const char *wa_link_condition(pn_link_t *l);

/* ---- messages ---------------------------------------------------------------- */

/* A message with a string message-id (NULL: none) and body as one data
 * section.  The caller frees it (pn_message_free). */
pn_message_t *wa_message(const char *message_id, const void *body, size_t len);
/* Application properties "k", "v", ... NULL-terminated (string values);
 * replaces the message's application properties. */
void wa_message_app(pn_message_t *m, const char *const *kv);
/* Send m as one unsettled transfer and report the hub's disposition. */
void wa_send(wa_t *a, pn_link_t *l, pn_message_t *m, wa_outcome_t *out);

/* The oldest message of link l not popped yet (after pumping); NULL when none. */
wa_rx_t *wa_next(wa_t *a, pn_link_t *l);
/* Settle a received delivery with PN_ACCEPTED, PN_REJECTED or PN_RELEASED. */
void wa_settle(wa_t *a, wa_rx_t *r, uint64_t outcome);

/* Text of an application property / message annotation (keys compared
 * exactly) into buf; false when absent or not a scalar. */
bool wa_app_text(pn_message_t *m, const char *key, char *buf, size_t cap);
bool wa_annotation_text(pn_message_t *m, const char *key, char *buf, size_t cap);
/* The correlation-id as text ("" when none). */
void wa_correlation_text(pn_message_t *m, char *buf, size_t cap);
/* The body (data section or string/binary value) as text. */
void wa_body_text(pn_message_t *m, char *buf, size_t cap);

#endif
