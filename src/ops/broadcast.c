/*
 * broadcast.c — NumPy broadcasting: the common shape of two operands and
 * kernel views that stretch an operand to it with stride 0; also the
 * [outer, n, inner] split used by "along one dimension" kernels.
 */
#include <stdio.h>

#include "ops/ops_internal.h"

bool pf_broadcast_shapes(const char *op, const pf_tensor *a, const pf_tensor *b, int *ndim, int64_t *shape)
{
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < n; i++) {
        int ia = a->ndim - n + i, ib = b->ndim - n + i;
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            char x[128], y[128];
            pf_fail("%s: shapes %s and %s cannot be broadcast (dimension %d: %lld vs %lld)", op,
                    pf_shape_str(a, x, sizeof x), pf_shape_str(b, y, sizeof y), i, (long long)sa,
                    (long long)sb);
            return false;
        }
        shape[i] = sa == 1 ? sb : sa;
    }
    *ndim = n;
    return true;
}

pf_kview pf_kview_broadcast(const pf_tensor *t, int ndim, const int64_t *shape)
{
    pf_kview v = pf_kview_of(t);
    pf_kview b = v;
    b.ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        int it = t->ndim - ndim + i;
        b.shape[i] = shape[i];
        b.stride[i] = (it >= 0 && v.shape[it] == shape[i]) ? v.stride[it] : 0;
    }
    return b;
}

pf_dim_split pf_split_at(const pf_tensor *t, int dim)
{
    pf_dim_split s = {1, t->ndim ? t->shape[dim] : 1, 1};
    for (int i = 0; i < dim; i++)
        s.outer *= t->shape[i];
    for (int i = dim + 1; i < t->ndim; i++)
        s.inner *= t->shape[i];
    return s;
}
