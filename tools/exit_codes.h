/* Exit codes shared by every subcommand (documented in the README). */
#ifndef HS_EXIT_CODES_H
#define HS_EXIT_CODES_H

enum {
    HS_EXIT_OK = 0,      /* success */
    HS_EXIT_CHECK = 1,   /* a check failed: a rule, an expectation, conservation, a diff */
    HS_EXIT_USAGE = 2,   /* usage or input error: bad flags, malformed files */
    HS_EXIT_HARNESS = 3, /* harness or environment error: unreachable target, ERROR verdict */
};

#endif
