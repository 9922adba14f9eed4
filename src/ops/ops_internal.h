/*
 * ops_internal.h — helpers shared by the op files: argument checks,
 * broadcasting, and the kernel views of broadcast operands.
 */
#ifndef PF_OPS_INTERNAL_H
#define PF_OPS_INTERNAL_H

#include "autograd/autograd.h"
#include "backend/backend.h"
#include "tensor/tensor_internal.h"

/* NULL checks at the top of an op: returns NULL from the op when the
 * context or a tensor is missing (an error is recorded for a missing
 * context; a missing tensor already has its own). */
#define PF_REQUIRE(ctx, ...) PF_REQUIRE_AS(__func__, ctx, __VA_ARGS__)
/* The same in a helper shared by several ops (pf_binary_raw, ...), naming
 * the public op instead of the helper. Fix (tests): those helpers used
 * PF_REQUIRE, so pf_add(NULL, a, b) reported "pf_binary_raw: NULL context". */
#define PF_REQUIRE_AS(name, ctx, ...)                                     \
    do {                                                                  \
        if (!(ctx))                                                       \
            return pf_fail("%s: NULL context", (name));                   \
        const void *pf_args_[] = {__VA_ARGS__};                           \
        for (size_t pf_i_ = 0; pf_i_ < sizeof pf_args_ / sizeof *pf_args_; pf_i_++) \
            if (!pf_args_[pf_i_])                                         \
                return pf_ok() ? pf_fail("%s: NULL tensor argument", (name)) : NULL; \
    } while (0)

/* The shape two operands broadcast to; false with an error naming op. */
bool pf_broadcast_shapes(const char *op, const pf_tensor *a, const pf_tensor *b, int *ndim, int64_t *shape);
/* The kernel view of t stretched to shape (which t broadcasts to). */
pf_kview pf_kview_broadcast(const pf_tensor *t, int ndim, const int64_t *shape);
/* [outer, n, inner] split of a contiguous shape around dimension dim. */
pf_dim_split pf_split_at(const pf_tensor *t, int dim);

/* Forward of a unary op (unary.c), recorded for autograd. */
pf_tensor *pf_unary_forward(pf_ctx *ctx, const char *name, pf_unary_op op, pf_tensor *t, double p0, double p1);

/* Forward of a binary elementwise op, without recording it. */
pf_tensor *pf_binary_raw(pf_ctx *ctx, const char *name, pf_binary_op op, pf_tensor *a, pf_tensor *b);

#endif
