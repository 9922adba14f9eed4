/*
 * test_views.c — views share storage and see each other's writes: view and
 * reshape, permute and transpose, narrow, slice, select, expand, unsqueeze
 * and squeeze, flatten; and the copies that are not views: contiguous,
 * clone, detach.
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

static void assert_strides(const pf_tensor *t, int ndim, const int64_t *stride)
{
    assert_int_equal(t->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(t->stride[i], stride[i]);
}
#define ASSERT_STRIDES(t, ...) assert_strides((t), PF_DIMS(__VA_ARGS__))

/* ---- view and reshape -------------------------------------------------- */

static void test_view(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3, 4));
    PF_ASSERT_SHAPE(t, 2, 3, 4);

    pf_tensor *v = pf_view(ctx, t, PF_DIMS(6, 4));
    PF_ASSERT_SHAPE(v, 6, 4);
    ASSERT_STRIDES(v, 4, 1);
    assert_true(v->storage == t->storage);
    assert_true(pf_get(v, (int64_t[]){5, 3}) == 23);

    PF_ASSERT_SHAPE(pf_view(ctx, t, PF_DIMS(-1, 12)), 2, 12);
    PF_ASSERT_SHAPE(pf_view(ctx, t, PF_DIMS(4, -1, 3)), 4, 2, 3);
    PF_ASSERT_SHAPE(pf_view(ctx, t, PF_DIMS(-1)), 24);
    PF_ASSERT_SHAPE(pf_view(ctx, t, PF_DIMS(1, 24, 1)), 1, 24, 1);
    pf_tensor *s = pf_view(ctx, pf_ones(ctx, PF_DIMS(1, 1)), 0, NULL);
    PF_CHECK(s != NULL);
    assert_int_equal(s->ndim, 0);
    PF_ASSERT_SHAPE(pf_view(ctx, pf_scalar(ctx, 3), PF_DIMS(1, -1)), 1, 1);

    /* writes through the view are seen by the base */
    PF_CHECK(pf_set(v, (int64_t[]){1, 0}, -5));
    assert_true(pf_get(t, (int64_t[]){0, 1, 0}) == -5);

    /* a view of a narrowed tensor keeps its offset */
    pf_tensor *rows = pf_narrow(ctx, pf_view(ctx, t, PF_DIMS(6, 4)), 0, 2, 2);
    pf_tensor *flat = pf_view(ctx, rows, PF_DIMS(8));
    PF_ASSERT_VALUES(flat, 0, 8, 9, 10, 11, 12, 13, 14, 15);

    /* empty tensors reshape freely */
    PF_ASSERT_SHAPE(pf_view(ctx, pf_zeros(ctx, PF_DIMS(0, 3)), PF_DIMS(3, 0, 5)), 3, 0, 5);
}

static void test_view_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3, 4));
    assert_null(pf_view(ctx, t, PF_DIMS(5, 5)));
    PF_ASSERT_ERROR("pf_view: shape [2,3,4] (24 elements) cannot become [5,5]");
    assert_null(pf_view(ctx, t, PF_DIMS(-1, -1)));
    PF_ASSERT_ERROR("only one dimension can be -1");
    assert_null(pf_view(ctx, t, PF_DIMS(5, -1)));
    PF_ASSERT_ERROR("cannot infer");
    assert_null(pf_view(ctx, t, PF_DIMS(0, -1)));
    PF_ASSERT_ERROR("cannot infer");
    assert_null(pf_view(ctx, t, PF_DIMS(-2, -12)));
    PF_ASSERT_ERROR("invalid size");
    assert_null(pf_reshape(ctx, t, PF_DIMS(25)));
    PF_ASSERT_ERROR("pf_reshape");
    assert_null(pf_reshape(ctx, t, PF_DIMS(7, -1)));
    PF_ASSERT_ERROR("cannot infer");
}

static void test_view_of_non_contiguous(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3));
    pf_tensor *tt = pf_transpose(ctx, t, 0, 1); /* [[0,3],[1,4],[2,5]] */

    /* view refuses to merge dimensions that are not laid out together */
    assert_null(pf_view(ctx, tt, PF_DIMS(6)));
    PF_ASSERT_ERROR("use pf_reshape");

    /* reshape copies instead */
    pf_tensor *r = pf_reshape(ctx, tt, PF_DIMS(6));
    PF_ASSERT_SHAPE(r, 6);
    assert_true(r->storage != t->storage);
    PF_ASSERT_VALUES(r, 0, 0, 3, 1, 4, 2, 5);
    PF_CHECK(pf_set(t, (int64_t[]){0, 0}, 100));
    assert_true(pf_get(r, (int64_t[]){0}) == 0); /* a copy: unaffected */

    /* reshape of a contiguous tensor is a view */
    pf_tensor *rv = pf_reshape(ctx, t, PF_DIMS(3, 2));
    assert_true(rv->storage == t->storage);
    assert_true(pf_get(rv, (int64_t[]){0, 0}) == 100);

    /* some layouts can still be viewed: splitting a contiguous dimension of
     * a permuted tensor, or merging dimensions that are together */
    pf_tensor *x = iota(ctx, PF_DIMS(2, 3, 4));
    pf_tensor *xt = pf_transpose(ctx, x, 0, 1); /* [3,2,4], strides 4,12,1 */
    pf_tensor *split = pf_view(ctx, xt, PF_DIMS(3, 2, 2, 2));
    PF_CHECK(split != NULL);
    assert_true(split->storage == x->storage);
    ASSERT_STRIDES(split, 4, 12, 2, 1);
    /* element [i][j][k][l] is x[j][i][2k+l] = 12j + 4i + 2k + l */
    assert_true(pf_get(split, (int64_t[]){2, 1, 1, 0}) == 12 + 8 + 2);
    pf_tensor *cols = pf_narrow(ctx, iota(ctx, PF_DIMS(4, 6)), 1, 0, 3); /* strides 6,1 */
    assert_null(pf_view(ctx, cols, PF_DIMS(12)));
    PF_ASSERT_ERROR("pf_view");
    pf_tensor *cv = pf_view(ctx, cols, PF_DIMS(2, 2, 3));
    PF_CHECK(cv != NULL);
    ASSERT_STRIDES(cv, 12, 6, 1);
    PF_ASSERT_VALUES(cv, 0, 0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20);
    PF_ASSERT_VALUES(pf_reshape(ctx, cols, PF_DIMS(12)), 0, 0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20);
}

/* ---- permute and transpose ---------------------------------------------- */

static void test_permute_transpose_share_storage(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_from_f32(ctx, (float[]){0, 1, 2, 3, 4, 5}, PF_DIMS(2, 3));
    pf_tensor *tt = pf_transpose(ctx, t, 0, 1);
    PF_ASSERT_SHAPE(tt, 3, 2);
    ASSERT_STRIDES(tt, 1, 3);
    assert_true(tt->storage == t->storage);
    assert_false(pf_is_contiguous(tt));
    PF_ASSERT_VALUES(tt, 0, 0, 3, 1, 4, 2, 5);

    /* a write through pf_data of the base is seen by the view */
    pf_data_f32(t)[1] = 100;
    assert_true(pf_get(tt, (int64_t[]){1, 0}) == 100);
    /* and a write through the view by the base */
    PF_CHECK(pf_set(tt, (int64_t[]){2, 1}, -7));
    assert_true(pf_data_f32(t)[5] == -7);

    /* transposing twice gives the original layout; negative dims count from the end */
    pf_tensor *back = pf_transpose(ctx, tt, -1, -2);
    ASSERT_STRIDES(back, 3, 1);
    assert_true(pf_is_contiguous(back));
    PF_ASSERT_VALUES(back, 0, 0, 100, 2, 3, 4, -7);

    pf_tensor *x = iota(ctx, PF_DIMS(2, 3, 4));
    pf_tensor *p = pf_permute(ctx, x, (int[]){2, 0, 1});
    PF_ASSERT_SHAPE(p, 4, 2, 3);
    ASSERT_STRIDES(p, 1, 12, 4);
    assert_true(p->storage == x->storage);
    assert_true(pf_get(p, (int64_t[]){3, 1, 2}) == 12 + 8 + 3);
    pf_tensor *pn = pf_permute(ctx, x, (int[]){-1, 0, -2});
    PF_ASSERT_SHAPE(pn, 4, 2, 3);
    ASSERT_STRIDES(pn, 1, 12, 4);
    /* the identity permutation */
    pf_tensor *id = pf_permute(ctx, x, (int[]){0, 1, 2});
    assert_true(pf_is_contiguous(id));
    /* transposing a dimension with itself changes nothing */
    ASSERT_STRIDES(pf_transpose(ctx, x, 1, 1), 12, 4, 1);

    assert_null(pf_permute(ctx, x, (int[]){0, 0, 1}));
    PF_ASSERT_ERROR("appears twice");
    assert_null(pf_permute(ctx, x, (int[]){0, 1, 3}));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_transpose(ctx, x, 0, 3));
    PF_ASSERT_ERROR("pf_transpose");
}

/* ---- narrow, slice, select ---------------------------------------------- */

static void test_narrow(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(4, 3));
    pf_tensor *r = pf_narrow(ctx, t, 0, 1, 2);
    PF_ASSERT_SHAPE(r, 2, 3);
    assert_true(r->storage == t->storage);
    assert_int_equal(r->offset, 3);
    PF_ASSERT_VALUES(r, 0, 3, 4, 5, 6, 7, 8);
    pf_tensor *c = pf_narrow(ctx, t, -1, 1, 2);
    PF_ASSERT_SHAPE(c, 4, 2);
    ASSERT_STRIDES(c, 3, 1);
    PF_ASSERT_VALUES(c, 0, 1, 2, 4, 5, 7, 8, 10, 11);
    /* a narrow of a narrow */
    PF_ASSERT_VALUES(pf_narrow(ctx, c, 0, 2, 1), 0, 7, 8);
    /* empty narrow at the end is allowed */
    PF_ASSERT_SHAPE(pf_narrow(ctx, t, 0, 4, 0), 0, 3);
    PF_CHECK(pf_fill_(r, 0));
    PF_ASSERT_VALUES(t, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 9, 10, 11);

    assert_null(pf_narrow(ctx, t, 0, 3, 2));
    PF_ASSERT_ERROR("pf_narrow");
    assert_null(pf_narrow(ctx, t, 0, -1, 2));
    PF_ASSERT_ERROR("outside dimension 0");
    assert_null(pf_narrow(ctx, t, 2, 0, 1));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_narrow(ctx, pf_scalar(ctx, 1), 0, 0, 1));
    PF_ASSERT_ERROR("0-d");
}

static void test_slice(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *a = pf_arange(ctx, 0, 10, 1);
    pf_tensor *s = pf_slice(ctx, a, 0, 1, 8, 3);
    PF_ASSERT_SHAPE(s, 3);
    ASSERT_STRIDES(s, 3);
    assert_true(s->storage == a->storage);
    PF_ASSERT_VALUES(s, 0, 1, 4, 7);
    /* a[-3:] and a[:-1:2] */
    PF_ASSERT_VALUES(pf_slice(ctx, a, 0, -3, INT64_MAX, 1), 0, 7, 8, 9);
    PF_ASSERT_VALUES(pf_slice(ctx, a, 0, 0, -1, 2), 0, 0, 2, 4, 6, 8);
    PF_ASSERT_VALUES(pf_slice(ctx, a, 0, -4, -1, 1), 0, 6, 7, 8);
    /* start and end are clamped, as in Python */
    PF_ASSERT_VALUES(pf_slice(ctx, a, 0, -100, 100, 4), 0, 0, 4, 8);
    PF_ASSERT_SHAPE(pf_slice(ctx, a, 0, 7, 3, 1), 0);
    PF_ASSERT_SHAPE(pf_slice(ctx, a, 0, 20, 30, 1), 0);
    PF_ASSERT_VALUES(pf_slice(ctx, a, 0, 9, 10, 5), 0, 9);

    /* on an inner dimension, and a slice of a slice */
    pf_tensor *m = iota(ctx, PF_DIMS(3, 5));
    pf_tensor *ms = pf_slice(ctx, m, 1, 0, 5, 2);
    PF_ASSERT_SHAPE(ms, 3, 3);
    ASSERT_STRIDES(ms, 5, 2);
    PF_ASSERT_VALUES(ms, 0, 0, 2, 4, 5, 7, 9, 10, 12, 14);
    pf_tensor *mss = pf_slice(ctx, ms, 1, 1, 3, 1);
    PF_ASSERT_VALUES(mss, 0, 2, 4, 7, 9, 12, 14);
    PF_ASSERT_VALUES(pf_slice(ctx, ms, 0, -1, INT64_MAX, 1), 0, 10, 12, 14);
    /* writes land in the base */
    PF_CHECK(pf_fill_(pf_slice(ctx, a, 0, 1, 10, 2), -1));
    PF_ASSERT_VALUES(a, 0, 0, -1, 2, -1, 4, -1, 6, -1, 8, -1);

    assert_null(pf_slice(ctx, a, 0, 0, 5, 0));
    PF_ASSERT_ERROR("step must be positive");
    assert_null(pf_slice(ctx, a, 0, 5, 0, -1));
    PF_ASSERT_ERROR("step");
    assert_null(pf_slice(ctx, a, 1, 0, 5, 1));
    PF_ASSERT_ERROR("out of range");
}

static void test_select(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *m = iota(ctx, PF_DIMS(3, 4));
    pf_tensor *last = pf_select(ctx, m, 0, -1);
    PF_ASSERT_SHAPE(last, 4);
    assert_true(last->storage == m->storage);
    PF_ASSERT_VALUES(last, 0, 8, 9, 10, 11);
    pf_tensor *col = pf_select(ctx, m, 1, -2);
    PF_ASSERT_SHAPE(col, 3);
    ASSERT_STRIDES(col, 4);
    PF_ASSERT_VALUES(col, 0, 2, 6, 10);
    PF_ASSERT_VALUES(pf_select(ctx, m, -1, 0), 0, 0, 4, 8);
    /* down to a 0-d tensor */
    pf_tensor *e = pf_select(ctx, col, 0, 1);
    assert_int_equal(e->ndim, 0);
    assert_true(pf_item(e) == 6);
    PF_CHECK(pf_fill_(e, 60));
    assert_true(pf_get(m, (int64_t[]){1, 2}) == 60);

    assert_null(pf_select(ctx, m, 0, 3));
    PF_ASSERT_ERROR("pf_select: index 3 is out of range");
    assert_null(pf_select(ctx, m, 0, -4));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_select(ctx, m, 2, 0));
    PF_ASSERT_ERROR("out of range");
    assert_null(pf_select(ctx, e, 0, 0));
    PF_ASSERT_ERROR("0-d");
}

/* ---- expand, unsqueeze, squeeze, flatten -------------------------------- */

static void test_expand(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *c = pf_from_f32(ctx, (float[]){1, 2, 3}, PF_DIMS(3, 1));
    pf_tensor *e = pf_expand(ctx, c, PF_DIMS(3, 4));
    PF_ASSERT_SHAPE(e, 3, 4);
    ASSERT_STRIDES(e, 1, 0);
    assert_true(e->storage == c->storage);
    PF_ASSERT_VALUES(e, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);

    /* new leading dimensions, and -1 to keep a size */
    pf_tensor *r = pf_from_f32(ctx, (float[]){5, 6}, PF_DIMS(2));
    pf_tensor *er = pf_expand(ctx, r, PF_DIMS(2, 3, -1));
    PF_ASSERT_SHAPE(er, 2, 3, 2);
    ASSERT_STRIDES(er, 0, 0, 1);
    PF_ASSERT_VALUES(er, 0, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6);
    PF_ASSERT_SHAPE(pf_expand(ctx, c, PF_DIMS(-1, 2)), 3, 2);
    /* size 0 from size 1 */
    PF_ASSERT_SHAPE(pf_expand(ctx, c, PF_DIMS(3, 0)), 3, 0);
    /* a 0-d tensor expands to anything */
    pf_tensor *es = pf_expand(ctx, pf_scalar(ctx, 4), PF_DIMS(2, 2));
    ASSERT_STRIDES(es, 0, 0);
    PF_ASSERT_VALUES(es, 0, 4, 4, 4, 4);
    /* the base's writes are seen in every repeated position */
    pf_data_f32(c)[1] = 20;
    PF_ASSERT_VALUES(pf_select(ctx, e, 0, 1), 0, 20, 20, 20, 20);

    /* a size other than 1 cannot stretch */
    assert_null(pf_expand(ctx, c, PF_DIMS(6, 4)));
    PF_ASSERT_ERROR("pf_expand: cannot expand [3,1] to [6,4]");
    assert_null(pf_expand(ctx, r, PF_DIMS(3)));
    PF_ASSERT_ERROR("not 1");
    assert_null(pf_expand(ctx, r, PF_DIMS(-1, 2)));
    PF_ASSERT_ERROR("-1");
    assert_null(pf_expand(ctx, c, PF_DIMS(4)));
    PF_ASSERT_ERROR("pf_expand");
}

static void test_unsqueeze_squeeze(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3));
    pf_tensor *u0 = pf_unsqueeze(ctx, t, 0);
    PF_ASSERT_SHAPE(u0, 1, 2, 3);
    assert_true(u0->storage == t->storage);
    assert_true(pf_is_contiguous(u0));
    PF_ASSERT_SHAPE(pf_unsqueeze(ctx, t, 1), 2, 1, 3);
    PF_ASSERT_SHAPE(pf_unsqueeze(ctx, t, 2), 2, 3, 1);
    PF_ASSERT_SHAPE(pf_unsqueeze(ctx, t, -1), 2, 3, 1);
    PF_ASSERT_SHAPE(pf_unsqueeze(ctx, t, -3), 1, 2, 3);
    PF_ASSERT_SHAPE(pf_unsqueeze(ctx, pf_scalar(ctx, 1), 0), 1);
    /* of a transposed tensor: values follow the view */
    pf_tensor *ut = pf_unsqueeze(ctx, pf_transpose(ctx, t, 0, 1), 1);
    PF_ASSERT_SHAPE(ut, 3, 1, 2);
    PF_ASSERT_VALUES(ut, 0, 0, 3, 1, 4, 2, 5);
    assert_null(pf_unsqueeze(ctx, t, 3));
    PF_ASSERT_ERROR("pf_unsqueeze");
    assert_null(pf_unsqueeze(ctx, t, -4));
    PF_ASSERT_ERROR("out of range");

    pf_tensor *s = pf_squeeze(ctx, pf_unsqueeze(ctx, t, 1), 1);
    PF_ASSERT_SHAPE(s, 2, 3);
    ASSERT_STRIDES(s, 3, 1);
    assert_true(s->storage == t->storage);
    PF_ASSERT_SHAPE(pf_squeeze(ctx, u0, -3), 2, 3);
    pf_tensor *one = pf_zeros(ctx, PF_DIMS(1));
    pf_tensor *zero_d = pf_squeeze(ctx, one, 0);
    assert_int_equal(zero_d->ndim, 0);

    assert_null(pf_squeeze(ctx, t, 1));
    PF_ASSERT_ERROR("pf_squeeze: dimension 1 has size 3, not 1");
    assert_null(pf_squeeze(ctx, t, 0));
    PF_ASSERT_ERROR("not 1");
    assert_null(pf_squeeze(ctx, t, 2));
    PF_ASSERT_ERROR("out of range");
}

static void test_flatten(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3, 4));
    pf_tensor *all = pf_flatten(ctx, t, 0, -1);
    PF_ASSERT_SHAPE(all, 24);
    assert_true(all->storage == t->storage);
    PF_ASSERT_SHAPE(pf_flatten(ctx, t, 1, 2), 2, 12);
    PF_ASSERT_SHAPE(pf_flatten(ctx, t, 0, 1), 6, 4);
    PF_ASSERT_SHAPE(pf_flatten(ctx, t, 1, 1), 2, 3, 4);
    PF_ASSERT_SHAPE(pf_flatten(ctx, pf_scalar(ctx, 2), 0, -1), 1);

    /* a permuted tensor: flatten must copy, in the view's order */
    pf_tensor *p = pf_transpose(ctx, iota(ctx, PF_DIMS(2, 3)), 0, 1);
    pf_tensor *fp = pf_flatten(ctx, p, 0, 1);
    PF_ASSERT_SHAPE(fp, 6);
    assert_true(fp->storage != p->storage);
    PF_ASSERT_VALUES(fp, 0, 0, 3, 1, 4, 2, 5);

    assert_null(pf_flatten(ctx, t, 2, 1));
    PF_ASSERT_ERROR("pf_flatten");
    assert_null(pf_flatten(ctx, t, 0, 3));
    PF_ASSERT_ERROR("out of range");
}

/* ---- contiguous, clone, detach ----------------------------------------- */

static void test_contiguous(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3));
    /* already contiguous: the same tensor, no copy */
    assert_ptr_equal(pf_contiguous(ctx, t), t);
    pf_tensor *row = pf_select(ctx, t, 0, 1);
    assert_ptr_equal(pf_contiguous(ctx, row), row);

    pf_tensor *tt = pf_transpose(ctx, t, 0, 1);
    pf_ctx_stats before = pf_ctx_get_stats(ctx);
    pf_tensor *c = pf_contiguous(ctx, tt);
    assert_true(c != tt);
    assert_true(c->storage != t->storage);
    assert_true(pf_is_contiguous(c));
    assert_true(pf_ctx_get_stats(ctx).used_bytes > before.used_bytes);
    PF_ASSERT_SHAPE(c, 3, 2);
    ASSERT_STRIDES(c, 2, 1);
    PF_ASSERT_VALUES(c, 0, 0, 3, 1, 4, 2, 5);
    PF_CHECK(pf_data_f32(c) != NULL);

    /* other non-contiguous layouts: a step, a broadcast */
    pf_tensor *st = pf_contiguous(ctx, pf_slice(ctx, pf_arange(ctx, 0, 6, 1), 0, 0, 6, 2));
    PF_ASSERT_VALUES(st, 0, 0, 2, 4);
    assert_int_equal(st->stride[0], 1);
    pf_tensor *ex = pf_contiguous(ctx, pf_expand(ctx, pf_scalar(ctx, 7), PF_DIMS(3)));
    ASSERT_STRIDES(ex, 1);
    PF_ASSERT_VALUES(ex, 0, 7, 7, 7);
    /* int tensors too */
    pf_tensor *it = pf_contiguous(ctx, pf_transpose(ctx, pf_from_i64(ctx, (int64_t[]){1, 2, 3, 4}, PF_DIMS(2, 2)), 0, 1));
    assert_int_equal(it->dtype, PF_I64);
    PF_ASSERT_VALUES(it, 0, 1, 3, 2, 4);
}

static void test_clone(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3));
    pf_tensor *c = pf_clone(ctx, t);
    assert_true(c != t);
    assert_true(c->storage != t->storage);
    assert_int_equal(c->dtype, t->dtype);
    PF_ASSERT_SHAPE(c, 2, 3);
    PF_ASSERT_VALUES(c, 0, 0, 1, 2, 3, 4, 5);
    PF_CHECK(pf_fill_(c, 9));
    PF_ASSERT_VALUES(t, 0, 0, 1, 2, 3, 4, 5); /* the original is untouched */

    pf_tensor *ct = pf_clone(ctx, pf_transpose(ctx, t, 0, 1));
    assert_true(pf_is_contiguous(ct));
    PF_ASSERT_VALUES(ct, 0, 0, 3, 1, 4, 2, 5);
    pf_tensor *cu = pf_clone(ctx, pf_from_u8(ctx, (uint8_t[]){250, 3}, PF_DIMS(2)));
    assert_int_equal(cu->dtype, PF_U8);
    PF_ASSERT_VALUES(cu, 0, 250, 3);
}

static void test_detach(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 3}, PF_DIMS(3)), true);
    pf_tensor *y = pf_mul(ctx, x, x);
    assert_true(y->requires_grad);
    assert_non_null(y->node);

    pf_tensor *d = pf_detach(ctx, y);
    PF_CHECK(d != NULL);
    assert_false(d->requires_grad);
    assert_null(d->node);
    assert_null(d->grad);
    assert_true(d->storage == y->storage);
    PF_ASSERT_VALUES(d, 0, 1, 4, 9);
    /* y is still on the tape */
    assert_true(y->requires_grad && y->node != NULL);
    /* ops on the detached tensor are not recorded */
    pf_tensor *z = pf_exp(ctx, d);
    assert_false(z->requires_grad);
    assert_null(z->node);
    /* a detached view of a leaf shares its values */
    pf_tensor *dx = pf_detach(ctx, pf_transpose(ctx, pf_unsqueeze(ctx, x, 0), 0, 1));
    PF_ASSERT_SHAPE(dx, 3, 1);
    assert_false(dx->requires_grad);
    pf_data_f32(x)[2] = 30;
    assert_true(pf_get(dx, (int64_t[]){2, 0}) == 30);
}

/* ---- views record on the tape only when needed --------------------------- */

static void test_views_of_plain_tensors_record_nothing(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = iota(ctx, PF_DIMS(2, 3));
    pf_tensor *views[] = {
        pf_view(ctx, t, PF_DIMS(3, 2)), pf_reshape(ctx, t, PF_DIMS(6)), pf_transpose(ctx, t, 0, 1),
        pf_narrow(ctx, t, 1, 0, 2), pf_slice(ctx, t, 1, 0, 3, 2), pf_select(ctx, t, 0, 0),
        pf_expand(ctx, t, PF_DIMS(2, 2, 3)), pf_unsqueeze(ctx, t, 0), pf_flatten(ctx, t, 0, 1),
    };
    for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
        PF_CHECK(views[i] != NULL);
        assert_null(views[i]->node);
        assert_false(views[i]->requires_grad);
        assert_true(views[i]->ctx == ctx);
    }
    /* a view of a tensor that requires grad is on the tape */
    pf_requires_grad(t, true);
    pf_tensor *v = pf_transpose(ctx, t, 0, 1);
    assert_true(v->requires_grad);
    assert_non_null(v->node);
}

/* pf_fill_ through views: a contiguous range of zeros is one memset, any
 * other fill goes element by element; both must touch exactly the view. */
static void test_fill_through_views(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_full(ctx, 7, PF_DIMS(3, 4));
    /* zeros into the middle row: contiguous, offset 4 */
    PF_CHECK(pf_fill_(pf_narrow(ctx, t, 0, 1, 1), 0));
    /* zeros into column 2 of the other rows: stride 4 */
    PF_CHECK(pf_fill_(pf_narrow(ctx, pf_narrow(ctx, t, 1, 2, 1), 0, 0, 1), 0));
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 4; j++) {
            double want = i == 1 || (i == 0 && j == 2) ? 0 : 7;
            assert_true(pf_get(t, (int64_t[]){i, j}) == want);
        }
    /* -0.0 is not all zero bytes: it must keep its sign */
    PF_CHECK(pf_fill_(t, -0.0));
    assert_true(signbit(pf_get(t, (int64_t[]){2, 3})));
    /* and a transposed (non-contiguous) whole tensor is filled entirely */
    PF_CHECK(pf_fill_(pf_transpose(ctx, t, 0, 1), 0));
    for (int64_t i = 0; i < 12; i++)
        assert_true(pf_get(t, (int64_t[]){i / 4, i % 4}) == 0 && !signbit(pf_get(t, (int64_t[]){i / 4, i % 4})));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_view),
        TEST(test_view_errors),
        TEST(test_view_of_non_contiguous),
        TEST(test_permute_transpose_share_storage),
        TEST(test_narrow),
        TEST(test_slice),
        TEST(test_select),
        TEST(test_expand),
        TEST(test_unsqueeze_squeeze),
        TEST(test_flatten),
        TEST(test_contiguous),
        TEST(test_clone),
        TEST(test_detach),
        TEST(test_fill_through_views),
        TEST(test_views_of_plain_tensors_record_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
