/*
 * views.c — ops that return a new geometry over the same storage: view,
 * reshape, permute, transpose, narrow, slice, select, expand, unsqueeze,
 * squeeze, flatten. Each records a backward that maps the gradient back to
 * the input's shape (reshaping, permuting back, placing a slice into zeros,
 * or summing over broadcast dimensions).
 */
#include <stdio.h>
#include <string.h>

#include "ops/ops_internal.h"

/* Records a view op whose backward reads the input's shape from the node. */
static pf_tensor *recorded(pf_ctx *ctx, pf_tensor *out, pf_tensor *in, const char *name, pf_backward_fn bw)
{
    if (!out || !pf_record(ctx, out, name, bw, 1, &in))
        return NULL;
    return out;
}

/* ---- view and reshape: backward reshapes the gradient back ---- */

static bool reshape_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    gin[0] = pf_reshape(ctx, g, n->in[0]->ndim, n->in[0]->shape);
    return gin[0] != NULL;
}

/* Resolves a -1 and checks the element count. */
static bool resolve_shape(const char *op, const pf_tensor *t, int ndim, const int64_t *shape, int64_t *out)
{
    if (ndim < 0 || ndim > PF_MAX_DIMS || (ndim > 0 && !shape)) {
        pf_fail("%s: %d dimensions (at most %d)", op, ndim, PF_MAX_DIMS);
        return false;
    }
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            if (infer >= 0) {
                pf_fail("%s: only one dimension can be -1", op);
                return false;
            }
            infer = i;
        } else if (shape[i] < 0) {
            pf_fail("%s: invalid size %lld", op, (long long)shape[i]);
            return false;
        } else {
            known *= shape[i];
        }
        out[i] = shape[i];
    }
    int64_t numel = pf_numel(t);
    if (infer >= 0) {
        if (known == 0 || numel % known != 0) {
            char s[128];
            pf_fail("%s: cannot infer the -1 dimension: shape %s has %lld elements", op,
                    pf_shape_str(t, s, sizeof s), (long long)numel);
            return false;
        }
        out[infer] = numel / known;
        known *= out[infer];
    }
    if (known != numel) {
        char s[128], d[128];
        pf_fail("%s: shape %s (%lld elements) cannot become %s", op, pf_shape_str(t, s, sizeof s),
                (long long)numel, pf_dims_str(ndim, out, d, sizeof d));
        return false;
    }
    return true;
}

/* Strides that let t be seen with new_shape without copying (PyTorch's
 * rule: dimensions may be split or merged only within runs that are laid
 * out contiguously). False when impossible. */
static bool view_strides(const pf_tensor *t, int ndim, const int64_t *new_shape, int64_t *new_stride)
{
    if (pf_numel(t) == 0 || t->ndim == 0) {
        pf_contiguous_strides(ndim, new_shape, new_stride);
        return true;
    }
    int view_d = ndim - 1;
    int64_t chunk_base_stride = t->stride[t->ndim - 1];
    int64_t tensor_numel = 1, view_numel = 1;
    for (int tensor_d = t->ndim - 1; tensor_d >= 0; tensor_d--) {
        tensor_numel *= t->shape[tensor_d];
        if (tensor_d == 0 ||
            (t->shape[tensor_d - 1] != 1 && t->stride[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
                new_stride[view_d] = view_numel * chunk_base_stride;
                view_numel *= new_shape[view_d];
                view_d--;
            }
            if (view_numel != tensor_numel)
                return false;
            if (tensor_d > 0) {
                chunk_base_stride = t->stride[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    return view_d == -1;
}

pf_tensor *pf_view(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape)
{
    PF_REQUIRE(ctx, t);
    int64_t new_shape[PF_MAX_DIMS], new_stride[PF_MAX_DIMS];
    if (!resolve_shape("pf_view", t, ndim, shape, new_shape))
        return NULL;
    if (!view_strides(t, ndim, new_shape, new_stride)) {
        char s[128], d[128];
        return pf_fail("pf_view: a tensor of shape %s laid out with these strides cannot be viewed as %s; "
                       "use pf_reshape (which copies)", pf_shape_str(t, s, sizeof s),
                       pf_dims_str(ndim, new_shape, d, sizeof d));
    }
    pf_tensor *out = pf_view_of(ctx, t, ndim, new_shape, new_stride, t->offset);
    return recorded(ctx, out, t, "pf_view", reshape_backward);
}

pf_tensor *pf_reshape(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape)
{
    PF_REQUIRE(ctx, t);
    int64_t new_shape[PF_MAX_DIMS], new_stride[PF_MAX_DIMS];
    if (!resolve_shape("pf_reshape", t, ndim, shape, new_shape))
        return NULL;
    if (view_strides(t, ndim, new_shape, new_stride))
        return recorded(ctx, pf_view_of(ctx, t, ndim, new_shape, new_stride, t->offset), t, "pf_reshape",
                        reshape_backward);
    pf_tensor *c = pf_contiguous(ctx, t);
    if (!c)
        return NULL;
    pf_contiguous_strides(ndim, new_shape, new_stride);
    return recorded(ctx, pf_view_of(ctx, c, ndim, new_shape, new_stride, c->offset), c, "pf_reshape",
                    reshape_backward);
}

pf_tensor *pf_flatten(pf_ctx *ctx, pf_tensor *t, int start_dim, int end_dim)
{
    PF_REQUIRE(ctx, t);
    if (t->ndim == 0)
        return pf_reshape(ctx, t, PF_DIMS(1));
    int s = pf_wrap_dim("pf_flatten", start_dim, t->ndim), e = pf_wrap_dim("pf_flatten", end_dim, t->ndim);
    if (s < 0 || e < 0)
        return NULL;
    if (s > e)
        return pf_fail("pf_flatten: start_dim %d comes after end_dim %d", start_dim, end_dim);
    int64_t shape[PF_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < s; i++)
        shape[nd++] = t->shape[i];
    int64_t merged = 1;
    for (int i = s; i <= e; i++)
        merged *= t->shape[i];
    shape[nd++] = merged;
    for (int i = e + 1; i < t->ndim; i++)
        shape[nd++] = t->shape[i];
    return pf_reshape(ctx, t, nd, shape);
}

/* ---- permute and transpose: backward permutes back ---- */

static bool permute_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    int inverse[PF_MAX_DIMS];
    for (int i = 0; i < g->ndim; i++)
        inverse[n->iarg[i]] = i;
    gin[0] = pf_permute(ctx, g, inverse);
    return gin[0] != NULL;
}

pf_tensor *pf_permute(pf_ctx *ctx, pf_tensor *t, const int *dims)
{
    PF_REQUIRE(ctx, t, dims);
    int perm[PF_MAX_DIMS];
    bool seen[PF_MAX_DIMS] = {false};
    int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        int d = pf_wrap_dim("pf_permute", dims[i], t->ndim);
        if (d < 0)
            return NULL;
        if (seen[d])
            return pf_fail("pf_permute: dimension %d appears twice", d);
        seen[d] = true;
        perm[i] = d;
        shape[i] = t->shape[d];
        stride[i] = t->stride[d];
    }
    pf_tensor *out = recorded(ctx, pf_view_of(ctx, t, t->ndim, shape, stride, t->offset), t, "pf_permute",
                              permute_backward);
    if (out && out->node)
        for (int i = 0; i < t->ndim; i++)
            out->node->iarg[i] = perm[i];
    return out;
}

pf_tensor *pf_transpose(pf_ctx *ctx, pf_tensor *t, int dim0, int dim1)
{
    PF_REQUIRE(ctx, t);
    int a = pf_wrap_dim("pf_transpose", dim0, t->ndim), b = pf_wrap_dim("pf_transpose", dim1, t->ndim);
    if (a < 0 || b < 0)
        return NULL;
    if (t->ndim == 0)
        return t;
    int perm[PF_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        perm[i] = i;
    perm[a] = b;
    perm[b] = a;
    return pf_permute(ctx, t, perm);
}

/* ---- narrow, slice, select: backward puts the gradient into zeros ---- */

/* iarg: [0] dim, [1] start, [2] step, [3] 1 if the dimension was removed. */
static bool slice_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0];
    pf_tensor *dx = pf_zeros_like(ctx, x);
    if (!dx)
        return false;
    int dim = (int)n->iarg[0];
    int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    for (int i = 0; i < dx->ndim; i++) {
        shape[i] = dx->shape[i];
        stride[i] = dx->stride[i];
    }
    shape[dim] = n->iarg[3] ? 1 : g->shape[dim];
    stride[dim] *= n->iarg[2];
    pf_tensor *window = pf_view_of(ctx, dx, dx->ndim, shape, stride, n->iarg[1] * dx->stride[dim]);
    pf_tensor *src = n->iarg[3] ? pf_unsqueeze(ctx, g, dim) : g;
    if (!window || !src || !pf_copy_(window, src))
        return false;
    gin[0] = dx;
    return true;
}

static pf_tensor *slice_view(pf_ctx *ctx, pf_tensor *t, int dim, int64_t start, int64_t length, int64_t step,
                             bool drop, const char *name)
{
    int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (i == dim && drop)
            continue;
        shape[nd] = i == dim ? length : t->shape[i];
        stride[nd] = i == dim ? t->stride[i] * step : t->stride[i];
        nd++;
    }
    int64_t offset = t->offset + (length > 0 || drop ? start * t->stride[dim] : 0);
    pf_tensor *out = recorded(ctx, pf_view_of(ctx, t, nd, shape, stride, offset), t, name, slice_backward);
    if (out && out->node) {
        out->node->iarg[0] = dim;
        out->node->iarg[1] = start;
        out->node->iarg[2] = step;
        out->node->iarg[3] = drop;
    }
    return out;
}

pf_tensor *pf_narrow(pf_ctx *ctx, pf_tensor *t, int dim, int64_t start, int64_t length)
{
    PF_REQUIRE(ctx, t);
    if (t->ndim == 0)
        return pf_fail("pf_narrow: cannot narrow a 0-d tensor");
    int d = pf_wrap_dim("pf_narrow", dim, t->ndim);
    if (d < 0)
        return NULL;
    if (start < 0 || length < 0 || start + length > t->shape[d])
        return pf_fail("pf_narrow: elements %lld..%lld are outside dimension %d of size %lld", (long long)start,
                       (long long)(start + length - 1), d, (long long)t->shape[d]);
    return slice_view(ctx, t, d, start, length, 1, false, "pf_narrow");
}

pf_tensor *pf_slice(pf_ctx *ctx, pf_tensor *t, int dim, int64_t start, int64_t end, int64_t step)
{
    PF_REQUIRE(ctx, t);
    if (t->ndim == 0)
        return pf_fail("pf_slice: cannot slice a 0-d tensor");
    int d = pf_wrap_dim("pf_slice", dim, t->ndim);
    if (d < 0)
        return NULL;
    if (step <= 0)
        return pf_fail("pf_slice: step must be positive (got %lld)", (long long)step);
    int64_t size = t->shape[d];
    if (start < 0)
        start += size;
    if (end < 0)
        end += size;
    start = start < 0 ? 0 : (start > size ? size : start);
    end = end < start ? start : (end > size ? size : end);
    int64_t length = (end - start + step - 1) / step;
    return slice_view(ctx, t, d, start, length, step, false, "pf_slice");
}

pf_tensor *pf_select(pf_ctx *ctx, pf_tensor *t, int dim, int64_t index)
{
    PF_REQUIRE(ctx, t);
    if (t->ndim == 0)
        return pf_fail("pf_select: cannot index a 0-d tensor");
    int d = pf_wrap_dim("pf_select", dim, t->ndim);
    if (d < 0)
        return NULL;
    if (index < -t->shape[d] || index >= t->shape[d])
        return pf_fail("pf_select: index %lld is out of range for dimension %d of size %lld", (long long)index, d,
                       (long long)t->shape[d]);
    if (index < 0)
        index += t->shape[d];
    return slice_view(ctx, t, d, index, 1, 1, true, "pf_select");
}

/* ---- expand: backward sums over the stretched dimensions ---- */

static bool expand_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    gin[0] = pf_sum_to(ctx, g, n->in[0]->ndim, n->in[0]->shape);
    return gin[0] != NULL;
}

pf_tensor *pf_expand(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape)
{
    PF_REQUIRE(ctx, t, shape);
    if (ndim < t->ndim || ndim > PF_MAX_DIMS) {
        char s[128];
        return pf_fail("pf_expand: cannot expand %s to %d dimensions", pf_shape_str(t, s, sizeof s), ndim);
    }
    int64_t new_shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        int it = t->ndim - ndim + i;
        int64_t want = shape[i];
        if (it < 0) {
            if (want < 0)
                return pf_fail("pf_expand: -1 is not allowed for a new leading dimension");
            new_shape[i] = want;
            stride[i] = 0;
        } else if (want == -1 || want == t->shape[it]) {
            new_shape[i] = t->shape[it];
            stride[i] = t->stride[it];
        } else if (t->shape[it] == 1 && want >= 0) {
            new_shape[i] = want;
            stride[i] = 0;
        } else {
            char s[128], d[128];
            return pf_fail("pf_expand: cannot expand %s to %s (dimension %d has size %lld, not 1)",
                           pf_shape_str(t, s, sizeof s), pf_dims_str(ndim, shape, d, sizeof d), i,
                           (long long)t->shape[it]);
        }
    }
    return recorded(ctx, pf_view_of(ctx, t, ndim, new_shape, stride, t->offset), t, "pf_expand",
                    expand_backward);
}

/* ---- unsqueeze and squeeze: backward reshapes back ---- */

pf_tensor *pf_unsqueeze(pf_ctx *ctx, pf_tensor *t, int dim)
{
    PF_REQUIRE(ctx, t);
    if (t->ndim >= PF_MAX_DIMS)
        return pf_fail("pf_unsqueeze: the tensor already has %d dimensions", PF_MAX_DIMS);
    int d = pf_wrap_dim("pf_unsqueeze", dim, t->ndim + 1);
    if (d < 0)
        return NULL;
    int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    for (int i = 0, j = 0; i <= t->ndim; i++) {
        if (i == d) {
            shape[i] = 1;
            stride[i] = d < t->ndim ? t->stride[d] * t->shape[d] : 1;
        } else {
            shape[i] = t->shape[j];
            stride[i] = t->stride[j];
            j++;
        }
    }
    return recorded(ctx, pf_view_of(ctx, t, t->ndim + 1, shape, stride, t->offset), t, "pf_unsqueeze",
                    reshape_backward);
}

pf_tensor *pf_squeeze(pf_ctx *ctx, pf_tensor *t, int dim)
{
    PF_REQUIRE(ctx, t);
    int d = pf_wrap_dim("pf_squeeze", dim, t->ndim);
    if (d < 0)
        return NULL;
    if (t->ndim == 0)
        return t;
    if (t->shape[d] != 1)
        return pf_fail("pf_squeeze: dimension %d has size %lld, not 1", d, (long long)t->shape[d]);
    int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    for (int i = 0, j = 0; i < t->ndim; i++)
        if (i != d) {
            shape[j] = t->shape[i];
            stride[j] = t->stride[i];
            j++;
        }
    return recorded(ctx, pf_view_of(ctx, t, t->ndim - 1, shape, stride, t->offset), t, "pf_squeeze",
                    reshape_backward);
}
