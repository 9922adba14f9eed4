#!/usr/bin/python3
"""Writes the golden files of tests/test_conv.c and tests/test_pool.c:
convolutions (conv_*.safetensors) and pooling (pool_*.safetensors), computed
by torch.nn.functional.

Run it with Debian's Python, which has python3-torch:

    /usr/bin/python3 tests/golden/gen_conv.py

Every case seeds torch from its own name, so the files do not depend on the
order of the cases and running the script twice gives identical files.

A case stores its inputs ("x", "w", "b", ...), the forward output "out", a
random upstream gradient "gout" of out's shape, and "grad_<input>", the
gradient of (out * gout).sum() for each float input. Inputs are float32;
the references are computed in float64 from them and stored as float32.
max pooling also stores PyTorch's int64 argmax positions as "indices".

The two large cases (the lecture CNN and AlexNet's first layer) would not
fit the size budget as float32 inputs: their inputs and gout are stored
exactly as uint8 codes, "<name>_u8", meaning (code - 128) / 64, and their
largest weight gradient is stored as two views of it: the first 8 output
channels in full, and the sum over output channels.
"""
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from stwriter import save  # noqa: E402

F32, F64 = torch.float32, torch.float64


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))


def randn(*shape):
    return torch.randn(shape, dtype=F32)


def coded(*shape):
    """uint8 codes and the float64 values (code - 128) / 64 they stand for."""
    codes = torch.randint(0, 256, shape, dtype=torch.uint8)
    return codes, (codes.to(F64) - 128) / 64


def gradients(fn, inputs, gout_of=None):
    """fn(*inputs) in float64, with gout and the gradients of (out*gout).sum()."""
    leaves = [t.detach().to(F64).requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    gout = gout_of(out.shape) if gout_of else torch.randn(out.shape, dtype=F32).to(F64)
    grads = torch.autograd.grad((out * gout).sum(), leaves)
    return out, gout, grads


def write(name, tensors):
    path = os.path.join(HERE, name + ".safetensors")
    save(path, {k: (v.to(F32) if v.dtype == F64 else v) for k, v in tensors.items()})
    print(f"{path}: {os.path.getsize(path)} bytes")


def check_pool_margin(y, kernel, stride, padding, what):
    """Fails when a max-pooling window's two largest values are so close that
    float32 rounding could change which one wins."""
    p = F.pad(y, (padding,) * 4, value=-float("inf"))
    win = p.unfold(2, kernel, stride).unfold(3, kernel, stride).flatten(-2)
    top = win.topk(2, dim=-1).values
    gap = (top[..., 0] - top[..., 1]).min().item()
    assert gap > 1e-5 * y.abs().max().item(), f"{what}: near tie in a pooling window ({gap})"


# ---------------------------------------------------------------------------
# Convolutions


def conv_case(name, x_shape, w_shape, bias, stride, padding, dilation):
    seed(name)
    x, w = randn(*x_shape), randn(*w_shape)
    inputs = [x, w] + ([randn(w_shape[0])] if bias else [])

    def fn(x, w, b=None):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)

    out, gout, grads = gradients(fn, inputs)
    tensors = {"x": x, "w": w, "out": out, "gout": gout, "grad_x": grads[0], "grad_w": grads[1]}
    if bias:
        tensors.update({"b": inputs[2], "grad_b": grads[2]})
    write(name, tensors)


def conv_transpose_case(name, x_shape, w_shape, bias, stride, padding, output_padding, dilation):
    seed(name)
    x, w = randn(*x_shape), randn(*w_shape)
    inputs = [x, w] + ([randn(w_shape[1])] if bias else [])

    def fn(x, w, b=None):
        return F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                  dilation=dilation)

    out, gout, grads = gradients(fn, inputs)
    tensors = {"x": x, "w": w, "out": out, "gout": gout, "grad_x": grads[0], "grad_w": grads[1]}
    if bias:
        tensors.update({"b": inputs[2], "grad_b": grads[2]})
    write(name, tensors)


def conv_lecture():
    """The lecture's MNIST CNN without its activations, on a batch of 2:
    conv 1->32 k5, maxpool 3, conv 32->64 k5, maxpool 2."""
    name = "conv_lecture"
    # conv 1 is exact in float32 (sums of multiples of 2^-12 below 2^7), so
    # ties in pool 1 are real and both sides take the first maximum. conv 2
    # is not: the first draw (seeded "conv_lecture", "conv_lecture#1", ...)
    # with no near tie in a pool-2 window is kept.
    for attempt in range(100):
        seed(name + (f"#{attempt}" if attempt else ""))
        codes, values = {}, {}
        for key, shape in [("x", (2, 1, 28, 28)), ("w1", (32, 1, 5, 5)), ("b1", (32,)), ("w2", (64, 32, 5, 5)),
                           ("b2", (64,)), ("gout", (2, 64, 2, 2))]:
            codes[key], values[key] = coded(*shape)
        h1 = F.conv2d(values["x"], values["w1"], values["b1"])
        h2 = F.conv2d(F.max_pool2d(h1, 3), values["w2"], values["b2"])
        try:
            check_pool_margin(h2, 2, 2, 0, "conv_lecture pool 2")
            break
        except AssertionError:
            continue

    def fn(x, w1, b1, w2, b2):
        return F.max_pool2d(F.conv2d(F.max_pool2d(F.conv2d(x, w1, b1), 3), w2, b2), 2)

    out, _, grads = gradients(fn, [values[k] for k in ("x", "w1", "b1", "w2", "b2")], lambda s: values["gout"])
    tensors = {k + "_u8": c for k, c in codes.items()}
    tensors.update({"out": out, "grad_x": grads[0], "grad_w1": grads[1], "grad_b1": grads[2],
                    "grad_w2_first8": grads[3][:8], "grad_w2_sum_out": grads[3].sum(0), "grad_b2": grads[4]})
    write(name, tensors)


def conv_alexnet1():
    """AlexNet's first layer, conv 3->64 k11 stride 4 padding 2, on a small image."""
    name = "conv_alexnet1"
    seed(name)
    codes, values = {}, {}
    for key, shape in [("x", (1, 3, 67, 67)), ("w", (64, 3, 11, 11)), ("b", (64,)), ("gout", (1, 64, 16, 16))]:
        codes[key], values[key] = coded(*shape)

    def fn(x, w, b):
        return F.conv2d(x, w, b, stride=4, padding=2)

    out, _, grads = gradients(fn, [values["x"], values["w"], values["b"]], lambda s: values["gout"])
    tensors = {k + "_u8": c for k, c in codes.items()}
    tensors.update({"out": out, "grad_x": grads[0], "grad_w_first8": grads[1][:8], "grad_w_sum_out": grads[1].sum(0),
                    "grad_b": grads[2]})
    write(name, tensors)


# ---------------------------------------------------------------------------
# Pooling


def max_pool_case(name, x_shape, kernel, stride, padding):
    seed(name)
    x = randn(*x_shape)
    check_pool_margin(x.to(F64), kernel, stride or kernel, padding, name)
    out, gout, grads = gradients(lambda t: F.max_pool2d(t, kernel, stride or None, padding), [x])
    _, indices = F.max_pool2d(x, kernel, stride or None, padding, return_indices=True)
    write(name, {"x": x, "out": out, "indices": indices, "gout": gout, "grad_x": grads[0]})


def avg_pool_case(name, x_shape, kernel, stride, padding):
    seed(name)
    x = randn(*x_shape)
    out, gout, grads = gradients(lambda t: F.avg_pool2d(t, kernel, stride or None, padding), [x])
    write(name, {"x": x, "out": out, "gout": gout, "grad_x": grads[0]})


def adaptive_case(name, x_shape, out_size):
    seed(name)
    x = randn(*x_shape)
    out, gout, grads = gradients(lambda t: F.adaptive_avg_pool2d(t, out_size), [x])
    write(name, {"x": x, "out": out, "gout": gout, "grad_x": grads[0]})


def main():
    conv_case("conv_basic", (2, 3, 7, 6), (4, 3, 3, 3), True, 1, 0, 1)
    conv_case("conv_s2p1d2", (2, 3, 9, 10), (5, 3, 3, 2), True, 2, 1, 2)
    conv_case("conv_s3p2_nobias", (1, 2, 8, 8), (3, 2, 2, 4), False, 3, 2, 1)
    conv_case("conv_1x1", (2, 4, 5, 5), (6, 4, 1, 1), True, 1, 0, 1)
    conv_lecture()
    conv_alexnet1()
    conv_transpose_case("conv_transpose_s2p1op1", (2, 4, 5, 5), (4, 3, 3, 3), True, 2, 1, 1, 1)
    conv_transpose_case("conv_transpose_d2", (1, 3, 4, 5), (3, 2, 3, 2), False, 1, 1, 0, 2)
    conv_transpose_case("conv_transpose_s3op2", (2, 2, 3, 3), (2, 3, 2, 2), True, 3, 0, 2, 1)

    max_pool_case("pool_max_k3s2p1", (2, 3, 9, 8), 3, 2, 1)
    max_pool_case("pool_max_k2", (1, 2, 6, 7), 2, 0, 0)
    max_pool_case("pool_max_k3", (1, 2, 24, 24), 3, 0, 0)
    avg_pool_case("pool_avg_k3s2p1", (2, 3, 9, 8), 3, 2, 1)
    avg_pool_case("pool_avg_k2s1", (1, 2, 5, 6), 2, 1, 0)
    avg_pool_case("pool_avg_k4s3p2", (1, 2, 10, 9), 4, 3, 2)
    adaptive_case("pool_adaptive_7to3", (2, 3, 7, 7), (3, 3))
    adaptive_case("pool_adaptive_5to2", (2, 3, 5, 5), (2, 2))
    adaptive_case("pool_adaptive_5x7to3x4", (1, 2, 5, 7), (3, 4))
    adaptive_case("pool_adaptive_2x3to3x5", (1, 2, 2, 3), (3, 5))


if __name__ == "__main__":
    main()
