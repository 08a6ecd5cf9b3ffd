/*
 * clv.h - predictive customer lifetime value: the BG/NBD model (Fader,
 * Hardie & Lee 2005, "Counting Your Customers the Easy Way") for the number
 * of future purchases and the probability a customer is still alive, and the
 * Gamma-Gamma model (Fader & Hardie) for the value per purchase, both fitted
 * by maximum likelihood with GSL (Nelder-Mead on log-parameters; log-gamma
 * and the Gauss hypergeometric function from GSL's special functions).
 *
 * A customer is summarised as x (repeat purchases), t_x (time of the last
 * purchase since the first) and T (time since the first purchase), in any
 * one unit of time (Fidelis uses weeks); m is the mean value of the repeat
 * purchases. Fitted on the CDNOW sample, the published estimates come back
 * (tests/unit/test_clv.c).
 */
#ifndef FD_CLV_H
#define FD_CLV_H

#include <stddef.h>

typedef struct fd_clv_customer {
    double x, t_x, T; /* repeat purchases, recency, age */
    double m;         /* mean value of repeat purchases (Gamma-Gamma), 0 if x == 0 */
} fd_clv_customer;

typedef struct fd_bgnbd {
    double r, alpha, a, b;
    double ll; /* log-likelihood at the estimate */
} fd_bgnbd;

typedef struct fd_gamma_gamma {
    double p, q, gamma;
    double ll;
} fd_gamma_gamma;

/* Fits BG/NBD to n customers; FD_EINVAL with fewer than 2 or no repeat buyers. */
int fd_bgnbd_fit(const fd_clv_customer *c, size_t n, fd_bgnbd *out);
/* Fits Gamma-Gamma to the customers with x > 0 and m > 0. */
int fd_gamma_gamma_fit(const fd_clv_customer *c, size_t n, fd_gamma_gamma *out);

/* Log-likelihood of one customer under BG/NBD. */
double fd_bgnbd_ll(const fd_bgnbd *p, double x, double t_x, double T);
/* P(alive | x, t_x, T). */
double fd_bgnbd_p_alive(const fd_bgnbd *p, double x, double t_x, double T);
/* E[purchases in the next t | x, t_x, T]. */
double fd_bgnbd_expected(const fd_bgnbd *p, double x, double t_x, double T, double t);
/* E[value per purchase | x, m] under Gamma-Gamma (the population mean when x == 0). */
double fd_gamma_gamma_value(const fd_gamma_gamma *g, double x, double m);

/* CLV over `periods` future periods of `period` time units each, discounted
 * by `discount` per period: sum of expected purchases in each period x
 * expected value / (1 + discount)^k. */
double fd_clv(const fd_bgnbd *p, const fd_gamma_gamma *g, const fd_clv_customer *c, double period,
              int periods, double discount);

/* Draws n customers from the two models themselves (GSL's random number
 * generator, seeded with `seed`, so the same seed gives the same data):
 * customer i is observed for T[i] time units after a first purchase at 0, buys
 * as a Poisson process with a Gamma(r, alpha) rate, may drop out after each
 * repeat purchase with a Beta(a, b) probability, and spends Gamma(p, nu) per
 * purchase with nu ~ Gamma(q, gamma). For checking that a fit recovers known
 * parameters, and for benchmarks. FD_EIO when the generator cannot be made. */
int fd_clv_simulate(const fd_bgnbd *p, const fd_gamma_gamma *g, const double *T, size_t n,
                    unsigned long seed, fd_clv_customer *out);
#endif
