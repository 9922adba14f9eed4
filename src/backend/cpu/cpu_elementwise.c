/*
 * cpu_elementwise.c — CPU kernels that map elements one to one: fill, copy
 * (with dtype conversion), unary maps and their derivatives, and binary
 * maps with broadcasting. The typed loops are in cpu_elementwise.inc.
 */
#include <string.h>
#include <tgmath.h>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_iter.h"

#define PF_CPU_KERNELS "backend/cpu/cpu_elementwise.inc"
#include "backend/cpu/cpu_instantiate.h"

bool pf_cpu_unary(pf_unary_op op, const pf_kview *out, const pf_kview *x, double p0, double p1)
{
    if (out->dtype == PF_F32)
        unary_f32(op, out, x, p0, p1);
    else
        unary_f64(op, out, x, p0, p1);
    return true;
}

bool pf_cpu_unary_backward(pf_unary_op op, const pf_kview *dx, const pf_kview *dy, const pf_kview *x,
                           const pf_kview *y, double p0, double p1)
{
    int64_t n = 1;
    for (int d = 0; d < dx->ndim; d++)
        n *= dx->shape[d];
    const char *xd = x ? x->data : NULL, *yd = y ? y->data : NULL;
    if (dx->dtype == PF_F32)
        unary_backward_f32(op, (float *)dx->data, (const float *)dy->data, (const float *)xd,
                           (const float *)yd, n, (float)p0, (float)p1);
    else
        unary_backward_f64(op, (double *)dx->data, (const double *)dy->data, (const double *)xd,
                           (const double *)yd, n, p0, p1);
    return true;
}

bool pf_cpu_binary(pf_binary_op op, const pf_kview *out, const pf_kview *a, const pf_kview *b)
{
    if (out->dtype == PF_F32)
        binary_f32(op, out, a, b);
    else
        binary_f64(op, out, a, b);
    return true;
}

/* ---- fill and copy: any dtype ---- */

static double load_as_double(pf_dtype dtype, const char *p)
{
    switch (dtype) {
    case PF_F32: return *(const float *)p;
    case PF_F64: return *(const double *)p;
    case PF_I64: return (double)*(const int64_t *)p;
    case PF_U8: return *(const uint8_t *)p;
    }
    return 0;
}

static void store_from_double(pf_dtype dtype, char *p, double v)
{
    switch (dtype) {
    case PF_F32: *(float *)p = (float)v; break;
    case PF_F64: *(double *)p = v; break;
    case PF_I64: /* saturating, NaN to 0: an out-of-range cast is undefined in C */
        *(int64_t *)p = v != v ? 0 : v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : (int64_t)v;
        break;
    case PF_U8: *(uint8_t *)p = v != v ? 0 : v >= 255 ? 255 : v <= 0 ? 0 : (uint8_t)v; break;
    }
}

typedef struct fill_args {
    char *dst;
    size_t elsize;
    unsigned char pattern[8];
} fill_args;

static bool all_zero_bytes(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* A contiguous segment of zeros is one memset (zero_grad zeroes every
 * gradient each step: element by element it took a third of an MLP's
 * epoch); anything else is element by element. */
static void fill_segment(void *arg, const int64_t *off, const int64_t *step, int64_t len)
{
    const fill_args *a = arg;
    if (step[0] == 1 && all_zero_bytes(a->pattern, a->elsize)) {
        memset(a->dst + (size_t)off[0] * a->elsize, 0, (size_t)len * a->elsize);
        return;
    }
    for (int64_t i = 0; i < len; i++)
        memcpy(a->dst + (size_t)(off[0] + i * step[0]) * a->elsize, a->pattern, a->elsize);
}

bool pf_cpu_fill(const pf_kview *dst, double value)
{
    cpu_iter it;
    cpu_iter_init(&it, 1, (const pf_kview *[]){dst});
    fill_args a = {.dst = dst->data, .elsize = pf_dtype_size(dst->dtype)};
    store_from_double(dst->dtype, (char *)a.pattern, value);
    cpu_iter_run(&it, fill_segment, &a);
    return true;
}

typedef struct copy_args {
    char *dst;
    const char *src;
    pf_dtype dst_dtype, src_dtype;
    size_t dst_size, src_size;
} copy_args;

static void copy_segment(void *arg, const int64_t *off, const int64_t *step, int64_t len)
{
    const copy_args *a = arg;
    char *d = a->dst + (size_t)off[0] * a->dst_size;
    const char *s = a->src + (size_t)off[1] * a->src_size;
    if (a->dst_dtype == a->src_dtype) {
        if (step[0] == 1 && step[1] == 1) {
            memcpy(d, s, (size_t)len * a->dst_size);
            return;
        }
        for (int64_t i = 0; i < len; i++)
            memcpy(d + i * step[0] * (int64_t)a->dst_size, s + i * step[1] * (int64_t)a->src_size, a->dst_size);
        return;
    }
    for (int64_t i = 0; i < len; i++)
        store_from_double(a->dst_dtype, d + i * step[0] * (int64_t)a->dst_size,
                          load_as_double(a->src_dtype, s + i * step[1] * (int64_t)a->src_size));
}

bool pf_cpu_copy(const pf_kview *dst, const pf_kview *src)
{
    cpu_iter it;
    cpu_iter_init(&it, 2, (const pf_kview *[]){dst, src});
    copy_args a = {dst->data, src->data, dst->dtype, src->dtype, pf_dtype_size(dst->dtype),
                   pf_dtype_size(src->dtype)};
    cpu_iter_run(&it, copy_segment, &a);
    return true;
}
