/* Identity import/export: devices.txt JSON lines to and from a local folder standing for a blob container, run as jobs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "auth.h"
#include "hub_internal.h"
#include "sim/simtime.h"

/*
 * The cloud reads and writes blob containers; the mock hub reads and
 * writes folders (docs/identity-import-export.md).  One line per identity,
 * the ExportImportDevice shape of the service SDKs: id, moduleId, eTag,
 * status, authentication {symmetricKey, x509Thumbprint, type},
 * capabilities.iotEdge, deviceScope, parentScopes, tags,
 * properties.desired/reported, importMode.
 *
 * Import is checked whole before anything applies (a malformed line or a
 * duplicate identity fails the job with the line number); then each line
 * applies in file order, and a per-identity refusal (create of an existing
 * id, etag mismatch, ...) goes to importErrors.log in the output folder and
 * the job still completes [doc: "an error is written to the log file"].
 */

struct hub_io {
    json_t *jobs;  /* job documents, creation order */
    uint64_t seq;
};

#define DEFAULT_BLOB "devices.txt"
#define ERRORS_BLOB "importErrors.log"

static struct hub_io *io_get(hub_t *hub)
{
    if (!hub->io) {
        hub->io = calloc(1, sizeof *hub->io);
        if (hub->io && !(hub->io->jobs = json_array())) {
            free(hub->io);
            hub->io = NULL;
        }
    }
    return hub->io;
}

void hub_io_free(hub_t *hub)
{
    if (!hub->io)
        return;
    json_decref(hub->io->jobs);
    free(hub->io);
    hub->io = NULL;
}

/* dir + "/" + name; false when it does not fit. */
static bool path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name ? name : DEFAULT_BLOB);
    return n >= 0 && (size_t)n < cap;
}

static bool dir_exists(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- export ----------------------------------------------------------------- */

static json_t *export_line(hub_t *hub, uint32_t rec, bool exclude_keys)
{
    hub_identity_t id;
    hub_rec_t *r = &hub->recs[rec];
    char dev[HUB_CONFIG_ID_MAX + 1], mod[HUB_CONFIG_ID_MAX + 1];
    hub_rec_ids(hub, r, dev, sizeof dev, mod, sizeof mod);
    if (hub_identity_get(hub, dev, mod, &id) != HUB_EOK)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id.device_id));
    if (id.module_id[0])
        json_object_set_new(o, "moduleId", json_string(id.module_id));
    json_object_set_new(o, "eTag", json_string(id.etag));
    json_object_set_new(o, "status", json_string(id.enabled ? "enabled" : "disabled"));
    bool keys = !exclude_keys || hub_faults_on(&hub->faults, HUB_FAULT_IDENTITY_EXPORT_KEYS);
    json_t *auth = json_object();
    json_object_set_new(auth, "symmetricKey",
                        json_pack("{s:o,s:o}", "primaryKey",
                                  keys && id.primary_key[0] ? json_string(id.primary_key) : json_null(),
                                  "secondaryKey",
                                  keys && id.secondary_key[0] ? json_string(id.secondary_key) : json_null()));
    json_object_set_new(auth, "x509Thumbprint",
                        json_pack("{s:o,s:o}", "primaryThumbprint",
                                  id.primary_thumbprint[0] ? json_string(id.primary_thumbprint) : json_null(),
                                  "secondaryThumbprint",
                                  id.secondary_thumbprint[0] ? json_string(id.secondary_thumbprint) : json_null()));
    json_object_set_new(auth, "type", json_string(id.x509 ? "selfSigned" : "sas"));
    json_object_set_new(o, "authentication", auth);
    if (!id.module_id[0]) {
        json_object_set_new(o, "capabilities", json_pack("{s:b}", "iotEdge", id.iot_edge));
        if (id.device_scope[0])
            json_object_set_new(o, "deviceScope", json_string(id.device_scope));
        if (id.parent_scope[0])
            json_object_set_new(o, "parentScopes", json_pack("[s]", id.parent_scope));
    }
    if (r->twin && hub->twins[r->twin - 1]) {
        json_t *t = hub_twin_service_json(hub->twins[r->twin - 1], dev, mod[0] ? mod : NULL);
        if (t) {
            json_t *v;
            if ((v = json_object_get(t, "etag")))
                json_object_set(o, "twinETag", v);
            if ((v = json_object_get(t, "tags")))
                json_object_set(o, "tags", v);
            if ((v = json_object_get(t, "properties")))
                json_object_set(o, "properties", v);
            json_decref(t);
        }
    }
    return o;
}

hs_err_t hub_identity_export(hub_t *hub, const char *dir, const char *blob, bool exclude_keys,
                             size_t *n_out, char *why, size_t cap)
{
    if (n_out)
        *n_out = 0;
    if (!hub || !dir)
        return HS_EINVAL;
    if (!dir_exists(dir)) {
        snprintf(why, cap, "output container folder \"%s\" does not exist", dir);
        return HS_EIO;
    }
    char path[HUB_CONFIG_PATH_MAX + 256];
    if (!path_join(path, sizeof path, dir, blob)) {
        snprintf(why, cap, "blob path too long");
        return HS_EIO;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(why, cap, "cannot write \"%s\": %s", path, strerror(errno));
        return HS_EIO;
    }
    /* The broken hub forgets the last live identity. */
    uint32_t last = HUB_NONE;
    if (hub_faults_on(&hub->faults, HUB_FAULT_IDENTITY_EXPORT_ALL))
        for (uint32_t i = 0; i < hub->nrecs; i++)
            if (!hub->recs[i].deleted)
                last = i;
    size_t n = 0;
    hs_err_t rc = HS_EOK;
    for (uint32_t i = 0; i < hub->nrecs && rc == HS_EOK; i++) {
        if (hub->recs[i].deleted || i == last)
            continue;
        json_t *line = export_line(hub, i, exclude_keys);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (!text || fprintf(f, "%s\n", text) < 0) {
            snprintf(why, cap, "cannot write \"%s\"", path);
            rc = text ? HS_EIO : HS_ENOMEM;
        }
        free(text);
        json_decref(line);
        n++;
    }
    if (fclose(f) != 0 && rc == HS_EOK) {
        snprintf(why, cap, "cannot write \"%s\"", path);
        rc = HS_EIO;
    }
    if (rc == HS_EOK) {
        hub_ledger_add(&hub->ledger, HUB_L_IO_EXPORTED, n);
        if (n_out)
            *n_out = n;
    }
    return rc;
}

/* ---- import ----------------------------------------------------------------- */

typedef enum {
    M_CREATE_OR_UPDATE = 0,
    M_CREATE,
    M_UPDATE,
    M_UPDATE_IF_MATCH,
    M_CREATE_OR_UPDATE_IF_MATCH,
    M_DELETE,
    M_DELETE_IF_MATCH,
    M_UPDATE_TWIN,
    M_UPDATE_TWIN_IF_MATCH,
} import_mode_t;

static const char *const mode_names[] = {
    "createOrUpdate", "create", "update", "updateIfMatchETag", "createOrUpdateIfMatchETag",
    "delete", "deleteIfMatchETag", "updateTwin", "updateTwinIfMatchETag", NULL,
};

typedef struct {
    json_t *doc;
    size_t line;
    bool ok; /* passed every check */
    import_mode_t mode;
    const char *id, *module_id, *etag, *twin_etag;
} import_line_t;

static bool opt_string(const json_t *o, const char *key, const char **out)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    *out = json_string_value(v);
    return true;
}

/* Check one parsed line; why gets "what" (the caller adds the line). */
static bool line_check(hub_t *hub, import_line_t *l, char *why, size_t cap)
{
    json_t *o = l->doc;
    if (!json_is_object(o)) {
        snprintf(why, cap, "not a JSON object");
        return false;
    }
    const char *mode = NULL, *status = NULL;
    if (!opt_string(o, "id", &l->id) || !l->id || !hub_id_valid(hub, l->id)) {
        snprintf(why, cap, "\"id\" missing or not a valid device id");
        return false;
    }
    if (!opt_string(o, "moduleId", &l->module_id) ||
        (l->module_id && l->module_id[0] && !hub_id_valid(hub, l->module_id))) {
        snprintf(why, cap, "\"moduleId\" is not a valid module id");
        return false;
    }
    if (!opt_string(o, "eTag", &l->etag) || !opt_string(o, "twinETag", &l->twin_etag)) {
        snprintf(why, cap, "\"eTag\"/\"twinETag\" must be strings");
        return false;
    }
    if (!opt_string(o, "importMode", &mode)) {
        snprintf(why, cap, "\"importMode\" must be a string");
        return false;
    }
    l->mode = M_CREATE_OR_UPDATE;
    if (mode) {
        size_t i = 0;
        while (mode_names[i] && strcasecmp(mode_names[i], mode) != 0)
            i++;
        if (!mode_names[i]) {
            snprintf(why, cap, "unknown importMode \"%.64s\"", mode);
            return false;
        }
        l->mode = (import_mode_t)i;
    }
    if (!opt_string(o, "status", &status) ||
        (status && strcasecmp(status, "enabled") != 0 && strcasecmp(status, "disabled") != 0)) {
        snprintf(why, cap, "\"status\" must be \"enabled\" or \"disabled\"");
        return false;
    }
    const json_t *a = json_object_get(o, "authentication");
    if (a && !json_is_null(a) && !json_is_object(a)) {
        snprintf(why, cap, "\"authentication\" must be an object");
        return false;
    }
    const json_t *tags = json_object_get(o, "tags"), *props = json_object_get(o, "properties");
    if ((tags && !json_is_null(tags) && !json_is_object(tags)) ||
        (props && !json_is_null(props) && !json_is_object(props))) {
        snprintf(why, cap, "\"tags\"/\"properties\" must be objects");
        return false;
    }
    return true;
}

static const char *auth_str(const json_t *o, const char *section, const char *key)
{
    const json_t *a = json_object_get(o, "authentication");
    const json_t *v = json_object_get(json_object_get(a, section), key);
    return json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : NULL;
}

/* The parent named by a line's deviceScope (a leaf) or parentScopes[0]
 * (an edge device): the scope's device id, when that device is a live IoT
 * Edge device.  Its generationId is not compared: an export re-imported
 * into a fresh hub re-creates the gateway with a new one [our choice]. */
static const char *line_parent(const json_t *o, bool edge, char *buf, size_t cap)
{
    const json_t *s = edge ? json_array_get(json_object_get(o, "parentScopes"), 0)
                           : json_object_get(o, "deviceScope");
    const char *scope = json_string_value(s);
    const char *pre = "ms-azure-iot-edge://";
    if (!scope || strncmp(scope, pre, strlen(pre)) != 0)
        return NULL;
    const char *dash = strrchr(scope, '-');
    size_t plen = strlen(pre);
    if (!dash || dash <= scope + plen || (size_t)(dash - scope - plen) >= cap)
        return NULL;
    memcpy(buf, scope + plen, (size_t)(dash - scope - plen));
    buf[dash - scope - plen] = '\0';
    if (edge && strcmp(buf, json_string_value(json_object_get(o, "id"))) == 0)
        return NULL;
    return buf;
}

static void log_error(FILE *log, const import_line_t *l, hub_err_t e)
{
    if (!log)
        return;
    const hub_error_info_t *ei = hub_error_info(e);
    json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:I}", "deviceId", l->id, "moduleId",
                          l->module_id ? l->module_id : "", "errorCode", ei ? ei->code : 0,
                          "errorStatus", ei ? ei->name : "error", "line", (json_int_t)l->line);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (t)
        fprintf(log, "%s\n", t);
    free(t);
    json_decref(o);
}

static hub_err_t apply_twin(hub_t *hub, const import_line_t *l, bool if_match)
{
    const json_t *tags = json_object_get(l->doc, "tags");
    const json_t *desired = json_object_get(json_object_get(l->doc, "properties"), "desired");
    if (!json_is_object(tags) && !json_is_object(desired))
        return HUB_EOK;
    json_t *patch = json_object();
    if (json_is_object(tags))
        json_object_set(patch, "tags", (json_t *)tags);
    if (json_is_object(desired)) {
        json_t *d = json_deep_copy(desired);
        json_object_del(d, "$metadata");
        json_object_del(d, "$version");
        json_object_set_new(patch, "properties", json_pack("{s:o}", "desired", d));
    }
    char *text = json_dumps(patch, JSON_COMPACT);
    json_decref(patch);
    if (!text)
        return HUB_ESERVER_ERROR;
    hub_err_t e = hub_twin_patch(hub, l->id, l->module_id, text, strlen(text),
                                 if_match ? l->twin_etag : NULL, NULL);
    free(text);
    return e;
}

static hub_err_t apply_line(hub_t *hub, const import_line_t *l)
{
    const json_t *o = l->doc;
    bool exists = hub_registry_find(hub, l->id, l->module_id && l->module_id[0] ? l->module_id : NULL) != HUB_NONE;
    import_mode_t m = l->mode;
    if (m == M_DELETE || m == M_DELETE_IF_MATCH)
        return hub_identity_delete(hub, l->id, l->module_id, m == M_DELETE_IF_MATCH ? (l->etag ? l->etag : "\"\"") : NULL);
    if (m == M_UPDATE_TWIN || m == M_UPDATE_TWIN_IF_MATCH) {
        if (!exists)
            return HUB_EDEVICE_NOT_FOUND;
        return apply_twin(hub, l, m == M_UPDATE_TWIN_IF_MATCH);
    }
    if (m == M_CREATE && exists && !hub_faults_on(&hub->faults, HUB_FAULT_IDENTITY_IMPORT_MODE))
        return l->module_id && l->module_id[0] ? HUB_EMODULE_ALREADY_EXISTS : HUB_EDEVICE_ALREADY_EXISTS;
    if ((m == M_UPDATE || m == M_UPDATE_IF_MATCH) && !exists)
        return HUB_EDEVICE_NOT_FOUND;
    const char *if_match = NULL;
    if (exists && (m == M_UPDATE_IF_MATCH || m == M_CREATE_OR_UPDATE_IF_MATCH))
        if_match = l->etag ? l->etag : "\"\"";
    hub_identity_spec_t s;
    memset(&s, 0, sizeof s);
    s.device_id = l->id;
    s.module_id = l->module_id;
    const char *status = json_string_value(json_object_get(o, "status"));
    s.disabled = status && strcasecmp(status, "disabled") == 0;
    const char *type = json_string_value(json_object_get(json_object_get(o, "authentication"), "type"));
    s.x509 = type && strcasecmp(type, "selfSigned") == 0;
    s.primary_key = auth_str(o, "symmetricKey", "primaryKey");
    s.secondary_key = auth_str(o, "symmetricKey", "secondaryKey");
    s.primary_thumbprint = auth_str(o, "x509Thumbprint", "primaryThumbprint");
    s.secondary_thumbprint = auth_str(o, "x509Thumbprint", "secondaryThumbprint");
    char parent[HUB_CONFIG_ID_MAX + 1];
    if (!(l->module_id && l->module_id[0])) {
        s.has_iot_edge = true;
        s.iot_edge = json_is_true(json_object_get(json_object_get(o, "capabilities"), "iotEdge"));
        const char *p = line_parent(o, s.iot_edge, parent, sizeof parent);
        s.parent_id = p ? p : "";
    }
    hub_err_t e = hub_identity_put(hub, &s, if_match, NULL);
    if (e)
        return e;
    return apply_twin(hub, l, false);
}

static bool read_line(FILE *f, char **buf, size_t *cap, size_t *len)
{
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            char *nb = realloc(*buf, nc);
            if (!nb)
                return false;
            *buf = nb;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return false;
    if (!*buf) {
        *buf = malloc(1);
        *cap = 1;
        if (!*buf)
            return false;
    }
    if (n && (*buf)[n - 1] == '\r')
        n--;
    (*buf)[n] = '\0';
    *len = n;
    return true;
}

static void free_lines(import_line_t *ls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(ls[i].doc);
    free(ls);
}

/* Read and check every line: HS_EOK with the lines, or the failure. */
static hs_err_t load_lines(hub_t *hub, const char *path, const char *blob, import_line_t **out,
                           size_t *n_out, char *why, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, cap, "cannot read \"%s\": %s", path, strerror(errno));
        return HS_EIO;
    }
    import_line_t *ls = NULL;
    size_t n = 0, lcap = 0, lineno = 0, bcap = 0, len = 0;
    char *buf = NULL;
    json_t *seen = json_object(); /* "dev/mod" -> line: membership only, never iterated */
    hs_err_t rc = seen ? HS_EOK : HS_ENOMEM;
    while (rc == HS_EOK && read_line(f, &buf, &bcap, &len)) {
        lineno++;
        size_t k = 0;
        while (k < len && (buf[k] == ' ' || buf[k] == '\t'))
            k++;
        if (k == len)
            continue; /* blank lines are skipped [?] */
        if (n == lcap) {
            size_t nc = lcap ? lcap * 2 : 64;
            import_line_t *nl = realloc(ls, nc * sizeof *nl);
            if (!nl) {
                rc = HS_ENOMEM;
                break;
            }
            ls = nl;
            lcap = nc;
        }
        import_line_t *l = &ls[n];
        memset(l, 0, sizeof *l);
        l->line = lineno;
        json_error_t jerr;
        l->doc = json_loadb(buf, len, 0, &jerr);
        if (!l->doc) {
            snprintf(why, cap, "%s line %zu column %d: %s", blob, lineno, jerr.column, jerr.text);
            rc = HS_EPARSE;
            break;
        }
        n++;
        char what[160];
        if (!line_check(hub, l, what, sizeof what)) {
            snprintf(why, cap, "%s line %zu: %s", blob, lineno, what);
            rc = HS_EPARSE;
            break;
        }
        char key[2 * HUB_CONFIG_ID_MAX + 4];
        snprintf(key, sizeof key, "%s/%s", l->id, l->module_id ? l->module_id : "");
        const json_t *first = json_object_get(seen, key);
        if (first && !hub_faults_on(&hub->faults, HUB_FAULT_IDENTITY_IMPORT_DUPLICATE)) {
            snprintf(why, cap, "%s line %zu: identity \"%s\" defined more than once (first on line %lld)",
                     blob, lineno, key, (long long)json_integer_value(first));
            rc = HS_EINVAL;
            break;
        }
        json_object_set_new(seen, key, json_integer((json_int_t)lineno));
        l->ok = true;
    }
    if (rc == HS_EOK && ferror(f)) {
        snprintf(why, cap, "cannot read \"%s\"", path);
        rc = HS_EIO;
    }
    fclose(f);
    free(buf);
    json_decref(seen);
    if (rc != HS_EOK && rc != HS_EPARSE && rc != HS_EINVAL && rc != HS_EIO)
        snprintf(why, cap, "out of memory");
    *out = ls;
    *n_out = n;
    return rc;
}

hs_err_t hub_identity_import(hub_t *hub, const char *dir, const char *blob, const char *out_dir,
                             size_t *n_applied, size_t *n_errors, char *why, size_t cap)
{
    if (n_applied)
        *n_applied = 0;
    if (n_errors)
        *n_errors = 0;
    if (!hub || !dir)
        return HS_EINVAL;
    if (!dir_exists(dir)) {
        snprintf(why, cap, "input container folder \"%s\" does not exist", dir);
        return HS_EIO;
    }
    if (out_dir && !dir_exists(out_dir)) {
        snprintf(why, cap, "output container folder \"%s\" does not exist", out_dir);
        return HS_EIO;
    }
    const char *name = blob ? blob : DEFAULT_BLOB;
    char path[HUB_CONFIG_PATH_MAX + 256];
    if (!path_join(path, sizeof path, dir, name)) {
        snprintf(why, cap, "blob path too long");
        return HS_EIO;
    }
    import_line_t *ls = NULL;
    size_t n = 0;
    hs_err_t rc = load_lines(hub, path, name, &ls, &n, why, cap);
    /* The broken hub applies what it read before the bad line. */
    bool partial = rc == HS_EPARSE && hub_faults_on(&hub->faults, HUB_FAULT_IDENTITY_IMPORT_ATOMIC);
    if (rc != HS_EOK && !partial) {
        free_lines(ls, n);
        return rc;
    }
    FILE *log = NULL;
    if (out_dir) {
        char lpath[HUB_CONFIG_PATH_MAX + 256];
        if (path_join(lpath, sizeof lpath, out_dir, ERRORS_BLOB))
            log = fopen(lpath, "w");
    }
    size_t ok = 0, bad = 0;
    for (size_t i = 0; i < n && ls[i].ok; i++) {
        hub_err_t e = apply_line(hub, &ls[i]);
        if (e) {
            log_error(log, &ls[i], e);
            bad++;
        } else {
            ok++;
        }
    }
    if (log)
        fclose(log);
    free_lines(ls, n);
    hub_ledger_add(&hub->ledger, HUB_L_IO_IMPORTED, ok);
    hub_ledger_add(&hub->ledger, HUB_L_IO_IMPORT_ERRORS, bad);
    if (n_applied)
        *n_applied = ok;
    if (n_errors)
        *n_errors = bad;
    return rc;
}

/* ---- jobs ----------------------------------------------------------------------- */

/* A container URI to a folder: "file:///abs" is the folder itself; any
 * other URI's last path segment (query stripped) names a folder under
 * jobs.importExportDir. */
static bool container_dir(const hub_t *hub, const char *uri, char *out, size_t cap, char *why,
                          size_t wcap)
{
    if (strncmp(uri, "file://", 7) == 0) {
        const char *p = uri + 7;
        if (p[0] != '/') {
            snprintf(why, wcap, "file URI \"%s\" must be file:///absolute/path", uri);
            return false;
        }
        if (hub_url_decode(p, strlen(p), out, cap) != HS_EOK) {
            snprintf(why, wcap, "bad escape in \"%s\"", uri);
            return false;
        }
        return true;
    }
    const char *base = hub->cfg.jobs.import_export_dir;
    if (!base[0]) {
        snprintf(why, wcap,
                 "container URI \"%.200s\" is not a file:// URI and jobs.importExportDir is not set", uri);
        return false;
    }
    size_t end = strcspn(uri, "?#");
    while (end > 0 && uri[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && uri[start - 1] != '/')
        start--;
    char seg[256];
    if (end == start || end - start >= sizeof seg || memchr(uri + start, ':', end - start)) {
        snprintf(why, wcap, "container URI \"%.200s\" names no container", uri);
        return false;
    }
    memcpy(seg, uri + start, end - start);
    seg[end - start] = '\0';
    if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0) {
        snprintf(why, wcap, "container name \"%s\" is not allowed", seg);
        return false;
    }
    size_t bl = strlen(base), sl = strlen(seg);
    if (bl + 1 + sl + 1 > cap) {
        snprintf(why, wcap, "container folder path for \"%s\" is too long", seg);
        return false;
    }
    memcpy(out, base, bl);
    out[bl] = '/';
    memcpy(out + bl + 1, seg, sl + 1);
    return true;
}

static json_t *now_iso(const hub_t *hub)
{
    char buf[40];
    sim_utc_format(hub->epoch, sim_kernel_now(hub->k), buf, sizeof buf);
    return json_string(buf);
}

static hub_err_t bad_request(char *why, size_t cap, const char *what)
{
    if (why)
        snprintf(why, cap, "%s", what);
    return HUB_EARGUMENT_INVALID;
}

hub_err_t hub_io_job_create(hub_t *hub, const json_t *body, json_t **doc_out, char *why, size_t cap)
{
    if (doc_out)
        *doc_out = NULL;
    if (!hub || !body)
        return HUB_EARGUMENT_NULL;
    if (!json_is_object(body))
        return bad_request(why, cap, "the job request must be a JSON object");
    const char *type = json_string_value(json_object_get(body, "type"));
    bool is_export = type && (strcmp(type, "export") == 0 || strcmp(type, "exportDevices") == 0);
    bool is_import = type && (strcmp(type, "import") == 0 || strcmp(type, "importDevices") == 0);
    if (!is_export && !is_import)
        return bad_request(why, cap, "\"type\" must be \"export\" or \"import\"");
    const json_t *out_uri = json_object_get(body, "outputBlobContainerUri");
    const json_t *in_uri = json_object_get(body, "inputBlobContainerUri");
    const json_t *excl = json_object_get(body, "excludeKeysInExport");
    if (!json_is_string(out_uri) || !json_string_value(out_uri)[0])
        return bad_request(why, cap, "\"outputBlobContainerUri\" is required");
    if (is_import && (!json_is_string(in_uri) || !json_string_value(in_uri)[0]))
        return bad_request(why, cap, "\"inputBlobContainerUri\" is required for an import");
    if (excl && !json_is_boolean(excl) && !json_is_null(excl))
        return bad_request(why, cap, "\"excludeKeysInExport\" must be a boolean");
    const json_t *in_blob = json_object_get(body, "inputBlobName");
    const json_t *out_blob = json_object_get(body, "outputBlobName");
    if ((in_blob && !json_is_null(in_blob) && !json_is_string(in_blob)) ||
        (out_blob && !json_is_null(out_blob) && !json_is_string(out_blob)))
        return bad_request(why, cap, "blob names must be strings");
    const char *ib = json_string_value(in_blob), *ob = json_string_value(out_blob);
    if ((ib && (strchr(ib, '/') || !ib[0])) || (ob && (strchr(ob, '/') || !ob[0])))
        return bad_request(why, cap, "blob names must be plain file names");
    struct hub_io *io = io_get(hub);
    if (!io)
        return HUB_ESERVER_ERROR;

    char job_id[HUB_IO_JOB_ID_CAP];
    io->seq++;
    snprintf(job_id, sizeof job_id, "00000000-0000-4000-8000-%012llx", (unsigned long long)io->seq);
    json_t *doc = json_object();
    json_object_set_new(doc, "jobId", json_string(job_id));
    json_object_set_new(doc, "type", json_string(is_export ? "export" : "import"));
    json_object_set_new(doc, "startTimeUtc", now_iso(hub));
    json_object_set(doc, "outputBlobContainerUri", (json_t *)out_uri);
    if (is_import)
        json_object_set(doc, "inputBlobContainerUri", (json_t *)in_uri);
    else
        json_object_set_new(doc, "excludeKeysInExport", json_boolean(json_is_true(excl)));

    char fail[512] = "";
    char out_dir[HUB_CONFIG_PATH_MAX + 1], in_dir[HUB_CONFIG_PATH_MAX + 1];
    hs_err_t rc = HS_EOK;
    size_t n = 0, nerr = 0;
    if (!container_dir(hub, json_string_value(out_uri), out_dir, sizeof out_dir, fail, sizeof fail) ||
        (is_import &&
         !container_dir(hub, json_string_value(in_uri), in_dir, sizeof in_dir, fail, sizeof fail)))
        rc = HS_EINVAL;
    else if (is_export)
        rc = hub_identity_export(hub, out_dir, ob, json_is_true(excl), &n, fail, sizeof fail);
    else
        rc = hub_identity_import(hub, in_dir, ib, out_dir, &n, &nerr, fail, sizeof fail);

    json_object_set_new(doc, "endTimeUtc", now_iso(hub));
    json_object_set_new(doc, "status", json_string(rc == HS_EOK ? "completed" : "failed"));
    json_object_set_new(doc, "progress", json_integer(rc == HS_EOK ? 100 : 0));
    if (rc == HS_EOK) {
        json_object_set_new(doc, "deviceCount", json_integer((json_int_t)n));
        if (is_import)
            json_object_set_new(doc, "importErrorCount", json_integer((json_int_t)nerr));
    } else {
        json_object_set_new(doc, "failureReason", json_string(fail));
    }
    hub_ledger_add(&hub->ledger, rc == HS_EOK ? HUB_L_IO_JOBS_COMPLETED : HUB_L_IO_JOBS_FAILED, 1);
    sim_tf_t f[] = { TF_STR("job", job_id), TF_STR("type", is_export ? "export" : "import"),
                     TF_STR("status", rc == HS_EOK ? "completed" : "failed") };
    sim_kernel_emit(hub->k, "hub.io_job", f, 3);
    json_array_append(io->jobs, doc);
    if (doc_out)
        *doc_out = doc;
    else
        json_decref(doc);
    return HUB_EOK;
}

bool hub_io_job_get(hub_t *hub, const char *job_id, json_t **doc_out)
{
    if (doc_out)
        *doc_out = NULL;
    if (!hub || !hub->io || !job_id)
        return false;
    size_t i;
    json_t *d;
    json_array_foreach(hub->io->jobs, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "jobId")), job_id) == 0) {
            if (doc_out)
                *doc_out = json_deep_copy(d);
            return true;
        }
    }
    return false;
}

json_t *hub_io_job_list(hub_t *hub)
{
    if (!hub || !hub->io)
        return json_array();
    return json_deep_copy(hub->io->jobs);
}
