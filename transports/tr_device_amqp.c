/* Device client over AMQP: placeholder until written. */
#include "transports/tr_device_impl.h"

static hs_err_t x_start(tr_device_t *d, char *why, size_t cap)
{
    (void)d;
    (void)why;
    (void)cap;
    return HS_EUNSUPPORTED;
}

const tr_dev_ops_t tr_dev_amqp_ops = { x_start, 0, 0, 0, 0, 0, 0, 0, 0 };
