/*
 * perr.c - definition errors (perr.h).
 */
#include "core/perr.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"

int fd_perr_set(fd_perr *e, const char *field, const char *msg)
{
    snprintf(e->field, 128, "%s", field);
    snprintf(e->msg, 160, "%s", msg);
    return FD_EINVAL;
}

int fd_perr_compile(fd_perr *e, const char *field, const json_t *logic, jl_expr **out)
{
    char err[200];
    if (!jl_compile(logic, out, err, sizeof err)) return FD_OK;
    char *colon = strstr(err, ": "); /* err is "<path>: <why>" */
    if (colon) *colon = 0;
    snprintf(e->field, 128, "%.27s%.100s", field, strcmp(err, "/") ? err : "");
    snprintf(e->msg, 160, "%.150s", colon ? colon + 2 : err);
    return FD_EINVAL;
}
