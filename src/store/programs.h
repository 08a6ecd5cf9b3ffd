/*
 * programs.h - persistence of programs (core/program.h).
 */
#ifndef FD_STORE_PROGRAMS_H
#define FD_STORE_PROGRAMS_H

#include "core/program.h"
#include "store/db.h"

/* Loads program id; FD_ENOTFOUND if absent. */
int fd_program_load(fd_db *db, int64_t id, fd_program *out);
/* Inserts p (validated by the caller) and sets p->id and p->created_at. */
int fd_program_insert(fd_db *db, fd_program *p, int64_t now);
/* Saves every setting of p. */
int fd_program_save(fd_db *db, const fd_program *p, int64_t now);
/* Number of programs in the installation. */
int fd_program_count(fd_db *db, int64_t *count);

#endif
