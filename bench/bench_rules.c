/*
 * bench_rules.c - rule evaluation alone: a 10-line order against 20 active
 * rules (tier rates, category bonus, happy hour, segment multiplier, capped
 * custom-event rules...), then the same with 180 rules that this order does not
 * earn from. Prints "rules_eval_10_lines_20_rules: <us> us/event" and
 * "rules_eval_10_lines_200_rules: <us> us/event".
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

/* Rules that this order does not earn from, the way a program's list grows:
 * other event types, SKU promotions for other products, campaigns that are
 * off, offers that ended. Filler rule i, as JSON in buf. */
static void filler_rule(char *buf, size_t size, int i)
{
    switch (i % 4) {
    case 0:
        snprintf(buf, size,
                 "{\"name\":\"f%d\",\"trigger\":\"custom_%d\",\"effect\":{\"type\":\"fixed\","
                 "\"points\":5}}",
                 i, i);
        break;
    case 1:
        snprintf(buf, size,
                 "{\"name\":\"f%d\",\"trigger\":\"purchase\",\"lines\":{\"skus\":[\"P-%d\"]},"
                 "\"effect\":{\"type\":\"per_amount\",\"rate\":\"2\"}}",
                 i, i);
        break;
    case 2:
        snprintf(buf, size,
                 "{\"name\":\"f%d\",\"trigger\":\"purchase\",\"campaign_id\":%d,"
                 "\"effect\":{\"type\":\"multiplier\",\"factor\":\"2\"}}",
                 i, 1000 + i);
        break;
    default:
        snprintf(buf, size,
                 "{\"name\":\"f%d\",\"trigger\":\"purchase\",\"schedule\":{\"from\":"
                 "\"2025-01-01T00:00:00Z\",\"to\":\"2025-02-01T00:00:00Z\"},"
                 "\"effect\":{\"type\":\"fixed\",\"points\":10}}",
                 i);
    }
}

/* Parses the 20 rules of RULES and nfiller of filler_rule into rules,
 * sorted into sorted. */
static int load_rules(fd_rule *rules, const fd_rule **sorted, int nfiller)
{
    enum { NREAL = sizeof RULES / sizeof RULES[0] };
    for (int i = 0; i < NREAL + nfiller; i++) {
        char field[128], msg[160], text[320];
        if (i >= NREAL) filler_rule(text, sizeof text, i - NREAL);
        json_t *def = json_loads(i < NREAL ? RULES[i] : text, 0, NULL);
        if (!def || fd_rule_parse(def, &rules[i], field, msg)) {
            fprintf(stderr, "rule %d: %s %s\n", i, field, msg);
            return -1;
        }
        rules[i].id = i + 1;
        sorted[i] = &rules[i];
        json_decref(def);
    }
    fd_rules_sort(sorted, (size_t)(NREAL + nfiller));
    return 0;
}

/* Evaluates the order against n sorted rules `iterations` times; prints
 * the time per event under `name`. */
static int time_rules(const char *name, const fd_rule **sorted, size_t n, const fd_earn_input *in,
                      long iterations)
{
    fd_rule_usage *usage = calloc(n, sizeof *usage);
    fd_rule_outcome *out = calloc(n, sizeof *out);
    jl_ctx *jc = jl_ctx_new();
    int64_t total = 0, check = 0;
    int rc = 0;
    int64_t t0 = fd_monotonic_us();
    for (long i = 0; i < iterations && !rc; i++) {
        rc = fd_rules_evaluate(sorted, n, in, usage, jc, out, &total);
        check += total;
    }
    double us = (double)(fd_monotonic_us() - t0) / (double)iterations;
    if (!rc) printf("%s: %.2f us/event\n", name, us);
    fprintf(stderr, "(%s: points per event: %lld)\n", name, (long long)(check / iterations));
    jl_ctx_free(jc);
    free(out);
    free(usage);
    return rc;
}

/* bench_rules [ITERATIONS] [SETS]: SETS "20" times only the 20 realistic
 * rules (what `bench/run.sh instructions` counts); by default the same 20
 * with 180 rules this order does not earn from are timed as well. */
int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 200000;
    bool only20 = argc > 2 && !strcmp(argv[2], "20");
    enum { NREAL = sizeof RULES / sizeof RULES[0], NFILLER = 180, N = NREAL + NFILLER };
    static fd_rule rules[N];
    static const fd_rule *sorted[N];
    if (iterations <= 0 || load_rules(rules, sorted, NFILLER)) return 1;
    static const fd_rule *real[NREAL];
    for (int i = 0, k = 0; i < N; i++)
        if (sorted[i]->id <= NREAL) real[k++] = sorted[i];

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
    int rc = time_rules("rules_eval_10_lines_20_rules", real, NREAL, &in, iterations);
    if (!rc && !only20)
        rc = time_rules("rules_eval_10_lines_200_rules", sorted, N, &in, iterations);
    json_decref(data);
    for (int i = 0; i < N; i++)
        fd_rule_clear(&rules[i]);
    return rc ? 1 : 0;
}
