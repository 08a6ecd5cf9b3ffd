/*
 * bench_rules.c - rule evaluation alone: a 10-line order against 20 active
 * rules (tier rates, category bonus, happy hour, segment multiplier, capped
 * custom-event rules...). Prints "rules_eval_10_lines_20_rules: <us> us/event".
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/rules.h"

static const char *RULES[] = {
    "{\"name\":\"base\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"per_amount\",\"rate\":"
    "\"1\","
    "\"tier_rates\":{\"Silver\":\"1.5\",\"Gold\":\"2\"}}}",
    "{\"name\":\"shoes\",\"trigger\":\"purchase\",\"lines\":{\"categories\":[\"shoes\"]},"
    "\"effect\":{\"type\":\"per_amount\",\"rate\":\"2\"}}",
    "{\"name\":\"bags\",\"trigger\":\"purchase\",\"lines\":{\"categories\":[\"bags\",\"belts\"]},"
    "\"effect\":{\"type\":\"per_amount\",\"rate\":\"1\",\"per\":\"line\"}}",
    "{\"name\":\"happy hour\",\"trigger\":\"purchase\",\"schedule\":{\"hours\":{\"from\":\"18:00\","
    "\"to\":\"20:00\"}},\"effect\":{\"type\":\"multiplier\",\"factor\":\"1.5\"}}",
    "{\"name\":\"DE monday\",\"trigger\":\"purchase\",\"schedule\":{\"days\":[\"mon\"]},"
    "\"condition\":{\"==\":[{\"var\":\"member.attributes.country\"},\"DE\"]},"
    "\"effect\":{\"type\":\"multiplier\",\"factor\":\"2\",\"stacking\":\"best\"}}",
    "{\"name\":\"vip segment\",\"trigger\":\"purchase\",\"condition\":{\"in_segment\":\"vip\"},"
    "\"effect\":{\"type\":\"multiplier\",\"factor\":\"1.2\"}}",
    "{\"name\":\"big "
    "basket\",\"trigger\":\"purchase\",\"condition\":{\">\":[{\"var\":\"order.total\"},200]},"
    "\"effect\":{\"type\":\"fixed\",\"points\":50}}",
    "{\"name\":\"third order\",\"trigger\":\"purchase\",\"effect\":{\"type\":\"nth_order\",\"n\":3,"
    "\"points\":100}}",
    "{\"name\":\"two "
    "shoes\",\"trigger\":\"purchase\",\"condition\":{\">=\":[{\"reduce\":[{\"filter\":"
    "[{\"var\":\"order.lines\"},{\"==\":[{\"var\":\"category\"},\"shoes\"]}]},{\"+\":[{\"var\":"
    "\"accumulator\"},{\"var\":\"current.quantity\"}]},0]},2]},\"effect\":{\"type\":\"fixed\","
    "\"points\":25}}",
    "{\"name\":\"app channel\",\"trigger\":\"purchase\",\"condition\":{\"==\":[{\"var\":"
    "\"event.channel\"},\"app\"]},\"effect\":{\"type\":\"fixed\",\"points\":10}}",
    "{\"name\":\"winter\",\"trigger\":\"purchase\",\"schedule\":{\"from\":\"2026-12-01T00:00:00Z\","
    "\"to\":\"2027-03-01T00:00:00Z\"},\"effect\":{\"type\":\"per_amount\",\"rate\":\"0.5\"}}",
    "{\"name\":\"capped "
    "bonus\",\"trigger\":\"purchase\",\"limits\":{\"member_points\":{\"max\":500,"
    "\"period\":\"month\"}},\"effect\":{\"type\":\"per_amount\",\"rate\":\"0.1\"}}",
    "{\"name\":\"gross\",\"trigger\":\"purchase\",\"base\":\"gross\",\"exclude\":{\"skus\":[\"GIFT-"
    "1\"]},"
    "\"effect\":{\"type\":\"per_amount\",\"rate\":\"0.2\"}}",
    "{\"name\":\"weekend\",\"trigger\":\"purchase\",\"schedule\":{\"days\":[\"sat\",\"sun\"]},"
    "\"effect\":{\"type\":\"multiplier\",\"factor\":\"1.1\"}}",
    "{\"name\":\"loyal\",\"trigger\":\"purchase\",\"condition\":{\">\":[{\"var\":\"member.orders_"
    "before\"},"
    "10]},\"effect\":{\"type\":\"fixed\",\"points\":5}}",
    "{\"name\":\"social "
    "like\",\"trigger\":\"social_like\",\"limits\":{\"member_points\":{\"max\":100}},"
    "\"effect\":{\"type\":\"fixed\",\"points\":5}}",
    "{\"name\":\"review\",\"trigger\":\"review_written\",\"limits\":{\"member_triggers\":{\"max\":"
    "5,"
    "\"period\":\"month\"}},\"effect\":{\"type\":\"fixed\",\"points\":20}}",
    "{\"name\":\"newsletter\",\"trigger\":\"newsletter_signup\",\"effect\":{\"type\":\"fixed\","
    "\"points\":50}}",
    "{\"name\":\"sku promo\",\"trigger\":\"purchase\",\"lines\":{\"skus\":[\"SKU-3\",\"SKU-7\"]},"
    "\"effect\":{\"type\":\"per_amount\",\"rate\":\"3\"}}",
    "{\"name\":\"budgeted\",\"trigger\":\"purchase\",\"limits\":{\"budget_points\":1000000},"
    "\"effect\":{\"type\":\"fixed\",\"points\":1}}",
};

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 200000;
    enum { N = sizeof RULES / sizeof RULES[0] };
    fd_rule rules[N];
    const fd_rule *sorted[N];
    for (int i = 0; i < N; i++) {
        char field[128], msg[160];
        json_t *def = json_loads(RULES[i], 0, NULL);
        if (!def || fd_rule_parse(def, &rules[i], field, msg)) {
            fprintf(stderr, "rule %d: %s %s\n", i, field, msg);
            return 1;
        }
        rules[i].id = i + 1;
        sorted[i] = &rules[i];
        json_decref(def);
    }
    fd_rules_sort(sorted, N);

    static const char *CATS[] = {"shoes", "bags", "shirts", "belts", "socks"};
    fd_earn_line lines[10];
    json_t *jl = json_array();
    for (int i = 0; i < 10; i++) {
        static char skus[10][8];
        snprintf(skus[i], sizeof skus[i], "SKU-%d", i);
        lines[i] = (fd_earn_line){skus[i], CATS[i % 5], 1 + i % 3, 1999 * (1 + i % 3), 0};
        json_array_append_new(jl, json_pack("{s:s, s:s, s:i, s:f}", "sku", skus[i], "category",
                                            CATS[i % 5], "quantity", 1 + i % 3, "amount",
                                            19.99 * (1 + i % 3)));
    }
    fd_prorate_lines(lines, 10, 35000);
    json_t *data =
        json_pack("{s:{s:s, s:s}, s:{s:f, s:o}, s:{s:{s:s}, s:[s], s:i}}", "event", "type",
                  "purchase", "channel", "web", "order", "total", 350.0, "lines", jl, "member",
                  "attributes", "country", "DE", "segments", "vip", "orders_before", 12);
    fd_earn_input in = {.type = "purchase",
                        .now = 1795420800,
                        .local_minute = 18 * 60 + 30,
                        .env = {1795420800, 1, 18, 3600},
                        .data = data,
                        .exponent = 2,
                        .total = 35000,
                        .lines = lines,
                        .nlines = 10,
                        .tier = "Gold",
                        .order_count = 13};
    fd_rule_usage usage[N] = {{0}};
    fd_rule_outcome out[N];
    jl_ctx *jc = jl_ctx_new();
    int64_t total = 0, check = 0;
    int64_t t0 = fd_monotonic_us();
    for (long i = 0; i < iterations; i++) {
        if (fd_rules_evaluate(sorted, N, &in, usage, jc, out, &total)) return 1;
        check += total;
    }
    double us = (double)(fd_monotonic_us() - t0) / (double)iterations;
    printf("rules_eval_10_lines_20_rules: %.2f us/event\n", us);
    fprintf(stderr, "(points per event: %lld)\n", (long long)(check / iterations));
    jl_ctx_free(jc);
    json_decref(data);
    for (int i = 0; i < N; i++)
        fd_rule_clear(&rules[i]);
    return 0;
}
