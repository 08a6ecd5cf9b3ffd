/*
 * identity.h - normalisation of member identifiers, so one mailbox or phone
 * cannot enroll twice under cosmetic variants.
 */
#ifndef FD_IDENTITY_H
#define FD_IDENTITY_H

#include <stddef.h>

#define FD_EMAIL_MAX 254

/* Normalises an email address for uniqueness: trims surrounding spaces,
 * lower-cases, removes a "+tag" from the local part for every domain, and for
 * gmail.com / googlemail.com removes dots from the local part and maps the
 * domain to gmail.com. FD_EINVAL when it is not shaped like an address
 * (exactly one '@', non-empty local part, a dot in the domain, no spaces,
 * at most FD_EMAIL_MAX bytes). out must hold FD_EMAIL_MAX + 1 bytes. */
int fd_email_normalize(const char *email, char *out);

/* Normalises a phone number: keeps a leading '+' and the digits, drops
 * spaces, dots, dashes and parentheses; FD_EINVAL for anything else or for
 * fewer than 5 or more than 20 digits. out must hold 22 bytes. */
int fd_phone_normalize(const char *phone, char *out);

/* True when s is a valid identifier for external ids, event ids, order ids,
 * SKUs and type names: 1..FD_TEXT_MAX bytes of printable ASCII without spaces. */
int fd_ident_valid(const char *s);

#endif
