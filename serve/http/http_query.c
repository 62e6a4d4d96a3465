/* Twin queries over REST: POST /devices/query with page size (x-ms-max-item-count) and continuation tokens (x-ms-continuation). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_internal.h"
#include "sim/hub/jobs.h"
#include "sim/route/twin_query.h"

/*
 * The body is {"query": "SELECT ..."} (what the Node, C# and Java service
 * SDKs send [sdk]).  Every page evaluates the query over the twin documents
 * the hub holds now (identity fields + hub_twin_get) and answers the slice
 * [offset, offset + page size) as a JSON array, with x-ms-item-type
 * ("twin" for SELECT *, "raw" otherwise) and, when more rows follow,
 * x-ms-continuation.  The Node SDK reads "no header" as "no more results",
 * so the last page carries none [sdk].  The token is opaque to clients:
 * "hsq1.<offset>.<hash of the query text>", so a token from another query
 * is refused (400) rather than silently misread [our choice].
 * FROM devices.jobs reads the per-device job records of the jobs created
 * over this API (hub_jobs_device_records), paged the same way.
 * docs/twin-query.md has the facts and their marks.
 *
 * The hub's TWINQ-* break switches (sim/hub/faults.h) are honoured here:
 * the language ones through twin_query_compile_broken, the collection,
 * paging and error ones in this file.
 */

#define QUERY_DEFAULT_PAGE 100u /* x-ms-max-item-count absent [?] */
#define QUERY_MAX_PAGE 1000u    /* larger values are clamped [doc: "page size (up to 1000)"] */

static uint32_t text_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* The identity fields of a twin document, then the twin's own members. */
static json_t *twin_document(hub_t *hub, const hub_identity_t *id, hub_err_t *err)
{
    json_t *twin = NULL;
    *err = hub_twin_get(hub, id->device_id, id->module_id[0] ? id->module_id : NULL, &twin);
    if (*err)
        return NULL;
    json_t *o = json_object();
    if (!o) {
        json_decref(twin);
        *err = HUB_ESERVER_ERROR;
        return NULL;
    }
    json_object_set(o, "deviceId", json_object_get(twin, "deviceId"));
    if (id->module_id[0])
        json_object_set_new(o, "moduleId", json_string(id->module_id));
    json_object_set(o, "etag", json_object_get(twin, "etag"));
    json_object_set_new(o, "deviceEtag", json_string(id->etag));
    json_object_set_new(o, "status", json_string(id->enabled ? "enabled" : "disabled"));
    json_object_set_new(o, "connectionState", json_string(id->connected ? "Connected" : "Disconnected"));
    json_object_set_new(o, "authenticationType", json_string(id->x509 ? "selfSigned" : "sas"));
    json_object_set_new(o, "x509Thumbprint",
                        json_pack("{s:o, s:o}", "primaryThumbprint",
                                  id->primary_thumbprint[0] ? json_string(id->primary_thumbprint) : json_null(),
                                  "secondaryThumbprint",
                                  id->secondary_thumbprint[0] ? json_string(id->secondary_thumbprint)
                                                              : json_null()));
    const char *key;
    json_t *v;
    json_object_foreach(twin, key, v) {
        if (!json_object_get(o, key))
            json_object_set(o, key, v);
    }
    json_decref(twin);
    return o;
}

static bool broken(const http_ctx_t *c, hub_fault_t f)
{
    return hub_faults_on(hub_faults(c->api->hub), f);
}

/* The twin query language mutations of the armed TWINQ-* switches. */
static unsigned language_breaks(const http_ctx_t *c)
{
    return (broken(c, HUB_FAULT_TWINQ_WHERE) ? TWIN_QUERY_BREAK_WHERE : 0u) |
           (broken(c, HUB_FAULT_TWINQ_IN_NIN) ? TWIN_QUERY_BREAK_NIN_AS_IN : 0u) |
           (broken(c, HUB_FAULT_TWINQ_IS_DEFINED) ? TWIN_QUERY_BREAK_IS_DEFINED : 0u) |
           (broken(c, HUB_FAULT_TWINQ_COUNT_GROUP_BY) ? TWIN_QUERY_BREAK_GROUP_BY : 0u);
}

/* The documents of the FROM collection: twins in registration order
 * (device or module twins), or the per-device job records.  NULL with *he
 * set on failure. */
static json_t *collection(http_ctx_t *c, twin_from_t from, hub_err_t *he)
{
    hub_t *hub = c->api->hub;
    if (from == TWIN_FROM_JOBS) {
        json_t *recs = hub_jobs_device_records(c->api->jobs, NULL); /* no jobs yet: [] */
        *he = recs ? HUB_EOK : HUB_ESERVER_ERROR;
        return recs;
    }
    /* TWINQ-MODULES broken: devices.modules searches the device twins (and so finds no module) */
    bool modules = from == TWIN_FROM_MODULES && !broken(c, HUB_FAULT_TWINQ_MODULES);
    json_t *docs = json_array();
    hub_identity_t id;
    uint32_t cursor = 0;
    *he = docs ? HUB_EOK : HUB_ESERVER_ERROR;
    while (*he == HUB_EOK && hub_identity_next(hub, &cursor, &id)) {
        if ((id.module_id[0] != '\0') != modules)
            continue;
        json_t *doc = twin_document(hub, &id, he);
        if (doc && json_array_append_new(docs, doc) != 0)
            *he = HUB_ESERVER_ERROR;
    }
    if (*he) {
        json_decref(docs);
        return NULL;
    }
    return docs;
}

/* Parse "hsq1.<offset>.<hash>" for this query; false when it is not ours. */
static bool token_parse(const char *tok, uint32_t hash, size_t *offset)
{
    unsigned long long off;
    unsigned h;
    int used = 0;
    if (sscanf(tok, "hsq1.%llu.%8x%n", &off, &h, &used) != 2 || tok[used] != '\0' || h != hash ||
        off > SIZE_MAX / 2)
        return false;
    *offset = (size_t)off;
    return true;
}

bool http_query_devices(http_ctx_t *c, http_resp_t *r)
{
    unsigned breaks = c->api->opts.breaks;
    char why[200];
    json_t *body = http_body_json(c->req, false, why, sizeof why);
    if (!body) {
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID, why);
        return true;
    }
    const char *text = json_string_value(json_object_get(body, "query"));
    if (!text) {
        json_decref(body);
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                            "the body needs a \"query\" string: {\"query\":\"SELECT * FROM devices\"}");
        return true;
    }
    size_t page = QUERY_DEFAULT_PAGE;
    const char *max = http_req_header(c->req, "x-ms-max-item-count");
    if (max && max[0]) {
        char *end = NULL;
        long long v = strtoll(max, &end, 10);
        if (!end || *end || v <= 0) {
            json_decref(body);
            http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                                "x-ms-max-item-count must be a positive whole number");
            return true;
        }
        page = v > (long long)QUERY_MAX_PAGE ? QUERY_MAX_PAGE : (size_t)v;
    }
    uint32_t hash = text_hash(text);
    size_t offset = 0;
    const char *cont = http_req_header(c->req, "x-ms-continuation");
    if (cont && cont[0] && !token_parse(cont, hash, &offset)) {
        json_decref(body);
        http_resp_hub_error(r, breaks, HUB_EARGUMENT_INVALID,
                            "x-ms-continuation is not a token this query returned");
        return true;
    }

    twin_query_t *q = NULL;
    route_syntax_error_t se;
    hs_err_t e = twin_query_compile_broken(text, language_breaks(c), &q, &se);
    json_decref(body);
    if (e) {
        char detail[256];
        if (e == HS_EPARSE && broken(c, HUB_FAULT_TWINQ_BAD_QUERY))
            snprintf(detail, sizeof detail, "query syntax error: %s", se.message);
        else if (e == HS_EPARSE)
            snprintf(detail, sizeof detail, "query syntax error at line %d, column %d: %s", se.line,
                     se.column, se.message);
        else
            snprintf(detail, sizeof detail, "%s", hs_strerror(e));
        http_resp_hub_error(r, breaks, e == HS_EPARSE ? HUB_EARGUMENT_INVALID : HUB_ESERVER_ERROR,
                            detail);
        return true;
    }

    hub_err_t he;
    json_t *docs = collection(c, twin_query_from(q), &he);
    json_t *rows = he == HUB_EOK ? twin_query_run(q, docs) : NULL;
    if (he == HUB_EOK && !rows)
        he = HUB_ESERVER_ERROR;
    if (he) {
        http_resp_hub_error(r, breaks, he, "the twin documents could not be read");
    } else {
        size_t total = json_array_size(rows);
        json_t *slice = json_array();
        for (size_t i = offset; slice && i < total && i < offset + page; i++)
            json_array_append(slice, json_array_get(rows, i));
        http_resp_header(r, "x-ms-item-type", twin_query_item_type(q));
        size_t next = offset + page;
        /* TWINQ-CONTINUATION broken: the token points at the page's last row */
        if (broken(c, HUB_FAULT_TWINQ_CONTINUATION) && page > 1)
            next--;
        if (offset + page < total)
            http_resp_headerf(r, "x-ms-continuation", "hsq1.%zu.%08x", next, (unsigned)hash);
        if (slice)
            http_resp_json(r, slice);
        else
            r->failed = true;
    }
    json_decref(rows);
    json_decref(docs);
    twin_query_free(q);
    return true;
}
