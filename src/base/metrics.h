/*
 * metrics.h - process-wide counters exported by GET /metrics in Prometheus
 * text format. All updates are atomic and lock-free.
 */
#ifndef FD_METRICS_H
#define FD_METRICS_H

#include <stdint.h>

/* Upper bounds (microseconds) of the request-latency histogram buckets. */
#define FD_LATENCY_BUCKETS 12
extern const int64_t fd_latency_bounds_us[FD_LATENCY_BUCKETS];

/* Upper bounds of the group-commit batch-size histogram buckets. */
#define FD_BATCH_BUCKETS 8
extern const int64_t fd_batch_bounds[FD_BATCH_BUCKETS];

void fd_metrics_commit(int64_t jobs, int64_t duration_us);
/* A group commit ran again with a savepoint per job (fd_db_steps). */
void fd_metrics_replay(void);
/* The writer waited for the last checkpoint pass before the log started over. */
void fd_metrics_log_pause(int64_t duration_us);
/* A sync of the log that made one or more committed groups durable. */
void fd_metrics_log_sync(int64_t duration_us);
void fd_metrics_event(const char *type, int duplicate);

/* Appends the store/event metrics in Prometheus text format; returns a
 * malloc'ed string the caller frees. */
char *fd_metrics_render_core(void);

#endif
