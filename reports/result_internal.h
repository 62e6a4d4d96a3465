/* The result model's layout, shared by the writers inside reports/ only (everyone else uses result.h). */
#ifndef REPORTS_RESULT_INTERNAL_H
#define REPORTS_RESULT_INTERNAL_H

#include "result.h"

typedef struct {
    char *key, *value;
} report_kv_t;

typedef struct {
    char *name;
    int64_t *value; /* own allocation, so report_result_counter_ref stays valid */
} report_counter_t;

typedef struct {
    char *name;
    report_hist_t *hist;
} report_named_hist_t;

typedef struct {
    sim_time_t t;
    double v;
} report_point_t;

typedef struct {
    char *name, *unit;
    report_point_t *points;
    size_t npoints, cap;
} report_series_t;

typedef struct {
    char *switch_id, *rule_id, *by_case, *note;
    int killed;
} report_kill_t;

struct report_result {
    report_kind_t kind;
    char *name;
    uint64_t seed;
    int has_seed;
    char *target;
    int catalogue_version; /* 0: none */
    uint64_t trace_hash;
    int has_trace_hash;
    int strict;
    int64_t epoch_unix;
    sim_time_t virtual_duration;
    int has_virtual;
    int64_t wall_started_ms, wall_finished_ms;
    int has_wallclock;

    report_kv_t *knobs; /* sorted by key */
    size_t nknobs;
    report_kv_t *info; /* sorted by key */
    size_t ninfo;
    report_case_t *cases; /* sorted by (area, id, name), stable */
    size_t ncases, capcases;
    report_counter_t *counters; /* sorted by name */
    size_t ncounters;
    report_named_hist_t *hists; /* sorted by name */
    size_t nhists;
    report_series_t *series; /* sorted by name */
    size_t nseries;
    report_kill_t *kills; /* sorted by switch id, stable */
    size_t nkills;
};

/* Distinct areas of the cases, in case order (sorted); *n set.  Borrowed
 * pointers into the cases; caller frees the array. */
const char **report_result_areas(const report_result_t *r, size_t *n);

#endif
