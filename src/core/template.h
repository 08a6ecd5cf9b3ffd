/*
 * template.h - message templates for reminders: "Hi {{member.attributes.first_name}},
 * {{points}} points expire on {{expires_on}}". A placeholder is a dotted
 * path into a JSON object; missing values render as nothing. No logic, no
 * escaping: the receiving email/SMS tool formats the text.
 */
#ifndef FD_TEMPLATE_H
#define FD_TEMPLATE_H

#include <jansson.h>

#define FD_TEMPLATE_MAX 4096 /* bytes of a template and of its rendering */

/* Checks that every {{ opens a placeholder that closes on the same line
 * with a path of letters, digits, '_' and '.'; FD_EINVAL otherwise. */
int fd_template_check(const char *tpl);

/* Renders tpl with values from data; caller frees. Output is cut at
 * FD_TEMPLATE_MAX bytes. */
char *fd_template_render(const char *tpl, const json_t *data);

#endif
