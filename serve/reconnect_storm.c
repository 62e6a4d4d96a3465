/* Reconnect-storm detection for `serve --check-clients`: an identity that connects more often than the backoff rule allows. */
#include "serve/reconnect_storm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per identity: the times of its last max_connects connections (a ring).
 * Identities live in an open-addressing table that is only ever looked up,
 * never iterated, so nothing depends on hash order. */
typedef struct {
    char *identity;   /* NULL = free slot */
    sim_time_t *ring; /* max_connects entries */
    size_t next, filled;
} storm_entry_t;

struct storm_watch {
    size_t max_connects;
    sim_time_t window;
    storm_entry_t *slots;
    size_t cap, used;
};

storm_watch_t *storm_watch_new(size_t max_connects, sim_time_t window)
{
    storm_watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->max_connects = max_connects ? max_connects : STORM_DEFAULT_MAX_CONNECTS;
    w->window = window ? window : STORM_DEFAULT_WINDOW;
    return w;
}

void storm_watch_free(storm_watch_t *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->cap; i++) {
        free(w->slots[i].identity);
        free(w->slots[i].ring);
    }
    free(w->slots);
    free(w);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static storm_entry_t *find_slot(storm_entry_t *slots, size_t cap, const char *identity)
{
    size_t i = (size_t)(fnv1a(identity) & (cap - 1));
    while (slots[i].identity && strcmp(slots[i].identity, identity) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static bool grow(storm_watch_t *w)
{
    size_t cap = w->cap ? w->cap * 2 : 64;
    storm_entry_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < w->cap; i++)
        if (w->slots[i].identity)
            *find_slot(slots, cap, w->slots[i].identity) = w->slots[i];
    free(w->slots);
    w->slots = slots;
    w->cap = cap;
    return true;
}

bool storm_watch_note(storm_watch_t *w, const char *identity, sim_time_t now, char *detail, size_t cap)
{
    if ((w->used + 1) * 2 > w->cap && !grow(w))
        return false;
    storm_entry_t *e = find_slot(w->slots, w->cap, identity);
    if (!e->identity) {
        e->identity = strdup(identity);
        e->ring = calloc(w->max_connects, sizeof *e->ring);
        if (!e->identity || !e->ring) {
            free(e->identity);
            free(e->ring);
            e->identity = NULL;
            e->ring = NULL;
            return false;
        }
        w->used++;
    }
    /* the oldest of the last max_connects connections */
    bool storm = false;
    if (e->filled == w->max_connects) {
        sim_time_t oldest = e->ring[e->next];
        if (now - oldest < w->window) {
            storm = true;
            if (detail)
                snprintf(detail, cap, "%zu connections within %.1f s (the rule allows %zu per %.0f s: reconnect with backoff)",
                         w->max_connects + 1, (double)(now - oldest) / 1e9, w->max_connects,
                         (double)w->window / 1e9);
            /* report once per burst: forget the history */
            e->filled = 0;
            e->next = 0;
            return storm;
        }
    }
    e->ring[e->next] = now;
    e->next = (e->next + 1) % w->max_connects;
    if (e->filled < w->max_connects)
        e->filled++;
    return storm;
}
