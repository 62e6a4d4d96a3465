/* Break switches: named mutations that make the hub model violate exactly one rule (for the kill matrix). */
#ifndef HUB_FAULTS_H
#define HUB_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"

/* X(ENUM, "switch-name", "RULE-ID", "what the broken hub does").
 * A switch name is the rule ID it breaks, or the rule ID plus ":off-by-one"
 * for the mutant that moves a numeric limit by one unit.  Each switch is
 * consulted in the hub's own code path that implements the rule, never next
 * to a test's check.  The catalogue aligns its rule IDs to this column. */
#define HUB_FAULT_MAP(X)                                                                          \
    X(METHOD_404_UNKNOWN, "METHOD-404-UNKNOWN", "METHOD-404-UNKNOWN",                              \
      "a method call to an unregistered device is answered 404103 DeviceNotOnline")                \
    X(METHOD_404_OFFLINE, "METHOD-404-OFFLINE", "METHOD-404-OFFLINE",                              \
      "a method call to a registered offline device is answered 404001 DeviceNotFound")            \
    X(METHOD_404_UNSUBSCRIBED, "METHOD-404-OFFLINE:unsubscribed", "METHOD-404-OFFLINE",            \
      "a connected device that never subscribed to methods counts as online")                      \
    X(METHOD_CONNECT_WINDOW, "METHOD-CONNECT-TIMEOUT-WINDOW", "METHOD-CONNECT-TIMEOUT-WINDOW",     \
      "a device coming online inside connectTimeout does not get the pending call")                \
    X(METHOD_CONNECT_WINDOW_OBO, "METHOD-CONNECT-TIMEOUT-WINDOW:off-by-one",                       \
      "METHOD-CONNECT-TIMEOUT-WINDOW", "the connect window lasts one second longer")               \
    X(METHOD_504, "METHOD-504-TIMEOUT", "METHOD-504-TIMEOUT",                                      \
      "a response timeout is answered 404103 instead of 504101")                                   \
    X(METHOD_504_OBO, "METHOD-504-TIMEOUT:off-by-one", "METHOD-504-TIMEOUT",                       \
      "the response deadline falls one second late")                                               \
    X(METHOD_TIMEOUT_RANGE, "METHOD-TIMEOUT-RANGE", "METHOD-TIMEOUT-RANGE",                        \
      "any integer timeout is accepted")                                                           \
    X(METHOD_TIMEOUT_RANGE_OBO, "METHOD-TIMEOUT-RANGE:off-by-one", "METHOD-TIMEOUT-RANGE",         \
      "responseTimeout 4 and 301 and connectTimeout 301 are accepted")                             \
    X(METHOD_TIMEOUT_DEFAULT, "METHOD-TIMEOUT-DEFAULT", "METHOD-TIMEOUT-DEFAULT",                  \
      "an absent responseTimeoutInSeconds defaults to 60 s instead of 30 s")                       \
    X(METHOD_PAYLOAD_LIMIT, "METHOD-PAYLOAD-LIMIT", "METHOD-PAYLOAD-LIMIT",                        \
      "method payloads of any size are accepted")                                                  \
    X(METHOD_PAYLOAD_LIMIT_OBO, "METHOD-PAYLOAD-LIMIT:off-by-one", "METHOD-PAYLOAD-LIMIT",         \
      "a payload of exactly 128 KB is rejected")                                                   \
    X(METHOD_NAME_CHARSET, "METHOD-NAME-CHARSET", "METHOD-NAME-CHARSET",                           \
      "method names with forbidden characters are accepted")                                       \
    X(METHOD_NAME_LENGTH_OBO, "METHOD-NAME-LENGTH:off-by-one", "METHOD-NAME-LENGTH",               \
      "a method name one character over the length limit is accepted")                             \
    X(METHOD_LATE_RESPONSE, "METHOD-LATE-RESPONSE", "METHOD-LATE-RESPONSE",                        \
      "a response after the 504 completes the call a second time with 200")                        \
    X(METHOD_UNKNOWN_RID, "METHOD-UNKNOWN-RID", "METHOD-UNKNOWN-RID",                              \
      "a response with an unknown request id closes the device connection")                        \
    X(METHOD_PASSTHROUGH, "METHOD-RESPONSE-PASSTHROUGH", "METHOD-RESPONSE-PASSTHROUGH",            \
      "the device's status is replaced by 200 in the service response")                            \
    X(METHOD_RID_HEX, "METHOD-RID-HEX", "METHOD-RID-HEX",                                          \
      "request ids are sent as decimal text with a 'r' prefix")                                    \
    X(METHOD_CONCURRENT, "METHOD-CONCURRENT", "METHOD-CONCURRENT",                                 \
      "a second call to a device with a call in progress is rejected 429")                         \
    X(METHOD_MODULE, "METHOD-MODULE", "METHOD-MODULE",                                             \
      "a method call to a registered module is answered 404010 ModuleNotFound")                    \
    X(AUTH_SAS, "AUTH-SAS", "AUTH-SAS",                                                            \
      "a token that does not parse as a SAS token is accepted")                                    \
    X(AUTH_SAS_EXPIRED, "AUTH-SAS-EXPIRED", "AUTH-SAS-EXPIRED",                                    \
      "expired SAS tokens are accepted")                                                           \
    X(AUTH_SAS_EXPIRED_OBO, "AUTH-SAS-EXPIRED:off-by-one", "AUTH-SAS-EXPIRED",                     \
      "a SAS token is still accepted in the second of its expiry (se)")                            \
    X(AUTH_SAS_SIGNATURE, "AUTH-SAS-SIGNATURE", "AUTH-SAS-SIGNATURE",                              \
      "SAS signatures are not verified")                                                           \
    X(AUTH_SAS_SCOPE, "AUTH-SAS-SCOPE", "AUTH-SAS-SCOPE",                                          \
      "the token's sr scope is not compared with the connecting identity")                         \
    X(AUTH_X509_THUMBPRINT, "AUTH-X509-THUMBPRINT", "AUTH-X509-THUMBPRINT",                        \
      "any X.509 thumbprint is accepted for a CA-less self-signed identity")                       \
    X(AUTH_DISABLED, "AUTH-DISABLED-DEVICE", "AUTH-DISABLED-DEVICE",                               \
      "a disabled device can connect and stays connected when disabled")                           \
    X(CONN_SECOND_DROPS_FIRST, "CONN-SECOND-DROPS-FIRST", "CONN-SECOND-DROPS-FIRST",               \
      "a second connection for the same identity leaves the first one open")                       \
    X(REGISTRY_DEVICE_ID, "REGISTRY-DEVICE-ID", "REGISTRY-DEVICE-ID",                              \
      "device and module ids with forbidden characters are accepted")                              \
    X(REGISTRY_DEVICE_ID_OBO, "REGISTRY-DEVICE-ID:off-by-one", "REGISTRY-DEVICE-ID",               \
      "device and module ids of 129 characters are accepted")                                      \
    X(REGISTRY_ETAG, "REGISTRY-ETAG", "REGISTRY-ETAG",                                             \
      "an identity's etag does not change on update")                                              \
    X(REGISTRY_GENERATION_ID, "REGISTRY-GENERATION-ID", "REGISTRY-GENERATION-ID",                  \
      "a device re-created after delete gets its old generationId back")                           \
    X(HUB_IF_MATCH, "HUB-IF-MATCH", "HUB-IF-MATCH",                                                \
      "registry updates and deletes ignore a mismatching If-Match etag")                           \
    X(MSG_SIZE_LIMIT, "MSG-SIZE-LIMIT", "MSG-SIZE-LIMIT",                                          \
      "device-to-cloud messages of any size are accepted")                                         \
    X(MSG_SIZE_LIMIT_OBO, "MSG-SIZE-LIMIT:off-by-one", "MSG-SIZE-LIMIT",                           \
      "a device-to-cloud message of exactly 256 KB is rejected")                                   \
    X(MSG_ANTISPOOF, "MSG-ANTISPOOF", "MSG-ANTISPOOF",                                             \
      "a device-set ConnectionDeviceId survives instead of the hub's stamp")                       \
    X(MSG_PROP_CHARSET, "MSG-PROP-CHARSET", "MSG-PROP-CHARSET",                                    \
      "property names and values outside the allowed set are accepted")                            \
    X(MSG_MESSAGEID, "MSG-MESSAGEID", "MSG-MESSAGEID",                                             \
      "MessageIds outside the allowed set or length are accepted")                                 \
    X(MSG_MESSAGEID_OBO, "MSG-MESSAGEID:off-by-one", "MSG-MESSAGEID",                              \
      "a device-to-cloud MessageId of 129 characters is accepted")                                 \
    X(MSG_SIZE_ACCOUNTING, "MSG-SIZE-ACCOUNTING", "MSG-SIZE-ACCOUNTING",                           \
      "only the body counts toward the device-to-cloud size limit, not the properties")            \
    X(MSG_ENQUEUED_TIME, "MSG-ENQUEUED-TIME", "MSG-ENQUEUED-TIME",                                 \
      "device-to-cloud messages are stamped one second after they were accepted")                  \
    X(C2D_QUEUE_DEPTH, "C2D-QUEUE-DEPTH", "C2D-QUEUE-DEPTH",                                       \
      "the per-device cloud-to-device queue never fills")                                          \
    X(C2D_QUEUE_DEPTH_OBO, "C2D-QUEUE-DEPTH:off-by-one", "C2D-QUEUE-DEPTH",                        \
      "a 51st message is accepted into the cloud-to-device queue")                                 \
    X(C2D_SIZE_LIMIT, "C2D-SIZE-LIMIT", "C2D-SIZE-LIMIT",                                          \
      "cloud-to-device messages of any size are accepted")                                         \
    X(C2D_SIZE_LIMIT_OBO, "C2D-SIZE-LIMIT:off-by-one", "C2D-SIZE-LIMIT",                           \
      "a cloud-to-device message of exactly 64 KB is refused")                                     \
    X(C2D_TTL, "C2D-TTL", "C2D-TTL",                                                              \
      "messages without an explicit TTL live 48 h instead of 1 h")                                 \
    X(C2D_TTL_OBO, "C2D-TTL:off-by-one", "C2D-TTL",                                                \
      "messages expire one second after their TTL")                                                \
    X(C2D_LOCK, "C2D-LOCK", "C2D-LOCK",                                                            \
      "a received message stays locked for 2 min instead of 1 min")                                \
    X(C2D_LOCK_OBO, "C2D-LOCK:off-by-one", "C2D-LOCK",                                             \
      "a received message stays locked one second longer than 1 min")                              \
    X(C2D_DELIVERY_COUNT, "C2D-DELIVERY-COUNT", "C2D-DELIVERY-COUNT",                              \
      "messages are delivered up to 100 times before dead-lettering")                              \
    X(C2D_DELIVERY_COUNT_OBO, "C2D-DELIVERY-COUNT:off-by-one", "C2D-DELIVERY-COUNT",               \
      "messages are dead-lettered after 11 deliveries instead of 10")                              \
    X(C2D_SETTLE, "C2D-SETTLE", "C2D-SETTLE",                                                      \
      "a reject completes the message instead of dead-lettering it")                               \
    X(C2D_FEEDBACK, "C2D-FEEDBACK", "C2D-FEEDBACK",                                                \
      "feedback batches are made but never delivered to the service")                              \
    X(C2D_FEEDBACK_BATCH, "C2D-FEEDBACK-BATCH", "C2D-FEEDBACK-BATCH",                              \
      "a partial feedback batch is flushed after 30 s instead of 15 s")                            \
    X(C2D_FEEDBACK_BATCH_OBO, "C2D-FEEDBACK-BATCH:off-by-one", "C2D-FEEDBACK-BATCH",               \
      "a feedback message holds up to 65 records")                                                 \
    X(TWIN_VERSION, "TWIN-VERSION", "TWIN-VERSION",                                                \
      "a reported-property change does not bump the reported $version")                           \
    X(TWIN_PATCH_MERGE, "TWIN-PATCH-MERGE", "TWIN-PATCH-MERGE",                                    \
      "a null member in a twin patch leaves the member in place")                                  \
    X(TWIN_SIZE_LIMIT, "TWIN-SIZE-LIMIT", "TWIN-SIZE-LIMIT",                                       \
      "twin sections of any size are accepted")                                                    \
    X(TWIN_SIZE_LIMIT_OBO, "TWIN-SIZE-LIMIT:off-by-one", "TWIN-SIZE-LIMIT",                        \
      "each twin section accepts one byte over its limit (8193 bytes of tags)")                    \
    X(TWIN_DEPTH_LIMIT, "TWIN-DEPTH-LIMIT", "TWIN-DEPTH-LIMIT",                                    \
      "twin documents of any nesting depth are accepted")                                          \
    X(TWIN_DEPTH_LIMIT_OBO, "TWIN-DEPTH-LIMIT:off-by-one", "TWIN-DEPTH-LIMIT",                     \
      "twin documents nested 11 levels deep are accepted")                                         \
    X(TWIN_KEY_RULES, "TWIN-KEY-RULES", "TWIN-KEY-RULES",                                          \
      "twin keys containing '.', '$' or a space are accepted")                                     \
    X(TWIN_KEY_RULES_OBO, "TWIN-KEY-RULES:off-by-one", "TWIN-KEY-RULES",                           \
      "twin keys of 1025 bytes and string values of 4097 bytes are accepted")                      \
    X(TWIN_METADATA, "TWIN-METADATA", "TWIN-METADATA",                                             \
      "$lastUpdated is stamped one second after the change")                                       \
    X(TWIN_IF_MATCH, "TWIN-IF-MATCH", "TWIN-IF-MATCH",                                             \
      "service twin patches ignore a mismatching If-Match etag")                                   \
    X(TWIN_DESIRED_PUSH, "TWIN-DESIRED-PUSH", "TWIN-DESIRED-PUSH",                                 \
      "desired-property updates are not pushed to subscribed devices")                             \
    X(ROUTE_DEDUP, "ROUTE-DEDUP", "ROUTE-DEDUP",                                                   \
      "a message is delivered once per matching route, not once per endpoint")                     \
    X(ROUTE_FALLBACK, "ROUTE-FALLBACK", "ROUTE-FALLBACK",                                          \
      "device messages also go to the fallback endpoint when a route matched")                     \
    X(ROUTE_SYSPROP, "ROUTE-SYSPROP", "ROUTE-SYSPROP",                                             \
      "a bare $name is resolved as an application property first")                                 \
    X(ROUTE_BODY_GATING, "ROUTE-BODY-GATING", "ROUTE-BODY-GATING",                                 \
      "$body is queried whatever the message's content type")                                      \
    X(ROUTE_CASE_INSENSITIVE, "ROUTE-CASE-INSENSITIVE", "ROUTE-CASE-INSENSITIVE",                  \
      "application property names in queries compare case-sensitively")                            \
    X(ROUTE_THREE_VALUED, "ROUTE-THREE-VALUED", "ROUTE-THREE-VALUED",                              \
      "NOT of an undefined operand is true")                                                       \
    X(ROUTE_BODY_WHOLE, "ROUTE-BODY-WHOLE", "ROUTE-BODY-WHOLE",                                    \
      "$body[0] indexes a JSON array body instead of being undefined")                             \
    X(ROUTE_PERIOD_NAMES, "ROUTE-PERIOD-NAMES", "ROUTE-PERIOD-NAMES",                              \
      "$body.a.b also finds a body member named \"a.b\"")                                          \
    X(ROUTE_TWIN_REF, "ROUTE-TWIN-REF", "ROUTE-TWIN-REF",                                          \
      "$twin paths in route queries are never resolved")                                           \
    X(ROUTE_FUNCTIONS, "ROUTE-FUNCTIONS", "ROUTE-FUNCTIONS",                                       \
      "the ABS query function returns its argument unchanged")                                     \
    X(ROUTE_TYPE_FUNCTIONS, "ROUTE-TYPE-FUNCTIONS", "ROUTE-TYPE-FUNCTIONS",                        \
      "the extended type function IS_ARRAY answers false for arrays")                            \
    X(ROUTE_TWIN_CHANGE_EVENT, "ROUTE-TWIN-CHANGE-EVENT", "ROUTE-TWIN-CHANGE-EVENT",               \
      "twin change events of a patch say opType replaceTwin (and of a replace, updateTwin)")       \
    X(ROUTE_LIFECYCLE_EVENT, "ROUTE-LIFECYCLE-EVENT", "ROUTE-LIFECYCLE-EVENT",                     \
      "the lifecycle event of a delete says opType createDeviceIdentity")                          \
    X(ROUTE_QUERY_TRUE, "ROUTE-QUERY-TRUE", "ROUTE-QUERY-TRUE",                                    \
      "a route whose condition is undefined routes as if it were true")                            \
    X(HUB_ARGUMENT_INVALID, "HUB-ARGUMENT-INVALID", "HUB-ARGUMENT-INVALID",                        \
      "a fractional method timeout is truncated and the call processed")                           \
    X(HUB_DAILY_QUOTA, "HUB-DAILY-QUOTA", "HUB-DAILY-QUOTA",                                       \
      "the daily message quota is never enforced")                                                 \
    X(HUB_DAILY_QUOTA_OBO, "HUB-DAILY-QUOTA:off-by-one", "HUB-DAILY-QUOTA",                        \
      "the daily quota admits one message unit more than its figure")                              \
    X(METHOD_RESPONSE_LIMIT, "METHOD-RESPONSE-LIMIT", "METHOD-RESPONSE-LIMIT",                     \
      "an oversized device response is refused 413 although the knob says 400")                    \
    X(METHOD_RESPONSE_LIMIT_OBO, "METHOD-RESPONSE-LIMIT:off-by-one", "METHOD-RESPONSE-LIMIT",       \
      "a device response of 128 KB + 1 byte is accepted")                                          \
    X(REGISTRY_CRUD, "REGISTRY-CRUD", "REGISTRY-CRUD",                                             \
      "creating an identity that exists is refused 400 ArgumentInvalid instead of 409")            \
    X(HUB_THROTTLE, "HUB-THROTTLE", "HUB-THROTTLE",                                                \
      "the s1 throttling profile never throttles")                                                 \
    X(HUB_THROTTLE_OBO, "HUB-THROTTLE:off-by-one", "HUB-THROTTLE",                                 \
      "the s1 profile admits one operation more per bucket than its figure")                       \
    X(LEDGER_LOSE_ONE, "LEDGER-LOSE-ONE", "HUB-CONSERVATION",                                      \
      "one accepted device-to-cloud message is silently lost (proves the conservation check)")

/* Staged switches (issue 10): armed by name like the others (hub_break,
 * hubsim serve --break, hubsim conform --break) and proven by the kill
 * matrix (conformance/switches.c lists every staged switch), but outside
 * HUB_FAULT_MAP because the hub-core battery (tests/unit/test_hub_kill.c),
 * the consulted-file check (test_hub_faults.c) and docs/hub-model.md cover
 * that map only.  Where each is consulted: field gateways in gateways.c,
 * import/export in identity_io.c, jobs in jobs.c (JOB-NOT-FOUND in
 * serve/http/http_jobs.c), uploads in uploads.c, twin queries in
 * sim/route/twin_query.c (the language; armed through
 * twin_query_compile_broken) and serve/http/http_query.c (collections,
 * paging, errors), the Event Hubs-compatible endpoint in
 * serve/amqp/feeds.c.  docs/conformance.md lists them.  Moving a row into
 * HUB_FAULT_MAP means a battery line in test_hub_kill.c and a row in
 * docs/hub-model.md. */
#define HUB_FAULT_STAGED_MAP(X)                                                                   \
    X(GATEWAY_LEAF_OFFLINE, "GATEWAY-LEAF-OFFLINE", "GATEWAY-LEAF-OFFLINE",                        \
      "leaf sub-connections stay online when their gateway's connection goes away")                \
    X(GATEWAY_SCOPE, "GATEWAY-SCOPE", "GATEWAY-SCOPE",                                             \
      "a leaf whose deviceScope does not name the gateway is accepted on its connection")          \
    X(GATEWAY_EDGE_ONLY, "GATEWAY-EDGE-ONLY", "GATEWAY-EDGE-ONLY",                                 \
      "a device that is not an IoT Edge device can carry leaf sub-connections")                    \
    X(GATEWAY_C2D_QUEUE, "GATEWAY-LEAF-C2D-QUEUE", "GATEWAY-LEAF-C2D-QUEUE",                       \
      "C2D messages queued for a leaf are purged when its gateway goes offline")                   \
    X(GATEWAY_SCOPE_REGISTRY, "GATEWAY-SCOPE-REGISTRY", "GATEWAY-SCOPE-REGISTRY",                  \
      "a device can name a parent that is not an IoT Edge device")                                \
    X(IDENTITY_EXPORT_ALL, "IDENTITY-EXPORT-ROUNDTRIP", "IDENTITY-EXPORT-ROUNDTRIP",               \
      "export omits the last identity of the registry")                                           \
    X(IDENTITY_EXPORT_KEYS, "IDENTITY-EXPORT-EXCLUDE-KEYS", "IDENTITY-EXPORT-EXCLUDE-KEYS",        \
      "excludeKeysInExport is ignored: keys are exported")                                         \
    X(IDENTITY_IMPORT_ATOMIC, "IDENTITY-IMPORT-MALFORMED", "IDENTITY-IMPORT-MALFORMED",            \
      "an import applies the lines before a malformed one instead of failing the whole job")       \
    X(IDENTITY_IMPORT_DUPLICATE, "IDENTITY-IMPORT-DUPLICATE", "IDENTITY-IMPORT-DUPLICATE",         \
      "an import file naming an identity twice is applied (the last line wins)")                   \
    X(IDENTITY_IMPORT_MODE, "IDENTITY-IMPORT-MODE", "IDENTITY-IMPORT-MODE",                        \
      "importMode create overwrites an existing identity instead of logging an error")            \
    X(JOB_STATUS_MACHINE, "JOB-STATUS-MACHINE", "JOB-STATUS-MACHINE",                              \
      "a job whose devices all have an outcome stays running (until its maxExecutionTime)")       \
    X(JOB_START_TIME, "JOB-START-TIME", "JOB-START-TIME",                                          \
      "a job's startTime is ignored: it is queued and runs at once")                              \
    X(JOB_MAX_EXECUTION, "JOB-MAX-EXECUTION", "JOB-MAX-EXECUTION",                                 \
      "maxExecutionTimeInSeconds never passes: a job with calls in flight keeps running")         \
    X(JOB_CANCEL, "JOB-CANCEL", "JOB-CANCEL",                                                      \
      "cancel answers the job document but leaves the job as it was")                             \
    X(JOB_DEVICE_OUTCOMES, "JOB-DEVICE-OUTCOMES", "JOB-DEVICE-OUTCOMES",                           \
      "a device whose call failed (offline, timed out) is recorded succeeded")                    \
    X(JOB_NOT_FOUND, "JOB-NOT-FOUND", "JOB-NOT-FOUND",                                             \
      "an unknown job id is answered 400 ArgumentInvalid instead of 404 JobNotFound")             \
    X(JOB_ZERO_DEVICES, "JOB-ZERO-DEVICES", "JOB-ZERO-DEVICES",                                    \
      "a job whose condition selects no device stays running")                                    \
    X(JOB_BAD_QUERY, "JOB-BAD-QUERY", "JOB-BAD-QUERY",                                             \
      "a malformed queryCondition is refused without its line and column")                        \
    X(UPLOAD_SAS_URI, "UPLOAD-SAS-URI", "UPLOAD-SAS-URI",                                          \
      "the blobName handed out lacks its {deviceId}/ prefix")                                     \
    X(UPLOAD_UNKNOWN_CORRELATION, "UPLOAD-UNKNOWN-CORRELATION", "UPLOAD-UNKNOWN-CORRELATION",      \
      "a notification for a correlation id never handed out is accepted (204)")                   \
    X(TWINQ_WHERE, "TWINQ-WHERE", "TWINQ-WHERE",                                                   \
      "the WHERE condition of a twin query is ignored (every twin matches)")                      \
    X(TWINQ_IN_NIN, "TWINQ-IN-NIN", "TWINQ-IN-NIN",                                                \
      "x NIN [..] is evaluated as x IN [..]")                                                     \
    X(TWINQ_IS_DEFINED, "TWINQ-IS-DEFINED", "TWINQ-IS-DEFINED",                                    \
      "IS_DEFINED(path) in a twin query answers the opposite")                                    \
    X(TWINQ_COUNT_GROUP_BY, "TWINQ-COUNT-GROUP-BY", "TWINQ-COUNT-GROUP-BY",                        \
      "GROUP BY is ignored: an aggregate query answers one row over all twins")                   \
    X(TWINQ_MODULES, "TWINQ-MODULES", "TWINQ-MODULES",                                             \
      "FROM devices.modules searches the device twins, so no module twin is found")               \
    X(TWINQ_CONTINUATION, "TWINQ-CONTINUATION", "TWINQ-CONTINUATION",                              \
      "a continuation token points at the last row of its page, so that row comes twice")         \
    X(TWINQ_BAD_QUERY, "TWINQ-BAD-QUERY", "TWINQ-BAD-QUERY",                                       \
      "a query that does not compile is refused without its line and column")                     \
    X(EH_PARTITION_BY_DEVICE, "EH-PARTITION-BY-DEVICE", "EH-PARTITION-BY-DEVICE",                  \
      "events are spread over the partitions round-robin, not by device")                         \
    X(EH_CONSUMER_GROUPS, "EH-CONSUMER-GROUPS", "EH-CONSUMER-GROUPS",                              \
      "consumer groups share one cursor per partition: an event one group read is gone for the rest") \
    X(EH_ENQUEUED_TIME_FILTER, "EH-ENQUEUED-TIME-FILTER", "EH-ENQUEUED-TIME-FILTER",               \
      "a receiver's x-opt-enqueued-time filter is ignored: it reads from the oldest event")

typedef enum {
#define HUB_FAULT_ENUM(e, name, rule, desc) HUB_FAULT_##e,
    HUB_FAULT_MAP(HUB_FAULT_ENUM)
#undef HUB_FAULT_ENUM
    HUB_FAULT__COUNT,
    HUB_FAULT__STAGED_BEFORE = HUB_FAULT__COUNT - 1,
#define HUB_FAULT_ENUM(e, name, rule, desc) HUB_FAULT_##e,
    HUB_FAULT_STAGED_MAP(HUB_FAULT_ENUM)
#undef HUB_FAULT_ENUM
    HUB_FAULT__ALL /* HUB_FAULT__COUNT ..: the staged switches */
} hub_fault_t;

typedef struct {
    const char *name;        /* what --break takes */
    const char *rule_id;     /* the rule whose cases must kill it */
    const char *description; /* what the broken hub does */
} hub_fault_info_t;

/* The set of armed switches.  A plain value type (not opaque) because the
 * hub's facility files and the message/C2D/twin modules test it on hot paths;
 * treat the bits as private and use the functions below. */
typedef struct {
    uint64_t bits[(HUB_FAULT__ALL + 63) / 64];
} hub_faults_t;

/* NULL when out of range (the staged switches are out of this range). */
const hub_fault_info_t *hub_fault_info(hub_fault_t f);
/* The staged switches: i = 0 .. hub_fault_staged_count() - 1 (enum value
 * HUB_FAULT__COUNT + i); NULL past the end. */
const hub_fault_info_t *hub_fault_staged_info(size_t i);
size_t hub_fault_staged_count(void);
/* Exact (case-sensitive) switch name, staged ones included; HS_ENOTFOUND
 * for an unknown name. */
hs_err_t hub_fault_lookup(const char *name, hub_fault_t *out);

void hub_faults_clear(hub_faults_t *fs);
void hub_faults_arm(hub_faults_t *fs, hub_fault_t f);
static inline bool hub_faults_on(const hub_faults_t *fs, hub_fault_t f)
{
    return fs && (unsigned)f < (unsigned)HUB_FAULT__ALL &&
           ((fs->bits[(unsigned)f / 64] >> ((unsigned)f % 64)) & 1u) != 0;
}
/* True when any switch is armed. */
bool hub_faults_any(const hub_faults_t *fs);

#endif
