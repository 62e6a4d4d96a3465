/* Device file uploads over REST: POST /devices/{id}/files (SAS URI) and POST /devices/{id}/files/notifications (completion). */
#include <stdio.h>
#include <string.h>
#include "http_internal.h"

/*
 * Both routes authenticate the device of the path like the other device
 * routes (hub_device_request_begin) and then call the hub's upload model.
 * The notification arrives in two spellings [sdk]: the documented
 * `POST /devices/{id}/files/notifications` with "correlationId" in the
 * body, and the Node device SDK's `.../files/notifications/{correlationId}`
 * with the id in the path.  Facts and marks: docs/file-uploads.md.
 */

static bool device_auth(http_ctx_t *c, http_resp_t *r)
{
    const char *auth = http_req_header(c->req, "Authorization");
    const char *thumb = c->req->peer ? c->req->peer->x509_thumbprint : NULL;
    hub_connect_params_t p = {
        .device_id = c->dev,
        .sas_token = auth && auth[0] ? auth : NULL,
        .x509_thumbprint = auth && auth[0] ? NULL : thumb,
        .protocol = HUB_PROTO_HTTPS,
    };
    hub_conn_t conn = 0;
    hub_err_t e = hub_device_request_begin(c->api->hub, &p, &conn);
    if (e != HUB_EOK) {
        http_resp_hub_error(r, c->api->opts.breaks, e,
                            p.sas_token || p.x509_thumbprint
                                ? "the device credentials are not valid for this identity"
                                : "no Authorization header and no client certificate");
        return false;
    }
    hub_device_request_end(c->api->hub, conn);
    return true;
}

bool http_upload_start(http_ctx_t *c, http_resp_t *r)
{
    if (!device_auth(c, r))
        return true;
    unsigned breaks = c->api->opts.breaks;
    char why[160];
    json_t *body = http_body_json(c->req, false, why, sizeof why);
    if (!body) {
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, why);
        return true;
    }
    const json_t *bn = json_object_get(body, "blobName");
    if (!json_is_string(bn) || json_string_length(bn) == 0) {
        json_decref(body);
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                            "the body needs a non-empty string \"blobName\"");
        return true;
    }
    hub_upload_t up;
    hub_err_t e = hub_upload_start(c->api->hub, c->dev, json_string_value(bn), &up);
    json_decref(body);
    if (e != HUB_EOK) {
        http_resp_hub_error(r, breaks, e,
                            e == HUB_EARGUMENT_INVALID ? "the blob name is empty or too long" : NULL);
        return true;
    }
    const hub_config_t *cfg = hub_config(c->api->hub);
    http_resp_json(r, json_pack("{s:s, s:s, s:s, s:s, s:s}", "correlationId", up.correlation_id,
                                "hostName", cfg->host, "containerName", HUB_UPLOAD_CONTAINER,
                                "blobName", up.blob_name, "sasToken", up.sas_token));
    return true;
}

bool http_upload_notify(http_ctx_t *c, http_resp_t *r)
{
    if (!device_auth(c, r))
        return true;
    unsigned breaks = c->api->opts.breaks;
    char why[160];
    json_t *body = http_body_json(c->req, false, why, sizeof why);
    if (!body) {
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, why);
        return true;
    }
    const json_t *cid = json_object_get(body, "correlationId");
    const json_t *ok = json_object_get(body, "isSuccess");
    const json_t *code = json_object_get(body, "statusCode");
    const json_t *desc = json_object_get(body, "statusDescription");
    const char *bad = NULL;
    if (!c->token && !json_is_string(cid))
        bad = "the body needs a string \"correlationId\"";
    else if (!json_is_boolean(ok))
        bad = "the body needs a boolean \"isSuccess\"";
    else if (code && !json_is_integer(code))
        bad = "\"statusCode\" must be an integer";
    else if (desc && !json_is_string(desc) && !json_is_null(desc))
        bad = "\"statusDescription\" must be a string";
    if (bad) {
        json_decref(body);
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, bad);
        return true;
    }
    const char *id = c->token ? c->token : json_string_value(cid);
    hub_err_t e = hub_upload_complete(c->api->hub, c->dev, id, json_is_true(ok),
                                      code ? (int)json_integer_value(code) : 0,
                                      json_is_string(desc) ? json_string_value(desc) : "");
    json_decref(body);
    if (e != HUB_EOK) {
        http_resp_hub_error(r, breaks, e,
                            e == HUB_EARGUMENT_INVALID
                                ? "no active upload of this device has this correlation id"
                                : NULL);
        return true;
    }
    r->status = 204;
    return true;
}
