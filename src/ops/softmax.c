/*
 * softmax.c — softmax and log-softmax along a dimension, computed stably
 * (the maximum is subtracted first), with their backward from the output:
 * softmax: dx = y (dy - sum dy*y); log-softmax: dx = dy - exp(y) sum dy.
 */
#include "ops/ops_internal.h"

/* iarg[0]: the dimension; iarg[1]: 1 for log-softmax. */
static bool softmax_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *y = n->out, *dy = pf_contiguous(ctx, g);
    pf_tensor *dx = pf_empty_like(ctx, y);
    if (!dy || !dx)
        return false;
    if (!pf_backend_get(y->device)->softmax_backward(n->iarg[1], y->dtype, pf_tensor_data(dx), pf_tensor_data(dy),
                                                     pf_tensor_data(y), pf_split_at(y, (int)n->iarg[0])))
        return false;
    gin[0] = dx;
    return true;
}

static pf_tensor *softmax_op(pf_ctx *ctx, pf_tensor *t, int dim, bool log, const char *name)
{
    PF_REQUIRE_AS(name, ctx, t);
    if (!pf_check_float(name, t))
        return NULL;
    int d = pf_wrap_dim(name, dim, t->ndim);
    if (d < 0)
        return NULL;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *x = pf_contiguous(ctx, t);
    pf_set_grad_enabled(was);
    pf_tensor *out = x ? pf_empty_like(ctx, x) : NULL;
    if (!out)
        return NULL;
    if (!pf_backend_get(t->device)->softmax(log, t->dtype, pf_tensor_data(out), pf_tensor_data(x),
                                            pf_split_at(x, d)))
        return NULL;
    if (!pf_record(ctx, out, name, softmax_backward, 1, &t))
        return NULL;
    if (out->node) {
        out->node->iarg[0] = d;
        out->node->iarg[1] = log;
    }
    return out;
}

pf_tensor *pf_softmax(pf_ctx *ctx, pf_tensor *t, int dim) { return softmax_op(ctx, t, dim, false, "pf_softmax"); }

pf_tensor *pf_log_softmax(pf_ctx *ctx, pf_tensor *t, int dim)
{
    return softmax_op(ctx, t, dim, true, "pf_log_softmax");
}
