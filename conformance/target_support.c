/* What the in-process and live targets share behind the seam: the owned copy of a received message, and a hub message built from a case's target_msg_t. */
#include "conformance/target_support.h"

#include <stdlib.h>
#include <string.h>

void target_rx_owned_free(target_rx_owned_t *r)
{
    free(r->endpoint);
    free(r->body);
    for (size_t i = 0; i < r->n_sys; i++) {
        free((char *)r->sys[i].name);
        free((char *)r->sys[i].value);
    }
    for (size_t i = 0; i < r->n_app; i++) {
        free((char *)r->app[i].name);
        free((char *)r->app[i].value);
    }
    free(r->sys);
    free(r->app);
    memset(r, 0, sizeof *r);
}

void target_rx_pop(target_rx_owned_t *queue, size_t *n, size_t i, target_rx_owned_t *last,
                   target_rx_msg_t *out)
{
    *last = queue[i];
    memmove(&queue[i], &queue[i + 1], (*n - i - 1) * sizeof *queue);
    (*n)--;
    out->endpoint = last->endpoint;
    out->body = last->body;
    out->body_len = last->body_len;
    out->sys = last->sys;
    out->n_sys = last->n_sys;
    out->app = last->app;
    out->n_app = last->n_app;
}

hub_msg_t *target_msg_to_hub(const target_msg_t *m, target_status_t *st)
{
    hub_msg_t *msg = hub_msg_new();
    if (!msg)
        abort();
    if (m->body_len && hub_msg_set_body(msg, m->body, m->body_len) != HS_EOK)
        abort();
    for (size_t i = 0; i < m->n_sys; i++) {
        hub_msg_sys_t id;
        if (hub_msg_sys_lookup(m->sys[i].name, &id) != HS_EOK) {
            target_status_set(st, 400, 400004, "ArgumentInvalid", "unknown system property");
            hub_msg_free(msg);
            return NULL;
        }
        hub_msg_set_sys(msg, id, m->sys[i].value);
    }
    for (size_t i = 0; i < m->n_app; i++)
        hub_msg_add_app(msg, m->app[i].name, m->app[i].value);
    return msg;
}
