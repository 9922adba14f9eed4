/*
 * tensor_internal.h — helpers shared by the library's own files: making
 * tensor structs and views, checking shapes and dimensions, and the bridge
 * from a tensor to the kernel view its backend works on.
 */
#ifndef PF_TENSOR_INTERNAL_H
#define PF_TENSOR_INTERNAL_H

#include "profond.h"

/* Puts context in front of the recorded error message, if there is one
 * (e.g. which layer of a model failed). */
void pf_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Zeroed memory from a context. */
void *pf_ctx_alloc_zeroed(pf_ctx *ctx, size_t bytes);

/* Row-major strides for a shape. */
void pf_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
/* Product of a shape's sizes (1 for ndim 0). */
int64_t pf_shape_numel(int ndim, const int64_t *shape);
/* "[2,3,4]" for a shape. */
char *pf_dims_str(int ndim, const int64_t *shape, char *buf, size_t n);

/* Checks ndim and sizes, naming op in the error. */
bool pf_check_shape(const char *op, int ndim, const int64_t *shape);
/* Maps a possibly negative dim into 0..ndim-1, or -1 with an error. */
int pf_wrap_dim(const char *op, int dim, int ndim);

/* A new tensor with fresh, uninitialised, contiguous storage on device. */
pf_tensor *pf_empty_on(pf_ctx *ctx, pf_dtype dtype, pf_device device, int ndim, const int64_t *shape);
/* A new contiguous tensor shaped like t (same dtype and device). */
pf_tensor *pf_empty_like(pf_ctx *ctx, const pf_tensor *t);
/* A tensor struct that shares base's storage with its own geometry. Not
 * recorded on the tape: the caller records the view op. */
pf_tensor *pf_view_of(pf_ctx *ctx, const pf_tensor *base, int ndim, const int64_t *shape,
                      const int64_t *stride, int64_t offset);

/* Address of element 0 of t (storage data plus offset); for contiguous
 * tensors, the start of their row-major data. */
static inline void *pf_tensor_data(const pf_tensor *t)
{
    return (char *)t->storage->data + (size_t)t->offset * pf_dtype_size(t->dtype);
}

/* True for PF_F32 and PF_F64. */
bool pf_is_float(pf_dtype dtype);
/* Errors unless t is a float tensor (named op). */
bool pf_check_float(const char *op, const pf_tensor *t);
/* Errors unless a and b have the same dtype and device. */
bool pf_check_same_kind(const char *op, const pf_tensor *a, const pf_tensor *b);

#endif
