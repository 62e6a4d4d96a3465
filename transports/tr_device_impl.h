/* Private to the device clients: the shared client record, the per-protocol operation table, pending operations with deadlines, deferred callbacks. */
#ifndef TRANSPORTS_TR_DEVICE_IMPL_H
#define TRANSPORTS_TR_DEVICE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "transports/tr_device.h"

struct event;

/* What a protocol provides; the dispatch in tr_device.c checks state and
 * arguments first, so these see an open client and sane input. */
typedef struct {
    hs_err_t (*start)(tr_device_t *d, char *why, size_t cap); /* allocate d->proto, start connecting */
    hs_err_t (*subscribe)(tr_device_t *d, unsigned subs);
    hs_err_t (*send)(tr_device_t *d, const tr_device_msg_t *m, uint64_t tag);
    hs_err_t (*method_respond)(tr_device_t *d, const char *rid, int status, const void *p, size_t n);
    hs_err_t (*settle)(tr_device_t *d, uint64_t lock, tr_settle_t how);
    hs_err_t (*report)(tr_device_t *d, const char *json, size_t n, uint64_t tag);
    void (*close)(tr_device_t *d);   /* graceful goodbye (best effort, no callbacks) */
    void (*destroy)(tr_device_t *d); /* frees d->proto */
    size_t (*footprint)(const tr_device_t *d);
} tr_dev_ops_t;

/* What one client TLS connection holds beyond our own records, measured
 * (Release build, OpenSSL 3.0.19, libevent 2.1.12, 100 idle MQTT clients, an
 * OpenSSL allocation counter): OpenSSL 35 KB per connection (the SSL
 * object, its session and keys, and the 17 KB read buffer it keeps while
 * libevent waits for the next record; the write buffer is released when
 * idle, SSL_MODE_RELEASE_BUFFERS in tr_tls), plus about 2.5 KB for the
 * bufferevent and its evbuffers. */
#define TR_DEV_TLS_ESTIMATE (35 * 1024 + 2560)
/* A proton connection driver (connection, transport with its buffers,
 * session) and each link, from the same measurement over AMQP (50 idle
 * clients: 61.7 KB each in all). */
#define TR_DEV_PROTON_ESTIMATE (18 * 1024)
#define TR_DEV_PROTON_LINK_ESTIMATE 1024

extern const tr_dev_ops_t tr_dev_mqtt_ops, tr_dev_amqp_ops, tr_dev_https_ops;

typedef enum { TR_OP_CONNECT = 1, TR_OP_SUBSCRIBE, TR_OP_SEND, TR_OP_SETTLE, TR_OP_REPORT } tr_op_kind_t;

/* An operation waiting for the hub's answer. */
typedef struct {
    uint8_t kind;      /* tr_op_kind_t */
    uint64_t key;      /* packet id, request id, delivery id ... */
    uint64_t tag;      /* the caller's tag / subs bits / lock */
    int64_t deadline;  /* tr_now_ms() */
} tr_dev_op_t;

/* A callback owed to the caller, delivered from a later loop turn. */
typedef struct {
    uint8_t kind; /* tr_op_kind_t, TR_OP_CONNECT for connected */
    uint64_t tag;
    uint64_t version;
    int code, status;
    char why[200];
} tr_dev_note_t;

struct tr_device {
    tr_loop_t *loop;
    const tr_dev_ops_t *ops;
    void *proto;
    tr_device_cb_t cb;
    void *ctx;
    /* options, strings in one block (strs) */
    tr_device_protocol_t protocol;
    char *strs;
    const char *host, *dial_host, *device_id, *module_id, *sas_key, *sas_token;
    int port;
    tr_tls_t *tls;
    int64_t sas_ttl_s, c2d_poll_ms, timeout_ms;
    uint16_t keep_alive_s;
    /* state */
    bool up;       /* connected and not ended */
    bool ended;    /* connect failed, or closed after it was up */
    bool quiet;    /* tr_device_close: no more callbacks */
    bool free_pending;
    bool in_defer;
    tr_dev_op_t *pend;
    size_t n_pend, cap_pend;
    tr_dev_note_t *notes;
    size_t n_notes, cap_notes;
    struct event *deadline_ev; /* earliest pending deadline */
    struct event *defer_ev;    /* notes and free_later */
};

/* "host/devices/{id}[/modules/{m}]" (not encoded). */
void tr_dev_resource(const tr_device_t *d, char *out, size_t cap);
/* The SAS token to present now (sas_token as given, or a fresh one signed
 * for sas_ttl_s); *expiry_unix when signed (0 for a given token).
 * HS_EINVAL with why for a bad key; HS_ENOTFOUND for X.509 (no key). */
hs_err_t tr_dev_token(const tr_device_t *d, char *out, size_t cap, int64_t *expiry_unix, char *why,
                      size_t wcap);
/* "{id}" or "{id}/{module}" */
void tr_dev_client_id(const tr_device_t *d, char *out, size_t cap);

/* Pending operations (deadline = now + timeout_ms). */
hs_err_t tr_dev_op_add(tr_device_t *d, tr_op_kind_t kind, uint64_t key, uint64_t tag);
/* Removes and returns the op; false when unknown (a late or foreign answer). */
bool tr_dev_op_take(tr_device_t *d, tr_op_kind_t kind, uint64_t key, uint64_t *tag);
size_t tr_dev_op_count(const tr_device_t *d, tr_op_kind_t kind);

/* Deliver a result for an op kind right now (from a loop callback). */
void tr_dev_emit(tr_device_t *d, tr_op_kind_t kind, uint64_t tag, uint64_t version, tr_device_result_t r);
/* The same from a later loop turn (for outcomes known inside a call). */
void tr_dev_post(tr_device_t *d, tr_op_kind_t kind, uint64_t tag, uint64_t version, int code, int status,
                 const char *why);

/* The connection is up: connected(0). */
void tr_dev_connected(tr_device_t *d);
/* Connecting failed (connected(r)) or the connection ended (closed(r));
 * every pending op fails with `why`.  Once only. */
void tr_dev_ended(tr_device_t *d, tr_device_result_t r);

/* Result helpers. */
tr_device_result_t tr_dev_ok(void);
tr_device_result_t tr_dev_fail(int code, int status, const char *why);
/* The hub code for an HTTP-like status and an error name or
 * "ErrorCode:Name;..." text (either may be NULL): the table's code for a
 * known name, else status * 1000. */
int tr_dev_code_for(int status, const char *name);

#endif
