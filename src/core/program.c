/*
 * program.c - program settings: defaults, names and validation (program.h).
 */
#include "core/program.h"

#include <string.h>

#include "base/fd.h"

void fd_program_defaults(fd_program *p)
{
    memset(p, 0, sizeof *p);
    strcpy(p->name, "Demo");
    strcpy(p->currency, "EUR");
    p->exponent = 2;
    strcpy(p->timezone, "Europe/Berlin");
    p->point_value_micros = 10000; /* 1 point = 0.01 */
    p->earn_rate_milli = 1000;     /* 1 point per 1.00 */
    p->earn_rounding = FD_ROUND_FLOOR;
    p->expiry_mode = FD_EXPIRY_NONE;
    p->expiry_from = FD_EXPIRY_FROM_ACTIVATION;
    p->refund_policy = FD_REFUND_ALLOW_NEGATIVE;
}

const char *fd_expiry_mode_name(fd_expiry_mode m)
{
    return m == FD_EXPIRY_DAYS ? "days" : "none";
}

int fd_expiry_mode_parse(const char *s, fd_expiry_mode *out)
{
    if (s && !strcmp(s, "none"))
        *out = FD_EXPIRY_NONE;
    else if (s && !strcmp(s, "days"))
        *out = FD_EXPIRY_DAYS;
    else
        return FD_EINVAL;
    return FD_OK;
}

const char *fd_expiry_from_name(fd_expiry_from f)
{
    return f == FD_EXPIRY_FROM_EARN ? "earn" : "activation";
}

int fd_expiry_from_parse(const char *s, fd_expiry_from *out)
{
    if (s && !strcmp(s, "activation"))
        *out = FD_EXPIRY_FROM_ACTIVATION;
    else if (s && !strcmp(s, "earn"))
        *out = FD_EXPIRY_FROM_EARN;
    else
        return FD_EINVAL;
    return FD_OK;
}

const char *fd_refund_policy_name(fd_refund_policy r)
{
    return r == FD_REFUND_CAP_AT_ZERO ? "cap_at_zero" : "allow_negative";
}

int fd_refund_policy_parse(const char *s, fd_refund_policy *out)
{
    if (s && !strcmp(s, "allow_negative"))
        *out = FD_REFUND_ALLOW_NEGATIVE;
    else if (s && !strcmp(s, "cap_at_zero"))
        *out = FD_REFUND_CAP_AT_ZERO;
    else
        return FD_EINVAL;
    return FD_OK;
}

int fd_program_validate(const fd_program *p, const char **field)
{
    int exponent;
    *field = NULL;
    if (!p->name[0])
        *field = "name";
    else if (fd_currency_exponent(p->currency, &exponent) || exponent != p->exponent)
        *field = "currency";
    else if (!p->timezone[0])
        *field = "timezone";
    else if (p->point_value_micros < 0 || p->point_value_micros > INT64_C(1000000000000))
        *field = "point_value";
    else if (p->earn_rate_milli < 0 || p->earn_rate_milli > INT64_C(1000000000))
        *field = "earn_rate";
    else if (p->pending_days < 0 || p->pending_days > 3650)
        *field = "pending_days";
    else if (p->expiry_mode == FD_EXPIRY_DAYS && (p->expiry_days < 1 || p->expiry_days > 36500))
        *field = "expiry_days";
    return *field ? FD_EINVAL : FD_OK;
}

int fd_program_liability(const fd_program *p, int64_t points, int64_t *minor)
{
    /* points * micros / 10^(6 - exponent), floor toward zero for a negative total. */
    int64_t den = 1;
    for (int i = p->exponent; i < 6; i++)
        den *= 10;
    __int128 num = (__int128)points * p->point_value_micros;
    int neg = num < 0;
    int64_t v;
    int rc = fd_div_round(neg ? -num : num, den, FD_ROUND_FLOOR, &v);
    if (rc) return rc;
    *minor = neg ? -v : v;
    return FD_OK;
}
