/*
 * schedule.c — learning-rate schedules as torch.optim.lr_scheduler, in
 * closed form at step t (the value PyTorch's scheduler has set after t
 * calls of scheduler.step()):
 *   constant   lr
 *   step       lr * gamma^floor(t / step_size)                    (StepLR)
 *   cosine     eta_min + (lr - eta_min) (1 + cos(pi t / t_max)) / 2
 *                                                       (CosineAnnealingLR)
 *   one-cycle  OneCycleLR with anneal_strategy='cos', three_phase=False:
 *              lr rises from lr/div_factor to lr over steps 0 ..
 *              pct_start*t_max - 1, then falls to lr/div_factor/
 *              final_div_factor at step t_max - 1 (both by cosine
 *              annealing); momentum goes the other way, from
 *              max_momentum down to base_momentum and back up.
 */
#include <math.h>

#include "optim/optim.h"

static const double pi = 3.141592653589793;

/* Cosine annealing from `from` to `to` as pct goes from 0 to 1 (PyTorch's
 * OneCycleLR._annealing_cos). */
static double anneal_cos(double from, double to, double pct) { return to + (from - to) / 2.0 * (cos(pi * pct) + 1); }

/* The one-cycle lr and momentum at step t; false with an error. */
static bool one_cycle(const pf_schedule *s, int64_t t, double *lr, double *momentum)
{
    const char *fn = "pf_schedule_lr";
    double pct_start = s->pct_start != 0 ? s->pct_start : 0.3;
    double div_factor = s->div_factor != 0 ? s->div_factor : 25;
    double final_div_factor = s->final_div_factor != 0 ? s->final_div_factor : 1e4;
    double base_momentum = s->base_momentum != 0 ? s->base_momentum : 0.85;
    double max_momentum = s->max_momentum != 0 ? s->max_momentum : 0.95;
    if (s->t_max <= 0) {
        pf_fail("%s: one-cycle needs t_max (the total number of steps) > 0, got %lld", fn, (long long)s->t_max);
        return false;
    }
    if (!(pct_start >= 0 && pct_start <= 1)) {
        pf_fail("%s: one-cycle pct_start %g is not in [0, 1]", fn, pct_start);
        return false;
    }
    if (!(div_factor > 0) || !(final_div_factor > 0)) {
        pf_fail("%s: one-cycle div_factor %g and final_div_factor %g must be > 0", fn, div_factor, final_div_factor);
        return false;
    }
    /* PyTorch allows t == t_max: the scheduler's step() after the last step. */
    if (t > s->t_max) {
        pf_fail("%s: one-cycle step %lld is past the total number of steps %lld", fn, (long long)t,
                (long long)s->t_max);
        return false;
    }
    double max_lr = s->lr, initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor;
    double warmup_end = pct_start * (double)s->t_max - 1, last = (double)(s->t_max - 1);
    double start, end, lr_from, lr_to, momentum_from, momentum_to;
    if ((double)t <= warmup_end) {
        start = 0, end = warmup_end;
        lr_from = initial_lr, lr_to = max_lr;
        momentum_from = max_momentum, momentum_to = base_momentum;
    } else {
        start = warmup_end, end = last;
        lr_from = max_lr, lr_to = min_lr;
        momentum_from = base_momentum, momentum_to = max_momentum;
    }
    if (end == start) {
        pf_fail("%s: one-cycle phase of zero length at step %lld (pct_start %g, t_max %lld)", fn, (long long)t,
                pct_start, (long long)s->t_max);
        return false;
    }
    double pct = ((double)t - start) / (end - start);
    *lr = anneal_cos(lr_from, lr_to, pct);
    *momentum = anneal_cos(momentum_from, momentum_to, pct);
    return true;
}

/* The lr of schedule s at step t, or NAN with an error. */
static double schedule_value(const pf_schedule *s, int64_t t)
{
    const char *fn = "pf_schedule_lr";
    if (!s)
        return pf_fail("%s: NULL schedule", fn), NAN;
    if (t < 0)
        return pf_fail("%s: negative step %lld", fn, (long long)t), NAN;
    if (!(s->lr >= 0) || isinf(s->lr))
        return pf_fail("%s: invalid learning rate %g (must be finite and >= 0)", fn, s->lr), NAN;
    switch (s->kind) {
    case PF_SCHEDULE_CONSTANT:
        return s->lr;
    case PF_SCHEDULE_STEP:
        if (s->step_size <= 0)
            return pf_fail("%s: step schedule needs step_size > 0, got %lld", fn, (long long)s->step_size), NAN;
        return s->lr * pow(s->gamma, (double)(t / s->step_size));
    case PF_SCHEDULE_COSINE:
        if (s->t_max <= 0)
            return pf_fail("%s: cosine schedule needs t_max > 0, got %lld", fn, (long long)s->t_max), NAN;
        return s->eta_min + (s->lr - s->eta_min) * (1 + cos(pi * (double)t / (double)s->t_max)) / 2;
    case PF_SCHEDULE_ONE_CYCLE: {
        double lr, momentum;
        return one_cycle(s, t, &lr, &momentum) ? lr : NAN;
    }
    }
    return pf_fail("%s: unknown schedule kind %d", fn, (int)s->kind), NAN;
}

double pf_schedule_lr(const pf_schedule *s, int64_t t)
{
    double lr = schedule_value(s, t);
    if (!isfinite(lr) && pf_ok())
        pf_fail("pf_schedule_lr: the schedule gives lr %g at step %lld", lr, (long long)t);
    return lr;
}

void pf_schedule_apply(const pf_schedule *s, pf_optim *opt, int64_t t)
{
    if (!opt) {
        if (pf_ok())
            pf_fail("pf_schedule_apply: NULL optimizer");
        return;
    }
    double lr = pf_schedule_lr(s, t);
    if (!isfinite(lr))
        return;
    double momentum = NAN;
    if (s->kind == PF_SCHEDULE_ONE_CYCLE && !one_cycle(s, t, &lr, &momentum))
        return;
    pf_optim_set_lr(opt, lr);
    if (s->kind == PF_SCHEDULE_ONE_CYCLE)
        pf_optim_set_momentum(opt, momentum);
}
