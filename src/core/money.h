/*
 * money.h - currencies, exact decimal amounts in minor units, and the one
 * place where Fidelis rounds.
 *
 * Amounts are int64 minor units (cents for EUR, yen for JPY, fils for KWD).
 * Nothing here uses floating point.
 */
#ifndef FD_MONEY_H
#define FD_MONEY_H

#include <stdint.h>
#include <stddef.h>

#define FD_AMOUNT_MAX INT64_C(1000000000000000) /* 10^15 minor units: any cart or total */

typedef enum { FD_ROUND_FLOOR = 0, FD_ROUND_HALF_UP = 1, FD_ROUND_CEIL = 2 } fd_rounding;

/* Minor-unit exponent of an ISO 4217 code ("EUR" -> 2, "JPY" -> 0, "KWD" -> 3);
 * FD_EINVAL for an unknown code. */
int fd_currency_exponent(const char *code, int *exponent);

/* Parses a non-negative decimal string in major units ("105.99", "7", "0.5")
 * into minor units (exponent 0..6). More decimals than the currency has, signs, spaces,
 * exponents or empty input are FD_EINVAL; values above 10^15 minor units are
 * FD_EOVERFLOW. */
int fd_amount_parse(const char *s, int exponent, int64_t *minor);

/* Reads an amount from JSON: a decimal string ("105.99"), an integer (whole
 * major units) or a real exactly representable in minor units (105.99 with
 * exponent 2). FD_EINVAL otherwise, FD_EOVERFLOW above 10^15 minor units. */
struct json_t;
int fd_amount_from_json(const struct json_t *v, int exponent, int64_t *minor);

/* Formats minor units as a decimal string in major units into buf. */
void fd_amount_format(int64_t minor, int exponent, char *buf, size_t n);

/* Rounding names: "floor", "round" (half up), "ceil". */
int fd_rounding_parse(const char *s, fd_rounding *out);
const char *fd_rounding_name(fd_rounding r);

/* num / den rounded by mode, for num >= 0 and den > 0; FD_EOVERFLOW when the
 * quotient does not fit int64. */
int fd_div_round(__int128 num, int64_t den, fd_rounding mode, int64_t *out);

/* Points earned by amount_minor at rate_milli (thousandths of a point per one
 * major unit), rounded by mode: points = amount * rate / (1000 * 10^exponent). */
int fd_points_for_amount(int64_t amount_minor, int exponent, int64_t rate_milli, fd_rounding mode,
                         int64_t *points);

#endif
