/*
 * test_tensor.c — the foundation: creating tensors, dtypes and conversions,
 * element access and its errors, in-place writes, memory contexts, the random
 * generator, shape limits and the sticky error state.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, pf_test_setup, pf_test_teardown)

/* ---- creation ---------------------------------------------------------- */

static void test_zeros_ones_full(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *z = pf_zeros(ctx, PF_DIMS(2, 3));
    PF_ASSERT_SHAPE(z, 2, 3);
    assert_int_equal(z->dtype, PF_F32);
    assert_int_equal(z->device, PF_CPU);
    assert_true(z->ctx == ctx);
    assert_int_equal(z->stride[0], 3);
    assert_int_equal(z->stride[1], 1);
    assert_int_equal(z->offset, 0);
    assert_true(pf_is_contiguous(z));
    assert_false(z->requires_grad);
    assert_null(z->node);
    assert_null(z->grad);
    assert_int_equal(pf_numel(z), 6);
    PF_ASSERT_VALUES(z, 0, 0, 0, 0, 0, 0, 0);

    pf_tensor *o = pf_ones(ctx, PF_DIMS(3));
    PF_ASSERT_SHAPE(o, 3);
    PF_ASSERT_VALUES(o, 0, 1, 1, 1);

    pf_tensor *f = pf_full(ctx, -2.5, PF_DIMS(2, 1, 2));
    PF_ASSERT_SHAPE(f, 2, 1, 2);
    assert_int_equal(f->dtype, PF_F32);
    PF_ASSERT_VALUES(f, 0, -2.5, -2.5, -2.5, -2.5);

    /* 0-d and empty tensors */
    pf_tensor *s = pf_zeros(ctx, 0, NULL);
    PF_CHECK(s != NULL);
    assert_int_equal(s->ndim, 0);
    assert_int_equal(pf_numel(s), 1);
    pf_tensor *e = pf_ones(ctx, PF_DIMS(2, 0));
    PF_ASSERT_SHAPE(e, 2, 0);
    assert_int_equal(pf_numel(e), 0);
}

static void test_arange(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_arange(ctx, 0, 5, 1);
    PF_ASSERT_SHAPE(a, 5);
    assert_int_equal(a->dtype, PF_F32);
    PF_ASSERT_VALUES(a, 0, 0, 1, 2, 3, 4);

    PF_ASSERT_VALUES(pf_arange(ctx, 1, 2, 0.25), 0, 1, 1.25, 1.5, 1.75);
    /* the end is excluded even when not reached exactly */
    PF_ASSERT_VALUES(pf_arange(ctx, 0, 7, 3), 0, 0, 3, 6);

    /* negative step */
    pf_tensor *down = pf_arange(ctx, 5, 0, -1);
    PF_ASSERT_SHAPE(down, 5);
    PF_ASSERT_VALUES(down, 0, 5, 4, 3, 2, 1);
    PF_ASSERT_VALUES(pf_arange(ctx, 0, -3, -1.5), 0, 0, -1.5);

    /* empty ranges */
    pf_tensor *e1 = pf_arange(ctx, 3, 3, 1);
    PF_ASSERT_SHAPE(e1, 0);
    pf_tensor *e2 = pf_arange(ctx, 5, 0, 1);
    PF_ASSERT_SHAPE(e2, 0);
    pf_tensor *e3 = pf_arange(ctx, 0, 5, -1);
    PF_ASSERT_SHAPE(e3, 0);

    /* a zero step is an error */
    assert_null(pf_arange(ctx, 0, 5, 0));
    PF_ASSERT_ERROR("pf_arange");
    assert_null(pf_arange(ctx, 0, INFINITY, 1));
    PF_ASSERT_ERROR("pf_arange");
}

static void test_from_arrays(void **state)
{
    pf_ctx *ctx = *state;
    float f32[] = {1.5f, -2, 3, 4.25f, 5, 6};
    pf_tensor *a = pf_from_f32(ctx, f32, PF_DIMS(2, 3));
    PF_ASSERT_SHAPE(a, 2, 3);
    assert_int_equal(a->dtype, PF_F32);
    PF_ASSERT_VALUES(a, 0, 1.5, -2, 3, 4.25, 5, 6);
    /* a copy: changing the C array afterwards changes nothing */
    f32[0] = 100;
    assert_true(pf_get(a, (int64_t[]){0, 0}) == 1.5);
    assert_true(pf_data_f32(a) != f32);

    double f64[] = {0.1, 1e300, -3};
    pf_tensor *b = pf_from_f64(ctx, f64, PF_DIMS(3));
    assert_int_equal(b->dtype, PF_F64);
    /* exact, no rounding through float */
    assert_true(pf_data_f64(b)[0] == 0.1);
    assert_true(pf_data_f64(b)[1] == 1e300);

    int64_t i64[] = {-5, 0, INT64_MAX, 7};
    pf_tensor *c = pf_from_i64(ctx, i64, PF_DIMS(2, 2));
    assert_int_equal(c->dtype, PF_I64);
    assert_true(pf_data_i64(c)[2] == INT64_MAX);
    assert_true(pf_data_i64(c)[0] == -5);
    assert_true(pf_get(c, (int64_t[]){1, 1}) == 7);

    uint8_t u8[] = {0, 1, 255};
    pf_tensor *d = pf_from_u8(ctx, u8, PF_DIMS(3));
    assert_int_equal(d->dtype, PF_U8);
    PF_ASSERT_VALUES(d, 0, 0, 1, 255);

    /* a 0-d tensor from an array of one element */
    pf_tensor *s = pf_from_f32(ctx, (float[]){42}, 0, NULL);
    assert_int_equal(s->ndim, 0);
    assert_true(pf_item(s) == 42);

    /* NULL data for a non-empty shape is an error */
    assert_null(pf_from_f32(ctx, NULL, PF_DIMS(2)));
    PF_ASSERT_ERROR("NULL data");
}

static void test_scalar_and_like(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *s = pf_scalar(ctx, 3.5);
    PF_CHECK(s != NULL);
    assert_int_equal(s->ndim, 0);
    assert_int_equal(s->dtype, PF_F32);
    assert_int_equal(pf_numel(s), 1);
    assert_true(pf_item(s) == 3.5);

    pf_tensor *b = pf_from_f64(ctx, (double[]){1, 2, 3, 4, 5, 6}, PF_DIMS(3, 2));
    pf_tensor *z = pf_zeros_like(ctx, b);
    PF_ASSERT_SHAPE(z, 3, 2);
    assert_int_equal(z->dtype, PF_F64);
    assert_true(z->storage != b->storage);
    PF_ASSERT_VALUES(z, 0, 0, 0, 0, 0, 0, 0);
    pf_tensor *o = pf_ones_like(ctx, pf_transpose(ctx, b, 0, 1));
    PF_ASSERT_SHAPE(o, 2, 3);
    assert_true(pf_is_contiguous(o));
    assert_int_equal(o->dtype, PF_F64);
    PF_ASSERT_VALUES(o, 0, 1, 1, 1, 1, 1, 1);
    /* the _like of an int tensor keeps the dtype */
    pf_tensor *zi = pf_zeros_like(ctx, pf_from_i64(ctx, (int64_t[]){9, 9}, PF_DIMS(2)));
    assert_int_equal(zi->dtype, PF_I64);
    PF_ASSERT_VALUES(zi, 0, 0, 0);
}

static void test_shape_helpers(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_zeros(ctx, PF_DIMS(2, 3, 4));
    char buf[64];
    assert_string_equal(pf_shape_str(t, buf, sizeof buf), "[2,3,4]");
    assert_string_equal(pf_shape_str(pf_scalar(ctx, 1), buf, sizeof buf), "[]");
    /* truncated, but terminated */
    char small[4];
    pf_shape_str(t, small, sizeof small);
    assert_int_equal(strlen(small), 3);
    assert_true(pf_same_shape(t, pf_ones(ctx, PF_DIMS(2, 3, 4))));
    assert_false(pf_same_shape(t, pf_ones(ctx, PF_DIMS(2, 4, 3))));
    assert_false(pf_same_shape(t, pf_ones(ctx, PF_DIMS(2, 3))));
    assert_false(pf_same_shape(t, NULL));
    assert_int_equal(pf_numel(t), 24);
    assert_int_equal(pf_numel(NULL), 0);
    assert_false(pf_is_contiguous(pf_transpose(ctx, t, 0, 2)));
    /* size-1 dimensions do not matter for contiguity */
    assert_true(pf_is_contiguous(pf_transpose(ctx, pf_zeros(ctx, PF_DIMS(1, 5)), 0, 1)));
}

/* ---- dtypes ------------------------------------------------------------ */

static void test_dtype_info(void **state)
{
    (void)state;
    assert_int_equal(pf_dtype_size(PF_F32), 4);
    assert_int_equal(pf_dtype_size(PF_F64), 8);
    assert_int_equal(pf_dtype_size(PF_I64), 8);
    assert_int_equal(pf_dtype_size(PF_U8), 1);
    assert_string_equal(pf_dtype_name(PF_F32), "float32");
    assert_string_equal(pf_dtype_name(PF_F64), "float64");
    assert_string_equal(pf_dtype_name(PF_I64), "int64");
    assert_string_equal(pf_dtype_name(PF_U8), "uint8");
}

static void test_to_dtype(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *f = pf_from_f32(ctx, (float[]){-2.7f, -0.5f, 0.5f, 2.7f, 300, -5, 254.9f, 1e10f}, PF_DIMS(2, 4));

    /* float -> int64 truncates toward zero */
    pf_tensor *i = pf_to_dtype(ctx, f, PF_I64);
    PF_ASSERT_SHAPE(i, 2, 4);
    assert_int_equal(i->dtype, PF_I64);
    int64_t *pi = pf_data_i64(i);
    PF_CHECK(pi != NULL);
    int64_t want_i[] = {-2, 0, 0, 2, 300, -5, 254, 10000000000};
    for (int k = 0; k < 8; k++)
        assert_true(pi[k] == want_i[k]);

    /* float -> uint8 truncates and saturates to [0, 255] */
    pf_tensor *u = pf_to_dtype(ctx, f, PF_U8);
    assert_int_equal(u->dtype, PF_U8);
    uint8_t *pu = pf_data_u8(u);
    PF_CHECK(pu != NULL);
    uint8_t want_u[] = {0, 0, 0, 2, 255, 0, 254, 255};
    for (int k = 0; k < 8; k++)
        assert_int_equal(pu[k], want_u[k]);

    /* int64 -> uint8 saturates too */
    pf_tensor *iu = pf_to_dtype(ctx, pf_from_i64(ctx, (int64_t[]){-1, 256, 17}, PF_DIMS(3)), PF_U8);
    PF_ASSERT_VALUES(iu, 0, 0, 255, 17);

    /* uint8 -> float and float32 -> float64 are exact */
    pf_tensor *uf = pf_to_dtype(ctx, pf_from_u8(ctx, (uint8_t[]){0, 128, 255}, PF_DIMS(3)), PF_F32);
    assert_int_equal(uf->dtype, PF_F32);
    PF_ASSERT_VALUES(uf, 0, 0, 128, 255);
    pf_tensor *d = pf_to_dtype(ctx, pf_from_f32(ctx, (float[]){0.1f}, PF_DIMS(1)), PF_F64);
    assert_int_equal(d->dtype, PF_F64);
    assert_true(pf_data_f64(d)[0] == (double)0.1f);

    /* float64 -> float32 rounds */
    pf_tensor *r = pf_to_dtype(ctx, pf_from_f64(ctx, (double[]){0.1}, PF_DIMS(1)), PF_F32);
    assert_true(pf_data_f32(r)[0] == 0.1f);

    /* a copy: contiguous, own storage, even to the same dtype, and from a view */
    pf_tensor *same = pf_to_dtype(ctx, f, PF_F32);
    assert_true(same != f && same->storage != f->storage);
    pf_tensor *tv = pf_to_dtype(ctx, pf_transpose(ctx, f, 0, 1), PF_F64);
    PF_ASSERT_SHAPE(tv, 4, 2);
    assert_true(pf_is_contiguous(tv));
    PF_ASSERT_VALUES(tv, 1e-4, -2.7, 300, -0.5, -5, 0.5, 254.9, 2.7, 1e10);

    assert_null(pf_to_dtype(ctx, f, (pf_dtype)17));
    PF_ASSERT_ERROR("pf_to_dtype");
}

/* ---- element access ---------------------------------------------------- */

static void test_get_set_item(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_from_f32(ctx, (float[]){0, 1, 2, 3, 4, 5}, PF_DIMS(2, 3));
    assert_true(pf_get(t, (int64_t[]){0, 0}) == 0);
    assert_true(pf_get(t, (int64_t[]){1, 2}) == 5);
    assert_true(pf_get(t, (int64_t[]){1, 0}) == 3);
    PF_CHECK(pf_set(t, (int64_t[]){0, 1}, 7.5));
    assert_true(pf_get(t, (int64_t[]){0, 1}) == 7.5);
    assert_true(pf_data_f32(t)[1] == 7.5f);

    /* through a view: the view's own geometry is used */
    pf_tensor *tt = pf_transpose(ctx, t, 0, 1);
    assert_true(pf_get(tt, (int64_t[]){2, 1}) == 5);
    PF_CHECK(pf_set(tt, (int64_t[]){0, 1}, -1));
    assert_true(pf_get(t, (int64_t[]){1, 0}) == -1);
    pf_tensor *row = pf_select(ctx, t, 0, 1);
    assert_true(pf_get(row, (int64_t[]){2}) == 5);

    /* other dtypes: set converts as pf_to_dtype does */
    pf_tensor *i = pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(2));
    PF_CHECK(pf_set(i, (int64_t[]){1}, 3.9));
    assert_true(pf_data_i64(i)[1] == 3);
    pf_tensor *u = pf_from_u8(ctx, (uint8_t[]){1, 2}, PF_DIMS(2));
    PF_CHECK(pf_set(u, (int64_t[]){0}, 300));
    assert_int_equal(pf_data_u8(u)[0], 255);
    pf_tensor *d = pf_from_f64(ctx, (double[]){1, 2}, PF_DIMS(2));
    PF_CHECK(pf_set(d, (int64_t[]){0}, 0.1));
    assert_true(pf_get(d, (int64_t[]){0}) == 0.1);

    /* item */
    assert_true(pf_item(pf_scalar(ctx, -4)) == -4);
    assert_true(pf_item(pf_full(ctx, 6, PF_DIMS(1, 1, 1))) == 6);
    assert_true(pf_item(pf_from_i64(ctx, (int64_t[]){-9}, PF_DIMS(1))) == -9);
    /* a 0-d tensor is indexed with no index at all */
    assert_true(pf_get(pf_scalar(ctx, 2), NULL) == 2);
    PF_CHECK(pf_ok());
}

static void test_get_set_item_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_zeros(ctx, PF_DIMS(2, 3));
    assert_true(isnan(pf_get(t, (int64_t[]){2, 0})));
    PF_ASSERT_ERROR("out of range");
    assert_true(isnan(pf_get(t, (int64_t[]){0, 3})));
    PF_ASSERT_ERROR("pf_get");
    /* negative indices are not allowed here */
    assert_true(isnan(pf_get(t, (int64_t[]){-1, 0})));
    PF_ASSERT_ERROR("out of range");
    assert_false(pf_set(t, (int64_t[]){0, 5}, 1));
    PF_ASSERT_ERROR("pf_set");
    assert_false(pf_set(t, (int64_t[]){0, -1}, 1));
    PF_ASSERT_ERROR("out of range");
    PF_ASSERT_VALUES(t, 0, 0, 0, 0, 0, 0, 0); /* nothing was written */

    assert_true(isnan(pf_item(t)));
    PF_ASSERT_ERROR("pf_item");
    assert_true(isnan(pf_item(pf_zeros(ctx, PF_DIMS(0)))));
    PF_ASSERT_ERROR("not one element");

    /* NULL tensors give NaN/false and no new error */
    assert_true(isnan(pf_item(NULL)));
    assert_true(isnan(pf_get(NULL, (int64_t[]){0})));
    assert_false(pf_set(NULL, (int64_t[]){0}, 1));
}

static void test_data_pointers(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *f = pf_zeros(ctx, PF_DIMS(2, 2));
    pf_tensor *d = pf_zeros_like(ctx, pf_from_f64(ctx, (double[]){1}, PF_DIMS(1)));
    pf_tensor *i = pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(2));
    pf_tensor *u = pf_from_u8(ctx, (uint8_t[]){1, 2}, PF_DIMS(2));
    PF_CHECK(pf_data_f32(f) != NULL);
    PF_CHECK(pf_data_f64(d) != NULL);
    PF_CHECK(pf_data_i64(i) != NULL);
    PF_CHECK(pf_data_u8(u) != NULL);

    /* wrong dtype */
    assert_null(pf_data_f64(f));
    PF_ASSERT_ERROR("pf_data_f64: the tensor is float32");
    assert_null(pf_data_f32(i));
    PF_ASSERT_ERROR("int64");
    assert_null(pf_data_i64(u));
    PF_ASSERT_ERROR("uint8");
    assert_null(pf_data_u8(d));
    PF_ASSERT_ERROR("float64");

    /* not contiguous */
    pf_tensor *big = pf_arange(ctx, 0, 6, 1);
    pf_tensor *m = pf_view(ctx, big, PF_DIMS(2, 3));
    assert_null(pf_data_f32(pf_transpose(ctx, m, 0, 1)));
    PF_ASSERT_ERROR("not contiguous");
    assert_null(pf_data_f32(pf_slice(ctx, big, 0, 0, 6, 2)));
    PF_ASSERT_ERROR("not contiguous");

    /* a contiguous view with an offset points at its first element, and
     * writes through it are seen by every view */
    pf_tensor *row1 = pf_select(ctx, m, 0, 1);
    float *p = pf_data_f32(row1);
    PF_CHECK(p != NULL);
    assert_true(p[0] == 3 && p[2] == 5);
    p[1] = 40;
    assert_true(pf_get(big, (int64_t[]){4}) == 40);
    assert_true(pf_get(pf_transpose(ctx, m, 0, 1), (int64_t[]){1, 1}) == 40);
    assert_null(pf_data_f32(NULL));
}

static void test_copy_to_permuted(void **state)
{
    pf_ctx *ctx = *state;
    /* [2,3,4] = 0..23, permuted to [4,2,3] */
    pf_tensor *t = pf_view(ctx, pf_arange(ctx, 0, 24, 1), PF_DIMS(2, 3, 4));
    pf_tensor *p = pf_permute(ctx, t, (int[]){2, 0, 1});
    PF_ASSERT_SHAPE(p, 4, 2, 3);
    float out[24];
    PF_CHECK(pf_copy_to_f32(p, out));
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++)
                assert_true(out[a * 6 + b * 3 + c] == (float)(b * 12 + c * 4 + a));

    /* from int64, through a transpose, to double */
    pf_tensor *i = pf_from_i64(ctx, (int64_t[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    double d[6];
    PF_CHECK(pf_copy_to_f64(pf_transpose(ctx, i, 0, 1), d));
    double want[] = {1, 4, 2, 5, 3, 6};
    for (int k = 0; k < 6; k++)
        assert_true(d[k] == want[k]);

    /* broadcast (stride 0) views copy their repeated values */
    pf_tensor *e = pf_expand(ctx, pf_from_f32(ctx, (float[]){7, 8}, PF_DIMS(2, 1)), PF_DIMS(2, 3));
    PF_CHECK(pf_copy_to_f32(e, out));
    float want_e[] = {7, 7, 7, 8, 8, 8};
    for (int k = 0; k < 6; k++)
        assert_true(out[k] == want_e[k]);

    assert_false(pf_copy_to_f32(t, NULL));
    PF_ASSERT_ERROR("NULL destination");
}

static void test_fill(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_zeros(ctx, PF_DIMS(3, 4));
    PF_CHECK(pf_fill_(t, 2.5));
    PF_ASSERT_VALUES(t, 0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5);
    /* through a view: only the view's elements change */
    PF_CHECK(pf_fill_(pf_narrow(ctx, t, 1, 1, 2), -1));
    PF_ASSERT_VALUES(t, 0, 2.5, -1, -1, 2.5, 2.5, -1, -1, 2.5, 2.5, -1, -1, 2.5);
    PF_CHECK(pf_fill_(pf_select(ctx, pf_transpose(ctx, t, 0, 1), 0, 3), 9));
    PF_ASSERT_VALUES(t, 0, 2.5, -1, -1, 9, 2.5, -1, -1, 9, 2.5, -1, -1, 9);

    pf_tensor *i = pf_from_i64(ctx, (int64_t[]){1, 2, 3}, PF_DIMS(3));
    PF_CHECK(pf_fill_(i, -7.8));
    assert_true(pf_data_i64(i)[0] == -7 && pf_data_i64(i)[2] == -7);
    pf_tensor *d = pf_zeros_like(ctx, pf_from_f64(ctx, (double[]){0, 0}, PF_DIMS(2)));
    PF_CHECK(pf_fill_(d, 0.1));
    assert_true(pf_data_f64(d)[1] == 0.1);
    PF_CHECK(pf_fill_(pf_zeros(ctx, PF_DIMS(0, 3)), 1)); /* empty: nothing to do */
    assert_false(pf_fill_(NULL, 1));
}

static void test_copy_(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *dst = pf_zeros(ctx, PF_DIMS(2, 3));
    pf_tensor *src = pf_from_f64(ctx, (double[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3));
    PF_CHECK(pf_copy_(dst, src));
    assert_int_equal(dst->dtype, PF_F32);
    PF_ASSERT_VALUES(dst, 0, 1, 2, 3, 4, 5, 6);

    /* from a transposed source */
    pf_tensor *srct = pf_from_f32(ctx, (float[]){10, 20, 30, 40, 50, 60}, PF_DIMS(3, 2));
    PF_CHECK(pf_copy_(dst, pf_transpose(ctx, srct, 0, 1)));
    PF_ASSERT_VALUES(dst, 0, 10, 30, 50, 20, 40, 60);

    /* into a view */
    PF_CHECK(pf_copy_(pf_select(ctx, dst, 1, 2), pf_from_i64(ctx, (int64_t[]){-1, -2}, PF_DIMS(2))));
    PF_ASSERT_VALUES(dst, 0, 10, 30, -1, 20, 40, -2);

    /* shapes must match exactly (no broadcasting) */
    assert_false(pf_copy_(dst, pf_zeros(ctx, PF_DIMS(3, 2))));
    PF_ASSERT_ERROR("pf_copy_: shapes differ");
    assert_false(pf_copy_(dst, pf_zeros(ctx, PF_DIMS(3))));
    PF_ASSERT_ERROR("shapes differ");
    PF_ASSERT_VALUES(dst, 0, 10, 30, -1, 20, 40, -2);
    assert_false(pf_copy_(NULL, src));
    assert_false(pf_copy_(dst, NULL));
}

/* ---- contexts ---------------------------------------------------------- */

/* A training-like step: forward, backward, all in ctx. Returns the loss. */
static double ctx_step(pf_ctx *ctx, int k)
{
    pf_tensor *x = pf_requires_grad(pf_full(ctx, 0.01 * k, PF_DIMS(64, 64)), true);
    pf_tensor *w = pf_ones(ctx, PF_DIMS(64, 64));
    pf_tensor *y = pf_sum(ctx, pf_tanh(ctx, pf_matmul(ctx, x, w)));
    PF_CHECK(pf_backward(y));
    PF_CHECK(x->grad != NULL);
    return pf_item(y);
}

static void test_ctx_reset_reuses_memory(void **state)
{
    (void)state;
    pf_ctx *ctx = pf_ctx_new(4096);
    PF_CHECK(ctx != NULL);
    pf_ctx_stats s0 = pf_ctx_get_stats(ctx);
    assert_int_equal(s0.system_allocs, 1);
    assert_int_equal(s0.used_bytes, 0);
    assert_true(s0.capacity_bytes >= 4096);

    double first = ctx_step(ctx, 1);
    pf_ctx_stats s1 = pf_ctx_get_stats(ctx);
    assert_true(s1.system_allocs > 1); /* the step made the context grow */
    assert_true(s1.used_bytes > 64 * 64 * 4 * 3);
    assert_true(s1.capacity_bytes >= s1.used_bytes);
    assert_true(s1.peak_bytes >= s1.used_bytes);
    pf_ctx_reset(ctx);

    pf_ctx_stats after = pf_ctx_get_stats(ctx);
    assert_int_equal(after.used_bytes, 0);
    assert_true(after.capacity_bytes >= s1.used_bytes);
    size_t allocs = after.system_allocs;
    void *mark = pf_ctx_alloc(ctx, 1);
    pf_ctx_reset(ctx);

    for (int step = 0; step < 5; step++) {
        /* the memory is reused from the start */
        assert_ptr_equal(pf_ctx_alloc(ctx, 1), mark);
        pf_ctx_reset(ctx);
        double loss = ctx_step(ctx, 1);
        assert_true(loss == first);
        pf_ctx_stats s = pf_ctx_get_stats(ctx);
        assert_int_equal(s.system_allocs, allocs);
        assert_int_equal(s.used_bytes, s1.used_bytes);
        assert_int_equal(s.peak_bytes, s1.peak_bytes);
        pf_ctx_reset(ctx);
        assert_int_equal(pf_ctx_get_stats(ctx).system_allocs, allocs);
        assert_int_equal(pf_ctx_get_stats(ctx).used_bytes, 0);
    }
    /* a different step still works after the resets */
    assert_true(fabs(ctx_step(ctx, 2) - 64 * 64 * tanh(64 * 0.02)) < 1e-2);
    pf_ctx_free(ctx);
    pf_ctx_free(NULL);
    pf_ctx_reset(NULL);
}

static void test_ctx_alloc(void **state)
{
    pf_ctx *ctx = *state;
    unsigned char *a = pf_ctx_alloc(ctx, 3);
    unsigned char *b = pf_ctx_alloc(ctx, 100);
    unsigned char *c = pf_ctx_alloc(ctx, (size_t)3 << 20); /* larger than the first block */
    PF_CHECK(a && b && c);
    /* aligned for vector loads, and not overlapping */
    assert_int_equal((uintptr_t)a % 64, 0);
    assert_int_equal((uintptr_t)b % 64, 0);
    assert_int_equal((uintptr_t)c % 64, 0);
    assert_true(b >= a + 3);
    memset(a, 1, 3);
    memset(b, 2, 100);
    memset(c, 3, (size_t)3 << 20);
    assert_int_equal(a[2], 1);
    assert_int_equal(b[99], 2);
    /* tensor data is aligned too */
    pf_tensor *t = pf_zeros(ctx, PF_DIMS(5));
    assert_int_equal((uintptr_t)pf_data_f32(t) % 64, 0);
    pf_ctx_stats s = pf_ctx_get_stats(ctx);
    assert_true(s.used_bytes >= 103 + ((size_t)3 << 20));
    assert_true(s.capacity_bytes >= s.used_bytes);

    assert_null(pf_ctx_alloc(ctx, SIZE_MAX - 8));
    PF_ASSERT_ERROR("overflows");
    assert_null(pf_ctx_alloc(NULL, 8));
    PF_ASSERT_ERROR("NULL context");
    assert_null(pf_zeros(NULL, PF_DIMS(2)));
    PF_ASSERT_ERROR("NULL context");
    assert_null(pf_add(NULL, t, t));
    PF_ASSERT_ERROR("pf_add: NULL context");
    pf_ctx_stats none = pf_ctx_get_stats(NULL);
    assert_int_equal(none.capacity_bytes, 0);
}

static void test_tensor_owned_by_its_ctx(void **state)
{
    pf_ctx *ctx = *state;
    pf_ctx *other = pf_ctx_new(0);
    pf_tensor *a = pf_ones(ctx, PF_DIMS(3));
    pf_tensor *b = pf_add(other, a, a);
    assert_true(a->ctx == ctx);
    assert_true(b->ctx == other);
    pf_ctx_stats before = pf_ctx_get_stats(ctx);
    pf_tensor *c = pf_mul(other, a, b);
    /* making c in `other` takes nothing from ctx */
    assert_int_equal(pf_ctx_get_stats(ctx).used_bytes, before.used_bytes);
    PF_ASSERT_VALUES(c, 0, 2, 2, 2);
    pf_ctx_free(other);
    PF_ASSERT_VALUES(a, 0, 1, 1, 1);
}

/* ---- random numbers ---------------------------------------------------- */

static void test_rng_reference_values(void **state)
{
    (void)state;
    /* splitmix64 of seed 0, and the first outputs of xoshiro256** from that
     * state (computed independently). */
    pf_rng r;
    pf_rng_seed(&r, 0);
    assert_true(r.s[0] == 0xe220a8397b1dcdafULL);
    assert_true(r.s[1] == 0x6e789e6aa1b965f4ULL);
    assert_true(r.s[2] == 0x06c45d188009454fULL);
    assert_true(r.s[3] == 0xf88bb8a8724c81ecULL);
    assert_true(pf_rng_next(&r) == 0x99ec5f36cb75f2b4ULL);
    assert_true(pf_rng_next(&r) == 0xbf6e1f784956452aULL);
    assert_true(pf_rng_next(&r) == 0x1a5f849d4933e6e0ULL);
    assert_true(pf_rng_next(&r) == 0x6aa594f1262d2d2cULL);
    pf_rng_seed(&r, 42);
    assert_true(pf_rng_next(&r) == 0x15780b2e0c2ec716ULL);
    pf_rng_seed(&r, 42);
    assert_true(pf_rng_uniform(&r) == (double)(0x15780b2e0c2ec716ULL >> 11) * 0x1.0p-53);
}

static void test_rng_same_seed_same_stream(void **state)
{
    pf_ctx *ctx = *state;
    pf_rng a, b, c;
    pf_rng_seed(&a, 123);
    pf_rng_seed(&b, 123);
    pf_rng_seed(&c, 124);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = pf_rng_next(&a), y = pf_rng_next(&b), z = pf_rng_next(&c);
        assert_true(x == y);
        differ += x != z;
    }
    assert_true(differ > 990);
    pf_rng_seed(&a, 5);
    pf_rng_seed(&b, 5);
    for (int i = 0; i < 100; i++) {
        assert_true(pf_rng_normal(&a) == pf_rng_normal(&b));
        double u = pf_rng_uniform(&a);
        assert_true(u == pf_rng_uniform(&b));
        assert_true(u >= 0 && u < 1);
    }

    /* the default generator: pf_manual_seed restarts it */
    pf_manual_seed(99);
    pf_tensor *r1 = pf_randn(ctx, PF_DIMS(50));
    pf_tensor *u1 = pf_rand(ctx, PF_DIMS(50));
    pf_manual_seed(99);
    pf_tensor *r2 = pf_randn(ctx, PF_DIMS(50));
    pf_tensor *u2 = pf_rand(ctx, PF_DIMS(50));
    PF_ASSERT_CLOSE(r1, r2, 0, 0);
    PF_ASSERT_CLOSE(u1, u2, 0, 0);
    pf_tensor *r3 = pf_randn(ctx, PF_DIMS(50));
    assert_true(memcmp(pf_data_f32(r1), pf_data_f32(r3), 50 * sizeof(float)) != 0);
    /* the default generator is the pf_rng of pf_default_rng() */
    pf_manual_seed(7);
    pf_rng mine;
    pf_rng_seed(&mine, 7);
    assert_true(pf_rng_next(pf_default_rng()) == pf_rng_next(&mine));
}

static void test_rng_below(void **state)
{
    (void)state;
    pf_rng r;
    pf_rng_seed(&r, 1);
    const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, ((uint64_t)1 << 63) + 5, UINT64_MAX};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++)
        for (int i = 0; i < 2000; i++)
            assert_true(pf_rng_below(&r, ns[k]) < ns[k]);
    /* every value of [0, 10) comes out, about equally often */
    int count[10] = {0};
    for (int i = 0; i < 20000; i++)
        count[pf_rng_below(&r, 10)]++;
    for (int v = 0; v < 10; v++)
        assert_true(count[v] > 1700 && count[v] < 2300);
    /* large n: both halves are hit */
    int high = 0;
    uint64_t big = ((uint64_t)1 << 63) + 5;
    for (int i = 0; i < 1000; i++)
        high += pf_rng_below(&r, big) >= big / 2;
    assert_true(high > 400 && high < 600);
}

static void test_randn_statistics(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(2024);
    pf_tensor *t = pf_randn(ctx, PF_DIMS(100000));
    PF_ASSERT_SHAPE(t, 100000);
    assert_int_equal(t->dtype, PF_F32);
    const float *p = pf_data_f32(t);
    double sum = 0, sq = 0;
    int beyond3 = 0;
    for (int i = 0; i < 100000; i++) {
        assert_true(isfinite(p[i]));
        sum += p[i];
        sq += (double)p[i] * p[i];
        beyond3 += fabs(p[i]) > 3;
    }
    double mean = sum / 100000, var = sq / 100000 - mean * mean;
    assert_true(fabs(mean) < 0.015);
    assert_true(fabs(sqrt(var) - 1) < 0.015);
    /* about 0.27% lie beyond 3 standard deviations */
    assert_true(beyond3 > 150 && beyond3 < 400);

    /* uniform: [low, high), mean in the middle */
    pf_tensor *u = pf_uniform(ctx, -2, 3, PF_DIMS(100, 100));
    PF_ASSERT_SHAPE(u, 100, 100);
    const float *q = pf_data_f32(u);
    double us = 0;
    for (int i = 0; i < 10000; i++) {
        assert_true(q[i] >= -2 && q[i] < 3);
        us += q[i];
    }
    assert_true(fabs(us / 10000 - 0.5) < 0.05);
    pf_tensor *r = pf_rand(ctx, PF_DIMS(1000));
    for (int i = 0; i < 1000; i++)
        assert_true(pf_data_f32(r)[i] >= 0 && pf_data_f32(r)[i] < 1);
    assert_null(pf_uniform(ctx, 3, 2, PF_DIMS(2)));
    PF_ASSERT_ERROR("pf_uniform");
}

static void test_randperm_randint(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(3);
    pf_tensor *p = pf_randperm(ctx, 100);
    PF_ASSERT_SHAPE(p, 100);
    assert_int_equal(p->dtype, PF_I64);
    const int64_t *v = pf_data_i64(p);
    bool seen[100] = {false};
    int fixed = 0;
    for (int i = 0; i < 100; i++) {
        assert_true(v[i] >= 0 && v[i] < 100);
        assert_false(seen[v[i]]);
        seen[v[i]] = true;
        fixed += v[i] == i;
    }
    assert_true(fixed < 10); /* shuffled, not the identity */
    PF_ASSERT_SHAPE(pf_randperm(ctx, 0), 0);
    PF_ASSERT_VALUES(pf_randperm(ctx, 1), 0, 0);
    assert_null(pf_randperm(ctx, -1));
    PF_ASSERT_ERROR("pf_randperm");

    pf_tensor *r = pf_randint(ctx, -3, 4, PF_DIMS(10, 100));
    PF_ASSERT_SHAPE(r, 10, 100);
    assert_int_equal(r->dtype, PF_I64);
    int count[7] = {0};
    for (int i = 0; i < 1000; i++) {
        int64_t x = pf_data_i64(r)[i];
        assert_true(x >= -3 && x < 4);
        count[x + 3]++;
    }
    for (int k = 0; k < 7; k++)
        assert_true(count[k] > 80);
    /* a range of one value */
    PF_ASSERT_VALUES(pf_randint(ctx, 5, 6, PF_DIMS(3)), 0, 5, 5, 5);
    assert_null(pf_randint(ctx, 4, 4, PF_DIMS(3)));
    PF_ASSERT_ERROR("pf_randint");
}

/* ---- shape limits ------------------------------------------------------ */

static void test_shape_limits(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *eight = pf_zeros(ctx, PF_DIMS(1, 2, 1, 2, 1, 2, 1, 2));
    PF_CHECK(eight != NULL);
    assert_int_equal(eight->ndim, PF_MAX_DIMS);

    assert_null(pf_zeros(ctx, PF_DIMS(1, 1, 1, 1, 1, 1, 1, 1, 1)));
    PF_ASSERT_ERROR("9 dimensions");
    assert_null(pf_empty(ctx, PF_F64, PF_DIMS(1, 1, 1, 1, 1, 1, 1, 1, 2)));
    PF_ASSERT_ERROR("at most 8");
    assert_null(pf_from_f32(ctx, (float[]){1}, PF_DIMS(1, 1, 1, 1, 1, 1, 1, 1, 1)));
    PF_ASSERT_ERROR("9 dimensions");
    assert_null(pf_unsqueeze(ctx, eight, 0));
    PF_ASSERT_ERROR("pf_unsqueeze");
    assert_null(pf_view(ctx, eight, PF_DIMS(16, 1, 1, 1, 1, 1, 1, 1, 1)));
    PF_ASSERT_ERROR("pf_view");
    assert_null(pf_expand(ctx, eight, PF_DIMS(1, 1, 2, 1, 2, 1, 2, 1, 2)));
    PF_ASSERT_ERROR("pf_expand");
    assert_null(pf_zeros(ctx, -1, NULL));
    PF_ASSERT_ERROR("dimensions");

    assert_null(pf_zeros(ctx, PF_DIMS(2, -3)));
    PF_ASSERT_ERROR("negative size");
    assert_null(pf_full(ctx, 1, PF_DIMS(-1)));
    PF_ASSERT_ERROR("negative size");
    assert_null(pf_randn(ctx, PF_DIMS(4, -4)));
    PF_ASSERT_ERROR("negative size");
    /* absurdly large shapes are refused, not attempted */
    assert_null(pf_empty(ctx, PF_F32, PF_DIMS(INT64_MAX / 2, 4)));
    PF_ASSERT_ERROR("pf_empty");
    assert_null(pf_empty(ctx, (pf_dtype)9, PF_DIMS(2)));
    PF_ASSERT_ERROR("dtype");
}

/* ---- errors ------------------------------------------------------------ */

static void test_errors_are_sticky(void **state)
{
    pf_ctx *ctx = *state;
    assert_true(pf_ok());
    assert_null(pf_error());

    pf_tensor *a = pf_zeros(ctx, PF_DIMS(2, 3));
    pf_tensor *b = pf_zeros(ctx, PF_DIMS(2, 3));
    /* a whole step with no checks: the first error is the one kept */
    pf_tensor *h = pf_matmul(ctx, a, b);
    assert_null(h);
    assert_false(pf_ok());
    char first[256];
    snprintf(first, sizeof first, "%s", pf_error());
    assert_non_null(strstr(first, "pf_matmul"));
    pf_tensor *r = pf_relu(ctx, h);
    pf_tensor *s = pf_sum(ctx, pf_add(ctx, r, a));
    assert_null(r);
    assert_null(s);
    assert_false(pf_backward(s));
    assert_true(isnan(pf_item(s)));
    assert_string_equal(pf_error(), first);

    /* a new, unrelated failure does not overwrite it either */
    assert_null(pf_zeros(ctx, PF_DIMS(-1)));
    assert_true(isnan(pf_item(a)));
    assert_string_equal(pf_error(), first);
    assert_null(pf_fail("user error %d", 7));
    assert_string_equal(pf_error(), first);

    pf_error_clear();
    assert_true(pf_ok());
    assert_null(pf_error());

    /* with no error recorded, an op given NULL records one itself, naming
     * the op the user called */
    assert_null(pf_add(ctx, NULL, a));
    PF_ASSERT_ERROR("pf_add: NULL");
    assert_null(pf_exp(ctx, NULL));
    PF_ASSERT_ERROR("pf_exp: NULL");
    assert_null(pf_clamp(ctx, NULL, 0, 1));
    PF_ASSERT_ERROR("pf_clamp: NULL");
    assert_null(pf_log_softmax(ctx, NULL, 0));
    PF_ASSERT_ERROR("pf_log_softmax: NULL");
    assert_null(pf_mul(NULL, a, a));
    PF_ASSERT_ERROR("pf_mul: NULL context");
    assert_null(pf_sigmoid(NULL, a));
    PF_ASSERT_ERROR("pf_sigmoid: NULL context");
    assert_null(pf_softmax(NULL, a, 0));
    PF_ASSERT_ERROR("pf_softmax: NULL context");
    assert_null(pf_fail("user error %d", 7));
    PF_ASSERT_ERROR("user error 7");
    /* views and joins return NULL for NULL too */
    assert_null(pf_transpose(ctx, NULL, 0, 1));
    pf_error_clear();
    pf_fail("kept");
    assert_null(pf_view(ctx, NULL, PF_DIMS(2)));
    assert_null(pf_cat(ctx, 2, (pf_tensor *[]){a, NULL}, 0));
    assert_null(pf_matmul(ctx, NULL, NULL));
    assert_null(pf_softmax(ctx, NULL, 0));
    assert_null(pf_to_dtype(ctx, NULL, PF_F64));
    assert_null(pf_requires_grad(NULL, true));
    assert_string_equal(pf_error(), "kept");
    pf_error_clear();
    assert_true(pf_ok());
}

static void test_error_messages_name_op_and_shapes(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_zeros(ctx, PF_DIMS(64, 256));
    pf_tensor *b = pf_zeros(ctx, PF_DIMS(200, 256));
    assert_null(pf_matmul(ctx, a, b));
    assert_string_equal(pf_error(), "pf_matmul: [64,256] @ [200,256]: inner dimensions differ (256 vs 200)");
    pf_error_clear();
    assert_null(pf_add(ctx, pf_zeros(ctx, PF_DIMS(2, 3)), pf_zeros(ctx, PF_DIMS(4))));
    PF_ASSERT_ERROR("pf_add: shapes [2,3] and [4] cannot be broadcast");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_zeros_ones_full),
        TEST(test_arange),
        TEST(test_from_arrays),
        TEST(test_scalar_and_like),
        TEST(test_shape_helpers),
        TEST(test_dtype_info),
        TEST(test_to_dtype),
        TEST(test_get_set_item),
        TEST(test_get_set_item_errors),
        TEST(test_data_pointers),
        TEST(test_copy_to_permuted),
        TEST(test_fill),
        TEST(test_copy_),
        TEST(test_ctx_reset_reuses_memory),
        TEST(test_ctx_alloc),
        TEST(test_tensor_owned_by_its_ctx),
        TEST(test_rng_reference_values),
        TEST(test_rng_same_seed_same_stream),
        TEST(test_rng_below),
        TEST(test_randn_statistics),
        TEST(test_randperm_randint),
        TEST(test_shape_limits),
        TEST(test_errors_are_sticky),
        TEST(test_error_messages_name_op_and_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
