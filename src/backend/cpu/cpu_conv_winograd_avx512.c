/*
 * cpu_conv_winograd_avx512.c — the Winograd transforms (cpu_winograd.inc)
 * built for AVX-512: a vector of 16 floats is one register. Multiplications
 * and additions are separate instructions, as in the portable build, so the
 * two give the same bits. cpu_conv_winograd.c calls it only where
 * pf_cpu_use_avx512().
 */
#include <stdbool.h>
#include <string.h>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_winograd.h"

#if defined(__x86_64__) || defined(__i386__)

#include "backend/cpu/cpu_avx512.h"

typedef __m512 wvec;

static inline AVX512 wvec wvec_set1(float x) { return _mm512_set1_ps(x); }
static inline AVX512 wvec wvec_add(wvec a, wvec b) { return _mm512_add_ps(a, b); }
static inline AVX512 wvec wvec_sub(wvec a, wvec b) { return _mm512_sub_ps(a, b); }
static inline AVX512 wvec wvec_scale(wvec v, float m) { return _mm512_mul_ps(_mm512_set1_ps(m), v); }

static inline AVX512 wvec wvec_add_scaled(wvec acc, float m, wvec v)
{
    return _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(m), v));
}

static inline AVX512 wvec wvec_load(const float *p, int n) { return _mm512_maskz_loadu_ps(first_lanes(n), p); }

static inline AVX512 void wvec_store(float *p, wvec v, int n) { _mm512_mask_storeu_ps(p, first_lanes(n), v); }

/* Row i of lane l's window as a 16-float vector whose lane s + j holds
 * element j: its address less s floats, and the lanes of the elements
 * that exist (bits of block positions 0..15 only). The address may lie
 * outside the tensor (computed as an integer, no pointer arithmetic out of
 * range): masked loads and stores touch only the lanes they keep. */
static inline uintptr_t row_address(const float *base, const wino_lanes *ix, int l, int i, int s)
{
    return (uintptr_t)base + (uintptr_t)((int64_t)ix->offset[l] + (int64_t)i * ix->stride - s) * sizeof(float);
}

static inline __mmask16 row_lanes(uint32_t bits, int s)
{
    return (__mmask16)(s >= 0 ? bits << s : bits >> -s);
}

/* Lane l's elements rows*cols, block b (elements 16b .. 16b+15), into r[l]
 * by masked loads: each row that meets the block, into its place. */
static AVX512 void wvec_load_windows(const float *base, const wino_lanes *ix, int rows, int cols, wvec *v)
{
    const uint32_t *bits = ix->columns;
    for (int b = 0; b * 16 < rows * cols; b++) {
        int first = 16 * b / cols, last = (16 * b + 15) / cols; /* the rows that meet the block */
        last = last < rows - 1 ? last : rows - 1;
        __m512 r[16];
        for (int l = 0; l < 16; l++) {
            r[l] = _mm512_setzero_ps();
            for (int i = first; bits[l] && i <= last; i++) {
                int s = i * cols - 16 * b;
                if (wino_row_inside(ix, l, i))
                    r[l] = _mm512_mask_loadu_ps(r[l], row_lanes(bits[l], s), (const void *)row_address(base, ix, l, i, s));
            }
        }
        transpose16(r);
        for (int k = 0; k < 16; k++)
            v[16 * b + k] = r[k];
    }
}

/* The inverse: transposed block by block, then written (or added) lane by
 * lane, row by row, by masked stores. */
static AVX512 void wvec_store_windows(float *base, const wino_lanes *ix, int rows, int cols, const wvec *v, bool add)
{
    int blocks = (rows * cols + 15) / 16;
    __m512 r[WINO_POSITIONS / 16][16];
    for (int b = 0; b < blocks; b++) {
        for (int k = 0; k < 16; k++)
            r[b][k] = 16 * b + k < rows * cols ? v[16 * b + k] : _mm512_setzero_ps();
        transpose16(r[b]);
    }
    const uint32_t *bits = ix->columns;
    for (int l = 0; l < ix->lanes; l++)
        for (int i = 0; bits[l] && i < rows; i++) {
            if (!wino_row_inside(ix, l, i))
                continue;
            for (int b = i * cols / 16; b <= (i * cols + cols - 1) / 16; b++) {
                int s = i * cols - 16 * b;
                __mmask16 lanes = row_lanes(bits[l], s);
                void *at = (void *)row_address(base, ix, l, i, s);
                __m512 value = r[b][l];
                if (add)
                    value = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, at), value);
                _mm512_mask_storeu_ps(at, lanes, value);
            }
        }
}

static AVX512 void wvec_load_strided(const float *base, int64_t step, int lanes, int count, wvec *v)
{
    for (int b = 0; b * 16 < count; b++) {
        __mmask16 elements = first_lanes(count - 16 * b);
        __m512 r[16];
        for (int l = 0; l < 16; l++)
            r[l] = l < lanes ? _mm512_maskz_loadu_ps(elements, base + l * step + 16 * b) : _mm512_setzero_ps();
        transpose16(r);
        for (int k = 0; k < 16; k++)
            v[16 * b + k] = r[k];
    }
}

static AVX512 void wvec_store_strided(float *base, int64_t step, int lanes, int count, const wvec *v, bool add)
{
    int blocks = (count + 15) / 16;
    __m512 r[WINO_POSITIONS / 16][16];
    for (int b = 0; b < blocks; b++) {
        for (int k = 0; k < 16; k++)
            r[b][k] = 16 * b + k < count ? v[16 * b + k] : _mm512_setzero_ps();
        transpose16(r[b]);
    }
    for (int l = 0; l < lanes; l++)
        for (int b = 0; b < blocks; b++) {
            __mmask16 elements = first_lanes(count - 16 * b);
            float *at = base + l * step + 16 * b;
            __m512 value = r[b][l];
            if (add)
                value = _mm512_add_ps(_mm512_maskz_loadu_ps(elements, at), value);
            _mm512_mask_storeu_ps(at, elements, value);
        }
}

#define WINO_ATTR AVX512
#define WINO_NAME(name) name##_avx512
#include "backend/cpu/cpu_winograd.inc"

const wino_transforms pf_wino_transforms_avx512 = {
    .input = input_avx512,
    .output = output_avx512,
    .output_grad = output_grad_avx512,
    .input_grad = input_grad_avx512,
    .weight = weight_avx512,
    .weight_grad = weight_grad_avx512,
};

#else

/* Never used off x86 (pf_cpu_use_avx512() is false): the portable build. */
const wino_transforms pf_wino_transforms_avx512 = {0};

#endif
