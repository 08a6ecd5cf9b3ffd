/*
 * money.c - currency table, decimal parsing and rounding (see money.h).
 */
#include "core/money.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/fd.h"

/* ISO 4217 active codes by minor-unit exponent. Codes not listed as 0, 3 or 4
 * have exponent 2. */
static const char CUR_EXP0[] =
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
static const char CUR_EXP3[] = "BHD IQD JOD KWD LYD OMR TND";
static const char CUR_EXP4[] = "CLF UYW";
static const char CUR_EXP2[] =
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR "
    "FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW "
    "KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN "
    "NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD "
    "SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU "
    "UZS VED VES WST XCD YER ZAR ZMW ZWL";

static int in_list(const char *list, const char *code)
{
    for (const char *p = list; *p; p += 4) {
        if (memcmp(p, code, 3) == 0) return 1;
        if (!p[3]) break;
    }
    return 0;
}

int fd_currency_exponent(const char *code, int *exponent)
{
    if (!code || strlen(code) != 3) return FD_EINVAL;
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z') return FD_EINVAL;
    if (in_list(CUR_EXP2, code))
        *exponent = 2;
    else if (in_list(CUR_EXP0, code))
        *exponent = 0;
    else if (in_list(CUR_EXP3, code))
        *exponent = 3;
    else if (in_list(CUR_EXP4, code))
        *exponent = 4;
    else
        return FD_EINVAL;
    return FD_OK;
}

int fd_amount_parse(const char *s, int exponent, int64_t *minor)
{
    if (!s || !*s || exponent < 0 || exponent > 6) return FD_EINVAL;
    int64_t v = 0;
    int ndigits = 0, decimals = -1;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (decimals >= 0 || ndigits == 0) return FD_EINVAL;
            decimals = 0;
            continue;
        }
        if (*p < '0' || *p > '9') return FD_EINVAL;
        if (decimals >= 0 && ++decimals > exponent) return FD_EINVAL;
        if (fd_mul_i64(v, 10, &v) || fd_add_i64(v, *p - '0', &v)) return FD_EOVERFLOW;
        ndigits++;
    }
    if (decimals == 0) return FD_EINVAL; /* "12." */
    for (int i = decimals < 0 ? 0 : decimals; i < exponent; i++)
        if (fd_mul_i64(v, 10, &v)) return FD_EOVERFLOW;
    if (v > FD_POINTS_MAX) return FD_EOVERFLOW;
    *minor = v;
    return FD_OK;
}

void fd_amount_format(int64_t minor, int exponent, char *buf, size_t n)
{
    int64_t scale = 1;
    for (int i = 0; i < exponent; i++)
        scale *= 10;
    const char *sign = minor < 0 ? "-" : "";
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    if (exponent == 0)
        snprintf(buf, n, "%s%llu", sign, (unsigned long long)m);
    else
        snprintf(buf, n, "%s%llu.%0*llu", sign, (unsigned long long)(m / (uint64_t)scale), exponent,
                 (unsigned long long)(m % (uint64_t)scale));
}

int fd_rounding_parse(const char *s, fd_rounding *out)
{
    if (!s) return FD_EINVAL;
    if (!strcmp(s, "floor"))
        *out = FD_ROUND_FLOOR;
    else if (!strcmp(s, "round"))
        *out = FD_ROUND_HALF_UP;
    else if (!strcmp(s, "ceil"))
        *out = FD_ROUND_CEIL;
    else
        return FD_EINVAL;
    return FD_OK;
}

const char *fd_rounding_name(fd_rounding r)
{
    return r == FD_ROUND_CEIL ? "ceil" : r == FD_ROUND_HALF_UP ? "round" : "floor";
}

int fd_div_round(__int128 num, int64_t den, fd_rounding mode, int64_t *out)
{
    if (num < 0 || den <= 0) return FD_EINVAL;
    __int128 q, r;
    if (num <= INT64_MAX) { /* the usual case: a machine division, not the 128-bit library call */
        q = (int64_t)num / den;
        r = (int64_t)num % den;
    } else {
        q = num / den;
        r = num % den;
    }
    if (mode == FD_ROUND_CEIL && r > 0) q++;
    if (mode == FD_ROUND_HALF_UP && 2 * r >= den) q++;
    if (q > INT64_MAX) return FD_EOVERFLOW;
    *out = (int64_t)q;
    return FD_OK;
}

int fd_points_for_amount(int64_t amount_minor, int exponent, int64_t rate_milli, fd_rounding mode,
                         int64_t *points)
{
    if (amount_minor < 0 || rate_milli < 0 || exponent < 0 || exponent > 4) return FD_EINVAL;
    int64_t den = 1000;
    for (int i = 0; i < exponent; i++)
        den *= 10;
    int64_t p;
    int rc = fd_div_round((__int128)amount_minor * rate_milli, den, mode, &p);
    if (rc) return rc;
    if (p > FD_POINTS_MAX) return FD_EOVERFLOW;
    *points = p;
    return FD_OK;
}

int fd_amount_from_json(const json_t *v, int exponent, int64_t *minor)
{
    if (json_is_string(v)) return fd_amount_parse(json_string_value(v), exponent, minor);
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return json_integer_value(v) < 0 ? FD_EINVAL : fd_amount_parse(buf, exponent, minor);
    }
    if (!json_is_real(v)) return FD_EINVAL;
    double d = json_real_value(v), scaled = d;
    for (int k = 0; k < exponent; k++)
        scaled *= 10;
    double rounded = nearbyint(scaled);
    if (!isfinite(d) || d < 0 || fabs(scaled - rounded) > 1e-6) return FD_EINVAL;
    if (scaled > 1e15) return FD_EOVERFLOW;
    *minor = (int64_t)rounded;
    return FD_OK;
}
