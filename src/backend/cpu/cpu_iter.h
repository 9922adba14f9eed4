/*
 * cpu_iter.h — walking up to three strided operands of one shape together.
 *
 * cpu_iter_init merges dimensions that are laid out one after the other in
 * every operand (so a contiguous tensor becomes one long row) and then the
 * kernels loop over "rows": the last dimension is the inner loop, with its
 * own stride per operand; the others are walked by cpu_iter_row_offsets.
 */
#ifndef PF_CPU_ITER_H
#define PF_CPU_ITER_H

#include "backend/backend.h"
#include "backend/cpu/cpu_parallel.h"

#define CPU_ITER_MAX_OPS 4

typedef struct cpu_iter {
    int nops;
    int ndim;                                  /* at least 1 */
    int64_t shape[PF_MAX_DIMS];
    int64_t stride[CPU_ITER_MAX_OPS][PF_MAX_DIMS];
    int64_t rows;                              /* product of all but the last size */
    int64_t row_len;                           /* last size */
} cpu_iter;

/* views[i] all have the shape of views[0]. */
static inline void cpu_iter_init(cpu_iter *it, int nops, const pf_kview *const *views)
{
    const pf_kview *v0 = views[0];
    it->nops = nops;
    int nd = 0;
    bool empty = false;
    for (int d = 0; d < v0->ndim; d++) {
        if (v0->shape[d] == 0)
            empty = true;
        if (v0->shape[d] == 1)
            continue; /* size-1 dimensions do not move */
        bool merge = nd > 0;
        for (int k = 0; k < nops && merge; k++)
            merge = it->stride[k][nd - 1] == views[k]->stride[d] * v0->shape[d];
        if (merge) {
            it->shape[nd - 1] *= v0->shape[d];
            for (int k = 0; k < nops; k++)
                it->stride[k][nd - 1] = views[k]->stride[d];
        } else {
            it->shape[nd] = v0->shape[d];
            for (int k = 0; k < nops; k++)
                it->stride[k][nd] = views[k]->stride[d];
            nd++;
        }
    }
    if (nd == 0 || empty) {
        nd = 1;
        it->shape[0] = empty ? 0 : 1;
        for (int k = 0; k < nops; k++)
            it->stride[k][0] = 0;
    }
    it->ndim = nd;
    it->row_len = it->shape[nd - 1];
    it->rows = 1;
    for (int d = 0; d < nd - 1; d++)
        it->rows *= it->shape[d];
    if (it->row_len == 0)
        it->rows = 0;
}

/* Element offsets of each operand at the start of row r. */
static inline void cpu_iter_row_offsets(const cpu_iter *it, int64_t r, int64_t *off)
{
    for (int k = 0; k < it->nops; k++)
        off[k] = 0;
    for (int d = it->ndim - 2; d >= 0; d--) {
        int64_t i = r % it->shape[d];
        r /= it->shape[d];
        for (int k = 0; k < it->nops; k++)
            off[k] += i * it->stride[k][d];
    }
}

/* A stretch of consecutive elements along the last dimension: element i of
 * operand k is at base[k] + (off[k] + i * step[k]) elements. */
typedef void (*cpu_segment_fn)(void *arg, const int64_t *off, const int64_t *step, int64_t len);

#define CPU_ITER_CHUNK 16384

/* Calls fn on every segment, in chunks of about CPU_ITER_CHUNK elements
 * spread over the OpenMP threads. The split depends only on the shape, so
 * results do not depend on the number of threads. */
static inline void cpu_iter_run(const cpu_iter *it, cpu_segment_fn fn, void *arg)
{
    int64_t total = it->rows * it->row_len;
    int64_t nchunks = (total + CPU_ITER_CHUNK - 1) / CPU_ITER_CHUNK;
    int64_t step[CPU_ITER_MAX_OPS];
    for (int k = 0; k < it->nops; k++)
        step[k] = it->stride[k][it->ndim - 1];
    PF_PARALLEL_FOR(nchunks > 1, c, nchunks, {
        int64_t begin = c * CPU_ITER_CHUNK;
        int64_t end = begin + CPU_ITER_CHUNK < total ? begin + CPU_ITER_CHUNK : total;
        while (begin < end) {
            int64_t row = begin / it->row_len, col = begin % it->row_len;
            int64_t len = it->row_len - col < end - begin ? it->row_len - col : end - begin;
            int64_t off[CPU_ITER_MAX_OPS];
            cpu_iter_row_offsets(it, row, off);
            for (int k = 0; k < it->nops; k++)
                off[k] += col * step[k];
            fn(arg, off, step, len);
            begin += len;
        }
    });
}

#endif
