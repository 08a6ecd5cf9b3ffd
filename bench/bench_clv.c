/*
 * bench_clv.c - fitting the CLV models to N customers drawn from the models
 * themselves (core/clv.c): BG/NBD and Gamma-Gamma maximum likelihood.
 * Prints "clv_fit_<N>_customers: <s> s (bgnbd <s>, gamma_gamma <s>)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clv.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100000;
    const fd_bgnbd truth = {.r = 0.5, .alpha = 6.0, .a = 0.7, .b = 3.0};
    const fd_gamma_gamma value = {.p = 4.0, .q = 5.0, .gamma = 30.0};
    double *T = calloc(n, sizeof *T);
    fd_clv_customer *c = calloc(n, sizeof *c);
    if (!T || !c || n < 2) return 1;
    for (size_t i = 0; i < n; i++)
        T[i] = 20 + (double)(i % 59);
    if (fd_clv_simulate(&truth, &value, T, n, 7, c)) return 1;
    fd_bgnbd p;
    fd_gamma_gamma g;
    double t0 = seconds();
    if (fd_bgnbd_fit(c, n, &p)) return 1;
    double t1 = seconds();
    if (fd_gamma_gamma_fit(c, n, &g)) return 1;
    double t2 = seconds();
    printf("clv_fit_%zu_customers: %.2f s (bgnbd %.2f s, gamma_gamma %.2f s)\n", n, t2 - t0,
           t1 - t0, t2 - t1);
    free(c);
    free(T);
    return 0;
}
