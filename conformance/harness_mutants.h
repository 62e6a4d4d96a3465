/* Harness mutants: the seam through which the in-process target may rewrite a REST request or answer the way a hub breaking a rule would, for a rule whose model code cannot carry a break switch (none today). */
#ifndef CONFORMANCE_HARNESS_MUTANTS_H
#define CONFORMANCE_HARNESS_MUTANTS_H

/*
 * A mutant is armed like any break switch (`--break NAME`, the kill
 * matrix) and names the one rule whose cases must notice it.  A request
 * mutant changes what reaches the hub; an answer mutant changes what the
 * hub said.  Neither exercises the model's own code path, so a model
 * switch (sim/hub/faults.h) is always preferred.
 *
 * The map is empty: the 17 mutants it held for jobs, uploads and twin
 * queries (issue 10) were retired when the hub model got a switch for each
 * of their rules (faults.h, the staged JOB-*, UPLOAD-SAS-URI,
 * UPLOAD-UNKNOWN-CORRELATION and TWINQ-* rows; docs/conformance.md).  The
 * seam stays for a future rule that only the wire can break.
 */

#include <stdbool.h>
#include <stddef.h>

#include "conformance/target.h"

/* X(ENUM, "switch-name", "RULE-ID", "what the broken hub does") */
#define HARNESS_MUTANT_MAP(X)

typedef enum {
#define HARNESS_MUTANT_ENUM(e, name, rule, desc) HARNESS_MUTANT_BIT_##e,
    HARNESS_MUTANT_MAP(HARNESS_MUTANT_ENUM)
#undef HARNESS_MUTANT_ENUM
    HARNESS_MUTANT__COUNT
} harness_mutant_bit_t;

typedef struct {
    const char *name;
    const char *rule_id;
    const char *description;
} harness_mutant_info_t;

/* NULL past the end. */
const harness_mutant_info_t *harness_mutant_at(size_t i);

/* A request the mutants may rewrite: every member owned (malloc). */
typedef struct {
    char *method;
    char *path;
    char *body;
    size_t body_len;
} harness_request_t;

/* An answer the mutants may rewrite: names, values and body owned (malloc). */
typedef struct {
    int status;
    target_prop_t *headers;
    size_t n_headers;
    char *body;
    size_t body_len;
} harness_answer_t;

/* Copy req into out (always), then apply the armed request mutants. */
void harness_request_init(harness_request_t *out, const target_http_request_t *req, unsigned bits);
void harness_request_free(harness_request_t *r);
/* Apply the armed answer mutants to the answer of request r (status 0:
 * pending, left alone). */
void harness_mutate_answer(unsigned bits, const harness_request_t *r, harness_answer_t *a);

#endif
