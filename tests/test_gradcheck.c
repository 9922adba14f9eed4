/*
 * test_gradcheck.c — every differentiable operation against central finite
 * differences in float64 (PF_GRADCHECK, see testing.h): elementwise ops with
 * broadcasting, reductions, matmul in all its shapes, joins, indexing,
 * softmax, and every view. Sizes are kept to a few dozen elements.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

/* A float64 leaf requiring grad, uniform in [low, high). */
#define R(seed, low, high, ...) pf_test_rand64(ctx, (seed), (low), (high), PF_DIMS(__VA_ARGS__))

/* Functions of the inputs, as PF_GRADCHECK wants them. */
#define FN(name, expr)                                                              \
    static pf_tensor *name(pf_ctx *ctx, pf_tensor *const *in, const void *arg)   \
    {                                                                               \
        (void)arg;                                                                  \
        return (expr);                                                              \
    }

/* A leaf with values of magnitude in [0.2, 1) and alternating signs: away
 * from the kinks of abs and relu at 0. */
static pf_tensor *signed_away_from_zero(pf_ctx *ctx, uint64_t seed, int ndim, const int64_t *shape)
{
    pf_tensor *t = pf_test_rand64(ctx, seed, 0.2, 1, ndim, shape);
    double *p = pf_data_f64(t);
    for (int64_t i = 0; i < pf_numel(t); i++)
        if ((i * 7 + 3) % 3 == 0)
            p[i] = -p[i];
    return t;
}

/* ---- elementwise, two inputs -------------------------------------------- */

FN(f_add, pf_add(ctx, in[0], in[1]))
FN(f_sub, pf_sub(ctx, in[0], in[1]))
FN(f_mul, pf_mul(ctx, in[0], in[1]))
FN(f_div, pf_div(ctx, in[0], in[1]))
FN(f_square_by_mul, pf_mul(ctx, in[0], in[0]))
FN(f_div_self, pf_div(ctx, pf_add_scalar(ctx, in[0], 3), in[0]))

static void test_grad_add_sub(void **state)
{
    pf_ctx *ctx = *state;
    PF_GRADCHECK(f_add, NULL, R(1, -1, 1, 2, 3), R(2, -1, 1, 2, 3));
    PF_GRADCHECK(f_add, NULL, R(3, -1, 1, 2, 3), R(4, -1, 1, 3));
    PF_GRADCHECK(f_add, NULL, R(5, -1, 1, 3), R(6, -1, 1, 2, 3));
    PF_GRADCHECK(f_add, NULL, R(7, -1, 1, 2, 1), R(8, -1, 1, 1, 3));
    PF_GRADCHECK(f_add, NULL, R(9, -1, 1, 2, 1, 3), R(10, -1, 1, 4, 1));
    PF_GRADCHECK(f_add, NULL, pf_test_rand64(ctx, 11, -1, 1, 0, NULL), R(12, -1, 1, 2, 3));
    PF_GRADCHECK(f_sub, NULL, R(13, -1, 1, 2, 3), R(14, -1, 1, 2, 3));
    PF_GRADCHECK(f_sub, NULL, R(15, -1, 1, 2, 3), R(16, -1, 1, 3));
    PF_GRADCHECK(f_sub, NULL, R(17, -1, 1, 3), R(18, -1, 1, 2, 3));
    PF_GRADCHECK(f_sub, NULL, R(19, -1, 1, 2, 1), R(20, -1, 1, 1, 3));
    PF_GRADCHECK(f_sub, NULL, R(21, -1, 1, 2, 3), pf_test_rand64(ctx, 22, -1, 1, 0, NULL));
    PF_GRADCHECK(f_sub, NULL, R(23, -1, 1, 1), R(24, -1, 1, 3, 2, 2));
}

static void test_grad_mul_div(void **state)
{
    pf_ctx *ctx = *state;
    PF_GRADCHECK(f_mul, NULL, R(1, -1, 1, 2, 3), R(2, -1, 1, 2, 3));
    PF_GRADCHECK(f_mul, NULL, R(3, -1, 1, 2, 3), R(4, -1, 1, 3));
    PF_GRADCHECK(f_mul, NULL, R(5, -1, 1, 3), R(6, -1, 1, 2, 3));
    PF_GRADCHECK(f_mul, NULL, R(7, -1, 1, 2, 1), R(8, -1, 1, 1, 3));
    PF_GRADCHECK(f_mul, NULL, R(9, -1, 1, 2, 1, 3), R(10, -1, 1, 4, 1));
    PF_GRADCHECK(f_mul, NULL, pf_test_rand64(ctx, 11, -1, 1, 0, NULL), R(12, -1, 1, 2, 3));
    PF_GRADCHECK(f_div, NULL, R(13, -1, 1, 2, 3), R(14, 0.5, 2, 2, 3));
    PF_GRADCHECK(f_div, NULL, R(15, -1, 1, 2, 3), R(16, 0.5, 2, 3));
    PF_GRADCHECK(f_div, NULL, R(17, -1, 1, 3), R(18, 0.5, 2, 2, 3));
    PF_GRADCHECK(f_div, NULL, R(19, -1, 1, 2, 1), R(20, -2, -0.5, 1, 3));
    PF_GRADCHECK(f_div, NULL, R(21, -1, 1, 2, 3), pf_test_rand64(ctx, 22, 0.5, 2, 0, NULL));
    PF_GRADCHECK(f_div, NULL, pf_test_rand64(ctx, 23, -1, 1, 0, NULL), R(24, 0.5, 2, 2, 2));
    /* one input used twice */
    PF_GRADCHECK(f_square_by_mul, NULL, R(25, -1, 1, 2, 3));
    PF_GRADCHECK(f_div_self, NULL, R(26, 0.5, 2, 5));
}

FN(f_add_scalar, pf_add_scalar(ctx, in[0], -2.5))
FN(f_mul_scalar, pf_mul_scalar(ctx, in[0], -1.75))

static void test_grad_scalar_ops(void **state)
{
    pf_ctx *ctx = *state;
    PF_GRADCHECK(f_add_scalar, NULL, R(1, -1, 1, 2, 3));
    PF_GRADCHECK(f_mul_scalar, NULL, R(2, -1, 1, 2, 3));
    PF_GRADCHECK(f_mul_scalar, NULL, pf_test_rand64(ctx, 3, -1, 1, 0, NULL));
}

/* ---- elementwise, one input --------------------------------------------- */

FN(f_neg, pf_neg(ctx, in[0]))
FN(f_exp, pf_exp(ctx, in[0]))
FN(f_log, pf_log(ctx, in[0]))
FN(f_sqrt, pf_sqrt(ctx, in[0]))
FN(f_abs, pf_abs(ctx, in[0]))
FN(f_tanh, pf_tanh(ctx, in[0]))
FN(f_sigmoid, pf_sigmoid(ctx, in[0]))
FN(f_relu, pf_relu(ctx, in[0]))
FN(f_pow, pf_pow(ctx, in[0], *(const double *)arg))

static pf_tensor *f_clamp(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const double *b = arg;
    return pf_clamp(ctx, in[0], b[0], b[1]);
}

static void test_grad_unary(void **state)
{
    pf_ctx *ctx = *state;
    PF_GRADCHECK(f_neg, NULL, R(1, -1, 1, 2, 3));
    PF_GRADCHECK(f_exp, NULL, R(2, -2, 2, 2, 3));
    PF_GRADCHECK(f_log, NULL, R(3, 0.2, 3, 2, 3));
    PF_GRADCHECK(f_sqrt, NULL, R(4, 0.2, 3, 2, 3));
    PF_GRADCHECK(f_tanh, NULL, R(5, -2, 2, 2, 3));
    PF_GRADCHECK(f_sigmoid, NULL, R(6, -4, 4, 2, 3));
    PF_GRADCHECK(f_abs, NULL, signed_away_from_zero(ctx, 7, PF_DIMS(3, 4)));
    PF_GRADCHECK(f_relu, NULL, signed_away_from_zero(ctx, 8, PF_DIMS(3, 4)));
    /* exp, tanh and sigmoid on a 0-d input */
    PF_GRADCHECK(f_sigmoid, NULL, pf_test_rand64(ctx, 9, -1, 1, 0, NULL));

    const double p2 = 2, p3 = 3, phalf = 0.5, pm1 = -1, p15 = 1.5, p0 = 0;
    PF_GRADCHECK(f_pow, &p2, R(10, -2, 2, 2, 3));
    PF_GRADCHECK(f_pow, &p3, R(11, -2, 2, 2, 3));
    PF_GRADCHECK(f_pow, &phalf, R(12, 0.5, 2, 2, 3));
    PF_GRADCHECK(f_pow, &pm1, R(13, 0.5, 2, 2, 3));
    PF_GRADCHECK(f_pow, &pm1, R(14, -2, -0.5, 2, 3));
    PF_GRADCHECK(f_pow, &p15, R(15, 0.5, 2, 2, 3));
    PF_GRADCHECK(f_pow, &p0, R(16, 0.5, 2, 2, 3));

    /* clamp: values inside and outside the bounds, none near them */
    pf_tensor *c = pf_requires_grad(
        pf_from_f64(ctx, (double[]){-0.9, -0.7, -0.3, -0.1, 0.2, 0.45, 0.6, 0.95, -0.55, 0.3}, PF_DIMS(2, 5)),
        true);
    const double both[] = {-0.5, 0.5}, low_only[] = {0, INFINITY}, high_only[] = {-INFINITY, 0.25};
    PF_GRADCHECK(f_clamp, both, c);
    PF_GRADCHECK(f_clamp, low_only, c);
    PF_GRADCHECK(f_clamp, high_only, c);
}

/* ---- reductions --------------------------------------------------------- */

typedef struct dims_arg {
    int n;
    int dims[4];
    bool keepdim;
    int correction;
} dims_arg;

FN(f_sum, pf_sum(ctx, in[0]))
FN(f_mean, pf_mean(ctx, in[0]))
FN(f_sum_of_transpose, pf_sum(ctx, pf_mul(ctx, pf_transpose(ctx, in[0], 0, 1), pf_transpose(ctx, in[0], 0, 1))))

static pf_tensor *f_sum_dims(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const dims_arg *a = arg;
    return pf_sum_dims(ctx, in[0], a->n, a->dims, a->keepdim);
}

static pf_tensor *f_mean_dims(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const dims_arg *a = arg;
    return pf_mean_dims(ctx, in[0], a->n, a->dims, a->keepdim);
}

static pf_tensor *f_var(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const dims_arg *a = arg;
    return pf_var(ctx, in[0], a->n, a->dims, a->correction, a->keepdim);
}

static pf_tensor *f_std(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const dims_arg *a = arg;
    return pf_std(ctx, in[0], a->n, a->dims, a->correction, a->keepdim);
}

static pf_tensor *f_max_dim(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const dims_arg *a = arg;
    pf_tensor *idx = NULL;
    pf_tensor *v = pf_max_dim(ctx, in[0], a->dims[0], a->keepdim, &idx);
    return idx ? v : NULL;
}

static void test_grad_sum_mean(void **state)
{
    pf_ctx *ctx = *state;
    PF_GRADCHECK(f_sum, NULL, R(1, -1, 1, 2, 3));
    PF_GRADCHECK(f_sum, NULL, pf_test_rand64(ctx, 2, -1, 1, 0, NULL));
    PF_GRADCHECK(f_mean, NULL, R(3, -1, 1, 2, 3, 2));
    PF_GRADCHECK(f_sum_of_transpose, NULL, R(4, -1, 1, 3, 4));

    const dims_arg cases[] = {
        {1, {0}, false, 0}, {1, {1}, true, 0},     {1, {-1}, false, 0}, {2, {0, 2}, true, 0},
        {2, {2, 0}, false, 0}, {3, {0, 1, 2}, false, 0}, {2, {1, 2}, true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        PF_GRADCHECK(f_sum_dims, &cases[i], R(10 + i, -1, 1, 2, 3, 4));
        PF_GRADCHECK(f_mean_dims, &cases[i], R(20 + i, -1, 1, 2, 3, 4));
    }
}

static void test_grad_max_dim(void **state)
{
    pf_ctx *ctx = *state;
    /* random values: no ties, and no two values within eps of each other */
    const dims_arg cases[] = {
        {1, {0}, false, 0}, {1, {1}, false, 0}, {1, {1}, true, 0}, {1, {-1}, true, 0}, {1, {0}, true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        PF_GRADCHECK(f_max_dim, &cases[i], R(30 + i, -1, 1, 3, 4));
    const dims_arg mid = {1, {1}, false, 0};
    PF_GRADCHECK(f_max_dim, &mid, R(40, -1, 1, 2, 3, 2));
    const dims_arg zero = {1, {0}, false, 0};
    PF_GRADCHECK(f_max_dim, &zero, pf_test_rand64(ctx, 41, -1, 1, 0, NULL));
}

static void test_grad_var_std(void **state)
{
    pf_ctx *ctx = *state;
    const dims_arg cases[] = {
        {0, {0}, false, 1}, {0, {0}, false, 0}, {1, {1}, false, 1}, {1, {0}, true, 0},
        {1, {-1}, true, 1}, {2, {0, 1}, false, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        PF_GRADCHECK(f_var, &cases[i], R(50 + i, -1, 1, 3, 4));
        PF_GRADCHECK(f_std, &cases[i], R(60 + i, -1, 1, 3, 4));
    }
    const dims_arg mid = {1, {1}, true, 1};
    PF_GRADCHECK(f_var, &mid, R(70, -1, 1, 2, 3, 2));
    PF_GRADCHECK(f_std, &mid, R(71, -1, 1, 2, 3, 2));
}

typedef struct shape_arg {
    int ndim;
    int64_t shape[PF_MAX_DIMS];
} shape_arg;

static pf_tensor *f_sum_to(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const shape_arg *s = arg;
    return pf_sum_to(ctx, in[0], s->ndim, s->shape);
}

static void test_grad_sum_to(void **state)
{
    pf_ctx *ctx = *state;
    const shape_arg cases[] = {{2, {3, 1}}, {1, {4}}, {0, {0}}, {3, {2, 1, 4}}, {3, {2, 3, 4}}, {3, {1, 3, 1}}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        PF_GRADCHECK(f_sum_to, &cases[i], R(80 + i, -1, 1, 2, 3, 4));
}

/* ---- matmul ------------------------------------------------------------- */

FN(f_matmul, pf_matmul(ctx, in[0], in[1]))
FN(f_matmul_at, pf_matmul(ctx, pf_transpose(ctx, in[0], -1, -2), in[1]))
FN(f_matmul_bt, pf_matmul(ctx, in[0], pf_transpose(ctx, in[1], -1, -2)))
FN(f_matmul_self, pf_matmul(ctx, in[0], in[0]))

static void test_grad_matmul(void **state)
{
    pf_ctx *ctx = *state;
    PF_GRADCHECK(f_matmul, NULL, R(1, -1, 1, 4), R(2, -1, 1, 4));                   /* dot */
    PF_GRADCHECK(f_matmul, NULL, R(3, -1, 1, 2, 3), R(4, -1, 1, 3));                /* matrix . vector */
    PF_GRADCHECK(f_matmul, NULL, R(5, -1, 1, 3), R(6, -1, 1, 3, 2));                /* vector . matrix */
    PF_GRADCHECK(f_matmul, NULL, R(7, -1, 1, 2, 3), R(8, -1, 1, 3, 4));             /* matrices */
    PF_GRADCHECK(f_matmul, NULL, R(9, -1, 1, 2, 2, 3), R(10, -1, 1, 2, 3, 2));      /* batches */
    PF_GRADCHECK(f_matmul, NULL, R(11, -1, 1, 2, 2, 3), R(12, -1, 1, 3, 2));        /* batch @ matrix */
    PF_GRADCHECK(f_matmul, NULL, R(13, -1, 1, 2, 3), R(14, -1, 1, 2, 3, 2));        /* matrix @ batch */
    PF_GRADCHECK(f_matmul, NULL, R(15, -1, 1, 2, 1, 2, 3), R(16, -1, 1, 3, 3, 2));  /* broadcast batch */
    PF_GRADCHECK(f_matmul, NULL, R(17, -1, 1, 1, 2, 3), R(18, -1, 1, 3, 1, 3, 2));  /* broadcast, more dims */
    PF_GRADCHECK(f_matmul, NULL, R(19, -1, 1, 3), R(20, -1, 1, 2, 3, 2));           /* vector @ batch */
    PF_GRADCHECK(f_matmul, NULL, R(21, -1, 1, 2, 2, 3), R(22, -1, 1, 3));           /* batch @ vector */
    PF_GRADCHECK(f_matmul, NULL, R(23, -1, 1, 1, 3), R(24, -1, 1, 3, 1));           /* outer dims of 1 */
    PF_GRADCHECK(f_matmul, NULL, R(25, -1, 1, 3, 1), R(26, -1, 1, 1, 4));           /* outer product */
    /* transposed operands reach gemm as transposed */
    PF_GRADCHECK(f_matmul_at, NULL, R(27, -1, 1, 3, 2), R(28, -1, 1, 3, 4));
    PF_GRADCHECK(f_matmul_bt, NULL, R(29, -1, 1, 2, 3), R(30, -1, 1, 4, 3));
    PF_GRADCHECK(f_matmul_at, NULL, R(31, -1, 1, 2, 3, 2), R(32, -1, 1, 3, 4));
    PF_GRADCHECK(f_matmul_bt, NULL, R(33, -1, 1, 2, 2, 3), R(34, -1, 1, 2, 4, 3));
    /* one input on both sides */
    PF_GRADCHECK(f_matmul_self, NULL, R(35, -1, 1, 3, 3));
}

/* ---- joins -------------------------------------------------------------- */

static pf_tensor *f_cat3(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_cat(ctx, 3, in, *(const int *)arg);
}

static pf_tensor *f_cat_repeat(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_cat(ctx, 3, (pf_tensor *[]){in[0], in[1], in[0]}, *(const int *)arg);
}

static pf_tensor *f_stack3(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_stack(ctx, 3, in, *(const int *)arg);
}

static void test_grad_cat_stack(void **state)
{
    pf_ctx *ctx = *state;
    const int d0 = 0, d1 = 1, dm1 = -1, d2 = 2;
    PF_GRADCHECK(f_cat3, &d0, R(1, -1, 1, 2, 3), R(2, -1, 1, 1, 3), R(3, -1, 1, 3, 3));
    PF_GRADCHECK(f_cat3, &d1, R(4, -1, 1, 2, 1), R(5, -1, 1, 2, 3), R(6, -1, 1, 2, 2));
    PF_GRADCHECK(f_cat3, &dm1, R(7, -1, 1, 2, 2), R(8, -1, 1, 2, 1), R(9, -1, 1, 2, 2));
    PF_GRADCHECK(f_cat_repeat, &d0, R(10, -1, 1, 2, 3), R(11, -1, 1, 1, 3));
    PF_GRADCHECK(f_stack3, &d0, R(12, -1, 1, 2, 3), R(13, -1, 1, 2, 3), R(14, -1, 1, 2, 3));
    PF_GRADCHECK(f_stack3, &d1, R(15, -1, 1, 2, 3), R(16, -1, 1, 2, 3), R(17, -1, 1, 2, 3));
    PF_GRADCHECK(f_stack3, &d2, R(18, -1, 1, 2, 3), R(19, -1, 1, 2, 3), R(20, -1, 1, 2, 3));
    PF_GRADCHECK(f_stack3, &dm1, R(21, -1, 1, 4), R(22, -1, 1, 4), R(23, -1, 1, 4));
}

/* ---- indexing ----------------------------------------------------------- */

typedef struct index_arg {
    int dim;
    const pf_tensor *index;
} index_arg;

static pf_tensor *f_index_select(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const index_arg *a = arg;
    return pf_index_select(ctx, in[0], a->dim, a->index);
}

static pf_tensor *f_gather(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const index_arg *a = arg;
    return pf_gather(ctx, in[0], a->dim, a->index);
}

static pf_tensor *f_index_select_transposed(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const index_arg *a = arg;
    return pf_index_select(ctx, pf_transpose(ctx, in[0], 0, 1), a->dim, a->index);
}

static void test_grad_index_select(void **state)
{
    pf_ctx *ctx = *state;
    /* repeated indices: the gradient adds up at the repeated rows */
    index_arg rows = {0, pf_from_i64(ctx, (int64_t[]){2, 0, 2, 2}, PF_DIMS(4))};
    PF_GRADCHECK(f_index_select, &rows, R(1, -1, 1, 4, 3));
    index_arg cols = {1, pf_from_i64(ctx, (int64_t[]){1, 1, 0}, PF_DIMS(3))};
    PF_GRADCHECK(f_index_select, &cols, R(2, -1, 1, 4, 3));
    index_arg mid = {-2, pf_from_i64(ctx, (int64_t[]){0, 2, 0}, PF_DIMS(3))};
    PF_GRADCHECK(f_index_select, &mid, R(3, -1, 1, 2, 3, 2));
    index_arg tr = {1, pf_from_i64(ctx, (int64_t[]){3, 3, 1}, PF_DIMS(3))};
    PF_GRADCHECK(f_index_select_transposed, &tr, R(4, -1, 1, 4, 3));
}

static void test_grad_gather(void **state)
{
    pf_ctx *ctx = *state;
    index_arg d1 = {1, pf_from_i64(ctx, (int64_t[]){2, 0, 2, 1, 1, 1, 0, 3, 3}, PF_DIMS(3, 3))};
    PF_GRADCHECK(f_gather, &d1, R(1, -1, 1, 3, 4));
    index_arg d0 = {0, pf_from_i64(ctx, (int64_t[]){1, 0, 2, 2, 1, 1, 0, 0}, PF_DIMS(2, 4))};
    PF_GRADCHECK(f_gather, &d0, R(2, -1, 1, 3, 4));
    index_arg one = {-1, pf_from_i64(ctx, (int64_t[]){3, 0, 3}, PF_DIMS(3, 1))};
    PF_GRADCHECK(f_gather, &one, R(3, -1, 1, 3, 4));
    index_arg d3 = {1, pf_from_i64(ctx, (int64_t[]){0, 2, 2, 2, 1, 0, 0, 0}, PF_DIMS(2, 2, 2))};
    PF_GRADCHECK(f_gather, &d3, R(4, -1, 1, 2, 3, 2));
}

/* ---- softmax ------------------------------------------------------------ */

static pf_tensor *f_softmax(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_softmax(ctx, in[0], *(const int *)arg);
}

static pf_tensor *f_log_softmax(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_log_softmax(ctx, in[0], *(const int *)arg);
}

static pf_tensor *f_softmax_transposed(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_softmax(ctx, pf_transpose(ctx, in[0], 0, 1), *(const int *)arg);
}

static pf_tensor *f_log_softmax_transposed(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    return pf_log_softmax(ctx, pf_transpose(ctx, in[0], 0, 1), *(const int *)arg);
}

static void test_grad_softmax(void **state)
{
    pf_ctx *ctx = *state;
    const int dims[] = {0, 1, -1};
    for (int i = 0; i < 3; i++) {
        PF_GRADCHECK(f_softmax, &dims[i], R(1 + i, -2, 2, 3, 4));
        PF_GRADCHECK(f_log_softmax, &dims[i], R(11 + i, -2, 2, 3, 4));
        PF_GRADCHECK(f_softmax_transposed, &dims[i], R(21 + i, -2, 2, 3, 4));
        PF_GRADCHECK(f_log_softmax_transposed, &dims[i], R(31 + i, -2, 2, 3, 4));
    }
    const int mid = 1;
    PF_GRADCHECK(f_softmax, &mid, R(41, -2, 2, 2, 3, 2));
    PF_GRADCHECK(f_log_softmax, &mid, R(42, -2, 2, 2, 3, 2));
    PF_GRADCHECK(f_softmax, &dims[0], R(43, -2, 2, 5));
    PF_GRADCHECK(f_log_softmax, &dims[0], R(44, -2, 2, 5));
}

/* ---- views -------------------------------------------------------------- */

/* The check weights every output element differently, so a gradient put
 * back at the wrong position (a wrong stride or offset) is caught. */
FN(f_view, pf_view(ctx, in[0], PF_DIMS(3, -1)))
FN(f_view_split, pf_view(ctx, in[0], PF_DIMS(2, 2, 3)))
FN(f_reshape_view, pf_reshape(ctx, in[0], PF_DIMS(6, 2)))
FN(f_reshape_copy, pf_reshape(ctx, pf_transpose(ctx, in[0], 0, 1), PF_DIMS(-1)))
FN(f_reshape_copy_2d, pf_reshape(ctx, pf_transpose(ctx, in[0], 0, 1), PF_DIMS(2, 6)))
FN(f_permute, pf_permute(ctx, in[0], (int[]){2, 0, 1}))
FN(f_permute_neg, pf_permute(ctx, in[0], (int[]){-1, -3, -2}))
FN(f_transpose, pf_transpose(ctx, in[0], 0, 1))
FN(f_transpose_3d, pf_transpose(ctx, in[0], -1, 0))
FN(f_narrow, pf_narrow(ctx, in[0], 1, 1, 2))
FN(f_narrow_rows, pf_narrow(ctx, in[0], 0, 2, 1))
FN(f_slice_step, pf_slice(ctx, in[0], 1, 0, 5, 2))
FN(f_slice_neg, pf_slice(ctx, in[0], 0, -3, INT64_MAX, 2))
FN(f_slice_short, pf_slice(ctx, in[0], 1, -2, -1, 3))
FN(f_select, pf_select(ctx, in[0], 0, -1))
FN(f_select_col, pf_select(ctx, in[0], 1, 2))
FN(f_select_twice, pf_select(ctx, pf_select(ctx, in[0], 1, -1), 0, 1))
FN(f_expand, pf_expand(ctx, in[0], PF_DIMS(2, 3, 4)))
FN(f_expand_keep, pf_expand(ctx, in[0], PF_DIMS(2, -1, 3)))
FN(f_unsqueeze, pf_unsqueeze(ctx, in[0], 1))
FN(f_unsqueeze_end, pf_unsqueeze(ctx, in[0], -1))
FN(f_squeeze, pf_squeeze(ctx, in[0], 1))
FN(f_flatten, pf_flatten(ctx, in[0], 0, -1))
FN(f_flatten_mid, pf_flatten(ctx, in[0], 1, 2))
FN(f_flatten_copy, pf_flatten(ctx, pf_transpose(ctx, in[0], 0, 2), 0, 1))
FN(f_contiguous, pf_contiguous(ctx, pf_transpose(ctx, in[0], 0, 1)))
FN(f_contiguous_noop, pf_contiguous(ctx, in[0]))
FN(f_clone, pf_clone(ctx, in[0]))
FN(f_clone_view, pf_clone(ctx, pf_slice(ctx, in[0], 1, 0, 4, 2)))
FN(f_to_dtype, pf_to_dtype(ctx, in[0], PF_F64))
FN(f_to_dtype_view, pf_to_dtype(ctx, pf_transpose(ctx, in[0], 0, 1), PF_F64))
/* chains of views feeding an op: the gradient must go back through all */
FN(f_view_chain, pf_mul(ctx, pf_select(ctx, pf_transpose(ctx, pf_view(ctx, in[0], PF_DIMS(3, 4)), 0, 1), 1, 2),
                        pf_narrow(ctx, pf_flatten(ctx, in[0], 0, -1), 0, 3, 4)))
FN(f_expand_mul, pf_mul(ctx, pf_expand(ctx, in[0], PF_DIMS(3, 4)), pf_transpose(ctx, in[1], 0, 1)))

static void test_grad_views(void **state)
{
    pf_ctx *ctx = *state;
    PF_GRADCHECK(f_view, NULL, R(1, -1, 1, 2, 6));
    PF_GRADCHECK(f_view_split, NULL, R(2, -1, 1, 4, 3));
    PF_GRADCHECK(f_reshape_view, NULL, R(3, -1, 1, 3, 4));
    PF_GRADCHECK(f_reshape_copy, NULL, R(4, -1, 1, 3, 4));
    PF_GRADCHECK(f_reshape_copy_2d, NULL, R(5, -1, 1, 3, 4));
    PF_GRADCHECK(f_permute, NULL, R(6, -1, 1, 2, 3, 4));
    PF_GRADCHECK(f_permute_neg, NULL, R(7, -1, 1, 2, 3, 4));
    PF_GRADCHECK(f_transpose, NULL, R(8, -1, 1, 3, 4));
    PF_GRADCHECK(f_transpose_3d, NULL, R(9, -1, 1, 2, 3, 4));
    PF_GRADCHECK(f_narrow, NULL, R(10, -1, 1, 3, 4));
    PF_GRADCHECK(f_narrow_rows, NULL, R(11, -1, 1, 3, 4));
    PF_GRADCHECK(f_slice_step, NULL, R(12, -1, 1, 3, 5));
    PF_GRADCHECK(f_slice_neg, NULL, R(13, -1, 1, 5, 2));
    PF_GRADCHECK(f_slice_short, NULL, R(14, -1, 1, 2, 5));
    PF_GRADCHECK(f_select, NULL, R(15, -1, 1, 3, 4));
    PF_GRADCHECK(f_select_col, NULL, R(16, -1, 1, 3, 4));
    PF_GRADCHECK(f_select_twice, NULL, R(17, -1, 1, 2, 3, 4));
    PF_GRADCHECK(f_expand, NULL, R(18, -1, 1, 3, 1));
    PF_GRADCHECK(f_expand, NULL, R(19, -1, 1, 4));
    PF_GRADCHECK(f_expand, NULL, pf_test_rand64(ctx, 20, -1, 1, 0, NULL));
    PF_GRADCHECK(f_expand_keep, NULL, R(21, -1, 1, 1, 4, 1));
    PF_GRADCHECK(f_unsqueeze, NULL, R(22, -1, 1, 3, 4));
    PF_GRADCHECK(f_unsqueeze_end, NULL, R(23, -1, 1, 3, 4));
    PF_GRADCHECK(f_squeeze, NULL, R(24, -1, 1, 3, 1, 4));
    PF_GRADCHECK(f_flatten, NULL, R(25, -1, 1, 2, 3, 2));
    PF_GRADCHECK(f_flatten_mid, NULL, R(26, -1, 1, 2, 3, 2));
    PF_GRADCHECK(f_flatten_copy, NULL, R(27, -1, 1, 2, 3, 2));
    PF_GRADCHECK(f_contiguous, NULL, R(28, -1, 1, 3, 4));
    PF_GRADCHECK(f_contiguous_noop, NULL, R(29, -1, 1, 3, 4));
    PF_GRADCHECK(f_clone, NULL, R(30, -1, 1, 3, 4));
    PF_GRADCHECK(f_clone_view, NULL, R(31, -1, 1, 3, 4));
    PF_GRADCHECK(f_to_dtype, NULL, R(32, -1, 1, 3, 4));
    PF_GRADCHECK(f_to_dtype_view, NULL, R(33, -1, 1, 3, 4));
    PF_GRADCHECK(f_view_chain, NULL, R(34, -1, 1, 2, 6));
    PF_GRADCHECK(f_expand_mul, NULL, R(35, -1, 1, 3, 1), R(36, -1, 1, 4, 3));
}

/* ---- compositions: a small network and a loss ---------------------------- */

/* cross-entropy of logits [N, C] against labels, composed of recorded ops */
static pf_tensor *f_cross_entropy(pf_ctx *ctx, pf_tensor *const *in, const void *arg)
{
    const pf_tensor *labels = arg;
    pf_tensor *h = pf_tanh(ctx, pf_add(ctx, pf_matmul(ctx, in[0], pf_transpose(ctx, in[1], 0, 1)), in[2]));
    pf_tensor *lp = pf_log_softmax(ctx, h, 1);
    return pf_neg(ctx, pf_mean(ctx, pf_gather(ctx, lp, 1, labels)));
}

static void test_grad_composition(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *labels = pf_from_i64(ctx, (int64_t[]){2, 0, 1, 2}, PF_DIMS(4, 1));
    PF_GRADCHECK(f_cross_entropy, labels, R(1, -1, 1, 4, 5), R(2, -1, 1, 3, 5), R(3, -1, 1, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_grad_add_sub),
        TEST(test_grad_mul_div),
        TEST(test_grad_scalar_ops),
        TEST(test_grad_unary),
        TEST(test_grad_sum_mean),
        TEST(test_grad_max_dim),
        TEST(test_grad_var_std),
        TEST(test_grad_sum_to),
        TEST(test_grad_matmul),
        TEST(test_grad_cat_stack),
        TEST(test_grad_index_select),
        TEST(test_grad_gather),
        TEST(test_grad_softmax),
        TEST(test_grad_views),
        TEST(test_grad_composition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
