/*
 * cpu_conv_pool_grad_avx512.c — one output channel of the weight gradient
 * of cpu_conv_pool_grad.c with AVX-512: each kernel row of the gradient (at
 * most 16 weights) is a register per partial sum, which adds the input row
 * under the cell's maximum times the cell's gradient. Four partial sums
 * (of the weights and of the bias) let consecutive cells' additions
 * overlap (one chain waited 4 cycles per cell). Products and sums are separate roundings, as in the portable
 * loop, in the same order: the results are the same bit for bit.
 */
#include <string.h>

#include "backend/cpu/cpu_backend.h"

#if defined(__x86_64__) || defined(__i386__)

#include "backend/cpu/cpu_avx512.h"

enum { SETS = PF_CPU_POOL_GRAD_SETS, WINDOW_TABLE = 4096 };

/* The channel's sums for `rows` accumulator rows: called with constant
 * counts, so that the accumulators stay in registers. */
static inline __attribute__((always_inline)) AVX512 void
channel_grads(const pf_conv2d_geom *g, const pf_pool2d_geom *p, int64_t o, float *dw_o, float *db_o,
              const float *dy, const int64_t *indices, const float *x, int rows)
{
    int64_t cells = p->h_out * p->w_out, k_h = g->k_h;
    _Static_assert(SETS == 4, "the loop below adds four cells at a time");
    /* where accumulator row r reads, from a window's top left: row r % k_h of input channel r / k_h */
    int64_t row_at[PF_CPU_POOL_GRAD_MAX_ROWS];
    __m512 acc[SETS][PF_CPU_POOL_GRAD_MAX_ROWS];
    for (int r = 0; r < rows; r++) {
        row_at[r] = (r / k_h * g->h_in + r % k_h) * g->w_in;
        for (int s = 0; s < SETS; s++)
            acc[s][r] = _mm512_setzero_ps();
    }
    __mmask16 columns = first_lanes(g->k_w);
    /* the window's offset in the image for each position of the output
     * plane, looked up (a division per cell cost a third of the time) */
    int32_t window_at[WINDOW_TABLE];
    bool table = g->h_out * g->w_out <= WINDOW_TABLE;
    for (int64_t pos = 0; table && pos < g->h_out * g->w_out; pos++)
        window_at[pos] = (int32_t)(pos / g->w_out * g->w_in + pos % g->w_out);
    const uint32_t w_out = (uint32_t)g->w_out, w_in = (uint32_t)g->w_in;
    double bias[SETS] = {0};
    for (int64_t b = 0; b < g->n; b++) {
        const float *grads = dy + (b * g->c_out + o) * cells, *image = x + b * g->c_in * g->h_in * g->w_in;
        const int64_t *at = indices + (b * g->c_out + o) * cells;
        int64_t cell = 0;
        for (; cell + SETS <= cells; cell += SETS)
#pragma GCC unroll 4
            for (int s = 0; s < SETS; s++) {
                float v = grads[cell + s];
                bias[s] += v;
                uint32_t pos = (uint32_t)at[cell + s];
                const float *window = image + (table ? (uint32_t)window_at[pos] : pos / w_out * w_in + pos % w_out);
                __m512 scale = _mm512_set1_ps(v);
#pragma GCC unroll 8
                for (int r = 0; r < rows; r++)
                    acc[s][r] = _mm512_add_ps(acc[s][r],
                                              _mm512_mul_ps(scale, _mm512_maskz_loadu_ps(columns, window + row_at[r])));
            }
        for (; cell < cells; cell++) { /* the last cells of a plane, as the portable loop's cell % 4 */
            float v = grads[cell];
            bias[cell % SETS] += v;
            uint32_t pos = (uint32_t)at[cell];
            const float *window = image + pos / w_out * w_in + pos % w_out;
            __m512 scale = _mm512_set1_ps(v);
            for (int r = 0; r < rows; r++)
                acc[cell % SETS][r] = _mm512_add_ps(
                    acc[cell % SETS][r], _mm512_mul_ps(scale, _mm512_maskz_loadu_ps(columns, window + row_at[r])));
        }
    }
    for (int r = 0; r < rows; r++) {
        __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0][r], acc[1][r]), _mm512_add_ps(acc[2][r], acc[3][r]));
        _mm512_mask_storeu_ps(dw_o + r * g->k_w, columns, sum);
    }
    if (db_o)
        *db_o = (float)((bias[0] + bias[1]) + (bias[2] + bias[3]));
}

AVX512 void pf_cpu_conv_pool_grad_channel_avx512(const pf_conv2d_geom *g, const pf_pool2d_geom *p, int64_t o,
                                                 float *dw_o, float *db_o, const float *dy, const int64_t *indices,
                                                 const float *x)
{
    switch (g->c_in * g->k_h) { /* the kernels of first layers, unrolled */
    case 3:
        channel_grads(g, p, o, dw_o, db_o, dy, indices, x, 3);
        break;
    case 5:
        channel_grads(g, p, o, dw_o, db_o, dy, indices, x, 5);
        break;
    case 7:
        channel_grads(g, p, o, dw_o, db_o, dy, indices, x, 7);
        break;
    default:
        channel_grads(g, p, o, dw_o, db_o, dy, indices, x, (int)(g->c_in * g->k_h));
    }
}

#else

void pf_cpu_conv_pool_grad_channel_avx512(const pf_conv2d_geom *g, const pf_pool2d_geom *p, int64_t o, float *dw_o,
                                          float *db_o, const float *dy, const int64_t *indices, const float *x)
{
    (void)g, (void)p, (void)o, (void)dw_o, (void)db_o, (void)dy, (void)indices, (void)x;
}

#endif
