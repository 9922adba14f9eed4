/*
 * tape.c — recording ops on the tape, and the grad-mode switch.
 */
#include <stdatomic.h>

#include "autograd/autograd.h"
#include "tensor/tensor_internal.h"

static _Thread_local bool grad_disabled;
static atomic_uint_fast64_t node_counter;

bool pf_set_grad_enabled(bool on)
{
    bool was = !grad_disabled;
    grad_disabled = !on;
    return was;
}

bool pf_is_grad_enabled(void) { return !grad_disabled; }

pf_tensor *pf_requires_grad(pf_tensor *t, bool on)
{
    if (!t)
        return NULL;
    if (on && !pf_is_float(t->dtype))
        return pf_fail("pf_requires_grad: only float tensors can require gradients (got %s)",
                       pf_dtype_name(t->dtype));
    if (t->node && !on)
        return pf_fail("pf_requires_grad: the tensor was made by %s; use pf_detach to cut it from the tape",
                       t->node->op);
    t->requires_grad = on;
    return t;
}

bool pf_tape_wants(int n_in, pf_tensor *const *in)
{
    if (grad_disabled)
        return false;
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->requires_grad)
            return true;
    return false;
}

bool pf_record(pf_ctx *ctx, pf_tensor *out, const char *op, pf_backward_fn backward, int n_in,
               pf_tensor *const *in)
{
    if (!pf_tape_wants(n_in, in))
        return true;
    pf_node *node = pf_ctx_alloc_zeroed(ctx, sizeof *node);
    pf_tensor **inputs = pf_ctx_alloc(ctx, sizeof(pf_tensor *) * (size_t)(n_in > 0 ? n_in : 1));
    if (!node || !inputs)
        return false;
    for (int i = 0; i < n_in; i++)
        inputs[i] = in[i];
    node->op = op;
    node->backward = backward;
    node->seq = atomic_fetch_add(&node_counter, 1) + 1;
    node->n_in = n_in;
    node->in = inputs;
    node->out = out;
    out->node = node;
    out->requires_grad = true;
    return true;
}
