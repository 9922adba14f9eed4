/*
 * layer_conv.c — the Conv2d and ConvTranspose2d layers.
 * Conv2d weight [out, in, k, k]; ConvTranspose2d weight [in, out, k, k]
 * (PyTorch's layouts); bias [out]. Both initialised uniformly in
 * +-1/sqrt(fan_in) where fan_in = weight.size(1) * k * k, as PyTorch.
 * iarg: [0] in, [1] out, [2] kernel, [3] stride, [4] padding, [5] dilation,
 * [6] output_padding, [7] has bias.
 */
#include <stdio.h>

#include "nn/module.h"

static pf_tensor *conv2d_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_conv2d(ctx, x, pf_module_local(m, "weight"), pf_module_local(m, "bias"), (int)m->iarg[3],
                     (int)m->iarg[4], (int)m->iarg[5]);
}

static pf_tensor *conv_transpose2d_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_conv_transpose2d(ctx, x, pf_module_local(m, "weight"), pf_module_local(m, "bias"), (int)m->iarg[3],
                               (int)m->iarg[4], (int)m->iarg[6], (int)m->iarg[5]);
}

/* "Conv2d(1, 32, kernel_size=(5, 5), stride=(1, 1))", with padding,
 * dilation, output_padding and bias shown only when not the default. */
static void describe(const pf_module *m, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%s(%lld, %lld, kernel_size=(%lld, %lld), stride=(%lld, %lld)", m->ops->kind,
                       (long long)m->iarg[0], (long long)m->iarg[1], (long long)m->iarg[2], (long long)m->iarg[2],
                       (long long)m->iarg[3], (long long)m->iarg[3]);
#define MORE(...) len += snprintf(buf + (len < (int)n ? len : (int)n), len < (int)n ? n - (size_t)len : 0, __VA_ARGS__)
    if (m->iarg[4])
        MORE(", padding=(%lld, %lld)", (long long)m->iarg[4], (long long)m->iarg[4]);
    if (m->iarg[5] != 1)
        MORE(", dilation=(%lld, %lld)", (long long)m->iarg[5], (long long)m->iarg[5]);
    if (m->iarg[6])
        MORE(", output_padding=(%lld, %lld)", (long long)m->iarg[6], (long long)m->iarg[6]);
    if (!m->iarg[7])
        MORE(", bias=False");
    MORE(")");
#undef MORE
}

static const pf_module_ops conv2d_ops = {"Conv2d", conv2d_forward, describe};
static const pf_module_ops conv_transpose2d_ops = {"ConvTranspose2d", conv_transpose2d_forward, describe};

static pf_module *conv_layer(pf_ctx *params, const pf_module_ops *ops, int64_t in, int64_t out, int kernel,
                             const pf_conv_opts *opts, bool transposed)
{
    const char *name = transposed ? "pf_nn_conv_transpose2d" : "pf_nn_conv2d";
    pf_conv_opts o = opts ? *opts : (pf_conv_opts){0};
    int stride = o.stride ? o.stride : 1, dilation = o.dilation ? o.dilation : 1;
    if (in <= 0 || out <= 0 || kernel <= 0)
        return pf_fail("%s: channels and kernel size must be positive (got %lld, %lld, %d)", name, (long long)in,
                       (long long)out, kernel);
    if (stride < 0 || dilation < 0 || o.padding < 0 || o.output_padding < 0)
        return pf_fail("%s: stride, padding, dilation and output_padding cannot be negative", name);
    if (o.output_padding && !transposed)
        return pf_fail("%s: output_padding is only for transposed convolutions", name);
    if (transposed && o.output_padding >= stride && o.output_padding >= dilation)
        return pf_fail("%s: output_padding (%d) must be smaller than stride (%d) or dilation (%d)", name,
                       o.output_padding, stride, dilation);
    pf_module *m = pf_module_new(params, ops);
    if (!m)
        return NULL;
    int64_t v[8] = {in, out, kernel, stride, o.padding, dilation, o.output_padding, !o.no_bias};
    for (int i = 0; i < 8; i++)
        m->iarg[i] = v[i];
    int64_t rows = transposed ? in : out, cols = transposed ? out : in;
    int64_t fan_in = cols * kernel * kernel;
    if (!pf_module_add(m, "weight", pf_init_uniform_fan_in(params, fan_in, PF_DIMS(rows, cols, kernel, kernel)), true))
        return NULL;
    if (!o.no_bias && !pf_module_add(m, "bias", pf_init_uniform_fan_in(params, fan_in, PF_DIMS(out)), true))
        return NULL;
    return m;
}

pf_module *pf_nn_conv2d(pf_ctx *params, int64_t in_channels, int64_t out_channels, int kernel,
                        const pf_conv_opts *opts)
{
    return conv_layer(params, &conv2d_ops, in_channels, out_channels, kernel, opts, false);
}

pf_module *pf_nn_conv_transpose2d(pf_ctx *params, int64_t in_channels, int64_t out_channels, int kernel,
                                  const pf_conv_opts *opts)
{
    return conv_layer(params, &conv_transpose2d_ops, in_channels, out_channels, kernel, opts, true);
}
