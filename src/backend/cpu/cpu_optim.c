/*
 * cpu_optim.c — CPU optimizer kernels (SGD and Adam/AdamW updates, in
 * place) for float and double; loops in cpu_optim.inc.
 */
#include <tgmath.h>

#include "backend/cpu/cpu_backend.h"

#define PF_CPU_KERNELS "backend/cpu/cpu_optim.inc"
#include "backend/cpu/cpu_instantiate.h"

bool pf_cpu_sgd_step(pf_dtype dtype, int64_t n, void *param, const void *grad, void *momentum_buffer,
                     const pf_sgd_step_args *args)
{
    if (dtype == PF_F32)
        sgd_step_f32(n, param, grad, momentum_buffer, args);
    else if (dtype == PF_F64)
        sgd_step_f64(n, param, grad, momentum_buffer, args);
    else
        return pf_fail("pf_cpu_sgd_step: unsupported dtype %s", pf_dtype_name(dtype)), false;
    return true;
}

bool pf_cpu_adam_step(pf_dtype dtype, int64_t n, void *param, const void *grad, void *exp_avg, void *exp_avg_sq,
                      const pf_adam_step_args *args)
{
    if (dtype == PF_F32)
        adam_step_f32(n, param, grad, exp_avg, exp_avg_sq, args);
    else if (dtype == PF_F64)
        adam_step_f64(n, param, grad, exp_avg, exp_avg_sq, args);
    else
        return pf_fail("pf_cpu_adam_step: unsupported dtype %s", pf_dtype_name(dtype)), false;
    return true;
}
