/*
 * autograd.c — the lecture's automatic-differentiation slides in C.
 *
 * First slide:  t = (1, 2, 4), a = sum(t^2), da/dt = 2t = (2, 4, 8).
 * Second slide: a two-layer network with tanh,
 *     h = tanh(w1 x + b1), y = tanh(w2 h + b2), loss = |y - target|^2,
 * with w1 20x10, b1 20, w2 5x20, b2 5, x 10, and the gradient of the loss
 * with respect to every parameter.
 */
#include <stdio.h>
#include <stdlib.h>

#include <profond.h>

int main(void)
{
    pf_ctx *ctx = pf_ctx_new(0);

    /* t = torch.tensor([1., 2., 4.]).requires_grad_()
     * a = t.pow(2).sum()
     * g, = torch.autograd.grad(a, (t,)) */
    pf_tensor *t = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 4}, PF_DIMS(3)), true);
    pf_tensor *a = pf_sum(ctx, pf_pow(ctx, t, 2));
    pf_tensor *g;
    if (!pf_grad(ctx, a, 1, &t, &g)) {
        fprintf(stderr, "autograd: %s\n", pf_error());
        return 1;
    }
    printf("t = ");
    pf_print(t);
    printf("a = ");
    pf_print(a);
    printf("grad of a with respect to t = ");
    pf_print(g);

    /* The two-layer tanh network of the second slide. */
    pf_manual_seed(0);
    pf_tensor *w1 = pf_requires_grad(pf_randn(ctx, PF_DIMS(20, 10)), true);
    pf_tensor *b1 = pf_requires_grad(pf_randn(ctx, PF_DIMS(20)), true);
    pf_tensor *w2 = pf_requires_grad(pf_randn(ctx, PF_DIMS(5, 20)), true);
    pf_tensor *b2 = pf_requires_grad(pf_randn(ctx, PF_DIMS(5)), true);
    pf_tensor *x = pf_randn(ctx, PF_DIMS(10));
    pf_tensor *target = pf_randn(ctx, PF_DIMS(5));

    pf_tensor *h = pf_tanh(ctx, pf_add(ctx, pf_matmul(ctx, w1, x), b1));
    pf_tensor *y = pf_tanh(ctx, pf_add(ctx, pf_matmul(ctx, w2, h), b2));
    pf_tensor *loss = pf_sum(ctx, pf_pow(ctx, pf_sub(ctx, y, target), 2));
    if (!pf_backward(loss)) {
        fprintf(stderr, "autograd: %s\n", pf_error());
        return 1;
    }
    printf("\nloss = %.6f\n", pf_item(loss));
    printf("dloss/db2 = ");
    pf_print(b2->grad);
    printf("dloss/dw2, shape [%lld, %lld]; first row = ", (long long)w2->grad->shape[0],
           (long long)w2->grad->shape[1]);
    pf_print(pf_select(ctx, w2->grad, 0, 0));
    printf("dloss/db1 = ");
    pf_print(b1->grad);
    printf("dloss/dw1, shape [%lld, %lld]\n", (long long)w1->grad->shape[0], (long long)w1->grad->shape[1]);

    pf_ctx_free(ctx);
    return 0;
}
