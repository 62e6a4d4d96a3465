/* The hub's private state shared by its facility files (registry, auth, connections, methods, d2c). */
#ifndef HUB_INTERNAL_H
#define HUB_INTERNAL_H

/*
 * One struct hub, many facility files.  Per-identity state is one compact
 * record in a registration-ordered array (index = device_no, never reused);
 * strings live in one append-only arena addressed by 32-bit offsets, so an
 * idle registered device costs its record, two index slots and its strings
 * (bytes per idle device is a bench figure).  Lookups by id go through an
 * open-addressing index of record numbers that is never iterated: every
 * iteration walks the record array in registration order.
 *
 * Connections and method calls live in slot pools with free lists; handles
 * carry a generation so a stale handle is detected, not misused.
 */

#include <jansson.h>
#include "hub.h"
#include "ledger.h"
#include "throttle.h"
#include "twin_doc.h"
#include "sim/route/route_table.h"

#define HUB_NONE UINT32_MAX

typedef struct {
    uint32_t key_off;   /* "dev" or "dev/mod" in the arena ('/' is not an id character) */
    uint16_t key_len;
    uint16_t dev_len;   /* length of the device part */
    uint32_t parent;    /* device record of a module; HUB_NONE for a device */
    uint32_t pk_off, sk_off;   /* base64 keys; 0 = none (arena[0] is "") or derived (keys_derived) */
    uint32_t tp1_off, tp2_off; /* thumbprints */
    uint32_t etag_seq;
    uint32_t gen_seq;
    uint32_t conn;      /* connection slot + 1; 0 = offline */
    uint32_t twin;      /* twin slot + 1; 0 = none yet */
    uint8_t enabled;
    uint8_t x509;
    uint8_t deleted;
    uint8_t keys_derived; /* HUB_KEY_* bits: that key is the hub's own, derived when read (hub_rec_key) */
} hub_rec_t;

/* Which symmetric key of a record. */
enum { HUB_KEY_PRIMARY = 1, HUB_KEY_SECONDARY = 2 };
#define HUB_KEY_TEXT_CAP 64 /* a derived key's base64 text + NUL fits */

/* One cache line per connection (the array is 64-byte aligned): besides
 * the handle's fields it caches what stamping a D2C message needs from the
 * identity (its id when short, its generation), so the hot path of a
 * million-device fleet touches the slot and not the record behind it.  The
 * cached fields never change while the slot is bound: a record's key and
 * generation are fixed for its life, and deleting it drops the connection. */
#define HUB_SLOT_ID_CAP 27
typedef struct {
    uint32_t v;       /* record number + 1; 0 = empty */
    uint32_t hash;    /* key_hash of the record's key */
    uint32_t key_off; /* the record's key in the arena: a probe compares without the record */
} hub_index_entry_t;

typedef struct {
    uint32_t rec;       /* HUB_NONE when free */
    uint32_t gen;
    uint32_t next_free;
    uint8_t subs;
    uint8_t protocol;
    uint8_t auth_x509;
    uint8_t id_len;     /* length of id[]; 0 = not cached (a module or a long id) */
    const hub_sink_ops_t *ops;
    void *ctx;
    uint32_t gen_seq;   /* the device's generation counter (hub_rec_generation_id) */
    uint8_t pad;
    char id[HUB_SLOT_ID_CAP]; /* the device id, NUL-terminated, when id_len */
} hub_conn_slot_t;

typedef enum { HUB_CALL_FREE = 0, HUB_CALL_WAIT_CONNECT, HUB_CALL_WAIT_RESPONSE } hub_call_state_t;

typedef struct {
    uint64_t rid;            /* (sequence << 24) | slot; 0 when free */
    uint32_t rec;
    uint32_t next_free;
    hub_call_state_t state;
    uint8_t delivering;      /* the request is being handed to the sink: keep the slot */
    sim_event_id_t timer;
    sim_event_id_t handover; /* pending delayed hand-over, 0 = none */
    sim_time_t response_timeout;
    hub_method_cb cb;
    void *cb_ctx;
    char *name;              /* owned */
    char *payload;           /* owned, NUL-terminated */
    size_t payload_len;
} hub_call_t;

#define HUB_RID_SLOT_BITS 24
#define HUB_RID_SLOT_MASK ((1u << HUB_RID_SLOT_BITS) - 1)

struct hub_sas_signer;

struct hub {
    sim_kernel_t *k;
    struct hub_sas_signer *signer; /* SAS checks; NULL falls back to HMAC() */
    hub_config_t cfg;
    hub_faults_t faults;
    hub_ledger_t ledger;

    /* registry */
    hub_rec_t *recs;
    uint32_t nrecs, caprecs;
    hub_index_entry_t *index; /* record number + 1 (0 = empty slot) and its key's hash */
    uint32_t index_cap;      /* power of two */
    uint32_t index_used;
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t live;
    uint32_t find_memo;      /* last record found by id + 1; a cache only (registry.c) */
    uint32_t etag_counter;
    uint32_t gen_counter;

    /* connections */
    hub_conn_slot_t *conns;
    uint32_t nconns, capconns, conn_free;

    /* methods */
    hub_call_t *calls;
    uint32_t ncalls, capcalls, call_free;
    uint64_t call_seq;
    uint32_t in_progress;
    uint32_t waiting_connect;
    uint32_t h_method_timer;
    uint32_t h_method_deliver;      /* delayed hand-over (method delay fault) */
    sim_time_t method_delay;
    void *late;              /* methods.c's per-slot memory of timed-out calls */

    /* throttling */
    hub_bucket_t b_d2c, b_c2d, b_twin_read, b_twin_update, b_connect, b_method;

    /* C2D and twins */
    hub_c2d_t *c2d;
    void (*fb_fn)(void *ctx, const hub_c2d_fb_batch_t *b);
    void *fb_ctx;
    hub_twin_t **twins;
    uint32_t ntwins, captwins;
    hub_twin_limits_t twin_limits;

    /* routing and endpoints */
    route_table_t *routes;
    uint64_t conn_event_seq;          /* connection-state event sequence numbers */
    unsigned route_sources;           /* bit per route_source_t that some route reads */
    int sys_to_route[HUB_SYS__COUNT]; /* hub_msg_sys_t -> route_sysprop_t slot, -1 none */
    route_prop_t *route_props;        /* reused per message */
    size_t route_props_cap;
    uint32_t *route_eps;
    size_t route_eps_cap;
    uint8_t *ep_down;                 /* per endpoint index: 1 = unreachable (fault timeline) */
    size_t ep_down_cap;
    const hub_endpoint_ops_t *ep_ops;
    void *ep_ctx;
    int64_t epoch;

    /* daily quota */
    int64_t quota_day;
    uint64_t quota_used;
    bool lost_one;
    /* enqueuedTime text cached per instant (many messages share one) */
    char when[40];
    sim_time_t when_t;
    uint64_t when_sec;    /* the whole second `when` spells (d2c.c rewrites only its ticks) */
    size_t when_len;
    bool when_valid;
    bool pad_when[7];
    bool lost_one_pad;                    /* LEDGER-LOSE-ONE already lost its message */
    struct hub_uploads *uploads;          /* file uploads (uploads.c), created on first use */
    struct hub_gw *gw;                    /* field gateways (gateways.c), created on first use */
    struct hub_io *io;                    /* identity import/export jobs (identity_io.c), on first use */
};

/* registry.c */
const char *hub_str(const hub_t *hub, uint32_t off);
uint32_t hub_registry_find(const hub_t *hub, const char *device_id, const char *module_id);
/* The device id of a record (not NUL-terminated at dev_len for modules):
 * copies into buf. */
void hub_rec_ids(const hub_t *hub, const hub_rec_t *r, char *dev, size_t devcap, char *mod,
                 size_t modcap);
void hub_rec_generation_id(const hub_t *hub, const hub_rec_t *r, char *buf, size_t cap);
/* The generation id text of a generation counter (a record's gen_seq). */
void hub_generation_id_format(uint32_t gen_seq, char *buf, size_t cap);
hs_err_t hub_registry_provision(hub_t *hub, const hub_config_t *cfg, char *why, size_t cap);
void hub_registry_release(hub_t *hub);
hs_err_t hub_registry_init(hub_t *hub);
/* True when s is a valid device/module id (<= 128 chars of the set). */
bool hub_id_valid(const hub_t *hub, const char *s);

/* auth.c: check a SAS token for an identity record. */
hub_err_t hub_auth_check_device(hub_t *hub, uint32_t rec, const char *token);
hub_err_t hub_auth_check_x509(hub_t *hub, uint32_t rec, const char *thumbprint);

/* connections.c */
hub_conn_slot_t *hub_conn_get(hub_t *hub, hub_conn_t c);
hub_conn_t hub_conn_handle(const hub_t *hub, uint32_t slot);
/* Drop the identity's connection (if any), telling its sink why. */
hub_err_t hub_conn_slot_alloc(hub_t *hub, uint32_t *out);
/* A record's key (HUB_KEY_PRIMARY or _SECONDARY) as base64 text: in the
 * arena, or derived into buf (HUB_KEY_TEXT_CAP) when the hub generated it;
 * NULL when the record has none (X.509). */
const char *hub_rec_key(const hub_t *hub, const hub_rec_t *r, unsigned which, char *buf);
/* Room for n more connection slots without growing the array (hub_reserve). */
hub_err_t hub_conn_reserve(hub_t *hub, uint32_t n);
/* Bind an allocated slot to an identity (a new generation of the slot). */
void hub_conn_slot_bind(hub_t *hub, uint32_t slot, uint32_t rec, hub_protocol_t protocol, bool x509,
                        const hub_sink_ops_t *ops, void *ctx);
hub_err_t hub_device_authenticate(hub_t *hub, const hub_connect_params_t *p, uint32_t *rec_out,
                                  bool *x509_out);
void hub_conn_drop_rec(hub_t *hub, uint32_t rec, hub_err_t err, const char *reason,
                       hub_ledger_counter_t counter);
void hub_conn_release(hub_t *hub);
/* The identity's C2D queue has visible messages: notify its connection. */
void hub_conn_c2d_available(hub_t *hub, uint32_t rec);
/* True when the identity is online for methods (connected and subscribed). */
bool hub_conn_methods_online(const hub_t *hub, uint32_t rec);

/* connections.c: open a live connection for an authenticated identity
 * (a second connection drops the first), as hub_device_connect does after
 * its checks. */
hub_err_t hub_conn_open(hub_t *hub, uint32_t rec, hub_protocol_t protocol, bool x509,
                        const hub_sink_ops_t *ops, void *sink_ctx, hub_conn_t *out);

/* gateways.c: side tables of the field-gateway relation (NULL hub->gw =
 * no gateway was ever set up: every hook is a no-op). */
void hub_gw_free(hub_t *hub);
/* Set a device's gateway fields from a spec (create: is_create).  The
 * checks come first: ARGUMENT_INVALID without a change. */
hub_err_t hub_gw_check_spec(hub_t *hub, uint32_t rec, const hub_identity_spec_t *spec,
                            bool is_create);
hs_err_t hub_gw_apply_spec(hub_t *hub, uint32_t rec, const hub_identity_spec_t *spec,
                           bool is_create);
void hub_gw_fill(const hub_t *hub, uint32_t rec, hub_identity_t *out);
bool hub_gw_is_edge(const hub_t *hub, uint32_t rec);
/* A connection slot is being released: a leaf leaves its gateway's list
 * (counted as closed by the leaf, or dropped). */
void hub_gw_slot_released(hub_t *hub, uint32_t slot, bool dropped);
/* A gateway slot is going away: hand over its leaf handles (malloc'd,
 * caller frees with hub_gw_drop_leaves).  0 when none. */
size_t hub_gw_take_leaves(hub_t *hub, uint32_t slot, hub_conn_t **out);
/* Drop the taken leaves (each still live one), then free the array. */
void hub_gw_drop_leaves(hub_t *hub, hub_conn_t *leaves, size_t n);
/* gateway.* conservation; HS_ESTATE with why. */
hs_err_t hub_gw_check(const hub_t *hub, char *why, size_t cap);
hs_err_t hub_gw_provision(hub_t *hub, const hub_config_t *cfg, char *why, size_t cap);

/* identity_io.c */
void hub_io_free(hub_t *hub);

/* methods.c */
hs_err_t hub_methods_init(hub_t *hub);
void hub_methods_release(hub_t *hub);
/* The identity just became online for methods: deliver waiting calls. */
void hub_methods_on_online(hub_t *hub, uint32_t rec);

/* d2c.c: route a message of a route source (route_source_t) and deliver it. */
size_t hub_route_message(hub_t *hub, uint32_t rec, const hub_msg_t *msg, int source,
                         size_t *selected_out);

/* events.c: twin-change, lifecycle and connection-state events for routing. */
void hub_events_setup(hub_t *hub);
void hub_event_twin_change(hub_t *hub, uint32_t rec, const hub_twin_change_t *ch);
void hub_event_lifecycle(hub_t *hub, uint32_t rec, bool created);
void hub_event_connection(hub_t *hub, uint32_t rec, bool connected);

/* message.c: set a system property to a string that outlives the message (a
 * literal or const table entry): stored by pointer, not copied. */
hs_err_t hub_msg_set_sys_static(hub_msg_t *m, hub_msg_sys_t id, const char *literal);

/* d2c.c / hub.c */
void hub_emit_err(hub_t *hub, const char *kind, const char *id, hub_err_t err);

#endif
