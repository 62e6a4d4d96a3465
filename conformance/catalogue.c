/* Rule catalogue loader: validates catalogue.json strictly and indexes rules by ID. */
/*
 * The catalogue is data the whole suite leans on (reports quote its text,
 * the runner refuses unknown rule IDs, the hub error table names its IDs), so
 * the loader is strict: every member is checked for type and allowed values,
 * IDs must be unique, match the ID pattern and not reuse a retired ID, and
 * NOTES.md rules must carry their confidence mark.  Rules keep file order for
 * listings; a sorted index of pointers answers lookups in O(log n).
 */
#include "catalogue.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct catalogue {
    json_t *root; /* owns every string the rules point to */
    int version;
    catalogue_rule_t *rules;
    size_t nrules;
    const catalogue_rule_t **by_id; /* sorted by id */
    const char **areas;
    size_t nareas;
    const char **retired; /* sorted */
    size_t nretired;
};

static const char *const known_areas[] = { "methods",     "messages", "c2d", "twins", "routing",
                                           "auth",        "connections", "registry", "hub",
                                           "client",      "jobs",     "uploads", "twinquery",
                                           "eventhubs",   "gateways" };
/* Issue 10's areas rest on the facts their pages under docs/ collect with
 * marks (the spec documents give each area one line). */
static const char *const known_docs[] = { "direct-methods.txt", "message-format.txt",
                                          "routing-query.txt", "endpoints.txt", "NOTES.md",
                                          "docs/jobs.md", "docs/file-uploads.md", "docs/twin-query.md",
                                          "docs/eventhubs.md", "docs/gateways.md",
                                          "docs/identity-import-export.md" };
static const char *const known_confidence[] = { "doc", "sdk", "edge", "?" };

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* "METHOD-404-UNKNOWN": upper-case letters and digits in two or more
 * dash-separated words. */
static int id_valid(const char *id)
{
    size_t words = 0, len = 0;
    for (const char *p = id;; p++) {
        if (*p == '-' || *p == 0) {
            if (len == 0)
                return 0;
            words++;
            len = 0;
            if (*p == 0)
                break;
        } else if ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
            len++;
        } else {
            return 0;
        }
    }
    return words >= 2;
}

static int cmp_rule_ptr(const void *a, const void *b)
{
    const catalogue_rule_t *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

/* A required string member; NULL (and err filled) when absent or not a string. */
static const char *get_str(json_t *obj, const char *key, const char *path, const char *origin,
                           char *err, size_t cap, int required)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            set_err(err, cap, "%s: %s.%s: missing (expected a string)", origin, path, key);
        return NULL;
    }
    if (!json_is_string(v)) {
        set_err(err, cap, "%s: %s.%s: expected a string", origin, path, key);
        return NULL;
    }
    return json_string_value(v);
}

static hs_err_t only_members(json_t *obj, const char *const *allowed, size_t n, const char *path,
                             const char *origin, char *err, size_t cap)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        (void)v;
        if (!in_list(key, allowed, n)) {
            set_err(err, cap, "%s: %s: unknown member \"%s\"", origin, path, key);
            return HS_EINVAL;
        }
    }
    return HS_EOK;
}

static hs_err_t parse_rule(catalogue_t *cat, json_t *jr, size_t i, const char *origin, char *err,
                           size_t cap)
{
    static const char *const members[] = { "id", "area", "level", "spec", "text", "protocols", "knob" };
    char path[48];
    snprintf(path, sizeof path, "$.rules[%zu]", i);
    if (!json_is_object(jr)) {
        set_err(err, cap, "%s: %s: expected an object", origin, path);
        return HS_EINVAL;
    }
    if (only_members(jr, members, sizeof members / sizeof *members, path, origin, err, cap))
        return HS_EINVAL;
    catalogue_rule_t *r = &cat->rules[i];
    if (!(r->id = get_str(jr, "id", path, origin, err, cap, 1)))
        return HS_EINVAL;
    if (!id_valid(r->id)) {
        set_err(err, cap, "%s: %s.id: \"%s\" is not a rule ID (upper-case words joined by '-')",
                origin, path, r->id);
        return HS_EINVAL;
    }
    if (!(r->area = get_str(jr, "area", path, origin, err, cap, 1)))
        return HS_EINVAL;
    if (!catalogue_has_area(cat, r->area)) {
        set_err(err, cap, "%s: %s.area: \"%s\" is not one of the catalogue's areas", origin, path,
                r->area);
        return HS_EINVAL;
    }
    if (!(r->level_name = get_str(jr, "level", path, origin, err, cap, 1)))
        return HS_EINVAL;
    if (!strcmp(r->level_name, "MUST"))
        r->level = CATALOGUE_MUST;
    else if (!strcmp(r->level_name, "SHOULD"))
        r->level = CATALOGUE_SHOULD;
    else if (!strcmp(r->level_name, "KNOB"))
        r->level = CATALOGUE_KNOB;
    else {
        set_err(err, cap, "%s: %s.level: \"%s\" (expected MUST, SHOULD or KNOB)", origin, path,
                r->level_name);
        return HS_EINVAL;
    }
    if (!(r->text = get_str(jr, "text", path, origin, err, cap, 1)))
        return HS_EINVAL;
    if (strlen(r->text) < 20) {
        set_err(err, cap, "%s: %s.text: too short to state a rule", origin, path);
        return HS_EINVAL;
    }

    json_t *spec = json_object_get(jr, "spec");
    char spath[64];
    snprintf(spath, sizeof spath, "%s.spec", path);
    if (!json_is_object(spec)) {
        set_err(err, cap, "%s: %s: missing or not an object", origin, spath);
        return HS_EINVAL;
    }
    static const char *const spec_members[] = { "doc", "section", "confidence" };
    if (only_members(spec, spec_members, 3, spath, origin, err, cap))
        return HS_EINVAL;
    if (!(r->doc = get_str(spec, "doc", spath, origin, err, cap, 1)))
        return HS_EINVAL;
    if (!in_list(r->doc, known_docs, sizeof known_docs / sizeof *known_docs)) {
        set_err(err, cap, "%s: %s.doc: \"%s\" is not one of the spec documents", origin, spath, r->doc);
        return HS_EINVAL;
    }
    r->section = get_str(spec, "section", spath, origin, err, cap, 0);
    if (!r->section && json_object_get(spec, "section"))
        return HS_EINVAL;
    r->confidence = get_str(spec, "confidence", spath, origin, err, cap, 0);
    if (!r->confidence && json_object_get(spec, "confidence"))
        return HS_EINVAL;
    if (r->confidence && !in_list(r->confidence, known_confidence, 4)) {
        set_err(err, cap, "%s: %s.confidence: \"%s\" (expected doc, sdk, edge or ?)", origin, spath,
                r->confidence);
        return HS_EINVAL;
    }
    /* NOTES.md facts (and those of the docs/ pages) are only as good as
     * their mark, so the mark is required. */
    int marked_doc = !strcmp(r->doc, "NOTES.md") || !strncmp(r->doc, "docs/", 5);
    if (marked_doc && !r->confidence) {
        set_err(err, cap, "%s: %s.confidence: required for %s rules", origin, spath, r->doc);
        return HS_EINVAL;
    }

    json_t *protos = json_object_get(jr, "protocols");
    if (!json_is_array(protos) || json_array_size(protos) == 0) {
        set_err(err, cap, "%s: %s.protocols: expected a non-empty array", origin, path);
        return HS_EINVAL;
    }
    size_t k;
    json_t *p;
    json_array_foreach(protos, k, p) {
        const char *s = json_string_value(p);
        unsigned bit = !s                    ? 0
                       : !strcmp(s, "mqtt")  ? CATALOGUE_PROTO_MQTT
                       : !strcmp(s, "amqp")  ? CATALOGUE_PROTO_AMQP
                       : !strcmp(s, "https") ? CATALOGUE_PROTO_HTTPS
                                             : 0;
        if (!bit) {
            set_err(err, cap, "%s: %s.protocols[%zu]: expected \"mqtt\", \"amqp\" or \"https\"",
                    origin, path, k);
            return HS_EINVAL;
        }
        r->protocols |= bit;
    }

    json_t *knob = json_object_get(jr, "knob");
    if (knob) {
        char kpath[64];
        snprintf(kpath, sizeof kpath, "%s.knob", path);
        if (!json_is_object(knob)) {
            set_err(err, cap, "%s: %s: expected an object", origin, kpath);
            return HS_EINVAL;
        }
        if (!(r->knob_name = get_str(knob, "name", kpath, origin, err, cap, 1)) ||
            !(r->knob_default = get_str(knob, "default", kpath, origin, err, cap, 1)))
            return HS_EINVAL;
    }
    /* A KNOB rule is only checkable if the report can say which knob and
     * what value the verdict was reached under. */
    if (r->level == CATALOGUE_KNOB && !knob) {
        set_err(err, cap, "%s: %s.knob: required for level KNOB", origin, path);
        return HS_EINVAL;
    }
    return HS_EOK;
}

static hs_err_t build(catalogue_t *cat, const char *origin, char *err, size_t cap)
{
    json_t *root = cat->root;
    static const char *const members[] = { "$schema", "description", "catalogue_version",
                                           "areas", "rules", "retired" };
    if (!json_is_object(root)) {
        set_err(err, cap, "%s: $: expected an object", origin);
        return HS_EINVAL;
    }
    if (only_members(root, members, sizeof members / sizeof *members, "$", origin, err, cap))
        return HS_EINVAL;
    json_t *ver = json_object_get(root, "catalogue_version");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1 || json_integer_value(ver) > INT_MAX) {
        set_err(err, cap, "%s: $.catalogue_version: expected an integer >= 1", origin);
        return HS_EINVAL;
    }
    cat->version = (int)json_integer_value(ver);

    json_t *areas = json_object_get(root, "areas");
    if (!json_is_array(areas) || json_array_size(areas) == 0) {
        set_err(err, cap, "%s: $.areas: expected a non-empty array of area names", origin);
        return HS_EINVAL;
    }
    cat->areas = calloc(json_array_size(areas), sizeof *cat->areas);
    if (!cat->areas)
        return HS_ENOMEM;
    size_t i;
    json_t *v;
    json_array_foreach(areas, i, v) {
        const char *a = json_string_value(v);
        if (!a || !in_list(a, known_areas, sizeof known_areas / sizeof *known_areas)) {
            set_err(err, cap, "%s: $.areas[%zu]: expected one of methods, messages, c2d, twins, "
                    "routing, auth, connections, registry, hub, client, jobs, uploads, twinquery, "
                    "eventhubs, gateways", origin, i);
            return HS_EINVAL;
        }
        if (catalogue_has_area(cat, a)) {
            set_err(err, cap, "%s: $.areas[%zu]: \"%s\" listed twice", origin, i, a);
            return HS_EINVAL;
        }
        cat->areas[cat->nareas++] = a;
    }

    json_t *retired = json_object_get(root, "retired");
    if (!json_is_array(retired)) {
        set_err(err, cap, "%s: $.retired: expected an array (may be empty)", origin);
        return HS_EINVAL;
    }
    if (json_array_size(retired)) {
        cat->retired = calloc(json_array_size(retired), sizeof *cat->retired);
        if (!cat->retired)
            return HS_ENOMEM;
    }
    json_array_foreach(retired, i, v) {
        char path[48];
        snprintf(path, sizeof path, "$.retired[%zu]", i);
        const char *id = json_is_object(v) ? get_str(v, "id", path, origin, err, cap, 1) : NULL;
        if (!id) {
            if (!json_is_object(v))
                set_err(err, cap, "%s: %s: expected {\"id\", \"retired_in\", \"reason\"}", origin, path);
            return HS_EINVAL;
        }
        if (!json_is_integer(json_object_get(v, "retired_in")) ||
            !get_str(v, "reason", path, origin, err, cap, 1)) {
            set_err(err, cap, "%s: %s: needs \"retired_in\" (integer) and \"reason\" (string)",
                    origin, path);
            return HS_EINVAL;
        }
        cat->retired[cat->nretired++] = id;
    }
    if (cat->nretired)
        qsort(cat->retired, cat->nretired, sizeof *cat->retired, cmp_str_ptr);

    json_t *rules = json_object_get(root, "rules");
    if (!json_is_array(rules)) {
        set_err(err, cap, "%s: $.rules: expected an array", origin);
        return HS_EINVAL;
    }
    cat->nrules = json_array_size(rules);
    if (cat->nrules) {
        cat->rules = calloc(cat->nrules, sizeof *cat->rules);
        cat->by_id = calloc(cat->nrules, sizeof *cat->by_id);
        if (!cat->rules || !cat->by_id)
            return HS_ENOMEM;
    }
    json_array_foreach(rules, i, v) {
        hs_err_t rc = parse_rule(cat, v, i, origin, err, cap);
        if (rc)
            return rc;
        if (catalogue_is_retired(cat, cat->rules[i].id)) {
            set_err(err, cap, "%s: $.rules[%zu].id: \"%s\" is retired; rule IDs are never reused",
                    origin, i, cat->rules[i].id);
            return HS_EINVAL;
        }
        cat->by_id[i] = &cat->rules[i];
    }
    if (cat->nrules)
        qsort(cat->by_id, cat->nrules, sizeof *cat->by_id, cmp_rule_ptr);
    for (i = 1; i < cat->nrules; i++) {
        if (strcmp(cat->by_id[i - 1]->id, cat->by_id[i]->id) == 0) {
            set_err(err, cap, "%s: $.rules: rule ID \"%s\" appears twice", origin, cat->by_id[i]->id);
            return HS_EINVAL;
        }
    }
    return HS_EOK;
}

static hs_err_t load_json(json_t *root, const char *origin, catalogue_t **out, char *err, size_t cap)
{
    catalogue_t *cat = calloc(1, sizeof *cat);
    if (!cat) {
        json_decref(root);
        return HS_ENOMEM;
    }
    cat->root = root;
    hs_err_t rc = build(cat, origin, err, cap);
    if (rc) {
        if (rc == HS_ENOMEM)
            set_err(err, cap, "%s: out of memory", origin);
        catalogue_free(cat);
        return rc;
    }
    *out = cat;
    return HS_EOK;
}

hs_err_t catalogue_load_string(const char *text, const char *origin, catalogue_t **out, char *err,
                               size_t errcap)
{
    *out = NULL;
    if (!origin)
        origin = "(catalogue)";
    json_error_t jerr;
    json_t *root = json_loads(text ? text : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        set_err(err, errcap, "%s:%d:%d: %s", origin, jerr.line, jerr.column, jerr.text);
        return HS_EPARSE;
    }
    return load_json(root, origin, out, err, errcap);
}

hs_err_t catalogue_load_file(const char *path, catalogue_t **out, char *err, size_t errcap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errcap, "%s: cannot open", path);
        return HS_EIO;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        set_err(err, errcap, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return HS_EPARSE;
    }
    return load_json(root, path, out, err, errcap);
}

static int file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

hs_err_t catalogue_default_path(char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return HS_EINVAL;
    buf[0] = 0;
    const char *env = getenv("HUBSIM_CATALOGUE");
    if (env && *env) {
        snprintf(buf, cap, "%s", env);
        /* An explicit choice is never silently replaced by another file. */
        return file_exists(buf) ? HS_EOK : HS_ENOTFOUND;
    }
    /* CMake compiles with absolute source paths, so __FILE__ names the
     * source tree: a build run from its tree finds the catalogue beside it. */
    const char *self = __FILE__;
    const char *slash = strrchr(self, '/');
    if (slash && self[0] == '/') {
        snprintf(buf, cap, "%.*s/catalogue.json", (int)(slash - self), self);
        if (file_exists(buf))
            return HS_EOK;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) {
            *s = 0;
            snprintf(buf, cap, "%s/../share/hubsim/catalogue.json", exe);
            if (file_exists(buf))
                return HS_EOK;
        }
    }
    return HS_ENOTFOUND;
}

hs_err_t catalogue_load_default(catalogue_t **out, char *err, size_t errcap)
{
    char path[4200];
    *out = NULL;
    if (catalogue_default_path(path, sizeof path) != HS_EOK) {
        set_err(err, errcap, "rule catalogue not found (last tried %s); set HUBSIM_CATALOGUE",
                path[0] ? path : "nothing");
        return HS_ENOTFOUND;
    }
    return catalogue_load_file(path, out, err, errcap);
}

void catalogue_free(catalogue_t *cat)
{
    if (!cat)
        return;
    free(cat->rules);
    free(cat->by_id);
    free(cat->areas);
    free(cat->retired);
    json_decref(cat->root);
    free(cat);
}

int catalogue_version(const catalogue_t *cat)
{
    return cat->version;
}

size_t catalogue_count(const catalogue_t *cat)
{
    return cat->nrules;
}

const catalogue_rule_t *catalogue_rule_at(const catalogue_t *cat, size_t i)
{
    return i < cat->nrules ? &cat->rules[i] : NULL;
}

const catalogue_rule_t *catalogue_find(const catalogue_t *cat, const char *id)
{
    if (!id || !cat->nrules)
        return NULL;
    catalogue_rule_t key = { .id = id };
    const catalogue_rule_t *kp = &key;
    const catalogue_rule_t **hit = bsearch(&kp, cat->by_id, cat->nrules, sizeof *cat->by_id,
                                           cmp_rule_ptr);
    return hit ? *hit : NULL;
}

int catalogue_is_retired(const catalogue_t *cat, const char *id)
{
    if (!id || !cat->nretired)
        return 0;
    return bsearch(&id, cat->retired, cat->nretired, sizeof *cat->retired, cmp_str_ptr) != NULL;
}

size_t catalogue_area_count(const catalogue_t *cat)
{
    return cat->nareas;
}

const char *catalogue_area_at(const catalogue_t *cat, size_t i)
{
    return i < cat->nareas ? cat->areas[i] : NULL;
}

int catalogue_has_area(const catalogue_t *cat, const char *area)
{
    return area && in_list(area, cat->areas, cat->nareas);
}

const char *catalogue_protocols_format(unsigned protocols, char *buf, size_t cap)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        { CATALOGUE_PROTO_MQTT, "mqtt" }, { CATALOGUE_PROTO_AMQP, "amqp" }, { CATALOGUE_PROTO_HTTPS, "https" },
    };
    size_t len = 0;
    if (!cap)
        return buf;
    buf[0] = 0;
    for (size_t i = 0; i < 3; i++) {
        if (!(protocols & names[i].bit))
            continue;
        int n = snprintf(buf + len, cap - len, "%s%s", len ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    return buf;
}

const char *catalogue_spec_ref(const catalogue_rule_t *rule, char *buf, size_t cap)
{
    if (!cap)
        return buf;
    snprintf(buf, cap, "%s%s%s%s%s%s", rule->doc, rule->confidence ? " [" : "",
             rule->confidence ? rule->confidence : "", rule->confidence ? "]" : "",
             rule->section ? ", " : "", rule->section ? rule->section : "");
    return buf;
}
