/* Tests that need the served hub: start `hubsim serve` as a child on loopback ports the system picks, talk HTTP/HTTPS to it, stop it, all with bounded waits. */
#include "serve_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

#define WAIT_MS 15000

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append(serve_proc_t *sp, const char *buf, size_t n)
{
    if (sp->len + n + 1 > sp->cap) {
        size_t cap = (sp->len + n + 1) * 2;
        char *grown = realloc(sp->output, cap);
        if (!grown)
            return;
        sp->output = grown;
        sp->cap = cap;
    }
    memcpy(sp->output + sp->len, buf, n);
    sp->len += n;
    sp->output[sp->len] = '\0';
}

/* Reads what is there within timeout_ms; returns false at EOF. */
static bool pump(serve_proc_t *sp, int timeout_ms)
{
    struct pollfd pfd = { .fd = sp->out_fd, .events = POLLIN };
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return true;
    char buf[4096];
    ssize_t n = read(sp->out_fd, buf, sizeof buf);
    if (n <= 0)
        return false;
    append(sp, buf, (size_t)n);
    return true;
}

static int spawn(serve_proc_t *sp, const char *const *args, size_t n_args)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    const char **argv = calloc(n_args + 2, sizeof *argv);
    if (!argv)
        return -1;
    argv[0] = tu_hubsim_bin();
    for (size_t i = 0; i < n_args; i++)
        argv[i + 1] = args[i];
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        if (chdir(tu_source_dir()) != 0)
            _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    free(argv);
    close(fds[1]);
    sp->pid = pid;
    sp->out_fd = fds[0];
    return pid > 0 ? 0 : -1;
}

/* "mqtt:  127.0.0.1:PORT (...)" / "admin: http://127.0.0.1:PORT/ ...": the
 * port of the first address token after label. */
static int banner_port(const char *out, const char *label)
{
    const char *p = strstr(out, label);
    if (!p)
        return 0;
    p += strlen(label);
    while (*p == ' ')
        p++;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    size_t n = strcspn(p, " /\n");
    const char *colon = NULL;
    for (const char *q = p; q < p + n; q++)
        if (*q == ':')
            colon = q;
    return colon ? atoi(colon + 1) : 0;
}

int sp_start(serve_proc_t *sp, const char *const *extra)
{
    static const char *const base[] = { "serve", "--mqtt-port", "0", "--https-port", "0",
                                        "--amqp-port", "0", "--admin-port", "0",
                                        "--cert", "fixtures/certs/server.pem",
                                        "--key", "fixtures/certs/server.key" };
    size_t nb = sizeof base / sizeof base[0], ne = 0;
    while (extra && extra[ne])
        ne++;
    const char **args = calloc(nb + ne + 1, sizeof *args);
    memcpy(args, base, sizeof base);
    for (size_t i = 0; i < ne; i++)
        args[nb + i] = extra[i];
    memset(sp, 0, sizeof *sp);
    int rc = spawn(sp, args, nb + ne);
    free(args);
    if (rc != 0)
        return -1;
    long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline && !(sp->output && strstr(sp->output, "\nready\n")))
        if (!pump(sp, 100))
            break;
    if (!sp->output || !strstr(sp->output, "\nready\n"))
        return -1;
    sp->mqtt = banner_port(sp->output, "\nmqtt:");
    sp->https = banner_port(sp->output, "\nhttps:");
    sp->amqp = banner_port(sp->output, "\namqp:");
    sp->admin = banner_port(sp->output, "\nadmin:");
    const char *cs = strstr(sp->output, "service-connection-string: ");
    if (cs) {
        cs += strlen("service-connection-string: ");
        size_t n = strcspn(cs, "\n");
        snprintf(sp->service_cs, sizeof sp->service_cs, "%.*s", (int)n, cs);
    }
    return 0;
}

static int reap(serve_proc_t *sp)
{
    long deadline = now_ms() + WAIT_MS;
    int status = 0;
    for (;;) {
        pump(sp, 50);
        pid_t r = waitpid(sp->pid, &status, WNOHANG);
        if (r == sp->pid)
            break;
        if (now_ms() > deadline) {
            kill(sp->pid, SIGKILL);
            waitpid(sp->pid, &status, 0);
            break;
        }
    }
    while (pump(sp, 10) && sp->out_fd >= 0) {
        struct pollfd pfd = { .fd = sp->out_fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) <= 0)
            break;
    }
    sp->pid = 0;
    sp->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return sp->exit_status;
}

int sp_run_to_exit(serve_proc_t *sp, const char *const *args)
{
    size_t n = 0;
    while (args[n])
        n++;
    memset(sp, 0, sizeof *sp);
    if (spawn(sp, args, n) != 0)
        return -1;
    return reap(sp);
}

int sp_stop(serve_proc_t *sp)
{
    if (sp->pid > 0)
        kill(sp->pid, SIGTERM);
    return sp->pid > 0 ? reap(sp) : sp->exit_status;
}

void sp_free(serve_proc_t *sp)
{
    if (sp->pid > 0) {
        kill(sp->pid, SIGKILL);
        waitpid(sp->pid, NULL, 0);
    }
    if (sp->out_fd > 0)
        close(sp->out_fd);
    free(sp->output);
    memset(sp, 0, sizeof *sp);
}

/* ---- HTTP client ------------------------------------------------------------ */

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int sp_http(int port, bool tls, const char *method, const char *path, const char *headers,
            const char *body, char **resp)
{
    if (resp)
        *resp = NULL;
    int fd = connect_loopback(port);
    if (fd < 0)
        return -1;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    if (tls) {
        char ca[1024];
        snprintf(ca, sizeof ca, "%s/fixtures/certs/ca.pem", tu_source_dir());
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_load_verify_locations(ctx, ca, NULL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, "localhost");
        SSL_set1_host(ssl, "localhost");
        if (SSL_connect(ssl) != 1) {
            ERR_clear_error();
            SSL_free(ssl);
            SSL_CTX_free(ctx);
            close(fd);
            return -1;
        }
    }
    size_t blen = body ? strlen(body) : 0;
    size_t cap = strlen(method) + strlen(path) + (headers ? strlen(headers) : 0) + blen + 256;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
                     method, path, headers ? headers : "", blen, body ? body : "");
    int ok = tls ? SSL_write(ssl, req, n) == n : write(fd, req, (size_t)n) == n;
    free(req);
    serve_proc_t acc = { 0 };
    while (ok) {
        char buf[4096];
        int r = tls ? SSL_read(ssl, buf, sizeof buf) : (int)read(fd, buf, sizeof buf);
        if (r <= 0)
            break;
        append(&acc, buf, (size_t)r);
    }
    if (ssl) {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        ERR_clear_error();
    }
    close(fd);
    int status = -1;
    if (acc.output && strncmp(acc.output, "HTTP/1.1 ", 9) == 0)
        status = atoi(acc.output + 9);
    if (resp)
        *resp = acc.output;
    else
        free(acc.output);
    return status;
}

const char *sp_body(const char *resp)
{
    const char *p = resp ? strstr(resp, "\r\n\r\n") : NULL;
    return p ? p + 4 : "";
}

static void url_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p))
            out[o++] = (char)*p;
        else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

void sp_sas(const char *sr, const char *key, const char *skn, long ttl, char *out, size_t cap)
{
    unsigned char k[128], mac[32];
    int klen = EVP_DecodeBlock(k, (const unsigned char *)key, (int)strlen(key));
    for (size_t l = strlen(key); l && key[l - 1] == '='; l--)
        klen--;
    char esr[512], se[32], tosign[600], sig64[64], esig[128];
    url_encode(sr, esr, sizeof esr);
    snprintf(se, sizeof se, "%ld", (long)time(NULL) + ttl);
    int n = snprintf(tosign, sizeof tosign, "%s\n%s", esr, se);
    unsigned mlen = 0;
    HMAC(EVP_sha256(), k, klen, (unsigned char *)tosign, (size_t)n, mac, &mlen);
    EVP_EncodeBlock((unsigned char *)sig64, mac, (int)mlen);
    url_encode(sig64, esig, sizeof esig);
    snprintf(out, cap, "SharedAccessSignature sr=%s&sig=%s&se=%s%s%s", esr, esig, se, skn ? "&skn=" : "",
             skn ? skn : "");
}

/* ---- raw TLS client ------------------------------------------------------------ */

struct sp_tls {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

sp_tls_t *sp_tls_connect(int port, const char *client_pem, const char *client_key)
{
    sp_tls_t *c = calloc(1, sizeof *c);
    char path[1024];
    c->fd = connect_loopback(port);
    if (c->fd < 0) {
        free(c);
        return NULL;
    }
    c->ctx = SSL_CTX_new(TLS_client_method());
    snprintf(path, sizeof path, "%s/fixtures/certs/ca.pem", tu_source_dir());
    SSL_CTX_load_verify_locations(c->ctx, path, NULL);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (client_pem && client_key) {
        SSL_CTX_use_certificate_file(c->ctx, client_pem, SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(c->ctx, client_key, SSL_FILETYPE_PEM);
    }
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) {
        ERR_clear_error();
        sp_tls_close(c);
        return NULL;
    }
    return c;
}

bool sp_tls_write(sp_tls_t *c, const void *bytes, size_t len)
{
    return SSL_write(c->ssl, bytes, (int)len) == (int)len;
}

long sp_tls_read(sp_tls_t *c, void *buf, size_t cap, int timeout_ms)
{
    if (SSL_pending(c->ssl) == 0) {
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return 0;
    }
    int n = SSL_read(c->ssl, buf, (int)cap);
    if (n > 0)
        return n;
    int e = SSL_get_error(c->ssl, n);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_READ ? 0 : -1;
}

void sp_tls_close(sp_tls_t *c)
{
    if (!c)
        return;
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}
