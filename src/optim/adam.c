/*
 * adam.c — Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW: for
 * each parameter p with a gradient g, at its own step count t (1, 2, ...),
 *     Adam:  g = g + weight_decay * p        AdamW: p = p * (1 - lr * weight_decay)
 *     m = beta1 * m + (1 - beta1) * g
 *     v = beta2 * v + (1 - beta2) * g * g
 *     p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * The moments m and v live in the optimizer's context.
 */
#include <math.h>

#include "optim/optim.h"

static pf_optim *adam_new(const char *fn, pf_ctx *ctx, pf_optim_kind kind, int n, pf_tensor *const *params,
                          pf_adam_opts opts)
{
    if (opts.beta1 == 0)
        opts.beta1 = 0.9;
    if (opts.beta2 == 0)
        opts.beta2 = 0.999;
    if (opts.eps == 0)
        opts.eps = 1e-8;
    if (!(opts.lr >= 0) || isinf(opts.lr))
        return pf_fail("%s: invalid learning rate %g (must be finite and >= 0)", fn, opts.lr);
    if (!(opts.beta1 >= 0 && opts.beta1 < 1))
        return pf_fail("%s: invalid beta1 %g (must be in [0, 1))", fn, opts.beta1);
    if (!(opts.beta2 >= 0 && opts.beta2 < 1))
        return pf_fail("%s: invalid beta2 %g (must be in [0, 1))", fn, opts.beta2);
    if (!(opts.eps >= 0) || isinf(opts.eps))
        return pf_fail("%s: invalid eps %g (must be finite and >= 0)", fn, opts.eps);
    if (!(opts.weight_decay >= 0) || isinf(opts.weight_decay))
        return pf_fail("%s: invalid weight decay %g (must be finite and >= 0)", fn, opts.weight_decay);
    pf_optim *opt = pf_optim_new(fn, ctx, kind, n, params);
    if (opt)
        opt->adam = opts;
    return opt;
}

pf_optim *pf_optim_adam(pf_ctx *ctx, int n, pf_tensor *const *params, pf_adam_opts opts)
{
    return adam_new("pf_optim_adam", ctx, PF_OPTIM_ADAM, n, params, opts);
}

pf_optim *pf_optim_adamw(pf_ctx *ctx, int n, pf_tensor *const *params, pf_adam_opts opts)
{
    return adam_new("pf_optim_adamw", ctx, PF_OPTIM_ADAMW, n, params, opts);
}

bool pf_adam_step_all(pf_optim *opt)
{
    /* Check kernels and allocate moments first: a failure changes nothing. */
    for (int i = 0; i < opt->n; i++) {
        pf_tensor *p = opt->params[i];
        if (!p->grad)
            continue;
        const pf_backend *be = pf_backend_get(p->device);
        if (!be)
            return false;
        if (!be->adam_step) {
            pf_fail("pf_optim_step: the %s backend has no Adam kernel", be->name);
            return false;
        }
        if (!pf_optim_ensure_state(opt, i, &opt->slots[i].exp_avg) ||
            !pf_optim_ensure_state(opt, i, &opt->slots[i].exp_avg_sq))
            return false;
    }
    for (int i = 0; i < opt->n; i++) {
        pf_tensor *p = opt->params[i];
        if (!p->grad)
            continue;
        pf_optim_slot *slot = &opt->slots[i];
        pf_adam_step_args args = {
            .lr = opt->adam.lr,
            .beta1 = opt->adam.beta1,
            .beta2 = opt->adam.beta2,
            .eps = opt->adam.eps,
            .weight_decay = opt->adam.weight_decay,
            .decoupled = opt->kind == PF_OPTIM_ADAMW,
            .step = slot->steps + 1,
        };
        if (!pf_backend_get(p->device)->adam_step(p->dtype, pf_numel(p), pf_tensor_data(p), pf_tensor_data(p->grad),
                                                  pf_tensor_data(slot->exp_avg), pf_tensor_data(slot->exp_avg_sq),
                                                  &args))
            return false;
        slot->steps++;
    }
    return true;
}
