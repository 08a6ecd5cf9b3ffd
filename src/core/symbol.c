/*
 * symbol.c - QR codes and barcodes as images (symbol.h). Both symbols
 * become one grid of dark and light modules; SVG draws one rectangle per
 * run of dark modules in a row, PNG scales the grid to whole pixels.
 */
#include "core/symbol.h"

#include <png.h>
#include <stdarg.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zint.h>

#include "base/fd.h"

#define PNG_SCALE 8 /* pixels per module */

typedef struct grid {
    int w, h;            /* modules, quiet zone included */
    unsigned char *dark; /* w * h, 1 = dark */
} grid;

static void grid_init(grid *g, int w, int h)
{
    g->w = w;
    g->h = h;
    g->dark = fd_calloc((size_t)w * (size_t)h, 1);
}

static int qr_grid(const char *text, grid *g)
{
    QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (!qr) return FD_EINVAL;
    int quiet = 4, n = qr->width;
    grid_init(g, n + 2 * quiet, n + 2 * quiet);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            g->dark[(size_t)(y + quiet) * (size_t)g->w + (size_t)(x + quiet)] =
                qr->data[y * n + x] & 1;
    QRcode_free(qr);
    return FD_OK;
}

/* Code 128 from libzint's module row: a symbol of one row, drawn 40 modules high. */
static int code128_grid(const char *text, grid *g)
{
    struct zint_symbol *sym = ZBarcode_Create();
    if (!sym) abort();
    sym->symbology = BARCODE_CODE128;
    int rc = ZBarcode_Encode(sym, (const unsigned char *)text, (int)strlen(text));
    if (rc >= ZINT_ERROR || sym->rows < 1) {
        ZBarcode_Delete(sym);
        return FD_EINVAL;
    }
    int quiet = 10, height = 40, n = sym->width;
    grid_init(g, n + 2 * quiet, height);
    for (int x = 0; x < n; x++) {
        bool dark = (sym->encoded_data[0][x / 8] >> (x % 8)) & 1;
        for (int y = 0; y < height; y++)
            g->dark[(size_t)y * (size_t)g->w + (size_t)(x + quiet)] = dark;
    }
    ZBarcode_Delete(sym);
    return FD_OK;
}

/* A growing text buffer for the SVG. */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

__attribute__((format(printf, 2, 3))) static void put(buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)k + 1 > b->cap) {
        b->cap = (b->cap + (size_t)k + 1) * 2;
        b->p = fd_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, tmp, (size_t)k + 1);
    b->n += (size_t)k;
}

static void svg(const grid *g, unsigned char **out, size_t *len)
{
    buf b = {NULL, 0, 0};
    put(&b,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
        "shape-rendering=\"crispEdges\" role=\"img\"><rect width=\"%d\" height=\"100%%\" "
        "fill=\"#fff\"/><path fill=\"#000\" d=\"",
        g->w, g->h, g->w);
    for (int y = 0; y < g->h; y++) {
        for (int x = 0; x < g->w;) {
            if (!g->dark[(size_t)y * (size_t)g->w + (size_t)x]) {
                x++;
                continue;
            }
            int run = 0;
            while (x + run < g->w && g->dark[(size_t)y * (size_t)g->w + (size_t)(x + run)])
                run++;
            put(&b, "M%d %dh%dv1H%dz", x, y, run, x);
            x += run;
        }
    }
    put(&b, "\"/></svg>");
    *out = (unsigned char *)b.p;
    *len = b.n;
}

typedef struct png_out {
    unsigned char *p;
    size_t n, cap;
} png_out;

static void png_write(png_structp png, png_bytep data, png_size_t n)
{
    png_out *o = png_get_io_ptr(png);
    if (o->n + n > o->cap) {
        o->cap = (o->cap + n) * 2;
        o->p = fd_realloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, data, n);
    o->n += n;
}

static void png_flush(png_structp png)
{
    (void)png;
}

static int png(const grid *g, unsigned char **out, size_t *len)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    /* heap state: libpng's errors longjmp back, and locals changed since
     * setjmp would be indeterminate there */
    png_out *o = fd_calloc(1, sizeof *o);
    unsigned char *row = fd_malloc((size_t)g->w * PNG_SCALE);
    int rc = FD_EIO;
    if (info && !setjmp(png_jmpbuf(png))) {
        png_set_write_fn(png, o, png_write, png_flush);
        png_set_IHDR(png, info, (png_uint_32)(g->w * PNG_SCALE), (png_uint_32)(g->h * PNG_SCALE), 8,
                     PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                     PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < g->h * PNG_SCALE; y++) {
            const unsigned char *modules = g->dark + (size_t)(y / PNG_SCALE) * (size_t)g->w;
            for (int x = 0; x < g->w * PNG_SCALE; x++)
                row[x] = modules[x / PNG_SCALE] ? 0 : 255;
            png_write_row(png, row);
        }
        png_write_end(png, NULL);
        *out = o->p;
        *len = o->n;
        o->p = NULL;
        rc = FD_OK;
    }
    png_destroy_write_struct(&png, info ? &info : NULL);
    free(row);
    free(o->p);
    free(o);
    return rc;
}

int fd_symbol_render(fd_symbol_kind kind, fd_image_format format, const char *text,
                     unsigned char **out, size_t *len)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > FD_SYMBOL_TEXT_MAX) return FD_EINVAL;
    grid g;
    int rc = kind == FD_SYMBOL_QR ? qr_grid(text, &g) : code128_grid(text, &g);
    if (rc) return rc;
    if (format == FD_IMAGE_SVG)
        svg(&g, out, len);
    else
        rc = png(&g, out, len);
    free(g.dark);
    return rc;
}
