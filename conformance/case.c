/* Check helpers and drivers shared by every conformance case: verdict decisions, devices, tokens, method calls. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conformance/case.h"
/* Token signing is client-side crypto (what an SDK does), not hub logic. */
#include "sim/hub/auth.h"

bool conf_ok(const conf_ctx_t *c)
{
    return c->verdict == REPORT_PASS;
}

static bool decide(conf_ctx_t *c, report_verdict_t v, const char *expected, const char *observed,
                   const char *message)
{
    if (!conf_ok(c))
        return false;
    c->verdict = v;
    snprintf(c->expected, sizeof c->expected, "%s", expected ? expected : "");
    snprintf(c->observed, sizeof c->observed, "%s", observed ? observed : "");
    snprintf(c->message, sizeof c->message, "%s", message ? message : "");
    return false;
}

static bool status_compare(conf_ctx_t *c, int got_http, int got_code, const char *got_name,
                           const char *detail, int http, int code, const char *what)
{
    bool want_ok = http >= 200 && http < 300;
    bool got_ok = got_http >= 200 && got_http < 300;
    char exp[160], obs[400], msg[300];
    if (want_ok)
        snprintf(exp, sizeof exp, "%s: %d", what, http);
    else
        snprintf(exp, sizeof exp, "%s: %d with error code %d", what, http, code);
    if (got_ok)
        snprintf(obs, sizeof obs, "%d", got_http);
    else
        snprintf(obs, sizeof obs, "%d %s (%d)%s%s", got_http, got_name, got_code,
                 detail && *detail ? ": " : "", detail ? detail : "");
    if (want_ok && got_ok)
        return true;
    if (!want_ok && !got_ok && got_http == http && got_code == code)
        return true;
    if (want_ok != got_ok) {
        snprintf(msg, sizeof msg, "%s: the hub %s", what,
                 want_ok ? "refused what the rule says it accepts"
                         : "accepted what the rule says it refuses");
        return decide(c, REPORT_FAIL, exp, obs, msg);
    }
    snprintf(msg, sizeof msg, "%s: refused as due, with another status or error code", what);
    return decide(c, REPORT_WRONG_CODE, exp, obs, msg);
}

bool conf_status(conf_ctx_t *c, const target_status_t *st, int http, int code, const char *what)
{
    if (!conf_ok(c))
        return false;
    return status_compare(c, st->http, st->code, st->name, st->detail, http, code, what);
}

bool conf_refused(conf_ctx_t *c, const target_status_t *st, int http, const char *what)
{
    if (!conf_ok(c))
        return false;
    return status_compare(c, st->http, st->code, st->name, st->detail, http,
                          st->http == http ? st->code : 0, what);
}

bool conf_method(conf_ctx_t *c, target_call_t call, int http, int code, const char *what)
{
    if (!conf_ok(c))
        return false;
    target_method_result_t r;
    if (!c->ops->method_result(c->t, call, &r)) {
        char exp[160];
        snprintf(exp, sizeof exp, "%s: answered %d", what, http);
        return decide(c, REPORT_FAIL, exp, "still pending", "the call got no answer when due");
    }
    return status_compare(c, r.http, r.code, r.name, NULL, http, code, what);
}

bool conf_check(conf_ctx_t *c, bool ok, const char *expected, const char *observed_fmt, ...)
{
    if (!conf_ok(c))
        return false;
    if (ok)
        return true;
    char obs[CONF_TEXT_CAP];
    va_list ap;
    va_start(ap, observed_fmt);
    vsnprintf(obs, sizeof obs, observed_fmt, ap);
    va_end(ap);
    return decide(c, REPORT_FAIL, expected, obs, "the hub broke the rule");
}

bool conf_error(conf_ctx_t *c, const char *fmt, ...)
{
    if (!conf_ok(c))
        return false;
    char msg[CONF_TEXT_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return decide(c, REPORT_ERROR, NULL, NULL, msg);
}

bool conf_skip(conf_ctx_t *c, const char *why)
{
    return decide(c, REPORT_SKIP, NULL, NULL, why);
}

bool conf_configure(conf_ctx_t *c, const char *hub_json)
{
    if (!conf_ok(c))
        return false;
    if (!(c->ops->caps & TARGET_CAP_CONFIGURE))
        return conf_skip(c, "needs hub settings this target cannot change");
    target_status_t st;
    c->ops->configure(c->t, hub_json, &st);
    if (st.http != 200)
        return conf_error(c, "hub settings refused: %s", st.detail);
    return true;
}

bool conf_create(conf_ctx_t *c, const char *device_id, const char *module_id)
{
    if (!conf_ok(c))
        return false;
    target_identity_spec_t s = { .device_id = device_id, .module_id = module_id,
                                 .primary_key = CONF_KEY_A, .secondary_key = CONF_KEY_B };
    target_status_t st;
    c->ops->identity_create(c->t, &s, NULL, &st);
    if (st.http != 200)
        return conf_error(c, "cannot register %s%s%s: %d %s", device_id, module_id ? "/" : "",
                          module_id ? module_id : "", st.http, st.name);
    return true;
}

bool conf_token(conf_ctx_t *c, const char *key, const char *device_id, const char *module_id,
                int64_t expiry_unix, char *out, size_t cap)
{
    char res[600];
    if (module_id && *module_id)
        snprintf(res, sizeof res, "%s/devices/%s/modules/%s", c->ops->host(c->t), device_id, module_id);
    else
        snprintf(res, sizeof res, "%s/devices/%s", c->ops->host(c->t), device_id);
    if (hub_sas_make(key, res, expiry_unix, NULL, out, cap) != HS_EOK)
        return conf_error(c, "cannot sign a token for %s", res);
    return true;
}

bool conf_connect(conf_ctx_t *c, const char *device_id, const char *module_id, target_conn_t *conn,
                  target_status_t *st)
{
    char tok[1024];
    *conn = 0;
    if (!conf_ok(c) ||
        !conf_token(c, CONF_KEY_A, device_id, module_id, c->ops->unix_now(c->t) + 86400, tok, sizeof tok))
        return false;
    target_connect_t p = { .device_id = device_id, .module_id = module_id, .sas_token = tok,
                           .protocol = c->protocol };
    target_status_t local;
    c->ops->device_connect(c->t, &p, conn, st ? st : &local);
    if (!st && local.http != 200)
        return conf_error(c, "cannot connect %s: %d %s", device_id, local.http, local.name);
    return true;
}

bool conf_online(conf_ctx_t *c, const char *device_id, const char *module_id, unsigned subs,
                 target_conn_t *conn)
{
    if (!conf_create(c, device_id, module_id) || !conf_connect(c, device_id, module_id, conn, NULL))
        return false;
    if (!subs)
        return true;
    target_status_t st;
    c->ops->device_subscribe(c->t, *conn, subs, &st);
    if (st.http != 200)
        return conf_error(c, "cannot subscribe %s: %d %s", device_id, st.http, st.name);
    return true;
}

target_call_t conf_invoke(conf_ctx_t *c, const char *device_id, const char *module_id,
                          const char *body_fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, body_fmt);
    vsnprintf(body, sizeof body, body_fmt, ap);
    va_end(ap);
    target_call_t call = 0;
    target_status_t st;
    c->ops->method_invoke(c->t, device_id, module_id, body, strlen(body), &call, &st);
    return call;
}

bool conf_next_method(conf_ctx_t *c, target_conn_t conn, target_event_t *ev)
{
    return c->ops->device_next_event(c->t, conn, TARGET_EV_METHOD, ev);
}

void conf_advance(conf_ctx_t *c, sim_time_t d)
{
    c->ops->advance(c->t, d);
}

void conf_msg_init(target_msg_t *m, const char *body)
{
    memset(m, 0, sizeof *m);
    m->body = body;
    m->body_len = body ? strlen(body) : 0;
}

void conf_msg_sys(target_msg_t *m, const char *name, const char *value)
{
    if (m->n_sys < TARGET_MSG_MAX_PROPS)
        m->sys[m->n_sys++] = (target_prop_t){ name, value };
}

void conf_msg_app(target_msg_t *m, const char *name, const char *value)
{
    if (m->n_app < TARGET_MSG_MAX_PROPS)
        m->app[m->n_app++] = (target_prop_t){ name, value };
}
