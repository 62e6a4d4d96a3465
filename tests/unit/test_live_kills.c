/* The live kill matrix: `hubsim serve --break SWITCH` on loopback, the switch's own rule run live, and the same kill as in-process (a case of that rule turns red). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "conformance/runner.h"
#include "conformance/switches.h"
#include "conformance/target_live.h"
#include "serve_proc.h"
#include "test_util.h"

/*
 * For each switch: the cases of its rule (switches.c names it) run on an
 * unbroken served hub and on one started with `--break SWITCH`, and the
 * same in-process with and without the switch.  A switch is killed when a
 * case of its rule turns red (FAIL, WRONG-CODE, or NON-STRICT for SHOULD
 * and knob rules) where the unbroken hub gave it another verdict.  A switch
 * whose killing cases (those that kill it in-process) all SKIP live (they
 * need virtual time, raw wire access or hub settings) or are red live
 * already (a known live difference) cannot be killed live; the reason is
 * printed.
 *
 * The suite runs a fixed set of switches across the areas that can be
 * killed live (LIVE_KILLS below) and demands each killed live and
 * in-process.  HUBSIM_LIVE_KILLS=all (scripts/live-kill-matrix.sh) runs
 * every switch `hubsim serve --list-breaks` lists and prints the figures
 * docs/live.md quotes; HUBSIM_LIVE_KILLS=A,B runs those.
 */
static const char *const live_kills[] = {
    /* methods */
    "METHOD-404-UNKNOWN", "METHOD-404-OFFLINE", "METHOD-TIMEOUT-RANGE", "METHOD-PAYLOAD-LIMIT",
    "METHOD-RESPONSE-PASSTHROUGH", "METHOD-MODULE",
    /* D2C */
    "MSG-ANTISPOOF", "MSG-MESSAGEID:off-by-one", "MSG-PROP-CHARSET",
    /* C2D */
    "C2D-QUEUE-DEPTH:off-by-one", "C2D-SIZE-LIMIT",
    /* twins */
    "TWIN-VERSION", "TWIN-PATCH-MERGE", "TWIN-DESIRED-PUSH",
    /* registry and auth */
    "REGISTRY-ETAG", "AUTH-SAS-SIGNATURE", "CONN-SECOND-DROPS-FIRST",
    /* HTTPS wire: the REST the live target itself speaks */
    "http-if-match-ignored",
};
#define N_LIVE_KILLS (sizeof live_kills / sizeof live_kills[0])

typedef struct {
    serve_proc_t sp; /* the unbroken hub */
    char cs[1400];
    catalogue_t *cat;
    /* the unbroken live run of the last rule: a rule's switches are adjacent
     * (RULE, RULE:off-by-one), and some rules wait 90 s live */
    char cached_rule[128];
    report_result_t *cached;
} fixture_t;

static void address_of(const serve_proc_t *sp, char *out, size_t cap)
{
    snprintf(out, cap, "%s;MqttPort=%d;HttpsPort=%d;AmqpPort=%d;AdminPort=%d;CaFile=%s/fixtures/certs/ca.pem",
             sp->service_cs, sp->mqtt, sp->https, sp->amqp, sp->admin, tu_source_dir());
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[512];
    if (!f || catalogue_load_default(&f->cat, err, sizeof err) != HS_EOK) {
        fprintf(stderr, "catalogue: %s\n", err);
        free(f);
        return -1;
    }
    if (sp_start(&f->sp, NULL) != 0) {
        fprintf(stderr, "hubsim serve did not start:\n%s\n", f->sp.output ? f->sp.output : "");
        sp_free(&f->sp);
        catalogue_free(f->cat);
        free(f);
        return -1;
    }
    address_of(&f->sp, f->cs, sizeof f->cs);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (!f)
        return 0;
    int rc = sp_stop(&f->sp);
    if (rc != 0)
        fprintf(stderr, "serve exit %d:\n%s\n", rc, f->sp.output);
    sp_free(&f->sp);
    report_result_free(f->cached);
    catalogue_free(f->cat);
    free(f);
    return rc == 0 ? 0 : -1;
}

static report_result_t *run_rule(const fixture_t *f, const target_ops_t *target, const char *address,
                                 const char *rule, const char *brk)
{
    conform_options_t o;
    conform_options_init(&o);
    o.cat = f->cat;
    o.target = target;
    o.target_name = target->name;
    o.address = address;
    o.only = rule;
    /* C2D settlements (reject, abandon) and delivery counts exist over
     * HTTPS only: MQTT has PUBACK = complete (docs/live.md) */
    o.protocol = strncmp(rule, "C2D-", 4) == 0 ? TARGET_PROTO_HTTPS : -1;
    o.capture_trace = false;
    const char *breaks[1] = { brk };
    o.breaks = breaks;
    o.n_breaks = brk ? 1 : 0;
    report_result_t *r = report_result_new(REPORT_KIND_CONFORMANCE, "conformance");
    assert_non_null(r);
    assert_int_equal(conform_run(&o, r, NULL), HS_EOK);
    return r;
}

static bool red(report_verdict_t v)
{
    return v == REPORT_FAIL || v == REPORT_WRONG_CODE || v == REPORT_NON_STRICT;
}

/* The first case of the broken run that turned red (NULL: none). */
static const report_case_t *kill_by(const report_result_t *broken, const report_result_t *plain)
{
    assert_int_equal(report_result_case_count(broken), report_result_case_count(plain));
    for (size_t i = 0; i < report_result_case_count(broken); i++) {
        const report_case_t *b = report_result_case_at(broken, i), *p = report_result_case_at(plain, i);
        assert_string_equal(b->id, p->id);
        if (red(b->verdict) && b->verdict != p->verdict)
            return b;
    }
    return NULL;
}

/* Why the cases that kill the switch in-process cannot kill it live (""
 * when one can): each SKIPs live (the reason) or is red live already on
 * the unbroken hub (a known live difference). */
static void not_live(const report_result_t *ib, const report_result_t *ip, const report_result_t *lp, char *why,
                     size_t cap)
{
    why[0] = '\0';
    for (size_t i = 0; i < report_result_case_count(ib); i++) {
        const report_case_t *b = report_result_case_at(ib, i), *p = report_result_case_at(ip, i),
                            *l = report_result_case_at(lp, i);
        if (!red(b->verdict) || b->verdict == p->verdict)
            continue; /* not a killing case in-process */
        if (l->verdict != REPORT_SKIP && !red(l->verdict)) {
            why[0] = '\0';
            return;
        }
        if (!why[0])
            snprintf(why, cap, "[%s] %s", l->name ? l->name : "",
                     l->verdict == REPORT_SKIP ? (l->message ? l->message : "SKIP")
                                               : "is red live on the unbroken hub already (a known live difference)");
    }
    if (!why[0])
        snprintf(why, cap, "no case kills it in-process either");
}

static bool runs_live(const report_result_t *lp)
{
    for (size_t i = 0; i < report_result_case_count(lp); i++)
        if (report_result_case_at(lp, i)->verdict != REPORT_SKIP)
            return true;
    return false;
}

typedef enum { KILL_LIVE, KILL_NOT_LIVE, KILL_SURVIVED, KILL_NO_SERVE } kill_class_t;

/* One switch: its class live; *inproc_killed the in-process outcome.  The
 * broken hub runs whenever a case of the rule runs live: live, a case that
 * cannot kill the switch in-process may (serve's own REST layer carries the
 * live target's registry calls, so an HTTPS wire switch reaches them). */
static kill_class_t one_switch(fixture_t *f, const char *name, bool *inproc_killed, char *note, size_t cap)
{
    conform_switch_t sw;
    if (!conform_switch_find(name, &sw))
        fail_msg("switch %s: not in conformance/switches.c", name);
    report_result_t *ip = run_rule(f, &target_inproc, NULL, sw.rule_id, NULL);
    report_result_t *ib = run_rule(f, &target_inproc, NULL, sw.rule_id, name);
    *inproc_killed = kill_by(ib, ip) != NULL;

    if (!f->cached || strcmp(f->cached_rule, sw.rule_id) != 0) {
        report_result_free(f->cached);
        f->cached = run_rule(f, &target_live_admin, f->cs, sw.rule_id, NULL);
        snprintf(f->cached_rule, sizeof f->cached_rule, "%s", sw.rule_id);
    }
    const report_result_t *lp = f->cached;
    char why[400];
    not_live(ib, ip, lp, why, sizeof why);
    kill_class_t k = KILL_NOT_LIVE;
    snprintf(note, cap, "%s %s", sw.rule_id, why);
    if (runs_live(lp)) {
        serve_proc_t sp;
        const char *extra[] = { "--break", name, NULL };
        if (sp_start(&sp, extra) != 0) {
            snprintf(note, cap, "serve --break %s did not start: %.200s", name, sp.output ? sp.output : "");
            sp_free(&sp);
            k = KILL_NO_SERVE;
        } else {
            char cs[1400];
            address_of(&sp, cs, sizeof cs);
            report_result_t *lb = run_rule(f, &target_live_admin, cs, sw.rule_id, NULL);
            const report_case_t *lk = kill_by(lb, lp);
            if (lk) {
                snprintf(note, cap, "%s [%s] turned %s", lk->id, lk->name ? lk->name : "",
                         report_verdict_name(lk->verdict));
                k = KILL_LIVE;
            } else if (!why[0]) {
                snprintf(note, cap, "no case of %s turned red live (%s)", sw.rule_id, sw.description);
                k = KILL_SURVIVED;
            }
            report_result_free(lb);
            sp_stop(&sp); /* a broken hub's books may not balance: its exit status is not judged */
            sp_free(&sp);
        }
    }
    report_result_free(ip);
    report_result_free(ib);
    return k;
}

/* Switch names from `hubsim serve --list-breaks` (what applies to a served hub). */
static size_t served_switches(char ***out)
{
    serve_proc_t p;
    const char *args[] = { "serve", "--list-breaks", NULL };
    assert_int_equal(sp_run_to_exit(&p, args), 0);
    size_t n = 0, cap = 256;
    char **names = calloc(cap, sizeof *names);
    assert_non_null(names);
    for (char *line = strtok(p.output, "\n"); line && n < cap; line = strtok(NULL, "\n")) {
        if (strncmp(line, "  ", 2) != 0)
            continue; /* a heading */
        char name[128];
        if (sscanf(line, " %127s", name) == 1)
            names[n++] = strdup(name);
    }
    sp_free(&p);
    *out = names;
    return n;
}

static void test_live_kills(void **state)
{
    fixture_t *f = *state;
    const char *env = getenv("HUBSIM_LIVE_KILLS");
    char **names = NULL, *list = NULL;
    size_t n = 0;
    bool all = env && strcmp(env, "all") == 0;
    if (all) {
        n = served_switches(&names);
    } else if (env && *env) {
        list = strdup(env);
        names = calloc(strlen(env) + 1, sizeof *names);
        for (char *s = strtok(list, ","); s; s = strtok(NULL, ","))
            names[n++] = strdup(s);
    } else {
        names = calloc(N_LIVE_KILLS, sizeof *names);
        for (size_t i = 0; i < N_LIVE_KILLS; i++)
            names[n++] = strdup(live_kills[i]);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t counts[4] = { 0 }, inproc_kills = 0, missed = 0;
    for (size_t i = 0; i < n; i++) {
        char note[600];
        bool ik = false;
        kill_class_t k = one_switch(f, names[i], &ik, note, sizeof note);
        counts[k]++;
        inproc_kills += ik;
        static const char *const label[] = { "killed", "not-live", "SURVIVED", "NO-SERVE" };
        printf("%-9s %-42s in-process %-9s %s\n", label[k], names[i], ik ? "killed" : "SURVIVED", note);
        fflush(stdout);
        /* the fixed set: each switch is the same kill live as in-process */
        if (!all && (k != KILL_LIVE || !ik))
            missed++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("live kill matrix: %zu switches: %zu killed live, %zu not killable live (the cases that kill them "
           "in-process SKIP live or differ live already), "
           "%zu survived live, %zu serve refused; %zu killed in-process; %.1f s\n",
           n, counts[KILL_LIVE], counts[KILL_NOT_LIVE], counts[KILL_SURVIVED], counts[KILL_NO_SERVE], inproc_kills,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(list);
    assert_int_equal(missed, 0);
    assert_int_equal(counts[KILL_NO_SERVE], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_kills),
    };
    return cmocka_run_group_tests_name("live_kills", tests, setup, teardown);
}
