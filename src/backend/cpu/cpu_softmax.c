/*
 * cpu_softmax.c — CPU softmax and log-softmax kernels for float and double;
 * loops in cpu_softmax.inc.
 */
#include <tgmath.h>

#include "backend/cpu/cpu_backend.h"

#define PF_CPU_KERNELS "backend/cpu/cpu_softmax.inc"
#include "backend/cpu/cpu_instantiate.h"

bool pf_cpu_softmax(bool log, pf_dtype dtype, void *out, const void *in, pf_dim_split s)
{
    if (dtype == PF_F32)
        softmax_f32(log, out, in, s);
    else
        softmax_f64(log, out, in, s);
    return true;
}

bool pf_cpu_softmax_backward(bool log, pf_dtype dtype, void *dx, const void *dy, const void *y,
                             pf_dim_split s)
{
    if (dtype == PF_F32)
        softmax_backward_f32(log, dx, dy, y, s);
    else
        softmax_backward_f64(log, dx, dy, y, s);
    return true;
}
