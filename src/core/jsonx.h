/*
 * jsonx.h - JSON forms shared by every layer: times as ISO 8601 strings,
 * amounts as decimal strings, and compact JSON text.
 */
#ifndef FD_JSONX_H
#define FD_JSONX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* "2026-11-23T08:00:00Z", or null for 0 (new reference). */
json_t *fd_json_time(int64_t t);
/* Minor units as a decimal string in major units ("105.00"). */
json_t *fd_json_amount(int64_t minor, int exponent);

/* The compact JSON text of v, any value: the same bytes as jansson's
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), with JSON_SORT_KEYS when
 * sort_keys (keys in byte order). jansson 2.14 takes about 42,000
 * instructions for a 600-byte event result: it checks every object and array
 * for cycles through a hash table keyed by its printed address and prints
 * every integer with snprintf. This writes the text directly; reals are still
 * written by jansson, so every number reads back the same. v must not be
 * cyclic (Fidelis never builds such values) and its strings must be UTF-8
 * (json_string checks that). Caller frees; aborts on out-of-memory. */
char *fd_json_text(const json_t *v, bool sort_keys);

/* Sets obj[key] to value (a new reference; NULL sets null). For the objects
 * built on every event, instead of json_pack, which parses its format and
 * checks every key on each call: key must be a literal ASCII name. */
static inline void fd_json_put(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new_nocheck(obj, key, value ? value : json_null());
}

#endif
