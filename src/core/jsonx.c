/*
 * jsonx.c - shared JSON forms (jsonx.h).
 */
#include "core/jsonx.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/money.h"

json_t *fd_json_time(int64_t t)
{
    if (!t) return json_null();
    char buf[32];
    fd_time_format(t, buf, sizeof buf);
    return json_string(buf);
}

json_t *fd_json_amount(int64_t minor, int exponent)
{
    char buf[40];
    fd_amount_format(minor, exponent, buf, sizeof buf);
    return json_string(buf);
}

/* ---------- compact JSON text ---------- */

static void grow(fd_json_writer *b, size_t n)
{
    while (b->len + n + 1 > b->cap)
        b->cap *= 2;
    b->s = fd_realloc(b->s, b->cap);
}

static inline void put(fd_json_writer *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
}

/* The two-character escape of each byte that has one (jansson's set), else 0. */
static const char SHORT_ESCAPE[128] = {['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
                                       ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't'};

static void put_string(fd_json_writer *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    put(b, "\"", 1);
    size_t run = 0; /* bytes since the last escape, written in one piece */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(b, s + run, i - run);
        run = i + 1;
        if (SHORT_ESCAPE[c]) {
            put(b, (const char[]){'\\', SHORT_ESCAPE[c]}, 2);
        } else {
            put(b, (const char[]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}, 6);
        }
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

static void put_integer(fd_json_writer *b, json_int_t v)
{
    char digits[24], *p = digits + sizeof digits;
    /* through unsigned, so that the most negative value has its digits too */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    put(b, p, (size_t)(digits + sizeof digits - p));
}

static void put_real(fd_json_writer *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY);
    if (!s) abort();
    put(b, s, strlen(s));
    free(s);
}

#define OBJECT_KEYS_ON_STACK 32

typedef struct object_key {
    const char *key;
    size_t len;
    const json_t *value;
} object_key;

/* jansson's order of sorted keys: bytes, then length. */
static int key_order(const void *a, const void *b)
{
    const object_key *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void put_value(fd_json_writer *b, const json_t *v, bool sort_keys);

/* Sorts a small object's keys in place (most objects have a dozen at most):
 * insertion sort, without qsort's allocations and calls. */
static void sort_keys_of(object_key *keys, size_t n)
{
    if (n > OBJECT_KEYS_ON_STACK) {
        qsort(keys, n, sizeof *keys, key_order);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        object_key k = keys[i];
        size_t j = i;
        for (; j > 0 && key_order(&keys[j - 1], &k) > 0; j--)
            keys[j] = keys[j - 1];
        keys[j] = k;
    }
}

static void put_object(fd_json_writer *b, const json_t *v, bool sort_keys)
{
    size_t n = json_object_size(v), i = 0;
    object_key small[OBJECT_KEYS_ON_STACK];
    object_key *keys = n > OBJECT_KEYS_ON_STACK ? fd_malloc(n * sizeof *keys) : small;
    for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it))
        keys[i++] = (object_key){json_object_iter_key(it), json_object_iter_key_len(it),
                                 json_object_iter_value(it)};
    assert(i == n);
    if (sort_keys) sort_keys_of(keys, n);
    put(b, "{", 1);
    for (i = 0; i < n; i++) {
        if (i) put(b, ",", 1);
        put_string(b, keys[i].key, keys[i].len);
        put(b, ":", 1);
        put_value(b, keys[i].value, sort_keys);
    }
    put(b, "}", 1);
    if (keys != small) free(keys);
}

static void put_value(fd_json_writer *b, const json_t *v, bool sort_keys)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v, sort_keys);
        break;
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) put(b, ",", 1);
            put_value(b, json_array_get(v, i), sort_keys);
        }
        put(b, "]", 1);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(b, json_integer_value(v));
        break;
    case JSON_REAL:
        put_real(b, v);
        break;
    case JSON_TRUE:
        put(b, "true", 4);
        break;
    case JSON_FALSE:
        put(b, "false", 5);
        break;
    case JSON_NULL:
        put(b, "null", 4);
        break;
    }
}

void fd_jw_init(fd_json_writer *w)
{
    *w = (fd_json_writer){.cap = 512};
    w->s = fd_malloc(w->cap);
}

void fd_jw_init_tree(fd_json_writer *w)
{
    *w = (fd_json_writer){.tree = true};
}

/* A tree writer's value v (a new reference; NULL is null) under key in the
 * innermost open container, or as the root. */
static void tree_add(fd_json_writer *w, const char *key, json_t *v)
{
    if (!v) v = json_null();
    if (w->depth == 0) {
        assert(!w->root);
        w->root = v;
        return;
    }
    json_t *parent = w->open[w->depth - 1];
    if (json_is_object(parent))
        json_object_set_new_nocheck(parent, key, v);
    else
        json_array_append_new(parent, v);
}

/* True when s needs no escape in JSON text. */
static inline bool is_plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\') return false;
    return true;
}

/* Before each value: its comma, unless it opens its object or array (or the
 * text), then its key, in one copy: keys are literal names, which need no
 * escapes (written as strings, each key was five small copies). */
static void begin_value(fd_json_writer *w, const char *key)
{
    size_t n = key ? strlen(key) : 0;
    assert(is_plain(key ? key : "", n));
    if (w->len + n + 5 > w->cap) grow(w, n + 4);
    char *p = w->s + w->len;
    if (w->len && p[-1] != '{' && p[-1] != '[') *p++ = ',';
    if (key) {
        *p++ = '"';
        memcpy(p, key, n);
        p += n;
        *p++ = '"';
        *p++ = ':';
    }
    w->len = (size_t)(p - w->s);
}

void fd_jw_open(fd_json_writer *w, const char *key, char bracket)
{
    assert(bracket == '{' || bracket == '[');
    if (w->tree) {
        json_t *c = bracket == '{' ? json_object() : json_array();
        tree_add(w, key, c);
        assert(w->depth < FD_JW_DEPTH_MAX);
        w->open[w->depth++] = c;
        return;
    }
    begin_value(w, key);
    put(w, &bracket, 1);
}

void fd_jw_close(fd_json_writer *w, char bracket)
{
    assert(bracket == '}' || bracket == ']');
    if (w->tree) {
        assert(w->depth > 0);
        w->depth--;
        return;
    }
    put(w, &bracket, 1);
}

void fd_jw_string(fd_json_writer *w, const char *key, const char *s)
{
    if (w->tree) {
        tree_add(w, key, s ? json_string(s) : NULL);
        return;
    }
    begin_value(w, key);
    if (s)
        put_string(w, s, strlen(s));
    else
        put(w, "null", 4);
}

void fd_jw_int(fd_json_writer *w, const char *key, int64_t v)
{
    if (w->tree) {
        tree_add(w, key, json_integer(v));
        return;
    }
    begin_value(w, key);
    put_integer(w, v);
}

void fd_jw_bool(fd_json_writer *w, const char *key, bool v)
{
    if (w->tree) {
        tree_add(w, key, json_boolean(v));
        return;
    }
    begin_value(w, key);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void fd_jw_time(fd_json_writer *w, const char *key, int64_t t)
{
    char buf[32];
    if (t) fd_time_format(t, buf, sizeof buf);
    fd_jw_string(w, key, t ? buf : NULL);
}

void fd_jw_amount(fd_json_writer *w, const char *key, int64_t minor, int exponent)
{
    char buf[40];
    fd_amount_format(minor, exponent, buf, sizeof buf);
    fd_jw_string(w, key, buf);
}

void fd_jw_value(fd_json_writer *w, const char *key, const json_t *v)
{
    if (w->tree) {
        tree_add(w, key, json_incref((json_t *)v));
        return;
    }
    begin_value(w, key);
    if (v)
        put_value(w, v, false);
    else
        put(w, "null", 4);
}

void fd_jw_raw(fd_json_writer *w, const char *key, const char *text)
{
    if (w->tree) {
        tree_add(w, key, json_loads(text, JSON_DECODE_ANY, NULL));
        return;
    }
    begin_value(w, key);
    put(w, text, strlen(text));
}

char *fd_jw_finish(fd_json_writer *w, size_t *len)
{
    assert(!w->tree);
    w->s[w->len] = 0; /* put leaves room for it */
    if (len) *len = w->len;
    char *s = w->s;
    w->s = NULL;
    return s;
}

json_t *fd_jw_finish_tree(fd_json_writer *w)
{
    assert(w->tree && w->depth == 0);
    json_t *root = w->root;
    w->root = NULL;
    return root;
}

void fd_jw_discard(fd_json_writer *w)
{
    free(w->s);
    w->s = NULL;
    json_decref(w->root);
    w->root = NULL;
}

char *fd_json_text(const json_t *v, bool sort_keys)
{
    assert(v);
    fd_json_writer w;
    fd_jw_init(&w);
    put_value(&w, v, sort_keys);
    return fd_jw_finish(&w, NULL);
}
