/* The one result model for conformance verdicts and scenario results: metadata, cases, metrics, kill matrix. */
#ifndef REPORTS_RESULT_H
#define REPORTS_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include "histogram.h"
#include "sim/errors.h"
#include "sim/simtime.h"

/* Autobahn-style verdicts, in severity order. */
#define REPORT_VERDICT_MAP(X)                                                            \
    X(PASS, "PASS", "the hub did what the rule says")                                    \
    X(NON_STRICT, "NON-STRICT", "a SHOULD or knob-dependent behaviour differs")          \
    X(WRONG_CODE, "WRONG-CODE", "right outcome class, wrong status or error code")       \
    X(FAIL, "FAIL", "the hub broke the rule")                                            \
    X(SKIP, "SKIP", "not applicable to this target")                                     \
    X(ERROR, "ERROR", "the harness itself failed")

typedef enum {
#define REPORT_VERDICT_ENUM(e, name, what) REPORT_##e,
    REPORT_VERDICT_MAP(REPORT_VERDICT_ENUM)
#undef REPORT_VERDICT_ENUM
    REPORT_VERDICT_COUNT
} report_verdict_t;

/* "NON-STRICT" etc.; "?" for out-of-range values. */
const char *report_verdict_name(report_verdict_t v);
/* Exact, case-sensitive names as printed; HS_EINVAL otherwise. */
hs_err_t report_verdict_parse(const char *name, report_verdict_t *out);

typedef enum { REPORT_KIND_CONFORMANCE, REPORT_KIND_SCENARIO } report_kind_t;

/* One case: a conformance case (id = rule ID) or a scenario expectation
 * (id = expectation name).  Every string is copied by report_result_add_case;
 * NULL means absent. */
typedef struct {
    const char *id;            /* rule ID, e.g. "METHOD-TIMEOUT-RANGE" (required) */
    const char *area;          /* catalogue area, or "expectations" for scenarios (required) */
    const char *name;          /* what this case tries, e.g. "responseTimeout 301 s refused" */
    report_verdict_t verdict;
    const char *level;         /* "MUST", "SHOULD", "KNOB" */
    const char *rule_text;     /* the catalogue sentence */
    const char *spec_ref;      /* "direct-methods.txt: Method invocation" / "NOTES.md [?]" */
    const char *expected;
    const char *observed;
    const char *message;       /* why, for anything but PASS (SKIP: why not applicable) */
    const char *trace_excerpt; /* JSON-lines trace around the decisive event */
    const char *baseline;      /* non-NULL: a known failure listed in --baseline, with its reason */
    sim_time_t duration;       /* virtual time the case took */
    const char *tolerance;     /* the timing tolerance a wall-clock target ran the case with (NULL: exact) */
} report_case_t;

typedef struct report_result report_result_t;

/* name: the suite or scenario name ("conformance", "offline-windows"). */
report_result_t *report_result_new(report_kind_t kind, const char *name);
void report_result_free(report_result_t *r);

/* --- deterministic run metadata ------------------------------------------ */
/* The hubsim version and trace format version are stamped automatically. */
void report_result_set_seed(report_result_t *r, uint64_t seed);
hs_err_t report_result_set_target(report_result_t *r, const char *target);
void report_result_set_catalogue_version(report_result_t *r, int version);
void report_result_set_trace_hash(report_result_t *r, uint64_t hash);
/* --strict: NON-STRICT verdicts fail the gate too. */
void report_result_set_strict(report_result_t *r, int strict);
/* The UTC instant virtual time 0 stands for, and the virtual span covered. */
void report_result_set_virtual(report_result_t *r, int64_t epoch_unix, sim_time_t duration);
/* Every hub knob as key/value strings; setting a key again replaces it. */
hs_err_t report_result_set_knob(report_result_t *r, const char *key, const char *value);
/* Other deterministic facts (scenario file, protocol, shard "2/8", --only glob). */
hs_err_t report_result_set_info(report_result_t *r, const char *key, const char *value);

/* --- wall-clock fields: the only ones that differ between identical runs --- */
/* Unix milliseconds; set by the command, never by the simulation. */
void report_result_set_wallclock(report_result_t *r, int64_t started_ms, int64_t finished_ms);

/* --- cases ------------------------------------------------------------------ */
/* HS_EINVAL without id or area, or with an out-of-range verdict. */
hs_err_t report_result_add_case(report_result_t *r, const report_case_t *c);
/* Cases sorted by (area, id, name), ties in insertion order. */
size_t report_result_case_count(const report_result_t *r);
const report_case_t *report_result_case_at(const report_result_t *r, size_t i);
size_t report_result_verdict_count(const report_result_t *r, report_verdict_t v);

/* --- metrics ------------------------------------------------------------------ */
/* Counters (outcome tables: "method.reboot.status.504"), summed by name. */
hs_err_t report_result_add_counter(report_result_t *r, const char *name, int64_t delta);
/* The counter's value cell (created at 0), for hot paths that count per
 * event without a name lookup: *out stays valid until report_result_free. */
hs_err_t report_result_counter_ref(report_result_t *r, const char *name, int64_t **out);
/* A latency histogram (values in ns) owned by the result, created on first
 * use; the pointer stays valid until report_result_free. */
hs_err_t report_result_hist(report_result_t *r, const char *name, report_hist_t **out);
/* A time series point for the charts; points of one series must come in
 * non-decreasing time (HS_EINVAL otherwise).  unit: "msg/s", "devices", "ms". */
hs_err_t report_result_add_point(report_result_t *r, const char *series, const char *unit,
                                 sim_time_t t, double value);

/* --- kill matrix --------------------------------------------------------------- */
/* One fault switch (--break ID): killed when a case of its own rule turned FAIL
 * or WRONG-CODE while unrelated areas stayed green; by_case names that case
 * (NULL when it survived); note says why it survived or what else broke. */
hs_err_t report_result_add_kill(report_result_t *r, const char *switch_id, const char *rule_id,
                                int killed, const char *by_case, const char *note);
size_t report_result_kill_count(const report_result_t *r);
size_t report_result_killed_count(const report_result_t *r);

/* --- gate ---------------------------------------------------------------------- */
/* The exit code the foundation defines: 3 (HS_EXIT_HARNESS) when any case is
 * ERROR, else 1 when any FAIL or WRONG-CODE (or NON-STRICT under strict) is
 * not covered by a baseline entry, else 0. */
int report_result_exit_code(const report_result_t *r);

/* Adds src's cases, counters, histograms, series points (summed at equal
 * times) and kills into dst: shard reports combine exactly.  HS_EINVAL when
 * the two disagree on kind, seed, target or a knob value. */
hs_err_t report_result_merge(report_result_t *dst, const report_result_t *src);

#endif
