#!/usr/bin/python3
"""Writes the golden files of tests/test_linear_norm.c and tests/test_losses.c.

Run it with Debian's Python, which has python3-torch:

    /usr/bin/python3 tests/golden/gen_nn_misc.py

Files, next to this script (one per op; a case C stores its tensors as
"C.<name>"):

- nn_linear.safetensors: F.linear with and without bias, on 1-D, 2-D and
  3-D inputs: x, weight, [bias], out, gout, grad_x, grad_weight, [grad_bias].
- nn_leaky_relu.safetensors: F.leaky_relu with two slopes: x, out, gout,
  grad_x.
- nn_batch_norm.safetensors: F.batch_norm.
  train*: two calls in training mode on x1 then x2 from running statistics
  running_mean0/running_var0 (momentum, eps stored as 0-d tensors); out1,
  out2, the gradients of (out1 * gout).sum() (grad_x, grad_weight,
  grad_bias) and the running statistics after both calls.
  eval*: one call in evaluation mode: out, gout, grad_x, grad_weight,
  grad_bias.
- loss_<name>.safetensors for mse, cross_entropy, nll, bce,
  bce_with_logits: one case per reduction (mean, sum, none) with the inputs,
  out, gout and grad_<input> of (out * gout).sum() for each float input,
  plus edge cases (large logits; probabilities exactly 0 and 1).

Every case seeds torch from its own name, so running the script twice gives
identical files.
"""
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from stwriter import save  # noqa: E402

F32, F64, I64 = torch.float32, torch.float64, torch.int64
FILES = {}  # file name -> {tensor name: tensor}
REDUCTIONS = ("mean", "sum", "none")


def seed(file, case):
    torch.manual_seed(zlib.crc32(f"{file}/{case}".encode()))


def store(file, case, tensors):
    entries = FILES.setdefault(file, {})
    for k, v in tensors.items():
        name = f"{case}.{k}"
        assert name not in entries, name
        entries[name] = v.detach().clone()


def run_case(file, case, forward, inputs):
    """inputs: name -> tensor (float ones get gradients). Stores inputs, out,
    gout and grad_<name>."""
    leaves = {k: (v.clone().requires_grad_(True) if v.is_floating_point() else v) for k, v in inputs.items()}
    out = forward(**leaves)
    gout = torch.randn(out.shape, dtype=out.dtype)
    floats = [k for k, v in leaves.items() if v.is_floating_point()]
    grads = torch.autograd.grad((out * gout).sum(), [leaves[k] for k in floats])
    stored = dict(inputs)
    stored["out"] = out
    stored["gout"] = gout
    stored.update({"grad_" + k: g for k, g in zip(floats, grads)})
    store(file, case, stored)


# ---------------------------------------------------------------------------
# Linear

def linear_cases():
    f = "nn_linear"
    for case, xshape, bias in (("bias", (4, 5), True), ("nobias", (4, 5), False),
                               ("batch3d", (2, 3, 5), True), ("vector", (5,), True)):
        seed(f, case)
        inputs = {"x": torch.randn(xshape), "weight": torch.randn(3, 5)}
        if bias:
            inputs["bias"] = torch.randn(3)
        run_case(f, case, lambda **a: F.linear(a["x"], a["weight"], a.get("bias")), inputs)


def leaky_relu_cases():
    f = "nn_leaky_relu"
    for case, slope in (("slope_0.1", 0.1), ("slope_-0.5", -0.5)):
        seed(f, case)
        x = torch.randn(4, 5)
        x = torch.where(x.abs() < 0.05, x + 0.1, x)  # no input near the kink
        run_case(f, case, lambda x: F.leaky_relu(x, slope), {"x": x})


# ---------------------------------------------------------------------------
# Batch norm

def batch_norm_train(case, shape, momentum, affine=True):
    f = "nn_batch_norm"
    seed(f, case)
    c = shape[1]
    x1, x2 = torch.randn(shape) * 2 + 0.5, torch.randn(shape) * 1.5 - 0.3
    weight, bias = torch.rand(c) + 0.5, torch.randn(c)
    rm0, rv0 = torch.randn(c) * 0.1, torch.rand(c) + 0.5
    eps = 1e-5
    rm, rv = rm0.clone(), rv0.clone()
    xl = x1.clone().requires_grad_(True)
    wl, bl = weight.clone().requires_grad_(True), bias.clone().requires_grad_(True)
    out1 = F.batch_norm(xl, rm, rv, wl if affine else None, bl if affine else None, True, momentum, eps)
    gout = torch.randn(out1.shape)
    grads = torch.autograd.grad((out1 * gout).sum(), [xl, wl, bl] if affine else [xl])
    with torch.no_grad():
        out2 = F.batch_norm(x2, rm, rv, weight if affine else None, bias if affine else None, True, momentum, eps)
    stored = {"x1": x1, "x2": x2, "running_mean0": rm0, "running_var0": rv0,
              "momentum": torch.tensor(momentum, dtype=F64), "eps": torch.tensor(eps, dtype=F64),
              "out1": out1, "out2": out2, "gout": gout, "grad_x": grads[0],
              "running_mean": rm, "running_var": rv}
    if affine:
        stored.update({"weight": weight, "bias": bias, "grad_weight": grads[1], "grad_bias": grads[2]})
    store(f, case, stored)


def batch_norm_eval(case, shape):
    f = "nn_batch_norm"
    seed(f, case)
    c = shape[1]
    inputs = {"x": torch.randn(shape) * 2 + 0.5, "weight": torch.rand(c) + 0.5, "bias": torch.randn(c)}
    rm, rv = torch.randn(c) * 0.5, torch.rand(c) + 0.5
    store(f, case, {"running_mean": rm, "running_var": rv, "eps": torch.tensor(1e-5, dtype=F64)})
    run_case(f, case, lambda x, weight, bias: F.batch_norm(x, rm, rv, weight, bias, False, 0.1, 1e-5), inputs)


def batch_norm_cases():
    batch_norm_train("train1d", (8, 3), 0.1)
    batch_norm_train("train2d", (4, 3, 5, 5), 0.3)
    batch_norm_train("train2d_noaffine", (3, 2, 4, 4), 0.1, affine=False)
    batch_norm_eval("eval1d", (6, 4))
    batch_norm_eval("eval2d", (2, 3, 4, 4))


# ---------------------------------------------------------------------------
# Losses

def loss_cases():
    for r in REDUCTIONS:
        f = "loss_mse"
        seed(f, r)
        run_case(f, r, lambda input, target: F.mse_loss(input, target, reduction=r),
                 {"input": torch.randn(3, 4), "target": torch.randn(3, 4)})

        f = "loss_cross_entropy"
        seed(f, r)
        run_case(f, r, lambda logits, target: F.cross_entropy(logits, target, reduction=r),
                 {"logits": torch.randn(6, 5) * 2, "target": torch.randint(0, 5, (6,))})

        f = "loss_nll"
        seed(f, r)
        run_case(f, r, lambda logp, target: F.nll_loss(logp, target, reduction=r),
                 {"logp": torch.log_softmax(torch.randn(6, 5), 1), "target": torch.randint(0, 5, (6,))})

        f = "loss_bce"
        seed(f, r)
        run_case(f, r, lambda prob, target: F.binary_cross_entropy(prob, target, reduction=r),
                 {"prob": torch.rand(3, 4) * 0.9 + 0.05, "target": torch.rand(3, 4)})

        f = "loss_bce_with_logits"
        seed(f, r)
        run_case(f, r, lambda logits, target: F.binary_cross_entropy_with_logits(logits, target, reduction=r),
                 {"logits": torch.randn(3, 4) * 3, "target": torch.rand(3, 4)})

    f = "loss_cross_entropy"
    seed(f, "large")
    run_case(f, "large", lambda logits, target: F.cross_entropy(logits, target, reduction="none"),
             {"logits": torch.randn(4, 5) * 1e4, "target": torch.tensor([0, 1, 2, 4])})
    seed(f, "f64")
    run_case(f, "f64", lambda logits, target: F.cross_entropy(logits, target),
             {"logits": torch.randn(5, 3, dtype=F64), "target": torch.randint(0, 3, (5,))})

    # Probabilities exactly 0 and 1: the logs are clamped at -100; only the
    # gradient with respect to prob is compared (PyTorch's gradient with
    # respect to target is infinite there).
    f = "loss_bce"
    seed(f, "edge")
    leaves = {"prob": torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 0.25]).requires_grad_(True),
              "target": torch.tensor([0.0, 0.0, 1.0, 1.0, 0.3, 1.0])}
    out = F.binary_cross_entropy(leaves["prob"], leaves["target"], reduction="none")
    gout = torch.rand(out.shape) + 0.5
    (grad_prob,) = torch.autograd.grad((out * gout).sum(), [leaves["prob"]])
    store(f, "edge", {**leaves, "out": out, "gout": gout, "grad_prob": grad_prob})

    f = "loss_bce_with_logits"
    seed(f, "edge")
    run_case(f, "edge", lambda logits, target: F.binary_cross_entropy_with_logits(logits, target, reduction="none"),
             {"logits": torch.tensor([0.0, 100.0, -100.0, 30.0, -30.0, 1e4]),
              "target": torch.tensor([0.2, 0.0, 1.0, 1.0, 0.0, 0.5])})


def main():
    linear_cases()
    leaky_relu_cases()
    batch_norm_cases()
    loss_cases()
    for name, tensors in FILES.items():
        save(os.path.join(HERE, name + ".safetensors"), tensors)


if __name__ == "__main__":
    main()
