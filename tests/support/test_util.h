/* Helpers for tests that run the hubsim binary or read fixtures. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>

/* Path of the built hubsim ($HUBSIM_BIN) / the source tree / the build tree. */
const char *tu_hubsim_bin(void);
const char *tu_source_dir(void);
const char *tu_build_dir(void);

/* Runs `hubsim ARGS...` (NULL-terminated argv after the binary), captures
 * stdout and stderr (malloc'd, NUL-terminated; caller frees) and returns the
 * exit status (or 128 + signal). */
int tu_run_hubsim(char **out, char **err, const char *const *args);

/* Compare `line` with the committed golden file fixtures/golden/NAME; with
 * HUBSIM_UPDATE_GOLDEN set, rewrite the file first (a deliberate refresh).
 * Returns 0 when equal; prints both on a mismatch. */
int tu_check_golden(const char *name, const char *line);

/* Reads a whole file; NULL when missing.  Caller frees. */
char *tu_read_file(const char *path, size_t *len_out);

#endif
