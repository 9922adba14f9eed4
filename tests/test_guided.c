/*
 * test_guided.c — pf_guided_relu (section 10), the ReLU of guided
 * backpropagation: its forward is ReLU's; its backward passes a gradient
 * only where the input is positive AND the gradient is positive. Checked by
 * hand on both dtypes and strided inputs, against ReLU's backward (they
 * agree wherever the incoming gradient is positive), through a small
 * network (the guided input gradient is the ordinary one with every
 * negative contribution cut at the ReLUs: never negative into a ReLU
 * layer's input), and on errors.
 */
#include <math.h>

#include "testing.h"

/* |actual - expected| <= tol, NaN failing. */
#define ASSERT_NEAR(actual, expected, tol)                                                                   \
    do {                                                                                                     \
        double a_ = (actual), e_ = (expected);                                                               \
        if (!(fabs(a_ - e_) <= (tol)))                                                                       \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #actual, a_, e_, (double)(tol));           \
    } while (0)

static void test_forward_is_relu_backward_is_guided(void **state)
{
    pf_ctx *ctx = *state;
    for (int dt = 0; dt < 2; dt++) {
        pf_dtype dtype = dt ? PF_F64 : PF_F32;
        pf_tensor *x = pf_requires_grad(
            pf_to_dtype(ctx, pf_from_f32(ctx, (float[]){-1, 2, 3, -4, 0, 5}, PF_DIMS(2, 3)), dtype), true);
        pf_tensor *y = pf_guided_relu(ctx, x);
        PF_ASSERT_VALUES(y, 0, 0, 2, 3, 0, 0, 5);
        pf_tensor *g = pf_to_dtype(ctx, pf_from_f32(ctx, (float[]){1, -1, 2, 5, 7, 0.5f}, PF_DIMS(2, 3)), dtype);
        PF_CHECK(pf_backward_with(y, g));
        /* x > 0 and g > 0: only elements 2 (3 and 2) and 5 (5 and 0.5). */
        PF_ASSERT_VALUES(x->grad, 0, 0, 0, 2, 0, 0, 0.5);
    }
}

static void test_agrees_with_relu_for_positive_gradients(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(3);
    pf_tensor *x = pf_requires_grad(pf_randn(ctx, PF_DIMS(64, 33)), true);
    pf_tensor *g = pf_rand(ctx, PF_DIMS(64, 33)); /* in [0, 1) */
    pf_tensor *a, *b;
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, pf_relu(ctx, x), g)), 1, &x, &a));
    PF_CHECK(pf_grad(ctx, pf_sum(ctx, pf_mul(ctx, pf_guided_relu(ctx, x), g)), 1, &x, &b));
    PF_ASSERT_CLOSE(b, a, 0, 0);
    PF_ASSERT_CLOSE(pf_guided_relu(ctx, x), pf_relu(ctx, x), 0, 0);
    /* A strided input (a transposed view). */
    pf_tensor *xt = pf_transpose(ctx, x, 0, 1);
    PF_ASSERT_CLOSE(pf_guided_relu(ctx, xt), pf_relu(ctx, xt), 0, 0);
}

static void test_guided_gradient_through_a_network(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(5);
    pf_tensor *w1 = pf_randn(ctx, PF_DIMS(16, 8)), *w2 = pf_randn(ctx, PF_DIMS(4, 16));
    pf_tensor *x = pf_requires_grad(pf_randn(ctx, PF_DIMS(1, 8)), true);
    /* score = w2[0] · guided_relu(w1 x): the gradient at the hidden layer is
     * w2[0] cut to its positive entries where the unit is active. */
    pf_tensor *hidden = pf_linear(ctx, x, w1, NULL);
    pf_tensor *out = pf_linear(ctx, pf_guided_relu(ctx, hidden), w2, NULL);
    pf_tensor *score = pf_select(ctx, pf_select(ctx, out, 0, 0), 0, 0);
    pf_tensor *gx;
    PF_CHECK(pf_grad(ctx, score, 1, &x, &gx));
    /* By hand: gx = Σ_k [h_k > 0 and w2[0,k] > 0] w2[0,k] w1[k,:]. */
    double expect[8] = {0};
    for (int k = 0; k < 16; k++) {
        double hk = pf_get(hidden, (int64_t[]){0, k}), wk = pf_get(w2, (int64_t[]){0, k});
        if (hk > 0 && wk > 0)
            for (int j = 0; j < 8; j++)
                expect[j] += wk * pf_get(w1, (int64_t[]){k, j});
    }
    for (int j = 0; j < 8; j++)
        ASSERT_NEAR(pf_get(gx, (int64_t[]){0, j}), expect[j], 1e-5);
}

static void test_guided_relu_errors(void **state)
{
    pf_ctx *ctx = *state;
    PF_CHECK(pf_guided_relu(ctx, NULL) == NULL);
    PF_ASSERT_ERROR("NULL tensor");
    PF_CHECK(pf_guided_relu(NULL, pf_zeros(ctx, PF_DIMS(2))) == NULL);
    PF_ASSERT_ERROR("pf_guided_relu: NULL context");
    PF_CHECK(pf_guided_relu(ctx, pf_randint(ctx, 0, 3, PF_DIMS(2))) == NULL);
    PF_ASSERT_ERROR("pf_guided_relu");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forward_is_relu_backward_is_guided, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_agrees_with_relu_for_positive_gradients, pf_test_setup,
                                        pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_guided_gradient_through_a_network, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_guided_relu_errors, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
