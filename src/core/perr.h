/*
 * perr.h - where a definition is wrong and why. Every parser of stored
 * definitions (rules, campaigns, rewards, schedules, stacking policies)
 * answers FD_EINVAL with a field ("effect.rate", "validation.rules[0]")
 * and a message for people, into caller buffers of 128 and 160 bytes.
 */
#ifndef FD_PERR_H
#define FD_PERR_H

#include "core/jsonlogic.h"

typedef struct fd_perr {
    char *field; /* 128 bytes */
    char *msg;   /* 160 bytes */
} fd_perr;

/* Fills e and returns FD_EINVAL, for `return fd_perr_set(e, "name", "...")`. */
int fd_perr_set(fd_perr *e, const char *field, const char *msg);

/* Compiles the JSONLogic `logic` of member `field` into *out; on FD_EINVAL
 * e's field is field plus the failing node's path ("condition/and/1") and
 * its message the reason. */
int fd_perr_compile(fd_perr *e, const char *field, const json_t *logic, jl_expr **out);

#endif
