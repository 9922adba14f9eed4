/*
 * cpu_conv_avx512.c — the row copies of the float32 convolution (im2col and
 * col2im, stride 1) with AVX-512 masked moves.
 *
 * im2col and col2im work row by row: for each kernel position (i, j) and
 * output row, w_out consecutive inputs go to (or are added back from) a
 * row of the columns. The lecture CNN's second layer has rows of 4, and
 * the portable loop spent more on the bookkeeping of a row than on its
 * elements (im2col was 12% of a training epoch). Here a row is one masked
 * load and one masked store per 16 elements, the mask covering the part
 * that lies inside the image (the rest is zero). Additions in col2im are
 * made element by element in the portable loop's order, so the results are
 * the same bit for bit.
 *
 * Compiled for AVX-512 function by function (the AVX512 attribute), so the
 * library still runs on CPUs without it; cpu_conv.c calls it only where
 * pf_cpu_use_avx512() and the stride is 1.
 */
#include <stdint.h>
#include <string.h>

#include "backend/cpu/cpu_backend.h"

#if defined(__x86_64__) || defined(__i386__)

#include "backend/cpu/cpu_avx512.h"

/* A pointer to plane[at], where at may lie outside the plane: only the
 * lanes a mask keeps inside it are read or written through it. Computed
 * as an address so that no out-of-range pointer arithmetic takes place. */
static inline const float *at_offset(const float *plane, int64_t at)
{
    return (const float *)((uintptr_t)plane + (uintptr_t)(at * (int64_t)sizeof(float)));
}

/* With padding: for each kernel row i and output row oh, the k_w kernel
 * columns in turn; their rows lie row_len apart in the columns and read
 * the same input row one element further along. Each is written with full
 * 16-lane stores where these stay inside its block (h_out rows of w_out,
 * contiguous): lanes past the row's end are overwritten by the next rows,
 * and AVX-512 masked stores are slow on AMD Zen. */
static AVX512 void im2col_plane_padded(const pf_conv2d_geom *g, const float *plane, float *dst0, int64_t row_len)
{
    const int64_t k_h = g->k_h, k_w = g->k_w, h_in = g->h_in, w_in = g->w_in, h_out = g->h_out, w_out = g->w_out;
    const int64_t padding = g->padding, dilation = g->dilation, hw = h_out * w_out;
    int64_t lo[64], hi[64]; /* per kernel column j (k_w <= 64: see cpu_conv.c) */
    for (int64_t j = 0; j < k_w; j++)
        pf_cpu_conv_inside_range(j * dilation - padding, 1, w_in, w_out, &lo[j], &hi[j]);
    for (int64_t i = 0; i < k_h; i++)
        for (int64_t oh = 0; oh < h_out; oh++) {
            int64_t ih = oh - padding + i * dilation;
            bool inside = ih >= 0 && ih < h_in;
            float *dst = dst0 + i * k_w * row_len + oh * w_out;
            for (int64_t ow0 = 0; ow0 < w_out; ow0 += 16) {
                bool full = oh * w_out + ow0 + 16 <= hw;
                __mmask16 row = lanes_between(ow0, 0, w_out);
                const float *src = at_offset(plane, ih * w_in - padding + ow0);
                for (int64_t j = 0; j < k_w; j++) {
                    __mmask16 read = inside ? lanes_between(ow0, lo[j], hi[j]) : 0;
                    __m512 v = _mm512_maskz_loadu_ps(read, at_offset(src, j * dilation));
                    if (full)
                        _mm512_storeu_ps(dst + j * row_len + ow0, v);
                    else
                        _mm512_mask_storeu_ps(dst + j * row_len + ow0, row, v);
                }
            }
        }
}

enum { UNPADDED_TABLE = 512 }; /* most (vector, output row) pieces of a block */

/* Without padding every kernel position's block (h_out rows of w_out
 * outputs, contiguous) is the same window of the plane, moved: it is
 * written sixteen outputs at a time, one full store per vector, each
 * vector assembled from one masked load per output row it covers (so rows
 * of 4, as in the lecture's second layer, make a vector from four loads
 * instead of four stores split over cache lines). Which lanes and input
 * offsets make each vector is worked out once per plane, in a table. The
 * loads zero the other lanes and are combined by OR, so that they do not
 * wait for each other. Only where the table fits (see pf_cpu_im2col_plane_f32_avx512). */
static AVX512 void im2col_plane_unpadded(const pf_conv2d_geom *g, const float *plane, float *dst0, int64_t row_len)
{
    const int64_t k_h = g->k_h, k_w = g->k_w, w_in = g->w_in, w_out = g->w_out, dilation = g->dilation;
    const int64_t hw = g->h_out * w_out, vectors = (hw + 15) / 16;
    __mmask16 mask[UNPADDED_TABLE];
    int32_t offset[UNPADDED_TABLE];
    int first[UNPADDED_TABLE + 1]; /* vector v's pieces: first[v] .. first[v+1]-1 */
    int pieces = 0;
    for (int64_t v = 0, r = 0; v < vectors; v++) {
        int64_t t0 = v * 16;
        first[v] = pieces;
        for (int64_t rr = r; rr * w_out < t0 + 16 && rr < g->h_out; rr++) {
            /* lane L holds output t0 + L = (rr, ow): input (rr, ow) of the window */
            mask[pieces] = lanes_between(t0, rr * w_out, (rr + 1) * w_out) & lanes_between(t0, 0, hw);
            offset[pieces++] = (int32_t)(rr * w_in - rr * w_out + t0);
        }
        while ((r + 1) * w_out <= t0 + 16)
            r++;
    }
    first[vectors] = pieces;
    for (int64_t v = 0; v < vectors; v++) {
        int64_t t0 = v * 16;
        for (int64_t i = 0; i < k_h; i++)
            for (int64_t j = 0; j < k_w; j++) {
                const float *window = plane + (i * w_in + j) * dilation;
                __m512 sum = _mm512_setzero_ps();
                for (int p = first[v]; p < first[v + 1]; p++) {
                    __m512 piece = _mm512_maskz_loadu_ps(mask[p], at_offset(window, offset[p]));
                    sum = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(sum), _mm512_castps_si512(piece)));
                }
                float *dst = dst0 + (i * k_w + j) * row_len + t0;
                if (t0 + 16 <= hw)
                    _mm512_storeu_ps(dst, sum);
                else
                    _mm512_mask_storeu_ps(dst, lanes_between(t0, 0, hw), sum);
            }
    }
}

enum { PADDED_PLANE = 16384 }; /* most floats of a plane copied with its padding (64 KB of stack) */

static bool table_fits(const pf_conv2d_geom *g)
{
    return (g->h_out * g->w_out + 15) / 16 + g->h_out <= UNPADDED_TABLE;
}

/* Whether every kernel position's block (h_out x w_out <= 16 outputs) lies
 * in the 32 inputs from the start of its kernel row: then the block is one
 * permute of two vectors (im2col_plane_small). */
static bool small_plane(const pf_conv2d_geom *g)
{
    return g->padding == 0 && g->h_out * g->w_out <= 16 &&
           (g->h_out - 1) * g->w_in + (g->w_out - 1) + (g->k_w - 1) * g->dilation < 32;
}

/* Small output planes (the lecture CNN's second layer: 4 x 4 outputs of
 * an 8 x 8 plane): for each kernel row, the 32 inputs from its start are
 * loaded once, and each kernel column's block of outputs is one permute
 * and one store (the table path took four loads and three ORs per block). */
static AVX512 void im2col_plane_small(const pf_conv2d_geom *g, const float *plane, float *dst0, int64_t row_len)
{
    const int64_t k_h = g->k_h, k_w = g->k_w, w_in = g->w_in, w_out = g->w_out, dilation = g->dilation;
    const int64_t hw = g->h_out * w_out, in_size = g->h_in * w_in;
    int32_t first[16] = {0}; /* lane L: output (L / w_out, L % w_out) reads this input of the window */
    for (int64_t l = 0; l < hw; l++)
        first[l] = (int32_t)(l / w_out * w_in + l % w_out);
    __m512i base = _mm512_loadu_si512(first);
    __mmask16 outputs = lanes_between(0, 0, hw);
    for (int64_t i = 0; i < k_h; i++) {
        int64_t start = i * dilation * w_in;
        __m512 lo = _mm512_maskz_loadu_ps(lanes_between(start, start, in_size), plane + start);
        __m512 hi = _mm512_maskz_loadu_ps(lanes_between(start + 16, start + 16, in_size), plane + start + 16);
        for (int64_t j = 0; j < k_w; j++) {
            __m512i at = _mm512_add_epi32(base, _mm512_set1_epi32((int32_t)(j * dilation)));
            __m512 v = _mm512_permutex2var_ps(lo, at, hi);
            float *dst = dst0 + (i * k_w + j) * row_len;
            if (hw == 16)
                _mm512_storeu_ps(dst, v);
            else
                _mm512_mask_storeu_ps(dst, outputs, v);
        }
    }
}

/* A padded plane is copied, zeros around it, onto the stack, and the copy
 * lowered without padding: the table's loads need no column masks, and
 * the copy costs a plane where the columns cost k_h * k_w outputs. */
AVX512 void pf_cpu_im2col_plane_f32_avx512(const pf_conv2d_geom *g, const float *plane, float *dst0, int64_t row_len)
{
    if (small_plane(g)) {
        im2col_plane_small(g, plane, dst0, row_len);
        return;
    }
    if (g->padding == 0 && table_fits(g)) {
        im2col_plane_unpadded(g, plane, dst0, row_len);
        return;
    }
    int64_t p = g->padding, h = g->h_in + 2 * p, w = g->w_in + 2 * p;
    if (!table_fits(g) || h * w > PADDED_PLANE) {
        im2col_plane_padded(g, plane, dst0, row_len);
        return;
    }
    _Alignas(64) float copy[PADDED_PLANE];
    memset(copy, 0, sizeof(float) * (size_t)(h * w));
    for (int64_t r = 0; r < g->h_in; r++)
        memcpy(copy + (r + p) * w + p, plane + r * g->w_in, sizeof(float) * (size_t)g->w_in);
    pf_conv2d_geom unpadded = *g;
    unpadded.h_in = h;
    unpadded.w_in = w;
    unpadded.padding = 0;
    im2col_plane_unpadded(&unpadded, copy, dst0, row_len);
}

enum { COL2IM_MASKS = 1024 }; /* most (kernel column, block of 16 input columns) pairs */

/* Every element of the plane is written. Input row by input row, sixteen
 * columns at a time, the contributions summed in registers (kernel row i,
 * then column j, as the portable loop adds them) and stored once: adding
 * into the plane in memory made every masked load wait for the masked
 * store before it. Which lanes kernel column j feeds in each block of
 * sixteen columns is worked out once per plane. */
AVX512 void pf_cpu_col2im_plane_f32_avx512(const pf_conv2d_geom *g, float *plane, const float *src0, int64_t row_len)
{
    const int64_t k_h = g->k_h, k_w = g->k_w, h_in = g->h_in, w_in = g->w_in, h_out = g->h_out, w_out = g->w_out;
    const int64_t padding = g->padding, dilation = g->dilation, blocks = (w_in + 15) / 16;
    __mmask16 masks[COL2IM_MASKS]; /* [j * blocks + block]: lanes that output columns reach */
    int64_t shift[64];             /* per kernel column j (k_w <= 64: see cpu_conv.c) */
    bool table = k_w * blocks <= COL2IM_MASKS;
    for (int64_t j = 0; j < k_w; j++) {
        int64_t lo, hi;
        shift[j] = j * dilation - padding;
        pf_cpu_conv_inside_range(shift[j], 1, w_in, w_out, &lo, &hi);
        /* input column iw takes output column iw - shift */
        for (int64_t block = 0; table && block < blocks; block++)
            masks[j * blocks + block] = lanes_between(block * 16, lo + shift[j], hi + shift[j]);
    }
    for (int64_t ih = 0; ih < h_in; ih++)
        for (int64_t block = 0; block < blocks; block++) {
            int64_t iw0 = block * 16;
            __m512 sum = _mm512_setzero_ps();
            for (int64_t i = 0; i < k_h; i++) {
                int64_t oh = ih + padding - i * dilation;
                if (oh < 0 || oh >= h_out)
                    continue;
                const float *col_row = src0 + i * k_w * row_len + oh * w_out;
                for (int64_t j = 0; j < k_w; j++) {
                    __mmask16 m;
                    if (table) {
                        m = masks[j * blocks + block];
                    } else {
                        int64_t lo, hi;
                        pf_cpu_conv_inside_range(shift[j], 1, w_in, w_out, &lo, &hi);
                        m = lanes_between(iw0, lo + shift[j], hi + shift[j]);
                    }
                    __m512 v = _mm512_maskz_loadu_ps(m, at_offset(col_row + j * row_len, iw0 - shift[j]));
                    sum = _mm512_mask_add_ps(sum, m, sum, v);
                }
            }
            int64_t at = ih * w_in + iw0; /* full stores as in im2col; lanes past the row are zero */
            if (at + 16 <= h_in * w_in)
                _mm512_storeu_ps(plane + at, sum);
            else
                _mm512_mask_storeu_ps(plane + at, lanes_between(iw0, 0, w_in), sum);
        }
}

#else /* not x86: never used */

void pf_cpu_im2col_plane_f32_avx512(const pf_conv2d_geom *g, const float *plane, float *dst0, int64_t row_len)
{
    (void)g, (void)plane, (void)dst0, (void)row_len;
}

void pf_cpu_col2im_plane_f32_avx512(const pf_conv2d_geom *g, float *plane, const float *src0, int64_t row_len)
{
    (void)g, (void)plane, (void)src0, (void)row_len;
}

#endif
