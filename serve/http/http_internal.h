/* Private pieces shared by the REST API's files: the api record, the response builder, request helpers, route handlers. */
#ifndef SERVE_HTTP_INTERNAL_H
#define SERVE_HTTP_INTERNAL_H

#include <jansson.h>
#include "http_api.h"

/* A direct method call waiting for the hub's answer (http_methods.c). */
typedef struct http_call http_call_t;

struct http_api {
    hub_t *hub;
    http_api_opts_t opts;
    http_call_t *calls;   /* outstanding method calls, oldest first */
    uint64_t next_handle;
    size_t pending;       /* outstanding and not cancelled */
    size_t outstanding;
    struct http_blobs *blobs; /* the local blob endpoint's store (http_blobs.c), made on first use */
    struct hub_jobs *jobs;    /* scheduled jobs (http_jobs.c), made on first use */
};

/* ---- response builder (http_response.c) ---------------------------------- */

/* Owns copies of every header and the body; an allocation failure turns
 * the response into a bare 500 when it is sent. */
typedef struct {
    int status;
    http_header_t *headers;
    size_t n_headers, cap_headers;
    char *body;
    size_t body_len;
    bool failed;
} http_resp_t;

void http_resp_init(http_resp_t *r, int status);
void http_resp_header(http_resp_t *r, const char *name, const char *value);
void http_resp_headerf(http_resp_t *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy a body and set Content-Type (NULL = none). */
void http_resp_body(http_resp_t *r, const void *body, size_t len, const char *content_type);
/* Serialize doc (compact, insertion order) as application/json; takes the reference. */
void http_resp_json(http_resp_t *r, json_t *doc);
/* A hub error: status from the table, iothub-errorcode header, the
 * {"Message":"ErrorCode:<Name>;...","ExceptionMessage":...} body. */
void http_resp_hub_error(http_resp_t *r, unsigned breaks, hub_err_t err, const char *detail);
/* An error outside the hub table (no route, wrong method), same shape. */
void http_resp_error(http_resp_t *r, unsigned breaks, int status, const char *name,
                     const char *message, const char *detail);
/* Hand the response to respond (if not NULL), then free it. */
void http_resp_send(http_resp_t *r, http_respond_fn respond, void *ctx);
void http_resp_free(http_resp_t *r);
const char *http_reason(int status);

/* ---- request helpers (http_request.c) ------------------------------------ */

const char *http_req_header(const http_request_t *req, const char *name);
/* True when the query has parameter `name` (with or without '='); its
 * percent-decoded value goes to value (may be NULL).  A value that does not
 * fit or decode leaves value "" and still answers true. */
bool http_query_get(const char *query, const char *name, char *value, size_t cap);
/* If-Match without surrounding spaces and quotes ("*" stays "*"); NULL when
 * the header is absent or the IF_MATCH_IGNORED break is armed. */
const char *http_req_if_match(const http_api_t *api, const http_request_t *req, char *buf,
                              size_t cap);
/* Body as JSON: an object (or any value when any_value) or a precise reason
 * in why ("line 1, column 7: ..."). */
json_t *http_body_json(const http_request_t *req, bool any_value, char *why, size_t cap);

#define HTTP_MAX_SEGMENTS 8
#define HTTP_SEGMENT_CAP 1024

/* ---- routes ---------------------------------------------------------------- */

/* What a handler gets: the request, its decoded path parameters, and where
 * to answer.  A handler fills r and returns true (sent by the dispatcher),
 * or takes over answering (returns false, sets *handle). */
typedef struct {
    http_api_t *api;
    const http_request_t *req;
    const char *query;      /* "" when none */
    const char *dev;        /* {d}: device id */
    const char *mod;        /* {m}: module id, NULL on device routes */
    const char *token;      /* {t}: lock token */
    http_respond_fn respond;
    void *ctx;
    uint64_t handle;
} http_ctx_t;

typedef bool (*http_route_fn)(http_ctx_t *c, http_resp_t *r);

/* http_registry.c */
bool http_registry_get(http_ctx_t *c, http_resp_t *r);
bool http_registry_put(http_ctx_t *c, http_resp_t *r);
bool http_registry_delete(http_ctx_t *c, http_resp_t *r);
bool http_registry_list(http_ctx_t *c, http_resp_t *r);
bool http_registry_list_modules(http_ctx_t *c, http_resp_t *r);
bool http_registry_statistics(http_ctx_t *c, http_resp_t *r);
bool http_registry_purge_c2d(http_ctx_t *c, http_resp_t *r);

/* http_twins.c */
bool http_twin_get(http_ctx_t *c, http_resp_t *r);
bool http_twin_patch(http_ctx_t *c, http_resp_t *r);
bool http_twin_put(http_ctx_t *c, http_resp_t *r);

/* http_query.c */
bool http_query_devices(http_ctx_t *c, http_resp_t *r);

/* http_jobs.c ({t}: the job id) */
bool http_jobs_create(http_ctx_t *c, http_resp_t *r);
bool http_jobs_get(http_ctx_t *c, http_resp_t *r);
bool http_jobs_cancel(http_ctx_t *c, http_resp_t *r);
bool http_jobs_query(http_ctx_t *c, http_resp_t *r);
void http_jobs_free(http_api_t *api);

/* http_io_jobs.c: identity import/export jobs ({t}: the job id) */
bool http_io_job_create(http_ctx_t *c, http_resp_t *r);
bool http_io_job_get(http_ctx_t *c, http_resp_t *r);
bool http_io_job_list(http_ctx_t *c, http_resp_t *r);

/* http_methods.c */
bool http_method_invoke(http_ctx_t *c, http_resp_t *r);
void http_calls_cancel(http_api_t *api, uint64_t handle);
void http_calls_free(http_api_t *api);

/* http_device.c (the caller has authenticated nothing: these authenticate
 * the device themselves through hub_device_request_begin) */
bool http_device_d2c(http_ctx_t *c, http_resp_t *r);
bool http_device_c2d_receive(http_ctx_t *c, http_resp_t *r);
bool http_device_c2d_settle(http_ctx_t *c, http_resp_t *r);
bool http_device_c2d_abandon(http_ctx_t *c, http_resp_t *r);

/* http_uploads.c (device routes; authenticate the device themselves) */
bool http_upload_start(http_ctx_t *c, http_resp_t *r);
bool http_upload_notify(http_ctx_t *c, http_resp_t *r);

/* http_blobs.c: a request for the upload container's path (before routing;
 * its own auth and body cap).  false when the path is not a blob path. */
bool http_blob_request(http_api_t *api, const http_request_t *req, size_t path_len,
                       const char *query, http_resp_t *r);
void http_blobs_free(struct http_blobs *s);

#endif
