/* Conformance cases for messages (message-format.txt): property characters, MessageId, size accounting and limit, stamps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/case.h"

/* Literals from message-format.txt: D2C up to 256 KB = 262144 bytes, C2D up
 * to 64 KB = 65536 bytes, MessageId up to 128 characters, refusals 400
 * ArgumentInvalid (400004) and 413 MessageTooLarge (413001). */

#define SEC ((sim_time_t)1000000000)

static bool send_d2c(conf_ctx_t *c, target_protocol_t proto, const target_msg_t *m,
                     target_status_t *st)
{
    target_conn_t conn;
    c->protocol = proto;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return false;
    c->ops->device_send(c->t, conn, m, st);
    return true;
}

/* ---- MSG-PROP-CHARSET --------------------------------------------------------- */

static void charset_https(conf_ctx_t *c, const char *name, const char *value, bool ok)
{
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "{}");
    conf_msg_app(&m, name, value);
    char what[160];
    snprintf(what, sizeof what, "HTTPS D2C with property '%s'='%s'", name, value);
    if (send_d2c(c, TARGET_PROTO_HTTPS, &m, &st))
        conf_status(c, &st, ok ? 200 : 400, ok ? 0 : 400004, what);
}

static void pc_allowed(conf_ctx_t *c) { charset_https(c, "k!#$%&'*+-.^_`|~9", "v!#$%&'*+-.^_`|~Z", true); }
static void pc_name_space(conf_ctx_t *c) { charset_https(c, "a b", "v", false); }
static void pc_name_slash(conf_ctx_t *c) { charset_https(c, "a/b", "v", false); }
static void pc_value_at(conf_ctx_t *c) { charset_https(c, "k", "a@b", false); }
static void pc_value_comma(conf_ctx_t *c) { charset_https(c, "k", "a,b", false); }

static void pc_c2d(conf_ctx_t *c)
{
    if (!conf_create(c, "d1", NULL))
        return;
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "x");
    conf_msg_app(&m, "a b", "v");
    c->ops->c2d_send(c->t, "d1", &m, 0, &st);
    conf_status(c, &st, 400, 400004, "C2D with property name 'a b'");
}

/* ---- MSG-MESSAGEID ---------------------------------------------------------------- */

static void mid_try(conf_ctx_t *c, const char *id, bool ok, const char *what)
{
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "{}");
    conf_msg_sys(&m, "messageId", id);
    if (send_d2c(c, TARGET_PROTO_MQTT, &m, &st))
        conf_status(c, &st, ok ? 200 : 400, ok ? 0 : 400004, what);
}

static void mid_len(conf_ctx_t *c, size_t n, bool ok)
{
    char id[200], what[80];
    memset(id, 'i', n);
    id[n] = '\0';
    snprintf(what, sizeof what, "MessageId of %zu characters", n);
    mid_try(c, id, ok, what);
}

static void mid_128(conf_ctx_t *c) { mid_len(c, 128, true); }
static void mid_129(conf_ctx_t *c) { mid_len(c, 129, false); }
static void mid_set(conf_ctx_t *c) { mid_try(c, "a-:.+%_#*?!(),=@;$'Z9", true, "MessageId of every allowed symbol"); }
static void mid_bad(conf_ctx_t *c) { mid_try(c, "a/b", false, "MessageId holding '/'"); }
static void mid_space(conf_ctx_t *c) { mid_try(c, "a b", false, "MessageId holding a space"); }

/* ---- MSG-SIZE-LIMIT / MSG-SIZE-ACCOUNTING ----------------------------------------- */

static void size_try(conf_ctx_t *c, size_t body, const char *prop_value, bool ok, const char *what)
{
    char *b = malloc(body + 1);
    if (!b) {
        conf_error(c, "out of memory");
        return;
    }
    memset(b, 'b', body);
    b[body] = '\0';
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, b);
    if (prop_value) {
        conf_msg_sys(&m, "messageId", "m1");
        conf_msg_app(&m, "k", prop_value);
    }
    if (send_d2c(c, TARGET_PROTO_MQTT, &m, &st))
        conf_status(c, &st, ok ? 200 : 413, ok ? 0 : 413001, what);
    free(b);
}

static void sz_exact(conf_ctx_t *c) { size_try(c, 262144, NULL, true, "D2C body of exactly 262144 bytes"); }
static void sz_over(conf_ctx_t *c) { size_try(c, 262145, NULL, false, "D2C body of 262145 bytes"); }
/* messageId "m1" (2) + "k" (1) + "vvvv" (4) = 7 bytes of properties */
static void acc_exact(conf_ctx_t *c)
{
    size_try(c, 262144 - 7, "vvvv", true, "body 262137 + properties 7 = 262144 bytes");
}
static void acc_over(conf_ctx_t *c)
{
    size_try(c, 262144 - 7, "vvvvv", false, "body 262137 + properties 8 = 262145 bytes");
}

/* ---- MSG-ANTISPOOF / MSG-ENQUEUED-TIME / MSG-CONTENT-TYPE --------------------------- */

static void antispoof(conf_ctx_t *c)
{
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "{}");
    conf_msg_sys(&m, "connectionDeviceId", "evil");
    conf_msg_sys(&m, "connectionDeviceGenerationId", "1");
    conf_msg_sys(&m, "connectionAuthMethod", "{\"type\":\"none\"}");
    if (!send_d2c(c, TARGET_PROTO_MQTT, &m, &st) || !conf_status(c, &st, 200, 0, "D2C with spoofed stamps"))
        return;
    target_identity_info_t info;
    c->ops->identity_get(c->t, "d1", NULL, &info, &st);
    target_rx_msg_t rx;
    if (!conf_check(c, c->ops->endpoint_next(c->t, NULL, &rx), "the message reaches an endpoint",
                    "nothing delivered"))
        return;
    const char *dev = target_rx_sys(&rx, "connectionDeviceId");
    const char *gen = target_rx_sys(&rx, "connectionDeviceGenerationId");
    const char *am = target_rx_sys(&rx, "connectionAuthMethod");
    if (!conf_check(c, dev && strcmp(dev, "d1") == 0, "connectionDeviceId d1 (the hub's stamp)",
                    "connectionDeviceId %s", dev ? dev : "(none)") ||
        !conf_check(c, gen && strcmp(gen, info.generation_id) == 0,
                    "connectionDeviceGenerationId of the registered identity",
                    "connectionDeviceGenerationId %s", gen ? gen : "(none)"))
        return;
    conf_check(c, am && strstr(am, "none") == NULL, "connectionAuthMethod stamped by the hub",
               "connectionAuthMethod %s", am ? am : "(none)");
}

static void enqueued_time(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, 0, &conn))
        return;
    conf_advance(c, 90 * SEC);
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "{}");
    conf_msg_sys(&m, "enqueuedTime", "1999-01-01T00:00:00Z");
    c->ops->device_send(c->t, conn, &m, &st);
    if (!conf_status(c, &st, 200, 0, "D2C 90 s into the run"))
        return;
    /* what the device's clock says in UTC, from the target itself */
    int64_t u = c->ops->unix_now(c->t);
    char want[32];
    long long days = u / 86400, secs = u % 86400;
    (void)days;
    snprintf(want, sizeof want, "T%02lld:%02lld:%02lld", secs / 3600, secs % 3600 / 60, secs % 60);
    target_rx_msg_t rx;
    if (!conf_check(c, c->ops->endpoint_next(c->t, NULL, &rx), "the message reaches an endpoint",
                    "nothing delivered"))
        return;
    const char *et = target_rx_sys(&rx, "enqueuedTime");
    conf_check(c, et && strstr(et, want) != NULL, "enqueuedTime is the acceptance instant",
               "enqueuedTime %s (accepted at %s)", et ? et : "(none)", want);
}

static void c2d_sequence(conf_ctx_t *c)
{
    target_conn_t conn;
    if (!conf_online(c, "d1", NULL, TARGET_SUB_C2D, &conn))
        return;
    target_status_t st;
    target_msg_t m;
    conf_msg_init(&m, "s");
    uint64_t seen[4] = { 0 };
    /* two rounds: a drained queue must not hand out a number again */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) {
            c->ops->c2d_send(c->t, "d1", &m, 0, &st);
            if (!conf_status(c, &st, 200, 0, "C2D send"))
                return;
        }
        for (int i = 0; i < 2; i++) {
            target_c2d_t d;
            c->ops->device_c2d_receive(c->t, conn, &d, &st);
            if (!conf_status(c, &st, 200, 0, "receive"))
                return;
            seen[round * 2 + i] = d.sequence_number;
            c->ops->device_c2d_settle(c->t, conn, d.lock_token, TARGET_SETTLE_COMPLETE, &st);
            if (!conf_status(c, &st, 200, 0, "complete"))
                return;
        }
    }
    bool unique = true;
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            unique = unique && seen[i] != seen[j];
    conf_check(c, unique, "four C2D messages of one device queue, four sequence numbers",
               "%llu, %llu, %llu, %llu", (unsigned long long)seen[0], (unsigned long long)seen[1],
               (unsigned long long)seen[2], (unsigned long long)seen[3]);
}

static void content_type_default(conf_ctx_t *c)
{
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "{\"a\":1}");
    conf_msg_sys(&m, "contentType", "application/json");
    conf_msg_sys(&m, "contentEncoding", "latin1");
    if (send_d2c(c, TARGET_PROTO_MQTT, &m, &st))
        conf_status(c, &st, 200, 0, "application/json with contentEncoding latin1 (knob default: accept)");
}

const conf_case_t conf_cases_messages[] = {
    { "MSG-PROP-CHARSET", "HTTPS: allowed symbols in name and value accepted", pc_allowed, 0, NULL, false },
    { "MSG-PROP-CHARSET", "HTTPS: space in a property name refused", pc_name_space, 0, NULL, false },
    { "MSG-PROP-CHARSET", "HTTPS: '/' in a property name refused", pc_name_slash, 0, NULL, false },
    { "MSG-PROP-CHARSET", "HTTPS: '@' in a property value refused", pc_value_at, 0, NULL, false },
    { "MSG-PROP-CHARSET", "HTTPS: ',' in a property value refused", pc_value_comma, 0, NULL, false },
    { "MSG-PROP-CHARSET", "C2D: space in a property name refused", pc_c2d, 0, NULL, false },
    { "MSG-MESSAGEID", "MessageId of 128 characters accepted", mid_128, 0, NULL, false },
    { "MSG-MESSAGEID", "MessageId of 129 characters refused", mid_129, 0, NULL, false },
    { "MSG-MESSAGEID", "MessageId of every allowed symbol accepted", mid_set, 0, NULL, false },
    { "MSG-MESSAGEID", "MessageId with '/' refused", mid_bad, 0, NULL, false },
    { "MSG-MESSAGEID", "MessageId with a space refused", mid_space, 0, NULL, false },
    { "MSG-SIZE-LIMIT", "D2C of exactly 262144 bytes accepted", sz_exact, 0, NULL, false },
    { "MSG-SIZE-LIMIT", "D2C of 262145 bytes refused 413", sz_over, 0, NULL, false },
    { "MSG-SIZE-ACCOUNTING", "body + properties = 262144 bytes accepted", acc_exact, 0, NULL, false },
    { "MSG-SIZE-ACCOUNTING", "body + properties = 262145 bytes refused", acc_over, 0, NULL, false },
    { "MSG-ANTISPOOF", "device-set connection stamps replaced by the hub's", antispoof,
      TARGET_CAP_ENDPOINTS, NULL, false },
    { "MSG-ENQUEUED-TIME", "enqueuedTime is the acceptance instant, not the device's", enqueued_time,
      TARGET_CAP_ENDPOINTS, NULL, false },
    { "MSG-ENQUEUED-TIME", "C2D sequence numbers unique per device queue, also after it drained",
      c2d_sequence, 0, NULL, false },
    { "MSG-CONTENT-TYPE", "unlisted contentEncoding accepted by default", content_type_default, 0, NULL, false },
    { NULL, NULL, NULL, 0, NULL, false },
};
