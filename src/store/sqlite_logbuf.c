/*
 * sqlite_logbuf.c - the log's writes gathered per commit (sqlite_logbuf.h).
 *
 * A log file is a `log_file`: the wrapper's state, then the wrapped layer's
 * own file object. Writes that continue the buffered bytes are appended;
 * the buffer goes to the file when the page of a commit frame has been
 * appended (a commit frame's header holds the database size after the
 * commit, non-zero; other frames hold 0), when it is full, and before any
 * other call on the file. Every other file is opened by the wrapped layer
 * straight into the memory SQLite gives, so nothing of the wrapper runs
 * for it.
 */
#include "store/sqlite_logbuf.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"

#define LOG_BUFFER_BYTES (1 << 20) /* a commit of about 250 pages of 4 KiB */
#define WRITE_BYTES (1 << 16)
#define FRAME_HEADER_BYTES 24 /* SQLite's WAL frame header */

typedef struct log_file {
    sqlite3_file base;
    sqlite3_file *inner; /* the wrapped layer's file, just after this struct */
    unsigned char *buf;  /* LOG_BUFFER_BYTES, allocated at the first write */
    sqlite3_int64 start; /* file offset of buf[0] */
    int len;             /* bytes buffered */
    int commit_header;   /* the last write was a commit frame's header */
} log_file;

_Static_assert(sizeof(log_file) % 8 == 0, "the wrapped file object follows, aligned");

static sqlite3_vfs *inner_vfs;
static long received, issued; /* log writes, for the tests */

/* To the file in pieces of WRITE_BYTES: SQLite's unix layer takes fewer
 * than 128 KiB per call (it masks the length to 17 bits). */
static int write_through(log_file *f, const unsigned char *data, int n, sqlite3_int64 off)
{
    int rc = SQLITE_OK;
    for (int done = 0; done < n && rc == SQLITE_OK; done += WRITE_BYTES) {
        int piece = n - done < WRITE_BYTES ? n - done : WRITE_BYTES;
        __atomic_fetch_add(&issued, 1, __ATOMIC_RELAXED);
        rc = f->inner->pMethods->xWrite(f->inner, data + done, piece, off + done);
    }
    return rc;
}

static int write_out(log_file *f)
{
    int rc = write_through(f, f->buf, f->len, f->start);
    f->len = 0;
    return rc;
}

static bool is_commit_header(const unsigned char *h, int n)
{
    return n == FRAME_HEADER_BYTES && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int l_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off)
{
    log_file *f = (log_file *)file;
    __atomic_fetch_add(&received, 1, __ATOMIC_RELAXED);
    bool commit_done = f->commit_header; /* this write is the commit frame's page */
    f->commit_header = is_commit_header(data, n);
    bool follows = f->len > 0 && off == f->start + f->len;
    int rc = SQLITE_OK;
    if (!follows || f->len + n > LOG_BUFFER_BYTES) rc = write_out(f);
    if (rc) return rc;
    if (n > LOG_BUFFER_BYTES) return write_through(f, data, n, off); /* larger than any frame */
    if (!f->buf && !(f->buf = sqlite3_malloc(LOG_BUFFER_BYTES))) return SQLITE_NOMEM;
    if (f->len == 0) f->start = off;
    memcpy(f->buf + f->len, data, (size_t)n);
    f->len += n;
    return commit_done ? write_out(f) : SQLITE_OK;
}

/* The calls that see the file as it is: what is buffered goes first. */
static int l_close(sqlite3_file *file)
{
    log_file *f = (log_file *)file;
    int rc = write_out(f);
    int closed = f->inner->pMethods->xClose(f->inner);
    sqlite3_free(f->buf);
    f->buf = NULL;
    return rc ? rc : closed;
}

static int l_read(sqlite3_file *file, void *data, int n, sqlite3_int64 off)
{
    log_file *f = (log_file *)file;
    int rc = write_out(f);
    return rc ? rc : f->inner->pMethods->xRead(f->inner, data, n, off);
}

static int l_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    log_file *f = (log_file *)file;
    int rc = write_out(f);
    return rc ? rc : f->inner->pMethods->xTruncate(f->inner, size);
}

static int l_sync(sqlite3_file *file, int flags)
{
    log_file *f = (log_file *)file;
    int rc = write_out(f);
    return rc ? rc : f->inner->pMethods->xSync(f->inner, flags);
}

static int l_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    log_file *f = (log_file *)file;
    int rc = write_out(f);
    return rc ? rc : f->inner->pMethods->xFileSize(f->inner, size);
}

static int l_file_control(sqlite3_file *file, int op, void *arg)
{
    log_file *f = (log_file *)file;
    int rc = write_out(f);
    return rc ? rc : f->inner->pMethods->xFileControl(f->inner, op, arg);
}

static int l_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **p)
{
    log_file *f = (log_file *)file;
    int rc = write_out(f);
    *p = NULL;
    if (rc || f->inner->pMethods->iVersion < 3) return rc;
    return f->inner->pMethods->xFetch(f->inner, off, n, p);
}

/* The calls that do not depend on the file's contents, passed on as they are. */
static int l_lock(sqlite3_file *file, int lock)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->xLock(in, lock);
}

static int l_unlock(sqlite3_file *file, int lock)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->xUnlock(in, lock);
}

static int l_check_reserved(sqlite3_file *file, int *out)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->xCheckReservedLock(in, out);
}

static int l_sector_size(sqlite3_file *file)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->xSectorSize(in);
}

static int l_device(sqlite3_file *file)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->xDeviceCharacteristics(in);
}

static int l_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **p)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->iVersion < 2 ? SQLITE_IOERR
                                      : in->pMethods->xShmMap(in, region, size, extend, p);
}

static int l_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->iVersion < 2 ? SQLITE_IOERR : in->pMethods->xShmLock(in, offset, n, flags);
}

static void l_shm_barrier(sqlite3_file *file)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    if (in->pMethods->iVersion >= 2) in->pMethods->xShmBarrier(in);
}

static int l_shm_unmap(sqlite3_file *file, int delete_flag)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->iVersion < 2 ? SQLITE_OK : in->pMethods->xShmUnmap(in, delete_flag);
}

static int l_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    sqlite3_file *in = ((log_file *)file)->inner;
    return in->pMethods->iVersion < 3 ? SQLITE_OK : in->pMethods->xUnfetch(in, off, p);
}

static const sqlite3_io_methods log_methods = {
    .iVersion = 3,
    .xClose = l_close,
    .xRead = l_read,
    .xWrite = l_write,
    .xTruncate = l_truncate,
    .xSync = l_sync,
    .xFileSize = l_file_size,
    .xLock = l_lock,
    .xUnlock = l_unlock,
    .xCheckReservedLock = l_check_reserved,
    .xFileControl = l_file_control,
    .xSectorSize = l_sector_size,
    .xDeviceCharacteristics = l_device,
    .xShmMap = l_shm_map,
    .xShmLock = l_shm_lock,
    .xShmBarrier = l_shm_barrier,
    .xShmUnmap = l_shm_unmap,
    .xFetch = l_fetch,
    .xUnfetch = l_unfetch,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                  int *out_flags)
{
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL))
        return inner_vfs->xOpen(inner_vfs, name, file, flags, out_flags);
    log_file *f = (log_file *)file;
    memset(f, 0, sizeof *f);
    f->inner = (sqlite3_file *)(f + 1);
    int rc = inner_vfs->xOpen(inner_vfs, name, f->inner, flags, out_flags);
    f->base.pMethods = rc == SQLITE_OK ? &log_methods : NULL; /* NULL: SQLite closes nothing */
    return rc;
}

/* The rest of the file system layer is the wrapped one's. */
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return inner_vfs->xDelete(inner_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return inner_vfs->xAccess(inner_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return inner_vfs->xFullPathname(inner_vfs, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return inner_vfs->xDlOpen(inner_vfs, name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
    (void)vfs;
    inner_vfs->xDlError(inner_vfs, n, msg);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *lib, const char *sym))(void)
{
    (void)vfs;
    return inner_vfs->xDlSym(inner_vfs, lib, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *lib)
{
    (void)vfs;
    inner_vfs->xDlClose(inner_vfs, lib);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return inner_vfs->xRandomness(inner_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return inner_vfs->xSleep(inner_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return inner_vfs->xCurrentTime(inner_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return inner_vfs->xGetLastError ? inner_vfs->xGetLastError(inner_vfs, n, out) : 0;
}

static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return inner_vfs->xCurrentTimeInt64(inner_vfs, out);
}

int fd_sqlite_logbuf_install(void)
{
    static sqlite3_vfs wrapper = {
        .iVersion = 2,
        .mxPathname = 0, /* set from the wrapped layer */
        .zName = "fidelis-logbuf",
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full_pathname,
        .xDlOpen = v_dlopen,
        .xDlError = v_dlerror,
        .xDlSym = v_dlsym,
        .xDlClose = v_dlclose,
        .xRandomness = v_randomness,
        .xSleep = v_sleep,
        .xCurrentTime = v_current_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_current_time64,
    };
    inner_vfs = sqlite3_vfs_find(NULL);
    if (!inner_vfs || inner_vfs->iVersion < 2 || !inner_vfs->xCurrentTimeInt64) return FD_EIO;
    wrapper.szOsFile = (int)sizeof(log_file) + inner_vfs->szOsFile;
    wrapper.mxPathname = inner_vfs->mxPathname;
    return sqlite3_vfs_register(&wrapper, 1) == SQLITE_OK ? FD_OK : FD_EIO;
}

void fd_sqlite_logbuf_counts(long *received_out, long *issued_out)
{
    *received_out = __atomic_load_n(&received, __ATOMIC_RELAXED);
    *issued_out = __atomic_load_n(&issued, __ATOMIC_RELAXED);
}
