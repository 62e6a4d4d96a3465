/* What the in-process and live targets share behind the seam: the owned copy of a received message, and a hub message built from a case's target_msg_t. */
#ifndef CONFORMANCE_TARGET_SUPPORT_H
#define CONFORMANCE_TARGET_SUPPORT_H

#include <stddef.h>
#include "conformance/target.h"
#include "sim/hub/message.h"

/* A received message a target keeps until the next call (target_rx_msg_t
 * points into it); every string is owned. */
typedef struct {
    char *endpoint, *body;
    size_t body_len;
    target_prop_t *sys, *app;
    size_t n_sys, n_app;
} target_rx_owned_t;

/* Frees every string and zeroes r. */
void target_rx_owned_free(target_rx_owned_t *r);
/* Moves queue[i] out of a queue of n messages into *last (which must hold
 * nothing: free it first) and points out at it: what endpoint_next hands a
 * case, alive until the next pop. */
void target_rx_pop(target_rx_owned_t *queue, size_t *n, size_t i, target_rx_owned_t *last,
                   target_rx_msg_t *out);

/* A hub message from a case's message: system properties by query name
 * (an unknown name -> NULL with st = 400 ArgumentInvalid), application
 * properties in order.  Aborts on allocation failure (harness code). */
hub_msg_t *target_msg_to_hub(const target_msg_t *m, target_status_t *st);

#endif
