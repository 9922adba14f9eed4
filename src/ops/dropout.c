/*
 * dropout.c — inverted dropout: in training, each element is kept with
 * probability 1 - p and scaled by 1/(1-p), or zeroed.
 *
 * The mask is drawn on the CPU from the default generator (one uniform
 * double per element, in row-major order: an element is dropped when its
 * draw is below p), holds 0 or 1/(1-p), and multiplies x through pf_mul,
 * whose backward sends the gradient through the kept elements only, scaled
 * the same way. p = 0, or evaluation, returns x itself.
 */
#include "ops/ops_internal.h"

/* 0 or 1/(1-p) for each element of x, from the default generator. */
static pf_tensor *dropout_mask(pf_ctx *ctx, const pf_tensor *x, double p)
{
    pf_tensor *mask = pf_empty_on(ctx, x->dtype, PF_CPU, x->ndim, x->shape);
    if (!mask)
        return NULL;
    pf_rng *rng = pf_default_rng();
    int64_t count = pf_numel(mask);
    double scale = 1.0 / (1.0 - p);
    if (x->dtype == PF_F32) {
        float *m = pf_tensor_data(mask);
        for (int64_t i = 0; i < count; i++)
            m[i] = pf_rng_uniform(rng) < p ? 0.0f : (float)scale;
    } else {
        double *m = pf_tensor_data(mask);
        for (int64_t i = 0; i < count; i++)
            m[i] = pf_rng_uniform(rng) < p ? 0.0 : scale;
    }
    return mask;
}

pf_tensor *pf_dropout(pf_ctx *ctx, pf_tensor *x, double p, bool training)
{
    PF_REQUIRE(ctx, x);
    if (!(p >= 0 && p < 1))
        return pf_fail("pf_dropout: p = %g must lie in [0, 1)", p);
    if (!pf_check_float("pf_dropout", x))
        return NULL;
    if (!training || p == 0)
        return x;
    if (x->device != PF_CPU)
        return pf_fail("pf_dropout: only CPU tensors are supported (the mask is drawn on the CPU)");
    return pf_mul(ctx, x, dropout_mask(ctx, x, p));
}
