/* Every example hub configuration in fixtures/hubs/ (all but bad-*) loads AND builds a working hub. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim/hub/hub.h"
#include "sim/hub/hub_config.h"
#include "test_util.h"

static void test_good_fixtures_build_a_hub(void **state)
{
    (void)state;
    const char *good[] = { "default.json", "s1-throttled.json", "full.json" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char path[1024], why[512] = "";
        snprintf(path, sizeof path, "%s/fixtures/hubs/%s", tu_source_dir(), good[i]);
        hub_config_t cfg;
        hub_config_defaults(&cfg);
        json_diag_list_t *d = NULL;
        json_diag_list_new(&d);
        hs_err_t err = hub_config_load_file(path, &cfg, d);
        if (err)
            json_diag_print(d, stderr);
        json_diag_list_free(d);
        assert_int_equal(err, HS_EOK);
        sim_kernel_t *k = sim_kernel_new(1, SIM_DEFAULT_EPOCH_UNIX);
        hub_t *hub = NULL;
        err = hub_new(k, &cfg, &hub, why, sizeof why);
        if (err)
            fprintf(stderr, "%s: %s\n", good[i], why);
        assert_int_equal(err, HS_EOK);
        hub_free(hub);
        sim_kernel_free(k);
        hub_config_free(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_good_fixtures_build_a_hub) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
