/*
 * perr.c - definition errors (perr.h).
 */
#include "core/perr.h"

#include <stdio.h>

#include "base/fd.h"

int fd_perr_set(fd_perr *e, const char *field, const char *msg)
{
    snprintf(e->field, 128, "%s", field);
    snprintf(e->msg, 160, "%s", msg);
    return FD_EINVAL;
}
