/* Direct methods: request ids and the argument rules shared by the hub, `serve` and the tests. */
#ifndef HUB_METHODS_H
#define HUB_METHODS_H

#include <stddef.h>
#include <stdint.h>
#include "sim/errors.h"

/* The device-side request id: lower-case hex of the hub's 64-bit call id
 * (direct-methods.txt: "The request ID is a hexadecimal formatted value"). */
#define HUB_RID_CAP 24
void hub_method_format_rid(uint64_t call_id, char *buf, size_t cap);
/* HS_EPARSE for anything but 1-16 hex digits. */
hs_err_t hub_method_parse_rid(const char *text, uint64_t *call_id);

#endif
