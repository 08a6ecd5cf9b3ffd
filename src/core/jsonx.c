/*
 * jsonx.c - shared JSON forms (jsonx.h).
 */
#include "core/jsonx.h"

#include "base/fd.h"
#include "core/money.h"

json_t *fd_json_time(int64_t t)
{
    if (!t) return json_null();
    char buf[32];
    fd_time_format(t, buf, sizeof buf);
    return json_string(buf);
}

json_t *fd_json_amount(int64_t minor, int exponent)
{
    char buf[40];
    fd_amount_format(minor, exponent, buf, sizeof buf);
    return json_string(buf);
}
