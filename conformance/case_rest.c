/* REST helpers for the HTTPS cases of jobs, file uploads and twin queries: owner and device tokens, requests through the seam, status and JSON checks. */
#include <stdio.h>
#include <string.h>

#include "conformance/case_rest.h"
/* token signing is client-side crypto, what an SDK does */
#include "sim/hub/auth.h"

#define NOHDR ((conf_rest_header_t){ NULL, NULL })

bool conf_rest_setup(conf_ctx_t *c, const char *extra)
{
    char cfg[1200];
    snprintf(cfg, sizeof cfg,
             "{\"policies\":[{\"name\":\"owner\",\"primaryKey\":\"%s\",\"rights\":[\"registryRead\","
             "\"registryWrite\",\"serviceConnect\",\"deviceConnect\"]}]%s}",
             CONF_KEY_B, extra ? extra : "");
    return conf_configure(c, cfg);
}

static void request(conf_ctx_t *c, const char *method, const char *path, const char *auth, const char *body,
                    conf_rest_header_t extra, conf_rest_header_t extra2, target_http_response_t *r)
{
    target_prop_t h[3];
    size_t n = 0;
    if (auth)
        h[n++] = (target_prop_t){ "Authorization", auth };
    if (extra.name)
        h[n++] = (target_prop_t){ extra.name, extra.value };
    if (extra2.name)
        h[n++] = (target_prop_t){ extra2.name, extra2.value };
    target_http_request_t req = { .method = method, .path = path, .headers = h, .n_headers = n,
                                  .body = body, .body_len = body ? strlen(body) : 0 };
    target_http_call_t call;
    c->ops->http_request(c->t, &req, &call, r);
    if (r->status == 0) { /* answered later (a live target) */
        conf_advance(c, 0);
        (void)c->ops->http_response(c->t, call, r);
    }
}

static void with_api(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s" CONF_REST_API, path, strchr(path, '?') ? "&" : "?");
}

bool conf_rest_service(conf_ctx_t *c, const char *method, const char *path, const char *body,
                       conf_rest_header_t extra, target_http_response_t *r)
{
    return conf_rest_service2(c, method, path, body, extra, NOHDR, r);
}

bool conf_rest_service2(conf_ctx_t *c, const char *method, const char *path, const char *body,
                        conf_rest_header_t extra, conf_rest_header_t extra2, target_http_response_t *r)
{
    char tok[1024], full[1024];
    if (hub_sas_make(CONF_KEY_B, c->ops->host(c->t), c->ops->unix_now(c->t) + 86400, "owner", tok, sizeof tok) !=
        HS_EOK)
        return conf_error(c, "cannot sign a service token");
    with_api(path, full, sizeof full);
    request(c, method, full, tok, body, extra, extra2, r);
    return true;
}

bool conf_rest_device(conf_ctx_t *c, const char *device_id, const char *method, const char *path,
                      const char *body, target_http_response_t *r)
{
    char tok[1024], full[1024];
    if (!conf_token(c, CONF_KEY_A, device_id, NULL, c->ops->unix_now(c->t) + 86400, tok, sizeof tok))
        return false;
    with_api(path, full, sizeof full);
    request(c, method, full, tok, body, NOHDR, NOHDR, r);
    return true;
}

void conf_rest_plain(conf_ctx_t *c, const char *method, const char *path, const char *body,
                     conf_rest_header_t extra, target_http_response_t *r)
{
    request(c, method, path, NULL, body, extra, NOHDR, r);
}

bool conf_rest_status(conf_ctx_t *c, const target_http_response_t *r, int want, const char *what)
{
    const char *code = target_http_header(r, "iothub-errorcode");
    return conf_check(c, r->status == want, what, "%d %s %.300s", r->status, code ? code : "", r->body);
}

json_t *conf_rest_json(conf_ctx_t *c, const target_http_response_t *r, const char *what)
{
    json_error_t e;
    json_t *doc = json_loadb(r->body, r->body_len, 0, &e);
    if (!doc)
        conf_check(c, false, what, "not JSON (%s): %.200s", e.text, r->body);
    return doc;
}
