/*
 * cpu_loss.c — CPU cross-entropy kernels (fused log-softmax and pick, and
 * the backward) for float and double; loops in cpu_loss.inc. Every target
 * is checked against the number of classes before anything is written.
 */
#include <tgmath.h>

#include "backend/cpu/cpu_backend.h"

#define PF_CPU_KERNELS "backend/cpu/cpu_loss.inc"
#include "backend/cpu/cpu_instantiate.h"

static bool check_targets(int64_t n, int64_t c, const int64_t *target)
{
    for (int64_t i = 0; i < n; i++)
        if (target[i] < 0 || target[i] >= c) {
            pf_fail("pf_cross_entropy: target[%lld] = %lld is out of range for %lld classes (expected 0..%lld)",
                    (long long)i, (long long)target[i], (long long)c, (long long)c - 1);
            return false;
        }
    return true;
}

bool pf_cpu_cross_entropy(pf_dtype dtype, int64_t n, int64_t c, const void *logits, const int64_t *target,
                          void *losses, void *prob)
{
    if (!check_targets(n, c, target))
        return false;
    if (dtype == PF_F32)
        cross_entropy_f32(n, c, logits, target, losses, prob);
    else
        cross_entropy_f64(n, c, logits, target, losses, prob);
    return true;
}

bool pf_cpu_cross_entropy_backward(pf_dtype dtype, int64_t n, int64_t c, void *dlogits, const void *prob,
                                   const int64_t *target, const void *dloss)
{
    if (!check_targets(n, c, target))
        return false;
    if (dtype == PF_F32)
        cross_entropy_backward_f32(n, c, dlogits, prob, target, dloss);
    else
        cross_entropy_backward_f64(n, c, dlogits, prob, target, dloss);
    return true;
}
