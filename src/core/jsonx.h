/*
 * jsonx.h - JSON forms shared by every layer: times as ISO 8601 strings,
 * amounts as decimal strings.
 */
#ifndef FD_JSONX_H
#define FD_JSONX_H

#include <jansson.h>
#include <stdint.h>

/* "2026-11-23T08:00:00Z", or null for 0 (new reference). */
json_t *fd_json_time(int64_t t);
/* Minor units as a decimal string in major units ("105.00"). */
json_t *fd_json_amount(int64_t minor, int exponent);

#endif
