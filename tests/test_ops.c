/*
 * test_ops.c — forward values of every operation of section 6 of profond.h
 * on small examples computed by hand: elementwise ops with broadcasting,
 * ops on strided views, reductions, max with ties and NaN, variance,
 * matmul in all its shapes, joins, indexing, softmax; and their errors.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

/* 0, 1, ..., n-1 as float32 in the given shape. */
static pf_tensor *iota(pf_ctx *ctx, int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return pf_view(ctx, pf_arange(ctx, 0, (double)n, 1), ndim, shape);
}

/* A float64 tensor of uniform values that does not require grad. */
static pf_tensor *rand64(pf_ctx *ctx, uint64_t seed, int ndim, const int64_t *shape)
{
    return pf_requires_grad(pf_test_rand64(ctx, seed, -1, 1, ndim, shape), false);
}

/* ---- elementwise, two inputs ------------------------------------------- */

static void test_binary_same_shape(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    pf_tensor *b = pf_from_f32(ctx, (float[]){0.5f, -1, 2, 4, 0.25f, -3}, PF_DIMS(2, 3));
    pf_tensor *s = pf_add(ctx, a, b);
    PF_ASSERT_SHAPE(s, 2, 3);
    assert_int_equal(s->dtype, PF_F32);
    assert_true(pf_is_contiguous(s));
    assert_true(s->storage != a->storage && s->storage != b->storage);
    PF_ASSERT_VALUES(s, 0, 1.5, 1, 5, 8, 5.25, 3);
    PF_ASSERT_VALUES(pf_sub(ctx, a, b), 0, 0.5, 3, 1, 0, 4.75, 9);
    PF_ASSERT_VALUES(pf_mul(ctx, a, b), 0, 0.5, -2, 6, 16, 1.25, -18);
    PF_ASSERT_VALUES(pf_div(ctx, a, b), 1e-6, 2, -2, 1.5, 1, 20, -2);
    /* the inputs are untouched */
    PF_ASSERT_VALUES(a, 0, 1, 2, 3, 4, 5, 6);

    /* float64 stays float64, with double precision */
    pf_tensor *d = pf_div(ctx, pf_from_f64(ctx, (double[]){1, 2}, PF_DIMS(2)),
                          pf_from_f64(ctx, (double[]){3, 7}, PF_DIMS(2)));
    assert_int_equal(d->dtype, PF_F64);
    PF_ASSERT_VALUES(d, 1e-16, 1.0 / 3, 2.0 / 7);

    /* IEEE division by zero */
    pf_tensor *z = pf_div(ctx, pf_from_f32(ctx, (float[]){1, -1, 0}, PF_DIMS(3)), pf_zeros(ctx, PF_DIMS(3)));
    PF_ASSERT_VALUES(z, 0, INFINITY, -INFINITY, NAN);
    /* empty tensors */
    PF_ASSERT_SHAPE(pf_add(ctx, pf_zeros(ctx, PF_DIMS(0, 3)), pf_zeros(ctx, PF_DIMS(3))), 0, 3);
}

static void test_binary_broadcast(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    pf_tensor *v = pf_from_f32(ctx, (float[]){10, 20, 30}, PF_DIMS(3));

    /* [2,3] + [3] */
    pf_tensor *s = pf_add(ctx, a, v);
    PF_ASSERT_SHAPE(s, 2, 3);
    PF_ASSERT_VALUES(s, 0, 11, 22, 33, 14, 25, 36);
    PF_ASSERT_VALUES(pf_sub(ctx, a, v), 0, -9, -18, -27, -6, -15, -24);
    /* [3] - [2,3]: the broadcast operand on the left */
    pf_tensor *r = pf_sub(ctx, v, a);
    PF_ASSERT_SHAPE(r, 2, 3);
    PF_ASSERT_VALUES(r, 0, 9, 18, 27, 6, 15, 24);
    PF_ASSERT_VALUES(pf_div(ctx, v, a), 1e-5, 10, 10, 10, 2.5, 4, 5);

    /* [2,1] * [1,3] stretches both */
    pf_tensor *c = pf_from_f32(ctx, (float[]){2, 3}, PF_DIMS(2, 1));
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, 10, 100}, PF_DIMS(1, 3));
    pf_tensor *outer = pf_mul(ctx, c, w);
    PF_ASSERT_SHAPE(outer, 2, 3);
    PF_ASSERT_VALUES(outer, 0, 2, 20, 200, 3, 30, 300);
    PF_ASSERT_SHAPE(pf_mul(ctx, w, c), 2, 3);

    /* scalar-shaped operands: 0-d, [1], [1,1] */
    pf_tensor *two = pf_scalar(ctx, 2);
    PF_ASSERT_VALUES(pf_add(ctx, two, a), 0, 3, 4, 5, 6, 7, 8);
    PF_ASSERT_VALUES(pf_div(ctx, a, two), 0, 0.5, 1, 1.5, 2, 2.5, 3);
    pf_tensor *ss = pf_mul(ctx, two, pf_scalar(ctx, -4));
    assert_int_equal(ss->ndim, 0);
    assert_true(pf_item(ss) == -8);
    PF_ASSERT_SHAPE(pf_sub(ctx, a, pf_ones(ctx, PF_DIMS(1))), 2, 3);
    pf_tensor *up = pf_add(ctx, pf_ones(ctx, PF_DIMS(1, 1)), v);
    PF_ASSERT_SHAPE(up, 1, 3);
    PF_ASSERT_VALUES(up, 0, 11, 21, 31);

    /* three dimensions: [2,1,3] + [4,1] -> [2,4,3] */
    pf_tensor *x = iota(ctx, PF_DIMS(2, 1, 3));
    pf_tensor *y = pf_mul_scalar(ctx, iota(ctx, PF_DIMS(4, 1)), 100);
    pf_tensor *xy = pf_add(ctx, x, y);
    PF_ASSERT_SHAPE(xy, 2, 4, 3);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 3; k++)
                assert_true(pf_get(xy, (int64_t[]){i, j, k}) == 3 * i + k + 100 * j);

    assert_null(pf_add(ctx, a, pf_zeros(ctx, PF_DIMS(2))));
    PF_ASSERT_ERROR("pf_add: shapes [2,3] and [2] cannot be broadcast");
    assert_null(pf_mul(ctx, pf_zeros(ctx, PF_DIMS(2, 3, 4)), pf_zeros(ctx, PF_DIMS(3, 3, 1))));
    PF_ASSERT_ERROR("pf_mul");
}

static void test_scalar_ops(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(2, 2));
    pf_tensor *s = pf_add_scalar(ctx, a, -1.5);
    PF_ASSERT_SHAPE(s, 2, 2);
    PF_ASSERT_VALUES(s, 0, -0.5, 0.5, 1.5, 2.5);
    PF_ASSERT_VALUES(pf_mul_scalar(ctx, a, 0.5), 0, 0.5, 1, 1.5, 2);
    PF_ASSERT_VALUES(pf_mul_scalar(ctx, a, 0), 0, 0, 0, 0, 0);
    pf_tensor *d = pf_mul_scalar(ctx, pf_from_f64(ctx, (double[]){3}, PF_DIMS(1)), 0.1);
    assert_int_equal(d->dtype, PF_F64);
    assert_true(pf_item(d) == 3 * 0.1);
}

/* ---- elementwise, one input -------------------------------------------- */

static void test_unary(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_from_f32(ctx, (float[]){-2, -0.5f, 0.5f, 2}, PF_DIMS(2, 2));
    pf_tensor *n = pf_neg(ctx, x);
    PF_ASSERT_SHAPE(n, 2, 2);
    PF_ASSERT_VALUES(n, 0, 2, 0.5, -0.5, -2);
    PF_ASSERT_VALUES(pf_pow(ctx, x, 2), 0, 4, 0.25, 0.25, 4);
    PF_ASSERT_VALUES(pf_pow(ctx, x, 3), 1e-6, -8, -0.125, 0.125, 8);
    PF_ASSERT_VALUES(pf_pow(ctx, x, 0), 0, 1, 1, 1, 1);
    pf_tensor *p = pf_from_f32(ctx, (float[]){0.25f, 4, 9}, PF_DIMS(3));
    PF_ASSERT_VALUES(pf_pow(ctx, p, 0.5), 1e-6, 0.5, 2, 3);
    PF_ASSERT_VALUES(pf_pow(ctx, p, -1), 1e-6, 4, 0.25, 1.0 / 9);
    PF_ASSERT_VALUES(pf_pow(ctx, p, 1.5), 1e-5, 0.125, 8, 27);
    PF_ASSERT_VALUES(pf_exp(ctx, x), 1e-6, 0.1353352832, 0.6065306597, 1.6487212707, 7.3890560989);
    PF_ASSERT_VALUES(pf_log(ctx, pf_from_f32(ctx, (float[]){1, (float)exp(1.0), 0.5f, 0, -1}, PF_DIMS(5))), 1e-6, 0,
                     1, -0.6931471806, -INFINITY, NAN);
    PF_ASSERT_VALUES(pf_sqrt(ctx, pf_from_f32(ctx, (float[]){4, 2, 0}, PF_DIMS(3))), 1e-6, 2, 1.4142135624, 0);
    PF_ASSERT_VALUES(pf_abs(ctx, x), 0, 2, 0.5, 0.5, 2);
    PF_ASSERT_VALUES(pf_tanh(ctx, x), 1e-6, -0.9640275801, -0.4621171573, 0.4621171573, 0.9640275801);
    PF_ASSERT_VALUES(pf_sigmoid(ctx, x), 1e-6, 0.1192029220, 0.3775406688, 0.6224593312, 0.8807970780);
    PF_ASSERT_VALUES(pf_relu(ctx, x), 0, 0, 0, 0.5, 2);
    PF_ASSERT_VALUES(pf_relu(ctx, pf_zeros(ctx, PF_DIMS(1))), 0, 0);

    /* extremes: no overflow to NaN */
    pf_tensor *big = pf_from_f32(ctx, (float[]){-1000, -100, 100, 1000}, PF_DIMS(4));
    PF_ASSERT_VALUES(pf_sigmoid(ctx, big), 1e-30, 0, 3.7200759760208e-44, 1, 1);
    PF_ASSERT_VALUES(pf_tanh(ctx, big), 0, -1, -1, 1, 1);
    PF_ASSERT_VALUES(pf_exp(ctx, big), 1e-30, 0, 3.7200759760208e-44, INFINITY, INFINITY);

    /* clamp, with and without bounds */
    PF_ASSERT_VALUES(pf_clamp(ctx, x, -1, 1), 0, -1, -0.5, 0.5, 1);
    PF_ASSERT_VALUES(pf_clamp(ctx, x, -INFINITY, 0), 0, -2, -0.5, 0, 0);
    PF_ASSERT_VALUES(pf_clamp(ctx, x, 0, INFINITY), 0, 0, 0, 0.5, 2);
    PF_ASSERT_VALUES(pf_clamp(ctx, x, 0.5, 0.5), 0, 0.5, 0.5, 0.5, 0.5);
    assert_null(pf_clamp(ctx, x, 1, -1));
    PF_ASSERT_ERROR("pf_clamp: low 1 is above high -1");

    /* float64 */
    pf_tensor *d = pf_exp(ctx, pf_from_f64(ctx, (double[]){1}, PF_DIMS(1)));
    assert_int_equal(d->dtype, PF_F64);
    assert_true(pf_item(d) == exp(1.0));
    /* 0-d */
    pf_tensor *s = pf_sqrt(ctx, pf_scalar(ctx, 16));
    assert_int_equal(s->ndim, 0);
    assert_true(pf_item(s) == 4);
}

/* ---- ops on strided views --------------------------------------------- */

static void test_ops_on_strided_views(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    pf_tensor *at = pf_transpose(ctx, a, 0, 1); /* [[1,4],[2,5],[3,6]] */
    pf_tensor *b = pf_from_f32(ctx, (float[]){10, 20, 30, 40, 50, 60}, PF_DIMS(3, 2));

    PF_ASSERT_VALUES(pf_add(ctx, at, b), 0, 11, 24, 32, 45, 53, 66);
    PF_ASSERT_VALUES(pf_add(ctx, b, at), 0, 11, 24, 32, 45, 53, 66);
    /* both transposed: the output is still row-major */
    pf_tensor *tt = pf_mul(ctx, at, at);
    assert_true(pf_is_contiguous(tt));
    PF_ASSERT_VALUES(tt, 0, 1, 16, 4, 25, 9, 36);
    /* a transposed operand with broadcasting */
    PF_ASSERT_VALUES(pf_add(ctx, at, pf_from_f32(ctx, (float[]){100, 200}, PF_DIMS(2))), 0, 101, 204, 102, 205,
                     103, 206);

    pf_tensor *e = pf_exp(ctx, pf_transpose(ctx, pf_from_f32(ctx, (float[]){0, 1, 2, 3}, PF_DIMS(2, 2)), 0, 1));
    PF_ASSERT_VALUES(e, 1e-5, 1, exp(2.0), exp(1.0), exp(3.0));
    PF_ASSERT_VALUES(pf_neg(ctx, pf_slice(ctx, pf_arange(ctx, 0, 8, 1), 0, 1, 8, 3)), 0, -1, -4, -7);
    PF_ASSERT_VALUES(pf_relu(ctx, pf_expand(ctx, pf_scalar(ctx, -1), PF_DIMS(2))), 0, 0, 0);

    assert_true(pf_item(pf_sum(ctx, at)) == 21);
    pf_tensor *s0 = pf_sum_dims(ctx, at, 1, (int[]){0}, false);
    PF_ASSERT_SHAPE(s0, 2);
    PF_ASSERT_VALUES(s0, 0, 6, 15);
    PF_ASSERT_VALUES(pf_sum_dims(ctx, at, 1, (int[]){1}, false), 0, 5, 7, 9);
    PF_ASSERT_VALUES(pf_mean_dims(ctx, at, 1, (int[]){1}, false), 0, 2.5, 3.5, 4.5);
    pf_tensor *mx = pf_max_dim(ctx, at, 0, false, NULL);
    PF_ASSERT_VALUES(mx, 0, 3, 6);

    /* matmul with a transposed operand */
    pf_tensor *c = pf_from_f32(ctx, (float[]){1, 0, 1, 1}, PF_DIMS(2, 2));
    PF_ASSERT_VALUES(pf_matmul(ctx, at, c), 0, 5, 4, 7, 5, 9, 6);
    pf_tensor *aat = pf_matmul(ctx, a, at);
    PF_ASSERT_SHAPE(aat, 2, 2);
    PF_ASSERT_VALUES(aat, 0, 14, 32, 32, 77);
    PF_ASSERT_VALUES(pf_matmul(ctx, at, a), 0, 17, 22, 27, 22, 29, 36, 27, 36, 45);
    /* a matrix with a row stride (a narrowed one) and a stepped vector */
    pf_tensor *wide = iota(ctx, PF_DIMS(2, 4));
    pf_tensor *nar = pf_narrow(ctx, wide, 1, 1, 2); /* [[1,2],[5,6]] */
    PF_ASSERT_VALUES(pf_matmul(ctx, nar, c), 0, 3, 2, 11, 6);
    pf_tensor *step = pf_slice(ctx, pf_arange(ctx, 0, 6, 1), 0, 0, 6, 3); /* [0,3] */
    PF_ASSERT_VALUES(pf_matmul(ctx, nar, step), 0, 6, 18);

    /* softmax of a transposed tensor */
    pf_tensor *sm = pf_softmax(ctx, pf_transpose(ctx, pf_from_f32(ctx, (float[]){0, 0, 1, 0}, PF_DIMS(2, 2)), 0, 1),
                               1);
    PF_ASSERT_VALUES(sm, 1e-6, 0.2689414214, 0.7310585786, 0.5, 0.5);
}

/* ---- reductions -------------------------------------------------------- */

static void test_sum_mean(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = iota(ctx, PF_DIMS(2, 3, 4)); /* x[i][j][k] = 12i + 4j + k */
    pf_tensor *s = pf_sum(ctx, x);
    assert_int_equal(s->ndim, 0);
    assert_true(pf_item(s) == 276);
    pf_tensor *m = pf_mean(ctx, x);
    assert_int_equal(m->ndim, 0);
    assert_true(pf_item(m) == 11.5);

    pf_tensor *s0 = pf_sum_dims(ctx, x, 1, (int[]){0}, false);
    PF_ASSERT_SHAPE(s0, 3, 4);
    PF_ASSERT_VALUES(s0, 0, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34);
    pf_tensor *s02 = pf_sum_dims(ctx, x, 2, (int[]){0, 2}, true);
    PF_ASSERT_SHAPE(s02, 1, 3, 1);
    PF_ASSERT_VALUES(s02, 0, 60, 92, 124);
    pf_tensor *s20 = pf_sum_dims(ctx, x, 2, (int[]){2, 0}, false); /* order does not matter */
    PF_ASSERT_SHAPE(s20, 3);
    PF_ASSERT_VALUES(s20, 0, 60, 92, 124);
    pf_tensor *sl = pf_sum_dims(ctx, x, 1, (int[]){-1}, false);
    PF_ASSERT_SHAPE(sl, 2, 3);
    PF_ASSERT_VALUES(sl, 0, 6, 22, 38, 54, 70, 86);
    pf_tensor *sk = pf_sum_dims(ctx, x, 1, (int[]){-1}, true);
    PF_ASSERT_SHAPE(sk, 2, 3, 1);
    pf_tensor *sall = pf_sum_dims(ctx, x, 3, (int[]){0, 1, 2}, true);
    PF_ASSERT_SHAPE(sall, 1, 1, 1);
    PF_ASSERT_VALUES(sall, 0, 276);
    pf_tensor *s12 = pf_sum_dims(ctx, x, 2, (int[]){1, 2}, false);
    PF_ASSERT_VALUES(s12, 0, 66, 210);

    pf_tensor *m1 = pf_mean_dims(ctx, x, 1, (int[]){1}, false);
    PF_ASSERT_SHAPE(m1, 2, 4);
    PF_ASSERT_VALUES(m1, 1e-6, 4, 5, 6, 7, 16, 17, 18, 19);
    pf_tensor *m02 = pf_mean_dims(ctx, x, 2, (int[]){0, 2}, true);
    PF_ASSERT_SHAPE(m02, 1, 3, 1);
    PF_ASSERT_VALUES(m02, 1e-6, 7.5, 11.5, 15.5);

    /* float64, 0-d and empty inputs */
    pf_tensor *d = pf_sum(ctx, pf_from_f64(ctx, (double[]){0.1, 0.2, 0.3}, PF_DIMS(3)));
    assert_int_equal(d->dtype, PF_F64);
    assert_true(fabs(pf_item(d) - 0.6) < 1e-15);
    assert_true(pf_item(pf_sum(ctx, pf_scalar(ctx, 5))) == 5);
    assert_true(pf_item(pf_sum(ctx, pf_zeros(ctx, PF_DIMS(0, 3)))) == 0);
    PF_ASSERT_VALUES(pf_sum_dims(ctx, pf_zeros(ctx, PF_DIMS(0, 3)), 1, (int[]){0}, false), 0, 0, 0, 0);
    assert_true(isnan(pf_item(pf_mean(ctx, pf_zeros(ctx, PF_DIMS(0))))));
    /* float32 sums of many values stay accurate */
    pf_tensor *many = pf_full(ctx, 0.1, PF_DIMS(1000000));
    assert_true(fabs(pf_item(pf_sum(ctx, many)) - 100000) < 1);

    assert_null(pf_sum_dims(ctx, x, 2, (int[]){1, -2}, false));
    PF_ASSERT_ERROR("listed twice");
    assert_null(pf_sum_dims(ctx, x, 1, (int[]){3}, false));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_mean_dims(ctx, x, 1, (int[]){-4}, false));
    PF_ASSERT_ERROR("out of range");
}

static void test_max_dim(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *m = pf_from_f32(ctx, (float[]){1, 3, 3, 2, 5, -1, 5, 2, 0, 3, 4, 2}, PF_DIMS(3, 4));
    pf_tensor *idx = NULL;
    pf_tensor *v = pf_max_dim(ctx, m, 1, false, &idx);
    PF_ASSERT_SHAPE(v, 3);
    PF_ASSERT_SHAPE(idx, 3);
    assert_int_equal(idx->dtype, PF_I64);
    assert_int_equal(v->dtype, PF_F32);
    PF_ASSERT_VALUES(v, 0, 3, 5, 4);
    PF_ASSERT_VALUES(idx, 0, 1, 0, 2); /* ties: the first position */

    v = pf_max_dim(ctx, m, 0, true, &idx);
    PF_ASSERT_SHAPE(v, 1, 4);
    PF_ASSERT_SHAPE(idx, 1, 4);
    PF_ASSERT_VALUES(v, 0, 5, 3, 5, 2);
    PF_ASSERT_VALUES(idx, 0, 1, 0, 1, 0);
    v = pf_max_dim(ctx, m, -1, true, NULL);
    PF_ASSERT_SHAPE(v, 3, 1);

    pf_tensor *am = pf_argmax(ctx, m, 1, false);
    assert_int_equal(am->dtype, PF_I64);
    PF_ASSERT_SHAPE(am, 3);
    PF_ASSERT_VALUES(am, 0, 1, 0, 2);
    PF_ASSERT_SHAPE(pf_argmax(ctx, m, 0, true), 1, 4);

    /* all equal: index 0; a row of -inf */
    PF_ASSERT_VALUES(pf_argmax(ctx, pf_full(ctx, 7, PF_DIMS(2, 5)), 1, false), 0, 0, 0);
    float inf = INFINITY;
    v = pf_max_dim(ctx, pf_from_f32(ctx, (float[]){-inf, -inf, -inf, 1}, PF_DIMS(2, 2)), 1, false, &idx);
    PF_ASSERT_VALUES(v, 0, -INFINITY, 1);
    PF_ASSERT_VALUES(idx, 0, 0, 1);

    /* NaN wins, at its first position (as PyTorch) */
    float nan = NAN;
    pf_tensor *n = pf_from_f32(ctx, (float[]){1, nan, 3, nan, nan, 5, 2, 9}, PF_DIMS(2, 4));
    v = pf_max_dim(ctx, n, 1, false, &idx);
    PF_ASSERT_VALUES(v, 0, NAN, NAN);
    PF_ASSERT_VALUES(idx, 0, 1, 0);

    /* 3-D, middle dimension, float64 */
    pf_tensor *x = pf_to_dtype(ctx, iota(ctx, PF_DIMS(2, 3, 2)), PF_F64);
    v = pf_max_dim(ctx, x, 1, false, &idx);
    assert_int_equal(v->dtype, PF_F64);
    PF_ASSERT_SHAPE(v, 2, 2);
    PF_ASSERT_VALUES(v, 0, 4, 5, 10, 11);
    PF_ASSERT_VALUES(idx, 0, 2, 2, 2, 2);

    /* a 0-d input */
    v = pf_max_dim(ctx, pf_scalar(ctx, 4), 0, false, &idx);
    assert_true(pf_item(v) == 4);
    assert_true(pf_item(idx) == 0);

    assert_null(pf_max_dim(ctx, m, 2, false, &idx));
    assert_null(idx);
    PF_ASSERT_ERROR("pf_max_dim");
    assert_null(pf_max_dim(ctx, pf_zeros(ctx, PF_DIMS(2, 0)), 1, false, NULL));
    PF_ASSERT_ERROR("empty");
    assert_null(pf_argmax(ctx, pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(2)), 0, false));
    PF_ASSERT_ERROR("float");
}

static void test_var_std(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *v = pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(4));
    pf_tensor *v1 = pf_var(ctx, v, 0, NULL, 1, false);
    assert_int_equal(v1->ndim, 0);
    assert_true(fabs(pf_item(v1) - 5.0 / 3) < 1e-6);
    assert_true(fabs(pf_item(pf_var(ctx, v, 0, NULL, 0, false)) - 1.25) < 1e-6);
    assert_true(fabs(pf_item(pf_std(ctx, v, 0, NULL, 1, false)) - sqrt(5.0 / 3)) < 1e-6);
    assert_true(fabs(pf_item(pf_std(ctx, v, 1, (int[]){0}, 0, false)) - sqrt(1.25)) < 1e-6);

    pf_tensor *m = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 6, 8}, PF_DIMS(2, 3));
    pf_tensor *r = pf_var(ctx, m, 1, (int[]){1}, 1, false);
    PF_ASSERT_SHAPE(r, 2);
    PF_ASSERT_VALUES(r, 1e-6, 1, 4);
    pf_tensor *rk = pf_var(ctx, m, 1, (int[]){-1}, 1, true);
    PF_ASSERT_SHAPE(rk, 2, 1);
    PF_ASSERT_VALUES(rk, 1e-6, 1, 4);
    pf_tensor *c = pf_var(ctx, m, 1, (int[]){0}, 0, false);
    PF_ASSERT_SHAPE(c, 3);
    PF_ASSERT_VALUES(c, 1e-6, 2.25, 4, 6.25);
    pf_tensor *ck = pf_std(ctx, m, 1, (int[]){0}, 1, true);
    PF_ASSERT_SHAPE(ck, 1, 3);
    PF_ASSERT_VALUES(ck, 1e-6, sqrt(4.5), sqrt(8.0), sqrt(12.5));
    assert_true(fabs(pf_item(pf_var(ctx, m, 0, NULL, 1, false)) - 6.8) < 1e-5);
    assert_true(fabs(pf_item(pf_var(ctx, m, 2, (int[]){0, 1}, 0, false)) - 34.0 / 6) < 1e-5);
    assert_true(fabs(pf_item(pf_std(ctx, m, 0, NULL, 1, false)) - sqrt(6.8)) < 1e-5);
    /* N - correction = 0: NaN (as PyTorch) */
    assert_true(isnan(pf_item(pf_var(ctx, pf_ones(ctx, PF_DIMS(1)), 0, NULL, 1, false))));
    /* a constant has zero spread */
    assert_true(pf_item(pf_std(ctx, pf_full(ctx, 3, PF_DIMS(5)), 0, NULL, 1, false)) == 0);
    /* float64 */
    pf_tensor *d = pf_var(ctx, pf_from_f64(ctx, (double[]){1, 2, 3, 4}, PF_DIMS(4)), 0, NULL, 1, false);
    assert_int_equal(d->dtype, PF_F64);
    assert_true(fabs(pf_item(d) - 5.0 / 3) < 1e-14);
}

static void test_sum_to(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *g = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    pf_tensor *a = pf_sum_to(ctx, g, PF_DIMS(3));
    PF_ASSERT_SHAPE(a, 3);
    PF_ASSERT_VALUES(a, 0, 5, 7, 9);
    pf_tensor *b = pf_sum_to(ctx, g, PF_DIMS(2, 1));
    PF_ASSERT_SHAPE(b, 2, 1);
    PF_ASSERT_VALUES(b, 0, 6, 15);
    pf_tensor *c = pf_sum_to(ctx, g, PF_DIMS(1, 3));
    PF_ASSERT_SHAPE(c, 1, 3);
    PF_ASSERT_VALUES(c, 0, 5, 7, 9);
    pf_tensor *d = pf_sum_to(ctx, g, PF_DIMS(1, 1));
    PF_ASSERT_VALUES(d, 0, 21);
    pf_tensor *e = pf_sum_to(ctx, g, 0, NULL);
    assert_int_equal(e->ndim, 0);
    assert_true(pf_item(e) == 21);
    pf_tensor *same = pf_sum_to(ctx, g, PF_DIMS(2, 3));
    PF_ASSERT_SHAPE(same, 2, 3);
    PF_ASSERT_VALUES(same, 0, 1, 2, 3, 4, 5, 6);
    /* 3-D down to a middle column */
    pf_tensor *x = iota(ctx, PF_DIMS(2, 3, 4));
    pf_tensor *y = pf_sum_to(ctx, x, PF_DIMS(3, 1));
    PF_ASSERT_SHAPE(y, 3, 1);
    PF_ASSERT_VALUES(y, 0, 60, 92, 124);

    assert_null(pf_sum_to(ctx, g, PF_DIMS(4)));
    PF_ASSERT_ERROR("pf_sum_to");
    assert_null(pf_sum_to(ctx, g, PF_DIMS(2, 2, 3)));
    PF_ASSERT_ERROR("pf_sum_to");
}

/* ---- matmul ------------------------------------------------------------ */

/* out[b..., i, j] = sum_k a[b..., i, k] * b[b..., k, j] computed naively
 * with broadcasting over the batch, for a and b of at least 2 dims. */
static void assert_matmul_reference(pf_ctx *ctx, pf_tensor *a, pf_tensor *b)
{
    pf_tensor *c = pf_matmul(ctx, a, b);
    PF_CHECK(c != NULL);
    int nb = c->ndim - 2;
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
    assert_int_equal(c->shape[nb], m);
    assert_int_equal(c->shape[nb + 1], n);
    int64_t batch = 1;
    for (int i = 0; i < nb; i++)
        batch *= c->shape[i];
    for (int64_t bi = 0; bi < batch; bi++) {
        int64_t ci[PF_MAX_DIMS] = {0}, ai[PF_MAX_DIMS] = {0}, bix[PF_MAX_DIMS] = {0};
        int64_t r = bi;
        for (int d = nb - 1; d >= 0; d--) {
            ci[d] = r % c->shape[d];
            r /= c->shape[d];
        }
        for (int d = 0; d < a->ndim - 2; d++)
            ai[d] = a->shape[d] == 1 ? 0 : ci[nb - (a->ndim - 2) + d];
        for (int d = 0; d < b->ndim - 2; d++)
            bix[d] = b->shape[d] == 1 ? 0 : ci[nb - (b->ndim - 2) + d];
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double acc = 0;
                for (int64_t q = 0; q < k; q++) {
                    ai[a->ndim - 2] = i;
                    ai[a->ndim - 1] = q;
                    bix[b->ndim - 2] = q;
                    bix[b->ndim - 1] = j;
                    acc += pf_get(a, ai) * pf_get(b, bix);
                }
                ci[nb] = i;
                ci[nb + 1] = j;
                double got = pf_get(c, ci);
                double tol = c->dtype == PF_F32 ? 1e-5 : 1e-12;
                if (fabs(got - acc) > tol * (1 + fabs(acc))) {
                    print_error("matmul batch %lld [%lld,%lld]: %.12g, expected %.12g\n", (long long)bi,
                                (long long)i, (long long)j, got, acc);
                    fail();
                }
            }
    }
}

static void test_matmul_shapes(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *u = pf_from_f32(ctx, (float[]){1, 2, 3}, PF_DIMS(3));
    pf_tensor *w = pf_from_f32(ctx, (float[]){4, 5, 6}, PF_DIMS(3));
    pf_tensor *a = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    pf_tensor *b = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(3, 2));

    /* 1-D . 1-D: a dot product, 0-d */
    pf_tensor *dot = pf_matmul(ctx, u, w);
    PF_CHECK(dot != NULL);
    assert_int_equal(dot->ndim, 0);
    assert_true(pf_item(dot) == 32);
    /* 2-D @ 1-D and 1-D @ 2-D: the vector's dimension disappears */
    pf_tensor *mv = pf_matmul(ctx, a, pf_from_f32(ctx, (float[]){1, 0, -1}, PF_DIMS(3)));
    PF_ASSERT_SHAPE(mv, 2);
    PF_ASSERT_VALUES(mv, 0, -2, -2);
    pf_tensor *vm = pf_matmul(ctx, pf_from_f32(ctx, (float[]){1, -1}, PF_DIMS(2)), a);
    PF_ASSERT_SHAPE(vm, 3);
    PF_ASSERT_VALUES(vm, 0, -3, -3, -3);
    /* 2-D @ 2-D */
    pf_tensor *mm = pf_matmul(ctx, a, b);
    PF_ASSERT_SHAPE(mm, 2, 2);
    PF_ASSERT_VALUES(mm, 0, 22, 28, 49, 64);
    PF_ASSERT_SHAPE(pf_matmul(ctx, b, a), 3, 3);
    PF_ASSERT_VALUES(pf_matmul(ctx, b, a), 0, 9, 12, 15, 19, 26, 33, 29, 40, 51);

    /* batched: [2,2,3] @ [2,3,2] */
    pf_tensor *a2 = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0}, PF_DIMS(2, 2, 3));
    pf_tensor *b2 = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3, 2));
    pf_tensor *bm = pf_matmul(ctx, a2, b2);
    PF_ASSERT_SHAPE(bm, 2, 2, 2);
    PF_ASSERT_VALUES(bm, 0, 22, 28, 49, 64, 1, 2, 3, 4);
    /* a batch against one matrix, both ways */
    pf_tensor *bb = pf_matmul(ctx, a2, b);
    PF_ASSERT_SHAPE(bb, 2, 2, 2);
    PF_ASSERT_VALUES(bb, 0, 22, 28, 49, 64, 1, 2, 3, 4);
    PF_ASSERT_SHAPE(pf_matmul(ctx, a, b2), 2, 2, 2);
    PF_ASSERT_VALUES(pf_matmul(ctx, a, b2), 0, 22, 28, 49, 64, 22, 28, 49, 64);
    /* vectors against batches */
    pf_tensor *vb = pf_matmul(ctx, u, b2);
    PF_ASSERT_SHAPE(vb, 2, 2);
    PF_ASSERT_VALUES(vb, 0, 22, 28, 22, 28);
    pf_tensor *bv = pf_matmul(ctx, a2, u);
    PF_ASSERT_SHAPE(bv, 2, 2);
    PF_ASSERT_VALUES(bv, 0, 14, 32, 1, 2);

    /* broadcast batch dimensions: [2,1,2,3] @ [3,3,2] -> [2,3,2,2] */
    pf_tensor *x = rand64(ctx, 1, PF_DIMS(2, 1, 2, 3));
    pf_tensor *y = rand64(ctx, 2, PF_DIMS(3, 3, 2));
    PF_ASSERT_SHAPE(pf_matmul(ctx, x, y), 2, 3, 2, 2);
    assert_matmul_reference(ctx, x, y);
    assert_matmul_reference(ctx, y, rand64(ctx, 3, PF_DIMS(4, 1, 2, 5)));
    assert_matmul_reference(ctx, rand64(ctx, 4, PF_DIMS(7, 5)), rand64(ctx, 5, PF_DIMS(5, 9)));
    /* transposed batches and matrices */
    assert_matmul_reference(ctx, pf_transpose(ctx, rand64(ctx, 6, PF_DIMS(2, 4, 3)), 1, 2),
                            pf_transpose(ctx, rand64(ctx, 7, PF_DIMS(5, 4)), 0, 1));
    assert_matmul_reference(ctx, pf_permute(ctx, rand64(ctx, 8, PF_DIMS(3, 2, 4)), (int[]){1, 0, 2}),
                            rand64(ctx, 9, PF_DIMS(2, 4, 3)));
    assert_matmul_reference(ctx, pf_expand(ctx, rand64(ctx, 10, PF_DIMS(1, 3, 4)), PF_DIMS(2, 3, 4)),
                            rand64(ctx, 11, PF_DIMS(2, 4, 2)));
    /* float32 through BLAS */
    assert_matmul_reference(ctx, pf_to_dtype(ctx, rand64(ctx, 12, PF_DIMS(2, 6, 5)), PF_F32),
                            pf_to_dtype(ctx, rand64(ctx, 13, PF_DIMS(5, 3)), PF_F32));

    /* an empty inner dimension gives zeros */
    pf_tensor *z = pf_matmul(ctx, pf_zeros(ctx, PF_DIMS(2, 0)), pf_zeros(ctx, PF_DIMS(0, 3)));
    PF_ASSERT_SHAPE(z, 2, 3);
    PF_ASSERT_VALUES(z, 0, 0, 0, 0, 0, 0, 0);
}

static void test_matmul_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_zeros(ctx, PF_DIMS(2, 3));
    assert_null(pf_matmul(ctx, a, a));
    PF_ASSERT_ERROR("pf_matmul: [2,3] @ [2,3]: inner dimensions differ (3 vs 2)");
    assert_null(pf_matmul(ctx, a, pf_zeros(ctx, PF_DIMS(2))));
    PF_ASSERT_ERROR("inner dimensions differ");
    assert_null(pf_matmul(ctx, pf_zeros(ctx, PF_DIMS(4)), pf_zeros(ctx, PF_DIMS(3))));
    PF_ASSERT_ERROR("inner dimensions differ");
    assert_null(pf_matmul(ctx, pf_zeros(ctx, PF_DIMS(2, 2, 3)), pf_zeros(ctx, PF_DIMS(3, 3, 2))));
    PF_ASSERT_ERROR("cannot be broadcast");
    assert_null(pf_matmul(ctx, pf_scalar(ctx, 1), a));
    PF_ASSERT_ERROR("at least one dimension");
    assert_null(pf_matmul(ctx, a, pf_zeros_like(ctx, pf_from_f64(ctx, (double[]){1, 2, 3}, PF_DIMS(3)))));
    PF_ASSERT_ERROR("dtypes differ");
    pf_tensor *i = pf_from_i64(ctx, (int64_t[]){1, 2, 3, 4}, PF_DIMS(2, 2));
    assert_null(pf_matmul(ctx, i, i));
    PF_ASSERT_ERROR("int64");
}

/* ---- joins ------------------------------------------------------------- */

static void test_cat_stack(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_from_f32(ctx, (float[]){1, 2, 3, 4}, PF_DIMS(2, 2));
    pf_tensor *b = pf_from_f32(ctx, (float[]){5, 6}, PF_DIMS(1, 2));
    pf_tensor *c = pf_from_f32(ctx, (float[]){7, 8}, PF_DIMS(2, 1));

    pf_tensor *r = pf_cat(ctx, 2, (pf_tensor *[]){a, b}, 0);
    PF_ASSERT_SHAPE(r, 3, 2);
    PF_ASSERT_VALUES(r, 0, 1, 2, 3, 4, 5, 6);
    pf_tensor *s = pf_cat(ctx, 2, (pf_tensor *[]){a, c}, 1);
    PF_ASSERT_SHAPE(s, 2, 3);
    PF_ASSERT_VALUES(s, 0, 1, 2, 7, 3, 4, 8);
    PF_ASSERT_VALUES(pf_cat(ctx, 3, (pf_tensor *[]){c, a, c}, -1), 0, 7, 1, 2, 7, 8, 3, 4, 8);
    /* a transposed input is copied in its view order */
    PF_ASSERT_VALUES(pf_cat(ctx, 2, (pf_tensor *[]){pf_transpose(ctx, a, 0, 1), b}, 0), 0, 1, 3, 2, 4, 5, 6);
    /* one tensor; an empty one */
    PF_ASSERT_VALUES(pf_cat(ctx, 1, (pf_tensor *[]){a}, 0), 0, 1, 2, 3, 4);
    PF_ASSERT_VALUES(pf_cat(ctx, 2, (pf_tensor *[]){pf_zeros(ctx, PF_DIMS(0, 2)), b}, 0), 0, 5, 6);
    /* int64 tensors join too */
    pf_tensor *ci = pf_cat(ctx, 2,
                           (pf_tensor *[]){pf_from_i64(ctx, (int64_t[]){1}, PF_DIMS(1)),
                                           pf_from_i64(ctx, (int64_t[]){INT64_MAX}, PF_DIMS(1))},
                           0);
    assert_int_equal(ci->dtype, PF_I64);
    assert_true(pf_data_i64(ci)[1] == INT64_MAX);

    pf_tensor *v = pf_from_f32(ctx, (float[]){1, 2}, PF_DIMS(2));
    pf_tensor *w = pf_from_f32(ctx, (float[]){3, 4}, PF_DIMS(2));
    pf_tensor *s0 = pf_stack(ctx, 2, (pf_tensor *[]){v, w}, 0);
    PF_ASSERT_SHAPE(s0, 2, 2);
    PF_ASSERT_VALUES(s0, 0, 1, 2, 3, 4);
    pf_tensor *s1 = pf_stack(ctx, 2, (pf_tensor *[]){v, w}, 1);
    PF_ASSERT_SHAPE(s1, 2, 2);
    PF_ASSERT_VALUES(s1, 0, 1, 3, 2, 4);
    pf_tensor *sl = pf_stack(ctx, 3, (pf_tensor *[]){v, w, v}, -1);
    PF_ASSERT_SHAPE(sl, 2, 3);
    PF_ASSERT_VALUES(sl, 0, 1, 3, 1, 2, 4, 2);
    pf_tensor *sc = pf_stack(ctx, 2, (pf_tensor *[]){pf_scalar(ctx, 1), pf_scalar(ctx, 2)}, 0);
    PF_ASSERT_SHAPE(sc, 2);
    PF_ASSERT_VALUES(sc, 0, 1, 2);
    PF_ASSERT_SHAPE(pf_stack(ctx, 2, (pf_tensor *[]){a, a}, 1), 2, 2, 2);
    PF_ASSERT_VALUES(pf_stack(ctx, 2, (pf_tensor *[]){a, a}, 1), 0, 1, 2, 1, 2, 3, 4, 3, 4);
}

static void test_cat_stack_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_zeros(ctx, PF_DIMS(2, 2));
    pf_tensor *b = pf_zeros(ctx, PF_DIMS(2, 3));
    assert_null(pf_cat(ctx, 2, (pf_tensor *[]){a, b}, 0));
    PF_ASSERT_ERROR("pf_cat: tensor 1 ([2,3] float32) does not match tensor 0");
    assert_null(pf_cat(ctx, 2, (pf_tensor *[]){a, pf_zeros(ctx, PF_DIMS(4))}, 0));
    PF_ASSERT_ERROR("does not match");
    pf_tensor *d = pf_zeros_like(ctx, pf_from_f64(ctx, (double[]){1, 2, 3, 4}, PF_DIMS(2, 2)));
    assert_null(pf_cat(ctx, 2, (pf_tensor *[]){a, d}, 0));
    PF_ASSERT_ERROR("float64");
    assert_null(pf_cat(ctx, 2, (pf_tensor *[]){a, a}, 2));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_cat(ctx, 2, (pf_tensor *[]){pf_scalar(ctx, 1), pf_scalar(ctx, 1)}, 0));
    PF_ASSERT_ERROR("0-d");
    assert_null(pf_cat(ctx, 0, (pf_tensor *[]){a}, 0));
    PF_ASSERT_ERROR("no tensors");

    assert_null(pf_stack(ctx, 2, (pf_tensor *[]){a, b}, 0));
    PF_ASSERT_ERROR("pf_stack: tensor 1 has shape [2,3], tensor 0 has [2,2]");
    assert_null(pf_stack(ctx, 2, (pf_tensor *[]){a, pf_zeros(ctx, PF_DIMS(4))}, 0));
    PF_ASSERT_ERROR("pf_stack");
    assert_null(pf_stack(ctx, 2, (pf_tensor *[]){a, a}, 3));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_stack(ctx, 2, (pf_tensor *[]){a, d}, 0));
    PF_ASSERT_ERROR("float64");
    assert_null(pf_stack(ctx, 0, NULL, 0));
    PF_ASSERT_ERROR("no tensors");
}

/* ---- indexing ---------------------------------------------------------- */

static void test_index_select(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(3, 2));
    pf_tensor *r = pf_index_select(ctx, t, 0, pf_from_i64(ctx, (int64_t[]){2, 0, 2}, PF_DIMS(3)));
    PF_ASSERT_SHAPE(r, 3, 2);
    PF_ASSERT_VALUES(r, 0, 5, 6, 1, 2, 5, 6);
    pf_tensor *c = pf_index_select(ctx, t, 1, pf_from_i64(ctx, (int64_t[]){1, 1, 0}, PF_DIMS(3)));
    PF_ASSERT_SHAPE(c, 3, 3);
    PF_ASSERT_VALUES(c, 0, 2, 2, 1, 4, 4, 3, 6, 6, 5);
    PF_ASSERT_VALUES(pf_index_select(ctx, t, -1, pf_from_i64(ctx, (int64_t[]){0}, PF_DIMS(1))), 0, 1, 3, 5);
    PF_ASSERT_SHAPE(pf_index_select(ctx, t, 0, pf_zeros_like(ctx, pf_from_i64(ctx, NULL, PF_DIMS(0)))), 0, 2);
    /* a transposed input and a strided index */
    pf_tensor *idx = pf_slice(ctx, pf_from_i64(ctx, (int64_t[]){1, 9, 0, 9}, PF_DIMS(4)), 0, 0, 4, 2);
    PF_ASSERT_VALUES(pf_index_select(ctx, pf_transpose(ctx, t, 0, 1), 1, idx), 0, 3, 1, 4, 2);
    /* int64 data can be selected too (embedding-style lookups of labels) */
    pf_tensor *lab = pf_index_select(ctx, pf_from_i64(ctx, (int64_t[]){10, 20, 30}, PF_DIMS(3)), 0,
                                     pf_from_i64(ctx, (int64_t[]){2, 2}, PF_DIMS(2)));
    assert_int_equal(lab->dtype, PF_I64);
    PF_ASSERT_VALUES(lab, 0, 30, 30);

    /* out-of-range and negative indices: an error, not a crash */
    assert_null(pf_index_select(ctx, t, 0, pf_from_i64(ctx, (int64_t[]){0, 3}, PF_DIMS(2))));
    PF_ASSERT_ERROR("index 3 is out of range");
    assert_null(pf_index_select(ctx, t, 1, pf_from_i64(ctx, (int64_t[]){-1}, PF_DIMS(1))));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_index_select(ctx, t, 0, pf_from_i64(ctx, (int64_t[]){INT64_MAX}, PF_DIMS(1))));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_index_select(ctx, t, 0, pf_zeros(ctx, PF_DIMS(2))));
    PF_ASSERT_ERROR("int64");
    assert_null(pf_index_select(ctx, t, 0, pf_from_i64(ctx, (int64_t[]){0, 1, 0, 1}, PF_DIMS(2, 2))));
    PF_ASSERT_ERROR("1-D");
    assert_null(pf_index_select(ctx, t, 2, pf_from_i64(ctx, (int64_t[]){0}, PF_DIMS(1))));
    PF_ASSERT_ERROR("out of range");
}

static void test_gather(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    /* dim 1: out[i][j] = t[i][index[i][j]] */
    pf_tensor *g1 = pf_gather(ctx, t, 1, pf_from_i64(ctx, (int64_t[]){2, 0, 1, 1}, PF_DIMS(2, 2)));
    PF_ASSERT_SHAPE(g1, 2, 2);
    PF_ASSERT_VALUES(g1, 0, 3, 1, 5, 5);
    /* dim 0: out[i][j] = t[index[i][j]][j] */
    pf_tensor *g0 = pf_gather(ctx, t, 0, pf_from_i64(ctx, (int64_t[]){1, 0, 1}, PF_DIMS(1, 3)));
    PF_ASSERT_SHAPE(g0, 1, 3);
    PF_ASSERT_VALUES(g0, 0, 4, 2, 6);
    PF_ASSERT_VALUES(pf_gather(ctx, t, -1, pf_from_i64(ctx, (int64_t[]){0, 0, 0, 2, 2, 2}, PF_DIMS(2, 3))), 0, 1,
                     1, 1, 6, 6, 6);
    /* picking the target class of each row, as a loss does */
    pf_tensor *labels = pf_from_i64(ctx, (int64_t[]){2, 0}, PF_DIMS(2, 1));
    PF_ASSERT_VALUES(pf_gather(ctx, t, 1, labels), 0, 3, 4);
    /* a transposed input */
    PF_ASSERT_VALUES(pf_gather(ctx, pf_transpose(ctx, t, 0, 1), 1,
                               pf_from_i64(ctx, (int64_t[]){1, 0, 1}, PF_DIMS(3, 1))),
                     0, 4, 2, 6);

    assert_null(pf_gather(ctx, t, 1, pf_from_i64(ctx, (int64_t[]){0, 3}, PF_DIMS(2, 1))));
    PF_ASSERT_ERROR("pf_gather: index 3 is out of range");
    assert_null(pf_gather(ctx, t, 0, pf_from_i64(ctx, (int64_t[]){0, -1, 0}, PF_DIMS(1, 3))));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_gather(ctx, t, 1, pf_from_i64(ctx, (int64_t[]){0, 0, 0}, PF_DIMS(3, 1))));
    PF_ASSERT_ERROR("must have the shape");
    assert_null(pf_gather(ctx, t, 1, pf_from_i64(ctx, (int64_t[]){0, 0}, PF_DIMS(2))));
    PF_ASSERT_ERROR("pf_gather");
    assert_null(pf_gather(ctx, t, 1, pf_zeros(ctx, PF_DIMS(2, 1))));
    PF_ASSERT_ERROR("int64");
}

/* Indices are checked against the size of the viewed (transposed) input,
 * not against the storage: t^T is [3,2], so index 2 is out of range even
 * though t has 3 columns. */
static void test_gather_transposed_out_of_range(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    pf_tensor *tt = pf_transpose(ctx, t, 0, 1); /* [3,2] */
    assert_null(pf_gather(ctx, tt, 1, pf_from_i64(ctx, (int64_t[]){2, 0, 1}, PF_DIMS(3, 1))));
    PF_ASSERT_ERROR("out of range");
}

/* ---- softmax ----------------------------------------------------------- */

static void test_softmax(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_from_f32(ctx, (float[]){1, 2, 3}, PF_DIMS(3));
    pf_tensor *s = pf_softmax(ctx, x, 0);
    PF_ASSERT_SHAPE(s, 3);
    PF_ASSERT_VALUES(s, 1e-7, 0.0900305732, 0.2447284711, 0.6652409558);
    PF_ASSERT_VALUES(pf_log_softmax(ctx, x, -1), 1e-6, -2.4076059644, -1.4076059644, -0.4076059644);

    /* rows of a random matrix sum to 1, along either dimension */
    pf_manual_seed(11);
    pf_tensor *m = pf_mul_scalar(ctx, pf_randn(ctx, PF_DIMS(4, 5)), 10);
    pf_tensor *rows = pf_sum_dims(ctx, pf_softmax(ctx, m, 1), 1, (int[]){1}, false);
    PF_ASSERT_VALUES(rows, 1e-6, 1, 1, 1, 1);
    pf_tensor *cols = pf_sum_dims(ctx, pf_softmax(ctx, m, 0), 1, (int[]){0}, false);
    PF_ASSERT_VALUES(cols, 1e-6, 1, 1, 1, 1, 1);
    pf_tensor *sm = pf_softmax(ctx, m, 1);
    for (int i = 0; i < 20; i++)
        assert_true(pf_data_f32(sm)[i] >= 0 && pf_data_f32(sm)[i] <= 1);
    /* the middle dimension of a 3-D tensor */
    pf_tensor *t3 = pf_softmax(ctx, pf_randn(ctx, PF_DIMS(2, 3, 4)), 1);
    PF_ASSERT_VALUES(pf_sum_dims(ctx, t3, 1, (int[]){1}, false), 1e-6, 1, 1, 1, 1, 1, 1, 1, 1);

    /* large inputs do not overflow */
    pf_tensor *big = pf_from_f32(ctx, (float[]){1000, 1001, -1000, -1001}, PF_DIMS(2, 2));
    PF_ASSERT_VALUES(pf_softmax(ctx, big, 1), 1e-6, 0.2689414214, 0.7310585786, 0.7310585786, 0.2689414214);
    PF_ASSERT_VALUES(pf_log_softmax(ctx, big, 1), 1e-4, -1.3132616875, -0.3132616875, -0.3132616875,
                     -1.3132616875);
    /* -inf gets probability 0 */
    pf_tensor *ninf = pf_from_f32(ctx, (float[]){-INFINITY, 0, 0}, PF_DIMS(3));
    PF_ASSERT_VALUES(pf_softmax(ctx, ninf, 0), 1e-7, 0, 0.5, 0.5);
    /* a single element, a 0-d tensor */
    PF_ASSERT_VALUES(pf_softmax(ctx, pf_from_f32(ctx, (float[]){-7}, PF_DIMS(1)), 0), 0, 1);
    assert_true(pf_item(pf_softmax(ctx, pf_scalar(ctx, 3), 0)) == 1);

    /* log_softmax equals log(softmax) */
    pf_tensor *d = pf_requires_grad(pf_test_rand64(ctx, 5, -3, 3, PF_DIMS(3, 4)), false);
    PF_ASSERT_CLOSE(pf_log_softmax(ctx, d, 1), pf_log(ctx, pf_softmax(ctx, d, 1)), 0, 1e-12);
    PF_ASSERT_CLOSE(pf_log_softmax(ctx, d, 0), pf_log(ctx, pf_softmax(ctx, d, 0)), 0, 1e-12);
    PF_ASSERT_CLOSE(pf_log_softmax(ctx, m, 1), pf_log(ctx, pf_softmax(ctx, m, 1)), 0, 1e-4);
    assert_int_equal(pf_softmax(ctx, d, 0)->dtype, PF_F64);

    assert_null(pf_softmax(ctx, m, 2));
    PF_ASSERT_ERROR("pf_softmax");
    assert_null(pf_log_softmax(ctx, m, -3));
    PF_ASSERT_ERROR("pf_log_softmax");
}

/* ---- tensors large enough for the threaded kernel paths ------------------ */

static void test_large_tensors(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(21);
    /* 257 x 131 = 33667 elements: several chunks, none aligned with rows */
    pf_tensor *a = pf_randn(ctx, PF_DIMS(257, 131));
    pf_tensor *b = pf_randn(ctx, PF_DIMS(257));
    const float *pa = pf_data_f32(a), *pb = pf_data_f32(b);
    pf_tensor *at = pf_transpose(ctx, a, 0, 1); /* [131, 257] */

    pf_tensor *s = pf_add(ctx, at, b);
    PF_ASSERT_SHAPE(s, 131, 257);
    const float *ps = pf_data_f32(s);
    for (int i = 0; i < 131; i++)
        for (int j = 0; j < 257; j++)
            assert_true(ps[i * 257 + j] == pa[j * 131 + i] + pb[j]);

    pf_tensor *e = pf_exp(ctx, at);
    const float *pe = pf_data_f32(e);
    for (int i = 0; i < 131; i++)
        for (int j = 0; j < 257; j++)
            assert_true(fabsf(pe[i * 257 + j] - expf(pa[j * 131 + i])) <= 1e-6f * expf(pa[j * 131 + i]));

    pf_tensor *c = pf_contiguous(ctx, at);
    const float *pc = pf_data_f32(c);
    for (int i = 0; i < 131; i++)
        for (int j = 0; j < 257; j++)
            assert_true(pc[i * 257 + j] == pa[j * 131 + i]);

    /* column sums (over the transposed rows), and the maximum of each row */
    pf_tensor *cs = pf_sum_dims(ctx, at, 1, (int[]){1}, false);
    pf_tensor *idx = NULL;
    pf_tensor *mx = pf_max_dim(ctx, at, 1, false, &idx);
    for (int i = 0; i < 131; i++) {
        double acc = 0;
        float best = -INFINITY;
        int64_t at_best = -1;
        for (int j = 0; j < 257; j++) {
            float v = pa[j * 131 + i];
            acc += v;
            if (v > best) {
                best = v;
                at_best = j;
            }
        }
        assert_true(fabs(pf_data_f32(cs)[i] - acc) < 1e-4);
        assert_true(pf_data_f32(mx)[i] == best);
        assert_true(pf_data_i64(idx)[i] == at_best);
    }

    /* softmax along the long dimension sums to one */
    pf_tensor *sm = pf_softmax(ctx, pf_view(ctx, a, PF_DIMS(257, 131)), 0);
    pf_tensor *ones = pf_sum_dims(ctx, sm, 1, (int[]){0}, false);
    for (int i = 0; i < 131; i++)
        assert_true(fabs(pf_data_f32(ones)[i] - 1) < 1e-5);

    /* index_select and gather of many rows */
    pf_tensor *perm = pf_randperm(ctx, 257);
    pf_tensor *sel = pf_index_select(ctx, a, 0, perm);
    const int64_t *pp = pf_data_i64(perm);
    for (int r = 0; r < 257; r++)
        assert_true(memcmp(pf_data_f32(sel) + r * 131, pa + pp[r] * 131, 131 * sizeof(float)) == 0);
    pf_tensor *gi = pf_randint(ctx, 0, 131, PF_DIMS(257, 131));
    pf_tensor *g = pf_gather(ctx, a, 1, gi);
    for (int64_t k = 0; k < 257 * 131; k++)
        assert_true(pf_data_f32(g)[k] == pa[(k / 131) * 131 + pf_data_i64(gi)[k]]);
}

/* ---- dtype errors ------------------------------------------------------ */

static void test_dtype_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *f = pf_ones(ctx, PF_DIMS(2));
    pf_tensor *d = pf_to_dtype(ctx, f, PF_F64);
    pf_tensor *i = pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(2));
    pf_tensor *u = pf_from_u8(ctx, (uint8_t[]){1, 2}, PF_DIMS(2));

    assert_null(pf_add(ctx, f, d));
    PF_ASSERT_ERROR("pf_add: dtypes differ (float32 and float64)");
    assert_null(pf_mul(ctx, d, f));
    PF_ASSERT_ERROR("dtypes differ (float64 and float32)");
    assert_null(pf_sub(ctx, f, i));
    PF_ASSERT_ERROR("pf_sub: expected a float32 or float64 tensor, got int64");
    assert_null(pf_div(ctx, i, i));
    PF_ASSERT_ERROR("int64");

    assert_null(pf_exp(ctx, i));
    PF_ASSERT_ERROR("pf_exp: expected a float32 or float64 tensor, got int64");
    assert_null(pf_relu(ctx, u));
    PF_ASSERT_ERROR("uint8");
    assert_null(pf_add_scalar(ctx, i, 1));
    PF_ASSERT_ERROR("int64");
    assert_null(pf_sum(ctx, i));
    PF_ASSERT_ERROR("int64");
    assert_null(pf_mean(ctx, u));
    PF_ASSERT_ERROR("uint8");
    assert_null(pf_max_dim(ctx, i, 0, false, NULL));
    PF_ASSERT_ERROR("int64");
    assert_null(pf_var(ctx, i, 0, NULL, 1, false));
    PF_ASSERT_ERROR("int64");
    assert_null(pf_softmax(ctx, i, 0));
    PF_ASSERT_ERROR("int64");
    assert_null(pf_log_softmax(ctx, u, 0));
    PF_ASSERT_ERROR("uint8");
    assert_null(pf_matmul(ctx, f, d));
    PF_ASSERT_ERROR("dtypes differ");
    /* the fix is a conversion */
    PF_ASSERT_VALUES(pf_add(ctx, f, pf_to_dtype(ctx, i, PF_F32)), 0, 2, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_binary_same_shape),
        TEST(test_binary_broadcast),
        TEST(test_scalar_ops),
        TEST(test_unary),
        TEST(test_ops_on_strided_views),
        TEST(test_sum_mean),
        TEST(test_max_dim),
        TEST(test_var_std),
        TEST(test_sum_to),
        TEST(test_matmul_shapes),
        TEST(test_matmul_errors),
        TEST(test_cat_stack),
        TEST(test_cat_stack_errors),
        TEST(test_index_select),
        TEST(test_gather),
        TEST(test_gather_transposed_out_of_range),
        TEST(test_softmax),
        TEST(test_large_tensors),
        TEST(test_dtype_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
