/*
 * member.c - member state and consent names (member.h).
 */
#include "core/member.h"

#include <stdlib.h>
#include <string.h>

static const char *const STATES[] = {"pending", "active", "suspended", "closed"};
static const char *const CONSENTS[] = {"none", "pending", "opted_in", "opted_out"};

static int parse_name(const char *const *names, int n, const char *s, int *out)
{
    for (int i = 0; s && i < n; i++) {
        if (!strcmp(names[i], s)) {
            *out = i;
            return FD_OK;
        }
    }
    return FD_EINVAL;
}

void fd_member_clear(fd_member *m)
{
    free(m->attributes);
    m->attributes = NULL;
}

const char *fd_member_state_name(fd_member_state s)
{
    return STATES[s];
}

int fd_member_state_parse(const char *s, fd_member_state *out)
{
    int v, rc = parse_name(STATES, 4, s, &v);
    if (!rc) *out = (fd_member_state)v;
    return rc;
}

const char *fd_consent_name(fd_consent c)
{
    return CONSENTS[c];
}

int fd_consent_parse(const char *s, fd_consent *out)
{
    int v, rc = parse_name(CONSENTS, 4, s, &v);
    if (!rc) *out = (fd_consent)v;
    return rc;
}
