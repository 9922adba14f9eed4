/*
 * cpu_winograd.h — what the F(4x4, 5x5) Winograd convolution
 * (cpu_conv_winograd.c) shares with its transforms (cpu_winograd.inc,
 * built portable there and for AVX-512 in cpu_conv_winograd_avx512.c): the
 * sizes, the chunk of images a pass works on, and the transforms of one
 * group of WINO_LANES tiles (or input channels).
 */
#ifndef PF_CPU_WINOGRAD_H
#define PF_CPU_WINOGRAD_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"

#define WINO_LANES 16
#define WINO_TILE 4       /* outputs per tile side */
#define WINO_WINDOW 8     /* inputs per tile side: WINO_TILE + WINO_KERNEL - 1 */
#define WINO_KERNEL 5
#define WINO_POSITIONS 64 /* WINO_WINDOW * WINO_WINDOW */

/* The images of one chunk, b0 .. b0+nb-1, and their tiles
 * t = (b*tiles_h + ty)*tiles_w + tx, T = tiles of them, padded = T
 * rounded up to WINO_LANES (the layouts' row length). */
typedef struct wino_chunk {
    const pf_conv2d_geom *g;
    int64_t tiles_h, tiles_w, per_image;
    int64_t b0, nb, tiles, padded;
} wino_chunk;

/* Tile t of the chunk: its image (absolute) and its top-left output. */
static inline void wino_tile_at(const wino_chunk *ch, int64_t t, int64_t *b, int64_t *oh, int64_t *ow)
{
    int64_t in_image = t % ch->per_image;
    *b = ch->b0 + t / ch->per_image;
    *oh = in_image / ch->tiles_w * WINO_TILE;
    *ow = in_image % ch->tiles_w * WINO_TILE;
}

/* Where each lane of a group reads or writes its window of rows x cols
 * (its tile's inputs or outputs, or a kernel): element (i, j) of lane l
 * lies at offset[l] + i*stride + j from the start of the tensor, and exists
 * where l < lanes, 0 <= row[l] + i < height and bit j of columns[l] is set
 * (elsewhere it reads as 0 and is not written). Filled element by element
 * and read the same way (a vector load of fields just stored one by one
 * waits for the stores: 19% of a transform went so). 32-bit offsets:
 * cpu_conv.c takes Winograd only for tensors of fewer than 2^31 elements. */
typedef struct wino_lanes {
    int32_t offset[WINO_LANES], row[WINO_LANES];
    uint32_t columns[WINO_LANES];
    int32_t height, stride, lanes;
} wino_lanes;

/* Whether row i of lane l's window exists, and column j of it. */
static inline bool wino_row_inside(const wino_lanes *ix, int l, int i)
{
    return l < ix->lanes && (uint32_t)(ix->row[l] + i) < (uint32_t)ix->height;
}
static inline bool wino_column_inside(const wino_lanes *ix, int l, int j) { return ix->columns[l] >> j & 1; }

/* The transforms of one lane group, over the layouts V [64, c_in, padded],
 * M and dM [64, c_out, padded], U and dU [64, c_out, c_in]. The two builds
 * give the same bits (multiplications and additions rounded one by one,
 * in the same order). */
typedef struct wino_transforms {
    /* V[., c, group] = B^T d B of channel c's windows */
    void (*input)(const wino_chunk *ch, const float *x, int64_t c, int64_t group, float *v);
    /* y of output channel o's tiles = A^T M A (+ bias[o]; bias may be NULL) */
    void (*output)(const wino_chunk *ch, const float *m, int64_t o, int64_t group, float *y, const float *bias);
    /* dM[., o, group] = A dy A^T */
    void (*output_grad)(const wino_chunk *ch, const float *dy, int64_t o, int64_t group, float *dm);
    /* dx of channel c of the chunk's images: zeroed, then B dV B^T of each tile added into its window */
    void (*input_grad)(const wino_chunk *ch, const float *dv, int64_t c, float *dx);
    /* U[., o, c0 ..] = G w G^T of output o's kernels c0 .. c0+WINO_LANES-1 */
    void (*weight)(const pf_conv2d_geom *g, const float *w, int64_t o, int64_t c0, float *u);
    /* dw[o, c0 ..] = G^T dU G */
    void (*weight_grad)(const pf_conv2d_geom *g, const float *du, int64_t o, int64_t c0, float *dw);
} wino_transforms;

extern const wino_transforms pf_wino_transforms_portable;
/* Only where pf_cpu_use_avx512() (x86 builds). */
extern const wino_transforms pf_wino_transforms_avx512;

#endif
