/*
 * cpu_pool_avx512.c — float32 max pooling with AVX-512, for pooling
 * without padding (every window lies inside its image).
 *
 * The portable loop (cpu_pool.inc) finds each window's maximum with a chain
 * of compares, each waiting for the one before: about 3 cycles per window
 * element whatever the vector width. Here one output row is done in two
 * vector passes over its kernel rows of input:
 *   down:   for every input column, the maximum over the kernel rows and
 *           its position (h*W + w), sixteen columns per vector;
 *   across: for sixteen outputs at a time (fewer where the windows of
 *           sixteen would not fit in 32 columns), the maximum of those
 *           column maxima over the kernel columns; two permutes bring tap j
 *           of every output's window (column ow*stride + j) into its lane.
 * Gathers would do the same in one pass, but on AMD Zen 5 a 16-lane gather
 * costs about 20 cycles, and that version was no faster than the portable
 * loop.
 *
 * The results are the portable loop's, bit for bit. There the first
 * maximum in row-major order wins; here the down pass keeps the first row
 * (strict compare) and the across pass breaks ties by the smaller position,
 * which is the earlier one in row-major order. A row whose input holds a
 * NaN is redone output by output as the portable loop does it (the last NaN
 * of a window wins, as in PyTorch).
 *
 * Compiled for AVX-512 function by function (the AVX512 attribute), so the
 * library still runs on CPUs without it; cpu_pool.c calls it only where
 * pf_cpu_use_avx512().
 */
#include <math.h>
#include <stdint.h>

#include "backend/cpu/cpu_backend.h"

enum { MAX_WIDTH = 4096 }; /* widest input row: the column maxima live on the stack */

bool pf_cpu_max_pool2d_f32_avx512_fits(const pf_pool2d_geom *g)
{
    return g->padding == 0 && g->kernel >= 1 && g->kernel <= 32 && g->stride >= 1 && g->w_in <= MAX_WIDTH &&
           g->h_in * g->w_in <= INT32_MAX;
}

#if defined(__x86_64__) || defined(__i386__)

#include "backend/cpu/cpu_avx512.h"

/* Output (oh, ow) of a plane as the portable loop computes it. */
static void max_window(const pf_pool2d_geom *g, const float *plane, int64_t oh, int64_t ow, float *y,
                       int64_t *index)
{
    int64_t h0 = oh * g->stride, w0 = ow * g->stride, best_at = h0 * g->w_in + w0;
    float best = plane[best_at];
    for (int64_t ih = h0; ih < h0 + g->kernel; ih++)
        for (int64_t iw = w0; iw < w0 + g->kernel; iw++)
            if (plane[ih * g->w_in + iw] > best) {
                best_at = ih * g->w_in + iw;
                best = plane[best_at];
            }
    for (int64_t ih = h0; ih < h0 + g->kernel; ih++)
        for (int64_t iw = w0; iw < w0 + g->kernel; iw++)
            if (isnan(plane[ih * g->w_in + iw])) {
                best_at = ih * g->w_in + iw;
                best = plane[best_at];
            }
    *y = best;
    *index = best_at;
}

/* Stores the first n lanes of positions as int64. */
static inline AVX512 void store_indices(int64_t *index, int n, __m512i positions)
{
    __mmask16 m = first_lanes(n);
    _mm512_mask_storeu_epi64(index, (__mmask8)m, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(positions)));
    _mm512_mask_storeu_epi64(index + 8, (__mmask8)(m >> 8),
                             _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(positions, 1)));
}

/* Column maxima of an output row: for input columns c0 .. c0+15 of rows
 * h0 .. h0+k-1, the maximum of each column and its position. NaNs found
 * are added to *nan. */
static inline AVX512 __attribute__((always_inline)) void
column_max(const pf_pool2d_geom *g, const float *plane, int64_t h0, int64_t c0, __m512 *best, __m512i *best_at,
           __mmask16 *nan)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    int64_t w = g->w_in;
    __mmask16 m = first_lanes(w - c0);
    __m512i at = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(h0 * w + c0)), iota);
    __m512 b = _mm512_maskz_loadu_ps(m, plane + h0 * w + c0);
    __m512i b_at = at;
    __mmask16 n = _mm512_mask_cmp_ps_mask(m, b, b, _CMP_UNORD_Q);
    for (int64_t i = 1; i < g->kernel; i++) {
        at = _mm512_add_epi32(at, _mm512_set1_epi32((int32_t)w));
        __m512 v = _mm512_maskz_loadu_ps(m, plane + (h0 + i) * w + c0);
        __mmask16 greater = _mm512_cmp_ps_mask(v, b, _CMP_GT_OQ);
        b = _mm512_mask_mov_ps(b, greater, v);
        b_at = _mm512_mask_mov_epi32(b_at, greater, at);
        n |= _mm512_mask_cmp_ps_mask(m, v, v, _CMP_UNORD_Q);
    }
    *best = b;
    *best_at = b_at;
    *nan |= n;
}

/* The across pass for up to 16 outputs whose windows lie in the 32 columns
 * lo, hi (and positions lo_at, hi_at): lane l takes columns l*s .. l*s+k-1.
 * Stores the first n outputs. */
static inline AVX512 __attribute__((always_inline)) void
row_max(const pf_pool2d_geom *g, __m512 lo, __m512 hi, __m512i lo_at, __m512i hi_at, int64_t n, float *y,
        int64_t *index)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i tap = _mm512_mullo_epi32(iota, _mm512_set1_epi32((int32_t)g->stride)); /* lane l: column l*s + j */
    __m512 best = _mm512_permutex2var_ps(lo, tap, hi);
    __m512i best_at = _mm512_permutex2var_epi32(lo_at, tap, hi_at);
    for (int64_t j = 1; j < g->kernel; j++) {
        tap = _mm512_add_epi32(tap, _mm512_set1_epi32(1));
        __m512 v = _mm512_permutex2var_ps(lo, tap, hi);
        __m512i v_at = _mm512_permutex2var_epi32(lo_at, tap, hi_at);
        __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                         (_mm512_cmp_ps_mask(v, best, _CMP_EQ_OQ) & _mm512_cmplt_epi32_mask(v_at, best_at));
        best = _mm512_mask_mov_ps(best, take, v);
        best_at = _mm512_mask_mov_epi32(best_at, take, v_at);
    }
    _mm512_mask_storeu_ps(y, first_lanes(n), best);
    if (index)
        store_indices(index, (int)n, best_at);
}

/* Outputs per across pass: those whose windows span at most 32 columns. */
static int64_t outputs_per_pass(const pf_pool2d_geom *g)
{
    int64_t per = (32 - g->kernel) / g->stride + 1;
    return per > 16 ? 16 : per;
}

/* Output row oh of one plane, values only (no backward will want the
 * positions), where the input rows fit two vectors and the outputs one:
 * across first (each input row's maximum over every window's columns),
 * then down over the kernel rows. Strict compares in that order keep the
 * first row holding the maximum and, in it, the first column: the
 * row-major first maximum, as the portable loop, with no positions to
 * carry (which matters only for +0 against -0). False, having written
 * nothing, where the rows hold a NaN. */
static inline AVX512 __attribute__((always_inline)) bool
max_pool_row_values(const pf_pool2d_geom *g, const float *plane, int64_t oh, float *y)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    int64_t w = g->w_in, k = g->kernel;
    __mmask16 lo_m = first_lanes(w), hi_m = first_lanes(w - 16), nan = 0;
    __m512i tap0 = _mm512_mullo_epi32(iota, _mm512_set1_epi32((int32_t)g->stride));
    __m512 best = _mm512_setzero_ps();
    for (int64_t i = 0; i < k; i++) {
        const float *row = plane + (oh * g->stride + i) * w;
        __m512 lo = _mm512_maskz_loadu_ps(lo_m, row), hi = _mm512_maskz_loadu_ps(hi_m, row + 16);
        nan |=
            _mm512_mask_cmp_ps_mask(lo_m, lo, lo, _CMP_UNORD_Q) | _mm512_mask_cmp_ps_mask(hi_m, hi, hi, _CMP_UNORD_Q);
        __m512i tap = tap0;
        __m512 row_best = _mm512_permutex2var_ps(lo, tap, hi);
        for (int64_t j = 1; j < k; j++) {
            tap = _mm512_add_epi32(tap, _mm512_set1_epi32(1));
            __m512 v = _mm512_permutex2var_ps(lo, tap, hi);
            row_best = _mm512_mask_mov_ps(row_best, _mm512_cmp_ps_mask(v, row_best, _CMP_GT_OQ), v);
        }
        best = i == 0 ? row_best : _mm512_mask_mov_ps(best, _mm512_cmp_ps_mask(row_best, best, _CMP_GT_OQ), row_best);
    }
    if (nan)
        return false;
    _mm512_mask_storeu_ps(y, first_lanes(g->w_out), best);
    return true;
}

/* Output row oh of one plane: its w_out values, and their positions where
 * index is not NULL. */
static AVX512 void max_pool_row(const pf_pool2d_geom *g, const float *plane, int64_t oh, float *y, int64_t *index)
{
    int64_t h0 = oh * g->stride, w = g->w_in;
    __mmask16 nan = 0;
    if (w <= 32 && g->w_out <= outputs_per_pass(g)) {
        if (!index) {
            if (max_pool_row_values(g, plane, oh, y))
                return;
            nan = 1;
        } else {
            /* one pass, the column maxima in registers */
            __m512 lo, hi = _mm512_setzero_ps();
            __m512i lo_at, hi_at = _mm512_setzero_si512();
            column_max(g, plane, h0, 0, &lo, &lo_at, &nan);
            if (w > 16)
                column_max(g, plane, h0, 16, &hi, &hi_at, &nan);
            if (!nan) {
                row_max(g, lo, hi, lo_at, hi_at, g->w_out, y, index);
                return;
            }
        }
    } else {
        /* column maxima through the stack */
        float col_max[MAX_WIDTH];
        int32_t col_at[MAX_WIDTH];
        for (int64_t c = 0; c < w; c += 16) {
            __m512 best;
            __m512i best_at;
            column_max(g, plane, h0, c, &best, &best_at, &nan);
            __mmask16 m = first_lanes(w - c);
            _mm512_mask_storeu_ps(col_max + c, m, best);
            _mm512_mask_storeu_epi32(col_at + c, m, best_at);
        }
        if (!nan) {
            int64_t per = outputs_per_pass(g);
            for (int64_t ow0 = 0; ow0 < g->w_out; ow0 += per) {
                int64_t c0 = ow0 * g->stride;
                __mmask16 lo_m = first_lanes(w - c0), hi_m = first_lanes(w - c0 - 16);
                row_max(g, _mm512_maskz_loadu_ps(lo_m, col_max + c0), _mm512_maskz_loadu_ps(hi_m, col_max + c0 + 16),
                        _mm512_maskz_loadu_epi32(lo_m, col_at + c0), _mm512_maskz_loadu_epi32(hi_m, col_at + c0 + 16),
                        g->w_out - ow0 < per ? g->w_out - ow0 : per, y + ow0, index ? index + ow0 : NULL);
            }
            return;
        }
    }
    for (int64_t ow = 0; ow < g->w_out; ow++) { /* a NaN: output by output */
        int64_t position;
        max_window(g, plane, oh, ow, y + ow, &position);
        if (index)
            index[ow] = position;
    }
}

AVX512 void pf_cpu_max_pool2d_f32_avx512(const pf_pool2d_geom *g, int64_t planes, float *y, int64_t *indices,
                                         const float *x)
{
    int64_t in_size = g->h_in * g->w_in, out_size = g->h_out * g->w_out;
    for (int64_t pl = 0; pl < planes; pl++) {
        /* the next plane into L2 while this one is pooled */
        if (pl + 1 < planes)
            for (int64_t at = 0; at < in_size; at += 16)
                _mm_prefetch((const char *)(x + (pl + 1) * in_size + at), _MM_HINT_T1);
        for (int64_t oh = 0; oh < g->h_out; oh++)
            max_pool_row(g, x + pl * in_size, oh, y + pl * out_size + oh * g->w_out,
                         indices ? indices + pl * out_size + oh * g->w_out : NULL);
    }
}

#else /* not x86: never used */

void pf_cpu_max_pool2d_f32_avx512(const pf_pool2d_geom *g, int64_t planes, float *y, int64_t *indices,
                                  const float *x)
{
    (void)g, (void)planes, (void)y, (void)indices, (void)x;
}

#endif
