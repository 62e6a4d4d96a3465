/* AMQP link mechanics: sending within credit (outboxes and pulled sources), settling, outcomes, and link teardown. */
#include "serve/amqp/amqp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

amqp_lnk_t *amqp_link_find(amqp_session_t *s, amqp_addr_kind_t kind, bool sending,
                           const amqp_ident_t *ident)
{
    for (amqp_lnk_t *l = s->links; l; l = l->next)
        if (!l->dead && l->addr.kind == kind && l->sending == sending && (!ident || l->ident == ident))
            return l;
    return NULL;
}

pn_delivery_t *amqp_link_send_now(amqp_lnk_t *l, const char *bytes, size_t len, amqp_out_kind_t kind,
                                  uint64_t seq, const char *lock_token)
{
    amqp_session_t *s = l->s;
    uint64_t tag = ++s->next_tag;
    char tb[8];
    for (int i = 0; i < 8; i++)
        tb[i] = (char)(tag >> (56 - 8 * i));
    pn_delivery_t *d = pn_delivery(l->pn, pn_dtag(tb, sizeof tb));
    if (!d)
        return NULL;
    pn_link_send(l->pn, bytes, len);
    pn_link_advance(l->pn);
    amqp_out_t *o = calloc(1, sizeof *o);
    if (!o) {
        pn_delivery_settle(d); /* we cannot track it: presettle, the peer still gets the bytes */
        return d;
    }
    o->link = l;
    o->d = d;
    o->kind = kind;
    o->seq = seq;
    if (lock_token)
        snprintf(o->lock_token, sizeof o->lock_token, "%s", lock_token);
    o->next = l->outs;
    if (l->outs)
        l->outs->prev = o;
    l->outs = o;
    pn_delivery_set_context(d, o);
    return d;
}

void amqp_link_queue(amqp_lnk_t *l, char *bytes, size_t len)
{
    amqp_pending_t *p = calloc(1, sizeof *p);
    if (!p) {
        free(bytes);
        l->s->st.undeliverable++;
        return;
    }
    p->bytes = bytes;
    p->len = len;
    if (l->outbox_tail)
        l->outbox_tail->next = p;
    else
        l->outbox = p;
    l->outbox_tail = p;
    amqp_link_pump(l);
}

void amqp_link_queue_msg(amqp_lnk_t *l, pn_message_t *m)
{
    char *bytes;
    size_t len;
    if (amqp_msg_encode(m, &bytes, &len) != HS_EOK) {
        l->s->st.undeliverable++;
        return;
    }
    amqp_link_queue(l, bytes, len);
}

void amqp_link_pump(amqp_lnk_t *l)
{
    if (l->dead || !l->sending || !(pn_link_state(l->pn) & PN_LOCAL_ACTIVE))
        return;
    while (l->outbox && pn_link_credit(l->pn) > 0) {
        amqp_pending_t *p = l->outbox;
        l->outbox = p->next;
        if (!l->outbox)
            l->outbox_tail = NULL;
        amqp_link_send_now(l, p->bytes, p->len, AMQP_OUT_PLAIN, 0, NULL);
        free(p->bytes);
        free(p);
    }
    while (!l->outbox && pn_link_credit(l->pn) > 0) {
        bool sent;
        if (l->addr.kind == AMQP_ADDR_C2D)
            sent = amqp_device_pull_c2d(l);
        else if (l->addr.kind == AMQP_ADDR_SVC_EVENTS || l->addr.kind == AMQP_ADDR_SVC_FEEDBACK ||
                 l->addr.kind == AMQP_ADDR_SVC_FILE_NOTIFICATIONS)
            sent = amqp_service_pull(l);
        else
            sent = false;
        if (!sent)
            break;
    }
    amqp_flush(l->s);
}

void amqp_link_refill(amqp_lnk_t *l)
{
    if (!l || l->sending || !(pn_link_state(l->pn) & PN_LOCAL_ACTIVE))
        return;
    int credit = pn_link_credit(l->pn);
    int want = (int)l->s->opts.link_credit;
    if (credit <= want / 2)
        pn_link_flow(l->pn, want - credit);
}

/* A settled-by-us incoming transfer: accepted, or rejected with the hub
 * error's condition. */
void amqp_settle_in(amqp_session_t *s, pn_delivery_t *d, hub_err_t e, const char *desc)
{
    if (e == HUB_EOK) {
        pn_delivery_update(d, PN_ACCEPTED);
    } else {
        if (!(s->opts.breaks & AMQP_BREAK_REJECT_NO_CONDITION)) {
            pn_condition_t *c = pn_disposition_condition(pn_delivery_local(d));
            const hub_error_info_t *info = hub_error_info(e);
            char text[512];
            snprintf(text, sizeof text, "ErrorCode:%s;%s", info->name,
                     desc && *desc ? desc : info->message);
            pn_condition_set_name(c, amqp_condition_for(e));
            pn_condition_set_description(c, text);
        }
        pn_delivery_update(d, PN_REJECTED);
    }
    pn_delivery_settle(d);
}

static void out_unlink(amqp_out_t *o)
{
    amqp_lnk_t *l = o->link;
    if (o->prev)
        o->prev->next = o->next;
    else
        l->outs = o->next;
    if (o->next)
        o->next->prev = o->prev;
    if (o->d)
        pn_delivery_set_context(o->d, NULL);
    free(o);
}

void amqp_link_on_outcome(amqp_session_t *s, pn_delivery_t *d)
{
    (void)s;
    amqp_out_t *o = pn_delivery_get_context(d);
    uint64_t state = pn_delivery_remote_state(d);
    if (!o) {
        if (pn_delivery_settled(d))
            pn_delivery_settle(d);
        return;
    }
    if (state == 0 && !pn_delivery_settled(d))
        return; /* a transfer-state update without an outcome */
    if (state == 0)
        state = PN_ACCEPTED; /* settled by the receiver with no outcome: the default outcome */
    switch (o->kind) {
    case AMQP_OUT_C2D: amqp_device_on_c2d_outcome(o, state); break;
    case AMQP_OUT_EVENT:
    case AMQP_OUT_FEEDBACK: amqp_service_on_outcome(o, state); break;
    default: break;
    }
    pn_delivery_settle(d);
    out_unlink(o);
}

void amqp_link_close(amqp_lnk_t *l, const char *cond, const char *desc)
{
    pn_link_t *pn = l->pn;
    amqp_link_release(l);
    if (!(pn_link_state(pn) & PN_LOCAL_CLOSED)) {
        pn_condition_t *c = pn_link_condition(pn);
        if (cond) {
            pn_condition_set_name(c, cond);
            pn_condition_set_description(c, desc);
        }
        pn_link_close(pn);
    }
}

void amqp_link_release(amqp_lnk_t *l)
{
    amqp_session_t *s = l->s;
    l->dead = true;
    /* Kind-specific bookkeeping first, while the link is still listed. */
    if (l->addr.kind == AMQP_ADDR_CBS)
        ;
    else if (l->addr.kind == AMQP_ADDR_SVC_C2D || l->addr.kind == AMQP_ADDR_SVC_EVENTS ||
             l->addr.kind == AMQP_ADDR_SVC_FEEDBACK || l->addr.kind == AMQP_ADDR_SVC_FILE_NOTIFICATIONS)
        amqp_service_link_closing(l);
    else
        amqp_device_link_closing(l);
    while (l->outs) {
        amqp_out_t *o = l->outs;
        if (o->kind == AMQP_OUT_C2D)
            amqp_device_on_c2d_outcome(o, 0); /* never settled: abandon */
        out_unlink(o);
    }
    while (l->outbox) {
        amqp_pending_t *p = l->outbox;
        l->outbox = p->next;
        free(p->bytes);
        free(p);
        s->st.undeliverable++;
    }
    if (l->prev)
        l->prev->next = l->next;
    else
        s->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        s->links_tail = l->prev;
    pn_link_set_context(l->pn, NULL);
    free(l);
}
