/* C2D and twins wired into the hub: queue depth 50/51, 64 KB, availability push, settle by lock token, desired push, If-Match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/auth.h"
#include "sim/hub/hub.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define EPOCH 1767225600LL

typedef struct {
    int available;
    int desired;
    uint64_t desired_version;
    char desired_json[256];
} sink_t;

static void on_available(void *ctx, hub_conn_t c)
{
    (void)c;
    ((sink_t *)ctx)->available++;
}

static void on_desired(void *ctx, hub_conn_t c, uint64_t version, const char *json, size_t len)
{
    (void)c;
    sink_t *s = ctx;
    s->desired++;
    s->desired_version = version;
    snprintf(s->desired_json, sizeof s->desired_json, "%.*s", (int)len, json);
}

static const hub_sink_ops_t ops = { .c2d_available = on_available, .desired_patch = on_desired };

typedef struct {
    sim_kernel_t *k;
    hub_t *hub;
    hub_conn_t conn;
    sink_t sink;
} fx_t;

static fx_t *fx_new(void)
{
    fx_t *f = calloc(1, sizeof *f);
    f->k = sim_kernel_new(5, EPOCH);
    char why[256];
    assert_int_equal(hub_new(f->k, NULL, &f->hub, why, sizeof why), HS_EOK);
    hub_identity_spec_t s = { .device_id = "dev1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &s, NULL), HUB_EOK);
    char tok[512];
    assert_int_equal(hub_sas_make(KEY, "hubsim.azure-devices.net/devices/dev1", EPOCH + 86400 * 3,
                                  NULL, tok, sizeof tok), HS_EOK);
    hub_connect_params_t p = { .device_id = "dev1", .sas_token = tok };
    assert_int_equal(hub_device_connect(f->hub, &p, &ops, &f->sink, &f->conn), HUB_EOK);
    return f;
}

static void fx_free(fx_t *f)
{
    char why[256];
    assert_int_equal(hub_check(f->hub, why, sizeof why), HS_EOK);
    hub_free(f->hub);
    assert_int_equal(sim_kernel_pending(f->k), 0);
    sim_kernel_free(f->k);
    free(f);
}

static hub_msg_t *msg_of(size_t n)
{
    hub_msg_t *m = hub_msg_new();
    char *b = calloc(1, n + 1);
    memset(b, 'c', n);
    assert_int_equal(hub_msg_set_body(m, b, n), HS_EOK);
    free(b);
    return m;
}

static int code(hub_err_t e)
{
    return hub_error_info(e)->code;
}

static void test_c2d_roundtrip_and_push(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    hub_msg_t *m = msg_of(5);
    uint64_t seq = 0;
    assert_int_equal(hub_c2d_send(f->hub, "dev1", m, 0, &seq), HUB_EOK);
    /* Not subscribed yet: no push.  Subscribing announces what is waiting. */
    assert_int_equal(f->sink.available, 0);
    assert_int_equal(hub_device_subscribe(f->hub, f->conn, HUB_SUB_C2D), HUB_EOK);
    assert_int_equal(f->sink.available, 1);
    m = msg_of(6);
    assert_int_equal(hub_c2d_send(f->hub, "dev1", m, 0, NULL), HUB_EOK);
    assert_int_equal(f->sink.available, 2);
    hub_c2d_delivery_t d;
    assert_int_equal(hub_device_c2d_receive(f->hub, f->conn, &d), HUB_EOK);
    assert_true(d.sequence_number == seq);
    assert_int_equal(d.delivery_count, 1);
    assert_int_equal(hub_device_c2d_complete(f->hub, f->conn, d.lock_token), HUB_EOK);
    assert_int_equal(hub_device_c2d_receive(f->hub, f->conn, &d), HUB_EOK);
    assert_int_equal(hub_device_c2d_reject(f->hub, f->conn, d.lock_token), HUB_EOK);
    assert_int_equal(code(hub_device_c2d_receive(f->hub, f->conn, &d)), 404002);
    /* Unknown device. */
    m = msg_of(1);
    assert_int_equal(code(hub_c2d_send(f->hub, "ghost", m, 0, NULL)), 404001);
    hub_msg_free(m);
    fx_free(f);
}

static void test_c2d_depth_and_size(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    /* 50 per device; the 51st is 403004. */
    for (int i = 0; i < 50; i++)
        assert_int_equal(hub_c2d_send(f->hub, "dev1", msg_of(1), 0, NULL), HUB_EOK);
    hub_msg_t *m = msg_of(1);
    hub_err_t e = hub_c2d_send(f->hub, "dev1", m, 0, NULL);
    assert_int_equal(hub_error_info(e)->http_status, 403);
    assert_int_equal(code(e), 403004);
    hub_msg_free(m);
    size_t n = 0;
    assert_int_equal(hub_c2d_purge_device(f->hub, "dev1", &n), HUB_EOK);
    assert_int_equal(n, 50);
    /* 64 KB = 65536 bytes passes; 65537 is 413001. */
    assert_int_equal(hub_c2d_send(f->hub, "dev1", msg_of(65536), 0, NULL), HUB_EOK);
    m = msg_of(65537);
    assert_int_equal(code(hub_c2d_send(f->hub, "dev1", m, 0, NULL)), 413001);
    hub_msg_free(m);
    assert_int_equal(hub_c2d_purge_device(f->hub, "dev1", NULL), HUB_EOK);
    fx_free(f);
}

static void test_c2d_depth_break(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    assert_int_equal(hub_break(f->hub, "C2D-QUEUE-DEPTH:off-by-one"), HS_EOK);
    for (int i = 0; i < 51; i++)
        assert_int_equal(hub_c2d_send(f->hub, "dev1", msg_of(1), 0, NULL), HUB_EOK);
    hub_msg_t *m = msg_of(1);
    assert_int_equal(code(hub_c2d_send(f->hub, "dev1", m, 0, NULL)), 403004);
    hub_msg_free(m);
    assert_int_equal(hub_c2d_purge_device(f->hub, "dev1", NULL), HUB_EOK);
    fx_free(f);
}

static void test_twin_desired_push_and_if_match(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    assert_int_equal(hub_device_subscribe(f->hub, f->conn, HUB_SUB_DESIRED), HUB_EOK);
    char etag[HUB_ETAG_CAP];
    const char *p1 = "{\"properties\":{\"desired\":{\"fan\":1}}}";
    assert_int_equal(hub_twin_patch(f->hub, "dev1", NULL, p1, strlen(p1), NULL, etag), HUB_EOK);
    assert_int_equal(f->sink.desired, 1);
    uint64_t v1 = f->sink.desired_version;
    assert_non_null(strstr(f->sink.desired_json, "\"fan\":1"));
    const char *p2 = "{\"properties\":{\"desired\":{\"fan\":2}}}";
    assert_int_equal(hub_twin_patch(f->hub, "dev1", NULL, p2, strlen(p2), etag, etag), HUB_EOK);
    assert_int_equal(f->sink.desired, 2);
    assert_true(f->sink.desired_version == v1 + 1);
    /* A stale etag is 412 and pushes nothing. */
    assert_int_equal(code(hub_twin_patch(f->hub, "dev1", NULL, p1, strlen(p1), "\"AAAAAAAAAAE=\"", NULL)), 412001);
    assert_int_equal(f->sink.desired, 2);
    /* Tags only: no desired push. */
    const char *t = "{\"tags\":{\"site\":\"x\"}}";
    assert_int_equal(hub_twin_patch(f->hub, "dev1", NULL, t, strlen(t), "*", NULL), HUB_EOK);
    assert_int_equal(f->sink.desired, 2);
    /* Device side: reported patch acknowledged with the new version; GET shows both. */
    uint64_t rv = 0, rv2 = 0;
    const char *r = "{\"temp\":21}";
    assert_int_equal(hub_device_twin_patch_reported(f->hub, f->conn, r, strlen(r), &rv), HUB_EOK);
    assert_int_equal(hub_device_twin_patch_reported(f->hub, f->conn, r, strlen(r), &rv2), HUB_EOK);
    assert_true(rv2 == rv + 1);
    assert_int_equal(code(hub_device_twin_patch_reported(f->hub, f->conn, "[1]", 3, NULL)), 400004);
    json_t *doc = NULL;
    assert_int_equal(hub_device_twin_get(f->hub, f->conn, &doc), HUB_EOK);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "desired"), "fan")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "reported"), "temp")), 21);
    json_decref(doc);
    assert_int_equal(hub_twin_get(f->hub, "dev1", NULL, &doc), HUB_EOK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "tags"), "site")), "x");
    json_decref(doc);
    assert_int_equal(code(hub_twin_get(f->hub, "ghost", NULL, &doc)), 404001);
    assert_int_equal(code(hub_twin_patch(f->hub, "dev1", NULL, "{x", 2, NULL, NULL)), 400004);
    fx_free(f);
}

static void test_twin_push_break(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    assert_int_equal(hub_break(f->hub, "TWIN-DESIRED-PUSH"), HS_EOK);
    assert_int_equal(hub_device_subscribe(f->hub, f->conn, HUB_SUB_DESIRED), HUB_EOK);
    const char *p1 = "{\"properties\":{\"desired\":{\"fan\":1}}}";
    assert_int_equal(hub_twin_patch(f->hub, "dev1", NULL, p1, strlen(p1), NULL, NULL), HUB_EOK);
    assert_int_equal(f->sink.desired, 0);
    fx_free(f);
}

static void test_twin_put_and_module_twin(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    hub_identity_spec_t m = { .device_id = "dev1", .module_id = "mod1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    const char *p = "{\"tags\":{\"a\":1,\"b\":2},\"properties\":{\"desired\":{\"x\":1}}}";
    char etag[HUB_ETAG_CAP];
    assert_int_equal(hub_twin_patch(f->hub, "dev1", "mod1", p, strlen(p), NULL, etag), HUB_EOK);
    /* PUT replaces tags and desired wholesale */
    const char *put = "{\"tags\":{\"c\":3},\"properties\":{\"desired\":{}}}";
    assert_int_equal(code(hub_twin_put(f->hub, "dev1", "mod1", put, strlen(put), "\"stale\"", NULL)), 412001);
    assert_int_equal(hub_twin_put(f->hub, "dev1", "mod1", put, strlen(put), etag, NULL), HUB_EOK);
    json_t *doc = NULL;
    assert_int_equal(hub_twin_get(f->hub, "dev1", "mod1", &doc), HUB_EOK);
    json_t *tags = json_object_get(doc, "tags");
    assert_null(json_object_get(tags, "a"));
    assert_int_equal(json_integer_value(json_object_get(tags, "c")), 3);
    json_decref(doc);
    /* the device's own twin is a different document */
    assert_int_equal(hub_twin_get(f->hub, "dev1", NULL, &doc), HUB_EOK);
    assert_null(json_object_get(json_object_get(doc, "tags"), "c"));
    json_decref(doc);
    assert_int_equal(code(hub_twin_get(f->hub, "dev1", "nosuch", &doc)), 404010);
    fx_free(f);
}

typedef struct {
    int batches;
    size_t records;
    size_t last_count;
    char last_status[32];
    sim_time_t last_at;
} fb_t;

static void on_feedback(void *ctx, const hub_c2d_fb_batch_t *b)
{
    fb_t *f = ctx;
    f->batches++;
    f->records += b->count;
    f->last_count = b->count;
    f->last_at = b->flushed_at;
    snprintf(f->last_status, sizeof f->last_status, "%s",
             b->count ? hub_c2d_fb_status_name(b->records[b->count - 1].status) : "");
}

static hub_msg_t *acked(const char *ack)
{
    hub_msg_t *m = msg_of(1);
    assert_int_equal(hub_msg_set_sys(m, HUB_SYS_ACK, ack), HS_EOK);
    return m;
}

/* The hub passes its config's C2D knobs to the store: TTL default 1 h,
 * delivery count 10, feedback batches of 64 records or 15 s. */
static void test_c2d_knobs_through_the_hub(void **state)
{
    (void)state;
    fx_t *f = fx_new();
    fb_t fb = { 0 };
    hub_set_feedback_sink(f->hub, on_feedback, &fb);
    hub_c2d_delivery_t d;
    /* TTL default 1 h: receivable at 1 h - 1 ms, gone at 1 h. */
    assert_int_equal(hub_c2d_send(f->hub, "dev1", acked("negative"), 0, NULL), HUB_EOK);
    sim_kernel_run_until(f->k, SIM_HOUR - SIM_MS);
    assert_int_equal(hub_c2d_depth(hub_c2d_store(f->hub), 0), 1);
    sim_kernel_run_until(f->k, SIM_HOUR);
    assert_int_equal(code(hub_device_c2d_receive(f->hub, f->conn, &d)), 404002);
    /* the Expired record is flushed 15 s after it was made, not before */
    sim_kernel_run_until(f->k, SIM_HOUR + 15 * SIM_SEC - SIM_MS);
    assert_int_equal(fb.batches, 0);
    sim_kernel_run_until(f->k, SIM_HOUR + 15 * SIM_SEC);
    assert_int_equal(fb.batches, 1);
    assert_string_equal(fb.last_status, "Expired");
    /* max delivery count 10: ten deliveries, then dead-lettered */
    assert_int_equal(hub_c2d_send(f->hub, "dev1", acked("none"), 0, NULL), HUB_EOK);
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(hub_device_c2d_receive(f->hub, f->conn, &d), HUB_EOK);
        assert_int_equal(d.delivery_count, i);
        assert_int_equal(hub_device_c2d_abandon(f->hub, f->conn, d.lock_token), HUB_EOK);
    }
    assert_int_equal(code(hub_device_c2d_receive(f->hub, f->conn, &d)), 404002);
    /* 64 completions with ack=full make one batch at once */
    for (int i = 0; i < 64; i++) {
        assert_int_equal(hub_c2d_send(f->hub, "dev1", acked("full"), 0, NULL), HUB_EOK);
        assert_int_equal(hub_device_c2d_receive(f->hub, f->conn, &d), HUB_EOK);
        assert_int_equal(hub_device_c2d_complete(f->hub, f->conn, d.lock_token), HUB_EOK);
    }
    assert_int_equal(fb.batches, 2);
    assert_int_equal(fb.last_count, 64);
    assert_string_equal(fb.last_status, "Success");
    /* modules have no C2D queue */
    hub_identity_spec_t m = { .device_id = "dev1", .module_id = "mod1", .primary_key = KEY };
    assert_int_equal(hub_identity_create(f->hub, &m, NULL), HUB_EOK);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c2d_roundtrip_and_push),
        cmocka_unit_test(test_c2d_depth_and_size),
        cmocka_unit_test(test_c2d_depth_break),
        cmocka_unit_test(test_twin_desired_push_and_if_match),
        cmocka_unit_test(test_twin_push_break),
        cmocka_unit_test(test_twin_put_and_module_twin),
        cmocka_unit_test(test_c2d_knobs_through_the_hub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
