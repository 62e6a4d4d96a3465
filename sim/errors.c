/* Messages and names for the harness error table. */
#include "errors.h"

static const char *const hs_messages[] = {
#define HS_ERR_MSG(name, msg) msg,
    HS_ERRNO_MAP(HS_ERR_MSG)
#undef HS_ERR_MSG
};

static const char *const hs_names[] = {
#define HS_ERR_NAME(name, msg) #name,
    HS_ERRNO_MAP(HS_ERR_NAME)
#undef HS_ERR_NAME
};

const char *hs_strerror(hs_err_t err)
{
    if ((unsigned)err >= (unsigned)HS_E_COUNT)
        return "unknown error";
    return hs_messages[err];
}

const char *hs_err_name(hs_err_t err)
{
    if ((unsigned)err >= (unsigned)HS_E_COUNT)
        return "UNKNOWN";
    return hs_names[err];
}
