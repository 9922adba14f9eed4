/*
 * cpu_backend.c — the CPU backend's table of kernels and its storage
 * allocation (from the context's arena).
 */
#include "backend/cpu/cpu_backend.h"

static void *cpu_storage_alloc(pf_ctx *ctx, size_t bytes) { return pf_ctx_alloc(ctx, bytes ? bytes : 1); }

const pf_backend pf_cpu_backend = {
    .name = "cpu",
    .storage_alloc = cpu_storage_alloc,
    .fill = pf_cpu_fill,
    .copy = pf_cpu_copy,
    .unary = pf_cpu_unary,
    .unary_backward = pf_cpu_unary_backward,
    .binary = pf_cpu_binary,
    .sum_last = pf_cpu_sum_last,
    .max_last = pf_cpu_max_last,
    .gemm = pf_cpu_gemm,
    .softmax = pf_cpu_softmax,
    .softmax_backward = pf_cpu_softmax_backward,
    .index_select = pf_cpu_index_select,
    .index_add = pf_cpu_index_add,
    .gather = pf_cpu_gather,
    .scatter_add = pf_cpu_scatter_add,
    .conv2d = pf_cpu_conv2d,
    .conv2d_backward_input = pf_cpu_conv2d_backward_input,
    .conv2d_backward_weight = pf_cpu_conv2d_backward_weight,
    .conv2d_max_pool2d = pf_cpu_conv2d_max_pool2d,
    .conv2d_max_pool2d_backward = pf_cpu_conv2d_max_pool2d_backward,
    .max_pool2d = pf_cpu_max_pool2d,
    .max_pool2d_backward = pf_cpu_max_pool2d_backward,
    .avg_pool2d = pf_cpu_avg_pool2d,
    .avg_pool2d_backward = pf_cpu_avg_pool2d_backward,
    .adaptive_avg_pool2d = pf_cpu_adaptive_avg_pool2d,
    .adaptive_avg_pool2d_backward = pf_cpu_adaptive_avg_pool2d_backward,
    .batch_norm_stats = pf_cpu_batch_norm_stats,
    .batch_norm_apply = pf_cpu_batch_norm_apply,
    .batch_norm_backward = pf_cpu_batch_norm_backward,
    .cross_entropy = pf_cpu_cross_entropy,
    .cross_entropy_backward = pf_cpu_cross_entropy_backward,
    .sgd_step = pf_cpu_sgd_step,
    .adam_step = pf_cpu_adam_step,
};
