/*
 * test_promo.c - benefits, stacking and codes (core/promo.c): the order of
 * application, exclusive categories, max codes, the floor at zero, rounding
 * of percent discounts, gift cards, code patterns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "core/promo.h"

static fd_promo parse(const char *text)
{
    fd_promo p;
    char field[128], msg[160];
    json_t *def = json_loads(text, 0, NULL);
    assert_non_null(def);
    if (fd_promo_parse(def, 2, "promotion", &p, field, msg)) fail_msg("%s: %s", field, msg);
    json_decref(def);
    return p;
}

/* shoes 2 x 40.00 (category shoes), socks 1 x 20.00, shipping 5.00 */
static const fd_cart_line LINES[] = {{"SHOE", "shoes", 2, 4000, 8000},
                                     {"SOCK", "socks", 1, 2000, 2000}};
static const fd_cart CART = {LINES, 2, 10000, 3, 500};

static void run(const fd_stacking *s, fd_promo *p, size_t n, fd_cart_code *k, fd_cart_totals *t)
{
    static const char *const NAMES[] = {"A", "B", "C", "D", "E", "F"};
    for (size_t i = 0; i < n; i++)
        k[i] = (fd_cart_code){.code = NAMES[i], .promo = &p[i], .balance = p[i].benefit.amount};
    fd_cart_apply(s, &CART, k, n, t);
}

static void exclusive_categories_keep_the_better(void **state)
{
    (void)state;
    fd_stacking s;
    json_t *def = json_loads("{\"exclusive_groups\": [[\"promotion\", \"loyalty\"]]}", 0, NULL);
    char field[128], msg[160];
    assert_int_equal(fd_stacking_parse(def, &s, field, msg), FD_OK);
    json_decref(def);
    fd_promo p[2] = {parse("{\"benefit\": {\"type\": \"percent\", \"percent\": 15}}"),
                     parse("{\"category\": \"loyalty\", \"benefit\": {\"type\": \"percent\", "
                           "\"percent\": 20}}")};
    fd_cart_code k[2];
    fd_cart_totals t;
    run(&s, p, 2, k, &t);
    assert_false(k[0].applied);
    assert_string_equal(k[0].refusal.code, "not_combinable");
    assert_true(k[1].applied);
    assert_int_equal(k[1].discount, 2000);
    assert_int_equal(t.total, 10000 - 2000 + 500);
    s.first_submitted = true; /* the policy may keep the first instead */
    run(&s, p, 2, k, &t);
    assert_true(k[0].applied);
    assert_int_equal(k[0].discount, 1500);
    assert_string_equal(k[1].refusal.code, "not_combinable");
    fd_stacking_clear(&s);
    fd_promo_clear(&p[0]);
    fd_promo_clear(&p[1]);
}

static void order_of_application_and_floor(void **state)
{
    (void)state;
    fd_stacking s;
    fd_stacking_default(&s);
    /* submitted in the "wrong" order: fixed 30.00, order 10 %, shoes 50 %, free shipping */
    fd_promo p[5] = {
        parse("{\"benefit\": {\"type\": \"fixed\", \"amount\": \"30.00\"}}"),
        parse("{\"benefit\": {\"type\": \"percent\", \"percent\": \"10\"}}"),
        parse("{\"benefit\": {\"type\": \"percent\", \"percent\": 50, \"applies_to\": "
              "{\"categories\": [\"shoes\"]}}}"),
        parse("{\"benefit\": {\"type\": \"free_shipping\"}}"),
        parse("{\"benefit\": {\"type\": \"fixed\", \"amount\": \"100.00\"}}"),
    };
    fd_cart_code k[5];
    fd_cart_totals t;
    run(&s, p, 4, k, &t);
    /* shoes 80 -> 40 (item-level first), goods 60 -> 54 (10 %), -> 24 (fixed 30) */
    assert_int_equal(k[2].discount, 4000);
    assert_int_equal(k[1].discount, 600);
    assert_int_equal(k[0].discount, 3000);
    assert_int_equal(k[3].shipping_discount, 500);
    assert_int_equal(t.total, 2400);
    /* a fixed 100.00 on top: never below zero */
    run(&s, p, 5, k, &t);
    assert_int_equal(t.total, 0);
    assert_int_equal(t.discount, 10000);
    /* fixed before percent when the policy says so: 60 - 30 = 30, then 10 % = 3 */
    json_t *def =
        json_loads("{\"application_order\": [\"item_percent\", \"order_fixed\"]}", 0, NULL);
    char field[128], msg[160];
    fd_stacking fixed_first;
    assert_int_equal(fd_stacking_parse(def, &fixed_first, field, msg), FD_OK);
    json_decref(def);
    run(&fixed_first, p, 4, k, &t);
    assert_int_equal(k[0].discount, 3000);
    assert_int_equal(k[1].discount, 300);
    assert_int_equal(t.total, 60 * 100 - 3300);
    def = json_loads("{\"application_order\": [\"gift_card\", \"gift_card\"]}", 0, NULL);
    assert_int_equal(fd_stacking_parse(def, &fixed_first, field, msg), FD_EINVAL);
    assert_string_equal(field, "application_order");
    json_decref(def);
    s.max_codes = 2;
    run(&s, p, 5, k, &t);
    int applied = 0, too_many = 0;
    for (int i = 0; i < 5; i++) {
        applied += k[i].applied;
        too_many += !strcmp(k[i].refusal.code, "too_many_codes");
    }
    assert_int_equal(applied, 2);
    assert_int_equal(too_many, 3);
    for (int i = 0; i < 5; i++)
        fd_promo_clear(&p[i]);
}

static void rounding_gift_cards_and_products(void **state)
{
    (void)state;
    fd_stacking s;
    fd_stacking_default(&s);
    fd_promo p[4] = {
        parse("{\"benefit\": {\"type\": \"percent\", \"percent\": \"12.36\"}}"),
        parse("{\"benefit\": {\"type\": \"gift_card\", \"amount\": \"200.00\"}}"),
        parse("{\"benefit\": {\"type\": \"free_product\", \"sku\": \"SOCK\"}}"),
        parse("{\"stackable\": false, \"benefit\": {\"type\": \"percent\", \"percent\": "
              "\"33.33\"}}"),
    };
    fd_cart_code k[4];
    fd_cart_totals t;
    /* 12.345 % has three decimals: refused at parse time */
    fd_promo bad;
    char field[128], msg[160];
    json_t *def =
        json_loads("{\"benefit\": {\"type\": \"percent\", \"percent\": \"12.345\"}}", 0, NULL);
    assert_int_equal(fd_promo_parse(def, 2, "promotion", &bad, field, msg), FD_EINVAL);
    assert_string_equal(field, "benefit.percent");
    json_decref(def);
    run(&s, p, 3, k, &t);
    /* free sock 20.00 first, then 12.36 % of 80.00 = 9.888 -> 9.89 (half up), gift card pays the
     * rest + shipping */
    assert_int_equal(k[2].discount, 2000);
    assert_int_equal(k[0].discount, 989);
    assert_int_equal(k[1].gift_card, 8000 - 989 + 500);
    assert_int_equal(t.total, 0);
    /* 33.33 % of 100.00 = 33.33; not stackable: the gift card still joins */
    run(&s, p + 1, 3, k, &t);
    assert_true(k[0].applied);
    assert_string_equal(k[1].refusal.code, "not_combinable");
    assert_true(k[2].applied);
    assert_int_equal(k[2].discount, 3333);
    for (int i = 0; i < 4; i++)
        fd_promo_clear(&p[i]);
}

static void item_filters_and_refusals(void **state)
{
    (void)state;
    fd_stacking s;
    fd_stacking_default(&s);
    fd_promo p[3] = {
        parse("{\"benefit\": {\"type\": \"fixed\", \"amount\": \"5.00\", \"applies_to\": "
              "{\"skus\": [\"HAT\"]}}}"),
        parse("{\"benefit\": {\"type\": \"free_product\", \"sku\": \"HAT\"}}"),
        parse("{\"benefit\": {\"type\": \"fixed\", \"amount\": \"50.00\", \"applies_to\": "
              "{\"skus\": [\"SOCK\"]}}}"),
    };
    fd_cart_code k[3];
    fd_cart_totals t;
    run(&s, p, 3, k, &t);
    assert_string_equal(k[0].refusal.code, "no_matching_items");
    assert_string_equal(k[1].refusal.code, "product_not_in_cart");
    assert_int_equal(k[2].discount, 2000); /* the sock line's 20.00 at most */
    assert_int_equal(t.total, 10000 - 2000 + 500);
    for (int i = 0; i < 3; i++)
        fd_promo_clear(&p[i]);
}

static void validation_refusals(void **state)
{
    (void)state;
    fd_promo p =
        parse("{\"benefit\": {\"type\": \"fixed\", \"amount\": 5}, \"validation\": "
              "{\"min_amount\": \"150.00\", \"tiers\": [\"Gold\"], \"rules\": "
              "[{\"name\": \"no_socks\", \"message\": \"not with socks\", "
              "\"condition\": {\"!\": {\"in\": [\"SOCK\", {\"var\": \"cart.skus\"}]}}}]}}");
    jl_env env = {1700000000, 1, 10, 0};
    jl_ctx *jc = jl_ctx_new();
    json_t *data = json_loads("{\"cart\": {\"skus\": [\"SHOE\", \"SOCK\"]}}", 0, NULL);
    fd_promo_facts f = {.cart = &CART, .has_member = false, .data = data, .env = &env, .ctx = jc};
    fd_refusal why;
    assert_int_equal(fd_promo_check(&p, &f, &why), FD_EFORBIDDEN);
    assert_string_equal(why.code, "member_required");
    f.has_member = true;
    f.tier = "Silver";
    fd_promo_check(&p, &f, &why);
    assert_string_equal(why.code, "tier_not_eligible");
    f.tier = "Gold";
    fd_promo_check(&p, &f, &why);
    assert_string_equal(why.code, "min_amount_not_met");
    f.cart = NULL; /* validating the code alone: cart rules wait for the cart */
    fd_promo_check(&p, &f, &why);
    assert_string_equal(why.code, "rule_failed");
    assert_string_equal(why.rule, "no_socks");
    json_decref(data);
    data = json_loads("{\"cart\": {\"skus\": [\"SHOE\"]}}", 0, NULL);
    f.data = data;
    assert_int_equal(fd_promo_check(&p, &f, &why), FD_OK);
    json_decref(data);
    jl_ctx_free(jc);
    fd_promo_clear(&p);
}

static void code_patterns(void **state)
{
    (void)state;
    int64_t space;
    assert_int_equal(fd_code_pattern("XMAS-####-????", &space), FD_OK);
    assert_int_equal(space, (int64_t)8 * 8 * 8 * 8 * 23 * 23 * 23 * 23);
    assert_int_equal(fd_code_pattern("XMAS", &space), FD_EINVAL);    /* nothing random */
    assert_int_equal(fd_code_pattern("xmas-##", &space), FD_EINVAL); /* lower case */
    char code[FD_CODE_PATTERN_MAX + 1], norm[FD_CODE_PATTERN_MAX + 1];
    fd_code_generate("XMAS-####-????", code);
    assert_int_equal(strlen(code), 14);
    assert_memory_equal(code, "XMAS-", 5);
    for (int i = 5; i < 9; i++)
        assert_non_null(strchr("23456789", code[i]));
    for (int i = 10; i < 14; i++)
        assert_non_null(strchr("ABCDEFGHJKMNPQRSTUVWXYZ", code[i]));
    assert_int_equal(fd_code_normalise("  xmas-2345-abcd ", norm), FD_OK);
    assert_string_equal(norm, "XMAS-2345-ABCD");
    assert_int_equal(fd_code_normalise("DROP TABLE", norm), FD_EINVAL);
    assert_int_equal(fd_code_normalise("", norm), FD_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exclusive_categories_keep_the_better),
        cmocka_unit_test(order_of_application_and_floor),
        cmocka_unit_test(rounding_gift_cards_and_products),
        cmocka_unit_test(item_filters_and_refusals),
        cmocka_unit_test(validation_refusals),
        cmocka_unit_test(code_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
