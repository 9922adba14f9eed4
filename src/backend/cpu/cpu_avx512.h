/*
 * cpu_avx512.h — what the cpu_*_avx512.c kernels share: the attribute that
 * compiles a function for AVX-512 (the library itself builds for baseline
 * x86-64, and callers check pf_cpu_use_avx512 or pf_cpu_avx512_supported
 * first), and the lane masks of 16-float vectors. x86 only.
 */
#ifndef PF_CPU_AVX512_H
#define PF_CPU_AVX512_H

#include <stdint.h>

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

/* The first n of 16 lanes (none for n <= 0, all for n >= 16). */
static inline __mmask16 first_lanes(int64_t n)
{
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

/* The lanes of positions c0 .. c0+15 that lie in [lo, hi). */
static inline __mmask16 lanes_between(int64_t c0, int64_t lo, int64_t hi)
{
    return (__mmask16)(first_lanes(hi - c0) & ~first_lanes(lo - c0));
}

#endif
