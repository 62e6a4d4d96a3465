/* Identity import/export jobs: export then import round trip through a folder, import modes, and every failure path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim/hub/hub.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define EPOCH 1767225600LL

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    char dir[64];
} fx_t;

static void fx_init(fx_t *f, const char *base_dir)
{
    f->k = sim_kernel_new(3, EPOCH);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    if (base_dir)
        snprintf(cfg.jobs.import_export_dir, sizeof cfg.jobs.import_export_dir, "%s", base_dir);
    char why[256] = "";
    assert_int_equal(hub_new(f->k, &cfg, &f->hub, why, sizeof why), HS_EOK);
    hub_config_free(&cfg);
}

static void fx_done(fx_t *f)
{
    char why[256] = "";
    assert_int_equal(hub_check(f->hub, why, sizeof why), HS_EOK);
    hub_free(f->hub);
    sim_kernel_free(f->k);
}

static void tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/hubsim-idio-XXXXXX");
    assert_non_null(mkdtemp(out));
}

static void rm_tree(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *dir, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void populate(fx_t *f)
{
    hub_identity_spec_t gw = { .device_id = "gw", .primary_key = KEY, .iot_edge = true };
    hub_identity_spec_t leaf = { .device_id = "leaf", .primary_key = KEY, .parent_id = "gw" };
    hub_identity_spec_t off = { .device_id = "off", .primary_key = KEY, .secondary_key = KEY2,
                                .disabled = true };
    hub_identity_spec_t x = { .device_id = "x509dev", .x509 = true,
                              .primary_thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567" };
    hub_identity_spec_t mod = { .device_id = "leaf", .module_id = "m1", .primary_key = KEY2 };
    assert_int_equal(hub_identity_create(f->hub, &gw, NULL), HUB_EOK);
    assert_int_equal(hub_identity_create(f->hub, &leaf, NULL), HUB_EOK);
    assert_int_equal(hub_identity_create(f->hub, &off, NULL), HUB_EOK);
    assert_int_equal(hub_identity_create(f->hub, &x, NULL), HUB_EOK);
    assert_int_equal(hub_identity_create(f->hub, &mod, NULL), HUB_EOK);
    const char *patch = "{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":{\"rate\":5}}}";
    assert_int_equal(hub_twin_patch(f->hub, "leaf", NULL, patch, strlen(patch), NULL, NULL), HUB_EOK);
}

static json_t *run_job(fx_t *f, const char *body_text)
{
    json_error_t je;
    json_t *body = json_loads(body_text, 0, &je);
    assert_non_null(body);
    json_t *doc = NULL;
    char why[256] = "";
    assert_int_equal(hub_io_job_create(f->hub, body, &doc, why, sizeof why), HUB_EOK);
    json_decref(body);
    assert_non_null(doc);
    return doc;
}

static const char *status_of(const json_t *doc)
{
    return json_string_value(json_object_get(doc, "status"));
}

static const char *reason_of(const json_t *doc)
{
    const char *r = json_string_value(json_object_get(doc, "failureReason"));
    return r ? r : "";
}

/* ---- round trip --------------------------------------------------------------- */

static void test_export_import_round_trip(void **state)
{
    (void)state;
    char dir[64], body[512];
    tmpdir(dir, sizeof dir);
    fx_t a;
    fx_init(&a, NULL);
    populate(&a);
    snprintf(body, sizeof body,
             "{\"type\":\"export\",\"outputBlobContainerUri\":\"file://%s\",\"excludeKeysInExport\":false}", dir);
    json_t *doc = run_job(&a, body);
    assert_string_equal(status_of(doc), "completed");
    assert_int_equal(json_integer_value(json_object_get(doc, "deviceCount")), 5);
    const char *job_id = json_string_value(json_object_get(doc, "jobId"));
    json_t *again = NULL;
    assert_true(hub_io_job_get(a.hub, job_id, &again));
    assert_string_equal(status_of(again), "completed");
    json_decref(again);
    assert_false(hub_io_job_get(a.hub, "nosuch", NULL));
    json_decref(doc);
    char *text = read_all(dir, "devices.txt");
    assert_non_null(text);
    /* one line per identity, registration order, the SDK field names */
    assert_non_null(strstr(text, "\"id\":\"gw\""));
    assert_non_null(strstr(text, "\"iotEdge\":true"));
    assert_non_null(strstr(text, "\"deviceScope\":\"ms-azure-iot-edge://gw-"));
    assert_non_null(strstr(text, "\"parentScopes\":[\"ms-azure-iot-edge://gw-"));
    assert_non_null(strstr(text, "\"moduleId\":\"m1\""));
    assert_non_null(strstr(text, "\"primaryKey\":\"" KEY "\""));
    assert_non_null(strstr(text, "\"type\":\"selfSigned\""));
    assert_non_null(strstr(text, "\"site\":\"north\""));
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 5);
    free(text);

    /* A fresh hub imports it: same identities, keys, status, scope, tags. */
    fx_t b;
    fx_init(&b, NULL);
    snprintf(body, sizeof body,
             "{\"type\":\"import\",\"inputBlobContainerUri\":\"file://%s\",\"outputBlobContainerUri\":\"file://%s\"}",
             dir, dir);
    doc = run_job(&b, body);
    assert_string_equal(status_of(doc), "completed");
    assert_int_equal(json_integer_value(json_object_get(doc, "deviceCount")), 5);
    assert_int_equal(json_integer_value(json_object_get(doc, "importErrorCount")), 0);
    json_decref(doc);
    assert_int_equal(hub_identity_count(b.hub), 5);
    hub_identity_t id;
    assert_int_equal(hub_identity_get(b.hub, "off", NULL, &id), HUB_EOK);
    assert_false(id.enabled);
    assert_string_equal(id.secondary_key, KEY2);
    assert_int_equal(hub_identity_get(b.hub, "leaf", NULL, &id), HUB_EOK);
    assert_string_equal(id.parent_id, "gw");
    assert_string_equal(id.primary_key, KEY);
    assert_int_equal(hub_identity_get(b.hub, "gw", NULL, &id), HUB_EOK);
    assert_true(id.iot_edge);
    assert_int_equal(hub_identity_get(b.hub, "x509dev", NULL, &id), HUB_EOK);
    assert_true(id.x509);
    assert_string_equal(id.primary_thumbprint, "0123456789ABCDEF0123456789ABCDEF01234567");
    assert_int_equal(hub_identity_get(b.hub, "leaf", "m1", &id), HUB_EOK);
    assert_string_equal(id.primary_key, KEY2);
    json_t *twin = NULL;
    assert_int_equal(hub_twin_get(b.hub, "leaf", NULL, &twin), HUB_EOK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(twin, "tags"), "site")), "north");
    json_decref(twin);
    assert_int_equal(hub_counter(b.hub, "identity_io.imported"), 5);
    assert_int_equal(hub_counter(a.hub, "identity_io.exported"), 5);
    fx_done(&a);
    fx_done(&b);
    rm_tree(dir);
}

static void test_exclude_keys_and_container_folder(void **state)
{
    (void)state;
    char base[64], sub[128];
    tmpdir(base, sizeof base);
    snprintf(sub, sizeof sub, "%s/exports", base);
    assert_int_equal(mkdir(sub, 0700), 0);
    fx_t a;
    fx_init(&a, base);
    populate(&a);
    /* a blob-storage URI: its last path segment names a folder under the knob */
    json_t *doc = run_job(&a, "{\"type\":\"exportDevices\",\"outputBlobContainerUri\":"
                              "\"https://acct.blob.core.windows.net/exports?sv=x&sig=y\","
                              "\"excludeKeysInExport\":true}");
    assert_string_equal(status_of(doc), "completed");
    json_decref(doc);
    char *text = read_all(sub, "devices.txt");
    assert_non_null(text);
    assert_null(strstr(text, KEY));
    assert_non_null(strstr(text, "\"primaryKey\":null"));
    free(text);
    fx_done(&a);
    rm_tree(base);
}

/* ---- import modes -------------------------------------------------------------- */

static void test_import_modes_log_errors(void **state)
{
    (void)state;
    char dir[64], body[512];
    tmpdir(dir, sizeof dir);
    fx_t f;
    fx_init(&f, NULL);
    populate(&f);
    hub_identity_t gw;
    assert_int_equal(hub_identity_get(f.hub, "gw", NULL, &gw), HUB_EOK);
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\":\"leaf\",\"moduleId\":\"m1\",\"importMode\":\"create\"}\n" /* exists: logged */
             "{\"id\":\"new1\",\"importMode\":\"create\"}\n"                       /* created */
             "\n"                                                                  /* blank: skipped */
             "{\"id\":\"ghost\",\"importMode\":\"update\"}\n"                      /* missing: logged */
             "{\"id\":\"off\",\"importMode\":\"updateIfMatchETag\",\"eTag\":\"nope\"}\n" /* logged */
             "{\"id\":\"gw\",\"importMode\":\"updateIfMatchETag\",\"eTag\":\"%s\",\"capabilities\":{\"iotEdge\":true}}\n"
             "{\"id\":\"x509dev\",\"importMode\":\"delete\"}\n"                     /* deleted */
             "{\"id\":\"leaf\",\"importMode\":\"updateTwin\",\"tags\":{\"site\":\"south\"}}\n",
             gw.etag);
    write_file(dir, "devices.txt", text);
    snprintf(body, sizeof body,
             "{\"type\":\"import\",\"inputBlobContainerUri\":\"file://%s\",\"outputBlobContainerUri\":\"file://%s\"}",
             dir, dir);
    json_t *doc = run_job(&f, body);
    if (strcmp(status_of(doc), "completed") != 0)
        fail_msg("import failed: %s", reason_of(doc));
    assert_int_equal(json_integer_value(json_object_get(doc, "importErrorCount")), 3);
    assert_int_equal(json_integer_value(json_object_get(doc, "deviceCount")), 4);
    json_decref(doc);
    hub_identity_t id;
    assert_int_equal(hub_identity_get(f.hub, "new1", NULL, &id), HUB_EOK);
    assert_int_equal(hub_identity_get(f.hub, "x509dev", NULL, &id), HUB_EDEVICE_NOT_FOUND);
    assert_int_equal(hub_identity_get(f.hub, "gw", NULL, &id), HUB_EOK);
    assert_true(id.iot_edge);
    json_t *twin = NULL;
    assert_int_equal(hub_twin_get(f.hub, "leaf", NULL, &twin), HUB_EOK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(twin, "tags"), "site")), "south");
    json_decref(twin);
    char *log = read_all(dir, "importErrors.log");
    assert_non_null(log);
    assert_non_null(strstr(log, "\"moduleId\":\"m1\""));
    assert_non_null(strstr(log, "409301"));
    assert_non_null(strstr(log, "\"deviceId\":\"ghost\""));
    assert_non_null(strstr(log, "404001"));
    assert_non_null(strstr(log, "412"));
    assert_non_null(strstr(log, "\"line\":5"));
    free(log);
    assert_int_equal(hub_counter(f.hub, "identity_io.import_errors"), 3);
    fx_done(&f);
    rm_tree(dir);
}

/* ---- failures: the job fails with a reason, the registry is untouched ----------- */

static void expect_import_fails(const char *file_text, const char *want_reason, const char *sw)
{
    char dir[64], body[512];
    tmpdir(dir, sizeof dir);
    fx_t f;
    fx_init(&f, NULL);
    if (sw)
        assert_int_equal(hub_break(f.hub, sw), HS_EOK);
    write_file(dir, "devices.txt", file_text);
    snprintf(body, sizeof body,
             "{\"type\":\"import\",\"inputBlobContainerUri\":\"file://%s\",\"outputBlobContainerUri\":\"file://%s\"}",
             dir, dir);
    json_t *doc = run_job(&f, body);
    if (!sw) {
        assert_string_equal(status_of(doc), "failed");
        if (!strstr(reason_of(doc), want_reason))
            fail_msg("failureReason \"%s\" lacks \"%s\"", reason_of(doc), want_reason);
        assert_int_equal(hub_identity_count(f.hub), 0); /* all or nothing */
        assert_int_equal(hub_counter(f.hub, "identity_io.jobs_failed"), 1);
    } else {
        /* the broken hub applied something */
        assert_true(hub_identity_count(f.hub) > 0);
    }
    json_decref(doc);
    fx_done(&f);
    rm_tree(dir);
}

static void test_malformed_line_fails_with_line_number(void **state)
{
    (void)state;
    const char *t = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\": \"c\",,}\n{\"id\":\"d\"}\n";
    expect_import_fails(t, "devices.txt line 3", NULL);
    expect_import_fails(t, "", "IDENTITY-IMPORT-MALFORMED");
    expect_import_fails("{\"id\":\"a\"}\n[1,2]\n", "devices.txt line 2: not a JSON object", NULL);
    expect_import_fails("{\"id\":\"bad id/\"}\n", "devices.txt line 1: \"id\"", NULL);
    expect_import_fails("{\"id\":\"a\",\"importMode\":\"merge\"}\n", "unknown importMode", NULL);
    expect_import_fails("{\"id\":\"a\",\"status\":\"paused\"}\n", "\"status\"", NULL);
    expect_import_fails("{\"id\":\"a\",\"tags\":[1]}\n", "\"tags\"", NULL);
}

static void test_duplicate_ids_fail(void **state)
{
    (void)state;
    const char *t = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"a\",\"status\":\"disabled\"}\n";
    expect_import_fails(t, "devices.txt line 3: identity \"a/\" defined more than once (first on line 1)", NULL);
    expect_import_fails(t, "", "IDENTITY-IMPORT-DUPLICATE");
}

static void test_unknown_folders_and_bad_requests(void **state)
{
    (void)state;
    fx_t f;
    fx_init(&f, NULL);
    json_t *doc = run_job(&f, "{\"type\":\"export\",\"outputBlobContainerUri\":\"file:///nonexistent/hubsim-x\"}");
    assert_string_equal(status_of(doc), "failed");
    assert_non_null(strstr(reason_of(doc), "does not exist"));
    json_decref(doc);
    doc = run_job(&f, "{\"type\":\"import\",\"inputBlobContainerUri\":\"file:///nonexistent/in\","
                      "\"outputBlobContainerUri\":\"file:///tmp\"}");
    assert_string_equal(status_of(doc), "failed");
    assert_non_null(strstr(reason_of(doc), "input container folder"));
    json_decref(doc);
    /* no importExportDir: a blob URI cannot be mapped */
    doc = run_job(&f, "{\"type\":\"export\",\"outputBlobContainerUri\":\"https://a.blob.core.windows.net/c\"}");
    assert_string_equal(status_of(doc), "failed");
    assert_non_null(strstr(reason_of(doc), "jobs.importExportDir"));
    json_decref(doc);
    /* an existing folder without devices.txt */
    doc = run_job(&f, "{\"type\":\"import\",\"inputBlobContainerUri\":\"file:///tmp\","
                      "\"inputBlobName\":\"hubsim-no-such-file.txt\",\"outputBlobContainerUri\":\"file:///tmp\"}");
    assert_string_equal(status_of(doc), "failed");
    assert_non_null(strstr(reason_of(doc), "cannot read"));
    json_decref(doc);
    /* requests that are not jobs: refused, nothing created */
    const char *bad[] = {
        "[]",
        "{\"type\":\"reboot\",\"outputBlobContainerUri\":\"file:///tmp\"}",
        "{\"type\":\"export\"}",
        "{\"type\":\"import\",\"outputBlobContainerUri\":\"file:///tmp\"}",
        "{\"type\":\"export\",\"outputBlobContainerUri\":\"file:///tmp\",\"excludeKeysInExport\":\"yes\"}",
        "{\"type\":\"export\",\"outputBlobContainerUri\":\"file:///tmp\",\"outputBlobName\":\"../x\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        assert_non_null(b);
        char why[256] = "";
        json_t *d = NULL;
        assert_int_equal(hub_io_job_create(f.hub, b, &d, why, sizeof why), HUB_EARGUMENT_INVALID);
        assert_null(d);
        assert_true(why[0] != '\0');
        json_decref(b);
    }
    json_t *all = hub_io_job_list(f.hub);
    assert_int_equal(json_array_size(all), 4);
    json_decref(all);
    assert_int_equal(hub_counter(f.hub, "identity_io.jobs_failed"), 4);
    fx_done(&f);
}

/* Each staged export/import switch changes an observable outcome. */
static void test_export_switches(void **state)
{
    (void)state;
    const char *sw[] = { "IDENTITY-EXPORT-ROUNDTRIP", "IDENTITY-EXPORT-EXCLUDE-KEYS", "IDENTITY-IMPORT-MODE" };
    for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++) {
        char dir[64];
        tmpdir(dir, sizeof dir);
        fx_t f;
        fx_init(&f, NULL);
        populate(&f);
        assert_int_equal(hub_break(f.hub, sw[i]), HS_EOK);
        size_t n = 0, bad = 0;
        char why[256] = "";
        assert_int_equal(hub_identity_export(f.hub, dir, NULL, true, &n, why, sizeof why), HS_EOK);
        char *text = read_all(dir, "devices.txt");
        bool keys = strstr(text, KEY) != NULL;
        free(text);
        write_file(dir, "in.txt", "{\"id\":\"off\",\"importMode\":\"create\"}\n");
        assert_int_equal(hub_identity_import(f.hub, dir, "in.txt", dir, &n, &bad, why, sizeof why), HS_EOK);
        size_t exported = 0;
        assert_int_equal(hub_identity_export(f.hub, dir, "again.txt", false, &exported, why, sizeof why), HS_EOK);
        bool clean = !keys && bad == 1 && exported == 5;
        if (clean)
            fail_msg("switch %s changes nothing", sw[i]);
        fx_done(&f);
        rm_tree(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_import_round_trip),
        cmocka_unit_test(test_exclude_keys_and_container_folder),
        cmocka_unit_test(test_import_modes_log_errors),
        cmocka_unit_test(test_malformed_line_fails_with_line_number),
        cmocka_unit_test(test_duplicate_ids_fail),
        cmocka_unit_test(test_unknown_folders_and_bad_requests),
        cmocka_unit_test(test_export_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
