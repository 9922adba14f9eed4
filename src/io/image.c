/*
 * image.c — PNG and JPEG images in (libpng, libjpeg-turbo), bilinear
 * resizing, and the preparation of an image for an ImageNet model: resize,
 * centre crop, normalisation (the lecture slide's or ImageNet's).
 *
 * Decoding happens from memory. Both libraries report errors by longjmp
 * from their error callbacks; every local that changes after setjmp is
 * volatile, and the error message is copied out before the jump. libjpeg
 * only warns about a truncated or corrupt stream (and fills the rest of the
 * image with grey); here its warnings are errors. Before any pixel buffer
 * is allocated the header's dimensions are checked: at most IMG_MAX_SIDE per
 * side and IMG_MAX_PIXELS in all, and, for PNG, no more raw bytes than
 * deflate could expand the file into (1032 to 1), so a small file that
 * announces a huge image is refused at once.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "tensor/tensor_internal.h"

#define IMG_MAX_SIDE 16384
#define IMG_MAX_PIXELS ((uint64_t)1 << 26)
#define IMG_MAX_FILE ((uint64_t)1 << 30)   /* bytes of an image file */
#define DEFLATE_MAX_RATIO 1032             /* deflate's largest expansion */

typedef struct img_err {
    char msg[256];
} img_err;

/* Checks the announced size; false with a message in err. */
static bool check_dims(img_err *err, uint64_t w, uint64_t h)
{
    if (w == 0 || h == 0)
        snprintf(err->msg, sizeof err->msg, "the image is empty (%llu x %llu)", (unsigned long long)w,
                 (unsigned long long)h);
    else if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE || w * h > IMG_MAX_PIXELS)
        snprintf(err->msg, sizeof err->msg,
                 "the header announces %llu x %llu pixels, more than the limit (%d per side, %llu in all)",
                 (unsigned long long)w, (unsigned long long)h, IMG_MAX_SIDE, (unsigned long long)IMG_MAX_PIXELS);
    else
        return true;
    return false;
}

/* ---- PNG ---- */

typedef struct png_source {
    const uint8_t *p;
    size_t n, pos;
    img_err *err;
} png_source;

static void png_read_mem(png_structp png, png_bytep out, size_t len)
{
    png_source *s = png_get_io_ptr(png);
    if (s->n - s->pos < len)
        png_error(png, "the file is truncated");
    memcpy(out, s->p + s->pos, len);
    s->pos += len;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
    img_err *err = png_get_error_ptr(png);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png; /* ancillary-chunk complaints (a bad colour profile ...) */
    (void)msg;
}

/* Decodes into *out (malloc'd RGB bytes). false with err->msg. */
static bool decode_png(const uint8_t *bytes, size_t size, img_err *err, uint8_t **out, uint32_t *w_out,
                       uint32_t *h_out)
{
    png_source src = {bytes, size, 0, err};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, err, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return false;
    }
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return false;
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_set_user_limits(png, IMG_MAX_SIDE, IMG_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if (!check_dims(err, w, h))
        png_longjmp(png, 1);
    /* The raw bytes the IDAT chunks must inflate to, against the file. */
    uint64_t raw = (uint64_t)h * ((uint64_t)png_get_rowbytes(png, info) + 1);
    if (raw > (uint64_t)size * DEFLATE_MAX_RATIO + 65536) {
        snprintf(err->msg, sizeof err->msg,
                 "the header announces %u x %u pixels (%llu bytes), more than a %zu-byte file can hold", (unsigned)w,
                 (unsigned)h, (unsigned long long)raw, size);
        png_longjmp(png, 1);
    }
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16)
        png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    if (color & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        snprintf(err->msg, sizeof err->msg, "unexpected row size after conversion to RGB");
        png_longjmp(png, 1);
    }
    pixels = malloc((size_t)w * h * 3);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) {
        snprintf(err->msg, sizeof err->msg, "out of memory for %u x %u pixels", (unsigned)w, (unsigned)h);
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = pixels + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *out = pixels;
    *w_out = w;
    *h_out = h;
    return true;
}

/* ---- JPEG ---- */

typedef struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    img_err *err;
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    snprintf(e->err->msg, sizeof e->err->msg, "%s", text);
    longjmp(e->jump, 1);
}

/* Warnings (level -1: corrupt data, premature end) are errors; trace
 * messages (level >= 0) are ignored. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    if (level < 0)
        jpeg_on_error(cinfo);
}

static bool decode_jpeg(const uint8_t *bytes, size_t size, img_err *err, uint8_t **out, uint32_t *w_out,
                        uint32_t *h_out)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err jerr;
    uint8_t *volatile pixels = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_on_error;
    jerr.pub.emit_message = jpeg_on_message;
    jerr.err = err;
    if (setjmp(jerr.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (!check_dims(err, cinfo.image_width, cinfo.image_height))
        longjmp(jerr.jump, 1);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    uint32_t w = cinfo.output_width, h = cinfo.output_height;
    if (cinfo.output_components != 3 || !check_dims(err, w, h)) {
        if (cinfo.output_components != 3)
            snprintf(err->msg, sizeof err->msg, "cannot convert to RGB (%d components)", cinfo.output_components);
        longjmp(jerr.jump, 1);
    }
    pixels = malloc((size_t)w * h * 3);
    if (!pixels) {
        snprintf(err->msg, sizeof err->msg, "out of memory for %u x %u pixels", (unsigned)w, (unsigned)h);
        longjmp(jerr.jump, 1);
    }
    while (cinfo.output_scanline < h) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * w * 3;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            snprintf(err->msg, sizeof err->msg, "the data ends at row %u of %u", (unsigned)cinfo.output_scanline,
                     (unsigned)h);
            longjmp(jerr.jump, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    *out = pixels;
    *w_out = w;
    *h_out = h;
    return true;
}

/* ---- decoding ---- */

static pf_tensor *decode(pf_ctx *ctx, const uint8_t *bytes, size_t size, const char *fn, const char *where)
{
    if (!ctx)
        return pf_fail("%s: NULL context", fn);
    if (!bytes && size > 0)
        return pf_fail("%s: NULL buffer", fn);
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    bool is_png = size >= 8 && memcmp(bytes, png_magic, 8) == 0;
    bool is_jpeg = size >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff;
    if (!is_png && !is_jpeg)
        return pf_fail("%s: %s: not a PNG or JPEG image (unknown first bytes)", fn, where);
    img_err err = {{0}};
    uint8_t *pixels = NULL;
    uint32_t w = 0, h = 0;
    bool ok = is_png ? decode_png(bytes, size, &err, &pixels, &w, &h) : decode_jpeg(bytes, size, &err, &pixels, &w, &h);
    if (!ok)
        return pf_fail("%s: %s: bad %s: %s", fn, where, is_png ? "PNG" : "JPEG", err.msg[0] ? err.msg : "decoding failed");
    pf_tensor *t = pf_empty(ctx, PF_F32, PF_DIMS(3, h, w));
    if (t) {
        float *d = pf_tensor_data(t);
        size_t plane = (size_t)w * h;
        for (size_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                d[(size_t)c * plane + i] = (float)pixels[i * 3 + (size_t)c] / 255.0f;
    }
    free(pixels);
    return t;
}

pf_tensor *pf_image_decode(pf_ctx *ctx, const uint8_t *bytes, size_t size)
{
    return decode(ctx, bytes, size, "pf_image_decode", "buffer");
}

pf_tensor *pf_image_load(pf_ctx *ctx, const char *path)
{
    if (!path)
        return pf_fail("pf_image_load: NULL path");
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_fail("pf_image_load: %s: cannot open it", path);
    uint8_t *bytes = NULL;
    size_t size = 0, cap = 0;
    bool too_big = false;
    for (;;) {
        if (size == cap) {
            if (cap >= IMG_MAX_FILE) {
                too_big = true;
                break;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *grown = realloc(bytes, cap);
            if (!grown) {
                free(bytes);
                fclose(f);
                return pf_fail("pf_image_load: %s: out of memory", path);
            }
            bytes = grown;
        }
        size_t got = fread(bytes + size, 1, cap - size, f);
        size += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    pf_tensor *t = NULL;
    if (too_big)
        pf_fail("pf_image_load: %s: larger than %llu bytes", path, (unsigned long long)IMG_MAX_FILE);
    else if (failed)
        pf_fail("pf_image_load: %s: read error", path);
    else
        t = decode(ctx, bytes, size, "pf_image_load", path);
    free(bytes);
    return t;
}

/* ---- resizing and preparation ---- */

/* PyTorch's source index and weights for bilinear, align_corners=False. */
static void bilinear_taps(int64_t in, int64_t out, int64_t i, int64_t *i0, int64_t *i1, float *l0, float *l1)
{
    float scale = (float)in / (float)out;
    float src = scale * ((float)i + 0.5f) - 0.5f;
    if (src < 0)
        src = 0;
    *i0 = (int64_t)src;
    if (*i0 > in - 1)
        *i0 = in - 1;
    *i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
    *l1 = src - (float)*i0;
    *l0 = 1.0f - *l1;
}

pf_tensor *pf_image_resize(pf_ctx *ctx, pf_tensor *img, int64_t out_h, int64_t out_w)
{
    if (!img)
        return NULL;
    if (!ctx)
        return pf_fail("pf_image_resize: NULL context");
    char shape[128];
    if ((img->ndim != 3 && img->ndim != 4) || img->dtype != PF_F32)
        return pf_fail("pf_image_resize: expects a float32 [C,H,W] or [N,C,H,W] image, got %s %s",
                       pf_dtype_name(img->dtype), pf_shape_str(img, shape, sizeof shape));
    if (out_h <= 0 || out_w <= 0 || out_h > IMG_MAX_SIDE || out_w > IMG_MAX_SIDE)
        return pf_fail("pf_image_resize: output size %lld x %lld outside 1..%d", (long long)out_h, (long long)out_w,
                       IMG_MAX_SIDE);
    int64_t h = img->shape[img->ndim - 2], w = img->shape[img->ndim - 1];
    if (h == 0 || w == 0)
        return pf_fail("pf_image_resize: the image %s is empty", pf_shape_str(img, shape, sizeof shape));
    bool grad = pf_set_grad_enabled(false);
    pf_tensor *x = pf_contiguous(ctx, img);
    pf_set_grad_enabled(grad);
    int64_t planes = x ? pf_numel(x) / (h * w) : 0;
    int64_t dims[4];
    for (int d = 0; d < img->ndim; d++)
        dims[d] = img->shape[d];
    dims[img->ndim - 2] = out_h;
    dims[img->ndim - 1] = out_w;
    pf_tensor *y = x ? pf_empty(ctx, PF_F32, img->ndim, dims) : NULL;
    int64_t *cols = y ? pf_ctx_alloc(ctx, sizeof *cols * 2 * (size_t)out_w) : NULL;
    float *colw = cols ? pf_ctx_alloc(ctx, sizeof *colw * 2 * (size_t)out_w) : NULL;
    if (!colw)
        return NULL;
    for (int64_t j = 0; j < out_w; j++)
        bilinear_taps(w, out_w, j, &cols[2 * j], &cols[2 * j + 1], &colw[2 * j], &colw[2 * j + 1]);
    const float *src = pf_tensor_data(x);
    float *dst = pf_tensor_data(y);
    for (int64_t p = 0; p < planes; p++) {
        const float *plane = src + p * h * w;
        for (int64_t i = 0; i < out_h; i++) {
            int64_t r0, r1;
            float h0, h1;
            bilinear_taps(h, out_h, i, &r0, &r1, &h0, &h1);
            const float *a = plane + r0 * w, *b = plane + r1 * w;
            float *o = dst + (p * out_h + i) * out_w;
            for (int64_t j = 0; j < out_w; j++) {
                int64_t c0 = cols[2 * j], c1 = cols[2 * j + 1];
                float w0 = colw[2 * j], w1 = colw[2 * j + 1];
                o[j] = h0 * (w0 * a[c0] + w1 * a[c1]) + h1 * (w0 * b[c0] + w1 * b[c1]);
            }
        }
    }
    return y;
}

/* Python's round() of d / 2 for an integer d >= 0: halves go to even. */
static int64_t half_round_even(int64_t d)
{
    int64_t q = d / 2;
    return (d % 2 && q % 2) ? q + 1 : q;
}

pf_tensor *pf_image_prepare(pf_ctx *ctx, pf_tensor *img, const pf_image_prep *prep)
{
    if (!img)
        return NULL;
    if (!ctx || !prep)
        return pf_fail("pf_image_prepare: NULL %s", ctx ? "options" : "context");
    char shape[128];
    if (img->ndim != 3 || img->dtype != PF_F32 || img->shape[1] == 0 || img->shape[2] == 0)
        return pf_fail("pf_image_prepare: expects a float32 [C,H,W] image, got %s %s", pf_dtype_name(img->dtype),
                       pf_shape_str(img, shape, sizeof shape));
    if (prep->resize < 0 || prep->resize > IMG_MAX_SIDE || prep->crop < 0 || prep->crop > IMG_MAX_SIDE)
        return pf_fail("pf_image_prepare: resize %d and crop %d must lie in 0..%d", prep->resize, prep->crop,
                       IMG_MAX_SIDE);
    if (prep->norm != PF_NORM_SLIDE && prep->norm != PF_NORM_IMAGENET && prep->norm != PF_NORM_NONE)
        return pf_fail("pf_image_prepare: unknown normalisation %d", (int)prep->norm);
    if (prep->norm == PF_NORM_IMAGENET && img->shape[0] != 3)
        return pf_fail("pf_image_prepare: ImageNet's normalisation needs 3 channels, the image has %lld",
                       (long long)img->shape[0]);
    pf_tensor *x = img;
    int64_t h = img->shape[1], w = img->shape[2];
    if (prep->resize) {
        /* torchvision's Resize(size): the shorter side to size, the longer
         * one to int(size * long / short). */
        int64_t s = prep->resize;
        int64_t nh = h <= w ? s : (int64_t)((double)s * (double)h / (double)w);
        int64_t nw = h <= w ? (int64_t)((double)s * (double)w / (double)h) : s;
        if (nh < 1 || nw < 1 || nh > IMG_MAX_SIDE || nw > IMG_MAX_SIDE)
            return pf_fail("pf_image_prepare: resizing %lld x %lld to a shorter side of %d gives %lld x %lld",
                           (long long)h, (long long)w, prep->resize, (long long)nh, (long long)nw);
        x = pf_image_resize(ctx, x, nh, nw);
        h = nh, w = nw;
    }
    if (prep->crop) {
        int64_t c = prep->crop;
        if (c > h || c > w)
            return pf_fail("pf_image_prepare: a %d x %d crop of a %lld x %lld image", prep->crop, prep->crop,
                           (long long)h, (long long)w);
        bool grad = pf_set_grad_enabled(false);
        x = pf_narrow(ctx, x, 1, half_round_even(h - c), c);
        x = pf_narrow(ctx, x, 2, half_round_even(w - c), c);
        pf_set_grad_enabled(grad);
        h = w = c;
    }
    int64_t C = img->shape[0], plane = h * w;
    pf_tensor *y = x ? pf_empty(ctx, PF_F32, PF_DIMS(1, C, h, w)) : NULL;
    if (!y || !pf_copy_(y, pf_unsqueeze(ctx, x, 0)))
        return NULL;
    float *d = pf_tensor_data(y);
    int64_t n = C * plane;
    if (prep->norm == PF_NORM_SLIDE) {
        /* img.mean() and img.std() (unbiased), over every element. */
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < n; i++)
            sum += d[i];
        double mean = sum / (double)n;
        for (int64_t i = 0; i < n; i++)
            sq += ((double)d[i] - mean) * ((double)d[i] - mean);
        double std = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
        if (!(std > 0))
            return pf_fail("pf_image_prepare: the image is uniform (standard deviation 0): the slide's "
                           "normalisation divides by it");
        float m = (float)mean, s = (float)std;
        for (int64_t i = 0; i < n; i++)
            d[i] = 0.5f + 0.5f * ((d[i] - m) / s);
    } else if (prep->norm == PF_NORM_IMAGENET) {
        static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
        for (int64_t c = 0; c < 3; c++)
            for (int64_t i = 0; i < plane; i++)
                d[c * plane + i] = (d[c * plane + i] - mean[c]) / std[c];
    }
    return y;
}
