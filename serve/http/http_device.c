/* Device side over REST: D2C POST with iothub-* headers, C2D receive (ETag lock token) / complete / reject / abandon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http_internal.h"
#include "sim/hub/auth.h"

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

/* One D2C property by its wire name: iothub-app-{name} → application
 * property, a system header name → system property, anything else is not
 * a message property (false).  HS_ENOMEM on allocation failure. */
static hs_err_t d2c_prop(unsigned breaks, hub_msg_t *m, const char *name, const char *value,
                         bool *taken)
{
    *taken = false;
    if (strncasecmp(name, APP_PREFIX, APP_PREFIX_LEN) == 0) {
        *taken = true;
        if (breaks & HTTP_BREAK_D2C_APP_PROPS_DROPPED)
            return HS_EOK;
        return hub_msg_add_app(m, name + APP_PREFIX_LEN, value);
    }
    for (size_t k = 0; k < sizeof sys_headers / sizeof sys_headers[0]; k++) {
        if (strcasecmp(name, sys_headers[k].header) != 0)
            continue;
        *taken = true;
        if (breaks & HTTP_BREAK_D2C_SYS_PROPS_DROPPED)
            return HS_EOK;
        return hub_msg_set_sys(m, sys_headers[k].sys, value);
    }
    return HS_EOK;
}

/* Fill a D2C message from the request headers. */
static hs_err_t d2c_props(const http_ctx_t *c, hub_msg_t *m)
{
    for (size_t i = 0; i < c->req->n_headers; i++) {
        const char *name = c->req->headers[i].name;
        const char *value = c->req->headers[i].value ? c->req->headers[i].value : "";
        bool taken;
        if (name && d2c_prop(c->api->opts.breaks, m, name, value, &taken) != HS_EOK)
            return HS_ENOMEM;
    }
    return HS_EOK;
}

/* Why the hub refused a D2C message: the same rules again give the reason. */
static void d2c_explain(const hub_msg_t *m, hub_err_t e, char *why, size_t cap)
{
    why[0] = '\0';
    if (e != HUB_EARGUMENT_INVALID)
        return;
    hub_msg_violation_t v;
    memset(&v, 0, sizeof v);
    hub_msg_rules_t rules;
    hub_msg_rules_d2c(&rules, true, 1024);
    rules.max_bytes = 0;
    (void)hub_msg_validate(m, &rules, &v);
    snprintf(why, cap, "%s", v.detail);
}

#define BATCH_TYPE "application/vnd.microsoft.iothub.json"

/* A batch element {"body":"<base64>","properties":{"iothub-app-k":"v",...}}
 * as a message; NULL with the reason in why. */
static hub_msg_t *batch_message(unsigned breaks, const json_t *el, size_t i, char *why, size_t cap)
{
    if (!json_is_object(el)) {
        snprintf(why, cap, "batch element #%zu: expected an object", i);
        return NULL;
    }
    const json_t *body = json_object_get(el, "body");
    const json_t *props = json_object_get(el, "properties");
    if (body && !json_is_string(body)) {
        snprintf(why, cap, "batch element #%zu: body: expected a base64 string", i);
        return NULL;
    }
    if (props && !json_is_null(props) && !json_is_object(props)) {
        snprintf(why, cap, "batch element #%zu: properties: expected an object", i);
        return NULL;
    }
    hub_msg_t *m = hub_msg_new();
    const char *b64 = body ? json_string_value(body) : "";
    size_t cap_raw = strlen(b64) / 4 * 3 + 3, n = 0;
    unsigned char *raw = malloc(cap_raw);
    if (!m || !raw) {
        free(raw);
        hub_msg_free(m);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    if (b64[0] && hub_b64_decode(b64, raw, cap_raw, &n) != HS_EOK) {
        free(raw);
        hub_msg_free(m);
        snprintf(why, cap, "batch element #%zu: body is not base64", i);
        return NULL;
    }
    hs_err_t e = hub_msg_set_body(m, raw, n);
    free(raw);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)props, key, v)
    {
        if (e != HS_EOK)
            break;
        if (!json_is_string(v)) {
            snprintf(why, cap, "batch element #%zu: properties.%.64s: expected a string", i, key);
            hub_msg_free(m);
            return NULL;
        }
        bool taken;
        e = d2c_prop(breaks, m, key, json_string_value(v), &taken);
        if (e == HS_EOK && !taken) {
            snprintf(why, cap,
                     "batch element #%zu: property %.64s is neither iothub-app-* nor a system property",
                     i, key);
            hub_msg_free(m);
            return NULL;
        }
    }
    if (e != HS_EOK) {
        hub_msg_free(m);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    return m;
}

/* A batch: every element is checked before any is sent; the hub then
 * takes them in order and the first refusal answers (earlier ones stay
 * accepted) [?]. */
static void d2c_batch(http_ctx_t *c, http_resp_t *r, hub_conn_t conn)
{
    unsigned breaks = c->api->opts.breaks;
    char why[256];
    json_t *doc = http_body_json(c->req, true, why, sizeof why);
    if (doc && !json_is_array(doc)) {
        snprintf(why, sizeof why, "a batch body must be a JSON array");
        json_decref(doc);
        doc = NULL;
    }
    if (!doc) {
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, why);
        return;
    }
    size_t n = json_array_size(doc);
    hub_msg_t **msgs = calloc(n ? n : 1, sizeof *msgs);
    bool ok = msgs != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (msgs[i] = batch_message(breaks, json_array_get(doc, i), i, why, sizeof why)) != NULL;
    json_decref(doc);
    if (!ok) {
        http_resp_hub_error(r, breaks, msgs ? HUB_EARGUMENT_INVALID : HUB_ESERVER_ERROR, why);
    } else {
        r->status = 204;
        for (size_t i = 0; i < n; i++) {
            hub_err_t e = hub_device_send_d2c(c->api->hub, conn, msgs[i]);
            if (e == HUB_EOK)
                continue;
            char detail[256], rule[200];
            d2c_explain(msgs[i], e, rule, sizeof rule);
            snprintf(detail, sizeof detail, "batch element #%zu%s%s", i, rule[0] ? ": " : "", rule);
            http_resp_hub_error(r, breaks, e, detail);
            break;
        }
    }
    for (size_t i = 0; msgs && i < n; i++)
        hub_msg_free(msgs[i]);
    free(msgs);
}

bool http_device_d2c(http_ctx_t *c, http_resp_t *r)
{
    unsigned breaks = c->api->opts.breaks;
    hub_conn_t conn;
    if (!device_begin(c, r, &conn))
        return true;
    const char *ct = http_req_header(c->req, "Content-Type");
    if (ct && strncasecmp(ct, BATCH_TYPE, sizeof BATCH_TYPE - 1) == 0) {
        d2c_batch(c, r, conn);
        hub_device_request_end(c->api->hub, conn);
        return true;
    }
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
        char why[200];
        d2c_explain(m, e, why, sizeof why);
        http_resp_hub_error(r, breaks, e, why[0] ? why : NULL);
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
