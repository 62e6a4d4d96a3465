/* `serve --check-clients`: the device-side rule violations the sessions observed, kept per CLIENT- rule and written as a conformance report on exit. */
#ifndef SERVE_CLIENT_CHECKS_H
#define SERVE_CLIENT_CHECKS_H

#include <jansson.h>
#include <stddef.h>
#include "conformance/catalogue.h"
#include "reports/result.h"
#include "serve/wire.h"

typedef struct client_checks client_checks_t;

/* cat: the catalogue whose CLIENT-* rules (area "client") make the report's
 * cases; borrowed, must outlive the checker. */
client_checks_t *client_checks_new(const catalogue_t *cat);
void client_checks_free(client_checks_t *cc);
/* The observer table sessions report to (ctx = the checker). */
const wire_observer_ops_t *client_checks_observer(void);
/* Record one violation directly (carrier-level rules such as reconnect
 * storms).  Unknown rule ids are recorded too and reported as ERROR cases,
 * so a session that names a rule the catalogue lacks cannot go unnoticed. */
void client_checks_record(client_checks_t *cc, const char *rule_id, const char *identity,
                          const char *detail);
size_t client_checks_total(const client_checks_t *cc);
/* GET /violations on the admin API: {"total":N,"rules":{ID:[{identity,detail},...]}} */
json_t *client_checks_json(const client_checks_t *cc);
/* One case per CLIENT- rule: PASS with no violation, FAIL listing the first
 * few otherwise.  The caller owns the result. */
report_result_t *client_checks_report(const client_checks_t *cc, const char *target);

#endif
