/*
 * image.c — image grids written with libpng (image.h).
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

/* Writes an 8-bit RGB image of width x height, rows top to bottom. */
static bool write_png(const char *path, const unsigned char *rgb, int width, int height)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "image: cannot write %s\n", path);
        return false;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        fprintf(stderr, "image: libpng failed writing %s\n", path);
        return false;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)width * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0;
}

bool image_grid_png(const char *path, const pf_tensor *t, int cols, double lo, double hi, int zoom)
{
    if (!t || !(t->ndim == 3 || (t->ndim == 4 && (t->shape[1] == 1 || t->shape[1] == 3)))) {
        fprintf(stderr, "image: %s: expected [N,H,W], [N,1,H,W] or [N,3,H,W] images\n", path);
        return false;
    }
    int64_t n = t->shape[0], channels = t->ndim == 4 ? t->shape[1] : 1;
    int64_t h = t->shape[t->ndim - 2], w = t->shape[t->ndim - 1];
    if (n < 1 || cols < 1 || zoom < 1 || h < 1 || w < 1 || h * zoom > 4096 || w * zoom > 4096 || !(hi > lo)) {
        fprintf(stderr, "image: %s: bad grid (%lld images, %d columns, zoom %d)\n", path, (long long)n, cols, zoom);
        return false;
    }
    int64_t rows = (n + cols - 1) / cols;
    int64_t cell_w = w * zoom + 1, cell_h = h * zoom + 1;
    int width = (int)(cols * cell_w + 1), height = (int)(rows * cell_h + 1);
    float *values = malloc(sizeof(float) * (size_t)pf_numel(t));
    unsigned char *rgb = malloc((size_t)width * (size_t)height * 3);
    if (!values || !rgb || !pf_copy_to_f32(t, values)) {
        free(values);
        free(rgb);
        fprintf(stderr, "image: %s: out of memory\n", path);
        return false;
    }
    memset(rgb, 128, (size_t)width * (size_t)height * 3); /* grey borders */
    for (int64_t k = 0; k < n; k++) {
        int64_t x0 = 1 + (k % cols) * cell_w, y0 = 1 + (k / cols) * cell_h;
        for (int64_t y = 0; y < h * zoom; y++)
            for (int64_t x = 0; x < w * zoom; x++)
                for (int c = 0; c < 3; c++) {
                    int64_t ch = channels == 3 ? c : 0;
                    double v = values[((k * channels + ch) * h + y / zoom) * w + x / zoom];
                    double s = (v - lo) / (hi - lo) * 255.0;
                    s = s < 0 ? 0 : (s > 255 ? 255 : s);
                    rgb[((y0 + y) * width + x0 + x) * 3 + c] = (unsigned char)(s + 0.5);
                }
    }
    bool ok = write_png(path, rgb, width, height);
    free(values);
    free(rgb);
    return ok;
}
