/*
 * audit.c - audit log rows (audit.h).
 */
#include "store/audit.h"

int fd_audit_add(fd_db *db, int64_t program_id, const char *actor, const char *action,
                 const char *object_type, const char *object_id, const char *before_json,
                 const char *after_json, int64_t now)
{
    return fd_db_run(
        db,
        "INSERT INTO audit_log(program_id, actor, action, object_type, object_id,"
        " before_json, after_json, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        FD_PARAMS(FD_I(program_id), FD_S(actor), FD_S(action), FD_S(object_type), FD_S(object_id),
                  FD_S(before_json), FD_S(after_json), FD_I(now)),
        NULL);
}
