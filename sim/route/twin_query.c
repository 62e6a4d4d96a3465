/* The twin query language: parse SELECT/FROM/WHERE/GROUP BY, rewrite WHERE for the routing engine, project, count and group twin documents. */
#include "twin_query.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The frame is parsed here; the WHERE condition is rewritten into a routing
 * condition and compiled by route_query_compile.  The rewrite keeps a map
 * from every byte of the rewritten text back to a byte of the caller's text,
 * so the routing engine's error positions land under the right character.
 */

/* ---- lexer ---------------------------------------------------------------- */

typedef enum { K_EOF, K_NAME, K_STR, K_NUM, K_LP, K_RP, K_LB, K_RB, K_COMMA, K_STAR, K_OP, K_ERR } kind_t;

typedef struct {
    kind_t k;
    size_t pos, end;
} tok_t;

typedef struct {
    const char *s;
    size_t len;
    tok_t t;
    route_syntax_error_t *err;
    int failed;
    unsigned breaks; /* TWIN_QUERY_BREAK_* */
} ps_t;

static void line_col(const char *s, size_t len, size_t pos, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < pos && i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static void fail_at(ps_t *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail_at(ps_t *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (!p->err)
        return;
    line_col(p->s, p->len, pos, &p->err->line, &p->err->column);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
}

/* The same name rules as the routing lexer, so a rewritten name is one token there too. */
static int name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static int name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Lex one token starting at byte i (whitespace and comments skipped). */
static tok_t lex_at(ps_t *p, size_t i)
{
    const char *s = p->s;
    tok_t t = { K_ERR, i, i };
    for (;;) {
        while (i < p->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            i++;
        if (i + 1 < p->len && s[i] == '/' && s[i + 1] == '*') {
            size_t j = i + 2;
            while (j + 1 < p->len && !(s[j] == '*' && s[j + 1] == '/'))
                j++;
            if (j + 1 >= p->len) {
                fail_at(p, i, "unterminated comment");
                t.pos = i;
                return t;
            }
            i = j + 2;
            continue;
        }
        break;
    }
    t.pos = t.end = i;
    if (i >= p->len) {
        t.k = K_EOF;
        return t;
    }
    unsigned char c = (unsigned char)s[i];
    unsigned char d = i + 1 < p->len ? (unsigned char)s[i + 1] : 0;
    switch (c) {
    case '(': t.k = K_LP; i++; break;
    case ')': t.k = K_RP; i++; break;
    case '[': t.k = K_LB; i++; break;
    case ']': t.k = K_RB; i++; break;
    case ',': t.k = K_COMMA; i++; break;
    case '*': t.k = K_STAR; i++; break;
    case '\'':
    case '"': {
        size_t j = i + 1;
        while (j < p->len && (unsigned char)s[j] != c)
            j += s[j] == '\\' && j + 1 < p->len ? 2 : 1;
        if (j >= p->len) {
            fail_at(p, i, "unterminated string");
            return t;
        }
        t.k = K_STR;
        i = j + 1;
        break;
    }
    default:
        if ((c >= '0' && c <= '9') || (c == '.' && d >= '0' && d <= '9')) {
            t.k = K_NUM;
            while (i < p->len && (is_alnum((unsigned char)s[i]) || s[i] == '.' ||
                                  ((s[i] == '+' || s[i] == '-') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
                i++;
        } else if (name_start(c)) {
            t.k = K_NAME;
            while (i < p->len) {
                if (name_char((unsigned char)s[i])) {
                    i++;
                } else if (s[i] == '[') {
                    size_t j = i + 1;
                    while (j < p->len && s[j] >= '0' && s[j] <= '9')
                        j++;
                    if (j == i + 1 || j >= p->len || s[j] != ']')
                        break;
                    i = j + 1;
                } else {
                    break;
                }
            }
        } else {
            /* operators: the routing engine judges them; two-character ones stay whole */
            t.k = K_OP;
            i++;
            if ((c == '!' || c == '<' || c == '>' || c == '=') && d == '=')
                i++;
            else if ((c == '<' && d == '>') || (c == '|' && d == '|'))
                i++;
        }
    }
    t.end = i;
    return t;
}

static void next(ps_t *p)
{
    p->t = p->failed ? (tok_t){ K_ERR, p->t.end, p->t.end } : lex_at(p, p->t.end);
}

static tok_t peek(ps_t *p)
{
    return p->failed ? (tok_t){ K_ERR, p->t.end, p->t.end } : lex_at(p, p->t.end);
}

static int tok_is(const ps_t *p, tok_t t, const char *kw)
{
    size_t n = strlen(kw);
    return t.k == K_NAME && t.end - t.pos == n && strncasecmp(p->s + t.pos, kw, n) == 0;
}

static const char *describe(const ps_t *p, tok_t t, char *buf, size_t cap)
{
    if (t.k == K_EOF)
        return "the end of the query";
    size_t n = t.end - t.pos;
    snprintf(buf, cap, "'%.*s'", (int)(n > 40 ? 40 : n), p->s + t.pos);
    return buf;
}

static void fail_expected(ps_t *p, const char *what)
{
    char b[64];
    fail_at(p, p->t.pos, "expected %s, found %s", what, describe(p, p->t, b, sizeof b));
}

/* ---- paths ---------------------------------------------------------------- */

typedef struct {
    char *name; /* NULL: array index */
    size_t index;
} pseg_t;

typedef struct {
    pseg_t *segs;
    size_t n;
    size_t pos; /* where it starts in the query text */
} path_t;

static void path_free(path_t *pa)
{
    for (size_t i = 0; i < pa->n; i++)
        free(pa->segs[i].name);
    free(pa->segs);
    pa->segs = NULL;
    pa->n = 0;
}

/* Bytes of a leading "devices." (and "modules." or "jobs." after it) that
 * name the collection rather than a member: `devices.deviceId` is
 * `deviceId`, `devices.jobs.status` is `status` [doc: the query-jobs
 * examples]. */
static size_t collection_prefix(const char *s, size_t len)
{
    size_t k = 0;
    if (len > 8 && strncasecmp(s, "devices.", 8) == 0) {
        k = 8;
        if (len - k > 8 && strncasecmp(s + k, "modules.", 8) == 0)
            k += 8;
        else if (len - k > 5 && strncasecmp(s + k, "jobs.", 5) == 0)
            k += 5;
    }
    return k;
}

static int path_parse(ps_t *p, tok_t t, path_t *out)
{
    const char *s = p->s + t.pos;
    size_t len = t.end - t.pos, i = collection_prefix(s, len);
    out->segs = NULL;
    out->n = 0;
    out->pos = t.pos;
    while (i < len) {
        pseg_t sg = { NULL, 0 };
        size_t j = i;
        if (s[i] == '[') {
            j = i + 1;
            while (s[j] != ']') {
                if (sg.index < (size_t)1 << 40)
                    sg.index = sg.index * 10 + (size_t)(s[j] - '0');
                j++;
            }
            j++;
        } else {
            while (j < len && s[j] != '.' && s[j] != '[')
                j++;
            if (j == i) {
                fail_at(p, t.pos + i, "empty name in a path");
                return -1;
            }
            sg.name = strndup(s + i, j - i);
            if (!sg.name) {
                fail_at(p, t.pos, "out of memory");
                return -1;
            }
        }
        pseg_t *ns = realloc(out->segs, (out->n + 1) * sizeof *ns);
        if (!ns) {
            free(sg.name);
            fail_at(p, t.pos, "out of memory");
            return -1;
        }
        out->segs = ns;
        out->segs[out->n++] = sg;
        i = j;
        if (i < len && s[i] == '.') {
            i++;
            if (i == len) {
                fail_at(p, t.pos + i - 1, "a path cannot end with '.'");
                return -1;
            }
        }
    }
    return 0;
}

static bool path_equal(const path_t *a, const path_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const pseg_t *x = &a->segs[i], *y = &b->segs[i];
        if ((x->name == NULL) != (y->name == NULL))
            return false;
        if (x->name ? strcasecmp(x->name, y->name) != 0 : x->index != y->index)
            return false;
    }
    return true;
}

/* Member by name: exact first, then case-insensitive (the smallest key in byte order). */
static const json_t *member(const json_t *o, const char *name, const char **key_out)
{
    const json_t *v = json_object_get(o, name);
    if (v) {
        *key_out = name;
        return v;
    }
    const char *key, *best = NULL;
    json_t *val;
    json_object_foreach((json_t *)o, key, val) {
        if (strcasecmp(key, name) == 0 && (!best || strcmp(key, best) < 0)) {
            best = key;
            v = val;
        }
    }
    *key_out = best;
    return v;
}

/* The value at pa in doc (NULL: undefined); *key: the last member name as the document spells it. */
static const json_t *path_walk(const path_t *pa, const json_t *doc, const char **key)
{
    const json_t *j = doc;
    *key = NULL;
    for (size_t i = 0; i < pa->n && j; i++) {
        const pseg_t *sg = &pa->segs[i];
        if (!sg->name)
            j = json_is_array(j) ? json_array_get(j, sg->index) : NULL;
        else
            j = json_is_object(j) ? member(j, sg->name, key) : NULL;
    }
    return j;
}

/* The output name of an unaliased projection: its last member name. */
static const char *path_label(const path_t *pa)
{
    for (size_t i = pa->n; i-- > 0;)
        if (pa->segs[i].name)
            return pa->segs[i].name;
    return "$1";
}

/* ---- the compiled query ---------------------------------------------------- */

typedef enum { AGG_NONE, AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX } agg_t;

static const char *const agg_names[] = { "", "count", "sum", "avg", "min", "max" };

typedef struct {
    agg_t agg;   /* AGG_NONE: a projection of path */
    path_t path; /* the projection, or the aggregate's argument */
    char *alias; /* NULL: the last member name, or $1, $2... for aggregates */
    char label[16];
} item_t;

struct twin_query {
    twin_from_t from;
    bool star;
    item_t *items;
    size_t nitems;
    bool has_agg;
    bool has_top;
    size_t top;
    bool has_group;
    path_t group;
    route_query_t *where; /* NULL: no WHERE */
    unsigned breaks;      /* TWIN_QUERY_BREAK_* */
};

void twin_query_free(twin_query_t *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nitems; i++) {
        path_free(&q->items[i].path);
        free(q->items[i].alias);
    }
    free(q->items);
    path_free(&q->group);
    route_query_free(q->where);
    free(q);
}

twin_from_t twin_query_from(const twin_query_t *q)
{
    return q ? q->from : TWIN_FROM_DEVICES;
}

const char *twin_query_item_type(const twin_query_t *q)
{
    if (q && q->star)
        return q->from == TWIN_FROM_JOBS ? "deviceJob" : "twin";
    return "raw";
}

/* ---- WHERE rewrite --------------------------------------------------------- */

typedef struct {
    char *s;
    size_t *map; /* map[i]: byte of the caller's text that out byte i stands for */
    size_t len, cap;
    bool oom;
} obuf_t;

static void emit_mapped(obuf_t *b, const char *src, size_t n, const size_t *map, size_t orig)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (s)
            b->s = s;
        size_t *m = s ? realloc(b->map, cap * sizeof *m) : NULL;
        if (!s || !m) {
            b->oom = true;
            return;
        }
        b->map = m;
        b->cap = cap;
    }
    memcpy(b->s + b->len, src, n);
    for (size_t i = 0; i < n; i++)
        b->map[b->len + i] = map ? map[i] : orig;
    b->len += n;
    b->s[b->len] = 0;
}

/* Text of the query, each byte mapped to itself. */
static void emit_src(obuf_t *b, const char *text, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        emit_mapped(b, text + i, 1, NULL, i);
}

/* Generated text, every byte mapped to orig. */
static void emit_gen(obuf_t *b, const char *s, size_t orig)
{
    emit_mapped(b, s, strlen(s), NULL, orig);
}

/* Functions of the routing engine the twin language has (docs/twin-query.md). */
static const char *const twin_functions[] = {
    "is_defined", "is_null",     "is_bool",   "is_number",   "is_string", "is_object",
    "is_array",   "is_primitive", "starts_with", "ends_with", "contains",
};

static bool twin_function(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof twin_functions / sizeof twin_functions[0]; i++)
        if (strlen(twin_functions[i]) == n && strncasecmp(s, twin_functions[i], n) == 0)
            return true;
    return false;
}

static bool is_literal_word(const ps_t *p, tok_t t)
{
    return tok_is(p, t, "true") || tok_is(p, t, "false") || tok_is(p, t, "null") ||
           tok_is(p, t, "undefined");
}

/* Rewrite `x IN [c1, c2]` (p->t is IN/NIN): the operand x is out[ostart, oend). */
static void rewrite_in(ps_t *p, obuf_t *b, size_t ostart, size_t oend, bool negate)
{
    size_t at = p->t.pos;
    size_t xn = oend - ostart;
    char *x = malloc(xn + 1);
    size_t *xm = malloc((xn + 1) * sizeof *xm);
    if (!x || !xm) {
        free(x);
        free(xm);
        b->oom = true;
        return;
    }
    memcpy(x, b->s + ostart, xn);
    memcpy(xm, b->map + ostart, xn * sizeof *xm);
    b->len = ostart;
    next(p);
    if (p->t.k != K_LB) {
        fail_expected(p, negate ? "'[' after NIN" : "'[' after IN");
        goto out;
    }
    emit_gen(b, negate ? "(NOT (" : "(", at);
    size_t n = 0;
    next(p);
    while (p->t.k != K_RB && !p->failed) {
        if (n)
            emit_gen(b, " OR ", at);
        tok_t c = p->t;
        size_t cstart = c.pos;
        if (c.k == K_OP && p->s[c.pos] == '-' && c.end == c.pos + 1) {
            next(p);
            c = p->t;
        }
        if (!(c.k == K_STR || c.k == K_NUM || (c.k == K_NAME && is_literal_word(p, c)))) {
            fail_expected(p, "a constant in the list");
            break;
        }
        emit_mapped(b, x, xn, xm, 0);
        emit_gen(b, " = ", c.pos);
        emit_src(b, p->s, cstart, c.end);
        n++;
        next(p);
        if (p->t.k == K_COMMA) {
            next(p);
            if (p->t.k == K_RB)
                fail_expected(p, "a constant after ','");
        } else if (p->t.k != K_RB) {
            fail_expected(p, "',' or ']'");
        }
    }
    if (!n)
        emit_gen(b, "false", at);
    emit_gen(b, negate ? "))" : ")", p->t.pos);
out:
    free(x);
    free(xm);
}

/* Rewrite the condition from p->t up to GROUP BY or the end. */
static void rewrite_where(ps_t *p, obuf_t *b)
{
    size_t ostart = SIZE_MAX, oend = 0, prev_end = p->t.pos;
    if (p->t.k == K_EOF || tok_is(p, p->t, "group"))
        fail_expected(p, "a condition after WHERE");
    while (!p->failed && p->t.k != K_EOF && p->t.k != K_ERR) {
        tok_t t = p->t;
        if (tok_is(p, t, "group") && tok_is(p, peek(p), "by"))
            break;
        emit_src(b, p->s, prev_end, t.pos); /* whitespace, comments */
        size_t here = b->len;
        bool operand = false;
        if (t.k == K_NAME && (tok_is(p, t, "in") || tok_is(p, t, "nin"))) {
            if (ostart == SIZE_MAX) {
                fail_at(p, t.pos, "%s needs a property path or a constant on its left",
                        tok_is(p, t, "in") ? "IN" : "NIN");
                return;
            }
            rewrite_in(p, b, ostart, oend, tok_is(p, t, "nin") && !(p->breaks & TWIN_QUERY_BREAK_NIN_AS_IN));
            ostart = SIZE_MAX;
            prev_end = p->t.end;
            next(p);
            continue;
        }
        if (t.k == K_NAME && tok_is(p, t, "order") && tok_is(p, peek(p), "by")) {
            fail_at(p, t.pos, "ORDER BY is not part of the twin query language");
            return;
        }
        bool logic = t.k == K_NAME && (tok_is(p, t, "and") || tok_is(p, t, "or") || tok_is(p, t, "not"));
        if (!logic && t.k == K_NAME && peek(p).k == K_LP) {
            if (!twin_function(p->s + t.pos, t.end - t.pos)) {
                char nb[64];
                fail_at(p, t.pos, "unknown function %s: twin queries have IS_* type checks, "
                        "STARTS_WITH, ENDS_WITH, CONTAINS", describe(p, t, nb, sizeof nb));
                return;
            }
            if ((p->breaks & TWIN_QUERY_BREAK_IS_DEFINED) && tok_is(p, t, "is_defined"))
                emit_gen(b, "NOT ", t.pos);
            emit_src(b, p->s, t.pos, t.end);
        } else if (logic) {
            emit_src(b, p->s, t.pos, t.end);
        } else if (t.k == K_NAME && is_literal_word(p, t)) {
            emit_src(b, p->s, t.pos, t.end);
            operand = true;
        } else if (t.k == K_NAME) {
            /* a path into the twin document */
            size_t skip = collection_prefix(p->s + t.pos, t.end - t.pos);
            emit_gen(b, "$twin.", t.pos);
            emit_src(b, p->s, t.pos + skip, t.end);
            operand = true;
        } else if (t.k == K_LB || t.k == K_RB) {
            fail_at(p, t.pos, "an array constant may only follow IN or NIN");
            return;
        } else if (t.k == K_OP && (p->s[t.pos] == '{' || p->s[t.pos] == '}')) {
            fail_at(p, t.pos, "unexpected '%c'", p->s[t.pos]);
            return;
        } else {
            emit_src(b, p->s, t.pos, t.end);
            operand = t.k == K_STR || t.k == K_NUM;
        }
        if (operand) {
            ostart = here;
            oend = b->len;
        } else {
            ostart = SIZE_MAX;
        }
        prev_end = t.end;
        next(p);
    }
}

/* Byte offset in s of (line, column). */
static size_t offset_of(const char *s, size_t len, int line, int column)
{
    int l = 1, c = 1;
    size_t i = 0;
    for (; i < len; i++) {
        if (l == line && c == column)
            return i;
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    return len;
}

/* Drop the "$twin." the rewrite added from an error message. */
static void strip_twin_prefix(char *m)
{
    char *at;
    while ((at = strstr(m, "$twin.")) != NULL)
        memmove(at, at + 6, strlen(at + 6) + 1);
}

static void compile_where(ps_t *p, twin_query_t *q)
{
    obuf_t b = { 0 };
    size_t start = p->t.pos;
    rewrite_where(p, &b);
    if (!p->failed && b.oom)
        fail_at(p, start, "out of memory");
    if (!p->failed) {
        emit_gen(&b, "", p->t.pos);
        if (b.oom) {
            fail_at(p, start, "out of memory");
        } else {
            /* the end maps to where the condition stopped */
            b.map[b.len] = p->t.pos;
            route_options_t o;
            route_options_default(&o);
            o.extended_type_functions = true;
            o.empty_condition_true = false;
            route_syntax_error_t re;
            hs_err_t e = route_query_compile(b.s, &o, &q->where, &re);
            if (e == HS_EPARSE) {
                size_t off = offset_of(b.s, b.len, re.line, re.column);
                strip_twin_prefix(re.message);
                fail_at(p, b.map[off], "%s", re.message);
            } else if (e) {
                fail_at(p, start, "cannot compile the condition: %s", hs_strerror(e));
            }
        }
    }
    free(b.s);
    free(b.map);
}

/* ---- SELECT frame ---------------------------------------------------------- */

static int add_item(ps_t *p, twin_query_t *q, item_t it)
{
    item_t *ni = realloc(q->items, (q->nitems + 1) * sizeof *ni);
    if (!ni) {
        fail_at(p, p->t.pos, "out of memory");
        path_free(&it.path);
        free(it.alias);
        return -1;
    }
    q->items = ni;
    q->items[q->nitems++] = it;
    return 0;
}

static bool reserved(const ps_t *p, tok_t t)
{
    static const char *const words[] = { "select", "from", "where", "group", "by", "as", "top" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tok_is(p, t, words[i]))
            return true;
    return false;
}

static void parse_items(ps_t *p, twin_query_t *q)
{
    for (;;) {
        item_t it = { 0 };
        tok_t t = p->t;
        if (t.k == K_NAME && peek(p).k == K_LP) {
            for (int a = AGG_COUNT; a <= AGG_MAX; a++)
                if (tok_is(p, t, agg_names[a]))
                    it.agg = (agg_t)a;
            if (it.agg == AGG_NONE) {
                char nb[64];
                fail_at(p, t.pos, "%s is not an aggregate (COUNT, SUM, AVG, MIN, MAX)",
                        describe(p, t, nb, sizeof nb));
                return;
            }
            next(p);
            next(p);
            if (it.agg == AGG_COUNT) {
                if (p->t.k != K_RP) {
                    fail_expected(p, "')' (COUNT takes no argument)");
                    return;
                }
                it.path.pos = t.pos;
            } else {
                if (p->t.k != K_NAME || reserved(p, p->t) || is_literal_word(p, p->t) || peek(p).k == K_LP) {
                    fail_expected(p, "a property path");
                    return;
                }
                if (path_parse(p, p->t, &it.path) || !it.path.n) {
                    path_free(&it.path);
                    fail_expected(p, "a property path");
                    return;
                }
                it.path.pos = t.pos;
                next(p);
                if (p->t.k != K_RP) {
                    path_free(&it.path);
                    fail_expected(p, "')'");
                    return;
                }
            }
            q->has_agg = true;
        } else if (t.k == K_NAME && !reserved(p, t) && !is_literal_word(p, t)) {
            if (path_parse(p, t, &it.path)) {
                path_free(&it.path);
                return;
            }
            if (!it.path.n) {
                path_free(&it.path);
                fail_at(p, t.pos, "a projection needs a property after the collection name");
                return;
            }
        } else {
            fail_expected(p, "'*', an aggregate or a property path");
            return;
        }
        next(p);
        if (tok_is(p, p->t, "as")) {
            next(p);
            bool plain = p->t.k == K_NAME && !memchr(p->s + p->t.pos, '.', p->t.end - p->t.pos) &&
                         !memchr(p->s + p->t.pos, '[', p->t.end - p->t.pos);
            if (!plain) {
                path_free(&it.path);
                fail_expected(p, "an alias name after AS");
                return;
            }
            it.alias = strndup(p->s + p->t.pos, p->t.end - p->t.pos);
            if (!it.alias) {
                path_free(&it.path);
                fail_at(p, p->t.pos, "out of memory");
                return;
            }
            next(p);
        }
        if (add_item(p, q, it))
            return;
        if (p->t.k != K_COMMA)
            return;
        next(p);
    }
}

static void parse_query(ps_t *p, twin_query_t *q)
{
    next(p);
    if (!tok_is(p, p->t, "select")) {
        fail_expected(p, "SELECT");
        return;
    }
    next(p);
    if (tok_is(p, p->t, "top")) {
        next(p);
        char *e = NULL, nb[32];
        unsigned long long v = 0;
        if (p->t.k == K_NUM) {
            size_t n = p->t.end - p->t.pos;
            snprintf(nb, sizeof nb, "%.*s", (int)(n > 30 ? 30 : n), p->s + p->t.pos);
            v = strtoull(nb, &e, 10);
        }
        if (p->t.k != K_NUM || !e || *e || v > SIZE_MAX / 2) {
            fail_expected(p, "a whole number after TOP");
            return;
        }
        q->has_top = true;
        q->top = (size_t)v;
        next(p);
    }
    if (p->t.k == K_STAR) {
        q->star = true;
        next(p);
    } else {
        parse_items(p, q);
        if (p->failed)
            return;
    }
    if (!tok_is(p, p->t, "from")) {
        fail_expected(p, q->star ? "FROM" : "',' or FROM");
        return;
    }
    next(p);
    if (tok_is(p, p->t, "devices")) {
        q->from = TWIN_FROM_DEVICES;
    } else if (tok_is(p, p->t, "devices.modules")) {
        q->from = TWIN_FROM_MODULES;
    } else if (tok_is(p, p->t, "devices.jobs")) {
        q->from = TWIN_FROM_JOBS;
    } else {
        fail_expected(p, "devices, devices.modules or devices.jobs");
        return;
    }
    size_t from_pos = p->t.pos;
    next(p);
    if (tok_is(p, p->t, "where")) {
        next(p);
        compile_where(p, q);
        if (p->failed)
            return;
    }
    size_t group_pos = p->t.pos;
    if (tok_is(p, p->t, "group")) {
        next(p);
        if (!tok_is(p, p->t, "by")) {
            fail_expected(p, "BY after GROUP");
            return;
        }
        next(p);
        if (p->t.k != K_NAME || reserved(p, p->t) || peek(p).k == K_LP) {
            fail_expected(p, "a property path after GROUP BY");
            return;
        }
        if (path_parse(p, p->t, &q->group))
            return;
        q->has_group = true;
        next(p);
    }
    if (p->t.k != K_EOF) {
        fail_expected(p, q->has_group ? "the end of the query" : "WHERE, GROUP BY or the end of the query");
        return;
    }
    /* the shape rules of aggregates */
    if (q->has_group && q->star) {
        fail_at(p, group_pos, "GROUP BY needs a projection list (SELECT <path>, COUNT() ...), not *");
        return;
    }
    if (q->has_group && q->from != TWIN_FROM_DEVICES) {
        fail_at(p, from_pos, "GROUP BY is only supported on device twins (FROM devices)");
        return;
    }
    /* [doc] "queries on devices.jobs do not support projections, therefore
     * only SELECT * is possible", nor aggregations */
    if (q->from == TWIN_FROM_JOBS && !q->star) {
        fail_at(p, q->nitems ? q->items[0].path.pos : from_pos,
                "FROM devices.jobs supports only SELECT * (no projections or aggregates)");
        return;
    }
    for (size_t i = 0; i < q->nitems; i++) {
        const item_t *it = &q->items[i];
        if (it->agg != AGG_NONE)
            continue;
        if (q->has_group && !path_equal(&it->path, &q->group)) {
            fail_at(p, it->path.pos, "a projection in a GROUP BY query must be the GROUP BY path");
            return;
        }
        if (!q->has_group && q->has_agg) {
            fail_at(p, it->path.pos, "a projection next to an aggregate needs GROUP BY on it");
            return;
        }
    }
}

/* Offset of the first byte that is not part of well-formed UTF-8, or len. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (n == 9 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + n >= len + (n ? 0 : 1))
            return i;
        uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1Fu) : n == 2 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

hs_err_t twin_query_compile(const char *text, twin_query_t **out, route_syntax_error_t *err)
{
    return twin_query_compile_broken(text, 0, out, err);
}

hs_err_t twin_query_compile_broken(const char *text, unsigned breaks, twin_query_t **out,
                                   route_syntax_error_t *err)
{
    if (out)
        *out = NULL;
    if (!text || !out)
        return HS_EINVAL;
    if (err)
        memset(err, 0, sizeof *err);
    ps_t p = { .s = text, .len = strlen(text), .err = err, .breaks = breaks };
    if (p.len > TWIN_QUERY_MAX_LEN) {
        fail_at(&p, TWIN_QUERY_MAX_LEN, "the query is longer than %d characters", TWIN_QUERY_MAX_LEN);
        return HS_EPARSE;
    }
    size_t bad = utf8_invalid_at((const unsigned char *)text, p.len);
    if (bad < p.len) {
        fail_at(&p, bad, "the query is not valid UTF-8 (byte 0x%02x)", (unsigned char)text[bad]);
        return HS_EPARSE;
    }
    twin_query_t *q = calloc(1, sizeof *q);
    if (!q)
        return HS_ENOMEM;
    parse_query(&p, q);
    if (p.failed) {
        twin_query_free(q);
        return HS_EPARSE;
    }
    q->breaks = breaks;
    if (breaks & TWIN_QUERY_BREAK_GROUP_BY)
        q->has_group = false; /* one aggregate row over every hit */
    /* unaliased aggregates are $1, $2, ... in SELECT order */
    for (size_t i = 0, k = 1; i < q->nitems; i++)
        if (q->items[i].agg != AGG_NONE && !q->items[i].alias)
            snprintf(q->items[i].label, sizeof q->items[i].label, "$%zu", k++);
    *out = q;
    return HS_EOK;
}

/* ---- evaluation ------------------------------------------------------------ */

static bool in_collection(twin_from_t from, const json_t *doc)
{
    if (!json_is_object(doc))
        return false;
    /* a per-device job record carries its jobId; a twin never does */
    const char *job = json_string_value(json_object_get(doc, "jobId"));
    if (from == TWIN_FROM_JOBS || (job && job[0]))
        return from == TWIN_FROM_JOBS && job && job[0];
    const char *mod = json_string_value(json_object_get(doc, "moduleId"));
    bool module = mod && mod[0];
    return from == TWIN_FROM_MODULES ? module : !module;
}

bool twin_query_matches(twin_query_t *q, const json_t *doc)
{
    if (!q || !in_collection(q->from, doc))
        return false;
    if (!q->where || (q->breaks & TWIN_QUERY_BREAK_WHERE))
        return true;
    route_message_t m;
    route_message_init(&m);
    m.twin = doc;
    route_tri_t r = route_query_eval(q->where, &m);
    route_message_reset(&m);
    return r == ROUTE_TRUE;
}

static json_t *project(const twin_query_t *q, const json_t *doc)
{
    json_t *row = json_object();
    for (size_t i = 0; row && i < q->nitems; i++) {
        const item_t *it = &q->items[i];
        const char *key;
        const json_t *v = path_walk(&it->path, doc, &key);
        if (!v)
            continue;
        const char *label = it->alias ? it->alias : key ? key : path_label(&it->path);
        if (json_object_set_new(row, label, json_deep_copy(v)) != 0) {
            json_decref(row);
            return NULL;
        }
    }
    return row;
}

/* One aggregate's running state over a group. */
typedef struct {
    double sum, min, max;
    size_t nnum; /* numeric values seen */
} acc_t;

typedef struct {
    const json_t *key; /* borrowed from a document; NULL: undefined */
    json_int_t count;
} group_t;

static void acc_add(acc_t *a, const json_t *v)
{
    if (!json_is_number(v))
        return; /* SUM, AVG, MIN and MAX read numbers only [?] */
    double x = json_number_value(v);
    a->sum += x;
    if (!a->nnum || x < a->min)
        a->min = x;
    if (!a->nnum || x > a->max)
        a->max = x;
    a->nnum++;
}

/* A number as an integer when it is one (2^53 bound), else a real. */
static json_t *number_json(double x)
{
    if (x == (double)(json_int_t)x && x > -9007199254740992.0 && x < 9007199254740992.0)
        return json_integer((json_int_t)x);
    return json_real(x);
}

/* The value of aggregate item it over a group; NULL: no value (member left out). */
static json_t *agg_value(const item_t *it, const group_t *g, const acc_t *a)
{
    switch (it->agg) {
    case AGG_COUNT: return json_integer(g->count);
    case AGG_SUM: return number_json(a->sum);
    case AGG_AVG: return a->nnum ? number_json(a->sum / (double)a->nnum) : NULL;
    case AGG_MIN: return a->nnum ? number_json(a->min) : NULL;
    case AGG_MAX: return a->nnum ? number_json(a->max) : NULL;
    case AGG_NONE: break;
    }
    return NULL;
}

/* Aggregate rows: one per group (GROUP BY), or exactly one over all hits. */
static json_t *group_rows(const twin_query_t *q, const json_t *docs, json_t *out, const bool *hit)
{
    group_t *g = NULL;
    acc_t *acc = NULL; /* ng x nitems */
    size_t ng = 0, ni = q->nitems;
    bool ok = true;
    if (!q->has_group) {
        g = calloc(1, sizeof *g);
        acc = calloc(ni ? ni : 1, sizeof *acc);
        ok = g && acc;
        ng = 1;
    }
    for (size_t i = 0; ok && i < json_array_size(docs); i++) {
        if (!hit[i])
            continue;
        const json_t *doc = json_array_get(docs, i);
        const char *unused;
        size_t j = 0;
        if (q->has_group) {
            const json_t *k = path_walk(&q->group, doc, &unused);
            while (j < ng && !(g[j].key == k || (g[j].key && k && json_equal(g[j].key, k))))
                j++;
            if (j == ng) {
                group_t *ngp = realloc(g, (ng + 1) * sizeof *ngp);
                if (ngp)
                    g = ngp;
                acc_t *nacc = ngp ? realloc(acc, (ng + 1) * (ni ? ni : 1) * sizeof *nacc) : NULL;
                if (!nacc) {
                    ok = false;
                    break;
                }
                acc = nacc;
                memset(acc + ng * ni, 0, ni * sizeof *acc);
                g[ng++] = (group_t){ k, 0 };
            }
        }
        g[j].count++;
        for (size_t m = 0; m < ni; m++)
            if (q->items[m].agg > AGG_COUNT)
                acc_add(&acc[j * ni + m], path_walk(&q->items[m].path, doc, &unused));
    }
    for (size_t j = 0; ok && j < ng && (!q->has_top || j < q->top); j++) {
        json_t *row = json_object();
        for (size_t m = 0; row && m < ni; m++) {
            const item_t *it = &q->items[m];
            const char *label = it->alias ? it->alias : it->agg != AGG_NONE ? it->label : path_label(&it->path);
            json_t *v = it->agg != AGG_NONE ? agg_value(it, &g[j], &acc[j * ni + m])
                        : g[j].key          ? json_deep_copy(g[j].key)
                                            : NULL;
            if (!v)
                continue; /* undefined: the member is left out */
            if (json_object_set_new(row, label, v) != 0) {
                json_decref(row);
                row = NULL;
            }
        }
        if (!row || json_array_append_new(out, row) != 0)
            ok = false;
    }
    free(g);
    free(acc);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *twin_query_run(twin_query_t *q, const json_t *docs)
{
    if (!q)
        return NULL;
    json_t *out = json_array();
    size_t n = json_array_size(docs);
    bool *hit = calloc(n ? n : 1, sizeof *hit);
    if (!out || !hit) {
        free(hit);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        hit[i] = twin_query_matches(q, json_array_get(docs, i));
    if (q->has_group || q->has_agg) {
        out = group_rows(q, docs, out, hit);
    } else {
        size_t rows = 0;
        for (size_t i = 0; i < n && out && (!q->has_top || rows < q->top); i++) {
            if (!hit[i])
                continue;
            json_t *doc = json_array_get(docs, i);
            json_t *row = q->star ? json_incref(doc) : project(q, doc);
            if (!row || json_array_append_new(out, row) != 0) {
                json_decref(out);
                out = NULL;
            }
            rows++;
        }
    }
    free(hit);
    return out;
}
