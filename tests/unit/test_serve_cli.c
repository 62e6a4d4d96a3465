/* `hubsim serve` as a user runs it: banner, admin API, HTTPS error bodies, clean shutdown on SIGTERM, and every start-up error with its exit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/mqtt/mqtt_packet.h"
#include "serve_proc.h"
#include "test_util.h"

#define OWNER_KEY "nQ9Ms+NDeIZhwcy3lBpi65VfQgKvb5/Wg1J50AnbH7U="

static void start_or_fail(serve_proc_t *sp, const char *const *extra)
{
    int rc = sp_start(sp, extra);
    if (rc != 0)
        fprintf(stderr, "serve did not get ready:\n%s\n", sp->output ? sp->output : "(no output)");
    assert_int_equal(rc, 0);
}

static void test_banner_and_admin_reads(void **state)
{
    (void)state;
    serve_proc_t sp;
    start_or_fail(&sp, NULL);
    assert_true(sp.mqtt > 0 && sp.https > 0 && sp.amqp > 0 && sp.admin > 0);
    assert_non_null(strstr(sp.service_cs, "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey="));
    assert_non_null(strstr(sp.output, "device-connection-string: HostName=localhost;DeviceId={deviceId}"));
    char *resp = NULL;
    assert_int_equal(sp_http(sp.admin, false, "GET", "/health", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"ok\""));
    free(resp);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/counters", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"d2c.accepted\":0"));
    free(resp);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/check", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"balanced\":true"));
    free(resp);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/endpoints/events/messages?from=0", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"messages\":[]"));
    free(resp);
    assert_int_equal(sp_stop(&sp), 0);
    assert_non_null(strstr(sp.output, "shutting down"));
    assert_non_null(strstr(sp.output, "hub books: balanced"));
    sp_free(&sp);
}

static void test_admin_faults_and_bad_requests(void **state)
{
    (void)state;
    serve_proc_t sp;
    start_or_fail(&sp, NULL);
    char *resp = NULL;
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/throttle", NULL, "{\"profile\":\"S1\",\"units\":2}", NULL), 200);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/throttle", NULL, "{\"profile\":\"S9\"}", &resp), 400);
    assert_non_null(strstr(sp_body(resp), "S9"));
    free(resp);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/throttle", NULL, "{\"profile\":", &resp), 400);
    assert_non_null(strstr(sp_body(resp), "body:1:"));
    free(resp);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/method-delay", NULL, "{\"delay\":\"2s\"}", NULL), 200);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/method-delay", NULL, "{\"delay\":\"soon\"}", NULL), 400);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/method-delay", NULL, "{\"swallow\":true}", NULL), 200);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/endpoints/events", NULL, "{\"reachable\":false}", NULL), 200);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/faults/endpoints/nowhere", NULL, "{\"reachable\":false}", NULL), 404);
    assert_int_equal(sp_http(sp.admin, false, "POST", "/devices/ghost/drop", NULL, NULL, &resp), 404);
    assert_non_null(strstr(sp_body(resp), "DeviceNotFound"));
    free(resp);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/faults/throttle", NULL, NULL, NULL), 405);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/nothing-here", NULL, NULL, NULL), 404);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/violations", NULL, NULL, NULL), 404); /* no --check-clients */
    assert_int_equal(sp_stop(&sp), 0);
    sp_free(&sp);
}

static void test_https_error_body_and_registry(void **state)
{
    (void)state;
    serve_proc_t sp;
    start_or_fail(&sp, NULL);
    char *resp = NULL;
    /* no Authorization: 401 with the hub's error header and body */
    assert_int_equal(sp_http(sp.https, true, "GET", "/devices/d1?api-version=2021-04-12", NULL, NULL, &resp), 401);
    assert_non_null(strstr(resp, "iothub-errorcode: IotHubUnauthorizedAccess\r\n"));
    assert_non_null(strstr(sp_body(resp), "\"Message\":\"ErrorCode:IotHubUnauthorizedAccess;"));
    free(resp);
    char tok[600], hdr[800];
    sp_sas("localhost", OWNER_KEY, "iothubowner", 3600, tok, sizeof tok);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\nContent-Type: application/json\r\n", tok);
    assert_int_equal(sp_http(sp.https, true, "PUT", "/devices/d1?api-version=2021-04-12", hdr,
                             "{\"deviceId\":\"d1\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":\"\",\"secondaryKey\":\"\"}}}", &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"primaryKey\":\""));
    free(resp);
    /* a registered device that never connected: 404 DeviceNotOnline (connectTimeout 0) */
    assert_int_equal(sp_http(sp.https, true, "POST", "/twins/d1/methods?api-version=2021-04-12", hdr,
                             "{\"methodName\":\"reboot\",\"responseTimeoutInSeconds\":5}", &resp), 404);
    assert_non_null(strstr(sp_body(resp), "ErrorCode:DeviceNotOnline;"));
    free(resp);
    /* a wrong key: 401 */
    sp_sas("localhost", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "iothubowner", 3600, tok, sizeof tok);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", tok);
    assert_int_equal(sp_http(sp.https, true, "GET", "/devices/d1?api-version=2021-04-12", hdr, NULL, NULL), 401);
    assert_int_equal(sp_stop(&sp), 0);
    sp_free(&sp);
}

static void test_admin_token(void **state)
{
    (void)state;
    serve_proc_t sp;
    const char *const extra[] = { "--admin-token", "s3cret", NULL };
    start_or_fail(&sp, extra);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/health", NULL, NULL, NULL), 401);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/health", "Authorization: Bearer wrong\r\n", NULL, NULL), 401);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/health", "Authorization: Bearer s3cret\r\n", NULL, NULL), 200);
    assert_int_equal(sp_stop(&sp), 0);
    sp_free(&sp);
}

static void test_check_clients_report_on_exit(void **state)
{
    (void)state;
    char junit[512], json[512];
    snprintf(junit, sizeof junit, "%s/serve-check-clients.xml", tu_build_dir());
    snprintf(json, sizeof json, "%s/serve-check-clients.json", tu_build_dir());
    unlink(junit);
    unlink(json);
    serve_proc_t sp;
    const char *const extra[] = { "--check-clients", "--junit", junit, "--json", json, NULL };
    start_or_fail(&sp, extra);
    char *resp = NULL;
    assert_int_equal(sp_http(sp.admin, false, "GET", "/violations", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"total\":0"));
    free(resp);
    assert_int_equal(sp_stop(&sp), 0);
    assert_non_null(strstr(sp.output, "client checks: 0 rules broken"));
    char *xml = tu_read_file(junit, NULL);
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<testsuite"));
    free(xml);
    char *js = tu_read_file(json, NULL);
    assert_non_null(js);
    free(js);
    sp_free(&sp);
}


#define DEVICE_KEY "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

/* Registers device `id` with DEVICE_KEY through the served REST API. */
static void register_device(const serve_proc_t *sp, const char *id)
{
    char tok[600], hdr[800], path[256], body[400];
    sp_sas("localhost", OWNER_KEY, "iothubowner", 3600, tok, sizeof tok);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\nContent-Type: application/json\r\n", tok);
    snprintf(path, sizeof path, "/devices/%s?api-version=2021-04-12", id);
    snprintf(body, sizeof body,
             "{\"deviceId\":\"%s\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":"
             "{\"primaryKey\":\"%s\",\"secondaryKey\":\"%s\"}}}", id, DEVICE_KEY, DEVICE_KEY);
    assert_int_equal(sp_http(sp->https, true, "PUT", path, hdr, body, NULL), 200);
}

static void mqtt_send(sp_tls_t *c, const mqtt_packet_t *p)
{
    uint8_t buf[2048];
    size_t n = 0;
    assert_int_equal(mqtt_encode(p, buf, sizeof buf, &n), 0);
    assert_true(sp_tls_write(c, buf, n));
}

/* CONNECT as `id` with a good token; returns the CONNACK code. */
static int mqtt_connect(sp_tls_t *c, const char *id)
{
    char user[200], sr[200], tok[600];
    snprintf(user, sizeof user, "localhost/%s/?api-version=2021-04-12", id);
    snprintf(sr, sizeof sr, "localhost/devices/%s", id);
    sp_sas(sr, DEVICE_KEY, NULL, 3600, tok, sizeof tok);
    mqtt_packet_t p = { .type = MQTT_CONNECT };
    p.u.connect.keep_alive = 60;
    p.u.connect.client_id = (mqtt_str_t){ id, strlen(id) };
    p.u.connect.has_username = true;
    p.u.connect.username = (mqtt_str_t){ user, strlen(user) };
    p.u.connect.has_password = true;
    p.u.connect.password = (mqtt_str_t){ tok, strlen(tok) };
    mqtt_send(c, &p);
    uint8_t ack[16];
    long n = sp_tls_read(c, ack, sizeof ack, 5000);
    assert_int_equal(n, 4);
    assert_int_equal(ack[0], 0x20);
    return ack[3];
}

/* A device that publishes with QoS 2: the hub closes it, --check-clients
 * records CLIENT-MQTT-QOS2, the report lists the failure and exit is 1. */
static void test_check_clients_catches_qos2(void **state)
{
    (void)state;
    char junit[512];
    snprintf(junit, sizeof junit, "%s/serve-check-qos2.xml", tu_build_dir());
    unlink(junit);
    serve_proc_t sp;
    const char *const extra[] = { "--check-clients", "--junit", junit, NULL };
    start_or_fail(&sp, extra);
    register_device(&sp, "dq2");
    sp_tls_t *c = sp_tls_connect(sp.mqtt, NULL, NULL);
    assert_non_null(c);
    assert_int_equal(mqtt_connect(c, "dq2"), 0);
    static const char topic[] = "devices/dq2/messages/events/";
    mqtt_packet_t pub = { .type = MQTT_PUBLISH };
    pub.u.publish.qos = 2;
    pub.u.publish.packet_id = 7;
    pub.u.publish.topic = (mqtt_str_t){ topic, sizeof topic - 1 };
    pub.u.publish.payload = (const uint8_t *)"{}";
    pub.u.publish.payload_len = 2;
    mqtt_send(c, &pub);
    uint8_t buf[64];
    long n = 0;
    for (int i = 0; i < 50 && n >= 0; i++) /* the server closes: bounded wait */
        n = sp_tls_read(c, buf, sizeof buf, 100);
    assert_int_equal(n, -1);
    sp_tls_close(c);
    char *resp = NULL;
    assert_int_equal(sp_http(sp.admin, false, "GET", "/violations", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"CLIENT-MQTT-QOS2\":{\"count\":1"));
    free(resp);
    assert_int_equal(sp_stop(&sp), 1); /* a client rule was broken */
    assert_non_null(strstr(sp.output, "client checks: 1 rule broken"));
    char *xml = tu_read_file(junit, NULL);
    assert_non_null(xml);
    const char *tc = strstr(xml, "CLIENT-MQTT-QOS2");
    assert_non_null(tc);
    assert_non_null(strstr(tc, "<failure"));
    free(xml);
    sp_free(&sp);
}

/* Six accepted connections of one device within a second: the sixth breaks
 * CLIENT-RECONNECT-STORM (5 per 10 s); five do not. */
static void test_check_clients_catches_reconnect_storm(void **state)
{
    (void)state;
    serve_proc_t sp;
    const char *const extra[] = { "--check-clients", NULL };
    start_or_fail(&sp, extra);
    register_device(&sp, "ds1");
    char *resp = NULL;
    for (int i = 0; i < 6; i++) {
        sp_tls_t *c = sp_tls_connect(sp.mqtt, NULL, NULL);
        assert_non_null(c);
        assert_int_equal(mqtt_connect(c, "ds1"), 0);
        sp_tls_close(c);
        if (i == 4) { /* five connections: still within the rule */
            assert_int_equal(sp_http(sp.admin, false, "GET", "/violations", NULL, NULL, &resp), 200);
            assert_null(strstr(sp_body(resp), "CLIENT-RECONNECT-STORM"));
            free(resp);
        }
    }
    assert_int_equal(sp_http(sp.admin, false, "GET", "/violations", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"CLIENT-RECONNECT-STORM\":{\"count\":1"));
    free(resp);
    assert_int_equal(sp_stop(&sp), 1);
    sp_free(&sp);
}

/* A well-behaved MQTT device: telemetry with properties reaches the events
 * endpoint log the admin API serves, and the hub's books balance. */
static void test_mqtt_telemetry_reaches_endpoint_log(void **state)
{
    (void)state;
    serve_proc_t sp;
    const char *const extra[] = { "--check-clients", NULL };
    start_or_fail(&sp, extra);
    register_device(&sp, "dt1");
    sp_tls_t *c = sp_tls_connect(sp.mqtt, NULL, NULL);
    assert_non_null(c);
    assert_int_equal(mqtt_connect(c, "dt1"), 0);
    static const char topic[] = "devices/dt1/messages/events/%24.mid=m-1&color=blue";
    mqtt_packet_t pub = { .type = MQTT_PUBLISH };
    pub.u.publish.qos = 1;
    pub.u.publish.packet_id = 1;
    pub.u.publish.topic = (mqtt_str_t){ topic, sizeof topic - 1 };
    pub.u.publish.payload = (const uint8_t *)"{\"t\":21}";
    pub.u.publish.payload_len = 8;
    mqtt_send(c, &pub);
    uint8_t ack[8];
    assert_int_equal(sp_tls_read(c, ack, sizeof ack, 5000), 4);
    assert_int_equal(ack[0], 0x40); /* PUBACK */
    sp_tls_close(c);
    char *resp = NULL;
    assert_int_equal(sp_http(sp.admin, false, "GET", "/endpoints/events/messages?from=0", NULL, NULL, &resp), 200);
    const char *b = sp_body(resp);
    assert_non_null(strstr(b, "\"messageId\":\"m-1\""));
    assert_non_null(strstr(b, "\"connectionDeviceId\":\"dt1\""));
    assert_non_null(strstr(b, "\"color\":\"blue\""));
    assert_non_null(strstr(b, "\"body\":\"{\\\"t\\\":21}\""));
    free(resp);
    assert_int_equal(sp_http(sp.admin, false, "GET", "/check", NULL, NULL, &resp), 200);
    assert_non_null(strstr(sp_body(resp), "\"balanced\":true"));
    free(resp);
    assert_int_equal(sp_stop(&sp), 0); /* nothing broken */
    sp_free(&sp);
}

/* ---- start-up errors ---------------------------------------------------------- */

static void expect_exit(const char *const *args, int code, const char *needle)
{
    serve_proc_t sp;
    int rc = sp_run_to_exit(&sp, args);
    if (rc != code || !strstr(sp.output ? sp.output : "", needle))
        fprintf(stderr, "exit %d (want %d), output:\n%s\n", rc, code, sp.output ? sp.output : "");
    assert_int_equal(rc, code);
    assert_non_null(strstr(sp.output, needle));
    sp_free(&sp);
}

static void test_startup_errors(void **state)
{
    (void)state;
    const char *const bad_config[] = { "serve", "--config", "fixtures/hubs/bad-types.json", "--cert",
                                       "fixtures/certs/server.pem", "--key", "fixtures/certs/server.key", NULL };
    expect_exit(bad_config, 2, "fixtures/hubs/bad-types.json:");
    const char *const no_cert[] = { "serve", "--mqtt-port", "0", NULL };
    expect_exit(no_cert, 2, "--cert and --key");
    const char *const missing_cert[] = { "serve", "--cert", "nope.pem", "--key", "nope.key", "--mqtt-port", "0",
                                         "--https-port", "0", "--amqp-port", "0", "--admin-port", "0", NULL };
    expect_exit(missing_cert, 3, "nope.pem");
    const char *const open_bind[] = { "serve", "--bind", "0.0.0.0", "--mqtt-port", "-1", "--https-port", "-1",
                                      "--amqp-port", "-1", NULL };
    expect_exit(open_bind, 2, "--admin-token");
    const char *const bad_break[] = { "serve", "--break", "NO-SUCH-RULE", "--mqtt-port", "-1", "--https-port", "-1",
                                      "--amqp-port", "-1", "--admin-port", "0", NULL };
    expect_exit(bad_break, 2, "NO-SUCH-RULE");
    const char *const bad_port[] = { "serve", "--admin-port", "70000", NULL };
    expect_exit(bad_port, 2, "--admin-port");
    const char *const report_without_check[] = { "serve", "--junit", "x.xml", NULL };
    expect_exit(report_without_check, 2, "--check-clients");

    /* a port already taken: exit 3 naming it */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    const char *const taken[] = { "serve", "--mqtt-port", "-1", "--https-port", "-1", "--amqp-port", "-1",
                                  "--admin-port", port, NULL };
    expect_exit(taken, 3, "cannot listen");
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_banner_and_admin_reads),
        cmocka_unit_test(test_admin_faults_and_bad_requests),
        cmocka_unit_test(test_https_error_body_and_registry),
        cmocka_unit_test(test_admin_token),
        cmocka_unit_test(test_check_clients_report_on_exit),
        cmocka_unit_test(test_check_clients_catches_qos2),
        cmocka_unit_test(test_check_clients_catches_reconnect_storm),
        cmocka_unit_test(test_mqtt_telemetry_reaches_endpoint_log),
        cmocka_unit_test(test_startup_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
