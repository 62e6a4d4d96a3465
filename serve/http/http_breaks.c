/* The REST API's wire breaks by name: what a conformance case arms to prove that its wire rule's check can fail. */
#include <string.h>
#include "http_api.h"

typedef struct {
    const char *name;
    const char *what;
} http_break_row_t;

static const http_break_row_t http_break_rows[] = {
#define HTTP_BREAK_ROW(e, name, what) { name, what },
    HTTP_BREAK_MAP(HTTP_BREAK_ROW)
#undef HTTP_BREAK_ROW
};

unsigned http_break_lookup(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < HTTP_BREAK__COUNT; i++)
        if (strcmp(http_break_rows[i].name, name) == 0)
            return 1u << i;
    return 0;
}

const char *http_break_name(size_t i)
{
    return i < HTTP_BREAK__COUNT ? http_break_rows[i].name : NULL;
}

const char *http_break_description(size_t i)
{
    return i < HTTP_BREAK__COUNT ? http_break_rows[i].what : NULL;
}
