/*
 * reduce.c — reductions: sum and mean (all, or over dimensions), sum_to
 * (the gradient of broadcasting), max and argmax along a dimension, and
 * variance and standard deviation.
 *
 * A reduction permutes the reduced dimensions to the end (a view, no copy)
 * and lets the kernel reduce the trailing ones. The backward of a sum
 * expands the gradient back over the reduced dimensions; that of max sends
 * it to the position of the maximum.
 */
#include <math.h>

#include "ops/ops_internal.h"

/* Reads and checks the dimension list; mask[d] is true for reduced dims.
 * ndims == 0 reduces every dimension. */
static bool reduced_mask(const char *op, const pf_tensor *t, int ndims, const int *dims, bool *mask)
{
    for (int i = 0; i < PF_MAX_DIMS; i++)
        mask[i] = ndims == 0;
    if (ndims > 0 && !dims) {
        pf_fail("%s: NULL dimension list", op);
        return false;
    }
    for (int i = 0; i < ndims; i++) {
        int d = pf_wrap_dim(op, dims[i], t->ndim);
        if (d < 0)
            return false;
        if (mask[d]) {
            pf_fail("%s: dimension %d is listed twice", op, d);
            return false;
        }
        mask[d] = true;
    }
    return true;
}

/* Shape of the result: reduced dims removed, or kept with size 1. */
static int reduced_shape(const pf_tensor *t, const bool *mask, bool keepdim, int64_t *shape)
{
    int nd = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (!mask[i])
            shape[nd++] = t->shape[i];
        else if (keepdim)
            shape[nd++] = 1;
    }
    return nd;
}

/* The kernel view of t with the reduced dimensions moved last. */
static pf_kview reduced_last(const pf_tensor *t, const bool *mask, int *nreduce)
{
    pf_kview v = pf_kview_of(t), p = v;
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < t->ndim; i++)
            if (mask[i] == (pass == 1)) {
                p.shape[k] = v.shape[i];
                p.stride[k] = v.stride[i];
                k++;
            }
    *nreduce = 0;
    for (int i = 0; i < t->ndim; i++)
        *nreduce += mask[i];
    return p;
}

/* ---- sum ---- */

/* Backward of a sum: the gradient, reshaped to keep the reduced dims as
 * size 1, expanded back to the input's shape. */
static bool sum_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0];
    int64_t kept[PF_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        kept[i] = n->iarg[i] ? 1 : x->shape[i];
    gin[0] = pf_expand(ctx, pf_reshape(ctx, g, x->ndim, kept), x->ndim, x->shape);
    return gin[0] != NULL;
}

pf_tensor *pf_sum_dims(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, bool keepdim)
{
    PF_REQUIRE(ctx, t);
    bool mask[PF_MAX_DIMS];
    if (!pf_check_float("pf_sum", t) || !reduced_mask("pf_sum", t, ndims, dims, mask))
        return NULL;
    int64_t shape[PF_MAX_DIMS];
    int nd = reduced_shape(t, mask, keepdim, shape);
    pf_tensor *out = pf_empty_on(ctx, t->dtype, t->device, nd, shape);
    if (!out)
        return NULL;
    int nreduce;
    pf_kview in = reduced_last(t, mask, &nreduce), o = pf_kview_of(out);
    if (!pf_backend_get(t->device)->sum_last(&o, &in, nreduce))
        return NULL;
    if (!pf_record(ctx, out, "pf_sum", sum_backward, 1, &t))
        return NULL;
    if (out->node)
        for (int i = 0; i < t->ndim; i++)
            out->node->iarg[i] = mask[i];
    return out;
}

pf_tensor *pf_sum(pf_ctx *ctx, pf_tensor *t) { return pf_sum_dims(ctx, t, 0, NULL, false); }

pf_tensor *pf_mean_dims(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, bool keepdim)
{
    PF_REQUIRE(ctx, t);
    bool mask[PF_MAX_DIMS];
    if (!reduced_mask("pf_mean", t, ndims, dims, mask))
        return NULL;
    int64_t count = 1;
    for (int i = 0; i < t->ndim; i++)
        if (mask[i])
            count *= t->shape[i];
    return pf_mul_scalar(ctx, pf_sum_dims(ctx, t, ndims, dims, keepdim), count ? 1.0 / (double)count : NAN);
}

pf_tensor *pf_mean(pf_ctx *ctx, pf_tensor *t) { return pf_mean_dims(ctx, t, 0, NULL, false); }

pf_tensor *pf_sum_to(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape)
{
    PF_REQUIRE(ctx, t);
    if (ndim > t->ndim)
        return pf_fail("pf_sum_to: cannot sum %d dimensions to %d", t->ndim, ndim);
    int dims[PF_MAX_DIMS], nd = 0;
    int lead = t->ndim - ndim;
    for (int i = 0; i < t->ndim; i++) {
        if (i < lead) {
            dims[nd++] = i;
        } else if (shape[i - lead] == 1 && t->shape[i] != 1) {
            dims[nd++] = i;
        } else if (shape[i - lead] != t->shape[i]) {
            char s[128], d[128];
            return pf_fail("pf_sum_to: %s does not broadcast to %s", pf_dims_str(ndim, shape, d, sizeof d),
                           pf_shape_str(t, s, sizeof s));
        }
    }
    if (nd == 0)
        return t;
    return pf_reshape(ctx, pf_sum_dims(ctx, t, nd, dims, true), ndim, shape);
}

/* ---- max ---- */

/* iarg[0]: the dimension; saved[0]: indices with the dimension kept. */
static bool max_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0], *idx = n->saved[0];
    int dim = (int)n->iarg[0];
    pf_tensor *dx = pf_zeros_like(ctx, x);
    pf_tensor *gk = pf_contiguous(ctx, pf_reshape(ctx, g, idx->ndim, idx->shape));
    if (!dx || !gk)
        return false;
    if (!pf_backend_get(x->device)->scatter_add(x->dtype, pf_tensor_data(dx), pf_tensor_data(gk),
                                                pf_tensor_data(idx), 1, pf_split_at(x, dim)))
        return false;
    gin[0] = dx;
    return true;
}

pf_tensor *pf_max_dim(pf_ctx *ctx, pf_tensor *t, int dim, bool keepdim, pf_tensor **indices)
{
    if (indices)
        *indices = NULL;
    PF_REQUIRE(ctx, t);
    if (!pf_check_float("pf_max_dim", t))
        return NULL;
    int d = pf_wrap_dim("pf_max_dim", dim, t->ndim);
    if (d < 0)
        return NULL;
    if (t->ndim > 0 && t->shape[d] == 0)
        return pf_fail("pf_max_dim: dimension %d is empty", d);
    bool mask[PF_MAX_DIMS] = {false};
    if (t->ndim > 0)
        mask[d] = true;
    int64_t shape[PF_MAX_DIMS];
    int nd = reduced_shape(t, mask, true, shape);
    pf_tensor *values = pf_empty_on(ctx, t->dtype, t->device, nd, shape);
    pf_tensor *idx = pf_empty_on(ctx, PF_I64, t->device, nd, shape);
    if (!values || !idx)
        return NULL;
    int nreduce;
    pf_kview in = reduced_last(t, mask, &nreduce), v = pf_kview_of(values), ix = pf_kview_of(idx);
    if (t->ndim == 0) {
        in.ndim = 1;
        in.shape[0] = 1;
        in.stride[0] = 1;
    }
    if (!pf_backend_get(t->device)->max_last(&v, &ix, &in))
        return NULL;
    if (!pf_record(ctx, values, "pf_max_dim", max_backward, 1, &t))
        return NULL;
    if (values->node) {
        values->node->iarg[0] = d;
        values->node->saved[0] = idx;
    }
    if (!keepdim && t->ndim > 0) {
        values = pf_squeeze(ctx, values, d);
        idx = pf_squeeze(ctx, idx, d);
    }
    if (indices)
        *indices = idx;
    return values;
}

pf_tensor *pf_argmax(pf_ctx *ctx, pf_tensor *t, int dim, bool keepdim)
{
    pf_tensor *idx = NULL;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *values = pf_max_dim(ctx, t, dim, keepdim, &idx);
    pf_set_grad_enabled(was);
    return values ? idx : NULL;
}

/* ---- variance and standard deviation (composed of recorded ops) ---- */

pf_tensor *pf_var(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, int correction, bool keepdim)
{
    PF_REQUIRE(ctx, t);
    bool mask[PF_MAX_DIMS];
    if (!reduced_mask("pf_var", t, ndims, dims, mask))
        return NULL;
    int64_t count = 1;
    for (int i = 0; i < t->ndim; i++)
        if (mask[i])
            count *= t->shape[i];
    double denom = (double)(count - correction);
    pf_tensor *centered = pf_sub(ctx, t, pf_mean_dims(ctx, t, ndims, dims, true));
    pf_tensor *ss = pf_sum_dims(ctx, pf_mul(ctx, centered, centered), ndims, dims, keepdim);
    return pf_mul_scalar(ctx, ss, denom > 0 ? 1.0 / denom : NAN);
}

pf_tensor *pf_std(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, int correction, bool keepdim)
{
    return pf_sqrt(ctx, pf_var(ctx, t, ndims, dims, correction, keepdim));
}
