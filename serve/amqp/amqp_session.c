/* The AMQP session: one proton connection driver in server mode, the byte pump to the carrier, and the proton event dispatcher. */
#include "serve/amqp/amqp_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Model: every entry point (input, a hub sink callback, a feeds
 * notification) ends in amqp_flush(), which drains proton's event queue
 * and then its output buffer into io->write, repeating until both are
 * empty.  Calls that arrive while a flush is running (a hub callback
 * triggered by our own hub call) only mark `again`; the outer flush picks
 * their work up.  When proton's transport is closed both ways, the session
 * releases its links and identities and asks the carrier to close.
 */

void amqp_session_opts_default(amqp_session_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->link_credit = 100;
    o->max_message_bytes = 1024 * 1024;
    o->max_frame_size = 65536;
    o->container_id = "hubsim";
}

void amqp_violation(amqp_session_t *s, const char *rule, const char *identity, const char *fmt, ...)
{
    if (!s->obs || !s->obs->violation)
        return;
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    s->st.violations++;
    s->obs->violation(s->obs_ctx, rule, identity && *identity ? identity : s->peer_addr, detail);
}

static void teardown(amqp_session_t *s)
{
    if (s->torn_down)
        return;
    s->torn_down = true;
    while (s->links)
        amqp_link_release(s->links);
    amqp_idents_drop_all(s);
    while (s->cbs_wait) {
        amqp_pending_t *p = s->cbs_wait;
        s->cbs_wait = p->next;
        free(p->bytes);
        free(p);
    }
    s->cbs_wait_tail = NULL;
}

static void close_io(amqp_session_t *s, const char *reason)
{
    if (s->closed)
        return;
    s->closed = true;
    teardown(s);
    s->io->close(s->io_ctx, reason);
}

/* ---- link attach ------------------------------------------------------------ */

static void refuse(amqp_session_t *s, pn_link_t *l, const char *cond, const char *desc)
{
    s->st.links_refused++;
    pn_terminus_copy(pn_link_source(l), pn_link_remote_source(l));
    pn_terminus_copy(pn_link_target(l), pn_link_remote_target(l));
    pn_link_open(l);
    pn_condition_t *c = pn_link_condition(l);
    pn_condition_set_name(c, cond);
    pn_condition_set_description(c, desc);
    pn_link_close(l);
}

static bool is_device_kind(amqp_addr_kind_t k)
{
    return k == AMQP_ADDR_D2C || k == AMQP_ADDR_C2D || k == AMQP_ADDR_METHODS || k == AMQP_ADDR_TWIN;
}

static bool direction_ok(amqp_addr_kind_t k, bool sending)
{
    switch (k) {
    case AMQP_ADDR_CBS:
    case AMQP_ADDR_EH_MGMT:
    case AMQP_ADDR_METHODS:
    case AMQP_ADDR_TWIN: return true;
    case AMQP_ADDR_D2C:
    case AMQP_ADDR_SVC_C2D: return !sending;
    case AMQP_ADDR_C2D:
    case AMQP_ADDR_SVC_FEEDBACK:
    case AMQP_ADDR_SVC_FILE_NOTIFICATIONS:
    case AMQP_ADDR_SVC_EVENTS: return sending;
    default: return false;
    }
}

static void on_link_remote_open(amqp_session_t *s, pn_link_t *l)
{
    if (pn_link_get_context(l))
        return;
    bool sending = pn_link_is_sender(l);
    /* the client's receiver names its source, the client's sender its target */
    const char *address = sending ? pn_terminus_get_address(pn_link_remote_source(l))
                                  : pn_terminus_get_address(pn_link_remote_target(l));
    amqp_addr_t a;
    bool cs = (s->opts.breaks & AMQP_BREAK_ADDRESS_CASE) != 0;
    amqp_addr_kind_t k = amqp_addr_parse(address, hub_config(s->hub)->name, cs, &a);
    char desc[400];
    if (k == AMQP_ADDR_UNKNOWN || !direction_ok(k, sending)) {
        snprintf(desc, sizeof desc, "%s link to unknown address '%s'", sending ? "receiver" : "sender",
                 address ? address : "(null)");
        amqp_violation(s, "CLIENT-AMQP-LINK", NULL, "%s", desc);
        refuse(s, l, "amqp:not-found", desc);
        return;
    }
    amqp_ident_t *id = NULL;
    if (is_device_kind(k)) {
        id = amqp_ident_find(s, a.device_id, a.module_id);
        if ((!id || !id->conn) && !(s->opts.breaks & AMQP_BREAK_LINK_BEFORE_AUTH)) {
            snprintf(desc, sizeof desc, "no valid token for %s%s%s on this connection (put-token on $cbs first)",
                     a.device_id, a.module_id[0] ? "/" : "", a.module_id);
            amqp_violation(s, "CLIENT-AMQP-AUTH", a.device_id, "%s", desc);
            refuse(s, l, "amqp:unauthorized-access", desc);
            return;
        }
    } else if (k != AMQP_ADDR_CBS && !s->service_ok) {
        snprintf(desc, sizeof desc, "no valid service token (skn with ServiceConnect) on this connection");
        amqp_violation(s, "CLIENT-AMQP-AUTH", NULL, "%s", desc);
        refuse(s, l, "amqp:unauthorized-access", desc);
        return;
    }
    if ((k == AMQP_ADDR_SVC_EVENTS || k == AMQP_ADDR_SVC_FEEDBACK || k == AMQP_ADDR_EH_MGMT ||
         k == AMQP_ADDR_SVC_FILE_NOTIFICATIONS) && !s->feeds) {
        refuse(s, l, "amqp:not-found", "this hub serves no events or feedback endpoint");
        return;
    }
    if (k == AMQP_ADDR_SVC_EVENTS && !amqp_eventhubs_partition_ok(s, a.partition, desc, sizeof desc)) {
        amqp_violation(s, "CLIENT-AMQP-LINK", NULL, "%s", desc);
        refuse(s, l, "amqp:not-found", desc);
        return;
    }
    amqp_lnk_t *lk = calloc(1, sizeof *lk);
    if (!lk) {
        refuse(s, l, "amqp:internal-error", "out of memory");
        return;
    }
    lk->s = s;
    lk->pn = l;
    lk->addr = a;
    lk->sending = sending;
    lk->ident = id;
    lk->prev = s->links_tail;
    if (s->links_tail)
        s->links_tail->next = lk;
    else
        s->links = lk;
    s->links_tail = lk;
    pn_link_set_context(l, lk);
    pn_terminus_copy(pn_link_source(l), pn_link_remote_source(l));
    pn_terminus_copy(pn_link_target(l), pn_link_remote_target(l));
    if (sending)
        pn_link_set_snd_settle_mode(l, PN_SND_UNSETTLED);
    else
        pn_link_set_rcv_settle_mode(l, PN_RCV_FIRST);
    pn_link_open(l);
    s->st.links_attached++;
    if (!sending)
        pn_link_flow(l, (int)s->opts.link_credit);
    if (k == AMQP_ADDR_CBS)
        amqp_cbs_link_ready(s, lk);
    else if (is_device_kind(k))
        amqp_device_link_opened(lk);
    else
        amqp_service_link_opened(lk);
}

/* ---- deliveries -------------------------------------------------------------- */

static void on_incoming(amqp_session_t *s, amqp_lnk_t *lk, pn_delivery_t *d)
{
    pn_link_t *l = pn_delivery_link(d);
    if (pn_delivery_partial(d)) {
        if ((size_t)pn_delivery_pending(d) > s->opts.max_message_bytes) {
            char desc[160];
            snprintf(desc, sizeof desc, "transfer exceeds %zu bytes", s->opts.max_message_bytes);
            pn_delivery_settle(d);
            amqp_link_close(lk, "amqp:link:message-size-exceeded", desc);
        }
        return;
    }
    if (!pn_delivery_readable(d))
        return;
    size_t len = pn_delivery_pending(d);
    char *buf = malloc(len ? len : 1);
    if (!buf) {
        amqp_settle_in(s, d, HUB_ESERVER_ERROR, "out of memory");
        return;
    }
    ssize_t got = pn_link_recv(l, buf, len);
    pn_link_advance(l);
    pn_message_t *m = s->scratch;
    pn_message_clear(m);
    if (got < 0 || !amqp_bytes_are_message(buf, (size_t)got) ||
        pn_message_decode(m, buf, (size_t)got) != 0) {
        free(buf);
        s->st.decode_errors++;
        pn_disposition_t *disp = pn_delivery_local(d);
        pn_condition_t *c = pn_disposition_condition(disp);
        pn_condition_set_name(c, "amqp:decode-error");
        pn_condition_set_description(c, "the transfer is not an AMQP message");
        pn_delivery_update(d, PN_REJECTED);
        pn_delivery_settle(d);
        amqp_link_refill(lk);
        return;
    }
    free(buf);
    switch (lk->addr.kind) {
    case AMQP_ADDR_CBS: amqp_cbs_on_message(lk, d, m); break;
    case AMQP_ADDR_SVC_C2D: amqp_service_on_message(lk, d, m); break;
    case AMQP_ADDR_EH_MGMT: amqp_eventhubs_on_request(lk, d, m); break;
    default: amqp_device_on_message(lk, d, m); break;
    }
    amqp_link_refill(lk);
}

static void on_delivery(amqp_session_t *s, pn_delivery_t *d)
{
    pn_link_t *l = pn_delivery_link(d);
    amqp_lnk_t *lk = pn_link_get_context(l);
    if (!lk) {
        if (pn_link_is_receiver(l) && !pn_delivery_partial(d)) {
            pn_link_advance(l);
            pn_delivery_settle(d); /* a transfer on a refused link */
        }
        return;
    }
    if (pn_link_is_receiver(l))
        on_incoming(s, lk, d);
    else if (pn_delivery_updated(d))
        amqp_link_on_outcome(s, d);
}

/* ---- the event loop ------------------------------------------------------------ */

static void release_session_links(amqp_session_t *s, pn_session_t *ssn)
{
    amqp_lnk_t *lk = s->links;
    while (lk) {
        amqp_lnk_t *next = lk->next;
        if (pn_link_session(lk->pn) == ssn)
            amqp_link_release(lk);
        lk = next;
    }
}

static void handle(amqp_session_t *s, pn_event_t *e)
{
    switch (pn_event_type(e)) {
    case PN_CONNECTION_REMOTE_OPEN: {
        pn_connection_t *c = pn_event_connection(e);
        pn_connection_set_container(c, s->container_id);
        pn_connection_open(c);
        break;
    }
    case PN_SESSION_REMOTE_OPEN: {
        pn_session_t *ssn = pn_event_session(e);
        if (pn_session_state(ssn) & PN_LOCAL_UNINIT)
            pn_session_open(ssn);
        break;
    }
    case PN_LINK_REMOTE_OPEN: {
        pn_link_t *l = pn_event_link(e);
        if (pn_link_state(l) & PN_LOCAL_UNINIT)
            on_link_remote_open(s, l);
        break;
    }
    case PN_LINK_FLOW: {
        amqp_lnk_t *lk = pn_link_get_context(pn_event_link(e));
        if (lk && lk->sending)
            amqp_link_pump(lk);
        break;
    }
    case PN_DELIVERY: on_delivery(s, pn_event_delivery(e)); break;
    case PN_LINK_REMOTE_CLOSE:
    case PN_LINK_REMOTE_DETACH: {
        pn_link_t *l = pn_event_link(e);
        amqp_lnk_t *lk = pn_link_get_context(l);
        if (lk)
            amqp_link_release(lk);
        if (!(pn_link_state(l) & PN_LOCAL_CLOSED)) {
            if (pn_event_type(e) == PN_LINK_REMOTE_DETACH)
                pn_link_detach(l);
            pn_link_close(l);
        }
        break;
    }
    case PN_SESSION_REMOTE_CLOSE: {
        pn_session_t *ssn = pn_event_session(e);
        release_session_links(s, ssn);
        if (!(pn_session_state(ssn) & PN_LOCAL_CLOSED))
            pn_session_close(ssn);
        break;
    }
    case PN_CONNECTION_REMOTE_CLOSE: {
        pn_connection_t *c = pn_event_connection(e);
        teardown(s);
        if (!(pn_connection_state(c) & PN_LOCAL_CLOSED))
            pn_connection_close(c);
        break;
    }
    case PN_TRANSPORT_ERROR:
        teardown(s); /* the closing bytes (an error frame) still go out */
        break;
    default: break;
    }
}

void amqp_flush(amqp_session_t *s)
{
    if (!s->driver_ok || s->closed)
        return;
    if (s->pumping) {
        s->again = true;
        return;
    }
    s->pumping++;
    bool progressed;
    do {
        s->again = false;
        progressed = false;
        pn_event_t *e;
        while ((e = pn_connection_driver_next_event(&s->driver)) != NULL) {
            handle(s, e);
            progressed = true;
        }
        /* asking for the write buffer runs proton's output side, which may
         * raise events (HEAD_CLOSED after the last bytes): hence the loop */
        for (;;) {
            pn_bytes_t b = pn_connection_driver_write_buffer(&s->driver);
            if (!b.size)
                break;
            s->io->write(s->io_ctx, b.start, b.size);
            pn_connection_driver_write_done(&s->driver, b.size);
            progressed = true;
        }
    } while (s->again || progressed || pn_connection_driver_has_event(&s->driver));
    s->pumping--;
    if (pn_connection_driver_write_closed(&s->driver)) {
        pn_condition_t *c = pn_transport_condition(s->driver.transport);
        char reason[300];
        if (pn_condition_is_set(c))
            snprintf(reason, sizeof reason, "%s: %s", pn_condition_get_name(c),
                     pn_condition_get_description(c) ? pn_condition_get_description(c) : "");
        else
            snprintf(reason, sizeof reason, "AMQP connection closed");
        close_io(s, reason);
    }
}

/* ---- public API -------------------------------------------------------------------- */

amqp_session_t *amqp_session_new(hub_t *hub, amqp_feeds_t *feeds, const amqp_session_opts_t *opts,
                                 const wire_peer_t *peer, const wire_io_ops_t *io, void *io_ctx,
                                 const wire_observer_ops_t *obs, void *obs_ctx)
{
    if (!hub || !peer || !io || !io->write || !io->close)
        return NULL;
    amqp_session_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->hub = hub;
    s->feeds = feeds;
    if (opts)
        s->opts = *opts;
    else
        amqp_session_opts_default(&s->opts);
    if (!s->opts.link_credit)
        s->opts.link_credit = 1;
    snprintf(s->container_id, sizeof s->container_id, "%s",
             s->opts.container_id ? s->opts.container_id : "hubsim");
    s->opts.container_id = s->container_id;
    snprintf(s->peer_addr, sizeof s->peer_addr, "%s", peer->address ? peer->address : "?");
    snprintf(s->peer_thumb, sizeof s->peer_thumb, "%s", peer->x509_thumbprint ? peer->x509_thumbprint : "");
    s->io = io;
    s->io_ctx = io_ctx;
    s->obs = obs;
    s->obs_ctx = obs_ctx;
    s->scratch = pn_message();
    pn_transport_t *t = pn_transport();
    if (!s->scratch || !t) {
        if (t)
            pn_transport_free(t);
        pn_message_free(s->scratch);
        free(s);
        return NULL;
    }
    pn_transport_set_server(t);
    if (s->opts.max_frame_size)
        pn_transport_set_max_frame(t, s->opts.max_frame_size);
    const hub_config_amqp_t *ac = &hub_config(hub)->amqp;
    /* A client that sends the bare AMQP header skipped SASL: refused by
     * proton itself when the no-SASL mode is switched off. */
    pn_transport_require_auth(t, !ac->allow_no_sasl);
    if (pn_connection_driver_init(&s->driver, NULL, t) != 0) {
        pn_message_free(s->scratch);
        free(s);
        return NULL;
    }
    s->driver_ok = true;
    amqp_sasl_install(s);
    return s;
}

void amqp_session_input(amqp_session_t *s, const void *bytes, size_t len)
{
    if (!s || s->closed)
        return;
    const char *p = bytes;
    while (len > 0 && !s->closed) {
        pn_rwbytes_t buf = pn_connection_driver_read_buffer(&s->driver);
        if (!buf.size) {
            if (pn_connection_driver_read_closed(&s->driver))
                break; /* proton stopped reading (error or close): the rest is noise */
            amqp_flush(s);
            buf = pn_connection_driver_read_buffer(&s->driver);
            if (!buf.size)
                break;
        }
        size_t n = len < buf.size ? len : buf.size;
        memcpy(buf.start, p, n);
        pn_connection_driver_read_done(&s->driver, n);
        p += n;
        len -= n;
        amqp_flush(s);
    }
}

void amqp_session_transport_closed(amqp_session_t *s)
{
    if (!s || s->closed)
        return;
    s->closed = true; /* the carrier knows: no io->close, no more writes */
    teardown(s);
    pn_connection_driver_close(&s->driver);
}

void amqp_session_free(amqp_session_t *s)
{
    if (!s)
        return;
    teardown(s);
    if (s->driver_ok)
        pn_connection_driver_destroy(&s->driver);
    pn_message_free(s->scratch);
    free(s);
}

bool amqp_session_closed(const amqp_session_t *s)
{
    return s->closed;
}

void amqp_session_stats(const amqp_session_t *s, amqp_session_stats_t *out)
{
    *out = s->st;
    size_t n = 0;
    for (const amqp_ident_t *i = s->idents; i; i = i->next)
        n += i->conn != 0;
    out->identities = n;
}
