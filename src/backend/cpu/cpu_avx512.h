/*
 * cpu_avx512.h — what the cpu_*_avx512.c kernels share: the attribute that
 * compiles a function for AVX-512 (the library itself builds for baseline
 * x86-64, and callers check pf_cpu_use_avx512 or pf_cpu_avx512_supported
 * first), the lane masks of 16-float vectors, and the 16 x 16 transpose.
 * x86 only.
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

/* Transposes 16 rows of 16 floats in place (r[i][j] becomes r[j][i]). */
static inline AVX512 __attribute__((always_inline)) void transpose16(__m512 r[16])
{
    __m512 t[16];
    /* interleave pairs of rows, then pairs of pairs: r[4g + c] holds, in
     * each 128-bit lane L, column 4L + c of rows 4g .. 4g+3 */
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 16
    for (int g = 0; g < 16; g += 4) {
        __m512d a = _mm512_castps_pd(t[g]), b = _mm512_castps_pd(t[g + 1]);
        __m512d c = _mm512_castps_pd(t[g + 2]), d = _mm512_castps_pd(t[g + 3]);
        r[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* then gather the 128-bit lanes: two rounds of shuffle_f32x4 */
#pragma GCC unroll 16
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    }
#pragma GCC unroll 16
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
        r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xdd);
    }
}

#endif
