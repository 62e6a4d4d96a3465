/* Conformance cases for twin queries over POST /devices/query: WHERE on tags, IN/NIN, IS_DEFINED, COUNT() with GROUP BY, devices.modules, continuation paging, malformed queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/case.h"
#include "conformance/case_rest.h"

/* Literals from docs/twin-query.md: `SELECT * FROM devices WHERE ...` over
 * tags and properties, IN / NIN with array constants, IS_DEFINED, COUNT()
 * with GROUP BY, FROM devices.modules [doc]; x-ms-max-item-count pages and
 * x-ms-continuation present while more rows follow, absent on the last page
 * [sdk]; a malformed query is 400 [doc] naming line and column [?]. */

#define WIRE TARGET_CAP_WIRE
#define NOHDR ((conf_rest_header_t){ NULL, NULL })

/* The fleet: d1 {region US, floor 1; desired mode eco} with module m1, d2 {EU}, d3 {US}, d4 no tags,
 * d5 {ASIA}. */
static bool fleet(conf_ctx_t *c)
{
    static const struct {
        const char *id, *tags;
    } devs[] = {
        { "d1", "{\"tags\":{\"region\":\"US\",\"floor\":1},\"properties\":{\"desired\":{\"mode\":\"eco\"}}}" },
        { "d2", "{\"tags\":{\"region\":\"EU\"}}" },
        { "d3", "{\"tags\":{\"region\":\"US\"}}" },
        { "d4", NULL },
        { "d5", "{\"tags\":{\"region\":\"ASIA\"}}" },
    };
    if (!conf_rest_setup(c, NULL))
        return false;
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        if (!conf_create(c, devs[i].id, NULL))
            return false;
        if (devs[i].tags) {
            char etag[64];
            target_status_t st;
            c->ops->twin_patch(c->t, devs[i].id, NULL, devs[i].tags, NULL, etag, &st);
            if (st.http != 200)
                return conf_error(c, "cannot tag %s: %d %s", devs[i].id, st.http, st.detail);
        }
    }
    return conf_create(c, "d1", "m1");
}

/* POST /devices/query; the rows (new reference) on 200, else NULL with the verdict decided. */
static json_t *query(conf_ctx_t *c, const char *sql, const char *page_size, const char *continuation,
                     target_http_response_t *r)
{
    json_t *body = json_pack("{s:s}", "query", sql);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        conf_error(c, "out of memory");
        return NULL;
    }
    char what[400];
    snprintf(what, sizeof what, "POST /devices/query \"%s\": 200", sql);
    /* the page size on every page and the continuation of the next one, as the SDKs send them */
    conf_rest_header_t h1 = page_size ? (conf_rest_header_t){ "x-ms-max-item-count", page_size } : NOHDR;
    conf_rest_header_t h2 = continuation ? (conf_rest_header_t){ "x-ms-continuation", continuation } : NOHDR;
    bool sent = conf_rest_service2(c, "POST", "/devices/query", text, h1, h2, r);
    free(text);
    if (!sent || !conf_rest_status(c, r, 200, what))
        return NULL;
    json_t *rows = conf_rest_json(c, r, what);
    if (rows && !json_is_array(rows)) {
        conf_check(c, false, "the body is a JSON array of rows", "%.200s", r->body);
        json_decref(rows);
        return NULL;
    }
    return rows;
}

/* The deviceId of every row, sorted, comma-separated ("d1,d3"). */
static void ids_of(const json_t *rows, char *out, size_t cap)
{
    const char *ids[64];
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(rows, i, v) {
        const char *id = json_string_value(json_object_get(v, "deviceId"));
        if (n < 64)
            ids[n++] = id ? id : "?";
    }
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && strcmp(ids[b - 1], ids[b]) > 0; b--) {
            const char *t = ids[b];
            ids[b] = ids[b - 1];
            ids[b - 1] = t;
        }
    out[0] = '\0';
    for (size_t k = 0; k < n; k++) {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", k ? "," : "", ids[k]);
    }
}

/* The query returns exactly the devices want ("d1,d3"). */
static bool expect_ids(conf_ctx_t *c, const char *sql, const char *want)
{
    target_http_response_t r;
    json_t *rows = query(c, sql, NULL, NULL, &r);
    if (!rows)
        return false;
    char got[400], exp[500];
    ids_of(rows, got, sizeof got);
    json_decref(rows);
    snprintf(exp, sizeof exp, "\"%s\" returns %s", sql, want);
    return conf_check(c, strcmp(got, want) == 0, exp, "%s", got);
}

/* ---- TWINQ-WHERE -------------------------------------------------------------------- */

static void where_tags(conf_ctx_t *c)
{
    if (fleet(c) && expect_ids(c, "SELECT * FROM devices WHERE tags.region = 'US'", "d1,d3") &&
        expect_ids(c, "SELECT * FROM devices WHERE tags.region = 'US' AND tags.floor = 1", "d1"))
        expect_ids(c, "SELECT * FROM devices WHERE properties.desired.mode = 'eco'", "d1");
}

/* ---- TWINQ-IN-NIN ------------------------------------------------------------------- */

static void in_nin(conf_ctx_t *c)
{
    if (fleet(c) && expect_ids(c, "SELECT * FROM devices WHERE tags.region IN ['US', 'EU']", "d1,d2,d3"))
        /* d4 has no region: whether NIN admits it is not documented, so it is left out */
        expect_ids(c, "SELECT * FROM devices WHERE IS_DEFINED(tags.region) AND tags.region NIN ['US', 'EU']", "d5");
}

/* ---- TWINQ-IS-DEFINED --------------------------------------------------------------- */

static void is_defined(conf_ctx_t *c)
{
    if (fleet(c))
        expect_ids(c, "SELECT * FROM devices WHERE IS_DEFINED(tags.floor)", "d1");
}

/* ---- TWINQ-COUNT-GROUP-BY ----------------------------------------------------------- */

static void count_group_by(conf_ctx_t *c)
{
    target_http_response_t r;
    if (!fleet(c))
        return;
    json_t *rows = query(c, "SELECT COUNT() AS total FROM devices", NULL, NULL, &r);
    if (!rows)
        return;
    json_int_t total = json_integer_value(json_object_get(json_array_get(rows, 0), "total"));
    bool ok = conf_check(c, json_array_size(rows) == 1 && total == 5, "SELECT COUNT() AS total: one row, total 5",
                         "%.300s", r.body);
    json_decref(rows);
    if (!ok)
        return;
    rows = query(c, "SELECT tags.region AS region, COUNT() AS n FROM devices GROUP BY tags.region", NULL, NULL, &r);
    if (!rows)
        return;
    json_int_t us = -1, eu = -1, asia = -1;
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v) {
        const char *region = json_string_value(json_object_get(v, "region"));
        json_int_t n = json_integer_value(json_object_get(v, "n"));
        if (region && strcmp(region, "US") == 0)
            us = n;
        else if (region && strcmp(region, "EU") == 0)
            eu = n;
        else if (region && strcmp(region, "ASIA") == 0)
            asia = n;
    }
    conf_check(c, us == 2 && eu == 1 && asia == 1, "GROUP BY tags.region: US 2, EU 1, ASIA 1", "%.300s", r.body);
    json_decref(rows);
}

/* ---- TWINQ-MODULES ------------------------------------------------------------------ */

static void modules(conf_ctx_t *c)
{
    target_http_response_t r;
    if (!fleet(c))
        return;
    json_t *rows = query(c, "SELECT * FROM devices.modules", NULL, NULL, &r);
    if (!rows)
        return;
    json_t *row = json_array_get(rows, 0);
    const char *dev = json_string_value(json_object_get(row, "deviceId"));
    const char *mod = json_string_value(json_object_get(row, "moduleId"));
    conf_check(c, json_array_size(rows) == 1 && dev && mod && strcmp(dev, "d1") == 0 && strcmp(mod, "m1") == 0,
               "FROM devices.modules: exactly the module twin d1/m1", "%.300s", r.body);
    json_decref(rows);
}

/* ---- TWINQ-CONTINUATION ------------------------------------------------------------- */

static void continuation(conf_ctx_t *c)
{
    if (!fleet(c))
        return;
    const char *sql = "SELECT * FROM devices";
    char seen[400] = "", token[512] = "";
    size_t pages = 0, rows_total = 0;
    int sizes[8] = { 0 };
    for (; pages < 8; pages++) {
        target_http_response_t r;
        json_t *rows = query(c, sql, "2", token[0] ? token : NULL, &r);
        if (!rows)
            return;
        sizes[pages] = (int)json_array_size(rows);
        rows_total += json_array_size(rows);
        size_t i;
        json_t *v;
        json_array_foreach(rows, i, v) {
            const char *id = json_string_value(json_object_get(v, "deviceId"));
            size_t used = strlen(seen);
            snprintf(seen + used, sizeof seen - used, "%s%s", used ? "," : "", id ? id : "?");
        }
        json_decref(rows);
        const char *next = target_http_header(&r, "x-ms-continuation");
        if (!next)
            break;
        if (!conf_check(c, next[0] != '\0', "x-ms-continuation is absent, not empty, when no rows follow", "\"\""))
            return;
        snprintf(token, sizeof token, "%s", next);
    }
    conf_check(c, pages == 2 && sizes[0] == 2 && sizes[1] == 2 && sizes[2] == 1 &&
                      strcmp(seen, "d1,d2,d3,d4,d5") == 0,
               "pages of 2, 2, 1 rows: d1..d5 once each, x-ms-continuation on the first two only",
               "%zu continuation(s), pages %d/%d/%d, rows %s (%zu)", pages, sizes[0], sizes[1], sizes[2], seen,
               rows_total);
}

/* ---- TWINQ-BAD-QUERY ---------------------------------------------------------------- */

static void bad_query(conf_ctx_t *c)
{
    target_http_response_t r;
    if (!conf_rest_setup(c, NULL) ||
        !conf_rest_service(c, "POST", "/devices/query", "{\"query\":\"SELECT * FROM devices\\nWHERE tags.region = )\"}",
                           NOHDR, &r))
        return;
    if (conf_rest_status(c, &r, 400, "\"SELECT * FROM devices\\nWHERE tags.region = )\": 400"))
        conf_check(c, strstr(r.body, "line 2, column 21") != NULL, "the error names line 2, column 21 (the ')')",
                   "%.300s", r.body);
}

/* ---- the table ---------------------------------------------------------------------- */

const conf_case_t conf_cases_twinquery[] = {
    { "TWINQ-WHERE", "WHERE tags.region = 'US': d1,d3; AND tags.floor = 1: d1; properties.desired.mode = 'eco': d1", where_tags, WIRE, NULL,
      true },
    { "TWINQ-IN-NIN", "tags.region IN ['US','EU']: d1,d2,d3; NIN: d5", in_nin, WIRE, NULL, true },
    { "TWINQ-IS-DEFINED", "IS_DEFINED(tags.floor): d1 only", is_defined, WIRE, NULL, true },
    { "TWINQ-COUNT-GROUP-BY", "COUNT() of 5 devices; GROUP BY tags.region: US 2, EU 1, ASIA 1", count_group_by, WIRE,
      NULL, true },
    { "TWINQ-MODULES", "FROM devices.modules: the module twin d1/m1 only", modules, WIRE, NULL, true },
    { "TWINQ-CONTINUATION", "5 devices, x-ms-max-item-count 2: pages 2, 2, 1, no duplicate, no gap, no token last",
      continuation, WIRE, NULL, true },
    { "TWINQ-BAD-QUERY", "malformed query: 400 naming line 2, column 21", bad_query, WIRE, NULL, true },
    { NULL, NULL, NULL, 0, NULL, false },
};
