/* A service-side AMQP 1.0 client over tr_stream (proton client driver): CBS put-token with a policy token, C2D sender with dispositions, feedback receiver. */
#ifndef TRANSPORTS_TR_AMQP_SERVICE_H
#define TRANSPORTS_TR_AMQP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "transports/tr_loop.h"
#include "transports/tr_tls.h"

/*
 * What the Node service SDK (azure-iothub) sends (docs/sdk-wire.md §3): TLS,
 * no SASL layer, Open hostname = the hub's name, then `$cbs` sender +
 * receiver and a put-token (message-id a string, reply-to "cbs",
 * application properties operation=put-token,
 * type=servicebus.windows.net:sastoken, name = the hub's host name, body =
 * the token as an amqp-value string).  C2D: sender on
 * `/messages/devicebound`, each message `to` =
 * `/devices/{percent-encoded id}/messages/devicebound`, `iothub-ack` as an
 * application property, body a data section.  Feedback: receiver on
 * `/messages/serviceBound/feedback`; each message is accepted when popped.
 *
 * Nothing runs on its own: the bytes move inside pumps of the loop (any
 * tr_loop_wait of the owner).  Every call that waits has a deadline.
 */

typedef struct tr_amqp_svc tr_amqp_svc_t;

typedef struct {
    const char *host_name;    /* the hub's name: Open hostname, token audience */
    const char *connect_host; /* the address to dial */
    int port;
    const char *key_name;     /* policy (skn) */
    const char *key;          /* base64 */
} tr_amqp_svc_opts_t;

/* Connect, authenticate through CBS and attach the C2D sender.  HS_EIO with
 * the cause (transport, TLS, "put-token answered 401 ...", a refused
 * attach, no answer in time). */
hs_err_t tr_amqp_svc_open(tr_loop_t *l, tr_tls_t *tls, const tr_amqp_svc_opts_t *o, int64_t timeout_ms,
                          tr_amqp_svc_t **out, char *why, size_t cap);
void tr_amqp_svc_free(tr_amqp_svc_t *s);
/* Still connected (no transport failure, no close from the hub). */
bool tr_amqp_svc_is_open(const tr_amqp_svc_t *s);

typedef struct {
    const char *name;
    const char *value;
} tr_amqp_prop_t;

#define TR_AMQP_MAX_APP 20

/* One C2D message; NULL fields are not sent. */
typedef struct {
    const char *device_id; /* becomes `to` (percent-encoded) */
    const void *body;
    size_t body_len;
    const char *message_id, *correlation_id, *user_id, *content_type, *content_encoding;
    const char *ack;        /* none|positive|negative|full */
    uint32_t ttl_ms;        /* header ttl; 0 = none */
    tr_amqp_prop_t app[TR_AMQP_MAX_APP];
    size_t n_app;
} tr_amqp_c2d_t;

typedef struct {
    bool accepted;
    bool rejected;
    char condition[128];   /* the rejection's condition ("amqp:not-found"), "" when none */
    char description[256]; /* "ErrorCode:DeviceNotFound;..." as the hub wrote it */
} tr_amqp_outcome_t;

/* Send one unsettled transfer and wait for the hub's disposition.  HS_EIO
 * (why) on a transport failure, a detached link or no disposition in time;
 * HS_EOK otherwise with the outcome. */
hs_err_t tr_amqp_svc_c2d_send(tr_amqp_svc_t *s, const tr_amqp_c2d_t *m, int64_t timeout_ms,
                              tr_amqp_outcome_t *out, char *why, size_t cap);

/* Attach the feedback receiver (once) with credit; waits for the attach. */
hs_err_t tr_amqp_svc_feedback_attach(tr_amqp_svc_t *s, int credit, int64_t timeout_ms, char *why, size_t cap);
/* Waits up to timeout_ms for a feedback message; pops it (accepted at the
 * hub) and returns its body (malloc'd, NUL-terminated) in *body.  false
 * when none arrived. */
bool tr_amqp_svc_feedback_next(tr_amqp_svc_t *s, int64_t timeout_ms, char **body, size_t *len);

/* Why the connection ended ("" while open). */
const char *tr_amqp_svc_why(const tr_amqp_svc_t *s);

#endif
