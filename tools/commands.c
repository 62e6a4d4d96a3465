/* The subcommand registry: one entry per tools/cmd_*.c file, in help order. */
#include "cli.h"

extern const hs_command_t hs_cmd_run;
extern const hs_command_t hs_cmd_shrink;
extern const hs_command_t hs_cmd_merge;
extern const hs_command_t hs_cmd_rules;
extern const hs_command_t hs_cmd_query;
extern const hs_command_t hs_cmd_twin_query;
extern const hs_command_t hs_cmd_diff;
extern const hs_command_t hs_cmd_conform;
extern const hs_command_t hs_cmd_cleanup;
extern const hs_command_t hs_cmd_serve;
extern const hs_command_t hs_cmd_certs;

const hs_command_t *const hs_commands[] = {
    &hs_cmd_run,
    &hs_cmd_shrink,
    &hs_cmd_merge,
    &hs_cmd_rules,
    &hs_cmd_query,
    &hs_cmd_twin_query,
    &hs_cmd_diff,
    &hs_cmd_conform,
    &hs_cmd_cleanup,
    &hs_cmd_serve,
    &hs_cmd_certs,
    NULL,
};
