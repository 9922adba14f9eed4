/*
 * test_optim.c — section 13 of profond.h: SGD (momentum, dampening,
 * Nesterov, weight decay), Adam and AdamW, and the learning-rate schedules,
 * against torch.optim (golden files tests/golden/optim_*.safetensors written
 * by tests/golden/gen_optim.py); then parameters without gradients, zero_grad,
 * where the state lives, thread-count independence and the error cases.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "optim/optim.h"
#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

#define GOLDEN_STEPS 5
#define GOLDEN_PARAMS 2

/* ---- golden optimizer runs ---------------------------------------------- */

typedef enum { SGD, ADAM, ADAMW } optim_kind;

typedef struct optim_case {
    const char *file;         /* optim_<case> */
    optim_kind kind;
    pf_sgd_opts sgd;
    pf_adam_opts adam;
    bool one_cycle;           /* OneCycleLR(max_lr, total_steps=5, pct_start) before each step */
    double max_lr, pct_start;
} optim_case;

static pf_optim *make_optim(pf_ctx *ctx, const optim_case *c, pf_tensor **params)
{
    switch (c->kind) {
    case SGD:
        return pf_optim_sgd(ctx, GOLDEN_PARAMS, params, c->sgd);
    case ADAM:
        return pf_optim_adam(ctx, GOLDEN_PARAMS, params, c->adam);
    case ADAMW:
        return pf_optim_adamw(ctx, GOLDEN_PARAMS, params, c->adam);
    }
    return NULL;
}

/* The training loop of gen_optim.py: before step t, zero_grad, then for each
 * parameter i that has a stored gradient G, backward of sum(p_i * G) (whose
 * gradient is G); step; compare the parameters with PyTorch's. */
static void run_golden(pf_ctx *ctx, const optim_case *c)
{
    pf_golden g = pf_golden_load(ctx, c->file);
    pf_ctx *step_ctx = pf_ctx_new(0);
    PF_CHECK(step_ctx != NULL);
    pf_tensor *params[GOLDEN_PARAMS];
    char name[64];
    for (int i = 0; i < GOLDEN_PARAMS; i++) {
        snprintf(name, sizeof name, "p%d.init", i);
        params[i] = pf_requires_grad(pf_clone(ctx, pf_golden_get(&g, name)), true);
        PF_CHECK(params[i] != NULL);
    }
    pf_optim *opt = make_optim(ctx, c, params);
    PF_CHECK(opt != NULL);
    pf_schedule sched = {.kind = PF_SCHEDULE_ONE_CYCLE, .lr = c->max_lr, .t_max = GOLDEN_STEPS,
                         .pct_start = c->pct_start};
    for (int t = 0; t < GOLDEN_STEPS; t++) {
        pf_ctx_reset(step_ctx);
        pf_optim_zero_grad(opt);
        if (c->one_cycle)
            pf_schedule_apply(&sched, opt, t);
        for (int i = 0; i < GOLDEN_PARAMS; i++) {
            snprintf(name, sizeof name, "step%d.grad%d", t, i);
            pf_tensor *grad = pf_named_find(g.tensors, g.count, name);
            if (grad)
                PF_CHECK(pf_backward(pf_sum(step_ctx, pf_mul(step_ctx, params[i], grad))));
        }
        PF_CHECK(pf_optim_step(opt));
        for (int i = 0; i < GOLDEN_PARAMS; i++) {
            snprintf(name, sizeof name, "step%d.p%d", t, i);
            PF_ASSERT_GOLDEN(params[i], pf_golden_get(&g, name));
        }
    }
    pf_ctx_free(step_ctx);
}

static void test_sgd_plain(void **state)
{
    run_golden(*state, &(optim_case){"optim_sgd_plain", SGD, .sgd = {.lr = 0.1}});
}

static void test_sgd_momentum(void **state)
{
    run_golden(*state, &(optim_case){"optim_sgd_momentum", SGD, .sgd = {.lr = 0.1, .momentum = 0.9}});
}

static void test_sgd_dampening(void **state)
{
    run_golden(*state,
               &(optim_case){"optim_sgd_dampening", SGD, .sgd = {.lr = 0.1, .momentum = 0.9, .dampening = 0.1}});
}

static void test_sgd_nesterov(void **state)
{
    run_golden(*state,
               &(optim_case){"optim_sgd_nesterov", SGD, .sgd = {.lr = 0.1, .momentum = 0.9, .nesterov = true}});
}

/* Parameter 1 has no gradient at steps 0 and 1. */
static void test_sgd_weight_decay(void **state)
{
    run_golden(*state, &(optim_case){"optim_sgd_weight_decay", SGD,
                                     .sgd = {.lr = 0.1, .momentum = 0.5, .weight_decay = 0.1}});
}

static void test_adam(void **state)
{
    run_golden(*state, &(optim_case){"optim_adam", ADAM, .adam = {.lr = 0.01}});
}

/* Parameter 1 has no gradient at step 0, parameter 0 a zero one at step 1. */
static void test_adam_weight_decay(void **state)
{
    run_golden(*state, &(optim_case){"optim_adam_weight_decay", ADAM,
                                     .adam = {.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6,
                                              .weight_decay = 0.1}});
}

static void test_adamw(void **state)
{
    run_golden(*state, &(optim_case){"optim_adamw", ADAMW, .adam = {.lr = 0.01, .weight_decay = 0.01}});
}

static void test_adamw_f64(void **state)
{
    run_golden(*state, &(optim_case){"optim_adamw_f64", ADAMW, .adam = {.lr = 0.05, .weight_decay = 0.1}});
}

static void test_sgd_one_cycle(void **state)
{
    run_golden(*state, &(optim_case){"optim_sgd_one_cycle", SGD, .sgd = {.lr = 0.1, .momentum = 0.9},
                                     .one_cycle = true, .max_lr = 0.2});
}

static void test_adam_one_cycle(void **state)
{
    run_golden(*state, &(optim_case){"optim_adam_one_cycle", ADAM, .adam = {.lr = 0.01}, .one_cycle = true,
                                     .max_lr = 0.05, .pct_start = 0.4});
}

/* ---- schedules against torch.optim.lr_scheduler -------------------------- */

#define SCHEDULE_STEPS 20

/* pf_schedule_lr for steps 0..19 against a golden sequence, and the lr that
 * pf_schedule_apply gives an optimizer. */
static void check_lr_sequence(pf_ctx *ctx, const pf_golden *g, const char *name, const pf_schedule *s,
                              pf_optim *opt)
{
    pf_tensor *lr = pf_zeros(ctx, PF_DIMS(SCHEDULE_STEPS));
    pf_tensor *applied = pf_zeros(ctx, PF_DIMS(SCHEDULE_STEPS));
    for (int64_t t = 0; t < SCHEDULE_STEPS; t++) {
        PF_CHECK(pf_set(lr, &t, pf_schedule_lr(s, t)));
        pf_schedule_apply(s, opt, t);
        PF_CHECK(pf_set(applied, &t, pf_optim_get_lr(opt)));
    }
    PF_ASSERT_GOLDEN(lr, pf_golden_get(g, name));
    PF_ASSERT_GOLDEN(applied, pf_golden_get(g, name));
}

static void test_schedules_step_and_cosine(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "optim_schedules");
    pf_tensor *p = pf_requires_grad(pf_zeros(ctx, PF_DIMS(1)), true);
    pf_optim *opt = pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1});
    PF_CHECK(opt != NULL);
    pf_schedule step = {.kind = PF_SCHEDULE_STEP, .lr = 0.1, .step_size = 3, .gamma = 0.5};
    check_lr_sequence(ctx, &g, "step.lr", &step, opt);
    pf_schedule cosine = {.kind = PF_SCHEDULE_COSINE, .lr = 0.1, .t_max = 10, .eta_min = 0.01};
    check_lr_sequence(ctx, &g, "cosine.lr", &cosine, opt);

    pf_schedule constant = {.kind = PF_SCHEDULE_CONSTANT, .lr = 0.25};
    assert_true(pf_schedule_lr(&constant, 0) == 0.25);
    assert_true(pf_schedule_lr(&constant, 1000) == 0.25);
    pf_schedule_apply(&constant, opt, 7);
    assert_true(pf_optim_get_lr(opt) == 0.25);
}

/* One-cycle's momentum sequence: SGD's momentum, or Adam's beta1. */
static void check_one_cycle(pf_ctx *ctx, const pf_golden *g, const char *prefix, const char *momentum_name,
                            const pf_schedule *s, pf_optim *opt)
{
    char name[64];
    snprintf(name, sizeof name, "%s.lr", prefix);
    check_lr_sequence(ctx, g, name, s, opt);
    pf_tensor *momentum = pf_zeros(ctx, PF_DIMS(SCHEDULE_STEPS));
    for (int64_t t = 0; t < SCHEDULE_STEPS; t++) {
        pf_schedule_apply(s, opt, t);
        PF_CHECK(pf_set(momentum, &t, opt->kind == PF_OPTIM_SGD ? opt->sgd.momentum : opt->adam.beta1));
    }
    snprintf(name, sizeof name, "%s.%s", prefix, momentum_name);
    PF_ASSERT_GOLDEN(momentum, pf_golden_get(g, name));
}

static void test_schedule_one_cycle(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "optim_schedules");
    pf_tensor *p = pf_requires_grad(pf_zeros(ctx, PF_DIMS(1)), true);

    pf_optim *sgd = pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1, .momentum = 0.9});
    PF_CHECK(sgd != NULL);
    pf_schedule defaults = {.kind = PF_SCHEDULE_ONE_CYCLE, .lr = 0.1, .t_max = SCHEDULE_STEPS};
    check_one_cycle(ctx, &g, "onecycle_sgd", "momentum", &defaults, sgd);

    pf_optim *adam = pf_optim_adam(ctx, 1, &p, (pf_adam_opts){.lr = 0.1});
    PF_CHECK(adam != NULL);
    pf_schedule custom = {.kind = PF_SCHEDULE_ONE_CYCLE, .lr = 0.01, .t_max = SCHEDULE_STEPS, .pct_start = 0.25,
                          .div_factor = 10, .final_div_factor = 100, .base_momentum = 0.8, .max_momentum = 0.9};
    check_one_cycle(ctx, &g, "onecycle_adam", "beta1", &custom, adam);

    /* PyTorch allows one more step than total_steps (the scheduler's last
     * step() call), not two. */
    assert_true(isfinite(pf_schedule_lr(&defaults, SCHEDULE_STEPS)));
    assert_true(isnan(pf_schedule_lr(&defaults, SCHEDULE_STEPS + 1)));
    PF_ASSERT_ERROR("past the total number of steps");
}

/* ---- behaviour ----------------------------------------------------------- */

static pf_tensor *param(pf_ctx *ctx, float a, float b, float c)
{
    return pf_requires_grad(pf_from_f32(ctx, (float[]){a, b, c}, PF_DIMS(3)), true);
}

/* Gives p the gradient g by backward of sum(p * g). */
static void give_grad(pf_ctx *ctx, pf_tensor *p, float a, float b, float c)
{
    pf_tensor *g = pf_from_f32(ctx, (float[]){a, b, c}, PF_DIMS(3));
    PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, p, g))));
}

static void test_params_without_grad_untouched(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *with = param(ctx, 1, 2, 3), *without = param(ctx, 4, 5, 6);
    pf_tensor *both[] = {with, without};
    pf_optim *opts[] = {
        pf_optim_sgd(ctx, 2, both, (pf_sgd_opts){.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1}),
        pf_optim_adam(ctx, 2, both, (pf_adam_opts){.lr = 0.1, .weight_decay = 0.1}),
        pf_optim_adamw(ctx, 2, both, (pf_adam_opts){.lr = 0.1, .weight_decay = 0.1}),
    };
    give_grad(ctx, with, 1, -1, 0.5f);
    for (int k = 0; k < 3; k++) {
        PF_CHECK(opts[k] != NULL);
        for (int s = 0; s < 3; s++)
            PF_CHECK(pf_optim_step(opts[k]));
        PF_ASSERT_VALUES(without, 0, 4, 5, 6);
        assert_null(without->grad);
        /* no state either, as in PyTorch */
        assert_null(opts[k]->slots[1].momentum_buffer);
        assert_null(opts[k]->slots[1].exp_avg);
        assert_int_equal(opts[k]->slots[1].steps, 0);
        assert_int_equal(opts[k]->slots[0].steps, 3);
    }
    /* the parameter with a gradient did move: 9 steps, none of them away */
    float *w = pf_data_f32(with);
    assert_true(w[0] < 1 && w[1] > 2 && w[2] < 3);
}

/* A plain SGD step is p - lr * grad, a number we can compute by hand. */
static void test_sgd_by_hand(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *p = param(ctx, 1, 2, 3);
    pf_optim *opt = pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.5});
    give_grad(ctx, p, 2, -4, 0);
    PF_CHECK(pf_optim_step(opt));
    PF_ASSERT_VALUES(p, 0, 0, 4, 3);
    /* first step with momentum: the buffer is the gradient itself */
    pf_tensor *q = param(ctx, 1, 2, 3);
    pf_optim *mom = pf_optim_sgd(ctx, 1, &q, (pf_sgd_opts){.lr = 0.5, .momentum = 0.9, .dampening = 0.5});
    give_grad(ctx, q, 2, -4, 0);
    PF_CHECK(pf_optim_step(mom));
    PF_ASSERT_VALUES(q, 0, 0, 4, 3);
    PF_ASSERT_VALUES(mom->slots[0].momentum_buffer, 0, 2, -4, 0);
    /* second: buf = 0.9 * buf + 0.5 * g */
    PF_CHECK(pf_optim_step(mom));
    PF_ASSERT_VALUES(mom->slots[0].momentum_buffer, 1e-6, 2.8, -5.6, 0);
    PF_ASSERT_VALUES(q, 1e-6, -1.4, 6.8, 3);
}

static void test_zero_grad(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = param(ctx, 1, 2, 3), *b = param(ctx, 4, 5, 6), *c = param(ctx, 7, 8, 9);
    pf_optim *opt = pf_optim_sgd(ctx, 3, (pf_tensor *[]){a, b, c}, (pf_sgd_opts){.lr = 0.1});
    give_grad(ctx, a, 1, 2, 3);
    give_grad(ctx, b, -1, 0.5f, 7);
    pf_tensor *grad_a = a->grad;
    PF_ASSERT_VALUES(a->grad, 0, 1, 2, 3);
    pf_optim_zero_grad(opt);
    PF_ASSERT_VALUES(a->grad, 0, 0, 0, 0);
    PF_ASSERT_VALUES(b->grad, 0, 0, 0, 0);
    assert_ptr_equal(a->grad, grad_a); /* the memory is kept */
    assert_null(c->grad);
    /* a step with zero gradients does not move plain SGD */
    PF_CHECK(pf_optim_step(opt));
    PF_ASSERT_VALUES(a, 0, 1, 2, 3);
    /* and the next backward starts from zero */
    give_grad(ctx, a, 5, 5, 5);
    PF_ASSERT_VALUES(a->grad, 0, 5, 5, 5);
}

/* State is allocated in the optimizer's context on the first step, zeroed,
 * and nothing more is allocated on later steps. */
static void test_state_lives_in_optimizer_context(void **state)
{
    pf_ctx *ctx = *state;
    pf_ctx *optim_ctx = pf_ctx_new(0);
    PF_CHECK(optim_ctx != NULL);
    pf_tensor *p = param(ctx, 1, 2, 3);
    pf_optim *opt = pf_optim_adam(optim_ctx, 1, &p, (pf_adam_opts){.lr = 0.1});
    PF_CHECK(opt != NULL);
    assert_null(opt->slots[0].exp_avg);
    size_t created = pf_ctx_get_stats(optim_ctx).used_bytes;
    give_grad(ctx, p, 1, 1, 1);
    PF_CHECK(pf_optim_step(opt));
    size_t after_first = pf_ctx_get_stats(optim_ctx).used_bytes;
    assert_true(after_first > created);
    assert_ptr_equal(opt->slots[0].exp_avg->ctx, optim_ctx);
    assert_ptr_equal(opt->slots[0].exp_avg_sq->ctx, optim_ctx);
    /* moments after one step from zero: m = 0.1 g, v = 0.001 g^2 */
    PF_ASSERT_VALUES(opt->slots[0].exp_avg, 1e-7, 0.1, 0.1, 0.1);
    PF_ASSERT_VALUES(opt->slots[0].exp_avg_sq, 1e-9, 0.001, 0.001, 0.001);
    /* bias-corrected first Adam step moves each element by lr (eps aside) */
    PF_ASSERT_VALUES(p, 1e-6, 0.9, 1.9, 2.9);
    for (int s = 0; s < 3; s++)
        PF_CHECK(pf_optim_step(opt));
    assert_true(pf_ctx_get_stats(optim_ctx).used_bytes == after_first);
    pf_ctx_free(optim_ctx);
}

/* A parameter large enough for the kernels to run on several threads gives
 * the same bits with one thread. */
static void test_same_result_any_thread_count(void **state)
{
    pf_ctx *ctx = *state;
    int64_t n = 200000;
    int saved = pf_get_num_threads();
    float *results[2];
    for (int run = 0; run < 2; run++) {
        pf_set_num_threads(run == 0 ? 1 : 4);
        pf_rng rng;
        pf_rng_seed(&rng, 42);
        pf_tensor *p = pf_requires_grad(pf_empty(ctx, PF_F32, 1, &n), true);
        pf_tensor *g = pf_empty(ctx, PF_F32, 1, &n);
        float *pd = pf_data_f32(p), *gd = pf_data_f32(g);
        PF_CHECK(pd && gd);
        for (int64_t i = 0; i < n; i++) {
            pd[i] = (float)pf_rng_normal(&rng);
            gd[i] = (float)pf_rng_normal(&rng);
        }
        PF_CHECK(pf_backward(pf_sum(ctx, pf_mul(ctx, p, g))));
        pf_optim *sgd = pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1, .momentum = 0.9, .nesterov = true});
        pf_optim *adam = pf_optim_adamw(ctx, 1, &p, (pf_adam_opts){.lr = 0.01, .weight_decay = 0.01});
        for (int s = 0; s < 2; s++) {
            PF_CHECK(pf_optim_step(sgd));
            PF_CHECK(pf_optim_step(adam));
        }
        results[run] = pd;
    }
    pf_set_num_threads(saved);
    assert_memory_equal(results[0], results[1], sizeof(float) * (size_t)n);
}

/* ---- errors -------------------------------------------------------------- */

static void test_creation_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *p = param(ctx, 1, 2, 3);
    pf_sgd_opts sgd = {.lr = 0.1};
    pf_adam_opts adam = {.lr = 0.1};

    assert_null(pf_optim_sgd(NULL, 1, &p, sgd));
    PF_ASSERT_ERROR("pf_optim_sgd: NULL context");
    assert_null(pf_optim_sgd(ctx, -1, &p, sgd));
    PF_ASSERT_ERROR("pf_optim_sgd: negative number of parameters");
    assert_null(pf_optim_sgd(ctx, 1, NULL, sgd));
    PF_ASSERT_ERROR("pf_optim_sgd: NULL parameter array");
    assert_null(pf_optim_adam(ctx, 2, (pf_tensor *[]){p, NULL}, adam));
    PF_ASSERT_ERROR("pf_optim_adam: parameter 1 is NULL");
    pf_tensor *ints = pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(2));
    assert_null(pf_optim_adamw(ctx, 1, &ints, adam));
    PF_ASSERT_ERROR("pf_optim_adamw: parameter 0 is int64");
    pf_tensor *matrix = pf_requires_grad(pf_zeros(ctx, PF_DIMS(2, 3)), true);
    pf_tensor *transposed = pf_transpose(ctx, matrix, 0, 1);
    assert_null(pf_optim_sgd(ctx, 1, &transposed, sgd));
    PF_ASSERT_ERROR("not contiguous");
    pf_tensor *computed = pf_mul(ctx, p, p);
    assert_null(pf_optim_sgd(ctx, 1, &computed, sgd));
    PF_ASSERT_ERROR("pf_optim_sgd: parameter 0 is not a leaf");

    assert_null(pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = -0.1}));
    PF_ASSERT_ERROR("pf_optim_sgd: invalid learning rate");
    assert_null(pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = NAN}));
    PF_ASSERT_ERROR("pf_optim_sgd: invalid learning rate");
    assert_null(pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1, .momentum = -0.5}));
    PF_ASSERT_ERROR("pf_optim_sgd: invalid momentum");
    assert_null(pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1, .weight_decay = -1}));
    PF_ASSERT_ERROR("pf_optim_sgd: invalid weight decay");
    assert_null(pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1, .nesterov = true}));
    PF_ASSERT_ERROR("pf_optim_sgd: Nesterov momentum requires");
    assert_null(pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}));
    PF_ASSERT_ERROR("pf_optim_sgd: Nesterov momentum requires");

    assert_null(pf_optim_adam(ctx, 1, &p, (pf_adam_opts){.lr = -1}));
    PF_ASSERT_ERROR("pf_optim_adam: invalid learning rate");
    assert_null(pf_optim_adam(ctx, 1, &p, (pf_adam_opts){.lr = 0.1, .beta1 = 1}));
    PF_ASSERT_ERROR("pf_optim_adam: invalid beta1");
    assert_null(pf_optim_adamw(ctx, 1, &p, (pf_adam_opts){.lr = 0.1, .beta1 = -0.1}));
    PF_ASSERT_ERROR("pf_optim_adamw: invalid beta1");
    assert_null(pf_optim_adamw(ctx, 1, &p, (pf_adam_opts){.lr = 0.1, .beta2 = 1.5}));
    PF_ASSERT_ERROR("pf_optim_adamw: invalid beta2");
    assert_null(pf_optim_adam(ctx, 1, &p, (pf_adam_opts){.lr = 0.1, .eps = -1e-8}));
    PF_ASSERT_ERROR("pf_optim_adam: invalid eps");
    assert_null(pf_optim_adam(ctx, 1, &p, (pf_adam_opts){.lr = 0.1, .weight_decay = -0.1}));
    PF_ASSERT_ERROR("pf_optim_adam: invalid weight decay");

    /* allowed: no parameters at all, lr 0, and zeros meaning the defaults */
    pf_optim *empty = pf_optim_sgd(ctx, 0, NULL, sgd);
    PF_CHECK(empty != NULL);
    PF_CHECK(pf_optim_step(empty));
    pf_optim *defaults = pf_optim_adam(ctx, 1, &p, (pf_adam_opts){0});
    PF_CHECK(defaults != NULL);
    assert_true(defaults->adam.beta1 == 0.9 && defaults->adam.beta2 == 0.999 && defaults->adam.eps == 1e-8);
    assert_true(pf_optim_get_lr(defaults) == 0);
}

static void test_step_errors_change_nothing(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *good = param(ctx, 1, 2, 3), *bad = param(ctx, 4, 5, 6);
    pf_optim *opt = pf_optim_sgd(ctx, 2, (pf_tensor *[]){good, bad}, (pf_sgd_opts){.lr = 0.1, .momentum = 0.9});
    PF_CHECK(opt != NULL);
    give_grad(ctx, good, 1, 1, 1);
    bad->grad = pf_zeros(ctx, PF_DIMS(2, 2));
    assert_false(pf_optim_step(opt));
    PF_ASSERT_ERROR("pf_optim_step: parameter 1 has shape [3] but its grad has shape [2,2]");
    PF_ASSERT_VALUES(good, 0, 1, 2, 3);
    assert_null(opt->slots[0].momentum_buffer);
    bad->grad = pf_to_dtype(ctx, pf_zeros(ctx, PF_DIMS(3)), PF_F64);
    assert_false(pf_optim_step(opt));
    PF_ASSERT_ERROR("pf_optim_step: parameter 1 is float32 but its grad is float64");
    PF_ASSERT_VALUES(good, 0, 1, 2, 3);
    bad->grad = NULL;
    PF_CHECK(pf_optim_step(opt));
    PF_ASSERT_VALUES(good, 1e-6, 0.9, 1.9, 2.9);

    assert_false(pf_optim_step(NULL));
    PF_ASSERT_ERROR("pf_optim_step: NULL optimizer");
    pf_optim_zero_grad(NULL);
    PF_ASSERT_ERROR("pf_optim_zero_grad: NULL optimizer");
    assert_true(isnan(pf_optim_get_lr(NULL)));
    PF_ASSERT_ERROR("pf_optim_get_lr: NULL optimizer");
    /* a failed constructor's NULL keeps the constructor's message */
    pf_optim *failed = pf_optim_sgd(ctx, 1, &good, (pf_sgd_opts){.lr = -1});
    assert_false(pf_optim_step(failed));
    PF_ASSERT_ERROR("pf_optim_sgd: invalid learning rate");
}

static void test_setter_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *p = param(ctx, 1, 2, 3);
    pf_optim *sgd = pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1});
    pf_optim *adam = pf_optim_adam(ctx, 1, &p, (pf_adam_opts){.lr = 0.1});
    pf_optim_set_lr(sgd, 0.5);
    assert_true(pf_optim_get_lr(sgd) == 0.5);
    pf_optim_set_lr(sgd, -1);
    PF_ASSERT_ERROR("pf_optim_set_lr: invalid learning rate");
    assert_true(pf_optim_get_lr(sgd) == 0.5);
    pf_optim_set_momentum(sgd, 0.7);
    assert_true(sgd->sgd.momentum == 0.7);
    pf_optim_set_momentum(sgd, -0.7);
    PF_ASSERT_ERROR("pf_optim_set_momentum: invalid momentum");
    pf_optim_set_momentum(adam, 0.5);
    assert_true(adam->adam.beta1 == 0.5);
    pf_optim_set_momentum(adam, 1.0);
    PF_ASSERT_ERROR("pf_optim_set_momentum: invalid beta1");
    assert_true(adam->adam.beta1 == 0.5);
    pf_optim_set_lr(NULL, 0.1);
    PF_ASSERT_ERROR("pf_optim_set_lr: NULL optimizer");
    pf_optim_set_momentum(NULL, 0.1);
    PF_ASSERT_ERROR("pf_optim_set_momentum: NULL optimizer");
}

static void test_schedule_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *p = param(ctx, 1, 2, 3);
    pf_optim *opt = pf_optim_sgd(ctx, 1, &p, (pf_sgd_opts){.lr = 0.1});

    assert_true(isnan(pf_schedule_lr(NULL, 0)));
    PF_ASSERT_ERROR("pf_schedule_lr: NULL schedule");
    pf_schedule constant = {.kind = PF_SCHEDULE_CONSTANT, .lr = 0.1};
    assert_true(isnan(pf_schedule_lr(&constant, -1)));
    PF_ASSERT_ERROR("pf_schedule_lr: negative step -1");
    pf_schedule step = {.kind = PF_SCHEDULE_STEP, .lr = 0.1, .gamma = 0.5};
    assert_true(isnan(pf_schedule_lr(&step, 3)));
    PF_ASSERT_ERROR("step_size > 0");
    pf_schedule cosine = {.kind = PF_SCHEDULE_COSINE, .lr = 0.1};
    assert_true(isnan(pf_schedule_lr(&cosine, 3)));
    PF_ASSERT_ERROR("t_max > 0");
    pf_schedule one_cycle = {.kind = PF_SCHEDULE_ONE_CYCLE, .lr = 0.1, .t_max = 10, .pct_start = 1.5};
    assert_true(isnan(pf_schedule_lr(&one_cycle, 3)));
    PF_ASSERT_ERROR("pct_start 1.5 is not in [0, 1]");
    pf_schedule negative = {.kind = PF_SCHEDULE_CONSTANT, .lr = -0.1};
    assert_true(isnan(pf_schedule_lr(&negative, 0)));
    PF_ASSERT_ERROR("invalid learning rate");

    /* apply leaves the optimizer alone when the schedule fails */
    pf_schedule past = {.kind = PF_SCHEDULE_ONE_CYCLE, .lr = 0.5, .t_max = 10};
    pf_schedule_apply(&past, opt, 11);
    PF_ASSERT_ERROR("past the total number of steps");
    assert_true(pf_optim_get_lr(opt) == 0.1);
    assert_true(opt->sgd.momentum == 0);
    pf_schedule_apply(&constant, NULL, 0);
    PF_ASSERT_ERROR("pf_schedule_apply: NULL optimizer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_sgd_plain),
        TEST(test_sgd_momentum),
        TEST(test_sgd_dampening),
        TEST(test_sgd_nesterov),
        TEST(test_sgd_weight_decay),
        TEST(test_adam),
        TEST(test_adam_weight_decay),
        TEST(test_adamw),
        TEST(test_adamw_f64),
        TEST(test_sgd_one_cycle),
        TEST(test_adam_one_cycle),
        TEST(test_schedules_step_and_cosine),
        TEST(test_schedule_one_cycle),
        TEST(test_params_without_grad_untouched),
        TEST(test_sgd_by_hand),
        TEST(test_zero_grad),
        TEST(test_state_lives_in_optimizer_context),
        TEST(test_same_result_any_thread_count),
        TEST(test_creation_errors),
        TEST(test_step_errors_change_nothing),
        TEST(test_setter_errors),
        TEST(test_schedule_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
