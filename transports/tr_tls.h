/* Client TLS settings (OpenSSL): trusted CAs from a file or the system store, hostname check, optional client certificate. */
#ifndef TRANSPORTS_TR_TLS_H
#define TRANSPORTS_TR_TLS_H

#include <stddef.h>
#include "sim/errors.h"

typedef struct tr_tls tr_tls_t;

typedef struct {
    const char *ca_file;   /* PEM; NULL or "" = the system's default store */
    const char *cert_file; /* client certificate (PEM), or NULL */
    const char *key_file;  /* its private key, or NULL (then in cert_file) */
} tr_tls_opts_t;

/* HS_EIO with the file and OpenSSL's reason when a file cannot be used. */
hs_err_t tr_tls_new(const tr_tls_opts_t *o, tr_tls_t **out, char *why, size_t cap);
void tr_tls_free(tr_tls_t *t);

/* A new SSL object for one connection to host (SNI and the hostname or IP
 * check), as void * so callers need no OpenSSL headers.  NULL on failure. */
void *tr_tls_new_ssl(tr_tls_t *t, const char *host);

/* The newest OpenSSL error of this thread plus the verify result of ssl,
 * as one sentence ("certificate verify failed: unable to get local issuer
 * certificate"); clears the error queue. */
void tr_tls_describe_error(void *ssl, unsigned long err, char *buf, size_t cap);

#endif
