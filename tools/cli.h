/* Command-line plumbing: the subcommand registry, option parsing, and generated help. */
#ifndef HS_CLI_H
#define HS_CLI_H

#include <stdio.h>
#include "exit_codes.h"

typedef struct {
    const char *name;       /* long name without "--" */
    char short_name;        /* 0 when none */
    const char *value_name; /* NULL: a flag without value */
    const char *help;
} cli_opt_t;

typedef struct hs_command {
    const char *name;
    const char *summary;     /* one line for `hubsim --help` */
    const char *usage;       /* after "hubsim NAME " */
    const char *description; /* paragraphs for --help and the man page */
    const cli_opt_t *options; /* terminated by {0} */
    int (*run)(const struct hs_command *cmd, int argc, char **argv);
} hs_command_t;

/* Iterates argv[1..]: returns the option's index, CLI_ARG for a positional
 * argument (in *value), CLI_END, or CLI_ERR after printing a one-line error
 * and the usage to stderr.  "--name=value", "--name value", "-x value" and
 * "--" are understood; --help is handled by cli_next (CLI_HELP). */
enum { CLI_END = -1, CLI_ARG = -2, CLI_ERR = -3, CLI_HELP = -4 };

typedef struct {
    const hs_command_t *cmd;
    int argc;
    char **argv;
    int i;
    int only_args;
} cli_iter_t;

void cli_iter_init(cli_iter_t *it, const hs_command_t *cmd, int argc, char **argv);
int cli_next(cli_iter_t *it, const char **value);

/* Print --help for a command to f. */
void cli_print_help(const hs_command_t *cmd, FILE *f);
/* "hubsim NAME: message" + usage line on stderr; returns HS_EXIT_USAGE. */
int cli_usage_error(const hs_command_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Under a one-line echo of `text`'s line `line`, a caret at character
 * `column` (UTF-8 aware, tabs kept), on stderr: for query errors. */
void cli_print_caret(const char *text, int line, int column);
/* Parse an unsigned 64-bit decimal or 0x hex; 0 on success. */
int cli_parse_u64(const char *text, unsigned long long *out);

/* The registry (tools/commands.c). */
extern const hs_command_t *const hs_commands[];

#endif
