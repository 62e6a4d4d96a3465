/* Report writers as const ops tables (JUnit XML, JSON, HTML) and the one call every subcommand uses to write them. */
#ifndef REPORTS_WRITER_H
#define REPORTS_WRITER_H

#include <jansson.h>
#include <stdio.h>
#include "result.h"

/* Version of the report.json layout (reports/report.schema.json). */
#define REPORT_FORMAT_VERSION 1

typedef struct {
    const char *name;         /* "junit", "json", "html" */
    const char *extension;    /* "xml", "json", "html" */
    const char *default_file; /* the name reports_write_all uses in --out DIR */
    /* Writes the whole report to f; HS_EIO when f fails, HS_ENOMEM. */
    hs_err_t (*write)(const report_result_t *r, FILE *f);
} report_writer_t;

extern const report_writer_t report_writer_junit;
extern const report_writer_t report_writer_json;
extern const report_writer_t report_writer_html;
/* All writers, NULL-terminated, in the order reports are written. */
extern const report_writer_t *const report_writers[];
const report_writer_t *report_writer_find(const char *name);

/* Writes one report to path through a temporary file renamed into place, so
 * a reader never sees half a report.  err gets one line on failure. */
hs_err_t report_writer_to_path(const report_writer_t *w, const report_result_t *r, const char *path,
                               char *err, size_t errcap);

/* --out DIR / --json F / --html F / --junit F, the same for every subcommand:
 * out_dir (created if missing) receives report.json, report.html and
 * junit.xml; a non-NULL single path overrides that one file (and writes it
 * even without out_dir).  All NULL: nothing is written. */
typedef struct {
    const char *out_dir;
    const char *json;
    const char *html;
    const char *junit;
} reports_paths_t;

hs_err_t reports_write(const report_result_t *r, const reports_paths_t *paths, char *err, size_t errcap);
/* reports_write with only out_dir. */
hs_err_t reports_write_all(const report_result_t *r, const char *dir);

/* The JSON form of a result (what report.json holds); NULL on ENOMEM. */
json_t *report_result_to_json(const report_result_t *r);
/* Reads report.json back (for `hubsim merge`): cases, counters, histogram
 * buckets, series, kills and metadata.  HS_EINVAL with a JSON path in err
 * when the document does not follow reports/report.schema.json. */
hs_err_t report_result_from_json(const json_t *doc, report_result_t **out, char *err, size_t errcap);

#endif
