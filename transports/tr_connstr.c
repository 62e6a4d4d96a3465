/* Connection-string parsing: the SDKs' split rules, required keys, hubsim's port/CA keys, precise reasons. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transports/tr_connstr.h"

static bool copy_field(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return true;
}

static bool parse_port(const char *v, size_t n, int *out)
{
    if (n == 0 || n > 5)
        return false;
    int p = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        p = p * 10 + (v[i] - '0');
    }
    if (p < 1 || p > 65535)
        return false;
    *out = p;
    return true;
}

typedef enum { F_STR, F_PORT } field_kind_t;

typedef struct {
    const char *name;
    field_kind_t kind;
    size_t off;
    size_t cap;
} field_t;

#define STR_FIELD(n, m) { n, F_STR, offsetof(tr_connstr_t, m), sizeof(((tr_connstr_t *)0)->m) }
#define PORT_FIELD(n, m) { n, F_PORT, offsetof(tr_connstr_t, m), 0 }

static const field_t fields[] = {
    STR_FIELD("HostName", host),
    STR_FIELD("SharedAccessKeyName", key_name),
    STR_FIELD("SharedAccessKey", key),
    STR_FIELD("CaFile", ca_file),
    STR_FIELD("ConnectHost", connect_host),
    PORT_FIELD("MqttPort", mqtt_port),
    PORT_FIELD("HttpsPort", https_port),
    PORT_FIELD("AmqpPort", amqp_port),
    PORT_FIELD("AdminPort", admin_port),
};

hs_err_t tr_connstr_parse(const char *text, tr_connstr_t *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    out->mqtt_port = 8883;
    out->https_port = 443;
    out->amqp_port = 5671;
    if (!text) {
        snprintf(why, cap, "no connection string");
        return HS_EPARSE;
    }
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq && eq > p && (size_t)(eq - p) + 1 < n) {
            size_t kn = (size_t)(eq - p), vn = n - kn - 1;
            const char *v = eq + 1;
            for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
                const field_t *f = &fields[i];
                if (strlen(f->name) != kn || strncasecmp(f->name, p, kn) != 0)
                    continue;
                if (f->kind == F_STR) {
                    if (!copy_field((char *)out + f->off, f->cap, v, vn)) {
                        snprintf(why, cap, "%s: longer than %zu characters", f->name, f->cap - 1);
                        return HS_EPARSE;
                    }
                } else if (!parse_port(v, vn, (int *)(void *)((char *)out + f->off))) {
                    snprintf(why, cap, "%s: '%.*s' is not a port 1..65535", f->name, (int)(vn > 20 ? 20 : vn), v);
                    return HS_EPARSE;
                }
            }
        }
        p += n;
        if (*p == ';')
            p++;
    }
    const char *missing = !*out->host ? "HostName" : !*out->key_name ? "SharedAccessKeyName"
                          : !*out->key ? "SharedAccessKey" : NULL;
    if (missing) {
        snprintf(why, cap, "the connection string has no %s= (a service connection string: "
                 "HostName=..;SharedAccessKeyName=..;SharedAccessKey=..)", missing);
        return HS_EPARSE;
    }
    if (!*out->connect_host)
        snprintf(out->connect_host, sizeof out->connect_host, "%s", out->host);
    return HS_EOK;
}
