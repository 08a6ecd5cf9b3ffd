/*
 * audit.h - the audit log of administrative changes: who, what, when,
 * before and after (JSON text, either may be NULL).
 */
#ifndef FD_AUDIT_H
#define FD_AUDIT_H

#include <stdint.h>

#include "store/db.h"

int fd_audit_add(fd_db *db, int64_t program_id, const char *actor, const char *action,
                 const char *object_type, const char *object_id, const char *before_json,
                 const char *after_json, int64_t now);

#endif
