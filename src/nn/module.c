/*
 * module.c — what every module shares: construction, forward with its hook,
 * training mode, the flattened state with state_dict names, parameter
 * counts, printing, and PyTorch's default initialisation.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/module.h"

pf_module *pf_module_new(pf_ctx *ctx, const pf_module_ops *ops)
{
    if (!ctx)
        return pf_fail("%s: NULL context", ops->kind);
    pf_module *m = pf_ctx_alloc_zeroed(ctx, sizeof *m);
    if (!m)
        return NULL;
    m->ops = ops;
    m->ctx = ctx;
    m->training = true;
    return m;
}

bool pf_module_add(pf_module *m, const char *name, pf_tensor *t, bool parameter)
{
    if (!m || !t)
        return false;
    if (m->n_local == PF_MODULE_MAX_LOCAL) {
        pf_fail("%s: too many tensors", m->ops->kind);
        return false;
    }
    if (parameter && !pf_requires_grad(t, true))
        return false;
    m->local_name[m->n_local] = name;
    m->local[m->n_local] = t;
    m->n_local++;
    return true;
}

pf_tensor *pf_module_local(const pf_module *m, const char *name)
{
    for (int i = 0; i < m->n_local; i++)
        if (strcmp(m->local_name[i], name) == 0)
            return m->local[i];
    return NULL;
}

pf_tensor *pf_init_uniform_fan_in(pf_ctx *ctx, int64_t fan_in, int ndim, const int64_t *shape)
{
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0;
    return pf_uniform(ctx, -bound, bound, ndim, shape);
}

pf_tensor *pf_forward(pf_ctx *ctx, pf_module *m, pf_tensor *x)
{
    if (!m)
        return pf_ok() ? pf_fail("pf_forward: NULL module") : NULL;
    if (!ctx)
        return pf_fail("pf_forward: NULL context");
    if (!x)
        return NULL;
    bool timed = pf_profile_enabled() && m->n_children == 0;
    double start = timed ? pf_profile_clock() : 0;
    pf_tensor *y = m->ops->forward(m, ctx, x);
    if (timed)
        pf_profile_add(m->ops->kind, PF_PROFILE_FORWARD, pf_profile_clock() - start);
    if (y && m->hook)
        m->hook(m, x, y, m->hook_user);
    return y;
}

void pf_module_train(pf_module *m, bool training)
{
    if (!m)
        return;
    m->training = training;
    for (int i = 0; i < m->n_children; i++)
        pf_module_train(m->children[i], training);
}

bool pf_module_is_training(const pf_module *m) { return m && m->training; }

const char *pf_module_kind(const pf_module *m) { return m ? m->ops->kind : "(null)"; }
int pf_module_num_children(const pf_module *m) { return m ? m->n_children : 0; }
pf_module *pf_module_child(const pf_module *m, int i)
{
    return m && i >= 0 && i < m->n_children ? m->children[i] : NULL;
}

const char *pf_module_child_name(const pf_module *m, int i)
{
    return m && m->child_names && i >= 0 && i < m->n_children ? m->child_names[i] : NULL;
}

void pf_module_set_forward_hook(pf_module *m, pf_forward_hook hook, void *user)
{
    if (!m)
        return;
    m->hook = hook;
    m->hook_user = user;
}

/* ---- the flattened state ---- */

/* Counts (list == NULL) or lists the tensors under m, prefixing names. */
static int collect(pf_module *root, pf_module *m, const char *prefix, bool params_only, pf_named_tensor *list,
                   int at)
{
    for (int i = 0; i < m->n_local; i++) {
        if (params_only && !m->local[i]->requires_grad)
            continue;
        if (list) {
            size_t len = strlen(prefix) + strlen(m->local_name[i]) + 1;
            char *name = pf_ctx_alloc(root->ctx, len);
            if (!name)
                return -1;
            snprintf(name, len, "%s%s", prefix, m->local_name[i]);
            list[at] = (pf_named_tensor){name, m->local[i]};
        }
        at++;
    }
    for (int c = 0; c < m->n_children; c++) {
        char child_prefix[256];
        if (m->child_names && !m->child_names[c])
            continue; /* a step without state (pf_nn_named_sequential) */
        int len = m->child_names ? snprintf(child_prefix, sizeof child_prefix, "%s%s.", prefix, m->child_names[c])
                                 : snprintf(child_prefix, sizeof child_prefix, "%s%d.", prefix, c);
        if (len < 0 || len >= (int)sizeof child_prefix) {
            pf_fail("%s: modules nested too deeply for their state names", root->ops->kind);
            return -1;
        }
        at = collect(root, m->children[c], child_prefix, params_only, list, at);
        if (at < 0)
            return -1;
    }
    return at;
}

static bool build_state(pf_module *m)
{
    if (m->state)
        return true;
    int n_state = collect(m, m, "", false, NULL, 0), n_params = collect(m, m, "", true, NULL, 0);
    pf_named_tensor *state = pf_ctx_alloc(m->ctx, sizeof *state * (size_t)(n_state + 1));
    pf_named_tensor *params = pf_ctx_alloc(m->ctx, sizeof *params * (size_t)(n_params + 1));
    pf_tensor **array = pf_ctx_alloc(m->ctx, sizeof *array * (size_t)(n_params + 1));
    if (!state || !params || !array || collect(m, m, "", false, state, 0) < 0 ||
        collect(m, m, "", true, params, 0) < 0)
        return false;
    for (int i = 0; i < n_params; i++)
        array[i] = params[i].tensor;
    m->state = state;
    m->params = params;
    m->param_array = array;
    m->n_state = n_state;
    m->n_params = n_params;
    return true;
}

int pf_module_state(pf_module *m, pf_named_tensor **out)
{
    if (!m || !build_state(m))
        return -1;
    *out = m->state;
    return m->n_state;
}

int pf_module_parameters(pf_module *m, pf_named_tensor **out)
{
    if (!m || !build_state(m))
        return -1;
    *out = m->params;
    return m->n_params;
}

pf_tensor **pf_module_parameter_array(pf_module *m, int *n)
{
    if (!m || !build_state(m)) {
        *n = 0;
        return NULL;
    }
    *n = m->n_params;
    return m->param_array;
}

int64_t pf_module_num_parameters(pf_module *m)
{
    pf_named_tensor *p;
    int n = pf_module_parameters(m, &p);
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += pf_numel(p[i].tensor);
    return total;
}

/* ---- printing ---- */

static void print_module(FILE *f, const pf_module *m, int indent)
{
    if (m->n_children == 0) {
        char buf[512];
        m->ops->describe(m, buf, sizeof buf);
        fputs(buf, f);
        return;
    }
    fprintf(f, "%s(\n", m->ops->kind);
    for (int i = 0; i < m->n_children; i++) {
        if (m->child_names && !m->child_names[i])
            continue;
        if (m->child_names)
            fprintf(f, "%*s(%s): ", indent + 2, "", m->child_names[i]);
        else
            fprintf(f, "%*s(%d): ", indent + 2, "", i);
        print_module(f, m->children[i], indent + 2);
        fputc('\n', f);
    }
    fprintf(f, "%*s)", indent, "");
}

void pf_module_fprint(FILE *f, const pf_module *m)
{
    if (!m) {
        fputs("(null)\n", f);
        return;
    }
    print_module(f, m, 0);
    fputc('\n', f);
}
