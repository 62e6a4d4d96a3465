/* Authentication: SAS tokens (HMAC-SHA256 via OpenSSL), base64 and URL encoding, X.509 thumbprints. */
#ifndef HUB_AUTH_H
#define HUB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"

/* Base64 (standard alphabet, padded) via OpenSSL EVP.  encode: NUL-terminated;
 * HS_ERANGE when cap is too small.  decode: HS_EPARSE for bad text. */
hs_err_t hub_b64_encode(const void *data, size_t len, char *out, size_t cap);
hs_err_t hub_b64_decode(const char *text, unsigned char *out, size_t cap, size_t *len_out);

/* Percent-encode as JavaScript's encodeURIComponent (what the SDKs sign);
 * percent-decode (HS_EPARSE on a bad escape).  NUL-terminated; HS_ERANGE
 * when cap is too small. */
hs_err_t hub_url_encode(const char *s, char *out, size_t cap);
hs_err_t hub_url_decode(const char *s, size_t len, char *out, size_t cap);

#define HUB_SAS_FIELD_MAX 512

/* A parsed token.  sr_raw and se_raw are the fields as they appear in the
 * token (what was signed); sr is percent-decoded; sig is the decoded
 * signature bytes. */
typedef struct {
    char sr_raw[HUB_SAS_FIELD_MAX];
    char sr[HUB_SAS_FIELD_MAX];
    char se_raw[32];
    int64_t se;
    unsigned char sig[64];
    size_t sig_len;
    char skn[HUB_SAS_FIELD_MAX];
    bool has_skn;
} hub_sas_t;

/* "SharedAccessSignature sr=..&sig=..&se=..[&skn=..]" in any field order.
 * HS_EPARSE with the reason in why (may be NULL) for a malformed token. */
hs_err_t hub_sas_parse(const char *token, hub_sas_t *out, char *why, size_t cap);
/* HS_EOK when the signature matches HMAC-SHA256(b64decode(key_b64),
 * sr_raw + "\n" + se_raw) (constant-time compare); HS_EINVAL when it does
 * not; HS_EPARSE for a bad key. */
hs_err_t hub_sas_verify(const hub_sas_t *t, const char *key_b64);
/* Build a token for resource_uri (not yet encoded) expiring at expiry_unix;
 * policy NULL for a device token. */
hs_err_t hub_sas_make(const char *key_b64, const char *resource_uri, int64_t expiry_unix,
                      const char *policy, char *out, size_t cap);

/* A reusable HMAC-SHA256 signer.  HMAC() looks the algorithm up and builds
 * a context on every call, which dominates signing a short SAS string; a
 * signer does that once (the hub holds one for its checks, a fleet one for
 * its devices' tokens).  Same bytes out as the functions above. */
typedef struct hub_sas_signer hub_sas_signer_t;
hub_sas_signer_t *hub_sas_signer_new(void); /* NULL when OpenSSL cannot provide HMAC */
void hub_sas_signer_free(hub_sas_signer_t *s);
/* As hub_sas_verify / hub_sas_make; s may be NULL (then they are those). */
hs_err_t hub_sas_verify_with(hub_sas_signer_t *s, const hub_sas_t *t, const char *key_b64);
hs_err_t hub_sas_make_with(hub_sas_signer_t *s, const char *key_b64, const char *resource_uri,
                           int64_t expiry_unix, const char *policy, char *out, size_t cap);

/* True when sr (decoded) names `resource` or a parent of it at a '/'
 * boundary ("host" covers "host/devices/d"); the host part compares
 * case-insensitively, the path exactly; one trailing '/' is ignored.
 * exact_only: only the resource itself. */
bool hub_sas_scope_covers(const char *sr, const char *resource, bool exact_only);

/* Thumbprints compare case-insensitively, ignoring ':' separators. */
bool hub_thumbprint_equal(const char *a, const char *b);

#endif
