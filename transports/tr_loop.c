/* The pumped event loop: bounded waits on one event_base with a wake-up timer at the deadline. */
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "transports/tr_loop.h"

struct tr_loop {
    struct event_base *base;
    struct event *wake; /* fires at the deadline so a blocking dispatch returns */
};

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

tr_loop_t *tr_loop_new(void)
{
    tr_loop_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->base = event_base_new();
    if (l->base)
        l->wake = evtimer_new(l->base, on_wake, l);
    if (!l->base || !l->wake) {
        tr_loop_free(l);
        return NULL;
    }
    return l;
}

void tr_loop_free(tr_loop_t *l)
{
    if (!l)
        return;
    if (l->wake)
        event_free(l->wake);
    if (l->base)
        event_base_free(l->base);
    free(l);
}

struct event_base *tr_loop_base(tr_loop_t *l)
{
    return l->base;
}

int64_t tr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tr_loop_poll(tr_loop_t *l)
{
    event_base_loop(l->base, EVLOOP_NONBLOCK);
}

bool tr_loop_wait(tr_loop_t *l, tr_done_fn done, void *arg, int64_t timeout_ms)
{
    int64_t deadline = tr_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (done && done(arg))
            return true;
        int64_t left = deadline - tr_now_ms();
        if (left <= 0)
            break;
        struct timeval tv = { (time_t)(left / 1000), (suseconds_t)((left % 1000) * 1000) };
        evtimer_add(l->wake, &tv);
        event_base_loop(l->base, EVLOOP_ONCE);
    }
    evtimer_del(l->wake);
    tr_loop_poll(l);
    return done ? done(arg) : true;
}
