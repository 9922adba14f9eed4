/*
 * batch_norm.c — batch normalisation over dimension 1 of x ([N, C] or
 * [N, C, H, W], seen by the kernels as contiguous [n, c, s] with s the
 * product of the dimensions after C), forward and backward.
 *
 * Training: each channel is normalised with its batch mean and biased
 * variance, and the running statistics (if given) move towards the batch's
 * in place, as PyTorch does:
 *   running_mean = (1 - momentum) running_mean + momentum mean
 *   running_var  = (1 - momentum) running_var  + momentum var * M/(M-1)
 * with M = N*H*W values per channel (the unbiased variance).
 * Evaluation: the running statistics normalise, and the map is affine.
 * Backward (kernel batch_norm_backward): gradients of x, weight and bias;
 * in training dx includes the terms through the batch mean and variance.
 */
#include <math.h>
#include <stdio.h>

#include "ops/ops_internal.h"

/* Saved by the forward: the contiguous x, the [C] mean and invstd used,
 * and the contiguous weight (or NULL). iarg[0]: training. */
enum { SAVED_X, SAVED_MEAN, SAVED_INVSTD, SAVED_WEIGHT };

typedef struct bn_geom {
    int64_t n, c, s;
} bn_geom;

static bn_geom geom_of(const pf_tensor *x)
{
    return (bn_geom){x->shape[0], x->shape[1], pf_shape_numel(x->ndim - 2, x->shape + 2)};
}

static void *data_or_null(const pf_tensor *t) { return t ? pf_tensor_data(t) : NULL; }

static bool batch_norm_backward(pf_ctx *ctx, pf_node *node, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = node->saved[SAVED_X], *weight = node->in[1], *bias = node->in[2];
    pf_tensor *dy = pf_contiguous(ctx, g), *dx = pf_empty_like(ctx, x);
    pf_tensor *dweight = weight && weight->requires_grad ? pf_empty_like(ctx, weight) : NULL;
    pf_tensor *dbias = bias && bias->requires_grad ? pf_empty_like(ctx, bias) : NULL;
    if (!dy || !dx || (weight && weight->requires_grad && !dweight) || (bias && bias->requires_grad && !dbias))
        return false;
    bn_geom d = geom_of(x);
    if (!pf_backend_get(x->device)->batch_norm_backward(
            x->dtype, d.n, d.c, d.s, pf_tensor_data(dx), data_or_null(dweight), data_or_null(dbias),
            pf_tensor_data(dy), pf_tensor_data(x), pf_tensor_data(node->saved[SAVED_MEAN]),
            pf_tensor_data(node->saved[SAVED_INVSTD]), data_or_null(node->saved[SAVED_WEIGHT]),
            node->iarg[0] != 0))
        return false;
    gin[0] = dx;
    gin[1] = dweight;
    gin[2] = dbias;
    return true;
}

/* A per-channel argument must be [C] of x's dtype and device. */
static bool check_channel_tensor(const pf_tensor *x, const pf_tensor *t, const char *what)
{
    if (!t)
        return true;
    if (!pf_check_float("pf_batch_norm", t) || !pf_check_same_kind("pf_batch_norm", x, t))
        return false;
    if (t->ndim != 1 || t->shape[0] != x->shape[1]) {
        char xs[128], ts[128];
        pf_fail("pf_batch_norm: x %s: %s is %s, expected [%lld] (one value per channel)",
                pf_shape_str(x, xs, sizeof xs), what, pf_shape_str(t, ts, sizeof ts), (long long)x->shape[1]);
        return false;
    }
    return true;
}

static bool check_arguments(const pf_tensor *x, const pf_tensor *running_mean, const pf_tensor *running_var,
                            const pf_tensor *weight, const pf_tensor *bias, bool training, double eps)
{
    char xs[128];
    if (!pf_check_float("pf_batch_norm", x))
        return false;
    if (x->ndim < 2) {
        pf_fail("pf_batch_norm: x %s: expected [N, C] or [N, C, H, W]", pf_shape_str(x, xs, sizeof xs));
        return false;
    }
    if (!check_channel_tensor(x, running_mean, "running_mean") ||
        !check_channel_tensor(x, running_var, "running_var") || !check_channel_tensor(x, weight, "weight") ||
        !check_channel_tensor(x, bias, "bias"))
        return false;
    if (!running_mean != !running_var) {
        pf_fail("pf_batch_norm: x %s: running_mean and running_var must be given together",
                pf_shape_str(x, xs, sizeof xs));
        return false;
    }
    if (!training && !running_mean) {
        pf_fail("pf_batch_norm: x %s: evaluation mode needs running_mean and running_var",
                pf_shape_str(x, xs, sizeof xs));
        return false;
    }
    if (!(eps >= 0)) {
        pf_fail("pf_batch_norm: eps = %g must be non-negative", eps);
        return false;
    }
    bn_geom d = geom_of(x);
    if (training && d.n * d.s <= 1) {
        pf_fail("pf_batch_norm: x %s: Expected more than 1 value per channel when training",
                pf_shape_str(x, xs, sizeof xs));
        return false;
    }
    return true;
}

/* Moves the running statistics towards the batch's (in place). The batch
 * variance is recovered from invstd: var = invstd^-2 - eps. */
static bool update_running_stats(pf_ctx *ctx, pf_tensor *running_mean, pf_tensor *running_var,
                                 pf_tensor *mean, pf_tensor *invstd, int64_t count, double momentum, double eps)
{
    pf_tensor *var = pf_clamp(ctx, pf_add_scalar(ctx, pf_pow(ctx, invstd, -2), -eps), 0, INFINITY);
    pf_tensor *unbiased = pf_mul_scalar(ctx, var, (double)count / (double)(count - 1));
    pf_tensor *new_mean =
        pf_add(ctx, pf_mul_scalar(ctx, running_mean, 1 - momentum), pf_mul_scalar(ctx, mean, momentum));
    pf_tensor *new_var =
        pf_add(ctx, pf_mul_scalar(ctx, running_var, 1 - momentum), pf_mul_scalar(ctx, unbiased, momentum));
    return new_mean && new_var && pf_copy_(running_mean, new_mean) && pf_copy_(running_var, new_var);
}

/* The [C] mean and invstd that normalise x: the batch's (updating the
 * running statistics) in training, else from the running statistics. */
static bool channel_stats(pf_ctx *ctx, pf_tensor *x, pf_tensor *running_mean, pf_tensor *running_var,
                          bool training, double momentum, double eps, pf_tensor **mean, pf_tensor **invstd)
{
    bn_geom d = geom_of(x);
    if (!training) {
        *mean = pf_contiguous(ctx, running_mean);
        *invstd = pf_pow(ctx, pf_add_scalar(ctx, running_var, eps), -0.5);
        return *mean && *invstd;
    }
    *mean = pf_empty_on(ctx, x->dtype, x->device, PF_DIMS(d.c));
    *invstd = pf_empty_on(ctx, x->dtype, x->device, PF_DIMS(d.c));
    if (!*mean || !*invstd)
        return false;
    if (!pf_backend_get(x->device)->batch_norm_stats(x->dtype, d.n, d.c, d.s, pf_tensor_data(x),
                                                     pf_tensor_data(*mean), pf_tensor_data(*invstd), eps))
        return false;
    return !running_mean ||
           update_running_stats(ctx, running_mean, running_var, *mean, *invstd, d.n * d.s, momentum, eps);
}

pf_tensor *pf_batch_norm(pf_ctx *ctx, pf_tensor *x, pf_tensor *running_mean, pf_tensor *running_var,
                         pf_tensor *weight, pf_tensor *bias, bool training, double momentum, double eps)
{
    PF_REQUIRE(ctx, x);
    if (!check_arguments(x, running_mean, running_var, weight, bias, training, eps))
        return NULL;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *xc = pf_contiguous(ctx, x);
    pf_tensor *wc = weight ? pf_contiguous(ctx, weight) : NULL;
    pf_tensor *bc = bias ? pf_contiguous(ctx, bias) : NULL;
    pf_tensor *mean = NULL, *invstd = NULL;
    bool ready = xc && (!weight || wc) && (!bias || bc) &&
                 channel_stats(ctx, xc, running_mean, running_var, training, momentum, eps, &mean, &invstd);
    pf_set_grad_enabled(was);
    pf_tensor *out = ready ? pf_empty_like(ctx, xc) : NULL;
    if (!out)
        return NULL;
    bn_geom d = geom_of(xc);
    if (!pf_backend_get(x->device)->batch_norm_apply(x->dtype, d.n, d.c, d.s, pf_tensor_data(out),
                                                     pf_tensor_data(xc), pf_tensor_data(mean),
                                                     pf_tensor_data(invstd), data_or_null(wc), data_or_null(bc)))
        return NULL;
    if (!pf_record(ctx, out, "pf_batch_norm", batch_norm_backward, 3, (pf_tensor *[]){x, weight, bias}))
        return NULL;
    if (out->node) {
        out->node->saved[SAVED_X] = xc;
        out->node->saved[SAVED_MEAN] = mean;
        out->node->saved[SAVED_INVSTD] = invstd;
        out->node->saved[SAVED_WEIGHT] = wc;
        out->node->iarg[0] = training;
    }
    return out;
}
