/*
 * pool.c — 2-D pooling as PyTorch's F.max_pool2d, F.avg_pool2d (with
 * count_include_pad, and ceil_mode off) and F.adaptive_avg_pool2d, forward
 * and backward side by side.
 *
 * max_pool2d keeps, for every output, the flat position h*W + w of its
 * maximum in the input plane; its backward sends each gradient there. The
 * average poolings' backward spreads each gradient evenly over its window.
 */
#include "ops/ops_internal.h"

/* Checks that x is a float [N, C, H, W] tensor. */
static bool check_image(const char *op, const pf_tensor *x)
{
    if (!pf_check_float(op, x))
        return false;
    if (x->ndim != 4) {
        char xs[128];
        pf_fail("%s: input %s must be 4-D [N, C, H, W]", op, pf_shape_str(x, xs, sizeof xs));
        return false;
    }
    return true;
}

/* Geometry of a pooling of x into out (kernel, stride, padding may be 0 for
 * adaptive pooling). */
static pf_pool2d_geom pool_geom(const pf_tensor *x, const pf_tensor *out, int64_t kernel, int64_t stride,
                                int64_t padding)
{
    return (pf_pool2d_geom){
        .n = x->shape[0], .c = x->shape[1], .h_in = x->shape[2], .w_in = x->shape[3],
        .h_out = out->shape[2], .w_out = out->shape[3],
        .kernel = kernel, .stride = stride, .padding = padding,
    };
}

/* Checks the window settings of max or average pooling (stride 0: the
 * kernel size) and makes the output tensor. */
static pf_tensor *windowed_output(pf_ctx *ctx, const char *op, const pf_tensor *x, int kernel, int *stride,
                                  int padding)
{
    if (!check_image(op, x))
        return NULL;
    if (kernel < 1)
        return pf_fail("%s: kernel size %d must be at least 1", op, kernel);
    if (*stride < 0 || padding < 0)
        return pf_fail("%s: stride %d and padding %d must not be negative", op, *stride, padding);
    if (*stride == 0)
        *stride = kernel;
    if (padding > kernel / 2)
        return pf_fail("%s: padding %d is more than half the kernel size %d", op, padding, kernel);
    char xs[128];
    if (x->shape[2] == 0 || x->shape[3] == 0)
        return pf_fail("%s: input %s has an empty plane", op, pf_shape_str(x, xs, sizeof xs));
    int64_t span_h = x->shape[2] + 2 * padding - kernel, span_w = x->shape[3] + 2 * padding - kernel;
    if (span_h < 0 || span_w < 0)
        return pf_fail("%s: input %s is smaller than the kernel %d with padding %d", op,
                       pf_shape_str(x, xs, sizeof xs), kernel, padding);
    return pf_empty_on(ctx, x->dtype, x->device,
                       PF_DIMS(x->shape[0], x->shape[1], span_h / *stride + 1, span_w / *stride + 1));
}

static pf_tensor *contiguous_untracked(pf_ctx *ctx, pf_tensor *t)
{
    bool was = pf_set_grad_enabled(false);
    pf_tensor *c = pf_contiguous(ctx, t);
    pf_set_grad_enabled(was);
    return c;
}

static void save_window(pf_node *node, int kernel, int stride, int padding)
{
    node->iarg[0] = kernel;
    node->iarg[1] = stride;
    node->iarg[2] = padding;
}

/* ---- max pooling ---- */

/* iarg[0..2]: kernel, stride, padding; saved[0]: the int64 positions. */
static bool max_pool2d_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0], *dy = pf_contiguous(ctx, g);
    pf_tensor *dx = pf_empty_on(ctx, x->dtype, x->device, x->ndim, x->shape);
    if (!dy || !dx)
        return false;
    pf_pool2d_geom geom = pool_geom(x, dy, n->iarg[0], n->iarg[1], n->iarg[2]);
    if (!pf_backend_get(x->device)->max_pool2d_backward(x->dtype, &geom, pf_tensor_data(dx), pf_tensor_data(dy),
                                                        pf_tensor_data(n->saved[0])))
        return false;
    gin[0] = dx;
    return true;
}

pf_tensor *pf_max_pool2d(pf_ctx *ctx, pf_tensor *x, int kernel, int stride, int padding)
{
    static const char op[] = "pf_max_pool2d";
    PF_REQUIRE(ctx, x);
    pf_tensor *out = windowed_output(ctx, op, x, kernel, &stride, padding);
    pf_tensor *xc = out ? contiguous_untracked(ctx, x) : NULL;
    if (!xc)
        return NULL;
    /* the positions of the maxima only where a backward will want them */
    pf_tensor *indices = NULL;
    if (pf_tape_wants(1, &x) && !(indices = pf_empty_on(ctx, PF_I64, x->device, out->ndim, out->shape)))
        return NULL;
    pf_pool2d_geom geom = pool_geom(x, out, kernel, stride, padding);
    if (!pf_backend_get(x->device)->max_pool2d(x->dtype, &geom, pf_tensor_data(out),
                                               indices ? pf_tensor_data(indices) : NULL, pf_tensor_data(xc)))
        return NULL;
    if (!pf_record(ctx, out, op, max_pool2d_backward, 1, &x))
        return NULL;
    if (out->node) {
        save_window(out->node, kernel, stride, padding);
        out->node->saved[0] = indices;
    }
    return out;
}

/* ---- average pooling ---- */

/* iarg[0..2]: kernel, stride, padding. */
static bool avg_pool2d_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0], *dy = pf_contiguous(ctx, g);
    pf_tensor *dx = pf_empty_on(ctx, x->dtype, x->device, x->ndim, x->shape);
    if (!dy || !dx)
        return false;
    pf_pool2d_geom geom = pool_geom(x, dy, n->iarg[0], n->iarg[1], n->iarg[2]);
    if (!pf_backend_get(x->device)->avg_pool2d_backward(x->dtype, &geom, pf_tensor_data(dx), pf_tensor_data(dy)))
        return false;
    gin[0] = dx;
    return true;
}

pf_tensor *pf_avg_pool2d(pf_ctx *ctx, pf_tensor *x, int kernel, int stride, int padding)
{
    static const char op[] = "pf_avg_pool2d";
    PF_REQUIRE(ctx, x);
    pf_tensor *out = windowed_output(ctx, op, x, kernel, &stride, padding);
    pf_tensor *xc = out ? contiguous_untracked(ctx, x) : NULL;
    if (!xc)
        return NULL;
    pf_pool2d_geom geom = pool_geom(x, out, kernel, stride, padding);
    if (!pf_backend_get(x->device)->avg_pool2d(x->dtype, &geom, pf_tensor_data(out), pf_tensor_data(xc)))
        return NULL;
    if (!pf_record(ctx, out, op, avg_pool2d_backward, 1, &x))
        return NULL;
    if (out->node)
        save_window(out->node, kernel, stride, padding);
    return out;
}

/* ---- adaptive average pooling ---- */

static bool adaptive_avg_pool2d_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->in[0], *dy = pf_contiguous(ctx, g);
    pf_tensor *dx = pf_empty_on(ctx, x->dtype, x->device, x->ndim, x->shape);
    if (!dy || !dx)
        return false;
    pf_pool2d_geom geom = pool_geom(x, dy, 0, 0, 0);
    if (!pf_backend_get(x->device)->adaptive_avg_pool2d_backward(x->dtype, &geom, pf_tensor_data(dx),
                                                                 pf_tensor_data(dy)))
        return false;
    gin[0] = dx;
    return true;
}

pf_tensor *pf_adaptive_avg_pool2d(pf_ctx *ctx, pf_tensor *x, int out_h, int out_w)
{
    static const char op[] = "pf_adaptive_avg_pool2d";
    PF_REQUIRE(ctx, x);
    if (!check_image(op, x))
        return NULL;
    if (out_h < 1 || out_w < 1)
        return pf_fail("%s: output size %dx%d must be at least 1x1", op, out_h, out_w);
    if (x->shape[2] == 0 || x->shape[3] == 0) {
        char xs[128];
        return pf_fail("%s: input %s has an empty plane", op, pf_shape_str(x, xs, sizeof xs));
    }
    pf_tensor *xc = contiguous_untracked(ctx, x);
    pf_tensor *out = xc ? pf_empty_on(ctx, x->dtype, x->device, PF_DIMS(x->shape[0], x->shape[1], out_h, out_w))
                        : NULL;
    if (!out)
        return NULL;
    pf_pool2d_geom geom = pool_geom(x, out, 0, 0, 0);
    if (!pf_backend_get(x->device)->adaptive_avg_pool2d(x->dtype, &geom, pf_tensor_data(out), pf_tensor_data(xc)))
        return NULL;
    if (!pf_record(ctx, out, op, adaptive_avg_pool2d_backward, 1, &x))
        return NULL;
    return out;
}
