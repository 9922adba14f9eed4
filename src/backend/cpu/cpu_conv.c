/*
 * cpu_conv.c — CPU kernels of 2-D convolution (forward, gradient with
 * respect to the input, and with respect to the weight and bias) for float
 * and double: im2col into a scratch matrix and one BLAS product per chunk of
 * images; loops in cpu_conv.inc.
 *
 * Scratch comes from malloc for now and is capped (conv_scratch_limit
 * elements): a batch whose columns would not fit is processed in chunks of
 * images, in order.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_types.h"

/* 2^23 elements (32 MB of float): the lecture CNN's layers take a whole
 * batch of 100 images in one chunk. */
#define CONV_DEFAULT_SCRATCH_LIMIT ((int64_t)1 << 23)

static int64_t conv_scratch_limit = CONV_DEFAULT_SCRATCH_LIMIT;

void pf_cpu_conv_set_scratch_limit(int64_t elements)
{
    conv_scratch_limit = elements > 0 ? elements : CONV_DEFAULT_SCRATCH_LIMIT;
}

/* How many of n images fit in the scratch limit when each needs per_image
 * elements (at least one, at most n). */
static int64_t conv_images_per_chunk(int64_t n, int64_t per_image)
{
    int64_t chunk = per_image > 0 ? conv_scratch_limit / per_image : n;
    if (chunk > n)
        chunk = n;
    return chunk > 0 ? chunk : 1;
}

/* The outputs o in [*lo, *hi) of 0 .. count-1 whose input position
 * o*stride + shift lies inside 0 .. size-1 (the others read padding). */
static void conv_inside_range(int64_t shift, int64_t stride, int64_t size, int64_t count, int64_t *lo, int64_t *hi)
{
    *lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
    *hi = shift <= size - 1 ? (size - 1 - shift) / stride + 1 : 0;
    if (*hi > count)
        *hi = count;
    if (*lo > *hi)
        *lo = *hi;
}

#define T float
#define TSUFFIX f32
#define TDTYPE PF_F32
#include "backend/cpu/cpu_conv.inc"
#undef T
#undef TSUFFIX
#undef TDTYPE

#define T double
#define TSUFFIX f64
#define TDTYPE PF_F64
#include "backend/cpu/cpu_conv.inc"
#undef T
#undef TSUFFIX
#undef TDTYPE

bool pf_cpu_conv2d(pf_dtype dtype, const pf_conv2d_geom *g, void *y, const void *x, const void *w,
                   const void *bias)
{
    if (dtype == PF_F32)
        return conv2d_f32(g, y, x, w, bias);
    return conv2d_f64(g, y, x, w, bias);
}

bool pf_cpu_conv2d_backward_input(pf_dtype dtype, const pf_conv2d_geom *g, void *dx, const void *dy,
                                  const void *w)
{
    if (dtype == PF_F32)
        return conv2d_backward_input_f32(g, dx, dy, w);
    return conv2d_backward_input_f64(g, dx, dy, w);
}

bool pf_cpu_conv2d_backward_weight(pf_dtype dtype, const pf_conv2d_geom *g, void *dw, void *db, const void *dy,
                                   const void *x)
{
    if (dtype == PF_F32)
        return conv2d_backward_weight_f32(g, dw, db, dy, x);
    return conv2d_backward_weight_f64(g, dw, db, dy, x);
}
