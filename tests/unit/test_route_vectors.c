/* Runs every routing vector in fixtures/routing/vectors.json through the library and through `hubsim query`, and checks coverage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "sim/route/route_msgfile.h"
#include "sim/route/route_query.h"

extern char **environ;

static json_t *load_vectors(void)
{
    const char *src = getenv("HUBSIM_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/fixtures/routing/vectors.json", src ? src : ".");
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) {
        print_error("cannot load %s: %s (line %d)\n", path, err.text, err.line);
        fail();
    }
    return doc;
}

static route_tri_t tri_of(const char *s)
{
    return !strcmp(s, "true") ? ROUTE_TRUE : !strcmp(s, "false") ? ROUTE_FALSE : ROUTE_UNDEFINED;
}

/* Every operator, function, resolution rule, encoding and undefined/null case
 * the issue and NOTES.md name must be exercised by at least one vector. */
static const char *const required[] = {
    "op:=", "op:!=", "op:<>", "op:<", "op:<=", "op:>", "op:>=", "op:AND", "op:OR", "op:NOT", "op:()",
    "op:+", "op:-", "op:*", "op:/", "op:%", "op:||", "op:neg",
    "lit:string", "lit:number", "lit:true", "lit:false", "lit:null", "lit:escape", "lit:hex", "lit:exponent",
    "lit:double-quoted", "lit:undefined",
    "fn:ABS", "fn:EXP", "fn:POWER", "fn:SQUARE", "fn:FLOOR", "fn:CEILING", "fn:LENGTH", "fn:CONCAT", "fn:LOWER",
    "fn:UPPER", "fn:SUBSTRING", "fn:INDEX_OF", "fn:STARTS_WITH", "fn:ENDS_WITH", "fn:CONTAINS", "fn:IS_DEFINED",
    "fn:IS_NULL", "fn:IS_BOOL", "fn:IS_NUMBER", "fn:IS_STRING", "fn:AS_NUMBER", "fn:IS_ARRAY", "fn:IS_OBJECT",
    "fn:IS_PRIMITIVE", "fn:SIGN", "fn:SQRT", "fn:TWIN_CHANGE_INCLUDES",
    "res:sys", "res:app", "res:dollar-app-fallback", "res:forced-sys", "res:sys-over-app", "res:case-insensitive",
    "res:body", "res:body-array", "res:whole-body", "res:twin-tags", "res:twin-desired", "res:twin-reported",
    "res:no-twin", "res:enqueuedTime", "res:dash-name", "res:connectionDeviceId", "res:connectionModuleId",
    "res:dt-dataschema", "res:dt-subject",
    "enc:utf8-bom", "enc:utf8-alias", "enc:utf16le-bom", "enc:utf16be-bom", "enc:utf16-nobom", "enc:utf32le-bom",
    "enc:utf32be-bom", "enc:utf32-nobom", "enc:utf-16le", "enc:utf-16be", "enc:utf-32le", "enc:utf-32be",
    "enc:charset-param", "enc:content-type-case", "enc:not-json-type", "enc:missing", "enc:unsupported",
    "enc:malformed", "enc:not-json-body",
    "undef:missing-prop", "undef:missing-body-path", "undef:and", "undef:or", "undef:not", "undef:type-mismatch",
    "undef:div-zero", "undef:non-bool-result", "null:compare", "null:is_defined", "null:result", "null:body",
    "empty-condition", "error:syntax", "error:unknown-fn", "error:arg-count",
    "case:keywords", "case:literals", "case:functions", "prec:not", "prec:and-or", "float:equality",
    "unicode:length", "unicode:case", "unicode:order", "unicode:substring", "unicode:index",
    "knob:dollarAppFirst", "knob:bareEnqueuedTime", "knob:coerceNumericStrings", "knob:literalsCaseInsensitive",
    "knob:notBindsTight", "knob:emptyConditionTrue", "knob:divByZeroUndefined", "knob:contentTypeParams",
    "knob:encodingAliases", "knob:utfNoBomBigEndian", "knob:extendedTypeFunctions", "knob:lengthUtf16Units",
    "knob:bodyCaseInsensitive", "knob:nullIsDefined",
};

static void test_corpus_shape_and_coverage(void **state)
{
    (void)state;
    json_t *doc = load_vectors();
    json_t *vectors = json_object_get(doc, "vectors");
    assert_true(json_array_size(vectors) >= 200);
    size_t i;
    json_t *vec;
    json_array_foreach(vectors, i, vec) {
        const char *id = json_string_value(json_object_get(vec, "id"));
        const char *source = json_string_value(json_object_get(vec, "source"));
        const char *exp = json_string_value(json_object_get(vec, "expected"));
        if (!id || !source || strlen(source) < 8 || !exp || !json_is_string(json_object_get(vec, "expr")) ||
            !json_object_get(json_object_get(doc, "messages"), json_string_value(json_object_get(vec, "message")))) {
            print_error("vector %zu is malformed or cites no source\n", i);
            fail();
        }
        if (strcmp(exp, "true") && strcmp(exp, "false") && strcmp(exp, "undefined") && strcmp(exp, "error")) {
            print_error("%s: bad expected '%s'\n", id, exp);
            fail();
        }
    }
    int missing = 0;
    for (size_t r = 0; r < sizeof required / sizeof required[0]; r++) {
        int found = 0;
        json_array_foreach(vectors, i, vec) {
            size_t k;
            json_t *tag;
            json_array_foreach(json_object_get(vec, "covers"), k, tag)
                if (json_is_string(tag) && !strcmp(json_string_value(tag), required[r]))
                    found = 1;
        }
        if (!found) {
            print_error("no vector covers %s\n", required[r]);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    json_decref(doc);
}

static void test_vectors_library(void **state)
{
    (void)state;
    json_t *doc = load_vectors();
    json_t *msgs = json_object_get(doc, "messages"), *twins = json_object_get(doc, "twins");
    size_t i;
    json_t *vec;
    int failures = 0;
    json_array_foreach(json_object_get(doc, "vectors"), i, vec) {
        const char *id = json_string_value(json_object_get(vec, "id"));
        const char *expr = json_string_value(json_object_get(vec, "expr"));
        const char *exp = json_string_value(json_object_get(vec, "expected"));
        json_t *msg = json_object_get(msgs, json_string_value(json_object_get(vec, "message")));
        json_t *tw = json_object_get(vec, "twin") ? json_object_get(twins, json_string_value(json_object_get(vec, "twin")))
                                                   : NULL;
        route_options_t o;
        route_options_default(&o);
        char err[256];
        if (json_object_get(vec, "options"))
            assert_int_equal(route_options_from_json(&o, json_object_get(vec, "options"), err, sizeof err), HS_EOK);
        route_msgfile_t *mf;
        if (route_msgfile_load(msg, tw, &mf, err, sizeof err)) {
            print_error("%s: message: %s\n", id, err);
            fail();
        }
        route_query_t *q = NULL;
        hs_err_t e = route_query_compile(expr, &o, &q, NULL);
        const char *got;
        if (e == HS_EPARSE)
            got = "error";
        else {
            assert_int_equal(e, HS_EOK);
            got = route_tri_name(route_query_eval(q, route_msgfile_view(mf)));
        }
        if (strcmp(got, exp)) {
            print_error("%s: [%s] gave %s, want %s\n", id, expr, got, exp);
            failures++;
        }
        (void)tri_of;
        route_query_free(q);
        route_msgfile_free(mf);
    }
    assert_int_equal(failures, 0);
    json_decref(doc);
}

/* Run argv, capture the first stdout line; returns the exit status. */
static int run_capture(char *const argv[], char *line, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    assert_int_equal(rc, 0);
    FILE *f = fdopen(fds[0], "r");
    line[0] = 0;
    if (!fgets(line, (int)cap, f))
        line[0] = 0;
    char drain[512];
    while (fgets(drain, sizeof drain, f))
        ;
    fclose(f);
    int status;
    waitpid(pid, &status, 0);
    line[strcspn(line, "\n")] = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_vectors_cli(void **state)
{
    (void)state;
    const char *bin = getenv("HUBSIM_BIN");
    if (!bin) {
        print_error("HUBSIM_BIN is not set (run through ctest)\n");
        fail();
    }
    json_t *doc = load_vectors();
    json_t *msgs = json_object_get(doc, "messages"), *twins = json_object_get(doc, "twins");
    char dir[] = "/tmp/hubsim-vectors-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char mpath[128], tpath[128], hpath[128];
    snprintf(mpath, sizeof mpath, "%s/msg.json", dir);
    snprintf(tpath, sizeof tpath, "%s/twin.json", dir);
    snprintf(hpath, sizeof hpath, "%s/hub.json", dir);
    size_t i;
    json_t *vec;
    int failures = 0;
    json_array_foreach(json_object_get(doc, "vectors"), i, vec) {
        const char *id = json_string_value(json_object_get(vec, "id"));
        const char *exp = json_string_value(json_object_get(vec, "expected"));
        json_t *msg = json_object_get(msgs, json_string_value(json_object_get(vec, "message")));
        assert_int_equal(json_dump_file(msg, mpath, 0), 0);
        char *argv[12];
        int n = 0;
        argv[n++] = (char *)bin;
        argv[n++] = "query";
        argv[n++] = "--message";
        argv[n++] = mpath;
        if (json_object_get(vec, "twin")) {
            assert_int_equal(json_dump_file(json_object_get(twins, json_string_value(json_object_get(vec, "twin"))),
                                            tpath, 0), 0);
            argv[n++] = "--twin";
            argv[n++] = tpath;
        }
        if (json_object_get(vec, "options")) {
            json_t *hub = json_pack("{s:{s:O}}", "routing", "options", json_object_get(vec, "options"));
            assert_int_equal(json_dump_file(hub, hpath, 0), 0);
            json_decref(hub);
            argv[n++] = "--hub";
            argv[n++] = hpath;
        }
        argv[n++] = "--";
        argv[n++] = (char *)json_string_value(json_object_get(vec, "expr"));
        argv[n] = NULL;
        char line[256];
        int rc = run_capture(argv, line, sizeof line);
        int ok = !strcmp(exp, "error") ? rc == 2 && !line[0] : rc == 0 && !strcmp(line, exp);
        if (!ok) {
            print_error("%s: hubsim query gave '%s' rc=%d, want %s\n", id, line, rc, exp);
            failures++;
        }
    }
    unlink(mpath);
    unlink(tpath);
    unlink(hpath);
    rmdir(dir);
    assert_int_equal(failures, 0);
    json_decref(doc);
}

/* The command's contract beyond the first line: caret, --explain, --routes. */
static void test_cli_contract(void **state)
{
    (void)state;
    const char *bin = getenv("HUBSIM_BIN");
    assert_non_null(bin);
    char dir[] = "/tmp/hubsim-query-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char mpath[128], rpath[128], cmd[1024];
    snprintf(mpath, sizeof mpath, "%s/m.json", dir);
    snprintf(rpath, sizeof rpath, "%s/r.json", dir);
    FILE *f = fopen(mpath, "w");
    fputs("{\"systemProperties\":{\"contentType\":\"application/json\",\"contentEncoding\":\"UTF-8\"},"
          "\"appProperties\":{\"level\":\"critical\"},\"body\":\"{\\\"t\\\":30}\"}", f);
    fclose(f);
    f = fopen(rpath, "w");
    fputs("{\"routing\":{\"endpoints\":{\"eventHubs\":[{\"name\":\"hot\"}],\"serviceBusQueues\":[{\"name\":\"alerts\"}]},"
          "\"routes\":[{\"name\":\"a\",\"source\":\"DeviceMessages\",\"condition\":\"level = 'critical'\",\"endpointNames\":[\"hot\"]},"
          "{\"name\":\"b\",\"source\":\"DeviceMessages\",\"condition\":\"$body.t > 20\",\"endpointNames\":[\"hot\"]},"
          "{\"name\":\"c\",\"source\":\"DeviceMessages\",\"condition\":\"$body.t > 100\",\"endpointNames\":[\"alerts\"]}]}}", f);
    fclose(f);

    snprintf(cmd, sizeof cmd, "'%s' query \"level = 'x' AND\" --message %s 2>&1; echo rc=$?", getenv("HUBSIM_BIN"), mpath);
    FILE *p = popen(cmd, "r");
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    /* the expression, then a caret under column 16 (two-space indent) */
    assert_non_null(strstr(out, "line 1, column 16"));
    assert_non_null(strstr(out, "  level = 'x' AND\n                 ^\n"));
    assert_non_null(strstr(out, "rc=2"));

    snprintf(cmd, sizeof cmd, "'%s' query \"level = 'critical' OR \\$body.t > 1\" --explain --message %s; echo rc=$?",
             bin, mpath);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    assert_true(!strncmp(out, "true\n", 5));
    assert_non_null(strstr(out, "  level  =>  'critical'"));
    assert_non_null(strstr(out, "(not evaluated)"));
    assert_non_null(strstr(out, "rc=0"));

    snprintf(cmd, sizeof cmd, "'%s' query --routes %s --message %s; echo rc=$?", bin, rpath, mpath);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    /* a and b both reach "hot": listed once, with both routes; no fallback */
    assert_string_equal(out, "hot\ta,b\nrc=0\n");

    f = fopen(mpath, "w");
    fputs("{\"appProperties\":{\"level\":\"info\"}}", f);
    fclose(f);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    assert_string_equal(out, "events\t$fallback (fallback)\nrc=0\n");

    snprintf(cmd, sizeof cmd, "'%s' query 'true' --message %s/nonexistent.json 2>/dev/null; echo rc=$?", bin, dir);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    assert_string_equal(out, "rc=2\n");
    unlink(mpath);
    unlink(rpath);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_shape_and_coverage),
        cmocka_unit_test(test_vectors_library),
        cmocka_unit_test(test_vectors_cli),
        cmocka_unit_test(test_cli_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
