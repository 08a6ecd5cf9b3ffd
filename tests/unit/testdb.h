/*
 * testdb.h - a throwaway SQLite database file for unit tests that need a
 * real one: its path, and its removal with the log and shared-memory files.
 */
#ifndef FD_TESTDB_H
#define FD_TESTDB_H

#include <stdio.h>
#include <unistd.h>

/* Writes /tmp/fidelis-<name>-<pid>.db to path and removes any old file there. */
static inline void testdb_path(char *path, size_t size, const char *name)
{
    snprintf(path, size, "/tmp/fidelis-%s-%d.db", name, (int)getpid());
    unlink(path);
}

/* Removes the database file at path and its -wal and -shm files. */
static inline void testdb_remove(const char *path)
{
    char side[256];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

#endif
