/* Option iteration, usage errors and --help rendering shared by every subcommand. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_iter_init(cli_iter_t *it, const hs_command_t *cmd, int argc, char **argv)
{
    it->cmd = cmd;
    it->argc = argc;
    it->argv = argv;
    it->i = 1;
    it->only_args = 0;
}

int cli_usage_error(const hs_command_t *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hubsim %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: hubsim %s %s (see hubsim %s --help)\n", cmd->name, cmd->usage,
            cmd->name);
    return HS_EXIT_USAGE;
}

int cli_next(cli_iter_t *it, const char **value)
{
    if (it->i >= it->argc)
        return CLI_END;
    char *arg = it->argv[it->i++];
    *value = NULL;
    if (it->only_args || arg[0] != '-' || arg[1] == 0) {
        *value = arg;
        return CLI_ARG;
    }
    if (strcmp(arg, "--") == 0) {
        it->only_args = 1;
        return cli_next(it, value);
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        return CLI_HELP;
    const cli_opt_t *opts = it->cmd->options;
    int found = -1;
    const char *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (int k = 0; opts && opts[k].name; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
                found = k;
        if (found >= 0 && eq)
            inline_value = eq + 1;
    } else if (arg[2] == 0) {
        for (int k = 0; opts && opts[k].name; k++)
            if (opts[k].short_name && opts[k].short_name == arg[1])
                found = k;
    }
    if (found < 0) {
        cli_usage_error(it->cmd, "unknown option '%s'", arg);
        return CLI_ERR;
    }
    if (!opts[found].value_name) {
        if (inline_value) {
            cli_usage_error(it->cmd, "option '--%s' takes no value", opts[found].name);
            return CLI_ERR;
        }
        return found;
    }
    if (inline_value) {
        *value = inline_value;
    } else if (it->i < it->argc) {
        *value = it->argv[it->i++];
    } else {
        cli_usage_error(it->cmd, "option '--%s' needs a value (%s)", opts[found].name,
                        opts[found].value_name);
        return CLI_ERR;
    }
    return found;
}

void cli_print_help(const hs_command_t *cmd, FILE *f)
{
    fprintf(f, "usage: hubsim %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->description && *cmd->description)
        fprintf(f, "\n%s\n", cmd->description);
    fprintf(f, "\noptions:\n");
    for (const cli_opt_t *o = cmd->options; o && o->name; o++) {
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
                     o->value_name ? " " : "", o->value_name ? o->value_name : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->value_name ? " " : "",
                     o->value_name ? o->value_name : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help and exit");
    fprintf(f, "\nexit codes: 0 success, 1 a check failed, 2 usage or input error, "
               "3 harness or environment error\n");
}

int cli_parse_u64(const char *text, unsigned long long *out)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || !end || *end)
        return -1;
    *out = v;
    return 0;
}

void cli_print_caret(const char *text, int line, int column)
{
    const char *s = text;
    for (int l = 1; l < line && *s; s++)
        if (*s == '\n')
            l++;
    const char *e = strchr(s, '\n');
    int len = e ? (int)(e - s) : (int)strlen(s);
    fprintf(stderr, "  %.*s\n  ", len, s);
    /* column counts characters: pad with one space per character, tabs kept */
    int col = 1;
    for (const char *p = s; col < column && p < s + len; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;
        fputc(*p == '\t' ? '\t' : ' ', stderr);
        col++;
    }
    fputs("^\n", stderr);
}
