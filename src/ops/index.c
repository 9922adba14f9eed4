/*
 * index.c — indexing with int64 tensors: index_select (whole slices along a
 * dimension) and gather (single elements). Backward adds the gradient back
 * at the indexed positions (index_add, scatter_add), so repeated indices
 * accumulate.
 */
#include <stdio.h>

#include "ops/ops_internal.h"

static bool check_index_tensor(const char *op, const pf_tensor *t, const pf_tensor *index)
{
    if (index->dtype != PF_I64) {
        pf_fail("%s: indices must be int64, got %s", op, pf_dtype_name(index->dtype));
        return false;
    }
    if (index->device != t->device) {
        pf_fail("%s: the index is on another device", op);
        return false;
    }
    return true;
}

/* iarg[0]: dim; saved[0]: the contiguous index. */
static bool index_select_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0], *idx = n->saved[0];
    int dim = (int)n->iarg[0];
    pf_tensor *dx = pf_zeros_like(ctx, x), *gc = pf_contiguous(ctx, g);
    if (!dx || !gc)
        return false;
    if (!pf_backend_get(x->device)->index_add(x->dtype, pf_tensor_data(dx), pf_tensor_data(gc),
                                              pf_tensor_data(idx), pf_numel(idx), pf_split_at(x, dim)))
        return false;
    gin[0] = dx;
    return true;
}

pf_tensor *pf_index_select(pf_ctx *ctx, pf_tensor *t, int dim, const pf_tensor *index)
{
    PF_REQUIRE(ctx, t, index);
    if (!check_index_tensor("pf_index_select", t, index))
        return NULL;
    if (index->ndim > 1) {
        char s[128];
        return pf_fail("pf_index_select: the index must be 1-D, got %s", pf_shape_str(index, s, sizeof s));
    }
    if (t->ndim == 0)
        return pf_fail("pf_index_select: cannot index a 0-d tensor");
    int d = pf_wrap_dim("pf_index_select", dim, t->ndim);
    if (d < 0)
        return NULL;
    bool was = pf_set_grad_enabled(false);
    pf_tensor *src = pf_contiguous(ctx, t);
    pf_tensor *idx = pf_contiguous(ctx, (pf_tensor *)index);
    pf_set_grad_enabled(was);
    if (!src || !idx)
        return NULL;
    int64_t shape[PF_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        shape[i] = t->shape[i];
    shape[d] = pf_numel(idx);
    pf_tensor *out = pf_empty_on(ctx, t->dtype, t->device, t->ndim, shape);
    if (!out)
        return NULL;
    if (!pf_backend_get(t->device)->index_select(t->dtype, pf_tensor_data(out), pf_tensor_data(src),
                                                 pf_tensor_data(idx), shape[d], pf_split_at(src, d)))
        return NULL;
    if (!pf_record(ctx, out, "pf_index_select", index_select_backward, 1, &t))
        return NULL;
    if (out->node) {
        out->node->iarg[0] = d;
        out->node->saved[0] = idx;
    }
    return out;
}

static bool gather_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0], *idx = n->saved[0];
    int dim = (int)n->iarg[0];
    pf_tensor *dx = pf_zeros_like(ctx, x), *gc = pf_contiguous(ctx, g);
    if (!dx || !gc)
        return false;
    if (!pf_backend_get(x->device)->scatter_add(x->dtype, pf_tensor_data(dx), pf_tensor_data(gc),
                                                pf_tensor_data(idx), idx->shape[dim], pf_split_at(x, dim)))
        return false;
    gin[0] = dx;
    return true;
}

pf_tensor *pf_gather(pf_ctx *ctx, pf_tensor *t, int dim, const pf_tensor *index)
{
    PF_REQUIRE(ctx, t, index);
    if (!check_index_tensor("pf_gather", t, index))
        return NULL;
    if (t->ndim == 0)
        return pf_fail("pf_gather: cannot index a 0-d tensor");
    int d = pf_wrap_dim("pf_gather", dim, t->ndim);
    if (d < 0)
        return NULL;
    bool fits = index->ndim == t->ndim;
    for (int i = 0; fits && i < t->ndim; i++)
        fits = i == d || index->shape[i] == t->shape[i];
    if (!fits) {
        char a[128], b[128];
        return pf_fail("pf_gather: index %s must have the shape of the input %s except in dimension %d",
                       pf_shape_str(index, a, sizeof a), pf_shape_str(t, b, sizeof b), d);
    }
    bool was = pf_set_grad_enabled(false);
    pf_tensor *src = pf_contiguous(ctx, t);
    pf_tensor *idx = pf_contiguous(ctx, (pf_tensor *)index);
    pf_set_grad_enabled(was);
    if (!src || !idx)
        return NULL;
    pf_tensor *out = pf_empty_on(ctx, t->dtype, t->device, idx->ndim, idx->shape);
    if (!out)
        return NULL;
    if (!pf_backend_get(t->device)->gather(t->dtype, pf_tensor_data(out), pf_tensor_data(src), pf_tensor_data(idx),
                                           idx->shape[d], pf_split_at(src, d)))
        return NULL;
    if (!pf_record(ctx, out, "pf_gather", gather_backward, 1, &t))
        return NULL;
    if (out->node) {
        out->node->iarg[0] = d;
        out->node->saved[0] = idx;
    }
    return out;
}
