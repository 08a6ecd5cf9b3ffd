/*
 * db_sqlite.c - the embedded SQLite driver.
 *
 * Durability: WAL journal with synchronous=FULL, so COMMIT returns only after
 * the WAL is fsynced, except on a connection whose log sync is deferred
 * (sq_defer_log_sync: the store's writer, whose syncer thread syncs the log
 * before any reply); readers never wait on the writer. Statements are
 * prepared once per connection and cached by their SQL text's address.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fd.h"
#include "store/db_driver.h"
#include "store/sqlite_logbuf.h"
#include "store/sqlite_pcache.h"

#define CACHE_SLOTS 512  /* power of two, > the number of distinct statements */
#define PARAMS_MAX 240   /* a multi-row INSERT of 16 journal entries has 224 */
#define CONTROL_SLOTS 16 /* transaction statements (BEGIN, SAVEPOINT job...) kept prepared */
#define CONTROL_MAX 64   /* longest statement text kept so */
/* With background checkpoints, the writer still checkpoints once the log
 * holds this many pages (256 MiB): the log starts over only after a
 * checkpoint caught up with the writer, which the store's checkpointer
 * arranges long before (store.c); this pass is the backstop for a load it
 * cannot catch up with. It stalls the writer for the copy and the sync of
 * every page not yet in the database (docs/performance.md). */
#define WAL_WRITER_FRAMES 65536

typedef struct sq_stmt {
    fd_stmt base;
    sqlite3_stmt *st;
    const char *sql;
    int in_use;
    int cached;
    int rowid_row; /* RETURNING id answered from the last rowid: 1, after the row 2 */
    int64_t rowid;
    unsigned char map[PARAMS_MAX + 1]; /* $k -> SQLite parameter index */
} sq_stmt;

typedef struct sq_control {
    char sql[CONTROL_MAX];
    sqlite3_stmt *st;
} sq_control;

typedef struct sq_db {
    fd_db base;
    sqlite3 *h;
    sq_stmt *cache[CACHE_SLOTS];
    /* BEGIN, COMMIT, SAVEPOINT and RELEASE run for every write job; their text
     * is built at run time (savepoint names), so they are cached by text. */
    sq_control control[CONTROL_SLOTS];
    _Atomic int64_t log_frames; /* pages in the log after the last commit (sq_wal_hook) */
    int copied_to;              /* the log pages copied by the last checkpoint */
    int log_fd;                 /* the log file, synced by sq_sync_log; -1 until deferred */
    int db_fd;                  /* the database file (database_fd); -1 until used */
} sq_db;

static const fd_db_driver sqlite_driver;

static int map_rc(sq_db *d, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
        return FD_OK;
    case SQLITE_ROW:
        return 1;
    case SQLITE_CONSTRAINT:
        return FD_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return FD_EBUSY;
    }
    fd_log("error", "db=sqlite op=%s rc=%d msg=\"%s\"", what, rc, sqlite3_errmsg(d->h));
    return FD_EIO;
}

static void sq_close(fd_db *db)
{
    sq_db *d = (sq_db *)db;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (d->cache[i]) {
            sqlite3_finalize(d->cache[i]->st);
            free(d->cache[i]);
        }
    }
    for (int i = 0; i < CONTROL_SLOTS; i++)
        sqlite3_finalize(d->control[i].st);
    if (d->log_fd >= 0) close(d->log_fd);
    if (d->db_fd >= 0) close(d->db_fd);
    sqlite3_close_v2(d->h);
    free(d);
}

/* The prepared statement of a short single statement, from the control
 * cache (prepared on first use), or NULL when the text is not one. */
static sqlite3_stmt *control(sq_db *d, const char *sql)
{
    size_t n = strlen(sql);
    if (n >= CONTROL_MAX || strchr(sql, ';')) return NULL;
    for (int i = 0; i < CONTROL_SLOTS; i++) {
        sq_control *c = &d->control[i];
        if (c->st && !strcmp(c->sql, sql)) return c->st;
        if (!c->st) {
            if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st, NULL))
                return NULL;
            memcpy(c->sql, sql, n + 1);
            return c->st;
        }
    }
    return NULL; /* cache full: run it unprepared */
}

static int sq_exec(fd_db *db, const char *sql)
{
    sq_db *d = (sq_db *)db;
    sqlite3_stmt *st = control(d, sql);
    if (!st) return map_rc(d, sqlite3_exec(d->h, sql, NULL, NULL, NULL), "exec");
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return map_rc(d, rc, "exec");
}

#define INSERT_INTO "INSERT INTO "
#define RETURNING_ID " RETURNING id"

/* Whether column id of the table sql inserts into ("INSERT INTO name(...")
 * is its rowid (declared INTEGER PRIMARY KEY). */
static bool id_is_rowid(sq_db *d, const char *sql)
{
    const char *name = sql + strlen(INSERT_INTO);
    size_t len = strcspn(name, "( ");
    char table[64];
    if (len == 0 || len >= sizeof table) return false;
    memcpy(table, name, len);
    table[len] = '\0';
    const char *type = NULL;
    int pk = 0;
    return sqlite3_table_column_metadata(d->h, "main", table, "id", &type, NULL, NULL, &pk, NULL) ==
               SQLITE_OK &&
           pk && type && !sqlite3_stricmp(type, "INTEGER");
}

/* The length of sql to prepare when it inserts one row and returns its id,
 * the table's rowid: without the RETURNING clause, which costs SQLite a
 * temporary table per execution (about 3 us), since the connection's last
 * rowid is the id. An upsert may set no new rowid and several rows need
 * RETURNING: those keep it; 0 then. */
static size_t insert_without_returning(sq_db *d, const char *sql)
{
    size_t n = strlen(sql), suffix = strlen(RETURNING_ID);
    if (strncmp(sql, INSERT_INTO, strlen(INSERT_INTO)) || n <= suffix ||
        strcmp(sql + n - suffix, RETURNING_ID) || !strstr(sql, " VALUES (") || strstr(sql, "),") ||
        strstr(sql, "ON CONFLICT") || !id_is_rowid(d, sql))
        return 0;
    return n - suffix;
}

static int prepare(sq_db *d, const char *sql, sq_stmt **out)
{
    sqlite3_stmt *raw;
    size_t insert_len = insert_without_returning(d, sql);
    int rc = sqlite3_prepare_v3(d->h, sql, insert_len ? (int)insert_len : -1,
                                SQLITE_PREPARE_PERSISTENT, &raw, NULL);
    if (rc != SQLITE_OK) return map_rc(d, rc, "prepare");
    sq_stmt *s = fd_calloc(1, sizeof *s);
    s->base.db = &d->base;
    s->st = raw;
    s->sql = sql;
    s->rowid_row = insert_len > 0;
    int count = sqlite3_bind_parameter_count(raw);
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(raw, i);
        int k = name && name[0] == '$' ? atoi(name + 1) : 0;
        if (k < 1 || k > PARAMS_MAX) {
            fd_log("error", "db=sqlite msg=\"bad placeholder %s\" sql=\"%s\"", name ? name : "?",
                   sql);
            sqlite3_finalize(raw);
            free(s);
            return FD_EIO;
        }
        s->map[k] = (unsigned char)i;
    }
    *out = s;
    return FD_OK;
}

static int sq_query(fd_db *db, const char *sql, const fd_param *params, size_t n, bool borrowed,
                    fd_stmt **out)
{
    sq_db *d = (sq_db *)db;
    size_t h = ((uintptr_t)sql >> 3) & (CACHE_SLOTS - 1);
    sq_stmt *s = NULL;
    for (size_t probe = 0; probe < CACHE_SLOTS; probe++) {
        size_t i = (h + probe) & (CACHE_SLOTS - 1);
        if (!d->cache[i]) {
            int rc = prepare(d, sql, &s);
            if (rc) return rc;
            s->cached = 1;
            d->cache[i] = s;
            break;
        }
        if (d->cache[i]->sql == sql) {
            s = d->cache[i];
            break;
        }
    }
    if (!s || s->in_use) { /* cache full, or the same query nested: a private statement */
        int rc = prepare(d, sql, &s);
        if (rc) return rc;
    }
    s->in_use = 1;
    int rc = SQLITE_OK;
    for (size_t k = 1; k <= n && rc == SQLITE_OK; k++) {
        int idx = k <= PARAMS_MAX ? s->map[k] : 0;
        if (!idx) continue; /* parameter not used by this statement */
        const fd_param *p = &params[k - 1];
        if (p->type == 'i')
            rc = sqlite3_bind_int64(s->st, idx, p->i);
        else if (p->type == 's' && p->s)
            rc = sqlite3_bind_text(s->st, idx, p->s, -1,
                                   borrowed ? SQLITE_STATIC : SQLITE_TRANSIENT);
        else
            rc = sqlite3_bind_null(s->st, idx);
    }
    *out = &s->base;
    if (rc != SQLITE_OK) {
        fd_stmt_done(&s->base);
        return map_rc(d, rc, "bind");
    }
    return FD_OK;
}

static int sq_next(fd_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    sq_db *d = (sq_db *)st->db;
    if (!s->rowid_row) return map_rc(d, sqlite3_step(s->st), "step");
    if (s->rowid_row == 2) return FD_OK; /* the one row was read */
    int rc = map_rc(d, sqlite3_step(s->st), "step");
    if (rc) return rc;
    s->rowid = sqlite3_last_insert_rowid(d->h);
    s->rowid_row = 2;
    return 1;
}

static int64_t sq_i64(fd_stmt *st, int col)
{
    sq_stmt *s = (sq_stmt *)st;
    if (s->rowid_row) {
        assert(col == 0);
        return s->rowid;
    }
    return sqlite3_column_int64(s->st, col);
}

static const char *sq_text(fd_stmt *st, int col)
{
    assert(!((sq_stmt *)st)->rowid_row); /* its one column is an integer */
    return (const char *)sqlite3_column_text(((sq_stmt *)st)->st, col);
}

static int sq_is_null(fd_stmt *st, int col)
{
    sq_stmt *s = (sq_stmt *)st;
    return !s->rowid_row && sqlite3_column_type(s->st, col) == SQLITE_NULL;
}

static void sq_done(fd_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    s->in_use = 0;
    if (s->rowid_row) s->rowid_row = 1;
    if (!s->cached) {
        sqlite3_finalize(s->st);
        free(s);
    }
}

static int64_t sq_changes(fd_db *db)
{
    return sqlite3_changes64(((sq_db *)db)->h);
}

static int64_t sq_total_changes(fd_db *db)
{
    return sqlite3_total_changes64(((sq_db *)db)->h);
}

static int sq_cache_kib(fd_db *db, int kib)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", kib);
    return sq_exec(db, sql);
}

/* Called by SQLite after each commit of a connection with background
 * checkpoints: records the log's length for other threads and checkpoints
 * once it holds WAL_WRITER_FRAMES pages (what SQLite's own hook does). */
static int sq_wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
    sq_db *d = arg;
    atomic_store_explicit(&d->log_frames, frames, memory_order_relaxed);
    if (frames >= WAL_WRITER_FRAMES)
        sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static int sq_background_checkpoints(fd_db *db)
{
    sq_db *d = (sq_db *)db;
    sqlite3_wal_hook(d->h, sq_wal_hook, d);
    return FD_OK;
}

static int64_t sq_log_frames(fd_db *db)
{
    return atomic_load_explicit(&((sq_db *)db)->log_frames, memory_order_relaxed);
}

/* The database file on a descriptor of the connection's own (opened on
 * first use; -1 if it cannot be), for the checkpointer's syncs and
 * writeback: fdatasync and sync_file_range act on the file, whichever
 * descriptor wrote it. */
static int database_fd(sq_db *d)
{
    if (d->db_fd < 0) d->db_fd = open(sqlite3_db_filename(d->h, "main"), O_RDWR | O_CLOEXEC);
    return d->db_fd;
}

/* SQLite syncs the database file only in the pass that copies the log's
 * last page, which then syncs every page copied since the log started:
 * with sync, a pass that copied pages syncs them, so that the last pass
 * (which the writer waits for, store.c) has only its own few to sync.
 * Without, it starts writing them out and does not wait (sync_file_range):
 * left to the kernel, they would go in bursts (when a pass copies the whole
 * log, or the log closes) that the log's syncs, which every write waits
 * for, queue behind on the same disk (docs/performance.md). Durability
 * never depends on either: SQLite's own sync still comes first. */
static int sq_checkpoint(fd_db *db, bool sync, int64_t *copied_to)
{
    sq_db *d = (sq_db *)db;
    int log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(d->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    *copied_to = copied > 0 ? copied : 0;
    if (rc != SQLITE_OK) return map_rc(d, rc, "checkpoint");
    if (copied != d->copied_to) {
        int fd = database_fd(d);
        if (!sync && fd >= 0) {
            sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint: failure is harmless */
        } else if (sync && (fd < 0 || fdatasync(fd))) {
            fd_log("error", "db=sqlite op=checkpoint_sync msg=\"%s\"", strerror(errno));
            return FD_EIO;
        }
    }
    d->copied_to = copied;
    return FD_OK;
}

/* Commits write the log without syncing it (synchronous=NORMAL: SQLite
 * still syncs it before each checkpoint and when it starts over); the
 * log's own descriptor lets another thread sync it while this connection
 * goes on (fdatasync makes the file's data durable, whichever descriptor
 * wrote it). The log exists: the connection has read the database. */
static int sq_defer_log_sync(fd_db *db)
{
    sq_db *d = (sq_db *)db;
    const char *name = sqlite3_db_filename(d->h, "main");
    if (!name || !name[0]) return FD_EINVAL; /* a temporary database has no log file */
    if (d->log_fd < 0) d->log_fd = open(sqlite3_filename_wal(name), O_RDWR | O_CLOEXEC);
    if (d->log_fd < 0) {
        fd_log("error", "db=sqlite op=open_log msg=\"%s\"", strerror(errno));
        return FD_EIO;
    }
    return sq_exec(db, "PRAGMA synchronous=NORMAL");
}

static int sq_sync_log(fd_db *db)
{
    sq_db *d = (sq_db *)db;
    assert(d->log_fd >= 0);
    if (fdatasync(d->log_fd) == 0) return FD_OK;
    fd_log("error", "db=sqlite op=sync_log msg=\"%s\"", strerror(errno));
    return FD_EIO;
}

static int sq_begin_exclusive(fd_db *db)
{
    return sq_exec(db, "BEGIN IMMEDIATE");
}

static const fd_db_driver sqlite_driver = {
    .name = "sqlite",
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .next = sq_next,
    .i64 = sq_i64,
    .text = sq_text,
    .is_null = sq_is_null,
    .done = sq_done,
    .changes = sq_changes,
    .total_changes = sq_total_changes,
    .cache_kib = sq_cache_kib,
    .background_checkpoints = sq_background_checkpoints,
    .checkpoint = sq_checkpoint,
    .log_frames = sq_log_frames,
    .defer_log_sync = sq_defer_log_sync,
    .sync_log = sq_sync_log,
    .begin_exclusive = sq_begin_exclusive,
    .shared = 0,
};

/* Before SQLite's first use: no allocation statistics. They are kept under
 * one process-wide mutex that every allocation of every connection takes,
 * which the reader threads fought over (a profile of balance reads showed
 * a sixth of their time in it); nothing here reads them. The page cache
 * wrapped so commits skip a sweep of the whole cache (sqlite_pcache.h), and
 * the file layer so a commit's log frames reach the file in a few large
 * writes instead of two per page (sqlite_logbuf.h). */
static void sqlite_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (fd_sqlite_pcache_install())
        fd_log("warn", "db=sqlite op=pcache msg=\"SQLite's page cache is used unwrapped\"");
    if (fd_sqlite_logbuf_install())
        fd_log("warn", "db=sqlite op=vfs msg=\"the log's writes are not gathered\"");
}

int fd_sqlite_open(const char *path, fd_db **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_once);
    sq_db *d = fd_calloc(1, sizeof *d);
    d->base.drv = &sqlite_driver;
    d->log_fd = -1;
    d->db_fd = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &d->h, flags, NULL);
    if (rc != SQLITE_OK) {
        fd_log("error", "db=sqlite op=open path=\"%s\" msg=\"%s\"", path,
               d->h ? sqlite3_errmsg(d->h) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(d->h, 10000);
    rc = sq_exec(&d->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                           "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                           "PRAGMA cache_size=-16384;");
    if (rc) goto fail;
    *out = &d->base;
    return FD_OK;
fail:
    sqlite3_close_v2(d->h);
    free(d);
    return FD_EIO;
}
