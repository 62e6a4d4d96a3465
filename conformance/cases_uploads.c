/* Conformance cases for file uploads: the correlation flow, the SAS URI and its expiry, notifications on and off, unknown correlation ids, the concurrent-upload limit. */
#include <stdio.h>
#include <string.h>

#include <proton/disposition.h>

#include "conformance/case.h"
#include "conformance/case_rest.h"
#include "conformance/wire_amqp_client.h"

/* Literals from docs/file-uploads.md: POST /devices/{id}/files answers
 * {correlationId, hostName, containerName, blobName = {deviceId}/{name},
 * sasToken starting with '?'} [doc]; POST .../files/notifications answers
 * 204 [doc]; notifications are off by default and delivered on
 * /messages/serviceBound/filenotifications when on [doc]; the SAS lives
 * 1 h [doc]; 10 concurrent uploads per device, then 403006
 * DeviceMaximumActiveFileUploadLimitExceeded [doc]; an unknown correlation
 * id is 400 [?]. */

#define SEC ((sim_time_t)1000000000)
#define WIRE TARGET_CAP_WIRE
#define VT TARGET_CAP_VIRTUAL_TIME
#define NOHDR ((conf_rest_header_t){ NULL, NULL })
#define NOTIFY_ON ",\"fileUpload\":{\"notifications\":true}"
/* lower case: only AMQP-ADDRESS-CASE's own case spells addresses otherwise */
#define FILENOTE_ADDR "/messages/servicebound/filenotifications"

typedef struct {
    char correlation[160];
    char host[160];
    char container[160];
    char blob[300];
    char sas[600];
} upload_t;

/* POST /devices/{id}/files for name; 200 with every member, else the verdict is decided. */
static bool start(conf_ctx_t *c, const char *device_id, const char *name, upload_t *u)
{
    char body[300], path[200];
    target_http_response_t r;
    snprintf(body, sizeof body, "{\"blobName\":\"%s\"}", name);
    snprintf(path, sizeof path, "/devices/%s/files", device_id);
    if (!conf_rest_device(c, device_id, "POST", path, body, &r) ||
        !conf_rest_status(c, &r, 200, "POST /devices/{id}/files: 200"))
        return false;
    json_t *doc = conf_rest_json(c, &r, "the answer is JSON");
    if (!doc)
        return false;
    const char *cid = json_string_value(json_object_get(doc, "correlationId"));
    const char *host = json_string_value(json_object_get(doc, "hostName"));
    const char *cont = json_string_value(json_object_get(doc, "containerName"));
    const char *blob = json_string_value(json_object_get(doc, "blobName"));
    const char *sas = json_string_value(json_object_get(doc, "sasToken"));
    bool ok = conf_check(c, cid && *cid && host && *host && cont && *cont && blob && sas,
                         "correlationId, hostName, containerName, blobName and sasToken (strings)", "%.300s", r.body);
    if (ok) {
        snprintf(u->correlation, sizeof u->correlation, "%s", cid);
        snprintf(u->host, sizeof u->host, "%s", host);
        snprintf(u->container, sizeof u->container, "%s", cont);
        snprintf(u->blob, sizeof u->blob, "%s", blob);
        snprintf(u->sas, sizeof u->sas, "%s", sas);
    }
    json_decref(doc);
    return ok;
}

/* Put Blob with the SAS URI: the status. */
static int put_blob(conf_ctx_t *c, const upload_t *u, const char *content)
{
    char path[1200];
    target_http_response_t r;
    snprintf(path, sizeof path, "/%s/%s%s", u->container, u->blob, u->sas);
    conf_rest_plain(c, "PUT", path, content, (conf_rest_header_t){ "x-ms-blob-type", "BlockBlob" }, &r);
    return r.status;
}

/* POST /devices/{id}/files/notifications; *r is the answer. */
static bool notify(conf_ctx_t *c, const char *device_id, const char *correlation, target_http_response_t *r)
{
    char body[400], path[200];
    snprintf(body, sizeof body,
             "{\"correlationId\":\"%s\",\"isSuccess\":true,\"statusCode\":200,\"statusDescription\":\"ok\"}",
             correlation);
    snprintf(path, sizeof path, "/devices/%s/files/notifications", device_id);
    return conf_rest_device(c, device_id, "POST", path, body, r);
}

/* The whole flow for d1/pic.jpg: start, Put Blob, notify 204. */
static bool flow(conf_ctx_t *c, upload_t *u)
{
    target_http_response_t r;
    if (!start(c, "d1", "pic.jpg", u))
        return false;
    int st = put_blob(c, u, "hello");
    if (!conf_check(c, st == 201, "Put Blob with the SAS URI: 201", "%d", st) || !notify(c, "d1", u->correlation, &r))
        return false;
    return conf_rest_status(c, &r, 204, "POST /devices/d1/files/notifications (isSuccess true): 204");
}

/* A service AMQP connection (owner policy) with a receiver on the file notifications. */
static pn_link_t *notification_receiver(conf_ctx_t *c, wa_t *svc)
{
    if (!wa_open(c, svc, WA_AUTH_NONE, NULL, NULL))
        return NULL;
    if (!wa_auth_service(svc, "owner", CONF_KEY_B))
        return NULL;
    pn_link_t *l = wa_receiver(svc, "fn", FILENOTE_ADDR, 10);
    if (!conf_check(c, !wa_link_closed(l), "the receiver on " FILENOTE_ADDR " stays attached", "detached: %s",
                    wa_link_condition(l)))
        return NULL;
    return l;
}

/* ---- UPLOAD-SAS-URI ------------------------------------------------------------------------ */

static void sas_uri(conf_ctx_t *c)
{
    upload_t u;
    if (!conf_rest_setup(c, NULL) || !conf_create(c, "d1", NULL) || !start(c, "d1", "pic.jpg", &u))
        return;
    if (!conf_check(c, strcmp(u.blob, "d1/pic.jpg") == 0, "blobName d1/pic.jpg ({deviceId}/{name})", "%s", u.blob) ||
        !conf_check(c, u.sas[0] == '?' && strstr(u.sas, "sig=") && strstr(u.sas, "se="),
                    "sasToken '?...' with sig= and se=", "%s", u.sas))
        return;
    int st = put_blob(c, &u, "hello");
    if (!conf_check(c, st == 201, "Put Blob to /{containerName}/{blobName}{sasToken}: 201", "%d", st))
        return;
    target_http_response_t r;
    if (notify(c, "d1", u.correlation, &r))
        conf_rest_status(c, &r, 204, "POST /devices/d1/files/notifications with the correlationId: 204");
}

/* ---- UPLOAD-NOTIFICATION / UPLOAD-NOTIFICATIONS-OFF ---------------------------------------- */

static void notification(conf_ctx_t *c, bool on)
{
    wa_t svc;
    upload_t u;
    memset(&svc, 0, sizeof svc);
    if (!conf_rest_setup(c, on ? NOTIFY_ON : NULL) || !conf_create(c, "d1", NULL))
        return;
    pn_link_t *l = notification_receiver(c, &svc);
    if (l && flow(c, &u)) {
        conf_advance(c, SEC);
        wa_pump(&svc);
        wa_rx_t *m = wa_next(&svc, l);
        char body[1024] = "";
        if (m)
            wa_body_text(m->m, body, sizeof body);
        if (!on) {
            conf_check(c, m == NULL, "notifications off (the default): no file notification", "%.300s", body);
        } else if (conf_check(c, m != NULL, "a file notification on " FILENOTE_ADDR, "nothing")) {
            json_t *doc = json_loads(body, 0, NULL);
            const char *dev = json_string_value(json_object_get(doc, "deviceId"));
            const char *blob = json_string_value(json_object_get(doc, "blobName"));
            conf_check(c, dev && blob && strcmp(dev, "d1") == 0 && strcmp(blob, "d1/pic.jpg") == 0,
                       "its body names deviceId d1 and blobName d1/pic.jpg", "%.300s", body);
            json_decref(doc);
            wa_settle(&svc, m, PN_ACCEPTED);
        }
    }
    wa_free(&svc);
}

static void notification_on(conf_ctx_t *c) { notification(c, true); }
static void notification_off(conf_ctx_t *c) { notification(c, false); }

/* ---- UPLOAD-UNKNOWN-CORRELATION ----------------------------------------------------------- */

static void unknown_correlation(conf_ctx_t *c)
{
    target_http_response_t r;
    if (!conf_rest_setup(c, NULL) || !conf_create(c, "d1", NULL) ||
        !notify(c, "d1", "00000000000000000000000000000000", &r))
        return;
    conf_rest_status(c, &r, 400, "a notification for a correlation id never handed out: 400");
}

/* ---- UPLOAD-SAS-EXPIRY -------------------------------------------------------------------- */

static void sas_expiry(conf_ctx_t *c)
{
    upload_t u;
    if (!conf_rest_setup(c, NULL) || !conf_create(c, "d1", NULL) || !start(c, "d1", "pic.jpg", &u))
        return;
    conf_advance(c, 3599 * SEC);
    int st = put_blob(c, &u, "hello");
    if (!conf_check(c, st == 201, "Put Blob 1 h - 1 s after the SAS was handed out: 201", "%d", st))
        return;
    conf_advance(c, 2 * SEC);
    st = put_blob(c, &u, "hello");
    conf_check(c, st == 403, "Put Blob 1 h + 1 s after: 403 (the SAS expired)", "%d", st);
}

/* ---- UPLOAD-CONCURRENT-LIMIT -------------------------------------------------------------- */

static void concurrent_limit(conf_ctx_t *c)
{
    upload_t u[10], extra;
    if (!conf_rest_setup(c, NULL) || !conf_create(c, "d1", NULL))
        return;
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d.bin", i);
        if (!start(c, "d1", name, &u[i]))
            return;
    }
    target_http_response_t r;
    if (!conf_rest_device(c, "d1", "POST", "/devices/d1/files", "{\"blobName\":\"f10.bin\"}", &r))
        return;
    /* The HTTP status of a hub error is HUB-ERROR-BODY's rule: here the code. */
    const char *code = target_http_header(&r, "iothub-errorcode");
    bool named = (code && strcmp(code, "DeviceMaximumActiveFileUploadLimitExceeded") == 0) ||
                 strstr(r.body, "DeviceMaximumActiveFileUploadLimitExceeded") != NULL;
    if (!conf_check(c, r.status >= 400 && named,
                    "the 11th concurrent upload refused with DeviceMaximumActiveFileUploadLimitExceeded (403006)",
                    "%d %s %.200s", r.status, code ? code : "", r.body))
        return;
    if (!notify(c, "d1", u[0].correlation, &r) || !conf_rest_status(c, &r, 204, "notify the first upload: 204"))
        return;
    start(c, "d1", "f11.bin", &extra); /* a slot is free again */
}

/* ---- the table ------------------------------------------------------------------------------ */

const conf_case_t conf_cases_uploads[] = {
    { "UPLOAD-SAS-URI", "start: correlationId and SAS URI for d1/pic.jpg; Put Blob 201; notify 204", sas_uri, WIRE, NULL,
      true },
    { "UPLOAD-NOTIFICATION", "notifications on: one file notification naming d1 and d1/pic.jpg", notification_on,
      WIRE | VT | TARGET_CAP_CONFIGURE, NULL, true },
    { "UPLOAD-NOTIFICATIONS-OFF", "notifications at their default (off): none after a completed upload",
      notification_off, WIRE | VT, NULL, true },
    { "UPLOAD-UNKNOWN-CORRELATION", "notification for an unknown correlation id: 400", unknown_correlation, WIRE,
      NULL, true },
    { "UPLOAD-SAS-EXPIRY", "Put Blob at 1 h - 1 s: 201; at 1 h + 1 s: 403", sas_expiry, WIRE | VT, NULL, true },
    { "UPLOAD-CONCURRENT-LIMIT", "10 active uploads; the 11th refused 403006; a notified one frees a slot",
      concurrent_limit, WIRE, NULL, true },
    { NULL, NULL, NULL, 0, NULL, false },
};
