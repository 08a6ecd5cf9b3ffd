/*
 * perr.h - where a definition is wrong and why. Every parser of stored
 * definitions (rules, campaigns, rewards, schedules, stacking policies)
 * answers FD_EINVAL with a field ("effect.rate", "validation.rules[0]")
 * and a message for people, into caller buffers of 128 and 160 bytes.
 */
#ifndef FD_PERR_H
#define FD_PERR_H

typedef struct fd_perr {
    char *field; /* 128 bytes */
    char *msg;   /* 160 bytes */
} fd_perr;

/* Fills e and returns FD_EINVAL, for `return fd_perr_set(e, "name", "...")`. */
int fd_perr_set(fd_perr *e, const char *field, const char *msg);

#endif
