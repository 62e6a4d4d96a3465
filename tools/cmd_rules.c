/* `hubsim rules [--json] [--area A]`: lists the rule catalogue the conformance suite checks. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conformance/catalogue.h"
#include "conformance/switches.h"

enum { OPT_JSON, OPT_AREA, OPT_CATALOGUE };
static const cli_opt_t rules_options[] = {
    { "json", 0, NULL, "print the rules as one JSON document instead of text" },
    { "area", 'a', "AREA", "only the rules of one area (methods, messages, c2d, twins, routing, auth, "
                           "connections, registry, hub)" },
    { "catalogue", 0, "FILE", "read this catalogue instead of the shipped one" },
    { 0 },
};

/* The --break switches that violate this rule (what the kill matrix expects
 * the rule's cases to catch): hub model, staged, wire and knob switches. */
static json_t *switches_of(const char *rule_id)
{
    json_t *list = json_array();
    conform_switch_t sw;
    for (size_t i = 0; conform_switch_at(i, &sw); i++)
        if (!strcmp(sw.rule_id, rule_id))
            json_array_append_new(list, json_string(sw.name));
    return list;
}

static json_t *rule_to_json(const catalogue_rule_t *r)
{
    char protos[32];
    json_t *spec = json_pack("{s:s}", "doc", r->doc);
    if (r->section)
        json_object_set_new(spec, "section", json_string(r->section));
    if (r->confidence)
        json_object_set_new(spec, "confidence", json_string(r->confidence));
    json_t *plist = json_array();
    catalogue_protocols_format(r->protocols, protos, sizeof protos);
    for (char *save = NULL, *tok = strtok_r(protos, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        json_array_append_new(plist, json_string(tok));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o}", "id", r->id, "area", r->area, "level",
                          r->level_name, "spec", spec, "text", r->text, "protocols", plist);
    if (r->knob_name)
        json_object_set_new(o, "knob", json_pack("{s:s, s:s}", "name", r->knob_name, "default",
                                                 r->knob_default));
    json_object_set_new(o, "break_switches", switches_of(r->id));
    return o;
}

static void print_text(const catalogue_rule_t *r)
{
    char protos[32];
    catalogue_protocols_format(r->protocols, protos, sizeof protos);
    printf("%-30s %-6s %-11s %s", r->id, r->level_name, r->area, r->doc);
    if (r->confidence)
        printf(" [%s]", r->confidence);
    if (r->section)
        printf(" (%s)", r->section);
    printf("  %s\n", protos);
    printf("    %s\n", r->text);
    if (r->knob_name)
        printf("    knob: %s (default %s)\n", r->knob_name, r->knob_default);
    json_t *sw = switches_of(r->id);
    size_t i;
    json_t *v;
    json_array_foreach(sw, i, v)
        printf("%s%s", i ? ", " : "    --break: ", json_string_value(v));
    if (json_array_size(sw))
        printf("\n");
    json_decref(sw);
}

static int run_rules(const hs_command_t *cmd, int argc, char **argv)
{
    cli_iter_t it;
    const char *value, *area = NULL, *path = NULL;
    int as_json = 0;
    cli_iter_init(&it, cmd, argc, argv);
    for (int o; (o = cli_next(&it, &value)) != CLI_END;) {
        switch (o) {
        case CLI_ERR: return HS_EXIT_USAGE;
        case CLI_HELP: cli_print_help(cmd, stdout); return HS_EXIT_OK;
        case CLI_ARG: return cli_usage_error(cmd, "unexpected argument '%s'", value);
        case OPT_JSON: as_json = 1; break;
        case OPT_AREA: area = value; break;
        case OPT_CATALOGUE: path = value; break;
        }
    }

    catalogue_t *cat = NULL;
    char err[512];
    hs_err_t rc = path ? catalogue_load_file(path, &cat, err, sizeof err)
                       : catalogue_load_default(&cat, err, sizeof err);
    if (rc) {
        fprintf(stderr, "hubsim rules: %s\n", err);
        /* A catalogue given on the command line is input; a missing shipped
         * one is an installation (harness) problem. */
        return path || rc != HS_ENOTFOUND ? HS_EXIT_USAGE : HS_EXIT_HARNESS;
    }
    if (area && !catalogue_has_area(cat, area)) {
        fprintf(stderr, "hubsim rules: unknown area '%s'; areas are:", area);
        for (size_t i = 0; i < catalogue_area_count(cat); i++)
            fprintf(stderr, " %s", catalogue_area_at(cat, i));
        fprintf(stderr, "\n");
        catalogue_free(cat);
        return HS_EXIT_USAGE;
    }

    size_t shown = 0;
    json_t *list = as_json ? json_array() : NULL;
    if (!as_json)
        printf("rule catalogue version %d\n", catalogue_version(cat));
    for (size_t i = 0; i < catalogue_count(cat); i++) {
        const catalogue_rule_t *r = catalogue_rule_at(cat, i);
        if (area && strcmp(area, r->area) != 0)
            continue;
        shown++;
        if (as_json)
            json_array_append_new(list, rule_to_json(r));
        else
            print_text(r);
    }
    if (as_json) {
        json_t *doc = json_pack("{s:i, s:o}", "catalogue_version", catalogue_version(cat), "rules", list);
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
        json_decref(doc);
    } else {
        printf("%zu rule(s)\n", shown);
    }
    catalogue_free(cat);
    return HS_EXIT_OK;
}

const hs_command_t hs_cmd_rules = {
    .name = "rules",
    .summary = "list the conformance rule catalogue",
    .usage = "[--json] [--area AREA] [--catalogue FILE]",
    .description =
        "Lists every rule the conformance suite checks, in catalogue order: its stable ID,\n"
        "level (MUST, SHOULD, KNOB), area, the spec document and section it rests on (for\n"
        "NOTES.md with its confidence mark), the protocols it applies to and the rule\n"
        "sentence.  KNOB rules name the hub knob and its default; rules the in-process\n"
        "hub can be made to break list their --break switches.  The catalogue is\n"
        "conformance/catalogue.json (or $HUBSIM_CATALOGUE); its version is stamped in\n"
        "every report.\n"
        "Exit 0: listed; 2: unknown area or malformed catalogue; 3: catalogue not found.",
    .options = rules_options,
    .run = run_rules,
};
