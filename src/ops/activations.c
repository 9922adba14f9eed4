/*
 * activations.c — activation functions of the neural-network section that
 * are not plain elementwise ops of section 6: leaky ReLU, a unary map of
 * unary.c (PF_UNARY_LEAKY_RELU: x > 0 ? x : slope * x, gradient 1 or slope).
 */
#include "ops/ops_internal.h"

pf_tensor *pf_leaky_relu(pf_ctx *ctx, pf_tensor *x, double slope)
{
    return pf_unary_forward(ctx, "pf_leaky_relu", PF_UNARY_LEAKY_RELU, x, slope, 0);
}
