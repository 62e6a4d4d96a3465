/* TLS for the served hub's listeners: the server context (certificate, key, optional client certificates) and client-certificate thumbprints. */
#include "serve/tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>

hs_err_t serve_tls_error(char *why, size_t cap, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(why, cap, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
    return HS_EIO;
}

static int accept_any_client_cert(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1; /* identity is decided by the thumbprint in the hub's registry */
}

hs_err_t serve_tls_server_ctx(const char *cert_pem, const char *key_pem, SSL_CTX **out, char *why,
                              size_t cap)
{
    *out = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *what = "creating the TLS context";
    int ok = ctx != NULL;
    if (ok) {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        what = cert_pem;
        ok = SSL_CTX_use_certificate_chain_file(ctx, cert_pem) == 1;
    }
    if (ok) {
        what = key_pem;
        ok = SSL_CTX_use_PrivateKey_file(ctx, key_pem, SSL_FILETYPE_PEM) == 1;
    }
    if (ok) {
        what = "the key does not match the certificate";
        ok = SSL_CTX_check_private_key(ctx) == 1;
    }
    if (!ok) {
        char label[1100];
        snprintf(label, sizeof label, "TLS: %s", what);
        SSL_CTX_free(ctx);
        return serve_tls_error(why, cap, label);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_client_cert);
    /* TLS 1.3 clients send their certificate only when asked in the
     * handshake; session tickets would let a resumed client skip it. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    /* an idle connection gives its 16 KB read buffer back (bench-serve:
     * 31.6 KB per connection before, mosquitto does the same) */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    *out = ctx;
    return HS_EOK;
}

void serve_tls_thumbprint(X509 *cert, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (!cert || X509_digest(cert, EVP_sha1(), md, &n) != 1 || cap < (size_t)n * 2 + 1)
        return;
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
}

bool serve_tls_peer_thumbprint(SSL *ssl, char *out, size_t cap)
{
    X509 *peer = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
    if (!peer)
        return false;
    serve_tls_thumbprint(peer, out, cap);
    X509_free(peer);
    return out[0] != '\0';
}
