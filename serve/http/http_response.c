/* Building REST responses: owned headers and body, JSON bodies, and the hub's error format (status, iothub-errorcode, ErrorCode:<Name>; body). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_internal.h"

void http_resp_init(http_resp_t *r, int status)
{
    memset(r, 0, sizeof *r);
    r->status = status;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

void http_resp_header(http_resp_t *r, const char *name, const char *value)
{
    if (r->failed)
        return;
    if (r->n_headers == r->cap_headers) {
        size_t cap = r->cap_headers ? r->cap_headers * 2 : 8;
        http_header_t *h = realloc(r->headers, cap * sizeof *h);
        if (!h) {
            r->failed = true;
            return;
        }
        r->headers = h;
        r->cap_headers = cap;
    }
    char *n = dup_str(name), *v = dup_str(value ? value : "");
    if (!n || !v) {
        free(n);
        free(v);
        r->failed = true;
        return;
    }
    r->headers[r->n_headers].name = n;
    r->headers[r->n_headers].value = v;
    r->n_headers++;
}

void http_resp_headerf(http_resp_t *r, const char *name, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    http_resp_header(r, name, buf);
}

void http_resp_body(http_resp_t *r, const void *body, size_t len, const char *content_type)
{
    if (r->failed)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    if (len) {
        r->body = malloc(len);
        if (!r->body) {
            r->failed = true;
            return;
        }
        memcpy(r->body, body, len);
        r->body_len = len;
    }
    if (content_type)
        http_resp_header(r, "Content-Type", content_type);
}

void http_resp_json(http_resp_t *r, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    json_decref(doc);
    if (!text) {
        r->failed = true;
        return;
    }
    http_resp_body(r, text, strlen(text), "application/json; charset=utf-8");
    free(text);
}

/* Every error body has one shape, table row or not. */
static void error_body(http_resp_t *r, unsigned breaks, const char *name, const char *message,
                       const char *detail)
{
    char msg[1024];
    if (breaks & HTTP_BREAK_ERROR_BODY_BARE)
        snprintf(msg, sizeof msg, "%s%s%s", message, detail ? " " : "", detail ? detail : "");
    else
        snprintf(msg, sizeof msg, "ErrorCode:%s;%s%s%s", name, message, detail ? " " : "",
                 detail ? detail : "");
    if (!(breaks & HTTP_BREAK_NO_ERRORCODE_HEADER))
        http_resp_header(r, "iothub-errorcode", name);
    http_resp_json(r, json_pack("{s:s, s:s}", "Message", msg, "ExceptionMessage", message));
}

void http_resp_hub_error(http_resp_t *r, unsigned breaks, hub_err_t err, const char *detail)
{
    const hub_error_info_t *e = hub_error_info(err);
    r->status = (breaks & HTTP_BREAK_ERROR_STATUS_FLAT) ? 400 : e->http_status;
    if (breaks & (HTTP_BREAK_ERROR_BODY_BARE | HTTP_BREAK_NO_ERRORCODE_HEADER)) {
        error_body(r, breaks, e->name, e->message, detail);
        return;
    }
    /* The hub's own formatter, so the table stays the single source. */
    size_t need = hub_error_body(err, detail, NULL, 0);
    char *buf = malloc(need + 1);
    if (!buf) {
        r->failed = true;
        return;
    }
    hub_error_body(err, detail, buf, need + 1);
    http_resp_header(r, "iothub-errorcode", e->name);
    http_resp_body(r, buf, need, "application/json; charset=utf-8");
    free(buf);
}

void http_resp_error(http_resp_t *r, unsigned breaks, int status, const char *name,
                     const char *message, const char *detail)
{
    r->status = status;
    error_body(r, breaks, name, message, detail);
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

void http_resp_free(http_resp_t *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void http_resp_send(http_resp_t *r, http_respond_fn respond, void *ctx)
{
    http_response_t out;
    if (r->failed) {
        out = (http_response_t){ .status = 500, .reason = http_reason(500) };
    } else {
        out = (http_response_t){ .status = r->status,
                                 .reason = http_reason(r->status),
                                 .headers = r->headers,
                                 .n_headers = r->n_headers,
                                 .body = r->body_len ? r->body : NULL,
                                 .body_len = r->body_len };
    }
    if (respond)
        respond(ctx, &out);
    http_resp_free(r);
}
