/* Test certificates for the served hub: a CA, a server certificate for localhost/127.0.0.1, and a device client certificate, made with OpenSSL's API. */
#ifndef SERVE_CERTS_H
#define SERVE_CERTS_H

#include <stddef.h>
#include "sim/errors.h"

/* Writes into dir (created if missing): ca.pem, ca.key, server.pem,
 * server.key (SAN DNS:localhost, IP:127.0.0.1 plus `extra_host` when
 * non-NULL), client.pem, client.key (CN = client_cn, for X.509 device auth)
 * and client.thumbprint (its SHA-1 thumbprint, uppercase hex, the value a
 * device identity's x509Thumbprint takes).  Keys are EC P-256; validity
 * `days` from now.  HS_EIO/HS_EINVAL with why filled. */
hs_err_t serve_certs_make(const char *dir, const char *extra_host, const char *client_cn,
                          int days, char *why, size_t cap);

#endif
