/*
 * linear.c — the dense layer's function, y = x @ weight^T + bias, for x
 * [..., in], weight [out, in] and bias [out] (or NULL).
 *
 * Composed of recorded ops, so autograd needs nothing more: the leading
 * dimensions of x are merged into one (a view when x allows it), so that a
 * batch of any rank is a single matrix product; weight^T is a transposed
 * view that pf_matmul hands to gemm as transposed, never copied.
 */
#include <stdio.h>

#include "ops/ops_internal.h"

static bool check_linear_shapes(const pf_tensor *x, const pf_tensor *weight, const pf_tensor *bias)
{
    char xs[128], ws[128], bs[128];
    if (weight->ndim != 2) {
        pf_fail("pf_linear: x %s, weight %s: the weight must be 2-D [out, in]", pf_shape_str(x, xs, sizeof xs),
                pf_shape_str(weight, ws, sizeof ws));
        return false;
    }
    if (x->ndim < 1) {
        pf_fail("pf_linear: x %s, weight %s: x needs at least one dimension [..., in]", pf_shape_str(x, xs, sizeof xs),
                pf_shape_str(weight, ws, sizeof ws));
        return false;
    }
    if (x->shape[x->ndim - 1] != weight->shape[1]) {
        pf_fail("pf_linear: x %s, weight %s: in features differ (x has %lld, weight %lld)",
                pf_shape_str(x, xs, sizeof xs), pf_shape_str(weight, ws, sizeof ws), (long long)x->shape[x->ndim - 1],
                (long long)weight->shape[1]);
        return false;
    }
    if (bias && (bias->ndim != 1 || bias->shape[0] != weight->shape[0])) {
        pf_fail("pf_linear: x %s, weight %s, bias %s: the bias must be [%lld]", pf_shape_str(x, xs, sizeof xs),
                pf_shape_str(weight, ws, sizeof ws), pf_shape_str(bias, bs, sizeof bs), (long long)weight->shape[0]);
        return false;
    }
    return true;
}

pf_tensor *pf_linear(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias)
{
    PF_REQUIRE(ctx, x, weight);
    if (!pf_check_float("pf_linear", x) || !pf_check_float("pf_linear", weight) ||
        !pf_check_same_kind("pf_linear", x, weight))
        return NULL;
    if (bias && (!pf_check_float("pf_linear", bias) || !pf_check_same_kind("pf_linear", x, bias)))
        return NULL;
    if (!check_linear_shapes(x, weight, bias))
        return NULL;

    int64_t in = weight->shape[1], out = weight->shape[0];
    pf_tensor *rows = x->ndim > 2 ? pf_reshape(ctx, x, PF_DIMS(pf_shape_numel(x->ndim - 1, x->shape), in)) : x;
    pf_tensor *y = pf_matmul(ctx, rows, pf_transpose(ctx, weight, 0, 1));
    if (bias)
        y = pf_add(ctx, y, bias);
    if (y && x->ndim > 2) {
        int64_t shape[PF_MAX_DIMS];
        for (int i = 0; i < x->ndim - 1; i++)
            shape[i] = x->shape[i];
        shape[x->ndim - 1] = out;
        y = pf_reshape(ctx, y, x->ndim, shape);
    }
    return y;
}
