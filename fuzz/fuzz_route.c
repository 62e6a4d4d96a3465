/* libFuzzer entry point over the routing parser and evaluator: expression, message file, route table, body decoding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/route/route_msgfile.h"
#include "sim/route/route_table.h"

/*
 * Input layout: [0x01 FLAGS] EXPR [\0 MESSAGE-JSON [\0 TWIN-JSON]]
 * A leading 0x01 makes the next byte a bitmask flipping option knobs, so
 * every knob's code paths are reachable.  Without a message the expression
 * runs against a fixed message with a JSON body.  The expression is also
 * loaded as a route condition, and the message body is decoded in every
 * supported encoding.
 */

static const char default_msg[] =
    "{\"systemProperties\":{\"contentType\":\"application/json\",\"contentEncoding\":\"utf-8\","
    "\"connectionDeviceId\":\"d1\",\"iothub-enqueuedtime\":\"2020-01-01T00:00:00Z\"},"
    "\"appProperties\":{\"a\":\"1\",\"b\":\"x\",\"n\":null,\"$contentType\":\"s\"},"
    "\"body\":\"{\\\"a\\\":{\\\"b\\\":[1,2,{\\\"c\\\":\\\"d\\\"}]},\\\"s\\\":\\\"\\u00e9\\\",\\\"n\\\":null}\"}";
static const char default_twin[] =
    "{\"tags\":{\"t\":\"1\"},\"properties\":{\"desired\":{\"x\":1},\"reported\":{\"y\":[true]}}}";

static void flip(route_options_t *o, uint8_t f)
{
    if (f & 1) o->dollar_app_first = !o->dollar_app_first;
    if (f & 2) o->coerce_numeric_strings = !o->coerce_numeric_strings;
    if (f & 4) o->literals_case_insensitive = !o->literals_case_insensitive;
    if (f & 8) o->not_binds_tight = !o->not_binds_tight;
    if (f & 16) o->length_utf16_units = !o->length_utf16_units;
    if (f & 32) o->div_by_zero_undefined = !o->div_by_zero_undefined;
    if (f & 64) o->utf_no_bom_big_endian = !o->utf_no_bom_big_endian;
    if (f & 128) o->body_case_insensitive = !o->body_case_insensitive;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    route_options_t o;
    route_options_default(&o);
    if (size >= 2 && data[0] == 1) {
        flip(&o, data[1]);
        data += 2;
        size -= 2;
    }
    /* split at NULs */
    const uint8_t *z1 = memchr(data, 0, size);
    size_t elen = z1 ? (size_t)(z1 - data) : size;
    char *expr = malloc(elen + 1);
    if (!expr)
        return 0;
    memcpy(expr, data, elen);
    expr[elen] = 0;
    json_t *msg = NULL, *twin = NULL;
    if (z1) {
        const uint8_t *rest = z1 + 1;
        size_t rlen = size - elen - 1;
        const uint8_t *z2 = memchr(rest, 0, rlen);
        size_t mlen = z2 ? (size_t)(z2 - rest) : rlen;
        msg = json_loadb((const char *)rest, mlen, JSON_DECODE_ANY, NULL);
        if (z2)
            twin = json_loadb((const char *)z2 + 1, rlen - mlen - 1, JSON_DECODE_ANY, NULL);
        /* the raw bytes as a body in every encoding */
        static const char *const encs[] = { "utf-8", "UTF-16", "utf-16be", "UTF-32", "utf-32le", "bogus" };
        for (size_t i = 0; i < sizeof encs / sizeof encs[0]; i++) {
            char *out;
            size_t olen;
            if (!route_decode_text(rest, mlen, encs[i], &o, &out, &olen))
                free(out);
        }
        unsigned char *b;
        size_t blen;
        if (!route_base64_decode((const char *)rest, mlen, &b, &blen))
            free(b);
    }
    if (!msg)
        msg = json_loads(default_msg, 0, NULL);
    if (!twin)
        twin = json_loads(default_twin, 0, NULL);
    char err[256];
    route_msgfile_t *mf = NULL;
    if (route_msgfile_load(msg, twin, &mf, err, sizeof err)) {
        json_t *d = json_loads(default_msg, 0, NULL);
        if (route_msgfile_load(d, NULL, &mf, err, sizeof err))
            mf = NULL;
        json_decref(d); /* the file holds its own reference */
    }
    route_query_t *q = NULL;
    route_syntax_error_t se;
    if (!route_query_compile(expr, &o, &q, &se) && mf) {
        route_message_t *m = route_msgfile_view(mf);
        route_tri_t a = route_query_eval(q, m);
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            route_tri_t b = route_query_explain(q, m, devnull);
            fclose(devnull);
            if (a != b)
                abort(); /* explain must evaluate exactly as eval does */
        }
    }
    route_query_free(q);
    /* the expression as a route condition, and the message through a table */
    json_t *routing = json_pack("{s:[{s:s,s:s,s:s,s:[s]}]}", "routes", "name", "r", "source", "DeviceMessages",
                                "condition", expr, "endpointNames", "events");
    route_table_t *t = NULL;
    route_load_error_t le;
    if (routing && !route_table_load(routing, &o, &t, &le) && mf) {
        uint32_t eps[4];
        route_match_t res;
        route_table_match(t, route_msgfile_view(mf), ROUTE_SRC_DEVICE_MESSAGES, eps, 4, &res, NULL);
    }
    route_table_free(t);
    json_decref(routing);
    route_msgfile_free(mf);
    json_decref(msg);
    json_decref(twin);
    free(expr);
    return 0;
}
