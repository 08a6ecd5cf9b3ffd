/*
 * template.c - reminder message templates (template.h).
 */
#include "core/template.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"

static int path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

int fd_template_check(const char *tpl)
{
    if (!tpl || strlen(tpl) > FD_TEMPLATE_MAX) return FD_EINVAL;
    for (const char *p = strstr(tpl, "{{"); p; p = strstr(p, "{{")) {
        const char *q = p + 2;
        while (*q == ' ')
            q++;
        const char *start = q;
        while (path_char(*q))
            q++;
        if (q == start) return FD_EINVAL;
        while (*q == ' ')
            q++;
        if (q[0] != '}' || q[1] != '}') return FD_EINVAL;
        p = q + 2;
    }
    return FD_OK;
}

/* The value at a dotted path, or NULL. */
static const json_t *lookup(const json_t *data, const char *path, size_t len)
{
    const json_t *cur = data;
    while (cur && len) {
        const char *dot = memchr(path, '.', len);
        size_t seg = dot ? (size_t)(dot - path) : len;
        cur = json_is_object(cur) ? json_object_getn(cur, path, seg) : NULL;
        if (!dot) break;
        len -= seg + 1;
        path = dot + 1;
    }
    return cur;
}

char *fd_template_render(const char *tpl, const json_t *data)
{
    char *out = fd_malloc(FD_TEMPLATE_MAX + 1);
    size_t o = 0;
    for (const char *p = tpl; *p && o < FD_TEMPLATE_MAX;) {
        const char *open = strstr(p, "{{");
        size_t lit = open ? (size_t)(open - p) : strlen(p);
        if (lit > FD_TEMPLATE_MAX - o) lit = FD_TEMPLATE_MAX - o;
        memcpy(out + o, p, lit);
        o += lit;
        if (!open) break;
        const char *q = open + 2;
        while (*q == ' ')
            q++;
        const char *start = q;
        while (path_char(*q))
            q++;
        const char *end = q;
        while (*q == ' ')
            q++;
        if (q[0] != '}' || q[1] != '}') { /* not a placeholder: copy the braces */
            if (o + 2 <= FD_TEMPLATE_MAX) memcpy(out + o, "{{", 2), o += 2;
            p = open + 2;
            continue;
        }
        const json_t *v = lookup(data, start, (size_t)(end - start));
        char buf[64];
        const char *text = NULL;
        if (json_is_string(v))
            text = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v)), text = buf;
        else if (json_is_real(v))
            snprintf(buf, sizeof buf, "%g", json_real_value(v)), text = buf;
        else if (json_is_boolean(v))
            text = json_is_true(v) ? "true" : "false";
        size_t n = text ? strlen(text) : 0;
        if (n > FD_TEMPLATE_MAX - o) n = FD_TEMPLATE_MAX - o;
        if (n) memcpy(out + o, text, n);
        o += n;
        p = q + 2;
    }
    out[o] = 0;
    return out;
}
