/*
 * role.c - role names (role.h).
 */
#include "core/role.h"

#include <string.h>

#include "base/fd.h"

static const char *const ROLES[] = {"admin", "marketer", "analyst", "pos", "member"};

const char *fd_role_name(fd_role r)
{
    return ROLES[r];
}

int fd_role_parse(const char *s, fd_role *out)
{
    for (int i = 0; s && i < 5; i++) {
        if (!strcmp(ROLES[i], s)) {
            *out = (fd_role)i;
            return FD_OK;
        }
    }
    return FD_EINVAL;
}
