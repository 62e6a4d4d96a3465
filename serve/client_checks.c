/* `serve --check-clients`: the device-side rule violations the sessions observed, kept per CLIENT- rule and written as a conformance report on exit. */
#include "serve/client_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Violations kept per rule for the report; the count goes on past it. */
#define KEEP_PER_RULE 20
#define CLIENT_AREA "client"

typedef struct {
    char *identity;
    char *detail;
} violation_t;

typedef struct {
    char *rule_id;
    size_t count;
    violation_t kept[KEEP_PER_RULE];
    size_t n_kept;
} rule_log_t;

struct client_checks {
    const catalogue_t *cat;
    rule_log_t *rules; /* in first-seen order; looked up linearly (a handful of rules) */
    size_t n_rules, cap_rules;
    size_t total;
};

client_checks_t *client_checks_new(const catalogue_t *cat)
{
    client_checks_t *cc = calloc(1, sizeof *cc);
    if (cc)
        cc->cat = cat;
    return cc;
}

void client_checks_free(client_checks_t *cc)
{
    if (!cc)
        return;
    for (size_t i = 0; i < cc->n_rules; i++) {
        for (size_t j = 0; j < cc->rules[i].n_kept; j++) {
            free(cc->rules[i].kept[j].identity);
            free(cc->rules[i].kept[j].detail);
        }
        free(cc->rules[i].rule_id);
    }
    free(cc->rules);
    free(cc);
}

static rule_log_t *rule_log(client_checks_t *cc, const char *rule_id)
{
    for (size_t i = 0; i < cc->n_rules; i++)
        if (strcmp(cc->rules[i].rule_id, rule_id) == 0)
            return &cc->rules[i];
    if (cc->n_rules == cc->cap_rules) {
        size_t cap = cc->cap_rules ? cc->cap_rules * 2 : 8;
        rule_log_t *grown = realloc(cc->rules, cap * sizeof *grown);
        if (!grown)
            return NULL;
        cc->rules = grown;
        cc->cap_rules = cap;
    }
    rule_log_t *r = &cc->rules[cc->n_rules];
    memset(r, 0, sizeof *r);
    if (!(r->rule_id = strdup(rule_id)))
        return NULL;
    cc->n_rules++;
    return r;
}

void client_checks_record(client_checks_t *cc, const char *rule_id, const char *identity,
                          const char *detail)
{
    cc->total++;
    rule_log_t *r = rule_log(cc, rule_id ? rule_id : "CLIENT-?");
    if (!r)
        return; /* out of memory: the total still counts it */
    r->count++;
    if (r->n_kept < KEEP_PER_RULE) {
        violation_t *v = &r->kept[r->n_kept];
        v->identity = strdup(identity ? identity : "?");
        v->detail = strdup(detail ? detail : "");
        if (v->identity && v->detail)
            r->n_kept++;
        else {
            free(v->identity);
            free(v->detail);
        }
    }
}

static void observe(void *ctx, const char *rule_id, const char *identity, const char *detail)
{
    client_checks_record(ctx, rule_id, identity, detail);
}

static const wire_observer_ops_t observer_ops = { .violation = observe };

const wire_observer_ops_t *client_checks_observer(void)
{
    return &observer_ops;
}

size_t client_checks_total(const client_checks_t *cc)
{
    return cc->total;
}

json_t *client_checks_json(const client_checks_t *cc)
{
    json_t *rules = json_object();
    for (size_t i = 0; i < cc->n_rules; i++) {
        const rule_log_t *r = &cc->rules[i];
        json_t *list = json_array();
        for (size_t j = 0; j < r->n_kept; j++)
            json_array_append_new(list, json_pack("{s:s,s:s}", "identity", r->kept[j].identity,
                                                  "detail", r->kept[j].detail));
        json_object_set_new(rules, r->rule_id, json_pack("{s:I,s:o}", "count", (json_int_t)r->count,
                                                         "examples", list));
    }
    return json_pack("{s:I,s:o}", "total", (json_int_t)cc->total, "rules", rules);
}

static void describe(const rule_log_t *r, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%zu violation%s", r->count, r->count == 1 ? "" : "s");
    for (size_t j = 0; j < r->n_kept && j < 5 && n < cap; j++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s: %s", j ? "; " : ": ", r->kept[j].identity,
                              r->kept[j].detail);
}

report_result_t *client_checks_report(const client_checks_t *cc, const char *target)
{
    report_result_t *res = report_result_new(REPORT_KIND_CONFORMANCE, "client checks");
    if (!res)
        return NULL;
    report_result_set_target(res, target);
    report_result_set_catalogue_version(res, catalogue_version(cc->cat));
    char observed[1024], ref[256];
    for (size_t i = 0; i < catalogue_count(cc->cat); i++) {
        const catalogue_rule_t *rule = catalogue_rule_at(cc->cat, i);
        if (strcmp(rule->area, CLIENT_AREA) != 0)
            continue;
        const rule_log_t *log = NULL;
        for (size_t j = 0; j < cc->n_rules; j++)
            if (strcmp(cc->rules[j].rule_id, rule->id) == 0)
                log = &cc->rules[j];
        if (log)
            describe(log, observed, sizeof observed);
        report_case_t c = {
            .id = rule->id,
            .area = CLIENT_AREA,
            .name = "clients observed by serve --check-clients",
            .verdict = log ? REPORT_FAIL : REPORT_PASS,
            .level = rule->level_name,
            .rule_text = rule->text,
            .spec_ref = catalogue_spec_ref(rule, ref, sizeof ref),
            .expected = "no violation",
            .observed = log ? observed : "no violation",
            .message = log ? "a client broke the rule" : NULL,
        };
        report_result_add_case(res, &c);
    }
    /* a rule the catalogue does not know: the harness is wrong, say so */
    for (size_t j = 0; j < cc->n_rules; j++) {
        if (catalogue_find(cc->cat, cc->rules[j].rule_id))
            continue;
        describe(&cc->rules[j], observed, sizeof observed);
        report_case_t c = { .id = cc->rules[j].rule_id, .area = CLIENT_AREA,
                            .name = "a violation of a rule the catalogue lacks",
                            .verdict = REPORT_ERROR, .level = "MUST", .observed = observed,
                            .message = "the session reported an unknown rule id" };
        report_result_add_case(res, &c);
    }
    return res;
}
