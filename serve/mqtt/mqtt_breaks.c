/* The MQTT session's break-switch table and counter names. */
#include <string.h>
#include "mqtt_session.h"

static const mqtt_break_info_t breaks[] = {
#define MQTT_BREAK_ROW(e, name, rule, text) { name, MQTT_BREAK_##e, rule, text },
    MQTT_BREAK_MAP(MQTT_BREAK_ROW)
#undef MQTT_BREAK_ROW
};

unsigned mqtt_break_lookup(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < MQTT_BREAK__COUNT; i++)
        if (strcmp(breaks[i].name, name) == 0)
            return breaks[i].flag;
    return 0;
}

const mqtt_break_info_t *mqtt_break_at(size_t i)
{
    return i < MQTT_BREAK__COUNT ? &breaks[i] : NULL;
}

static const char *const stat_names[] = {
#define MQTT_STAT_NAME(e, name) name,
    MQTT_STAT_MAP(MQTT_STAT_NAME)
#undef MQTT_STAT_NAME
};

const char *mqtt_stat_name(size_t i)
{
    return i < MQTT_STAT__COUNT ? stat_names[i] : NULL;
}
