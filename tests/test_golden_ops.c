/*
 * test_golden_ops.c — every tensor operation of profond.h (sections 5 and 6)
 * against PyTorch, on the inputs stored in tests/golden/ops_*.safetensors by
 * tests/golden/generate.py.
 *
 * A case of file F named C holds its inputs (C.a, C.b, C.x, C.w, C.index ...),
 * PyTorch's output C.out, an upstream gradient C.gout and the gradients
 * C.grad_<input> of sum(out * gout). The table below says, for each case,
 * which inputs a build function takes (in order) and that function's
 * arguments. One checker runs every case:
 *   1. loads the inputs, marks the float ones with pf_requires_grad;
 *   2. builds out and compares it with C.out (int64 results, and max's
 *      positions C.indices, exactly; floats with PF_ASSERT_GOLDEN);
 *   3. pf_backward_with(out, gout), and compares each input's ->grad;
 *   4. pf_grad of pf_sum(out * gout), and compares those gradients too.
 * A last test checks that every case of every golden file is in the table.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

#define MAX_INPUTS 4

typedef struct op_case op_case;

/* Builds the output from the inputs, in the order listed in `inputs`. max
 * also hands back its int64 positions through *indices. */
typedef pf_tensor *(*build_fn)(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **indices);

struct op_case {
    const char *file;    /* tests/golden/<file>.safetensors */
    const char *name;    /* prefix of the case's tensors */
    const char *inputs;  /* the input tensors, comma-separated, in order */
    build_fn build;
    /* Arguments, as each build function reads them. */
    int dim, dim2;                 /* dimensions */
    int ndims, dims[PF_MAX_DIMS];  /* a dimension list or a permutation */
    bool keepdim;
    int correction;
    double s0, s1;                 /* scalars, bounds, exponents */
    int64_t i0, i1, i2;            /* start, length or end, step; an index */
    int nshape;
    int64_t shape[PF_MAX_DIMS];    /* a target shape */
};

/* ---- Build functions ---------------------------------------------------- */

static pf_tensor *build_add(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return pf_add(ctx, in[0], in[1]);
}
static pf_tensor *build_sub(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return pf_sub(ctx, in[0], in[1]);
}
static pf_tensor *build_mul(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return pf_mul(ctx, in[0], in[1]);
}
static pf_tensor *build_div(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return pf_div(ctx, in[0], in[1]);
}
static pf_tensor *build_add_scalar(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_add_scalar(ctx, in[0], c->s0);
}
static pf_tensor *build_mul_scalar(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_mul_scalar(ctx, in[0], c->s0);
}

/* The ops with one input and no arguments. */
#define UNARY_BUILD(op)                                                                             \
    static pf_tensor *build_##op(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix) \
    {                                                                                               \
        (void)c, (void)ix;                                                                          \
        return pf_##op(ctx, in[0]);                                                                 \
    }
UNARY_BUILD(neg)
UNARY_BUILD(exp)
UNARY_BUILD(log)
UNARY_BUILD(sqrt)
UNARY_BUILD(abs)
UNARY_BUILD(tanh)
UNARY_BUILD(sigmoid)
UNARY_BUILD(relu)
UNARY_BUILD(sum)
UNARY_BUILD(mean)

static pf_tensor *build_pow(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_pow(ctx, in[0], c->s0);
}
static pf_tensor *build_clamp(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_clamp(ctx, in[0], c->s0, c->s1);
}

static pf_tensor *build_sum_dims(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_sum_dims(ctx, in[0], c->ndims, c->dims, c->keepdim);
}
static pf_tensor *build_mean_dims(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_mean_dims(ctx, in[0], c->ndims, c->dims, c->keepdim);
}
static pf_tensor *build_sum_to(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_sum_to(ctx, in[0], c->nshape, c->shape);
}
static pf_tensor *build_max_dim(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    return pf_max_dim(ctx, in[0], c->dim, c->keepdim, ix);
}
static pf_tensor *build_argmax(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_argmax(ctx, in[0], c->dim, c->keepdim);
}
static pf_tensor *build_var(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_var(ctx, in[0], c->ndims, c->dims, c->correction, c->keepdim);
}
static pf_tensor *build_std(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_std(ctx, in[0], c->ndims, c->dims, c->correction, c->keepdim);
}

static pf_tensor *build_matmul(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return pf_matmul(ctx, in[0], in[1]);
}
/* a^T @ b and a @ b^T, transposing the last two dimensions (a view). */
static pf_tensor *build_matmul_ta(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return pf_matmul(ctx, pf_transpose(ctx, in[0], -1, -2), in[1]);
}
static pf_tensor *build_matmul_tb(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return pf_matmul(ctx, in[0], pf_transpose(ctx, in[1], -1, -2));
}

static pf_tensor *build_cat(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_cat(ctx, 3, in, c->dim);
}
static pf_tensor *build_stack(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_stack(ctx, 3, in, c->dim);
}
static pf_tensor *build_index_select(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_index_select(ctx, in[0], c->dim, in[1]);
}
static pf_tensor *build_gather(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_gather(ctx, in[0], c->dim, in[1]);
}
static pf_tensor *build_softmax(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_softmax(ctx, in[0], c->dim);
}
static pf_tensor *build_log_softmax(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return pf_log_softmax(ctx, in[0], c->dim);
}

/* Views: in[0] is x, in[1] a weight w; each returns view(x) * w. */
static pf_tensor *times_w(pf_ctx *ctx, pf_tensor *view, pf_tensor *const *in) { return pf_mul(ctx, view, in[1]); }

static pf_tensor *build_reshape(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_reshape(ctx, in[0], c->nshape, c->shape), in);
}
static pf_tensor *build_permute_reshape(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_reshape(ctx, pf_permute(ctx, in[0], c->dims), c->nshape, c->shape), in);
}
static pf_tensor *build_view(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_view(ctx, in[0], c->nshape, c->shape), in);
}
static pf_tensor *build_permute(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_permute(ctx, in[0], c->dims), in);
}
static pf_tensor *build_transpose(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_transpose(ctx, in[0], c->dim, c->dim2), in);
}
static pf_tensor *build_narrow(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_narrow(ctx, in[0], c->dim, c->i0, c->i1), in);
}
static pf_tensor *build_slice(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_slice(ctx, in[0], c->dim, c->i0, c->i1, c->i2), in);
}
static pf_tensor *build_select(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_select(ctx, in[0], c->dim, c->i0), in);
}
static pf_tensor *build_expand(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_expand(ctx, in[0], c->nshape, c->shape), in);
}
static pf_tensor *build_unsqueeze(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_unsqueeze(ctx, in[0], c->dim), in);
}
static pf_tensor *build_squeeze(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_squeeze(ctx, in[0], c->dim), in);
}
static pf_tensor *build_flatten(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    return times_w(ctx, pf_flatten(ctx, in[0], c->dim, c->dim2), in);
}
static pf_tensor *build_flatten_transposed(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return times_w(ctx, pf_flatten(ctx, pf_transpose(ctx, in[0], 0, 1), 0, 1), in);
}
static pf_tensor *build_contiguous_permuted(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)ix;
    pf_tensor *p = pf_permute(ctx, in[0], c->dims);
    pf_tensor *t = pf_contiguous(ctx, p);
    PF_CHECK(t != p && pf_is_contiguous(t));
    return times_w(ctx, t, in);
}
static pf_tensor *build_clone(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return times_w(ctx, pf_clone(ctx, in[0]), in);
}
/* pf_to_dtype to w's dtype */
static pf_tensor *build_to_dtype(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return times_w(ctx, pf_to_dtype(ctx, in[0], in[1]->dtype), in);
}
/* x.transpose(0, 1).narrow(0, 1, 2).unsqueeze(0) * w */
static pf_tensor *build_chain(pf_ctx *ctx, pf_tensor *const *in, const op_case *c, pf_tensor **ix)
{
    (void)c, (void)ix;
    return times_w(ctx, pf_unsqueeze(ctx, pf_narrow(ctx, pf_transpose(ctx, in[0], 0, 1), 0, 1, 2), 0), in);
}

/* ---- The cases (the same as in generate.py) ------------------------------ */

#define CASE(f, n, in, fn, ...) {.file = f, .name = n, .inputs = in, .build = fn, __VA_ARGS__}
#define DIMS(...) .ndims = (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), .dims = {__VA_ARGS__}
#define SHAPE(...) .nshape = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .shape = {__VA_ARGS__}

/* The binary cases are the same for the four ops. */
#define BINARY_CASES(f, fn)                                       \
    CASE(f, "same_3x4", "a,b", fn), CASE(f, "bcast_3x1x4_2x1", "a,b", fn), \
        CASE(f, "bcast_5x4_4", "a,b", fn), CASE(f, "bcast_4_5x4", "a,b", fn), \
        CASE(f, "bcast_2x3_1", "a,b", fn), CASE(f, "bcast_1_2x3", "a,b", fn), \
        CASE(f, "bcast_2x3_0d", "a,b", fn), CASE(f, "bcast_2x1x3_4x1_f64", "a,b", fn)

#define VAR_CASES(op, fn)                                                                      \
    CASE("ops_reduce", op "_02_c0", "x", fn, DIMS(0, 2), .correction = 0),                     \
        CASE("ops_reduce", op "_02_c1", "x", fn, DIMS(0, 2), .correction = 1),                 \
        CASE("ops_reduce", op "_1_c0_keep", "x", fn, DIMS(1), .correction = 0, .keepdim = true), \
        CASE("ops_reduce", op "_1_c1_keep", "x", fn, DIMS(1), .correction = 1, .keepdim = true), \
        CASE("ops_reduce", op "_all_c0", "x", fn, .ndims = 0, .correction = 0),                \
        CASE("ops_reduce", op "_all_c1", "x", fn, .ndims = 0, .correction = 1),                \
        CASE("ops_reduce", op "_-1_c1_f64", "x", fn, DIMS(-1), .correction = 1)

#define SOFTMAX_CASES(op, fn)                                                                               \
    CASE("ops_softmax", op "_1", "x", fn, .dim = 1), CASE("ops_softmax", op "_0", "x", fn, .dim = 0),       \
        CASE("ops_softmax", op "_-1_3d", "x", fn, .dim = -1), CASE("ops_softmax", op "_1_3d", "x", fn, .dim = 1), \
        CASE("ops_softmax", op "_1_large", "x", fn, .dim = 1),                                               \
        CASE("ops_softmax", op "_0_large", "x", fn, .dim = 0),                                               \
        CASE("ops_softmax", op "_1_large_neg", "x", fn, .dim = 1),                                           \
        CASE("ops_softmax", op "_1_f64", "x", fn, .dim = 1)

static const op_case cases[] = {
    BINARY_CASES("ops_add", build_add),
    BINARY_CASES("ops_sub", build_sub),
    BINARY_CASES("ops_mul", build_mul),
    BINARY_CASES("ops_div", build_div),

    CASE("ops_scalar", "add_2.5", "x", build_add_scalar, .s0 = 2.5),
    CASE("ops_scalar", "add_-1.25", "x", build_add_scalar, .s0 = -1.25),
    CASE("ops_scalar", "mul_-3", "x", build_mul_scalar, .s0 = -3),
    CASE("ops_scalar", "mul_0.5_f64", "x", build_mul_scalar, .s0 = 0.5),

    CASE("ops_unary", "neg", "x", build_neg),
    CASE("ops_unary", "exp", "x", build_exp),
    CASE("ops_unary", "log", "x", build_log),
    CASE("ops_unary", "sqrt", "x", build_sqrt),
    CASE("ops_unary", "abs", "x", build_abs),
    CASE("ops_unary", "tanh", "x", build_tanh),
    CASE("ops_unary", "sigmoid", "x", build_sigmoid),
    CASE("ops_unary", "relu", "x", build_relu),
    CASE("ops_unary", "exp_f64", "x", build_exp),
    CASE("ops_unary", "tanh_f64", "x", build_tanh),
    CASE("ops_unary", "sigmoid_f64", "x", build_sigmoid),
    CASE("ops_unary", "pow_2", "x", build_pow, .s0 = 2),
    CASE("ops_unary", "pow_3", "x", build_pow, .s0 = 3),
    CASE("ops_unary", "pow_0.5", "x", build_pow, .s0 = 0.5),
    CASE("ops_unary", "pow_-1", "x", build_pow, .s0 = -1),
    CASE("ops_unary", "pow_3_f64", "x", build_pow, .s0 = 3),
    CASE("ops_unary", "clamp_-0.5_0.7", "x", build_clamp, .s0 = -0.5, .s1 = 0.7),
    CASE("ops_unary", "clamp_low_-0.3", "x", build_clamp, .s0 = -0.3, .s1 = INFINITY),
    CASE("ops_unary", "clamp_high_0.4", "x", build_clamp, .s0 = -INFINITY, .s1 = 0.4),
    CASE("ops_unary", "clamp_-0.5_0.7_f64", "x", build_clamp, .s0 = -0.5, .s1 = 0.7),

    CASE("ops_reduce", "sum_all", "x", build_sum),
    CASE("ops_reduce", "sum_all_f64", "x", build_sum),
    CASE("ops_reduce", "sum_02", "x", build_sum_dims, DIMS(0, 2)),
    CASE("ops_reduce", "sum_02_keep", "x", build_sum_dims, DIMS(0, 2), .keepdim = true),
    CASE("ops_reduce", "sum_-1", "x", build_sum_dims, DIMS(-1)),
    CASE("ops_reduce", "sum_1_keep", "x", build_sum_dims, DIMS(1), .keepdim = true),
    CASE("ops_reduce", "sum_0_f64", "x", build_sum_dims, DIMS(0)),
    CASE("ops_reduce", "sum_to_3x1", "x", build_sum_to, SHAPE(3, 1)),
    CASE("ops_reduce", "sum_to_4", "x", build_sum_to, SHAPE(4)),
    CASE("ops_reduce", "sum_to_1x4_f64", "x", build_sum_to, SHAPE(1, 4)),
    CASE("ops_reduce", "sum_to_same", "x", build_sum_to, SHAPE(2, 3)),
    CASE("ops_reduce", "mean_all", "x", build_mean),
    CASE("ops_reduce", "mean_02", "x", build_mean_dims, DIMS(0, 2)),
    CASE("ops_reduce", "mean_02_keep", "x", build_mean_dims, DIMS(0, 2), .keepdim = true),
    CASE("ops_reduce", "mean_-1", "x", build_mean_dims, DIMS(-1)),
    CASE("ops_reduce", "mean_1_keep_f64", "x", build_mean_dims, DIMS(1), .keepdim = true),
    CASE("ops_reduce", "max_1", "x", build_max_dim, .dim = 1),
    CASE("ops_reduce", "max_1_keep", "x", build_max_dim, .dim = 1, .keepdim = true),
    CASE("ops_reduce", "max_0", "x", build_max_dim, .dim = 0),
    CASE("ops_reduce", "max_-1_keep", "x", build_max_dim, .dim = -1, .keepdim = true),
    CASE("ops_reduce", "max_1_f64", "x", build_max_dim, .dim = 1),
    CASE("ops_reduce", "argmax_1", "x", build_argmax, .dim = 1),
    CASE("ops_reduce", "argmax_0_keep", "x", build_argmax, .dim = 0, .keepdim = true),
    CASE("ops_reduce", "argmax_-1", "x", build_argmax, .dim = -1),
    VAR_CASES("var", build_var),
    VAR_CASES("std", build_std),

    CASE("ops_matmul", "dot_5", "a,b", build_matmul),
    CASE("ops_matmul", "mv_3x4_4", "a,b", build_matmul),
    CASE("ops_matmul", "vm_4_4x3", "a,b", build_matmul),
    CASE("ops_matmul", "mm_3x4_4x5", "a,b", build_matmul),
    CASE("ops_matmul", "bmm_2x3x4_4x5", "a,b", build_matmul),
    CASE("ops_matmul", "bcast_2x1x3x4_5x4x2", "a,b", build_matmul),
    CASE("ops_matmul", "vbmm_4_2x4x3", "a,b", build_matmul),
    CASE("ops_matmul", "bmv_2x3x4_4", "a,b", build_matmul),
    CASE("ops_matmul", "mm_3x4_t5x4", "a,b", build_matmul_tb),
    CASE("ops_matmul", "mm_t4x3_4x5", "a,b", build_matmul_ta),
    CASE("ops_matmul", "bmm_2x3x4_t2x5x4", "a,b", build_matmul_tb),
    CASE("ops_matmul", "mm_3x4_4x5_f64", "a,b", build_matmul),

    CASE("ops_join", "cat_1", "a,b,c", build_cat, .dim = 1),
    CASE("ops_join", "cat_0", "a,b,c", build_cat, .dim = 0),
    CASE("ops_join", "cat_-1_f64", "a,b,c", build_cat, .dim = -1),
    CASE("ops_join", "stack_0", "a,b,c", build_stack, .dim = 0),
    CASE("ops_join", "stack_-1", "a,b,c", build_stack, .dim = -1),
    CASE("ops_join", "stack_1", "a,b,c", build_stack, .dim = 1),

    CASE("ops_index", "index_select_0", "x,index", build_index_select, .dim = 0),
    CASE("ops_index", "index_select_1", "x,index", build_index_select, .dim = 1),
    CASE("ops_index", "index_select_-1_f64", "x,index", build_index_select, .dim = -1),
    CASE("ops_index", "gather_0", "x,index", build_gather, .dim = 0),
    CASE("ops_index", "gather_1", "x,index", build_gather, .dim = 1),
    CASE("ops_index", "gather_-1_3d", "x,index", build_gather, .dim = -1),
    CASE("ops_index", "gather_1_f64", "x,index", build_gather, .dim = 1),

    SOFTMAX_CASES("softmax", build_softmax),
    SOFTMAX_CASES("log_softmax", build_log_softmax),

    CASE("ops_views", "reshape_2x3x4_4x6", "x,w", build_reshape, SHAPE(4, 6)),
    CASE("ops_views", "reshape_-1", "x,w", build_reshape, SHAPE(-1, 3)),
    CASE("ops_views", "reshape_permuted", "x,w", build_permute_reshape, DIMS(2, 0, 1), SHAPE(4, 6)),
    CASE("ops_views", "view_2x6_3x4", "x,w", build_view, SHAPE(3, 4)),
    CASE("ops_views", "permute_201", "x,w", build_permute, DIMS(2, 0, 1)),
    CASE("ops_views", "transpose_01", "x,w", build_transpose, .dim = 0, .dim2 = 1),
    CASE("ops_views", "transpose_-1_0_3d", "x,w", build_transpose, .dim = -1, .dim2 = 0),
    CASE("ops_views", "narrow_0_1_3", "x,w", build_narrow, .dim = 0, .i0 = 1, .i1 = 3),
    CASE("ops_views", "narrow_-1_2_2", "x,w", build_narrow, .dim = -1, .i0 = 2, .i1 = 2),
    CASE("ops_views", "slice_1_1_6_2", "x,w", build_slice, .dim = 1, .i0 = 1, .i1 = 6, .i2 = 2),
    CASE("ops_views", "slice_0_-5_end_2", "x,w", build_slice, .dim = 0, .i0 = -5, .i1 = INT64_MAX, .i2 = 2),
    CASE("ops_views", "select_1_2", "x,w", build_select, .dim = 1, .i0 = 2),
    CASE("ops_views", "select_0_-1", "x,w", build_select, .dim = 0, .i0 = -1),
    CASE("ops_views", "expand_3x1_2x3x4", "x,w", build_expand, SHAPE(2, 3, 4)),
    CASE("ops_views", "expand_keep_-1", "x,w", build_expand, SHAPE(-1, 5)),
    CASE("ops_views", "unsqueeze_1", "x,w", build_unsqueeze, .dim = 1),
    CASE("ops_views", "unsqueeze_-1", "x,w", build_unsqueeze, .dim = -1),
    CASE("ops_views", "squeeze_1", "x,w", build_squeeze, .dim = 1),
    CASE("ops_views", "flatten_1_2", "x,w", build_flatten, .dim = 1, .dim2 = 2),
    CASE("ops_views", "flatten_all", "x,w", build_flatten, .dim = 0, .dim2 = -1),
    CASE("ops_views", "flatten_transposed", "x,w", build_flatten_transposed),
    CASE("ops_views", "contiguous_permuted", "x,w", build_contiguous_permuted, DIMS(1, 0, 2)),
    CASE("ops_views", "clone", "x,w", build_clone),
    CASE("ops_views", "to_dtype_f64", "x,w", build_to_dtype),
    CASE("ops_views", "to_dtype_f32", "x,w", build_to_dtype),
    CASE("ops_views", "chain_f64", "x,w", build_chain),
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- The checker ---------------------------------------------------------- */

/* Counted, and printed at the end with the largest relative error seen (the
 * margin left under the tolerance of 1e-5). */
static int comparisons;
static double worst_error;
static const char *worst_case;
static const op_case *current;

static void assert_golden(const pf_tensor *actual, const pf_tensor *expected)
{
    PF_CHECK(actual != NULL);
    assert_int_equal(actual->dtype, expected->dtype);
    PF_ASSERT_GOLDEN(actual, expected);
    comparisons++;
    int64_t n = pf_numel(expected);
    double *a = malloc(sizeof(double) * (size_t)(n ? n : 1)), *e = malloc(sizeof(double) * (size_t)(n ? n : 1));
    assert_true(a && e && pf_copy_to_f64(actual, a) && pf_copy_to_f64(expected, e));
    double diff = 0, scale = 1e-30;
    for (int64_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs(a[i] - e[i]));
        scale = fmax(scale, fabs(e[i]));
    }
    if (diff / scale > worst_error) {
        worst_error = diff / scale;
        worst_case = current->name;
    }
    free(a);
    free(e);
}

static void assert_exact(const pf_tensor *actual, const pf_tensor *expected)
{
    PF_CHECK(actual != NULL);
    assert_int_equal(actual->dtype, expected->dtype);
    PF_ASSERT_CLOSE(actual, expected, 0, 0);
    comparisons++;
}

/* The tensor "<case>.<what>" of a loaded file. */
static pf_tensor *get(const pf_golden *g, const op_case *c, const char *what)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", c->name, what);
    return pf_golden_get(g, name);
}

static bool has(const pf_golden *g, const op_case *c, const char *what)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", c->name, what);
    return pf_named_find(g->tensors, g->count, name) != NULL;
}

/* Splits "a,b,c" into names[]; returns their number. */
static int split_inputs(const char *list, char names[MAX_INPUTS][16])
{
    int n = 0;
    for (const char *p = list; *p && n < MAX_INPUTS; n++) {
        size_t len = strcspn(p, ",");
        assert_true(len < 16);
        memcpy(names[n], p, len);
        names[n][len] = '\0';
        p += len + (p[len] == ',');
    }
    return n;
}

static void check_case(pf_ctx *ctx, const op_case *c)
{
    current = c;
    pf_golden g = pf_golden_load(ctx, c->file);
    char names[MAX_INPUTS][16];
    int n = split_inputs(c->inputs, names);
    pf_tensor *in[MAX_INPUTS];
    for (int i = 0; i < n; i++) {
        in[i] = get(&g, c, names[i]);
        if (in[i]->dtype == PF_F32 || in[i]->dtype == PF_F64)
            pf_requires_grad(in[i], true);
    }

    /* Forward. */
    pf_tensor *indices = NULL;
    pf_tensor *out = c->build(ctx, in, c, &indices);
    PF_CHECK(out != NULL);
    pf_tensor *want = get(&g, c, "out");
    if (want->dtype == PF_I64) { /* argmax: positions, no gradient */
        assert_exact(out, want);
        return;
    }
    assert_golden(out, want);
    if (has(&g, c, "indices"))
        assert_exact(indices, get(&g, c, "indices"));

    /* Backward, seeded with gout: the leaves' ->grad. */
    pf_tensor *gout = get(&g, c, "gout");
    PF_CHECK(pf_backward_with(out, gout));
    pf_tensor *leaves[MAX_INPUTS], *wanted[MAX_INPUTS];
    int nleaves = 0;
    for (int i = 0; i < n; i++) {
        if (!in[i]->requires_grad)
            continue;
        char what[96];
        snprintf(what, sizeof what, "grad_%s", names[i]);
        leaves[nleaves] = in[i];
        wanted[nleaves++] = get(&g, c, what);
        assert_golden(in[i]->grad, wanted[nleaves - 1]);
    }

    /* The same gradients through pf_grad of sum(out * gout). */
    pf_tensor *grads[MAX_INPUTS] = {0};
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, out, gout)), nleaves, leaves, grads));
    for (int i = 0; i < nleaves; i++)
        assert_golden(grads[i], wanted[i]);
}

/* cmocka hands each test its case in *state; the fixture adds the context
 * of pf_test_setup, whose teardown fails a test that left an error. */
typedef struct fixture {
    void *ctx;
    const op_case *c;
} fixture;

static int case_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->c = *state;
    *state = f;
    return pf_test_setup(&f->ctx);
}

static int case_teardown(void **state)
{
    fixture *f = *state;
    int rc = pf_test_teardown(&f->ctx);
    free(f);
    return rc;
}

static void test_case(void **state)
{
    fixture *f = *state;
    check_case(f->ctx, f->c);
}

/* Every case stored in a golden file (a tensor "<case>.out") is in the
 * table: a case added to generate.py and forgotten here fails. */
static void test_every_golden_case_is_checked(void **state)
{
    fixture *f = *state;
    int stored = 0;
    for (int i = 0; i < NCASES; i++) {
        bool first = true;
        for (int k = 0; k < i && first; k++)
            first = strcmp(cases[k].file, cases[i].file) != 0;
        if (!first)
            continue;
        pf_golden g = pf_golden_load(f->ctx, cases[i].file);
        for (int t = 0; t < g.count; t++) {
            const char *name = g.tensors[t].name;
            size_t len = strlen(name);
            if (len < 4 || strcmp(name + len - 4, ".out") != 0)
                continue;
            stored++;
            bool found = false;
            for (int k = 0; k < NCASES && !found; k++)
                found = strcmp(cases[k].file, cases[i].file) == 0 && strlen(cases[k].name) == len - 4 &&
                        strncmp(cases[k].name, name, len - 4) == 0;
            if (!found)
                fail_msg("%s: case %.*s is not in the table of test_golden_ops.c", cases[i].file,
                         (int)(len - 4), name);
        }
    }
    assert_int_equal(stored, NCASES);
}

int main(void)
{
    static struct CMUnitTest tests[NCASES + 1];
    static char names[NCASES][160];
    for (int i = 0; i < NCASES; i++) {
        snprintf(names[i], sizeof names[i], "%s/%s", cases[i].file, cases[i].name);
        tests[i] = (struct CMUnitTest){names[i], test_case, case_setup, case_teardown, (void *)&cases[i]};
    }
    tests[NCASES] = (struct CMUnitTest){"every_golden_case_is_checked", test_every_golden_case_is_checked,
                                        case_setup, case_teardown, NULL};
    int failed = _cmocka_run_group_tests("golden_ops", tests, NCASES + 1, NULL, NULL);
    printf("golden_ops: %d cases, %d comparisons with PyTorch; largest relative error %.3g (%s)\n", NCASES,
           comparisons, worst_error, worst_case ? worst_case : "-");
    return failed;
}
