/*
 * matmul.c — matrix products with torch.matmul's rules, through the
 * backend's gemm (CBLAS on the CPU).
 *
 * Vectors become matrices (a 1-D left operand is a row, a 1-D right operand
 * a column) and the added dimension is removed from the result; leading
 * dimensions broadcast as a batch. Transposed operands are passed to gemm
 * as transposed, not copied. Backward: dA = dC @ B^T, dB = A^T @ dC, each
 * summed over the batch dimensions that were broadcast.
 */
#include <stdio.h>

#include "ops/ops_internal.h"

/* How one operand is handed to gemm: pointer, transposition, leading
 * dimension and batch stride. */
typedef struct gemm_operand {
    pf_tensor *t;   /* the tensor whose storage is read (maybe a copy) */
    bool trans;
    int64_t ld, batch_stride;
} gemm_operand;

/* True when the batch dimensions of v (all but the last two) walk memory
 * with one stride: batch item i is at i * *stride. */
static bool uniform_batch_stride(const pf_tensor *v, int64_t *stride)
{
    int nb = v->ndim - 2;
    int64_t s = 0;
    bool found = false;
    for (int i = nb - 1; i >= 0; i--) {
        if (v->shape[i] == 1)
            continue;
        int64_t inner = 1;
        for (int j = i + 1; j < nb; j++)
            inner *= v->shape[j];
        if (!found) {
            s = v->stride[i] / (inner ? inner : 1);
            if (s * inner != v->stride[i])
                return false;
            found = true;
        } else if (v->stride[i] != s * inner) {
            return false;
        }
    }
    *stride = s;
    return true;
}

/* Prepares `t`, expanded to batch + [rows, cols], for gemm. */
static bool prepare_operand(pf_ctx *ctx, pf_tensor *t, int nb, const int64_t *batch, gemm_operand *op)
{
    int64_t shape[PF_MAX_DIMS];
    for (int i = 0; i < nb; i++)
        shape[i] = batch[i];
    shape[nb] = t->shape[t->ndim - 2];
    shape[nb + 1] = t->shape[t->ndim - 1];
    bool was = pf_set_grad_enabled(false);
    pf_tensor *v = pf_expand(ctx, t, nb + 2, shape);
    pf_set_grad_enabled(was);
    if (!v)
        return false;
    int64_t rows = shape[nb], cols = shape[nb + 1];
    int64_t rs = rows == 1 ? cols : v->stride[nb];
    int64_t cs = cols == 1 ? 1 : v->stride[nb + 1];
    int64_t bs;
    bool batch_ok = uniform_batch_stride(v, &bs);
    if (batch_ok && cs == 1 && rs >= (cols > 1 ? cols : 1)) {
        op->trans = false;
        op->ld = rs;
    } else if (batch_ok && rs == 1 && cs >= (rows > 1 ? rows : 1)) {
        op->trans = true;
        op->ld = cs;
    } else {
        was = pf_set_grad_enabled(false);
        v = pf_clone(ctx, v);
        pf_set_grad_enabled(was);
        if (!v)
            return false;
        op->trans = false;
        op->ld = cols > 1 ? cols : 1;
        bs = rows * cols;
    }
    op->t = v;
    op->batch_stride = bs;
    return true;
}

/* The product for operands of at least two dimensions, not recorded. */
static pf_tensor *matmul_nd(pf_ctx *ctx, pf_tensor *a, pf_tensor *b)
{
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1];
    int64_t k2 = b->shape[b->ndim - 2], n = b->shape[b->ndim - 1];
    if (k != k2) {
        char x[128], y[128];
        return pf_fail("pf_matmul: %s @ %s: inner dimensions differ (%lld vs %lld)", pf_shape_str(a, x, sizeof x),
                       pf_shape_str(b, y, sizeof y), (long long)k, (long long)k2);
    }
    /* Broadcast the batch dimensions. */
    pf_tensor ba = *a, bb = *b;
    ba.ndim -= 2;
    bb.ndim -= 2;
    int nb;
    int64_t shape[PF_MAX_DIMS];
    if (!pf_broadcast_shapes("pf_matmul", &ba, &bb, &nb, shape))
        return NULL;
    if (nb + 2 > PF_MAX_DIMS)
        return pf_fail("pf_matmul: too many dimensions");
    gemm_operand oa, ob;
    if (!prepare_operand(ctx, a, nb, shape, &oa) || !prepare_operand(ctx, b, nb, shape, &ob))
        return NULL;
    shape[nb] = m;
    shape[nb + 1] = n;
    pf_tensor *out = pf_empty_on(ctx, a->dtype, a->device, nb + 2, shape);
    if (!out)
        return NULL;
    int64_t batch = pf_shape_numel(nb, shape);
    pf_gemm_args g = {
        .dtype = a->dtype, .trans_a = oa.trans, .trans_b = ob.trans, .m = m, .n = n, .k = k,
        .a = pf_tensor_data(oa.t), .lda = oa.ld, .stride_a = oa.batch_stride,
        .b = pf_tensor_data(ob.t), .ldb = ob.ld, .stride_b = ob.batch_stride,
        .c = pf_tensor_data(out), .ldc = n > 1 ? n : 1, .stride_c = m * n,
        .alpha = 1, .beta = 0, .batch = batch,
    };
    if (!pf_backend_get(a->device)->gemm(&g))
        return NULL;
    return out;
}

static bool matmul_backward(pf_ctx *ctx, pf_node *node, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *a = node->in[0], *b = node->in[1];
    if (a->requires_grad) {
        gin[0] = pf_sum_to(ctx, matmul_nd(ctx, g, pf_transpose(ctx, b, -1, -2)), a->ndim, a->shape);
        if (!gin[0])
            return false;
    }
    if (b->requires_grad) {
        gin[1] = pf_sum_to(ctx, matmul_nd(ctx, pf_transpose(ctx, a, -1, -2), g), b->ndim, b->shape);
        if (!gin[1])
            return false;
    }
    return true;
}

pf_tensor *pf_matmul(pf_ctx *ctx, pf_tensor *a, pf_tensor *b)
{
    PF_REQUIRE(ctx, a, b);
    if (!pf_check_float("pf_matmul", a) || !pf_check_float("pf_matmul", b) ||
        !pf_check_same_kind("pf_matmul", a, b))
        return NULL;
    if (a->ndim == 0 || b->ndim == 0)
        return pf_fail("pf_matmul: both arguments need at least one dimension (got %d and %d)", a->ndim, b->ndim);
    /* Vectors become matrices; the product of the matrices is recorded, the
     * (un)squeezes around it are views with their own backward. */
    pf_tensor *a2 = a->ndim == 1 ? pf_unsqueeze(ctx, a, 0) : a;
    pf_tensor *b2 = b->ndim == 1 ? pf_unsqueeze(ctx, b, 1) : b;
    if (!a2 || !b2)
        return NULL;
    pf_tensor *out = matmul_nd(ctx, a2, b2);
    if (!out || !pf_record(ctx, out, "pf_matmul", matmul_backward, 2, (pf_tensor *[]){a2, b2}))
        return NULL;
    /* Squeeze a's row (-2) before b's column (-1): in the other order the
     * [1,1] product of two vectors has no dimension -2 left (golden test
     * ops_matmul/dot_5). */
    if (a->ndim == 1)
        out = pf_squeeze(ctx, out, -2);
    if (b->ndim == 1)
        out = pf_squeeze(ctx, out, -1);
    return out;
}
