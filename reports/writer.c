/* Writer registry, atomic file output, --out/--json/--html/--junit handling, and shared formatting. */
#include "writer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "writer_internal.h"

const report_writer_t *const report_writers[] = {
    &report_writer_json,
    &report_writer_html,
    &report_writer_junit,
    NULL,
};

const uint32_t report_pct_q[REPORT_NPCT] = { 50000, 90000, 99000, 99900 };
const char *const report_pct_key[REPORT_NPCT] = { "p50", "p90", "p99", "p99_9" };
const char *const report_pct_label[REPORT_NPCT] = { "p50", "p90", "p99", "p99.9" };

const report_writer_t *report_writer_find(const char *name)
{
    for (size_t i = 0; name && report_writers[i]; i++)
        if (strcmp(report_writers[i]->name, name) == 0)
            return report_writers[i];
    return NULL;
}

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

hs_err_t report_writer_to_path(const report_writer_t *w, const report_result_t *r, const char *path,
                               char *err, size_t errcap)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
        return HS_ENOMEM;
    snprintf(tmp, len + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        set_err(err, errcap, "cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return HS_EIO;
    }
    hs_err_t rc = w->write(r, f);
    if (fflush(f) != 0 || ferror(f))
        rc = rc ? rc : HS_EIO;
    if (fclose(f) != 0)
        rc = rc ? rc : HS_EIO;
    if (!rc && rename(tmp, path) != 0)
        rc = HS_EIO;
    if (rc) {
        set_err(err, errcap, "cannot write %s report %s: %s", w->name, path,
                rc == HS_ENOMEM ? "out of memory" : strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* mkdir -p */
static hs_err_t make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return HS_ENOMEM;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                free(p);
                return HS_EIO;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? HS_EOK : HS_EIO;
}

hs_err_t reports_write(const report_result_t *r, const reports_paths_t *paths, char *err, size_t errcap)
{
    if (!r || !paths)
        return HS_EINVAL;
    if (paths->out_dir && make_dirs(paths->out_dir) != HS_EOK) {
        set_err(err, errcap, "cannot create report directory %s: %s", paths->out_dir, strerror(errno));
        return HS_EIO;
    }
    for (size_t i = 0; report_writers[i]; i++) {
        const char *wn = report_writers[i]->name;
        const char *path = !strcmp(wn, "json")   ? paths->json
                           : !strcmp(wn, "html") ? paths->html
                                                 : paths->junit;
        char buf[4096];
        if (!path && paths->out_dir) {
            int n = snprintf(buf, sizeof buf, "%s/%s", paths->out_dir, report_writers[i]->default_file);
            if (n < 0 || (size_t)n >= sizeof buf) {
                set_err(err, errcap, "report directory path too long: %s", paths->out_dir);
                return HS_EINVAL;
            }
            path = buf;
        }
        if (!path)
            continue;
        hs_err_t rc = report_writer_to_path(report_writers[i], r, path, err, errcap);
        if (rc)
            return rc;
    }
    return HS_EOK;
}

hs_err_t reports_write_all(const report_result_t *r, const char *dir)
{
    reports_paths_t p = { .out_dir = dir };
    return reports_write(r, &p, NULL, 0);
}

void report_fmt_seconds(sim_time_t ns, char *buf, size_t cap)
{
    uint64_t ms = (ns + SIM_MS / 2) / SIM_MS;
    snprintf(buf, cap, "%llu.%03llu", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
}

void report_fmt_latency(uint64_t ns, char *buf, size_t cap)
{
    /* Three significant decimals from integers only, so no locale or FP
     * formatting difference can change a report. */
    static const struct { uint64_t div; const char *unit; } units[] = {
        { 1000000000ull, "s" }, { 1000000ull, "ms" }, { 1000ull, "us" },
    };
    for (size_t i = 0; i < 3; i++) {
        if (ns >= units[i].div) {
            uint64_t whole = ns / units[i].div;
            uint64_t frac = (ns % units[i].div) * 1000 / units[i].div;
            snprintf(buf, cap, "%llu.%03llu%s", (unsigned long long)whole, (unsigned long long)frac,
                     units[i].unit);
            return;
        }
    }
    snprintf(buf, cap, "%lluns", (unsigned long long)ns);
}

void report_fmt_wall(int64_t unix_ms, char *buf, size_t cap)
{
    char full[48];
    if (unix_ms < 0)
        unix_ms = 0;
    sim_utc_format(unix_ms / 1000, (sim_time_t)(unix_ms % 1000) * SIM_MS, full, sizeof full);
    /* Keep milliseconds: "...:SS.fff" + "Z" (sim_utc_format writes 7 digits). */
    char *dot = strchr(full, '.');
    if (dot && strlen(dot) >= 4) {
        dot[4] = 'Z';
        dot[5] = 0;
    }
    snprintf(buf, cap, "%s", full);
}

void report_fmt_epoch(int64_t epoch_unix, char *buf, size_t cap)
{
    char full[48];
    sim_utc_format(epoch_unix, 0, full, sizeof full);
    char *dot = strchr(full, '.');
    if (dot) {
        dot[0] = 'Z';
        dot[1] = 0;
    }
    snprintf(buf, cap, "%s", full);
}

void report_fmt_hash(uint64_t h, char *buf, size_t cap)
{
    snprintf(buf, cap, "%016llx", (unsigned long long)h);
}

const char *report_gate_word(const report_result_t *r)
{
    switch (report_result_exit_code(r)) {
    case 0: return "pass";
    case 1: return "fail";
    default: return "error";
    }
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = p[0] & 0x1Fu;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = p[0] & 0x0Fu;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    /* Overlong forms, surrogates, beyond U+10FFFF, and U+FFFE/U+FFFF are not XML characters. */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return n;
}

int report_put_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\t': case '\n': case '\r': break;
        default:
            if (*p < 0x20 || *p == 0x7F)
                rep = "\xEF\xBF\xBD";
        }
        if (rep) {
            if (fputs(rep, f) == EOF)
                return -1;
            p++;
            continue;
        }
        size_t n = utf8_len(p);
        if (!n) {
            if (fputs("\xEF\xBF\xBD", f) == EOF)
                return -1;
            p++;
            continue;
        }
        if (fwrite(p, 1, n, f) != n)
            return -1;
        p += n;
    }
    return 0;
}

char *report_utf8_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p);
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out)
        return NULL;
    while (*p) {
        size_t n = utf8_len(p);
        if (!n) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        } else {
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    *o = 0;
    return out;
}
