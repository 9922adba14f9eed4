#!/usr/bin/python3
"""Writes the golden files of tests/test_modules.c (modules and model files).

Run it with Debian's Python, which has python3-torch:

    /usr/bin/python3 tests/golden/gen_models.py

Files, next to this script:

- model_lecture_cnn.safetensors: the state_dict of the lecture's CNN
  (Conv2d(1,32,5) ReLU MaxPool2d(3) Conv2d(32,64,5) ReLU MaxPool2d(2)
  Flatten Linear(256,200) ReLU Linear(200,10)) made after
  torch.manual_seed(0), exactly as PyTorch has it: "weights saved by
  PyTorch", in state_dict order.
- model_lecture_cnn_io.safetensors: "input" [4,1,28,28], PyTorch's "output"
  in eval mode, a "target" [4] (int64), the "loss" cross_entropy(output,
  target) (mean) and the gradients of that loss, "grad.<name>" for every
  parameter. To keep the files small, the two big weights' gradients
  (3.weight, 7.weight) hold only their first 4 rows (dimension 0); the
  others are whole.
- model_all_layers.safetensors: the state_dict of a model that uses every
  layer kind of profond's section 12 (see ALL_LAYERS below), after three
  SGD steps in training mode, so that batch-norm running statistics,
  num_batches_tracked and every parameter are non-trivial.
- model_all_layers_io.safetensors: "input" [4,1,16,16], "output" in eval
  mode, "gout" and the gradients of (output * gout).sum() in eval mode:
  "grad.<name>" for every parameter and "grad_input"; then, from the same
  state, one forward in training mode on "input": the output of layer 2
  ("train.2.output", captured with a forward hook: the batch norm in
  training mode) and the state of batch norm 1 afterwards
  ("train.1.running_mean", "train.1.running_var",
  "train.1.num_batches_tracked"). Dropout (layer 11) makes the rest of a
  training-mode forward unreproducible, so nothing after it is stored.
- model_repr.txt: for each model (lecture_cnn, all_layers, nested), a
  section "== <model> repr" with str(model), and a section
  "== <model> state" with one line per state_dict entry, in order:
  "<name> <shape as [a,b]> <dtype> <parameter|buffer>".
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from stwriter import save  # noqa: E402

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.uint8: "uint8"}
BIG_GRADS = {"3.weight", "7.weight"}  # stored as their first 4 rows


def lecture_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(3),
        nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 200), nn.ReLU(), nn.Linear(200, 10))


# The same model is written as a spec in tests/test_modules.c:
#   conv2d(1,4,3,stride=2,padding=1) batchnorm2d(4) leakyrelu(0.2)
#   maxpool2d(3,stride=1,padding=1)
#   convtranspose2d(4,3,3,stride=2,padding=1,output_padding=1) tanh
#   conv2d(3,3,3,padding=2,dilation=2,bias=false) avgpool2d(2)
#   adaptiveavgpool2d((3,3)) sigmoid flatten dropout(0.3) linear(27,5)
#   batchnorm1d(5) relu unflatten(1,(5,1)) flatten
def all_layers():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1),                          # 0: [4,4,8,8]
        nn.BatchNorm2d(4),                                                # 1
        nn.LeakyReLU(0.2),                                                # 2
        nn.MaxPool2d(3, stride=1, padding=1),                             # 3
        nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),  # 4: [4,3,16,16]
        nn.Tanh(),                                                        # 5
        nn.Conv2d(3, 3, 3, padding=2, dilation=2, bias=False),            # 6: [4,3,16,16]
        nn.AvgPool2d(2),                                                  # 7: [4,3,8,8]
        nn.AdaptiveAvgPool2d((3, 3)),                                     # 8: [4,3,3,3], overlapping windows
        nn.Sigmoid(),                                                     # 9
        nn.Flatten(),                                                     # 10: [4,27]
        nn.Dropout(0.3),                                                  # 11
        nn.Linear(27, 5),                                                 # 12
        nn.BatchNorm1d(5),                                                # 13
        nn.ReLU(),                                                        # 14
        nn.Unflatten(1, (5, 1)),                                          # 15: [4,5,1]
        nn.Flatten())                                                     # 16: [4,5]


def nested():
    return nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Sequential(), nn.Linear(3, 1))


def describe(name, model):
    params = {n for n, _ in model.named_parameters()}
    lines = [f"== {name} repr", str(model), f"== {name} state"]
    for n, t in model.state_dict().items():
        shape = "[" + ",".join(str(s) for s in t.shape) + "]"
        lines.append(f"{n} {shape} {DTYPE_NAMES[t.dtype]} {'parameter' if n in params else 'buffer'}")
    return "\n".join(lines) + "\n"


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def main():
    # (a) The lecture CNN.
    torch.manual_seed(0)
    cnn = lecture_cnn()
    save(os.path.join(HERE, "model_lecture_cnn.safetensors"), state(cnn))
    x = torch.randn(4, 1, 28, 28)
    target = torch.tensor([3, 0, 9, 5], dtype=torch.int64)
    cnn.eval()
    with torch.no_grad():
        out_eval = cnn(x)
    cnn.train()
    out = cnn(x)
    loss = F.cross_entropy(out, target)
    loss.backward()
    io = {"input": x, "output": out_eval, "target": target, "loss": loss.detach()}
    for n, p in cnn.named_parameters():
        io["grad." + n] = p.grad[:4] if n in BIG_GRADS else p.grad
    save(os.path.join(HERE, "model_lecture_cnn_io.safetensors"), io)

    # (b) Every layer kind, trained a little so nothing is at its default.
    torch.manual_seed(1)
    model = all_layers()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(3):
        xb = torch.randn(8, 1, 16, 16) * 2 + 0.5
        loss = F.mse_loss(model(xb), torch.randn(8, 5))
        opt.zero_grad()
        loss.backward()
        opt.step()
    saved = state(model)
    save(os.path.join(HERE, "model_all_layers.safetensors"), saved)

    x = torch.randn(4, 1, 16, 16) * 2 + 0.5
    model.eval()
    xg = x.clone().requires_grad_(True)
    model.zero_grad()
    out = model(xg)
    gout = torch.randn(out.shape)
    (out * gout).sum().backward()
    io = {"input": x, "output": out.detach(), "gout": gout, "grad_input": xg.grad}
    for n, p in model.named_parameters():
        io["grad." + n] = p.grad

    model.load_state_dict(saved)
    model.train()
    captured = {}
    handle = model[2].register_forward_hook(lambda m, i, o: captured.setdefault("out", o.detach().clone()))
    with torch.no_grad():
        model(x)
    handle.remove()
    io["train.2.output"] = captured["out"]
    for k in ("running_mean", "running_var", "num_batches_tracked"):
        io["train.1." + k] = model[1].state_dict()[k]
    save(os.path.join(HERE, "model_all_layers_io.safetensors"), io)

    # (c, d) Reprs and state names.
    torch.manual_seed(0)
    text = describe("lecture_cnn", lecture_cnn()) + describe("all_layers", all_layers()) + describe("nested", nested())
    with open(os.path.join(HERE, "model_repr.txt"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
