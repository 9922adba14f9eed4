/*
 * test_conv_fast.c — the convolution's fast paths against the plain ones:
 * Winograd's F(4x4, 5x5) against im2col (output and the gradients of input,
 * weight and bias, to float32 rounding, over geometries that cut tiles at
 * the edges, put whole windows in the padding, fill the 16 lanes of a group
 * partly and run in several chunks of images), and pf_conv2d_max_pool2d
 * against pf_conv2d then pf_max_pool2d (the same bits, by im2col chunks
 * and by Winograd, float32 and float64, with and without bias, with and
 * without an input gradient; a first layer's weight gradient, taken
 * straight from the pooled gradient, to rounding, and the same bits from
 * its AVX-512 and portable loops), with the errors of the two ops it
 * stands for.
 */
#include <math.h>

#include "backend/cpu/cpu_backend.h"
#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

/* Uniform values in [low, high) as a leaf of the given type. */
static pf_tensor *uniform(pf_ctx *ctx, uint64_t seed, double low, double high, pf_dtype dtype, int ndim,
                          const int64_t *shape)
{
    return pf_to_dtype(ctx, pf_requires_grad(pf_test_rand64(ctx, seed, low, high, ndim, shape), false), dtype);
}

typedef struct conv_case {
    int64_t n, c_in, h, w, c_out;
    int padding;
} conv_case;

typedef struct grads {
    pf_tensor *out, *dx, *dw, *db;
} grads;

/* A 5x5 convolution of the case (float32), and the gradients of
 * sum(out * r) for a fixed random r. */
static grads run_5x5(pf_ctx *ctx, const conv_case *t, uint64_t seed)
{
    pf_tensor *x = uniform(ctx, seed, -1, 1, PF_F32, PF_DIMS(t->n, t->c_in, t->h, t->w));
    pf_tensor *w = uniform(ctx, seed + 1, -0.2, 0.2, PF_F32, PF_DIMS(t->c_out, t->c_in, 5, 5));
    pf_tensor *b = uniform(ctx, seed + 2, -1, 1, PF_F32, PF_DIMS(t->c_out));
    pf_tensor *in[3] = {pf_requires_grad(x, true), pf_requires_grad(w, true), pf_requires_grad(b, true)}, *g[3];
    grads r = {.out = pf_conv2d(ctx, in[0], in[1], in[2], 1, t->padding, 1)};
    PF_CHECK(r.out);
    pf_tensor *weights = uniform(ctx, seed + 3, 0.5, 1.5, PF_F32, r.out->ndim, r.out->shape);
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, r.out, weights)), 3, in, g));
    r.dx = g[0], r.dw = g[1], r.db = g[2];
    return r;
}

static pf_conv2d_geom geometry(const conv_case *t)
{
    return (pf_conv2d_geom){
        .n = t->n, .c_in = t->c_in, .h_in = t->h, .w_in = t->w, .c_out = t->c_out,
        .h_out = t->h + 2 * t->padding - 4, .w_out = t->w + 2 * t->padding - 4,
        .k_h = 5, .k_w = 5, .stride = 1, .padding = t->padding, .dilation = 1,
    };
}

/* Within rtol of the largest im2col value (Winograd rounds about ten times
 * more coarsely). */
static void assert_close_grads(grads a, grads b, double rtol)
{
    PF_ASSERT_CLOSE(a.out, b.out, rtol, 0);
    PF_ASSERT_CLOSE(a.dx, b.dx, rtol, 0);
    PF_ASSERT_CLOSE(a.dw, b.dw, rtol, 0);
    PF_ASSERT_CLOSE(a.db, b.db, rtol, 0);
}

static const conv_case winograd_cases[] = {
    {3, 8, 8, 8, 8, 0},     /* one tile per image, the lecture's second layer in small */
    {2, 9, 11, 13, 10, 2},  /* tiles cut at the right and bottom, 9 channels of 16 lanes */
    {5, 20, 9, 7, 12, 1},   /* two groups of input channels, the second partly full */
    {1, 32, 28, 28, 16, 2}, /* 49 tiles: groups of 16 with a remainder */
    {3, 8, 6, 5, 8, 4},     /* windows wholly in the padding */
    {70, 8, 8, 8, 9, 0},    /* 70 images: several chunks */
};

static void test_winograd_matches_im2col(void **state)
{
    pf_ctx *ctx = *state;
    for (size_t i = 0; i < sizeof winograd_cases / sizeof *winograd_cases; i++) {
        const conv_case *t = &winograd_cases[i];
        pf_conv2d_geom g = geometry(t);
        pf_cpu_conv_set_algorithm(PF_CONV_IM2COL);
        assert_false(pf_cpu_conv_uses_winograd(&g));
        grads plain = run_5x5(ctx, t, 100 + 10 * i);
        pf_cpu_conv_set_algorithm(PF_CONV_WINOGRAD);
        assert_true(pf_cpu_conv_uses_winograd(&g));
        grads fast = run_5x5(ctx, t, 100 + 10 * i);
        pf_cpu_conv_set_algorithm(PF_CONV_AUTO);
        print_message("Winograd case %zu\n", i);
        assert_close_grads(fast, plain, 2e-5);
        /* and not by accident: the two differ in the last bits */
        assert_true(pf_item(pf_sum(ctx, pf_abs(ctx, pf_sub(ctx, fast.dw, plain.dw)))) > 0);
    }
}

/* The default takes Winograd for 5x5, stride 1, no dilation, float32, at
 * least 8 channels each way and 64 tiles; never otherwise. */
static void test_winograd_choice(void **state)
{
    (void)state;
    pf_conv2d_geom g = geometry(&(conv_case){8, 8, 16, 16, 8, 0}); /* 8 images of 3 x 3 tiles */
    assert_true(pf_cpu_conv_uses_winograd(&g));
    g.n = 7; /* 63 tiles: the kernels' transform would not pay */
    assert_false(pf_cpu_conv_uses_winograd(&g));
    g.n = 8;
    g.c_in = 7;
    assert_false(pf_cpu_conv_uses_winograd(&g)); /* a first layer: im2col */
    g.c_in = 8, g.c_out = 1;
    assert_false(pf_cpu_conv_uses_winograd(&g));
    g.c_out = 8, g.stride = 2;
    assert_false(pf_cpu_conv_uses_winograd(&g));
    g.stride = 1, g.dilation = 2;
    assert_false(pf_cpu_conv_uses_winograd(&g));
    g.dilation = 1, g.k_h = g.k_w = 3;
    assert_false(pf_cpu_conv_uses_winograd(&g));
    g.k_h = g.k_w = 5, g.n = (int64_t)1 << 26; /* more than 2^31 input elements */
    assert_false(pf_cpu_conv_uses_winograd(&g));
    pf_cpu_conv_set_algorithm(PF_CONV_WINOGRAD); /* forced: any channel count */
    g.n = 2, g.c_in = 1;
    assert_true(pf_cpu_conv_uses_winograd(&g));
    pf_cpu_conv_set_algorithm(PF_CONV_AUTO);
}

/* Smaller chunks of images: outputs and input gradients are computed tile
 * by tile and do not change at all; the weight gradient adds the chunks'
 * sums in another grouping, before a transform whose coefficients (up to
 * 32/45 on sums of 64) magnify that rounding to about 5e-5 of the largest
 * value. */
static void test_winograd_chunks(void **state)
{
    pf_ctx *ctx = *state;
    const conv_case t = {9, 8, 9, 9, 8, 1};
    grads whole = run_5x5(ctx, &t, 7);
    pf_cpu_conv_set_scratch_limit(64 * 16 * 4); /* one image (4 tiles) per chunk */
    grads parts = run_5x5(ctx, &t, 7);
    pf_cpu_conv_set_scratch_limit(0);
    PF_ASSERT_CLOSE(parts.out, whole.out, 0, 0);
    PF_ASSERT_CLOSE(parts.dx, whole.dx, 0, 0);
    PF_ASSERT_CLOSE(parts.dw, whole.dw, 2e-4, 0);
    PF_ASSERT_CLOSE(parts.db, whole.db, 1e-6, 0);
}

/* ---- convolution then max pooling ----------------------------------------- */

typedef struct pooled_case {
    int64_t n, c_in, h, w, c_out, k;
    int stride, padding, dilation;
    int pool_kernel, pool_stride, pool_padding;
    pf_dtype dtype;
    bool bias, input_grad;
} pooled_case;

/* The pooled output and the gradients of sum(out * r), by the fused op or
 * by the two ops in turn. */
static grads run_pooled(pf_ctx *ctx, const pooled_case *t, bool fused)
{
    pf_tensor *x = uniform(ctx, 1, -1, 1, t->dtype, PF_DIMS(t->n, t->c_in, t->h, t->w));
    pf_tensor *w = uniform(ctx, 2, -1, 1, t->dtype, PF_DIMS(t->c_out, t->c_in, t->k, t->k));
    pf_tensor *b = t->bias ? uniform(ctx, 3, -1, 1, t->dtype, PF_DIMS(t->c_out)) : NULL;
    pf_requires_grad(x, t->input_grad);
    pf_requires_grad(w, true);
    if (b)
        pf_requires_grad(b, true);
    grads r = {.out = fused ? pf_conv2d_max_pool2d(ctx, x, w, b, t->stride, t->padding, t->dilation, t->pool_kernel,
                                                   t->pool_stride, t->pool_padding)
                            : pf_max_pool2d(ctx, pf_conv2d(ctx, x, w, b, t->stride, t->padding, t->dilation),
                                            t->pool_kernel, t->pool_stride, t->pool_padding)};
    PF_CHECK(r.out);
    pf_tensor *weights = uniform(ctx, 4, 0.5, 1.5, t->dtype, r.out->ndim, r.out->shape);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, r.out, weights))));
    r.dx = x->grad, r.dw = w->grad, r.db = b ? b->grad : NULL;
    return r;
}

static void test_conv_max_pool_same_bits(void **state)
{
    pf_ctx *ctx = *state;
    const pooled_case cases[] = {
        {7, 1, 28, 28, 32, 5, 1, 0, 1, 3, 3, 0, PF_F32, true, false}, /* lecture, first layer: 7 chunks */
        {70, 32, 8, 8, 64, 5, 1, 0, 1, 2, 2, 0, PF_F32, true, true},  /* second layer: Winograd, whole */
        {3, 3, 13, 11, 4, 3, 2, 1, 1, 3, 2, 1, PF_F32, false, true},  /* strided, padded pooling */
        {2, 2, 9, 9, 3, 3, 1, 1, 2, 2, 0, 0, PF_F64, true, true},     /* float64, dilated, stride 0 */
        {40, 2, 6, 6, 3, 3, 1, 0, 1, 2, 2, 0, PF_F32, true, true},    /* small planes: chunks of several */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        print_message("conv + max pool case %zu\n", i);
        grads apart = run_pooled(ctx, &cases[i], false), fused = run_pooled(ctx, &cases[i], true);
        PF_ASSERT_CLOSE(fused.out, apart.out, 0, 0);
        /* the weight gradient straight from the pooled one (first layers,
         * no input gradient) rounds otherwise than the dense product */
        const pooled_case *t = &cases[i];
        pf_conv2d_geom g = {t->n, t->c_in, t->h, t->w, t->c_out, t->h - t->k + 1, t->w - t->k + 1, t->k, t->k,
                            t->stride, t->padding, t->dilation};
        pf_pool2d_geom p = {t->n, t->c_out, g.h_out, g.w_out, g.h_out / t->pool_kernel, g.w_out / t->pool_kernel,
                            t->pool_kernel, t->pool_kernel, 0};
        double rtol = t->dtype == PF_F32 && !t->input_grad && pf_cpu_conv_pool_grad_fits(&g, &p) ? 1e-5 : 0;
        assert_true(i != 0 || rtol > 0); /* the lecture's first layer takes it */
        PF_ASSERT_CLOSE(fused.dw, apart.dw, rtol, 0);
        if (cases[i].bias)
            PF_ASSERT_CLOSE(fused.db, apart.db, rtol, 0);
        else
            assert_null(fused.db);
        if (cases[i].input_grad)
            PF_ASSERT_CLOSE(fused.dx, apart.dx, 0, 0);
        else
            assert_null(fused.dx);
    }
}

/* The weight gradient straight from the pooled gradient: the AVX-512 and
 * portable loops agree bit for bit (3 and 5 kernel rows, unrolled, and 6,
 * not; planes of 64, 9 and 16 cells: four partial sums and a remainder). */
static void test_conv_pool_grad_vector_matches_portable(void **state)
{
    pf_ctx *ctx = *state;
    const pooled_case cases[] = {
        {7, 1, 28, 28, 32, 5, 1, 0, 1, 3, 3, 0, PF_F32, true, false},
        {3, 2, 11, 11, 4, 3, 1, 0, 1, 3, 3, 0, PF_F32, true, false},
        {2, 1, 10, 10, 3, 3, 1, 0, 1, 2, 2, 0, PF_F32, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        grads vector = run_pooled(ctx, &cases[i], true);
        pf_cpu_simd_set(PF_SIMD_PORTABLE);
        grads portable = run_pooled(ctx, &cases[i], true);
        pf_cpu_simd_set(PF_SIMD_AUTO);
        PF_ASSERT_CLOSE(vector.dw, portable.dw, 0, 0);
        if (cases[i].bias)
            PF_ASSERT_CLOSE(vector.db, portable.db, 0, 0);
    }
}

static pf_tensor *conv_max_pool_fn(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const pooled_case *t = arg;
    return pf_conv2d_max_pool2d(ctx, in[0], in[1], in[2], t->stride, t->padding, t->dilation, t->pool_kernel,
                                t->pool_stride, t->pool_padding);
}

/* Finite differences (float64) of input, weight and bias. */
static void test_conv_max_pool_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    const pooled_case cases[] = {
        {2, 2, 7, 6, 3, 3, 1, 0, 1, 2, 2, 0, PF_F64, true, true},
        {2, 2, 9, 8, 3, 3, 2, 1, 1, 3, 1, 1, PF_F64, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pf_tensor *x = pf_test_rand64(ctx, 10 + i, -1, 1, PF_DIMS(2, 2, cases[i].h, cases[i].w));
        pf_tensor *w = pf_test_rand64(ctx, 20 + i, -1, 1, PF_DIMS(3, 2, 3, 3));
        pf_tensor *b = pf_test_rand64(ctx, 30 + i, -1, 1, PF_DIMS(3));
        PF_GRADCHECK(conv_max_pool_fn, &cases[i], x, w, b);
    }
}

/* What either op refuses, the fused op refuses with that op's words. */
static void test_conv_max_pool_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_zeros(ctx, PF_DIMS(2, 1, 8, 8)), *w = pf_zeros(ctx, PF_DIMS(4, 1, 5, 5));
    assert_null(pf_conv2d_max_pool2d(ctx, x, w, NULL, 1, 0, 1, 5, 0, 0));
    PF_ASSERT_ERROR("pf_max_pool2d: input [2,4,4,4] is smaller than the kernel 5");
    assert_null(pf_conv2d_max_pool2d(ctx, x, pf_zeros(ctx, PF_DIMS(4, 2, 5, 5)), NULL, 1, 0, 1, 2, 0, 0));
    PF_ASSERT_ERROR("pf_conv2d: input [2,1,8,8] has 1 channels but weight [4,2,5,5] expects 2");
    assert_null(pf_conv2d_max_pool2d(ctx, x, w, NULL, 1, 0, 1, 2, -1, 0));
    PF_ASSERT_ERROR("pf_max_pool2d: stride -1 and padding 0 must not be negative");
    /* no gradient wanted: the same output, and nothing recorded */
    bool was = pf_set_grad_enabled(false);
    pf_tensor *y = pf_conv2d_max_pool2d(ctx, pf_ones(ctx, PF_DIMS(2, 1, 8, 8)), pf_ones(ctx, PF_DIMS(4, 1, 5, 5)),
                                        NULL, 1, 0, 1, 2, 0, 0);
    pf_set_grad_enabled(was);
    PF_CHECK(y);
    PF_ASSERT_SHAPE(y, 2, 4, 2, 2);
    assert_null(y->node);
    PF_ASSERT_CLOSE(y, pf_full(ctx, 25, PF_DIMS(2, 4, 2, 2)), 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_winograd_matches_im2col),
        TEST(test_winograd_choice),
        TEST(test_winograd_chunks),
        TEST(test_conv_max_pool_same_bits),
        TEST(test_conv_max_pool_gradcheck),
        TEST(test_conv_pool_grad_vector_matches_portable),
        TEST(test_conv_max_pool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
