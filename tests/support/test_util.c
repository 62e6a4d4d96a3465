/* Process and file helpers shared by the cmocka tests. */
#include "test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *tu_hubsim_bin(void)
{
    const char *p = getenv("HUBSIM_BIN");
    return p ? p : "./hubsim";
}

const char *tu_source_dir(void)
{
    const char *p = getenv("HUBSIM_SOURCE_DIR");
    return p ? p : ".";
}

const char *tu_build_dir(void)
{
    const char *p = getenv("HUBSIM_BUILD_DIR");
    return p ? p : ".";
}

char *tu_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[len] = 0;
    if (len_out)
        *len_out = len;
    return buf;
}

int tu_run_hubsim(char **out, char **err, const char *const *args)
{
    char out_path[] = "/tmp/hubsim-test-out-XXXXXX", err_path[] = "/tmp/hubsim-test-err-XXXXXX";
    int ofd = mkstemp(out_path), efd = mkstemp(err_path);
    if (ofd < 0 || efd < 0)
        return -1;
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    argv[0] = (char *)tu_hubsim_bin();
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ofd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    int status = -1;
    if (rc == 0 && waitpid(pid, &status, 0) == pid)
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    close(ofd);
    close(efd);
    if (out)
        *out = tu_read_file(out_path, NULL);
    if (err)
        *err = tu_read_file(err_path, NULL);
    unlink(out_path);
    unlink(err_path);
    return status;
}

int tu_check_golden(const char *name, const char *line)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/golden/%s", tu_source_dir(), name);
    if (getenv("HUBSIM_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        fputs(line, f);
        fclose(f);
    }
    char *want = tu_read_file(path, NULL);
    int rc = want && strcmp(want, line) == 0 ? 0 : -1;
    if (rc)
        fprintf(stderr, "golden %s:\n  want %s  got  %s", name, want ? want : "(missing)\n", line);
    free(want);
    return rc;
}
