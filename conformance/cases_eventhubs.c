/* Conformance cases for the Event Hubs-compatible endpoint over AMQP: partition count, partitioning by device, consumer groups, the enqueued-time filter. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <proton/codec.h>
#include <proton/disposition.h>
#include <proton/terminus.h>

#include "conformance/case.h"
#include "conformance/case_rest.h"
#include "conformance/wire_amqp_client.h"

/* Literals from docs/eventhubs.md: receivers attach to
 * {name}/ConsumerGroups/{cg}/Partitions/{n} [sdk]; messages are partitioned
 * by the originating device id [doc]; consumer groups read independently
 * [doc]; the partition count is chosen at creation, 4 by default here [?];
 * the source filter `amqp.annotation.x-opt-enqueued-time > '{unix ms}'`
 * [sdk] starts after that instant.  Addresses are written in lower case
 * (only AMQP-ADDRESS-CASE's own case spells them otherwise); the entity
 * name is the hub's name, "hubsim" on the in-process target. */

#define SEC ((sim_time_t)1000000000)
#define WIRE TARGET_CAP_WIRE
#define VT TARGET_CAP_VIRTUAL_TIME
#define PARTITIONS 4
#define SELECTOR "apache.org:selector-filter:string"
#define SELECTOR_CODE 0x0000468C00000004ULL

/* A service connection (owner policy; the settings must come first). */
static bool service(conf_ctx_t *c, wa_t *a)
{
    memset(a, 0, sizeof *a);
    return wa_open(c, a, WA_AUTH_NONE, NULL, NULL) && wa_auth_service(a, "owner", CONF_KEY_B);
}

static void partition_addr(const char *group, int n, char *out, size_t cap)
{
    snprintf(out, cap, "hubsim/consumergroups/%s/partitions/%d", group, n);
}

/* A receiver on a partition, with a selector filter (NULL: none). */
static pn_link_t *partition_receiver(wa_t *a, const char *name, const char *group, int n, const char *filter)
{
    char addr[200];
    partition_addr(group, n, addr, sizeof addr);
    pn_link_t *l = pn_receiver(a->ssn, name);
    pn_terminus_set_address(pn_link_source(l), addr);
    pn_terminus_set_address(pn_link_target(l), name);
    if (filter) {
        pn_data_t *f = pn_terminus_filter(pn_link_source(l));
        pn_data_put_map(f);
        pn_data_enter(f);
        pn_data_put_symbol(f, pn_bytes(strlen(SELECTOR), SELECTOR));
        pn_data_put_described(f);
        pn_data_enter(f);
        pn_data_put_ulong(f, SELECTOR_CODE);
        pn_data_put_string(f, pn_bytes(strlen(filter), filter));
        pn_data_exit(f);
        pn_data_exit(f);
    }
    pn_link_open(l);
    pn_link_flow(l, 50);
    wa_pump(a);
    return l;
}

/* Send one D2C message with that message id from a connected device. */
static bool send(conf_ctx_t *c, target_conn_t conn, const char *message_id)
{
    target_msg_t m;
    target_status_t st;
    conf_msg_init(&m, "{}");
    conf_msg_sys(&m, "messageId", message_id);
    c->ops->device_send(c->t, conn, &m, &st);
    char what[160];
    snprintf(what, sizeof what, "send %s", message_id);
    return conf_status(c, &st, 200, 0, what);
}

/* The message ids a receiver got, in order, comma-separated (settled accepted). */
static void drain(wa_t *a, pn_link_t *l, char *out, size_t cap)
{
    out[0] = '\0';
    wa_pump(a);
    wa_rx_t *r;
    while ((r = wa_next(a, l)) != NULL) {
        pn_atom_t id = pn_message_get_id(r->m);
        size_t used = strlen(out);
        if (id.type == PN_STRING)
            snprintf(out + used, cap - used, "%s%.*s", used ? "," : "", (int)id.u.as_bytes.size, id.u.as_bytes.start);
        else
            snprintf(out + used, cap - used, "%s?", used ? "," : "");
        wa_settle(a, r, PN_ACCEPTED);
    }
}

/* ---- EH-PARTITION-COUNT -------------------------------------------------------------------- */

static void partition_count(conf_ctx_t *c)
{
    wa_t a;
    memset(&a, 0, sizeof a);
    if (!conf_rest_setup(c, NULL) || !service(c, &a)) {
        wa_free(&a);
        return;
    }
    pn_link_t *last = partition_receiver(&a, "p3", "$default", PARTITIONS - 1, NULL);
    pn_link_t *past = partition_receiver(&a, "p4", "$default", PARTITIONS, NULL);
    if (conf_check(c, !wa_link_closed(last), "a receiver on partition 3 stays attached", "detached: %s",
                   wa_link_condition(last)))
        conf_check(c, wa_link_closed(past) && strcmp(wa_link_condition(past), "amqp:not-found") == 0,
                   "a receiver on partition 4 (of 4) is detached amqp:not-found", "%s",
                   wa_link_closed(past) ? wa_link_condition(past) : "attached");
    wa_free(&a);
}

/* ---- EH-PARTITION-BY-DEVICE / EH-CONSUMER-GROUPS -------------------------------------------- */

#define N_DEV 5

/* Every partition of group read into got[] (message ids per partition). */
static void read_all(wa_t *a, const char *group, const char *filter, char got[PARTITIONS][400])
{
    for (int p = 0; p < PARTITIONS; p++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%d", group, p);
        pn_link_t *l = partition_receiver(a, name, group, p, filter);
        drain(a, l, got[p], sizeof got[p]);
    }
}

/* Devices d1..d5 send d{i}-1 then d{i}-2 (interleaved).  false: not set up. */
static bool fleet_sends(conf_ctx_t *c)
{
    target_conn_t conn[N_DEV];
    for (int i = 0; i < N_DEV; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i + 1);
        if (!conf_online(c, id, NULL, 0, &conn[i]))
            return false;
    }
    for (int round = 1; round <= 2; round++)
        for (int i = 0; i < N_DEV; i++) {
            char mid[32];
            snprintf(mid, sizeof mid, "d%d-%d", i + 1, round);
            if (!send(c, conn[i], mid))
                return false;
        }
    return true;
}

/* Which partition holds message id mid (-1: none, -2: more than one). */
static int partition_of(char got[PARTITIONS][400], const char *mid)
{
    int at = -1;
    for (int p = 0; p < PARTITIONS; p++) {
        const char *s = got[p];
        size_t n = strlen(mid);
        for (const char *q = strstr(s, mid); q; q = strstr(q + 1, mid))
            if ((q == s || q[-1] == ',') && (q[n] == ',' || q[n] == '\0'))
                at = at == -1 ? p : -2;
    }
    return at;
}

static bool every_device_in_one_partition(conf_ctx_t *c, char got[PARTITIONS][400], const char *group)
{
    char all[1700];
    snprintf(all, sizeof all, "%s | %s | %s | %s", got[0], got[1], got[2], got[3]);
    for (int i = 1; i <= N_DEV; i++) {
        char m1[16], m2[16], exp[200];
        snprintf(m1, sizeof m1, "d%d-1", i);
        snprintf(m2, sizeof m2, "d%d-2", i);
        int p1 = partition_of(got, m1), p2 = partition_of(got, m2);
        snprintf(exp, sizeof exp, "%s: d%d's two events once each, in one partition", group, i);
        if (!conf_check(c, p1 >= 0 && p1 == p2, exp, "partitions 0..3: %s", all))
            return false;
    }
    return true;
}

static void partition_by_device(conf_ctx_t *c)
{
    wa_t a;
    memset(&a, 0, sizeof a);
    if (!conf_rest_setup(c, NULL) || !service(c, &a)) {
        wa_free(&a);
        return;
    }
    char got[PARTITIONS][400];
    if (fleet_sends(c)) {
        read_all(&a, "$default", NULL, got);
        every_device_in_one_partition(c, got, "$default");
    }
    wa_free(&a);
}

static void consumer_groups(conf_ctx_t *c)
{
    wa_t a;
    memset(&a, 0, sizeof a);
    if (!conf_rest_setup(c, NULL) || !service(c, &a)) {
        wa_free(&a);
        return;
    }
    char got1[PARTITIONS][400], got2[PARTITIONS][400];
    if (fleet_sends(c)) {
        read_all(&a, "$default", NULL, got1); /* read (and settled) first */
        read_all(&a, "cg2", NULL, got2);
        if (every_device_in_one_partition(c, got2, "cg2 after $default read everything"))
            conf_check(c,
                       !strcmp(got1[0], got2[0]) && !strcmp(got1[1], got2[1]) && !strcmp(got1[2], got2[2]) &&
                           !strcmp(got1[3], got2[3]),
                       "both groups read the same events per partition", "$default %s|%s|%s|%s, cg2 %s|%s|%s|%s",
                       got1[0], got1[1], got1[2], got1[3], got2[0], got2[1], got2[2], got2[3]);
    }
    wa_free(&a);
}

/* ---- EH-ENQUEUED-TIME-FILTER --------------------------------------------------------------- */

static void enqueued_time_filter(conf_ctx_t *c)
{
    wa_t a;
    target_conn_t conn;
    memset(&a, 0, sizeof a);
    if (!conf_rest_setup(c, NULL) || !service(c, &a)) {
        wa_free(&a);
        return;
    }
    if (conf_online(c, "d1", NULL, 0, &conn) && send(c, conn, "early")) {
        int64_t mid_ms = (c->ops->unix_now(c->t) + 5) * 1000; /* between the two sends */
        conf_advance(c, 10 * SEC);
        if (send(c, conn, "late")) {
            char filter[128], got[PARTITIONS][400], all[1700];
            snprintf(filter, sizeof filter, "amqp.annotation.x-opt-enqueued-time > '%" PRId64 "'", mid_ms);
            read_all(&a, "$default", filter, got);
            snprintf(all, sizeof all, "%s%s%s%s", got[0], got[1], got[2], got[3]);
            conf_check(c, strcmp(all, "late") == 0,
                       "x-opt-enqueued-time > (5 s after 'early'): only 'late' is delivered", "%s", all);
        }
    }
    wa_free(&a);
}

/* ---- the table ------------------------------------------------------------------------------- */

const conf_case_t conf_cases_eventhubs[] = {
    { "EH-PARTITION-COUNT", "receiver on partition 3 attaches; on partition 4: detached amqp:not-found",
      partition_count, WIRE, NULL, true },
    { "EH-PARTITION-BY-DEVICE", "5 devices x 2 events: each device's events in exactly one partition",
      partition_by_device, WIRE, NULL, true },
    { "EH-CONSUMER-GROUPS", "a second consumer group reads every event after the first read them all",
      consumer_groups, WIRE, NULL, true },
    { "EH-ENQUEUED-TIME-FILTER", "filter x-opt-enqueued-time > t: the event before t is skipped, the one after read",
      enqueued_time_filter, WIRE | VT, NULL, true },
    { NULL, NULL, NULL, 0, NULL, false },
};
