/* Twins over REST: GET, PATCH (merge) and PUT (replace) of device and module twins with If-Match and an ETag header. */
#include <stdio.h>
#include <string.h>
#include "http_internal.h"

/*
 * PATCH and PUT answer 200 with the whole twin, as the service does [sdk:
 * the Node registry's updateTwin reads the new twin from the response].
 * The hub's change calls return only the new etag, so the twin is read
 * back afterwards; if that read is refused (the twin-read throttle) the
 * change still happened and the answer is the short form
 * {"deviceId", ["moduleId",] "etag"} rather than an error.
 */

static void answer_twin(http_ctx_t *c, http_resp_t *r, json_t *twin)
{
    const char *etag = json_string_value(json_object_get(twin, "etag"));
    if (etag)
        http_resp_headerf(r, "ETag", "\"%s\"", etag);
    http_resp_json(r, twin);
    (void)c;
}

bool http_twin_get(http_ctx_t *c, http_resp_t *r)
{
    json_t *twin = NULL;
    hub_err_t e = hub_twin_get(c->api->hub, c->dev, c->mod, &twin);
    if (e)
        http_resp_hub_error(r, c->api->opts.breaks, e, NULL);
    else
        answer_twin(c, r, twin);
    return true;
}

typedef hub_err_t (*twin_change_fn)(hub_t *hub, const char *device_id, const char *module_id,
                                    const char *json, size_t len, const char *if_match,
                                    char *etag_out);

static bool twin_change(http_ctx_t *c, http_resp_t *r, twin_change_fn fn)
{
    unsigned breaks = c->api->opts.breaks;
    char im[128], etag[HUB_ETAG_CAP] = "";
    const char *if_match = http_req_if_match(c->api, c->req, im, sizeof im);
    /* The hub judges the body (and counts a refusal); this layer only
     * explains a JSON refusal precisely. */
    hub_err_t e = fn(c->api->hub, c->dev, c->mod, c->req->body ? c->req->body : "", c->req->body_len,
                     if_match, etag);
    if (e) {
        char why[256];
        json_t *doc = e == HUB_EARGUMENT_INVALID ? http_body_json(c->req, false, why, sizeof why) : NULL;
        bool explained = e == HUB_EARGUMENT_INVALID && !doc;
        json_decref(doc);
        http_resp_hub_error(r, breaks, e, explained ? why : NULL);
        return true;
    }
    json_t *twin = NULL;
    if (hub_twin_get(c->api->hub, c->dev, c->mod, &twin) == HUB_EOK) {
        answer_twin(c, r, twin);
        return true;
    }
    json_t *o = json_pack("{s:s}", "deviceId", c->dev);
    if (o && c->mod)
        json_object_set_new(o, "moduleId", json_string(c->mod));
    if (o)
        json_object_set_new(o, "etag", json_string(etag));
    http_resp_headerf(r, "ETag", "\"%s\"", etag);
    http_resp_json(r, o);
    return true;
}

bool http_twin_patch(http_ctx_t *c, http_resp_t *r)
{
    return twin_change(c, r, hub_twin_patch);
}

bool http_twin_put(http_ctx_t *c, http_resp_t *r)
{
    return twin_change(c, r, hub_twin_put);
}
