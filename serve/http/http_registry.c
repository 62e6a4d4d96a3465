/* Identity registry over REST: device and module JSON in the SDKs' shape, PUT/GET/DELETE with If-Match, listing, statistics, C2D purge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http_internal.h"

/*
 * The device JSON is what the service SDKs send and read back
 * (azure-iothub Device / Module): deviceId, moduleId, generationId, etag,
 * status, connectionState, authentication {type, symmetricKey,
 * x509Thumbprint}, cloudToDeviceMessageCount and the time fields.  The hub
 * keeps no activity or state-change times, so those are the .NET
 * DateTime.MinValue text the service sends for "never" [sdk].
 *
 * PUT without If-Match creates (409 when the identity exists); PUT with
 * If-Match updates (404 when absent [?], 412 on a stale etag).  An update
 * keeps what the body leaves out: keys given as null or "" are kept, a
 * missing status or authentication type keeps the current one.
 */

#define NEVER_TIME "0001-01-01T00:00:00Z"

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *identity_json(hub_t *hub, const hub_identity_t *id)
{
    bool module = id->module_id[0] != '\0';
    size_t c2d = module ? 0 : hub_c2d_depth(hub_c2d_store(hub), id->device_no);
    json_t *auth = json_pack("{s:{s:o, s:o}, s:{s:o, s:o}, s:s}", "symmetricKey", "primaryKey",
                             str_or_null(id->primary_key), "secondaryKey",
                             str_or_null(id->secondary_key), "x509Thumbprint", "primaryThumbprint",
                             str_or_null(id->primary_thumbprint), "secondaryThumbprint",
                             str_or_null(id->secondary_thumbprint), "type",
                             id->x509 ? "selfSigned" : "sas");
    json_t *o = json_object();
    if (!auth || !o) {
        json_decref(auth);
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "deviceId", json_string(id->device_id));
    if (module)
        json_object_set_new(o, "moduleId", json_string(id->module_id));
    json_object_set_new(o, "generationId", json_string(id->generation_id));
    json_object_set_new(o, "etag", json_string(id->etag));
    json_object_set_new(o, "connectionState", json_string(id->connected ? "Connected" : "Disconnected"));
    if (!module) {
        json_object_set_new(o, "status", json_string(id->enabled ? "enabled" : "disabled"));
        json_object_set_new(o, "statusReason", json_null());
        json_object_set_new(o, "statusUpdatedTime", json_string(NEVER_TIME));
    }
    json_object_set_new(o, "connectionStateUpdatedTime", json_string(NEVER_TIME));
    json_object_set_new(o, "lastActivityTime", json_string(NEVER_TIME));
    json_object_set_new(o, "cloudToDeviceMessageCount", json_integer((json_int_t)c2d));
    json_object_set_new(o, "authentication", auth);
    if (!module) {
        json_object_set_new(o, "capabilities", json_pack("{s:b}", "iotEdge", id->iot_edge));
        /* Field gateways (docs/gateways.md): only when there is a scope. */
        if (id->device_scope[0])
            json_object_set_new(o, "deviceScope", json_string(id->device_scope));
        if (id->parent_scope[0])
            json_object_set_new(o, "parentScopes", json_pack("[s]", id->parent_scope));
    }
    return o;
}

static void answer_identity(http_ctx_t *c, http_resp_t *r, const hub_identity_t *id)
{
    json_t *o = identity_json(c->api->hub, id);
    if (!o) {
        r->failed = true;
        return;
    }
    http_resp_headerf(r, "ETag", "\"%s\"", id->etag);
    http_resp_json(r, o);
}

static const char *type_name(const json_t *v)
{
    return json_is_object(v)    ? "an object"
           : json_is_array(v)   ? "an array"
           : json_is_string(v)  ? "a string"
           : json_is_number(v)  ? "a number"
           : json_is_boolean(v) ? "a boolean"
                                : "null";
}

/* A string member that may be absent or null (→ *out NULL). */
static bool opt_string(const json_t *obj, const char *key, const char *where, const char **out,
                       char *why, size_t cap)
{
    *out = NULL;
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        snprintf(why, cap, "%s%s: expected a string or null, got %s", where, key, type_name(v));
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool opt_object(const json_t *obj, const char *key, const char *where, const json_t **out,
                       char *why, size_t cap)
{
    *out = NULL;
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_object(v)) {
        snprintf(why, cap, "%s%s: expected an object or null, got %s", where, key, type_name(v));
        return false;
    }
    *out = v;
    return true;
}

typedef struct {
    hub_identity_spec_t spec;
    bool has_status;
    bool has_type;
    char parent[HUB_CONFIG_ID_MAX + 1]; /* spec.parent_id points here */
} parsed_identity_t;

/* A scope text to the gateway device it names: false with why when it
 * names no live IoT Edge device.  "" = no parent. */
static bool scope_parent(hub_t *hub, const char *key, const char *scope, char *out, size_t ocap,
                         char *why, size_t cap)
{
    out[0] = '\0';
    if (!scope[0])
        return true;
    hub_err_t e = hub_gateway_scope_device(hub, scope, out, ocap);
    if (e != HUB_EOK) {
        snprintf(why, cap, "%s \"%.200s\" names no IoT Edge device of this hub", key, scope);
        return false;
    }
    return true;
}

/* capabilities.iotEdge, deviceScope and parentScopes (devices only).  A
 * device's own scope (an edge device's deviceScope) names no parent; a
 * leaf's deviceScope names its gateway; an edge device's parentScopes[0]
 * names its parent [doc].  Absent = keep (update) / none (create). */
static bool parse_gateway_fields(hub_t *hub, const json_t *doc, const char *dev,
                                 parsed_identity_t *p, char *why, size_t cap)
{
    const json_t *caps;
    if (!opt_object(doc, "capabilities", "", &caps, why, cap))
        return false;
    const json_t *edge = caps ? json_object_get(caps, "iotEdge") : NULL;
    if (edge && !json_is_null(edge)) {
        if (!json_is_boolean(edge)) {
            snprintf(why, cap, "capabilities.iotEdge: expected a boolean, got %s", type_name(edge));
            return false;
        }
        p->spec.has_iot_edge = true;
        p->spec.iot_edge = json_is_true(edge);
    }
    const char *scope;
    if (!opt_string(doc, "deviceScope", "", &scope, why, cap))
        return false;
    const json_t *parents = json_object_get(doc, "parentScopes");
    if (parents && !json_is_null(parents) && !json_is_array(parents)) {
        snprintf(why, cap, "parentScopes: expected an array or null, got %s", type_name(parents));
        return false;
    }
    char named[HUB_CONFIG_ID_MAX + 1];
    if (scope) {
        if (!scope_parent(hub, "deviceScope", scope, named, sizeof named, why, cap))
            return false;
        if (strcmp(named, dev) != 0) { /* not the device's own scope */
            snprintf(p->parent, sizeof p->parent, "%s", named);
            p->spec.parent_id = p->parent;
            return true;
        }
    }
    if (parents && json_array_size(parents) > 0) {
        const char *ps = json_string_value(json_array_get(parents, 0));
        if (!ps) {
            snprintf(why, cap, "parentScopes[0]: expected a string");
            return false;
        }
        if (!scope_parent(hub, "parentScopes[0]", ps, named, sizeof named, why, cap))
            return false;
        snprintf(p->parent, sizeof p->parent, "%s", named);
        p->spec.parent_id = p->parent;
    } else if ((parents && json_is_array(parents)) || (scope && !scope[0])) {
        p->spec.parent_id = ""; /* parentScopes [] or deviceScope "": no parent */
    }
    return true;
}

static const char *nonempty(const char *s)
{
    return s && s[0] ? s : NULL;
}

static bool parse_identity(hub_t *hub, const json_t *doc, const char *dev, const char *mod,
                           parsed_identity_t *p, char *why, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->spec.device_id = dev;
    p->spec.module_id = mod;
    const char *body_dev, *body_mod, *status, *type;
    if (!opt_string(doc, "deviceId", "", &body_dev, why, cap) ||
        !opt_string(doc, "moduleId", "", &body_mod, why, cap) ||
        !opt_string(doc, "status", "", &status, why, cap))
        return false;
    if (body_dev && strcmp(body_dev, dev) != 0) {
        snprintf(why, cap, "deviceId '%.100s' in the body does not match '%.100s' in the path",
                 body_dev, dev);
        return false;
    }
    if (mod && body_mod && strcmp(body_mod, mod) != 0) {
        snprintf(why, cap, "moduleId '%.100s' in the body does not match '%.100s' in the path",
                 body_mod, mod);
        return false;
    }
    if (status) {
        if (strcasecmp(status, "enabled") == 0) {
            p->spec.disabled = false;
        } else if (strcasecmp(status, "disabled") == 0) {
            p->spec.disabled = true;
        } else {
            snprintf(why, cap, "status: expected \"enabled\" or \"disabled\", got \"%.64s\"", status);
            return false;
        }
        p->has_status = true;
    }
    const json_t *auth, *sym, *x509;
    if (!opt_object(doc, "authentication", "", &auth, why, cap) ||
        !opt_string(auth, "type", "authentication.", &type, why, cap) ||
        !opt_object(auth, "symmetricKey", "authentication.", &sym, why, cap) ||
        !opt_object(auth, "x509Thumbprint", "authentication.", &x509, why, cap))
        return false;
    const char *pk, *sk, *tp1, *tp2;
    if (!opt_string(sym, "primaryKey", "authentication.symmetricKey.", &pk, why, cap) ||
        !opt_string(sym, "secondaryKey", "authentication.symmetricKey.", &sk, why, cap) ||
        !opt_string(x509, "primaryThumbprint", "authentication.x509Thumbprint.", &tp1, why, cap) ||
        !opt_string(x509, "secondaryThumbprint", "authentication.x509Thumbprint.", &tp2, why, cap))
        return false;
    if (type) {
        if (strcasecmp(type, "sas") == 0) {
            p->spec.x509 = false;
        } else if (strcasecmp(type, "selfSigned") == 0) {
            p->spec.x509 = true;
        } else {
            snprintf(why, cap,
                     "authentication.type \"%.64s\" is not modelled (the hub knows \"sas\" and "
                     "\"selfSigned\")",
                     type);
            return false;
        }
        p->has_type = true;
    }
    p->spec.primary_key = nonempty(pk);
    p->spec.secondary_key = nonempty(sk);
    p->spec.primary_thumbprint = nonempty(tp1);
    p->spec.secondary_thumbprint = nonempty(tp2);
    if (!mod && !parse_gateway_fields(hub, doc, dev, p, why, cap))
        return false;
    return true;
}

bool http_registry_get(http_ctx_t *c, http_resp_t *r)
{
    hub_identity_t id;
    hub_err_t e = hub_identity_get(c->api->hub, c->dev, c->mod, &id);
    if (e)
        http_resp_hub_error(r, c->api->opts.breaks, e, NULL);
    else
        answer_identity(c, r, &id);
    return true;
}

bool http_registry_put(http_ctx_t *c, http_resp_t *r)
{
    unsigned breaks = c->api->opts.breaks;
    char why[512];
    json_t *doc = http_body_json(c->req, false, why, sizeof why);
    if (!doc) {
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, why);
        return true;
    }
    parsed_identity_t p;
    if (!parse_identity(c->api->hub, doc, c->dev, c->mod, &p, why, sizeof why)) {
        json_decref(doc);
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, why);
        return true;
    }
    char im[128];
    const char *if_match = http_req_if_match(c->api, c->req, im, sizeof im);
    hub_identity_t id;
    hub_err_t e;
    if (!if_match) {
        e = hub_identity_create(c->api->hub, &p.spec, &id);
    } else {
        /* What the body leaves out stays as it is. */
        hub_identity_t cur;
        e = hub_identity_get(c->api->hub, c->dev, c->mod, &cur);
        if (e == HUB_EOK) {
            if (!p.has_status)
                p.spec.disabled = !cur.enabled;
            if (!p.has_type)
                p.spec.x509 = cur.x509;
            e = hub_identity_update(c->api->hub, &p.spec, if_match, &id);
        }
    }
    json_decref(doc); /* the spec borrowed its strings */
    if (e)
        http_resp_hub_error(r, breaks, e, NULL);
    else
        answer_identity(c, r, &id);
    return true;
}

bool http_registry_delete(http_ctx_t *c, http_resp_t *r)
{
    char im[128];
    const char *if_match = http_req_if_match(c->api, c->req, im, sizeof im);
    hub_err_t e = hub_identity_delete(c->api->hub, c->dev, c->mod, if_match);
    if (e)
        http_resp_hub_error(r, c->api->opts.breaks, e, NULL);
    else
        r->status = 204;
    return true;
}

/* ?top=N: 1..1000, default 1000 [doc]. */
static bool read_top(http_ctx_t *c, http_resp_t *r, size_t *top)
{
    char v[32];
    *top = 1000;
    if (!http_query_get(c->query, "top", v, sizeof v))
        return true;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!v[0] || *end || n < 1 || n > 1000) {
        http_resp_hub_error(r, c->api->opts.breaks, HUB_EARGUMENT_INVALID,
                            "top: expected an integer from 1 to 1000");
        return false;
    }
    *top = (size_t)n;
    return true;
}

bool http_registry_list(http_ctx_t *c, http_resp_t *r)
{
    size_t top;
    if (!read_top(c, r, &top))
        return true;
    json_t *arr = json_array();
    hub_identity_t id;
    uint32_t cur = 0;
    while (arr && json_array_size(arr) < top && hub_identity_next(c->api->hub, &cur, &id)) {
        if (id.module_id[0])
            continue;
        json_array_append_new(arr, identity_json(c->api->hub, &id));
    }
    http_resp_json(r, arr);
    return true;
}

bool http_registry_list_modules(http_ctx_t *c, http_resp_t *r)
{
    hub_identity_t id;
    hub_err_t e = hub_identity_get(c->api->hub, c->dev, NULL, &id);
    if (e) {
        http_resp_hub_error(r, c->api->opts.breaks, e, NULL);
        return true;
    }
    json_t *arr = json_array();
    uint32_t cur = 0;
    while (arr && hub_identity_next(c->api->hub, &cur, &id))
        if (id.module_id[0] && strcmp(id.device_id, c->dev) == 0)
            json_array_append_new(arr, identity_json(c->api->hub, &id));
    http_resp_json(r, arr);
    return true;
}

bool http_registry_statistics(http_ctx_t *c, http_resp_t *r)
{
    json_int_t total = 0, enabled = 0;
    hub_identity_t id;
    uint32_t cur = 0;
    while (hub_identity_next(c->api->hub, &cur, &id)) {
        if (id.module_id[0])
            continue;
        total++;
        enabled += id.enabled;
    }
    http_resp_json(r, json_pack("{s:I, s:I, s:I}", "totalDeviceCount", total, "enabledDeviceCount",
                                enabled, "disabledDeviceCount", total - enabled));
    return true;
}

bool http_registry_purge_c2d(http_ctx_t *c, http_resp_t *r)
{
    size_t n = 0;
    hub_err_t e = hub_c2d_purge_device(c->api->hub, c->dev, &n);
    if (e) {
        http_resp_hub_error(r, c->api->opts.breaks, e, NULL);
        return true;
    }
    http_resp_json(r, json_pack("{s:I, s:s, s:n}", "totalMessagesPurged", (json_int_t)n, "deviceId",
                                c->dev, "moduleId"));
    return true;
}
