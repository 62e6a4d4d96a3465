/* A client byte stream over TCP (optionally TLS) on the pumped loop: connect with precise failure reasons, write, read, close. */
#ifndef TRANSPORTS_TR_STREAM_H
#define TRANSPORTS_TR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "transports/tr_loop.h"
#include "transports/tr_tls.h"

/*
 * Connecting tries every address the host resolves to (localhost may be
 * ::1 then 127.0.0.1) and reports the last failure precisely: "connect to
 * localhost:8883 (127.0.0.1): Connection refused", "TLS handshake with
 * localhost:443: certificate verify failed: unable to get local issuer
 * certificate", "no answer within 5000 ms".  Callbacks run inside pumps of
 * the loop; a stream is never freed from inside its own callback.
 */

typedef struct tr_stream tr_stream_t;

typedef struct {
    void (*opened)(void *ctx);                        /* connected (and TLS handshake done) */
    void (*data)(void *ctx, const uint8_t *p, size_t n); /* bytes received */
    void (*closed)(void *ctx, const char *why);       /* failed or ended; why "" for a clean EOF */
} tr_stream_cb_t;

typedef enum { TR_STREAM_CONNECTING, TR_STREAM_OPEN, TR_STREAM_CLOSED } tr_stream_state_t;

/* Starts connecting; HS_EIO with why when the host does not resolve. */
hs_err_t tr_stream_start(tr_loop_t *l, tr_tls_t *tls /* NULL: plain TCP */, const char *host, int port,
                         const char *tls_name /* SNI + name check; NULL = host */,
                         const tr_stream_cb_t *cb, void *ctx, tr_stream_t **out, char *why, size_t cap);
tr_stream_state_t tr_stream_state(const tr_stream_t *s);
/* Why it closed (valid once CLOSED; "" for a clean EOF). */
const char *tr_stream_why(const tr_stream_t *s);
/* Queues bytes (flushed by the loop); false when not open. */
bool tr_stream_write(tr_stream_t *s, const void *p, size_t n);
/* Bytes queued but not yet handed to the kernel. */
size_t tr_stream_pending_out(const tr_stream_t *s);
/* Bytes this stream holds in its own record, its address list and its
 * libevent buffers (not the bufferevent or the SSL object themselves). */
size_t tr_stream_footprint(const tr_stream_t *s);
/* Closes now (no callback) and frees. */
void tr_stream_free(tr_stream_t *s);

/* Connect and wait (bounded) until open or failed: HS_EIO with the reason
 * ("no answer within N ms" on timeout). */
hs_err_t tr_stream_connect(tr_loop_t *l, tr_tls_t *tls, const char *host, int port,
                           const char *tls_name, const tr_stream_cb_t *cb, void *ctx,
                           int64_t timeout_ms, tr_stream_t **out, char *why, size_t cap);

#endif
