/* The conformance runner: fresh target per case, verdict mapping by rule level, baselines, --only globs, kill matrix. */
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/runner.h"
#include "conformance/switches.h"
#include "sim/trace.h"

/*
 * One case = one fresh target session (a new kernel and hub in-process), so
 * no case can leak state into another and any case can run alone (--only).
 * The raw verdict a case's checks decide is then mapped by its rule's level:
 * a SHOULD rule, or a KNOB rule on a target whose knobs are not known to sit
 * at the catalogue default, can only be NON-STRICT; on the in-process hub
 * the knobs are at their defaults, so a deviation there is a plain FAIL.
 *
 * The kill matrix reruns the suite once per break switch (switches.h: the
 * hub's faults.h, the MQTT and HTTPS sessions' wire breaks, knob flips) in this
 * process, each case on a fresh hub with the switch armed, and compares every
 * verdict with the unbroken run's.
 */

#define TRACE_LINES 12
#define DEFAULT_EPOCH 1767225600LL /* 2026-01-01T00:00:00Z */

static const conf_case_t *const *case_tables(void)
{
    static const conf_case_t *const tables[] = {
        conf_cases_methods, conf_cases_messages, conf_cases_c2d, conf_cases_twins,
        conf_cases_routing, conf_cases_access,   conf_cases_wire,     conf_cases_wire_amqp,
        conf_cases_jobs,    conf_cases_uploads,  conf_cases_twinquery, conf_cases_eventhubs,
        conf_cases_gateways, conf_cases_identity_io,
        NULL,
    };
    return tables;
}

size_t conform_case_count(void)
{
    size_t n = 0;
    for (const conf_case_t *const *t = case_tables(); *t; t++)
        for (const conf_case_t *c = *t; c->rule; c++)
            n++;
    return n;
}

const conf_case_t *conform_case_at(size_t i)
{
    for (const conf_case_t *const *t = case_tables(); *t; t++)
        for (const conf_case_t *c = *t; c->rule; c++)
            if (i-- == 0)
                return c;
    return NULL;
}

void conform_options_init(conform_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->target = &target_inproc;
    o->target_name = "inproc";
    o->seed = 1;
    o->epoch_unix = DEFAULT_EPOCH;
    o->protocol = -1;
    o->capture_trace = true;
}

/* ---- --only ---------------------------------------------------------------- */

static bool glob_has_wild(const char *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (g[i] == '*' || g[i] == '?' || g[i] == '[')
            return true;
    return false;
}

/* Copy the i-th comma-separated glob; false past the end. */
static bool glob_at(const char *globs, size_t i, char *buf, size_t cap)
{
    const char *p = globs;
    for (; i > 0; i--) {
        p = strchr(p, ',');
        if (!p)
            return false;
        p++;
    }
    size_t n = strcspn(p, ",");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return true;
}

hs_err_t conform_only_check(const char *globs, const catalogue_t *cat, char *err, size_t cap)
{
    char g[160];
    for (size_t i = 0; glob_at(globs, i, g, sizeof g); i++) {
        size_t n = strlen(g);
        if (n == 0) {
            snprintf(err, cap, "--only: empty glob in '%s'", globs);
            return HS_EINVAL;
        }
        int depth = 0;
        for (size_t j = 0; j < n; j++) {
            char ch = g[j];
            if (ch == '[') {
                if (depth) {
                    snprintf(err, cap, "--only: '%s': '[' inside a bracket expression", g);
                    return HS_EINVAL;
                }
                depth = 1;
            } else if (ch == ']') {
                if (!depth) {
                    snprintf(err, cap, "--only: '%s': ']' without '['", g);
                    return HS_EINVAL;
                }
                depth = 0;
            } else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                         (ch >= '0' && ch <= '9') || ch == '-' || ch == ':' || ch == '*' ||
                         ch == '?' || ch == '!' || ch == '^')) {
                snprintf(err, cap, "--only: '%s': character '%c' cannot occur in a rule ID", g, ch);
                return HS_EINVAL;
            }
        }
        if (depth) {
            snprintf(err, cap, "--only: '%s': unterminated '['", g);
            return HS_EINVAL;
        }
    }
    /* Every glob is well formed; now each must name at least one rule. */
    for (size_t i = 0; glob_at(globs, i, g, sizeof g); i++) {
        size_t n = strlen(g);
        bool any = false;
        for (size_t r = 0; r < catalogue_count(cat) && !any; r++)
            any = fnmatch(g, catalogue_rule_at(cat, r)->id, 0) == 0;
        if (!any) {
            if (glob_has_wild(g, n))
                snprintf(err, cap, "--only: '%s' matches no rule of the catalogue", g);
            else
                snprintf(err, cap, "--only: unknown rule ID '%s' (see hubsim rules)", g);
            return HS_ENOTFOUND;
        }
    }
    return HS_EOK;
}

bool conform_only_match(const char *globs, const char *rule_id)
{
    if (!globs)
        return true;
    char g[160];
    for (size_t i = 0; glob_at(globs, i, g, sizeof g); i++)
        if (fnmatch(g, rule_id, 0) == 0)
            return true;
    return false;
}

/* ---- baseline -------------------------------------------------------------- */

typedef struct {
    char *rule;
    char *reason;
    char expires[11];
} baseline_entry_t;

struct conform_baseline {
    baseline_entry_t *e;
    size_t n;
};

static bool date_ok(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int mo = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

void conform_baseline_free(conform_baseline_t *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->e[i].rule);
        free(b->e[i].reason);
    }
    free(b->e);
    free(b);
}

hs_err_t conform_baseline_load(const char *path, const catalogue_t *cat, conform_baseline_t **out,
                               char *err, size_t cap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: cannot read", path);
        return HS_EIO;
    }
    json_error_t je;
    json_t *doc = json_loadf(f, 0, &je);
    fclose(f);
    if (!doc) {
        snprintf(err, cap, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return HS_EPARSE;
    }
    hs_err_t rc = HS_EINVAL;
    conform_baseline_t *b = calloc(1, sizeof *b);
    if (!json_is_array(doc)) {
        snprintf(err, cap, "%s: $: expected an array of {rule, reason, expires}", path);
        goto out;
    }
    if (!b || !(b->e = calloc(json_array_size(doc) + 1, sizeof *b->e))) {
        rc = HS_ENOMEM;
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(doc, i, it) {
        const char *rule = json_string_value(json_object_get(it, "rule"));
        const char *reason = json_string_value(json_object_get(it, "reason"));
        const char *exp = json_string_value(json_object_get(it, "expires"));
        if (!json_is_object(it) || !rule || !reason || !exp) {
            snprintf(err, cap, "%s: $[%zu]: expected {\"rule\": string, \"reason\": string, \"expires\": \"YYYY-MM-DD\"}",
                     path, i);
            goto out;
        }
        if (!catalogue_find(cat, rule)) {
            snprintf(err, cap, "%s: $[%zu].rule: unknown rule ID '%s'", path, i, rule);
            goto out;
        }
        if (!date_ok(exp)) {
            snprintf(err, cap, "%s: $[%zu].expires: '%s' is not a YYYY-MM-DD date", path, i, exp);
            goto out;
        }
        baseline_entry_t *e = &b->e[b->n++];
        e->rule = strdup(rule);
        e->reason = strdup(reason);
        snprintf(e->expires, sizeof e->expires, "%s", exp);
        if (!e->rule || !e->reason) {
            rc = HS_ENOMEM;
            goto out;
        }
    }
    *out = b;
    b = NULL;
    rc = HS_EOK;
out:
    conform_baseline_free(b);
    json_decref(doc);
    return rc;
}

static const baseline_entry_t *baseline_find(const conform_baseline_t *b, const char *rule)
{
    for (size_t i = 0; b && i < b->n; i++)
        if (strcmp(b->e[i].rule, rule) == 0)
            return &b->e[i];
    return NULL;
}

/* ---- one case ------------------------------------------------------------------ */

typedef struct {
    report_verdict_t verdict;
    /* The case's own verdict before the level mapping (a SHOULD rule's FAIL
     * reports NON-STRICT, but it still proves the case sees the deviation). */
    report_verdict_t raw;
    char expected[CONF_TEXT_CAP];
    char observed[CONF_TEXT_CAP];
    char message[CONF_TEXT_CAP];
    char trace[4096];
    char tolerance[256]; /* the target's case_notes: "" = exact */
    sim_time_t duration;
    bool unbalanced; /* the hub's own conservation check failed after the case */
    bool hashed;
    uint64_t trace_hash;
} outcome_t;

static void outcome_set(outcome_t *out, report_verdict_t v, const char *msg)
{
    memset(out, 0, sizeof *out);
    out->verdict = v;
    out->raw = v;
    size_t n = strlen(msg);
    if (n >= sizeof out->message)
        n = sizeof out->message - 1;
    memcpy(out->message, msg, n);
    out->message[n] = '\0';
}

static bool proto_applies(const catalogue_rule_t *rule, int protocol)
{
    static const unsigned bits[] = { CATALOGUE_PROTO_MQTT, CATALOGUE_PROTO_AMQP, CATALOGUE_PROTO_HTTPS };
    return protocol < 0 || (rule->protocols & bits[protocol]) != 0;
}

static const char *proto_name(int protocol)
{
    return protocol == TARGET_PROTO_AMQP ? "amqp" : protocol == TARGET_PROTO_HTTPS ? "https" : "mqtt";
}

/* The target's notes: the tolerance goes into the report; a cause (the
 * target throttled the case, ...) turns a red verdict into ERROR, since the
 * case then says nothing about the rule, and leads its message. */
static void apply_case_notes(const target_ops_t *ops, conform_target_t *t, outcome_t *out)
{
    target_case_notes_t notes;
    memset(&notes, 0, sizeof notes);
    ops->case_notes(t, &notes);
    snprintf(out->tolerance, sizeof out->tolerance, "%s", notes.tolerance);
    if (!notes.cause[0] || out->verdict == REPORT_SKIP)
        return;
    size_t m = strlen(out->message);
    if (out->verdict == REPORT_PASS) {
        snprintf(out->message + m, sizeof out->message - m, "%s(passed although %s)", m ? "; " : "", notes.cause);
        return;
    }
    char case_msg[CONF_TEXT_CAP];
    memcpy(case_msg, out->message, m + 1);
    out->verdict = REPORT_ERROR;
    out->raw = REPORT_ERROR;
    snprintf(out->message, sizeof out->message, "%s", notes.cause);
    size_t c = strlen(out->message);
    if (m)
        snprintf(out->message + c, sizeof out->message - c, "; %s", case_msg);
}

static void run_case(const conform_options_t *o, const conf_case_t *cs, const catalogue_rule_t *rule,
                     const char *extra_break, bool want_trace, outcome_t *out)
{
    char why[512] = "";
    if (!rule) {
        outcome_set(out, REPORT_ERROR, "the case names a rule that is not in the catalogue");
        return;
    }
    if (!cs->service_side && !proto_applies(rule, o->protocol)) {
        snprintf(why, sizeof why, "the rule does not apply to %s", proto_name(o->protocol));
        outcome_set(out, REPORT_SKIP, why);
        return;
    }
    if (cs->skip) {
        outcome_set(out, REPORT_SKIP, cs->skip);
        return;
    }
    if (!o->target) {
        snprintf(why, sizeof why, "target '%s' unusable: %s", o->target_name ? o->target_name : "?",
                 o->target_error ? o->target_error : "unknown target");
        outcome_set(out, REPORT_ERROR, why);
        return;
    }
    if ((cs->needs & o->target->caps) != cs->needs) {
        snprintf(why, sizeof why, "target '%s' lacks a capability the case needs (%s)", o->target->name,
                 (cs->needs & ~o->target->caps & TARGET_CAP_VIRTUAL_TIME) ? "virtual time"
                 : (cs->needs & ~o->target->caps & TARGET_CAP_ENDPOINTS)  ? "endpoint observation"
                 : (cs->needs & ~o->target->caps & TARGET_CAP_CHECK)      ? "the hub's ledger"
                 : (cs->needs & ~o->target->caps & TARGET_CAP_WIRE)       ? "raw wire access"
                                                                          : "hub settings");
        outcome_set(out, REPORT_SKIP, why);
        return;
    }
    target_options_t to = { .seed = o->seed, .epoch_unix = o->epoch_unix, .capture_trace = want_trace };
    conform_target_t *t = NULL;
    hs_err_t e = o->target->open(o->address, &to, &t, why, sizeof why);
    if (e != HS_EOK) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot open target '%s': %s", o->target->name, why);
        outcome_set(out, REPORT_ERROR, msg);
        return;
    }
    conf_ctx_t c;
    memset(&c, 0, sizeof c);
    c.ops = o->target;
    c.t = t;
    c.protocol = o->protocol < 0 ? TARGET_PROTO_MQTT : (target_protocol_t)o->protocol;
    c.verdict = REPORT_PASS;
    for (size_t i = 0; i < o->n_breaks + (extra_break ? 1 : 0); i++) {
        const char *sw = i < o->n_breaks ? o->breaks[i] : extra_break;
        if (!(o->target->caps & TARGET_CAP_BREAK) || o->target->break_switch(t, sw) != HS_EOK) {
            snprintf(why, sizeof why, "cannot arm break switch '%s' on target '%s'", sw, o->target->name);
            conf_error(&c, "%s", why);
        }
    }
    if (conf_ok(&c))
        cs->run(&c);
    memset(out, 0, sizeof *out);
    out->verdict = c.verdict;
    out->raw = c.verdict;
    /* Level mapping: see the block comment at the top. */
    if ((out->verdict == REPORT_FAIL || out->verdict == REPORT_WRONG_CODE) &&
        (rule->level == CATALOGUE_SHOULD ||
         (rule->level == CATALOGUE_KNOB && !(o->target->caps & TARGET_CAP_KNOWN_KNOBS)))) {
        out->verdict = REPORT_NON_STRICT;
    }
    memcpy(out->expected, c.expected, sizeof out->expected);
    memcpy(out->observed, c.observed, sizeof out->observed);
    memcpy(out->message, c.message, sizeof out->message);
    /* HUB-CONSERVATION: the harness checks the hub's balance after every
     * case; a case that failed while the books do not balance says so. */
    if (o->target->caps & TARGET_CAP_CHECK) {
        char books[400] = "";
        if (o->target->check(t, books, sizeof books) != HS_EOK) {
            out->unbalanced = true;
            size_t m = strlen(out->message);
            snprintf(out->message + m, sizeof out->message - m, "%shub conservation check: %s",
                     m ? "; " : "", books);
        }
    }
    out->duration = o->target->now(t);
    if (o->target->case_notes)
        apply_case_notes(o->target, t, out);
    if ((o->target->caps & TARGET_CAP_TRACE) && o->target->trace_hash) {
        out->hashed = true;
        out->trace_hash = o->target->trace_hash(t);
    }
    if (want_trace && out->verdict != REPORT_PASS && out->verdict != REPORT_SKIP &&
        (o->target->caps & TARGET_CAP_TRACE))
        o->target->trace_excerpt(t, TRACE_LINES, out->trace, sizeof out->trace);
    o->target->close(t);
}

/* ---- the suite ---------------------------------------------------------------- */

static void list_add(char *list, size_t cap, const char *item)
{
    size_t n = strlen(list);
    snprintf(list + n, cap - n, "%s%s", n ? "," : "", item);
}

static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

hs_err_t conform_run(const conform_options_t *o, report_result_t *r, conform_summary_t *sum)
{
    conform_summary_t local;
    if (!sum)
        sum = &local;
    memset(sum, 0, sizeof *sum);
    report_result_set_seed(r, o->seed);
    if (report_result_set_target(r, o->target ? o->target->name : (o->target_name ? o->target_name : "?")) != HS_EOK)
        return HS_ENOMEM;
    report_result_set_catalogue_version(r, catalogue_version(o->cat));
    report_result_set_virtual(r, o->epoch_unix, 0);
    if (o->only)
        report_result_set_info(r, "only", o->only);
    report_result_set_info(r, "protocol", o->protocol < 0 ? "any" : proto_name(o->protocol));
    char brk[1024] = "";
    for (size_t i = 0; i < o->n_breaks; i++)
        list_add(brk, sizeof brk, o->breaks[i]);
    if (brk[0])
        report_result_set_info(r, "break", brk);

    size_t n = conform_case_count();
    /* passed/failed per rule for the baseline's stale check */
    char failing[4096] = "", passing[4096] = "";
    sim_time_t total = 0;
    /* The run's trace hash: every case's trace hash with its index, in suite
     * order, so a seed reproduces the whole run bit for bit. */
    sim_hash_t hash;
    bool hashed = false;
    sim_hash_init(&hash);
    for (size_t i = 0; i < n; i++) {
        const conf_case_t *cs = conform_case_at(i);
        if (!conform_only_match(o->only, cs->rule))
            continue;
        const catalogue_rule_t *rule = catalogue_find(o->cat, cs->rule);
        outcome_t *out = calloc(1, sizeof *out);
        if (!out)
            return HS_ENOMEM;
        run_case(o, cs, rule, NULL, o->capture_trace, out);
        total += out->duration;
        if (out->hashed) {
            sim_hash_u64(&hash, (uint64_t)i);
            sim_hash_u64(&hash, out->trace_hash);
            hashed = true;
        }
        char spec[256] = "";
        if (rule)
            catalogue_spec_ref(rule, spec, sizeof spec);
        const baseline_entry_t *be = baseline_find(o->baseline, cs->rule);
        char msg[CONF_TEXT_CAP + 96];
        snprintf(msg, sizeof msg, "%s", out->message);
        const char *covered = NULL;
        bool bad = out->verdict == REPORT_FAIL || out->verdict == REPORT_WRONG_CODE ||
                   out->verdict == REPORT_NON_STRICT;
        if (bad && be) {
            if (!o->today || strcmp(o->today, be->expires) <= 0) {
                covered = be->reason;
            } else {
                size_t m = strlen(msg);
                snprintf(msg + m, sizeof msg - m, " (baseline entry expired %s)", be->expires);
                if (!list_has(sum->expired, cs->rule))
                    list_add(sum->expired, sizeof sum->expired, cs->rule);
            }
        }
        if (bad || out->verdict == REPORT_ERROR) {
            if (!list_has(failing, cs->rule))
                list_add(failing, sizeof failing, cs->rule);
        } else if (out->verdict == REPORT_PASS && !list_has(passing, cs->rule)) {
            list_add(passing, sizeof passing, cs->rule);
        }
        report_case_t rc = {
            .id = cs->rule,
            .area = rule ? rule->area : "unknown",
            .name = cs->name,
            .verdict = out->verdict,
            .level = rule ? rule->level_name : NULL,
            .rule_text = rule ? rule->text : NULL,
            .spec_ref = rule ? spec : NULL,
            .expected = out->expected[0] ? out->expected : NULL,
            .observed = out->observed[0] ? out->observed : NULL,
            .message = msg[0] ? msg : NULL,
            .trace_excerpt = out->trace[0] ? out->trace : NULL,
            .baseline = covered,
            .duration = out->duration,
            .tolerance = out->tolerance[0] ? out->tolerance : NULL,
        };
        hs_err_t e = report_result_add_case(r, &rc);
        free(out);
        if (e != HS_EOK)
            return e;
        sum->cases++;
        sum->by_verdict[rc.verdict]++;
    }
    /* Rules no case exercises still appear, as SKIP, so a report lists the
     * whole catalogue and a gap is visible. */
    for (size_t i = 0; i < catalogue_count(o->cat); i++) {
        const catalogue_rule_t *rule = catalogue_rule_at(o->cat, i);
        if (!conform_only_match(o->only, rule->id))
            continue;
        bool has = false;
        for (size_t j = 0; j < n && !has; j++)
            has = strcmp(conform_case_at(j)->rule, rule->id) == 0;
        if (has)
            continue;
        char spec[256];
        /* area "client": rules for device code, which `serve --check-clients`
         * checks on live clients; no hub case can exercise them */
        bool client = strcmp(rule->area, "client") == 0;
        report_case_t rc = { .id = rule->id, .area = rule->area,
                             .name = client ? "a rule for clients" : "no case yet",
                             .verdict = REPORT_SKIP, .level = rule->level_name,
                             .rule_text = rule->text,
                             .spec_ref = catalogue_spec_ref(rule, spec, sizeof spec),
                             .message = client ? "a client rule: hubsim serve --check-clients checks it on connecting devices"
                                               : "no case exercises this rule yet" };
        hs_err_t e = report_result_add_case(r, &rc);
        if (e != HS_EOK)
            return e;
        sum->cases++;
        sum->by_verdict[REPORT_SKIP]++;
    }
    for (size_t i = 0; o->baseline && i < o->baseline->n; i++) {
        const char *rule = o->baseline->e[i].rule;
        if (list_has(passing, rule) && !list_has(failing, rule) && !list_has(sum->stale, rule))
            list_add(sum->stale, sizeof sum->stale, rule);
    }
    if (sum->stale[0])
        report_result_set_info(r, "baseline.stale", sum->stale);
    if (sum->expired[0])
        report_result_set_info(r, "baseline.expired", sum->expired);
    report_result_set_virtual(r, o->epoch_unix, total);
    if (hashed) {
        sum->trace_hash = sim_hash_final(&hash);
        sum->has_trace_hash = true;
        report_result_set_trace_hash(r, sum->trace_hash);
    }
    return HS_EOK;
}

/* ---- kill matrix ------------------------------------------------------------------ */

hs_err_t conform_kill_matrix(const conform_options_t *opt, report_result_t *r, FILE *progress,
                             size_t *killed, size_t *total)
{
    /* The matrix compares each switch alone with the unbroken hub: switches
     * armed for the main run (--break) and --only do not apply here. */
    conform_options_t plain = *opt;
    plain.breaks = NULL;
    plain.n_breaks = 0;
    plain.only = NULL;
    const conform_options_t *o = &plain;
    *killed = *total = 0;
    if (!o->target || !(o->target->caps & TARGET_CAP_BREAK))
        return HS_EUNSUPPORTED;
    size_t n = conform_case_count();
    report_verdict_t *base = calloc(n ? n : 1, sizeof *base);
    outcome_t *out = calloc(1, sizeof *out);
    if (!base || !out) {
        free(base);
        free(out);
        return HS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const conf_case_t *cs = conform_case_at(i);
        run_case(o, cs, catalogue_find(o->cat, cs->rule), NULL, false, out);
        base[i] = out->verdict;
    }
    hs_err_t rc = HS_EOK;
    conform_switch_t sw;
    for (size_t f = 0; conform_switch_at(f, &sw); f++) {
        const conform_switch_t *fi = &sw;
        const catalogue_rule_t *own = catalogue_find(o->cat, fi->rule_id);
        char by[256] = "", collateral[1024] = "", note[1400] = "";
        size_t n_own = 0, own_hits = 0;
        for (size_t i = 0; i < n; i++) {
            const conf_case_t *cs = conform_case_at(i);
            const catalogue_rule_t *rule = catalogue_find(o->cat, cs->rule);
            run_case(o, cs, rule, fi->name, false, out);
            bool hit = out->raw == REPORT_FAIL || out->raw == REPORT_WRONG_CODE;
            bool mine = strcmp(cs->rule, fi->rule_id) == 0;
            n_own += mine;
            own_hits += mine && hit;
            if (hit && mine && !by[0])
                snprintf(by, sizeof by, "%s: %s", cs->rule, cs->name);
            else if (out->verdict != base[i] && rule && own && strcmp(rule->area, own->area) != 0 &&
                     !(out->unbalanced && strcmp(fi->rule_id, "HUB-CONSERVATION") == 0))
                /* A case of another area that changed only because the hub
                 * lost a message it accepted is evidence of the switch's own
                 * rule (the books say so), not collateral damage. */
                list_add(collateral, sizeof collateral, cs->rule);
        }
        int is_killed = by[0] && !collateral[0];
        if (!own)
            snprintf(note, sizeof note, "rule %s is not in the catalogue", fi->rule_id);
        else if (!by[0])
            snprintf(note, sizeof note, "survived: no case of %s turned FAIL or WRONG-CODE (%s)",
                     fi->rule_id, fi->description);
        else if (collateral[0])
            snprintf(note, sizeof note, "also changed cases of other areas: %s", collateral);
        else
            snprintf(note, sizeof note, "%zu of %zu cases of %s turned red; the switch: %s", own_hits, n_own,
                     fi->rule_id, fi->description);
        hs_err_t e = report_result_add_kill(r, fi->name, fi->rule_id, is_killed, by[0] ? by : NULL, note);
        if (e != HS_EOK) {
            rc = e;
            break;
        }
        (*total)++;
        if (is_killed)
            (*killed)++;
        if (progress)
            fprintf(progress, "%-8s %-44s %s\n", is_killed ? "killed" : "SURVIVED", fi->name,
                    is_killed ? by : note);
    }
    free(base);
    free(out);
    return rc;
}
