/* Test certificates for the served hub: a CA, a server certificate for localhost/127.0.0.1, and a device client certificate, made with OpenSSL's API. */
#include "serve/certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "serve/tls.h"

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for `key` named `cn`, signed by issuer_key (self-signed when
 * issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int days,
                       const char *const exts[][2], size_t n_exts)
{
    X509 *cert = X509_new();
    if (!cert)
        return NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *sn = NULL;
    int ok = RAND_bytes(serial, sizeof serial) == 1;
    serial[0] &= 0x7F; /* positive */
    ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) != NULL;
    ok = ok && (sn = BN_to_ASN1_INTEGER(bn, NULL)) != NULL;
    ok = ok && X509_set_version(cert, 2) && X509_set_serialNumber(cert, sn);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL;
    ok = ok && X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, NULL) != NULL;
    ok = ok && X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"hubsim test",
                                          -1, -1, 0);
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    ok = ok && X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    for (size_t i = 0; ok && i < n_exts; i++)
        ok = add_ext(cert, issuer ? issuer : cert, OBJ_txt2nid(exts[i][0]), exts[i][1]);
    ok = ok && X509_sign(cert, issuer_key, EVP_sha256()) > 0;
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static hs_err_t write_pem(const char *dir, const char *file, X509 *cert, EVP_PKEY *key, char *why,
                          size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(why, cap, "%s: %s", path, strerror(errno));
        return HS_EIO;
    }
    if (key)
        fchmod(fileno(f), 0600);
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok)
        return serve_tls_error(why, cap, path);
    return HS_EOK;
}

hs_err_t serve_certs_make(const char *dir, const char *extra_host, const char *client_cn, int days,
                          char *why, size_t cap)
{
    if (!dir || !*dir || days <= 0 || !client_cn || !*client_cn) {
        snprintf(why, cap, "a directory, a client name and a positive validity are required");
        return HS_EINVAL;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(why, cap, "%s: %s", dir, strerror(errno));
        return HS_EIO;
    }
    char san[512];
    int n = snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1");
    if (extra_host && *extra_host) {
        /* an address literal goes in as IP:, a name as DNS: */
        unsigned char probe[16];
        int is_ip = inet_pton(AF_INET, extra_host, probe) == 1 || inet_pton(AF_INET6, extra_host, probe) == 1;
        n += snprintf(san + n, sizeof san - (size_t)n, ",%s:%s", is_ip ? "IP" : "DNS", extra_host);
    }
    if ((size_t)n >= sizeof san) {
        snprintf(why, cap, "host name too long: %s", extra_host);
        return HS_EINVAL;
    }
    static const char *const ca_exts[][2] = {
        { "basicConstraints", "critical,CA:TRUE" },
        { "keyUsage", "critical,keyCertSign,cRLSign" },
        { "subjectKeyIdentifier", "hash" },
    };
    const char *const server_exts[][2] = {
        { "basicConstraints", "critical,CA:FALSE" },
        { "keyUsage", "critical,digitalSignature,keyEncipherment" },
        { "extendedKeyUsage", "serverAuth" },
        { "subjectKeyIdentifier", "hash" },
        { "authorityKeyIdentifier", "keyid" },
        { "subjectAltName", san },
    };
    static const char *const client_exts[][2] = {
        { "basicConstraints", "critical,CA:FALSE" },
        { "keyUsage", "critical,digitalSignature" },
        { "extendedKeyUsage", "clientAuth" },
        { "authorityKeyIdentifier", "keyid" },
    };
    hs_err_t rc = HS_EIO;
    EVP_PKEY *ca_key = new_key(), *srv_key = new_key(), *cli_key = new_key();
    X509 *ca = NULL, *srv = NULL, *cli = NULL;
    if (!ca_key || !srv_key || !cli_key) {
        rc = serve_tls_error(why, cap, "generating EC P-256 keys");
        goto out;
    }
    ca = make_cert(ca_key, "hubsim test CA", NULL, ca_key, days, ca_exts, 3);
    srv = ca ? make_cert(srv_key, "localhost", ca, ca_key, days, server_exts, 6) : NULL;
    cli = ca ? make_cert(cli_key, client_cn, ca, ca_key, days, client_exts, 4) : NULL;
    if (!ca || !srv || !cli) {
        rc = serve_tls_error(why, cap, "signing the certificates");
        goto out;
    }
    if ((rc = write_pem(dir, "ca.pem", ca, NULL, why, cap)) != HS_EOK ||
        (rc = write_pem(dir, "ca.key", NULL, ca_key, why, cap)) != HS_EOK ||
        (rc = write_pem(dir, "server.pem", srv, NULL, why, cap)) != HS_EOK ||
        (rc = write_pem(dir, "server.key", NULL, srv_key, why, cap)) != HS_EOK ||
        (rc = write_pem(dir, "client.pem", cli, NULL, why, cap)) != HS_EOK ||
        (rc = write_pem(dir, "client.key", NULL, cli_key, why, cap)) != HS_EOK)
        goto out;
    char thumb[SERVE_TLS_THUMBPRINT_CAP], path[1024];
    serve_tls_thumbprint(cli, thumb, sizeof thumb);
    snprintf(path, sizeof path, "%s/client.thumbprint", dir);
    FILE *f = fopen(path, "w");
    int written = f && fprintf(f, "%s\n", thumb) > 0;
    if (f && fclose(f) != 0)
        written = 0;
    if (!written) {
        snprintf(why, cap, "%s: %s", path, strerror(errno));
        rc = HS_EIO;
        goto out;
    }
    rc = HS_EOK;
out:
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
    return rc;
}
