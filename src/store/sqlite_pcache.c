/*
 * sqlite_pcache.c - SQLite's default page cache, truncations it can skip
 * skipped (sqlite_pcache.h).
 *
 * Each cache wraps one of SQLite's and tracks `top`, a bound on the page
 * numbers it can hold. Page numbers enter a cache only by xFetch (creating
 * a page) and xRekey (renumbering one), so both raise `top`; the one
 * exception is the lock-byte page's number, which the B-tree lends a page
 * during a swap and takes back at once: pages holding it are counted
 * (`lent`) instead. xTruncate(limit) drops the pages numbered limit and up;
 * when `top` is below limit and no page holds the lent number, there is
 * nothing to drop, and the call is not passed on.
 */
#include "store/sqlite_pcache.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "base/fd.h"

/* SQLite's lock-byte page (its PENDING_BYTE, 1 GiB, fixed outside of
 * SQLite's own tests): its page number is never a page's home. */
#define LOCK_BYTE_OFFSET 0x40000000u

typedef struct wrapped {
    sqlite3_pcache *inner;
    unsigned top;      /* no page numbered above this, lent ones aside */
    unsigned lent_key; /* the lock-byte page's number at this page size */
    unsigned lent;     /* pages holding lent_key, by xRekey */
} wrapped;

static sqlite3_pcache_methods2 base; /* SQLite's default cache */
static long passed, skipped;         /* truncations, for the tests */

static int w_init(void *arg)
{
    (void)arg;
    return base.xInit(base.pArg);
}

static void w_shutdown(void *arg)
{
    (void)arg;
    if (base.xShutdown) base.xShutdown(base.pArg);
}

static sqlite3_pcache *w_create(int page_size, int extra_size, int purgeable)
{
    wrapped *w = sqlite3_malloc(sizeof *w);
    if (!w) return NULL;
    w->inner = base.xCreate(page_size, extra_size, purgeable);
    if (!w->inner) {
        sqlite3_free(w);
        return NULL;
    }
    w->top = 0;
    w->lent_key = LOCK_BYTE_OFFSET / (unsigned)page_size + 1;
    w->lent = 0;
    return (sqlite3_pcache *)w;
}

static void w_cachesize(sqlite3_pcache *p, int n)
{
    base.xCachesize(((wrapped *)p)->inner, n);
}

static int w_pagecount(sqlite3_pcache *p)
{
    return base.xPagecount(((wrapped *)p)->inner);
}

static sqlite3_pcache_page *w_fetch(sqlite3_pcache *p, unsigned key, int create)
{
    wrapped *w = (wrapped *)p;
    sqlite3_pcache_page *pg = base.xFetch(w->inner, key, create);
    if (pg && key > w->top) w->top = key; /* the lent number too: kept until truncated */
    return pg;
}

static void w_unpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard)
{
    base.xUnpin(((wrapped *)p)->inner, pg, discard);
}

static void w_rekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned from, unsigned to)
{
    wrapped *w = (wrapped *)p;
    base.xRekey(w->inner, pg, from, to);
    if (from == w->lent_key && w->lent > 0) w->lent--;
    if (to == w->lent_key)
        w->lent++;
    else if (to > w->top)
        w->top = to;
}

static void w_truncate(sqlite3_pcache *p, unsigned limit)
{
    wrapped *w = (wrapped *)p;
    bool lent_dropped = w->lent > 0 && w->lent_key >= limit;
    if (w->top < limit && !lent_dropped) {
        __atomic_fetch_add(&skipped, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_add(&passed, 1, __ATOMIC_RELAXED);
    base.xTruncate(w->inner, limit);
    if (lent_dropped) w->lent = 0;
    if (w->top >= limit) w->top = limit ? limit - 1 : 0;
}

static void w_destroy(sqlite3_pcache *p)
{
    wrapped *w = (wrapped *)p;
    base.xDestroy(w->inner);
    sqlite3_free(w);
}

static void w_shrink(sqlite3_pcache *p)
{
    base.xShrink(((wrapped *)p)->inner);
}

int fd_sqlite_pcache_install(void)
{
    static const sqlite3_pcache_methods2 wrapper = {
        .iVersion = 1,
        .xInit = w_init,
        .xShutdown = w_shutdown,
        .xCreate = w_create,
        .xCachesize = w_cachesize,
        .xPagecount = w_pagecount,
        .xFetch = w_fetch,
        .xUnpin = w_unpin,
        .xRekey = w_rekey,
        .xTruncate = w_truncate,
        .xDestroy = w_destroy,
        .xShrink = w_shrink,
    };
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base) != SQLITE_OK || !base.xCreate)
        return FD_EIO;
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapper) == SQLITE_OK ? FD_OK : FD_EIO;
}

void fd_sqlite_pcache_counts(long *passed_out, long *skipped_out)
{
    *passed_out = __atomic_load_n(&passed, __ATOMIC_RELAXED);
    *skipped_out = __atomic_load_n(&skipped, __ATOMIC_RELAXED);
}
