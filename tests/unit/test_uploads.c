/* File uploads in virtual time: the hub model (correlation, SAS expiry, per-device limit, notifications) and the REST routes with the local blob endpoint. */
#include "test_http_fixture.h"

#include <jansson.h>
#include "serve/amqp/amqp_address.h"
#include "serve/amqp/feeds.h"

/* Facts under test (docs/file-uploads.md): 10 active uploads per device
 * [doc], 403006 DeviceMaximumActiveFileUploadLimitExceeded [doc], SAS TTL
 * 1 h [doc], notifications off by default [doc]. */
#define SAS_TTL (3600 * SIM_SEC)

typedef struct {
    int count;
    char json[2048];
    char device_id[64];
    char blob_name[256];
    uint64_t size;
    sim_time_t ttl;
    uint32_t max_delivery;
} notes_t;

static void on_note(void *ctx, const hub_file_notification_t *n)
{
    notes_t *t = ctx;
    t->count++;
    snprintf(t->json, sizeof t->json, "%.*s", (int)n->json_len, n->json);
    snprintf(t->device_id, sizeof t->device_id, "%s", n->device_id);
    snprintf(t->blob_name, sizeof t->blob_name, "%s", n->blob_name);
    t->size = n->blob_size;
    t->ttl = n->ttl;
    t->max_delivery = n->max_delivery_count;
}

typedef struct {
    fx_t *f;
    notes_t notes;
    char tok[512];
} ux_t;

/* The shared fixture, rebuilt on a hub whose file notifications are on or off. */
static ux_t *ux_new(bool notifications)
{
    ux_t *u = calloc(1, sizeof *u);
    assert_non_null(u);
    u->f = fx_new();
    hub_free(u->f->hub);
    http_api_free(u->f->api);
    hub_config_t cfg;
    hub_config_defaults(&cfg);
    cfg.file_upload.notifications = notifications;
    char why[256];
    assert_int_equal(hub_new(u->f->k, &cfg, &u->f->hub, why, sizeof why), HS_EOK);
    u->f->api = http_api_new(u->f->hub, NULL);
    assert_non_null(u->f->api);
    hub_identity_spec_t s = { .device_id = "dev1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(u->f->hub, &s, NULL), HUB_EOK);
    hub_identity_spec_t s2 = { .device_id = "dev2", .primary_key = KEY };
    assert_int_equal(hub_identity_create(u->f->hub, &s2, NULL), HUB_EOK);
    hub_set_file_notification_sink(u->f->hub, on_note, &u->notes);
    fx_device_token("dev1", NULL, EPOCH + 7 * 86400, u->tok, sizeof u->tok);
    return u;
}

static void ux_free(ux_t *u)
{
    fx_free(u->f);
    free(u);
}

static void advance(ux_t *u, sim_time_t d)
{
    sim_kernel_run_until(u->f->k, sim_kernel_now(u->f->k) + d);
}

/* ---- hub model ------------------------------------------------------------------ */

static void test_start_hands_out_correlation_id_and_sas(void **state)
{
    (void)state;
    ux_t *u = ux_new(false);
    hub_upload_t up;
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "logs/a.txt", &up), HUB_EOK);
    assert_int_equal(strlen(up.correlation_id), 32);
    assert_string_equal(up.blob_name, "dev1/logs/a.txt");
    assert_int_equal(strncmp(up.sas_token, "?sv=", 4), 0);
    assert_non_null(strstr(up.sas_token, "&sr=b&sig="));
    assert_non_null(strstr(up.sas_token, "&sp=rw"));
    /* EPOCH is 2026-01-01T00:00:00Z; the SAS lives one hour */
    assert_non_null(strstr(up.sas_token, "&se=2026-01-01T01%3A00%3A00Z"));
    assert_int_equal(up.expires_at, SAS_TTL);
    hub_upload_t up2;
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "logs/a.txt", &up2), HUB_EOK);
    assert_string_not_equal(up.correlation_id, up2.correlation_id);
    assert_int_equal(hub_upload_start(u->f->hub, "ghost", "a", &up), HUB_EDEVICE_NOT_FOUND);
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "", &up), HUB_EARGUMENT_INVALID);
    hub_upload_stats_t st;
    hub_upload_stats(u->f->hub, &st);
    assert_int_equal(st.started, 2);
    assert_int_equal(st.active, 2);
    ux_free(u);
}

/* The two model break switches (sim/hub/faults.h): each changes exactly its rule's behaviour,
 * the books still count the unknown correlation id. */
static void test_break_switches(void **state)
{
    (void)state;
    ux_t *u = ux_new(false);
    hub_upload_t up;
    assert_int_equal(hub_break(u->f->hub, "UPLOAD-SAS-URI"), HS_EOK);
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "logs/a.txt", &up), HUB_EOK);
    assert_string_equal(up.blob_name, "logs/a.txt"); /* no dev1/ */
    assert_int_equal(hub_upload_complete(u->f->hub, "dev1", "nope", true, 201, ""), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_break(u->f->hub, "UPLOAD-UNKNOWN-CORRELATION"), HS_EOK);
    assert_int_equal(hub_upload_complete(u->f->hub, "dev1", "nope", true, 201, ""), HUB_EOK);
    hub_upload_stats_t st;
    hub_upload_stats(u->f->hub, &st);
    assert_int_equal(st.unknown_correlation, 2);
    assert_int_equal(st.active, 1); /* the real upload is still active */
    ux_free(u);
}

static void test_per_device_limit_then_freed_by_completion_and_expiry(void **state)
{
    (void)state;
    ux_t *u = ux_new(false);
    hub_upload_t up[10], extra;
    for (int i = 0; i < 10; i++)
        assert_int_equal(hub_upload_start(u->f->hub, "dev1", "f", &up[i]), HUB_EOK);
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "f", &extra), HUB_EFILE_UPLOAD_LIMIT);
    assert_int_equal(hub_error_info(HUB_EFILE_UPLOAD_LIMIT)->http_status, 403);
    assert_int_equal(hub_error_info(HUB_EFILE_UPLOAD_LIMIT)->code, 403006);
    /* the limit is per device */
    assert_int_equal(hub_upload_start(u->f->hub, "dev2", "f", &extra), HUB_EOK);
    assert_int_equal(hub_upload_complete(u->f->hub, "dev1", up[3].correlation_id, false, 500, "x"),
                     HUB_EOK);
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "f", &extra), HUB_EOK);
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "f", &extra), HUB_EFILE_UPLOAD_LIMIT);
    advance(u, SAS_TTL);
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "f", &extra), HUB_EOK);
    hub_upload_stats_t st;
    hub_upload_stats(u->f->hub, &st);
    assert_int_equal(st.refused_limit, 2);
    assert_int_equal(st.completed_failed, 1);
    assert_int_equal(st.expired, 11); /* 9 + the one after completion + dev2's */
    assert_int_equal(st.active, 1);
    ux_free(u);
}

static void test_complete_refuses_unknown_repeated_foreign_and_expired(void **state)
{
    (void)state;
    ux_t *u = ux_new(true);
    hub_t *h = u->f->hub;
    hub_upload_t a, b;
    assert_int_equal(hub_upload_start(h, "dev1", "a", &a), HUB_EOK);
    assert_int_equal(hub_upload_start(h, "dev1", "b", &b), HUB_EOK);
    assert_int_equal(hub_upload_complete(h, "dev1", "nope", true, 201, ""), HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_upload_complete(h, "dev2", a.correlation_id, true, 201, ""),
                     HUB_EARGUMENT_INVALID);
    assert_int_equal(hub_upload_complete(h, "dev1", a.correlation_id, true, 201, ""), HUB_EOK);
    assert_int_equal(hub_upload_complete(h, "dev1", a.correlation_id, true, 201, ""),
                     HUB_EARGUMENT_INVALID);
    advance(u, SAS_TTL);
    assert_int_equal(hub_upload_complete(h, "dev1", b.correlation_id, true, 201, ""),
                     HUB_EARGUMENT_INVALID);
    assert_int_equal(u->notes.count, 1);
    hub_upload_stats_t st;
    hub_upload_stats(h, &st);
    assert_int_equal(st.unknown_correlation, 4);
    assert_int_equal(st.completed_ok, 1);
    ux_free(u);
}

static void test_notification_only_when_enabled_and_successful(void **state)
{
    (void)state;
    ux_t *u = ux_new(true);
    hub_t *h = u->f->hub;
    hub_upload_t a, b;
    assert_int_equal(hub_upload_start(h, "dev1", "pic.jpg", &a), HUB_EOK);
    advance(u, 90 * SIM_SEC);
    hub_upload_blob_written(h, "dev1/pic.jpg", 12345);
    advance(u, 2500 * SIM_MS);
    assert_int_equal(hub_upload_complete(h, "dev1", a.correlation_id, true, 201, "ok"), HUB_EOK);
    assert_int_equal(u->notes.count, 1);
    assert_string_equal(u->notes.device_id, "dev1");
    assert_string_equal(u->notes.blob_name, "dev1/pic.jpg");
    assert_int_equal(u->notes.size, 12345);
    assert_int_equal(u->notes.ttl, SAS_TTL);
    assert_int_equal(u->notes.max_delivery, 10);
    assert_string_equal(u->notes.json,
                        "{\"deviceId\":\"dev1\",\"blobUri\":\"https://" HOST
                        "/hubsim-files/dev1/pic.jpg\",\"blobName\":\"dev1/pic.jpg\","
                        "\"lastUpdatedTime\":\"2026-01-01T00:01:30+00:00\",\"blobSizeInBytes\":12345,"
                        "\"enqueuedTimeUtc\":\"2026-01-01T00:01:32.500Z\"}");
    /* a failed upload notifies nobody */
    assert_int_equal(hub_upload_start(h, "dev1", "x", &b), HUB_EOK);
    assert_int_equal(hub_upload_complete(h, "dev1", b.correlation_id, false, 403, "no"), HUB_EOK);
    assert_int_equal(u->notes.count, 1);
    ux_free(u);

    u = ux_new(false);
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", "pic.jpg", &a), HUB_EOK);
    assert_int_equal(hub_upload_complete(u->f->hub, "dev1", a.correlation_id, true, 201, ""), HUB_EOK);
    assert_int_equal(u->notes.count, 0);
    ux_free(u);
}

static void test_blob_authorize_by_signature_until_expiry(void **state)
{
    (void)state;
    ux_t *u = ux_new(false);
    hub_t *h = u->f->hub;
    hub_upload_t a;
    assert_int_equal(hub_upload_start(h, "dev1", "a", &a), HUB_EOK);
    char sig[64];
    const char *s = strstr(a.sas_token, "sig=") + 4;
    snprintf(sig, sizeof sig, "%.*s", (int)strcspn(s, "&"), s);
    assert_int_equal(hub_upload_blob_authorize(h, "dev1/a", sig), HUB_EOK);
    assert_int_equal(hub_upload_blob_authorize(h, "dev1/b", sig), HUB_EUNAUTHORIZED_ACCESS);
    assert_int_equal(hub_upload_blob_authorize(h, "dev1/a", "00"), HUB_EUNAUTHORIZED_ACCESS);
    /* notified: still readable with its SAS until the SAS expires */
    assert_int_equal(hub_upload_complete(h, "dev1", a.correlation_id, true, 201, ""), HUB_EOK);
    assert_int_equal(hub_upload_blob_authorize(h, "dev1/a", sig), HUB_EOK);
    advance(u, SAS_TTL - 1);
    assert_int_equal(hub_upload_blob_authorize(h, "dev1/a", sig), HUB_EOK);
    advance(u, 1);
    assert_int_equal(hub_upload_blob_authorize(h, "dev1/a", sig), HUB_EUNAUTHORIZED_ACCESS);
    ux_free(u);
}

static void test_config_loads_file_upload_knobs(void **state)
{
    (void)state;
    const char *text = "{\"fileUpload\":{\"notifications\":true,\"sasTtl\":\"2h\","
                       "\"maxConcurrentPerDevice\":3,\"notificationTtl\":\"30m\","
                       "\"notificationMaxDeliveryCount\":5,\"notificationLockDuration\":\"30s\"}}";
    hub_config_t cfg;
    assert_int_equal(hub_config_load_json(text, strlen(text), "t.json", &cfg, NULL), HS_EOK);
    assert_true(cfg.file_upload.notifications);
    assert_int_equal(cfg.file_upload.sas_ttl, 2 * SAS_TTL);
    assert_int_equal(cfg.file_upload.max_concurrent_per_device, 3);
    assert_int_equal(cfg.file_upload.notification_ttl, 30 * 60 * SIM_SEC);
    assert_int_equal(cfg.file_upload.notification_max_delivery_count, 5);
    assert_int_equal(cfg.file_upload.notification_lock_duration, 30 * SIM_SEC);
    hub_config_free(&cfg);
    hub_config_defaults(&cfg);
    assert_false(cfg.file_upload.notifications);
    assert_int_equal(cfg.file_upload.sas_ttl, SAS_TTL);
    assert_int_equal(cfg.file_upload.max_concurrent_per_device, 10);
    const char *bad = "{\"fileUpload\":{\"sasTtl\":\"25h\"}}";
    assert_int_not_equal(hub_config_load_json(bad, strlen(bad), "t.json", &cfg, NULL), HS_EOK);
    hub_config_free(&cfg);
}

/* ---- REST routes and the blob endpoint ----------------------------------------------- */

typedef struct {
    char correlation_id[64];
    char blob_path[512]; /* "/{container}/{blobName}" */
    char sas[256];       /* "?sv=..." */
} rest_up_t;

static void rest_start(ux_t *u, const char *blob_name, rest_up_t *out)
{
    capture_t c;
    char body[256];
    snprintf(body, sizeof body, "{\"blobName\":\"%s\"}", blob_name);
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files?api-version=2020-09-30", u->tok,
                             NULL, body, &c),
                     0);
    assert_int_equal(c.status, 200);
    json_t *doc = cap_json(&c);
    assert_string_equal(json_string_value(json_object_get(doc, "hostName")), HOST);
    assert_string_equal(json_string_value(json_object_get(doc, "containerName")), "hubsim-files");
    char want[256];
    snprintf(want, sizeof want, "dev1/%s", blob_name);
    assert_string_equal(json_string_value(json_object_get(doc, "blobName")), want);
    snprintf(out->correlation_id, sizeof out->correlation_id, "%s",
             json_string_value(json_object_get(doc, "correlationId")));
    snprintf(out->blob_path, sizeof out->blob_path, "/hubsim-files/%s", want);
    snprintf(out->sas, sizeof out->sas, "%s", json_string_value(json_object_get(doc, "sasToken")));
    assert_int_equal(out->sas[0], '?');
    json_decref(doc);
}

/* A blob request to path+sas(+tail). */
static void blob_send(ux_t *u, const char *method, const rest_up_t *up, const char *tail,
                      const char *const *extra, const char *body, capture_t *c)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s%s", up->blob_path, up->sas, tail ? tail : "");
    assert_int_equal(fx_send(u->f, method, path, NULL, extra, body, c), 0);
    assert_int_equal(c->calls, 1);
}

static void assert_blob_error(const capture_t *c, int status, const char *code)
{
    assert_int_equal(c->status, status);
    assert_non_null(cap_header(c, "x-ms-error-code"));
    assert_string_equal(cap_header(c, "x-ms-error-code"), code);
    char want[128];
    snprintf(want, sizeof want, "<Code>%s</Code>", code);
    assert_non_null(strstr(c->body, want));
}

static void test_rest_block_upload_then_notification(void **state)
{
    (void)state;
    ux_t *u = ux_new(true);
    rest_up_t up;
    rest_start(u, "big.bin", &up);
    capture_t c;
    const char *v[] = { "x-ms-version: 2020-06-12", NULL };
    blob_send(u, "PUT", &up, "&comp=block&blockid=QUFBQQ%3D%3D", v, "hello ", &c);
    assert_int_equal(c.status, 201);
    assert_string_equal(cap_header(&c, "x-ms-version"), "2020-06-12");
    blob_send(u, "PUT", &up, "&comp=block&blockid=QkJCQg%3D%3D", v, "world", &c);
    assert_int_equal(c.status, 201);
    /* not committed yet */
    blob_send(u, "GET", &up, NULL, NULL, NULL, &c);
    assert_blob_error(&c, 404, "BlobNotFound");
    blob_send(u, "PUT", &up, "&comp=blocklist", NULL,
              "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QUFBQQ==</Latest>"
              "<Latest>QkJCQg==</Latest></BlockList>",
              &c);
    assert_int_equal(c.status, 201);
    assert_non_null(cap_header(&c, "ETag"));
    assert_non_null(cap_header(&c, "Last-Modified"));
    blob_send(u, "GET", &up, NULL, NULL, NULL, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "hello world");
    /* the Node SDK's notification: correlation id in the path */
    char path[256];
    snprintf(path, sizeof path, "/devices/dev1/files/notifications/%s?api-version=2020-09-30",
             up.correlation_id);
    assert_int_equal(fx_send(u->f, "POST", path, u->tok, NULL,
                             "{\"isSuccess\":true,\"statusCode\":201,\"statusDescription\":\"ok\"}", &c),
                     0);
    assert_int_equal(c.status, 204);
    assert_int_equal(c.body_len, 0);
    assert_int_equal(u->notes.count, 1);
    assert_int_equal(u->notes.size, 11);
    assert_non_null(strstr(u->notes.json, "\"blobSizeInBytes\":11"));
    ux_free(u);
}

static void test_rest_put_blob_and_documented_notification_body(void **state)
{
    (void)state;
    ux_t *u = ux_new(true);
    rest_up_t up;
    rest_start(u, "small.txt", &up);
    capture_t c;
    blob_send(u, "PUT", &up, NULL, NULL, "abc", &c);
    assert_blob_error(&c, 400, "MissingRequiredHeader");
    const char *bt[] = { "x-ms-blob-type: BlockBlob", NULL };
    blob_send(u, "PUT", &up, NULL, bt, "abc", &c);
    assert_int_equal(c.status, 201);
    blob_send(u, "GET", &up, NULL, NULL, NULL, &c);
    assert_string_equal(c.body, "abc");
    /* a block list naming a block that was never staged */
    blob_send(u, "PUT", &up, "&comp=blocklist", NULL, "<BlockList><Latest>Wlo=</Latest></BlockList>",
              &c);
    assert_blob_error(&c, 400, "InvalidBlockList");
    blob_send(u, "DELETE", &up, NULL, NULL, NULL, &c);
    assert_int_equal(c.status, 405);
    char body[256];
    snprintf(body, sizeof body,
             "{\"correlationId\":\"%s\",\"isSuccess\":true,\"statusCode\":200,"
             "\"statusDescription\":\"done\"}",
             up.correlation_id);
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files/notifications", u->tok, NULL, body, &c), 0);
    assert_int_equal(c.status, 204);
    assert_int_equal(u->notes.count, 1);
    assert_int_equal(u->notes.size, 3);
    /* the same id again, and one that never existed */
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files/notifications", u->tok, NULL, body, &c), 0);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files/notifications", u->tok, NULL,
                             "{\"correlationId\":\"x\",\"isSuccess\":true}", &c),
                     0);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    ux_free(u);
}

static void test_rest_refusals(void **state)
{
    (void)state;
    ux_t *u = ux_new(false);
    capture_t c;
    /* no credentials, bad bodies */
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files", NULL, NULL, "{\"blobName\":\"a\"}", &c), 0);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files", u->tok, NULL, "{\"blobName\":7}", &c), 0);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files", u->tok, NULL, "{", &c), 0);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files/notifications", u->tok, NULL,
                             "{\"correlationId\":\"x\",\"isSuccess\":\"yes\"}", &c),
                     0);
    assert_hub_error(&c, 400, "ArgumentInvalid");
    /* another device's token */
    char tok2[512];
    fx_device_token("dev2", NULL, EPOCH + 3600, tok2, sizeof tok2);
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files", tok2, NULL, "{\"blobName\":\"a\"}", &c), 0);
    assert_hub_error(&c, 401, "IotHubUnauthorizedAccess");
    /* the eleventh active upload */
    rest_up_t up;
    for (int i = 0; i < 10; i++)
        rest_start(u, "f", &up);
    assert_int_equal(fx_send(u->f, "POST", "/devices/dev1/files", u->tok, NULL, "{\"blobName\":\"f\"}", &c), 0);
    assert_hub_error(&c, 403, "DeviceMaximumActiveFileUploadLimitExceeded");
    /* a blob request with a wrong or expired signature */
    rest_up_t forged = up;
    char *sig = strstr(forged.sas, "sig=") + 4;
    sig[0] = sig[0] == '0' ? '1' : '0';
    const char *bt[] = { "x-ms-blob-type: BlockBlob", NULL };
    blob_send(u, "PUT", &forged, NULL, bt, "x", &c);
    assert_blob_error(&c, 403, "AuthenticationFailed");
    blob_send(u, "PUT", &up, NULL, bt, "x", &c);
    assert_int_equal(c.status, 201);
    advance(u, SAS_TTL);
    blob_send(u, "PUT", &up, NULL, bt, "x", &c);
    assert_blob_error(&c, 403, "AuthenticationFailed");
    /* other paths are still the REST API's */
    assert_int_equal(fx_send(u->f, "GET", "/hubsim-filesx/a", NULL, NULL, NULL, &c), 0);
    assert_int_equal(c.status, 404);
    ux_free(u);
}

/* ---- the file notification queue behind the AMQP receiver ------------------------------ */

static void complete_one(ux_t *u, const char *name)
{
    hub_upload_t a;
    assert_int_equal(hub_upload_start(u->f->hub, "dev1", name, &a), HUB_EOK);
    assert_int_equal(hub_upload_complete(u->f->hub, "dev1", a.correlation_id, true, 201, ""), HUB_EOK);
}

static void test_feeds_queue_ttl_and_delivery_count(void **state)
{
    (void)state;
    ux_t *u = ux_new(true);
    amqp_addr_t a;
    assert_int_equal(amqp_addr_parse("/messages/serviceBound/filenotifications", "hubsim", false, &a),
                     AMQP_ADDR_SVC_FILE_NOTIFICATIONS);
    assert_int_equal(amqp_addr_parse("amqps://" HOST "/messages/servicebound/filenotifications",
                                     "hubsim", false, &a),
                     AMQP_ADDR_SVC_FILE_NOTIFICATIONS);
    assert_string_equal(amqp_addr_kind_name(AMQP_ADDR_SVC_FILE_NOTIFICATIONS), "file-notifications");
    amqp_feeds_t *feeds;
    assert_int_equal(amqp_feeds_new(u->f->hub, NULL, &feeds), HS_EOK); /* takes the sink over */
    complete_one(u, "one");
    assert_int_equal(u->notes.count, 0);
    /* consumed by the first receiver: a later one starts after it */
    uint64_t cur = amqp_feeds_filenote_head(feeds);
    const amqp_filenote_entry_t *e = amqp_feeds_next_filenote(feeds, &cur);
    assert_non_null(e);
    assert_non_null(strstr(e->json, "\"blobName\":\"dev1/one\""));
    assert_int_equal(e->deliveries, 1);
    assert_int_equal(amqp_feeds_filenote_consume(feeds, e->seq), HS_EOK);
    assert_null(amqp_feeds_next_filenote(feeds, &cur));
    assert_int_equal(amqp_feeds_filenote_head(feeds), 2);
    /* never settled: redelivered to each new receiver, up to 10 times [doc] */
    complete_one(u, "two");
    for (int i = 0; i < 10; i++) {
        cur = amqp_feeds_filenote_head(feeds);
        e = amqp_feeds_next_filenote(feeds, &cur);
        assert_non_null(e);
        assert_int_equal(e->deliveries, (uint32_t)i + 1);
    }
    cur = amqp_feeds_filenote_head(feeds);
    assert_null(amqp_feeds_next_filenote(feeds, &cur));
    /* older than the TTL (1 h [doc]): gone */
    complete_one(u, "three");
    advance(u, SAS_TTL);
    cur = amqp_feeds_filenote_head(feeds);
    assert_null(amqp_feeds_next_filenote(feeds, &cur));
    amqp_filenote_stats_t st;
    amqp_feeds_filenote_stats(feeds, &st);
    assert_int_equal(st.notified, 3);
    assert_int_equal(st.consumed, 1);
    assert_int_equal(st.dead_lettered, 1);
    assert_int_equal(st.expired, 1);
    amqp_feeds_free(feeds);
    /* without the feeds the hub counts what it could not hand over */
    complete_one(u, "four");
    hub_upload_stats_t hs;
    hub_upload_stats(u->f->hub, &hs);
    assert_int_equal(hs.notified, 3);
    assert_int_equal(hs.notifications_dropped, 1);
    ux_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_hands_out_correlation_id_and_sas),
        cmocka_unit_test(test_break_switches),
        cmocka_unit_test(test_per_device_limit_then_freed_by_completion_and_expiry),
        cmocka_unit_test(test_complete_refuses_unknown_repeated_foreign_and_expired),
        cmocka_unit_test(test_notification_only_when_enabled_and_successful),
        cmocka_unit_test(test_blob_authorize_by_signature_until_expiry),
        cmocka_unit_test(test_config_loads_file_upload_knobs),
        cmocka_unit_test(test_rest_block_upload_then_notification),
        cmocka_unit_test(test_rest_put_blob_and_documented_notification_body),
        cmocka_unit_test(test_rest_refusals),
        cmocka_unit_test(test_feeds_queue_ttl_and_delivery_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
