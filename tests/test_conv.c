/*
 * test_conv.c — pf_conv2d and pf_conv_transpose2d: forward values computed
 * by hand, finite-difference gradient checks (float64) of input, weight and
 * bias for combinations of stride, padding and dilation, comparisons with
 * PyTorch (golden files written by tests/golden/gen_conv.py, among them the
 * lecture's CNN and AlexNet's first layer), chunked and thread-count
 * independent kernels, and the errors.
 */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu_backend.h"
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

/* ---- forward values by hand --------------------------------------------- */

/* x = 1..16 as 1x1x4x4 (x[i][j] = 4i + j + 1), w = [[1,2],[3,4]]. */
static void test_conv2d_forward_by_hand(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = count_from_1(ctx, PF_DIMS(1, 1, 4, 4));
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(1, 1, 2, 2));
    pf_tensor *b = pf_from_f32(ctx, (float[]){0.5f}, PF_DIMS(1));

    /* out[i][j] = 40i + 10j + 44 (+ 0.5) */
    pf_tensor *y = pf_conv2d(ctx, x, w, b, 1, 0, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 3, 3);
    PF_ASSERT_VALUES(y, 0, 44.5, 54.5, 64.5, 84.5, 94.5, 104.5, 124.5, 134.5, 144.5);
    /* stride 2 keeps the even positions */
    y = pf_conv2d(ctx, x, w, b, 2, 0, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    PF_ASSERT_VALUES(y, 0, 44.5, 64.5, 124.5, 144.5);
    /* padding 1: the border sees zeros; out[0][0] = x[0][0]*w[1][1] = 4 */
    y = pf_conv2d(ctx, x, w, NULL, 0, 1, 0);
    PF_ASSERT_SHAPE(y, 1, 1, 5, 5);
    PF_ASSERT_VALUES(y, 0, 4, 11, 18, 25, 12, 22, 44, 54, 64, 28, 46, 84, 94, 104, 44, 70, 124, 134, 144, 60, 26, 41,
                     44, 47, 16);
    /* dilation 2: taps x[i][j], x[i][j+2], x[i+2][j], x[i+2][j+2]: 40i + 10j + 78 */
    y = pf_conv2d(ctx, x, w, NULL, 1, 0, 2);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    PF_ASSERT_VALUES(y, 0, 78, 88, 118, 128);
    /* stride 2, padding 1, dilation 2: taps at rows/cols -1, 1 (then 1, 3) */
    y = pf_conv2d(ctx, x, w, NULL, 2, 1, 2);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    /* out[0][0] = x[1][1]*4 = 24; out[0][1] = x[1][1]*3 + x[1][3]*4 = 18+32;
     * out[1][0] = x[1][1]*2 + x[3][1]*4 = 12+56; out[1][1] = 6+16+42+64 */
    PF_ASSERT_VALUES(y, 0, 24, 50, 68, 128);
    /* float64 gives the same */
    pf_tensor *y64 = pf_conv2d(ctx, pf_to_dtype(ctx, x, PF_F64), pf_to_dtype(ctx, w, PF_F64),
                               pf_to_dtype(ctx, b, PF_F64), 1, 0, 1);
    assert_int_equal(y64->dtype, PF_F64);
    PF_ASSERT_VALUES(y64, 0, 44.5, 54.5, 64.5, 84.5, 94.5, 104.5, 124.5, 134.5, 144.5);
}

/* Channels are summed; each output channel has its own weight and bias. */
static void test_conv2d_forward_channels(void **state)
{
    pf_ctx *ctx = *state;
    /* image 0: channel 0 all 1, channel 1 all 2; image 1: 3 and -1 */
    float xs[36];
    for (int i = 0; i < 9; i++) {
        xs[i] = 1;
        xs[9 + i] = 2;
        xs[18 + i] = 3;
        xs[27 + i] = -1;
    }
    pf_tensor *x = pf_from_f32(ctx, xs, PF_DIMS(2, 2, 3, 3));
    /* out channel 0: +1 on both input channels; out channel 1: +1 on channel 0, -1 on channel 1 */
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1},
                               PF_DIMS(2, 2, 2, 2));
    pf_tensor *b = pf_from_f32(ctx, (float[]){0, 100}, PF_DIMS(2));
    pf_tensor *y = pf_conv2d(ctx, x, w, b, 1, 0, 1);
    PF_ASSERT_SHAPE(y, 2, 2, 2, 2);
    PF_ASSERT_VALUES(y, 0, 12, 12, 12, 12, 96, 96, 96, 96, 8, 8, 8, 8, 116, 116, 116, 116);
}

/* x = [[1,2],[3,4]], w = [[1,10],[100,1000]]: each input scatters a scaled
 * copy of the kernel. */
static void test_conv_transpose2d_forward_by_hand(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = count_from_1(ctx, PF_DIMS(1, 1, 2, 2));
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, 10, 100, 1000}, PF_DIMS(1, 1, 2, 2));
    /* stride 1: overlapping copies */
    pf_tensor *y = pf_conv_transpose2d(ctx, x, w, NULL, 1, 0, 0, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 3, 3);
    PF_ASSERT_VALUES(y, 0, 1, 12, 20, 103, 1234, 2040, 300, 3400, 4000);
    /* stride 2: side by side, plus the bias */
    pf_tensor *b = pf_from_f32(ctx, (float[]){0.5f}, PF_DIMS(1));
    y = pf_conv_transpose2d(ctx, x, w, b, 2, 0, 0, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 4, 4);
    PF_ASSERT_VALUES(y, 0, 1.5, 10.5, 2.5, 20.5, 100.5, 1000.5, 200.5, 2000.5, 3.5, 30.5, 4.5, 40.5, 300.5,
                     3000.5, 400.5, 4000.5);
    /* output_padding 1 adds a zero row and column (5x5), padding 1 crops one
     * on each side: rows/cols 1..3 of it */
    y = pf_conv_transpose2d(ctx, x, w, NULL, 2, 1, 1, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 3, 3);
    PF_ASSERT_VALUES(y, 0, 1000, 200, 2000, 30, 4, 40, 3000, 400, 4000);
    /* two input channels into one output channel add up */
    pf_tensor *x2 = pf_from_f32(ctx, (float[]){1, 2}, PF_DIMS(1, 2, 1, 1));
    pf_tensor *w2 = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 10, 20, 30, 40}, PF_DIMS(2, 1, 2, 2));
    y = pf_conv_transpose2d(ctx, x2, w2, NULL, 1, 0, 0, 1);
    PF_ASSERT_SHAPE(y, 1, 1, 2, 2);
    PF_ASSERT_VALUES(y, 0, 21, 42, 63, 84);
}

/* A strided (permuted) input gives the same result as a contiguous one. */
static void test_conv2d_strided_input(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *base = pf_requires_grad(pf_test_rand64(ctx, 5, -1, 1, PF_DIMS(2, 6, 5, 3)), false);
    pf_tensor *x = pf_permute(ctx, base, (const int[]){0, 3, 1, 2}); /* [2,3,6,5], not contiguous */
    assert_false(pf_is_contiguous(x));
    pf_tensor *w = pf_requires_grad(pf_test_rand64(ctx, 6, -1, 1, PF_DIMS(4, 3, 3, 3)), false);
    pf_tensor *wt = pf_transpose(ctx, pf_contiguous(ctx, pf_transpose(ctx, w, 2, 3)), 2, 3);
    pf_tensor *a = pf_conv2d(ctx, x, wt, NULL, 2, 1, 1);
    pf_tensor *b = pf_conv2d(ctx, pf_contiguous(ctx, x), w, NULL, 2, 1, 1);
    PF_ASSERT_CLOSE(a, b, 0, 0);
    pf_tensor *c = pf_conv_transpose2d(ctx, pf_transpose(ctx, pf_contiguous(ctx, pf_transpose(ctx, b, 2, 3)), 2, 3),
                                       wt, NULL, 2, 1, 1, 1);
    PF_ASSERT_CLOSE(c, pf_conv_transpose2d(ctx, b, w, NULL, 2, 1, 1, 1), 0, 0);
}

/* ---- gradient checks (float64) ------------------------------------------ */

typedef struct conv_args {
    int stride, padding, output_padding, dilation;
    bool transposed;
} conv_args;

static pf_tensor *conv_fn(pf_ctx *ctx, pf_tensor *const *in, const void *arg, pf_tensor *bias)
{
    const conv_args *a = arg;
    if (a->transposed)
        return pf_conv_transpose2d(ctx, in[0], in[1], bias, a->stride, a->padding, a->output_padding, a->dilation);
    return pf_conv2d(ctx, in[0], in[1], bias, a->stride, a->padding, a->dilation);
}

static pf_tensor *conv_with_bias(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return conv_fn(ctx, in, arg, in[2]);
}

static pf_tensor *conv_without_bias(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return conv_fn(ctx, in, arg, NULL);
}

static void test_conv2d_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    const conv_args cases[] = {
        {1, 0, 0, 1, false}, {2, 0, 0, 1, false}, {1, 1, 0, 1, false}, {1, 0, 0, 2, false},
        {2, 1, 0, 1, false}, {1, 1, 0, 2, false}, {2, 1, 0, 2, false}, {3, 2, 0, 1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pf_tensor *x = pf_test_rand64(ctx, 10 + i, -1, 1, PF_DIMS(2, 2, 7, 6));
        pf_tensor *w = pf_test_rand64(ctx, 20 + i, -1, 1, PF_DIMS(3, 2, 3, 2));
        pf_tensor *b = pf_test_rand64(ctx, 30 + i, -1, 1, PF_DIMS(3));
        PF_GRADCHECK(conv_with_bias, &cases[i], x, w, b);
        PF_GRADCHECK(conv_without_bias, &cases[i], x, w);
    }
}

static void test_conv_transpose2d_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    const conv_args cases[] = {
        {1, 0, 0, 1, true}, {2, 1, 1, 1, true}, {1, 1, 0, 2, true}, {2, 1, 1, 2, true}, {3, 0, 2, 1, true},
        {1, 0, 1, 2, true}, /* output_padding 1 >= stride 1, allowed by the dilation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pf_tensor *x = pf_test_rand64(ctx, 40 + i, -1, 1, PF_DIMS(2, 3, 3, 4));
        pf_tensor *w = pf_test_rand64(ctx, 50 + i, -1, 1, PF_DIMS(3, 2, 3, 2));
        pf_tensor *b = pf_test_rand64(ctx, 60 + i, -1, 1, PF_DIMS(2));
        PF_GRADCHECK(conv_with_bias, &cases[i], x, w, b);
        PF_GRADCHECK(conv_without_bias, &cases[i], x, w);
    }
}

/* Only some inputs need gradients: the others get none, and the ones asked
 * for are right. */
static void test_conv2d_partial_gradients(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_test_rand64(ctx, 1, -1, 1, PF_DIMS(2, 2, 5, 5)), false);
    pf_tensor *w = pf_test_rand64(ctx, 2, -1, 1, PF_DIMS(3, 2, 3, 3));
    pf_tensor *b = pf_requires_grad(pf_test_rand64(ctx, 3, -1, 1, PF_DIMS(3)), false);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_conv2d(ctx, x, w, b, 1, 1, 1))));
    assert_null(x->grad);
    assert_null(b->grad);
    PF_CHECK(w->grad != NULL);
    /* d sum / d w[o][c][i][j] is the sum of x over the positions that tap meets */
    double *g = pf_data_f64(w->grad), *xs = pf_data_f64(x);
    for (int c = 0; c < 2; c++) {
        /* tap (0,0) with padding 1 meets x rows 0..3, cols 0..3 of each image */
        double sum = 0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    sum += xs[((n * 2 + c) * 5 + i) * 5 + j];
        for (int o = 0; o < 3; o++)
            assert_true(fabs(g[((o * 2 + c) * 3 + 0) * 3 + 0] - sum) < 1e-12);
    }
    /* the bias alone: 25 positions times 2 images */
    pf_tensor *b2 = pf_test_rand64(ctx, 4, -1, 1, PF_DIMS(3));
    PF_CHECK(pf_backward(pf_sum(ctx, pf_conv2d(ctx, x, pf_detach(ctx, w), b2, 1, 1, 1))));
    PF_ASSERT_VALUES(b2->grad, 1e-12, 50, 50, 50);
}

/* ---- golden comparisons with PyTorch ------------------------------------ */

/* A leaf of dtype requiring grad, from a golden tensor. */
static pf_tensor *golden_leaf(pf_ctx *ctx, const pf_golden *g, const char *name, pf_dtype dtype)
{
    return pf_requires_grad(pf_to_dtype(ctx, pf_golden_get(g, name), dtype), true);
}

/* A leaf decoded from the uint8 codes "<name>_u8": (code - 128) / 64. */
static pf_tensor *coded_leaf(pf_ctx *ctx, const pf_golden *g, const char *name, pf_dtype dtype)
{
    char key[64];
    snprintf(key, sizeof key, "%s_u8", name);
    pf_tensor *t = pf_mul_scalar(ctx, pf_add_scalar(ctx, pf_to_dtype(ctx, pf_golden_get(g, key), dtype), -128),
                                 1.0 / 64);
    return pf_requires_grad(t, true);
}

/* One golden case of a (transposed) convolution, computed in dtype. */
static void check_conv_golden(pf_ctx *ctx, const char *file, conv_args a, pf_dtype dtype)
{
    pf_golden g = pf_golden_load(ctx, file);
    pf_tensor *x = golden_leaf(ctx, &g, "x", dtype), *w = golden_leaf(ctx, &g, "w", dtype);
    bool has_bias = pf_named_find(g.tensors, g.count, "b") != NULL;
    pf_tensor *b = has_bias ? golden_leaf(ctx, &g, "b", dtype) : NULL;
    pf_tensor *out = conv_fn(ctx, (pf_tensor *[]){x, w}, &a, b);
    PF_CHECK(out != NULL);
    assert_int_equal(out->dtype, dtype);
    PF_ASSERT_GOLDEN(out, pf_golden_get(&g, "out"));
    PF_CHECK(pf_backward_with(out, pf_to_dtype(ctx, pf_golden_get(&g, "gout"), dtype)));
    PF_ASSERT_GOLDEN(x->grad, pf_golden_get(&g, "grad_x"));
    PF_ASSERT_GOLDEN(w->grad, pf_golden_get(&g, "grad_w"));
    if (has_bias)
        PF_ASSERT_GOLDEN(b->grad, pf_golden_get(&g, "grad_b"));
}

static void test_conv2d_golden(void **state)
{
    pf_ctx *ctx = *state;
    for (int d = 0; d < 2; d++) {
        pf_dtype dtype = d ? PF_F64 : PF_F32;
        check_conv_golden(ctx, "conv_basic", (conv_args){1, 0, 0, 1, false}, dtype);
        check_conv_golden(ctx, "conv_s2p1d2", (conv_args){2, 1, 0, 2, false}, dtype);
        check_conv_golden(ctx, "conv_s3p2_nobias", (conv_args){3, 2, 0, 1, false}, dtype);
        check_conv_golden(ctx, "conv_1x1", (conv_args){1, 0, 0, 1, false}, dtype);
    }
}

static void test_conv_transpose2d_golden(void **state)
{
    pf_ctx *ctx = *state;
    for (int d = 0; d < 2; d++) {
        pf_dtype dtype = d ? PF_F64 : PF_F32;
        check_conv_golden(ctx, "conv_transpose_s2p1op1", (conv_args){2, 1, 1, 1, true}, dtype);
        check_conv_golden(ctx, "conv_transpose_d2", (conv_args){1, 1, 0, 2, true}, dtype);
        check_conv_golden(ctx, "conv_transpose_s3op2", (conv_args){3, 0, 2, 1, true}, dtype);
    }
}

/* Checks a weight gradient stored as its first 8 output channels and its
 * sum over output channels. */
static void check_weight_grad_views(pf_ctx *ctx, const pf_golden *g, pf_tensor *grad, const char *prefix)
{
    char first[64], sum[64];
    snprintf(first, sizeof first, "%s_first8", prefix);
    snprintf(sum, sizeof sum, "%s_sum_out", prefix);
    PF_ASSERT_GOLDEN(pf_narrow(ctx, grad, 0, 0, 8), pf_golden_get(g, first));
    PF_ASSERT_GOLDEN(pf_sum_dims(ctx, grad, 1, (const int[]){0}, false), pf_golden_get(g, sum));
}

/* The lecture's CNN (without activations) on a batch of 2:
 * conv 1->32 k5, maxpool 3, conv 32->64 k5, maxpool 2; the second
 * convolution by im2col (two tiles are too few for Winograd by default),
 * then by Winograd, forced, within the same tolerance. */
static void check_lecture_cnn_golden(pf_ctx *ctx);

static void test_lecture_cnn_golden(void **state)
{
    pf_ctx *ctx = *state;
    check_lecture_cnn_golden(ctx);
    pf_cpu_conv_set_algorithm(PF_CONV_WINOGRAD);
    check_lecture_cnn_golden(ctx);
    pf_cpu_conv_set_algorithm(PF_CONV_AUTO);
}

static void check_lecture_cnn_golden(pf_ctx *ctx)
{
    pf_golden g = pf_golden_load(ctx, "conv_lecture");
    pf_tensor *x = coded_leaf(ctx, &g, "x", PF_F32);
    pf_tensor *w1 = coded_leaf(ctx, &g, "w1", PF_F32), *b1 = coded_leaf(ctx, &g, "b1", PF_F32);
    pf_tensor *w2 = coded_leaf(ctx, &g, "w2", PF_F32), *b2 = coded_leaf(ctx, &g, "b2", PF_F32);
    pf_tensor *h1 = pf_conv2d(ctx, x, w1, b1, 1, 0, 1);
    PF_ASSERT_SHAPE(h1, 2, 32, 24, 24);
    pf_tensor *p1 = pf_max_pool2d(ctx, h1, 3, 0, 0);
    PF_ASSERT_SHAPE(p1, 2, 32, 8, 8);
    pf_tensor *h2 = pf_conv2d(ctx, p1, w2, b2, 1, 0, 1);
    PF_ASSERT_SHAPE(h2, 2, 64, 4, 4);
    pf_tensor *out = pf_max_pool2d(ctx, h2, 2, 0, 0);
    PF_ASSERT_SHAPE(out, 2, 64, 2, 2);
    PF_ASSERT_GOLDEN(out, pf_golden_get(&g, "out"));
    pf_tensor *gout = pf_mul_scalar(ctx, pf_add_scalar(ctx, pf_to_dtype(ctx, pf_golden_get(&g, "gout_u8"), PF_F32),
                                                       -128), 1.0 / 64);
    PF_CHECK(pf_backward_with(out, gout));
    PF_ASSERT_GOLDEN(x->grad, pf_golden_get(&g, "grad_x"));
    PF_ASSERT_GOLDEN(w1->grad, pf_golden_get(&g, "grad_w1"));
    PF_ASSERT_GOLDEN(b1->grad, pf_golden_get(&g, "grad_b1"));
    check_weight_grad_views(ctx, &g, w2->grad, "grad_w2");
    PF_ASSERT_GOLDEN(b2->grad, pf_golden_get(&g, "grad_b2"));
}

/* AlexNet's first layer, conv 3->64 k11 stride 4 padding 2, on 1x3x67x67. */
static void test_alexnet_first_layer_golden(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "conv_alexnet1");
    pf_tensor *x = coded_leaf(ctx, &g, "x", PF_F32);
    pf_tensor *w = coded_leaf(ctx, &g, "w", PF_F32), *b = coded_leaf(ctx, &g, "b", PF_F32);
    pf_tensor *out = pf_conv2d(ctx, x, w, b, 4, 2, 1);
    PF_ASSERT_SHAPE(out, 1, 64, 16, 16);
    PF_ASSERT_GOLDEN(out, pf_golden_get(&g, "out"));
    pf_tensor *gout = pf_mul_scalar(ctx, pf_add_scalar(ctx, pf_to_dtype(ctx, pf_golden_get(&g, "gout_u8"), PF_F32),
                                                       -128), 1.0 / 64);
    PF_CHECK(pf_backward_with(out, gout));
    PF_ASSERT_GOLDEN(x->grad, pf_golden_get(&g, "grad_x"));
    check_weight_grad_views(ctx, &g, w->grad, "grad_w");
    PF_ASSERT_GOLDEN(b->grad, pf_golden_get(&g, "grad_b"));
}

/* ---- kernels: chunks of images, thread counts --------------------------- */

/* Output, and gradients of input, weight and bias, of one convolution. */
typedef struct conv_results {
    pf_tensor *out, *dx, *dw, *db;
} conv_results;

static conv_results run_conv(pf_ctx *ctx, pf_tensor *x, pf_tensor *w, pf_tensor *b, const conv_args *a)
{
    pf_tensor *inputs[3] = {x, w, b}, *grads[3] = {0};
    pf_tensor *out = conv_with_bias(ctx, inputs, a);
    pf_tensor *weights = pf_requires_grad(pf_test_rand64(ctx, 99, 0.5, 1.5, out->ndim, out->shape), false);
    pf_tensor *loss = pf_sum(ctx, pf_mul(ctx, out, pf_to_dtype(ctx, weights, out->dtype)));
    PF_CHECK(pf_grad(ctx, loss, 3, inputs, grads));
    return (conv_results){out, grads[0], grads[1], grads[2]};
}

static void assert_same_results(conv_results a, conv_results b, double rtol)
{
    PF_ASSERT_CLOSE(a.out, b.out, rtol, 0);
    PF_ASSERT_CLOSE(a.dx, b.dx, rtol, 0);
    PF_ASSERT_CLOSE(a.dw, b.dw, rtol, 0);
    PF_ASSERT_CLOSE(a.db, b.db, rtol, 0);
}

/* With a scratch limit that holds one or two images' columns, batches run
 * in chunks (down to one image each): the results agree with one chunk, up
 * to rounding (BLAS sums products of other shapes). */
static void test_conv_chunked_batches(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_test_rand64(ctx, 71, -1, 1, PF_DIMS(5, 3, 9, 8));
    pf_tensor *w = pf_test_rand64(ctx, 72, -1, 1, PF_DIMS(4, 3, 3, 3));
    pf_tensor *b = pf_test_rand64(ctx, 73, -1, 1, PF_DIMS(4));
    pf_tensor *wt = pf_test_rand64(ctx, 74, -1, 1, PF_DIMS(3, 4, 3, 3));
    pf_tensor *bt = pf_test_rand64(ctx, 75, -1, 1, PF_DIMS(4));
    const conv_args conv = {2, 1, 0, 1, false}, transposed = {2, 1, 1, 1, true};
    conv_results whole = run_conv(ctx, x, w, b, &conv);
    conv_results whole_t = run_conv(ctx, x, wt, bt, &transposed);
    /* per image: conv 27 rows + 4 channels, by 5*4 = 20 positions; the
     * transposed conv's convolution: 36 rows + 3 channels, by 72 positions */
    const int64_t limits[] = {(27 + 4) * 20, (27 + 4) * 20 * 2, (36 + 3) * 72, 1};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        pf_cpu_conv_set_scratch_limit(limits[i]);
        conv_results part = run_conv(ctx, x, w, b, &conv);
        conv_results part_t = run_conv(ctx, x, wt, bt, &transposed);
        pf_cpu_conv_set_scratch_limit(0);
        assert_same_results(part, whole, 1e-13);
        assert_same_results(part_t, whole_t, 1e-13);
    }
}

/* The kernels' own loops split work by shape only: one OpenMP thread or
 * several give the same bits (BLAS keeps its thread count: OpenBLAS's
 * products do change in the last bits with its thread count). The layer is
 * large enough for every loop to run in parallel. */
static void test_conv_thread_count_invariance(void **state)
{
    pf_ctx *ctx = *state;
    int threads = omp_get_max_threads();
    pf_manual_seed(3);
    pf_tensor *x = pf_requires_grad(pf_randn(ctx, PF_DIMS(8, 32, 12, 12)), true);
    pf_tensor *w = pf_requires_grad(pf_randn(ctx, PF_DIMS(64, 32, 5, 5)), true);
    pf_tensor *b = pf_requires_grad(pf_randn(ctx, PF_DIMS(64)), true);
    const conv_args a = {1, 2, 0, 1, false}, t = {2, 1, 1, 1, true};
    pf_tensor *wt = pf_requires_grad(pf_randn(ctx, PF_DIMS(32, 16, 3, 3)), true);
    pf_tensor *bt = pf_requires_grad(pf_randn(ctx, PF_DIMS(16)), true);
    omp_set_num_threads(1);
    conv_results one = run_conv(ctx, x, w, b, &a), one_t = run_conv(ctx, x, wt, bt, &t);
    omp_set_num_threads(4);
    conv_results four = run_conv(ctx, x, w, b, &a), four_t = run_conv(ctx, x, wt, bt, &t);
    omp_set_num_threads(threads);
    assert_same_results(one, four, 0);
    assert_same_results(one_t, four_t, 0);
    /* and the same call twice gives the same bits */
    assert_same_results(run_conv(ctx, x, w, b, &a), run_conv(ctx, x, w, b, &a), 0);
}

/* An empty batch gives an empty output and zero weight gradients. */
static void test_conv_empty_batch(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_test_rand64(ctx, 1, -1, 1, PF_DIMS(0, 2, 5, 5));
    pf_tensor *w = pf_test_rand64(ctx, 2, -1, 1, PF_DIMS(3, 2, 3, 3));
    pf_tensor *b = pf_test_rand64(ctx, 3, -1, 1, PF_DIMS(3));
    pf_tensor *y = pf_conv2d(ctx, x, w, b, 1, 0, 1);
    PF_ASSERT_SHAPE(y, 0, 3, 3, 3);
    PF_CHECK(pf_backward(pf_sum(ctx, y)));
    PF_ASSERT_SHAPE(w->grad, 3, 2, 3, 3);
    PF_ASSERT_CLOSE(w->grad, pf_zeros(ctx, PF_DIMS(3, 2, 3, 3)), 0, 0);
    PF_ASSERT_VALUES(b->grad, 0, 0, 0, 0);
    PF_ASSERT_SHAPE(pf_conv_transpose2d(ctx, x, pf_test_rand64(ctx, 4, -1, 1, PF_DIMS(2, 3, 3, 3)), NULL, 2, 1,
                                        1, 1),
                    0, 3, 10, 10);
}

/* ---- errors --------------------------------------------------------------- */

static void test_conv2d_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_zeros(ctx, PF_DIMS(8, 3, 28, 28));
    pf_tensor *w = pf_zeros(ctx, PF_DIMS(32, 1, 5, 5));
    assert_null(pf_conv2d(ctx, x, w, NULL, 1, 0, 1));
    PF_ASSERT_ERROR("pf_conv2d: input [8,3,28,28] has 3 channels but weight [32,1,5,5] expects 1");

    pf_tensor *w3 = pf_zeros(ctx, PF_DIMS(32, 3, 5, 5));
    assert_null(pf_conv2d(ctx, pf_zeros(ctx, PF_DIMS(1, 3, 4, 4)), w3, NULL, 1, 0, 1));
    PF_ASSERT_ERROR("pf_conv2d: input [1,3,4,4] is too small for weight [32,3,5,5]");
    /* padding makes it fit; dilation makes it too large again */
    PF_ASSERT_SHAPE(pf_conv2d(ctx, pf_zeros(ctx, PF_DIMS(1, 3, 4, 4)), w3, NULL, 1, 1, 1), 1, 32, 2, 2);
    assert_null(pf_conv2d(ctx, pf_zeros(ctx, PF_DIMS(1, 3, 8, 8)), w3, NULL, 1, 0, 2));
    PF_ASSERT_ERROR("too small");

    assert_null(pf_conv2d(ctx, pf_zeros(ctx, PF_DIMS(3, 28, 28)), w3, NULL, 1, 0, 1));
    PF_ASSERT_ERROR("pf_conv2d: input [3,28,28] must be 4-D");
    assert_null(pf_conv2d(ctx, x, pf_zeros(ctx, PF_DIMS(32, 75)), NULL, 1, 0, 1));
    PF_ASSERT_ERROR("pf_conv2d: weight [32,75] must be 4-D");
    assert_null(pf_conv2d(ctx, x, w3, pf_zeros(ctx, PF_DIMS(31)), 1, 0, 1));
    PF_ASSERT_ERROR("pf_conv2d: bias [31] does not match weight [32,3,5,5]");
    assert_null(pf_conv2d(ctx, x, w3, NULL, -1, 0, 1));
    PF_ASSERT_ERROR("must not be negative");
    assert_null(pf_conv2d(ctx, x, pf_zeros(ctx, PF_DIMS(32, 3, 0, 5)), NULL, 1, 0, 1));
    PF_ASSERT_ERROR("empty kernel");
    assert_null(pf_conv2d(ctx, x, pf_to_dtype(ctx, w3, PF_F64), NULL, 1, 0, 1));
    PF_ASSERT_ERROR("pf_conv2d: dtypes differ");
    assert_null(pf_conv2d(ctx, pf_to_dtype(ctx, x, PF_I64), w3, NULL, 1, 0, 1));
    PF_ASSERT_ERROR("pf_conv2d: expected a float32 or float64 tensor");
    assert_null(pf_conv2d(ctx, NULL, w3, NULL, 1, 0, 1));
    PF_ASSERT_ERROR("NULL");
    /* an earlier error is kept, not overwritten */
    pf_fail("first");
    assert_null(pf_conv2d(ctx, x, NULL, NULL, 1, 0, 1));
    PF_ASSERT_ERROR("first");
}

static void test_conv_transpose2d_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_zeros(ctx, PF_DIMS(2, 4, 5, 5));
    assert_null(pf_conv_transpose2d(ctx, x, pf_zeros(ctx, PF_DIMS(3, 4, 3, 3)), NULL, 1, 0, 0, 1));
    PF_ASSERT_ERROR("pf_conv_transpose2d: input [2,4,5,5] has 4 channels but weight [3,4,3,3] expects 3");
    pf_tensor *w = pf_zeros(ctx, PF_DIMS(4, 3, 3, 3));
    assert_null(pf_conv_transpose2d(ctx, x, w, pf_zeros(ctx, PF_DIMS(4)), 1, 0, 0, 1));
    PF_ASSERT_ERROR("pf_conv_transpose2d: bias [4] does not match weight [4,3,3,3] (expected [3])");
    assert_null(pf_conv_transpose2d(ctx, x, w, NULL, 2, 0, 2, 1));
    PF_ASSERT_ERROR("output_padding 2 must be smaller than the stride (2) or the dilation (1)");
    assert_null(pf_conv_transpose2d(ctx, pf_zeros(ctx, PF_DIMS(1, 4, 1, 1)), pf_zeros(ctx, PF_DIMS(4, 3, 1, 1)),
                                    NULL, 1, 1, 0, 1));
    PF_ASSERT_ERROR("output would be -1x-1");
    assert_null(pf_conv_transpose2d(ctx, pf_zeros(ctx, PF_DIMS(4, 5, 5)), w, NULL, 1, 0, 0, 1));
    PF_ASSERT_ERROR("must be 4-D");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_conv2d_forward_by_hand),
        TEST(test_conv2d_forward_channels),
        TEST(test_conv_transpose2d_forward_by_hand),
        TEST(test_conv2d_strided_input),
        TEST(test_conv2d_gradcheck),
        TEST(test_conv_transpose2d_gradcheck),
        TEST(test_conv2d_partial_gradients),
        TEST(test_conv2d_golden),
        TEST(test_conv_transpose2d_golden),
        TEST(test_lecture_cnn_golden),
        TEST(test_alexnet_first_layer_golden),
        TEST(test_conv_chunked_batches),
        TEST(test_conv_thread_count_invariance),
        TEST(test_conv_empty_batch),
        TEST(test_conv2d_errors),
        TEST(test_conv_transpose2d_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
