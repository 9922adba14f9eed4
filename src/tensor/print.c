/*
 * print.c — printing tensors the way PyTorch does:
 *
 *   tensor([[ 1.0000, -2.5000],
 *           [ 3.0000,  4.0000]])
 *
 * The number format follows torch/_tensor_str.py: integral floats print as
 * "2.", others with four decimals, and scientific notation ("1.0000e-05")
 * when the nonzero magnitudes span more than 1000x, exceed 1e8 or go below
 * 1e-4. All elements are padded to one width; rows wrap at 80 columns;
 * tensors of more than 1000 elements show 3 items at each end of every
 * dimension around "...".
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/autograd.h"
#include "tensor/tensor_internal.h"

#define LINE_WIDTH 80
#define SUMMARY_THRESHOLD 1000
#define EDGE_ITEMS 3

/* Appends to a buffer of fixed capacity; counts what did not fit. */
typedef struct text {
    char *buf;
    size_t cap, len;
} text;

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    int n = vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static void spaces(text *t, int n)
{
    for (int i = 0; i < n; i++)
        put(t, " ");
}

typedef enum { FMT_INT, FMT_INTEGRAL_FLOAT, FMT_FIXED, FMT_SCI } number_format;

/* What choose_format learns about the shown values of a float tensor. */
typedef struct stats {
    bool integral;
    double min_abs, max_abs;
    bool any;
} stats;

typedef struct printer {
    const pf_tensor *t;
    bool summarize;
    number_format format;
    int width;
    stats stats;  /* kept here, not in a static, so that threads may print */
} printer;

/* The shown positions along one dimension: all, or the edges. */
static bool shown(const printer *p, int dim, int64_t i)
{
    int64_t n = p->t->shape[dim];
    return !p->summarize || n <= 2 * EDGE_ITEMS || i < EDGE_ITEMS || i >= n - EDGE_ITEMS;
}

/* An element: as a double, and exactly for int64 (a double holds integers
 * only up to 2^53). */
typedef struct value {
    double f;
    int64_t i;
} value;

static value get_value(const pf_tensor *t, const int64_t *idx)
{
    value v = {pf_get(t, idx), 0};
    if (t->dtype == PF_I64) {
        int64_t at = t->offset;
        for (int d = 0; d < t->ndim; d++)
            at += idx[d] * t->stride[d];
        v.i = ((const int64_t *)t->storage->data)[at];
    } else if (!pf_is_float(t->dtype)) {
        v.i = (int64_t)v.f;
    }
    return v;
}

static int format_value(const printer *p, value val, char *out, size_t n)
{
    double v = val.f;
    /* Python writes every NaN as "nan" (C may write "-nan"). */
    if (p->format != FMT_INT && !isfinite(v))
        return snprintf(out, n, "%s", isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
    switch (p->format) {
    case FMT_INT: return snprintf(out, n, "%lld", (long long)val.i);
    case FMT_INTEGRAL_FLOAT: return snprintf(out, n, "%.0f.", v);
    case FMT_FIXED: return snprintf(out, n, "%.4f", v);
    case FMT_SCI: return snprintf(out, n, "%.4e", v);
    }
    return 0;
}

/* Calls fn on every shown element (row-major). */
static void for_each_shown(const printer *p, void (*fn)(printer *, value), printer *arg)
{
    const pf_tensor *t = p->t;
    int64_t n = pf_numel(t);
    int64_t idx[PF_MAX_DIMS] = {0};
    for (int64_t k = 0; k < n; k++) {
        bool show = true;
        for (int d = 0; d < t->ndim && show; d++)
            show = shown(p, d, idx[d]);
        if (show)
            fn(arg, get_value(t, idx));
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

static void gather_stats(printer *p, value val)
{
    double v = val.f;
    if (!isfinite(v) || v == 0)
        return;
    double a = fabs(v);
    if (!p->stats.any || a < p->stats.min_abs)
        p->stats.min_abs = a;
    if (!p->stats.any || a > p->stats.max_abs)
        p->stats.max_abs = a;
    p->stats.any = true;
    if (v != ceil(v))
        p->stats.integral = false;
}

/* As PyTorch's _Formatter, the width of a float tensor is that of its nonzero
 * finite values: zeros and nan/inf are padded to it but do not widen it. */
static void measure_width(printer *p, value v)
{
    if (pf_is_float(p->t->dtype) && (!isfinite(v.f) || v.f == 0))
        return;
    char buf[64];
    int w = format_value(p, v, buf, sizeof buf);
    if (w > p->width)
        p->width = w;
}

static void choose_format(printer *p)
{
    if (!pf_is_float(p->t->dtype)) {
        p->format = FMT_INT;
    } else {
        p->stats = (stats){.integral = true};
        for_each_shown(p, gather_stats, p);
        const stats *s = &p->stats;
        double ratio = s->any ? s->max_abs / s->min_abs : 0;
        if (s->integral)
            p->format = s->any && (ratio > 1000 || s->max_abs > 1e8) ? FMT_SCI : FMT_INTEGRAL_FLOAT;
        else
            p->format = ratio > 1000 || s->max_abs > 1e8 || s->min_abs < 1e-4 ? FMT_SCI : FMT_FIXED;
    }
    p->width = 1;
    for_each_shown(p, measure_width, p);
}

static void put_value(const printer *p, text *out, value v)
{
    char buf[64];
    int w = format_value(p, v, buf, sizeof buf);
    spaces(out, p->width - w);
    put(out, "%s", buf);
}

/* Writes dimension `dim` of the block at idx; `indent` is the column of the
 * opening bracket of the outermost dimension. */
static void put_block(const printer *p, text *out, int dim, int64_t *idx, int indent)
{
    const pf_tensor *t = p->t;
    int64_t n = t->shape[dim];
    bool cut = p->summarize && n > 2 * EDGE_ITEMS;
    put(out, "[");
    if (dim == t->ndim - 1) {
        /* Items: the values, or the edges around " ..."; a fixed number of
         * items per line. */
        int per_line = (LINE_WIDTH - indent - dim) / (p->width + 2);
        if (per_line < 1)
            per_line = 1;
        int item = 0;
        for (int64_t i = 0; i < n; i++, item++) {
            if (item > 0) {
                put(out, ",");
                if (item % per_line == 0) {
                    put(out, "\n");
                    spaces(out, indent + dim + 1);
                } else {
                    put(out, " ");
                }
            }
            if (cut && i == EDGE_ITEMS) {
                put(out, " ...");
                i = n - EDGE_ITEMS - 1;
                continue;
            }
            idx[dim] = i;
            put_value(p, out, get_value(t, idx));
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            if (i > 0) {
                put(out, ",");
                for (int k = 0; k < t->ndim - dim - 1; k++)
                    put(out, "\n");
                spaces(out, indent + dim + 1);
            }
            if (cut && i == EDGE_ITEMS) {
                put(out, "...");
                i = n - EDGE_ITEMS - 1;
                continue;
            }
            idx[dim] = i;
            put_block(p, out, dim + 1, idx, indent);
        }
    }
    put(out, "]");
}

size_t pf_format(const pf_tensor *t, char *buf, size_t n)
{
    text out = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    if (!t) {
        put(&out, "(null)");
        return out.len;
    }
    if (t->device != PF_CPU) {
        put(&out, "tensor(<on device>)");
        return out.len;
    }
    printer p = {.t = t, .summarize = pf_numel(t) > SUMMARY_THRESHOLD};
    choose_format(&p);
    put(&out, "tensor(");
    int indent = (int)strlen("tensor(");
    if (pf_numel(t) == 0) {
        put(&out, "[]");
        if (t->ndim != 1) {
            put(&out, ", size=(");
            for (int i = 0; i < t->ndim; i++)
                put(&out, i ? ", %lld" : "%lld", (long long)t->shape[i]);
            put(&out, t->ndim == 1 ? ",)" : ")");
        }
        /* With no values to show its kind, an empty tensor names every
         * dtype but float32, int64 included (as PyTorch). */
        if (t->dtype == PF_I64)
            put(&out, ", dtype=torch.int64");
    } else if (t->ndim == 0) {
        int64_t none[1] = {0};
        p.width = 0;
        put_value(&p, &out, get_value(t, none));
    } else {
        int64_t idx[PF_MAX_DIMS] = {0};
        put_block(&p, &out, 0, idx, indent);
    }
    if (t->dtype == PF_F64)
        put(&out, ", dtype=torch.float64");
    else if (t->dtype == PF_U8)
        put(&out, ", dtype=torch.uint8");
    if (t->node)
        put(&out, ", grad_fn=<%s>", t->node->op);
    else if (t->requires_grad)
        put(&out, ", requires_grad=True");
    put(&out, ")");
    return out.len;
}

void pf_fprint(FILE *f, const pf_tensor *t)
{
    size_t len = pf_format(t, NULL, 0);
    char *buf = malloc(len + 1);
    if (!buf) {
        fputs("tensor(<out of memory>)\n", f);
        return;
    }
    pf_format(t, buf, len + 1);
    fputs(buf, f);
    fputc('\n', f);
    free(buf);
}

void pf_print(const pf_tensor *t) { pf_fprint(stdout, t); }
