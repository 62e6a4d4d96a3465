/* REST helpers for the service- and device-side HTTPS cases of jobs, file uploads and twin queries: signed requests, status and JSON checks. */
#ifndef CONFORMANCE_CASE_REST_H
#define CONFORMANCE_CASE_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "conformance/case.h"

#define CONF_REST_API "api-version=2021-04-12"

/* Hub settings: the policy "owner" (every right, CONF_KEY_B) plus the
 * top-level members in extra (NULL: none; else ",\"fileUpload\":{...}"). */
bool conf_rest_setup(conf_ctx_t *c, const char *extra);

/* An extra request header (name NULL: none). */
typedef struct {
    const char *name;
    const char *value;
} conf_rest_header_t;

/* One request signed with an owner token; "?api-version=..." is added to
 * path; body NULL = none.  false (ERROR decided) when it cannot be signed;
 * *r is the answer. */
bool conf_rest_service(conf_ctx_t *c, const char *method, const char *path, const char *body,
                       conf_rest_header_t extra, target_http_response_t *r);
/* The same with two extra headers. */
bool conf_rest_service2(conf_ctx_t *c, const char *method, const char *path, const char *body,
                        conf_rest_header_t extra, conf_rest_header_t extra2, target_http_response_t *r);
/* The same signed with a device token (CONF_KEY_A) of device_id. */
bool conf_rest_device(conf_ctx_t *c, const char *device_id, const char *method, const char *path,
                      const char *body, target_http_response_t *r);
/* A request with no Authorization and the path as given (blob requests). */
void conf_rest_plain(conf_ctx_t *c, const char *method, const char *path, const char *body,
                     conf_rest_header_t extra, target_http_response_t *r);

/* Expect this HTTP status (the body goes into the observation). */
bool conf_rest_status(conf_ctx_t *c, const target_http_response_t *r, int want, const char *what);
/* The body as JSON (new reference); NULL with FAIL decided when it is not JSON. */
json_t *conf_rest_json(conf_ctx_t *c, const target_http_response_t *r, const char *what);

#endif
