/*
 * activations.c — activation functions of the neural-network section that
 * are not plain elementwise ops of section 6, all unary maps of unary.c:
 *
 *   leaky ReLU    PF_UNARY_LEAKY_RELU: x > 0 ? x : slope * x, gradient 1 or slope;
 *   guided ReLU   PF_UNARY_GUIDED_RELU: max(x, 0), whose backward lets a
 *                 gradient through only where x > 0 (ReLU's rule) and the
 *                 gradient itself is > 0 (the deconvnet's rule): guided
 *                 backpropagation (Springenberg et al. 2015).
 */
#include "ops/ops_internal.h"

pf_tensor *pf_leaky_relu(pf_ctx *ctx, pf_tensor *x, double slope)
{
    return pf_unary_forward(ctx, "pf_leaky_relu", PF_UNARY_LEAKY_RELU, x, slope, 0);
}

pf_tensor *pf_guided_relu(pf_ctx *ctx, pf_tensor *x)
{
    return pf_unary_forward(ctx, "pf_guided_relu", PF_UNARY_GUIDED_RELU, x, 0, 0);
}
