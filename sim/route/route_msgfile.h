/* Loading a message in the JSON form of routing-query.txt ({"systemProperties","appProperties","body"|"bodyBase64"}) into a route_message_t. */
#ifndef ROUTE_MSGFILE_H
#define ROUTE_MSGFILE_H

#include <jansson.h>

#include "route_query.h"
#include "sim/errors.h"

typedef struct route_msgfile route_msgfile_t;

/* doc: {"systemProperties":{name:value},"appProperties":{name:value},
 * "body":"<text>" | "bodyBase64":"<base64>"} (optionally wrapped in
 * {"message":{...}}).  System property keys are query names or their wire
 * aliases (route_sysprop_lookup); numbers and Booleans are kept as their JSON
 * text; an app property value null is a null-valued property.  twin (may be
 * NULL) is borrowed by the view (incref'd and released with the file). */
hs_err_t route_msgfile_load(const json_t *doc, const json_t *twin, route_msgfile_t **out, char *err,
                            size_t cap);
route_message_t *route_msgfile_view(route_msgfile_t *mf);
void route_msgfile_free(route_msgfile_t *mf);

/* Standard base64 (padding optional, whitespace ignored) into a malloc'd buffer. */
hs_err_t route_base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

#endif
