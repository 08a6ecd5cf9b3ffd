/*
 * db.c - driver dispatch and the helpers every driver shares (db.h).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "store/db_driver.h"

int fd_db_open(const char *url, fd_db **out)
{
    if (!strncmp(url, "sqlite:", 7)) url += 7;
    if (fd_db_is_postgres(url)) return fd_pg_open(url, out);
    return fd_sqlite_open(url, out);
}

void fd_db_close(fd_db *db)
{
    if (!db) return;
    for (int i = 0; i < DEFERRED_MAX && db->deferred[i].ops; i++)
        db->deferred[i].ops->destroy(db->deferred[i].state);
    db->drv->close(db);
}

int fd_db_exec(fd_db *db, const char *sql)
{
    return db->drv->exec(db, sql);
}

size_t fd_db_rows_sql(char *out, size_t size, const char *head, int rows, int cols,
                      const char *tail)
{
    size_t len = (size_t)snprintf(out, size, "%s", head);
    for (int row = 0; row < rows; row++)
        for (int c = 1; c <= cols && len < size; c++)
            len += (size_t)snprintf(out + len, size - len, "%s$%d%s",
                                    c > 1 ? ", "
                                    : row ? ", ("
                                          : "(",
                                    row * cols + c, c == cols ? ")" : "");
    if (len < size) len += (size_t)snprintf(out + len, size - len, "%s", tail);
    assert(len < size);
    return len;
}

int fd_db_query(fd_db *db, const char *sql, const fd_param *params, size_t n, fd_stmt **out)
{
    return db->drv->query(db, sql, params, n, false, out);
}

int fd_stmt_next(fd_stmt *st)
{
    return st->db->drv->next(st);
}

int64_t fd_stmt_i64(fd_stmt *st, int col)
{
    return st->db->drv->i64(st, col);
}

const char *fd_stmt_text(fd_stmt *st, int col)
{
    return st->db->drv->text(st, col);
}

int fd_stmt_is_null(fd_stmt *st, int col)
{
    return st->db->drv->is_null(st, col);
}

void fd_stmt_done(fd_stmt *st)
{
    if (st) st->db->drv->done(st);
}

/* fd_db_run and fd_db_one_i64 finish their statement before they return,
 * while the caller's params are alive: the driver may borrow them. */
int fd_db_run(fd_db *db, const char *sql, const fd_param *params, size_t n, int64_t *changes)
{
    fd_stmt *st;
    int rc = db->drv->query(db, sql, params, n, true, &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) > 0) {
    }
    fd_stmt_done(st);
    if (rc == 0 && changes) *changes = db->drv->changes(db);
    return rc;
}

int fd_db_one_i64(fd_db *db, const char *sql, const fd_param *params, size_t n, int64_t *out)
{
    fd_stmt *st;
    int rc = db->drv->query(db, sql, params, n, true, &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc > 0) {
        *out = fd_stmt_i64(st, 0);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_db_shared(const fd_db *db)
{
    return db->drv->shared;
}

int fd_db_is_postgres(const char *url)
{
    return !strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13);
}

int fd_db_cache(fd_db *db, int kib)
{
    return db->drv->cache_kib ? db->drv->cache_kib(db, kib) : FD_OK;
}

bool fd_db_has_checkpoints(const fd_db *db)
{
    return db->drv->checkpoint != NULL;
}

int fd_db_background_checkpoints(fd_db *db)
{
    return db->drv->background_checkpoints ? db->drv->background_checkpoints(db) : FD_OK;
}

int fd_db_checkpoint(fd_db *db, bool sync, int64_t *copied_to)
{
    *copied_to = 0;
    return db->drv->checkpoint ? db->drv->checkpoint(db, sync, copied_to) : FD_OK;
}

int64_t fd_db_log_frames(fd_db *db)
{
    return db->drv->log_frames ? db->drv->log_frames(db) : 0;
}

bool fd_db_can_defer_sync(const fd_db *db)
{
    return db->drv->defer_log_sync != NULL;
}

int fd_db_defer_log_sync(fd_db *db)
{
    return db->drv->defer_log_sync ? db->drv->defer_log_sync(db) : FD_OK;
}

int fd_db_sync_log(fd_db *db)
{
    return db->drv->sync_log ? db->drv->sync_log(db) : FD_OK;
}

/* The transaction ended (or never began): no savepoint, nothing pending. */
static void transaction_over(fd_db *db)
{
    for (int i = 0; i < DEFERRED_MAX && db->deferred[i].ops; i++)
        db->deferred[i].ops->drop(db->deferred[i].state);
    db->in_transaction = false;
    db->savepoints = 0;
}

/* After BEGIN: what a transaction ended some other way left is forgotten. */
static int began(fd_db *db, int rc)
{
    transaction_over(db);
    db->in_transaction = rc == FD_OK;
    return rc;
}

int fd_db_begin_exclusive(fd_db *db)
{
    return began(db, db->drv->begin_exclusive(db));
}

int fd_db_begin(fd_db *db)
{
    return began(db, fd_db_exec(db, "BEGIN"));
}

int fd_db_commit(fd_db *db)
{
    int rc = FD_OK;
    for (int i = 0; i < DEFERRED_MAX && db->deferred[i].ops && !rc; i++)
        rc = db->deferred[i].ops->flush(db, db->deferred[i].state);
    if (rc) return rc; /* the caller rolls back */
    rc = fd_db_exec(db, "COMMIT");
    if (!rc) transaction_over(db);
    return rc;
}

int fd_db_rollback(fd_db *db)
{
    transaction_over(db);
    return fd_db_exec(db, "ROLLBACK");
}

bool fd_db_may_defer(const fd_db *db)
{
    return db->in_transaction && db->savepoints == 0 && !db->careful && !db->drv->shared;
}

void *fd_db_deferred(fd_db *db, const fd_db_deferred_ops *ops)
{
    assert(fd_db_may_defer(db));
    db->noted_changes++;
    int i = 0;
    while (i < DEFERRED_MAX && db->deferred[i].ops && db->deferred[i].ops != ops)
        i++;
    assert(i < DEFERRED_MAX);
    if (!db->deferred[i].ops) {
        db->deferred[i].ops = ops;
        db->deferred[i].state = ops->create();
    }
    return db->deferred[i].state;
}

void *fd_db_deferred_peek(const fd_db *db, const fd_db_deferred_ops *ops)
{
    for (int i = 0; i < DEFERRED_MAX && db->deferred[i].ops; i++)
        if (db->deferred[i].ops == ops) return db->deferred[i].state;
    return NULL;
}

static int named(fd_db *db, const char *verb, const char *name)
{
    char sql[96];
    snprintf(sql, sizeof sql, "%s %s", verb, name);
    return fd_db_exec(db, sql);
}

int fd_db_savepoint(fd_db *db, const char *name)
{
    int rc = named(db, "SAVEPOINT", name);
    if (!rc) db->savepoints++;
    return rc;
}

int fd_db_release(fd_db *db, const char *name)
{
    int rc = named(db, "RELEASE SAVEPOINT", name);
    if (!rc && db->savepoints > 0) db->savepoints--;
    return rc;
}

int fd_db_rollback_to(fd_db *db, const char *name)
{
    return named(db, "ROLLBACK TO SAVEPOINT", name);
}

/* Step i inside its own savepoint, undone when it fails. */
static int step_alone(fd_db *db, fd_step_fn step, void *ctx, size_t i, int stop, const char *name)
{
    int rc = fd_db_savepoint(db, name);
    if (rc) return rc;
    int src = step(db, ctx, i);
    if ((stop && src == stop) || src == FD_EREPLAY) return src;
    if (src < 0 && (rc = fd_db_rollback_to(db, name))) return rc;
    return fd_db_release(db, name);
}

/* Whether the transaction changed, deferred writes included. */
static int64_t changes_so_far(fd_db *db)
{
    return db->drv->total_changes(db) + db->noted_changes;
}

/* The replayable steps without savepoints (pass 0) or the others, each in
 * its own savepoint (pass 1). */
static int steps_pass(fd_db *db, size_t n, fd_step_fn step, bool (*replayable)(void *ctx, size_t i),
                      void *ctx, int stop, const char *name, int pass)
{
    for (size_t i = 0; i < n; i++) {
        bool bare = !replayable || replayable(ctx, i);
        if (bare != (pass == 0)) continue;
        if (!bare) {
            int rc = step_alone(db, step, ctx, i, stop, name);
            if (rc) return rc;
            continue;
        }
        int64_t before = changes_so_far(db);
        int src = step(db, ctx, i);
        if ((stop && src == stop) || src == FD_EREPLAY) return src;
        if (src < 0 && changes_so_far(db) != before) return FD_EREPLAY;
    }
    return FD_OK;
}

int fd_db_steps(fd_db *db, size_t n, fd_step_fn step, bool (*replayable)(void *ctx, size_t i),
                void *ctx, int stop, const char *tag)
{
    if (db->careful || !db->drv->total_changes) {
        for (size_t i = 0; i < n; i++) {
            int rc = step_alone(db, step, ctx, i, stop, tag);
            if (rc) return rc;
        }
        return FD_OK;
    }
    int rc = steps_pass(db, n, step, replayable, ctx, stop, tag, 0);
    return rc ? rc : steps_pass(db, n, step, replayable, ctx, stop, tag, 1);
}

void fd_db_set_careful(fd_db *db, bool careful)
{
    db->careful = careful;
}
