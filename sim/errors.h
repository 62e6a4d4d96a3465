/* Harness error codes: one X-macro table with messages (libuv UV_ERRNO_MAP style). */
#ifndef HS_ERRORS_H
#define HS_ERRORS_H

/* X(NAME, message). Hub-visible errors (HTTP status, hub code, rule ID) live
 * in sim/hub/hub_errors.h; these are the harness's own failures. */
#define HS_ERRNO_MAP(X)                                              \
    X(OK,       "success")                                           \
    X(NOMEM,    "out of memory")                                     \
    X(INVAL,    "invalid argument")                                  \
    X(PARSE,    "malformed input")                                   \
    X(RANGE,    "value out of range")                                \
    X(NOTFOUND, "not found")                                         \
    X(EXISTS,   "already exists")                                    \
    X(STATE,    "operation not valid in the current state")          \
    X(FULL,     "capacity exhausted")                                \
    X(IO,       "input/output error")                                \
    X(UNSUPPORTED, "not supported")

typedef enum {
#define HS_ERR_ENUM(name, msg) HS_E##name,
    HS_ERRNO_MAP(HS_ERR_ENUM)
#undef HS_ERR_ENUM
    HS_E_COUNT
} hs_err_t;

/* "success", "out of memory", ...; never NULL. */
const char *hs_strerror(hs_err_t err);
/* "OK", "NOMEM", ...; never NULL. */
const char *hs_err_name(hs_err_t err);

#endif
