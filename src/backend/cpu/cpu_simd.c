/*
 * cpu_simd.c — whether the CPU kernels other than the matrix product take
 * their AVX-512 versions (cpu_*_avx512.c) or their portable loops.
 *
 * By default the AVX-512 versions run where the CPU has AVX-512 (checked
 * once, when the library loads). PF_SIMD=portable in the environment, or
 * pf_cpu_simd_set(PF_SIMD_PORTABLE), keeps to the portable loops: the
 * tests compare the two, and a user can rule out the vector code when
 * hunting a bug. The matrix product has its own switch (PF_GEMM).
 */
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_backend.h"

bool pf_cpu_avx512_supported(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

static pf_cpu_simd simd_choice;
static bool have_avx512;

/* Runs when the library is loaded, before any kernel. */
__attribute__((constructor)) static void simd_init(void)
{
    have_avx512 = pf_cpu_avx512_supported();
    const char *env = getenv("PF_SIMD");
    simd_choice = env && strcmp(env, "portable") == 0 ? PF_SIMD_PORTABLE : PF_SIMD_AUTO;
}

void pf_cpu_simd_set(pf_cpu_simd choice) { simd_choice = choice; }

pf_cpu_simd pf_cpu_simd_get(void) { return simd_choice; }

bool pf_cpu_use_avx512(void) { return have_avx512 && simd_choice == PF_SIMD_AUTO; }
