/* Client TLS contexts: CA file or default store, peer and hostname verification, SNI, client certificates, readable errors. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "transports/tr_tls.h"

struct tr_tls {
    SSL_CTX *ctx;
};

static void ssl_reason(char *buf, size_t cap, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char r[256] = "unknown reason";
    if (e)
        ERR_error_string_n(e, r, sizeof r);
    ERR_clear_error();
    snprintf(buf, cap, "%s %s: %s", what, file, r);
}

hs_err_t tr_tls_new(const tr_tls_opts_t *o, tr_tls_t **out, char *why, size_t cap)
{
    *out = NULL;
    tr_tls_t *t = calloc(1, sizeof *t);
    if (!t)
        return HS_ENOMEM;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        free(t);
        return HS_ENOMEM;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    /* thousands of idle device connections share one context: free the
     * record buffers while a connection has nothing in flight */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* hubs close without close_notify: that is an end of stream, not an error */
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    hs_err_t e = HS_EOK;
    if (o && o->ca_file && *o->ca_file) {
        if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1) {
            ssl_reason(why, cap, "cannot load the CA file", o->ca_file);
            e = HS_EIO;
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        ssl_reason(why, cap, "cannot load the system CA store", "");
        e = HS_EIO;
    }
    if (e == HS_EOK && o && o->cert_file && *o->cert_file) {
        const char *key = o->key_file && *o->key_file ? o->key_file : o->cert_file;
        if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1) {
            ssl_reason(why, cap, "cannot load the client certificate", o->cert_file);
            e = HS_EIO;
        } else if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
            ssl_reason(why, cap, "cannot load the client key", key);
            e = HS_EIO;
        } else if (SSL_CTX_check_private_key(t->ctx) != 1) {
            ssl_reason(why, cap, "the client key does not match the certificate", o->cert_file);
            e = HS_EIO;
        }
    }
    if (e != HS_EOK) {
        tr_tls_free(t);
        return e;
    }
    *out = t;
    return HS_EOK;
}

void tr_tls_free(tr_tls_t *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

static int is_ip_literal(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

void *tr_tls_new_ssl(tr_tls_t *t, const char *host)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl)
        return NULL;
    X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
    if (is_ip_literal(host)) {
        X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    } else {
        SSL_set_tlsext_host_name(ssl, host);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(ssl, host);
    }
    return ssl;
}

void tr_tls_describe_error(void *ssl_v, unsigned long err, char *buf, size_t cap)
{
    SSL *ssl = ssl_v;
    char r[256] = "";
    if (!err)
        err = ERR_peek_last_error();
    if (err)
        ERR_error_string_n(err, r, sizeof r);
    ERR_clear_error();
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    const char *reason = err ? ERR_reason_error_string(err) : NULL;
    if (v != X509_V_OK)
        snprintf(buf, cap, "%s: %s", reason ? reason : "certificate verify failed",
                 X509_verify_cert_error_string(v));
    else if (reason)
        snprintf(buf, cap, "%s (%s)", reason, r);
    else if (*r)
        snprintf(buf, cap, "%s", r);
    else
        snprintf(buf, cap, "the peer closed the connection during the handshake");
}
