/*
 * cpu_conv.c — CPU kernels of 2-D convolution (forward, gradient with
 * respect to the input, and with respect to the weight and bias) for float
 * and double: im2col into per-thread scratch and one BLAS product per chunk
 * of images; loops in cpu_conv.inc.
 */
#include <string.h>

#include "backend/cpu/cpu_backend.h"

/* About 2^20 column elements (4 MB of float) per chunk: a chunk's columns
 * stay in cache, and a batch of 100 lecture-CNN images makes two chunks. */
#define CONV_DEFAULT_SCRATCH_LIMIT ((int64_t)1 << 20)

static int64_t conv_scratch_limit = CONV_DEFAULT_SCRATCH_LIMIT;

void pf_cpu_conv_set_scratch_limit(int64_t elements)
{
    conv_scratch_limit = elements > 0 ? elements : CONV_DEFAULT_SCRATCH_LIMIT;
}

/* Cuts the n images into *nchunks chunks of *per images (the last may be
 * smaller), as even as possible, each about conv_scratch_limit column
 * elements. Depends on the shape only. */
static void conv_plan(const pf_conv2d_geom *g, int64_t *nchunks, int64_t *per)
{
    int64_t per_image = g->c_in * g->k_h * g->k_w * g->h_out * g->w_out;
    int64_t total = g->n * (per_image > 0 ? per_image : 1);
    int64_t count = (total + conv_scratch_limit - 1) / conv_scratch_limit;
    if (count > g->n)
        count = g->n;
    if (count < 1)
        count = 1;
    *per = (g->n + count - 1) / count;
    if (*per < 1)
        *per = 1;
    *nchunks = g->n > 0 ? (g->n + *per - 1) / *per : 0;
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

#define PF_CPU_KERNELS "backend/cpu/cpu_conv.inc"
#include "backend/cpu/cpu_instantiate.h"

bool pf_cpu_conv2d(pf_dtype dtype, const pf_conv2d_geom *g, void *y, const void *x, const void *w,
                   const void *bias, void *cols)
{
    if (dtype == PF_F32)
        return conv2d_f32(g, y, x, w, bias, cols);
    return conv2d_f64(g, y, x, w, bias, cols);
}

bool pf_cpu_conv2d_backward_input(pf_dtype dtype, const pf_conv2d_geom *g, void *dx, const void *dy,
                                  const void *w)
{
    if (dtype == PF_F32)
        return conv2d_backward_input_f32(g, dx, dy, w);
    return conv2d_backward_input_f64(g, dx, dy, w);
}

bool pf_cpu_conv2d_backward_weight(pf_dtype dtype, const pf_conv2d_geom *g, void *dw, void *db, const void *dy,
                                   const void *x, const void *cols)
{
    if (dtype == PF_F32)
        return conv2d_backward_weight_f32(g, dw, db, dy, x, cols);
    return conv2d_backward_weight_f64(g, dw, db, dy, x, cols);
}
