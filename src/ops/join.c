/*
 * join.c — joining tensors: pf_cat along an existing dimension and pf_stack
 * along a new one. Backward hands each input its slice of the gradient.
 */
#include <stdio.h>

#include "ops/ops_internal.h"

/* iarg[0]: the dimension; the inputs' sizes along it are read from them. */
static bool cat_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    int dim = (int)n->iarg[0];
    int64_t at = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t size = n->in[i]->shape[dim];
        if (n->in[i]->requires_grad && !(gin[i] = pf_narrow(ctx, g, dim, at, size)))
            return false;
        at += size;
    }
    return true;
}

pf_tensor *pf_cat(pf_ctx *ctx, int n, pf_tensor *const *tensors, int dim)
{
    if (!ctx)
        return pf_fail("pf_cat: NULL context");
    if (n <= 0 || !tensors)
        return pf_fail("pf_cat: no tensors to join");
    for (int i = 0; i < n; i++)
        if (!tensors[i])
            return pf_ok() ? pf_fail("pf_cat: tensor %d is NULL", i) : NULL;
    const pf_tensor *first = tensors[0];
    if (first->ndim == 0)
        return pf_fail("pf_cat: cannot join 0-d tensors (use pf_stack)");
    int d = pf_wrap_dim("pf_cat", dim, first->ndim);
    if (d < 0)
        return NULL;
    int64_t shape[PF_MAX_DIMS];
    for (int i = 0; i < first->ndim; i++)
        shape[i] = first->shape[i];
    shape[d] = 0;
    for (int k = 0; k < n; k++) {
        const pf_tensor *t = tensors[k];
        bool fits = t->ndim == first->ndim && t->dtype == first->dtype && t->device == first->device;
        for (int i = 0; fits && i < t->ndim; i++)
            fits = i == d || t->shape[i] == first->shape[i];
        if (!fits) {
            char a[128], b[128];
            return pf_fail("pf_cat: tensor %d (%s %s) does not match tensor 0 (%s %s) outside dimension %d", k,
                           pf_shape_str(t, a, sizeof a), pf_dtype_name(t->dtype), pf_shape_str(first, b, sizeof b),
                           pf_dtype_name(first->dtype), d);
        }
        shape[d] += t->shape[d];
    }
    pf_tensor *out = pf_empty_on(ctx, first->dtype, first->device, first->ndim, shape);
    if (!out)
        return NULL;
    bool was = pf_set_grad_enabled(false);
    int64_t at = 0;
    for (int k = 0; k < n; k++) {
        pf_tensor *window = pf_narrow(ctx, out, d, at, tensors[k]->shape[d]);
        if (!window || !pf_copy_(window, tensors[k])) {
            pf_set_grad_enabled(was);
            return NULL;
        }
        at += tensors[k]->shape[d];
    }
    pf_set_grad_enabled(was);
    if (!pf_record(ctx, out, "pf_cat", cat_backward, n, tensors))
        return NULL;
    if (out->node)
        out->node->iarg[0] = d;
    return out;
}

pf_tensor *pf_stack(pf_ctx *ctx, int n, pf_tensor *const *tensors, int dim)
{
    if (!ctx)
        return pf_fail("pf_stack: NULL context");
    if (n <= 0 || !tensors)
        return pf_fail("pf_stack: no tensors to stack");
    for (int i = 0; i < n; i++)
        if (!tensors[i])
            return pf_ok() ? pf_fail("pf_stack: tensor %d is NULL", i) : NULL;
    for (int i = 1; i < n; i++)
        if (!pf_same_shape(tensors[i], tensors[0])) {
            char a[128], b[128];
            return pf_fail("pf_stack: tensor %d has shape %s, tensor 0 has %s", i,
                           pf_shape_str(tensors[i], a, sizeof a), pf_shape_str(tensors[0], b, sizeof b));
        }
    int d = pf_wrap_dim("pf_stack", dim, tensors[0]->ndim + 1);
    if (d < 0)
        return NULL;
    pf_tensor **parts = pf_ctx_alloc(ctx, sizeof(pf_tensor *) * (size_t)n);
    if (!parts)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(parts[i] = pf_unsqueeze(ctx, tensors[i], d)))
            return NULL;
    return pf_cat(ctx, n, parts, d);
}
