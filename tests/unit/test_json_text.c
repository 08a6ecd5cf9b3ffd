/*
 * test_json_text.c - fd_json_text (core/jsonx.c) writes the same bytes as
 * jansson's json_dumps with JSON_COMPACT | JSON_ENCODE_ANY, with and without
 * JSON_SORT_KEYS: on every value of the official JSONLogic test suite, on the
 * strings and numbers at the edges of the format, and on random trees. The
 * stored event results and the body hashes of idempotency depend on it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonx.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

static const size_t JANSSON_COMPACT = JSON_COMPACT | JSON_ENCODE_ANY;

/* Both key orders of v, each against jansson's text. */
static void same_as_jansson(const json_t *v)
{
    for (int sorted = 0; sorted < 2; sorted++) {
        char *want = json_dumps(v, JANSSON_COMPACT | (sorted ? JSON_SORT_KEYS : 0));
        char *got = fd_json_text(v, sorted);
        assert_non_null(want);
        assert_string_equal(got, want);
        free(want);
        free(got);
    }
}

static void jsonlogic_suite(void **state)
{
    (void)state;
    json_error_t err;
    json_t *suite = json_load_file(TEST_DATA_DIR "/jsonlogic_tests.json", 0, &err);
    assert_non_null(suite);
    assert_true(json_array_size(suite) > 200);
    same_as_jansson(suite);
    size_t i;
    json_t *test;
    json_array_foreach(suite, i, test)
    {
        same_as_jansson(test);
        for (size_t k = 0; k < json_array_size(test); k++)
            same_as_jansson(json_array_get(test, k));
    }
    json_decref(suite);
}

static void strings_and_escapes(void **state)
{
    (void)state;
    char every_control[33];
    for (int c = 1; c < 32; c++)
        every_control[c - 1] = (char)c;
    memcpy(every_control + 31, "\"", 2);
    const char *samples[] = {"",
                             "plain",
                             "quote \" backslash \\ slash /",
                             "\x7f del",
                             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x81",
                             every_control};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        json_t *s = json_string(samples[i]);
        assert_non_null(s);
        same_as_jansson(s);
        json_t *o = json_pack("{s:o, s:s}", samples[i], s, "k", samples[i]);
        same_as_jansson(o);
        json_decref(o);
    }
    json_t *nul = json_stringn("a\0b", 3); /* an embedded NUL is \u0000 */
    same_as_jansson(nul);
    json_decref(nul);
}

static void numbers(void **state)
{
    (void)state;
    const json_int_t ints[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        json_t *v = json_integer(ints[i]);
        same_as_jansson(v);
        json_decref(v);
    }
    const double reals[] = {0.1, 1.0, -0.0, 1e300, 123456789.125, 1e-7, 2.5e16, 1e17};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
        json_t *v = json_real(reals[i]);
        same_as_jansson(v);
        json_decref(v);
    }
    json_t *lits = json_pack("[b, b, n, {}, []]", 1, 0);
    same_as_jansson(lits);
    json_decref(lits);
}

/* Keys in insertion order, or in byte order then by length ("a" < "a\0" <
 * "ab"), also keys with an embedded NUL. */
static void key_orders(void **state)
{
    (void)state;
    json_t *o = json_object();
    const char *keys[] = {"zeta", "b", "ab", "a", "A", "\xc3\xa9", "a b"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        json_object_set_new(o, keys[i], json_integer((json_int_t)i));
    json_object_setn_new(o, "a\0x", 3, json_true());
    same_as_jansson(o);
    char *text = fd_json_text(o, false);
    assert_string_equal(text,
                        "{\"zeta\":0,\"b\":1,\"ab\":2,\"a\":3,\"A\":4,\"\xc3\xa9\":5,\"a b\":6,"
                        "\"a\\u0000x\":true}");
    free(text);
    json_decref(o);
}

/* A random tree of the given depth from the seed's sequence. */
static json_t *random_value(unsigned *seed, int depth)
{
    int kind = rand_r(seed) % (depth > 0 ? 8 : 6);
    char s[8];
    size_t n = (size_t)(rand_r(seed) % 6);
    for (size_t i = 0; i < n; i++)
        s[i] = "ab\"\\\n\x01/z"[rand_r(seed) % 8];
    s[n] = 0;
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rand_r(seed) % 2);
    case 2:
        return json_integer((json_int_t)rand_r(seed) - RAND_MAX / 2);
    case 3:
        return json_real((double)rand_r(seed) / 7.0);
    case 4:
    case 5:
        return json_string(s);
    case 6: {
        json_t *a = json_array();
        for (int i = rand_r(seed) % 5; i > 0; i--)
            json_array_append_new(a, random_value(seed, depth - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (int i = rand_r(seed) % 5; i > 0; i--) {
            char key[16];
            snprintf(key, sizeof key, "%s%d", s, rand_r(seed) % 50);
            json_object_set_new(o, key, random_value(seed, depth - 1));
        }
        return o;
    }
    }
}

static void random_trees(void **state)
{
    (void)state;
    unsigned seed = 20261201;
    for (int i = 0; i < 2000; i++) {
        json_t *v = random_value(&seed, 4);
        same_as_jansson(v);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonlogic_suite), cmocka_unit_test(strings_and_escapes),
        cmocka_unit_test(numbers),         cmocka_unit_test(key_orders),
        cmocka_unit_test(random_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
