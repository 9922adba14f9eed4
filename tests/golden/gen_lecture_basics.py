#!/usr/bin/python3
"""Writes PyTorch's values for the lecture experiments losses and autograd
(examples/lecture/losses.c, examples/lecture/autograd.c), checked by
tests/test_lecture_basics.c.

Run it with Debian's Python, which has python3-torch:

    /usr/bin/python3 tests/golden/gen_lecture_basics.py

Files:

- tests/golden/lecture_losses.safetensors: nn.MSELoss and
  nn.CrossEntropyLoss on the small tensors of losses.c. The predictions are
  the 5x2 output that the slide "MLP" prints for nn.Sequential(...)(x):
    mse.input [5,2], mse.target [5,2], mse.out (0-d)
    ce.logits [5,2], ce.target [5] int64, ce.out (0-d), ce.per_sample [5]
  The same numbers are written into losses.c as constants (printed below).

- examples/lecture/data/autograd_net.safetensors: the two-layer tanh
  network of the slide "Différentiation automatique", read by autograd.c at
  run time. Two cases, each with w1 [20,10], b1 [20], w2 [5,20], b2 [5],
  x [10], target [5], then y [5], loss (0-d) and grad_w1 .. grad_b2:
    slide.*     exactly the slide's code after torch.manual_seed(0): every
                tensor from torch.rand, i.e. uniform in [0, 1). The network
                saturates: y = tanh(~10) is 1.0 in float32 and every
                gradient is exactly 0.
    centered.*  the same code with the weights and biases shifted to
                [-0.5, 0.5) (torch.rand(...) - 0.5), after
                torch.manual_seed(0): gradients of order 0.01 to 0.3.

Running the script twice gives identical files.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
from torch import nn  # noqa: E402

from stwriter import save  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
NET_PATH = os.path.join(ROOT, "examples", "lecture", "data", "autograd_net.safetensors")

# The output of the slide's nn.Sequential on its 5x3 input, as printed there.
SLIDE_OUTPUT = [[-0.2195, -0.4222], [-0.2234, -0.4257], [-0.2217, -0.4241],
                [-0.2195, -0.4222], [-0.2465, -0.4459]]
MSE_TARGET = [[0.0, -0.5], [-0.5, 0.0], [0.0, 0.0], [-0.25, -0.25], [-0.5, -0.5]]
CE_TARGET = [0, 1, 0, 1, 1]


def losses():
    prediction = torch.tensor(SLIDE_OUTPUT, dtype=torch.float32)
    mse_target = torch.tensor(MSE_TARGET, dtype=torch.float32)
    ce_target = torch.tensor(CE_TARGET, dtype=torch.int64)
    mse = nn.MSELoss()(prediction, mse_target)
    ce = nn.CrossEntropyLoss()(prediction, ce_target)
    per_sample = nn.CrossEntropyLoss(reduction="none")(prediction, ce_target)
    save(os.path.join(HERE, "lecture_losses.safetensors"), [
        ("mse.input", prediction), ("mse.target", mse_target), ("mse.out", mse),
        ("ce.logits", prediction), ("ce.target", ce_target), ("ce.out", ce),
        ("ce.per_sample", per_sample),
    ])
    print(f"nn.MSELoss()          = {mse.item():.9g}")
    print(f"nn.CrossEntropyLoss() = {ce.item():.9g}")
    print("per sample            =", ", ".join(f"{v:.9g}" for v in per_sample.tolist()))


def network(case, shift):
    """The slide's code; shift moves the weights and biases to [-shift, 1-shift)."""
    torch.manual_seed(0)
    w1 = (torch.rand(20, 10) - shift).requires_grad_()
    b1 = (torch.rand(20) - shift).requires_grad_()
    w2 = (torch.rand(5, 20) - shift).requires_grad_()
    b2 = (torch.rand(5) - shift).requires_grad_()
    x = torch.rand(10)
    h = torch.tanh(w1 @ x + b1)
    y = torch.tanh(w2 @ h + b2)
    target = torch.rand(5)
    loss = (y - target).pow(2).mean()
    grads = torch.autograd.grad(loss, (w1, b1, w2, b2))
    names = ("w1", "b1", "w2", "b2")
    print(f"{case}: loss {loss.item():.6g}, max |grad| " +
          " ".join(f"{n} {g.abs().max().item():.3g}" for n, g in zip(names, grads)))
    stored = [(f"{case}.w1", w1), (f"{case}.b1", b1), (f"{case}.w2", w2), (f"{case}.b2", b2),
              (f"{case}.x", x), (f"{case}.target", target), (f"{case}.y", y), (f"{case}.loss", loss)]
    stored += [(f"{case}.grad_{n}", g) for n, g in zip(names, grads)]
    return stored


def main():
    losses()
    os.makedirs(os.path.dirname(NET_PATH), exist_ok=True)
    save(NET_PATH, network("slide", 0.0) + network("centered", 0.5))
    print(os.path.relpath(NET_PATH, ROOT))


if __name__ == "__main__":
    main()
