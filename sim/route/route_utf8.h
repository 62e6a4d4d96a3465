/* UTF-8 encoding shared by the query lexer (string escapes, case mapping) and the body decoder. */
#ifndef ROUTE_UTF8_H
#define ROUTE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Write code point cp (<= 0x10FFFF) as UTF-8 at p (room for 4 bytes);
 * returns the bytes written. */
size_t route_utf8_put(char *p, uint32_t cp);

#endif
