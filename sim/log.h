/* Levelled log lines stamped with virtual time, written through the kernel's context. */
#ifndef SIM_LOG_H
#define SIM_LOG_H

#include <stdio.h>
#include "simtime.h"

typedef enum {
    SIM_LOG_ERROR = 0,
    SIM_LOG_WARN = 1,
    SIM_LOG_INFO = 2,
    SIM_LOG_DEBUG = 3,
    SIM_LOG_TRACE = 4,
} sim_log_level_t;

typedef struct {
    FILE *out;              /* NULL: logging off */
    sim_log_level_t level;  /* lines above this level are dropped */
} sim_log_t;

/* "error", "warn", "info", "debug", "trace" → level; -1 when unknown. */
int sim_log_level_parse(const char *name);
const char *sim_log_level_name(sim_log_level_t level);

/* Writes "[   12.345678s] WARN  hub: text\n". */
void sim_log_write(const sim_log_t *log, sim_time_t now, sim_log_level_t level,
                   const char *component, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
