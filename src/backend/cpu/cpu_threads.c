/*
 * runtime.c — the thread count shared by the kernels (OpenMP) and BLAS.
 *
 * The default is PF_THREADS from the environment, else the number of cores
 * OpenMP sees. Kernels split work by shape only, so results do not depend on
 * the thread count except through BLAS, which is deterministic for a fixed
 * count.
 */
#include <omp.h>
#include <stdlib.h>

#include <cblas.h>

#include "profond.h"

static int num_threads;

void pf_set_num_threads(int n)
{
    if (n < 1)
        n = 1;
    num_threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int pf_get_num_threads(void)
{
    if (num_threads == 0) {
        const char *env = getenv("PF_THREADS");
        int n = env ? atoi(env) : 0;
        pf_set_num_threads(n > 0 ? n : omp_get_num_procs());
    }
    return num_threads;
}
