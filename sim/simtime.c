/* Duration and UTC parsing/formatting in pure integer arithmetic (no libc time zone or clock). */
#include "simtime.h"

#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static const struct { const char *suffix; sim_time_t unit; } duration_units[] = {
    { "ns", SIM_NS }, { "us", SIM_US }, { "ms", SIM_MS }, { "s", SIM_SEC },
    { "m", SIM_MIN }, { "h", SIM_HOUR }, { "d", 24 * SIM_HOUR },
};

hs_err_t sim_duration_parse(const char *text, sim_time_t *out)
{
    if (!text || !*text)
        return HS_EPARSE;
    sim_time_t total = 0;
    const char *p = text;
    while (*p) {
        uint64_t whole = 0, frac = 0, frac_scale = 1;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (whole > (UINT64_MAX - 9) / 10)
                return HS_ERANGE;
            whole = whole * 10 + (uint64_t)(*p++ - '0');
            digits++;
        }
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9') {
                if (frac_scale < 1000000000ULL) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    frac_scale *= 10;
                }
                p++;
                digits++;
            }
        }
        if (!digits)
            return HS_EPARSE;
        sim_time_t unit = SIM_SEC;
        size_t best = 0;
        for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
            size_t n = strlen(duration_units[i].suffix);
            if (n > best && strncmp(p, duration_units[i].suffix, n) == 0) {
                best = n;
                unit = duration_units[i].unit;
            }
        }
        if (best == 0 && *p)
            return HS_EPARSE;
        p += best;
        if (whole > UINT64_MAX / unit)
            return HS_ERANGE;
        sim_time_t part = whole * unit + (frac * unit) / frac_scale;
        if (total > UINT64_MAX - part)
            return HS_ERANGE;
        total += part;
        if (best == 0)
            break;
    }
    *out = total;
    return HS_EOK;
}

size_t sim_duration_format(sim_time_t d, char *buf, size_t cap)
{
    uint64_t h = d / SIM_HOUR, m = (d % SIM_HOUR) / SIM_MIN;
    uint64_t s = (d % SIM_MIN) / SIM_SEC, ns = d % SIM_SEC;
    int n = 0;
    if (d < SIM_SEC) {
        if (d % SIM_MS == 0)
            n = snprintf(buf, cap, "%llums", (unsigned long long)(d / SIM_MS));
        else if (d % SIM_US == 0)
            n = snprintf(buf, cap, "%lluus", (unsigned long long)(d / SIM_US));
        else
            n = snprintf(buf, cap, "%lluns", (unsigned long long)d);
    } else {
        char frac[16] = "";
        if (ns) {
            snprintf(frac, sizeof frac, ".%09llu", (unsigned long long)ns);
            size_t len = strlen(frac);
            while (len > 1 && frac[len - 1] == '0')
                frac[--len] = 0;
        }
        if (h)
            n = snprintf(buf, cap, "%lluh%llum%llu%ss", (unsigned long long)h,
                         (unsigned long long)m, (unsigned long long)s, frac);
        else if (m)
            n = snprintf(buf, cap, "%llum%llu%ss", (unsigned long long)m,
                         (unsigned long long)s, frac);
        else
            n = snprintf(buf, cap, "%llu%ss", (unsigned long long)s, frac);
    }
    return n < 0 ? 0 : (size_t)n;
}

static int read_digits(const char **p, int count, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < count; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return 0;
        v = v * 10 + (unsigned)((*p)[i] - '0');
    }
    *p += count;
    *out = v;
    return 1;
}

hs_err_t sim_utc_parse(const char *text, int64_t *unix_sec_out, uint32_t *nanos_out)
{
    const char *p = text;
    unsigned y, mo, d, h, mi, s;
    if (!text || !read_digits(&p, 4, &y) || *p++ != '-' || !read_digits(&p, 2, &mo) ||
        *p++ != '-' || !read_digits(&p, 2, &d) || (*p != 'T' && *p != 't') ||
        (p++, !read_digits(&p, 2, &h)) || *p++ != ':' || !read_digits(&p, 2, &mi) ||
        *p++ != ':' || !read_digits(&p, 2, &s))
        return HS_EPARSE;
    uint32_t nanos = 0;
    if (*p == '.') {
        p++;
        uint32_t scale = 100000000;
        int any = 0;
        while (*p >= '0' && *p <= '9') {
            nanos += (uint32_t)(*p - '0') * scale;
            scale /= 10;
            p++;
            any = 1;
        }
        if (!any)
            return HS_EPARSE;
    }
    if ((*p != 'Z' && *p != 'z') || p[1])
        return HS_EPARSE;
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return HS_ERANGE;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return HS_ERANGE;
    *unix_sec_out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    if (nanos_out)
        *nanos_out = nanos;
    return HS_EOK;
}

static char *put_digits(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* Formatted by hand: this runs for every stamped message, and snprintf's
 * format parsing dominated the hub's D2C path in profiles. */
size_t sim_utc_format(int64_t epoch_unix, sim_time_t t, char *buf, size_t cap)
{
    int64_t secs = epoch_unix + (int64_t)(t / SIM_SEC);
    uint64_t ticks = (t % SIM_SEC) / 100; /* 100 ns ticks, 7 digits */
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999 || cap < 29) {
        int n = snprintf(buf, cap, "%04lld-%02u-%02uT%02u:%02u:%02u.%07lluZ", (long long)y, m, d,
                         (unsigned)(rem / 3600), (unsigned)(rem % 3600 / 60), (unsigned)(rem % 60),
                         (unsigned long long)ticks);
        return n < 0 ? 0 : (size_t)n;
    }
    char *p = buf;
    p = put_digits(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, (uint64_t)(rem / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(rem % 3600 / 60), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(rem % 60), 2);
    *p++ = '.';
    p = put_digits(p, ticks, 7);
    *p++ = 'Z';
    *p = 0;
    return (size_t)(p - buf);
}
