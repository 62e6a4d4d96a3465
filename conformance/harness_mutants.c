/* Harness mutants: the REST request copy the in-process target sends and the (today empty) table of rewrites armed on it. */
#include <stdlib.h>
#include <string.h>

#include "conformance/harness_mutants.h"

const harness_mutant_info_t *harness_mutant_at(size_t i)
{
    (void)i;
    return NULL; /* HARNESS_MUTANT_MAP is empty: every former mutant has a model switch */
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort(); /* the harness cannot report without memory */
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void harness_request_init(harness_request_t *out, const target_http_request_t *req, unsigned bits)
{
    (void)bits; /* no mutant to apply */
    out->method = dup_n(req->method, strlen(req->method));
    out->path = dup_n(req->path, strlen(req->path));
    out->body = dup_n(req->body ? req->body : "", req->body ? req->body_len : 0);
    out->body_len = req->body ? req->body_len : 0;
}

void harness_request_free(harness_request_t *r)
{
    free(r->method);
    free(r->path);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void harness_mutate_answer(unsigned bits, const harness_request_t *r, harness_answer_t *a)
{
    (void)bits;
    (void)r;
    (void)a;
}
