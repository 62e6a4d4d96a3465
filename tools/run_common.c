/* Report stamping, wall-clock helpers and shard parsing shared by the simulation commands. */
#include "run_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "exit_codes.h"

int64_t run_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double run_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int run_write_reports(const char *cmd, const report_result_t *r, const reports_paths_t *paths)
{
    char err[512];
    if (reports_write(r, paths, err, sizeof err) != HS_EOK) {
        fprintf(stderr, "hubsim %s: cannot write reports: %s\n", cmd, err);
        return HS_EXIT_HARNESS;
    }
    return HS_EXIT_OK;
}

int run_parse_shard(const char *text, uint32_t *k, uint32_t *n)
{
    char *end;
    unsigned long a = strtoul(text, &end, 10);
    if (end == text || *end != '/')
        return -1;
    const char *p = end + 1;
    unsigned long b = strtoul(p, &end, 10);
    if (end == p || *end || b == 0 || a >= b || b > 1000000)
        return -1;
    *k = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}
