/*
 * identity.c - identifier normalisation (identity.h).
 */
#include "core/identity.h"

#include <ctype.h>
#include <string.h>

#include "base/fd.h"

int fd_email_normalize(const char *email, char *out)
{
    if (!email) return FD_EINVAL;
    while (*email == ' ')
        email++;
    size_t n = strlen(email);
    while (n && email[n - 1] == ' ')
        n--;
    if (n == 0 || n > FD_EMAIL_MAX) return FD_EINVAL;

    char buf[FD_EMAIL_MAX + 1];
    int at = -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c <= ' ' || c >= 127) return FD_EINVAL;
        if (c == '@') {
            if (at >= 0) return FD_EINVAL;
            at = (int)i;
        }
        buf[i] = (char)tolower(c);
    }
    buf[n] = 0;
    if (at <= 0) return FD_EINVAL;
    const char *domain = buf + at + 1;
    const char *dot = strchr(domain, '.');
    if (!dot || dot == domain || dot[1] == 0) return FD_EINVAL;

    int gmail = !strcmp(domain, "gmail.com") || !strcmp(domain, "googlemail.com");
    size_t o = 0;
    for (int i = 0; i < at; i++) {
        if (buf[i] == '+') break;
        if (gmail && buf[i] == '.') continue;
        out[o++] = buf[i];
    }
    if (o == 0) return FD_EINVAL;
    out[o++] = '@';
    const char *d = gmail ? "gmail.com" : domain;
    size_t dl = strlen(d);
    memcpy(out + o, d, dl + 1);
    return FD_OK;
}

int fd_phone_normalize(const char *phone, char *out)
{
    if (!phone) return FD_EINVAL;
    size_t o = 0, digits = 0;
    for (const char *p = phone; *p; p++) {
        if (*p == '+' && o == 0 && digits == 0)
            out[o++] = '+';
        else if (*p >= '0' && *p <= '9') {
            if (++digits > 20) return FD_EINVAL;
            out[o++] = *p;
        } else if (!strchr(" .-()/", *p))
            return FD_EINVAL;
    }
    out[o] = 0;
    return digits >= 5 ? FD_OK : FD_EINVAL;
}

int fd_ident_valid(const char *s)
{
    if (!s || !*s) return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] >= 127 || n >= FD_TEXT_MAX) return 0;
    return 1;
}
