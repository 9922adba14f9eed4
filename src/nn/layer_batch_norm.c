/*
 * layer_batch_norm.c — BatchNorm1d and BatchNorm2d with PyTorch's defaults:
 * weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0
 * (int64, counted in training), eps 1e-5, momentum 0.1.
 * iarg: [0] features, [1] expected input dims (2 or 3 for 1d, 4 for 2d).
 * farg: [0] eps, [1] momentum.
 */
#include <stdio.h>

#include "nn/module.h"

static pf_tensor *batch_norm_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    bool is_2d = m->iarg[1] == 4;
    if (is_2d ? x->ndim != 4 : (x->ndim != 2 && x->ndim != 3)) {
        char s[128];
        return pf_fail("%s: expected a %s input, got %s", m->ops->kind, is_2d ? "4-D [N,C,H,W]" : "2-D or 3-D",
                       pf_shape_str(x, s, sizeof s));
    }
    if (m->training) {
        pf_tensor *count = pf_module_local(m, "num_batches_tracked");
        int64_t *c = pf_data_i64(count);
        if (c)
            (*c)++;
    }
    pf_tensor *in = x;
    if (x->ndim == 3) /* [N, C, L]: normalise per channel over N and L */
        in = pf_unsqueeze(ctx, x, 3);
    pf_tensor *y = pf_batch_norm(ctx, in, pf_module_local(m, "running_mean"), pf_module_local(m, "running_var"),
                                 pf_module_local(m, "weight"), pf_module_local(m, "bias"), m->training, m->farg[1],
                                 m->farg[0]);
    return x->ndim == 3 ? pf_squeeze(ctx, y, 3) : y;
}

static void batch_norm_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "%s(%lld, eps=%g, momentum=%g, affine=True, track_running_stats=True)", m->ops->kind,
             (long long)m->iarg[0], m->farg[0], m->farg[1]);
}

static const pf_module_ops batch_norm1d_ops = {"BatchNorm1d", batch_norm_forward, batch_norm_describe};
static const pf_module_ops batch_norm2d_ops = {"BatchNorm2d", batch_norm_forward, batch_norm_describe};

static pf_module *batch_norm_layer(pf_ctx *params, const pf_module_ops *ops, int64_t features, int ndim)
{
    if (features <= 0)
        return pf_fail("pf_nn_%s: the number of features must be positive (got %lld)",
                       ndim == 4 ? "batch_norm2d" : "batch_norm1d", (long long)features);
    pf_module *m = pf_module_new(params, ops);
    if (!m)
        return NULL;
    m->iarg[0] = features;
    m->iarg[1] = ndim;
    m->farg[0] = 1e-5;
    m->farg[1] = 0.1;
    bool ok = pf_module_add(m, "weight", pf_ones(params, PF_DIMS(features)), true) &&
              pf_module_add(m, "bias", pf_zeros(params, PF_DIMS(features)), true) &&
              pf_module_add(m, "running_mean", pf_zeros(params, PF_DIMS(features)), false) &&
              pf_module_add(m, "running_var", pf_ones(params, PF_DIMS(features)), false) &&
              pf_module_add(m, "num_batches_tracked", pf_from_i64(params, (int64_t[]){0}, 0, NULL), false);
    return ok ? m : NULL;
}

pf_module *pf_nn_batch_norm1d(pf_ctx *params, int64_t features)
{
    return batch_norm_layer(params, &batch_norm1d_ops, features, 2);
}

pf_module *pf_nn_batch_norm2d(pf_ctx *params, int64_t channels)
{
    return batch_norm_layer(params, &batch_norm2d_ops, channels, 4);
}
