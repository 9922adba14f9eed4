/*
 * cpu_conv.c — CPU kernels of 2-D convolution (forward, gradient with
 * respect to the input, and with respect to the weight and bias) for float
 * and double: im2col into per-thread scratch and one BLAS product per chunk
 * of images; loops in cpu_conv.inc.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_backend.h"

/* At most about 2^20 column elements (4 MB of float) per chunk. */
#define CONV_DEFAULT_SCRATCH_LIMIT ((int64_t)1 << 20)

/* Output positions a chunk should give the matrix product at least: 512
 * columns keep the product's tiles full, and no more keeps a chunk's
 * columns and outputs in L2 (the lecture CNN's first layer takes one image
 * of 576 positions per chunk, its second 25 images of 16). */
#define CONV_CHUNK_COLUMNS 512

static int64_t conv_scratch_limit = CONV_DEFAULT_SCRATCH_LIMIT;

void pf_cpu_conv_set_scratch_limit(int64_t elements)
{
    conv_scratch_limit = elements > 0 ? elements : CONV_DEFAULT_SCRATCH_LIMIT;
}


static pf_cpu_conv_algorithm conv_algorithm;

/* The fewest 4x4 output tiles per call for which AUTO takes Winograd. */
#define WINOGRAD_MIN_TILES 64

/* Runs when the library is loaded: PF_CONV from the environment. */
__attribute__((constructor)) static void conv_algorithm_init(void)
{
    const char *env = getenv("PF_CONV");
    conv_algorithm = !env                          ? PF_CONV_AUTO
                     : strcmp(env, "im2col") == 0   ? PF_CONV_IM2COL
                     : strcmp(env, "winograd") == 0 ? PF_CONV_WINOGRAD
                                                    : PF_CONV_AUTO;
}

void pf_cpu_conv_set_algorithm(pf_cpu_conv_algorithm algorithm) { conv_algorithm = algorithm; }

bool pf_cpu_conv_uses_winograd(const pf_conv2d_geom *g)
{
    if (conv_algorithm == PF_CONV_IM2COL || g->k_h != 5 || g->k_w != 5 || g->stride != 1 || g->dilation != 1)
        return false;
    /* the transforms address the tensors with 32-bit offsets */
    const double limit = 2147483647.0;
    if ((double)g->n * g->c_in * g->h_in * g->w_in >= limit || (double)g->n * g->c_out * g->h_out * g->w_out >= limit ||
        (double)g->c_out * g->c_in * 25 >= limit)
        return false;
    /* The kernels' transform, once per call, pays for itself from about 64
     * tiles: one image of the lecture CNN (1 tile) took 0.080 ms by
     * Winograd, 0.025 by im2col; AlexNet's second layer at batch 1 (49
     * tiles) was slower too, at batch 16 faster. */
    int64_t tiles = g->n * ((g->h_out + 3) / 4) * ((g->w_out + 3) / 4);
    return conv_algorithm == PF_CONV_WINOGRAD || (g->c_in >= 8 && g->c_out >= 8 && tiles >= WINOGRAD_MIN_TILES);
}

/* Cuts the n images into *nchunks chunks of *per images (the last may be
 * smaller), as even as possible: as few images per chunk as give
 * CONV_CHUNK_COLUMNS output positions, within conv_scratch_limit column
 * elements. A one-image chunk needs no copies: its product reads and
 * writes the image's own blocks of y and dy. Depends on the shape only. */
static void conv_plan(const pf_conv2d_geom *g, int64_t *nchunks, int64_t *per)
{
    int64_t hw = g->h_out * g->w_out > 0 ? g->h_out * g->w_out : 1;
    pf_cpu_conv_chunks(g->n, (CONV_CHUNK_COLUMNS + hw - 1) / hw, g->c_in * g->k_h * g->k_w * hw, nchunks, per);
}

void pf_cpu_conv_chunks(int64_t n, int64_t want, int64_t per_image, int64_t *nchunks, int64_t *per)
{
    int64_t fit = conv_scratch_limit / (per_image > 0 ? per_image : 1);
    int64_t size = want < fit ? want : fit;
    if (size > n)
        size = n;
    if (size < 1)
        size = 1;
    int64_t count = n > 0 ? (n + size - 1) / size : 1;
    *per = (n + count - 1) / count;
    if (*per < 1)
        *per = 1;
    *nchunks = n > 0 ? (n + *per - 1) / *per : 0;
}

void pf_cpu_conv_inside_range(int64_t shift, int64_t stride, int64_t size, int64_t count, int64_t *lo, int64_t *hi)
{
    *lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
    *hi = shift <= size - 1 ? (size - 1 - shift) / stride + 1 : 0;
    if (*hi > count)
        *hi = count;
    if (*lo > *hi)
        *lo = *hi;
}

/* One plane's rows of im2col (col2im) with AVX-512, where the CPU has it
 * and the stride is 1 (cpu_conv_avx512.c); false where the portable loop
 * must do it. Float only. */
static inline bool im2col_plane_vector_f32(const pf_conv2d_geom *g, const float *plane, float *dst, int64_t row_len)
{
    if (g->stride != 1 || g->k_w > 64 || !pf_cpu_use_avx512())
        return false;
    pf_cpu_im2col_plane_f32_avx512(g, plane, dst, row_len);
    return true;
}

static inline bool col2im_plane_vector_f32(const pf_conv2d_geom *g, float *plane, const float *src, int64_t row_len)
{
    if (g->stride != 1 || g->k_w > 64 || !pf_cpu_use_avx512())
        return false;
    pf_cpu_col2im_plane_f32_avx512(g, plane, src, row_len);
    return true;
}

static inline bool im2col_plane_vector_f64(const pf_conv2d_geom *g, const double *plane, double *dst, int64_t row_len)
{
    (void)g, (void)plane, (void)dst, (void)row_len;
    return false;
}

static inline bool col2im_plane_vector_f64(const pf_conv2d_geom *g, double *plane, const double *src, int64_t row_len)
{
    (void)g, (void)plane, (void)src, (void)row_len;
    return false;
}

#define PF_CPU_KERNELS "backend/cpu/cpu_conv.inc"
#include "backend/cpu/cpu_instantiate.h"

bool pf_cpu_conv2d(pf_dtype dtype, const pf_conv2d_geom *g, void *y, const void *x, const void *w,
                   const void *bias)
{
    if (dtype == PF_F32)
        return pf_cpu_conv_uses_winograd(g) ? pf_cpu_conv2d_winograd_f32(g, y, x, w, bias)
                                            : conv2d_f32(g, y, x, w, bias);
    return conv2d_f64(g, y, x, w, bias);
}

bool pf_cpu_conv2d_backward_input(pf_dtype dtype, const pf_conv2d_geom *g, void *dx, const void *dy,
                                  const void *w)
{
    if (dtype == PF_F32)
        return pf_cpu_conv_uses_winograd(g) ? pf_cpu_conv2d_winograd_backward_input_f32(g, dx, dy, w)
                                            : conv2d_backward_input_f32(g, dx, dy, w);
    return conv2d_backward_input_f64(g, dx, dy, w);
}

bool pf_cpu_conv2d_backward_weight(pf_dtype dtype, const pf_conv2d_geom *g, void *dw, void *db, const void *dy,
                                   const void *x)
{
    if (dtype == PF_F32)
        return pf_cpu_conv_uses_winograd(g) ? pf_cpu_conv2d_winograd_backward_weight_f32(g, dw, db, dy, x)
                                            : conv2d_backward_weight_f32(g, dw, db, dy, x);
    return conv2d_backward_weight_f64(g, dw, db, dy, x);
}

/* A convolution the fused path does not cut into chunks (Winograd's own
 * plan): its whole output in the calling thread's scratch slot 6. */
static bool conv2d_max_pool2d_whole(pf_dtype dtype, const pf_conv2d_geom *g, const pf_pool2d_geom *p, void *y,
                                    int64_t *indices, const void *x, const void *w, const void *bias)
{
    size_t size = pf_dtype_size(dtype) * (size_t)(g->n * g->c_out * g->h_out * g->w_out);
    void *conv = pf_cpu_scratch(6, size);
    return conv && pf_cpu_conv2d(dtype, g, conv, x, w, bias) && pf_cpu_max_pool2d(dtype, p, y, indices, conv);
}

bool pf_cpu_conv2d_max_pool2d(pf_dtype dtype, const pf_conv2d_geom *g, const pf_pool2d_geom *p, void *y,
                              int64_t *indices, const void *x, const void *w, const void *bias)
{
    if (dtype == PF_F32 && pf_cpu_conv_uses_winograd(g))
        return conv2d_max_pool2d_whole(dtype, g, p, y, indices, x, w, bias);
    if (dtype == PF_F32)
        return conv2d_max_pool2d_f32(g, p, y, indices, x, w, bias);
    return conv2d_max_pool2d_f64(g, p, y, indices, x, w, bias);
}

bool pf_cpu_conv2d_max_pool2d_backward(pf_dtype dtype, const pf_conv2d_geom *g, const pf_pool2d_geom *p, void *dx,
                                       void *dw, void *db, const void *dy, const int64_t *indices, const void *x,
                                       const void *w)
{
    if (dtype == PF_F32 && pf_cpu_conv_uses_winograd(g)) {
        size_t size = sizeof(float) * (size_t)(g->n * g->c_out * g->h_out * g->w_out);
        void *dconv = pf_cpu_scratch(6, size);
        return dconv && pf_cpu_max_pool2d_backward(dtype, p, dconv, dy, indices) &&
               pf_cpu_conv2d_winograd_backward_f32(g, dx, dw, db, dconv, x, w);
    }
    if (dtype == PF_F32 && !dx && pf_cpu_conv_pool_grad_fits(g, p))
        return pf_cpu_conv_pool_grad_f32(g, p, dw, db, dy, indices, x);
    if (dtype == PF_F32)
        return conv2d_max_pool2d_backward_f32(g, p, dx, dw, db, dy, indices, x, w);
    return conv2d_max_pool2d_backward_f64(g, p, dx, dw, db, dy, indices, x, w);
}
