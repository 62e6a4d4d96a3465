/* Report stamping, wall-clock helpers and shard parsing shared by the simulation commands. */
#include "run_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "exit_codes.h"

static void knob_u64(report_result_t *r, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    report_result_set_knob(r, key, buf);
}

static void knob_time(report_result_t *r, const char *key, sim_time_t v)
{
    char buf[48];
    sim_duration_format(v, buf, sizeof buf);
    report_result_set_knob(r, key, buf);
}

void run_stamp_knobs(report_result_t *r, const hub_config_t *c)
{
    report_result_set_knob(r, "hub.name", c->name);
    report_result_set_knob(r, "hub.host", c->host);
    report_result_set_knob(r, "throttling.profile", c->throttling.profile == HUB_THROTTLE_S1 ? "s1" : "off");
    knob_u64(r, "throttling.units", c->throttling.units);
    knob_u64(r, "quotas.dailyMessages", c->quotas.daily_messages);
    knob_u64(r, "methods.kbSize", c->methods.kb_size);
    knob_u64(r, "methods.maxPayloadBytes", c->methods.max_payload_bytes);
    knob_u64(r, "methods.nameMaxLength", c->methods.name_max_length);
    knob_u64(r, "methods.oversizedResponseStatus", (uint64_t)c->methods.oversized_response_status);
    report_result_set_knob(r, "methods.lateResponse", c->methods.late_response == HUB_LATE_RESPONSE_DROP ? "drop" : "close");
    report_result_set_knob(r, "methods.unknownRid", c->methods.unknown_rid == HUB_UNKNOWN_RID_IGNORE ? "ignore" : "close");
    knob_time(r, "methods.responseTimeoutDefault", c->methods.response_timeout_default);
    knob_time(r, "methods.responseTimeoutMin", c->methods.response_timeout_min);
    knob_time(r, "methods.responseTimeoutMax", c->methods.response_timeout_max);
    knob_time(r, "methods.connectTimeoutDefault", c->methods.connect_timeout_default);
    knob_time(r, "methods.connectTimeoutMax", c->methods.connect_timeout_max);
    knob_u64(r, "messages.d2cMaxBytes", c->messages.d2c_max_bytes);
    knob_u64(r, "messages.c2dMaxBytes", c->messages.c2d_max_bytes);
    knob_u64(r, "messages.messageIdMaxLength", c->messages.message_id_max_length);
    knob_u64(r, "c2d.maxQueueDepth", c->c2d.max_queue_depth);
    knob_time(r, "c2d.ttlDefault", c->c2d.ttl_default);
    knob_time(r, "c2d.ttlMax", c->c2d.ttl_max);
    knob_time(r, "c2d.lockTimeout", c->c2d.lock_timeout);
    knob_u64(r, "c2d.maxDeliveryCount", c->c2d.max_delivery_count);
    knob_u64(r, "c2d.feedbackBatchRecords", c->c2d.feedback_batch_records);
    knob_time(r, "c2d.feedbackFlushInterval", c->c2d.feedback_flush_interval);
    knob_u64(r, "twins.tagsMaxBytes", c->twins.tags_max_bytes);
    knob_u64(r, "twins.desiredMaxBytes", c->twins.desired_max_bytes);
    report_result_set_knob(r, "deadlineWins", c->deadline_wins ? "true" : "false");
}

int64_t run_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double run_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int run_write_reports(const char *cmd, const report_result_t *r, const reports_paths_t *paths)
{
    char err[512];
    if (reports_write(r, paths, err, sizeof err) != HS_EOK) {
        fprintf(stderr, "hubsim %s: cannot write reports: %s\n", cmd, err);
        return HS_EXIT_HARNESS;
    }
    return HS_EXIT_OK;
}

int run_parse_shard(const char *text, uint32_t *k, uint32_t *n)
{
    char *end;
    unsigned long a = strtoul(text, &end, 10);
    if (end == text || *end != '/')
        return -1;
    const char *p = end + 1;
    unsigned long b = strtoul(p, &end, 10);
    if (end == p || *end || b == 0 || a >= b || b > 1000000)
        return -1;
    *k = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}
