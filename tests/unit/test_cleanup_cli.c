/* `hubsim cleanup` against `hubsim serve`: lists devices by prefix, deletes only with --yes and only those, and reports bad input with its exit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_proc.h"
#include "test_util.h"

typedef struct {
    serve_proc_t sp;
    char cs[800];  /* the service connection string with the HTTPS port */
    char key[128]; /* the owner policy key */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (sp_start(&f->sp, NULL) != 0) {
        fprintf(stderr, "hubsim serve did not start:\n%s\n", f->sp.output ? f->sp.output : "");
        sp_free(&f->sp);
        free(f);
        return -1;
    }
    snprintf(f->cs, sizeof f->cs, "%s;HttpsPort=%d", f->sp.service_cs, f->sp.https);
    const char *k = strstr(f->sp.service_cs, "SharedAccessKey=");
    snprintf(f->key, sizeof f->key, "%.*s", (int)strcspn(k + 16, ";"), k + 16);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int rc = sp_stop(&f->sp);
    sp_free(&f->sp);
    free(f);
    return rc == 0 ? 0 : -1;
}

static int rest(fixture_t *f, const char *method, const char *id, char **resp)
{
    char tok[600], hdr[800], path[256], body[400];
    sp_sas("localhost", f->key, "iothubowner", 3600, tok, sizeof tok);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\nContent-Type: application/json\r\n", tok);
    snprintf(path, sizeof path, "/devices/%s?api-version=2021-04-12", id);
    snprintf(body, sizeof body, "{\"deviceId\":\"%s\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":"
                                "{\"primaryKey\":\"\",\"secondaryKey\":\"\"}}}", id);
    return sp_http(f->sp.https, true, method, path, hdr, strcmp(method, "PUT") == 0 ? body : NULL, resp);
}

/* Runs `hubsim cleanup ARGS`; returns the exit status, output in *out (caller frees). */
static int cleanup(const char *const *args, char **out)
{
    const char *argv[16] = { "cleanup" };
    size_t n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    serve_proc_t p;
    int rc = sp_run_to_exit(&p, argv);
    *out = strdup(p.output ? p.output : "");
    sp_free(&p);
    return rc;
}

static void test_dry_run_then_delete(void **state)
{
    fixture_t *f = *state;
    const char *ids[] = { "hsdead01-a", "hsdead01-b", "hsdead01-c", "hsdead02-a", "keep" };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(rest(f, "PUT", ids[i], NULL), 200);

    char *out = NULL;
    const char *dry[] = { "--target", f->cs, "--ca", "fixtures/certs/ca.pem", "--prefix", "hsdead01-", NULL };
    assert_int_equal(cleanup(dry, &out), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "3 devices on localhost with ids starting 'hsdead01-'"));
    assert_non_null(strstr(out, "would delete hsdead01-b"));
    assert_null(strstr(out, "would delete hsdead02-a"));
    assert_non_null(strstr(out, "--yes"));
    free(out);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(rest(f, "GET", ids[i], NULL), 200); /* nothing deleted */

    const char *del[] = { "--target", f->cs, "--ca", "fixtures/certs/ca.pem", "--prefix", "hsdead01-", "--yes", NULL };
    assert_int_equal(cleanup(del, &out), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "deleted 3 devices"));
    free(out);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rest(f, "GET", ids[i], NULL), 404);
    assert_int_equal(rest(f, "GET", "hsdead02-a", NULL), 200);
    assert_int_equal(rest(f, "GET", "keep", NULL), 200);

    /* again: nothing left to delete */
    assert_int_equal(cleanup(del, &out), 0);
    assert_non_null(strstr(out, "0 devices"));
    assert_non_null(strstr(out, "deleted 0 devices"));
    free(out);
}

static void test_bad_input(void **state)
{
    fixture_t *f = *state;
    char *out = NULL, cs[1000];
    const char *no_prefix[] = { "--target", f->cs, "--prefix", "", NULL };
    assert_int_equal(cleanup(no_prefix, &out), 2);
    assert_non_null(strstr(out, "must not be empty"));
    free(out);

    const char *bad_cs[] = { "--target", "HostName=localhost", "--prefix", "x", NULL };
    assert_int_equal(cleanup(bad_cs, &out), 2);
    assert_non_null(strstr(out, "SharedAccessKeyName"));
    free(out);

    /* without the test CA the served certificate is not trusted */
    const char *no_ca[] = { "--target", f->cs, "--prefix", "x", NULL };
    assert_int_equal(cleanup(no_ca, &out), 3);
    printf("%s", out);
    assert_non_null(strstr(out, "certificate verify failed"));
    free(out);

    /* a wrong key: the hub's 401 with its error name */
    snprintf(cs, sizeof cs, "HostName=localhost;SharedAccessKeyName=iothubowner;"
                            "SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=;HttpsPort=%d", f->sp.https);
    const char *bad_key[] = { "--target", cs, "--ca", "fixtures/certs/ca.pem", "--prefix", "x", NULL };
    assert_int_equal(cleanup(bad_key, &out), 3);
    printf("%s", out);
    assert_non_null(strstr(out, "401 IotHubUnauthorizedAccess"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dry_run_then_delete),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("cleanup", tests, setup, teardown);
}
