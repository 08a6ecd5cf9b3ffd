/*
 * schema.h - versioned schema migrations, applied in order at start.
 */
#ifndef FD_SCHEMA_H
#define FD_SCHEMA_H

#include "store/db.h"

/* Applies every migration newer than the database's version, each in its own
 * transaction, and reports the resulting version. Safe to run on every start. */
int fd_schema_migrate(fd_db *db, int64_t *version);

/* The newest version this binary knows. */
int64_t fd_schema_latest(void);

#endif
