/* The rule catalogue: loads conformance/catalogue.json (data, not code) and answers lookups by rule ID. */
#ifndef CONFORMANCE_CATALOGUE_H
#define CONFORMANCE_CATALOGUE_H

#include <stddef.h>
#include "sim/errors.h"

typedef enum { CATALOGUE_MUST, CATALOGUE_SHOULD, CATALOGUE_KNOB } catalogue_level_t;

/* Protocol bits of catalogue_rule_t.protocols. */
enum { CATALOGUE_PROTO_MQTT = 1u, CATALOGUE_PROTO_AMQP = 2u, CATALOGUE_PROTO_HTTPS = 4u };

/* One rule.  Every string is owned by the catalogue and lives as long as it;
 * section, confidence and the knob fields are NULL when absent. */
typedef struct {
    const char *id;         /* stable, never reused: "METHOD-TIMEOUT-RANGE" */
    const char *area;       /* methods, messages, c2d, twins, routing, auth, connections, registry, hub */
    catalogue_level_t level;
    const char *level_name; /* "MUST", "SHOULD", "KNOB" */
    const char *doc;        /* spec document: "direct-methods.txt", ..., "NOTES.md" */
    const char *section;    /* section of that document */
    const char *confidence; /* NOTES.md mark: "doc", "sdk", "edge", "?" (NULL for the .txt specs) */
    const char *text;       /* the sentence the rule rests on, in our own words */
    unsigned protocols;     /* CATALOGUE_PROTO_* bits */
    const char *knob_name;  /* KNOB rules: the hub knob and its default */
    const char *knob_default;
} catalogue_rule_t;

typedef struct catalogue catalogue_t;

/* Parse a catalogue.  On failure *out is NULL and err (if given) holds one
 * line naming the origin, the JSON path and what was expected.  Errors:
 * HS_EIO (unreadable file), HS_EPARSE (not JSON), HS_EINVAL (JSON that breaks
 * a catalogue rule: missing member, unknown area, duplicate or retired ID). */
hs_err_t catalogue_load_file(const char *path, catalogue_t **out, char *err, size_t errcap);
hs_err_t catalogue_load_string(const char *text, const char *origin, catalogue_t **out, char *err,
                               size_t errcap);
/* Where the shipped catalogue is looked for, first hit wins:
 * $HUBSIM_CATALOGUE, the source tree this binary was built from,
 * <exe dir>/../share/hubsim/catalogue.json.  Fills buf with the path chosen
 * (or the last tried); HS_ENOTFOUND when none exists. */
hs_err_t catalogue_default_path(char *buf, size_t cap);
hs_err_t catalogue_load_default(catalogue_t **out, char *err, size_t errcap);
void catalogue_free(catalogue_t *cat);

int catalogue_version(const catalogue_t *cat);
/* Rules in file order (the curated order: grouped by area). */
size_t catalogue_count(const catalogue_t *cat);
const catalogue_rule_t *catalogue_rule_at(const catalogue_t *cat, size_t i);
/* NULL when the ID is unknown (exact, case-sensitive match). */
const catalogue_rule_t *catalogue_find(const catalogue_t *cat, const char *id);
/* 1 when the ID was used by a rule that has been withdrawn. */
int catalogue_is_retired(const catalogue_t *cat, const char *id);
/* Areas in catalogue order; catalogue_has_area says whether a name is one. */
size_t catalogue_area_count(const catalogue_t *cat);
const char *catalogue_area_at(const catalogue_t *cat, size_t i);
int catalogue_has_area(const catalogue_t *cat, const char *area);
/* "direct-methods.txt, Method invocation (timeouts)" or "NOTES.md [?], Twins":
 * the spec reference a report prints for a rule. */
const char *catalogue_spec_ref(const catalogue_rule_t *rule, char *buf, size_t cap);
/* "mqtt,amqp,https" style list of a protocol mask into buf. */
const char *catalogue_protocols_format(unsigned protocols, char *buf, size_t cap);

#endif
