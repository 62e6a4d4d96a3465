/* Harness mutants: the in-process target rewrites a REST request or answer the way a hub breaking one jobs, uploads or twin-query rule would, for rules whose model code has no break switch yet. */
#ifndef CONFORMANCE_HARNESS_MUTANTS_H
#define CONFORMANCE_HARNESS_MUTANTS_H

/*
 * Each mutant is armed like any break switch (`--break NAME`, the kill
 * matrix) and names the one rule whose cases must notice it.  A request
 * mutant changes what reaches the hub (a POST .../cancel that becomes a
 * GET, a WHERE clause cut off): the hub then really behaves like the broken
 * one.  An answer mutant changes what the hub said (a status, a header, a
 * member of the JSON).  Neither exercises the model's own code path: they
 * prove the cases see the violation on the wire.  docs/conformance.md lists
 * the model switches that would replace them.
 */

#include <stdbool.h>
#include <stddef.h>

#include "conformance/target.h"

/* X(ENUM, "switch-name", "RULE-ID", "what the broken hub does") */
#define HARNESS_MUTANT_MAP(X)                                                                              \
    X(JOBS_COMPLETED_AS_RUNNING, "jobs-completed-reported-running", "JOB-STATUS-MACHINE",                  \
      "a job whose devices all have an outcome still reports status running")                              \
    X(JOBS_START_TIME_IGNORED, "jobs-start-time-ignored", "JOB-START-TIME",                                \
      "a job's startTime is ignored: it runs at once")                                                     \
    X(JOBS_MAX_EXEC_IGNORED, "jobs-max-execution-ignored", "JOB-MAX-EXECUTION",                            \
      "maxExecutionTimeInSeconds is ignored (the job gets the 3600 s default)")                            \
    X(JOBS_CANCEL_IGNORED, "jobs-cancel-ignored", "JOB-CANCEL",                                            \
      "POST /jobs/v2/{id}/cancel answers the job document without cancelling it")                          \
    X(JOBS_OFFLINE_SUCCEEDED, "jobs-offline-device-succeeded", "JOB-DEVICE-OUTCOMES",                      \
      "devices whose call failed (offline, timed out) are counted as succeeded")                          \
    X(JOBS_UNKNOWN_400, "jobs-unknown-id-400", "JOB-NOT-FOUND",                                            \
      "an unknown job id is answered 400 instead of 404")                                                  \
    X(JOBS_EMPTY_STAYS_RUNNING, "jobs-empty-job-stays-running", "JOB-ZERO-DEVICES",                        \
      "a job whose condition selects no device stays running")                                             \
    X(JOBS_ERROR_NO_POSITION, "jobs-query-error-without-position", "JOB-BAD-QUERY",                        \
      "a malformed queryCondition is refused 400 without line and column")                                 \
    X(UPLOAD_BLOBNAME_BARE, "upload-blobname-without-device", "UPLOAD-SAS-URI",                            \
      "the blobName handed out lacks the {deviceId}/ prefix")                                              \
    X(UPLOAD_UNKNOWN_ACCEPTED, "upload-unknown-correlation-accepted", "UPLOAD-UNKNOWN-CORRELATION",        \
      "a notification for an unknown correlation id is answered 204")                                      \
    X(TWINQ_WHERE_IGNORED, "twinq-where-ignored", "TWINQ-WHERE",                                           \
      "the WHERE clause of a twin query is ignored")                                                       \
    X(TWINQ_NIN_AS_IN, "twinq-nin-as-in", "TWINQ-IN-NIN", "NIN is evaluated as IN")                        \
    X(TWINQ_IS_DEFINED_NEGATED, "twinq-is-defined-negated", "TWINQ-IS-DEFINED",                            \
      "IS_DEFINED answers the opposite")                                                                   \
    X(TWINQ_GROUP_BY_IGNORED, "twinq-group-by-ignored", "TWINQ-COUNT-GROUP-BY",                            \
      "the GROUP BY clause is ignored")                                                                    \
    X(TWINQ_MODULES_AS_DEVICES, "twinq-modules-read-devices", "TWINQ-MODULES",                             \
      "FROM devices.modules reads the device twins")                                                       \
    X(TWINQ_CONTINUATION_DROPPED, "twinq-continuation-dropped", "TWINQ-CONTINUATION",                      \
      "pages never carry x-ms-continuation, so the rows after the first page are lost")                   \
    X(TWINQ_ERROR_NO_POSITION, "twinq-error-without-position", "TWINQ-BAD-QUERY",                          \
      "a malformed query is refused 400 without line and column")

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
