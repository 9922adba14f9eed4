/*
 * cpu_sgemm_avx512.c — profond's own single-precision matrix product for
 * CPUs with AVX-512: C = alpha * op(A) @ op(B) + beta * C, row-major, with
 * cblas_sgemm's meaning (beta == 0: C is written, never read), plus an
 * optional bias per row of C added once at the end. One call runs
 * on the calling thread; cpu_gemm.c decides when to use it and spreads work
 * over threads. Compiled for AVX-512 function by function (the AVX512
 * attribute), so the library still runs on CPUs without it.
 *
 * Organisation (the GotoBLAS / BLIS layering):
 *
 *   for each block of NC columns of C                        (jc)
 *     for each block of KC steps of the inner dimension      (pc)
 *       for each block of MC rows of C                       (ic)
 *         A transposed: pack its block in panels of MR rows  -> scratch slot 4
 *         for each panel of NR columns                       (jr)
 *           first block of rows: pack op(B)'s panel          -> scratch slot 5
 *           for each panel of MR rows                        (ir)
 *             micro-kernel: the MR x NR tile of C
 *
 * The micro-kernel keeps the MR x NR tile in MR * NR/16 zmm registers and,
 * for each step p of the inner dimension, loads one row of the B panel (NR
 * floats, NR/16 vector loads) and multiplies it by the MR values of A's
 * column p, each broadcast from memory. Those come from MR row pointers:
 * A's own rows when it is not transposed (each is contiguous in p; rows
 * past the bottom edge repeat the last one and are not stored), else a
 * packed panel. B's panel is packed (a copy of rows, or 16 x 16 in-register
 * transposes when B is transposed) and padded with zeros, or read in place
 * (below). Every tile is computed in full; edges only decide which rows are
 * stored and which columns (an AVX-512 mask).
 *
 * Sizes, measured on AMD Zen 5 (two 512-bit FMA pipes, 48 KB L1d and 1 MB
 * L2 per core) with bench/gemm_shapes.c:
 *   MR x NR = 8 x 32: 16 accumulators (two FMA pipes of latency 4 need at
 *     least 8 in flight), 2 vector loads and 8 broadcasts per 16 FMAs; 32
 *     and 64, the channel counts that matter, are multiples of 8, and the
 *     column counts mostly multiples of 32. 12 x 32, 14 x 32, 8 x 48 and
 *     6 x 64 were no faster on the lecture's products.
 *   KC = 512: A's 8 rows of KC floats (16 KB) stay in L1 and the B panel
 *     (KC x 32, 64 KB) streams from L2 at 16 bytes a cycle; a long block
 *     means fewer passes over C (1024^3 went from about 175 to 200 GFLOP/s
 *     against KC = 256). A long inner dimension is cut into equal blocks.
 *   MC = 128: a block of A (MC x KC, 256 KB) stays in L2 across the B panels.
 *   NC: as many columns as make the packed B block 512 KB, so that it is
 *     still in L2 for the next block of rows.
 * Packing A, which the first version did, cost up to a third of the time
 * where A is used by few B panels (32 x 25 x 28800: 125 GFLOP/s, against 157
 * in place) and was slower even for 1024^3; A transposed is still packed, as
 * its column p is a row of A (one cache line and page per step otherwise).
 * B's panels are packed when first used, so each is still in cache for the
 * sweep over A's panels. B is read in place when it is not transposed, C
 * has a single block of rows, and B is short (K <= 32, as in a first
 * convolution layer) or small (<= 64K floats): a packed copy would be used
 * once. Longer B panels read in place suffered from cache-set conflicts and
 * other processes (64 x 1600 x 800 fell to 130 GFLOP/s on a loaded machine,
 * against 180 packed).
 *
 * Results depend only on the shape, not on where C is sliced: every element
 * is one sum in a fixed order (the K blocks in turn, each step by step).
 */
#include <stdint.h>

#include "backend/cpu/cpu_backend.h"

#if defined(__x86_64__) || defined(__i386__)

#include "backend/cpu/cpu_avx512.h"

enum {
    MR = 8,                     /* rows of a C tile */
    NV = 2,                     /* zmm vectors per row of a C tile */
    NR = 16 * NV,               /* columns of a C tile */
    KC = 512,                   /* most steps of the inner dimension in a block */
    MC = 128,                   /* most rows of an A block */
    NC_FLOATS = 131072,         /* floats of a packed B block (512 KB) */
    DIRECT_B_MAX_K = 32,        /* B read in place: up to this inner dimension, */
    DIRECT_B_MAX_FLOATS = 65536 /* or up to this size */
};
_Static_assert(MC % MR == 0, "A blocks hold whole panels");

/* ---- packing ---------------------------------------------------------------
 * A panel of width w (MR for A, NR for B) holds, for each step p of the
 * inner dimension, w consecutive floats: dst[p*w + r], r < w, zero where r
 * is past the matrix's edge. */

/* dst[p*w + r] = src[p*ld + r] for r < valid, 0 for valid <= r < w. */
static AVX512 void pack_copy(float *dst, int w, const float *src, int64_t ld, int valid, int64_t kc)
{
    for (int64_t p = 0; p < kc; p++)
        for (int v = 0; v * 16 < w; v++) {
            __m512 x = _mm512_maskz_loadu_ps(first_lanes(valid - 16 * v), src + p * ld + 16 * v);
            _mm512_mask_storeu_ps(dst + p * w + 16 * v, first_lanes(w - 16 * v), x);
        }
}

/* dst[p*w + r] = src[r*ld + p] for r < valid, 0 for valid <= r < w (w a
 * multiple of 16, here NR): rows of src become columns of the panel, 16 x 16
 * floats at a time. */
static AVX512 void pack_transposed(float *dst, int w, const float *src, int64_t ld, int valid, int64_t kc)
{
    for (int r0 = 0; r0 < w; r0 += 16) {
        int rows = valid - r0 < 0 ? 0 : valid - r0 > 16 ? 16 : valid - r0;
        const float *from = src + r0 * ld;
        for (int64_t p0 = 0; p0 < kc; p0 += 16) {
            int64_t kt = kc - p0 < 16 ? kc - p0 : 16;
            __mmask16 in = first_lanes(kt);
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

/* ---- micro-kernel ----------------------------------------------------------
 * The MR x NR tile acc = A panel (MR x kc) times B panel (kc x NR); then
 * C[i][j] = alpha * acc[i][j] + beta * C[i][j] for i < mr, j < nr, C not read
 * when beta == 0. Element p of the A panel's row i is a_rows[i][p * a_step];
 * row p of the B panel is at b + p*ldb (ldb = NR when packed). Where bias
 * is not NULL, bias[i] is added to row i (after the beta term). Only the
 * first nv of the NV vectors of a row are computed: nv is 1 where the tile
 * has at most 16 columns (as C of 16 columns, a one-image product of the
 * lecture CNN's second layer), which halves the work of such tiles and
 * leaves every sum as it was. Callers pass a constant, so that each
 * inlined copy keeps only the vectors it uses. */
static inline AVX512 __attribute__((always_inline)) void
micro_kernel(int64_t kc, const float *const *a_rows, int64_t a_step, const float *b, int64_t ldb, float *c,
             int64_t ldc, int mr, int nr, float alpha, float beta, const float *bias, int nv)
{
    __mmask16 mask[NV];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
        mask[v] = first_lanes(nr - 16 * v);
    /* C's rows are needed only at the end: fetch them meanwhile */
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++)
            _mm_prefetch((const char *)(c + i * ldc + 16 * v), _MM_HINT_T0);

    __m512 acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[i][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            bv[v] = _mm512_maskz_loadu_ps(mask[v], b + p * ldb + 16 * v);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a_rows[i][p * a_step]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
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
        for (int v = 0; v < nv; v++) {
            __m512 x = _mm512_mul_ps(va, acc[i][v]);
            if (beta != 0)
                x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], row + 16 * v), x);
            if (bias)
                x = _mm512_add_ps(x, _mm512_set1_ps(bias[i]));
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

/* Panel of op(B) at step pc, column j: kc x NR floats at dst. */
static AVX512 void pack_b_panel(float *dst, bool trans_b, const float *b, int64_t ldb, int64_t pc, int64_t j,
                                int valid, int64_t kc)
{
    if (trans_b)
        pack_transposed(dst, NR, b + j * ldb + pc, ldb, valid, kc);
    else
        pack_copy(dst, NR, b + pc * ldb + j, ldb, valid, kc);
}

static AVX512 void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                         const float *row_bias, float *pa, float *pb, int64_t kc, int64_t mc, int64_t nc)
{
    /* B is read in place (not packed) when not transposed, used by one
     * block of A, and short or small */
    bool direct_b = !trans_b && m <= mc && (k <= DIRECT_B_MAX_K || k * n <= DIRECT_B_MAX_FLOATS);
    for (int64_t jc = 0; jc < n; jc += nc) {
        int64_t ncur = min64(nc, n - jc);
        for (int64_t pc = 0; pc < k; pc += kc) {
            int64_t kcur = min64(kc, k - pc);
            float beta_block = pc == 0 ? beta : 1.0f;
            for (int64_t ic = 0; ic < m; ic += mc) {
                int64_t mcur = min64(mc, m - ic);
                /* A transposed: its block in panels of MR rows */
                for (int64_t ir = 0; ir < mcur && trans_a; ir += MR)
                    pack_copy(pa + ir * kcur, MR, a + pc * lda + ic + ir, lda, (int)min64(MR, mcur - ir), kcur);
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
                    for (int64_t ir = 0; ir < mcur; ir += MR) {
                        int mr = (int)min64(MR, mcur - ir);
                        /* the bias once, with the first block of k */
                        const float *bias = row_bias && pc == 0 ? row_bias + ic + ir : NULL;
                        float *tile = c + (ic + ir) * ldc + jc + jr;
                        const float *rows[MR];
                        if (trans_a) { /* the packed panel */
                            for (int i = 0; i < MR; i++)
                                rows[i] = pa + ir * kcur + i;
                            if (nr <= 16)
                                micro_kernel(kcur, rows, MR, panel, ld_panel, tile, ldc, mr, nr, alpha, beta_block,
                                             bias, 1);
                            else
                                micro_kernel(kcur, rows, MR, panel, ld_panel, tile, ldc, mr, nr, alpha, beta_block,
                                             bias, NV);
                        } else { /* A's rows in place; those past the edge repeat the last (not stored) */
                            for (int i = 0; i < MR; i++)
                                rows[i] = a + (ic + ir + (i < mr ? i : mr - 1)) * lda + pc;
                            if (nr <= 16)
                                micro_kernel(kcur, rows, 1, panel, ld_panel, tile, ldc, mr, nr, alpha, beta_block, bias,
                                             1);
                            else
                                micro_kernel(kcur, rows, 1, panel, ld_panel, tile, ldc, mr, nr, alpha, beta_block, bias,
                                             NV);
                        }
                    }
                }
            }
        }
    }
}

bool pf_cpu_sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                         const float *row_bias)
{
    if (m <= 0 || n <= 0)
        return true;
    if (k <= 0 || alpha == 0) {
        scale_c(m, n, beta, c, ldc);
        for (int64_t i = 0; row_bias && i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] += row_bias[i];
        return true;
    }
    /* k in equal blocks of at most KC; as many columns as fill NC_FLOATS */
    int64_t k_blocks = (k + KC - 1) / KC, kc = (k + k_blocks - 1) / k_blocks;
    int64_t mc = min64(MC, round_up(m, MR));
    int64_t nc = min64(round_up(n, NR), NC_FLOATS / kc / NR * NR);
    if (nc < NR)
        nc = NR;
    float *pa = pf_cpu_scratch(4, sizeof(float) * (size_t)(mc * kc));
    float *pb = pf_cpu_scratch(5, sizeof(float) * (size_t)(nc * kc));
    if (!pa || !pb)
        return false;
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, row_bias, pa, pb, kc, mc, nc);
    return true;
}

#else /* not x86: never used */

bool pf_cpu_sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                         const float *row_bias)
{
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)b, (void)ldb,
        (void)beta, (void)c, (void)ldc, (void)row_bias;
    return pf_fail("sgemm: AVX-512 kernel not built on this architecture") != NULL;
}

#endif
