/* The twin query language (grammar, three-valued logic, IN/NIN, GROUP BY, modules, error positions) and POST /devices/query paging. */
#include "test_http_fixture.h"

#include "sim/route/twin_query.h"

/* ---- the language over the fixture fleet ---------------------------------- */

static json_t *fleet(void)
{
    /* Documents literal here so the expectations below are read off them. */
    const char *text =
        "["
        "{\"deviceId\":\"t1\",\"status\":\"enabled\",\"tags\":{\"location\":{\"region\":\"US\",\"plant\":\"Redmond43\"},\"floor\":1},"
        " \"properties\":{\"desired\":{\"cfg\":{\"freq\":300}},\"reported\":{\"connectivity\":\"wifi\",\"cfg\":{\"freq\":300,\"status\":\"Success\"}}}},"
        "{\"deviceId\":\"t2\",\"status\":\"enabled\",\"tags\":{\"location\":{\"region\":\"US\",\"plant\":\"Austin1\"}},"
        " \"properties\":{\"desired\":{},\"reported\":{\"connectivity\":\"cellular\",\"cfg\":{\"freq\":30,\"status\":\"Pending\"}}}},"
        "{\"deviceId\":\"t3\",\"status\":\"disabled\",\"tags\":{\"location\":{\"region\":\"EU\"}},"
        " \"properties\":{\"desired\":{},\"reported\":{\"connectivity\":\"wired\",\"cfg\":{\"freq\":120,\"status\":\"Success\"}}}},"
        "{\"deviceId\":\"p1\",\"status\":\"enabled\",\"tags\":{\"location\":{\"region\":null}},"
        " \"properties\":{\"desired\":{},\"reported\":{\"cfg\":{\"status\":\"Error\"}}}},"
        "{\"deviceId\":\"p2\",\"status\":\"enabled\",\"tags\":{},\"properties\":{\"desired\":{},\"reported\":{}}},"
        "{\"deviceId\":\"t1\",\"moduleId\":\"scan\",\"tags\":{},\"properties\":{\"desired\":{},\"reported\":{\"status\":\"scanning\"}}},"
        "{\"deviceId\":\"t2\",\"moduleId\":\"scan\",\"tags\":{},\"properties\":{\"desired\":{},\"reported\":{\"status\":\"idle\"}}},"
        "{\"deviceId\":\"p1\",\"moduleId\":\"$edgeAgent\",\"tags\":{},\"properties\":{\"desired\":{\"$version\":5},\"reported\":{\"status\":\"scanning\",\"lastDesiredVersion\":5}}}"
        "]";
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("fixture: %s", e.text);
    return j;
}

/* The result of q over the fleet as compact JSON (caller frees). */
static char *run_q(const char *q)
{
    twin_query_t *tq = NULL;
    route_syntax_error_t se;
    hs_err_t e = twin_query_compile(q, &tq, &se);
    if (e)
        fail_msg("'%s' did not compile: %d:%d %s", q, se.line, se.column, se.message);
    json_t *docs = fleet();
    json_t *rows = twin_query_run(tq, docs);
    assert_non_null(rows);
    char *s = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rows);
    json_decref(docs);
    twin_query_free(tq);
    return s;
}

/* The device ids q selects, comma-separated. */
static void ids(const char *q, const char *want)
{
    twin_query_t *tq = NULL;
    route_syntax_error_t se;
    if (twin_query_compile(q, &tq, &se))
        fail_msg("'%s' did not compile: %d:%d %s", q, se.line, se.column, se.message);
    json_t *docs = fleet();
    json_t *rows = twin_query_run(tq, docs);
    assert_non_null(rows);
    char got[512] = "";
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        size_t n = strlen(got);
        const char *mod = json_string_value(json_object_get(row, "moduleId"));
        snprintf(got + n, sizeof got - n, "%s%s%s%s", i ? "," : "",
                 json_string_value(json_object_get(row, "deviceId")), mod ? "/" : "", mod ? mod : "");
    }
    if (strcmp(got, want) != 0)
        fail_msg("'%s': got [%s], want [%s]", q, got, want);
    json_decref(rows);
    json_decref(docs);
    twin_query_free(tq);
}

static void expect_json(const char *q, const char *want)
{
    char *got = run_q(q);
    if (strcmp(got, want) != 0)
        fail_msg("'%s':\n got  %s\n want %s", q, got, want);
    free(got);
}

static void expect_error(const char *q, int line, int column, const char *fragment)
{
    twin_query_t *tq = NULL;
    route_syntax_error_t se;
    assert_int_equal(twin_query_compile(q, &tq, &se), HS_EPARSE);
    assert_null(tq);
    if (se.line != line || se.column != column || !strstr(se.message, fragment))
        fail_msg("'%s': got %d:%d '%s', want %d:%d '...%s...'", q, se.line, se.column, se.message, line,
                 column, fragment);
}

static void test_select_where_paths(void **state)
{
    (void)state;
    ids("SELECT * FROM devices", "t1,t2,t3,p1,p2");
    ids("select * from DEVICES where tags.location.region = 'US'", "t1,t2");
    ids("SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.cfg.freq >= 60", "t1");
    ids("SELECT * FROM devices WHERE properties.desired.cfg.freq = properties.reported.cfg.freq", "t1");
    ids("SELECT * FROM devices WHERE status = 'disabled' OR deviceId = 'p2'", "t3,p2");
    /* the collection name may prefix a path */
    ids("SELECT * FROM devices WHERE devices.deviceId = 't2'", "t2");
    /* member names are case-insensitive (the documented SELECT DeviceId example) */
    ids("SELECT * FROM devices WHERE DeviceId = 't3'", "t3");
    ids("SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'p') AND NOT ENDS_WITH(deviceId, '1')", "p2");
    ids("SELECT * FROM devices WHERE CONTAINS(tags.location.plant, 'mond')", "t1");
    ids("SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.cfg.freq + 10 > 100", "t1");
    /* TOP */
    ids("SELECT TOP 2 * FROM devices WHERE status = 'enabled'", "t1,t2");
    /* comments and line breaks */
    ids("SELECT * /* all */ FROM devices\nWHERE\n  status = 'disabled'", "t3");
}

static void test_three_valued_logic(void **state)
{
    (void)state;
    /* a missing member is undefined, null is null: neither equals nor differs from 'US' */
    ids("SELECT * FROM devices WHERE tags.location.region != 'US'", "t3");
    ids("SELECT * FROM devices WHERE NOT (tags.location.region = 'US')", "t3");
    /* false AND undefined is false; true OR undefined is true */
    ids("SELECT * FROM devices WHERE tags.nope = 1 OR status = 'disabled'", "t3");
    ids("SELECT * FROM devices WHERE NOT (tags.nope = 1 AND status = 'enabled')", "t3");
    /* types differ: a string never equals a number */
    ids("SELECT * FROM devices WHERE tags.floor = '1'", "");
    ids("SELECT * FROM devices WHERE tags.floor = 1", "t1");
    /* type functions */
    ids("SELECT * FROM devices WHERE IS_DEFINED(tags.location.region)", "t1,t2,t3,p1");
    ids("SELECT * FROM devices WHERE IS_NULL(tags.location.region)", "p1");
    ids("SELECT * FROM devices WHERE IS_STRING(tags.location.region)", "t1,t2,t3");
    ids("SELECT * FROM devices WHERE IS_NUMBER(tags.floor)", "t1");
    ids("SELECT * FROM devices WHERE IS_OBJECT(properties.reported.cfg) AND NOT IS_NUMBER(properties.reported.cfg.freq)", "p1");
    ids("SELECT * FROM devices WHERE IS_BOOL(tags.location.region = 'US')", "t1,t2,t3");
    /* a condition that is not a Boolean selects nothing */
    ids("SELECT * FROM devices WHERE deviceId", "");
}

static void test_in_nin(void **state)
{
    (void)state;
    ids("SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']", "t1,t3");
    ids("SELECT * FROM devices WHERE properties.reported.connectivity NIN ['wired', 'wifi']", "t2");
    ids("SELECT * FROM devices WHERE deviceId in ['p2'] OR properties.reported.cfg.freq IN [30, -4, 1e9]", "t2,p2");
    ids("SELECT * FROM devices WHERE NOT deviceId IN ['t1', 't2', 't3']", "p1,p2");
    ids("SELECT * FROM devices WHERE deviceId IN []", "");
    ids("SELECT * FROM devices WHERE deviceId NIN []", "t1,t2,t3,p1,p2");
    ids("SELECT * FROM devices WHERE tags.nope NIN ['x']", ""); /* undefined stays undefined */
    ids("SELECT * FROM devices WHERE 'US' IN ['EU', 'US'] AND deviceId = 't1'", "t1");
}

static void test_projection_count_group(void **state)
{
    (void)state;
    expect_json("SELECT DeviceId, tags.location.plant FROM devices WHERE tags.location.region = 'US'",
                "[{\"deviceId\":\"t1\",\"plant\":\"Redmond43\"},{\"deviceId\":\"t2\",\"plant\":\"Austin1\"}]");
    expect_json("SELECT deviceId AS id, tags.floor AS f FROM devices WHERE deviceId IN ['t1','t2']",
                "[{\"id\":\"t1\",\"f\":1},{\"id\":\"t2\"}]");
    expect_json("SELECT COUNT() AS numberOfDevices FROM devices", "[{\"numberOfDevices\":5}]");
    expect_json("SELECT COUNT() FROM devices WHERE status = 'enabled'", "[{\"$1\":4}]");
    expect_json("SELECT COUNT() AS n FROM devices WHERE deviceId = 'none'", "[{\"n\":0}]");
    /* the documented GROUP BY example; groups in order of first appearance, undefined last here */
    expect_json("SELECT properties.reported.cfg.status AS status, COUNT() AS numberOfDevices FROM devices "
                "GROUP BY properties.reported.cfg.status",
                "[{\"status\":\"Success\",\"numberOfDevices\":2},{\"status\":\"Pending\",\"numberOfDevices\":1},"
                "{\"status\":\"Error\",\"numberOfDevices\":1},{\"numberOfDevices\":1}]");
    expect_json("SELECT COUNT() AS n, status FROM devices WHERE IS_DEFINED(tags.location) GROUP BY status",
                "[{\"n\":3,\"status\":\"enabled\"},{\"n\":1,\"status\":\"disabled\"}]");
    expect_json("SELECT TOP 1 status, COUNT() AS n FROM devices GROUP BY status", "[{\"status\":\"enabled\",\"n\":4}]");
    /* SUM AVG MIN MAX read numbers only; unaliased aggregates are $1, $2 ... */
    expect_json("SELECT SUM(properties.reported.cfg.freq) AS s, AVG(properties.reported.cfg.freq) AS a, "
                "MIN(properties.reported.cfg.freq), MAX(properties.reported.cfg.freq), COUNT() FROM devices",
                "[{\"s\":450,\"a\":150,\"$1\":30,\"$2\":300,\"$3\":5}]");
    expect_json("SELECT AVG(tags.floor) AS a, SUM(tags.location.region) AS s, MIN(tags.nope) AS m FROM devices",
                "[{\"a\":1,\"s\":0}]");
    expect_json("SELECT status, AVG(properties.reported.cfg.freq) AS a FROM devices GROUP BY status",
                "[{\"status\":\"enabled\",\"a\":165},{\"status\":\"disabled\",\"a\":120}]");
    expect_json("SELECT AVG(properties.reported.cfg.freq) AS a FROM devices WHERE deviceId IN ['t1', 't3', 'p1']",
                "[{\"a\":210}]");
    expect_json("SELECT AVG(properties.reported.cfg.freq) AS a FROM devices WHERE deviceId IN ['t2', 't3', 'p1']",
                "[{\"a\":75}]");
    expect_json("SELECT AVG(properties.reported.cfg.freq) AS a FROM devices WHERE deviceId IN ['t1', 't2', 't3']",
                "[{\"a\":150}]");
    expect_json("SELECT MAX(tags.floor) AS a FROM devices WHERE deviceId = 'none'", "[{}]");
}

static void test_modules(void **state)
{
    (void)state;
    ids("SELECT * FROM devices.modules", "t1/scan,t2/scan,p1/$edgeAgent");
    ids("SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning'", "t1/scan,p1/$edgeAgent");
    ids("SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning' AND deviceId IN ['t1', 't2']",
        "t1/scan");
    ids("SELECT deviceId, moduleId FROM devices.modules WHERE moduleId = '$edgeAgent' AND "
        "properties.desired.$version = properties.reported.lastDesiredVersion",
        "p1/$edgeAgent");
    ids("SELECT * FROM devices.modules WHERE devices.modules.moduleId = 'scan'", "t1/scan,t2/scan");
    expect_json("SELECT COUNT() AS n FROM devices.modules", "[{\"n\":3}]");

    twin_query_t *q;
    route_syntax_error_t se;
    assert_int_equal(twin_query_compile("SELECT * FROM devices.modules", &q, &se), HS_EOK);
    assert_int_equal(twin_query_from(q), TWIN_FROM_MODULES);
    assert_string_equal(twin_query_item_type(q), "twin");
    twin_query_free(q);
    assert_int_equal(twin_query_compile("SELECT deviceId FROM devices", &q, &se), HS_EOK);
    assert_int_equal(twin_query_from(q), TWIN_FROM_DEVICES);
    assert_string_equal(twin_query_item_type(q), "raw");
    twin_query_free(q);
}

/* FROM devices.jobs over per-device job records (the shape of hub_jobs_device_records), mixed
 * with twins: only the records, with devices.jobs.-prefixed paths. */
static void test_device_jobs(void **state)
{
    (void)state;
    const char *text =
        "["
        "{\"deviceId\":\"t1\",\"tags\":{},\"properties\":{\"desired\":{},\"reported\":{}}},"
        "{\"deviceId\":\"t1\",\"jobId\":\"fw\",\"jobType\":\"scheduleUpdateTwin\",\"status\":\"completed\","
        " \"startTimeUtc\":\"2026-01-01T00:00:00.000Z\",\"endTimeUtc\":\"2026-01-01T00:00:00.000Z\","
        " \"createdDateTimeUtc\":\"2026-01-01T00:00:00.000Z\",\"lastUpdatedDateTimeUtc\":\"2026-01-01T00:00:00.000Z\","
        " \"outcome\":{\"deviceMethodResponse\":null}},"
        "{\"deviceId\":\"t1\",\"jobId\":\"reboot\",\"jobType\":\"scheduleDeviceMethod\",\"status\":\"failed\","
        " \"createdDateTimeUtc\":\"2026-01-01T00:01:00.000Z\",\"error\":{\"code\":\"DeviceNotOnline\"}},"
        "{\"deviceId\":\"t2\",\"jobId\":\"reboot\",\"jobType\":\"scheduleDeviceMethod\",\"status\":\"completed\","
        " \"createdDateTimeUtc\":\"2026-01-01T00:01:00.000Z\",\"outcome\":{\"deviceMethodResponse\":{\"status\":200,\"payload\":{}}}}"
        "]";
    json_error_t je;
    json_t *docs = json_loads(text, 0, &je);
    assert_non_null(docs);
    static const struct {
        const char *q, *want;
    } cases[] = {
        { "SELECT * FROM devices.jobs", "t1/fw,t1/reboot,t2/reboot" },
        { "SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 't1'", "t1/fw,t1/reboot" },
        { "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'reboot' AND devices.jobs.status = 'failed'",
          "t1/reboot" },
        { "SELECT * FROM devices.jobs WHERE jobType = 'scheduleUpdateTwin' AND createdDateTimeUtc > '2025-12-31'",
          "t1/fw" },
        { "SELECT * FROM devices.jobs WHERE outcome.deviceMethodResponse.status = 200", "t2/reboot" },
        { "SELECT * FROM devices.jobs WHERE error.code IN ['DeviceNotOnline', 'GatewayTimeout']", "t1/reboot" },
        { "SELECT * FROM devices", "t1/" }, /* the twins never show the records */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        twin_query_t *tq = NULL;
        route_syntax_error_t se;
        if (twin_query_compile(cases[k].q, &tq, &se))
            fail_msg("'%s' did not compile: %d:%d %s", cases[k].q, se.line, se.column, se.message);
        json_t *rows = twin_query_run(tq, docs);
        assert_non_null(rows);
        char got[256] = "";
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            size_t n = strlen(got);
            const char *job = json_string_value(json_object_get(row, "jobId"));
            snprintf(got + n, sizeof got - n, "%s%s/%s", i ? "," : "", json_string_value(json_object_get(row, "deviceId")),
                     job ? job : "");
        }
        if (strcmp(got, cases[k].want) != 0)
            fail_msg("'%s': got [%s], want [%s]", cases[k].q, got, cases[k].want);
        if (k == 0) {
            assert_int_equal(twin_query_from(tq), TWIN_FROM_JOBS);
            assert_string_equal(twin_query_item_type(tq), "deviceJob");
        }
        json_decref(rows);
        twin_query_free(tq);
    }
    json_decref(docs);
}

static void test_errors_with_positions(void **state)
{
    (void)state;
    expect_error("", 1, 1, "expected SELECT");
    expect_error("SELECT * FROM", 1, 14, "expected devices, devices.modules or devices.jobs");
    expect_error("SELECT * FROM things", 1, 15, "expected devices, devices.modules or devices.jobs");
    /* devices.jobs: SELECT * only, no aggregates, no GROUP BY [doc] */
    expect_error("SELECT deviceId FROM devices.jobs", 1, 8, "only SELECT *");
    expect_error("SELECT COUNT() FROM devices.jobs", 1, 8, "only SELECT *");
    expect_error("SELECT status, COUNT() FROM devices.jobs GROUP BY status", 1, 29, "GROUP BY is only supported");
    expect_error("SELECT * FROM devices WHERE", 1, 28, "a condition after WHERE");
    expect_error("SELECT * FROM devices WHERE a = ", 1, 33, "");
    expect_error("SELECT * FROM devices\nWHERE tags.x = 1 AND\n  properties.reported.x >> 3", 3, 26, "'>'");
    expect_error("SELECT * FROM devices WHERE a == 1", 1, 31, "'=='");
    expect_error("SELECT * FROM devices WHERE LOWER(deviceId) = 'a'", 1, 29, "unknown function 'LOWER'");
    expect_error("SELECT * FROM devices WHERE deviceId IN 'a'", 1, 41, "'[' after IN");
    expect_error("SELECT * FROM devices WHERE deviceId IN ['a', deviceId]", 1, 47, "a constant in the list");
    expect_error("SELECT * FROM devices WHERE deviceId IN ['a',]", 1, 46, "a constant after ','");
    expect_error("SELECT * FROM devices WHERE deviceId IN ['a',", 1, 46, "a constant in the list");
    expect_error("SELECT * FROM devices WHERE IN ['a']", 1, 29, "IN needs");
    expect_error("SELECT * FROM devices WHERE tags.x = ['a']", 1, 38, "array constant");
    expect_error("SELECT * FROM devices WHERE deviceId = 'x' ORDER BY deviceId", 1, 44, "ORDER BY");
    expect_error("SELECT * FROM devices WHERE deviceId = 'unterminated", 1, 40, "unterminated string");
    expect_error("SELECT * FROM devices GROUP BY status", 1, 23, "projection list");
    expect_error("SELECT deviceId, COUNT() FROM devices", 1, 8, "needs GROUP BY");
    expect_error("SELECT deviceId, COUNT() FROM devices GROUP BY status", 1, 8, "must be the GROUP BY path");
    expect_error("SELECT status, COUNT() FROM devices.modules GROUP BY status", 1, 29, "only supported on device twins");
    expect_error("SELECT MEDIAN(tags.x) FROM devices", 1, 8, "not an aggregate");
    expect_error("SELECT SUM() FROM devices", 1, 12, "a property path");
    expect_error("SELECT SUM(tags.x FROM devices", 1, 19, "')'");
    expect_error("SELECT deviceId, MAX(tags.x) FROM devices", 1, 8, "needs GROUP BY");
    expect_error("SELECT COUNT(x) FROM devices", 1, 14, "COUNT takes no argument");
    expect_error("SELECT TOP many * FROM devices", 1, 12, "whole number after TOP");
    expect_error("SELECT deviceId AS a.b FROM devices", 1, 20, "alias");
    expect_error("SELECT * FROM devices extra", 1, 23, "WHERE, GROUP BY or the end");
    /* columns count characters, not bytes */
    expect_error("SELECT * FROM devices WHERE tags.x = 'é' AND ]", 1, 46, "array constant");
    expect_error("SELECT * FROM devices WHERE tags.x = 'a\xC3'", 1, 40, "not valid UTF-8");
    expect_error("SELECT \xED\xA0\x80 FROM devices", 1, 8, "not valid UTF-8"); /* a surrogate */
    /* the length limit */
    char *big = malloc(TWIN_QUERY_MAX_LEN + 64);
    assert_non_null(big);
    snprintf(big, TWIN_QUERY_MAX_LEN + 64, "SELECT * FROM devices WHERE deviceId = '%0*d'", TWIN_QUERY_MAX_LEN, 7);
    twin_query_t *q = NULL;
    route_syntax_error_t se;
    assert_int_equal(twin_query_compile(big, &q, &se), HS_EPARSE);
    assert_non_null(strstr(se.message, "longer than 8192"));
    free(big);
}

/* Every prefix of valid queries, and each of them with a hostile character
 * spliced in at every position: compiled (and run) or refused with a
 * position inside the text, never a crash (ASan watches). */
static void test_hostile_prefixes(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "SELECT TOP 3 deviceId AS id, tags.a.b FROM devices WHERE tags.x IN ['a', -1, null] AND NOT IS_NULL(y)",
        "SELECT properties.reported.s AS s, COUNT() AS n FROM devices WHERE deviceId NIN [] GROUP BY properties.reported.s",
        "SELECT * FROM devices.modules /* c */ WHERE STARTS_WITH(moduleId, '$e') OR (a.b[0] >= 0x1F)",
    };
    static const char splice[] = "'\"[](),*=<>!|{}/-.$\n\\é";
    json_t *docs = fleet();
    char buf[512];
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        size_t len = strlen(seeds[k]);
        for (size_t cut = 0; cut <= len; cut++) {
            for (size_t c = 0; c <= sizeof splice - 1; c++) {
                if (c == sizeof splice - 1)
                    snprintf(buf, sizeof buf, "%.*s", (int)cut, seeds[k]);
                else
                    snprintf(buf, sizeof buf, "%.*s%c%s", (int)cut, seeds[k], splice[c], seeds[k] + cut);
                twin_query_t *q = NULL;
                route_syntax_error_t se;
                hs_err_t e = twin_query_compile(buf, &q, &se);
                if (e == HS_EOK) {
                    json_t *rows = twin_query_run(q, docs);
                    if (!rows)
                        fail_msg("'%s' compiled but did not run", buf);
                    json_decref(rows);
                    twin_query_free(q);
                    continue;
                }
                assert_int_equal(e, HS_EPARSE);
                assert_null(q);
                assert_true(se.line >= 1 && se.column >= 1 && se.message[0]);
                assert_true(se.line <= 2 && (size_t)se.column <= strlen(buf) + 1);
            }
        }
    }
    json_decref(docs);
}

/* ---- POST /devices/query -------------------------------------------------- */

#define NDEV 250

static fx_t *fleet_hub(void)
{
    fx_t *f = fx_new(); /* holds dev1 */
    for (int i = 0; i < NDEV - 1; i++) {
        char id[32];
        snprintf(id, sizeof id, "d%03d", i);
        hub_identity_spec_t s = { .device_id = id, .primary_key = KEY };
        assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
        char patch[96];
        snprintf(patch, sizeof patch, "{\"tags\":{\"shard\":%d,\"even\":%s}}", i % 7, i % 2 ? "false" : "true");
        assert_int_equal(hub_twin_patch(f->hub, id, NULL, patch, strlen(patch), NULL, NULL), HUB_EOK);
    }
    hub_identity_spec_t m = { .device_id = "d000", .module_id = "scanner", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    return f;
}

static void query_body(char *buf, size_t cap, const char *q)
{
    json_t *b = json_pack("{s:s}", "query", q);
    char *s = json_dumps(b, JSON_COMPACT);
    snprintf(buf, cap, "%s", s);
    free(s);
    json_decref(b);
}

/* Page through q; every row's deviceId appended to ids (comma-separated). */
static int page_all(fx_t *f, const char *q, const char *page_size, char *ids_out, size_t cap, int *pages)
{
    char body[1024], cont[256] = "", hdr_cont[300], hdr_max[64];
    query_body(body, sizeof body, q);
    ids_out[0] = 0;
    int rows = 0;
    *pages = 0;
    for (;;) {
        const char *extra[4];
        size_t n = 0;
        extra[n++] = "Content-Type: application/json; charset=utf-8";
        if (page_size) {
            snprintf(hdr_max, sizeof hdr_max, "x-ms-max-item-count: %s", page_size);
            extra[n++] = hdr_max;
        }
        if (cont[0]) {
            snprintf(hdr_cont, sizeof hdr_cont, "x-ms-continuation: %s", cont);
            extra[n++] = hdr_cont;
        }
        extra[n] = NULL;
        capture_t c;
        fx_svc(f, "POST", "/devices/query?api-version=2021-04-12", extra, body, &c);
        if (c.status != 200)
            fail_msg("page %d: %d %s", *pages, c.status, c.body);
        (*pages)++;
        assert_non_null(strstr(cap_header(&c, "Content-Type"), "application/json"));
        json_t *arr = cap_json(&c);
        assert_true(json_is_array(arr));
        size_t i;
        json_t *row;
        json_array_foreach(arr, i, row) {
            size_t len = strlen(ids_out);
            snprintf(ids_out + len, cap - len, "%s%s", len ? "," : "",
                     json_string_value(json_object_get(row, "deviceId")));
            rows++;
        }
        json_decref(arr);
        const char *next = cap_header(&c, "x-ms-continuation");
        if (!next)
            break;
        assert_true(strlen(next) > 0 && strlen(next) < sizeof cont);
        snprintf(cont, sizeof cont, "%s", next);
        assert_true(*pages < 100);
    }
    return rows;
}

static void test_rest_paging(void **state)
{
    (void)state;
    fx_t *f = fleet_hub();
    static char got[NDEV * 8], want[NDEV * 8];
    /* registration order: dev1, d000 .. d248 */
    snprintf(want, sizeof want, "dev1");
    for (int i = 0; i < NDEV - 1; i++) {
        size_t n = strlen(want);
        snprintf(want + n, sizeof want - n, ",d%03d", i);
    }
    int pages;
    /* default page size 100: 100 + 100 + 50, the last page without a token */
    assert_int_equal(page_all(f, "SELECT deviceId FROM devices", NULL, got, sizeof got, &pages), NDEV);
    assert_int_equal(pages, 3);
    assert_string_equal(got, want);
    /* pages of 7; SELECT * items are twins */
    assert_int_equal(page_all(f, "SELECT * FROM devices", "7", got, sizeof got, &pages), NDEV);
    assert_int_equal(pages, (NDEV + 6) / 7);
    assert_string_equal(got, want);
    /* an exact multiple: no empty trailing page */
    assert_int_equal(page_all(f, "SELECT deviceId FROM devices", "125", got, sizeof got, &pages), NDEV);
    assert_int_equal(pages, 2);
    /* above the maximum: clamped to 1000, one page */
    assert_int_equal(page_all(f, "SELECT deviceId FROM devices", "5000", got, sizeof got, &pages), NDEV);
    assert_int_equal(pages, 1);
    /* a filter over tags the hub holds */
    assert_int_equal(page_all(f, "SELECT deviceId FROM devices WHERE tags.shard = 3 AND tags.even = true", "4",
                              got, sizeof got, &pages),
                     18);
    assert_int_equal(pages, 5);
    assert_true(strncmp(got, "d010,d024,d038", 14) == 0);
    /* modules: the module twin only */
    assert_int_equal(page_all(f, "SELECT * FROM devices.modules", NULL, got, sizeof got, &pages), 1);
    assert_string_equal(got, "d000");
    /* identity fields are queryable */
    assert_int_equal(page_all(f, "SELECT deviceId FROM devices WHERE status = 'enabled' AND connectionState = "
                                 "'Disconnected' AND deviceId IN ['dev1', 'd007']",
                              NULL, got, sizeof got, &pages),
                     2);
    /* a count is one raw row */
    char body[256];
    capture_t c;
    query_body(body, sizeof body, "SELECT COUNT() AS numberOfDevices FROM devices WHERE tags.even = false");
    fx_svc(f, "POST", "/devices/query", NULL, body, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(cap_header(&c, "x-ms-item-type"), "raw");
    assert_null(cap_header(&c, "x-ms-continuation"));
    assert_string_equal(c.body, "[{\"numberOfDevices\":124}]");
    query_body(body, sizeof body, "SELECT * FROM devices WHERE deviceId = 'd001'");
    fx_svc(f, "POST", "/devices/query", NULL, body, &c);
    assert_string_equal(cap_header(&c, "x-ms-item-type"), "twin");
    json_t *arr = cap_json(&c);
    json_t *doc = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(doc, "deviceId")), "d001");
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "enabled");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "tags"), "shard")), 1);
    assert_non_null(json_object_get(json_object_get(doc, "properties"), "desired"));
    json_decref(arr);
    fx_free(f);
}

static void test_rest_bad_requests_and_rights(void **state)
{
    (void)state;
    fx_t *f = fleet_hub();
    capture_t c;
    char body[256];
    /* a syntax error: 400 with its position */
    query_body(body, sizeof body, "SELECT * FROM devices WHERE a ==");
    fx_svc(f, "POST", "/devices/query", NULL, body, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_non_null(strstr(c.body, "line 1, column 31"));
    /* no query member, not JSON */
    fx_svc(f, "POST", "/devices/query", NULL, "{\"sql\":\"SELECT * FROM devices\"}", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_svc(f, "POST", "/devices/query", NULL, "{\"query\":", &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    /* page size and tokens */
    query_body(body, sizeof body, "SELECT deviceId FROM devices");
    fx_svc(f, "POST", "/devices/query", (const char *[]){ "x-ms-max-item-count: 0", NULL }, body, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_svc(f, "POST", "/devices/query", (const char *[]){ "x-ms-max-item-count: ten", NULL }, body, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_svc(f, "POST", "/devices/query", (const char *[]){ "x-ms-continuation: garbage", NULL }, body, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    /* a token of another query is refused */
    fx_svc(f, "POST", "/devices/query", (const char *[]){ "x-ms-max-item-count: 10", NULL }, body, &c);
    char tok[300];
    snprintf(tok, sizeof tok, "x-ms-continuation: %s", cap_header(&c, "x-ms-continuation"));
    char other[256];
    query_body(other, sizeof other, "SELECT * FROM devices");
    fx_svc(f, "POST", "/devices/query", (const char *[]){ tok, NULL }, other, &c);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    fx_svc(f, "POST", "/devices/query", (const char *[]){ tok, NULL }, body, &c);
    assert_int_equal(c.status, 200);
    assert_true(strncmp(c.body, "[{\"deviceId\":\"d009\"}", 20) == 0);
    /* a token past the end answers an empty page */
    char body2[256];
    query_body(body2, sizeof body2, "SELECT deviceId FROM devices WHERE deviceId = 'dev1'");
    fx_svc(f, "POST", "/devices/query", (const char *[]){ "x-ms-max-item-count: 1", NULL }, body2, &c);
    assert_string_equal(c.body, "[{\"deviceId\":\"dev1\"}]");
    assert_null(cap_header(&c, "x-ms-continuation"));
    /* GET is not the query verb: devices/{d} with id "query" */
    fx_svc(f, "GET", "/devices/query", NULL, NULL, &c);
    assert_hub_error(&c, 404, "DeviceNotFound");
    /* rights: registryRead may query, service (ServiceConnect only) may not, nobody without a token */
    char t[512];
    const hub_config_policy_t *rr = hub_config_find_policy(hub_config(f->hub), "registryRead");
    assert_int_equal(hub_sas_make(rr->primary_key, HOST, EPOCH + 3600, "registryRead", t, sizeof t), HS_EOK);
    fx_send(f, "POST", "/devices/query", t, NULL, body, &c);
    assert_int_equal(c.status, 200);
    const hub_config_policy_t *sv = hub_config_find_policy(hub_config(f->hub), "service");
    assert_int_equal(hub_sas_make(sv->primary_key, HOST, EPOCH + 3600, "service", t, sizeof t), HS_EOK);
    fx_send(f, "POST", "/devices/query", t, NULL, body, &c);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    fx_send(f, "POST", "/devices/query", NULL, NULL, body, &c);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_where_paths),
        cmocka_unit_test(test_three_valued_logic),
        cmocka_unit_test(test_in_nin),
        cmocka_unit_test(test_projection_count_group),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_device_jobs),
        cmocka_unit_test(test_errors_with_positions),
        cmocka_unit_test(test_hostile_prefixes),
        cmocka_unit_test(test_rest_paging),
        cmocka_unit_test(test_rest_bad_requests_and_rights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
