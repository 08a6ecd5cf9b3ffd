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

/* A compact JSON text written value by value, in order, without a tree: for
 * the texts built on every event (its result) and every balance read (the
 * member), where building a jansson object, printing it and freeing it cost
 * several times writing it. The writer
 * puts the commas: each value after the first of its object or array gets
 * one. Every function taking a key writes `"key":` first when key is not
 * NULL (an object's member) and nothing when it is (an array's element, or
 * the text's one value); keys are literal ASCII names that need no escape
 * (an assertion checks). Strings must be UTF-8
 * (text that came from parsed JSON or from a checked name is). The text's
 * memory grows as needed; out of memory aborts.
 *
 *     fd_json_writer w;
 *     fd_jw_init(&w);
 *     fd_jw_open(&w, NULL, '{');
 *     fd_jw_int(&w, "points", 35);
 *     fd_jw_close(&w, '}');
 *     char *text = fd_jw_finish(&w, NULL); // {"points":35}, caller frees
 */
#define FD_JW_DEPTH_MAX 16 /* containers open at once (the writers are Fidelis's own code) */
typedef struct fd_json_writer {
    char *s; /* the text so far */
    size_t len, cap;
    /* a writer made by fd_jw_init_tree builds a jansson value instead */
    bool tree;
    json_t *root, *open[FD_JW_DEPTH_MAX]; /* open: borrowed, innermost last */
    int depth;
} fd_json_writer;

void fd_jw_init(fd_json_writer *w);
/* A writer that builds the jansson value the text would parse to (the same
 * keys in the same order), for a caller that needs a tree of what a write
 * function writes; fd_jw_finish_tree returns it. */
void fd_jw_init_tree(fd_json_writer *w);
json_t *fd_jw_finish_tree(fd_json_writer *w);
/* Opens an object ('{') or an array ('['); fd_jw_close ends it ('}', ']'). */
void fd_jw_open(fd_json_writer *w, const char *key, char bracket);
void fd_jw_close(fd_json_writer *w, char bracket);
/* A string, or null when s is NULL. */
void fd_jw_string(fd_json_writer *w, const char *key, const char *s);
void fd_jw_int(fd_json_writer *w, const char *key, int64_t v);
void fd_jw_bool(fd_json_writer *w, const char *key, bool v);
/* A time as fd_json_time writes it (0: null), an amount as fd_json_amount. */
void fd_jw_time(fd_json_writer *w, const char *key, int64_t t);
void fd_jw_amount(fd_json_writer *w, const char *key, int64_t minor, int exponent);
/* Any jansson value (borrowed), as fd_json_text writes it; NULL writes null. */
void fd_jw_value(fd_json_writer *w, const char *key, const json_t *v);
/* text as it is: one compact JSON value that this writer or fd_json_text
 * wrote (not checked; a tree writer parses it, and takes null for a text
 * that does not parse). */
void fd_jw_raw(fd_json_writer *w, const char *key, const char *text);
/* The text written (NUL-terminated; its length in *len unless len is NULL).
 * The caller frees it; w is spent. */
char *fd_jw_finish(fd_json_writer *w, size_t *len);
/* Frees what was written, for a text (or tree) given up. */
void fd_jw_discard(fd_json_writer *w);

/* Sets obj[key] to value (a new reference; NULL sets null). For the objects
 * built on every event, instead of json_pack, which parses its format and
 * checks every key on each call: key must be a literal ASCII name. */
static inline void fd_json_put(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new_nocheck(obj, key, value ? value : json_null());
}

#endif
