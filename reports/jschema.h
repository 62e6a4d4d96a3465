/* A small JSON Schema (2020-12 subset) validator for our own schemas: report.schema.json, catalogue.schema.json. */
#ifndef REPORTS_JSCHEMA_H
#define REPORTS_JSCHEMA_H

#include <jansson.h>
#include <stddef.h>
#include "sim/errors.h"

/* Supports the keywords our schemas use: type (string or array), enum,
 * const, required, properties, additionalProperties (false or a schema),
 * items, minItems, minLength, minimum, pattern (only "^[0-9]+$",
 * "^[0-9a-f]{16}$" and "^[A-Z0-9]+(-[A-Z0-9]+)+$"; others are HS_EUNSUPPORTED),
 * $ref to "#/$defs/NAME".  Unknown keywords are ignored, as the spec says;
 * anything this subset cannot decide is refused rather than passed.
 * HS_EINVAL with the instance path and the keyword in err when doc does not
 * validate. */
hs_err_t jschema_validate(const json_t *schema, const json_t *doc, char *err, size_t errcap);

#endif
