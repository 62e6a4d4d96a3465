/* Conformance cases: the case table entry, the per-case context, and the check helpers that decide a verdict. */
#ifndef CONFORMANCE_CASE_H
#define CONFORMANCE_CASE_H

/*
 * A case is a small driver of devices and service calls through the
 * transport seam (target.h), plus the literal expectations of the spec
 * sentence its rule rests on.  It never includes a hub header: every limit
 * it checks is written in the case as the number the spec states.
 *
 * Verdicts come from the check helpers: the first check that does not hold
 * decides the verdict and records expected vs observed; later checks are
 * not evaluated (each helper returns false and the case returns).  Status
 * checks compare the outcome class first (success vs refusal): a refusal
 * where success was due, or the reverse, is FAIL; a refusal with another
 * status or hub error code than the spec's is WRONG-CODE.  The runner turns
 * FAIL/WRONG-CODE of SHOULD rules, and of KNOB rules on targets whose knobs
 * are not known to be at the catalogue default, into NON-STRICT.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conformance/target.h"
#include "reports/result.h"

typedef struct conf_ctx conf_ctx_t;
typedef void (*conf_case_fn)(conf_ctx_t *c);

typedef struct {
    const char *rule;  /* catalogue rule ID */
    const char *name;  /* what the case tries: "responseTimeout 301 s refused" */
    conf_case_fn run;  /* NULL with skip */
    unsigned needs;    /* TARGET_CAP_* bits the case cannot run without */
    const char *skip;  /* non-NULL: always SKIP, with this reason */
    /* Only service-side operations decide the verdict (registry, the REST
     * request, a C2D send): the device protocol of --protocol does not
     * matter, so the case runs whatever protocol is chosen. */
    bool service_side;
} conf_case_t;

/* The case tables, each terminated by an entry with rule NULL. */
extern const conf_case_t conf_cases_methods[];
extern const conf_case_t conf_cases_messages[];
extern const conf_case_t conf_cases_c2d[];
extern const conf_case_t conf_cases_twins[];
extern const conf_case_t conf_cases_routing[];
extern const conf_case_t conf_cases_access[]; /* auth, connections, registry, hub */
extern const conf_case_t conf_cases_wire[];   /* MQTT and HTTPS wire rules (TARGET_CAP_WIRE) */
extern const conf_case_t conf_cases_wire_amqp[]; /* AMQP wire rules (TARGET_CAP_WIRE) */
extern const conf_case_t conf_cases_jobs[];      /* jobs over REST (TARGET_CAP_WIRE) */
extern const conf_case_t conf_cases_uploads[];   /* file uploads over REST and AMQP (TARGET_CAP_WIRE) */
extern const conf_case_t conf_cases_twinquery[]; /* POST /devices/query (TARGET_CAP_WIRE) */
extern const conf_case_t conf_cases_eventhubs[]; /* the Event Hubs-compatible endpoint (TARGET_CAP_WIRE) */
extern const conf_case_t conf_cases_gateways[];  /* field gateways (the optional device_connect_leaf op) */
extern const conf_case_t conf_cases_identity_io[]; /* identity import/export jobs on local folders (TARGET_CAP_WIRE) */

/* ---- what the runner sets up and reads back ------------------------------ */

#define CONF_TEXT_CAP 512

struct conf_ctx {
    const target_ops_t *ops;
    conform_target_t *t;
    target_protocol_t protocol;
    report_verdict_t verdict; /* PASS until a check decides otherwise */
    char expected[CONF_TEXT_CAP];
    char observed[CONF_TEXT_CAP];
    char message[CONF_TEXT_CAP];
};

/* ---- verdict helpers ------------------------------------------------------- */

/* Expect an operation status: http 200 (code ignored) for success, else the
 * exact status and hub error code.  `what` names the step. */
bool conf_status(conf_ctx_t *c, const target_status_t *st, int http, int code, const char *what);
/* Expect a refusal with this HTTP status, whatever the hub error code (for
 * rules whose spec sentence names no code). */
bool conf_refused(conf_ctx_t *c, const target_status_t *st, int http, const char *what);
/* Expect a method call's final answer (pending counts as a FAIL). */
bool conf_method(conf_ctx_t *c, target_call_t call, int http, int code, const char *what);
/* Expect a condition; on false the verdict is FAIL with expected/observed. */
bool conf_check(conf_ctx_t *c, bool ok, const char *expected, const char *observed_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The harness could not set the case up (not the hub's fault): ERROR. */
bool conf_error(conf_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The case does not apply to this target: SKIP. */
bool conf_skip(conf_ctx_t *c, const char *why);
/* Still PASS so far. */
bool conf_ok(const conf_ctx_t *c);

/* ---- drivers --------------------------------------------------------------- */

/* Device keys the cases register (base64 of 32 bytes). */
#define CONF_KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define CONF_KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

/* Apply hub settings (SKIP when the target cannot, ERROR when refused). */
bool conf_configure(conf_ctx_t *c, const char *hub_json);
/* Register a SAS device (module NULL) or module with CONF_KEY_A / B. */
bool conf_create(conf_ctx_t *c, const char *device_id, const char *module_id);
/* A device token for resource host/devices/{id}[/modules/{m}], signed with
 * key, expiring at expiry_unix. */
bool conf_token(conf_ctx_t *c, const char *key, const char *device_id, const char *module_id,
                int64_t expiry_unix, char *out, size_t cap);
/* Connect with a valid CONF_KEY_A token over the case protocol; st may be
 * NULL (then a refusal is ERROR). */
bool conf_connect(conf_ctx_t *c, const char *device_id, const char *module_id, target_conn_t *conn,
                  target_status_t *st);
/* conf_create + conf_connect + subscribe(subs). */
bool conf_online(conf_ctx_t *c, const char *device_id, const char *module_id, unsigned subs,
                 target_conn_t *conn);
/* Invoke with a REST body built from printf arguments. */
target_call_t conf_invoke(conf_ctx_t *c, const char *device_id, const char *module_id,
                          const char *body_fmt, ...) __attribute__((format(printf, 4, 5)));
/* Pop the next method request the connection heard (false: none). */
bool conf_next_method(conf_ctx_t *c, target_conn_t conn, target_event_t *ev);
void conf_advance(conf_ctx_t *c, sim_time_t d);
/* A message with body text and up to a few app properties "n=v" (NULL-ended). */
void conf_msg_init(target_msg_t *m, const char *body);
void conf_msg_sys(target_msg_t *m, const char *name, const char *value);
void conf_msg_app(target_msg_t *m, const char *name, const char *value);

#endif
