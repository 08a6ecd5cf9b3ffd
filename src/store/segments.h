/*
 * segments.h - dynamic segments and offers in storage, and the scan that
 * lists a segment's members: members are read in id order by chunks, their
 * aggregates in two grouped queries per chunk, and the condition evaluated
 * on each; nothing is stored per member, so membership always follows the
 * data (a window that slides past an order takes the member out).
 */
#ifndef FD_SEGMENTS_H
#define FD_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/member.h"
#include "core/program.h"
#include "store/config.h"
#include "store/db.h"

#define FD_SCAN_CHUNK 500

/* Creates, replaces or deletes a segment (name unique among live ones:
 * FD_ECONFLICT) and bumps the program's configuration version. */
int fd_segment_insert(fd_db *db, int64_t program_id, const char *name, const char *condition,
                      const char *actor, int64_t now, int64_t *id);
int fd_segment_update(fd_db *db, int64_t program_id, int64_t id, const char *name,
                      const char *condition, const char *actor, int64_t now);
int fd_segment_delete(fd_db *db, int64_t program_id, int64_t id, int64_t now);

/* Offers: same shape, with an active flag. */
int fd_offer_insert(fd_db *db, int64_t program_id, const char *name, const char *definition,
                    bool active, const char *actor, int64_t now, int64_t *id);
int fd_offer_update(fd_db *db, int64_t program_id, int64_t id, const char *name,
                    const char *definition, bool active, const char *actor, int64_t now);
int fd_offer_delete(fd_db *db, int64_t program_id, int64_t id, int64_t now);

/* Scans members with id > after, at most max_scan of them, calling fn for
 * each one the condition holds for (fn's member is borrowed). *last
 * receives the last id scanned, *done whether the scan reached the end. */
int fd_segment_scan(fd_db *db, const fd_program *p, const fd_config *cfg, const jl_expr *condition,
                    int64_t now, int64_t after, int64_t max_scan,
                    void (*fn)(const fd_member *m, void *arg), void *arg, int64_t *last,
                    bool *done);

#endif
