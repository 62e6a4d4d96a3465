/* A small set of strings for tests that compare key lists (schema keys vs loader keys). */
#ifndef TEST_STRSET_H
#define TEST_STRSET_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    char **items;
    size_t n, cap;
} strset_t;

void set_add(strset_t *s, const char *p);   /* copies p; fails the test on ENOMEM */
int set_has(const strset_t *s, const char *p);
void set_free(strset_t *s);
/* A loader key callback that adds each path to the strset_t in ctx. */
void loader_key(void *ctx, const char *path);
/* Load the JSON file at HUBSIM_SOURCE_DIR/relpath, rejecting duplicate keys;
 * fails the test with file:line:column when it does not parse. */
json_t *tu_load_source_json(const char *relpath);

#endif
