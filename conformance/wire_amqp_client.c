/* The AMQP wire cases' client: a proton client driver whose bytes go through wire_send, with CBS, link, send and settle helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/sasl.h>
#include <proton/terminus.h>
#include <proton/transport.h>

#include "conformance/wire_amqp_client.h"
/* scalar-to-text and map lookups; token signing is client-side crypto, what an SDK does */
#include "serve/amqp/amqp_codec.h"
#include "sim/hub/auth.h"

#define WA_PUMP_ROUNDS 10000

static void set_bad(wa_t *a, const char *what)
{
    if (!a->bad[0])
        snprintf(a->bad, sizeof a->bad, "%s", what);
}

bool wa_open(conf_ctx_t *c, wa_t *a, wa_auth_t auth, const char *user, const char *password)
{
    memset(a, 0, sizeof *a);
    a->c = c;
    char why[256] = "";
    if (c->ops->wire_open(c->t, TARGET_PROTO_AMQP, NULL, &a->w, why, sizeof why) != HS_EOK)
        return conf_error(c, "cannot open an AMQP transport: %s", why);
    if (pn_connection_driver_init(&a->drv, NULL, NULL) != 0)
        return conf_error(c, "cannot create a proton client driver");
    a->drv_ok = true;
    pn_connection_t *conn = a->drv.connection;
    pn_connection_set_container(conn, "hubsim-conformance");
    pn_connection_set_hostname(conn, c->ops->host(c->t));
    if (auth != WA_AUTH_NONE) {
        pn_sasl_t *sasl = pn_sasl(a->drv.transport);
        pn_sasl_set_allow_insecure_mechs(sasl, true); /* the TLS layer is below us */
        pn_sasl_allowed_mechs(sasl, auth == WA_AUTH_ANONYMOUS ? "ANONYMOUS" : "PLAIN");
        if (auth == WA_AUTH_PLAIN) {
            pn_connection_set_user(conn, user);
            pn_connection_set_password(conn, password);
        }
    }
    pn_connection_open(conn);
    a->ssn = pn_session(conn);
    pn_session_open(a->ssn);
    wa_pump(a);
    return true;
}

void wa_free(wa_t *a)
{
    for (size_t i = 0; i < a->nrx; i++)
        pn_message_free(a->rx[i].m);
    a->nrx = 0;
    if (a->drv_ok)
        pn_connection_driver_destroy(&a->drv);
    a->drv_ok = false;
}

/* Decode every complete delivery that arrived on one of our receivers. */
static void client_events(wa_t *a)
{
    pn_event_t *e;
    while ((e = pn_connection_driver_next_event(&a->drv)) != NULL) {
        if (pn_event_type(e) != PN_DELIVERY)
            continue;
        pn_delivery_t *d = pn_event_delivery(e);
        pn_link_t *l = pn_delivery_link(d);
        if (!pn_link_is_receiver(l) || pn_delivery_partial(d) || !pn_delivery_readable(d))
            continue;
        size_t n = pn_delivery_pending(d);
        char *buf = malloc(n ? n : 1);
        if (!buf)
            abort();
        ssize_t got = pn_link_recv(l, buf, n);
        pn_link_advance(l);
        pn_message_t *m = pn_message();
        if (got != (ssize_t)n || !m || pn_message_decode(m, buf, n) != 0) {
            set_bad(a, "the hub sent a transfer that is not an AMQP message");
            pn_message_free(m);
        } else if (a->nrx == WA_MAX_RX) {
            set_bad(a, "more messages from the hub than the client keeps");
            pn_message_free(m);
        } else {
            a->rx[a->nrx++] = (wa_rx_t){ l, d, m, false };
        }
        free(buf);
    }
}

void wa_pump(wa_t *a)
{
    if (!a->drv_ok)
        return;
    const target_ops_t *ops = a->c->ops;
    uint8_t *in = NULL;
    size_t n_in = 0, off = 0;
    for (int round = 0; round < WA_PUMP_ROUNDS; round++) {
        bool moved = false;
        client_events(a);
        pn_bytes_t b = pn_connection_driver_write_buffer(&a->drv);
        if (b.size) {
            if (!ops->wire_is_closed(a->c->t, a->w))
                ops->wire_send(a->c->t, a->w, b.start, b.size);
            pn_connection_driver_write_done(&a->drv, b.size); /* a closed wire swallows them */
            moved = true;
        }
        if (off == n_in) {
            const uint8_t *bytes;
            size_t len;
            ops->wire_take(a->c->t, a->w, &bytes, &len);
            if (len) {
                uint8_t *p = realloc(in, len);
                if (!p)
                    abort();
                in = p;
                memcpy(in, bytes, len);
                n_in = len;
                off = 0;
            }
        }
        while (off < n_in) {
            pn_rwbytes_t rb = pn_connection_driver_read_buffer(&a->drv);
            if (!rb.size)
                break;
            size_t n = n_in - off < rb.size ? n_in - off : rb.size;
            memcpy(rb.start, in + off, n);
            pn_connection_driver_read_done(&a->drv, n);
            off += n;
            moved = true;
        }
        if (off == n_in && ops->wire_is_closed(a->c->t, a->w) && !pn_connection_driver_read_closed(&a->drv)) {
            pn_connection_driver_read_close(&a->drv);
            moved = true;
        }
        if (!moved && !pn_connection_driver_has_event(&a->drv)) {
            if (off < n_in)
                set_bad(a, "the client could not read all of the hub's bytes");
            free(in);
            return;
        }
    }
    free(in);
    set_bad(a, "the AMQP exchange did not settle");
}

bool wa_closed(wa_t *a)
{
    wa_pump(a);
    return a->c->ops->wire_is_closed(a->c->t, a->w);
}

const char *wa_bad(wa_t *a)
{
    return a->bad[0] ? a->bad : NULL;
}

/* ---- messages -------------------------------------------------------------------- */

pn_message_t *wa_message(const char *message_id, const void *body, size_t len)
{
    pn_message_t *m = pn_message();
    if (!m)
        abort();
    if (message_id) {
        pn_atom_t id = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(message_id), message_id) };
        pn_message_set_id(m, id);
    }
    if (body) {
        pn_data_put_binary(pn_message_body(m), pn_bytes(len, body));
        pn_message_set_inferred(m, true); /* a data section, not an amqp-value */
    }
    return m;
}

void wa_message_app(pn_message_t *m, const char *const *kv)
{
    pn_data_t *p = pn_message_properties(m);
    pn_data_clear(p);
    pn_data_put_map(p);
    pn_data_enter(p);
    for (; kv[0] && kv[1]; kv += 2) {
        pn_data_put_string(p, pn_bytes(strlen(kv[0]), kv[0]));
        pn_data_put_string(p, pn_bytes(strlen(kv[1]), kv[1]));
    }
    pn_data_exit(p);
}

void wa_send(wa_t *a, pn_link_t *l, pn_message_t *m, wa_outcome_t *out)
{
    memset(out, 0, sizeof *out);
    char tag[24];
    snprintf(tag, sizeof tag, "t%llu", (unsigned long long)++a->tag);
    pn_delivery_t *d = pn_delivery(l, pn_dtag(tag, strlen(tag)));
    pn_rwbytes_t buf = { 0, NULL };
    ssize_t n = pn_message_encode2(m, &buf);
    if (n <= 0) {
        free(buf.start);
        conf_error(a->c, "the client cannot encode its message");
        return;
    }
    pn_link_send(l, buf.start, (size_t)n);
    pn_link_advance(l);
    free(buf.start);
    wa_pump(a);
    out->state = pn_delivery_remote_state(d);
    pn_condition_t *cond = pn_disposition_condition(pn_delivery_remote(d));
    if (cond && pn_condition_is_set(cond)) {
        const char *name = pn_condition_get_name(cond), *desc = pn_condition_get_description(cond);
        snprintf(out->condition, sizeof out->condition, "%s", name ? name : "");
        snprintf(out->description, sizeof out->description, "%s", desc ? desc : "");
    }
    pn_delivery_settle(d);
    wa_pump(a);
}

wa_rx_t *wa_next(wa_t *a, pn_link_t *l)
{
    wa_pump(a);
    for (size_t i = 0; i < a->nrx; i++)
        if (!a->rx[i].popped && a->rx[i].link == l) {
            a->rx[i].popped = true;
            return &a->rx[i];
        }
    return NULL;
}

void wa_settle(wa_t *a, wa_rx_t *r, uint64_t outcome)
{
    pn_delivery_update(r->d, outcome);
    pn_delivery_settle(r->d);
    wa_pump(a);
}

static bool text_at(pn_data_t *d, const char *key, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
    if (!amqp_map_find(d, key, false))
        return false;
    char *t = amqp_data_text(d);
    if (!t)
        return false;
    snprintf(buf, cap, "%s", t);
    free(t);
    return true;
}

bool wa_app_text(pn_message_t *m, const char *key, char *buf, size_t cap)
{
    return text_at(pn_message_properties(m), key, buf, cap);
}

bool wa_annotation_text(pn_message_t *m, const char *key, char *buf, size_t cap)
{
    return text_at(pn_message_annotations(m), key, buf, cap);
}

void wa_correlation_text(pn_message_t *m, char *buf, size_t cap)
{
    char *t = amqp_atom_text(pn_message_get_correlation_id(m));
    snprintf(buf, cap, "%s", t ? t : "");
    free(t);
}

void wa_body_text(pn_message_t *m, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
    pn_data_t *b = pn_message_body(m);
    pn_data_rewind(b);
    if (!pn_data_next(b))
        return;
    char *t = amqp_data_text(b);
    snprintf(buf, cap, "%s", t ? t : "");
    free(t);
}

/* ---- links ------------------------------------------------------------------------------- */

pn_link_t *wa_sender(wa_t *a, const char *name, const char *address)
{
    pn_link_t *l = pn_sender(a->ssn, name);
    pn_terminus_set_address(pn_link_target(l), address);
    pn_terminus_set_address(pn_link_source(l), name);
    pn_link_open(l);
    wa_pump(a);
    return l;
}

pn_link_t *wa_receiver(wa_t *a, const char *name, const char *address, int credit)
{
    pn_link_t *l = pn_receiver(a->ssn, name);
    pn_terminus_set_address(pn_link_source(l), address);
    pn_terminus_set_address(pn_link_target(l), name);
    pn_link_open(l);
    if (credit)
        pn_link_flow(l, credit);
    wa_pump(a);
    return l;
}

void wa_flow(wa_t *a, pn_link_t *l, int credit)
{
    pn_link_flow(l, credit);
    wa_pump(a);
}

bool wa_link_closed(pn_link_t *l)
{
    return (pn_link_state(l) & PN_REMOTE_CLOSED) != 0;
}

const char *wa_link_condition(pn_link_t *l)
{
    if (!wa_link_closed(l))
        return "";
    const char *n = pn_condition_get_name(pn_link_remote_condition(l));
    return n ? n : "";
}

/* ---- CBS ----------------------------------------------------------------------------------- */

void wa_put_token(wa_t *a, const char *audience, const char *token, wa_cbs_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->status = -1;
    if (!a->cbs_tx) {
        a->cbs_tx = wa_sender(a, "cbs-tx", "$cbs");
        a->cbs_rx = wa_receiver(a, "cbs-rx", "$cbs", 50);
    }
    char id[32];
    snprintf(id, sizeof id, "put-%u", ++a->msgid);
    pn_message_t *m = wa_message(id, NULL, 0);
    pn_message_set_reply_to(m, "cbs");
    pn_message_set_address(m, "$cbs");
    const char *kv[] = { "operation", "put-token", "type", "servicebus.windows.net:sastoken", "name",
                         audience, NULL };
    wa_message_app(m, kv);
    pn_data_put_string(pn_message_body(m), pn_bytes(strlen(token), token));
    wa_outcome_t o;
    wa_send(a, a->cbs_tx, m, &o);
    pn_message_free(m);
    wa_rx_t *r = NULL, *last = NULL;
    while ((r = wa_next(a, a->cbs_rx)) != NULL)
        last = r;
    if (!last)
        return;
    out->answered = true;
    wa_settle(a, last, PN_ACCEPTED);
    pn_data_t *p = pn_message_properties(last->m);
    if (amqp_map_find(p, "status-code", false) && pn_data_type(p) == PN_INT)
        out->status = pn_data_get_int(p);
    wa_correlation_text(last->m, out->correlation, sizeof out->correlation);
    out->correlated = strcmp(out->correlation, id) == 0;
    wa_app_text(last->m, "status-description", out->description, sizeof out->description);
}

bool wa_auth_device(wa_t *a, const char *device_id)
{
    char tok[1024], aud[600];
    if (!conf_token(a->c, CONF_KEY_A, device_id, NULL, a->c->ops->unix_now(a->c->t) + 86400, tok, sizeof tok))
        return false;
    snprintf(aud, sizeof aud, "%s/devices/%s", a->c->ops->host(a->c->t), device_id);
    wa_cbs_reply_t r;
    wa_put_token(a, aud, tok, &r);
    if (r.status != 200)
        return conf_error(a->c, "put-token for %s with a valid token: status-code %d", device_id, r.status);
    return true;
}

bool wa_auth_service(wa_t *a, const char *policy, const char *key)
{
    char tok[1024];
    const char *host = a->c->ops->host(a->c->t);
    if (hub_sas_make(key, host, a->c->ops->unix_now(a->c->t) + 86400, policy, tok, sizeof tok) != HS_EOK)
        return conf_error(a->c, "cannot sign a service token");
    wa_cbs_reply_t r;
    wa_put_token(a, host, tok, &r);
    if (r.status != 200)
        return conf_error(a->c, "put-token for policy %s with a valid token: status-code %d", policy, r.status);
    return true;
}
