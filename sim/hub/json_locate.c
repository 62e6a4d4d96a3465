/* JSON source positions: a one-pass scanner that records each value's path and line:column, plus positioned error lists. */

/*
 * The scanner is a recursive-descent walk over the text that keeps the path of
 * the value it is in (a growing string with a stack of lengths) and appends
 * one entry per value: path, value position, key position.  It decodes keys
 * (escapes, \u surrogate pairs) only to spell paths; everything else is
 * skipped.  Paths live in one arena; entries are sorted by path once at the
 * end (first occurrence wins for duplicate keys) and looked up by bsearch.
 * Depth is capped like jansson's parser (2048) so hostile nesting cannot
 * exhaust the stack; past the cap the rest of the text is simply not indexed.
 */

#include "sim/hub/json_locate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOCATE_MAX_DEPTH 2048

typedef struct {
    size_t path_off;  /* into arena */
    size_t order;     /* text order, tie-break for duplicate paths */
    unsigned line, col;
    unsigned key_line, key_col;
} locate_entry_t;

struct json_locate {
    char *arena;
    size_t arena_len, arena_cap;
    locate_entry_t *entries;
    size_t n, cap;
};

typedef struct {
    const char *s;
    size_t len, i;
    unsigned line, col;
    json_locate_t *loc;
    char *path;          /* current path, NUL-terminated */
    size_t path_len, path_cap;
    int failed;          /* syntax error or depth cap: stop */
    int nomem;
} scanner_t;

/* ---- path spelling ------------------------------------------------------ */

static int path_is_identifier(const char *key, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
        int digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0))
            return 0;
    }
    return 1;
}

/* Writes the step for key (n bytes) into out (NULL to measure); returns its length. */
static size_t path_key_step(const char *key, size_t n, char *out)
{
    size_t w = 0;
#define PUT(ch) do { if (out) out[w] = (char)(ch); w++; } while (0)
    if (path_is_identifier(key, n)) {
        PUT('.');
        for (size_t i = 0; i < n; i++)
            PUT(key[i]);
        return w;
    }
    PUT('[');
    PUT('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '"' || c == '\\') {
            PUT('\\');
            PUT(c);
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            PUT('\\'); PUT('u'); PUT('0'); PUT('0');
            PUT(hex[c >> 4]);
            PUT(hex[c & 15]);
        } else {
            PUT(c);
        }
    }
    PUT('"');
    PUT(']');
#undef PUT
    return w;
}

hs_err_t json_path_key(char *buf, size_t cap, const char *key)
{
    if (!buf || !key)
        return HS_EINVAL;
    size_t cur = strnlen(buf, cap);
    if (cur >= cap)
        return HS_EINVAL;
    size_t n = strlen(key);
    size_t need = path_key_step(key, n, NULL);
    if (cur + need + 1 > cap)
        return HS_ERANGE;
    path_key_step(key, n, buf + cur);
    buf[cur + need] = '\0';
    return HS_EOK;
}

hs_err_t json_path_index(char *buf, size_t cap, size_t index)
{
    if (!buf)
        return HS_EINVAL;
    size_t cur = strnlen(buf, cap);
    if (cur >= cap)
        return HS_EINVAL;
    char step[32];
    int n = snprintf(step, sizeof step, "[%zu]", index);
    if (n < 0 || cur + (size_t)n + 1 > cap)
        return HS_ERANGE;
    memcpy(buf + cur, step, (size_t)n + 1);
    return HS_EOK;
}

/* ---- scanner ------------------------------------------------------------ */

static int sc_peek(const scanner_t *sc)
{
    return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

/* Advance one byte, keeping line and character column. */
static void sc_advance(scanner_t *sc)
{
    unsigned char c = (unsigned char)sc->s[sc->i++];
    if (c == '\n') {
        sc->line++;
        sc->col = 0;
    } else if ((c & 0xC0) != 0x80) { /* continuation bytes do not start a character */
        sc->col++;
    }
}

static void sc_skip_ws(scanner_t *sc)
{
    for (;;) {
        int c = sc_peek(sc);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            sc_advance(sc);
        else
            return;
    }
}

static int path_reserve(scanner_t *sc, size_t extra)
{
    if (sc->path_len + extra + 1 <= sc->path_cap)
        return 1;
    size_t cap = sc->path_cap ? sc->path_cap : 64;
    while (cap < sc->path_len + extra + 1)
        cap *= 2;
    char *p = realloc(sc->path, cap);
    if (!p) {
        sc->nomem = 1;
        sc->failed = 1;
        return 0;
    }
    sc->path = p;
    sc->path_cap = cap;
    return 1;
}

static void sc_record(scanner_t *sc, unsigned line, unsigned col, unsigned kline, unsigned kcol)
{
    json_locate_t *loc = sc->loc;
    if (loc->n == loc->cap) {
        size_t cap = loc->cap ? loc->cap * 2 : 64;
        locate_entry_t *e = realloc(loc->entries, cap * sizeof *e);
        if (!e) {
            sc->nomem = sc->failed = 1;
            return;
        }
        loc->entries = e;
        loc->cap = cap;
    }
    size_t need = sc->path_len + 1;
    if (loc->arena_len + need > loc->arena_cap) {
        size_t cap = loc->arena_cap ? loc->arena_cap : 256;
        while (cap < loc->arena_len + need)
            cap *= 2;
        char *a = realloc(loc->arena, cap);
        if (!a) {
            sc->nomem = sc->failed = 1;
            return;
        }
        loc->arena = a;
        loc->arena_cap = cap;
    }
    memcpy(loc->arena + loc->arena_len, sc->path, need);
    locate_entry_t *e = &loc->entries[loc->n];
    e->path_off = loc->arena_len;
    e->order = loc->n;
    e->line = line;
    e->col = col;
    e->key_line = kline;
    e->key_col = kcol;
    loc->arena_len += need;
    loc->n++;
}

static int hex_val(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int sc_read_hex4(scanner_t *sc, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_val(sc_peek(sc));
        if (h < 0)
            return 0;
        v = v * 16u + (unsigned)h;
        sc_advance(sc);
    }
    *out = v;
    return 1;
}

static void utf8_put(char *buf, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Scan a string at the opening quote.  When out is non-NULL the decoded
 * bytes are returned in a malloc'd buffer (*out, *out_len). */
static int sc_string(scanner_t *sc, char **out, size_t *out_len)
{
    if (sc_peek(sc) != '"')
        return 0;
    sc_advance(sc);
    size_t start = sc->i;
    char *buf = NULL;
    size_t n = 0;
    if (out) {
        /* decoded text is never longer than the raw text: find the end first */
        size_t j = start;
        while (j < sc->len && sc->s[j] != '"') {
            if (sc->s[j] == '\\')
                j++;
            j++;
        }
        buf = malloc(j - start + 1);
        if (!buf) {
            sc->nomem = sc->failed = 1;
            return 0;
        }
    }
    for (;;) {
        int c = sc_peek(sc);
        if (c < 0 || c < 0x20)
            goto bad;
        if (c == '"') {
            sc_advance(sc);
            break;
        }
        if (c != '\\') {
            if (buf)
                buf[n++] = (char)c;
            sc_advance(sc);
            continue;
        }
        sc_advance(sc);
        c = sc_peek(sc);
        unsigned cp = 0;
        switch (c) {
        case '"': case '\\': case '/': cp = (unsigned)c; sc_advance(sc); break;
        case 'b': cp = '\b'; sc_advance(sc); break;
        case 'f': cp = '\f'; sc_advance(sc); break;
        case 'n': cp = '\n'; sc_advance(sc); break;
        case 'r': cp = '\r'; sc_advance(sc); break;
        case 't': cp = '\t'; sc_advance(sc); break;
        case 'u':
            sc_advance(sc);
            if (!sc_read_hex4(sc, &cp))
                goto bad;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (sc_peek(sc) != '\\')
                    goto bad;
                sc_advance(sc);
                if (sc_peek(sc) != 'u')
                    goto bad;
                sc_advance(sc);
                if (!sc_read_hex4(sc, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                goto bad;
            }
            break;
        default:
            goto bad;
        }
        if (buf)
            utf8_put(buf, &n, cp);
    }
    if (out) {
        buf[n] = '\0';
        *out = buf;
        *out_len = n;
    }
    return 1;
bad:
    free(buf);
    sc->failed = 1;
    return 0;
}

static int sc_literal(scanner_t *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->i < n || memcmp(sc->s + sc->i, word, n) != 0) {
        sc->failed = 1;
        return 0;
    }
    for (size_t k = 0; k < n; k++)
        sc_advance(sc);
    return 1;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int sc_number(scanner_t *sc)
{
    if (sc_peek(sc) == '-')
        sc_advance(sc);
    if (!is_digit(sc_peek(sc)))
        goto bad;
    if (sc_peek(sc) == '0') {
        sc_advance(sc);
    } else {
        while (is_digit(sc_peek(sc)))
            sc_advance(sc);
    }
    if (sc_peek(sc) == '.') {
        sc_advance(sc);
        if (!is_digit(sc_peek(sc)))
            goto bad;
        while (is_digit(sc_peek(sc)))
            sc_advance(sc);
    }
    if (sc_peek(sc) == 'e' || sc_peek(sc) == 'E') {
        sc_advance(sc);
        if (sc_peek(sc) == '+' || sc_peek(sc) == '-')
            sc_advance(sc);
        if (!is_digit(sc_peek(sc)))
            goto bad;
        while (is_digit(sc_peek(sc)))
            sc_advance(sc);
    }
    return 1;
bad:
    sc->failed = 1;
    return 0;
}

static void sc_value(scanner_t *sc, unsigned kline, unsigned kcol, int depth);

static void sc_object(scanner_t *sc, int depth)
{
    sc_advance(sc); /* { */
    sc_skip_ws(sc);
    if (sc_peek(sc) == '}') {
        sc_advance(sc);
        return;
    }
    size_t base = sc->path_len;
    for (;;) {
        sc_skip_ws(sc);
        unsigned kline = sc->line, kcol = sc->col + 1;
        char *key = NULL;
        size_t klen = 0;
        if (!sc_string(sc, &key, &klen)) {
            sc->failed = 1;
            return;
        }
        size_t step = path_key_step(key, klen, NULL);
        if (!path_reserve(sc, step)) {
            free(key);
            return;
        }
        path_key_step(key, klen, sc->path + base);
        free(key);
        sc->path_len = base + step;
        sc->path[sc->path_len] = '\0';
        sc_skip_ws(sc);
        if (sc_peek(sc) != ':') {
            sc->failed = 1;
            return;
        }
        sc_advance(sc);
        sc_value(sc, kline, kcol, depth + 1);
        sc->path_len = base;
        sc->path[base] = '\0';
        if (sc->failed)
            return;
        sc_skip_ws(sc);
        int c = sc_peek(sc);
        if (c == ',') {
            sc_advance(sc);
            continue;
        }
        if (c == '}') {
            sc_advance(sc);
            return;
        }
        sc->failed = 1;
        return;
    }
}

static void sc_array(scanner_t *sc, int depth)
{
    sc_advance(sc); /* [ */
    sc_skip_ws(sc);
    if (sc_peek(sc) == ']') {
        sc_advance(sc);
        return;
    }
    size_t base = sc->path_len;
    for (size_t idx = 0;; idx++) {
        char step[32];
        int n = snprintf(step, sizeof step, "[%zu]", idx);
        if (!path_reserve(sc, (size_t)n))
            return;
        memcpy(sc->path + base, step, (size_t)n + 1);
        sc->path_len = base + (size_t)n;
        sc_skip_ws(sc);
        sc_value(sc, 0, 0, depth + 1);
        sc->path_len = base;
        sc->path[base] = '\0';
        if (sc->failed)
            return;
        sc_skip_ws(sc);
        int c = sc_peek(sc);
        if (c == ',') {
            sc_advance(sc);
            continue;
        }
        if (c == ']') {
            sc_advance(sc);
            return;
        }
        sc->failed = 1;
        return;
    }
}

/* kline == 0: not an object member (array element or root): the key
 * position is the value position. */
static void sc_value(scanner_t *sc, unsigned kline, unsigned kcol, int depth)
{
    sc_skip_ws(sc);
    if (depth > LOCATE_MAX_DEPTH) {
        sc->failed = 1;
        return;
    }
    unsigned line = sc->line, col = sc->col + 1;
    int c = sc_peek(sc);
    if (c < 0) {
        sc->failed = 1;
        return;
    }
    sc_record(sc, line, col, kline ? kline : line, kline ? kcol : col);
    if (sc->failed)
        return;
    switch (c) {
    case '{': sc_object(sc, depth); break;
    case '[': sc_array(sc, depth); break;
    case '"': sc_string(sc, NULL, NULL); break;
    case 't': sc_literal(sc, "true"); break;
    case 'f': sc_literal(sc, "false"); break;
    case 'n': sc_literal(sc, "null"); break;
    default:
        if (c == '-' || is_digit(c))
            sc_number(sc);
        else
            sc->failed = 1;
        break;
    }
}

static int entry_cmp(const void *a, const void *b, void *arena)
{
    const locate_entry_t *x = a, *y = b;
    int r = strcmp((const char *)arena + x->path_off, (const char *)arena + y->path_off);
    if (r)
        return r;
    return (x->order > y->order) - (x->order < y->order);
}

/* qsort has no context argument in C11: a small merge sort does the job and
 * is stable anyway. */
static void entries_sort(locate_entry_t *v, locate_entry_t *tmp, size_t n, char *arena)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    entries_sort(v, tmp, h, arena);
    entries_sort(v + h, tmp, n - h, arena);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = entry_cmp(&v[j], &v[i], arena) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

hs_err_t json_locate_new(const char *text, size_t len, json_locate_t **out)
{
    if (!out || (!text && len))
        return HS_EINVAL;
    *out = NULL;
    json_locate_t *loc = calloc(1, sizeof *loc);
    if (!loc)
        return HS_ENOMEM;
    scanner_t sc = { .s = text, .len = len, .line = 1, .col = 0, .loc = loc };
    if (!path_reserve(&sc, 1)) {
        free(loc);
        return HS_ENOMEM;
    }
    sc.path[0] = '$';
    sc.path[1] = '\0';
    sc.path_len = 1;
    /* a UTF-8 byte-order mark is not a character of the document */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        sc.i = 3;
    if (sc.i < len)
        sc_value(&sc, 0, 0, 0);
    free(sc.path);
    if (sc.nomem) {
        json_locate_free(loc);
        return HS_ENOMEM;
    }
    if (loc->n > 1) {
        locate_entry_t *tmp = malloc(loc->n * sizeof *tmp);
        if (!tmp) {
            json_locate_free(loc);
            return HS_ENOMEM;
        }
        entries_sort(loc->entries, tmp, loc->n, loc->arena);
        free(tmp);
    }
    *out = loc;
    return HS_EOK;
}

void json_locate_free(json_locate_t *loc)
{
    if (!loc)
        return;
    free(loc->arena);
    free(loc->entries);
    free(loc);
}

size_t json_locate_count(const json_locate_t *loc)
{
    return loc ? loc->n : 0;
}

static const locate_entry_t *locate_find(const json_locate_t *loc, const char *path)
{
    if (!loc || !path)
        return NULL;
    size_t lo = 0, hi = loc->n;
    while (lo < hi) { /* first entry whose path >= path: the earliest duplicate */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(loc->arena + loc->entries[mid].path_off, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < loc->n && strcmp(loc->arena + loc->entries[lo].path_off, path) == 0)
        return &loc->entries[lo];
    return NULL;
}

hs_err_t json_locate_value(const json_locate_t *loc, const char *path, unsigned *line, unsigned *column)
{
    const locate_entry_t *e = locate_find(loc, path);
    if (!e)
        return HS_ENOTFOUND;
    if (line) *line = e->line;
    if (column) *column = e->col;
    return HS_EOK;
}

hs_err_t json_locate_key(const json_locate_t *loc, const char *path, unsigned *line, unsigned *column)
{
    const locate_entry_t *e = locate_find(loc, path);
    if (!e)
        return HS_ENOTFOUND;
    if (line) *line = e->key_line;
    if (column) *column = e->key_col;
    return HS_EOK;
}

/* ---- diagnostics -------------------------------------------------------- */

typedef struct {
    json_diag_t d;
    size_t order;
} diag_item_t;

struct json_diag_list {
    diag_item_t *items;
    size_t n, cap;
};

hs_err_t json_diag_list_new(json_diag_list_t **out)
{
    if (!out)
        return HS_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? HS_EOK : HS_ENOMEM;
}

void json_diag_list_free(json_diag_list_t *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++) {
        free((char *)list->items[i].d.file);
        free((char *)list->items[i].d.path);
        free((char *)list->items[i].d.message);
    }
    free(list->items);
    free(list);
}

static char *dup_or_empty(const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static hs_err_t diag_addv(json_diag_list_t *list, hs_err_t code, const char *file, unsigned line,
                          unsigned column, const char *path, const char *fmt, va_list ap)
{
    if (!list || !fmt)
        return HS_EINVAL;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        diag_item_t *p = realloc(list->items, cap * sizeof *p);
        if (!p)
            return HS_ENOMEM;
        list->items = p;
        list->cap = cap;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return HS_EINVAL;
    char *msg = malloc((size_t)n + 1);
    char *f = dup_or_empty(file);
    char *p = dup_or_empty(path);
    if (!msg || !f || !p) {
        free(msg);
        free(f);
        free(p);
        return HS_ENOMEM;
    }
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    diag_item_t *it = &list->items[list->n];
    it->d.file = f;
    it->d.line = line;
    it->d.column = column;
    it->d.path = p;
    it->d.message = msg;
    it->d.code = code;
    it->order = list->n;
    list->n++;
    return HS_EOK;
}

hs_err_t json_diag_add(json_diag_list_t *list, hs_err_t code, const char *file, unsigned line,
                       unsigned column, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hs_err_t e = diag_addv(list, code, file, line, column, path, fmt, ap);
    va_end(ap);
    return e;
}

hs_err_t json_diag_vadd_at(json_diag_list_t *list, const json_locate_t *loc, int at_key, hs_err_t code,
                           const char *file, const char *path, const char *fmt, va_list ap)
{
    unsigned line = 0, col = 0;
    if (loc && path) {
        if ((at_key ? json_locate_key : json_locate_value)(loc, path, &line, &col) != HS_EOK)
            line = col = 0;
    }
    return diag_addv(list, code, file, line, col, path, fmt, ap);
}

hs_err_t json_diag_add_at(json_diag_list_t *list, const json_locate_t *loc, int at_key, hs_err_t code,
                          const char *file, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hs_err_t e = json_diag_vadd_at(list, loc, at_key, code, file, path, fmt, ap);
    va_end(ap);
    return e;
}

size_t json_diag_count(const json_diag_list_t *list)
{
    return list ? list->n : 0;
}

const json_diag_t *json_diag_get(const json_diag_list_t *list, size_t i)
{
    if (!list || i >= list->n)
        return NULL;
    return &list->items[i].d;
}

static int diag_cmp(const void *a, const void *b)
{
    const diag_item_t *x = a, *y = b;
    int r = strcmp(x->d.file, y->d.file);
    if (r) return r;
    if (x->d.line != y->d.line) return x->d.line < y->d.line ? -1 : 1;
    if (x->d.column != y->d.column) return x->d.column < y->d.column ? -1 : 1;
    r = strcmp(x->d.path, y->d.path);
    if (r) return r;
    r = strcmp(x->d.message, y->d.message);
    if (r) return r;
    return (x->order > y->order) - (x->order < y->order);
}

void json_diag_sort(json_diag_list_t *list)
{
    if (list && list->n > 1)
        qsort(list->items, list->n, sizeof *list->items, diag_cmp);
}

/* The prefix is "FILE:LINE:COL: ", "FILE: " without a position, "LINE:COL: "
 * without a file name, or nothing. */
static int diag_print_to(const json_diag_t *d, char *buf, size_t cap, FILE *f)
{
    char pre[64] = "";
    if (d->line)
        snprintf(pre, sizeof pre, "%s%u:%u: ", d->file[0] ? ":" : "", d->line, d->column);
    else if (d->file[0])
        snprintf(pre, sizeof pre, ": ");
    const char *sep = d->path[0] ? ": " : "";
    if (f)
        return fprintf(f, "%s%s%s%s%s\n", d->file, pre, d->path, sep, d->message);
    return snprintf(buf, buf ? cap : 0, "%s%s%s%s%s", d->file, pre, d->path, sep, d->message);
}

size_t json_diag_format(const json_diag_t *d, char *buf, size_t cap)
{
    if (!d)
        return 0;
    int n = diag_print_to(d, buf, cap, NULL);
    return n < 0 ? 0 : (size_t)n;
}

void json_diag_print(const json_diag_list_t *list, FILE *f)
{
    if (!list || !f)
        return;
    for (size_t i = 0; i < list->n; i++)
        diag_print_to(&list->items[i].d, NULL, 0, f);
}

const char *json_type_label(const json_t *value)
{
    if (!value)
        return "nothing";
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "value";
}

const char *json_describe_value(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) > 40)
            snprintf(buf, cap, "\"%.37s...\"", s);
        else
            snprintf(buf, cap, "\"%s\"", s);
    } else if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, cap, "%g", json_real_value(v));
    } else {
        snprintf(buf, cap, "%s", json_type_label(v));
    }
    return buf;
}
