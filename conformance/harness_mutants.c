/* Harness mutants: REST requests and answers rewritten as a hub breaking one jobs, uploads or twin-query rule would send them. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conformance/harness_mutants.h"

static const harness_mutant_info_t rows[] = {
#define HARNESS_MUTANT_ROW(e, name, rule, desc) { name, rule, desc },
    HARNESS_MUTANT_MAP(HARNESS_MUTANT_ROW)
#undef HARNESS_MUTANT_ROW
};

#define ON(bits, e) (((bits) >> HARNESS_MUTANT_BIT_##e) & 1u)

const harness_mutant_info_t *harness_mutant_at(size_t i)
{
    return i < (size_t)HARNESS_MUTANT__COUNT ? &rows[i] : NULL;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort(); /* the harness cannot report without memory */
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- which route ------------------------------------------------------------------ */

static size_t path_len(const char *path)
{
    return strcspn(path, "?");
}

static bool path_starts(const char *path, const char *prefix)
{
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* The path (without query) ends with suffix. */
static bool path_ends(const char *path, const char *suffix)
{
    size_t n = path_len(path), m = strlen(suffix);
    return n >= m && strncmp(path + n - m, suffix, m) == 0;
}

static bool is_jobs(const char *path) { return path_starts(path, "/jobs/v2/"); }
static bool is_query(const char *path) { return path_starts(path, "/devices/query"); }

/* ---- request mutants ------------------------------------------------------------------ */

static void set_body_json(harness_request_t *r, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        abort();
    free(r->body);
    r->body = text;
    r->body_len = strlen(text);
}

/* Case-insensitive search. */
static char *ci_find(char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return p;
    return NULL;
}

/* Replace [at, at + cut) of *s by with (a new string). */
static void splice(char **s, size_t at, size_t cut, const char *with)
{
    size_t n = strlen(*s), w = strlen(with);
    char *out = malloc(n - cut + w + 1);
    if (!out)
        abort();
    memcpy(out, *s, at);
    memcpy(out + at, with, w);
    memcpy(out + at + w, *s + at + cut, n - at - cut + 1);
    free(*s);
    *s = out;
}

/* Cut " KEYWORD ..." up to the next of the stop keywords (or the end). */
static void cut_clause(char **q, const char *keyword, const char *stop)
{
    char *at = ci_find(*q, keyword);
    if (!at)
        return;
    char *end = stop ? ci_find(at + strlen(keyword), stop) : NULL;
    size_t from = (size_t)(at - *q);
    size_t len = end ? (size_t)(end - at) : strlen(at);
    splice(q, from, len, "");
}

static void replace_all(char **q, const char *what, const char *with)
{
    size_t from = 0;
    for (;;) {
        char *at = ci_find(*q + from, what);
        if (!at)
            return;
        size_t pos = (size_t)(at - *q);
        splice(q, pos, strlen(what), with);
        from = pos + strlen(with);
    }
}

static void mutate_query_text(unsigned bits, char **q)
{
    if (ON(bits, TWINQ_WHERE_IGNORED))
        cut_clause(q, " WHERE ", " GROUP BY ");
    if (ON(bits, TWINQ_NIN_AS_IN))
        replace_all(q, " NIN ", " IN ");
    if (ON(bits, TWINQ_IS_DEFINED_NEGATED))
        replace_all(q, "IS_DEFINED(", "NOT IS_DEFINED(");
    if (ON(bits, TWINQ_GROUP_BY_IGNORED))
        cut_clause(q, " GROUP BY ", NULL);
    if (ON(bits, TWINQ_MODULES_AS_DEVICES))
        replace_all(q, "devices.modules", "devices");
}

void harness_request_init(harness_request_t *out, const target_http_request_t *req, unsigned bits)
{
    out->method = dup_n(req->method, strlen(req->method));
    out->path = dup_n(req->path, strlen(req->path));
    out->body = dup_n(req->body ? req->body : "", req->body ? req->body_len : 0);
    out->body_len = req->body ? req->body_len : 0;
    if (!bits)
        return;
    if (is_jobs(out->path) && strcmp(out->method, "PUT") == 0 &&
        (ON(bits, JOBS_START_TIME_IGNORED) || ON(bits, JOBS_MAX_EXEC_IGNORED))) {
        json_t *doc = json_loadb(out->body, out->body_len, 0, NULL);
        if (json_is_object(doc)) {
            if (ON(bits, JOBS_START_TIME_IGNORED))
                json_object_del(doc, "startTime");
            if (ON(bits, JOBS_MAX_EXEC_IGNORED))
                json_object_del(doc, "maxExecutionTimeInSeconds");
            set_body_json(out, doc);
        }
        json_decref(doc);
    }
    if (is_jobs(out->path) && strcmp(out->method, "POST") == 0 && ON(bits, JOBS_CANCEL_IGNORED) &&
        path_ends(out->path, "/cancel")) {
        size_t n = path_len(out->path);
        splice(&out->path, n - strlen("/cancel"), strlen("/cancel"), "");
        free(out->method);
        out->method = dup_n("GET", 3);
    }
    if (is_query(out->path) && strcmp(out->method, "POST") == 0) {
        json_t *doc = json_loadb(out->body, out->body_len, 0, NULL);
        const char *q = json_string_value(json_object_get(doc, "query"));
        if (q) {
            char *text = dup_n(q, strlen(q));
            mutate_query_text(bits, &text);
            json_object_set_new(doc, "query", json_string(text));
            free(text);
            set_body_json(out, doc);
        }
        json_decref(doc);
    }
}

void harness_request_free(harness_request_t *r)
{
    free(r->method);
    free(r->path);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- answer mutants ------------------------------------------------------------------- */

static void set_answer_json(harness_answer_t *a, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        abort();
    free(a->body);
    a->body = text;
    a->body_len = strlen(text);
}

static void drop_header(harness_answer_t *a, const char *name)
{
    for (size_t i = 0; i < a->n_headers;) {
        if (strcasecmp(a->headers[i].name, name) == 0) {
            free((char *)a->headers[i].name);
            free((char *)a->headers[i].value);
            memmove(&a->headers[i], &a->headers[i + 1], (a->n_headers - i - 1) * sizeof *a->headers);
            a->n_headers--;
        } else {
            i++;
        }
    }
}

/* A 400 body without the line and column of the error. */
static void strip_position(harness_answer_t *a)
{
    if (a->status != 400 || !strstr(a->body, "line "))
        return;
    json_t *doc = json_pack("{s:s,s:s}", "Message", "ErrorCode:ArgumentInvalid;the query is malformed",
                            "ExceptionMessage", "the query is malformed");
    if (!doc)
        abort();
    set_answer_json(a, doc);
    json_decref(doc);
}

static bool job_doc(unsigned bits, json_t *doc)
{
    if (!json_is_object(doc))
        return false;
    bool changed = false;
    json_t *stats = json_object_get(doc, "deviceJobStatistics");
    json_int_t devices = json_integer_value(json_object_get(stats, "deviceCount"));
    const char *status = json_string_value(json_object_get(doc, "status"));
    if (status && strcmp(status, "completed") == 0 &&
        ((devices > 0 && ON(bits, JOBS_COMPLETED_AS_RUNNING)) || (devices == 0 && ON(bits, JOBS_EMPTY_STAYS_RUNNING)))) {
        json_object_set_new(doc, "status", json_string("running"));
        changed = true;
    }
    if (json_is_object(stats) && ON(bits, JOBS_OFFLINE_SUCCEEDED)) {
        json_int_t failed = json_integer_value(json_object_get(stats, "failedCount"));
        json_int_t ok = json_integer_value(json_object_get(stats, "succeededCount"));
        json_object_set_new(stats, "succeededCount", json_integer(ok + failed));
        json_object_set_new(stats, "failedCount", json_integer(0));
        changed = true;
    }
    return changed;
}

static void mutate_jobs_answer(unsigned bits, harness_answer_t *a)
{
    if (a->status == 404 && ON(bits, JOBS_UNKNOWN_400))
        a->status = 400;
    if (ON(bits, JOBS_ERROR_NO_POSITION))
        strip_position(a);
    if (a->status != 200)
        return;
    json_t *doc = json_loadb(a->body, a->body_len, 0, NULL);
    bool changed = false;
    if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v) changed = job_doc(bits, v) || changed;
    } else {
        changed = job_doc(bits, doc);
    }
    if (changed)
        set_answer_json(a, doc);
    json_decref(doc);
}

static void mutate_upload_answer(unsigned bits, const harness_request_t *r, harness_answer_t *a)
{
    if (strstr(r->path, "/files/notifications")) {
        if (a->status == 400 && ON(bits, UPLOAD_UNKNOWN_ACCEPTED)) {
            a->status = 204;
            drop_header(a, "iothub-errorcode");
            free(a->body);
            a->body = dup_n("", 0);
            a->body_len = 0;
        }
        return;
    }
    if (a->status != 200 || !ON(bits, UPLOAD_BLOBNAME_BARE))
        return;
    json_t *doc = json_loadb(a->body, a->body_len, 0, NULL);
    const char *name = json_string_value(json_object_get(doc, "blobName"));
    const char *slash = name ? strchr(name, '/') : NULL;
    if (slash) {
        json_object_set_new(doc, "blobName", json_string(slash + 1));
        set_answer_json(a, doc);
    }
    json_decref(doc);
}

void harness_mutate_answer(unsigned bits, const harness_request_t *r, harness_answer_t *a)
{
    if (!bits || a->status == 0)
        return;
    if (is_jobs(r->path)) {
        mutate_jobs_answer(bits, a);
    } else if (is_query(r->path)) {
        if (ON(bits, TWINQ_CONTINUATION_DROPPED))
            drop_header(a, "x-ms-continuation");
        if (ON(bits, TWINQ_ERROR_NO_POSITION))
            strip_position(a);
    } else if (path_starts(r->path, "/devices/") && strstr(r->path, "/files") &&
               strcmp(r->method, "POST") == 0) {
        mutate_upload_answer(bits, r, a);
    }
}
