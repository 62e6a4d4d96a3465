/* hubsim entry point: dispatches to a subcommand, prints global help, version and the man page. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sim/trace.h"

static void print_global_help(FILE *f)
{
    fprintf(f, "usage: hubsim [--version] [--help] COMMAND [ARGS]\n\n"
               "A deterministic simulator and conformance harness for IoT hubs.\n\ncommands:\n");
    for (const hs_command_t *const *c = hs_commands; *c; c++)
        fprintf(f, "  %-12s %s\n", (*c)->name, (*c)->summary);
    fprintf(f, "\n'hubsim COMMAND --help' describes a command.\n"
               "exit codes: 0 success, 1 a check failed, 2 usage or input error, "
               "3 harness or environment error\n");
}

static void man_escape(FILE *f, const char *s)
{
    int line_start = 1;
    for (; *s; s++) {
        if (line_start && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        line_start = *s == '\n';
    }
}

/* A man page generated from the same tables --help prints. */
static int print_man_page(void)
{
    printf(".TH HUBSIM 1 \"\" \"hubsim %s\" \"User Commands\"\n", HUBSIM_VERSION);
    printf(".SH NAME\nhubsim \\- deterministic simulator and conformance harness for IoT hubs\n");
    printf(".SH SYNOPSIS\n.B hubsim\n[\\-\\-version] [\\-\\-help] COMMAND [ARGS]\n");
    printf(".SH DESCRIPTION\nhubsim runs virtual device fleets against an in-process hub "
           "model in virtual time, asserts the hub's spec rules, and reports the results.\n");
    printf(".SH COMMANDS\n");
    for (const hs_command_t *const *c = hs_commands; *c; c++) {
        const hs_command_t *cmd = *c;
        printf(".SS \"hubsim %s ", cmd->name);
        man_escape(stdout, cmd->usage);
        printf("\"\n");
        man_escape(stdout, cmd->summary);
        printf("\n.PP\n");
        if (cmd->description)
            man_escape(stdout, cmd->description), printf("\n");
        for (const cli_opt_t *o = cmd->options; o && o->name; o++) {
            printf(".TP\n.B \\-\\-");
            man_escape(stdout, o->name);
            if (o->value_name)
                printf(" \" %s\"", o->value_name);
            printf("\n");
            man_escape(stdout, o->help);
            printf("\n");
        }
    }
    printf(".SH EXIT STATUS\n0 success; 1 a check failed (a conformance rule, a scenario "
           "expectation, the conservation check); 2 usage or input error; 3 harness or "
           "environment error.\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_global_help(stderr);
        return HS_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_global_help(stdout);
        return HS_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("hubsim %s (trace format %d)\n", HUBSIM_VERSION, SIM_TRACE_FORMAT_VERSION);
        return HS_EXIT_OK;
    }
    if (strcmp(name, "help-man") == 0)
        return print_man_page();
    for (const hs_command_t *const *c = hs_commands; *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return (*c)->run(*c, argc - 1, argv + 1);
    if (name[0] == '-')
        fprintf(stderr, "hubsim: unknown option '%s'\n", name);
    else
        fprintf(stderr, "hubsim: unknown command '%s'\n", name);
    fprintf(stderr, "usage: hubsim [--version] [--help] COMMAND [ARGS] (see hubsim --help)\n");
    return HS_EXIT_USAGE;
}
