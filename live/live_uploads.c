/* The live port's file uploads: the device asks for a SAS URI (POST /devices/{id}/files), writes the blob with it (Put Blob, or Put Block + Put Block List past 4 MiB), then notifies (POST /devices/{id}/files/notifications). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "live/live_internal.h"
#include "sim/hub/auth.h"

#define UPLOAD_BLOCK (4u << 20)  /* one request's body: serve's carrier takes at most 4 MiB, the SDK's block size */
#define UPLOAD_TOKEN_TTL_S 3600
#define BLOB_VERSION "2018-03-28"

enum { UP_START, UP_BLOB, UP_NOTIFY };

typedef struct live_upload {
    int stage;
    uint32_t dev;
    uint64_t tag;
    char *wid;
    char *correlation_id;
    char *blob_url_path; /* "/{container}/{blobName}" */
    char *sas;           /* "?sv=..." */
    char *blob_host;     /* the answer's hostName */
    uint64_t size, sent; /* bytes to write / written */
    uint32_t blocks;     /* staged so far (size > UPLOAD_BLOCK) */
    bool success;
    int status;
} live_upload_t;

static void upload_free(live_upload_t *u)
{
    if (!u)
        return;
    free(u->wid);
    free(u->correlation_id);
    free(u->blob_url_path);
    free(u->sas);
    free(u->blob_host);
    free(u);
}

void live_upload_drop(live_op_t *op)
{
    upload_free(op->call_ctx);
    op->call_ctx = NULL;
}

/* A device SAS token for the device (its registered or listed key), as tr_device signs one. */
static hs_err_t device_token(struct live_port *p, uint32_t dev, const char *wid, char *out, size_t cap)
{
    if (dev >= p->ndevs)
        return HS_EINVAL;
    const live_ident_t *id = &p->idents[p->dev_ident[dev]];
    char sr[600];
    snprintf(sr, sizeof sr, "%s/devices/%s", p->cs.host, wid);
    return hub_sas_make(id->key, sr, (int64_t)time(NULL) + UPLOAD_TOKEN_TTL_S, NULL, out, cap);
}

static void track(struct live_port *p, tr_http_req_t *req, live_upload_t *u)
{
    live_svc_track(p, OP_UPLOAD, req, u, 0);
}

static void note(struct live_port *p, const char *what, fleet_port_result_t r)
{
    char counter[96];
    if (r.code > 0)
        snprintf(counter, sizeof counter, "upload.%s.%d", what, r.code);
    else
        snprintf(counter, sizeof counter, "upload.%s.transport", what);
    live_note(p, counter, r.why);
}

/* POST /devices/{id}/files{suffix} with the device's token. */
static hs_err_t device_post(struct live_port *p, live_upload_t *u, const char *suffix, const char *body,
                            tr_http_req_t **req, char *why, size_t cap)
{
    char path[600], token[1024];
    if (tr_rest_identity_path("/devices", u->wid, NULL, suffix, path, sizeof path) != HS_EOK) {
        snprintf(why, cap, "device id too long: %s", u->wid);
        return HS_ERANGE;
    }
    if (device_token(p, u->dev, u->wid, token, sizeof token) != HS_EOK) {
        snprintf(why, cap, "cannot sign a device token for %s (is the key base64?)", u->wid);
        return HS_EINVAL;
    }
    return tr_rest_start(&p->rest, "POST", path, NULL, token, NULL, 0, body, strlen(body), req, why, cap);
}

void live_upload_start(void *port, uint32_t dev, const char *device_id, const char *blob_name, uint64_t tag)
{
    struct live_port *p = port;
    char buf[300], why[400] = "";
    live_upload_t *u = calloc(1, sizeof *u);
    if (!u)
        abort();
    u->stage = UP_START;
    u->dev = dev;
    u->tag = tag;
    u->wid = live_strdup(live_wire_id(p, device_id, buf, sizeof buf));
    json_t *b = json_pack("{s:s}", "blobName", blob_name);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    if (!body)
        abort();
    tr_http_req_t *req = NULL;
    hs_err_t e = device_post(p, u, "/files", body, &req, why, sizeof why);
    free(body);
    if (e != HS_EOK) {
        fleet_port_result_t r = { FLEET_PORT_TRANSPORT, 0, why };
        note(p, "start_failed", r);
        fleet_port_upload_started(p->fleet, dev, tag, r, NULL, NULL);
        upload_free(u);
        return;
    }
    track(p, req, u);
}

/* ---- the blob ------------------------------------------------------------------------------ */

/* The next blob request: Put Blob for up to one block, else Put Block per block and Put Block List. */
static hs_err_t blob_next(struct live_port *p, live_upload_t *u, tr_http_req_t **req, char *why, size_t cap)
{
    tr_http_target_t to = p->rest.https;
    if (strcasecmp(u->blob_host, p->cs.host) != 0) {
        to.host = u->blob_host; /* a storage account elsewhere: dial it by name on 443 */
        to.tls_name = u->blob_host;
        to.port = 443;
    }
    static const char zeros[4096];
    char query[160] = "";
    const char *blob_type = NULL;
    char *body = NULL, *xml = NULL;
    size_t len = 0;
    bool single = u->size <= UPLOAD_BLOCK;
    if (single || u->sent < u->size) {
        len = single ? (size_t)u->size : (size_t)(u->size - u->sent < UPLOAD_BLOCK ? u->size - u->sent : UPLOAD_BLOCK);
        body = malloc(len ? len : 1);
        if (!body)
            abort();
        for (size_t i = 0; i < len; i += sizeof zeros)
            memcpy(body + i, zeros, len - i < sizeof zeros ? len - i : sizeof zeros);
        if (single) {
            blob_type = "BlockBlob";
        } else {
            char raw[16], id[32];
            snprintf(raw, sizeof raw, "blk%08u", u->blocks);
            EVP_EncodeBlock((unsigned char *)id, (const unsigned char *)raw, (int)strlen(raw));
            snprintf(query, sizeof query, "&comp=block&blockid=%s", id);
        }
    } else {
        size_t cap_xml = 64 + (size_t)u->blocks * 40;
        xml = malloc(cap_xml);
        if (!xml)
            abort();
        size_t n = (size_t)snprintf(xml, cap_xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        for (uint32_t b = 0; b < u->blocks; b++) {
            char raw[16], id[32];
            snprintf(raw, sizeof raw, "blk%08u", b);
            EVP_EncodeBlock((unsigned char *)id, (const unsigned char *)raw, (int)strlen(raw));
            n += (size_t)snprintf(xml + n, cap_xml - n, "<Latest>%s</Latest>", id);
        }
        snprintf(xml + n, cap_xml - n, "</BlockList>");
        body = xml;
        len = strlen(xml);
        snprintf(query, sizeof query, "&comp=blocklist");
    }
    size_t plen = strlen(u->blob_url_path) + strlen(u->sas) + strlen(query) + 1;
    char *path = malloc(plen);
    if (!path)
        abort();
    snprintf(path, plen, "%s%s%s", u->blob_url_path, u->sas, query);
    tr_header_t h[3];
    size_t nh = 0;
    h[nh++] = (tr_header_t){ "x-ms-version", BLOB_VERSION };
    if (blob_type)
        h[nh++] = (tr_header_t){ "x-ms-blob-type", blob_type };
    if (xml)
        h[nh++] = (tr_header_t){ "Content-Type", "application/xml" };
    tr_http_request_t rq = { .method = "PUT", .path = path, .headers = h, .n_headers = nh, .body = body,
                             .body_len = len };
    hs_err_t e = tr_http_start(&to, &rq, req, why, cap);
    free(path);
    free(body);
    if (e == HS_EOK && !single) {
        if (u->sent < u->size) {
            u->sent += len;
            u->blocks++;
        } else {
            u->sent = u->size + 1; /* the list is on its way */
        }
    }
    return e;
}

static hs_err_t notify_start(struct live_port *p, live_upload_t *u, tr_http_req_t **req, char *why, size_t cap)
{
    json_t *b = json_pack("{s:s,s:b,s:i,s:s}", "correlationId", u->correlation_id, "isSuccess", u->success,
                          "statusCode", u->status, "statusDescription",
                          u->success ? "uploaded" : "the device's transfer failed");
    char *body = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(b);
    if (!body)
        abort();
    hs_err_t e = device_post(p, u, "/files/notifications", body, req, why, cap);
    free(body);
    return e;
}

void live_upload_notify(void *port, uint32_t dev, const char *device_id, const char *correlation_id,
                        const char *blob_name, uint64_t size, bool success, int status, uint64_t tag)
{
    struct live_port *p = port;
    (void)blob_name;
    char buf[300], why[400] = "";
    live_upload_t *u = NULL;
    /* the SAS URI parts were kept at the start, under the correlation id */
    for (size_t i = 0; i < p->nheld; i++)
        if (strcmp(p->held[i]->correlation_id, correlation_id) == 0) {
            u = p->held[i];
            p->held[i] = p->held[--p->nheld];
            break;
        }
    if (!u) {
        u = calloc(1, sizeof *u);
        if (!u)
            abort();
        u->wid = live_strdup(live_wire_id(p, device_id, buf, sizeof buf));
        u->correlation_id = live_strdup(correlation_id);
        success = false; /* no SAS URI to write with: the device can only report the failure */
    }
    u->dev = dev;
    u->tag = tag;
    u->size = size;
    u->success = success;
    u->status = status;
    tr_http_req_t *req = NULL;
    hs_err_t e;
    if (success && u->blob_url_path) {
        u->stage = UP_BLOB;
        e = blob_next(p, u, &req, why, sizeof why);
    } else {
        u->stage = UP_NOTIFY;
        e = notify_start(p, u, &req, why, sizeof why);
    }
    if (e != HS_EOK) {
        fleet_port_result_t r = { FLEET_PORT_TRANSPORT, 0, why };
        note(p, "notify_failed", r);
        fleet_port_upload_notified(p->fleet, dev, tag, r);
        upload_free(u);
        return;
    }
    track(p, req, u);
}

/* ---- answers ---------------------------------------------------------------------------------- */

/* The start's answer: keep the SAS URI parts for the notify, hand the ids to the fleet. */
static fleet_port_result_t on_started(struct live_port *p, live_upload_t *u, const tr_http_response_t *resp,
                                      char *why, size_t cap)
{
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *corr = json_string_value(json_object_get(doc, "correlationId"));
    const char *host = json_string_value(json_object_get(doc, "hostName"));
    const char *container = json_string_value(json_object_get(doc, "containerName"));
    const char *blob = json_string_value(json_object_get(doc, "blobName"));
    const char *sas = json_string_value(json_object_get(doc, "sasToken"));
    if (!corr || !host || !container || !blob || !sas) {
        json_decref(doc);
        snprintf(why, cap, "POST /devices/%s/files answered %d without correlationId, hostName, containerName, "
                 "blobName and sasToken", u->wid, resp->status);
        return (fleet_port_result_t){ FLEET_PORT_TRANSPORT, resp->status, why };
    }
    u->correlation_id = live_strdup(corr);
    u->blob_host = live_strdup(host);
    size_t n = strlen(sas) + 2;
    u->sas = malloc(n);
    if (!u->sas)
        abort();
    snprintf(u->sas, n, "%s%s", sas[0] == '?' ? "" : "?", sas); /* the SDK appends it to the URL as is */
    n = strlen(container) + strlen(blob) + 3;
    u->blob_url_path = malloc(n);
    if (!u->blob_url_path)
        abort();
    snprintf(u->blob_url_path, n, "/%s/%s", container, blob);
    fleet_port_result_t r = { 0, resp->status, NULL };
    fleet_port_upload_started(p->fleet, u->dev, u->tag, r, corr, blob);
    json_decref(doc);
    p->held = live_grow(p->held, &p->capheld, p->nheld + 1, sizeof *p->held);
    p->held[p->nheld++] = u;
    return r;
}

void live_upload_finish(struct live_port *p, live_op_t *op, fleet_port_result_t r)
{
    live_upload_t *u = op->call_ctx;
    op->call_ctx = NULL;
    char why[400]; /* the reasons of the next stages */
    if (u->stage == UP_START) {
        if (r.code == 0 && (r = on_started(p, u, tr_http_result(op->req), why, sizeof why)).code == 0)
            return; /* held until the notify */
        note(p, "start_failed", r);
        fleet_port_upload_started(p->fleet, u->dev, u->tag, r, NULL, NULL);
        upload_free(u);
        return;
    }
    tr_http_req_t *req = NULL;
    hs_err_t e = HS_EOK;
    if (u->stage == UP_BLOB && r.code == 0) {
        if (u->size > UPLOAD_BLOCK && u->sent <= u->size) {
            e = blob_next(p, u, &req, why, sizeof why); /* the next block, or the list */
        } else {
            u->stage = UP_NOTIFY;
            e = notify_start(p, u, &req, why, sizeof why);
        }
        if (e == HS_EOK) {
            track(p, req, u);
            return;
        }
        r = (fleet_port_result_t){ FLEET_PORT_TRANSPORT, 0, why };
    }
    if (r.code) /* a refused blob write is not notified: the upload's SAS expires on the hub */
        note(p, u->stage == UP_BLOB ? "notify_failed.blob" : "notify_failed", r);
    fleet_port_upload_notified(p->fleet, u->dev, u->tag, r);
    upload_free(u);
}

void live_uploads_free(struct live_port *p)
{
    for (size_t i = 0; i < p->nheld; i++)
        upload_free(p->held[i]);
    free(p->held);
    p->held = NULL;
    p->nheld = p->capheld = 0;
}
