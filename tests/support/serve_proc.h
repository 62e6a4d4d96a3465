/* Tests that need the served hub: start `hubsim serve` as a child on loopback ports the system picks, talk HTTP/HTTPS to it, stop it, all with bounded waits. */
#ifndef TEST_SERVE_PROC_H
#define TEST_SERVE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int out_fd;        /* the child's stdout+stderr */
    char *output;      /* everything read so far (NUL-terminated) */
    size_t len, cap;
    int mqtt, https, amqp, admin; /* ports from the banner; 0 when off */
    char service_cs[512];         /* the service connection string */
    int exit_status;   /* after sp_stop: exit code, or 128 + signal */
} serve_proc_t;

/* Starts `hubsim serve --mqtt-port 0 --https-port 0 --amqp-port 0
 * --admin-port 0 --cert fixtures/certs/server.pem --key ...` plus extra
 * (NULL-terminated) and waits up to 15 s for "ready".  Returns 0 on ready;
 * -1 when the child exited or timed out (output still collected). */
int sp_start(serve_proc_t *sp, const char *const *extra);
/* Runs hubsim serve with exactly these args (no defaults added) and waits
 * for it to exit (bounded: 15 s, then SIGKILL).  Returns the exit status. */
int sp_run_to_exit(serve_proc_t *sp, const char *const *args);
/* SIGTERM, then wait up to 15 s (SIGKILL after); collects the rest of the
 * output.  Returns the exit status. */
int sp_stop(serve_proc_t *sp);
void sp_free(serve_proc_t *sp);

/* One HTTP/1.1 request (Connection: close) to 127.0.0.1:port; over TLS
 * checked against fixtures/certs/ca.pem when tls.  headers: "Name: value"
 * lines each ending in \r\n, or NULL.  Returns the status (-1 on transport
 * failure); *resp (malloc'd, headers + body) may be NULL. */
int sp_http(int port, bool tls, const char *method, const char *path, const char *headers,
            const char *body, char **resp);
/* The body part of a response from sp_http (points into resp). */
const char *sp_body(const char *resp);
/* A SAS token for resource `sr` with `key` (base64), valid for ttl seconds
 * of wall time, with skn when non-NULL. */
void sp_sas(const char *sr, const char *key, const char *skn, long ttl, char *out, size_t cap);


/* A TLS client connection to 127.0.0.1:port (checked against the test CA;
 * with client_pem/client_key, presenting that certificate).  NULL on failure. */
typedef struct sp_tls sp_tls_t;
sp_tls_t *sp_tls_connect(int port, const char *client_pem, const char *client_key);
bool sp_tls_write(sp_tls_t *c, const void *bytes, size_t len);
/* Reads what arrives within timeout_ms into buf; returns the byte count,
 * 0 on timeout, -1 when the server closed the connection. */
long sp_tls_read(sp_tls_t *c, void *buf, size_t cap, int timeout_ms);
void sp_tls_close(sp_tls_t *c);

#endif
