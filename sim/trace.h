/* The trace: every externally visible event feeds a running 64-bit hash and, optionally, a JSON-lines file. */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "errors.h"
#include "simtime.h"

/* Bump when event kinds, fields or the hashed encoding change (docs/trace.md). */
#define SIM_TRACE_FORMAT_VERSION 1

typedef enum { SIM_TF_INT = 1, SIM_TF_STR = 2, SIM_TF_BOOL = 3 } sim_tf_type_t;

/* One field of an event.  Keys are short literals; string values are
 * borrowed for the duration of the emit call only.  Lengths travel with
 * the strings so the emit need not measure them: the macros take strlen of
 * the key where it is written, which the compiler folds for a literal. */
typedef struct {
    const char *key;
    sim_tf_type_t type;
    uint32_t key_len; /* strlen(key) */
    int64_t i;        /* INT/BOOL: the value; STR: strlen(s) when known, else -1 */
    const char *s;
} sim_tf_t;

/* Every member named: nothing left for the compiler to zero-fill (a field
 * array built per event would otherwise start with a `rep stos`).  The key
 * is evaluated twice: pass a literal or a plain variable. */
#define TF_INT(k, v)  ((sim_tf_t){ .key = (k), .type = SIM_TF_INT, .key_len = (uint32_t)strlen(k), \
                                   .i = (int64_t)(v), .s = NULL })
#define TF_STR(k, v)  ((sim_tf_t){ .key = (k), .type = SIM_TF_STR, .key_len = (uint32_t)strlen(k), \
                                   .i = -1, .s = (v) })
/* A string whose length n is known (v[n] is its terminator). */
#define TF_STRN(k, v, n) ((sim_tf_t){ .key = (k), .type = SIM_TF_STR, .key_len = (uint32_t)strlen(k), \
                                      .i = (int64_t)(n), .s = (v) })
#define TF_BOOL(k, v) ((sim_tf_t){ .key = (k), .type = SIM_TF_BOOL, .key_len = (uint32_t)strlen(k), \
                                   .i = (v) ? 1 : 0, .s = NULL })

typedef struct sim_trace sim_trace_t;

sim_trace_t *sim_trace_new(uint64_t seed, int64_t epoch_unix);
void sim_trace_free(sim_trace_t *tr);
/* Also write every event to f as JSON lines (header line first).  The trace
 * does not own f. */
hs_err_t sim_trace_attach(sim_trace_t *tr, FILE *f);
void sim_trace_emit(sim_trace_t *tr, sim_time_t t, const char *kind, const sim_tf_t *fields,
                    size_t nfields);
uint64_t sim_trace_hash(const sim_trace_t *tr);
uint64_t sim_trace_count(const sim_trace_t *tr);
/* "trace-hash=0123456789abcdef" into buf (at least 28 bytes). */
void sim_trace_hash_line(const sim_trace_t *tr, char *buf, size_t cap);

/* The streaming hash itself, exposed so `hubsim diff` and tests can recompute
 * it: 8-byte little-endian words, xxh64-style rounds, final avalanche. */
typedef struct {
    uint64_t acc;
    uint64_t pending;
    unsigned npending;
    uint64_t length;
} sim_hash_t;

void sim_hash_init(sim_hash_t *h);
void sim_hash_bytes(sim_hash_t *h, const void *data, size_t len);
void sim_hash_u64(sim_hash_t *h, uint64_t v);
uint64_t sim_hash_final(const sim_hash_t *h);

#endif
