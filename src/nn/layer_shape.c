/*
 * layer_shape.c — layers that only reshape: Flatten (iarg: [0] start_dim,
 * [1] end_dim) and Unflatten (iarg: [0] dim, [1] number of sizes, [2..]
 * the sizes).
 */
#include <stdio.h>

#include "nn/module.h"

static pf_tensor *flatten_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_flatten(ctx, x, (int)m->iarg[0], (int)m->iarg[1]);
}

static void flatten_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "Flatten(start_dim=%lld, end_dim=%lld)", (long long)m->iarg[0], (long long)m->iarg[1]);
}

static pf_tensor *unflatten_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    int nsizes = (int)m->iarg[1];
    int dim = pf_wrap_dim("Unflatten", (int)m->iarg[0], x->ndim);
    if (dim < 0)
        return NULL;
    if (x->ndim - 1 + nsizes > PF_MAX_DIMS)
        return pf_fail("Unflatten: the result would have more than %d dimensions", PF_MAX_DIMS);
    int64_t shape[PF_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (i != dim) {
            shape[nd++] = x->shape[i];
            continue;
        }
        for (int k = 0; k < nsizes; k++)
            shape[nd++] = m->iarg[2 + k];
    }
    return pf_reshape(ctx, x, nd, shape);
}

static void unflatten_describe(const pf_module *m, char *buf, size_t n)
{
    int len = snprintf(buf, n, "Unflatten(dim=%lld, unflattened_size=(", (long long)m->iarg[0]);
    for (int k = 0; k < m->iarg[1]; k++)
        len += snprintf(buf + (len < (int)n ? len : (int)n), len < (int)n ? n - (size_t)len : 0,
                        k ? ", %lld" : "%lld", (long long)m->iarg[2 + k]);
    snprintf(buf + (len < (int)n ? len : (int)n), len < (int)n ? n - (size_t)len : 0,
             m->iarg[1] == 1 ? ",))" : "))");
}

static const pf_module_ops flatten_ops = {"Flatten", flatten_forward, flatten_describe};
static const pf_module_ops unflatten_ops = {"Unflatten", unflatten_forward, unflatten_describe};

pf_module *pf_nn_flatten(pf_ctx *params, int start_dim, int end_dim)
{
    pf_module *m = pf_module_new(params, &flatten_ops);
    if (m) {
        m->iarg[0] = start_dim;
        m->iarg[1] = end_dim;
    }
    return m;
}

pf_module *pf_nn_unflatten(pf_ctx *params, int dim, int ndim, const int64_t *sizes)
{
    if (ndim < 1 || ndim > PF_MODULE_MAX_IARGS - 2 || !sizes)
        return pf_fail("pf_nn_unflatten: between 1 and %d sizes are needed (got %d)", PF_MODULE_MAX_IARGS - 2, ndim);
    for (int k = 0; k < ndim; k++)
        if (sizes[k] <= 0 && sizes[k] != -1)
            return pf_fail("pf_nn_unflatten: size %lld is not valid", (long long)sizes[k]);
    pf_module *m = pf_module_new(params, &unflatten_ops);
    if (!m)
        return NULL;
    m->iarg[0] = dim;
    m->iarg[1] = ndim;
    for (int k = 0; k < ndim; k++)
        m->iarg[2 + k] = sizes[k];
    return m;
}
