/* The Event Hubs-compatible face of the built-in events endpoint: the sb:// CBS audience, partition checks and the $management READ operations. */
#include "serve/amqp/amqp_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/*
 * What @azure/event-hubs (core-amqp) sends, docs/eventhubs.md:
 *  - CBS put-token with name = audience "sb://{host}/{hub}/$management" or
 *    "sb://{host}/{hub}/ConsumerGroups/{cg}/Partitions/{n}", a token whose
 *    sr is that audience, signed by a shared access policy (skn) [sdk];
 *  - on "{hub}/$management" a request with application properties
 *    operation=READ, name={hub}, type=com.microsoft:eventhub |
 *    com.microsoft:partition (+ partition="{n}"), security_token; reply_to
 *    names the client's receiver; the answer's correlation-id is the
 *    request's message-id, application properties status-code (int),
 *    status-description, and an amqp-value map body [sdk].
 * Partition n holds the events of devices with device_no % partitions == n
 * (feeds.h).  Sequence numbers are the events log's, shared by all
 * partitions (monotonic per partition, not dense) [?]; the offset is the
 * sequence number's text [?].
 */

#define EH_EVENTS_ENDPOINT "events"

static char *app_text(pn_message_t *m, const char *key)
{
    pn_data_t *p = pn_message_properties(m);
    return amqp_map_find(p, key, false) ? amqp_data_text(p) : NULL;
}

/* ---- authorization -------------------------------------------------------------------- */

bool amqp_eventhubs_is_audience(const char *sr)
{
    return strncasecmp(sr, "sb://", 5) == 0 || strncasecmp(sr, "amqps://", 8) == 0;
}

static int unauthorized(char *desc, size_t cap, const char *what, const char *sr)
{
    snprintf(desc, cap, "ErrorCode:IotHubUnauthorizedAccess;%s (audience '%s')", what, sr);
    return 401;
}

/* Service Bus / Event Hubs sign with the key's TEXT as the HMAC key
 * (core-amqp signString: createHmac("sha256", key)) [sdk], where IoT Hub
 * base64-decodes the key first [doc]: accept either. */
static bool signed_with(const hub_sas_t *t, const char *key)
{
    if (!key || !*key)
        return false;
    if (hub_sas_verify(t, key) == HS_EOK)
        return true;
    char text[2 * HUB_SAS_FIELD_MAX + 40];
    int n = snprintf(text, sizeof text, "%s\n%s", t->sr_raw, t->se_raw);
    if (n < 0 || (size_t)n >= sizeof text)
        return false;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)text, (size_t)n, mac, &mac_len))
        return false;
    return mac_len == t->sig_len && CRYPTO_memcmp(mac, t->sig, mac_len) == 0;
}

int amqp_eventhubs_authorize(amqp_session_t *s, const hub_sas_t *t, char *desc, size_t cap)
{
    const hub_config_t *cfg = hub_config(s->hub);
    const char *host = strstr(t->sr, "://") + 3;
    size_t hl = strcspn(host, "/");
    if (hl != strlen(cfg->host) || strncasecmp(host, cfg->host, hl) != 0)
        return unauthorized(desc, cap, "not this hub's Event Hubs-compatible endpoint", t->sr);
    const char *entity = host[hl] == '/' ? host + hl + 1 : "";
    size_t el = strcspn(entity, "/");
    if (el && (el != strlen(cfg->name) || strncasecmp(entity, cfg->name, el) != 0))
        return unauthorized(desc, cap, "the Event Hubs-compatible name is the hub's name", t->sr);
    if (!t->has_skn)
        return unauthorized(desc, cap, "an Event Hubs token is signed by a shared access policy (skn)", t->sr);
    const hub_config_policy_t *pol = hub_config_find_policy(cfg, t->skn);
    if (!pol || !(pol->rights & HUB_RIGHT_SERVICE_CONNECT))
        return unauthorized(desc, cap, "the policy is unknown or lacks ServiceConnect", t->sr);
    sim_kernel_t *k = hub_kernel(s->hub);
    int64_t now = sim_kernel_epoch(k) + (int64_t)(sim_kernel_now(k) / 1000000000u);
    if (now >= t->se)
        return unauthorized(desc, cap, "the token has expired", t->sr);
    if (!signed_with(t, pol->primary_key) && !signed_with(t, pol->secondary_key))
        return unauthorized(desc, cap, "the signature does not match the policy's keys", t->sr);
    s->service_ok = true;
    snprintf(desc, cap, "OK");
    return 200;
}

/* ---- partitions ------------------------------------------------------------------------ */

static uint32_t partition_count(amqp_session_t *s)
{
    return amqp_feeds_opts(s->feeds)->partitions;
}

bool amqp_eventhubs_partition_ok(amqp_session_t *s, int partition, char *why, size_t cap)
{
    if (partition < 0 || !s->feeds || (uint32_t)partition < partition_count(s))
        return true;
    snprintf(why, cap, "partition %d does not exist: the events endpoint has partitions 0..%" PRIu32,
             partition, partition_count(s) - 1);
    return false;
}

typedef struct {
    uint32_t partition;
    uint64_t first, last, n;
    int64_t last_ms;
} part_scan_t;

static bool scan_partition(void *ctx, const amqp_feed_entry_t *e)
{
    part_scan_t *p = ctx;
    if (e->partition != p->partition)
        return true;
    if (!p->n)
        p->first = e->seq;
    p->last = e->seq;
    p->last_ms = e->enqueued_unix_ms;
    p->n++;
    return true;
}

/* ---- replies ----------------------------------------------------------------------------- */

static void put_str(pn_data_t *d, const char *key, const char *v)
{
    pn_data_put_string(d, pn_bytes(strlen(key), key));
    pn_data_put_string(d, pn_bytes(strlen(v), v));
}

static void put_key(pn_data_t *d, const char *key)
{
    pn_data_put_string(d, pn_bytes(strlen(key), key));
}

static amqp_lnk_t *reply_link(amqp_session_t *s, const char *reply_to)
{
    amqp_lnk_t *any = NULL;
    for (amqp_lnk_t *l = s->links; l; l = l->next) {
        if (l->dead || !l->sending || l->addr.kind != AMQP_ADDR_EH_MGMT)
            continue;
        const char *target = pn_terminus_get_address(pn_link_remote_target(l->pn));
        if (reply_to && target && strcmp(reply_to, target) == 0)
            return l;
        if (!any)
            any = l;
    }
    return any;
}

/* A reply message of its own (the request still lives in s->scratch). */
static pn_message_t *reply_new(pn_message_t *req, int status, const char *desc, const char *condition)
{
    pn_message_t *r = pn_message();
    if (!r)
        return NULL;
    pn_atom_t id = pn_message_get_id(req);
    pn_message_set_correlation_id(r, id.type != PN_NULL ? id : pn_message_get_correlation_id(req));
    const char *reply_to = pn_message_get_reply_to(req);
    if (reply_to)
        pn_message_set_address(r, reply_to);
    pn_data_t *p = pn_message_properties(r);
    pn_data_put_map(p);
    pn_data_enter(p);
    put_key(p, "status-code");
    pn_data_put_int(p, status);
    put_str(p, "status-description", desc);
    if (condition) {
        put_key(p, "error-condition");
        pn_data_put_symbol(p, pn_bytes(strlen(condition), condition));
    }
    pn_data_exit(p);
    return r;
}

static void reply_send(amqp_session_t *s, pn_message_t *req, pn_message_t *r)
{
    amqp_lnk_t *l = reply_link(s, pn_message_get_reply_to(req));
    if (!l)
        s->st.undeliverable++;
    else
        amqp_link_queue_msg(l, r);
    pn_message_free(r);
    if (l)
        amqp_link_pump(l);
}

static void reply_error(amqp_session_t *s, pn_message_t *req, int status, const char *condition,
                        const char *desc)
{
    pn_message_t *r = reply_new(req, status, desc, condition);
    if (!r) {
        s->st.undeliverable++;
        return;
    }
    reply_send(s, req, r);
}

static void read_eventhub(amqp_session_t *s, pn_message_t *req)
{
    const hub_config_t *cfg = hub_config(s->hub);
    pn_message_t *r = reply_new(req, 200, "OK", NULL);
    if (!r) {
        s->st.undeliverable++;
        return;
    }
    uint32_t n = partition_count(s);
    pn_data_t *b = pn_message_body(r);
    pn_data_put_map(b);
    pn_data_enter(b);
    put_str(b, "name", cfg->name);
    put_str(b, "type", "com.microsoft:eventhub");
    put_key(b, "created_at");
    pn_data_put_timestamp(b, sim_kernel_epoch(hub_kernel(s->hub)) * 1000);
    put_key(b, "partition_count");
    pn_data_put_int(b, (int32_t)n);
    put_key(b, "partition_ids");
    pn_data_put_array(b, false, PN_STRING);
    pn_data_enter(b);
    for (uint32_t i = 0; i < n; i++) {
        char id[12];
        snprintf(id, sizeof id, "%" PRIu32, i);
        pn_data_put_string(b, pn_bytes(strlen(id), id));
    }
    pn_data_exit(b);
    pn_data_exit(b);
    reply_send(s, req, r);
}

static void read_partition(amqp_session_t *s, pn_message_t *req, uint32_t partition)
{
    const hub_config_t *cfg = hub_config(s->hub);
    part_scan_t scan = { .partition = partition };
    amqp_feeds_read(s->feeds, EH_EVENTS_ENDPOINT, 1, scan_partition, &scan);
    pn_message_t *r = reply_new(req, 200, "OK", NULL);
    if (!r) {
        s->st.undeliverable++;
        return;
    }
    char id[12], offset[24];
    snprintf(id, sizeof id, "%" PRIu32, partition);
    /* an empty partition: -1 for every number, offset "-1", time 0 [?] */
    int64_t begin = scan.n ? (int64_t)scan.first : -1, last = scan.n ? (int64_t)scan.last : -1;
    snprintf(offset, sizeof offset, "%" PRId64, last);
    pn_data_t *b = pn_message_body(r);
    pn_data_put_map(b);
    pn_data_enter(b);
    put_str(b, "name", cfg->name);
    put_str(b, "type", "com.microsoft:partition");
    put_str(b, "partition", id);
    put_key(b, "begin_sequence_number");
    pn_data_put_long(b, begin);
    put_key(b, "last_enqueued_sequence_number");
    pn_data_put_long(b, last);
    put_str(b, "last_enqueued_offset", offset);
    put_key(b, "last_enqueued_time_utc");
    pn_data_put_timestamp(b, scan.n ? scan.last_ms : 0);
    put_key(b, "is_partition_empty");
    pn_data_put_bool(b, scan.n == 0);
    pn_data_exit(b);
    reply_send(s, req, r);
}

/* Table of refusals: status, condition [?: the codes core-amqp's
 * ConditionStatusMapper pairs with these conditions]. */
#define EH_BAD_REQUEST 400, "com.microsoft:argument-error"
#define EH_NOT_FOUND 404, "amqp:not-found"

void amqp_eventhubs_on_request(amqp_lnk_t *l, pn_delivery_t *d, pn_message_t *m)
{
    amqp_session_t *s = l->s;
    char *op = app_text(m, "operation");
    char *type = app_text(m, "type");
    char *name = app_text(m, "name");
    char *part = app_text(m, "partition");
    const hub_config_t *cfg = hub_config(s->hub);
    char desc[300];
    pn_delivery_update(d, PN_ACCEPTED);
    pn_delivery_settle(d);
    if (!op || strcmp(op, "READ") != 0) {
        snprintf(desc, sizeof desc, "unsupported $management operation '%s' (READ only)", op ? op : "(none)");
        reply_error(s, m, EH_BAD_REQUEST, desc);
    } else if (!name || strcasecmp(name, cfg->name) != 0) {
        snprintf(desc, sizeof desc, "no Event Hub named '%s' (the hub's name is '%s')", name ? name : "(none)",
                 cfg->name);
        reply_error(s, m, EH_NOT_FOUND, desc);
    } else if (type && strcmp(type, "com.microsoft:eventhub") == 0) {
        read_eventhub(s, m);
    } else if (type && strcmp(type, "com.microsoft:partition") == 0) {
        char *end = NULL;
        long v = part && *part ? strtol(part, &end, 10) : -1;
        if (!part || !*part || *end || v < 0 || v >= (long)partition_count(s)) {
            snprintf(desc, sizeof desc, "no partition '%s': partitions are 0..%" PRIu32, part ? part : "(none)",
                     partition_count(s) - 1);
            reply_error(s, m, EH_NOT_FOUND, desc);
        } else {
            read_partition(s, m, (uint32_t)v);
        }
    } else {
        snprintf(desc, sizeof desc, "unsupported $management type '%s'", type ? type : "(none)");
        reply_error(s, m, EH_BAD_REQUEST, desc);
    }
    free(op);
    free(type);
    free(name);
    free(part);
}
