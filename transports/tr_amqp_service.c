/* The service AMQP client: a proton client driver fed from a tr_stream, CBS put-token, the C2D sender and the feedback receiver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/connection_driver.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/message.h>
#include <proton/session.h>
#include <proton/terminus.h>
#include <proton/transport.h>

#include "serve/amqp/amqp_codec.h" /* amqp_map_find, amqp_data_text, amqp_atom_text */
#include "sim/hub/auth.h"
#include "transports/tr_amqp_service.h"
#include "transports/tr_stream.h"

#define FB_MAX 256 /* feedback messages held before the owner pops them */

typedef struct {
    char *body;
    size_t len;
} fb_msg_t;

struct tr_amqp_svc {
    tr_loop_t *loop;
    tr_stream_t *st;
    pn_connection_driver_t drv;
    bool drv_ok;
    bool failed;
    char why[512];
    pn_session_t *ssn;
    pn_link_t *cbs_tx, *cbs_rx, *c2d, *fb;
    /* the CBS reply we wait for */
    char cbs_id[40];
    bool cbs_answered;
    int cbs_status;
    char cbs_desc[256];
    fb_msg_t fbq[FB_MAX];
    size_t n_fb;
    uint64_t tag;
};

static void fail(tr_amqp_svc_t *s, const char *why)
{
    if (s->failed)
        return;
    s->failed = true;
    snprintf(s->why, sizeof s->why, "%s", why && *why ? why : "the hub closed the AMQP connection");
}

/* Decode a complete incoming delivery into a new message (NULL when not one). */
static pn_message_t *recv_message(pn_link_t *l, pn_delivery_t *d)
{
    size_t n = pn_delivery_pending(d);
    char *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    ssize_t got = pn_link_recv(l, buf, n);
    pn_message_t *m = pn_message();
    if (!m)
        abort();
    if (got != (ssize_t)n || pn_message_decode(m, buf, n) != 0) {
        pn_message_free(m);
        m = NULL;
    }
    free(buf);
    return m;
}

static void on_cbs_reply(tr_amqp_svc_t *s, pn_message_t *m)
{
    char *corr = amqp_atom_text(pn_message_get_correlation_id(m));
    bool ours = corr && strcmp(corr, s->cbs_id) == 0;
    free(corr);
    if (!ours)
        return;
    s->cbs_answered = true;
    s->cbs_status = -1;
    pn_data_t *p = pn_message_properties(m);
    if (amqp_map_find(p, "status-code", false) && pn_data_type(p) == PN_INT)
        s->cbs_status = pn_data_get_int(p);
    s->cbs_desc[0] = '\0';
    if (amqp_map_find(p, "status-description", false)) {
        char *t = amqp_data_text(p);
        snprintf(s->cbs_desc, sizeof s->cbs_desc, "%s", t ? t : "");
        free(t);
    }
}

static void on_feedback(tr_amqp_svc_t *s, pn_message_t *m)
{
    if (s->n_fb == FB_MAX)
        return; /* not accepted: the hub keeps it */
    pn_data_t *b = pn_message_body(m);
    pn_data_rewind(b);
    char *t = pn_data_next(b) ? amqp_data_text(b) : NULL;
    s->fbq[s->n_fb].body = t ? t : strdup("");
    if (!s->fbq[s->n_fb].body)
        abort();
    s->fbq[s->n_fb].len = strlen(s->fbq[s->n_fb].body);
    s->n_fb++;
}

static void dispatch(tr_amqp_svc_t *s)
{
    pn_event_t *e;
    while ((e = pn_connection_driver_next_event(&s->drv)) != NULL) {
        switch (pn_event_type(e)) {
        case PN_DELIVERY: {
            pn_delivery_t *d = pn_event_delivery(e);
            pn_link_t *l = pn_delivery_link(d);
            if (!pn_link_is_receiver(l) || pn_delivery_partial(d) || !pn_delivery_readable(d))
                break;
            pn_message_t *m = recv_message(l, d);
            pn_link_advance(l);
            if (l == s->fb && m && s->n_fb < FB_MAX) {
                on_feedback(s, m);
                pn_delivery_update(d, PN_ACCEPTED);
                pn_delivery_settle(d);
                pn_link_flow(l, 1);
            } else if (l == s->fb) {
                pn_delivery_update(d, PN_RELEASED);
                pn_delivery_settle(d);
            } else {
                if (l == s->cbs_rx && m)
                    on_cbs_reply(s, m);
                pn_delivery_update(d, PN_ACCEPTED);
                pn_delivery_settle(d);
                pn_link_flow(l, 1);
            }
            pn_message_free(m);
            break;
        }
        case PN_TRANSPORT_ERROR: {
            pn_condition_t *c = pn_transport_condition(pn_event_transport(e));
            char w[400];
            snprintf(w, sizeof w, "AMQP transport error: %s: %s", pn_condition_get_name(c) ?: "",
                     pn_condition_get_description(c) ?: "");
            fail(s, w);
            break;
        }
        case PN_CONNECTION_REMOTE_CLOSE: {
            pn_condition_t *c = pn_connection_remote_condition(pn_event_connection(e));
            char w[400];
            snprintf(w, sizeof w, "the hub closed the AMQP connection%s%s%s%s",
                     pn_condition_is_set(c) ? ": " : "", pn_condition_get_name(c) ?: "",
                     pn_condition_is_set(c) ? " " : "", pn_condition_get_description(c) ?: "");
            fail(s, w);
            break;
        }
        default:
            break;
        }
    }
}

/* Hand proton's output to the stream. */
static void flush(tr_amqp_svc_t *s)
{
    if (!s->drv_ok)
        return;
    for (int i = 0; i < 64; i++) {
        dispatch(s);
        pn_bytes_t b = pn_connection_driver_write_buffer(&s->drv);
        if (!b.size)
            return;
        /* before the stream is open (or known: *out is set after connect
         * returns) the bytes stay in proton's buffer */
        if (!s->st || tr_stream_state(s->st) != TR_STREAM_OPEN) {
            if (s->st)
                pn_connection_driver_write_done(&s->drv, b.size); /* closed: nobody will read them */
            return;
        }
        tr_stream_write(s->st, b.start, b.size);
        pn_connection_driver_write_done(&s->drv, b.size);
    }
}

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    tr_amqp_svc_t *s = ctx;
    while (n && s->drv_ok) {
        pn_rwbytes_t rb = pn_connection_driver_read_buffer(&s->drv);
        if (!rb.size) {
            fail(s, "the AMQP client stopped reading (the connection is closing)");
            return;
        }
        size_t k = n < rb.size ? n : rb.size;
        memcpy(rb.start, p, k);
        pn_connection_driver_read_done(&s->drv, k);
        p += k;
        n -= k;
        flush(s);
    }
}

static void on_opened(void *ctx)
{
    flush(ctx);
}

static void on_closed(void *ctx, const char *why)
{
    tr_amqp_svc_t *s = ctx;
    char w[512];
    snprintf(w, sizeof w, "the AMQP connection ended: %s", why && *why ? why : "closed by the hub");
    fail(s, w);
    if (s->drv_ok)
        pn_connection_driver_close(&s->drv);
}

static bool cbs_done(void *arg)
{
    tr_amqp_svc_t *s = arg;
    return s->failed || s->cbs_answered;
}

typedef struct {
    tr_amqp_svc_t *s;
    pn_link_t *l;
} link_wait_t;

static bool link_attached(void *arg)
{
    link_wait_t *w = arg;
    return w->s->failed || (pn_link_state(w->l) & (PN_REMOTE_ACTIVE | PN_REMOTE_CLOSED)) != 0;
}

/* Wait for the hub's attach of l: HS_EIO with why when refused or not in time. */
static hs_err_t wait_attach(tr_amqp_svc_t *s, pn_link_t *l, const char *what, int64_t ms, char *why, size_t cap)
{
    link_wait_t w = { s, l };
    flush(s);
    tr_loop_wait(s->loop, link_attached, &w, ms);
    if (s->failed) {
        snprintf(why, cap, "%s", s->why);
        return HS_EIO;
    }
    if (pn_link_state(l) & PN_REMOTE_CLOSED) {
        pn_condition_t *c = pn_link_remote_condition(l);
        snprintf(why, cap, "the hub refused the %s link: %s %s", what, pn_condition_get_name(c) ?: "",
                 pn_condition_get_description(c) ?: "");
        return HS_EIO;
    }
    if (!(pn_link_state(l) & PN_REMOTE_ACTIVE)) {
        snprintf(why, cap, "the hub did not attach the %s link within %lld ms", what, (long long)ms);
        return HS_EIO;
    }
    return HS_EOK;
}

static pn_link_t *link_new(tr_amqp_svc_t *s, bool sender, const char *name, const char *address)
{
    pn_link_t *l = sender ? pn_sender(s->ssn, name) : pn_receiver(s->ssn, name);
    pn_terminus_set_address(sender ? pn_link_target(l) : pn_link_source(l), address);
    pn_terminus_set_address(sender ? pn_link_source(l) : pn_link_target(l), name);
    pn_link_open(l);
    return l;
}

static ssize_t encode(pn_message_t *m, pn_rwbytes_t *buf)
{
    buf->start = NULL;
    buf->size = 0;
    return pn_message_encode2(m, buf);
}

static pn_delivery_t *send_message(tr_amqp_svc_t *s, pn_link_t *l, pn_message_t *m)
{
    char tag[24];
    snprintf(tag, sizeof tag, "t%llu", (unsigned long long)++s->tag);
    pn_rwbytes_t buf;
    ssize_t n = encode(m, &buf);
    if (n <= 0) {
        free(buf.start);
        return NULL;
    }
    pn_delivery_t *d = pn_delivery(l, pn_dtag(tag, strlen(tag)));
    pn_link_send(l, buf.start, (size_t)n);
    pn_link_advance(l);
    free(buf.start);
    flush(s);
    return d;
}

static void put_string(pn_data_t *d, const char *v)
{
    pn_data_put_string(d, pn_bytes(strlen(v), v));
}

static hs_err_t put_token(tr_amqp_svc_t *s, const tr_amqp_svc_opts_t *o, int64_t ms, char *why, size_t cap)
{
    char tok[1024];
    /* transports run in wall time: the token's expiry is real */
    if (hub_sas_make(o->key, o->host_name, (int64_t)time(NULL) + 3600, o->key_name, tok, sizeof tok) != HS_EOK) {
        snprintf(why, cap, "cannot sign a service token with SharedAccessKey (not base64?)");
        return HS_EINVAL;
    }
    s->cbs_tx = link_new(s, true, "cbs-tx", "$cbs");
    s->cbs_rx = link_new(s, false, "cbs-rx", "$cbs");
    pn_link_flow(s->cbs_rx, 10);
    hs_err_t e;
    if ((e = wait_attach(s, s->cbs_tx, "$cbs sender", ms, why, cap)) != HS_EOK ||
        (e = wait_attach(s, s->cbs_rx, "$cbs receiver", ms, why, cap)) != HS_EOK)
        return e;
    snprintf(s->cbs_id, sizeof s->cbs_id, "put-token-%llu", (unsigned long long)++s->tag);
    pn_message_t *m = pn_message();
    if (!m)
        abort();
    pn_atom_t id = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(s->cbs_id), s->cbs_id) };
    pn_message_set_id(m, id);
    pn_message_set_address(m, "$cbs");
    pn_message_set_reply_to(m, "cbs");
    pn_data_t *p = pn_message_properties(m);
    pn_data_put_map(p);
    pn_data_enter(p);
    put_string(p, "operation");
    put_string(p, "put-token");
    put_string(p, "type");
    put_string(p, "servicebus.windows.net:sastoken");
    put_string(p, "name");
    put_string(p, o->host_name);
    pn_data_exit(p);
    put_string(pn_message_body(m), tok); /* an amqp-value string, as the SDK sends it */
    pn_delivery_t *d = send_message(s, s->cbs_tx, m);
    pn_message_free(m);
    if (!d) {
        snprintf(why, cap, "cannot encode the put-token message");
        return HS_EIO;
    }
    pn_delivery_settle(d);
    tr_loop_wait(s->loop, cbs_done, s, ms);
    if (s->failed) {
        snprintf(why, cap, "%s", s->why);
        return HS_EIO;
    }
    if (!s->cbs_answered) {
        snprintf(why, cap, "no put-token reply within %lld ms", (long long)ms);
        return HS_EIO;
    }
    if (s->cbs_status != 200) {
        snprintf(why, cap, "put-token for policy %s answered %d: %s", o->key_name, s->cbs_status, s->cbs_desc);
        return HS_EIO;
    }
    return HS_EOK;
}

hs_err_t tr_amqp_svc_open(tr_loop_t *l, tr_tls_t *tls, const tr_amqp_svc_opts_t *o, int64_t timeout_ms,
                          tr_amqp_svc_t **out, char *why, size_t cap)
{
    *out = NULL;
    tr_amqp_svc_t *s = calloc(1, sizeof *s);
    if (!s)
        return HS_ENOMEM;
    s->loop = l;
    if (pn_connection_driver_init(&s->drv, NULL, NULL) != 0) {
        free(s);
        snprintf(why, cap, "cannot create a proton client driver");
        return HS_ENOMEM;
    }
    s->drv_ok = true;
    pn_connection_t *conn = s->drv.connection;
    pn_connection_set_container(conn, "hubsim-live-service");
    pn_connection_set_hostname(conn, o->host_name);
    pn_connection_open(conn);
    s->ssn = pn_session(conn);
    pn_session_open(s->ssn);
    static const tr_stream_cb_t cb = { .opened = on_opened, .data = on_data, .closed = on_closed };
    char w[512];
    hs_err_t e = tr_stream_connect(l, tls, o->connect_host, o->port, o->host_name, &cb, s, timeout_ms, &s->st, w,
                                   sizeof w);
    if (e != HS_EOK) {
        snprintf(why, cap, "AMQP endpoint %s:%d: %s", o->connect_host, o->port, w);
        tr_amqp_svc_free(s);
        return HS_EIO;
    }
    flush(s);
    if ((e = put_token(s, o, timeout_ms, why, cap)) != HS_EOK) {
        tr_amqp_svc_free(s);
        return e;
    }
    s->c2d = link_new(s, true, "c2d-sender", "/messages/devicebound");
    if ((e = wait_attach(s, s->c2d, "C2D sender", timeout_ms, why, cap)) != HS_EOK) {
        tr_amqp_svc_free(s);
        return e;
    }
    *out = s;
    return HS_EOK;
}

void tr_amqp_svc_free(tr_amqp_svc_t *s)
{
    if (!s)
        return;
    if (s->drv_ok && s->st && tr_stream_state(s->st) == TR_STREAM_OPEN && !s->failed) {
        pn_connection_close(s->drv.connection);
        flush(s);
        tr_loop_wait(s->loop, NULL, NULL, 0); /* hand the close to the kernel, best effort */
    }
    tr_stream_free(s->st);
    if (s->drv_ok)
        pn_connection_driver_destroy(&s->drv);
    for (size_t i = 0; i < s->n_fb; i++)
        free(s->fbq[i].body);
    free(s);
}

bool tr_amqp_svc_is_open(const tr_amqp_svc_t *s)
{
    return s && !s->failed;
}

const char *tr_amqp_svc_why(const tr_amqp_svc_t *s)
{
    return s && s->failed ? s->why : "";
}

/* ---- C2D ----------------------------------------------------------------------------- */

static void set_id(pn_message_t *m, const char *v, bool corr)
{
    pn_atom_t a = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(v), v) };
    if (corr)
        pn_message_set_correlation_id(m, a);
    else
        pn_message_set_id(m, a);
}

static pn_message_t *c2d_message(const tr_amqp_c2d_t *c, char *why, size_t cap)
{
    char enc[800], to[900];
    if (hub_url_encode(c->device_id, enc, sizeof enc) != HS_EOK) {
        snprintf(why, cap, "device id too long");
        return NULL;
    }
    snprintf(to, sizeof to, "/devices/%s/messages/devicebound", enc);
    pn_message_t *m = pn_message();
    if (!m)
        abort();
    pn_message_set_address(m, to);
    if (c->message_id)
        set_id(m, c->message_id, false);
    if (c->correlation_id)
        set_id(m, c->correlation_id, true);
    if (c->user_id)
        pn_message_set_user_id(m, pn_bytes(strlen(c->user_id), c->user_id));
    if (c->content_type)
        pn_message_set_content_type(m, c->content_type);
    if (c->content_encoding)
        pn_message_set_content_encoding(m, c->content_encoding);
    if (c->ttl_ms)
        pn_message_set_ttl(m, c->ttl_ms);
    if (c->ack || c->n_app) {
        pn_data_t *p = pn_message_properties(m);
        pn_data_put_map(p);
        pn_data_enter(p);
        if (c->ack) {
            put_string(p, "iothub-ack");
            put_string(p, c->ack);
        }
        for (size_t i = 0; i < c->n_app; i++) {
            put_string(p, c->app[i].name);
            put_string(p, c->app[i].value ? c->app[i].value : "");
        }
        pn_data_exit(p);
    }
    /* a data section, what the SDK sends */
    pn_data_put_binary(pn_message_body(m), pn_bytes(c->body_len, c->body_len ? c->body : ""));
    pn_message_set_inferred(m, true);
    return m;
}

typedef struct {
    tr_amqp_svc_t *s;
    pn_delivery_t *d;
} disp_wait_t;

static bool disposition_in(void *arg)
{
    disp_wait_t *w = arg;
    return w->s->failed || pn_delivery_remote_state(w->d) != 0 || pn_delivery_settled(w->d) ||
           (pn_link_state(w->s->c2d) & PN_REMOTE_CLOSED);
}

hs_err_t tr_amqp_svc_c2d_send(tr_amqp_svc_t *s, const tr_amqp_c2d_t *c, int64_t timeout_ms,
                              tr_amqp_outcome_t *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (s->failed) {
        snprintf(why, cap, "%s", s->why);
        return HS_EIO;
    }
    pn_message_t *m = c2d_message(c, why, cap);
    if (!m)
        return HS_EINVAL;
    pn_delivery_t *d = send_message(s, s->c2d, m);
    pn_message_free(m);
    if (!d) {
        snprintf(why, cap, "cannot encode the C2D message");
        return HS_EIO;
    }
    disp_wait_t w = { s, d };
    tr_loop_wait(s->loop, disposition_in, &w, timeout_ms);
    uint64_t state = pn_delivery_remote_state(d);
    hs_err_t e = HS_EOK;
    if (state == PN_ACCEPTED) {
        out->accepted = true;
    } else if (state == PN_REJECTED || state == PN_RELEASED || state == PN_MODIFIED) {
        out->rejected = true;
        pn_condition_t *cond = pn_disposition_condition(pn_delivery_remote(d));
        if (cond && pn_condition_is_set(cond)) {
            snprintf(out->condition, sizeof out->condition, "%s", pn_condition_get_name(cond) ?: "");
            snprintf(out->description, sizeof out->description, "%s", pn_condition_get_description(cond) ?: "");
        }
    } else if (s->failed) {
        snprintf(why, cap, "%s", s->why);
        e = HS_EIO;
    } else if (pn_link_state(s->c2d) & PN_REMOTE_CLOSED) {
        pn_condition_t *lc = pn_link_remote_condition(s->c2d);
        snprintf(why, cap, "the hub detached the C2D sender: %s %s", pn_condition_get_name(lc) ?: "",
                 pn_condition_get_description(lc) ?: "");
        e = HS_EIO;
    } else {
        snprintf(why, cap, "no disposition for the C2D message within %lld ms", (long long)timeout_ms);
        e = HS_EIO;
    }
    pn_delivery_settle(d);
    flush(s);
    return e;
}

/* ---- feedback ------------------------------------------------------------------------- */

hs_err_t tr_amqp_svc_feedback_attach(tr_amqp_svc_t *s, int credit, int64_t timeout_ms, char *why, size_t cap)
{
    if (s->fb)
        return HS_EOK;
    if (s->failed) {
        snprintf(why, cap, "%s", s->why);
        return HS_EIO;
    }
    s->fb = link_new(s, false, "feedback-receiver", "/messages/serviceBound/feedback");
    pn_link_flow(s->fb, credit);
    return wait_attach(s, s->fb, "feedback receiver", timeout_ms, why, cap);
}

static bool fb_queued(void *arg)
{
    tr_amqp_svc_t *s = arg;
    return s->failed || s->n_fb > 0;
}

bool tr_amqp_svc_feedback_next(tr_amqp_svc_t *s, int64_t timeout_ms, char **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    if (!s->n_fb)
        tr_loop_wait(s->loop, fb_queued, s, timeout_ms);
    if (!s->n_fb)
        return false;
    *body = s->fbq[0].body;
    *len = s->fbq[0].len;
    memmove(&s->fbq[0], &s->fbq[1], (s->n_fb - 1) * sizeof s->fbq[0]);
    s->n_fb--;
    return true;
}
