/* Load generator: N TLS MQTT device clients on one libevent loop (our codec), ramped connects, then checked QoS 1 telemetry against `hubsim serve` or mosquitto. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include "serve/mqtt/mqtt_packet.h"

/*
 * Wall-time benchmark (not under sim/): the clock here is the host's.
 *
 * Honesty rules: every PUBLISH sent is matched to its PUBACK by packet id
 * (an unknown or repeated id is counted, never absorbed); at the end
 * sent == acked or the gap is reported and the exit status is 1; with
 * --admin-port the hub's own d2c.accepted must equal the PUBACKs counted.
 */

#define MAX_WINDOW 64
#define HIST_SUB 64 /* sub-buckets per power of two: < 1.6 % error */
#define HIST_BUCKETS (64 * HIST_SUB)

typedef enum { TARGET_SERVE, TARGET_MOSQUITTO } target_t;

typedef struct {
    target_t target;
    const char *host;       /* address to connect to */
    int port;
    const char *hub_host;   /* host name in username and SAS sr */
    const char *key_b64;    /* device key (serve) */
    const char *ca;         /* CA to verify the server with; NULL = no verification */
    unsigned devices;
    unsigned first;         /* first device index */
    unsigned connect_parallel; /* handshakes in flight during the ramp */
    double rate;            /* total msgs/s; 0 = flat out */
    double duration;        /* s of telemetry */
    unsigned window;        /* unacknowledged PUBLISHes per device */
    size_t payload;
    int server_pid;
    int admin_port;         /* hubsim admin API: d2c.accepted is checked */
    bool release_buffers;   /* SSL_MODE_RELEASE_BUFFERS on the client */
    double connect_timeout; /* s for the whole fleet */
    const char *label;
} opts_t;

enum { DEV_IDLE, DEV_CONNECTING, DEV_UP, DEV_DOWN };

typedef struct load load_t;

typedef struct {
    load_t *L;
    struct bufferevent *bev;
    mqtt_decoder_t *dec;
    uint32_t idx;
    uint16_t next_pid;
    uint8_t state;
    uint8_t outstanding;
    uint64_t last_send_ns;
    uint64_t connect_start_ns;
} device_t;

struct load {
    opts_t o;
    struct event_base *base;
    SSL_CTX *ssl_ctx;
    device_t *devs;
    uint16_t *slot_pid;   /* devices * window */
    uint64_t *slot_t;     /* send time, 0 = free */
    unsigned char key[64];
    int key_len;
    uint8_t *payload;
    /* connect phase */
    unsigned next_to_connect, connecting, up, failed_tls, refused, closed_early;
    uint64_t connect_t0, connect_t1;
    unsigned connack_codes[6];
    /* load phase */
    bool publishing;
    uint64_t load_t0, load_t1, last_ack_ns;
    uint64_t sent, acked, unknown_acks, lost_in_flight, dropped_conns, behind, pings;
    unsigned rr;            /* round robin for the rate mode */
    uint64_t hist[HIST_BUCKETS];
    uint64_t lat_max;
    struct event *pace, *tick;
    bool stop;
    unsigned errors_printed;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- /proc readings ------------------------------------------------------- */

static long proc_rss_kb(int pid)
{
    char path[64], line[256];
    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%d/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat). */
static double proc_cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

static double loadavg1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* ---- hubsim admin: GET /counters, d2c.accepted ---------------------------- */

static long long admin_counter(int port, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    static const char req[] = "GET /counters HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *p = strstr(buf, pat);
    long long v = p ? strtoll(p + strlen(pat), NULL, 10) : -1;
    free(buf);
    return v;
}

/* ---- SAS token (docs/sdk-wire.md): HMAC-SHA256 over url(sr) "\n" se -------- */

static void url_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
            out[o++] = (char)*p;
        else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

static void sas_token(const load_t *L, const char *sr, long ttl, char *out, size_t cap)
{
    char esr[256], tosign[300], sig64[64], esig[128];
    unsigned char mac[32];
    unsigned mlen = 0;
    url_encode(sr, esr, sizeof esr);
    long se = (long)time(NULL) + ttl;
    int n = snprintf(tosign, sizeof tosign, "%s\n%ld", esr, se);
    HMAC(EVP_sha256(), L->key, L->key_len, (unsigned char *)tosign, (size_t)n, mac, &mlen);
    EVP_EncodeBlock((unsigned char *)sig64, mac, (int)mlen);
    url_encode(sig64, esig, sizeof esig);
    snprintf(out, cap, "SharedAccessSignature sr=%s&sig=%s&se=%ld", esr, esig, se);
}

/* ---- latency histogram (log-linear) --------------------------------------- */

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - 6u; /* HIST_SUB = 2^6 */
    unsigned idx = (msb - 5u) * HIST_SUB + (unsigned)((v >> shift) & (HIST_SUB - 1));
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static uint64_t hist_value(unsigned idx) /* lower bound of the bucket */
{
    if (idx < HIST_SUB)
        return idx;
    unsigned msb = idx / HIST_SUB + 5u, sub = idx % HIST_SUB;
    return ((uint64_t)(HIST_SUB + sub)) << (msb - 6u);
}

static double hist_quantile(const load_t *L, double q)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        total += L->hist[i];
    if (!total)
        return 0;
    uint64_t want = (uint64_t)ceil(q * (double)total), seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += L->hist[i];
        if (seen >= want)
            return (double)hist_value(i);
    }
    return (double)L->lat_max;
}

/* ---- device connections --------------------------------------------------- */

static void dev_id(const device_t *d, char *out, size_t cap)
{
    snprintf(out, cap, "dev-%05u", d->idx);
}

static void dev_send(device_t *d, const mqtt_packet_t *p)
{
    uint8_t buf[2048];
    size_t n = 0;
    mqtt_err_t e = mqtt_encode(p, buf, sizeof buf, &n);
    if (e != MQTT_E_OK) {
        fprintf(stderr, "bench_serve_load: encode %s: %s\n", mqtt_type_name(p->type), mqtt_strerror(e));
        exit(3);
    }
    bufferevent_write(d->bev, buf, n);
    d->last_send_ns = now_ns();
}

static void start_next_connect(load_t *L);

/* The connection ended (error, server close): count where it happened. */
static void dev_down(device_t *d, bool tls_error)
{
    load_t *L = d->L;
    if (d->state == DEV_CONNECTING) {
        L->connecting--;
        if (tls_error)
            L->failed_tls++;
        else
            L->closed_early++;
        start_next_connect(L);
    } else if (d->state == DEV_UP) {
        L->up--;
        L->dropped_conns++;
        L->lost_in_flight += d->outstanding;
        for (unsigned k = 0; k < L->o.window; k++)
            L->slot_t[(size_t)(d - L->devs) * L->o.window + k] = 0;
        d->outstanding = 0;
    }
    d->state = DEV_DOWN;
    if (d->bev) {
        bufferevent_free(d->bev);
        d->bev = NULL;
    }
}

static void dev_publish(device_t *d)
{
    load_t *L = d->L;
    size_t base = (size_t)(d - L->devs) * L->o.window;
    unsigned k = 0;
    while (k < L->o.window && L->slot_t[base + k])
        k++;
    if (k == L->o.window)
        return; /* window full: the caller checks outstanding first */
    char topic[96], id[32];
    dev_id(d, id, sizeof id);
    snprintf(topic, sizeof topic, "devices/%s/messages/events/", id);
    uint16_t pid = d->next_pid;
    d->next_pid = (uint16_t)(pid == 65535 ? 1 : pid + 1);
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.qos = 1;
    p.u.publish.packet_id = pid;
    p.u.publish.topic = (mqtt_str_t){ topic, strlen(topic) };
    p.u.publish.payload = L->payload;
    p.u.publish.payload_len = L->o.payload;
    dev_send(d, &p);
    L->slot_pid[base + k] = pid;
    L->slot_t[base + k] = d->last_send_ns;
    d->outstanding++;
    L->sent++;
}

static void on_puback(device_t *d, uint16_t pid)
{
    load_t *L = d->L;
    size_t base = (size_t)(d - L->devs) * L->o.window;
    for (unsigned k = 0; k < L->o.window; k++)
        if (L->slot_t[base + k] && L->slot_pid[base + k] == pid) {
            uint64_t t = now_ns(), lat = (t - L->slot_t[base + k]) / 1000u; /* µs */
            L->slot_t[base + k] = 0;
            d->outstanding--;
            L->acked++;
            L->last_ack_ns = t;
            L->hist[hist_index(lat)]++;
            if (lat > L->lat_max)
                L->lat_max = lat;
            if (L->publishing && L->o.rate <= 0)
                dev_publish(d); /* flat out: keep the window full */
            return;
        }
    L->unknown_acks++;
}

static void on_packet(device_t *d, const mqtt_packet_t *p)
{
    load_t *L = d->L;
    switch (p->type) {
    case MQTT_CONNACK:
        if (d->state != DEV_CONNECTING)
            break;
        L->connecting--;
        if (p->u.connack.code <= 5)
            L->connack_codes[p->u.connack.code]++;
        if (p->u.connack.code == MQTT_CONNACK_ACCEPTED) {
            d->state = DEV_UP;
            L->up++;
            uint64_t t = now_ns();
            if (t > L->connect_t1)
                L->connect_t1 = t;
        } else {
            L->refused++;
            d->state = DEV_DOWN;
        }
        start_next_connect(L);
        break;
    case MQTT_PUBACK:
        on_puback(d, p->u.packet_id);
        break;
    case MQTT_PINGRESP:
        break;
    default:
        fprintf(stderr, "bench_serve_load: unexpected %s from the server\n", mqtt_type_name(p->type));
        L->unknown_acks++;
        break;
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    device_t *d = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len;
    while ((len = evbuffer_get_contiguous_space(in)) > 0) {
        const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)len);
        size_t off = 0;
        while (off < len) {
            size_t used = 0;
            bool got = false;
            mqtt_packet_t pkt;
            mqtt_err_t e = mqtt_decoder_feed(d->dec, p + off, len - off, &used, &pkt, &got);
            if (e != MQTT_E_OK) {
                fprintf(stderr, "bench_serve_load: %u: bad packet from the server: %s\n", d->idx, mqtt_strerror(e));
                dev_down(d, false);
                return;
            }
            off += used;
            if (got)
                on_packet(d, &pkt);
            if (d->state == DEV_DOWN) {
                dev_down(d, false);
                return;
            }
        }
        evbuffer_drain(in, len);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    device_t *d = arg;
    if (what & BEV_EVENT_CONNECTED) {
        char id[32], user[256], sr[200], tok[700];
        dev_id(d, id, sizeof id);
        mqtt_packet_t p = { .type = MQTT_CONNECT };
        p.u.connect.keep_alive = 60;
        p.u.connect.clean_session = true;
        p.u.connect.client_id = (mqtt_str_t){ id, strlen(id) };
        if (d->L->o.target == TARGET_SERVE) {
            snprintf(user, sizeof user, "%s/%s/?api-version=2021-04-12", d->L->o.hub_host, id);
            snprintf(sr, sizeof sr, "%s/devices/%s", d->L->o.hub_host, id);
            sas_token(d->L, sr, 3600, tok, sizeof tok);
            p.u.connect.has_username = true;
            p.u.connect.username = (mqtt_str_t){ user, strlen(user) };
            p.u.connect.has_password = true;
            p.u.connect.password = (mqtt_str_t){ tok, strlen(tok) };
        }
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        dev_send(d, &p);
        return;
    }
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
        unsigned long e = bufferevent_get_openssl_error(bev);
        if (d->L->stop) { /* our DISCONNECT: the server closes */
            d->state = DEV_DOWN;
            bufferevent_free(d->bev);
            d->bev = NULL;
            return;
        }
        if (e && d->L->errors_printed++ < 5) {
            char msg[256];
            ERR_error_string_n(e, msg, sizeof msg);
            fprintf(stderr, "bench_serve_load: dev-%05u: TLS: %s\n", d->idx, msg);
        } else if ((what & BEV_EVENT_ERROR) && d->L->errors_printed++ < 5) {
            fprintf(stderr, "bench_serve_load: dev-%05u: %s\n", d->idx, strerror(errno));
        }
        dev_down(d, d->state == DEV_CONNECTING && (what & BEV_EVENT_ERROR));
    }
}

static void start_connect(load_t *L, device_t *d)
{
    SSL *ssl = SSL_new(L->ssl_ctx);
    SSL_set_tlsext_host_name(ssl, L->o.hub_host);
    d->bev = bufferevent_openssl_socket_new(L->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!d->bev) {
        fprintf(stderr, "bench_serve_load: bufferevent_openssl_socket_new failed\n");
        exit(3);
    }
    bufferevent_openssl_set_allow_dirty_shutdown(d->bev, 1);
    bufferevent_setcb(d->bev, on_read, NULL, on_event, d);
    bufferevent_enable(d->bev, EV_READ | EV_WRITE);
    d->state = DEV_CONNECTING;
    d->connect_start_ns = now_ns();
    L->connecting++;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)L->o.port) };
    inet_pton(AF_INET, L->o.host, &a.sin_addr);
    if (bufferevent_socket_connect(d->bev, (struct sockaddr *)&a, sizeof a) != 0) {
        if (L->errors_printed++ < 5)
            fprintf(stderr, "bench_serve_load: dev-%05u: connect: %s\n", d->idx, strerror(errno));
        dev_down(d, true);
    }
}

static void start_next_connect(load_t *L)
{
    while (L->connecting < L->o.connect_parallel && L->next_to_connect < L->o.devices)
        start_connect(L, &L->devs[L->next_to_connect++]);
}

/* ---- timers --------------------------------------------------------------- */

/* Rate mode: every millisecond, issue what the schedule owes, round robin
 * over devices with room in their window; what finds no room is `behind`. */
static void on_pace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    load_t *L = arg;
    if (!L->publishing)
        return;
    double elapsed = (double)(now_ns() - L->load_t0) * 1e-9;
    uint64_t due = (uint64_t)(elapsed * L->o.rate);
    while (L->sent + L->behind < due) {
        bool sent = false;
        for (unsigned tries = 0; tries < L->o.devices; tries++) {
            device_t *d = &L->devs[L->rr];
            L->rr = (L->rr + 1) % L->o.devices;
            if (d->state == DEV_UP && d->outstanding < L->o.window) {
                dev_publish(d);
                sent = true;
                break;
            }
        }
        if (!sent) {
            L->behind += due - L->sent - L->behind;
            break;
        }
    }
}

/* Once a second: PINGREQ for devices idle 30 s (keep-alive 60 s). */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    load_t *L = arg;
    uint64_t t = now_ns();
    for (unsigned i = 0; i < L->o.devices; i++) {
        device_t *d = &L->devs[i];
        if (d->state == DEV_UP && t - d->last_send_ns > 30ull * 1000000000ull) {
            mqtt_packet_t p = { .type = MQTT_PINGREQ };
            dev_send(d, &p);
            L->pings++;
        }
    }
}

/* Runs the loop until cond(L) or the deadline (ns, monotonic). */
static bool run_until(load_t *L, bool (*cond)(const load_t *), uint64_t deadline)
{
    while (!cond(L)) {
        if (now_ns() >= deadline)
            return false;
        event_base_loop(L->base, EVLOOP_ONCE);
    }
    return true;
}

static bool all_connected(const load_t *L)
{
    return L->next_to_connect >= L->o.devices && L->connecting == 0;
}
static bool load_window_over(const load_t *L)
{
    return now_ns() >= L->load_t1;
}
static bool drained(const load_t *L)
{
    return L->acked + L->unknown_acks >= L->sent || L->up == 0 ||
           L->sent - L->lost_in_flight <= L->acked;
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_serve_load --port P [--target serve|mosquitto] [--devices N] [--rate MSGS_PER_S | 0]\n"
            "         [--duration S] [--window K] [--payload BYTES] [--connect-parallel C]\n"
            "         [--server-pid PID] [--admin-port P] [--host ADDR] [--hub-host NAME] [--key BASE64]\n"
            "         [--ca PEM | --ca none] [--first I] [--no-release-buffers] [--label TEXT]\n"
            "N TLS MQTT devices dev-NNNNN on one libevent loop: ramped connects (C handshakes in flight),\n"
            "then QoS 1 telemetry (flat out with --rate 0: every device keeps K PUBLISHes unacknowledged).\n"
            "Prints figures and one `result:` line; exit 1 when a device did not connect or a count is off.\n"
            "It needs a running server: bench/serve/run.sh starts hubsim serve and mosquitto.\n");
}

static void parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){ .target = TARGET_SERVE, .host = "127.0.0.1", .hub_host = "localhost",
                   .key_b64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", .ca = "fixtures/certs/ca.pem",
                   .devices = 100, .connect_parallel = 64, .rate = 0, .duration = 10, .window = 1,
                   .payload = 256, .release_buffers = true, .connect_timeout = 300, .label = "" };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--target")) {
            if (strcmp(v, "serve") == 0)
                o->target = TARGET_SERVE;
            else if (strcmp(v, "mosquitto") == 0)
                o->target = TARGET_MOSQUITTO;
            else {
                fprintf(stderr, "bench_serve_load: --target serve or mosquitto, not %s\n", v);
                exit(2);
            }
        } else if (ARG("--port")) o->port = atoi(v);
        else if (ARG("--host")) o->host = v;
        else if (ARG("--hub-host")) o->hub_host = v;
        else if (ARG("--key")) o->key_b64 = v;
        else if (ARG("--ca")) o->ca = strcmp(v, "none") == 0 ? NULL : v;
        else if (ARG("--devices")) o->devices = (unsigned)strtoul(v, NULL, 10);
        else if (ARG("--first")) o->first = (unsigned)strtoul(v, NULL, 10);
        else if (ARG("--connect-parallel")) o->connect_parallel = (unsigned)strtoul(v, NULL, 10);
        else if (ARG("--connect-timeout")) o->connect_timeout = atof(v);
        else if (ARG("--rate")) o->rate = atof(v);
        else if (ARG("--duration")) o->duration = atof(v);
        else if (ARG("--window")) o->window = (unsigned)strtoul(v, NULL, 10);
        else if (ARG("--payload")) o->payload = (size_t)strtoul(v, NULL, 10);
        else if (ARG("--server-pid")) o->server_pid = atoi(v);
        else if (ARG("--admin-port")) o->admin_port = atoi(v);
        else if (ARG("--label")) o->label = v;
        else if (strcmp(a, "--no-release-buffers") == 0) o->release_buffers = false;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "bench_serve_load: unknown or incomplete option %s\n", a);
            usage(stderr);
            exit(2);
        }
#undef ARG
    }
    if (o->port <= 0 || o->port > 65535 || o->devices == 0 || o->devices + o->first > 100000 || o->window == 0 ||
        o->window > MAX_WINDOW || o->connect_parallel == 0 || o->payload > 1500 || o->duration <= 0) {
        usage(stderr);
        exit(2);
    }
}

static void raise_nofile(unsigned need)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur < (rlim_t)need + 64)
        fprintf(stderr, "bench_serve_load: open-files limit %llu is below %u devices + 64\n",
                (unsigned long long)r.rlim_cur, need);
}

int main(int argc, char **argv)
{
    load_t *L = calloc(1, sizeof *L);
    parse(argc, argv, &L->o);
    const opts_t *o = &L->o;
    signal(SIGPIPE, SIG_IGN);
    raise_nofile(o->devices);

    L->key_len = EVP_DecodeBlock(L->key, (const unsigned char *)o->key_b64, (int)strlen(o->key_b64));
    for (size_t l = strlen(o->key_b64); l && o->key_b64[l - 1] == '='; l--)
        L->key_len--;
    L->payload = malloc(o->payload ? o->payload : 1);
    for (size_t i = 0; i < o->payload; i++)
        L->payload[i] = (uint8_t)"0123456789abcdef"[i % 16];

    L->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (o->ca) {
        if (SSL_CTX_load_verify_locations(L->ssl_ctx, o->ca, NULL) != 1) {
            fprintf(stderr, "bench_serve_load: cannot read CA %s\n", o->ca);
            return 2;
        }
        SSL_CTX_set_verify(L->ssl_ctx, SSL_VERIFY_PEER, NULL);
    }
    if (o->release_buffers)
        SSL_CTX_set_mode(L->ssl_ctx, SSL_MODE_RELEASE_BUFFERS);

    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST); /* one epoll_ctl per fd per loop turn, not one per write */
    L->base = event_base_new_with_config(cfg);
    event_config_free(cfg);

    L->devs = calloc(o->devices, sizeof *L->devs);
    L->slot_pid = calloc((size_t)o->devices * o->window, sizeof *L->slot_pid);
    L->slot_t = calloc((size_t)o->devices * o->window, sizeof *L->slot_t);
    for (unsigned i = 0; i < o->devices; i++) {
        L->devs[i] = (device_t){ .L = L, .idx = o->first + i, .next_pid = 1 };
        L->devs[i].dec = mqtt_decoder_new(4096);
    }
    struct timeval one_s = { 1, 0 }, one_ms = { 0, 1000 };
    L->tick = event_new(L->base, -1, EV_PERSIST, on_tick, L);
    event_add(L->tick, &one_s);

    /* ---- connect phase ---- */
    long rss0 = proc_rss_kb(0);
    long srss0 = o->server_pid ? proc_rss_kb(o->server_pid) : -1;
    double scpu0 = o->server_pid ? proc_cpu_s(o->server_pid) : -1;
    double ccpu0 = self_cpu_s(), load_avg0 = loadavg1();
    long long accepted0 = o->admin_port ? admin_counter(o->admin_port, "d2c.accepted") : -1;
    L->connect_t0 = now_ns();
    start_next_connect(L);
    bool connected_all =
        run_until(L, all_connected, L->connect_t0 + (uint64_t)(o->connect_timeout * 1e9)) && L->up == o->devices;
    double connect_s = (double)((L->connect_t1 > L->connect_t0 ? L->connect_t1 : now_ns()) - L->connect_t0) * 1e-9;
    long rss1 = proc_rss_kb(0);
    long srss1 = o->server_pid ? proc_rss_kb(o->server_pid) : -1;
    double scpu1 = o->server_pid ? proc_cpu_s(o->server_pid) : -1;
    double ccpu1 = self_cpu_s();
    unsigned up_after_connect = L->up;
    printf("%sconnect: %u/%u devices up in %.2f s (%.0f connects/s), %u TLS/socket failures, %u refused, "
           "%u closed before CONNACK\n",
           o->label, L->up, o->devices, connect_s, connect_s > 0 ? L->up / connect_s : 0, L->failed_tls, L->refused,
           L->closed_early);
    if (L->refused)
        printf("%s  CONNACK codes: 1:%u 2:%u 3:%u 4:%u 5:%u\n", o->label, L->connack_codes[1], L->connack_codes[2],
               L->connack_codes[3], L->connack_codes[4], L->connack_codes[5]);

    /* ---- telemetry phase ---- */
    L->load_t0 = now_ns();
    L->load_t1 = L->load_t0 + (uint64_t)(o->duration * 1e9);
    L->publishing = true;
    if (o->rate > 0) {
        L->pace = event_new(L->base, -1, EV_PERSIST, on_pace, L);
        event_add(L->pace, &one_ms);
    } else {
        for (unsigned k = 0; k < o->window; k++)
            for (unsigned i = 0; i < o->devices; i++)
                if (L->devs[i].state == DEV_UP)
                    dev_publish(&L->devs[i]);
    }
    run_until(L, load_window_over, L->load_t1 + 1000000000ull);
    L->publishing = false;
    uint64_t sent_in_window = L->sent, acked_in_window = L->acked;
    bool drained_ok = run_until(L, drained, now_ns() + 30ull * 1000000000ull);
    double load_s = (double)((L->last_ack_ns > L->load_t0 ? L->last_ack_ns : now_ns()) - L->load_t0) * 1e-9;
    long rss2 = proc_rss_kb(0);
    long srss2 = o->server_pid ? proc_rss_kb(o->server_pid) : -1;
    double scpu2 = o->server_pid ? proc_cpu_s(o->server_pid) : -1;
    double ccpu2 = self_cpu_s(), load_avg2 = loadavg1();
    long long accepted1 = o->admin_port ? admin_counter(o->admin_port, "d2c.accepted") : -1;

    uint64_t gap = L->sent - L->acked;
    double rate = load_s > 0 ? (double)L->acked / load_s : 0;
    double p50 = hist_quantile(L, 0.50), p99 = hist_quantile(L, 0.99);
    double client_kb = up_after_connect ? (double)(rss1 - rss0) / up_after_connect : 0;
    double server_kb = o->server_pid && up_after_connect ? (double)(srss1 - srss0) / up_after_connect : 0;
    printf("%stelemetry: %" PRIu64 " QoS 1 PUBLISH (%zu-byte payload) sent, %" PRIu64 " PUBACK in %.2f s: %.0f msgs/s"
           "%s (sent in the %.0f s window: %" PRIu64 ", acked in it: %" PRIu64 ")\n",
           o->label, L->sent, o->payload, L->acked, load_s, rate, o->rate > 0 ? "" : " flat out", o->duration,
           sent_in_window, acked_in_window);
    if (o->rate > 0)
        printf("%s  target %.0f msgs/s: %" PRIu64 " due but no device had room in its window of %u\n", o->label,
               o->rate, L->behind, o->window);
    printf("%sPUBACK latency: p50 %.0f us, p99 %.0f us, max %" PRIu64 " us\n", o->label, p50, p99, L->lat_max);
    printf("%scounts: sent %" PRIu64 ", acked %" PRIu64 ", gap %" PRIu64 "%s, unknown/duplicate acks %" PRIu64
           ", connections dropped during load %" PRIu64 " (%" PRIu64 " in flight lost)\n",
           o->label, L->sent, L->acked, gap, drained_ok ? "" : " (drain timed out after 30 s)", L->unknown_acks,
           L->dropped_conns, L->lost_in_flight);
    printf("%sclient: %.1f KB RSS per device (%ld KB for %u), CPU %.2f s connect + %.2f s load\n", o->label,
           client_kb, rss1 - rss0, up_after_connect, ccpu1 - ccpu0, ccpu2 - ccpu1);
    (void)rss2;
    if (o->server_pid)
        printf("%sserver pid %d: %.1f KB RSS per connection (%ld -> %ld KB, %ld KB after load), CPU %.2f s connect + "
               "%.2f s load (%.2f us/msg)\n",
               o->label, o->server_pid, server_kb, srss0, srss1, srss2, scpu1 - scpu0, scpu2 - scpu1,
               L->acked ? (scpu2 - scpu1) * 1e6 / (double)L->acked : 0);
    bool server_ok = true;
    if (o->admin_port) {
        long long got = accepted1 - accepted0;
        server_ok = accepted0 >= 0 && accepted1 >= 0 && got == (long long)L->acked;
        printf("%shub d2c.accepted: +%lld (PUBACKs counted %" PRIu64 ") %s\n", o->label, got, L->acked,
               server_ok ? "match" : "MISMATCH");
    }
    printf("%sload average %.2f before, %.2f after (2 cores shared)\n", o->label, load_avg0, load_avg2);
    printf("result: target=%s devices=%u up=%u connect_s=%.3f sent=%" PRIu64 " acked=%" PRIu64 " gap=%" PRIu64
           " unknown=%" PRIu64 " msgs_per_s=%.0f p50_us=%.0f p99_us=%.0f client_kb_per_dev=%.1f "
           "server_cpu_connect_s=%.2f server_cpu_load_s=%.2f server_kb_per_conn=%.1f server_accepted=%lld "
           "client_cpu_load_s=%.2f load1=%.2f\n",
           o->target == TARGET_SERVE ? "serve" : "mosquitto", o->devices, up_after_connect, connect_s, L->sent,
           L->acked, gap, L->unknown_acks, rate, p50, p99, client_kb, o->server_pid ? scpu1 - scpu0 : -1,
           o->server_pid ? scpu2 - scpu1 : -1, server_kb, o->admin_port ? accepted1 - accepted0 : -1,
           ccpu2 - ccpu1, load_avg2);
    fflush(stdout);

    bool ok = connected_all && gap == 0 && L->unknown_acks == 0 && drained_ok && server_ok && L->dropped_conns == 0;

    /* ---- goodbye: DISCONNECT, then close (bounded) ---- */
    L->stop = true;
    for (unsigned i = 0; i < o->devices; i++) {
        device_t *d = &L->devs[i];
        if (d->state == DEV_UP) {
            mqtt_packet_t p = { .type = MQTT_DISCONNECT };
            dev_send(d, &p);
        }
    }
    struct timeval flush = { 0, 300000 };
    event_base_loopexit(L->base, &flush);
    event_base_dispatch(L->base);
    for (unsigned i = 0; i < o->devices; i++) {
        if (L->devs[i].bev)
            bufferevent_free(L->devs[i].bev);
        mqtt_decoder_free(L->devs[i].dec);
    }
    if (L->pace)
        event_free(L->pace);
    event_free(L->tick);
    event_base_free(L->base);
    SSL_CTX_free(L->ssl_ctx);
    free(L->devs);
    free(L->slot_pid);
    free(L->slot_t);
    free(L->payload);
    free(L);
    return ok ? 0 : 1;
}
