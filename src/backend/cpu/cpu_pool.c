/*
 * cpu_pool.c — CPU kernels of 2-D pooling (max, average, adaptive average)
 * and their backward, for float and double; loops in cpu_pool.inc.
 */
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu_backend.h"

/* Window of output o along one side, [*start, *end), clipped to 0 .. size:
 * from o*stride - padding, kernel positions long. */
static inline void pool_window(int64_t o, const pf_pool2d_geom *g, int64_t size, int64_t *start, int64_t *end)
{
    int64_t s = o * g->stride - g->padding, e = s + g->kernel;
    *start = s < 0 ? 0 : s;
    *end = e > size ? size : e;
}

/* Adaptive windows (PyTorch's): output o of out covers input positions
 * floor(o*in/out) .. ceil((o+1)*in/out) - 1. */
static inline int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return o * in / out; }
static inline int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

#define PF_CPU_KERNELS "backend/cpu/cpu_pool.inc"
#include "backend/cpu/cpu_instantiate.h"

/* Float32 max pooling with AVX-512: groups of whole planes of about 4096
 * outputs, one group per call, spread over the threads. Each output is
 * computed on its own, so the grouping does not change any result. */
static void max_pool2d_f32_avx512(const pf_pool2d_geom *g, float *y, int64_t *indices, const float *x)
{
    int64_t planes = g->n * g->c, in_size = g->h_in * g->w_in, out_size = g->h_out * g->w_out;
    int64_t per = out_size >= 4096 ? 1 : 4096 / out_size, groups = (planes + per - 1) / per;
    PF_PARALLEL_FOR(groups > 1 && planes * out_size * g->kernel * g->kernel > 32768, group, groups, {
        int64_t p0 = group * per, count = planes - p0 < per ? planes - p0 : per;
        pf_cpu_max_pool2d_f32_avx512(g, count, y + p0 * out_size, indices ? indices + p0 * out_size : NULL,
                                     x + p0 * in_size);
    });
}

bool pf_cpu_max_pool2d(pf_dtype dtype, const pf_pool2d_geom *g, void *y, int64_t *indices, const void *x)
{
    if (dtype == PF_F32 && g->h_out * g->w_out > 0 && pf_cpu_use_avx512() && pf_cpu_max_pool2d_f32_avx512_fits(g))
        max_pool2d_f32_avx512(g, y, indices, x);
    else if (dtype == PF_F32)
        max_pool2d_f32(g, y, indices, x);
    else
        max_pool2d_f64(g, y, indices, x);
    return true;
}

bool pf_cpu_max_pool2d_backward(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy,
                                const int64_t *indices)
{
    if (dtype == PF_F32)
        max_pool2d_backward_f32(g, dx, dy, indices);
    else
        max_pool2d_backward_f64(g, dx, dy, indices);
    return true;
}

bool pf_cpu_avg_pool2d(pf_dtype dtype, const pf_pool2d_geom *g, void *y, const void *x)
{
    if (dtype == PF_F32)
        avg_pool2d_f32(g, y, x);
    else
        avg_pool2d_f64(g, y, x);
    return true;
}

bool pf_cpu_avg_pool2d_backward(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy)
{
    if (dtype == PF_F32)
        avg_pool2d_backward_f32(g, dx, dy);
    else
        avg_pool2d_backward_f64(g, dx, dy);
    return true;
}

bool pf_cpu_adaptive_avg_pool2d(pf_dtype dtype, const pf_pool2d_geom *g, void *y, const void *x)
{
    if (dtype == PF_F32)
        adaptive_avg_pool2d_f32(g, y, x);
    else
        adaptive_avg_pool2d_f64(g, y, x);
    return true;
}

bool pf_cpu_adaptive_avg_pool2d_backward(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy)
{
    if (dtype == PF_F32)
        adaptive_avg_pool2d_backward_f32(g, dx, dy);
    else
        adaptive_avg_pool2d_backward_f64(g, dx, dy);
    return true;
}
