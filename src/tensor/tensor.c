/*
 * tensor.c — making tensors: geometry helpers, storage, views of storage,
 * and the creation functions (empty, zeros, ones, full, arange, from arrays).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "tensor/tensor_internal.h"

size_t pf_dtype_size(pf_dtype dtype)
{
    switch (dtype) {
    case PF_F32: return 4;
    case PF_F64: return 8;
    case PF_I64: return 8;
    case PF_U8: return 1;
    }
    return 0;
}

const char *pf_dtype_name(pf_dtype dtype)
{
    switch (dtype) {
    case PF_F32: return "float32";
    case PF_F64: return "float64";
    case PF_I64: return "int64";
    case PF_U8: return "uint8";
    }
    return "unknown";
}

bool pf_is_float(pf_dtype dtype) { return dtype == PF_F32 || dtype == PF_F64; }

void pf_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        s *= shape[i];
    }
}

int64_t pf_shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

int64_t pf_numel(const pf_tensor *t) { return t ? pf_shape_numel(t->ndim, t->shape) : 0; }

bool pf_is_contiguous(const pf_tensor *t)
{
    if (!t)
        return false;
    int64_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != expected)
            return false;
        expected *= t->shape[i];
    }
    return true;
}

bool pf_same_shape(const pf_tensor *a, const pf_tensor *b)
{
    if (!a || !b || a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

char *pf_dims_str(int ndim, const int64_t *shape, char *buf, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "[");
    for (int i = 0; i < ndim; i++)
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, i ? ",%lld" : "%lld",
                                (long long)shape[i]);
    snprintf(buf + len, len < n ? n - len : 0, "]");
    return buf;
}

char *pf_shape_str(const pf_tensor *t, char *buf, size_t n)
{
    if (!t) {
        snprintf(buf, n, "(null)");
        return buf;
    }
    return pf_dims_str(t->ndim, t->shape, buf, n);
}

bool pf_check_shape(const char *op, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > PF_MAX_DIMS) {
        pf_fail("%s: %d dimensions (at most %d are supported)", op, ndim, PF_MAX_DIMS);
        return false;
    }
    if (ndim > 0 && !shape) {
        pf_fail("%s: NULL shape", op);
        return false;
    }
    /* The product of the non-zero sizes must stay small enough for strides
     * and byte counts, even when another size is 0. */
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            pf_fail("%s: negative size %lld in dimension %d", op, (long long)shape[i], i);
            return false;
        }
        if (shape[i] == 0)
            continue;
        if (n > INT64_MAX / 16 / shape[i]) {
            pf_fail("%s: shape too large", op);
            return false;
        }
        n *= shape[i];
    }
    return true;
}

int pf_wrap_dim(const char *op, int dim, int ndim)
{
    int range = ndim > 0 ? ndim : 1;
    if (dim < -range || dim >= range) {
        pf_fail("%s: dimension %d out of range for a tensor of %d dimensions", op, dim, ndim);
        return -1;
    }
    return dim < 0 ? dim + range : dim;
}

bool pf_check_float(const char *op, const pf_tensor *t)
{
    if (!pf_is_float(t->dtype)) {
        pf_fail("%s: expected a float32 or float64 tensor, got %s", op, pf_dtype_name(t->dtype));
        return false;
    }
    return true;
}

bool pf_check_same_kind(const char *op, const pf_tensor *a, const pf_tensor *b)
{
    if (a->dtype != b->dtype) {
        pf_fail("%s: dtypes differ (%s and %s)", op, pf_dtype_name(a->dtype), pf_dtype_name(b->dtype));
        return false;
    }
    if (a->device != b->device) {
        pf_fail("%s: tensors are on different devices", op);
        return false;
    }
    return true;
}

static pf_tensor *tensor_struct(pf_ctx *ctx)
{
    pf_tensor *t = pf_ctx_alloc_zeroed(ctx, sizeof *t);
    if (t)
        t->ctx = ctx;
    return t;
}

pf_tensor *pf_empty_on(pf_ctx *ctx, pf_dtype dtype, pf_device device, int ndim, const int64_t *shape)
{
    if (!ctx)
        return pf_fail("pf_empty: NULL context");
    if (!pf_check_shape("pf_empty", ndim, shape))
        return NULL;
    if (pf_dtype_size(dtype) == 0)
        return pf_fail("pf_empty: unknown dtype %d", (int)dtype);
    const pf_backend *be = pf_backend_get(device);
    if (!be)
        return NULL;
    pf_tensor *t = tensor_struct(ctx);
    pf_storage *s = pf_ctx_alloc(ctx, sizeof *s);
    if (!t || !s)
        return NULL;
    size_t bytes = (size_t)pf_shape_numel(ndim, shape) * pf_dtype_size(dtype);
    s->data = be->storage_alloc(ctx, bytes);
    if (!s->data)
        return NULL;
    s->bytes = bytes;
    s->device = device;
    t->dtype = dtype;
    t->device = device;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    pf_contiguous_strides(ndim, shape, t->stride);
    t->storage = s;
    return t;
}

pf_tensor *pf_empty(pf_ctx *ctx, pf_dtype dtype, int ndim, const int64_t *shape)
{
    return pf_empty_on(ctx, dtype, PF_CPU, ndim, shape);
}

pf_tensor *pf_empty_like(pf_ctx *ctx, const pf_tensor *t)
{
    if (!t)
        return NULL;
    return pf_empty_on(ctx, t->dtype, t->device, t->ndim, t->shape);
}

pf_tensor *pf_view_of(pf_ctx *ctx, const pf_tensor *base, int ndim, const int64_t *shape,
                      const int64_t *stride, int64_t offset)
{
    pf_tensor *t = tensor_struct(ctx);
    if (!t)
        return NULL;
    t->dtype = base->dtype;
    t->device = base->device;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->stride[i] = stride[i];
    }
    t->offset = offset;
    t->storage = base->storage;
    return t;
}

static pf_tensor *filled(pf_ctx *ctx, double value, int ndim, const int64_t *shape)
{
    pf_tensor *t = pf_empty(ctx, PF_F32, ndim, shape);
    if (t && !pf_fill_(t, value))
        return NULL;
    return t;
}

pf_tensor *pf_zeros(pf_ctx *ctx, int ndim, const int64_t *shape) { return filled(ctx, 0, ndim, shape); }
pf_tensor *pf_ones(pf_ctx *ctx, int ndim, const int64_t *shape) { return filled(ctx, 1, ndim, shape); }
pf_tensor *pf_full(pf_ctx *ctx, double value, int ndim, const int64_t *shape)
{
    return filled(ctx, value, ndim, shape);
}

static pf_tensor *filled_like(pf_ctx *ctx, const pf_tensor *t, double value)
{
    pf_tensor *out = pf_empty_like(ctx, t);
    if (out && !pf_fill_(out, value))
        return NULL;
    return out;
}

pf_tensor *pf_zeros_like(pf_ctx *ctx, const pf_tensor *t) { return filled_like(ctx, t, 0); }
pf_tensor *pf_ones_like(pf_ctx *ctx, const pf_tensor *t) { return filled_like(ctx, t, 1); }
pf_tensor *pf_scalar(pf_ctx *ctx, double value) { return filled(ctx, value, 0, NULL); }

pf_tensor *pf_arange(pf_ctx *ctx, double start, double end, double step)
{
    if (step == 0 || !isfinite(start) || !isfinite(end) || !isfinite(step))
        return pf_fail("pf_arange: bad range (%g, %g, step %g)", start, end, step);
    double count = ceil((end - start) / step);
    if (count < 0)
        count = 0;
    if (count > 1e12)
        return pf_fail("pf_arange: %g elements is too many", count);
    int64_t n = (int64_t)count;
    pf_tensor *t = pf_empty(ctx, PF_F32, 1, &n);
    if (!t)
        return NULL;
    float *p = t->storage->data;
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(start + (double)i * step);
    return t;
}

static pf_tensor *from_array(pf_ctx *ctx, pf_dtype dtype, const void *data, int ndim, const int64_t *shape)
{
    pf_tensor *t = pf_empty(ctx, dtype, ndim, shape);
    if (!t)
        return NULL;
    if (!data && t->storage->bytes)
        return pf_fail("pf_from_*: NULL data");
    if (t->storage->bytes)
        memcpy(t->storage->data, data, t->storage->bytes);
    return t;
}

pf_tensor *pf_from_f32(pf_ctx *ctx, const float *data, int ndim, const int64_t *shape)
{
    return from_array(ctx, PF_F32, data, ndim, shape);
}
pf_tensor *pf_from_f64(pf_ctx *ctx, const double *data, int ndim, const int64_t *shape)
{
    return from_array(ctx, PF_F64, data, ndim, shape);
}
pf_tensor *pf_from_i64(pf_ctx *ctx, const int64_t *data, int ndim, const int64_t *shape)
{
    return from_array(ctx, PF_I64, data, ndim, shape);
}
pf_tensor *pf_from_u8(pf_ctx *ctx, const uint8_t *data, int ndim, const int64_t *shape)
{
    return from_array(ctx, PF_U8, data, ndim, shape);
}
