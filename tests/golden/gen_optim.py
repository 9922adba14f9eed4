#!/usr/bin/python3
"""Writes the golden files of tests/test_optim.c: torch.optim's updates and
learning-rate schedules, to be reproduced by profond's section 13.

Run it with Debian's Python, which has python3-torch:

    /usr/bin/python3 tests/golden/gen_optim.py

Optimizer cases, one file each, optim_<case>.safetensors:
    "p<i>.init"          the initial value of parameter i (two parameters,
                         [3,4] and [5]);
    "step<t>.grad<i>"    the gradient given to parameter i before step t
                         (absent: the loss of that step does not use the
                         parameter, so its .grad is None if it never had one,
                         else the zeros left by zero_grad);
    "step<t>.p<i>"       parameter i after step t.
The gradients are those of a fixed quadratic, 0.5 * sum(a * (p - c)^2), at
the current parameters. The C test feeds the stored gradients back through
autograd (the gradient of sum(p * grad) is grad) after pf_optim_zero_grad,
so that its parameters follow PyTorch's without drift.

Some cases also apply a OneCycleLR schedule before each step.

optim_schedules.safetensors: the learning rates (and momenta) PyTorch's
schedulers set for steps 0..19, read from the optimizer's param group before
each optimizer.step(), as float64 vectors [20]:
    "step.lr"             StepLR(step_size=3, gamma=0.5), base lr 0.1
    "cosine.lr"           CosineAnnealingLR(T_max=10, eta_min=0.01), base lr 0.1
    "onecycle_sgd.lr", "onecycle_sgd.momentum"
                          OneCycleLR(max_lr=0.1, total_steps=20) on SGD
    "onecycle_adam.lr", "onecycle_adam.beta1"
                          OneCycleLR(max_lr=0.01, total_steps=20, pct_start=0.25,
                          div_factor=10, final_div_factor=100,
                          base_momentum=0.8, max_momentum=0.9) on Adam
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
from stwriter import save  # noqa: E402

STEPS = 5
SHAPES = [(3, 4), (5,)]


def quadratic_grad(p, a, c):
    """Gradient of 0.5 * sum(a * (p - c)^2)."""
    return a * (p - c)


def run_case(name, make_optim, dtype=torch.float32, missing=None, one_cycle=None):
    """missing: {step: [parameter indices without a gradient at that step]}.
    one_cycle: OneCycleLR keyword arguments, applied before every step."""
    torch.manual_seed(sum(map(ord, name)))
    params = [torch.randn(s, dtype=dtype).requires_grad_() for s in SHAPES]
    curv = [torch.rand(s, dtype=dtype) * 2 + 0.5 for s in SHAPES]
    centre = [torch.randn(s, dtype=dtype) for s in SHAPES]
    out = {f"p{i}.init": p.detach().clone() for i, p in enumerate(params)}
    opt = make_optim(params)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, **one_cycle) if one_cycle else None
    for t in range(STEPS):
        opt.zero_grad(set_to_none=False)
        skip = (missing or {}).get(t, [])
        for i, p in enumerate(params):
            if i in skip:
                continue
            g = quadratic_grad(p.detach(), curv[i], centre[i])
            out[f"step{t}.grad{i}"] = g.clone()
            (p * g).sum().backward()
        opt.step()
        if sched:
            sched.step()
        for i, p in enumerate(params):
            out[f"step{t}.p{i}"] = p.detach().clone()
    save(os.path.join(HERE, f"optim_{name}.safetensors"), out)


def optimizer_cases():
    sgd, adam, adamw = torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW
    run_case("sgd_plain", lambda p: sgd(p, lr=0.1))
    run_case("sgd_momentum", lambda p: sgd(p, lr=0.1, momentum=0.9))
    run_case("sgd_dampening", lambda p: sgd(p, lr=0.1, momentum=0.9, dampening=0.1))
    run_case("sgd_nesterov", lambda p: sgd(p, lr=0.1, momentum=0.9, nesterov=True))
    # Parameter 1 has no gradient at steps 0 and 1: untouched, and its
    # momentum buffer starts at step 2.
    run_case("sgd_weight_decay", lambda p: sgd(p, lr=0.1, momentum=0.5, weight_decay=0.1),
             missing={0: [1], 1: [1]})
    run_case("adam", lambda p: adam(p, lr=0.01))
    # Parameter 1 has no gradient at step 0 (its moments and step count start
    # one step late); parameter 0 gets a zero gradient at step 1 (it moves on
    # its moments and the weight decay).
    run_case("adam_weight_decay", lambda p: adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
             missing={0: [1], 1: [0]})
    run_case("adamw", lambda p: adamw(p, lr=0.01, weight_decay=0.01))
    run_case("adamw_f64", lambda p: adamw(p, lr=0.05, weight_decay=0.1), dtype=torch.float64)
    run_case("sgd_one_cycle", lambda p: sgd(p, lr=0.1, momentum=0.9),
             one_cycle=dict(max_lr=0.2, total_steps=STEPS))
    run_case("adam_one_cycle", lambda p: adam(p, lr=0.01),
             one_cycle=dict(max_lr=0.05, total_steps=STEPS, pct_start=0.4))


def lr_sequence(opt, sched, key=None, steps=20):
    lrs, moms = [], []
    for _ in range(steps):
        group = opt.param_groups[0]
        lrs.append(group["lr"])
        if key == "momentum":
            moms.append(group["momentum"])
        elif key == "beta1":
            moms.append(group["betas"][0])
        opt.step()
        sched.step()
    return torch.tensor(lrs, dtype=torch.float64), torch.tensor(moms, dtype=torch.float64)


def schedule_cases():
    S = torch.optim.lr_scheduler
    p = [torch.zeros(1, requires_grad=True)]
    out = {}
    opt = torch.optim.SGD(p, lr=0.1)
    out["step.lr"], _ = lr_sequence(opt, S.StepLR(opt, step_size=3, gamma=0.5))
    opt = torch.optim.SGD(p, lr=0.1)
    out["cosine.lr"], _ = lr_sequence(opt, S.CosineAnnealingLR(opt, T_max=10, eta_min=0.01))
    opt = torch.optim.SGD(p, lr=0.1, momentum=0.9)
    out["onecycle_sgd.lr"], out["onecycle_sgd.momentum"] = lr_sequence(
        opt, S.OneCycleLR(opt, max_lr=0.1, total_steps=20), "momentum")
    opt = torch.optim.Adam(p, lr=0.1)
    out["onecycle_adam.lr"], out["onecycle_adam.beta1"] = lr_sequence(
        opt, S.OneCycleLR(opt, max_lr=0.01, total_steps=20, pct_start=0.25, div_factor=10.0,
                          final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9), "beta1")
    save(os.path.join(HERE, "optim_schedules.safetensors"), out)


def main():
    optimizer_cases()
    schedule_cases()


if __name__ == "__main__":
    main()
