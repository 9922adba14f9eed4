/*
 * test_simd.c — the AVX-512 kernels other than the matrix product
 * (cpu_pool_avx512.c, cpu_conv_avx512.c, cpu_conv_winograd_avx512.c)
 * against the portable loops
 * (PF_SIMD_PORTABLE): float32 convolution (output, gradients of input,
 * weight and bias; by im2col, and by Winograd where it applies) and max
 * pooling (output, saved positions, gradient) must
 * agree bit for bit, over geometries that take every path of the vector
 * code: the lecture CNN's layers, padding (rows and columns wholly outside
 * the image; planes small enough to be copied with their padding, and one
 * too large), dilation, rows longer than 16 and 32 columns, one output
 * column, planes too large for the unpadded im2col table, overlapping and
 * spaced pooling windows, inputs full of ties, NaN and -inf or of zeros of
 * both signs, and max pooling with and without the positions a backward
 * needs (no-grad mode computes values only, by another order).
 *
 * On a CPU without AVX-512 both runs take the portable loops; the test says
 * so and still checks that they agree.
 */
#include <math.h>
#include <string.h>

#include "autograd/autograd.h"
#include "backend/cpu/cpu_backend.h"
#include "tensor/tensor_internal.h"
#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

typedef enum fill { UNIFORM, TIES, SIGNED_ZEROS } fill;

/* n float32 values from a seeded generator: UNIFORM in [-1, 1); TIES from
 * {-1, 0, 1, 2} with one in 50 a NaN and one in 50 -inf; SIGNED_ZEROS from
 * {-0, +0, -1} (windows whose maximum is a zero of either sign). */
static pf_tensor *values(pf_ctx *ctx, uint64_t seed, fill kind, int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    float *v = pf_ctx_alloc(ctx, sizeof(float) * (size_t)(n > 0 ? n : 1));
    PF_CHECK(v);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint32_t r = (uint32_t)(seed >> 33);
        if (kind == UNIFORM)
            v[i] = (float)r / 1073741824.0f - 1.0f;
        else if (kind == SIGNED_ZEROS)
            v[i] = r % 3 == 0 ? -0.0f : r % 3 == 1 ? 0.0f : -1.0f;
        else if (r % 50 == 0)
            v[i] = NAN;
        else if (r % 50 == 1)
            v[i] = -INFINITY;
        else
            v[i] = (float)(r % 4) - 1.0f;
    }
    return pf_from_f32(ctx, v, ndim, shape);
}

/* Bit-for-bit equality of two tensors of the same shape and type. */
static void assert_same_bits(pf_tensor *a, pf_tensor *b, const char *what)
{
    PF_CHECK(a && b);
    assert_int_equal(pf_numel(a), pf_numel(b));
    assert_int_equal(a->dtype, b->dtype);
    size_t bytes = (size_t)pf_numel(a) * pf_dtype_size(a->dtype);
    if (memcmp(pf_tensor_data(a), pf_tensor_data(b), bytes) != 0)
        fail_msg("%s: the AVX-512 and portable kernels differ", what);
}

/* ---- convolution ---------------------------------------------------------- */

typedef struct conv_case {
    int64_t n, c_in, h, w, c_out, k;
    int stride, padding, dilation;
} conv_case;

typedef struct conv_result {
    pf_tensor *y, *dx, *dw, *db;
} conv_result;

static conv_result run_conv(pf_ctx *ctx, const conv_case *t, pf_cpu_simd simd, pf_cpu_conv_algorithm algorithm)
{
    pf_cpu_simd_set(simd);
    pf_cpu_conv_set_algorithm(algorithm);
    pf_tensor *x = pf_requires_grad(values(ctx, 1, UNIFORM, PF_DIMS(t->n, t->c_in, t->h, t->w)), true);
    pf_tensor *w = pf_requires_grad(values(ctx, 2, UNIFORM, PF_DIMS(t->c_out, t->c_in, t->k, t->k)), true);
    pf_tensor *b = pf_requires_grad(values(ctx, 3, UNIFORM, PF_DIMS(t->c_out)), true);
    conv_result r = {.y = pf_conv2d(ctx, x, w, b, t->stride, t->padding, t->dilation)};
    PF_CHECK(r.y);
    pf_tensor *dy = values(ctx, 4, UNIFORM, r.y->ndim, r.y->shape), *grads[3];
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, r.y, dy)), 3, (pf_tensor *[]){x, w, b}, grads));
    r.dx = grads[0], r.dw = grads[1], r.db = grads[2];
    pf_cpu_simd_set(PF_SIMD_AUTO);
    pf_cpu_conv_set_algorithm(PF_CONV_AUTO);
    return r;
}

static void test_conv_vector_matches_portable(void **state)
{
    pf_ctx *ctx = *state;
    if (!pf_cpu_use_avx512())
        print_message("no AVX-512 on this CPU: both runs take the portable loops\n");
    const conv_case cases[] = {
        {3, 1, 28, 28, 32, 5, 1, 0, 1},  /* lecture CNN, first layer */
        {30, 32, 8, 8, 64, 5, 1, 0, 1},  /* second layer: rows of 4, blocks of 16 by permutes */
        {2, 3, 6, 7, 2, 3, 1, 0, 2},     /* small blocks (6 outputs), dilated */
        {1, 2, 10, 6, 2, 5, 1, 0, 1},    /* 12 outputs, but spread over more than 32 inputs */
        {2, 3, 13, 11, 4, 3, 1, 1, 1},   /* padding */
        {2, 2, 17, 19, 3, 3, 1, 2, 2},   /* padding and dilation */
        {1, 1, 4, 4, 2, 3, 1, 2, 1},     /* rows and columns wholly in the padding */
        {1, 2, 9, 40, 3, 5, 1, 0, 1},    /* rows of 36 outputs, inputs of 40 */
        {2, 1, 40, 3, 2, 3, 1, 0, 1},    /* one output column: 16 rows per vector */
        {1, 1, 100, 100, 2, 3, 1, 0, 1}, /* too large for the unpadded table */
        {1, 2, 130, 131, 2, 3, 1, 2, 2}, /* padded, too large to copy with its padding */
        {1, 1, 5, 3300, 1, 5, 1, 0, 1},  /* rows too wide for col2im's table of masks */
        {2, 3, 15, 15, 4, 3, 2, 1, 1},   /* stride 2: portable both times */
        {1, 2, 7, 7, 3, 7, 1, 0, 1},     /* kernel as large as the image: one output */
        /* for Winograd (5x5, stride 1): tiles cut by the edges, windows in
         * the padding, channel counts that fill 16 lanes partly, several
         * groups of 16 tiles per image and several chunks of images */
        {2, 9, 11, 13, 10, 5, 1, 2, 1},
        {1, 20, 30, 29, 17, 5, 1, 1, 1},
        {3, 3, 6, 5, 2, 5, 1, 4, 1},
        {70, 16, 8, 8, 8, 5, 1, 0, 1},
    };
    /* im2col everywhere, then Winograd wherever the shape allows it */
    const pf_cpu_conv_algorithm algorithms[] = {PF_CONV_IM2COL, PF_CONV_WINOGRAD};
    for (size_t a = 0; a < 2; a++)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            conv_result vector = run_conv(ctx, &cases[i], PF_SIMD_AUTO, algorithms[a]);
            conv_result portable = run_conv(ctx, &cases[i], PF_SIMD_PORTABLE, algorithms[a]);
            print_message("conv case %zu, %s\n", i, a ? "Winograd where it applies" : "im2col");
            assert_same_bits(vector.y, portable.y, "conv2d output");
            assert_same_bits(vector.dx, portable.dx, "conv2d input gradient");
            assert_same_bits(vector.dw, portable.dw, "conv2d weight gradient");
            assert_same_bits(vector.db, portable.db, "conv2d bias gradient");
        }
}

/* ---- max pooling ---------------------------------------------------------- */

typedef struct pool_case {
    int64_t n, c, h, w;
    int kernel, stride, padding;
} pool_case;

typedef struct pool_result {
    pf_tensor *y, *indices, *dx;
    pf_tensor *y_no_grad; /* the output where no backward wants positions */
} pool_result;

static pool_result run_pool(pf_ctx *ctx, const pool_case *t, fill kind, pf_cpu_simd simd)
{
    pf_cpu_simd_set(simd);
    pf_tensor *x = pf_requires_grad(values(ctx, 5, kind, PF_DIMS(t->n, t->c, t->h, t->w)), true);
    pool_result r = {.y = pf_max_pool2d(ctx, x, t->kernel, t->stride, t->padding)};
    PF_CHECK(r.y && r.y->node);
    r.indices = r.y->node->saved[0];
    pf_tensor *dy = values(ctx, 6, UNIFORM, r.y->ndim, r.y->shape);
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, r.y, dy)), 1, &x, &r.dx));
    bool was = pf_set_grad_enabled(false);
    r.y_no_grad = pf_max_pool2d(ctx, x, t->kernel, t->stride, t->padding);
    pf_set_grad_enabled(was);
    PF_CHECK(r.y_no_grad && !r.y_no_grad->node);
    pf_cpu_simd_set(PF_SIMD_AUTO);
    return r;
}

static void test_max_pool_vector_matches_portable(void **state)
{
    pf_ctx *ctx = *state;
    const pool_case cases[] = {
        {2, 32, 24, 24, 3, 3, 0}, /* lecture CNN, first pooling */
        {3, 64, 4, 4, 2, 2, 0},   /* second pooling: planes of 2 x 2 outputs */
        {1, 3, 13, 13, 3, 2, 0},  /* overlapping windows (AlexNet) */
        {1, 2, 5, 70, 3, 2, 0},   /* rows longer than 32: several passes */
        {1, 2, 9, 33, 4, 4, 0},   /* 33 columns, the last in no window */
        {2, 2, 10, 10, 2, 3, 0},  /* spaced windows */
        {1, 3, 6, 6, 1, 1, 0},    /* kernel 1 */
        {1, 1, 3, 40, 3, 1, 0},   /* stride 1: 16 outputs per pass */
        {2, 3, 9, 9, 3, 2, 1},    /* padding: portable both times */
    };
    static const char *const fills[] = {"uniform", "ties, NaN and -inf", "signed zeros"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (fill kind = UNIFORM; kind <= SIGNED_ZEROS; kind++) {
            pool_result vector = run_pool(ctx, &cases[i], kind, PF_SIMD_AUTO);
            pool_result portable = run_pool(ctx, &cases[i], kind, PF_SIMD_PORTABLE);
            print_message("pool case %zu, %s\n", i, fills[kind]);
            assert_same_bits(vector.y, portable.y, "max_pool2d output");
            assert_same_bits(vector.indices, portable.indices, "max_pool2d positions");
            assert_same_bits(vector.dx, portable.dx, "max_pool2d input gradient");
            assert_same_bits(vector.y_no_grad, portable.y, "max_pool2d output without positions");
            assert_same_bits(portable.y_no_grad, portable.y, "max_pool2d output without positions (portable)");
        }
}

/* The switch itself: PORTABLE turns the vector kernels off, AUTO back on
 * where the CPU has them. */
static void test_simd_switch(void **state)
{
    (void)state;
    pf_cpu_simd_set(PF_SIMD_PORTABLE);
    assert_int_equal(pf_cpu_simd_get(), PF_SIMD_PORTABLE);
    assert_false(pf_cpu_use_avx512());
    pf_cpu_simd_set(PF_SIMD_AUTO);
    assert_int_equal(pf_cpu_use_avx512(), pf_cpu_avx512_supported());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_conv_vector_matches_portable),
        TEST(test_max_pool_vector_matches_portable),
        TEST(test_simd_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
