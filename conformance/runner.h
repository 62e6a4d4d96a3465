/* The conformance runner: runs the cases on fresh targets, fills a report, applies baselines, and runs the kill matrix. */
#ifndef CONFORMANCE_RUNNER_H
#define CONFORMANCE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "conformance/case.h"
#include "conformance/catalogue.h"
#include "conformance/target.h"
#include "reports/result.h"

/* Known failures (--baseline FILE): a JSON array of
 * {"rule": "RULE-ID", "reason": "...", "expires": "YYYY-MM-DD"}.  An entry
 * covers the rule's failing cases through its expiry date inclusive. */
typedef struct conform_baseline conform_baseline_t;

/* HS_EIO (unreadable), HS_EPARSE (not JSON), HS_EINVAL (shape, bad date,
 * rule ID not in the catalogue); err says where. */
hs_err_t conform_baseline_load(const char *path, const catalogue_t *cat, conform_baseline_t **out,
                               char *err, size_t cap);
void conform_baseline_free(conform_baseline_t *b);

typedef struct {
    const target_ops_t *target; /* NULL: the target is unknown or unreachable → every case ERROR */
    const char *target_name;    /* printed in the report */
    const char *target_error;   /* why the target is unusable (when target is NULL) */
    const char *address;        /* passed to open (live targets) */
    const catalogue_t *cat;
    uint64_t seed;
    int64_t epoch_unix;          /* virtual time 0 (default 2026-01-01) */
    const char *only;            /* comma-separated globs over rule IDs; NULL = all */
    int protocol;                /* -1: the rule's protocols are not filtered; else target_protocol_t */
    const char *const *breaks;   /* switches armed in every case's hub */
    size_t n_breaks;
    bool capture_trace;          /* trace excerpts for non-PASS cases */
    const conform_baseline_t *baseline;
    const char *today;           /* YYYY-MM-DD for baseline expiry */
} conform_options_t;

/* Fill defaults (inproc target, seed 1, all rules, trace capture on). */
void conform_options_init(conform_options_t *o);

/* Every case of the suite, in suite order. */
size_t conform_case_count(void);
const conf_case_t *conform_case_at(size_t i);

/* --only validation: HS_EINVAL for a malformed glob (empty, unbalanced
 * '[', characters no rule ID holds), HS_ENOTFOUND for a glob that names no
 * catalogue rule; err says which. */
hs_err_t conform_only_check(const char *globs, const catalogue_t *cat, char *err, size_t cap);
bool conform_only_match(const char *globs, const char *rule_id);

typedef struct {
    size_t cases;
    size_t by_verdict[REPORT_VERDICT_COUNT];
    char stale[1024];   /* baseline rules whose cases now all pass, comma-separated */
    char expired[1024]; /* baseline rules whose entry expired while still failing */
    bool has_trace_hash;
    uint64_t trace_hash; /* every case's trace hash in suite order (TARGET_CAP_TRACE) */
} conform_summary_t;

/* Run the suite into r (kind CONFORMANCE): metadata, one report case per
 * suite case, a SKIP case for catalogue rules without any case.  The caller
 * sets wall-clock fields.  HS_ENOMEM only; verdicts carry everything else. */
hs_err_t conform_run(const conform_options_t *o, report_result_t *r, conform_summary_t *sum);

/* The kill matrix: for every switch of conformance/switches.h, the whole suite
 * (whatever o->only and o->breaks say) on
 * hubs with that switch armed; killed when a case of the switch's own rule
 * turns FAIL or WRONG-CODE and every case of another area keeps its
 * unbroken verdict.  Recorded with report_result_add_kill; one line per
 * switch to progress (may be NULL).  Needs a target with TARGET_CAP_BREAK. */
hs_err_t conform_kill_matrix(const conform_options_t *o, report_result_t *r, FILE *progress,
                             size_t *killed, size_t *total);

#endif
