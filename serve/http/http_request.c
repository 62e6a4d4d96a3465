/* Reading REST requests: headers by name, query parameters, If-Match, JSON bodies with precise parse errors. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http_internal.h"
#include "sim/hub/auth.h"

const char *http_req_header(const http_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

bool http_query_get(const char *query, const char *name, char *value, size_t cap)
{
    if (value && cap)
        value[0] = '\0';
    if (!query)
        return false;
    size_t nlen = strlen(name);
    const char *p = query;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        if (klen == nlen && strncasecmp(p, name, nlen) == 0) {
            if (eq && value && cap) {
                size_t vlen = len - klen - 1;
                if (hub_url_decode(eq + 1, vlen, value, cap) != HS_EOK)
                    value[0] = '\0';
            }
            return true;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

const char *http_req_if_match(const http_api_t *api, const http_request_t *req, char *buf,
                              size_t cap)
{
    if (api->opts.breaks & HTTP_BREAK_IF_MATCH_IGNORED)
        return NULL;
    const char *v = http_req_header(req, "If-Match");
    if (!v)
        return NULL;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    /* The SDKs quote every etag, "*" included (`If-Match: "*"`); the hub
     * wants the bare value. */
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

json_t *http_body_json(const http_request_t *req, bool any_value, char *why, size_t cap)
{
    if (!req->body_len) {
        snprintf(why, cap, "the request body is empty; a JSON %s is required",
                 any_value ? "value" : "object");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &jerr);
    if (!doc) {
        snprintf(why, cap, "the request body is not JSON: line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return NULL;
    }
    if (!any_value && !json_is_object(doc)) {
        snprintf(why, cap, "the request body must be a JSON object, got %s",
                 json_is_array(doc)     ? "an array"
                 : json_is_string(doc)  ? "a string"
                 : json_is_number(doc)  ? "a number"
                 : json_is_boolean(doc) ? "a boolean"
                                        : "null");
        json_decref(doc);
        return NULL;
    }
    return doc;
}
