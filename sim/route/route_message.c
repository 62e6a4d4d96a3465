/* The routing message view: system property names, options, body decoding (UTF-8/16/32) and the parsed-body cache. */
#include <stdlib.h>
#include <string.h>

#include "route_query.h"
#include "route_utf8.h"

static const char *const sys_names[ROUTE_SYS_COUNT][2] = {
#define ROUTE_SYS_NAMES(id, qname, alias) { qname, alias },
    ROUTE_SYSPROP_MAP(ROUTE_SYS_NAMES)
#undef ROUTE_SYS_NAMES
};

static int ci_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

int route_sysprop_lookup(const char *name, size_t len)
{
    for (int i = 0; i < ROUTE_SYS_COUNT; i++)
        if (ci_eq(name, len, sys_names[i][0]) || ci_eq(name, len, sys_names[i][1]))
            return i;
    return -1;
}

const char *route_sysprop_name(int slot)
{
    return slot >= 0 && slot < ROUTE_SYS_COUNT ? sys_names[slot][0] : NULL;
}

void route_options_default(route_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->dollar_app_first = false;
    o->bare_enqueued_time = true;
    o->coerce_numeric_strings = false;
    o->literals_case_insensitive = true;
    o->not_binds_tight = false;
    o->empty_condition_true = true;
    o->div_by_zero_undefined = false;
    o->content_type_params = true;
    o->encoding_aliases = true;
    o->utf_no_bom_big_endian = false;
    o->extended_type_functions = true;
    o->length_utf16_units = true;
    o->body_case_insensitive = true;
    o->null_is_defined = true;
}

static const struct {
    const char *key;
    size_t off;
} option_keys[] = {
    { "dollarAppFirst", offsetof(route_options_t, dollar_app_first) },
    { "bareEnqueuedTime", offsetof(route_options_t, bare_enqueued_time) },
    { "coerceNumericStrings", offsetof(route_options_t, coerce_numeric_strings) },
    { "literalsCaseInsensitive", offsetof(route_options_t, literals_case_insensitive) },
    { "notBindsTight", offsetof(route_options_t, not_binds_tight) },
    { "emptyConditionTrue", offsetof(route_options_t, empty_condition_true) },
    { "divByZeroUndefined", offsetof(route_options_t, div_by_zero_undefined) },
    { "contentTypeParams", offsetof(route_options_t, content_type_params) },
    { "encodingAliases", offsetof(route_options_t, encoding_aliases) },
    { "utfNoBomBigEndian", offsetof(route_options_t, utf_no_bom_big_endian) },
    { "extendedTypeFunctions", offsetof(route_options_t, extended_type_functions) },
    { "lengthUtf16Units", offsetof(route_options_t, length_utf16_units) },
    { "bodyCaseInsensitive", offsetof(route_options_t, body_case_insensitive) },
    { "nullIsDefined", offsetof(route_options_t, null_is_defined) },
};

hs_err_t route_options_from_json(route_options_t *o, const json_t *obj, char *err, size_t cap)
{
    if (!json_is_object(obj)) {
        snprintf(err, cap, "routing options must be a JSON object");
        return HS_EPARSE;
    }
    const char *key;
    json_t *val;
    /* Check every key before applying any, so a bad file changes nothing. */
    json_object_foreach((json_t *)obj, key, val) {
        size_t i;
        for (i = 0; i < sizeof option_keys / sizeof option_keys[0]; i++)
            if (!strcmp(key, option_keys[i].key))
                break;
        if (i == sizeof option_keys / sizeof option_keys[0]) {
            snprintf(err, cap, "unknown routing option \"%s\"", key);
            return HS_EPARSE;
        }
        if (!json_is_boolean(val)) {
            snprintf(err, cap, "routing option \"%s\" must be true or false", key);
            return HS_EPARSE;
        }
    }
    json_object_foreach((json_t *)obj, key, val) {
        for (size_t i = 0; i < sizeof option_keys / sizeof option_keys[0]; i++)
            if (!strcmp(key, option_keys[i].key))
                *(bool *)((char *)o + option_keys[i].off) = json_is_true(val);
    }
    return HS_EOK;
}

hs_err_t route_options_from_hub_json(route_options_t *o, const json_t *hub, char *err, size_t cap)
{
    if (!json_is_object(hub)) {
        snprintf(err, cap, "a hub config must be a JSON object");
        return HS_EPARSE;
    }
    route_options_t tmp = *o;
    const json_t *rq = json_object_get(hub, "routeQuery");
    if (rq) {
        const json_t *b = json_object_get(rq, "bareDollarName");
        const json_t *tf = json_object_get(rq, "typeFunctions");
        if (!json_is_object(rq) || (b && !json_is_string(b)) || (tf && !json_is_boolean(tf))) {
            snprintf(err, cap, "routeQuery: bareDollarName must be a string, typeFunctions a Boolean");
            return HS_EPARSE;
        }
        if (b) {
            if (!strcmp(json_string_value(b), "systemFirst"))
                tmp.dollar_app_first = false;
            else if (!strcmp(json_string_value(b), "appFirst"))
                tmp.dollar_app_first = true;
            else {
                snprintf(err, cap, "routeQuery.bareDollarName must be \"systemFirst\" or \"appFirst\"");
                return HS_EPARSE;
            }
        }
        if (tf)
            tmp.extended_type_functions = json_is_true(tf);
    }
    const json_t *routing = json_object_get(hub, "routing");
    const json_t *ro = json_is_object(routing) ? json_object_get(routing, "options") : NULL;
    if (ro) {
        hs_err_t e = route_options_from_json(&tmp, ro, err, cap);
        if (e)
            return e;
    }
    *o = tmp;
    return HS_EOK;
}

void route_message_init(route_message_t *m)
{
    memset(m, 0, sizeof *m);
}

void route_message_reset(route_message_t *m)
{
    json_decref(m->body_json);
    m->body_json = NULL;
    m->body_state = 0;
}

/* --- decoding ------------------------------------------------------------ */

typedef enum { ENC_NONE, ENC_UTF8, ENC_UTF16, ENC_UTF16LE, ENC_UTF16BE, ENC_UTF32, ENC_UTF32LE,
               ENC_UTF32BE } enc_t;

static enc_t encoding_of(const char *name, const route_options_t *o)
{
    if (!name)
        return ENC_NONE;
    size_t n = strlen(name);
    if (ci_eq(name, n, "utf-8"))
        return ENC_UTF8;
    if (ci_eq(name, n, "utf-16"))
        return ENC_UTF16;
    if (ci_eq(name, n, "utf-32"))
        return ENC_UTF32;
    if (!o->encoding_aliases)
        return ENC_NONE;
    if (ci_eq(name, n, "utf8"))
        return ENC_UTF8;
    if (ci_eq(name, n, "utf16") || ci_eq(name, n, "unicode"))
        return ENC_UTF16;
    if (ci_eq(name, n, "utf-16le") || ci_eq(name, n, "utf16le"))
        return ENC_UTF16LE;
    if (ci_eq(name, n, "utf-16be") || ci_eq(name, n, "utf16be"))
        return ENC_UTF16BE;
    if (ci_eq(name, n, "utf32"))
        return ENC_UTF32;
    if (ci_eq(name, n, "utf-32le") || ci_eq(name, n, "utf32le"))
        return ENC_UTF32LE;
    if (ci_eq(name, n, "utf-32be") || ci_eq(name, n, "utf32be"))
        return ENC_UTF32BE;
    return ENC_NONE;
}

size_t route_utf8_put(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xC0 | (cp >> 6));
        p[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xE0 | (cp >> 12));
        p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | (cp >> 18));
    p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    p[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

hs_err_t route_decode_text(const void *bytes, size_t len, const char *encoding,
                           const route_options_t *o, char **out, size_t *out_len)
{
    route_options_t def;
    if (!o) {
        route_options_default(&def);
        o = &def;
    }
    const unsigned char *b = bytes;
    enc_t e = encoding_of(encoding, o);
    *out = NULL;
    *out_len = 0;
    if (e == ENC_NONE)
        return HS_EUNSUPPORTED;
    if (e == ENC_UTF8) {
        if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
            b += 3;
            len -= 3;
        }
        char *s = malloc(len + 1);
        if (!s)
            return HS_ENOMEM;
        if (len)
            memcpy(s, b, len);
        s[len] = 0;
        *out = s;
        *out_len = len;
        return HS_EOK; /* jansson validates the UTF-8 itself */
    }
    int wide = (e == ENC_UTF32 || e == ENC_UTF32LE || e == ENC_UTF32BE) ? 4 : 2;
    int be;
    if (wide == 2) {
        be = e == ENC_UTF16BE ? 1 : e == ENC_UTF16LE ? 0 : o->utf_no_bom_big_endian;
        if (len >= 2 && b[0] == 0xFF && b[1] == 0xFE && e != ENC_UTF16BE) {
            be = 0;
            b += 2;
            len -= 2;
        } else if (len >= 2 && b[0] == 0xFE && b[1] == 0xFF && e != ENC_UTF16LE) {
            be = 1;
            b += 2;
            len -= 2;
        }
    } else {
        be = e == ENC_UTF32BE ? 1 : e == ENC_UTF32LE ? 0 : o->utf_no_bom_big_endian;
        if (len >= 4 && b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0 && e != ENC_UTF32BE) {
            be = 0;
            b += 4;
            len -= 4;
        } else if (len >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF &&
                   e != ENC_UTF32LE) {
            be = 1;
            b += 4;
            len -= 4;
        }
    }
    if (len % (size_t)wide)
        return HS_EPARSE;
    /* Each unit becomes at most 4 UTF-8 bytes (a 2-unit pair needs 4, not 8). */
    char *s = malloc(len / (size_t)wide * 4 + 1);
    if (!s)
        return HS_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i += (size_t)wide) {
        uint32_t cp;
        if (wide == 4) {
            cp = be ? (uint32_t)b[i] << 24 | (uint32_t)b[i + 1] << 16 | (uint32_t)b[i + 2] << 8 | b[i + 3]
                    : (uint32_t)b[i + 3] << 24 | (uint32_t)b[i + 2] << 16 | (uint32_t)b[i + 1] << 8 | b[i];
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                goto bad;
        } else {
            cp = be ? (uint32_t)b[i] << 8 | b[i + 1] : (uint32_t)b[i + 1] << 8 | b[i];
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                goto bad;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (i + 3 >= len)
                    goto bad;
                uint32_t lo = be ? (uint32_t)b[i + 2] << 8 | b[i + 3] : (uint32_t)b[i + 3] << 8 | b[i + 2];
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        n += route_utf8_put(s + n, cp);
    }
    s[n] = 0;
    *out = s;
    *out_len = n;
    return HS_EOK;
bad:
    free(s);
    return HS_EPARSE;
}

/* "application/json", case-insensitive, optionally followed by parameters. */
static int is_json_type(const char *ct, const route_options_t *o)
{
    if (!ct)
        return 0;
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;
    if (strlen(ct) < n || !ci_eq(ct, n, want))
        return 0;
    const char *rest = ct + n;
    if (!*rest)
        return 1;
    if (!o->content_type_params)
        return 0;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == ';';
}

const json_t *route_message_body(route_message_t *m, const route_options_t *o)
{
    if (m->body_state == 1)
        return m->body_json;
    if (m->body_state == 2)
        return NULL;
    m->body_state = 2;
    bool gated = !(o->breaks & ROUTE_BREAK_BODY_GATING);
    if ((gated && !is_json_type(m->sys[ROUTE_SYS_CONTENT_TYPE], o)) || !m->body)
        return NULL;
    json_error_t jerr;
    enc_t e = gated ? encoding_of(m->sys[ROUTE_SYS_CONTENT_ENCODING], o) : ENC_UTF8;
    if (e == ENC_UTF8) {
        /* UTF-8 needs no conversion: parse the caller's bytes in place
         * (jansson validates the UTF-8), skipping a BOM */
        const unsigned char *b = m->body;
        size_t n = m->body_len;
        if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
            b += 3;
            n -= 3;
        }
        m->body_parses++;
        m->body_json = json_loadb((const char *)b, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    } else {
        char *text;
        size_t n;
        if (route_decode_text(m->body, m->body_len, m->sys[ROUTE_SYS_CONTENT_ENCODING], o, &text, &n))
            return NULL;
        m->body_parses++;
        m->body_json = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        free(text);
    }
    if (!m->body_json)
        return NULL;
    m->body_state = 1;
    return m->body_json;
}
