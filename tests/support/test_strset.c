/* String sets and source-tree JSON loading shared by the schema tests. */
#include "test_strset.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_util.h"

void set_add(strset_t *s, const char *p)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->items = realloc(s->items, s->cap * sizeof *s->items);
        assert_non_null(s->items);
    }
    s->items[s->n] = strdup(p);
    assert_non_null(s->items[s->n]);
    s->n++;
}

int set_has(const strset_t *s, const char *p)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i], p) == 0)
            return 1;
    return 0;
}

void set_free(strset_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i]);
    free(s->items);
}

void loader_key(void *ctx, const char *path)
{
    set_add(ctx, path);
}

json_t *tu_load_source_json(const char *relpath)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", tu_source_dir(), relpath);
    json_error_t err;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("%s:%d:%d: %s", path, err.line, err.column, err.text);
    return doc;
}
