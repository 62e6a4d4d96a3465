/* MQTT session lifecycle: creation, the input loop and packet dispatcher, output, closing, keep-alive and lock timers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mqtt_session_internal.h"

/*
 * Model.  A session is WAIT_CONNECT until a CONNECT is accepted, then
 * CONNECTED, then CLOSED for good.  Every way out of CONNECTED goes through
 * ms_leave_hub (will, C2D abandon, hub_device_disconnect) exactly once,
 * except when the hub dropped the connection itself (its handle is stale).
 * The session closes its transport through io.close only when it decides to
 * (protocol error, keep-alive, refused PUBLISH, hub drop, DISCONNECT);
 * mqtt_session_transport_closed is the carrier telling it the other way.
 *
 * Timers carry the session pointer with the timer kind in its low bits, so
 * one handler (registered once per hub via mqtt_shared_t) serves all.
 */

char *ms_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void ms_count(mqtt_session_t *s, mqtt_stat_t stat)
{
    s->stats.v[stat]++;
    s->sh->stats.v[stat]++;
}

void ms_violation(mqtt_session_t *s, const char *rule_id, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    const char *who = s->identity[0] ? s->identity : (s->address ? s->address : "");
    SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: client rule %s: %s", who, rule_id, detail);
    if (!s->has_obs)
        return;
    ms_count(s, MQTT_STAT_VIOLATIONS);
    s->obs.violation(s->obs_ctx, rule_id, who, detail);
}

/* ---- output -------------------------------------------------------------- */

static void held_add(mqtt_session_t *s, const uint8_t *b, size_t n)
{
    if (s->held_len + n > s->held_cap) {
        size_t cap = s->held_cap ? s->held_cap : 256;
        while (cap < s->held_len + n)
            cap *= 2;
        uint8_t *q = realloc(s->held, cap);
        if (!q) {
            SIM_LOG(s->k, SIM_LOG_ERROR, "mqtt", "%s: out of memory holding output", s->identity);
            return;
        }
        s->held = q;
        s->held_cap = cap;
    }
    memcpy(s->held + s->held_len, b, n);
    s->held_len += n;
}

static void emit(mqtt_session_t *s, const mqtt_packet_t *p, bool direct)
{
    if (s->state == MS_CLOSED)
        return;
    uint8_t *b;
    size_t n;
    mqtt_err_t e = mqtt_encode_alloc(p, &b, &n);
    if (e) {
        SIM_LOG(s->k, SIM_LOG_ERROR, "mqtt", "%s: cannot encode %s: %s", s->identity,
                mqtt_type_name(p->type), mqtt_strerror(e));
        return;
    }
    if (s->hold && !direct)
        held_add(s, b, n);
    else
        s->io.write(s->io_ctx, b, n);
    free(b);
}

void ms_emit(mqtt_session_t *s, const mqtt_packet_t *p)
{
    emit(s, p, false);
}

void ms_write_direct(mqtt_session_t *s, const mqtt_packet_t *p)
{
    emit(s, p, true);
}

void ms_release_hold(mqtt_session_t *s)
{
    s->hold = false;
    if (s->held_len && s->state != MS_CLOSED)
        s->io.write(s->io_ctx, s->held, s->held_len);
    s->held_len = 0;
}

void ms_publish(mqtt_session_t *s, const char *topic, uint8_t qos, uint16_t packet_id,
                const void *payload, size_t len)
{
    mqtt_packet_t p = { .type = MQTT_PUBLISH };
    p.u.publish.qos = qos;
    p.u.publish.packet_id = packet_id;
    p.u.publish.topic = (mqtt_str_t){ topic, strlen(topic) };
    p.u.publish.payload = payload;
    p.u.publish.payload_len = len;
    ms_emit(s, &p);
}

/* ---- timers -------------------------------------------------------------- */

static void on_timer(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)ctx;
    mqtt_session_t *s = (mqtt_session_t *)(uintptr_t)(arg & ~(uint64_t)MS_TIMER_MASK);
    if ((arg & MS_TIMER_MASK) == MS_TIMER_KEEPALIVE) {
        s->ka_armed = false;
        ms_on_keepalive(s);
    } else {
        s->lock_armed = false;
        ms_on_lock_timer(s);
    }
}

static void arm(mqtt_session_t *s, sim_time_t at, unsigned kind, sim_event_id_t *id, bool *armed)
{
    if (*armed)
        sim_kernel_cancel(s->k, *id);
    *armed = false;
    sim_time_t now = sim_kernel_now(s->k);
    /* The session's deadlines come after the hub's own at the same instant
     * (a lock the hub ended is visible as ended). */
    if (sim_kernel_at(s->k, at < now ? now : at, SIM_PRIO_LATE_DEADLINE + 1, s->sh->h_timer,
                      (uint64_t)(uintptr_t)s | kind, id) == HS_EOK)
        *armed = true;
}

void ms_arm_keepalive(mqtt_session_t *s)
{
    if (s->ka_span && !(s->o.breaks & MQTT_BREAK_NO_KEEPALIVE))
        arm(s, s->last_rx + s->ka_span, MS_TIMER_KEEPALIVE, &s->ka_timer, &s->ka_armed);
}

void ms_on_keepalive(mqtt_session_t *s)
{
    if (s->state != MS_CONNECTED)
        return;
    sim_time_t due = s->last_rx + s->ka_span;
    if (sim_kernel_now(s->k) < due) { /* a packet came since: re-arm */
        ms_arm_keepalive(s);
        return;
    }
    ms_count(s, MQTT_STAT_KEEPALIVE_TIMEOUTS);
    SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: no packet for 1.5x keep-alive, closing", s->identity);
    ms_close(s, "keep-alive timeout", false);
}

void ms_arm_lock_timer(mqtt_session_t *s)
{
    if (s->n_inflight == 0) {
        if (s->lock_armed)
            sim_kernel_cancel(s->k, s->lock_timer);
        s->lock_armed = false;
        return;
    }
    sim_time_t first = s->inflight[0].lock_until;
    for (size_t i = 1; i < s->n_inflight; i++)
        if (s->inflight[i].lock_until < first)
            first = s->inflight[i].lock_until;
    if (s->lock_armed && s->lock_at == first)
        return;
    s->lock_at = first;
    arm(s, first, MS_TIMER_LOCK, &s->lock_timer, &s->lock_armed);
}

/* A delivery whose lock ended without a PUBACK: the hub has made the
 * message visible again (or dead-lettered it); forget the packet id and
 * deliver again. */
void ms_on_lock_timer(mqtt_session_t *s)
{
    if (s->state == MS_CLOSED)
        return;
    sim_time_t now = sim_kernel_now(s->k);
    size_t w = 0;
    for (size_t i = 0; i < s->n_inflight; i++) {
        ms_inflight_t *f = &s->inflight[i];
        if (f->lock_until <= now) {
            ms_count(s, MQTT_STAT_C2D_LOCK_ENDED);
            ms_violation(s, "CLIENT-MQTT-NO-PUBACK",
                         "C2D message (packet id %u) not acknowledged before its lock ended",
                         (unsigned)f->packet_id);
        } else {
            s->inflight[w++] = *f;
        }
    }
    s->n_inflight = w;
    ms_arm_lock_timer(s);
    ms_c2d_pump(s);
}

/* ---- closing ------------------------------------------------------------- */

static void cancel_timers(mqtt_session_t *s)
{
    if (s->ka_armed)
        sim_kernel_cancel(s->k, s->ka_timer);
    if (s->lock_armed)
        sim_kernel_cancel(s->k, s->lock_timer);
    s->ka_armed = s->lock_armed = false;
}

static void send_will(mqtt_session_t *s)
{
    mqtt_topic_t t;
    if (mqtt_topic_classify(s->will_topic, strlen(s->will_topic), s->device_id, s->module_id, &t) !=
        MQTT_TOPIC_TELEMETRY)
        return;
    hub_msg_t *m = hub_msg_new();
    if (!m)
        return;
    char why[128];
    if (mqtt_bag_parse(t.bag, t.bag_len, m, why, sizeof why) >= 0 &&
        hub_msg_set_app(m, "iothub-MessageType", "Will") == HS_EOK &&
        hub_msg_set_body(m, s->will_payload, s->will_len) == HS_EOK) {
        hub_err_t e = hub_device_send_d2c(s->hub, s->conn, m);
        ms_count(s, MQTT_STAT_WILLS_SENT);
        ms_count(s, e ? MQTT_STAT_D2C_REFUSED_HUB : MQTT_STAT_D2C_FORWARDED);
        SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: will message sent: %s", s->identity,
                hub_error_info(e)->name);
    }
    hub_msg_free(m);
}

void ms_leave_hub(mqtt_session_t *s, bool graceful)
{
    if (!hub_device_is_connected(s->hub, s->conn))
        return;
    if (!graceful && s->has_will)
        send_will(s);
    for (size_t i = 0; i < s->n_inflight; i++) {
        ms_violation(s, "CLIENT-MQTT-NO-PUBACK", "C2D message (packet id %u) not acknowledged before disconnect",
                     (unsigned)s->inflight[i].packet_id);
        (void)hub_device_c2d_abandon(s->hub, s->conn, s->inflight[i].lock_token);
        ms_count(s, MQTT_STAT_C2D_ABANDONED);
    }
    s->n_inflight = 0;
    (void)hub_device_disconnect(s->hub, s->conn);
}

void ms_close(mqtt_session_t *s, const char *reason, bool graceful)
{
    if (s->state == MS_CLOSED)
        return;
    bool was_connected = s->state == MS_CONNECTED;
    /* Output queued behind a SUBSCRIBE still goes out before the close. */
    ms_release_hold(s);
    s->state = MS_CLOSED;
    cancel_timers(s);
    if (was_connected)
        ms_leave_hub(s, graceful);
    ms_count(s, MQTT_STAT_CLOSED_BY_SESSION);
    s->io.close(s->io_ctx, reason);
}

/* ---- dispatcher ------------------------------------------------------------ */

static void protocol_error(mqtt_session_t *s, const char *what)
{
    ms_count(s, MQTT_STAT_PROTOCOL_ERRORS);
    SIM_LOG(s->k, SIM_LOG_INFO, "mqtt", "%s: %s, closing",
            s->identity[0] ? s->identity : (s->address ? s->address : "?"), what);
    ms_close(s, what, false);
}

static void dispatch(mqtt_session_t *s, const mqtt_packet_t *p)
{
    s->last_rx = sim_kernel_now(s->k);
    if (s->state == MS_WAIT_CONNECT) {
        if (p->type != MQTT_CONNECT) {
            protocol_error(s, "first packet is not CONNECT (3.1.0-1)");
            return;
        }
        ms_handle_connect(s, &p->u.connect);
        return;
    }
    switch (p->type) {
    case MQTT_PUBLISH:
        ms_handle_publish(s, &p->u.publish);
        break;
    case MQTT_PUBACK:
        ms_handle_puback(s, p->u.packet_id);
        break;
    case MQTT_SUBSCRIBE:
        ms_handle_subscribe(s, &p->u.subscribe);
        break;
    case MQTT_UNSUBSCRIBE:
        ms_handle_unsubscribe(s, &p->u.subscribe);
        break;
    case MQTT_PINGREQ: {
        mqtt_packet_t r = { .type = MQTT_PINGRESP };
        ms_emit(s, &r);
        break;
    }
    case MQTT_DISCONNECT:
        ms_count(s, MQTT_STAT_DISCONNECTS_CLEAN);
        ms_close(s, "client DISCONNECT", true);
        break;
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        ms_violation(s, "CLIENT-MQTT-QOS2", "%s: QoS 2 flows are not supported", mqtt_type_name(p->type));
        protocol_error(s, "QoS 2 flow packet (QoS 2 is not supported)");
        break;
    case MQTT_CONNECT:
        protocol_error(s, "second CONNECT on a connection (3.1.0-2)");
        break;
    default: {
        char what[64];
        snprintf(what, sizeof what, "%s from a client", mqtt_type_name(p->type));
        protocol_error(s, what);
        break;
    }
    }
}

void mqtt_session_input(mqtt_session_t *s, const void *bytes, size_t len)
{
    if (!s || s->state == MS_CLOSED)
        return;
    const uint8_t *in = bytes;
    s->busy++;
    while (len && s->state != MS_CLOSED) {
        size_t used;
        bool got;
        mqtt_packet_t p;
        mqtt_err_t e = mqtt_decoder_feed(s->dec, in, len, &used, &p, &got);
        in += used;
        len -= used;
        if (e) {
            char what[160];
            snprintf(what, sizeof what, "malformed %s: %s", mqtt_type_name(p.type), mqtt_strerror(e));
            if (e == MQTT_E_PROTOCOL_LEVEL && s->state == MS_WAIT_CONNECT) {
                /* 3.1.2-2: answer CONNACK 1, then close. */
                mqtt_packet_t r = { .type = MQTT_CONNACK };
                r.u.connack.code = MQTT_CONNACK_BAD_PROTOCOL;
                ms_emit(s, &r);
                ms_count(s, MQTT_STAT_CONNECTS_REFUSED);
            }
            protocol_error(s, what);
            break;
        }
        if (got)
            dispatch(s, &p);
        if (!got && used == 0)
            break;
    }
    s->busy--;
    if (s->busy == 0 && s->c2d_wanted && s->state == MS_CONNECTED) {
        s->c2d_wanted = false;
        ms_c2d_pump(s);
    }
}

/* ---- lifecycle ----------------------------------------------------------- */

void mqtt_session_opts_defaults(mqtt_session_opts_t *o, const hub_t *hub)
{
    memset(o, 0, sizeof *o);
    const hub_config_t *c = hub_config(hub);
    o->unknown_topic = c->mqtt.unknown_topic;
    o->keep_alive_max = c->mqtt.keep_alive_max;
    o->keep_alive_grace_permille = c->mqtt.keep_alive_grace_permille;
    o->max_packet_bytes = (size_t)c->messages.d2c_max_bytes * 2 + 65536;
    o->c2d_max_inflight = 1;
}

mqtt_shared_t *mqtt_shared_new(hub_t *hub)
{
    if (!hub)
        return NULL;
    mqtt_shared_t *sh = calloc(1, sizeof *sh);
    if (!sh)
        return NULL;
    sh->hub = hub;
    sh->h_timer = sim_kernel_register(hub_kernel(hub), on_timer, NULL);
    if (!sh->h_timer) {
        free(sh);
        return NULL;
    }
    return sh;
}

void mqtt_shared_free(mqtt_shared_t *sh)
{
    free(sh);
}

const mqtt_stats_t *mqtt_shared_stats(const mqtt_shared_t *sh)
{
    return &sh->stats;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

mqtt_session_t *mqtt_session_new(hub_t *hub, const mqtt_session_opts_t *opts, const wire_peer_t *peer,
                                 const wire_io_ops_t *io, void *io_ctx, const wire_observer_ops_t *obs,
                                 void *obs_ctx)
{
    if (!hub || !io || !io->write || !io->close)
        return NULL;
    mqtt_session_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->hub = hub;
    s->k = hub_kernel(hub);
    if (opts)
        s->o = *opts;
    else
        mqtt_session_opts_defaults(&s->o, hub);
    if (s->o.c2d_max_inflight == 0)
        s->o.c2d_max_inflight = 1;
    if (s->o.keep_alive_grace_permille == 0)
        s->o.keep_alive_grace_permille = 1500;
    if (s->o.shared) {
        s->sh = s->o.shared;
    } else {
        s->sh = &s->own_shared;
        s->own_shared.hub = hub;
        s->own_shared.h_timer = sim_kernel_register(s->k, on_timer, NULL);
    }
    s->io = *io;
    s->io_ctx = io_ctx;
    if (obs && obs->violation) {
        s->obs = *obs;
        s->has_obs = true;
        s->obs_ctx = obs_ctx;
    }
    s->address = dup_or_null(peer ? peer->address : NULL);
    s->thumbprint = dup_or_null(peer ? peer->x509_thumbprint : NULL);
    s->dec = mqtt_decoder_new(s->o.max_packet_bytes);
    s->next_pid = 1;
    if (!s->dec || !s->sh->h_timer || (peer && peer->address && !s->address) ||
        (peer && peer->x509_thumbprint && !s->thumbprint)) {
        mqtt_decoder_free(s->dec);
        free(s->address);
        free(s->thumbprint);
        free(s);
        return NULL;
    }
    return s;
}

void mqtt_session_transport_closed(mqtt_session_t *s)
{
    if (!s || s->state == MS_CLOSED)
        return;
    bool was_connected = s->state == MS_CONNECTED;
    s->state = MS_CLOSED;
    s->hold = false;
    s->held_len = 0;
    cancel_timers(s);
    ms_count(s, MQTT_STAT_TRANSPORT_CLOSED);
    if (was_connected)
        ms_leave_hub(s, false);
}

void mqtt_session_free(mqtt_session_t *s)
{
    if (!s)
        return;
    mqtt_session_transport_closed(s);
    mqtt_decoder_free(s->dec);
    for (size_t i = 0; i < s->n_rids; i++)
        free(s->rids[i]);
    free(s->rids);
    free(s->inflight);
    free(s->will_topic);
    free(s->will_payload);
    free(s->held);
    free(s->address);
    free(s->thumbprint);
    free(s);
}

bool mqtt_session_is_open(const mqtt_session_t *s)
{
    return s && s->state != MS_CLOSED;
}

const char *mqtt_session_identity(const mqtt_session_t *s)
{
    return s ? s->identity : "";
}

const mqtt_stats_t *mqtt_session_stats(const mqtt_session_t *s)
{
    return &s->stats;
}
