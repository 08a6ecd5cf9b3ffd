/*
 * test_json_text.c - fd_json_text (core/jsonx.c) writes the same bytes as
 * jansson's json_dumps with JSON_COMPACT | JSON_ENCODE_ANY, with and without
 * JSON_SORT_KEYS: on every value of the official JSONLogic test suite, on the
 * strings and numbers at the edges of the format, and on random trees. The
 * stored event results and the body hashes of idempotency depend on it.
 * The writer (fd_jw_*) writes the same text as the tree it walks, and its
 * tree mode builds the same tree; a member's text and tree agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/members_json.h"
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

/* Writes v through the writer, value by value, handing a random part of
 * the subtrees to fd_jw_value whole. */
static void write_tree(fd_json_writer *w, const char *key, const json_t *v, unsigned *seed)
{
    if (rand_r(seed) % 4 == 0) {
        fd_jw_value(w, key, v);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) if (strpbrk(k, "\"\\\n\x01"))
        {
            fd_jw_value(w, key, v); /* the writer's keys are plain names */
            return;
        }
        fd_jw_open(w, key, '{');
        json_object_foreach((json_t *)v, k, x) write_tree(w, k, x, seed);
        fd_jw_close(w, '}');
        break;
    }
    case JSON_ARRAY:
        fd_jw_open(w, key, '[');
        for (size_t i = 0; i < json_array_size(v); i++)
            write_tree(w, NULL, json_array_get(v, i), seed);
        fd_jw_close(w, ']');
        break;
    case JSON_STRING:
        fd_jw_string(w, key, json_string_value(v));
        break;
    case JSON_INTEGER:
        fd_jw_int(w, key, json_integer_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        fd_jw_bool(w, key, json_is_true(v));
        break;
    default: /* null and reals */
        fd_jw_value(w, key, json_is_null(v) && rand_r(seed) % 2 ? NULL : v);
        break;
    }
}

static void writer_writes_the_tree(void **state)
{
    (void)state;
    unsigned seed = 20261202, walk = 7;
    for (int i = 0; i < 2000; i++) {
        /* an object or array at the top, as the writer's users write */
        json_t *v =
            json_pack("{s:o, s:[o]}", "a", random_value(&seed, 3), "b", random_value(&seed, 3));
        fd_json_writer w, t;
        fd_jw_init(&w);
        fd_jw_init_tree(&t);
        unsigned same_walk = walk;
        write_tree(&w, NULL, v, &walk);
        write_tree(&t, NULL, v, &same_walk);
        size_t len;
        char *got = fd_jw_finish(&w, &len);
        char *want = json_dumps(v, JANSSON_COMPACT);
        assert_string_equal(got, want);
        assert_int_equal(len, strlen(want));
        json_t *tree = fd_jw_finish_tree(&t);
        char *from_tree = json_dumps(tree, JANSSON_COMPACT);
        assert_string_equal(from_tree, want);
        free(from_tree);
        json_decref(tree);
        free(got);
        free(want);
        json_decref(v);
    }
}

/* Times, amounts and null strings as fd_json_time and fd_json_amount give
 * them; a text that grows past the first allocation; a text given up. */
static void writer_forms(void **state)
{
    (void)state;
    fd_json_writer w;
    fd_jw_init(&w);
    fd_jw_open(&w, NULL, '{');
    fd_jw_time(&w, "at", 1796119200);
    fd_jw_time(&w, "never", 0);
    fd_jw_amount(&w, "total", -12345, 2);
    fd_jw_amount(&w, "yen", 500, 0);
    fd_jw_string(&w, "tier", NULL);
    fd_jw_open(&w, "lines", '[');
    for (int i = 0; i < 300; i++)
        fd_jw_string(&w, NULL, "caf\xc3\xa9 \"quoted\"\n");
    fd_jw_close(&w, ']');
    fd_jw_open(&w, "empty", '{');
    fd_jw_close(&w, '}');
    fd_jw_close(&w, '}');
    char *got = fd_jw_finish(&w, NULL);
    json_t *want =
        json_pack("{s:o, s:o, s:o, s:o, s:n, s:[], s:{}}", "at", fd_json_time(1796119200), "never",
                  fd_json_time(0), "total", fd_json_amount(-12345, 2), "yen",
                  fd_json_amount(500, 0), "tier", "lines", "empty");
    for (int i = 0; i < 300; i++)
        json_array_append_new(json_object_get(want, "lines"),
                              json_string("caf\xc3\xa9 \"quoted\"\n"));
    char *text = fd_json_text(want, false);
    assert_string_equal(got, text);
    assert_non_null(strstr(got, "{\"at\":\"2026-12-01T10:00:00Z\",\"never\":null,"
                                "\"total\":\"-123.45\",\"yen\":\"500\",\"tier\":null,"));
    free(text);
    free(got);
    json_decref(want);
    fd_jw_init(&w);
    fd_jw_open(&w, NULL, '[');
    fd_jw_discard(&w);
    assert_null(w.s);
}

/* fd_member_write's text is the text of fd_member_json's tree, for a bare
 * member and one with every field, and its attributes are the stored text. */
static void member_text_and_tree(void **state)
{
    (void)state;
    fd_program p = {.exponent = 2, .point_value_micros = 10000};
    fd_member bare = {.id = 7, .state = FD_STATE_ACTIVE};
    fd_member full = {.id = 8,
                      .external_id = "ext-8",
                      .email = "a@b.example",
                      .phone = "+4930123",
                      .card_number = "C-8",
                      .qr_token = "qr8",
                      .attributes = "{\"city\":\"K\xc3\xb6ln\",\"kids\":[1,2],\"vip\":true}",
                      .state = FD_STATE_PENDING,
                      .consent_at = 1796119200,
                      .balance = -1234,
                      .pending = 56,
                      .tier = "Gold",
                      .tier_since = 1796119200,
                      .tier_review_at = 1827655200,
                      .merged_into = 9,
                      .wallet_id = 10,
                      .erased_at = 1796119201,
                      .created_at = 1796000000,
                      .updated_at = 1796119202};
    fd_member odd = {.id = 11, .attributes = "not an object"}; /* written as {} */
    const fd_member *members[] = {&bare, &full, &odd};
    for (size_t i = 0; i < 3; i++)
        for (int with_program = 0; with_program < 2; with_program++) {
            const fd_program *pp = with_program ? &p : NULL;
            fd_json_writer w;
            fd_jw_init(&w);
            fd_member_write(&w, NULL, members[i], pp);
            char *text = fd_jw_finish(&w, NULL);
            json_t *tree = fd_member_json(members[i], pp);
            char *want = fd_json_text(tree, false);
            assert_string_equal(text, want);
            json_decref(tree);
            free(want);
            if (members[i] == &full)
                assert_non_null(strstr(text,
                                       "\"attributes\":{\"city\":\"K\xc3\xb6ln\",\"kids\":[1,2],"
                                       "\"vip\":true},"));
            if (members[i] == &odd) assert_non_null(strstr(text, "\"attributes\":{},"));
            if (with_program && members[i] == &full)
                assert_non_null(strstr(text, "\"liability\":\"-12.34\"}"));
            free(text);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonlogic_suite), cmocka_unit_test(strings_and_escapes),
        cmocka_unit_test(numbers),         cmocka_unit_test(key_orders),
        cmocka_unit_test(random_trees),    cmocka_unit_test(writer_writes_the_tree),
        cmocka_unit_test(writer_forms),    cmocka_unit_test(member_text_and_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
