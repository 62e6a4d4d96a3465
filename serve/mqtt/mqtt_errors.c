/* Messages and names for the MQTT error table. */
#include "mqtt_errors.h"

static const char *const mqtt_messages[] = {
#define MQTT_ERR_MSG(name, msg) msg,
    MQTT_ERROR_MAP(MQTT_ERR_MSG)
#undef MQTT_ERR_MSG
};

static const char *const mqtt_names[] = {
#define MQTT_ERR_NAME(name, msg) #name,
    MQTT_ERROR_MAP(MQTT_ERR_NAME)
#undef MQTT_ERR_NAME
};

const char *mqtt_strerror(mqtt_err_t err)
{
    if ((unsigned)err >= (unsigned)MQTT_E__COUNT)
        return "unknown error";
    return mqtt_messages[err];
}

const char *mqtt_err_name(mqtt_err_t err)
{
    if ((unsigned)err >= (unsigned)MQTT_E__COUNT)
        return "UNKNOWN";
    return mqtt_names[err];
}
