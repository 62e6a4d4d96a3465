/* Measures paho.mqtt.c MQTTAsync's per-client cost (threads, RSS, fds, connect rate, QoS 1 rate) at 1,000 / 5,000 / 10,000 TLS clients in one process: issue 9's paho-or-own-client decision. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#include <MQTTAsync.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/*
 * Wall-time benchmark (not under sim/).  paho is loaded with dlopen so that
 * this file builds like every other bench/bench_*.c (CMake links the
 * project's libraries only); the types still come from MQTTAsync.h.
 *
 * Method: clients are created and connected in steps (default 1000, 5000,
 * 10000) with at most --connect-parallel connects in flight; after each
 * step the process's threads, RSS and open fds are read from /proc/self.
 * After each step that fully connected, every client keeps one QoS 1
 * PUBLISH unacknowledged for --duration seconds (the same load shape as
 * bench_serve_load --window 1) and sent == acked is checked.
 */

typedef struct {
    void *lib;
    __typeof__(&MQTTAsync_createWithOptions) createWithOptions;
    __typeof__(&MQTTAsync_setCallbacks) setCallbacks;
    __typeof__(&MQTTAsync_connect) connect;
    __typeof__(&MQTTAsync_sendMessage) sendMessage;
    __typeof__(&MQTTAsync_disconnect) disconnect;
    __typeof__(&MQTTAsync_destroy) destroy;
    __typeof__(&MQTTAsync_global_init) global_init;
    __typeof__(&MQTTAsync_getVersionInfo) getVersionInfo;
} paho_t;

typedef struct bench bench_t;

typedef struct {
    bench_t *b;
    MQTTAsync h;
    unsigned idx;
    atomic_int state; /* 0 idle, 1 connecting, 2 up, 3 failed, 4 lost */
} client_t;

struct bench {
    paho_t p;
    const char *host, *hub_host, *ca, *key_b64;
    int port;
    bool mosquitto;
    unsigned parallel;
    double duration;
    size_t payload_len;
    unsigned char key[64];
    int key_len;
    char payload[1500];
    client_t *clients;
    atomic_uint connecting, up, failed, lost, disconnected;
    atomic_ullong sent, acked, send_errors;
    atomic_bool publishing;
    unsigned last_fail_code;
    char last_fail_msg[200];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

static long status_field(const char *name)
{
    char line[256];
    size_t n = strlen(name);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", "..", the DIR's own fd */
}

static bool load_paho(paho_t *p)
{
    p->lib = dlopen("libpaho-mqtt3as.so.1", RTLD_NOW);
    if (!p->lib) {
        fprintf(stderr, "bench_paho_clients: %s (Debian: apt-get install libpaho-mqtt1.3)\n", dlerror());
        return false;
    }
#define SYM(field, name)                                              \
    do {                                                              \
        *(void **)(&p->field) = dlsym(p->lib, name);                  \
        if (!p->field) {                                              \
            fprintf(stderr, "bench_paho_clients: no %s in paho\n", name); \
            return false;                                             \
        }                                                             \
    } while (0)
    SYM(createWithOptions, "MQTTAsync_createWithOptions");
    SYM(setCallbacks, "MQTTAsync_setCallbacks");
    SYM(connect, "MQTTAsync_connect");
    SYM(sendMessage, "MQTTAsync_sendMessage");
    SYM(disconnect, "MQTTAsync_disconnect");
    SYM(destroy, "MQTTAsync_destroy");
    SYM(global_init, "MQTTAsync_global_init");
    SYM(getVersionInfo, "MQTTAsync_getVersionInfo");
#undef SYM
    return true;
}

/* ---- SAS token for `hubsim serve` ------------------------------------------ */

static void url_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *q = (const unsigned char *)in; *q && o + 4 < cap; q++) {
        if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || strchr("-_.~", *q))
            out[o++] = (char)*q;
        else {
            out[o++] = '%';
            out[o++] = hex[*q >> 4];
            out[o++] = hex[*q & 15];
        }
    }
    out[o] = '\0';
}

static void sas_token(const bench_t *b, const char *sr, char *out, size_t cap)
{
    char esr[256], tosign[300], sig64[64], esig[128];
    unsigned char mac[32];
    unsigned mlen = 0;
    url_encode(sr, esr, sizeof esr);
    long se = (long)time(NULL) + 3600;
    int n = snprintf(tosign, sizeof tosign, "%s\n%ld", esr, se);
    HMAC(EVP_sha256(), b->key, b->key_len, (unsigned char *)tosign, (size_t)n, mac, &mlen);
    EVP_EncodeBlock((unsigned char *)sig64, mac, (int)mlen);
    url_encode(sig64, esig, sizeof esig);
    snprintf(out, cap, "SharedAccessSignature sr=%s&sig=%s&se=%ld", esr, esig, se);
}

/* ---- callbacks (paho's threads) ------------------------------------------- */

static void on_connected(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    client_t *c = ctx;
    atomic_store(&c->state, 2);
    atomic_fetch_add(&c->b->up, 1);
    atomic_fetch_sub(&c->b->connecting, 1);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    client_t *c = ctx;
    atomic_store(&c->state, 3);
    if (r && atomic_load(&c->b->failed) < 1) {
        c->b->last_fail_code = (unsigned)r->code;
        snprintf(c->b->last_fail_msg, sizeof c->b->last_fail_msg, "%s", r->message ? r->message : "");
    }
    atomic_fetch_add(&c->b->failed, 1);
    atomic_fetch_sub(&c->b->connecting, 1);
}

static void on_lost(void *ctx, char *cause)
{
    (void)cause;
    client_t *c = ctx;
    if (atomic_exchange(&c->state, 4) == 2)
        atomic_fetch_add(&c->b->lost, 1);
}

static int on_message(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)topic;
    (void)len;
    (void)m;
    return 1;
}

static void publish_one(client_t *c);

static void on_puback(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    client_t *c = ctx;
    atomic_fetch_add(&c->b->acked, 1);
    if (atomic_load(&c->b->publishing))
        publish_one(c);
}

static void on_publish_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    client_t *c = ctx;
    atomic_fetch_add(&c->b->send_errors, 1);
}

static void publish_one(client_t *c)
{
    bench_t *b = c->b;
    char topic[96];
    snprintf(topic, sizeof topic, "devices/dev-%05u/messages/events/", c->idx);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_puback;
    ro.onFailure = on_publish_failed;
    ro.context = c;
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = b->payload;
    m.payloadlen = (int)b->payload_len;
    m.qos = 1;
    atomic_fetch_add(&b->sent, 1);
    if (b->p.sendMessage(c->h, topic, &m, &ro) != MQTTASYNC_SUCCESS) {
        atomic_fetch_sub(&b->sent, 1);
        atomic_fetch_add(&b->send_errors, 1);
    }
}

static void on_disconnected(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    client_t *c = ctx;
    atomic_fetch_add(&c->b->disconnected, 1);
}

/* ---- steps ---------------------------------------------------------------- */

static bool connect_client(bench_t *b, client_t *c)
{
    char uri[128], id[32], user[200], sr[200], tok[700];
    snprintf(uri, sizeof uri, "ssl://%s:%d", b->host, b->port);
    snprintf(id, sizeof id, "dev-%05u", c->idx);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    int rc = b->p.createWithOptions(&c->h, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "bench_paho_clients: MQTTAsync_create #%u: %d\n", c->idx, rc);
        return false;
    }
    b->p.setCallbacks(c->h, c, on_lost, on_message, NULL);
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    ssl.trustStore = b->ca;
    ssl.enableServerCertAuth = b->ca != NULL;
    ssl.verify = 0; /* no host name check: the same as bench_serve_load */
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.keepAliveInterval = 60;
    o.cleansession = 1;
    o.connectTimeout = 120;
    o.ssl = &ssl;
    o.onSuccess = on_connected;
    o.onFailure = on_connect_failed;
    o.context = c;
    if (!b->mosquitto) {
        snprintf(user, sizeof user, "%s/%s/?api-version=2021-04-12", b->hub_host, id);
        snprintf(sr, sizeof sr, "%s/devices/%s", b->hub_host, id);
        sas_token(b, sr, tok, sizeof tok);
        o.username = user;
        o.password = tok;
    }
    atomic_store(&c->state, 1);
    atomic_fetch_add(&b->connecting, 1);
    rc = b->p.connect(c->h, &o);
    if (rc != MQTTASYNC_SUCCESS) {
        atomic_fetch_sub(&b->connecting, 1);
        atomic_fetch_add(&b->failed, 1);
        atomic_store(&c->state, 3);
        if (atomic_load(&b->failed) == 1)
            fprintf(stderr, "bench_paho_clients: MQTTAsync_connect #%u: %d\n", c->idx, rc);
    }
    return true;
}

/* QoS 1 telemetry over every client that is up, one PUBLISH in flight each,
 * for the duration; false when a PUBLISH was not acknowledged. */
static bool telemetry(bench_t *b, unsigned made)
{
    unsigned up = atomic_load(&b->up) - atomic_load(&b->lost);
    if (!up)
        return true;
    unsigned long long sent0 = atomic_load(&b->sent), acked0 = atomic_load(&b->acked);
    double t0 = now_s(), cpu0 = self_cpu_s();
    atomic_store(&b->publishing, true);
    for (unsigned i = 0; i < made; i++)
        if (atomic_load(&b->clients[i].state) == 2)
            publish_one(&b->clients[i]);
    while (now_s() < t0 + b->duration)
        nap_us(10000);
    atomic_store(&b->publishing, false);
    double drain_until = now_s() + 30;
    while (atomic_load(&b->acked) + atomic_load(&b->send_errors) < atomic_load(&b->sent) && now_s() < drain_until)
        nap_us(1000);
    double dt = now_s() - t0, cpu = self_cpu_s() - cpu0;
    unsigned long long sent = atomic_load(&b->sent) - sent0, acked = atomic_load(&b->acked) - acked0;
    printf("  QoS 1, %zu-byte payload, %u clients, one PUBLISH in flight each: sent %llu, acked %llu, gap %llu, "
           "errors %llu: %.0f msgs/s, client CPU %.2f s (%.0f us/msg)\n",
           b->payload_len, up, sent, acked, sent - acked, atomic_load(&b->send_errors), dt > 0 ? (double)acked / dt : 0,
           cpu, acked ? cpu * 1e6 / (double)acked : 0);
    fflush(stdout);
    return sent == acked;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_paho_clients --port P [--target serve|mosquitto] [--steps 1000,5000,10000]\n"
               "         [--connect-parallel C] [--duration S] [--ca PEM|none] [--host ADDR] [--hub-host NAME]\n"
               "         [--key BASE64] [--step-timeout S]\n"
               "paho.mqtt.c MQTTAsync clients over TLS against a running server (bench/serve/run.sh paho\n"
               "starts one): threads, RSS, fds per step, then QoS 1 telemetry; exit 1 when a step fails.\n");
}

int main(int argc, char **argv)
{
    bench_t *b = calloc(1, sizeof *b);
    b->host = "127.0.0.1";
    b->hub_host = "localhost";
    b->ca = "fixtures/certs/ca.pem";
    b->key_b64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    b->parallel = 64;
    b->duration = 5;
    b->payload_len = 256;
    double step_timeout = 300;
    unsigned steps[8] = { 1000, 5000, 10000 }, n_steps = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--port")) b->port = atoi(v);
        else if (ARG("--host")) b->host = v;
        else if (ARG("--hub-host")) b->hub_host = v;
        else if (ARG("--key")) b->key_b64 = v;
        else if (ARG("--ca")) b->ca = strcmp(v, "none") == 0 ? NULL : v;
        else if (ARG("--target")) b->mosquitto = strcmp(v, "mosquitto") == 0;
        else if (ARG("--connect-parallel")) b->parallel = (unsigned)strtoul(v, NULL, 10);
        else if (ARG("--duration")) b->duration = atof(v);
        else if (ARG("--step-timeout")) step_timeout = atof(v);
        else if (ARG("--steps")) {
            n_steps = 0;
            for (char *s = (char *)v; *s && n_steps < 8;) {
                steps[n_steps++] = (unsigned)strtoul(s, &s, 10);
                if (*s == ',')
                    s++;
            }
        } else if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
#undef ARG
    }
    if (b->port <= 0 || n_steps == 0 || b->parallel == 0) {
        usage(stderr);
        return 2;
    }
    if (!load_paho(&b->p))
        return 3;
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    b->key_len = EVP_DecodeBlock(b->key, (const unsigned char *)b->key_b64, (int)strlen(b->key_b64));
    for (size_t l = strlen(b->key_b64); l && b->key_b64[l - 1] == '='; l--)
        b->key_len--;
    for (size_t i = 0; i < b->payload_len; i++)
        b->payload[i] = "0123456789abcdef"[i % 16];

    MQTTAsync_init_options io = MQTTAsync_init_options_initializer;
    io.do_openssl_init = 1;
    b->p.global_init(&io);
    const char *version = "?";
    for (MQTTAsync_nameValue *nv = b->p.getVersionInfo(); nv && nv->name; nv++)
        if (strcmp(nv->name, "Version") == 0)
            version = nv->value;
    unsigned max = steps[n_steps - 1];
    b->clients = calloc(max, sizeof *b->clients);
    long rss0 = status_field("VmRSS"), thr0 = status_field("Threads"), fds0 = open_fds();
    printf("paho.mqtt.c %s MQTTAsync against %s on %s:%d (open-files limit %llu)\n", version,
           b->mosquitto ? "mosquitto" : "hubsim serve", b->host, b->port, (unsigned long long)r.rlim_cur);
    printf("%8s %8s %8s %9s %8s %8s %10s %9s %9s\n", "clients", "up", "failed", "connect s", "conn/s", "threads",
           "RSS MB", "KB/client", "fds/client");
    printf("%8d %8d %8d %9s %8s %8ld %10.1f %9s %9s\n", 0, 0, 0, "", "", thr0, (double)rss0 / 1024, "", "");
    unsigned made = 0, held = 0;
    bool ok = true;
    for (unsigned s = 0; s < n_steps && ok; s++) {
        double t0 = now_s(), deadline = t0 + step_timeout;
        while (made < steps[s] && now_s() < deadline) {
            if (atomic_load(&b->connecting) >= b->parallel) {
                nap_us(200);
                continue;
            }
            b->clients[made] = (client_t){ .b = b, .idx = made };
            if (!connect_client(b, &b->clients[made])) {
                ok = false;
                break;
            }
            made++;
        }
        while (atomic_load(&b->connecting) > 0 && now_s() < deadline)
            nap_us(1000);
        double dt = now_s() - t0;
        unsigned up = atomic_load(&b->up), failed = atomic_load(&b->failed), lost = atomic_load(&b->lost);
        long rss = status_field("VmRSS"), thr = status_field("Threads"), fds = open_fds();
        unsigned stepped = made - (s ? steps[s - 1] : 0);
        printf("%8u %8u %8u %9.2f %8.0f %8ld %10.1f %9.1f %9.2f%s\n", made, up - lost, failed, dt,
               dt > 0 ? stepped / dt : 0, thr, (double)rss / 1024, up ? (double)(rss - rss0) / up : 0,
               up ? (double)(fds - fds0) / up : 0, lost ? " (connections lost)" : "");
        fflush(stdout);
        if (failed || lost || up != made || made < steps[s]) {
            ok = false;
            printf("step %u clients did not hold: %u failed (first: code %u %s), %u lost, %u still connecting\n",
                   steps[s], failed, b->last_fail_code, b->last_fail_msg, lost, atomic_load(&b->connecting));
        } else
            held = made;
        if (!telemetry(b, made))
            ok = false;
    }

    unsigned up = atomic_load(&b->up) - atomic_load(&b->lost);
    printf("result: paho held=%u of %u, threads %ld, KB/client %.1f, fds/client %.2f\n", held, max,
           status_field("Threads"), up ? (double)(status_field("VmRSS") - rss0) / up : 0,
           up ? (double)(open_fds() - fds0) / up : 0);
    fflush(stdout);

    /* Disconnect (bounded), then leave: destroying 10,000 paho clients one by
     * one is itself slow and measures nothing. */
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 1000;
    d.onSuccess = on_disconnected;
    unsigned asked = 0;
    for (unsigned i = 0; i < made; i++)
        if (atomic_load(&b->clients[i].state) == 2) {
            d.context = &b->clients[i];
            if (b->p.disconnect(b->clients[i].h, &d) == MQTTASYNC_SUCCESS)
                asked++;
        }
    double until = now_s() + 15;
    while (atomic_load(&b->disconnected) < asked && now_s() < until)
        nap_us(10000);
    fflush(stdout);
    _exit(ok ? 0 : 1);
}
