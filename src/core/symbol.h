/*
 * symbol.h - a voucher code drawn as a QR code (libqrencode) or a Code 128
 * barcode (libzint), as SVG text or PNG bytes, for the member page and the
 * till. Pure computation: the bytes come back in memory.
 */
#ifndef FD_SYMBOL_H
#define FD_SYMBOL_H

#include <stddef.h>

typedef enum { FD_SYMBOL_QR, FD_SYMBOL_CODE128 } fd_symbol_kind;
typedef enum { FD_IMAGE_SVG, FD_IMAGE_PNG } fd_image_format;

#define FD_SYMBOL_TEXT_MAX 256 /* bytes of text one symbol encodes at most */

/* Draws text (1..FD_SYMBOL_TEXT_MAX bytes). *out receives malloc'ed bytes
 * (caller frees; SVG is NUL-terminated) and *len their number. FD_EINVAL
 * when the text cannot be encoded in the symbol. QR codes use error
 * correction level M and a 4-module quiet zone; barcodes a 10-module one. */
int fd_symbol_render(fd_symbol_kind kind, fd_image_format format, const char *text,
                     unsigned char **out, size_t *len);

#endif
