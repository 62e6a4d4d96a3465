/* Conformance cases for identity import/export jobs (POST /jobs/create on local folders): one export line per identity, keys excluded on request, malformed and duplicate import files, importMode create. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/case.h"
#include "conformance/case_rest.h"

/* Literals from docs/identity-import-export.md and docs/gateways.md: the
 * job body {"type": "export"|"import", "outputBlobContainerUri",
 * "inputBlobContainerUri", "excludeKeysInExport"} [sdk]; devices.txt holds
 * one JSON object per identity (id, moduleId, status, authentication,
 * importMode) [sdk]; a file:// container URI is a folder of the hub's
 * machine (hubsim's stand-in for blob storage), so these cases run where the
 * case and the hub share a file system: the in-process target. */

#define WIRE TARGET_CAP_WIRE
#define NOHDR ((conf_rest_header_t){ NULL, NULL })

typedef struct {
    char dir[128]; /* the container folder ("" until made) */
} folder_t;

static bool folder_make(conf_ctx_t *c, folder_t *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/hubsim-conform-io-XXXXXX");
    if (!mkdtemp(f->dir)) {
        f->dir[0] = '\0';
        return conf_error(c, "cannot make a temporary folder for the container");
    }
    return true;
}

/* Remove the folder and the files the job or the case wrote in it. */
static void folder_free(folder_t *f)
{
    if (!f->dir[0])
        return;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[400];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    f->dir[0] = '\0';
}

static bool write_file(conf_ctx_t *c, const folder_t *f, const char *name, const char *text)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", f->dir, name);
    FILE *fp = fopen(p, "w");
    if (!fp || fputs(text, fp) < 0) {
        if (fp)
            fclose(fp);
        return conf_error(c, "cannot write %s", p);
    }
    fclose(fp);
    return true;
}

/* The file's text (caller frees), "" when it does not exist. */
static char *read_file(const folder_t *f, const char *name)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", f->dir, name);
    FILE *fp = fopen(p, "r");
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf)
        abort(); /* the harness cannot report without memory */
    if (fp) {
        size_t got;
        while ((got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
            n += got;
            if (cap - n - 1 == 0) {
                char *nb = realloc(buf, cap * 2);
                if (!nb)
                    abort();
                buf = nb;
                cap *= 2;
            }
        }
        fclose(fp);
    }
    buf[n] = '\0';
    return buf;
}

/* POST /jobs/create; the job document (new reference), NULL with the verdict decided. */
static json_t *run_job(conf_ctx_t *c, const char *body, const char *what)
{
    target_http_response_t r;
    if (!conf_rest_service(c, "POST", "/jobs/create", body, NOHDR, &r) || !conf_rest_status(c, &r, 200, what))
        return NULL;
    return conf_rest_json(c, &r, what);
}

static const char *str(const json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? s : "";
}

/* The identities named by the lines of an export ("d1,d1/m1,d2"). */
static void exported_ids(const char *text, char *out, size_t cap)
{
    out[0] = '\0';
    const char *line = text;
    while (*line) {
        size_t n = strcspn(line, "\n");
        json_t *o = json_loadb(line, n, 0, NULL);
        if (o) {
            size_t used = strlen(out);
            const char *mod = str(o, "moduleId");
            snprintf(out + used, cap - used, "%s%s%s%s", used ? "," : "", str(o, "id"), *mod ? "/" : "", mod);
            json_decref(o);
        }
        line += n;
        if (*line)
            line++;
    }
}

static json_t *export_job(conf_ctx_t *c, const folder_t *f, bool exclude_keys)
{
    char body[400];
    snprintf(body, sizeof body, "{\"type\":\"export\",\"outputBlobContainerUri\":\"file://%s\",\"excludeKeysInExport\":%s}",
             f->dir, exclude_keys ? "true" : "false");
    return run_job(c, body, "POST /jobs/create (export): 200");
}

/* ---- IDENTITY-EXPORT-ROUNDTRIP ---------------------------------------------------------------------- */

static void export_lines(conf_ctx_t *c)
{
    folder_t f = { "" };
    if (conf_rest_setup(c, NULL) && conf_create(c, "d1", NULL) && conf_create(c, "d1", "m1") &&
        conf_create(c, "d2", NULL) && folder_make(c, &f)) {
        json_t *doc = export_job(c, &f, false);
        if (doc && conf_check(c, strcmp(str(doc, "status"), "completed") == 0, "the export job completed", "%s %s",
                              str(doc, "status"), str(doc, "failureReason"))) {
            char *text = read_file(&f, "devices.txt");
            char ids[400];
            exported_ids(text, ids, sizeof ids);
            conf_check(c, strcmp(ids, "d1,d1/m1,d2") == 0,
                       "devices.txt: one line per identity, devices and modules (d1, d1/m1, d2)", "%s", ids);
            free(text);
        }
        json_decref(doc);
    }
    folder_free(&f);
}

/* ---- IDENTITY-EXPORT-EXCLUDE-KEYS ------------------------------------------------------------------- */

static void export_without_keys(conf_ctx_t *c)
{
    folder_t f = { "" };
    if (conf_rest_setup(c, NULL) && conf_create(c, "d1", NULL) && folder_make(c, &f)) {
        json_t *doc = export_job(c, &f, true);
        if (doc && conf_check(c, strcmp(str(doc, "status"), "completed") == 0, "the export job completed", "%s %s",
                              str(doc, "status"), str(doc, "failureReason"))) {
            char *text = read_file(&f, "devices.txt");
            if (conf_check(c, strstr(text, "\"d1\"") != NULL, "devices.txt names d1", "%.200s", text))
                conf_check(c, !strstr(text, CONF_KEY_A) && !strstr(text, CONF_KEY_B),
                           "excludeKeysInExport true: neither of d1's keys is in devices.txt", "%.300s", text);
            free(text);
        }
        json_decref(doc);
    }
    folder_free(&f);
}

/* ---- imports ---------------------------------------------------------------------------------------- */

#define LINE(id, extra)                                                                                    \
    "{\"id\":\"" id "\",\"status\":\"enabled\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":"       \
    "{\"primaryKey\":\"" CONF_KEY_A "\",\"secondaryKey\":\"" CONF_KEY_B "\"}}" extra "}\n"

static json_t *import_job(conf_ctx_t *c, const folder_t *f)
{
    char body[600];
    snprintf(body, sizeof body,
             "{\"type\":\"import\",\"inputBlobContainerUri\":\"file://%s\",\"outputBlobContainerUri\":\"file://%s\"}",
             f->dir, f->dir);
    return run_job(c, body, "POST /jobs/create (import): 200");
}

/* The import of text fails naming `line`, and n1 is not created. */
static void import_fails(conf_ctx_t *c, const char *text, const char *line)
{
    folder_t f = { "" };
    if (conf_rest_setup(c, NULL) && folder_make(c, &f) && write_file(c, &f, "devices.txt", text)) {
        json_t *doc = import_job(c, &f);
        if (doc && conf_check(c, strcmp(str(doc, "status"), "failed") == 0 && strstr(str(doc, "failureReason"), line),
                              "the import job failed, its failureReason naming the line", "%s: %s", str(doc, "status"),
                              str(doc, "failureReason"))) {
            target_identity_info_t info;
            target_status_t st;
            c->ops->identity_get(c->t, "n1", NULL, &info, &st);
            conf_check(c, st.http == 404, "nothing applied: n1 (a good line before the bad one) does not exist",
                       "GET n1: %d", st.http);
        }
        json_decref(doc);
    }
    folder_free(&f);
}

static void import_malformed(conf_ctx_t *c)
{
    import_fails(c, LINE("n1", "") "{\"id\":\"n2\",\"status\":\n", "line 2");
}

static void import_duplicate(conf_ctx_t *c)
{
    import_fails(c, LINE("n1", "") LINE("n2", "") LINE("n2", ""), "line 3");
}

/* ---- IDENTITY-IMPORT-MODE --------------------------------------------------------------------------- */

static void import_mode_create(conf_ctx_t *c)
{
    folder_t f = { "" };
    if (conf_rest_setup(c, NULL) && conf_create(c, "d1", NULL) && folder_make(c, &f) &&
        write_file(c, &f, "devices.txt",
                   "{\"id\":\"d1\",\"importMode\":\"create\",\"status\":\"disabled\",\"authentication\":{\"type\":"
                   "\"sas\",\"symmetricKey\":{\"primaryKey\":\"" CONF_KEY_B "\",\"secondaryKey\":\"" CONF_KEY_A
                   "\"}}}\n")) {
        json_t *doc = import_job(c, &f);
        if (doc && conf_check(c, strcmp(str(doc, "status"), "completed") == 0, "the import job completes", "%s %s",
                              str(doc, "status"), str(doc, "failureReason"))) {
            target_identity_info_t info;
            target_status_t st;
            c->ops->identity_get(c->t, "d1", NULL, &info, &st);
            char *log = read_file(&f, "importErrors.log");
            if (conf_status(c, &st, 200, 0, "GET d1") &&
                conf_check(c, info.enabled, "importMode create of the existing d1: d1 left as it was (enabled)",
                           "d1 disabled"))
                conf_check(c, strstr(log, "d1") != NULL, "an error for d1 in importErrors.log", "%.200s", log);
            free(log);
        }
        json_decref(doc);
    }
    folder_free(&f);
}

/* ---- the table -------------------------------------------------------------------------------------- */

const conf_case_t conf_cases_identity_io[] = {
    { "IDENTITY-EXPORT-ROUNDTRIP", "export of d1, d1/m1, d2: one devices.txt line each, registration order",
      export_lines, WIRE, NULL, true },
    { "IDENTITY-EXPORT-EXCLUDE-KEYS", "export with excludeKeysInExport true: no key in devices.txt",
      export_without_keys, WIRE, NULL, true },
    { "IDENTITY-IMPORT-MALFORMED", "import with line 2 malformed: job failed naming line 2, n1 not created",
      import_malformed, WIRE, NULL, true },
    { "IDENTITY-IMPORT-DUPLICATE", "import naming n2 twice: job failed naming line 3, n1 not created",
      import_duplicate, WIRE, NULL, true },
    { "IDENTITY-IMPORT-MODE", "importMode create of an existing device: left as it was, error logged, job completed",
      import_mode_create, WIRE, NULL, true },
    { NULL, NULL, NULL, 0, NULL, false },
};
