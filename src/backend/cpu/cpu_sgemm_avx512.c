/*
 * cpu_sgemm_avx512.c — profond's own single-precision matrix product for
 * CPUs with AVX-512: C = alpha * op(A) @ op(B) + beta * C, row-major, with
 * cblas_sgemm's meaning (beta == 0: C is written, never read). One call runs
 * on the calling thread; cpu_gemm.c decides when to use it and spreads work
 * over threads.
 *
 * Organisation (the GotoBLAS / BLIS layering):
 *
 *   for each block of NC columns of C                      (jc)
 *     for each block of KC steps of the inner dimension    (pc)
 *       pack op(B)[pc.., jc..] into panels of NR columns   -> scratch slot 5
 *       for each block of MC rows of C                     (ic)
 *         pack op(A)[ic.., pc..] into panels of MR rows    -> scratch slot 4
 *         for each panel of NR columns                     (jr)
 *           for each panel of MR rows                      (ir)
 *             micro-kernel: the MR x NR tile of C
 *
 * The micro-kernel keeps the MR x NR tile in MR * NR/16 zmm registers and,
 * for each step p of the inner dimension, loads one row of the B panel (NR
 * floats, NR/16 aligned vector loads) and multiplies it by the MR values of
 * the A panel's column p, each broadcast from memory into an FMA. Packing
 * makes both reads contiguous and, with zero padding, lets every tile be
 * computed in full: edges only decide which rows are stored and which
 * columns (an AVX-512 mask). The transposes of A and B are absorbed by
 * packing (a plain copy of rows, or a 16 x 16 in-register transpose), so one
 * micro-kernel serves all four combinations.
 *
 * Sizes, measured on AMD Zen 5 (2 FMA pipes of 512 bits, 48 KB L1d, 1 MB L2
 * per core) with bench/gemm_shapes.c:
 *   MR x NR = 8 x 32: 16 accumulators (two FMA pipes of latency 4 need at
 *     least 8 in flight), 2 vector loads and 8 broadcasts per 16 FMAs. 32 and
 *     64 divide the channel counts of the convolutions that matter, so few
 *     tiles are partial.
 *   KC = 256: a B panel (KC x NR, 32 KB) stays in L1 while the micro-kernel
 *     sweeps the MR-row panels of A over it. A long inner dimension is cut
 *     into equal blocks of at most KC.
 *   MC = 256: an A block (MC x KC, 256 KB) stays in L2 across the B panels.
 *   NC: as many columns as make the packed B block (KC x NC) about 512 KB,
 *     so that it is still in L2 when the next A block is packed; with a
 *     short inner dimension (K = 25) that is thousands of columns.
 * Results depend only on the shape: every element is one sum in a fixed
 * order (the K blocks in turn, each accumulated step by step).
 */
#include <stdint.h>

#include "backend/cpu/cpu_backend.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

#ifndef T_MR
#define T_MR 8
#define T_NV 2
#define T_KC 256
#define T_MC 256
#define T_NCF 131072
#endif
enum {
    MR = T_MR,            /* rows of a C tile */
    NV = T_NV,            /* zmm vectors per row of a C tile */
    NR = 16 * NV,      /* columns of a C tile */
    KC = T_KC,          /* inner-dimension block */
    MC = T_MC,          /* rows of an A block (multiple of MR) */
    NC_FLOATS = T_NCF, /* floats of a packed B block (512 KB) */
    DIRECT_B_MAX = 1 << 21
};

bool pf_cpu_sgemm_avx512_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("fma");
}

/* The first n of 16 lanes (n clamped to 0..16). */
static inline __mmask16 lanes(int64_t n)
{
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

/* ---- packing ---------------------------------------------------------------
 * A panel of width w (MR for A, NR for B) holds, for each step p of the
 * inner dimension, w consecutive floats: dst[p*w + r], r < w, zero where r
 * is past the matrix edge. */

/* dst[p*w + r] = src[p*ld + r] for r < valid, 0 for valid <= r < w. */
static AVX512 void pack_copy(float *dst, int w, const float *src, int64_t ld, int valid, int64_t kc)
{
    for (int64_t p = 0; p < kc; p++)
        for (int v = 0; v * 16 < w; v++) {
            __m512 x = _mm512_maskz_loadu_ps(lanes(valid - 16 * v), src + p * ld + 16 * v);
            _mm512_mask_storeu_ps(dst + p * w + 16 * v, lanes(w - 16 * v), x);
        }
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

/* dst[p*w + r] = src[r*ld + p] for r < valid, 0 for valid <= r < w (w a
 * multiple of 16): rows of src become columns of the panel, 16 x 16 floats
 * at a time. */
static AVX512 void pack_transposed(float *dst, int w, const float *src, int64_t ld, int valid, int64_t kc)
{
    for (int r0 = 0; r0 < w; r0 += 16) {
        int rows = valid - r0 < 0 ? 0 : valid - r0 > 16 ? 16 : valid - r0;
        const float *from = src + r0 * ld;
        for (int64_t p0 = 0; p0 < kc; p0 += 16) {
            int64_t kt = kc - p0 < 16 ? kc - p0 : 16;
            __mmask16 in = lanes(kt);
            __m512 x[16];
#pragma GCC unroll 16
            for (int r = 0; r < 16; r++)
                x[r] = r < rows ? _mm512_maskz_loadu_ps(in, from + r * ld + p0) : _mm512_setzero_ps();
            transpose16(x);
            float *to = dst + p0 * w + r0;
            if (kt == 16) {
#pragma GCC unroll 16
                for (int p = 0; p < 16; p++)
                    _mm512_storeu_ps(to + p * w, x[p]);
            } else {
                for (int p = 0; p < kt; p++)
                    _mm512_storeu_ps(to + p * w, x[p]);
            }
        }
    }
}

/* The same for w == 8: rows 0..7 of src at steps p0 .. p0+15 and at steps
 * p0+16 .. p0+31 fill one 16 x 16 transpose, whose output rows hold step
 * p0+j in their low half and step p0+16+j in their high half. */
static AVX512 void pack_transposed8(float *dst, const float *src, int64_t ld, int valid, int64_t kc)
{
    for (int64_t p0 = 0; p0 < kc; p0 += 32) {
        int64_t k_lo = kc - p0 < 16 ? kc - p0 : 16, k_hi = kc - p0 - 16 < 0 ? 0 : kc - p0 - 16 > 16 ? 16 : kc - p0 - 16;
        __mmask16 in_lo = lanes(k_lo), in_hi = lanes(k_hi);
        __m512 x[16];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            x[r] = r < valid ? _mm512_maskz_loadu_ps(in_lo, src + r * ld + p0) : _mm512_setzero_ps();
            x[8 + r] = r < valid ? _mm512_maskz_loadu_ps(in_hi, src + r * ld + p0 + 16) : _mm512_setzero_ps();
        }
        transpose16(x);
        float *to = dst + p0 * 8;
        if (k_hi == 16) {
#pragma GCC unroll 16
            for (int p = 0; p < 16; p++) {
                _mm256_storeu_ps(to + p * 8, _mm512_castps512_ps256(x[p]));
                _mm256_storeu_ps(to + (16 + p) * 8, _mm512_extractf32x8_ps(x[p], 1));
            }
        } else {
            for (int p = 0; p < k_lo; p++)
                _mm256_storeu_ps(to + p * 8, _mm512_castps512_ps256(x[p]));
            for (int p = 0; p < k_hi; p++)
                _mm256_storeu_ps(to + (16 + p) * 8, _mm512_extractf32x8_ps(x[p], 1));
        }
    }
}

/* ---- micro-kernel ----------------------------------------------------------
 * The MR x NR tile acc = A panel (kc x MR) times B panel (kc x NR); then
 * C[i][j] = alpha * acc[i][j] + beta * C[i][j] for i < mr, j < nr, C not read
 * when beta == 0. */
static AVX512 void micro_kernel(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                                int mr, int nr, float alpha, float beta)
{
    __mmask16 mask[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
        mask[v] = lanes(nr - 16 * v);
    __m512 acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm512_setzero_ps();

    for (int64_t p = 0; p < kc; p++) {
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = _mm512_maskz_loadu_ps(mask[v], b + p * ldb + 16 * v);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[p * MR + i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }

    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        if (i >= mr)
            break;
        float *row = c + i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            __m512 x = _mm512_mul_ps(va, acc[i][v]);
            if (beta != 0)
                x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], row + 16 * v), x);
            _mm512_mask_storeu_ps(row + 16 * v, mask[v], x);
        }
    }
}

/* ---- the blocked product ---------------------------------------------------- */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* C = beta * C (0 when beta == 0, even where C held NaN). */
static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0 ? 0.0f : beta * c[i * ldc + j];
}

/* Panel jr of op(B)'s block at (pc, jc): kc x NR floats at dst. */
static AVX512 void pack_b_panel(float *dst, bool trans_b, const float *b, int64_t ldb, int64_t pc, int64_t j,
                                int valid, int64_t kc)
{
    if (trans_b)
        pack_transposed(dst, NR, b + j * ldb + pc, ldb, valid, kc);
    else
        pack_copy(dst, NR, b + pc * ldb + j, ldb, valid, kc);
}

/* op(A)'s block of rows i .. i+mc-1, steps pc .. pc+kc-1: panels of MR rows. */
static AVX512 void pack_a_block(float *dst, bool trans_a, const float *a, int64_t lda, int64_t i, int64_t mc,
                                int64_t pc, int64_t kc)
{
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int valid = (int)min64(MR, mc - ir);
        if (trans_a)
            pack_copy(dst + ir * kc, MR, a + pc * lda + i + ir, lda, valid, kc);
        else
            pack_transposed8(dst + ir * kc, a + (i + ir) * lda + pc, lda, valid, kc);
    }
}

static AVX512 void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc, float *pa,
                         float *pb, int64_t kc, int64_t mc, int64_t nc)
{
    /* B is read in place (not packed) when not transposed, used by one
     * block of A, and not too large */
    bool direct_b = !trans_b && m <= mc && k * n <= DIRECT_B_MAX;
    for (int64_t jc = 0; jc < n; jc += nc) {
        int64_t ncur = min64(nc, n - jc);
        for (int64_t pc = 0; pc < k; pc += kc) {
            int64_t kcur = min64(kc, k - pc);
            float beta_block = pc == 0 ? beta : 1.0f;
            for (int64_t ic = 0; ic < m; ic += mc) {
                int64_t mcur = min64(mc, m - ic);
                pack_a_block(pa, trans_a, a, lda, ic, mcur, pc, kcur);
                for (int64_t jr = 0; jr < ncur; jr += NR) {
                    int nr = (int)min64(NR, ncur - jr);
                    const float *panel = pb + jr * kcur;
                    int64_t ld_panel = NR;
                    if (direct_b) {
                        panel = b + pc * ldb + jc + jr;
                        ld_panel = ldb;
                    } else if (ic == 0) {
                        pack_b_panel(pb + jr * kcur, trans_b, b, ldb, pc, jc + jr, nr, kcur);
                    }
                    for (int64_t ir = 0; ir < mcur; ir += MR)
                        micro_kernel(kcur, pa + ir * kcur, panel, ld_panel, c + (ic + ir) * ldc + jc + jr, ldc,
                                     (int)min64(MR, mcur - ir), nr, alpha, beta_block);
                }
            }
        }
    }
}

bool pf_cpu_sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return true;
    if (k <= 0 || alpha == 0) {
        scale_c(m, n, beta, c, ldc);
        return true;
    }
    /* k in equal blocks of at most KC; as many columns as fill NC_FLOATS */
    int64_t kc = (k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC);
    int64_t mc = min64(MC, round_up(m, MR));
    int64_t nc = min64(round_up(n, NR), NC_FLOATS / kc / NR * NR);
    if (nc < NR)
        nc = NR;
    float *pa = pf_cpu_scratch(4, sizeof(float) * (size_t)(mc * kc));
    float *pb = pf_cpu_scratch(5, sizeof(float) * (size_t)(nc * kc));
    if (!pa || !pb)
        return false;
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, pa, pb, kc, mc, nc);
    return true;
}

#else /* not x86: never used */

bool pf_cpu_sgemm_avx512_supported(void) { return false; }

bool pf_cpu_sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)b, (void)ldb,
        (void)beta, (void)c, (void)ldc;
    return pf_fail("sgemm: AVX-512 kernel not built on this architecture") != NULL;
}

#endif
