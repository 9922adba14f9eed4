/*
 * cpu_conv_winograd.c — float32 convolution with a 5x5 kernel, stride 1 and
 * no dilation by Winograd's minimal filtering F(4x4, 5x5): forward,
 * gradient with respect to the input, and with respect to the weight and
 * bias. cpu_conv.c chooses it over im2col (pf_cpu_conv_set_algorithm).
 *
 * The output is cut into tiles of 4x4; tile (ty, tx) reads the 8x8 input
 * window at rows 4*ty - padding .., columns 4*tx - padding .. (0 outside
 * the image). With B^T [8,8], G [8,5] and A^T [4,8] the transforms of the
 * interpolation points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity (Lavin and
 * Gray, "Fast Algorithms for Convolutional Neural Networks", 2015; the same
 * B^T as their F(6x6, 3x3)), per tile and channel:
 *   V = B^T d B        the input window d [8,8]
 *   U = G g G^T        the kernel g [5,5] of output o, input c
 *   M_o = sum_c U_oc (.) V_c      (.) elementwise: 64 matrix products
 *   y = A^T M A        the tile's 4x4 outputs
 * and backwards, dM = A dy A^T, dV_c = sum_o U_oc (.) dM_o, dd = B dV B^T
 * (added into dx; neighbouring windows overlap), dU_oc = sum over tiles of
 * dM_o (.) V_c, dg = G^T dU G. The 64 sums over channels are matrix
 * products through pf_cpu_gemm: position p of every tile's 8x8 makes
 * M[p] [c_out, T] = U[p] [c_out, c_in] @ V[p] [c_in, T], with T the tiles
 * of a chunk of images. Per output that is 64 multiplications per input
 * channel where im2col does 400 (16 outputs x 25), at the price of the
 * transforms and of rounding errors about ten times larger (relative 1e-6
 * to 1e-5 of the largest output, against 1e-7). A NaN or an infinity in a
 * window reaches all 16 outputs of its tile, not only those that read it.
 *
 * Transforms run on LANES tiles (or input channels, for the kernels) at a
 * time, each value a vector of LANES floats, in loops the compiler
 * vectorises; the layouts keep those vectors contiguous: V [64, c_in, Tp],
 * M [64, c_out, Tp], U [64, c_out, c_in], with Tp the chunk's tiles rounded
 * up to LANES (the extra lanes hold zeros).
 *
 * Chunks of images depend on the shape only and run in parallel, one
 * thread each (a lone chunk spreads its loops over the threads instead);
 * the weight gradient adds the chunks' partial sums in chunk order. Results
 * do not depend on the thread count.
 */
#include <string.h>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_parallel.h"
#include "backend/cpu/cpu_winograd.h"

#define LANES WINO_LANES
#define POSITIONS WINO_POSITIONS

/* Tiles a chunk should hold at least: 64 keep the 64 products per chunk
 * from being dominated by their fixed costs. */
#define CHUNK_TILES 32

/* ---- the portable transforms: vectors of LANES floats as loops ----------- */

typedef struct wvec {
    float f[LANES];
} wvec;

static inline wvec wvec_zero(void) { return (wvec){{0}}; }

static inline wvec wvec_set1(float x)
{
    wvec v;
    for (int l = 0; l < LANES; l++)
        v.f[l] = x;
    return v;
}

static inline wvec wvec_add(wvec a, wvec b)
{
    for (int l = 0; l < LANES; l++)
        a.f[l] += b.f[l];
    return a;
}

static inline wvec wvec_sub(wvec a, wvec b)
{
    for (int l = 0; l < LANES; l++)
        a.f[l] -= b.f[l];
    return a;
}

static inline wvec wvec_scale(wvec v, float m)
{
    for (int l = 0; l < LANES; l++)
        v.f[l] *= m;
    return v;
}

static inline wvec wvec_add_scaled(wvec acc, float m, wvec v)
{
    for (int l = 0; l < LANES; l++)
        acc.f[l] += m * v.f[l];
    return acc;
}

static inline wvec wvec_load(const float *p, int n)
{
    wvec v = wvec_zero();
    memcpy(v.f, p, sizeof(float) * (size_t)n);
    return v;
}

static inline void wvec_store(float *p, wvec v, int n) { memcpy(p, v.f, sizeof(float) * (size_t)n); }

static inline void wvec_load_windows(const float *base, const wino_lanes *ix, int rows, int cols, wvec *v)
{
    for (int k = 0; k < rows * cols; k++)
        v[k] = wvec_zero();
    for (int l = 0; l < ix->lanes; l++)
        for (int i = 0; i < rows; i++)
            for (int j = 0; wino_row_inside(ix, l, i) && j < cols; j++)
                if (wino_column_inside(ix, l, j))
                    v[i * cols + j].f[l] = base[ix->offset[l] + i * ix->stride + j];
}

static inline void wvec_store_windows(float *base, const wino_lanes *ix, int rows, int cols, const wvec *v, bool add)
{
    for (int l = 0; l < ix->lanes; l++)
        for (int i = 0; i < rows; i++)
            for (int j = 0; wino_row_inside(ix, l, i) && j < cols; j++) {
                if (!wino_column_inside(ix, l, j))
                    continue;
                float *at = base + ix->offset[l] + i * ix->stride + j;
                *at = add ? *at + v[i * cols + j].f[l] : v[i * cols + j].f[l];
            }
}

static inline void wvec_load_strided(const float *base, int64_t step, int lanes, int count, wvec *v)
{
    for (int k = 0; k < count; k++)
        v[k] = wvec_zero();
    for (int l = 0; l < lanes; l++)
        for (int k = 0; k < count; k++)
            v[k].f[l] = base[l * step + k];
}

static inline void wvec_store_strided(float *base, int64_t step, int lanes, int count, const wvec *v, bool add)
{
    for (int l = 0; l < lanes; l++)
        for (int k = 0; k < count; k++) {
            float *at = base + l * step + k;
            *at = add ? *at + v[k].f[l] : v[k].f[l];
        }
}

#define WINO_ATTR
#define WINO_NAME(name) name##_portable
#include "backend/cpu/cpu_winograd.inc"

const wino_transforms pf_wino_transforms_portable = {
    .input = input_portable,
    .output = output_portable,
    .output_grad = output_grad_portable,
    .input_grad = input_grad_portable,
    .weight = weight_portable,
    .weight_grad = weight_grad_portable,
};

static const wino_transforms *transforms(void)
{
    return pf_cpu_use_avx512() ? &pf_wino_transforms_avx512 : &pf_wino_transforms_portable;
}

/* ---- the plan ------------------------------------------------------------ */

typedef struct wino_plan {
    int64_t tiles_h, tiles_w, per_image; /* tiles of one image */
    int64_t nchunks, per;                /* chunks of `per` images (the last may be smaller) */
} wino_plan;

/* As few images per chunk as give CHUNK_TILES tiles, within the
 * convolution scratch limit, as even as possible; by shape only. */
static wino_plan plan_for(const pf_conv2d_geom *g)
{
    wino_plan p = {.tiles_h = (g->h_out + WINO_TILE - 1) / WINO_TILE, .tiles_w = (g->w_out + WINO_TILE - 1) / WINO_TILE};
    p.per_image = p.tiles_h * p.tiles_w > 0 ? p.tiles_h * p.tiles_w : 1;
    pf_cpu_conv_chunks(g->n, (CHUNK_TILES + p.per_image - 1) / p.per_image,
                       POSITIONS * (g->c_in + g->c_out) * p.per_image, &p.nchunks, &p.per);
    return p;
}

static wino_chunk chunk_of(const pf_conv2d_geom *g, const wino_plan *p, int64_t c)
{
    int64_t b0 = c * p->per, nb = g->n - b0 < p->per ? g->n - b0 : p->per, tiles = nb * p->per_image;
    return (wino_chunk){g, p->tiles_h, p->tiles_w, p->per_image, b0, nb, tiles, (tiles + LANES - 1) / LANES * LANES};
}

/* ---- whole passes ------------------------------------------------------- */

/* Work (in multiplications) above which a loop is worth the threads. */
#define PARALLEL_WORK 32768

static int64_t channel_groups(const pf_conv2d_geom *g) { return (g->c_in + LANES - 1) / LANES; }

/* U for the whole weight, in the calling thread's scratch slot 3. */
static float *transformed_weight(const pf_conv2d_geom *g, const float *w)
{
    float *u = pf_cpu_scratch(3, sizeof(float) * (size_t)(POSITIONS * g->c_out * g->c_in));
    if (!u)
        return NULL;
    int64_t groups = channel_groups(g);
    const wino_transforms *t = transforms();
    PF_PARALLEL_FOR(g->c_out * g->c_in * 1024 > PARALLEL_WORK, og, g->c_out * groups,
                    { t->weight(g, w, og / groups, og % groups * LANES, u); });
    return u;
}

static void input_transform_chunk(const wino_chunk *ch, const float *x, float *v)
{
    int64_t groups = ch->padded / LANES, c_in = ch->g->c_in;
    const wino_transforms *t = transforms();
    PF_PARALLEL_FOR(c_in * ch->padded * 1024 > PARALLEL_WORK, gc, c_in * groups,
                    { t->input(ch, x, gc % c_in, gc / c_in, v); });
}

static void output_grad_transform_chunk(const wino_chunk *ch, const float *dy, float *dm)
{
    int64_t groups = ch->padded / LANES, c_out = ch->g->c_out;
    const wino_transforms *t = transforms();
    PF_PARALLEL_FOR(c_out * ch->padded * 384 > PARALLEL_WORK, go, c_out * groups,
                    { t->output_grad(ch, dy, go % c_out, go / c_out, dm); });
}

/* The 64 products of a chunk, one per position p:
 * c[p] = op(a[p]) @ op(b[p]) with a, b, c at strides a_step, b_step, c_step. */
static bool products(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                     int64_t a_step, const float *b, int64_t ldb, int64_t b_step, float *c, int64_t ldc,
                     int64_t c_step)
{
    bool done[POSITIONS];
    PF_PARALLEL_FOR(m * n * k * POSITIONS > 4 * PARALLEL_WORK, p, POSITIONS, {
        pf_gemm_args args = {
            .dtype = PF_F32, .trans_a = trans_a, .trans_b = trans_b, .m = m, .n = n, .k = k,
            .a = a + p * a_step, .lda = lda, .b = b + p * b_step, .ldb = ldb,
            .c = c + p * c_step, .ldc = ldc, .alpha = 1, .beta = 0, .batch = 1,
        };
        done[p] = pf_cpu_gemm(&args);
    });
    for (int p = 0; p < POSITIONS; p++)
        if (!done[p])
            return false;
    return true;
}

/* ---- forward -------------------------------------------------------------- */

static bool forward_chunk(const wino_chunk *ch, float *y, const float *x, const float *u, const float *bias)
{
    const pf_conv2d_geom *g = ch->g;
    float *v = pf_cpu_scratch(0, sizeof(float) * (size_t)(POSITIONS * g->c_in * ch->padded));
    float *m = pf_cpu_scratch(1, sizeof(float) * (size_t)(POSITIONS * g->c_out * ch->padded));
    if (!v || !m)
        return false;
    input_transform_chunk(ch, x, v);
    if (!products(false, false, g->c_out, ch->padded, g->c_in, u, g->c_in, g->c_out * g->c_in, v, ch->padded,
                  g->c_in * ch->padded, m, ch->padded, g->c_out * ch->padded))
        return false;
    int64_t groups = ch->padded / LANES;
    const wino_transforms *t = transforms();
    PF_PARALLEL_FOR(g->c_out * ch->padded * 384 > PARALLEL_WORK, go, g->c_out * groups,
                    { t->output(ch, m, go % g->c_out, go / g->c_out, y, bias); });
    return true;
}

bool pf_cpu_conv2d_winograd_f32(const pf_conv2d_geom *g, float *y, const float *x, const float *w, const float *bias)
{
    wino_plan plan = plan_for(g);
    const float *u = transformed_weight(g, w);
    if (!u)
        return false;
    if (plan.nchunks == 1) {
        wino_chunk ch = chunk_of(g, &plan, 0);
        return forward_chunk(&ch, y, x, u, bias);
    }
    bool ok = true;
#pragma omp parallel for schedule(static) reduction(&& : ok)
    for (int64_t c = 0; c < plan.nchunks; c++) {
        wino_chunk ch = chunk_of(g, &plan, c);
        ok = forward_chunk(&ch, y, x, u, bias) && ok;
    }
    return ok;
}

/* ---- gradients ------------------------------------------------------------ */

/* The chunk's gradients from its dM: its partial dU [64, c_out, c_in] into
 * du (when not NULL; V lowered again), then its share of dx (when not
 * NULL). dM is computed once for both. */
static bool backward_chunk(const wino_chunk *ch, float *dx, float *du, const float *dy, const float *x,
                           const float *u)
{
    const pf_conv2d_geom *g = ch->g;
    float *v = pf_cpu_scratch(0, sizeof(float) * (size_t)(POSITIONS * g->c_in * ch->padded));
    float *dm = pf_cpu_scratch(1, sizeof(float) * (size_t)(POSITIONS * g->c_out * ch->padded));
    if (!v || !dm)
        return false;
    output_grad_transform_chunk(ch, dy, dm);
    if (du) {
        input_transform_chunk(ch, x, v);
        if (!products(false, true, g->c_out, g->c_in, ch->padded, dm, ch->padded, g->c_out * ch->padded, v,
                      ch->padded, g->c_in * ch->padded, du, g->c_in, g->c_out * g->c_in))
            return false;
    }
    if (!dx)
        return true;
    float *dv = v; /* V is no longer needed */
    if (!products(true, false, g->c_in, ch->padded, g->c_out, u, g->c_in, g->c_out * g->c_in, dm, ch->padded,
                  g->c_out * ch->padded, dv, ch->padded, g->c_in * ch->padded))
        return false;
    const wino_transforms *t = transforms();
    PF_PARALLEL_FOR(g->c_in * ch->padded * 1024 > PARALLEL_WORK, c, g->c_in, { t->input_grad(ch, dv, c, dx); });
    return true;
}

/* The bias gradient: each channel's sum of dy, in double, in order (a
 * channel per thread). */
static void bias_grad(const pf_conv2d_geom *g, float *db, const float *dy)
{
    int64_t hw = g->h_out * g->w_out;
    PF_PARALLEL_FOR(g->n * g->c_out * hw > PARALLEL_WORK, o, g->c_out, {
        double sum = 0;
        for (int64_t b = 0; b < g->n; b++)
            for (int64_t p = 0; p < hw; p++)
                sum += dy[(b * g->c_out + o) * hw + p];
        db[o] = (float)sum;
    });
}

bool pf_cpu_conv2d_winograd_backward_f32(const pf_conv2d_geom *g, float *dx, float *dw, float *db, const float *dy,
                                         const float *x, const float *w)
{
    int64_t usize = POSITIONS * g->c_out * g->c_in;
    if (db)
        bias_grad(g, db, dy);
    wino_plan plan = plan_for(g);
    const float *u = dx ? transformed_weight(g, w) : NULL;
    /* One partial dU per chunk (the calling thread's scratch slot 2). */
    int64_t nchunks = plan.nchunks > 0 ? plan.nchunks : 1;
    float *partial = dw ? pf_cpu_scratch(2, sizeof(float) * (size_t)(nchunks * usize)) : NULL;
    if ((dx && !u) || (dw && !partial))
        return false;
    if (plan.nchunks == 0) {
        if (partial)
            memset(partial, 0, sizeof(float) * (size_t)usize);
    } else if (plan.nchunks == 1) {
        wino_chunk ch = chunk_of(g, &plan, 0);
        if (!backward_chunk(&ch, dx, partial, dy, x, u))
            return false;
    } else {
        bool ok = true;
#pragma omp parallel for schedule(static) reduction(&& : ok)
        for (int64_t c = 0; c < plan.nchunks; c++) {
            wino_chunk ch = chunk_of(g, &plan, c);
            ok = backward_chunk(&ch, dx, partial ? partial + c * usize : NULL, dy, x, u) && ok;
        }
        if (!ok)
            return false;
        if (partial)
            PF_PARALLEL_FOR(usize > PARALLEL_WORK, i, usize, {
                float sum = partial[i];
                for (int64_t c = 1; c < plan.nchunks; c++)
                    sum += partial[c * usize + i];
                partial[i] = sum;
            });
    }
    if (!dw)
        return true;
    int64_t groups = channel_groups(g);
    const wino_transforms *t = transforms();
    PF_PARALLEL_FOR(g->c_out * g->c_in * 1024 > PARALLEL_WORK, og, g->c_out * groups,
                    { t->weight_grad(g, partial, og / groups, og % groups * LANES, dw); });
    return true;
}

bool pf_cpu_conv2d_winograd_backward_input_f32(const pf_conv2d_geom *g, float *dx, const float *dy, const float *w)
{
    return pf_cpu_conv2d_winograd_backward_f32(g, dx, NULL, NULL, dy, NULL, w);
}

bool pf_cpu_conv2d_winograd_backward_weight_f32(const pf_conv2d_geom *g, float *dw, float *db, const float *dy,
                                                const float *x)
{
    return pf_cpu_conv2d_winograd_backward_f32(g, NULL, dw, db, dy, x, NULL);
}
