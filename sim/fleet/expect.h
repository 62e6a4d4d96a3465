/* Scenario expectations: parse `METRIC OP VALUE` and evaluate it against a run's metrics. */
#ifndef FLEET_EXPECT_H
#define FLEET_EXPECT_H

/*
 * An expectation is one comparison:
 *
 *     METRIC OP VALUE        e.g.  method.reboot.status["504"] >= 10
 *                                  d2c.latency.p99 < "50ms"
 *                                  conservation == "ok"
 *
 * METRIC is a dotted path: the first segment starts with a letter or '_',
 * later segments are runs of [A-Za-z0-9_-] (so `d2c.latency.p99.9` is one
 * metric), and any segment may be written in brackets as a quoted string
 * (`["504"]`, `["d2c.accepted"]`, escapes \" and \\) or a bare integer
 * (`[504]`).  The CANONICAL KEY, which the fleet's lookup receives, joins the
 * segments with '.' and drops brackets and quotes:
 *     method.reboot.status["504"]  -> method.reboot.status.504
 *     hub.counter["d2c.accepted"]  -> hub.counter.d2c.accepted
 * (brackets only let a segment hold characters an identifier cannot; the key
 * space is flat dotted text).
 *
 * OP is one of == != < <= > >=.
 *
 * VALUE is a number (JSON syntax: -1, 0.5, 1e3), or a quoted string that is
 *   - a duration with a unit ("50ms", "1.5s", "2m"): compared in ns, since the
 *     fleet reports latencies in ns;
 *   - a size with a unit ("128KB", "1MB", "512B"; KB = 1024 bytes): bytes;
 *   - any other text ("ok"): a string, compared with == / != only.
 * A quoted bare number ("300") is refused: write numbers without quotes.
 *
 * Whitespace is allowed between the three parts.  Columns in errors are
 * 1-based and count bytes of the expression text (expressions are ASCII
 * apart from string contents).
 */

#include <stdbool.h>
#include <stddef.h>
#include "sim/errors.h"

typedef enum {
    EXPECT_OP_EQ = 0,
    EXPECT_OP_NE,
    EXPECT_OP_LT,
    EXPECT_OP_LE,
    EXPECT_OP_GT,
    EXPECT_OP_GE,
} expect_op_t;

/* What the written VALUE was (all but STRING compare as numbers). */
typedef enum {
    EXPECT_LIT_NUMBER = 0,
    EXPECT_LIT_DURATION,   /* number holds ns */
    EXPECT_LIT_SIZE,       /* number holds bytes */
    EXPECT_LIT_STRING,
} expect_lit_kind_t;

typedef enum {
    EXPECT_VALUE_NUMBER = 0,
    EXPECT_VALUE_STRING,
    EXPECT_VALUE_MISSING,
} expect_value_kind_t;

/* A metric's value as the fleet reports it; `string` is borrowed (valid
 * until the lookup's owner changes it; expect_eval copies what it keeps). */
typedef struct {
    expect_value_kind_t kind;
    double number;
    const char *string;
} expect_value_t;

typedef struct expect expect_t;

/* Where and why a parse failed.  column is 1-based in the expression text. */
typedef struct {
    unsigned column;
    char message[160];
} expect_error_t;

/* Parse one expression.  HS_EPARSE with *err filled on a syntax error,
 * HS_ENOMEM, else HS_EOK and *out (free with expect_free). */
hs_err_t expect_parse(const char *text, expect_t **out, expect_error_t *err);
void expect_free(expect_t *e);

/* The canonical metric key ("method.reboot.status.504"). */
const char *expect_metric(const expect_t *e);
expect_op_t expect_op(const expect_t *e);
/* "==", "!=", "<", "<=", ">", ">=". */
const char *expect_op_text(expect_op_t op);
expect_lit_kind_t expect_literal_kind(const expect_t *e);
/* Target value: NUMBER (durations in ns, sizes in bytes) or STRING. */
expect_value_t expect_target(const expect_t *e);
/* The target as written: 10, "50ms", "ok" (quotes included for strings). */
const char *expect_target_text(const expect_t *e);

/* Look a canonical key up.  Fill *out (MISSING when the run has no such
 * metric) and return 0; any other return is a harness failure, passed on by
 * expect_eval as HS_EINVAL. */
typedef int (*expect_lookup_fn)(void *ctx, const char *key, expect_value_t *out);
/* List every known key by calling emit(ectx, key) once per key, in any
 * order (expect_eval sorts them); used only to explain a missing metric. */
typedef void (*expect_keys_fn)(void *ctx, void (*emit)(void *ectx, const char *key), void *ectx);

typedef struct {
    bool pass;
    char *detail;   /* malloc'd: "observed 12 >= expected 10" or why it failed */
} expect_result_t;

/* Evaluate e.  `keys` may be NULL (the "known:" list is then left out).
 * The result's detail reads:
 *   pass/fail:   "observed 12, expected >= 10"
 *   durations:   "observed 61ms (61000000 ns), expected < 50ms"
 *   missing:     "metric d2c.latncy.p99 not found (known: d2c.latency.p50, ...)"
 *   wrong type:  "metric conservation is a string (\"ok\"), expected a number"
 * A missing metric or a type mismatch is a failed expectation, not an error.
 * Returns HS_EOK, HS_EINVAL (bad arguments or the lookup failed), HS_ENOMEM.
 * Free the detail with expect_result_free. */
hs_err_t expect_eval(const expect_t *e, expect_lookup_fn lookup, expect_keys_fn keys, void *ctx,
                     expect_result_t *out);
void expect_result_free(expect_result_t *r);

#endif
