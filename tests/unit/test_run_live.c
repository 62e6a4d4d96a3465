/* `hubsim run --target` against `hubsim serve`: the run's books equal the hub's, SIGINT still reports and cleans up, bad targets say why, a broken hub turns an expectation red. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "serve_proc.h"
#include "sim/simtime.h"
#include "test_util.h"

/* live/live_internal.h (not included: its hub.h has a hub_counter of its own) */
char *live_job_condition(const char *prefix, const char *cond);

#define RUN_LIMIT_MS 60000 /* a live run of the smoke scenario takes ~5 s; kill it after this */

typedef struct {
    serve_proc_t sp;
    char cs[1200];  /* service connection string with every port, the admin API and the test CA */
    char dir[256];  /* per-test scratch directory */
} fixture_t;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int start(void **state, const char *const *extra)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (sp_start(&f->sp, extra) != 0) {
        fprintf(stderr, "hubsim serve did not start:\n%s\n", f->sp.output ? f->sp.output : "");
        sp_free(&f->sp);
        free(f);
        return -1;
    }
    snprintf(f->cs, sizeof f->cs,
             "%s;MqttPort=%d;HttpsPort=%d;AmqpPort=%d;AdminPort=%d;ConnectHost=127.0.0.1;CaFile=%s/fixtures/certs/ca.pem",
             f->sp.service_cs, f->sp.mqtt, f->sp.https, f->sp.amqp, f->sp.admin, tu_source_dir());
    snprintf(f->dir, sizeof f->dir, "/tmp/hubsim-run-live-XXXXXX");
    if (!mkdtemp(f->dir)) {
        sp_stop(&f->sp);
        sp_free(&f->sp);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start(state, NULL);
}

static int setup_broken(void **state)
{
    const char *extra[] = { "--break", "AUTH-SAS-EXPIRED", NULL };
    return start(state, extra);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int rc = sp_stop(&f->sp);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    sp_free(&f->sp);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Starts `hubsim ARGS` with stdout+stderr into out_path; returns the pid. */
static pid_t spawn(const char *out_path, const char *const *args)
{
    const char *argv[32] = { tu_hubsim_bin() };
    size_t n = 1;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits (bounded) for pid; the exit code, 128 + signal, or -1 after killing it at the limit. */
static int reap(pid_t pid, long limit_ms)
{
    long deadline = now_ms() + limit_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_ms(20);
    }
}

/* Runs `hubsim ARGS` to its end; output (caller frees) in *out. */
static int run(fixture_t *f, const char *const *args, char **out)
{
    char path[300];
    snprintf(path, sizeof path, "%s/output.txt", f->dir);
    int rc = reap(spawn(path, args), RUN_LIMIT_MS);
    *out = tu_read_file(path, NULL);
    if (!*out)
        *out = strdup("");
    printf("%s", *out);
    return rc;
}

/* GET on serve's admin API, parsed. */
static json_t *admin_get(fixture_t *f, const char *path)
{
    char *resp = NULL;
    int status = sp_http(f->sp.admin, false, "GET", path, NULL, NULL, &resp);
    json_t *doc = status == 200 ? json_loads(sp_body(resp), 0, NULL) : NULL;
    free(resp);
    return doc;
}

static long long hub_counter(fixture_t *f, const char *name)
{
    json_t *doc = admin_get(f, "/counters");
    long long v = (long long)json_integer_value(json_object_get(doc, name));
    json_decref(doc);
    return v;
}

static json_t *report(fixture_t *f)
{
    char path[300];
    snprintf(path, sizeof path, "%s/out/report.json", f->dir);
    return json_load_file(path, 0, NULL);
}

static long long run_counter(json_t *rep, const char *name)
{
    return (long long)json_integer_value(json_object_get(json_object_get(json_object_get(rep, "metrics"), "counters"), name));
}

static const char *run_info(json_t *rep, const char *name)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(rep, "run"), "info"), name));
}

static void smoke_path(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/scenarios/live-smoke.json", tu_source_dir());
}

static void test_run_books_equal_the_hubs(void **state)
{
    fixture_t *f = *state;
    char scn[400], out_dir[300], *out;
    smoke_path(scn, sizeof scn);
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    const char *args[] = { "run", scn, "--target", f->cs, "--time-scale", "5", "--out", out_dir, NULL };
    assert_int_equal(run(f, args, &out), 0);
    assert_non_null(strstr(out, "not deterministic"));
    assert_non_null(strstr(out, "trace-hash=none"));
    assert_non_null(strstr(out, "timer late p99"));
    free(out);

    json_t *rep = report(f);
    assert_non_null(rep);
    /* every message the devices saw acknowledged is one the hub accepted, and no more */
    long long accepted = run_counter(rep, "d2c.accepted");
    assert_true(accepted > 200);
    assert_int_equal(accepted, hub_counter(f, "d2c.accepted"));
    assert_int_equal(run_counter(rep, "c2d.accepted"), hub_counter(f, "c2d.sent"));
    assert_true(run_counter(rep, "device.c2d.completed") >= 10);
    assert_int_equal(run_counter(rep, "d2c.rejected"), 0);
    /* registered with the run prefix, all deleted at the end */
    assert_int_equal(run_counter(rep, "live.identities"), 22);
    assert_int_equal(hub_counter(f, "registry.created"), 22);
    assert_int_equal(hub_counter(f, "registry.deleted"), 22);
    assert_int_equal(run_counter(rep, "live.deleted"), 22);
    /* the expired-token devices were refused with the hub's code and that cause is in the report */
    assert_true(run_counter(rep, "conn.failed.401002") >= 2);
    assert_non_null(run_info(rep, "live.cause.conn.failed.401002"));
    /* a wall-clock section, no trace hash */
    assert_non_null(run_info(rep, "wallclock.timer_late_p99_ms"));
    assert_non_null(strstr(run_info(rep, "mode"), "not deterministic"));
    assert_true(json_is_null(json_object_get(json_object_get(rep, "run"), "trace_hash")));
    json_t *summary = json_object_get(rep, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "fail")), 0);
    json_decref(rep);
}

/* --protocol overrides the groups' protocol: AMQP does everything MQTT does; HTTPS devices get no
 * methods (the hub offers none over HTTPS), so that expectation fails, and the run says why. */
static void test_protocol_override(void **state)
{
    fixture_t *f = *state;
    char scn[400], out_dir[300], *out;
    smoke_path(scn, sizeof scn);
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    const char *amqp[] = { "run", scn, "--target", f->cs, "--protocol", "amqp", "--time-scale", "5", "--out", out_dir, NULL };
    assert_int_equal(run(f, amqp, &out), 0);
    free(out);
    json_t *rep = report(f);
    assert_non_null(rep);
    long long a = run_counter(rep, "d2c.accepted");
    assert_true(a > 200);
    assert_int_equal(a, hub_counter(f, "d2c.accepted"));
    assert_true(run_counter(rep, "conn.failed.401002") >= 2);
    json_decref(rep);

    const char *https[] = { "run", scn, "--target", f->cs, "--protocol", "https", "--time-scale", "5", "--out", out_dir, NULL };
    assert_int_equal(run(f, https, &out), 1);
    assert_non_null(strstr(out, "FAIL   method.reboot.status"));
    free(out);
    rep = report(f);
    assert_non_null(rep);
    assert_true(run_counter(rep, "live.https.no_methods_or_desired") >= 20);
    assert_int_equal(run_counter(rep, "d2c.accepted") + a, hub_counter(f, "d2c.accepted"));
    json_decref(rep);
    assert_int_equal(hub_counter(f, "registry.deleted"), 44);
}

static void test_sigint_reports_and_cleans_up(void **state)
{
    fixture_t *f = *state;
    char scn[400], out_dir[300], path[300];
    smoke_path(scn, sizeof scn);
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    snprintf(path, sizeof path, "%s/output.txt", f->dir);
    /* real time: 20 s of scenario, interrupted once messages flow */
    const char *args[] = { "run", scn, "--target", f->cs, "--out", out_dir, NULL };
    pid_t pid = spawn(path, args);
    long deadline = now_ms() + 20000;
    while (hub_counter(f, "d2c.accepted") < 20 && now_ms() < deadline)
        sleep_ms(50);
    assert_true(hub_counter(f, "d2c.accepted") >= 20);
    assert_true(hub_counter(f, "registry.created") == 22);
    kill(pid, SIGINT);
    int rc = reap(pid, 20000);
    char *out = tu_read_file(path, NULL);
    printf("%s", out ? out : "");
    assert_int_equal(rc, 130);
    assert_non_null(strstr(out, "stopped by signal 2"));
    free(out);
    json_t *rep = report(f);
    assert_non_null(rep); /* the reports were still written */
    assert_string_equal(run_info(rep, "live.stopped_by"), "signal 2");
    assert_int_equal(run_counter(rep, "d2c.accepted"), hub_counter(f, "d2c.accepted"));
    json_decref(rep);
    assert_int_equal(hub_counter(f, "registry.deleted"), 22); /* cleaned up */
}

static void test_bad_targets_say_why(void **state)
{
    fixture_t *f = *state;
    char scn[400], cs[1400], *out;
    smoke_path(scn, sizeof scn);

    /* a wrong service key */
    const char *k = strstr(f->cs, "SharedAccessKey=");
    snprintf(cs, sizeof cs, "%.*sSharedAccessKey=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=%s", (int)(k - f->cs), f->cs,
             strchr(k, ';'));
    const char *wrong_key[] = { "run", scn, "--target", cs, NULL };
    assert_int_equal(run(f, wrong_key, &out), 3);
    assert_non_null(strstr(out, "refused the service credentials"));
    assert_non_null(strstr(out, "401"));
    free(out);

    /* nothing listens on the HTTPS port */
    snprintf(cs, sizeof cs, "%s;HttpsPort=1", f->cs);
    const char *dead[] = { "run", scn, "--target", cs, NULL };
    assert_int_equal(run(f, dead, &out), 3);
    assert_non_null(strstr(out, "127.0.0.1:1"));
    assert_non_null(strstr(out, "refused"));
    free(out);

    /* TLS: the server's certificate is not trusted without the test CA */
    char ca[400];
    snprintf(ca, sizeof ca, "%s/fixtures/certs/server.pem", tu_source_dir());
    const char *tls[] = { "run", scn, "--target", f->cs, "--ca", ca, NULL };
    assert_int_equal(run(f, tls, &out), 3);
    assert_non_null(strstr(out, "TLS"));
    free(out);

    /* a hub without an admin API is not known to be hubsim serve: the plan, then --yes needed */
    snprintf(cs, sizeof cs, "%s;HttpsPort=%d;MqttPort=%d;AmqpPort=%d;ConnectHost=127.0.0.1;CaFile=%s/fixtures/certs/ca.pem",
             f->sp.service_cs, f->sp.https, f->sp.mqtt, f->sp.amqp, tu_source_dir());
    const char *no_yes[] = { "run", scn, "--target", cs, NULL };
    assert_int_equal(run(f, no_yes, &out), 2);
    assert_non_null(strstr(out, "22 devices"));
    assert_non_null(strstr(out, "--yes"));
    free(out);
    assert_int_equal(hub_counter(f, "registry.created"), 0); /* nothing was created */

    /* flags that make no sense live */
    const char *shard[] = { "run", scn, "--target", f->cs, "--shard", "0/2", NULL };
    assert_int_equal(run(f, shard, &out), 2);
    free(out);
    const char *scale[] = { "run", scn, "--target", f->cs, "--time-scale", "0", NULL };
    assert_int_equal(run(f, scale, &out), 2);
    free(out);
    const char *nolive[] = { "run", scn, "--yes", NULL };
    assert_int_equal(run(f, nolive, &out), 2);
    assert_non_null(strstr(out, "need --target"));
    free(out);
}

/* PUT /devices/{id} with a known key over the service REST API. */
static int register_device(fixture_t *f, const char *id, const char *key)
{
    const char *k = strstr(f->sp.service_cs, "SharedAccessKey=");
    char owner[128], tok[600], hdr[800], path[256], body[400];
    snprintf(owner, sizeof owner, "%.*s", (int)strcspn(k + 16, ";"), k + 16);
    sp_sas("localhost", owner, "iothubowner", 3600, tok, sizeof tok);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\nContent-Type: application/json\r\n", tok);
    snprintf(path, sizeof path, "/devices/%s?api-version=2021-04-12", id);
    snprintf(body, sizeof body,
             "{\"deviceId\":\"%s\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":"
             "{\"primaryKey\":\"%s\",\"secondaryKey\":\"%s\"}}}",
             id, key, key);
    return sp_http(f->sp.https, true, "PUT", path, hdr, body, NULL);
}

static void test_device_list_uses_given_devices(void **state)
{
    fixture_t *f = *state;
    static const char key[] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    char list[300], scn[400], out_dir[300], id[64], *out;
    snprintf(list, sizeof list, "%s/devices.txt", f->dir);
    FILE *fp = fopen(list, "w");
    assert_non_null(fp);
    fprintf(fp, "# pre-provisioned fleet\n");
    for (int i = 0; i < 22; i++) {
        snprintf(id, sizeof id, "field-unit-%02d", i);
        assert_int_equal(register_device(f, id, key), 200);
        fprintf(fp, "%s;%s\n", id, key);
    }
    fclose(fp);
    smoke_path(scn, sizeof scn);
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    const char *args[] = { "run", scn, "--target", f->cs, "--device-list", list, "--time-scale", "5", "--out", out_dir, NULL };
    assert_int_equal(run(f, args, &out), 0);
    free(out);
    json_t *rep = report(f);
    assert_non_null(rep);
    assert_int_equal(run_counter(rep, "d2c.accepted"), hub_counter(f, "d2c.accepted"));
    json_decref(rep);
    assert_int_equal(hub_counter(f, "registry.created"), 22); /* only the test's own */
    assert_int_equal(hub_counter(f, "registry.deleted"), 0);  /* the list's devices are not the run's to delete */

    /* a list shorter than the fleet, and a malformed line */
    fp = fopen(list, "w");
    fprintf(fp, "field-unit-00;%s\n", key);
    fclose(fp);
    assert_int_equal(run(f, args, &out), 2);
    assert_non_null(strstr(out, "the device list has 1 devices"));
    free(out);
    fp = fopen(list, "w");
    fprintf(fp, "field-unit-00 %s\n", key);
    fclose(fp);
    assert_int_equal(run(f, args, &out), 2);
    assert_non_null(strstr(out, "devices.txt:1: expected deviceId;base64key"));
    free(out);
}

static void test_faults_through_the_admin_api(void **state)
{
    fixture_t *f = *state;
    char scn[400], out_dir[300], *out;
    snprintf(scn, sizeof scn, "%s/scenarios/live-throttle.json", tu_source_dir());
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    /* a third of the connections dropped, then throttled to 200 msgs/s while sending 1600/s of wall time;
     * the hub closes MQTT connections on throttled publishes, so writes meet closed sockets (no SIGPIPE death) */
    const char *args[] = { "run", scn, "--target", f->cs, "--time-scale", "2", "--out", out_dir, NULL };
    assert_int_equal(run(f, args, &out), 0);
    assert_non_null(strstr(out, "served.throttled.d2c"));
    free(out);
    json_t *rep = report(f);
    assert_non_null(rep);
    long long throttled = hub_counter(f, "throttled.d2c");
    assert_true(throttled > 0);
    assert_int_equal(run_counter(rep, "served.throttled.d2c"), throttled);
    /* "throttled" counts the 429 answers the run itself saw (a refused CONNECT: CONNACK 3 -> 429001) */
    assert_true(run_counter(rep, "throttled") >= run_counter(rep, "conn.failed.429001"));
    assert_true(hub_counter(f, "conn.dropped_fault") > 0); /* dropConnections went through POST /devices/{id}/drop */
    assert_int_equal(run_counter(rep, "live.admin.failed"), 0);
    assert_int_equal(run_counter(rep, "fleet.fault_unsupported"), 0);
    assert_int_equal(run_counter(rep, "served.conn.dropped_fault"), hub_counter(f, "conn.dropped_fault"));
    /* a PUBACK can die with its connection: the hub may have accepted a message the device saw fail,
     * never the other way round */
    long long ran = run_counter(rep, "d2c.accepted"), hub = hub_counter(f, "d2c.accepted");
    assert_true(ran <= hub);
    assert_true(hub <= ran + run_counter(rep, "d2c.rejected.transport"));
    assert_int_equal(run_counter(rep, "served.d2c.accepted"), hub);
    json_decref(rep);
    assert_int_equal(hub_counter(f, "registry.deleted"), 40);
}

/* GET on the served hub's service REST API (owner token), parsed; NULL unless 200. */
static json_t *service_get(fixture_t *f, const char *path)
{
    const char *k = strstr(f->sp.service_cs, "SharedAccessKey=");
    char owner[128], tok[600], hdr[800], full[300], *resp = NULL;
    snprintf(owner, sizeof owner, "%.*s", (int)strcspn(k + 16, ";"), k + 16);
    sp_sas("localhost", owner, "iothubowner", 3600, tok, sizeof tok);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", tok);
    snprintf(full, sizeof full, "%s?api-version=2021-04-12", path);
    int status = sp_http(f->sp.https, true, "GET", full, hdr, NULL, &resp);
    json_t *doc = status == 200 ? json_loads(sp_body(resp), 0, NULL) : NULL;
    free(resp);
    return doc;
}

/* The run's books of one job actor equal the hub's job document (GET /jobs/v2/{prefix}{actor}-0). */
static void assert_job_matches(fixture_t *f, json_t *rep, const char *actor, long long devices)
{
    char path[200], name[160];
    snprintf(path, sizeof path, "/jobs/v2/lxt-%s-0", actor);
    json_t *doc = service_get(f, path);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "completed");
    /* the condition kept to this run's devices, the ids it names prefixed */
    const char *cond = json_string_value(json_object_get(doc, "queryCondition"));
    assert_non_null(strstr(cond, "STARTS_WITH(deviceId, 'lxt-') AND ("));
    assert_non_null(strstr(cond, "'lxt-sensor-"));
    json_t *st = json_object_get(doc, "deviceJobStatistics");
    snprintf(name, sizeof name, "job.%s.devices", actor);
    assert_int_equal(run_counter(rep, name), devices);
    assert_int_equal(json_integer_value(json_object_get(st, "deviceCount")), devices);
    snprintf(name, sizeof name, "job.%s.device.completed", actor);
    assert_int_equal(run_counter(rep, name), json_integer_value(json_object_get(st, "succeededCount")));
    snprintf(name, sizeof name, "job.%s.device.failed", actor);
    assert_int_equal(run_counter(rep, name), json_integer_value(json_object_get(st, "failedCount")));
    snprintf(name, sizeof name, "job.%s.status.completed", actor);
    assert_int_equal(run_counter(rep, name), 1);
    json_decref(doc);
}

/* Jobs and file uploads over serve's REST: the job actors' outcomes are the hub's job documents,
 * the uploads get SAS URIs, write their blobs (5 MB ones in 4 MiB blocks) and notify. */
static void test_jobs_and_uploads(void **state)
{
    fixture_t *f = *state;
    char scn[400], out_dir[300], *out;
    snprintf(scn, sizeof scn, "%s/scenarios/live-jobs-uploads.json", tu_source_dir());
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    const char *args[] = { "run", scn, "--target", f->cs, "--time-scale", "5", "--prefix", "lxt-", "--out", out_dir, NULL };
    assert_int_equal(run(f, args, &out), 0);
    free(out);
    json_t *rep = report(f);
    assert_non_null(rep);
    assert_int_equal(run_counter(rep, "job.unsupported"), 0);
    assert_int_equal(run_counter(rep, "upload.unsupported"), 0);
    assert_job_matches(f, rep, "fwcheck", 8);
    /* its startTime ("2s" after creation on the fleet's clock) is 2 s / time scale on the wall clock */
    json_t *doc = service_get(f, "/jobs/v2/lxt-fwcheck-0");
    int64_t created, start;
    uint32_t ns;
    assert_int_equal(sim_utc_parse(json_string_value(json_object_get(doc, "createdTime")), &created, &ns), 0);
    assert_int_equal(sim_utc_parse(json_string_value(json_object_get(doc, "startTime")), &start, &ns), 0);
    assert_true(start - created <= 1);
    json_decref(doc);
    assert_int_equal(run_counter(rep, "job.fwcheck.device.http.200"), 8);
    assert_job_matches(f, rep, "settings", 4); /* deviceId IN [...]: three sensors and a camera */
    /* uploads: started with the hub's SAS URI, written and notified without a refusal */
    long long started = run_counter(rep, "upload.started"), completed = run_counter(rep, "upload.completed");
    assert_true(completed >= 5);
    assert_true(run_counter(rep, "upload.failed_reported") > 0);
    assert_true(started >= completed + run_counter(rep, "upload.failed_reported"));
    assert_int_equal(run_counter(rep, "upload.requested"), started);
    assert_int_equal(run_counter(rep, "errors"), 0);
    assert_null(run_info(rep, "live.cause.upload.notify_failed.blob.transport"));
    /* ... and the served hub's own upload books agree with the run's */
    assert_int_equal(run_counter(rep, "served.upload.started"), started);
    assert_int_equal(run_counter(rep, "served.upload.completed_ok"), completed);
    assert_int_equal(run_counter(rep, "served.upload.completed_failed"), run_counter(rep, "upload.failed_reported"));
    assert_int_equal(run_counter(rep, "served.upload.blob_refused"), 0);
    json_decref(rep);
    assert_int_equal(hub_counter(f, "registry.deleted"), 12);
}

/* Field gateways: the edge devices are registered with capabilities.iotEdge and each leaf with its
 * gateway's deviceScope (read from the gateway's registration answer); leaves do not connect live
 * (leaf_connect is not in the live port: gateway.unsupported). 8 s of real time. */
static void test_gateways_registered_with_scopes(void **state)
{
    fixture_t *f = *state;
    char scn[300], out_dir[300], path[300];
    snprintf(scn, sizeof scn, "%s/gw.json", f->dir);
    FILE *fp = fopen(scn, "w");
    assert_non_null(fp);
    fputs("{ \"name\": \"gw-small\", \"seed\": 3, \"duration\": \"8s\", \"groups\": ["
          "{ \"name\": \"edge\", \"count\": 2, \"gateway\": true, \"protocol\": \"amqp\" },"
          "{ \"name\": \"sensor\", \"count\": 4, \"behind\": \"edge\", \"protocol\": \"amqp\","
          "  \"telemetry\": { \"interval\": \"1s\", \"payloadSize\": 16 } } ] }\n", fp);
    fclose(fp);
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    snprintf(path, sizeof path, "%s/output.txt", f->dir);
    const char *args[] = { "run", scn, "--target", f->cs, "--prefix", "gwt-", "--out", out_dir, NULL };
    pid_t pid = spawn(path, args);
    long deadline = now_ms() + 20000;
    while (hub_counter(f, "registry.created") < 6 && now_ms() < deadline)
        sleep_ms(50);
    assert_int_equal(hub_counter(f, "registry.created"), 6);
    json_t *e0 = service_get(f, "/devices/gwt-edge-00000"), *e1 = service_get(f, "/devices/gwt-edge-00001");
    assert_non_null(e0);
    assert_non_null(e1);
    assert_true(json_is_true(json_object_get(json_object_get(e0, "capabilities"), "iotEdge")));
    const char *s0 = json_string_value(json_object_get(e0, "deviceScope"));
    const char *s1 = json_string_value(json_object_get(e1, "deviceScope"));
    assert_non_null(s0);
    assert_non_null(s1);
    for (int i = 0; i < 4; i++) {
        char dev[64];
        snprintf(dev, sizeof dev, "/devices/gwt-sensor-%05d", i);
        json_t *leaf = service_get(f, dev);
        assert_non_null(leaf);
        const char *scope = json_string_value(json_object_get(leaf, "deviceScope"));
        assert_non_null(scope);
        assert_true(strcmp(scope, s0) == 0 || strcmp(scope, s1) == 0);
        json_decref(leaf);
    }
    json_decref(e0);
    json_decref(e1);
    assert_int_equal(reap(pid, RUN_LIMIT_MS), 0);
    json_t *rep = report(f);
    assert_non_null(rep);
    assert_true(run_counter(rep, "gateway.unsupported") > 0);
    assert_true(run_counter(rep, "conn.connected") >= 1); /* a gateway itself (the fleet spreads their connects) */
    json_decref(rep);
    assert_int_equal(hub_counter(f, "registry.deleted"), 6);
}

/* The job condition of a prefixed run: literals compared with deviceId carry the prefix, others do not. */
static void test_job_condition_rewrite(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } rows[] = {
        { "STARTS_WITH(deviceId, 'meter-')", "STARTS_WITH(deviceId, 'p-') AND (STARTS_WITH(deviceId, 'p-meter-'))" },
        { "deviceId IN ['a', \"b\"] AND tags.site = 'x'",
          "STARTS_WITH(deviceId, 'p-') AND (deviceId IN ['p-a', \"p-b\"] AND tags.site = 'x')" },
        { "devices.deviceId != 'a' OR properties.reported.deviceId = 'z'",
          "STARTS_WITH(deviceId, 'p-') AND (devices.deviceId != 'p-a' OR properties.reported.deviceId = 'z')" },
        { "tags.site = 'deviceId'", "STARTS_WITH(deviceId, 'p-') AND (tags.site = 'deviceId')" },
        { "STARTS_WITH(tags.site, 'x')", "STARTS_WITH(deviceId, 'p-') AND (STARTS_WITH(tags.site, 'x'))" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *c = live_job_condition("p-", rows[i].in);
        assert_string_equal(c, rows[i].out);
        free(c);
    }
    char *c = live_job_condition("", "deviceId = 'a'"); /* --device-list: ids as listed */
    assert_string_equal(c, "deviceId = 'a'");
    free(c);
}

static void test_broken_hub_turns_an_expectation_red(void **state)
{
    fixture_t *f = *state;
    char scn[400], out_dir[300], *out;
    smoke_path(scn, sizeof scn);
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    /* serve --break AUTH-SAS-EXPIRED: the expired tokens get in, so conn.failed stays 0 */
    const char *args[] = { "run", scn, "--target", f->cs, "--time-scale", "5", "--out", out_dir, NULL };
    assert_int_equal(run(f, args, &out), 1);
    assert_non_null(strstr(out, "FAIL   conn.failed >= 2"));
    free(out);
    json_t *rep = report(f);
    assert_non_null(rep);
    assert_int_equal(run_counter(rep, "conn.failed"), 0);
    json_decref(rep);
    assert_int_equal(hub_counter(f, "registry.deleted"), 22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_books_equal_the_hubs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigint_reports_and_cleans_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_targets_say_why, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_list_uses_given_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults_through_the_admin_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_hub_turns_an_expectation_red, setup_broken, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_and_uploads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gateways_registered_with_scopes, setup, teardown),
        cmocka_unit_test(test_job_condition_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
