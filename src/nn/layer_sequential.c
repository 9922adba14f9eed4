/*
 * layer_sequential.c — Sequential: runs its children in order. When a
 * child fails, the error says which layer it was:
 *   layer 7 (Linear(in_features=256, ...)): pf_linear: ...
 * ReLU followed by MaxPool2d runs as pooling then ReLU (same results, less
 * work; see relu_then_max_pool), and Conv2d followed by the pooling as one
 * op that never stores the convolution's output (pooled_conv).
 *
 * pf_nn_named_sequential is the same with named children and a kind of
 * its own: torchvision's AlexNet is "AlexNet" with children "features",
 * "avgpool" and "classifier", whose tensors are "features.0.weight" ...
 */
#include <stdio.h>
#include <string.h>

#include "nn/module.h"

/* Prefixes the recorded error with the failing layer. */
static void name_failing_layer(const pf_module *m, int i)
{
    char what[256];
    if (m->children[i]->n_children)
        snprintf(what, sizeof what, "%s", m->children[i]->ops->kind);
    else
        m->children[i]->ops->describe(m->children[i], what, sizeof what);
    if (m->child_names && m->child_names[i])
        pf_error_prefix("%s (%s): ", m->child_names[i], what);
    else
        pf_error_prefix("layer %d (%s): ", i, what);
}

/* ReLU then max pooling equals max pooling then ReLU, values and gradients
 * (both maps are monotone, so they commute), and the second order does the
 * ReLU on kernel^2 times fewer elements. Taken when neither layer has a
 * forward hook, since a hook on the ReLU expects the full-size tensor. */
static bool relu_then_max_pool(const pf_module *m, int i)
{
    if (i + 1 >= m->n_children)
        return false;
    const pf_module *a = m->children[i], *b = m->children[i + 1];
    return strcmp(a->ops->kind, "ReLU") == 0 && strcmp(b->ops->kind, "MaxPool2d") == 0 && !a->hook && !b->hook;
}

static bool is_kind(const pf_module *m, int i, const char *kind)
{
    return i < m->n_children && strcmp(m->children[i]->ops->kind, kind) == 0 && !m->children[i]->hook;
}

/* Conv2d followed by MaxPool2d, or by ReLU then MaxPool2d (which run as
 * pooling then ReLU): the layers after the convolution that
 * pf_conv2d_max_pool2d takes with it (the pooling: 1, or 2 with the ReLU
 * between), 0 when none. Taken without forward hooks, which expect the
 * convolution's output. */
static int pooled_conv(const pf_module *m, int i)
{
    if (!is_kind(m, i, "Conv2d"))
        return 0;
    if (is_kind(m, i + 1, "MaxPool2d"))
        return 1;
    return is_kind(m, i + 1, "ReLU") && is_kind(m, i + 2, "MaxPool2d") ? 2 : 0;
}

/* The convolution at i and the pooling at i + pool as one op (timed as
 * "Conv2d+MaxPool2d" by the profiler). */
static pf_tensor *conv_then_pool(pf_module *m, pf_ctx *ctx, int i, int pool, pf_tensor *x)
{
    pf_module *conv = m->children[i], *pooling = m->children[i + pool];
    double start = pf_profile_enabled() ? pf_profile_clock() : 0;
    pf_tensor *y = pf_conv2d_max_pool2d(ctx, x, pf_module_local(conv, "weight"), pf_module_local(conv, "bias"),
                                        (int)conv->iarg[3], (int)conv->iarg[4], (int)conv->iarg[5],
                                        (int)pooling->iarg[0], (int)pooling->iarg[1], (int)pooling->iarg[2]);
    if (pf_profile_enabled())
        pf_profile_add("Conv2d+MaxPool2d", PF_PROFILE_FORWARD, pf_profile_clock() - start);
    /* the pooling's own error (on the long way, which the fused op takes
     * for what it does not handle) names the pooling layer */
    if (!y)
        name_failing_layer(m, strncmp(pf_error(), "pf_max_pool2d", 13) == 0 ? i + pool : i);
    return y;
}

static pf_tensor *sequential_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    for (int i = 0; i < m->n_children && x; i++) {
        int pool = pooled_conv(m, i);
        if (pool) {
            x = conv_then_pool(m, ctx, i, pool, x);
            if (x && pool == 2 && !(x = pf_forward(ctx, m->children[i + 1], x)))
                name_failing_layer(m, i + 1);
            i += pool;
            continue;
        }
        if (relu_then_max_pool(m, i)) {
            pf_tensor *pooled = pf_forward(ctx, m->children[i + 1], x);
            if (!pooled) {
                name_failing_layer(m, i + 1);
                return NULL;
            }
            x = pf_forward(ctx, m->children[i], pooled);
            if (!x)
                name_failing_layer(m, i);
            i++;
            continue;
        }
        pf_tensor *y = pf_forward(ctx, m->children[i], x);
        if (!y)
            name_failing_layer(m, i);
        x = y;
    }
    return x;
}

/* Used only for a Sequential without children (the others print their
 * children). Fix (tests): it said "Sequential(0 layers)" where PyTorch's repr
 * is "Sequential()". */
static void sequential_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "%s()", m->ops->kind);
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

/* A name PyTorch accepts for a submodule: not empty, no '.'. */
static bool valid_child_name(const char *name)
{
    return name[0] && !strchr(name, '.') && strlen(name) < 64;
}

pf_module *pf_nn_named_sequential(pf_ctx *params, const char *kind, int n, const char *const *names,
                                  pf_module *const *layers)
{
    if (n < 0 || (n > 0 && (!layers || !names)))
        return pf_fail("pf_nn_named_sequential: bad layer list");
    if (kind && (!kind[0] || strlen(kind) >= 64))
        return pf_fail("pf_nn_named_sequential: the kind must have 1 to 63 characters");
    for (int i = 0; i < n; i++) {
        if (!layers[i])
            return pf_ok() ? pf_fail("pf_nn_named_sequential: layer %d is NULL", i) : NULL;
        if (names[i] && !valid_child_name(names[i]))
            return pf_fail("pf_nn_named_sequential: layer %d: the name '%.64s' is empty, too long or has a '.'", i,
                           names[i]);
        for (int j = 0; names[i] && j < i; j++)
            if (names[j] && strcmp(names[i], names[j]) == 0)
                return pf_fail("pf_nn_named_sequential: two layers are named '%s'", names[i]);
        pf_named_tensor *state;
        if (!names[i] && pf_module_state(layers[i], &state) != 0)
            return pf_ok() ? pf_fail("pf_nn_named_sequential: layer %d (%s) has tensors, so it needs a name", i,
                                     layers[i]->ops->kind)
                           : NULL;
    }
    pf_module *m = pf_nn_sequential(params, n, layers);
    const char **copy = pf_ctx_alloc(params, sizeof *copy * (size_t)(n ? n : 1));
    if (!m || !copy)
        return NULL;
    for (int i = 0; i < n; i++) {
        copy[i] = NULL;
        if (!names[i])
            continue;
        char *name = pf_ctx_alloc(params, strlen(names[i]) + 1);
        if (!name)
            return NULL;
        copy[i] = strcpy(name, names[i]);
    }
    m->child_names = copy;
    if (kind && strcmp(kind, "Sequential") != 0) {
        /* Its own ops: the same forward under another kind name. */
        pf_module_ops *ops = pf_ctx_alloc(params, sizeof *ops);
        char *kind_copy = pf_ctx_alloc(params, strlen(kind) + 1);
        if (!ops || !kind_copy)
            return NULL;
        *ops = sequential_ops;
        ops->kind = strcpy(kind_copy, kind);
        m->ops = ops;
    }
    return m;
}
