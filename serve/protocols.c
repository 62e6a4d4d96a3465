/* The protocol sessions as the served hub's carriers see them: ops tables for the stream listeners, the REST API, wire break switches, and the endpoint log views. */
#include "serve/protocols.h"

#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include "serve/amqp/amqp_breaks.h"
#include "serve/amqp/amqp_session.h"
#include "serve/amqp/feeds.h"
#include "serve/mqtt/mqtt_packet.h"
#include "serve/mqtt/mqtt_session.h"
#include "serve/reconnect_storm.h"
#include "sim/hub/message.h"

/* Admin reads return at most this many entries per request (page with from=). */
#define VIEW_PAGE_MAX 1000

struct serve_protocols {
    hub_t *hub;
    http_api_opts_t http_opts;
    mqtt_session_opts_t mqtt_opts;
    amqp_session_opts_t amqp_opts;
    http_api_t *http;
    amqp_feeds_t *feeds;
    mqtt_shared_t *mqtt_shared;
    storm_watch_t *storms; /* CLIENT-RECONNECT-STORM, fed by accepted MQTT connections */
};

serve_protocols_t *serve_protocols_new(hub_t *hub)
{
    serve_protocols_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->hub = hub;
    mqtt_session_opts_defaults(&p->mqtt_opts, hub);
    amqp_session_opts_default(&p->amqp_opts);
    return p;
}

hs_err_t serve_protocols_break(serve_protocols_t *p, const char *name)
{
    unsigned bit;
    if ((bit = http_break_lookup(name)) != 0)
        p->http_opts.breaks |= bit;
    else if ((bit = mqtt_break_lookup(name)) != 0)
        p->mqtt_opts.breaks |= bit;
    else if ((bit = amqp_break_lookup(name)) != 0)
        p->amqp_opts.breaks |= bit;
    else
        return HS_ENOTFOUND;
    return HS_EOK;
}

hs_err_t serve_protocols_start(serve_protocols_t *p)
{
    if (!(p->http = http_api_new(p->hub, &p->http_opts)) || !(p->mqtt_shared = mqtt_shared_new(p->hub)))
        return HS_ENOMEM;
    p->mqtt_opts.shared = p->mqtt_shared;
    if (!(p->storms = storm_watch_new(STORM_DEFAULT_MAX_CONNECTS, STORM_DEFAULT_WINDOW)))
        return HS_ENOMEM;
    return amqp_feeds_new(p->hub, NULL, &p->feeds);
}

void serve_protocols_detach(serve_protocols_t *p)
{
    if (!p)
        return;
    amqp_feeds_free(p->feeds);
    p->feeds = NULL;
    mqtt_shared_free(p->mqtt_shared);
    p->mqtt_shared = NULL;
}

void serve_protocols_free(serve_protocols_t *p)
{
    if (!p)
        return;
    serve_protocols_detach(p);
    http_api_free(p->http);
    storm_watch_free(p->storms);
    free(p);
}

void serve_protocols_for_each_break(void (*fn)(void *ctx, const char *name, const char *what), void *ctx)
{
    for (size_t i = 0; http_break_name(i); i++)
        fn(ctx, http_break_name(i), http_break_description(i));
    for (size_t i = 0; mqtt_break_at(i); i++)
        fn(ctx, mqtt_break_at(i)->name, mqtt_break_at(i)->text);
    for (size_t i = 0; amqp_break_at(i); i++)
        fn(ctx, amqp_break_at(i)->name, amqp_break_at(i)->what);
}

http_api_t *serve_protocols_http(serve_protocols_t *p)
{
    return p->http;
}

/* ---- admin views ------------------------------------------------------------ */

/* ?name=N in a raw query string (libevent parses it): absent leaves *out
 * as it is; anything but a decimal number is false. */
static bool query_u64(const char *query, const char *name, uint64_t *out)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (query && evhttp_parse_query_str(query, &q) != 0)
        return false;
    const char *v = evhttp_find_header(&q, name);
    bool ok = true;
    if (v) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        ok = *v >= '0' && *v <= '9' && *end == '\0' && errno == 0;
        if (ok)
            *out = n;
    }
    evhttp_clear_headers(&q);
    return ok;
}

/* The message in the shape `hubsim query --message` reads. */
static json_t *message_json(const hub_msg_t *m)
{
    json_t *sys = json_object(), *app = json_object();
    for (int id = 0; id < HUB_SYS__COUNT; id++) {
        const char *v = hub_msg_get_sys(m, (hub_msg_sys_t)id);
        if (v)
            json_object_set_new(sys, hub_msg_sys_query_name((hub_msg_sys_t)id), json_string(v));
    }
    for (size_t i = 0; i < hub_msg_app_count(m); i++) {
        const char *name, *value;
        if (hub_msg_app_at(m, i, &name, &value) == HS_EOK)
            json_object_set_new(app, name, json_string(value));
    }
    size_t len;
    const unsigned char *body = hub_msg_body(m, &len);
    json_t *o = json_pack("{s:o,s:o}", "systemProperties", sys, "appProperties", app);
    if (mqtt_utf8_ok((const char *)body, len)) { /* RFC 3629, no NUL: what jansson takes */
        json_object_set_new(o, "body", json_stringn((const char *)body, len));
    } else {
        char *b64 = malloc(4 * ((len + 2) / 3) + 1);
        if (b64) {
            EVP_EncodeBlock((unsigned char *)b64, body, (int)len);
            json_object_set_new(o, "bodyBase64", json_string(b64));
            free(b64);
        }
    }
    return o;
}

typedef struct {
    json_t *list;
    size_t n;
} view_acc_t;

static bool add_entry(void *ctx, const amqp_feed_entry_t *e)
{
    view_acc_t *acc = ctx;
    json_t *m = message_json(e->msg);
    json_object_set_new(m, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(m, "partition", json_integer(e->partition));
    json_object_set_new(m, "enqueuedTimeUnixMs", json_integer(e->enqueued_unix_ms));
    json_array_append_new(acc->list, m);
    return ++acc->n < VIEW_PAGE_MAX;
}

json_t *serve_protocols_endpoint_json(serve_protocols_t *p, const char *endpoint, const char *query,
                                      int *status, const char **error)
{
    uint64_t from = 0;
    if (!query_u64(query, "from", &from)) {
        *status = 400;
        *error = "from: a sequence number (0 = everything retained)";
        return NULL;
    }
    amqp_feed_stats_t st;
    if (amqp_feeds_stats(p->feeds, endpoint, &st) != HS_EOK) {
        memset(&st, 0, sizeof st);
        st.first_seq = st.next_seq = 1;
    }
    view_acc_t acc = { json_array(), 0 };
    uint64_t next = amqp_feeds_read(p->feeds, endpoint, from, add_entry, &acc);
    return json_pack("{s:s,s:o,s:I,s:I,s:I,s:I}", "endpoint", endpoint, "messages", acc.list,
                     "next", (json_int_t)(acc.n ? next : (from > st.first_seq ? from : st.first_seq)),
                     "delivered", (json_int_t)st.delivered, "evicted", (json_int_t)st.evicted,
                     "retained", (json_int_t)st.retained);
}

static bool add_feedback(void *ctx, const amqp_feedback_entry_t *e)
{
    view_acc_t *acc = ctx;
    json_error_t err;
    json_t *records = json_loadb(e->json, e->len, 0, &err);
    json_array_append_new(acc->list, json_pack("{s:I,s:I,s:I,s:o,s:b}", "seq", (json_int_t)e->seq,
                                               "batch", (json_int_t)e->batch_no, "flushedUnixMs",
                                               (json_int_t)e->flushed_unix_ms, "records",
                                               records ? records : json_null(), "consumed", e->consumed));
    return ++acc->n < VIEW_PAGE_MAX;
}

json_t *serve_protocols_feedback_json(serve_protocols_t *p, const char *query, int *status,
                                      const char **error)
{
    uint64_t from = 0;
    if (!query_u64(query, "from", &from)) {
        *status = 400;
        *error = "from: a sequence number (0 = everything retained)";
        return NULL;
    }
    view_acc_t acc = { json_array(), 0 };
    uint64_t next = amqp_feeds_read_feedback(p->feeds, from, add_feedback, &acc);
    return json_pack("{s:o,s:I}", "batches", acc.list, "next", (json_int_t)next);
}

/* ---- stream protocols ------------------------------------------------------ */

/* An MQTT session plus what the carrier-level client checks need: the
 * first time the session has an identity (its CONNECT was accepted) counts
 * one connection for the reconnect-storm rule. */
typedef struct {
    mqtt_session_t *s;
    serve_protocols_t *p;
    const wire_observer_ops_t *obs;
    void *obs_ctx;
    bool counted;
} mqtt_conn_t;

static void *mqtt_open(void *ctx, const wire_peer_t *peer, const wire_io_ops_t *io, void *io_ctx,
                       const wire_observer_ops_t *obs, void *obs_ctx)
{
    serve_protocols_t *p = ctx;
    mqtt_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = (mqtt_conn_t){ .p = p, .obs = obs, .obs_ctx = obs_ctx };
    if (!(c->s = mqtt_session_new(p->hub, &p->mqtt_opts, peer, io, io_ctx, obs, obs_ctx))) {
        free(c);
        return NULL;
    }
    return c;
}

static void mqtt_input(void *session, const void *bytes, size_t len)
{
    mqtt_conn_t *c = session;
    mqtt_session_input(c->s, bytes, len);
    const char *who = mqtt_session_identity(c->s);
    if (c->counted || !who || !*who || !c->obs || !c->obs->violation)
        return;
    c->counted = true;
    char detail[200];
    if (storm_watch_note(c->p->storms, who, sim_kernel_now(hub_kernel(c->p->hub)), detail, sizeof detail))
        c->obs->violation(c->obs_ctx, "CLIENT-RECONNECT-STORM", who, detail);
}

static void mqtt_closed(void *session)
{
    mqtt_session_transport_closed(((mqtt_conn_t *)session)->s);
}

static void mqtt_free(void *session)
{
    mqtt_conn_t *c = session;
    mqtt_session_free(c->s);
    free(c);
}

static const serve_stream_proto_t mqtt_proto = {
    .name = "mqtt", .open = mqtt_open, .input = mqtt_input, .transport_closed = mqtt_closed,
    .free = mqtt_free,
};

static void *amqp_open(void *ctx, const wire_peer_t *peer, const wire_io_ops_t *io, void *io_ctx,
                       const wire_observer_ops_t *obs, void *obs_ctx)
{
    serve_protocols_t *p = ctx;
    return amqp_session_new(p->hub, p->feeds, &p->amqp_opts, peer, io, io_ctx, obs, obs_ctx);
}

static void amqp_input(void *session, const void *bytes, size_t len)
{
    amqp_session_input(session, bytes, len);
}

static void amqp_closed(void *session)
{
    amqp_session_transport_closed(session);
}

static void amqp_free(void *session)
{
    amqp_session_free(session);
}

static const serve_stream_proto_t amqp_proto = {
    .name = "amqp", .open = amqp_open, .input = amqp_input, .transport_closed = amqp_closed,
    .free = amqp_free,
};

const serve_stream_proto_t *serve_protocols_mqtt(void)
{
    return &mqtt_proto;
}

const serve_stream_proto_t *serve_protocols_amqp(void)
{
    return &amqp_proto;
}
