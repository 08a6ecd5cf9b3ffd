/*
 * test_clv.c - BG/NBD and Gamma-Gamma fitted on the CDNOW sample must give
 * the published estimates (core/clv.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/clv.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

/* Reads ID,x,t_x,T[,zbar] rows. */
static size_t load(const char *file, fd_clv_customer **out, int with_value)
{
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    char line[256];
    size_t n = 0, cap = 4096;
    fd_clv_customer *v = calloc(cap, sizeof *v);
    if (!fgets(line, sizeof line, f)) fail();
    while (fgets(line, sizeof line, f)) {
        int id;
        fd_clv_customer c = {0};
        int got = with_value ? sscanf(line, "%d,%lf,%lf,%lf,%lf", &id, &c.x, &c.t_x, &c.T, &c.m)
                             : sscanf(line, "%d,%lf,%lf,%lf", &id, &c.x, &c.t_x, &c.T);
        if (got < 4) continue;
        v[n++] = c;
    }
    fclose(f);
    *out = v;
    return n;
}

static void close_to(double got, double want, double rel)
{
    if (fabs(got - want) > rel * fabs(want)) fail_msg("got %.4f, want %.4f", got, want);
}

static void bgnbd_on_cdnow(void **state)
{
    (void)state;
    fd_clv_customer *c;
    size_t n = load(TEST_DATA_DIR "/cdnow_customers_summary.csv", &c, 0);
    assert_int_equal(n, 2357);
    fd_bgnbd p;
    assert_int_equal(fd_bgnbd_fit(c, n, &p), 0);
    fprintf(stderr, "BG/NBD r=%.4f alpha=%.4f a=%.4f b=%.4f LL=%.2f\n", p.r, p.alpha, p.a, p.b,
            p.ll);
    close_to(p.r, 0.243, 0.01);
    close_to(p.alpha, 4.414, 0.01);
    close_to(p.a, 0.793, 0.01);
    close_to(p.b, 2.426, 0.01);
    close_to(p.ll, -9582.4, 0.0001);
    /* predictions behave: a customer who bought often and recently is alive and buys more */
    double alive_recent = fd_bgnbd_p_alive(&p, 5, 38, 39),
           alive_gone = fd_bgnbd_p_alive(&p, 5, 5, 39);
    fprintf(stderr, "P(alive) recent %.3f, gone quiet %.3f\n", alive_recent, alive_gone);
    assert_true(alive_recent > 0.8 && alive_gone < alive_recent / 2);
    assert_true(fd_bgnbd_expected(&p, 5, 38, 39, 39) > fd_bgnbd_expected(&p, 0, 0, 39, 39));
    assert_true(fd_bgnbd_p_alive(&p, 0, 0, 39) == 1.0);
    free(c);
}

static void gamma_gamma_on_cdnow(void **state)
{
    (void)state;
    fd_clv_customer *c;
    size_t n = load(TEST_DATA_DIR "/cdnow_customers_summary_with_transactions.csv", &c, 1);
    size_t repeat = 0;
    for (size_t i = 0; i < n; i++)
        repeat += c[i].x > 0;
    assert_int_equal(repeat, 946);
    fd_gamma_gamma g;
    assert_int_equal(fd_gamma_gamma_fit(c, n, &g), 0);
    fprintf(stderr, "Gamma-Gamma p=%.3f q=%.3f gamma=%.3f\n", g.p, g.q, g.gamma);
    close_to(g.p, 6.25, 0.01);
    close_to(g.q, 3.74, 0.01);
    close_to(g.gamma, 15.44, 0.01);
    fd_bgnbd p;
    assert_int_equal(fd_bgnbd_fit(c, n, &p), 0);
    double clv =
        fd_clv(&p, &g, &c[0], 4.0, 13, 0.01); /* a year in 4-week periods, 1 % per period */
    assert_true(clv > 0 && isfinite(clv));
    free(c);
}

/* Data drawn from the models with known parameters (not CDNOW's) must give
 * them back: 20,000 customers observed for 20 to 78 weeks. */
static void recovers_synthetic_parameters(void **state)
{
    (void)state;
    enum { N = 20000 };
    const fd_bgnbd truth = {.r = 0.5, .alpha = 6.0, .a = 0.7, .b = 3.0};
    const fd_gamma_gamma value = {.p = 4.0, .q = 5.0, .gamma = 30.0};
    double *T = calloc(N, sizeof *T);
    fd_clv_customer *c = calloc(N, sizeof *c);
    for (size_t i = 0; i < N; i++)
        T[i] = 20 + (double)(i % 59);
    assert_int_equal(fd_clv_simulate(&truth, &value, T, N, 42, c), 0);
    fd_bgnbd p;
    fd_gamma_gamma g;
    assert_int_equal(fd_bgnbd_fit(c, N, &p), 0);
    assert_int_equal(fd_gamma_gamma_fit(c, N, &g), 0);
    fprintf(stderr,
            "synthetic BG/NBD r=%.4f alpha=%.4f a=%.4f b=%.4f; GG p=%.3f q=%.3f gamma=%.3f\n", p.r,
            p.alpha, p.a, p.b, g.p, g.q, g.gamma);
    close_to(p.r, truth.r, 0.05);
    close_to(p.alpha, truth.alpha, 0.05);
    close_to(p.a, truth.a, 0.20);
    close_to(p.b, truth.b, 0.20);
    close_to(g.p, value.p, 0.10);
    close_to(g.q, value.q, 0.15);
    close_to(g.gamma, value.gamma, 0.20);
    free(c);
    free(T);
}

static void refuses_empty_input(void **state)
{
    (void)state;
    fd_clv_customer c[2] = {{0, 0, 10, 0}, {0, 0, 5, 0}};
    fd_bgnbd p;
    fd_gamma_gamma g;
    assert_int_not_equal(fd_bgnbd_fit(c, 2, &p), 0);
    assert_int_not_equal(fd_gamma_gamma_fit(c, 2, &g), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bgnbd_on_cdnow),
        cmocka_unit_test(gamma_gamma_on_cdnow),
        cmocka_unit_test(recovers_synthetic_parameters),
        cmocka_unit_test(refuses_empty_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
