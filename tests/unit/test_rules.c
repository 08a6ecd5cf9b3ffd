/*
 * test_rules.c - earning-rule parsing and evaluation (core/rules.c):
 * proration, tier rates, rounding per line, multiplier order, caps and
 * budgets, exclusivity, ISO week keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "core/names.h"
#include "core/rules.h"

static fd_rule parse(const char *text)
{
    fd_rule r;
    char field[128], msg[160];
    json_t *def = json_loads(text, 0, NULL);
    assert_non_null(def);
    if (fd_rule_parse(def, &r, field, msg)) fail_msg("%s: %s", field, msg);
    json_decref(def);
    return r;
}

#define WORLD_RULES 16

typedef struct world {
    fd_rule rules[WORLD_RULES];
    const fd_rule *sorted[WORLD_RULES];
    size_t n;
    fd_rule_usage usage[WORLD_RULES];
    fd_rule_outcome out[WORLD_RULES];
    jl_ctx *jc;
} world;

static void add(world *w, const char *text)
{
    assert_true(w->n < WORLD_RULES);
    w->rules[w->n] = parse(text);
    w->rules[w->n].id = (int64_t)w->n + 1;
    w->sorted[w->n] = &w->rules[w->n];
    w->n++;
    fd_rules_sort(w->sorted, w->n);
}

static int64_t run(world *w, fd_earn_input *in)
{
    int64_t total = -1;
    if (!w->jc) w->jc = jl_ctx_new();
    assert_int_equal(fd_rules_evaluate(w->sorted, w->n, in, w->usage, w->jc, w->out, &total),
                     FD_OK);
    return total;
}

static void done(world *w)
{
    for (size_t i = 0; i < w->n; i++)
        fd_rule_clear(&w->rules[i]);
    jl_ctx_free(w->jc);
}

static fd_earn_input order(int64_t total)
{
    return (fd_earn_input){.type = "purchase",
                           .now = 1795420800,
                           .local_minute = 600,
                           .env = {1795420800, 1, 10, 3600},
                           .exponent = 2,
                           .total = total,
                           .order_count = 1};
}

static void prorating_adds_up_exactly(void **state)
{
    (void)state;
    fd_earn_line l[3] = {{"A", NULL, 1, 3333, 0}, {"B", NULL, 1, 3333, 0}, {"C", NULL, 1, 3334, 0}};
    fd_prorate_lines(l, 3, 8000); /* 20 % off 100.00 */
    assert_int_equal(l[0].paid + l[1].paid + l[2].paid, 8000);
    /* floors 2666 + 2666 + 2667; the left-over cent goes to the largest remainder,
     * 0.4 of line A (tied with B, the earlier wins) */
    assert_int_equal(l[0].paid, 2667);
    assert_int_equal(l[1].paid, 2666);
    assert_int_equal(l[2].paid, 2667);
    fd_earn_line z[2] = {{"A", NULL, 1, 0, 0}, {"B", NULL, 1, 0, 0}};
    fd_prorate_lines(z, 2, 500); /* no gross to weigh by */
    assert_int_equal(z[0].paid + z[1].paid, 500);
}

static void tier_rates_and_line_rounding(void **state)
{
    (void)state;
    world w = {0};
    add(&w, "{\"name\":\"t\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"per_amount\",\"rate\":"
            "\"1\","
            "\"per\":\"line\",\"rounding\":\"round\",\"tier_rates\":{\"Gold\":\"2\",\"Silver\":\"1."
            "5\"}}}");
    fd_earn_line l[2] = {{"A", "x", 1, 150, 0}, {"B", "x", 1, 150, 0}};
    fd_prorate_lines(l, 2, 300);
    fd_earn_input in = order(300);
    in.lines = l;
    in.nlines = 2;
    assert_int_equal(run(&w, &in), 4); /* round(1.5) + round(1.5) */
    in.tier = "Silver";
    assert_int_equal(run(&w, &in), 4); /* round(2.25) x 2 */
    in.tier = "Gold";
    assert_int_equal(run(&w, &in), 6);
    done(&w);
}

/* Past a few rules with line lists, an order's lines are matched to a list
 * through the bits of their names first (fd_name_bit): the rules of other
 * products earn nothing, a name that only shares its bit with a listed one
 * is still not listed, and the listed ones still earn. */
static void many_product_rules_find_their_lines(void **state)
{
    (void)state;
    world w = {0};
    char text[256], collider[16] = "";
    for (int k = 0; k < 6; k++) { /* more than LINE_BITS_AFTER: the bits decide the rest */
        snprintf(text, sizeof text,
                 "{\"name\":\"z%d\",\"trigger\":\"purchase\",\"lines\":{\"skus\":[\"Z-%d\"]},"
                 "\"effect\":{\"type\":\"per_amount\",\"rate\":\"1\"}}",
                 k, k);
        add(&w, text);
    }
    for (int k = 0; !*collider; k++) { /* another name with the bit of "A" */
        snprintf(collider, sizeof collider, "C%d", k);
        if (fd_name_bit(collider) != fd_name_bit("A")) *collider = 0;
    }
    snprintf(text, sizeof text,
             "{\"name\":\"collider\",\"trigger\":\"purchase\",\"lines\":{\"skus\":[\"%s\"]},"
             "\"effect\":{\"type\":\"per_amount\",\"rate\":\"1\"}}",
             collider);
    add(&w, text);
    add(&w, "{\"name\":\"b\",\"trigger\":\"purchase\",\"lines\":{\"skus\":[\"Q\",\"B\"]},"
            "\"effect\":{\"type\":\"per_amount\",\"rate\":\"1\"}}");
    add(&w, "{\"name\":\"x\",\"trigger\":\"purchase\",\"lines\":{\"categories\":[\"x\"]},"
            "\"effect\":{\"type\":\"per_amount\",\"rate\":\"2\"}}");
    add(&w, "{\"name\":\"y\",\"trigger\":\"purchase\",\"lines\":{\"categories\":[\"y\"]},"
            "\"effect\":{\"type\":\"per_amount\",\"rate\":\"5\"}}");
    fd_earn_line l[2] = {{"A", "x", 1, 1000, 0}, {"B", "x", 1, 1500, 0}};
    fd_prorate_lines(l, 2, 2500);
    fd_earn_input in = order(2500);
    in.lines = l;
    in.nlines = 2;
    assert_int_equal(run(&w, &in), 15 + 50); /* b: 15 EUR of B; x: 25 EUR at 2 */
    for (size_t i = 0; i < w.n; i++) {
        const char *name = w.out[i].rule->name;
        int64_t want = !strcmp(name, "b") ? 15 : !strcmp(name, "x") ? 50 : 0;
        assert_int_equal(w.out[i].points, want);
    }
    done(&w);
}

static void multipliers_in_priority_order(void **state)
{
    (void)state;
    world w = {0};
    add(&w, "{\"name\":\"base\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"per_amount\","
            "\"rate\":\"1\"}}");
    add(&w, "{\"name\":\"x1.5\",\"trigger\":\"purchase\",\"priority\":2,\"effect\":{\"type\":"
            "\"multiplier\","
            "\"factor\":\"1.5\"}}");
    add(&w, "{\"name\":\"x2\",\"trigger\":\"purchase\",\"priority\":1,\"effect\":{\"type\":"
            "\"multiplier\","
            "\"factor\":\"2\"}}");
    fd_earn_input in = order(1100); /* 11 points */
    /* 11 x 1.5 = 16.5 -> 16 (floor), then x2 = 32 */
    assert_int_equal(run(&w, &in), 32);
    int64_t bonus15 = 0, bonus2 = 0;
    for (size_t i = 0; i < w.n; i++) {
        if (!strcmp(w.out[i].rule->name, "x1.5")) bonus15 = w.out[i].points;
        if (!strcmp(w.out[i].rule->name, "x2")) bonus2 = w.out[i].points;
    }
    assert_int_equal(bonus15, 5);
    assert_int_equal(bonus2, 16);
    done(&w);
}

static void most_restrictive_cap_wins(void **state)
{
    (void)state;
    world w = {0};
    add(&w, "{\"name\":\"capped\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"fixed\","
            "\"points\":40},"
            "\"limits\":{\"member_points\":{\"max\":100,\"period\":\"day\"},\"budget_points\":1000,"
            "\"budget_mode\":\"partial\"}}");
    fd_earn_input in = order(100);
    w.usage[0] = (fd_rule_usage){.member_points = 70, .budget_used = 990};
    assert_int_equal(run(&w, &in), 10); /* member room 30, budget room 10 */
    w.usage[0] = (fd_rule_usage){.member_points = 95, .budget_used = 0};
    assert_int_equal(run(&w, &in), 5);
    w.usage[0] = (fd_rule_usage){.member_points = 100};
    assert_int_equal(run(&w, &in), 0);
    assert_string_equal(w.out[0].reason, "member_cap");
    done(&w);
}

static void exclusive_and_schedule(void **state)
{
    (void)state;
    world w = {0};
    add(&w, "{\"name\":\"night\",\"trigger\":\"purchase\",\"priority\":5,\"exclusive\":true,"
            "\"schedule\":{\"hours\":{\"from\":\"22:00\",\"to\":\"02:00\"}},"
            "\"effect\":{\"type\":\"fixed\",\"points\":7}}");
    add(&w, "{\"name\":\"always\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"fixed\","
            "\"points\":1}}");
    fd_earn_input in = order(100);
    in.local_minute = 23 * 60;
    assert_int_equal(run(&w, &in), 7);
    in.local_minute = 60; /* 01:00 wraps into the window */
    assert_int_equal(run(&w, &in), 7);
    in.local_minute = 2 * 60; /* 02:00 is outside */
    assert_int_equal(run(&w, &in), 1);
    done(&w);
}

static void iso_week_keys(void **state)
{
    (void)state;
    char k[16];
    fd_period_key(FD_PERIOD_WEEK, 2026, 11, 23, k);
    assert_string_equal(k, "2026-W48");
    fd_period_key(FD_PERIOD_WEEK, 2027, 1, 1, k); /* a Friday: still 2026's week 53 */
    assert_string_equal(k, "2026-W53");
    fd_period_key(FD_PERIOD_WEEK, 2024, 12, 30, k); /* a Monday: 2025's week 1 */
    assert_string_equal(k, "2025-W01");
    fd_period_key(FD_PERIOD_MONTH, 2026, 2, 28, k);
    assert_string_equal(k, "2026-02");
    fd_period_key(FD_PERIOD_LIFETIME, 2026, 2, 28, k);
    assert_string_equal(k, "lifetime");
    fd_period_key(FD_PERIOD_DAY, 2026, 3, 7, k);
    assert_string_equal(k, "2026-03-07");
    fd_period_key(FD_PERIOD_DAY, 987, 12, 31, k);
    assert_string_equal(k, "0987-12-31");
    fd_period_key(FD_PERIOD_YEAR, 2026, 3, 7, k);
    assert_string_equal(k, "2026");
    fd_period_key(FD_PERIOD_DAY, 12026, 13, 0, k); /* clamped into range */
    assert_string_equal(k, "9999-12-01");
}

static void bad_definitions(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"[]", ""},
        {"{\"name\":\"x\",\"trigger\":\"Purchase\",\"effect\":{\"type\":\"fixed\",\"points\":1}}",
         "trigger"},
        {"{\"name\":\"x\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"fixed\",\"points\":0}}",
         "effect.points"},
        {"{\"name\":\"x\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"per_amount\",\"rate\":"
         "\"1.2345\"}}",
         "effect.rate"},
        {"{\"name\":\"x\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"fixed\",\"points\":1},"
         "\"schedule\":{\"from\":\"2027-01-01T00:00:00Z\",\"to\":\"2026-01-01T00:00:00Z\"}}",
         "schedule.to"},
        {"{\"name\":\"x\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"fixed\",\"points\":1},"
         "\"lines\":{\"skus\":[1]}}",
         "lines.skus"},
        {"{\"name\":\"x\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"fixed\",\"points\":1},"
         "\"condition\":{\"var\":[\"a\",1,2]}}",
         "condition/var"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fd_rule r;
        char field[128], msg[160];
        json_t *def = json_loads(cases[i][0], JSON_DECODE_ANY, NULL);
        assert_int_equal(fd_rule_parse(def, &r, field, msg), FD_EINVAL);
        assert_string_equal(field, cases[i][1]);
        json_decref(def);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prorating_adds_up_exactly),
        cmocka_unit_test(tier_rates_and_line_rounding),
        cmocka_unit_test(many_product_rules_find_their_lines),
        cmocka_unit_test(multipliers_in_priority_order),
        cmocka_unit_test(most_restrictive_cap_wins),
        cmocka_unit_test(exclusive_and_schedule),
        cmocka_unit_test(iso_week_keys),
        cmocka_unit_test(bad_definitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
