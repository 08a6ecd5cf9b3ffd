/*
 * names.h - a small list of names (SKUs, categories, tiers) read from a JSON
 * array of strings, as rules, campaigns and rewards use for their filters.
 */
#ifndef FD_NAMES_H
#define FD_NAMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_NAMES_MAX 100 /* names in one list */

typedef struct fd_name_list {
    char **items;
    size_t n;
    uint64_t mask; /* fd_name_bit of every item: a name whose bit is not here is not listed */
} fd_name_list;

/* Reads an array of at most FD_NAMES_MAX non-empty strings (up to
 * FD_TEXT_MAX bytes each); NULL or JSON null give an empty list. FD_EINVAL
 * otherwise, with whatever was read already left for fd_names_clear. */
int fd_names_parse(const json_t *v, fd_name_list *out);
/* One bit of 64 for the name s (NULL: 0), the same for equal names: lists
 * hold the union of their items' bits, so that a set of names (an order's
 * SKUs) that shares no bit with a list shares no name with it, found
 * without comparing any. */
uint64_t fd_name_bit(const char *s);
/* True when s (may be NULL: false) is in the list. */
bool fd_names_has(const fd_name_list *l, const char *s);
/* Frees the items; the list is empty afterwards. */
void fd_names_clear(fd_name_list *l);

#endif
