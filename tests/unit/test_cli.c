/* The command line: help, version, exit codes and one-line errors for bad usage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_util.h"

static int run(char **out, char **err, const char *const *args) { return tu_run_hubsim(out, err, args); }

static void test_help_and_version(void **state)
{
    (void)state;
    char *out, *err;
    const char *help[] = { "--help", NULL };
    assert_int_equal(run(&out, &err, help), 0);
    assert_non_null(strstr(out, "usage: hubsim"));
    assert_non_null(strstr(out, "diff"));
    free(out), free(err);
    const char *version[] = { "--version", NULL };
    assert_int_equal(run(&out, &err, version), 0);
    assert_true(strncmp(out, "hubsim ", 7) == 0);
    free(out), free(err);
    const char *sub_help[] = { "diff", "--help", NULL };
    assert_int_equal(run(&out, &err, sub_help), 0);
    assert_non_null(strstr(out, "usage: hubsim diff"));
    free(out), free(err);
}

static void test_bad_usage_exits_2_with_one_line(void **state)
{
    (void)state;
    char *out, *err;
    const char *nothing[] = { NULL };
    assert_int_equal(run(&out, &err, nothing), 2);
    free(out), free(err);
    const char *unknown[] = { "frobnicate", NULL };
    assert_int_equal(run(&out, &err, unknown), 2);
    assert_true(strncmp(err, "hubsim: unknown command 'frobnicate'\n", 37) == 0);
    assert_string_equal(out, "");
    free(out), free(err);
    const char *badflag[] = { "diff", "--frob", "a", "b", NULL };
    assert_int_equal(run(&out, &err, badflag), 2);
    assert_true(strncmp(err, "hubsim diff: unknown option '--frob'\n", 37) == 0);
    assert_non_null(strstr(err, "usage: hubsim diff"));
    free(out), free(err);
    const char *noval[] = { "diff", "--context", NULL };
    assert_int_equal(run(&out, &err, noval), 2);
    assert_non_null(strstr(err, "needs a value"));
    free(out), free(err);
    const char *badnum[] = { "diff", "--context", "-4", "a", "b", NULL };
    assert_int_equal(run(&out, &err, badnum), 2);
    free(out), free(err);
    const char *topflag[] = { "--frob", NULL };
    assert_int_equal(run(&out, &err, topflag), 2);
    assert_non_null(strstr(err, "unknown option '--frob'"));
    free(out), free(err);
}

static void test_man_page_generated_from_help(void **state)
{
    (void)state;
    char *out, *err;
    const char *man[] = { "help-man", NULL };
    assert_int_equal(run(&out, &err, man), 0);
    assert_true(strncmp(out, ".TH HUBSIM 1", 12) == 0);
    assert_non_null(strstr(out, ".SS \"hubsim diff"));
    assert_non_null(strstr(out, ".SH EXIT STATUS"));
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_bad_usage_exits_2_with_one_line),
        cmocka_unit_test(test_man_page_generated_from_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
