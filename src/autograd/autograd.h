/*
 * autograd.h — the tape, as the ops see it.
 *
 * An op that produced `out` from inputs calls pf_record; if gradients are
 * wanted (grad mode on and some input requires grad) a node is made in the
 * op's context and attached to out. The node keeps the inputs, anything the
 * backward needs (saved tensors, integer and real arguments) and the
 * backward function, which sits next to the forward in the op's file.
 *
 * A backward function receives the gradient of the op's output and stores in
 * grad_in[i] the gradient for input i, with input i's exact shape (it may
 * leave NULL for inputs that do not require grad). It runs with grad mode
 * off, so it may use any op.
 */
#ifndef PF_AUTOGRAD_H
#define PF_AUTOGRAD_H

#include "profond.h"

#define PF_NODE_MAX_SAVED 4
#define PF_NODE_MAX_IARGS (2 * PF_MAX_DIMS + 4)
#define PF_NODE_MAX_FARGS 4

struct pf_node;
typedef bool (*pf_backward_fn)(pf_ctx *ctx, struct pf_node *node, pf_tensor *grad_out, pf_tensor **grad_in);

typedef struct pf_node {
    const char *op;             /* name of the op, e.g. "pf_mul" */
    pf_backward_fn backward;
    uint64_t seq;               /* creation order: later nodes depend on earlier ones */
    uint64_t visit;             /* pass id of the backward pass that last visited it */
    int n_in;
    pf_tensor **in;
    pf_tensor *out;
    pf_tensor *saved[PF_NODE_MAX_SAVED];
    int64_t iarg[PF_NODE_MAX_IARGS];
    double farg[PF_NODE_MAX_FARGS];
} pf_node;

/* True when an op on these inputs must be recorded. */
bool pf_tape_wants(int n_in, pf_tensor *const *in);
/* Records the op that made out. Returns false only on failure (out of
 * memory); returns true without recording when no gradient is wanted. */
bool pf_record(pf_ctx *ctx, pf_tensor *out, const char *op, pf_backward_fn backward, int n_in,
               pf_tensor *const *in);

#endif
