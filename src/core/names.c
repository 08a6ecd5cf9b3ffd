/*
 * names.c - lists of names (names.h).
 */
#include "core/names.h"

#include <stdlib.h>
#include <string.h>

#include "base/fd.h"

int fd_names_parse(const json_t *v, fd_name_list *out)
{
    if (!v || json_is_null(v)) return FD_OK;
    if (!json_is_array(v) || json_array_size(v) > FD_NAMES_MAX) return FD_EINVAL;
    out->items = fd_calloc(json_array_size(v) + 1, sizeof *out->items);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s) || json_string_length(s) == 0 || json_string_length(s) > FD_TEXT_MAX)
            return FD_EINVAL;
        out->items[out->n++] = fd_strdup(json_string_value(s));
        out->mask |= fd_name_bit(json_string_value(s));
    }
    return FD_OK;
}

uint64_t fd_name_bit(const char *s)
{
    if (!s) return 0;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (uint64_t)1 << ((h ^ h >> 16) & 63);
}

bool fd_names_has(const fd_name_list *l, const char *s)
{
    for (size_t i = 0; s && i < l->n; i++) /* the first letter first: most names differ there */
        if (l->items[i][0] == s[0] && !strcmp(l->items[i], s)) return true;
    return false;
}

void fd_names_clear(fd_name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->mask = 0;
}
