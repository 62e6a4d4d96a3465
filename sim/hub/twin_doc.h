/* A device or module twin document: tags, desired, reported, versions, etag, metadata, merge patch and limits. */
#ifndef HUB_TWIN_DOC_H
#define HUB_TWIN_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/simtime.h"
#include "sim/hub/hub_errors.h"

/* The twin holds three sections as jansson objects without read-only keys;
 * `$version` of desired and reported, the twin version/etag and the
 * `$metadata` trees are kept beside them and added on serialization.
 *
 * Every successful change bumps the twin version by one (the etag is the
 * base64 of that version as 8 big-endian bytes, as the hub shows it:
 * version 1 → "AAAAAAAAAAE=") and the `$version` of each changed section by
 * one.  A change that fails any rule leaves the whole twin unchanged.
 *
 * Rules (NOTES.md "Twins"): size of tags ≤ 8 KB, desired ≤ 32 KB, reported
 * ≤ 32 KB by the size rule (keys and string values in UTF-8 characters
 * excluding control characters, numbers 8, booleans 4, objects and arrays
 * the sum of their members); depth ≤ 10 (the section root is depth 0, each
 * nested object or array one more: desired.one.two...ten.{"k":"v"} is the
 * deepest legal shape); keys ≤ 1 KB, no `.`, `$`, space or C0/C1 control
 * characters; string values ≤ 4 KB.  Violations → HUB_EARGUMENT_INVALID
 * with the JSON path in the change's `error`.  In patches `null` deletes;
 * read-only keys `$version`, `$metadata`, `$etag` at a section's root are
 * ignored (a GET-modify-PUT round trip works). */

typedef enum {
    HUB_TWIN_TAGS = 0,
    HUB_TWIN_DESIRED = 1,
    HUB_TWIN_REPORTED = 2,
    HUB_TWIN__SECTIONS = 3
} hub_twin_section_t;

#define HUB_TWIN_BIT(s) (1u << (unsigned)(s))

/* "tags", "desired", "reported"; NULL for a bad value. */
const char *hub_twin_section_name(hub_twin_section_t s);

typedef struct {
    size_t max_bytes[HUB_TWIN__SECTIONS]; /* 8 KB, 32 KB, 32 KB */
    unsigned max_depth;                    /* 10 */
    size_t key_max_bytes;                  /* 1 KB */
    size_t string_max_bytes;               /* 4 KB */
    /* Kill-matrix mutations (HUB_TWIN_BREAK_*), 0 = none; the hub sets them
     * from its armed break switches (sim/hub/faults.h). */
    unsigned breaks;
} hub_twin_limits_t;

#define HUB_TWIN_BREAK_KEY_CHARSET 0x1u       /* '.', '$' and space allowed in keys */
#define HUB_TWIN_BREAK_REPORTED_VERSION 0x2u  /* a reported change keeps its $version */
#define HUB_TWIN_BREAK_NULL_DELETE 0x4u       /* a null in a patch leaves the member */
#define HUB_TWIN_BREAK_METADATA_TIME 0x8u     /* $lastUpdated stamped one second late */

/* The NOTES.md figures with KB = kb bytes (the KB knob, 1024 by default). */
void hub_twin_limits_default(hub_twin_limits_t *l, size_t kb);

/* Common arguments of a change. */
typedef struct {
    const hub_twin_limits_t *limits; /* NULL = defaults with KB = 1024 */
    int64_t epoch_unix;              /* for $lastUpdated text */
    sim_time_t now;                  /* the caller's virtual time */
    const char *if_match;            /* NULL, "" or "*" = unconditional; quotes allowed */
} hub_twin_op_t;

/* What a change did, for pushing desired updates and twin-change events.
 * Every change function overwrites *ch first (it may be uninitialized);
 * the patches are owned here: release them with hub_twin_change_clear
 * before reusing or dropping ch (also safe on a failed change). */
typedef struct {
    unsigned changed;        /* HUB_TWIN_BIT(section) for each section touched */
    bool replaced;           /* a replace (PUT): opType replaceTwin */
    uint64_t version;        /* twin version after */
    uint64_t desired_version;
    uint64_t reported_version;
    /* The effective change of each section (NULL when untouched): for a
     * patch, the patch as applied (null = deleted); for a replace, the new
     * section.  desired/reported carry "$version" = the new section version,
     * ready to push to the device as a desired-properties update. */
    json_t *patch[HUB_TWIN__SECTIONS];
    char error[256];         /* why a change was refused */
} hub_twin_change_t;

void hub_twin_change_clear(hub_twin_change_t *ch);

/* Twin change notification body (NOTES.md routing):
 * {"version":N,"tags":{...},"properties":{"desired":{...},"reported":{...}}}
 * with only the changed parts; NULL on allocation failure. */
json_t *hub_twin_change_event_body(const hub_twin_change_t *ch);

typedef struct hub_twin hub_twin_t;

hub_twin_t *hub_twin_new(void);
void hub_twin_free(hub_twin_t *t); /* NULL is fine */

uint64_t hub_twin_version(const hub_twin_t *t);
/* $version of desired or reported (tags have none: returns 0). */
uint64_t hub_twin_section_version(const hub_twin_t *t, hub_twin_section_t s);
#define HUB_TWIN_ETAG_CAP 16
/* "AAAAAAAAAAE=" for version 1. */
void hub_twin_etag(const hub_twin_t *t, char buf[HUB_TWIN_ETAG_CAP]);
/* Borrowed, without read-only keys; NULL for a bad section. */
const json_t *hub_twin_section(const hub_twin_t *t, hub_twin_section_t s);

/* JSON merge patch of one section (device reported patch; service
 * `properties.desired` or tags patch).  `patch` must be an object
 * (else ARGUMENT_INVALID); If-Match mismatch → PRECONDITION_FAILED. */
hub_err_t hub_twin_patch_section(hub_twin_t *t, const hub_twin_op_t *op, hub_twin_section_t s,
                                 const json_t *patch, hub_twin_change_t *ch);
/* Replace one section wholesale. */
hub_err_t hub_twin_replace_section(hub_twin_t *t, const hub_twin_op_t *op, hub_twin_section_t s,
                                   const json_t *doc, hub_twin_change_t *ch);

/* Service PATCH of the twin: `{"tags":{...},"properties":{"desired":{...}}}`
 * applied as one change.  `properties.reported` → ARGUMENT_INVALID (the
 * service cannot write it); other top-level keys (deviceId, etag...) are
 * ignored. */
hub_err_t hub_twin_update(hub_twin_t *t, const hub_twin_op_t *op, const json_t *twin_patch,
                          hub_twin_change_t *ch);
/* Service PUT: tags and desired replaced (absent = emptied); reported kept. */
hub_err_t hub_twin_replace(hub_twin_t *t, const hub_twin_op_t *op, const json_t *twin_doc,
                           hub_twin_change_t *ch);

/* Device GET: {"desired":{...,"$version":N},"reported":{...,"$version":M}}.
 * New reference the caller decrefs; NULL on allocation failure. */
json_t *hub_twin_device_json(const hub_twin_t *t);
/* Service GET: {"deviceId", ["moduleId",] "etag", "version", "tags",
 * "properties":{"desired":{...,"$metadata":{...},"$version":N},
 * "reported":{...}}}.  The hub adds status/connectionState fields itself. */
json_t *hub_twin_service_json(const hub_twin_t *t, const char *device_id, const char *module_id);

/* The size rule on any JSON value (HS-free: returns the size). */
size_t hub_twin_json_size(const json_t *v);
/* All rules on a candidate section; HUB_EOK or ARGUMENT_INVALID with the
 * reason and JSON path in why (may be NULL). */
hub_err_t hub_twin_check_section(const json_t *section, hub_twin_section_t s,
                                 const hub_twin_limits_t *l, char *why, size_t cap);

#endif
