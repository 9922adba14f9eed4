#!/usr/bin/env python3
"""torch_bench.py — the PyTorch side of profond's benchmarks.

The same subcommands, options, models, data and JSON output as
bench/profond_bench.c, so that bench/run.py can run both alike:

  train-epoch --model lecture-cnn|mlp --batch N --epochs N --threads T
  memory      --threads T (train-epoch, lecture CNN, batch 100, 1 epoch)
  infer       --model lecture-cnn --batch N --threads T --seconds S
  latency     --threads T --seconds S
  alexnet     --batch N --threads T --seconds S
  time-to-99  --optim sgd|adam --lr X --momentum M --schedule constant|one-cycle
              --batch N --epochs N --threads T
  info        versions, BLAS, threads (what run.py prints)

MNIST is read from $PROFOND_DATA/mnist (IDX files, .gz or plain) with gzip
and numpy into one float32 tensor in memory, normalised as profond's loader
does: (pixel/255 - mean)/std with the training images' mean and std. Each
epoch visits the examples in a random permutation; a minibatch is gathered
by index from the one tensor. Every result is one JSON object per line on
standard output.
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn


# ---- data ----------------------------------------------------------------

def read_idx(path):
    """An IDX file (gzip told by its magic bytes) as a numpy array."""
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            with open(candidate, "rb") as f:
                raw = f.read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            ndim = raw[3]
            dtype = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[raw[2]]
            shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
            return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)
    sys.exit(f"torch_bench: {path}[.gz] not found (set PROFOND_DATA)")


def load_mnist():
    """(train_x, train_y, test_x, test_y): float32 [N,1,28,28] and int64 [N]."""
    folder = os.path.join(os.environ.get("PROFOND_DATA", "data"), "mnist")
    train_images = read_idx(os.path.join(folder, "train-images-idx3-ubyte"))
    # mean and std of the training images in [0, 1] units, std with N - 1,
    # as profond's pf_dataset_load computes them: from the histogram of the
    # pixel values, so that no float64 copy of the images inflates the
    # peak memory measured by `memory`.
    counts = np.bincount(train_images.ravel(), minlength=256).astype(np.float64)
    values = np.arange(256) / 255.0
    mean = (counts * values).sum() / counts.sum()
    std = np.sqrt((counts * (values - mean) ** 2).sum() / (counts.sum() - 1))

    def normalise(images):
        # In place, in float32 (one float copy of the images in all).
        x = images.astype(np.float32)
        x /= np.float32(255)
        x -= np.float32(mean)
        x /= np.float32(std)
        return torch.from_numpy(x).unsqueeze(1)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(folder, name)).astype(np.int64))

    test_images = read_idx(os.path.join(folder, "t10k-images-idx3-ubyte"))
    return (normalise(train_images), labels("train-labels-idx1-ubyte"),
            normalise(test_images), labels("t10k-labels-idx1-ubyte"))


def batches(x, y, batch, generator):
    """Minibatches of one epoch, gathered by index from a random permutation
    (the last one may be smaller, as profond's loader without drop_last)."""
    order = torch.randperm(x.shape[0], generator=generator)
    for start in range(0, x.shape[0], batch):
        index = order[start:start + batch]
        yield x[index], y[index]


# ---- models --------------------------------------------------------------

def make_model(name):
    if name == "lecture-cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(3),
            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(256, 200), nn.ReLU(), nn.Linear(200, 10))
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    sys.exit(f"torch_bench: unknown model '{name}' (lecture-cnn or mlp)")


def make_alexnet():
    """torchvision's AlexNet, layer for layer (without needing torchvision)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, 1000))


# ---- helpers -------------------------------------------------------------

def emit(**fields):
    print(json.dumps(fields), flush=True)


def max_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def train_steps(model, optimizer, x, y, batch, generator, limit=None, schedule=None):
    """One pass of SGD steps over the data (or `limit` steps); mean loss."""
    criterion = nn.CrossEntropyLoss()
    total, count = 0.0, 0
    for input, target in batches(x, y, batch, generator):
        output = model(input)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        total += loss.item()
        count += 1
        if limit is not None and count >= limit:
            break
    return total / max(count, 1)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        right = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    model.train()
    return right / len(x)


def timed_forwards(model, make_input, seconds, min_runs):
    """Times forwards (eval mode, no grad) for `seconds` after two warm-up
    forwards; returns the list of per-forward times."""
    model.eval()
    times = []
    with torch.no_grad():
        for _ in range(2):
            model(make_input(0))
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds or len(times) < min_runs:
            x = make_input(i)
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
            i += 1
    return times


# ---- subcommands ---------------------------------------------------------

def cmd_train_epoch(a):
    train_x, train_y, _, _ = load_mnist()
    model = make_model(a.model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(a.seed)
    # Warm-up steps, untimed: the first steps allocate and choose kernels.
    if a.warmup > 0:
        train_steps(model, optimizer, train_x, train_y, a.batch, generator, limit=a.warmup)
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        loss = train_steps(model, optimizer, train_x, train_y, a.batch, generator, limit=a.steps or None)
        emit(epoch=epoch, seconds=time.perf_counter() - start, train_loss=loss)
    emit(max_rss_kb=max_rss_kb())


def cmd_memory(a):
    """train-epoch of the lecture CNN, batch 100, one epoch; the last line
    is the peak resident set size of the whole run."""
    a.model, a.batch, a.epochs = "lecture-cnn", 100, 1
    cmd_train_epoch(a)


def cmd_infer(a):
    _, _, test_x, _ = load_mnist()
    model = make_model(a.model)
    per_pass = test_x.shape[0] // a.batch
    times = timed_forwards(model, lambda i: test_x[(i % per_pass) * a.batch:(i % per_pass + 1) * a.batch],
                           a.seconds, 3)
    emit(batch=a.batch, forwards=len(times), images_per_second=a.batch * len(times) / sum(times))


def cmd_latency(a):
    _, _, test_x, _ = load_mnist()
    model = make_model("lecture-cnn")
    times = timed_forwards(model, lambda i: test_x[i % test_x.shape[0]:i % test_x.shape[0] + 1], a.seconds, 20)
    emit(forwards=len(times), median_ms=1e3 * statistics.median(times))


def cmd_alexnet(a):
    model = make_alexnet()
    x = torch.randn(a.batch, 3, 224, 224)
    times = timed_forwards(model, lambda i: x, a.seconds, 5)
    emit(batch=a.batch, forwards=len(times), median_ms=1e3 * statistics.median(times))


def cmd_time_to_99(a):
    train_x, train_y, test_x, test_y = load_mnist()
    model = make_model("lecture-cnn")
    if a.optim == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(a.momentum or 0.9, 0.999))
    per_epoch = (train_x.shape[0] + a.batch - 1) // a.batch
    schedule = None
    if a.schedule == "one-cycle":
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=a.lr, total_steps=a.epochs * per_epoch)
    generator = torch.Generator().manual_seed(a.seed)
    elapsed = 0.0
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        loss = train_steps(model, optimizer, train_x, train_y, a.batch, generator, limit=a.steps or None,
                           schedule=schedule)
        elapsed += time.perf_counter() - start
        acc = accuracy(model, test_x, test_y)
        emit(epoch=epoch, seconds=elapsed, train_loss=loss, test_accuracy=acc)
        if acc >= 0.99:
            emit(reached=True, epochs=epoch, seconds=elapsed)
            return
    emit(reached=False, epochs=a.epochs, seconds=elapsed)


def blas_libraries():
    """The BLAS-like shared libraries mapped into this process."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            name = os.path.basename(path)
            if path.startswith("/") and any(k in name for k in ("blas", "mkl", "lapack", "blis")):
                found.add(os.path.realpath(path))
    return sorted(found)


def cmd_info(a):
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # loads the BLAS if lazily
    config = torch.__config__.show()
    blas_info = next((part.split("=", 1)[1] for line in config.splitlines()
                      for part in line.replace(",", " ").split() if part.startswith("BLAS_INFO=")), "?")
    emit(torch=torch.__version__, torch_file=torch.__file__, python=sys.version.split()[0], numpy=np.__version__,
         executable=sys.executable, blas_info=blas_info, blas_libraries=blas_libraries(),
         mkldnn=torch.backends.mkldnn.is_available(), threads=torch.get_num_threads(),
         config=config, parallel=torch.__config__.parallel_info())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["train-epoch", "memory", "infer", "latency", "alexnet", "time-to-99", "info"])
    p.add_argument("--model", default="lecture-cnn")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--warmup", type=int, default=20, help="untimed training steps first")
    p.add_argument("--steps", type=int, default=0, help="0: whole epochs; else this many steps each")
    p.add_argument("--threads", type=int, default=0, help="0: leave torch's default")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--optim", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--schedule", choices=["constant", "one-cycle"], default="constant")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    {"train-epoch": cmd_train_epoch, "memory": cmd_memory, "infer": cmd_infer, "latency": cmd_latency, "alexnet": cmd_alexnet,
     "time-to-99": cmd_time_to_99, "info": cmd_info}[a.command](a)


if __name__ == "__main__":
    main()
