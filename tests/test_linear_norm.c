/*
 * test_linear_norm.c — the neural-network operations of section 10 that are
 * not convolutions or pooling: pf_linear, pf_batch_norm, pf_dropout and
 * pf_leaky_relu.
 *
 * Each op is checked on hand-computed values, by finite differences in
 * float64 (every differentiable input), against PyTorch on the cases of
 * tests/golden/nn_*.safetensors (written by tests/golden/gen_nn_misc.py),
 * and on its error cases. Dropout, whose mask PyTorch cannot reproduce, is
 * checked statistically and by its exact structure instead.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

/* ---- Helpers --------------------------------------------------------------- */

/* The tensor "<c>.<name>" of a golden file. */
static pf_tensor *golden(const pf_golden *g, const char *c, const char *name)
{
    char full[256];
    snprintf(full, sizeof full, "%s.%s", c, name);
    return pf_golden_get(g, full);
}

static bool golden_has(const pf_golden *g, const char *c, const char *name)
{
    char full[256];
    snprintf(full, sizeof full, "%s.%s", c, name);
    return pf_named_find(g->tensors, g->count, full) != NULL;
}

/* Copy of a golden tensor as a fresh leaf requiring grad (the golden
 * tensors stay untouched). */
static pf_tensor *leaf(pf_ctx *ctx, pf_tensor *t)
{
    pf_tensor *c = pf_clone(ctx, t);
    return pf_requires_grad(c, true);
}

/* The scalar of a 0-d golden tensor. */
static double golden_scalar(const pf_golden *g, const char *c, const char *name)
{
    return pf_item(golden(g, c, name));
}

/* ---- pf_linear ---------------------------------------------------------------- */

static void test_linear_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_from_f32(ctx, (float[]){1, 2, 3, -1, 0, 2}, PF_DIMS(2, 3));
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, 0, -1, 0.5f, 0.5f, 0.5f}, PF_DIMS(2, 3));
    pf_tensor *b = pf_from_f32(ctx, (float[]){10, -10}, PF_DIMS(2));
    /* x @ w^T = [[1-3, 3], [-1-2, 0.5]] */
    pf_tensor *y = pf_linear(ctx, x, w, b);
    PF_ASSERT_SHAPE(y, 2, 2);
    PF_ASSERT_VALUES(y, 1e-6, 8, -7, 7, -9.5);
    pf_tensor *y0 = pf_linear(ctx, x, w, NULL);
    PF_ASSERT_VALUES(y0, 1e-6, -2, 3, -3, 0.5);
    /* A 1-D x is one sample. */
    pf_tensor *v = pf_linear(ctx, pf_from_f32(ctx, (float[]){1, 2, 3}, PF_DIMS(3)), w, b);
    PF_ASSERT_SHAPE(v, 2);
    PF_ASSERT_VALUES(v, 1e-6, 8, -7);
}

static void test_linear_3d_input(void **state)
{
    pf_ctx *ctx = *state;
    /* [2, 2, 3] input: every [.., 3] row goes through the same layer. */
    pf_tensor *x = pf_from_f32(ctx, (float[]){1, 2, 3, -1, 0, 2, 0, 0, 0, 1, 1, 1}, PF_DIMS(2, 2, 3));
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, 0, -1, 0.5f, 0.5f, 0.5f}, PF_DIMS(2, 3));
    pf_tensor *b = pf_from_f32(ctx, (float[]){10, -10}, PF_DIMS(2));
    pf_tensor *y = pf_linear(ctx, x, w, b);
    PF_ASSERT_SHAPE(y, 2, 2, 2);
    PF_ASSERT_VALUES(y, 1e-6, 8, -7, 7, -9.5, 10, -10, 10, -8.5);
    /* A non-contiguous 3-D input (a transposed view) gives the same. */
    pf_tensor *xt = pf_transpose(ctx, pf_contiguous(ctx, pf_transpose(ctx, x, 0, 1)), 0, 1);
    PF_CHECK(!pf_is_contiguous(xt));
    PF_ASSERT_CLOSE(pf_linear(ctx, xt, w, b), y, 0, 1e-6);
}

static void check_linear_golden(pf_ctx *ctx, const pf_golden *g, const char *c)
{
    bool has_bias = golden_has(g, c, "bias");
    pf_tensor *x = leaf(ctx, golden(g, c, "x")), *w = leaf(ctx, golden(g, c, "weight"));
    pf_tensor *b = has_bias ? leaf(ctx, golden(g, c, "bias")) : NULL;
    pf_tensor *y = pf_linear(ctx, x, w, b);
    PF_ASSERT_GOLDEN(y, golden(g, c, "out"));
    PF_CHECK(pf_backward_with(y, golden(g, c, "gout")));
    PF_ASSERT_GOLDEN(x->grad, golden(g, c, "grad_x"));
    PF_ASSERT_GOLDEN(w->grad, golden(g, c, "grad_weight"));
    if (has_bias)
        PF_ASSERT_GOLDEN(b->grad, golden(g, c, "grad_bias"));
}

static void test_linear_golden(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "nn_linear");
    const char *cases[] = {"bias", "nobias", "batch3d", "vector"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_linear_golden(ctx, &g, cases[i]);
}

static pf_tensor *linear_fn(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    (void)arg;
    return pf_linear(ctx, in[0], in[1], in[2]);
}

static pf_tensor *linear_no_bias_fn(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    (void)arg;
    return pf_linear(ctx, in[0], in[1], NULL);
}

static void test_linear_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *w = pf_test_rand64(ctx, 2, -1, 1, PF_DIMS(3, 4));
    pf_tensor *b = pf_test_rand64(ctx, 3, -1, 1, PF_DIMS(3));
    PF_GRADCHECK(linear_fn, NULL, pf_test_rand64(ctx, 1, -1, 1, PF_DIMS(5, 4)), w, b);
    PF_GRADCHECK(linear_fn, NULL, pf_test_rand64(ctx, 4, -1, 1, PF_DIMS(2, 3, 4)), w, b);
    PF_GRADCHECK(linear_no_bias_fn, NULL, pf_test_rand64(ctx, 5, -1, 1, PF_DIMS(2, 4)), w);
}

/* The weight reaches gemm as a transposed view: pf_linear must not copy
 * it. A copy of this 512x512 weight would take 1 MB. */
static void test_linear_does_not_copy_weight(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *w = pf_zeros(ctx, PF_DIMS(512, 512));
    pf_tensor *x = pf_ones(ctx, PF_DIMS(2, 512));
    size_t before = pf_ctx_get_stats(ctx).used_bytes;
    pf_tensor *y = pf_linear(ctx, x, w, NULL);
    PF_ASSERT_SHAPE(y, 2, 512);
    PF_CHECK(pf_ctx_get_stats(ctx).used_bytes - before < 64 * 1024);
}

static void test_linear_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_zeros(ctx, PF_DIMS(4, 3));
    PF_CHECK(pf_linear(ctx, x, pf_zeros(ctx, PF_DIMS(2, 5)), NULL) == NULL);
    PF_ASSERT_ERROR("pf_linear: x [4,3], weight [2,5]: in features differ (x has 3, weight 5)");
    PF_CHECK(pf_linear(ctx, x, pf_zeros(ctx, PF_DIMS(3)), NULL) == NULL);
    PF_ASSERT_ERROR("the weight must be 2-D");
    PF_CHECK(pf_linear(ctx, x, pf_zeros(ctx, PF_DIMS(2, 3)), pf_zeros(ctx, PF_DIMS(3))) == NULL);
    PF_ASSERT_ERROR("bias [3]: the bias must be [2]");
    PF_CHECK(pf_linear(ctx, pf_scalar(ctx, 1), pf_zeros(ctx, PF_DIMS(2, 3)), NULL) == NULL);
    PF_ASSERT_ERROR("x needs at least one dimension");
    PF_CHECK(pf_linear(ctx, pf_to_dtype(ctx, x, PF_F64), pf_zeros(ctx, PF_DIMS(2, 3)), NULL) == NULL);
    PF_ASSERT_ERROR("dtypes differ");
    /* NULL in, NULL out, and the first error is kept. */
    PF_CHECK(pf_linear(ctx, NULL, pf_zeros(ctx, PF_DIMS(2, 3)), NULL) == NULL);
    PF_ASSERT_ERROR("NULL tensor");
}

/* ---- pf_leaky_relu ------------------------------------------------------------ */

static void test_leaky_relu_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){-2, -0.5f, 0, 1.5f}, PF_DIMS(4)), true);
    pf_tensor *y = pf_leaky_relu(ctx, x, 0.1);
    PF_ASSERT_VALUES(y, 1e-7, -0.2, -0.05, 0, 1.5);
    PF_CHECK(pf_backward(pf_sum(ctx, y)));
    PF_ASSERT_VALUES(x->grad, 1e-7, 0.1, 0.1, 0.1, 1);
    PF_CHECK(pf_leaky_relu(ctx, pf_from_i64(ctx, (int64_t[]){1}, PF_DIMS(1)), 0.1) == NULL);
    PF_ASSERT_ERROR("pf_leaky_relu: expected a float32 or float64 tensor");
}

static pf_tensor *leaky_relu_fn(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_leaky_relu(ctx, in[0], *(const double *)arg);
}

static void test_leaky_relu_gradcheck_and_golden(void **state)
{
    pf_ctx *ctx = *state;
    double slope = 0.2;
    /* Away from the kink at 0, where the finite difference is meaningless. */
    pf_tensor *xs = pf_requires_grad(
        pf_from_f64(ctx, (double[]){0.3, -0.7, 1.2, -2, -0.1, 0.5, 0.9, -1.1, 2.5, 0.2, -0.4, -3}, PF_DIMS(3, 4)),
        true);
    PF_GRADCHECK(leaky_relu_fn, &slope, xs);

    pf_golden g = pf_golden_load(ctx, "nn_leaky_relu");
    const char *cases[] = {"slope_0.1", "slope_-0.5"};
    const double slopes[] = {0.1, -0.5};
    for (int i = 0; i < 2; i++) {
        pf_tensor *in = leaf(ctx, golden(&g, cases[i], "x"));
        pf_tensor *y = pf_leaky_relu(ctx, in, slopes[i]);
        PF_ASSERT_GOLDEN(y, golden(&g, cases[i], "out"));
        PF_CHECK(pf_backward_with(y, golden(&g, cases[i], "gout")));
        PF_ASSERT_GOLDEN(in->grad, golden(&g, cases[i], "grad_x"));
    }
}

/* ---- pf_batch_norm ------------------------------------------------------------ */

static void test_batch_norm_training_values(void **state)
{
    pf_ctx *ctx = *state;
    /* One channel holding 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased
     * var 5/3. */
    pf_tensor *x = pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(4, 1));
    pf_tensor *rm = pf_zeros(ctx, PF_DIMS(1)), *rv = pf_ones(ctx, PF_DIMS(1));
    pf_tensor *w = pf_full(ctx, 2, PF_DIMS(1)), *b = pf_full(ctx, 1, PF_DIMS(1));
    double eps = 1e-5, s = 1 / sqrt(1.25 + eps);
    pf_tensor *y = pf_batch_norm(ctx, x, rm, rv, w, b, true, 0.1, eps);
    PF_ASSERT_SHAPE(y, 4, 1);
    PF_ASSERT_VALUES(y, 1e-6, 1 - 3 * s, 1 - s, 1 + s, 1 + 3 * s);
    PF_ASSERT_VALUES(rm, 1e-7, 0.25);
    PF_ASSERT_VALUES(rv, 1e-6, 0.9 + 0.1 * 5.0 / 3.0);
    /* A second call moves them again. */
    pf_batch_norm(ctx, x, rm, rv, w, b, true, 0.1, eps);
    PF_ASSERT_VALUES(rm, 1e-6, 0.25 * 0.9 + 0.25);
    PF_ASSERT_VALUES(rv, 1e-6, (0.9 + 0.1 * 5.0 / 3.0) * 0.9 + 0.1 * 5.0 / 3.0);
    /* Without affine parameters or running statistics: plain
     * standardisation; [N, C, H, W] with the statistics over N, H, W. */
    pf_tensor *x4 = pf_from_f32(ctx, (float[]){1, 2, 10, 10, 3, 4, 10, 30}, PF_DIMS(2, 2, 2, 1));
    pf_tensor *y4 = pf_batch_norm(ctx, x4, NULL, NULL, NULL, NULL, true, 0.1, eps);
    double s10 = 1 / sqrt(75.0 + eps); /* channel 1: 10, 10, 10, 30 -> mean 15, var 75 */
    PF_ASSERT_VALUES(y4, 1e-5, -1.5 * s, -0.5 * s, -5 * s10, -5 * s10, 0.5 * s, 1.5 * s, -5 * s10, 15 * s10);
}

static void test_batch_norm_eval_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(2, 2));
    pf_tensor *rm = pf_from_f32(ctx, (float[]){1, -1}, PF_DIMS(2));
    pf_tensor *rv = pf_from_f32(ctx, (float[]){4, 0.25f}, PF_DIMS(2));
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, 2}, PF_DIMS(2));
    pf_tensor *b = pf_from_f32(ctx, (float[]){0, 0.5f}, PF_DIMS(2));
    pf_tensor *y = pf_batch_norm(ctx, x, rm, rv, w, b, false, 0.1, 0);
    /* channel 0: (x - 1)/2; channel 1: (x + 1)/0.5*2 + 0.5 */
    PF_ASSERT_VALUES(y, 1e-6, 0, 12.5, 1, 20.5);
    /* Evaluation leaves the running statistics alone, and a batch of one is
     * fine. */
    PF_ASSERT_VALUES(rm, 0, 1, -1);
    PF_ASSERT_VALUES(rv, 0, 4, 0.25);
    pf_tensor *one = pf_batch_norm(ctx, pf_from_f32(ctx, (float[]){3, 0}, PF_DIMS(1, 2)), rm, rv, NULL, NULL,
                                   false, 0.1, 0);
    PF_ASSERT_VALUES(one, 1e-6, 1, 2);
}

/* Two training calls (x1 then x2) from the stored running statistics,
 * then the gradients of the first call; or one evaluation call. */
static void check_batch_norm_golden(pf_ctx *ctx, const pf_golden *g, const char *c, bool training)
{
    bool affine = golden_has(g, c, "weight");
    pf_tensor *w = affine ? leaf(ctx, golden(g, c, "weight")) : NULL;
    pf_tensor *b = affine ? leaf(ctx, golden(g, c, "bias")) : NULL;
    double eps = golden_scalar(g, c, "eps");
    if (!training) {
        pf_tensor *x = leaf(ctx, golden(g, c, "x"));
        pf_tensor *rm = pf_clone(ctx, golden(g, c, "running_mean")), *rv = pf_clone(ctx, golden(g, c, "running_var"));
        pf_tensor *y = pf_batch_norm(ctx, x, rm, rv, w, b, false, 0.1, eps);
        PF_ASSERT_GOLDEN(y, golden(g, c, "out"));
        PF_CHECK(pf_backward_with(y, golden(g, c, "gout")));
        PF_ASSERT_GOLDEN(x->grad, golden(g, c, "grad_x"));
        PF_ASSERT_GOLDEN(w->grad, golden(g, c, "grad_weight"));
        PF_ASSERT_GOLDEN(b->grad, golden(g, c, "grad_bias"));
        return;
    }
    double momentum = golden_scalar(g, c, "momentum");
    pf_tensor *rm = pf_clone(ctx, golden(g, c, "running_mean0"));
    pf_tensor *rv = pf_clone(ctx, golden(g, c, "running_var0"));
    pf_tensor *x1 = leaf(ctx, golden(g, c, "x1"));
    pf_tensor *y1 = pf_batch_norm(ctx, x1, rm, rv, w, b, true, momentum, eps);
    pf_tensor *y2 = pf_batch_norm(ctx, golden(g, c, "x2"), rm, rv, w, b, true, momentum, eps);
    PF_ASSERT_GOLDEN(y1, golden(g, c, "out1"));
    PF_ASSERT_GOLDEN(y2, golden(g, c, "out2"));
    PF_ASSERT_GOLDEN(rm, golden(g, c, "running_mean"));
    PF_ASSERT_GOLDEN(rv, golden(g, c, "running_var"));
    PF_CHECK(pf_backward_with(y1, golden(g, c, "gout")));
    PF_ASSERT_GOLDEN(x1->grad, golden(g, c, "grad_x"));
    if (affine) {
        PF_ASSERT_GOLDEN(w->grad, golden(g, c, "grad_weight"));
        PF_ASSERT_GOLDEN(b->grad, golden(g, c, "grad_bias"));
    }
}

static void test_batch_norm_golden(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "nn_batch_norm");
    check_batch_norm_golden(ctx, &g, "train1d", true);
    check_batch_norm_golden(ctx, &g, "train2d", true);
    check_batch_norm_golden(ctx, &g, "train2d_noaffine", true);
    check_batch_norm_golden(ctx, &g, "eval1d", false);
    check_batch_norm_golden(ctx, &g, "eval2d", false);
}

typedef struct bn_arg {
    pf_tensor *running_mean, *running_var;
    bool training, affine;
} bn_arg;

static pf_tensor *batch_norm_fn(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const bn_arg *a = arg;
    return pf_batch_norm(ctx, in[0], a->running_mean, a->running_var, a->affine ? in[1] : NULL,
                         a->affine ? in[2] : NULL, a->training, 0.1, 1e-5);
}

static void test_batch_norm_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    const int64_t shapes[2][4] = {{5, 3, 1, 1}, {2, 3, 2, 3}};
    for (int k = 0; k < 2; k++) {
        int ndim = k == 0 ? 2 : 4;
        pf_tensor *w = pf_test_rand64(ctx, 11, 0.5, 1.5, PF_DIMS(3));
        pf_tensor *b = pf_test_rand64(ctx, 12, -1, 1, PF_DIMS(3));
        pf_tensor *x = pf_test_rand64(ctx, 13 + k, -2, 2, ndim, shapes[k]);
        /* Training: through the batch statistics (the running statistics,
         * updated at every evaluation, do not change the output). */
        bn_arg train = {pf_zeros(ctx, PF_DIMS(3)), pf_ones(ctx, PF_DIMS(3)), true, true};
        train.running_mean = pf_to_dtype(ctx, train.running_mean, PF_F64);
        train.running_var = pf_to_dtype(ctx, train.running_var, PF_F64);
        PF_GRADCHECK(batch_norm_fn, &train, x, w, b);
        bn_arg plain = {NULL, NULL, true, false};
        PF_GRADCHECK(batch_norm_fn, &plain, x);
        /* Evaluation: a fixed affine map per channel. */
        bn_arg eval = {pf_from_f64(ctx, (double[]){0.3, -0.2, 1}, PF_DIMS(3)),
                       pf_from_f64(ctx, (double[]){0.5, 2, 1.5}, PF_DIMS(3)), false, true};
        PF_GRADCHECK(batch_norm_fn, &eval, x, w, b);
    }
}

static void test_batch_norm_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *rm = pf_zeros(ctx, PF_DIMS(3)), *rv = pf_ones(ctx, PF_DIMS(3));
    /* One value per channel cannot be normalised by its own statistics. */
    PF_CHECK(pf_batch_norm(ctx, pf_zeros(ctx, PF_DIMS(1, 3)), rm, rv, NULL, NULL, true, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("pf_batch_norm: x [1,3]: Expected more than 1 value per channel when training");
    PF_CHECK(pf_batch_norm(ctx, pf_zeros(ctx, PF_DIMS(1, 3, 1, 1)), NULL, NULL, NULL, NULL, true, 0.1, 1e-5) ==
             NULL);
    PF_ASSERT_ERROR("Expected more than 1 value per channel when training");
    /* ... but one sample with several pixels can. */
    PF_CHECK(pf_batch_norm(ctx, pf_randn(ctx, PF_DIMS(1, 3, 2, 1)), NULL, NULL, NULL, NULL, true, 0.1, 1e-5) != NULL);

    pf_tensor *x = pf_randn(ctx, PF_DIMS(4, 3));
    PF_CHECK(pf_batch_norm(ctx, x, rm, rv, pf_ones(ctx, PF_DIMS(4)), NULL, true, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("pf_batch_norm: x [4,3]: weight is [4], expected [3]");
    PF_CHECK(pf_batch_norm(ctx, x, rm, rv, NULL, pf_ones(ctx, PF_DIMS(3, 1)), true, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("bias is [3,1], expected [3]");
    PF_CHECK(pf_batch_norm(ctx, x, pf_zeros(ctx, PF_DIMS(2)), rv, NULL, NULL, true, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("running_mean is [2], expected [3]");
    PF_CHECK(pf_batch_norm(ctx, x, rm, NULL, NULL, NULL, true, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("running_mean and running_var must be given together");
    PF_CHECK(pf_batch_norm(ctx, x, NULL, NULL, NULL, NULL, false, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("evaluation mode needs running_mean and running_var");
    PF_CHECK(pf_batch_norm(ctx, pf_zeros(ctx, PF_DIMS(4)), NULL, NULL, NULL, NULL, true, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("pf_batch_norm: x [4]: expected [N, C] or [N, C, H, W]");
    PF_CHECK(pf_batch_norm(ctx, x, pf_to_dtype(ctx, rm, PF_F64), rv, NULL, NULL, true, 0.1, 1e-5) == NULL);
    PF_ASSERT_ERROR("dtypes differ");
    PF_CHECK(pf_batch_norm(ctx, x, NULL, NULL, NULL, NULL, true, 0.1, -1) == NULL);
    PF_ASSERT_ERROR("eps = -1 must be non-negative");
    /* The failed calls did not touch the running statistics. */
    PF_ASSERT_VALUES(rm, 0, 0, 0, 0);
    PF_ASSERT_VALUES(rv, 0, 1, 1, 1);
}

/* The kernels split their work by channel: the same bits with 1 and 3
 * threads, on a tensor large enough for OpenMP to start. */
static void test_batch_norm_thread_count_independent(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(3);
    pf_tensor *x = pf_requires_grad(pf_randn(ctx, PF_DIMS(16, 6, 24, 24)), true);
    pf_tensor *w = pf_requires_grad(pf_rand(ctx, PF_DIMS(6)), true);
    pf_tensor *b = pf_requires_grad(pf_randn(ctx, PF_DIMS(6)), true);
    pf_tensor *gout = pf_randn(ctx, PF_DIMS(16, 6, 24, 24));
    int threads = pf_get_num_threads();
    pf_tensor *results[2][4];
    for (int k = 0; k < 2; k++) {
        pf_set_num_threads(k == 0 ? 1 : 3);
        pf_tensor *y = pf_batch_norm(ctx, x, NULL, NULL, w, b, true, 0.1, 1e-5);
        pf_tensor *grads[3];
        PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, y, gout)), 3, (pf_tensor *[]){x, w, b}, grads));
        results[k][0] = y;
        for (int i = 0; i < 3; i++)
            results[k][i + 1] = grads[i];
    }
    pf_set_num_threads(threads);
    for (int i = 0; i < 4; i++)
        PF_ASSERT_CLOSE(results[0][i], results[1][i], 0, 0);
}

/* ---- pf_dropout --------------------------------------------------------------- */

static void test_dropout_statistics(void **state)
{
    pf_ctx *ctx = *state;
    const int64_t n = 100000;
    const double p = 0.3;
    pf_manual_seed(7);
    pf_tensor *x = pf_ones(ctx, PF_DIMS(n));
    pf_tensor *y = pf_dropout(ctx, x, p, true);
    PF_ASSERT_SHAPE(y, n);
    const float *v = pf_data_f32(y);
    int64_t zeros = 0, bad = 0;
    float scaled = (float)(1 / (1 - p));
    for (int64_t i = 0; i < n; i++) {
        if (v[i] == 0)
            zeros++;
        else if (v[i] != scaled)
            bad++;
    }
    /* Binomial(1e5, 0.3): standard deviation 145; 1000 is 7 of them. */
    PF_CHECK(llabs(zeros - 30000) < 1000);
    PF_CHECK(bad == 0);
    /* The mean is kept (in expectation): within 7 standard deviations. */
    double mean = pf_item(pf_mean(ctx, y));
    PF_CHECK(fabs(mean - 1) < 7 * sqrt(p / (1 - p) / (double)n));
    /* Float64 works too, with the same rule. */
    pf_tensor *y64 = pf_dropout(ctx, pf_to_dtype(ctx, pf_ones(ctx, PF_DIMS(1000)), PF_F64), 0.5, true);
    const double *d = pf_data_f64(y64);
    for (int i = 0; i < 1000; i++)
        PF_CHECK(d[i] == 0 || d[i] == 2);
}

static void test_dropout_same_seed_same_mask(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_arange(ctx, 1, 1001, 1);
    pf_manual_seed(123);
    pf_tensor *a = pf_dropout(ctx, x, 0.5, true);
    pf_manual_seed(123);
    pf_tensor *b = pf_dropout(ctx, x, 0.5, true);
    pf_tensor *c = pf_dropout(ctx, x, 0.5, true); /* the generator moved on */
    PF_ASSERT_CLOSE(a, b, 0, 0);
    int64_t differ = 0;
    const float *pa = pf_data_f32(a), *pc = pf_data_f32(c);
    for (int i = 0; i < 1000; i++)
        differ += (pa[i] == 0) != (pc[i] == 0);
    PF_CHECK(differ > 100);
    /* Kept elements are x / (1 - p). */
    const float *px = pf_data_f32(x);
    for (int i = 0; i < 1000; i++)
        PF_CHECK(pa[i] == 0 || pa[i] == px[i] * 2);
}

static void test_dropout_gradient(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(5);
    pf_tensor *x = pf_requires_grad(pf_randn(ctx, PF_DIMS(40, 50)), true);
    pf_tensor *y = pf_dropout(ctx, x, 0.25, true);
    pf_tensor *w = pf_randn(ctx, PF_DIMS(40, 50));
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, y, w))));
    /* dL/dx = w / (1-p) where kept, 0 where dropped. */
    const float *py = pf_data_f32(y), *pg = pf_data_f32(x->grad), *pw = pf_data_f32(w);
    int kept = 0;
    for (int i = 0; i < 2000; i++) {
        bool keep = py[i] != 0;
        kept += keep;
        PF_CHECK(fabsf(pg[i] - (keep ? pw[i] / 0.75f : 0)) <= 1e-6f * (1 + fabsf(pw[i])));
    }
    PF_CHECK(kept > 1300 && kept < 1700);
}

static void test_dropout_identity_cases(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_randn(ctx, PF_DIMS(3, 4));
    pf_rng before = *pf_default_rng();
    PF_CHECK(pf_dropout(ctx, x, 0.5, false) == x);
    PF_CHECK(pf_dropout(ctx, x, 0, true) == x);
    /* ... and they draw nothing from the generator. */
    PF_CHECK(memcmp(&before, pf_default_rng(), sizeof before) == 0);
}

static void test_dropout_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_randn(ctx, PF_DIMS(3));
    PF_CHECK(pf_dropout(ctx, x, 1, true) == NULL);
    PF_ASSERT_ERROR("pf_dropout: p = 1 must lie in [0, 1)");
    PF_CHECK(pf_dropout(ctx, x, -0.1, true) == NULL);
    PF_ASSERT_ERROR("pf_dropout: p = -0.1 must lie in [0, 1)");
    PF_CHECK(pf_dropout(ctx, x, NAN, false) == NULL);
    PF_ASSERT_ERROR("must lie in [0, 1)");
    PF_CHECK(pf_dropout(ctx, pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(2)), 0.5, true) == NULL);
    PF_ASSERT_ERROR("pf_dropout: expected a float32 or float64 tensor");
    PF_CHECK(pf_dropout(ctx, NULL, 0.5, true) == NULL);
    PF_ASSERT_ERROR("NULL tensor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_linear_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_linear_3d_input, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_linear_golden, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_linear_gradcheck, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_linear_does_not_copy_weight, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_linear_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_leaky_relu_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_leaky_relu_gradcheck_and_golden, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_norm_training_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_norm_eval_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_norm_golden, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_norm_gradcheck, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_norm_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_norm_thread_count_independent, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_dropout_statistics, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_dropout_same_seed_same_mask, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_dropout_gradient, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_dropout_identity_cases, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_dropout_errors, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
