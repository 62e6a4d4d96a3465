/* Log line formatting; the timestamp is whatever virtual (or mapped wall) time the caller passes. */
#include "log.h"

#include <stdarg.h>
#include <string.h>

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

int sim_log_level_parse(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

const char *sim_log_level_name(sim_log_level_t level)
{
    return (unsigned)level < 5 ? level_names[level] : "?";
}

void sim_log_write(const sim_log_t *log, sim_time_t now, sim_log_level_t level,
                   const char *component, const char *fmt, ...)
{
    if (!log || !log->out || level > log->level)
        return;
    fprintf(log->out, "[%6llu.%06llus] %-5s %s: ", (unsigned long long)(now / SIM_SEC),
            (unsigned long long)((now % SIM_SEC) / SIM_US), sim_log_level_name(level), component);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log->out, fmt, ap);
    va_end(ap);
    fputc('\n', log->out);
}
