/* Shared internals of the AMQP session files: the session, identity, link and delivery records. */
#ifndef SERVE_AMQP_INTERNAL_H
#define SERVE_AMQP_INTERNAL_H

#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/connection_driver.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/message.h>
#include <proton/session.h>
#include <proton/terminus.h>
#include <proton/transport.h>
#include "serve/amqp/amqp_address.h"
#include "serve/amqp/amqp_codec.h"
#include "serve/amqp/amqp_session.h"
#include "sim/hub/auth.h"

typedef struct amqp_ident amqp_ident_t;
typedef struct amqp_lnk amqp_lnk_t;

/* What an unsettled outgoing delivery stands for. */
typedef enum {
    AMQP_OUT_PLAIN = 0, /* CBS reply, method request, twin response, desired patch */
    AMQP_OUT_C2D,       /* a locked C2D message: settle by lock token */
    AMQP_OUT_EVENT,     /* an endpoint log entry */
    AMQP_OUT_FEEDBACK   /* a feedback batch: consumed on accept/reject */
} amqp_out_kind_t;

typedef struct amqp_out {
    struct amqp_out *next, *prev;
    amqp_lnk_t *link;
    pn_delivery_t *d;
    amqp_out_kind_t kind;
    uint64_t seq;
    char lock_token[HUB_C2D_LOCK_TOKEN_CAP];
} amqp_out_t;

/* A message waiting for link credit. */
typedef struct amqp_pending {
    struct amqp_pending *next;
    char *bytes;
    size_t len;
} amqp_pending_t;

struct amqp_lnk {
    amqp_lnk_t *next, *prev;     /* the session's list, attach order */
    amqp_session_t *s;
    pn_link_t *pn;
    amqp_addr_t addr;
    bool sending;                /* we send on it (the client's receiver) */
    amqp_ident_t *ident;         /* device links */
    amqp_out_t *outs;            /* unsettled deliveries we sent */
    amqp_pending_t *outbox, *outbox_tail;
    uint64_t cursor;             /* events / feedback reader position */
    uint64_t watch;              /* feeds watcher id */
    char endpoint[64];           /* events: the endpoint log read */
    bool dead;                   /* being released: sends nothing more */
};

#define AMQP_RID_CAP 40

struct amqp_ident {
    amqp_ident_t *next;
    amqp_session_t *s;
    char device_id[HUB_CONFIG_ID_MAX + 1];
    char module_id[HUB_CONFIG_ID_MAX + 1];
    hub_conn_t conn;             /* 0 = not connected */
    unsigned subs;
    bool replacing;              /* inside a token-renewal reconnect */
    bool desired_on;             /* twin PUT /notifications/twin/properties/desired */
    char (*rids)[AMQP_RID_CAP];  /* method requests sent and not yet answered */
    size_t n_rids, cap_rids;
};

struct amqp_session {
    hub_t *hub;
    amqp_feeds_t *feeds;
    amqp_session_opts_t opts;
    char container_id[64];
    char peer_addr[96];
    char peer_thumb[80];
    const wire_io_ops_t *io;
    void *io_ctx;
    const wire_observer_ops_t *obs;
    void *obs_ctx;
    pn_connection_driver_t driver;
    bool driver_ok;
    int pumping;                 /* depth of flush: re-entrant calls only mark work */
    bool again;
    bool closed;                 /* io->close called / transport gone */
    bool torn_down;              /* identities and links released */
    /* auth */
    bool sasl_used;
    char sasl_user[300];
    bool service_ok;
    amqp_ident_t *idents;
    amqp_lnk_t *links, *links_tail;
    uint64_t next_tag;
    pn_message_t *scratch;       /* reused for decoding */
    amqp_pending_t *cbs_wait, *cbs_wait_tail; /* CBS replies before the $cbs sender attached */
    amqp_session_stats_t st;
};

/* amqp_session.c */
void amqp_flush(amqp_session_t *s);
void amqp_violation(amqp_session_t *s, const char *rule, const char *identity, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* amqp_link.c: sending, outboxes, settlement, teardown */
void amqp_link_queue(amqp_lnk_t *l, char *bytes, size_t len); /* takes bytes */
void amqp_link_queue_msg(amqp_lnk_t *l, pn_message_t *m);
pn_delivery_t *amqp_link_send_now(amqp_lnk_t *l, const char *bytes, size_t len, amqp_out_kind_t kind,
                                  uint64_t seq, const char *lock_token);
void amqp_link_pump(amqp_lnk_t *l);    /* outbox, then pulled sources, as far as credit goes */
void amqp_link_release(amqp_lnk_t *l); /* forget the link: abandon, unwatch, unsubscribe, free */
void amqp_link_close(amqp_lnk_t *l, const char *cond, const char *desc);
amqp_lnk_t *amqp_link_find(amqp_session_t *s, amqp_addr_kind_t kind, bool sending,
                           const amqp_ident_t *ident);
void amqp_link_on_outcome(amqp_session_t *s, pn_delivery_t *d);
void amqp_settle_in(amqp_session_t *s, pn_delivery_t *d, hub_err_t e, const char *desc);
void amqp_link_refill(amqp_lnk_t *l);

/* amqp_auth.c: identities, CBS, SASL */
void amqp_sasl_install(amqp_session_t *s);
amqp_ident_t *amqp_ident_find(amqp_session_t *s, const char *device_id, const char *module_id);
void amqp_idents_drop_all(amqp_session_t *s);
/* Authorize a token (CBS or PLAIN): 200, 400 or 401 with a description. */
int amqp_auth_token(amqp_session_t *s, const char *token, const char *audience, char *desc,
                    size_t cap);
void amqp_cbs_on_message(amqp_lnk_t *l, pn_delivery_t *d, pn_message_t *m);
void amqp_cbs_link_ready(amqp_session_t *s, amqp_lnk_t *l);

/* amqp_device.c */
void amqp_device_link_opened(amqp_lnk_t *l);
void amqp_device_link_closing(amqp_lnk_t *l);
void amqp_device_on_message(amqp_lnk_t *l, pn_delivery_t *d, pn_message_t *m);
bool amqp_device_pull_c2d(amqp_lnk_t *l);
void amqp_device_on_c2d_outcome(amqp_out_t *o, uint64_t state);
extern const hub_sink_ops_t amqp_device_sink_ops;

/* amqp_service.c */
void amqp_service_link_opened(amqp_lnk_t *l);
void amqp_service_link_closing(amqp_lnk_t *l);
void amqp_service_on_message(amqp_lnk_t *l, pn_delivery_t *d, pn_message_t *m);
bool amqp_service_pull(amqp_lnk_t *l);
void amqp_service_on_outcome(amqp_out_t *o, uint64_t state);

/* amqp_eventhubs.c: the Event Hubs-compatible face of the events endpoint */
/* True when a decoded sr is an Event Hubs audience ("sb://..." or "amqps://..."). */
bool amqp_eventhubs_is_audience(const char *sr);
/* Authorize a service token for the Event Hubs audience "sb://{host}/{hubName}[/...]"
 * (policy with ServiceConnect): 200 (sets service_ok) or 401 with a description. */
int amqp_eventhubs_authorize(amqp_session_t *s, const hub_sas_t *t, char *desc, size_t cap);
/* An events link names partition -1 (all) or 0..partitions-1; else false with why. */
bool amqp_eventhubs_partition_ok(amqp_session_t *s, int partition, char *why, size_t cap);
/* A request on {hubName}/$management: READ com.microsoft:eventhub / com.microsoft:partition. */
void amqp_eventhubs_on_request(amqp_lnk_t *l, pn_delivery_t *d, pn_message_t *m);

#endif
