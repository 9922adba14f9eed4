/*
 * cpu_index.c — CPU indexing kernels: index_select and gather (any dtype,
 * they copy bytes) and their accumulating backward, index_add and
 * scatter_add (float and double, loops in cpu_index.inc). Every index is
 * checked before anything is written.
 */
#include <string.h>

#include "backend/cpu/cpu_backend.h"

#define PF_CPU_KERNELS "backend/cpu/cpu_index.inc"
#include "backend/cpu/cpu_instantiate.h"

static bool check_indices(const char *op, const int64_t *index, int64_t count, int64_t size)
{
    for (int64_t j = 0; j < count; j++)
        if (index[j] < 0 || index[j] >= size) {
            pf_fail("%s: index %lld is out of range for a dimension of size %lld", op,
                    (long long)index[j], (long long)size);
            return false;
        }
    return true;
}

bool pf_cpu_index_select(pf_dtype dtype, void *out, const void *in, const int64_t *index, int64_t n_index,
                         pf_dim_split s)
{
    if (!check_indices("pf_index_select", index, n_index, s.n))
        return false;
    size_t row = (size_t)s.inner * pf_dtype_size(dtype);
    PF_PARALLEL_FOR(s.outer * n_index * s.inner > 32768, oj, s.outer * n_index, {
        int64_t o = oj / n_index, j = oj % n_index;
        memcpy((char *)out + (size_t)oj * row, (const char *)in + (size_t)(o * s.n + index[j]) * row, row);
    });
    return true;
}

bool pf_cpu_index_add(pf_dtype dtype, void *dst, const void *src, const int64_t *index, int64_t n_index,
                      pf_dim_split s)
{
    if (!check_indices("pf_index_add", index, n_index, s.n))
        return false;
    if (dtype == PF_F32)
        index_add_f32(dst, src, index, n_index, s);
    else
        index_add_f64(dst, src, index, n_index, s);
    return true;
}

bool pf_cpu_gather(pf_dtype dtype, void *out, const void *in, const int64_t *index, int64_t n_index,
                   pf_dim_split s)
{
    if (!check_indices("pf_gather", index, s.outer * n_index * s.inner, s.n))
        return false;
    size_t es = pf_dtype_size(dtype);
    int64_t total = s.outer * n_index * s.inner;
    PF_PARALLEL_FOR(total > 32768, at, total, {
        int64_t i = at % s.inner, o = at / (n_index * s.inner);
        memcpy((char *)out + (size_t)at * es, (const char *)in + (size_t)((o * s.n + index[at]) * s.inner + i) * es,
               es);
    });
    return true;
}

bool pf_cpu_scatter_add(pf_dtype dtype, void *dst, const void *src, const int64_t *index, int64_t n_index,
                        pf_dim_split s)
{
    if (!check_indices("pf_scatter_add", index, s.outer * n_index * s.inner, s.n))
        return false;
    if (dtype == PF_F32)
        scatter_add_f32(dst, src, index, n_index, s);
    else
        scatter_add_f64(dst, src, index, n_index, s);
    return true;
}
