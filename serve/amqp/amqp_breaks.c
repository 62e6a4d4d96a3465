/* The AMQP break-switch table and its lookup by name. */
#include "serve/amqp/amqp_breaks.h"

#include <strings.h>

static const amqp_break_info_t break_table[] = {
#define AMQP_BREAK_ROW(e, name, rule, what) { AMQP_BREAK_##e, name, rule, what },
    AMQP_BREAK_MAP(AMQP_BREAK_ROW)
#undef AMQP_BREAK_ROW
};

unsigned amqp_break_lookup(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof break_table / sizeof break_table[0]; i++)
        if (strcasecmp(break_table[i].name, name) == 0)
            return break_table[i].mask;
    return 0;
}

const amqp_break_info_t *amqp_break_at(size_t i)
{
    return i < sizeof break_table / sizeof break_table[0] ? &break_table[i] : NULL;
}
