/*
 * sqlite_logbuf.h - SQLite's file system layer, with a commit's log writes
 * gathered into a few large ones.
 *
 * SQLite writes each frame of its write-ahead log with two calls, the
 * frame's 24-byte header and then its page, so a commit of a hundred pages
 * made two hundred pwrite() calls, each through the file system's write path
 * page by page (a frame straddles two of the kernel's pages): a quarter of
 * the writer's time under the plain earn load. The wrapper gathers the log's
 * sequential writes in a buffer (1 MiB per log file, allocated at its first
 * write: only connections that write have one) and hands them to the file,
 * 64 KiB per call, when the commit's last frame is complete, that is before
 * SQLite publishes the commit to readers (its log index is updated after the
 * frames are written), so every reader and the checkpointer find committed
 * frames in the file.
 *
 * Only log files are wrapped; the database file and the others are SQLite's
 * own. A read, sync, truncation, size query or file control of the log, and a
 * write that does not follow the buffered bytes, first writes out what is
 * buffered; a failed write-out is the failed call's error, as SQLite's own
 * write would have been. Nothing buffered is ever acknowledged: SQLite
 * reports a commit only after its last frame, which writes the buffer out.
 */
#ifndef FD_STORE_SQLITE_LOGBUF_H
#define FD_STORE_SQLITE_LOGBUF_H

/* Registers the wrapper as SQLite's default file system layer, around the
 * one that was the default. Must run before SQLite opens a file; 0, or
 * FD_EIO if SQLite refused (its own layer then stays in place). */
int fd_sqlite_logbuf_install(void);

/* Writes SQLite made to log files, and writes the wrapper made to the files
 * for them, over every connection of the process (for tests and
 * measurements). */
void fd_sqlite_logbuf_counts(long *received, long *issued);

#endif
