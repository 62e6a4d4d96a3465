/* A proton client connection wired in memory to one sans-IO AMQP server session (see amqp_pipe.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/codec.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/sasl.h>
#include <proton/session.h>
#include <proton/terminus.h>
#include <proton/transport.h>

#include "amqp_pipe.h"
#include "serve/amqp/amqp_codec.h"
#include "sim/hub/auth.h"

static void io_write(void *ctx, const void *bytes, size_t len)
{
    amqp_pipe_t *p = ctx;
    if (p->out_len + len > p->out_cap) {
        p->out_cap = (p->out_len + len) * 2;
        p->out = realloc(p->out, p->out_cap);
        assert_non_null(p->out);
    }
    memcpy(p->out + p->out_len, bytes, len);
    p->out_len += len;
}

static void io_close(void *ctx, const char *reason)
{
    amqp_pipe_t *p = ctx;
    p->closes++;
    snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
}

static const wire_io_ops_t io_ops = { io_write, io_close };

static void on_violation(void *ctx, const char *rule, const char *identity, const char *detail)
{
    amqp_pipe_t *p = ctx;
    if (p->n_viol < AP_VIOL_MAX) {
        ap_viol_t *v = &p->viol[p->n_viol++];
        snprintf(v->rule, sizeof v->rule, "%s", rule);
        snprintf(v->identity, sizeof v->identity, "%s", identity);
        snprintf(v->detail, sizeof v->detail, "%s", detail);
    }
}

static const wire_observer_ops_t obs_ops = { on_violation };

void ap_open_server(amqp_pipe_t *p, hub_t *hub, amqp_feeds_t *feeds, const amqp_session_opts_t *opts)
{
    wire_peer_t peer = { .address = "127.0.0.1:5671", .x509_thumbprint = NULL, .tls = false };
    p->s = amqp_session_new(hub, feeds, opts, &peer, &io_ops, p, &obs_ops, p);
    assert_non_null(p->s);
    p->has_client = false;
}

void ap_open(amqp_pipe_t *p, hub_t *hub, amqp_feeds_t *feeds, const ap_open_t *o)
{
    ap_open_server(p, hub, feeds, o->opts);
    p->has_client = true;
    assert_int_equal(pn_connection_driver_init(&p->c, NULL, NULL), 0);
    pn_connection_t *conn = p->c.connection;
    pn_connection_set_container(conn, o->container ? o->container : "test-client");
    pn_connection_set_hostname(conn, o->host);
    if (o->sasl_mechs) {
        pn_sasl_t *sasl = pn_sasl(p->c.transport);
        pn_sasl_set_allow_insecure_mechs(sasl, true);
        pn_sasl_allowed_mechs(sasl, o->sasl_mechs);
        if (o->user)
            pn_connection_set_user(conn, o->user);
        if (o->password)
            pn_connection_set_password(conn, o->password);
    }
    pn_connection_open(conn);
    p->ssn = pn_session(conn);
    pn_session_open(p->ssn);
    ap_pump(p);
}

void ap_close(amqp_pipe_t *p)
{
    for (int i = 0; i < p->n_rx; i++)
        pn_message_free(p->rx[i].m);
    p->n_rx = 0;
    if (p->has_client)
        pn_connection_driver_destroy(&p->c);
    p->has_client = false;
    amqp_session_free(p->s);
    p->s = NULL;
    free(p->out);
    p->out = NULL;
    p->out_len = p->out_cap = 0;
    p->closes = 0;
}

static void client_events(amqp_pipe_t *p)
{
    pn_event_t *e;
    while ((e = pn_connection_driver_next_event(&p->c)) != NULL) {
        if (pn_event_type(e) != PN_DELIVERY)
            continue;
        pn_delivery_t *d = pn_event_delivery(e);
        pn_link_t *l = pn_delivery_link(d);
        if (!pn_link_is_receiver(l) || pn_delivery_partial(d) || !pn_delivery_readable(d))
            continue;
        size_t n = pn_delivery_pending(d);
        char *buf = malloc(n + 1);
        assert_non_null(buf);
        assert_int_equal(pn_link_recv(l, buf, n), (ssize_t)n);
        pn_link_advance(l);
        pn_message_t *m = pn_message();
        assert_int_equal(pn_message_decode(m, buf, n), 0);
        free(buf);
        if (p->accept_received) {
            pn_delivery_update(d, PN_ACCEPTED);
            pn_delivery_settle(d);
            d = NULL;
        }
        assert_true(p->n_rx < AP_RX_MAX);
        p->rx[p->n_rx++] = (ap_rx_t){ l, d, m };
    }
}

void ap_pump(amqp_pipe_t *p)
{
    for (int round = 0; round < 1000; round++) {
        bool moved = false;
        client_events(p);
        pn_bytes_t b = pn_connection_driver_write_buffer(&p->c);
        if (b.size && !amqp_session_closed(p->s)) {
            size_t n = b.size;
            amqp_session_input(p->s, b.start, n);
            pn_connection_driver_write_done(&p->c, n);
            moved = true;
        }
        size_t off = 0;
        while (off < p->out_len) {
            pn_rwbytes_t rb = pn_connection_driver_read_buffer(&p->c);
            if (!rb.size)
                break;
            size_t n = p->out_len - off < rb.size ? p->out_len - off : rb.size;
            memcpy(rb.start, p->out + off, n);
            pn_connection_driver_read_done(&p->c, n);
            off += n;
            moved = true;
        }
        if (off) {
            memmove(p->out, p->out + off, p->out_len - off);
            p->out_len -= off;
        }
        if (p->closes && !pn_connection_driver_read_closed(&p->c) && p->out_len == 0) {
            pn_connection_driver_read_close(&p->c);
            moved = true;
        }
        if (!moved && !pn_connection_driver_has_event(&p->c))
            return;
    }
    fail_msg("pump did not settle");
}

pn_link_t *ap_sender(amqp_pipe_t *p, const char *name, const char *address)
{
    pn_link_t *l = pn_sender(p->ssn, name);
    pn_terminus_set_address(pn_link_target(l), address);
    pn_link_open(l);
    ap_pump(p);
    return l;
}

pn_link_t *ap_receiver(amqp_pipe_t *p, const char *name, const char *address, int credit)
{
    pn_link_t *l = pn_receiver(p->ssn, name);
    pn_terminus_set_address(pn_link_source(l), address);
    pn_link_open(l);
    if (credit)
        pn_link_flow(l, credit);
    ap_pump(p);
    return l;
}

pn_delivery_t *ap_send(amqp_pipe_t *p, pn_link_t *l, pn_message_t *m)
{
    char tag[24];
    snprintf(tag, sizeof tag, "t%llu", (unsigned long long)++p->tag);
    pn_delivery_t *d = pn_delivery(l, pn_dtag(tag, strlen(tag)));
    pn_rwbytes_t buf = { 0, NULL };
    ssize_t n = pn_message_encode2(m, &buf);
    assert_true(n > 0);
    pn_link_send(l, buf.start, (size_t)n);
    pn_link_advance(l);
    free(buf.start);
    ap_pump(p);
    return d;
}

bool ap_refused(pn_link_t *l, const char *condition)
{
    if (!(pn_link_state(l) & PN_REMOTE_CLOSED))
        return false;
    const char *n = pn_condition_get_name(pn_link_remote_condition(l));
    return n && strcmp(n, condition) == 0;
}

void ap_put_app(pn_message_t *m, const char *const *kv)
{
    pn_data_t *d = pn_message_properties(m);
    pn_data_put_map(d);
    pn_data_enter(d);
    for (; kv[0]; kv += 2) {
        pn_data_put_string(d, pn_bytes(strlen(kv[0]), kv[0]));
        pn_data_put_string(d, pn_bytes(strlen(kv[1]), kv[1]));
    }
    pn_data_exit(d);
}

ap_rx_t *ap_last_on(amqp_pipe_t *p, pn_link_t *l)
{
    for (int i = p->n_rx - 1; i >= 0; i--)
        if (p->rx[i].link == l)
            return &p->rx[i];
    return NULL;
}

ap_rx_t *ap_nth_on(amqp_pipe_t *p, pn_link_t *l, int k)
{
    for (int i = 0; i < p->n_rx; i++)
        if (p->rx[i].link == l && k-- == 0)
            return &p->rx[i];
    return NULL;
}

int ap_count_on(const amqp_pipe_t *p, pn_link_t *l)
{
    int n = 0;
    for (int i = 0; i < p->n_rx; i++)
        n += p->rx[i].link == l;
    return n;
}

bool ap_saw(const amqp_pipe_t *p, const char *rule)
{
    for (int i = 0; i < p->n_viol; i++)
        if (strcmp(p->viol[i].rule, rule) == 0)
            return true;
    return false;
}

int ap_status_of(pn_message_t *m)
{
    pn_data_t *d = pn_message_properties(m);
    if (!amqp_map_find(d, "status-code", false) || pn_data_type(d) != PN_INT)
        return -1;
    return pn_data_get_int(d);
}

ap_cbs_t ap_cbs_open(amqp_pipe_t *p)
{
    ap_cbs_t c;
    c.tx = ap_sender(p, "cbs-tx", "$cbs");
    c.rx = ap_receiver(p, "cbs-rx", "$cbs", 10);
    return c;
}

int ap_put_token(amqp_pipe_t *p, ap_cbs_t *c, const char *name, const char *token)
{
    pn_message_t *m = pn_message();
    char id[32];
    snprintf(id, sizeof id, "put-%d", ++p->msgid);
    pn_atom_t mid = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(id), id) };
    pn_message_set_id(m, mid);
    pn_message_set_reply_to(m, "cbs");
    pn_message_set_address(m, "$cbs");
    const char *kv[] = { "operation", "put-token", "type", "servicebus.windows.net:sastoken", "name",
                         name, NULL };
    ap_put_app(m, kv);
    pn_data_put_string(pn_message_body(m), pn_bytes(strlen(token), token));
    pn_delivery_t *d = ap_send(p, c->tx, m);
    pn_message_free(m);
    assert_int_equal(pn_delivery_remote_state(d), PN_ACCEPTED);
    pn_delivery_settle(d);
    ap_rx_t *r = ap_last_on(p, c->rx);
    if (!r)
        return -1;
    char *corr = amqp_atom_text(pn_message_get_correlation_id(r->m));
    int st = corr && strcmp(corr, id) == 0 ? ap_status_of(r->m) : -1;
    free(corr);
    return st;
}

pn_message_t *ap_d2c_msg(const char *id, const char *body)
{
    pn_message_t *m = pn_message();
    pn_atom_t mid = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(id), id) };
    pn_message_set_id(m, mid);
    pn_atom_t cid = { .type = PN_STRING, .u.as_bytes = pn_bytes(4, "corr") };
    pn_message_set_correlation_id(m, cid);
    pn_message_set_content_type(m, "application/json");
    pn_message_set_content_encoding(m, "utf-8");
    const char *kv[] = { "temp", "21", NULL };
    ap_put_app(m, kv);
    pn_data_put_binary(pn_message_body(m), pn_bytes(strlen(body), body));
    pn_message_set_inferred(m, true);
    return m;
}

uint64_t ap_send_d2c(amqp_pipe_t *p, pn_link_t *l, const char *id, const char *body)
{
    pn_message_t *m = ap_d2c_msg(id, body);
    pn_delivery_t *d = ap_send(p, l, m);
    pn_message_free(m);
    uint64_t st = pn_delivery_remote_state(d);
    pn_delivery_settle(d);
    return st;
}

bool ap_peek_cb(void *ctx, const amqp_feed_entry_t *e)
{
    ap_peek_t *pk = ctx;
    pk->n++;
    const char *v = hub_msg_get_app(e->msg, "temp");
    snprintf(pk->app_temp, sizeof pk->app_temp, "%s", v ? v : "");
    v = hub_msg_get_sys(e->msg, HUB_SYS_MESSAGE_ID);
    snprintf(pk->msg_id, sizeof pk->msg_id, "%s", v ? v : "");
    v = hub_msg_get_sys(e->msg, HUB_SYS_CONNECTION_DEVICE_ID);
    snprintf(pk->dev, sizeof pk->dev, "%s", v ? v : "");
    return true;
}

hs_err_t ap_teardown(amqp_pipe_t *p, sim_kernel_t *k, hub_t *hub, amqp_feeds_t *feeds, char *why, size_t cap)
{
    ap_close(p);
    why[0] = '\0';
    hs_err_t ck = hub_check(hub, why, cap);
    amqp_feeds_free(feeds);
    hub_free(hub);
    sim_kernel_free(k);
    return ck;
}

void ap_device_token(const char *host, const char *dev, const char *key, int64_t expiry, char *out,
                     size_t cap)
{
    char res[300];
    snprintf(res, sizeof res, "%s/devices/%s", host, dev);
    assert_int_equal(hub_sas_make(key, res, expiry, NULL, out, cap), HS_EOK);
}
