/* A protocol-neutral, asynchronous device client (MQTT, AMQP or HTTPS) for thousands of devices on one loop: the live side of the fleet. */
#ifndef TRANSPORTS_TR_DEVICE_H
#define TRANSPORTS_TR_DEVICE_H

/*
 * Everything is asynchronous: calls queue work and return at once; the
 * outcome arrives through the callbacks while the owner pumps the loop
 * (tr_loop_poll / tr_loop_wait).  Callbacks never run inside the call that
 * caused them, and a client may be freed from inside its own callback only
 * with tr_device_free_later().
 *
 * Outcomes carry the hub's error code when the hub gave one (an HTTPS
 * status + iothub-errorcode, an AMQP condition description, a CONNACK code
 * mapped to 401002/404001/503..., a PUBACK that did not come) in
 * tr_device_result_t: code 0 = success, a six-digit hub code otherwise
 * (429xxx = throttled: the caller reports it as such), or -1 for a
 * transport failure without a code (why says which).
 *
 * A call that returns anything but HS_EOK queued nothing and owes no
 * callback: HS_ESTATE when the client is not open (before connected(0),
 * after closed or tr_device_close), HS_EINVAL for bad arguments,
 * HS_EUNSUPPORTED for what the protocol cannot do, HS_ENOTFOUND for an
 * unknown C2D lock.  tr_device_close writes the goodbye; pump the loop once
 * before tr_device_free so it leaves (freeing at once drops it: the hub
 * then sees a lost connection).
 *
 * Per-protocol behaviour, code mapping and limits: docs/live-devices.md.
 *  - MQTT cannot reject or abandon a C2D message: settle returns
 *    HS_EUNSUPPORTED for those (complete = PUBACK).  A telemetry message the
 *    hub refuses (throttled, too large) is not acknowledged: the hub closes
 *    the connection, so sent() fails with -1 and closed() follows.
 *  - HTTPS devices receive no method calls and no desired patches and have
 *    no twin (the hub offers none over HTTPS): subscribe with those bits and
 *    report return HS_EUNSUPPORTED; C2D arrives by polling every
 *    c2d_poll_ms; connected() follows a first C2D poll that checks the
 *    credentials; closed() never comes (there is no connection).
 *  - AMQP: CBS put-token per device (one connection each), renewed before
 *    the token ends, then the device links; X.509 is refused at open
 *    (HS_EUNSUPPORTED: serve authenticates AMQP identities by token only).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "transports/tr_loop.h"
#include "transports/tr_tls.h"

typedef struct tr_device tr_device_t;

typedef enum { TR_DEV_MQTT = 0, TR_DEV_AMQP, TR_DEV_HTTPS } tr_device_protocol_t;

enum { TR_DEV_SUB_METHODS = 1u, TR_DEV_SUB_C2D = 2u, TR_DEV_SUB_DESIRED = 4u };

typedef enum { TR_SETTLE_COMPLETE = 0, TR_SETTLE_REJECT, TR_SETTLE_ABANDON } tr_settle_t;

typedef struct {
    int code;       /* 0 ok; hub error code (e.g. 401002, 429001); -1 transport failure */
    int status;     /* HTTP-like status when known (200, 401, 429, 504...), else 0 */
    const char *why; /* human text, "" on success; borrowed for the callback */
} tr_device_result_t;

typedef struct {
    const char *name;
    const char *value;
} tr_device_prop_t;

/* One telemetry message.  Strings and body are copied by tr_device_send. */
typedef struct {
    const void *body;
    size_t body_len;
    const char *message_id;       /* NULL: none */
    const char *correlation_id;   /* NULL: none */
    const char *content_type;     /* NULL: none */
    const char *content_encoding; /* NULL: none */
    const tr_device_prop_t *app;  /* application properties */
    size_t n_app;
} tr_device_msg_t;

/* A C2D message as received; borrowed for the callback.  `lock` identifies
 * it for tr_device_settle (MQTT packet id, AMQP delivery, HTTPS etag). */
typedef struct {
    const char *message_id;
    const char *correlation_id;
    const void *body;
    size_t body_len;
    const tr_device_prop_t *app;
    size_t n_app;
    uint64_t lock;
} tr_device_c2d_t;

typedef struct {
    /* connect finished: code 0 = connected */
    void (*connected)(void *ctx, tr_device_result_t r);
    /* the connection ended after it was up (hub closed it, transport error,
     * keep-alive lost); not called after tr_device_close */
    void (*closed)(void *ctx, tr_device_result_t r);
    /* subscribe finished */
    void (*subscribed)(void *ctx, unsigned subs, tr_device_result_t r);
    /* telemetry `tag` was acknowledged (code 0) or refused/lost */
    void (*sent)(void *ctx, uint64_t tag, tr_device_result_t r);
    /* a direct method call; answer with tr_device_method_respond(rid) */
    void (*method)(void *ctx, const char *name, const char *rid, const void *payload, size_t len);
    void (*c2d)(void *ctx, const tr_device_c2d_t *m);
    /* settle `lock` finished */
    void (*settled)(void *ctx, uint64_t lock, tr_device_result_t r);
    void (*desired)(void *ctx, uint64_t version, const char *patch_json, size_t len);
    /* reported-properties patch `tag` finished; version when code 0 */
    void (*reported)(void *ctx, uint64_t tag, uint64_t version, tr_device_result_t r);
} tr_device_cb_t;

typedef struct {
    tr_device_protocol_t protocol;
    const char *host;      /* HostName (also TLS name and the SAS resource's host) */
    const char *dial_host; /* address to dial; NULL = host */
    int port;              /* the protocol's port */
    tr_tls_t *tls;         /* shared by many clients; carries a client cert for X.509 devices */
    const char *device_id;
    const char *module_id; /* NULL or "" = the device itself */
    /* SAS: the client signs tokens for host/devices/{id}[/modules/{m}] with
     * this base64 key, lifetime sas_ttl_s, and renews them as needed.
     * NULL key: X.509 (tls carries the certificate). */
    const char *sas_key;
    int64_t sas_ttl_s;     /* 0 = 3600 */
    const char *sas_token; /* a ready token instead of the key (bad/expired token injection) */
    uint16_t keep_alive_s; /* MQTT; 0 = 240 */
    int64_t c2d_poll_ms;   /* HTTPS; 0 = 1000 */
    int64_t timeout_ms;    /* per operation; 0 = 30000 */
} tr_device_opts_t;

/* Starts connecting.  HS_EINVAL (why) for bad options (no TLS context, no
 * host/port/device id, a key that is not base64), HS_EUNSUPPORTED (why)
 * for AMQP without a key or token; the outcome of the
 * connection itself comes through cb->connected. */
hs_err_t tr_device_open(tr_loop_t *l, const tr_device_opts_t *o, const tr_device_cb_t *cb, void *ctx,
                        tr_device_t **out, char *why, size_t cap);
hs_err_t tr_device_subscribe(tr_device_t *d, unsigned subs);
hs_err_t tr_device_send(tr_device_t *d, const tr_device_msg_t *m, uint64_t tag);
hs_err_t tr_device_method_respond(tr_device_t *d, const char *rid, int status, const void *payload,
                                  size_t len);
hs_err_t tr_device_settle(tr_device_t *d, uint64_t lock, tr_settle_t how);
hs_err_t tr_device_report(tr_device_t *d, const char *patch_json, size_t len, uint64_t tag);
bool tr_device_is_open(const tr_device_t *d);
/* Graceful close (DISCONNECT / AMQP close); no further callbacks. */
void tr_device_close(tr_device_t *d);
void tr_device_free(tr_device_t *d);
/* Free once the current callback has returned. */
void tr_device_free_later(tr_device_t *d);
/* Bytes of memory held by this client right now (buffers + state), for the
 * per-device memory figure. */
size_t tr_device_footprint(const tr_device_t *d);

#endif
