/* Authentication: SAS token parsing, signing and verification with OpenSSL; thumbprints; the hub's checks. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include "auth.h"
#include "hub_internal.h"

hs_err_t hub_b64_encode(const void *data, size_t len, char *out, size_t cap)
{
    if (!out || (!data && len))
        return HS_EINVAL;
    size_t need = 4 * ((len + 2) / 3) + 1;
    if (need > cap || len > (size_t)INT32_MAX)
        return HS_ERANGE;
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    return HS_EOK;
}

hs_err_t hub_b64_decode(const char *text, unsigned char *out, size_t cap, size_t *len_out)
{
    if (!text || !out || !len_out)
        return HS_EINVAL;
    size_t n = strlen(text);
    if (n == 0 || n % 4 != 0 || n > (size_t)INT32_MAX)
        return HS_EPARSE;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        bool pad_ok = c == '=' && i >= n - 2 && (i == n - 1 || text[n - 1] == '=');
        if (!isalnum(c) && c != '+' && c != '/' && !pad_ok)
            return HS_EPARSE;
    }
    if (3 * (n / 4) > cap)
        return HS_ERANGE;
    int got = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
    if (got < 0)
        return HS_EPARSE;
    size_t len = (size_t)got;
    /* EVP_DecodeBlock counts padding as zero bytes: take them back off. */
    if (text[n - 1] == '=')
        len--;
    if (text[n - 2] == '=')
        len--;
    *len_out = len;
    return HS_EOK;
}

static bool url_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' ||
           c == '\'' || c == '(' || c == ')';
}

hs_err_t hub_url_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (url_unreserved(*p)) {
            if (o + 1 >= cap)
                return HS_ERANGE;
            out[o++] = (char)*p;
        } else {
            if (o + 3 >= cap)
                return HS_ERANGE;
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o >= cap)
        return HS_ERANGE;
    out[o] = '\0';
    return HS_EOK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

hs_err_t hub_url_decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return HS_EPARSE;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return HS_EPARSE;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0)
            return HS_EPARSE;
        if (o + 1 >= cap)
            return HS_ERANGE;
        out[o++] = (char)c;
    }
    if (o >= cap)
        return HS_ERANGE;
    out[o] = '\0';
    return HS_EOK;
}

static void set_why(char *why, size_t cap, const char *msg)
{
    if (why && cap)
        snprintf(why, cap, "%s", msg);
}

hs_err_t hub_sas_parse(const char *token, hub_sas_t *out, char *why, size_t cap)
{
    static const char prefix[] = "SharedAccessSignature ";
    if (!token || !out)
        return HS_EINVAL;
    memset(out, 0, sizeof *out);
    if (strncmp(token, prefix, sizeof prefix - 1) != 0) {
        set_why(why, cap, "token does not start with 'SharedAccessSignature '");
        return HS_EPARSE;
    }
    const char *p = token + sizeof prefix - 1;
    bool have_sr = false, have_sig = false, have_se = false;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t flen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', flen);
        if (!eq) {
            set_why(why, cap, "token field without '='");
            return HS_EPARSE;
        }
        size_t klen = (size_t)(eq - p);
        const char *v = eq + 1;
        size_t vlen = flen - klen - 1;
        if (klen == 2 && memcmp(p, "sr", 2) == 0) {
            if (vlen >= sizeof out->sr_raw || hub_url_decode(v, vlen, out->sr, sizeof out->sr)) {
                set_why(why, cap, "sr is too long or badly percent-encoded");
                return HS_EPARSE;
            }
            memcpy(out->sr_raw, v, vlen);
            out->sr_raw[vlen] = '\0';
            have_sr = true;
        } else if (klen == 3 && memcmp(p, "sig", 3) == 0) {
            char sig_text[HUB_SAS_FIELD_MAX];
            if (hub_url_decode(v, vlen, sig_text, sizeof sig_text) ||
                hub_b64_decode(sig_text, out->sig, sizeof out->sig, &out->sig_len)) {
                set_why(why, cap, "sig is not percent-encoded base64");
                return HS_EPARSE;
            }
            have_sig = true;
        } else if (klen == 2 && memcmp(p, "se", 2) == 0) {
            if (vlen == 0 || vlen >= sizeof out->se_raw) {
                set_why(why, cap, "se is empty or too long");
                return HS_EPARSE;
            }
            memcpy(out->se_raw, v, vlen);
            out->se_raw[vlen] = '\0';
            for (size_t i = 0; i < vlen; i++) {
                if (!isdigit((unsigned char)v[i])) {
                    set_why(why, cap, "se is not a decimal number of seconds");
                    return HS_EPARSE;
                }
            }
            errno = 0;
            long long se = strtoll(out->se_raw, NULL, 10);
            if (errno) {
                set_why(why, cap, "se is out of range");
                return HS_EPARSE;
            }
            out->se = se;
            have_se = true;
        } else if (klen == 3 && memcmp(p, "skn", 3) == 0) {
            if (hub_url_decode(v, vlen, out->skn, sizeof out->skn)) {
                set_why(why, cap, "skn is too long or badly percent-encoded");
                return HS_EPARSE;
            }
            out->has_skn = true;
        }
        p += flen;
        if (*p == '&')
            p++;
    }
    if (!have_sr || !have_sig || !have_se) {
        set_why(why, cap, "token lacks one of sr, sig, se");
        return HS_EPARSE;
    }
    return HS_EOK;
}

struct hub_sas_signer {
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
};

hub_sas_signer_t *hub_sas_signer_new(void)
{
    hub_sas_signer_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                            OSSL_PARAM_construct_end() };
    s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    s->ctx = s->mac ? EVP_MAC_CTX_new(s->mac) : NULL;
    if (!s->ctx || !EVP_MAC_CTX_set_params(s->ctx, params)) {
        hub_sas_signer_free(s);
        return NULL;
    }
    return s;
}

void hub_sas_signer_free(hub_sas_signer_t *s)
{
    if (!s)
        return;
    EVP_MAC_CTX_free(s->ctx);
    EVP_MAC_free(s->mac);
    free(s);
}

/* HMAC-SHA256 of msg under key, through the signer's context (the digest
 * was set once; init with a new key re-keys it) or HMAC() without one. */
static int hmac_sha256(hub_sas_signer_t *s, const unsigned char *key, size_t klen,
                       const unsigned char *msg, size_t n, unsigned char mac[32])
{
    if (!s) {
        unsigned int mlen = 0;
        return HMAC(EVP_sha256(), key, (int)klen, msg, n, mac, &mlen) && mlen == 32;
    }
    size_t out = 0;
    return EVP_MAC_init(s->ctx, key, klen, NULL) && EVP_MAC_update(s->ctx, msg, n) &&
           EVP_MAC_final(s->ctx, mac, &out, 32) && out == 32;
}

/* snprintf(out, cap, "%s%s...", parts...) without the format machinery
 * (every SAS connect builds several strings): the full length is returned,
 * the output truncated and terminated as snprintf would. */
static size_t str_join(char *out, size_t cap, const char *const *parts, size_t nparts)
{
    size_t w = 0;
    for (size_t i = 0; i < nparts; i++) {
        size_t n = strlen(parts[i]);
        if (w < cap) {
            size_t room = cap - 1 - w;
            memcpy(out + w, parts[i], n < room ? n : room);
        }
        w += n;
    }
    if (cap)
        out[w < cap ? w : cap - 1] = '\0';
    return w;
}

/* "%lld" of v. */
static void i64_text(int64_t v, char *out)
{
    char rev[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *out++ = '-';
    while (n)
        *out++ = rev[--n];
    *out = '\0';
}

static hs_err_t sas_sign(hub_sas_signer_t *signer, const char *key_b64, const char *sr_raw,
                         const char *se_raw, unsigned char mac[32])
{
    unsigned char key[128];
    size_t klen;
    if (hub_b64_decode(key_b64, key, sizeof key, &klen) != HS_EOK || klen == 0)
        return HS_EPARSE;
    char msg[HUB_SAS_FIELD_MAX + 40];
    const char *parts[] = { sr_raw, "\n", se_raw };
    size_t n = str_join(msg, sizeof msg, parts, 3);
    if (n >= sizeof msg)
        return HS_ERANGE;
    if (!hmac_sha256(signer, key, klen, (const unsigned char *)msg, (size_t)n, mac)) {
        OPENSSL_cleanse(key, sizeof key);
        return HS_EIO;
    }
    OPENSSL_cleanse(key, sizeof key);
    return HS_EOK;
}

hs_err_t hub_sas_verify(const hub_sas_t *t, const char *key_b64)
{
    return hub_sas_verify_with(NULL, t, key_b64);
}

hs_err_t hub_sas_verify_with(hub_sas_signer_t *s, const hub_sas_t *t, const char *key_b64)
{
    unsigned char mac[32];
    hs_err_t e = sas_sign(s, key_b64, t->sr_raw, t->se_raw, mac);
    if (e)
        return e;
    if (t->sig_len != sizeof mac || CRYPTO_memcmp(mac, t->sig, sizeof mac) != 0)
        return HS_EINVAL;
    return HS_EOK;
}

hs_err_t hub_sas_make(const char *key_b64, const char *resource_uri, int64_t expiry_unix,
                      const char *policy, char *out, size_t cap)
{
    return hub_sas_make_with(NULL, key_b64, resource_uri, expiry_unix, policy, out, cap);
}

hs_err_t hub_sas_make_with(hub_sas_signer_t *s, const char *key_b64, const char *resource_uri,
                           int64_t expiry_unix, const char *policy, char *out, size_t cap)
{
    char sr[HUB_SAS_FIELD_MAX], se[32], sig64[64], sig_enc[128];
    unsigned char mac[32];
    if (!key_b64 || !resource_uri || !out)
        return HS_EINVAL;
    if (hub_url_encode(resource_uri, sr, sizeof sr))
        return HS_ERANGE;
    i64_text(expiry_unix, se);
    hs_err_t e = sas_sign(s, key_b64, sr, se, mac);
    if (e)
        return e;
    if (hub_b64_encode(mac, sizeof mac, sig64, sizeof sig64) ||
        hub_url_encode(sig64, sig_enc, sizeof sig_enc))
        return HS_ERANGE;
    const char *parts[] = { "SharedAccessSignature sr=", sr, "&sig=", sig_enc, "&se=", se, "&skn=",
                            policy };
    size_t n = str_join(out, cap, parts, policy ? 8 : 6);
    return n >= cap ? HS_ERANGE : HS_EOK;
}

bool hub_sas_scope_covers(const char *sr, const char *resource, bool exact_only)
{
    size_t sl = strlen(sr), rl = strlen(resource);
    if (sl && sr[sl - 1] == '/')
        sl--;
    if (sl > rl || (exact_only && sl != rl))
        return false;
    const char *slash = memchr(resource, '/', rl);
    size_t host_len = slash ? (size_t)(slash - resource) : rl;
    for (size_t i = 0; i < sl; i++) {
        if (i < host_len) {
            if (tolower((unsigned char)sr[i]) != tolower((unsigned char)resource[i]))
                return false;
        } else if (sr[i] != resource[i]) {
            return false;
        }
    }
    return sl == rl || resource[sl] == '/';
}

bool hub_thumbprint_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    for (;;) {
        while (*a == ':')
            a++;
        while (*b == ':')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        a++;
        b++;
    }
}

/* ---- the hub's checks ---------------------------------------------------- */

static int64_t hub_now_unix(const hub_t *hub)
{
    return sim_kernel_epoch(hub->k) + (int64_t)(sim_kernel_now(hub->k) / SIM_SEC);
}

static void auth_emit(hub_t *hub, const char *identity, const char *outcome)
{
    sim_tf_t f[] = { TF_STR("id", identity), TF_STR("outcome", outcome) };
    sim_kernel_emit(hub->k, "hub.auth", f, 2);
}

hub_err_t hub_auth_check_device(hub_t *hub, uint32_t rec, const char *token)
{
    const hub_rec_t *r = &hub->recs[rec];
    const char *key = hub_str(hub, r->key_off);
    hub_sas_t t;
    if (hub_sas_parse(token, &t, NULL, 0) != HS_EOK) {
        if (hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS)) {
            auth_emit(hub, key, "malformed-accepted");
            return HUB_EOK;
        }
        hub_ledger_add(&hub->ledger, HUB_L_AUTH_MALFORMED, 1);
        auth_emit(hub, key, "malformed");
        return HUB_EUNAUTHORIZED_ACCESS;
    }
    /* Expiry against virtual time: a token is valid while now < se. */
    int64_t now = hub_now_unix(hub);
    bool expired = hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS_EXPIRED_OBO) ? now > t.se
                                                                             : now >= t.se;
    if (expired && !hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS_EXPIRED)) {
        hub_ledger_add(&hub->ledger, HUB_L_AUTH_EXPIRED, 1);
        auth_emit(hub, key, "expired");
        return HUB_EUNAUTHORIZED_ACCESS;
    }
    /* The resource this identity authenticates for. */
    char resource[HUB_CONFIG_HOST_MAX + 2 * HUB_CONFIG_ID_MAX + 32];
    char dev[HUB_CONFIG_ID_MAX + 1], mod[HUB_CONFIG_ID_MAX + 1];
    hub_rec_ids(hub, r, dev, sizeof dev, mod, sizeof mod);
    const char *parts[] = { hub->cfg.host, "/devices/", dev, "/modules/", mod };
    (void)str_join(resource, sizeof resource, parts, mod[0] ? 5 : 3);
    /* A device-key token must name the identity itself; a policy token
     * (skn, DeviceConnect right) may name any parent of it. */
    const hub_config_policy_t *pol = NULL;
    if (t.has_skn) {
        pol = hub_config_find_policy(&hub->cfg, t.skn);
        if (!pol || !(pol->rights & HUB_RIGHT_DEVICE_CONNECT)) {
            hub_ledger_add(&hub->ledger, HUB_L_AUTH_BAD_SCOPE, 1);
            auth_emit(hub, key, "bad_policy");
            return HUB_EUNAUTHORIZED_ACCESS;
        }
    }
    if (!hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS_SCOPE) &&
        !hub_sas_scope_covers(t.sr, resource, pol == NULL)) {
        hub_ledger_add(&hub->ledger, HUB_L_AUTH_BAD_SCOPE, 1);
        auth_emit(hub, key, "bad_scope");
        return HUB_EUNAUTHORIZED_ACCESS;
    }
    if (!hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS_SIGNATURE)) {
        bool ok = false;
        if (pol) {
            ok = hub_sas_verify_with(hub->signer, &t, pol->primary_key) == HS_EOK ||
                 (pol->secondary_key[0] &&
                  hub_sas_verify_with(hub->signer, &t, pol->secondary_key) == HS_EOK);
        } else if (!r->x509) {
            char buf[HUB_KEY_TEXT_CAP];
            const char *pk = hub_rec_key(hub, r, HUB_KEY_PRIMARY, buf);
            ok = pk && hub_sas_verify_with(hub->signer, &t, pk) == HS_EOK;
            const char *sk = ok ? NULL : hub_rec_key(hub, r, HUB_KEY_SECONDARY, buf);
            ok = ok || (sk && hub_sas_verify_with(hub->signer, &t, sk) == HS_EOK);
        }
        if (!ok) {
            hub_ledger_add(&hub->ledger, HUB_L_AUTH_BAD_SIGNATURE, 1);
            auth_emit(hub, key, "bad_signature");
            return HUB_EUNAUTHORIZED_ACCESS;
        }
    }
    hub_ledger_add(&hub->ledger, HUB_L_AUTH_OK, 1);
    return HUB_EOK;
}

hub_err_t hub_auth_check_x509(hub_t *hub, uint32_t rec, const char *thumbprint)
{
    const hub_rec_t *r = &hub->recs[rec];
    bool ok = r->x509 && ((r->tp1_off && hub_thumbprint_equal(thumbprint, hub_str(hub, r->tp1_off))) ||
                          (r->tp2_off && hub_thumbprint_equal(thumbprint, hub_str(hub, r->tp2_off))));
    if (!ok && hub_faults_on(&hub->faults, HUB_FAULT_AUTH_X509_THUMBPRINT) && r->x509)
        ok = true;
    if (!ok) {
        hub_ledger_add(&hub->ledger, HUB_L_AUTH_BAD_THUMBPRINT, 1);
        auth_emit(hub, hub_str(hub, r->key_off), "bad_thumbprint");
        return HUB_EUNAUTHORIZED_ACCESS;
    }
    hub_ledger_add(&hub->ledger, HUB_L_AUTH_OK, 1);
    return HUB_EOK;
}

hub_err_t hub_service_authorize(hub_t *hub, const char *token, unsigned rights)
{
    if (!hub || !token)
        return HUB_EARGUMENT_NULL;
    hub_sas_t t;
    if (hub_sas_parse(token, &t, NULL, 0) != HS_EOK || !t.has_skn)
        return HUB_EUNAUTHORIZED_ACCESS;
    int64_t now = hub_now_unix(hub);
    if (now >= t.se && !hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS_EXPIRED))
        return HUB_EUNAUTHORIZED_ACCESS;
    const hub_config_policy_t *pol = hub_config_find_policy(&hub->cfg, t.skn);
    if (!pol || (pol->rights & rights) != rights)
        return HUB_EUNAUTHORIZED_ACCESS;
    if (!hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS_SCOPE) &&
        !hub_sas_scope_covers(t.sr, hub->cfg.host, true))
        return HUB_EUNAUTHORIZED_ACCESS;
    if (!hub_faults_on(&hub->faults, HUB_FAULT_AUTH_SAS_SIGNATURE) &&
        hub_sas_verify_with(hub->signer, &t, pol->primary_key) != HS_EOK &&
        !(pol->secondary_key[0] && hub_sas_verify_with(hub->signer, &t, pol->secondary_key) == HS_EOK))
        return HUB_EUNAUTHORIZED_ACCESS;
    return HUB_EOK;
}
