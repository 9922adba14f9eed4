/*
 * module.h — the module struct, as the layer files see it.
 *
 * A module has a kind (its ops table: forward and how it describes itself),
 * its own named tensors (parameters, which require grad, and buffers, which
 * do not), its children (for Sequential), and a few configuration numbers
 * whose meaning each layer file documents. Names are PyTorch's state_dict
 * names: a child's tensors are prefixed by its index.
 */
#ifndef PF_NN_MODULE_H
#define PF_NN_MODULE_H

#include "tensor/tensor_internal.h"

#define PF_MODULE_MAX_LOCAL 8
#define PF_MODULE_MAX_IARGS 8
#define PF_MODULE_MAX_FARGS 4

typedef struct pf_module_ops {
    const char *kind;
    pf_tensor *(*forward)(pf_module *m, pf_ctx *ctx, pf_tensor *x);
    /* PyTorch's repr, e.g. "Linear(in_features=256, out_features=200, bias=True)". */
    void (*describe)(const pf_module *m, char *buf, size_t n);
} pf_module_ops;

struct pf_module {
    const pf_module_ops *ops;
    pf_ctx *ctx;                 /* owns the parameters and buffers */
    bool training;

    int n_local;
    const char *local_name[PF_MODULE_MAX_LOCAL];
    pf_tensor *local[PF_MODULE_MAX_LOCAL];

    int n_children;
    pf_module **children;
    /* NULL: children are named by index ("0", "1" ...). Otherwise each
     * child's name ("features"), or NULL for a parameterless step that is
     * no submodule (torchvision's torch.flatten): it has no state names and
     * is left out of the repr. See pf_nn_named_sequential. */
    const char **child_names;

    int64_t iarg[PF_MODULE_MAX_IARGS];
    double farg[PF_MODULE_MAX_FARGS];

    /* Flattened state, built on first request (modules do not change
     * after construction). */
    int n_state, n_params;
    pf_named_tensor *state, *params;
    pf_tensor **param_array;

    pf_forward_hook hook;
    void *hook_user;
};

/* A new module of the given kind in ctx, in training mode. */
pf_module *pf_module_new(pf_ctx *ctx, const pf_module_ops *ops);
/* Adds a named tensor: a parameter (made to require grad) or a buffer. */
bool pf_module_add(pf_module *m, const char *name, pf_tensor *t, bool parameter);
/* The module's own tensor of that name (NULL if absent). */
pf_tensor *pf_module_local(const pf_module *m, const char *name);

/* The models of torchvision by name ("alexnet", "vgg16", "alexnet/32" with
 * every width divided by 32), for pf_model_from_spec (zoo.c). Returns NULL
 * without an error when the spec is no such name. */
pf_module *pf_model_zoo_lookup(pf_ctx *params, const char *spec, bool *matched);

/* PyTorch's default initialisation: uniform in +-1/sqrt(fan_in) (what
 * Kaiming-uniform with a = sqrt(5) reduces to, and the bias rule). */
pf_tensor *pf_init_uniform_fan_in(pf_ctx *ctx, int64_t fan_in, int ndim, const int64_t *shape);

#endif
