/*
 * cpu_reduce.c — CPU reduction kernels (sum over trailing dimensions,
 * max/argmax over the last one) for float and double; loops in
 * cpu_reduce.inc.
 */
#include "backend/cpu/cpu_backend.h"

#define PF_CPU_KERNELS "backend/cpu/cpu_reduce.inc"
#include "backend/cpu/cpu_instantiate.h"

bool pf_cpu_sum_last(const pf_kview *out, const pf_kview *in, int nreduce)
{
    if (in->dtype == PF_F32)
        sum_last_f32(out, in, nreduce);
    else
        sum_last_f64(out, in, nreduce);
    return true;
}

bool pf_cpu_max_last(const pf_kview *values, const pf_kview *indices, const pf_kview *in)
{
    if (in->shape[in->ndim - 1] == 0)
        return pf_fail("pf_max_dim: cannot reduce an empty dimension"), false;
    if (in->dtype == PF_F32)
        max_last_f32(values, indices, in);
    else
        max_last_f64(values, indices, in);
    return true;
}
