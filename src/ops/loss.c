/*
 * loss.c — the losses of torch.nn, each giving per-element losses that a
 * reduction then averages, sums or returns as they are (none):
 *
 *   mse                (input - target)^2, composed of recorded ops
 *   cross_entropy      logsumexp(x_i) - x_i[t_i], one fused kernel (the
 *                      softmax is kept for the backward: dx = p - onehot)
 *   nll_loss           -logp_i[t_i], a gather of the targets' entries
 *   bce                -(t log p + (1-t) log(1-p)), logs clamped at -100
 *   bce_with_logits    max(x,0) - x t + log(1 + e^-|x|)
 *
 * The two BCEs compute their forward from existing ops with recording off
 * and record one node whose backward is PyTorch's closed form, also made
 * of ops: for bce, dp = (p - t) / max(p(1-p), 1e-12) and dt = log(1-p) -
 * log p (clamped logs), finite even where p is exactly 0 or 1, where the
 * chain rule through log would give 0/0; for bce_with_logits,
 * dx = sigmoid(x) - t and dt = -x.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops_internal.h"

static bool check_reduction(const char *op, pf_reduction reduction)
{
    if (reduction != PF_REDUCTION_MEAN && reduction != PF_REDUCTION_SUM && reduction != PF_REDUCTION_NONE) {
        pf_fail("%s: unknown reduction %d", op, (int)reduction);
        return false;
    }
    return true;
}

static pf_tensor *reduce_losses(pf_ctx *ctx, pf_tensor *losses, pf_reduction reduction)
{
    if (reduction == PF_REDUCTION_MEAN)
        return pf_mean(ctx, losses);
    if (reduction == PF_REDUCTION_SUM)
        return pf_sum(ctx, losses);
    return losses;
}

/* Input and target of an elementwise loss: float, same dtype, device and
 * shape. */
static bool check_elementwise_pair(const char *op, const pf_tensor *input, const pf_tensor *target,
                                   pf_reduction reduction)
{
    if (!check_reduction(op, reduction) || !pf_check_float(op, input) || !pf_check_float(op, target) ||
        !pf_check_same_kind(op, input, target))
        return false;
    if (!pf_same_shape(input, target)) {
        char a[128], b[128];
        pf_fail("%s: input %s and target %s must have the same shape", op, pf_shape_str(input, a, sizeof a),
                pf_shape_str(target, b, sizeof b));
        return false;
    }
    return true;
}

/* Scores [N, C] (float) and class targets [N] (int64). */
static bool check_class_pair(const char *op, const pf_tensor *scores, const pf_tensor *target,
                             pf_reduction reduction)
{
    if (!check_reduction(op, reduction) || !pf_check_float(op, scores))
        return false;
    char a[128], b[128];
    if (scores->ndim != 2) {
        pf_fail("%s: input %s must be [N, C]", op, pf_shape_str(scores, a, sizeof a));
        return false;
    }
    if (target->dtype != PF_I64) {
        pf_fail("%s: target must hold int64 class indices, got %s", op, pf_dtype_name(target->dtype));
        return false;
    }
    if (target->ndim != 1 || target->shape[0] != scores->shape[0]) {
        pf_fail("%s: input %s and target %s: target must be [%lld]", op, pf_shape_str(scores, a, sizeof a),
                pf_shape_str(target, b, sizeof b), (long long)scores->shape[0]);
        return false;
    }
    if (target->device != scores->device) {
        pf_fail("%s: input and target are on different devices", op);
        return false;
    }
    return true;
}

/* ---- mse ---- */

pf_tensor *pf_mse_loss(pf_ctx *ctx, pf_tensor *input, pf_tensor *target, pf_reduction reduction)
{
    PF_REQUIRE(ctx, input, target);
    if (!check_elementwise_pair("pf_mse_loss", input, target, reduction))
        return NULL;
    return reduce_losses(ctx, pf_pow(ctx, pf_sub(ctx, input, target), 2), reduction);
}

/* ---- cross-entropy ---- */

/* saved[0]: the softmax; saved[1]: the contiguous targets. */
static bool cross_entropy_backward(pf_ctx *ctx, pf_node *node, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *prob = node->saved[0], *target = node->saved[1];
    pf_tensor *dloss = pf_contiguous(ctx, g), *dlogits = pf_empty_like(ctx, prob);
    if (!dloss || !dlogits)
        return false;
    if (!pf_backend_get(prob->device)->cross_entropy_backward(prob->dtype, prob->shape[0], prob->shape[1],
                                                              pf_tensor_data(dlogits), pf_tensor_data(prob),
                                                              pf_tensor_data(target), pf_tensor_data(dloss)))
        return false;
    gin[0] = dlogits;
    return true;
}

pf_tensor *pf_cross_entropy(pf_ctx *ctx, pf_tensor *logits, const pf_tensor *target, pf_reduction reduction)
{
    PF_REQUIRE(ctx, logits, target);
    if (!check_class_pair("pf_cross_entropy", logits, target, reduction))
        return NULL;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *x = pf_contiguous(ctx, logits), *t = pf_contiguous(ctx, (pf_tensor *)target);
    pf_set_grad_enabled(was);
    if (!x || !t)
        return NULL;
    int64_t n = x->shape[0], c = x->shape[1];
    pf_tensor *losses = pf_empty_on(ctx, x->dtype, x->device, PF_DIMS(n));
    pf_tensor *prob = pf_empty_like(ctx, x);
    if (!losses || !prob)
        return NULL;
    if (!pf_backend_get(x->device)->cross_entropy(x->dtype, n, c, pf_tensor_data(x), pf_tensor_data(t),
                                                  pf_tensor_data(losses), pf_tensor_data(prob)))
        return NULL;
    if (!pf_record(ctx, losses, "pf_cross_entropy", cross_entropy_backward, 1, &logits))
        return NULL;
    if (losses->node) {
        losses->node->saved[0] = prob;
        losses->node->saved[1] = t;
    }
    return reduce_losses(ctx, losses, reduction);
}

/* ---- nll ---- */

pf_tensor *pf_nll_loss(pf_ctx *ctx, pf_tensor *logp, const pf_tensor *target, pf_reduction reduction)
{
    PF_REQUIRE(ctx, logp, target);
    if (!check_class_pair("pf_nll_loss", logp, target, reduction))
        return NULL;
    int64_t n = logp->shape[0];
    bool clean = pf_ok();
    pf_tensor *picked = pf_gather(ctx, logp, 1, pf_reshape(ctx, (pf_tensor *)target, PF_DIMS(n, 1)));
    if (!picked) {
        if (clean && pf_error()) {
            /* Say which op was called: the gather's message names the bad
             * target and the number of classes. */
            char why[512], a[128];
            snprintf(why, sizeof why, "%s", pf_error());
            pf_error_clear();
            pf_fail("pf_nll_loss: input %s: bad target (%s)", pf_shape_str(logp, a, sizeof a), why);
        }
        return NULL;
    }
    return reduce_losses(ctx, pf_neg(ctx, pf_reshape(ctx, picked, PF_DIMS(n))), reduction);
}

/* ---- bce ---- */

/* saved[0], saved[1]: the clamped log p and log(1-p) of the forward. */
static bool bce_backward(pf_ctx *ctx, pf_node *node, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *p = node->in[0], *t = node->in[1];
    if (p->requires_grad) {
        pf_tensor *denominator = pf_clamp(ctx, pf_mul(ctx, p, pf_add_scalar(ctx, pf_neg(ctx, p), 1)), 1e-12,
                                          INFINITY);
        gin[0] = pf_mul(ctx, g, pf_div(ctx, pf_sub(ctx, p, t), denominator));
        if (!gin[0])
            return false;
    }
    if (t->requires_grad) {
        gin[1] = pf_mul(ctx, g, pf_sub(ctx, node->saved[1], node->saved[0]));
        if (!gin[1])
            return false;
    }
    return true;
}

/* Probabilities outside [0, 1] (logits passed by mistake, most often)
 * would give NaN: refuse them, as PyTorch does. */
static bool check_probabilities(pf_ctx *ctx, pf_tensor *prob)
{
    if (pf_numel(prob) == 0)
        return true;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *flat = pf_reshape(ctx, prob, PF_DIMS(-1));
    double high = pf_item(pf_max_dim(ctx, flat, 0, false, NULL));
    double low = -pf_item(pf_max_dim(ctx, pf_neg(ctx, flat), 0, false, NULL));
    pf_set_grad_enabled(was);
    if (isnan(low) || isnan(high))
        return pf_ok();
    if (low < 0 || high > 1) {
        char a[128];
        pf_fail("pf_bce_loss: prob %s: values must lie in [0, 1], found %g (probabilities, not logits: see "
                "pf_bce_with_logits)",
                pf_shape_str(prob, a, sizeof a), low < 0 ? low : high);
        return false;
    }
    return true;
}

pf_tensor *pf_bce_loss(pf_ctx *ctx, pf_tensor *prob, pf_tensor *target, pf_reduction reduction)
{
    PF_REQUIRE(ctx, prob, target);
    if (!check_elementwise_pair("pf_bce_loss", prob, target, reduction) || !check_probabilities(ctx, prob))
        return NULL;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *log_p = pf_clamp(ctx, pf_log(ctx, prob), -100, INFINITY);
    pf_tensor *log_1mp = pf_clamp(ctx, pf_log(ctx, pf_add_scalar(ctx, pf_neg(ctx, prob), 1)), -100, INFINITY);
    /* -(t log p + (1-t) log(1-p)) = (t - 1) log(1-p) - t log p */
    pf_tensor *losses = pf_sub(ctx, pf_mul(ctx, pf_add_scalar(ctx, target, -1), log_1mp), pf_mul(ctx, target, log_p));
    pf_set_grad_enabled(was);
    if (!losses || !pf_record(ctx, losses, "pf_bce_loss", bce_backward, 2, (pf_tensor *[]){prob, target}))
        return NULL;
    if (losses->node) {
        losses->node->saved[0] = log_p;
        losses->node->saved[1] = log_1mp;
    }
    return reduce_losses(ctx, losses, reduction);
}

/* ---- bce with logits ---- */

static bool bce_with_logits_backward(pf_ctx *ctx, pf_node *node, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = node->in[0], *t = node->in[1];
    if (x->requires_grad) {
        gin[0] = pf_mul(ctx, g, pf_sub(ctx, pf_sigmoid(ctx, x), t));
        if (!gin[0])
            return false;
    }
    if (t->requires_grad) {
        gin[1] = pf_mul(ctx, g, pf_neg(ctx, x));
        if (!gin[1])
            return false;
    }
    return true;
}

pf_tensor *pf_bce_with_logits(pf_ctx *ctx, pf_tensor *logits, pf_tensor *target, pf_reduction reduction)
{
    PF_REQUIRE(ctx, logits, target);
    if (!check_elementwise_pair("pf_bce_with_logits", logits, target, reduction))
        return NULL;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *softplus_tail = pf_log(ctx, pf_add_scalar(ctx, pf_exp(ctx, pf_neg(ctx, pf_abs(ctx, logits))), 1));
    pf_tensor *losses = pf_add(ctx, pf_sub(ctx, pf_relu(ctx, logits), pf_mul(ctx, logits, target)), softplus_tail);
    pf_set_grad_enabled(was);
    if (!losses ||
        !pf_record(ctx, losses, "pf_bce_with_logits", bce_with_logits_backward, 2, (pf_tensor *[]){logits, target}))
        return NULL;
    return reduce_losses(ctx, losses, reduction);
}
