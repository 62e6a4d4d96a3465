/* Trace hashing (binary canonical encoding) and JSON-lines output.
 *
 * What feeds the hash, per event, in order (docs/trace.md): the kind's bytes
 * and a 0 byte; the virtual time as u64; the field count as u64; then per
 * field the key's bytes and a 0 byte, the type as u64, and the value (u64 of
 * the two's-complement integer, or the string's bytes and a 0 byte).  Bytes
 * are packed into little-endian 64-bit words by arithmetic, not memcpy, so the
 * hash does not depend on the machine's byte order.  The trace hash is the
 * final avalanche of the running state after the last event. */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

struct sim_trace {
    sim_hash_t hash;
    uint64_t count;
    uint64_t seed;
    int64_t epoch_unix;
    FILE *out;
};

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

void sim_hash_init(sim_hash_t *h)
{
    h->acc = P3;
    h->pending = 0;
    h->npending = 0;
    h->length = 0;
}

static inline void hash_word(sim_hash_t *h, uint64_t w)
{
    w *= P2;
    w = rotl64(w, 31);
    w *= P1;
    h->acc ^= w;
    h->acc = rotl64(h->acc, 27) * P1 + P3;
}

/* Little-endian word from 8 bytes, by arithmetic (compilers fold it into one
 * load on little-endian machines). */
static inline uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* The 1..7 bytes at p as a little-endian word, without a loop: two
 * overlapping 4-byte loads (4..7 bytes) or the first, middle and last byte
 * (1..3 bytes); overlapping bytes are the same bytes, so OR-ing is exact. */
static inline uint64_t load_le_tail(const unsigned char *p, size_t len)
{
    if (len >= 4) {
        uint64_t lo = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                      (uint64_t)p[3] << 24;
        const unsigned char *q = p + len - 4;
        uint64_t hi = (uint64_t)q[0] | (uint64_t)q[1] << 8 | (uint64_t)q[2] << 16 |
                      (uint64_t)q[3] << 24;
        return lo | hi << (8 * (len - 4));
    }
    return (uint64_t)p[0] | (uint64_t)p[len / 2] << (8 * (len / 2)) |
           (uint64_t)p[len - 1] << (8 * (len - 1));
}

/* The byte stream is cut into 8-byte words whatever the call boundaries:
 * top up the pending word, then whole words straight from the input, then
 * keep the tail pending.  Same words, same order as byte-at-a-time.  Inline
 * so that sim_trace_emit runs it on a local copy of the state, which the
 * compiler keeps in registers (through a pointer every store to the state
 * would reload it: the input bytes may alias it). */
static inline void hash_feed(sim_hash_t *h, const unsigned char *p, size_t len)
{
    h->length += len;
    if (h->npending) {
        /* Misaligned: each 8 input bytes complete the pending word and
         * leave their high bytes pending (as sim_hash_u64 does), instead
         * of a byte-at-a-time top-up. */
        unsigned shift = 8 * h->npending;
        for (; len >= 8; p += 8, len -= 8) {
            uint64_t w = load_le64(p);
            hash_word(h, h->pending | (w << shift));
            h->pending = w >> (64 - shift);
        }
    } else {
        for (; len >= 8; p += 8, len -= 8)
            hash_word(h, load_le64(p));
    }
    if (!len)
        return;
    /* The 1..7 tail bytes as one word, merged like sim_hash_u64 does but
     * for len bytes: what overflows the pending word stays pending. */
    uint64_t w = load_le_tail(p, len);
    unsigned have = h->npending;
    h->pending |= w << (8 * have); /* have + len < 16: have is 0 only with len < 8 */
    if (have + len < 8) {
        h->npending = have + (unsigned)len;
        return;
    }
    hash_word(h, h->pending);
    h->pending = w >> (64 - 8 * have); /* have >= 1 here */
    h->npending = have + (unsigned)len - 8;
}

void sim_hash_bytes(sim_hash_t *h, const void *data, size_t len)
{
    hash_feed(h, data, len);
}

static inline void hash_u64(sim_hash_t *h, uint64_t v)
{
    h->length += 8;
    if (h->npending == 0) {
        hash_word(h, v);
        return;
    }
    /* The low (8 - npending) bytes complete the pending word; the rest stay. */
    unsigned shift = 8 * h->npending;
    hash_word(h, h->pending | (v << shift));
    h->pending = v >> (64 - shift);
}

void sim_hash_u64(sim_hash_t *h, uint64_t v)
{
    hash_u64(h, v);
}

/* A string of length n and its terminating 0 byte. */
static inline void hash_str(sim_hash_t *h, const char *s, size_t n)
{
    hash_feed(h, (const unsigned char *)s, n + 1);
}

uint64_t sim_hash_final(const sim_hash_t *h)
{
    uint64_t acc = h->acc;
    if (h->npending) {
        uint64_t w = h->pending * P2;
        acc ^= rotl64(w, 31) * P1;
    }
    acc ^= h->length;
    acc ^= acc >> 33;
    acc *= P2;
    acc ^= acc >> 29;
    acc *= P3;
    acc ^= acc >> 32;
    return acc;
}

sim_trace_t *sim_trace_new(uint64_t seed, int64_t epoch_unix)
{
    sim_trace_t *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    sim_hash_init(&tr->hash);
    tr->seed = seed;
    tr->epoch_unix = epoch_unix;
    return tr;
}

void sim_trace_free(sim_trace_t *tr) { free(tr); }

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

hs_err_t sim_trace_attach(sim_trace_t *tr, FILE *f)
{
    if (!f)
        return HS_EINVAL;
    tr->out = f;
    fprintf(f, "{\"trace\":\"hubsim\",\"format\":%d,\"seed\":%llu,\"epoch\":%lld}\n",
            SIM_TRACE_FORMAT_VERSION, (unsigned long long)tr->seed, (long long)tr->epoch_unix);
    return HS_EOK;
}

void sim_trace_emit(sim_trace_t *tr, sim_time_t t, const char *kind, const sim_tf_t *fields,
                    size_t nfields)
{
    sim_hash_t st = tr->hash, *h = &st; /* local: see hash_feed */
    hash_str(h, kind, strlen(kind));
    hash_u64(h, t);
    hash_u64(h, nfields);
    for (size_t i = 0; i < nfields; i++) {
        const sim_tf_t *f = &fields[i];
        hash_str(h, f->key, f->key_len);
        hash_u64(h, (uint64_t)f->type);
        if (f->type != SIM_TF_STR)
            hash_u64(h, (uint64_t)f->i);
        else if (!f->s)
            hash_str(h, "", 0);
        else
            hash_str(h, f->s, f->i >= 0 ? (size_t)f->i : strlen(f->s));
    }
    tr->hash = st;
    tr->count++;
    if (!tr->out)
        return;
    FILE *o = tr->out;
    fprintf(o, "{\"n\":%llu,\"t\":%llu,\"kind\":", (unsigned long long)tr->count,
            (unsigned long long)t);
    json_string(o, kind);
    for (size_t i = 0; i < nfields; i++) {
        const sim_tf_t *f = &fields[i];
        fputc(',', o);
        json_string(o, f->key);
        fputc(':', o);
        if (f->type == SIM_TF_STR)
            json_string(o, f->s ? f->s : "");
        else if (f->type == SIM_TF_BOOL)
            fputs(f->i ? "true" : "false", o);
        else
            fprintf(o, "%lld", (long long)f->i);
    }
    fputs("}\n", o);
}

uint64_t sim_trace_hash(const sim_trace_t *tr) { return sim_hash_final(&tr->hash); }
uint64_t sim_trace_count(const sim_trace_t *tr) { return tr->count; }

void sim_trace_hash_line(const sim_trace_t *tr, char *buf, size_t cap)
{
    snprintf(buf, cap, "trace-hash=%016llx", (unsigned long long)sim_trace_hash(tr));
}
