/* REST client requests: paths with encoded ids, api-version, service SAS, If-Match quoting, property headers, error decoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub_errors.h"
#include "transports/tr_rest.h"

void tr_rest_init(tr_rest_t *r, const tr_connstr_t *cs, tr_loop_t *l, tr_tls_t *tls)
{
    memset(r, 0, sizeof *r);
    snprintf(r->host_name, sizeof r->host_name, "%s", cs->host);
    snprintf(r->key_name, sizeof r->key_name, "%s", cs->key_name);
    snprintf(r->key, sizeof r->key, "%s", cs->key);
    r->https.loop = l;
    r->https.tls = tls;
    r->https.host = cs->connect_host;
    r->https.port = cs->https_port;
    r->https.tls_name = cs->host;
}

hs_err_t tr_rest_service_token(const tr_rest_t *r, int64_t ttl_s, char *out, size_t cap)
{
    return hub_sas_make(r->key, r->host_name, (int64_t)time(NULL) + ttl_s, r->key_name, out, cap);
}

hs_err_t tr_rest_identity_path(const char *prefix, const char *device_id, const char *module_id,
                               const char *suffix, char *out, size_t cap)
{
    char d[800], m[800];
    if (hub_url_encode(device_id, d, sizeof d) != HS_EOK)
        return HS_ERANGE;
    int n;
    if (module_id && *module_id) {
        if (hub_url_encode(module_id, m, sizeof m) != HS_EOK)
            return HS_ERANGE;
        n = snprintf(out, cap, "%s/%s/modules/%s%s", prefix, d, m, suffix ? suffix : "");
    } else {
        n = snprintf(out, cap, "%s/%s%s", prefix, d, suffix ? suffix : "");
    }
    return n < 0 || (size_t)n >= cap ? HS_ERANGE : HS_EOK;
}

#define MAX_HEADERS 40

hs_err_t tr_rest_start(const tr_rest_t *r, const char *method, const char *path, const char *extra_query,
                       const char *auth, const tr_header_t *headers, size_t n_headers, const void *body,
                       size_t body_len, tr_http_req_t **out, char *why, size_t cap)
{
    char tok[1024];
    if (!auth) {
        if (tr_rest_service_token(r, 3600, tok, sizeof tok) != HS_EOK) {
            snprintf(why, cap, "cannot sign a service token with SharedAccessKey (not base64?)");
            return HS_EINVAL;
        }
        auth = tok;
    }
    size_t plen = strlen(path) + 64 + (extra_query ? strlen(extra_query) : 0);
    char *full = malloc(plen);
    if (!full)
        return HS_ENOMEM;
    snprintf(full, plen, "%s?api-version=%s%s%s", path, TR_API_VERSION, extra_query ? "&" : "",
             extra_query ? extra_query : "");
    tr_header_t hs[MAX_HEADERS];
    size_t n = 0;
    if (*auth)
        hs[n++] = (tr_header_t){ "Authorization", auth };
    hs[n++] = (tr_header_t){ "User-Agent", "hubsim-live/1" };
    if (body_len)
        hs[n++] = (tr_header_t){ "Content-Type", "application/json; charset=utf-8" };
    for (size_t i = 0; i < n_headers && n < MAX_HEADERS; i++)
        hs[n++] = headers[i];
    tr_http_request_t rq = { .method = method, .path = full, .headers = hs, .n_headers = n, .body = body,
                             .body_len = body_len };
    hs_err_t e = tr_http_start(&r->https, &rq, out, why, cap);
    free(full);
    return e;
}

/* The SDKs quote every etag (If-Match: "*"); the hub strips quotes. */
static const char *quote(const char *etag, char *buf, size_t cap)
{
    if (!etag)
        return NULL;
    if (etag[0] == '"')
        snprintf(buf, cap, "%s", etag);
    else
        snprintf(buf, cap, "\"%s\"", etag);
    return buf;
}

hs_err_t tr_rest_identity_put(const tr_rest_t *r, const char *device_id, const char *module_id,
                              const char *json, const char *if_match, tr_http_req_t **out, char *why, size_t cap)
{
    char path[2048], q[200];
    if (tr_rest_identity_path("/devices", device_id, module_id, NULL, path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    tr_header_t h = { "If-Match", quote(if_match, q, sizeof q) };
    return tr_rest_start(r, "PUT", path, NULL, NULL, &h, if_match ? 1 : 0, json, strlen(json), out, why, cap);
}

hs_err_t tr_rest_identity_get(const tr_rest_t *r, const char *device_id, const char *module_id,
                              tr_http_req_t **out, char *why, size_t cap)
{
    char path[2048];
    if (tr_rest_identity_path("/devices", device_id, module_id, NULL, path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    return tr_rest_start(r, "GET", path, NULL, NULL, NULL, 0, NULL, 0, out, why, cap);
}

hs_err_t tr_rest_identity_delete(const tr_rest_t *r, const char *device_id, const char *module_id,
                                 const char *if_match, tr_http_req_t **out, char *why, size_t cap)
{
    char path[2048], q[200];
    if (tr_rest_identity_path("/devices", device_id, module_id, NULL, path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    tr_header_t h = { "If-Match", quote(if_match, q, sizeof q) };
    return tr_rest_start(r, "DELETE", path, NULL, NULL, &h, if_match ? 1 : 0, NULL, 0, out, why, cap);
}

hs_err_t tr_rest_twin(const tr_rest_t *r, const char *method, const char *device_id, const char *module_id,
                      const char *json, const char *if_match, tr_http_req_t **out, char *why, size_t cap)
{
    char path[2048], q[200];
    if (tr_rest_identity_path("/twins", device_id, module_id, NULL, path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    tr_header_t h = { "If-Match", quote(if_match, q, sizeof q) };
    return tr_rest_start(r, method, path, NULL, NULL, &h, if_match ? 1 : 0, json, json ? strlen(json) : 0, out,
                         why, cap);
}

hs_err_t tr_rest_method_invoke(const tr_rest_t *r, const char *device_id, const char *module_id,
                               const char *body, size_t len, tr_http_req_t **out, char *why, size_t cap)
{
    char path[2048];
    if (tr_rest_identity_path("/twins", device_id, module_id, "/methods", path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    return tr_rest_start(r, "POST", path, NULL, NULL, NULL, 0, body, len, out, why, cap);
}

hs_err_t tr_rest_d2c(const tr_rest_t *r, const char *device_id, const char *module_id, const char *token,
                     const tr_header_t *props, size_t n_props, const void *body, size_t len,
                     tr_http_req_t **out, char *why, size_t cap)
{
    char path[2048];
    if (tr_rest_identity_path("/devices", device_id, module_id, "/messages/events", path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    /* tr_rest_start labels a body JSON; the SDK sends none: put the bytes
     * through with the property headers only. */
    char full[2200];
    snprintf(full, sizeof full, "%s?api-version=%s", path, TR_API_VERSION);
    tr_header_t hs[MAX_HEADERS];
    size_t n = 0;
    hs[n++] = (tr_header_t){ "Authorization", token };
    hs[n++] = (tr_header_t){ "User-Agent", "hubsim-live/1" };
    for (size_t i = 0; i < n_props && n < MAX_HEADERS; i++)
        hs[n++] = props[i];
    tr_http_request_t rq = { .method = "POST", .path = full, .headers = hs, .n_headers = n, .body = body,
                             .body_len = len };
    return tr_http_start(&r->https, &rq, out, why, cap);
}

hs_err_t tr_rest_c2d_receive(const tr_rest_t *r, const char *device_id, const char *token,
                             tr_http_req_t **out, char *why, size_t cap)
{
    char path[2048];
    if (tr_rest_identity_path("/devices", device_id, NULL, "/messages/deviceBound", path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    return tr_rest_start(r, "GET", path, NULL, token, NULL, 0, NULL, 0, out, why, cap);
}

hs_err_t tr_rest_c2d_settle(const tr_rest_t *r, const char *device_id, const char *token, const char *lock,
                            const char *how, tr_http_req_t **out, char *why, size_t cap)
{
    char enc[400], suffix[500], path[2048];
    if (hub_url_encode(lock, enc, sizeof enc) != HS_EOK)
        return HS_ERANGE;
    bool abandon = strcmp(how, "abandon") == 0;
    snprintf(suffix, sizeof suffix, "/messages/deviceBound/%s%s", enc, abandon ? "/abandon" : "");
    if (tr_rest_identity_path("/devices", device_id, NULL, suffix, path, sizeof path) != HS_EOK)
        return HS_ERANGE;
    tr_header_t h = { "If-Match", lock };
    return tr_rest_start(r, abandon ? "POST" : "DELETE", path, strcmp(how, "reject") == 0 ? "reject" : NULL,
                         token, &h, 1, NULL, 0, out, why, cap);
}

void tr_rest_error(const tr_http_response_t *resp, int *code, char *name, size_t name_cap, char *detail,
                   size_t detail_cap)
{
    *code = 0;
    if (name_cap)
        name[0] = '\0';
    if (detail_cap)
        detail[0] = '\0';
    const char *h = tr_http_header(resp, "iothub-errorcode");
    if (h)
        snprintf(name, name_cap, "%s", h);
    json_t *doc = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const char *msg = doc ? json_string_value(json_object_get(doc, "Message")) : NULL;
    if (msg) {
        const char *semi = strchr(msg, ';');
        if (strncmp(msg, "ErrorCode:", 10) == 0 && semi) {
            if (!*name)
                snprintf(name, name_cap, "%.*s", (int)(semi - msg - 10), msg + 10);
            snprintf(detail, detail_cap, "%s", semi + 1);
        } else {
            snprintf(detail, detail_cap, "%s", msg);
        }
    } else if (resp->body_len) {
        snprintf(detail, detail_cap, "%.*s", (int)(resp->body_len > 150 ? 150 : resp->body_len), resp->body);
    }
    json_decref(doc);
    int row = *name ? hub_error_by_name(name) : -1;
    if (row >= 0)
        *code = hub_error_info((hub_err_t)row)->code;
}
