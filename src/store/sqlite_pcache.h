/*
 * sqlite_pcache.h - SQLite's own page cache, without its full sweep at commit.
 *
 * Every write transaction ends with SQLite dropping cached pages beyond the
 * database's end (a truncation to its size). SQLite's page cache decides
 * whether there may be any from the largest page number it ever held, and
 * the B-tree's page reordering (balance_nonroot) briefly gives a page the
 * number just after the lock-byte page (262,145 with 4 KiB pages) to swap
 * two others. Until a database passes 1 GiB, that number lies far past its
 * end, so nearly every commit walked the whole cache: with the writer's
 * 64 MiB, 16,000 page headers, about a millisecond per commit and 9 % of
 * the writer's time under load.
 *
 * The wrapper keeps SQLite's default cache (pcache1) for everything and only
 * tracks the largest page number that can be in each cache, leaving that
 * swap number aside while a page holds it. A truncation that cannot drop
 * anything is not passed on; every other one is, so the cache's contents
 * are always what SQLite's alone would hold.
 */
#ifndef FD_STORE_SQLITE_PCACHE_H
#define FD_STORE_SQLITE_PCACHE_H

/* Installs the wrapper around SQLite's default page cache. Must run before
 * SQLite's first use (sqlite3_config); 0 or FD_EINTERNAL if SQLite refused,
 * in which case SQLite's default cache stays in place. */
int fd_sqlite_pcache_install(void);

/* How many truncations, over every cache of the process, were passed on to
 * SQLite's cache and how many were skipped (for tests and measurements). */
void fd_sqlite_pcache_counts(long *passed, long *skipped);

#endif
