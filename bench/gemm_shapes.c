/*
 * gemm_shapes.c — GFLOP/s of single-precision products: OpenBLAS
 * (cblas_sgemm, one thread) against profond's AVX-512 kernel
 * (pf_cpu_sgemm_avx512), on the lecture CNN's products at batch 100 (the
 * first layer one image per chunk, the second 25), and on square sizes. Each shape runs on one thread,
 * then on two threads that each compute one half of the columns of C at the
 * same time (as profond's callers do; the sum of the two threads' rates).
 * Rates are per CPU second of each thread (see measure). Not a test:
 * numbers only.
 *
 * Build (after building the library in build/):
 *   gcc -std=c17 -O2 -fopenmp -Iinclude -Isrc bench/gemm_shapes.c build/libprofond.a \
 *       $(pkg-config --libs openblas libcjson zlib) -lm -o build/gemm_shapes
 * Run: ./build/gemm_shapes [seconds per measurement, default 0.5]
 * (OPENBLAS_CORETYPE chooses OpenBLAS's kernel, e.g. Haswell or SkylakeX.)
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>

#include "backend/cpu/cpu_backend.h"

typedef struct shape {
    const char *name;
    bool ta, tb;
    int64_t m, n, k;
} shape;

static const shape shapes[] = {
    {"conv1 fwd      W@cols", false, false, 32, 576, 25},
    {"conv1 dW     dY@cols^T", false, true, 32, 25, 576},
    {"conv2 fwd      W@cols", false, false, 64, 400, 800},
    {"conv2 fwd   (1 image)", false, false, 64, 16, 800},
    {"conv2 dX       W^T@dY", true, false, 800, 400, 64},
    {"conv2 dW     dY@cols^T", false, true, 64, 800, 400},
    {"fc1 fwd        x@W^T", false, true, 100, 200, 256},
    {"fc1 dX          dY@W", false, false, 100, 256, 200},
    {"fc1 dW        dY^T@x", true, false, 200, 256, 100},
    {"fc2 fwd        x@W^T", false, true, 100, 10, 200},
    {"fc2 dX          dY@W", false, false, 100, 200, 10},
    {"fc2 dW        dY^T@x", true, false, 10, 200, 100},
    {"mlp out fwd    x@W^T", false, true, 100, 10, 256},
    {"n = 12", false, false, 256, 12, 256},
    {"n = 8", false, false, 256, 8, 256},
    {"n = 4", false, false, 256, 4, 256},
    {"n = 2 (NT)", false, true, 256, 2, 256},
    {"n = 1", false, false, 256, 1, 256},
    {"square 1024", false, false, 1024, 1024, 1024},
    {"square 1024 A^T B^T", true, true, 1024, 1024, 1024},
    {"square 2048", false, false, 2048, 2048, 2048},
};

static float *random_matrix(int64_t count, unsigned *seed)
{
    float *x = aligned_alloc(64, (size_t)((count * 4 + 63) / 64 * 64));
    for (int64_t i = 0; x && i < count; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)(*seed >> 8) / 16777216.0f - 0.5f;
    }
    return x;
}

/* Columns n0 .. n0+n-1 of C = op(A) op(B) with one kernel. */
static void product(bool blas, const shape *s, const float *a, const float *b, float *c, int64_t n0, int64_t n)
{
    int64_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n, ldc = s->n;
    const float *bn = b + (s->tb ? n0 * ldb : n0);
    if (blas)
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                    (blasint)s->m, (blasint)n, (blasint)s->k, 1.0f, a, (blasint)lda, bn, (blasint)ldb, 0.0f, c + n0,
                    (blasint)ldc);
    else
        pf_cpu_sgemm_avx512(s->ta, s->tb, s->m, n, s->k, 1.0f, a, lda, bn, ldb, 0.0f, c + n0, ldc, NULL);
}

/* CPU seconds used by the calling thread. */
static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* GFLOP/s of products on `threads` threads at once, each computing its own
 * slice of the columns of C (cut at multiples of 32) over and over: each
 * thread's best of 5 rounds of about seconds/5 of its CPU time, summed over
 * the threads. CPU time rather than wall time, so that other processes on a
 * shared machine do not count (their effect on the caches still does). */
static double measure(bool blas, const shape *s, const float *a, const float *b, float *c, int threads,
                      double seconds)
{
    int64_t per = ((s->n + threads - 1) / threads + 31) / 32 * 32;
    double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        int64_t n0 = omp_get_thread_num() * per, n = s->n - n0 < per ? s->n - n0 : per;
        double flop = 2.0 * (double)s->m * (double)n * (double)s->k, best = 0;
        for (int round = -1; round < 5 && n > 0; round++) { /* round -1 warms up */
            double start = thread_seconds(), elapsed = 0;
            int64_t reps = 0;
            while (elapsed < seconds / 5) {
                product(blas, s, a, b, c, n0, n);
                reps++;
                elapsed = thread_seconds() - start;
            }
            if (round >= 0 && flop * (double)reps / elapsed / 1e9 > best)
                best = flop * (double)reps / elapsed / 1e9;
        }
        total += best;
    }
    return total;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    openblas_set_num_threads(1); /* as in profond: BLAS itself on one thread */
    if (!pf_cpu_avx512_supported()) {
        printf("this CPU has no AVX-512: nothing to compare\n");
        return 0;
    }
    const char *core = getenv("OPENBLAS_CORETYPE");
    printf("GFLOP/s per CPU second, OpenBLAS (OPENBLAS_CORETYPE=%s) vs profond AVX-512; 2 threads = two halves of "
           "N at once\n",
           core ? core : "unset");
    printf("%-24s %-3s %5s %6s %6s | %9s %9s %6s | %9s %9s %6s\n", "shape", "op", "M", "N", "K", "blas 1t",
           "avx512 1t", "ratio", "blas 2t", "avx512 2t", "ratio");
    unsigned seed = 12345;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        float *a = random_matrix(s->m * s->k, &seed), *b = random_matrix(s->k * s->n, &seed);
        float *c = random_matrix(s->m * s->n, &seed);
        if (!a || !b || !c) {
            printf("out of memory\n");
            return 1;
        }
        double r[4];
        for (int t = 0; t < 2; t++) {
            r[2 * t] = measure(true, s, a, b, c, t + 1, seconds);
            r[2 * t + 1] = measure(false, s, a, b, c, t + 1, seconds);
        }
        printf("%-24s %c%c  %5lld %6lld %6lld | %9.1f %9.1f %6.2f | %9.1f %9.1f %6.2f\n", s->name, s->ta ? 'T' : 'N',
               s->tb ? 'T' : 'N', (long long)s->m, (long long)s->n, (long long)s->k, r[0], r[1], r[1] / r[0], r[2],
               r[3], r[3] / r[2]);
        fflush(stdout);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
