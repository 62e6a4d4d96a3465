/* Every hub-visible error: HTTP status, numeric hub code, name, the rule ID that defines it. */
#ifndef HUB_ERRORS_H
#define HUB_ERRORS_H

/* X(ENUM, http_status, hub_code, "ErrorCodeName", "RULE-ID", "message").
 * Codes follow the public IoT Hub error-code tables (checked against the C#
 * service SDK's ErrorCode / IotHubServiceErrorCode enums and the
 * troubleshooting page: 400027, 504101).  The SDK marks 401003
 * IotHubUnauthorized obsolete ("replaced by IotHubUnauthorizedAccess"), so
 * the model answers auth failures with 401002; the row stays for decoding; where the rule is a
 * knob (NOTES.md [?]) the rule ID says so in the catalogue.  The same table
 * drives the REST error bodies `serve` sends:
 *   {"Message":"ErrorCode:<Name>;<message>","ExceptionMessage":"..."}
 * with an `iothub-errorcode: <Name>` header. */
#define HUB_ERROR_MAP(X)                                                                         \
    X(OK,                      200, 0,      "OK",                              "",                       "success") \
    X(ARGUMENT_INVALID,        400, 400004, "ArgumentInvalid",                 "HUB-ARGUMENT-INVALID",   "the request is not valid") \
    X(ARGUMENT_NULL,           400, 400005, "ArgumentNull",                    "HUB-ARGUMENT-INVALID",   "a required argument is missing") \
    X(CONNECTION_REPLACED,     400, 400027, "ConnectionForcefullyClosedOnNewConnection", "CONN-SECOND-DROPS-FIRST", "another connection for the same identity replaced this one") \
    X(INVALID_CONTENT,         400, 400103, "InvalidContentEncodingOrType",    "MSG-CONTENT-TYPE",       "invalid content encoding or type") \
    X(UNAUTHORIZED,            401, 401003, "IotHubUnauthorized",              "AUTH-SAS",               "the authorization token cannot be validated") \
    X(UNAUTHORIZED_ACCESS,     401, 401002, "IotHubUnauthorizedAccess",        "AUTH-SAS",               "unauthorized access") \
    X(QUOTA_EXCEEDED,          403, 403002, "IotHubQuotaExceeded",             "HUB-DAILY-QUOTA",        "the daily message quota is exceeded") \
    X(QUEUE_DEPTH_EXCEEDED,    403, 403004, "DeviceMaximumQueueDepthExceeded", "C2D-QUEUE-DEPTH",        "the device's cloud-to-device queue is full") \
    X(FILE_UPLOAD_LIMIT,       403, 403006, "DeviceMaximumActiveFileUploadLimitExceeded", "", "the device has too many active file uploads") \
    X(DEVICE_NOT_FOUND,        404, 404001, "DeviceNotFound",                  "METHOD-404-UNKNOWN",     "the device is not registered") \
    X(MODULE_NOT_FOUND,        404, 404010, "ModuleNotFound",                  "METHOD-404-UNKNOWN",     "the module is not registered") \
    X(DEVICE_NOT_ONLINE,       404, 404103, "DeviceNotOnline",                 "METHOD-404-OFFLINE",     "the device is not online") \
    X(MESSAGE_NOT_FOUND,       404, 404002, "DeviceMessageNotFound",           "C2D-LOCK",               "no such message or lock token") \
    X(DEVICE_ALREADY_EXISTS,   409, 409001, "DeviceAlreadyExists",             "REGISTRY-CRUD",          "the device already exists") \
    X(MODULE_ALREADY_EXISTS,   409, 409301, "ModuleAlreadyExistsOnDevice",     "REGISTRY-CRUD",          "the module already exists") \
    X(PRECONDITION_FAILED,     412, 412001, "PreconditionFailed",              "HUB-IF-MATCH",           "the etag does not match") \
    X(LOCK_LOST,               412, 412002, "DeviceMessageLockLost",           "C2D-LOCK",               "the message lock was lost") \
    X(MESSAGE_TOO_LARGE,       413, 413001, "MessageTooLarge",                 "MSG-SIZE-LIMIT",         "the message is too large") \
    X(THROTTLED,               429, 429001, "ThrottlingException",             "HUB-THROTTLE",           "the request was throttled") \
    X(SERVER_ERROR,            500, 500001, "ServerError",                     "",                       "internal server error") \
    X(GATEWAY_TIMEOUT,         504, 504101, "GatewayTimeout",                  "METHOD-504-TIMEOUT",     "the device did not respond in time")

typedef enum {
#define HUB_ERR_ENUM(e, http, code, name, rule, msg) HUB_E##e,
    HUB_ERROR_MAP(HUB_ERR_ENUM)
#undef HUB_ERR_ENUM
    HUB_E__COUNT
} hub_err_t;

typedef struct {
    int http_status;
    int code;
    const char *name;
    const char *rule_id;
    const char *message;
} hub_error_info_t;

/* Never NULL; out-of-range values map to SERVER_ERROR's row. */
const hub_error_info_t *hub_error_info(hub_err_t err);

/* Decode what a hub answered: by numeric code (404103) or by name
 * ("DeviceNotOnline", case-insensitive).  -1 when the table has no such row. */
int hub_error_by_code(int code);
int hub_error_by_name(const char *name);

/* The REST error body for err:
 *   {"Message":"ErrorCode:<Name>;<message>[ <detail>]","ExceptionMessage":"..."}
 * JSON-escaped (detail may be NULL).  Returns the length it needs (like
 * snprintf); buf is always NUL-terminated when cap > 0. */
size_t hub_error_body(hub_err_t err, const char *detail, char *buf, size_t cap);

#endif
