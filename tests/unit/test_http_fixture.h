/* Shared fixture of the REST API tests: a hub on a virtual-time kernel, tokens, requests, and a response recorder. */
#ifndef TEST_HTTP_FIXTURE_H
#define TEST_HTTP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "serve/http/http_api.h"
#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

/* Literals from NOTES.md and the hub's defaults, never read back from the
 * code under test. */
#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define EPOCH 1767225600LL
#define HOST "hubsim.azure-devices.net"
#define THUMB "0123456789ABCDEF0123456789ABCDEF01234567"

/* What the api answered. */
typedef struct {
    int calls;
    int status;
    size_t n_headers;
    char hname[64][64];
    char hvalue[64][512];
    char body[16384];
    size_t body_len;
} capture_t;

/* An endpoint message as the hub delivered it. */
typedef struct {
    int count;
    char endpoint[32];
    char body[256];
    char message_id[160];
    char correlation_id[160];
    char content_type[64];
    char content_encoding[64];
    char to[160];
    char auth_method[160];
    size_t n_app;
    char app_name[8][64];
    char app_value[8][128];
} endpoint_t;

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    http_api_t *api;
    endpoint_t ep;
    char svc_token[1024];
} fx_t;

static inline void fx_on_deliver(void *ctx, const char *endpoint, const hub_msg_t *msg,
                                 uint32_t device_no)
{
    (void)device_no;
    endpoint_t *e = ctx;
    e->count++;
    snprintf(e->endpoint, sizeof e->endpoint, "%s", endpoint);
    size_t len;
    const void *b = hub_msg_body(msg, &len);
    snprintf(e->body, sizeof e->body, "%.*s", (int)len, (const char *)b);
#define FX_SYS(field, id)                                                                          \
    snprintf(e->field, sizeof e->field, "%s", hub_msg_get_sys(msg, id) ? hub_msg_get_sys(msg, id) : "")
    FX_SYS(message_id, HUB_SYS_MESSAGE_ID);
    FX_SYS(correlation_id, HUB_SYS_CORRELATION_ID);
    FX_SYS(content_type, HUB_SYS_CONTENT_TYPE);
    FX_SYS(content_encoding, HUB_SYS_CONTENT_ENCODING);
    FX_SYS(to, HUB_SYS_TO);
    FX_SYS(auth_method, HUB_SYS_CONNECTION_AUTH_METHOD);
#undef FX_SYS
    e->n_app = 0;
    for (size_t i = 0; i < hub_msg_app_count(msg) && i < 8; i++) {
        const char *n, *v;
        assert_int_equal(hub_msg_app_at(msg, i, &n, &v), HS_EOK);
        snprintf(e->app_name[i], sizeof e->app_name[i], "%s", n);
        snprintf(e->app_value[i], sizeof e->app_value[i], "%s", v);
        e->n_app++;
    }
}

static const hub_endpoint_ops_t fx_endpoint_ops = { .deliver = fx_on_deliver };

static inline fx_t *fx_new_opts(const http_api_opts_t *opts)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->k = sim_kernel_new(7, EPOCH);
    char why[256];
    assert_int_equal(hub_new(f->k, NULL, &f->hub, why, sizeof why), HS_EOK);
    hub_set_endpoint_sink(f->hub, &fx_endpoint_ops, &f->ep);
    f->api = http_api_new(f->hub, opts);
    assert_non_null(f->api);
    const hub_config_policy_t *owner = hub_config_find_policy(hub_config(f->hub), "iothubowner");
    assert_non_null(owner);
    assert_int_equal(hub_sas_make(owner->primary_key, HOST, EPOCH + 86400, "iothubowner",
                                  f->svc_token, sizeof f->svc_token),
                     HS_EOK);
    hub_identity_spec_t s = { .device_id = "dev1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
    return f;
}

static inline fx_t *fx_new(void)
{
    return fx_new_opts(NULL);
}

/* Ends the run: everything answered, books balanced, nothing leaked. */
static inline void fx_free(fx_t *f)
{
    sim_kernel_run_until(f->k, sim_kernel_now(f->k) + 400 * SIM_SEC);
    char why[256];
    assert_int_equal(hub_check(f->hub, why, sizeof why), HS_EOK);
    assert_int_equal(http_api_pending(f->api), 0);
    hub_free(f->hub);
    http_api_free(f->api);
    assert_int_equal(sim_kernel_pending(f->k), 0);
    sim_kernel_free(f->k);
    free(f);
}

static inline void fx_capture(void *ctx, const http_response_t *resp)
{
    capture_t *c = ctx;
    c->calls++;
    c->status = resp->status;
    assert_non_null(resp->reason);
    c->n_headers = 0;
    for (size_t i = 0; i < resp->n_headers && i < 64; i++) {
        snprintf(c->hname[i], sizeof c->hname[i], "%s", resp->headers[i].name);
        snprintf(c->hvalue[i], sizeof c->hvalue[i], "%s", resp->headers[i].value);
        c->n_headers++;
    }
    assert_true(resp->body_len < sizeof c->body);
    if (resp->body_len)
        memcpy(c->body, resp->body, resp->body_len);
    c->body[resp->body_len] = '\0';
    c->body_len = resp->body_len;
}

static inline const char *cap_header(const capture_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_headers; i++)
        if (strcasecmp(c->hname[i], name) == 0)
            return c->hvalue[i];
    return NULL;
}

/* One request: auth is the Authorization value (NULL = none); extra headers
 * as "Name: value" strings, NULL-terminated; body NULL = none. */
static inline uint64_t fx_send_peer(fx_t *f, const char *method, const char *path, const char *auth,
                                    const char *const *extra, const char *body,
                                    const wire_peer_t *peer, capture_t *out)
{
    http_header_t h[24];
    char names[24][64];
    size_t n = 0;
    if (auth)
        h[n++] = (http_header_t){ "Authorization", auth };
    for (size_t i = 0; extra && extra[i]; i++) {
        const char *colon = strchr(extra[i], ':');
        assert_non_null(colon);
        snprintf(names[n], sizeof names[n], "%.*s", (int)(colon - extra[i]), extra[i]);
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        h[n] = (http_header_t){ names[n], v };
        n++;
    }
    http_request_t req = { .method = method,
                           .path = path,
                           .headers = h,
                           .n_headers = n,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .peer = peer };
    memset(out, 0, sizeof *out);
    return http_api_handle(f->api, &req, fx_capture, out);
}

static inline uint64_t fx_send(fx_t *f, const char *method, const char *path, const char *auth,
                               const char *const *extra, const char *body, capture_t *out)
{
    return fx_send_peer(f, method, path, auth, extra, body, NULL, out);
}

/* A service request with the owner's token, answered at once. */
static inline void fx_svc(fx_t *f, const char *method, const char *path, const char *const *extra,
                          const char *body, capture_t *out)
{
    assert_int_equal(fx_send(f, method, path, f->svc_token, extra, body, out), 0);
    assert_int_equal(out->calls, 1);
}

static inline void fx_device_token(const char *dev, const char *mod, int64_t expiry, char *tok,
                                   size_t cap)
{
    char res[512];
    if (mod)
        snprintf(res, sizeof res, HOST "/devices/%s/modules/%s", dev, mod);
    else
        snprintf(res, sizeof res, HOST "/devices/%s", dev);
    assert_int_equal(hub_sas_make(KEY, res, expiry, NULL, tok, cap), HS_EOK);
}

/* The body of an error answer: status, header and Message prefix as NOTES.md gives them. */
static inline void assert_hub_error(const capture_t *c, int status, const char *name)
{
    assert_int_equal(c->status, status);
    const char *h = cap_header(c, "iothub-errorcode");
    assert_non_null(h);
    assert_string_equal(h, name);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "{\"Message\":\"ErrorCode:%s;", name);
    if (strncmp(c->body, prefix, strlen(prefix)) != 0)
        fail_msg("body %s does not start with %s", c->body, prefix);
    assert_non_null(strstr(c->body, "\"ExceptionMessage\":"));
    const char *ct = cap_header(c, "Content-Type");
    assert_non_null(ct);
    assert_non_null(strstr(ct, "application/json"));
}

/* A JSON member of a captured body. */
static inline json_t *cap_json(const capture_t *c)
{
    json_error_t e;
    json_t *doc = json_loads(c->body, JSON_DECODE_ANY, &e);
    if (!doc)
        fail_msg("body is not JSON: %s (%s)", c->body, e.text);
    return doc;
}

#endif
