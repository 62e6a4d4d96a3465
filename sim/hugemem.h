/* Large arrays on 2 MB pages: a hint to the kernel that never changes what a program computes. */
#ifndef SIM_HUGEMEM_H
#define SIM_HUGEMEM_H

#include <stddef.h>

/*
 * A million-device run keeps ~450 MB of per-device state that its events
 * touch in random order.  On 4 KB pages nearly every such touch misses the
 * TLB, and the first touch of every page is a page fault.  Where the kernel
 * offers transparent huge pages on request (Linux, THP "madvise" or
 * "always"), sim_mem_advise_huge asks for them on the 2 MB-aligned part of
 * [p, p + bytes): ~512 times fewer page faults and TLB entries.  Arrays
 * under 4 MB and systems without THP are left alone.  Call it on memory not
 * yet touched (a fresh calloc/malloc/realloc tail) for the most effect.
 * Purely a cost hint: contents and results are the same with or without.
 */
void sim_mem_advise_huge(void *p, size_t bytes);

#endif
