/*
 * role.h - the roles an API key can have and what each may do (SPEC §13).
 *
 *   admin     everything in its program, including keys, settings, audit log
 *   marketer  members, events, adjustments and (later) rules and campaigns; no keys
 *   analyst   read only
 *   pos       look members up, enroll, send events, read balances
 *   member    its own member's data only
 */
#ifndef FD_ROLE_H
#define FD_ROLE_H

typedef enum {
    FD_ROLE_ADMIN = 0,
    FD_ROLE_MARKETER = 1,
    FD_ROLE_ANALYST = 2,
    FD_ROLE_POS = 3,
    FD_ROLE_MEMBER = 4,
} fd_role;

#define FD_ROLE_BIT(r) (1u << (r))
#define FD_ROLES_ALL 0x1fu
#define FD_ROLES_STAFF (FD_ROLE_BIT(FD_ROLE_ADMIN) | FD_ROLE_BIT(FD_ROLE_MARKETER))
#define FD_ROLES_READ (FD_ROLES_STAFF | FD_ROLE_BIT(FD_ROLE_ANALYST))
#define FD_ROLES_FRONT (FD_ROLES_STAFF | FD_ROLE_BIT(FD_ROLE_POS))

const char *fd_role_name(fd_role r);
int fd_role_parse(const char *s, fd_role *out);

#endif
