/*
 * sgd.c — stochastic gradient descent, as torch.optim.SGD: for each
 * parameter p with a gradient,
 *     g = grad + weight_decay * p
 *     if momentum != 0:
 *         buf = g on the parameter's first momentum step,
 *               else momentum * buf + (1 - dampening) * g
 *         g = nesterov ? g + momentum * buf : buf
 *     p -= lr * g
 * The momentum buffer lives in the optimizer's context.
 */
#include <math.h>

#include "optim/optim.h"

pf_optim *pf_optim_sgd(pf_ctx *ctx, int n, pf_tensor *const *params, pf_sgd_opts opts)
{
    const char *fn = "pf_optim_sgd";
    if (!(opts.lr >= 0) || isinf(opts.lr))
        return pf_fail("%s: invalid learning rate %g (must be finite and >= 0)", fn, opts.lr);
    if (!(opts.momentum >= 0) || isinf(opts.momentum))
        return pf_fail("%s: invalid momentum %g (must be finite and >= 0)", fn, opts.momentum);
    if (!isfinite(opts.dampening))
        return pf_fail("%s: invalid dampening %g", fn, opts.dampening);
    if (!(opts.weight_decay >= 0) || isinf(opts.weight_decay))
        return pf_fail("%s: invalid weight decay %g (must be finite and >= 0)", fn, opts.weight_decay);
    if (opts.nesterov && (opts.momentum <= 0 || opts.dampening != 0))
        return pf_fail("%s: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum %g, "
                       "dampening %g)",
                       fn, opts.momentum, opts.dampening);
    pf_optim *opt = pf_optim_new(fn, ctx, PF_OPTIM_SGD, n, params);
    if (opt)
        opt->sgd = opts;
    return opt;
}

bool pf_sgd_step_all(pf_optim *opt)
{
    bool use_momentum = opt->sgd.momentum != 0;
    /* Check kernels and allocate buffers first: a failure changes nothing. */
    for (int i = 0; i < opt->n; i++) {
        pf_tensor *p = opt->params[i];
        if (!p->grad)
            continue;
        const pf_backend *be = pf_backend_get(p->device);
        if (!be)
            return false;
        if (!be->sgd_step) {
            pf_fail("pf_optim_step: the %s backend has no SGD kernel", be->name);
            return false;
        }
        if (use_momentum && !pf_optim_ensure_state(opt, i, &opt->slots[i].momentum_buffer))
            return false;
    }
    for (int i = 0; i < opt->n; i++) {
        pf_tensor *p = opt->params[i];
        if (!p->grad)
            continue;
        pf_optim_slot *slot = &opt->slots[i];
        pf_sgd_step_args args = {
            .lr = opt->sgd.lr,
            .momentum = opt->sgd.momentum,
            .dampening = opt->sgd.dampening,
            .weight_decay = opt->sgd.weight_decay,
            .nesterov = opt->sgd.nesterov,
            .first_step = use_momentum && slot->steps == 0,
        };
        void *buffer = use_momentum ? pf_tensor_data(slot->momentum_buffer) : NULL;
        if (!pf_backend_get(p->device)->sgd_step(p->dtype, pf_numel(p), pf_tensor_data(p), pf_tensor_data(p->grad),
                                                 buffer, &args))
            return false;
        if (use_momentum)
            slot->steps++;
    }
    return true;
}
