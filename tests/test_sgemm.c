/*
 * test_sgemm.c — profond's AVX-512 single-precision product
 * (pf_cpu_sgemm_avx512) and the kernel choice of pf_cpu_gemm, both against
 * cblas_sgemm: many shapes (1x1x1, primes, the lecture CNN's products,
 * blocks larger than the kernel's KC, MC and NC), the four transpose
 * combinations, leading dimensions larger than the minimum (their padding
 * holds NaN, which must not be read; C's padding must not be written),
 * alpha != 1, beta 0 / 1 / 0.5, NaN in C with beta == 0 (overwritten), k = 0,
 * batches, and results that do not depend on the thread count.
 *
 * Tolerance: each element of C within 1e-6 * (k + 2) * bound of cblas_sgemm,
 * where bound = |alpha| * (|op(A)| @ |op(B)|) + |beta * C| (the size of what
 * was summed): float32 sums of k terms may differ by a few k ulps of it.
 * Without AVX-512 the direct cases are skipped (with a message) and the
 * dispatch cases check that OpenBLAS is used.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "backend/cpu/cpu_backend.h"
#include "testing.h"

#define SENTINEL 12345.0f

typedef struct gemm_case {
    bool ta, tb;
    int64_t m, n, k;
    int64_t pad_a, pad_b, pad_c; /* leading dimension minus its minimum */
    float alpha, beta;
    bool nan_c; /* C starts as NaN (with beta == 0) */
    bool bias;  /* a bias per row of C is added (row_bias) */
} gemm_case;

/* A matrix of rows x ld floats: random in [-1, 1) in its first cols
 * columns, `pad` in the others. */
static float *make_matrix(int64_t rows, int64_t cols, int64_t ld, float pad, uint64_t *seed)
{
    size_t count = (size_t)(rows * ld > 0 ? rows * ld : 1);
    float *x = malloc(count * sizeof(float));
    assert_non_null(x);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < ld; c++) {
            *seed = *seed * 6364136223846793005u + 1442695040888963407u;
            x[r * ld + c] = c < cols ? (float)(*seed >> 40) / 8388608.0f - 1.0f : pad;
        }
    return x;
}

typedef struct operands {
    int64_t lda, ldb, ldc;
    float *a, *b, *c; /* c: the initial C */
    float *bias;      /* per row of C, or NULL */
    float *expected;  /* cblas_sgemm's result */
    float *bound;     /* per element, the size of what was summed */
} operands;

static operands make_operands(const gemm_case *t, uint64_t seed)
{
    operands o;
    int64_t cols_a = t->ta ? t->m : t->k, rows_a = t->ta ? t->k : t->m;
    int64_t cols_b = t->tb ? t->k : t->n, rows_b = t->tb ? t->n : t->k;
    o.lda = (cols_a > 1 ? cols_a : 1) + t->pad_a;
    o.ldb = (cols_b > 1 ? cols_b : 1) + t->pad_b;
    o.ldc = t->n + t->pad_c;
    o.a = make_matrix(rows_a, cols_a, o.lda, NAN, &seed);
    o.b = make_matrix(rows_b, cols_b, o.ldb, NAN, &seed);
    o.c = make_matrix(t->m, t->n, o.ldc, SENTINEL, &seed);
    if (t->nan_c)
        for (int64_t i = 0; i < t->m; i++)
            for (int64_t j = 0; j < t->n; j++)
                o.c[i * o.ldc + j] = NAN;
    size_t c_count = (size_t)(t->m * o.ldc > 0 ? t->m * o.ldc : 1);
    o.expected = malloc(c_count * sizeof(float));
    o.bound = malloc(c_count * sizeof(float));
    assert_non_null(o.expected);
    assert_non_null(o.bound);
    memcpy(o.expected, o.c, c_count * sizeof(float));
    if (t->k > 0) {
        cblas_sgemm(CblasRowMajor, t->ta ? CblasTrans : CblasNoTrans, t->tb ? CblasTrans : CblasNoTrans,
                    (blasint)t->m, (blasint)t->n, (blasint)t->k, t->alpha, o.a, (blasint)o.lda, o.b, (blasint)o.ldb,
                    t->beta, o.expected, (blasint)o.ldc);
        /* bound = |alpha| * |op(A)| @ |op(B)| (absolute copies, padding 0) */
        float *abs_a = malloc((size_t)(rows_a * o.lda) * sizeof(float));
        float *abs_b = malloc((size_t)(rows_b * o.ldb) * sizeof(float));
        assert_non_null(abs_a);
        assert_non_null(abs_b);
        for (int64_t i = 0; i < rows_a * o.lda; i++)
            abs_a[i] = isnan(o.a[i]) ? 0 : fabsf(o.a[i]);
        for (int64_t i = 0; i < rows_b * o.ldb; i++)
            abs_b[i] = isnan(o.b[i]) ? 0 : fabsf(o.b[i]);
        cblas_sgemm(CblasRowMajor, t->ta ? CblasTrans : CblasNoTrans, t->tb ? CblasTrans : CblasNoTrans,
                    (blasint)t->m, (blasint)t->n, (blasint)t->k, fabsf(t->alpha), abs_a, (blasint)o.lda, abs_b,
                    (blasint)o.ldb, 0.0f, o.bound, (blasint)o.ldc);
        free(abs_a);
        free(abs_b);
    } else { /* C = beta * C, written out */
        for (int64_t i = 0; i < t->m; i++)
            for (int64_t j = 0; j < t->n; j++) {
                o.expected[i * o.ldc + j] = t->beta == 0 ? 0.0f : t->beta * o.c[i * o.ldc + j];
                o.bound[i * o.ldc + j] = 0;
            }
    }
    if (t->beta != 0)
        for (int64_t i = 0; i < t->m; i++)
            for (int64_t j = 0; j < t->n; j++)
                o.bound[i * o.ldc + j] += fabsf(t->beta * o.c[i * o.ldc + j]);
    o.bias = NULL;
    if (t->bias) {
        o.bias = make_matrix(t->m, t->m > 0 ? 1 : 0, 1, 0, &seed);
        for (int64_t i = 0; i < t->m; i++)
            for (int64_t j = 0; j < t->n; j++) {
                o.expected[i * o.ldc + j] += o.bias[i];
                o.bound[i * o.ldc + j] += fabsf(o.bias[i]);
            }
    }
    return o;
}

static void free_operands(operands *o)
{
    free(o->a);
    free(o->b);
    free(o->c);
    free(o->expected);
    free(o->bound);
    free(o->bias);
}

/* Fails unless `c` (the result) matches the expected values within the
 * tolerance, and its padding still holds the sentinel. */
static void check_result(const gemm_case *t, const operands *o, const float *c)
{
    for (int64_t i = 0; i < t->m; i++)
        for (int64_t j = 0; j < o->ldc; j++) {
            int64_t at = i * o->ldc + j;
            if (j >= t->n) {
                if (c[at] != SENTINEL)
                    fail_msg("%s%s m=%lld n=%lld k=%lld: C padding [%lld][%lld] written (%g)", t->ta ? "T" : "N",
                             t->tb ? "T" : "N", (long long)t->m, (long long)t->n, (long long)t->k, (long long)i,
                             (long long)j, (double)c[at]);
                continue;
            }
            double tol = 1e-6 * (double)(t->k + 2) * o->bound[at] + 1e-30;
            if (!(fabs((double)c[at] - (double)o->expected[at]) <= tol))
                fail_msg("%s%s m=%lld n=%lld k=%lld lda+%lld ldb+%lld ldc+%lld alpha=%g beta=%g%s: C[%lld][%lld] = "
                         "%.9g, cblas_sgemm %.9g (tolerance %.3g)",
                         t->ta ? "T" : "N", t->tb ? "T" : "N", (long long)t->m, (long long)t->n, (long long)t->k,
                         (long long)t->pad_a, (long long)t->pad_b, (long long)t->pad_c, (double)t->alpha,
                         (double)t->beta, t->bias ? " bias" : "", (long long)i, (long long)j, (double)c[at],
                         (double)o->expected[at], tol);
        }
}

/* The case through pf_cpu_sgemm_avx512 directly. */
static void run_direct(const gemm_case *t, uint64_t seed)
{
    operands o = make_operands(t, seed);
    PF_CHECK(pf_cpu_sgemm_avx512(t->ta, t->tb, t->m, t->n, t->k, t->alpha, o.a, o.lda, o.b, o.ldb, t->beta, o.c,
                                 o.ldc, o.bias));
    check_result(t, &o, o.c);
    free_operands(&o);
}

/* The case through pf_cpu_gemm (the kernel it is set to choose). */
static void run_dispatch(const gemm_case *t, uint64_t seed)
{
    operands o = make_operands(t, seed);
    pf_gemm_args g = {
        .dtype = PF_F32, .trans_a = t->ta, .trans_b = t->tb, .m = t->m, .n = t->n, .k = t->k,
        .a = o.a, .lda = o.lda, .b = o.b, .ldb = o.ldb, .c = o.c, .ldc = o.ldc,
        .alpha = t->alpha, .beta = t->beta, .batch = 1, .row_bias = o.bias,
    };
    PF_CHECK(pf_cpu_gemm(&g));
    check_result(t, &o, o.c);
    free_operands(&o);
}

/* Sizes m x n x k: small, prime, around the tile sizes (8 x 32), larger
 * than the blocks (KC 256, MC 256, NC about 131072 / k), and the lecture
 * CNN's products at batch 100 (chunks of 50 images). */
static const int64_t small_sizes[][3] = {
    {1, 1, 1},     {1, 1, 7},     {2, 3, 1},     {17, 13, 29},  {7, 5, 3},      {8, 32, 1},   {9, 33, 17},
    {8, 16, 16},   {16, 48, 15},  {1, 100, 3},   {100, 1, 3},   {31, 47, 300},  {13, 70, 513}, {33, 65, 16},
    {5, 31, 257},  {24, 96, 64},  {100, 200, 256}, {100, 256, 200}, {200, 256, 100}, {100, 10, 200},
    {10, 200, 100}, {3, 1000, 2}, {520, 70, 600}, {300, 5000, 40},
};
static const int64_t lecture_sizes[][3] = {
    {32, 28800, 25}, {32, 25, 28800}, {64, 800, 800}, {800, 800, 64},
    {64, 1600, 800}, {800, 1600, 64}, {64, 800, 1600},
};

static bool skip_without_avx512(void)
{
    if (pf_cpu_avx512_supported())
        return false;
    print_message("this CPU has no AVX-512: the direct kernel cases are skipped\n");
    return true;
}

/* Every small size, the four transposes, padded and minimal leading
 * dimensions, and several alpha / beta. */
static void test_avx512_small_shapes(void **state)
{
    (void)state;
    if (skip_without_avx512()) {
        skip();
        return;
    }
    static const float ab[][2] = {{1, 0}, {1, 1}, {-0.75f, 0.5f}, {2.5f, 0}};
    uint64_t seed = 1;
    for (size_t s = 0; s < sizeof small_sizes / sizeof small_sizes[0]; s++)
        for (int tr = 0; tr < 4; tr++)
            for (int pad = 0; pad < 2; pad++)
                for (size_t v = 0; v < sizeof ab / sizeof ab[0]; v++) {
                    gemm_case t = {
                        .ta = tr & 1, .tb = tr >> 1,
                        .m = small_sizes[s][0], .n = small_sizes[s][1], .k = small_sizes[s][2],
                        .pad_a = pad * 3, .pad_b = pad * 17, .pad_c = pad * 5,
                        .alpha = ab[v][0], .beta = ab[v][1], .bias = (s + v) % 3 == 0,
                    };
                    run_direct(&t, seed++);
                }
}

/* The lecture's products, all four transposes, beta 0 and 1. */
static void test_avx512_lecture_shapes(void **state)
{
    (void)state;
    if (skip_without_avx512()) {
        skip();
        return;
    }
    uint64_t seed = 100;
    for (size_t s = 0; s < sizeof lecture_sizes / sizeof lecture_sizes[0]; s++)
        for (int tr = 0; tr < 4; tr++)
            for (int beta = 0; beta < 2; beta++) {
                gemm_case t = {
                    .ta = tr & 1, .tb = tr >> 1,
                    .m = lecture_sizes[s][0], .n = lecture_sizes[s][1], .k = lecture_sizes[s][2],
                    .pad_c = beta, .alpha = 1, .beta = (float)beta, .bias = beta == 0,
                };
                run_direct(&t, seed++);
            }
}

/* beta == 0 overwrites C even where it held NaN; alpha == 0 and k == 0
 * leave beta * C (NaN in A and B padding is never read). */
static void test_avx512_nan_and_degenerate(void **state)
{
    (void)state;
    if (skip_without_avx512()) {
        skip();
        return;
    }
    uint64_t seed = 200;
    for (int tr = 0; tr < 4; tr++) {
        gemm_case nan_c = {.ta = tr & 1, .tb = tr >> 1, .m = 19, .n = 37, .k = 11, .pad_c = 2, .alpha = 1.5f,
                           .beta = 0, .nan_c = true};
        run_direct(&nan_c, seed++);
        gemm_case no_k = {.ta = tr & 1, .tb = tr >> 1, .m = 5, .n = 9, .k = 0, .alpha = 1, .beta = 0.5f};
        run_direct(&no_k, seed++);
        no_k.beta = 0;
        no_k.nan_c = true;
        run_direct(&no_k, seed++);
    }
    /* alpha == 0: C = beta * C, A and B not used */
    float a = NAN, b = NAN, c[2] = {4, NAN};
    PF_CHECK(pf_cpu_sgemm_avx512(false, false, 1, 1, 1, 0.0f, &a, 1, &b, 1, 0.5f, c, 1, NULL));
    assert_true(c[0] == 2.0f);
    PF_CHECK(pf_cpu_sgemm_avx512(false, false, 1, 1, 1, 0.0f, &a, 1, &b, 1, 0.0f, c + 1, 1, NULL));
    assert_true(c[1] == 0.0f);
    /* empty C: nothing is touched */
    PF_CHECK(pf_cpu_sgemm_avx512(false, false, 0, 3, 2, 1.0f, NULL, 2, NULL, 3, 0.0f, NULL, 3, NULL));
    PF_CHECK(pf_cpu_sgemm_avx512(true, true, 3, 0, 2, 1.0f, NULL, 3, NULL, 2, 0.0f, NULL, 1, NULL));
}

/* pf_cpu_gemm with each kernel setting: small and sliced (large) products,
 * k == 0 (C = beta * C, NaN overwritten when beta == 0). */
static void test_dispatch(void **state)
{
    (void)state;
    pf_cpu_gemm_kernel saved = pf_cpu_gemm_get_kernel();
    static const pf_cpu_gemm_kernel kernels[] = {PF_GEMM_AUTO, PF_GEMM_OPENBLAS, PF_GEMM_AVX512};
    if (!pf_cpu_avx512_supported())
        print_message("this CPU has no AVX-512: every setting must fall back to OpenBLAS\n");
    uint64_t seed = 300;
    for (size_t kk = 0; kk < 3; kk++) {
        pf_cpu_gemm_set_kernel(kernels[kk]);
        assert_int_equal(pf_cpu_gemm_get_kernel(), kernels[kk]);
        for (int tr = 0; tr < 4; tr++) {
            gemm_case cases[] = {
                {.m = 17, .n = 13, .k = 29, .alpha = 1, .beta = 0},
                {.m = 64, .n = 800, .k = 800, .pad_a = 1, .alpha = 1, .beta = 1},
                {.m = 300, .n = 100, .k = 200, .pad_c = 3, .alpha = -1, .beta = 0.5f}, /* sliced by rows */
                {.m = 32, .n = 28800, .k = 25, .alpha = 1, .beta = 0, .nan_c = true},  /* sliced by columns */
                {.m = 6, .n = 7, .k = 0, .alpha = 1, .beta = 0, .nan_c = true},
                {.m = 6, .n = 7, .k = 0, .pad_c = 1, .alpha = 1, .beta = 0.5f},
                /* one row of C: matrix-vector products (gemv) */
                {.m = 1, .n = 1000, .k = 700, .pad_a = 2, .pad_b = 1, .alpha = 1, .beta = 0, .nan_c = true},
                {.m = 1, .n = 37, .k = 5, .pad_a = 1, .pad_c = 2, .alpha = 2, .beta = 0.5f},
                /* a bias per row: sliced by rows and columns, small, gemv, k == 0 */
                {.m = 300, .n = 100, .k = 200, .pad_c = 3, .alpha = 1, .beta = 0, .nan_c = true, .bias = true},
                {.m = 32, .n = 576, .k = 25, .alpha = 1, .beta = 0, .bias = true},
                {.m = 64, .n = 16, .k = 800, .alpha = 1, .beta = 0.5f, .bias = true},
                {.m = 7, .n = 3, .k = 9, .alpha = 1, .beta = 0, .bias = true},
                {.m = 1, .n = 300, .k = 40, .alpha = 1, .beta = 0, .bias = true},
                {.m = 6, .n = 7, .k = 0, .alpha = 1, .beta = 0, .nan_c = true, .bias = true},
            };
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                cases[i].ta = tr & 1;
                cases[i].tb = tr >> 1;
                run_dispatch(&cases[i], seed++);
            }
        }
    }
    pf_cpu_gemm_set_kernel(saved);
}

/* A batch of three products (A shared: stride 0) matches three single
 * products, with each kernel; float64 still goes to BLAS. */
static void test_dispatch_batch_and_double(void **state)
{
    (void)state;
    pf_cpu_gemm_kernel saved = pf_cpu_gemm_get_kernel();
    enum { B = 3, M = 40, N = 300, K = 100 };
    uint64_t seed = 400;
    float *a = make_matrix(M, K, K, 0, &seed), *b = make_matrix(B * K, N, N, 0, &seed);
    float *c = make_matrix(B * M, N, N, 0, &seed), *expected = malloc(sizeof(float) * B * M * N);
    assert_non_null(expected);
    for (int i = 0; i < B; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b + i * K * N, N, 0.0f,
                    expected + i * M * N, N);
    static const pf_cpu_gemm_kernel kernels[] = {PF_GEMM_AUTO, PF_GEMM_OPENBLAS, PF_GEMM_AVX512};
    for (size_t kk = 0; kk < 3; kk++) {
        pf_cpu_gemm_set_kernel(kernels[kk]);
        pf_gemm_args g = {
            .dtype = PF_F32, .m = M, .n = N, .k = K, .a = a, .lda = K, .stride_a = 0,
            .b = b, .ldb = N, .stride_b = K * N, .c = c, .ldc = N, .stride_c = M * N,
            .alpha = 1, .beta = 0, .batch = B,
        };
        PF_CHECK(pf_cpu_gemm(&g));
        for (int i = 0; i < B * M * N; i++)
            assert_true(fabsf(c[i] - expected[i]) <= 1e-6f * (K + 2) * K);
    }
    double ad[6] = {1, 2, 3, 4, 5, 6}, bd[6] = {1, 0, 0, 1, 1, 1}, cd[4] = {NAN, NAN, NAN, NAN};
    pf_gemm_args g = {
        .dtype = PF_F64, .m = 2, .n = 2, .k = 3, .a = ad, .lda = 3, .b = bd, .ldb = 2, .c = cd, .ldc = 2,
        .alpha = 1, .beta = 0, .batch = 1,
    };
    PF_CHECK(pf_cpu_gemm(&g));
    assert_true(cd[0] == 4 && cd[1] == 5 && cd[2] == 10 && cd[3] == 11);
    free(a);
    free(b);
    free(c);
    free(expected);
    pf_cpu_gemm_set_kernel(saved);
}

/* The AVX-512 kernel's results (and gemv's, for one row of C) are
 * bit-for-bit the same on one and on two threads (pf_cpu_gemm slices C; each element is one sum in a fixed order),
 * also by default where a slice is narrower than the whole product (8 x 40
 * cut into 32 + 8 columns: the choice of kernel follows the whole product). */
static void test_avx512_thread_count_invariance(void **state)
{
    (void)state;
    if (skip_without_avx512()) {
        skip();
        return;
    }
    pf_cpu_gemm_kernel saved = pf_cpu_gemm_get_kernel();
    int threads = pf_get_num_threads();
    static const int64_t sizes[][3] = {{300, 100, 700}, {32, 28800, 25}, {64, 800, 800}, {8, 40, 4000},
                                       {1, 5000, 700}};
    const size_t n_sizes = sizeof sizes / sizeof sizes[0];
    uint64_t seed = 500;
    for (size_t s = 0; s < 2 * n_sizes; s++) {
        pf_cpu_gemm_set_kernel(s < n_sizes ? PF_GEMM_AVX512 : PF_GEMM_AUTO);
        int64_t m = sizes[s % n_sizes][0], n = sizes[s % n_sizes][1], k = sizes[s % n_sizes][2];
        /* one row of C: with B transposed, as a linear layer (gemv) */
        bool tb = m == 1;
        float *a = make_matrix(m, k, k, 0, &seed), *b = tb ? make_matrix(n, k, k, 0, &seed) : make_matrix(k, n, n, 0, &seed);
        float *c1 = malloc(sizeof(float) * (size_t)(m * n)), *c2 = malloc(sizeof(float) * (size_t)(m * n));
        assert_non_null(c1);
        assert_non_null(c2);
        pf_gemm_args g = {
            .dtype = PF_F32, .trans_b = tb, .m = m, .n = n, .k = k, .a = a, .lda = k, .b = b, .ldb = tb ? k : n,
            .c = c1, .ldc = n,
            .alpha = 1, .beta = 0, .batch = 1,
        };
        pf_set_num_threads(1);
        PF_CHECK(pf_cpu_gemm(&g));
        g.c = c2;
        pf_set_num_threads(2);
        PF_CHECK(pf_cpu_gemm(&g));
        assert_memory_equal(c1, c2, sizeof(float) * (size_t)(m * n));
        free(a);
        free(b);
        free(c1);
        free(c2);
    }
    pf_set_num_threads(threads);
    pf_cpu_gemm_set_kernel(saved);
}

/* PF_GEMM from the environment sets the initial choice. */
/* The AVX-512 matrix-vector product (a linear layer on one input): rows
 * in groups of four and alone, k around its 32- and 16-float steps, beta 0
 * over NaN and beta 0.5, against sums in double; and the same bits whether
 * the rows are done at once or in two parts (as two threads would). */
static void test_avx512_gemv(void **state)
{
    (void)state;
    if (skip_without_avx512()) {
        skip();
        return;
    }
    static const int64_t sizes[][2] = {{1, 1}, {3, 15}, {4, 16}, {5, 31}, {7, 32}, {9, 33}, {13, 100}, {37, 700}};
    uint64_t seed = 500;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int with_beta = 0; with_beta < 2; with_beta++) {
            int64_t n = sizes[s][0], k = sizes[s][1], ldb = k + 3;
            float *b = make_matrix(n, k, ldb, NAN, &seed), *x = make_matrix(1, k, k, 0, &seed);
            float *c = make_matrix(1, n, n, 0, &seed), *parts = malloc(sizeof(float) * (size_t)n);
            assert_non_null(parts);
            float beta = with_beta ? 0.5f : 0.0f;
            double *expected = malloc(sizeof(double) * (size_t)n);
            assert_non_null(expected);
            for (int64_t j = 0; j < n; j++) {
                double sum = 0;
                for (int64_t p = 0; p < k; p++)
                    sum += (double)b[j * ldb + p] * x[p];
                expected[j] = 1.5 * sum + beta * c[j];
                parts[j] = with_beta ? c[j] : NAN;
                if (!with_beta)
                    c[j] = NAN;
            }
            pf_cpu_sgemv_avx512(n, k, 1.5f, b, ldb, x, beta, c);
            int64_t half = n / 2 + 1 < n ? n / 2 + 1 : n; /* an odd split: groups of four cut */
            pf_cpu_sgemv_avx512(half, k, 1.5f, b, ldb, x, beta, parts);
            pf_cpu_sgemv_avx512(n - half, k, 1.5f, b + half * ldb, ldb, x, beta, parts + half);
            for (int64_t j = 0; j < n; j++) {
                if (!(fabs((double)c[j] - expected[j]) <= 1e-5 * (double)(k + 2)))
                    fail_msg("gemv n=%lld k=%lld beta=%g: c[%lld] = %.9g, expected %.9g", (long long)n, (long long)k,
                             (double)beta, (long long)j, (double)c[j], expected[j]);
                if (memcmp(&c[j], &parts[j], sizeof(float)) != 0)
                    fail_msg("gemv n=%lld k=%lld: c[%lld] differs when the rows are split", (long long)n,
                             (long long)k, (long long)j);
            }
            free(b), free(x), free(c), free(parts), free(expected);
        }
}

static void test_environment(void **state)
{
    (void)state;
    const char *env = getenv("PF_GEMM");
    pf_cpu_gemm_kernel expected = !env                             ? PF_GEMM_AUTO
                                  : strcmp(env, "openblas") == 0 ? PF_GEMM_OPENBLAS
                                  : strcmp(env, "avx512") == 0   ? PF_GEMM_AVX512
                                                                 : PF_GEMM_AUTO;
    assert_int_equal(pf_cpu_gemm_get_kernel(), expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_avx512_small_shapes),
        cmocka_unit_test(test_avx512_lecture_shapes),
        cmocka_unit_test(test_avx512_nan_and_degenerate),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_dispatch_batch_and_double),
        cmocka_unit_test(test_avx512_thread_count_invariance),
        cmocka_unit_test(test_avx512_gemv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
