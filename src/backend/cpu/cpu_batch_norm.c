/*
 * cpu_batch_norm.c — CPU batch-norm kernels (statistics, apply, backward)
 * for float and double; loops in cpu_batch_norm.inc.
 */
#include <tgmath.h>

#include "backend/cpu/cpu_backend.h"

#define PF_CPU_KERNELS "backend/cpu/cpu_batch_norm.inc"
#include "backend/cpu/cpu_instantiate.h"

bool pf_cpu_batch_norm_stats(pf_dtype dtype, int64_t n, int64_t c, int64_t s, const void *x, void *mean,
                             void *invstd, double eps)
{
    if (dtype == PF_F32)
        batch_norm_stats_f32(n, c, s, x, mean, invstd, eps);
    else
        batch_norm_stats_f64(n, c, s, x, mean, invstd, eps);
    return true;
}

bool pf_cpu_batch_norm_apply(pf_dtype dtype, int64_t n, int64_t c, int64_t s, void *y, const void *x,
                             const void *mean, const void *invstd, const void *weight, const void *bias)
{
    if (dtype == PF_F32)
        batch_norm_apply_f32(n, c, s, y, x, mean, invstd, weight, bias);
    else
        batch_norm_apply_f64(n, c, s, y, x, mean, invstd, weight, bias);
    return true;
}

bool pf_cpu_batch_norm_backward(pf_dtype dtype, int64_t n, int64_t c, int64_t s, void *dx, void *dweight,
                                void *dbias, const void *dy, const void *x, const void *mean, const void *invstd,
                                const void *weight, bool training)
{
    if (dtype == PF_F32)
        batch_norm_backward_f32(n, c, s, dx, dweight, dbias, dy, x, mean, invstd, weight, training);
    else
        batch_norm_backward_f64(n, c, s, dx, dweight, dbias, dy, x, mean, invstd, weight, training);
    return true;
}
