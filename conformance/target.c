/* The transport seam's shared helpers: target lookup by name, status values, received-message property lookup. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conformance/target.h"
#include "conformance/target_live.h"

/* Live targets (issue 9) are in this list; a name not here is a harness
 * error for the command (exit 3 with ERROR verdicts), not a usage error,
 * because an address that cannot be reached looks the same to a user. */
/* "live" is the table without hub-side control; a caller holding the
 * address picks the admin-API table with target_live_for_address(). */
static const target_ops_t *const targets[] = { &target_inproc, &target_live, NULL };

const target_ops_t *target_find(const char *name)
{
    for (size_t i = 0; name && targets[i]; i++)
        if (strcmp(targets[i]->name, name) == 0)
            return targets[i];
    return NULL;
}

void target_status_ok(target_status_t *st)
{
    memset(st, 0, sizeof *st);
    st->http = 200;
    snprintf(st->name, sizeof st->name, "OK");
}

void target_status_set(target_status_t *st, int http, int code, const char *name, const char *detail)
{
    memset(st, 0, sizeof *st);
    st->http = http;
    st->code = code;
    snprintf(st->name, sizeof st->name, "%s", name ? name : "");
    snprintf(st->detail, sizeof st->detail, "%s", detail ? detail : "");
}

const char *target_status_format(const target_status_t *st, char *buf, size_t cap)
{
    if (st->http >= 200 && st->http < 300 && st->code == 0)
        snprintf(buf, cap, "%d", st->http);
    else
        snprintf(buf, cap, "%d %s (%d)", st->http, st->name, st->code);
    return buf;
}

static const char *prop_find(const target_prop_t *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0)
            return p[i].value;
    return NULL;
}

const char *target_rx_sys(const target_rx_msg_t *m, const char *name)
{
    return prop_find(m->sys, m->n_sys, name);
}

const char *target_rx_app(const target_rx_msg_t *m, const char *name)
{
    return prop_find(m->app, m->n_app, name);
}

const char *target_http_header(const target_http_response_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}
