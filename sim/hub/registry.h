/* The identity registry's rules shared with tests and tools: the device/module id character set. */
#ifndef HUB_REGISTRY_H
#define HUB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

/* NOTES.md: ids are <= 128 chars of ASCII 7-bit alphanumerics plus
 * - : . + % _ # * ? ! ( ) , = @ ; $ '  (case-sensitive). */
#define HUB_ID_MAX_CHARS 128
bool hub_id_char_ok(unsigned char c);

#endif
