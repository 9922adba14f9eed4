#!/usr/bin/python3
"""Writes the golden files of profond's PyTorch parity tests.

Run it with Debian's Python, which has python3-torch:

    /usr/bin/python3 tests/golden/generate.py

It writes, next to this script:

- ops_<group>.safetensors, one file per group of operations, read by
  tests/test_golden_ops.c. A case named C stores its inputs as "C.a", "C.b",
  "C.x", "C.w", "C.index" ..., the forward output "C.out", a random upstream
  gradient "C.gout" of out's shape, and "C.grad_<input>", the gradient of
  (out * gout).sum() with respect to each float input. max stores its int64
  positions as "C.indices"; argmax's "C.out" is int64 and has no gradients.
- print_cases.txt and print_cases.safetensors, read by tests/test_print.c:
  PyTorch's str() of a list of tensors, and the tensors themselves.

Every case seeds torch from its own name, so the output does not depend on
the order of the cases, and running the script twice gives identical files.
It then runs every gen_*.py beside it (layers, losses, optimizers, models),
each of which writes its own files; stwriter.py is the safetensors writer
they share (the `safetensors` package is not available for Debian's Python).
"""
import glob
import importlib
import math
import os
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stwriter import save as write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
F32, F64, I64, U8 = torch.float32, torch.float64, torch.int64, torch.uint8


# ---------------------------------------------------------------------------
# Input makers (called after the case's seed is set)


def randn(*shape, dtype=F32):
    return torch.randn(shape, dtype=dtype)


def positive(*shape, dtype=F32):
    """Uniform in [0.5, 1.5): for log, sqrt, pow(0.5)."""
    return torch.rand(shape, dtype=dtype) + 0.5


def away(*shape, dtype=F32):
    """|x| in [0.5, 1.5) with a random sign: for divisors and pow(-1)."""
    sign = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0).to(dtype)
    return sign * positive(*shape, dtype=dtype)


def distinct(*shape, dtype=F32):
    """Values without ties (for max): a random permutation, scaled, plus noise
    well below the spacing."""
    n = math.prod(shape)
    perm = torch.randperm(n).to(dtype).reshape(shape)
    return (perm + 0.25 * torch.rand(shape, dtype=dtype)) / n * 4 - 2


# ---------------------------------------------------------------------------
# Cases

GROUPS = {}   # group -> list of (name, tensor)


def case(group, name, forward, **makers):
    """Adds one case to ops_<group>.safetensors. makers: input name ->
    function making it (float inputs require grad, int64 ones are indices).
    forward(**inputs) returns out, or (out, indices) for max."""
    torch.manual_seed(zlib.crc32(f"{group}/{name}".encode()))
    inputs = {k: make() for k, make in makers.items()}
    leaves = {k: (v.clone().requires_grad_(True) if v.is_floating_point() else v)
              for k, v in inputs.items()}
    result = forward(**leaves)
    indices = None
    if isinstance(result, tuple):
        result, indices = result
    stored = [(k, v) for k, v in inputs.items()]
    stored.append(("out", result.detach()))
    if indices is not None:
        stored.append(("indices", indices))
    if result.is_floating_point():
        gout = torch.randn(result.shape, dtype=result.dtype)
        floats = [k for k, v in leaves.items() if v.is_floating_point()]
        grads = torch.autograd.grad((result * gout).sum(), [leaves[k] for k in floats])
        stored.append(("gout", gout))
        stored += [("grad_" + k, g) for k, g in zip(floats, grads)]
    entries = GROUPS.setdefault(group, [])
    assert not any(n.startswith(name + ".") for n, _ in entries), name
    entries += [(f"{name}.{k}", v) for k, v in stored]


def index(*values):
    return lambda: torch.tensor(values, dtype=I64)


def c(fn, *args, **kw):
    """A maker: fn(*args, **kw), evaluated after the seed is set."""
    return lambda: fn(*args, **kw)


def binary_cases():
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for op, fn in ops.items():
        den = away if op == "div" else randn   # divisors stay away from zero
        f = (lambda fn: lambda a, b: fn(a, b))(fn)
        case(op, "same_3x4", f, a=c(randn, 3, 4), b=c(den, 3, 4))
        case(op, "bcast_3x1x4_2x1", f, a=c(randn, 3, 1, 4), b=c(den, 2, 1))
        case(op, "bcast_5x4_4", f, a=c(randn, 5, 4), b=c(den, 4))
        case(op, "bcast_4_5x4", f, a=c(randn, 4), b=c(den, 5, 4))
        case(op, "bcast_2x3_1", f, a=c(randn, 2, 3), b=c(den, 1))
        case(op, "bcast_1_2x3", f, a=c(randn, 1), b=c(den, 2, 3))
        case(op, "bcast_2x3_0d", f, a=c(randn, 2, 3), b=c(den))
        case(op, "bcast_2x1x3_4x1_f64", f, a=c(randn, 2, 1, 3, dtype=F64), b=c(den, 4, 1, dtype=F64))


def scalar_cases():
    case("scalar", "add_2.5", lambda x: x + 2.5, x=c(randn, 3, 4))
    case("scalar", "add_-1.25", lambda x: x + (-1.25), x=c(randn, 2, 3, 2))
    case("scalar", "mul_-3", lambda x: x * -3.0, x=c(randn, 3, 4))
    case("scalar", "mul_0.5_f64", lambda x: x * 0.5, x=c(randn, 7, dtype=F64))


def unary_cases():
    u = "unary"
    case(u, "neg", torch.neg, x=c(randn, 3, 4))
    case(u, "exp", torch.exp, x=c(randn, 3, 4))
    case(u, "log", torch.log, x=c(positive, 3, 4))
    case(u, "sqrt", torch.sqrt, x=c(positive, 3, 4))
    case(u, "abs", torch.abs, x=c(away, 3, 4))
    case(u, "tanh", torch.tanh, x=c(randn, 3, 4))
    case(u, "sigmoid", torch.sigmoid, x=c(randn, 3, 4))
    case(u, "relu", torch.relu, x=c(away, 3, 4))
    case(u, "exp_f64", torch.exp, x=c(randn, 2, 5, dtype=F64))
    case(u, "tanh_f64", torch.tanh, x=c(randn, 2, 5, dtype=F64))
    case(u, "sigmoid_f64", torch.sigmoid, x=c(randn, 2, 5, dtype=F64))
    case(u, "pow_2", lambda x: x.pow(2), x=c(randn, 3, 4))
    case(u, "pow_3", lambda x: x.pow(3), x=c(randn, 3, 4))
    case(u, "pow_0.5", lambda x: x.pow(0.5), x=c(positive, 3, 4))
    case(u, "pow_-1", lambda x: x.pow(-1), x=c(away, 3, 4))
    case(u, "pow_3_f64", lambda x: x.pow(3), x=c(randn, 2, 5, dtype=F64))
    case(u, "clamp_-0.5_0.7", lambda x: x.clamp(-0.5, 0.7), x=c(randn, 4, 5))
    case(u, "clamp_low_-0.3", lambda x: x.clamp(min=-0.3), x=c(randn, 4, 5))
    case(u, "clamp_high_0.4", lambda x: x.clamp(max=0.4), x=c(randn, 4, 5))
    case(u, "clamp_-0.5_0.7_f64", lambda x: x.clamp(-0.5, 0.7), x=c(randn, 4, 5, dtype=F64))


def reduce_cases():
    r = "reduce"
    case(r, "sum_all", torch.sum, x=c(randn, 3, 4, 5))
    case(r, "sum_all_f64", torch.sum, x=c(randn, 3, 4, dtype=F64))
    case(r, "sum_02", lambda x: x.sum((0, 2)), x=c(randn, 3, 4, 5))
    case(r, "sum_02_keep", lambda x: x.sum((0, 2), keepdim=True), x=c(randn, 3, 4, 5))
    case(r, "sum_-1", lambda x: x.sum(-1), x=c(randn, 3, 4, 5))
    case(r, "sum_1_keep", lambda x: x.sum(1, keepdim=True), x=c(randn, 3, 4, 5))
    case(r, "sum_0_f64", lambda x: x.sum(0), x=c(randn, 6, 3, dtype=F64))
    case(r, "sum_to_3x1", lambda x: x.sum_to_size(3, 1), x=c(randn, 2, 3, 4))
    case(r, "sum_to_4", lambda x: x.sum_to_size(4), x=c(randn, 5, 4))
    case(r, "sum_to_1x4_f64", lambda x: x.sum_to_size(1, 4), x=c(randn, 3, 4, dtype=F64))
    case(r, "sum_to_same", lambda x: x.sum_to_size(2, 3), x=c(randn, 2, 3))
    case(r, "mean_all", torch.mean, x=c(randn, 3, 4, 5))
    case(r, "mean_02", lambda x: x.mean((0, 2)), x=c(randn, 3, 4, 5))
    case(r, "mean_02_keep", lambda x: x.mean((0, 2), keepdim=True), x=c(randn, 3, 4, 5))
    case(r, "mean_-1", lambda x: x.mean(-1), x=c(randn, 3, 4, 5))
    case(r, "mean_1_keep_f64", lambda x: x.mean(1, keepdim=True), x=c(randn, 3, 4, 5, dtype=F64))
    case(r, "max_1", lambda x: tuple(torch.max(x, 1)), x=c(distinct, 4, 5))
    case(r, "max_1_keep", lambda x: tuple(torch.max(x, 1, keepdim=True)), x=c(distinct, 4, 5))
    case(r, "max_0", lambda x: tuple(torch.max(x, 0)), x=c(distinct, 3, 4, 5))
    case(r, "max_-1_keep", lambda x: tuple(torch.max(x, -1, keepdim=True)), x=c(distinct, 2, 3, 4))
    case(r, "max_1_f64", lambda x: tuple(torch.max(x, 1)), x=c(distinct, 3, 4, 2, dtype=F64))
    case(r, "argmax_1", lambda x: torch.argmax(x, 1), x=c(distinct, 4, 5))
    case(r, "argmax_0_keep", lambda x: torch.argmax(x, 0, keepdim=True), x=c(distinct, 3, 4, 5))
    case(r, "argmax_-1", lambda x: torch.argmax(x, -1), x=c(distinct, 2, 3, 4))
    for op in ("var", "std"):
        fn = getattr(torch, op)
        for corr in (0, 1):
            case(r, f"{op}_02_c{corr}", lambda x: fn(x, (0, 2), correction=corr), x=c(randn, 3, 4, 5))
            case(r, f"{op}_1_c{corr}_keep", lambda x: fn(x, 1, correction=corr, keepdim=True),
                 x=c(randn, 4, 6))
            case(r, f"{op}_all_c{corr}", lambda x: fn(x, None, correction=corr), x=c(randn, 3, 5))
        case(r, f"{op}_-1_c1_f64", lambda x: fn(x, -1, correction=1), x=c(randn, 3, 5, dtype=F64))


def matmul_cases():
    m = "matmul"
    case(m, "dot_5", lambda a, b: a @ b, a=c(randn, 5), b=c(randn, 5))
    case(m, "mv_3x4_4", lambda a, b: a @ b, a=c(randn, 3, 4), b=c(randn, 4))
    case(m, "vm_4_4x3", lambda a, b: a @ b, a=c(randn, 4), b=c(randn, 4, 3))
    case(m, "mm_3x4_4x5", lambda a, b: a @ b, a=c(randn, 3, 4), b=c(randn, 4, 5))
    case(m, "bmm_2x3x4_4x5", lambda a, b: a @ b, a=c(randn, 2, 3, 4), b=c(randn, 4, 5))
    case(m, "bcast_2x1x3x4_5x4x2", lambda a, b: a @ b, a=c(randn, 2, 1, 3, 4), b=c(randn, 5, 4, 2))
    case(m, "vbmm_4_2x4x3", lambda a, b: a @ b, a=c(randn, 4), b=c(randn, 2, 4, 3))
    case(m, "bmv_2x3x4_4", lambda a, b: a @ b, a=c(randn, 2, 3, 4), b=c(randn, 4))
    # Transposed operands: a @ b^T, a^T @ b, and a batch of b^T.
    case(m, "mm_3x4_t5x4", lambda a, b: a @ b.transpose(0, 1), a=c(randn, 3, 4), b=c(randn, 5, 4))
    case(m, "mm_t4x3_4x5", lambda a, b: a.transpose(0, 1) @ b, a=c(randn, 4, 3), b=c(randn, 4, 5))
    case(m, "bmm_2x3x4_t2x5x4", lambda a, b: a @ b.transpose(-1, -2), a=c(randn, 2, 3, 4),
         b=c(randn, 2, 5, 4))
    case(m, "mm_3x4_4x5_f64", lambda a, b: a @ b, a=c(randn, 3, 4, dtype=F64), b=c(randn, 4, 5, dtype=F64))


def join_cases():
    j = "join"
    case(j, "cat_1", lambda a, b, c: torch.cat((a, b, c), 1),
         a=c(randn, 2, 3, 4), b=c(randn, 2, 1, 4), c=c(randn, 2, 2, 4))
    case(j, "cat_0", lambda a, b, c: torch.cat((a, b, c), 0),
         a=c(randn, 1, 3), b=c(randn, 2, 3), c=c(randn, 3, 3))
    case(j, "cat_-1_f64", lambda a, b, c: torch.cat((a, b, c), -1),
         a=c(randn, 2, 2, dtype=F64), b=c(randn, 2, 3, dtype=F64), c=c(randn, 2, 1, dtype=F64))
    case(j, "stack_0", lambda a, b, c: torch.stack((a, b, c), 0),
         a=c(randn, 2, 3), b=c(randn, 2, 3), c=c(randn, 2, 3))
    case(j, "stack_-1", lambda a, b, c: torch.stack((a, b, c), -1),
         a=c(randn, 2, 3), b=c(randn, 2, 3), c=c(randn, 2, 3))
    case(j, "stack_1", lambda a, b, c: torch.stack((a, b, c), 1),
         a=c(randn, 4), b=c(randn, 4), c=c(randn, 4))


def index_cases():
    i = "index"
    case(i, "index_select_0", lambda x, index: torch.index_select(x, 0, index),
         x=c(randn, 3, 4), index=index(2, 0, 2, 1, 2))
    case(i, "index_select_1", lambda x, index: torch.index_select(x, 1, index),
         x=c(randn, 2, 5, 3), index=index(4, 0, 0, 3))
    case(i, "index_select_-1_f64", lambda x, index: torch.index_select(x, -1, index),
         x=c(randn, 3, 4, dtype=F64), index=index(1, 1, 3))
    case(i, "gather_0", lambda x, index: torch.gather(x, 0, index),
         x=c(randn, 3, 4), index=c(torch.randint, 0, 3, (2, 4)))
    case(i, "gather_1", lambda x, index: torch.gather(x, 1, index),
         x=c(randn, 3, 5), index=lambda: torch.tensor([[0, 0, 4, 2], [1, 3, 3, 3], [4, 0, 1, 0]]))
    case(i, "gather_-1_3d", lambda x, index: torch.gather(x, -1, index),
         x=c(randn, 2, 3, 4), index=c(torch.randint, 0, 4, (2, 3, 6)))
    case(i, "gather_1_f64", lambda x, index: torch.gather(x, 1, index),
         x=c(randn, 2, 4, dtype=F64), index=lambda: torch.tensor([[3, 1, 1], [0, 2, 3]]))


def softmax_cases():
    s = "softmax"

    def large(*shape, dtype=F32):
        return 1000 + 3 * torch.randn(shape, dtype=dtype)

    for op, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
        f = (lambda fn: lambda d: lambda x: fn(x, d))(fn)
        case(s, f"{op}_1", f(1), x=c(randn, 4, 5))
        case(s, f"{op}_0", f(0), x=c(randn, 4, 5))
        case(s, f"{op}_-1_3d", f(-1), x=c(randn, 2, 3, 4))
        case(s, f"{op}_1_3d", f(1), x=c(randn, 2, 3, 4))
        case(s, f"{op}_1_large", f(1), x=c(large, 3, 5))
        case(s, f"{op}_0_large", f(0), x=c(large, 4, 3))
        case(s, f"{op}_1_large_neg", f(1), x=lambda: -large(3, 4))
        case(s, f"{op}_1_f64", f(1), x=c(randn, 3, 4, dtype=F64))


def view_cases():
    v = "views"
    # Each view is followed by a product with w, so that the gradient through
    # the view carries distinct values back to distinct positions.
    case(v, "reshape_2x3x4_4x6", lambda x, w: x.reshape(4, 6) * w, x=c(randn, 2, 3, 4), w=c(randn, 4, 6))
    case(v, "reshape_-1", lambda x, w: x.reshape(-1, 3) * w, x=c(randn, 2, 6), w=c(randn, 4, 3))
    case(v, "reshape_permuted", lambda x, w: x.permute(2, 0, 1).reshape(4, 6) * w,
         x=c(randn, 2, 3, 4), w=c(randn, 4, 6))
    case(v, "view_2x6_3x4", lambda x, w: x.view(3, 4) * w, x=c(randn, 2, 6), w=c(randn, 3, 4))
    case(v, "permute_201", lambda x, w: x.permute(2, 0, 1) * w, x=c(randn, 2, 3, 4), w=c(randn, 4, 2, 3))
    case(v, "transpose_01", lambda x, w: x.transpose(0, 1) * w, x=c(randn, 3, 4), w=c(randn, 4, 3))
    case(v, "transpose_-1_0_3d", lambda x, w: x.transpose(-1, 0) * w, x=c(randn, 2, 3, 4),
         w=c(randn, 4, 3, 2))
    case(v, "narrow_0_1_3", lambda x, w: x.narrow(0, 1, 3) * w, x=c(randn, 5, 4), w=c(randn, 3, 4))
    case(v, "narrow_-1_2_2", lambda x, w: x.narrow(-1, 2, 2) * w, x=c(randn, 3, 5), w=c(randn, 3, 2))
    case(v, "slice_1_1_6_2", lambda x, w: x[:, 1:6:2] * w, x=c(randn, 3, 7), w=c(randn, 3, 3))
    case(v, "slice_0_-5_end_2", lambda x, w: x[-5::2] * w, x=c(randn, 6, 2), w=c(randn, 3, 2))
    case(v, "select_1_2", lambda x, w: x.select(1, 2) * w, x=c(randn, 3, 4, 5), w=c(randn, 3, 5))
    case(v, "select_0_-1", lambda x, w: x.select(0, -1) * w, x=c(randn, 3, 4), w=c(randn, 4))
    case(v, "expand_3x1_2x3x4", lambda x, w: x.expand(2, 3, 4) * w, x=c(randn, 3, 1), w=c(randn, 2, 3, 4))
    case(v, "expand_keep_-1", lambda x, w: x.expand(-1, 5) * w, x=c(randn, 2, 1), w=c(randn, 2, 5))
    case(v, "unsqueeze_1", lambda x, w: x.unsqueeze(1) * w, x=c(randn, 3, 4), w=c(randn, 3, 2, 4))
    case(v, "unsqueeze_-1", lambda x, w: x.unsqueeze(-1) * w, x=c(randn, 3, 4), w=c(randn, 3, 4, 2))
    case(v, "squeeze_1", lambda x, w: x.squeeze(1) * w, x=c(randn, 3, 1, 4), w=c(randn, 3, 4))
    case(v, "flatten_1_2", lambda x, w: x.flatten(1, 2) * w, x=c(randn, 2, 3, 4), w=c(randn, 2, 12))
    case(v, "flatten_all", lambda x, w: x.flatten() * w, x=c(randn, 2, 3, 2), w=c(randn, 12))
    case(v, "flatten_transposed", lambda x, w: x.transpose(0, 1).flatten(0, 1) * w,
         x=c(randn, 2, 3, 4), w=c(randn, 6, 4))
    case(v, "contiguous_permuted", lambda x, w: x.permute(1, 0, 2).contiguous() * w,
         x=c(randn, 2, 3, 4), w=c(randn, 3, 2, 4))
    # The differentiable copies of section 3.
    case(v, "clone", lambda x, w: x.clone() * w, x=c(randn, 3, 4), w=c(randn, 3, 4))
    case(v, "to_dtype_f64", lambda x, w: x.double() * w, x=c(randn, 3, 4), w=c(randn, 3, 4, dtype=F64))
    case(v, "to_dtype_f32", lambda x, w: x.float() * w, x=c(randn, 3, 4, dtype=F64), w=c(randn, 3, 4))
    case(v, "chain_f64", lambda x, w: x.transpose(0, 1).narrow(0, 1, 2).unsqueeze(0) * w,
         x=c(randn, 3, 4, dtype=F64), w=c(randn, 2, 2, 3, dtype=F64))


# ---------------------------------------------------------------------------
# Printing


def print_cases():
    """(name, tensor) pairs whose str() tests/test_print.c reproduces."""
    torch.manual_seed(7)
    return [
        ("small_ints", torch.tensor([1, 2, 3])),
        ("ints_negative_padded", torch.tensor([[1, -20, 300], [4, 5, -6]])),
        ("fixed", torch.tensor([0.5, -1.25, 3.14159])),
        ("fixed_2d", torch.tensor([[1.0, -2.5], [3.0, 4.0]])),
        ("integral_floats", torch.tensor([2.0, 4.0, -8.0])),
        ("zeros", torch.zeros(2, 3)),
        ("scientific_small", torch.tensor([1e-5, 0.5, 2.0])),
        ("scientific_range", torch.tensor([1.0, 1234.5, 0.5])),
        ("scientific_integral", torch.tensor([1.0, 1e9, -3.0])),
        ("scalar_float", torch.tensor(3.5)),
        ("scalar_integral", torch.tensor(2.0)),
        ("scalar_int", torch.tensor(-7)),
        ("scalar_f64", torch.tensor(0.125, dtype=F64)),
        ("empty_2x0", torch.zeros(2, 0)),
        ("empty_0", torch.zeros(0)),
        ("empty_i64", torch.zeros(0, dtype=I64)),
        ("empty_f64_0x3", torch.zeros(0, 3, dtype=F64)),
        ("randn_2x3x4", torch.randn(2, 3, 4)),
        ("wrap_20", torch.randn(20)),
        ("wrap_ints_40", torch.arange(40) * 1000),
        ("arange_i64_2000", torch.arange(2000)),
        ("arange_f32_2000", torch.arange(2000, dtype=F32)),
        ("arange_f32_2000_frac", torch.arange(2000, dtype=F32) / 4),
        ("summary_10x10x30", torch.randn(10, 10, 30)),
        ("summary_2x1000", torch.randn(2, 1000)),
        ("negative", -torch.rand(3, 2)),
        ("f64_2x2", torch.randn(2, 2, dtype=F64)),
        ("f64_integral", torch.tensor([1.0, 2.0], dtype=F64)),
        ("nonfinite_fixed", torch.tensor([float("nan"), 1.5, float("-inf")])),
        ("nonfinite_integral", torch.tensor([1.0, float("-inf"), float("nan")])),
        ("nonfinite_only", torch.tensor([float("inf"), 0.0])),
        ("uint8", torch.tensor([[0, 128], [255, 7]], dtype=U8)),
        ("empty_u8", torch.zeros(0, dtype=U8)),
        ("empty_2x0x3", torch.zeros(2, 0, 3)),
        ("fixed_wide", torch.tensor([123.4567, -0.5, 7.0])),
        ("integral_1001", torch.arange(1001, dtype=F32)),
        ("wrap_2x15", torch.randn(2, 15)),
        ("four_d", torch.randn(2, 1, 2, 2)),
        ("summary_3x400", torch.randn(3, 400)),
        ("summary_ints_2x3x200", torch.arange(1200).reshape(2, 3, 200) - 600),
        ("summary_f64_1500", torch.arange(1500, dtype=F64) * 0.5),
        ("sci_exponent_3_digits", torch.tensor([1e-120, 1.0], dtype=F64)),
        ("scalar_nan", torch.tensor(float("nan"))),
        ("scalar_big_int", torch.tensor(-9007199254740993)),
    ]


def main():
    binary_cases()
    scalar_cases()
    unary_cases()
    reduce_cases()
    matmul_cases()
    join_cases()
    index_cases()
    softmax_cases()
    view_cases()
    total = 0
    for group, tensors in GROUPS.items():
        path = os.path.join(HERE, f"ops_{group}.safetensors")
        write_safetensors(path, tensors)
        total += os.path.getsize(path)
        ncases = sum(n.endswith(".out") for n, _ in tensors)
        print(f"{os.path.relpath(path)}: {ncases} cases")

    cases = print_cases()
    write_safetensors(os.path.join(HERE, "print_cases.safetensors"), cases)
    with open(os.path.join(HERE, "print_cases.txt"), "w") as f:
        f.write("# PyTorch's str() of the tensors of print_cases.safetensors, written by\n"
                "# generate.py. Each case starts with a line '=== name'.\n")
        for name, t in cases:
            f.write(f"=== {name}\n{str(t)}\n")
    total += os.path.getsize(os.path.join(HERE, "print_cases.safetensors"))
    print(f"{len(cases)} print cases; {total} bytes of golden files")

    for path in sorted(glob.glob(os.path.join(HERE, "gen_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        print(f"== {name}")
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
