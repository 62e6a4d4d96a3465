/* Every hub knob as key/value text in a report, so a report says exactly which hub it describes. */
#include "report_knobs.h"

#include <stdio.h>

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

void report_stamp_hub_knobs(report_result_t *r, const hub_config_t *c)
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

