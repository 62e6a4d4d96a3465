/* Device client over AMQP 1.0 (proton connection driver on tr_stream): CBS put-token and renewal, D2C sender, C2D receiver, method and twin links, conditions -> hub codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
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
#include "transports/tr_device_impl.h"
#include "transports/tr_stream.h"

#define C2D_CREDIT 10
#define METHOD_CREDIT 10
#define TWIN_CREDIT 10

/* link roles, stored as the link's context */
typedef enum { L_CBS_TX = 1, L_CBS_RX, L_D2C, L_C2D, L_METH_RX, L_METH_TX, L_TWIN_TX, L_TWIN_RX } role_t;

typedef struct {
    uint64_t id;
    pn_delivery_t *dlv;
} c2d_lock_t;

/* One subscribe call waiting for its parts (links attached, desired PUT answered). */
typedef struct {
    uint64_t call;
    unsigned subs, left;
} sub_call_t;

typedef struct {
    tr_stream_t *st;
    pn_connection_driver_t drv;
    bool drv_ok;
    pn_session_t *ssn;
    pn_link_t *cbs_tx, *cbs_rx, *d2c, *c2d, *meth_rx, *meth_tx, *twin_tx, *twin_rx;
    uint64_t next; /* message ids, delivery tags, locks, calls */
    char cbs_id[32];
    bool authed;
    bool in_dispatch;
    int64_t token_expiry;  /* unix s; 0 = a given token (no renewal) */
    struct event *renew;   /* put-token again before the token ends */
    char desired_rid[32];  /* the PUT /notifications/... request in flight */
    c2d_lock_t *locks;
    size_t n_locks, cap_locks;
    sub_call_t *calls;
    size_t n_calls, cap_calls;
    unsigned have;         /* subscription parts in place */
} aq_t;

static aq_t *aq(const tr_device_t *d)
{
    return d->proto;
}

/* ---- codes ---------------------------------------------------------------- */

/* AMQP error condition -> hub code, for descriptions without "ErrorCode:"
 * (serve/amqp's AMQP_CONDITION_MAP read backwards, one row per condition:
 * where several hub errors share a condition, the most common one). */
static const struct {
    const char *condition;
    int code;
} cond_codes[] = {
    { "amqp:unauthorized-access", 401002 },
    { "com.microsoft:device-container-throttled", 429001 },
    { "com.microsoft:quota-exceeded", 403002 },
    { "amqp:resource-limit-exceeded", 403004 },
    { "amqp:not-found", 404001 },
    { "com.microsoft:precondition-failed", 412001 },
    { "com.microsoft:message-lock-lost", 412002 },
    { "amqp:link:message-size-exceeded", 413001 },
    { "com.microsoft:argument-error", 400004 },
    { "com.microsoft:device-already-exists", 409001 },
    { "amqp:link:stolen", 400027 },
    { "amqp:internal-error", 500001 },
    { "com.microsoft:timeout", 504101 },
};

/* An AMQP error condition -> a result: "ErrorCode:Name;" in the
 * description first, else the condition's row above, else -1. */
static tr_device_result_t cond_result(pn_condition_t *c, const char *what, char *why, size_t cap)
{
    const char *name = c && pn_condition_is_set(c) ? pn_condition_get_name(c) : NULL;
    const char *desc = c && pn_condition_is_set(c) ? pn_condition_get_description(c) : NULL;
    snprintf(why, cap, "%s: %s%s%s", what, name ? name : "no condition", desc ? " " : "", desc ? desc : "");
    int code = desc && strstr(desc, "ErrorCode:") ? tr_dev_code_for(0, desc) : -1;
    for (size_t i = 0; code < 0 && name && i < sizeof cond_codes / sizeof cond_codes[0]; i++)
        if (strcmp(cond_codes[i].condition, name) == 0)
            code = cond_codes[i].code;
    int status = code > 0 ? code / 1000 : 0;
    return tr_dev_fail(code, status, why);
}

/* ---- bytes between proton and the stream ---------------------------------- */

static void dispatch(tr_device_t *d);

static void flush(tr_device_t *d)
{
    aq_t *a = aq(d);
    if (!a->drv_ok)
        return;
    for (int i = 0; i < 64 && !d->free_pending && d->proto; i++) {
        dispatch(d);
        if (!d->proto)
            return;
        pn_bytes_t b = pn_connection_driver_write_buffer(&a->drv);
        if (!b.size)
            return;
        if (!a->st || tr_stream_state(a->st) != TR_STREAM_OPEN) {
            if (a->st && tr_stream_state(a->st) == TR_STREAM_CLOSED)
                pn_connection_driver_write_done(&a->drv, b.size); /* nobody will read them */
            return;
        }
        tr_stream_write(a->st, b.start, b.size);
        pn_connection_driver_write_done(&a->drv, b.size);
    }
}

/* Hand proton's output to the stream without dispatching events: what the
 * operations use, so no callback runs inside the caller's call. */
static void write_out(tr_device_t *d)
{
    aq_t *a = aq(d);
    if (!a->drv_ok || !a->st || tr_stream_state(a->st) != TR_STREAM_OPEN)
        return; /* before the stream opens the bytes wait in proton; on_opened flushes them */
    for (int i = 0; i < 64; i++) {
        pn_bytes_t b = pn_connection_driver_write_buffer(&a->drv);
        if (!b.size)
            return;
        tr_stream_write(a->st, b.start, b.size);
        pn_connection_driver_write_done(&a->drv, b.size);
    }
}

static void end_with(tr_device_t *d, tr_device_result_t r)
{
    aq_t *a = aq(d);
    event_del(a->renew);
    if (a->drv_ok && !d->ended)
        pn_connection_close(a->drv.connection);
    tr_dev_ended(d, r);
}

/* ---- links and messages ---------------------------------------------------- */

static pn_link_t *link_new(tr_device_t *d, role_t role, bool sender, const char *name, const char *address)
{
    aq_t *a = aq(d);
    pn_link_t *l = sender ? pn_sender(a->ssn, name) : pn_receiver(a->ssn, name);
    pn_terminus_set_address(sender ? pn_link_target(l) : pn_link_source(l), address);
    pn_terminus_set_address(sender ? pn_link_source(l) : pn_link_target(l), name);
    pn_link_set_context(l, (void *)(uintptr_t)role);
    pn_link_open(l);
    return l;
}

static role_t role_of(pn_link_t *l)
{
    return (role_t)(uintptr_t)pn_link_get_context(l);
}

static void identity_path(const tr_device_t *d, const char *suffix, char *out, size_t cap)
{
    char ed[400], em[400];
    hub_url_encode(d->device_id, ed, sizeof ed);
    if (d->module_id) {
        hub_url_encode(d->module_id, em, sizeof em);
        snprintf(out, cap, "/devices/%s/modules/%s%s", ed, em, suffix);
    } else {
        snprintf(out, cap, "/devices/%s%s", ed, suffix);
    }
}

static pn_delivery_t *send_msg(tr_device_t *d, pn_link_t *l, pn_message_t *m)
{
    aq_t *a = aq(d);
    char tag[24];
    snprintf(tag, sizeof tag, "t%llu", (unsigned long long)++a->next);
    pn_rwbytes_t buf = { 0, NULL };
    ssize_t n = pn_message_encode2(m, &buf);
    if (n <= 0) {
        free(buf.start);
        return NULL;
    }
    pn_delivery_t *dl = pn_delivery(l, pn_dtag(tag, strlen(tag)));
    pn_link_send(l, buf.start, (size_t)n);
    pn_link_advance(l);
    free(buf.start);
    return dl;
}

static void put_str(pn_data_t *p, const char *v)
{
    pn_data_put_string(p, pn_bytes(strlen(v), v));
}

static void put_sym(pn_data_t *p, const char *v)
{
    pn_data_put_symbol(p, pn_bytes(strlen(v), v));
}

static void set_string_id(pn_message_t *m, const char *v, bool corr)
{
    pn_atom_t at = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(v), v) };
    if (corr)
        pn_message_set_correlation_id(m, at);
    else
        pn_message_set_id(m, at);
}

static pn_message_t *recv_msg(pn_link_t *l, pn_delivery_t *dl)
{
    size_t n = pn_delivery_pending(dl);
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    ssize_t got = pn_link_recv(l, buf, n);
    pn_message_t *m = pn_message();
    if (m && (got != (ssize_t)n || pn_message_decode(m, buf, n) != 0)) {
        pn_message_free(m);
        m = NULL;
    }
    free(buf);
    return m;
}

/* The body as bytes (data section, amqp-value string or binary). */
static pn_bytes_t body_of(pn_message_t *m)
{
    pn_data_t *b = pn_message_body(m);
    pn_data_rewind(b);
    if (!pn_data_next(b))
        return pn_bytes(0, NULL);
    if (pn_data_type(b) == PN_BINARY)
        return pn_data_get_binary(b);
    if (pn_data_type(b) == PN_STRING)
        return pn_data_get_string(b);
    return pn_bytes(0, NULL);
}

static int64_t annotation_int(pn_message_t *m, const char *key, int64_t dflt)
{
    pn_data_t *an = pn_message_annotations(m);
    pn_data_rewind(an);
    if (!pn_data_next(an) || !amqp_map_find(an, key, false))
        return dflt;
    switch (pn_data_type(an)) {
    case PN_INT: return pn_data_get_int(an);
    case PN_LONG: return pn_data_get_long(an);
    case PN_UINT: return pn_data_get_uint(an);
    case PN_ULONG: return (int64_t)pn_data_get_ulong(an);
    default: {
        char *t = amqp_data_text(an);
        int64_t v = t ? strtoll(t, NULL, 10) : dflt;
        free(t);
        return v;
    }
    }
}

/* ---- CBS ------------------------------------------------------------------- */

static void put_token(tr_device_t *d)
{
    aq_t *a = aq(d);
    char tok[1024], why[200], sr[600];
    if (tr_dev_token(d, tok, sizeof tok, &a->token_expiry, why, sizeof why) != HS_EOK)
        return; /* checked at open */
    tr_dev_resource(d, sr, sizeof sr);
    snprintf(a->cbs_id, sizeof a->cbs_id, "cbs-%llu", (unsigned long long)++a->next);
    pn_message_t *m = pn_message();
    if (!m)
        return;
    set_string_id(m, a->cbs_id, false);
    pn_message_set_address(m, "$cbs");
    pn_message_set_reply_to(m, "cbs");
    pn_data_t *p = pn_message_properties(m);
    pn_data_put_map(p);
    pn_data_enter(p);
    put_str(p, "operation");
    put_str(p, "put-token");
    put_str(p, "type");
    put_str(p, "azure-devices.net:sastoken");
    put_str(p, "name");
    put_str(p, sr);
    pn_data_exit(p);
    put_str(pn_message_body(m), tok);
    send_msg(d, a->cbs_tx, m); /* settled when the hub settles it (proton drops an unsent settled delivery) */
    pn_message_free(m);
}

static void arm_renewal(tr_device_t *d)
{
    aq_t *a = aq(d);
    if (!a->token_expiry)
        return;
    /* renew when four fifths of the lifetime have passed */
    int64_t left = a->token_expiry - (int64_t)time(NULL);
    int64_t in = left - d->sas_ttl_s / 5;
    struct timeval tv = { (time_t)(in > 1 ? in : 1), 0 };
    event_add(a->renew, &tv);
}

static void on_renew(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tr_device_t *d = arg;
    if (!d->up)
        return;
    put_token(d);
    flush(d);
}

static void on_cbs_reply(tr_device_t *d, pn_message_t *m)
{
    aq_t *a = aq(d);
    char *corr = amqp_atom_text(pn_message_get_correlation_id(m));
    bool ours = corr && strcmp(corr, a->cbs_id) == 0;
    free(corr);
    if (!ours)
        return;
    pn_data_t *p = pn_message_properties(m);
    int status = -1;
    pn_data_rewind(p);
    if (pn_data_next(p) && amqp_map_find(p, "status-code", false)) {
        char *t = amqp_data_text(p);
        status = t ? atoi(t) : -1;
        free(t);
    }
    char desc[300] = "";
    pn_data_rewind(p);
    if (pn_data_next(p) && amqp_map_find(p, "status-description", false)) {
        char *t = amqp_data_text(p);
        snprintf(desc, sizeof desc, "%s", t ? t : "");
        free(t);
    }
    if (status == 200) {
        arm_renewal(d);
        if (!a->authed) {
            a->authed = true;
            char addr[900];
            identity_path(d, "/messages/events", addr, sizeof addr);
            a->d2c = link_new(d, L_D2C, true, "d2c", addr);
            tr_dev_connected(d);
        }
        return;
    }
    char why[500];
    snprintf(why, sizeof why, "put-token answered %d: %s", status, desc);
    end_with(d, tr_dev_fail(tr_dev_code_for(status, desc), status > 0 ? status : 0, why));
}

/* ---- subscriptions ----------------------------------------------------------- */

static void sub_part_done(tr_device_t *d, unsigned part, tr_device_result_t r)
{
    aq_t *a = aq(d);
    if (r.code == 0)
        a->have |= part;
    size_t i = 0;
    while (i < a->n_calls) {
        sub_call_t *c = &a->calls[i];
        if (!(c->left & part)) {
            i++;
            continue;
        }
        c->left &= ~part;
        if (c->left && r.code == 0) {
            i++;
            continue;
        }
        sub_call_t done = *c;
        a->calls[i] = a->calls[--a->n_calls];
        if (tr_dev_op_take(d, TR_OP_SUBSCRIBE, done.call, NULL))
            tr_dev_emit(d, TR_OP_SUBSCRIBE, done.subs, 0, r);
        if (!d->proto || d->free_pending)
            return;
    }
}

static void twin_request(tr_device_t *d, const char *op, const char *resource, const char *rid, const char *body,
                         size_t len)
{
    aq_t *a = aq(d);
    pn_message_t *m = pn_message();
    if (!m)
        return;
    set_string_id(m, rid, true);
    pn_data_t *an = pn_message_annotations(m);
    pn_data_put_map(an);
    pn_data_enter(an);
    put_sym(an, "operation");
    put_str(an, op);
    put_sym(an, "resource");
    put_str(an, resource);
    pn_data_exit(an);
    if (body) {
        pn_data_put_binary(pn_message_body(m), pn_bytes(len, body));
        pn_message_set_inferred(m, true);
    }
    send_msg(d, a->twin_tx, m); /* the outcome comes as a response message */
    pn_message_free(m);
}

static void twin_links(tr_device_t *d)
{
    aq_t *a = aq(d);
    if (a->twin_tx)
        return;
    char addr[900];
    identity_path(d, "/twin", addr, sizeof addr);
    a->twin_tx = link_new(d, L_TWIN_TX, true, "twin-tx", addr);
    a->twin_rx = link_new(d, L_TWIN_RX, false, "twin-rx", addr);
    pn_link_flow(a->twin_rx, TWIN_CREDIT);
}

/* A link became active: the parts of subscriptions it completes. */
static void on_link_up(tr_device_t *d, pn_link_t *l)
{
    aq_t *a = aq(d);
    if (pn_link_state(l) & PN_REMOTE_CLOSED)
        return; /* serve refuses a link with an attach and a detach in one go: the detach tells */
    switch (role_of(l)) {
    case L_C2D:
        sub_part_done(d, TR_DEV_SUB_C2D, tr_dev_ok());
        break;
    case L_METH_RX:
    case L_METH_TX:
        if ((pn_link_state(a->meth_rx) & PN_REMOTE_ACTIVE) && (pn_link_state(a->meth_tx) & PN_REMOTE_ACTIVE))
            sub_part_done(d, TR_DEV_SUB_METHODS, tr_dev_ok());
        break;
    default:
        break;
    }
}

static void on_link_closed(tr_device_t *d, pn_link_t *l)
{
    char why[500];
    role_t role = role_of(l);
    static const char *const names[] = { "", "$cbs sender", "$cbs receiver", "telemetry sender", "C2D receiver",
                                         "method receiver", "method sender", "twin sender", "twin receiver" };
    char what[80];
    snprintf(what, sizeof what, "the hub detached the %s", names[role <= L_TWIN_RX ? role : 0]);
    tr_device_result_t r = cond_result(pn_link_remote_condition(l), what, why, sizeof why);
    /* a link refused at attach (never remotely active) fails only its
     * subscription; any other detach means the hub dropped the identity */
    bool refused = !d->up || (role == L_C2D && !(aq(d)->have & TR_DEV_SUB_C2D)) ||
                   ((role == L_METH_RX || role == L_METH_TX) && !(aq(d)->have & TR_DEV_SUB_METHODS));
    if (refused && d->up) {
        sub_part_done(d, role == L_C2D ? TR_DEV_SUB_C2D : TR_DEV_SUB_METHODS, r);
        return;
    }
    end_with(d, r);
}

/* ---- incoming transfers -------------------------------------------------------- */

static void on_c2d_msg(tr_device_t *d, pn_delivery_t *dl, pn_message_t *m)
{
    aq_t *a = aq(d);
    if (a->n_locks == a->cap_locks) {
        size_t nc = a->cap_locks ? a->cap_locks * 2 : 4;
        c2d_lock_t *p = realloc(a->locks, nc * sizeof *p);
        if (!p) {
            pn_delivery_update(dl, PN_RELEASED);
            pn_delivery_settle(dl);
            return;
        }
        a->locks = p;
        a->cap_locks = nc;
    }
    uint64_t id = ++a->next;
    a->locks[a->n_locks++] = (c2d_lock_t){ id, dl };
    char *mid = amqp_atom_text(pn_message_get_id(m));
    char *cid = amqp_atom_text(pn_message_get_correlation_id(m));
    enum { MAXP = 32 };
    tr_device_prop_t props[MAXP];
    char *texts[2 * MAXP];
    size_t np = 0, nt = 0;
    pn_data_t *p = pn_message_properties(m);
    pn_data_rewind(p);
    if (pn_data_next(p) && pn_data_type(p) == PN_MAP) {
        pn_data_enter(p);
        while (np < MAXP && pn_data_next(p)) {
            char *k = amqp_data_text(p);
            char *v = pn_data_next(p) ? amqp_data_text(p) : NULL;
            if (k && v && strcmp(k, "iothub-ack") != 0) {
                texts[nt++] = k;
                texts[nt++] = v;
                props[np++] = (tr_device_prop_t){ k, v };
            } else {
                free(k);
                free(v);
            }
        }
        pn_data_exit(p);
    }
    pn_bytes_t body = body_of(m);
    tr_device_c2d_t c = { mid, cid, body.start, body.size, props, np, id };
    if (d->cb.c2d && !d->quiet)
        d->cb.c2d(d->ctx, &c);
    for (size_t i = 0; i < nt; i++)
        free(texts[i]);
    free(mid);
    free(cid);
}

static void on_method_msg(tr_device_t *d, pn_message_t *m)
{
    char *rid = amqp_atom_text(pn_message_get_correlation_id(m));
    pn_data_t *p = pn_message_properties(m);
    pn_data_rewind(p);
    char *name = pn_data_next(p) && amqp_map_find(p, "IoThub-methodname", true) ? amqp_data_text(p) : NULL;
    pn_bytes_t body = body_of(m);
    if (rid && name && d->cb.method && !d->quiet)
        d->cb.method(d->ctx, name, rid, body.start, body.size);
    free(rid);
    free(name);
}

static void on_twin_msg(tr_device_t *d, pn_message_t *m)
{
    aq_t *a = aq(d);
    char *rid = amqp_atom_text(pn_message_get_correlation_id(m));
    pn_bytes_t body = body_of(m);
    if (!rid) { /* a desired patch */
        if (d->cb.desired && !d->quiet)
            d->cb.desired(d->ctx, (uint64_t)annotation_int(m, "version", 0), body.start, body.size);
        return;
    }
    int status = (int)annotation_int(m, "status", 0);
    char text[300], why[500];
    snprintf(text, sizeof text, "%.*s", (int)(body.size < 250 ? body.size : 250), body.start ? body.start : "");
    if (strcmp(rid, a->desired_rid) == 0) {
        a->desired_rid[0] = '\0';
        snprintf(why, sizeof why, "desired-properties subscription: status %d %s", status, text);
        sub_part_done(d, TR_DEV_SUB_DESIRED,
                      status >= 200 && status < 300 ? tr_dev_ok() : tr_dev_fail(tr_dev_code_for(status, text), status, why));
    } else if (strncmp(rid, "rep-", 4) == 0) {
        uint64_t tag;
        if (tr_dev_op_take(d, TR_OP_REPORT, strtoull(rid + 4, NULL, 10), &tag)) {
            snprintf(why, sizeof why, "reported patch: status %d %s", status, text);
            if (status >= 200 && status < 300)
                tr_dev_emit(d, TR_OP_REPORT, tag, (uint64_t)annotation_int(m, "version", 0), tr_dev_ok());
            else
                tr_dev_emit(d, TR_OP_REPORT, tag, 0, tr_dev_fail(tr_dev_code_for(status, text), status, why));
        }
    }
    free(rid);
}

static void on_delivery(tr_device_t *d, pn_delivery_t *dl)
{
    aq_t *a = aq(d);
    pn_link_t *l = pn_delivery_link(dl);
    role_t role = role_of(l);
    if (pn_link_is_sender(l)) {
        if (role != L_D2C) { /* CBS, twin and method requests: the outcome travels elsewhere */
            if (pn_delivery_remote_state(dl) || pn_delivery_settled(dl))
                pn_delivery_settle(dl);
            return;
        }
        if (!pn_delivery_remote_state(dl))
            return;
        uint64_t state = pn_delivery_remote_state(dl), tag;
        if (tr_dev_op_take(d, TR_OP_SEND, (uint64_t)(uintptr_t)dl, &tag)) {
            char why[500];
            tr_device_result_t r = tr_dev_ok();
            if (state != PN_ACCEPTED)
                r = cond_result(pn_disposition_condition(pn_delivery_remote(dl)), "telemetry refused", why,
                                sizeof why);
            pn_delivery_settle(dl);
            tr_dev_emit(d, TR_OP_SEND, tag, 0, r);
        } else {
            pn_delivery_settle(dl);
        }
        return;
    }
    if (pn_delivery_partial(dl) || !pn_delivery_readable(dl))
        return;
    pn_message_t *m = recv_msg(l, dl);
    pn_link_advance(l);
    if (!m) {
        pn_delivery_update(dl, PN_REJECTED);
        pn_delivery_settle(dl);
        pn_link_flow(l, 1);
        return;
    }
    if (role == L_C2D) {
        on_c2d_msg(d, dl, m); /* settled by tr_device_settle */
    } else {
        pn_delivery_update(dl, PN_ACCEPTED);
        pn_delivery_settle(dl);
        pn_link_flow(l, 1);
        if (role == L_CBS_RX)
            on_cbs_reply(d, m);
        else if (role == L_METH_RX)
            on_method_msg(d, m);
        else if (role == L_TWIN_RX)
            on_twin_msg(d, m);
    }
    pn_message_free(m);
    (void)a;
}

static void dispatch(tr_device_t *d)
{
    aq_t *a = aq(d);
    if (a->in_dispatch)
        return;
    a->in_dispatch = true;
    pn_event_t *e;
    while (!d->free_pending && d->proto && a->drv_ok && (e = pn_connection_driver_next_event(&a->drv)) != NULL) {
        char why[500];
        switch (pn_event_type(e)) {
        case PN_LINK_REMOTE_OPEN:
            on_link_up(d, pn_event_link(e));
            break;
        case PN_LINK_REMOTE_CLOSE:
        case PN_LINK_REMOTE_DETACH:
            if (!d->ended)
                on_link_closed(d, pn_event_link(e));
            break;
        case PN_DELIVERY:
            if (!d->ended)
                on_delivery(d, pn_event_delivery(e));
            break;
        case PN_TRANSPORT_ERROR:
            end_with(d, cond_result(pn_transport_condition(pn_event_transport(e)), "AMQP transport error", why,
                                    sizeof why));
            break;
        case PN_CONNECTION_REMOTE_CLOSE:
            end_with(d, cond_result(pn_connection_remote_condition(pn_event_connection(e)),
                                    "the hub closed the AMQP connection", why, sizeof why));
            break;
        default:
            break;
        }
    }
    a->in_dispatch = false;
}

/* ---- stream callbacks --------------------------------------------------------- */

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    tr_device_t *d = ctx;
    while (n && d->proto && aq(d)->drv_ok && !d->free_pending) {
        aq_t *a = aq(d);
        pn_rwbytes_t rb = pn_connection_driver_read_buffer(&a->drv);
        if (!rb.size)
            return; /* proton stopped reading: the connection is closing */
        size_t k = n < rb.size ? n : rb.size;
        memcpy(rb.start, p, k);
        pn_connection_driver_read_done(&a->drv, k);
        p += k;
        n -= k;
        flush(d);
    }
}

static void on_opened(void *ctx)
{
    flush(ctx);
}

static void on_closed(void *ctx, const char *why)
{
    tr_device_t *d = ctx;
    aq_t *a = aq(d);
    char w[760];
    snprintf(w, sizeof w, "%s", why && *why ? why : "the hub closed the connection");
    event_del(a->renew);
    tr_dev_ended(d, tr_dev_fail(-1, 0, w));
}

static const tr_stream_cb_t stream_cb = { on_opened, on_data, on_closed };

/* ---- operations ---------------------------------------------------------------- */

static hs_err_t aq_start(tr_device_t *d, char *why, size_t cap)
{
    if (!d->sas_key && !d->sas_token) {
        snprintf(why, cap, "AMQP devices authenticate with SAS tokens here (CBS); X.509 over AMQP is not supported");
        return HS_EUNSUPPORTED;
    }
    aq_t *a = calloc(1, sizeof *a);
    if (!a)
        return HS_ENOMEM;
    d->proto = a;
    a->renew = evtimer_new(tr_loop_base(d->loop), on_renew, d);
    if (!a->renew || pn_connection_driver_init(&a->drv, NULL, NULL) != 0)
        return HS_ENOMEM;
    a->drv_ok = true;
    char cid[300];
    tr_dev_client_id(d, cid, sizeof cid);
    pn_connection_t *conn = a->drv.connection;
    pn_connection_set_container(conn, cid);
    pn_connection_set_hostname(conn, d->host);
    pn_connection_open(conn);
    a->ssn = pn_session(conn);
    pn_session_open(a->ssn);
    a->cbs_tx = link_new(d, L_CBS_TX, true, "cbs-tx", "$cbs");
    a->cbs_rx = link_new(d, L_CBS_RX, false, "cbs", "$cbs");
    pn_link_flow(a->cbs_rx, 4);
    put_token(d); /* queued until the hub grants credit */
    char w[300];
    hs_err_t e = tr_stream_start(d->loop, d->tls, d->dial_host, d->port, d->host, &stream_cb, d, &a->st, w, sizeof w);
    if (e == HS_ENOMEM)
        return e;
    if (e != HS_EOK)
        tr_dev_post(d, TR_OP_CONNECT, 0, 0, -1, 0, w);
    return HS_EOK;
}

static hs_err_t aq_subscribe(tr_device_t *d, unsigned subs)
{
    aq_t *a = aq(d);
    if ((subs & TR_DEV_SUB_C2D) && d->module_id)
        return HS_EUNSUPPORTED; /* modules have no C2D queue */
    if (a->n_calls == a->cap_calls) {
        size_t nc = a->cap_calls ? a->cap_calls * 2 : 2;
        sub_call_t *p = realloc(a->calls, nc * sizeof *p);
        if (!p)
            return HS_ENOMEM;
        a->calls = p;
        a->cap_calls = nc;
    }
    uint64_t call = ++a->next;
    hs_err_t e = tr_dev_op_add(d, TR_OP_SUBSCRIBE, call, subs);
    if (e != HS_EOK)
        return e;
    unsigned left = subs & ~a->have;
    a->calls[a->n_calls++] = (sub_call_t){ call, subs, left };
    char addr[900];
    if ((left & TR_DEV_SUB_C2D) && !a->c2d) {
        identity_path(d, "/messages/devicebound", addr, sizeof addr);
        a->c2d = link_new(d, L_C2D, false, "c2d", addr);
        pn_link_flow(a->c2d, C2D_CREDIT);
    }
    if ((left & TR_DEV_SUB_METHODS) && !a->meth_rx) {
        identity_path(d, "/methods/devicebound", addr, sizeof addr);
        a->meth_rx = link_new(d, L_METH_RX, false, "methods-rx", addr);
        a->meth_tx = link_new(d, L_METH_TX, true, "methods-tx", addr);
        pn_link_flow(a->meth_rx, METHOD_CREDIT);
    }
    if ((left & TR_DEV_SUB_DESIRED) && !a->desired_rid[0]) {
        twin_links(d);
        snprintf(a->desired_rid, sizeof a->desired_rid, "sub-%llu", (unsigned long long)++a->next);
        twin_request(d, "PUT", "/notifications/twin/properties/desired", a->desired_rid, NULL, 0);
    }
    if (!left) { /* already in place: answer on a later turn */
        a->n_calls--;
        tr_dev_op_take(d, TR_OP_SUBSCRIBE, call, NULL);
        tr_dev_post(d, TR_OP_SUBSCRIBE, subs, 0, 0, 0, "");
    }
    write_out(d);
    return HS_EOK;
}

static hs_err_t aq_send(tr_device_t *d, const tr_device_msg_t *msg, uint64_t tag)
{
    aq_t *a = aq(d);
    pn_message_t *m = pn_message();
    if (!m)
        return HS_ENOMEM;
    if (msg->message_id)
        set_string_id(m, msg->message_id, false);
    if (msg->correlation_id)
        set_string_id(m, msg->correlation_id, true);
    if (msg->content_type)
        pn_message_set_content_type(m, msg->content_type);
    if (msg->content_encoding)
        pn_message_set_content_encoding(m, msg->content_encoding);
    if (msg->n_app) {
        pn_data_t *p = pn_message_properties(m);
        pn_data_put_map(p);
        pn_data_enter(p);
        for (size_t i = 0; i < msg->n_app; i++) {
            put_str(p, msg->app[i].name);
            put_str(p, msg->app[i].value);
        }
        pn_data_exit(p);
    }
    pn_data_put_binary(pn_message_body(m), pn_bytes(msg->body_len, msg->body_len ? msg->body : ""));
    pn_message_set_inferred(m, true);
    pn_delivery_t *dl = send_msg(d, a->d2c, m);
    pn_message_free(m);
    if (!dl)
        return HS_EINVAL;
    hs_err_t e = tr_dev_op_add(d, TR_OP_SEND, (uint64_t)(uintptr_t)dl, tag);
    if (e != HS_EOK) {
        pn_delivery_settle(dl);
        return e;
    }
    write_out(d);
    return HS_EOK;
}

static hs_err_t aq_method_respond(tr_device_t *d, const char *rid, int status, const void *payload, size_t len)
{
    aq_t *a = aq(d);
    if (!a->meth_tx)
        return HS_ESTATE; /* never subscribed to methods: there is no call to answer */
    pn_message_t *m = pn_message();
    if (!m)
        return HS_ENOMEM;
    set_string_id(m, rid, true);
    pn_data_t *p = pn_message_properties(m);
    pn_data_put_map(p);
    pn_data_enter(p);
    put_str(p, "IoThub-status");
    pn_data_put_int(p, status);
    pn_data_exit(p);
    pn_data_put_binary(pn_message_body(m), pn_bytes(len, len ? payload : ""));
    pn_message_set_inferred(m, true);
    pn_delivery_t *dl = send_msg(d, a->meth_tx, m);
    pn_message_free(m);
    if (!dl)
        return HS_EINVAL;
    write_out(d);
    return HS_EOK;
}

static hs_err_t aq_settle(tr_device_t *d, uint64_t lock, tr_settle_t how)
{
    aq_t *a = aq(d);
    size_t i = 0;
    while (i < a->n_locks && a->locks[i].id != lock)
        i++;
    if (i == a->n_locks)
        return HS_ENOTFOUND;
    pn_delivery_t *dl = a->locks[i].dlv;
    a->locks[i] = a->locks[--a->n_locks];
    static const uint64_t outcome[] = { PN_ACCEPTED, PN_REJECTED, PN_RELEASED };
    pn_delivery_update(dl, outcome[how]);
    pn_delivery_settle(dl);
    pn_link_flow(a->c2d, 1);
    write_out(d);
    /* a receiver's disposition has no answer: done once sent */
    tr_dev_post(d, TR_OP_SETTLE, lock, 0, 0, 0, "");
    return HS_EOK;
}

static hs_err_t aq_report(tr_device_t *d, const char *json, size_t n, uint64_t tag)
{
    aq_t *a = aq(d);
    twin_links(d);
    uint64_t id = ++a->next;
    char rid[32];
    snprintf(rid, sizeof rid, "rep-%llu", (unsigned long long)id);
    hs_err_t e = tr_dev_op_add(d, TR_OP_REPORT, id, tag);
    if (e != HS_EOK)
        return e;
    twin_request(d, "PATCH", "/properties/reported", rid, json, n);
    write_out(d);
    return HS_EOK;
}

static void aq_close(tr_device_t *d)
{
    aq_t *a = aq(d);
    event_del(a->renew);
    if (a->drv_ok && !d->ended) {
        pn_connection_close(a->drv.connection);
        write_out(d); /* goes out while the owner pumps the loop before tr_device_free */
    }
}

static void aq_destroy(tr_device_t *d)
{
    aq_t *a = aq(d);
    if (a->renew)
        event_free(a->renew);
    tr_stream_free(a->st);
    if (a->drv_ok)
        pn_connection_driver_destroy(&a->drv);
    free(a->locks);
    free(a->calls);
    free(a);
    d->proto = NULL;
}

static size_t aq_footprint(const tr_device_t *d)
{
    const aq_t *a = aq(d);
    /* proton: connection, transport (with its 16 KB-class frame buffers
     * while in use), session and up to 8 links; measured as an estimate */
    size_t links = 2u + (a->d2c != NULL) + (a->c2d != NULL) + 2u * (a->meth_rx != NULL) + 2u * (a->twin_tx != NULL);
    return sizeof *a + event_get_struct_event_size() + tr_stream_footprint(a->st) + a->cap_locks * sizeof *a->locks +
           a->cap_calls * sizeof *a->calls + (a->st ? TR_DEV_TLS_ESTIMATE : 0) + TR_DEV_PROTON_ESTIMATE +
           links * TR_DEV_PROTON_LINK_ESTIMATE;
}

const tr_dev_ops_t tr_dev_amqp_ops = {
    aq_start, aq_subscribe, aq_send, aq_method_respond, aq_settle, aq_report, aq_close, aq_destroy, aq_footprint,
};
