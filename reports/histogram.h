/* Mergeable log-linear histograms (HDR style) for latencies: percentiles are derived, buckets are stored. */
#ifndef REPORTS_HISTOGRAM_H
#define REPORTS_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"

/* Values are unsigned 64-bit (latencies in nanoseconds of virtual time).
 * Values below 128 get a bucket each; above, every power of two is cut into
 * 128 equal sub-buckets, so a bucket's width is under 1/128 (0.79 %) of its
 * values.  Bucket indices are stable across versions of this file: shard
 * reports merge by adding counts index by index. */
#define REPORT_HIST_SUB_BITS 7
#define REPORT_HIST_BUCKETS ((64 - REPORT_HIST_SUB_BITS + 1) << REPORT_HIST_SUB_BITS)

typedef struct report_hist report_hist_t;

report_hist_t *report_hist_new(void);
void report_hist_free(report_hist_t *h);
void report_hist_record(report_hist_t *h, uint64_t value);
void report_hist_record_n(report_hist_t *h, uint64_t value, uint64_t count);
/* dst += src (exact: counts, sum, min and max). */
void report_hist_merge(report_hist_t *dst, const report_hist_t *src);

uint64_t report_hist_count(const report_hist_t *h);
uint64_t report_hist_min(const report_hist_t *h); /* 0 when empty */
uint64_t report_hist_max(const report_hist_t *h); /* 0 when empty */
/* Sum of recorded values, saturating at UINT64_MAX. */
uint64_t report_hist_sum(const report_hist_t *h);
/* The value at quantile q given in parts per 100000 (p50 = 50000, p99.9 =
 * 99900): the highest value of the bucket holding the ceil(q*count/100000)-th
 * smallest sample, never above the recorded max.  0 when empty. */
uint64_t report_hist_quantile(const report_hist_t *h, uint32_t q_per_100k);

/* Bucket mapping, exposed for the JSON reader/writer and tests. */
size_t report_hist_bucket_of(uint64_t value);
uint64_t report_hist_bucket_low(size_t index);
uint64_t report_hist_bucket_high(size_t index);
/* Iterate non-empty buckets: for (i = report_hist_next(h, 0); i < REPORT_HIST_BUCKETS;
 * i = report_hist_next(h, i + 1)) ... report_hist_bucket_count(h, i). */
size_t report_hist_next(const report_hist_t *h, size_t from);
uint64_t report_hist_bucket_count(const report_hist_t *h, size_t index);
/* Restores a stored bucket (reports read back for merging); min, max and sum
 * are restored with report_hist_restore_stats. */
hs_err_t report_hist_add_bucket(report_hist_t *h, size_t index, uint64_t count);
void report_hist_restore_stats(report_hist_t *h, uint64_t min, uint64_t max, uint64_t sum);

#endif
