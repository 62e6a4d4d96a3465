/* Scenario expectations: a hand-written scanner for `METRIC OP VALUE` and its evaluation. */

/*
 * The grammar is three tokens, so a small recursive scanner is clearer than
 * a generated one.  Parsing canonicalises the metric once (brackets become
 * dotted segments) so the fleet's lookup sees a plain key; evaluation asks
 * the fleet for that key and compares.  Durations and sizes are turned into
 * plain numbers at parse time (ns, bytes), which is what the fleet reports.
 */

#include "sim/units.h"
#include "sim/fleet/expect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/simtime.h"

struct expect {
    char *metric;
    expect_op_t op;
    expect_lit_kind_t lit;
    double number;
    char *string;      /* EXPECT_LIT_STRING */
    char *target_text; /* as written */
};

static const char *const op_texts[] = { "==", "!=", "<", "<=", ">", ">=" };

const char *expect_op_text(expect_op_t op)
{
    if ((unsigned)op >= sizeof op_texts / sizeof op_texts[0])
        return "?";
    return op_texts[op];
}

/* ---- a growable string ----------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    int nomem;
} sbuf_t;

static void sb_putn(sbuf_t *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->nomem = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf_t *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_putn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- parsing ----------------------------------------------------------------- */

typedef struct {
    const char *text;
    size_t pos;
    expect_error_t *err;
} scan_t;

static hs_err_t fail(scan_t *s, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static hs_err_t fail(scan_t *s, size_t pos, const char *fmt, ...)
{
    if (s->err) {
        s->err->column = (unsigned)pos + 1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err->message, sizeof s->err->message, fmt, ap);
        va_end(ap);
    }
    return HS_EPARSE;
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_seg(char c) { return is_alpha(c) || is_digit(c) || c == '-'; }
static void skip_ws(scan_t *s)
{
    while (s->text[s->pos] == ' ' || s->text[s->pos] == '\t')
        s->pos++;
}

/* Describe the character at pos for "got ..." messages. */
static void got_at(const scan_t *s, size_t pos, char *buf, size_t cap)
{
    char c = s->text[pos];
    if (!c)
        snprintf(buf, cap, "end of expression");
    else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        snprintf(buf, cap, "byte 0x%02x", (unsigned)(unsigned char)c);
    else
        snprintf(buf, cap, "'%c'", c);
}

/* A quoted string at s->pos (opening '"'); appends its contents to b. */
static hs_err_t scan_quoted(scan_t *s, sbuf_t *b)
{
    size_t open = s->pos++;
    for (;;) {
        char c = s->text[s->pos];
        if (!c)
            return fail(s, open, "unterminated string (no closing '\"')");
        if (c == '"') {
            s->pos++;
            return HS_EOK;
        }
        if (c == '\\') {
            char e = s->text[s->pos + 1];
            if (e != '"' && e != '\\')
                return fail(s, s->pos, "expected \\\" or \\\\ after a backslash, got %s",
                            e ? "another character" : "end of expression");
            sb_putn(b, &e, 1);
            s->pos += 2;
            continue;
        }
        sb_putn(b, &c, 1);
        s->pos++;
    }
}

static hs_err_t scan_metric(scan_t *s, sbuf_t *key)
{
    char got[32];
    if (!is_alpha(s->text[s->pos])) {
        got_at(s, s->pos, got, sizeof got);
        return fail(s, s->pos, "expected a metric name such as d2c.latency.p99, got %s", got);
    }
    size_t start = s->pos;
    while (is_seg(s->text[s->pos]))
        s->pos++;
    sb_putn(key, s->text + start, s->pos - start);
    for (;;) {
        char c = s->text[s->pos];
        if (c == '.') {
            s->pos++;
            start = s->pos;
            while (is_seg(s->text[s->pos]))
                s->pos++;
            if (s->pos == start) {
                got_at(s, s->pos, got, sizeof got);
                return fail(s, s->pos, "expected a name after '.', got %s", got);
            }
            sb_putn(key, ".", 1);
            sb_putn(key, s->text + start, s->pos - start);
        } else if (c == '[') {
            size_t open = s->pos++;
            sb_putn(key, ".", 1);
            if (s->text[s->pos] == '"') {
                size_t before = key->len;
                hs_err_t rc = scan_quoted(s, key);
                if (rc != HS_EOK)
                    return rc;
                if (key->len == before)
                    return fail(s, open + 1, "expected a non-empty segment inside [\"...\"]");
            } else if (is_digit(s->text[s->pos])) {
                start = s->pos;
                while (is_digit(s->text[s->pos]))
                    s->pos++;
                sb_putn(key, s->text + start, s->pos - start);
            } else {
                got_at(s, s->pos, got, sizeof got);
                return fail(s, s->pos, "expected a quoted string or an integer after '[', got %s", got);
            }
            if (s->text[s->pos] != ']') {
                got_at(s, s->pos, got, sizeof got);
                return fail(s, s->pos, "expected ']' to close the '[' at column %zu, got %s", open + 1, got);
            }
            s->pos++;
        } else {
            return HS_EOK;
        }
    }
}

static hs_err_t scan_op(scan_t *s, expect_op_t *op)
{
    const char *p = s->text + s->pos;
    static const struct { const char *t; expect_op_t op; } ops[] = {
        { "==", EXPECT_OP_EQ }, { "!=", EXPECT_OP_NE }, { "<=", EXPECT_OP_LE },
        { ">=", EXPECT_OP_GE }, { "<", EXPECT_OP_LT },  { ">", EXPECT_OP_GT },
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].t);
        if (strncmp(p, ops[i].t, n) == 0) {
            if (n == 1 && p[1] == '=')
                break;
            *op = ops[i].op;
            s->pos += n;
            return HS_EOK;
        }
    }
    char got[32];
    if (p[0] == '=' && p[1] != '=')
        return fail(s, s->pos, "expected an operator (== != < <= > >=), got '=' (write == to compare)");
    got_at(s, s->pos, got, sizeof got);
    return fail(s, s->pos, "expected an operator (== != < <= > >=), got %s", got);
}

/* Bytes in "128KB", "1MB", "512B", "2KiB" (KB = 1024); 0 when not a size. */
static int parse_size(const char *t, double *out)
{
    uint64_t v;
    if (sim_size_parse(t, true, &v) != HS_EOK)
        return 0;
    *out = (double)v;
    return 1;
}

static int all_number_chars(const char *t)
{
    if (!*t)
        return 0;
    for (const char *p = t; *p; p++)
        if (!is_digit(*p) && *p != '.' && *p != '-' && *p != '+' && *p != 'e' && *p != 'E')
            return 0;
    return 1;
}

static hs_err_t scan_value(scan_t *s, expect_t *e)
{
    size_t start = s->pos;
    char c = s->text[s->pos];
    char got[32];
    if (c == '"') {
        sbuf_t b = { 0 };
        sb_putn(&b, "", 0);
        hs_err_t rc = scan_quoted(s, &b);
        if (rc == HS_EOK && b.nomem)
            rc = HS_ENOMEM;
        if (rc != HS_EOK) {
            free(b.p);
            return rc;
        }
        sim_time_t ns;
        double bytes;
        if (all_number_chars(b.p)) {
            free(b.p);
            return fail(s, start, "expected a number without quotes, or a duration or size with a unit");
        }
        if (is_digit(b.p[0]) && sim_duration_parse(b.p, &ns) == HS_EOK) {
            e->lit = EXPECT_LIT_DURATION;
            e->number = (double)ns;
            free(b.p);
        } else if (parse_size(b.p, &bytes)) {
            e->lit = EXPECT_LIT_SIZE;
            e->number = bytes;
            free(b.p);
        } else {
            e->lit = EXPECT_LIT_STRING;
            e->string = b.p;
        }
    } else if (is_digit(c) || c == '-' || c == '+' || c == '.') {
        size_t p = s->pos;
        if (s->text[p] == '-' || s->text[p] == '+')
            p++;
        size_t digits = 0;
        while (is_digit(s->text[p])) {
            p++;
            digits++;
        }
        if (s->text[p] == '.') {
            p++;
            while (is_digit(s->text[p])) {
                p++;
                digits++;
            }
        }
        if (!digits)
            return fail(s, start, "expected a number");
        if (s->text[p] == 'e' || s->text[p] == 'E') {
            size_t q = p + 1;
            if (s->text[q] == '-' || s->text[q] == '+')
                q++;
            if (!is_digit(s->text[q]))
                return fail(s, q, "expected digits in the number's exponent");
            while (is_digit(s->text[q]))
                q++;
            p = q;
        }
        if (is_alpha(s->text[p])) {
            return fail(s, start, "expected a plain number; quote durations and sizes (\"%.*s...\")",
                        (int)(p - start), s->text + start);
        }
        char tmp[64];
        size_t n = p - start;
        if (n >= sizeof tmp)
            return fail(s, start, "number too long");
        memcpy(tmp, s->text + start, n);
        tmp[n] = '\0';
        e->lit = EXPECT_LIT_NUMBER;
        e->number = strtod(tmp, NULL);
        s->pos = p;
    } else {
        got_at(s, s->pos, got, sizeof got);
        return fail(s, start, "expected a value (a number, or a quoted duration, size or string), got %s", got);
    }
    size_t n = s->pos - start;
    e->target_text = malloc(n + 1);
    if (!e->target_text)
        return HS_ENOMEM;
    memcpy(e->target_text, s->text + start, n);
    e->target_text[n] = '\0';
    return HS_EOK;
}

hs_err_t expect_parse(const char *text, expect_t **out, expect_error_t *err)
{
    if (err) {
        err->column = 0;
        err->message[0] = '\0';
    }
    if (!text || !out)
        return HS_EINVAL;
    *out = NULL;
    expect_t *e = calloc(1, sizeof *e);
    if (!e)
        return HS_ENOMEM;
    scan_t s = { .text = text, .pos = 0, .err = err };
    sbuf_t key = { 0 };
    hs_err_t rc;
    skip_ws(&s);
    rc = scan_metric(&s, &key);
    if (rc == HS_EOK && key.nomem)
        rc = HS_ENOMEM;
    if (rc != HS_EOK)
        goto out;
    e->metric = key.p;
    key.p = NULL;
    skip_ws(&s);
    if ((rc = scan_op(&s, &e->op)) != HS_EOK)
        goto out;
    skip_ws(&s);
    size_t vstart = s.pos;
    if ((rc = scan_value(&s, e)) != HS_EOK)
        goto out;
    if (e->lit == EXPECT_LIT_STRING && e->op != EXPECT_OP_EQ && e->op != EXPECT_OP_NE) {
        rc = fail(&s, vstart, "operator %s needs a number, duration or size; strings compare with == or != only",
                  expect_op_text(e->op));
        goto out;
    }
    skip_ws(&s);
    if (text[s.pos]) {
        char got[32];
        got_at(&s, s.pos, got, sizeof got);
        rc = fail(&s, s.pos, "expected end of expression, got %s", got);
        goto out;
    }
    *out = e;
    return HS_EOK;
out:
    free(key.p);
    expect_free(e);
    return rc;
}

void expect_free(expect_t *e)
{
    if (!e)
        return;
    free(e->metric);
    free(e->string);
    free(e->target_text);
    free(e);
}

const char *expect_metric(const expect_t *e) { return e ? e->metric : NULL; }
expect_op_t expect_op(const expect_t *e) { return e ? e->op : EXPECT_OP_EQ; }
expect_lit_kind_t expect_literal_kind(const expect_t *e) { return e ? e->lit : EXPECT_LIT_NUMBER; }
const char *expect_target_text(const expect_t *e) { return e ? e->target_text : NULL; }

expect_value_t expect_target(const expect_t *e)
{
    expect_value_t v = { .kind = EXPECT_VALUE_MISSING };
    if (!e)
        return v;
    if (e->lit == EXPECT_LIT_STRING) {
        v.kind = EXPECT_VALUE_STRING;
        v.string = e->string;
    } else {
        v.kind = EXPECT_VALUE_NUMBER;
        v.number = e->number;
    }
    return v;
}

/* ---- evaluation ------------------------------------------------------------------ */

typedef struct {
    char **keys;
    size_t n, cap;
    int nomem;
} keylist_t;

static void collect_key(void *ctx, const char *key)
{
    keylist_t *l = ctx;
    if (l->nomem || !key)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **k = realloc(l->keys, cap * sizeof *k);
        if (!k) {
            l->nomem = 1;
            return;
        }
        l->keys = k;
        l->cap = cap;
    }
    char *dup = strdup(key);
    if (!dup) {
        l->nomem = 1;
        return;
    }
    l->keys[l->n++] = dup;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Length of the first dotted segment of k (the whole string when no dot). */
static size_t first_segment(const char *k)
{
    const char *dot = strchr(k, '.');
    return dot ? (size_t)(dot - k) : strlen(k);
}

#define KNOWN_SHOWN 12

/* "known: a, b, c" favouring keys that share the missing key's first segment,
 * so a typo in the last segment lists the right family. */
static void append_known(sbuf_t *b, const char *missing, expect_keys_fn keys, void *ctx)
{
    keylist_t l = { 0 };
    keys(ctx, collect_key, &l);
    if (l.nomem) {
        b->nomem = 1;
    } else if (l.n == 0) {
        sb_puts(b, " (no metrics known)");
    } else {
        qsort(l.keys, l.n, sizeof *l.keys, cmp_str);
        size_t seg = first_segment(missing);
        size_t family = 0;
        for (size_t i = 0; i < l.n; i++)
            if (first_segment(l.keys[i]) == seg && strncmp(l.keys[i], missing, seg) == 0)
                family++;
        sb_puts(b, " (known: ");
        size_t shown = 0, eligible = family ? family : l.n;
        for (size_t i = 0; i < l.n && shown < KNOWN_SHOWN; i++) {
            if (family && !(first_segment(l.keys[i]) == seg && strncmp(l.keys[i], missing, seg) == 0))
                continue;
            sb_puts(b, shown ? ", " : "");
            sb_puts(b, l.keys[i]);
            shown++;
        }
        if (eligible > shown)
            sb_printf(b, ", ... %zu more", eligible - shown);
        sb_puts(b, ")");
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.keys[i]);
    free(l.keys);
}

/* A number as a person reads it: integers without a fraction. */
static void format_number(double v, char *buf, size_t cap)
{
    if (v == (double)(long long)v && v > -9e15 && v < 9e15)
        snprintf(buf, cap, "%lld", (long long)v);
    else
        snprintf(buf, cap, "%.6g", v);
}

static void format_observed(const expect_t *e, double v, char *buf, size_t cap)
{
    char num[64];
    format_number(v, num, sizeof num);
    if (e->lit == EXPECT_LIT_DURATION && v >= 0 && v < 1.8e19) {
        char d[64];
        sim_duration_format((sim_time_t)v, d, sizeof d);
        snprintf(buf, cap, "%.60s (%.60s ns)", d, num);
    } else if (e->lit == EXPECT_LIT_SIZE) {
        snprintf(buf, cap, "%s bytes", num);
    } else {
        snprintf(buf, cap, "%s", num);
    }
}

static int compare(expect_op_t op, double a, double b)
{
    switch (op) {
    case EXPECT_OP_EQ: return a == b;
    case EXPECT_OP_NE: return a != b;
    case EXPECT_OP_LT: return a < b;
    case EXPECT_OP_LE: return a <= b;
    case EXPECT_OP_GT: return a > b;
    case EXPECT_OP_GE: return a >= b;
    }
    return 0;
}

hs_err_t expect_eval(const expect_t *e, expect_lookup_fn lookup, expect_keys_fn keys, void *ctx,
                     expect_result_t *out)
{
    if (!out)
        return HS_EINVAL;
    out->pass = false;
    out->detail = NULL;
    if (!e || !lookup)
        return HS_EINVAL;
    expect_value_t got = { .kind = EXPECT_VALUE_MISSING };
    if (lookup(ctx, e->metric, &got) != 0)
        return HS_EINVAL;

    sbuf_t b = { 0 };
    const char *want = e->target_text;
    const char *opt = expect_op_text(e->op);
    if (got.kind == EXPECT_VALUE_MISSING) {
        sb_printf(&b, "metric %s not found", e->metric);
        if (keys)
            append_known(&b, e->metric, keys, ctx);
    } else if (e->lit == EXPECT_LIT_STRING) {
        if (got.kind != EXPECT_VALUE_STRING) {
            char num[64];
            format_number(got.number, num, sizeof num);
            sb_printf(&b, "metric %s is a number (%s), expected a string %s %s", e->metric, num, opt, want);
        } else {
            int eq = strcmp(got.string ? got.string : "", e->string) == 0;
            out->pass = e->op == EXPECT_OP_EQ ? eq : !eq;
            sb_puts(&b, "observed \"");
            sb_puts(&b, got.string ? got.string : "");
            sb_printf(&b, "\", expected %s %s", opt, want);
        }
    } else if (got.kind != EXPECT_VALUE_NUMBER) {
        sb_printf(&b, "metric %s is a string (\"", e->metric);
        sb_puts(&b, got.string ? got.string : "");
        sb_puts(&b, "\"), expected a number");
    } else {
        char obs[128];
        format_observed(e, got.number, obs, sizeof obs);
        out->pass = compare(e->op, got.number, e->number) != 0;
        sb_printf(&b, "observed %s, expected %s %s", obs, opt, want);
    }
    if (b.nomem || !b.p) {
        free(b.p);
        out->pass = false;
        return HS_ENOMEM;
    }
    out->detail = b.p;
    return HS_EOK;
}

void expect_result_free(expect_result_t *r)
{
    if (!r)
        return;
    free(r->detail);
    r->detail = NULL;
}
