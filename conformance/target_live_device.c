/* Live target, device side: MQTT connections on the transports client (events queued from the hub's PUBLISHes), HTTPS D2C and C2D. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/target_support.h"
#include "conformance/target_live_internal.h"
#include "serve/mqtt/mqtt_packet.h"
#include "serve/mqtt/mqtt_topic.h"
#include "sim/hub/auth.h"
#include "sim/hub/message.h"

#define KEEP_ALIVE_S 180 /* what the Node SDK sends (docs/sdk-wire.md §2) */

static live_conn_t *conn_get(conform_target_t *t, target_conn_t c)
{
    return c == 0 || c > t->n_conns ? NULL : t->conns[c - 1];
}

static void event_free(live_event_t *ev)
{
    free(ev->method_name);
    free(ev->rid);
    free(ev->payload);
    memset(ev, 0, sizeof *ev);
}

void live_conn_free(live_conn_t *c)
{
    if (!c)
        return;
    tr_mqtt_free(c->m);
    for (size_t i = 0; i < c->n_evs; i++)
        event_free(&c->evs[i]);
    event_free(&c->last);
    free(c->evs);
    for (size_t i = 0; i < c->n_inbox; i++) {
        free(c->inbox[i].message_id);
        free(c->inbox[i].body);
    }
    free(c->inbox);
    free(c->c2d_body);
    free(c->twin_res.body);
    free(c->dev);
    free(c->mod);
    free(c->wdev);
    free(c->token);
    free(c);
}

static void push(live_conn_t *c, live_event_t *ev)
{
    ev->at = live_now(c->t);
    c->evs = live_target_grow(c->evs, &c->cap_evs, c->n_evs + 1, sizeof *c->evs);
    c->evs[c->n_evs++] = *ev;
}

/* The value of `name` in a topic's query part ("...?$rid=5&$version=3"), decoded. */
static bool topic_param(const char *topic, const char *name, char *out, size_t cap)
{
    const char *q = strchr(topic, '?');
    size_t n = strlen(name);
    for (const char *p = q; p && *p; ) {
        p++;
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
            return hub_url_decode(p + n + 1, len - n - 1, out, cap) == HS_EOK;
        p = end;
    }
    return false;
}

static void on_publish(live_conn_t *c, const tr_mqtt_msg_t *m)
{
    live_event_t ev;
    memset(&ev, 0, sizeof ev);
    const char *tp = m->topic;
    char v[200];
    if (strncmp(tp, "$iothub/methods/POST/", 21) == 0) {
        const char *name = tp + 21, *end = strchr(name, '/');
        if (!end)
            end = strchr(name, '?');
        ev.kind = TARGET_EV_METHOD;
        ev.method_name = live_dup_n(name, end ? (size_t)(end - name) : strlen(name));
        ev.rid = live_dup(topic_param(tp, "$rid", v, sizeof v) ? v : "");
        ev.payload = live_dup_n((const char *)m->payload, m->payload_len);
        ev.payload_len = m->payload_len;
        c->n_methods_heard++;
        push(c, &ev);
    } else if (strncmp(tp, "$iothub/twin/PATCH/properties/desired", 37) == 0) {
        ev.kind = TARGET_EV_DESIRED;
        ev.version = topic_param(tp, "$version", v, sizeof v) ? strtoull(v, NULL, 10) : 0;
        ev.payload = live_dup_n((const char *)m->payload, m->payload_len);
        ev.payload_len = m->payload_len;
        c->n_desired_heard++;
        push(c, &ev);
    } else if (strncmp(tp, "$iothub/twin/res/", 17) == 0) {
        if (topic_param(tp, "$rid", v, sizeof v) && strcmp(v, c->twin_rid) == 0) {
            free(c->twin_res.body);
            c->twin_res.done = true;
            c->twin_res.status = atoi(tp + 17);
            c->twin_res.body = live_dup_n((const char *)m->payload, m->payload_len);
            c->twin_res.body_len = m->payload_len;
            c->twin_res.version = topic_param(tp, "$version", v, sizeof v) ? strtoull(v, NULL, 10) : 0;
        }
    } else if (strncmp(tp, "devices/", 8) == 0 && strstr(tp, "/messages/devicebound")) {
        live_c2d_t *in = realloc(c->inbox, (c->n_inbox + 1) * sizeof *in);
        if (!in)
            abort();
        c->inbox = in;
        live_c2d_t *d = &c->inbox[c->n_inbox++];
        d->packet_id = m->packet_id;
        d->body = live_dup_n((const char *)m->payload, m->payload_len);
        d->body_len = m->payload_len;
        d->message_id = NULL;
        const char *bag = strstr(tp, "/messages/devicebound/");
        hub_msg_t *hm = hub_msg_new();
        char why[100];
        if (bag && hm && mqtt_bag_parse(bag + 22, strlen(bag + 22), hm, why, sizeof why) == 0) {
            const char *mid = hub_msg_get_sys(hm, HUB_SYS_MESSAGE_ID);
            d->message_id = mid ? live_dup(mid) : NULL;
        }
        hub_msg_free(hm);
        ev.kind = TARGET_EV_C2D_AVAILABLE;
        push(c, &ev);
    }
}

void live_drain(conform_target_t *t)
{
    for (size_t i = 0; i < t->n_conns; i++) {
        live_conn_t *c = t->conns[i];
        if (!c->m)
            continue;
        tr_mqtt_msg_t m;
        while (tr_mqtt_next(c->m, &m))
            on_publish(c, &m);
        if (!tr_mqtt_is_open(c->m) && !c->closed_by_us && !c->disc_reported) {
            c->disc_reported = true;
            live_event_t ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = TARGET_EV_DISCONNECTED;
            /* MQTT carries no reason: the close is all a client sees. */
            target_status_set(&ev.status, 0, 0, "ConnectionClosed", tr_mqtt_why(c->m));
            push(c, &ev);
        }
    }
}

uint64_t live_methods_heard(conform_target_t *t)
{
    uint64_t n = 0;
    for (size_t i = 0; i < t->n_conns; i++)
        n += t->conns[i]->n_methods_heard;
    return n;
}

uint64_t live_desired_heard(conform_target_t *t, const char *dev)
{
    uint64_t n = 0;
    for (size_t i = 0; i < t->n_conns; i++)
        if (strcmp(t->conns[i]->dev, dev) == 0)
            n += t->conns[i]->n_desired_heard;
    return n;
}

/* ---- connect ---------------------------------------------------------------- */

static void connack_status(target_status_t *st, int code, const char *why)
{
    switch (code) {
    case MQTT_CONNACK_NOT_AUTHORIZED:
    case MQTT_CONNACK_BAD_CREDENTIALS:
        target_status_set(st, 401, 401002, "IotHubUnauthorizedAccess", why);
        break;
    case MQTT_CONNACK_UNAVAILABLE:
        target_status_set(st, 429, 429001, "ThrottlingException", why);
        break;
    default:
        target_status_set(st, 400, 400004, "ArgumentInvalid", why);
        break;
    }
}

void live_device_connect(conform_target_t *t, const target_connect_t *p, target_conn_t *out, target_status_t *st)
{
    *out = 0;
    if (p->x509_thumbprint || p->protocol == TARGET_PROTO_AMQP) {
        target_status_set(st, 0, 0, "NotSupported",
                          p->x509_thumbprint ? "the live target has no client certificate for a thumbprint"
                                             : "the live target has no device AMQP client yet");
        return;
    }
    live_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->t = t;
    c->dev = live_dup(p->device_id);
    c->mod = p->module_id && *p->module_id ? live_dup(p->module_id) : NULL;
    char wdev[300], tok[1200];
    live_target_wire_id(t, p->device_id, wdev, sizeof wdev);
    c->wdev = live_dup(wdev);
    c->proto = p->protocol;
    live_token_for_wire(t, p->sas_token, tok, sizeof tok);
    c->token = live_dup(tok);
    t->conns = realloc(t->conns, (t->n_conns + 1) * sizeof *t->conns);
    if (!t->conns)
        abort();
    t->conns[t->n_conns++] = c;
    if (p->protocol == TARGET_PROTO_HTTPS) {
        /* HTTPS is stateless: the credentials meet the hub with each request. */
        target_status_ok(st);
        *out = (target_conn_t)t->n_conns;
        return;
    }
    char client_id[600], user[900], why[800];
    if (c->mod)
        snprintf(client_id, sizeof client_id, "%s/%s", wdev, c->mod);
    else
        snprintf(client_id, sizeof client_id, "%s", wdev);
    snprintf(user, sizeof user, "%s/%s/?api-version=%s", t->cs.host, client_id, TR_API_VERSION);
    tr_mqtt_connect_t cp = { .client_id = client_id, .username = user, .password = tok,
                             .keep_alive = KEEP_ALIVE_S };
    int code = -1;
    hs_err_t e = tr_mqtt_connect(t->loop, t->tls, t->cs.connect_host, t->cs.mqtt_port, t->cs.host, &cp,
                                 LIVE_OP_MS, &c->m, &code, why, sizeof why);
    if (e == HS_EINVAL) {
        connack_status(st, code, why);
        return;
    }
    if (e != HS_EOK) {
        live_status_transport(st, why);
        return;
    }
    target_status_ok(st);
    *out = (target_conn_t)t->n_conns;
    /* let the hub's close of a replaced connection reach us */
    live_wait(t, NULL, NULL, 20);
}

void live_device_disconnect(conform_target_t *t, target_conn_t id)
{
    live_conn_t *c = conn_get(t, id);
    if (!c)
        return;
    c->closed_by_us = true;
    if (c->m)
        tr_mqtt_disconnect(c->m);
    live_wait(t, NULL, NULL, 20); /* the hub sees the close before the case goes on */
}

bool live_device_connected(conform_target_t *t, target_conn_t id)
{
    live_conn_t *c = conn_get(t, id);
    if (!c)
        return false;
    if (c->proto == TARGET_PROTO_HTTPS)
        return !c->closed_by_us;
    live_wait(t, NULL, NULL, 20);
    return c->m && tr_mqtt_is_open(c->m);
}

/* ---- subscribe, send ---------------------------------------------------------- */

void live_device_subscribe(conform_target_t *t, target_conn_t id, unsigned subs, target_status_t *st)
{
    live_conn_t *c = conn_get(t, id);
    if (!c) {
        target_status_set(st, 400, 400004, "ArgumentInvalid", "no such connection");
        return;
    }
    if (c->proto == TARGET_PROTO_HTTPS) {
        if (subs & (TARGET_SUB_METHODS | TARGET_SUB_DESIRED))
            target_status_set(st, 400, 400004, "ArgumentInvalid", "HTTPS has no method or desired subscriptions");
        else
            target_status_ok(st);
        c->subs |= subs & TARGET_SUB_C2D;
        return;
    }
    const char *f[3];
    uint8_t q[3], codes[3];
    size_t n = 0;
    char c2d[400];
    if (subs & TARGET_SUB_METHODS) {
        f[n] = "$iothub/methods/POST/#";
        q[n++] = 0;
    }
    if (subs & TARGET_SUB_C2D) {
        snprintf(c2d, sizeof c2d, "devices/%s/messages/devicebound/#", c->wdev);
        f[n] = c2d;
        q[n++] = 1;
    }
    if (subs & TARGET_SUB_DESIRED) {
        f[n] = "$iothub/twin/PATCH/properties/desired/#";
        q[n++] = 0;
    }
    if (!n) {
        target_status_ok(st);
        return;
    }
    char why[800];
    if (tr_mqtt_subscribe(c->m, f, q, n, LIVE_OP_MS, codes, why, sizeof why) != HS_EOK) {
        live_status_transport(st, why);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (codes[i] == MQTT_SUBACK_FAILURE) {
            snprintf(why, sizeof why, "SUBACK refused %s", f[i]);
            target_status_set(st, 400, 400004, "ArgumentInvalid", why);
            return;
        }
    c->subs |= subs;
    target_status_ok(st);
    live_wait(t, NULL, NULL, 10); /* what the hub sends after SUBACK */
}

/* HTTPS D2C property headers (docs/http-api.md, the names the hub reads). */
static const struct {
    const char *query, *header;
} https_sys[] = {
    { "messageId", "iothub-messageid" },         { "correlationId", "iothub-correlationid" },
    { "userId", "iothub-userid" },               { "to", "iothub-to" },
    { "contentType", "iothub-contenttype" },     { "contentEncoding", "iothub-contentencoding" },
    { "expiryTimeUtc", "iothub-expiry" },        { "ack", "iothub-ack" },
    { "dt-subject", "dt-subject" },              { "dt-dataschema", "dt-dataschema" },
};

static void send_https(conform_target_t *t, live_conn_t *c, const target_msg_t *m, target_status_t *st)
{
    tr_header_t hs[2 * TARGET_MSG_MAX_PROPS];
    char names[TARGET_MSG_MAX_PROPS][300];
    size_t n = 0;
    for (size_t i = 0; i < m->n_sys; i++) {
        const char *h = NULL;
        for (size_t j = 0; j < sizeof https_sys / sizeof https_sys[0]; j++)
            if (strcmp(https_sys[j].query, m->sys[i].name) == 0)
                h = https_sys[j].header;
        if (!h) {
            /* connection stamps and the like have no HTTPS header: a device cannot set them */
            snprintf(names[i], sizeof names[i], "iothub-%s", m->sys[i].name);
            h = names[i];
        }
        hs[n++] = (tr_header_t){ h, m->sys[i].value };
    }
    char app[TARGET_MSG_MAX_PROPS][300];
    for (size_t i = 0; i < m->n_app; i++) {
        snprintf(app[i], sizeof app[i], "iothub-app-%s", m->app[i].name);
        hs[n++] = (tr_header_t){ app[i], m->app[i].value };
    }
    tr_http_req_t *req = NULL;
    char why[800];
    hs_err_t e = tr_rest_d2c(&t->rest, c->wdev, c->mod, c->token, hs, n, m->body, m->body_len, &req, why, sizeof why);
    live_call(t, e, req, why, st);
    tr_http_free(req);
}

void live_device_send(conform_target_t *t, target_conn_t id, const target_msg_t *m, target_status_t *st)
{
    live_conn_t *c = conn_get(t, id);
    if (!c) {
        target_status_set(st, 400, 400004, "ArgumentInvalid", "no such connection");
        return;
    }
    if (c->proto == TARGET_PROTO_HTTPS) {
        send_https(t, c, m, st);
        return;
    }
    hub_msg_t *msg = target_msg_to_hub(m, st);
    if (!msg)
        return;
    char *bag = mqtt_bag_format(msg);
    hub_msg_free(msg);
    if (!bag)
        abort();
    size_t tl = strlen(bag) + 700;
    char *topic = malloc(tl);
    if (!topic)
        abort();
    if (c->mod)
        snprintf(topic, tl, "devices/%s/modules/%s/messages/events/%s", c->wdev, c->mod, bag);
    else
        snprintf(topic, tl, "devices/%s/messages/events/%s", c->wdev, bag);
    free(bag);
    char why[800];
    hs_err_t e = tr_mqtt_publish(c->m, topic, m->body, m->body_len, 1, LIVE_OP_MS, why, sizeof why);
    free(topic);
    if (e == HS_EOK) {
        target_status_ok(st);
        return;
    }
    if (!tr_mqtt_is_open(c->m)) {
        /* MQTT 3.1.1 has no negative acknowledgement: a refusal is a close. */
        char d[900];
        snprintf(d, sizeof d, "the hub closed the connection instead of PUBACK (the refusal's code is not "
                 "visible over MQTT): %.300s", tr_mqtt_why(c->m));
        target_status_set(st, 0, 0, "ConnectionClosed", d);
        return;
    }
    live_status_transport(st, why);
}

/* ---- events, methods -------------------------------------------------------------- */

bool live_device_next_event(conform_target_t *t, target_conn_t id, target_event_kind_t kind, target_event_t *out)
{
    live_conn_t *c = conn_get(t, id);
    memset(out, 0, sizeof *out);
    if (!c)
        return false;
    event_free(&c->last);
    for (int attempt = 0; attempt < 2; attempt++) {
        live_drain(t);
        for (size_t i = 0; i < c->n_evs; i++) {
            if (kind != TARGET_EV_ANY && c->evs[i].kind != kind)
                continue;
            c->last = c->evs[i];
            memmove(&c->evs[i], &c->evs[i + 1], (c->n_evs - i - 1) * sizeof *c->evs);
            c->n_evs--;
            out->kind = c->last.kind;
            out->at = c->last.at;
            out->method_name = c->last.method_name;
            out->rid = c->last.rid;
            out->payload = c->last.payload;
            out->payload_len = c->last.payload_len;
            out->version = c->last.version;
            out->status = c->last.status;
            return true;
        }
        if (attempt == 0)
            live_wait(t, NULL, NULL, LIVE_EVENT_MS);
    }
    return false;
}

static bool any_call_done_since(void *arg)
{
    conform_target_t *t = ((void **)arg)[0];
    size_t before = *(size_t *)((void **)arg)[1];
    size_t done = 0;
    for (size_t i = 0; i < t->n_calls; i++)
        if (t->calls[i]->req && tr_http_done(t->calls[i]->req))
            done++;
    return done > before;
}

void live_device_method_respond(conform_target_t *t, target_conn_t id, const char *rid, int status,
                                const char *payload, size_t len, target_status_t *st)
{
    live_conn_t *c = conn_get(t, id);
    if (!c || !c->m) {
        target_status_set(st, 400, 400004, "ArgumentInvalid", "no MQTT connection");
        return;
    }
    char enc[400], topic[600], why[800];
    if (hub_url_encode(rid ? rid : "", enc, sizeof enc) != HS_EOK)
        snprintf(enc, sizeof enc, "%s", rid ? rid : "");
    snprintf(topic, sizeof topic, "$iothub/methods/res/%d/?$rid=%s", status, enc);
    size_t done = 0;
    for (size_t i = 0; i < t->n_calls; i++)
        if (t->calls[i]->req && tr_http_done(t->calls[i]->req))
            done++;
    if (tr_mqtt_publish(c->m, topic, payload, payload ? len : 0, 0, LIVE_OP_MS, why, sizeof why) != HS_EOK) {
        live_status_transport(st, why);
        return;
    }
    target_status_ok(st);
    /* the service's call completes from this answer: let it arrive */
    void *arg[2] = { t, &done };
    live_wait(t, any_call_done_since, arg, LIVE_SETTLE_MS);
}

/* ---- C2D ------------------------------------------------------------------------------ */

static bool inbox_nonempty(void *arg)
{
    return ((live_conn_t *)arg)->n_inbox > 0;
}

static void c2d_receive_https(conform_target_t *t, live_conn_t *c, target_c2d_t *out, target_status_t *st)
{
    tr_http_req_t *req = NULL;
    char why[800];
    hs_err_t e = tr_rest_c2d_receive(&t->rest, c->wdev, c->token, &req, why, sizeof why);
    if (live_call(t, e, req, why, st)) {
        const tr_http_response_t *r = tr_http_result(req);
        if (r->status == 204) {
            target_status_set(st, 404, 404002, "DeviceMessageNotFound", "no message visible (204)");
        } else if (r->status == 200) {
            const char *etag = tr_http_header(r, "ETag");
            size_t el = etag ? strlen(etag) : 0;
            if (el >= 2 && etag[0] == '"')
                snprintf(out->lock_token, sizeof out->lock_token, "%.*s", (int)(el - 2), etag + 1);
            else
                snprintf(out->lock_token, sizeof out->lock_token, "%s", etag ? etag : "");
            const char *v = tr_http_header(r, "iothub-messageid");
            snprintf(out->message_id, sizeof out->message_id, "%s", v ? v : "");
            v = tr_http_header(r, "iothub-sequencenumber");
            out->sequence_number = v ? strtoull(v, NULL, 10) : 0;
            v = tr_http_header(r, "iothub-deliverycount");
            out->delivery_count = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
            free(c->c2d_body);
            c->c2d_body = live_dup_n(r->body, r->body_len);
            out->body = c->c2d_body;
            out->body_len = r->body_len;
        }
    }
    tr_http_free(req);
}

void live_device_c2d_receive(conform_target_t *t, target_conn_t id, target_c2d_t *out, target_status_t *st)
{
    live_conn_t *c = conn_get(t, id);
    memset(out, 0, sizeof *out);
    if (!c) {
        target_status_set(st, 400, 400004, "ArgumentInvalid", "no such connection");
        return;
    }
    if (c->proto == TARGET_PROTO_HTTPS) {
        c2d_receive_https(t, c, out, st);
        return;
    }
    /* Over MQTT the hub pushes: a message it published is locked for us. */
    if (!live_wait(t, inbox_nonempty, c, c->n_inbox ? 0 : LIVE_EVENT_MS)) {
        target_status_set(st, 404, 404002, "DeviceMessageNotFound", "no C2D message published to the connection");
        return;
    }
    live_c2d_t d = c->inbox[0];
    memmove(&c->inbox[0], &c->inbox[1], (c->n_inbox - 1) * sizeof *c->inbox);
    c->n_inbox--;
    snprintf(out->lock_token, sizeof out->lock_token, "mqtt:%u", d.packet_id);
    snprintf(out->message_id, sizeof out->message_id, "%s", d.message_id ? d.message_id : "");
    out->delivery_count = 1; /* MQTT does not carry it */
    free(c->c2d_body);
    c->c2d_body = d.body;
    out->body = c->c2d_body;
    out->body_len = d.body_len;
    free(d.message_id);
    target_status_ok(st);
}

void live_device_c2d_settle(conform_target_t *t, target_conn_t id, const char *lock, target_settle_t how,
                            target_status_t *st)
{
    live_conn_t *c = conn_get(t, id);
    if (!c) {
        target_status_set(st, 400, 400004, "ArgumentInvalid", "no such connection");
        return;
    }
    if (c->proto == TARGET_PROTO_HTTPS) {
        tr_http_req_t *req = NULL;
        char why[800];
        const char *h = how == TARGET_SETTLE_COMPLETE ? "complete" : how == TARGET_SETTLE_REJECT ? "reject" : "abandon";
        hs_err_t e = tr_rest_c2d_settle(&t->rest, c->wdev, c->token, lock, h, &req, why, sizeof why);
        live_call(t, e, req, why, st);
        tr_http_free(req);
        return;
    }
    if (how != TARGET_SETTLE_COMPLETE) {
        target_status_set(st, 0, 0, "NotSupported", "MQTT has no reject or abandon (only PUBACK)");
        return;
    }
    unsigned pid = 0;
    if (!lock || sscanf(lock, "mqtt:%u", &pid) != 1 || pid == 0 || pid > 65535) {
        target_status_set(st, 404, 404002, "DeviceMessageNotFound", "not an MQTT lock token of this target");
        return;
    }
    if (tr_mqtt_puback(c->m, (uint16_t)pid) != HS_EOK) {
        live_status_transport(st, tr_mqtt_why(c->m));
        return;
    }
    target_status_ok(st);
    live_wait(t, NULL, NULL, 10);
}

/* ---- twin ------------------------------------------------------------------------------- */

static bool twin_answered(void *arg)
{
    live_conn_t *c = arg;
    return c->twin_res.done || !tr_mqtt_is_open(c->m);
}

/* One twin request over MQTT: false with st set when no answer came. */
static bool twin_request(conform_target_t *t, live_conn_t *c, const char *what, const char *body, target_status_t *st)
{
    char why[800];
    if (!c || !c->m) {
        target_status_set(st, 0, 0, "NotSupported", "the device twin needs an MQTT connection here");
        return false;
    }
    if (!c->twin_res_sub) {
        const char *f = "$iothub/twin/res/#";
        uint8_t q = 0, code;
        if (tr_mqtt_subscribe(c->m, &f, &q, 1, LIVE_OP_MS, &code, why, sizeof why) != HS_EOK) {
            live_status_transport(st, why);
            return false;
        }
        c->twin_res_sub = true;
    }
    snprintf(c->twin_rid, sizeof c->twin_rid, "%u", ++c->next_rid);
    free(c->twin_res.body);
    memset(&c->twin_res, 0, sizeof c->twin_res);
    char topic[200];
    snprintf(topic, sizeof topic, "$iothub/twin/%s/?$rid=%s", what, c->twin_rid);
    if (tr_mqtt_publish(c->m, topic, body, strlen(body), 0, LIVE_OP_MS, why, sizeof why) != HS_EOK) {
        live_status_transport(st, why);
        return false;
    }
    if (!live_wait(t, twin_answered, c, LIVE_OP_MS) || !c->twin_res.done) {
        snprintf(why, sizeof why, "no $iothub/twin/res answer for $rid=%s (%s)", c->twin_rid,
                 tr_mqtt_is_open(c->m) ? "timeout" : tr_mqtt_why(c->m));
        live_status_transport(st, why);
        return false;
    }
    live_status_body(st, c->twin_res.status, c->twin_res.body, c->twin_res.body_len);
    live_note_status(t, st);
    return true;
}

void live_device_twin_get(conform_target_t *t, target_conn_t id, json_t **out, target_status_t *st)
{
    *out = NULL;
    live_conn_t *c = conn_get(t, id);
    if (!twin_request(t, c, "GET", " ", st) || st->http != 200)
        return;
    json_error_t je;
    *out = json_loadb(c->twin_res.body, c->twin_res.body_len, 0, &je);
    if (!*out)
        target_status_set(st, 0, 0, "BadAnswer", "the twin GET answer is not JSON");
}

void live_device_twin_patch_reported(conform_target_t *t, target_conn_t id, const char *patch,
                                     uint64_t *version_out, target_status_t *st)
{
    live_conn_t *c = conn_get(t, id);
    if (version_out)
        *version_out = 0;
    if (twin_request(t, c, "PATCH/properties/reported", patch, st) && st->http == 200 && version_out)
        *version_out = c->twin_res.version;
}
