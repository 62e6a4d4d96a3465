/* Device side over REST: D2C POST with iothub-* headers, C2D receive (ETag lock token) / complete / reject / abandon. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http_internal.h"

/*
 * Each request authenticates on its own (the Authorization SAS token, or
 * the client certificate's thumbprint when there is no token) and borrows
 * a hub connection handle for the one call it makes
 * (hub_device_request_begin): an MQTT or AMQP connection of the same
 * device stays up, as it does on the service.
 *
 * Properties travel as headers [doc, sdk]: application properties as
 * iothub-app-{name}, system properties under the names of the table below.
 */

typedef struct {
    hub_msg_sys_t sys;
    const char *header;
} sys_header_t;

/* Read on D2C and written on C2D. */
static const sys_header_t sys_headers[] = {
    { HUB_SYS_MESSAGE_ID, "iothub-messageid" },
    { HUB_SYS_CORRELATION_ID, "iothub-correlationid" },
    { HUB_SYS_USER_ID, "iothub-userid" },
    { HUB_SYS_TO, "iothub-to" },
    { HUB_SYS_CONTENT_TYPE, "iothub-contenttype" },
    { HUB_SYS_CONTENT_ENCODING, "iothub-contentencoding" },
    { HUB_SYS_EXPIRY_TIME_UTC, "iothub-expiry" },
    { HUB_SYS_ACK, "iothub-ack" },
    { HUB_SYS_DT_SUBJECT, "dt-subject" },
    { HUB_SYS_DT_DATASCHEMA, "dt-dataschema" },
};
/* Written on C2D only (the hub stamps them). */
static const sys_header_t c2d_stamped_headers[] = {
    { HUB_SYS_SEQUENCE_NUMBER, "iothub-sequencenumber" },
    { HUB_SYS_ENQUEUED_TIME, "iothub-enqueuedtime" },
};

#define APP_PREFIX "iothub-app-"
#define APP_PREFIX_LEN (sizeof APP_PREFIX - 1)

/* Authenticate the device of the path; false (r filled) when refused. */
static bool device_begin(http_ctx_t *c, http_resp_t *r, hub_conn_t *conn)
{
    const char *auth = http_req_header(c->req, "Authorization");
    const char *thumb = c->req->peer ? c->req->peer->x509_thumbprint : NULL;
    hub_connect_params_t p = {
        .device_id = c->dev,
        .module_id = c->mod,
        .sas_token = auth && auth[0] ? auth : NULL,
        .x509_thumbprint = auth && auth[0] ? NULL : thumb,
        .protocol = HUB_PROTO_HTTPS,
    };
    hub_err_t e = hub_device_request_begin(c->api->hub, &p, conn);
    if (e == HUB_EOK)
        return true;
    http_resp_hub_error(r, c->api->opts.breaks, e,
                        p.sas_token || p.x509_thumbprint
                            ? "the device credentials are not valid for this identity"
                            : "no Authorization header and no client certificate");
    return false;
}

/* Fill a D2C message from the request headers. */
static hs_err_t d2c_props(const http_ctx_t *c, hub_msg_t *m)
{
    unsigned breaks = c->api->opts.breaks;
    for (size_t i = 0; i < c->req->n_headers; i++) {
        const char *name = c->req->headers[i].name;
        const char *value = c->req->headers[i].value ? c->req->headers[i].value : "";
        if (!name)
            continue;
        if (strncasecmp(name, APP_PREFIX, APP_PREFIX_LEN) == 0) {
            if (!(breaks & HTTP_BREAK_D2C_APP_PROPS_DROPPED) &&
                hub_msg_add_app(m, name + APP_PREFIX_LEN, value) != HS_EOK)
                return HS_ENOMEM;
            continue;
        }
        if (breaks & HTTP_BREAK_D2C_SYS_PROPS_DROPPED)
            continue;
        for (size_t k = 0; k < sizeof sys_headers / sizeof sys_headers[0]; k++)
            if (strcasecmp(name, sys_headers[k].header) == 0 &&
                hub_msg_set_sys(m, sys_headers[k].sys, value) != HS_EOK)
                return HS_ENOMEM;
    }
    return HS_EOK;
}

bool http_device_d2c(http_ctx_t *c, http_resp_t *r)
{
    unsigned breaks = c->api->opts.breaks;
    hub_conn_t conn;
    if (!device_begin(c, r, &conn))
        return true;
    hub_msg_t *m = hub_msg_new();
    if (!m || hub_msg_set_body(m, c->req->body, c->req->body_len) != HS_EOK ||
        d2c_props(c, m) != HS_EOK) {
        hub_msg_free(m);
        hub_device_request_end(c->api->hub, conn);
        r->failed = true;
        return true;
    }
    hub_err_t e = hub_device_send_d2c(c->api->hub, conn, m);
    hub_device_request_end(c->api->hub, conn);
    if (e == HUB_EOK) {
        r->status = 204;
    } else {
        /* The hub keeps the books; the same rules again give the reason. */
        hub_msg_violation_t v;
        memset(&v, 0, sizeof v);
        hub_msg_rules_t rules;
        hub_msg_rules_d2c(&rules, true, 1024);
        rules.max_bytes = 0;
        if (e == HUB_EARGUMENT_INVALID)
            (void)hub_msg_validate(m, &rules, &v);
        http_resp_hub_error(r, breaks, e, v.detail[0] ? v.detail : NULL);
    }
    hub_msg_free(m);
    return true;
}

bool http_device_c2d_receive(http_ctx_t *c, http_resp_t *r)
{
    unsigned breaks = c->api->opts.breaks;
    hub_conn_t conn;
    if (!device_begin(c, r, &conn))
        return true;
    hub_c2d_delivery_t d;
    hub_err_t e = hub_device_c2d_receive(c->api->hub, conn, &d);
    hub_device_request_end(c->api->hub, conn);
    if (e == HUB_EMESSAGE_NOT_FOUND) {
        r->status = 204; /* nothing to receive is not an error [doc] */
        return true;
    }
    if (e) {
        http_resp_hub_error(r, breaks, e, NULL);
        return true;
    }
    /* d.msg is borrowed until the next store call: copy it all out now. */
    if (breaks & HTTP_BREAK_C2D_ETAG_UNQUOTED)
        http_resp_header(r, "ETag", d.lock_token);
    else
        http_resp_headerf(r, "ETag", "\"%s\"", d.lock_token);
    for (size_t k = 0; k < sizeof sys_headers / sizeof sys_headers[0]; k++) {
        const char *v = hub_msg_get_sys(d.msg, sys_headers[k].sys);
        if (v)
            http_resp_header(r, sys_headers[k].header, v);
    }
    for (size_t k = 0; k < sizeof c2d_stamped_headers / sizeof c2d_stamped_headers[0]; k++) {
        const char *v = hub_msg_get_sys(d.msg, c2d_stamped_headers[k].sys);
        if (v)
            http_resp_header(r, c2d_stamped_headers[k].header, v);
    }
    http_resp_headerf(r, "iothub-deliverycount", "%u", (unsigned)d.delivery_count);
    size_t n = hub_msg_app_count(d.msg);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        if (hub_msg_app_at(d.msg, i, &name, &value) != HS_EOK)
            continue;
        char hname[APP_PREFIX_LEN + 512];
        snprintf(hname, sizeof hname, APP_PREFIX "%s", name);
        http_resp_header(r, hname, value);
    }
    size_t blen = 0;
    const void *body = hub_msg_body(d.msg, &blen);
    const char *ct = hub_msg_get_sys(d.msg, HUB_SYS_CONTENT_TYPE);
    http_resp_body(r, body, blen, ct && ct[0] ? ct : "application/octet-stream");
    r->status = 200;
    return true;
}

typedef hub_err_t (*settle_fn)(hub_t *hub, hub_conn_t conn, const char *lock_token);

static bool settle(http_ctx_t *c, http_resp_t *r, settle_fn fn)
{
    hub_conn_t conn;
    if (!device_begin(c, r, &conn))
        return true;
    hub_err_t e = fn(c->api->hub, conn, c->token);
    hub_device_request_end(c->api->hub, conn);
    if (e)
        http_resp_hub_error(r, c->api->opts.breaks, e, NULL);
    else
        r->status = 204;
    return true;
}

bool http_device_c2d_settle(http_ctx_t *c, http_resp_t *r)
{
    /* DELETE .../{lockToken} completes; DELETE .../{lockToken}?reject rejects [doc, sdk]. */
    bool reject = http_query_get(c->query, "reject", NULL, 0);
    return settle(c, r, reject ? hub_device_c2d_reject : hub_device_c2d_complete);
}

bool http_device_c2d_abandon(http_ctx_t *c, http_resp_t *r)
{
    return settle(c, r, hub_device_c2d_abandon);
}
