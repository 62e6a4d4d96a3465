/* TLS for the served hub's listeners: the server context (certificate, key, optional client certificates) and client-certificate thumbprints. */
#ifndef SERVE_TLS_H
#define SERVE_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include "sim/errors.h"

/* "what: <OpenSSL's first queued error>" into why (the queue is cleared);
 * returns HS_EIO, for the callers' error paths. */
hs_err_t serve_tls_error(char *why, size_t cap, const char *what);

/* SHA-1 thumbprint as 40 uppercase hex digits + NUL. */
#define SERVE_TLS_THUMBPRINT_CAP 41

/* A server context from PEM files.  Clients MAY present a certificate
 * (X.509 device auth): it is requested, not required, and not chain-checked
 * here: the hub model compares its thumbprint with the registry's, as the
 * cloud hub does for self-signed device certificates.  HS_EIO with why. */
hs_err_t serve_tls_server_ctx(const char *cert_pem, const char *key_pem, SSL_CTX **out, char *why,
                              size_t cap);
/* Thumbprint of a certificate into out (cap >= SERVE_TLS_THUMBPRINT_CAP). */
void serve_tls_thumbprint(X509 *cert, char *out, size_t cap);
/* The peer's certificate thumbprint after the handshake; false when the
 * peer sent none. */
bool serve_tls_peer_thumbprint(SSL *ssl, char *out, size_t cap);

#endif
