/* The seam between a sans-IO protocol session (MQTT, AMQP, HTTP) and what carries its bytes: TLS sockets in `serve`, an in-memory pipe in virtual-time tests. */
#ifndef SERVE_WIRE_H
#define SERVE_WIRE_H

/*
 * Every protocol front-end of the served hub is split in two:
 *
 *   serve/<proto>/   the session: bytes in, hub calls, bytes out.  No socket,
 *                    no clock, no libevent.  Timers (keep-alive, lock
 *                    timeouts) are kernel events on the hub's kernel, so the
 *                    session runs unchanged in virtual time (tests, the
 *                    conformance suite's wire cases) and in wall time (serve
 *                    makes the kernel follow the wall clock).
 *   serve/ (top)     the carrier: a libevent listener with OpenSSL that feeds
 *                    a session the bytes it reads and writes what the
 *                    session emits.
 *
 * The carrier owns the session: it creates it on accept, feeds it with
 * <proto>_session_input(), tells it when the transport closed, and frees it.
 * The session talks back only through wire_io_ops_t.
 */

#include <stdbool.h>
#include <stddef.h>

/* What a session needs from its carrier.  Both members are required. */
typedef struct {
    /* Queue bytes for the peer (copied before returning). */
    void (*write)(void *ctx, const void *bytes, size_t len);
    /* The session is finished with this transport: flush what was written,
     * then close.  The session is not fed after this; the carrier still
     * frees it (from a later turn of its loop, never from inside a call into
     * the session). */
    void (*close)(void *ctx, const char *reason);
} wire_io_ops_t;

/* Client-side rule violations a session observed (`serve --check-clients`).
 * rule_id is a catalogue ID ("CLIENT-MQTT-QOS2"); identity the device id
 * (or "device/module", or the peer address before CONNECT). */
typedef struct {
    void (*violation)(void *ctx, const char *rule_id, const char *identity, const char *detail);
} wire_observer_ops_t;

/* What the carrier knows about the peer. */
typedef struct {
    const char *address;         /* "127.0.0.1:50312", for logs and reports */
    const char *x509_thumbprint; /* the client certificate's SHA-1 thumbprint, uppercase hex;
                                    NULL without a client certificate */
    bool tls;                    /* false only in tests over a plain pipe */
} wire_peer_t;

#endif
