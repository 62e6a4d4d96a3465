/* The local blob endpoint of `serve`: Put Blob, Put Block, Put Block List and Get Blob on the upload container, blobs kept in memory. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "http_internal.h"
#include "sim/hub/auth.h"

/*
 * The hub hands devices `https://{hub host}/hubsim-files/{blob}?{sas}`
 * (sim/hub/uploads.c), so the same HTTPS listener answers the Blob service
 * requests an unmodified storage SDK sends for that URI.  Only what device
 * uploads use is served; docs/file-uploads.md lists it with marks:
 *   PUT  (x-ms-blob-type: BlockBlob)        Put Blob       201
 *   PUT  ?comp=block&blockid={base64}      Put Block      201
 *   PUT  ?comp=blocklist  <BlockList> XML  Put Block List 201
 *   GET                                    Get Blob       200
 * Every request must carry the `sig` of an upload of that blob whose SAS
 * has not expired (hub_upload_blob_authorize), else 403
 * AuthenticationFailed.  Errors use the Blob service's shape: status,
 * x-ms-error-code and an XML <Error><Code/><Message/></Error> body.
 *
 * Blobs (committed blocks) and staged blocks live in memory, in arrival
 * order, bounded by HTTP_BLOBS_MAX_BYTES in all [our choice].
 */

#define HTTP_BLOBS_MAX_BYTES (256u * 1024u * 1024u)
#define BLOCK_ID_CAP 96 /* base64 of the <= 64-byte id [doc] */
#define BLOB_PREFIX "/" HUB_UPLOAD_CONTAINER "/"

typedef struct {
    char id[BLOCK_ID_CAP];
    unsigned char *data;
    size_t len;
} block_t;

typedef struct {
    char *name;
    block_t *committed; /* the blob: its blocks in order */
    size_t n_committed;
    bool exists;
    block_t *staged;    /* Put Block, waiting for Put Block List */
    size_t n_staged;
    uint64_t etag;
    int64_t modified_unix_s;
} blob_t;

struct http_blobs {
    blob_t *blobs;
    size_t n, cap;
    size_t bytes;
    uint64_t etag_seq;
    uint64_t request_seq;
};

static void blocks_free(struct http_blobs *s, block_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s->bytes -= b[i].len;
        free(b[i].data);
    }
    free(b);
}

void http_blobs_free(struct http_blobs *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        blocks_free(s, s->blobs[i].committed, s->blobs[i].n_committed);
        blocks_free(s, s->blobs[i].staged, s->blobs[i].n_staged);
        free(s->blobs[i].name);
    }
    free(s->blobs);
    free(s);
}

static blob_t *blob_find(struct http_blobs *s, const char *name, bool create)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->blobs[i].name, name) == 0)
            return &s->blobs[i];
    if (!create)
        return NULL;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        blob_t *b = realloc(s->blobs, cap * sizeof *b);
        if (!b)
            return NULL;
        s->blobs = b;
        s->cap = cap;
    }
    blob_t *b = &s->blobs[s->n];
    memset(b, 0, sizeof *b);
    size_t len = strlen(name);
    if (!(b->name = malloc(len + 1)))
        return NULL;
    memcpy(b->name, name, len + 1);
    s->n++;
    return b;
}

static int64_t unix_s(hub_t *hub)
{
    sim_kernel_t *k = hub_kernel(hub);
    return sim_kernel_epoch(k) + (int64_t)(sim_kernel_now(k) / SIM_SEC);
}

static void rfc1123(int64_t t, char *out, size_t cap)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&s, &tm) || strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        snprintf(out, cap, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* Headers every Blob service answer carries. */
static void common_headers(http_api_t *api, const http_request_t *req, http_resp_t *r)
{
    struct http_blobs *s = api->blobs;
    char date[40];
    rfc1123(unix_s(api->hub), date, sizeof date);
    http_resp_headerf(r, "x-ms-request-id", "00000000-0000-4000-8000-%012" PRIx64,
                      s ? ++s->request_seq : 0);
    const char *v = http_req_header(req, "x-ms-version");
    http_resp_header(r, "x-ms-version", v && v[0] ? v : "2018-03-28");
    http_resp_header(r, "Date", date);
    const char *cr = http_req_header(req, "x-ms-client-request-id");
    if (cr)
        http_resp_header(r, "x-ms-client-request-id", cr);
}

static void blob_error(http_api_t *api, const http_request_t *req, http_resp_t *r, int status,
                       const char *code, const char *message)
{
    r->status = status;
    common_headers(api, req, r);
    http_resp_header(r, "x-ms-error-code", code);
    char body[512];
    int n = snprintf(body, sizeof body,
                     "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code>"
                     "<Message>%s</Message></Error>",
                     code, message);
    http_resp_body(r, body, n > 0 ? (size_t)n : 0, "application/xml");
}

static void written_headers(http_api_t *api, const http_request_t *req, http_resp_t *r,
                            const blob_t *b)
{
    r->status = 201;
    common_headers(api, req, r);
    if (b) {
        char date[40];
        rfc1123(b->modified_unix_s, date, sizeof date);
        http_resp_headerf(r, "ETag", "\"0x8D%013" PRIX64 "\"", b->etag);
        http_resp_header(r, "Last-Modified", date);
    }
    http_resp_header(r, "x-ms-request-server-encrypted", "true");
}

static size_t blob_size(const blob_t *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_committed; i++)
        n += b->committed[i].len;
    return n;
}

static void committed_now(http_api_t *api, blob_t *b)
{
    b->exists = true;
    b->etag = ++api->blobs->etag_seq;
    b->modified_unix_s = unix_s(api->hub);
    hub_upload_blob_written(api->hub, b->name, blob_size(b));
}

static bool copy_body(const http_request_t *req, block_t *out)
{
    out->len = req->body_len;
    out->data = malloc(req->body_len ? req->body_len : 1);
    if (!out->data)
        return false;
    if (req->body_len)
        memcpy(out->data, req->body, req->body_len);
    return true;
}

static void put_blob(http_api_t *api, const http_request_t *req, http_resp_t *r, blob_t *b)
{
    const char *type = http_req_header(req, "x-ms-blob-type");
    if (!type || strcasecmp(type, "BlockBlob") != 0) {
        blob_error(api, req, r, 400, type ? "InvalidHeaderValue" : "MissingRequiredHeader",
                   "x-ms-blob-type must be BlockBlob (the only blob type served here)");
        return;
    }
    block_t blk = { .id = "" };
    if (!copy_body(req, &blk)) {
        r->failed = true;
        return;
    }
    struct http_blobs *s = api->blobs;
    blocks_free(s, b->committed, b->n_committed);
    blocks_free(s, b->staged, b->n_staged);
    b->staged = NULL;
    b->n_staged = 0;
    b->committed = malloc(sizeof *b->committed);
    if (!b->committed) {
        free(blk.data);
        b->n_committed = 0;
        r->failed = true;
        return;
    }
    b->committed[0] = blk;
    b->n_committed = 1;
    s->bytes += blk.len;
    committed_now(api, b);
    written_headers(api, req, r, b);
}

static void put_block(http_api_t *api, const http_request_t *req, const char *query,
                      http_resp_t *r, blob_t *b)
{
    char id[BLOCK_ID_CAP];
    if (!http_query_get(query, "blockid", id, sizeof id) || !id[0]) {
        blob_error(api, req, r, 400, "InvalidQueryParameterValue",
                   "blockid is missing, empty or longer than 64 bytes");
        return;
    }
    block_t blk;
    memset(&blk, 0, sizeof blk);
    snprintf(blk.id, sizeof blk.id, "%s", id);
    if (!copy_body(req, &blk)) {
        r->failed = true;
        return;
    }
    /* a block staged again under the same id replaces the older one */
    for (size_t i = 0; i < b->n_staged; i++) {
        if (strcmp(b->staged[i].id, id) == 0) {
            api->blobs->bytes -= b->staged[i].len;
            free(b->staged[i].data);
            memmove(&b->staged[i], &b->staged[i + 1], (b->n_staged - i - 1) * sizeof *b->staged);
            b->n_staged--;
            break;
        }
    }
    block_t *n = realloc(b->staged, (b->n_staged + 1) * sizeof *n);
    if (!n) {
        free(blk.data);
        r->failed = true;
        return;
    }
    b->staged = n;
    b->staged[b->n_staged++] = blk;
    api->blobs->bytes += blk.len;
    written_headers(api, req, r, NULL);
}

static const block_t *block_in(const block_t *list, size_t n, const char *id)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(list[i].id, id) == 0)
            return &list[i];
    return NULL;
}

/* The next <Latest|Committed|Uncommitted>id</...> entry after *pos. */
static bool next_entry(const char *xml, size_t len, size_t *pos, char *kind, size_t kind_cap,
                       char *id, size_t id_cap)
{
    static const char *const kinds[] = { "Latest", "Committed", "Uncommitted" };
    while (*pos < len) {
        const char *lt = memchr(xml + *pos, '<', len - *pos);
        if (!lt)
            return false;
        size_t at = (size_t)(lt - xml) + 1;
        for (size_t k = 0; k < 3; k++) {
            size_t kl = strlen(kinds[k]);
            if (at + kl < len && strncmp(xml + at, kinds[k], kl) == 0 && xml[at + kl] == '>') {
                size_t start = at + kl + 1, end = start;
                while (end < len && xml[end] != '<')
                    end++;
                if (end >= len || end - start >= id_cap)
                    return false;
                memcpy(id, xml + start, end - start);
                id[end - start] = 0;
                snprintf(kind, kind_cap, "%s", kinds[k]);
                *pos = end;
                return true;
            }
        }
        *pos = at;
    }
    return false;
}

static bool contains(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0)
            return true;
    return false;
}

static void put_block_list(http_api_t *api, const http_request_t *req, http_resp_t *r, blob_t *b)
{
    const char *xml = req->body;
    size_t len = req->body_len;
    if (!xml || len == 0 || !contains(xml, len, "<BlockList>")) {
        blob_error(api, req, r, 400, "InvalidXmlDocument", "the body must be a <BlockList> document");
        return;
    }
    block_t *list = NULL;
    size_t n = 0, pos = 0;
    char kind[16], id[BLOCK_ID_CAP];
    while (next_entry(xml, len, &pos, kind, sizeof kind, id, sizeof id)) {
        const block_t *src = NULL;
        if (strcmp(kind, "Committed") != 0)
            src = block_in(b->staged, b->n_staged, id);
        if (!src && strcmp(kind, "Uncommitted") != 0)
            src = block_in(b->committed, b->n_committed, id);
        block_t *grown = src ? realloc(list, (n + 1) * sizeof *grown) : NULL;
        if (!src || !grown) {
            blocks_free(api->blobs, list, n);
            if (!src)
                blob_error(api, req, r, 400, "InvalidBlockList",
                           "the block list names a block that is not there");
            else
                r->failed = true;
            return;
        }
        list = grown;
        list[n] = *src;
        list[n].data = malloc(src->len ? src->len : 1);
        if (!list[n].data) {
            blocks_free(api->blobs, list, n);
            r->failed = true;
            return;
        }
        memcpy(list[n].data, src->data, src->len);
        api->blobs->bytes += src->len;
        n++;
    }
    blocks_free(api->blobs, b->committed, b->n_committed);
    blocks_free(api->blobs, b->staged, b->n_staged);
    b->committed = list;
    b->n_committed = n;
    b->staged = NULL;
    b->n_staged = 0;
    committed_now(api, b);
    written_headers(api, req, r, b);
}

static void get_blob(http_api_t *api, const http_request_t *req, http_resp_t *r, blob_t *b)
{
    if (!b || !b->exists) {
        blob_error(api, req, r, 404, "BlobNotFound", "the specified blob does not exist");
        return;
    }
    size_t size = blob_size(b);
    char *all = malloc(size ? size : 1);
    if (!all) {
        r->failed = true;
        return;
    }
    size_t at = 0;
    for (size_t i = 0; i < b->n_committed; i++) {
        memcpy(all + at, b->committed[i].data, b->committed[i].len);
        at += b->committed[i].len;
    }
    r->status = 200;
    common_headers(api, req, r);
    char date[40];
    rfc1123(b->modified_unix_s, date, sizeof date);
    http_resp_headerf(r, "ETag", "\"0x8D%013" PRIX64 "\"", b->etag);
    http_resp_header(r, "Last-Modified", date);
    http_resp_header(r, "x-ms-blob-type", "BlockBlob");
    http_resp_body(r, all, size, "application/octet-stream");
    free(all);
}

bool http_blob_request(http_api_t *api, const http_request_t *req, size_t path_len,
                       const char *query, http_resp_t *r)
{
    size_t plen = sizeof BLOB_PREFIX - 1;
    if (path_len <= plen || strncmp(req->path, BLOB_PREFIX, plen) != 0)
        return false;
    char name[HUB_UPLOAD_BLOB_CAP];
    if (hub_url_decode(req->path + plen, path_len - plen, name, sizeof name) != HS_EOK) {
        blob_error(api, req, r, 400, "InvalidUri", "the blob name is too long or badly escaped");
        return true;
    }
    if (!api->blobs && !(api->blobs = calloc(1, sizeof *api->blobs))) {
        r->failed = true;
        return true;
    }
    char sig[80];
    if (!http_query_get(query, "sig", sig, sizeof sig) ||
        hub_upload_blob_authorize(api->hub, name, sig) != HUB_EOK) {
        blob_error(api, req, r, 403, "AuthenticationFailed",
                   "the signature is missing, wrong or expired for this blob");
        return true;
    }
    bool is_get = strcmp(req->method, "GET") == 0, is_put = strcmp(req->method, "PUT") == 0;
    if (!is_get && !is_put) {
        blob_error(api, req, r, 405, "UnsupportedHttpVerb",
                   "this blob endpoint serves PUT (upload) and GET");
        http_resp_header(r, "Allow", "GET, PUT");
        return true;
    }
    if (is_get) {
        get_blob(api, req, r, blob_find(api->blobs, name, false));
        return true;
    }
    if (api->blobs->bytes + req->body_len > HTTP_BLOBS_MAX_BYTES) {
        blob_error(api, req, r, 413, "RequestBodyTooLarge",
                   "the local blob store is full (256 MiB in all)");
        return true;
    }
    blob_t *b = blob_find(api->blobs, name, true);
    if (!b) {
        r->failed = true;
        return true;
    }
    char comp[32] = "";
    (void)http_query_get(query, "comp", comp, sizeof comp);
    if (!comp[0])
        put_blob(api, req, r, b);
    else if (strcmp(comp, "block") == 0)
        put_block(api, req, query, r, b);
    else if (strcmp(comp, "blocklist") == 0)
        put_block_list(api, req, r, b);
    else
        blob_error(api, req, r, 400, "InvalidQueryParameterValue",
                   "comp must be block or blocklist here");
    return true;
}
