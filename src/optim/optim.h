/*
 * optim.h — the optimizer object shared by the optimizer files: its
 * parameters, hyperparameters and per-parameter state, and the helpers
 * that create it and check gradients before a step.
 *
 * optim.c creates optimizers and holds what every kind shares (step
 * dispatch, zero_grad, lr and momentum); sgd.c and adam.c hold each kind's
 * constructor and step; schedule.c the learning-rate schedules.
 */
#ifndef PF_OPTIM_H
#define PF_OPTIM_H

#include "backend/backend.h"
#include "tensor/tensor_internal.h"

typedef enum pf_optim_kind {
    PF_OPTIM_SGD,
    PF_OPTIM_ADAM,
    PF_OPTIM_ADAMW,
} pf_optim_kind;

/* The state of one parameter, allocated (zeroed, in the optimizer's
 * context) on the first step where the parameter has a gradient. */
typedef struct pf_optim_slot {
    pf_tensor *momentum_buffer;  /* SGD with momentum */
    pf_tensor *exp_avg;          /* Adam: first moment */
    pf_tensor *exp_avg_sq;       /* Adam: second moment */
    int64_t steps;               /* steps taken by this parameter (SGD: those
                                    with momentum) */
} pf_optim_slot;

struct pf_optim {
    pf_optim_kind kind;
    pf_ctx *ctx;          /* owns this struct and the state */
    int n;
    pf_tensor **params;   /* n parameters (a copy of the caller's array) */
    pf_optim_slot *slots; /* n slots */
    pf_sgd_opts sgd;      /* SGD's hyperparameters (lr included) */
    pf_adam_opts adam;    /* Adam's and AdamW's, defaults filled in */
};

/* A new optimizer of this kind over params, with zeroed slots; checks ctx
 * and every parameter (not NULL, float, contiguous, a leaf). NULL with an
 * error naming fn otherwise. */
pf_optim *pf_optim_new(const char *fn, pf_ctx *ctx, pf_optim_kind kind, int n, pf_tensor *const *params);

/* Checks the gradient of parameter i before a step: NULL means "skip this
 * parameter" (no error recorded); otherwise it must have the parameter's
 * shape, dtype and device and be contiguous. Returns false with an error
 * naming fn when it does not. */
bool pf_optim_check_grad(const char *fn, const pf_optim *opt, int i);

/* *state, allocated as zeros shaped like parameter i if still NULL. */
bool pf_optim_ensure_state(const pf_optim *opt, int i, pf_tensor **state);

/* One step of each kind (sgd.c, adam.c); gradients are already checked. */
bool pf_sgd_step_all(pf_optim *opt);
bool pf_adam_step_all(pf_optim *opt);

#endif
