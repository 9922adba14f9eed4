/*
 * layer_sequential.c — Sequential: runs its children in order. When a
 * child fails, the error says which layer it was:
 *   layer 7 (Linear(in_features=256, ...)): pf_linear: ...
 */
#include <stdio.h>

#include "nn/module.h"

static pf_tensor *sequential_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    for (int i = 0; i < m->n_children && x; i++) {
        pf_tensor *y = pf_forward(ctx, m->children[i], x);
        if (!y) {
            char what[256];
            if (m->children[i]->n_children)
                snprintf(what, sizeof what, "%s", m->children[i]->ops->kind);
            else
                m->children[i]->ops->describe(m->children[i], what, sizeof what);
            pf_error_prefix("layer %d (%s): ", i, what);
        }
        x = y;
    }
    return x;
}

/* Used only for a Sequential without children (the others print their
 * children). Fix (tests): it said "Sequential(0 layers)" where PyTorch's repr
 * is "Sequential()". */
static void sequential_describe(const pf_module *m, char *buf, size_t n)
{
    (void)m;
    snprintf(buf, n, "Sequential()");
}

static const pf_module_ops sequential_ops = {"Sequential", sequential_forward, sequential_describe};

pf_module *pf_nn_sequential(pf_ctx *params, int n, pf_module *const *layers)
{
    if (n < 0 || (n > 0 && !layers))
        return pf_fail("pf_nn_sequential: bad layer list");
    for (int i = 0; i < n; i++)
        if (!layers[i])
            return pf_ok() ? pf_fail("pf_nn_sequential: layer %d is NULL", i) : NULL;
    pf_module *m = pf_module_new(params, &sequential_ops);
    pf_module **children = pf_ctx_alloc(params, sizeof *children * (size_t)(n ? n : 1));
    if (!m || !children)
        return NULL;
    for (int i = 0; i < n; i++)
        children[i] = layers[i];
    m->children = children;
    m->n_children = n;
    return m;
}
