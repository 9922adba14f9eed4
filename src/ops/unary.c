/*
 * unary.c — elementwise ops of one tensor: neg, pow, exp, log, sqrt, abs,
 * tanh, sigmoid, relu, clamp, leaky relu, and adding or multiplying a
 * scalar. One forward and one backward serve them all: the kernels know
 * each map f and its derivative (dx = dy * f'(x), written with y = f(x)
 * where that is simpler, as for exp, tanh and sigmoid).
 */
#include "ops/ops_internal.h"

static bool unary_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = pf_contiguous(ctx, n->in[0]);
    pf_tensor *dy = pf_contiguous(ctx, g);
    pf_tensor *dx = pf_empty_like(ctx, n->in[0]);
    if (!x || !dy || !dx)
        return false;
    pf_kview vdx = pf_kview_of(dx), vdy = pf_kview_of(dy), vx = pf_kview_of(x), vy = pf_kview_of(n->out);
    if (!pf_backend_get(dx->device)->unary_backward((pf_unary_op)n->iarg[0], &vdx, &vdy, &vx, &vy, n->farg[0],
                                                    n->farg[1]))
        return false;
    gin[0] = dx;
    return true;
}

/* Forward of every unary op: out = f(t), recorded with f's code and
 * parameters so that unary_backward can differentiate it. */
pf_tensor *pf_unary_forward(pf_ctx *ctx, const char *name, pf_unary_op op, pf_tensor *t, double p0, double p1)
{
    PF_REQUIRE_AS(name, ctx, t);
    if (!pf_check_float(name, t))
        return NULL;
    pf_tensor *out = pf_empty_like(ctx, t);
    if (!out)
        return NULL;
    pf_kview o = pf_kview_of(out), x = pf_kview_of(t);
    if (!pf_backend_get(t->device)->unary(op, &o, &x, p0, p1))
        return NULL;
    if (!pf_record(ctx, out, name, unary_backward, 1, &t))
        return NULL;
    if (out->node) {
        out->node->iarg[0] = op;
        out->node->farg[0] = p0;
        out->node->farg[1] = p1;
    }
    return out;
}

pf_tensor *pf_neg(pf_ctx *ctx, pf_tensor *t) { return pf_unary_forward(ctx, "pf_neg", PF_UNARY_NEG, t, 0, 0); }
pf_tensor *pf_exp(pf_ctx *ctx, pf_tensor *t) { return pf_unary_forward(ctx, "pf_exp", PF_UNARY_EXP, t, 0, 0); }
pf_tensor *pf_log(pf_ctx *ctx, pf_tensor *t) { return pf_unary_forward(ctx, "pf_log", PF_UNARY_LOG, t, 0, 0); }
pf_tensor *pf_sqrt(pf_ctx *ctx, pf_tensor *t) { return pf_unary_forward(ctx, "pf_sqrt", PF_UNARY_SQRT, t, 0, 0); }
pf_tensor *pf_abs(pf_ctx *ctx, pf_tensor *t) { return pf_unary_forward(ctx, "pf_abs", PF_UNARY_ABS, t, 0, 0); }
pf_tensor *pf_tanh(pf_ctx *ctx, pf_tensor *t) { return pf_unary_forward(ctx, "pf_tanh", PF_UNARY_TANH, t, 0, 0); }
pf_tensor *pf_relu(pf_ctx *ctx, pf_tensor *t) { return pf_unary_forward(ctx, "pf_relu", PF_UNARY_RELU, t, 0, 0); }

pf_tensor *pf_sigmoid(pf_ctx *ctx, pf_tensor *t)
{
    return pf_unary_forward(ctx, "pf_sigmoid", PF_UNARY_SIGMOID, t, 0, 0);
}

pf_tensor *pf_pow(pf_ctx *ctx, pf_tensor *t, double exponent)
{
    return pf_unary_forward(ctx, "pf_pow", PF_UNARY_POW, t, exponent, 0);
}

pf_tensor *pf_clamp(pf_ctx *ctx, pf_tensor *t, double low, double high)
{
    if (low > high)
        return pf_fail("pf_clamp: low %g is above high %g", low, high);
    return pf_unary_forward(ctx, "pf_clamp", PF_UNARY_CLAMP, t, low, high);
}

pf_tensor *pf_add_scalar(pf_ctx *ctx, pf_tensor *t, double s)
{
    return pf_unary_forward(ctx, "pf_add_scalar", PF_UNARY_ADD_SCALAR, t, s, 0);
}

pf_tensor *pf_mul_scalar(pf_ctx *ctx, pf_tensor *t, double s)
{
    return pf_unary_forward(ctx, "pf_mul_scalar", PF_UNARY_MUL_SCALAR, t, s, 0);
}
