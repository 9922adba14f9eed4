/*
 * optim.c — what every optimizer shares: creating one over a list of
 * parameters, checking gradients, allocating state, the step (which checks
 * every gradient first, so that a bad one leaves all parameters untouched),
 * zero_grad, and the lr and momentum accessors.
 */
#include <math.h>
#include <string.h>

#include "autograd/autograd.h"
#include "optim/optim.h"

pf_optim *pf_optim_new(const char *fn, pf_ctx *ctx, pf_optim_kind kind, int n, pf_tensor *const *params)
{
    if (!ctx)
        return pf_fail("%s: NULL context", fn);
    if (n < 0)
        return pf_fail("%s: negative number of parameters (%d)", fn, n);
    if (n > 0 && !params)
        return pf_fail("%s: NULL parameter array for %d parameters", fn, n);
    for (int i = 0; i < n; i++) {
        const pf_tensor *p = params[i];
        if (!p)
            return pf_ok() ? pf_fail("%s: parameter %d is NULL", fn, i) : NULL;
        if (!pf_is_float(p->dtype))
            return pf_fail("%s: parameter %d is %s, expected float32 or float64", fn, i, pf_dtype_name(p->dtype));
        if (!pf_is_contiguous(p))
            return pf_fail("%s: parameter %d is not contiguous", fn, i);
        if (p->node)
            return pf_fail("%s: parameter %d is not a leaf (it was computed by %s)", fn, i, p->node->op);
    }
    pf_optim *opt = pf_ctx_alloc_zeroed(ctx, sizeof *opt);
    pf_tensor **copy = pf_ctx_alloc(ctx, sizeof(pf_tensor *) * (size_t)(n > 0 ? n : 1));
    pf_optim_slot *slots = pf_ctx_alloc_zeroed(ctx, sizeof(pf_optim_slot) * (size_t)(n > 0 ? n : 1));
    if (!opt || !copy || !slots)
        return pf_fail("%s: out of memory", fn);
    if (n > 0)
        memcpy(copy, params, sizeof(pf_tensor *) * (size_t)n);
    opt->kind = kind;
    opt->ctx = ctx;
    opt->n = n;
    opt->params = copy;
    opt->slots = slots;
    return opt;
}

bool pf_optim_check_grad(const char *fn, const pf_optim *opt, int i)
{
    const pf_tensor *p = opt->params[i], *g = p->grad;
    if (!g)
        return true;
    if (!pf_same_shape(p, g)) {
        char ps[128], gs[128];
        pf_fail("%s: parameter %d has shape %s but its grad has shape %s", fn, i, pf_shape_str(p, ps, sizeof ps),
                pf_shape_str(g, gs, sizeof gs));
        return false;
    }
    if (g->dtype != p->dtype || g->device != p->device) {
        pf_fail("%s: parameter %d is %s but its grad is %s (or on another device)", fn, i, pf_dtype_name(p->dtype),
                pf_dtype_name(g->dtype));
        return false;
    }
    if (!pf_is_contiguous(g)) {
        pf_fail("%s: the grad of parameter %d is not contiguous", fn, i);
        return false;
    }
    return true;
}

bool pf_optim_ensure_state(const pf_optim *opt, int i, pf_tensor **state)
{
    if (!*state)
        *state = pf_zeros_like(opt->ctx, opt->params[i]);
    return *state != NULL;
}

bool pf_optim_step(pf_optim *opt)
{
    if (!opt) {
        if (pf_ok())
            pf_fail("pf_optim_step: NULL optimizer");
        return false;
    }
    for (int i = 0; i < opt->n; i++)
        if (!pf_optim_check_grad("pf_optim_step", opt, i))
            return false;
    double start = pf_profile_enabled() ? pf_profile_clock() : 0;
    bool ok = opt->kind == PF_OPTIM_SGD ? pf_sgd_step_all(opt) : pf_adam_step_all(opt);
    pf_profile_add(opt->kind == PF_OPTIM_SGD ? "SGD step" : "Adam step", PF_PROFILE_OTHER,
                   pf_profile_enabled() ? pf_profile_clock() - start : 0);
    return ok;
}

void pf_optim_zero_grad(pf_optim *opt)
{
    if (!opt) {
        if (pf_ok())
            pf_fail("pf_optim_zero_grad: NULL optimizer");
        return;
    }
    for (int i = 0; i < opt->n; i++)
        pf_zero_grad(opt->params[i]);
}

double pf_optim_get_lr(const pf_optim *opt)
{
    if (!opt) {
        if (pf_ok())
            pf_fail("pf_optim_get_lr: NULL optimizer");
        return NAN;
    }
    return opt->kind == PF_OPTIM_SGD ? opt->sgd.lr : opt->adam.lr;
}

void pf_optim_set_lr(pf_optim *opt, double lr)
{
    if (!opt) {
        if (pf_ok())
            pf_fail("pf_optim_set_lr: NULL optimizer");
        return;
    }
    if (!(lr >= 0) || isinf(lr)) {
        pf_fail("pf_optim_set_lr: invalid learning rate %g (must be finite and >= 0)", lr);
        return;
    }
    if (opt->kind == PF_OPTIM_SGD)
        opt->sgd.lr = lr;
    else
        opt->adam.lr = lr;
}

void pf_optim_set_momentum(pf_optim *opt, double momentum)
{
    if (!opt) {
        if (pf_ok())
            pf_fail("pf_optim_set_momentum: NULL optimizer");
        return;
    }
    if (opt->kind == PF_OPTIM_SGD) {
        if (!(momentum >= 0) || isinf(momentum)) {
            pf_fail("pf_optim_set_momentum: invalid momentum %g (must be finite and >= 0)", momentum);
            return;
        }
        opt->sgd.momentum = momentum;
    } else {
        if (!(momentum >= 0 && momentum < 1)) {
            pf_fail("pf_optim_set_momentum: invalid beta1 %g (must be in [0, 1))", momentum);
            return;
        }
        opt->adam.beta1 = momentum;
    }
}
