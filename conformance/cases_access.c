/* Conformance cases for auth, connections, the identity registry and hub-wide rules (If-Match, arguments, throttling, conservation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/case.h"
/* token signing is client-side crypto, what an SDK does */
#include "sim/hub/auth.h"

/* Literals: 401 for any refused credential, ids of at most 128 characters
 * from the documented set (400 ArgumentInvalid 400004 otherwise), 409
 * DeviceAlreadyExists (409001) / ModuleAlreadyExistsOnDevice (409301), 404
 * DeviceNotFound (404001), 412 PreconditionFailed (412001), S1 D2C throttle
 * 12,000/min per hub = 200/s (429 429001), daily quota 403 403002. */

#define SEC ((sim_time_t)1000000000)
#define KEY_C "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="

static void connect_with(conf_ctx_t *c, const char *dev, const char *tok, const char *thumb,
                         target_conn_t *conn, target_status_t *st)
{
    target_connect_t p = { .device_id = dev, .sas_token = tok, .x509_thumbprint = thumb,
                           .protocol = c->protocol };
    c->ops->device_connect(c->t, &p, conn, st);
}

/* ---- AUTH-SAS ------------------------------------------------------------------- */

static void sas_valid(conf_ctx_t *c)
{
    target_conn_t conn;
    target_status_t st;
    char tok[1024];
    if (!conf_create(c, "d1", NULL) ||
        !conf_token(c, CONF_KEY_A, "d1", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok))
        return;
    connect_with(c, "d1", tok, NULL, &conn, &st);
    conf_status(c, &st, 200, 0, "a valid primary-key token");
}

static void sas_malformed(conf_ctx_t *c)
{
    target_conn_t conn;
    target_status_t st;
    if (!conf_create(c, "d1", NULL))
        return;
    connect_with(c, "d1", "SharedAccessSignature sr=nothing", NULL, &conn, &st);
    conf_refused(c, &st, 401, "a token without sig and se");
}

/* ---- AUTH-SAS-EXPIRED ---------------------------------------------------------------- */

static void expiry(conf_ctx_t *c, sim_time_t at, bool ok, const char *what)
{
    target_conn_t conn;
    target_status_t st;
    char tok[1024];
    if (!conf_create(c, "d1", NULL) ||
        !conf_token(c, CONF_KEY_A, "d1", NULL, c->ops->unix_now(c->t) + 10, tok, sizeof tok))
        return;
    conf_advance(c, at);
    connect_with(c, "d1", tok, NULL, &conn, &st);
    if (ok)
        conf_status(c, &st, 200, 0, what);
    else
        conf_refused(c, &st, 401, what);
}

static void exp_before(conf_ctx_t *c) { expiry(c, 9 * SEC, true, "connect 1 s before se"); }
static void exp_at(conf_ctx_t *c) { expiry(c, 10 * SEC, false, "connect in the second se names"); }
static void exp_after(conf_ctx_t *c) { expiry(c, 11 * SEC, false, "connect 1 s after se"); }

/* ---- AUTH-SAS-SIGNATURE / AUTH-SAS-SCOPE ------------------------------------------------- */

static void wrong_key(conf_ctx_t *c)
{
    target_conn_t conn;
    target_status_t st;
    char tok[1024];
    if (!conf_create(c, "d1", NULL) ||
        !conf_token(c, KEY_C, "d1", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok))
        return;
    connect_with(c, "d1", tok, NULL, &conn, &st);
    conf_refused(c, &st, 401, "a token signed with a key the device does not have");
}

static void secondary_key(conf_ctx_t *c)
{
    target_conn_t conn;
    target_status_t st;
    char tok[1024];
    if (!conf_create(c, "d1", NULL) ||
        !conf_token(c, CONF_KEY_B, "d1", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok))
        return;
    connect_with(c, "d1", tok, NULL, &conn, &st);
    conf_status(c, &st, 200, 0, "a token signed with the secondary key");
}

static void wrong_scope(conf_ctx_t *c)
{
    target_conn_t conn;
    target_status_t st;
    char tok[1024];
    if (!conf_create(c, "d1", NULL) || !conf_create(c, "d2", NULL) ||
        !conf_token(c, CONF_KEY_A, "d2", NULL, c->ops->unix_now(c->t) + 3600, tok, sizeof tok))
        return;
    /* d1 and d2 share a key, so only the scope tells them apart */
    connect_with(c, "d1", tok, NULL, &conn, &st);
    conf_refused(c, &st, 401, "d1 connecting with a token whose sr names d2");
}

/* ---- AUTH-X509-THUMBPRINT / AUTH-DISABLED-DEVICE -------------------------------------------- */

#define TP1 "0123456789ABCDEF0123456789ABCDEF01234567"
#define TP2 "89ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define TP3 "FEDCBA9876543210FEDCBA9876543210FEDCBA98"

static void x509(conf_ctx_t *c, const char *thumb, bool ok, const char *what)
{
    target_identity_spec_t s = { .device_id = "x1", .x509 = true, .primary_thumbprint = TP1,
                                 .secondary_thumbprint = TP2 };
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, &st);
    if (st.http != 200) {
        conf_error(c, "cannot register an X.509 device: %d %s", st.http, st.name);
        return;
    }
    target_conn_t conn;
    connect_with(c, "x1", NULL, thumb, &conn, &st);
    if (ok)
        conf_status(c, &st, 200, 0, what);
    else
        conf_refused(c, &st, 401, what);
}

static void x509_primary(conf_ctx_t *c) { x509(c, TP1, true, "primary thumbprint"); }
static void x509_secondary(conf_ctx_t *c) { x509(c, TP2, true, "secondary thumbprint"); }
static void x509_other(conf_ctx_t *c) { x509(c, TP3, false, "a thumbprint the device does not have"); }

static void disabled_connect(conf_ctx_t *c)
{
    target_identity_spec_t s = { .device_id = "d1", .disabled = true, .primary_key = CONF_KEY_A,
                                 .secondary_key = CONF_KEY_B };
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, &st);
    if (st.http != 200) {
        conf_error(c, "cannot register a disabled device: %d %s", st.http, st.name);
        return;
    }
    target_conn_t conn;
    conf_connect(c, "d1", NULL, &conn, &st);
    conf_refused(c, &st, 401, "a disabled device connecting with a valid token");
}

static void disabled_drops(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return;
    target_identity_spec_t s = { .device_id = "d1", .disabled = true, .primary_key = CONF_KEY_A,
                                 .secondary_key = CONF_KEY_B };
    target_status_t st;
    c->ops->identity_update(c->t, &s, "*", NULL, &st);
    if (!conf_status(c, &st, 200, 0, "disable the device"))
        return;
    conf_check(c, !c->ops->device_connected(c->t, conn), "the connection of a disabled device is closed",
               "still connected");
}

/* ---- CONN-SECOND-DROPS-FIRST ---------------------------------------------------------------- */

static void second_drops_first(conf_ctx_t *c)
{
    target_conn_t a, b;
    if (!conf_online(c, "d1", NULL, 0, &a) || !conf_connect(c, "d1", NULL, &b, NULL))
        return;
    target_event_t ev;
    bool heard = c->ops->device_next_event(c->t, a, TARGET_EV_DISCONNECTED, &ev);
    if (!conf_check(c, !c->ops->device_connected(c->t, a) && heard,
                    "the first connection is closed (and hears it)", "first %s, %s",
                    c->ops->device_connected(c->t, a) ? "still connected" : "closed",
                    heard ? "heard a disconnect" : "heard nothing"))
        return;
    conf_check(c, c->ops->device_connected(c->t, b), "the second connection is open", "closed");
}

/* ---- REGISTRY-* ------------------------------------------------------------------------------ */

static void id_try(conf_ctx_t *c, const char *dev, const char *mod, bool ok, const char *what)
{
    if (mod && !conf_create(c, dev, NULL))
        return;
    target_identity_spec_t s = { .device_id = dev, .module_id = mod, .primary_key = CONF_KEY_A };
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, &st);
    conf_status(c, &st, ok ? 200 : 400, ok ? 0 : 400004, what);
}

static void id_len(conf_ctx_t *c, size_t n, bool module, bool ok)
{
    char id[200], what[80];
    memset(id, 'd', n);
    id[n] = '\0';
    snprintf(what, sizeof what, "%s id of %zu characters", module ? "module" : "device", n);
    id_try(c, module ? "d1" : id, module ? id : NULL, ok, what);
}

static void dev_128(conf_ctx_t *c) { id_len(c, 128, false, true); }
static void dev_129(conf_ctx_t *c) { id_len(c, 129, false, false); }
static void mod_128(conf_ctx_t *c) { id_len(c, 128, true, true); }
static void mod_129(conf_ctx_t *c) { id_len(c, 129, true, false); }
static void id_symbols(conf_ctx_t *c) { id_try(c, "a-:.+%_#*?!(),=@;$'Z9", NULL, true, "device id of every allowed symbol"); }
static void id_slash(conf_ctx_t *c) { id_try(c, "a/b", NULL, false, "device id with '/'"); }
static void id_space(conf_ctx_t *c) { id_try(c, "a b", NULL, false, "device id with a space"); }

static void id_case_sensitive(conf_ctx_t *c)
{
    if (!conf_create(c, "Dev1", NULL))
        return;
    target_identity_spec_t s = { .device_id = "dev1", .primary_key = CONF_KEY_A };
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, &st);
    if (!conf_status(c, &st, 200, 0, "create dev1 beside Dev1 (ids are case-sensitive)"))
        return;
    target_identity_info_t info;
    c->ops->identity_get(c->t, "DEV1", NULL, &info, &st);
    conf_status(c, &st, 404, 404001, "read DEV1 when only Dev1 and dev1 exist");
}

static void crud(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL) || !conf_create(c, "d1", "m1"))
        return;
    target_identity_spec_t s = { .device_id = "d1", .primary_key = CONF_KEY_A };
    target_identity_info_t info;
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, &st);
    if (!conf_status(c, &st, 409, 409001, "create an existing device"))
        return;
    s.module_id = "m1";
    c->ops->identity_create(c->t, &s, NULL, &st);
    if (!conf_status(c, &st, 409, 409301, "create an existing module"))
        return;
    c->ops->identity_get(c->t, "d1", NULL, &info, &st);
    if (!conf_status(c, &st, 200, 0, "read the device"))
        return;
    c->ops->identity_delete(c->t, "d1", NULL, "*", &st);
    if (!conf_status(c, &st, 200, 0, "delete the device"))
        return;
    c->ops->identity_get(c->t, "d1", NULL, &info, &st);
    if (!conf_status(c, &st, 404, 404001, "read a deleted device"))
        return;
    c->ops->identity_delete(c->t, "d1", NULL, "*", &st);
    conf_status(c, &st, 404, 404001, "delete a missing device");
}

static void etag(conf_ctx_t *c)
{
    target_identity_spec_t s = { .device_id = "d1", .primary_key = CONF_KEY_A, .secondary_key = CONF_KEY_B };
    target_identity_info_t a, b;
    target_status_t st;
    c->ops->identity_create(c->t, &s, &a, &st);
    if (!conf_status(c, &st, 200, 0, "create"))
        return;
    s.secondary_key = KEY_C;
    c->ops->identity_update(c->t, &s, "*", &b, &st);
    if (!conf_status(c, &st, 200, 0, "update the secondary key"))
        return;
    conf_check(c, strcmp(a.etag, b.etag) != 0, "a new etag after the update", "etag %s both times", a.etag);
}

static void generation(conf_ctx_t *c)
{
    target_identity_spec_t s = { .device_id = "d1", .primary_key = CONF_KEY_A };
    target_identity_info_t a, b;
    target_status_t st;
    c->ops->identity_create(c->t, &s, &a, &st);
    if (!conf_status(c, &st, 200, 0, "create"))
        return;
    c->ops->identity_delete(c->t, "d1", NULL, "*", &st);
    if (!conf_status(c, &st, 200, 0, "delete"))
        return;
    c->ops->identity_create(c->t, &s, &b, &st);
    if (!conf_status(c, &st, 200, 0, "create again"))
        return;
    conf_check(c, a.generation_id[0] && strcmp(a.generation_id, b.generation_id) != 0,
               "a new generationId for the re-created device", "generationId %s then %s",
               a.generation_id, b.generation_id);
}

/* ---- HUB-* ----------------------------------------------------------------------------------- */

static void if_match_update(conf_ctx_t *c)
{
    target_identity_spec_t s = { .device_id = "d1", .primary_key = CONF_KEY_A };
    target_identity_info_t a;
    target_status_t st;
    c->ops->identity_create(c->t, &s, &a, &st);
    if (!conf_status(c, &st, 200, 0, "create"))
        return;
    s.secondary_key = CONF_KEY_B;
    c->ops->identity_update(c->t, &s, "\"bm90LXRoZS1ldGFn\"", NULL, &st);
    if (!conf_status(c, &st, 412, 412001, "update with a stale If-Match"))
        return;
    c->ops->identity_delete(c->t, "d1", NULL, "\"bm90LXRoZS1ldGFn\"", &st);
    if (!conf_status(c, &st, 412, 412001, "delete with a stale If-Match"))
        return;
    char cur[80];
    snprintf(cur, sizeof cur, "\"%s\"", a.etag);
    c->ops->identity_update(c->t, &s, cur, NULL, &st);
    if (!conf_status(c, &st, 200, 0, "update with the current etag"))
        return;
    c->ops->identity_delete(c->t, "d1", NULL, "*", &st);
    conf_status(c, &st, 200, 0, "delete with If-Match *");
}

static void arg_invalid(conf_ctx_t *c, const char *body, int code, const char *what)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_METHODS, &conn))
        return;
    target_call_t call = conf_invoke(c, "d1", NULL, "%s", body);
    if (code)
        conf_method(c, call, 400, code, what);
    else {
        target_method_result_t r;
        if (!c->ops->method_result(c->t, call, &r))
            conf_check(c, false, what, "the call was taken");
        else {
            target_status_t st;
            target_status_set(&st, r.http, r.code, r.name, NULL);
            conf_refused(c, &st, 400, what);
        }
    }
    target_event_t ev;
    conf_check(c, !conf_next_method(c, conn, &ev), "nothing reaches the device", "request delivered");
}

static void arg_not_json(conf_ctx_t *c) { arg_invalid(c, "{\"methodName\":", 400004, "a body that is not JSON"); }
static void arg_type(conf_ctx_t *c) { arg_invalid(c, "{\"methodName\":7,\"payload\":1}", 400004, "methodName of the wrong type"); }
static void arg_fraction(conf_ctx_t *c) { arg_invalid(c, "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":5.5}", 400004, "a fractional timeout"); }
static void arg_missing(conf_ctx_t *c) { arg_invalid(c, "{\"payload\":1}", 0, "no methodName (ArgumentInvalid or ArgumentNull)"); }

static void throttle(conf_ctx_t *c, int n, bool last_ok)
{
    if (!conf_configure(c, "{\"throttling\":{\"profile\":\"s1\"}}"))
        return;
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return;
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "t");
    for (int i = 1; i < n; i++) {
        c->ops->device_send(c->t, conn, &m, &st);
        if (st.http != 200) {
            char what[80];
            snprintf(what, sizeof what, "D2C %d of %d in one instant (S1: 200/s)", i, n);
            conf_status(c, &st, 200, 0, what);
            return;
        }
    }
    c->ops->device_send(c->t, conn, &m, &st);
    char what[80];
    snprintf(what, sizeof what, "D2C %d in one instant (S1, one unit: 200/s)", n);
    conf_status(c, &st, last_ok ? 200 : 429, last_ok ? 0 : 429001, what);
}

static void thr_200(conf_ctx_t *c) { throttle(c, 200, true); }
static void thr_201(conf_ctx_t *c) { throttle(c, 201, false); }

static void quota(conf_ctx_t *c)
{
    if (!conf_configure(c, "{\"quotas\":{\"dailyMessages\":10}}"))
        return;
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return;
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "q");
    for (int i = 1; i <= 10; i++) {
        c->ops->device_send(c->t, conn, &m, &st);
        if (!conf_status(c, &st, 200, 0, "a message inside the daily quota of 10"))
            return;
    }
    c->ops->device_send(c->t, conn, &m, &st);
    conf_status(c, &st, 403, 403002, "the 11th message of a daily quota of 10");
}

static void conservation(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return;
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "{}");
    for (int i = 0; i < 5; i++) {
        c->ops->device_send(c->t, conn, &m, &st);
        if (!conf_status(c, &st, 200, 0, "D2C"))
            return;
    }
    size_t n = 0;
    target_rx_msg_t rx;
    while (c->ops->endpoint_next(c->t, NULL, &rx))
        n++;
    char why[512] = "";
    hs_err_t e = c->ops->check(c->t, why, sizeof why);
    if (!conf_check(c, n == 5, "5 accepted messages reach the built-in endpoint", "%zu delivered", n))
        return;
    conf_check(c, e == HS_EOK, "the hub's books balance", "%s", why);
}


/* ---- service tokens (AUTH-SAS-SCOPE, -SIGNATURE, -EXPIRED for policies) ------------------------- */

/* Two policies of our own: "reader" (registryRead, key A), "owner" (all, key B). */
static bool policies(conf_ctx_t *c)
{
    char cfg[700];
    snprintf(cfg, sizeof cfg,
             "{\"policies\":[{\"name\":\"reader\",\"primaryKey\":\"%s\",\"rights\":[\"registryRead\"]},"
             "{\"name\":\"owner\",\"primaryKey\":\"%s\",\"rights\":[\"registryRead\",\"registryWrite\","
             "\"serviceConnect\",\"deviceConnect\"]}]}",
             CONF_KEY_A, CONF_KEY_B);
    return conf_configure(c, cfg);
}

static void service_try(conf_ctx_t *c, const char *key, const char *sr, const char *policy,
                        int64_t ttl_s, unsigned rights, bool ok, const char *what)
{
    if (!policies(c))
        return;
    char tok[1024];
    if (hub_sas_make(key, sr ? sr : c->ops->host(c->t), c->ops->unix_now(c->t) + ttl_s, policy, tok,
                     sizeof tok) != HS_EOK) {
        conf_error(c, "cannot sign a service token");
        return;
    }
    target_status_t st;
    c->ops->service_authorize(c->t, tok, rights, &st);
    if (ok)
        conf_status(c, &st, 200, 0, what);
    else
        conf_refused(c, &st, 401, what);
}

static void svc_read_ok(conf_ctx_t *c)
{
    service_try(c, CONF_KEY_A, NULL, "reader", 3600, TARGET_RIGHT_REGISTRY_READ, true,
                "registryRead policy token for a registry read");
}
static void svc_write_denied(conf_ctx_t *c)
{
    service_try(c, CONF_KEY_A, NULL, "reader", 3600, TARGET_RIGHT_REGISTRY_WRITE, false,
                "registryRead policy token for a registry write");
}
static void svc_other_hub(conf_ctx_t *c)
{
    service_try(c, CONF_KEY_B, "otherhub.azure-devices.net", "owner", 3600, TARGET_RIGHT_REGISTRY_READ,
                false, "owner token whose sr names another hub");
}
static void svc_wrong_key(conf_ctx_t *c)
{
    service_try(c, CONF_KEY_A, NULL, "owner", 3600, TARGET_RIGHT_REGISTRY_READ, false,
                "owner token signed with the reader's key");
}
static void svc_expired(conf_ctx_t *c)
{
    service_try(c, CONF_KEY_B, NULL, "owner", -1, TARGET_RIGHT_REGISTRY_READ, false,
                "owner token whose se passed 1 s ago");
}

const conf_case_t conf_cases_access[] = {
    { "AUTH-SAS", "a valid token is accepted", sas_valid, 0, NULL, false },
    { "AUTH-SAS", "a malformed token is refused 401", sas_malformed, 0, NULL, false },
    { "AUTH-SAS-EXPIRED", "accepted 1 s before se", exp_before, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "AUTH-SAS-EXPIRED", "refused in the second of se", exp_at, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "AUTH-SAS-EXPIRED", "refused 1 s after se", exp_after, TARGET_CAP_VIRTUAL_TIME, NULL, false },
    { "AUTH-SAS-SIGNATURE", "a token signed with the wrong key is refused", wrong_key, 0, NULL, false },
    { "AUTH-SAS-SIGNATURE", "a token signed with the secondary key is accepted", secondary_key, 0, NULL, false },
    { "AUTH-SAS-SCOPE", "a token for another device is refused", wrong_scope, 0, NULL, false },
    { "AUTH-SAS-SCOPE", "service: a policy's token does the operations its rights allow", svc_read_ok,
      TARGET_CAP_CONFIGURE, NULL, true },
    { "AUTH-SAS-SCOPE", "service: a registryRead token cannot write", svc_write_denied,
      TARGET_CAP_CONFIGURE, NULL, true },
    { "AUTH-SAS-SCOPE", "service: a token for another hub is refused", svc_other_hub,
      TARGET_CAP_CONFIGURE, NULL, true },
    { "AUTH-SAS-SIGNATURE", "service: a policy token signed with another key is refused", svc_wrong_key,
      TARGET_CAP_CONFIGURE, NULL, true },
    { "AUTH-SAS-EXPIRED", "service: an expired policy token is refused", svc_expired,
      TARGET_CAP_CONFIGURE, NULL, true },
    { "AUTH-X509-THUMBPRINT", "primary thumbprint accepted", x509_primary, 0, NULL, false },
    { "AUTH-X509-THUMBPRINT", "secondary thumbprint accepted", x509_secondary, 0, NULL, false },
    { "AUTH-X509-THUMBPRINT", "another thumbprint refused", x509_other, 0, NULL, false },
    { "AUTH-DISABLED-DEVICE", "a disabled device cannot connect", disabled_connect, 0, NULL, false },
    { "AUTH-DISABLED-DEVICE", "disabling drops the connection", disabled_drops, 0, NULL, false },
    { "CONN-SECOND-DROPS-FIRST", "a second connection drops the first", second_drops_first, 0, NULL, false },
    { "REGISTRY-DEVICE-ID", "device id of 128 characters accepted", dev_128, 0, NULL, true },
    { "REGISTRY-DEVICE-ID", "device id of 129 characters refused", dev_129, 0, NULL, true },
    { "REGISTRY-DEVICE-ID", "module id of 128 characters accepted", mod_128, 0, NULL, true },
    { "REGISTRY-DEVICE-ID", "module id of 129 characters refused", mod_129, 0, NULL, true },
    { "REGISTRY-DEVICE-ID", "device id of every allowed symbol accepted", id_symbols, 0, NULL, true },
    { "REGISTRY-DEVICE-ID", "device id with '/' refused", id_slash, 0, NULL, true },
    { "REGISTRY-DEVICE-ID", "device id with a space refused", id_space, 0, NULL, true },
    { "REGISTRY-DEVICE-ID", "device ids are case-sensitive", id_case_sensitive, 0, NULL, true },
    { "REGISTRY-CRUD", "409 on re-create, 404 after delete", crud, 0, NULL, true },
    { "REGISTRY-ETAG", "an update gives a new etag", etag, 0, NULL, true },
    { "REGISTRY-GENERATION-ID", "a re-created device gets a new generationId", generation, 0, NULL, true },
    { "HUB-IF-MATCH", "stale If-Match 412 on update and delete; current and * accepted",
      if_match_update, 0, NULL, true },
    { "HUB-ARGUMENT-INVALID", "method body that is not JSON refused", arg_not_json, 0, NULL, true },
    { "HUB-ARGUMENT-INVALID", "numeric methodName refused", arg_type, 0, NULL, true },
    { "HUB-ARGUMENT-INVALID", "fractional timeout refused", arg_fraction, 0, NULL, true },
    { "HUB-ARGUMENT-INVALID", "missing methodName refused", arg_missing, 0, NULL, true },
    { "HUB-THROTTLE", "S1: 200 D2C in one instant accepted", thr_200, TARGET_CAP_CONFIGURE, NULL, false },
    { "HUB-THROTTLE", "S1: the 201st D2C in one instant refused 429", thr_201, TARGET_CAP_CONFIGURE, NULL, false },
    { "HUB-DAILY-QUOTA", "the message after a daily quota of 10 refused 403002", quota,
      TARGET_CAP_CONFIGURE, NULL, false },
    { "HUB-CONSERVATION", "accepted messages all delivered, books balance", conservation,
      TARGET_CAP_CHECK | TARGET_CAP_ENDPOINTS, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
