/*
 * clv.c - BG/NBD and Gamma-Gamma (clv.h).
 */
#include "core/clv.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_hyperg.h>
#include <math.h>

#include "base/fd.h"

static double log_sum_exp(double u, double v)
{
    double m = u > v ? u : v;
    if (m == -INFINITY) return m;
    return m + log(exp(u - m) + exp(v - m));
}

double fd_bgnbd_ll(const fd_bgnbd *p, double x, double t_x, double T)
{
    double r = p->r, al = p->alpha, a = p->a, b = p->b;
    double a1 = gsl_sf_lngamma(r + x) - gsl_sf_lngamma(r) + r * log(al);
    double a2 = gsl_sf_lngamma(a + b) + gsl_sf_lngamma(b + x) - gsl_sf_lngamma(b) -
                gsl_sf_lngamma(a + b + x);
    double a3 = -(r + x) * log(al + T);
    double a4 = x > 0 ? log(a) - log(b + x - 1) - (r + x) * log(al + t_x) : -INFINITY;
    return a1 + a2 + log_sum_exp(a3, a4);
}

typedef struct fit_data {
    const fd_clv_customer *c;
    size_t n;
} fit_data;

/* Negative log-likelihood of the four log-parameters. */
static double bgnbd_nll(const gsl_vector *v, void *arg)
{
    const fit_data *d = arg;
    fd_bgnbd p = {exp(gsl_vector_get(v, 0)), exp(gsl_vector_get(v, 1)), exp(gsl_vector_get(v, 2)),
                  exp(gsl_vector_get(v, 3)), 0};
    double ll = 0;
    for (size_t i = 0; i < d->n; i++)
        ll += fd_bgnbd_ll(&p, d->c[i].x, d->c[i].t_x, d->c[i].T);
    return isfinite(ll) ? -ll : 1e300;
}

static double gg_ll_one(double p, double q, double g, double x, double m)
{
    return gsl_sf_lngamma(p * x + q) - gsl_sf_lngamma(p * x) - gsl_sf_lngamma(q) + q * log(g) +
           (p * x - 1) * log(m) + p * x * log(x) - (p * x + q) * log(g + x * m);
}

static double gg_nll(const gsl_vector *v, void *arg)
{
    const fit_data *d = arg;
    double p = exp(gsl_vector_get(v, 0)), q = exp(gsl_vector_get(v, 1)),
           g = exp(gsl_vector_get(v, 2));
    double ll = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->c[i].x > 0 && d->c[i].m > 0) ll += gg_ll_one(p, q, g, d->c[i].x, d->c[i].m);
    return isfinite(ll) ? -ll : 1e300;
}

/* Nelder-Mead from log-parameters 0 (all parameters 1); at most 5,000 steps.
 * The best point found is kept even when the simplex has not shrunk to the
 * tolerance (a parameter running off to 0 or infinity, as a with customers
 * who never drop out): FD_EINVAL only when no finite likelihood was found. */
static int minimize(double (*f)(const gsl_vector *, void *), fit_data *d, size_t dim, double *best,
                    double *min)
{
    gsl_set_error_handler_off(); /* domain errors become NaN/inf, handled by the objective */
    gsl_multimin_function fn = {f, dim, d};
    gsl_vector *x = gsl_vector_calloc(dim), *step = gsl_vector_alloc(dim);
    gsl_vector_set_all(step, 0.5);
    gsl_multimin_fminimizer *s =
        gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, dim);
    gsl_multimin_fminimizer_set(s, &fn, x, step);
    int status = GSL_CONTINUE;
    for (int it = 0; it < 5000 && status == GSL_CONTINUE; it++) {
        if (gsl_multimin_fminimizer_iterate(s)) break;
        status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), 1e-9);
    }
    for (size_t i = 0; i < dim; i++)
        best[i] = exp(gsl_vector_get(s->x, i));
    *min = s->fval;
    gsl_multimin_fminimizer_free(s);
    gsl_vector_free(x);
    gsl_vector_free(step);
    (void)status;
    return *min < 1e299 ? FD_OK : FD_EINVAL;
}

int fd_bgnbd_fit(const fd_clv_customer *c, size_t n, fd_bgnbd *out)
{
    size_t repeaters = 0;
    for (size_t i = 0; i < n; i++)
        repeaters += c[i].x > 0;
    if (n < 2 || repeaters == 0) return FD_EINVAL;
    fit_data d = {c, n};
    double p[4], nll;
    int rc = minimize(bgnbd_nll, &d, 4, p, &nll);
    *out = (fd_bgnbd){p[0], p[1], p[2], p[3], -nll};
    return rc;
}

int fd_gamma_gamma_fit(const fd_clv_customer *c, size_t n, fd_gamma_gamma *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += c[i].x > 0 && c[i].m > 0;
    if (k < 2) return FD_EINVAL;
    fit_data d = {c, n};
    double p[3], nll;
    int rc = minimize(gg_nll, &d, 3, p, &nll);
    *out = (fd_gamma_gamma){p[0], p[1], p[2], -nll};
    return rc;
}

double fd_bgnbd_p_alive(const fd_bgnbd *p, double x, double t_x, double T)
{
    if (x == 0) return 1.0;
    double d = (p->a / (p->b + x - 1)) * pow((p->alpha + T) / (p->alpha + t_x), p->r + x);
    return 1.0 / (1.0 + d);
}

double fd_bgnbd_expected(const fd_bgnbd *p, double x, double t_x, double T, double t)
{
    double r = p->r, al = p->alpha, a = p->a, b = p->b;
    if (t <= 0) return 0;
    double z = t / (al + T + t);
    gsl_sf_result h;
    if (gsl_sf_hyperg_2F1_e(r + x, b + x, a + b + x - 1, z, &h) != GSL_SUCCESS) return NAN;
    double num = (a + b + x - 1) / (a - 1) * (1 - pow((al + T) / (al + T + t), r + x) * h.val);
    double den = 1 + (x > 0 ? (a / (b + x - 1)) * pow((al + T) / (al + t_x), r + x) : 0);
    return num / den;
}

double fd_gamma_gamma_value(const fd_gamma_gamma *g, double x, double m)
{
    if (x <= 0 || m <= 0) return g->p * g->gamma / (g->q - 1); /* the population mean */
    return g->p * (g->gamma + x * m) / (g->p * x + g->q - 1);
}

double fd_clv(const fd_bgnbd *p, const fd_gamma_gamma *g, const fd_clv_customer *c, double period,
              int periods, double discount)
{
    double value = fd_gamma_gamma_value(g, c->x, c->m), clv = 0, prev = 0;
    for (int k = 1; k <= periods; k++) {
        double e = fd_bgnbd_expected(p, c->x, c->t_x, c->T, k * period);
        clv += (e - prev) * value / pow(1 + discount, k);
        prev = e;
    }
    return clv;
}

/* One customer's history: purchases until T or drop-out; repeat values summed. */
static fd_clv_customer simulate_one(gsl_rng *rng, const fd_bgnbd *p, const fd_gamma_gamma *g,
                                    double T)
{
    fd_clv_customer c = {.T = T};
    double rate = gsl_ran_gamma(rng, p->r, 1.0 / p->alpha);
    double drop = gsl_ran_beta(rng, p->a, p->b);
    double nu = gsl_ran_gamma(rng, g->q, 1.0 / g->gamma), spent = 0;
    for (double t = gsl_ran_exponential(rng, 1.0 / rate); t <= T;
         t += gsl_ran_exponential(rng, 1.0 / rate)) {
        c.x++;
        c.t_x = t;
        spent += gsl_ran_gamma(rng, g->p, 1.0 / nu);
        if (gsl_rng_uniform(rng) < drop) break;
    }
    c.m = c.x > 0 ? spent / c.x : 0;
    return c;
}

int fd_clv_simulate(const fd_bgnbd *p, const fd_gamma_gamma *g, const double *T, size_t n,
                    unsigned long seed, fd_clv_customer *out)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) return FD_EIO;
    gsl_rng_set(rng, seed);
    for (size_t i = 0; i < n; i++)
        out[i] = simulate_one(rng, p, g, T[i]);
    gsl_rng_free(rng);
    return FD_OK;
}
