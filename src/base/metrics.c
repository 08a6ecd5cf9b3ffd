/*
 * metrics.c - counters for commits and events (metrics.h).
 */
#include "base/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/fd.h"

const int64_t fd_latency_bounds_us[FD_LATENCY_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};
const int64_t fd_batch_bounds[FD_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 64, 256, 1024};

static _Atomic int64_t commits, commit_jobs, commit_us, replays, log_pauses, log_pause_us;
static _Atomic int64_t log_syncs, log_sync_us;
static _Atomic int64_t batch_hist[FD_BATCH_BUCKETS + 1];
static _Atomic int64_t events_purchase, events_refund, events_custom, events_duplicate;

void fd_metrics_commit(int64_t jobs, int64_t duration_us)
{
    atomic_fetch_add(&commits, 1);
    atomic_fetch_add(&commit_jobs, jobs);
    atomic_fetch_add(&commit_us, duration_us);
    int b = 0;
    while (b < FD_BATCH_BUCKETS && jobs > fd_batch_bounds[b])
        b++;
    atomic_fetch_add(&batch_hist[b], 1);
}

void fd_metrics_log_pause(int64_t duration_us)
{
    atomic_fetch_add(&log_pauses, 1);
    atomic_fetch_add(&log_pause_us, duration_us);
}

void fd_metrics_log_sync(int64_t duration_us)
{
    atomic_fetch_add(&log_syncs, 1);
    atomic_fetch_add(&log_sync_us, duration_us);
}

void fd_metrics_replay(void)
{
    atomic_fetch_add(&replays, 1);
}

void fd_metrics_event(const char *type, int duplicate)
{
    if (duplicate)
        atomic_fetch_add(&events_duplicate, 1);
    else if (!strcmp(type, "purchase"))
        atomic_fetch_add(&events_purchase, 1);
    else if (!strcmp(type, "refund"))
        atomic_fetch_add(&events_refund, 1);
    else
        atomic_fetch_add(&events_custom, 1);
}

char *fd_metrics_render_core(void)
{
    size_t cap = 4096;
    char *out = fd_malloc(cap);
    int n =
        snprintf(out, cap,
                 "# HELP fidelis_events_total Events accepted, by type; duplicates are replays.\n"
                 "# TYPE fidelis_events_total counter\n"
                 "fidelis_events_total{type=\"purchase\"} %lld\n"
                 "fidelis_events_total{type=\"refund\"} %lld\n"
                 "fidelis_events_total{type=\"custom\"} %lld\n"
                 "fidelis_events_total{type=\"duplicate\"} %lld\n"
                 "# HELP fidelis_commits_total Group commits.\n"
                 "# TYPE fidelis_commits_total counter\n"
                 "fidelis_commits_total %lld\n"
                 "# HELP fidelis_commit_seconds_total Time spent committing.\n"
                 "# TYPE fidelis_commit_seconds_total counter\n"
                 "fidelis_commit_seconds_total %.6f\n"
                 "# HELP fidelis_commit_replays_total Group commits run again carefully (a job "
                 "failed after writing).\n"
                 "# TYPE fidelis_commit_replays_total counter\n"
                 "fidelis_commit_replays_total %lld\n"
                 "# HELP fidelis_log_pauses_total Waits of the writer for the last checkpoint "
                 "pass before the log starts over.\n"
                 "# TYPE fidelis_log_pauses_total counter\n"
                 "fidelis_log_pauses_total %lld\n"
                 "# HELP fidelis_log_pause_seconds_total Time the writer waited so.\n"
                 "# TYPE fidelis_log_pause_seconds_total counter\n"
                 "fidelis_log_pause_seconds_total %.6f\n"
                 "# HELP fidelis_log_syncs_total Syncs of the log, each making the groups "
                 "committed before it durable (SQLite; 0 where each commit syncs itself).\n"
                 "# TYPE fidelis_log_syncs_total counter\n"
                 "fidelis_log_syncs_total %lld\n"
                 "# HELP fidelis_log_sync_seconds_total Time spent syncing the log so.\n"
                 "# TYPE fidelis_log_sync_seconds_total counter\n"
                 "fidelis_log_sync_seconds_total %.6f\n"
                 "# HELP fidelis_commit_batch_size Write jobs per group commit.\n"
                 "# TYPE fidelis_commit_batch_size histogram\n",
                 (long long)events_purchase, (long long)events_refund, (long long)events_custom,
                 (long long)events_duplicate, (long long)commits, (double)commit_us / 1e6,
                 (long long)replays, (long long)log_pauses, (double)log_pause_us / 1e6,
                 (long long)log_syncs, (double)log_sync_us / 1e6);
    int64_t cum = 0;
    for (int b = 0; b <= FD_BATCH_BUCKETS; b++) {
        cum += batch_hist[b];
        char le[32];
        if (b < FD_BATCH_BUCKETS)
            snprintf(le, sizeof le, "%lld", (long long)fd_batch_bounds[b]);
        else
            strcpy(le, "+Inf");
        n += snprintf(out + n, cap - (size_t)n,
                      "fidelis_commit_batch_size_bucket{le=\"%s\"} %lld\n", le, (long long)cum);
    }
    snprintf(out + n, cap - (size_t)n,
             "fidelis_commit_batch_size_sum %lld\nfidelis_commit_batch_size_count %lld\n",
             (long long)commit_jobs, (long long)commits);
    return out;
}
