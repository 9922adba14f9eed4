/*
 * binary.c — elementwise ops of two tensors with broadcasting: add, sub,
 * mul, div; forward and backward side by side. The backward of a broadcast
 * operand sums the gradient over the dimensions it was stretched along
 * (pf_sum_to).
 */
#include "ops/ops_internal.h"

pf_tensor *pf_binary_raw(pf_ctx *ctx, const char *name, pf_binary_op op, pf_tensor *a, pf_tensor *b)
{
    PF_REQUIRE_AS(name, ctx, a, b);
    if (!pf_check_float(name, a) || !pf_check_float(name, b) || !pf_check_same_kind(name, a, b))
        return NULL;
    int ndim;
    int64_t shape[PF_MAX_DIMS];
    if (!pf_broadcast_shapes(name, a, b, &ndim, shape))
        return NULL;
    pf_tensor *out = pf_empty_on(ctx, a->dtype, a->device, ndim, shape);
    if (!out)
        return NULL;
    pf_kview o = pf_kview_of(out);
    pf_kview va = pf_kview_broadcast(a, ndim, shape), vb = pf_kview_broadcast(b, ndim, shape);
    if (!pf_backend_get(out->device)->binary(op, &o, &va, &vb))
        return NULL;
    return out;
}

static pf_tensor *reduce_to(pf_ctx *ctx, pf_tensor *g, const pf_tensor *like)
{
    return pf_sum_to(ctx, g, like->ndim, like->shape);
}

/* ---- add: d(a+b) = (g, g) ---- */
static bool add_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    gin[0] = n->in[0]->requires_grad ? reduce_to(ctx, g, n->in[0]) : NULL;
    gin[1] = n->in[1]->requires_grad ? reduce_to(ctx, g, n->in[1]) : NULL;
    return (!n->in[0]->requires_grad || gin[0]) && (!n->in[1]->requires_grad || gin[1]);
}

pf_tensor *pf_add(pf_ctx *ctx, pf_tensor *a, pf_tensor *b)
{
    pf_tensor *out = pf_binary_raw(ctx, "pf_add", PF_BINARY_ADD, a, b);
    if (!out || !pf_record(ctx, out, "pf_add", add_backward, 2, (pf_tensor *[]){a, b}))
        return NULL;
    return out;
}

/* ---- sub: d(a-b) = (g, -g) ---- */
static bool sub_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    gin[0] = n->in[0]->requires_grad ? reduce_to(ctx, g, n->in[0]) : NULL;
    gin[1] = n->in[1]->requires_grad ? pf_neg(ctx, reduce_to(ctx, g, n->in[1])) : NULL;
    return (!n->in[0]->requires_grad || gin[0]) && (!n->in[1]->requires_grad || gin[1]);
}

pf_tensor *pf_sub(pf_ctx *ctx, pf_tensor *a, pf_tensor *b)
{
    pf_tensor *out = pf_binary_raw(ctx, "pf_sub", PF_BINARY_SUB, a, b);
    if (!out || !pf_record(ctx, out, "pf_sub", sub_backward, 2, (pf_tensor *[]){a, b}))
        return NULL;
    return out;
}

/* ---- mul: d(a*b) = (g*b, g*a) ---- */
static bool mul_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *a = n->in[0], *b = n->in[1];
    gin[0] = a->requires_grad ? reduce_to(ctx, pf_mul(ctx, g, b), a) : NULL;
    gin[1] = b->requires_grad ? reduce_to(ctx, pf_mul(ctx, g, a), b) : NULL;
    return (!a->requires_grad || gin[0]) && (!b->requires_grad || gin[1]);
}

pf_tensor *pf_mul(pf_ctx *ctx, pf_tensor *a, pf_tensor *b)
{
    pf_tensor *out = pf_binary_raw(ctx, "pf_mul", PF_BINARY_MUL, a, b);
    if (!out || !pf_record(ctx, out, "pf_mul", mul_backward, 2, (pf_tensor *[]){a, b}))
        return NULL;
    return out;
}

/* ---- div: d(a/b) = (g/b, -g*(a/b)/b) ---- */
static bool div_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *a = n->in[0], *b = n->in[1];
    pf_tensor *g_over_b = pf_div(ctx, g, b);
    gin[0] = a->requires_grad ? reduce_to(ctx, g_over_b, a) : NULL;
    gin[1] = b->requires_grad ? pf_neg(ctx, reduce_to(ctx, pf_mul(ctx, g_over_b, n->out), b)) : NULL;
    return (!a->requires_grad || gin[0]) && (!b->requires_grad || gin[1]);
}

pf_tensor *pf_div(pf_ctx *ctx, pf_tensor *a, pf_tensor *b)
{
    pf_tensor *out = pf_binary_raw(ctx, "pf_div", PF_BINARY_DIV, a, b);
    if (!out || !pf_record(ctx, out, "pf_div", div_backward, 2, (pf_tensor *[]){a, b}))
        return NULL;
    return out;
}
