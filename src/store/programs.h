/*
 * programs.h - persistence of programs (core/program.h).
 */
#ifndef FD_STORE_PROGRAMS_H
#define FD_STORE_PROGRAMS_H

#include "core/program.h"
#include "store/db.h"

/* A program row's columns, in the order fd_program_from_row reads them, of
 * the table named p (for queries that join programs to another table). */
#define FD_PROGRAM_COLUMNS                                                                         \
    "p.id, p.name, p.currency, p.exponent, p.timezone, p.point_value_micros,"                      \
    " p.earn_rate_milli, p.earn_rounding, p.pending_days, p.expiry_mode, p.expiry_days,"           \
    " p.expiry_from, p.refund_policy, p.created_at, p.rules_version, p.config_version"

/* Fills *out from the FD_PROGRAM_COLUMNS of st's row, starting at column col. */
void fd_program_from_row(fd_stmt *st, int col, fd_program *out);

/* Loads program id; FD_ENOTFOUND if absent. */
int fd_program_load(fd_db *db, int64_t id, fd_program *out);
/* Inserts p (validated by the caller) and sets p->id and p->created_at. */
int fd_program_insert(fd_db *db, fd_program *p, int64_t now);
/* Saves every setting of p. */
int fd_program_save(fd_db *db, const fd_program *p, int64_t now);
/* Number of programs in the installation. */
int fd_program_count(fd_db *db, int64_t *count);

#endif
