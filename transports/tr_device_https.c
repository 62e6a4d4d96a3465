/* Device client over HTTPS: placeholder until written. */
#include "transports/tr_device_impl.h"

static hs_err_t x_start(tr_device_t *d, char *why, size_t cap)
{
    (void)d;
    (void)why;
    (void)cap;
    return HS_EUNSUPPORTED;
}

const tr_dev_ops_t tr_dev_https_ops = { x_start, 0, 0, 0, 0, 0, 0, 0, 0 };
