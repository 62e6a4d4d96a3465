/* Greedy, deterministic scenario reduction at the JSON level.
 *
 * The failure signature is (expectation, its metric, whether the metric was
 * missing or compared false).  Candidates are tried in a fixed order, each a
 * smaller JSON document: drop the other expectations, then repeatedly drop
 * actors, faults and groups, cut device counts (to 1, else halve), halve the
 * duration, and drop behaviours (telemetry, connectivity, twin, C2D,
 * misbehaviour, modules, single method handlers).  A candidate is kept when
 * it loads and fails with the same signature; rounds repeat until nothing
 * more can go or the trial budget is spent.  Working on the file's own JSON
 * keeps the result a scenario a person can read and edit.
 */
#include "shrink.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fleet/expect.h"
#include "sim/fleet/play.h"
#include "sim/fleet/scenario.h"

typedef struct {
    const char *name;
    const shrink_options_t *opt;
    shrink_stats_t *stats;
    char metric[256];
    int want_missing;
    char keep_id[256];
} shrinker_t;

/* 1 when the document loads and fails with the signature, 0 otherwise. */
static int fails_same_way(shrinker_t *sh, json_t *doc, scenario_t *loaded_out)
{
    char *text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
    if (!text)
        return 0;
    scenario_t s;
    json_diag_list_t *d = NULL;
    json_diag_list_new(&d);
    hs_err_t err = scenario_load_text(text, strlen(text), sh->name, &s, d);
    json_diag_list_free(d);
    free(text);
    if (err != HS_EOK)
        return 0;
    sh->stats->trials++;
    play_options_t po = { .shard = { 0, 1 }, .breaks = sh->opt->breaks, .nbreaks = sh->opt->nbreaks };
    play_outcome_t out;
    int same = 0;
    if (play_scenario(&s, &po, &out) == HS_EOK) {
        for (size_t i = 0; i < report_result_case_count(out.result); i++) {
            const report_case_t *c = report_result_case_at(out.result, i);
            if (strcmp(c->id, sh->keep_id) != 0)
                continue;
            int missing = c->observed && strstr(c->observed, "not found") != NULL;
            same = c->verdict == REPORT_FAIL && missing == sh->want_missing;
        }
    }
    report_result_free(out.result);
    if (same && loaded_out)
        *loaded_out = s;
    else
        scenario_free(&s);
    return same;
}

static int budget_left(const shrinker_t *sh)
{
    size_t max = sh->opt->max_trials ? sh->opt->max_trials : 400;
    return sh->stats->trials < max;
}

static void note(shrinker_t *sh, const char *fmt, const char *a, long long b)
{
    if (!sh->opt->log)
        return;
    char line[300];
    snprintf(line, sizeof line, fmt, a, b);
    sh->opt->log(sh->opt->log_ctx, line);
}

/* Try doc with `mutate` applied to a copy; keep it when it still fails. */
static int try_candidate(shrinker_t *sh, json_t **doc, json_t *candidate, const char *what,
                         const char *subject_in, long long n)
{
    /* The subject usually points into *doc, which is freed when the
     * candidate is accepted: keep a copy for the log line. */
    char subject[128];
    snprintf(subject, sizeof subject, "%s", subject_in ? subject_in : "?");
    if (!candidate)
        return 0;
    if (!budget_left(sh) || !fails_same_way(sh, candidate, NULL)) {
        json_decref(candidate);
        return 0;
    }
    json_decref(*doc);
    *doc = candidate;
    sh->stats->accepted++;
    note(sh, what, subject, n);
    return 1;
}

static int drop_array_items(shrinker_t *sh, json_t **doc, const char *key, const char *what)
{
    int changed = 0;
    json_t *arr = json_object_get(*doc, key);
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *c = json_deep_copy(*doc);
        json_array_remove(json_object_get(c, key), i);
        if (json_array_size(json_object_get(c, key)) == 0)
            json_object_del(c, key);
        json_t *item = json_array_get(arr, i);
        const char *nm = json_string_value(json_object_get(item, "name"));
        if (!nm)
            nm = json_string_value(json_object_get(item, "kind"));
        if (try_candidate(sh, doc, c, what, nm ? nm : "?", (long long)i)) {
            changed = 1;
            arr = json_object_get(*doc, key);
        }
    }
    return changed;
}

static int shrink_counts(shrinker_t *sh, json_t **doc)
{
    int changed = 0;
    for (size_t g = 0; g < json_array_size(json_object_get(*doc, "groups")); g++) {
        for (;;) {
            json_t *grp = json_array_get(json_object_get(*doc, "groups"), g);
            json_int_t n = json_integer_value(json_object_get(grp, "count"));
            if (n <= 1)
                break;
            const char *nm = json_string_value(json_object_get(grp, "name"));
            json_t *c = json_deep_copy(*doc);
            json_object_set_new(json_array_get(json_object_get(c, "groups"), g), "count", json_integer(1));
            if (try_candidate(sh, doc, c, "group %s: 1 device (was %lld)", nm ? nm : "?", (long long)n)) {
                changed = 1;
                break;
            }
            c = json_deep_copy(*doc);
            json_object_set_new(json_array_get(json_object_get(c, "groups"), g), "count", json_integer(n / 2));
            if (!try_candidate(sh, doc, c, "group %s: halved to %lld devices", nm ? nm : "?", (long long)(n / 2)))
                break;
            changed = 1;
        }
    }
    return changed;
}

static int shrink_duration(shrinker_t *sh, json_t **doc)
{
    int changed = 0;
    for (;;) {
        sim_time_t d = 0;
        const char *txt = json_string_value(json_object_get(*doc, "duration"));
        if (!txt || sim_duration_parse(txt, &d) != HS_EOK || d < 2 * SIM_SEC)
            return changed;
        char buf[48];
        sim_duration_format((d / 2) - (d / 2) % SIM_MS, buf, sizeof buf);
        json_t *c = json_deep_copy(*doc);
        json_object_set_new(c, "duration", json_string(buf));
        if (!try_candidate(sh, doc, c, "duration halved to %s%.0lld", buf, 0))
            return changed;
        changed = 1;
    }
}

static int drop_behaviours(shrinker_t *sh, json_t **doc)
{
    static const char *const keys[] = { "telemetry", "connectivity", "twin", "c2d", "misbehaviour", "modules" };
    int changed = 0;
    for (size_t g = 0; g < json_array_size(json_object_get(*doc, "groups")); g++) {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *grp = json_array_get(json_object_get(*doc, "groups"), g);
            if (!json_object_get(grp, keys[k]))
                continue;
            json_t *c = json_deep_copy(*doc);
            json_object_del(json_array_get(json_object_get(c, "groups"), g), keys[k]);
            changed |= try_candidate(sh, doc, c, "dropped %s of group %lld", keys[k], (long long)g);
        }
        json_t *methods = json_object_get(json_array_get(json_object_get(*doc, "groups"), g), "methods");
        for (size_t m = json_array_size(methods); m-- > 0;) {
            json_t *c = json_deep_copy(*doc);
            json_t *cm = json_object_get(json_array_get(json_object_get(c, "groups"), g), "methods");
            json_array_remove(cm, m);
            if (json_array_size(cm) == 0)
                json_object_del(json_array_get(json_object_get(c, "groups"), g), "methods");
            if (try_candidate(sh, doc, c, "dropped method handler %s%lld", "#", (long long)m)) {
                changed = 1;
                methods = json_object_get(json_array_get(json_object_get(*doc, "groups"), g), "methods");
            }
        }
    }
    return changed;
}

static void count_doc(json_t *doc, unsigned long long *devices, size_t *groups, size_t *actors,
                      size_t *faults, unsigned long long *duration)
{
    json_t *gs = json_object_get(doc, "groups");
    *devices = 0;
    for (size_t i = 0; i < json_array_size(gs); i++)
        *devices += (unsigned long long)json_integer_value(json_object_get(json_array_get(gs, i), "count"));
    *groups = json_array_size(gs);
    *actors = json_array_size(json_object_get(doc, "actors"));
    *faults = json_array_size(json_object_get(doc, "faults"));
    sim_time_t d = 0;
    const char *t = json_string_value(json_object_get(doc, "duration"));
    if (t)
        sim_duration_parse(t, &d);
    *duration = d;
}

hs_err_t shrink_scenario(const char *text, size_t len, const char *name, const shrink_options_t *opt,
                         char **out_json, shrink_stats_t *stats, char *why, size_t cap)
{
    memset(stats, 0, sizeof *stats);
    *out_json = NULL;
    shrinker_t sh = { .name = name, .opt = opt, .stats = stats };
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_PRESERVE_ORDER, &jerr);
    scenario_t s;
    json_diag_list_t *d = NULL;
    json_diag_list_new(&d);
    hs_err_t err = scenario_load_text(text, len, name, &s, d);
    json_diag_list_free(d);
    if (!doc || err != HS_EOK) {
        snprintf(why, cap, "%s does not load as a scenario (run it with `hubsim run` for the errors)", name);
        json_decref(doc);
        if (err == HS_EOK)
            scenario_free(&s);
        return HS_EINVAL;
    }
    /* Find the expectation and its metric. */
    const scn_expectation_t *target = NULL;
    for (size_t i = 0; i < s.nexpectations; i++) {
        const scn_expectation_t *x = &s.expectations[i];
        if ((x->name && strcmp(x->name, opt->expectation) == 0) || strcmp(x->text, opt->expectation) == 0)
            target = x;
    }
    if (!target) {
        snprintf(why, cap, "no expectation named '%s' in %s", opt->expectation, name);
        scenario_free(&s);
        json_decref(doc);
        return HS_EINVAL;
    }
    snprintf(sh.keep_id, sizeof sh.keep_id, "%s", target->name ? target->name : target->text);
    expect_t *e = NULL;
    expect_error_t perr;
    if (expect_parse(target->text, &e, &perr) == HS_EOK) {
        snprintf(sh.metric, sizeof sh.metric, "%s", expect_metric(e));
        expect_free(e);
    }
    /* Keep only the target expectation (by its text, as written). */
    json_t *kept = json_array();
    json_t *xs = json_object_get(doc, "expectations");
    for (size_t i = 0; i < json_array_size(xs); i++) {
        json_t *x = json_array_get(xs, i);
        const char *t = json_is_string(x) ? json_string_value(x) : json_string_value(json_object_get(x, "expect"));
        if (t && strcmp(t, target->text) == 0)
            json_array_append(kept, x);
    }
    json_object_set_new(doc, "expectations", kept);
    scenario_free(&s);

    /* The original must fail the expectation; learn whether its metric was missing. */
    sh.want_missing = 0;
    if (!fails_same_way(&sh, doc, NULL)) {
        sh.want_missing = 1;
        if (!fails_same_way(&sh, doc, NULL)) {
            snprintf(why, cap, "expectation '%s' does not fail on %s: nothing to shrink", opt->expectation, name);
            json_decref(doc);
            return HS_EINVAL;
        }
    }
    snprintf(stats->signature, sizeof stats->signature, "expectation '%.150s' fails on metric %.120s (%s)",
             sh.keep_id, sh.metric[0] ? sh.metric : "?", sh.want_missing ? "missing" : "compared");
    count_doc(doc, &stats->devices_before, &stats->groups_before, &stats->actors_before,
              &stats->faults_before, &stats->duration_before_ns);
    for (int round = 0; round < 8 && budget_left(&sh); round++) {
        int changed = 0;
        changed |= drop_array_items(&sh, &doc, "actors", "dropped actor %s (#%lld)");
        changed |= drop_array_items(&sh, &doc, "faults", "dropped fault %s (#%lld)");
        changed |= drop_array_items(&sh, &doc, "groups", "dropped group %s (#%lld)");
        changed |= shrink_counts(&sh, &doc);
        changed |= shrink_duration(&sh, &doc);
        changed |= drop_behaviours(&sh, &doc);
        if (!changed)
            break;
    }
    count_doc(doc, &stats->devices_after, &stats->groups_after, &stats->actors_after,
              &stats->faults_after, &stats->duration_after_ns);
    json_t *desc = json_object_get(doc, "description");
    char note_text[1024];
    snprintf(note_text, sizeof note_text, "%.400s%sShrunk by hubsim shrink: %.330s.",
             json_is_string(desc) ? json_string_value(desc) : "", json_is_string(desc) ? " " : "",
             stats->signature);
    json_object_set_new(doc, "description", json_string(note_text));
    *out_json = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(2));
    json_decref(doc);
    return *out_json ? HS_EOK : HS_ENOMEM;
}
