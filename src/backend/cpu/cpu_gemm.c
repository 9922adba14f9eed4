/*
 * cpu_gemm.c — matrix products on the CPU through CBLAS (OpenBLAS), one
 * call per batch item.
 */
#include <cblas.h>

#include "backend/cpu/cpu_backend.h"

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

bool pf_cpu_gemm(const pf_gemm_args *g)
{
    if (g->m == 0 || g->n == 0)
        return true;
    enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
    for (int64_t i = 0; i < g->batch; i++) {
        if (g->k == 0) {
            scale_c(g, i);
            continue;
        }
        if (g->dtype == PF_F32)
            cblas_sgemm(CblasRowMajor, ta, tb, (blasint)g->m, (blasint)g->n, (blasint)g->k, (float)g->alpha,
                        (const float *)g->a + i * g->stride_a, (blasint)g->lda,
                        (const float *)g->b + i * g->stride_b, (blasint)g->ldb, (float)g->beta,
                        (float *)g->c + i * g->stride_c, (blasint)g->ldc);
        else
            cblas_dgemm(CblasRowMajor, ta, tb, (blasint)g->m, (blasint)g->n, (blasint)g->k, g->alpha,
                        (const double *)g->a + i * g->stride_a, (blasint)g->lda,
                        (const double *)g->b + i * g->stride_b, (blasint)g->ldb, g->beta,
                        (double *)g->c + i * g->stride_c, (blasint)g->ldc);
    }
    return true;
}
