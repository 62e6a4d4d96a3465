/* AMQP service links: C2D send with iothub-ack, the feedback and file notification receivers, and the events receiver that reads the endpoint logs. */
#include "serve/amqp/amqp_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- where an events reader starts --------------------------------------------------- */

/* Event Hubs selector filter: "amqp.annotation.x-opt-offset > '12'",
 * ">= '12'", "'-1'" = start of stream, "'@latest'" = end; also
 * x-opt-sequence-number and x-opt-enqueued-time (Unix ms). */
static uint64_t start_from_filter(amqp_lnk_t *l)
{
    amqp_feeds_t *f = l->s->feeds;
    uint64_t head = amqp_feeds_head(f, l->endpoint);
    pn_data_t *flt = pn_terminus_filter(pn_link_remote_source(l->pn));
    pn_data_rewind(flt);
    if (!pn_data_next(flt) || pn_data_type(flt) != PN_MAP)
        return head;
    size_t n = pn_data_get_map(flt) / 2;
    pn_data_enter(flt);
    char expr[256] = "";
    for (size_t i = 0; i < n && !expr[0]; i++) {
        if (!pn_data_next(flt) || !pn_data_next(flt))
            break;
        if (pn_data_type(flt) != PN_DESCRIBED)
            continue;
        pn_data_enter(flt);
        if (pn_data_next(flt) && pn_data_next(flt) && pn_data_type(flt) == PN_STRING) {
            pn_bytes_t b = pn_data_get_string(flt);
            snprintf(expr, sizeof expr, "%.*s", (int)b.size, b.start);
        }
        pn_data_exit(flt);
    }
    pn_data_exit(flt);
    const char *what = strstr(expr, "x-opt-offset")            ? "offset"
                       : strstr(expr, "x-opt-sequence-number") ? "seq"
                       : strstr(expr, "x-opt-enqueued-time")   ? "time"
                                                               : NULL;
    const char *q = strchr(expr, '\'');
    if (!what || !q)
        return head;
    bool inclusive = strstr(expr, ">=") != NULL;
    if (strncmp(q + 1, "@latest", 7) == 0)
        return amqp_feeds_tail(f, l->endpoint);
    char *end;
    long long v = strtoll(q + 1, &end, 10);
    if (*end != '\'')
        return head;
    if (what[0] == 't')
        return amqp_feeds_seek_time(f, l->endpoint, inclusive ? v - 1 : v);
    if (v < 0)
        return head;
    uint64_t c = (uint64_t)v + (inclusive ? 0 : 1);
    return c < head ? head : c;
}

static void on_feed(void *ctx)
{
    amqp_lnk_t *l = ctx;
    amqp_link_pump(l);
}

void amqp_service_link_opened(amqp_lnk_t *l)
{
    amqp_session_t *s = l->s;
    if (l->addr.kind == AMQP_ADDR_SVC_EVENTS) {
        snprintf(l->endpoint, sizeof l->endpoint, "events");
        l->cursor = start_from_filter(l);
        l->watch = amqp_feeds_watch(s->feeds, l->endpoint, on_feed, l);
    } else if (l->addr.kind == AMQP_ADDR_SVC_FEEDBACK) {
        l->cursor = amqp_feeds_feedback_head(s->feeds);
        l->watch = amqp_feeds_watch(s->feeds, NULL, on_feed, l);
    } else if (l->addr.kind == AMQP_ADDR_SVC_FILE_NOTIFICATIONS) {
        l->cursor = amqp_feeds_filenote_head(s->feeds);
        l->watch = amqp_feeds_watch_filenotes(s->feeds, on_feed, l);
    }
}

void amqp_service_link_closing(amqp_lnk_t *l)
{
    if (l->watch)
        amqp_feeds_unwatch(l->s->feeds, l->watch);
    l->watch = 0;
}

/* ---- C2D from the service ------------------------------------------------------------- */

static void on_service_c2d(amqp_lnk_t *l, pn_delivery_t *d, pn_message_t *m)
{
    amqp_session_t *s = l->s;
    const char *to = pn_message_get_address(m);
    amqp_addr_t a;
    char why[300] = "";
    hub_err_t e = HUB_EOK;
    if (amqp_addr_parse(to, hub_config(s->hub)->name, false, &a) != AMQP_ADDR_C2D || a.module_id[0]) {
        snprintf(why, sizeof why, "'to' must be /devices/{id}/messages/devicebound, got '%s'",
                 to ? to : "(none)");
        amqp_violation(s, "CLIENT-AMQP-C2D-TO", NULL, "%s", why);
        e = HUB_EARGUMENT_INVALID;
    }
    hub_msg_t *h = NULL;
    if (e == HUB_EOK)
        e = amqp_msg_to_hub(m, false, &h, why, sizeof why);
    if (e == HUB_EOK) {
        /* iothub-ack travels as an application property [sdk]; the hub keeps it as Ack */
        const char *ack = hub_msg_get_app(h, "iothub-ack");
        if (ack) {
            if (hub_msg_set_sys(h, HUB_SYS_ACK, ack) != HS_EOK)
                e = HUB_ESERVER_ERROR;
            hub_msg_remove_app(h, "iothub-ack");
        }
        /* `to` is the service's address for the hub (every SDK sets it), not
         * part of what the device receives: it must not count toward the
         * 64 KB C2D limit, or no SDK could send a 65,536-byte message [?] */
        hub_msg_set_sys(h, HUB_SYS_TO, NULL);
    }
    sim_time_t ttl = 0;
    if (e == HUB_EOK) {
        pn_millis_t ttl_ms = pn_message_get_ttl(m);
        int64_t exp_ms;
        const char *exp = hub_msg_get_sys(h, HUB_SYS_EXPIRY_TIME_UTC);
        sim_kernel_t *k = hub_kernel(s->hub);
        int64_t now_ms = sim_kernel_epoch(k) * 1000 + (int64_t)(sim_kernel_now(k) / 1000000u);
        if (exp && amqp_iso_to_ms(exp, &exp_ms)) {
            ttl = exp_ms > now_ms ? (sim_time_t)(exp_ms - now_ms) * 1000000u : 1;
            hub_msg_set_sys(h, HUB_SYS_EXPIRY_TIME_UTC, NULL); /* the queue stamps its own */
        } else if (ttl_ms) {
            ttl = (sim_time_t)ttl_ms * 1000000u;
        }
        e = hub_c2d_send(s->hub, a.device_id, h, ttl, NULL);
        if (e == HUB_EOK)
            h = NULL; /* the hub owns it */
        why[0] = '\0';
    }
    hub_msg_free(h);
    if (e == HUB_EOK)
        s->st.service_c2d_accepted++;
    else
        s->st.service_c2d_rejected++;
    amqp_settle_in(s, d, e, why);
}

void amqp_service_on_message(amqp_lnk_t *l, pn_delivery_t *d, pn_message_t *m)
{
    on_service_c2d(l, d, m);
}

/* ---- events and feedback readers --------------------------------------------------------- */

static bool pull_event(amqp_lnk_t *l)
{
    amqp_session_t *s = l->s;
    const amqp_feed_entry_t *e = amqp_feeds_next(s->feeds, l->endpoint, l->addr.partition, &l->cursor);
    if (!e)
        return false;
    bool bare = (s->opts.breaks & AMQP_BREAK_EVENTS_NO_ANNOTATIONS) != 0;
    amqp_event_marks_t marks = { .sequence_number = e->seq, .enqueued_unix_ms = e->enqueued_unix_ms };
    char *bytes = NULL;
    size_t len = 0;
    if (amqp_msg_from_hub(e->msg, bare ? 0 : AMQP_MSG_STAMPED_ANNOTATIONS, bare ? NULL : &marks,
                          s->scratch) != HS_EOK ||
        amqp_msg_encode(s->scratch, &bytes, &len) != HS_EOK) {
        s->st.undeliverable++;
        return true; /* skip it, counted */
    }
    amqp_link_send_now(l, bytes, len, AMQP_OUT_EVENT, e->seq, NULL);
    free(bytes);
    s->st.events_sent++;
    return true;
}

/* A hub-made JSON message for a service queue (feedback, file
 * notifications): id "{prefix}-{seq}", user-id the hub name, the content
 * type (NULL = none), iothub-enqueuedtime, the JSON as a data body; sent on
 * l with the feedback outcome kind (the link's address tells the queues
 * apart).  False when it could not be encoded (counted undeliverable). */
static bool send_hub_json(amqp_lnk_t *l, const char *id_prefix, uint64_t seq, const char *content_type,
                          const char *content_encoding, int64_t enqueued_unix_ms, const char *json,
                          size_t json_len)
{
    amqp_session_t *s = l->s;
    pn_message_t *m = s->scratch;
    pn_message_clear(m);
    char id[48];
    snprintf(id, sizeof id, "%s-%" PRIu64, id_prefix, seq);
    pn_atom_t mid = { .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(id), id) };
    pn_message_set_id(m, mid);
    const char *hub_name = hub_config(s->hub)->name;
    pn_message_set_user_id(m, pn_bytes(strlen(hub_name), hub_name));
    if (content_type)
        pn_message_set_content_type(m, content_type);
    if (content_encoding)
        pn_message_set_content_encoding(m, content_encoding);
    pn_data_t *a = pn_message_annotations(m);
    pn_data_put_map(a);
    pn_data_enter(a);
    pn_data_put_symbol(a, pn_bytes(strlen("iothub-enqueuedtime"), "iothub-enqueuedtime"));
    pn_data_put_timestamp(a, enqueued_unix_ms);
    pn_data_exit(a);
    pn_data_put_binary(pn_message_body(m), pn_bytes(json_len, json));
    pn_message_set_inferred(m, true);
    char *bytes;
    size_t len;
    if (amqp_msg_encode(m, &bytes, &len) != HS_EOK) {
        s->st.undeliverable++;
        return false;
    }
    amqp_link_send_now(l, bytes, len, AMQP_OUT_FEEDBACK, seq, NULL);
    free(bytes);
    return true;
}

static bool pull_feedback(amqp_lnk_t *l)
{
    amqp_session_t *s = l->s;
    const amqp_feedback_entry_t *e = amqp_feeds_next_feedback(s->feeds, &l->cursor);
    if (!e)
        return false;
    const char *ct = (s->opts.breaks & AMQP_BREAK_FEEDBACK_CONTENT_TYPE)
                         ? NULL
                         : "application/vnd.microsoft.iothub.feedback.json";
    if (send_hub_json(l, "feedback", e->seq, ct, NULL, e->flushed_unix_ms, e->json, e->len))
        s->st.feedback_sent++;
    return true;
}

/* A file notification: JSON body, content type and enqueued time as the
 * feedback messages carry them (docs/file-uploads.md). */
static bool pull_file_notification(amqp_lnk_t *l)
{
    amqp_session_t *s = l->s;
    const amqp_filenote_entry_t *e = amqp_feeds_next_filenote(s->feeds, &l->cursor);
    if (!e)
        return false;
    send_hub_json(l, "filenotification", e->seq, "application/vnd.microsoft.iothub.filenotification.json",
                  "utf-8", e->enqueued_unix_ms, e->json, e->len);
    return true;
}

bool amqp_service_pull(amqp_lnk_t *l)
{
    if (!l->s->feeds)
        return false;
    switch (l->addr.kind) {
    case AMQP_ADDR_SVC_EVENTS: return pull_event(l);
    case AMQP_ADDR_SVC_FILE_NOTIFICATIONS: return pull_file_notification(l);
    default: return pull_feedback(l);
    }
}

void amqp_service_on_outcome(amqp_out_t *o, uint64_t state)
{
    if (o->kind != AMQP_OUT_FEEDBACK || (state != PN_ACCEPTED && state != PN_REJECTED))
        return;
    if (o->link->addr.kind == AMQP_ADDR_SVC_FILE_NOTIFICATIONS)
        (void)amqp_feeds_filenote_consume(o->link->s->feeds, o->seq);
    else
        (void)amqp_feeds_feedback_consume(o->link->s->feeds, o->seq);
}
