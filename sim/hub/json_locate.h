/* JSON source positions: map a JSON path to line:column in the text, and collect positioned errors. */
#ifndef JSON_LOCATE_H
#define JSON_LOCATE_H

/*
 * jansson reports line/column only for syntax errors; once a document is
 * parsed, a value no longer knows where it came from.  Validation errors
 * ("$.c2d.maxDeliveryCount: expected 1..100, got 0") must still point at the
 * place in the file, so this module scans the text once (it builds no values:
 * jansson does that) and records, for every value, its JSON path and the
 * positions of the value and of the key that names it.
 *
 * Paths: `$` is the root; members are `.name` when the name is an identifier
 * ([A-Za-z_$][A-Za-z0-9_$]*), otherwise `["name"]` with `"` and `\` escaped;
 * array elements are `[N]`.  Example: `$.devices[3].keys.primary`.  Build
 * paths with json_path_key()/json_path_index() so that the validator and the
 * index always spell a path the same way.
 *
 * Lines and columns are 1-based; a column counts characters (UTF-8 code
 * points), as jansson's own error columns do, so a syntax error and a
 * validation error in the same file are positioned alike.
 *
 * Reused by the hub config loader (sim/hub/hub_config.c) and scenario files.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "sim/errors.h"

typedef struct json_locate json_locate_t;

/* Index `text` (len bytes, need not be NUL-terminated).  The text is not kept.
 * Malformed JSON is indexed up to the first syntax error (jansson reports the
 * error itself); *out is NULL only on HS_ENOMEM. */
hs_err_t json_locate_new(const char *text, size_t len, json_locate_t **out);
void json_locate_free(json_locate_t *loc);

/* Position of the value at `path`: HS_ENOTFOUND when the path is not in the text. */
hs_err_t json_locate_value(const json_locate_t *loc, const char *path,
                           unsigned *line, unsigned *column);
/* Position of the key (its opening quote) that names the member at `path`;
 * for array elements and the root, the value's position. */
hs_err_t json_locate_key(const json_locate_t *loc, const char *path,
                         unsigned *line, unsigned *column);
/* Number of values indexed (root included). */
size_t json_locate_count(const json_locate_t *loc);

/* Append a member / element step to the path in buf (NUL-terminated, cap
 * bytes).  HS_ERANGE when it does not fit (buf is then left unchanged). */
hs_err_t json_path_key(char *buf, size_t cap, const char *key);
hs_err_t json_path_index(char *buf, size_t cap, size_t index);

/* ---- positioned diagnostics ------------------------------------------- */

/* One error: where (file, line, column; 0 when unknown), which value (path),
 * what (message, e.g. "expected integer, got string"), and its class. */
typedef struct {
    const char *file;
    unsigned line;
    unsigned column;
    const char *path;
    const char *message;
    hs_err_t code; /* HS_EPARSE syntax/type/unknown key, HS_ERANGE out of range, HS_EINVAL other */
} json_diag_t;

typedef struct json_diag_list json_diag_list_t;

hs_err_t json_diag_list_new(json_diag_list_t **out);
void json_diag_list_free(json_diag_list_t *list);
/* Record one error; strings are copied.  A NULL path/file is stored as "". */
hs_err_t json_diag_add(json_diag_list_t *list, hs_err_t code, const char *file,
                       unsigned line, unsigned column, const char *path,
                       const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* As json_diag_add, the position looked up in `loc` (key position when
 * at_key, else value position; 0:0 when not found or loc is NULL). */
hs_err_t json_diag_add_at(json_diag_list_t *list, const json_locate_t *loc, int at_key,
                          hs_err_t code, const char *file, const char *path,
                          const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* json_diag_add_at for loaders that wrap it in their own variadic helper. */
hs_err_t json_diag_vadd_at(json_diag_list_t *list, const json_locate_t *loc, int at_key,
                           hs_err_t code, const char *file, const char *path, const char *fmt,
                           va_list ap) __attribute__((format(printf, 7, 0)));
size_t json_diag_count(const json_diag_list_t *list);
/* The i-th error in the order added; NULL when i is out of range. */
const json_diag_t *json_diag_get(const json_diag_list_t *list, size_t i);
/* Sort by (line, column, path, message) so reports read top to bottom;
 * stable for equal keys. */
void json_diag_sort(json_diag_list_t *list);
/* "FILE:LINE:COL: PATH: MESSAGE" (":LINE:COL" left out when line is 0,
 * "PATH: " when the path is empty).  Returns the length that the full text
 * needs, snprintf-style. */
size_t json_diag_format(const json_diag_t *d, char *buf, size_t cap);
/* Every error, one per line, to f. */
void json_diag_print(const json_diag_list_t *list, FILE *f);

/* "object", "array", "string", "integer", "number" (real), "boolean", "null"
 * for a jansson value (NULL → "nothing"): the "got Y" of a type error. */
const char *json_type_label(const json_t *value);
/* A value quoted compactly for "got ..." in diagnostics: strings in quotes
 * (cut to 37 characters and "..." past 40), numbers as written, other types
 * by their label.  Returns buf. */
const char *json_describe_value(const json_t *value, char *buf, size_t cap);

#endif
