/*
 * members_json.h - the JSON form of a member, shared by every route that
 * returns one and by the audit log.
 */
#ifndef FD_MEMBERS_JSON_H
#define FD_MEMBERS_JSON_H

#include <jansson.h>

#include "core/jsonx.h"
#include "core/member.h"
#include "core/program.h"

/* The member as the API shows it, written to w under key (NULL: as an
 * array's element or the text's value). With p, adds the liability of its
 * balance in the program's currency. */
void fd_member_write(fd_json_writer *w, const char *key, const fd_member *m, const fd_program *p);
/* The same as a jansson object (new reference). */
json_t *fd_member_json(const fd_member *m, const fd_program *p);
/* Compact JSON text of the member for the audit log; caller frees. */
char *fd_member_json_text(const fd_member *m);

#endif
