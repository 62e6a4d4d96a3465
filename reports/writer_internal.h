/* Helpers the three writers share: time and number formatting that never depends on locale or clock. */
#ifndef REPORTS_WRITER_INTERNAL_H
#define REPORTS_WRITER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "result_internal.h"

/* Virtual nanoseconds as seconds with 3 decimals ("300.000"), integers only. */
void report_fmt_seconds(sim_time_t ns, char *buf, size_t cap);
/* A latency in ns as a short human string: "850ns", "12.3us", "4.56ms", "2.000s". */
void report_fmt_latency(uint64_t ns, char *buf, size_t cap);
/* Unix milliseconds as "2026-01-01T00:00:00.000Z". */
void report_fmt_wall(int64_t unix_ms, char *buf, size_t cap);
/* The virtual epoch as an ISO instant. */
void report_fmt_epoch(int64_t epoch_unix, char *buf, size_t cap);
/* 16 lower-case hex digits. */
void report_fmt_hash(uint64_t h, char *buf, size_t cap);
/* The exit-code gate as a word: "pass", "fail", "error". */
const char *report_gate_word(const report_result_t *r);

/* The percentiles every report shows, in parts per 100000. */
#define REPORT_NPCT 4
extern const uint32_t report_pct_q[REPORT_NPCT];
extern const char *const report_pct_key[REPORT_NPCT]; /* "p50", "p90", "p99", "p99_9" */
extern const char *const report_pct_label[REPORT_NPCT]; /* "p50", "p90", "p99", "p99.9" */

/* Writes s escaped for XML/HTML text and attribute values (& < > " ').
 * Bytes that are not valid UTF-8, and control characters XML 1.0 forbids,
 * become U+FFFD, so a trace excerpt can never make the file unparsable.
 * Returns -1 when f fails. */
int report_put_escaped(FILE *f, const char *s);

/* A malloc'd copy of s with every byte that is not part of valid UTF-8
 * replaced by U+FFFD (JSON strings must be UTF-8; jansson refuses others). */
char *report_utf8_clean(const char *s);

#endif
