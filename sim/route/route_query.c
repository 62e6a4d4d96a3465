/* The routing query language: lexer, recursive-descent parser into a flat node array, and the evaluator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "route_query.h"
#include "route_utf8.h"
#include "sim/detmath.h"

/*
 * Compilation turns the text into an array of nodes; children are indices,
 * so the compiled form is one allocation-friendly block walked recursively
 * per message.  Names are resolved at compile time: `$contentType` becomes a
 * system-property slot, `$body.a[0]` a list of path segments, a function
 * name a builtin id with its argument count checked.  Values during
 * evaluation are small tagged unions (rv_t); strings are borrowed from the
 * message, the query or the JSON body, and computed strings (CONCAT, LOWER,
 * SUBSTRING...) live in a per-evaluation arena freed at the end.
 *
 * Limits that keep hostile input bounded: 4096 nodes, tree depth 200,
 * computed strings 1 MiB per evaluation (beyond: undefined).
 */

#define MAX_NODES 4096
#define MAX_DEPTH 200
#define MAX_PARSE_DEPTH (2 * MAX_DEPTH) /* parse_expr and parse_unary both count a level */
#define MAX_ARENA (1u << 20)

typedef enum { RV_UNDEF, RV_NULL, RV_BOOL, RV_NUM, RV_STR, RV_OBJ, RV_ARR } rv_type_t;

typedef struct {
    uint8_t t;
    bool b;
    double n;
    const char *s;
    size_t len;
    const json_t *j;
} rv_t;

typedef enum {
    N_LIT, N_APP, N_SYS, N_SYS_APP, N_APP_SYS, N_BODY, N_TWIN, N_UNDEF_REF,
    N_NEG, N_NOT, N_AND, N_OR, N_CMP, N_ARITH, N_CONCAT, N_FUNC
} node_kind_t;

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD } op_t;

typedef enum {
    F_ABS, F_EXP, F_POWER, F_SQUARE, F_FLOOR, F_CEILING, F_SIGN, F_SQRT, F_LENGTH, F_CONCAT,
    F_LOWER, F_UPPER, F_SUBSTRING, F_INDEX_OF, F_STARTS_WITH, F_ENDS_WITH, F_CONTAINS,
    F_IS_DEFINED, F_IS_NULL, F_IS_BOOL, F_IS_NUMBER, F_IS_STRING, F_AS_NUMBER, F_IS_ARRAY,
    F_IS_OBJECT, F_IS_PRIMITIVE, F_TWIN_CHANGE_INCLUDES
} fn_t;

static const struct {
    const char *name;
    fn_t id;
    int min, max;
    bool extended;
} builtins[] = {
    { "abs", F_ABS, 1, 1, 0 },           { "exp", F_EXP, 1, 1, 0 },
    { "power", F_POWER, 2, 2, 0 },       { "square", F_SQUARE, 1, 1, 0 },
    { "floor", F_FLOOR, 1, 1, 0 },       { "ceiling", F_CEILING, 1, 1, 0 },
    { "sign", F_SIGN, 1, 1, 0 },         { "sqrt", F_SQRT, 1, 1, 0 },
    { "length", F_LENGTH, 1, 1, 0 },     { "concat", F_CONCAT, 2, 64, 0 },
    { "lower", F_LOWER, 1, 1, 0 },       { "upper", F_UPPER, 1, 1, 0 },
    { "substring", F_SUBSTRING, 2, 3, 0 }, { "index_of", F_INDEX_OF, 2, 2, 0 },
    { "starts_with", F_STARTS_WITH, 2, 2, 0 }, { "ends_with", F_ENDS_WITH, 2, 2, 0 },
    { "contains", F_CONTAINS, 2, 2, 0 }, { "is_defined", F_IS_DEFINED, 1, 1, 0 },
    { "is_null", F_IS_NULL, 1, 1, 0 },   { "is_bool", F_IS_BOOL, 1, 1, 0 },
    { "is_number", F_IS_NUMBER, 1, 1, 0 }, { "is_string", F_IS_STRING, 1, 1, 0 },
    { "as_number", F_AS_NUMBER, 1, 1, 0 }, { "is_array", F_IS_ARRAY, 1, 1, 1 },
    { "is_object", F_IS_OBJECT, 1, 1, 1 }, { "is_primitive", F_IS_PRIMITIVE, 1, 1, 1 },
    { "twin_change_includes", F_TWIN_CHANGE_INCLUDES, 1, 1, 0 },
    { "twinchangeincludes", F_TWIN_CHANGE_INCLUDES, 1, 1, 0 },
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

typedef struct {
    char *name; /* NULL for an array index */
    size_t len;
    size_t index;
} seg_t;

typedef struct {
    uint8_t kind, op;
    uint8_t fn;
    int32_t a, b;
    int32_t arg0, nargs; /* N_FUNC: indices into q->args */
    int32_t seg0, nsegs; /* N_BODY, N_TWIN: indices into q->segs */
    int slot;
    char *name;
    size_t name_len;
    rv_t lit;
    int32_t pos, end; /* source byte range, for --explain */
} node_t;

struct route_query {
    route_options_t opt;
    char *text;
    node_t *nodes;
    int32_t nnodes, cap_nodes;
    int32_t *args;
    int32_t nargs, cap_args;
    seg_t *segs;
    int32_t nsegs, cap_segs;
    int32_t root;
    uint64_t eval_errors;
};

/* --- lexer --------------------------------------------------------------- */

typedef enum {
    T_EOF, T_NUM, T_STR, T_NAME, T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_COMMA, T_PLUS, T_MINUS,
    T_STAR, T_SLASH, T_PCT, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_CONCAT, T_AND, T_OR, T_NOT,
    T_TRUE, T_FALSE, T_NULL, T_UNDEF, T_ERR
} tok_kind_t;

typedef struct {
    tok_kind_t k;
    int32_t pos, end;
    double num;
    char *str; /* T_STR: decoded, malloc'd (owned by the parser until taken) */
    size_t slen;
} tok_t;

typedef struct {
    route_query_t *q;
    const char *s;
    size_t len;
    size_t i;
    tok_t tok;
    route_syntax_error_t *err;
    int failed;
    int depth;
} parser_t;

static void set_error(parser_t *p, size_t pos, const char *fmt, const char *arg)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (!p->err)
        return;
    int line = 1, col = 1;
    for (size_t i = 0; i < pos && i < p->len; i++) {
        unsigned char c = (unsigned char)p->s[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {
            col++;
        }
    }
    p->err->line = line;
    p->err->column = col;
    snprintf(p->err->message, sizeof p->err->message, fmt, arg ? arg : "");
}

static int is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static int is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int ci_eqn(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_u4(parser_t *p, size_t at, uint32_t *out)
{
    if (at + 4 > p->len)
        return -1;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)p->s[at + (size_t)k]);
        if (h < 0)
            return -1;
        v = v << 4 | (uint32_t)h;
    }
    *out = v;
    return 0;
}

static void lex_string(parser_t *p, tok_t *t)
{
    char quote = p->s[p->i];
    size_t start = p->i++;
    /* Decoded text is never longer than the source. */
    char *buf = malloc(p->len - start + 1);
    size_t n = 0;
    if (!buf) {
        set_error(p, start, "out of memory%s", NULL);
        t->k = T_ERR;
        return;
    }
    for (;;) {
        if (p->i >= p->len) {
            set_error(p, start, "unterminated string%s", NULL);
            free(buf);
            t->k = T_ERR;
            return;
        }
        char c = p->s[p->i];
        if (c == quote) {
            p->i++;
            break;
        }
        if (c != '\\') {
            buf[n++] = c;
            p->i++;
            continue;
        }
        char e = p->i + 1 < p->len ? p->s[p->i + 1] : 0;
        if (e == '\'' || e == '"' || e == '\\') {
            buf[n++] = e;
            p->i += 2;
            continue;
        }
        uint32_t cp;
        if ((e == 'u' || e == 'U') && !read_u4(p, p->i + 2, &cp)) {
            size_t used = 6;
            uint32_t lo;
            if (cp >= 0xD800 && cp <= 0xDBFF && p->i + 7 < p->len && p->s[p->i + 6] == '\\' &&
                (p->s[p->i + 7] == 'u' || p->s[p->i + 7] == 'U') && !read_u4(p, p->i + 8, &lo) &&
                lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) {
                set_error(p, p->i, "unpaired surrogate in \\u escape%s", NULL);
                free(buf);
                t->k = T_ERR;
                return;
            }
            /* \u0000 would truncate C strings downstream: refuse it. */
            if (!cp) {
                set_error(p, p->i, "\\u0000 is not allowed in a string%s", NULL);
                free(buf);
                t->k = T_ERR;
                return;
            }
            n += route_utf8_put(buf + n, cp);
            p->i += used;
            continue;
        }
        set_error(p, p->i, "invalid escape in string (use \\', \\\", \\\\ or \\uXXXX)%s", NULL);
        free(buf);
        t->k = T_ERR;
        return;
    }
    buf[n] = 0;
    t->k = T_STR;
    t->str = buf;
    t->slen = n;
}

static void lex_number(parser_t *p, tok_t *t)
{
    size_t start = p->i;
    const char *s = p->s;
    if (s[p->i] == '0' && p->i + 1 < p->len && (s[p->i + 1] == 'x' || s[p->i + 1] == 'X')) {
        size_t j = p->i + 2;
        double v = 0;
        while (j < p->len && hexval((unsigned char)s[j]) >= 0)
            v = v * 16 + hexval((unsigned char)s[j++]);
        if (j == p->i + 2) {
            set_error(p, start, "invalid hexadecimal number%s", NULL);
            t->k = T_ERR;
            return;
        }
        p->i = j;
        t->num = v;
    } else {
        size_t j = p->i;
        while (j < p->len && s[j] >= '0' && s[j] <= '9')
            j++;
        if (j < p->len && s[j] == '.') {
            j++;
            size_t d = j;
            while (j < p->len && s[j] >= '0' && s[j] <= '9')
                j++;
            if (j == d) {
                set_error(p, start, "a digit must follow the decimal point%s", NULL);
                t->k = T_ERR;
                return;
            }
        }
        if (j < p->len && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < p->len && (s[k] == '+' || s[k] == '-'))
                k++;
            size_t d = k;
            while (k < p->len && s[k] >= '0' && s[k] <= '9')
                k++;
            if (k == d) {
                set_error(p, start, "invalid exponent in number%s", NULL);
                t->k = T_ERR;
                return;
            }
            j = k;
        }
        char tmp[64];
        size_t n = j - start;
        if (n >= sizeof tmp) {
            /* Long literals: strtod on a heap copy. */
            char *h = malloc(n + 1);
            if (!h) {
                t->k = T_ERR;
                set_error(p, start, "out of memory%s", NULL);
                return;
            }
            memcpy(h, s + start, n);
            h[n] = 0;
            t->num = strtod(h, NULL);
            free(h);
        } else {
            memcpy(tmp, s + start, n);
            tmp[n] = 0;
            t->num = strtod(tmp, NULL);
        }
        p->i = j;
    }
    if (p->i < p->len && is_name_char((unsigned char)s[p->i]) && s[p->i] != '-' && s[p->i] != '.') {
        set_error(p, start, "invalid number%s", NULL);
        t->k = T_ERR;
        return;
    }
    t->k = T_NUM;
}

static void lex_name(parser_t *p, tok_t *t)
{
    size_t start = p->i;
    while (p->i < p->len) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (is_name_char(c)) {
            p->i++;
        } else if (c == '[') {
            /* an array index inside a $body/$twin path: digits only */
            size_t j = p->i + 1;
            while (j < p->len && p->s[j] >= '0' && p->s[j] <= '9')
                j++;
            if (j == p->i + 1 || j >= p->len || p->s[j] != ']') {
                set_error(p, p->i, "an array index must be digits in brackets, e.g. [0]%s", NULL);
                t->k = T_ERR;
                return;
            }
            p->i = j + 1;
        } else {
            break;
        }
    }
    t->k = T_NAME;
    const char *n = p->s + start;
    size_t len = p->i - start;
    if (ci_eqn(n, len, "and"))
        t->k = T_AND;
    else if (ci_eqn(n, len, "or"))
        t->k = T_OR;
    else if (ci_eqn(n, len, "not"))
        t->k = T_NOT;
    else {
        int ci = p->q->opt.literals_case_insensitive;
        if (ci ? ci_eqn(n, len, "true") : (len == 4 && !memcmp(n, "true", 4)))
            t->k = T_TRUE;
        else if (ci ? ci_eqn(n, len, "false") : (len == 5 && !memcmp(n, "false", 5)))
            t->k = T_FALSE;
        else if (ci ? ci_eqn(n, len, "null") : (len == 4 && !memcmp(n, "null", 4)))
            t->k = T_NULL;
        else if (ci ? ci_eqn(n, len, "undefined") : (len == 9 && !memcmp(n, "undefined", 9)))
            t->k = T_UNDEF;
    }
}

static void next(parser_t *p)
{
    tok_t *t = &p->tok;
    free(t->str);
    memset(t, 0, sizeof *t);
    if (p->failed) {
        t->k = T_ERR;
        return;
    }
    const char *s = p->s;
    for (;;) {
        while (p->i < p->len && (s[p->i] == ' ' || s[p->i] == '\t' || s[p->i] == '\n' ||
                                 s[p->i] == '\r'))
            p->i++;
        /* block comments, as edgeHub's lexer allows */
        if (p->i + 1 < p->len && s[p->i] == '/' && s[p->i + 1] == '*') {
            size_t at = p->i;
            const char *e = NULL;
            for (size_t j = p->i + 2; j + 1 < p->len; j++)
                if (s[j] == '*' && s[j + 1] == '/') {
                    e = s + j;
                    break;
                }
            if (!e) {
                set_error(p, at, "unterminated comment%s", NULL);
                t->k = T_ERR;
                return;
            }
            p->i = (size_t)(e - s) + 2;
            continue;
        }
        break;
    }
    t->pos = (int32_t)p->i;
    if (p->i >= p->len) {
        t->k = T_EOF;
        t->end = t->pos;
        return;
    }
    unsigned char c = (unsigned char)s[p->i];
    unsigned char d = p->i + 1 < p->len ? (unsigned char)s[p->i + 1] : 0;
    switch (c) {
    case '(': t->k = T_LPAREN; p->i++; break;
    case ')': t->k = T_RPAREN; p->i++; break;
    case '{': t->k = T_LBRACE; p->i++; break;
    case '}': t->k = T_RBRACE; p->i++; break;
    case ',': t->k = T_COMMA; p->i++; break;
    case '+': t->k = T_PLUS; p->i++; break;
    case '-': t->k = T_MINUS; p->i++; break;
    case '*': t->k = T_STAR; p->i++; break;
    case '/': t->k = T_SLASH; p->i++; break;
    case '%': t->k = T_PCT; p->i++; break;
    case '=': t->k = T_EQ; p->i += d == '=' ? 2 : 1; break; /* '==' as a synonym is refused below */
    case '!':
        if (d == '=') {
            t->k = T_NE;
            p->i += 2;
        } else {
            set_error(p, p->i, "unexpected '!' (did you mean '!=' or NOT?)%s", NULL);
            t->k = T_ERR;
        }
        break;
    case '<':
        if (d == '=') { t->k = T_LE; p->i += 2; }
        else if (d == '>') { t->k = T_NE; p->i += 2; }
        else { t->k = T_LT; p->i++; }
        break;
    case '>':
        if (d == '=') { t->k = T_GE; p->i += 2; }
        else { t->k = T_GT; p->i++; }
        break;
    case '|':
        if (d == '|') {
            t->k = T_CONCAT;
            p->i += 2;
        } else {
            set_error(p, p->i, "unexpected '|' (string concatenation is '||')%s", NULL);
            t->k = T_ERR;
        }
        break;
    case '\'':
    case '"': lex_string(p, t); break;
    default:
        if ((c >= '0' && c <= '9') || (c == '.' && d >= '0' && d <= '9'))
            lex_number(p, t);
        else if (is_name_start(c))
            lex_name(p, t);
        else {
            char ch[8];
            snprintf(ch, sizeof ch, c >= 0x20 && c < 0x7F ? "%c" : "\\x%02x", c);
            set_error(p, p->i, "unexpected character '%s'", ch);
            t->k = T_ERR;
        }
    }
    if (t->k == T_EQ && p->i - (size_t)t->pos == 2) {
        set_error(p, (size_t)t->pos, "'==' is not an operator; equality is '='%s", NULL);
        t->k = T_ERR;
    }
    t->end = (int32_t)p->i;
}

/* --- parser -------------------------------------------------------------- */

static int32_t new_node(parser_t *p, node_kind_t kind, int32_t pos, int32_t end)
{
    route_query_t *q = p->q;
    if (p->failed)
        return -1;
    if (q->nnodes >= MAX_NODES) {
        set_error(p, (size_t)pos, "expression too long (more than 4096 nodes)%s", NULL);
        return -1;
    }
    if (q->nnodes == q->cap_nodes) {
        int32_t cap = q->cap_nodes ? q->cap_nodes * 2 : 16;
        node_t *nn = realloc(q->nodes, (size_t)cap * sizeof *nn);
        if (!nn) {
            set_error(p, (size_t)pos, "out of memory%s", NULL);
            return -1;
        }
        q->nodes = nn;
        q->cap_nodes = cap;
    }
    node_t *n = &q->nodes[q->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->a = n->b = -1;
    n->slot = -1;
    n->pos = pos;
    n->end = end;
    return q->nnodes++;
}

static int32_t parse_expr(parser_t *p);
static int32_t parse_not(parser_t *p);

static int expect(parser_t *p, tok_kind_t k, const char *what)
{
    if (p->failed)
        return -1;
    if (p->tok.k != k) {
        if (p->tok.k == T_EOF)
            set_error(p, (size_t)p->tok.pos, "expected %s but the expression ended", what);
        else
            set_error(p, (size_t)p->tok.pos, "expected %s", what);
        return -1;
    }
    next(p);
    return 0;
}

static int add_seg(parser_t *p, const char *name, size_t len, size_t index)
{
    route_query_t *q = p->q;
    if (q->nsegs == q->cap_segs) {
        int32_t cap = q->cap_segs ? q->cap_segs * 2 : 16;
        seg_t *ns = realloc(q->segs, (size_t)cap * sizeof *ns);
        if (!ns)
            return -1;
        q->segs = ns;
        q->cap_segs = cap;
    }
    seg_t *sg = &q->segs[q->nsegs];
    sg->name = NULL;
    sg->len = len;
    sg->index = index;
    if (name) {
        sg->name = malloc(len + 1);
        if (!sg->name)
            return -1;
        memcpy(sg->name, name, len);
        sg->name[len] = 0;
    }
    q->nsegs++;
    return 0;
}

/* Split "a.b[0].c" into segments.  Empty names ("a..b", trailing '.') are a
 * syntax error at their position. */
static int parse_path(parser_t *p, const char *s, size_t len, size_t at, int32_t *seg0,
                      int32_t *nsegs)
{
    *seg0 = p->q->nsegs;
    size_t i = 0;
    if (!len) {
        set_error(p, at ? at - 1 : 0, "a path cannot end with '.'%s", NULL);
        return -1;
    }
    while (i < len) {
        if (s[i] == '[') {
            size_t j = i + 1, v = 0;
            while (s[j] != ']') {
                if (v < (size_t)1 << 40)
                    v = v * 10 + (size_t)(s[j] - '0');
                j++;
            }
            if (add_seg(p, NULL, 0, v))
                return -1;
            i = j + 1;
            if (i < len && s[i] == '.')
                i++;
            else if (i < len && s[i] != '[') {
                set_error(p, at + i, "expected '.' or '[' after ']'%s", NULL);
                return -1;
            }
            continue;
        }
        size_t j = i;
        while (j < len && s[j] != '.' && s[j] != '[')
            j++;
        if (j == i) {
            set_error(p, at + i, "empty name in a path%s", NULL);
            return -1;
        }
        if (add_seg(p, s + i, j - i, 0))
            return -1;
        i = j;
        if (i < len && s[i] == '.') {
            i++;
            if (i == len) {
                set_error(p, at + i - 1, "a path cannot end with '.'%s", NULL);
                return -1;
            }
        }
    }
    *nsegs = p->q->nsegs - *seg0;
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* A name token: bare app property, $system/$app, $body path, $twin path.
 * forced: inside {...}, system property (or body/twin path) only. */
static int32_t name_node(parser_t *p, const char *s, size_t len, int32_t pos, int32_t end, int forced)
{
    int dollar = s[0] == '$';
    size_t k = 0;
    while (k < len && s[k] != '.' && s[k] != '[')
        k++;
    const route_options_t *o = &p->q->opt;
    if (dollar && (ci_eqn(s + 1, k - 1, "body") || ci_eqn(s + 1, k - 1, "twin"))) {
        int body = ci_eqn(s + 1, k - 1, "body");
        /* `$body` alone and `$body[0]` are whole-body references: undefined
         * (the index mutant reads `$body[0]` as a path). */
        bool indexed = k < len && s[k] == '[' && (o->breaks & ROUTE_BREAK_WHOLE_INDEX);
        if ((k == len || s[k] == '[') && !indexed)
            return new_node(p, N_UNDEF_REF, pos, end);
        int32_t id = new_node(p, body ? N_BODY : N_TWIN, pos, end);
        if (id < 0)
            return -1;
        int32_t seg0, nsegs;
        size_t skip = indexed ? 0 : 1;
        if (parse_path(p, s + k + skip, len - k - skip, (size_t)pos + k + skip, &seg0, &nsegs))
            return -1;
        p->q->nodes[id].seg0 = seg0;
        p->q->nodes[id].nsegs = nsegs;
        return id;
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] == '[') {
            set_error(p, (size_t)pos + i, "'[' may only follow a $body or $twin path%s", NULL);
            return -1;
        }
    if (forced && !dollar) {
        set_error(p, (size_t)pos, "{...} must contain a $system property name%s", NULL);
        return -1;
    }
    node_kind_t kind;
    int slot = -1;
    if (dollar) {
        slot = route_sysprop_lookup(s + 1, len - 1);
        if (forced)
            kind = slot >= 0 ? N_SYS : N_UNDEF_REF;
        else if (slot < 0)
            kind = N_APP;
        else
            kind = o->dollar_app_first ? N_APP_SYS : N_SYS_APP;
    } else {
        kind = N_APP;
        if (o->bare_enqueued_time && ci_eqn(s, len, "enqueuedTime")) {
            kind = N_APP_SYS;
            slot = ROUTE_SYS_ENQUEUED_TIME;
        }
    }
    int32_t id = new_node(p, kind, pos, end);
    if (id < 0)
        return -1;
    node_t *n = &p->q->nodes[id];
    n->slot = slot;
    n->name = dupn(s, len);
    n->name_len = len;
    if (!n->name) {
        set_error(p, (size_t)pos, "out of memory%s", NULL);
        return -1;
    }
    return id;
}

static int lookup_builtin(const route_options_t *o, const char *s, size_t len)
{
    for (size_t i = 0; i < NBUILTINS; i++)
        if (ci_eqn(s, len, builtins[i].name) && (!builtins[i].extended || o->extended_type_functions))
            return (int)i;
    return -1;
}

static int32_t parse_call(parser_t *p, const char *name, size_t len, int32_t pos)
{
    int b = lookup_builtin(&p->q->opt, name, len);
    char nm[64];
    snprintf(nm, sizeof nm, "%.*s", (int)(len > 40 ? 40 : len), name);
    if (b < 0) {
        set_error(p, (size_t)pos, "unknown function '%s'", nm);
        return -1;
    }
    next(p); /* '(' */
    int32_t tmp[64];
    int n = 0;
    if (builtins[b].id == F_TWIN_CHANGE_INCLUDES) {
        /* its argument is a path into the twin-change body, not an expression */
        if (p->tok.k != T_NAME) {
            set_error(p, (size_t)p->tok.pos, "TWIN_CHANGE_INCLUDES takes a property path%s", NULL);
            return -1;
        }
        int32_t id = new_node(p, N_BODY, p->tok.pos, p->tok.end);
        if (id < 0)
            return -1;
        int32_t seg0, nsegs;
        if (parse_path(p, p->s + p->tok.pos, (size_t)(p->tok.end - p->tok.pos), (size_t)p->tok.pos,
                       &seg0, &nsegs))
            return -1;
        p->q->nodes[id].seg0 = seg0;
        p->q->nodes[id].nsegs = nsegs;
        tmp[n++] = id;
        next(p);
    } else if (p->tok.k != T_RPAREN) {
        for (;;) {
            int32_t a = parse_expr(p);
            if (a < 0)
                return -1;
            if (n == 64) {
                set_error(p, (size_t)pos, "too many arguments to '%s'", nm);
                return -1;
            }
            tmp[n++] = a;
            if (p->tok.k != T_COMMA)
                break;
            next(p);
        }
    }
    int32_t end = p->tok.end;
    if (expect(p, T_RPAREN, "',' or ')' in the argument list"))
        return -1;
    if (n < builtins[b].min || n > builtins[b].max) {
        char msg[128];
        if (builtins[b].min == builtins[b].max)
            snprintf(msg, sizeof msg, "%s takes %d argument%s, not %d", nm, builtins[b].min,
                     builtins[b].min == 1 ? "" : "s", n);
        else if (builtins[b].max >= 64)
            snprintf(msg, sizeof msg, "%s takes at least %d arguments, not %d", nm, builtins[b].min, n);
        else
            snprintf(msg, sizeof msg, "%s takes %d to %d arguments, not %d", nm, builtins[b].min,
                     builtins[b].max, n);
        set_error(p, (size_t)pos, "%s", msg);
        return -1;
    }
    int32_t id = new_node(p, N_FUNC, pos, end);
    if (id < 0)
        return -1;
    route_query_t *q = p->q;
    if (q->nargs + n > q->cap_args) {
        int32_t cap = q->cap_args ? q->cap_args : 16;
        while (cap < q->nargs + n)
            cap *= 2;
        int32_t *na = realloc(q->args, (size_t)cap * sizeof *na);
        if (!na) {
            set_error(p, (size_t)pos, "out of memory%s", NULL);
            return -1;
        }
        q->args = na;
        q->cap_args = cap;
    }
    q->nodes[id].fn = (uint8_t)builtins[b].id;
    q->nodes[id].arg0 = q->nargs;
    q->nodes[id].nargs = n;
    memcpy(q->args + q->nargs, tmp, (size_t)n * sizeof *tmp);
    q->nargs += n;
    return id;
}

static int32_t parse_primary(parser_t *p)
{
    if (p->failed)
        return -1;
    tok_t *t = &p->tok;
    int32_t pos = t->pos, end = t->end, id;
    switch (t->k) {
    case T_NUM:
        id = new_node(p, N_LIT, pos, end);
        if (id >= 0) {
            p->q->nodes[id].lit.t = RV_NUM;
            p->q->nodes[id].lit.n = t->num;
        }
        next(p);
        return id;
    case T_STR:
        id = new_node(p, N_LIT, pos, end);
        if (id >= 0) {
            node_t *n = &p->q->nodes[id];
            n->name = t->str; /* the node owns the decoded text */
            n->name_len = t->slen;
            n->lit.t = RV_STR;
            n->lit.s = t->str;
            n->lit.len = t->slen;
            t->str = NULL;
        }
        next(p);
        return id;
    case T_TRUE:
    case T_FALSE:
        id = new_node(p, N_LIT, pos, end);
        if (id >= 0) {
            p->q->nodes[id].lit.t = RV_BOOL;
            p->q->nodes[id].lit.b = t->k == T_TRUE;
        }
        next(p);
        return id;
    case T_NULL:
        id = new_node(p, N_LIT, pos, end);
        if (id >= 0)
            p->q->nodes[id].lit.t = RV_NULL;
        next(p);
        return id;
    case T_UNDEF:
        id = new_node(p, N_LIT, pos, end);
        next(p);
        return id;
    case T_NAME: {
        const char *s = p->s + pos;
        size_t len = (size_t)(end - pos);
        next(p);
        if (p->tok.k == T_LPAREN)
            return parse_call(p, s, len, pos);
        return name_node(p, s, len, pos, end, 0);
    }
    case T_LPAREN: {
        next(p);
        id = parse_expr(p);
        if (id < 0)
            return -1;
        int32_t close = p->tok.end;
        if (expect(p, T_RPAREN, "')'"))
            return -1;
        /* widen the node's source range to include the parentheses */
        p->q->nodes[id].pos = pos;
        p->q->nodes[id].end = close;
        return id;
    }
    case T_LBRACE: {
        next(p);
        if (p->tok.k != T_NAME || p->s[p->tok.pos] != '$') {
            set_error(p, (size_t)p->tok.pos, "{...} must contain a $system property name%s", NULL);
            return -1;
        }
        int32_t npos = p->tok.pos, nend = p->tok.end;
        next(p);
        int32_t close = p->tok.end;
        if (expect(p, T_RBRACE, "'}'"))
            return -1;
        id = name_node(p, p->s + npos, (size_t)(nend - npos), pos, close, 1);
        return id;
    }
    case T_EOF:
        set_error(p, (size_t)pos, "unexpected end of expression%s", NULL);
        return -1;
    case T_ERR:
        return -1;
    default: {
        char w[48];
        snprintf(w, sizeof w, "%.*s", (int)(end - pos > 20 ? 20 : end - pos), p->s + pos);
        set_error(p, (size_t)pos, "unexpected '%s'", w);
        return -1;
    }
    }
}

static int32_t enter(parser_t *p)
{
    if (++p->depth > MAX_PARSE_DEPTH) {
        set_error(p, (size_t)p->tok.pos, "expression nested too deeply%s", NULL);
        return -1;
    }
    return 0;
}

static int32_t parse_unary(parser_t *p)
{
    if (enter(p))
        return -1;
    int32_t r;
    int32_t pos = p->tok.pos;
    if (p->tok.k == T_MINUS || p->tok.k == T_PLUS) {
        int neg = p->tok.k == T_MINUS;
        next(p);
        int32_t a = parse_unary(p);
        if (a < 0)
            r = -1;
        else if (!neg)
            r = a;
        else if (p->q->nodes[a].kind == N_LIT && p->q->nodes[a].lit.t == RV_NUM &&
                 p->q->nodes[a].pos == pos + 1) {
            /* fold "-5" into a literal so --explain shows -5, not -(5) */
            p->q->nodes[a].lit.n = -p->q->nodes[a].lit.n;
            p->q->nodes[a].pos = pos;
            r = a;
        } else {
            r = new_node(p, N_NEG, pos, p->q->nodes[a].end);
            if (r >= 0)
                p->q->nodes[r].a = a;
        }
    } else if (p->tok.k == T_NOT && p->q->opt.not_binds_tight) {
        next(p);
        int32_t a = parse_unary(p);
        r = a < 0 ? -1 : new_node(p, N_NOT, pos, p->q->nodes[a].end);
        if (r >= 0)
            p->q->nodes[r].a = a;
    } else {
        r = parse_primary(p);
    }
    p->depth--;
    return r;
}

static int32_t binary(parser_t *p, node_kind_t kind, op_t op, int32_t a, int32_t b)
{
    if (a < 0 || b < 0)
        return -1;
    int32_t id = new_node(p, kind, p->q->nodes[a].pos, p->q->nodes[b].end);
    if (id >= 0) {
        p->q->nodes[id].a = a;
        p->q->nodes[id].b = b;
        p->q->nodes[id].op = (uint8_t)op;
    }
    return id;
}

static int32_t parse_mul(parser_t *p)
{
    int32_t a = parse_unary(p);
    while (a >= 0 && (p->tok.k == T_STAR || p->tok.k == T_SLASH || p->tok.k == T_PCT)) {
        op_t op = p->tok.k == T_STAR ? OP_MUL : p->tok.k == T_SLASH ? OP_DIV : OP_MOD;
        next(p);
        a = binary(p, N_ARITH, op, a, parse_unary(p));
    }
    return a;
}

static int32_t parse_add(parser_t *p)
{
    int32_t a = parse_mul(p);
    while (a >= 0 && (p->tok.k == T_PLUS || p->tok.k == T_MINUS || p->tok.k == T_CONCAT)) {
        tok_kind_t k = p->tok.k;
        next(p);
        int32_t b = parse_mul(p);
        a = k == T_CONCAT ? binary(p, N_CONCAT, OP_ADD, a, b)
                          : binary(p, N_ARITH, k == T_PLUS ? OP_ADD : OP_SUB, a, b);
    }
    return a;
}

static int32_t parse_cmp(parser_t *p)
{
    int32_t a = parse_add(p);
    for (;;) {
        op_t op;
        switch (p->tok.k) {
        case T_EQ: op = OP_EQ; break;
        case T_NE: op = OP_NE; break;
        case T_LT: op = OP_LT; break;
        case T_LE: op = OP_LE; break;
        case T_GT: op = OP_GT; break;
        case T_GE: op = OP_GE; break;
        default: return a;
        }
        if (a < 0)
            return -1;
        next(p);
        a = binary(p, N_CMP, op, a, parse_add(p));
    }
}

static int32_t parse_not(parser_t *p)
{
    if (p->tok.k == T_NOT && !p->q->opt.not_binds_tight) {
        if (enter(p))
            return -1;
        int32_t pos = p->tok.pos;
        next(p);
        int32_t a = parse_not(p);
        p->depth--;
        if (a < 0)
            return -1;
        int32_t id = new_node(p, N_NOT, pos, p->q->nodes[a].end);
        if (id >= 0)
            p->q->nodes[id].a = a;
        return id;
    }
    return parse_cmp(p);
}

static int32_t parse_and(parser_t *p)
{
    int32_t a = parse_not(p);
    while (a >= 0 && p->tok.k == T_AND) {
        next(p);
        a = binary(p, N_AND, OP_EQ, a, parse_not(p));
    }
    return a;
}

static int32_t parse_expr(parser_t *p)
{
    if (enter(p))
        return -1;
    int32_t a = parse_and(p);
    while (a >= 0 && p->tok.k == T_OR) {
        next(p);
        a = binary(p, N_OR, OP_EQ, a, parse_and(p));
    }
    p->depth--;
    return a;
}

/* Left-deep chains (a AND b AND c ...) are built by loops, so the parser's
 * own depth does not bound the tree's; the evaluator recurses, so check. */
static int tree_depth_ok(const route_query_t *q)
{
    int32_t *d = calloc((size_t)q->nnodes, sizeof *d);
    if (!d)
        return 0;
    int ok = 1;
    /* children always have smaller indices than their parent */
    for (int32_t i = 0; i < q->nnodes && ok; i++) {
        const node_t *n = &q->nodes[i];
        int32_t m = 0;
        if (n->a >= 0 && d[n->a] > m)
            m = d[n->a];
        if (n->b >= 0 && d[n->b] > m)
            m = d[n->b];
        if (n->kind == N_FUNC)
            for (int32_t k = 0; k < n->nargs; k++)
                if (d[q->args[n->arg0 + k]] > m)
                    m = d[q->args[n->arg0 + k]];
        d[i] = m + 1;
        if (d[i] > MAX_DEPTH)
            ok = 0;
    }
    free(d);
    return ok;
}

hs_err_t route_query_compile(const char *text, const route_options_t *o, route_query_t **out,
                             route_syntax_error_t *err)
{
    *out = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    if (!text)
        return HS_EINVAL;
    route_query_t *q = calloc(1, sizeof *q);
    if (!q)
        return HS_ENOMEM;
    if (o)
        q->opt = *o;
    else
        route_options_default(&q->opt);
    q->text = strdup(text);
    if (!q->text) {
        free(q);
        return HS_ENOMEM;
    }
    parser_t p = { .q = q, .s = q->text, .len = strlen(text), .err = err };
    next(&p);
    if (p.tok.k == T_EOF) {
        /* empty condition */
        q->root = new_node(&p, N_LIT, 0, 0);
        if (q->root >= 0 && q->opt.empty_condition_true) {
            q->nodes[q->root].lit.t = RV_BOOL;
            q->nodes[q->root].lit.b = true;
        }
    } else {
        q->root = parse_expr(&p);
        if (q->root >= 0 && p.tok.k != T_EOF) {
            char w[48];
            snprintf(w, sizeof w, "%.*s", (int)(p.tok.end - p.tok.pos > 20 ? 20 : p.tok.end - p.tok.pos),
                     p.s + p.tok.pos);
            set_error(&p, (size_t)p.tok.pos, "unexpected '%s' after the end of the expression", w);
        }
    }
    if (!p.failed && !tree_depth_ok(q))
        set_error(&p, 0, "expression nested too deeply%s", NULL);
    free(p.tok.str);
    if (p.failed || q->root < 0) {
        if (!p.failed && err)
            snprintf(err->message, sizeof err->message, "invalid expression");
        route_query_free(q);
        return HS_EPARSE;
    }
    *out = q;
    return HS_EOK;
}

void route_query_free(route_query_t *q)
{
    if (!q)
        return;
    for (int32_t i = 0; i < q->nnodes; i++)
        free(q->nodes[i].name);
    for (int32_t i = 0; i < q->nsegs; i++)
        free(q->segs[i].name);
    free(q->nodes);
    free(q->args);
    free(q->segs);
    free(q->text);
    free(q);
}

bool route_query_reads_twin(const route_query_t *q)
{
    for (int32_t i = 0; i < q->nnodes; i++)
        if (q->nodes[i].kind == N_TWIN)
            return true;
    return false;
}

bool route_query_reads_body(const route_query_t *q)
{
    for (int32_t i = 0; i < q->nnodes; i++)
        if (q->nodes[i].kind == N_BODY)
            return true;
    return false;
}

uint64_t route_query_eval_errors(const route_query_t *q)
{
    return q->eval_errors;
}

const char *route_tri_name(route_tri_t t)
{
    return t == ROUTE_TRUE ? "true" : t == ROUTE_FALSE ? "false" : "undefined";
}

/* --- evaluation ---------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    char data[];
} chunk_t;

typedef struct {
    route_query_t *q;
    route_message_t *m;
    char small[512];
    size_t used;
    size_t total;
    chunk_t *chunks;
    rv_t *rec;     /* --explain: one value per node */
    uint8_t *seen; /* --explain: node evaluated */
} ectx_t;

static char *arena_alloc(ectx_t *c, size_t n)
{
    if (c->total + n > MAX_ARENA)
        return NULL;
    c->total += n;
    if (c->used + n <= sizeof c->small) {
        char *r = c->small + c->used;
        c->used += n;
        return r;
    }
    chunk_t *k = malloc(sizeof *k + n);
    if (!k)
        return NULL;
    k->next = c->chunks;
    c->chunks = k;
    return k->data;
}

static void arena_free(ectx_t *c)
{
    while (c->chunks) {
        chunk_t *k = c->chunks;
        c->chunks = k->next;
        free(k);
    }
}

static void ev(ectx_t *c, int32_t i, rv_t *out);

static void set_undef(rv_t *r)
{
    r->t = RV_UNDEF;
}

static void set_num(rv_t *r, double v)
{
    if (isnan(v)) {
        r->t = RV_UNDEF;
        return;
    }
    r->t = RV_NUM;
    r->n = v;
}

static void set_bool(rv_t *r, bool b)
{
    r->t = RV_BOOL;
    r->b = b;
}

static void set_str(rv_t *r, const char *s, size_t len)
{
    r->t = RV_STR;
    r->s = s;
    r->len = len;
}

static void from_json(const json_t *j, rv_t *r)
{
    if (!j) {
        r->t = RV_UNDEF;
        return;
    }
    switch (json_typeof(j)) {
    case JSON_STRING: set_str(r, json_string_value(j), json_string_length(j)); break;
    case JSON_INTEGER: set_num(r, (double)json_integer_value(j)); break;
    case JSON_REAL: set_num(r, json_real_value(j)); break;
    case JSON_TRUE: set_bool(r, true); break;
    case JSON_FALSE: set_bool(r, false); break;
    case JSON_NULL: r->t = RV_NULL; break;
    case JSON_OBJECT: r->t = RV_OBJ; r->j = j; break;
    case JSON_ARRAY: r->t = RV_ARR; r->j = j; break;
    }
}

/* Exact match first; then, if allowed, the case-insensitive match with the
 * smallest key in byte order, so the answer never depends on hash order. */
static const json_t *obj_get(const json_t *o, const char *name, size_t len, int ci)
{
    const json_t *v = json_object_getn(o, name, len);
    if (v || !ci)
        return v;
    const char *key, *best = NULL;
    const json_t *val;
    json_object_foreach((json_t *)o, key, val) {
        if (ci_eqn(key, strlen(key), name) && (!best || strcmp(key, best) < 0)) {
            best = key;
            v = val;
        }
    }
    (void)len;
    return v;
}

static const json_t *walk(const route_query_t *q, const json_t *j, int32_t seg0, int32_t nsegs, int ci)
{
    for (int32_t k = 0; k < nsegs && j; k++) {
        const seg_t *sg = &q->segs[seg0 + k];
        if (!sg->name) {
            j = json_is_array(j) ? json_array_get(j, sg->index) : NULL;
            continue;
        }
        const json_t *parent = j;
        j = json_is_object(j) ? obj_get(j, sg->name, sg->len, ci) : NULL;
        if (!j && json_is_object(parent) && (q->opt.breaks & ROUTE_BREAK_PERIOD_NAMES) && k + 1 < nsegs &&
            q->segs[seg0 + k + 1].name) {
            /* the mutant: "a.b" addresses a member whose name holds the period */
            char key[256];
            int n = snprintf(key, sizeof key, "%s.%s", sg->name, q->segs[seg0 + k + 1].name);
            if (n > 0 && (size_t)n < sizeof key && (j = obj_get(parent, key, (size_t)n, ci)) != NULL)
                k++;
        }
    }
    return j;
}

/* name is NUL-terminated in the node: compare against it directly */
static int app_lookup(const route_message_t *m, const node_t *n, rv_t *r, bool exact)
{
    for (size_t k = 0; k < m->napp; k++) {
        const char *an = m->app[k].name;
        if (an && (exact ? strcmp(an, n->name) == 0 : ci_eqn(an, strlen(an), n->name))) {
            if (m->app[k].value)
                set_str(r, m->app[k].value, strlen(m->app[k].value));
            else
                r->t = RV_NULL;
            return 1;
        }
    }
    return 0;
}

static int sys_lookup(const route_message_t *m, int slot, rv_t *r)
{
    const char *v = slot >= 0 ? m->sys[slot] : NULL;
    if (!v)
        return 0;
    set_str(r, v, strlen(v));
    return 1;
}

/* A string that is wholly a decimal number (no hex, inf or nan). */
static int parse_number(const char *s, size_t len, double *out)
{
    if (!len || len > 400)
        return 0;
    char buf[401];
    size_t i = 0;
    for (; i < len; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-'))
            return 0;
        buf[i] = ch;
    }
    buf[i] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (end != buf + len)
        return 0;
    *out = v;
    return 1;
}

static int str_cmp(const rv_t *a, const rv_t *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(a->s, b->s, n) : 0;
    if (r)
        return r;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static void compare(const route_options_t *o, op_t op, rv_t a, rv_t b, rv_t *r)
{
    if (a.t == RV_UNDEF || b.t == RV_UNDEF) {
        set_undef(r);
        return;
    }
    if (o->coerce_numeric_strings) {
        double v;
        if (a.t == RV_NUM && b.t == RV_STR && parse_number(b.s, b.len, &v)) {
            b.t = RV_NUM;
            b.n = v;
        } else if (a.t == RV_STR && b.t == RV_NUM && parse_number(a.s, a.len, &v)) {
            a.t = RV_NUM;
            a.n = v;
        }
    }
    if (a.t != b.t) {
        set_undef(r);
        return;
    }
    int c;
    switch (a.t) {
    case RV_NUM: c = a.n < b.n ? -1 : a.n > b.n ? 1 : 0; break;
    case RV_STR: c = str_cmp(&a, &b); break;
    case RV_NULL:
    case RV_BOOL:
    case RV_OBJ:
    case RV_ARR:
        /* only equality is defined on these */
        if (op != OP_EQ && op != OP_NE) {
            set_undef(r);
            return;
        }
        if (a.t == RV_NULL)
            c = 0;
        else if (a.t == RV_BOOL)
            c = a.b != b.b;
        else
            c = !json_equal((json_t *)a.j, (json_t *)b.j);
        break;
    default: set_undef(r); return;
    }
    bool v;
    switch (op) {
    case OP_EQ: v = c == 0; break;
    case OP_NE: v = c != 0; break;
    case OP_LT: v = c < 0; break;
    case OP_LE: v = c <= 0; break;
    case OP_GT: v = c > 0; break;
    default: v = c >= 0; break;
    }
    set_bool(r, v);
}

/* UTF-8 helpers that never read past len and treat a bad byte as one unit. */
static size_t u8_step(const char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned char c = (unsigned char)s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!n || i + n > len) {
        *cp = c;
        return 1;
    }
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < n; k++) {
        unsigned char d = (unsigned char)s[i + k];
        if ((d & 0xC0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = v << 6 | (d & 0x3Fu);
    }
    *cp = v;
    return n;
}

static size_t units_of(const route_options_t *o, uint32_t cp)
{
    return o->length_utf16_units && cp >= 0x10000 ? 2 : 1;
}

static size_t str_units(const route_options_t *o, const char *s, size_t len)
{
    size_t u = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += u8_step(s, len, i, &cp);
        u += units_of(o, cp);
    }
    return u;
}

/* Byte offset of unit index u (a position inside a surrogate pair rounds up). */
static size_t unit_offset(const route_options_t *o, const char *s, size_t len, size_t u)
{
    size_t i = 0, at = 0;
    while (i < len && at < u) {
        uint32_t cp;
        i += u8_step(s, len, i, &cp);
        at += units_of(o, cp);
    }
    return i;
}

static uint32_t map_case(uint32_t cp, int upper)
{
    if (upper) {
        if (cp >= 'a' && cp <= 'z')
            return cp - 32;
        if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)
            return cp - 32;
        if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2)
            return cp - 32;
        if (cp >= 0x430 && cp <= 0x44F)
            return cp - 32;
        if (cp >= 0x450 && cp <= 0x45F)
            return cp - 80;
    } else {
        if (cp >= 'A' && cp <= 'Z')
            return cp + 32;
        if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
            return cp + 32;
        if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
            return cp + 32;
        if (cp >= 0x410 && cp <= 0x42F)
            return cp + 32;
        if (cp >= 0x400 && cp <= 0x40F)
            return cp + 80;
    }
    return cp;
}

static void fn_case(ectx_t *c, const rv_t *a, int upper, rv_t *r)
{
    char *out = arena_alloc(c, a->len + 1);
    if (!out) {
        set_undef(r);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < a->len;) {
        uint32_t cp;
        size_t st = u8_step(a->s, a->len, i, &cp);
        uint32_t m = map_case(cp, upper);
        /* every mapped pair has the same UTF-8 length; copy raw otherwise */
        if (m != cp && st == (m < 0x80 ? 1u : 2u))
            n += route_utf8_put(out + n, m);
        else {
            memcpy(out + n, a->s + i, st);
            n += st;
        }
        i += st;
    }
    out[n] = 0;
    set_str(r, out, n);
}

static void concat2(ectx_t *c, const rv_t *parts, int n, rv_t *r)
{
    size_t total = 0;
    for (int k = 0; k < n; k++) {
        if (parts[k].t == RV_NULL)
            continue; /* edgeHub: a null property concatenates as empty */
        if (parts[k].t != RV_STR) {
            set_undef(r);
            return;
        }
        total += parts[k].len;
    }
    char *out = arena_alloc(c, total + 1);
    if (!out) {
        set_undef(r);
        return;
    }
    size_t at = 0;
    for (int k = 0; k < n; k++)
        if (parts[k].t == RV_STR && parts[k].len) {
            memcpy(out + at, parts[k].s, parts[k].len);
            at += parts[k].len;
        }
    out[at] = 0;
    set_str(r, out, at);
}

static const char *memfind(const char *h, size_t hl, const char *n, size_t nl)
{
    if (!nl)
        return h;
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && !memcmp(h + i, n, nl))
            return h + i;
    return NULL;
}

/* Integer exponents by repeated squaring: exact whenever the result is
 * representable (POWER(2, 3) must equal 8), and deterministic everywhere;
 * other exponents go through the kernel's deterministic pow. */
static double power(double x, double y)
{
    if (y == trunc(y) && fabs(y) <= 1024) {
        double r = 1, b = x;
        unsigned long e = (unsigned long)fabs(y);
        while (e) {
            if (e & 1)
                r *= b;
            b *= b;
            e >>= 1;
        }
        return y < 0 ? 1 / r : r;
    }
    return det_pow(x, y);
}

static void call(ectx_t *c, const node_t *n, rv_t *r)
{
    const route_options_t *o = &c->q->opt;
    const int32_t *ai = c->q->args + n->arg0;
    /* every builtin but CONCAT takes at most 3 arguments; CONCAT streams its
     * arguments so deep nesting never puts 64 values on the stack per level */
    rv_t a[3];
    int na = n->nargs;
    if (n->fn == F_CONCAT) {
        rv_t acc;
        set_str(&acc, "", 0);
        for (int k = 0; k < na; k++) {
            rv_t pair[2];
            pair[0] = acc;
            ev(c, ai[k], &pair[1]);
            concat2(c, pair, 2, &acc);
            if (acc.t == RV_UNDEF)
                break;
        }
        *r = acc;
        return;
    }
    if (na > 3) {
        set_undef(r);
        return;
    }
    if (n->fn == F_TWIN_CHANGE_INCLUDES) {
        ev(c, ai[0], &a[0]);
        set_bool(r, a[0].t != RV_UNDEF);
        return;
    }
    for (int k = 0; k < na; k++)
        ev(c, ai[k], &a[k]);
    set_undef(r);
    switch ((fn_t)n->fn) {
    case F_IS_DEFINED: set_bool(r, a[0].t != RV_UNDEF && (o->null_is_defined || a[0].t != RV_NULL)); return;
    case F_IS_NULL: set_bool(r, a[0].t == RV_NULL); return;
    case F_IS_BOOL: set_bool(r, a[0].t == RV_BOOL); return;
    case F_IS_NUMBER: set_bool(r, a[0].t == RV_NUM && isfinite(a[0].n)); return;
    case F_IS_STRING: set_bool(r, a[0].t == RV_STR); return;
    case F_IS_ARRAY: set_bool(r, a[0].t == RV_ARR && !(c->q->opt.breaks & ROUTE_BREAK_IS_ARRAY)); return;
    case F_IS_OBJECT: set_bool(r, a[0].t == RV_OBJ); return;
    case F_IS_PRIMITIVE:
        set_bool(r, a[0].t == RV_STR || a[0].t == RV_NUM || a[0].t == RV_BOOL || a[0].t == RV_NULL);
        return;
    case F_AS_NUMBER: {
        double v;
        if (a[0].t == RV_NUM)
            *r = a[0];
        else if (a[0].t == RV_STR && parse_number(a[0].s, a[0].len, &v))
            set_num(r, v);
        return;
    }
    default: break;
    }
    /* numeric functions */
    if (n->fn <= F_SQRT) {
        for (int k = 0; k < na; k++)
            if (a[k].t != RV_NUM)
                return;
        double x = a[0].n;
        switch ((fn_t)n->fn) {
        case F_ABS: set_num(r, (c->q->opt.breaks & ROUTE_BREAK_ABS) ? x : fabs(x)); break;
        case F_EXP: set_num(r, det_exp(x)); break;
        case F_POWER: set_num(r, power(x, a[1].n)); break;
        case F_SQUARE: set_num(r, x * x); break;
        case F_FLOOR: set_num(r, floor(x)); break;
        case F_CEILING: set_num(r, ceil(x)); break;
        case F_SIGN: set_num(r, x > 0 ? 1 : x < 0 ? -1 : 0); break;
        case F_SQRT: set_num(r, x < 0 ? NAN : det_sqrt(x)); break;
        default: break;
        }
        return;
    }
    /* string functions: first argument a string */
    if (a[0].t != RV_STR)
        return;
    switch ((fn_t)n->fn) {
    case F_LENGTH: set_num(r, (double)str_units(o, a[0].s, a[0].len)); return;
    case F_LOWER: fn_case(c, &a[0], 0, r); return;
    case F_UPPER: fn_case(c, &a[0], 1, r); return;
    case F_SUBSTRING: {
        if (a[1].t != RV_NUM || (na == 3 && a[2].t != RV_NUM))
            return;
        double st = trunc(a[1].n), ln = na == 3 ? trunc(a[2].n) : 0;
        size_t units = str_units(o, a[0].s, a[0].len);
        if (!isfinite(st) || st < 0 || st > (double)units || (na == 3 && (!isfinite(ln) || ln < 0)))
            return;
        size_t b0 = unit_offset(o, a[0].s, a[0].len, (size_t)st);
        size_t b1 = a[0].len;
        if (na == 3 && st + ln < (double)units)
            b1 = unit_offset(o, a[0].s, a[0].len, (size_t)(st + ln));
        if (b1 < b0)
            b1 = b0;
        set_str(r, a[0].s + b0, b1 - b0);
        return;
    }
    default: break;
    }
    if (a[1].t != RV_STR)
        return;
    switch ((fn_t)n->fn) {
    case F_INDEX_OF: {
        const char *f = memfind(a[0].s, a[0].len, a[1].s, a[1].len);
        set_num(r, f ? (double)str_units(o, a[0].s, (size_t)(f - a[0].s)) : -1);
        return;
    }
    case F_STARTS_WITH:
        set_bool(r, a[1].len <= a[0].len && !memcmp(a[0].s, a[1].s, a[1].len));
        return;
    case F_ENDS_WITH:
        set_bool(r, a[1].len <= a[0].len && !memcmp(a[0].s + a[0].len - a[1].len, a[1].s, a[1].len));
        return;
    case F_CONTAINS: set_bool(r, memfind(a[0].s, a[0].len, a[1].s, a[1].len) != NULL); return;
    default: return;
    }
}

static void ev(ectx_t *c, int32_t i, rv_t *out)
{
    const node_t *n = &c->q->nodes[i];
    const route_options_t *o = &c->q->opt;
    route_message_t *m = c->m;
    rv_t a, b;
    switch ((node_kind_t)n->kind) {
    case N_LIT: *out = n->lit; break;
    case N_APP:
        if (!app_lookup(m, n, out, (o->breaks & ROUTE_BREAK_CASE) != 0))
            set_undef(out);
        break;
    case N_SYS:
        if (!sys_lookup(m, n->slot, out))
            set_undef(out);
        break;
    case N_SYS_APP:
        if (!sys_lookup(m, n->slot, out) && !app_lookup(m, n, out, (o->breaks & ROUTE_BREAK_CASE) != 0))
            set_undef(out);
        break;
    case N_APP_SYS:
        if (!app_lookup(m, n, out, (o->breaks & ROUTE_BREAK_CASE) != 0) && !sys_lookup(m, n->slot, out))
            set_undef(out);
        break;
    case N_BODY: {
        const json_t *body = route_message_body(m, o);
        from_json(body ? walk(c->q, body, n->seg0, n->nsegs, o->body_case_insensitive) : NULL, out);
        break;
    }
    case N_TWIN:
        from_json(m->twin && !(o->breaks & ROUTE_BREAK_TWIN_REF) ? walk(c->q, m->twin, n->seg0, n->nsegs, 1)
                                                                  : NULL,
                  out);
        break;
    case N_UNDEF_REF: set_undef(out); break;
    case N_NEG:
        ev(c, n->a, &a);
        if (a.t == RV_NUM)
            set_num(out, -a.n);
        else
            set_undef(out);
        break;
    case N_NOT:
        ev(c, n->a, &a);
        if (a.t == RV_BOOL)
            set_bool(out, !a.b);
        else if (a.t == RV_UNDEF && (o->breaks & ROUTE_BREAK_NOT_UNDEF))
            set_bool(out, true);
        else
            set_undef(out);
        break;
    case N_AND:
        /* false wins over unknown; unknown (anything not Boolean) over true */
        ev(c, n->a, &a);
        if (a.t == RV_BOOL && !a.b) {
            set_bool(out, false);
            break;
        }
        ev(c, n->b, &b);
        if (b.t == RV_BOOL && !b.b)
            set_bool(out, false);
        else if (a.t == RV_BOOL && b.t == RV_BOOL)
            set_bool(out, true);
        else
            set_undef(out);
        break;
    case N_OR:
        ev(c, n->a, &a);
        if (a.t == RV_BOOL && a.b) {
            set_bool(out, true);
            break;
        }
        ev(c, n->b, &b);
        if (b.t == RV_BOOL && b.b)
            set_bool(out, true);
        else if (a.t == RV_BOOL && b.t == RV_BOOL)
            set_bool(out, false);
        else
            set_undef(out);
        break;
    case N_CMP:
        ev(c, n->a, &a);
        ev(c, n->b, &b);
        compare(o, (op_t)n->op, a, b, out);
        break;
    case N_ARITH:
        ev(c, n->a, &a);
        ev(c, n->b, &b);
        if (a.t != RV_NUM || b.t != RV_NUM) {
            set_undef(out);
            break;
        }
        switch ((op_t)n->op) {
        case OP_ADD: set_num(out, a.n + b.n); break;
        case OP_SUB: set_num(out, a.n - b.n); break;
        case OP_MUL: set_num(out, a.n * b.n); break;
        case OP_DIV:
            if (b.n == 0 && o->div_by_zero_undefined)
                set_undef(out);
            else
                set_num(out, a.n / b.n);
            break;
        default: set_num(out, b.n == 0 ? NAN : fmod(a.n, b.n)); break;
        }
        break;
    case N_CONCAT: {
        rv_t parts[2];
        ev(c, n->a, &parts[0]);
        ev(c, n->b, &parts[1]);
        if (parts[0].t == RV_UNDEF || parts[1].t == RV_UNDEF)
            set_undef(out);
        else
            concat2(c, parts, 2, out);
        break;
    }
    case N_FUNC: call(c, n, out); break;
    }
    if (c->rec) {
        c->rec[i] = *out;
        c->seen[i] = 1;
    }
}

static route_tri_t run(route_query_t *q, route_message_t *m, ectx_t *c)
{
    rv_t r;
    ev(c, q->root, &r);
    if (r.t == RV_BOOL)
        return r.b ? ROUTE_TRUE : ROUTE_FALSE;
    q->eval_errors++;
    return ROUTE_UNDEFINED;
    (void)m;
}

route_tri_t route_query_eval(route_query_t *q, route_message_t *m)
{
    ectx_t c;
    c.q = q;
    c.m = m;
    c.used = c.total = 0;
    c.chunks = NULL;
    c.rec = NULL;
    c.seen = NULL;
    route_tri_t t = run(q, m, &c);
    arena_free(&c);
    return t;
}

static void print_value(FILE *f, const rv_t *v)
{
    switch (v->t) {
    case RV_UNDEF: fputs("undefined", f); break;
    case RV_NULL: fputs("null", f); break;
    case RV_BOOL: fputs(v->b ? "true" : "false", f); break;
    case RV_NUM:
        if (isinf(v->n))
            fputs(v->n > 0 ? "Infinity" : "-Infinity", f);
        else
            fprintf(f, "%.17g", v->n);
        break;
    case RV_STR:
        fputc('\'', f);
        for (size_t k = 0; k < v->len; k++) {
            unsigned char ch = (unsigned char)v->s[k];
            if (ch == '\'' || ch == '\\')
                fprintf(f, "\\%c", ch);
            else if (ch < 0x20)
                fprintf(f, "\\u%04x", ch);
            else
                fputc(ch, f);
        }
        fputc('\'', f);
        break;
    case RV_OBJ:
    case RV_ARR: {
        char *s = json_dumps(v->j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fputs(s ? s : "?", f);
        free(s);
        break;
    }
    }
}

static void print_tree(const route_query_t *q, const ectx_t *c, FILE *f, int32_t i, int depth)
{
    const node_t *n = &q->nodes[i];
    for (int k = 0; k < depth; k++)
        fputs("  ", f);
    if (n->end > n->pos)
        fprintf(f, "%.*s", (int)(n->end - n->pos), q->text + n->pos);
    else
        fputs("(empty condition)", f);
    fputs("  =>  ", f);
    if (c->seen[i])
        print_value(f, &c->rec[i]);
    else
        fputs("(not evaluated)", f);
    fputc('\n', f);
    if (n->a >= 0)
        print_tree(q, c, f, n->a, depth + 1);
    if (n->b >= 0)
        print_tree(q, c, f, n->b, depth + 1);
    if (n->kind == N_FUNC)
        for (int32_t k = 0; k < n->nargs; k++)
            print_tree(q, c, f, q->args[n->arg0 + k], depth + 1);
}

route_tri_t route_query_explain(route_query_t *q, route_message_t *m, FILE *f)
{
    ectx_t c;
    c.q = q;
    c.m = m;
    c.used = c.total = 0;
    c.chunks = NULL;
    c.rec = calloc((size_t)q->nnodes, sizeof *c.rec);
    c.seen = calloc((size_t)q->nnodes, 1);
    if (!c.rec || !c.seen) {
        free(c.rec);
        free(c.seen);
        return route_query_eval(q, m);
    }
    route_tri_t t = run(q, m, &c);
    print_tree(q, &c, f, q->root, 0);
    arena_free(&c);
    free(c.rec);
    free(c.seen);
    return t;
}
