/*
 * test_losses.c — the losses of section 11: pf_mse_loss, pf_cross_entropy,
 * pf_nll_loss, pf_bce_loss and pf_bce_with_logits, with each reduction.
 *
 * Each loss is checked on hand-computed values, by finite differences in
 * float64 (the input, and the target where PyTorch differentiates it: mse
 * and both BCEs), against PyTorch for every reduction on the cases of
 * tests/golden/loss_*.safetensors (written by tests/golden/gen_nn_misc.py),
 * on numerical edge cases (logits of 1e4, probabilities exactly 0 and 1),
 * and on its error cases.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

static const pf_reduction REDUCTIONS[3] = {PF_REDUCTION_MEAN, PF_REDUCTION_SUM, PF_REDUCTION_NONE};
static const char *const REDUCTION_NAMES[3] = {"mean", "sum", "none"};

/* ---- Helpers --------------------------------------------------------------- */

static pf_tensor *golden(const pf_golden *g, const char *c, const char *name)
{
    char full[256];
    snprintf(full, sizeof full, "%s.%s", c, name);
    return pf_golden_get(g, full);
}

/* A copy of a golden tensor; float ones become leaves requiring grad. */
static pf_tensor *input(pf_ctx *ctx, const pf_golden *g, const char *c, const char *name)
{
    pf_tensor *t = pf_clone(ctx, golden(g, c, name));
    return t && t->dtype != PF_I64 ? pf_requires_grad(t, true) : t;
}

typedef pf_tensor *(*loss_fn)(pf_ctx *ctx, pf_tensor *input, pf_tensor *target, pf_reduction reduction);

/* Runs one golden case: out against PyTorch's, then backward from gout and
 * the gradients of the input (and of the target when target_grad). */
static void check_golden(pf_ctx *ctx, const pf_golden *g, const char *c, const char *input_name,
                         pf_reduction reduction, loss_fn fn, bool target_grad)
{
    pf_tensor *x = input(ctx, g, c, input_name), *t = input(ctx, g, c, "target");
    pf_tensor *out = fn(ctx, x, t, reduction);
    PF_ASSERT_GOLDEN(out, golden(g, c, "out"));
    PF_CHECK(pf_backward_with(out, golden(g, c, "gout")));
    char grad_name[64];
    snprintf(grad_name, sizeof grad_name, "grad_%s", input_name);
    PF_ASSERT_GOLDEN(x->grad, golden(g, c, grad_name));
    if (target_grad)
        PF_ASSERT_GOLDEN(t->grad, golden(g, c, "grad_target"));
}

/* The class-index losses take a const target. */
static pf_tensor *cross_entropy_fn(pf_ctx *ctx, pf_tensor *x, pf_tensor *t, pf_reduction r)
{
    return pf_cross_entropy(ctx, x, t, r);
}

static pf_tensor *nll_fn(pf_ctx *ctx, pf_tensor *x, pf_tensor *t, pf_reduction r) { return pf_nll_loss(ctx, x, t, r); }

/* Gradient checks: arg is a loss_arg; inputs are (input, target) for the
 * elementwise losses, (input) for the class losses with the target in arg. */
typedef struct loss_arg {
    loss_fn fn;
    pf_reduction reduction;
    pf_tensor *target;
} loss_arg;

static pf_tensor *pair_loss(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const loss_arg *a = arg;
    return a->fn(ctx, in[0], in[1], a->reduction);
}

static pf_tensor *class_loss(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const loss_arg *a = arg;
    return a->fn(ctx, in[0], a->target, a->reduction);
}

/* ---- MSE -------------------------------------------------------------------- */

static void test_mse_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_from_f32(ctx, (float[]){1, 2, 3, 0.5f}, PF_DIMS(2, 2));
    pf_tensor *t = pf_from_f32(ctx, (float[]){1, 0, 5, -0.5f}, PF_DIMS(2, 2));
    pf_tensor *none = pf_mse_loss(ctx, x, t, PF_REDUCTION_NONE);
    PF_ASSERT_SHAPE(none, 2, 2);
    PF_ASSERT_VALUES(none, 1e-7, 0, 4, 4, 1);
    pf_tensor *mean = pf_mse_loss(ctx, x, t, PF_REDUCTION_MEAN);
    PF_ASSERT_SHAPE(mean);
    PF_ASSERT_VALUES(mean, 1e-7, 2.25);
    PF_ASSERT_VALUES(pf_mse_loss(ctx, x, t, PF_REDUCTION_SUM), 1e-7, 9);
}

static void test_mse_golden_and_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "loss_mse");
    for (int r = 0; r < 3; r++) {
        check_golden(ctx, &g, REDUCTION_NAMES[r], "input", REDUCTIONS[r], pf_mse_loss, true);
        loss_arg arg = {pf_mse_loss, REDUCTIONS[r], NULL};
        PF_GRADCHECK(pair_loss, &arg, pf_test_rand64(ctx, 1, -2, 2, PF_DIMS(3, 4)),
                     pf_test_rand64(ctx, 2, -2, 2, PF_DIMS(3, 4)));
    }
}

/* ---- Cross-entropy ------------------------------------------------------------ */

static void test_cross_entropy_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 3, 1, 1, 1}, PF_DIMS(2, 3)), true);
    pf_tensor *t = pf_from_i64(ctx, (int64_t[]){2, 0}, PF_DIMS(2));
    double l0 = log(exp(1) + exp(2) + exp(3)) - 3, l1 = log(3);
    pf_tensor *none = pf_cross_entropy(ctx, x, t, PF_REDUCTION_NONE);
    PF_ASSERT_SHAPE(none, 2);
    PF_ASSERT_VALUES(none, 1e-6, l0, l1);
    PF_ASSERT_VALUES(pf_cross_entropy(ctx, x, t, PF_REDUCTION_SUM), 1e-6, l0 + l1);
    pf_tensor *mean = pf_cross_entropy(ctx, x, t, PF_REDUCTION_MEAN);
    PF_ASSERT_SHAPE(mean);
    PF_ASSERT_VALUES(mean, 1e-6, (l0 + l1) / 2);
    /* d mean / dx = (softmax - onehot) / N */
    PF_CHECK(pf_backward(mean));
    double z = exp(1) + exp(2) + exp(3);
    PF_ASSERT_VALUES(x->grad, 1e-6, exp(1) / z / 2, exp(2) / z / 2, (exp(3) / z - 1) / 2, (1 / 3.0 - 1) / 2,
                     1 / 6.0, 1 / 6.0);
}

static void test_cross_entropy_large_logits(void **state)
{
    pf_ctx *ctx = *state;
    /* exp(1e4) overflows any float: the maximum must be subtracted first. */
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1e4f, 0, -1e4f, -1e4f, 1e4f, 1e4f}, PF_DIMS(2, 3)),
                                    true);
    pf_tensor *t = pf_from_i64(ctx, (int64_t[]){0, 0}, PF_DIMS(2));
    pf_tensor *none = pf_cross_entropy(ctx, x, t, PF_REDUCTION_NONE);
    PF_ASSERT_VALUES(none, 1e-3, 0, 2e4 + log(2));
    PF_CHECK(pf_backward(pf_sum(ctx, none)));
    PF_ASSERT_VALUES(x->grad, 1e-6, 0, 0, 0, -1, 0.5, 0.5);

    pf_golden g = pf_golden_load(ctx, "loss_cross_entropy");
    pf_tensor *xl = input(ctx, &g, "large", "logits");
    pf_tensor *out = pf_cross_entropy(ctx, xl, golden(&g, "large", "target"), PF_REDUCTION_NONE);
    double v[4];
    PF_CHECK(pf_copy_to_f64(out, v));
    for (int i = 0; i < 4; i++)
        PF_CHECK(isfinite(v[i]));
    PF_ASSERT_GOLDEN(out, golden(&g, "large", "out"));
    PF_CHECK(pf_backward_with(out, golden(&g, "large", "gout")));
    PF_ASSERT_GOLDEN(xl->grad, golden(&g, "large", "grad_logits"));
}

static void test_cross_entropy_golden_and_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "loss_cross_entropy");
    pf_tensor *target = pf_from_i64(ctx, (int64_t[]){0, 3, 3, 1, 2}, PF_DIMS(5));
    for (int r = 0; r < 3; r++) {
        check_golden(ctx, &g, REDUCTION_NAMES[r], "logits", REDUCTIONS[r], cross_entropy_fn, false);
        loss_arg arg = {cross_entropy_fn, REDUCTIONS[r], target};
        PF_GRADCHECK(class_loss, &arg, pf_test_rand64(ctx, 3 + r, -3, 3, PF_DIMS(5, 4)));
    }
    check_golden(ctx, &g, "f64", "logits", PF_REDUCTION_MEAN, cross_entropy_fn, false);
}

static void test_cross_entropy_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_zeros(ctx, PF_DIMS(2, 3));
    PF_CHECK(pf_cross_entropy(ctx, x, pf_from_i64(ctx, (int64_t[]){0, 5}, PF_DIMS(2)), PF_REDUCTION_MEAN) == NULL);
    PF_ASSERT_ERROR("pf_cross_entropy: target[1] = 5 is out of range for 3 classes (expected 0..2)");
    PF_CHECK(pf_cross_entropy(ctx, x, pf_from_i64(ctx, (int64_t[]){-1, 0}, PF_DIMS(2)), PF_REDUCTION_NONE) ==
             NULL);
    PF_ASSERT_ERROR("target[0] = -1 is out of range for 3 classes");
    PF_CHECK(pf_cross_entropy(ctx, x, pf_zeros(ctx, PF_DIMS(2)), PF_REDUCTION_MEAN) == NULL);
    PF_ASSERT_ERROR("pf_cross_entropy: target must hold int64 class indices, got float32");
    PF_CHECK(pf_cross_entropy(ctx, x, pf_from_i64(ctx, (int64_t[]){0, 1, 2}, PF_DIMS(3)), PF_REDUCTION_MEAN) ==
             NULL);
    PF_ASSERT_ERROR("pf_cross_entropy: input [2,3] and target [3]: target must be [2]");
    PF_CHECK(pf_cross_entropy(ctx, pf_zeros(ctx, PF_DIMS(2, 3, 4)), pf_from_i64(ctx, (int64_t[]){0, 1}, PF_DIMS(2)),
                              PF_REDUCTION_MEAN) == NULL);
    PF_ASSERT_ERROR("pf_cross_entropy: input [2,3,4] must be [N, C]");
    PF_CHECK(pf_cross_entropy(ctx, x, pf_from_i64(ctx, (int64_t[]){0, 1}, PF_DIMS(2)), (pf_reduction)7) == NULL);
    PF_ASSERT_ERROR("pf_cross_entropy: unknown reduction 7");
    PF_CHECK(pf_cross_entropy(ctx, x, NULL, PF_REDUCTION_MEAN) == NULL);
    PF_ASSERT_ERROR("NULL tensor");
}

/* The kernels split their work by row: the same bits with 1 and 3 threads,
 * on logits large enough for OpenMP to start. */
static void test_cross_entropy_thread_count_independent(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(4);
    pf_tensor *x = pf_requires_grad(pf_mul_scalar(ctx, pf_randn(ctx, PF_DIMS(512, 100)), 5), true);
    pf_tensor *t = pf_randint(ctx, 0, 100, PF_DIMS(512));
    int threads = pf_get_num_threads();
    pf_tensor *loss[2], *grad[2];
    for (int k = 0; k < 2; k++) {
        pf_set_num_threads(k == 0 ? 1 : 3);
        loss[k] = pf_cross_entropy(ctx, x, t, PF_REDUCTION_NONE);
        PF_CHECK(pf_grad(ctx, pf_sum(ctx, loss[k]), 1, &x, &grad[k]));
    }
    pf_set_num_threads(threads);
    PF_ASSERT_CLOSE(loss[0], loss[1], 0, 0);
    PF_ASSERT_CLOSE(grad[0], grad[1], 0, 0);
}

/* ---- NLL ----------------------------------------------------------------------- */

static void test_nll_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *lp = pf_requires_grad(pf_from_f32(ctx, (float[]){-1, -2, -3, -0.5f, -4, -5}, PF_DIMS(3, 2)), true);
    pf_tensor *t = pf_from_i64(ctx, (int64_t[]){1, 0, 1}, PF_DIMS(3));
    pf_tensor *none = pf_nll_loss(ctx, lp, t, PF_REDUCTION_NONE);
    PF_ASSERT_SHAPE(none, 3);
    PF_ASSERT_VALUES(none, 1e-7, 2, 3, 5);
    PF_ASSERT_VALUES(pf_nll_loss(ctx, lp, t, PF_REDUCTION_SUM), 1e-6, 10);
    pf_tensor *mean = pf_nll_loss(ctx, lp, t, PF_REDUCTION_MEAN);
    PF_ASSERT_VALUES(mean, 1e-6, 10 / 3.0);
    PF_CHECK(pf_backward(mean));
    PF_ASSERT_VALUES(lp->grad, 1e-7, 0, -1 / 3.0, -1 / 3.0, 0, 0, -1 / 3.0);
    /* nll_loss(log_softmax(x)) is cross_entropy(x). */
    pf_tensor *x = pf_randn(ctx, PF_DIMS(3, 2));
    PF_ASSERT_CLOSE(pf_nll_loss(ctx, pf_log_softmax(ctx, x, 1), t, PF_REDUCTION_NONE),
                    pf_cross_entropy(ctx, x, t, PF_REDUCTION_NONE), 1e-6, 1e-6);
}

static void test_nll_golden_and_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "loss_nll");
    pf_tensor *target = pf_from_i64(ctx, (int64_t[]){2, 0, 2, 1}, PF_DIMS(4));
    for (int r = 0; r < 3; r++) {
        check_golden(ctx, &g, REDUCTION_NAMES[r], "logp", REDUCTIONS[r], nll_fn, false);
        loss_arg arg = {nll_fn, REDUCTIONS[r], target};
        PF_GRADCHECK(class_loss, &arg, pf_test_rand64(ctx, 6 + r, -3, 0, PF_DIMS(4, 3)));
    }
}

static void test_nll_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *lp = pf_zeros(ctx, PF_DIMS(2, 3));
    PF_CHECK(pf_nll_loss(ctx, lp, pf_from_i64(ctx, (int64_t[]){3, 0}, PF_DIMS(2)), PF_REDUCTION_MEAN) == NULL);
    PF_ASSERT_ERROR("pf_nll_loss: input [2,3]: bad target (pf_gather: index 3 is out of range for a dimension of "
                    "size 3)");
    PF_CHECK(pf_nll_loss(ctx, lp, pf_zeros(ctx, PF_DIMS(2)), PF_REDUCTION_MEAN) == NULL);
    PF_ASSERT_ERROR("pf_nll_loss: target must hold int64 class indices, got float32");
    PF_CHECK(pf_nll_loss(ctx, lp, pf_from_i64(ctx, (int64_t[]){0}, PF_DIMS(1)), PF_REDUCTION_SUM) == NULL);
    PF_ASSERT_ERROR("pf_nll_loss: input [2,3] and target [1]: target must be [2]");
    PF_CHECK(pf_nll_loss(ctx, pf_zeros(ctx, PF_DIMS(3)), pf_from_i64(ctx, (int64_t[]){0}, PF_DIMS(1)),
                         PF_REDUCTION_SUM) == NULL);
    PF_ASSERT_ERROR("pf_nll_loss: input [3] must be [N, C]");
}

/* ---- BCE ----------------------------------------------------------------------- */

static void test_bce_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *p = pf_from_f32(ctx, (float[]){0.5f, 0.8f, 0.25f}, PF_DIMS(3));
    pf_tensor *t = pf_from_f32(ctx, (float[]){1, 0, 0.5f}, PF_DIMS(3));
    double l2 = -(0.5 * log(0.25) + 0.5 * log(0.75));
    PF_ASSERT_VALUES(pf_bce_loss(ctx, p, t, PF_REDUCTION_NONE), 1e-6, log(2), -log(0.2), l2);
    PF_ASSERT_VALUES(pf_bce_loss(ctx, p, t, PF_REDUCTION_SUM), 1e-6, log(2) - log(0.2) + l2);
    PF_ASSERT_VALUES(pf_bce_loss(ctx, p, t, PF_REDUCTION_MEAN), 1e-6, (log(2) - log(0.2) + l2) / 3);
}

static void test_bce_clamped_at_0_and_1(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "loss_bce");
    pf_tensor *p = input(ctx, &g, "edge", "prob");
    pf_tensor *out = pf_bce_loss(ctx, p, golden(&g, "edge", "target"), PF_REDUCTION_NONE);
    /* prob 0 0 1 1 against target 0 0 1 1 ... : log 0 is clamped at -100. */
    PF_ASSERT_VALUES(pf_narrow(ctx, out, 0, 0, 4), 0, 0, 100, 100, 0);
    PF_ASSERT_GOLDEN(out, golden(&g, "edge", "out"));
    /* PyTorch's gradient there: (p - t) / max(p (1-p), 1e-12), finite. */
    PF_CHECK(pf_backward_with(out, golden(&g, "edge", "gout")));
    double grad[6];
    PF_CHECK(pf_copy_to_f64(p->grad, grad));
    for (int i = 0; i < 6; i++)
        PF_CHECK(isfinite(grad[i]));
    PF_ASSERT_GOLDEN(p->grad, golden(&g, "edge", "grad_prob"));
    /* The entries not on the edge, on their own scale. */
    PF_ASSERT_GOLDEN(pf_narrow(ctx, p->grad, 0, 4, 2), pf_narrow(ctx, golden(&g, "edge", "grad_prob"), 0, 4, 2));
    /* The target's gradient is that of the clamped forward: -(-100 - 0). */
    pf_tensor *p0 = pf_from_f32(ctx, (float[]){0}, PF_DIMS(1));
    pf_tensor *t0 = pf_requires_grad(pf_from_f32(ctx, (float[]){1}, PF_DIMS(1)), true);
    PF_CHECK(pf_backward(pf_bce_loss(ctx, p0, t0, PF_REDUCTION_SUM)));
    PF_ASSERT_VALUES(t0->grad, 1e-4, 100);
}

static void test_bce_golden_and_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "loss_bce");
    for (int r = 0; r < 3; r++) {
        check_golden(ctx, &g, REDUCTION_NAMES[r], "prob", REDUCTIONS[r], pf_bce_loss, true);
        loss_arg arg = {pf_bce_loss, REDUCTIONS[r], NULL};
        PF_GRADCHECK(pair_loss, &arg, pf_test_rand64(ctx, 9, 0.05, 0.95, PF_DIMS(3, 4)),
                     pf_test_rand64(ctx, 10, 0, 1, PF_DIMS(3, 4)));
    }
}

static void test_bce_rejects_values_outside_0_1(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_zeros(ctx, PF_DIMS(2, 2));
    PF_CHECK(pf_bce_loss(ctx, pf_from_f32(ctx, (float[]){0.5f, 1.5f, 0, 1}, PF_DIMS(2, 2)), t, PF_REDUCTION_MEAN) ==
             NULL);
    PF_ASSERT_ERROR("pf_bce_loss: prob [2,2]: values must lie in [0, 1], found 1.5");
    PF_CHECK(pf_bce_loss(ctx, pf_from_f32(ctx, (float[]){0.5f, -2, 0, 1}, PF_DIMS(2, 2)), t, PF_REDUCTION_MEAN) ==
             NULL);
    PF_ASSERT_ERROR("found -2");
    /* The bounds themselves are fine, and so is an empty batch. */
    PF_CHECK(pf_bce_loss(ctx, pf_from_f32(ctx, (float[]){0, 1, 0, 1}, PF_DIMS(2, 2)), t, PF_REDUCTION_MEAN) != NULL);
    PF_ASSERT_SHAPE(pf_bce_loss(ctx, pf_zeros(ctx, PF_DIMS(0, 3)), pf_zeros(ctx, PF_DIMS(0, 3)), PF_REDUCTION_NONE),
                    0, 3);
}

/* ---- BCE with logits ------------------------------------------------------------- */

static void test_bce_with_logits_values(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){0, 2, -3, 200, -200}, PF_DIMS(5)), true);
    pf_tensor *t = pf_from_f32(ctx, (float[]){0.5f, 1, 0, 0, 0}, PF_DIMS(5));
    /* softplus(x) - x t; exp(200) overflows: the stable form does not. */
    PF_ASSERT_VALUES(pf_bce_with_logits(ctx, x, t, PF_REDUCTION_NONE), 1e-5, log(2), log1p(exp(-2)),
                     log1p(exp(-3)), 200, 0);
    pf_tensor *sum = pf_bce_with_logits(ctx, x, t, PF_REDUCTION_SUM);
    PF_ASSERT_VALUES(sum, 1e-4, log(2) + log1p(exp(-2)) + log1p(exp(-3)) + 200);
    /* Its gradient is sigmoid(x) - t, also at x = 0. */
    PF_CHECK(pf_backward(sum));
    PF_ASSERT_VALUES(x->grad, 1e-6, 0, 1 / (1 + exp(-2)) - 1, 1 / (1 + exp(3)), 1, 0);
    /* It agrees with bce(sigmoid(x)) where that is accurate. */
    pf_tensor *y = pf_randn(ctx, PF_DIMS(10)), *u = pf_rand(ctx, PF_DIMS(10));
    PF_ASSERT_CLOSE(pf_bce_with_logits(ctx, y, u, PF_REDUCTION_NONE),
                    pf_bce_loss(ctx, pf_sigmoid(ctx, y), u, PF_REDUCTION_NONE), 1e-5, 1e-6);
}

static void test_bce_with_logits_golden_and_gradcheck(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "loss_bce_with_logits");
    for (int r = 0; r < 3; r++) {
        check_golden(ctx, &g, REDUCTION_NAMES[r], "logits", REDUCTIONS[r], pf_bce_with_logits, true);
        loss_arg arg = {pf_bce_with_logits, REDUCTIONS[r], NULL};
        PF_GRADCHECK(pair_loss, &arg, pf_test_rand64(ctx, 11, -4, 4, PF_DIMS(3, 4)),
                     pf_test_rand64(ctx, 12, 0, 1, PF_DIMS(3, 4)));
    }
    check_golden(ctx, &g, "edge", "logits", PF_REDUCTION_NONE, pf_bce_with_logits, true);
}

/* ---- Errors shared by the elementwise losses ----------------------------------------- */

static void test_elementwise_loss_errors(void **state)
{
    pf_ctx *ctx = *state;
    const loss_fn fns[3] = {pf_mse_loss, pf_bce_loss, pf_bce_with_logits};
    const char *names[3] = {"pf_mse_loss", "pf_bce_loss", "pf_bce_with_logits"};
    pf_tensor *a = pf_full(ctx, 0.5, PF_DIMS(2, 3)), *b = pf_full(ctx, 0.5, PF_DIMS(3, 2));
    char want[256];
    for (int i = 0; i < 3; i++) {
        PF_CHECK(fns[i](ctx, a, b, PF_REDUCTION_MEAN) == NULL);
        snprintf(want, sizeof want, "%s: input [2,3] and target [3,2] must have the same shape", names[i]);
        PF_ASSERT_ERROR(want);
        PF_CHECK(fns[i](ctx, a, pf_to_dtype(ctx, a, PF_F64), PF_REDUCTION_MEAN) == NULL);
        snprintf(want, sizeof want, "%s: dtypes differ (float32 and float64)", names[i]);
        PF_ASSERT_ERROR(want);
        PF_CHECK(fns[i](ctx, a, pf_to_dtype(ctx, a, PF_I64), PF_REDUCTION_MEAN) == NULL);
        snprintf(want, sizeof want, "%s: expected a float32 or float64 tensor, got int64", names[i]);
        PF_ASSERT_ERROR(want);
        PF_CHECK(fns[i](ctx, a, a, (pf_reduction)-1) == NULL);
        snprintf(want, sizeof want, "%s: unknown reduction -1", names[i]);
        PF_ASSERT_ERROR(want);
        PF_CHECK(fns[i](ctx, NULL, a, PF_REDUCTION_MEAN) == NULL);
        PF_ASSERT_ERROR("NULL tensor");
        PF_CHECK(fns[i](NULL, a, a, PF_REDUCTION_MEAN) == NULL);
        PF_ASSERT_ERROR("NULL context");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mse_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_mse_golden_and_gradcheck, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_cross_entropy_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_cross_entropy_large_logits, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_cross_entropy_golden_and_gradcheck, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_cross_entropy_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_cross_entropy_thread_count_independent, pf_test_setup,
                                        pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_nll_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_nll_golden_and_gradcheck, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_nll_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bce_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bce_clamped_at_0_and_1, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bce_golden_and_gradcheck, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bce_rejects_values_outside_0_1, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bce_with_logits_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bce_with_logits_golden_and_gradcheck, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_elementwise_loss_errors, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
