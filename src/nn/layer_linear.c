/*
 * layer_linear.c — the Linear layer: y = x W^T + b, W [out, in], b [out].
 * iarg: [0] in_features, [1] out_features, [2] has bias.
 */
#include <stdio.h>

#include "nn/module.h"

static pf_tensor *linear_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_linear(ctx, x, pf_module_local(m, "weight"), pf_module_local(m, "bias"));
}

static void linear_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "Linear(in_features=%lld, out_features=%lld, bias=%s)", (long long)m->iarg[0],
             (long long)m->iarg[1], m->iarg[2] ? "True" : "False");
}

static const pf_module_ops linear_ops = {"Linear", linear_forward, linear_describe};

pf_module *pf_nn_linear(pf_ctx *params, int64_t in_features, int64_t out_features, bool bias)
{
    if (in_features <= 0 || out_features <= 0)
        return pf_fail("pf_nn_linear: sizes must be positive (got %lld, %lld)", (long long)in_features,
                       (long long)out_features);
    pf_module *m = pf_module_new(params, &linear_ops);
    if (!m)
        return NULL;
    m->iarg[0] = in_features;
    m->iarg[1] = out_features;
    m->iarg[2] = bias;
    if (!pf_module_add(m, "weight", pf_init_uniform_fan_in(params, in_features, PF_DIMS(out_features, in_features)),
                       true))
        return NULL;
    if (bias && !pf_module_add(m, "bias", pf_init_uniform_fan_in(params, in_features, PF_DIMS(out_features)), true))
        return NULL;
    return m;
}
