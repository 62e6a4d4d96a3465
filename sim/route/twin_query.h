/* The twin query language (SELECT ... FROM devices[.modules] [WHERE] [GROUP BY]): compile once, run over twin documents. */
#ifndef TWIN_QUERY_H
#define TWIN_QUERY_H

/*
 * Model.  twin_query_compile parses the SELECT / FROM / WHERE / GROUP BY
 * frame itself and hands the WHERE condition to the routing engine
 * (route_query.h) after rewriting it: bare paths become `$twin.` paths into
 * the whole twin document, `x IN [a, b]` becomes `(x = a OR x = b)` and NIN
 * its negation.  So comparisons, AND/OR/NOT, three-valued logic and the
 * IS_* / STARTS_WITH / ENDS_WITH / CONTAINS functions are exactly the
 * routing engine's (docs/twin-query.md lists where the languages differ).
 * Errors carry line and column in the caller's text.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sim/errors.h"
#include "sim/route/route_query.h"

/* Longest query text accepted, in bytes [doc: 8192 characters]. */
#define TWIN_QUERY_MAX_LEN 8192

typedef enum {
    TWIN_FROM_DEVICES = 0, /* FROM devices: device twins (no moduleId) */
    TWIN_FROM_MODULES = 1, /* FROM devices.modules: module twins */
    TWIN_FROM_JOBS = 2,    /* FROM devices.jobs: per-device job records (a "jobId" member;
                              hub_jobs_device_records); SELECT * only [doc] */
} twin_from_t;

typedef struct twin_query twin_query_t;

/* Compile text.  A syntax error, an unsupported construct (a projection or
 * aggregate over devices.jobs, a function the twin language lacks, ...) is HS_EPARSE with err
 * filled (1-based line, column in characters); HS_ENOMEM on allocation
 * failure. */
hs_err_t twin_query_compile(const char *text, twin_query_t **out, route_syntax_error_t *err);
void twin_query_free(twin_query_t *q);

/* Kill-matrix mutations, 0 = none: the hub's REST query
 * (serve/http/http_query.c) sets them from its armed TWINQ-* break switches
 * (sim/hub/faults.h), never from user input. */
#define TWIN_QUERY_BREAK_WHERE 0x1u      /* the WHERE condition is ignored */
#define TWIN_QUERY_BREAK_NIN_AS_IN 0x2u  /* x NIN [..] means x IN [..] */
#define TWIN_QUERY_BREAK_IS_DEFINED 0x4u /* IS_DEFINED answers the opposite */
#define TWIN_QUERY_BREAK_GROUP_BY 0x8u   /* GROUP BY is ignored (one row over all hits) */
/* twin_query_compile with those mutations. */
hs_err_t twin_query_compile_broken(const char *text, unsigned breaks, twin_query_t **out,
                                   route_syntax_error_t *err);

twin_from_t twin_query_from(const twin_query_t *q);
/* The x-ms-item-type of the results: "twin" for SELECT * over twins,
 * "deviceJob" over devices.jobs, "raw" for projections and aggregates. */
const char *twin_query_item_type(const twin_query_t *q);
/* Whether doc belongs to the FROM collection and its WHERE is true. */
bool twin_query_matches(twin_query_t *q, const json_t *doc);
/* Run over docs (a JSON array of twin documents, or of job records for
 * FROM devices.jobs; elements of another collection are skipped): a new JSON array of result rows in document order (groups in
 * order of first appearance), or NULL on allocation failure. */
json_t *twin_query_run(twin_query_t *q, const json_t *docs);

#endif
