/*
 * layer_activation.c — the parameter-free elementwise layers: ReLU,
 * LeakyReLU (farg[0] slope), Tanh, Sigmoid, and Dropout (farg[0] p; active
 * in training mode only).
 */
#include <stdio.h>

#include "nn/module.h"

static pf_tensor *relu_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x) { (void)m; return pf_relu(ctx, x); }
static pf_tensor *tanh_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x) { (void)m; return pf_tanh(ctx, x); }
static pf_tensor *sigmoid_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x) { (void)m; return pf_sigmoid(ctx, x); }

static pf_tensor *leaky_relu_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_leaky_relu(ctx, x, m->farg[0]);
}

static pf_tensor *dropout_forward(pf_module *m, pf_ctx *ctx, pf_tensor *x)
{
    return pf_dropout(ctx, x, m->farg[0], m->training);
}

/* "ReLU()", "Tanh()", "Sigmoid()". */
static void plain_describe(const pf_module *m, char *buf, size_t n) { snprintf(buf, n, "%s()", m->ops->kind); }

static void leaky_relu_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "LeakyReLU(negative_slope=%g)", m->farg[0]);
}

static void dropout_describe(const pf_module *m, char *buf, size_t n)
{
    snprintf(buf, n, "Dropout(p=%g, inplace=False)", m->farg[0]);
}

static const pf_module_ops relu_ops = {"ReLU", relu_forward, plain_describe};
static const pf_module_ops tanh_ops = {"Tanh", tanh_forward, plain_describe};
static const pf_module_ops sigmoid_ops = {"Sigmoid", sigmoid_forward, plain_describe};
static const pf_module_ops leaky_relu_ops = {"LeakyReLU", leaky_relu_forward, leaky_relu_describe};
static const pf_module_ops dropout_ops = {"Dropout", dropout_forward, dropout_describe};

pf_module *pf_nn_relu(pf_ctx *params) { return pf_module_new(params, &relu_ops); }
pf_module *pf_nn_tanh(pf_ctx *params) { return pf_module_new(params, &tanh_ops); }
pf_module *pf_nn_sigmoid(pf_ctx *params) { return pf_module_new(params, &sigmoid_ops); }

pf_module *pf_nn_leaky_relu(pf_ctx *params, double slope)
{
    pf_module *m = pf_module_new(params, &leaky_relu_ops);
    if (m)
        m->farg[0] = slope;
    return m;
}

pf_module *pf_nn_dropout(pf_ctx *params, double p)
{
    if (!(p >= 0 && p < 1))
        return pf_fail("pf_nn_dropout: p must be in [0, 1) (got %g)", p);
    pf_module *m = pf_module_new(params, &dropout_ops);
    if (m)
        m->farg[0] = p;
    return m;
}
