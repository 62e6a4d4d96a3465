/* The served hub's clock: the kernel's virtual time follows the wall clock, so hub deadlines and token expiry are real seconds. */
#include "serve/wallclock.h"

#include <stdlib.h>
#include <time.h>

struct serve_clock {
    struct event_base *base;
    struct event *timer;
    sim_kernel_t *k;
    struct timespec start; /* CLOCK_MONOTONIC at virtual time 0 */
};

static sim_time_t elapsed_ns(const serve_clock_t *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)(now.tv_sec - c->start.tv_sec) * 1000000000 + (now.tv_nsec - c->start.tv_nsec);
    return ns > 0 ? (sim_time_t)ns : 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    serve_clock_t *c = arg;
    serve_clock_sync(c);
    serve_clock_rearm(c);
}

serve_clock_t *serve_clock_new(struct event_base *base, int64_t *epoch_unix_out)
{
    serve_clock_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->timer = evtimer_new(base, on_timer, c);
    if (!c->timer) {
        free(c);
        return NULL;
    }
    /* The kernel's epoch is whole Unix seconds: put virtual time 0 at the
     * last whole second, so hub timestamps (enqueuedTime, token expiry)
     * match the wall clock to the nanosecond, not up to a second behind. */
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    c->start.tv_nsec -= real.tv_nsec;
    if (c->start.tv_nsec < 0) {
        c->start.tv_nsec += 1000000000;
        c->start.tv_sec -= 1;
    }
    if (epoch_unix_out)
        *epoch_unix_out = (int64_t)real.tv_sec;
    return c;
}

void serve_clock_attach(serve_clock_t *c, sim_kernel_t *k)
{
    c->k = k;
    serve_clock_rearm(c);
}

void serve_clock_free(serve_clock_t *c)
{
    if (!c)
        return;
    event_free(c->timer);
    free(c);
}

void serve_clock_sync(serve_clock_t *c)
{
    if (!c->k)
        return;
    sim_time_t now = elapsed_ns(c);
    if (now > sim_kernel_now(c->k))
        sim_kernel_run_until(c->k, now);
}

void serve_clock_rearm(serve_clock_t *c)
{
    if (!c->k)
        return;
    sim_time_t next;
    /* With nothing pending, wake once a second anyway: cheap, and it keeps
     * virtual time close to the wall clock for anything that reads it. */
    sim_time_t delay = 1000000000;
    if (sim_queue_peek_time(sim_kernel_queue(c->k), &next)) {
        sim_time_t now = elapsed_ns(c);
        delay = next > now ? next - now : 0;
        if (delay > 1000000000)
            delay = 1000000000;
    }
    struct timeval tv = { .tv_sec = (time_t)(delay / 1000000000),
                          .tv_usec = (suseconds_t)((delay % 1000000000) / 1000) };
    evtimer_add(c->timer, &tv);
}
