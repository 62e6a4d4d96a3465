/* Identity import/export jobs over REST: POST /jobs/create, GET /jobs, GET and DELETE /jobs/{jobId}, on the hub's identity_io jobs. */
#include <stdio.h>
#include <string.h>
#include "http_internal.h"

/*
 * The body is what the service SDKs send (azure-iothub Registry
 * exportDevicesToBlob / importDevicesFromBlob [sdk]): {"type": "export" |
 * "import", "outputBlobContainerUri", "inputBlobContainerUri",
 * "excludeKeysInExport"}.  The hub runs the job at once, so the answer is
 * already "completed" or "failed" (docs/identity-import-export.md); a
 * client polling GET /jobs/{jobId} sees the same document.  A job ended
 * cannot be cancelled: DELETE answers its document unchanged [?].
 */

static void not_found(http_ctx_t *c, http_resp_t *r)
{
    char detail[300];
    snprintf(detail, sizeof detail, "no job with id '%.200s'", c->token ? c->token : "");
    http_resp_error(r, c->api->opts.breaks, 404, "JobNotFound", "the job does not exist", detail);
}

bool http_io_job_create(http_ctx_t *c, http_resp_t *r)
{
    char why[320];
    json_t *body = http_body_json(c->req, false, why, sizeof why);
    if (!body) {
        http_resp_hub_error(r, c->api->opts.breaks, HUB_EARGUMENT_INVALID, why);
        return true;
    }
    json_t *doc = NULL;
    why[0] = '\0';
    hub_err_t e = hub_io_job_create(c->api->hub, body, &doc, why, sizeof why);
    json_decref(body);
    if (e)
        http_resp_hub_error(r, c->api->opts.breaks, e, why);
    else
        http_resp_json(r, doc);
    return true;
}

bool http_io_job_get(http_ctx_t *c, http_resp_t *r)
{
    json_t *doc = NULL;
    if (!hub_io_job_get(c->api->hub, c->token, &doc))
        not_found(c, r);
    else
        http_resp_json(r, doc);
    return true;
}

bool http_io_job_list(http_ctx_t *c, http_resp_t *r)
{
    json_t *all = hub_io_job_list(c->api->hub);
    if (all)
        http_resp_json(r, all);
    else
        r->failed = true;
    return true;
}
