/* File uploads: correlation ids, SAS expiry on the kernel clock, the per-device limit, completion and file notifications. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "hub_internal.h"
#include "uploads.h"

/*
 * An upload is active from hub_upload_start until its completion
 * notification or until its SAS expires (checked lazily, on the kernel
 * clock), whichever comes first.  A notified upload's record stays until
 * its SAS expires, because the SAS itself stays valid for blob requests.  Records live in an array in start order;
 * removal keeps that order, so every walk is deterministic.  Ids and
 * signatures come from a counter mixed with the kernel seed: no clock, no
 * libc rand.  Rules and marks: docs/file-uploads.md.
 */

#define SIG_CAP 33

typedef struct {
    char correlation_id[HUB_UPLOAD_ID_CAP];
    char device_id[HUB_CONFIG_ID_MAX + 1];
    char blob_name[HUB_UPLOAD_BLOB_CAP];
    char sig[SIG_CAP];
    sim_time_t expires_at;
    bool written;
    bool done;         /* notified: no longer active, but its SAS stays valid until expiry */
    uint64_t size;
    int64_t written_unix_ms;
} upload_rec_t;

struct hub_uploads {
    upload_rec_t *recs;
    size_t n, cap;
    uint64_t seq;
    hub_upload_stats_t st;
    void (*fn)(void *ctx, const hub_file_notification_t *n);
    void *ctx;
};

void hub_uploads_free(struct hub_uploads *u)
{
    if (!u)
        return;
    free(u->recs);
    free(u);
}

static struct hub_uploads *uploads_of(hub_t *hub)
{
    if (!hub->uploads)
        hub->uploads = calloc(1, sizeof *hub->uploads);
    return hub->uploads;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static int64_t unix_ms(const hub_t *hub)
{
    return sim_kernel_epoch(hub->k) * 1000 + (int64_t)(sim_kernel_now(hub->k) / SIM_MS);
}

/* "YYYY-MM-DDTHH:MM:SS" of a Unix time in ms. */
static void format_utc(int64_t ms, char *out, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(out, cap, "1970-01-01T00:00:00");
}

static void remove_at(struct hub_uploads *u, size_t i)
{
    memmove(&u->recs[i], &u->recs[i + 1], (u->n - i - 1) * sizeof *u->recs);
    u->n--;
}

/* Drop uploads whose SAS has expired. */
static void sweep(hub_t *hub, struct hub_uploads *u)
{
    sim_time_t now = sim_kernel_now(hub->k);
    for (size_t i = 0; i < u->n;) {
        if (u->recs[i].expires_at <= now) {
            if (!u->recs[i].done)
                u->st.expired++;
            remove_at(u, i);
        } else {
            i++;
        }
    }
}

hub_err_t hub_upload_start(hub_t *hub, const char *device_id, const char *blob_name,
                           hub_upload_t *out)
{
    if (!hub || !device_id || !blob_name || !out)
        return HUB_EARGUMENT_NULL;
    hub_identity_t id;
    hub_err_t e = hub_identity_get(hub, device_id, NULL, &id);
    if (e != HUB_EOK)
        return e;
    size_t dlen = strlen(device_id), blen = strlen(blob_name);
    if (blen == 0 || dlen + 1 + blen >= HUB_UPLOAD_BLOB_CAP)
        return HUB_EARGUMENT_INVALID;
    struct hub_uploads *u = uploads_of(hub);
    if (!u)
        return HUB_ESERVER_ERROR;
    sweep(hub, u);
    uint32_t active = 0;
    for (size_t i = 0; i < u->n; i++)
        if (!u->recs[i].done && strcmp(u->recs[i].device_id, device_id) == 0)
            active++;
    if (active >= hub->cfg.file_upload.max_concurrent_per_device) {
        u->st.refused_limit++;
        return HUB_EFILE_UPLOAD_LIMIT;
    }
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 8;
        upload_rec_t *r = realloc(u->recs, cap * sizeof *r);
        if (!r)
            return HUB_ESERVER_ERROR;
        u->recs = r;
        u->cap = cap;
    }
    upload_rec_t *r = &u->recs[u->n];
    memset(r, 0, sizeof *r);
    uint64_t seed = sim_kernel_seed(hub->k) ^ 0x75706C6F6164ull; /* "upload" */
    u->seq++;
    uint64_t a = mix64(seed + 2 * u->seq), b = mix64(seed + 2 * u->seq + 1);
    snprintf(r->correlation_id, sizeof r->correlation_id, "%016" PRIx64 "%016" PRIx64, a, b);
    snprintf(r->sig, sizeof r->sig, "%016" PRIx64 "%016" PRIx64, mix64(a ^ b), mix64(b + a));
    snprintf(r->device_id, sizeof r->device_id, "%s", device_id);
    if (hub_faults_on(&hub->faults, HUB_FAULT_UPLOAD_SAS_URI))
        snprintf(r->blob_name, sizeof r->blob_name, "%s", blob_name); /* broken: no {deviceId}/ */
    else
        snprintf(r->blob_name, sizeof r->blob_name, "%s/%s", device_id, blob_name);
    r->expires_at = sim_kernel_now(hub->k) + hub->cfg.file_upload.sas_ttl;
    u->n++;
    u->st.started++;

    char se[24];
    format_utc(unix_ms(hub) + (int64_t)(hub->cfg.file_upload.sas_ttl / SIM_MS), se, sizeof se);
    memset(out, 0, sizeof *out);
    snprintf(out->correlation_id, sizeof out->correlation_id, "%s", r->correlation_id);
    snprintf(out->blob_name, sizeof out->blob_name, "%s", r->blob_name);
    /* se with its colons escaped, as a query value */
    char se_q[40];
    size_t k = 0;
    for (const char *p = se; *p && k + 4 < sizeof se_q; p++) {
        if (*p == ':') {
            memcpy(se_q + k, "%3A", 3);
            k += 3;
        } else {
            se_q[k++] = *p;
        }
    }
    se_q[k] = 0;
    snprintf(out->sas_token, sizeof out->sas_token, "?sv=2018-03-28&sr=b&sig=%s&se=%sZ&sp=rw", r->sig,
             se_q);
    out->expires_at = r->expires_at;
    return HUB_EOK;
}

static size_t find_blob(const struct hub_uploads *u, const char *blob_name)
{
    /* newest first: a blob name reused by a later upload belongs to it */
    for (size_t i = u->n; i-- > 0;)
        if (strcmp(u->recs[i].blob_name, blob_name) == 0)
            return i;
    return SIZE_MAX;
}

hub_err_t hub_upload_blob_authorize(hub_t *hub, const char *blob_name, const char *sig)
{
    if (!hub || !blob_name || !sig)
        return HUB_EUNAUTHORIZED_ACCESS;
    struct hub_uploads *u = uploads_of(hub);
    if (!u)
        return HUB_ESERVER_ERROR;
    sweep(hub, u);
    size_t i = find_blob(u, blob_name);
    if (i == SIZE_MAX || strcmp(u->recs[i].sig, sig) != 0) {
        u->st.blob_refused++;
        return HUB_EUNAUTHORIZED_ACCESS;
    }
    return HUB_EOK;
}

void hub_upload_blob_written(hub_t *hub, const char *blob_name, uint64_t size)
{
    struct hub_uploads *u = hub && blob_name ? uploads_of(hub) : NULL;
    if (!u)
        return;
    size_t i = find_blob(u, blob_name);
    if (i == SIZE_MAX)
        return;
    u->recs[i].written = true;
    u->recs[i].size = size;
    u->recs[i].written_unix_ms = unix_ms(hub);
    u->st.blob_writes++;
}

static void notify(hub_t *hub, struct hub_uploads *u, const upload_rec_t *r)
{
    char blob_uri[HUB_CONFIG_HOST_MAX + HUB_UPLOAD_BLOB_CAP + 48];
    snprintf(blob_uri, sizeof blob_uri, "https://%s/%s/%s", hub->cfg.host, HUB_UPLOAD_CONTAINER,
             r->blob_name);
    int64_t now_ms = unix_ms(hub);
    int64_t upd_ms = r->written ? r->written_unix_ms : now_ms;
    char upd[24], enq[24], upd_s[40], enq_s[48];
    format_utc(upd_ms, upd, sizeof upd);
    format_utc(now_ms, enq, sizeof enq);
    snprintf(upd_s, sizeof upd_s, "%s+00:00", upd);
    snprintf(enq_s, sizeof enq_s, "%s.%03dZ", enq, (int)(now_ms % 1000));
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "deviceId", r->device_id, "blobUri",
                            blob_uri, "blobName", r->blob_name, "lastUpdatedTime", upd_s,
                            "blobSizeInBytes", (json_int_t)r->size, "enqueuedTimeUtc", enq_s);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text || !u->fn) {
        u->st.notifications_dropped++;
        free(text);
        return;
    }
    hub_file_notification_t n = {
        .device_id = r->device_id,
        .blob_uri = blob_uri,
        .blob_name = r->blob_name,
        .json = text,
        .json_len = strlen(text),
        .blob_size = r->size,
        .last_updated_unix_ms = upd_ms,
        .enqueued_unix_ms = now_ms,
        .ttl = hub->cfg.file_upload.notification_ttl,
        .max_delivery_count = hub->cfg.file_upload.notification_max_delivery_count,
    };
    u->st.notified++;
    u->fn(u->ctx, &n);
    free(text);
}

hub_err_t hub_upload_complete(hub_t *hub, const char *device_id, const char *correlation_id,
                              bool is_success, int status_code, const char *status_description)
{
    (void)status_code;
    (void)status_description;
    if (!hub || !device_id || !correlation_id)
        return HUB_EARGUMENT_NULL;
    struct hub_uploads *u = uploads_of(hub);
    if (!u)
        return HUB_ESERVER_ERROR;
    sweep(hub, u);
    size_t i = 0;
    while (i < u->n && !(!u->recs[i].done && strcmp(u->recs[i].correlation_id, correlation_id) == 0 &&
                         strcmp(u->recs[i].device_id, device_id) == 0))
        i++;
    if (i == u->n) {
        u->st.unknown_correlation++;
        /* broken: counted, but answered as if it were known */
        return hub_faults_on(&hub->faults, HUB_FAULT_UPLOAD_UNKNOWN_CORRELATION) ? HUB_EOK : HUB_EARGUMENT_INVALID;
    }
    u->recs[i].done = true;
    const upload_rec_t r = u->recs[i];
    if (is_success) {
        u->st.completed_ok++;
        if (hub->cfg.file_upload.notifications)
            notify(hub, u, &r);
    } else {
        u->st.completed_failed++;
    }
    return HUB_EOK;
}

void hub_set_file_notification_sink(hub_t *hub,
                                    void (*fn)(void *ctx, const hub_file_notification_t *n),
                                    void *ctx)
{
    struct hub_uploads *u = hub ? uploads_of(hub) : NULL;
    if (!u)
        return;
    u->fn = fn;
    u->ctx = ctx;
}

void hub_upload_stats(const hub_t *hub, hub_upload_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!hub || !hub->uploads)
        return;
    *out = hub->uploads->st;
    for (size_t i = 0; i < hub->uploads->n; i++)
        out->active += !hub->uploads->recs[i].done;
}
