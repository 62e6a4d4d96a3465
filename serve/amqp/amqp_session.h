/* The AMQP 1.0 front-end of the served hub, sans-IO: one session per accepted connection, bytes in, hub calls, bytes out. */
#ifndef SERVE_AMQP_SESSION_H
#define SERVE_AMQP_SESSION_H

/*
 * A session wraps one proton pn_connection_driver_t in server mode (no
 * proactor, no threads).  The carrier feeds it decrypted bytes
 * (amqp_session_input); whatever proton wants to send goes out through
 * wire_io_ops_t.write before the call returns.  The hub may also make a
 * session speak on its own (a C2D message enqueued, a method call, a
 * routed D2C message for an events link, a feedback batch): those bytes are
 * written from inside the hub call or kernel event that caused them.
 *
 * Authentication (docs/amqp.md): the protocol header is autodetected, so a
 * client may (a) skip SASL and go straight to AMQP, (b) use SASL ANONYMOUS,
 * either followed by CBS put-token on `$cbs`, or (c) use SASL PLAIN with
 * the SAS token as password.  Each knob of hub_config_t.amqp switches one
 * mode off.  A device token makes one hub connection (HUB_PROTO_AMQP) for
 * its identity; several identities may share the AMQP connection.  A
 * service token (skn) authorizes the service links.
 *
 * Timers: none.  Proton's idle timeout is not used (the carrier owns the
 * socket and its keep-alive), so a session runs unchanged in virtual time.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "serve/amqp/amqp_breaks.h"
#include "serve/amqp/feeds.h"
#include "serve/wire.h"
#include "sim/hub/hub.h"

typedef struct amqp_session amqp_session_t;

typedef struct {
    uint32_t link_credit;        /* credit granted to each client sender: 100 */
    size_t max_message_bytes;    /* a transfer growing past this is refused before the hub sees it
                                    (link detached, amqp:link:message-size-exceeded): 1 MiB;
                                    the hub's own limits (256 KB D2C, 64 KB C2D) apply below it */
    uint32_t max_frame_size;     /* our max-frame-size in OPEN, and the largest frame accepted
                                    (a bigger one is a framing error): 65,536 [?]; 0 = unlimited */
    unsigned breaks;             /* AMQP_BREAK_* bits (amqp_breaks.h) */
    const char *container_id;    /* our container id in OPEN: "hubsim" (copied) */
} amqp_session_opts_t;

void amqp_session_opts_default(amqp_session_opts_t *o);

/* Create a session for one accepted connection.  hub, peer and io are
 * required; feeds may be NULL (events and feedback links are then refused
 * with amqp:not-found); obs may be NULL (no client checking).  opts NULL =
 * defaults.  Strings of opts and peer are copied.  NULL on allocation
 * failure.  Nothing is written until the client speaks. */
amqp_session_t *amqp_session_new(hub_t *hub, amqp_feeds_t *feeds, const amqp_session_opts_t *opts,
                                 const wire_peer_t *peer, const wire_io_ops_t *io, void *io_ctx,
                                 const wire_observer_ops_t *obs, void *obs_ctx);

/* Bytes read from the peer (any split).  Ignored after io->close. */
void amqp_session_input(amqp_session_t *s, const void *bytes, size_t len);

/* The transport is gone (peer closed, TLS error, carrier shutdown): the
 * session drops its hub connections, abandons locked C2D messages and
 * writes nothing more. */
void amqp_session_transport_closed(amqp_session_t *s);

/* Frees everything (drops hub connections first if still up).  NULL is
 * fine.  Never call it from inside a call into the session. */
void amqp_session_free(amqp_session_t *s);

/* True once the session called io->close (or heard transport_closed). */
bool amqp_session_closed(const amqp_session_t *s);

typedef struct {
    uint64_t links_attached;     /* accepted attaches */
    uint64_t links_refused;      /* refused attaches (unknown address, unauthorized) */
    uint64_t cbs_ok;             /* put-token answered 200 */
    uint64_t cbs_refused;        /* put-token answered 4xx */
    uint64_t sasl_ok, sasl_refused;
    uint64_t d2c_accepted, d2c_rejected;
    uint64_t c2d_sent, c2d_completed, c2d_rejected, c2d_abandoned;
    uint64_t c2d_settle_failed;  /* settles the hub refused (lock lost, not found) */
    uint64_t methods_sent, method_responses;
    uint64_t twin_requests;
    uint64_t service_c2d_accepted, service_c2d_rejected;
    uint64_t events_sent, feedback_sent;
    uint64_t decode_errors;      /* transfers that were not AMQP messages */
    uint64_t undeliverable;      /* hub pushes with no link to carry them (counted, then dropped) */
    uint64_t violations;         /* client-rule violations reported */
    size_t identities;           /* device identities with a live hub connection */
} amqp_session_stats_t;

void amqp_session_stats(const amqp_session_t *s, amqp_session_stats_t *out);

#endif
