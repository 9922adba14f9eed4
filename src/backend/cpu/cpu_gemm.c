/*
 * cpu_gemm.c — matrix products on the CPU through CBLAS (OpenBLAS).
 *
 * BLAS runs single-threaded (cpu_threads.c sets it so); the parallelism is
 * profond's own OpenMP threads, the same pool as every other kernel, so the
 * two never compete for the cores. A large product called outside a parallel
 * region is cut into as many slices of rows or columns of C as there are
 * threads, each a single-threaded BLAS call; batched products run their
 * items in parallel. Inside a parallel region (a kernel already split its
 * work) a product is one plain call.
 *
 * Float32 products may instead run profond's own AVX-512 kernel
 * (cpu_sgemm_avx512.c), single-threaded per call like BLAS, where the CPU
 * has AVX-512 (checked once at load time) and use_avx512 says it wins.
 * The environment variable PF_GEMM chooses: unset or "auto" as just said,
 * "openblas" always BLAS, "avx512" always the AVX-512 kernel when the CPU
 * has it (BLAS otherwise); other values count as "auto". Float64 always
 * goes to BLAS.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "backend/cpu/cpu_backend.h"

/* Below this many multiply-adds a product runs on one thread. */
#define PARALLEL_MIN_WORK ((int64_t)1 << 20)

static pf_cpu_gemm_kernel kernel_choice;
static bool have_avx512;

/* Runs when the library is loaded, before any kernel. */
__attribute__((constructor)) static void gemm_init(void)
{
    have_avx512 = pf_cpu_avx512_supported();
    const char *env = getenv("PF_GEMM");
    kernel_choice = !env                        ? PF_GEMM_AUTO
                    : strcmp(env, "openblas") == 0 ? PF_GEMM_OPENBLAS
                    : strcmp(env, "avx512") == 0   ? PF_GEMM_AVX512
                                                   : PF_GEMM_AUTO;
}

void pf_cpu_gemm_set_kernel(pf_cpu_gemm_kernel kernel) { kernel_choice = kernel; }

pf_cpu_gemm_kernel pf_cpu_gemm_get_kernel(void) { return kernel_choice; }

/* Whether a float32 product whose C has n columns goes to the AVX-512
 * kernel: always where forced; by default when C has at least 4 columns.
 * Measured with bench/gemm_shapes.c on Zen 5 against OpenBLAS's Haswell
 * kernel, one thread: 1.7 to 2.3 times faster on every product of the
 * lecture CNN and MLP (n = 10 included, since tiles of at most 16 columns
 * compute one vector per row, not two), 1.3 times at n = 4 and 8, even at
 * n = 1 and 2. */
static bool use_avx512(int64_t n)
{
    if (!have_avx512 || kernel_choice == PF_GEMM_OPENBLAS)
        return false;
    return kernel_choice == PF_GEMM_AVX512 || n >= 4;
}

/* C = beta * C, for the k = 0 case that BLAS may not handle. */
static void scale_c(const pf_gemm_args *g, int64_t i)
{
    for (int64_t r = 0; r < g->m; r++)
        for (int64_t c = 0; c < g->n; c++) {
            int64_t at = i * g->stride_c + r * g->ldc + c;
            if (g->dtype == PF_F32) {
                float *p = (float *)g->c + at;
                *p = g->beta == 0 ? 0.0f : (float)g->beta * *p;
            } else {
                double *p = (double *)g->c + at;
                *p = g->beta == 0 ? 0.0 : g->beta * *p;
            }
        }
}

/* For the kernels that take no bias: C = beta * C + row_bias over rows
 * r0..r0+m-1 and columns c0..c0+n-1 of item i, after which the product is
 * added with beta 1. */
static void prefill_row_bias(const pf_gemm_args *g, int64_t i, int64_t r0, int64_t m, int64_t c0, int64_t n)
{
    for (int64_t r = r0; r < r0 + m; r++)
        for (int64_t c = c0; c < c0 + n; c++) {
            int64_t at = i * g->stride_c + r * g->ldc + c;
            if (g->dtype == PF_F32) {
                float *p = (float *)g->c + at, old = g->beta == 0 ? 0.0f : (float)g->beta * *p;
                *p = old + ((const float *)g->row_bias)[r];
            } else {
                double *p = (double *)g->c + at, old = g->beta == 0 ? 0.0 : g->beta * *p;
                *p = old + ((const double *)g->row_bias)[r];
            }
        }
}

/* Rows r0..r0+m-1 and columns c0..c0+n-1 of batch item i's C, one call.
 * False with an error when out of memory (only the AVX-512 kernel can be). */
static bool gemm_block(const pf_gemm_args *g, int64_t i, int64_t r0, int64_t m, int64_t c0, int64_t n)
{
    if (m <= 0 || n <= 0)
        return true;
    enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
    /* Row r of op(A) starts at A + r*lda (or column r of A when transposed);
     * column c of op(B) at B + c (or row c of B when transposed). */
    int64_t a_at = i * g->stride_a + (g->trans_a ? r0 : r0 * g->lda);
    int64_t b_at = i * g->stride_b + (g->trans_b ? c0 * g->ldb : c0);
    int64_t c_at = i * g->stride_c + r0 * g->ldc + c0;
    /* Decided on the whole product, not the slice, so that results do not
     * depend on the thread count. A single row of C times a transposed B
     * (a linear layer on one input: x W^T) is a matrix-vector product,
     * bound by reading W once: a gemv, each element one dot product (where
     * a GEMM kernel would pack W first; AlexNet at batch 1, 13.8 ms -> 9.5
     * ms), profond's AVX-512 one (cpu_sgemv_avx512.c) where it can, else
     * BLAS's. Not for B untransposed: there BLAS's gemv sums depend on the
     * width of the slice, so on the thread count (test_sgemm). */
    if (g->dtype == PF_F32 && use_avx512(g->n) && !(g->m == 1 && g->trans_b))
        return pf_cpu_sgemm_avx512(g->trans_a, g->trans_b, m, n, g->k, (float)g->alpha, (const float *)g->a + a_at,
                                   g->lda, (const float *)g->b + b_at, g->ldb, (float)g->beta,
                                   (float *)g->c + c_at, g->ldc, g->row_bias ? (const float *)g->row_bias + r0 : NULL);
    double beta = g->beta;
    if (g->row_bias) { /* BLAS takes no bias: C starts as it */
        prefill_row_bias(g, i, r0, m, c0, n);
        beta = 1;
    }
    bool x_contiguous = !g->trans_a || g->lda == 1 || g->k <= 1;
    if (g->dtype == PF_F32 && g->m == 1 && g->trans_b && x_contiguous && have_avx512 &&
        kernel_choice != PF_GEMM_OPENBLAS) {
        pf_cpu_sgemv_avx512(n, g->k, (float)g->alpha, (const float *)g->b + b_at, g->ldb, (const float *)g->a + a_at,
                            (float)beta, (float *)g->c + c_at);
    } else if (g->dtype == PF_F32 && g->m == 1 && g->trans_b) {
        float *c = (float *)g->c + c_at;
        if (beta == 0) /* C may hold NaN, which a scaling by 0 would keep */
            memset(c, 0, sizeof(float) * (size_t)n);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)g->k, (float)g->alpha,
                    (const float *)g->b + b_at, (blasint)g->ldb, (const float *)g->a + a_at,
                    g->trans_a ? (blasint)g->lda : 1, (float)beta, c, 1);
    } else if (g->dtype == PF_F32) {
        cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)g->k, (float)g->alpha,
                    (const float *)g->a + a_at, (blasint)g->lda, (const float *)g->b + b_at, (blasint)g->ldb,
                    (float)beta, (float *)g->c + c_at, (blasint)g->ldc);
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)g->k, g->alpha,
                    (const double *)g->a + a_at, (blasint)g->lda, (const double *)g->b + b_at, (blasint)g->ldb,
                    beta, (double *)g->c + c_at, (blasint)g->ldc);
    }
    return true;
}

/* One batch item, sliced over the threads when it is worth it. */
static bool gemm_item(const pf_gemm_args *g, int64_t i)
{
    if (g->k == 0) {
        if (g->row_bias)
            prefill_row_bias(g, i, 0, g->m, 0, g->n);
        else
            scale_c(g, i);
        return true;
    }
    int threads = pf_cpu_threads();
    /* omp_get_level, not omp_in_parallel: inside a region of one thread
     * (an if clause that was false), a region here would start a nested
     * team of new threads. */
    if (omp_get_level() > 0 || threads < 2 || g->m * g->n * g->k < PARALLEL_MIN_WORK)
        return gemm_block(g, i, 0, g->m, 0, g->n);
    /* Slice the longer side of C in multiples of 16 rows or 32 columns
     * (the AVX-512 kernel's tiles are 8 x 32). */
    bool by_rows = g->m > g->n;
    int64_t size = by_rows ? g->m : g->n, align = by_rows ? 16 : 32;
    int64_t per = ((size + threads - 1) / threads + align - 1) / align * align;
    int64_t slices = (size + per - 1) / per;
    bool ok = true;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(&& : ok)
    for (int64_t s = 0; s < slices; s++) {
        int64_t lo = s * per, len = size - lo < per ? size - lo : per;
        if (by_rows)
            ok = gemm_block(g, i, lo, len, 0, g->n) && ok;
        else
            ok = gemm_block(g, i, 0, g->m, lo, len) && ok;
    }
    return ok;
}

bool pf_cpu_gemm(const pf_gemm_args *g)
{
    if (g->m == 0 || g->n == 0)
        return true;
    bool spread = g->batch > 1 && omp_get_level() == 0 && pf_cpu_threads() > 1 &&
                  g->batch * g->m * g->n * (g->k ? g->k : 1) >= PARALLEL_MIN_WORK &&
                  g->stride_c != 0;
    bool ok = true;
    if (spread) {
#pragma omp parallel for schedule(static) reduction(&& : ok)
        for (int64_t i = 0; i < g->batch; i++)
            ok = gemm_item(g, i) && ok;
    } else {
        for (int64_t i = 0; i < g->batch && ok; i++)
            ok = gemm_item(g, i);
    }
    return ok;
}
