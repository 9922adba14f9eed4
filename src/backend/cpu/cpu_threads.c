/*
 * cpu_threads.c — the thread count of the CPU kernels.
 *
 * All parallel work is done by profond's OpenMP threads; OpenBLAS is set to
 * one thread when the library loads, and the kernels call it from their own
 * threads (two thread pools on the same cores would spin against each
 * other). The count is PF_THREADS from the environment, else the number of
 * cores OpenMP sees, until pf_set_num_threads changes it. Kernels split work
 * by shape where they can, so most results do not depend on the count; with
 * a fixed count every result is reproducible.
 */
#include <omp.h>
#include <stdlib.h>

#include <cblas.h>

#include "backend/cpu/cpu_backend.h"

static int num_threads;

void pf_set_num_threads(int n)
{
    if (n < 1)
        n = 1;
    num_threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(1);
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

int pf_cpu_threads(void) { return pf_get_num_threads(); }

/* Runs when the library is loaded, before any kernel. */
__attribute__((constructor)) static void runtime_init(void) { pf_get_num_threads(); }
