/*
 * test_autograd.c — the semantics of the tape: pf_grad and pf_backward, how
 * gradients accumulate and reset, graphs that reuse a tensor, views and
 * broadcasts of leaves, no-grad mode, the errors, where leaf gradients live,
 * and the lecture's two-layer network against finite differences.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

/* ---- the lecture's example ---------------------------------------------- */

static void test_lecture_example(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 4}, PF_DIMS(3)), true);
    PF_CHECK(t != NULL);
    assert_true(t->requires_grad);
    assert_null(t->node);
    pf_tensor *a = pf_sum(ctx, pf_pow(ctx, t, 2));
    assert_true(a->requires_grad);
    assert_non_null(a->node);
    assert_true(pf_item(a) == 21);

    /* torch.autograd.grad(a, (t,)): the gradient, and t->grad untouched */
    pf_tensor *g = NULL;
    PF_CHECK(pf_grad(ctx, a, 1, &t, &g));
    PF_ASSERT_SHAPE(g, 3);
    assert_int_equal(g->dtype, PF_F32);
    PF_ASSERT_VALUES(g, 0, 2, 4, 8);
    assert_null(t->grad);

    /* a.backward(): fills t->grad */
    PF_CHECK(pf_backward(a));
    PF_CHECK(t->grad != NULL);
    PF_ASSERT_SHAPE(t->grad, 3);
    assert_int_equal(t->grad->dtype, PF_F32);
    PF_ASSERT_VALUES(t->grad, 0, 2, 4, 8);
    assert_true(t->grad->ctx == t->ctx);
    char text[64];
    pf_format(t->grad, text, sizeof text);
    assert_string_equal(text, "tensor([2., 4., 8.])"); /* what the header's example prints */
    assert_false(t->grad->requires_grad);
    assert_null(t->grad->node);
    /* pf_grad afterwards does not touch the filled ->grad either */
    PF_CHECK(pf_grad(ctx, a, 1, &t, &g));
    PF_ASSERT_VALUES(t->grad, 0, 2, 4, 8);
}

static void test_grad_of_several_inputs(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2}, PF_DIMS(2)), true);
    pf_tensor *y = pf_requires_grad(pf_from_f32(ctx, (float[]){3, -1}, PF_DIMS(2)), true);
    /* L = sum(x * y + y) */
    pf_tensor *h = pf_mul(ctx, x, y);
    pf_tensor *l = pf_sum(ctx, pf_add(ctx, h, y));
    pf_tensor *g[3];
    PF_CHECK(pf_grad(ctx, l, 3, (pf_tensor *[]){x, y, h}, g));
    PF_ASSERT_VALUES(g[0], 0, 3, -1);
    PF_ASSERT_VALUES(g[1], 0, 2, 3);
    /* an intermediate tensor can be asked for too */
    PF_ASSERT_VALUES(g[2], 0, 1, 1);
    assert_null(x->grad);
    assert_null(y->grad);
}

/* ---- accumulation ------------------------------------------------------- */

static void test_grads_accumulate_and_reset(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 4}, PF_DIMS(3)), true);
    pf_tensor *a = pf_sum(ctx, pf_pow(ctx, t, 2));
    PF_CHECK(pf_backward(a));
    /* the tape is kept: backward again adds, as PyTorch's .grad does */
    PF_CHECK(pf_backward(a));
    PF_ASSERT_VALUES(t->grad, 0, 4, 8, 16);
    pf_tensor *keep = t->grad;

    pf_zero_grad(t);
    assert_ptr_equal(t->grad, keep); /* same memory */
    PF_ASSERT_VALUES(t->grad, 0, 0, 0, 0);

    /* a new graph after zero_grad: only its gradient */
    pf_tensor *b = pf_sum(ctx, pf_mul_scalar(ctx, t, 3));
    PF_CHECK(pf_backward(b));
    PF_ASSERT_VALUES(t->grad, 0, 3, 3, 3);
    assert_ptr_equal(t->grad, keep);
    /* two different graphs accumulate into one ->grad */
    PF_CHECK(pf_backward(a));
    PF_ASSERT_VALUES(t->grad, 0, 5, 7, 11);

    /* zero_grad on a tensor without a gradient leaves it alone */
    pf_tensor *u = pf_requires_grad(pf_zeros(ctx, PF_DIMS(2)), true);
    pf_zero_grad(u);
    assert_null(u->grad);
    pf_zero_grad(NULL);
}

/* ---- graph shapes ------------------------------------------------------- */

static void test_tensor_used_twice(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, -2, 3}, PF_DIMS(3)), true);
    /* x * x: both paths add up to 2x */
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, x, x))));
    PF_ASSERT_VALUES(x->grad, 0, 2, -4, 6);
    pf_zero_grad(x);
    /* x + x: 2 */
    PF_CHECK(pf_backward(pf_sum(ctx, pf_add(ctx, x, x))));
    PF_ASSERT_VALUES(x->grad, 0, 2, 2, 2);
    pf_zero_grad(x);
    /* x - x: 0 */
    PF_CHECK(pf_backward(pf_sum(ctx, pf_sub(ctx, x, x))));
    PF_ASSERT_VALUES(x->grad, 0, 0, 0, 0);
    pf_zero_grad(x);
    /* x / x: 0 too (1/x - x/x^2) */
    PF_CHECK(pf_backward(pf_sum(ctx, pf_div(ctx, x, x))));
    PF_ASSERT_VALUES(x->grad, 1e-7, 0, 0, 0);
    pf_zero_grad(x);
    /* three times: x * x * x -> 3x^2 */
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, pf_mul(ctx, x, x), x))));
    PF_ASSERT_VALUES(x->grad, 1e-6, 3, 12, 27);
}

static void test_diamond(void **state)
{
    pf_ctx *ctx = *state;
    double xv[] = {0.5, -1, 0.25};
    pf_tensor *x = pf_requires_grad(pf_from_f64(ctx, xv, PF_DIMS(3)), true);
    /*   a = x^2;  b = 3a;  c = exp(a);  L = sum(b + c)
     *   dL/dx = (3 + exp(x^2)) * 2x */
    pf_tensor *a = pf_pow(ctx, x, 2);
    pf_tensor *b = pf_mul_scalar(ctx, a, 3);
    pf_tensor *c = pf_exp(ctx, a);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_add(ctx, b, c))));
    double want[3];
    for (int i = 0; i < 3; i++)
        want[i] = (3 + exp(xv[i] * xv[i])) * 2 * xv[i];
    PF_ASSERT_VALUES(x->grad, 1e-12, want[0], want[1], want[2]);

    /* a deeper diamond, with the shared node at the bottom and the top:
     * y = tanh(x); z = y*y + sigmoid(y) * y; L = sum(z) */
    pf_zero_grad(x);
    pf_tensor *y = pf_tanh(ctx, x);
    pf_tensor *z = pf_add(ctx, pf_mul(ctx, y, y), pf_mul(ctx, pf_sigmoid(ctx, y), y));
    PF_CHECK(pf_backward(pf_sum(ctx, z)));
    for (int i = 0; i < 3; i++) {
        double t = tanh(xv[i]), s = 1 / (1 + exp(-t));
        double dz_dy = 2 * t + s * (1 - s) * t + s;
        want[i] = dz_dy * (1 - t * t);
    }
    PF_ASSERT_VALUES(x->grad, 1e-12, want[0], want[1], want[2]);
}

static void test_grad_through_views_of_leaves(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3)), true);
    pf_tensor *w = pf_from_f32(ctx, (float[]){10, 20, 30, 40, 50, 60}, PF_DIMS(3, 2));
    /* sum(x^T * w): the gradient is w^T, in x's shape */
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, pf_transpose(ctx, x, 0, 1), w))));
    PF_ASSERT_SHAPE(x->grad, 2, 3);
    assert_true(pf_is_contiguous(x->grad));
    PF_ASSERT_VALUES(x->grad, 0, 10, 30, 50, 20, 40, 60);
    assert_null(w->grad); /* w does not require grad */

    /* narrow: ones where the window was, zeros elsewhere */
    pf_zero_grad(x);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_narrow(ctx, x, 1, 1, 2))));
    PF_ASSERT_VALUES(x->grad, 0, 0, 1, 1, 0, 1, 1);
    /* select and slice with a step, weighted */
    pf_zero_grad(x);
    pf_tensor *sel = pf_select(ctx, x, 0, -1);
    pf_tensor *sl = pf_slice(ctx, sel, 0, 0, 3, 2);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, sl, pf_from_f32(ctx, (float[]){7, 9}, PF_DIMS(2))))));
    PF_ASSERT_VALUES(x->grad, 0, 0, 0, 0, 7, 0, 9);
    /* a reshape that copies, then a view of it */
    pf_zero_grad(x);
    pf_tensor *r = pf_reshape(ctx, pf_transpose(ctx, x, 0, 1), PF_DIMS(6));
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, r, pf_arange(ctx, 0, 6, 1)))));
    /* r = (x00, x10, x01, x11, x02, x12) weighted 0..5 */
    PF_ASSERT_VALUES(x->grad, 0, 0, 2, 4, 1, 3, 5);
    /* the same leaf through two views */
    pf_zero_grad(x);
    pf_tensor *v1 = pf_view(ctx, x, PF_DIMS(6));
    pf_tensor *v2 = pf_flatten(ctx, pf_transpose(ctx, x, 0, 1), 0, 1);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, v1, v2))));
    /* d/dx sum(x_flat[i] * xT_flat[i]): x00*x00 + x01*x10 + x02*x01 + x10*x11 + x11*x02 + x12*x12 */
    PF_ASSERT_VALUES(x->grad, 0, 2 * 1, 4 + 3, 2 + 5, 2 + 5, 4 + 3, 2 * 6);
}

static void test_grad_through_broadcast(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3)), true);
    pf_tensor *b = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 10, 100}, PF_DIMS(3)), true);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, a, b))));
    PF_ASSERT_SHAPE(b->grad, 3);
    PF_ASSERT_VALUES(b->grad, 0, 5, 7, 9);
    PF_ASSERT_SHAPE(a->grad, 2, 3);
    PF_ASSERT_VALUES(a->grad, 0, 1, 10, 100, 1, 10, 100);

    /* [2,1] * [1,3]: each gradient in its own shape */
    pf_tensor *c = pf_requires_grad(pf_from_f32(ctx, (float[]){2, 3}, PF_DIMS(2, 1)), true);
    pf_tensor *r = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 4}, PF_DIMS(1, 3)), true);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, c, r))));
    PF_ASSERT_SHAPE(c->grad, 2, 1);
    PF_ASSERT_VALUES(c->grad, 0, 7, 7);
    PF_ASSERT_SHAPE(r->grad, 1, 3);
    PF_ASSERT_VALUES(r->grad, 0, 5, 5, 5);

    /* a 0-d leaf added to a matrix gets the sum of the gradient */
    pf_tensor *s = pf_requires_grad(pf_scalar(ctx, 0.5), true);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, pf_add(ctx, a, s), a))));
    assert_int_equal(s->grad->ndim, 0);
    assert_true(pf_item(s->grad) == 21);
    /* an explicit expand */
    pf_tensor *e = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2}, PF_DIMS(2, 1)), true);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_expand(ctx, e, PF_DIMS(3, 2, 4)))));
    PF_ASSERT_SHAPE(e->grad, 2, 1);
    PF_ASSERT_VALUES(e->grad, 0, 12, 12);
}

static void test_only_inputs_requiring_grad_get_one(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_ones(ctx, PF_DIMS(2)), true);
    pf_tensor *c = pf_full(ctx, 3, PF_DIMS(2));
    pf_tensor *y = pf_mul(ctx, x, c);
    assert_true(y->requires_grad);
    PF_CHECK(pf_backward(pf_sum(ctx, y)));
    PF_ASSERT_VALUES(x->grad, 0, 3, 3);
    assert_null(c->grad);
    /* ops on tensors that do not require grad record nothing */
    pf_tensor *z = pf_mul(ctx, c, c);
    assert_false(z->requires_grad);
    assert_null(z->node);
    /* a detached copy stops the gradient */
    pf_zero_grad(x);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, pf_mul_scalar(ctx, x, 2), pf_detach(ctx, pf_mul_scalar(ctx, x, 5))))));
    PF_ASSERT_VALUES(x->grad, 0, 10, 10);
    /* pf_requires_grad(false) on a leaf takes it off */
    pf_requires_grad(x, false);
    assert_false(pf_mul(ctx, x, c)->requires_grad);
    /* but a non-leaf cannot be taken off the tape that way */
    pf_requires_grad(x, true);
    pf_tensor *nl = pf_exp(ctx, x);
    assert_null(pf_requires_grad(nl, false));
    PF_ASSERT_ERROR("pf_detach");
    assert_true(nl->requires_grad);
    /* backward from a leaf: the gradient of x with respect to itself */
    pf_tensor *leaf = pf_requires_grad(pf_scalar(ctx, 4), true);
    PF_CHECK(pf_backward(leaf));
    assert_true(pf_item(leaf->grad) == 1);
}

static void test_grad_across_dtypes_and_joins(void **state)
{
    pf_ctx *ctx = *state;
    /* a float32 leaf used in float64: its gradient comes back as float32 */
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2}, PF_DIMS(2)), true);
    pf_tensor *x64 = pf_to_dtype(ctx, x, PF_F64);
    assert_true(x64->requires_grad);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, x64, x64))));
    assert_int_equal(x->grad->dtype, PF_F32);
    PF_ASSERT_VALUES(x->grad, 0, 2, 4);
    /* and the other way */
    pf_tensor *d = pf_requires_grad(pf_from_f64(ctx, (double[]){3}, PF_DIMS(1)), true);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul_scalar(ctx, pf_to_dtype(ctx, d, PF_F32), 5))));
    assert_int_equal(d->grad->dtype, PF_F64);
    PF_ASSERT_VALUES(d->grad, 0, 5);
    /* converting to an integer type leaves the tape */
    pf_tensor *i = pf_to_dtype(ctx, x, PF_I64);
    assert_false(i->requires_grad);
    assert_null(i->node);

    /* cat and stack of a tensor that requires grad with one that does not */
    pf_zero_grad(x);
    pf_tensor *c = pf_from_f32(ctx, (float[]){7, 8, 9}, PF_DIMS(3));
    pf_tensor *j = pf_cat(ctx, 3, (pf_tensor *[]){c, x, x}, 0);
    PF_ASSERT_VALUES(j, 0, 7, 8, 9, 1, 2, 1, 2);
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, j, pf_arange(ctx, 1, 8, 1)))));
    PF_ASSERT_VALUES(x->grad, 0, 4 + 6, 5 + 7);
    assert_null(c->grad);
    pf_zero_grad(x);
    pf_tensor *st = pf_stack(ctx, 2, (pf_tensor *[]){pf_narrow(ctx, c, 0, 0, 2), x}, 1); /* [2,2] */
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, st, pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(2, 2))))));
    PF_ASSERT_VALUES(x->grad, 0, 2, 4);
    assert_null(c->grad);
}

/* The gradient at the kinks, as documented (and as PyTorch): relu and abs
 * give 0 at 0, clamp gives 1 on its bounds, max goes to the first maximum. */
static void test_gradient_conventions_at_kinks(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){-1, 0, 2}, PF_DIMS(3)), true);
    pf_tensor *g = NULL;
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_relu(ctx, x)), 1, &x, &g));
    PF_ASSERT_VALUES(g, 0, 0, 0, 1);
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_abs(ctx, x)), 1, &x, &g));
    PF_ASSERT_VALUES(g, 0, -1, 0, 1);
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_clamp(ctx, x, -1, 0)), 1, &x, &g));
    PF_ASSERT_VALUES(g, 0, 1, 1, 0);
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_clamp(ctx, x, 0, INFINITY)), 1, &x, &g));
    PF_ASSERT_VALUES(g, 0, 0, 1, 1);

    pf_tensor *m = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 3, 3, 5, 5, 0}, PF_DIMS(2, 3)), true);
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_max_dim(ctx, m, 1, false, NULL)), 1, &m, &g));
    PF_ASSERT_VALUES(g, 0, 0, 1, 0, 1, 0, 0);
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_max_dim(ctx, m, 0, true, NULL)), 1, &m, &g));
    PF_ASSERT_VALUES(g, 0, 0, 0, 1, 1, 1, 0);
}

/* ---- no-grad mode ------------------------------------------------------- */

static void test_no_grad_mode(void **state)
{
    pf_ctx *ctx = *state;
    assert_true(pf_is_grad_enabled());
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2}, PF_DIMS(2)), true);

    bool was = pf_set_grad_enabled(false);
    assert_true(was);
    assert_false(pf_is_grad_enabled());
    pf_tensor *ops[] = {
        pf_mul(ctx, x, x), pf_exp(ctx, x), pf_sum(ctx, x), pf_matmul(ctx, x, x), pf_transpose(ctx, x, 0, 0),
        pf_softmax(ctx, x, 0), pf_cat(ctx, 2, (pf_tensor *[]){x, x}, 0), pf_clone(ctx, x),
        pf_max_dim(ctx, x, 0, false, NULL), pf_var(ctx, x, 0, NULL, 1, false),
    };
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        PF_CHECK(ops[i] != NULL);
        assert_null(ops[i]->node);
        assert_false(ops[i]->requires_grad);
    }
    PF_ASSERT_VALUES(ops[0], 0, 1, 4); /* the values are computed all the same */
    /* a second call returns the setting before it */
    assert_false(pf_set_grad_enabled(false));
    assert_false(pf_set_grad_enabled(true));
    assert_true(pf_is_grad_enabled());
    assert_true(pf_set_grad_enabled(true));

    /* a result made in no-grad mode cannot be backpropagated */
    assert_false(pf_backward(ops[2]));
    PF_ASSERT_ERROR("does not require grad");
    /* recording is back */
    pf_tensor *y = pf_mul(ctx, x, x);
    assert_non_null(y->node);
    assert_true(y->requires_grad);
    (void)was;
}

/* ---- errors ------------------------------------------------------------- */

static void test_autograd_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 3}, PF_DIMS(3)), true);
    pf_tensor *y = pf_mul(ctx, x, x);

    /* backward needs one element */
    assert_false(pf_backward(y));
    PF_ASSERT_ERROR("pf_backward: the loss has shape [3]; backward needs a one-element tensor");
    assert_null(x->grad);
    /* a one-element tensor of any shape is fine */
    PF_CHECK(pf_backward(pf_sum_dims(ctx, pf_unsqueeze(ctx, y, 0), 1, (int[]){1}, true)));
    PF_ASSERT_VALUES(x->grad, 0, 2, 4, 6);

    /* on a tensor that does not require grad */
    pf_tensor *c = pf_sum(ctx, pf_ones(ctx, PF_DIMS(3)));
    assert_false(pf_backward(c));
    PF_ASSERT_ERROR("does not require grad");
    pf_tensor *g = NULL;
    assert_false(pf_grad(ctx, c, 1, &x, &g));
    PF_ASSERT_ERROR("does not require grad");

    /* pf_grad: an input the output does not depend on */
    pf_tensor *unused = pf_requires_grad(pf_ones(ctx, PF_DIMS(3)), true);
    pf_tensor *l = pf_sum(ctx, y);
    pf_tensor *gs[2];
    assert_false(pf_grad(ctx, l, 2, (pf_tensor *[]){x, unused}, gs));
    PF_ASSERT_ERROR("pf_grad: input 1 is not used");
    assert_null(unused->grad);
    /* pf_grad of a non-scalar */
    assert_false(pf_grad(ctx, y, 1, &x, gs));
    PF_ASSERT_ERROR("pf_grad");

    /* int tensors cannot require grad */
    pf_tensor *i = pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(2));
    assert_null(pf_requires_grad(i, true));
    PF_ASSERT_ERROR("pf_requires_grad: only float tensors can require gradients (got int64)");
    assert_false(i->requires_grad);
    assert_null(pf_requires_grad(pf_from_u8(ctx, (uint8_t[]){1}, PF_DIMS(1)), true));
    PF_ASSERT_ERROR("uint8");
    assert_ptr_equal(pf_requires_grad(i, false), i); /* turning it off is harmless */

    /* backward_with: the seed must match the output */
    assert_false(pf_backward_with(y, pf_ones(ctx, PF_DIMS(2))));
    PF_ASSERT_ERROR("pf_backward: grad_output [2] float32 does not match the output [3] float32");
    assert_false(pf_backward_with(y, pf_ones(ctx, PF_DIMS(3, 1))));
    PF_ASSERT_ERROR("does not match");
    assert_false(pf_backward_with(y, pf_to_dtype(ctx, pf_ones(ctx, PF_DIMS(3)), PF_F64)));
    PF_ASSERT_ERROR("does not match");
    PF_ASSERT_VALUES(x->grad, 0, 2, 4, 6); /* untouched by the failures */
    /* and with a good seed it weights the output */
    pf_zero_grad(x);
    PF_CHECK(pf_backward_with(y, pf_from_f32(ctx, (float[]){1, 0, -1}, PF_DIMS(3))));
    PF_ASSERT_VALUES(x->grad, 0, 2, 0, -6);

    /* NULL is refused quietly (its error is already recorded) */
    assert_false(pf_backward(NULL));
    assert_false(pf_backward_with(y, NULL));
    PF_CHECK(pf_ok());
}

/* ---- where gradients live ----------------------------------------------- */

static void test_leaf_grad_lives_in_leaf_ctx(void **state)
{
    (void)state;
    pf_ctx *params = pf_ctx_new(0);
    pf_ctx *step = pf_ctx_new(0);
    pf_tensor *w = pf_requires_grad(pf_from_f32(params, (float[]){1, -1, 2}, PF_DIMS(3)), true);

    float xs[2][3] = {{1, 2, 3}, {-4, 0.5f, 2}};
    for (int k = 0; k < 2; k++) {
        pf_ctx_reset(step);
        /* fill the reset step memory with garbage first, so that a gradient
         * left in it would be overwritten */
        PF_CHECK(pf_fill_(pf_empty(step, PF_F32, PF_DIMS(4096)), 1e9));
        pf_ctx_reset(step);
        pf_tensor *x = pf_from_f32(step, xs[k], PF_DIMS(3));
        pf_tensor *loss = pf_sum(step, pf_mul(step, pf_mul(step, w, x), w)); /* sum(w^2 x) */
        assert_true(loss->ctx == step);
        PF_CHECK(pf_backward(loss));
        assert_true(w->grad->ctx == params);
    }
    pf_ctx_reset(step);
    PF_CHECK(pf_fill_(pf_empty(step, PF_F32, PF_DIMS(65536)), -1e9));
    /* 2 w x1 + 2 w x2 */
    PF_ASSERT_VALUES(w->grad, 1e-6, 2 * 1 * (1 - 4), 2 * -1 * (2 + 0.5), 2 * 2 * (3 + 2));

    /* an optimizer-like update in the parameter context, then another step */
    pf_tensor *wg = w->grad;
    float *pw = pf_data_f32(w);
    const float *pg = pf_data_f32(w->grad);
    for (int i = 0; i < 3; i++)
        pw[i] -= 0.1f * pg[i];
    pf_zero_grad(w);
    pf_ctx_reset(step);
    PF_CHECK(pf_backward(pf_sum(step, pf_mul(step, w, w))));
    assert_ptr_equal(w->grad, wg);
    PF_ASSERT_VALUES(w->grad, 1e-5, 2 * (1 + 0.6), 2 * (-1 + 0.5), 2 * (2 - 2));
    pf_ctx_free(step);
    pf_ctx_free(params);
}

/* ---- the lecture's two-layer network ------------------------------------ */

typedef struct net {
    pf_tensor *w1, *b1, *w2, *b2, *x, *target;
} net;

/* loss = sum((w2 tanh(w1 x + b1) + b2 - target)^2) */
static pf_tensor *net_loss(pf_ctx *ctx, const net *n)
{
    pf_tensor *h = pf_tanh(ctx, pf_add(ctx, pf_matmul(ctx, n->w1, n->x), n->b1));
    pf_tensor *y = pf_add(ctx, pf_matmul(ctx, n->w2, h), n->b2);
    return pf_sum(ctx, pf_pow(ctx, pf_sub(ctx, y, n->target), 2));
}

static void test_two_layer_network(void **state)
{
    pf_ctx *ctx = *state;
    net n = {
        .w1 = pf_test_rand64(ctx, 1, -0.5, 0.5, PF_DIMS(20, 10)),
        .b1 = pf_test_rand64(ctx, 2, -0.5, 0.5, PF_DIMS(20)),
        .w2 = pf_test_rand64(ctx, 3, -0.5, 0.5, PF_DIMS(5, 20)),
        .b2 = pf_test_rand64(ctx, 4, -0.5, 0.5, PF_DIMS(5)),
        .x = pf_requires_grad(pf_test_rand64(ctx, 5, -1, 1, PF_DIMS(10)), false),
        .target = pf_requires_grad(pf_test_rand64(ctx, 6, -1, 1, PF_DIMS(5)), false),
    };
    pf_tensor *loss = net_loss(ctx, &n);
    assert_int_equal(loss->ndim, 0);
    assert_int_equal(loss->dtype, PF_F64);
    PF_CHECK(pf_backward(loss));
    assert_null(n.x->grad);
    assert_null(n.target->grad);

    pf_tensor *params[] = {n.w1, n.b1, n.w2, n.b2};
    pf_ctx *scratch = pf_ctx_new(0);
    bool was = pf_set_grad_enabled(false);
    const double eps = 1e-6;
    double worst = 0;
    for (int k = 0; k < 4; k++) {
        pf_tensor *p = params[k];
        PF_CHECK(p->grad != NULL);
        assert_true(pf_same_shape(p->grad, p));
        double *v = pf_data_f64(p);
        const double *g = pf_data_f64(p->grad);
        for (int64_t i = 0; i < pf_numel(p); i++) {
            double keep = v[i];
            v[i] = keep + eps;
            double up = pf_item(net_loss(scratch, &n));
            pf_ctx_reset(scratch);
            v[i] = keep - eps;
            double down = pf_item(net_loss(scratch, &n));
            pf_ctx_reset(scratch);
            v[i] = keep;
            double numeric = (up - down) / (2 * eps);
            double err = fabs(g[i] - numeric);
            if (err > worst)
                worst = err;
            if (err > 1e-6 + 1e-5 * fabs(numeric)) {
                pf_set_grad_enabled(was);
                print_error("parameter %d element %lld: analytic %.10g, numeric %.10g\n", k, (long long)i, g[i],
                            numeric);
                fail();
            }
        }
    }
    pf_set_grad_enabled(was);
    pf_ctx_free(scratch);
    assert_true(worst < 1e-6);

    /* the output layer's bias gradient in closed form: 2 (y - target) */
    pf_set_grad_enabled(false);
    pf_tensor *h = pf_tanh(ctx, pf_add(ctx, pf_matmul(ctx, n.w1, n.x), n.b1));
    pf_tensor *y = pf_add(ctx, pf_matmul(ctx, n.w2, h), n.b2);
    pf_set_grad_enabled(true);
    PF_ASSERT_CLOSE(n.b2->grad, pf_mul_scalar(ctx, pf_sub(ctx, y, n.target), 2), 0, 1e-12);
}

/* The same network in float32 trained for a few SGD steps: the loss falls. */
static void test_two_layer_network_trains(void **state)
{
    pf_ctx *ctx = *state;
    pf_ctx *step = pf_ctx_new(0);
    pf_manual_seed(1);
    net n = {
        .w1 = pf_requires_grad(pf_mul_scalar(ctx, pf_randn(ctx, PF_DIMS(20, 10)), 0.3), true),
        .b1 = pf_requires_grad(pf_zeros(ctx, PF_DIMS(20)), true),
        .w2 = pf_requires_grad(pf_mul_scalar(ctx, pf_randn(ctx, PF_DIMS(5, 20)), 0.3), true),
        .b2 = pf_requires_grad(pf_zeros(ctx, PF_DIMS(5)), true),
        .x = pf_randn(ctx, PF_DIMS(10)),
        .target = pf_rand(ctx, PF_DIMS(5)),
    };
    pf_tensor *params[] = {n.w1, n.b1, n.w2, n.b2};
    double first = 0, last = 0;
    for (int it = 0; it < 50; it++) {
        pf_ctx_reset(step);
        for (int k = 0; k < 4; k++)
            pf_zero_grad(params[k]);
        pf_tensor *loss = net_loss(step, &n);
        PF_CHECK(pf_backward(loss));
        last = pf_item(loss);
        if (it == 0)
            first = last;
        for (int k = 0; k < 4; k++) {
            float *p = pf_data_f32(params[k]);
            const float *g = pf_data_f32(params[k]->grad);
            for (int64_t i = 0; i < pf_numel(params[k]); i++)
                p[i] -= 0.05f * g[i];
        }
    }
    pf_ctx_free(step);
    assert_true(first > 0.1);
    assert_true(last < 0.01 * first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_lecture_example),
        TEST(test_grad_of_several_inputs),
        TEST(test_grads_accumulate_and_reset),
        TEST(test_tensor_used_twice),
        TEST(test_diamond),
        TEST(test_grad_through_views_of_leaves),
        TEST(test_grad_through_broadcast),
        TEST(test_only_inputs_requiring_grad_get_one),
        TEST(test_grad_across_dtypes_and_joins),
        TEST(test_gradient_conventions_at_kinks),
        TEST(test_no_grad_mode),
        TEST(test_autograd_errors),
        TEST(test_leaf_grad_lives_in_leaf_ctx),
        TEST(test_two_layer_network),
        TEST(test_two_layer_network_trains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
