/*
 * test_jsonlogic.c - the official JSONLogic suite, every case, plus hostile
 * expressions and the Fidelis operators (core/jsonlogic.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "core/jsonlogic.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

static bool same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i))) return false;
        return true;
    }
    return json_equal(a, b);
}

static json_t *run(const char *rule, const char *data)
{
    json_error_t err;
    json_t *r = json_loads(rule, JSON_DECODE_ANY, &err),
           *d = json_loads(data, JSON_DECODE_ANY, &err);
    jl_expr *e;
    char msg[256];
    assert_int_equal(jl_compile(r, &e, msg, sizeof msg), FD_OK);
    jl_ctx *c = jl_ctx_new();
    jl_val v;
    assert_int_equal(jl_eval(e, d, NULL, c, &v), FD_OK);
    json_t *out = jl_to_json(&v);
    jl_ctx_free(c);
    jl_free(e);
    json_decref(r);
    json_decref(d);
    return out;
}

static void official_suite(void **state)
{
    (void)state;
    json_error_t err;
    json_t *suite = json_load_file(TEST_DATA_DIR "/jsonlogic_tests.json", 0, &err);
    assert_non_null(suite);
    jl_ctx *c = jl_ctx_new();
    size_t i, cases = 0, failed = 0;
    json_t *t;
    json_array_foreach(suite, i, t)
    {
        if (!json_is_array(t)) continue; /* section comments */
        cases++;
        jl_expr *e = NULL;
        char msg[256];
        jl_val v;
        json_t *got = NULL;
        if (jl_compile(json_array_get(t, 0), &e, msg, sizeof msg) == FD_OK &&
            jl_eval(e, json_array_get(t, 1), NULL, c, &v) == FD_OK)
            got = jl_to_json(&v);
        if (!got || !same(got, json_array_get(t, 2))) {
            char *rule = json_dumps(t, JSON_ENCODE_ANY);
            char *res = got ? json_dumps(got, JSON_ENCODE_ANY) : strdup("(error)");
            fprintf(stderr, "FAIL %s -> %s\n", rule, res);
            free(rule);
            free(res);
            failed++;
        }
        json_decref(got);
        jl_free(e);
    }
    jl_ctx_free(c);
    json_decref(suite);
    fprintf(stderr, "jsonlogic suite: %zu cases, %zu failed\n", cases, failed);
    assert_int_equal(cases, 277);
    assert_int_equal(failed, 0);
}

static void javascript_corners(void **state)
{
    (void)state;
    json_t *v;
    v = run("{\"==\":[0,false]}", "null");
    assert_true(json_is_true(v));
    json_decref(v);
    v = run("{\"==\":[null,0]}", "null");
    assert_true(json_is_false(v));
    json_decref(v);
    v = run("{\"==\":[[1],\"1\"]}", "null");
    assert_true(json_is_true(v));
    json_decref(v);
    v = run("{\"+\":[\"3.5abc\",1]}", "null");
    assert_true(json_number_value(v) == 4.5);
    json_decref(v);
    v = run("{\"cat\":[1.5,null,true]}", "null");
    assert_string_equal(json_string_value(v), "1.5true");
    json_decref(v);
    v = run("{\"<\":[\"a\",\"b\"]}", "null");
    assert_true(json_is_true(v));
    json_decref(v);
    v = run("{\"/\":[1,0]}", "null");
    assert_true(json_is_null(v)); /* Infinity has no JSON form */
    json_decref(v);
    v = run("{\"substr\":[\"h\u00e9llo\",1,3]}", "null");
    assert_string_equal(json_string_value(v), "\xc3\xa9ll");
    json_decref(v);
    v = run("{\"var\":\"a.1.b\"}", "{\"a\":[{\"b\":1},{\"b\":2}]}");
    assert_int_equal(json_integer_value(v), 2);
    json_decref(v);
    v = run("{\"reduce\":[{\"var\":\"l\"},{\"+\":[{\"var\":\"accumulator\"},{\"var\":\"current.q\"}"
            "]},10]}",
            "{\"l\":[{\"q\":1},{\"q\":2}]}");
    assert_int_equal(json_integer_value(v), 13);
    json_decref(v);
    v = run("{\"some\":[[1,2,3],{\"==\":[{\"var\":\"\"},2]}]}", "null");
    assert_true(json_is_true(v));
    json_decref(v);
}

static void compile_errors_name_the_node(void **state)
{
    (void)state;
    char msg[256];
    jl_expr *e = NULL;
    json_t *r = json_loads("{\"and\":[true,{\"frobnicate\":[1]}]}", 0, NULL);
    assert_int_equal(jl_compile(r, &e, msg, sizeof msg), FD_EINVAL);
    assert_string_equal(msg, "/and/1/frobnicate: unknown operator");
    json_decref(r);
    r = json_loads("{\"if\":[true,{\"==\":[1]}]}", 0, NULL);
    assert_int_equal(jl_compile(r, &e, msg, sizeof msg), FD_EINVAL);
    assert_string_equal(msg, "/if/1/==: needs 2 arguments");
    json_decref(r);
}

static void hostile_expressions(void **state)
{
    (void)state;
    char msg[256];
    jl_expr *e = NULL;
    /* 10,000 levels of nesting: refused at compile time, no stack overflow */
    size_t depth = 10000;
    char *deep = malloc(depth * 8 + 16), *p = deep;
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "{\"!\":[");
    p += sprintf(p, "true");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "]}");
    json_t *r = json_loads(deep, 0, NULL);
    free(deep);
    if (r) { /* jansson itself refuses beyond its own depth limit */
        assert_int_equal(jl_compile(r, &e, msg, sizeof msg), FD_EINVAL);
        assert_non_null(strstr(msg, "nested deeper"));
        json_decref(r);
    }
    /* too many nodes */
    json_t *big = json_array();
    for (int i = 0; i < 5000; i++)
        json_array_append_new(big, json_integer(i));
    json_t *logic = json_pack("{s:o}", "max", big);
    assert_int_equal(jl_compile(logic, &e, msg, sizeof msg), FD_EINVAL);
    json_decref(logic);
    /* quadratic work over data is cut by the step budget */
    json_t *data = json_object();
    json_t *list = json_array();
    for (int i = 0; i < 5000; i++)
        json_array_append_new(list, json_integer(i));
    json_object_set_new(data, "l", list);
    /* work: 5000 elements x a 1000-element literal = 5M steps, cut by the step budget */
    json_t *lit = json_array();
    for (int i = 0; i < 1000; i++)
        json_array_append_new(lit, json_integer(-1));
    r = json_pack("{s:[{s:s}, {s:[o, {s:[{s:s}, i]}]}]}", "map", "var", "l", "some", lit,
                  "==", "var", "", 1);
    if (jl_compile(r, &e, msg, sizeof msg)) fail_msg("%s", msg);
    jl_ctx *c = jl_ctx_new();
    jl_val v;
    assert_int_equal(jl_eval(e, data, NULL, c, &v), FD_ETOOBIG);
    jl_free(e);
    json_decref(r);
    /* memory: an accumulator that grows quadratically, cut by the arena budget */
    r = json_loads("{\"reduce\":[{\"var\":\"l\"},{\"merge\":[{\"var\":\"accumulator\"},"
                   "{\"var\":\"current\"}]},[]]}",
                   0, NULL);
    assert_int_equal(jl_compile(r, &e, msg, sizeof msg), FD_OK);
    assert_int_equal(jl_eval(e, data, NULL, c, &v), FD_ETOOBIG);
    /* and the context stays usable */
    jl_expr *ok;
    json_t *simple = json_loads("{\"var\":\"l.3\"}", 0, NULL);
    assert_int_equal(jl_compile(simple, &ok, msg, sizeof msg), FD_OK);
    assert_int_equal(jl_eval(ok, data, NULL, c, &v), FD_OK);
    assert_true(v.t == JL_NUM && v.n == 3);
    jl_free(ok);
    jl_free(e);
    jl_ctx_free(c);
    json_decref(simple);
    json_decref(r);
    json_decref(data);
}

static bool may_read(const char *rule, const char *path)
{
    json_t *r = json_loads(rule, JSON_DECODE_ANY, NULL);
    jl_expr *e = NULL;
    assert_non_null(r);
    assert_int_equal(jl_compile(r, &e, (char[128]){0}, 128), FD_OK);
    bool yes = jl_may_read(e, path);
    jl_free(e);
    json_decref(r);
    return yes;
}

/* The earn path leaves out context parts no condition reads: a false "no"
 * would hide data from a rule, so every way of naming a path must say yes. */
static void may_read_is_conservative(void **state)
{
    (void)state;
    const char *p = "member.stats.sku_counts";
    assert_false(may_read("{\">=\": [{\"var\": \"member.stats.orders_total\"}, 5]}", p));
    assert_false(
        may_read("{\"==\": [{\"var\": \"member.stats.sku\"}, 1]}", p)); /* a prefix, not a step */
    assert_false(may_read("{\"var\": 0}", p));
    assert_false(may_read("true", p));
    assert_true(may_read("{\">\": [{\"var\": \"member.stats.sku_counts.SKU-1\"}, 2]}", p));
    assert_true(may_read("{\"var\": \"member.stats\"}", p)); /* the containing object */
    assert_true(may_read("{\"var\": \"member\"}", p));
    assert_true(may_read("{\"var\": \"\"}", p)); /* the whole data */
    assert_true(may_read("{\"var\": []}", p));
    assert_true(may_read("{\"var\": [\"member.stats.sku_counts\", 0]}", p));
    assert_true(may_read("{\"var\": {\"cat\": [\"member.\", \"stats\"]}}", p)); /* computed */
    assert_true(may_read("{\"missing\": [\"a\", \"member.stats.sku_counts\"]}", p));
    assert_true(may_read("{\"missing\": [[\"a\", \"member.stats\"]]}", p));
    assert_true(may_read("{\"missing_some\": [1, [\"a\", \"member.stats.sku_counts\"]]}", p));
    assert_false(may_read("{\"missing_some\": [1, [\"a\", \"member.tier\"]]}", p));
    /* the operators that read the member without a var */
    assert_true(may_read("{\"in_segment\": \"vip\"}", "member.segments"));
    assert_true(may_read("{\"==\": [{\"tier\": []}, \"Gold\"]}", "member.tier"));
    assert_true(may_read("{\"==\": [{\"tier\": []}, \"Gold\"]}", "member"));
    assert_false(may_read("{\"in_segment\": \"vip\"}", "member.attributes"));
    assert_false(may_read("{\"==\": [{\"tier\": []}, \"Gold\"]}", p));
    assert_true(may_read("{\"some\": [{\"var\": \"order.lines\"},"
                         " {\"in\": [{\"var\": \"sku\"}, {\"var\": \"member.stats.top_skus\"}]}]}",
                         "member.stats.top_skus"));
}

/* A var whose path is a literal is split when compiled (OP_PATH); the same
 * path computed at evaluation ("cat") takes the general way. Both must agree
 * on every corner: a null on the way, a null at the end, an empty key, an
 * array index, reduce's scope, and a default that is itself logic. */
static void literal_paths_agree_with_computed_ones(void **state)
{
    (void)state;
    const char *data = "{\"a\":{\"b\":null,\"c\":[{\"d\":7}],\"\":{\"e\":5}},\"n\":null,"
                       "\"l\":[{\"q\":1},{\"q\":2}]}";
    static const struct {
        const char *path, *fallback, *expect;
    } CASES[] = {
        {"a.b", "1", "null"},                             /* found, and null: not the default */
        {"a.b.x", "1", "1"},                              /* a null on the way: the default */
        {"n.x", "null", "null"},                          /* no default: null */
        {"a.c.0.d", "1", "7"},                            /* through an array */
        {"a.c.1.d", "{\"cat\":[\"x\",\"y\"]}", "\"xy\""}, /* a default that is logic */
        {"a..e", "1", "5"},                               /* an empty key */
        {"", "1",
         "{\"a\":{\"b\":null,\"c\":[{\"d\":7}],\"\":{\"e\":5}},\"n\":null,"
         "\"l\":[{\"q\":1},{\"q\":2}]}"}, /* the whole data */
        {"a.zz", "\"d\"", "\"d\""},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char literal[256], computed[256];
        snprintf(literal, sizeof literal, "{\"var\":[\"%s\",%s]}", CASES[i].path,
                 CASES[i].fallback);
        snprintf(computed, sizeof computed, "{\"var\":[{\"cat\":[\"%s\"]},%s]}", CASES[i].path,
                 CASES[i].fallback);
        json_t *want = json_loads(CASES[i].expect, JSON_DECODE_ANY, NULL);
        json_t *a = run(literal, data), *b = run(computed, data);
        if (!json_equal(a, want) || !json_equal(b, want))
            fail_msg("%s: literal %s, computed %s, want %s", CASES[i].path,
                     json_dumps(a, JSON_ENCODE_ANY), json_dumps(b, JSON_ENCODE_ANY),
                     CASES[i].expect);
        json_decref(a);
        json_decref(b);
        json_decref(want);
    }
    json_t *v = run("{\"reduce\":[{\"var\":\"l\"},{\"+\":[{\"var\":\"accumulator\"},"
                    "{\"var\":[\"current.q\",100]},{\"var\":[\"current.zz\",1]}]},0]}",
                    data);
    assert_int_equal(json_integer_value(v), 5); /* (1 + 1) + (2 + 1) */
    json_decref(v);
    assert_true(may_read("{\"var\":[\"member.stats.x\",0]}", "member.stats"));
    assert_false(may_read("{\"var\":[\"member.tier\",0]}", "member.stats"));
}

static void fidelis_operators(void **state)
{
    (void)state;
    char msg[256];
    json_t *data =
        json_loads("{\"member\":{\"tier\":\"Gold\",\"segments\":[\"vip\",\"de\"]}}", 0, NULL);
    jl_env env = {.now = 1767225600 + 10 * 86400, .weekday = 1, .hour = 18};
    const char *cases[][2] = {
        {"{\"==\":[{\"weekday\":[]},1]}", "true"},
        {"{\"and\":[{\">=\":[{\"hour\":[]},18]},{\"<\":[{\"hour\":[]},20]}]}", "true"},
        {"{\"days_since\":\"2026-01-01T00:00:00Z\"}", "10"},
        {"{\"in_segment\":\"vip\"}", "true"},
        {"{\"in_segment\":\"fr\"}", "false"},
        {"{\"==\":[{\"tier\":[]},\"Gold\"]}", "true"},
    };
    jl_ctx *c = jl_ctx_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = json_loads(cases[i][0], 0, NULL),
               *want = json_loads(cases[i][1], JSON_DECODE_ANY, NULL);
        jl_expr *e;
        jl_val v;
        assert_int_equal(jl_compile(r, &e, msg, sizeof msg), FD_OK);
        assert_int_equal(jl_eval(e, data, &env, c, &v), FD_OK);
        json_t *got = jl_to_json(&v);
        if (!same(got, want)) fail_msg("%s", cases[i][0]);
        json_decref(got);
        json_decref(want);
        json_decref(r);
        jl_free(e);
    }
    jl_ctx_free(c);
    json_decref(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(official_suite),
        cmocka_unit_test(javascript_corners),
        cmocka_unit_test(literal_paths_agree_with_computed_ones),
        cmocka_unit_test(compile_errors_name_the_node),
        cmocka_unit_test(hostile_expressions),
        cmocka_unit_test(fidelis_operators),
        cmocka_unit_test(may_read_is_conservative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
