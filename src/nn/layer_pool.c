/*
 * layer_pool.c — the pooling layers: MaxPool2d and AvgPool2d (iarg: [0]
 * kernel, [1] stride, [2] padding) and AdaptiveAvgPool2d (iarg: [0] out_h,
 * [1] out_w). No parameters.
 */
#include <stdio.h>

#include "nn/module.h"

static pf_tensor *max_pool_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_max_pool2d(ctx, x, (int)m->iarg[0], (int)m->iarg[1], (int)m->iarg[2]);
}

static pf_tensor *avg_pool_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_avg_pool2d(ctx, x, (int)m->iarg[0], (int)m->iarg[1], (int)m->iarg[2]);
}

static pf_tensor *adaptive_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_adaptive_avg_pool2d(ctx, x, (int)m->iarg[0], (int)m->iarg[1]);
}

static void max_pool_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "MaxPool2d(kernel_size=%lld, stride=%lld, padding=%lld, dilation=1, ceil_mode=False)",
             (long long)m->iarg[0], (long long)m->iarg[1], (long long)m->iarg[2]);
}

static void avg_pool_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "AvgPool2d(kernel_size=%lld, stride=%lld, padding=%lld)", (long long)m->iarg[0],
             (long long)m->iarg[1], (long long)m->iarg[2]);
}

static void adaptive_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "AdaptiveAvgPool2d(output_size=(%lld, %lld))", (long long)m->iarg[0], (long long)m->iarg[1]);
}

static const pf_module_ops max_pool_ops = {"MaxPool2d", max_pool_forward, max_pool_describe};
static const pf_module_ops avg_pool_ops = {"AvgPool2d", avg_pool_forward, avg_pool_describe};
static const pf_module_ops adaptive_ops = {"AdaptiveAvgPool2d", adaptive_forward, adaptive_describe};

static pf_module *pool_layer(pf_ctx *params, const pf_module_ops *ops, int kernel, int stride, int padding)
{
    if (kernel <= 0 || stride < 0 || padding < 0)
        return pf_fail("pf_nn_%s: kernel must be positive, stride and padding not negative (got %d, %d, %d)",
                       ops == &max_pool_ops ? "max_pool2d" : "avg_pool2d", kernel, stride, padding);
    pf_module *m = pf_module_new(params, ops);
    if (!m)
        return NULL;
    m->iarg[0] = kernel;
    m->iarg[1] = stride ? stride : kernel;
    m->iarg[2] = padding;
    return m;
}

pf_module *pf_nn_max_pool2d(pf_ctx *params, int kernel, int stride, int padding)
{
    return pool_layer(params, &max_pool_ops, kernel, stride, padding);
}

pf_module *pf_nn_avg_pool2d(pf_ctx *params, int kernel, int stride, int padding)
{
    return pool_layer(params, &avg_pool_ops, kernel, stride, padding);
}

pf_module *pf_nn_adaptive_avg_pool2d(pf_ctx *params, int out_h, int out_w)
{
    if (out_h <= 0 || out_w <= 0)
        return pf_fail("pf_nn_adaptive_avg_pool2d: output size must be positive (got %d x %d)", out_h, out_w);
    pf_module *m = pf_module_new(params, &adaptive_ops);
    if (!m)
        return NULL;
    m->iarg[0] = out_h;
    m->iarg[1] = out_w;
    return m;
}
