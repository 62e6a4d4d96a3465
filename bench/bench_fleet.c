/* Fleet benchmark: plays scenario files end to end and prints wall time, events/s, peak RSS and bytes per device. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sim/fleet/play.h"
#include "sim/fleet/scenario.h"

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: on a shared machine, steadier than wall time. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_fleet SCENARIO.json [...]\n"
                        "Runs each scenario in a fresh process (call once per scenario for a\n"
                        "clean peak-RSS figure) and prints one table row per scenario.\n");
        return 2;
    }
    printf("%-22s %10s %8s %8s %12s %10s %10s %10s %12s %12s %17s\n", "scenario", "devices",
           "wall s", "cpu s", "events", "M ev/s", "M ev/cpu-s", "peak MB", "B/device",
           "d2c accepted", "trace hash");
    for (int i = 1; i < argc; i++) {
        scenario_t s;
        json_diag_list_t *d = NULL;
        json_diag_list_new(&d);
        if (scenario_load_file(argv[i], &s, d) != HS_EOK) {
            json_diag_print(d, stderr);
            return 2;
        }
        json_diag_list_free(d);
        long before = rss_kb();
        double c0 = cpu_s();
        double t0 = mono();
        play_outcome_t out;
        if (play_scenario(&s, NULL, &out) != HS_EOK) {
            fprintf(stderr, "%s: %s\n", argv[i], out.why);
            return 3;
        }
        double wall = mono() - t0;
        double cpu = cpu_s() - c0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        uint64_t devices = scenario_device_count(&s);
        double peak_mb = (double)ru.ru_maxrss / 1024.0;
        double per_dev = devices ? ((double)ru.ru_maxrss - (double)before) * 1024.0 / (double)devices : 0;
        printf("%-22s %10llu %8.2f %8.2f %12llu %10.2f %10.2f %10.1f %10.0f %12s  %016llx\n",
               s.name ? s.name : argv[i], (unsigned long long)devices, wall, cpu,
               (unsigned long long)out.events, (double)out.events / wall / 1e6,
               (double)out.events / cpu / 1e6, peak_mb, per_dev,
               out.failed ? "(expect FAIL)" : "ok", (unsigned long long)out.trace_hash);
        fflush(stdout);
        report_result_free(out.result);
        scenario_free(&s);
    }
    return 0;
}
