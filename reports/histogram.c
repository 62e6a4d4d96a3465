/* Log-linear histogram buckets: exact merging, bounded relative error, percentiles on demand. */
#include "histogram.h"

#include <stdlib.h>

#define SUB (1u << REPORT_HIST_SUB_BITS)

struct report_hist {
    uint64_t count, sum, min, max;
    uint64_t buckets[REPORT_HIST_BUCKETS];
};

static unsigned msb64(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

size_t report_hist_bucket_of(uint64_t value)
{
    if (value < SUB)
        return (size_t)value;
    unsigned e = msb64(value); /* >= SUB_BITS */
    unsigned shift = e - REPORT_HIST_SUB_BITS;
    size_t sub = (size_t)((value >> shift) - SUB);
    return SUB + (size_t)shift * SUB + sub;
}

uint64_t report_hist_bucket_low(size_t index)
{
    if (index < SUB)
        return index;
    size_t shift = (index - SUB) / SUB, sub = (index - SUB) % SUB;
    return (uint64_t)(SUB + sub) << shift;
}

uint64_t report_hist_bucket_high(size_t index)
{
    if (index < SUB)
        return index;
    size_t shift = (index - SUB) / SUB;
    return report_hist_bucket_low(index) + ((UINT64_C(1) << shift) - 1);
}

report_hist_t *report_hist_new(void)
{
    return calloc(1, sizeof(report_hist_t));
}

void report_hist_free(report_hist_t *h)
{
    free(h);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return (b && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

static void add_to_bucket(report_hist_t *h, size_t i, uint64_t n)
{
    h->buckets[i] = sat_add(h->buckets[i], n);
}

void report_hist_record_n(report_hist_t *h, uint64_t value, uint64_t count)
{
    if (!count)
        return;
    add_to_bucket(h, report_hist_bucket_of(value), count);
    if (!h->count || value < h->min)
        h->min = value;
    if (!h->count || value > h->max)
        h->max = value;
    h->count = sat_add(h->count, count);
    h->sum = sat_add(h->sum, sat_mul(value, count));
}

void report_hist_record(report_hist_t *h, uint64_t value)
{
    report_hist_record_n(h, value, 1);
}

void report_hist_merge(report_hist_t *dst, const report_hist_t *src)
{
    if (!src->count)
        return;
    for (size_t i = 0; i < REPORT_HIST_BUCKETS; i++)
        if (src->buckets[i])
            add_to_bucket(dst, i, src->buckets[i]);
    if (!dst->count || src->min < dst->min)
        dst->min = src->min;
    if (!dst->count || src->max > dst->max)
        dst->max = src->max;
    dst->count = sat_add(dst->count, src->count);
    dst->sum = sat_add(dst->sum, src->sum);
}

uint64_t report_hist_count(const report_hist_t *h) { return h->count; }
uint64_t report_hist_min(const report_hist_t *h) { return h->count ? h->min : 0; }
uint64_t report_hist_max(const report_hist_t *h) { return h->count ? h->max : 0; }
uint64_t report_hist_sum(const report_hist_t *h) { return h->sum; }

uint64_t report_hist_quantile(const report_hist_t *h, uint32_t q)
{
    if (!h->count)
        return 0;
    if (q > 100000)
        q = 100000;
    /* rank = ceil(count * q / 100000) without overflowing 64 bits. */
    uint64_t whole = h->count / 100000, part = h->count % 100000;
    uint64_t rank = whole * q + (part * q + 99999) / 100000;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < REPORT_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = report_hist_bucket_high(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

size_t report_hist_next(const report_hist_t *h, size_t from)
{
    for (size_t i = from; i < REPORT_HIST_BUCKETS; i++)
        if (h->buckets[i])
            return i;
    return REPORT_HIST_BUCKETS;
}

uint64_t report_hist_bucket_count(const report_hist_t *h, size_t index)
{
    return index < REPORT_HIST_BUCKETS ? h->buckets[index] : 0;
}

hs_err_t report_hist_add_bucket(report_hist_t *h, size_t index, uint64_t count)
{
    if (index >= REPORT_HIST_BUCKETS)
        return HS_ERANGE;
    if (!count)
        return HS_EOK;
    add_to_bucket(h, index, count);
    h->count = sat_add(h->count, count);
    return HS_EOK;
}

void report_hist_restore_stats(report_hist_t *h, uint64_t min, uint64_t max, uint64_t sum)
{
    h->min = min;
    h->max = max;
    h->sum = sum;
}
