/*
 * test_pool.c — pf_max_pool2d, pf_avg_pool2d and pf_adaptive_avg_pool2d:
 * forward values and gradients computed by hand (ties, NaN and -inf for max
 * pooling, padding counted by average pooling, overlapping adaptive
 * windows), finite-difference gradient checks (float64), comparisons with
 * PyTorch (golden files written by tests/golden/gen_conv.py), thread-count
 * independence, and the errors.
 */
#include <math.h>
#include <omp.h>

#include "autograd/autograd.h"
#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

/* 1, 2, ..., n as float32 in the given shape. */
static pf_tensor *count_from_1(pf_ctx *ctx, int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return pf_reshape(ctx, pf_arange(ctx, 1, (double)n + 1, 1), ndim, shape);
}

/* A float32 leaf requiring grad. */
static pf_tensor *leaf_f32(pf_ctx *ctx, const float *values, int ndim, const int64_t *shape)
{
    return pf_requires_grad(pf_from_f32(ctx, values, ndim, shape), true);
}

/* The gradient of sum(y * dy) with respect to x, where y = pool(x). */
static pf_tensor *grad_of(pf_ctx *ctx, pf_tensor *y, pf_tensor *dy, pf_tensor *x)
{
    pf_tensor *grad = NULL;
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, y, dy)), 1, &x, &grad));
    return grad;
}

/* The int64 argmax positions that max pooling saved for its backward. */
static pf_tensor *saved_indices(const pf_tensor *y)
{
    PF_CHECK(y && y->node && y->node->saved[0]);
    return y->node->saved[0];
}

/* ---- max pooling ---------------------------------------------------------- */

/* x = 1..16 as 1x1x4x4. */
static void test_max_pool2d_by_hand(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(count_from_1(ctx, PF_DIMS(1, 1, 4, 4)), true);

    /* kernel 2 (stride 2): the bottom-right corner of each block */
    pf_tensor *y = pf_max_pool2d(ctx, x, 2, 0, 0);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    PF_ASSERT_VALUES(y, 0, 6, 8, 14, 16);
    PF_ASSERT_VALUES(saved_indices(y), 0, 5, 7, 13, 15);
    PF_ASSERT_VALUES(grad_of(ctx, y, pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(1, 1, 2, 2)), x), 0, 0, 0, 0,
                     0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4);

    /* kernel 3, stride 1, padding 1: the padding never wins; a gradient
     * reaching one input from several windows adds up */
    y = pf_max_pool2d(ctx, x, 3, 1, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 4, 4);
    PF_ASSERT_VALUES(y, 0, 6, 7, 8, 8, 10, 11, 12, 12, 14, 15, 16, 16, 14, 15, 16, 16);
    PF_ASSERT_VALUES(grad_of(ctx, y, pf_ones(ctx, PF_DIMS(1, 1, 4, 4)), x), 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 1, 1, 2, 0,
                     2, 2, 4);

    /* kernel 3, stride 2, padding 1: windows rows/cols {0,1} and {1,2,3} */
    y = pf_max_pool2d(ctx, x, 3, 2, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    PF_ASSERT_VALUES(y, 0, 6, 8, 14, 16);

    /* float64 too */
    pf_tensor *y64 = pf_max_pool2d(ctx, pf_to_dtype(ctx, x, PF_F64), 2, 0, 0);
    assert_int_equal(y64->dtype, PF_F64);
    PF_ASSERT_VALUES(y64, 0, 6, 8, 14, 16);
}

/* The first maximum wins on ties; NaN wins over numbers (the last NaN of a
 * window); a window of -inf returns -inf at its first position. */
static void test_max_pool2d_ties_nan_inf(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *one = pf_ones(ctx, PF_DIMS(1, 1, 1, 1));

    pf_tensor *x = leaf_f32(ctx, (float[]){0, 0, 0, 0}, PF_DIMS(1, 1, 2, 2));
    pf_tensor *y = pf_max_pool2d(ctx, x, 2, 0, 0);
    PF_ASSERT_VALUES(saved_indices(y), 0, 0);
    PF_ASSERT_VALUES(grad_of(ctx, y, one, x), 0, 1, 0, 0, 0);

    x = leaf_f32(ctx, (float[]){1, 3, 3, 2}, PF_DIMS(1, 1, 2, 2));
    y = pf_max_pool2d(ctx, x, 2, 0, 0);
    PF_ASSERT_VALUES(y, 0, 3);
    PF_ASSERT_VALUES(grad_of(ctx, y, one, x), 0, 0, 1, 0, 0);

    x = leaf_f32(ctx, (float[]){1, NAN, 3, NAN}, PF_DIMS(1, 1, 2, 2));
    y = pf_max_pool2d(ctx, x, 2, 0, 0);
    PF_ASSERT_VALUES(y, 0, NAN);
    PF_ASSERT_VALUES(saved_indices(y), 0, 3);

    x = leaf_f32(ctx, (float[]){NAN, 5, 1, 2}, PF_DIMS(1, 1, 2, 2));
    y = pf_max_pool2d(ctx, x, 2, 0, 0);
    PF_ASSERT_VALUES(y, 0, NAN);
    PF_ASSERT_VALUES(saved_indices(y), 0, 0);

    x = leaf_f32(ctx, (float[]){-INFINITY, -INFINITY, -INFINITY, -INFINITY}, PF_DIMS(1, 1, 2, 2));
    y = pf_max_pool2d(ctx, x, 2, 0, 0);
    PF_ASSERT_VALUES(y, 0, -INFINITY);
    PF_ASSERT_VALUES(saved_indices(y), 0, 0);
    /* with padding, the first position inside the image */
    y = pf_max_pool2d(ctx, x, 3, 2, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 1, 1);
    PF_ASSERT_VALUES(y, 0, -INFINITY);
    PF_ASSERT_VALUES(saved_indices(y), 0, 0);
}

/* ---- average pooling ------------------------------------------------------ */

static void test_avg_pool2d_by_hand(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(count_from_1(ctx, PF_DIMS(1, 1, 4, 4)), true);

    pf_tensor *y = pf_avg_pool2d(ctx, x, 2, 0, 0);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    PF_ASSERT_VALUES(y, 0, 3.5, 5.5, 11.5, 13.5);
    PF_ASSERT_VALUES(grad_of(ctx, y, pf_from_f32(ctx, (float[]){4, 8, 12, 16}, PF_DIMS(1, 1, 2, 2)), x), 0, 1, 1, 2,
                     2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4);

    /* stride 1 (not the kernel): overlapping windows */
    y = pf_avg_pool2d(ctx, x, 2, 1, 0);
    PF_ASSERT_SHAPE(y, 1, 1, 3, 3);
    PF_ASSERT_VALUES(y, 0, 3.5, 4.5, 5.5, 7.5, 8.5, 9.5, 11.5, 12.5, 13.5);

    /* padding 1: zeros are counted, every divisor is 9 */
    y = pf_avg_pool2d(ctx, x, 3, 1, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 4, 4);
    PF_ASSERT_VALUES(y, 1e-6, 14.0 / 9, 24.0 / 9, 30.0 / 9, 22.0 / 9, 33.0 / 9, 54.0 / 9, 63.0 / 9, 45.0 / 9,
                     57.0 / 9, 90.0 / 9, 99.0 / 9, 69.0 / 9, 46.0 / 9, 72.0 / 9, 78.0 / 9, 54.0 / 9);
    /* each input gets 1/9 from every window covering it: 2 or 3 per side */
    PF_ASSERT_VALUES(grad_of(ctx, y, pf_ones(ctx, PF_DIMS(1, 1, 4, 4)), x), 1e-6, 4.0 / 9, 6.0 / 9, 6.0 / 9,
                     4.0 / 9, 6.0 / 9, 1, 1, 6.0 / 9, 6.0 / 9, 1, 1, 6.0 / 9, 4.0 / 9, 6.0 / 9, 6.0 / 9, 4.0 / 9);

    /* float64 keeps double precision */
    pf_tensor *y64 = pf_avg_pool2d(ctx, pf_to_dtype(ctx, x, PF_F64), 3, 1, 1);
    assert_int_equal(y64->dtype, PF_F64);
    PF_ASSERT_VALUES(y64, 1e-14, 14.0 / 9, 24.0 / 9, 30.0 / 9, 22.0 / 9, 33.0 / 9, 54.0 / 9, 63.0 / 9, 45.0 / 9,
                     57.0 / 9, 90.0 / 9, 99.0 / 9, 69.0 / 9, 46.0 / 9, 72.0 / 9, 78.0 / 9, 54.0 / 9);
}

/* ---- adaptive average pooling --------------------------------------------- */

static void test_adaptive_avg_pool2d_by_hand(void **state)
{
    pf_ctx *ctx = *state;
    /* 3x3 -> 2x2: windows rows/cols {0,1} and {1,2} overlap */
    pf_tensor *x = pf_requires_grad(count_from_1(ctx, PF_DIMS(1, 1, 3, 3)), true);
    pf_tensor *y = pf_adaptive_avg_pool2d(ctx, x, 2, 2);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    PF_ASSERT_VALUES(y, 0, 3, 4, 6, 7);
    PF_ASSERT_VALUES(grad_of(ctx, y, pf_ones(ctx, PF_DIMS(1, 1, 2, 2)), x), 0, 0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25,
                     0.5, 0.25);

    /* to 1x1: the mean of each plane */
    pf_tensor *x2 = count_from_1(ctx, PF_DIMS(1, 2, 4, 4));
    PF_ASSERT_VALUES(pf_adaptive_avg_pool2d(ctx, x2, 1, 1), 1e-6, 8.5, 24.5);

    /* larger than the input: 1x2 -> 1x3 with windows {0}, {0,1}, {1} */
    pf_tensor *x3 = leaf_f32(ctx, (float[]){1, 3}, PF_DIMS(1, 1, 1, 2));
    y = pf_adaptive_avg_pool2d(ctx, x3, 1, 3);
    PF_ASSERT_SHAPE(y, 1, 1, 1, 3);
    PF_ASSERT_VALUES(y, 0, 1, 2, 3);
    PF_ASSERT_VALUES(grad_of(ctx, y, pf_ones(ctx, PF_DIMS(1, 1, 1, 3)), x3), 0, 1.5, 1.5);

    /* same size: the identity */
    pf_tensor *x4 = count_from_1(ctx, PF_DIMS(2, 1, 2, 3));
    PF_ASSERT_CLOSE(pf_adaptive_avg_pool2d(ctx, x4, 2, 3), x4, 0, 0);
}

/* ---- gradient checks (float64) -------------------------------------------- */

typedef enum pool_kind { MAX, AVG, ADAPTIVE } pool_kind;

typedef struct pool_args {
    pool_kind kind;
    int kernel, stride, padding; /* for ADAPTIVE: out_h = kernel, out_w = stride */
} pool_args;

static pf_tensor *pool_fn(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const pool_args *a = arg;
    switch (a->kind) {
    case MAX:
        return pf_max_pool2d(ctx, in[0], a->kernel, a->stride, a->padding);
    case AVG:
        return pf_avg_pool2d(ctx, in[0], a->kernel, a->stride, a->padding);
    default:
        return pf_adaptive_avg_pool2d(ctx, in[0], a->kernel, a->stride);
    }
}

static void test_pool_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    const pool_args cases[] = {
        {MAX, 3, 2, 1}, {MAX, 2, 0, 0}, {MAX, 3, 1, 1}, {MAX, 3, 0, 0}, {MAX, 4, 3, 2},
        {AVG, 3, 2, 1}, {AVG, 2, 1, 0}, {AVG, 4, 3, 2}, {AVG, 3, 0, 0},
        {ADAPTIVE, 3, 3, 0}, {ADAPTIVE, 2, 2, 0}, {ADAPTIVE, 4, 3, 0}, {ADAPTIVE, 9, 8, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pf_tensor *x = pf_test_rand64(ctx, 100 + i, -1, 1, PF_DIMS(2, 2, 7, 6));
        PF_GRADCHECK(pool_fn, &cases[i], x);
    }
}

/* ---- golden comparisons with PyTorch -------------------------------------- */

static void check_pool_golden(pf_ctx *ctx, const char *file, pool_args a, pf_dtype dtype)
{
    pf_golden g = pf_golden_load(ctx, file);
    pf_tensor *x = pf_requires_grad(pf_to_dtype(ctx, pf_golden_get(&g, "x"), dtype), true);
    pf_tensor *out = pool_fn(ctx, &x, &a);
    PF_CHECK(out != NULL);
    assert_int_equal(out->dtype, dtype);
    PF_ASSERT_GOLDEN(out, pf_golden_get(&g, "out"));
    if (a.kind == MAX)
        PF_ASSERT_CLOSE(saved_indices(out), pf_golden_get(&g, "indices"), 0, 0);
    PF_CHECK(pf_backward_with(out, pf_to_dtype(ctx, pf_golden_get(&g, "gout"), dtype)));
    PF_ASSERT_GOLDEN(x->grad, pf_golden_get(&g, "grad_x"));
}

static void test_pool_golden(void **state)
{
    pf_ctx *ctx = *state;
    for (int d = 0; d < 2; d++) {
        pf_dtype dtype = d ? PF_F64 : PF_F32;
        check_pool_golden(ctx, "pool_max_k3s2p1", (pool_args){MAX, 3, 2, 1}, dtype);
        check_pool_golden(ctx, "pool_max_k2", (pool_args){MAX, 2, 0, 0}, dtype);
        check_pool_golden(ctx, "pool_max_k3", (pool_args){MAX, 3, 0, 0}, dtype);
        check_pool_golden(ctx, "pool_avg_k3s2p1", (pool_args){AVG, 3, 2, 1}, dtype);
        check_pool_golden(ctx, "pool_avg_k2s1", (pool_args){AVG, 2, 1, 0}, dtype);
        check_pool_golden(ctx, "pool_avg_k4s3p2", (pool_args){AVG, 4, 3, 2}, dtype);
        check_pool_golden(ctx, "pool_adaptive_7to3", (pool_args){ADAPTIVE, 3, 3, 0}, dtype);
        check_pool_golden(ctx, "pool_adaptive_5to2", (pool_args){ADAPTIVE, 2, 2, 0}, dtype);
        check_pool_golden(ctx, "pool_adaptive_5x7to3x4", (pool_args){ADAPTIVE, 3, 4, 0}, dtype);
        check_pool_golden(ctx, "pool_adaptive_2x3to3x5", (pool_args){ADAPTIVE, 3, 5, 0}, dtype);
    }
}

/* ---- layouts and threads -------------------------------------------------- */

/* A strided input pools like its contiguous copy; one OpenMP thread or
 * several give the same bits. */
static void test_pool_strided_input_and_threads(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(7);
    pf_tensor *base = pf_randn(ctx, PF_DIMS(4, 30, 30, 16));
    pf_tensor *x = pf_requires_grad(pf_contiguous(ctx, pf_permute(ctx, base, (const int[]){0, 3, 1, 2})), true);
    pf_tensor *strided = pf_permute(ctx, base, (const int[]){0, 3, 1, 2});
    assert_false(pf_is_contiguous(strided));
    const pool_args cases[] = {{MAX, 3, 2, 1}, {AVG, 3, 2, 1}, {ADAPTIVE, 7, 5, 0}};
    int threads = omp_get_max_threads();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        PF_ASSERT_CLOSE(pool_fn(ctx, &strided, &cases[i]), pool_fn(ctx, &x, &cases[i]), 0, 0);
        pf_tensor *y = pool_fn(ctx, &x, &cases[i]);
        pf_tensor *dy = pf_randn(ctx, y->ndim, y->shape);
        omp_set_num_threads(1);
        pf_tensor *y1 = pool_fn(ctx, &x, &cases[i]), *g1 = grad_of(ctx, y1, dy, x);
        omp_set_num_threads(4);
        pf_tensor *y4 = pool_fn(ctx, &x, &cases[i]), *g4 = grad_of(ctx, y4, dy, x);
        omp_set_num_threads(threads);
        PF_ASSERT_CLOSE(y1, y4, 0, 0);
        PF_ASSERT_CLOSE(g1, g4, 0, 0);
    }
}

/* An empty batch pools to an empty output. */
static void test_pool_empty_batch(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_zeros(ctx, PF_DIMS(0, 3, 6, 6)), true);
    PF_ASSERT_SHAPE(pf_max_pool2d(ctx, x, 2, 0, 0), 0, 3, 3, 3);
    PF_ASSERT_SHAPE(pf_avg_pool2d(ctx, x, 3, 2, 1), 0, 3, 3, 3);
    pf_tensor *y = pf_adaptive_avg_pool2d(ctx, x, 2, 2);
    PF_ASSERT_SHAPE(y, 0, 3, 2, 2);
    PF_CHECK(pf_backward(pf_sum(ctx, y)));
    PF_ASSERT_SHAPE(x->grad, 0, 3, 6, 6);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_pool_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_zeros(ctx, PF_DIMS(1, 2, 5, 5));
    assert_null(pf_max_pool2d(ctx, x, 3, 1, 2));
    PF_ASSERT_ERROR("pf_max_pool2d: padding 2 is more than half the kernel size 3");
    assert_null(pf_avg_pool2d(ctx, x, 2, 1, 2));
    PF_ASSERT_ERROR("pf_avg_pool2d: padding 2 is more than half the kernel size 2");
    assert_null(pf_max_pool2d(ctx, pf_zeros(ctx, PF_DIMS(2, 5, 5)), 2, 0, 0));
    PF_ASSERT_ERROR("pf_max_pool2d: input [2,5,5] must be 4-D [N, C, H, W]");
    assert_null(pf_avg_pool2d(ctx, pf_zeros(ctx, PF_DIMS(1, 1, 2, 5, 5)), 2, 0, 0));
    PF_ASSERT_ERROR("pf_avg_pool2d: input [1,1,2,5,5] must be 4-D");
    assert_null(pf_adaptive_avg_pool2d(ctx, pf_zeros(ctx, PF_DIMS(25)), 2, 2));
    PF_ASSERT_ERROR("pf_adaptive_avg_pool2d: input [25] must be 4-D");
    assert_null(pf_max_pool2d(ctx, pf_zeros(ctx, PF_DIMS(1, 1, 2, 5)), 3, 0, 0));
    PF_ASSERT_ERROR("pf_max_pool2d: input [1,1,2,5] is smaller than the kernel 3 with padding 0");
    /* padding lets the kernel fit */
    PF_ASSERT_SHAPE(pf_max_pool2d(ctx, pf_zeros(ctx, PF_DIMS(1, 1, 2, 5)), 3, 0, 1), 1, 1, 1, 2);
    assert_null(pf_avg_pool2d(ctx, x, 0, 0, 0));
    PF_ASSERT_ERROR("kernel size 0 must be at least 1");
    assert_null(pf_max_pool2d(ctx, x, 2, -1, 0));
    PF_ASSERT_ERROR("must not be negative");
    assert_null(pf_max_pool2d(ctx, pf_zeros(ctx, PF_DIMS(1, 1, 0, 4)), 1, 0, 0));
    PF_ASSERT_ERROR("empty plane");
    assert_null(pf_adaptive_avg_pool2d(ctx, x, 0, 2));
    PF_ASSERT_ERROR("pf_adaptive_avg_pool2d: output size 0x2 must be at least 1x1");
    assert_null(pf_adaptive_avg_pool2d(ctx, pf_zeros(ctx, PF_DIMS(1, 1, 4, 0)), 2, 2));
    PF_ASSERT_ERROR("empty plane");
    assert_null(pf_max_pool2d(ctx, pf_to_dtype(ctx, x, PF_I64), 2, 0, 0));
    PF_ASSERT_ERROR("pf_max_pool2d: expected a float32 or float64 tensor");
    assert_null(pf_avg_pool2d(ctx, NULL, 2, 0, 0));
    PF_ASSERT_ERROR("NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_max_pool2d_by_hand),
        TEST(test_max_pool2d_ties_nan_inf),
        TEST(test_avg_pool2d_by_hand),
        TEST(test_adaptive_avg_pool2d_by_hand),
        TEST(test_pool_gradcheck),
        TEST(test_pool_golden),
        TEST(test_pool_strided_input_and_threads),
        TEST(test_pool_empty_batch),
        TEST(test_pool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
