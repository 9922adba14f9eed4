/*
 * cpu_sgemv_avx512.c — single-precision matrix-vector product with
 * AVX-512, for a linear layer on one input: c[j] = alpha * (row j of B) . x
 * + beta * c[j], B's rows contiguous (the layer's weight [out, in]).
 *
 * Such a product reads every weight once and does two flops per weight:
 * it is bound by memory (AlexNet's classifier streams 234 MB per image).
 * Four rows go together, each with two accumulators (eight FMA chains, as
 * the two FMA pipes of latency 4 need). Against OpenBLAS's gemv (Haswell
 * kernel), AlexNet at batch 1 went from 8.85 to 8.55 ms on two Zen 5 cores
 * (alternating runs of profond_bench); software prefetching 0.5 to 4 KB
 * ahead changed nothing measurable, and is not done.
 *
 * Every output is one dot product summed in a fixed order (two vector
 * chains over 32-float steps, then the masked tail, then the lanes), so the
 * result does not depend on which rows a thread was given.
 *
 * Compiled for AVX-512 function by function (the AVX512 attribute);
 * cpu_gemm.c calls it only where the CPU has AVX-512.
 */
#include <stdint.h>

#include "backend/cpu/cpu_backend.h"

#if defined(__x86_64__) || defined(__i386__)

#include "backend/cpu/cpu_avx512.h"

enum { ROWS = 4 }; /* rows of B per pass */

/* Stores alpha * sum (+ beta * c) into c. */
static inline void store(float *c, float sum, float alpha, float beta)
{
    *c = beta == 0 ? alpha * sum : alpha * sum + beta * *c;
}

AVX512 void pf_cpu_sgemv_avx512(int64_t n, int64_t k, float alpha, const float *b, int64_t ldb, const float *x,
                                float beta, float *c)
{
    int64_t body = k / 32 * 32;
    int64_t j = 0;
    for (; j + ROWS <= n; j += ROWS) {
        const float *row[ROWS];
        __m512 acc[ROWS][2];
        for (int r = 0; r < ROWS; r++) {
            row[r] = b + (j + r) * ldb;
            acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        }
        for (int64_t p = 0; p < body; p += 32) {
            __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
            for (int r = 0; r < ROWS; r++) {
                acc[r][0] = _mm512_fmadd_ps(_mm512_loadu_ps(row[r] + p), x0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(_mm512_loadu_ps(row[r] + p + 16), x1, acc[r][1]);
            }
        }
        for (int64_t p = body; p < k; p += 16) {
            __mmask16 m = first_lanes(k - p);
            __m512 xv = _mm512_maskz_loadu_ps(m, x + p);
            for (int r = 0; r < ROWS; r++)
                acc[r][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row[r] + p), xv, acc[r][0]);
        }
        for (int r = 0; r < ROWS; r++)
            store(c + j + r, _mm512_reduce_add_ps(_mm512_add_ps(acc[r][0], acc[r][1])), alpha, beta);
    }
    for (; j < n; j++) { /* the last rows, one at a time, summed the same way */
        const float *row = b + j * ldb;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        for (int64_t p = 0; p < body; p += 32) {
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(row + p), _mm512_loadu_ps(x + p), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(row + p + 16), _mm512_loadu_ps(x + p + 16), acc1);
        }
        for (int64_t p = body; p < k; p += 16) {
            __mmask16 m = first_lanes(k - p);
            acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + p), _mm512_maskz_loadu_ps(m, x + p), acc0);
        }
        store(c + j, _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)), alpha, beta);
    }
}

#else /* not x86: never used */

void pf_cpu_sgemv_avx512(int64_t n, int64_t k, float alpha, const float *b, int64_t ldb, const float *x, float beta,
                         float *c)
{
    (void)n, (void)k, (void)alpha, (void)b, (void)ldb, (void)x, (void)beta, (void)c;
}

#endif
