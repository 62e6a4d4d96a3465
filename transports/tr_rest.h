/* The hub's REST API as a client sees it: service SAS, registry, twins, direct methods, device D2C/C2D over HTTPS, error bodies decoded. */
#ifndef TRANSPORTS_TR_REST_H
#define TRANSPORTS_TR_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"
#include "transports/tr_connstr.h"
#include "transports/tr_http.h"

/*
 * Requests are started, not awaited (tr_http_done / tr_http_call waits):
 * a direct method stays pending until its device answers.  Ids are
 * percent-encoded as the SDKs do (encodeURIComponent); every request
 * carries `api-version`.  Service requests sign a fresh one-hour token
 * from the connection string's policy key unless a token is given.
 */

#define TR_API_VERSION "2021-04-12"

typedef struct {
    tr_http_target_t https;
    char host_name[256]; /* the hub's name: what tokens are signed for */
    char key_name[128];
    char key[128];
} tr_rest_t;

/* From a parsed connection string; loop and tls owned by the caller. */
void tr_rest_init(tr_rest_t *r, const tr_connstr_t *cs, tr_loop_t *l, tr_tls_t *tls);
/* A service token for the policy of the connection string, valid ttl s. */
hs_err_t tr_rest_service_token(const tr_rest_t *r, int64_t ttl_s, char *out, size_t cap);

/* Any request: path without the query (api-version is added; extra_query
 * "reject" etc. appended), auth NULL = a fresh service token, "" = none. */
hs_err_t tr_rest_start(const tr_rest_t *r, const char *method, const char *path, const char *extra_query,
                       const char *auth, const tr_header_t *headers, size_t n_headers, const void *body,
                       size_t body_len, tr_http_req_t **out, char *why, size_t cap);

/* "/devices/{id}[/modules/{mid}]" and friends with ids percent-encoded;
 * HS_ERANGE when cap is too small. */
hs_err_t tr_rest_identity_path(const char *prefix, const char *device_id, const char *module_id,
                               const char *suffix, char *out, size_t cap);

/* Registry: PUT (if_match NULL = create), GET, DELETE (if_match NULL = unconditional). */
hs_err_t tr_rest_identity_put(const tr_rest_t *r, const char *device_id, const char *module_id,
                              const char *json, const char *if_match, tr_http_req_t **out, char *why, size_t cap);
hs_err_t tr_rest_identity_get(const tr_rest_t *r, const char *device_id, const char *module_id,
                              tr_http_req_t **out, char *why, size_t cap);
hs_err_t tr_rest_identity_delete(const tr_rest_t *r, const char *device_id, const char *module_id,
                                 const char *if_match, tr_http_req_t **out, char *why, size_t cap);
/* Twins: method "GET", "PATCH" or "PUT" (if_match NULL = none). */
hs_err_t tr_rest_twin(const tr_rest_t *r, const char *method, const char *device_id, const char *module_id,
                      const char *json, const char *if_match, tr_http_req_t **out, char *why, size_t cap);
/* Direct method: body {"methodName",...} as given. */
hs_err_t tr_rest_method_invoke(const tr_rest_t *r, const char *device_id, const char *module_id,
                               const char *body, size_t len, tr_http_req_t **out, char *why, size_t cap);

/* Device side over HTTPS with a device token (SAS) as Authorization. */
hs_err_t tr_rest_d2c(const tr_rest_t *r, const char *device_id, const char *module_id, const char *token,
                     const tr_header_t *props, size_t n_props, const void *body, size_t len,
                     tr_http_req_t **out, char *why, size_t cap);
hs_err_t tr_rest_c2d_receive(const tr_rest_t *r, const char *device_id, const char *token,
                             tr_http_req_t **out, char *why, size_t cap);
/* how: "complete", "reject" or "abandon". */
hs_err_t tr_rest_c2d_settle(const tr_rest_t *r, const char *device_id, const char *token, const char *lock,
                            const char *how, tr_http_req_t **out, char *why, size_t cap);

/* An error answer decoded: the `iothub-errorcode` header, else the body's
 * {"Message":"ErrorCode:<Name>;<text>"}; *code from the hub's error table
 * by name (0 when the name is not in it); detail = the text. */
void tr_rest_error(const tr_http_response_t *resp, int *code, char *name, size_t name_cap, char *detail,
                   size_t detail_cap);

#endif
