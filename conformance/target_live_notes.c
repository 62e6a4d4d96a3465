/* The live target's case notes: the timing tolerance a case ran with in wall time, and throttling (429) by the hub named as the cause. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conformance/target_live_internal.h"

/*
 * Tolerance.  In wall time nothing happens at an exact instant: an answer
 * takes a round trip, a wait (advance) ends when the loop next wakes, a
 * device-side effect of a service call is awaited up to LIVE_SETTLE_MS and
 * a quiet queue up to LIVE_EVENT_MS.  The notes state the bounds the case
 * ran with and what the case measured of them (the slowest answer, how far
 * the waits overshot), so a verdict near a timing boundary can be judged.
 *
 * Throttling.  A hub that throttles answers 429 (ThrottlingException
 * 429001 over HTTPS and AMQP); over MQTT a throttled operation is only a
 * closed connection, so with hubsim serve's admin API the hub's own
 * throttled.* counters are read before and after the case and decide;
 * without that API a 429 answer does.  Throttling makes the cause
 * "throttled (429)": the runner then reports a red verdict as ERROR with
 * that cause, since it says nothing about the rule.
 */

/* A note, cut at cap (a note is for people: a cut one still says what it is). */
static void note_put(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note_put(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* The sum of the hub's throttled.* counters; false without the admin API. */
static bool throttled_total(conform_target_t *t, uint64_t *out)
{
    *out = 0;
    if (!t->has_admin)
        return false;
    char why[400];
    json_t *doc = live_admin_get(t, "/counters", why, sizeof why);
    if (!doc)
        return false;
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v)
    {
        if (strncmp(k, "throttled.", 10) == 0 && json_is_integer(v) && json_integer_value(v) > 0)
            *out += (uint64_t)json_integer_value(v);
    }
    json_decref(doc);
    return true;
}

void live_notes_begin(conform_target_t *t)
{
    t->n_429 = 0;
    t->first_429[0] = '\0';
    t->slowest_answer_ms = 0;
    t->n_waits = 0;
    t->waited_ms = t->wait_over_ms = 0;
    t->throttled_known = throttled_total(t, &t->throttled_at_open);
}

void live_note_status(conform_target_t *t, const target_status_t *st)
{
    if (!st || st->http != 429)
        return;
    if (t->n_429++ == 0) {
        char s[120];
        snprintf(t->first_429, sizeof t->first_429, "%s", target_status_format(st, s, sizeof s));
    }
}

void live_note_answer_ms(conform_target_t *t, int64_t ms)
{
    if (ms > t->slowest_answer_ms)
        t->slowest_answer_ms = ms;
}

void live_note_wait(conform_target_t *t, int64_t asked_ms, int64_t took_ms)
{
    t->n_waits++;
    t->waited_ms += asked_ms;
    if (took_ms - asked_ms > t->wait_over_ms)
        t->wait_over_ms = took_ms - asked_ms;
}

void live_case_notes(conform_target_t *t, target_case_notes_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t slack = t->slowest_answer_ms > t->wait_over_ms ? t->slowest_answer_ms : t->wait_over_ms;
    int n = snprintf(out->tolerance, sizeof out->tolerance,
                     "wall clock +-%lld ms (slowest answer %lld ms", (long long)slack,
                     (long long)t->slowest_answer_ms);
    if (n > 0 && (size_t)n < sizeof out->tolerance && t->n_waits)
        n += snprintf(out->tolerance + n, sizeof out->tolerance - (size_t)n, "; %u wait%s of %.1f s overshot <= %lld ms",
                      t->n_waits, t->n_waits == 1 ? "" : "s", (double)t->waited_ms / 1000.0,
                      (long long)t->wait_over_ms);
    if (n > 0 && (size_t)n < sizeof out->tolerance)
        snprintf(out->tolerance + n, sizeof out->tolerance - (size_t)n,
                 "); bounds: answer %d s, device effect %d s, quiet queue %d ms", LIVE_OP_MS / 1000, LIVE_SETTLE_MS / 1000,
                 LIVE_EVENT_MS);

    uint64_t now = 0;
    uint64_t counted = t->throttled_known && throttled_total(t, &now) && now > t->throttled_at_open
                           ? now - t->throttled_at_open
                           : 0;
    /* With the hub's own counters a 429 is throttling only when they rose
     * (a hub that answers 429 where a rule says otherwise, such as a second
     * concurrent method call, breaks the rule: its case must stay red);
     * without them every 429 is taken for what the protocol says it is. */
    bool throttled = t->throttled_known ? counted > 0 : t->n_429 > 0;
    if (throttled && t->n_429)
        note_put(out->cause, sizeof out->cause, "throttled (429): %u answer%s %s%s", t->n_429,
                 t->n_429 == 1 ? "" : "s, the first", t->first_429,
                 counted ? "; the hub's throttled.* counters rose during the case" : "");
    else if (throttled)
        note_put(out->cause, sizeof out->cause,
                 "throttled (429): the hub's throttled.* counters rose by %llu during the case (over MQTT a "
                 "throttled operation shows only as a closed connection)",
                 (unsigned long long)counted);
}
