/*
 * copy.c — moving values between tensors and C memory: element access,
 * fill_ and copy_ (in place, not recorded), and the recorded copies
 * pf_to_dtype, pf_clone and pf_contiguous; pf_detach.
 */
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

static bool check_index(const char *op, const pf_tensor *t, const int64_t *index, int64_t *offset)
{
    if (!t)
        return false;
    if (t->device != PF_CPU) {
        pf_fail("%s: the tensor is not on the CPU", op);
        return false;
    }
    int64_t off = t->offset;
    for (int i = 0; i < t->ndim; i++) {
        if (index[i] < 0 || index[i] >= t->shape[i]) {
            pf_fail("%s: index %lld is out of range for dimension %d of size %lld", op, (long long)index[i], i,
                    (long long)t->shape[i]);
            return false;
        }
        off += index[i] * t->stride[i];
    }
    *offset = off;
    return true;
}

double pf_get(const pf_tensor *t, const int64_t *index)
{
    int64_t off;
    if (!check_index("pf_get", t, index, &off))
        return NAN;
    const char *p = (const char *)t->storage->data + (size_t)off * pf_dtype_size(t->dtype);
    switch (t->dtype) {
    case PF_F32: return *(const float *)p;
    case PF_F64: return *(const double *)p;
    case PF_I64: return (double)*(const int64_t *)p;
    case PF_U8: return *(const uint8_t *)p;
    }
    return NAN;
}

bool pf_set(pf_tensor *t, const int64_t *index, double value)
{
    int64_t off;
    if (!check_index("pf_set", t, index, &off))
        return false;
    pf_kview v = pf_kview_of(t);
    v.data = (char *)t->storage->data + (size_t)off * pf_dtype_size(t->dtype);
    v.ndim = 0;
    return pf_backend_get(t->device)->fill(&v, value);
}

double pf_item(const pf_tensor *t)
{
    if (!t)
        return NAN;
    if (pf_numel(t) != 1) {
        char s[128];
        pf_fail("pf_item: the tensor has shape %s, not one element", pf_shape_str(t, s, sizeof s));
        return NAN;
    }
    int64_t zeros[PF_MAX_DIMS] = {0};
    return pf_get(t, zeros);
}

static void *typed_data(pf_tensor *t, pf_dtype dtype, const char *op)
{
    if (!t)
        return NULL;
    if (t->dtype != dtype)
        return pf_fail("%s: the tensor is %s", op, pf_dtype_name(t->dtype));
    if (t->device != PF_CPU)
        return pf_fail("%s: the tensor is not on the CPU", op);
    if (!pf_is_contiguous(t))
        return pf_fail("%s: the tensor is not contiguous (use pf_contiguous)", op);
    return (char *)t->storage->data + (size_t)t->offset * pf_dtype_size(dtype);
}

float *pf_data_f32(pf_tensor *t) { return typed_data(t, PF_F32, "pf_data_f32"); }
double *pf_data_f64(pf_tensor *t) { return typed_data(t, PF_F64, "pf_data_f64"); }
int64_t *pf_data_i64(pf_tensor *t) { return typed_data(t, PF_I64, "pf_data_i64"); }
uint8_t *pf_data_u8(pf_tensor *t) { return typed_data(t, PF_U8, "pf_data_u8"); }

static bool copy_out(const pf_tensor *t, void *out, pf_dtype dtype, const char *op)
{
    if (!t)
        return false;
    if (!out)
        return pf_fail("%s: NULL destination", op), false;
    if (t->device != PF_CPU)
        return pf_fail("%s: the tensor is not on the CPU", op), false;
    pf_kview src = pf_kview_of(t), dst = src;
    dst.data = out;
    dst.dtype = dtype;
    pf_contiguous_strides(t->ndim, t->shape, dst.stride);
    return pf_backend_get(PF_CPU)->copy(&dst, &src);
}

bool pf_copy_to_f32(const pf_tensor *t, float *out) { return copy_out(t, out, PF_F32, "pf_copy_to_f32"); }
bool pf_copy_to_f64(const pf_tensor *t, double *out) { return copy_out(t, out, PF_F64, "pf_copy_to_f64"); }

bool pf_fill_(pf_tensor *t, double value)
{
    if (!t)
        return false;
    pf_kview v = pf_kview_of(t);
    return pf_backend_get(t->device)->fill(&v, value);
}

bool pf_copy_(pf_tensor *dst, const pf_tensor *src)
{
    if (!dst || !src)
        return false;
    if (!pf_same_shape(dst, src)) {
        char a[128], b[128];
        pf_fail("pf_copy_: shapes differ (%s into %s)", pf_shape_str(src, a, sizeof a),
                pf_shape_str(dst, b, sizeof b));
        return false;
    }
    if (dst->device != src->device)
        return pf_fail("pf_copy_: tensors are on different devices"), false;
    pf_kview d = pf_kview_of(dst), s = pf_kview_of(src);
    return pf_backend_get(dst->device)->copy(&d, &s);
}

/* ---- recorded copies ---- */

/* The gradient of a copy is the gradient itself, in the input's dtype. */
static bool copy_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    gin[0] = g->dtype == n->in[0]->dtype ? g : pf_to_dtype(ctx, g, n->in[0]->dtype);
    return gin[0] != NULL;
}

static pf_tensor *recorded_copy(pf_ctx *ctx, pf_tensor *t, pf_dtype dtype, const char *name)
{
    pf_tensor *out = pf_empty_on(ctx, dtype, t->device, t->ndim, t->shape);
    if (!out || !pf_copy_(out, t))
        return NULL;
    if (pf_is_float(dtype) && !pf_record(ctx, out, name, copy_backward, 1, &t))
        return NULL;
    return out;
}

pf_tensor *pf_to_dtype(pf_ctx *ctx, const pf_tensor *t, pf_dtype dtype)
{
    PF_REQUIRE(ctx, t);
    if (pf_dtype_size(dtype) == 0)
        return pf_fail("pf_to_dtype: unknown dtype %d", (int)dtype);
    return recorded_copy(ctx, (pf_tensor *)t, dtype, "pf_to_dtype");
}

pf_tensor *pf_clone(pf_ctx *ctx, pf_tensor *t)
{
    PF_REQUIRE(ctx, t);
    return recorded_copy(ctx, t, t->dtype, "pf_clone");
}

pf_tensor *pf_contiguous(pf_ctx *ctx, pf_tensor *t)
{
    PF_REQUIRE(ctx, t);
    if (pf_is_contiguous(t))
        return t;
    return recorded_copy(ctx, t, t->dtype, "pf_contiguous");
}

pf_tensor *pf_detach(pf_ctx *ctx, pf_tensor *t)
{
    PF_REQUIRE(ctx, t);
    return pf_view_of(ctx, t, t->ndim, t->shape, t->stride, t->offset);
}
