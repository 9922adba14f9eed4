/*
 * cpu_conv_pool_grad.c — the weight and bias gradients of a float32
 * convolution followed by max pooling (pf_cpu_conv2d_max_pool2d_backward)
 * straight from the pooled gradient and the positions of the maxima.
 *
 * A pooled output's gradient reaches one convolution output, that of its
 * maximum, so the weight gradient is a sum over the pooled outputs of
 * their gradient times the input window under their maximum:
 *   dw[o, c, i, j] = sum over b and cells of dy[b, o, cell] * x[b, c, oh + i, ow + j]
 *   db[o]          = sum over b and cells of dy[b, o, cell]
 * with (oh, ow) the maximum of the cell. Behind a 3x3 pooling that is nine
 * times fewer products than the dense way (the pooled gradient sent back
 * to a zeroed convolution output, lowered input, one matrix product), which
 * spent most of its time on zeros: the lecture CNN's first layer, 0.71 ->
 * 0.35 ms per batch of 100 (bench/RESULTS.md has the epoch).
 *
 * For stride 1, no dilation or padding (every window inside its image),
 * k_w <= 16, c_in * k_h <= 8 accumulator rows of k_w weights, and a pooling
 * that keeps at most one output in four. Each output channel is one
 * thread's: it adds its cells image by image, cell by cell, into four
 * interleaved partial sums (cell % 4), added at the end as (0 + 1) + (2 + 3),
 * the bias's in double. So results do not depend on the thread
 * count, and the AVX-512 build (cpu_conv_pool_grad_avx512.c) makes the same
 * roundings. Zero gradients are multiplied like the others (0 * inf is NaN,
 * as in the dense product); the results differ from it in rounding only.
 */
#include <string.h>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_parallel.h"

bool pf_cpu_conv_pool_grad_fits(const pf_conv2d_geom *g, const pf_pool2d_geom *p)
{
    return g->stride == 1 && g->dilation == 1 && g->padding == 0 && g->k_w <= 16 &&
           g->c_in * g->k_h <= PF_CPU_POOL_GRAD_MAX_ROWS && 4 * p->h_out * p->w_out <= g->h_out * g->w_out &&
           g->n * g->c_in * g->h_in * g->w_in <= INT32_MAX;
}

/* Output channel o, portable: the roundings of the AVX-512 build. */
static void channel_grads(const pf_conv2d_geom *g, const pf_pool2d_geom *p, int64_t o, float *dw_o, float *db_o,
                          const float *dy, const int64_t *indices, const float *x)
{
    enum { SETS = PF_CPU_POOL_GRAD_SETS };
    int64_t cells = p->h_out * p->w_out, rows = g->c_in * g->k_h, k_w = g->k_w;
    float acc[SETS][PF_CPU_POOL_GRAD_MAX_ROWS][16];
    memset(acc, 0, sizeof acc);
    double bias[SETS] = {0};
    for (int64_t b = 0; b < g->n; b++) {
        const float *grads = dy + (b * g->c_out + o) * cells, *image = x + b * g->c_in * g->h_in * g->w_in;
        const int64_t *at = indices + (b * g->c_out + o) * cells;
        for (int64_t cell = 0; cell < cells; cell++) {
            float v = grads[cell];
            bias[cell % SETS] += v;
            const float *window = image + at[cell] / g->w_out * g->w_in + at[cell] % g->w_out;
            for (int64_t r = 0; r < rows; r++) {
                const float *row = window + (r / g->k_h * g->h_in + r % g->k_h) * g->w_in;
                for (int64_t j = 0; j < k_w; j++)
                    acc[cell % SETS][r][j] += v * row[j];
            }
        }
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < k_w; j++)
            dw_o[r * k_w + j] = (acc[0][r][j] + acc[1][r][j]) + (acc[2][r][j] + acc[3][r][j]);
    if (db_o)
        *db_o = (float)((bias[0] + bias[1]) + (bias[2] + bias[3]));
}

bool pf_cpu_conv_pool_grad_f32(const pf_conv2d_geom *g, const pf_pool2d_geom *p, float *dw, float *db,
                               const float *dy, const int64_t *indices, const float *x)
{
    int64_t per_channel = g->c_in * g->k_h * g->k_w;
    bool vector = pf_cpu_use_avx512();
    PF_PARALLEL_FOR(g->c_out > 1, o, g->c_out, {
        float *db_o = db ? db + o : NULL;
        if (vector)
            pf_cpu_conv_pool_grad_channel_avx512(g, p, o, dw + o * per_channel, db_o, dy, indices, x);
        else
            channel_grads(g, p, o, dw + o * per_channel, db_o, dy, indices, x);
    });
    return true;
}
