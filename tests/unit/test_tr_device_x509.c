/* X.509 devices on the asynchronous client: a client certificate instead of a SAS key, proven live against `hubsim serve` over MQTT and HTTPS (and refused up front over AMQP, which serve authenticates by token only). */
#include "test_tr_device_fixture.h"

typedef struct {
    dv_fix_t *f;
    tr_tls_t *cert_tls; /* trusts the test CA and presents fixtures/certs/client.pem */
    char thumb[80];
} x5_t;

static int setup(void **state)
{
    void *fs = NULL;
    dv_fix_setup(&fs, NULL);
    x5_t *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->f = fs;
    char cert[600], key[600], tp[600], why[400];
    snprintf(cert, sizeof cert, "%s/fixtures/certs/client.pem", tu_source_dir());
    snprintf(key, sizeof key, "%s/fixtures/certs/client.key", tu_source_dir());
    snprintf(tp, sizeof tp, "%s/fixtures/certs/client.thumbprint", tu_source_dir());
    tr_tls_opts_t to = { x->f->cs.ca_file, cert, key };
    assert_int_equal(tr_tls_new(&to, &x->cert_tls, why, sizeof why), HS_EOK);
    char *t = tu_read_file(tp, NULL);
    assert_non_null(t);
    snprintf(x->thumb, sizeof x->thumb, "%.40s", t);
    free(t);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    x5_t *x = *state;
    tr_tls_free(x->cert_tls);
    void *fs = x->f;
    dv_fix_teardown(&fs);
    free(x);
    return 0;
}

static void register_x509(dv_fix_t *f, const char *id, const char *thumb)
{
    char body[600], why[400];
    snprintf(body, sizeof body,
             "{\"deviceId\":\"%.128s\",\"authentication\":{\"type\":\"selfSigned\",\"x509Thumbprint\":"
             "{\"primaryThumbprint\":\"%.80s\",\"secondaryThumbprint\":null}}}", id, thumb);
    tr_http_req_t *req = NULL;
    assert_int_equal(tr_rest_identity_put(&f->rest, id, NULL, body, NULL, &req, why, sizeof why), HS_EOK);
    const tr_http_response_t *resp = dv_http_wait(f, req);
    if (resp->status != 200)
        fprintf(stderr, "register %s: %d %s\n", id, resp->status, resp->body ? resp->body : "");
    assert_int_equal(resp->status, 200);
    tr_http_free(req);
}

static tr_device_t *open_x509(x5_t *x, tr_device_protocol_t proto, const char *id, tr_tls_t *tls, dv_rec_t *r)
{
    tr_device_opts_t o;
    dv_opts(x->f, proto, id, NULL, &o);
    o.tls = tls;
    memset(r, 0, sizeof *r);
    char why[300];
    tr_device_t *d = NULL;
    assert_int_equal(tr_device_open(x->f->loop, &o, &dv_cb, r, &d, why, sizeof why), HS_EOK);
    r->dev = d;
    assert_true(dv_wait(x->f, &r->connected, 1));
    return d;
}

/* Over MQTT: the certificate connects, telemetry is acknowledged and routed, a method is answered. */
static void test_mqtt(void **state)
{
    x5_t *x = *state;
    dv_fix_t *f = x->f;
    register_x509(f, "x5-mqtt", x->thumb);
    dv_rec_t r;
    tr_device_t *d = open_x509(x, TR_DEV_MQTT, "x5-mqtt", x->cert_tls, &r);
    if (r.last_connect.code)
        fprintf(stderr, "X.509 MQTT: %s\n", r.last_connect.why);
    assert_int_equal(r.last_connect.code, 0);
    tr_device_msg_t m = { .body = "x509", .body_len = 4, .message_id = "x5-mqtt-1" };
    assert_int_equal(tr_device_send(d, &m, 1), HS_EOK);
    assert_true(dv_wait(f, &r.sent_ok, 1));
    json_t *routed = dv_routed(f, "x5-mqtt-1");
    assert_non_null(routed);
    const char *method = json_string_value(json_object_get(json_object_get(routed, "systemProperties"), "connectionAuthMethod"));
    assert_non_null(method);
    assert_non_null(strstr(method, "x509"));
    json_decref(routed);
    assert_int_equal(tr_device_subscribe(d, TR_DEV_SUB_METHODS), HS_EOK);
    assert_true(dv_wait(f, &r.subscribed, 1));
    tr_http_req_t *req = dv_invoke(f, "x5-mqtt", "ping", "{}");
    assert_true(dv_wait(f, &r.methods, 1));
    assert_int_equal(tr_device_method_respond(d, r.method_rid, 200, "{}", 2), HS_EOK);
    assert_int_equal(dv_http_wait(f, req)->status, 200);
    tr_http_free(req);
    dv_close(f, d);
}

/* A certificate whose thumbprint is not the registered one, or no certificate at all: 401002. */
static void test_mqtt_wrong_cert(void **state)
{
    x5_t *x = *state;
    dv_fix_t *f = x->f;
    register_x509(f, "x5-other", "0123456789ABCDEF0123456789ABCDEF01234567");
    dv_rec_t r;
    tr_device_t *d = open_x509(x, TR_DEV_MQTT, "x5-other", x->cert_tls, &r);
    assert_int_equal(r.last_connect.code, 401002);
    tr_device_free(d);
    register_x509(f, "x5-nocert", x->thumb);
    d = open_x509(x, TR_DEV_MQTT, "x5-nocert", f->tls, &r); /* no client certificate */
    assert_int_equal(r.last_connect.code, 401002);
    tr_device_free(d);
}

/* Over HTTPS: the certificate authenticates each request (no Authorization header). */
static void test_https(void **state)
{
    x5_t *x = *state;
    dv_fix_t *f = x->f;
    register_x509(f, "x5-https", x->thumb);
    dv_rec_t r;
    tr_device_t *d = open_x509(x, TR_DEV_HTTPS, "x5-https", x->cert_tls, &r);
    if (r.last_connect.code)
        fprintf(stderr, "X.509 HTTPS: %s\n", r.last_connect.why);
    assert_int_equal(r.last_connect.code, 0);
    tr_device_msg_t m = { .body = "x509", .body_len = 4, .message_id = "x5-https-1" };
    assert_int_equal(tr_device_send(d, &m, 1), HS_EOK);
    assert_true(dv_wait(f, &r.sent_ok, 1));
    json_t *routed = dv_routed(f, "x5-https-1");
    assert_non_null(routed);
    json_decref(routed);
    dv_close(f, d);
    tr_device_t *bad = open_x509(x, TR_DEV_HTTPS, "x5-https", f->tls, &r);
    assert_int_equal(r.last_connect.code, 401002);
    tr_device_free(bad);
}

/* serve authenticates AMQP identities by token only: refused at open, with the reason. */
static void test_amqp_refused(void **state)
{
    x5_t *x = *state;
    tr_device_opts_t o;
    dv_opts(x->f, TR_DEV_AMQP, "x5-amqp", NULL, &o);
    o.tls = x->cert_tls;
    tr_device_t *d = NULL;
    char why[300] = "";
    assert_int_equal(tr_device_open(x->f->loop, &o, &dv_cb, NULL, &d, why, sizeof why), HS_EUNSUPPORTED);
    assert_null(d);
    assert_non_null(strstr(why, "X.509"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mqtt),
        cmocka_unit_test(test_mqtt_wrong_cert),
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_amqp_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
