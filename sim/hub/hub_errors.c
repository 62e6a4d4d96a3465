/* The hub error table's rows, indexed by hub_err_t. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
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

int hub_error_by_code(int code)
{
    for (int i = 0; i < (int)HUB_E__COUNT; i++)
        if (hub_error_rows[i].code == code)
            return i;
    return -1;
}

int hub_error_by_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)HUB_E__COUNT; i++)
        if (strcasecmp(hub_error_rows[i].name, name) == 0)
            return i;
    return -1;
}

size_t hub_error_body(hub_err_t err, const char *detail, char *buf, size_t cap)
{
    const hub_error_info_t *e = hub_error_info(err);
    char msg[512];
    snprintf(msg, sizeof msg, "ErrorCode:%s;%s%s%s", e->name, e->message, detail ? " " : "",
             detail ? detail : "");
    /* jansson does the escaping; the key order is fixed by insertion. */
    json_t *o = json_pack("{s:s, s:s}", "Message", msg, "ExceptionMessage", e->message);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    size_t n = text ? strlen(text) : 0;
    if (cap) {
        size_t k = n < cap ? n : cap - 1;
        if (text)
            memcpy(buf, text, k);
        buf[k] = '\0';
    }
    free(text);
    return n;
}
