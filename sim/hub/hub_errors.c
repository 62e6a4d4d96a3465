/* The hub error table's rows, indexed by hub_err_t. */
#include "hub_errors.h"

static const hub_error_info_t hub_error_rows[] = {
#define HUB_ERR_ROW(e, http, code, name, rule, msg) { http, code, name, rule, msg },
    HUB_ERROR_MAP(HUB_ERR_ROW)
#undef HUB_ERR_ROW
};

const hub_error_info_t *hub_error_info(hub_err_t err)
{
    if ((unsigned)err >= (unsigned)HUB_E__COUNT)
        return &hub_error_rows[HUB_ESERVER_ERROR];
    return &hub_error_rows[err];
}
