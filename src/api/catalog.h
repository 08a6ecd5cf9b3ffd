/*
 * catalog.h - what the code and voucher handlers share (catalog.c).
 */
#ifndef FD_API_CATALOG_H
#define FD_API_CATALOG_H

#include "api/api.h"
#include "store/promos.h"

/* A code as the API shows it (new reference). */
json_t *code_json(const fd_code *c, const fd_program *p);

/* Finds path parameter i as a code of the caller's program; replies 404
 * (code_not_found) or the storage error otherwise. */
int code_or_reply(fd_req *r, int i, fd_code *c);

#endif
