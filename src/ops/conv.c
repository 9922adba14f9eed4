/*
 * conv.c — 2-D convolution and transposed convolution (as PyTorch's
 * F.conv2d and F.conv_transpose2d, one group), forward and backward side by
 * side.
 *
 * Both run on the backend's three convolution kernels:
 *   pf_conv2d            forward: conv2d;  backward: conv2d_backward_input (dx)
 *                        and conv2d_backward_weight (dweight, dbias)
 *   pf_conv_transpose2d  is the gradient of a convolution with respect to its
 *                        input, so its forward is conv2d_backward_input, with
 *                        the weight [C_in, C_out, kH, kW] read as a conv2d
 *                        weight [c_out = C_in, c_in = C_out, kH, kW], its
 *                        output playing the convolution's input and x its
 *                        output; its backward is conv2d (dx) and
 *                        conv2d_backward_weight with x and dy swapped
 *                        (dweight). Its bias is added by pf_add afterwards.
 */
#include "ops/ops_internal.h"

/* Stride, padding and dilation as given (0 stride or dilation: 1). */
typedef struct conv_settings {
    int64_t stride, padding, dilation;
} conv_settings;

static bool read_settings(const char *op, int stride, int padding, int dilation, conv_settings *s)
{
    if (stride < 0 || padding < 0 || dilation < 0) {
        pf_fail("%s: stride %d, padding %d and dilation %d must not be negative", op, stride, padding, dilation);
        return false;
    }
    s->stride = stride ? stride : 1;
    s->padding = padding;
    s->dilation = dilation ? dilation : 1;
    return true;
}

/* Geometry of the convolution that reads `image` ([N, c_in, H, W]) and
 * writes `result` ([N, c_out, h_out, w_out]) with a kH x kW kernel. */
static pf_conv2d_geom conv_geom(const pf_tensor *image, const pf_tensor *result, const pf_tensor *weight,
                                const conv_settings *s)
{
    return (pf_conv2d_geom){
        .n = image->shape[0], .c_in = image->shape[1], .h_in = image->shape[2], .w_in = image->shape[3],
        .c_out = result->shape[1], .h_out = result->shape[2], .w_out = result->shape[3],
        .k_h = weight->shape[2], .k_w = weight->shape[3],
        .stride = s->stride, .padding = s->padding, .dilation = s->dilation,
    };
}

static void save_settings(pf_node *node, const conv_settings *s)
{
    node->iarg[0] = s->stride;
    node->iarg[1] = s->padding;
    node->iarg[2] = s->dilation;
}

static conv_settings node_settings(const pf_node *node)
{
    return (conv_settings){node->iarg[0], node->iarg[1], node->iarg[2]};
}

/* Checks shared by both convolutions: float x and weight of one kind, both
 * 4-D, a non-empty kernel, x's channels equal to weight's dimension
 * `weight_in_dim`, and a bias of [weight->shape[bias_dim]] if any. */
static bool check_operands(const char *op, const pf_tensor *x, const pf_tensor *weight, const pf_tensor *bias,
                           int weight_in_dim, int bias_dim)
{
    char xs[128], ws[128], bs[128];
    if (!pf_check_float(op, x) || !pf_check_same_kind(op, x, weight) || (bias && !pf_check_same_kind(op, x, bias)))
        return false;
    if (x->ndim != 4) {
        pf_fail("%s: input %s must be 4-D [N, C, H, W]", op, pf_shape_str(x, xs, sizeof xs));
        return false;
    }
    if (weight->ndim != 4) {
        pf_fail("%s: weight %s must be 4-D", op, pf_shape_str(weight, ws, sizeof ws));
        return false;
    }
    if (weight->shape[2] == 0 || weight->shape[3] == 0) {
        pf_fail("%s: weight %s has an empty kernel", op, pf_shape_str(weight, ws, sizeof ws));
        return false;
    }
    if (x->shape[1] != weight->shape[weight_in_dim]) {
        pf_fail("%s: input %s has %lld channels but weight %s expects %lld", op, pf_shape_str(x, xs, sizeof xs),
                (long long)x->shape[1], pf_shape_str(weight, ws, sizeof ws), (long long)weight->shape[weight_in_dim]);
        return false;
    }
    if (bias && (bias->ndim != 1 || bias->shape[0] != weight->shape[bias_dim])) {
        pf_fail("%s: bias %s does not match weight %s (expected [%lld])", op, pf_shape_str(bias, bs, sizeof bs),
                pf_shape_str(weight, ws, sizeof ws), (long long)weight->shape[bias_dim]);
        return false;
    }
    return true;
}

/* Contiguous copies (or t itself) made without recording. */
static pf_tensor *contiguous_untracked(pf_ctx *ctx, pf_tensor *t)
{
    bool was = pf_set_grad_enabled(false);
    pf_tensor *c = pf_contiguous(ctx, t);
    pf_set_grad_enabled(was);
    return c;
}

/* ---- conv2d ---- */

/* Output size of a convolution along one side, floor-divided; <= 0 when the
 * input is too small. */
static int64_t conv_out_size(int64_t in, int64_t k, const conv_settings *s)
{
    int64_t span = in + 2 * s->padding - s->dilation * (k - 1) - 1;
    return span >= 0 ? span / s->stride + 1 : -((-span + s->stride - 1) / s->stride) + 1;
}

/* saved[0], saved[1]: contiguous x and weight; iarg[0..2]: the settings. */
static bool conv2d_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->saved[0], *w = n->saved[1], *bias = n->in[2];
    conv_settings s = node_settings(n);
    pf_tensor *dy = pf_contiguous(ctx, g);
    if (!dy)
        return false;
    pf_conv2d_geom geom = conv_geom(x, dy, w, &s);
    const pf_backend *be = pf_backend_get(x->device);
    if (n->in[0]->requires_grad) {
        pf_tensor *dx = pf_empty_like(ctx, x);
        if (!dx || !be->conv2d_backward_input(x->dtype, &geom, pf_tensor_data(dx), pf_tensor_data(dy),
                                              pf_tensor_data(w)))
            return false;
        gin[0] = dx;
    }
    bool want_bias = bias && bias->requires_grad;
    if (n->in[1]->requires_grad || want_bias) {
        pf_tensor *dw = pf_empty_like(ctx, w), *db = want_bias ? pf_empty_like(ctx, bias) : NULL;
        if (!dw || (want_bias && !db))
            return false;
        if (!be->conv2d_backward_weight(x->dtype, &geom, pf_tensor_data(dw), db ? pf_tensor_data(db) : NULL,
                                        pf_tensor_data(dy), pf_tensor_data(x)))
            return false;
        gin[1] = n->in[1]->requires_grad ? dw : NULL;
        gin[2] = db;
    }
    return true;
}

pf_tensor *pf_conv2d(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias, int stride, int padding,
                     int dilation)
{
    static const char op[] = "pf_conv2d";
    PF_REQUIRE(ctx, x, weight);
    conv_settings s;
    if (!read_settings(op, stride, padding, dilation, &s) || !check_operands(op, x, weight, bias, 1, 0))
        return NULL;
    int64_t h_out = conv_out_size(x->shape[2], weight->shape[2], &s);
    int64_t w_out = conv_out_size(x->shape[3], weight->shape[3], &s);
    if (h_out <= 0 || w_out <= 0) {
        char xs[128], ws[128];
        return pf_fail("%s: input %s is too small for weight %s with stride %lld, padding %lld, dilation %lld "
                       "(output would be %lldx%lld)",
                       op, pf_shape_str(x, xs, sizeof xs), pf_shape_str(weight, ws, sizeof ws), (long long)s.stride,
                       (long long)s.padding, (long long)s.dilation, (long long)h_out, (long long)w_out);
    }
    pf_tensor *xc = contiguous_untracked(ctx, x), *wc = contiguous_untracked(ctx, weight);
    pf_tensor *bc = bias ? contiguous_untracked(ctx, bias) : NULL;
    if (!xc || !wc || (bias && !bc))
        return NULL;
    pf_tensor *out = pf_empty_on(ctx, x->dtype, x->device, PF_DIMS(x->shape[0], weight->shape[0], h_out, w_out));
    if (!out)
        return NULL;
    pf_conv2d_geom geom = conv_geom(xc, out, wc, &s);
    if (!pf_backend_get(x->device)->conv2d(x->dtype, &geom, pf_tensor_data(out), pf_tensor_data(xc),
                                           pf_tensor_data(wc), bc ? pf_tensor_data(bc) : NULL))
        return NULL;
    if (!pf_record(ctx, out, op, conv2d_backward, 3, (pf_tensor *[]){x, weight, bias}))
        return NULL;
    if (out->node) {
        save_settings(out->node, &s);
        out->node->saved[0] = xc;
        out->node->saved[1] = wc;
    }
    return out;
}

/* ---- conv2d then max_pool2d ---- */

/* The pooling of a convolution's output plane [h, w] as pf_max_pool2d
 * accepts it (stride 0: the kernel); false, recording nothing, otherwise. */
static bool pool_settings(int64_t h, int64_t w, int kernel, int *stride, int padding)
{
    if (kernel < 1 || *stride < 0 || padding < 0 || padding > kernel / 2)
        return false;
    if (*stride == 0)
        *stride = kernel;
    return h + 2 * padding >= kernel && w + 2 * padding >= kernel;
}

/* saved[0], saved[1]: contiguous x and weight, saved[2]: the positions of
 * the maxima; iarg[0..2]: the convolution's settings, [3..5]: the
 * pooling's kernel, stride, padding, [6], [7]: the convolution's output
 * plane. */
static bool conv2d_max_pool2d_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->saved[0], *w = n->saved[1], *bias = n->in[2];
    conv_settings s = node_settings(n);
    pf_tensor *dy = pf_contiguous(ctx, g);
    if (!dy)
        return false;
    pf_conv2d_geom geom = {
        .n = x->shape[0], .c_in = x->shape[1], .h_in = x->shape[2], .w_in = x->shape[3],
        .c_out = w->shape[0], .h_out = n->iarg[6], .w_out = n->iarg[7],
        .k_h = w->shape[2], .k_w = w->shape[3], .stride = s.stride, .padding = s.padding, .dilation = s.dilation,
    };
    pf_pool2d_geom pool = {
        .n = geom.n, .c = geom.c_out, .h_in = geom.h_out, .w_in = geom.w_out, .h_out = dy->shape[2],
        .w_out = dy->shape[3], .kernel = n->iarg[3], .stride = n->iarg[4], .padding = n->iarg[5],
    };
    bool want_x = n->in[0]->requires_grad, want_bias = bias && bias->requires_grad;
    pf_tensor *dx = want_x ? pf_empty_like(ctx, x) : NULL, *dw = pf_empty_like(ctx, w);
    pf_tensor *db = want_bias ? pf_empty_like(ctx, bias) : NULL;
    if ((want_x && !dx) || !dw || (want_bias && !db))
        return false;
    if (!pf_backend_get(x->device)->conv2d_max_pool2d_backward(
            x->dtype, &geom, &pool, dx ? pf_tensor_data(dx) : NULL, pf_tensor_data(dw), db ? pf_tensor_data(db) : NULL,
            pf_tensor_data(dy), pf_tensor_data(n->saved[2]), pf_tensor_data(x), pf_tensor_data(w)))
        return false;
    gin[0] = dx;
    gin[1] = n->in[1]->requires_grad ? dw : NULL;
    gin[2] = db;
    return true;
}

pf_tensor *pf_conv2d_max_pool2d(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias, int stride,
                                int padding, int dilation, int pool_kernel, int pool_stride, int pool_padding)
{
    static const char op[] = "pf_conv2d_max_pool2d";
    PF_REQUIRE(ctx, x, weight);
    /* Anything the fused kernel does not take, or that either op would
     * refuse, goes the long way, which also words the errors. */
    const pf_backend *be = pf_backend_get(x->device);
    conv_settings s = {stride ? stride : 1, padding, dilation ? dilation : 1};
    bool operands = x->ndim == 4 && weight->ndim == 4 && pf_is_float(x->dtype) && weight->dtype == x->dtype &&
                    weight->device == x->device && x->shape[1] == weight->shape[1] && weight->shape[2] > 0 &&
                    weight->shape[3] > 0 &&
                    (!bias || (bias->ndim == 1 && bias->shape[0] == weight->shape[0] && bias->dtype == x->dtype &&
                               bias->device == x->device));
    int64_t h_out = operands ? conv_out_size(x->shape[2], weight->shape[2], &s) : 0;
    int64_t w_out = operands ? conv_out_size(x->shape[3], weight->shape[3], &s) : 0;
    if (!be->conv2d_max_pool2d || stride < 0 || padding < 0 || dilation < 0 || h_out <= 0 || w_out <= 0 ||
        !pool_settings(h_out, w_out, pool_kernel, &pool_stride, pool_padding))
        return pf_max_pool2d(ctx, pf_conv2d(ctx, x, weight, bias, stride, padding, dilation), pool_kernel,
                             pool_stride, pool_padding);
    pf_tensor *xc = contiguous_untracked(ctx, x), *wc = contiguous_untracked(ctx, weight);
    pf_tensor *bc = bias ? contiguous_untracked(ctx, bias) : NULL;
    if (!xc || !wc || (bias && !bc))
        return NULL;
    int64_t pooled_h = (h_out + 2 * pool_padding - pool_kernel) / pool_stride + 1;
    int64_t pooled_w = (w_out + 2 * pool_padding - pool_kernel) / pool_stride + 1;
    pf_tensor *out = pf_empty_on(ctx, x->dtype, x->device, PF_DIMS(x->shape[0], weight->shape[0], pooled_h, pooled_w));
    pf_tensor *indices = NULL;
    if (!out || (pf_tape_wants(3, (pf_tensor *[]){x, weight, bias}) &&
                 !(indices = pf_empty_on(ctx, PF_I64, x->device, out->ndim, out->shape))))
        return NULL;
    pf_conv2d_geom geom = {
        .n = x->shape[0], .c_in = x->shape[1], .h_in = x->shape[2], .w_in = x->shape[3],
        .c_out = weight->shape[0], .h_out = h_out, .w_out = w_out,
        .k_h = weight->shape[2], .k_w = weight->shape[3], .stride = s.stride, .padding = s.padding,
        .dilation = s.dilation,
    };
    pf_pool2d_geom pool = {
        .n = geom.n, .c = geom.c_out, .h_in = h_out, .w_in = w_out, .h_out = pooled_h, .w_out = pooled_w,
        .kernel = pool_kernel, .stride = pool_stride, .padding = pool_padding,
    };
    if (!be->conv2d_max_pool2d(x->dtype, &geom, &pool, pf_tensor_data(out), indices ? pf_tensor_data(indices) : NULL,
                               pf_tensor_data(xc), pf_tensor_data(wc), bc ? pf_tensor_data(bc) : NULL))
        return NULL;
    if (!pf_record(ctx, out, op, conv2d_max_pool2d_backward, 3, (pf_tensor *[]){x, weight, bias}))
        return NULL;
    if (out->node) {
        save_settings(out->node, &s);
        int64_t more[5] = {pool_kernel, pool_stride, pool_padding, h_out, w_out};
        for (int i = 0; i < 5; i++)
            out->node->iarg[3 + i] = more[i];
        out->node->saved[0] = xc;
        out->node->saved[1] = wc;
        out->node->saved[2] = indices;
    }
    return out;
}

/* ---- conv_transpose2d ---- */

/* Output size of a transposed convolution along one side. */
static int64_t conv_transpose_out_size(int64_t in, int64_t k, int64_t output_padding, const conv_settings *s)
{
    return (in - 1) * s->stride - 2 * s->padding + s->dilation * (k - 1) + output_padding + 1;
}

/* saved[0], saved[1]: contiguous x and weight; iarg[0..2]: the settings.
 * The convolution behind it reads the output (dy here) and writes x. */
static bool conv_transpose2d_backward(pf_ctx *ctx, pf_node *n, pf_tensor *g, pf_tensor **gin)
{
    pf_tensor *x = n->saved[0], *w = n->saved[1];
    conv_settings s = node_settings(n);
    pf_tensor *dy = pf_contiguous(ctx, g);
    if (!dy)
        return false;
    pf_conv2d_geom geom = conv_geom(dy, x, w, &s);
    const pf_backend *be = pf_backend_get(x->device);
    if (n->in[0]->requires_grad) {
        pf_tensor *dx = pf_empty_like(ctx, x);
        if (!dx || !be->conv2d(x->dtype, &geom, pf_tensor_data(dx), pf_tensor_data(dy), pf_tensor_data(w), NULL))
            return false;
        gin[0] = dx;
    }
    if (n->in[1]->requires_grad) {
        pf_tensor *dw = pf_empty_like(ctx, w);
        if (!dw || !be->conv2d_backward_weight(x->dtype, &geom, pf_tensor_data(dw), NULL, pf_tensor_data(x),
                                               pf_tensor_data(dy)))
            return false;
        gin[1] = dw;
    }
    return true;
}

pf_tensor *pf_conv_transpose2d(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias, int stride,
                               int padding, int output_padding, int dilation)
{
    static const char op[] = "pf_conv_transpose2d";
    PF_REQUIRE(ctx, x, weight);
    conv_settings s;
    if (!read_settings(op, stride, padding, dilation, &s) || !check_operands(op, x, weight, bias, 0, 1))
        return NULL;
    if (output_padding < 0 || (output_padding >= s.stride && output_padding >= s.dilation))
        return pf_fail("%s: output_padding %d must be smaller than the stride (%lld) or the dilation (%lld)", op,
                       output_padding, (long long)s.stride, (long long)s.dilation);
    int64_t h_out = conv_transpose_out_size(x->shape[2], weight->shape[2], output_padding, &s);
    int64_t w_out = conv_transpose_out_size(x->shape[3], weight->shape[3], output_padding, &s);
    if (h_out <= 0 || w_out <= 0) {
        char xs[128], ws[128];
        return pf_fail("%s: input %s with weight %s, stride %lld, padding %lld, dilation %lld: output would be "
                       "%lldx%lld",
                       op, pf_shape_str(x, xs, sizeof xs), pf_shape_str(weight, ws, sizeof ws), (long long)s.stride,
                       (long long)s.padding, (long long)s.dilation, (long long)h_out, (long long)w_out);
    }
    pf_tensor *xc = contiguous_untracked(ctx, x), *wc = contiguous_untracked(ctx, weight);
    if (!xc || !wc)
        return NULL;
    pf_tensor *out = pf_empty_on(ctx, x->dtype, x->device, PF_DIMS(x->shape[0], weight->shape[1], h_out, w_out));
    if (!out)
        return NULL;
    pf_conv2d_geom geom = conv_geom(out, xc, wc, &s);
    if (!pf_backend_get(x->device)->conv2d_backward_input(x->dtype, &geom, pf_tensor_data(out), pf_tensor_data(xc),
                                                          pf_tensor_data(wc)))
        return NULL;
    if (!pf_record(ctx, out, op, conv_transpose2d_backward, 2, (pf_tensor *[]){x, weight}))
        return NULL;
    if (out->node) {
        save_settings(out->node, &s);
        out->node->saved[0] = xc;
        out->node->saved[1] = wc;
    }
    if (!bias)
        return out;
    return pf_add(ctx, out, pf_reshape(ctx, bias, PF_DIMS(1, bias->shape[0], 1, 1)));
}
