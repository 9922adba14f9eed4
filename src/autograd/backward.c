/*
 * backward.c — running the tape backwards: pf_backward, pf_backward_with
 * and pf_grad.
 *
 * A pass collects every node reachable from the output, sorts them so that
 * each node comes before the nodes that made its inputs (decreasing creation
 * order), and calls their backward functions in that order. Each tensor
 * reached gets its gradient for this pass in ->pass_grad (stamped with the
 * pass id, so that stale pointers from earlier passes are ignored); gradients
 * arriving twice are added. At the end, pf_backward adds the leaves' pass
 * gradients into their ->grad; pf_grad hands back the ones asked for.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/autograd.h"
#include "backend/backend.h"
#include "tensor/tensor_internal.h"

static atomic_uint_fast64_t pass_counter;

/* A growable array of pointers in a context. */
typedef struct ptr_list {
    void **items;
    size_t count, capacity;
} ptr_list;

static bool list_push(pf_ctx *ctx, ptr_list *l, void *p)
{
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? l->capacity * 2 : 64;
        void **items = pf_ctx_alloc(ctx, cap * sizeof(void *));
        if (!items)
            return false;
        if (l->count)
            memcpy(items, l->items, l->count * sizeof(void *));
        l->items = items;
        l->capacity = cap;
    }
    l->items[l->count++] = p;
    return true;
}

static int later_first(const void *a, const void *b)
{
    const pf_node *x = *(pf_node *const *)a, *y = *(pf_node *const *)b;
    return x->seq < y->seq ? 1 : (x->seq > y->seq ? -1 : 0);
}

/* Adds g into t's gradient of this pass. */
static bool accumulate(pf_ctx *ctx, pf_tensor *t, pf_tensor *g, uint64_t pass, ptr_list *leaves)
{
    if (!pf_same_shape(t, g)) {
        char a[64], b[64];
        pf_fail("pf_backward: gradient of shape %s for a tensor of shape %s (internal error in %s)",
                pf_shape_str(g, b, sizeof b), pf_shape_str(t, a, sizeof a),
                t->node ? t->node->op : "a leaf");
        return false;
    }
    if (t->pass_id != pass) {
        t->pass_id = pass;
        t->pass_grad = g;
        if (!t->node && !list_push(ctx, leaves, t))
            return false;
        return true;
    }
    t->pass_grad = pf_add(ctx, t->pass_grad, g);
    return t->pass_grad != NULL;
}

/* One backward pass from output, seeded with seed. Returns the pass id (0 on
 * failure) and the leaves reached. */
static uint64_t run_pass(pf_ctx *ctx, pf_tensor *output, pf_tensor *seed, ptr_list *leaves)
{
    uint64_t pass = atomic_fetch_add(&pass_counter, 1) + 1;
    output->pass_id = pass;
    output->pass_grad = seed;
    if (!output->node) {
        if (!list_push(ctx, leaves, output))
            return 0;
        return pass;
    }

    ptr_list stack = {0}, order = {0};
    if (!list_push(ctx, &stack, output->node))
        return 0;
    while (stack.count) {
        pf_node *n = stack.items[--stack.count];
        if (n->visit == pass)
            continue;
        n->visit = pass;
        if (!list_push(ctx, &order, n))
            return 0;
        for (int i = 0; i < n->n_in; i++) {
            pf_tensor *in = n->in[i];
            if (in && in->node && in->node->visit != pass && !list_push(ctx, &stack, in->node))
                return 0;
        }
    }
    qsort(order.items, order.count, sizeof(void *), later_first);

    for (size_t k = 0; k < order.count; k++) {
        pf_node *n = order.items[k];
        if (n->out->pass_id != pass)
            continue; /* nothing flowed into it */
        pf_tensor **grad_in = pf_ctx_alloc_zeroed(ctx, sizeof(pf_tensor *) * (size_t)n->n_in);
        if (!grad_in)
            return 0;
        double start = pf_profile_enabled() ? pf_profile_clock() : 0;
        if (!n->backward(ctx, n, n->out->pass_grad, grad_in)) {
            pf_fail("pf_backward: the backward of %s failed", n->op);
            return 0;
        }
        if (pf_profile_enabled())
            pf_profile_add(n->op, PF_PROFILE_BACKWARD, pf_profile_clock() - start);
        for (int i = 0; i < n->n_in; i++) {
            pf_tensor *in = n->in[i];
            if (in && in->requires_grad && grad_in[i] && !accumulate(ctx, in, grad_in[i], pass, leaves))
                return 0;
        }
    }
    return pass;
}

static bool check_output(const char *op, pf_tensor *output)
{
    if (!output)
        return false;
    if (!output->requires_grad) {
        pf_fail("%s: the tensor does not require grad (no input was marked with pf_requires_grad, "
                "or grad mode was off)", op);
        return false;
    }
    return true;
}

/* Adds each leaf's gradient of the pass into its ->grad. */
static bool deposit_leaf_grads(const ptr_list *leaves, uint64_t pass)
{
    for (size_t k = 0; k < leaves->count; k++) {
        pf_tensor *leaf = leaves->items[k];
        if (leaf->pass_id != pass)
            continue;
        const pf_backend *be = pf_backend_get(leaf->device);
        if (!be)
            return false;
        if (!leaf->grad) {
            leaf->grad = pf_empty_like(leaf->ctx, leaf);
            if (!leaf->grad)
                return false;
            pf_kview dst = pf_kview_of(leaf->grad), src = pf_kview_of(leaf->pass_grad);
            if (!be->copy(&dst, &src))
                return false;
        } else {
            pf_kview acc = pf_kview_of(leaf->grad), g = pf_kview_of(leaf->pass_grad);
            if (!be->binary(PF_BINARY_ADD, &acc, &acc, &g))
                return false;
        }
    }
    return true;
}

bool pf_backward_with(pf_tensor *output, pf_tensor *grad_output)
{
    if (!output || !grad_output || !check_output("pf_backward", output))
        return false;
    if (!pf_same_shape(output, grad_output) || grad_output->dtype != output->dtype) {
        char a[64], b[64];
        pf_fail("pf_backward: grad_output %s %s does not match the output %s %s",
                pf_shape_str(grad_output, a, sizeof a), pf_dtype_name(grad_output->dtype),
                pf_shape_str(output, b, sizeof b), pf_dtype_name(output->dtype));
        return false;
    }
    bool was = pf_set_grad_enabled(false);
    ptr_list leaves = {0};
    uint64_t pass = run_pass(output->ctx, output, grad_output, &leaves);
    bool ok = pass && deposit_leaf_grads(&leaves, pass);
    pf_set_grad_enabled(was);
    return ok;
}

bool pf_backward(pf_tensor *loss)
{
    if (!loss)
        return false;
    if (pf_numel(loss) != 1) {
        char s[64];
        pf_fail("pf_backward: the loss has shape %s; backward needs a one-element tensor "
                "(or use pf_backward_with)", pf_shape_str(loss, s, sizeof s));
        return false;
    }
    if (!check_output("pf_backward", loss))
        return false;
    pf_tensor *seed = pf_ones_like(loss->ctx, loss);
    return seed && pf_backward_with(loss, seed);
}

bool pf_grad(pf_ctx *ctx, pf_tensor *output, int n, pf_tensor *const *inputs, pf_tensor **grads)
{
    if (!ctx || !output || !check_output("pf_grad", output))
        return false;
    if (pf_numel(output) != 1)
        return pf_fail("pf_grad: the output must have one element"), false;
    for (int i = 0; i < n; i++) {
        grads[i] = NULL;
        if (!inputs[i])
            return false;
    }
    pf_tensor *seed = pf_ones_like(ctx, output);
    if (!seed)
        return false;
    bool was = pf_set_grad_enabled(false);
    ptr_list leaves = {0};
    uint64_t pass = run_pass(ctx, output, seed, &leaves);
    pf_set_grad_enabled(was);
    if (!pass)
        return false;
    for (int i = 0; i < n; i++) {
        if (inputs[i]->pass_id != pass)
            return pf_fail("pf_grad: input %d is not used to compute the output", i), false;
        grads[i] = inputs[i]->pass_grad;
    }
    return true;
}

void pf_zero_grad(pf_tensor *t)
{
    if (t && t->grad)
        pf_fill_(t->grad, 0);
}
